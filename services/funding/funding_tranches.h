/*
 * funding_tranches: an award's tranches and their payment.
 *
 * When an award is confirmed its amount is split by its programme's plan
 * (funding_tranche_split: whole fen, the last tranche takes the
 * remainder). A tranche is paid through a payment request (staff) and its
 * approval (finance): above funding.four_eyes_above_fen two approvals by
 * two different people. A request and the approval that pays check again
 * that the award is not suspended, that no upheld ip dispute holds it,
 * that the earlier tranches are paid and that the tranche's condition
 * holds; a refusal names what is missing. Paying posts TRANCHE_DISBURSED
 * and publishes funding.disbursement.paid.v1.
 */
#ifndef FUNDING_TRANCHES_H
#define FUNDING_TRANCHES_H

#include <stddef.h>
#include <stdint.h>

#include "funding.h"

/* Most tranches a plan may have. */
#define FUNDING_TRANCHES_MAX 10

/* Checks a tranche plan: 1..FUNDING_TRANCHES_MAX rules, each percent
 * 1..100 and a known condition, labels valid text of at most 100
 * characters, percents adding up to exactly 100. Returns 0, or -1 with a
 * sentence naming the field (`tranche_plan[2].percent`) and the fix. Pure. */
int funding_tranche_plan_check(Ccip__Funding__TrancheRule *const *rules, size_t n, char *err,
                               size_t errlen);

/* Splits amount_fen by percents[0..n) (adding up to 100) into whole fen:
 * every tranche but the last gets floor(amount * percent / 100), the last
 * what remains, so the tranches always add up to the amount exactly.
 * Returns 0 with out[0..n) set, or -1 when amount_fen is not
 * 1..FUNDING_AMOUNT_MAX, n is not 1..FUNDING_TRANCHES_MAX, the percents do
 * not add up to 100, or a tranche would be 0 fen (out then undefined).
 * Pure. */
int funding_tranche_split(int64_t amount_fen, const int32_t *percents, size_t n, int64_t *out);

/* Which conditions hold for an award now, indexed by Condition value
 * (index 0 unused). Returns 0 or a ccip_db_rc. */
int funding_conditions(ccip_db *db, const char *award_id, int met[6]);

/* A sentence saying what is missing for a condition ("no MIDTERM
 * inspection has found the project COMPLIANT yet: schedule one and record
 * its finding"). Static. */
const char *funding_condition_missing(Ccip__Funding__Condition c);

/* Reads an award's tranches into a (with condition_met as of now).
 * Returns 0 or a ccip_db_rc. */
int funding_tranches_load(ccip_db *db, const char *award_id, ccip_arena *a,
                          Ccip__Funding__Tranche ***out, size_t *n);

/* Reads an award's payments into a. Returns 0 or a ccip_db_rc. */
int funding_payments_load(ccip_db *db, const char *award_id, ccip_arena *a,
                          Ccip__Funding__Payment ***out, size_t *n);

/* Suspends the award's unpaid tranches and cancels its pending payments
 * (reason recorded), or (resume) puts suspended tranches back to planned.
 * Returns 0 or a ccip_db_rc. */
int funding_tranches_suspend(ccip_db *db, const char *award_id, const char *reason);
int funding_tranches_resume(ccip_db *db, const char *award_id);

/* Cancels the award's unpaid tranches and pending payments (termination).
 * Returns 0 or a ccip_db_rc. */
int funding_tranches_cancel(ccip_db *db, const char *award_id, const char *reason);

/* Handlers. */
int funding_payment_request(ccip_command *cmd, ccip_arena *a, void *request);
int funding_payment_approve(ccip_command *cmd, ccip_arena *a, void *request);
int funding_payment_cancel(ccip_command *cmd, ccip_arena *a, void *request);

#endif
