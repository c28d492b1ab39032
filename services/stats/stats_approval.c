#include "stats_approval.h"

#include <string.h>

#include "ccip_id.h"
#include "stats_reports.h"
#include "stats_roster.h"

/* Checks the decision and its reason, then reads the report, locked, as
 * the caller may see it. Returns 0, CCIP_REPLIED or a ccip_db_rc. */
static int s_begin(ccip_command *cmd, const Ccip__Stats__DecideReportRequest *rq,
                   stats_report_row *row)
{
    stats_caller caller;
    int rc = stats_caller_get(cmd, &caller);
    int returning = rq->decision == CCIP__STATS__DECISION__RETURN;
    if (rc == 0 && rq->decision != CCIP__STATS__DECISION__APPROVE && !returning)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `decision` must be APPROVE or RETURN, got %d",
                               (int)rq->decision);
    /* Returning a report needs a reason; approving it may give one. */
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "reason", rq->reason, returning ? 1 : 0, STATS_REASON_MAX,
                                     CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = stats_report_row_get(cmd, rq->report_id, 1, &caller, row);
    return rc;
}

/* Quarter completion is decided under a lock per quarter: two acceptances
 * of its last two reports in concurrent transactions would each see the
 * other's report still open, and neither would say the quarter complete. */
static const ccip_db_stmt S_QUARTER_LOCK = {
    "stats_quarter_lock", "SELECT pg_advisory_xact_lock(hashtext('stats.quarter.' || $1))"};
static const ccip_db_stmt S_QUARTER_OPEN = {
    "stats_quarter_open",
    "SELECT count(*) FILTER (WHERE r.status IS DISTINCT FROM '" STATS_ACCEPTED "'), count(*) "
    "FROM roster_entry e LEFT JOIN report r ON r.roster_id = e.id AND r.quarter = $1 "
    "WHERE e.first_quarter <= $1 AND (e.last_quarter IS NULL OR e.last_quarter >= $1) "
    "AND (e.expiry_quarter IS NULL OR e.expiry_quarter >= $1)"};
static const ccip_db_stmt S_QUARTER_DONE = {
    "stats_quarter_done",
    "INSERT INTO quarter_completed (quarter, reports, completed_by) VALUES ($1, $2::integer, $3) "
    "ON CONFLICT (quarter) DO NOTHING RETURNING quarter"};

/* After an acceptance: when every entry active in `quarter` now has an
 * accepted report, records it and publishes stats.quarter.completed.v1,
 * once per quarter (the row's primary key). Returns 0, CCIP_REPLIED or a
 * ccip_db_rc. */
static int s_quarter_complete(ccip_command *cmd, const char *quarter)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_QUARTER_LOCK, 1, &quarter, NULL, NULL, NULL);
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_QUARTER_OPEN, 1, &quarter, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    int64_t open = ccip_db_cell_i64(res, 0, 0), all = ccip_db_cell_i64(res, 0, 1);
    PQclear(res);
    if (open != 0 || all == 0)
        return 0;
    char n[24];
    ccip_i64_text(all, n);
    const char *v[] = {quarter, n, cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, &S_QUARTER_DONE, 3, v, NULL, NULL, &res)) != 0)
        return rc;
    int first = PQntuples(res) == 1;
    PQclear(res);
    if (!first)
        return 0;
    Ccip__Stats__QuarterCompleted ev = CCIP__STATS__QUARTER_COMPLETED__INIT;
    ev.quarter = (char *)quarter;
    ev.reports = (int32_t)all;
    ev.completed_at_us = ccip_now_us();
    /* The event is about the quarter, not the case of the report accepted
     * last: it carries no case (the reply still does). */
    char case_id[sizeof cmd->case_id];
    memcpy(case_id, cmd->case_id, sizeof case_id);
    cmd->case_id[0] = '\0';
    rc = ccip_command_emit(cmd, "stats.quarter.completed.v1", "quarter", quarter, &ev.base);
    memcpy(cmd->case_id, case_id, sizeof case_id);
    return rc;
}

static int s_return(ccip_command *cmd, stats_report_row *row, const char *reason)
{
    int rc = stats_report_transition(cmd, row, STATS_RETURNED, reason);
    if (rc == 0)
        rc = stats_report_emit(cmd, row, "stats.report.returned.v1", STATS_RETURNED, reason);
    return rc;
}

int stats_report_review_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__DecideReportRequest *rq = request;
    stats_report_row row;
    int rc = s_begin(cmd, rq, &row);
    if (rc == 0 && strcmp(row.status, STATS_SUBMITTED) != 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "report %s is %s; the district reviews only SUBMITTED reports",
                               row.id, row.status);
    if (rc == 0 && rq->decision == CCIP__STATS__DECISION__RETURN)
        rc = s_return(cmd, &row, rq->reason);
    else if (rc == 0) {
        rc = stats_report_transition(cmd, &row, STATS_DISTRICT_APPROVED, rq->reason);
        /* The district's review is over and the center's acceptance waits:
         * said in the same transaction, so an inbox never lags the report. */
        if (rc == 0)
            rc = stats_report_emit(cmd, &row, "stats.report.district_approved.v1",
                                   STATS_DISTRICT_APPROVED, rq->reason);
    }
    if (rc == 0)
        rc = stats_report_reply(cmd, row.id);
    return rc;
}

/* The center accepts a report its district approved, or returns it. */
int stats_report_decide_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__DecideReportRequest *rq = request;
    stats_report_row row;
    int rc = s_begin(cmd, rq, &row);
    if (rc == 0 && rq->decision == CCIP__STATS__DECISION__RETURN) {
        if (strcmp(row.status, STATS_SUBMITTED) != 0 &&
            strcmp(row.status, STATS_DISTRICT_APPROVED) != 0)
            rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                   "report %s is %s; the center returns only SUBMITTED or "
                                   "DISTRICT_APPROVED reports (an accepted one is corrected with "
                                   "stats.report.correct.v1)",
                                   row.id, row.status);
        else
            rc = s_return(cmd, &row, rq->reason);
    } else if (rc == 0) {
        if (strcmp(row.status, STATS_DISTRICT_APPROVED) != 0)
            rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                   "report %s is %s; the center accepts only reports its district "
                                   "has approved (DISTRICT_APPROVED)",
                                   row.id, row.status);
        if (rc == 0)
            rc = stats_roster_lock(cmd->db, row.roster.id);
        if (rc == 0)
            rc = stats_audit_context(cmd, rq->reason[0] ? rq->reason : "accepted by the center");
        if (rc == 0)
            rc = stats_report_transition(cmd, &row, STATS_ACCEPTED, rq->reason);
        if (rc == 0)
            rc = stats_report_emit(cmd, &row, "stats.report.accepted.v1", STATS_ACCEPTED,
                                   rq->reason);
        if (rc == 0)
            rc = s_quarter_complete(cmd, row.quarter);
    }
    if (rc == 0)
        rc = stats_report_reply(cmd, row.id);
    return rc;
}
