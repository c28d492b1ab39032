#include "followup.h"

#include <stdlib.h>
#include <string.h>

#include "ccip_row.h"

#include "followup_feed.h"
#include "followup_projects.h"
#include "followup_sweep.h"
#include "followup_task_read.h"
#include "followup_tasks.h"

CCIP_MIGRATIONS_DECLARE(followup);

const char *const followup_roles_office[] = {"office", "admin", NULL};
const char *const followup_roles_lead[] = {"staff", "district", "office", "admin", NULL};
const char *const followup_roles_readers[] = {"office",   "admin",   "staff",
                                              "district", "service", NULL};
const char *const followup_roles_staff[] = {"office", "admin", "staff", NULL};
const char *const followup_roles_owner[] = {"grantee", NULL};
const char *const followup_roles_project_readers[] = {"office",  "admin",   "staff", "district",
                                                      "service", "grantee", NULL};
static const char *const s_roles_boards[] = {"office", "admin", "staff", "district", NULL};

/* Each command: type, mutating, roles, handler, batch handler, request, reply. */
static const ccip_command_handler s_commands[] = {
    {"followup.task.create.v1", 1, followup_roles_office, followup_task_create, NULL,
     CCIP_MSG(followup, create_task_request), CCIP_MSG(followup, task_reply)},
    {"followup.task.acknowledge.v1", 1, followup_roles_lead, followup_task_acknowledge, NULL,
     CCIP_MSG(followup, task_action_request), CCIP_MSG(followup, task_reply)},
    {"followup.task.report_progress.v1", 1, followup_roles_lead, followup_task_report_progress,
     NULL, CCIP_MSG(followup, report_task_request), CCIP_MSG(followup, task_reply)},
    {"followup.task.request_extension.v1", 1, followup_roles_lead, followup_task_request_extension,
     NULL, CCIP_MSG(followup, request_extension_request), CCIP_MSG(followup, task_reply)},
    {"followup.task.grant_extension.v1", 1, followup_roles_office, followup_task_grant_extension,
     NULL, CCIP_MSG(followup, decide_extension_request), CCIP_MSG(followup, task_reply)},
    {"followup.task.refuse_extension.v1", 1, followup_roles_office, followup_task_refuse_extension,
     NULL, CCIP_MSG(followup, decide_extension_request), CCIP_MSG(followup, task_reply)},
    {"followup.task.report_completion.v1", 1, followup_roles_lead, followup_task_report_completion,
     NULL, CCIP_MSG(followup, report_task_request), CCIP_MSG(followup, task_reply)},
    {"followup.task.accept.v1", 1, followup_roles_office, followup_task_accept, NULL,
     CCIP_MSG(followup, task_action_request), CCIP_MSG(followup, task_reply)},
    {"followup.task.return.v1", 1, followup_roles_office, followup_task_return, NULL,
     CCIP_MSG(followup, task_action_request), CCIP_MSG(followup, task_reply)},
    {"followup.task.close.v1", 1, followup_roles_office, followup_task_close, NULL,
     CCIP_MSG(followup, task_action_request), CCIP_MSG(followup, task_reply)},
    {"followup.task.get.v1", 0, followup_roles_readers, followup_task_get, NULL,
     CCIP_MSG(followup, get_task_request), CCIP_MSG(followup, task_reply)},
    {"followup.task.list.v1", 0, followup_roles_readers, followup_task_list, NULL,
     CCIP_MSG(followup, list_tasks_request), CCIP_MSG(followup, list_tasks_reply)},
    {"followup.task.attachment.get.v1", 0, followup_roles_readers, followup_task_attachment_get,
     NULL, CCIP_MSG(followup, get_attachment_request), CCIP_MSG(followup, attachment_reply)},
    {"followup.task.board.v1", 0, s_roles_boards, followup_task_board, NULL,
     CCIP_MSG(followup, task_board_request), CCIP_MSG(followup, task_board_reply)},
    {"followup.task.publish_digest.v1", 1, followup_roles_office, followup_digest_publish, NULL,
     CCIP_MSG(followup, publish_digest_request), CCIP_MSG(followup, publish_digest_reply)},
    {"followup.sweep.run.v1", 1, followup_roles_staff, followup_sweep_run, NULL,
     CCIP_MSG(followup, sweep_request), CCIP_MSG(followup, sweep_reply)},
    {"followup.project.register.v1", 1, followup_roles_staff, followup_project_register, NULL,
     CCIP_MSG(followup, register_project_request), CCIP_MSG(followup, project_reply)},
    {"followup.project.add_milestone.v1", 1, followup_roles_staff, followup_project_add_milestone,
     NULL, CCIP_MSG(followup, add_milestone_request), CCIP_MSG(followup, project_reply)},
    {"followup.project.file_report.v1", 1, followup_roles_owner, followup_project_file_report, NULL,
     CCIP_MSG(followup, file_report_request), CCIP_MSG(followup, project_reply)},
    {"followup.project.close.v1", 1, followup_roles_office, followup_project_close, NULL,
     CCIP_MSG(followup, close_project_request), CCIP_MSG(followup, project_reply)},
    {"followup.project.get.v1", 0, followup_roles_project_readers, followup_project_get, NULL,
     CCIP_MSG(followup, get_project_request), CCIP_MSG(followup, project_reply)},
    {"followup.project.list.v1", 0, followup_roles_project_readers, followup_project_list, NULL,
     CCIP_MSG(followup, list_projects_request), CCIP_MSG(followup, list_projects_reply)},
    {"followup.project.board.v1", 0, s_roles_boards, followup_project_board, NULL,
     CCIP_MSG(followup, board_request), CCIP_MSG(followup, board_reply)},
};

static const ccip_config_field s_config_fields[] = {
    {"followup.sweep_seconds", CCIP_CFG_INT, offsetof(followup_config, sweep_seconds), 0, 86400,
     "300", "CCIP_FOLLOWUP_SWEEP_SECONDS",
     "seconds between automatic sweeps escalating overdue tasks, late and at-risk milestones "
     "and missing monthly reports (0: only when staff run followup.sweep.run.v1)"},
    {"followup.digest_check_seconds", CCIP_CFG_INT, offsetof(followup_config, digest_check_seconds),
     0, 86400, "3600", "CCIP_FOLLOWUP_DIGEST_CHECK_SECONDS",
     "seconds between checks whether this week's digest of open tasks is published; it is "
     "published once per ISO week in Beijing (0: only when the office publishes it)"},
    {"followup.sweep_max", CCIP_CFG_INT, offsetof(followup_config, sweep_max), 1, 100000, "20000",
     "CCIP_FOLLOWUP_SWEEP_MAX",
     "the most escalations of one kind a sweep raises; the next sweep goes on"},
    {"followup.max_attachment_bytes", CCIP_CFG_INT, offsetof(followup_config, max_attachment_bytes),
     1, FOLLOWUP_ATTACHMENT_LIMIT, "1048576", "CCIP_FOLLOWUP_MAX_ATTACHMENT_BYTES",
     "the largest attachment of a task report, in bytes (a report travels in one message, "
     "so limits.max_message_bytes caps all of its attachments together too)"},
    {"followup.report_due_day", CCIP_CFG_INT, offsetof(followup_config, report_due_day), 1, 28,
     "10", "CCIP_FOLLOWUP_REPORT_DUE_DAY",
     "the day of the next month by the end of which (Beijing) a monthly report is due"},
};

/* The service gives itself its sweep and its weekly digest. */
static const ccip_schedule s_schedules[] = {
    {"followup.sweep.run.v1", offsetof(followup_config, sweep_seconds)},
    {"followup.task.publish_digest.v1", offsetof(followup_config, digest_check_seconds)},
};

const ccip_service_def followup_def = {
    .name = "followup",
    /* who may replay its events: the services that subscribe to them
     * (tests/services/test_service_defs.c checks both sides) */
    .consumers = (const char *const[]){"notify", "casefile", NULL},
    .migrations = followup_migrations,
    CCIP_DEF_TABLE(commands, s_commands),
    .subscriptions = followup_feed_subscriptions,
    .nsubscriptions = FOLLOWUP_FEED_NSUBSCRIPTIONS,
    CCIP_DEF_TABLE(config_fields, s_config_fields),
    .config_size = sizeof(followup_config),
    CCIP_DEF_TABLE(schedules, s_schedules),
};

/* ---- callers ------------------------------------------------------------- */

const followup_config *followup_config_of(const ccip_command *cmd)
{
    return ccip_service_config_get(cmd->service);
}

int followup_acts_as(const ccip_command *cmd, const char *unit)
{
    const char *role = cmd->actor.role, *id = cmd->actor.id;
    if (strcmp(unit, "center") == 0)
        return strcmp(role, "staff") == 0;
    if (strncmp(unit, FOLLOWUP_DISTRICT_PREFIX, strlen(FOLLOWUP_DISTRICT_PREFIX)) == 0)
        return strcmp(role, "district") == 0 && strcmp(id, unit) == 0;
    if (strncmp(unit, FOLLOWUP_PERSON_PREFIX, strlen(FOLLOWUP_PERSON_PREFIX)) == 0)
        return ccip_command_role_in(cmd, followup_roles_lead) &&
               strcmp(id, unit + strlen(FOLLOWUP_PERSON_PREFIX)) == 0;
    return 0;
}

int followup_actor_district(ccip_command *cmd, char code[16])
{
    code[0] = '\0';
    if (strcmp(cmd->actor.role, "district") != 0)
        return 0;
    const char *id = cmd->actor.id;
    size_t plen = strlen(FOLLOWUP_DISTRICT_PREFIX);
    const ccip_district *d =
        strncmp(id, FOLLOWUP_DISTRICT_PREFIX, plen) == 0 ? ccip_district_find(id + plen) : NULL;
    if (!d || strcmp(d->code, id + plen) != 0) {
        char shown[64];
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "a district acts as actor id \"district:<code>\" with the code "
                                 "of one of Beijing's 16 districts (e.g. district:110105), got "
                                 "\"%s\"",
                                 ccip_text_shown(id, 40, shown, sizeof shown));
    }
    snprintf(code, 16, "%s", d->code);
    return 0;
}

int followup_actor_org(ccip_command *cmd, char uscc[CCIP_USCC_LEN + 1])
{
    uscc[0] = '\0';
    if (strcmp(cmd->actor.role, "grantee") != 0)
        return 0;
    const char *id = cmd->actor.id;
    size_t plen = strlen(FOLLOWUP_ORG_PREFIX);
    if (strncmp(id, FOLLOWUP_ORG_PREFIX, plen) != 0 || ccip_uscc_check(id + plen, NULL, 0) < 0) {
        char shown[64];
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "an owner acts for one organisation: its actor id must be "
                                 "\"org:\" followed by the organisation's unified social credit "
                                 "code, got \"%s\"",
                                 ccip_text_shown(id, 40, shown, sizeof shown));
    }
    memcpy(uscc, id + plen, CCIP_USCC_LEN);
    uscc[CCIP_USCC_LEN] = '\0';
    return 0;
}

/* ---- values --------------------------------------------------------------- */

int followup_check_day(ccip_command *cmd, const char *field, const char *s, followup_day *out)
{
    char err[300];
    return ccip_command_invalid(cmd, followup_day_parse(field, s, out, err, sizeof err), err);
}

const char *followup_when(int64_t us, char *buf, size_t len)
{
    if (!us)
        snprintf(buf, len, "never");
    else
        followup_beijing_text(us, buf, len);
    return buf;
}

int followup_rows(ccip_arena *a, const PGresult *res, int col0,
                  const ProtobufCMessageDescriptor *desc, const char *fields, void ***out,
                  size_t *n)
{
    int rows = PQntuples(res);
    *n = 0;
    *out = ccip_arena_alloc(a, (size_t)(rows > 0 ? rows : 1) * sizeof **out);
    if (!*out)
        return -1;
    for (int i = 0; i < rows; i++) {
        void *m = ccip_row_new(a, desc, res, i, col0, fields);
        if (!m)
            return -1;
        (*out)[(*n)++] = m;
    }
    return 0;
}
