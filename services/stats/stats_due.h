/*
 * stats_due: telling operators that a quarterly report is due.
 *
 *   stats.report.remind.v1  run by the service itself every
 *                           stats.report_notice_seconds (ccip_schedule); admin
 *                           may run it by hand. RemindReportsRequest ->
 *                           RemindReportsReply.
 *
 * Once a quarter has ended its reports are due (by stats.due_days after its
 * end): every roster entry active in the quarter just ended that has not
 * submitted its report for it gets stats.report.due.v1, once per entry and
 * quarter (table report_notice), in the transaction that records the notice;
 * notify makes the operator's "quarterly report due" of it, and the report's
 * first stats.report.submitted.v1 settles it.
 */
#ifndef STATS_DUE_H
#define STATS_DUE_H

#include "stats.h"

/* stats.report.remind.v1. Returns 0, CCIP_REPLIED or a ccip_db_rc. */
int stats_report_remind_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
