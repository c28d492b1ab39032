#include "evaluation_designations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_arena.h"

#define NOTE_MAX_CHARS 2000

/* Columns of a designation, as s_designation reads them. The status is
 * EXPIRED when an active designation's validity has passed. */
#define DESIGNATION_COLUMNS                                                                        \
    "id, case_id, application_id, kind, certificate_no, holder_uscc, holder_name, name, "          \
    "district_code, (extract(epoch FROM valid_from) * 1000000)::bigint, "                          \
    "(extract(epoch FROM valid_until) * 1000000)::bigint, "                                        \
    "(extract(epoch FROM next_reevaluation) * 1000000)::bigint, "                                  \
    "CASE WHEN status = 'DESIGNATION_ACTIVE' AND valid_until < now() "                             \
    "THEN 'DESIGNATION_EXPIRED' ELSE status END, "                                                 \
    "(extract(epoch FROM granted_at) * 1000000)::bigint, granted_by, "                             \
    "(extract(epoch FROM revoked_at) * 1000000)::bigint, coalesce(revoked_by, ''), "               \
    "revoke_reason, (extract(epoch FROM last_reevaluated_at) * 1000000)::bigint, "                 \
    "reevaluation_note"

static const ccip_db_stmt S_COUNTER = {
    "evaluation_designation_counter",
    "INSERT INTO certificate_counter (series, last) "
    "VALUES ($1 || '-' || to_char(now() AT TIME ZONE 'UTC', 'YYYY'), 1) "
    "ON CONFLICT (series) DO UPDATE SET last = certificate_counter.last + 1 "
    "RETURNING series || '-' || lpad(last::text, 4, '0')"};
static const ccip_db_stmt S_INSERT = {
    "evaluation_designation_insert",
    "INSERT INTO designation (id, case_id, application_id, kind, certificate_no, holder_uscc, "
    "holder_name, name, district_code, valid_from, valid_until, next_reevaluation, status, "
    "granted_by) VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, $9, now(), "
    "now() + make_interval(years => $10::integer), now() + make_interval(months => "
    "$11::integer), 'DESIGNATION_ACTIVE', $12)"};
static const ccip_db_stmt S_GET = {"evaluation_designation_get",
                                   "SELECT " DESIGNATION_COLUMNS
                                   " FROM designation WHERE id = $1::uuid"};
static const ccip_db_stmt S_BY_CERTIFICATE = {"evaluation_designation_by_certificate",
                                              "SELECT " DESIGNATION_COLUMNS
                                              " FROM designation WHERE certificate_no = $1"};
static const ccip_db_stmt S_LOCK = {
    "evaluation_designation_lock",
    "SELECT status, case_id, valid_until < now(), certificate_no FROM designation "
    "WHERE id = $1::uuid FOR UPDATE"};
static const ccip_db_stmt S_REVOKE = {
    "evaluation_designation_revoke",
    "UPDATE designation SET status = 'DESIGNATION_REVOKED', revoked_at = now(), revoked_by = $2, "
    "revoke_reason = $3 WHERE id = $1::uuid"};
static const ccip_db_stmt S_REEVALUATE = {
    "evaluation_designation_reevaluate",
    "UPDATE designation SET last_reevaluated_at = now(), reevaluation_note = $2, "
    "next_reevaluation = now() + make_interval(months => $3::integer) WHERE id = $1::uuid"};
static const ccip_db_stmt S_LIST = {
    "evaluation_designation_list",
    "SELECT " DESIGNATION_COLUMNS " FROM designation WHERE "
    "($1 = '' OR ($1 = 'DESIGNATION_EXPIRED' AND status = 'DESIGNATION_ACTIVE' "
    "AND valid_until < now()) OR ($1 = 'DESIGNATION_ACTIVE' AND status = $1 "
    "AND valid_until >= now()) OR ($1 = 'DESIGNATION_REVOKED' AND status = $1)) "
    "AND ($2 = '' OR holder_uscc = $2) "
    "AND (NOT $3::boolean OR (status = 'DESIGNATION_ACTIVE' AND next_reevaluation <= now())) "
    "ORDER BY granted_at, id LIMIT $4::integer"};

int evaluation_designation_kind(const char *kind)
{
    return strcmp(kind, "CLUSTER_IDENTIFICATION") == 0 ||
           strcmp(kind, "TALENT_BASE_IDENTIFICATION") == 0;
}

static Ccip__Evaluation__Designation *s_designation(ccip_arena *a, const PGresult *res, int i)
{
    return ccip_row_new(
        a, CCIP_MSG(evaluation, designation), res, i, 0,
        "id, case_id, application_id, kind, certificate_no, holder_uscc, holder_name, "
        "name, district_code, valid_from_us, valid_until_us, next_reevaluation_us, "
        "status, granted_at_us, granted_by, revoked_at_us, revoked_by, revoke_reason, "
        "last_reevaluated_at_us, reevaluation_note");
}

/* Loads designation `id` and, when emit_type is set, publishes it as that
 * event; when reply is set, answers with it. */
static int s_publish(ccip_command *cmd, const char *id, const char *emit_type, int reply)
{
    PGresult *res = NULL;
    int rc = ccip_command_row(cmd, &S_GET, 1, &id, &res, "there is no designation %s", id);
    if (rc == 0) {
        ccip_arena *a = ccip_arena_new();
        Ccip__Evaluation__Designation *d = s_designation(a, res, 0);
        if (ccip_arena_failed(a))
            rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        if (rc == 0 && emit_type) {
            Ccip__Evaluation__DesignationChanged ev = CCIP__EVALUATION__DESIGNATION_CHANGED__INIT;
            ev.designation = d;
            rc = ccip_command_emit(cmd, emit_type, "designation", id, &ev.base);
        }
        if (rc == 0 && reply) {
            Ccip__Evaluation__DesignationReply r = CCIP__EVALUATION__DESIGNATION_REPLY__INIT;
            r.designation = d;
            rc = ccip_command_reply(cmd, &r.base);
        }
        ccip_arena_destroy(&a);
    }
    PQclear(res);
    return rc;
}

int evaluation_designation_grant(ccip_command *cmd, const evaluation_case_row *c,
                                 char id[CCIP_UUID_STRLEN + 1])
{
    const evaluation_config *cfg = evaluation_cfg(cmd);
    const char *series = strcmp(c->kind, "CLUSTER_IDENTIFICATION") == 0 ? "CCI" : "CTB";
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_COUNTER, 1, &series, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    char certificate[64];
    snprintf(certificate, sizeof certificate, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    ccip_uuid_v7(id);
    char years[16], months[16];
    snprintf(years, sizeof years, "%lld", (long long)cfg->designation_years);
    snprintf(months, sizeof months, "%lld", (long long)cfg->reevaluation_months);
    const char *v[] = {id,
                       c->id,
                       c->application_id,
                       c->kind,
                       certificate,
                       c->applicant_uscc,
                       c->applicant_name,
                       c->subject_name[0] ? c->subject_name : c->title,
                       c->district_code,
                       years,
                       months,
                       cmd->actor.id};
    rc = ccip_db_exec(cmd->db, &S_INSERT, 12, v, NULL, NULL, NULL);
    char detail[128];
    snprintf(detail, sizeof detail, "certificate %s, valid %s years", certificate, years);
    if (rc == 0)
        rc = evaluation_case_log(cmd->db, c->id, cmd->actor.id, cmd->actor.role, "designated",
                                 detail);
    if (rc == 0)
        rc = s_publish(cmd, id, "evaluation.designation.granted.v1", 0);
    return rc;
}

int evaluation_designation_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__GetDesignationRequest *rq = request;
    int rc = 0;
    PGresult *res = NULL;
    if (rq->certificate_no[0] && !rq->designation_id[0]) {
        const char *v[] = {rq->certificate_no};
        rc = ccip_command_row(cmd, &S_BY_CERTIFICATE, 1, v, &res,
                              "there is no designation with certificate number %.40s",
                              rq->certificate_no);
        if (rc == 0) {
            char id[CCIP_UUID_STRLEN + 1];
            snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
            rc = s_publish(cmd, id, NULL, 1);
        }
    } else {
        rc = ccip_command_check_uuid(cmd, "designation_id", rq->designation_id);
        if (rc == 0)
            rc = s_publish(cmd, rq->designation_id, NULL, 1);
    }
    PQclear(res);
    return rc;
}

int evaluation_designation_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__ListDesignationsRequest *rq = request;
    int rc = 0;
    PGresult *res = NULL;
    const char *status = "";
    char err[256];
    if (rq->status && !(status = ccip_enum_name(&ccip__evaluation__designation_status__descriptor,
                                                (int)rq->status)))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `status` has an unknown value %d", (int)rq->status);
    if (rc == 0 && rq->holder_uscc[0] && ccip_uscc_check(rq->holder_uscc, err, sizeof err) < 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "field `holder_uscc`: %s", err);
    if (rc == 0 && (rq->limit < 0 || rq->limit > EVALUATION_LIST_MAX))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `limit` must be between 0 (= %d) and %d, got %d",
                               EVALUATION_LIST_DEFAULT, EVALUATION_LIST_MAX, rq->limit);
    if (rc == 0) {
        char limit[16];
        snprintf(limit, sizeof limit, "%d", rq->limit ? rq->limit : EVALUATION_LIST_DEFAULT);
        const char *v[] = {status, rq->holder_uscc, rq->reevaluation_due ? "true" : "false", limit};
        rc = ccip_db_exec(cmd->db, &S_LIST, 4, v, NULL, NULL, &res);
    }
    if (rc == 0) {
        Ccip__Evaluation__ListDesignationsReply reply =
            CCIP__EVALUATION__LIST_DESIGNATIONS_REPLY__INIT;
        int n = PQntuples(res);
        reply.designations = ccip_arena_alloc(a, (size_t)n * sizeof *reply.designations + 1);
        for (int i = 0; reply.designations && i < n; i++)
            reply.designations[reply.n_designations++] = s_designation(a, res, i);
        rc = ccip_command_reply_built(cmd, a, &reply.base);
    }
    PQclear(res);
    return rc;
}

/* Locks designation id: writes its status, case and whether it expired.
 * Returns 0, CCIP_REPLIED or a ccip_db_rc. */
static int s_lock(ccip_command *cmd, const char *id, char status[32],
                  char case_id[CCIP_UUID_STRLEN + 1], int *expired)
{
    int rc = ccip_command_check_uuid(cmd, "designation_id", id);
    PGresult *res = NULL;
    if (rc == 0)
        rc = ccip_command_row(cmd, &S_LOCK, 1, &id, &res, "there is no designation %s", id);
    if (rc == 0) {
        snprintf(status, 32, "%s", PQgetvalue(res, 0, 0));
        snprintf(case_id, CCIP_UUID_STRLEN + 1, "%s", PQgetvalue(res, 0, 1));
        *expired = PQgetvalue(res, 0, 2)[0] == 't';
    }
    PQclear(res);
    return rc;
}

int evaluation_designation_revoke(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__RevokeDesignationRequest *rq = request;
    char status[32], case_id[CCIP_UUID_STRLEN + 1];
    int expired = 0;
    int rc = ccip_command_check_text(cmd, "reason", rq->reason, EVALUATION_REASON_MIN,
                                     EVALUATION_REASON_MAX, CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = s_lock(cmd, rq->designation_id, status, case_id, &expired);
    if (rc == 0 && strcmp(status, "DESIGNATION_REVOKED") == 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "designation %s was revoked already", rq->designation_id);
    const char *v[] = {rq->designation_id, cmd->actor.id, rq->reason};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_REVOKE, 3, v, NULL, NULL, NULL);
    if (rc == 0)
        rc = evaluation_case_log(cmd->db, case_id, cmd->actor.id, cmd->actor.role,
                                 "designation revoked", rq->reason);
    if (rc == 0)
        rc = s_publish(cmd, rq->designation_id, "evaluation.designation.revoked.v1", 1);
    return rc;
}

int evaluation_designation_reevaluate(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__ReevaluateRequest *rq = request;
    char status[32], case_id[CCIP_UUID_STRLEN + 1];
    int expired = 0;
    int rc = ccip_command_check_text(cmd, "note", rq->note, EVALUATION_REASON_MIN, NOTE_MAX_CHARS,
                                     CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = s_lock(cmd, rq->designation_id, status, case_id, &expired);
    if (rc == 0 && (strcmp(status, "DESIGNATION_ACTIVE") != 0 || expired))
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "designation %s is %s; only an active designation is re-evaluated",
                               rq->designation_id, expired ? "expired" : "revoked");
    char months[16];
    snprintf(months, sizeof months, "%lld", (long long)evaluation_cfg(cmd)->reevaluation_months);
    const char *v[] = {rq->designation_id, rq->note, months};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_REEVALUATE, 3, v, NULL, NULL, NULL);
    if (rc == 0)
        rc = evaluation_case_log(cmd->db, case_id, cmd->actor.id, cmd->actor.role,
                                 "designation re-evaluated", rq->note);
    if (rc == 0)
        rc = s_publish(cmd, rq->designation_id, NULL, 1);
    return rc;
}
