#include "ccip_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_mdp.h"

#define REPLY_FRAMES 3 /* [CLIENT][service][envelope] */

struct ccip_client {
    void *ctx;
    void *sock;
    char endpoint[256];
    ccip_sock_opts opts;
};

static int s_open(ccip_client *c, char *err, size_t errlen)
{
    c->sock = ccip_sock_connect(c->ctx, ZMQ_DEALER, c->endpoint, &c->opts, err, errlen);
    return c->sock ? 0 : -1;
}

ccip_client *ccip_client_new(void *ctx, const char *endpoint, const ccip_sock_opts *opts, char *err,
                             size_t errlen)
{
    ccip_client *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->ctx = ctx;
    snprintf(c->endpoint, sizeof c->endpoint, "%s", endpoint);
    if (opts)
        c->opts = *opts;
    if (s_open(c, err, errlen) < 0) {
        free(c);
        return NULL;
    }
    return c;
}

void ccip_client_destroy(ccip_client **client)
{
    if (!client || !*client)
        return;
    ccip_sock_close(&(*client)->sock);
    free(*client);
    *client = NULL;
}

/* Reads replies until the one for `id` arrives or the time is up.
 * Returns the reply, or NULL on timeout (err untouched) or failure. */
static Ccip__Envelope *s_wait(ccip_client *c, const char *id, int64_t until_us)
{
    for (;;) {
        int64_t left_us = until_us - ccip_now_us();
        if (left_us <= 0)
            return NULL;
        /* Rounded up: an attempt waits its whole time, not up to 1 ms less. */
        int64_t left_ms = (left_us + 999) / 1000;
        zmq_pollitem_t item = {c->sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&item, 1, (long)left_ms);
        if (n < 0 && zmq_errno() != EINTR)
            return NULL;
        if (n <= 0)
            continue;
        zmq_msg_t f[REPLY_FRAMES];
        int count = ccip_sock_recv_parts(c->sock, f, REPLY_FRAMES, ZMQ_DONTWAIT);
        if (count < 0)
            continue;
        Ccip__Envelope *reply = NULL;
        if (count == REPLY_FRAMES) {
            char why[256];
            reply = ccip_envelope_unpack(zmq_msg_data(&f[2]), zmq_msg_size(&f[2]),
                                         c->opts.max_message_bytes > 0
                                             ? (size_t)c->opts.max_message_bytes
                                             : CCIP_SOCK_MAX_MESSAGE_DEFAULT,
                                         why, sizeof why);
            if (!reply)
                ccip_log_warn("dropped an undecodable reply", "reason", why);
        }
        /* Past REPLY_FRAMES, ccip_sock_recv_parts closed them already. */
        for (int i = 0; count <= REPLY_FRAMES && i < count; i++)
            zmq_msg_close(&f[i]);
        if (!reply)
            continue;
        /* The bus answers a command it could not even decode with an empty
         * id: that answer is for us, since we have one command in flight. */
        if (strcmp(reply->id, id) == 0 || (reply->id[0] == '\0' && reply->status != 0))
            return reply;
        ccip_envelope_free(&reply); /* a late reply to an earlier command */
    }
}

Ccip__Envelope *ccip_client_call(ccip_client *c, const char *service, const Ccip__Envelope *req,
                                 int timeout_ms, int attempts, char *err, size_t errlen)
{
    if (attempts < 1)
        attempts = 1;
    Ccip__Envelope env = *req;
    if (env.deadline_us == 0)
        env.deadline_us = ccip_now_us() + (int64_t)timeout_ms * 1000 * attempts;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ccip_envelope_pack_buf(&env, &buf, &len) < 0) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    Ccip__Envelope *reply = NULL;
    int open_failed = 0;
    for (int attempt = 1; attempt <= attempts && !reply; attempt++) {
        if (!c->sock && s_open(c, err, errlen) < 0) {
            open_failed = 1;
            break;
        }
        const void *data[] = {CCIP_MDP_CLIENT, service, buf};
        size_t lens[] = {strlen(CCIP_MDP_CLIENT), strlen(service), len};
        if (ccip_sock_send_frames(c->sock, data, lens, 3, 0) == 0)
            reply = s_wait(c, req->id, ccip_now_us() + (int64_t)timeout_ms * 1000);
        if (!reply) {
            /* Lazy pirate: a new socket so that a late reply to this attempt
             * cannot be mistaken for the next one's, and the connection is
             * made afresh if the bus restarted. */
            ccip_sock_close(&c->sock);
            if (attempt < attempts)
                ccip_log_info("no reply yet; retrying", "service", service, "command", req->id);
        }
    }
    free(buf);
    if (!reply && !open_failed)
        snprintf(err, errlen, "no reply from %s via %s after %d attempt(s) of %d ms", service,
                 c->endpoint, attempts, timeout_ms);
    return reply;
}
