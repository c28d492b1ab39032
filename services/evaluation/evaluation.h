/*
 * evaluation: the review of every accepted application (issue 5; messages
 * in proto/ccip/evaluation.proto). An intermediary agency investigates on
 * site, a panel of experts scores, staff submit the case to the
 * leading-group office, which decides; an approved identification becomes a
 * designation.
 *
 * The service is evaluation_def (evaluation.c) run by ccip_service_main.
 * Its handlers live with their concept:
 *
 *   evaluation_cases.c          cases: opened from intake.application.accepted.v1
 *                               (consumer), get, list, the case log
 *   evaluation_registers.c      agencies and experts: register, activate, get, list
 *   evaluation_sheets.c         versioned score sheets: publish, get
 *   evaluation_assign.c         the assignment algorithm and conflict detection (pure)
 *   evaluation_assignments.c    proposals, assignments, declines, reassignment
 *   evaluation_investigations.c the agency's on-site report
 *   evaluation_score.c          score checks and the aggregate (pure)
 *   evaluation_reviews.c        declarations of no conflict and reviews
 *   evaluation_decisions.c      submission to the office, the office's decision
 *   evaluation_designations.c   designations: grant, revoke, re-evaluate, get, list
 *   evaluation_tasks.c          open and overdue tasks, reminders
 *
 * Who may do what: staff (and admin) keep the registers and score sheets,
 * assign and submit cases to the office; the office decides; an expert acts
 * as actor id "expert:<id>" and an agency as "agency:<id>" (trusted from the
 * front door) and only on their own tasks; other services read.
 *
 * Handlers keep no state between commands and may run on any thread.
 */
#ifndef EVALUATION_H
#define EVALUATION_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_row.h"
#include "ccip_service.h"
#include "ccip_validate.h"

/* Actor id prefixes of the people who act on their own tasks. */
#define EVALUATION_EXPERT_PREFIX "expert:"
#define EVALUATION_AGENCY_PREFIX "agency:"

/* Longest register id (expert and agency codes). */
#define EVALUATION_ID_MAX 32

/* Rows a list reply holds when the request says 0, and at most. */
#define EVALUATION_LIST_DEFAULT 100
#define EVALUATION_LIST_MAX     1000

/* Shortest written reason for an override, a decline or a decision. */
#define EVALUATION_REASON_MIN 5
#define EVALUATION_REASON_MAX 4000

/* The service's configuration: the base, then its own settings. */
typedef struct {
    ccip_service_config base;    /* every service's settings; must be first */
    int same_district_conflict;  /* an expert from the case's district conflicts */
    int64_t investigation_days;  /* days an agency has for its report */
    int64_t review_days;         /* days an expert has for a review */
    int64_t reminder_days;       /* reminders go out this many days before a due date */
    int64_t designation_years;   /* validity of a designation */
    int64_t reevaluation_months; /* between periodic re-evaluations of a designation */
    int64_t sweep_seconds;       /* between automatic overdue sweeps, 0 = only by staff */
} evaluation_config;

extern const ccip_service_def evaluation_def;

/* The service's configuration as seen by a command. */
const evaluation_config *evaluation_cfg(const ccip_command *cmd);

/* Roles of the handler table (NULL-terminated). */
extern const char *const evaluation_roles_staff[];   /* staff, admin */
extern const char *const evaluation_roles_office[];  /* office */
extern const char *const evaluation_roles_revoke[];  /* office, admin */
extern const char *const evaluation_roles_reeval[];  /* staff, admin, office */
extern const char *const evaluation_roles_readers[]; /* staff, admin, office, service */
extern const char *const evaluation_roles_sheet[];   /* readers and expert */
extern const char *const evaluation_roles_tasks[];   /* readers, expert, agency */
extern const char *const evaluation_roles_expert[];  /* expert */
extern const char *const evaluation_roles_agency[];  /* agency */
extern const char *const evaluation_roles_subject[]; /* expert, agency */
extern const char *const evaluation_roles_sweep[];   /* staff, admin */

/* When the caller acts as `role` ("expert" or "agency"), writes its own id
 * (from the actor id "<role>:<id>") into id (EVALUATION_ID_MAX + 1 bytes)
 * and returns 0. A caller in another role gets id "" and 0. A caller in
 * that role whose actor id is not "<role>:" followed by a valid code gets
 * PERMISSION_DENIED and CCIP_REPLIED. */
int evaluation_actor_subject(ccip_command *cmd, const char *role, char id[EVALUATION_ID_MAX + 1]);

/* Appends an entry to the case's log, inside the caller's transaction.
 * Returns 0 or a ccip_db_rc. */
int evaluation_case_log(ccip_db *db, const char *case_id, const char *actor_id,
                        const char *actor_role, const char *action, const char *detail);

/* Case statuses as stored. */
#define EVALUATION_CASE_OPEN          "CASE_OPEN"
#define EVALUATION_CASE_IN_EVALUATION "CASE_IN_EVALUATION"
#define EVALUATION_CASE_WITH_OFFICE   "CASE_WITH_OFFICE"
#define EVALUATION_CASE_APPROVED      "CASE_APPROVED"
#define EVALUATION_CASE_DECLINED      "CASE_DECLINED"

/* Task statuses as stored; "live" tasks are assigned, accepted or done. */
#define EVALUATION_TASK_ASSIGNED   "TASK_ASSIGNED"
#define EVALUATION_TASK_ACCEPTED   "TASK_ACCEPTED"
#define EVALUATION_TASK_DONE       "TASK_DONE"
#define EVALUATION_TASK_DECLINED   "TASK_DECLINED"
#define EVALUATION_TASK_REASSIGNED "TASK_REASSIGNED"
#define EVALUATION_TASK_SUPERSEDED "TASK_SUPERSEDED"
#define EVALUATION_SQL_LIVE        "('TASK_ASSIGNED', 'TASK_ACCEPTED', 'TASK_DONE')"
#define EVALUATION_SQL_OPEN        "('TASK_ASSIGNED', 'TASK_ACCEPTED')"

#endif
