/*
 * stats_approval: the two levels of approval of a submitted report.
 *
 *   SUBMITTED ---district APPROVE---> DISTRICT_APPROVED ---center APPROVE---> ACCEPTED
 *       |                                  |
 *       +--district RETURN--+   +--center RETURN (from either)
 *                           v   v
 *                          RETURNED  (the operator edits and submits again)
 *
 * The district office (role "district", actor id "district:<code>") reviews
 * only its own district's reports (stats.report.review.v1); the center
 * (staff, admin) decides (stats.report.decide.v1) and may return a report
 * the district has not reviewed yet, but accepts only what the district
 * approved. Returning needs a reason. Accepting records the accepted values
 * in the audit trail; an accepted report stays accepted.
 */
#ifndef STATS_APPROVAL_H
#define STATS_APPROVAL_H

#include "stats.h"

int stats_report_review_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_report_decide_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
