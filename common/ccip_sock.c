#include "ccip_sock.h"

#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "ccip_zap.h"

/* A draft option in libzmq 4.3.4's header, but built into Debian's library:
 * without it a server with a ZAP domain set still lets clients in when no
 * handler answers. ccip_sock_bind fails if the library refuses it. */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

static int s_is_tcp(const char *endpoint)
{
    return strncmp(endpoint, "tcp://", 6) == 0;
}

/* Options every ccip socket gets. Returns 0 or -1. */
static int s_common(void *s, const ccip_sock_opts *opts)
{
    int linger = CCIP_SOCK_LINGER_MS;
    int64_t max = opts && opts->max_message_bytes > 0 ? opts->max_message_bytes
                                                      : CCIP_SOCK_MAX_MESSAGE_DEFAULT;
    int ivl = CCIP_SOCK_RECONNECT_MS, ivl_max = CCIP_SOCK_RECONNECT_MAX_MS;
    return (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) == 0 &&
            zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max) == 0 &&
            zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl) == 0 &&
            zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max) == 0)
               ? 0
               : -1;
}

static void *s_fail(void *s, const char *what, const char *endpoint, char *err, size_t errlen)
{
    snprintf(err, errlen, "could not %s %s: %s", what, endpoint, zmq_strerror(zmq_errno()));
    if (s)
        zmq_close(s);
    return NULL;
}

void *ccip_sock_bind(void *ctx, int type, const char *endpoint, const ccip_sock_opts *opts,
                     char *err, size_t errlen)
{
    int tcp = s_is_tcp(endpoint);
    if (tcp && (!opts || !opts->keys || !opts->keys->secret_key[0])) {
        snprintf(err, errlen, "could not bind %s: a CURVE key pair is required on TCP endpoints",
                 endpoint);
        return NULL;
    }
    void *s = zmq_socket(ctx, type);
    if (!s || s_common(s, opts) < 0)
        return s_fail(s, "configure socket for", endpoint, err, errlen);
    if (type == ZMQ_ROUTER) {
        int on = 1;
        if (zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &on, sizeof on) != 0)
            return s_fail(s, "configure socket for", endpoint, err, errlen);
    }
    if (tcp) {
        int on = 1;
        const char *domain = opts->zap_domain ? opts->zap_domain : CCIP_ZAP_DOMAIN;
        if (zmq_setsockopt(s, ZMQ_CURVE_SERVER, &on, sizeof on) != 0 ||
            zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, opts->keys->secret_key, CCIP_KEY_Z85_LEN) ||
            zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) ||
            zmq_setsockopt(s, ZMQ_ZAP_ENFORCE_DOMAIN, &on, sizeof on))
            return s_fail(s, "set up CURVE for", endpoint, err, errlen);
    }
    if (zmq_bind(s, endpoint) != 0)
        return s_fail(s, "bind", endpoint, err, errlen);
    return s;
}

void *ccip_sock_connect(void *ctx, int type, const char *endpoint, const ccip_sock_opts *opts,
                        char *err, size_t errlen)
{
    int tcp = s_is_tcp(endpoint);
    if (tcp && (!opts || !opts->keys || !opts->keys->secret_key[0] || !opts->server_public)) {
        snprintf(err, errlen,
                 "could not connect to %s: a CURVE key pair and the server's public key are "
                 "required on TCP endpoints",
                 endpoint);
        return NULL;
    }
    void *s = zmq_socket(ctx, type);
    if (!s || s_common(s, opts) < 0)
        return s_fail(s, "configure socket for", endpoint, err, errlen);
    if (tcp) {
        if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, opts->server_public, CCIP_KEY_Z85_LEN) ||
            zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, opts->keys->public_key, CCIP_KEY_Z85_LEN) ||
            zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, opts->keys->secret_key, CCIP_KEY_Z85_LEN))
            return s_fail(s, "set up CURVE for", endpoint, err, errlen);
    }
    if (zmq_connect(s, endpoint) != 0)
        return s_fail(s, "connect to", endpoint, err, errlen);
    return s;
}

void ccip_sock_close(void **sock)
{
    if (!sock || !*sock)
        return;
    zmq_close(*sock);
    *sock = NULL;
}

int ccip_sock_recv_parts(void *sock, void *parts_v, int max_parts, int flags)
{
    zmq_msg_t *parts = parts_v;
    int count = 0, more = 1;
    while (more) {
        zmq_msg_t scratch;
        zmq_msg_t *m = count < max_parts ? &parts[count] : &scratch;
        zmq_msg_init(m);
        /* Only the first part may be absent (EAGAIN); the rest of a message
         * is delivered atomically, so later parts never block. */
        if (zmq_msg_recv(m, sock, count == 0 ? flags : 0) < 0) {
            zmq_msg_close(m);
            for (int i = 0; i < count && i < max_parts; i++)
                zmq_msg_close(&parts[i]);
            return -1;
        }
        more = zmq_msg_more(m);
        if (m == &scratch)
            zmq_msg_close(m);
        count++;
    }
    if (count > max_parts) {
        for (int i = 0; i < max_parts; i++)
            zmq_msg_close(&parts[i]);
    }
    return count;
}

int ccip_sock_send_frames(void *sock, const void *const *data, const size_t *lens, int count,
                          int flags)
{
    for (int i = 0; i < count; i++) {
        int f = flags | (i + 1 < count ? ZMQ_SNDMORE : 0);
        if (zmq_send(sock, data[i], lens[i], f) < 0)
            return -1;
    }
    return 0;
}
