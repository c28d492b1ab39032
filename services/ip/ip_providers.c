#include "ip_providers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "ip_pg.h"

#define NAME_MAX_CHARS  200
#define DESCRIPTION_MAX 5000
#define CATEGORIES_MAX  5
#define RATING_MAX      5

#define PROVIDER_COLUMNS                                                                           \
    "p.id, p.party, p.name, p.categories, p.description, p.verified, "                             \
    "(SELECT count(*) FROM service_request r WHERE r.provider_id = p.id AND r.status IN "          \
    "('COMPLETED', 'RATED')), "                                                                    \
    "(SELECT count(*) FROM service_request r WHERE r.provider_id = p.id AND r.rating > 0), "       \
    "(SELECT coalesce(sum(r.rating), 0) FROM service_request r WHERE r.provider_id = p.id) "       \
    "FROM provider p "
#define REQUEST_COLUMNS                                                                            \
    "r.id, r.provider_id, r.requester, r.category, r.description, r.status, r.rating, "            \
    "r.rating_note, r.requested_at_us, p.party FROM service_request r "                            \
    "JOIN provider p ON p.id = r.provider_id "

static const ccip_db_stmt S_PROVIDER_GET = {"ip_provider_get",
                                            "SELECT " PROVIDER_COLUMNS "WHERE p.id = $1::uuid"};
static const ccip_db_stmt S_PROVIDER_LIST = {
    "ip_provider_list", "SELECT " PROVIDER_COLUMNS "WHERE ($1 = '' OR $1 = ANY (p.categories)) "
                        "AND (NOT $2::boolean OR p.verified) ORDER BY p.name, p.id LIMIT 500"};
static const ccip_db_stmt S_PROVIDER_INSERT = {
    "ip_provider_insert",
    "INSERT INTO provider (id, party, name, categories, description) VALUES ($1::uuid, $2, $3, "
    "$4::text[], $5) ON CONFLICT (party) DO NOTHING RETURNING id"};
static const ccip_db_stmt S_PROVIDER_VERIFY = {
    "ip_provider_verify", "UPDATE provider SET verified = true, verified_by = $2 "
                          "WHERE id = $1::uuid RETURNING id"};
static const ccip_db_stmt S_REQUEST_GET = {"ip_request_get",
                                           "SELECT " REQUEST_COLUMNS "WHERE r.id = $1::uuid"};
static const ccip_db_stmt S_REQUEST_LOCK = {
    "ip_request_lock", "SELECT " REQUEST_COLUMNS "WHERE r.id = $1::uuid FOR UPDATE OF r"};
static const ccip_db_stmt S_REQUEST_INSERT = {
    "ip_request_insert",
    "INSERT INTO service_request (id, provider_id, requester, category, description, "
    "requested_at_us) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::bigint)"};
static const ccip_db_stmt S_REQUEST_MOVE = {
    "ip_request_move",
    "UPDATE service_request SET status = $2, rating = $3::integer, rating_note = $4, "
    "updated_at = now() WHERE id = $1::uuid"};

static int s_fill_provider(ccip_arena *a, const PGresult *res, int row, void *msg)
{
    Ccip__Ip__Provider *p = msg;
    ccip__ip__provider__init(p);
    if (ccip_row_fill(&p->base, res, row, 0,
                      "id, party, name, , description, verified, completed, rating_count, "
                      "rating_sum",
                      a) < 0)
        return -1;
    char **cats = NULL;
    size_t n = 0;
    if (ip_pg_text_array(a, PQgetvalue(res, row, 3), &cats, &n) < 0)
        return -1;
    p->categories = ccip_arena_alloc(a, (n ? n : 1) * sizeof *p->categories);
    for (size_t i = 0; p->categories && i < n; i++)
        p->categories[i] = ip_enum_value(&ccip__ip__provider_category__descriptor, cats[i]);
    p->n_categories = n;
    return ccip_arena_failed(a) ? -1 : 0;
}

static const ip_rows S_PROVIDERS = {"provider", sizeof(Ccip__Ip__Provider), s_fill_provider};

/* A request and its provider's party (for permission checks and events). */
typedef struct {
    Ccip__Ip__ServiceRequest *r;
    char provider_party[IP_PARTY_MAX + 1];
} s_request;

static int s_read_request(ccip_command *cmd, ccip_arena *a, const ccip_db_stmt *stmt,
                          const char *id, s_request *out)
{
    char err[200];
    if (ip_check_uuid("request_id", id, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    PGresult *res = NULL;
    int rc = ip_read_row(cmd, stmt, "service request", id, &res);
    if (rc != 0)
        return rc;
    Ccip__Ip__ServiceRequest *r = ccip_arena_alloc(a, sizeof *r);
    if (r) {
        ccip__ip__service_request__init(r);
        ccip_row_fill(&r->base, res, 0, 0,
                      "id, provider_id, requester, category, description, status, rating, "
                      "rating_note, requested_at_us",
                      a);
        snprintf(out->provider_party, sizeof out->provider_party, "%s", PQgetvalue(res, 0, 9));
    }
    PQclear(res);
    if (!r || ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    out->r = r;
    return 0;
}

/* Replies with the request and, when type is not NULL, emits it. */
static int s_request_done(ccip_command *cmd, ccip_arena *a, const char *id, const char *type)
{
    s_request req;
    int rc = s_read_request(cmd, a, &S_REQUEST_GET, id, &req);
    if (rc != 0)
        return rc;
    if (type) {
        Ccip__Ip__ServiceRequestChanged ev = CCIP__IP__SERVICE_REQUEST_CHANGED__INIT;
        ev.request = req.r;
        ev.provider_party = req.provider_party;
        if ((rc = ccip_command_emit(cmd, type, "service_request", id, &ev.base)) != 0)
            return rc;
    }
    Ccip__Ip__ServiceRequestReply reply = CCIP__IP__SERVICE_REQUEST_REPLY__INIT;
    reply.request = req.r;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- providers ------------------------------------------------------------- */

int ip_provider_register(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__RegisterProviderRequest *rq = request;
    char party[IP_PARTY_MAX + 1], err[400], id[40];
    int rc = ip_actor_party(cmd, party);
    if (rc != 0 ||
        (rc = ccip_command_check_text(cmd, "name", rq->name, 1, NAME_MAX_CHARS, 0)) != 0 ||
        (rc = ccip_command_check_text(cmd, "description", rq->description, 0, DESCRIPTION_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0)
        return rc;
    if (rq->n_categories < 1 || rq->n_categories > CATEGORIES_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `categories` must list 1 to %d categories, got %zu",
                                 CATEGORIES_MAX, rq->n_categories);
    char *names[CATEGORIES_MAX];
    for (size_t i = 0; i < rq->n_categories; i++) {
        char field[48]; /* "categories[" + a size_t in decimal + "]" */
        snprintf(field, sizeof field, "categories[%zu]", i);
        if ((rc =
                 ccip_command_invalid(cmd,
                                      ip_check_enum(field, &ccip__ip__provider_category__descriptor,
                                                    rq->categories[i], err, sizeof err),
                                      err)) != 0)
            return rc;
        names[i] =
            (char *)ip_enum_name(&ccip__ip__provider_category__descriptor, rq->categories[i]);
        for (size_t j = 0; j < i; j++)
            if (rq->categories[j] == rq->categories[i])
                return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                         "field `categories` names %s twice", names[i]);
    }
    if ((rc = ccip_command_new_id(cmd, id)) != 0)
        return rc;
    const char *v[] = {id, party, rq->name, ip_pg_text_literal(a, names, rq->n_categories),
                       rq->description};
    PGresult *res = NULL;
    if (!v[3])
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if ((rc = ccip_db_exec(cmd->db, &S_PROVIDER_INSERT, 5, v, NULL, NULL, &res)) != 0)
        return rc;
    int inserted = PQntuples(res) == 1;
    PQclear(res);
    if (!inserted)
        return ccip_command_fail(cmd, CCIP__STATUS__ALREADY_EXISTS,
                                 "%s is already a registered provider", party);
    Ccip__Ip__ProviderReply reply = CCIP__IP__PROVIDER_REPLY__INIT;
    if (!(reply.provider = ip_read_one(cmd, a, &S_PROVIDER_GET, &S_PROVIDERS, id, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

int ip_provider_verify(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ProviderActionRequest *rq = request;
    char err[200];
    int rc = ccip_command_invalid(
        cmd, ip_check_uuid("provider_id", rq->provider_id, err, sizeof err), err);
    if (rc != 0)
        return rc;
    const char *v[] = {rq->provider_id, cmd->actor.id};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_PROVIDER_VERIFY, 2, v, NULL, NULL, &res)) != 0)
        return rc;
    int hit = PQntuples(res) == 1;
    PQclear(res);
    if (!hit)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "no provider %s exists",
                                 rq->provider_id);
    Ccip__Ip__ProviderReply reply = CCIP__IP__PROVIDER_REPLY__INIT;
    if (!(reply.provider =
              ip_read_one(cmd, a, &S_PROVIDER_GET, &S_PROVIDERS, rq->provider_id, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

int ip_provider_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ListProvidersRequest *rq = request;
    char err[300];
    const char *cat = "";
    if (rq->category) {
        int rc =
            ccip_command_invalid(cmd,
                                 ip_check_enum("category", &ccip__ip__provider_category__descriptor,
                                               rq->category, err, sizeof err),
                                 err);
        if (rc != 0)
            return rc;
        cat = ip_enum_name(&ccip__ip__provider_category__descriptor, rq->category);
    }
    const char *v[] = {cat, rq->verified_only ? "true" : "false"};
    Ccip__Ip__ListProvidersReply reply = CCIP__IP__LIST_PROVIDERS_REPLY__INIT;
    int rc = 0;
    if (!(reply.providers =
              ip_read_list(cmd, a, &S_PROVIDER_LIST, 2, v, &S_PROVIDERS, &reply.n_providers, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- requests ------------------------------------------------------------------ */

int ip_request_create(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__CreateServiceRequest *rq = request;
    char party[IP_PARTY_MAX + 1], err[300], id[40], now[24];
    Ccip__Ip__Provider *p = NULL;
    int rc = ip_actor_party(cmd, party);
    if (rc != 0 ||
        (rc = ccip_command_invalid(
             cmd, ip_check_uuid("provider_id", rq->provider_id, err, sizeof err), err)) != 0 ||
        (rc = ccip_command_invalid(cmd,
                                   ip_check_enum("category",
                                                 &ccip__ip__provider_category__descriptor,
                                                 rq->category, err, sizeof err),
                                   err)) != 0 ||
        (rc = ccip_command_check_text(cmd, "description", rq->description, 1, DESCRIPTION_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0 ||
        !(p = ip_read_one(cmd, a, &S_PROVIDER_GET, &S_PROVIDERS, rq->provider_id, &rc)))
        return rc;
    if (!p->verified)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "provider %s has not been verified by staff yet and takes no requests", p->id);
    if (strcmp(p->party, party) == 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "%s is this provider and cannot request its own services", party);
    int offers = 0;
    for (size_t i = 0; i < p->n_categories; i++)
        offers |= p->categories[i] == rq->category;
    if (!offers)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION, "provider %s does not offer %s", p->id,
            ip_enum_name(&ccip__ip__provider_category__descriptor, rq->category));
    if ((rc = ccip_command_new_id(cmd, id)) != 0)
        return rc;
    const char *v[] = {id,
                       p->id,
                       party,
                       ip_enum_name(&ccip__ip__provider_category__descriptor, rq->category),
                       rq->description,
                       ccip_i64_text(ccip_now_us(), now)};
    if ((rc = ccip_db_exec(cmd->db, &S_REQUEST_INSERT, 6, v, NULL, NULL, NULL)) != 0)
        return rc;
    return s_request_done(cmd, a, id, "ip.service.requested.v1");
}

/* Moves a request from `from` to `to` when the caller is its provider
 * (by_provider) or its requester. */
static int s_move(ccip_command *cmd, ccip_arena *a, const char *id, int by_provider,
                  const char *from, const char *to, uint32_t rating, const char *note,
                  const char *event)
{
    char party[IP_PARTY_MAX + 1], rating_text[24];
    s_request req;
    int rc = ip_actor_party(cmd, party);
    if (rc != 0 || (rc = s_read_request(cmd, a, &S_REQUEST_LOCK, id, &req)) != 0)
        return rc;
    const char *who = by_provider ? req.provider_party : req.r->requester;
    if (strcmp(who, party) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "only the %s (%s) may do this to service request %s",
                                 by_provider ? "provider" : "requester", who, req.r->id);
    if (strcmp(req.r->status, from) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "service request %s is %s; this step needs it %s", req.r->id,
                                 req.r->status, from);
    const char *v[] = {req.r->id, to, ccip_i64_text(rating, rating_text), note};
    if ((rc = ccip_db_exec(cmd->db, &S_REQUEST_MOVE, 4, v, NULL, NULL, NULL)) != 0)
        return rc;
    return s_request_done(cmd, a, req.r->id, event);
}

int ip_request_accept(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ServiceRequestAction *rq = request;
    return s_move(cmd, a, rq->request_id, 1, "REQUESTED", "ACCEPTED", 0, "", NULL);
}

int ip_request_complete(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ServiceRequestAction *rq = request;
    return s_move(cmd, a, rq->request_id, 1, "ACCEPTED", "COMPLETED", 0, "",
                  "ip.service.completed.v1");
}

int ip_request_rate(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__RateServiceRequest *rq = request;
    if (rq->rating < 1 || rq->rating > RATING_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `rating` must be 1 to %d, got %u", RATING_MAX, rq->rating);
    int rc = ccip_command_check_text(cmd, "note", rq->note, 0, IP_NOTE_MAX, CCIP_TEXT_MULTILINE);
    if (rc != 0)
        return rc;
    return s_move(cmd, a, rq->request_id, 0, "COMPLETED", "RATED", rq->rating, rq->note,
                  "ip.service.rated.v1");
}
