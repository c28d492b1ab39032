/*
 * intake_calls: calls for applications. Staff open a call (kind, year,
 * title, submission window, required document types, who may apply, and for
 * special funds the fund programme and the most one project may request)
 * and may close it early; anyone allowed in reads them.
 *
 * Submissions are accepted from opens_at until before closes_at, and never
 * after staff closed the call. Drafts may be prepared at any time.
 */
#ifndef INTAKE_CALLS_H
#define INTAKE_CALLS_H

#include "intake.h"
#include "ccip_arena.h"

/* Command handlers (see intake_def). */
int intake_call_open(ccip_command *cmd);  /* intake.call.open.v1; emits intake.call.opened.v1 */
int intake_call_close(ccip_command *cmd); /* intake.call.close.v1; emits intake.call.closed.v1 */
int intake_call_get(ccip_command *cmd);   /* intake.call.get.v1 */
int intake_call_list(ccip_command *cmd);  /* intake.call.list.v1 */

/* Loads call `id` (a valid UUID) into *out, allocated from a. lock = 1
 * locks the row FOR UPDATE (inside the command's transaction). Returns 0,
 * INTAKE_REPLIED with NOT_FOUND, or a ccip_db_rc. */
int intake_call_load(ccip_command *cmd, const char *id, int lock, ccip_arena *a,
                     Ccip__Intake__Call **out);

/* Checks that call `id` accepts submissions now (database time). Returns 0,
 * INTAKE_REPLIED with FAILED_PRECONDITION saying when the call opens or when
 * it closed (UTC), or a ccip_db_rc. */
int intake_call_check_window(ccip_command *cmd, const char *id);

#endif
