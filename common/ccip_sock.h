/*
 * ccip_sock: every ZeroMQ socket of ccip is made here, with the options the
 * traps in MESSAGING-NOTES.md call for, so that no socket is forgotten:
 *
 *  - CURVE on every TCP endpoint (refused without keys); servers enforce
 *    the ZAP domain so that a missing handler fails closed;
 *  - ZMQ_MAXMSGSIZE before bind/connect (peers sending more are dropped);
 *  - LINGER bounded so that shutdown never hangs;
 *  - ROUTER_MANDATORY on routers (unroutable replies become EHOSTUNREACH);
 *  - reconnect with exponential backoff on clients.
 *
 * inproc:// and ipc:// endpoints stay inside the machine's trust boundary and
 * are created without CURVE.
 */
#ifndef CCIP_SOCK_H
#define CCIP_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include "ccip_keys.h"

/* Default cap on one message part; services lower or raise it by config. */
#define CCIP_SOCK_MAX_MESSAGE_DEFAULT (4 * 1024 * 1024)
#define CCIP_SOCK_LINGER_MS           200
#define CCIP_SOCK_RECONNECT_MS        100
#define CCIP_SOCK_RECONNECT_MAX_MS    5000

typedef struct {
    const ccip_keypair *keys;  /* own key pair; required for tcp:// */
    const char *server_public; /* clients: the server's Z85 public key */
    int64_t max_message_bytes; /* ZMQ_MAXMSGSIZE; 0 = CCIP_SOCK_MAX_MESSAGE_DEFAULT */
    const char *zap_domain;    /* servers: which socket this is for the ZAP handler
                                  (ccip_zap.h); NULL = CCIP_ZAP_DOMAIN, the broker */
} ccip_sock_opts;

/* Creates a socket of `type`, makes it a CURVE server and binds it.
 * Returns the socket or NULL with err naming the endpoint and reason. */
void *ccip_sock_bind(void *ctx, int type, const char *endpoint, const ccip_sock_opts *opts,
                     char *err, size_t errlen);

/* Creates a socket of `type`, makes it a CURVE client of the server whose
 * public key is opts->server_public and connects it. Returns the socket or
 * NULL with err. */
void *ccip_sock_connect(void *ctx, int type, const char *endpoint, const ccip_sock_opts *opts,
                        char *err, size_t errlen);

/* Closes a socket and sets the pointer to NULL; safe on NULL. */
void ccip_sock_close(void **sock);

/* Receives every part of one message (up to max_parts; the rest are read
 * and dropped). Returns the number of parts received, or -1 (EAGAIN,
 * ETERM...). On a return > max_parts the message had too many parts and
 * none is kept. Each parts[i] must be zmq_msg_close()d by the caller for
 * i < min(rc, max_parts) when rc <= max_parts. */
int ccip_sock_recv_parts(void *sock, void *parts /* zmq_msg_t[] */, int max_parts, int flags);

/* Sends count frames (the last without SNDMORE). Returns 0 or -1. */
int ccip_sock_send_frames(void *sock, const void *const *data, const size_t *lens, int count,
                          int flags);

#endif
