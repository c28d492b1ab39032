/*
 * followup_tasks: the life of an entrusted task, one handler per step.
 *
 *   office (or admin)  create; grant or refuse an extension; accept or
 *                      return the result; close
 *   the lead unit      acknowledge; report progress (text, attachments) as
 *                      often as it likes; ask for an extension; report
 *                      completion
 *
 * ASSIGNED -acknowledge-> IN_PROGRESS -report_completion-> COMPLETION_REPORTED
 * -accept-> ACCEPTED -close-> CLOSED; COMPLETION_REPORTED -return-> RETURNED,
 * where work goes on as in IN_PROGRESS; the office may close a task in any
 * state (withdrawing it, with its reasons). A step out of order is refused
 * with FAILED_PRECONDITION saying what the task waits for.
 *
 * Every step locks the task's row first, so steps of one task never
 * interleave, and appends a task_step row (the history); a deadline moved
 * by a granted extension appends a task_deadline row, so the history keeps
 * every deadline the task had. Each step emits its followup.task.*.v1
 * event and replies with the whole task (followup_task_read.h).
 */
#ifndef FOLLOWUP_TASKS_H
#define FOLLOWUP_TASKS_H

#include "followup.h"

/* Handlers (followup.proto names their requests and replies). */
int followup_task_create(ccip_command *cmd, ccip_arena *a, void *request);
int followup_task_acknowledge(ccip_command *cmd, ccip_arena *a, void *request);
int followup_task_report_progress(ccip_command *cmd, ccip_arena *a, void *request);
int followup_task_request_extension(ccip_command *cmd, ccip_arena *a, void *request);
int followup_task_grant_extension(ccip_command *cmd, ccip_arena *a, void *request);
int followup_task_refuse_extension(ccip_command *cmd, ccip_arena *a, void *request);
int followup_task_report_completion(ccip_command *cmd, ccip_arena *a, void *request);
int followup_task_accept(ccip_command *cmd, ccip_arena *a, void *request);
int followup_task_return(ccip_command *cmd, ccip_arena *a, void *request);
int followup_task_close(ccip_command *cmd, ccip_arena *a, void *request);

/* Columns of a task row as followup_task_from_row reads them, from `task t`. */
#define FOLLOWUP_TASK_COLUMNS                                                                                                                                                                                                                                                                                          \
    "t.id::text, t.title, t.instruction, t.source_kind, t.source_ref, t.lead_unit, "                                                                                                                                                                                                                                   \
    "array_to_string(t.co_organisers, ','), t.responsible, t.priority, t.report_interval_days, "                                                                                                                                                                                                                       \
    "t.deadline_date::text, " CCIP_SQL_US("t.deadline_at") ", t.status, " CCIP_SQL_US(                                                                                                                                                                                                                                 \
        "t.created_at") ", t.created_by, " CCIP_SQL_US("t.acknowledged_at") ", " CCIP_SQL_US("t."                                                                                                                                                                                                                      \
                                                                                             "las"                                                                                                                                                                                                                     \
                                                                                             "t_"                                                                                                                                                                                                                      \
                                                                                             "rep"                                                                                                                                                                                                                     \
                                                                                             "ort"                                                                                                                                                                                                                     \
                                                                                             "_a"                                                                                                                                                                                                                      \
                                                                                             "t") ", " CCIP_SQL_US("t.report_due_at") ", " CCIP_SQL_US("t.completion_reported_at") ", " CCIP_SQL_US("t.accepted_at") ", " CCIP_SQL_US("t.closed_at") ", t.close_reason, EXISTS (SELECT 1 FROM task_extension x WHERE " \
                                                                                                                                                                                                                                                     "x.task_id = t.id AND x.status = 'EXTENSION_PENDING')"
#define FOLLOWUP_TASK_NCOLUMNS 23

/* A task from row `row`, columns from col0 on, its timeliness as of
 * now_us; strings copied into the arena, get-only lists empty. NULL when
 * memory ran out. */
Ccip__Followup__Task *followup_task_from_row(const PGresult *res, int row, int col0, int64_t now_us,
                                             ccip_arena *a);

/* 1 when a task in this status still owes work by its deadline (assigned,
 * in progress, returned), the sweep's and the digest's "open". */
int followup_task_open(Ccip__Followup__TaskStatus status);

#endif
