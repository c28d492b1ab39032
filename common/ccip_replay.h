/*
 * ccip_replay: asks a producer, through the broker, for the events of its
 * stream from a position on (ccip.replay.v1, answered by any replica of the
 * producer from its outbox, in batches of at most the producer's cap).
 *
 * The one replay client of ccip: ccip_consumer catches up from its cursor
 * with it, and a service that rebuilds what events feed (stats_rebuild.c)
 * reads a stream from position 1 with it.
 *
 *   ccip_replay_config cfg = {.service = "stats", .broker_endpoint = ep,
 *                             .sock_opts = &so, .timeout_ms = 10000, .attempts = 3};
 *   ccip_replay *r = ccip_replay_new(zmq_ctx, &cfg, err, sizeof err);
 *   Ccip__ReplayReply *batch = NULL;
 *   Ccip__Status status;
 *   int rc = ccip_replay_fetch(r, "intake", from, 500, &batch, &status, err, sizeof err);
 *   if (rc == CCIP_REPLAY_OK) {
 *       ... batch->events[0 .. n_events), positions from `from` on, and batch->head ...
 *       ccip_replay_batch_free(&batch);
 *   }
 *   ccip_replay_destroy(&r);
 *
 * What a caller does with the events (check that positions follow each
 * other, apply them, stop at a head) is its own business: a consumer
 * drops duplicates. A rebuild (stats', notify's) insists on every position
 * from 1 to the cursor it locked, and ccip_replay_range does that for it,
 * through a client of its own (ccip_service_replay_open: the command's
 * thread has no broker connection).
 *
 * Not thread-safe: one ccip_replay per thread (it holds one socket).
 */
#ifndef CCIP_REPLAY_H
#define CCIP_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/bus.pb-c.h"
#include "ccip/envelope.pb-c.h"
#include "ccip_sock.h"

/* The command a producer answers replay requests with. */
#define CCIP_REPLAY_TYPE "ccip.replay.v1"

/* Wait per attempt when the configuration says none. */
#define CCIP_REPLAY_TIMEOUT_DEFAULT 1000 /* ms */

/* What ccip_replay_fetch found. */
typedef enum {
    CCIP_REPLAY_OK = 0,          /* a batch (possibly without events) */
    CCIP_REPLAY_NO_ANSWER = -1,  /* no reply within the attempts; err says how long and where */
    CCIP_REPLAY_REFUSED = -2,    /* the producer (or the bus) answered with a status other than
                                    OK: *status holds it, err the sentence that came with it.
                                    FAILED_PRECONDITION: the events asked for are no longer
                                    retained (outbox retention) */
    CCIP_REPLAY_UNDECODABLE = -3 /* the reply's payload is not a ReplayReply; err says why */
} ccip_replay_rc;

typedef struct {
    const char *service;             /* who asks: the requests' source_service; copied */
    const char *broker_endpoint;     /* the broker's ROUTER; copied */
    const ccip_sock_opts *sock_opts; /* CURVE client options; copied, but the keys they point
                                        to must outlive the ccip_replay. max_message_bytes also
                                        bounds a reply's payload */
    int timeout_ms;                  /* wait per attempt; 0 = CCIP_REPLAY_TIMEOUT_DEFAULT */
    int attempts;                    /* requests sent before giving up (lazy pirate); 0 = 1 */
} ccip_replay_config;

typedef struct ccip_replay ccip_replay;

/* Connects a client of the broker (no message is sent yet). Returns the
 * replay client, or NULL with err: a configuration without service or
 * endpoint, a negative timeout or attempts, no memory, or the socket's own
 * sentence (ccip_client_new) when it cannot be made. */
ccip_replay *ccip_replay_new(void *zmq_ctx, const ccip_replay_config *cfg, char *err,
                             size_t errlen);

/* Closes the socket and frees; safe on NULL and twice; sets *r to NULL. */
void ccip_replay_destroy(ccip_replay **r);

/* Asks `producer` for at most max_events events from position `from` on
 * (from >= 1) and waits for the answer, `attempts` times `timeout_ms` at
 * most. Returns CCIP_REPLAY_OK with *batch (the caller frees it with
 * ccip_replay_batch_free) and *status OK; or one of the other
 * ccip_replay_rc with *batch NULL, *status set (UNAVAILABLE when no
 * answer came, the producer's status when it refused, INTERNAL when the
 * reply could not be decoded) and err filled as said there. */
int ccip_replay_fetch(ccip_replay *r, const char *producer, uint64_t from, uint32_t max_events,
                      Ccip__ReplayReply **batch, Ccip__Status *status, char *err, size_t errlen);

/* Called by ccip_replay_range for each event, in position order (0 or the
 * caller's non-zero code, which stops the range), and after each batch
 * (the batch's strings are freed after flush returns). */
typedef int (*ccip_replay_apply_fn)(void *arg, const Ccip__Envelope *ev);
typedef int (*ccip_replay_flush_fn)(void *arg);

/* Reads `producer`'s stream from position 1 to `upto` in batches of at
 * most batch_max events, calling apply for every event and flush (may be
 * NULL) after every batch. Returns 0 when every position was applied; 1
 * when apply or flush returned non-zero, which stopped the range (the code
 * in *stopped); or -1 with *status the status a command answers with and
 * err a sentence naming the producer and the position: no answer
 * (UNAVAILABLE), a refusal (the producer's FAILED_PRECONDITION when its
 * first events are no longer retained, UNAVAILABLE otherwise), an
 * undecodable reply (INTERNAL), a position skipped or repeated (INTERNAL),
 * or a stream that ends before `upto` (FAILED_PRECONDITION). */
int ccip_replay_range(ccip_replay *r, const char *producer, uint64_t upto, uint32_t batch_max,
                      ccip_replay_apply_fn apply, ccip_replay_flush_fn flush, void *arg,
                      int *stopped, Ccip__Status *status, char *err, size_t errlen);

/* Frees a batch of ccip_replay_fetch; safe on NULL and twice; sets *batch
 * to NULL. */
void ccip_replay_batch_free(Ccip__ReplayReply **batch);

#endif
