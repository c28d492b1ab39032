/*
 * intake_history: the append-only history of every application's
 * transitions: from which status to which, who (actor id and role), when,
 * why, and the command that did it. The table refuses UPDATE, DELETE and
 * TRUNCATE with a trigger (sql/0001_intake.sql), so a row once committed
 * stays as written.
 */
#ifndef INTAKE_HISTORY_H
#define INTAKE_HISTORY_H

#include "intake.h"
#include "ccip_arena.h"

/* Appends the transition of application app_id from `from` (NULL when the
 * draft is created) to `to`, by the command's caller, with `reason` (may be
 * ""), inside the command's transaction, and updates what the applicant
 * sees (intake_view). Returns 0 or a ccip_db_rc. */
int intake_history_append(ccip_command *cmd, const char *app_id, const char *from, const char *to,
                          const char *reason);

/* Loads the history of app_id, oldest first, into *out (n entries),
 * allocated from a. Returns 0, CCIP_REPLIED (out of memory, with
 * cmd's status set) or a ccip_db_rc. */
int intake_history_load(ccip_command *cmd, const char *app_id, ccip_arena *a,
                        Ccip__Intake__Transition ***out, size_t *n);

#endif
