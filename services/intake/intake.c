#include "intake.h"

#include <string.h>

#include "intake_applicants.h"
#include "intake_applications.h"
#include "intake_calls.h"
#include "intake_documents.h"
#include "intake_filing.h"
#include "intake_readers.h"
#include "intake_validate.h"
#include "intake_view.h"

CCIP_MIGRATIONS_DECLARE(intake);

const char *const intake_roles_staff[] = {"staff", "admin", NULL};
const char *const intake_roles_applicant[] = {"applicant", NULL};
const char *const intake_roles_register[] = {"staff", "admin", "applicant", NULL};
const char *const intake_roles_readers[] = {"staff", "admin", "applicant", "service", NULL};
const char *const intake_roles_file_readers[] = {"staff",  "admin",  "applicant", "service",
                                                 "expert", "agency", NULL};

/* Each command: type, mutating, roles, handler, batch handler, request, reply. */
static const ccip_command_handler s_commands[] = {
    {"intake.call.open.v1", 1, intake_roles_staff, intake_call_open, NULL,
     CCIP_MSG(intake, open_call_request), CCIP_MSG(intake, call_reply)},
    {"intake.call.close.v1", 1, intake_roles_staff, intake_call_close, NULL,
     CCIP_MSG(intake, close_call_request), CCIP_MSG(intake, call_reply)},
    {"intake.call.close_due.v1", 1, intake_roles_staff, intake_call_close_due, NULL,
     CCIP_MSG(intake, close_due_request), CCIP_MSG(intake, close_due_reply)},
    {"intake.call.get.v1", 0, intake_roles_readers, intake_call_get, NULL,
     CCIP_MSG(intake, get_call_request), CCIP_MSG(intake, call_reply)},
    {"intake.call.list.v1", 0, intake_roles_readers, intake_call_list, NULL,
     CCIP_MSG(intake, list_calls_request), CCIP_MSG(intake, list_calls_reply)},
    {"intake.organisation.register.v1", 1, intake_roles_register, intake_org_register, NULL,
     CCIP_MSG(intake, register_organisation_request), CCIP_MSG(intake, organisation_reply)},
    {"intake.organisation.update.v1", 1, intake_roles_register, intake_org_update, NULL,
     CCIP_MSG(intake, update_organisation_request), CCIP_MSG(intake, organisation_reply)},
    {"intake.organisation.verify.v1", 1, intake_roles_staff, intake_org_verify, NULL,
     CCIP_MSG(intake, verify_organisation_request), CCIP_MSG(intake, organisation_reply)},
    {"intake.organisation.get.v1", 0, intake_roles_readers, intake_org_get, NULL,
     CCIP_MSG(intake, get_organisation_request), CCIP_MSG(intake, organisation_reply)},
    {"intake.application.draft.v1", 1, intake_roles_applicant, intake_application_draft, NULL,
     CCIP_MSG(intake, draft_application_request), CCIP_MSG(intake, application_reply)},
    {"intake.application.update.v1", 1, intake_roles_applicant, intake_application_update, NULL,
     CCIP_MSG(intake, update_application_request), CCIP_MSG(intake, application_reply)},
    {"intake.application.document.add.v1", 1, intake_roles_applicant, intake_document_add, NULL,
     CCIP_MSG(intake, add_document_request), CCIP_MSG(intake, document_reply)},
    {"intake.application.document.remove.v1", 1, intake_roles_applicant, intake_document_remove,
     NULL, CCIP_MSG(intake, remove_document_request), CCIP_MSG(intake, application_reply)},
    {"intake.application.submit.v1", 1, intake_roles_applicant, intake_application_act, NULL,
     CCIP_MSG(intake, application_action_request), CCIP_MSG(intake, application_reply)},
    {"intake.application.file.v1", 1, intake_roles_applicant, NULL, intake_application_file_batch,
     CCIP_MSG(intake, file_application_request), CCIP_MSG(intake, application_reply)},
    {"intake.application.withdraw.v1", 1, intake_roles_applicant, intake_application_act, NULL,
     CCIP_MSG(intake, application_action_request), CCIP_MSG(intake, application_reply)},
    {"intake.application.accept.v1", 1, intake_roles_staff, intake_application_act, NULL,
     CCIP_MSG(intake, application_action_request), CCIP_MSG(intake, application_reply)},
    {"intake.application.return.v1", 1, intake_roles_staff, intake_application_act, NULL,
     CCIP_MSG(intake, application_action_request), CCIP_MSG(intake, application_reply)},
    {"intake.application.reject.v1", 1, intake_roles_staff, intake_application_act, NULL,
     CCIP_MSG(intake, application_action_request), CCIP_MSG(intake, application_reply)},
    {"intake.application.get.v1", 0, intake_roles_file_readers, intake_application_get, NULL,
     CCIP_MSG(intake, get_application_request), CCIP_MSG(intake, application_reply)},
    {"intake.application.list.v1", 0, intake_roles_readers, intake_application_list, NULL,
     CCIP_MSG(intake, list_applications_request), CCIP_MSG(intake, list_applications_reply)},
    {"intake.document.get.v1", 0, intake_roles_file_readers, intake_document_get, NULL,
     CCIP_MSG(intake, get_document_request), CCIP_MSG(intake, document_content_reply)},
};

/* What applicants see of their applications after intake: the review,
 * the decision and the funding (intake_view.h). */
static const ccip_consumer_handler s_evaluation[] = {
    {"evaluation.review.started.v1", intake_view_apply},
    {"evaluation.investigation.scheduled.v1", intake_view_apply},
    {"evaluation.review.completed.v1", intake_view_apply},
    {"evaluation.application.approved.v1", intake_readers_decided},
    {"evaluation.application.declined.v1", intake_readers_decided},
    {"evaluation.assignment.started.v1", intake_readers_apply},
    {"evaluation.assignment.ended.v1", intake_readers_apply},
};

static const ccip_consumer_handler s_funding[] = {
    {"funding.award.granted.v1", intake_view_apply},
    {"funding.award.signed.v1", intake_view_apply},
    {"funding.award.suspended.v1", intake_view_apply},
    {"funding.award.resumed.v1", intake_view_apply},
    {"funding.award.completed.v1", intake_view_apply},
    {"funding.award.rejected.v1", intake_view_apply},
    {"funding.award.terminated.v1", intake_view_apply},
};

static const ccip_subscription s_subscriptions[] = {
    {"evaluation", CCIP_TABLE(s_evaluation)},
    {"funding", CCIP_TABLE(s_funding)},
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
    /* who may replay its events: the services that subscribe to them
     * (tests/services/test_service_defs.c checks both sides) */
    .consumers =
        (const char *const[]){"evaluation", "stats", "gateway", "notify", "casefile", NULL},
    .migrations = intake_migrations,
    CCIP_DEF_TABLE(commands, s_commands),
    CCIP_DEF_TABLE(subscriptions, s_subscriptions),
    CCIP_DEF_TABLE(config_fields, s_config_fields),
    .config_size = sizeof(intake_config),
    CCIP_DEF_TABLE(schedules, s_schedules),
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
        return ccip_command_fail(
            cmd, CCIP__STATUS__PERMISSION_DENIED,
            "an applicant acts for one organisation: its actor id must be "
            "\"org:\" followed by the organisation's unified social credit code, "
            "got \"%s\"",
            ccip_text_shown(id, 60, shown, sizeof shown));
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
        /* an expert or agency reads one application at a time
         * (intake_application_row checks which): never by organisation */
        if (staff_may && !intake_reader_role(cmd))
            return 0;
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "role \"%s\" may not act on %s; only the applicant organisation's "
                                 "own users may",
                                 cmd->actor.role, what);
    }
    if (strcmp(own, uscc) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "the caller acts for organisation %s and may not act on %s; an "
                                 "applicant may only act for its own organisation",
                                 own, what);
    return 0;
}

/* ---- limits -------------------------------------------------------------- */

int64_t intake_max_document_bytes(const ccip_command *cmd, int *from_message_cap)
{
    const intake_config *cfg = ccip_service_config_get(cmd->service);
    int64_t by_message = cfg->base.max_message_bytes - INTAKE_MESSAGE_OVERHEAD;
    if (by_message < 1)
        by_message = 1;
    *from_message_cap = by_message < cfg->max_document_bytes;
    return *from_message_cap ? by_message : cfg->max_document_bytes;
}
