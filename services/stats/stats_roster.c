#include "stats_roster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_arena.h"

#define LIST_MAX 5000 /* entries one list reply holds */

/* The columns s_row reads, in its order. */
// clang-format off
#define ROSTER_COLUMNS                                                                             \
    "id, kind, name, district_code, category, operator_uscc, "                                     \
    CCIP_SQL_US("designated_at") ", first_quarter, "                                             \
    "coalesce(" CCIP_SQL_US("revoked_at") ", 0), coalesce(last_quarter, ''), source, "           \
    "revocation_reason, certificate_no, coalesce(expiry_quarter, '')"
// clang-format on

static const ccip_db_stmt S_GRANT = {
    "stats_roster_grant",
    "INSERT INTO roster_entry (id, kind, name, district_code, category, operator_uscc, "
    "certificate_no, designated_at, valid_until, first_quarter, source, expiry_quarter) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, " CCIP_SQL_TS(
        "$8") ", "
              "CASE WHEN $9::bigint > 0 THEN " CCIP_SQL_TS(
                  "$9") " END, $10, $11, nullif($12, '')) "
                        "ON CONFLICT (id) DO NOTHING RETURNING id"};

static const ccip_db_stmt S_HISTORY = {
    "stats_roster_history",
    "INSERT INTO roster_history (roster_id, change, at, actor_id, source, reason) "
    "VALUES ($1, $2, " CCIP_SQL_TS("$3") ", $4, $5, $6)"};

static const ccip_db_stmt S_REVOKE = {
    "stats_roster_revoke",
    "UPDATE roster_entry SET revoked_at = " CCIP_SQL_TS(
        "$2") ", last_quarter = greatest($3, first_quarter), revocation_reason = $4 "
              "WHERE id = $1 AND revoked_at IS NULL RETURNING id"};

static const ccip_db_stmt S_EXISTS = {"stats_roster_exists",
                                      "SELECT 1 FROM roster_entry WHERE id = $1"};

static const ccip_db_stmt S_LOAD = {"stats_roster_load",
                                    "SELECT " ROSTER_COLUMNS " FROM roster_entry WHERE id = $1"};
static const ccip_db_stmt S_LOAD_LOCK = {"stats_roster_load_lock",
                                         "SELECT " ROSTER_COLUMNS
                                         " FROM roster_entry WHERE id = $1 FOR SHARE"};

static const ccip_db_stmt S_LIST = {
    "stats_roster_list",
    "SELECT " ROSTER_COLUMNS " FROM roster_entry WHERE ($1 = '' OR (first_quarter <= $1 AND "
    "(last_quarter IS NULL OR last_quarter >= $1) AND (expiry_quarter IS NULL OR "
    "expiry_quarter >= $1))) AND ($2 = '' OR district_code = $2) "
    "AND ($3 = '' OR operator_uscc = $3) ORDER BY district_code, id LIMIT 5000"};

/* ---- rows -------------------------------------------------------------------- */

static void s_row(const PGresult *res, int r, stats_roster_row *row)
{
    memset(row, 0, sizeof *row);
    snprintf(row->id, sizeof row->id, "%s", PQgetvalue(res, r, 0));
    row->kind = (Ccip__Stats__RosterKind)ccip_enum_value(&ccip__stats__roster_kind__descriptor,
                                                         PQgetvalue(res, r, 1));
    snprintf(row->name, sizeof row->name, "%s", PQgetvalue(res, r, 2));
    snprintf(row->district, sizeof row->district, "%s", PQgetvalue(res, r, 3));
    snprintf(row->category, sizeof row->category, "%s", PQgetvalue(res, r, 4));
    snprintf(row->operator_uscc, sizeof row->operator_uscc, "%s", PQgetvalue(res, r, 5));
    row->designated_at_us = ccip_db_cell_i64(res, r, 6);
    snprintf(row->first_quarter, sizeof row->first_quarter, "%s", PQgetvalue(res, r, 7));
    row->revoked_at_us = ccip_db_cell_i64(res, r, 8);
    snprintf(row->last_quarter, sizeof row->last_quarter, "%s", PQgetvalue(res, r, 9));
    snprintf(row->source, sizeof row->source, "%s", PQgetvalue(res, r, 10));
    snprintf(row->revocation_reason, sizeof row->revocation_reason, "%s", PQgetvalue(res, r, 11));
    snprintf(row->certificate_no, sizeof row->certificate_no, "%s", PQgetvalue(res, r, 12));
    snprintf(row->expiry_quarter, sizeof row->expiry_quarter, "%s", PQgetvalue(res, r, 13));
}

int stats_roster_load(ccip_db *db, const char *id, int lock, stats_roster_row *row, int *found)
{
    *found = 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, lock ? &S_LOAD_LOCK : &S_LOAD, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) == 1) {
        s_row(res, 0, row);
        *found = 1;
    }
    PQclear(res);
    return 0;
}

static const ccip_db_stmt S_LOCK = {"stats_roster_lock",
                                    "SELECT 1 FROM roster_entry WHERE id = $1 FOR UPDATE"};

int stats_roster_lock(ccip_db *db, const char *id)
{
    return ccip_db_exec(db, &S_LOCK, 1, &id, NULL, NULL, NULL);
}

int stats_roster_active(const stats_roster_row *row, const char *quarter)
{
    return strcmp(row->first_quarter, quarter) <= 0 &&
           (!row->last_quarter[0] || strcmp(quarter, row->last_quarter) <= 0) &&
           (!row->expiry_quarter[0] || strcmp(quarter, row->expiry_quarter) <= 0);
}

int stats_roster_require_active(ccip_command *cmd, const stats_roster_row *row, const char *quarter,
                                const char *then)
{
    if (stats_roster_active(row, quarter))
        return 0;
    if (strcmp(quarter, row->first_quarter) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "roster entry %s is not on the roster for %s: it was designated "
                                 "later and reports from %s on%s",
                                 row->id, quarter, row->first_quarter, then);
    if (row->last_quarter[0] && strcmp(quarter, row->last_quarter) > 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "roster entry %s is not on the roster for %s: its designation "
                                 "was revoked and %s was the last quarter it reported for%s",
                                 row->id, quarter, row->last_quarter, then);
    return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                             "roster entry %s is not on the roster for %s: its designation "
                             "expired and %s was the last quarter it reported for; a new "
                             "designation puts it back%s",
                             row->id, quarter, row->expiry_quarter, then);
}

/* ---- maintenance ----------------------------------------------------------------- */

int stats_roster_grant(ccip_db *db, const stats_designation *d, int *created)
{
    if (created)
        *created = 0;
    char at[24], until[24], first[8], expiry[8] = "";
    snprintf(at, sizeof at, "%lld", (long long)d->designated_at_us);
    snprintf(until, sizeof until, "%lld", (long long)d->valid_until_us);
    stats_quarter_format(stats_quarter_of_us(d->designated_at_us), first, sizeof first);
    if (d->valid_until_us > 0)
        stats_quarter_format(stats_quarter_of_us(d->valid_until_us), expiry, sizeof expiry);
    const char *kind = ccip_enum_name(&ccip__stats__roster_kind__descriptor, (int)d->kind);
    const char *values[] = {d->id,
                            kind ? kind : "",
                            d->name,
                            d->district_code,
                            d->category ? d->category : "",
                            d->operator_uscc,
                            d->certificate_no ? d->certificate_no : "",
                            at,
                            until,
                            first,
                            d->source,
                            expiry};
    int made;
    int rc = stats_db_found(db, &S_GRANT, 12, values, &made);
    if (rc != 0 || !made)
        return rc;
    if (created)
        *created = 1;
    const char *hist[] = {d->id, "GRANTED", at, d->actor_id ? d->actor_id : "", d->source, ""};
    return ccip_db_exec(db, &S_HISTORY, 6, hist, NULL, NULL, NULL);
}

int stats_roster_revoke(ccip_db *db, const char *id, int64_t at_us, const char *reason,
                        const char *actor_id, const char *source, int *outcome)
{
    *outcome = -1;
    char at[24], last[8];
    snprintf(at, sizeof at, "%lld", (long long)at_us);
    stats_quarter_format(stats_quarter_of_us(at_us), last, sizeof last);
    const char *values[] = {id, at, last, reason ? reason : ""};
    int revoked, exists;
    int rc = stats_db_found(db, &S_REVOKE, 4, values, &revoked);
    if (rc != 0)
        return rc;
    if (!revoked) {
        /* Revoked already (0), or never on the roster (-1). */
        rc = stats_db_found(db, &S_EXISTS, 1, &id, &exists);
        if (rc == 0 && exists)
            *outcome = 0;
        return rc;
    }
    *outcome = 1;
    const char *hist[] = {id,     "REVOKED",           at, actor_id ? actor_id : "",
                          source, reason ? reason : ""};
    return ccip_db_exec(db, &S_HISTORY, 6, hist, NULL, NULL, NULL);
}

/* ---- replies ---------------------------------------------------------------------- */

static Ccip__Stats__RosterEntry *s_message(const stats_roster_row *row, ccip_arena *a)
{
    Ccip__Stats__RosterEntry *e = ccip_arena_alloc(a, sizeof *e);
    if (!e)
        return NULL;
    *e = (Ccip__Stats__RosterEntry)CCIP__STATS__ROSTER_ENTRY__INIT;
    e->id = ccip_arena_strdup(a, row->id);
    e->kind = row->kind;
    e->name = ccip_arena_strdup(a, row->name);
    e->district_code = ccip_arena_strdup(a, row->district);
    e->category = ccip_arena_strdup(a, row->category);
    e->operator_uscc = ccip_arena_strdup(a, row->operator_uscc);
    e->designated_at_us = row->designated_at_us;
    e->first_quarter = ccip_arena_strdup(a, row->first_quarter);
    e->revoked_at_us = row->revoked_at_us;
    e->last_quarter = ccip_arena_strdup(a, row->last_quarter);
    e->source = ccip_arena_strdup(a, row->source);
    e->revocation_reason = ccip_arena_strdup(a, row->revocation_reason);
    e->certificate_no = ccip_arena_strdup(a, row->certificate_no);
    e->expiry_quarter = ccip_arena_strdup(a, row->expiry_quarter);
    return e;
}

/* Replies with entry `id` and emits stats.roster.changed.v1 (`change`). */
static int s_reply_changed(ccip_command *cmd, const char *id, const char *change)
{
    stats_roster_row row;
    int found;
    int rc = stats_roster_load(cmd->db, id, 0, &row, &found);
    if (rc != 0)
        return rc;
    if (!found)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "roster entry %s vanished", id);
    ccip_arena *a = ccip_arena_new();
    Ccip__Stats__RosterEntryReply reply = CCIP__STATS__ROSTER_ENTRY_REPLY__INIT;
    reply.entry = s_message(&row, a);
    if (!reply.entry || ccip_arena_failed(a)) {
        ccip_arena_destroy(&a);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    }
    Ccip__Stats__RosterChanged ev = CCIP__STATS__ROSTER_CHANGED__INIT;
    ev.entry = reply.entry;
    ev.change = (char *)change;
    rc = ccip_command_emit(cmd, "stats.roster.changed.v1", "roster_entry", row.id, &ev.base);
    if (rc == 0)
        rc = ccip_command_reply(cmd, &reply.base);
    ccip_arena_destroy(&a);
    return rc;
}

/* ---- evaluation's designations ------------------------------------------------------ */

/* The roster kind of a designation, or 0 when the kind is not reported. */
static Ccip__Stats__RosterKind s_kind(Ccip__Intake__CallKind k)
{
    if (k == CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION)
        return CCIP__STATS__ROSTER_KIND__CLUSTER;
    if (k == CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION)
        return CCIP__STATS__ROSTER_KIND__TALENT_BASE;
    return CCIP__STATS__ROSTER_KIND__ROSTER_KIND_UNSPECIFIED;
}

static int s_roster_id_valid(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++, n++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return n >= 1 && n <= 64;
}

static int s_skip(const Ccip__Envelope *ev, const char *why)
{
    char pos[24];
    snprintf(pos, sizeof pos, "%llu", (unsigned long long)ev->position);
    ccip_log_warn("skipped a designation event the roster cannot use", "type", ev->type, "position",
                  pos, "event", ev->id, "reason", why);
    return 0;
}

int stats_roster_on_designation(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    char err[256];
    Ccip__Evaluation__DesignationChanged *m =
        (Ccip__Evaluation__DesignationChanged *)ccip_payload_unpack(
            &ccip__evaluation__designation_changed__descriptor, ev->payload.data, ev->payload.len,
            CCIP_OUTBOX_PAYLOAD_MAX, err, sizeof err);
    if (!m)
        return s_skip(ev, err);
    const Ccip__Evaluation__Designation *d = m->designation;
    int rc = 0;
    if (!d || !s_roster_id_valid(d->id)) {
        rc = s_skip(ev, "no designation, or its id is not 1 to 64 characters of A-Z, a-z, "
                        "0-9, '.', '_' and '-'");
    } else if (strcmp(ev->type, "evaluation.designation.revoked.v1") == 0) {
        int outcome;
        int64_t at = d->revoked_at_us ? d->revoked_at_us : ev->occurred_at_us;
        rc = stats_roster_revoke(db, d->id, at, d->revoke_reason, d->revoked_by, "evaluation",
                                 &outcome);
        if (rc == 0 && outcome < 0)
            rc = s_skip(ev, "the designation was never on the roster");
    } else if (!s_kind(d->kind)) {
        rc = s_skip(ev, "only identifications of clusters and talent bases are monitored");
    } else {
        const ccip_district *district = ccip_district_find(d->district_code);
        int64_t at = d->valid_from_us   ? d->valid_from_us
                     : d->granted_at_us ? d->granted_at_us
                                        : ev->occurred_at_us;
        stats_designation g = {.id = d->id,
                               .kind = s_kind(d->kind),
                               .name = d->name[0] ? d->name : d->certificate_no,
                               .district_code = district ? district->code : "",
                               .category = "",
                               .operator_uscc = d->holder_uscc,
                               .certificate_no = d->certificate_no,
                               .designated_at_us = at,
                               .valid_until_us = d->valid_until_us,
                               .source = "evaluation",
                               .actor_id = d->granted_by};
        if (!district)
            rc = s_skip(ev, "the designation's district is not a Beijing district");
        else
            rc = stats_roster_grant(db, &g, NULL);
    }
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return rc;
}

/* ---- stats.roster.categorise.v1 ------------------------------------------------------ */

static const ccip_db_stmt S_CATEGORISE = {
    "stats_roster_categorise", "UPDATE roster_entry SET category = $2 WHERE id = $1 RETURNING id"};
/* The values carry their entry's category (sql/0002_analysis_neighbours.sql). */
static const ccip_db_stmt S_CATEGORISE_VALUES = {
    "stats_roster_categorise_values",
    "UPDATE report_value SET category = $2 WHERE roster_id = $1 AND category IS DISTINCT FROM $2"};

int stats_roster_categorise_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__CategoriseRosterEntryRequest *rq = request;
    int rc = 0, found = 0;
    if (rq->category[0]) /* "" takes the category away */
        rc = stats_code_arg(cmd, "category", rq->category, " (e.g. design, animation_games)");
    const char *p[] = {rq->id, rq->category};
    if (rc == 0)
        rc = stats_db_found(cmd->db, &S_CATEGORISE, 2, p, &found);
    if (rc == 0 && !found)
        rc = ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no roster entry %.64s",
                               rq->id);
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_CATEGORISE_VALUES, 2, p, NULL, NULL, NULL);
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)ccip_now_us());
    const char *hist[] = {rq->id, "CATEGORISED", now, cmd->actor.id, "stats", rq->category};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_HISTORY, 6, hist, NULL, NULL, NULL);
    if (rc == 0)
        rc = s_reply_changed(cmd, rq->id, "CATEGORISED");
    return rc;
}

/* ---- stats.roster.list.v1 ---------------------------------------------------------------- */

int stats_roster_list_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__ListRosterRequest *rq = request;
    stats_caller caller;
    stats_quarter q;
    char district[8] = "";
    int rc = stats_caller_get(cmd, &caller);
    if (rc == 0 && rq->quarter[0])
        rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q);
    if (rc == 0)
        rc = stats_district_arg(cmd, "district", rq->district, district);
    /* A district office sees its own district, an operator its own entries. */
    if (rc == 0)
        rc = stats_caller_district(cmd, &caller, district, "entries");
    if (rc != 0)
        return rc;
    const char *values[] = {rq->quarter, district,
                            caller.kind == STATS_CALLER_OPERATOR ? caller.uscc : ""};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_LIST, 3, values, NULL, NULL, &res)) != 0)
        return rc;
    Ccip__Stats__ListRosterReply reply = CCIP__STATS__LIST_ROSTER_REPLY__INIT;
    int n = PQntuples(res);
    reply.entries = ccip_arena_alloc(a, (size_t)n * sizeof *reply.entries);
    for (int r = 0; reply.entries && r < n && r < LIST_MAX; r++) {
        stats_roster_row row;
        s_row(res, r, &row);
        Ccip__Stats__RosterEntry *e = s_message(&row, a);
        if (!e)
            break;
        reply.entries[reply.n_entries++] = e;
    }
    PQclear(res);
    return stats_reply_built(cmd, a, &reply.base, "out of memory listing the roster");
}
