/*
 * ccip_worker: one replica's connection to the command broker
 * (protocol: ccip_mdp.h).
 *
 * The worker registers for its service, answers the broker's heartbeats and,
 * when the broker falls silent (it restarted, the network broke), makes a new
 * connection with growing back-off and registers again. The caller's loop:
 *
 *   ccip_request req;
 *   while (!ccip_shutdown_requested()) {
 *       if (ccip_worker_recv(w, 100, &req) == 1) {
 *           ... handle req.envelope ...
 *           ccip_worker_reply(w, &req, reply_bytes, reply_len);
 *           ccip_request_release(&req);
 *       }
 *   }
 *
 * A request whose envelope cannot be decoded is answered with
 * INVALID_ARGUMENT by the worker itself and never returned.
 * Not thread-safe: one worker per thread.
 */
#ifndef CCIP_WORKER_H
#define CCIP_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/envelope.pb-c.h"
#include "ccip_keys.h"
#include "ccip_sock.h"

typedef struct ccip_worker ccip_worker;

/* One command in hand, with what the broker verified about its caller
 * (ccip_mdp.h). */
typedef struct {
    Ccip__Envelope *envelope;        /* decoded; owned, freed by ccip_request_release */
    char peer[CCIP_KEY_NAME_MAX];    /* name of the CURVE key the client used */
    char kind[16];                   /* "service", "front-door", "admin" or "local" */
    char bound[CCIP_KEY_PERSON_MAX]; /* its service or person, or "" */
    char roles[CCIP_KEY_ROLES_MAX * CCIP_KEY_ROLE_MAX]; /* a bound front door's roles, a,b */
    uint8_t client_id[256];                             /* broker routing id of the client */
    size_t client_id_len;
} ccip_request;

/* Connects to the broker and registers for `service`. opts is copied (its
 * keys must outlive the worker). Returns NULL with err. */
ccip_worker *ccip_worker_new(void *ctx, const char *endpoint, const char *service,
                             const ccip_sock_opts *opts, char *err, size_t errlen);

/* Tells the broker this replica leaves, closes and frees; safe on NULL. */
void ccip_worker_destroy(ccip_worker **worker);

/* Waits up to timeout_ms for a command, keeping the connection alive.
 * Returns 1 with *req filled, 0 when none came, -1 when the context was
 * terminated. */
int ccip_worker_recv(ccip_worker *worker, int timeout_ms, ccip_request *req);

/* Sends the packed reply envelope for req. Returns 0 or -1 (the broker is
 * gone; the client will retry). */
int ccip_worker_reply(ccip_worker *worker, const ccip_request *req, const void *envelope,
                      size_t len);

/* Frees what req holds; safe twice. */
void ccip_request_release(ccip_request *req);

/* Times the worker re-registered after losing the broker (tests). */
unsigned long ccip_worker_reconnects(const ccip_worker *worker);

#endif
