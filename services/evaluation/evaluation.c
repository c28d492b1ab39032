#include "evaluation.h"

#include <stdio.h>
#include <string.h>

#include "evaluation_assignments.h"
#include "evaluation_cases.h"
#include "evaluation_decisions.h"
#include "evaluation_designations.h"
#include "evaluation_investigations.h"
#include "evaluation_registers.h"
#include "evaluation_reviews.h"
#include "evaluation_sheets.h"
#include "evaluation_tasks.h"

CCIP_MIGRATIONS_DECLARE(evaluation);

const char *const evaluation_roles_staff[] = {"staff", "admin", NULL};
const char *const evaluation_roles_office[] = {"office", NULL};
const char *const evaluation_roles_revoke[] = {"office", "admin", NULL};
const char *const evaluation_roles_reeval[] = {"staff", "admin", "office", NULL};
const char *const evaluation_roles_readers[] = {"staff", "admin", "office", "service", NULL};
const char *const evaluation_roles_sheet[] = {"staff",   "admin",  "office",
                                              "service", "expert", NULL};
const char *const evaluation_roles_tasks[] = {"staff",  "admin",  "office", "service",
                                              "expert", "agency", NULL};
const char *const evaluation_roles_expert[] = {"expert", NULL};
const char *const evaluation_roles_agency[] = {"agency", NULL};
const char *const evaluation_roles_subject[] = {"expert", "agency", NULL};
const char *const evaluation_roles_sweep[] = {"staff", "admin", NULL};

/* Each command: type, mutating, roles, handler, batch handler, request, reply. */
static const ccip_command_handler s_commands[] = {
    {"evaluation.agency.register.v1", 1, evaluation_roles_staff, evaluation_agency_register, NULL,
     CCIP_MSG(evaluation, register_agency_request), CCIP_MSG(evaluation, agency_reply)},
    {"evaluation.agency.set_active.v1", 1, evaluation_roles_staff, evaluation_register_set_active,
     NULL, CCIP_MSG(evaluation, set_active_request), CCIP_MSG(evaluation, agency_reply)},
    {"evaluation.agency.get.v1", 0, evaluation_roles_readers, evaluation_register_get, NULL,
     CCIP_MSG(evaluation, get_request), CCIP_MSG(evaluation, agency_reply)},
    {"evaluation.agency.list.v1", 0, evaluation_roles_readers, evaluation_agency_list, NULL,
     CCIP_MSG(evaluation, list_register_request), CCIP_MSG(evaluation, list_agencies_reply)},
    {"evaluation.expert.register.v1", 1, evaluation_roles_staff, evaluation_expert_register, NULL,
     CCIP_MSG(evaluation, register_expert_request), CCIP_MSG(evaluation, expert_reply)},
    {"evaluation.expert.set_active.v1", 1, evaluation_roles_staff, evaluation_register_set_active,
     NULL, CCIP_MSG(evaluation, set_active_request), CCIP_MSG(evaluation, expert_reply)},
    {"evaluation.expert.get.v1", 0, evaluation_roles_readers, evaluation_register_get, NULL,
     CCIP_MSG(evaluation, get_request), CCIP_MSG(evaluation, expert_reply)},
    {"evaluation.expert.list.v1", 0, evaluation_roles_readers, evaluation_expert_list, NULL,
     CCIP_MSG(evaluation, list_register_request), CCIP_MSG(evaluation, list_experts_reply)},
    {"evaluation.sheet.publish.v1", 1, evaluation_roles_staff, evaluation_sheet_publish, NULL,
     CCIP_MSG(evaluation, publish_sheet_request), CCIP_MSG(evaluation, sheet_reply)},
    {"evaluation.sheet.get.v1", 0, evaluation_roles_sheet, evaluation_sheet_get, NULL,
     CCIP_MSG(evaluation, get_sheet_request), CCIP_MSG(evaluation, sheet_reply)},
    {"evaluation.case.get.v1", 0, evaluation_roles_readers, evaluation_case_get, NULL,
     CCIP_MSG(evaluation, get_case_request), CCIP_MSG(evaluation, case_reply)},
    {"evaluation.case.list.v1", 0, evaluation_roles_readers, evaluation_case_list, NULL,
     CCIP_MSG(evaluation, list_cases_request), CCIP_MSG(evaluation, list_cases_reply)},
    {"evaluation.assignment.propose.v1", 0, evaluation_roles_staff, evaluation_assignment_propose,
     NULL, CCIP_MSG(evaluation, assign_request), CCIP_MSG(evaluation, assign_reply)},
    {"evaluation.assignment.make.v1", 1, evaluation_roles_staff, evaluation_assignment_make, NULL,
     CCIP_MSG(evaluation, assign_request), CCIP_MSG(evaluation, assign_reply)},
    {"evaluation.assignment.reassign.v1", 1, evaluation_roles_staff, evaluation_assignment_reassign,
     NULL, CCIP_MSG(evaluation, reassign_request), CCIP_MSG(evaluation, assign_reply)},
    {"evaluation.assignment.decline.v1", 1, evaluation_roles_subject, evaluation_assignment_decline,
     NULL, CCIP_MSG(evaluation, decline_request), CCIP_MSG(evaluation, assign_reply)},
    {"evaluation.review.declare.v1", 1, evaluation_roles_expert, evaluation_review_declare, NULL,
     CCIP_MSG(evaluation, declare_request), CCIP_MSG(evaluation, review_reply)},
    {"evaluation.review.submit.v1", 1, evaluation_roles_expert, evaluation_review_submit, NULL,
     CCIP_MSG(evaluation, submit_review_request), CCIP_MSG(evaluation, review_reply)},
    {"evaluation.investigation.report.v1", 1, evaluation_roles_agency,
     evaluation_investigation_report, NULL, CCIP_MSG(evaluation, file_report_request),
     CCIP_MSG(evaluation, investigation_reply)},
    {"evaluation.case.submit.v1", 1, evaluation_roles_staff, evaluation_case_submit, NULL,
     CCIP_MSG(evaluation, submit_to_office_request), CCIP_MSG(evaluation, case_reply)},
    {"evaluation.case.decide.v1", 1, evaluation_roles_office, evaluation_case_decide, NULL,
     CCIP_MSG(evaluation, decide_request), CCIP_MSG(evaluation, case_reply)},
    {"evaluation.designation.get.v1", 0, evaluation_roles_readers, evaluation_designation_get, NULL,
     CCIP_MSG(evaluation, get_designation_request), CCIP_MSG(evaluation, designation_reply)},
    {"evaluation.designation.list.v1", 0, evaluation_roles_readers, evaluation_designation_list,
     NULL, CCIP_MSG(evaluation, list_designations_request),
     CCIP_MSG(evaluation, list_designations_reply)},
    {"evaluation.designation.revoke.v1", 1, evaluation_roles_revoke, evaluation_designation_revoke,
     NULL, CCIP_MSG(evaluation, revoke_designation_request),
     CCIP_MSG(evaluation, designation_reply)},
    {"evaluation.designation.reevaluate.v1", 1, evaluation_roles_reeval,
     evaluation_designation_reevaluate, NULL, CCIP_MSG(evaluation, reevaluate_request),
     CCIP_MSG(evaluation, designation_reply)},
    {"evaluation.task.list.v1", 0, evaluation_roles_tasks, evaluation_task_list, NULL,
     CCIP_MSG(evaluation, list_tasks_request), CCIP_MSG(evaluation, list_tasks_reply)},
    {"evaluation.task.sweep.v1", 1, evaluation_roles_sweep, evaluation_task_sweep, NULL,
     CCIP_MSG(evaluation, sweep_request), CCIP_MSG(evaluation, sweep_reply)},
};

/* Every accepted application opens its case (evaluation_cases.h). */
static const ccip_consumer_handler s_intake[] = {
    {"intake.application.accepted.v1", evaluation_case_open},
};

static const ccip_subscription s_subscriptions[] = {
    {"intake", CCIP_TABLE(s_intake)},
};

static const ccip_config_field s_config_fields[] = {
    {"evaluation.same_district_conflict", CCIP_CFG_BOOL,
     offsetof(evaluation_config, same_district_conflict), 0, 0, "false",
     "CCIP_EVALUATION_SAME_DISTRICT_CONFLICT",
     "true when an expert from the case's own district counts as a conflict"},
    {"evaluation.investigation_days", CCIP_CFG_INT, offsetof(evaluation_config, investigation_days),
     1, 365, "30", "CCIP_EVALUATION_INVESTIGATION_DAYS",
     "days an agency has to file its on-site report"},
    {"evaluation.review_days", CCIP_CFG_INT, offsetof(evaluation_config, review_days), 1, 365, "14",
     "CCIP_EVALUATION_REVIEW_DAYS", "days an expert has to submit a review"},
    {"evaluation.reminder_days", CCIP_CFG_INT, offsetof(evaluation_config, reminder_days), 0, 60,
     "3", "CCIP_EVALUATION_REMINDER_DAYS", "days before a due date when a reminder goes out"},
    {"evaluation.designation_years", CCIP_CFG_INT, offsetof(evaluation_config, designation_years),
     1, 20, "3", "CCIP_EVALUATION_DESIGNATION_YEARS", "years a designation is valid"},
    {"evaluation.reevaluation_months", CCIP_CFG_INT,
     offsetof(evaluation_config, reevaluation_months), 1, 120, "12",
     "CCIP_EVALUATION_REEVALUATION_MONTHS", "months between re-evaluations of a designation"},
    {"evaluation.sweep_seconds", CCIP_CFG_INT, offsetof(evaluation_config, sweep_seconds), 0, 86400,
     "300", "CCIP_EVALUATION_SWEEP_SECONDS",
     "seconds between automatic sweeps for overdue tasks and reminders (0: only when staff "
     "run evaluation.task.sweep.v1)"},
};

/* Overdue notices and reminders go out without anyone remembering to ask. */
static const ccip_schedule s_schedules[] = {
    {"evaluation.task.sweep.v1", offsetof(evaluation_config, sweep_seconds)},
};

const ccip_service_def evaluation_def = {
    .name = "evaluation",
    /* who may replay its events: the services that subscribe to them
     * (tests/services/test_service_defs.c checks both sides) */
    .consumers =
        (const char *const[]){"intake", "funding", "stats", "followup", "notify", "casefile", NULL},
    .migrations = evaluation_migrations,
    CCIP_DEF_TABLE(commands, s_commands),
    CCIP_DEF_TABLE(subscriptions, s_subscriptions),
    CCIP_DEF_TABLE(config_fields, s_config_fields),
    .config_size = sizeof(evaluation_config),
    CCIP_DEF_TABLE(schedules, s_schedules),
};

const evaluation_config *evaluation_cfg(const ccip_command *cmd)
{
    return ccip_service_config_get(cmd->service);
}

/* ---- callers ------------------------------------------------------------- */

int evaluation_actor_subject(ccip_command *cmd, const char *role, char id[EVALUATION_ID_MAX + 1])
{
    id[0] = '\0';
    if (strcmp(cmd->actor.role, role) != 0)
        return 0;
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%s:", role);
    size_t plen = strlen(prefix);
    const char *actor = cmd->actor.id;
    if (strncmp(actor, prefix, plen) != 0 ||
        ccip_code_check("actor", actor + plen, EVALUATION_ID_MAX, NULL, 0) < 0)
        return ccip_command_fail(
            cmd, CCIP__STATUS__PERMISSION_DENIED,
            "an %s acts as itself: its actor id must be \"%s\" followed by its "
            "register id, got \"%.60s\"",
            role, prefix, actor);
    snprintf(id, EVALUATION_ID_MAX + 1, "%s", actor + plen);
    return 0;
}

/* ---- the case log --------------------------------------------------------- */

static const ccip_db_stmt S_LOG = {
    "evaluation_case_log", "INSERT INTO case_log (case_id, actor_id, actor_role, action, detail) "
                           "VALUES ($1::uuid, $2, $3, $4, $5)"};

int evaluation_case_log(ccip_db *db, const char *case_id, const char *actor_id,
                        const char *actor_role, const char *action, const char *detail)
{
    const char *v[] = {case_id, actor_id ? actor_id : "", actor_role ? actor_role : "", action,
                       detail ? detail : ""};
    return ccip_db_exec(db, &S_LOG, 5, v, NULL, NULL, NULL);
}
