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
 * It holds every key to its binding in the key registry (ccip_keys.h), and
 * refuses, logging the key's name:
 *  - a READY for another service than the one a service key is bound to
 *    (and from any other kind of key);
 *  - a REPLY to a client whose request the replica does not hold;
 *  - a front door's command claiming a person or a role outside its
 *    binding (PERMISSION_DENIED to the client).
 * It logs every command sent with an admin key.
 *
 * It is bounded: a command for a service that no replica has registered and
 * no key of the registry serves is answered UNAVAILABLE at once (it never
 * waits); no command waits longer than limits.max_wait_us whatever its
 * deadline; the bytes of waiting commands are capped per service and in
 * all (RESOURCE_EXHAUSTED beyond); and after a burst the memory is given
 * back to the system once the queues are empty.
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
    size_t max_queue;              /* requests waiting per service before RESOURCE_EXHAUSTED */
    int64_t default_wait_us;       /* wait for a replica when a command has no deadline */
    int64_t max_wait_us;           /* longest any command waits, whatever its deadline;
                                      0 = default_wait_us */
    size_t max_message_bytes;      /* largest envelope accepted */
    size_t max_queued_bytes;       /* bytes of requests waiting for one service; 0 = no cap */
    size_t max_queued_bytes_total; /* bytes of requests waiting for all services; 0 = no cap */
} bus_broker_limits;

/* Takes the bound ROUTER socket (borrowed; the caller closes it after
 * destroying the broker) and the key registry (borrowed; must outlive the
 * broker). A NULL keyring (unit tests on inproc sockets only) trusts every
 * peer as kind "local": any service, no claims checked. Returns NULL when
 * out of memory. */
bus_broker *bus_broker_new(void *router, const ccip_keyring *keyring,
                           const bus_broker_limits *limits, const char *instance);

/* Frees the broker and every queued request; safe on NULL and twice. */
void bus_broker_destroy(bus_broker **broker);

/* Reads and handles every message waiting on the ROUTER without blocking.
 * Malformed and refused messages are logged (at most a few lines a second,
 * then counted) and dropped, or answered when the sender is a client.
 * Returns 0, or -1 when the socket failed (ETERM). */
int bus_broker_drain(bus_broker *broker);

/* Sends heartbeats that are due, drops silent workers, answers requests
 * whose deadline passed, and returns memory after a burst. Call at least
 * every CCIP_MDP_HEARTBEAT_MS. */
void bus_broker_tick(bus_broker *broker);

/* Tells every worker to disconnect (before a clean shutdown). */
void bus_broker_disconnect_all(bus_broker *broker);

/* Counters for logs and tests. */
typedef struct {
    size_t workers;         /* replicas connected */
    size_t queued;          /* requests waiting */
    size_t queued_bytes;    /* bytes those hold */
    unsigned long routed;   /* requests handed to a replica */
    unsigned long replied;  /* replies forwarded to clients */
    unsigned long rejected; /* malformed or refused messages */
    unsigned long trims;    /* times memory was given back after a burst */
} bus_broker_stats;

void bus_broker_get_stats(const bus_broker *broker, bus_broker_stats *out);

#endif
