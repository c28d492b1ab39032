#include "evaluation_investigations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "ccip_arena.h"
#include "evaluation_cases.h"
#include "evaluation_tasks.h"

#define FINDINGS_MAX_CHARS 20000
#define DOC_NAME_MAX_CHARS 200
#define MEDIA_TYPE_MAX     100
#define SHA256_HEX_LEN     64
#define VISIT_SLACK_US     (24LL * 3600 * 1000000) /* clocks differ; a visit "today" is fine */

static const ccip_db_stmt S_LIVE = {"evaluation_investigation_live",
                                    "SELECT id, agency_id, status, "
                                    "(extract(epoch FROM assigned_at) * 1000000)::bigint"
                                    " FROM investigation WHERE case_id = $1::uuid AND status IN "
                                    "('TASK_ASSIGNED', 'TASK_DONE')"};
static const ccip_db_stmt S_REPORT = {
    "evaluation_investigation_report",
    "UPDATE investigation SET status = 'TASK_DONE', visit_date = "
    "('epoch'::timestamptz + $2::bigint * interval '1 microsecond')"
    ", findings = $3, verdict = $4, reported_at = now() "
    "WHERE id = $1::uuid AND status = 'TASK_ASSIGNED'"};
static const ccip_db_stmt S_DOCUMENT = {
    "evaluation_investigation_document",
    "INSERT INTO report_document (investigation_id, n, name, sha256, media_type) "
    "VALUES ($1::uuid, $2::integer, $3, $4, $5)"};
static const ccip_db_stmt S_RELEASE = {"evaluation_investigation_release",
                                       "UPDATE agency SET load = load - 1 WHERE id = $1"};

static int s_hex64(const char *s)
{
    if (!s || strlen(s) != SHA256_HEX_LEN)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

/* Checks the report's contents. Returns 0 or CCIP_REPLIED. */
static int s_check(ccip_command *cmd, const Ccip__Evaluation__FileReportRequest *rq)
{
    int64_t now = ccip_now_us();
    if (rq->visit_date_us <= 0 || rq->visit_date_us > now + VISIT_SLACK_US)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `visit_date_us` must be the time of the on-site visit "
                                 "(UTC microseconds, not in the future), got %lld",
                                 (long long)rq->visit_date_us);
    int rc = ccip_command_check_text(cmd, "findings", rq->findings, 1, FINDINGS_MAX_CHARS,
                                     CCIP_TEXT_MULTILINE);
    if (rc != 0)
        return rc;
    if (!rq->verdict || !ccip_enum_name(&ccip__evaluation__verdict__descriptor, (int)rq->verdict))
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `verdict` must be VERDICT_MEETS, VERDICT_DOES_NOT_MEET or "
                                 "VERDICT_MEETS_WITH_CONDITIONS");
    if (rq->n_documents > EVALUATION_REPORT_DOCUMENTS_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `documents` may name at most %d documents, got %zu",
                                 EVALUATION_REPORT_DOCUMENTS_MAX, rq->n_documents);
    char field[64];
    for (size_t i = 0; i < rq->n_documents; i++) {
        const Ccip__Evaluation__ReportDocument *d = rq->documents[i];
        snprintf(field, sizeof field, "documents[%zu].name", i);
        if ((rc = ccip_command_check_text(cmd, field, d->name, 1, DOC_NAME_MAX_CHARS, 0)) != 0)
            return rc;
        if (!s_hex64(d->sha256))
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `documents[%zu].sha256` must be the SHA-256 of the "
                                     "content as 64 lower-case hex digits",
                                     i);
        snprintf(field, sizeof field, "documents[%zu].media_type", i);
        if ((rc = ccip_command_check_text(cmd, field, d->media_type, 0, MEDIA_TYPE_MAX, 0)) != 0)
            return rc;
    }
    return 0;
}

int evaluation_investigation_report(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__FileReportRequest *rq = request;
    char me[EVALUATION_ID_MAX + 1], task[CCIP_UUID_STRLEN + 1];
    evaluation_case_row c;
    memset(&c, 0, sizeof c);
    PGresult *res = NULL;
    int rc = evaluation_actor_subject(cmd, "agency", me);
    if (rc == 0)
        rc = s_check(cmd, rq);
    if (rc == 0)
        rc = evaluation_case_fetch(cmd, rq->case_id, 1, &c);
    if (rc == 0 && strcmp(c.status, EVALUATION_CASE_IN_EVALUATION) != 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "case %s is %s: no report is expected", c.id, c.status);
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_LIVE, 1, &c.id, NULL, NULL, &res);
    if (rc == 0 && (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 1), me) != 0))
        rc = ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                               "agency %s is not the agency assigned to case %s; only the assigned "
                               "agency may file its investigation report",
                               me, c.id);
    if (rc == 0 && strcmp(PQgetvalue(res, 0, 2), EVALUATION_TASK_DONE) == 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "agency %s has already filed its report on case %s", me, c.id);
    if (rc == 0 && rq->visit_date_us + VISIT_SLACK_US < ccip_db_cell_i64(res, 0, 3))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `visit_date_us` is before the agency was assigned the case; "
                               "give the date of the visit made for this investigation");
    if (rc != 0)
        goto out;
    snprintf(task, sizeof task, "%s", PQgetvalue(res, 0, 0));
    char visit[24];
    snprintf(visit, sizeof visit, "%lld", (long long)rq->visit_date_us);
    const char *verdict = ccip_enum_name(&ccip__evaluation__verdict__descriptor, (int)rq->verdict);
    const char *v[] = {task, visit, rq->findings, verdict};
    rc = ccip_db_exec(cmd->db, &S_REPORT, 4, v, NULL, NULL, NULL);
    for (size_t i = 0; rc == 0 && i < rq->n_documents; i++) {
        char n[24];
        snprintf(n, sizeof n, "%zu", i + 1);
        const char *dv[] = {task, n, rq->documents[i]->name, rq->documents[i]->sha256,
                            rq->documents[i]->media_type};
        rc = ccip_db_exec(cmd->db, &S_DOCUMENT, 5, dv, NULL, NULL, NULL);
    }
    const char *mv[] = {me};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_RELEASE, 1, mv, NULL, NULL, NULL);
    if (rc == 0)
        rc = evaluation_task_publish(cmd, CCIP__EVALUATION__SUBJECT_KIND__AGENCY, task,
                                     "evaluation.task.ended.v1");
    char detail[128];
    snprintf(detail, sizeof detail, "agency %s: %s, %zu document(s)", me, verdict, rq->n_documents);
    if (rc == 0)
        rc = evaluation_case_log(cmd->db, c.id, cmd->actor.id, cmd->actor.role, "reported", detail);
    if (rc != 0)
        goto out;
    Ccip__Evaluation__Case *cm = NULL;
    rc = evaluation_case_load(cmd->db, c.id, 1, a, &cm);
    Ccip__Evaluation__InvestigationReply reply = CCIP__EVALUATION__INVESTIGATION_REPLY__INIT;
    for (size_t i = 0; cm && i < cm->n_investigations; i++)
        if (strcmp(cm->investigations[i]->id, task) == 0)
            reply.investigation = cm->investigations[i];
    if (rc == 0)
        rc = !reply.investigation ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory")
                                  : ccip_command_reply(cmd, &reply.base);
out:
    PQclear(res);
    evaluation_case_row_clear(&c);
    return rc;
}
