/*
 * funding_awards: awards to approved special-fund projects.
 *
 * An award is proposed by evaluation's decision (consumed event
 * evaluation.decision.made.v1, outcome DECISION_APPROVED, kind
 * SPECIAL_FUND_PROJECT): amount = the recommended amount, never above the
 * requested one; one award per application, so a redelivered (or repeated)
 * decision proposes nothing new. Staff then confirm it: the amount (at most
 * the request) is committed from the programme-year's budget and its
 * tranches are planned, in one transaction. The commitment is one
 * conditional update of the year's AVAILABLE account row (balance stays >=
 * 0, the year is open), so concurrent confirmations are serialised on that
 * row and can never overspend.
 *
 * Life of an award: PROPOSED -> COMMITTED (confirm) -> COMPLETED (last
 * tranche paid); PROPOSED -> REJECTED; COMMITTED <-> SUSPENDED (staff, or
 * an inspection finding misuse); COMMITTED or SUSPENDED -> TERMINATED
 * (what was not paid is released back to the budget).
 */
#ifndef FUNDING_AWARDS_H
#define FUNDING_AWARDS_H

#include "funding.h"

/* The award row a command works on, read under its row lock. */
typedef struct {
    char id[CCIP_UUID_STRLEN + 1];
    char application_id[CCIP_UUID_STRLEN + 1];
    char programme_code[FUNDING_CODE_MAX + 1];
    int32_t year;
    char category[FUNDING_CODE_MAX + 1];
    char grantee_uscc[CCIP_USCC_LEN + 1];
    int64_t requested_fen;
    int64_t amount_fen;
    Ccip__Funding__AwardStatus status;
    char status_reason[FUNDING_REASON_MAX * 4 + 1];
    int64_t status_changed_at_us;
    int is_signed;
} funding_award_row;

/* Reads award `id` FOR UPDATE into *out. Returns 0, FUNDING_REPLIED
 * (NOT_FOUND naming it) or a ccip_db_rc. */
int funding_award_lock(ccip_command *cmd, const char *id, funding_award_row *out);

/* Checks that tranches of the award may be paid now: it is committed (not
 * proposed, suspended, terminated, rejected or completed) and no upheld ip
 * dispute holds a work it uses. Returns 0, or FUNDING_REPLIED with
 * FAILED_PRECONDITION saying which and what to do, or a ccip_db_rc. */
int funding_award_check_payable(ccip_command *cmd, const funding_award_row *w,
                                int32_t tranche_number);

/* Reads award `id` (or the award of application `application_id` when id
 * is NULL) from the arena. full adds payments, reports, inspections and
 * clawbacks; tranches are always there. Returns 0 with *out set, or NULL
 * when there is none, or a ccip_db_rc. */
int funding_award_load(ccip_db *db, const char *id, const char *application_id, int full,
                       ccip_arena *a, Ccip__Funding__Award **out);

/* Emits `type` (AwardChanged, aggregate "application") for award `id` as it
 * is now, with reason. Returns 0, FUNDING_REPLIED or a ccip_db_rc. */
int funding_award_emit(ccip_command *cmd, const char *type, const char *id, const char *reason);

/* Suspends a committed award (status, tranches, pending payments) and
 * emits funding.award.suspended.v1. Returns 0, FUNDING_REPLIED (not
 * committed) or a ccip_db_rc. */
int funding_award_suspend_locked(ccip_command *cmd, funding_award_row *w, const char *reason);

/* Marks the award COMPLETED when every tranche is paid, emitting
 * funding.award.completed.v1. Returns 0 or a ccip_db_rc. */
int funding_award_complete_if_paid(ccip_command *cmd, const funding_award_row *w);

/* Consumer handlers (evaluation, ip). */
int funding_on_decision(ccip_db *db, const Ccip__Envelope *ev, void *arg);
int funding_on_dispute_upheld(ccip_db *db, const Ccip__Envelope *ev, void *arg);

/* Handlers. */
int funding_award_get(ccip_command *cmd);
int funding_award_list(ccip_command *cmd);
int funding_award_confirm(ccip_command *cmd);
int funding_award_reject(ccip_command *cmd);
int funding_award_sign(ccip_command *cmd);
int funding_award_suspend(ccip_command *cmd);
int funding_award_resume(ccip_command *cmd);
int funding_award_terminate(ccip_command *cmd);
int funding_award_link_work(ccip_command *cmd);

#endif
