/*
 * evaluation_tasks: the open investigations and reviews seen as tasks with
 * due dates. Staff list every open task (or the overdue ones); an expert or
 * an agency lists its own. A sweep, run periodically, publishes
 * evaluation.task.overdue.v1 once for every open task past its due date and
 * evaluation.task.reminder.v1 once for every task due within
 * evaluation.reminder_days. The service runs it itself every
 * evaluation.sweep_seconds (a ccip_schedule: one run per period however many
 * replicas), and staff may run it at any time; staff reassign overdue tasks
 * (evaluation.assignment.reassign.v1).
 */
#ifndef EVALUATION_TASKS_H
#define EVALUATION_TASKS_H

#include "evaluation.h"

/* Most tasks one sweep announces of each kind; the next sweep goes on. */
#define EVALUATION_SWEEP_MAX 1000

/* Publishes `type` (evaluation.task.assigned.v1 when a task is made,
 * evaluation.task.ended.v1 when an open one ends: done, declined or
 * reassigned) with task task_id of `kind` as it now stands, in the
 * command's transaction, aggregate "task". notify makes the expert's and
 * the agency's inbox items from them. Returns 0, CCIP_REPLIED (the task is
 * not there, or out of memory) or a ccip_db_rc. */
int evaluation_task_publish(ccip_command *cmd, Ccip__Evaluation__SubjectKind kind,
                            const char *task_id, const char *type);

/* evaluation.task.list.v1 and evaluation.task.sweep.v1. */
int evaluation_task_list(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_task_sweep(ccip_command *cmd, ccip_arena *a, void *request);

#endif
