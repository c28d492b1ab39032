/* ccip_replay: a batch comes back decoded; a refusal keeps the producer's
 * status and sentence; an undecodable reply and silence are told apart.
 * A fake broker (a ROUTER on inproc://, in a thread) stands in for the bus
 * and the producer behind it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_mdp.h"
#include "ccip_replay.h"

#define ENDPOINT "inproc://test-ccip-replay"

/* How the fake broker answers. */
typedef enum {
    ANSWER_EVENTS,  /* OK: up to 3 events from the position asked for, head 10 */
    ANSWER_REFUSE,  /* FAILED_PRECONDITION with a sentence */
    ANSWER_GARBAGE, /* OK with a payload that is not a ReplayReply */
    ANSWER_NOTHING, /* never */
    ANSWER_STREAM,  /* OK: a stream whose head is 10, at most 3 events a batch, none past 10 */
    ANSWER_SKIP,    /* as ANSWER_STREAM, but position 5 is missing */
} s_answer;

typedef struct {
    void *ctx;
    void *router;
    s_answer answer;
    int stop;               /* set by the test, read by the broker between polls */
    int requests;           /* requests seen */
    char service[32];       /* of the last request: the service frame */
    char type[64];          /* its envelope's type */
    char source[32];        /* its source_service */
    uint64_t from_position; /* its payload */
    uint32_t max_events;
    pthread_t thread;
    int running;       /* the thread runs (s_start) */
    ccip_replay *made; /* s_start's client: a failed assertion leaves it to s_teardown */
} s_broker;

static void s_send_reply(s_broker *b, zmq_msg_t *identity, const char *service,
                         const Ccip__Envelope *req)
{
    Ccip__Envelope reply = CCIP__ENVELOPE__INIT;
    reply.id = req->id;
    reply.type = req->type;
    uint8_t payload[4096];
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff};
    Ccip__Envelope ev[3] = {CCIP__ENVELOPE__INIT, CCIP__ENVELOPE__INIT, CCIP__ENVELOPE__INIT};
    Ccip__Envelope *events[3] = {&ev[0], &ev[1], &ev[2]};
    if (b->answer == ANSWER_REFUSE) {
        reply.status = CCIP__STATUS__FAILED_PRECONDITION;
        reply.error = "positions 1 to 4 are no longer retained";
    } else if (b->answer == ANSWER_GARBAGE) {
        reply.payload.data = (uint8_t *)garbage;
        reply.payload.len = sizeof garbage;
    } else {
        Ccip__ReplayReply rr = CCIP__REPLAY_REPLY__INIT;
        rr.head = 10;
        rr.events = events;
        int stream = b->answer == ANSWER_STREAM || b->answer == ANSWER_SKIP;
        for (size_t i = 0; i < 3 && i < b->max_events; i++) {
            uint64_t position = b->from_position + i;
            if (b->answer == ANSWER_SKIP && position >= 5)
                position++;
            if (stream && position > rr.head)
                break;
            ev[i].id = "0190c6d8-0000-7000-8000-000000000001";
            ev[i].type = "intake.call.opened.v1";
            ev[i].position = position;
            rr.n_events++;
        }
        reply.payload.data = payload;
        reply.payload.len = ccip__replay_reply__pack(&rr, payload);
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ccip_envelope_pack_buf(&reply, &buf, &len) < 0)
        return; /* the client then sees no answer, and its test fails */
    zmq_msg_send(identity, b->router, ZMQ_SNDMORE);
    zmq_send(b->router, CCIP_MDP_CLIENT, strlen(CCIP_MDP_CLIENT), ZMQ_SNDMORE);
    zmq_send(b->router, service, strlen(service), ZMQ_SNDMORE);
    zmq_send(b->router, buf, len, 0);
    free(buf);
}

/* Reads one request [identity][CCIPC1][service][envelope], notes it, and
 * answers as b->answer says. */
static void s_serve_one(s_broker *b)
{
    zmq_msg_t f[4];
    for (int i = 0; i < 4; i++) {
        zmq_msg_init(&f[i]);
        zmq_msg_recv(&f[i], b->router, 0);
    }
    snprintf(b->service, sizeof b->service, "%.*s", (int)zmq_msg_size(&f[2]),
             (const char *)zmq_msg_data(&f[2]));
    char err[256];
    Ccip__Envelope *req =
        ccip_envelope_unpack(zmq_msg_data(&f[3]), zmq_msg_size(&f[3]), 65536, err, sizeof err);
    if (req) {
        snprintf(b->type, sizeof b->type, "%s", req->type);
        snprintf(b->source, sizeof b->source, "%s", req->source_service);
        Ccip__ReplayRequest *rq =
            ccip__replay_request__unpack(NULL, req->payload.len, req->payload.data);
        if (rq) {
            b->from_position = rq->from_position;
            b->max_events = rq->max_events;
            ccip__replay_request__free_unpacked(rq, NULL);
        }
        b->requests++;
        if (b->answer != ANSWER_NOTHING)
            s_send_reply(b, &f[0], b->service, req);
        ccip_envelope_free(&req);
    }
    for (int i = 0; i < 4; i++)
        zmq_msg_close(&f[i]);
}

static void *s_broker_run(void *arg)
{
    s_broker *b = arg;
    while (!__atomic_load_n(&b->stop, __ATOMIC_SEQ_CST)) {
        zmq_pollitem_t item = {b->router, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 20) > 0)
            s_serve_one(b);
    }
    return NULL;
}

static int s_setup(void **state)
{
    s_broker *b = calloc(1, sizeof *b);
    b->ctx = zmq_ctx_new();
    b->router = zmq_socket(b->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(b->router, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_bind(b->router, ENDPOINT), 0);
    *state = b;
    return 0;
}

static void s_stop(s_broker *b, ccip_replay **r);

static int s_teardown(void **state)
{
    s_broker *b = *state;
    if (b->running) /* a failed assertion: stop here, or zmq_ctx_term would wait forever */
        s_stop(b, &b->made);
    zmq_close(b->router);
    zmq_ctx_term(b->ctx);
    free(b);
    return 0;
}

/* Starts the broker answering `answer` and makes a client of it. */
static ccip_replay *s_start(s_broker *b, s_answer answer, int timeout_ms, int attempts)
{
    b->answer = answer;
    /* The thread takes the socket from here on (a full barrier). */
    assert_int_equal(pthread_create(&b->thread, NULL, s_broker_run, b), 0);
    b->running = 1;
    ccip_replay_config cfg = {.service = "stats",
                              .broker_endpoint = ENDPOINT,
                              .timeout_ms = timeout_ms,
                              .attempts = attempts};
    char err[256];
    ccip_replay *r = ccip_replay_new(b->ctx, &cfg, err, sizeof err);
    assert_non_null(r);
    b->made = r;
    return r;
}

static void s_stop(s_broker *b, ccip_replay **r)
{
    ccip_replay_destroy(r);
    b->made = NULL;
    __atomic_store_n(&b->stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(b->thread, NULL);
    b->running = 0;
}

static void test_batch_comes_back_decoded(void **state)
{
    s_broker *b = *state;
    ccip_replay *r = s_start(b, ANSWER_EVENTS, 2000, 1);
    Ccip__ReplayReply *batch = NULL;
    Ccip__Status status;
    char err[512];
    assert_int_equal(ccip_replay_fetch(r, "intake", 5, 2, &batch, &status, err, sizeof err),
                     CCIP_REPLAY_OK);
    assert_int_equal(status, CCIP__STATUS__OK);
    assert_non_null(batch);
    assert_int_equal(batch->n_events, 2);
    assert_int_equal(batch->events[0]->position, 5);
    assert_int_equal(batch->events[1]->position, 6);
    assert_int_equal(batch->head, 10);
    ccip_replay_batch_free(&batch);
    assert_null(batch);
    ccip_replay_batch_free(&batch); /* twice is fine */
    s_stop(b, &r);
    assert_null(r);
    /* What the producer was asked, through the broker. */
    assert_int_equal(b->requests, 1);
    assert_string_equal(b->service, "intake");
    assert_string_equal(b->type, "ccip.replay.v1");
    assert_string_equal(b->source, "stats");
    assert_int_equal(b->from_position, 5);
    assert_int_equal(b->max_events, 2);
}

static void test_refusal_keeps_status_and_sentence(void **state)
{
    s_broker *b = *state;
    ccip_replay *r = s_start(b, ANSWER_REFUSE, 2000, 1);
    Ccip__ReplayReply *batch = NULL;
    Ccip__Status status;
    char err[512];
    assert_int_equal(ccip_replay_fetch(r, "intake", 1, 500, &batch, &status, err, sizeof err),
                     CCIP_REPLAY_REFUSED);
    assert_null(batch);
    assert_int_equal(status, CCIP__STATUS__FAILED_PRECONDITION);
    assert_string_equal(err, "positions 1 to 4 are no longer retained");
    s_stop(b, &r);
}

static void test_undecodable_reply(void **state)
{
    s_broker *b = *state;
    ccip_replay *r = s_start(b, ANSWER_GARBAGE, 2000, 1);
    Ccip__ReplayReply *batch = NULL;
    Ccip__Status status;
    char err[512];
    assert_int_equal(ccip_replay_fetch(r, "intake", 1, 500, &batch, &status, err, sizeof err),
                     CCIP_REPLAY_UNDECODABLE);
    assert_null(batch);
    assert_int_equal(status, CCIP__STATUS__INTERNAL);
    assert_non_null(strstr(err, "ReplayReply"));
    s_stop(b, &r);
}

/* Silence: every attempt is sent, then the answer says how long it waited. */
static void test_no_answer_after_the_attempts(void **state)
{
    s_broker *b = *state;
    ccip_replay *r = s_start(b, ANSWER_NOTHING, 50, 2);
    Ccip__ReplayReply *batch = NULL;
    Ccip__Status status;
    char err[512];
    assert_int_equal(ccip_replay_fetch(r, "intake", 1, 500, &batch, &status, err, sizeof err),
                     CCIP_REPLAY_NO_ANSWER);
    assert_null(batch);
    assert_int_equal(status, CCIP__STATUS__UNAVAILABLE);
    assert_non_null(strstr(err, "no reply from intake"));
    assert_non_null(strstr(err, "2 attempt(s) of 50 ms"));
    s_stop(b, &r);
    assert_int_equal(b->requests, 2);
}

static void test_new_refuses_an_incomplete_configuration(void **state)
{
    s_broker *b = *state;
    char err[256];
    ccip_replay_config no_service = {.broker_endpoint = ENDPOINT};
    assert_null(ccip_replay_new(b->ctx, &no_service, err, sizeof err));
    assert_non_null(strstr(err, "the asking service"));
    ccip_replay_config negative = {
        .service = "stats", .broker_endpoint = ENDPOINT, .timeout_ms = -1};
    assert_null(ccip_replay_new(b->ctx, &negative, err, sizeof err));
    assert_null(ccip_replay_new(NULL, &no_service, err, sizeof err));
    ccip_replay *r = NULL;
    ccip_replay_destroy(&r); /* NULL is fine */
}

/* ---- ccip_replay_range: a whole stream from position 1, as a rebuild reads it ---- */

typedef struct {
    uint64_t seen[32]; /* positions applied, in order */
    int n;
    int flushes;
    int stop_at; /* apply returns 7 at this position (0: never) */
} s_sink;

static int s_apply(void *arg, const Ccip__Envelope *ev)
{
    s_sink *k = arg;
    if (k->stop_at && ev->position == (uint64_t)k->stop_at)
        return 7;
    k->seen[k->n++] = ev->position;
    return 0;
}

static int s_flush(void *arg)
{
    ((s_sink *)arg)->flushes++;
    return 0;
}

static void test_range_applies_every_position_in_order(void **state)
{
    s_broker *b = *state;
    ccip_replay *r = s_start(b, ANSWER_STREAM, 2000, 1);
    s_sink k = {0};
    int stopped = -1;
    Ccip__Status status;
    char err[512];
    assert_int_equal(ccip_replay_range(r, "intake", 8, 5, s_apply, s_flush, &k, &stopped, &status,
                                       err, sizeof err),
                     0);
    assert_int_equal(stopped, 0);
    assert_int_equal(k.n, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(k.seen[i], i + 1);
    assert_int_equal(k.flushes, 3);     /* 1-3, 4-6, 7-8: the producer sends 3 at most */
    assert_int_equal(b->max_events, 2); /* the last request asked only for what was left */
    s_stop(b, &r);
}

static void test_range_refuses_a_stream_shorter_than_asked(void **state)
{
    s_broker *b = *state;
    ccip_replay *r = s_start(b, ANSWER_STREAM, 2000, 1);
    s_sink k = {0};
    int stopped = 0;
    Ccip__Status status;
    char err[512];
    assert_int_equal(ccip_replay_range(r, "intake", 12, 5, s_apply, NULL, &k, &stopped, &status,
                                       err, sizeof err),
                     -1);
    assert_int_equal(status, CCIP__STATUS__FAILED_PRECONDITION);
    assert_string_equal(err, "intake's stream ends at position 10, but it was applied up to 12");
    assert_int_equal(k.n, 10);
    s_stop(b, &r);
}

static void test_range_refuses_a_skipped_position(void **state)
{
    s_broker *b = *state;
    ccip_replay *r = s_start(b, ANSWER_SKIP, 2000, 1);
    s_sink k = {0};
    int stopped = 0;
    Ccip__Status status;
    char err[512];
    assert_int_equal(ccip_replay_range(r, "intake", 9, 5, s_apply, s_flush, &k, &stopped, &status,
                                       err, sizeof err),
                     -1);
    assert_int_equal(status, CCIP__STATUS__INTERNAL);
    assert_string_equal(err, "intake replayed position 6 where 5 was expected");
    assert_int_equal(k.n, 4);
    assert_int_equal(k.flushes, 1); /* the broken batch is not flushed */
    s_stop(b, &r);
}

static void test_range_passes_on_refusals_and_silence(void **state)
{
    s_broker *b = *state;
    ccip_replay *r = s_start(b, ANSWER_REFUSE, 2000, 1);
    s_sink k = {0};
    int stopped = 0;
    Ccip__Status status;
    char err[512];
    assert_int_equal(ccip_replay_range(r, "intake", 9, 5, s_apply, s_flush, &k, &stopped, &status,
                                       err, sizeof err),
                     -1);
    assert_int_equal(status, CCIP__STATUS__FAILED_PRECONDITION);
    assert_string_equal(err, "intake cannot replay from position 1: FAILED_PRECONDITION: "
                             "positions 1 to 4 are no longer retained");
    b->answer = ANSWER_NOTHING;
    assert_int_equal(ccip_replay_range(r, "intake", 9, 5, s_apply, s_flush, &k, &stopped, &status,
                                       err, sizeof err),
                     -1);
    assert_int_equal(status, CCIP__STATUS__UNAVAILABLE);
    assert_non_null(strstr(err, "could not replay intake from position 1: no reply from intake"));
    assert_int_equal(k.n, 0);
    s_stop(b, &r);
}

static void test_range_stops_when_the_caller_does(void **state)
{
    s_broker *b = *state;
    ccip_replay *r = s_start(b, ANSWER_STREAM, 2000, 1);
    s_sink k = {.stop_at = 5};
    int stopped = 0;
    Ccip__Status status;
    char err[512];
    assert_int_equal(ccip_replay_range(r, "intake", 9, 5, s_apply, s_flush, &k, &stopped, &status,
                                       err, sizeof err),
                     1);
    assert_int_equal(stopped, 7);
    assert_int_equal(k.n, 4);
    assert_int_equal(k.flushes, 1);
    s_stop(b, &r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batch_comes_back_decoded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refusal_keeps_status_and_sentence, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_undecodable_reply, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_no_answer_after_the_attempts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_new_refuses_an_incomplete_configuration, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_range_applies_every_position_in_order, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_range_refuses_a_stream_shorter_than_asked, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_range_refuses_a_skipped_position, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_range_passes_on_refusals_and_silence, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_range_stops_when_the_caller_does, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
