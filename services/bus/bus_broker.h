/*
 * bus_broker: the command broker of services/bus (protocol: ccip_mdp.h).
 *
 * It keeps no business state: per service, a queue of requests waiting for a
 * replica and the list of idle replicas, longest idle first. A request
 * waits until a replica is free or its deadline passes (then the client gets
 * DEADLINE_EXCEEDED or UNAVAILABLE). A replica that stays silent for
 * CCIP_MDP_LIVENESS heartbeats (longer while it works on a request with a
 * later deadline) is dropped; the request it held is lost and the client's
 * retry, with the same command id, is answered by the service's stored
 * reply.
 *
 * Single-threaded: one thread owns the ROUTER socket and the broker.
 */
#ifndef BUS_BROKER_H
#define BUS_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "ccip_keys.h"

typedef struct bus_broker bus_broker;

typedef struct {
    size_t max_queue;         /* requests waiting per service before UNAVAILABLE */
    int64_t default_wait_us;  /* wait for a replica when a command has no deadline */
    size_t max_message_bytes; /* largest envelope accepted */
} bus_broker_limits;

/* Takes the bound ROUTER socket (borrowed; the caller closes it after
 * destroying the broker) and the keyring used to tell front doors apart
 * (borrowed). Returns NULL when out of memory. */
bus_broker *bus_broker_new(void *router, const ccip_keyring *keyring,
                           const bus_broker_limits *limits, const char *instance);

/* Frees the broker and every queued request; safe on NULL and twice. */
void bus_broker_destroy(bus_broker **broker);

/* Reads and handles every message waiting on the ROUTER without blocking.
 * Malformed messages are logged once with the peer and dropped, or answered
 * when the sender is a client. Returns 0, or -1 when the socket failed
 * (ETERM). */
int bus_broker_drain(bus_broker *broker);

/* Sends heartbeats that are due, drops silent workers and answers requests
 * whose deadline passed. Call at least every CCIP_MDP_HEARTBEAT_MS. */
void bus_broker_tick(bus_broker *broker);

/* Tells every worker to disconnect (before a clean shutdown). */
void bus_broker_disconnect_all(bus_broker *broker);

/* Counters for logs and tests. */
typedef struct {
    size_t workers;         /* replicas connected */
    size_t queued;          /* requests waiting */
    unsigned long routed;   /* requests handed to a replica */
    unsigned long replied;  /* replies forwarded to clients */
    unsigned long rejected; /* malformed or refused messages */
} bus_broker_stats;

void bus_broker_get_stats(const bus_broker *broker, bus_broker_stats *out);

#endif
