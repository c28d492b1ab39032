/*
 * ccip_consumer: the thread that applies one producer's events to this
 * service's database, each exactly once (MESSAGING-NOTES "Domain events",
 * steps 3 and 4).
 *
 * It subscribes to "<producer>." on the bus XPUB, then catches up by replay
 * from its stored cursor (a late joiner misses nothing), then applies live
 * events in position order. The cursor is the row consumer_cursor(producer)
 * of the consumer's own schema. Applying event p is one transaction:
 *
 *   UPDATE consumer_cursor SET position = p WHERE producer = $1 AND position = p - 1
 *   -- 0 rows: another replica (or an earlier delivery) applied it: roll
 *   --         back, re-read the cursor, drop the event
 *   -- 1 row:  run the handler for the event's type (none: only the cursor
 *   --         moves), then COMMIT
 *
 * so an effect happens once even when an event is delivered twice or
 * several replicas consume the same stream (the row lock makes the second
 * wait and then find the cursor moved).
 *
 * Live event p:  p <= cursor: dropped (already applied);
 *                p == cursor + 1: applied;
 *                p >  cursor + 1: a gap (PUB dropped something): replay.
 * Heartbeat of the producer's relay with head > cursor: replay.
 * Heartbeat with head < cursor: a replay request, whose reply decides (a
 * heartbeat may be stale: queued behind a catch-up, or sent by a relay that
 * lost its leadership).
 * Replay reply with head < cursor (the producer read its head after the
 * cursor committed): the producer's stream went back (its schema was
 * restored to an earlier point than this one's, alone, breaking the rule of
 * docs/OPERATIONS.md); its next events would reuse positions this consumer
 * has applied and be taken for duplicates. So the consumer stops consuming
 * that producer: it logs an error naming the producer, both positions and
 * the remedy, records the stop in its cursor row (consumer_cursor.stalled_at,
 * stalled_reason: every replica and every restart stays stopped, and the
 * cursor's advance refuses to move while it is set), shows it in
 * ccip_consumer_stats (and so in ccip.ping.v1), and
 * applies nothing of the producer until an operator resets the cursor
 * (ccip_consumer_reset_cursor, the built-in command ccip.consumer.reset.v1,
 * `ccipctl admin consumer reset`); it then goes on from the reset position.
 * Replay asks the producer, through the broker, "ccip.replay.v1" with a
 * Ccip__ReplayRequest from cursor + 1 (ccip_replay.h), in batches, until the
 * head the reply names is applied. A reply with status FAILED_PRECONDITION means the
 * events needed were deleted after the producer's retention: the consumer
 * logs an error naming the positions and stops consuming this producer the
 * same way (it never skips events); an operator must decide what to do.
 *
 * Every event is checked against the producer's hash chain (ccip_chain.h)
 * before it is applied: its prev_hash must be the hash stored with the
 * cursor (the hash of the event applied before it; 32 zero bytes at
 * position 0; not checked when unknown, e.g. after an operator moved the
 * cursor back) and its hash the hash of its contents. An event that fails
 * is not applied, nor anything after it: the consumer logs an error naming
 * the position and what does not hold, and fetches the event again by
 * replay every second, so it goes on by itself once the producer's outbox
 * is repaired.
 *
 * The connection's search_path must be the consumer's schema (see
 * ccip_outbox.h): ccip_consumer_start checks it.
 */
#ifndef CCIP_CONSUMER_H
#define CCIP_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/envelope.pb-c.h"
#include "ccip_db.h"
#include "ccip_sock.h"

#define CCIP_CONSUMER_REPLAY_BATCH_DEFAULT   500
#define CCIP_CONSUMER_REPLAY_TIMEOUT_DEFAULT 1000 /* ms per replay request */
/* ZMQ_RCVHWM of the SUB socket: live events queue here while a replay runs. */
#define CCIP_CONSUMER_RCVHWM 100000
/* Longest reason kept for a stop, with its NUL. */
#define CCIP_CONSUMER_REASON_MAX 400

/* Applies one event inside the consumer's transaction, on db, after the
 * cursor moved. Returns 0 to commit; -1 to roll back: the consumer logs it
 * and tries the same event again later, with growing pauses, so the stream
 * stops at that event until the handler accepts it (a handler that wants
 * to skip a malformed event logs it and returns 0); or the ccip_db_rc of a
 * failed statement (CCIP_DB_RETRYABLE is retried at once). event and
 * everything in it are borrowed for the call. */
typedef int (*ccip_consumer_apply_fn)(ccip_db *db, const Ccip__Envelope *event, void *arg);

/* One event type this consumer acts on. */
typedef struct {
    const char *type;             /* e.g. "intake.call.opened.v1" */
    ccip_consumer_apply_fn apply; /* its handler */
} ccip_consumer_handler;

/* Called in the consumer thread after an event's transaction committed (not
 * for duplicates). Benchmarks timestamp with it. */
typedef void (*ccip_consumer_commit_fn)(const Ccip__Envelope *event, void *arg);

typedef struct {
    void *zmq_ctx;                         /* context for the sockets; must outlive the consumer */
    const char *conninfo;                  /* libpq conninfo of the consumer's own connection */
    const char *service;                   /* own service name (logs, replay requests) */
    const char *schema;                    /* own schema holding consumer_cursor; NULL = service */
    const char *producer;                  /* service whose events these are, e.g. "intake" */
    const char *subscribe_endpoint;        /* the bus XPUB */
    const char *broker_endpoint;           /* the broker, for replay requests */
    const ccip_sock_opts *sock_opts;       /* CURVE client options; copied, but the keys they point
                                              to must outlive the consumer */
    const ccip_consumer_handler *handlers; /* copied (type strings too) */
    size_t nhandlers;                      /* entries in handlers */
    void *arg;                             /* handed to every handler and to on_commit */
    ccip_consumer_commit_fn on_commit;     /* optional */
    uint32_t replay_batch;                 /* events per replay request; 0 = default */
    int replay_timeout_ms;                 /* wait per replay request; 0 = default. Stopping waits
                                              for a request in flight */
    int64_t connect_until_us;              /* start-up: wait for the database until then
                                              (ccip_db_new_waiting); 0 = one try */
} ccip_consumer_config;

typedef struct ccip_consumer ccip_consumer;

/* Connects to the database (checking search_path), makes sure the cursor
 * row exists (a new consumer starts at position 0, i.e. replays the whole
 * retained stream), subscribes, connects the replay client and starts the
 * thread. Returns the consumer, or NULL with err when the configuration is
 * bad, the database cannot be reached now, or a socket cannot be made;
 * nothing is left running then. */
ccip_consumer *ccip_consumer_start(const ccip_consumer_config *cfg, char *err, size_t errlen);

/* Asks the thread to stop, waits for it (within about 100 ms after the
 * transaction in hand, or after the replay request in flight) and frees
 * everything. Safe on NULL and twice; sets *c to NULL. */
void ccip_consumer_stop(ccip_consumer **c);

/* What the consumer has done so far; for tests and benchmarks. */
typedef struct {
    uint64_t cursor;        /* last position applied here (by any replica, as last seen) */
    uint64_t known_head;    /* highest head the producer has shown since it last caught up */
    uint64_t producer_head; /* the head the producer showed last (heartbeat or replay); 0
                               until it did */
    uint64_t applied;       /* events this consumer committed */
    uint64_t duplicates;    /* events dropped as already applied */
    uint64_t replays;       /* replay requests answered */
    uint64_t gaps;          /* live events that showed a gap */
    int stalled; /* 1 when it stopped consuming: the producer's stream went below the cursor,
                    or no longer has the events needed; only a reset resumes it */
    char stalled_reason[CCIP_CONSUMER_REASON_MAX]; /* why, when stalled; else "" */
    int broken; /* 1 while the event at cursor + 1 breaks the producer's chain
                   (ccip_chain.h): nothing is applied until it is repaired */
} ccip_consumer_stats;

/* Copies the counters (thread-safe). c may not be NULL. */
void ccip_consumer_stats_get(ccip_consumer *c, ccip_consumer_stats *out);

/* The producer this consumer consumes (borrowed, lives as long as c). */
const char *ccip_consumer_producer(const ccip_consumer *c);

/* What ccip_consumer_reset_cursor found before it reset the cursor. */
typedef struct {
    uint64_t from;   /* the position the cursor had */
    int was_stalled; /* 1 when the consumer had stopped consuming the producer */
    char stalled_reason[CCIP_CONSUMER_REASON_MAX]; /* why it had, or "" */
} ccip_consumer_reset_result;

/* Returned by ccip_consumer_reset_cursor when the schema has no cursor for
 * the producer. */
#define CCIP_CONSUMER_NO_CURSOR 1

/* An operator's deliberate reset: sets the cursor of `producer` in the
 * connection's schema (search_path) to position `to` and clears a stop, on
 * db, inside the caller's transaction (the skeleton's command
 * ccip.consumer.reset.v1 runs it in its batch). Every replica's consumer
 * then goes on after position `to` (a stopped one sees it within about a
 * second; a running one follows a cursor moved under it). Events after
 * `to` are applied again when the cursor moves back, and the ones it
 * jumps over are never applied when it moves forward: deciding N is the
 * operator's. Returns 0 with *out filled, CCIP_CONSUMER_NO_CURSOR when
 * there is no cursor for producer, or a ccip_db_rc (< 0; CCIP_DB_ERROR
 * also for a `to` above INT64_MAX) with err. */
int ccip_consumer_reset_cursor(ccip_db *db, const char *producer, uint64_t to,
                               ccip_consumer_reset_result *out, char *err, size_t errlen);

#endif
