#include "evaluation.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
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

static const ccip_command_handler s_commands[] = {
    {"evaluation.agency.register.v1", 1, evaluation_roles_staff, evaluation_agency_register, NULL,
     NULL, NULL},
    {"evaluation.agency.set_active.v1", 1, evaluation_roles_staff, evaluation_agency_set_active,
     NULL, NULL, NULL},
    {"evaluation.agency.get.v1", 0, evaluation_roles_readers, evaluation_agency_get, NULL, NULL,
     NULL},
    {"evaluation.agency.list.v1", 0, evaluation_roles_readers, evaluation_agency_list, NULL, NULL,
     NULL},
    {"evaluation.expert.register.v1", 1, evaluation_roles_staff, evaluation_expert_register, NULL,
     NULL, NULL},
    {"evaluation.expert.set_active.v1", 1, evaluation_roles_staff, evaluation_expert_set_active,
     NULL, NULL, NULL},
    {"evaluation.expert.get.v1", 0, evaluation_roles_readers, evaluation_expert_get, NULL, NULL,
     NULL},
    {"evaluation.expert.list.v1", 0, evaluation_roles_readers, evaluation_expert_list, NULL, NULL,
     NULL},
    {"evaluation.sheet.publish.v1", 1, evaluation_roles_staff, evaluation_sheet_publish, NULL, NULL,
     NULL},
    {"evaluation.sheet.get.v1", 0, evaluation_roles_sheet, evaluation_sheet_get, NULL, NULL, NULL},
    {"evaluation.case.get.v1", 0, evaluation_roles_readers, evaluation_case_get, NULL, NULL, NULL},
    {"evaluation.case.list.v1", 0, evaluation_roles_readers, evaluation_case_list, NULL, NULL,
     NULL},
    {"evaluation.assignment.propose.v1", 0, evaluation_roles_staff, evaluation_assignment_propose,
     NULL, NULL, NULL},
    {"evaluation.assignment.make.v1", 1, evaluation_roles_staff, evaluation_assignment_make, NULL,
     NULL, NULL},
    {"evaluation.assignment.reassign.v1", 1, evaluation_roles_staff, evaluation_assignment_reassign,
     NULL, NULL, NULL},
    {"evaluation.assignment.decline.v1", 1, evaluation_roles_subject, evaluation_assignment_decline,
     NULL, NULL, NULL},
    {"evaluation.review.declare.v1", 1, evaluation_roles_expert, evaluation_review_declare, NULL,
     NULL, NULL},
    {"evaluation.review.submit.v1", 1, evaluation_roles_expert, evaluation_review_submit, NULL,
     NULL, NULL},
    {"evaluation.investigation.report.v1", 1, evaluation_roles_agency,
     evaluation_investigation_report, NULL, NULL, NULL},
    {"evaluation.case.submit.v1", 1, evaluation_roles_staff, evaluation_case_submit, NULL, NULL,
     NULL},
    {"evaluation.case.decide.v1", 1, evaluation_roles_office, evaluation_case_decide, NULL, NULL,
     NULL},
    {"evaluation.designation.get.v1", 0, evaluation_roles_readers, evaluation_designation_get, NULL,
     NULL, NULL},
    {"evaluation.designation.list.v1", 0, evaluation_roles_readers, evaluation_designation_list,
     NULL, NULL, NULL},
    {"evaluation.designation.revoke.v1", 1, evaluation_roles_revoke, evaluation_designation_revoke,
     NULL, NULL, NULL},
    {"evaluation.designation.reevaluate.v1", 1, evaluation_roles_reeval,
     evaluation_designation_reevaluate, NULL, NULL, NULL},
    {"evaluation.task.list.v1", 0, evaluation_roles_tasks, evaluation_task_list, NULL, NULL, NULL},
    {"evaluation.task.sweep.v1", 1, evaluation_roles_sweep, evaluation_task_sweep, NULL, NULL,
     NULL},
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
    .consumers =
        (const char *const[]){"intake", "funding", "stats", NULL}, /* who replays its events */
    .migrations = evaluation_migrations,
    .commands = s_commands,
    .ncommands = sizeof s_commands / sizeof s_commands[0],
    .subscriptions = evaluation_case_subscriptions,
    .nsubscriptions = EVALUATION_CASE_NSUBSCRIPTIONS,
    .config_fields = s_config_fields,
    .nconfig_fields = sizeof s_config_fields / sizeof s_config_fields[0],
    .config_size = sizeof(evaluation_config),
    .schedules = s_schedules,
    .nschedules = sizeof s_schedules / sizeof s_schedules[0],
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
        return evaluation_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                               "an %s acts as itself: its actor id must be \"%s\" followed by its "
                               "register id, got \"%.60s\"",
                               role, prefix, actor);
    snprintf(id, EVALUATION_ID_MAX + 1, "%s", actor + plen);
    return 0;
}

/* ---- replies and events --------------------------------------------------- */

int evaluation_fail(ccip_command *cmd, Ccip__Status status, const char *fmt, ...)
{
    cmd->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd->error, sizeof cmd->error, fmt, ap);
    va_end(ap);
    return EVALUATION_REPLIED;
}

ProtobufCMessage *evaluation_unpack(ccip_command *cmd, const ProtobufCMessageDescriptor *desc)
{
    return ccip_command_unpack(cmd, desc);
}

int evaluation_reply(ccip_command *cmd, const ProtobufCMessage *msg)
{
    return ccip_command_reply(cmd, msg) ? EVALUATION_REPLIED : 0;
}

int evaluation_emit(ccip_command *cmd, const char *type, const char *aggregate_type,
                    const char *aggregate_id, const ProtobufCMessage *msg)
{
    int rc = ccip_command_emit(cmd, type, aggregate_type, aggregate_id, msg);
    return rc != 0 && cmd->status != CCIP__STATUS__OK ? EVALUATION_REPLIED : rc;
}

/* ---- checks ---------------------------------------------------------------- */

int evaluation_check_text(ccip_command *cmd, const char *field, const char *s, size_t min_chars,
                          size_t max_chars, int flags)
{
    char err[256];
    if (ccip_text_check(field, s, min_chars, max_chars, flags, err, sizeof err) < 0)
        return evaluation_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    return 0;
}

int evaluation_check_id(ccip_command *cmd, const char *field, const char *id)
{
    char err[256];
    if (ccip_code_check(field, id, EVALUATION_ID_MAX, err, sizeof err) < 0)
        return evaluation_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    return 0;
}

int evaluation_check_uuid(ccip_command *cmd, const char *field, const char *id)
{
    if (!ccip_uuid_valid(id))
        return evaluation_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `%s` must be a UUID such as "
                               "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b, got \"%.40s\"",
                               field, id ? id : "");
    return 0;
}

/* ---- values --------------------------------------------------------------- */

const char *evaluation_enum_name(const ProtobufCEnumDescriptor *desc, int value)
{
    if (value == 0)
        return NULL;
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    return v ? v->name : NULL;
}

int evaluation_enum_value(const ProtobufCEnumDescriptor *desc, const char *name)
{
    const ProtobufCEnumValue *v =
        name ? protobuf_c_enum_descriptor_get_value_by_name(desc, name) : NULL;
    return v ? v->value : 0;
}

int64_t evaluation_cell_i64(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return 0;
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

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
