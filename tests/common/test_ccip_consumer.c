/* ccip_consumer against a real PostgreSQL and a producer played by the
 * test on real sockets over inproc (label integration): a PUB the consumer
 * subscribes to, and a ROUTER answering ccip.replay.v1 as the broker
 * forwards it to a producer's replica. A new consumer catches up by replay
 * before it applies live events; every event is applied exactly once, in
 * position order, also when delivered twice, when live events are lost
 * (a gap, a heartbeat with a head beyond the cursor) and when two replicas
 * consume the same stream; a handler that refuses an event stops the
 * stream there until it accepts; a producer that no longer retains the
 * events needed stops the consumer, loudly, without skipping any; so does
 * a producer whose head (in a heartbeat or a replay) went below the cursor
 * (restored alone to an earlier point), until an operator's reset, after
 * which nothing of its new stream is skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip_consumer.h"
#include "ccip_envelope.h"
#include "ccip_log.h"
#include "ccip_mdp.h"
#include "ccip_sock.h"

#include "ccip_test_db.h"
#include "ccip_test_proc.h"
#include "ccip_test_zmq.h"

#define PRODUCER "gadget"
#define LIVE     "inproc://test-consumer-live"
#define BROKER   "inproc://test-consumer-broker"
#define MADE     "gadget.thing.made.v1"
#define STICKY   "gadget.thing.sticky.v1" /* refused by its handler twice, then applied */
#define WAIT_MS  10000

typedef struct {
    ccip_test_ccip_schema s; /* throwaway schema: consumer_cursor and `applied` */
    void *ctx;               /* one ZeroMQ context for both sides */
    void *pub;               /* the producer's live stream (the test's thread) */
    void *router;            /* the producer's replay service (its own thread) */
    pthread_t thread;        /* answers replay requests */
    atomic_int stop;         /* ends the thread */
    atomic_ullong head;      /* the producer's stream is positions 1..head */
    atomic_ullong oldest;    /* first position still retained */
    atomic_int sticky_at;    /* the position of type STICKY (0: none) */
    atomic_int replays;      /* replay requests answered */
} s_fixture;

static atomic_int s_sticky_refusals;

/* ---- the producer ------------------------------------------------------------ */

/* Event p of the producer's stream, packed. */
static int s_event(s_fixture *f, uint64_t p, uint8_t **buf, size_t *len)
{
    char id[40], payload[24];
    snprintf(id, sizeof id, "0190c6d8-0000-7000-8000-%012llu", (unsigned long long)p);
    int n = snprintf(payload, sizeof payload, "p%llu", (unsigned long long)p);
    Ccip__Envelope ev = CCIP__ENVELOPE__INIT;
    ev.id = id;
    ev.type = (int)p == atomic_load(&f->sticky_at) ? STICKY : MADE;
    ev.source_service = PRODUCER;
    ev.position = p;
    ev.payload.data = (uint8_t *)payload;
    ev.payload.len = (size_t)n;
    return ccip_envelope_pack_buf(&ev, buf, len);
}

/* Answers one replay request: the events from from_position, up to
 * max_events, and the head; FAILED_PRECONDITION below the oldest kept. */
static void s_answer(s_fixture *f, const ccip_test_msg *m)
{
    char err[256];
    Ccip__Envelope *req = ccip_envelope_unpack(m->data[3], m->len[3], 1 << 20, err, sizeof err);
    Ccip__ReplayRequest *rq = req ? (Ccip__ReplayRequest *)ccip_payload_unpack(
                                        &ccip__replay_request__descriptor, req->payload.data,
                                        req->payload.len, 1024, err, sizeof err)
                                  : NULL;
    if (!rq) {
        ccip_envelope_free(&req);
        return;
    }
    uint64_t head = atomic_load(&f->head), oldest = atomic_load(&f->oldest);
    Ccip__Envelope reply;
    ccip_envelope_reply_init(&reply, req, CCIP__STATUS__OK, NULL);
    Ccip__ReplayReply rr = CCIP__REPLAY_REPLY__INIT;
    Ccip__Envelope *events[64] = {0};
    if (rq->from_position < oldest) {
        reply.status = CCIP__STATUS__FAILED_PRECONDITION;
        reply.error = "positions before the oldest retained are deleted";
    } else {
        uint32_t max = rq->max_events && rq->max_events < 64 ? rq->max_events : 64;
        for (uint64_t p = rq->from_position; p <= head && rr.n_events < max; p++) {
            uint8_t *buf = NULL;
            size_t len = 0;
            if (s_event(f, p, &buf, &len) < 0)
                break;
            events[rr.n_events++] = ccip_envelope_unpack(buf, len, 1 << 20, err, sizeof err);
            free(buf);
        }
        rr.events = events;
        rr.head = head;
        rr.oldest = oldest;
    }
    uint8_t payload[16384];
    if (reply.status == CCIP__STATUS__OK) {
        reply.payload.data = payload;
        reply.payload.len = ccip__replay_reply__pack(&rr, payload);
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ccip_envelope_pack_buf(&reply, &buf, &len) == 0) {
        const void *data[] = {m->data[0], CCIP_MDP_CLIENT, PRODUCER, buf};
        size_t lens[] = {m->len[0], strlen(CCIP_MDP_CLIENT), strlen(PRODUCER), len};
        ccip_sock_send_frames(f->router, data, lens, 4, 0);
        atomic_fetch_add(&f->replays, 1);
    }
    free(buf);
    for (size_t i = 0; i < rr.n_events; i++)
        ccip_envelope_free(&events[i]);
    protobuf_c_message_free_unpacked(&rq->base, NULL);
    ccip_envelope_free(&req);
}

static void *s_producer(void *arg)
{
    s_fixture *f = arg;
    while (!atomic_load(&f->stop)) {
        ccip_test_msg m;
        if (ccip_test_msg_recv(f->router, 50, &m) < 0)
            continue;
        if (m.count == 4 && ccip_test_frame_is(&m, 1, CCIP_MDP_CLIENT) &&
            ccip_test_frame_is(&m, 2, PRODUCER))
            s_answer(f, &m);
        ccip_test_msg_free(&m);
    }
    return NULL;
}

/* Publishes event p live, as the relay does: [type][envelope]. */
static void s_publish(s_fixture *f, uint64_t p)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(s_event(f, p, &buf, &len), 0);
    const char *type = (int)p == atomic_load(&f->sticky_at) ? STICKY : MADE;
    const void *data[] = {type, buf};
    size_t lens[] = {strlen(type), len};
    assert_int_equal(ccip_sock_send_frames(f->pub, data, lens, 2, 0), 0);
    free(buf);
}

/* Publishes the relay's heartbeat with head h. */
static void s_heartbeat(s_fixture *f, uint64_t h)
{
    Ccip__Envelope hb = CCIP__ENVELOPE__INIT;
    hb.id = "";
    hb.type = PRODUCER ".stream.heartbeat.v1";
    hb.source_service = PRODUCER;
    hb.position = h;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(ccip_envelope_pack_buf(&hb, &buf, &len), 0);
    const void *data[] = {hb.type, buf};
    size_t lens[] = {strlen(hb.type), len};
    assert_int_equal(ccip_sock_send_frames(f->pub, data, lens, 2, 0), 0);
    free(buf);
}

/* ---- the consumer's side -------------------------------------------------------- */

static const ccip_db_stmt S_APPLY = {
    "test_apply", "INSERT INTO applied (position, type) VALUES ($1::bigint, $2)"};

static int s_apply(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    char p[24];
    snprintf(p, sizeof p, "%llu", (unsigned long long)ev->position);
    const char *values[] = {p, ev->type};
    return ccip_db_exec(db, &S_APPLY, 2, values, NULL, NULL, NULL);
}

static int s_apply_sticky(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    if (atomic_fetch_add(&s_sticky_refusals, 1) < 2)
        return -1; /* not yet: the consumer tries this event again later */
    return s_apply(db, ev, arg);
}

static const ccip_consumer_handler S_HANDLERS[] = {{MADE, s_apply}, {STICKY, s_apply_sticky}};

static const ccip_sock_opts S_NO_KEYS = {0}; /* inproc: no CURVE */

/* The consumer of the test's producer, connecting with conninfo. */
static ccip_consumer_config s_config(s_fixture *f, const char *conninfo)
{
    return (ccip_consumer_config){.zmq_ctx = f->ctx,
                                  .conninfo = conninfo,
                                  .service = "widget",
                                  .schema = f->s.schema,
                                  .producer = PRODUCER,
                                  .subscribe_endpoint = LIVE,
                                  .broker_endpoint = BROKER,
                                  .sock_opts = &S_NO_KEYS,
                                  .handlers = S_HANDLERS,
                                  .nhandlers = 2,
                                  .replay_batch = 2, /* several batches per catch-up */
                                  .replay_timeout_ms = 500};
}

static ccip_consumer *s_start(s_fixture *f)
{
    ccip_consumer_config cfg = s_config(f, f->s.conninfo);
    char err[512];
    ccip_consumer *c = ccip_consumer_start(&cfg, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    return c;
}

/* Waits until the consumer's cursor reached `want`. */
static void s_wait_cursor(ccip_consumer *c, uint64_t want)
{
    ccip_consumer_stats st;
    for (int waited = 0; waited < WAIT_MS; waited += 20) {
        ccip_consumer_stats_get(c, &st);
        if (st.cursor >= want)
            return;
        ccip_test_sleep_ms(20);
    }
    fail_msg("the cursor stayed at %llu, %llu expected", (unsigned long long)st.cursor,
             (unsigned long long)want);
}

/* Sends event or heartbeat p with `send` every 50 ms until the consumer's
 * cursor reached p (the subscription may still be on its way to the PUB
 * when the first is sent); st is left as the consumer's last stats. */
static void s_send_until_applied(s_fixture *f, ccip_consumer *c,
                                 void (*send)(s_fixture *, uint64_t), uint64_t p,
                                 ccip_consumer_stats *st)
{
    for (int i = 0; i < WAIT_MS / 50; i++) {
        send(f, p);
        ccip_test_sleep_ms(50);
        ccip_consumer_stats_get(c, st);
        if (st->cursor >= p)
            return;
    }
    fail_msg("the cursor stayed at %llu, %llu expected", (unsigned long long)st->cursor,
             (unsigned long long)p);
}

/* Every position 1..n applied exactly once, in position order. */
static void s_applied_once(s_fixture *f, long long n)
{
    assert_int_equal(ccip_test_db_number(
                         f->s.db, "SELECT count(*) FROM applied a JOIN applied b ON a.position < "
                                  "b.position AND a.seq > b.seq"),
                     0);
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(*) FROM applied"), n);
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(DISTINCT position) FROM applied"),
                     n);
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT coalesce(max(position), 0) FROM applied"),
                     n);
}

/* ---- set-up -------------------------------------------------------------------- */

static int s_setup(void **state)
{
    s_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    *state = f;
    atomic_store(&s_sticky_refusals, 0);
    atomic_store(&f->oldest, 1);
    if (ccip_test_ccip_schema_new(&f->s, "t_consumer") < 0)
        fail_msg("%s", ccip_test_db_error());
    if (ccip_db_command(f->s.db, "CREATE TABLE applied (seq bigserial, position bigint NOT NULL, "
                                 "type text)") != CCIP_DB_OK)
        fail_msg("%s", ccip_db_error(f->s.db));
    char err[512];
    f->ctx = zmq_ctx_new();
    ccip_sock_opts none = {0};
    f->pub = ccip_sock_bind(f->ctx, ZMQ_PUB, LIVE, &none, err, sizeof err);
    f->router = ccip_sock_bind(f->ctx, ZMQ_ROUTER, BROKER, &none, err, sizeof err);
    if (!f->pub || !f->router)
        fail_msg("%s", err);
    assert_int_equal(pthread_create(&f->thread, NULL, s_producer, f), 0);
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture *f = *state;
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    ccip_sock_close(&f->pub);
    ccip_sock_close(&f->router);
    zmq_ctx_term(f->ctx);
    ccip_test_ccip_schema_drop(&f->s);
    free(f);
    return 0;
}

/* ---- tests ------------------------------------------------------------------------ */

/* A new consumer replays the retained stream first, then applies live
 * events; a live event it has seen is dropped as a duplicate. */
static void test_catches_up_then_applies_live_events(void **state)
{
    s_fixture *f = *state;
    atomic_store(&f->head, 5);
    ccip_consumer *c = s_start(f);
    s_wait_cursor(c, 5);
    s_applied_once(f, 5);
    assert_true(atomic_load(&f->replays) >= 3); /* 2 + 2 + 1 with replay_batch 2 */

    /* Live: the subscription may still be travelling to the PUB, so the
     * event is published until it arrives (a drop would be found by the
     * heartbeat, which is another test). */
    atomic_store(&f->head, 6);
    ccip_consumer_stats st;
    s_send_until_applied(f, c, s_publish, 6, &st);
    assert_int_equal(st.cursor, 6);
    s_publish(f, 3); /* delivered again */
    for (int i = 0; i < 100 && st.duplicates == 0; i++) {
        ccip_test_sleep_ms(20);
        ccip_consumer_stats_get(c, &st);
    }
    assert_true(st.duplicates >= 1);
    ccip_consumer_stop(&c);
    assert_null(c);
    ccip_consumer_stop(&c); /* safe twice */
    s_applied_once(f, 6);
}

/* A live event beyond the next position (PUB dropped the ones between) and
 * a heartbeat naming a head beyond the cursor both bring a replay. */
static void test_a_gap_or_a_heartbeat_brings_a_replay(void **state)
{
    s_fixture *f = *state;
    atomic_store(&f->head, 2);
    ccip_consumer *c = s_start(f);
    s_wait_cursor(c, 2);
    /* 3 and 4 lost; 5 arrives. */
    atomic_store(&f->head, 5);
    ccip_consumer_stats st;
    s_send_until_applied(f, c, s_publish, 5, &st);
    assert_int_equal(st.cursor, 5);
    assert_true(st.gaps >= 1);
    /* Nothing live at all: the heartbeat says the head is 8. */
    atomic_store(&f->head, 8);
    s_send_until_applied(f, c, s_heartbeat, 8, &st);
    assert_int_equal(st.cursor, 8);
    ccip_consumer_stop(&c);
    s_applied_once(f, 8);
}

/* Two replicas consuming the same stream into the same cursor: each event
 * is applied by one of them. */
static void test_two_replicas_apply_each_event_once(void **state)
{
    s_fixture *f = *state;
    atomic_store(&f->head, 20);
    ccip_consumer *a = s_start(f);
    ccip_consumer *b = s_start(f);
    s_wait_cursor(a, 20);
    s_wait_cursor(b, 20);
    ccip_consumer_stats sa, sb;
    ccip_consumer_stats_get(a, &sa);
    ccip_consumer_stats_get(b, &sb);
    assert_int_equal(sa.applied + sb.applied, 20);
    ccip_consumer_stop(&a);
    ccip_consumer_stop(&b);
    s_applied_once(f, 20);
}

/* A handler that refuses an event holds the stream at it: nothing after
 * it is applied until the handler accepts it. */
static void test_a_refused_event_holds_the_stream(void **state)
{
    s_fixture *f = *state;
    atomic_store(&f->sticky_at, 2);
    atomic_store(&f->head, 3);
    ccip_consumer *c = s_start(f);
    s_wait_cursor(c, 3);
    assert_int_equal(atomic_load(&s_sticky_refusals), 3); /* refused twice, then applied */
    ccip_consumer_stop(&c);
    s_applied_once(f, 3);
    assert_int_equal(
        ccip_test_db_number(
            f->s.db, "SELECT count(*) FROM applied WHERE position = 2 AND type = '" STICKY "'"),
        1);
}

/* Events the producer no longer retains: the consumer stops consuming it
 * and says so; nothing is skipped. */
static void test_stops_when_the_events_are_gone(void **state)
{
    s_fixture *f = *state;
    atomic_store(&f->head, 5);
    atomic_store(&f->oldest, 3); /* 1 and 2 were deleted */
    ccip_consumer *c = s_start(f);
    ccip_consumer_stats st;
    for (int waited = 0; waited < WAIT_MS; waited += 20) {
        ccip_consumer_stats_get(c, &st);
        if (st.stalled)
            break;
        ccip_test_sleep_ms(20);
    }
    assert_int_equal(st.stalled, 1);
    assert_int_equal(st.cursor, 0);
    ccip_consumer_stop(&c);
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(*) FROM applied"), 0);
}

/* Waits until the consumer's stalled flag is `want`; st is left as its
 * last stats. */
static void s_wait_stalled(ccip_consumer *c, int want, ccip_consumer_stats *st)
{
    for (int waited = 0; waited < WAIT_MS; waited += 20) {
        ccip_consumer_stats_get(c, st);
        if (st->stalled == want)
            return;
        ccip_test_sleep_ms(20);
    }
    fail_msg("the consumer's stalled flag stayed %d", st->stalled);
}

/* The producer went back (its schema restored alone to an earlier point):
 * a heartbeat shows its head below the cursor. The consumer stops consuming
 * it, records the stop in its cursor row (a replica started later stays
 * stopped), and applies none of the producer's new events, which reuse
 * positions it has applied, until an operator resets the cursor; then it
 * applies every one of them: nothing is skipped. */
static void test_a_producer_gone_back_stops_it_until_a_reset(void **state)
{
    s_fixture *f = *state;
    atomic_store(&f->head, 6);
    ccip_consumer *a = s_start(f);
    s_wait_cursor(a, 6);

    atomic_store(&f->head, 3); /* the stream is 1..3 again */
    ccip_consumer_stats st = {0};
    for (int i = 0; i < WAIT_MS / 50 && !st.stalled; i++) {
        s_heartbeat(f, 3);
        ccip_test_sleep_ms(50);
        ccip_consumer_stats_get(a, &st);
    }
    assert_int_equal(st.stalled, 1);
    assert_int_equal(st.cursor, 6);
    assert_int_equal(st.producer_head, 3);
    assert_non_null(strstr(st.stalled_reason, "ends at position 3, below widget's cursor 6"));
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(*) FROM consumer_cursor WHERE "
                                                  "producer = '" PRODUCER "' AND stalled_at IS "
                                                  "NOT NULL AND position = 6"),
                     1);

    /* Its new events 4..8: the ones at 4..6 would pass for duplicates. */
    atomic_store(&f->head, 8);
    for (uint64_t p = 4; p <= 8; p++)
        s_publish(f, p);
    s_heartbeat(f, 8);
    ccip_consumer *b = s_start(f); /* a replica started now */
    s_wait_stalled(b, 1, &st);
    ccip_test_sleep_ms(300);
    ccip_consumer_stats_get(a, &st);
    assert_int_equal(st.stalled, 1);
    assert_int_equal(st.cursor, 6);
    s_applied_once(f, 6);

    /* The operator's reset to 3: both go on and apply 4..8 once more. */
    ccip_consumer_reset_result r;
    char err[256];
    assert_int_equal(ccip_consumer_reset_cursor(f->s.db, "nosuch", 3, &r, err, sizeof err),
                     CCIP_CONSUMER_NO_CURSOR);
    assert_int_equal(ccip_consumer_reset_cursor(f->s.db, PRODUCER, 3, &r, err, sizeof err), 0);
    assert_int_equal(r.from, 6);
    assert_int_equal(r.was_stalled, 1);
    s_wait_stalled(a, 0, &st);
    s_wait_stalled(b, 0, &st);
    s_wait_cursor(a, 8);
    s_wait_cursor(b, 8);
    ccip_consumer_stop(&a);
    ccip_consumer_stop(&b);
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(*) FROM applied WHERE seq > 6"), 5);
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(DISTINCT position) FROM applied "
                                                  "WHERE seq > 6 AND position BETWEEN 4 AND 8"),
                     5);
}

/* A heartbeat can be stale: sent before events the consumer has since
 * applied by replay (it waited in the SUB queue during the catch-up), or by
 * a relay that lost its leadership. A head below the cursor in a heartbeat
 * alone stops nothing: the consumer asks the producer, whose replay reply
 * (read from its database after the cursor committed) shows the head at or
 * above the cursor, and goes on. */
static void test_a_stale_heartbeat_stops_nothing(void **state)
{
    s_fixture *f = *state;
    atomic_store(&f->head, 6);
    ccip_consumer *c = s_start(f);
    s_wait_cursor(c, 6);
    int replays = atomic_load(&f->replays);
    for (int i = 0; i < 10; i++) {
        s_heartbeat(f, 2);
        ccip_test_sleep_ms(30);
    }
    for (int waited = 0; waited < WAIT_MS && atomic_load(&f->replays) == replays; waited += 20)
        ccip_test_sleep_ms(20);
    assert_true(atomic_load(&f->replays) > replays); /* the consumer asked */
    ccip_test_sleep_ms(200);
    ccip_consumer_stats st;
    ccip_consumer_stats_get(c, &st);
    assert_int_equal(st.stalled, 0);
    atomic_store(&f->head, 7);
    s_send_until_applied(f, c, s_publish, 7, &st);
    assert_int_equal(st.stalled, 0);
    ccip_consumer_stop(&c);
    s_applied_once(f, 7);
}

/* A consumer whose first replay shows the producer's head below its stored
 * cursor stops the same way, before applying anything. */
static void test_a_replay_below_the_cursor_stops_it(void **state)
{
    s_fixture *f = *state;
    assert_int_equal(ccip_db_command(f->s.db, "INSERT INTO consumer_cursor (producer, position) "
                                              "VALUES ('" PRODUCER "', 6)"),
                     CCIP_DB_OK);
    atomic_store(&f->head, 3);
    ccip_consumer *c = s_start(f);
    ccip_consumer_stats st;
    s_wait_stalled(c, 1, &st);
    assert_int_equal(st.cursor, 6);
    assert_int_equal(st.producer_head, 3);
    ccip_consumer_stop(&c);
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(*) FROM applied"), 0);
}

/* A connection whose search_path is not the schema is refused at start. */
static void test_refuses_a_connection_in_another_schema(void **state)
{
    s_fixture *f = *state;
    char ci[1024], err[512];
    assert_int_equal(ccip_test_conninfo("test", ci, sizeof ci), 0);
    ccip_consumer_config cfg = s_config(f, ci);
    assert_null(ccip_consumer_start(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "search_path"));
}

int main(void)
{
    ccip_log_init("test", "test_ccip_consumer", CCIP_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_catches_up_then_applies_live_events, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_gap_or_a_heartbeat_brings_a_replay, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_two_replicas_apply_each_event_once, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_refused_event_holds_the_stream, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stops_when_the_events_are_gone, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_producer_gone_back_stops_it_until_a_reset, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_replay_below_the_cursor_stops_it, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_stale_heartbeat_stops_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refuses_a_connection_in_another_schema, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
