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
int intake_call_open(ccip_command *cmd, ccip_arena *a,
                     void *request); /* intake.call.open.v1; emits intake.call.opened.v1 */
int intake_call_close(ccip_command *cmd, ccip_arena *a,
                      void *request); /* intake.call.close.v1; emits intake.call.closed.v1 */

/* intake.call.close_due.v1: closes the calls whose window ended, up to 100
 * a run (the next run goes on), as of their closing time; run by intake
 * itself every intake.close_check_seconds. Emits intake.call.closed.v1 for
 * each. */
int intake_call_close_due(ccip_command *cmd, ccip_arena *a, void *request);
int intake_call_get(ccip_command *cmd, ccip_arena *a, void *request);  /* intake.call.get.v1 */
int intake_call_list(ccip_command *cmd, ccip_arena *a, void *request); /* intake.call.list.v1 */

/* Loads call `id` (a valid UUID) into *out, allocated from a. lock = 1
 * locks the row FOR UPDATE (inside the command's transaction). Returns 0,
 * CCIP_REPLIED with NOT_FOUND, or a ccip_db_rc. */
int intake_call_load(ccip_command *cmd, const char *id, int lock, ccip_arena *a,
                     Ccip__Intake__Call **out);

/* The columns intake_call_from_row reads, in this order, from a query on
 * table call (unqualified names: select them from call alone, e.g. in a
 * LATERAL subquery), and their number. */
#define INTAKE_CALL_COLUMNS                                                                        \
    "id, kind, year, title, "                                                                      \
    "(extract(epoch FROM opens_at) * 1000000)::bigint, "                                           \
    "(extract(epoch FROM closes_at) * 1000000)::bigint, "                                          \
    "array_to_string(required_documents, ','), array_to_string(eligible_types, ','), "             \
    "fund_programme_code, max_request_fen, "                                                       \
    "(extract(epoch FROM closed_at) * 1000000)::bigint, close_reason, opened_by, "                 \
    "(extract(epoch FROM opened_at) * 1000000)::bigint, "                                          \
    "(closed_at IS NULL AND now() >= opens_at AND now() < closes_at)"
#define INTAKE_CALL_NCOLUMNS 15

/* The call whose INTAKE_CALL_COLUMNS start at column col0 of row `row` of
 * res, allocated from a; NULL when memory ran out. */
Ccip__Intake__Call *intake_call_from_row(const PGresult *res, int row, int col0, ccip_arena *a);

/* Checks that `call` accepts submissions, given whether the database's now()
 * is before it opens (`before`) or at or after its close (`after`); a call
 * closed by staff has closed_at_us set. Returns 0, or CCIP_REPLIED with
 * FAILED_PRECONDITION saying when the call opens or when it closed (UTC). */
int intake_call_window_fail(ccip_command *cmd, const Ccip__Intake__Call *call, int before,
                            int after);

/* Checks that call `id` accepts submissions now (database time). Returns 0,
 * CCIP_REPLIED with FAILED_PRECONDITION saying when the call opens or when
 * it closed (UTC), or a ccip_db_rc. */
int intake_call_check_window(ccip_command *cmd, const char *id);

#endif
