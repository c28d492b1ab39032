/*
 * ccip_test_producer: a stand-in for a producer service in integration tests
 * (not part of the product).
 *
 * It registers with the bus under the producer's name and key, answers
 * ccip.replay.v1 from an in-memory stream, and publishes the relay's
 * heartbeat with its head every 200 ms, as a real replica would. It never
 * publishes events live: a consumer learns of them from the heartbeat and
 * fetches them by replay, which is the path that must not lose anything.
 *
 * Its stream continues where the consuming service's cursor for this
 * producer stands, so a test can run against a database that has seen
 * earlier runs.
 */
#ifndef CCIP_TEST_PRODUCER_H
#define CCIP_TEST_PRODUCER_H

#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "ccip_test_proc.h"

typedef struct ccip_test_producer ccip_test_producer;

/* Starts the stand-in for `producer` on env's bus; `consumer` is the
 * service whose consumer_cursor row gives the position before the first
 * event. Returns NULL (with a message on stderr) when it could not start. */
ccip_test_producer *ccip_test_producer_start(ccip_test_env *env, void *zmq_ctx,
                                             const char *producer, const char *consumer);

/* Appends an event with a new id, carrying msg (may be NULL) packed, and
 * returns its position (0 on failure). Strings are copied. */
uint64_t ccip_test_producer_add(ccip_test_producer *p, const char *type, const char *aggregate_type,
                                const char *aggregate_id, const ProtobufCMessage *msg,
                                const char *actor_id, const char *actor_role);

/* Appends the event at `position` again (same id, aggregate and payload) at
 * a new position, as a producer that published it twice would. Returns the
 * new position, 0 when position is not in the stream. */
uint64_t ccip_test_producer_repeat(ccip_test_producer *p, uint64_t position);

/* Waits up to timeout_ms until the consumer's cursor reached the head.
 * Returns 0, or -1 when it did not. */
int ccip_test_producer_wait_applied(ccip_test_producer *p, int timeout_ms);

/* The last position appended so far. */
uint64_t ccip_test_producer_head(ccip_test_producer *p);

/* The position before the first event of this run. */
uint64_t ccip_test_producer_base(const ccip_test_producer *p);

/* Stops the thread, puts every consuming service's cursor of the producer
 * back where it stood at the start (its events were never in the real
 * producer's outbox; a cursor left on them would be ahead of the real
 * producer in a later test), and frees everything; safe on NULL and twice.
 * Stop the services that consume it first: one still applying would move
 * its cursor again. */
void ccip_test_producer_stop(ccip_test_producer **p);

#endif
