/*
 * evaluation_assignments: who investigates and who reviews a case (tables
 * investigation and review), as proposals (dry run) or assignments.
 *
 * An assignment fills the case's empty slots: the agency, when no
 * investigation is live, and the panel up to the score sheet's panel size.
 * Staff's picks come first: a pick with a detected conflict needs a written
 * override reason, recorded with the task and in the case log; a pick at its
 * load cap is refused (caps are never overridden). The algorithm of
 * evaluation_assign.h fills the rest: agencies serving the case's district,
 * experts with one of the sheet's fields of expertise, found page by page
 * through the rank indexes (agency_district_rank, expert_field_rank), never
 * by scanning a register.
 *
 * Load caps hold under concurrency: the case row is locked first, and each
 * chosen agency and expert gets `load = load + 1 WHERE load < cap` in id
 * order (agency first); when that finds the cap reached by a concurrent
 * assignment, the whole transaction runs again on fresh data. The CHECK
 * constraints load <= capacity are the last line of defence.
 *
 * A task that is declined (by its expert or agency), reassigned (by staff),
 * or given up because of a declared conflict frees its seat, and the seat is
 * filled again at once by the algorithm (evaluation_assign_refill); whoever
 * left a case is never proposed for it again.
 */
#ifndef EVALUATION_ASSIGNMENTS_H
#define EVALUATION_ASSIGNMENTS_H

#include "evaluation.h"
#include "ccip_arena.h"
#include "evaluation_cases.h"

/* evaluation.assignment.propose.v1, .make.v1, .reassign.v1, .decline.v1 */
int evaluation_assignment_propose(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_assignment_make(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_assignment_reassign(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_assignment_decline(ccip_command *cmd, ccip_arena *a, void *request);

/* Fills the empty slots of case c (locked by the caller, in its
 * transaction) by the algorithm alone. When reply is not NULL the newly
 * assigned are described in it, allocated from a (both may be NULL).
 * Returns 0, CCIP_REPLIED (an error reply was set) or a ccip_db_rc. */
int evaluation_assign_refill(ccip_command *cmd, const evaluation_case_row *c, ccip_arena *a,
                             Ccip__Evaluation__AssignReply *reply);

/* Ends an open task: review or investigation `task_id` of `subject_id`
 * gets `status` (TASK_DECLINED, TASK_REASSIGNED) and the reason, the
 * subject's load goes down by one and evaluation.task.ended.v1 is
 * published (nothing, when the task was not open). Returns 0, CCIP_REPLIED
 * or a ccip_db_rc. */
int evaluation_task_release(ccip_command *cmd, Ccip__Evaluation__SubjectKind kind,
                            const char *task_id, const char *subject_id, const char *status,
                            const char *reason);

#endif
