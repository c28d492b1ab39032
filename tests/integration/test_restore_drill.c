/*
 * test_restore_drill: the restore drill of issue 24, as an operator would
 * run it, on a durable cluster of the test's own with WAL archiving to an
 * encrypted pgBackRest repository (scripts/backup, scripts/restore).
 *
 * test_drill_to_a_time:
 *   start everything (the bus and the five services); a mixed load
 *   (filings and acceptances to intake, which evaluation and stats consume,
 *   work registrations to ip, experts to evaluation, programmes to funding);
 *   a base backup, taken while more of the load is acknowledged; more load,
 *   all answered; T = the database's clock right after pg_switch_wal(); more
 *   load; stop everything and delete the data directory; restore to T;
 *   then: every command acknowledged before T is present exactly once
 *   (its stored reply and its effect), none sent after T is; every
 *   consumer's cursor is at or below its producer's head; start everything:
 *   the cursors catch up, the services serve, `ccipctl ip audit-chain`
 *   verifies the chain, and a stats rebuild from the streams equals the
 *   live figures.
 * test_backup_under_load_restores:
 *   a full backup taken while commands are acknowledged, restored alone
 *   (to the moment it became consistent, no later WAL): everything
 *   acknowledged before it started is there exactly once, nothing sent
 *   after it ended, and the same checks hold.
 *
 * Label slow: about 45 s on the 2-core machines here (a full suite runs it
 * beside the fuzz test, which takes longer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ccip/stats.pb-c.h"
#include "ccip_id.h"
#include "ccip_test_svc.h"
#include "restore_load.h"

#define CLIENTS  4
#define PHASE    120 /* commands per phase of the load */
#define WAIT_MS  60000
#define FLUSH_MS 30000

static rl_cluster s_cl;
static ccip_test_svc s_svc;
static rl_load *s_load;

/* Prints every log, stops everything and fails the test. */
static void s_fail_with_logs(const char *what)
{
    ccip_test_fail(&s_svc, what);
}

static void s_phase(const char *what)
{
    long n = rl_load_run(s_load, 0, PHASE);
    if (n < PHASE) {
        char msg[200];
        snprintf(msg, sizeof msg, "the load (%s) did not go through: %ld", what, n);
        s_fail_with_logs(msg);
    }
}

/* Stops everything, deletes the data directory, restores to target (NULL:
 * the end of the latest backup). */
static void s_lose_and_restore(const char *target)
{
    if (rl_archive_flush(&s_cl, FLUSH_MS) < 0)
        s_fail_with_logs("WAL was not archived");
    if (rl_services_stop(&s_svc) < 0)
        s_fail_with_logs("the services did not stop cleanly");
    assert_int_equal(rl_cluster_do(&s_cl, "wipe"), 0);
    if (target)
        assert_int_equal(rl_restore(&s_cl, target), 0);
    else
        assert_int_equal(rl_sh("'%s/scripts/restore' --end-of-backup --pg-dir '%s' "
                               "--backup-dir '%s'",
                               getenv("CCIP_SOURCE_DIR"), s_cl.dir, s_cl.backup),
                         0);
}

/* What must hold of a restored deployment once it runs again. */
static void s_restored_serves(void)
{
    int n = 0;
    assert_int_equal(rl_cursors_above_heads(&n), 0);
    assert_true(n >= 6); /* evaluation <- intake, stats <- four, funding <- two, ... */
    if (rl_services_start(&s_svc) < 0)
        s_fail_with_logs("the services did not start on the restored cluster");
    if (rl_wait_caught_up(WAIT_MS) < 0)
        s_fail_with_logs("the consumers did not catch up after the restore");
    /* The services serve: new commands of every kind are acknowledged. */
    if (rl_load_run(s_load, 0, 24) < 24)
        s_fail_with_logs("the restored services do not serve");
    if (rl_wait_caught_up(WAIT_MS) < 0)
        s_fail_with_logs("the consumers did not catch up with the new load");
    /* The registration chain verifies, every hash and link recomputed. */
    char out[4096];
    int rc = ccip_test_ctl(&s_svc, out, sizeof out,
                           "--role staff --actor staff:li ip audit-chain --key %s/ip-signing.pub",
                           s_svc.env.dir);
    printf("%s", out);
    assert_int_equal(rc, 0);
    /* stats rebuilt from the producers' streams equals what it had live. */
    Ccip__Stats__RebuildRequest rq = CCIP__STATS__REBUILD_REQUEST__INIT;
    ccip_test_cmd cmd = {.service = "stats",
                         .role = "admin",
                         .actor = "admin-zhou",
                         .type = "stats.projections.rebuild.v1",
                         .msg = &rq.base,
                         .out = &ccip__stats__rebuild_reply__descriptor};
    Ccip__Stats__RebuildReply *rb = (Ccip__Stats__RebuildReply *)ccip_test_ok_cmd(&s_svc, &cmd);
    assert_string_equal(rb->checksum_before, rb->checksum_after);
    ccip_test_free(rb);
}

static int s_setup(void **state)
{
    (void)state;
    if (rl_cluster_init(&s_cl, "drill", 1) < 0 || ccip_test_svc_init(&s_svc, "intake") < 0)
        return -1;
    /* WAL archiving from the start (the first backup turns it on). */
    if (rl_backup(&s_cl, "full") < 0 || rl_services_start(&s_svc) < 0)
        return -1;
    rl_mix mix = {.filings = 4, .accept = 1, .works = 2, .experts = 1, .programmes = 1};
    s_load = rl_load_new(&s_svc, CLIENTS, mix);
    return s_load && rl_load_prepare(s_load, 6000) == 0 ? 0 : -1;
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

static void test_drill_to_a_time(void **state)
{
    (void)state;
    s_phase("before the base backup");
    /* The base backup, taken while more commands are acknowledged. */
    if (rl_load_start(s_load, 0, PHASE) < 0)
        s_fail_with_logs("could not start the load");
    int backed_up = rl_backup(&s_cl, "full");
    if (rl_load_join(s_load) < PHASE || backed_up < 0)
        s_fail_with_logs("the load during the base backup, or the backup, failed");
    s_phase("after the base backup");
    char target[64];
    int64_t t = rl_switch_wal_and_time(&s_cl, target, sizeof target);
    assert_true(t > 0);
    ccip_test_sleep_ms(1100); /* nothing after this commits at T */
    s_phase("after T");

    s_lose_and_restore(target);
    rl_check c;
    assert_int_equal(rl_load_check(s_load, t, &c), 0);
    printf("drill: restored to %s: %ld acknowledged before (%ld missing), %ld sent after (%ld "
           "present), %ld in flight\n",
           target, c.acked_before, c.missing_before, c.sent_after, c.present_after, c.in_flight);
    assert_true(c.acked_before >= 3 * PHASE);
    assert_int_equal(c.missing_before, 0);
    assert_true(c.sent_after >= PHASE);
    assert_int_equal(c.present_after, 0);
    assert_int_equal(c.in_flight, 0);
    rl_load_forget_after(s_load, t);
    s_restored_serves();
}

static void test_backup_under_load_restores(void **state)
{
    (void)state;
    s_phase("before the backup");
    int64_t started = ccip_now_us();
    if (rl_load_start(s_load, 0, 0) < 0)
        s_fail_with_logs("could not start the load");
    /* The backup starts and ends while commands are answered. */
    ccip_test_sleep_ms(300);
    int64_t backup_from = ccip_now_us();
    int backed_up = rl_backup(&s_cl, "full");
    int64_t backup_to = ccip_now_us();
    ccip_test_sleep_ms(1000);
    rl_load_stop(s_load);
    if (rl_load_join(s_load) < PHASE || backed_up < 0)
        s_fail_with_logs("the load during the backup, or the backup, failed");
    assert_true(backup_from > started);

    s_lose_and_restore(NULL);
    rl_check before, after;
    assert_int_equal(rl_load_check(s_load, backup_from, &before), 0);
    assert_int_equal(rl_load_check(s_load, backup_to, &after), 0);
    printf("backup under load: %ld acknowledged before it started (%ld missing), %ld sent after "
           "it ended (%ld present)\n",
           before.acked_before, before.missing_before, after.sent_after, after.present_after);
    assert_int_equal(before.missing_before, 0);
    assert_int_equal(after.present_after, 0);
    assert_true(after.sent_after > 0); /* the load went on after the backup */
    s_restored_serves();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drill_to_a_time),
        cmocka_unit_test(test_backup_under_load_restores),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
