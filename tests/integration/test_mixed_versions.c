/*
 * Mixed versions on the wire (issue 21 part 2, its rule "an event produced
 * by N with a new field passes through N-1 consumers and relays intact"):
 * the real bus, two replicas of probea and one of probeb (version N-1, built
 * from this tree) against real PostgreSQL, and version N played by this
 * test with probe_next.proto (probe.proto plus fields the probes do not
 * know) through the same library calls a replica of N would make:
 *
 *   - commands: a client of N sends probea.emit.v1 with a field the
 *     replicas do not know, interleaved with N-1's own commands; both
 *     replicas serve them and not one fails;
 *   - events: N appends probea.thing.happened.v1 events carrying three new
 *     fields (a string, a nested message, a sint64 numbered 20) to probea's
 *     outbox in the shared schema (ccip_outbox_append, what
 *     ccip_command_emit does). The relay of an N-1 replica numbers, chains
 *     and publishes them; the bus passes them on; a subscriber of N gets
 *     the payload byte for byte and reads every new field; the N-1 consumer
 *     probeb applies every one of them (it reads the fields it knows); and
 *     ccip.replay.v1 answered by an N-1 replica returns the same bytes.
 *
 * What this does not do (docs/SCALING.md, "Mixed versions"): run a build
 * of an earlier commit. Old and new here differ in their messages only,
 * not in their code; the schema's expand/contract across versions is
 * tested by test_ccip_migrate (oldest-compatible-code), not here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip_client.h"
#include "ccip_db.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_outbox.h"
#include "ccip_sock.h"
#include "ccip_test_db.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"
#include "probe.pb-c.h"
#include "probe_next.pb-c.h"

#define COMMANDS 200 /* half from N, half from N-1 */
#define EVENTS   50  /* events of N appended to the outbox */
#define FIRST_N                                                                                    \
    1000000000ULL /* their ThingHappened.n, far from the emitted rows', plus                       \
                     s_run (a run may meet an earlier one's rows) */
#define WAIT_MS     20000
#define ORIGIN      "version N"
#define EVENT_TYPE  "probea.thing.happened.v1"
#define HEARTBEAT   "probea.stream.heartbeat.v1"
#define PAYLOAD_MAX 512

static ccip_test_svc s_svc;
static uint64_t s_first; /* ThingHappened.n of this run's first event of N */
static char s_run[24];   /* this run's tag prefix */

/* The payload N writes for event i (0-based) into buf; returns its length. */
static size_t s_next_event(unsigned i, uint8_t *buf)
{
    static uint32_t codes[] = {7, 300, 70000};
    ProbeNext__Detail d = PROBE_NEXT__DETAIL__INIT;
    d.note = "a message the old version has never seen";
    d.codes = codes;
    d.n_codes = 3;
    ProbeNext__ThingHappened ev = PROBE_NEXT__THING_HAPPENED__INIT;
    ev.n = s_first + i;
    ev.tag = "next";
    ev.origin = ORIGIN;
    ev.detail = &d;
    ev.delta = -(int64_t)i - 1;
    assert_true(probe_next__thing_happened__get_packed_size(&ev) <= PAYLOAD_MAX);
    return probe_next__thing_happened__pack(&ev, buf);
}

/* Checks that payload (len bytes) is event i of N, every new field intact,
 * and the very bytes N wrote. */
static void s_check_next_event(const uint8_t *payload, size_t len)
{
    char err[256];
    ProbeNext__ThingHappened *ev = (ProbeNext__ThingHappened *)ccip_payload_unpack(
        &probe_next__thing_happened__descriptor, payload, len, PAYLOAD_MAX, err, sizeof err);
    if (!ev)
        fail_msg("an event of N does not decode as N's: %s", err);
    assert_true(ev->n >= s_first && ev->n < s_first + EVENTS);
    unsigned i = (unsigned)(ev->n - s_first);
    assert_string_equal(ev->origin, ORIGIN);
    assert_non_null(ev->detail);
    assert_string_equal(ev->detail->note, "a message the old version has never seen");
    assert_int_equal(ev->detail->n_codes, 3);
    assert_int_equal(ev->detail->codes[2], 70000);
    assert_int_equal(ev->delta, -(int64_t)i - 1);
    uint8_t want[PAYLOAD_MAX];
    size_t wlen = s_next_event(i, want);
    assert_int_equal(len, wlen);
    assert_memory_equal(payload, want, wlen);
    probe_next__thing_happened__free_unpacked(ev, NULL);
}

/* probea.emit.v1 of one event, as N (with `origin`, unknown to the
 * replicas) or as N-1; returns the reply's status or -1. */
static int s_emit(ccip_client *c, int next, unsigned i)
{
    uint8_t buf[128];
    char tag[64], id[CCIP_UUID_STRLEN + 1], err[256];
    snprintf(tag, sizeof tag, "%s-%s-%u", s_run, next ? "n" : "n-1", i);
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    ccip_uuid_v7(id);
    env.id = id;
    env.type = "probea.emit.v1";
    env.payload.data = buf;
    if (next) {
        ProbeNext__EmitRequest rq = PROBE_NEXT__EMIT_REQUEST__INIT;
        rq.count = 1;
        rq.tag = tag;
        rq.origin = ORIGIN;
        env.payload.len = probe_next__emit_request__pack(&rq, buf);
    } else {
        Probe__EmitRequest rq = PROBE__EMIT_REQUEST__INIT;
        rq.count = 1;
        rq.tag = tag;
        env.payload.len = probe__emit_request__pack(&rq, buf);
    }
    Ccip__Envelope *reply = ccip_client_call(c, "probea", &env, 10000, 3, err, sizeof err);
    if (!reply) {
        fprintf(stderr, "emit %s: %s\n", tag, err);
        return -1;
    }
    int st = reply->status;
    if (st != CCIP__STATUS__OK)
        fprintf(stderr, "emit %s: status %d: %s\n", tag, st, reply->error);
    ccip_envelope_free(&reply);
    return st;
}

static void test_new_fields_through_old_replicas(void **state)
{
    (void)state;
    static const ccip_test_svc_proc procs[] = {
        {"tests/integration/probe/probea", "probea", "probea-1"},
        {"tests/integration/probe/probea", "probea", "probea-2"},
        {"tests/integration/probe/probeb", "probeb", "probeb-1"},
        {NULL, NULL, NULL}};
    assert_int_equal(ccip_test_svc_start(&s_svc, "probea", procs), 0);

    /* Commands: N's and N-1's in turns, served by either replica. */
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    assert_non_null(c);
    int failed = 0;
    for (unsigned i = 0; i < COMMANDS; i++)
        failed += s_emit(c, (int)(i % 2), i) != CCIP__STATUS__OK;
    if (failed)
        ccip_test_fail(&s_svc, "commands of N with a field the replicas do not know failed");
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM emitted WHERE tag LIKE '%s-%%'", s_run);
    assert_int_equal(ccip_test_query_number("probea", sql), COMMANDS);
    ccip_client_destroy(&c);

    /* A subscriber of N, live before the events exist: it has seen a
     * heartbeat, so its subscription has reached the bus. */
    char err[300];
    ccip_sock_opts so = {.keys = &s_svc.env.admin_keys,
                         .server_public = s_svc.env.bus_keys.public_key};
    void *sub = ccip_sock_connect(s_svc.ctx, ZMQ_SUB, s_svc.env.subscribe, &so, err, sizeof err);
    assert_non_null(sub);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "probea.", 7);
    int heard = 0;
    for (int64_t until = ccip_now_us() + 5000000; !heard && ccip_now_us() < until;) {
        zmq_pollitem_t pi = {sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&pi, 1, 200) == 1) {
            char topic[64] = "", body[4096];
            int n = zmq_recv(sub, topic, sizeof topic - 1, 0);
            topic[n > 0 && n < 64 ? n : 0] = '\0';
            zmq_recv(sub, body, sizeof body, 0);
            heard = strcmp(topic, HEARTBEAT) == 0;
        }
    }
    assert_true(heard);

    /* Events of N, appended to the shared outbox as a replica of N does. */
    ccip_db *db = ccip_test_db_connect_in("probea", "probea");
    assert_non_null(db);
    for (unsigned i = 0; i < EVENTS; i++) {
        uint8_t payload[PAYLOAD_MAX];
        char id[24];
        snprintf(id, sizeof id, "next-%u", i);
        ccip_outbox_event ev = {.type = EVENT_TYPE,
                                .aggregate_type = "thing",
                                .aggregate_id = id,
                                .payload = payload,
                                .payload_len = s_next_event(i, payload),
                                .source_instance = "probea-next"};
        if (ccip_outbox_append(db, "probea", &ev, err, sizeof err) != CCIP_OUTBOX_OK)
            fail_msg("could not append an event of N: %s", err);
    }

    /* Published by an N-1 relay through the bus: every one, intact. */
    int got = 0;
    uint64_t first_position = 0;
    for (int64_t until = ccip_now_us() + WAIT_MS * 1000LL; got < EVENTS && ccip_now_us() < until;) {
        zmq_pollitem_t pi = {sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&pi, 1, 200) != 1)
            continue;
        zmq_msg_t parts[2];
        int np = ccip_sock_recv_parts(sub, parts, 2, 0);
        assert_int_equal(np, 2);
        if (zmq_msg_size(&parts[0]) == strlen(EVENT_TYPE) &&
            memcmp(zmq_msg_data(&parts[0]), EVENT_TYPE, strlen(EVENT_TYPE)) == 0) {
            Ccip__Envelope *env = ccip_envelope_unpack(
                zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]), 65536, err, sizeof err);
            assert_non_null(env);
            if (strcmp(env->source_instance, "probea-next") == 0) {
                s_check_next_event(env->payload.data, env->payload.len);
                assert_int_equal(env->hash.len, 32); /* chained by the old relay */
                if (!first_position || env->position < first_position)
                    first_position = env->position;
                got++;
            }
            ccip_envelope_free(&env);
        }
        zmq_msg_close(&parts[0]);
        zmq_msg_close(&parts[1]);
    }
    ccip_sock_close(&sub);
    if (got != EVENTS)
        ccip_test_fail(&s_svc, "a subscriber of N did not get every event of N from the bus");

    /* Applied by the N-1 consumer, each once, with the fields it knows. */
    snprintf(sql, sizeof sql,
             "SELECT count(DISTINCT position) FROM applied WHERE n BETWEEN %llu AND %llu",
             (unsigned long long)s_first, (unsigned long long)s_first + EVENTS - 1);
    if (ccip_test_wait_count("probeb", sql, EVENTS, WAIT_MS) != EVENTS)
        ccip_test_fail(&s_svc, "probeb (N-1) did not apply every event of N");
    snprintf(sql, sizeof sql, "SELECT count(*) FROM applied WHERE n BETWEEN %llu AND %llu",
             (unsigned long long)s_first, (unsigned long long)s_first + EVENTS - 1);
    assert_int_equal(ccip_test_query_number("probeb", sql), EVENTS);

    /* Replayed by an N-1 replica from the outbox: the same bytes. */
    ccip_client *admin = ccip_test_svc_client(&s_svc, &s_svc.env.admin_keys);
    assert_non_null(admin);
    Ccip__ReplayRequest rr = CCIP__REPLAY_REQUEST__INIT;
    rr.from_position = first_position;
    rr.max_events = EVENTS;
    uint8_t buf[32];
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = "ccip.replay.v1";
    env.payload.data = buf;
    env.payload.len = ccip__replay_request__pack(&rr, buf);
    Ccip__Envelope *reply = ccip_client_call(admin, "probea", &env, 10000, 3, err, sizeof err);
    if (!reply)
        fail_msg("replay: %s", err);
    assert_int_equal(reply->status, CCIP__STATUS__OK);
    Ccip__ReplayReply *batch = (Ccip__ReplayReply *)ccip_payload_unpack(
        &ccip__replay_reply__descriptor, reply->payload.data, reply->payload.len,
        reply->payload.len + 1, err, sizeof err);
    assert_non_null(batch);
    int replayed = 0;
    for (size_t i = 0; i < batch->n_events; i++)
        if (strcmp(batch->events[i]->source_instance, "probea-next") == 0) {
            s_check_next_event(batch->events[i]->payload.data, batch->events[i]->payload.len);
            replayed++;
        }
    assert_int_equal(replayed, EVENTS);
    ccip_test_free(batch);
    ccip_envelope_free(&reply);
    ccip_client_destroy(&admin);
    ccip_db_destroy(&db);
}

/* What a consumer that passes a payload on does when it decodes it first
 * (casefile's dossier: stored bytes, decoded with its own descriptor,
 * packed into its reply): the fields it does not know are packed again. */
static void test_old_decoder_packs_new_fields_again(void **state)
{
    (void)state;
    uint8_t next[PAYLOAD_MAX], again[PAYLOAD_MAX];
    size_t len = s_next_event(3, next);
    char err[256];
    Probe__ThingHappened *old = (Probe__ThingHappened *)ccip_payload_unpack(
        &probe__thing_happened__descriptor, next, len, PAYLOAD_MAX, err, sizeof err);
    assert_non_null(old);
    assert_int_equal(old->n, s_first + 3);
    assert_int_equal(old->base.n_unknown_fields, 3); /* origin, detail, delta */
    assert_int_equal(probe__thing_happened__get_packed_size(old), len);
    size_t n = probe__thing_happened__pack(old, again);
    probe__thing_happened__free_unpacked(old, NULL);
    s_check_next_event(again, n);
}

static int s_teardown(void **state)
{
    (void)state;
    ccip_test_svc_stop(&s_svc);
    return 0;
}

int main(void)
{
    s_first = FIRST_N + (uint64_t)(getpid() % 100000) * EVENTS;
    snprintf(s_run, sizeof s_run, "mv%ld", (long)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_decoder_packs_new_fields_again),
        cmocka_unit_test_teardown(test_new_fields_through_old_replicas, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
