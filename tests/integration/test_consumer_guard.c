/*
 * test_consumer_guard: a producer restored alone (issue 24, rule 2).
 *
 * The real bus and five services on a cluster of the test's own
 * (restore_load.h). intake's outbox is moved back (its stream's last events
 * deleted and its head set back, as a restore of intake's schema alone to
 * an earlier point would leave it) while evaluation and stats, its
 * consumers, keep their cursors. Then:
 *  - both stop consuming intake, each with the error in its log (the
 *    producer, both positions, the remedy), in its status (ccip.ping.v1,
 *    `ccipctl admin consumer status`) and in its cursor row;
 *  - intake's new events, which reuse positions at and above their cursors,
 *    are applied by neither (no case, no fact), not even by a replica
 *    started afterwards;
 *  - the reset is refused without confirm, to a role other than admin, for
 *    a producer not consumed, and by ccipctl without --confirm, changing
 *    nothing;
 *  - after the reset (through the command and through ccipctl) both apply
 *    every one of intake's new events: nothing is skipped.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ccip/bus.pb-c.h"
#include "ccip_test_db.h"
#include "ccip_test_svc.h"
#include "restore_load.h"

#define ADMIN   "admin", "admin-zhou"
#define WAIT_MS 30000

static rl_cluster s_cl;
static ccip_test_svc s_svc;
static rl_load *s_load;

/* Prints every log, stops everything and fails the test. */
static void s_fail_with_logs(const char *what)
{
    ccip_test_fail(&s_svc, what);
}

static long long s_num(const char *svc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static long long s_num(const char *svc, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return ccip_test_query_number(svc, sql);
}

static long long s_cursor(const char *svc)
{
    return s_num(svc, "SELECT position FROM consumer_cursor WHERE producer = 'intake'");
}

static pid_t s_pid(const char *name)
{
    for (int i = 0; i < CCIP_TEST_MAX_PROCS; i++)
        if (s_svc.env.children[i].pid > 0 && strcmp(s_svc.env.children[i].name, name) == 0)
            return s_svc.env.children[i].pid;
    return 0;
}

/* The status of `service`'s consumer of intake (ccip.ping.v1), or NULL. */
static Ccip__PingReply *s_ping(const char *service, const Ccip__ConsumerStatus **st)
{
    char err[512];
    Ccip__PingReply *p = NULL;
    *st = NULL;
    ccip_test_cmd cmd = {.service = service,
                         .type = "ccip.ping.v1",
                         .out = &ccip__ping_reply__descriptor,
                         .error = err,
                         .error_len = sizeof err};
    if (ccip_test_send_cmd(&s_svc, &cmd, (ProtobufCMessage **)&p) != 0 || !p)
        return NULL;
    for (size_t i = 0; i < p->n_consumers; i++)
        if (strcmp(p->consumers[i]->producer, "intake") == 0)
            *st = p->consumers[i];
    return p;
}

/* Waits until `service`'s consumer of intake shows stalled == want. */
static void s_wait_stalled(const char *service, int want, char *reason, size_t len)
{
    for (int waited = 0; waited <= WAIT_MS; waited += 200) {
        const Ccip__ConsumerStatus *st;
        Ccip__PingReply *p = s_ping(service, &st);
        int got = st && st->stalled;
        if (p && st && got == want) {
            if (reason)
                snprintf(reason, len, "%s", st->stalled_reason);
            protobuf_c_message_free_unpacked(&p->base, NULL);
            return;
        }
        if (p)
            protobuf_c_message_free_unpacked(&p->base, NULL);
        ccip_test_sleep_ms(200);
    }
    char what[200];
    snprintf(what, sizeof what, "%s's consumer of intake did not become %s", service,
             want ? "stopped" : "running again");
    s_fail_with_logs(what);
}

static int s_reset(const char *service, const char *role, const char *actor, const char *producer,
                   uint64_t to, int confirm, Ccip__ConsumerResetReply **out, char *err, size_t len)
{
    Ccip__ConsumerResetRequest rq = CCIP__CONSUMER_RESET_REQUEST__INIT;
    rq.producer = (char *)producer;
    rq.to_position = to;
    rq.confirm = confirm;
    ccip_test_cmd cmd = {.service = service,
                         .role = role,
                         .actor = actor,
                         .type = "ccip.consumer.reset.v1",
                         .msg = &rq.base,
                         .out = &ccip__consumer_reset_reply__descriptor,
                         .error = err,
                         .error_len = len};
    return ccip_test_send_cmd(&s_svc, &cmd, (ProtobufCMessage **)out);
}

/* ccipctl with the front door's key, its errors and output into out
 * (printed too). Returns its exit status. */
static int s_ctl(const char *args, char *out, size_t len)
{
    int rc = ccip_test_ctl(&s_svc, out, len, "%s 2>&1", args);
    printf("ccipctl %s: exit %d\n%s", args, rc, out);
    return rc;
}

/* How many of the applications acknowledged from ack `from` on (of type
 * `type`) `svc` holds a row for: `head` is a query ending in "IN (", the
 * list of their ids and ")" follow. */
static long long s_count_keys(size_t from, const char *type, const char *svc, const char *head)
{
    const rl_ack *acks;
    size_t n = rl_load_acks(s_load, &acks);
    char list[8192] = "", sql[9000];
    size_t len = 0;
    for (size_t i = from; i < n; i++)
        if (strcmp(acks[i].type, type) == 0)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s'%s'", len ? "," : "",
                                    acks[i].key);
    if (!len)
        return 0;
    snprintf(sql, sizeof sql, "%s%s)", head, list);
    return ccip_test_query_number(svc, sql);
}

static size_t s_count_type(size_t from, const char *type)
{
    const rl_ack *acks;
    size_t n = rl_load_acks(s_load, &acks), k = 0;
    for (size_t i = from; i < n; i++)
        k += strcmp(acks[i].type, type) == 0;
    return k;
}

static int s_setup(void **state)
{
    (void)state;
    if (rl_cluster_init(&s_cl, "guard", 0) < 0 || ccip_test_svc_init(&s_svc, "intake") < 0 ||
        rl_services_start(&s_svc) < 0)
        return -1;
    rl_mix mix = {.filings = 1, .accept = 1};
    s_load = rl_load_new(&s_svc, 1, mix);
    return s_load && rl_load_prepare(s_load, 60) == 0 ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    rl_load_destroy(&s_load);
    rl_services_stop(&s_svc);
    ccip_test_svc_stop(&s_svc);
    rl_cluster_do(&s_cl, "destroy");
    return 0;
}

static void test_producer_restored_alone(void **state)
{
    (void)state;
    /* Applications filed and accepted; both consumers caught up. */
    if (rl_load_run(s_load, 0, 6) < 6 || rl_wait_caught_up(WAIT_MS) < 0)
        s_fail_with_logs("the first load did not go through");
    long long k = s_num("intake", "SELECT head FROM outbox_state");
    if (rl_load_run(s_load, 0, 3) < 3 || rl_wait_caught_up(WAIT_MS) < 0)
        s_fail_with_logs("the second load did not go through");
    long long c = s_cursor("evaluation");
    assert_true(c > k);
    assert_int_equal(s_cursor("stats"), c);

    /* intake alone goes back to position k (its outbox moved back). */
    assert_int_equal(ccip_test_stop(&s_svc.env, s_pid("intake-1"), SIGTERM, 15000), 0);
    ccip_db *db = ccip_test_db_connect_in("intake", "intake");
    assert_non_null(db);
    char sql[200];
    snprintf(sql, sizeof sql,
             "DELETE FROM outbox WHERE position > %lld; UPDATE outbox_state SET head = %lld", k, k);
    assert_int_equal(ccip_db_command(db, sql), CCIP_DB_OK);
    ccip_db_destroy(&db);
    if (rl_services_start(&s_svc) < 0)
        s_fail_with_logs("intake did not start again");

    /* Both consumers stop, with the error, in their status and their row. */
    char reason[512], want[200];
    s_wait_stalled("evaluation", 1, reason, sizeof reason);
    snprintf(want, sizeof want, "ends at position %lld, below evaluation's cursor %lld", k, c);
    if (!strstr(reason, want))
        fail_msg("evaluation's stop says \"%s\", not \"%s\"", reason, want);
    s_wait_stalled("stats", 1, reason, sizeof reason);
    snprintf(want, sizeof want, "ends at position %lld, below stats's cursor %lld", k, c);
    if (!strstr(reason, want))
        fail_msg("stats's stop says \"%s\", not \"%s\"", reason, want);
    assert_int_equal(rl_sh("grep -F 'producer=intake cursor=%lld producer_head=%lld' "
                           "%s/evaluation-1.log | grep -F 'level=error' | grep -q -F "
                           "'ccipctl admin consumer reset evaluation intake --to N --confirm'",
                           c, k, s_svc.env.dir),
                     0);
    assert_int_equal(rl_sh("grep -F 'producer=intake cursor=%lld producer_head=%lld' "
                           "%s/stats-1.log | grep -q -F 'level=error'",
                           c, k, s_svc.env.dir),
                     0);
    assert_int_equal(s_num("evaluation", "SELECT count(*) FROM consumer_cursor WHERE producer = "
                                         "'intake' AND stalled_at IS NOT NULL"),
                     1);

    /* intake's new events reuse positions k+1 .. c and go beyond: applied
     * by neither, and a replica started now stays stopped too. */
    const rl_ack *acks;
    size_t before = rl_load_acks(s_load, &acks);
    if (rl_load_run(s_load, 0, 12) < 12)
        s_fail_with_logs("intake's new load did not go through");
    assert_true(s_num("intake", "SELECT head FROM outbox_state") >= c + 2);
    assert_int_equal(ccip_test_stop(&s_svc.env, s_pid("evaluation-1"), SIGTERM, 15000), 0);
    if (rl_services_start(&s_svc) < 0)
        s_fail_with_logs("evaluation did not start again");
    s_wait_stalled("evaluation", 1, NULL, 0);
    ccip_test_sleep_ms(2500); /* heartbeats, replays: time to apply, were anything applied */
    assert_int_equal(s_cursor("evaluation"), c);
    assert_int_equal(s_cursor("stats"), c);
    size_t accepts = s_count_type(before, "intake.application.accept.v1");
    size_t files = s_count_type(before, "intake.application.file.v1");
    assert_true(accepts >= 4 && files >= 6);
    assert_int_equal(s_count_keys(before, "intake.application.accept.v1", "evaluation",
                                  "SELECT count(*) FROM case_file WHERE application_id::text IN ("),
                     0);
    assert_int_equal(s_count_keys(before, "intake.application.file.v1", "stats",
                                  "SELECT count(*) FROM ev_application WHERE application_id IN ("),
                     0);

    /* Refusals change nothing. */
    char err[600];
    Ccip__ConsumerResetReply *r = NULL;
    assert_int_equal(
        s_reset("evaluation", "staff", "staff-li", "intake", (uint64_t)k, 1, &r, err, sizeof err),
        CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_reset("evaluation", ADMIN, "nosuch", (uint64_t)k, 1, &r, err, sizeof err),
                     CCIP__STATUS__INVALID_ARGUMENT);
    assert_non_null(strstr(err, "it consumes: intake"));
    assert_int_equal(s_reset("evaluation", ADMIN, "intake", (uint64_t)k, 0, &r, err, sizeof err),
                     CCIP__STATUS__FAILED_PRECONDITION);
    assert_non_null(strstr(err, "confirm"));
    char args[300], out[4096];
    snprintf(args, sizeof args,
             "--role admin --actor admin-zhou admin consumer reset stats intake --to %lld", k);
    assert_int_equal(s_ctl(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "refused"));
    assert_non_null(strstr(out, "add --confirm"));
    assert_int_equal(s_cursor("evaluation"), c);
    assert_int_equal(s_cursor("stats"), c);
    s_wait_stalled("stats", 1, NULL, 0);
    assert_int_equal(
        s_ctl("--role admin --actor admin-zhou admin consumer status stats", out, sizeof out), 0);
    snprintf(want, sizeof want, "cursor %-10lld producer head", c);
    if (!strstr(out, want) || !strstr(out, "STOPPED: intake's event stream ends at position"))
        fail_msg("ccipctl admin consumer status stats does not show the stop: %s", out);

    /* The reset: both go on from k and apply every new event once. */
    assert_int_equal(s_reset("evaluation", ADMIN, "intake", (uint64_t)k, 1, &r, err, sizeof err),
                     0);
    assert_true(r->from_position == (uint64_t)c && r->to_position == (uint64_t)k && r->was_stalled);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    snprintf(args, sizeof args,
             "--role admin --actor admin-zhou admin consumer reset stats intake --to %lld "
             "--confirm",
             k);
    assert_int_equal(s_ctl(args, out, sizeof out), 0);
    snprintf(want, sizeof want, "stats's cursor of intake moved from %lld to %lld; it had stopped",
             c, k);
    assert_non_null(strstr(out, want));
    s_wait_stalled("evaluation", 0, NULL, 0);
    s_wait_stalled("stats", 0, NULL, 0);
    if (rl_wait_caught_up(WAIT_MS) < 0)
        s_fail_with_logs("the consumers did not catch up after the reset");
    assert_int_equal(s_count_keys(before, "intake.application.accept.v1", "evaluation",
                                  "SELECT count(*) FROM case_file WHERE application_id::text IN ("),
                     (long long)accepts);
    assert_int_equal(s_count_keys(before, "intake.application.file.v1", "stats",
                                  "SELECT count(*) FROM ev_application WHERE application_id IN ("),
                     (long long)files);
    assert_true(ccip_test_log_contains(&s_svc, "evaluation-1", "an operator reset the cursor"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_producer_restored_alone),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
