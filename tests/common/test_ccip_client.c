/* ccip_client against a broker played by a thread of the test on a real
 * ROUTER socket over ipc (label unit): one command, one reply; no reply in
 * time means the same envelope (same command id) again from a new socket,
 * up to the attempts asked for, then NULL with a sentence saying how long
 * it waited and where; replies to other commands are dropped; the bus's
 * refusal of an envelope it could not read (empty id) is the answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_mdp.h"
#include "ccip_sock.h"

#include "ccip_test.h"
#include "ccip_test_zmq.h"

#define MAX_SEEN 8

/* What the broker does with the n-th command it receives. */
typedef enum {
    S_IGNORE,      /* nothing: the client must try again */
    S_ANSWER,      /* the reply, carrying the command's id */
    S_OTHER_FIRST, /* a reply to another command, then the reply */
    S_REFUSE,      /* the bus's refusal of an unreadable envelope: empty id */
} s_action;

typedef struct {
    void *ctx;
    void *router;              /* the broker's socket, used by its thread only */
    char endpoint[300];        /* ipc://<tmp>/broker */
    char dir[256];             /* the temp dir */
    s_action script[MAX_SEEN]; /* what to do with each command, in order */
    int nscript;               /* the script's length: the thread ends after it */
    int seen;                  /* commands received */
    char ids[MAX_SEEN][40];    /* the command id of each */
    char services[MAX_SEEN][33];
    char routing[MAX_SEEN][64]; /* each one's routing id, as hex */
    int64_t deadline_us[MAX_SEEN];
    pthread_t thread;
} s_fixture;

static void s_reply(s_fixture *f, const ccip_test_msg *m, const char *id, Ccip__Status status)
{
    Ccip__Envelope r = CCIP__ENVELOPE__INIT;
    r.id = (char *)id;
    r.type = "widget.thing.make.v1";
    r.status = status;
    r.error = status ? "could not read the envelope" : "";
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ccip_envelope_pack_buf(&r, &buf, &len) < 0)
        return; /* the client then times out, and the test says so */
    const void *data[] = {m->data[0], CCIP_MDP_CLIENT, m->data[2], buf};
    size_t lens[] = {m->len[0], strlen(CCIP_MDP_CLIENT), m->len[2], len};
    ccip_sock_send_frames(f->router, data, lens, 4, 0);
    free(buf);
}

static void *s_broker(void *arg)
{
    s_fixture *f = arg;
    while (f->seen < f->nscript) {
        ccip_test_msg m;
        if (ccip_test_msg_recv(f->router, 5000, &m) < 0)
            break;
        char err[256];
        Ccip__Envelope *env = m.count == 4 && ccip_test_frame_is(&m, 1, CCIP_MDP_CLIENT)
                                  ? ccip_envelope_unpack(m.data[3], m.len[3], 4096, err, sizeof err)
                                  : NULL;
        if (env) {
            int n = f->seen++;
            snprintf(f->ids[n], sizeof f->ids[n], "%s", env->id);
            snprintf(f->services[n], sizeof f->services[n], "%s", (char *)m.data[2]);
            for (size_t i = 0; i < m.len[0] && i < 31; i++)
                snprintf(f->routing[n] + 2 * i, 3, "%02x", m.data[0][i]);
            f->deadline_us[n] = env->deadline_us;
            if (f->script[n] == S_OTHER_FIRST)
                s_reply(f, &m, "0190c6d8-0000-7000-8000-0000000000ff", CCIP__STATUS__OK);
            if (f->script[n] == S_ANSWER || f->script[n] == S_OTHER_FIRST)
                s_reply(f, &m, env->id, CCIP__STATUS__OK);
            if (f->script[n] == S_REFUSE)
                s_reply(f, &m, "", CCIP__STATUS__INVALID_ARGUMENT);
            ccip_envelope_free(&env);
        }
        ccip_test_msg_free(&m);
    }
    return NULL;
}

static int s_setup(void **state)
{
    s_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(ccip_test_tmpdir(f->dir, sizeof f->dir), 0);
    snprintf(f->endpoint, sizeof f->endpoint, "ipc://%s/broker", f->dir);
    f->ctx = zmq_ctx_new();
    char err[256];
    ccip_sock_opts none = {0};
    f->router = ccip_sock_bind(f->ctx, ZMQ_ROUTER, f->endpoint, &none, err, sizeof err);
    if (!f->router)
        fail_msg("%s", err);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture *f = *state;
    ccip_sock_close(&f->router);
    zmq_ctx_term(f->ctx);
    char path[300];
    snprintf(path, sizeof path, "%s/broker", f->dir);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Runs the broker with `script` while the client calls once. */
static Ccip__Envelope *s_call(s_fixture *f, const s_action *script, int n, int timeout_ms,
                              int attempts, char *err, size_t errlen)
{
    memcpy(f->script, script, (size_t)n * sizeof *script);
    f->nscript = n;
    assert_int_equal(pthread_create(&f->thread, NULL, s_broker, f), 0);
    ccip_sock_opts none = {0};
    ccip_client *c = ccip_client_new(f->ctx, f->endpoint, &none, err, errlen);
    assert_non_null(c);
    Ccip__Envelope req = CCIP__ENVELOPE__INIT;
    req.id = "0190c6d8-0000-7000-8000-000000000001";
    req.type = "widget.thing.make.v1";
    Ccip__Envelope *r = ccip_client_call(c, "widget", &req, timeout_ms, attempts, err, errlen);
    ccip_client_destroy(&c);
    ccip_client_destroy(&c); /* safe twice */
    pthread_join(f->thread, NULL);
    return r;
}

static void test_one_command_one_reply(void **state)
{
    s_fixture *f = *state;
    static const s_action script[] = {S_ANSWER};
    char err[256];
    int64_t before = ccip_now_us();
    Ccip__Envelope *r = s_call(f, script, 1, 2000, 3, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(r->id, "0190c6d8-0000-7000-8000-000000000001");
    assert_int_equal(r->status, CCIP__STATUS__OK);
    ccip_envelope_free(&r);
    assert_int_equal(f->seen, 1);
    assert_string_equal(f->services[0], "widget");
    /* No deadline given: one that covers every attempt (3 x 2 s). */
    assert_true(f->deadline_us[0] >= before + 6000000);
    assert_true(f->deadline_us[0] <= ccip_now_us() + 6000000);
}

/* Lazy pirate: no reply in time, the same envelope again from a new
 * socket (a late reply to the first cannot be taken for the second's). */
static void test_retries_the_same_command_from_a_new_socket(void **state)
{
    s_fixture *f = *state;
    static const s_action script[] = {S_IGNORE, S_IGNORE, S_ANSWER};
    char err[256];
    Ccip__Envelope *r = s_call(f, script, 3, 200, 3, err, sizeof err);
    assert_non_null(r);
    ccip_envelope_free(&r);
    assert_int_equal(f->seen, 3);
    assert_string_equal(f->ids[0], f->ids[1]);
    assert_string_equal(f->ids[1], f->ids[2]);
    assert_string_not_equal(f->routing[0], f->routing[1]);
    assert_string_not_equal(f->routing[1], f->routing[2]);
}

static void test_gives_up_after_the_attempts(void **state)
{
    s_fixture *f = *state;
    static const s_action script[] = {S_IGNORE, S_IGNORE};
    char err[256];
    int64_t before = ccip_now_us();
    assert_null(s_call(f, script, 2, 150, 2, err, sizeof err));
    assert_true(ccip_now_us() - before >= 300000);
    assert_int_equal(f->seen, 2);
    char want[400];
    snprintf(want, sizeof want, "no reply from widget via %s after 2 attempt(s) of 150 ms",
             f->endpoint);
    assert_string_equal(err, want);
}

/* A reply to another command (a late one to an earlier call) is dropped. */
static void test_drops_replies_to_other_commands(void **state)
{
    s_fixture *f = *state;
    static const s_action script[] = {S_OTHER_FIRST};
    char err[256];
    Ccip__Envelope *r = s_call(f, script, 1, 2000, 1, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(r->id, "0190c6d8-0000-7000-8000-000000000001");
    ccip_envelope_free(&r);
}

/* The bus answers an envelope it could not read with an empty id: with
 * one command in flight, that answer is this command's. */
static void test_takes_the_bus_refusal(void **state)
{
    s_fixture *f = *state;
    static const s_action script[] = {S_REFUSE};
    char err[256];
    Ccip__Envelope *r = s_call(f, script, 1, 2000, 3, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_string_equal(r->id, "");
    ccip_envelope_free(&r);
    assert_int_equal(f->seen, 1);
}

int main(void)
{
    ccip_log_init("test", "test_ccip_client", CCIP_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_command_one_reply, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retries_the_same_command_from_a_new_socket, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_gives_up_after_the_attempts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_drops_replies_to_other_commands, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_takes_the_bus_refusal, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
