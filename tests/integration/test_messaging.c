/*
 * The messaging backbone end to end: real bus, real probe services, real
 * PostgreSQL, real CURVE sockets. Processes are killed with SIGKILL where
 * the claim is "nothing is lost".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"
#include "probe.pb-c.h"

#define APPLIED_ROWS     "SELECT count(*) FROM applied"
#define APPLIED_DISTINCT "SELECT count(DISTINCT position) FROM applied"

static ccip_test_svc s_svc; /* the bus and probes of the running test */

static int s_setup(void **state)
{
    (void)state;
    return ccip_test_svc_init(&s_svc, "probea");
}

static int s_teardown(void **state)
{
    (void)state;
    ccip_test_svc_stop(&s_svc);
    return 0;
}

/* Sends probea.emit.v1 {count} with command id `id`; returns the status, or
 * -1 when no reply came. */
static int s_emit(ccip_client *c, const char *id, unsigned count, int timeout_ms, int attempts)
{
    Probe__EmitRequest rq = PROBE__EMIT_REQUEST__INIT;
    rq.count = count;
    rq.tag = "t";
    uint8_t buf[64];
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = (char *)id;
    env.type = "probea.emit.v1";
    env.payload.data = buf;
    env.payload.len = probe__emit_request__pack(&rq, buf);
    char err[256];
    Ccip__Envelope *reply =
        ccip_client_call(c, "probea", &env, timeout_ms, attempts, err, sizeof err);
    if (!reply) {
        fprintf(stderr, "emit %s: %s\n", id, err);
        return -1;
    }
    int status = (int)reply->status;
    if (status != 0)
        fprintf(stderr, "emit %s: %s: %s\n", id, ccip_status_name(reply->status), reply->error);
    ccip_envelope_free(&reply);
    return status;
}

/* A client with an unknown key is refused; a client with a known key is
 * served; an allowed service key cannot claim a person's role. */
static void test_keys_decide_who_is_served(void **state)
{
    (void)state;
    assert_true(ccip_test_start_bus(&s_svc.env) > 0);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-1") > 0);
    ccip_client *known = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    Ccip__Envelope ping = CCIP__ENVELOPE__INIT;
    ping.id = id;
    ping.type = "ccip.ping.v1";
    char err[256];
    Ccip__Envelope *r = ccip_client_call(known, "probea", &ping, 2000, 10, err, sizeof err);
    if (!r)
        ccip_test_fail(&s_svc, err);
    assert_int_equal(r->status, CCIP__STATUS__OK);
    /* The envelope claimed nothing; the service saw a service key. */
    assert_string_equal(r->actor_role, "service");
    assert_string_equal(r->actor_id, "service:tester");
    ccip_envelope_free(&r);

    ccip_client *stranger = ccip_test_svc_client(&s_svc, &s_svc.env.stranger_keys);
    ccip_uuid_v7(id);
    r = ccip_client_call(stranger, "probea", &ping, 500, 2, err, sizeof err);
    assert_null(r);
    assert_non_null(strstr(err, "no reply"));
    ccip_client_destroy(&stranger);

    /* A service key claiming to be staff is still only a service... */
    ccip_uuid_v7(id);
    ping.actor_id = "mallory";
    ping.actor_role = "admin";
    r = ccip_client_call(known, "probea", &ping, 2000, 3, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(r->actor_role, "service");
    ccip_envelope_free(&r);
    ccip_client_destroy(&known);
    /* ...while the front door's claim is trusted. */
    ccip_client *front = ccip_test_svc_client(&s_svc, &s_svc.env.front_keys);
    ccip_uuid_v7(id);
    ping.actor_id = "staff-7";
    ping.actor_role = "staff";
    r = ccip_client_call(front, "probea", &ping, 2000, 3, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(r->actor_role, "staff");
    assert_string_equal(r->actor_id, "staff-7");
    ccip_envelope_free(&r);
    ccip_client_destroy(&front);
}

/* Unknown command types and bad payloads get a clear answer and the
 * service keeps serving. */
static void test_bad_commands_answered(void **state)
{
    (void)state;
    assert_true(ccip_test_start_bus(&s_svc.env) > 0);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-1") > 0);
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    char id[CCIP_UUID_STRLEN + 1], err[256];
    ccip_uuid_v7(id);
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = "probea.nonsense.v1";
    Ccip__Envelope *r = ccip_client_call(c, "probea", &env, 2000, 10, err, sizeof err);
    if (!r)
        ccip_test_fail(&s_svc, err);
    assert_int_equal(r->status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_non_null(strstr(r->error, "unknown command type probea.nonsense.v1"));
    ccip_envelope_free(&r);

    ccip_uuid_v7(id);
    env.type = "probea.emit.v1";
    uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
    env.payload.data = junk;
    env.payload.len = sizeof junk;
    r = ccip_client_call(c, "probea", &env, 2000, 3, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__INVALID_ARGUMENT);
    ccip_envelope_free(&r);

    assert_int_equal(s_emit(c, "00000000-0000-7000-8000-00000000bad0", 0, 2000, 3),
                     CCIP__STATUS__INVALID_ARGUMENT);
    /* Still serving, and nothing was written by the refused commands. */
    long long before = ccip_test_query_number("probea", "SELECT count(*) FROM emitted");
    ccip_uuid_v7(id);
    assert_int_equal(s_emit(c, id, 1, 2000, 3), 0);
    assert_int_equal(ccip_test_query_number("probea", "SELECT count(*) FROM emitted"), before + 1);
    ccip_client_destroy(&c);
}

/* The broker is killed and restarted while a client sends commands with
 * retries: every command has exactly one effect. */
static void test_broker_restart_exactly_once(void **state)
{
    (void)state;
    pid_t bus = ccip_test_start_bus(&s_svc.env);
    assert_true(bus > 0);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-1") > 0);
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    long long before = ccip_test_query_number("probea", "SELECT count(*) FROM emitted");
    const int commands = 60;
    char tag[64];
    for (int i = 0; i < commands; i++) {
        if (i == 20 || i == 40) {
            assert_true(ccip_test_stop(&s_svc.env, bus, SIGKILL, 2000) >= 0);
            bus = ccip_test_start_bus(&s_svc.env);
            assert_true(bus > 0);
        }
        char id[CCIP_UUID_STRLEN + 1];
        ccip_uuid_v7(id);
        snprintf(tag, sizeof tag, "command %d", i);
        if (s_emit(c, id, 1, 1000, 20) != 0)
            ccip_test_fail(&s_svc, tag);
        /* The same command again: the stored reply, no second effect. */
        if (i % 10 == 0 && s_emit(c, id, 1, 1000, 20) != 0)
            ccip_test_fail(&s_svc, tag);
    }
    assert_int_equal(ccip_test_query_number("probea", "SELECT count(*) FROM emitted"),
                     before + commands);
    ccip_client_destroy(&c);
}

/* Emits total events in commands of `batch`. */
static void s_emit_many(ccip_client *c, int total, int batch)
{
    for (int done = 0; done < total; done += batch) {
        char id[CCIP_UUID_STRLEN + 1];
        ccip_uuid_v7(id);
        if (s_emit(c, id, (unsigned)batch, 5000, 10) != 0)
            ccip_test_fail(&s_svc, "emit failed");
    }
}

/* A consumer killed with SIGKILL in the middle of 10,000 events, then
 * restarted, ends with every event applied exactly once. */
static void test_consumer_killed_mid_stream(void **state)
{
    (void)state;
    assert_true(ccip_test_start_bus(&s_svc.env) > 0);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-1") > 0);
    long long head0 = ccip_test_query_number("probea", "SELECT head FROM outbox_state");
    pid_t b =
        ccip_test_start_service(&s_svc.env, "tests/integration/probe/probeb", "probeb", "probeb-1");
    assert_true(b > 0);
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    /* The stream: 4,000 events, the kill while they are being applied, then
     * 6,000 more while the consumer is dead. */
    s_emit_many(c, 4000, 500);
    long long want = head0 + 10000;
    long long seen = ccip_test_wait_count("probeb", APPLIED_ROWS, head0 + 1000, 30000);
    assert_true(seen >= head0 + 1000);
    assert_true(ccip_test_stop(&s_svc.env, b, SIGKILL, 2000) >= 0);
    s_emit_many(c, 6000, 500);
    long long at_kill = ccip_test_query_number("probeb", APPLIED_ROWS);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probeb", "probeb",
                                        "probeb-2") > 0);
    long long got = ccip_test_wait_count("probeb", APPLIED_ROWS, want, 60000);
    if (got != want)
        ccip_test_fail(&s_svc, "consumer did not catch up");
    ccip_test_sleep_ms(500);
    assert_int_equal(ccip_test_query_number("probeb", APPLIED_ROWS), want);
    assert_int_equal(ccip_test_query_number("probeb", APPLIED_DISTINCT), want);
    assert_int_equal(ccip_test_query_number("probeb", "SELECT position FROM consumer_cursor "
                                                      "WHERE producer = 'probea'"),
                     want);
    fprintf(stderr, "killed the consumer at %lld of %lld applied; it ended with %lld\n", at_kill,
            want, got);
    ccip_client_destroy(&c);
}

/* A subscriber started after 5,000 events were published catches up. */
static void test_late_subscriber_catches_up(void **state)
{
    (void)state;
    assert_true(ccip_test_start_bus(&s_svc.env) > 0);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-1") > 0);
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    s_emit_many(c, 5000, 500);
    long long head = ccip_test_wait_count("probea",
                                          "SELECT head FROM outbox_state WHERE NOT EXISTS "
                                          "(SELECT 1 FROM outbox WHERE position IS NULL)",
                                          1, 10000);
    assert_true(head >= 5000);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probeb", "probeb",
                                        "probeb-1") > 0);
    long long got = ccip_test_wait_count("probeb", APPLIED_ROWS, head, 60000);
    if (got != head)
        ccip_test_fail(&s_svc, "late subscriber did not catch up");
    assert_int_equal(ccip_test_query_number("probeb", APPLIED_DISTINCT), head);
    ccip_client_destroy(&c);
}

/* An operator moves a running consumer's cursor back (to rebuild what the
 * events feed): the consumer follows it and applies those events again. */
static void test_consumer_follows_cursor_moved_back(void **state)
{
    (void)state;
    assert_true(ccip_test_start_bus(&s_svc.env) > 0);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-1") > 0);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probeb", "probeb",
                                        "probeb-1") > 0);
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    s_emit_many(c, 200, 100);
    long long head = ccip_test_wait_count("probea",
                                          "SELECT head FROM outbox_state WHERE NOT EXISTS "
                                          "(SELECT 1 FROM outbox WHERE position IS NULL)",
                                          200, 10000);
    assert_true(head >= 200);
    assert_int_equal(ccip_test_wait_count(
                         "probeb", "SELECT position FROM consumer_cursor WHERE producer = 'probea'",
                         head, 30000),
                     head);
    /* Rewind by 50 and forget what those 50 did, in one transaction. */
    char sql[300];
    snprintf(sql, sizeof sql,
             "WITH d AS (DELETE FROM applied WHERE position > %lld RETURNING 1), u AS (UPDATE "
             "consumer_cursor SET position = %lld WHERE producer = 'probea' RETURNING 1) SELECT "
             "count(*) FROM d",
             head - 50, head - 50);
    assert_true(ccip_test_query_number("probeb", sql) >= 50);
    /* One more event: the consumer finds the cursor behind it and replays. */
    s_emit_many(c, 1, 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM applied WHERE position > %lld", head - 50);
    long long got = ccip_test_wait_count("probeb", sql, 51, 20000);
    if (got < 51)
        ccip_test_fail(&s_svc, "the consumer did not follow its cursor back");
    assert_int_equal(ccip_test_query_number("probeb", APPLIED_ROWS),
                     ccip_test_query_number("probeb", APPLIED_DISTINCT));
    ccip_client_destroy(&c);
}

/* The relay's leader is killed mid-publish; the other replica takes over:
 * no gap, no duplicate effect. */
static void test_relay_failover(void **state)
{
    (void)state;
    assert_true(ccip_test_start_bus(&s_svc.env) > 0);
    pid_t a1 =
        ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea", "probea-1");
    assert_true(a1 > 0);
    /* probea-1 takes the relay lock first. */
    ccip_test_sleep_ms(1500);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-2") > 0);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probeb", "probeb",
                                        "probeb-1") > 0);
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    long long head0 = ccip_test_query_number("probea", "SELECT head FROM outbox_state");
    s_emit_many(c, 2000, 500);
    assert_true(ccip_test_stop(&s_svc.env, a1, SIGKILL, 2000) >= 0);
    s_emit_many(c, 2000, 500);
    long long want = head0 + 4000;
    long long got = ccip_test_wait_count("probeb", APPLIED_ROWS, want, 60000);
    if (got != want)
        ccip_test_fail(&s_svc, "events lost after relay failover");
    ccip_test_sleep_ms(300);
    assert_int_equal(ccip_test_query_number("probeb", APPLIED_ROWS), want);
    assert_int_equal(ccip_test_query_number("probeb", APPLIED_DISTINCT), want);
    /* Positions are gap-free: 1..head, each once. */
    assert_int_equal(ccip_test_query_number("probea", "SELECT count(DISTINCT position) FROM "
                                                      "outbox WHERE position IS NOT NULL"),
                     ccip_test_query_number("probea", "SELECT max(position) - min(position) + 1 "
                                                      "FROM outbox"));
    ccip_client_destroy(&c);
}

/* SIGTERM: the service finishes, leaves and exits 0 within a few seconds. */
static void test_sigterm_clean_exit(void **state)
{
    (void)state;
    assert_true(ccip_test_start_bus(&s_svc.env) > 0);
    pid_t a =
        ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea", "probea-1");
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    assert_int_equal(s_emit(c, id, 1, 2000, 10), 0);
    assert_int_equal(ccip_test_stop(&s_svc.env, a, SIGTERM, 5000), 0);
    ccip_client_destroy(&c);
}

/* A consumer that needs events the producer no longer retains gets a clear
 * error and stops: nothing is skipped silently. Retention is simulated by
 * deleting the oldest events as ccip_outbox_prune would. */
static void test_consumer_behind_retention_stops_loudly(void **state)
{
    (void)state;
    assert_true(ccip_test_start_bus(&s_svc.env) > 0);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-1") > 0);
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    s_emit_many(c, 20, 20);
    ccip_client_destroy(&c);
    assert_true(ccip_test_wait_count("probea",
                                     "SELECT count(*) FROM outbox_state WHERE NOT EXISTS "
                                     "(SELECT 1 FROM outbox WHERE position IS NULL)",
                                     1, 10000) == 1);
    /* Delete what probeb has already applied (so that it is whole again
     * once its cursor is put back), then rewind probeb to before it. */
    long long cursor = ccip_test_query_number(
        "probeb", "SELECT position FROM consumer_cursor WHERE producer = 'probea'");
    assert_true(cursor > 1);
    char sql[300];
    snprintf(sql, sizeof sql,
             "WITH d AS (DELETE FROM outbox WHERE position <= %lld RETURNING 1) "
             "UPDATE outbox_state SET oldest = %lld RETURNING oldest",
             cursor, cursor + 1);
    assert_int_equal(ccip_test_query_number("probea", sql), cursor + 1);
    long long rows = ccip_test_query_number("probeb", APPLIED_ROWS);
    assert_int_equal(ccip_test_query_number("probeb",
                                            "WITH u AS (UPDATE consumer_cursor SET position = 0 "
                                            "WHERE producer = 'probea' RETURNING 1) "
                                            "SELECT count(*) FROM u"),
                     1);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probeb", "probeb",
                                        "probeb-1") > 0);
    int found = 0;
    for (int i = 0; i < 100 && !found; i++) {
        ccip_test_sleep_ms(100);
        found = ccip_test_log_contains(&s_svc, "probeb-1", "no longer retained");
    }
    if (!found)
        ccip_test_fail(&s_svc, "the consumer did not report events lost to retention");
    assert_true(ccip_test_log_contains(&s_svc, "probeb-1", "level=error"));
    /* Nothing applied past the hole, and the cursor did not move. */
    assert_int_equal(ccip_test_query_number("probeb", APPLIED_ROWS), rows);
    assert_int_equal(
        ccip_test_query_number("probeb",
                               "SELECT position FROM consumer_cursor WHERE producer = 'probea'"),
        0);
    /* Put the cursor back so a later run on the same database starts clean. */
    snprintf(sql, sizeof sql,
             "WITH u AS (UPDATE consumer_cursor SET position = %lld WHERE producer = 'probea' "
             "RETURNING 1) SELECT count(*) FROM u",
             cursor);
    ccip_test_query_number("probeb", sql);
}

/* Stored replies older than commands.retention_hours are deleted. */
static void test_old_stored_replies_pruned(void **state)
{
    (void)state;
    assert_true(ccip_test_start_bus(&s_svc.env) > 0);
    pid_t a =
        ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea", "probea-1");
    assert_true(a > 0);
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    assert_int_equal(s_emit(c, id, 1, 2000, 10), 0);
    ccip_client_destroy(&c);
    assert_int_equal(ccip_test_stop(&s_svc.env, a, SIGTERM, 5000), 0);
    assert_int_equal(ccip_test_query_number("probea",
                                            "WITH o AS (INSERT INTO command_log (command_id, type, "
                                            "reply, created_at) VALUES ('old-command', 'x', '', "
                                            "now() - interval '200 hours') RETURNING 1) "
                                            "SELECT count(*) FROM o"),
                     1);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-2") > 0);
    assert_int_equal(ccip_test_wait_count("probea",
                                          "SELECT 1 - count(*) FROM command_log "
                                          "WHERE command_id = 'old-command'",
                                          1, 10000),
                     1);
    /* A recent one stays: it may still be retried. */
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM command_log WHERE command_id = '%s'", id);
    assert_int_equal(ccip_test_query_number("probea", sql), 1);
}

/* Two replicas register with the bus; commands are spread over both. */
static void test_replicas_share_load(void **state)
{
    (void)state;
    assert_true(ccip_test_start_bus(&s_svc.env) > 0);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-1") > 0);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-2") > 0);
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    int seen1 = 0, seen2 = 0;
    char err[256];
    /* Give both replicas time to register before counting. */
    ccip_test_sleep_ms(1500);
    for (int i = 0; i < 40; i++) {
        char id[CCIP_UUID_STRLEN + 1];
        ccip_uuid_v7(id);
        Ccip__Envelope ping = CCIP__ENVELOPE__INIT;
        ping.id = id;
        ping.type = "ccip.ping.v1";
        Ccip__Envelope *r = ccip_client_call(c, "probea", &ping, 2000, 5, err, sizeof err);
        if (!r)
            ccip_test_fail(&s_svc, err);
        seen1 += strcmp(r->source_instance, "probea-1") == 0;
        seen2 += strcmp(r->source_instance, "probea-2") == 0;
        ccip_envelope_free(&r);
    }
    fprintf(stderr, "probea-1 answered %d, probea-2 answered %d of 40\n", seen1, seen2);
    assert_int_equal(seen1 + seen2, 40);
    assert_true(seen1 >= 10);
    assert_true(seen2 >= 10);
    ccip_client_destroy(&c);
}

typedef struct {
    const char *id;
    int status;
} s_racer;

static void *s_race(void *arg)
{
    s_racer *r = arg;
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    r->status = s_emit(c, r->id, 3000, 10000, 3);
    ccip_client_destroy(&c);
    return NULL;
}

/* The same command id sent twice at once (a client retrying while its first
 * attempt still runs on another worker): one effect, and both get the reply. */
static void test_same_command_twice_at_once(void **state)
{
    (void)state;
    assert_true(ccip_test_start_bus(&s_svc.env) > 0);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-1") > 0);
    ccip_test_sleep_ms(1000);
    long long before = ccip_test_query_number("probea", "SELECT count(*) FROM emitted");
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    s_racer a = {id, -1}, b = {id, -1};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, s_race, &a);
    pthread_create(&tb, NULL, s_race, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.status, 0);
    assert_int_equal(b.status, 0);
    assert_int_equal(ccip_test_query_number("probea", "SELECT count(*) FROM emitted"),
                     before + 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keys_decide_who_is_served, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_commands_answered, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_replicas_share_load, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_same_command_twice_at_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_clean_exit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_old_stored_replies_pruned, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_broker_restart_exactly_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_late_subscriber_catches_up, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_consumer_killed_mid_stream, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_relay_failover, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_consumer_follows_cursor_moved_back, s_setup,
                                        s_teardown),
        /* Last: it leaves probea's oldest events deleted. */
        cmocka_unit_test_setup_teardown(test_consumer_behind_retention_stops_loudly, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
