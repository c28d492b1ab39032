/*
 * ccip_service_batch: group commit of a replica's concurrent commands
 * (part of the service skeleton, ccip_service).
 *
 * A replica has `service.workers` command slots (threads registered with the
 * broker) and `service.db_connections` database connections. A slot that
 * receives a command hands it to the batcher and waits. When a connection is
 * free, the waiting slot takes it and runs every command queued at that
 * moment (up to `service.batch_max`), its own among them: read-only commands
 * one by one, then all mutating ones in ONE transaction. Each command is
 * answered only after that transaction committed, so an acknowledged command
 * is on disk; one commit (one WAL flush, one round of BEGIN / lock / COMMIT)
 * serves the whole batch. Nobody waits for a batch to fill: a batch is
 * whatever arrived while the connections were busy, so a quiet replica runs
 * each command alone with no added latency.
 *
 * Inside the transaction, per batch:
 *   1. one statement (ccip_command_claim) takes the advisory locks of all
 *      command ids, in sorted order (two batches never wait on each other
 *      in a cycle), a retry of a command running elsewhere waiting here for
 *      it to commit, and then reads the stored replies of those ids: a
 *      repeated command gets its stored reply and has no second effect;
 *   3. the handlers run in arrival order, each seeing the effects of those
 *      before it, exactly as if they had run one after the other;
 *   4. one statement appends the events of the commands that succeeded to
 *      the outbox, and one stores their replies.
 * A command type may have a batch handler (ccip_command_batch_fn): the
 * batch's commands of that type are then handed to it together, so that it
 * writes them with a few set-based statements.
 * A handler that refuses (any status but OK) or fails must leave no trace,
 * while the rest of its batch commits: the batch is run again with a
 * SAVEPOINT before each handler and a ROLLBACK TO it after a refusal (the
 * savepoints cost one round trip per command, so only a batch that needs
 * them pays). A batch whose COMMIT itself fails (a deferred constraint)
 * is run again one command per transaction, so only the guilty one fails.
 * Deadlocks, serialization failures and lost connections run the whole
 * batch again (ccip_db_tx); handlers keep no state across attempts.
 */
#ifndef CCIP_SERVICE_BATCH_H
#define CCIP_SERVICE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "ccip_db.h"
#include "ccip_outbox.h"
#include "ccip_service.h"

typedef struct ccip_batcher ccip_batcher;

/* Packs the reply envelope of a handled command into a malloc'd buffer;
 * returns 0 or -1 (out of memory). Supplied by the skeleton. */
typedef int (*ccip_batch_pack_fn)(ccip_command *cmd, uint8_t **buf, size_t *len);

/* One command handed to the batcher by the slot that received it. */
typedef struct ccip_batch_job ccip_batch_job;

/* Takes ownership of the connections (*dbs entries are set to NULL) and
 * uses them until ccip_batcher_destroy. batch_max >= 1 caps the commands
 * of one batch; a slot that finds a free connection waits up to wait_us
 * (0: not at all) for more commands to join its batch. Returns NULL when
 * out of memory (the connections are then still the caller's). */
ccip_batcher *ccip_batcher_new(ccip_db **dbs, size_t ndbs, size_t batch_max, int64_t wait_us,
                               const char *schema, ccip_batch_pack_fn pack);

/* Closes the connections and frees; no command may be in hand. Safe on NULL
 * and twice. */
void ccip_batcher_destroy(ccip_batcher **batcher);

/* Runs cmd (its service, request and actor filled; handler found and the
 * caller's role already checked) alone or with other slots' commands, and
 * waits until it is answered. Returns the packed reply envelope (malloc'd,
 * the caller frees) in *reply, or -1 with *reply NULL when not even an
 * error reply could be packed (out of memory). On return cmd->status and
 * cmd->error say how the command ended unless the reply was a stored one
 * (then status is OK). */
int ccip_batcher_run(ccip_batcher *batcher, ccip_command *cmd, const ccip_command_handler *handler,
                     uint8_t **reply, size_t *reply_len);

/* Keeps a copy of an event cmd emitted (ccip_command_emit) until its batch
 * commits; the events of a batch are written in one statement before the
 * commit, in the order they were emitted. Returns 0, or CCIP_DB_ERROR with
 * err when the event is malformed or memory ran out. */
int ccip_batch_keep_event(ccip_command *cmd, const ccip_outbox_event *ev, char *err, size_t errlen);

/* Commands run and batches committed since start (tests, logs). */
void ccip_batcher_counts(ccip_batcher *batcher, uint64_t *commands, uint64_t *batches);

/* Batch sizes are counted in buckets of at most 1, 2, 4, ... 64 commands
 * (the upper limits, ccip_batch_size_bounds) and a last one for more. */
#define CCIP_BATCH_SIZE_BOUNDS 7
extern const int64_t ccip_batch_size_bounds[CCIP_BATCH_SIZE_BOUNDS];

/* What the batcher did and holds now, for the service's metrics. */
typedef struct {
    uint64_t commands;                            /* commands run */
    uint64_t batches;                             /* batches run */
    uint64_t by_size[CCIP_BATCH_SIZE_BOUNDS + 1]; /* batches per size bucket */
    size_t connections;                           /* database connections */
    size_t busy;                                  /* of which a batch is using now */
} ccip_batcher_stats;

/* Copies the batcher's stats (thread-safe); zeros when batcher is NULL. */
void ccip_batcher_stats_get(ccip_batcher *batcher, ccip_batcher_stats *out);

#endif
