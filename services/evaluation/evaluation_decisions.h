/*
 * evaluation_decisions: staff submit a case to the leading-group office,
 * and the office decides (table decision).
 *
 * Neither is possible before the investigation report and every review of
 * the panel are in: the refusal lists what is missing. The office records
 * APPROVED, DECLINED or RETURNED with its reasons; for special funds an
 * approval carries the recommended amount (1 fen up to the amount
 * requested). RETURNED sends the case back to an earlier step in a new
 * round: the investigation, the reviews or both are superseded and their
 * seats filled again. An approved identification becomes a designation
 * (evaluation_designations.h). Every decision publishes
 * evaluation.decision.made.v1, and approvals and declines also
 * evaluation.application.approved.v1 / .declined.v1 for the applicant's
 * view.
 */
#ifndef EVALUATION_DECISIONS_H
#define EVALUATION_DECISIONS_H

#include "evaluation.h"
#include "evaluation_cases.h"

/* Writes what case c still lacks before it can go to the office, as
 * "the investigation report of agency AG-1 (due 2026-12-01); the review of
 * expert EX-3; 2 of 5 panel seats empty", into out ("" when nothing), and
 * the number of items into *missing. Returns 0 or a ccip_db_rc. */
int evaluation_case_missing(ccip_db *db, const evaluation_case_row *c, char *out, size_t len,
                            int *missing);

/* evaluation.case.submit.v1 and evaluation.case.decide.v1. */
int evaluation_case_submit(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_case_decide(ccip_command *cmd, ccip_arena *a, void *request);

#endif
