/*
 * funding_awards: awards to approved special-fund projects.
 *
 * An award is proposed by evaluation's decision (consumed event
 * evaluation.decision.made.v1, outcome DECISION_APPROVED, kind
 * SPECIAL_FUND_PROJECT): amount = the recommended amount, never above the
 * requested one; one award per application, so a redelivered (or repeated)
 * decision proposes nothing new. Staff then confirm it: the amount (at most
 * the request) is committed from the programme-year's budget and its
 * tranches are planned, in one transaction (funding_confirm.h: many
 * confirmations at once, serialised on the year's AVAILABLE account row, so
 * that the budget can never be overspent).
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

/* The columns of an award as funding_award_from_result reads them, from
 * `award w` (more columns may follow them). */
#define FUNDING_AWARD_COLUMNS                                                                      \
    "w.id, w.application_id, w.case_id, w.programme_code, w.year, w.category, "                    \
    "w.grantee_uscc, w.grantee_name, w.title, w.requested_fen, "                                   \
    "w.recommended_fen, w.amount_fen, w.status, w.note, (extract(epoch FROM "                      \
    "w.proposed_at) * 1000000)::bigint, (extract(epoch FROM w.confirmed_at) * "                    \
    "1000000)::bigint, coalesce(w.confirmed_by, ''), (extract(epoch FROM "                         \
    "w.signed_at) * 1000000)::bigint, coalesce(w.signed_by, ''), "                                 \
    "w.status_reason, (extract(epoch FROM w.status_changed_at) * "                                 \
    "1000000)::bigint, coalesce((SELECT string_agg(k.work_id, ' ' ORDER BY "                       \
    "k.work_id) FROM award_work k WHERE k.award_id = w.id), ''), "                                 \
    "coalesce((SELECT string_agg('ip dispute ' || h.dispute_id || ' upheld on "                    \
    "work ' || h.work_id, '; ' ORDER BY h.dispute_id) FROM award_work k JOIN "                     \
    "work_hold h ON h.work_id = k.work_id WHERE k.award_id = w.id AND h.released_at IS NULL), '')"

/* How many columns FUNDING_AWARD_COLUMNS has. */
#define FUNDING_AWARD_NCOLUMNS 23

/* Reads row r of a result that starts with FUNDING_AWARD_COLUMNS into an
 * award from the arena, without its figures and lists (tranches, ...).
 * Returns it, or NULL when the arena ran out of memory. */
Ccip__Funding__Award *funding_award_from_result(const PGresult *res, int r, ccip_arena *a);

/* Answers FAILED_PRECONDITION: award w (its id, status, status_reason and
 * status_changed_at_us are used) is not in a status that allows `action`
 * ("confirmed"); `allowed` names the statuses that do. Returns
 * CCIP_REPLIED. */
int funding_award_wrong_status(ccip_command *cmd, const funding_award_row *w, const char *action,
                               const char *allowed);

/* Reads award `id` FOR UPDATE into *out. Returns 0, CCIP_REPLIED
 * (NOT_FOUND naming it) or a ccip_db_rc. */
int funding_award_lock(ccip_command *cmd, const char *id, funding_award_row *out);

/* Checks that tranches of the award may be paid now: it is committed (not
 * proposed, suspended, terminated, rejected or completed) and no upheld ip
 * dispute holds a work it uses. Returns 0, or CCIP_REPLIED with
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
 * is now, with reason. Returns 0, CCIP_REPLIED or a ccip_db_rc. */
int funding_award_emit(ccip_command *cmd, const char *type, const char *id, const char *reason);

/* Suspends a committed award (status, tranches, pending payments) and
 * emits funding.award.suspended.v1. Returns 0, CCIP_REPLIED (not
 * committed) or a ccip_db_rc. */
int funding_award_suspend_locked(ccip_command *cmd, funding_award_row *w, const char *reason);

/* Marks the award COMPLETED when every tranche is paid, emitting
 * funding.award.completed.v1. Returns 0 or a ccip_db_rc. */
int funding_award_complete_if_paid(ccip_command *cmd, const funding_award_row *w);

/* Consumer handlers (evaluation, ip). */
int funding_on_decision(ccip_db *db, const Ccip__Envelope *ev, void *arg);
int funding_on_dispute_upheld(ccip_db *db, const Ccip__Envelope *ev, void *arg);
/* ip.dispute.lifted.v1: the freeze was lifted; the dispute's hold is
 * released (kept, with when and why). */
int funding_on_dispute_lifted(ccip_db *db, const Ccip__Envelope *ev, void *arg);

/* Handlers (confirm: funding_confirm.h). */
int funding_award_get(ccip_command *cmd, ccip_arena *a, void *request);
int funding_award_list(ccip_command *cmd, ccip_arena *a, void *request);
/* funding.award.{reject,sign,suspend,resume,terminate}.v1, told apart by
 * the command's type. */
int funding_award_act(ccip_command *cmd, ccip_arena *a, void *request);
int funding_award_link_work(ccip_command *cmd, ccip_arena *a, void *request);

#endif
