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
 *   stats_projections.c   indicators computed from the other services'
 *                         events, their rebuild by replay, checksum
 *   stats_analysis.c      aggregates, growth, rankings of a quarter
 *   stats_release.c       bulletins with embargo and versions
 *
 * Who may do what (see proto/ccip/stats.proto for each command): staff and
 * admin act for the center; a district office acts as role "district" with
 * actor id "district:<code>" and only on its district's reports; an
 * operator acts as role "operator" with actor id "org:<unified social credit
 * code>" (the organisation convention of intake and ip) and only for the
 * roster entries that organisation operates; "analyst" prepares releases;
 * other services ("service") only read.
 *
 * Handlers keep no state between commands and may run on any thread.
 */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/stats.pb-c.h"
#include "ccip_service.h"
#include "ccip_validate.h"
#include "stats_quarter.h"

/* What a helper returns after it has set the reply's error status: the
 * handler stops and returns 0 (a reply was produced). Helpers return 0 to
 * go on, STATS_REPLIED, or the negative ccip_db_rc of a failed statement. */
#define STATS_REPLIED 1

/* The handler's return value for a helper's result. */
#define STATS_RC(rc) ((rc) > 0 ? 0 : (rc))

/* Prefixes of trusted actor ids. */
#define STATS_ORG_PREFIX      "org:"
#define STATS_DISTRICT_PREFIX "district:"

/* Longest texts people write. */
#define STATS_NOTE_MAX   5000 /* a report's note */
#define STATS_REASON_MAX 2000 /* reasons, explanations */
#define STATS_NAME_MAX   200  /* names and titles */

/* Defaults of the settings (stats.* in the configuration file). */
#define STATS_LOCK_DAYS_DEFAULT      "45"
#define STATS_DUE_DAYS_DEFAULT       "20"
#define STATS_CHANGE_PCT_DEFAULT     "50"
#define STATS_EXCEPTION_DAYS_DEFAULT "30"

/* The service's configuration: the base, then its own settings. */
typedef struct {
    ccip_service_config base;   /* every service's settings; must be first */
    int64_t lock_days;          /* stats.lock_days: a quarter closes for entry this many days
                                   after it ends */
    int64_t due_days;           /* stats.due_days: a first submission up to this many days after
                                   the quarter's end is on time */
    int64_t change_pct;         /* stats.change_pct: a value moving more than this percentage
                                   against the previous quarter or a year before is a warning */
    int64_t max_exception_days; /* stats.max_exception_days: longest lock exception */
} stats_config;

extern const ccip_service_def stats_def;

/* Roles of the handler table (NULL-terminated). */
extern const char *const stats_roles_center[];   /* staff, admin */
extern const char *const stats_roles_admin[];    /* admin */
extern const char *const stats_roles_operator[]; /* operator */
extern const char *const stats_roles_district[]; /* district */
extern const char *const stats_roles_analyst[];  /* analyst */
extern const char *const stats_roles_readers[];  /* staff, admin, district, operator, analyst,
                                                    service */
extern const char *const stats_roles_office[];   /* staff, admin, district, analyst, service */
extern const char *const stats_roles_checksum[]; /* staff, admin, service */

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
 * PERMISSION_DENIED: returns STATS_REPLIED. Otherwise 0. */
int stats_caller_get(ccip_command *cmd, stats_caller *out);

/* The service's settings for this command. */
const stats_config *stats_cfg(const ccip_command *cmd);

/* Sets the reply's error status and sentence; returns STATS_REPLIED. */
int stats_fail(ccip_command *cmd, Ccip__Status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Decodes the command's payload as `desc`. Returns the message (free with
 * protobuf_c_message_free_unpacked(msg, NULL)), or NULL after setting
 * INVALID_ARGUMENT. */
ProtobufCMessage *stats_unpack(ccip_command *cmd, const ProtobufCMessageDescriptor *desc);

/* Packs msg as the reply payload. Returns 0, or STATS_REPLIED with INTERNAL
 * when memory ran out. */
int stats_reply(ccip_command *cmd, const ProtobufCMessage *msg);

/* Packs msg and appends it to the outbox as event `type`, inside the
 * command's transaction. Returns 0, STATS_REPLIED or a ccip_db_rc. */
int stats_emit(ccip_command *cmd, const char *type, const char *aggregate_type,
               const char *aggregate_id, const ProtobufCMessage *msg);

/* Parses a quarter argument; INVALID_ARGUMENT naming `field` when it is not
 * one. Returns 0 or STATS_REPLIED. */
int stats_quarter_arg(ccip_command *cmd, const char *field, const char *text, stats_quarter *q);

/* Parses an optional district argument (code or name) into its code; ""
 * stays "". INVALID_ARGUMENT naming `field` otherwise. Returns 0 or
 * STATS_REPLIED. */
int stats_district_arg(ccip_command *cmd, const char *field, const char *text, char code[8]);

/* Checks a text field (ccip_text_check); INVALID_ARGUMENT when it fails.
 * Returns 0 or STATS_REPLIED. */
int stats_text_arg(ccip_command *cmd, const char *field, const char *s, size_t min_chars,
                   size_t max_chars, int multiline);

/* Checks an indicator or rule code: [a-z][a-z0-9_]*, 1..40 characters.
 * Returns 0 or -1 (no message). */
int stats_code_valid(const char *s);

/* Says who and why for the audit triggers of this transaction
 * (sql/0001_stats.sql): must precede accepting a report or changing an
 * accepted value. Returns 0 or a ccip_db_rc. */
int stats_audit_context(ccip_command *cmd, const char *reason);

/* The name of an enum value, which is also how it is stored; NULL when the
 * value is not in the enum. */
const char *stats_enum_name(const ProtobufCEnumDescriptor *desc, int value);

/* The value of an enum name, or 0 (the UNSPECIFIED value) when unknown or
 * NULL. */
int stats_enum_value(const ProtobufCEnumDescriptor *desc, const char *name);

/* A result cell as an integer; 0 for NULL. */
int64_t stats_cell_i64(const PGresult *res, int row, int col);

/* Writes a time as "2026-11-27T10:00:00Z" (fraction only when not zero). */
void stats_time_text(int64_t us, char *buf, size_t len);

/* Writes a quarter's due time and lock time (UTC microseconds) under the
 * command's settings. */
int64_t stats_due_us(const ccip_command *cmd, stats_quarter q);
int64_t stats_locks_us(const ccip_command *cmd, stats_quarter q);

/* SQL: a timestamptz column as UTC microseconds (bigint; NULL stays NULL),
 * and a bigint parameter of microseconds as a timestamptz. */
#define STATS_SQL_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"
#define STATS_SQL_TS(par) "('epoch'::timestamptz + " par "::bigint * interval '1 microsecond')"

/* Statuses of a report as stored. */
#define STATS_DRAFT             "DRAFT"
#define STATS_SUBMITTED         "SUBMITTED"
#define STATS_DISTRICT_APPROVED "DISTRICT_APPROVED"
#define STATS_ACCEPTED          "ACCEPTED"
#define STATS_RETURNED          "RETURNED"

#endif
