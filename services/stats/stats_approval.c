#include "stats_approval.h"

#include <string.h>

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
    else if (rc == 0)
        rc = stats_report_transition(cmd, &row, STATS_DISTRICT_APPROVED, rq->reason);
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
    }
    if (rc == 0)
        rc = stats_report_reply(cmd, row.id);
    return rc;
}
