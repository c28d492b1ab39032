#include "intake_calls.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "intake_validate.h"

#define LIST_MAX 500 /* calls one list reply holds, newest first */

#define CALL_COLUMNS INTAKE_CALL_COLUMNS
enum {
    C_ID,
    C_KIND,
    C_YEAR,
    C_TITLE,
    C_OPENS,
    C_CLOSES,
    C_DOCS,
    C_ELIGIBLE,
    C_FUND,
    C_MAX_FEN,
    C_CLOSED,
    C_CLOSE_REASON,
    C_OPENED_BY,
    C_OPENED_AT,
    C_ACCEPTING,
};
_Static_assert(C_ACCEPTING + 1 == INTAKE_CALL_NCOLUMNS, "INTAKE_CALL_COLUMNS and its columns");

static const ccip_db_stmt S_INSERT = {
    "intake_call_insert",
    "INSERT INTO call (id, kind, year, title, opens_at, closes_at, required_documents, "
    "eligible_types, fund_programme_code, max_request_fen, opened_by) "
    "VALUES ($1, $2, $3::integer, $4, " CCIP_SQL_TS("$5") ", " CCIP_SQL_TS(
        "$6") ", string_to_array($7, ','), string_to_array($8, ','), $9, $10::bigint, $11)"};

static const ccip_db_stmt S_GET = {"intake_call_get",
                                   "SELECT " CALL_COLUMNS " FROM call WHERE id = $1::uuid"};

static const ccip_db_stmt S_GET_LOCK = {
    "intake_call_get_lock", "SELECT " CALL_COLUMNS " FROM call WHERE id = $1::uuid FOR UPDATE"};

static const ccip_db_stmt S_CLOSE = {
    "intake_call_close", "UPDATE call SET closed_at = now(), closed_by = $2, close_reason = $3 "
                         "WHERE id = $1::uuid AND closed_at IS NULL"};

/* Calls whose window ended, closed as of their own closing time; a call
 * staff are closing at the same moment is skipped (locked), and found
 * closed next time. */
static const ccip_db_stmt S_CLOSE_DUE = {
    "intake_call_close_due",
    "UPDATE call SET closed_at = closes_at, closed_by = $1, close_reason = $2 WHERE id IN "
    "(SELECT id FROM call WHERE closed_at IS NULL AND closes_at <= now() ORDER BY closes_at "
    "LIMIT 100 FOR UPDATE SKIP LOCKED) RETURNING id::text, "
    "(extract(epoch FROM closed_at) * 1000000)::bigint"};

static const ccip_db_stmt S_LIST = {
    "intake_call_list",
    "SELECT " CALL_COLUMNS " FROM call "
    "WHERE ($1::integer = 0 OR year = $1::integer) AND ($2::text = '' OR kind = $2::text) "
    "AND (NOT $3::boolean OR (closed_at IS NULL AND now() >= opens_at AND now() < closes_at)) "
    "ORDER BY opens_at DESC, id LIMIT 500"};

static const ccip_db_stmt S_WINDOW = {
    "intake_call_window",
    "SELECT title, " CCIP_SQL_US("opens_at") ", " CCIP_SQL_US("closes_at") ", " CCIP_SQL_US(
        "closed_at") ", now() < opens_at, now() >= closes_at, close_reason "
                     "FROM call WHERE id = $1::uuid"};

/* Splits "a,b,c" into an array from the arena; "" is no entries. */
static char **s_split(ccip_arena *a, const char *s, size_t *n)
{
    *n = 0;
    if (!*s)
        return NULL;
    size_t count = 1;
    for (const char *p = s; *p; p++)
        count += *p == ',';
    char **out = ccip_arena_alloc(a, count * sizeof *out);
    char *copy = ccip_arena_strdup(a, s);
    if (!out || ccip_arena_failed(a))
        return NULL;
    for (char *tok = copy, *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next)
            *next++ = '\0';
        out[(*n)++] = tok;
    }
    return out;
}

Ccip__Intake__Call *intake_call_from_row(const PGresult *res, int row, int col0, ccip_arena *a)
{
    Ccip__Intake__Call *c = ccip_row_new(a, CCIP_MSG(intake, call), res, row, col0 + C_ID,
                                         "id, kind, year, title, opens_at_us, closes_at_us, , , "
                                         "fund_programme_code, max_request_fen, closed_at_us, "
                                         "close_reason, opened_by, opened_at_us, accepting");
    if (!c)
        return NULL;
    c->required_documents =
        s_split(a, PQgetvalue(res, row, col0 + C_DOCS), &c->n_required_documents);
    size_t ntypes = 0;
    char **types = s_split(a, PQgetvalue(res, row, col0 + C_ELIGIBLE), &ntypes);
    if (ntypes) {
        c->eligible_types = ccip_arena_alloc(a, ntypes * sizeof *c->eligible_types);
        for (size_t i = 0; c->eligible_types && i < ntypes; i++)
            c->eligible_types[c->n_eligible_types++] =
                (Ccip__Intake__OrganisationType)ccip_enum_value(
                    &ccip__intake__organisation_type__descriptor, types[i]);
    }
    return ccip_arena_failed(a) ? NULL : c;
}

int intake_call_load(ccip_command *cmd, const char *id, int lock, ccip_arena *a,
                     Ccip__Intake__Call **out)
{
    *out = NULL;
    PGresult *res = NULL;
    int rc = ccip_command_row(cmd, lock ? &S_GET_LOCK : &S_GET, 1, &id, &res,
                              "there is no call %s; list the calls with intake.call.list.v1", id);
    if (rc != 0)
        return rc;
    *out = intake_call_from_row(res, 0, 0, a);
    PQclear(res);
    if (!*out)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading call %s", id);
    return 0;
}

int intake_call_window_fail(ccip_command *cmd, const Ccip__Intake__Call *call, int before,
                            int after)
{
    char title[84], reason[204], when[CCIP_TIME_STRLEN + 1] = "";
    ccip_text_shown(call->title, 80, title, sizeof title);
    ccip_text_shown(call->close_reason, 200, reason, sizeof reason);
    /* Closed before its window ended: staff did it, and say why. A call
     * closed at or after the end of its window (by intake itself, or late
     * by staff) reads as the window's end. */
    if (call->closed_at_us && call->closed_at_us < call->closes_at_us) {
        ccip_time_text(call->closed_at_us, when, sizeof when);
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "call \"%s\" (%s) was closed by staff at %s UTC%s%s%s; it no "
                                 "longer accepts submissions",
                                 title, call->id, when, reason[0] ? " (" : "", reason,
                                 reason[0] ? ")" : "");
    }
    if (before) {
        ccip_time_text(call->opens_at_us, when, sizeof when);
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "call \"%s\" (%s) opens for submissions at %s UTC; submit then (the "
            "draft is kept meanwhile)",
            title, call->id, when);
    }
    if (after || call->closed_at_us) {
        ccip_time_text(call->closes_at_us, when, sizeof when);
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "call \"%s\" (%s) closed for submissions at %s UTC; submissions are "
            "not accepted after the close",
            title, call->id, when);
    }
    return 0;
}

int intake_call_check_window(ccip_command *cmd, const char *id)
{
    PGresult *res = NULL;
    int rc = ccip_command_row(cmd, &S_WINDOW, 1, &id, &res, "there is no call %s", id);
    if (rc != 0)
        return rc;
    Ccip__Intake__Call call = CCIP__INTAKE__CALL__INIT;
    call.id = (char *)id;
    call.title = PQgetvalue(res, 0, 0);
    call.opens_at_us = ccip_db_cell_i64(res, 0, 1);
    call.closes_at_us = ccip_db_cell_i64(res, 0, 2);
    call.closed_at_us = ccip_db_cell_i64(res, 0, 3); /* NULL (not closed) reads 0 */
    call.close_reason = PQgetvalue(res, 0, 6);
    rc = intake_call_window_fail(cmd, &call, strcmp(PQgetvalue(res, 0, 4), "t") == 0,
                                 strcmp(PQgetvalue(res, 0, 5), "t") == 0);
    PQclear(res);
    return rc;
}

/* Joins n strings with ',' into buf. */
static void s_join(char *buf, size_t len, char *const *items, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s", i ? "," : "",
                                 items[i]);
}

static int s_reply_call(ccip_command *cmd, Ccip__Intake__Call *call)
{
    Ccip__Intake__CallReply reply = CCIP__INTAKE__CALL_REPLY__INIT;
    reply.call = call;
    return ccip_command_reply(cmd, &reply.base);
}

int intake_call_open(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__OpenCallRequest *rq = request;
    char err[512];
    if (intake_validate_open_call(rq, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    char id[CCIP_UUID_STRLEN + 1];
    if (ccip_uuid_v7(id) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not make an id");
    char docs[INTAKE_REQUIRED_DOCS_MAX * (INTAKE_CODE_MAX + 1) + 1];
    s_join(docs, sizeof docs, rq->required_documents, rq->n_required_documents);
    char types[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < rq->n_eligible_types; i++)
        used += (size_t)snprintf(types + used, used < sizeof types ? sizeof types - used : 0,
                                 "%s%s", i ? "," : "",
                                 ccip_enum_name(&ccip__intake__organisation_type__descriptor,
                                                (int)rq->eligible_types[i]));
    char year[16], opens[24], closes[24], max_fen[24];
    snprintf(year, sizeof year, "%d", rq->year);
    snprintf(opens, sizeof opens, "%" PRId64, rq->opens_at_us);
    snprintf(closes, sizeof closes, "%" PRId64, rq->closes_at_us);
    snprintf(max_fen, sizeof max_fen, "%" PRId64, rq->max_request_fen);
    const char *values[] = {id,
                            ccip_enum_name(&ccip__intake__call_kind__descriptor, (int)rq->kind),
                            year,
                            rq->title,
                            opens,
                            closes,
                            docs,
                            types,
                            rq->fund_programme_code,
                            max_fen,
                            cmd->actor.id};
    int rc = ccip_db_exec(cmd->db, &S_INSERT, 11, values, NULL, NULL, NULL);
    if (rc != CCIP_DB_OK)
        return rc;
    Ccip__Intake__Call *call = NULL;
    if ((rc = intake_call_load(cmd, id, 0, a, &call)) != 0)
        return rc;
    Ccip__Intake__CallOpened ev = CCIP__INTAKE__CALL_OPENED__INIT;
    ev.call = call;
    if ((rc = ccip_command_emit(cmd, "intake.call.opened.v1", "call", id, &ev.base)) != 0)
        return rc;
    return s_reply_call(cmd, call);
}

int intake_call_close(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__CloseCallRequest *rq = request;
    char err[512];
    if (intake_validate_uuid("call_id", rq->call_id, err, sizeof err) < 0 ||
        intake_validate_reason(rq->reason, 0, "", err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    Ccip__Intake__Call *call = NULL;
    int rc = intake_call_load(cmd, rq->call_id, 1, a, &call);
    if (rc != 0)
        return rc;
    if (call->closed_at_us) {
        char when[CCIP_TIME_STRLEN + 1];
        ccip_time_text(call->closed_at_us, when, sizeof when);
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "call %s was already closed at %s UTC; nothing to do", rq->call_id,
                                 when);
    }
    const char *values[] = {rq->call_id, cmd->actor.id, rq->reason};
    if ((rc = ccip_db_exec(cmd->db, &S_CLOSE, 3, values, NULL, NULL, NULL)) != CCIP_DB_OK)
        return rc;
    if ((rc = intake_call_load(cmd, rq->call_id, 0, a, &call)) != 0)
        return rc;
    Ccip__Intake__CallClosed ev = CCIP__INTAKE__CALL_CLOSED__INIT;
    ev.call_id = call->id;
    ev.closed_at_us = call->closed_at_us;
    ev.reason = call->close_reason;
    if ((rc = ccip_command_emit(cmd, "intake.call.closed.v1", "call", call->id, &ev.base)) != 0)
        return rc;
    return s_reply_call(cmd, call);
}

int intake_call_close_due(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)request; /* a CloseDueRequest has no fields */
    static const char reason[] = "the submission window ended";
    const char *values[] = {cmd->actor.id, reason};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_CLOSE_DUE, 2, values, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int n = PQntuples(res);
    char **ids = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof *ids);
    if (!ids) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory closing calls");
    }
    for (int i = 0; rc == 0 && i < n; i++) {
        Ccip__Intake__CallClosed ev = CCIP__INTAKE__CALL_CLOSED__INIT;
        ev.call_id = ids[i] = PQgetvalue(res, i, 0);
        ev.closed_at_us = ccip_db_cell_i64(res, i, 1);
        ev.reason = (char *)reason;
        rc = ccip_command_emit(cmd, "intake.call.closed.v1", "call", ev.call_id, &ev.base);
    }
    if (rc == 0) {
        Ccip__Intake__CloseDueReply reply = CCIP__INTAKE__CLOSE_DUE_REPLY__INIT;
        reply.closed_call_ids = ids;
        reply.n_closed_call_ids = (size_t)n;
        rc = ccip_command_reply(cmd, &reply.base);
    }
    PQclear(res);
    return rc;
}

int intake_call_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__GetCallRequest *rq = request;
    char err[256];
    if (intake_validate_uuid("call_id", rq->call_id, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    Ccip__Intake__Call *call = NULL;
    int rc = intake_call_load(cmd, rq->call_id, 0, a, &call);
    if (rc)
        return rc;
    return s_reply_call(cmd, call);
}

int intake_call_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__ListCallsRequest *rq = request;
    const char *kind = "";
    if (rq->kind != CCIP__INTAKE__CALL_KIND__CALL_KIND_UNSPECIFIED) {
        kind = ccip_enum_name(&ccip__intake__call_kind__descriptor, (int)rq->kind);
        if (!kind)
            return ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "field `kind` has the unknown value %d; give CLUSTER_IDENTIFICATION, "
                "TALENT_BASE_IDENTIFICATION, SPECIAL_FUND_PROJECT or leave it unset",
                (int)rq->kind);
    }
    char year[16];
    snprintf(year, sizeof year, "%d", rq->year);
    const char *values[] = {year, kind, rq->accepting_only ? "true" : "false"};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_LIST, 3, values, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    Ccip__Intake__ListCallsReply reply = CCIP__INTAKE__LIST_CALLS_REPLY__INIT;
    int n = PQntuples(res);
    if (n > LIST_MAX)
        n = LIST_MAX;
    reply.calls = ccip_arena_alloc(a, (size_t)n * sizeof *reply.calls);
    for (int i = 0; reply.calls && i < n; i++) {
        Ccip__Intake__Call *c = intake_call_from_row(res, i, 0, a);
        if (!c)
            break;
        reply.calls[reply.n_calls++] = c;
    }
    PQclear(res);
    return ccip_command_reply_built(cmd, a, &reply.base);
}
