#include "stats_due.h"

#include <stdio.h>
#include <string.h>

#include "ccip_id.h"

/* The entries active in quarter $1 without a submitted report for it. */
static const ccip_db_stmt S_MISSING = {
    "stats_due_missing",
    "SELECT e.id, e.name, e.district_code, e.operator_uscc, coalesce(e.case_root::text, '') "
    "FROM roster_entry e LEFT JOIN report r ON r.roster_id = e.id AND r.quarter = $1 "
    "WHERE e.first_quarter <= $1 AND (e.last_quarter IS NULL OR e.last_quarter >= $1) "
    "AND (e.expiry_quarter IS NULL OR e.expiry_quarter >= $1) "
    "AND r.first_submitted_at IS NULL ORDER BY e.id"};
/* The notice of one entry and quarter, once: a row only when it is new. */
static const ccip_db_stmt S_NOTICE = {
    "stats_due_notice",
    "INSERT INTO report_notice (roster_id, quarter) VALUES ($1, $2) ON CONFLICT DO NOTHING "
    "RETURNING roster_id"};

/* Records the notice of row r of res (S_MISSING) for quarter and, when it
 * is new, publishes stats.report.due.v1; *sent counts it. */
static int s_notice(ccip_command *cmd, const PGresult *res, int r, const char *quarter,
                    int64_t due_us, uint32_t *sent)
{
    const char *v[] = {PQgetvalue(res, r, 0), quarter};
    PGresult *ins = NULL;
    int rc = ccip_db_exec(cmd->db, &S_NOTICE, 2, v, NULL, NULL, &ins);
    if (rc != 0)
        return rc;
    int fresh = PQntuples(ins) == 1;
    PQclear(ins);
    if (!fresh)
        return 0;
    /* Each entry's notice belongs to the case it was designated in, as its
     * reports do; an entry from before cases has none. */
    const char *root = PQgetvalue(res, r, 4);
    if (root[0])
        rc = ccip_command_case(cmd, root);
    else
        cmd->case_id[0] = '\0';
    if (rc != 0)
        return rc;
    Ccip__Stats__ReportDue ev = CCIP__STATS__REPORT_DUE__INIT;
    ev.roster_id = (char *)v[0];
    ev.roster_name = (char *)PQgetvalue(res, r, 1);
    ev.district_code = (char *)PQgetvalue(res, r, 2);
    ev.operator_uscc = (char *)PQgetvalue(res, r, 3);
    ev.quarter = (char *)quarter;
    ev.due_at_us = due_us;
    rc = ccip_command_emit(cmd, "stats.report.due.v1", "roster_entry", v[0], &ev.base);
    if (rc == 0)
        (*sent)++;
    return rc;
}

int stats_report_remind_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)a;
    (void)request;
    /* the quarter just ended: its reports are being collected now */
    stats_quarter q = stats_quarter_add(stats_quarter_of_us(ccip_now_us()), -1);
    char quarter[STATS_QUARTER_STRLEN + 1];
    stats_quarter_format(q, quarter, sizeof quarter);
    const char *qv = quarter;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_MISSING, 1, &qv, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    Ccip__Stats__ReportRemindReply reply = CCIP__STATS__REPORT_REMIND_REPLY__INIT;
    reply.quarter = quarter;
    int64_t due = stats_due_us(cmd, q);
    for (int r = 0; rc == 0 && r < PQntuples(res); r++)
        rc = s_notice(cmd, res, r, quarter, due, &reply.notices);
    PQclear(res);
    cmd->case_id[0] = '\0'; /* the reply is about the quarter, no one case */
    return rc ? rc : ccip_command_reply(cmd, &reply.base);
}
