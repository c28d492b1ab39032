/*
 * ccip_outbox: the transactional outbox of a producer service
 * (MESSAGING-NOTES "Domain events"; tables in common/sql/0001_messaging.sql).
 *
 * A producer writes its events into its own `outbox` table inside the same
 * transaction as the business change, so an event exists exactly when the
 * change it reports was committed:
 *
 *   static int s_open_call(ccip_db *db, void *arg)
 *   {
 *       ... INSERT INTO intake.call ...
 *       ccip_outbox_event ev = {.type = "intake.call.opened.v1",
 *                               .aggregate_type = "call", .aggregate_id = id,
 *                               .payload = buf, .payload_len = len};
 *       return ccip_outbox_append(db, "intake", &ev, err, sizeof err);
 *   }
 *   ccip_db_tx(db, CCIP_DB_READ_COMMITTED, 3, s_open_call, &ctx);
 *
 * The relay (ccip_relay) then numbers committed events with gap-free
 * positions (ccip_outbox_assign) and publishes them; the producer answers
 * "replay from position N" out of the same table (ccip_outbox_read), and old
 * events move to the archive (outbox_archive, common/sql/0007) after a
 * retention period (ccip_outbox_prune), from which replays still serve
 * them: a consumer starting from position 1 catches up after any time.
 *
 * Schema: the tables are named unqualified, so every function here must run
 * on a connection whose search_path is the service schema. A service gets
 * that from its conninfo (options='-csearch_path=intake') or from its role's
 * default (ALTER ROLE ccip_intake SET search_path = intake); the relay and
 * the consumer check it when they start.
 *
 * Rows come back as a ccip_outbox_batch: an opaque, read-only array of
 * envelopes ready to publish or to put in a Ccip__ReplayReply, whose strings
 * and payloads belong to the batch.
 */
#ifndef CCIP_OUTBOX_H
#define CCIP_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/bus.pb-c.h"
#include "ccip/envelope.pb-c.h"
#include "ccip_chain.h"
#include "ccip_db.h"

/* NOTIFY channel of a schema's outbox: "ccip_outbox_<schema>". */
#define CCIP_OUTBOX_CHANNEL_PREFIX "ccip_outbox_"
/* Longest schema name the outbox accepts: the channel is an identifier of at
 * most 63 bytes, 12 of which are the prefix. */
#define CCIP_OUTBOX_SCHEMA_MAX 51
/* Bytes a channel name needs, NUL included. */
#define CCIP_OUTBOX_CHANNEL_SIZE 64

/* Largest payload ccip_outbox_append accepts. Events travel in one message
 * part (CCIP_SOCK_MAX_MESSAGE_DEFAULT, 4 MiB) and several share a replay
 * reply, so an event that could never be delivered is refused when it is
 * written, not discovered by every consumer later. */
#define CCIP_OUTBOX_PAYLOAD_MAX (1024 * 1024)

/* ccip_outbox_read: events per batch when the caller says 0, and at most. */
#define CCIP_OUTBOX_READ_DEFAULT 500
#define CCIP_OUTBOX_READ_MAX     5000

/* Outcomes. The first three equal the ccip_db_rc values, so a transaction
 * function can return what it got. */
typedef enum {
    CCIP_OUTBOX_OK = 0,
    CCIP_OUTBOX_ERROR = -1,     /* bad arguments or a failed statement; see err */
    CCIP_OUTBOX_RETRYABLE = -2, /* connection lost, serialization failure, deadlock */
    CCIP_OUTBOX_PRUNED = -3,    /* ccip_outbox_read: the positions asked for were deleted */
} ccip_outbox_rc;

/* One event to append. Every string is optional ("" when NULL) except type;
 * the function copies nothing it needs after it returns. */
typedef struct {
    const char *event_id;        /* UUID; NULL or "" = a new UUIDv7 (pass your own to know it) */
    const char *type;            /* required, "<service>.<name>.v<N>", e.g. intake.call.opened.v1;
                                    "<service>.stream.heartbeat.v1" is reserved for the relay */
    const char *aggregate_type;  /* e.g. "call" */
    const char *aggregate_id;    /* id of that aggregate */
    const void *payload;         /* the type's own message, encoded; may be NULL when len is 0 */
    size_t payload_len;          /* bytes at payload, at most CCIP_OUTBOX_PAYLOAD_MAX */
    int64_t occurred_at_us;      /* UTC microseconds; 0 = now */
    const char *correlation_id;  /* conversation the event belongs to */
    const char *causation_id;    /* message (command or event) that caused it */
    const char *actor_id;        /* who asked */
    const char *actor_role;      /* role they acted in */
    const char *source_instance; /* replica that wrote it */
} ccip_outbox_event;

/* Writes the NOTIFY channel name of `schema` into out (at least
 * CCIP_OUTBOX_CHANNEL_SIZE bytes). Returns 0, or -1 when schema is not
 * [a-z_][a-z0-9_]* of at most CCIP_OUTBOX_SCHEMA_MAX bytes (out is then ""). */
int ccip_outbox_channel(const char *schema, char *out, size_t len);

/* Checks that unqualified table names on db resolve to `schema`
 * (current_schema(), the first existing schema of search_path), as every
 * function here assumes. Returns 0, or -1 with err saying what the
 * connection resolves to and how to fix it (or why it could not ask). */
int ccip_outbox_check_schema(ccip_db *db, const char *schema, char *err, size_t errlen);

/* Appends ev to the outbox, unnumbered, and NOTIFYs the schema's channel so
 * that the relay wakes up when the transaction commits. Call it INSIDE the
 * producer's business transaction (a ccip_db_tx function): the event is then
 * committed or rolled back with the change it reports.
 * Returns CCIP_OUTBOX_OK, or CCIP_OUTBOX_ERROR / CCIP_OUTBOX_RETRYABLE with a
 * sentence in err; return that value from the transaction function so that
 * ccip_db_tx rolls back (and retries a retryable failure). */
int ccip_outbox_append(ccip_db *db, const char *schema, const ccip_outbox_event *ev, char *err,
                       size_t errlen);

/* Checks ev as ccip_outbox_append would (type, payload size, event id)
 * without writing it. Returns CCIP_OUTBOX_OK or CCIP_OUTBOX_ERROR with err. */
int ccip_outbox_event_check(const ccip_outbox_event *ev, char *err, size_t errlen);

/* Appends n events in one statement, in order (the relay publishes them in
 * this order), with one NOTIFY. Same returns as ccip_outbox_append; when
 * one event is refused nothing is written. */
int ccip_outbox_append_many(ccip_db *db, const char *schema, const ccip_outbox_event *evs, size_t n,
                            char *err, size_t errlen);

/* For a consumer's handler (ccip_consumer_apply_fn) that emits because of
 * the event it applies: packs msg and appends it, inside the consumer's
 * transaction, as event `type` about aggregate_type/aggregate_id, caused
 * by `cause`: the same correlation (cause's, or cause's id when it has
 * none), causation cause's id, cause's actor; into the outbox of the
 * connection's checked schema (ccip_db_schema). Returns CCIP_OUTBOX_OK, or
 * CCIP_OUTBOX_ERROR / CCIP_OUTBOX_RETRYABLE (logged, naming the type and
 * why: too large, out of memory, a connection whose schema nobody checked,
 * a failed statement); return it from the handler. */
int ccip_outbox_emit_caused(ccip_db *db, const Ccip__Envelope *cause, const char *type,
                            const char *aggregate_type, const char *aggregate_id,
                            const ProtobufCMessage *msg);

/* ---- batches ----------------------------------------------------------- */

/* Events read from the outbox, in position order. Read-only. */
typedef struct ccip_outbox_batch ccip_outbox_batch;

/* Number of events (0 for NULL). */
size_t ccip_outbox_batch_count(const ccip_outbox_batch *b);

/* Event i (0 <= i < count) as an envelope: id = event id, type, aggregate,
 * position, occurred-at, correlation, causation, actor and source instance
 * from the row, source_service = the service named when the batch was made,
 * payload. Borrowed: valid until the batch is destroyed. NULL when i is out
 * of range. */
const Ccip__Envelope *ccip_outbox_batch_event(const ccip_outbox_batch *b, size_t i);

/* Highest position assigned, and lowest position still readable, in the
 * archive or the outbox (head + 1 when none is; a batch of
 * ccip_outbox_assign: the lowest in the outbox), as one consistent reading
 * taken with the events. */
uint64_t ccip_outbox_batch_head(const ccip_outbox_batch *b);
uint64_t ccip_outbox_batch_oldest(const ccip_outbox_batch *b);

/* Fills a reply on the caller's stack with the batch's events, head and
 * oldest, borrowing everything from the batch (keep the batch until the
 * reply is packed):
 *
 *   Ccip__ReplayReply reply;
 *   ccip_outbox_batch_replay_reply(batch, &reply);
 *   size_t n = ccip__replay_reply__get_packed_size(&reply); ... pack ...
 *   ccip_outbox_batch_destroy(&batch);
 */
void ccip_outbox_batch_replay_reply(const ccip_outbox_batch *b, Ccip__ReplayReply *reply);

/* Frees the batch and sets *b to NULL; safe on NULL and twice. */
void ccip_outbox_batch_destroy(ccip_outbox_batch **b);

/* ---- relay side ---------------------------------------------------------- */

/* Numbers up to `max` committed, unnumbered events in seq order with the
 * next positions head+1 .. head+n and advances head, all in one transaction
 * of its own (do not call it inside one) that locks the outbox_state row, so
 * positions stay gap-free and unique even when two relays run at once.
 * `service` becomes the envelopes' source_service.
 * Returns CCIP_OUTBOX_OK and sets *out to the newly numbered events (maybe
 * none; the batch's head is the current head either way): publish them,
 * then destroy the batch. On CCIP_OUTBOX_ERROR / CCIP_OUTBOX_RETRYABLE *out
 * is NULL and err says why; nothing was numbered, except when the connection
 * was lost during COMMIT: then positions may have been committed without
 * being returned, and consumers fetch those events by replay when the next
 * heartbeat shows them the higher head. The transaction is tried once (the
 * caller decides when to reconnect and try again). */
int ccip_outbox_assign(ccip_db *db, const char *service, int max, ccip_outbox_batch **out,
                       char *err, size_t errlen);

/* Reads up to max_events numbered events from from_position on (0 reads
 * from 1), in position order, together with head and oldest, as one
 * consistent snapshot: the events are gap-free from from_position unless
 * from_position > head (then there are none).
 * max_events 0 = CCIP_OUTBOX_READ_DEFAULT; more than CCIP_OUTBOX_READ_MAX
 * are capped. max_bytes > 0 also stops the batch before the packed events
 * exceed that many bytes (at least one event is returned when there is
 * one), so that a reply fits in a message: pass the message cap minus room
 * for the reply's own envelope. Runs one statement, so it may be called
 * inside or outside a transaction.
 * Events below the outbox's oldest are read from its archive (one
 * statement still: the move to the archive is atomic).
 * Returns CCIP_OUTBOX_OK with *out set; CCIP_OUTBOX_PRUNED when from_position
 * is below the oldest readable position (events from there on are in
 * neither table: someone deleted them; the caller cannot be caught up,
 * answer FAILED_PRECONDITION), with err naming the positions and *out set
 * to an empty batch carrying head and oldest;
 * or CCIP_OUTBOX_ERROR / CCIP_OUTBOX_RETRYABLE with err and *out NULL. */
int ccip_outbox_read(ccip_db *db, const char *service, uint64_t from_position, uint32_t max_events,
                     size_t max_bytes, ccip_outbox_batch **out, char *err, size_t errlen);

/* Moves numbered events created more than retention_seconds ago to the
 * archive (outbox_archive, with their chain hashes) and raises oldest past
 * them, in one transaction of its own, tried once. Only a prefix of the
 * stream moves: the first event younger than the retention stops it even
 * when later ones are older (a transaction that committed late), so oldest
 * always means "everything from here on is still in the outbox", and
 * everything before it is in the archive. Unnumbered events never move.
 * Returns CCIP_OUTBOX_OK and sets *deleted (may be NULL) to the number of
 * events archived, or CCIP_OUTBOX_ERROR / CCIP_OUTBOX_RETRYABLE with err and
 * nothing moved. retention_seconds must be > 0. */
int ccip_outbox_prune(ccip_db *db, int64_t retention_seconds, uint64_t *deleted, char *err,
                      size_t errlen);

/* What ccip_outbox_archive_import refuses with (besides the ccip_db_rc of a
 * failed statement): the events do not join the stream as stored. */
#define CCIP_OUTBOX_REFUSED (-4)

/* Puts events of this producer's own stream back into its archive (an
 * export for cold storage re-imported, `ccipctl audit import`), inside the
 * caller's transaction: evs[0 .. n) must have consecutive positions, each
 * one's chain must hold (ccip_chain_check) from the hash stored at the
 * position before the first (32 zero bytes at position 1; a first position
 * whose predecessor is stored nowhere is refused), a position already
 * stored (archive or outbox) must be stored with the same hash, one not
 * stored must be below oldest (the archive's range), and the event stored
 * after the last must link to it. Then the missing ones go into the
 * archive. Takes the outbox_state row lock
 * first (the pruning's), so nothing moves meanwhile. Returns
 * CCIP_OUTBOX_OK with *imported and *already set, CCIP_OUTBOX_REFUSED
 * with err naming the position and what does not hold (nothing written),
 * or a negative ccip_db_rc of a failed statement. */
int ccip_outbox_archive_import(ccip_db *db, const Ccip__Envelope *const *evs, size_t n,
                               uint64_t *imported, uint64_t *already, char *err, size_t errlen);

/* ---- verify -------------------------------------------------------------- */

/* What ccip_outbox_verify found. */
typedef struct {
    uint64_t verified;                 /* from_position..verified hold (from - 1: none yet) */
    uint64_t head;                     /* the head when last read */
    uint8_t hash[CCIP_CHAIN_HASH_LEN]; /* the hash at verified (expected_prev if none) */
    uint64_t broken_at;                /* 0: intact as far as verified */
    char reason[600];                  /* why it is broken */
    size_t n_hashes;                   /* hashes at the positions asked for, in order */
    struct {
        uint64_t position;
        uint8_t hash[CCIP_CHAIN_HASH_LEN];
    } hashes[CCIP_CHAIN_VERIFY_HASHES_MAX];
} ccip_outbox_verify_result;

/* Recomputes the connection's schema's chain (ccip_chain.h) from
 * from_position (>= 1) to to_position (0 = the head), reading the archive
 * and the outbox: positions follow each other, each prev_hash is the hash
 * before it (the first one's is expected_prev: the genesis at position 1,
 * else the hash the caller verified at from_position - 1), each hash is
 * the hash of its event. Stops at the first break, at to_position, after
 * max_events (0: no limit) or once budget_us has passed (then r->verified <
 * the end: ask again from r->verified + 1 with r->hash). The hashes at
 * positions hashes_at (ascending; anchors) inside the verified range are
 * copied into r->hashes. The rows come in binary COPYs of 50,000
 * positions, so that PostgreSQL sends the next rows while this thread
 * hashes. What runs here is what `ccipctl audit verify --via-replay` does
 * with the events brought across the bus (bench audit compares the two).
 * Not inside a transaction that must go on after an error: a failed COPY
 * aborts it. Returns CCIP_OUTBOX_OK with r filled (broken or not), or
 * CCIP_OUTBOX_ERROR / CCIP_OUTBOX_RETRYABLE with err. */
int ccip_outbox_verify(ccip_db *db, uint64_t from_position, uint64_t to_position,
                       const uint8_t expected_prev[CCIP_CHAIN_HASH_LEN], uint64_t max_events,
                       int64_t budget_us, const uint64_t *hashes_at, size_t n_hashes_at,
                       ccip_outbox_verify_result *r, char *err, size_t errlen);

#endif
