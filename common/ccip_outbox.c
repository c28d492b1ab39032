#include "ccip_outbox.h"

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_chain.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_pgarray.h"

/* Bytes a packed envelope costs inside a ReplayReply besides itself: the
 * field tag (1) and the length varint (at most 10). */
#define REPEATED_OVERHEAD 11
/* Reserved suffix of the relay's heartbeat type, "<service>.stream.heartbeat.v1". */
#define HEARTBEAT_SUFFIX ".stream.heartbeat.v1"

/* The event columns every read returns, in the order s_batch_fill expects. */
#define EVENT_COLS                                                                                 \
    "position, event_id, type, aggregate_type, aggregate_id, payload, occurred_at_us,"             \
    " correlation_id, causation_id, actor_id, actor_role, source_instance, prev_hash, hash"
enum {
    COL_POSITION,
    COL_EVENT_ID,
    COL_TYPE,
    COL_AGGREGATE_TYPE,
    COL_AGGREGATE_ID,
    COL_PAYLOAD,
    COL_OCCURRED_AT_US,
    COL_CORRELATION_ID,
    COL_CAUSATION_ID,
    COL_ACTOR_ID,
    COL_ACTOR_ROLE,
    COL_SOURCE_INSTANCE,
    COL_PREV_HASH,
    COL_HASH,
    EVENT_NCOLS
};

/* One statement for any number of events, in array order (seq follows
 * it); the NOTIFY is sent (at commit) only when rows went in. PostgreSQL
 * folds identical notifications of one transaction into one, so a
 * transaction appending many events wakes the relay once. */
static const ccip_db_stmt S_APPEND = {
    "ccip_outbox_append",
    "WITH ins AS (INSERT INTO outbox (event_id, type, aggregate_type, aggregate_id, payload,"
    " occurred_at_us, correlation_id, causation_id, actor_id, actor_role, source_instance)"
    " SELECT event_id, type, aggregate_type, aggregate_id, payload, at, correlation_id,"
    " causation_id, actor_id, actor_role, source_instance FROM unnest($1::uuid[], $2::text[], "
    "$3::text[], $4::text[], $5::bytea[],"
    " $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])"
    " WITH ORDINALITY AS e(event_id, type, aggregate_type, aggregate_id, payload, at,"
    " correlation_id, causation_id, actor_id, actor_role, source_instance, n) ORDER BY n"
    " RETURNING seq)"
    " SELECT pg_notify($12, '') FROM (SELECT 1 FROM ins LIMIT 1) x"};

/* The relay's look, lock and read in one statement (one round trip where
 * there were three; the look alone, an EXISTS over the unnumbered rows'
 * index, cost as much as the lock and the read together). $1 = how many.
 * Columns: the head and oldest as this statement's snapshot has them; the
 * head, its hash (hex) and oldest of the row locked, NULL when nothing is
 * pending (then nothing is locked, so that an idle relay polling every
 * 100 ms neither takes the row lock nor writes anything); then the oldest
 * unnumbered rows in seq order (EVENT_COLS, positions from the snapshot's
 * head, hashes NULL, then seq), or one row of NULLs.
 *
 * The rows come from the snapshot taken when the statement started, before
 * it waited for the lock: if another relay numbered rows in between, they
 * are among them. That relay moved the head, and the lock returns the row's
 * newest version (READ COMMITTED): so the rows are the ones to number
 * exactly when both heads agree; otherwise s_assign_tx reads them again
 * with S_ASSIGN_PENDING, in a statement of its own whose snapshot follows
 * the lock. Every numbering moves the head; pruning moves only oldest.
 * (The LIMIT 1s tell the planner what it cannot know of a one-row table
 * without statistics: without them it estimated 90 million rows, and a
 * connection with JIT on compiled the statement for 220 ms every time.) */
static const ccip_db_stmt S_ASSIGN_TAKE = {
    "ccip_outbox_assign_take",
    "WITH state AS (SELECT head, oldest FROM outbox_state),"
    " pending AS (SELECT * FROM outbox WHERE position IS NULL ORDER BY seq LIMIT $1),"
    " locked AS (SELECT head, oldest, encode(head_hash, 'hex') AS head_hash FROM outbox_state"
    "  WHERE EXISTS (SELECT 1 FROM pending) FOR UPDATE)"
    " SELECT s.head, s.oldest, l.head, l.head_hash, l.oldest, p.*"
    " FROM (SELECT * FROM state LIMIT 1) s LEFT JOIN (SELECT * FROM locked LIMIT 1) l ON true"
    " LEFT JOIN LATERAL (SELECT s.head + row_number() OVER (ORDER BY seq), event_id, type,"
    "  aggregate_type, aggregate_id, payload, occurred_at_us, correlation_id, causation_id,"
    "  actor_id, actor_role, source_instance, NULL::bytea, NULL::bytea, seq FROM pending) p"
    "  ON true"
    " ORDER BY p.seq"};
enum { TAKE_SNAP_HEAD, TAKE_SNAP_OLDEST, TAKE_HEAD, TAKE_HEAD_HASH, TAKE_OLDEST, TAKE_NCOLS };

/* $1 = head read under the lock, $2 = how many. The oldest unnumbered
 * rows with the positions head+1.. they are about to get, in that order
 * (EVENT_COLS, their hashes still NULL, then seq), read again after the
 * lock when S_ASSIGN_TAKE's snapshot was older than another relay's
 * numbering. Only read, so that each row is written once, with its
 * position and its hashes together (S_ASSIGN_WRITE). */
static const ccip_db_stmt S_ASSIGN_PENDING = {
    "ccip_outbox_assign_pending",
    "SELECT $1::bigint + row_number() OVER (ORDER BY seq), event_id, type, aggregate_type,"
    " aggregate_id, payload, occurred_at_us, correlation_id, causation_id, actor_id, actor_role,"
    " source_instance, NULL::bytea, NULL::bytea, seq"
    " FROM (SELECT * FROM outbox WHERE position IS NULL ORDER BY seq LIMIT $2) pending"
    " ORDER BY seq"};
#define COL_SEQ EVENT_NCOLS /* S_ASSIGN_PENDING's (and TAKE's) column after the event's */

/* The drain's one write, under the same row lock: $1 the seq of every
 * event read (S_ASSIGN_TAKE or S_ASSIGN_PENDING), in the order of their
 * positions; $2 their hashes (the chain, ccip_chain.h, computed in C), 32
 * bytes each, one after the other, binary; $3 the head they follow, $4 its
 * hash (binary). Event n (from 1) gets position $3 + n, the hash at
 * (n - 1) * 32 and, as prev_hash, the one before it ($4 for the first):
 * one bytea instead of arrays of positions and hashes, which PostgreSQL
 * parsed element by element. The head moves only when every row was found
 * still unnumbered. */
static const ccip_db_stmt S_ASSIGN_WRITE = {
    "ccip_outbox_assign_write",
    "WITH h AS (SELECT seq, n::int AS n FROM unnest($1::bigint[]) WITH ORDINALITY AS h(seq, n)),"
    " u AS (UPDATE outbox o SET position = $3::bigint + h.n,"
    "  prev_hash = CASE WHEN h.n = 1 THEN $4::bytea"
    "   ELSE substring($2::bytea FROM (h.n - 2) * 32 + 1 FOR 32) END,"
    "  hash = substring($2::bytea FROM (h.n - 1) * 32 + 1 FOR 32)"
    "  FROM h WHERE o.seq = h.seq AND o.position IS NULL RETURNING 1)"
    " UPDATE outbox_state SET head = $3::bigint + cardinality($1::bigint[]),"
    "  head_hash = substring($2::bytea FROM octet_length($2::bytea) - 31)"
    " WHERE (SELECT count(*) FROM u) = cardinality($1::bigint[])"};

/* One statement, so head, oldest and the events come from one snapshot. The
 * LEFT JOIN yields one row of NULL events when there are none, so head and
 * oldest always come back. */
/* Events below oldest come from the archive (common/sql/0007), the rest
 * from the outbox. Besides head and the outbox's oldest: whether the
 * archive has the first position asked for, and the lowest position either
 * table still has. */
static const ccip_db_stmt S_READ = {
    "ccip_outbox_read",
    "SELECT s.head, s.oldest,"
    " EXISTS (SELECT 1 FROM outbox_archive a WHERE a.position = $1::bigint),"
    " coalesce((SELECT min(position) FROM outbox_archive), s.oldest), o.*"
    " FROM outbox_state s"
    " LEFT JOIN LATERAL (SELECT * FROM ("
    "  (SELECT " EVENT_COLS " FROM outbox_archive WHERE position >= $1::bigint"
    "   AND position < s.oldest ORDER BY position LIMIT $2)"
    "  UNION ALL"
    "  (SELECT " EVENT_COLS " FROM outbox WHERE position >= $1::bigint ORDER BY position LIMIT $2)"
    " ) e ORDER BY position LIMIT $2) o ON true"
    " ORDER BY o.position"};

static const ccip_db_stmt S_CURRENT_SCHEMA = {"ccip_outbox_current_schema",
                                              "SELECT current_schema()"};

static const ccip_db_stmt S_PRUNE_LOCK = {"ccip_outbox_prune_lock",
                                          "SELECT head, oldest FROM outbox_state FOR UPDATE"};

/* The first numbered event still inside the retention, found by walking the
 * position index from oldest: it stops the pruning, even when later events
 * are older. */
static const ccip_db_stmt S_PRUNE_FIRST_KEPT = {
    "ccip_outbox_prune_first_kept", "SELECT position FROM outbox WHERE position >= $1::bigint"
                                    " AND created_at >= now() - $2::bigint * interval '1 second'"
                                    " ORDER BY position LIMIT 1"};

/* $1 = first position kept in the outbox: the ones before it move to the
 * archive, hashes and all, in the same statement. */
static const ccip_db_stmt S_PRUNE_DELETE = {
    "ccip_outbox_prune_delete",
    "WITH gone AS (DELETE FROM outbox WHERE position < $1::bigint RETURNING *),"
    " kept AS (INSERT INTO outbox_archive (position, event_id, type, aggregate_type,"
    "  aggregate_id, payload, occurred_at_us, correlation_id, causation_id, actor_id, actor_role,"
    "  source_instance, prev_hash, hash, created_at)"
    "  SELECT position, event_id, type, aggregate_type, aggregate_id, payload, occurred_at_us,"
    "  correlation_id, causation_id, actor_id, actor_role, source_instance, prev_hash, hash,"
    "  created_at FROM gone ORDER BY position RETURNING 1),"
    " state AS (UPDATE outbox_state SET oldest = $1::bigint)"
    " SELECT count(*) FROM kept"};

struct ccip_outbox_batch {
    size_t count;           /* events */
    uint64_t head;          /* highest position assigned */
    uint64_t oldest;        /* lowest position retained */
    PGresult *res;          /* the rows; the envelopes' strings point into it */
    char *service;          /* source_service of every envelope */
    Ccip__Envelope *events; /* count envelopes */
    Ccip__Envelope **ptrs;  /* events[i] addresses, for Ccip__ReplayReply.events */
    unsigned char **bufs;   /* decoded payloads (PQfreemem), NULL when empty */
    uint8_t (*chain)[2 * CCIP_CHAIN_HASH_LEN]; /* per event: prev_hash, then hash */
};

/* ---- helpers ----------------------------------------------------------- */

static const char *s_str(const char *s)
{
    return s ? s : "";
}

/* Positions and heads are bigint >= 0 in the database. */
static uint64_t s_u64(const char *text)
{
    return text && *text ? strtoull(text, NULL, 10) : 0;
}

static int s_valid_schema(const char *s)
{
    if (!s || !*s || strlen(s) > CCIP_OUTBOX_SCHEMA_MAX)
        return 0;
    if (!(islower((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (const char *p = s; *p; p++) {
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
            return 0;
    }
    return 1;
}

int ccip_outbox_channel(const char *schema, char *out, size_t len)
{
    if (!out || len == 0)
        return -1;
    out[0] = '\0';
    if (!s_valid_schema(schema))
        return -1;
    int n = snprintf(out, len, "%s%s", CCIP_OUTBOX_CHANNEL_PREFIX, schema);
    if (n < 0 || (size_t)n >= len) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

int ccip_outbox_check_schema(ccip_db *db, const char *schema, char *err, size_t errlen)
{
    PGresult *res = NULL;
    if (ccip_db_exec(db, &S_CURRENT_SCHEMA, 0, NULL, NULL, NULL, &res) != CCIP_DB_OK) {
        snprintf(err, errlen, "could not read the connection's current schema: %s",
                 ccip_db_error(db));
        return -1;
    }
    int null = PQntuples(res) != 1 || PQgetisnull(res, 0, 0);
    char current[128];
    snprintf(current, sizeof current, "%s", null ? "" : PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!null && schema && strcmp(current, schema) == 0) {
        ccip_db_set_schema(db, schema);
        return 0;
    }
    snprintf(err, errlen,
             "unqualified table names on this connection resolve to %s%s%s, not to schema %s:"
             " set search_path to %s in the conninfo (options='-csearch_path=%s') or as the"
             " role's default",
             null ? "no schema" : "schema \"", current, null ? "" : "\"", s_str(schema),
             s_str(schema), s_str(schema));
    return -1;
}

int ccip_outbox_emit_caused(ccip_db *db, const Ccip__Envelope *cause, const char *type,
                            const char *aggregate_type, const char *aggregate_id,
                            const ProtobufCMessage *msg)
{
    const char *schema = ccip_db_schema(db);
    size_t len = protobuf_c_message_get_packed_size(msg);
    char err[256];
    if (!schema[0]) {
        snprintf(err, sizeof err,
                 "the connection's schema was never checked (ccip_outbox_check_schema)");
    } else if (len > CCIP_OUTBOX_PAYLOAD_MAX) {
        snprintf(err, sizeof err, "the event would be %zu bytes, more than an event may carry (%d)",
                 len, CCIP_OUTBOX_PAYLOAD_MAX);
    } else {
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf) {
            snprintf(err, sizeof err, "out of memory");
        } else {
            protobuf_c_message_pack(msg, buf);
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
            int rc = ccip_outbox_append(db, schema, &ev, err, sizeof err);
            free(buf);
            if (rc == CCIP_OUTBOX_OK)
                return rc;
            ccip_log_warn("could not write an event", "type", type, "reason", err);
            return rc;
        }
    }
    ccip_log_error("could not write an event", "type", type, "reason", err);
    return CCIP_OUTBOX_ERROR;
}

/* ---- batches ----------------------------------------------------------- */

static ccip_outbox_batch *s_batch_new(const char *service, size_t count)
{
    ccip_outbox_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    size_t n = count ? count : 1;
    b->service = strdup(s_str(service));
    b->events = calloc(n, sizeof *b->events);
    b->ptrs = calloc(n, sizeof *b->ptrs);
    b->bufs = calloc(n, sizeof *b->bufs);
    b->chain = calloc(n, sizeof *b->chain);
    if (!b->service || !b->events || !b->ptrs || !b->bufs || !b->chain)
        ccip_outbox_batch_destroy(&b);
    return b;
}

/* Decodes exactly n bytes of lower-case hex, after bytea's "\x" text
 * prefix when it has one. Returns 0, or -1 when hex is not 2n hex digits
 * (a NULL column reads ""). */
static int s_unhex(const char *hex, uint8_t *out, size_t n)
{
    if (hex[0] == '\\' && hex[1] == 'x')
        hex += 2;
    if (strlen(hex) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = hex[2 * i + (size_t)k];
            int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
            if (d < 0)
                return -1;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* Points envelope i's prev_hash and hash at the batch's copy of them. */
static void s_set_chain(ccip_outbox_batch *b, size_t i)
{
    b->events[i].prev_hash.data = b->chain[i];
    b->events[i].prev_hash.len = CCIP_CHAIN_HASH_LEN;
    b->events[i].hash.data = b->chain[i] + CCIP_CHAIN_HASH_LEN;
    b->events[i].hash.len = CCIP_CHAIN_HASH_LEN;
}

/* Builds envelope i from row `row` of b->res, whose event columns start at
 * column c0. Returns 0, or -1 when out of memory. */
static int s_batch_fill(ccip_outbox_batch *b, size_t i, int row, int c0)
{
    PGresult *r = b->res;
    Ccip__Envelope *e = &b->events[i];
    ccip__envelope__init(e);
    e->id = PQgetvalue(r, row, c0 + COL_EVENT_ID);
    e->type = PQgetvalue(r, row, c0 + COL_TYPE);
    e->source_service = b->service;
    e->source_instance = PQgetvalue(r, row, c0 + COL_SOURCE_INSTANCE);
    e->aggregate_type = PQgetvalue(r, row, c0 + COL_AGGREGATE_TYPE);
    e->aggregate_id = PQgetvalue(r, row, c0 + COL_AGGREGATE_ID);
    e->position = s_u64(PQgetvalue(r, row, c0 + COL_POSITION));
    e->occurred_at_us = strtoll(PQgetvalue(r, row, c0 + COL_OCCURRED_AT_US), NULL, 10);
    e->correlation_id = PQgetvalue(r, row, c0 + COL_CORRELATION_ID);
    e->causation_id = PQgetvalue(r, row, c0 + COL_CAUSATION_ID);
    e->actor_id = PQgetvalue(r, row, c0 + COL_ACTOR_ID);
    e->actor_role = PQgetvalue(r, row, c0 + COL_ACTOR_ROLE);
    /* bytea comes back as text ("\x0a1b..."), since ccip_db asks for text
     * results. An empty payload is "\x" and needs no buffer. */
    const char *hex = PQgetvalue(r, row, c0 + COL_PAYLOAD);
    if (hex[0] != '\0' && strcmp(hex, "\\x") != 0) {
        size_t len = 0;
        b->bufs[i] = PQunescapeBytea((const unsigned char *)hex, &len);
        if (!b->bufs[i])
            return -1;
        e->payload.data = b->bufs[i];
        e->payload.len = len;
    }
    /* The chain's hashes, when the row has them (rows numbered just now
     * get theirs from ccip_outbox_assign). */
    const char *prev = PQgetvalue(r, row, c0 + COL_PREV_HASH);
    const char *hash = PQgetvalue(r, row, c0 + COL_HASH);
    if (s_unhex(prev, b->chain[i], CCIP_CHAIN_HASH_LEN) == 0 &&
        s_unhex(hash, b->chain[i] + CCIP_CHAIN_HASH_LEN, CCIP_CHAIN_HASH_LEN) == 0)
        s_set_chain(b, i);
    b->ptrs[i] = e;
    return 0;
}

size_t ccip_outbox_batch_count(const ccip_outbox_batch *b)
{
    return b ? b->count : 0;
}

const Ccip__Envelope *ccip_outbox_batch_event(const ccip_outbox_batch *b, size_t i)
{
    return b && i < b->count ? &b->events[i] : NULL;
}

uint64_t ccip_outbox_batch_head(const ccip_outbox_batch *b)
{
    return b ? b->head : 0;
}

uint64_t ccip_outbox_batch_oldest(const ccip_outbox_batch *b)
{
    return b ? b->oldest : 0;
}

void ccip_outbox_batch_replay_reply(const ccip_outbox_batch *b, Ccip__ReplayReply *reply)
{
    ccip__replay_reply__init(reply);
    if (!b)
        return;
    reply->n_events = b->count;
    reply->events = b->count ? b->ptrs : NULL;
    reply->head = b->head;
    reply->oldest = b->oldest;
}

void ccip_outbox_batch_destroy(ccip_outbox_batch **b)
{
    if (!b || !*b)
        return;
    ccip_outbox_batch *x = *b;
    if (x->bufs) {
        for (size_t i = 0; i < x->count; i++)
            PQfreemem(x->bufs[i]);
    }
    free(x->bufs);
    free(x->chain);
    free(x->ptrs);
    free(x->events);
    free(x->service);
    PQclear(x->res);
    free(x);
    *b = NULL;
}

/* Takes over `res` (cleared on failure too) and builds envelopes from its
 * rows first_row.. (event columns from c0) up to `count` of them. Returns
 * the batch or NULL when out of memory. */
static ccip_outbox_batch *s_batch_from(PGresult *res, const char *service, int first_row,
                                       size_t count, int c0)
{
    ccip_outbox_batch *b = s_batch_new(service, count);
    if (!b) {
        PQclear(res);
        return NULL;
    }
    b->res = res;
    for (size_t i = 0; i < count; i++) {
        /* count advances with every filled envelope so that destroy frees
         * exactly the payloads made so far. */
        b->count = i;
        if (s_batch_fill(b, i, first_row + (int)i, c0) < 0) {
            ccip_outbox_batch_destroy(&b);
            return NULL;
        }
    }
    b->count = count;
    return b;
}

/* ---- append -------------------------------------------------------------- */

/* Checks one event before it is written; fills its id (given or new). */
static int s_check_event(const ccip_outbox_event *ev, char id[CCIP_UUID_STRLEN + 1], char *err,
                         size_t errlen)
{
    char why[256];
    if (ccip_type_check(ev->type, why, sizeof why) < 0) {
        snprintf(err, errlen, "could not append event: %s", why);
        return CCIP_OUTBOX_ERROR;
    }
    size_t tlen = strlen(ev->type), slen = strlen(HEARTBEAT_SUFFIX);
    if (tlen > slen && strcmp(ev->type + tlen - slen, HEARTBEAT_SUFFIX) == 0 &&
        memchr(ev->type, '.', tlen - slen) == NULL) {
        snprintf(err, errlen,
                 "could not append event: type %s is reserved for the relay's heartbeat", ev->type);
        return CCIP_OUTBOX_ERROR;
    }
    if (ev->payload_len > CCIP_OUTBOX_PAYLOAD_MAX || (ev->payload_len > 0 && !ev->payload)) {
        snprintf(err, errlen,
                 "could not append event %s: payload of %zu bytes is %s (at most %d bytes)",
                 ev->type, ev->payload_len, ev->payload ? "too large" : "missing",
                 CCIP_OUTBOX_PAYLOAD_MAX);
        return CCIP_OUTBOX_ERROR;
    }
    if (ev->event_id && *ev->event_id) {
        if (!ccip_uuid_valid(ev->event_id)) {
            snprintf(err, errlen,
                     "could not append event %s: event id \"%.40s\" is not a lower-case UUID",
                     ev->type, ev->event_id);
            return CCIP_OUTBOX_ERROR;
        }
        snprintf(id, CCIP_UUID_STRLEN + 1, "%s", ev->event_id);
    } else if (ccip_uuid_v7(id) < 0) {
        snprintf(err, errlen, "could not append event %s: could not make an event id", ev->type);
        return CCIP_OUTBOX_ERROR;
    }
    return CCIP_OUTBOX_OK;
}

int ccip_outbox_event_check(const ccip_outbox_event *ev, char *err, size_t errlen)
{
    char id[CCIP_UUID_STRLEN + 1];
    if (!ev) {
        snprintf(err, errlen, "could not append event: no event given");
        return CCIP_OUTBOX_ERROR;
    }
    return s_check_event(ev, id, err, errlen);
}

int ccip_outbox_append(ccip_db *db, const char *schema, const ccip_outbox_event *ev, char *err,
                       size_t errlen)
{
    return ccip_outbox_append_many(db, schema, ev, 1, err, errlen);
}

int ccip_outbox_append_many(ccip_db *db, const char *schema, const ccip_outbox_event *evs, size_t n,
                            char *err, size_t errlen)
{
    if (!db || (n > 0 && !evs)) {
        snprintf(err, errlen, "could not append event: no database or no event given");
        return CCIP_OUTBOX_ERROR;
    }
    char channel[CCIP_OUTBOX_CHANNEL_SIZE];
    if (ccip_outbox_channel(schema, channel, sizeof channel) < 0) {
        snprintf(err, errlen,
                 "could not append event: schema \"%.64s\" is not a name of at most %d"
                 " characters [a-z0-9_] starting with a letter or '_'",
                 s_str(schema), CCIP_OUTBOX_SCHEMA_MAX);
        return CCIP_OUTBOX_ERROR;
    }
    if (n == 0)
        return CCIP_OUTBOX_OK;
    /* One array per column, in the order of S_APPEND's unnest. */
    enum {
        C_ID,
        C_TYPE,
        C_AGG_TYPE,
        C_AGG_ID,
        C_PAYLOAD,
        C_AT,
        C_CORR,
        C_CAUSE,
        C_ACTOR,
        C_ROLE,
        C_SOURCE,
        NCOLS
    };
    ccip_pgarray cols[NCOLS];
    memset(cols, 0, sizeof cols);
    int rc = CCIP_OUTBOX_OK;
    for (size_t i = 0; i < n && rc == CCIP_OUTBOX_OK; i++) {
        const ccip_outbox_event *ev = &evs[i];
        char id[CCIP_UUID_STRLEN + 1];
        if ((rc = s_check_event(ev, id, err, errlen)) != CCIP_OUTBOX_OK)
            break;
        ccip_pgarray_text(&cols[C_ID], id);
        ccip_pgarray_text(&cols[C_TYPE], ev->type);
        ccip_pgarray_text(&cols[C_AGG_TYPE], s_str(ev->aggregate_type));
        ccip_pgarray_text(&cols[C_AGG_ID], s_str(ev->aggregate_id));
        ccip_pgarray_bytea(&cols[C_PAYLOAD], ev->payload, ev->payload_len);
        ccip_pgarray_int(&cols[C_AT], ev->occurred_at_us ? ev->occurred_at_us : ccip_now_us());
        ccip_pgarray_text(&cols[C_CORR], s_str(ev->correlation_id));
        ccip_pgarray_text(&cols[C_CAUSE], s_str(ev->causation_id));
        ccip_pgarray_text(&cols[C_ACTOR], s_str(ev->actor_id));
        ccip_pgarray_text(&cols[C_ROLE], s_str(ev->actor_role));
        ccip_pgarray_text(&cols[C_SOURCE], s_str(ev->source_instance));
    }
    const char *values[NCOLS + 1];
    for (int c = 0; c < NCOLS && rc == CCIP_OUTBOX_OK; c++)
        if (!(values[c] = ccip_pgarray_value(&cols[c]))) {
            snprintf(err, errlen, "could not append %zu events: out of memory", n);
            rc = CCIP_OUTBOX_ERROR;
        }
    values[NCOLS] = channel;
    if (rc == CCIP_OUTBOX_OK) {
        ccip_db_rc dbrc = ccip_db_exec(db, &S_APPEND, NCOLS + 1, values, NULL, NULL, NULL);
        if (dbrc != CCIP_DB_OK) {
            snprintf(err, errlen, "could not append event %s%s to the outbox: %s", evs[0].type,
                     n > 1 ? " and the events after it" : "", ccip_db_error(db));
            rc = dbrc;
        }
    }
    for (int c = 0; c < NCOLS; c++)
        ccip_pgarray_release(&cols[c]);
    return rc;
}

/* ---- assign ---------------------------------------------------------------- */

typedef struct {
    const char *service;    /* source_service of the envelopes */
    int max;                /* rows to number at most */
    ccip_outbox_batch *out; /* result of the attempt */
    int c0;                 /* first event column of out's rows */
    char *err;              /* caller's buffer */
    size_t errlen;          /* its size */
    int err_set;            /* the attempt wrote err */
} s_assign;

static int s_assign_fail(s_assign *a, ccip_db *db, int rc, const char *what)
{
    snprintf(a->err, a->errlen, "could not %s: %s", what, ccip_db_error(db));
    a->err_set = 1;
    return rc;
}

/* Computes the chain (ccip_chain.h) of the events just read, from prev
 * (the head's hash), sets it on the envelopes to publish, and writes every
 * event's position and hashes and the new head in one statement. Returns
 * 0, -1 (err set) or a ccip_db_rc. */
static int s_assign_chain(s_assign *a, ccip_db *db, const uint8_t prev[CCIP_CHAIN_HASH_LEN])
{
    ccip_outbox_batch *b = a->out;
    if (b->count == 0)
        return 0;
    ccip_pgarray seqs = CCIP_PGARRAY_INIT;
    uint8_t *hashes = malloc(b->count * CCIP_CHAIN_HASH_LEN);
    const uint8_t *link = prev;
    int rc = hashes ? 0 : -1;
    for (size_t i = 0; i < b->count && rc == 0; i++) {
        memcpy(b->chain[i], link, CCIP_CHAIN_HASH_LEN);
        s_set_chain(b, i);
        if (ccip_chain_hash(b->chain[i], &b->events[i], b->chain[i] + CCIP_CHAIN_HASH_LEN) < 0) {
            snprintf(a->err, a->errlen, "could not hash outbox events: libsodium cannot start");
            a->err_set = 1;
            rc = -1;
            break;
        }
        link = b->chain[i] + CCIP_CHAIN_HASH_LEN;
        memcpy(hashes + i * CCIP_CHAIN_HASH_LEN, link, CCIP_CHAIN_HASH_LEN);
        ccip_pgarray_int(&seqs, strtoll(PQgetvalue(b->res, (int)i, a->c0 + COL_SEQ), NULL, 10));
    }
    char head_s[24];
    snprintf(head_s, sizeof head_s, "%" PRIu64, b->head - b->count);
    const char *values[] = {ccip_pgarray_value(&seqs), (const char *)hashes, head_s,
                            (const char *)prev};
    const int lengths[] = {0, (int)(b->count * CCIP_CHAIN_HASH_LEN), 0, CCIP_CHAIN_HASH_LEN};
    const int formats[] = {0, 1, 0, 1};
    if ((rc == 0 && !values[0]) || !hashes) {
        snprintf(a->err, a->errlen, "could not hash outbox events: out of memory");
        a->err_set = 1;
        rc = -1;
    }
    PGresult *res = NULL;
    if (rc == 0 && (rc = ccip_db_exec(db, &S_ASSIGN_WRITE, 4, values, lengths, formats, &res)) != 0)
        rc = s_assign_fail(a, db, rc, "number outbox events and store their chain hashes");
    else if (rc == 0 && strcmp(PQcmdTuples(res), "1") != 0) {
        /* a row read under the lock was numbered or deleted meanwhile:
         * nothing may be published, the transaction is undone */
        snprintf(a->err, a->errlen,
                 "could not number outbox events: not every event read just now was found "
                 "again unnumbered");
        a->err_set = 1;
        rc = -1;
    }
    PQclear(res);
    free(hashes);
    ccip_pgarray_release(&seqs);
    return rc;
}

/* Why the lock, and not "rows with seq > the last one published": seq is
 * taken when a row is inserted, but rows become visible when their
 * transaction commits, and transactions commit in any order. A relay that
 * has published up to seq 11 may later see seq 10 commit; `seq > 11` skips
 * it for ever (MESSAGING-NOTES, the bigserial trap). Instead every committed
 * row still without a position is numbered when it is first seen, so
 * positions follow visibility, not insertion.
 *
 * Two relays at once: each takes the outbox_state row lock before it
 * writes. The second waits until the first commits, then (READ COMMITTED)
 * gets the row's new version with the new head. Its rows were read in the
 * snapshot its statement started with, before the wait, where the first
 * one's rows were still unnumbered: the heads differ, so it reads them
 * again in a new statement, whose snapshot has the first one's rows
 * numbered (S_ASSIGN_TAKE says why equal heads are enough). So the numbers
 * continue where the first stopped: no duplicate, no gap; and the write
 * checks that every row it numbers is still unnumbered. */
static int s_assign_tx(ccip_db *db, void *arg)
{
    s_assign *a = arg;
    ccip_outbox_batch_destroy(&a->out);
    a->err_set = 0;

    char max_s[16];
    snprintf(max_s, sizeof max_s, "%d", a->max);
    const char *take_values[] = {max_s};
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_ASSIGN_TAKE, 1, take_values, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return s_assign_fail(a, db, rc, "read and lock outbox_state and the events to number");
    if (PQntuples(res) < 1) {
        PQclear(res);
        snprintf(a->err, a->errlen,
                 "could not read outbox_state: it has no row (migration 0001"
                 " of component ccip inserts it)");
        a->err_set = 1;
        return -1;
    }
    uint64_t head = s_u64(PQgetvalue(res, 0, TAKE_SNAP_HEAD));
    uint64_t oldest = s_u64(PQgetvalue(res, 0, TAKE_SNAP_OLDEST));
    if (PQgetisnull(res, 0, TAKE_HEAD)) {
        /* nothing pending, nothing locked */
        PQclear(res);
        a->out = s_batch_from(NULL, a->service, 0, 0, 0);
        if (!a->out)
            goto oom;
        a->out->head = head;
        a->out->oldest = oldest;
        return 0;
    }
    uint64_t locked_head = s_u64(PQgetvalue(res, 0, TAKE_HEAD));
    oldest = s_u64(PQgetvalue(res, 0, TAKE_OLDEST));
    uint8_t prev[CCIP_CHAIN_HASH_LEN];
    if (s_unhex(PQgetvalue(res, 0, TAKE_HEAD_HASH), prev, sizeof prev) < 0) {
        PQclear(res);
        snprintf(a->err, a->errlen,
                 "could not number outbox events: outbox_state's head_hash is not 32 bytes "
                 "(migration 0005 of component ccip sets it)");
        a->err_set = 1;
        return -1;
    }
    a->c0 = TAKE_NCOLS;
    if (locked_head != head) {
        /* another relay numbered rows after this statement's snapshot was
         * taken: read the pending rows again, in a snapshot after the lock */
        PQclear(res);
        head = locked_head;
        char head_s[24];
        snprintf(head_s, sizeof head_s, "%" PRIu64, head);
        const char *values[] = {head_s, max_s};
        rc = ccip_db_exec(db, &S_ASSIGN_PENDING, 2, values, NULL, NULL, &res);
        if (rc != CCIP_DB_OK)
            return s_assign_fail(a, db, rc, "read the events to number");
        a->c0 = 0;
    }
    /* (TAKE's one row of NULL events comes only with nothing locked) */
    size_t n = (size_t)PQntuples(res);
    if (n == 1 && PQgetisnull(res, 0, a->c0 + COL_SEQ))
        n = 0;
    a->out = s_batch_from(res, a->service, 0, n, a->c0);
    if (!a->out)
        goto oom;
    a->out->head = head + n;
    a->out->oldest = oldest;
    return s_assign_chain(a, db, prev);
oom:
    snprintf(a->err, a->errlen, "could not number outbox events: out of memory");
    a->err_set = 1;
    return -1;
}

int ccip_outbox_assign(ccip_db *db, const char *service, int max, ccip_outbox_batch **out,
                       char *err, size_t errlen)
{
    if (out)
        *out = NULL;
    if (!db || !out || max < 1) {
        snprintf(err, errlen, "could not number outbox events: %s",
                 max < 1 ? "batch size must be at least 1" : "no database or no result given");
        return CCIP_OUTBOX_ERROR;
    }
    s_assign a = {.service = service, .max = max, .err = err, .errlen = errlen};
    int rc = ccip_db_tx(db, CCIP_DB_READ_COMMITTED, 1, s_assign_tx, &a);
    if (rc != 0) {
        ccip_outbox_batch_destroy(&a.out);
        if (!a.err_set)
            snprintf(err, errlen, "could not number outbox events: %s", ccip_db_error(db));
        return rc == CCIP_DB_RETRYABLE ? CCIP_OUTBOX_RETRYABLE : CCIP_OUTBOX_ERROR;
    }
    *out = a.out;
    return CCIP_OUTBOX_OK;
}

/* ---- read ------------------------------------------------------------------ */

int ccip_outbox_read(ccip_db *db, const char *service, uint64_t from_position, uint32_t max_events,
                     size_t max_bytes, ccip_outbox_batch **out, char *err, size_t errlen)
{
    if (out)
        *out = NULL;
    if (!db || !out) {
        snprintf(err, errlen, "could not read the outbox: no database or no result given");
        return CCIP_OUTBOX_ERROR;
    }
    if (from_position == 0)
        from_position = 1;
    if (from_position > (uint64_t)INT64_MAX) {
        snprintf(err, errlen, "could not read the outbox: position %" PRIu64 " is out of range",
                 from_position);
        return CCIP_OUTBOX_ERROR;
    }
    if (max_events == 0)
        max_events = CCIP_OUTBOX_READ_DEFAULT;
    if (max_events > CCIP_OUTBOX_READ_MAX)
        max_events = CCIP_OUTBOX_READ_MAX;

    char from_s[24], max_s[16];
    snprintf(from_s, sizeof from_s, "%" PRIu64, from_position);
    snprintf(max_s, sizeof max_s, "%" PRIu32, max_events);
    const char *values[] = {from_s, max_s};
    PGresult *res = NULL;
    ccip_db_rc rc = ccip_db_exec(db, &S_READ, 2, values, NULL, NULL, &res);
    if (rc != CCIP_DB_OK) {
        snprintf(err, errlen, "could not read the outbox from position %" PRIu64 ": %s",
                 from_position, ccip_db_error(db));
        return rc;
    }
    int rows = PQntuples(res);
    if (rows < 1) {
        PQclear(res);
        snprintf(err, errlen,
                 "could not read the outbox: outbox_state has no row (migration"
                 " 0001 of component ccip inserts it)");
        return CCIP_OUTBOX_ERROR;
    }
    uint64_t head = s_u64(PQgetvalue(res, 0, 0));
    uint64_t in_outbox = s_u64(PQgetvalue(res, 0, 1)); /* the outbox's oldest */
    int archived = PQgetvalue(res, 0, 2)[0] == 't';    /* the archive has from_position */
    uint64_t oldest = s_u64(PQgetvalue(res, 0, 3));    /* the lowest still readable */
    /* The LEFT JOIN's row without an event has a NULL position. */
    size_t count = PQgetisnull(res, 0, 4) ? 0 : (size_t)rows;
    /* Lost: below the outbox, and not in the archive either (someone
     * deleted it: retention only ever moves events). */
    int pruned = from_position < in_outbox && !archived;
    if (pruned)
        count = 0;

    ccip_outbox_batch *b = s_batch_from(res, service, 0, count, 4);
    if (!b) {
        snprintf(err, errlen, "could not read the outbox: out of memory");
        return CCIP_OUTBOX_ERROR;
    }
    b->head = head;
    b->oldest = oldest;
    if (max_bytes > 0) {
        size_t total = 0;
        for (size_t i = 0; i < b->count; i++) {
            total += ccip__envelope__get_packed_size(&b->events[i]) + REPEATED_OVERHEAD;
            if (total > max_bytes && i > 0) {
                /* Destroy frees only the kept events' payloads: free the
                 * dropped ones now. */
                for (size_t j = i; j < b->count; j++) {
                    PQfreemem(b->bufs[j]);
                    b->bufs[j] = NULL;
                }
                b->count = i;
                break;
            }
        }
    }
    *out = b;
    if (pruned) {
        snprintf(err, errlen,
                 "events %" PRIu64 "..%" PRIu64 " are no longer retained: neither the outbox"
                 " (from position %" PRIu64 ") nor its archive has position %" PRIu64
                 " (head %" PRIu64 "), so a reader at position %" PRIu64 " cannot be caught up",
                 from_position, in_outbox - 1, in_outbox, from_position, head, from_position - 1);
        return CCIP_OUTBOX_PRUNED;
    }
    return CCIP_OUTBOX_OK;
}

/* ---- prune ----------------------------------------------------------------- */

typedef struct {
    int64_t retention_seconds; /* age beyond which numbered events go */
    uint64_t deleted;          /* rows the attempt deleted */
    char *err;                 /* caller's buffer */
    size_t errlen;             /* its size */
    int err_set;               /* the attempt wrote err */
} s_prune;

static int s_prune_fail(s_prune *p, ccip_db *db, int rc, const char *what)
{
    snprintf(p->err, p->errlen, "could not prune the outbox: could not %s: %s", what,
             ccip_db_error(db));
    p->err_set = 1;
    return rc;
}

/* Holds the outbox_state lock so that oldest moves together with the
 * deletion and never passes a position a relay is assigning. */
static int s_prune_tx(ccip_db *db, void *arg)
{
    s_prune *p = arg;
    p->deleted = 0;
    p->err_set = 0;

    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_PRUNE_LOCK, 0, NULL, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return s_prune_fail(p, db, rc, "lock outbox_state");
    if (PQntuples(res) != 1) {
        PQclear(res);
        snprintf(p->err, p->errlen, "could not prune the outbox: outbox_state has no row");
        p->err_set = 1;
        return -1;
    }
    uint64_t head = s_u64(PQgetvalue(res, 0, 0));
    uint64_t oldest = s_u64(PQgetvalue(res, 0, 1));
    PQclear(res);

    char oldest_s[24], keep_s[24];
    snprintf(oldest_s, sizeof oldest_s, "%" PRIu64, oldest);
    snprintf(keep_s, sizeof keep_s, "%" PRId64, p->retention_seconds);
    const char *first_values[] = {oldest_s, keep_s};
    rc = ccip_db_exec(db, &S_PRUNE_FIRST_KEPT, 2, first_values, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return s_prune_fail(p, db, rc, "find the oldest event to keep");
    uint64_t first_kept = PQntuples(res) > 0 ? s_u64(PQgetvalue(res, 0, 0)) : head + 1;
    PQclear(res);
    if (first_kept <= oldest)
        return 0;

    char first_s[24];
    snprintf(first_s, sizeof first_s, "%" PRIu64, first_kept);
    const char *delete_values[] = {first_s};
    rc = ccip_db_exec(db, &S_PRUNE_DELETE, 1, delete_values, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return s_prune_fail(p, db, rc, "delete old events");
    p->deleted = s_u64(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int ccip_outbox_prune(ccip_db *db, int64_t retention_seconds, uint64_t *deleted, char *err,
                      size_t errlen)
{
    if (deleted)
        *deleted = 0;
    if (!db || retention_seconds <= 0) {
        snprintf(err, errlen, "could not prune the outbox: %s",
                 db ? "retention must be at least one second" : "no database given");
        return CCIP_OUTBOX_ERROR;
    }
    s_prune p = {.retention_seconds = retention_seconds, .err = err, .errlen = errlen};
    int rc = ccip_db_tx(db, CCIP_DB_READ_COMMITTED, 1, s_prune_tx, &p);
    if (rc != 0) {
        if (!p.err_set)
            snprintf(err, errlen, "could not prune the outbox: %s", ccip_db_error(db));
        return rc == CCIP_DB_RETRYABLE ? CCIP_OUTBOX_RETRYABLE : CCIP_OUTBOX_ERROR;
    }
    if (deleted)
        *deleted = p.deleted;
    return CCIP_OUTBOX_OK;
}

/* ---- archive import ---------------------------------------------------------- */

static const ccip_db_stmt S_IMPORT_LOCK = {"ccip_outbox_import_lock",
                                           "SELECT oldest FROM outbox_state FOR UPDATE"};

/* What is stored at positions $1..$2 in either table: position, prev_hash
 * and hash (hex). */
static const ccip_db_stmt S_IMPORT_STORED = {
    "ccip_outbox_import_stored",
    "SELECT position, encode(prev_hash, 'hex'), encode(hash, 'hex') FROM outbox_archive"
    " WHERE position BETWEEN $1::bigint AND $2::bigint"
    " UNION ALL SELECT position, encode(prev_hash, 'hex'), encode(hash, 'hex') FROM outbox"
    " WHERE position BETWEEN $1::bigint AND $2::bigint ORDER BY 1"};

static const ccip_db_stmt S_IMPORT_INSERT = {
    "ccip_outbox_import_insert",
    "WITH ins AS (INSERT INTO outbox_archive (position, event_id, type, aggregate_type,"
    " aggregate_id, payload, occurred_at_us, correlation_id, causation_id, actor_id, actor_role,"
    " source_instance, prev_hash, hash, created_at)"
    " SELECT position, event_id, type, aggregate_type, aggregate_id, payload, at, correlation_id,"
    " causation_id, actor_id, actor_role, source_instance, prev, hash,"
    " to_timestamp(at / 1000000.0)"
    " FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bytea[],"
    " $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bytea[],"
    " $14::bytea[]) AS e(position, event_id, type, aggregate_type, aggregate_id, payload, at,"
    " correlation_id, causation_id, actor_id, actor_role, source_instance, prev, hash)"
    " RETURNING 1) SELECT count(*) FROM ins"};

#define IMPORT_COLS 14

/* The stored row at position pos of res (S_IMPORT_STORED), or -1. */
static int s_stored_row(const PGresult *res, uint64_t pos)
{
    for (int i = 0; i < PQntuples(res); i++)
        if (s_u64(PQgetvalue(res, i, 0)) == pos)
            return i;
    return -1;
}

int ccip_outbox_archive_import(ccip_db *db, const Ccip__Envelope *const *evs, size_t n,
                               uint64_t *imported, uint64_t *already, char *err, size_t errlen)
{
    *imported = *already = 0;
    if (n == 0) {
        snprintf(err, errlen, "no events to import");
        return CCIP_OUTBOX_REFUSED;
    }
    uint64_t first = evs[0]->position;
    if (first == 0 || first > (uint64_t)INT64_MAX - n) {
        snprintf(err, errlen, "the first event's position %" PRIu64 " is out of range", first);
        return CCIP_OUTBOX_REFUSED;
    }
    for (size_t i = 0; i < n; i++)
        if (evs[i]->position != first + i) {
            snprintf(err, errlen,
                     "positions must follow each other: event %zu has position %" PRIu64
                     ", %" PRIu64 " expected",
                     i, evs[i]->position, first + i);
            return CCIP_OUTBOX_REFUSED;
        }
    uint64_t last = first + n - 1;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_IMPORT_LOCK, 0, NULL, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    uint64_t oldest = PQntuples(res) == 1 ? s_u64(PQgetvalue(res, 0, 0)) : 0;
    PQclear(res);
    char lo[24], hi[24];
    snprintf(lo, sizeof lo, "%" PRIu64, first - 1);
    snprintf(hi, sizeof hi, "%" PRIu64, last + 1);
    const char *range[] = {lo, hi};
    if ((rc = ccip_db_exec(db, &S_IMPORT_STORED, 2, range, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    uint8_t link[CCIP_CHAIN_HASH_LEN];
    memcpy(link, ccip_chain_genesis, sizeof link);
    if (first > 1) {
        int row = s_stored_row(res, first - 1);
        if (row < 0 || s_unhex(PQgetvalue(res, row, 2), link, sizeof link) < 0) {
            PQclear(res);
            snprintf(err, errlen,
                     "position %" PRIu64 ", before the first event imported, is stored nowhere: "
                     "import the export from an earlier position (from 1 at the latest)",
                     first - 1);
            return CCIP_OUTBOX_REFUSED;
        }
    }
    ccip_pgarray cols[IMPORT_COLS];
    memset(cols, 0, sizeof cols);
    char why[400], hex[CCIP_CHAIN_HASH_HEX + 1];
    rc = CCIP_OUTBOX_OK;
    for (size_t i = 0; i < n && rc == CCIP_OUTBOX_OK; i++) {
        const Ccip__Envelope *e = evs[i];
        if (ccip_chain_check(e, link, why, sizeof why) < 0) {
            snprintf(err, errlen, "position %" PRIu64 ": %s", e->position, why);
            rc = CCIP_OUTBOX_REFUSED;
            break;
        }
        memcpy(link, e->hash.data, sizeof link);
        int row = s_stored_row(res, e->position);
        if (row >= 0) {
            if (strcmp(PQgetvalue(res, row, 2), ccip_chain_hex(link, sizeof link, hex)) != 0) {
                snprintf(err, errlen,
                         "position %" PRIu64 " is stored with hash %s, the import has %s: it is "
                         "not this producer's stream as stored",
                         e->position, PQgetvalue(res, row, 2), hex);
                rc = CCIP_OUTBOX_REFUSED;
            }
            (*already)++;
            continue;
        }
        if (e->position >= oldest) {
            snprintf(err, errlen,
                     "position %" PRIu64 " belongs in the outbox (from position %" PRIu64
                     " on), which does not have it: only archived positions can be put back",
                     e->position, oldest);
            rc = CCIP_OUTBOX_REFUSED;
            break;
        }
        ccip_pgarray_int(&cols[0], (int64_t)e->position);
        ccip_pgarray_text(&cols[1], s_str(e->id));
        ccip_pgarray_text(&cols[2], s_str(e->type));
        ccip_pgarray_text(&cols[3], s_str(e->aggregate_type));
        ccip_pgarray_text(&cols[4], s_str(e->aggregate_id));
        ccip_pgarray_bytea(&cols[5], e->payload.data, e->payload.len);
        ccip_pgarray_int(&cols[6], e->occurred_at_us);
        ccip_pgarray_text(&cols[7], s_str(e->correlation_id));
        ccip_pgarray_text(&cols[8], s_str(e->causation_id));
        ccip_pgarray_text(&cols[9], s_str(e->actor_id));
        ccip_pgarray_text(&cols[10], s_str(e->actor_role));
        ccip_pgarray_text(&cols[11], s_str(e->source_instance));
        ccip_pgarray_bytea(&cols[12], e->prev_hash.data, e->prev_hash.len);
        ccip_pgarray_bytea(&cols[13], e->hash.data, e->hash.len);
        (*imported)++;
    }
    /* the event stored after the last one must link to it */
    int next = rc == CCIP_OUTBOX_OK ? s_stored_row(res, last + 1) : -1;
    if (next >= 0 &&
        strcmp(PQgetvalue(res, next, 1), ccip_chain_hex(link, sizeof link, hex)) != 0) {
        snprintf(err, errlen,
                 "position %" PRIu64 ", stored after the last event imported, links to %s, not "
                 "to the import's %s",
                 last + 1, PQgetvalue(res, next, 1), hex);
        rc = CCIP_OUTBOX_REFUSED;
    }
    PQclear(res);
    if (rc == CCIP_OUTBOX_OK && *imported > 0) {
        const char *values[IMPORT_COLS];
        for (int c = 0; c < IMPORT_COLS; c++)
            if (!(values[c] = ccip_pgarray_value(&cols[c]))) {
                snprintf(err, errlen, "could not import events: out of memory");
                rc = CCIP_OUTBOX_ERROR;
            }
        if (rc == CCIP_OUTBOX_OK && (rc = ccip_db_exec(db, &S_IMPORT_INSERT, IMPORT_COLS, values,
                                                       NULL, NULL, &res)) == CCIP_DB_OK) {
            if (s_u64(PQgetvalue(res, 0, 0)) != *imported) {
                snprintf(err, errlen, "could not import events: fewer rows went in than given");
                rc = CCIP_OUTBOX_ERROR;
            }
            PQclear(res);
        } else if (rc != CCIP_OUTBOX_ERROR) {
            snprintf(err, errlen, "could not import events: %s", ccip_db_error(db));
        }
    }
    for (int c = 0; c < IMPORT_COLS; c++)
        ccip_pgarray_release(&cols[c]);
    if (rc != CCIP_OUTBOX_OK)
        *imported = 0;
    return rc;
}

/* ---- verify -------------------------------------------------------------- */

/* Positions per COPY: small enough that a request stops soon after its
 * budget, large enough that the statement's start-up does not count. */
#define VERIFY_CHUNK 50000

static const ccip_db_stmt S_VERIFY_HEAD = {"ccip_outbox_verify_head",
                                           "SELECT head FROM outbox_state"};

/* The event columns as binary COPY sends them (EVENT_COLS, the uuid as
 * text: the chain hashes the id as people write it). */
#define VERIFY_COLS                                                                                \
    "position, event_id::text, type, aggregate_type, aggregate_id, payload, occurred_at_us,"       \
    " correlation_id, causation_id, actor_id, actor_role, source_instance, prev_hash, hash"
#define VERIFY_NCOLS 14

/* One binary COPY field: -1 length is NULL. */
typedef struct {
    const uint8_t *p;
    int32_t len;
} s_field;

static uint32_t s_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t s_be64(const uint8_t *p)
{
    return (uint64_t)s_be32(p) << 32 | s_be32(p + 4);
}

/* The verify walk's state across COPY rows. */
typedef struct {
    ccip_outbox_verify_result *r;
    const uint64_t *hashes_at;
    size_t n_hashes_at, next_at;
    char strings[8 * 1024]; /* one row's strings, NUL-terminated, for the envelope */
} s_walk;

/* Copies field f as a NUL-terminated string into w->strings at *off.
 * Returns it, or NULL when the row's strings do not fit (then the event is
 * checked by ccip_outbox_read's path: see s_verify_row). */
static char *s_walk_str(s_walk *w, size_t *off, s_field f)
{
    size_t n = f.len < 0 ? 0 : (size_t)f.len;
    if (*off + n + 1 > sizeof w->strings)
        return NULL;
    char *out = w->strings + *off;
    if (n)
        memcpy(out, f.p, n);
    out[n] = '\0';
    *off += n + 1;
    return out;
}

/* Checks one row (position order). Returns 0 to go on, 1 at a break (in
 * w->r), -1 when the row cannot be read (err). */
static int s_verify_row(s_walk *w, const s_field *f, char *err, size_t errlen)
{
    ccip_outbox_verify_result *r = w->r;
    uint64_t want = r->verified + 1;
    if (f[0].len != 8 || f[6].len != 8) {
        snprintf(err, errlen, "position %" PRIu64 ": a row without position or time", want);
        return -1;
    }
    uint64_t position = s_be64(f[0].p);
    if (position != want) {
        r->broken_at = want;
        snprintf(r->reason, sizeof r->reason,
                 "position %" PRIu64 " is missing (the stream goes on at %" PRIu64
                 "): an event was deleted or moved",
                 want, position);
        return 1;
    }
    Ccip__Envelope ev = CCIP__ENVELOPE__INIT;
    size_t off = 0;
    ev.position = position;
    ev.occurred_at_us = (int64_t)s_be64(f[6].p);
    /* by column (VERIFY_COLS): the text ones */
    char **strs[] = {NULL,
                     &ev.id,
                     &ev.type,
                     &ev.aggregate_type,
                     &ev.aggregate_id,
                     NULL, /* payload */
                     NULL, /* occurred_at_us */
                     &ev.correlation_id,
                     &ev.causation_id,
                     &ev.actor_id,
                     &ev.actor_role,
                     &ev.source_instance};
    for (int c = 1; c < 12; c++)
        if (strs[c] && !(*strs[c] = s_walk_str(w, &off, f[c]))) {
            snprintf(err, errlen, "position %" PRIu64 ": its text fields exceed %zu bytes", want,
                     sizeof w->strings);
            return -1;
        }
    ev.payload.data = (uint8_t *)(f[5].len > 0 ? f[5].p : NULL);
    ev.payload.len = f[5].len > 0 ? (size_t)f[5].len : 0;
    ev.prev_hash.data = (uint8_t *)(f[12].len > 0 ? f[12].p : NULL);
    ev.prev_hash.len = f[12].len > 0 ? (size_t)f[12].len : 0;
    ev.hash.data = (uint8_t *)(f[13].len > 0 ? f[13].p : NULL);
    ev.hash.len = f[13].len > 0 ? (size_t)f[13].len : 0;
    if (ccip_chain_check(&ev, r->hash, r->reason, sizeof r->reason) < 0) {
        r->broken_at = want;
        return 1;
    }
    memcpy(r->hash, ev.hash.data, CCIP_CHAIN_HASH_LEN);
    r->verified = want;
    for (; w->next_at < w->n_hashes_at && w->hashes_at[w->next_at] <= want; w->next_at++)
        if (w->hashes_at[w->next_at] == want && r->n_hashes < CCIP_CHAIN_VERIFY_HASHES_MAX) {
            r->hashes[r->n_hashes].position = want;
            memcpy(r->hashes[r->n_hashes].hash, ev.hash.data, CCIP_CHAIN_HASH_LEN);
            r->n_hashes++;
        }
    return 0;
}

/* Walks positions from..to in one binary COPY: the server reads and sends
 * the next rows while this thread hashes (the reason for COPY: with
 * ccip_outbox_read's batches the two took turns). Returns 0 (r says how
 * far it got and whether it broke), or CCIP_OUTBOX_ERROR /
 * CCIP_OUTBOX_RETRYABLE with err. */
static int s_verify_copy(ccip_db *db, uint64_t from, uint64_t to, s_walk *w, char *err,
                         size_t errlen)
{
    PGconn *conn = ccip_db_conn(db);
    /* COPY takes no parameters: the two bounds are numbers formatted here,
     * nothing from outside goes into the text. The archive holds what is
     * below the outbox's oldest, as in S_READ. */
    char sql[900];
    snprintf(sql, sizeof sql,
             "COPY (SELECT * FROM ("
             " (SELECT " VERIFY_COLS " FROM outbox_archive WHERE position BETWEEN %" PRIu64
             " AND %" PRIu64 " AND position < (SELECT oldest FROM outbox_state) ORDER BY position)"
             " UNION ALL"
             " (SELECT " VERIFY_COLS " FROM outbox WHERE position BETWEEN %" PRIu64 " AND %" PRIu64
             " ORDER BY position)) e ORDER BY position) TO STDOUT (FORMAT binary)",
             from, to, from, to);
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COPY_OUT) {
        snprintf(err, errlen, "could not read positions %" PRIu64 "..%" PRIu64 ": %s", from, to,
                 PQresultErrorMessage(res));
        int lost = PQstatus(conn) != CONNECTION_OK;
        PQclear(res);
        return lost ? CCIP_OUTBOX_RETRYABLE : CCIP_OUTBOX_ERROR;
    }
    PQclear(res);
    static const uint8_t signature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0};
    int header = 1, stop = 0, rc = 0;
    char *buf = NULL;
    int n;
    /* Every message is read to the end, also after a break: the COPY must
     * finish before the connection can run anything else. */
    while ((n = PQgetCopyData(conn, &buf, 0)) > 0) {
        const uint8_t *p = (const uint8_t *)buf, *end = p + n;
        if (header) {
            if (n < 19 || memcmp(p, signature, sizeof signature) != 0 ||
                (size_t)(end - p) < 19 + (size_t)s_be32(p + 15)) {
                if (!rc)
                    snprintf(err, errlen, "COPY did not start with the binary header");
                rc = rc ? rc : -1;
            }
            p += 19 + (rc ? 0 : s_be32(p + 15));
            header = 0;
        }
        while (!rc && !stop && p + 2 <= end) {
            int16_t nf = (int16_t)(p[0] << 8 | p[1]);
            p += 2;
            if (nf == -1)
                break; /* the trailer */
            s_field f[VERIFY_NCOLS];
            if (nf != VERIFY_NCOLS) {
                snprintf(err, errlen, "COPY sent a row of %d fields, not %d", nf, VERIFY_NCOLS);
                rc = -1;
                break;
            }
            for (int c = 0; c < nf && !rc; c++) {
                if (p + 4 > end) {
                    rc = -1;
                    break;
                }
                int32_t len = (int32_t)s_be32(p);
                p += 4;
                if (len > 0 && (size_t)(end - p) < (size_t)len) {
                    rc = -1;
                    break;
                }
                f[c].p = p;
                f[c].len = len;
                p += len > 0 ? len : 0;
            }
            if (rc) {
                snprintf(err, errlen, "COPY sent a row split across messages");
                break;
            }
            int v = s_verify_row(w, f, err, errlen);
            if (v < 0)
                rc = -1;
            else if (v > 0)
                stop = 1;
        }
        PQfreemem(buf);
        buf = NULL;
    }
    if (n == -2 && !rc) {
        snprintf(err, errlen, "reading positions %" PRIu64 "..%" PRIu64 ": %s", from, to,
                 PQerrorMessage(conn));
        rc = PQstatus(conn) != CONNECTION_OK ? CCIP_OUTBOX_RETRYABLE : CCIP_OUTBOX_ERROR;
    }
    while ((res = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !rc) {
            snprintf(err, errlen, "reading positions %" PRIu64 "..%" PRIu64 ": %s", from, to,
                     PQresultErrorMessage(res));
            rc = CCIP_OUTBOX_ERROR;
        }
        PQclear(res);
    }
    return rc == -1 ? CCIP_OUTBOX_ERROR : rc;
}

int ccip_outbox_verify(ccip_db *db, uint64_t from_position, uint64_t to_position,
                       const uint8_t expected_prev[CCIP_CHAIN_HASH_LEN], uint64_t max_events,
                       int64_t budget_us, const uint64_t *hashes_at, size_t n_hashes_at,
                       ccip_outbox_verify_result *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (from_position == 0 || from_position > (uint64_t)INT64_MAX) {
        snprintf(err, errlen, "position %" PRIu64 " is out of range: positions start at 1",
                 from_position);
        return CCIP_OUTBOX_ERROR;
    }
    r->verified = from_position - 1;
    memcpy(r->hash, expected_prev, CCIP_CHAIN_HASH_LEN);
    PGresult *res = NULL;
    ccip_db_rc drc = ccip_db_exec(db, &S_VERIFY_HEAD, 0, NULL, NULL, NULL, &res);
    if (drc != CCIP_DB_OK) {
        snprintf(err, errlen, "could not read the head: %s", ccip_db_error(db));
        return drc == CCIP_DB_RETRYABLE ? CCIP_OUTBOX_RETRYABLE : CCIP_OUTBOX_ERROR;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        snprintf(err, errlen,
                 "outbox_state has no row (migration 0001 of component ccip "
                 "inserts it)");
        return CCIP_OUTBOX_ERROR;
    }
    r->head = s_u64(PQgetvalue(res, 0, 0));
    PQclear(res);
    uint64_t last = to_position && to_position < r->head ? to_position : r->head;
    if (max_events && last >= from_position && last - from_position >= max_events)
        last = from_position + max_events - 1;
    s_walk *w = malloc(sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return CCIP_OUTBOX_ERROR;
    }
    w->r = r;
    w->hashes_at = hashes_at;
    w->n_hashes_at = n_hashes_at;
    w->next_at = 0; /* hashes_at is ascending (the caller checked) */
    while (w->next_at < n_hashes_at && hashes_at[w->next_at] < from_position)
        w->next_at++;
    int64_t until = ccip_now_us() + budget_us;
    int rc = CCIP_OUTBOX_OK;
    while (!r->broken_at && r->verified < last) {
        uint64_t from = r->verified + 1;
        uint64_t to = last - from >= VERIFY_CHUNK ? from + VERIFY_CHUNK - 1 : last;
        if ((rc = s_verify_copy(db, from, to, w, err, errlen)) != CCIP_OUTBOX_OK)
            break;
        if (!r->broken_at && r->verified < to) {
            /* the head names positions that no table holds */
            r->broken_at = r->verified + 1;
            snprintf(r->reason, sizeof r->reason,
                     "position %" PRIu64 " is missing (the head is %" PRIu64
                     "): an event was deleted or moved",
                     r->verified + 1, r->head);
        }
        /* The caller asks again from verified + 1: one command never holds
         * a worker much longer than its budget, however long the stream. */
        if (ccip_now_us() >= until)
            break;
    }
    free(w);
    return rc;
}
