/*
 * ccip_relay: the thread of a producer service that numbers its outbox and
 * publishes the events on the bus (MESSAGING-NOTES "Domain events", step 2).
 *
 * Every replica runs one; the one holding the session advisory lock
 * pg_try_advisory_lock(hashtext('ccip.relay.' || schema)) is the leader and
 * does the work, the others try again every second and take over when the
 * leader's session ends. Leadership only saves work: positions stay
 * gap-free and unique even when two relays overlap, because
 * ccip_outbox_assign numbers rows under the outbox_state row lock.
 *
 * The leader:
 *  - LISTENs on "ccip_outbox_<schema>" (ccip_outbox_append NOTIFYs it at
 *    commit) and waits on the connection's socket, so an event is published
 *    a few milliseconds after its transaction commits; it also looks every
 *    100 ms in case a notification was missed;
 *  - numbers a batch (ccip_outbox_assign), commits, then publishes each
 *    event as two frames [type][packed envelope] on a PUB socket connected
 *    to the bus XSUB;
 *  - publishes a heartbeat every heartbeat_ms on "<service>.stream.heartbeat.v1":
 *    an envelope of that type whose position is the current head (and whose
 *    payload is a Ccip__StreamHeartbeat with the same head), so subscribers
 *    learn of events they missed (PUB drops silently) and fetch them by
 *    replay;
 *  - moves events older than the retention to the outbox's archive once a
 *    minute (ccip_outbox_prune), from which replays still serve them.
 * A lost database connection is re-established; the leadership is then
 * contested again. The thread owns its connection and its socket.
 *
 * The connection's search_path must be the service schema (see
 * ccip_outbox.h): ccip_relay_start checks it.
 */
#ifndef CCIP_RELAY_H
#define CCIP_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "ccip_sock.h"

#define CCIP_RELAY_HEARTBEAT_MS_DEFAULT 1000
#define CCIP_RELAY_BATCH_DEFAULT        500
/* Suffix of the heartbeat type after the service name. */
#define CCIP_RELAY_HEARTBEAT_SUFFIX ".stream.heartbeat.v1"
/* ZMQ_SNDHWM of the PUB socket: room for bursts while the proxy catches up;
 * what is dropped beyond it is found again by replay. */
#define CCIP_RELAY_SNDHWM 100000

typedef struct {
    void *zmq_ctx;                   /* context the PUB socket is made in; must outlive the relay */
    const char *conninfo;            /* libpq conninfo of the relay's own connection */
    const char *service;             /* service name: source_service, heartbeat topic */
    const char *schema;              /* the service schema: lock, channel, tables */
    const char *instance;            /* replica name for the heartbeat's source_instance; may be
                                        NULL */
    const char *publish_endpoint;    /* the bus XSUB, e.g. tcp://bus:5561 */
    const ccip_sock_opts *sock_opts; /* CURVE client options; copied, but the keys they point
                                        to must outlive the relay */
    int64_t retention_seconds;       /* published events move to the archive after this; 0 = they
                                        stay in the outbox */
    int heartbeat_ms;                /* 0 = CCIP_RELAY_HEARTBEAT_MS_DEFAULT */
    int batch_size;           /* events numbered per transaction; 0 = CCIP_RELAY_BATCH_DEFAULT */
    int64_t connect_until_us; /* start-up: wait for the database until then
                                 (ccip_db_new_waiting); 0 = one try */
} ccip_relay_config;

typedef struct ccip_relay ccip_relay;

/* Connects to the database (checking that search_path resolves to the
 * schema), connects the PUB socket and starts the thread. Every string of
 * cfg is copied. Returns the relay, or NULL with err when the configuration
 * is bad, the database cannot be reached now, or the socket cannot be made;
 * nothing is left running then. */
ccip_relay *ccip_relay_start(const ccip_relay_config *cfg, char *err, size_t errlen);

/* Asks the thread to stop, waits for it (at most about 100 ms after the
 * work in hand, unless a database connection attempt is in progress: then
 * up to its connect_timeout), releases the leadership with the connection
 * and frees everything. Safe on NULL and twice; sets *r to NULL. */
void ccip_relay_stop(ccip_relay **r);

/* What the relay has done so far; for tests, benchmarks and ping. */
typedef struct {
    int leader;              /* 1 while this relay holds the leadership */
    uint64_t head;           /* head as last seen by the leader */
    uint64_t published;      /* events published */
    uint64_t heartbeats;     /* heartbeats published */
    uint64_t pruned;         /* events moved to the archive by retention */
    uint64_t leadership_won; /* times it became leader */
} ccip_relay_stats;

/* Copies the counters (thread-safe). r may not be NULL. */
void ccip_relay_stats_get(ccip_relay *r, ccip_relay_stats *out);

#endif
