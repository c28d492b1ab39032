/*
 * followup_sweep: escalations to the office, and the weekly digest.
 *
 * followup.sweep.run.v1 (run by every replica every followup.sweep_seconds
 * as a ccip_schedule, and by staff at any time) raises, each at most
 * followup.sweep_max per run:
 *   DEADLINE_MISSED          an open task (assigned, in progress, returned)
 *                            at or past the end of its deadline day
 *   PROGRESS_REPORT_OVERDUE  an open task whose interval asked for a
 *                            progress report that did not come
 *   MILESTONE_LATE           a milestone of an active project past the end of
 *                            its planned day and not reached
 *   MILESTONE_AT_RISK        ... due within 30 days without any progress
 *   MONTHLY_REPORT_MISSING   a month of an active project whose report was not
 *                            filed by its due time
 * and emits followup.task.escalated.v1 / followup.project.escalated.v1 for
 * each. Each kind is one statement that reads its candidates from a partial
 * index (sql/0001_followup.sql), inserts the escalations with ON CONFLICT
 * DO NOTHING on (subject, kind, due time), marks the rows escalated for that
 * due time, and returns only the escalations it inserted. So a subject is
 * escalated once per due time: two sweeps at once (replicas, staff) both
 * try, the unique key lets one insert and the other finds the row and
 * raises nothing; a later sweep does not see the row at all. A new
 * deadline (a granted extension) is a new due time: missed too, it is
 * escalated again.
 *
 * followup.task.publish_digest.v1 (every followup.digest_check_seconds)
 * publishes the digest of the current ISO week in Beijing once: every open
 * task (not accepted or closed) as on time, due within 7 days or overdue,
 * in events of at most FOLLOWUP_DIGEST_PART tasks. The week's row in
 * `digest` (its primary key) makes it once per week whatever runs it.
 */
#ifndef FOLLOWUP_SWEEP_H
#define FOLLOWUP_SWEEP_H

#include "followup.h"

/* Tasks per digest event: 2,000 entries of at most ~700 bytes stay well
 * under an event's 1 MiB. */
#define FOLLOWUP_DIGEST_PART 2000

int followup_sweep_run(ccip_command *cmd, ccip_arena *a, void *request);
int followup_digest_publish(ccip_command *cmd, ccip_arena *a, void *request);

/* Columns of an escalation, from FOLLOWUP_ESCALATION_FROM, as
 * followup_escalation_from_row reads them: its row, then its subject's
 * title and (a milestone) the day it was reached, from which the sentence
 * for the office is composed in Beijing time. */
#define FOLLOWUP_ESCALATION_COLUMNS                                                                \
    "e.id, e.kind, coalesce(e.task_id::text, ''), coalesce(e.project_id::text, ''), "              \
    "coalesce(e.milestone_id::text, ''), coalesce(to_char(e.month, 'YYYY-MM'), ''), " CCIP_SQL_US( \
        "e.due_at") ", " CCIP_SQL_US("e.raised_at") ", e.raised_by, coalesce(et.title, em.title, " \
                                                    "ep.title, ''), "                              \
                                                    "coalesce(em.reached_on::text, '')"
#define FOLLOWUP_ESCALATION_NCOLUMNS 11
#define FOLLOWUP_ESCALATION_FROM                                                                   \
    "escalation e LEFT JOIN task et ON et.id = e.task_id LEFT JOIN milestone em ON em.id = "       \
    "e.milestone_id LEFT JOIN project ep ON ep.id = e.project_id AND e.milestone_id IS NULL"

/* An escalation from row `row`, columns from col0 on (arena copies), with
 * its sentence. NULL when memory ran out. */
Ccip__Followup__Escalation *followup_escalation_from_row(const PGresult *res, int row, int col0,
                                                         ccip_arena *a);

/* Raises a MILESTONE_LATE escalation for a milestone reported reached on
 * `reached_on`, after its planned day (due before due_us), unless one was
 * raised for that due time already (the sweep's unique key), and emits
 * followup.project.escalated.v1. *raised is 1 when it raised one. Returns 0,
 * CCIP_REPLIED or a ccip_db_rc. */
int followup_escalate_reached_late(ccip_command *cmd, ccip_arena *a, const char *project_id,
                                   const char *milestone_id, int64_t due_us, int *raised);

#endif
