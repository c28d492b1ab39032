#include "stats_approval.h"

#include <string.h>

#include "stats_reports.h"
#include "stats_roster.h"

/* Unpacks the request and reads the report, locked, as the caller may see
 * it. Returns 0, STATS_REPLIED or a ccip_db_rc; *rq is set when 0 or when
 * the request was decoded. */
static int s_begin(ccip_command *cmd, Ccip__Stats__DecideReportRequest **rq, stats_report_row *row)
{
    *rq = (Ccip__Stats__DecideReportRequest *)stats_unpack(
        cmd, &ccip__stats__decide_report_request__descriptor);
    if (!*rq)
        return STATS_REPLIED;
    stats_caller caller;
    int rc = stats_caller_get(cmd, &caller);
    if (rc == 0 && (*rq)->decision != CCIP__STATS__DECISION__APPROVE &&
        (*rq)->decision != CCIP__STATS__DECISION__RETURN)
        rc = stats_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                        "field `decision` must be APPROVE or RETURN, got %d", (int)(*rq)->decision);
    if (rc == 0 && (*rq)->decision == CCIP__STATS__DECISION__RETURN)
        rc = stats_text_arg(cmd, "reason", (*rq)->reason, 1, STATS_REASON_MAX, 1);
    else if (rc == 0)
        rc = stats_text_arg(cmd, "reason", (*rq)->reason, 0, STATS_REASON_MAX, 1);
    if (rc == 0)
        rc = stats_report_row_get(cmd, (*rq)->report_id, 1, &caller, row);
    return rc;
}

static int s_return(ccip_command *cmd, stats_report_row *row, const char *reason)
{
    int rc = stats_report_transition(cmd, row, STATS_RETURNED, reason);
    if (rc == 0)
        rc = stats_report_emit(cmd, row, "stats.report.returned.v1", STATS_RETURNED, reason);
    return rc;
}

int stats_report_review_cmd(ccip_command *cmd)
{
    Ccip__Stats__DecideReportRequest *rq = NULL;
    stats_report_row row;
    int rc = s_begin(cmd, &rq, &row);
    if (rc == 0 && strcmp(row.status, STATS_SUBMITTED) != 0)
        rc = stats_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                        "report %s is %s; the district reviews only SUBMITTED reports", row.id,
                        row.status);
    if (rc == 0 && rq->decision == CCIP__STATS__DECISION__RETURN)
        rc = s_return(cmd, &row, rq->reason);
    else if (rc == 0)
        rc = stats_report_transition(cmd, &row, STATS_DISTRICT_APPROVED, rq->reason);
    if (rc == 0)
        rc = stats_report_reply(cmd, row.id);
    if (rq)
        protobuf_c_message_free_unpacked(&rq->base, NULL);
    return STATS_RC(rc);
}

int stats_report_decide_cmd(ccip_command *cmd)
{
    Ccip__Stats__DecideReportRequest *rq = NULL;
    stats_report_row row;
    int rc = s_begin(cmd, &rq, &row);
    if (rc == 0 && rq->decision == CCIP__STATS__DECISION__RETURN) {
        if (strcmp(row.status, STATS_SUBMITTED) != 0 &&
            strcmp(row.status, STATS_DISTRICT_APPROVED) != 0)
            rc = stats_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                            "report %s is %s; the center returns only SUBMITTED or "
                            "DISTRICT_APPROVED reports (an accepted one is corrected with "
                            "stats.report.correct.v1)",
                            row.id, row.status);
        else
            rc = s_return(cmd, &row, rq->reason);
    } else if (rc == 0) {
        if (strcmp(row.status, STATS_DISTRICT_APPROVED) != 0)
            rc = stats_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                            "report %s is %s; the center accepts only reports its district has "
                            "approved (DISTRICT_APPROVED)",
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
    if (rq)
        protobuf_c_message_free_unpacked(&rq->base, NULL);
    return STATS_RC(rc);
}
