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

static const ccip_command_handler s_commands[] = {
    {"funding.programme.create.v1", 1, funding_roles_staff, funding_programme_create, NULL, NULL,
     NULL},
    {"funding.programme.configure.v1", 1, funding_roles_staff, funding_programme_configure, NULL,
     NULL, NULL},
    {"funding.programme.get.v1", 0, funding_roles_readers, funding_programme_get, NULL, NULL, NULL},
    {"funding.programme.list.v1", 0, funding_roles_readers, funding_programme_list, NULL, NULL,
     NULL},
    {"funding.budget.set.v1", 1, funding_roles_staff, funding_budget_set, NULL, NULL, NULL},
    {"funding.year.close.v1", 1, funding_roles_staff, funding_year_close, NULL, NULL, NULL},
    {"funding.budget.get.v1", 0, funding_roles_readers, funding_budget_get, NULL, NULL, NULL},
    {"funding.budget.list.v1", 0, funding_roles_readers, funding_budget_list, NULL, NULL, NULL},
    {"funding.award.get.v1", 0, funding_roles_awards, funding_award_get, NULL, NULL, NULL},
    {"funding.award.list.v1", 0, funding_roles_awards, funding_award_list, NULL, NULL, NULL},
    {"funding.award.confirm.v1", 1, funding_roles_staff, funding_award_confirm,
     funding_award_confirm_batch, NULL, NULL},
    {"funding.award.reject.v1", 1, funding_roles_staff, funding_award_reject, NULL, NULL, NULL},
    {"funding.award.sign.v1", 1, funding_roles_staff, funding_award_sign, NULL, NULL, NULL},
    {"funding.award.suspend.v1", 1, funding_roles_staff, funding_award_suspend, NULL, NULL, NULL},
    {"funding.award.resume.v1", 1, funding_roles_staff, funding_award_resume, NULL, NULL, NULL},
    {"funding.award.terminate.v1", 1, funding_roles_staff, funding_award_terminate, NULL, NULL,
     NULL},
    {"funding.award.link_work.v1", 1, funding_roles_staff, funding_award_link_work, NULL, NULL,
     NULL},
    {"funding.payment.request.v1", 1, funding_roles_staff, funding_payment_request, NULL, NULL,
     NULL},
    {"funding.payment.approve.v1", 1, funding_roles_finance, funding_payment_approve, NULL, NULL,
     NULL},
    {"funding.payment.cancel.v1", 1, funding_roles_money, funding_payment_cancel, NULL, NULL, NULL},
    {"funding.report.save.v1", 1, funding_roles_grantee, funding_report_save, NULL, NULL, NULL},
    {"funding.report.submit.v1", 1, funding_roles_grantee, funding_report_submit, NULL, NULL, NULL},
    {"funding.report.accept.v1", 1, funding_roles_staff, funding_report_accept, NULL, NULL, NULL},
    {"funding.report.return.v1", 1, funding_roles_staff, funding_report_return, NULL, NULL, NULL},
    {"funding.inspection.schedule.v1", 1, funding_roles_staff, funding_inspection_schedule, NULL,
     NULL, NULL},
    {"funding.inspection.record.v1", 1, funding_roles_staff, funding_inspection_record, NULL, NULL,
     NULL},
    {"funding.clawback.recover.v1", 1, funding_roles_money, funding_clawback_recover, NULL, NULL,
     NULL},
    {"funding.summary.year.v1", 0, funding_roles_readers, funding_summary_year, NULL, NULL, NULL},
    {"funding.journal.list.v1", 0, funding_roles_money, funding_journal_list, NULL, NULL, NULL},
    {"funding.ledger.verify.v1", 0, funding_roles_money, funding_ledger_verify, NULL, NULL, NULL},
};

static const ccip_consumer_handler s_evaluation[] = {
    {"evaluation.decision.made.v1", funding_on_decision},
};

static const ccip_consumer_handler s_ip[] = {
    {"ip.dispute.upheld.v1", funding_on_dispute_upheld},
    {"ip.dispute.lifted.v1", funding_on_dispute_lifted},
};

static const ccip_subscription s_subscriptions[] = {
    {"evaluation", s_evaluation, sizeof s_evaluation / sizeof s_evaluation[0]},
    {"ip", s_ip, sizeof s_ip / sizeof s_ip[0]},
};

static const ccip_config_field s_config_fields[] = {
    {"funding.four_eyes_above_fen", CCIP_CFG_INT, offsetof(funding_config, four_eyes_above_fen), 0,
     FUNDING_AMOUNT_MAX, FUNDING_FOUR_EYES_DEFAULT, "CCIP_FUNDING_FOUR_EYES_ABOVE_FEN",
     "an amount in fen: payments above it need a second approver (0 = every "
     "payment)"},
};

const ccip_service_def funding_def = {
    .name = "funding",
    .consumers = (const char *const[]){"intake", "stats", NULL}, /* who replays its events */
    .migrations = funding_migrations,
    .commands = s_commands,
    .ncommands = sizeof s_commands / sizeof s_commands[0],
    .subscriptions = s_subscriptions,
    .nsubscriptions = sizeof s_subscriptions / sizeof s_subscriptions[0],
    .config_fields = s_config_fields,
    .nconfig_fields = sizeof s_config_fields / sizeof s_config_fields[0],
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
        return funding_fail(
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
        return funding_fail(
            cmd, CCIP__STATUS__PERMISSION_DENIED,
            "the caller acts for organisation %s and may not see or act on %s, which "
            "belongs to another organisation",
            own, what);
    return 0;
}

/* ---- replies and events --------------------------------------------------- */

int funding_fail(ccip_command *cmd, Ccip__Status status, const char *fmt, ...)
{
    cmd->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd->error, sizeof cmd->error, fmt, ap);
    va_end(ap);
    return FUNDING_REPLIED;
}

ProtobufCMessage *funding_unpack(ccip_command *cmd, const ProtobufCMessageDescriptor *desc)
{
    return ccip_command_unpack(cmd, desc);
}

/* Packs msg into a malloc'd buffer. Returns it (caller frees) or NULL. */
static uint8_t *s_pack(const ProtobufCMessage *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        protobuf_c_message_pack(msg, buf);
    return buf;
}

int funding_reply(ccip_command *cmd, const ProtobufCMessage *msg)
{
    return ccip_command_reply(cmd, msg) ? FUNDING_REPLIED : 0;
}

int funding_emit(ccip_command *cmd, const char *type, const char *aggregate_type,
                 const char *aggregate_id, const ProtobufCMessage *msg)
{
    int rc = ccip_command_emit(cmd, type, aggregate_type, aggregate_id, msg);
    return rc != 0 && cmd->status != CCIP__STATUS__OK ? FUNDING_REPLIED : rc;
}

int funding_emit_db(ccip_db *db, const Ccip__Envelope *cause, const char *type,
                    const char *aggregate_type, const char *aggregate_id,
                    const ProtobufCMessage *msg)
{
    size_t len;
    uint8_t *buf = s_pack(msg, &len);
    if (!buf || len > CCIP_OUTBOX_PAYLOAD_MAX) {
        free(buf);
        ccip_log_error("could not write an event", "type", type, "reason",
                       buf ? "too large" : "out of memory");
        return -1;
    }
    ccip_outbox_event ev = {
        .type = type,
        .aggregate_type = aggregate_type,
        .aggregate_id = aggregate_id,
        .payload = buf,
        .payload_len = len,
        .correlation_id = cause->correlation_id[0] ? cause->correlation_id : cause->id,
        .causation_id = cause->id,
        .actor_id = cause->actor_id,
        .actor_role = cause->actor_role,
    };
    char err[256];
    int rc = ccip_outbox_append(db, "funding", &ev, err, sizeof err);
    free(buf);
    if (rc != CCIP_OUTBOX_OK)
        ccip_log_warn("could not write an event", "type", type, "reason", err);
    return rc;
}

/* ---- checks ---------------------------------------------------------------- */

int funding_check_text(ccip_command *cmd, const char *field, const char *s, size_t min_chars,
                       size_t max_chars, int flags)
{
    char err[256];
    if (ccip_text_check(field, s, min_chars, max_chars, flags, err, sizeof err) < 0)
        return funding_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    return 0;
}

int funding_check_code(ccip_command *cmd, const char *field, const char *s)
{
    char err[256];
    if (ccip_code_check(field, s, FUNDING_CODE_MAX, err, sizeof err) < 0)
        return funding_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    return 0;
}

int funding_check_amount(ccip_command *cmd, const char *field, int64_t fen, int zero_ok)
{
    if ((fen == 0 && zero_ok) || (fen >= 1 && fen <= FUNDING_AMOUNT_MAX))
        return 0;
    char yuan[CCIP_FEN_STRLEN + 1], max[CCIP_FEN_STRLEN + 1];
    funding_yuan(fen, yuan, sizeof yuan);
    funding_yuan(FUNDING_AMOUNT_MAX, max, sizeof max);
    if (fen <= 0)
        return funding_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                            "field `%s` must be a positive amount in fen%s, got %" PRId64
                            " (%s yuan)",
                            field, zero_ok ? " (or 0)" : "", fen, yuan);
    return funding_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                        "field `%s` must be at most %s yuan (%lld fen), got %" PRId64 " fen", field,
                        max, FUNDING_AMOUNT_MAX, fen);
}

int funding_check_uuid(ccip_command *cmd, const char *field, const char *s)
{
    if (ccip_uuid_valid(s))
        return 0;
    char shown[48];
    size_t i = 0;
    for (; s && s[i] && i < 40; i++)
        shown[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ? '?' : s[i];
    shown[i] = '\0';
    return funding_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                        "field `%s` must be an id (a UUID such as "
                        "01936b2e-4c3a-7d21-9f0e-5b8c2a1d4e6f), got \"%s\"",
                        field, shown);
}

int funding_check_year(ccip_command *cmd, const char *field, int32_t year)
{
    if (year >= 2000 && year <= 2100)
        return 0;
    return funding_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                        "field `%s` must be a year between 2000 and 2100, got %d", field,
                        (int)year);
}

/* ---- values --------------------------------------------------------------- */

const char *funding_enum_name(const ProtobufCEnumDescriptor *desc, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    return v ? v->name : NULL;
}

int funding_enum_value(const ProtobufCEnumDescriptor *desc, const char *name)
{
    const ProtobufCEnumValue *v =
        name ? protobuf_c_enum_descriptor_get_value_by_name(desc, name) : NULL;
    return v ? v->value : 0;
}

int64_t funding_cell_i64(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return 0;
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int funding_cell_bool(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && strcmp(PQgetvalue(res, row, col), "t") == 0;
}

void funding_yuan(int64_t fen, char *buf, size_t len)
{
    if (ccip_fen_format(fen, buf, len) < 0 && len > 0)
        buf[0] = '\0';
}

void funding_time_text(int64_t us, char *buf, size_t len)
{
    if (ccip_time_format_us(us, buf, len) < 0)
        return;
    char *dot = strchr(buf, '.');
    if (dot && strcmp(dot, ".000000Z") == 0)
        memcpy(dot, "Z", 2);
}

char *funding_i64(int64_t v, char buf[24])
{
    snprintf(buf, 24, "%" PRId64, v);
    return buf;
}
