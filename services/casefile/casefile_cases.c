#include "casefile_cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casefile.h"
#include "casefile_steps.h"
#include "ccip/casefile.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_log.h"
#include "ccip_outbox.h"
#include "ccip_row.h"
#include "ccip_validate.h"

/* ---- statements ------------------------------------------------------------------ */

/* A case by its root id or the id of any of its applications. */
static const ccip_db_stmt S_RESOLVE = {
    "casefile_resolve",
    "SELECT root_id::text, applicant_uscc FROM case_record WHERE root_id = coalesce("
    "(SELECT a.root_id FROM case_application a WHERE a.application_id = $1::uuid), $1::uuid)"};

/* The summary's columns, in CaseSummary's order, then its applications. */
#define S_SUMMARY_COLUMNS                                                                          \
    "r.root_id::text, r.kind, r.title, r.applicant_uscc, r.applicant_name, r.district_code, "      \
    "r.state, coalesce(" CCIP_SQL_US("r.opened_at") ", 0), coalesce(" CCIP_SQL_US(                 \
        "r.updated_at") ", 0), (SELECT count(*) FROM step s WHERE s.root_id = r.root_id), "        \
                        "coalesce((SELECT string_agg(a.application_id::text, ',' ORDER BY "        \
                        "a.application_id <> r.root_id, a.first_at, a.application_id) FROM "       \
                        "case_application a WHERE a.root_id = r.root_id), '') "
#define S_SUMMARY_FIELDS                                                                           \
    "root_id, kind, title, applicant_uscc, applicant_name, district_code, state, opened_at_us, "   \
    "updated_at_us, steps"
enum { C_APPLICATIONS = 10 };

static const ccip_db_stmt S_SUMMARY = {"casefile_summary",
                                       "SELECT " S_SUMMARY_COLUMNS
                                       "FROM case_record r WHERE r.root_id = $1::uuid"};

/* $1 text fragment, $2 applicant, $3 district, $4 state, $5 kind, $6
 * limit; "" = any. The fragment is matched literally ('%', '_' and '\'
 * escaped), which pg_trgm's GIN index serves. */
static const ccip_db_stmt S_SEARCH = {
    "casefile_search",
    "SELECT " S_SUMMARY_COLUMNS "FROM case_record r WHERE r.facts_position > 0 "
    "AND ($1 = '' OR r.search_text ILIKE '%' || replace(replace(replace($1, '\\', '\\\\'), '%', "
    "'\\%'), '_', '\\_') || '%') "
    "AND ($2 = '' OR r.applicant_uscc = $2) AND ($3 = '' OR r.district_code = $3) "
    "AND ($4 = '' OR r.state = $4) AND ($5 = '' OR r.kind = $5) "
    "ORDER BY r.updated_at DESC, r.root_id LIMIT $6::int"};

static const ccip_db_stmt S_TIMELINE = {
    "casefile_timeline",
    "SELECT " CCIP_SQL_US("at") ", producer, type, action, detail, actor_id, actor_role, "
                                "object_kind, object_id, position, event_id FROM step "
                                "WHERE root_id = $1::uuid ORDER BY at, producer, position "
                                "LIMIT $2::int"};
#define S_TIMELINE_FIELDS                                                                          \
    "at_us, service, type, action, detail, actor_id, actor_role, object_kind, object_id, "         \
    "position, event_id"

static const ccip_db_stmt S_APPLICANT_VIEW = {
    "casefile_applicant_view",
    "SELECT " CCIP_SQL_US("at") ", producer, applicant_status, applicant_message FROM step "
                                "WHERE root_id = $1::uuid AND applicant_status IS NOT NULL "
                                "ORDER BY at, producer, position LIMIT $2::int"};

static const ccip_db_stmt S_OBJECTS = {
    "casefile_objects", "SELECT kind, type, payload FROM case_object WHERE root_id = $1::uuid "
                        "ORDER BY at, producer, position LIMIT $2::int"};

/* ---- the caller -------------------------------------------------------------------- */

/* Sets uscc to the applicant's own credit code when the caller is an
 * applicant, else to "" (whole cases). Returns 0, or CCIP_REPLIED with
 * PERMISSION_DENIED when an applicant's actor id is not
 * "org:<credit code>". */
static int s_caller(ccip_command *cmd, char uscc[CCIP_USCC_LEN + 1])
{
    uscc[0] = '\0';
    if (strcmp(cmd->actor.role, "applicant") != 0)
        return 0;
    const char *id = cmd->actor.id;
    size_t plen = strlen(CASEFILE_ORG_PREFIX);
    if (strncmp(id, CASEFILE_ORG_PREFIX, plen) != 0 || ccip_uscc_check(id + plen, NULL, 0) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "an applicant acts for one organisation: its actor id must be "
                                 "\"org:\" followed by the organisation's unified social credit "
                                 "code, got \"%.60s\"",
                                 id);
    memcpy(uscc, id + plen, CCIP_USCC_LEN);
    uscc[CCIP_USCC_LEN] = '\0';
    return 0;
}

/* Finds the case `id` names (its root or one of its applications) and
 * writes its root. Returns 0, CCIP_REPLIED with NOT_FOUND (also for an
 * applicant's request for another organisation's case), or a ccip_db_rc. */
static int s_resolve(ccip_command *cmd, const char *id, const char *uscc,
                     char root[CCIP_UUID_STRLEN + 1])
{
    int rc = ccip_command_check_uuid(cmd, "case_id", id);
    if (rc)
        return rc;
    PGresult *res = NULL;
    rc = ccip_db_exec(cmd->db, &S_RESOLVE, 1, &id, NULL, NULL, &res);
    if (rc)
        return rc;
    int found = PQntuples(res) == 1 && (!uscc[0] || strcmp(PQgetvalue(res, 0, 1), uscc) == 0);
    if (found)
        snprintf(root, CCIP_UUID_STRLEN + 1, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!found && uscc[0])
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "organisation %s has no case %s; its cases are listed with "
                                 "casefile.case.search.v1 (ccipctl case search)",
                                 uscc, id);
    if (!found)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "there is no case %s: give the root id of a case or the id of "
                                 "any of its applications (ccipctl case search finds them); a "
                                 "case just submitted appears once casefile has read intake's "
                                 "event",
                                 id);
    return 0;
}

/* ---- summaries ---------------------------------------------------------------------- */

/* Row r of a summary query as a CaseSummary in a, or NULL (out of
 * memory). */
static Ccip__Casefile__CaseSummary *s_summary(ccip_arena *a, const PGresult *res, int r)
{
    Ccip__Casefile__CaseSummary *s =
        ccip_row_new(a, CCIP_MSG(casefile, case_summary), res, r, 0, S_SUMMARY_FIELDS);
    if (!s)
        return NULL;
    const char *apps = PQgetvalue(res, r, C_APPLICATIONS);
    size_t n = apps[0] ? 1 : 0;
    for (const char *p = apps; *p; p++)
        n += *p == ',';
    s->application_ids = ccip_arena_alloc(a, (n + 1) * sizeof *s->application_ids);
    if (!s->application_ids)
        return NULL;
    for (const char *p = apps; n && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char *id = ccip_arena_alloc(a, len + 1);
        if (!id)
            return NULL;
        memcpy(id, p, len);
        id[len] = '\0';
        s->application_ids[s->n_application_ids++] = id;
        p += len + (comma ? 1 : 0);
    }
    return s;
}

static int s_load_summary(ccip_command *cmd, ccip_arena *a, const char *root,
                          Ccip__Casefile__CaseSummary **out)
{
    PGresult *res = NULL;
    int rc = ccip_command_row(cmd, &S_SUMMARY, 1, &root, &res, "there is no case %s", root);
    if (rc)
        return rc;
    *out = s_summary(a, res, 0);
    PQclear(res);
    return 0;
}

/* The timeline of case root, oldest first, into *steps / *n. */
static int s_load_timeline(ccip_command *cmd, ccip_arena *a, const char *root,
                           Ccip__Casefile__Step ***steps, size_t *n)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%d", CASEFILE_TIMELINE_MAX);
    const char *v[] = {root, limit};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_TIMELINE, 2, v, NULL, NULL, &res);
    if (rc)
        return rc;
    int rows = PQntuples(res);
    *steps = ccip_arena_alloc(a, (size_t)rows * sizeof **steps + 1);
    *n = 0;
    for (int i = 0; *steps && i < rows; i++) {
        Ccip__Casefile__Step *s =
            ccip_row_new(a, CCIP_MSG(casefile, step), res, i, 0, S_TIMELINE_FIELDS);
        if (s)
            (*steps)[(*n)++] = s;
    }
    PQclear(res);
    return 0;
}

/* ---- casefile.case.get.v1 --------------------------------------------------------------- */

int casefile_case_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Casefile__GetCaseRequest *rq = request;
    char uscc[CCIP_USCC_LEN + 1], root[CCIP_UUID_STRLEN + 1];
    int rc = s_caller(cmd, uscc);
    if (rc == 0)
        rc = s_resolve(cmd, rq->case_id, uscc, root);
    Ccip__Casefile__CaseReply reply = CCIP__CASEFILE__CASE_REPLY__INIT;
    if (rc == 0)
        rc = s_load_summary(cmd, a, root, &reply.summary);
    if (rc == 0 && !uscc[0])
        rc = s_load_timeline(cmd, a, root, &reply.timeline, &reply.n_timeline);
    if (rc == 0 && uscc[0]) {
        /* What intake's applicant view shows, and nothing of the internal
         * state or steps. */
        char limit[16];
        snprintf(limit, sizeof limit, "%d", CASEFILE_TIMELINE_MAX);
        const char *v[] = {root, limit};
        PGresult *res = NULL;
        rc = ccip_db_exec(cmd->db, &S_APPLICANT_VIEW, 2, v, NULL, NULL, &res);
        if (rc == 0) {
            int rows = PQntuples(res);
            reply.applicant_view =
                ccip_arena_alloc(a, (size_t)rows * sizeof *reply.applicant_view + 1);
            for (int i = 0; reply.applicant_view && i < rows; i++) {
                Ccip__Casefile__ApplicantStep *s =
                    ccip_row_new(a, CCIP_MSG(casefile, applicant_step), res, i, 0,
                                 "at_us, service, status, "
                                 "message");
                if (s)
                    reply.applicant_view[reply.n_applicant_view++] = s;
            }
            PQclear(res);
        }
        if (rc == 0 && reply.summary) {
            reply.summary->state = CCIP__CASEFILE__CASE_STATE__CASE_STATE_UNSPECIFIED;
            reply.summary->steps = (int32_t)reply.n_applicant_view;
            reply.summary->updated_at_us =
                reply.n_applicant_view ? reply.applicant_view[reply.n_applicant_view - 1]->at_us
                                       : reply.summary->opened_at_us;
        }
    }
    if (rc == 0)
        rc = ccip_command_reply_built(cmd, a, &reply.base);
    return rc;
}

/* ---- casefile.case.search.v1 ------------------------------------------------------------ */

int casefile_case_search(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Casefile__SearchCasesRequest *rq = request;
    char uscc[CCIP_USCC_LEN + 1], err[256];
    int rc = s_caller(cmd, uscc);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "text", rq->text, 0, CASEFILE_TEXT_MAX, 0);
    const char *applicant = rq->applicant_uscc;
    if (rc == 0 && applicant[0] && ccip_uscc_check(applicant, err, sizeof err) < 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "field `applicant_uscc`: %s",
                               err);
    if (rc == 0 && uscc[0]) {
        if (applicant[0] && strcmp(applicant, uscc) != 0)
            rc = ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                   "an applicant searches only its own cases: leave "
                                   "`applicant_uscc` empty or give %s, not %s",
                                   uscc, applicant);
        applicant = uscc;
    }
    const char *district = "";
    if (rc == 0 && rq->district[0]) {
        const ccip_district *d = ccip_district_find(rq->district);
        if (!d)
            rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                   "field `district` must be a Beijing district's code or name "
                                   "such as 110105 or Chaoyang, got \"%.40s\"",
                                   rq->district);
        else
            district = d->code;
    }
    const char *state = "", *kind = "";
    if (rc == 0 && rq->state &&
        !(state = ccip_enum_name(&ccip__casefile__case_state__descriptor, (int)rq->state)))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `state` has an unknown value %d", (int)rq->state);
    if (rc == 0 && rq->kind &&
        !(kind = ccip_enum_name(&ccip__intake__call_kind__descriptor, (int)rq->kind)))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `kind` has an unknown value %d", (int)rq->kind);
    if (rc == 0 && (rq->limit < 0 || rq->limit > CASEFILE_SEARCH_MAX))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `limit` must be between 0 (= %d) and %d, got %d",
                               CASEFILE_SEARCH_DEFAULT, CASEFILE_SEARCH_MAX, (int)rq->limit);
    if (rc)
        return rc;
    char limit[16];
    snprintf(limit, sizeof limit, "%d", rq->limit ? (int)rq->limit : CASEFILE_SEARCH_DEFAULT);
    const char *v[] = {rq->text, applicant, district, state, kind, limit};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_SEARCH, 6, v, NULL, NULL, &res)) != 0)
        return rc;
    Ccip__Casefile__SearchCasesReply reply = CCIP__CASEFILE__SEARCH_CASES_REPLY__INIT;
    int rows = PQntuples(res);
    reply.cases = ccip_arena_alloc(a, (size_t)rows * sizeof *reply.cases + 1);
    for (int i = 0; reply.cases && i < rows; i++) {
        Ccip__Casefile__CaseSummary *s = s_summary(a, res, i);
        if (!s)
            break; /* out of memory: ccip_command_reply_built says so */
        if (uscc[0]) {
            /* the applicant's view has no internal state */
            s->state = CCIP__CASEFILE__CASE_STATE__CASE_STATE_UNSPECIFIED;
            s->steps = 0;
        }
        reply.cases[reply.n_cases++] = s;
    }
    PQclear(res);
    return ccip_command_reply_built(cmd, a, &reply.base);
}

/* ---- casefile.case.dossier.v1 ----------------------------------------------------------- */

/* The decoded payloads a dossier points into, freed after the reply is
 * packed. */
typedef struct {
    ProtobufCMessage **msgs;
    size_t n;
} s_decoded;

static void s_decoded_free(s_decoded *d)
{
    for (size_t i = 0; i < d->n; i++)
        protobuf_c_message_free_unpacked(d->msgs[i], NULL);
    free(d->msgs);
    d->msgs = NULL;
    d->n = 0;
}

/* The dossier's repeated field for objects of `kind`: "award" goes to
 * "awards", "quarterly_report" to "quarterly_reports". NULL: none. */
static const ProtobufCFieldDescriptor *s_dossier_field(const char *kind)
{
    char name[64];
    snprintf(name, sizeof name, "%ss", kind);
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(CCIP_MSG(casefile, dossier_reply), name);
    return f && f->label == PROTOBUF_C_LABEL_REPEATED && f->type == PROTOBUF_C_TYPE_MESSAGE ? f
                                                                                            : NULL;
}

/* Appends part to the repeated field f of reply, whose array has room for
 * `room` entries (made on first use from a). Returns 0, or -1 when memory
 * ran out. */
static int s_append(ccip_arena *a, ProtobufCMessage *reply, const ProtobufCFieldDescriptor *f,
                    const ProtobufCMessage *part, size_t room)
{
    size_t *n = (size_t *)((char *)reply + f->quantifier_offset);
    const ProtobufCMessage ***arr = (const ProtobufCMessage ***)((char *)reply + f->offset);
    if (!*arr && !(*arr = ccip_arena_alloc(a, room * sizeof **arr)))
        return -1;
    (*arr)[(*n)++] = part;
    return 0;
}

int casefile_case_dossier(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Casefile__GetCaseRequest *rq = request;
    char root[CCIP_UUID_STRLEN + 1];
    int rc = s_resolve(cmd, rq->case_id, "", root);
    Ccip__Casefile__DossierReply reply = CCIP__CASEFILE__DOSSIER_REPLY__INIT;
    if (rc == 0)
        rc = s_load_summary(cmd, a, root, &reply.summary);
    if (rc == 0)
        rc = s_load_timeline(cmd, a, root, &reply.timeline, &reply.n_timeline);
    PGresult *res = NULL;
    char limit[16];
    snprintf(limit, sizeof limit, "%d", CASEFILE_DOSSIER_OBJECTS);
    const char *v[] = {root, limit};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_OBJECTS, 2, v, NULL, NULL, &res);
    if (rc)
        return rc;
    int rows = PQntuples(res);
    s_decoded dec = {calloc((size_t)rows + 1, sizeof *dec.msgs), 0};
    int oom = !dec.msgs;
    for (int i = 0; !oom && i < rows; i++) {
        const char *kind = PQgetvalue(res, i, 0), *type = PQgetvalue(res, i, 1);
        const ProtobufCMessageDescriptor *desc = casefile_step_message(type);
        const ProtobufCFieldDescriptor *f = s_dossier_field(kind);
        size_t len = 0;
        unsigned char *bytes = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, 2), &len);
        if (!bytes) {
            oom = 1;
            break;
        }
        char err[256];
        ProtobufCMessage *m =
            desc && f
                ? ccip_payload_unpack(desc, bytes, len, CCIP_OUTBOX_PAYLOAD_MAX, err, sizeof err)
                : NULL;
        PQfreemem(bytes);
        if (!m) {
            /* stored by this service from an event it read: a row it cannot
             * read again is left out and said so, the rest still shown */
            ccip_log_warn("left an object out of a dossier", "case", root, "kind", kind, "type",
                          type);
            continue;
        }
        dec.msgs[dec.n++] = m;
        const ProtobufCMessage *part = casefile_step_dossier_part(type, m);
        if (part && part->descriptor == f->descriptor &&
            s_append(a, &reply.base, f, part, (size_t)rows) < 0)
            oom = 1;
    }
    PQclear(res);
    if (oom)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading case %s", root);
    else
        rc = ccip_command_reply_built(cmd, a, &reply.base);
    s_decoded_free(&dec);
    return rc;
}
