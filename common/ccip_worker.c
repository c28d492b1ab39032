#include "ccip_worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_mdp.h"

#define MAX_FRAMES       10
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS   4000

struct ccip_worker {
    void *ctx;
    void *sock; /* DEALER; NULL while backing off */
    char endpoint[256];
    char service[CCIP_MDP_SERVICE_MAX + 1];
    ccip_sock_opts opts;
    int64_t broker_expiry_us;  /* broker considered gone after this */
    int64_t next_heartbeat_us; /* when to send ours */
    int64_t reconnect_at_us;   /* while sock is NULL: when to try again */
    int backoff_ms;            /* next back-off */
    unsigned long reconnects;
};

static int64_t s_liveness_us(void)
{
    return (int64_t)CCIP_MDP_HEARTBEAT_MS * 1000 * CCIP_MDP_LIVENESS;
}

static int s_send_command(ccip_worker *w, const char *cmd, const void *extra, size_t extra_len)
{
    const void *data[] = {CCIP_MDP_WORKER, cmd, extra};
    size_t lens[] = {strlen(CCIP_MDP_WORKER), 1, extra_len};
    return ccip_sock_send_frames(w->sock, data, lens, extra ? 3 : 2, ZMQ_DONTWAIT);
}

static int s_connect(ccip_worker *w, char *err, size_t errlen)
{
    w->sock = ccip_sock_connect(w->ctx, ZMQ_DEALER, w->endpoint, &w->opts, err, errlen);
    if (!w->sock)
        return -1;
    int64_t now = ccip_now_us();
    w->broker_expiry_us = now + s_liveness_us();
    w->next_heartbeat_us = now + (int64_t)CCIP_MDP_HEARTBEAT_MS * 1000;
    /* Queued until the connection is up (the DEALER buffers it). */
    s_send_command(w, CCIP_MDP_READY, w->service, strlen(w->service));
    return 0;
}

ccip_worker *ccip_worker_new(void *ctx, const char *endpoint, const char *service,
                             const ccip_sock_opts *opts, char *err, size_t errlen)
{
    ccip_worker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->ctx = ctx;
    snprintf(w->endpoint, sizeof w->endpoint, "%s", endpoint);
    snprintf(w->service, sizeof w->service, "%s", service);
    if (opts)
        w->opts = *opts;
    w->backoff_ms = BACKOFF_FIRST_MS;
    if (s_connect(w, err, errlen) < 0) {
        free(w);
        return NULL;
    }
    return w;
}

void ccip_worker_destroy(ccip_worker **worker)
{
    if (!worker || !*worker)
        return;
    ccip_worker *w = *worker;
    if (w->sock) {
        s_send_command(w, CCIP_MDP_DISCONNECT, NULL, 0);
        ccip_sock_close(&w->sock);
    }
    free(w);
    *worker = NULL;
}

/* Drops the connection and schedules a new one after the back-off. */
static void s_lose_broker(ccip_worker *w, const char *why)
{
    ccip_log_warn("lost the broker; reconnecting", "endpoint", w->endpoint, "reason", why);
    ccip_sock_close(&w->sock);
    w->reconnect_at_us = ccip_now_us() + (int64_t)w->backoff_ms * 1000;
    if (w->backoff_ms < BACKOFF_MAX_MS)
        w->backoff_ms *= 2;
}

static void s_reply_invalid(ccip_worker *w, zmq_msg_t *client, const char *why)
{
    Ccip__Envelope reply = CCIP__ENVELOPE__INIT;
    reply.type = "ccip.error.v1";
    reply.source_service = w->service;
    reply.status = CCIP__STATUS__INVALID_ARGUMENT;
    reply.error = (char *)why;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ccip_envelope_pack_buf(&reply, &buf, &len) < 0)
        return;
    const void *data[] = {CCIP_MDP_WORKER, CCIP_MDP_REPLY, zmq_msg_data(client), buf};
    size_t lens[] = {strlen(CCIP_MDP_WORKER), 1, zmq_msg_size(client), len};
    ccip_sock_send_frames(w->sock, data, lens, 4, ZMQ_DONTWAIT);
    free(buf);
}

/* Handles one message from the broker. Returns 1 when it was a request
 * now in *req, 0 otherwise. */
static int s_handle(ccip_worker *w, zmq_msg_t *f, int count, ccip_request *req)
{
    if (count < 2 || zmq_msg_size(&f[0]) != strlen(CCIP_MDP_WORKER) ||
        memcmp(zmq_msg_data(&f[0]), CCIP_MDP_WORKER, zmq_msg_size(&f[0])) != 0 ||
        zmq_msg_size(&f[1]) != 1) {
        ccip_log_warn("dropped a malformed message from the broker");
        return 0;
    }
    char cmd = *(const char *)zmq_msg_data(&f[1]);
    if (cmd == CCIP_MDP_HEARTBEAT[0])
        return 0;
    if (cmd == CCIP_MDP_DISCONNECT[0]) {
        /* The broker does not know us (it restarted) or is stopping. */
        s_lose_broker(w, "the broker asked this replica to register again");
        w->reconnect_at_us = ccip_now_us() + BACKOFF_FIRST_MS * 1000;
        return 0;
    }
    if (cmd != CCIP_MDP_REQUEST[0] || count != 8 || zmq_msg_size(&f[2]) > sizeof req->client_id ||
        zmq_msg_size(&f[3]) >= sizeof req->peer || zmq_msg_size(&f[4]) >= sizeof req->kind ||
        zmq_msg_size(&f[5]) >= sizeof req->bound || zmq_msg_size(&f[6]) >= sizeof req->roles) {
        ccip_log_warn("dropped a malformed message from the broker");
        return 0;
    }
    char why[300];
    size_t max = w->opts.max_message_bytes > 0 ? (size_t)w->opts.max_message_bytes
                                               : CCIP_SOCK_MAX_MESSAGE_DEFAULT;
    Ccip__Envelope *env =
        ccip_envelope_unpack(zmq_msg_data(&f[7]), zmq_msg_size(&f[7]), max, why, sizeof why);
    memset(req, 0, sizeof *req);
    memcpy(req->peer, zmq_msg_data(&f[3]), zmq_msg_size(&f[3]));
    if (!env) {
        ccip_log_warn("refused an undecodable command", "peer", req->peer, "reason", why);
        s_reply_invalid(w, &f[2], why);
        return 0;
    }
    req->envelope = env;
    memcpy(req->kind, zmq_msg_data(&f[4]), zmq_msg_size(&f[4]));
    memcpy(req->bound, zmq_msg_data(&f[5]), zmq_msg_size(&f[5]));
    memcpy(req->roles, zmq_msg_data(&f[6]), zmq_msg_size(&f[6]));
    memcpy(req->client_id, zmq_msg_data(&f[2]), zmq_msg_size(&f[2]));
    req->client_id_len = zmq_msg_size(&f[2]);
    return 1;
}

int ccip_worker_recv(ccip_worker *w, int timeout_ms, ccip_request *req)
{
    int64_t until = ccip_now_us() + (int64_t)timeout_ms * 1000;
    for (;;) {
        int64_t now = ccip_now_us();
        if (!w->sock) {
            if (now >= w->reconnect_at_us) {
                char err[256];
                if (s_connect(w, err, sizeof err) < 0) {
                    s_lose_broker(w, err);
                } else {
                    w->reconnects++;
                    ccip_log_info("registered again with the broker", "endpoint", w->endpoint);
                }
            }
            if (!w->sock) {
                int64_t wait = (w->reconnect_at_us < until ? w->reconnect_at_us : until) - now;
                if (wait > 0) {
                    struct timespec ts = {wait / 1000000, (wait % 1000000) * 1000};
                    nanosleep(&ts, NULL);
                }
                if (ccip_now_us() >= until)
                    return 0;
                continue;
            }
        }
        int64_t next = until;
        if (w->next_heartbeat_us < next)
            next = w->next_heartbeat_us;
        int wait_ms = next > now ? (int)((next - now + 999) / 1000) : 0;
        zmq_pollitem_t item = {w->sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&item, 1, wait_ms);
        if (n < 0 && zmq_errno() == ETERM)
            return -1;
        now = ccip_now_us();
        if (n > 0) {
            zmq_msg_t f[MAX_FRAMES];
            int count = ccip_sock_recv_parts(w->sock, f, MAX_FRAMES, ZMQ_DONTWAIT);
            if (count < 0 && zmq_errno() == ETERM)
                return -1;
            if (count > 0) {
                w->broker_expiry_us = now + s_liveness_us();
                w->backoff_ms = BACKOFF_FIRST_MS;
                int got = count <= MAX_FRAMES ? s_handle(w, f, count, req) : 0;
                /* Past MAX_FRAMES, ccip_sock_recv_parts closed them already. */
                for (int i = 0; count <= MAX_FRAMES && i < count; i++)
                    zmq_msg_close(&f[i]);
                if (got)
                    return 1;
                if (!w->sock)
                    continue;
            }
        }
        if (now >= w->broker_expiry_us) {
            s_lose_broker(w, "no heartbeat from the broker");
            continue;
        }
        if (now >= w->next_heartbeat_us) {
            s_send_command(w, CCIP_MDP_HEARTBEAT, NULL, 0);
            w->next_heartbeat_us = now + (int64_t)CCIP_MDP_HEARTBEAT_MS * 1000;
        }
        if (now >= until)
            return 0;
    }
}

int ccip_worker_reply(ccip_worker *w, const ccip_request *req, const void *envelope, size_t len)
{
    if (!w->sock)
        return -1;
    const void *data[] = {CCIP_MDP_WORKER, CCIP_MDP_REPLY, req->client_id, envelope};
    size_t lens[] = {strlen(CCIP_MDP_WORKER), 1, req->client_id_len, len};
    return ccip_sock_send_frames(w->sock, data, lens, 4, 0);
}

void ccip_request_release(ccip_request *req)
{
    if (req)
        ccip_envelope_free(&req->envelope);
}

unsigned long ccip_worker_reconnects(const ccip_worker *w)
{
    return w->reconnects;
}
