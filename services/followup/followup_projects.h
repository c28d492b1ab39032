/*
 * followup_projects: the city's key projects.
 *
 * Staff (office, admin) register a key project of a year from a granted
 * funding award or an active designation that followup knows from those
 * services' events, or enter one funded elsewhere; its milestones lie
 * within its period. The owner organisation files one report a month: a
 * second report for a month already reported is refused, unless it says it
 * is a correction and why: then it is recorded as a new version and the
 * report it corrects is kept, no longer current (the rule "replaces
 * nothing" holds either way). A report that says a milestone was reached
 * after its planned day raises a MILESTONE_LATE escalation at once.
 *
 * A project's state is computed when it is read, from its milestones and
 * what funding and evaluation said (followup_project_state): LATE,
 * AT_RISK or ON_TRACK; the board counts and lists active projects by it.
 * A district (role district) reads the projects of its district, an owner
 * (role grantee, "org:<USCC>") its own.
 */
#ifndef FOLLOWUP_PROJECTS_H
#define FOLLOWUP_PROJECTS_H

#include "followup.h"

int followup_project_register(ccip_command *cmd, ccip_arena *a, void *request);
int followup_project_add_milestone(ccip_command *cmd, ccip_arena *a, void *request);
int followup_project_file_report(ccip_command *cmd, ccip_arena *a, void *request);
int followup_project_close(ccip_command *cmd, ccip_arena *a, void *request);
int followup_project_get(ccip_command *cmd, ccip_arena *a, void *request);
int followup_project_list(ccip_command *cmd, ccip_arena *a, void *request);
int followup_project_board(ccip_command *cmd, ccip_arena *a, void *request);

/* Columns of a project row, from `project p`, as followup_project_from_row
 * reads them. */
#define FOLLOWUP_PROJECT_COLUMNS                                                                   \
    "p.id::text, p.year, p.source, coalesce(p.award_id::text, ''), "                               \
    "coalesce(p.designation_id::text, ''), p.title, p.owner_uscc, p.owner_name, p.district_code, " \
    "p.planned_investment_fen, p.start_date::text, p.end_date::text, p.description, p.status, "    \
    "p.investment_completed_fen, coalesce(to_char(p.last_reported_month, 'YYYY-MM'), ''), "        \
    "" CCIP_SQL_US("p.registered_at") ", p.registered_by, " CCIP_SQL_US(                           \
        "p.closed_at") ", "                                                                        \
                       "p.close_reason"
#define FOLLOWUP_PROJECT_NCOLUMNS 20

/* A project from row `row`, columns from col0 on (arena copies), without
 * milestones, state or the get-only parts. NULL when memory ran out. */
Ccip__Followup__Project *followup_project_from_row(const PGresult *res, int row, int col0,
                                                   ccip_arena *a);

/* Columns of a milestone row, from `milestone m`. */
#define FOLLOWUP_MILESTONE_COLUMNS                                                                 \
    "m.id::text, m.seq, m.title, m.planned_date::text, " CCIP_SQL_US(                              \
        "m.due_at") ", m.progress_percent, coalesce(m.reached_on::text, ''), " CCIP_SQL_US("m."    \
                                                                                           "progr" \
                                                                                           "ess_"  \
                                                                                           "at")
#define FOLLOWUP_MILESTONE_NCOLUMNS 8

/* A milestone from row `row`, columns from col0 on; `late` as of now_us.
 * NULL when memory ran out. */
Ccip__Followup__Milestone *followup_milestone_from_row(const PGresult *res, int row, int col0,
                                                       int64_t now_us, ccip_arena *a);

/* Makes the case of project `project_id` (its award's or designation's
 * root id, common/ccip_command.h "cases") the correlation of the command's
 * events from now on, or none when the project is in no known case (a
 * staff-entered project, or a source followup learned of before it kept
 * cases). Returns 0, CCIP_REPLIED (a malformed root id: INTERNAL) or the
 * ccip_db_rc of a failed statement. */
int followup_project_case(ccip_command *cmd, const char *project_id);

/* Emits followup.project.source_changed.v1 for every project following
 * award `award_id` (or designation `designation_id`; pass "" for the
 * other), with its state after the change, from a consumer's transaction
 * caused by `cause`. Returns 0 or a ccip_outbox_rc / ccip_db_rc. */
int followup_project_source_changed(ccip_db *db, const Ccip__Envelope *cause, const char *award_id,
                                    const char *designation_id, const char *summary);

#endif
