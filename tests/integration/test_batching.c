/*
 * Group commit (ccip_service_batch) end to end: real bus, real probea, real
 * PostgreSQL. Many clients at once make probea run their commands in shared
 * transactions; the tests check that a batch behaves exactly like the same
 * commands run one by one (refusals and failures leave no trace, the rest
 * commit, conflicts inside a batch are seen) and that a replica SIGKILLed
 * in the middle of its batches loses no acknowledged command and applies
 * none twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"
#include "probe.pb-c.h"

#define CLIENTS    12 /* concurrent clients: more than the replica has connections */
#define KINDS      8  /* kinds of command in the mixed test */
#define PER_CLIENT 40 /* commands each in the mixed test: 5 of each kind */

static ccip_test_svc s_svc; /* the bus and probes of the running test */

static int s_setup(void **state)
{
    (void)state;
    if (ccip_test_svc_init(&s_svc, "probea") < 0)
        return -1;
    /* One connection, many slots: every command in hand meets the others
     * in a batch. */
    setenv("CCIP_WORKERS", "16", 1);
    setenv("CCIP_DB_CONNECTIONS", "1", 1);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    ccip_test_svc_stop(&s_svc);
    unsetenv("CCIP_WORKERS");
    unsetenv("CCIP_DB_CONNECTIONS");
    unsetenv("CCIP_BATCH_WAIT_US");
    return 0;
}

/* Sends one probea command; returns its status, or -1 when no reply came. */
static int s_call(ccip_client *c, const char *type, const char *id, const ProtobufCMessage *msg,
                  int timeout_ms, int attempts)
{
    uint8_t buf[256];
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = (char *)id;
    env.type = (char *)type;
    env.payload.data = buf;
    env.payload.len = protobuf_c_message_pack(msg, buf);
    char err[256];
    Ccip__Envelope *reply =
        ccip_client_call(c, "probea", &env, timeout_ms, attempts, err, sizeof err);
    if (!reply)
        return -1;
    int status = (int)reply->status;
    ccip_envelope_free(&reply);
    return status;
}

static int s_emit_count(ccip_client *c, const char *id, const char *tag, unsigned count)
{
    Probe__EmitRequest rq = PROBE__EMIT_REQUEST__INIT;
    rq.count = count;
    rq.tag = (char *)tag;
    return s_call(c, "probea.emit.v1", id, &rq.base, 10000, 1);
}

static int s_emit(ccip_client *c, const char *id, const char *tag, int timeout_ms, int attempts)
{
    Probe__EmitRequest rq = PROBE__EMIT_REQUEST__INIT;
    rq.count = 2;
    rq.tag = (char *)tag;
    return s_call(c, "probea.emit.v1", id, &rq.base, timeout_ms, attempts);
}

static int s_note(ccip_client *c, const char *id, const char *tag)
{
    Probe__NoteRequest rq = PROBE__NOTE_REQUEST__INIT;
    rq.tag = (char *)tag;
    return s_call(c, "probea.note.v1", id, &rq.base, 10000, 1);
}

static long long s_count(const char *sql)
{
    return ccip_test_query_number("probea", sql);
}

/* ---- a mixed load ----------------------------------------------------------- */

/* What the clients got back, by kind of command. */
static atomic_int s_emit_ok, s_emit_refused, s_emit_invalid, s_note_ok, s_note_taken,
    s_note_refused, s_note_failed, s_note_late, s_other;

static void *s_mixed_client(void *arg)
{
    long t = (long)arg;
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    for (int i = 0; c && i < PER_CLIENT; i++) {
        char id[CCIP_UUID_STRLEN + 1], tag[64];
        ccip_uuid_v7(id);
        int status;
        switch (i % KINDS) {
        case 0: /* writes, emits, succeeds */
            snprintf(tag, sizeof tag, "ok-%ld-%d", t, i);
            status = s_emit(c, id, tag, 10000, 1);
            atomic_fetch_add(status == 0 ? &s_emit_ok : &s_other, 1);
            break;
        case 1: /* writes, emits, then refuses: nothing may remain */
            snprintf(tag, sizeof tag, "refuse-%ld-%d", t, i);
            status = s_emit(c, id, tag, 10000, 1);
            atomic_fetch_add(
                status == CCIP__STATUS__FAILED_PRECONDITION ? &s_emit_refused : &s_other, 1);
            break;
        case 2: /* batch handler, accepted */
            snprintf(tag, sizeof tag, "note-%ld-%d", t, i);
            atomic_fetch_add(s_note(c, id, tag) == 0 ? &s_note_ok : &s_other, 1);
            break;
        case 3: /* batch handler, refused before writing */
            snprintf(tag, sizeof tag, "refuse-note-%ld-%d", t, i);
            status = s_note(c, id, tag);
            atomic_fetch_add(status == CCIP__STATUS__ALREADY_EXISTS ? &s_note_refused : &s_other,
                             1);
            break;
        case 4: /* batch handler, its row breaks a CHECK: only this one fails */
            snprintf(tag, sizeof tag, "fail-%ld-%d", t, i);
            status = s_note(c, id, tag);
            atomic_fetch_add(status == CCIP__STATUS__INTERNAL ? &s_note_failed : &s_other, 1);
            break;
        case 6: /* refused before it touches the database: nothing to undo */
            snprintf(tag, sizeof tag, "invalid-%ld-%d", t, i);
            status = s_emit_count(c, id, tag, 0);
            atomic_fetch_add(status == CCIP__STATUS__INVALID_ARGUMENT ? &s_emit_invalid : &s_other,
                             1);
            break;
        case 5: /* accepted, written, then refused by a deferred check at COMMIT: the
                 * batch runs again one command per transaction, only this one fails */
            snprintf(tag, sizeof tag, "late-fail-%ld-%d", t, i);
            status = s_note(c, id, tag);
            atomic_fetch_add(status == CCIP__STATUS__INTERNAL ? &s_note_late : &s_other, 1);
            break;
        default: /* every client notes the same tags: one wins each */
            snprintf(tag, sizeof tag, "shared-%d-%d", (int)getpid(), i);
            status = s_note(c, id, tag);
            atomic_fetch_add(status == 0                              ? &s_note_ok
                             : status == CCIP__STATUS__ALREADY_EXISTS ? &s_note_taken
                                                                      : &s_other,
                             1);
            break;
        }
    }
    ccip_client_destroy(&c);
    return NULL;
}

static void test_batches_behave_like_one_by_one(void **state)
{
    (void)state;
    assert_true(ccip_test_start_bus(&s_svc.env) > 0);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-1") > 0);
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    assert_int_equal(s_emit(c, id, "warm-up", 2000, 30), 0); /* waits for start-up */
    long long emitted0 = s_count("SELECT count(*) FROM emitted");
    long long outbox0 = s_count("SELECT count(*) FROM outbox");
    long long noted0 = s_count("SELECT count(*) FROM noted");
    long long log0 = s_count("SELECT count(*) FROM command_log");

    pthread_t th[CLIENTS];
    for (long t = 0; t < CLIENTS; t++)
        pthread_create(&th[t], NULL, s_mixed_client, (void *)t);
    for (int t = 0; t < CLIENTS; t++)
        pthread_join(th[t], NULL);

    int shared = PER_CLIENT / KINDS, per_kind = CLIENTS * shared;
    fprintf(stderr,
            "emit ok %d refused %d; note ok %d taken %d refused %d failed %d late %d; "
            "unexpected %d\n",
            s_emit_ok, s_emit_refused, s_note_ok, s_note_taken, s_note_refused, s_note_failed,
            s_note_late, s_other);
    assert_int_equal(s_other, 0);
    assert_int_equal(s_emit_ok, per_kind);
    assert_int_equal(s_emit_refused, per_kind);
    assert_int_equal(s_note_refused, per_kind);
    assert_int_equal(s_note_failed, per_kind);
    assert_int_equal(s_note_late, per_kind);
    assert_int_equal(s_emit_invalid, per_kind);
    /* Each shared tag won once, whichever batch its rivals met it in. */
    assert_int_equal(s_note_ok, per_kind + shared);
    assert_int_equal(s_note_taken, per_kind - shared);

    /* Exactly the accepted commands' rows and events, nothing of the others. */
    assert_int_equal(s_count("SELECT count(*) FROM emitted") - emitted0, 2LL * per_kind);
    assert_int_equal(s_count("SELECT count(*) FROM emitted WHERE tag LIKE 'refuse%' OR tag LIKE "
                             "'invalid%'"),
                     0);
    assert_int_equal(s_count("SELECT count(*) FROM noted") - noted0, per_kind + shared);
    assert_int_equal(s_count("SELECT count(*) FROM noted WHERE tag LIKE 'refuse%' OR tag LIKE "
                             "'fail%' OR tag LIKE 'late-fail%'"),
                     0);
    assert_int_equal(s_count("SELECT count(*) FROM outbox") - outbox0,
                     2LL * per_kind + per_kind + shared);
    /* Every accepted command has its stored reply; no refused one has. */
    assert_int_equal(s_count("SELECT count(*) FROM command_log") - log0,
                     per_kind + per_kind + shared);

    /* And the commands did share transactions. */
    unsigned long long commands = 0, batches = 0;
    assert_int_equal(ccip_test_ping_counts(&s_svc.env, "probea", &commands, &batches), 0);
    fprintf(stderr, "probea ran %llu commands in %llu batches\n", commands, batches);
    assert_true(commands >= (unsigned long long)(CLIENTS * PER_CLIENT));
    assert_true(batches < commands);
    ccip_client_destroy(&c);
}

/* ---- a replica killed mid-batch ----------------------------------------------- */

#define KILL_CLIENTS 8
#define KILL_EACH    60

static atomic_int s_acked, s_unanswered;

static void *s_retrying_client(void *arg)
{
    (void)arg;
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    for (int i = 0; c && i < KILL_EACH; i++) {
        char id[CCIP_UUID_STRLEN + 1], tag[80];
        ccip_uuid_v7(id);
        /* The tag names the command: one command, one pair of rows, however
         * often it is sent. Retries carry the same id. */
        snprintf(tag, sizeof tag, "kill-%d-%s", (int)getpid(), id);
        int status = s_emit(c, id, tag, 1500, 20);
        atomic_fetch_add(status == 0 ? &s_acked : &s_unanswered, 1);
    }
    ccip_client_destroy(&c);
    return NULL;
}

static void test_replica_killed_mid_batch_loses_nothing(void **state)
{
    (void)state;
    assert_true(ccip_test_start_bus(&s_svc.env) > 0);
    pid_t pid =
        ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea", "probea-1");
    assert_true(pid > 0);
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    assert_int_equal(s_emit(c, id, "warm-up", 2000, 30), 0);
    long long before = s_count("SELECT count(*) FROM emitted");

    pthread_t th[KILL_CLIENTS];
    for (long t = 0; t < KILL_CLIENTS; t++)
        pthread_create(&th[t], NULL, s_retrying_client, NULL);
    for (int round = 0; round < 2; round++) {
        ccip_test_sleep_ms(700);
        ccip_test_stop(&s_svc.env, pid, SIGKILL, 2000);
        ccip_test_sleep_ms(200);
        pid = ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                      "probea-1");
        assert_true(pid > 0);
    }
    for (int t = 0; t < KILL_CLIENTS; t++)
        pthread_join(th[t], NULL);

    fprintf(stderr, "acknowledged %d, unanswered %d\n", s_acked, s_unanswered);
    assert_int_equal(s_unanswered, 0);
    assert_int_equal(s_acked, KILL_CLIENTS * KILL_EACH);
    /* Every command exactly once: two rows each, no tag three or four times. */
    assert_int_equal(s_count("SELECT count(*) FROM emitted") - before,
                     2LL * KILL_CLIENTS * KILL_EACH);
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM (SELECT tag FROM emitted WHERE tag LIKE 'kill-%d-%%' GROUP BY "
             "tag HAVING count(*) <> 2) x",
             (int)getpid());
    assert_int_equal(s_count(sql), 0);
    snprintf(sql, sizeof sql, "SELECT count(DISTINCT tag) FROM emitted WHERE tag LIKE 'kill-%d-%%'",
             (int)getpid());
    assert_int_equal(s_count(sql), KILL_CLIENTS * KILL_EACH);
    ccip_client_destroy(&c);
}

/* ---- scheduled commands ------------------------------------------------------- */

/* Two replicas run probea.tick.v1 every second: one effect per second
 * between them, never two. */
static void test_scheduled_command_once_per_period(void **state)
{
    (void)state;
    setenv("CCIP_PROBEA_TICK_SECONDS", "1", 1);
    assert_true(ccip_test_start_bus(&s_svc.env) > 0);
    long long before = s_count("SELECT count(*) FROM emitted WHERE tag LIKE 'tick:%'");
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-1") > 0);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-2") > 0);
    unsetenv("CCIP_PROBEA_TICK_SECONDS");
    long long ticks = ccip_test_wait_count(
        "probea", "SELECT count(*) FROM emitted WHERE tag LIKE 'tick:%'", before + 4, 15000);
    assert_true(ticks >= before + 4);
    /* Both replicas ran every period, the command log let one through. */
    assert_int_equal(s_count("SELECT count(*) FROM (SELECT tag FROM emitted WHERE tag LIKE "
                             "'tick:%' GROUP BY tag HAVING count(*) > 1) x"),
                     0);
    assert_true(s_count("SELECT count(*) FROM command_log WHERE type = 'probea.tick.v1'") >= 4);
    /* Nobody else may run it. */
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    Probe__NoteRequest none = PROBE__NOTE_REQUEST__INIT;
    assert_int_equal(s_call(c, "probea.tick.v1", id, &none.base, 5000, 1),
                     CCIP__STATUS__PERMISSION_DENIED);
    ccip_client_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batches_behave_like_one_by_one, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_replica_killed_mid_batch_loses_nothing, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_scheduled_command_once_per_period, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
