/*
 * ccip_client: sends commands to a service through the bus and waits for the
 * one reply ("lazy pirate", zguide ch. 4).
 *
 * A command is identified by its envelope id. When no reply arrives within
 * the timeout, the client closes its socket (dropping any late reply), opens
 * a new one and sends the same envelope again; the service answers a
 * repeated id from its stored reply, so a retry never does the work twice.
 *
 * Not thread-safe: one client per thread.
 */
#ifndef CCIP_CLIENT_H
#define CCIP_CLIENT_H

#include <stddef.h>

#include "ccip/envelope.pb-c.h"
#include "ccip_sock.h"

typedef struct ccip_client ccip_client;

/* Connects a DEALER to the broker at endpoint (CURVE client per opts; opts
 * is copied, the keys it points to must outlive the client). Returns NULL
 * with err. */
ccip_client *ccip_client_new(void *ctx, const char *endpoint, const ccip_sock_opts *opts, char *err,
                             size_t errlen);

/* Closes the socket and frees; safe on NULL and twice. */
void ccip_client_destroy(ccip_client **client);

/* Sends req to `service` and waits up to timeout_ms per attempt for the
 * reply carrying req->id, resending up to `attempts` times in all. When
 * req->deadline_us is 0 the client sets it to cover every attempt.
 * Returns the decoded reply (free with ccip_envelope_free), whose status may
 * be an error the service or bus reported, or NULL with err when no reply
 * came (the sentence says how long it waited and where). */
Ccip__Envelope *ccip_client_call(ccip_client *client, const char *service,
                                 const Ccip__Envelope *req, int timeout_ms, int attempts, char *err,
                                 size_t errlen);

#endif
