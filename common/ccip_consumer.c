#include "ccip_consumer.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "ccip_chain.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_outbox.h"
#include "ccip_replay.h"

#define TICK_MS            100   /* longest wait between looks at the stop flag */
#define RECONNECT_SLICE_MS 100   /* one ccip_db_ensure call waits at most this long */
#define RETRY_FIRST_MS     50    /* first pause before an event is tried again */
#define RETRY_CAP_MS       30000 /* pauses double up to this */
#define REPLAY_RETRY_MS    1000  /* pause after a replay request failed */
#define REPEAT_LOG_MS      60000 /* the same failure is logged again after this long */
#define ERR_MAX            512
#define STALL_LOOK_MS      1000 /* a stopped consumer re-reads its cursor row this often */
#define STALL_RETENTION    (-1) /* stall_head: the producer no longer retains the events */
#define STALL_FROM_ROW     (-2) /* stall_head: another replica (or run) stopped it */

static const ccip_db_stmt S_CURSOR_ENSURE = {
    "ccip_consumer_cursor_ensure",
    "INSERT INTO consumer_cursor (producer) VALUES ($1) ON CONFLICT (producer) DO NOTHING"};
static const ccip_db_stmt S_CURSOR_GET = {"ccip_consumer_cursor_get",
                                          "SELECT position, stalled_at IS NOT NULL, stalled_reason"
                                          " FROM consumer_cursor WHERE producer = $1"};
/* The exactly-once step, first half: the cursor, whether the consumer of
 * this producer is stopped (any replica may have stopped it), and the hash
 * of the event the cursor stands on, locked, so that another replica
 * applying the same event waits and then finds it applied. */
static const ccip_db_stmt S_CURSOR_LOCK = {
    "ccip_consumer_cursor_lock",
    "SELECT position, stalled_at IS NOT NULL, stalled_reason, encode(hash, 'hex')"
    " FROM consumer_cursor WHERE producer = $1 FOR UPDATE"};
/* Second half: moves the cursor from p - 1 to p with p's hash. */
static const ccip_db_stmt S_CURSOR_ADVANCE = {
    "ccip_consumer_cursor_advance",
    "UPDATE consumer_cursor SET position = $2::bigint, hash = decode($3, 'hex'), updated_at = now()"
    " WHERE producer = $1 AND position = $2::bigint - 1 AND stalled_at IS NULL"};
/* Stops consuming: only while the stored cursor is still above the head
 * the producer showed ($2; -1 for "whatever it is", the retention case), so
 * that a cursor an operator reset meanwhile is not stopped again. Keeps the
 * time the first replica stopped it. */
static const ccip_db_stmt S_CURSOR_STALL = {
    "ccip_consumer_cursor_stall",
    "UPDATE consumer_cursor SET stalled_at = coalesce(stalled_at, now()), stalled_reason = $3"
    " WHERE producer = $1 AND position > $2::bigint RETURNING position"};
/* An operator's reset (ccip_consumer_reset_cursor): the old values come from
 * the row locked first. */
static const ccip_db_stmt S_CURSOR_RESET = {
    "ccip_consumer_cursor_reset",
    "UPDATE consumer_cursor c SET position = $2::bigint, stalled_at = NULL, stalled_reason = '',"
    " updated_at = now() FROM (SELECT position, stalled_at, stalled_reason FROM consumer_cursor"
    " WHERE producer = $1 FOR UPDATE) o WHERE c.producer = $1"
    " RETURNING o.position, o.stalled_at IS NOT NULL, o.stalled_reason"};

struct ccip_consumer {
    /* configuration, copied */
    char *service;                          /* own service */
    char *schema;                           /* own schema */
    char *producer;                         /* whose events */
    char heartbeat_type[CCIP_TYPE_MAX + 1]; /* "<producer>.stream.heartbeat.v1" */
    ccip_consumer_handler *handlers;        /* copies, type strings owned */
    size_t nhandlers;                       /* entries */
    void *arg;                              /* for handlers and on_commit */
    ccip_consumer_commit_fn on_commit;      /* may be NULL */
    uint32_t replay_batch;                  /* events per replay request */
    int replay_timeout_ms;                  /* per request */
    size_t max_message;                     /* largest envelope or payload decoded */

    /* owned by the thread once it runs */
    ccip_db *db;         /* own connection */
    void *sub;           /* SUB socket on the bus XPUB */
    ccip_replay *replay; /* replay requests through the broker */
    uint64_t cursor;     /* last position applied (as far as this thread knows) */
    uint64_t known_head; /* highest head seen */
    int caught_up_once;  /* the start-up replay completed */
    int verify_head;     /* a heartbeat showed a head below the cursor: ask the producer */
    int stalled;         /* stopped: the producer's stream went below the cursor, or no
                            longer has what we need; only a reset of the cursor resumes */
    char stalled_reason[CCIP_CONSUMER_REASON_MAX]; /* why, as logged and stored */
    uint64_t producer_head;                        /* the head the producer showed last */
    int64_t next_stall_look_ms;                    /* when a stopped consumer looks again */
    int64_t stall_head;     /* the head it stopped at; STALL_RETENTION, or STALL_FROM_ROW when
                               the stop was read from the cursor row (the reason says why) */
    int stall_stored;       /* the stop is recorded in the cursor row */
    int broken;             /* the event at cursor + 1 breaks the producer's chain */
    int64_t next_replay_ms; /* earliest time for the next replay attempt */
    int64_t last_log_ms;    /* when a repeated failure was last logged */
    char last_log[ERR_MAX]; /* what it was */

    /* shared */
    pthread_t thread;          /* the consumer thread */
    int thread_started;        /* thread must be joined */
    atomic_int stop;           /* set by ccip_consumer_stop */
    pthread_mutex_t mutex;     /* guards stats */
    ccip_consumer_stats stats; /* counters for ccip_consumer_stats_get */
};

/* ---- small helpers ------------------------------------------------------ */

static int s_stopping(ccip_consumer *c)
{
    return atomic_load(&c->stop);
}

/* Sleeps ms in slices, returning early (-1) when a stop is asked for. */
static int s_pause(ccip_consumer *c, int64_t ms)
{
    int64_t end = ccip_mono_ms() + ms;
    for (;;) {
        if (s_stopping(c))
            return -1;
        int64_t left = end - ccip_mono_ms();
        if (left <= 0)
            return 0;
        ccip_sleep_ms(left < TICK_MS ? left : TICK_MS);
    }
}

static void s_u64(char *buf, size_t len, uint64_t v)
{
    snprintf(buf, len, "%" PRIu64, v);
}

/* Logs at `level`, but the same reason at most once a minute. */
static void s_log_limited(ccip_consumer *c, ccip_log_level level, const char *msg,
                          const char *reason)
{
    int64_t now = ccip_mono_ms();
    if (strcmp(reason, c->last_log) == 0 && now - c->last_log_ms < REPEAT_LOG_MS)
        return;
    snprintf(c->last_log, sizeof c->last_log, "%s", reason);
    c->last_log_ms = now;
    ccip_log(level, msg, "producer", c->producer, "reason", reason, (const char *)NULL);
}

/* Publishes the thread's view to the stats (call after every change). */
static void s_stats_sync(ccip_consumer *c)
{
    pthread_mutex_lock(&c->mutex);
    c->stats.cursor = c->cursor;
    c->stats.known_head = c->known_head;
    c->stats.producer_head = c->producer_head;
    c->stats.stalled = c->stalled;
    c->stats.broken = c->broken;
    snprintf(c->stats.stalled_reason, sizeof c->stats.stalled_reason, "%s", c->stalled_reason);
    pthread_mutex_unlock(&c->mutex);
}

static void s_count(ccip_consumer *c, uint64_t *counter, uint64_t n)
{
    pthread_mutex_lock(&c->mutex);
    *counter += n;
    pthread_mutex_unlock(&c->mutex);
}

static const ccip_consumer_handler *s_find(const ccip_consumer *c, const char *type)
{
    for (size_t i = 0; i < c->nhandlers; i++) {
        if (strcmp(c->handlers[i].type, type) == 0)
            return &c->handlers[i];
    }
    return NULL;
}

/* ---- applying one event -------------------------------------------------- */

/* 64 lower-case hex digits into 32 bytes. Returns 0, or -1 (NULL reads ""). */
static int s_unhex32(const char *hex, uint8_t out[CCIP_CHAIN_HASH_LEN])
{
    if (strlen(hex) != CCIP_CHAIN_HASH_HEX)
        return -1;
    for (size_t i = 0; i < CCIP_CHAIN_HASH_LEN; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

typedef enum { APPLY_FAILED, APPLY_DONE, APPLY_DUPLICATE, APPLY_BROKEN } s_outcome;

typedef struct {
    ccip_consumer *c;         /* the consumer */
    const Ccip__Envelope *ev; /* the event */
    s_outcome outcome;        /* what the attempt found */
    uint64_t cursor;          /* the stored cursor, when a duplicate */
    int stalled;              /* the row says this consumer is stopped (another replica) */
    char reason[CCIP_CONSUMER_REASON_MAX]; /* ... and why */
    char err[ERR_MAX];                     /* why it failed */
} s_apply_arg;

static int s_apply_tx(ccip_db *db, void *arg)
{
    s_apply_arg *a = arg;
    ccip_consumer *c = a->c;
    a->outcome = APPLY_FAILED;
    a->err[0] = '\0';
    char pos[24];
    s_u64(pos, sizeof pos, a->ev->position);
    const char *values[] = {c->producer, pos, ""};
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_CURSOR_LOCK, 1, values, NULL, NULL, &res);
    if (rc != CCIP_DB_OK) {
        snprintf(a->err, sizeof a->err, "could not read the cursor: %s", ccip_db_error(db));
        return rc;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        snprintf(a->err, sizeof a->err,
                 "consumer_cursor has no row for producer %s (was it deleted?)", c->producer);
        return -1;
    }
    uint64_t stored = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    a->stalled = ccip_db_cell_bool(res, 0, 1);
    snprintf(a->reason, sizeof a->reason, "%s", PQgetvalue(res, 0, 2));
    uint8_t link[CCIP_CHAIN_HASH_LEN];
    int known = stored == 0 || s_unhex32(PQgetvalue(res, 0, 3), link) == 0;
    if (stored == 0)
        memcpy(link, ccip_chain_genesis, sizeof link);
    PQclear(res);
    if (stored != a->ev->position - 1 || a->stalled) {
        /* Applied already (another replica, or a duplicate delivery), the
         * cursor was moved, or the consumer of this producer is stopped:
         * the caller rolls this back and follows the stored row. */
        a->cursor = stored;
        a->outcome = APPLY_DUPLICATE;
        return -1;
    }
    /* The chain: this event's prev_hash must be the hash of the event the
     * cursor stands on (not checked when that hash is unknown), and its own
     * hash the hash of its contents. */
    if (ccip_chain_check(a->ev, known ? link : NULL, a->err, sizeof a->err) < 0) {
        a->outcome = APPLY_BROKEN;
        return -1;
    }
    char hash[CCIP_CHAIN_HASH_HEX + 1];
    values[2] = ccip_chain_hex(a->ev->hash.data, a->ev->hash.len, hash);
    rc = ccip_db_exec(db, &S_CURSOR_ADVANCE, 3, values, NULL, NULL, &res);
    if (rc != CCIP_DB_OK) {
        snprintf(a->err, sizeof a->err, "could not advance the cursor: %s", ccip_db_error(db));
        return rc;
    }
    /* The row is locked and was checked above: it moves. */
    int moved = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (!moved) {
        snprintf(a->err, sizeof a->err, "the cursor of producer %s did not move from %" PRIu64,
                 c->producer, stored);
        return -1;
    }
    const ccip_consumer_handler *h = s_find(c, a->ev->type);
    if (h) {
        rc = h->apply(db, a->ev, c->arg);
        if (rc != 0) {
            snprintf(a->err, sizeof a->err, "handler of %s returned %d%s%s", a->ev->type, rc,
                     ccip_db_error(db)[0] ? ": " : "", ccip_db_error(db));
            return rc;
        }
    }
    a->outcome = APPLY_DONE;
    return 0;
}

static void s_adopt_stall(ccip_consumer *c, uint64_t cursor, const char *reason);

/* Applies ev, which must be at position cursor + 1, retrying until it is
 * applied here or found applied elsewhere. Returns 0 (cursor updated), or
 * -1 when a stop was asked for first or the event breaks the producer's
 * chain (then a replay is scheduled). */
static int s_apply(ccip_consumer *c, const Ccip__Envelope *ev)
{
    int64_t pause = RETRY_FIRST_MS;
    for (;;) {
        if (s_stopping(c))
            return -1;
        PGconn *conn = ccip_db_conn(c->db);
        if (!conn || PQstatus(conn) != CONNECTION_OK) {
            if (ccip_db_ensure(c->db, RECONNECT_SLICE_MS) < 0)
                continue;
        }
        s_apply_arg a = {.c = c, .ev = ev};
        /* One attempt per call: retries happen here, where the stop flag
         * is looked at, and not inside ccip_db_tx. */
        int rc = ccip_db_tx(c->db, CCIP_DB_READ_COMMITTED, 1, s_apply_tx, &a);
        if (a.outcome == APPLY_BROKEN) {
            /* A break in the producer's chain: nothing from here on is
             * applied. The event is dropped and fetched again by replay
             * every REPLAY_RETRY_MS, so the stream goes on once the
             * producer's outbox is repaired. */
            char p[24], why[ERR_MAX];
            s_u64(p, sizeof p, ev->position);
            snprintf(why, sizeof why, "position %s: %.*s", p, ERR_MAX - 48, a.err);
            if (!c->broken)
                c->last_log[0] = '\0'; /* a new break is always logged */
            s_log_limited(c, CCIP_LOG_ERROR,
                          "the producer's event chain is broken; applying nothing after it until "
                          "its outbox is repaired (ccipctl audit verify names the damage)",
                          why);
            c->broken = 1;
            c->next_replay_ms = ccip_mono_ms() + REPLAY_RETRY_MS;
            s_stats_sync(c);
            return -1;
        }
        if (rc == 0 && a.outcome == APPLY_DONE) {
            if (c->broken) {
                char p[24];
                s_u64(p, sizeof p, ev->position);
                ccip_log_info("the producer's event chain holds again; applying", "producer",
                              c->producer, "position", p);
                c->broken = 0;
            }
            c->cursor = ev->position;
            if (c->cursor > c->known_head)
                c->known_head = c->cursor;
            s_count(c, &c->stats.applied, 1);
            s_stats_sync(c);
            if (c->on_commit)
                c->on_commit(ev, c->arg);
            return 0;
        }
        if (a.outcome == APPLY_DUPLICATE && a.stalled) {
            /* Another replica (or this one before a restart) stopped
             * consuming this producer: nothing is applied until a reset. */
            s_adopt_stall(c, a.cursor, a.reason);
            return 0;
        }
        if (a.outcome == APPLY_DUPLICATE) {
            /* Ahead: another replica applied it. Behind: an operator moved
             * the cursor back (to rebuild what the events feed); follow it,
             * and the gap to the next event replays from there. */
            if (a.cursor < c->cursor) {
                char from[24];
                s_u64(from, sizeof from, a.cursor + 1);
                ccip_log_warn("the cursor was moved back; replaying", "producer", c->producer,
                              "from", from);
            }
            c->cursor = a.cursor;
            if (c->cursor > c->known_head)
                c->known_head = c->cursor;
            s_count(c, &c->stats.duplicates, 1);
            s_stats_sync(c);
            return 0;
        }
        const char *why = a.err[0] ? a.err : ccip_db_error(c->db);
        char p[24];
        s_u64(p, sizeof p, ev->position);
        if (rc == CCIP_DB_RETRYABLE) {
            ccip_log_warn("retrying an event", "producer", c->producer, "position", p, "type",
                          ev->type, "reason", why);
            if (s_pause(c, RETRY_FIRST_MS) < 0)
                return -1;
            continue;
        }
        ccip_log_error("could not apply an event; the stream waits here and tries again",
                       "producer", c->producer, "position", p, "type", ev->type, "reason", why);
        if (s_pause(c, pause) < 0)
            return -1;
        pause = pause * 2 > RETRY_CAP_MS ? RETRY_CAP_MS : pause * 2;
    }
}

/* An event at position p from the live stream or a replay. Returns 0, or
 * -1 when stopping. */
static int s_offer(ccip_consumer *c, const Ccip__Envelope *ev)
{
    if (ev->position <= c->cursor) {
        s_count(c, &c->stats.duplicates, 1);
        return 0;
    }
    if (ev->position == c->cursor + 1)
        return s_apply(c, ev);
    return 0; /* a gap: the caller arranges a replay */
}

/* ---- stopping and resuming (a producer restored alone, retention) --------- */

/* Logs why the consumer stopped, with both positions and what to do. */
static void s_log_stall(ccip_consumer *c, const char *msg)
{
    char cur[24], head[24], remedy[ERR_MAX];
    s_u64(cur, sizeof cur, c->cursor);
    snprintf(head, sizeof head, "%" PRId64, c->stall_head);
    if (c->stall_head >= 0)
        snprintf(remedy, sizeof remedy,
                 "restore every schema of the deployment to the same target time"
                 " (docs/OPERATIONS.md); if only %s was restored, on purpose, decide from which"
                 " position of %s's stream %s's effects must be redone and run: ccipctl admin"
                 " consumer reset %s %s --to N --confirm (N at most %s)",
                 c->producer, c->producer, c->service, c->service, c->producer, head);
    else if (c->stall_head == STALL_RETENTION)
        snprintf(remedy, sizeof remedy,
                 "the events are gone from %s's outbox: rebuild what they fed, then run ccipctl"
                 " admin consumer reset %s %s --to N --confirm with N the position before the"
                 " oldest retained one",
                 c->producer, c->service, c->producer);
    else
        snprintf(remedy, sizeof remedy,
                 "see the reason; docs/OPERATIONS.md (resuming a stopped consumer) says how to"
                 " decide N, then run ccipctl admin consumer reset %s %s --to N --confirm",
                 c->service, c->producer);
    ccip_log_error(msg, "producer", c->producer, "cursor", cur, "producer_head",
                   c->stall_head >= 0 ? head : "unknown", "reason", c->stalled_reason, "remedy",
                   remedy);
}

/* Records the stop in the cursor row, so that every replica and every
 * restart stays stopped. Returns 1 when recorded (c->cursor is the stored
 * one), 0 when the stored cursor is no longer above the head (an operator
 * reset it meanwhile: c->cursor follows it and the consumer goes on), -1
 * when the database could not be reached (the caller tries again). */
static int s_store_stall(ccip_consumer *c)
{
    char h[24];
    snprintf(h, sizeof h, "%" PRId64, c->stall_head);
    const char *values[] = {c->producer, h, c->stalled_reason};
    PGresult *res = NULL;
    if (ccip_db_ensure(c->db, RECONNECT_SLICE_MS) < 0 ||
        ccip_db_exec(c->db, &S_CURSOR_STALL, 3, values, NULL, NULL, &res) != CCIP_DB_OK) {
        s_log_limited(c, CCIP_LOG_WARN,
                      "could not record that the consumer stopped; will try again",
                      ccip_db_error(c->db));
        return -1;
    }
    if (PQntuples(res) == 1) {
        c->cursor = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        c->stall_stored = 1;
        return 1;
    }
    PQclear(res);
    return 0;
}

/* Re-reads the cursor row. Returns 1 when it says the consumer is stopped,
 * 0 when not (c->cursor is the stored position), -1 on a database error. */
static int s_read_cursor_row(ccip_consumer *c, char *reason, size_t reasonlen)
{
    const char *values[] = {c->producer};
    PGresult *res = NULL;
    if (ccip_db_ensure(c->db, RECONNECT_SLICE_MS) < 0 ||
        ccip_db_exec(c->db, &S_CURSOR_GET, 1, values, NULL, NULL, &res) != CCIP_DB_OK ||
        PQntuples(res) != 1) {
        PQclear(res);
        s_log_limited(c, CCIP_LOG_WARN, "could not read the cursor row; will try again",
                      ccip_db_error(c->db)[0] ? ccip_db_error(c->db) : "no row");
        return -1;
    }
    c->cursor = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    int stalled = ccip_db_cell_bool(res, 0, 1);
    snprintf(reason, reasonlen, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    return stalled;
}

/* Stops consuming: the producer showed `head` below the cursor (head >= 0),
 * or no longer retains the events needed (STALL_RETENTION; reason says which).
 * Nothing of the producer is applied from now on, and no position is taken
 * for a duplicate, until an operator resets the cursor. */
static void s_stall(ccip_consumer *c, int64_t head, const char *reason)
{
    c->stall_head = head;
    snprintf(c->stalled_reason, sizeof c->stalled_reason, "%s", reason);
    c->stall_stored = 0;
    if (s_store_stall(c) == 0) {
        /* Reset meanwhile: the stored cursor is at or below the head. */
        char why[CCIP_CONSUMER_REASON_MAX];
        if (s_read_cursor_row(c, why, sizeof why) == 0) {
            c->known_head = c->cursor;
            c->caught_up_once = 0;
            c->next_replay_ms = 0;
            c->stalled_reason[0] = '\0';
            s_stats_sync(c);
            return;
        }
    }
    c->stalled = 1;
    c->next_stall_look_ms = ccip_mono_ms() + STALL_LOOK_MS;
    s_log_stall(c, head >= 0 ? "the producer's event stream is below this consumer's cursor:"
                               " stopped consuming it (no event is skipped; an operator must"
                               " decide)"
                             : "events needed are no longer retained by the producer; stopped"
                               " consuming it (no event is skipped: an operator must decide)");
    s_stats_sync(c);
}

/* The stop another replica (or this one before a restart) recorded. */
static void s_adopt_stall(ccip_consumer *c, uint64_t cursor, const char *reason)
{
    c->cursor = cursor;
    c->stalled = 1;
    c->stall_stored = 1;
    c->stall_head = STALL_FROM_ROW;
    snprintf(c->stalled_reason, sizeof c->stalled_reason, "%s", reason);
    c->next_stall_look_ms = ccip_mono_ms() + STALL_LOOK_MS;
    s_log_stall(c, "this consumer's cursor row says it stopped consuming the producer;"
                   " nothing of it is applied until an operator resets the cursor");
    s_stats_sync(c);
}

/* While stopped: records the stop if that failed before, else looks whether
 * an operator reset the cursor, and resumes from the reset position. */
static void s_look_stalled(ccip_consumer *c)
{
    c->next_stall_look_ms = ccip_mono_ms() + STALL_LOOK_MS;
    if (!c->stall_stored) {
        if (s_store_stall(c) != 0)
            return;
        /* 0: the stored cursor is no longer above the head: read it below. */
    }
    char why[CCIP_CONSUMER_REASON_MAX];
    if (s_read_cursor_row(c, why, sizeof why) != 0)
        return;
    char cur[24];
    s_u64(cur, sizeof cur, c->cursor);
    ccip_log_warn("consuming the producer again: an operator reset the cursor", "producer",
                  c->producer, "cursor", cur);
    c->stalled = 0;
    c->stalled_reason[0] = '\0';
    c->known_head = c->cursor;
    c->caught_up_once = 0;
    c->next_replay_ms = 0;
    s_stats_sync(c);
}

/* The producer showed producer_head below the cursor. */
static void s_stall_behind(ccip_consumer *c)
{
    char reason[CCIP_CONSUMER_REASON_MAX];
    snprintf(reason, sizeof reason,
             "%s's event stream ends at position %" PRIu64 ", below %s's cursor %" PRIu64
             ": %s's data is from an earlier point than %s's (restored alone?)",
             c->producer, c->producer_head, c->service, c->cursor, c->producer, c->service);
    s_stall(c, (int64_t)c->producer_head, reason);
}

/* ---- replay ---------------------------------------------------------------- */

/* Asks for one batch from cursor + 1 and applies it. Returns 1 when there
 * is more to fetch, 0 when caught up with the head the reply named, -1 when
 * the request failed (try again later) or a stop was asked for. */
static int s_replay_batch(ccip_consumer *c)
{
    uint64_t from_position = c->cursor + 1;
    char err[ERR_MAX], from[24];
    s_u64(from, sizeof from, from_position);
    Ccip__ReplayReply *rr = NULL;
    Ccip__Status status;
    int rc = ccip_replay_fetch(c->replay, c->producer, from_position, c->replay_batch, &rr, &status,
                               err, sizeof err);
    if (rc == CCIP_REPLAY_NO_ANSWER) {
        s_log_limited(c, CCIP_LOG_WARN, "replay request got no answer; will try again", err);
        return -1;
    }
    if (rc == CCIP_REPLAY_REFUSED && status == CCIP__STATUS__FAILED_PRECONDITION) {
        s_stall(c, STALL_RETENTION, err);
        return -1;
    }
    if (rc == CCIP_REPLAY_REFUSED) {
        /* "<status>: <the producer's sentence>", cut to what the log keeps. */
        char why[ERR_MAX];
        const char *name = ccip_status_name(status);
        snprintf(why, sizeof why, "%s: %.*s", name, (int)(sizeof why - strlen(name) - 3), err);
        s_log_limited(c, CCIP_LOG_WARN, "replay request refused; will try again", why);
        return -1;
    }
    if (rc != CCIP_REPLAY_OK) {
        s_log_limited(c, CCIP_LOG_WARN, "replay reply could not be decoded; will try again", err);
        return -1;
    }
    s_count(c, &c->stats.replays, 1);
    c->producer_head = rr->head;
    c->verify_head = 0;
    if (rr->head < c->cursor) {
        /* The producer read its head after this cursor committed, and the
         * cursor only ever moves to positions it had committed: its stream
         * went back (its schema restored alone to an earlier point). Never
         * "caught up" by taking its next events for duplicates. */
        ccip_replay_batch_free(&rr);
        s_stall_behind(c);
        return -1;
    }
    if (rr->head > c->known_head)
        c->known_head = rr->head;

    int result = 0;
    for (size_t i = 0; i < rr->n_events; i++) {
        const Ccip__Envelope *ev = rr->events[i];
        if (ev->position > c->cursor + 1) {
            char p[24];
            s_u64(p, sizeof p, ev->position);
            snprintf(err, sizeof err, "replay from %s returned position %s out of order", from, p);
            s_log_limited(c, CCIP_LOG_ERROR, "replay reply has a gap; will try again", err);
            result = -1;
            break;
        }
        if (s_offer(c, ev) < 0 || c->stalled) {
            result = -1;
            break;
        }
    }
    if (result == 0 && c->cursor < rr->head) {
        if (rr->n_events == 0) {
            /* The producer says there is more but sent none: do not spin. */
            snprintf(err, sizeof err, "replay from %s returned no events below head %" PRIu64, from,
                     rr->head);
            s_log_limited(c, CCIP_LOG_WARN, "replay reply is empty; will try again", err);
            result = -1;
        } else {
            result = 1;
        }
    }
    ccip_replay_batch_free(&rr);
    s_stats_sync(c);
    return result;
}

/* Replays until the producer's head at the time of the last batch is
 * applied. On failure schedules the next attempt. */
static void s_catch_up(ccip_consumer *c)
{
    for (;;) {
        if (s_stopping(c) || c->stalled)
            return;
        int rc = s_replay_batch(c);
        if (rc == 0) {
            c->caught_up_once = 1;
            return;
        }
        if (rc < 0) {
            c->next_replay_ms = ccip_mono_ms() + REPLAY_RETRY_MS;
            return;
        }
    }
}

/* ---- live events ------------------------------------------------------------ */

static void s_on_message(ccip_consumer *c)
{
    zmq_msg_t parts[2];
    int n = ccip_sock_recv_parts(c->sub, parts, 2, ZMQ_DONTWAIT);
    if (n < 0)
        return;
    if (n != 2) {
        if (n < 2) {
            for (int i = 0; i < n; i++)
                zmq_msg_close(&parts[i]);
        }
        s_log_limited(c, CCIP_LOG_WARN, "dropped a malformed message from the bus",
                      "expected two frames [topic][envelope]");
        return;
    }
    char err[ERR_MAX];
    Ccip__Envelope *ev = ccip_envelope_unpack(zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]),
                                              c->max_message, err, sizeof err);
    zmq_msg_close(&parts[0]);
    zmq_msg_close(&parts[1]);
    if (!ev) {
        s_log_limited(c, CCIP_LOG_WARN, "dropped an undecodable message from the bus", err);
        return;
    }
    if (strcmp(ev->source_service, c->producer) != 0) {
        snprintf(err, sizeof err, "source_service is \"%.64s\"", ev->source_service);
        s_log_limited(c, CCIP_LOG_WARN, "dropped a message of another service", err);
        ccip_envelope_free(&ev);
        return;
    }
    if (strcmp(ev->type, c->heartbeat_type) == 0) {
        c->producer_head = ev->position;
        if (c->stalled) {
            /* Only the head is kept, for the status. */
        } else if (ev->position < c->cursor) {
            /* Perhaps the producer went back, perhaps the heartbeat is
             * stale: sent before events this consumer has since applied by
             * replay (it waited in the SUB queue meanwhile), or by a relay
             * that has lost its leadership. The producer's replay reply
             * decides (s_replay_batch). */
            c->verify_head = 1;
            c->next_replay_ms = 0;
        } else {
            if (ev->position > c->known_head)
                c->known_head = ev->position;
            /* All events up to this head were sent before the heartbeat on
             * the same socket, so a head above the cursor means something
             * was lost (or this consumer is new, or the relay's leader
             * changed). */
            if (ev->position > c->cursor)
                c->next_replay_ms = 0;
        }
    } else if (c->stalled) {
        /* Stopped: nothing of this producer is applied until a reset. */
    } else if (ev->position == 0) {
        s_log_limited(c, CCIP_LOG_WARN, "dropped an event without a position", ev->type);
    } else if (ev->position > c->cursor + 1) {
        if (ev->position > c->known_head)
            c->known_head = ev->position;
        s_count(c, &c->stats.gaps, 1);
        c->next_replay_ms = 0;
        /* The replay brings this event too: it was committed before it was
         * published. */
    } else {
        s_offer(c, ev);
    }
    s_stats_sync(c);
    ccip_envelope_free(&ev);
}

/* ---- the thread ----------------------------------------------------------------- */

static void *s_run(void *arg)
{
    ccip_consumer *c = arg;
    /* Subscribed in ccip_consumer_start already: replay from the stored
     * cursor now, so a late joiner misses nothing. */
    c->next_replay_ms = 0;
    while (!s_stopping(c)) {
        /* Stopped: nothing more is applied from this producer (its live
         * events are dropped, its heartbeats only read for the status)
         * until an operator resets the cursor, which every replica sees
         * in the cursor row. */
        if (c->stalled && ccip_mono_ms() >= c->next_stall_look_ms)
            s_look_stalled(c);
        int behind =
            !c->stalled && (!c->caught_up_once || c->known_head > c->cursor || c->verify_head);
        if (behind && ccip_mono_ms() >= c->next_replay_ms)
            s_catch_up(c);
        zmq_pollitem_t item = {.socket = c->sub, .events = ZMQ_POLLIN};
        int rc = zmq_poll(&item, 1, TICK_MS);
        if (rc < 0) {
            if (zmq_errno() == ETERM)
                break;
            continue;
        }
        /* Take what is queued, but look at the stop flag between messages. */
        for (int i = 0; rc > 0 && i < 1000 && !s_stopping(c); i++) {
            zmq_pollitem_t again = {.socket = c->sub, .events = ZMQ_POLLIN};
            if (zmq_poll(&again, 1, 0) <= 0)
                break;
            s_on_message(c);
        }
    }
    ccip_sock_close(&c->sub);
    ccip_replay_destroy(&c->replay);
    ccip_db_destroy(&c->db);
    return NULL;
}

/* ---- start / stop ------------------------------------------------------------------ */

static void s_free(ccip_consumer *c)
{
    if (!c)
        return;
    ccip_sock_close(&c->sub);
    ccip_replay_destroy(&c->replay);
    ccip_db_destroy(&c->db);
    for (size_t i = 0; c->handlers && i < c->nhandlers; i++)
        free((char *)c->handlers[i].type);
    free(c->handlers);
    free(c->service);
    free(c->schema);
    free(c->producer);
    pthread_mutex_destroy(&c->mutex);
    free(c);
}

static int s_valid_name(const char *s)
{
    if (!s || !*s || strlen(s) > 63 || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    }
    return 1;
}

/* Makes sure the cursor row exists and reads it. Returns 0 or -1 with err. */
static int s_load_cursor(ccip_consumer *c, char *err, size_t errlen)
{
    const char *values[] = {c->producer};
    PGresult *res = NULL;
    if (ccip_db_exec(c->db, &S_CURSOR_ENSURE, 1, values, NULL, NULL, NULL) != CCIP_DB_OK ||
        ccip_db_exec(c->db, &S_CURSOR_GET, 1, values, NULL, NULL, &res) != CCIP_DB_OK) {
        snprintf(err, errlen, "could not read the cursor of producer %s in schema %s: %s",
                 c->producer, c->schema, ccip_db_error(c->db));
        return -1;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        snprintf(err, errlen, "could not read the cursor of producer %s in schema %s: no row",
                 c->producer, c->schema);
        return -1;
    }
    c->cursor = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    c->known_head = c->cursor;
    if (ccip_db_cell_bool(res, 0, 1)) {
        /* Stopped before (by this replica before a restart, or another):
         * stays stopped until an operator resets the cursor. */
        c->stalled = 1;
        c->stall_stored = 1;
        c->stall_head = STALL_FROM_ROW;
        snprintf(c->stalled_reason, sizeof c->stalled_reason, "%s", PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return 0;
}

ccip_consumer *ccip_consumer_start(const ccip_consumer_config *cfg, char *err, size_t errlen)
{
    if (!cfg || !cfg->zmq_ctx || !cfg->conninfo || !cfg->subscribe_endpoint ||
        !cfg->broker_endpoint || (cfg->nhandlers > 0 && !cfg->handlers)) {
        snprintf(err, errlen,
                 "could not start a consumer: the configuration needs a zmq context,"
                 " a conninfo, subscribe and broker endpoints and its handlers");
        return NULL;
    }
    const char *schema = cfg->schema ? cfg->schema : cfg->service;
    if (!s_valid_name(cfg->service) || !s_valid_name(cfg->producer) || !s_valid_name(schema)) {
        snprintf(err, errlen,
                 "could not start a consumer: service \"%.64s\", schema \"%.64s\" and producer"
                 " \"%.64s\" must be names [a-z][a-z0-9_]*",
                 cfg->service ? cfg->service : "", schema ? schema : "",
                 cfg->producer ? cfg->producer : "");
        return NULL;
    }
    for (size_t i = 0; i < cfg->nhandlers; i++) {
        if (!cfg->handlers[i].type || !cfg->handlers[i].apply) {
            snprintf(err, errlen,
                     "could not start the consumer of %s: handler %zu has no type or no function",
                     cfg->producer, i + 1);
            return NULL;
        }
    }
    if (cfg->replay_timeout_ms < 0) {
        snprintf(err, errlen, "could not start the consumer of %s: replay timeout is negative",
                 cfg->producer);
        return NULL;
    }

    ccip_consumer *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "could not start the consumer of %s: out of memory", cfg->producer);
        return NULL;
    }
    pthread_mutex_init(&c->mutex, NULL);
    atomic_init(&c->stop, 0);
    c->service = strdup(cfg->service);
    c->schema = strdup(schema);
    c->producer = strdup(cfg->producer);
    c->handlers = calloc(cfg->nhandlers ? cfg->nhandlers : 1, sizeof *c->handlers);
    if (!c->service || !c->schema || !c->producer || !c->handlers)
        goto oom;
    for (size_t i = 0; i < cfg->nhandlers; i++) {
        c->handlers[i].apply = cfg->handlers[i].apply;
        c->handlers[i].type = strdup(cfg->handlers[i].type);
        c->nhandlers = i + 1;
        if (!c->handlers[i].type)
            goto oom;
    }
    c->arg = cfg->arg;
    c->on_commit = cfg->on_commit;
    c->replay_batch = cfg->replay_batch ? cfg->replay_batch : CCIP_CONSUMER_REPLAY_BATCH_DEFAULT;
    c->replay_timeout_ms =
        cfg->replay_timeout_ms ? cfg->replay_timeout_ms : CCIP_CONSUMER_REPLAY_TIMEOUT_DEFAULT;
    c->max_message = cfg->sock_opts && cfg->sock_opts->max_message_bytes > 0
                         ? (size_t)cfg->sock_opts->max_message_bytes
                         : CCIP_SOCK_MAX_MESSAGE_DEFAULT;
    snprintf(c->heartbeat_type, sizeof c->heartbeat_type, "%s.stream.heartbeat.v1", cfg->producer);

    char dberr[ERR_MAX];
    c->db = ccip_db_new_waiting(cfg->conninfo, cfg->connect_until_us, dberr, sizeof dberr);
    if (!c->db) {
        snprintf(err, errlen, "could not start the consumer of %s: %s", c->producer, dberr);
        goto fail;
    }
    if (ccip_outbox_check_schema(c->db, c->schema, dberr, sizeof dberr) < 0) {
        snprintf(err, errlen, "could not start the consumer of %s: %s", c->producer, dberr);
        goto fail;
    }
    if (s_load_cursor(c, err, errlen) < 0)
        goto fail;

    /* Subscribe before the first replay (in the thread), so that nothing
     * published in between is missed: what arrives twice is dropped. */
    c->sub = ccip_sock_connect(cfg->zmq_ctx, ZMQ_SUB, cfg->subscribe_endpoint, cfg->sock_opts, err,
                               errlen);
    if (!c->sub)
        goto fail;
    char prefix[80];
    int plen = snprintf(prefix, sizeof prefix, "%s.", c->producer);
    int hwm = CCIP_CONSUMER_RCVHWM;
    if (zmq_setsockopt(c->sub, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(c->sub, ZMQ_SUBSCRIBE, prefix, (size_t)plen) != 0) {
        snprintf(err, errlen, "could not subscribe to %s on %s: %s", prefix,
                 cfg->subscribe_endpoint, zmq_strerror(zmq_errno()));
        goto fail;
    }
    ccip_replay_config rcfg = {.service = c->service,
                               .broker_endpoint = cfg->broker_endpoint,
                               .sock_opts = cfg->sock_opts,
                               .timeout_ms = c->replay_timeout_ms,
                               .attempts = 1};
    c->replay = ccip_replay_new(cfg->zmq_ctx, &rcfg, err, errlen);
    if (!c->replay)
        goto fail;

    if (c->stalled)
        s_log_stall(c, "this consumer's cursor row says it stopped consuming the producer;"
                       " nothing of it is applied until an operator resets the cursor");
    s_stats_sync(c);
    /* pthread_create is a full memory barrier: the sockets, made here, are
     * from now on used by the thread only. */
    if (pthread_create(&c->thread, NULL, s_run, c) != 0) {
        snprintf(err, errlen, "could not start the consumer thread of %s: %s", c->producer,
                 strerror(errno));
        goto fail;
    }
    c->thread_started = 1;
    char cur[24];
    s_u64(cur, sizeof cur, c->cursor);
    ccip_log_info("consumer started", "producer", c->producer, "schema", c->schema, "cursor", cur);
    return c;
oom:
    snprintf(err, errlen, "could not start the consumer of %s: out of memory", cfg->producer);
fail:
    s_free(c);
    return NULL;
}

void ccip_consumer_stop(ccip_consumer **c)
{
    if (!c || !*c)
        return;
    ccip_consumer *x = *c;
    atomic_store(&x->stop, 1);
    if (x->thread_started)
        pthread_join(x->thread, NULL);
    s_free(x);
    *c = NULL;
}

void ccip_consumer_stats_get(ccip_consumer *c, ccip_consumer_stats *out)
{
    pthread_mutex_lock(&c->mutex);
    *out = c->stats;
    pthread_mutex_unlock(&c->mutex);
}

const char *ccip_consumer_producer(const ccip_consumer *c)
{
    return c->producer;
}

int ccip_consumer_reset_cursor(ccip_db *db, const char *producer, uint64_t to,
                               ccip_consumer_reset_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (to > (uint64_t)INT64_MAX) {
        snprintf(err, errlen, "position %" PRIu64 " is beyond what a cursor holds", to);
        return CCIP_DB_ERROR;
    }
    char pos[24];
    s_u64(pos, sizeof pos, to);
    const char *values[] = {producer, pos};
    PGresult *res = NULL;
    ccip_db_rc rc = ccip_db_exec(db, &S_CURSOR_RESET, 2, values, NULL, NULL, &res);
    if (rc != CCIP_DB_OK) {
        snprintf(err, errlen, "could not reset the cursor of %s: %s", producer, ccip_db_error(db));
        return rc;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        snprintf(err, errlen, "there is no cursor for producer %s in schema %s", producer,
                 ccip_db_schema(db) ? ccip_db_schema(db) : "(unknown)");
        return CCIP_CONSUMER_NO_CURSOR;
    }
    out->from = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    out->was_stalled = ccip_db_cell_bool(res, 0, 1);
    snprintf(out->stalled_reason, sizeof out->stalled_reason, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    return 0;
}
