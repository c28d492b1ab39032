#include "funding.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_log.h"
#include "funding_awards.h"
#include "funding_confirm.h"
#include "funding_inspections.h"
#include "funding_ledger.h"
#include "funding_programmes.h"
#include "funding_reports.h"
#include "funding_summary.h"
#include "funding_tranches.h"

CCIP_MIGRATIONS_DECLARE(funding);

const char *const funding_roles_staff[] = {"staff", "admin", NULL};
const char *const funding_roles_finance[] = {"finance", "admin", NULL};
const char *const funding_roles_money[] = {"staff", "admin", "finance", NULL};
const char *const funding_roles_readers[] = {"staff", "admin", "finance", "service", NULL};
const char *const funding_roles_awards[] = {"staff",   "admin",   "finance",
                                            "service", "grantee", NULL};
const char *const funding_roles_grantee[] = {"grantee", NULL};

/* Each command: type, mutating, roles, handler, batch handler, request, reply. */
static const ccip_command_handler s_commands[] = {
    {"funding.programme.create.v1", 1, funding_roles_staff, funding_programme_create, NULL,
     CCIP_MSG(funding, create_programme_request), CCIP_MSG(funding, programme_reply)},
    {"funding.programme.configure.v1", 1, funding_roles_staff, funding_programme_configure, NULL,
     CCIP_MSG(funding, configure_programme_request), CCIP_MSG(funding, programme_reply)},
    {"funding.programme.get.v1", 0, funding_roles_readers, funding_programme_get, NULL,
     CCIP_MSG(funding, get_programme_request), CCIP_MSG(funding, programme_reply)},
    {"funding.programme.list.v1", 0, funding_roles_readers, funding_programme_list, NULL,
     CCIP_MSG(funding, list_programmes_request), CCIP_MSG(funding, list_programmes_reply)},
    {"funding.budget.set.v1", 1, funding_roles_staff, funding_budget_set, NULL,
     CCIP_MSG(funding, set_budget_request), CCIP_MSG(funding, budget_reply)},
    {"funding.year.close.v1", 1, funding_roles_staff, funding_year_close, NULL,
     CCIP_MSG(funding, close_year_request), CCIP_MSG(funding, budget_reply)},
    {"funding.budget.get.v1", 0, funding_roles_readers, funding_budget_get, NULL,
     CCIP_MSG(funding, get_budget_request), CCIP_MSG(funding, budget_reply)},
    {"funding.budget.list.v1", 0, funding_roles_readers, funding_budget_list, NULL,
     CCIP_MSG(funding, list_budgets_request), CCIP_MSG(funding, list_budgets_reply)},
    {"funding.award.get.v1", 0, funding_roles_awards, funding_award_get, NULL,
     CCIP_MSG(funding, get_award_request), CCIP_MSG(funding, award_reply)},
    {"funding.award.list.v1", 0, funding_roles_awards, funding_award_list, NULL,
     CCIP_MSG(funding, list_awards_request), CCIP_MSG(funding, list_awards_reply)},
    {"funding.award.confirm.v1", 1, funding_roles_staff, NULL, funding_award_confirm_batch,
     CCIP_MSG(funding, confirm_award_request), CCIP_MSG(funding, award_reply)},
    {"funding.award.reject.v1", 1, funding_roles_staff, funding_award_act, NULL,
     CCIP_MSG(funding, award_action_request), CCIP_MSG(funding, award_reply)},
    {"funding.award.sign.v1", 1, funding_roles_staff, funding_award_act, NULL,
     CCIP_MSG(funding, award_action_request), CCIP_MSG(funding, award_reply)},
    {"funding.award.suspend.v1", 1, funding_roles_staff, funding_award_act, NULL,
     CCIP_MSG(funding, award_action_request), CCIP_MSG(funding, award_reply)},
    {"funding.award.resume.v1", 1, funding_roles_staff, funding_award_act, NULL,
     CCIP_MSG(funding, award_action_request), CCIP_MSG(funding, award_reply)},
    {"funding.award.terminate.v1", 1, funding_roles_staff, funding_award_act, NULL,
     CCIP_MSG(funding, award_action_request), CCIP_MSG(funding, award_reply)},
    {"funding.award.link_work.v1", 1, funding_roles_staff, funding_award_link_work, NULL,
     CCIP_MSG(funding, link_work_request), CCIP_MSG(funding, award_reply)},
    {"funding.payment.request.v1", 1, funding_roles_staff, funding_payment_request, NULL,
     CCIP_MSG(funding, request_payment_request), CCIP_MSG(funding, payment_reply)},
    {"funding.payment.approve.v1", 1, funding_roles_finance, funding_payment_approve, NULL,
     CCIP_MSG(funding, approve_payment_request), CCIP_MSG(funding, payment_reply)},
    {"funding.payment.cancel.v1", 1, funding_roles_money, funding_payment_cancel, NULL,
     CCIP_MSG(funding, cancel_payment_request), CCIP_MSG(funding, payment_reply)},
    {"funding.report.save.v1", 1, funding_roles_grantee, funding_report_save, NULL,
     CCIP_MSG(funding, save_report_request), CCIP_MSG(funding, use_report_reply)},
    {"funding.report.submit.v1", 1, funding_roles_grantee, funding_report_act, NULL,
     CCIP_MSG(funding, report_action_request), CCIP_MSG(funding, use_report_reply)},
    {"funding.report.accept.v1", 1, funding_roles_staff, funding_report_act, NULL,
     CCIP_MSG(funding, report_action_request), CCIP_MSG(funding, use_report_reply)},
    {"funding.report.return.v1", 1, funding_roles_staff, funding_report_act, NULL,
     CCIP_MSG(funding, report_action_request), CCIP_MSG(funding, use_report_reply)},
    {"funding.inspection.schedule.v1", 1, funding_roles_staff, funding_inspection_schedule, NULL,
     CCIP_MSG(funding, schedule_inspection_request), CCIP_MSG(funding, inspection_reply)},
    {"funding.inspection.record.v1", 1, funding_roles_staff, funding_inspection_record, NULL,
     CCIP_MSG(funding, record_inspection_request), CCIP_MSG(funding, inspection_reply)},
    {"funding.clawback.recover.v1", 1, funding_roles_money, funding_clawback_recover, NULL,
     CCIP_MSG(funding, recover_request), CCIP_MSG(funding, clawback_reply)},
    {"funding.summary.year.v1", 0, funding_roles_readers, funding_summary_year, NULL,
     CCIP_MSG(funding, year_summary_request), CCIP_MSG(funding, year_summary_reply)},
    {"funding.journal.list.v1", 0, funding_roles_money, funding_journal_list, NULL,
     CCIP_MSG(funding, list_journal_request), CCIP_MSG(funding, list_journal_reply)},
    {"funding.ledger.verify.v1", 0, funding_roles_money, funding_ledger_verify, NULL,
     CCIP_MSG(funding, verify_ledger_request), CCIP_MSG(funding, verify_ledger_reply)},
};

/* Awards are proposed from evaluation's decisions, and held while an upheld
 * ip dispute freezes a work they use (funding_awards.h). */
static const ccip_consumer_handler s_evaluation[] = {
    {"evaluation.decision.made.v1", funding_on_decision},
};

static const ccip_consumer_handler s_ip[] = {
    {"ip.dispute.upheld.v1", funding_on_dispute_upheld},
    {"ip.dispute.lifted.v1", funding_on_dispute_lifted},
};

static const ccip_subscription s_subscriptions[] = {
    {"evaluation", CCIP_TABLE(s_evaluation)},
    {"ip", CCIP_TABLE(s_ip)},
};

static const ccip_config_field s_config_fields[] = {
    {"funding.four_eyes_above_fen", CCIP_CFG_INT, offsetof(funding_config, four_eyes_above_fen), 0,
     FUNDING_AMOUNT_MAX, FUNDING_FOUR_EYES_DEFAULT, "CCIP_FUNDING_FOUR_EYES_ABOVE_FEN",
     "an amount in fen: payments above it need a second approver (0 = every "
     "payment)"},
};

const ccip_service_def funding_def = {
    .name = "funding",
    /* who may replay its events: the services that subscribe to them
     * (tests/services/test_service_defs.c checks both sides) */
    .consumers =
        (const char *const[]){"intake", "stats", "followup", "notify", "ip", "casefile", NULL},
    .migrations = funding_migrations,
    CCIP_DEF_TABLE(commands, s_commands),
    CCIP_DEF_TABLE(subscriptions, s_subscriptions),
    CCIP_DEF_TABLE(config_fields, s_config_fields),
    .config_size = sizeof(funding_config),
};

const funding_config *funding_config_get(const ccip_command *cmd)
{
    return ccip_service_config_get(cmd->service);
}

/* ---- callers ------------------------------------------------------------- */

int funding_actor_org(ccip_command *cmd, char uscc[CCIP_USCC_LEN + 1])
{
    uscc[0] = '\0';
    if (strcmp(cmd->actor.role, "grantee") != 0)
        return 0;
    const char *id = cmd->actor.id;
    size_t plen = strlen(FUNDING_ORG_ACTOR_PREFIX);
    if (strncmp(id, FUNDING_ORG_ACTOR_PREFIX, plen) != 0 || ccip_uscc_check(id + plen, NULL, 0) < 0)
        return ccip_command_fail(
            cmd, CCIP__STATUS__PERMISSION_DENIED,
            "a grantee acts for one organisation: its actor id must be \"org:\" followed "
            "by the organisation's unified social credit code, got \"%.60s\"",
            id);
    memcpy(uscc, id + plen, CCIP_USCC_LEN);
    uscc[CCIP_USCC_LEN] = '\0';
    return 0;
}

int funding_check_grantee(ccip_command *cmd, const char *uscc, const char *what)
{
    char own[CCIP_USCC_LEN + 1];
    int rc = funding_actor_org(cmd, own);
    if (rc != 0 || !own[0])
        return rc;
    if (strcmp(own, uscc) != 0)
        return ccip_command_fail(
            cmd, CCIP__STATUS__PERMISSION_DENIED,
            "the caller acts for organisation %s and may not see or act on %s, which "
            "belongs to another organisation",
            own, what);
    return 0;
}

/* ---- checks ---------------------------------------------------------------- */

int funding_check_amount(ccip_command *cmd, const char *field, int64_t fen, int zero_ok)
{
    if ((fen == 0 && zero_ok) || (fen >= 1 && fen <= FUNDING_AMOUNT_MAX))
        return 0;
    char yuan[CCIP_FEN_STRLEN + 1], max[CCIP_FEN_STRLEN + 1];
    funding_yuan(fen, yuan, sizeof yuan);
    funding_yuan(FUNDING_AMOUNT_MAX, max, sizeof max);
    if (fen <= 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `%s` must be a positive amount in fen%s, got %" PRId64
                                 " (%s yuan)",
                                 field, zero_ok ? " (or 0)" : "", fen, yuan);
    return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                             "field `%s` must be at most %s yuan (%lld fen), got %" PRId64 " fen",
                             field, max, FUNDING_AMOUNT_MAX, fen);
}

int funding_check_year(ccip_command *cmd, const char *field, int32_t year)
{
    if (year >= 2000 && year <= 2100)
        return 0;
    return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                             "field `%s` must be a year between 2000 and 2100, got %d", field,
                             (int)year);
}

/* ---- values --------------------------------------------------------------- */

void funding_yuan(int64_t fen, char *buf, size_t len)
{
    if (ccip_fen_format(fen, buf, len) < 0 && len > 0)
        buf[0] = '\0';
}
