/*
 * stats: the statistical monitoring of the designated clusters and talent
 * training bases (issue 7; messages in proto/ccip/stats.proto, tables in
 * sql/0001_stats.sql).
 *
 * The service is stats_def (stats.c) run by ccip_service_main. Its
 * handlers live with their concept:
 *
 *   stats_quarter.c       quarters "2026Q3" in Beijing time (pure)
 *   stats_catalogue.c     indicator catalogue versions: get, publish
 *   stats_roster.c        the monitoring roster: grant and revoke (the
 *                         maintenance functions evaluation's designation
 *                         events will call), the STOPGAP staff commands,
 *                         list
 *   stats_validation.c    the rules a report is checked against (pure)
 *   stats_reports.c       reports: save, submit, get, list, correct, audit;
 *                         the entry lock and its exceptions
 *   stats_approval.c      district review, center decision
 *   stats_completeness.c  who reported on time, late, or not at all
 *   stats_facts.c         what each event of the other services
 *                         contributes (pure), and the list of those events
 *   stats_projections.c   indicators computed from those facts, checksum
 *   stats_rebuild.c       the projections made again by replay
 *   stats_analysis.c      aggregates, growth, rankings of a quarter
 *   stats_release.c       bulletins with embargo and versions
 *
 * Surveys and research (issue 20; sql/0005_surveys.sql):
 *   stats_answers.c       questionnaire designs checked, answers checked and
 *                         stored as rows and read back (pure)
 *   stats_questionnaires.c questionnaires in frozen versions
 *   stats_departments.c   the municipal departments surveys ask
 *   stats_surveys.c       surveys, their targets, completeness, invitations
 *                         and reminders
 *   stats_survey_responses.c drafts, the one submission, reopening
 *   stats_survey_results.c results, texts, exports, sections of the
 *                         quarter's analysis and bulletin, under its embargo
 *   stats_research.c      commissioned research and its deliverables
 *
 * Who may do what (see proto/ccip/stats.proto for each command): staff and
 * admin act for the center; a district office acts as role "district" with
 * actor id "district:<code>" and only on its district's reports; an
 * operator acts as role "operator" with actor id "org:<unified social credit
 * code>" (the organisation convention of intake and ip) and only for the
 * roster entries that organisation operates; "analyst" prepares releases,
 * designs questionnaires, runs surveys and research; a survey's targets
 * answer as district, "department" (actor "dept:<code>"), operator or
 * "applicant" (actor "org:<USCC>"); other services ("service") only read.
 *
 * Handlers keep no state between commands and may run on any thread. They
 * and their helpers follow ccip_command.h: a helper returns 0 to go on,
 * CCIP_REPLIED once it has answered the command, or the negative
 * ccip_db_rc of a failed statement, so `if (rc) return rc;` is always
 * right.
 */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/stats.pb-c.h"
#include "ccip_arena.h"
#include "ccip_envelope.h"
#include "ccip_service.h"
#include "ccip_validate.h"
#include "stats_quarter.h"

/* Prefixes of trusted actor ids. */
#define STATS_ORG_PREFIX      "org:"
#define STATS_DISTRICT_PREFIX "district:"

/* Longest texts people write. */
#define STATS_NOTE_MAX   5000 /* a report's note */
#define STATS_REASON_MAX 2000 /* reasons, explanations */
#define STATS_NAME_MAX   200  /* names and titles */

/* Defaults of the settings (stats.* in the configuration file). */
#define STATS_LOCK_DAYS_DEFAULT             "45"
#define STATS_DUE_DAYS_DEFAULT              "20"
#define STATS_CHANGE_PCT_DEFAULT            "50"
#define STATS_EXCEPTION_DAYS_DEFAULT        "30"
#define STATS_NOTICE_SECONDS_DEFAULT        "300"
#define STATS_REPORT_NOTICE_SECONDS_DEFAULT "3600"
#define STATS_DOCUMENT_BYTES_DEFAULT        "3145728"

/* The service's configuration: the base, then its own settings. */
typedef struct {
    ccip_service_config base;      /* every service's settings; must be first */
    int64_t lock_days;             /* stats.lock_days: a quarter closes for entry this many days
                                      after it ends */
    int64_t due_days;              /* stats.due_days: a first submission up to this many days after
                                      the quarter's end is on time */
    int64_t change_pct;            /* stats.change_pct: a value moving more than this percentage
                                      against the previous quarter or a year before is a warning */
    int64_t max_exception_days;    /* stats.max_exception_days: longest lock exception */
    int64_t survey_notice_seconds; /* stats.survey_notice_seconds: how often invitations and
                                      reminders of surveys are sent (0 = never) */
    int64_t max_document_bytes;    /* stats.max_document_bytes: largest research document */
    int64_t report_notice_seconds; /* stats.report_notice_seconds: how often the reports due are
                                      told (0 = never) */
} stats_config;

extern const ccip_service_def stats_def;

/* Roles of the handler table (NULL-terminated). */
extern const char *const stats_roles_center[];        /* staff, admin */
extern const char *const stats_roles_admin[];         /* admin */
extern const char *const stats_roles_operator[];      /* operator */
extern const char *const stats_roles_district[];      /* district */
extern const char *const stats_roles_analyst[];       /* analyst */
extern const char *const stats_roles_readers[];       /* staff, admin, district, operator, analyst,
                                                         service */
extern const char *const stats_roles_office[];        /* staff, admin, district, analyst, service */
extern const char *const stats_roles_checksum[];      /* staff, admin, service */
extern const char *const stats_roles_respondents[];   /* district, department, operator,
                                                         applicant: answer surveys, do research */
extern const char *const stats_roles_surveyors[];     /* analyst, staff, admin */
extern const char *const stats_roles_survey_office[]; /* analyst, staff, admin, district,
                                                         service */
extern const char *const stats_roles_research[];      /* analyst, staff, admin, operator,
                                                         applicant, department */

/* Who is asking, as far as the rules need to know. */
typedef enum {
    STATS_CALLER_CENTER,   /* staff, admin */
    STATS_CALLER_DISTRICT, /* a district office */
    STATS_CALLER_OPERATOR, /* an organisation operating roster entries */
    STATS_CALLER_ANALYST,  /* prepares releases */
    STATS_CALLER_SERVICE,  /* another service: reads */
} stats_caller_kind;

typedef struct {
    stats_caller_kind kind;
    char district[8];             /* STATS_CALLER_DISTRICT: its code */
    char uscc[CCIP_USCC_LEN + 1]; /* STATS_CALLER_OPERATOR: its organisation */
} stats_caller;

/* Reads the caller from the command's trusted actor. A district whose actor
 * id is not "district:" and a Beijing district code, or an operator whose
 * actor id is not "org:" and a valid unified social credit code, gets
 * PERMISSION_DENIED: returns CCIP_REPLIED. Otherwise 0. */
int stats_caller_get(ccip_command *cmd, stats_caller *out);

/* Narrows a list to a district office's own district: for such a caller,
 * district (a code, or "" for all) becomes the office's code, and another
 * district is refused PERMISSION_DENIED ("district office 110105 may only
 * list its own district's <what>"). Other callers' district is left as
 * given. Returns 0 or CCIP_REPLIED. */
int stats_caller_district(ccip_command *cmd, const stats_caller *caller, char district[8],
                          const char *what);

/* The service's settings for this command. */
const stats_config *stats_cfg(const ccip_command *cmd);

/* Replies with msg, built in arena a; or, when a ran out of memory while
 * msg was built (ccip_arena_failed), fails the command INTERNAL with the
 * sentence oom ("out of memory listing reports"). Returns 0 or
 * CCIP_REPLIED. */
int stats_reply_built(ccip_command *cmd, const ccip_arena *a, const ProtobufCMessage *msg,
                      const char *oom);

/* Parses a quarter argument; INVALID_ARGUMENT naming `field` when it is not
 * one. Returns 0 or CCIP_REPLIED. */
int stats_quarter_arg(ccip_command *cmd, const char *field, const char *text, stats_quarter *q);

/* Parses an optional district argument (code or name) into its code; ""
 * stays "". INVALID_ARGUMENT naming `field` otherwise. Returns 0 or
 * CCIP_REPLIED. */
int stats_district_arg(ccip_command *cmd, const char *field, const char *text, char code[8]);

/* Checks a code (an indicator, a rule, a category): [a-z][a-z0-9_]*, 1 to
 * 40 characters. INVALID_ARGUMENT naming `field` otherwise, with the
 * `example` (" (e.g. design)", or "") after the rule. Returns 0 or
 * CCIP_REPLIED. */
int stats_code_arg(ccip_command *cmd, const char *field, const char *s, const char *example);

/* Says who and why for the audit triggers of this transaction
 * (sql/0001_stats.sql): must precede accepting a report or changing an
 * accepted value. Returns 0 or a ccip_db_rc. */
int stats_audit_context(ccip_command *cmd, const char *reason);

/* Runs stmt and sets *found to 1 when it returned one row (a lookup that
 * found, an UPDATE or INSERT ... RETURNING that hit), else 0. Returns 0 or
 * a ccip_db_rc. */
int stats_db_found(ccip_db *db, const ccip_db_stmt *stmt, int nparams, const char *const *values,
                   int *found);

/* Writes a quarter's due time and lock time (UTC microseconds) under the
 * command's settings. */
int64_t stats_due_us(const ccip_command *cmd, stats_quarter q);
int64_t stats_locks_us(const ccip_command *cmd, stats_quarter q);

/* Statuses of a report as stored. */
#define STATS_DRAFT             "DRAFT"
#define STATS_SUBMITTED         "SUBMITTED"
#define STATS_DISTRICT_APPROVED "DISTRICT_APPROVED"
#define STATS_ACCEPTED          "ACCEPTED"
#define STATS_RETURNED          "RETURNED"

#endif
