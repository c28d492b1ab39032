#include "stats.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "stats_analysis.h"
#include "stats_approval.h"
#include "stats_catalogue.h"
#include "stats_completeness.h"
#include "stats_projections.h"
#include "stats_release.h"
#include "stats_reports.h"
#include "stats_roster.h"

CCIP_MIGRATIONS_DECLARE(stats);

const char *const stats_roles_center[] = {"staff", "admin", NULL};
const char *const stats_roles_admin[] = {"admin", NULL};
const char *const stats_roles_operator[] = {"operator", NULL};
const char *const stats_roles_district[] = {"district", NULL};
const char *const stats_roles_analyst[] = {"analyst", NULL};
const char *const stats_roles_readers[] = {"staff",   "admin",   "district", "operator",
                                           "analyst", "service", NULL};
const char *const stats_roles_office[] = {"staff", "admin", "district", "analyst", "service", NULL};
const char *const stats_roles_checksum[] = {"staff", "admin", "service", NULL};

static const ccip_command_handler s_commands[] = {
    {"stats.catalogue.get.v1", 0, stats_roles_readers, stats_catalogue_get_cmd, NULL, NULL, NULL},
    {"stats.catalogue.publish.v1", 1, stats_roles_center, stats_catalogue_publish_cmd, NULL, NULL,
     NULL},
    {"stats.roster.categorise.v1", 1, stats_roles_center, stats_roster_categorise_cmd, NULL, NULL,
     NULL},
    {"stats.roster.list.v1", 0, stats_roles_readers, stats_roster_list_cmd, NULL, NULL, NULL},
    {"stats.report.save.v1", 1, stats_roles_operator, stats_report_save_cmd, NULL, NULL, NULL},
    {"stats.report.submit.v1", 1, stats_roles_operator, stats_report_submit_cmd, NULL, NULL, NULL},
    {"stats.report.review.v1", 1, stats_roles_district, stats_report_review_cmd, NULL, NULL, NULL},
    {"stats.report.decide.v1", 1, stats_roles_center, stats_report_decide_cmd, NULL, NULL, NULL},
    {"stats.report.correct.v1", 1, stats_roles_center, stats_report_correct_cmd, NULL, NULL, NULL},
    {"stats.report.get.v1", 0, stats_roles_readers, stats_report_get_cmd, NULL, NULL, NULL},
    {"stats.report.list.v1", 0, stats_roles_readers, stats_report_list_cmd, NULL, NULL, NULL},
    {"stats.report.audit.v1", 0, stats_roles_readers, stats_report_audit_cmd, NULL, NULL, NULL},
    {"stats.lock.grant.v1", 1, stats_roles_center, stats_lock_grant_cmd, NULL, NULL, NULL},
    {"stats.completeness.get.v1", 0, stats_roles_office, stats_completeness_cmd, NULL, NULL, NULL},
    {"stats.analysis.get.v1", 0, stats_roles_office, stats_analysis_cmd, NULL, NULL, NULL},
    {"stats.indicators.get.v1", 0, stats_roles_office, stats_indicators_cmd, NULL, NULL, NULL},
    {"stats.projections.rebuild.v1", 1, stats_roles_admin, stats_rebuild_cmd, NULL, NULL, NULL},
    {"stats.projections.checksum.v1", 0, stats_roles_checksum, stats_checksum_cmd, NULL, NULL,
     NULL},
    {"stats.release.publish.v1", 1, stats_roles_analyst, stats_release_publish_cmd, NULL, NULL,
     NULL},
    {"stats.release.get.v1", 0, NULL, stats_release_get_cmd, NULL, NULL, NULL},
    {"stats.release.list.v1", 0, NULL, stats_release_list_cmd, NULL, NULL, NULL},
};

/* The streams consumed: the roster from evaluation's designations, the
 * event-derived indicators (stats_projections) from everything else. */
static const ccip_consumer_handler s_intake[] = {
    {"intake.organisation.registered.v1", stats_projection_apply_event},
    {"intake.application.submitted.v1", stats_projection_apply_event},
    {"intake.application.accepted.v1", stats_projection_apply_event},
};

static const ccip_consumer_handler s_evaluation[] = {
    {"evaluation.designation.granted.v1", stats_roster_on_designation},
    {"evaluation.designation.revoked.v1", stats_roster_on_designation},
    {"evaluation.decision.made.v1", stats_projection_apply_event},
};

static const ccip_consumer_handler s_funding[] = {
    {"funding.award.granted.v1", stats_projection_apply_event},
    {"funding.disbursement.paid.v1", stats_projection_apply_event},
    {"funding.clawback.ordered.v1", stats_projection_apply_event},
};

static const ccip_consumer_handler s_ip[] = {
    {"ip.work.registered.v1", stats_projection_apply_event},
    {"ip.trade.settled.v1", stats_projection_apply_event},
    {"ip.dispute.upheld.v1", stats_projection_apply_event},
};

#define NHANDLERS(a) (sizeof a / sizeof a[0])

static const ccip_subscription s_subscriptions[] = {
    {"intake", s_intake, NHANDLERS(s_intake)},
    {"evaluation", s_evaluation, NHANDLERS(s_evaluation)},
    {"funding", s_funding, NHANDLERS(s_funding)},
    {"ip", s_ip, NHANDLERS(s_ip)},
};

static const ccip_config_field s_config_fields[] = {
    {"stats.lock_days", CCIP_CFG_INT, offsetof(stats_config, lock_days), 0, 3660,
     STATS_LOCK_DAYS_DEFAULT, "CCIP_STATS_LOCK_DAYS",
     "days after a quarter ends when it closes for entry, 0 to 3660"},
    {"stats.due_days", CCIP_CFG_INT, offsetof(stats_config, due_days), 0, 3660,
     STATS_DUE_DAYS_DEFAULT, "CCIP_STATS_DUE_DAYS",
     "days after a quarter ends by which a first submission is on time, 0 to 3660"},
    {"stats.change_pct", CCIP_CFG_INT, offsetof(stats_config, change_pct), 1, 100000,
     STATS_CHANGE_PCT_DEFAULT, "CCIP_STATS_CHANGE_PCT",
     "the percentage a value may move against the previous quarter or a year before "
     "without a warning, 1 to 100000"},
    {"stats.max_exception_days", CCIP_CFG_INT, offsetof(stats_config, max_exception_days), 1, 366,
     STATS_EXCEPTION_DAYS_DEFAULT, "CCIP_STATS_MAX_EXCEPTION_DAYS",
     "the longest lock exception staff may grant, in days, 1 to 366"},
};

const ccip_service_def stats_def = {
    .name = "stats",
    .migrations = stats_migrations,
    .commands = s_commands,
    .ncommands = sizeof s_commands / sizeof s_commands[0],
    .subscriptions = s_subscriptions,
    .nsubscriptions = NHANDLERS(s_subscriptions),
    .config_fields = s_config_fields,
    .nconfig_fields = sizeof s_config_fields / sizeof s_config_fields[0],
    .config_size = sizeof(stats_config),
};

/* ---- callers ------------------------------------------------------------- */

int stats_caller_get(ccip_command *cmd, stats_caller *out)
{
    memset(out, 0, sizeof *out);
    const char *role = cmd->actor.role;
    const char *id = cmd->actor.id;
    if (strcmp(role, "staff") == 0 || strcmp(role, "admin") == 0) {
        out->kind = STATS_CALLER_CENTER;
    } else if (strcmp(role, "district") == 0) {
        size_t plen = strlen(STATS_DISTRICT_PREFIX);
        const ccip_district *d =
            strncmp(id, STATS_DISTRICT_PREFIX, plen) == 0 ? ccip_district_find(id + plen) : NULL;
        if (!d || strcmp(d->code, id + plen) != 0)
            return stats_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                              "a district office acts for one district: its actor id must be "
                              "\"district:\" followed by the district's code, e.g. "
                              "district:110105, got \"%.60s\"",
                              id);
        out->kind = STATS_CALLER_DISTRICT;
        snprintf(out->district, sizeof out->district, "%s", d->code);
    } else if (strcmp(role, "operator") == 0) {
        size_t plen = strlen(STATS_ORG_PREFIX);
        if (strncmp(id, STATS_ORG_PREFIX, plen) != 0 || ccip_uscc_check(id + plen, NULL, 0) < 0)
            return stats_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                              "an operator acts for one organisation: its actor id must be "
                              "\"org:\" followed by the organisation's unified social credit "
                              "code, got \"%.60s\"",
                              id);
        out->kind = STATS_CALLER_OPERATOR;
        memcpy(out->uscc, id + plen, CCIP_USCC_LEN);
        out->uscc[CCIP_USCC_LEN] = '\0';
    } else if (strcmp(role, "analyst") == 0) {
        out->kind = STATS_CALLER_ANALYST;
    } else {
        out->kind = STATS_CALLER_SERVICE;
    }
    return 0;
}

const stats_config *stats_cfg(const ccip_command *cmd)
{
    return ccip_service_config_get(cmd->service);
}

/* ---- replies and events --------------------------------------------------- */

int stats_fail(ccip_command *cmd, Ccip__Status status, const char *fmt, ...)
{
    cmd->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd->error, sizeof cmd->error, fmt, ap);
    va_end(ap);
    return STATS_REPLIED;
}

ProtobufCMessage *stats_unpack(ccip_command *cmd, const ProtobufCMessageDescriptor *desc)
{
    return ccip_command_unpack(cmd, desc);
}

int stats_reply(ccip_command *cmd, const ProtobufCMessage *msg)
{
    return ccip_command_reply(cmd, msg) ? STATS_REPLIED : 0;
}

int stats_emit(ccip_command *cmd, const char *type, const char *aggregate_type,
               const char *aggregate_id, const ProtobufCMessage *msg)
{
    int rc = ccip_command_emit(cmd, type, aggregate_type, aggregate_id, msg);
    return rc != 0 && cmd->status != CCIP__STATUS__OK ? STATS_REPLIED : rc;
}

/* ---- arguments ---------------------------------------------------------------- */

int stats_quarter_arg(ccip_command *cmd, const char *field, const char *text, stats_quarter *q)
{
    char err[256];
    if (stats_quarter_parse(field, text, q, err, sizeof err) < 0)
        return stats_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    return 0;
}

int stats_district_arg(ccip_command *cmd, const char *field, const char *text, char code[8])
{
    code[0] = '\0';
    if (!text || !text[0])
        return 0;
    const ccip_district *d = ccip_district_find(text);
    if (!d) {
        char err[400];
        ccip_district_check(text, err, sizeof err);
        return stats_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "field `%s`: %s", field, err);
    }
    snprintf(code, 8, "%s", d->code);
    return 0;
}

int stats_text_arg(ccip_command *cmd, const char *field, const char *s, size_t min_chars,
                   size_t max_chars, int multiline)
{
    char err[256];
    if (ccip_text_check(field, s, min_chars, max_chars, multiline ? CCIP_TEXT_MULTILINE : 0, err,
                        sizeof err) < 0)
        return stats_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    return 0;
}

int stats_code_valid(const char *s)
{
    if (!s || !(s[0] >= 'a' && s[0] <= 'z'))
        return -1;
    size_t n = 0;
    for (const char *p = s; *p; p++, n++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return -1;
    return n <= 40 ? 0 : -1;
}

static const ccip_db_stmt S_AUDIT_CONTEXT = {
    "stats_audit_context",
    "SELECT set_config('stats.actor_id', $1, true), set_config('stats.actor_role', $2, true), "
    "set_config('stats.reason', $3, true), set_config('stats.command_id', $4, true)"};

int stats_audit_context(ccip_command *cmd, const char *reason)
{
    const char *values[] = {cmd->actor.id, cmd->actor.role, reason, cmd->req->id};
    return ccip_db_exec(cmd->db, &S_AUDIT_CONTEXT, 4, values, NULL, NULL, NULL);
}

/* ---- values --------------------------------------------------------------------- */

const char *stats_enum_name(const ProtobufCEnumDescriptor *desc, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    return v ? v->name : NULL;
}

int stats_enum_value(const ProtobufCEnumDescriptor *desc, const char *name)
{
    const ProtobufCEnumValue *v =
        name ? protobuf_c_enum_descriptor_get_value_by_name(desc, name) : NULL;
    return v ? v->value : 0;
}

int64_t stats_cell_i64(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return 0;
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

void stats_time_text(int64_t us, char *buf, size_t len)
{
    char t[CCIP_TIME_STRLEN + 1];
    if (ccip_time_format_us(us, t, sizeof t) < 0) {
        snprintf(buf, len, "?");
        return;
    }
    char *dot = strchr(t, '.');
    if (dot && strcmp(dot, ".000000Z") == 0)
        memcpy(dot, "Z", 2);
    snprintf(buf, len, "%s", t);
}

int64_t stats_due_us(const ccip_command *cmd, stats_quarter q)
{
    return stats_quarter_end_us(q) + stats_cfg(cmd)->due_days * STATS_DAY_US;
}

int64_t stats_locks_us(const ccip_command *cmd, stats_quarter q)
{
    return stats_quarter_end_us(q) + stats_cfg(cmd)->lock_days * STATS_DAY_US;
}
