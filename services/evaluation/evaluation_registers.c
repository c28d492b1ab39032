#include "evaluation_registers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_log.h"
#include "evaluation_assign.h"

#define NAME_MAX_CHARS 200
#define NOTE_MAX_CHARS 500
#define CAPACITY_MAX   10000 /* agency: open investigations */
#define REVIEWS_MAX    1000  /* expert: open reviews */
#define FIELD_MAX_LEN  48
#define PHONE_MAX      32
#define EMAIL_MAX      256
#define DISTRICTS_MAX  16

/* ---- checks ---------------------------------------------------------------- */

int evaluation_field_check(const char *field, const char *value, char *err, size_t errlen)
{
    size_t n = value ? strlen(value) : 0;
    if (n == 0 || n > FIELD_MAX_LEN) {
        snprintf(err, errlen, "%s must be 1 to %d characters, got %zu", field, FIELD_MAX_LEN, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char c = value[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-')) {
            snprintf(err, errlen,
                     "%s \"%.48s\" has '%c' at character %zu; fields of expertise use lower-case "
                     "letters a-z, digits, '_', '.' and '-' (e.g. design, film, heritage)",
                     field, value, c >= 0x20 && c < 0x7f ? c : '?', i + 1);
            return -1;
        }
    }
    return 0;
}

/* Checks the declared conflicts of a registration. Returns 0 or
 * CCIP_REPLIED. */
static int s_check_conflicts(ccip_command *cmd, Ccip__Evaluation__DeclaredConflict **list, size_t n)
{
    char err[256], field[64];
    if (n > EVALUATION_CONFLICTS_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `declared_conflicts` may hold at most %d entries, got %zu",
                                 EVALUATION_CONFLICTS_MAX, n);
    for (size_t i = 0; i < n; i++) {
        if (ccip_uscc_check(list[i]->org_uscc, err, sizeof err) < 0)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `declared_conflicts[%zu].org_uscc`: %s", i, err);
        snprintf(field, sizeof field, "declared_conflicts[%zu].note", i);
        int rc = ccip_command_check_text(cmd, field, list[i]->note, 0, NOTE_MAX_CHARS, 0);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- statements and rows -------------------------------------------------------- */

#define AGENCY_COLUMNS                                                                             \
    "a.id, a.name, a.uscc, a.qualification, a.capacity, a.load, a.active, "                        \
    "(extract(epoch FROM a.registered_at) * 1000000)::bigint, a.registered_by, "                   \
    "(extract(epoch FROM a.updated_at) * 1000000)::bigint, "                                       \
    "coalesce((SELECT string_agg(d.district_code, ',' ORDER BY d.district_code) "                  \
    "FROM agency_district d WHERE d.agency_id = a.id), '')"

static const ccip_db_stmt S_AGENCY_LOCK = {"evaluation_agency_lock",
                                           "SELECT load FROM agency WHERE id = $1 FOR UPDATE"};
static const ccip_db_stmt S_AGENCY_UPSERT = {
    "evaluation_agency_upsert",
    "INSERT INTO agency (id, name, uscc, qualification, capacity, registered_by) "
    "VALUES ($1, $2, $3, $4, $5::integer, $6) ON CONFLICT (id) DO UPDATE SET name = $2, "
    "uscc = $3, qualification = $4, capacity = $5::integer, updated_at = now()"};
static const ccip_db_stmt S_AGENCY_DISTRICTS_CLEAR = {
    "evaluation_agency_districts_clear", "DELETE FROM agency_district WHERE agency_id = $1"};
static const ccip_db_stmt S_AGENCY_DISTRICTS_SET = {
    "evaluation_agency_districts_set",
    "INSERT INTO agency_district (agency_id, district_code, load, active) "
    "SELECT a.id, d, a.load, a.active FROM agency a, unnest(string_to_array($2, ',')) d "
    "WHERE a.id = $1 ON CONFLICT DO NOTHING"};
static const ccip_db_stmt S_AGENCY_CONFLICTS_CLEAR = {
    "evaluation_agency_conflicts_clear", "DELETE FROM agency_conflict WHERE agency_id = $1"};
static const ccip_db_stmt S_AGENCY_CONFLICT_ADD = {
    "evaluation_agency_conflict_add",
    "INSERT INTO agency_conflict (agency_id, org_uscc, note) VALUES ($1, $2, $3) "
    "ON CONFLICT (agency_id, org_uscc) DO UPDATE SET note = $3"};
static const ccip_db_stmt S_AGENCY_SET_ACTIVE = {
    "evaluation_agency_set_active",
    "UPDATE agency SET active = $2::boolean, updated_at = now() WHERE id = $1"};
static const ccip_db_stmt S_AGENCY_GET = {
    "evaluation_agency_get", "SELECT " AGENCY_COLUMNS " FROM agency a WHERE a.id = $1"};
static const ccip_db_stmt S_AGENCY_LIST = {
    "evaluation_agency_list",
    "SELECT " AGENCY_COLUMNS " FROM agency a WHERE ($1 = '' OR EXISTS (SELECT 1 FROM "
    "agency_district d WHERE d.agency_id = a.id AND d.district_code = $1)) "
    "AND (NOT $2::boolean OR a.active) AND a.id > $3 ORDER BY a.id LIMIT $4::integer"};
static const ccip_db_stmt S_AGENCY_CONFLICTS = {
    "evaluation_agency_conflicts",
    "SELECT agency_id, org_uscc, note FROM agency_conflict "
    "WHERE agency_id = ANY(string_to_array($1, ',')) ORDER BY agency_id, org_uscc"};

#define EXPERT_COLUMNS                                                                             \
    "e.id, e.name, array_to_string(e.fields, ','), e.affiliation_uscc, e.affiliation_name, "       \
    "e.district_code, e.max_concurrent, e.load, e.active, e.phone, e.email, "                      \
    "(extract(epoch FROM e.registered_at) * 1000000)::bigint, e.registered_by, "                   \
    "(extract(epoch FROM e.updated_at) * 1000000)::bigint"

static const ccip_db_stmt S_EXPERT_LOCK = {"evaluation_expert_lock",
                                           "SELECT load FROM expert WHERE id = $1 FOR UPDATE"};
static const ccip_db_stmt S_EXPERT_UPSERT = {
    "evaluation_expert_upsert",
    "INSERT INTO expert (id, name, fields, affiliation_uscc, affiliation_name, district_code, "
    "phone, email, max_concurrent, registered_by) VALUES ($1, $2, string_to_array($3, ','), $4, "
    "$5, $6, $7, $8, $9::integer, $10) ON CONFLICT (id) DO UPDATE SET name = $2, "
    "fields = string_to_array($3, ','), affiliation_uscc = $4, affiliation_name = $5, "
    "district_code = $6, phone = $7, email = $8, max_concurrent = $9::integer, "
    "updated_at = now()"};
static const ccip_db_stmt S_EXPERT_FIELDS_CLEAR = {"evaluation_expert_fields_clear",
                                                   "DELETE FROM expert_field WHERE expert_id = $1"};
static const ccip_db_stmt S_EXPERT_FIELDS_SET = {
    "evaluation_expert_fields_set",
    "INSERT INTO expert_field (expert_id, field, load, active) "
    "SELECT e.id, f, e.load, e.active FROM expert e, unnest(e.fields) f WHERE e.id = $1 "
    "ON CONFLICT DO NOTHING"};
static const ccip_db_stmt S_EXPERT_CONFLICTS_CLEAR = {
    "evaluation_expert_conflicts_clear", "DELETE FROM expert_conflict WHERE expert_id = $1"};
static const ccip_db_stmt S_EXPERT_CONFLICT_ADD = {
    "evaluation_expert_conflict_add",
    "INSERT INTO expert_conflict (expert_id, org_uscc, note) VALUES ($1, $2, $3) "
    "ON CONFLICT (expert_id, org_uscc) DO UPDATE SET note = $3"};
static const ccip_db_stmt S_EXPERT_SET_ACTIVE = {
    "evaluation_expert_set_active",
    "UPDATE expert SET active = $2::boolean, updated_at = now() WHERE id = $1"};
static const ccip_db_stmt S_EXPERT_GET = {
    "evaluation_expert_get", "SELECT " EXPERT_COLUMNS " FROM expert e WHERE e.id = $1"};
static const ccip_db_stmt S_EXPERT_LIST = {
    "evaluation_expert_list",
    "SELECT " EXPERT_COLUMNS " FROM expert e WHERE ($1 = '' OR $1 = ANY(e.fields)) "
    "AND ($2 = '' OR e.district_code = $2) AND (NOT $3::boolean OR e.active) AND e.id > $4 "
    "ORDER BY e.id LIMIT $5::integer"};
static const ccip_db_stmt S_EXPERT_CONFLICTS = {
    "evaluation_expert_conflicts",
    "SELECT expert_id, org_uscc, note FROM expert_conflict "
    "WHERE expert_id = ANY(string_to_array($1, ',')) ORDER BY expert_id, org_uscc"};

/* Declared conflicts of `owner` out of a (owner, org, note) result. */
static Ccip__Evaluation__DeclaredConflict **s_conflicts(ccip_arena *a, const PGresult *res,
                                                        const char *owner, size_t *n)
{
    *n = 0;
    int count = 0;
    for (int i = 0; i < PQntuples(res); i++)
        count += strcmp(PQgetvalue(res, i, 0), owner) == 0;
    Ccip__Evaluation__DeclaredConflict **out = ccip_arena_alloc(a, (size_t)count * sizeof *out + 1);
    for (int i = 0; out && i < PQntuples(res); i++) {
        if (strcmp(PQgetvalue(res, i, 0), owner) != 0)
            continue;
        Ccip__Evaluation__DeclaredConflict *c = ccip_arena_alloc(a, sizeof *c);
        if (!c)
            break;
        *c = (Ccip__Evaluation__DeclaredConflict)CCIP__EVALUATION__DECLARED_CONFLICT__INIT;
        c->org_uscc = ccip_arena_strdup(a, PQgetvalue(res, i, 1));
        c->note = ccip_arena_strdup(a, PQgetvalue(res, i, 2));
        out[(*n)++] = c;
    }
    return out;
}

/* The ids of a result's rows (column 0), comma-separated, malloc'd. */
static char *s_ids(const PGresult *res)
{
    size_t len = 1;
    for (int i = 0; i < PQntuples(res); i++)
        len += strlen(PQgetvalue(res, i, 0)) + 1;
    char *out = malloc(len);
    if (!out)
        return NULL;
    out[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < PQntuples(res); i++)
        used +=
            (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", PQgetvalue(res, i, 0));
    return out;
}

static Ccip__Evaluation__Agency *s_agency(ccip_arena *a, const PGresult *res, int i,
                                          const PGresult *conflicts)
{
    Ccip__Evaluation__Agency *g =
        ccip_row_new(a, CCIP_MSG(evaluation, agency), res, i, 0,
                     "id, name, uscc, qualification, capacity, load, active, registered_at_us, "
                     "registered_by, updated_at_us");
    if (!g)
        return NULL;
    g->districts_served = ccip_arena_split(a, PQgetvalue(res, i, 10), &g->n_districts_served);
    g->declared_conflicts = s_conflicts(a, conflicts, g->id, &g->n_declared_conflicts);
    return g;
}

static Ccip__Evaluation__Expert *s_expert(ccip_arena *a, const PGresult *res, int i,
                                          const PGresult *conflicts)
{
    Ccip__Evaluation__Expert *e = ccip_row_new(
        a, CCIP_MSG(evaluation, expert), res, i, 0,
        "id, name, , affiliation_uscc, affiliation_name, district_code, max_concurrent_reviews, "
        "load, active, phone, email, registered_at_us, registered_by, updated_at_us");
    if (!e)
        return NULL;
    e->fields = ccip_arena_split(a, PQgetvalue(res, i, 2), &e->n_fields);
    e->declared_conflicts = s_conflicts(a, conflicts, e->id, &e->n_declared_conflicts);
    return e;
}

/* ---- what the two registers share ------------------------------------------------ */

/* Packs the entry in row 0 of res (its declared conflicts in `conflicts`)
 * as the reply. Returns 0 or CCIP_REPLIED. */
typedef int (*s_reply_fn)(ccip_command *cmd, ccip_arena *a, const PGresult *res,
                          const PGresult *conflicts);

/* One register: its statements, the words its sentences use, its reply. */
typedef struct {
    const char *noun;                    /* "agency", "expert" */
    const char *types;                   /* the prefix of its commands' types */
    const char *pronoun;                 /* "register <it> with ..." */
    const char *load;                    /* what its load counts: "open investigations" */
    const char *capacity_field;          /* the registration's field that caps the load */
    const char *load_ends;               /* how a unit of load ends: "reported" */
    const ccip_db_stmt *get;             /* one entry by id */
    const ccip_db_stmt *conflicts;       /* declared conflicts of comma-separated ids */
    const ccip_db_stmt *lock;            /* an entry's load, row locked */
    const ccip_db_stmt *set_active;      /* (id, active) */
    const ccip_db_stmt *conflicts_clear; /* (id) */
    const ccip_db_stmt *conflict_add;    /* (id, org_uscc, note) */
    s_reply_fn reply;
} s_register;

static int s_agency_reply(ccip_command *cmd, ccip_arena *a, const PGresult *res,
                          const PGresult *conflicts)
{
    Ccip__Evaluation__AgencyReply reply = CCIP__EVALUATION__AGENCY_REPLY__INIT;
    reply.agency = s_agency(a, res, 0, conflicts);
    return ccip_command_reply_built(cmd, a, &reply.base);
}

static int s_expert_reply(ccip_command *cmd, ccip_arena *a, const PGresult *res,
                          const PGresult *conflicts)
{
    Ccip__Evaluation__ExpertReply reply = CCIP__EVALUATION__EXPERT_REPLY__INIT;
    reply.expert = s_expert(a, res, 0, conflicts);
    return ccip_command_reply_built(cmd, a, &reply.base);
}

static const s_register S_AGENCIES = {
    .noun = "agency",
    .types = "evaluation.agency.",
    .pronoun = "it",
    .load = "open investigations",
    .capacity_field = "capacity",
    .load_ends = "reported",
    .get = &S_AGENCY_GET,
    .conflicts = &S_AGENCY_CONFLICTS,
    .lock = &S_AGENCY_LOCK,
    .set_active = &S_AGENCY_SET_ACTIVE,
    .conflicts_clear = &S_AGENCY_CONFLICTS_CLEAR,
    .conflict_add = &S_AGENCY_CONFLICT_ADD,
    .reply = s_agency_reply,
};

static const s_register S_EXPERTS = {
    .noun = "expert",
    .types = "evaluation.expert.",
    .pronoun = "them",
    .load = "open reviews",
    .capacity_field = "max_concurrent_reviews",
    .load_ends = "submitted",
    .get = &S_EXPERT_GET,
    .conflicts = &S_EXPERT_CONFLICTS,
    .lock = &S_EXPERT_LOCK,
    .set_active = &S_EXPERT_SET_ACTIVE,
    .conflicts_clear = &S_EXPERT_CONFLICTS_CLEAR,
    .conflict_add = &S_EXPERT_CONFLICT_ADD,
    .reply = s_expert_reply,
};

/* Reads entries of reg with `st` (parameters v) and their declared
 * conflicts. Returns 0 or a ccip_db_rc; *res and *conflicts are the
 * caller's to PQclear. */
static int s_rows(ccip_db *db, const s_register *reg, const ccip_db_stmt *st, int nv,
                  const char *const *v, PGresult **res, PGresult **conflicts)
{
    *conflicts = NULL;
    int rc = ccip_db_exec(db, st, nv, v, NULL, NULL, res);
    if (rc != 0)
        return rc;
    char *ids = s_ids(*res);
    if (!ids)
        return CCIP_DB_ERROR;
    const char *cv[] = {ids};
    rc = ccip_db_exec(db, reg->conflicts, 1, cv, NULL, NULL, conflicts);
    free(ids);
    return rc;
}

/* Replies with entry `id` of reg, or NOT_FOUND. */
static int s_reply_entry(ccip_command *cmd, ccip_arena *a, const s_register *reg, const char *id)
{
    PGresult *res = NULL, *conflicts = NULL;
    int rc = s_rows(cmd->db, reg, reg->get, 1, &id, &res, &conflicts);
    if (rc == 0 && PQntuples(res) != 1)
        rc = ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                               "there is no %s %s in the register; register %s with "
                               "evaluation.%s.register.v1",
                               reg->noun, id, reg->pronoun, reg->noun);
    if (rc == 0)
        rc = reg->reply(cmd, a, res, conflicts);
    PQclear(res);
    PQclear(conflicts);
    return rc;
}

/* Locks entry `id` of reg when it exists and checks that the new capacity
 * is not below its load. Returns 0, CCIP_REPLIED or a ccip_db_rc. */
static int s_lock_capacity(ccip_command *cmd, const s_register *reg, const char *id,
                           int32_t capacity)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, reg->lock, 1, &id, NULL, NULL, &res);
    if (rc == 0 && PQntuples(res) == 1 && ccip_db_cell_i64(res, 0, 0) > capacity)
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "%s %s has %lld %s; field `%s` cannot go below that (got %d) until "
                               "some are %s or reassigned",
                               reg->noun, id, (long long)ccip_db_cell_i64(res, 0, 0), reg->load,
                               reg->capacity_field, capacity, reg->load_ends);
    PQclear(res);
    return rc;
}

/* Replaces the declared conflicts of entry `id` of reg. Returns 0 or a
 * ccip_db_rc. */
static int s_write_conflicts(ccip_command *cmd, const s_register *reg, const char *id,
                             Ccip__Evaluation__DeclaredConflict *const *list, size_t n)
{
    int rc = ccip_db_exec(cmd->db, reg->conflicts_clear, 1, &id, NULL, NULL, NULL);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *cv[] = {id, list[i]->org_uscc, list[i]->note};
        rc = ccip_db_exec(cmd->db, reg->conflict_add, 3, cv, NULL, NULL, NULL);
    }
    return rc;
}

/* The register a get or set_active command is about, by its type. */
static const s_register *s_register_of(const ccip_command *cmd)
{
    const char *type = cmd->req->type;
    if (strncmp(type, S_AGENCIES.types, strlen(S_AGENCIES.types)) == 0)
        return &S_AGENCIES;
    if (strncmp(type, S_EXPERTS.types, strlen(S_EXPERTS.types)) == 0)
        return &S_EXPERTS;
    return NULL;
}

int evaluation_register_set_active(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__SetActiveRequest *rq = request;
    const s_register *reg = s_register_of(cmd);
    if (!reg) /* the definition table routed another type here */
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "%s is not about a register",
                                 cmd->req->type);
    int rc = ccip_command_check_code(cmd, "id", rq->id, EVALUATION_ID_MAX);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "reason", rq->reason, EVALUATION_REASON_MIN,
                                     EVALUATION_REASON_MAX, CCIP_TEXT_MULTILINE);
    PGresult *res = NULL;
    if (rc == 0) {
        const char *v[] = {rq->id, rq->active ? "true" : "false"};
        rc = ccip_db_exec(cmd->db, reg->set_active, 2, v, NULL, NULL, &res);
    }
    if (rc == 0 && strcmp(PQcmdTuples(res), "1") != 0)
        rc =
            ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no %s %s", reg->noun, rq->id);
    if (rc == 0) {
        char msg[32];
        snprintf(msg, sizeof msg, "%s %s", reg->noun, rq->active ? "activated" : "deactivated");
        ccip_log_info(msg, reg->noun, rq->id, "by", cmd->actor.id, "reason", rq->reason);
        rc = s_reply_entry(cmd, a, reg, rq->id);
    }
    PQclear(res);
    return rc;
}

int evaluation_register_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__GetRequest *rq = request;
    const s_register *reg = s_register_of(cmd);
    if (!reg) /* the definition table routed another type here */
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "%s is not about a register",
                                 cmd->req->type);
    int rc = ccip_command_check_code(cmd, "id", rq->id, EVALUATION_ID_MAX);
    if (rc == 0)
        rc = s_reply_entry(cmd, a, reg, rq->id);
    return rc;
}

/* Checks a ListRegisterRequest and writes the district code ("" = any) and
 * the limit. Returns 0 or CCIP_REPLIED. */
static int s_check_list(ccip_command *cmd, const Ccip__Evaluation__ListRegisterRequest *rq,
                        char district[8], char limit[16])
{
    district[0] = '\0';
    if (rq->district[0]) {
        const ccip_district *d = ccip_district_find(rq->district);
        if (!d) {
            char err[256];
            ccip_district_check(rq->district, err, sizeof err);
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "field `district`: %s",
                                     err);
        }
        snprintf(district, 8, "%s", d->code);
    }
    if (rq->limit < 0 || rq->limit > EVALUATION_LIST_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `limit` must be between 0 (= %d) and %d, got %d",
                                 EVALUATION_LIST_DEFAULT, EVALUATION_LIST_MAX, rq->limit);
    snprintf(limit, 16, "%d", rq->limit ? rq->limit : EVALUATION_LIST_DEFAULT);
    return 0;
}

/* ---- agencies ---------------------------------------------------------------- */

/* The served districts of a registration as "110101,110105", in out. */
static int s_districts(ccip_command *cmd, char **list, size_t n, char *out, size_t len)
{
    const ccip_district *chosen[DISTRICTS_MAX];
    size_t nchosen = 0;
    out[0] = '\0';
    if (n == 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `districts_served` must name at least one district (code "
                                 "or name, e.g. 110105 or Chaoyang), or \"all\"");
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], "all") == 0) {
            nchosen = 0;
            for (size_t k = 0; k < ccip_district_count(); k++)
                chosen[nchosen++] = ccip_district_at(k);
            break;
        }
        const ccip_district *d = ccip_district_find(list[i]);
        if (!d) {
            char err[256];
            ccip_district_check(list[i], err, sizeof err);
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `districts_served[%zu]`: %s", i, err);
        }
        int dup = 0;
        for (size_t k = 0; k < nchosen; k++)
            dup |= chosen[k] == d;
        if (!dup && nchosen < DISTRICTS_MAX)
            chosen[nchosen++] = d;
    }
    size_t used = 0;
    for (size_t i = 0; i < nchosen && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", chosen[i]->code);
    return 0;
}

int evaluation_agency_register(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__RegisterAgencyRequest *rq = request;
    char err[256], districts[DISTRICTS_MAX * 8];
    int rc = ccip_command_check_code(cmd, "id", rq->id, EVALUATION_ID_MAX);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "name", rq->name, 1, NAME_MAX_CHARS, 0);
    if (rc == 0 && ccip_uscc_check(rq->uscc, err, sizeof err) < 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "field `uscc`: %s", err);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "qualification", rq->qualification, 0, NOTE_MAX_CHARS, 0);
    if (rc == 0)
        rc = s_districts(cmd, rq->districts_served, rq->n_districts_served, districts,
                         sizeof districts);
    if (rc == 0 && (rq->capacity < 1 || rq->capacity > CAPACITY_MAX))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `capacity` (most open investigations at once) must be "
                               "between 1 and %d, got %d",
                               CAPACITY_MAX, rq->capacity);
    if (rc == 0)
        rc = s_check_conflicts(cmd, rq->declared_conflicts, rq->n_declared_conflicts);
    const char *id = rq->id;
    if (rc == 0)
        rc = s_lock_capacity(cmd, &S_AGENCIES, id, rq->capacity);
    if (rc != 0)
        return rc;
    char capacity[16];
    snprintf(capacity, sizeof capacity, "%d", rq->capacity);
    const char *v[] = {id, rq->name, rq->uscc, rq->qualification, capacity, cmd->actor.id};
    const char *dv[] = {id, districts};
    if ((rc = ccip_db_exec(cmd->db, &S_AGENCY_UPSERT, 6, v, NULL, NULL, NULL)) != 0 ||
        (rc = ccip_db_exec(cmd->db, &S_AGENCY_DISTRICTS_CLEAR, 1, &id, NULL, NULL, NULL)) != 0 ||
        (rc = ccip_db_exec(cmd->db, &S_AGENCY_DISTRICTS_SET, 2, dv, NULL, NULL, NULL)) != 0 ||
        (rc = s_write_conflicts(cmd, &S_AGENCIES, id, rq->declared_conflicts,
                                rq->n_declared_conflicts)) != 0)
        return rc;
    return s_reply_entry(cmd, a, &S_AGENCIES, id);
}

int evaluation_agency_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__ListRegisterRequest *rq = request;
    char district[8], limit[16];
    PGresult *res = NULL, *conflicts = NULL;
    int rc = s_check_list(cmd, rq, district, limit);
    if (rc == 0) {
        const char *v[] = {district, rq->active_only ? "true" : "false", rq->after_id, limit};
        rc = s_rows(cmd->db, &S_AGENCIES, &S_AGENCY_LIST, 4, v, &res, &conflicts);
    }
    if (rc == 0) {
        Ccip__Evaluation__ListAgenciesReply reply = CCIP__EVALUATION__LIST_AGENCIES_REPLY__INIT;
        int n = PQntuples(res);
        reply.agencies = ccip_arena_alloc(a, (size_t)n * sizeof *reply.agencies + 1);
        for (int i = 0; reply.agencies && i < n; i++)
            reply.agencies[reply.n_agencies++] = s_agency(a, res, i, conflicts);
        rc = ccip_command_reply_built(cmd, a, &reply.base);
    }
    PQclear(res);
    PQclear(conflicts);
    return rc;
}

/* ---- experts ------------------------------------------------------------------- */

/* The fields of expertise of a registration, checked, de-duplicated and
 * comma-joined into out. Returns 0 or CCIP_REPLIED. */
static int s_fields(ccip_command *cmd, char **fields, size_t n, char *out, size_t len)
{
    char err[256], name[32];
    out[0] = '\0';
    if (n == 0 || n > EVALUATION_FIELDS_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `fields` must name 1 to %d fields of expertise (e.g. "
                                 "design, film), got %zu",
                                 EVALUATION_FIELDS_MAX, n);
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "field `fields[%zu]`", i);
        if (evaluation_field_check(name, fields[i], err, sizeof err) < 0)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
        int dup = 0;
        for (size_t k = 0; k < i; k++)
            dup |= strcmp(fields[k], fields[i]) == 0;
        if (!dup && used < len)
            used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "", fields[i]);
    }
    return 0;
}

int evaluation_expert_register(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__RegisterExpertRequest *rq = request;
    char err[256], fields[EVALUATION_FIELDS_MAX * (FIELD_MAX_LEN + 1) + 1];
    char phone[PHONE_MAX], email[EMAIL_MAX];
    const ccip_district *d = NULL;
    int rc = ccip_command_check_code(cmd, "id", rq->id, EVALUATION_ID_MAX);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "name", rq->name, 1, NAME_MAX_CHARS, 0);
    if (rc == 0)
        rc = s_fields(cmd, rq->fields, rq->n_fields, fields, sizeof fields);
    if (rc == 0 && ccip_uscc_check(rq->affiliation_uscc, err, sizeof err) < 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "field `affiliation_uscc`: %s",
                               err);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "affiliation_name", rq->affiliation_name, 0,
                                     NAME_MAX_CHARS, 0);
    if (rc == 0 && !(d = ccip_district_find(rq->district))) {
        ccip_district_check(rq->district, err, sizeof err);
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "field `district`: %s", err);
    }
    if (rc == 0 && (rq->max_concurrent_reviews < 1 || rq->max_concurrent_reviews > REVIEWS_MAX))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `max_concurrent_reviews` must be between 1 and %d, got %d",
                               REVIEWS_MAX, rq->max_concurrent_reviews);
    if (rc == 0)
        rc = s_check_conflicts(cmd, rq->declared_conflicts, rq->n_declared_conflicts);
    if (rc == 0) {
        evaluation_phone_norm(rq->phone, phone, sizeof phone);
        evaluation_email_norm(rq->email, email, sizeof email);
        if (rq->phone[0] && !phone[0])
            rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                   "field `phone` must hold a phone number of at least 5 digits, "
                                   "got \"%.32s\"; leave it empty when unknown",
                                   rq->phone);
        else if (rq->email[0] && (!email[0] || strlen(rq->email) >= EMAIL_MAX))
            rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                   "field `email` must be an e-mail address (name@host) of at most "
                                   "%d characters; leave it empty when unknown",
                                   EMAIL_MAX - 1);
    }
    const char *id = rq->id;
    if (rc == 0)
        rc = s_lock_capacity(cmd, &S_EXPERTS, id, rq->max_concurrent_reviews);
    if (rc != 0)
        return rc;
    char max[16];
    snprintf(max, sizeof max, "%d", rq->max_concurrent_reviews);
    const char *v[] = {id,    rq->name, fields, rq->affiliation_uscc, rq->affiliation_name, d->code,
                       phone, email,    max,    cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, &S_EXPERT_UPSERT, 10, v, NULL, NULL, NULL)) != 0 ||
        (rc = ccip_db_exec(cmd->db, &S_EXPERT_FIELDS_CLEAR, 1, &id, NULL, NULL, NULL)) != 0 ||
        (rc = ccip_db_exec(cmd->db, &S_EXPERT_FIELDS_SET, 1, &id, NULL, NULL, NULL)) != 0 ||
        (rc = s_write_conflicts(cmd, &S_EXPERTS, id, rq->declared_conflicts,
                                rq->n_declared_conflicts)) != 0)
        return rc;
    return s_reply_entry(cmd, a, &S_EXPERTS, id);
}

int evaluation_expert_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__ListRegisterRequest *rq = request;
    char district[8], limit[16], err[256];
    PGresult *res = NULL, *conflicts = NULL;
    int rc = s_check_list(cmd, rq, district, limit);
    if (rc == 0 && rq->field[0] &&
        evaluation_field_check("field `field`", rq->field, err, sizeof err) < 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    if (rc == 0) {
        const char *v[] = {rq->field, district, rq->active_only ? "true" : "false", rq->after_id,
                           limit};
        rc = s_rows(cmd->db, &S_EXPERTS, &S_EXPERT_LIST, 5, v, &res, &conflicts);
    }
    if (rc == 0) {
        Ccip__Evaluation__ListExpertsReply reply = CCIP__EVALUATION__LIST_EXPERTS_REPLY__INIT;
        int n = PQntuples(res);
        reply.experts = ccip_arena_alloc(a, (size_t)n * sizeof *reply.experts + 1);
        for (int i = 0; reply.experts && i < n; i++)
            reply.experts[reply.n_experts++] = s_expert(a, res, i, conflicts);
        rc = ccip_command_reply_built(cmd, a, &reply.base);
    }
    PQclear(res);
    PQclear(conflicts);
    return rc;
}
