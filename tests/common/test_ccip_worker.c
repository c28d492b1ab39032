/* ccip_worker against a broker played by the test on a real ROUTER socket
 * over inproc (label unit): the worker registers for its service, hands
 * over a request with what the broker verified of its key, sends the reply back to that client,
 * answers an undecodable command itself, keeps the connection alive with
 * heartbeats, registers again when the broker asks it to or falls silent,
 * and says goodbye when destroyed. Frames as in ccip_mdp.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_mdp.h"
#include "ccip_sock.h"
#include "ccip_worker.h"

#include "ccip_test_zmq.h"

#define ENDPOINT "inproc://test-worker-broker"

typedef struct {
    void *ctx;
    void *router;   /* the test's broker */
    ccip_worker *w; /* the unit under test */
    char wid[256];  /* the worker's routing id as the broker sees it */
    size_t wid_len;
} s_fixture;

/* Receives the next message from the worker and checks it is command cmd
 * (a one-byte MDP command); remembers the worker's routing id. */
static void s_expect(s_fixture *f, const char *cmd, ccip_test_msg *m, int timeout_ms)
{
    if (ccip_test_msg_recv(f->router, timeout_ms, m) < 0)
        fail_msg("the worker sent nothing within %d ms", timeout_ms);
    assert_true(m->count >= 3);
    assert_true(ccip_test_frame_is(m, 1, CCIP_MDP_WORKER));
    assert_true(ccip_test_frame_is(m, 2, cmd));
    memcpy(f->wid, m->data[0], m->len[0]);
    f->wid_len = m->len[0];
}

static int s_setup(void **state)
{
    s_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    char err[256];
    f->ctx = zmq_ctx_new();
    ccip_sock_opts none = {0};
    f->router = ccip_sock_bind(f->ctx, ZMQ_ROUTER, ENDPOINT, &none, err, sizeof err);
    if (!f->router)
        fail_msg("%s", err);
    f->w = ccip_worker_new(f->ctx, ENDPOINT, "widget", &none, err, sizeof err);
    if (!f->w)
        fail_msg("%s", err);
    /* It registers at once: [worker][CCIPW1][READY][service]. */
    ccip_test_msg m;
    s_expect(f, CCIP_MDP_READY, &m, 2000);
    assert_int_equal(m.count, 4);
    assert_true(ccip_test_frame_is(&m, 3, "widget"));
    ccip_test_msg_free(&m);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture *f = *state;
    ccip_worker_destroy(&f->w);
    ccip_sock_close(&f->router);
    zmq_ctx_term(f->ctx);
    free(f);
    return 0;
}

/* Sends a REQUEST to the worker as the broker does: [client][key-name]
 * [key-kind][bound][roles][envelope] (ccip_mdp.h). */
static void s_request(s_fixture *f, const char *client, const char *peer, const char *kind,
                      const char *bound, const char *roles, const void *env, size_t env_len)
{
    const void *data[] = {
        f->wid, CCIP_MDP_WORKER, CCIP_MDP_REQUEST, client, peer, kind, bound, roles, env};
    size_t lens[] = {
        f->wid_len,    strlen(CCIP_MDP_WORKER), 1,      strlen(client), strlen(peer), strlen(kind),
        strlen(bound), strlen(roles),           env_len};
    assert_int_equal(ccip_sock_send_frames(f->router, data, lens, 9, 0), 0);
}

static void test_request_and_reply(void **state)
{
    s_fixture *f = *state;
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = "0190c6d8-0000-7000-8000-000000000001";
    env.type = "widget.thing.make.v1";
    env.actor_role = "staff";
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(ccip_envelope_pack_buf(&env, &buf, &len), 0);
    s_request(f, "client-7", "zhou-min", "front-door", "zhou.min", "staff,office", buf, len);

    ccip_request req;
    assert_int_equal(ccip_worker_recv(f->w, 2000, &req), 1);
    assert_string_equal(req.envelope->id, env.id);
    assert_string_equal(req.envelope->type, "widget.thing.make.v1");
    assert_string_equal(req.peer, "zhou-min");
    assert_string_equal(req.kind, "front-door");
    assert_string_equal(req.bound, "zhou.min");
    assert_string_equal(req.roles, "staff,office");
    assert_int_equal(req.client_id_len, strlen("client-7"));
    assert_memory_equal(req.client_id, "client-7", req.client_id_len);

    /* The reply goes to that client: [worker][CCIPW1][REPLY][client][envelope]. */
    assert_int_equal(ccip_worker_reply(f->w, &req, "answer", 6), 0);
    ccip_request_release(&req);
    ccip_request_release(&req); /* safe twice */
    ccip_test_msg m;
    s_expect(f, CCIP_MDP_REPLY, &m, 2000);
    assert_int_equal(m.count, 5);
    assert_true(ccip_test_frame_is(&m, 3, "client-7"));
    assert_true(ccip_test_frame_is(&m, 4, "answer"));
    ccip_test_msg_free(&m);

    /* A service key: its kind and its service, no roles. */
    s_request(f, "client-8", "intake", "service", "intake", "", buf, len);
    assert_int_equal(ccip_worker_recv(f->w, 2000, &req), 1);
    assert_string_equal(req.kind, "service");
    assert_string_equal(req.bound, "intake");
    assert_string_equal(req.roles, "");
    assert_string_equal(req.peer, "intake");
    ccip_request_release(&req);
    free(buf);
}

/* A command that does not decode never reaches the caller: the worker
 * answers it INVALID_ARGUMENT, to the client that sent it. */
static void test_undecodable_command_answered(void **state)
{
    s_fixture *f = *state;
    s_request(f, "client-9", "ccipctl", "front-door", "", "", "\xff\xff\xff", 3);
    ccip_request req;
    assert_int_equal(ccip_worker_recv(f->w, 300, &req), 0);
    ccip_test_msg m;
    s_expect(f, CCIP_MDP_REPLY, &m, 2000);
    assert_int_equal(m.count, 5);
    assert_true(ccip_test_frame_is(&m, 3, "client-9"));
    char err[256];
    Ccip__Envelope *r = ccip_envelope_unpack(m.data[4], m.len[4], 4096, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_string_equal(r->source_service, "widget");
    assert_true(r->error[0] != '\0');
    ccip_envelope_free(&r);
    ccip_test_msg_free(&m);
}

/* A quiet worker still sends a heartbeat every CCIP_MDP_HEARTBEAT_MS. */
static void test_heartbeats(void **state)
{
    s_fixture *f = *state;
    ccip_request req;
    assert_int_equal(ccip_worker_recv(f->w, CCIP_MDP_HEARTBEAT_MS + 300, &req), 0);
    ccip_test_msg m;
    s_expect(f, CCIP_MDP_HEARTBEAT, &m, 100);
    assert_int_equal(m.count, 3);
    ccip_test_msg_free(&m);
}

/* Reads what the worker sends while it runs, for up to ms, until it
 * registers again. Returns 1 when it did. */
static int s_registers_again(s_fixture *f, int ms)
{
    for (int waited = 0; waited < ms; waited += 100) {
        ccip_request req;
        assert_int_equal(ccip_worker_recv(f->w, 100, &req), 0);
        ccip_test_msg m;
        while (ccip_test_msg_recv(f->router, 0, &m) == 0) {
            int ready =
                ccip_test_frame_is(&m, 2, CCIP_MDP_READY) && ccip_test_frame_is(&m, 3, "widget");
            ccip_test_msg_free(&m);
            if (ready)
                return 1;
        }
    }
    return 0;
}

/* A broker that does not know the worker (it restarted) tells it so; the
 * worker registers again at once. */
static void test_registers_again_when_told(void **state)
{
    s_fixture *f = *state;
    const void *data[] = {f->wid, CCIP_MDP_WORKER, CCIP_MDP_DISCONNECT};
    size_t lens[] = {f->wid_len, strlen(CCIP_MDP_WORKER), 1};
    assert_int_equal(ccip_sock_send_frames(f->router, data, lens, 3, 0), 0);
    assert_int_equal(ccip_worker_reconnects(f->w), 0);
    assert_true(s_registers_again(f, 2000));
    assert_int_equal(ccip_worker_reconnects(f->w), 1);
}

/* A broker silent for CCIP_MDP_LIVENESS heartbeats is gone: the worker
 * makes a new connection and registers again. */
static void test_registers_again_when_the_broker_falls_silent(void **state)
{
    s_fixture *f = *state;
    int liveness_ms = CCIP_MDP_HEARTBEAT_MS * CCIP_MDP_LIVENESS;
    assert_false(s_registers_again(f, liveness_ms - 500)); /* not before */
    assert_true(s_registers_again(f, 2000));
    assert_int_equal(ccip_worker_reconnects(f->w), 1);
}

static void test_destroy_says_goodbye(void **state)
{
    s_fixture *f = *state;
    ccip_worker_destroy(&f->w);
    assert_null(f->w);
    ccip_worker_destroy(&f->w); /* safe twice */
    ccip_test_msg m;
    s_expect(f, CCIP_MDP_DISCONNECT, &m, 2000);
    ccip_test_msg_free(&m);
}

int main(void)
{
    ccip_log_init("test", "test_ccip_worker", CCIP_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_request_and_reply, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_undecodable_command_answered, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_heartbeats, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_registers_again_when_told, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_registers_again_when_the_broker_falls_silent, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_destroy_says_goodbye, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
