/*
 * Tamper-evident events (issue 19, item 3) with the real bus, the probe
 * services (probea produces, probeb consumes it) and PostgreSQL: someone
 * with the producer's database role alters one byte of one stored event,
 * deletes one, or swaps two, and
 *   - `ccipctl audit verify probea` reports it, naming the producer and the
 *     position, and exits 1 (0 once repaired);
 *   - a consumer meeting such an event stops with an error, applies nothing
 *     after it (live events included), and goes on by itself once the
 *     outbox is repaired, every event applied once;
 * and events are kept for good (item 5): past the retention they move to
 * the outbox's archive, from which a new consumer still replays them all.
 * The real ip runs beside them: its scheduled ip.anchor.run.v1 registers
 * probea's head as a work of kind AUDIT_ANCHOR, and a chain rewritten end
 * to end with valid hashes, which the chain alone cannot tell, is caught
 * by `ccipctl audit verify` holding it against that anchor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test_proc.h"
#include "ccip/bus.pb-c.h"
#include "ccip_test_svc.h"
#include "probe.pb-c.h"

#define WAIT_MS 20000

static ccip_test_svc s_svc; /* the bus, probea, probeb, ip */
static char s_out[65536];

static long long s_a(const char *sql)
{
    return ccip_test_query_number("probea", sql);
}

static long long s_head(void)
{
    return s_a("SELECT head FROM outbox_state");
}

static long long s_cursor(void)
{
    return ccip_test_query_number("probeb",
                                  "SELECT position FROM consumer_cursor WHERE producer = 'probea'");
}

/* probea emits n events in one command; waits until they are numbered. */
static long long s_emit(unsigned n)
{
    long long head = s_head();
    Probe__EmitRequest rq = PROBE__EMIT_REQUEST__INIT;
    rq.count = n;
    rq.tag = "audit";
    ccip_test_cmd c = {.service = "probea", .type = "probea.emit.v1", .msg = &rq.base};
    ccip_test_free(ccip_test_ok_cmd(&s_svc, &c));
    if (ccip_test_wait_count("probea", "SELECT head FROM outbox_state", head + n, WAIT_MS) <
        head + n)
        ccip_test_fail(&s_svc, "probea's relay did not number the events");
    return head + n;
}

/* `ccipctl [global] audit verify probea [flags]`: returns the exit code,
 * output in s_out. */
static int s_verify_with(const char *global, const char *flags)
{
    return ccip_test_ctl_as(&s_svc, "allowed/operator.key", s_out, sizeof s_out,
                            "%s audit verify probea %s 2>&1", global, flags);
}

static int s_verify(const char *global)
{
    return s_verify_with(global, "");
}

/* Every way verify runs must give the same verdict: next to the data in
 * one request, in requests of 5 events (each carrying the hash before it,
 * so that a break at a request's first event is found too), and through
 * replay with the hashing here. */
static const char *const S_WAYS[] = {"", "--batch 5", "--batch 1", "--via-replay", NULL};

/* The pid of child `name`, or 0. */
static pid_t s_pid(const char *name)
{
    for (int i = 0; i < CCIP_TEST_MAX_PROCS; i++)
        if (s_svc.env.children[i].pid && strcmp(s_svc.env.children[i].name, name) == 0)
            return s_svc.env.children[i].pid;
    return 0;
}

/* Starts ip as `instance` with its anchor schedule every `seconds` (0:
 * off), anchoring probea alone; waits until it answers. */
static int s_start_ip(const char *instance, const char *seconds)
{
    setenv("CCIP_IP_ANCHOR_SECONDS", seconds, 1);
    setenv("CCIP_IP_ANCHOR_PRODUCERS", "probea", 1);
    int rc = ccip_test_start_service(&s_svc.env, "services/ip/ip", "ip", instance) > 0 &&
                     ccip_test_svc_wait(&s_svc, "ip") == 0
                 ? 0
                 : -1;
    unsetenv("CCIP_IP_ANCHOR_SECONDS");
    unsetenv("CCIP_IP_ANCHOR_PRODUCERS");
    return rc;
}

static void s_expect_broken(long long position, const char *why)
{
    char want[80];
    snprintf(want, sizeof want, "probea: BROKEN at position %lld:", position);
    int code;
    for (const char *const *w = S_WAYS; *w; w++)
        if ((code = s_verify_with("", *w)) != 1 || !strstr(s_out, want) || !strstr(s_out, why)) {
            char what[1200];
            snprintf(what, sizeof what,
                     "audit verify %s: exit %d, expected 1 with \"%s\" and \"%s\": %.800s", *w,
                     code, want, why, s_out);
            ccip_test_fail(&s_svc, what);
        }
    code = s_verify("--json");
    snprintf(want, sizeof want, "\"broken_at\":%lld", position);
    assert_int_equal(code, 1);
    assert_non_null(strstr(s_out, "\"producer\":\"probea\""));
    assert_non_null(strstr(s_out, "\"intact\":false"));
    assert_non_null(strstr(s_out, want));
}

static void s_expect_intact(long long head)
{
    char want[80];
    snprintf(want, sizeof want, "probea: intact, positions 1..%lld,", head);
    for (const char *const *w = S_WAYS; *w; w++) {
        int code = s_verify_with("", *w);
        if (code != 0 || !strstr(s_out, want)) {
            char what[1200];
            snprintf(what, sizeof what, "audit verify %s: exit %d, expected 0 with \"%s\": %.800s",
                     *w, code, want, s_out);
            ccip_test_fail(&s_svc, what);
        }
    }
}

/* Flips the lowest bit of the first payload byte of event `position`:
 * twice restores it. */
static void s_flip(long long position)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "WITH u AS (UPDATE outbox SET payload = set_byte(payload, 0, get_byte(payload, 0) "
             "# 1) WHERE position = %lld RETURNING 1) SELECT count(*) FROM u",
             position);
    assert_int_equal(s_a(sql), 1);
}

/* Empties a probe's schema (its role owns everything in it), so that the
 * service migrates it afresh and its stream starts at position 1: other
 * suites of the run (test_messaging) delete events from the probes'
 * streams on purpose, and this suite reads them from position 1. */
static int s_fresh_schema(const char *svc)
{
    return ccip_test_query_number(
               svc,
               "DO $$ DECLARE r record; BEGIN "
               "FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
               "LOOP EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', r.tablename); END LOOP; "
               "FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p "
               "WHERE p.pronamespace = current_schema()::regnamespace "
               "LOOP EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', r.f); END LOOP; "
               "END $$; SELECT 1") == 1
               ? 0
               : -1;
}

static int s_setup(void **state)
{
    (void)state;
    if (s_fresh_schema("probea") < 0 || s_fresh_schema("probeb") < 0)
        return -1;
    static const ccip_test_svc_proc procs[] = {
        {"tests/integration/probe/probea", "probea", "probea-1"},
        {"tests/integration/probe/probeb", "probeb", "probeb-1"},
        {NULL, NULL, NULL}};
    if (ccip_test_svc_start(&s_svc, "probea", procs) < 0)
        return -1;
    /* ip's signing key, as an operator makes it */
    char cmd[1200], key[600];
    snprintf(cmd, sizeof cmd, "%s/cli/ccipctl ip keygen ip-signing --dir %s >/dev/null",
             getenv("CCIP_BINARY_DIR"), s_svc.env.dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(key, sizeof key, "%s/ip-signing.key", s_svc.env.dir);
    setenv("CCIP_IP_SIGNING_KEY_FILE", key, 1);
    return s_start_ip("ip-1", "0");
}

static int s_teardown(void **state)
{
    (void)state;
    ccip_test_svc_stop(&s_svc);
    /* what this suite did to the probes' streams (tampering, an archive)
     * is not left to the next suite */
    s_fresh_schema("probea");
    s_fresh_schema("probeb");
    return 0;
}

/* An altered byte, a deleted event and two swapped events are each named
 * by producer and position; the repaired chain verifies again. */
static void test_verify_names_the_damage(void **state)
{
    (void)state;
    long long head = s_emit(12);
    s_expect_intact(head);
    long long k = head - 5;

    /* one byte of one event */
    s_flip(k);
    s_expect_broken(k, "the event was altered");
    s_flip(k);
    s_expect_intact(head);

    /* one event deleted (and put back as it was) */
    char sql[600];
    snprintf(sql, sizeof sql,
             "CREATE TABLE audit_saved AS SELECT * FROM outbox WHERE position = %lld; "
             "DELETE FROM outbox WHERE position = %lld; SELECT count(*) FROM audit_saved",
             k, k);
    assert_int_equal(s_a(sql), 1);
    s_expect_broken(k, "is missing");
    long long rows = s_a("SELECT count(*) FROM outbox");
    assert_int_equal(s_a("INSERT INTO outbox SELECT * FROM audit_saved; DROP TABLE audit_saved; "
                         "SELECT count(*) FROM outbox"),
                     rows + 1);
    s_expect_intact(head);

    /* two events swapped */
    snprintf(sql, sizeof sql,
             "UPDATE outbox SET position = -position WHERE position IN (%lld, %lld); "
             "UPDATE outbox SET position = CASE position WHEN %lld THEN %lld ELSE %lld END "
             "WHERE position < 0; SELECT count(*) FROM outbox WHERE position IN (%lld, %lld)",
             k, k + 1, -k, k + 1, k, k, k + 1);
    assert_int_equal(s_a(sql), 2);
    s_expect_broken(k, "");
    assert_int_equal(s_a(sql), 2); /* the same swap again puts them back */
    s_expect_intact(head);

    /* one event altered and its own hash made valid again: the next
     * event's link gives it away (also when the two are in different
     * requests: --batch 1) */
    snprintf(
        sql, sizeof sql,
        "CREATE TABLE audit_saved AS SELECT seq, payload, hash FROM outbox WHERE position = "
        "%lld; UPDATE outbox o SET payload = set_byte(payload, 0, get_byte(payload, 0) # 1) "
        "WHERE position = %lld; UPDATE outbox o SET hash = ccip_event_chain_hash(o.prev_hash, o)"
        " WHERE position = %lld; SELECT count(*) FROM audit_saved",
        k, k, k);
    assert_int_equal(s_a(sql), 1);
    s_expect_broken(k + 1, "is not the hash");
    assert_int_equal(s_a("UPDATE outbox o SET payload = a.payload, hash = a.hash FROM audit_saved a"
                         " WHERE o.seq = a.seq; DROP TABLE audit_saved; SELECT 1"),
                     1);
    s_expect_intact(head);
}

/* ccip.audit.verify.v1 answers admin keys only, and a malformed request
 * gets an error naming the field, verifying nothing. */
static void test_verify_refuses(void **state)
{
    (void)state;
    s_emit(2);
    /* a service key (probeb consumes probea: it may replay, not verify) */
    int code = ccip_test_ctl_as(&s_svc, "allowed/probeb.key", s_out, sizeof s_out,
                                "audit verify probea --no-anchors 2>&1");
    if (code != 1 || !strstr(s_out, "PERMISSION_DENIED") || !strstr(s_out, "admin keys"))
        ccip_test_fail(&s_svc, "a service key was not refused by ccip.audit.verify.v1");
    ccip_client *admin = ccip_test_svc_client(&s_svc, &s_svc.env.admin_keys);
    assert_non_null(admin);
    static const struct {
        uint64_t from, to;
        size_t prev_len;
        const char *field;
    } bad[] = {
        {0, 0, 0, "from_position"},
        {5, 2, 32, "to_position"},
        {3, 0, 0, "expected_prev"},
        {1, 0, 31, "expected_prev"},
    };
    uint8_t prev[32] = {0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Ccip__AuditVerifyRequest rq = CCIP__AUDIT_VERIFY_REQUEST__INIT;
        rq.from_position = bad[i].from;
        rq.to_position = bad[i].to;
        rq.expected_prev.data = prev;
        rq.expected_prev.len = bad[i].prev_len;
        char err[600];
        ccip_test_cmd c = {.via = admin,
                           .service = "probea",
                           .type = "ccip.audit.verify.v1",
                           .msg = &rq.base,
                           .error = err,
                           .error_len = sizeof err};
        int st = ccip_test_call_cmd(&c, NULL);
        if (st != CCIP__STATUS__INVALID_ARGUMENT || !strstr(err, bad[i].field)) {
            char what[900];
            snprintf(what, sizeof what, "bad verify request %zu: status %d, error %s", i, st, err);
            ccip_client_destroy(&admin);
            ccip_test_fail(&s_svc, what);
        }
    }
    ccip_client_destroy(&admin);
}

/* A consumer stops at a tampered event, applies nothing after it (the
 * live events that follow included), says so in its log, and goes on by
 * itself once the outbox is repaired: every event applied once. */
static void test_consumer_stops_at_a_break(void **state)
{
    (void)state;
    long long head = s_emit(1);
    if (ccip_test_wait_count("probeb",
                             "SELECT position FROM consumer_cursor WHERE producer = 'probea'", head,
                             WAIT_MS) < head)
        ccip_test_fail(&s_svc, "probeb did not catch up");
    pid_t pid = 0;
    for (int i = 0; i < CCIP_TEST_MAX_PROCS; i++)
        if (strcmp(s_svc.env.children[i].name, "probeb-1") == 0)
            pid = s_svc.env.children[i].pid;
    assert_int_equal(ccip_test_stop(&s_svc.env, pid, SIGTERM, 10000), 0);

    long long first = head + 1;
    head = s_emit(5);
    s_flip(first + 1); /* the second new event */
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probeb", "probeb",
                                        "probeb-2") > 0);
    if (ccip_test_wait_count("probeb",
                             "SELECT position FROM consumer_cursor WHERE producer = 'probea'",
                             first, WAIT_MS) < first)
        ccip_test_fail(&s_svc, "probeb did not apply the event before the break");
    head = s_emit(2); /* live events after the break */
    ccip_test_sleep_ms(2500);
    assert_int_equal(s_cursor(), first);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM applied WHERE position > %lld", first);
    assert_int_equal(ccip_test_query_number("probeb", sql), 0);
    int logged = 0;
    for (int i = 0; i < 50 && !logged; i++, ccip_test_sleep_ms(100))
        logged = ccip_test_log_contains(&s_svc, "probeb-2", "event chain is broken") &&
                 ccip_test_log_contains(&s_svc, "probeb-2", "the event was altered");
    if (!logged)
        ccip_test_fail(&s_svc, "probeb did not log the break");

    s_flip(first + 1); /* repaired */
    if (ccip_test_wait_count("probeb",
                             "SELECT position FROM consumer_cursor WHERE producer = 'probea'", head,
                             WAIT_MS) < head)
        ccip_test_fail(&s_svc, "probeb did not go on once the outbox was repaired");
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM (SELECT position FROM applied WHERE position >= %lld "
             "GROUP BY position HAVING count(*) = 1) x",
             first);
    assert_int_equal(ccip_test_query_number("probeb", sql), head - first + 1);
    assert_true(ccip_test_log_contains(&s_svc, "probeb-2", "event chain holds again"));
    s_expect_intact(head);
}

/* Rewrites probea's whole chain with valid hashes: flips a bit of the
 * first event's payload, then sets every prev_hash and hash again in
 * position order (ccip_event_chain_hash, common/sql/0005_event_chain.sql)
 * and the head's hash, as someone holding probea's database could. The
 * rows as they were are kept in table audit_original. */
static void s_rewrite(void)
{
    assert_int_equal(
        s_a("CREATE TABLE audit_original AS SELECT seq, payload, prev_hash, hash FROM outbox; "
            "CREATE TABLE audit_original_head AS SELECT head_hash FROM outbox_state; "
            "DO $$ DECLARE prev bytea := decode(repeat('00', 32), 'hex'); r outbox; BEGIN "
            "UPDATE outbox SET payload = set_byte(payload, 0, get_byte(payload, 0) # 1) "
            "WHERE position = 1; "
            "FOR r IN SELECT * FROM outbox WHERE position IS NOT NULL ORDER BY position LOOP "
            "UPDATE outbox SET prev_hash = prev, hash = ccip_event_chain_hash(prev, r) "
            "WHERE seq = r.seq RETURNING hash INTO prev; END LOOP; "
            "UPDATE outbox_state SET head_hash = prev; END $$; SELECT 1"),
        1);
}

/* Puts back what s_rewrite changed. */
static void s_restore(void)
{
    assert_int_equal(
        s_a("UPDATE outbox o SET payload = a.payload, prev_hash = a.prev_hash, hash = a.hash "
            "FROM audit_original a WHERE o.seq = a.seq; "
            "UPDATE outbox_state SET head_hash = (SELECT head_hash FROM audit_original_head); "
            "DROP TABLE audit_original; DROP TABLE audit_original_head; SELECT 1"),
        1);
}

/* A chain rewritten end to end with valid hashes verifies by itself; ip's
 * scheduled anchor of probea's head (a work of kind AUDIT_ANCHOR in the
 * registration chain, with a signed receipt) catches it at the anchored
 * position. */
static void test_anchor_catches_a_rewritten_chain(void **state)
{
    (void)state;
    long long head = s_emit(3);
    /* ip again, its schedule every second: it anchors probea's head */
    assert_int_equal(ccip_test_stop(&s_svc.env, s_pid("ip-1"), SIGTERM, 10000), 0);
    assert_int_equal(s_start_ip("ip-2", "1"), 0);
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM anchor a JOIN work w ON w.id = a.work_id "
             "JOIN chain c ON c.work_id = a.work_id WHERE a.producer = 'probea' "
             "AND a.position = %lld AND w.kind = 'AUDIT_ANCHOR' AND length(c.signature) = 64",
             head);
    if (ccip_test_wait_count("ip", sql, 1, WAIT_MS) < 1)
        ccip_test_fail(&s_svc, "ip did not anchor probea's head");
    assert_true(ccip_test_log_contains(&s_svc, "ip-2", "anchored an event chain"));
    /* no more anchors: what follows is about the one made */
    assert_int_equal(ccip_test_stop(&s_svc.env, s_pid("ip-2"), SIGTERM, 10000), 0);
    assert_int_equal(s_start_ip("ip-3", "0"), 0);
    s_expect_intact(head);
    assert_null(strstr(s_out, " 0 anchors hold"));
    assert_non_null(strstr(s_out, "anchors hold"));

    s_rewrite();
    /* the chain alone holds: every link and hash agrees */
    int code = ccip_test_ctl_as(&s_svc, "allowed/operator.key", s_out, sizeof s_out,
                                "audit verify probea --no-anchors 2>&1");
    if (code != 0 || !strstr(s_out, "intact") || !strstr(s_out, "anchors not checked"))
        ccip_test_fail(&s_svc, "the rewritten chain does not verify by itself");
    /* the anchor does not */
    s_expect_broken(head, "the chain was rewritten");

    s_restore();
    s_expect_intact(head);
}

/* Events kept for good: with a retention of one hour and the clock two
 * hours on, the relay moves every published event to the archive; a new
 * consumer starting from position 1 still receives every event once, in
 * order, and the chain verifies across archive and outbox. */
static void test_new_consumer_after_retention(void **state)
{
    (void)state;
    s_emit(4);
    assert_int_equal(ccip_test_stop(&s_svc.env, s_pid("probea-1"), SIGTERM, 10000), 0);
    pid_t b = s_pid("probeb-2") ? s_pid("probeb-2") : s_pid("probeb-1");
    assert_int_equal(ccip_test_stop(&s_svc.env, b, SIGTERM, 10000), 0);
    /* the clock two hours on, for every event published so far */
    long long head = s_head();
    assert_int_equal(
        s_a("WITH u AS (UPDATE outbox SET created_at = created_at - interval "
            "'2 hours' WHERE position IS NOT NULL RETURNING 1) SELECT count(*) FROM u"),
        head);
    setenv("CCIP_OUTBOX_RETENTION_HOURS", "1", 1);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probea", "probea",
                                        "probea-2") > 0);
    unsetenv("CCIP_OUTBOX_RETENTION_HOURS");
    assert_int_equal(ccip_test_svc_wait(&s_svc, "probea"), 0);
    /* the new leader archives at once */
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM outbox_archive WHERE position <= %lld", head);
    if (ccip_test_wait_count("probea", sql, head, WAIT_MS) < head)
        ccip_test_fail(&s_svc, "the relay did not archive the events past the retention");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM outbox WHERE position <= %lld", head);
    assert_int_equal(s_a(sql), 0);
    assert_true(ccip_test_log_contains(&s_svc, "probea-2", "relay archived published events"));
    head = s_emit(3); /* and some that stay in the outbox */

    /* a new consumer: nothing applied, from position 1 */
    assert_int_equal(
        ccip_test_query_number("probeb", "WITH d AS (DELETE FROM applied RETURNING 1), "
                                         "c AS (UPDATE consumer_cursor SET position = 0 WHERE "
                                         "producer = 'probea' RETURNING 1) SELECT count(*) FROM c"),
        1);
    assert_true(ccip_test_start_service(&s_svc.env, "tests/integration/probe/probeb", "probeb",
                                        "probeb-3") > 0);
    if (ccip_test_wait_count("probeb",
                             "SELECT position FROM consumer_cursor WHERE producer = 'probea'", head,
                             WAIT_MS) < head)
        ccip_test_fail(&s_svc, "the new consumer did not catch up from position 1");
    ccip_test_sleep_ms(300);
    /* every event once, in order */
    assert_int_equal(ccip_test_query_number("probeb", "SELECT count(*) FROM applied"), head);
    assert_int_equal(
        ccip_test_query_number("probeb", "SELECT count(DISTINCT position) FROM applied"), head);
    assert_int_equal(ccip_test_query_number("probeb", "SELECT min(position) FROM applied"), 1);
    assert_int_equal(ccip_test_query_number(
                         "probeb", "SELECT count(*) FROM (SELECT position, lag(position) OVER "
                                   "(ORDER BY applied_at_us, position) AS prev FROM applied) x "
                                   "WHERE prev IS NOT NULL AND position <> prev + 1"),
                     0);
    s_expect_intact(head);
}

/* Flips the lowest bit of the byte `from_end` bytes before the end of path. */
static void s_flip_file_byte(const char *path, long from_end)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, -from_end, SEEK_END), 0);
    int ch = fgetc(f);
    assert_int_equal(fseek(f, -from_end, SEEK_END), 0);
    fputc(ch ^ 1, f);
    assert_int_equal(fclose(f), 0);
}

/* The stream exported for cold storage (archive and outbox), the archive
 * lost, and the export imported again: the chain is checked on the way
 * out and on the way in, a tampered export is refused whole, and the
 * stream verifies again. */
static void test_archive_export_import(void **state)
{
    (void)state;
    long long head = s_head();
    long long archived = s_a("SELECT count(*) FROM outbox_archive");
    assert_true(archived > 0 && archived < head);
    char file[700], bad[720], cmd[1600], want[200];
    snprintf(file, sizeof file, "%s/probea.export", s_svc.env.dir);
    snprintf(bad, sizeof bad, "%s/probea-bad.export", s_svc.env.dir);
    int code = ccip_test_ctl_as(&s_svc, "allowed/operator.key", s_out, sizeof s_out,
                                "audit export probea %s 2>&1", file);
    snprintf(want, sizeof want, "probea: exported positions 1..%lld to", head);
    if (code != 0 || !strstr(s_out, want))
        ccip_test_fail(&s_svc, s_out);
    /* a tampered copy: one byte of its last event's hash (the last field) */
    snprintf(cmd, sizeof cmd, "cp %s %s", file, bad);
    assert_int_equal(system(cmd), 0);
    s_flip_file_byte(bad, 2);

    /* the archive lost: the stream no longer verifies */
    snprintf(want, sizeof want,
             "WITH d AS (DELETE FROM outbox_archive RETURNING 1) "
             "SELECT count(*) FROM d");
    assert_int_equal(s_a(want), archived);
    assert_int_not_equal(s_verify(""), 0);

    /* the tampered export: refused, nothing imported */
    code = ccip_test_ctl_as(&s_svc, "allowed/operator.key", s_out, sizeof s_out,
                            "audit import %s 2>&1", bad);
    snprintf(want, sizeof want, "BROKEN at position %lld:", head);
    if (code != 1 || !strstr(s_out, want) || !strstr(s_out, "the event was altered"))
        ccip_test_fail(&s_svc, s_out);
    assert_int_equal(s_a("SELECT count(*) FROM outbox_archive"), 0);

    /* the export: the archive back, the stream whole again */
    code = ccip_test_ctl_as(&s_svc, "allowed/operator.key", s_out, sizeof s_out,
                            "audit import %s 2>&1", file);
    snprintf(want, sizeof want, "probea: imported %lld events into the archive (%lld were there",
             archived, head - archived);
    if (code != 0 || !strstr(s_out, want))
        ccip_test_fail(&s_svc, s_out);
    assert_int_equal(s_a("SELECT count(*) FROM outbox_archive"), archived);
    s_expect_intact(head);
    /* again: nothing to do */
    code = ccip_test_ctl_as(&s_svc, "allowed/operator.key", s_out, sizeof s_out,
                            "audit import %s 2>&1", file);
    snprintf(want, sizeof want, "probea: imported 0 events into the archive (%lld were there",
             head);
    if (code != 0 || !strstr(s_out, want))
        ccip_test_fail(&s_svc, s_out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_names_the_damage),
        cmocka_unit_test(test_verify_refuses),
        cmocka_unit_test(test_consumer_stops_at_a_break),
        cmocka_unit_test(test_anchor_catches_a_rewritten_chain),
        cmocka_unit_test(test_new_consumer_after_retention),
        cmocka_unit_test(test_archive_export_import),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
