#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "stats_analysis.h"
#include "stats_approval.h"
#include "stats_catalogue.h"
#include "stats_completeness.h"
#include "stats_departments.h"
#include "stats_due.h"
#include "stats_facts.h"
#include "stats_projections.h"
#include "stats_questionnaires.h"
#include "stats_rebuild.h"
#include "stats_release.h"
#include "stats_reports.h"
#include "stats_research.h"
#include "stats_roster.h"
#include "stats_survey_responses.h"
#include "stats_survey_results.h"
#include "stats_surveys.h"

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
const char *const stats_roles_respondents[] = {"district", "department", "operator", "applicant",
                                               NULL};
const char *const stats_roles_surveyors[] = {"analyst", "staff", "admin", NULL};
const char *const stats_roles_survey_office[] = {"analyst",  "staff",   "admin",
                                                 "district", "service", NULL};
const char *const stats_roles_research[] = {"analyst",   "staff",      "admin", "operator",
                                            "applicant", "department", NULL};

/* The commands (roles and messages as in proto/ccip/stats.proto). */
static const ccip_command_handler s_commands[] = {
    {"stats.catalogue.get.v1", 0, stats_roles_readers, stats_catalogue_get_cmd, NULL,
     CCIP_MSG(stats, get_catalogue_request), CCIP_MSG(stats, catalogue_reply)},
    {"stats.catalogue.publish.v1", 1, stats_roles_center, stats_catalogue_publish_cmd, NULL,
     CCIP_MSG(stats, publish_catalogue_request), CCIP_MSG(stats, catalogue_reply)},
    {"stats.roster.categorise.v1", 1, stats_roles_center, stats_roster_categorise_cmd, NULL,
     CCIP_MSG(stats, categorise_roster_entry_request), CCIP_MSG(stats, roster_entry_reply)},
    {"stats.roster.list.v1", 0, stats_roles_readers, stats_roster_list_cmd, NULL,
     CCIP_MSG(stats, list_roster_request), CCIP_MSG(stats, list_roster_reply)},
    {"stats.report.save.v1", 1, stats_roles_operator, stats_report_save_cmd, NULL,
     CCIP_MSG(stats, save_report_request), CCIP_MSG(stats, report_reply)},
    {"stats.report.submit.v1", 1, stats_roles_operator, stats_report_submit_cmd, NULL,
     CCIP_MSG(stats, submit_report_request), CCIP_MSG(stats, report_reply)},
    {"stats.report.review.v1", 1, stats_roles_district, stats_report_review_cmd, NULL,
     CCIP_MSG(stats, decide_report_request), CCIP_MSG(stats, report_reply)},
    {"stats.report.decide.v1", 1, stats_roles_center, stats_report_decide_cmd, NULL,
     CCIP_MSG(stats, decide_report_request), CCIP_MSG(stats, report_reply)},
    {"stats.report.correct.v1", 1, stats_roles_center, stats_report_correct_cmd, NULL,
     CCIP_MSG(stats, correct_report_request), CCIP_MSG(stats, report_reply)},
    {"stats.report.get.v1", 0, stats_roles_readers, stats_report_get_cmd, NULL,
     CCIP_MSG(stats, get_report_request), CCIP_MSG(stats, report_reply)},
    {"stats.report.list.v1", 0, stats_roles_readers, stats_report_list_cmd, NULL,
     CCIP_MSG(stats, list_reports_request), CCIP_MSG(stats, list_reports_reply)},
    {"stats.report.audit.v1", 0, stats_roles_readers, stats_report_audit_cmd, NULL,
     CCIP_MSG(stats, get_report_request), CCIP_MSG(stats, audit_reply)},
    {"stats.lock.grant.v1", 1, stats_roles_center, stats_lock_grant_cmd, NULL,
     CCIP_MSG(stats, grant_lock_exception_request), CCIP_MSG(stats, lock_exception_reply)},
    {"stats.completeness.get.v1", 0, stats_roles_office, stats_completeness_cmd, NULL,
     CCIP_MSG(stats, completeness_request), CCIP_MSG(stats, completeness_reply)},
    {"stats.analysis.get.v1", 0, stats_roles_office, stats_analysis_cmd, NULL,
     CCIP_MSG(stats, analysis_request), CCIP_MSG(stats, analysis_reply)},
    {"stats.indicators.get.v1", 0, stats_roles_office, stats_indicators_cmd, NULL,
     CCIP_MSG(stats, event_indicators_request), CCIP_MSG(stats, event_indicators_reply)},
    {"stats.projections.rebuild.v1", 1, stats_roles_admin, stats_rebuild_cmd, NULL,
     CCIP_MSG(stats, rebuild_request), CCIP_MSG(stats, rebuild_reply)},
    {"stats.projections.checksum.v1", 0, stats_roles_checksum, stats_checksum_cmd, NULL,
     CCIP_MSG(stats, checksum_request), CCIP_MSG(stats, checksum_reply)},
    {"stats.release.publish.v1", 1, stats_roles_analyst, stats_release_publish_cmd, NULL,
     CCIP_MSG(stats, publish_release_request), CCIP_MSG(stats, release_reply)},
    {"stats.release.get.v1", 0, NULL, stats_release_get_cmd, NULL,
     CCIP_MSG(stats, get_release_request), CCIP_MSG(stats, release_reply)},
    {"stats.release.list.v1", 0, NULL, stats_release_list_cmd, NULL,
     CCIP_MSG(stats, list_releases_request), CCIP_MSG(stats, list_releases_reply)},
    /* Surveys and research (issue 20). */
    {"stats.department.define.v1", 1, stats_roles_center, stats_department_define_cmd, NULL,
     CCIP_MSG(stats, define_department_request), CCIP_MSG(stats, department_reply)},
    {"stats.department.list.v1", 0, NULL, stats_department_list_cmd, NULL,
     CCIP_MSG(stats, list_departments_request), CCIP_MSG(stats, list_departments_reply)},
    {"stats.questionnaire.save.v1", 1, stats_roles_analyst, stats_questionnaire_save_cmd, NULL,
     CCIP_MSG(stats, save_questionnaire_request), CCIP_MSG(stats, questionnaire_reply)},
    {"stats.questionnaire.publish.v1", 1, stats_roles_analyst, stats_questionnaire_publish_cmd,
     NULL, CCIP_MSG(stats, publish_questionnaire_request), CCIP_MSG(stats, questionnaire_reply)},
    {"stats.questionnaire.get.v1", 0, NULL, stats_questionnaire_get_cmd, NULL,
     CCIP_MSG(stats, get_questionnaire_request), CCIP_MSG(stats, questionnaire_reply)},
    {"stats.questionnaire.list.v1", 0, stats_roles_surveyors, stats_questionnaire_list_cmd, NULL,
     CCIP_MSG(stats, list_questionnaires_request), CCIP_MSG(stats, list_questionnaires_reply)},
    {"stats.survey.create.v1", 1, stats_roles_analyst, stats_survey_create_cmd, NULL,
     CCIP_MSG(stats, create_survey_request), CCIP_MSG(stats, survey_reply)},
    {"stats.survey.close.v1", 1, stats_roles_surveyors, stats_survey_close_cmd, NULL,
     CCIP_MSG(stats, close_survey_request), CCIP_MSG(stats, survey_reply)},
    {"stats.survey.get.v1", 0, NULL, stats_survey_get_cmd, NULL,
     CCIP_MSG(stats, get_survey_request), CCIP_MSG(stats, survey_reply)},
    {"stats.survey.list.v1", 0, NULL, stats_survey_list_cmd, NULL,
     CCIP_MSG(stats, list_surveys_request), CCIP_MSG(stats, list_surveys_reply)},
    {"stats.survey.response.save.v1", 1, stats_roles_respondents, stats_response_save_cmd, NULL,
     CCIP_MSG(stats, save_response_request), CCIP_MSG(stats, response_reply)},
    {"stats.survey.response.submit.v1", 1, stats_roles_respondents, stats_response_submit_cmd, NULL,
     CCIP_MSG(stats, save_response_request), CCIP_MSG(stats, response_reply)},
    {"stats.survey.response.get.v1", 0, NULL, stats_response_get_cmd, NULL,
     CCIP_MSG(stats, get_response_request), CCIP_MSG(stats, response_reply)},
    {"stats.survey.response.reopen.v1", 1, stats_roles_center, stats_response_reopen_cmd, NULL,
     CCIP_MSG(stats, reopen_response_request), CCIP_MSG(stats, response_reply)},
    {"stats.survey.completeness.v1", 0, stats_roles_survey_office, stats_survey_completeness_cmd,
     NULL, CCIP_MSG(stats, survey_completeness_request),
     CCIP_MSG(stats, survey_completeness_reply)},
    {"stats.survey.results.v1", 0, NULL, stats_survey_results_cmd, NULL,
     CCIP_MSG(stats, survey_results_request), CCIP_MSG(stats, survey_results_reply)},
    {"stats.survey.texts.v1", 0, NULL, stats_survey_texts_cmd, NULL,
     CCIP_MSG(stats, survey_texts_request), CCIP_MSG(stats, survey_texts_reply)},
    {"stats.survey.export.v1", 0, NULL, stats_survey_export_cmd, NULL,
     CCIP_MSG(stats, survey_export_request), CCIP_MSG(stats, survey_export_reply)},
    {"stats.survey.attach.v1", 1, stats_roles_analyst, stats_survey_attach_cmd, NULL,
     CCIP_MSG(stats, attach_survey_request), CCIP_MSG(stats, attach_survey_reply)},
    /* Run by the service itself (s_schedules); no role asks for them. */
    {"stats.report.remind.v1", 1, stats_roles_admin, stats_report_remind_cmd, NULL,
     CCIP_MSG(stats, report_remind_request), CCIP_MSG(stats, report_remind_reply)},
    {"stats.survey.remind.v1", 1, stats_roles_admin, stats_survey_remind_cmd, NULL,
     CCIP_MSG(stats, survey_remind_request), CCIP_MSG(stats, survey_remind_reply)},
    {"stats.research.commission.v1", 1, stats_roles_analyst, stats_research_commission_cmd, NULL,
     CCIP_MSG(stats, commission_research_request), CCIP_MSG(stats, research_reply)},
    {"stats.research.deliver.v1", 1, stats_roles_respondents, stats_research_deliver_cmd, NULL,
     CCIP_MSG(stats, deliver_research_request), CCIP_MSG(stats, research_reply)},
    {"stats.research.review.v1", 1, stats_roles_analyst, stats_research_review_cmd, NULL,
     CCIP_MSG(stats, review_deliverable_request), CCIP_MSG(stats, research_reply)},
    {"stats.research.accept.v1", 1, stats_roles_analyst, stats_research_accept_cmd, NULL,
     CCIP_MSG(stats, accept_research_request), CCIP_MSG(stats, research_reply)},
    {"stats.research.get.v1", 0, stats_roles_research, stats_research_get_cmd, NULL,
     CCIP_MSG(stats, get_research_request), CCIP_MSG(stats, research_reply)},
    {"stats.research.list.v1", 0, stats_roles_research, stats_research_list_cmd, NULL,
     CCIP_MSG(stats, list_research_request), CCIP_MSG(stats, list_research_reply)},
    {"stats.research.document.v1", 0, stats_roles_research, stats_research_document_cmd, NULL,
     CCIP_MSG(stats, get_research_document_request), CCIP_MSG(stats, research_document_reply)},
};

/* The streams consumed: evaluation's designations feed the roster
 * (stats_roster.h); the events listed in stats_facts.h feed the
 * event-derived indicators (stats_projections.h). */
#define S_PROJECTION(type, message, kind, map) {type, stats_projections_apply_event},

static const ccip_consumer_handler s_intake[] = {STATS_FACTS_INTAKE(S_PROJECTION)};

static const ccip_consumer_handler s_evaluation[] = {
    {"evaluation.designation.granted.v1", stats_roster_on_designation},
    {"evaluation.designation.revoked.v1", stats_roster_on_designation},
    STATS_FACTS_EVALUATION(S_PROJECTION)};

static const ccip_consumer_handler s_funding[] = {STATS_FACTS_FUNDING(S_PROJECTION)};

static const ccip_consumer_handler s_ip[] = {STATS_FACTS_IP(S_PROJECTION)};

static const ccip_subscription s_subscriptions[] = {
    {"intake", CCIP_TABLE(s_intake)},
    {"evaluation", CCIP_TABLE(s_evaluation)},
    {"funding", CCIP_TABLE(s_funding)},
    {"ip", CCIP_TABLE(s_ip)},
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
    {"stats.survey_notice_seconds", CCIP_CFG_INT, offsetof(stats_config, survey_notice_seconds), 0,
     86400, STATS_NOTICE_SECONDS_DEFAULT, "CCIP_STATS_SURVEY_NOTICE_SECONDS",
     "how often surveys' invitations and reminders are sent, in seconds, 0 (never) to 86400"},
    {"stats.report_notice_seconds", CCIP_CFG_INT, offsetof(stats_config, report_notice_seconds), 0,
     86400, STATS_REPORT_NOTICE_SECONDS_DEFAULT, "CCIP_STATS_REPORT_NOTICE_SECONDS",
     "how often operators are told of the quarterly reports due, in seconds, 0 (never) to 86400"},
    {"stats.max_document_bytes", CCIP_CFG_INT, offsetof(stats_config, max_document_bytes), 1,
     1073741824, STATS_DOCUMENT_BYTES_DEFAULT, "CCIP_STATS_MAX_DOCUMENT_BYTES",
     "the largest research document taken, in bytes (a command must still fit "
     "limits.max_message_bytes)"},
};

/* Housekeeping the service gives itself (ccip_schedule). */
static const ccip_schedule s_schedules[] = {
    {"stats.survey.remind.v1", offsetof(stats_config, survey_notice_seconds)},
    {"stats.report.remind.v1", offsetof(stats_config, report_notice_seconds)},
};

const ccip_service_def stats_def = {
    .name = "stats",
    /* who may replay its events: the services that subscribe to them
     * (tests/services/test_service_defs.c checks both sides) */
    .consumers = (const char *const[]){"notify", "casefile", NULL},
    .migrations = stats_migrations,
    CCIP_DEF_TABLE(commands, s_commands),
    CCIP_DEF_TABLE(subscriptions, s_subscriptions),
    CCIP_DEF_TABLE(config_fields, s_config_fields),
    .config_size = sizeof(stats_config),
    CCIP_DEF_TABLE(schedules, s_schedules),
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
            return ccip_command_fail(
                cmd, CCIP__STATUS__PERMISSION_DENIED,
                "a district office acts for one district: its actor id must be "
                "\"district:\" followed by the district's code, e.g. "
                "district:110105, got \"%.60s\"",
                id);
        out->kind = STATS_CALLER_DISTRICT;
        snprintf(out->district, sizeof out->district, "%s", d->code);
    } else if (strcmp(role, "operator") == 0) {
        size_t plen = strlen(STATS_ORG_PREFIX);
        if (strncmp(id, STATS_ORG_PREFIX, plen) != 0 || ccip_uscc_check(id + plen, NULL, 0) < 0)
            return ccip_command_fail(
                cmd, CCIP__STATUS__PERMISSION_DENIED,
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

int stats_caller_district(ccip_command *cmd, const stats_caller *caller, char district[8],
                          const char *what)
{
    if (caller->kind != STATS_CALLER_DISTRICT)
        return 0;
    if (district[0] && strcmp(district, caller->district) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "district office %s may only list its own district's %s",
                                 caller->district, what);
    snprintf(district, 8, "%s", caller->district);
    return 0;
}

const stats_config *stats_cfg(const ccip_command *cmd)
{
    return ccip_service_config_get(cmd->service);
}

/* ---- replies ------------------------------------------------------------------- */

int stats_reply_built(ccip_command *cmd, const ccip_arena *a, const ProtobufCMessage *msg,
                      const char *oom)
{
    if (ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "%s", oom);
    return ccip_command_reply(cmd, msg);
}

/* ---- arguments ---------------------------------------------------------------- */

int stats_quarter_arg(ccip_command *cmd, const char *field, const char *text, stats_quarter *q)
{
    char err[256];
    return ccip_command_invalid(cmd, stats_quarter_parse(field, text, q, err, sizeof err), err);
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
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "field `%s`: %s", field, err);
    }
    snprintf(code, 8, "%s", d->code);
    return 0;
}

/* 1 when s is [a-z][a-z0-9_]*, 1 to 40 characters, else 0. */
static int s_code_valid(const char *s)
{
    if (!s || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    size_t n = 0;
    for (const char *p = s; *p; p++, n++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return n <= 40;
}

int stats_code_arg(ccip_command *cmd, const char *field, const char *s, const char *example)
{
    if (s_code_valid(s))
        return 0;
    return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                             "field `%s` must be 1 to 40 characters from a-z, 0-9 and '_', "
                             "starting with a letter%s, got \"%.60s\"",
                             field, example, s ? s : "");
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

int stats_db_found(ccip_db *db, const ccip_db_stmt *stmt, int nparams, const char *const *values,
                   int *found)
{
    *found = 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, stmt, nparams, values, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    *found = PQntuples(res) == 1;
    PQclear(res);
    return 0;
}

/* ---- values --------------------------------------------------------------------- */

int64_t stats_due_us(const ccip_command *cmd, stats_quarter q)
{
    return stats_quarter_end_us(q) + stats_cfg(cmd)->due_days * STATS_DAY_US;
}

int64_t stats_locks_us(const ccip_command *cmd, stats_quarter q)
{
    return stats_quarter_end_us(q) + stats_cfg(cmd)->lock_days * STATS_DAY_US;
}
