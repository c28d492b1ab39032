/*
 * intake_applications: applications, from draft to decision.
 *
 *   DRAFT -> SUBMITTED -> ACCEPTED | RETURNED | REJECTED
 *   RETURNED -> (edit) -> SUBMITTED
 *   DRAFT | SUBMITTED | RETURNED -> WITHDRAWN   (by the applicant, until a decision)
 *
 * Rules:
 *  - only the applicant organisation's own users (role applicant, actor id
 *    "org:<USCC>") draft, edit, add or remove documents, submit and
 *    withdraw; only staff accept, return and reject; anyone else gets
 *    PERMISSION_DENIED;
 *  - one live (DRAFT, SUBMITTED, ACCEPTED or RETURNED) application per
 *    organisation per call: a partial unique index, and ALREADY_EXISTS
 *    naming the live one;
 *  - the applicant must be eligible for the call (its organisation type);
 *  - requested amount (special funds): positive and at most the call's
 *    maximum; other kinds request nothing;
 *  - a first submission only while the call accepts submissions (the error
 *    says when it opens or when it closed, in UTC); a returned application
 *    was submitted in time and may be submitted again after correction even
 *    after the close;
 *  - before a submission: title, summary, the kind's facts and every
 *    document type the call requires (the error lists what is missing);
 *  - an application is accepted only when staff have verified its
 *    organisation; return and reject need a reason;
 *  - every transition is appended to the history (intake_history) and
 *    reflected in the applicant's view (intake_view); submit, accept,
 *    return, reject and withdraw publish events.
 *
 * Applicants see their applications without the internal status and
 * history: their status is the applicant view.
 */
#ifndef INTAKE_APPLICATIONS_H
#define INTAKE_APPLICATIONS_H

#include "ccip_id.h"
#include "intake.h"
#include "ccip_arena.h"

/* Command handlers (see intake_def). */
int intake_application_draft(ccip_command *cmd, ccip_arena *a, void *request);
int intake_application_update(ccip_command *cmd, ccip_arena *a, void *request);
/* intake.application.{submit,withdraw,accept,return,reject}.v1, told apart by
 * the command's type; each emits intake.application.<submitted, withdrawn,
 * accepted, returned, rejected>.v1. */
int intake_application_act(ccip_command *cmd, ccip_arena *a, void *request);
int intake_application_get(ccip_command *cmd, ccip_arena *a, void *request);

/* Emits intake.application.submitted.v1 for app as it now stands (the
 * submit command and the one-step filing both end with it). Returns 0 or a
 * ccip_db_rc. */
int intake_application_emit_submitted(ccip_command *cmd, const Ccip__Intake__Application *app);
int intake_application_list(ccip_command *cmd, ccip_arena *a, void *request);

/* For a draft or a filing: the caller's organisation into uscc, after
 * checking that applicant_uscc (when given) is that organisation and that
 * call_id is an id. `doing` names the command in the refusal ("draft",
 * "file"). Returns 0, or CCIP_REPLIED (INVALID_ARGUMENT, PERMISSION_DENIED
 * "the caller acts for organisation ... and may not draft an application for
 * organisation ..."). */
int intake_application_applicant(ccip_command *cmd, const char *applicant_uscc, const char *call_id,
                                 const char *doing, char uscc[CCIP_USCC_LEN + 1]);

/* The row of an application that decides what may be done with it. */
typedef struct {
    char id[CCIP_UUID_STRLEN + 1];      /* application id */
    char call_id[CCIP_UUID_STRLEN + 1]; /* its call */
    char uscc[CCIP_USCC_LEN + 1];       /* its organisation */
    char status[16];                    /* internal status, e.g. "DRAFT" */
} intake_app_row;

/* Reads application `id` (any string: checked here) into *row, locking it
 * FOR UPDATE when `lock` is set (inside the command's transaction), and
 * checks that the caller may act on it: the owner organisation's applicant
 * always, staff and services when `staff_may` is set. Returns 0,
 * CCIP_REPLIED (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED) or a
 * ccip_db_rc. */
int intake_application_row(ccip_command *cmd, const char *id, int lock, int staff_may,
                           intake_app_row *row);

/* Checks that the application may be changed by its applicant (DRAFT or
 * RETURNED); `doing` completes "... cannot be <doing>". Returns 0 or
 * CCIP_REPLIED with FAILED_PRECONDITION. */
int intake_application_editable(ccip_command *cmd, const intake_app_row *row, const char *doing);

/* Checks content for `call` (intake_validate_content) and resolves its
 * district: the one given, or the organisation's; writes the district code
 * into district. Returns 0 or CCIP_REPLIED with INVALID_ARGUMENT. */
int intake_application_check_content(ccip_command *cmd, const Ccip__Intake__ApplicationContent *c,
                                     const Ccip__Intake__Call *call,
                                     const Ccip__Intake__Organisation *org, char district[8]);

/* Checks that the organisation may apply to the call (its type is
 * eligible). Returns 0 or CCIP_REPLIED with FAILED_PRECONDITION. */
int intake_application_check_eligible(ccip_command *cmd, const Ccip__Intake__Call *call,
                                      const Ccip__Intake__Organisation *org);

/* Loads the whole application: content, facts, documents, history and
 * applicant view, allocated from a. Returns 0, CCIP_REPLIED (NOT_FOUND,
 * out of memory) or a ccip_db_rc. */
int intake_application_load(ccip_command *cmd, const char *id, ccip_arena *a,
                            Ccip__Intake__Application **out);

/* Loads application id and replies with it as the caller may see it
 * (applicants without the internal status and history). Returns 0,
 * CCIP_REPLIED or a ccip_db_rc. */
int intake_application_reply(ccip_command *cmd, const char *id, ccip_arena *a);

#endif
