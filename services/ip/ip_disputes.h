/*
 * ip_disputes: complaints against registered works.
 *
 *   file     any registered party that does not own the work complains of
 *            INFRINGEMENT or IMPROPER_REGISTRATION, with evidence (each item
 *            described and identified by its SHA-256); the respondents (the
 *            work's owners) may answer until filed + ip.dispute_answer_seconds
 *   answer   an owner of the work answers, with evidence, inside the window
 *   rule     staff UPHOLD or DISMISS with reasons, once the respondent has
 *            answered or the window has closed. UPHOLD freezes the work: no
 *            listing, offer, contract or settlement from then on, and
 *            ip.dispute.upheld.v1 tells other services (funding may hold a
 *            project's tranches that use the work)
 *
 * Events: ip.dispute.filed.v1, ip.dispute.answered.v1, ip.dispute.upheld.v1,
 * ip.dispute.dismissed.v1. Handlers follow ccip_command_fn; roles in ip.h.
 */
#ifndef IP_DISPUTES_H
#define IP_DISPUTES_H

#include "ip.h"

int ip_dispute_file(ccip_command *cmd, ccip_arena *a, void *request);
int ip_dispute_answer(ccip_command *cmd, ccip_arena *a, void *request);
int ip_dispute_rule(ccip_command *cmd, ccip_arena *a, void *request);
/* ip.dispute.lift.v1: lifts the freeze of an upheld dispute (appeal,
 * settlement); emits ip.dispute.lifted.v1. */
int ip_dispute_lift(ccip_command *cmd, ccip_arena *a, void *request);
int ip_dispute_get(ccip_command *cmd, ccip_arena *a, void *request);
/* ip.dispute.list.v1: staff's list, newest first, by status and work. */
int ip_dispute_list(ccip_command *cmd, ccip_arena *a, void *request);

#endif
