#include "intake.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "intake_applicants.h"
#include "intake_applications.h"
#include "intake_calls.h"
#include "intake_documents.h"
#include "intake_filing.h"
#include "intake_validate.h"
#include "intake_view.h"

CCIP_MIGRATIONS_DECLARE(intake);

const char *const intake_roles_staff[] = {"staff", "admin", NULL};
const char *const intake_roles_applicant[] = {"applicant", NULL};
const char *const intake_roles_register[] = {"staff", "admin", "applicant", NULL};
const char *const intake_roles_readers[] = {"staff", "admin", "applicant", "service", NULL};

static const ccip_command_handler s_commands[] = {
    {"intake.call.open.v1", 1, intake_roles_staff, intake_call_open, NULL, NULL, NULL},
    {"intake.call.close.v1", 1, intake_roles_staff, intake_call_close, NULL, NULL, NULL},
    {"intake.call.close_due.v1", 1, intake_roles_staff, intake_call_close_due, NULL, NULL, NULL},
    {"intake.call.get.v1", 0, intake_roles_readers, intake_call_get, NULL, NULL, NULL},
    {"intake.call.list.v1", 0, intake_roles_readers, intake_call_list, NULL, NULL, NULL},
    {"intake.organisation.register.v1", 1, intake_roles_register, intake_org_register, NULL, NULL,
     NULL},
    {"intake.organisation.update.v1", 1, intake_roles_register, intake_org_update, NULL, NULL,
     NULL},
    {"intake.organisation.verify.v1", 1, intake_roles_staff, intake_org_verify, NULL, NULL, NULL},
    {"intake.organisation.get.v1", 0, intake_roles_readers, intake_org_get, NULL, NULL, NULL},
    {"intake.application.draft.v1", 1, intake_roles_applicant, intake_application_draft, NULL, NULL,
     NULL},
    {"intake.application.update.v1", 1, intake_roles_applicant, intake_application_update, NULL,
     NULL, NULL},
    {"intake.application.document.add.v1", 1, intake_roles_applicant, intake_document_add, NULL,
     NULL, NULL},
    {"intake.application.document.remove.v1", 1, intake_roles_applicant, intake_document_remove,
     NULL, NULL, NULL},
    {"intake.application.submit.v1", 1, intake_roles_applicant, intake_application_submit, NULL,
     NULL, NULL},
    {"intake.application.file.v1", 1, intake_roles_applicant, intake_application_file,
     intake_application_file_batch, NULL, NULL},
    {"intake.application.withdraw.v1", 1, intake_roles_applicant, intake_application_withdraw, NULL,
     NULL, NULL},
    {"intake.application.accept.v1", 1, intake_roles_staff, intake_application_accept, NULL, NULL,
     NULL},
    {"intake.application.return.v1", 1, intake_roles_staff, intake_application_return, NULL, NULL,
     NULL},
    {"intake.application.reject.v1", 1, intake_roles_staff, intake_application_reject, NULL, NULL,
     NULL},
    {"intake.application.get.v1", 0, intake_roles_readers, intake_application_get, NULL, NULL,
     NULL},
    {"intake.application.list.v1", 0, intake_roles_readers, intake_application_list, NULL, NULL,
     NULL},
    {"intake.document.get.v1", 0, intake_roles_readers, intake_document_get, NULL, NULL, NULL},
};

static const ccip_config_field s_config_fields[] = {
    {"intake.max_document_bytes", CCIP_CFG_INT, offsetof(intake_config, max_document_bytes), 1,
     INTAKE_MAX_DOCUMENT_LIMIT, "2097152", "CCIP_INTAKE_MAX_DOCUMENT_BYTES",
     "the largest document accepted, in bytes; a document travels in one message, so "
     "limits.max_message_bytes minus 64 KiB caps it too"},
    {"intake.close_check_seconds", CCIP_CFG_INT, offsetof(intake_config, close_check_seconds), 0,
     86400, "60", "CCIP_INTAKE_CLOSE_CHECK_SECONDS",
     "seconds between automatic closings of calls whose submission window ended (0: only "
     "staff close calls)"},
};

/* A call whose window ended is closed, and announced, without staff. */
static const ccip_schedule s_schedules[] = {
    {"intake.call.close_due.v1", offsetof(intake_config, close_check_seconds)},
};

const ccip_service_def intake_def = {
    .name = "intake",
    .consumers = (const char *const[]){"evaluation", "stats", NULL}, /* who replays its events */
    .migrations = intake_migrations,
    .commands = s_commands,
    .ncommands = sizeof s_commands / sizeof s_commands[0],
    .subscriptions = intake_view_subscriptions,
    .nsubscriptions = INTAKE_VIEW_NSUBSCRIPTIONS,
    .config_fields = s_config_fields,
    .nconfig_fields = sizeof s_config_fields / sizeof s_config_fields[0],
    .config_size = sizeof(intake_config),
    .schedules = s_schedules,
    .nschedules = sizeof s_schedules / sizeof s_schedules[0],
};

/* ---- callers ------------------------------------------------------------- */

int intake_actor_org(ccip_command *cmd, char uscc[CCIP_USCC_LEN + 1])
{
    uscc[0] = '\0';
    if (strcmp(cmd->actor.role, "applicant") != 0)
        return 0;
    const char *id = cmd->actor.id;
    size_t plen = strlen(INTAKE_ORG_ACTOR_PREFIX);
    char shown[64];
    if (strncmp(id, INTAKE_ORG_ACTOR_PREFIX, plen) != 0 || ccip_uscc_check(id + plen, NULL, 0) < 0)
        return intake_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                           "an applicant acts for one organisation: its actor id must be "
                           "\"org:\" followed by the organisation's unified social credit code, "
                           "got \"%s\"",
                           intake_clip(id, 60, shown));
    memcpy(uscc, id + plen, CCIP_USCC_LEN);
    uscc[CCIP_USCC_LEN] = '\0';
    return 0;
}

int intake_check_owner(ccip_command *cmd, const char *uscc, int staff_may, const char *what)
{
    char own[CCIP_USCC_LEN + 1];
    int rc = intake_actor_org(cmd, own);
    if (rc != 0)
        return rc;
    if (!own[0]) {
        if (staff_may)
            return 0;
        return intake_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                           "role \"%s\" may not act on %s; only the applicant organisation's "
                           "own users may",
                           cmd->actor.role, what);
    }
    if (strcmp(own, uscc) != 0)
        return intake_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                           "the caller acts for organisation %s and may not act on %s; an "
                           "applicant may only act for its own organisation",
                           own, what);
    return 0;
}

/* ---- replies and events --------------------------------------------------- */

int intake_fail(ccip_command *cmd, Ccip__Status status, const char *fmt, ...)
{
    cmd->status = status;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd->error, sizeof cmd->error, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof cmd->error) {
        size_t len = strlen(cmd->error);
        cmd->error[intake_utf8_boundary(cmd->error, len)] = '\0';
    }
    return INTAKE_REPLIED;
}

ProtobufCMessage *intake_unpack(ccip_command *cmd, const ProtobufCMessageDescriptor *desc)
{
    return ccip_command_unpack(cmd, desc);
}

int intake_reply(ccip_command *cmd, const ProtobufCMessage *msg)
{
    return ccip_command_reply(cmd, msg) ? INTAKE_REPLIED : 0;
}

int intake_emit(ccip_command *cmd, const char *type, const char *aggregate_type,
                const char *aggregate_id, const ProtobufCMessage *msg)
{
    int rc = ccip_command_emit(cmd, type, aggregate_type, aggregate_id, msg);
    return rc != 0 && cmd->status != CCIP__STATUS__OK ? INTAKE_REPLIED : rc;
}

int64_t intake_max_document_bytes(const ccip_command *cmd, int *from_message_cap)
{
    const intake_config *cfg = ccip_service_config_get(cmd->service);
    int64_t by_message = cfg->base.max_message_bytes - INTAKE_MESSAGE_OVERHEAD;
    if (by_message < 1)
        by_message = 1;
    *from_message_cap = by_message < cfg->max_document_bytes;
    return *from_message_cap ? by_message : cfg->max_document_bytes;
}

/* ---- values --------------------------------------------------------------- */

const char *intake_enum_name(const ProtobufCEnumDescriptor *desc, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    return v ? v->name : NULL;
}

int intake_enum_value(const ProtobufCEnumDescriptor *desc, const char *name)
{
    const ProtobufCEnumValue *v =
        name ? protobuf_c_enum_descriptor_get_value_by_name(desc, name) : NULL;
    return v ? v->value : 0;
}

int64_t intake_cell_i64(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return 0;
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

void intake_time_text(int64_t us, char *buf, size_t len)
{
    if (ccip_time_format_us(us, buf, len) < 0)
        return;
    /* "2026-11-27T10:00:00.000000Z" -> "2026-11-27T10:00:00Z" */
    char *dot = strchr(buf, '.');
    if (dot && strcmp(dot, ".000000Z") == 0)
        memcpy(dot, "Z", 2);
}
