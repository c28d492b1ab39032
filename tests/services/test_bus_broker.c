/* bus_broker: every malformed or late command gets one clear reply and the
 * broker keeps serving; commands reach a registered replica and its reply
 * comes back, and only to the client whose request it held; no command
 * waits past the cap whatever its deadline; waiting commands are bounded in
 * number and bytes; unknown replicas are told to register again. The
 * broker runs in this thread on an inproc ROUTER, without a key registry
 * (every peer is "local"): the key bindings are tested over CURVE in
 * tests/integration/test_wire.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bus_broker.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_mdp.h"
#include "ccip_sock.h"

typedef struct {
    void *ctx;
    void *router;
    void *client;
    void *worker; /* a test's replica socket: closed by the teardown even when an
                     assertion left the test early (zmq_ctx_term would wait for it) */
    bus_broker *broker;
} s_fx;

static int s_setup(void **state)
{
    static int n = 0;
    s_fx *f = calloc(1, sizeof *f);
    char ep[64], err[256];
    snprintf(ep, sizeof ep, "inproc://broker-%d", n++);
    f->ctx = zmq_ctx_new();
    f->router = ccip_sock_bind(f->ctx, ZMQ_ROUTER, ep, NULL, err, sizeof err);
    f->client = ccip_sock_connect(f->ctx, ZMQ_DEALER, ep, NULL, err, sizeof err);
    bus_broker_limits lim = {.max_queue = 2,
                             .default_wait_us = 200000,
                             .max_wait_us = 300000,
                             .max_message_bytes = 4096,
                             .max_queued_bytes = 6000,
                             .max_queued_bytes_total = 1 << 20};
    f->broker = bus_broker_new(f->router, NULL, &lim, "bus-test");
    *state = f;
    return f->router && f->client && f->broker ? 0 : -1;
}

static int s_teardown(void **state)
{
    s_fx *f = *state;
    bus_broker_destroy(&f->broker);
    ccip_sock_close(&f->worker);
    ccip_sock_close(&f->client);
    ccip_sock_close(&f->router);
    zmq_ctx_term(f->ctx);
    free(f);
    return 0;
}

static void ccip_test_sleep_ms_local(int ms)
{
    zmq_poll(NULL, 0, ms);
}

/* Reads and discards everything waiting on sock. */
static void s_discard(void *sock)
{
    zmq_msg_t p[8];
    int n;
    while ((n = ccip_sock_recv_parts(sock, p, 8, ZMQ_DONTWAIT)) > 0)
        for (int i = 0; i < n && i < 8; i++)
            zmq_msg_close(&p[i]);
}

/* Lets the broker work for up to ms, then reads one message from sock. */
static int s_pump(s_fx *f, void *sock, zmq_msg_t *parts, int max, int ms)
{
    int64_t until = ccip_now_us() + ms * 1000;
    while (ccip_now_us() < until) {
        zmq_pollitem_t it[2] = {{f->router, 0, ZMQ_POLLIN, 0}, {sock, 0, ZMQ_POLLIN, 0}};
        zmq_poll(it, 2, 20);
        if (it[0].revents)
            bus_broker_drain(f->broker);
        bus_broker_tick(f->broker);
        if (it[1].revents || (zmq_poll(&it[1], 1, 0) == 1))
            return ccip_sock_recv_parts(sock, parts, max, ZMQ_DONTWAIT);
    }
    return 0;
}

/* Sends a command and returns the reply envelope (or NULL). */
static Ccip__Envelope *s_call(s_fx *f, int nframes, const char *service, const void *env,
                              size_t len)
{
    const void *data[] = {CCIP_MDP_CLIENT, service, env};
    size_t lens[] = {strlen(CCIP_MDP_CLIENT), strlen(service), len};
    ccip_sock_send_frames(f->client, data, lens, nframes, 0);
    zmq_msg_t p[3];
    int n = s_pump(f, f->client, p, 3, 1000);
    if (n != 3) {
        for (int i = 0; i < n && i < 3; i++)
            zmq_msg_close(&p[i]);
        return NULL;
    }
    char err[256];
    Ccip__Envelope *r =
        ccip_envelope_unpack(zmq_msg_data(&p[2]), zmq_msg_size(&p[2]), 1 << 20, err, sizeof err);
    for (int i = 0; i < 3; i++)
        zmq_msg_close(&p[i]);
    return r;
}

static size_t s_pack(const char *id, const char *type, int64_t deadline, uint8_t *out)
{
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.id = (char *)id;
    e.type = (char *)type;
    e.deadline_us = deadline;
    return ccip__envelope__pack(&e, out);
}

static void test_wrong_frame_count(void **state)
{
    s_fx *f = *state;
    Ccip__Envelope *r = s_call(f, 2, "intake", NULL, 0);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_non_null(strstr(r->error, "must have 3 frames"));
    ccip_envelope_free(&r);
}

static void test_undecodable_and_oversized(void **state)
{
    s_fx *f = *state;
    uint8_t junk[] = {0x12, 0xff, 0xff, 0xff, 0xff, 0x07};
    Ccip__Envelope *r = s_call(f, 3, "intake", junk, sizeof junk);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_non_null(strstr(r->error, "malformed"));
    ccip_envelope_free(&r);
    static uint8_t big[8192];
    r = s_call(f, 3, "intake", big, sizeof big);
    assert_non_null(r);
    assert_non_null(strstr(r->error, "exceeds the limit of 4096 bytes"));
    ccip_envelope_free(&r);
}

static void test_bad_service_name(void **state)
{
    s_fx *f = *state;
    uint8_t buf[256];
    size_t n = s_pack("c1", "intake.call.open.v1", 0, buf);
    Ccip__Envelope *r = s_call(f, 3, "Intake!", buf, n);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_non_null(strstr(r->error, "service name"));
    ccip_envelope_free(&r);
}

static void test_expired_deadline(void **state)
{
    s_fx *f = *state;
    uint8_t buf[256];
    size_t n = s_pack("c2", "intake.call.open.v1", ccip_now_us() - 1000, buf);
    Ccip__Envelope *r = s_call(f, 3, "intake", buf, n);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__DEADLINE_EXCEEDED);
    assert_string_equal(r->id, "c2");
    ccip_envelope_free(&r);
}

static void test_no_replica_unavailable(void **state)
{
    s_fx *f = *state;
    uint8_t buf[256];
    size_t n = s_pack("c3", "funding.award.confirm.v1", 0, buf);
    Ccip__Envelope *r = s_call(f, 3, "funding", buf, n);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__UNAVAILABLE);
    assert_non_null(strstr(r->error, "no replica of service funding is connected"));
    ccip_envelope_free(&r);
}

static void test_ping_bus(void **state)
{
    s_fx *f = *state;
    uint8_t buf[256];
    size_t n = s_pack("c4", "ccip.ping.v1", 0, buf);
    Ccip__Envelope *r = s_call(f, 3, "bus", buf, n);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__OK);
    assert_string_equal(r->source_instance, "bus-test");
    ccip_envelope_free(&r);
}

static void test_round_trip_through_replica(void **state)
{
    s_fx *f = *state;
    char err[256];
    char ep[128];
    size_t len = sizeof ep;
    zmq_getsockopt(f->router, ZMQ_LAST_ENDPOINT, ep, &len);
    void *w = f->worker = ccip_sock_connect(f->ctx, ZMQ_DEALER, ep, NULL, err, sizeof err);
    const void *ready[] = {CCIP_MDP_WORKER, CCIP_MDP_READY, "intake"};
    size_t rl[] = {strlen(CCIP_MDP_WORKER), 1, 6};
    ccip_sock_send_frames(w, ready, rl, 3, 0);

    uint8_t buf[256];
    size_t n = s_pack("c5", "intake.call.open.v1", 0, buf);
    const void *data[] = {CCIP_MDP_CLIENT, "intake", buf};
    size_t lens[] = {strlen(CCIP_MDP_CLIENT), 6, n};
    ccip_sock_send_frames(f->client, data, lens, 3, 0);

    zmq_msg_t p[8];
    assert_int_equal(s_pump(f, w, p, 8, 1000), 8);
    assert_memory_equal(zmq_msg_data(&p[1]), CCIP_MDP_REQUEST, 1);
    assert_int_equal(zmq_msg_size(&p[3]), 5);
    assert_memory_equal(zmq_msg_data(&p[3]), "local", 5); /* key name */
    assert_int_equal(zmq_msg_size(&p[4]), 5);
    assert_memory_equal(zmq_msg_data(&p[4]), "local", 5); /* key kind: no registry */
    assert_int_equal(zmq_msg_size(&p[5]), 0);             /* bound to nothing */
    assert_int_equal(zmq_msg_size(&p[6]), 0);             /* no roles */
    Ccip__Envelope reply = CCIP__ENVELOPE__INIT;
    reply.id = "c5";
    reply.type = "intake.call.open.v1";
    uint8_t rb[256];
    size_t rn = ccip__envelope__pack(&reply, rb);
    const void *rep[] = {CCIP_MDP_WORKER, CCIP_MDP_REPLY, zmq_msg_data(&p[2]), rb};
    size_t repl[] = {strlen(CCIP_MDP_WORKER), 1, zmq_msg_size(&p[2]), rn};
    ccip_sock_send_frames(w, rep, repl, 4, 0);
    for (int i = 0; i < 8; i++)
        zmq_msg_close(&p[i]);

    zmq_msg_t c[3];
    assert_int_equal(s_pump(f, f->client, c, 3, 1000), 3);
    Ccip__Envelope *r =
        ccip_envelope_unpack(zmq_msg_data(&c[2]), zmq_msg_size(&c[2]), 4096, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(r->id, "c5");
    ccip_envelope_free(&r);
    for (int i = 0; i < 3; i++)
        zmq_msg_close(&c[i]);
    bus_broker_stats st;
    bus_broker_get_stats(f->broker, &st);
    assert_int_equal(st.workers, 1);
    assert_int_equal(st.routed, 1);
    assert_int_equal(st.replied, 1);
    ccip_sock_close(&f->worker);
}

/* Sends a command without waiting for its reply. */
static void s_send_cmd(s_fx *f, const char *service, const char *id, int64_t deadline,
                       size_t payload_len)
{
    static uint8_t payload[4096];
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.id = (char *)id;
    e.type = "funding.award.confirm.v1";
    e.deadline_us = deadline;
    e.payload.data = payload;
    e.payload.len = payload_len;
    uint8_t buf[4200];
    size_t n = ccip__envelope__pack(&e, buf);
    const void *data[] = {CCIP_MDP_CLIENT, service, buf};
    size_t lens[] = {strlen(CCIP_MDP_CLIENT), strlen(service), n};
    ccip_sock_send_frames(f->client, data, lens, 3, 0);
}

/* Reads replies for up to ms and returns the one for `id` (or NULL). */
static Ccip__Envelope *s_reply_for(s_fx *f, const char *id, int ms)
{
    int64_t until = ccip_now_us() + (int64_t)ms * 1000;
    while (ccip_now_us() < until) {
        zmq_msg_t c[3];
        int n = s_pump(f, f->client, c, 3, 50);
        if (n != 3) {
            for (int i = 0; i < n && i < 3; i++)
                zmq_msg_close(&c[i]);
            continue;
        }
        char err[256];
        Ccip__Envelope *r =
            ccip_envelope_unpack(zmq_msg_data(&c[2]), zmq_msg_size(&c[2]), 8192, err, sizeof err);
        for (int i = 0; i < 3; i++)
            zmq_msg_close(&c[i]);
        if (r && strcmp(r->id, id) == 0)
            return r;
        ccip_envelope_free(&r);
    }
    return NULL;
}

/* A deadline of INT64_MAX waits no longer than max_wait (300 ms here). */
static void test_deadline_capped(void **state)
{
    s_fx *f = *state;
    int64_t t0 = ccip_now_us();
    s_send_cmd(f, "funding", "forever", INT64_MAX, 10);
    Ccip__Envelope *r = s_reply_for(f, "forever", 2000);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__UNAVAILABLE);
    int64_t waited_ms = (ccip_now_us() - t0) / 1000;
    assert_true(waited_ms >= 250 && waited_ms < 1500);
    ccip_envelope_free(&r);
}

/* Commands waiting for one service are bounded in number and in bytes:
 * beyond, RESOURCE_EXHAUSTED at once; they are answered when they expire. */
static void test_queue_bounded(void **state)
{
    s_fx *f = *state;
    /* 2500 + 2500 bytes (and their copies) pass 6000: the second is refused. */
    s_send_cmd(f, "funding", "big-1", 0, 2500);
    s_send_cmd(f, "funding", "big-2", 0, 2500);
    Ccip__Envelope *r = s_reply_for(f, "big-2", 150);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__RESOURCE_EXHAUSTED);
    assert_non_null(strstr(r->error, "bytes of commands"));
    ccip_envelope_free(&r);
    /* Two small ones: one more fits, then the count (max_queue 2) is full. */
    s_send_cmd(f, "funding", "small-1", 0, 10);
    s_send_cmd(f, "funding", "small-2", 0, 10);
    r = s_reply_for(f, "small-2", 150);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__RESOURCE_EXHAUSTED);
    ccip_envelope_free(&r);
    bus_broker_stats st;
    bus_broker_get_stats(f->broker, &st);
    assert_int_equal(st.queued, 2);
    assert_true(st.queued_bytes > 2500);
    /* Both waiting ones expire (default wait 200 ms) and free their bytes. */
    r = s_reply_for(f, "small-1", 1000);
    assert_non_null(r);
    ccip_envelope_free(&r);
    bus_broker_get_stats(f->broker, &st);
    assert_int_equal(st.queued, 0);
    assert_int_equal(st.queued_bytes, 0);
}

/* A replica may answer only the client whose request it holds: a reply
 * naming another client is dropped (and counted), the right one goes
 * through. */
static void test_reply_only_to_its_client(void **state)
{
    s_fx *f = *state;
    char err[256], ep[128];
    size_t len = sizeof ep;
    zmq_getsockopt(f->router, ZMQ_LAST_ENDPOINT, ep, &len);
    void *w = f->worker = ccip_sock_connect(f->ctx, ZMQ_DEALER, ep, NULL, err, sizeof err);
    const void *ready[] = {CCIP_MDP_WORKER, CCIP_MDP_READY, "intake"};
    size_t rl[] = {strlen(CCIP_MDP_WORKER), 1, 6};
    ccip_sock_send_frames(w, ready, rl, 3, 0);
    s_send_cmd(f, "intake", "mine", 0, 1);
    zmq_msg_t p[8];
    assert_int_equal(s_pump(f, w, p, 8, 1000), 8);
    Ccip__Envelope reply = CCIP__ENVELOPE__INIT;
    reply.id = "mine";
    reply.type = "funding.award.confirm.v1";
    uint8_t rb[256];
    size_t rn = ccip__envelope__pack(&reply, rb);
    uint8_t other[5] = {0, 0x12, 0x34, 0x56, 0x78};
    const void *forged[] = {CCIP_MDP_WORKER, CCIP_MDP_REPLY, other, rb};
    size_t fl[] = {strlen(CCIP_MDP_WORKER), 1, sizeof other, rn};
    ccip_sock_send_frames(w, forged, fl, 4, 0);
    const void *rep[] = {CCIP_MDP_WORKER, CCIP_MDP_REPLY, zmq_msg_data(&p[2]), rb};
    size_t repl[] = {strlen(CCIP_MDP_WORKER), 1, zmq_msg_size(&p[2]), rn};
    ccip_sock_send_frames(w, rep, repl, 4, 0);
    for (int i = 0; i < 8; i++)
        zmq_msg_close(&p[i]);
    Ccip__Envelope *r = s_reply_for(f, "mine", 1000);
    assert_non_null(r);
    ccip_envelope_free(&r);
    bus_broker_stats st;
    bus_broker_get_stats(f->broker, &st);
    assert_int_equal(st.replied, 1);
    assert_int_equal(st.rejected, 1);
    ccip_sock_close(&f->worker);
}

static void test_unknown_replica_told_to_register(void **state)
{
    s_fx *f = *state;
    char err[256], ep[128];
    size_t len = sizeof ep;
    zmq_getsockopt(f->router, ZMQ_LAST_ENDPOINT, ep, &len);
    void *w = f->worker = ccip_sock_connect(f->ctx, ZMQ_DEALER, ep, NULL, err, sizeof err);
    const void *hb[] = {CCIP_MDP_WORKER, CCIP_MDP_HEARTBEAT};
    size_t hl[] = {strlen(CCIP_MDP_WORKER), 1};
    ccip_sock_send_frames(w, hb, hl, 2, 0);
    zmq_msg_t p[2];
    assert_int_equal(s_pump(f, w, p, 2, 1000), 2);
    assert_memory_equal(zmq_msg_data(&p[1]), CCIP_MDP_DISCONNECT, 1);
    zmq_msg_close(&p[0]);
    zmq_msg_close(&p[1]);
    ccip_sock_close(&f->worker);
}

/* Random frames, from clients and from would-be workers, for a while: the
 * broker answers what it can, drops the rest, and still serves afterwards. */
static void test_survives_random_frames(void **state)
{
    s_fx *f = *state;
    uint64_t x = 0x2545F4914F6CDD1DULL;
    char ep[128], err[256];
    size_t len = sizeof ep;
    zmq_getsockopt(f->router, ZMQ_LAST_ENDPOINT, ep, &len);
    void *w = f->worker = ccip_sock_connect(f->ctx, ZMQ_DEALER, ep, NULL, err, sizeof err);
    static const char *const heads[] = {CCIP_MDP_CLIENT, CCIP_MDP_WORKER, "junk", ""};
    for (int i = 0; i < 3000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        void *sock = (x & 1) ? f->client : w;
        int frames = 1 + (int)((x >> 8) % 7);
        uint8_t buf[64];
        for (size_t b = 0; b < sizeof buf; b++)
            buf[b] = (uint8_t)(x >> (b % 56));
        for (int k = 0; k < frames; k++) {
            int more = k + 1 < frames ? ZMQ_SNDMORE : 0;
            if (k == 0) {
                const char *h = heads[(x >> 16) % 4];
                zmq_send(sock, h, strlen(h), more);
            } else {
                zmq_send(sock, buf, (size_t)((x >> (k * 3)) % sizeof buf), more);
            }
        }
        if (i % 50 == 0) {
            bus_broker_drain(f->broker);
            bus_broker_tick(f->broker);
            /* Throw away whatever the broker answered. */
            s_discard(f->client);
            s_discard(w);
        }
    }
    bus_broker_drain(f->broker);
    ccip_test_sleep_ms_local(50);
    s_discard(f->client);
    uint8_t env[256];
    size_t n = s_pack("after-junk", "ccip.ping.v1", 0, env);
    Ccip__Envelope *r = s_call(f, 3, "bus", env, n);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__OK);
    assert_string_equal(r->id, "after-junk");
    ccip_envelope_free(&r);
    bus_broker_stats st;
    bus_broker_get_stats(f->broker, &st);
    assert_true(st.rejected > 100);
    ccip_sock_close(&f->worker);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wrong_frame_count, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_undecodable_and_oversized, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_service_name, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_expired_deadline, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_no_replica_unavailable, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ping_bus, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_through_replica, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_replica_told_to_register, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_deadline_capped, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_queue_bounded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reply_only_to_its_client, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_survives_random_frames, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
