/*
 * bench_transport: ccip's message path against raw libzmq, same run, same
 * sockets. Both sides use CURVE over loopback TCP with the ZAP handler (CURVE
 * costs ~3x on its own, so the baseline must carry it too). The raw path
 * sends 256-byte payloads PUSH -> PULL; the ccip path wraps the same payload
 * in a full envelope (encode, send, receive, decode with the size cap and
 * bounded allocator). Rounds alternate raw/ccip and the median of each is
 * kept, so machine noise hits both alike.
 *
 * Last line: bench transport: raw_per_s=N ccip_per_s=N ratio=R
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_keys.h"
#include "ccip_sock.h"
#include "ccip_zap.h"

#define PAYLOAD 256
#define ROUNDS  5

typedef struct {
    void *pull;
    long count;
    int decode; /* 1: ccip path */
    long bad;
} s_rx;

static void *s_receive(void *arg)
{
    s_rx *rx = arg;
    char err[256];
    for (long i = 0; i < rx->count; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, rx->pull, 0) < 0) {
            rx->bad++;
            break;
        }
        if (rx->decode) {
            Ccip__Envelope *e =
                ccip_envelope_unpack(zmq_msg_data(&m), zmq_msg_size(&m), 1 << 20, err, sizeof err);
            if (!e || e->payload.len != PAYLOAD)
                rx->bad++;
            ccip_envelope_free(&e);
        } else if (zmq_msg_size(&m) != PAYLOAD) {
            rx->bad++;
        }
        zmq_msg_close(&m);
    }
    return NULL;
}

/* One round: returns messages per second. */
static double s_round(void *push, void *pull, long count, int ccip)
{
    static uint8_t payload[PAYLOAD];
    s_rx rx = {pull, count, ccip, 0};
    pthread_t t;
    pthread_create(&t, NULL, s_receive, &rx);
    int64_t t0 = ccip_now_us();
    char id[CCIP_UUID_STRLEN + 1];
    for (long i = 0; i < count; i++) {
        if (ccip) {
            ccip_uuid_v7(id);
            Ccip__Envelope e = CCIP__ENVELOPE__INIT;
            e.id = id;
            e.type = "intake.application.accepted.v1";
            e.source_service = "intake";
            e.source_instance = "intake-1";
            e.aggregate_type = "application";
            e.aggregate_id = id;
            e.position = (uint64_t)i + 1;
            e.occurred_at_us = ccip_now_us();
            e.payload.data = payload;
            e.payload.len = PAYLOAD;
            zmq_msg_t m;
            ccip_envelope_pack(&e, &m);
            zmq_msg_send(&m, push, 0);
        } else {
            zmq_send(push, payload, PAYLOAD, 0);
        }
    }
    pthread_join(t, NULL);
    int64_t us = ccip_now_us() - t0;
    if (rx.bad) {
        fprintf(stderr, "bench transport: %ld bad messages\n", rx.bad);
        exit(1);
    }
    return (double)count * 1e6 / (double)us;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    long count = argc > 1 ? atol(argv[1]) : 200000;
    ccip_keypair server, client;
    ccip_keypair_generate(&server);
    ccip_keypair_generate(&client);
    char dir[] = "/tmp/ccip-bench-XXXXXX", err[256];
    ccip_key_binding b = {.kind = CCIP_KEY_SERVICE, .service = "bench"};
    if (!mkdtemp(dir) || ccip_keypair_save(dir, "client", &client, &b, err, sizeof err) < 0) {
        fprintf(stderr, "bench transport: could not make keys\n");
        return 1;
    }
    ccip_keyring *kr = ccip_keyring_load(dir, err, sizeof err);
    void *ctx = zmq_ctx_new();
    ccip_zap *zap = ccip_zap_start(ctx, kr, err, sizeof err);
    ccip_sock_opts so = {.keys = &server};
    void *pull = ccip_sock_bind(ctx, ZMQ_PULL, "tcp://127.0.0.1:*", &so, err, sizeof err);
    if (!zap || !pull) {
        fprintf(stderr, "bench transport: %s\n", err);
        return 1;
    }
    char ep[128];
    size_t len = sizeof ep;
    zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, ep, &len);
    ccip_sock_opts co = {.keys = &client, .server_public = server.public_key};
    void *push = ccip_sock_connect(ctx, ZMQ_PUSH, ep, &co, err, sizeof err);
    s_round(push, pull, 10000, 0); /* warm-up: handshake, caches */
    double raw[ROUNDS], ours[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        raw[r] = s_round(push, pull, count, 0);
        ours[r] = s_round(push, pull, count, 1);
    }
    qsort(raw, ROUNDS, sizeof raw[0], s_cmp);
    qsort(ours, ROUNDS, sizeof ours[0], s_cmp);
    double rm = raw[ROUNDS / 2], om = ours[ROUNDS / 2];
    printf("bench transport: raw_per_s=%.0f ccip_per_s=%.0f ratio=%.2f\n", rm, om, om / rm);
    ccip_sock_close(&push);
    ccip_sock_close(&pull);
    ccip_zap_stop(&zap);
    zmq_ctx_term(ctx);
    ccip_keyring_destroy(&kr);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 0;
}
