/*
 * stats_reports: quarterly reports of the roster entries.
 *
 * An operator saves its report for (roster entry, quarter) as a draft, as
 * often as it likes, then submits it; the district reviews it and the
 * center accepts or returns it (stats_approval). Rules, each enforced here
 * and tested in tests/integration/test_stats.c:
 *
 *  - only an entry on the roster for that quarter reports for it, only its
 *    operator saves and submits, and only for a quarter that has started;
 *  - a value must be for an indicator of the report's catalogue version
 *    that the entry's kind reports, in that indicator's unit: otherwise
 *    INVALID_ARGUMENT naming the indicator, and nothing is written;
 *  - submission runs the validation rules (stats_validation): errors block
 *    it, warnings block it until the value carries a written explanation;
 *  - a quarter closes for entry stats.lock_days after it ends; staff may
 *    grant one entry a lock exception for a limited time;
 *  - an accepted report changes only by stats.report.correct.v1 (staff,
 *    with a reason): the database's triggers write the audit record (old,
 *    new, actor, time, reason) of every changed value and refuse a change
 *    without one, so the audit trail reproduces every value's history.
 */
#ifndef STATS_REPORTS_H
#define STATS_REPORTS_H

#include "stats.h"
#include "stats_roster.h"
#include "stats_validation.h"

/* A report as the rules need it, with its roster entry. */
typedef struct {
    char id[40];
    char quarter[8];
    int version;                   /* catalogue version it is collected with */
    char status[24];               /* DRAFT, SUBMITTED, ... */
    int64_t first_submitted_at_us; /* 0 = never submitted */
    stats_roster_row roster;
} stats_report_row;

/* Reads report `id` (FOR UPDATE when lock) with its roster entry and checks
 * that the caller may see it: an operator only its own entries' reports, a
 * district office only its district's. Replies INVALID_ARGUMENT (not a
 * report id), NOT_FOUND or PERMISSION_DENIED and returns CCIP_REPLIED;
 * else 0 or a ccip_db_rc. */
int stats_report_row_get(ccip_command *cmd, const char *id, int lock, const stats_caller *caller,
                         stats_report_row *row);

/* Moves the report to status `to`, recording the transition (actor, reason,
 * time). Returns 0 or a ccip_db_rc. */
int stats_report_transition(ccip_command *cmd, const stats_report_row *row, const char *to,
                            const char *reason);

/* Runs the validation rules over the report's stored values. Sets *out to a
 * malloc'd array (caller frees; may be NULL when *n is 0) and *n. Returns 0,
 * CCIP_REPLIED or a ccip_db_rc. */
int stats_report_findings(ccip_command *cmd, const stats_report_row *row, stats_finding **out,
                          size_t *n);

/* Emits a stats.report.*.v1 event about the report in its new status. */
int stats_report_emit(ccip_command *cmd, const stats_report_row *row, const char *type,
                      const char *status, const char *reason);

/* Replies with the report (values, history, timeliness) and its findings.
 * Returns 0, CCIP_REPLIED or a ccip_db_rc. */
int stats_report_reply(ccip_command *cmd, const char *id);

/* Timeliness of a first submission at first_us (0 = none) for quarter q. */
Ccip__Stats__Timeliness stats_report_timeliness(const ccip_command *cmd, stats_quarter q,
                                                int64_t first_us);

/* The commands. */
int stats_report_save_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_report_submit_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_report_get_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_report_list_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_report_correct_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_report_audit_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_lock_grant_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
