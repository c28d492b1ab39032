#include "ccip_test_producer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_keys.h"
#include "ccip_sock.h"
#include "ccip_worker.h"

#define HEARTBEAT_US 200000 /* how often the head is announced */
#define POLL_MS      50

/* The suite's services that consume events: the stand-in puts each one's
 * cursor of its producer back when it stops (a new consuming service adds
 * itself here). */
static const char *const S_CONSUMERS[] = {"intake", "evaluation", "funding", "ip", "stats"};
#define NCONSUMERS (sizeof S_CONSUMERS / sizeof S_CONSUMERS[0])

struct ccip_test_producer {
    ccip_test_env *env;
    void *ctx;
    char producer[32];
    char consumer[32];
    pthread_mutex_t mutex;  /* guards events, count, head */
    Ccip__Envelope *events; /* positions base+1 .. head; strings and payloads owned */
    size_t count, cap;
    uint64_t base;               /* position before the first event */
    long long saved[NCONSUMERS]; /* each consumer's cursor of the producer at the start; -2:
                                    no row; -1: unknown (not read: left alone) */
    volatile int stop;
    pthread_t thread;
};

static char *s_dup(const char *s)
{
    return strdup(s ? s : "");
}

/* Appends a copy of e at the next position. Caller holds the mutex. */
static uint64_t s_append(ccip_test_producer *p, const Ccip__Envelope *e)
{
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        Ccip__Envelope *grown = realloc(p->events, cap * sizeof *grown);
        if (!grown)
            return 0;
        p->events = grown;
        p->cap = cap;
    }
    Ccip__Envelope *n = &p->events[p->count];
    *n = (Ccip__Envelope)CCIP__ENVELOPE__INIT;
    n->id = s_dup(e->id);
    n->type = s_dup(e->type);
    n->source_service = s_dup(p->producer);
    n->aggregate_type = s_dup(e->aggregate_type);
    n->aggregate_id = s_dup(e->aggregate_id);
    n->actor_id = s_dup(e->actor_id);
    n->actor_role = s_dup(e->actor_role);
    n->occurred_at_us = ccip_now_us();
    n->payload.len = e->payload.len;
    n->payload.data = malloc(e->payload.len ? e->payload.len : 1);
    if (e->payload.len)
        memcpy(n->payload.data, e->payload.data, e->payload.len);
    n->position = p->base + ++p->count;
    return n->position;
}

uint64_t ccip_test_producer_add(ccip_test_producer *p, const char *type, const char *aggregate_type,
                                const char *aggregate_id, const ProtobufCMessage *msg,
                                const char *actor_id, const char *actor_role)
{
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.id = id;
    e.type = (char *)type;
    e.aggregate_type = (char *)aggregate_type;
    e.aggregate_id = (char *)aggregate_id;
    e.actor_id = (char *)actor_id;
    e.actor_role = (char *)actor_role;
    uint8_t *buf = NULL;
    if (msg) {
        e.payload.len = protobuf_c_message_get_packed_size(msg);
        buf = malloc(e.payload.len ? e.payload.len : 1);
        if (!buf)
            return 0;
        protobuf_c_message_pack(msg, buf);
        e.payload.data = buf;
    }
    pthread_mutex_lock(&p->mutex);
    uint64_t pos = s_append(p, &e);
    pthread_mutex_unlock(&p->mutex);
    free(buf);
    return pos;
}

uint64_t ccip_test_producer_repeat(ccip_test_producer *p, uint64_t position)
{
    pthread_mutex_lock(&p->mutex);
    uint64_t pos = 0;
    if (position > p->base && position <= p->base + p->count) {
        Ccip__Envelope copy = p->events[position - p->base - 1];
        pos = s_append(p, &copy); /* may move the array: copy holds the old pointers */
    }
    pthread_mutex_unlock(&p->mutex);
    return pos;
}

uint64_t ccip_test_producer_head(ccip_test_producer *p)
{
    pthread_mutex_lock(&p->mutex);
    uint64_t head = p->base + p->count;
    pthread_mutex_unlock(&p->mutex);
    return head;
}

uint64_t ccip_test_producer_base(const ccip_test_producer *p)
{
    return p->base;
}

static void s_answer(ccip_test_producer *p, ccip_worker *w, ccip_request *req)
{
    Ccip__Envelope reply;
    uint8_t *payload = NULL;
    char err[256];
    Ccip__ReplayRequest *rq = NULL;
    if (strcmp(req->envelope->type, "ccip.replay.v1") == 0)
        rq = (Ccip__ReplayRequest *)ccip_payload_unpack(
            &ccip__replay_request__descriptor, req->envelope->payload.data,
            req->envelope->payload.len, 4096, err, sizeof err);
    if (!rq) {
        ccip_envelope_reply_init(&reply, req->envelope, CCIP__STATUS__INVALID_ARGUMENT,
                                 "the stand-in producer only replays");
    } else {
        ccip_envelope_reply_init(&reply, req->envelope, CCIP__STATUS__OK, NULL);
        pthread_mutex_lock(&p->mutex);
        Ccip__Envelope **list = calloc(p->count + 1, sizeof *list);
        Ccip__ReplayReply rr = CCIP__REPLAY_REPLY__INIT;
        /* at most what was asked for (a producer's replies are bounded too) */
        uint32_t max = rq->max_events ? rq->max_events : 500;
        for (uint64_t pos = rq->from_position;
             list && pos <= p->base + p->count && rr.n_events < max; pos++)
            if (pos > p->base)
                list[rr.n_events++] = &p->events[pos - p->base - 1];
        rr.events = list;
        rr.head = p->base + p->count;
        rr.oldest = p->base + 1;
        size_t len = ccip__replay_reply__get_packed_size(&rr);
        payload = malloc(len ? len : 1);
        if (payload)
            ccip__replay_reply__pack(&rr, payload);
        pthread_mutex_unlock(&p->mutex);
        free(list);
        reply.payload.data = payload;
        reply.payload.len = payload ? len : 0;
    }
    reply.source_service = p->producer;
    uint8_t *buf = NULL;
    size_t blen = 0;
    if (ccip_envelope_pack_buf(&reply, &buf, &blen) == 0)
        ccip_worker_reply(w, req, buf, blen);
    free(buf);
    free(payload);
    if (rq)
        protobuf_c_message_free_unpacked(&rq->base, NULL);
}

static void s_heartbeat(ccip_test_producer *p, void *pub, const char *type)
{
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    Ccip__Envelope hb = CCIP__ENVELOPE__INIT;
    hb.id = id;
    hb.type = (char *)type;
    hb.source_service = p->producer;
    pthread_mutex_lock(&p->mutex);
    hb.position = p->base + p->count;
    pthread_mutex_unlock(&p->mutex);
    hb.occurred_at_us = ccip_now_us();
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ccip_envelope_pack_buf(&hb, &buf, &len) == 0) {
        zmq_send(pub, type, strlen(type), ZMQ_SNDMORE);
        zmq_send(pub, buf, len, 0);
    }
    free(buf);
}

static void *s_run(void *arg)
{
    ccip_test_producer *p = arg;
    char path[400], err[256], hb_type[64];
    ccip_keypair keys;
    snprintf(path, sizeof path, "%s/allowed/%s.key", p->env->dir, p->producer);
    if (ccip_keypair_load(path, &keys, err, sizeof err) < 0) {
        fprintf(stderr, "stand-in %s: %s\n", p->producer, err);
        return NULL;
    }
    ccip_sock_opts so = {.keys = &keys, .server_public = p->env->bus_keys.public_key};
    ccip_worker *w = ccip_worker_new(p->ctx, p->env->commands, p->producer, &so, err, sizeof err);
    void *pub = ccip_sock_connect(p->ctx, ZMQ_PUB, p->env->publish, &so, err, sizeof err);
    snprintf(hb_type, sizeof hb_type, "%s.stream.heartbeat.v1", p->producer);
    int64_t next_hb = 0;
    while (w && pub && !p->stop) {
        ccip_request req;
        if (ccip_worker_recv(w, POLL_MS, &req) == 1) {
            s_answer(p, w, &req);
            ccip_request_release(&req);
        }
        if (ccip_now_us() >= next_hb) {
            next_hb = ccip_now_us() + HEARTBEAT_US;
            s_heartbeat(p, pub, hb_type);
        }
    }
    ccip_sock_close(&pub);
    ccip_worker_destroy(&w);
    return NULL;
}

/* Waits until the consumer's cursor for this producer is at least want
 * (0 also when no row exists yet); returns the last value read, or -1. */
static long long s_cursor(const ccip_test_producer *p, long long want, int timeout_ms)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(max(position), 0) FROM consumer_cursor WHERE producer = '%s'",
             p->producer);
    return ccip_test_wait_count(p->consumer, sql, want, timeout_ms);
}

/* Whether this test started a process of service svc (instances are named
 * "<service>-<n>"; a stopped one still counts: it may have consumed). */
static int s_ran(const ccip_test_env *env, const char *svc)
{
    size_t n = strlen(svc);
    for (int i = 0; i < CCIP_TEST_MAX_PROCS; i++)
        if (strncmp(env->children[i].name, svc, n) == 0 && env->children[i].name[n] == '-')
            return 1;
    return 0;
}

/* Whether svc's schema has consumer cursors (its service has run). */
static int s_has_cursors(const char *svc)
{
    return ccip_test_query_number(svc,
                                  "SELECT (to_regclass('consumer_cursor') IS NOT NULL)::int") == 1;
}

ccip_test_producer *ccip_test_producer_start(ccip_test_env *env, void *zmq_ctx,
                                             const char *producer, const char *consumer)
{
    ccip_test_producer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->env = env;
    p->ctx = zmq_ctx;
    snprintf(p->producer, sizeof p->producer, "%s", producer);
    snprintf(p->consumer, sizeof p->consumer, "%s", consumer);
    pthread_mutex_init(&p->mutex, NULL);
    /* Continue where the consumer's cursor is (0 on a fresh database); the
     * consumer's schema may still be migrating, so wait for it. */
    long long cursor = s_cursor(p, 0, 10000);
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT coalesce((SELECT position FROM consumer_cursor WHERE producer = '%s'), -2)",
             p->producer);
    for (size_t i = 0; i < NCONSUMERS; i++)
        p->saved[i] =
            s_has_cursors(S_CONSUMERS[i]) ? ccip_test_query_number(S_CONSUMERS[i], sql) : -2;
    p->base = cursor > 0 ? (uint64_t)cursor : 0; /* before the thread reads it */
    if (cursor < 0 || pthread_create(&p->thread, NULL, s_run, p) != 0) {
        fprintf(stderr, "could not start the stand-in for %s\n", producer);
        pthread_mutex_destroy(&p->mutex);
        free(p);
        return NULL;
    }
    return p;
}

int ccip_test_producer_wait_applied(ccip_test_producer *p, int timeout_ms)
{
    pthread_mutex_lock(&p->mutex);
    long long head = (long long)(p->base + p->count);
    pthread_mutex_unlock(&p->mutex);
    long long got = s_cursor(p, head, timeout_ms);
    return got >= head ? 0 : -1;
}

void ccip_test_producer_stop(ccip_test_producer **pp)
{
    if (!pp || !*pp)
        return;
    ccip_test_producer *p = *pp;
    p->stop = 1;
    pthread_join(p->thread, NULL);
    /* Its events were never in the real producer's outbox: a consumer left
     * at their positions would be ahead of the real producer in a later
     * test, and stop consuming it (ccip_consumer.h). Every cursor goes back
     * to where it stood, a stop it caused cleared, a row it caused deleted. */
    for (size_t i = 0; i < NCONSUMERS; i++) {
        char sql[300];
        /* Only the services this test ran can have consumed its events; a
         * schema another suite runs at the same time is that suite's (its
         * cursors are not ours to move under its running service). */
        if (p->saved[i] == -1 || !s_ran(p->env, S_CONSUMERS[i]) || !s_has_cursors(S_CONSUMERS[i]))
            continue;
        if (p->saved[i] >= 0)
            snprintf(
                sql, sizeof sql,
                "WITH u AS (UPDATE consumer_cursor SET position = %lld, stalled_at = NULL, "
                "stalled_reason = '' WHERE producer = '%s' RETURNING 1) SELECT count(*) FROM u",
                p->saved[i], p->producer);
        else
            snprintf(sql, sizeof sql,
                     "WITH d AS (DELETE FROM consumer_cursor WHERE producer = '%s' RETURNING 1) "
                     "SELECT count(*) FROM d",
                     p->producer);
        ccip_test_query_number(S_CONSUMERS[i], sql);
    }
    for (size_t i = 0; i < p->count; i++) {
        Ccip__Envelope *e = &p->events[i];
        free(e->id);
        free(e->type);
        free(e->source_service);
        free(e->aggregate_type);
        free(e->aggregate_id);
        free(e->actor_id);
        free(e->actor_role);
        free(e->payload.data);
    }
    free(p->events);
    pthread_mutex_destroy(&p->mutex);
    free(p);
    *pp = NULL;
}
