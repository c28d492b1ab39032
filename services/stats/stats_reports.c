#include "stats_reports.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "ccip_arena.h"
#include "stats_catalogue.h"

#define VALUES_MAX   200  /* values one command may set */
#define FINDINGS_MAX 400  /* findings one validation reports */
#define LIST_MAX     5000 /* reports one list reply holds */
#define BLOCKING_MSG 3    /* blocking findings quoted in a refusal */

/* ---- statements -------------------------------------------------------------- */

static const ccip_db_stmt S_ROW = {
    "stats_report_row",
    "SELECT id, quarter, catalogue_version, status, coalesce(" CCIP_SQL_US(
        "first_submitted_at") ", 0), roster_id FROM report WHERE id = $1::uuid"};
static const ccip_db_stmt S_ROW_LOCK = {
    "stats_report_row_lock",
    "SELECT id, quarter, catalogue_version, status, coalesce(" CCIP_SQL_US(
        "first_submitted_at") ", 0), roster_id FROM report WHERE id = $1::uuid FOR UPDATE"};
static const ccip_db_stmt S_FIND = {"stats_report_find",
                                    "SELECT id FROM report WHERE roster_id = $1 AND quarter = $2"};

static const ccip_db_stmt S_INSERT = {
    "stats_report_insert",
    "INSERT INTO report (id, roster_id, quarter, catalogue_version, status, note, created_by) "
    "VALUES ($1::uuid, $2, $3, $4::integer, 'DRAFT', $5, $6) "
    "ON CONFLICT (roster_id, quarter) DO NOTHING RETURNING id"};
static const ccip_db_stmt S_NOTE = {
    "stats_report_note", "UPDATE report SET note = $2, updated_at = now() WHERE id = $1::uuid"};
static const ccip_db_stmt S_TOUCH = {"stats_report_touch",
                                     "UPDATE report SET updated_at = now() WHERE id = $1::uuid"};
static const ccip_db_stmt S_STATUS = {
    "stats_report_status",
    "UPDATE report SET status = $2, updated_at = now(), "
    "submitted_at = CASE WHEN $2 = 'SUBMITTED' THEN now() ELSE submitted_at END, "
    "first_submitted_at = CASE WHEN $2 = 'SUBMITTED' THEN coalesce(first_submitted_at, now()) "
    "ELSE first_submitted_at END, "
    "return_reason = CASE WHEN $2 = 'RETURNED' THEN $3 ELSE return_reason END "
    "WHERE id = $1::uuid"};
static const ccip_db_stmt S_TRANSITION = {
    "stats_report_transition",
    "INSERT INTO report_transition (report_id, from_status, to_status, actor_id, actor_role, "
    "reason) VALUES ($1::uuid, $2, $3, $4, $5, $6)"};

static const ccip_db_stmt S_VALUE_SET = {
    "stats_report_value_set",
    "INSERT INTO report_value (report_id, quarter, roster_id, code, value, explanation, accepted) "
    "VALUES ($1::uuid, $2, $3, $4, $5::bigint, $6, "
    "(SELECT status = 'ACCEPTED' FROM report WHERE id = $1::uuid)) "
    "ON CONFLICT (report_id, code) DO UPDATE "
    "SET value = EXCLUDED.value, explanation = EXCLUDED.explanation"};
static const ccip_db_stmt S_VALUE_DEL = {
    "stats_report_value_delete",
    "DELETE FROM report_value WHERE report_id = $1::uuid AND code = $2"};
static const ccip_db_stmt S_EXPLAIN = {
    "stats_report_explain",
    "UPDATE report_value SET explanation = $3 WHERE report_id = $1::uuid AND code = $2 "
    "RETURNING code"};
static const ccip_db_stmt S_VALUES = {
    "stats_report_values",
    "SELECT v.code, v.value, v.explanation, coalesce(i.unit, '') FROM report_value v "
    "JOIN report r ON r.id = v.report_id "
    "LEFT JOIN indicator i ON i.version = r.catalogue_version AND i.code = v.code "
    "WHERE v.report_id = $1::uuid ORDER BY coalesce(i.ordinal, 1000000), v.code"};
/* The same entry's earlier reports that count as reported (not drafts). */
static const ccip_db_stmt S_EARLIER = {
    "stats_report_earlier",
    "SELECT r.quarter, v.code, v.value FROM report r JOIN report_value v ON v.report_id = r.id "
    "WHERE r.roster_id = $1 AND r.quarter IN ($2, $3) "
    "AND r.status IN ('SUBMITTED', 'DISTRICT_APPROVED', 'ACCEPTED')"};

static const ccip_db_stmt S_LOAD = {
    "stats_report_load",
    "SELECT r.id, r.roster_id, e.name, e.district_code, r.quarter, r.catalogue_version, r.status, "
    "r.note, r.created_by, " CCIP_SQL_US("r.created_at") ", coalesce(" CCIP_SQL_US(
        "r.first_submitted_at") ", 0), coalesce(" CCIP_SQL_US("r.submitted_at") ", 0), "
                                                                                "r.return_reason "
                                                                                "FROM report r "
                                                                                "JOIN "
                                                                                "roster_entry e "
                                                                                "ON e.id = "
                                                                                "r.roster_id "
                                                                                "WHERE r.id = "
                                                                                "$1::uuid"};
static const ccip_db_stmt S_HISTORY = {
    "stats_report_history",
    "SELECT from_status, to_status, actor_id, actor_role, reason, " CCIP_SQL_US(
        "at") " FROM report_transition WHERE report_id = $1::uuid ORDER BY id"};

static const ccip_db_stmt S_LIST = {
    "stats_report_list",
    "SELECT r.id, r.roster_id, e.name, e.district_code, r.quarter, r.status, "
    "coalesce(" CCIP_SQL_US(
        "r.first_submitted_at") ", 0), "
                                "(SELECT count(*) FROM report_value v WHERE v.report_id = r.id) "
                                "FROM report r JOIN roster_entry e ON e.id = r.roster_id "
                                "WHERE ($1 = '' OR r.quarter = $1) AND ($2 = '' OR e.district_code "
                                "= $2) "
                                "AND ($3 = '' OR r.status = $3) AND ($4 = '' OR r.roster_id = $4) "
                                "AND ($5 = '' OR e.operator_uscc = $5) "
                                "ORDER BY r.quarter DESC, e.district_code, r.roster_id LIMIT 5000"};

static const ccip_db_stmt S_AUDIT = {
    "stats_report_audit",
    "SELECT code, old_value IS NOT NULL, coalesce(old_value, 0), new_value IS NOT NULL, "
    "coalesce(new_value, 0), actor_id, actor_role, reason, " CCIP_SQL_US(
        "at") " FROM value_audit WHERE report_id = $1::uuid ORDER BY id"};

static const ccip_db_stmt S_EXCEPTION = {
    "stats_report_exception",
    "SELECT " CCIP_SQL_US("until") " FROM lock_exception WHERE roster_id = $1 AND quarter = $2 "
                                   "AND until > " CCIP_SQL_TS("$3") " ORDER BY until DESC LIMIT 1"};
static const ccip_db_stmt S_EXCEPTION_INSERT = {
    "stats_report_exception_insert",
    "INSERT INTO lock_exception (roster_id, quarter, until, reason, granted_by) "
    "VALUES ($1, $2, " CCIP_SQL_TS("$3") ", $4, $5) RETURNING " CCIP_SQL_US("granted_at")};

/* ---- rows and rules ------------------------------------------------------------ */

int stats_report_row_get(ccip_command *cmd, const char *id, int lock, const stats_caller *caller,
                         stats_report_row *row)
{
    memset(row, 0, sizeof *row);
    if (!ccip_uuid_valid(id))
        return ccip_command_fail(
            cmd, CCIP__STATUS__INVALID_ARGUMENT,
            "field `report_id` must be a report id (a UUID in lower case), got "
            "\"%.60s\"",
            id);
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, lock ? &S_ROW_LOCK : &S_ROW, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no report %s", id);
    }
    snprintf(row->id, sizeof row->id, "%s", PQgetvalue(res, 0, 0));
    snprintf(row->quarter, sizeof row->quarter, "%s", PQgetvalue(res, 0, 1));
    row->version = atoi(PQgetvalue(res, 0, 2));
    snprintf(row->status, sizeof row->status, "%s", PQgetvalue(res, 0, 3));
    row->first_submitted_at_us = ccip_db_cell_i64(res, 0, 4);
    char roster_id[72];
    snprintf(roster_id, sizeof roster_id, "%s", PQgetvalue(res, 0, 5));
    PQclear(res);
    int found;
    if ((rc = stats_roster_load(cmd->db, roster_id, 0, &row->roster, &found)) != 0)
        return rc;
    if (!found)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "report %s has no roster entry", id);
    if (caller->kind == STATS_CALLER_OPERATOR &&
        strcmp(caller->uscc, row->roster.operator_uscc) != 0)
        return ccip_command_fail(
            cmd, CCIP__STATUS__PERMISSION_DENIED,
            "organisation %s does not operate roster entry %s and may not act on "
            "its report %s",
            caller->uscc, row->roster.id, id);
    if (caller->kind == STATS_CALLER_DISTRICT &&
        strcmp(caller->district, row->roster.district) != 0)
        return ccip_command_fail(
            cmd, CCIP__STATUS__PERMISSION_DENIED,
            "report %s is in district %s; district office %s may only act on its "
            "own district's reports",
            id, row->roster.district, caller->district);
    return 0;
}

int stats_report_transition(ccip_command *cmd, const stats_report_row *row, const char *to,
                            const char *reason)
{
    const char *values[] = {row->id, to, reason ? reason : ""};
    int rc = ccip_db_exec(cmd->db, &S_STATUS, 3, values, NULL, NULL, NULL);
    if (rc != CCIP_DB_OK)
        return rc;
    const char *t[] = {row->id,       row->status,     to,
                       cmd->actor.id, cmd->actor.role, reason ? reason : ""};
    return ccip_db_exec(cmd->db, &S_TRANSITION, 6, t, NULL, NULL, NULL);
}

Ccip__Stats__Timeliness stats_report_timeliness(const ccip_command *cmd, stats_quarter q,
                                                int64_t first_us)
{
    if (!first_us)
        return CCIP__STATS__TIMELINESS__MISSING;
    return first_us <= stats_due_us(cmd, q) ? CCIP__STATS__TIMELINESS__ON_TIME
                                            : CCIP__STATS__TIMELINESS__LATE;
}

/* Checks that the entry may enter values for the quarter now: the quarter
 * has started, and it is not locked, or the entry has an exception in
 * force. Returns 0, CCIP_REPLIED (FAILED_PRECONDITION) or a ccip_db_rc. */
static int s_entry_open(ccip_command *cmd, const char *roster_id, const char *quarter)
{
    stats_quarter q;
    stats_quarter_parse("quarter", quarter, &q, NULL, 0);
    int64_t now = ccip_now_us();
    char t[40];
    if (stats_quarter_start_us(q) > now) {
        ccip_time_text(stats_quarter_start_us(q), t, sizeof t);
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "quarter %s has not started yet (it starts %s); report for a quarter "
            "that has started",
            quarter, t);
    }
    int64_t locks = stats_locks_us(cmd, q);
    if (now < locks)
        return 0;
    char now_text[24];
    snprintf(now_text, sizeof now_text, "%lld", (long long)now);
    const char *values[] = {roster_id, quarter, now_text};
    int excepted;
    int rc = stats_db_found(cmd->db, &S_EXCEPTION, 3, values, &excepted);
    if (rc != 0 || excepted)
        return rc;
    ccip_time_text(locks, t, sizeof t);
    return ccip_command_fail(
        cmd, CCIP__STATUS__FAILED_PRECONDITION,
        "quarter %s is locked: it closed for entry at %s (%lld days after it "
        "ended) and roster entry %s has no lock exception in force; ask the center "
        "for one",
        quarter, t, (long long)stats_cfg(cmd)->lock_days, roster_id);
}

/* Finds value `code` in rows of a (code, value, ...) result; -1 if none. */
static int s_row_of(const PGresult *res, const char *code)
{
    for (int r = 0; r < PQntuples(res); r++)
        if (strcmp(PQgetvalue(res, r, 0), code) == 0)
            return r;
    return -1;
}

int stats_report_findings(ccip_command *cmd, const stats_report_row *row, stats_finding **out,
                          size_t *n)
{
    *out = NULL;
    *n = 0;
    stats_catalogue *cat = NULL;
    PGresult *vals = NULL, *earlier = NULL;
    stats_indicator_def *defs = NULL;
    stats_value *cur = NULL, *prev = NULL, *yoy = NULL;
    stats_finding *f = NULL;
    int rc = stats_catalogue_load(cmd->db, row->version, &cat);
    if (rc != 0)
        return rc;
    if (!cat)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "catalogue version %d is missing",
                                 row->version);
    stats_quarter q;
    stats_quarter_parse("quarter", row->quarter, &q, NULL, 0);
    char pq[8], yq[8];
    stats_quarter_format(stats_quarter_add(q, -1), pq, sizeof pq);
    stats_quarter_format(stats_quarter_add(q, -4), yq, sizeof yq);
    const char *id = row->id;
    const char *ev[] = {row->roster.id, pq, yq};
    if ((rc = ccip_db_exec(cmd->db, &S_VALUES, 1, &id, NULL, NULL, &vals)) != CCIP_DB_OK ||
        (rc = ccip_db_exec(cmd->db, &S_EARLIER, 3, ev, NULL, NULL, &earlier)) != CCIP_DB_OK)
        goto out;
    size_t ncat = stats_catalogue_count(cat);
    int nv = PQntuples(vals), ne = PQntuples(earlier);
    defs = calloc(ncat + 1, sizeof *defs);
    cur = calloc((size_t)nv + 1, sizeof *cur);
    prev = calloc((size_t)ne + 1, sizeof *prev);
    yoy = calloc((size_t)ne + 1, sizeof *yoy);
    f = calloc(FINDINGS_MAX, sizeof *f);
    if (!defs || !cur || !prev || !yoy || !f) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory validating report %s",
                               id);
        goto out;
    }
    stats_validation_input in = {0};
    in.indicators = defs;
    in.nindicators = stats_catalogue_defs(cat, row->roster.kind, defs);
    in.rules = stats_catalogue_rules(cat, &in.nrules);
    for (int r = 0; r < nv; r++) {
        cur[r].code = PQgetvalue(vals, r, 0);
        cur[r].value = ccip_db_cell_i64(vals, r, 1);
        cur[r].explanation = PQgetvalue(vals, r, 2);
    }
    in.values = cur;
    in.nvalues = (size_t)nv;
    for (int r = 0; r < ne; r++) {
        int is_prev = strcmp(PQgetvalue(earlier, r, 0), pq) == 0;
        stats_value *v = is_prev ? &prev[in.nprevious++] : &yoy[in.nyear_ago++];
        v->code = PQgetvalue(earlier, r, 1);
        v->value = ccip_db_cell_i64(earlier, r, 2);
    }
    in.previous = prev;
    in.previous_quarter = pq;
    in.year_ago = yoy;
    in.year_ago_quarter = yq;
    in.change_pct = stats_cfg(cmd)->change_pct;
    size_t total = stats_validate(&in, f, FINDINGS_MAX);
    *n = total < FINDINGS_MAX ? total : FINDINGS_MAX;
    *out = f;
    f = NULL;
    rc = 0;
out:
    free(defs);
    free(cur);
    free(prev);
    free(yoy);
    free(f);
    PQclear(vals);
    PQclear(earlier);
    stats_catalogue_destroy(&cat);
    return rc;
}

int stats_report_emit(ccip_command *cmd, const stats_report_row *row, const char *type,
                      const char *status, const char *reason)
{
    stats_quarter q;
    stats_quarter_parse("quarter", row->quarter, &q, NULL, 0);
    int64_t first = row->first_submitted_at_us;
    if (!first && strcmp(status, STATS_SUBMITTED) == 0)
        first = ccip_now_us();
    Ccip__Stats__ReportChanged ev = CCIP__STATS__REPORT_CHANGED__INIT;
    ev.report_id = (char *)row->id;
    ev.roster_id = (char *)row->roster.id;
    ev.district_code = (char *)row->roster.district;
    ev.quarter = (char *)row->quarter;
    ev.status =
        (Ccip__Stats__ReportStatus)ccip_enum_value(&ccip__stats__report_status__descriptor, status);
    ev.timeliness = stats_report_timeliness(cmd, q, first);
    ev.reason = (char *)(reason ? reason : "");
    ev.at_us = ccip_now_us();
    return ccip_command_emit(cmd, type, "report", row->id, &ev.base);
}

/* ---- the reply ---------------------------------------------------------------------- */

static int s_load(ccip_command *cmd, const char *id, ccip_arena *a, Ccip__Stats__Report **out)
{
    *out = NULL;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_LOAD, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no report %s", id);
    }
    Ccip__Stats__Report *r = ccip_arena_alloc(a, sizeof *r);
    if (!r) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    }
    *r = (Ccip__Stats__Report)CCIP__STATS__REPORT__INIT;
    r->id = ccip_arena_strdup(a, PQgetvalue(res, 0, 0));
    r->roster_id = ccip_arena_strdup(a, PQgetvalue(res, 0, 1));
    r->roster_name = ccip_arena_strdup(a, PQgetvalue(res, 0, 2));
    r->district_code = ccip_arena_strdup(a, PQgetvalue(res, 0, 3));
    r->quarter = ccip_arena_strdup(a, PQgetvalue(res, 0, 4));
    r->catalogue_version = (uint32_t)atoi(PQgetvalue(res, 0, 5));
    r->status = (Ccip__Stats__ReportStatus)ccip_enum_value(&ccip__stats__report_status__descriptor,
                                                           PQgetvalue(res, 0, 6));
    r->note = ccip_arena_strdup(a, PQgetvalue(res, 0, 7));
    r->created_by = ccip_arena_strdup(a, PQgetvalue(res, 0, 8));
    r->created_at_us = ccip_db_cell_i64(res, 0, 9);
    r->first_submitted_at_us = ccip_db_cell_i64(res, 0, 10);
    r->submitted_at_us = ccip_db_cell_i64(res, 0, 11);
    r->return_reason = ccip_arena_strdup(a, PQgetvalue(res, 0, 12));
    PQclear(res);
    stats_quarter q;
    stats_quarter_parse("quarter", r->quarter, &q, NULL, 0);
    r->timeliness = stats_report_timeliness(cmd, q, r->first_submitted_at_us);
    r->due_at_us = stats_due_us(cmd, q);
    r->locks_at_us = stats_locks_us(cmd, q);

    if ((rc = ccip_db_exec(cmd->db, &S_VALUES, 1, &id, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    int n = PQntuples(res);
    r->values = ccip_arena_alloc(a, (size_t)n * sizeof *r->values);
    for (int i = 0; r->values && i < n; i++) {
        Ccip__Stats__Value *v = ccip_arena_alloc(a, sizeof *v);
        if (!v)
            break;
        *v = (Ccip__Stats__Value)CCIP__STATS__VALUE__INIT;
        v->code = ccip_arena_strdup(a, PQgetvalue(res, i, 0));
        v->value = ccip_db_cell_i64(res, i, 1);
        v->explanation = ccip_arena_strdup(a, PQgetvalue(res, i, 2));
        v->unit = (Ccip__Stats__Unit)ccip_enum_value(&ccip__stats__unit__descriptor,
                                                     PQgetvalue(res, i, 3));
        r->values[r->n_values++] = v;
    }
    PQclear(res);
    if ((rc = ccip_db_exec(cmd->db, &S_HISTORY, 1, &id, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    n = PQntuples(res);
    r->history = ccip_arena_alloc(a, (size_t)n * sizeof *r->history);
    for (int i = 0; r->history && i < n; i++) {
        Ccip__Stats__Transition *t = ccip_arena_alloc(a, sizeof *t);
        if (!t)
            break;
        *t = (Ccip__Stats__Transition)CCIP__STATS__TRANSITION__INIT;
        t->from_status = (Ccip__Stats__ReportStatus)ccip_enum_value(
            &ccip__stats__report_status__descriptor, PQgetvalue(res, i, 0));
        t->to_status = (Ccip__Stats__ReportStatus)ccip_enum_value(
            &ccip__stats__report_status__descriptor, PQgetvalue(res, i, 1));
        t->actor_id = ccip_arena_strdup(a, PQgetvalue(res, i, 2));
        t->actor_role = ccip_arena_strdup(a, PQgetvalue(res, i, 3));
        t->reason = ccip_arena_strdup(a, PQgetvalue(res, i, 4));
        t->at_us = ccip_db_cell_i64(res, i, 5);
        r->history[r->n_history++] = t;
    }
    PQclear(res);
    *out = r;
    return 0;
}

int stats_report_reply(ccip_command *cmd, const char *id)
{
    stats_caller all = {.kind = STATS_CALLER_CENTER};
    stats_report_row row;
    int rc = stats_report_row_get(cmd, id, 0, &all, &row);
    if (rc != 0)
        return rc;
    stats_finding *f = NULL;
    size_t nf = 0;
    if ((rc = stats_report_findings(cmd, &row, &f, &nf)) != 0)
        return rc;
    ccip_arena *a = ccip_arena_new();
    Ccip__Stats__ReportReply reply = CCIP__STATS__REPORT_REPLY__INIT;
    if ((rc = s_load(cmd, id, a, &reply.report)) != 0)
        goto out;
    reply.findings = ccip_arena_alloc(a, nf * sizeof *reply.findings);
    for (size_t i = 0; reply.findings && i < nf; i++) {
        Ccip__Stats__Finding *m = ccip_arena_alloc(a, sizeof *m);
        if (!m)
            break;
        *m = (Ccip__Stats__Finding)CCIP__STATS__FINDING__INIT;
        m->importance = f[i].importance;
        m->rule = ccip_arena_strdup(a, f[i].rule);
        m->indicator = ccip_arena_strdup(a, f[i].indicator);
        m->message = ccip_arena_strdup(a, f[i].message);
        m->explained = f[i].explained;
        reply.findings[reply.n_findings++] = m;
    }
    if (ccip_arena_failed(a))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory building report %s", id);
    else
        rc = ccip_command_reply(cmd, &reply.base);
out:
    free(f);
    ccip_arena_destroy(&a);
    return rc;
}

/* ---- values given by a command ------------------------------------------------------- */

/* Checks a command's values and removals against the report's catalogue
 * version and the entry's kind: known indicator, reported by this kind,
 * the indicator's unit, each code once, explanations of text. Nothing is
 * written. Returns 0, CCIP_REPLIED (INVALID_ARGUMENT naming the
 * indicator) or a ccip_db_rc. */
static int s_check_values(ccip_command *cmd, int version, Ccip__Stats__RosterKind kind,
                          Ccip__Stats__Value *const *values, size_t nvalues, char *const *remove,
                          size_t nremove)
{
    if (nvalues + nremove > VALUES_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "a command may set or remove at most %d values, got %zu",
                                 VALUES_MAX, nvalues + nremove);
    stats_catalogue *cat = NULL;
    int rc = stats_catalogue_load(cmd->db, version, &cat);
    if (rc != 0)
        return rc;
    if (!cat)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "catalogue version %d is missing",
                                 version);
    const char *kind_name =
        kind == CCIP__STATS__ROSTER_KIND__TALENT_BASE ? "talent bases" : "clusters";
    for (size_t i = 0; rc == 0 && i < nvalues + nremove; i++) {
        const char *code = i < nvalues ? values[i]->code : remove[i - nvalues];
        const stats_catalogue_indicator *ind = stats_catalogue_find(cat, code);
        char err[300];
        for (size_t j = 0; rc == 0 && j < i; j++) {
            const char *other = j < nvalues ? values[j]->code : remove[j - nvalues];
            if (strcmp(other, code) == 0)
                rc = ccip_command_fail(
                    cmd, CCIP__STATUS__INVALID_ARGUMENT,
                    "indicator `%.48s` is given twice; set or remove each indicator "
                    "once",
                    code);
        }
        if (rc != 0)
            break;
        if (!ind) {
            rc = ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "indicator `%.48s` is not in catalogue version %d, which this report "
                "is collected with; see stats.catalogue.get.v1 for its indicators",
                code, version);
        } else if (!stats_catalogue_reported_by(ind, kind)) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                   "indicator `%s` is not reported by %s (catalogue version %d)",
                                   ind->code, kind_name, version);
        } else if (i < nvalues) {
            stats_indicator_def def = {.code = ind->code, .unit = ind->unit};
            if (stats_value_check(code, &def, values[i]->unit, err, sizeof err) < 0) {
                rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s; nothing was saved",
                                       err);
            } else {
                char field[80];
                snprintf(field, sizeof field, "values[%zu].explanation", i);
                rc = ccip_command_check_text(cmd, field, values[i]->explanation, 0,
                                             STATS_REASON_MAX, CCIP_TEXT_MULTILINE);
            }
        }
    }
    stats_catalogue_destroy(&cat);
    return rc;
}

/* Writes values and removals (already checked). */
static int s_write_values(ccip_command *cmd, const stats_report_row *row,
                          Ccip__Stats__Value *const *values, size_t nvalues, char *const *remove,
                          size_t nremove)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nvalues; i++) {
        char v[24];
        snprintf(v, sizeof v, "%" PRId64, values[i]->value);
        const char *p[] = {row->id, row->quarter,          row->roster.id, values[i]->code,
                           v,       values[i]->explanation};
        rc = ccip_db_exec(cmd->db, &S_VALUE_SET, 6, p, NULL, NULL, NULL);
    }
    for (size_t i = 0; rc == 0 && i < nremove; i++) {
        const char *p[] = {row->id, remove[i]};
        rc = ccip_db_exec(cmd->db, &S_VALUE_DEL, 2, p, NULL, NULL, NULL);
    }
    return rc;
}

/* The operator of `row` is the caller. */
static int s_check_operator(ccip_command *cmd, const stats_caller *caller,
                            const stats_roster_row *roster)
{
    if (caller->kind == STATS_CALLER_OPERATOR && strcmp(caller->uscc, roster->operator_uscc) == 0)
        return 0;
    return ccip_command_fail(
        cmd, CCIP__STATUS__PERMISSION_DENIED,
        "roster entry %s is operated by organisation %s; only its operator (actor "
        "id org:%s, role operator) reports for it",
        roster->id, roster->operator_uscc, roster->operator_uscc);
}

static int s_editable(ccip_command *cmd, const stats_report_row *row, const char *doing)
{
    if (strcmp(row->status, STATS_DRAFT) == 0 || strcmp(row->status, STATS_RETURNED) == 0)
        return 0;
    return ccip_command_fail(
        cmd, CCIP__STATUS__FAILED_PRECONDITION,
        "report %s is %s and cannot be %s; only a DRAFT or a report RETURNED for "
        "correction can",
        row->id, row->status, doing);
}

/* ---- stats.report.save.v1 --------------------------------------------------------------- */

int stats_report_save_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__SaveReportRequest *rq = request;
    stats_caller caller;
    stats_quarter q;
    stats_report_row row;
    memset(&row, 0, sizeof row);
    PGresult *res = NULL;
    int found = 0;
    int rc = stats_caller_get(cmd, &caller);
    if (rc == 0)
        rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "note", rq->note, 0, STATS_NOTE_MAX, CCIP_TEXT_MULTILINE);
    if (rc == 0 && !rq->roster_id[0])
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__INVALID_ARGUMENT,
            "field `roster_id` is missing: name the roster entry the report is for");
    if (rc == 0 && strlen(rq->roster_id) < sizeof row.roster.id)
        rc = stats_roster_load(cmd->db, rq->roster_id, 1, &row.roster, &found);
    if (rc == 0 && !found)
        rc = ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                               "there is no roster entry %.64s; a report is only for a designated "
                               "cluster or base on the monitoring roster",
                               rq->roster_id);
    if (rc == 0)
        rc = s_check_operator(cmd, &caller, &row.roster);
    if (rc == 0)
        rc = stats_roster_require_active(cmd, &row.roster, rq->quarter, "; nothing was saved");
    if (rc == 0)
        rc = s_entry_open(cmd, row.roster.id, rq->quarter);
    /* The existing report, or the catalogue version a new one is collected with. */
    const char *find[] = {row.roster.id, rq->quarter};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_FIND, 2, find, NULL, NULL, &res);
    if (rc != 0)
        goto out;
    int exists = PQntuples(res) == 1;
    char id[CCIP_UUID_STRLEN + 1];
    if (exists)
        snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    res = NULL;
    if (exists) {
        stats_roster_row keep = row.roster;
        if ((rc = stats_report_row_get(cmd, id, 1, &caller, &row)) != 0 ||
            (rc = s_editable(cmd, &row, "edited")) != 0)
            goto out;
        row.roster = keep;
    } else {
        if ((rc = stats_catalogue_version_for(cmd->db, rq->quarter, &row.version)) != 0)
            goto out;
        if (!row.version) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                   "no catalogue version applies to %s", rq->quarter);
            goto out;
        }
        ccip_uuid_v7(id);
        snprintf(row.id, sizeof row.id, "%s", id);
        snprintf(row.quarter, sizeof row.quarter, "%s", rq->quarter);
        snprintf(row.status, sizeof row.status, "%s", STATS_DRAFT);
    }
    rc = s_check_values(cmd, row.version, row.roster.kind, rq->values, rq->n_values, rq->remove,
                        rq->n_remove);
    if (rc != 0)
        goto out;
    if (!exists) {
        char version[16];
        snprintf(version, sizeof version, "%d", row.version);
        const char *p[] = {row.id, row.roster.id, row.quarter, version, rq->note, cmd->actor.id};
        if ((rc = ccip_db_exec(cmd->db, &S_INSERT, 6, p, NULL, NULL, &res)) != 0)
            goto out;
        if (PQntuples(res) != 1) {
            /* Another command created it at the same moment: do it again. */
            rc = CCIP_DB_RETRYABLE;
            goto out;
        }
        PQclear(res);
        res = NULL;
        const char *t[] = {row.id, "", STATS_DRAFT, cmd->actor.id, cmd->actor.role, ""};
        if ((rc = ccip_db_exec(cmd->db, &S_TRANSITION, 6, t, NULL, NULL, NULL)) != 0)
            goto out;
    } else {
        const char *p[] = {row.id, rq->note};
        rc = ccip_db_exec(cmd->db, rq->note[0] ? &S_NOTE : &S_TOUCH, rq->note[0] ? 2 : 1, p, NULL,
                          NULL, NULL);
        if (rc != 0)
            goto out;
    }
    rc = s_write_values(cmd, &row, rq->values, rq->n_values, rq->remove, rq->n_remove);
    if (rc == 0)
        rc = stats_report_reply(cmd, row.id);
out:
    PQclear(res);
    return rc;
}

/* ---- stats.report.submit.v1 --------------------------------------------------------------- */

/* A refusal listing the first blocking findings. */
static int s_refuse_blocking(ccip_command *cmd, const stats_report_row *row, const stats_finding *f,
                             size_t n)
{
    size_t errors = 0, warnings = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i].importance == CCIP__STATS__IMPORTANCE__ERROR)
            errors++;
        else if (!f[i].explained)
            warnings++;
    }
    char list[400] = "";
    size_t quoted = 0;
    for (size_t i = 0; i < n && quoted < BLOCKING_MSG; i++) {
        if (f[i].importance != CCIP__STATS__IMPORTANCE__ERROR && f[i].explained)
            continue;
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", quoted ? "; " : "", f[i].message);
        quoted++;
    }
    return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                             "report %s cannot be submitted: %zu error(s) and %zu unexplained "
                             "warning(s): %s",
                             row->id, errors, warnings, list);
}

/* Stores the explanations of the report's values (each must be for a value
 * the report has). Returns 0, CCIP_REPLIED or a ccip_db_rc. */
static int s_explain(ccip_command *cmd, const stats_report_row *row,
                     Ccip__Stats__Explanation *const *explanations, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const Ccip__Stats__Explanation *e = explanations[i];
        char field[64];
        snprintf(field, sizeof field, "explanations[%zu].text", i);
        if ((rc = ccip_command_check_text(cmd, field, e->text, 1, STATS_REASON_MAX,
                                          CCIP_TEXT_MULTILINE)) != 0)
            break;
        const char *p[] = {row->id, e->code, e->text};
        int hit;
        if ((rc = stats_db_found(cmd->db, &S_EXPLAIN, 3, p, &hit)) == 0 && !hit)
            rc = ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "explanations[%zu] is for indicator `%.48s`, which has no value in "
                "report %s; explain values the report has",
                i, e->code, row->id);
    }
    return rc;
}

int stats_report_submit_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__SubmitReportRequest *rq = request;
    stats_caller caller;
    stats_report_row row;
    stats_finding *f = NULL;
    size_t nf = 0;
    int rc = stats_caller_get(cmd, &caller);
    if (rc == 0)
        rc = stats_report_row_get(cmd, rq->report_id, 1, &caller, &row);
    if (rc == 0)
        rc = s_check_operator(cmd, &caller, &row.roster);
    if (rc == 0)
        rc = s_editable(cmd, &row, "submitted");
    if (rc == 0)
        rc = stats_roster_require_active(cmd, &row.roster, row.quarter, "");
    if (rc == 0)
        rc = s_entry_open(cmd, row.roster.id, row.quarter);
    if (rc == 0)
        rc = s_explain(cmd, &row, rq->explanations, rq->n_explanations);
    if (rc == 0)
        rc = stats_report_findings(cmd, &row, &f, &nf);
    if (rc == 0 && stats_findings_blocking(f, nf) > 0)
        rc = s_refuse_blocking(cmd, &row, f, nf);
    if (rc == 0)
        rc = stats_report_transition(cmd, &row, STATS_SUBMITTED, "");
    if (rc == 0)
        rc = stats_report_emit(cmd, &row, "stats.report.submitted.v1", STATS_SUBMITTED, "");
    if (rc == 0)
        rc = stats_report_reply(cmd, row.id);
    free(f);
    return rc;
}

/* ---- stats.report.get.v1 ------------------------------------------------------------------ */

/* Resolves a GetReportRequest (by id, or by roster entry and quarter) to
 * a report the caller may see. Returns 0, CCIP_REPLIED or a ccip_db_rc. */
static int s_resolve(ccip_command *cmd, const Ccip__Stats__GetReportRequest *rq,
                     stats_report_row *row)
{
    stats_caller caller;
    int rc = stats_caller_get(cmd, &caller);
    if (rc != 0)
        return rc;
    if (rq->report_id[0])
        return stats_report_row_get(cmd, rq->report_id, 0, &caller, row);
    stats_quarter q;
    if ((rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q)) != 0)
        return rc;
    if (!rq->roster_id[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "give field `report_id`, or fields `roster_id` and `quarter`");
    const char *p[] = {rq->roster_id, rq->quarter};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_FIND, 2, p, NULL, NULL, &res)) != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "roster entry %.64s has no report for %s", rq->roster_id,
                                 rq->quarter);
    }
    char id[CCIP_UUID_STRLEN + 1];
    snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return stats_report_row_get(cmd, id, 0, &caller, row);
}

int stats_report_get_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    stats_report_row row;
    int rc = s_resolve(cmd, request, &row);
    return rc ? rc : stats_report_reply(cmd, row.id);
}

/* ---- stats.report.list.v1 ------------------------------------------------------------------ */

int stats_report_list_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__ListReportsRequest *rq = request;
    stats_caller caller;
    stats_quarter q;
    char district[8] = "";
    const char *status = "";
    int rc = stats_caller_get(cmd, &caller);
    if (rc == 0 && rq->quarter[0])
        rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q);
    if (rc == 0)
        rc = stats_district_arg(cmd, "district", rq->district, district);
    if (rc == 0 && rq->status) {
        status = ccip_enum_name(&ccip__stats__report_status__descriptor, (int)rq->status);
        if (!status)
            rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                   "field `status` must be a report status, got %d",
                                   (int)rq->status);
    }
    if (rc == 0)
        rc = stats_caller_district(cmd, &caller, district, "reports");
    if (rc != 0)
        return rc;
    const char *p[] = {rq->quarter, district, status, rq->roster_id,
                       caller.kind == STATS_CALLER_OPERATOR ? caller.uscc : ""};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_LIST, 5, p, NULL, NULL, &res)) != 0)
        return rc;
    Ccip__Stats__ListReportsReply reply = CCIP__STATS__LIST_REPORTS_REPLY__INIT;
    int n = PQntuples(res);
    reply.reports = ccip_arena_alloc(a, (size_t)n * sizeof *reply.reports);
    for (int r = 0; reply.reports && r < n && r < LIST_MAX; r++) {
        Ccip__Stats__ReportSummary *s = ccip_arena_alloc(a, sizeof *s);
        if (!s)
            break;
        *s = (Ccip__Stats__ReportSummary)CCIP__STATS__REPORT_SUMMARY__INIT;
        s->id = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
        s->roster_id = ccip_arena_strdup(a, PQgetvalue(res, r, 1));
        s->roster_name = ccip_arena_strdup(a, PQgetvalue(res, r, 2));
        s->district_code = ccip_arena_strdup(a, PQgetvalue(res, r, 3));
        s->quarter = ccip_arena_strdup(a, PQgetvalue(res, r, 4));
        s->status = (Ccip__Stats__ReportStatus)ccip_enum_value(
            &ccip__stats__report_status__descriptor, PQgetvalue(res, r, 5));
        s->first_submitted_at_us = ccip_db_cell_i64(res, r, 6);
        s->values = (uint32_t)ccip_db_cell_i64(res, r, 7);
        reply.reports[reply.n_reports++] = s;
    }
    PQclear(res);
    return stats_reply_built(cmd, a, &reply.base, "out of memory listing reports");
}

/* ---- stats.report.correct.v1 ------------------------------------------------------------------
 */

/* Lists in ev what the correction rq changes against the values `before`
 * (code, value, ... rows): the event carries the changes, and a correction
 * that changes nothing is refused rather than recorded. Returns 0 or
 * CCIP_REPLIED. */
static int s_changes(ccip_command *cmd, ccip_arena *a, const Ccip__Stats__CorrectReportRequest *rq,
                     const PGresult *before, const char *report_id, Ccip__Stats__ValueCorrected *ev)
{
    ev->changes = ccip_arena_alloc(a, (rq->n_values + rq->n_remove) * sizeof *ev->changes);
    int64_t now = ccip_now_us();
    for (size_t i = 0; ev->changes && i < rq->n_values + rq->n_remove; i++) {
        const char *code = i < rq->n_values ? rq->values[i]->code : rq->remove[i - rq->n_values];
        int r = s_row_of(before, code);
        int has_new = i < rq->n_values;
        int64_t nv = has_new ? rq->values[i]->value : 0;
        if ((r < 0 && !has_new) || (r >= 0 && has_new && ccip_db_cell_i64(before, r, 1) == nv))
            continue;
        Ccip__Stats__AuditEntry *e = ccip_arena_alloc(a, sizeof *e);
        if (!e)
            break;
        *e = (Ccip__Stats__AuditEntry)CCIP__STATS__AUDIT_ENTRY__INIT;
        e->indicator = (char *)code;
        e->had_old = r >= 0;
        e->old_value = r >= 0 ? ccip_db_cell_i64(before, r, 1) : 0;
        e->has_new = has_new;
        e->new_value = nv;
        e->actor_id = (char *)cmd->actor.id;
        e->actor_role = (char *)cmd->actor.role;
        e->reason = rq->reason;
        e->at_us = now;
        ev->changes[ev->n_changes++] = e;
    }
    if (ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if (ev->n_changes == 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "the values given are those of report %s already; nothing to "
                                 "correct",
                                 report_id);
    return 0;
}

/* A correction must not bring in an error (warnings are the center's
 * judgement: it is correcting on purpose). Returns 0, CCIP_REPLIED
 * (FAILED_PRECONDITION naming the first error) or a ccip_db_rc. */
static int s_no_error(ccip_command *cmd, const stats_report_row *row)
{
    stats_finding *f = NULL;
    size_t nf = 0;
    int rc = stats_report_findings(cmd, row, &f, &nf);
    for (size_t i = 0; rc == 0 && i < nf; i++)
        if (f[i].importance == CCIP__STATS__IMPORTANCE__ERROR)
            rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                   "the correction would leave report %s with an error: %s; "
                                   "nothing was changed",
                                   row->id, f[i].message);
    free(f);
    return rc;
}

int stats_report_correct_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__CorrectReportRequest *rq = request;
    stats_caller caller;
    stats_report_row row;
    int rc = stats_caller_get(cmd, &caller);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "reason", rq->reason, 1, STATS_REASON_MAX,
                                     CCIP_TEXT_MULTILINE);
    if (rc == 0 && rq->n_values + rq->n_remove == 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "give the values to correct (field `values`) or remove (field "
                               "`remove`)");
    if (rc == 0)
        rc = stats_report_row_get(cmd, rq->report_id, 1, &caller, &row);
    if (rc == 0 && strcmp(row.status, STATS_ACCEPTED) != 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "report %s is %s, not ACCEPTED: a report is corrected by its "
                               "operator until the center accepts it (return it to the operator "
                               "instead)",
                               row.id, row.status);
    if (rc == 0)
        rc = s_check_values(cmd, row.version, row.roster.kind, rq->values, rq->n_values, rq->remove,
                            rq->n_remove);
    if (rc != 0)
        return rc;
    const char *id = row.id;
    PGresult *before = NULL;
    Ccip__Stats__ValueCorrected ev = CCIP__STATS__VALUE_CORRECTED__INIT;
    if ((rc = ccip_db_exec(cmd->db, &S_VALUES, 1, &id, NULL, NULL, &before)) == 0)
        rc = s_changes(cmd, a, rq, before, row.id, &ev);
    PQclear(before);
    if (rc == 0)
        rc = stats_roster_lock(cmd->db, row.roster.id);
    if (rc == 0)
        rc = stats_audit_context(cmd, rq->reason);
    if (rc == 0)
        rc = s_write_values(cmd, &row, rq->values, rq->n_values, rq->remove, rq->n_remove);
    if (rc == 0)
        rc = s_no_error(cmd, &row);
    ev.report_id = row.id;
    ev.roster_id = row.roster.id;
    ev.quarter = row.quarter;
    if (rc == 0)
        rc = ccip_command_emit(cmd, "stats.value.corrected.v1", "report", row.id, &ev.base);
    if (rc == 0)
        rc = stats_report_reply(cmd, row.id);
    return rc;
}

/* ---- stats.report.audit.v1 ---------------------------------------------------------------------
 */

int stats_report_audit_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    stats_report_row row;
    int rc = s_resolve(cmd, request, &row);
    if (rc != 0)
        return rc;
    const char *id = row.id;
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_AUDIT, 1, &id, NULL, NULL, &res)) != 0)
        return rc;
    Ccip__Stats__AuditReply reply = CCIP__STATS__AUDIT_REPLY__INIT;
    reply.report_id = row.id;
    int n = PQntuples(res);
    reply.entries = ccip_arena_alloc(a, (size_t)n * sizeof *reply.entries);
    for (int r = 0; reply.entries && r < n; r++) {
        Ccip__Stats__AuditEntry *e = ccip_arena_alloc(a, sizeof *e);
        if (!e)
            break;
        *e = (Ccip__Stats__AuditEntry)CCIP__STATS__AUDIT_ENTRY__INIT;
        e->indicator = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
        e->had_old = ccip_db_cell_bool(res, r, 1);
        e->old_value = ccip_db_cell_i64(res, r, 2);
        e->has_new = ccip_db_cell_bool(res, r, 3);
        e->new_value = ccip_db_cell_i64(res, r, 4);
        e->actor_id = ccip_arena_strdup(a, PQgetvalue(res, r, 5));
        e->actor_role = ccip_arena_strdup(a, PQgetvalue(res, r, 6));
        e->reason = ccip_arena_strdup(a, PQgetvalue(res, r, 7));
        e->at_us = ccip_db_cell_i64(res, r, 8);
        reply.entries[reply.n_entries++] = e;
    }
    rc = stats_reply_built(cmd, a, &reply.base, "out of memory reading the audit trail");
    PQclear(res);
    return rc;
}

/* ---- stats.lock.grant.v1 ------------------------------------------------------------------------
 */

int stats_lock_grant_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__GrantLockExceptionRequest *rq = request;
    stats_quarter q;
    stats_roster_row roster;
    int found = 0;
    PGresult *res = NULL;
    int64_t now = ccip_now_us();
    int64_t longest = stats_cfg(cmd)->max_exception_days * STATS_DAY_US;
    int rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "reason", rq->reason, 1, STATS_REASON_MAX,
                                     CCIP_TEXT_MULTILINE);
    if (rc == 0 && (rq->until_us <= now || rq->until_us > now + longest))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `until_us` must be in the future and at most %lld days away "
                               "(stats.max_exception_days), got %lld",
                               (long long)stats_cfg(cmd)->max_exception_days,
                               (long long)rq->until_us);
    if (rc == 0 && (!rq->roster_id[0] || strlen(rq->roster_id) >= sizeof roster.id))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `roster_id` must name a roster entry");
    if (rc == 0)
        rc = stats_roster_load(cmd->db, rq->roster_id, 1, &roster, &found);
    if (rc == 0 && !found)
        rc = ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no roster entry %.64s",
                               rq->roster_id);
    if (rc == 0)
        rc = stats_roster_require_active(cmd, &roster, rq->quarter, "; no exception is needed");
    char until[24];
    snprintf(until, sizeof until, "%lld", (long long)rq->until_us);
    const char *p[] = {roster.id, rq->quarter, until, rq->reason, cmd->actor.id};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_EXCEPTION_INSERT, 5, p, NULL, NULL, &res);
    if (rc == 0) {
        Ccip__Stats__LockExceptionReply reply = CCIP__STATS__LOCK_EXCEPTION_REPLY__INIT;
        reply.roster_id = roster.id;
        reply.quarter = rq->quarter;
        reply.until_us = rq->until_us;
        reply.granted_by = (char *)cmd->actor.id;
        reply.granted_at_us = ccip_db_cell_i64(res, 0, 0);
        reply.reason = rq->reason;
        rc = ccip_command_reply(cmd, &reply.base);
    }
    PQclear(res);
    return rc;
}
