#include "notify_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_pgarray.h"
#include "notify.h"
#include "notify_kinds.h"
#include "notify_message.h"
#include "notify_prefs.h"
#include "notify_sender.h"

/* Columns of one kind of row, as array parameters. */
#define S_ITEM_COLS   15
#define S_SETTLE_COLS 4
#define S_FACT_COLS   4
#define S_PERSON_COLS 6
#define S_BIND_COLS   6
#define S_DELIV_COLS  10

typedef struct {
    ccip_pgarray col[S_ITEM_COLS];
    size_t n;
} s_rows14;

struct notify_batch {
    ccip_db *db;
    notify_batch_mode mode;
    const Ccip__Envelope *ev; /* the current event */
    int slot;                 /* items the current event made so far */
    size_t events;            /* events since the last flush */
    uint64_t ord;             /* order of side facts within the batch */
    s_rows14 items, settle, facts, person, bind;
    uint64_t items_made, deliveries_made;
};

static void s_rows_release(s_rows14 *r)
{
    for (size_t i = 0; i < S_ITEM_COLS; i++)
        ccip_pgarray_release(&r->col[i]);
    r->n = 0;
}

static void s_release_all(notify_batch *b)
{
    s_rows_release(&b->items);
    s_rows_release(&b->settle);
    s_rows_release(&b->facts);
    s_rows_release(&b->person);
    s_rows_release(&b->bind);
    b->events = 0;
}

notify_batch *notify_batch_new(ccip_db *db, notify_batch_mode mode)
{
    notify_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->db = db;
    b->mode = mode;
    return b;
}

void notify_batch_destroy(notify_batch **b)
{
    if (!b || !*b)
        return;
    s_release_all(*b);
    free(*b);
    *b = NULL;
}

void notify_batch_event(notify_batch *b, const Ccip__Envelope *ev)
{
    b->ev = ev;
    b->slot = 0;
    b->events++;
}

size_t notify_batch_pending(const notify_batch *b)
{
    return b->events;
}

uint64_t notify_batch_items_made(const notify_batch *b)
{
    return b->items_made;
}

uint64_t notify_batch_deliveries_made(const notify_batch *b)
{
    return b->deliveries_made;
}

/* Appends one row of n text values (NULL = SQL NULL) to r. */
static void s_row(s_rows14 *r, size_t n, const char *const *v)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i])
            ccip_pgarray_text(&r->col[i], v[i]);
        else
            ccip_pgarray_null(&r->col[i]);
    }
    r->n++;
}

static const char *s_s(const char *s)
{
    return s ? s : "";
}

/* The columns' values as parameters; NULL when memory ran out (logged). */
static int s_params(s_rows14 *r, size_t n, const char **out)
{
    for (size_t i = 0; i < n; i++)
        if (!(out[i] = ccip_pgarray_value(&r->col[i]))) {
            ccip_log_error("could not apply events", "reason", "out of memory");
            return -1;
        }
    return 0;
}

/* ---- adding ---------------------------------------------------------------------- */

/* The lookup kinds (sql/0001_notify.sql, table lookup) by notify_via. */
static const char *const s_via_names[NOTIFY_VIA_COUNT] = {"", "owner", "operator", "grantee",
                                                          "title"};

int notify_batch_item(notify_batch *b, const notify_item_spec *s)
{
    char slot[16], since[24], due[24], pos[24];
    snprintf(slot, sizeof slot, "%d", b->slot++);
    ccip_i64_text(b->ev->occurred_at_us, since);
    ccip_i64_text(s->due_us, due);
    ccip_i64_text((int64_t)b->ev->position, pos);
    notify_via via = s->via < NOTIFY_VIA_TITLE ? s->via : NOTIFY_VIA_NONE;
    const char *v[S_ITEM_COLS] = {b->ev->id,
                                  slot,
                                  s_s(s->addressee),
                                  s_via_names[via],
                                  s_s(s->via_id),
                                  s_s(s->kind),
                                  s_s(b->ev->source_service),
                                  s_s(s->object_type),
                                  s_s(s->object_id),
                                  s_s(s->subject),
                                  s_s(s->detail),
                                  s->close_key,
                                  since,
                                  due,
                                  pos};
    s_row(&b->items, S_ITEM_COLS, v);
    return 0;
}

int notify_batch_settle(notify_batch *b, const char *close_key)
{
    char at[24];
    ccip_i64_text(b->ev->occurred_at_us, at);
    const char *v[S_SETTLE_COLS] = {close_key, at, s_s(b->ev->type), b->ev->id};
    s_row(&b->settle, S_SETTLE_COLS, v);
    return 0;
}

int notify_batch_fact(notify_batch *b, notify_via what, const char *key, const char *const *values,
                      size_t n)
{
    if (what == NOTIFY_VIA_NONE || what >= NOTIFY_VIA_COUNT || !key || !key[0])
        return 0;
    char pos[24];
    ccip_i64_text((int64_t)b->ev->position, pos);
    for (size_t i = 0; i < n; i++) {
        if (!values[i] || !values[i][0])
            continue;
        const char *v[S_FACT_COLS] = {s_via_names[what], key, pos, values[i]};
        s_row(&b->facts, S_FACT_COLS, v);
    }
    return 0;
}

int notify_batch_account(notify_batch *b, const char *account_id, const char *login,
                         const char *name, const char *email, const char *mobile)
{
    char ord[24];
    ccip_i64_text((int64_t)++b->ord, ord);
    const char *v[S_PERSON_COLS] = {account_id, login, s_s(name), s_s(email), s_s(mobile), ord};
    s_row(&b->person, S_PERSON_COLS, v);
    return 0;
}

int notify_batch_binding(notify_batch *b, const char *binding_id, const char *account_id,
                         const char *actor_id, const char *roles, const char *status)
{
    char ord[24];
    ccip_i64_text((int64_t)++b->ord, ord);
    const char *v[S_BIND_COLS] = {binding_id, account_id, actor_id, s_s(roles), status, ord};
    s_row(&b->bind, S_BIND_COLS, v);
    return 0;
}

/* ---- writing ------------------------------------------------------------------------ */

/* The last fact per key of the batch wins (DISTINCT ON ... ORDER BY ord DESC). */
static const ccip_db_stmt S_PERSON = {
    "notify_person_upsert",
    "INSERT INTO person (account_id, login, name, email, mobile) "
    "SELECT DISTINCT ON (u.id) u.id, coalesce(u.login, u.id), u.name, u.email, u.mobile "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) "
    "AS u(id, login, name, email, mobile, ord) ORDER BY u.id, u.ord DESC "
    "ON CONFLICT (account_id) DO UPDATE SET login = CASE WHEN excluded.login = excluded.account_id "
    "THEN person.login ELSE excluded.login END, name = excluded.name, email = excluded.email, "
    "mobile = excluded.mobile, updated_at = now()"};

static const ccip_db_stmt S_BIND = {
    "notify_binding_upsert",
    "INSERT INTO binding (binding_id, account_id, actor_id, roles, status) "
    "SELECT DISTINCT ON (u.id) u.id, u.account, u.actor, string_to_array(u.roles, ' '), u.status "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) "
    "AS u(id, account, actor, roles, status, ord) ORDER BY u.id, u.ord DESC "
    "ON CONFLICT (binding_id) DO UPDATE SET account_id = excluded.account_id, "
    "actor_id = excluded.actor_id, roles = excluded.roles, status = excluded.status"};

static const ccip_db_stmt S_FACTS = {
    "notify_lookup_insert",
    "INSERT INTO lookup (kind, key, position, value) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) "
    "ON CONFLICT DO NOTHING"};

/* Items: the addressee given, or every value of the via fact as it stood at
 * the item's position; the subject, when the event gives none, the object's
 * title as it stood then. An item is written in its state: DONE by its first
 * settlement at or after its since when one is already there (the flush
 * writes the settlements first), so that only items whose settlement comes
 * in a later flush are updated (S_CLOSE): a rebuild used to write every
 * settled item twice, OPEN and then DONE. */
static const ccip_db_stmt S_ITEMS = {
    "notify_items_insert",
    "INSERT INTO item (id, kind, addressee, service, object_type, object_id, subject, detail, "
    "close_key, state, since, due, closed_at, closed_by, event_id) "
    "SELECT md5(u.ev || ':' || u.slot || ':' || a.addressee)::uuid, u.kind, a.addressee, "
    "u.service, u.otype, u.oid, CASE WHEN u.subject = '' THEN coalesce(t.value, '') "
    "ELSE u.subject END, u.detail, u.ckey, "
    "CASE WHEN u.ckey IS NULL THEN 'NOTICE' WHEN f.at IS NULL THEN 'OPEN' ELSE 'DONE' END, "
    "u.since_at, CASE WHEN u.due > 0 THEN 'epoch'::timestamptz + u.due * interval '1 microsecond' "
    "END, f.at, f.event_type, u.ev::uuid "
    "FROM (SELECT u.*, 'epoch'::timestamptz + u.since * interval '1 microsecond' AS since_at "
    "FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], "
    "$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[], "
    "$14::bigint[], $15::bigint[]) AS u(ev, slot, addressee, via, via_id, kind, service, otype, "
    "oid, subject, detail, ckey, since, due, pos)) AS u "
    "CROSS JOIN LATERAL ("
    "  SELECT u.addressee WHERE u.via = '' "
    "  UNION ALL SELECT l.value FROM lookup l WHERE u.via <> '' AND l.kind = u.via "
    "    AND l.key = u.via_id AND l.position = (SELECT max(m.position) FROM lookup m "
    "    WHERE m.kind = u.via AND m.key = u.via_id AND m.position <= u.pos)) AS a(addressee) "
    "LEFT JOIN LATERAL (SELECT l.value FROM lookup l WHERE u.subject = '' AND l.kind = 'title' "
    "  AND l.key = u.otype || ':' || u.oid AND l.position <= u.pos "
    "  ORDER BY l.position DESC LIMIT 1) AS t ON true "
    "LEFT JOIN LATERAL (SELECT st.at, st.event_type FROM settlement st "
    "  WHERE u.ckey IS NOT NULL AND st.close_key = u.ckey AND st.at >= u.since_at "
    "  ORDER BY st.at, st.event_id LIMIT 1) AS f ON true "
    "ON CONFLICT (id) DO NOTHING RETURNING id, kind, addressee"};

static const ccip_db_stmt S_SETTLE = {
    "notify_settle_insert",
    "INSERT INTO settlement (close_key, at, event_type, event_id) "
    "SELECT u.k, 'epoch'::timestamptz + u.at * interval '1 microsecond', u.t, u.ev::uuid "
    "FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS u(k, at, t, ev) "
    "ON CONFLICT DO NOTHING"};

/* Each item of those keys (the flush's settlements) is DONE by its first
 * settlement at or after its since (ties broken by event id), whatever
 * order they came in. The items written by the same flush are already in
 * that state (S_ITEMS), so this only changes items of earlier
 * transactions. */
#define S_CLOSE_SQL(where)                                                                         \
    "UPDATE item i SET state = 'DONE', closed_at = s.at, closed_by = s.event_type "                \
    "FROM (SELECT DISTINCT ON (it.id) it.id, st.at, st.event_type FROM item it "                   \
    "JOIN settlement st ON st.close_key = it.close_key AND st.at >= it.since " where               \
    " ORDER BY it.id, st.at, st.event_id) s "                                                      \
    "WHERE i.id = s.id AND (i.closed_at IS DISTINCT FROM s.at "                                    \
    "OR i.closed_by IS DISTINCT FROM s.event_type)"
static const ccip_db_stmt S_CLOSE = {"notify_items_close",
                                     S_CLOSE_SQL("WHERE it.close_key = ANY ($1::text[])")};

/* The same for every item: a rebuild's flushes close nothing (each would
 * join the whole, growing tables of one uncommitted transaction, whose
 * statistics are those of the emptied tables), and this runs once after
 * the last one. */
static const ccip_db_stmt S_CLOSE_ALL = {"notify_items_close_all", S_CLOSE_SQL("")};

/* Who a new item reaches: every account holding an active binding that acts
 * as its addressee (or in its role), with its preferences. */
static const ccip_db_stmt S_RECIPIENTS = {
    "notify_recipients",
    "SELECT DISTINCT ON (i.id, p.account_id) i.id, i.kind, p.account_id, p.login, p.name, "
    "p.email, p.mobile, coalesce(pr.language, 'zh-CN'), coalesce(pr.quiet_start, -1), "
    "coalesce(pr.quiet_end, -1), coalesce(pr.digest, false), coalesce(pr.digest_minute, 480), "
    "coalesce(k.email::text, ka.email::text, ''), coalesce(k.sms::text, ka.sms::text, '') "
    "FROM unnest($1::uuid[], $2::text[], $3::text[]) AS i(id, kind, addressee) "
    "JOIN binding b ON b.status = 'ACTIVE' AND (b.actor_id = i.addressee OR "
    "(i.addressee LIKE 'role:%' AND b.roles @> ARRAY[substr(i.addressee, 6)])) "
    "JOIN person p ON p.account_id = b.account_id "
    "LEFT JOIN preference pr ON pr.account_id = p.account_id "
    "LEFT JOIN preference_kind k ON k.account_id = p.account_id AND k.kind = i.kind "
    "LEFT JOIN preference_kind ka ON ka.account_id = p.account_id AND ka.kind = '*' "
    "ORDER BY i.id, p.account_id"};

static const ccip_db_stmt S_DELIVERIES = {
    "notify_deliveries_insert",
    "WITH d AS (INSERT INTO delivery (id, item_id, account_id, login, channel, address, name, "
    "language, state, due_at) "
    "SELECT u.id::uuid, u.item::uuid, u.account, u.login, u.channel, u.address, u.name, u.lang, "
    "u.state, 'epoch'::timestamptz + u.due * interval '1 microsecond' "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
    "$7::text[], $8::text[], $9::text[], $10::bigint[]) "
    "AS u(id, item, account, login, channel, address, name, lang, state, due) "
    "ON CONFLICT (item_id, account_id, channel) WHERE replaces IS NULL AND item_id IS NOT NULL "
    "DO NOTHING RETURNING 1) "
    "SELECT count(*), pg_notify('notify_delivery', '') FROM d"};

static int s_exec_rows(notify_batch *b, const ccip_db_stmt *st, s_rows14 *r, size_t ncols)
{
    if (r->n == 0)
        return 0;
    const char *p[S_ITEM_COLS];
    if (s_params(r, ncols, p) < 0)
        return CCIP_DB_ERROR;
    return ccip_db_exec(b->db, st, (int)ncols, p, NULL, NULL, NULL);
}

/* 1 when the channel is chosen: the person's choice for the kind ("true",
 * "false"), else the kind's default. */
static int s_chosen(const char *choice, int def)
{
    return choice[0] ? strcmp(choice, "t") == 0 || strcmp(choice, "true") == 0 : def;
}

/* Makes the deliveries of the new items in res (id, kind, addressee). */
static int s_deliveries(notify_batch *b, PGresult *made)
{
    int n = PQntuples(made);
    if (n == 0)
        return 0;
    s_rows14 in = {0};
    for (int i = 0; i < n; i++) {
        const char *v[3] = {PQgetvalue(made, i, 0), PQgetvalue(made, i, 1), PQgetvalue(made, i, 2)};
        s_row(&in, 3, v);
    }
    const char *p[3];
    PGresult *res = NULL;
    int rc = s_params(&in, 3, p) < 0 ? CCIP_DB_ERROR
                                     : ccip_db_exec(b->db, &S_RECIPIENTS, 3, p, NULL, NULL, &res);
    s_rows_release(&in);
    if (rc)
        return rc;
    s_rows14 out = {0};
    int64_t now = ccip_now_us();
    for (int r = 0; r < PQntuples(res); r++) {
        const notify_kind *k = notify_kind_find(PQgetvalue(res, r, 1));
        if (!k)
            continue;
        int quiet_start = (int)ccip_db_cell_i64(res, r, 8),
            quiet_end = (int)ccip_db_cell_i64(res, r, 9);
        int digest = ccip_db_cell_bool(res, r, 10), digest_min = (int)ccip_db_cell_i64(res, r, 11);
        for (int ch = 0; ch < 2; ch++) {
            int sms = ch == 1;
            const char *address = PQgetvalue(res, r, sms ? 6 : 5);
            if (!notify_sender_channel_on(sms) ||
                !s_chosen(PQgetvalue(res, r, sms ? 13 : 12), sms ? k->sms : k->email) ||
                !(sms ? notify_mobile_valid(address) : notify_email_valid(address)))
                continue;
            int64_t due = digest ? notify_next_digest(now, digest_min) : now;
            if (sms)
                due = notify_quiet_until(due, quiet_start, quiet_end);
            char id[CCIP_UUID_STRLEN + 1], due_s[24];
            ccip_uuid_v7(id);
            ccip_i64_text(due, due_s);
            const char *v[S_DELIV_COLS] = {id,
                                           PQgetvalue(res, r, 0),
                                           PQgetvalue(res, r, 2),
                                           PQgetvalue(res, r, 3),
                                           sms ? "SMS" : "EMAIL",
                                           address,
                                           PQgetvalue(res, r, 4),
                                           PQgetvalue(res, r, 7),
                                           digest ? "DIGEST" : "PENDING",
                                           due_s};
            s_row(&out, S_DELIV_COLS, v);
        }
    }
    PQclear(res);
    if (out.n) {
        const char *dp[S_DELIV_COLS];
        PGresult *dres = NULL;
        rc = s_params(&out, S_DELIV_COLS, dp) < 0
                 ? CCIP_DB_ERROR
                 : ccip_db_exec(b->db, &S_DELIVERIES, S_DELIV_COLS, dp, NULL, NULL, &dres);
        if (rc == 0)
            b->deliveries_made += (uint64_t)ccip_db_cell_i64(dres, 0, 0);
        PQclear(dres);
    }
    s_rows_release(&out);
    return rc;
}

int notify_batch_flush(notify_batch *b)
{
    int rc = s_exec_rows(b, &S_PERSON, &b->person, S_PERSON_COLS);
    if (rc == 0)
        rc = s_exec_rows(b, &S_BIND, &b->bind, S_BIND_COLS);
    if (rc == 0)
        rc = s_exec_rows(b, &S_FACTS, &b->facts, S_FACT_COLS);
    /* settlements before items: a new item finds those already there */
    if (rc == 0)
        rc = s_exec_rows(b, &S_SETTLE, &b->settle, S_SETTLE_COLS);
    PGresult *made = NULL;
    if (rc == 0 && b->items.n) {
        const char *p[S_ITEM_COLS];
        rc = s_params(&b->items, S_ITEM_COLS, p) < 0
                 ? CCIP_DB_ERROR
                 : ccip_db_exec(b->db, &S_ITEMS, S_ITEM_COLS, p, NULL, NULL, &made);
        if (rc == 0)
            b->items_made += (uint64_t)PQntuples(made);
    }
    if (rc == 0 && b->settle.n && b->mode == NOTIFY_BATCH_LIVE) {
        const char *keys[1] = {ccip_pgarray_value(&b->settle.col[0])};
        rc = keys[0] ? ccip_db_exec(b->db, &S_CLOSE, 1, keys, NULL, NULL, NULL) : CCIP_DB_ERROR;
    }
    if (rc == 0 && made && b->mode == NOTIFY_BATCH_LIVE)
        rc = s_deliveries(b, made);
    PQclear(made);
    s_release_all(b);
    return rc;
}

int notify_batch_close_all(notify_batch *b)
{
    return ccip_db_exec(b->db, &S_CLOSE_ALL, 0, NULL, NULL, NULL, NULL);
}
