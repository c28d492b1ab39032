/*
 * followup_task_read: what the office, the center and the districts read
 * of the tasks: one task with its whole history, lists, an attachment's
 * content, and the board of open tasks by timeliness (on time, due within 7
 * days, overdue).
 *
 * A district (role district, actor "district:<code>") reads only the tasks
 * it leads or co-organises; office, admin, staff and services read all.
 */
#ifndef FOLLOWUP_TASK_READ_H
#define FOLLOWUP_TASK_READ_H

#include "followup.h"

int followup_task_get(ccip_command *cmd, ccip_arena *a, void *request);
int followup_task_list(ccip_command *cmd, ccip_arena *a, void *request);
int followup_task_attachment_get(ccip_command *cmd, ccip_arena *a, void *request);
int followup_task_board(ccip_command *cmd, ccip_arena *a, void *request);

/* Reads task `id` with every deadline, report (attachments without
 * content), extension, step and escalation into *out (arena). Returns 0,
 * CCIP_REPLIED (NOT_FOUND, out of memory) or a ccip_db_rc. */
int followup_task_load_full(ccip_command *cmd, const char *id, ccip_arena *a,
                            Ccip__Followup__Task **out);

/* SQL: the timeliness of task row t as the name of a Timeliness value,
 * given $now and $soon (now + FOLLOWUP_DUE_SOON_DAYS) as UTC microseconds
 * parameters: the set-based form of followup_task_timeliness, for the
 * board and the digest, which count and order whole sets of tasks. */
#define FOLLOWUP_SQL_TIMELINESS(now, soon)                                                         \
    "CASE WHEN t.status = 'TASK_COMPLETION_REPORTED' THEN CASE WHEN t.completion_reported_at < "   \
    "t.deadline_at THEN 'ON_TIME' ELSE 'OVERDUE' END WHEN t.deadline_at <= " CCIP_SQL_TS(          \
        now) " THEN 'OVERDUE' WHEN t.deadline_at <= " CCIP_SQL_TS(soon) " THEN 'DUE_SOON' ELSE "   \
                                                                        "'ON_TIME' "               \
                                                                        "END"

/* SQL: the statuses of an open task (not accepted, not closed). */
#define FOLLOWUP_SQL_TASK_OPEN                                                                     \
    "('TASK_ASSIGNED', 'TASK_IN_PROGRESS', 'TASK_COMPLETION_REPORTED', 'TASK_RETURNED')"

/* Columns of a digest entry, from `task t`, $now and $soon as above; the
 * timeliness is named tl, for ordering. */
#define FOLLOWUP_DIGEST_COLUMNS(now, soon)                                                         \
    "t.id::text, t.title, t.lead_unit, t.deadline_date::text, " CCIP_SQL_US(                       \
        "t.deadline_at") ", " FOLLOWUP_SQL_TIMELINESS(now, soon) " AS tl, t.status, t.priority, "  \
                                                                 "t.responsible"

/* A digest entry from row `row` (FOLLOWUP_DIGEST_COLUMNS), arena copies. */
Ccip__Followup__DigestEntry *followup_digest_entry_from_row(const PGresult *res, int row,
                                                            ccip_arena *a);

#endif
