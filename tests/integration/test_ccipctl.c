/*
 * ccipctl as an operator uses it, against a real bus and service: exit
 * codes mean something, --json is parseable line by line, events can be
 * replayed and tailed, keys are never overwritten.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <zmq.h>

#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"
#include "probe.pb-c.h"

static ccip_test_svc s_svc; /* the bus and probea */
static char s_out[65536];

/* Runs ccipctl with args and the key file `key` (relative to the suite's
 * directory), captures stdout into s_out and returns the exit code. */
static int s_ctl(const char *key, const char *args)
{
    return ccip_test_ctl_as(&s_svc, key, s_out, sizeof s_out, "%s", args);
}

static int s_count_lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void s_emit(unsigned count)
{
    char err[256], id[CCIP_UUID_STRLEN + 1];
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    Probe__EmitRequest rq = PROBE__EMIT_REQUEST__INIT;
    rq.count = count;
    rq.tag = "ctl";
    uint8_t buf[64];
    ccip_uuid_v7(id);
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.id = id;
    e.type = "probea.emit.v1";
    e.payload.data = buf;
    e.payload.len = probe__emit_request__pack(&rq, buf);
    Ccip__Envelope *r = ccip_client_call(c, "probea", &e, 2000, 10, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->status, 0);
    ccip_envelope_free(&r);
    ccip_client_destroy(&c);
}

static int s_setup(void **state)
{
    (void)state;
    static const ccip_test_svc_proc probea[] = {
        {"tests/integration/probe/probea", "probea", "probea-1"}, {NULL, NULL, NULL}};
    return ccip_test_svc_start(&s_svc, "probea", probea);
}

static int s_teardown(void **state)
{
    (void)state;
    ccip_test_svc_stop(&s_svc);
    return 0;
}

static void test_ping_and_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(s_ctl("allowed/ccipctl.key", "--timeout 2000 ping bus"), 0);
    assert_non_null(strstr(s_out, "bus is alive"));
    assert_int_equal(s_ctl("allowed/ccipctl.key", "--json --timeout 2000 ping probea"), 0);
    assert_non_null(strstr(s_out, "\"service\":\"probea\""));
    /* Unknown key: no answer, exit 3. */
    assert_int_equal(s_ctl("keys/stranger.key", "--timeout 300 ping bus"), 3);
    /* Usage errors: exit 2; refused commands: exit 1. */
    assert_int_equal(s_ctl("allowed/ccipctl.key", "frobnicate"), 2);
    assert_int_equal(s_ctl("allowed/ccipctl.key", "events replay probea --from 0"), 2);
    assert_int_equal(s_ctl("allowed/ccipctl.key", "--json ping nosuch_service --timeout 300"), 2);
    assert_int_equal(s_ctl("allowed/ccipctl.key", "--timeout 300 ping nosuch_service"), 3);
    /* Help on every subcommand. */
    assert_int_equal(s_ctl("allowed/ccipctl.key", "events --help"), 0);
    assert_non_null(strstr(s_out, "usage: ccipctl events"));
    assert_int_equal(s_ctl("allowed/ccipctl.key", "ping --help"), 0);
    assert_int_equal(s_ctl("allowed/ccipctl.key", "keygen --help"), 0);
}

static void test_replay_and_tail(void **state)
{
    (void)state;
    long long head0 = ccip_test_query_number("probea", "SELECT head FROM outbox_state");
    assert_true(head0 >= 0);
    s_emit(5);
    assert_int_equal(
        ccip_test_wait_count("probea", "SELECT head FROM outbox_state", head0 + 5, 5000),
        head0 + 5);
    char args[256], pos[64];
    /* Replay and tail need an admin key; a front door is refused. */
    snprintf(args, sizeof args, "--json events replay probea --from %lld", head0 + 1);
    assert_int_equal(s_ctl("allowed/ccipctl.key", args), 1);
    assert_int_equal(s_ctl("allowed/operator.key", args), 0);
    assert_int_equal(s_count_lines(s_out, "\"type\":\"probea.thing.happened.v1\""), 5);
    snprintf(pos, sizeof pos, "\"position\":%lld,", head0 + 5);
    assert_non_null(strstr(s_out, pos));
    snprintf(args, sizeof args, "events replay probea --from %lld --count 1", head0 + 4);
    assert_int_equal(s_ctl("allowed/operator.key", args), 0);
    assert_int_equal(s_count_lines(s_out, "probea.thing.happened.v1"), 1);

    /* Tail follows live events: start it, emit, read what it printed. */
    char cmd[2048];
    snprintf(
        cmd, sizeof cmd,
        "CCIP_BUS_COMMANDS=%s CCIP_BUS_SUBSCRIBE=%s CCIP_CURVE_KEY_FILE=%s/allowed/operator.key "
        "CCIP_CURVE_SERVER_KEY_FILE=%s/keys/bus.pub timeout 20 %s/cli/ccipctl --json "
        "events tail probea. --count 3",
        s_svc.env.commands, s_svc.env.subscribe, s_svc.env.dir, s_svc.env.dir,
        getenv("CCIP_BINARY_DIR"));
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    ccip_test_sleep_ms(700); /* let the subscription reach the proxy */
    s_emit(3);
    size_t n = fread(s_out, 1, sizeof s_out - 1, p);
    s_out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_int_equal(s_count_lines(s_out, "\"type\":\"probea.thing.happened.v1\""), 3);
}

static void test_keygen_never_overwrites(void **state)
{
    (void)state;
    char args[512];
    snprintf(args, sizeof args, "keygen zhou-min --dir %s --front-door --as zhou.min --roles staff",
             s_svc.env.dir);
    assert_int_equal(s_ctl("allowed/ccipctl.key", args), 0);
    assert_int_equal(s_ctl("allowed/ccipctl.key", args), 4);
    snprintf(args, sizeof args, "%s/zhou-min.pub", s_svc.env.dir);
    FILE *f = fopen(args, "r");
    assert_non_null(f);
    char text[512];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_non_null(strstr(text, "kind = \"front-door\";"));
    assert_non_null(strstr(text, "person = \"zhou.min\";"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_and_exit_codes),
        cmocka_unit_test(test_replay_and_tail),
        cmocka_unit_test(test_keygen_never_overwrites),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
