/*
 * intake_view: the status an applicant sees and the timeline behind it,
 * kept apart from the internal status (tables applicant_view and
 * applicant_timeline; the timeline is append-only).
 *
 * It is fed by intake's own transitions (intake_view_transition, called by
 * intake_history_append in the same transaction) and by the events of the
 * services that come after intake, consumed exactly once through
 * intake_view_apply (intake_def subscribes it to these types):
 *
 *   evaluation.review.started.v1          IN_REVIEW     the expert review has started
 *   evaluation.investigation.scheduled.v1 IN_REVIEW     an on-site investigation is scheduled
 *   evaluation.review.completed.v1        IN_REVIEW     the review is complete; a decision follows
 *   evaluation.application.approved.v1    APPROVED      approved
 *   evaluation.application.declined.v1    NOT_APPROVED  not approved
 *   funding.award.granted.v1              FUNDED        funds have been awarded
 *   funding.award.signed.v1               FUNDED        the award agreement has been signed
 *   funding.award.suspended.v1            FUNDED        payments are on hold
 *   funding.award.resumed.v1              FUNDED        payments have resumed
 *   funding.award.completed.v1            FUNDED        all funds have been paid
 *   funding.award.rejected.v1             NOT_FUNDED    funding was not granted
 *   funding.award.terminated.v1           FUNDING_ENDED the award was terminated
 *
 * The contract with those producers is the envelope only, not their
 * payloads: an event about an application carries aggregate_type
 * "application" and aggregate_id = intake's application id. Events about
 * other aggregates, or about applications intake does not know, are skipped
 * (logged); other event types only move the cursor. The view's status
 * follows the latest event by occurred_at, so interleaved streams cannot
 * move it backwards; every event still gets its timeline entry.
 */
#ifndef INTAKE_VIEW_H
#define INTAKE_VIEW_H

#include "intake.h"
#include "intake_validate.h"
#include "ccip_arena.h"

/* The consumer handler of the event types above (a ccip_consumer_apply_fn):
 * records the event in the view of the application it is about, inside the
 * consumer's transaction; skips (and logs) an event about another aggregate
 * or an unknown application, and ignores other types. Returns 0 or a
 * ccip_db_rc. */
int intake_view_apply(ccip_db *db, const Ccip__Envelope *ev, void *arg);

/* Room for a view message: a fixed sentence and a reason of
 * INTAKE_REASON_MAX characters of up to 4 bytes. */
#define INTAKE_VIEW_MESSAGE_MAX (INTAKE_REASON_MAX * 4 + 256)

/* What the applicant sees after a transition from `from` (NULL: created) to
 * the internal status `to` for `reason` (may be NULL): sets *status (static
 * text, e.g. "APPLICANT_RECEIVED") and writes the sentence into message.
 * Returns 0, or -1 when `to` is not a status. */
int intake_view_entry(const char *from, const char *to, const char *reason, const char **status,
                      char *message, size_t len);

/* Records in the applicant's view that application app_id went from `from`
 * (NULL: created) to the internal status `to`, for `reason`. Runs inside the
 * caller's transaction. Returns 0 or a ccip_db_rc. */
int intake_view_transition(ccip_db *db, const char *app_id, const char *from, const char *to,
                           const char *reason);

/* Loads the view and its timeline (oldest first) into *out, allocated from
 * a. Returns 0 or a ccip_db_rc; *out is NULL when memory ran out. */
int intake_view_load(ccip_db *db, const char *app_id, ccip_arena *a,
                     Ccip__Intake__ApplicantView **out);

/* The applicant status named `name` ("APPLICANT_IN_REVIEW"), or
 * UNSPECIFIED. */
Ccip__Intake__ApplicantStatus intake_view_status(const char *name);

#endif
