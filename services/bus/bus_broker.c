#include "bus_broker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_mdp.h"
#include "ccip_sock.h"

#define ID_MAX     256 /* longest ROUTER identity we keep */
#define MAX_FRAMES 8   /* the longest valid message has 7 frames */

typedef struct s_request {
    uint8_t client_id[ID_MAX]; /* ROUTER identity of the client */
    size_t client_id_len;
    char service[CCIP_MDP_SERVICE_MAX + 1]; /* echoed in the reply */
    char peer[CCIP_KEY_NAME_MAX];           /* key name the client authenticated with */
    int front_door;                         /* 1 when that key may claim an actor role */
    zmq_msg_t envelope;                     /* the request as received */
    Ccip__Envelope *decoded;                /* for error replies and deadlines */
    int64_t deadline_us;                    /* give up after this */
    struct s_request *next;
} s_request;

typedef struct s_service s_service;

typedef struct s_worker {
    uint8_t id[ID_MAX]; /* ROUTER identity of the replica */
    size_t id_len;
    s_service *service; /* NULL until READY */
    int64_t expiry_us;  /* dropped when silent past this */
    int busy;           /* holds a request */
    int64_t busy_until_us;
    struct s_worker *next;
} s_worker;

struct s_service {
    char name[CCIP_MDP_SERVICE_MAX + 1];
    s_request *head, *tail; /* waiting requests, oldest first */
    size_t queued;
    s_worker **idle; /* idle replicas, longest idle first */
    size_t nidle, idle_cap;
    size_t nworkers; /* replicas registered (idle or busy) */
    s_service *next;
};

struct bus_broker {
    void *router;
    const ccip_keyring *keyring;
    bus_broker_limits limits;
    char instance[64];
    int64_t started_us;
    s_service *services;
    s_worker *workers;
    int64_t next_heartbeat_us;
    bus_broker_stats stats;
};

/* ---- small helpers ---------------------------------------------------- */

static int64_t s_liveness_us(void)
{
    return (int64_t)CCIP_MDP_HEARTBEAT_MS * 1000 * CCIP_MDP_LIVENESS;
}

static int s_service_name_ok(const void *data, size_t len)
{
    const char *p = data;
    if (len == 0 || len > CCIP_MDP_SERVICE_MAX || !(p[0] >= 'a' && p[0] <= 'z'))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
            return 0;
    return 1;
}

static int s_frame_is(zmq_msg_t *m, const char *text)
{
    size_t n = strlen(text);
    return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), text, n) == 0;
}

/* Sends frames to a ROUTER peer without ever blocking the broker. */
static int s_send(bus_broker *b, const void *const *data, const size_t *lens, int count)
{
    if (ccip_sock_send_frames(b->router, data, lens, count, ZMQ_DONTWAIT) == 0)
        return 0;
    return -1;
}

static void s_send_to_client(bus_broker *b, const uint8_t *cid, size_t cid_len, const char *service,
                             const Ccip__Envelope *env)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ccip_envelope_pack_buf(env, &buf, &len) < 0)
        return;
    const void *data[] = {cid, CCIP_MDP_CLIENT, service, buf};
    size_t lens[] = {cid_len, strlen(CCIP_MDP_CLIENT), strlen(service), len};
    if (s_send(b, data, lens, 4) < 0)
        ccip_log_debug("could not reply to client", "reason", zmq_strerror(zmq_errno()));
    free(buf);
}

/* Answers a client with an error. req may be NULL when it was undecodable. */
static void s_reply_error(bus_broker *b, const uint8_t *cid, size_t cid_len, const char *service,
                          const Ccip__Envelope *req, Ccip__Status status, const char *error)
{
    Ccip__Envelope reply;
    if (req) {
        ccip_envelope_reply_init(&reply, req, status, error);
    } else {
        ccip__envelope__init(&reply);
        reply.type = "ccip.error.v1";
        reply.status = status;
        reply.error = (char *)error;
    }
    reply.source_service = CCIP_MDP_BUS_SERVICE;
    reply.source_instance = b->instance;
    s_send_to_client(b, cid, cid_len, service, &reply);
}

static s_service *s_service_get(bus_broker *b, const char *name, int create)
{
    for (s_service *s = b->services; s; s = s->next)
        if (strcmp(s->name, name) == 0)
            return s;
    if (!create)
        return NULL;
    s_service *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->name, sizeof s->name, "%s", name);
    s->next = b->services;
    b->services = s;
    return s;
}

static s_worker *s_worker_find(bus_broker *b, const void *id, size_t len)
{
    for (s_worker *w = b->workers; w; w = w->next)
        if (w->id_len == len && memcmp(w->id, id, len) == 0)
            return w;
    return NULL;
}

static void s_idle_remove(s_service *s, s_worker *w)
{
    for (size_t i = 0; i < s->nidle; i++) {
        if (s->idle[i] == w) {
            memmove(&s->idle[i], &s->idle[i + 1], (s->nidle - i - 1) * sizeof *s->idle);
            s->nidle--;
            return;
        }
    }
}

static int s_idle_push(s_service *s, s_worker *w)
{
    if (s->nidle == s->idle_cap) {
        size_t cap = s->idle_cap ? s->idle_cap * 2 : 8;
        s_worker **grown = realloc(s->idle, cap * sizeof *grown);
        if (!grown)
            return -1;
        s->idle = grown;
        s->idle_cap = cap;
    }
    s->idle[s->nidle++] = w;
    return 0;
}

static void s_worker_send(bus_broker *b, s_worker *w, const char *command)
{
    const void *data[] = {w->id, CCIP_MDP_WORKER, command};
    size_t lens[] = {w->id_len, strlen(CCIP_MDP_WORKER), 1};
    s_send(b, data, lens, 3);
}

static void s_worker_delete(bus_broker *b, s_worker *w, int send_disconnect)
{
    if (send_disconnect)
        s_worker_send(b, w, CCIP_MDP_DISCONNECT);
    if (w->service) {
        s_idle_remove(w->service, w);
        w->service->nworkers--;
    }
    for (s_worker **pp = &b->workers; *pp; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    b->stats.workers--;
    free(w);
}

static void s_request_free(s_request *r)
{
    zmq_msg_close(&r->envelope);
    ccip_envelope_free(&r->decoded);
    free(r);
}

static s_request *s_queue_pop(s_service *s)
{
    s_request *r = s->head;
    if (r) {
        s->head = r->next;
        if (!s->head)
            s->tail = NULL;
        s->queued--;
        r->next = NULL;
    }
    return r;
}

static void s_queue_push_front(s_service *s, s_request *r)
{
    r->next = s->head;
    s->head = r;
    if (!s->tail)
        s->tail = r;
    s->queued++;
}

/* Hands waiting requests to idle replicas, oldest request to longest idle. */
static void s_dispatch(bus_broker *b, s_service *s)
{
    int64_t now = ccip_now_us();
    while (s->nidle > 0 && s->head) {
        s_request *r = s_queue_pop(s);
        b->stats.queued--;
        if (r->deadline_us <= now) {
            s_reply_error(b, r->client_id, r->client_id_len, r->service, r->decoded,
                          CCIP__STATUS__DEADLINE_EXCEEDED,
                          "the command's deadline passed while it waited for a replica");
            s_request_free(r);
            continue;
        }
        s_worker *w = s->idle[0];
        s_idle_remove(s, w);
        char fd[2] = {r->front_door ? '1' : '0', '\0'};
        const void *data[] = {
            w->id, CCIP_MDP_WORKER,           CCIP_MDP_REQUEST, r->client_id, r->peer,
            fd,    zmq_msg_data(&r->envelope)};
        size_t lens[] = {w->id_len, strlen(CCIP_MDP_WORKER),   1, r->client_id_len, strlen(r->peer),
                         1,         zmq_msg_size(&r->envelope)};
        if (s_send(b, data, lens, 7) < 0) {
            /* The replica vanished between its last message and now. */
            ccip_log_warn("could not hand a request to a replica; dropping it", "service", s->name,
                          "reason", zmq_strerror(zmq_errno()));
            s_queue_push_front(s, r);
            b->stats.queued++;
            s_worker_delete(b, w, 0);
            continue;
        }
        w->busy = 1;
        w->busy_until_us = r->deadline_us;
        b->stats.routed++;
        s_request_free(r);
    }
}

/* ---- the broker's own service ----------------------------------------- */

static void s_answer_bus(bus_broker *b, const uint8_t *cid, size_t cid_len,
                         const Ccip__Envelope *req)
{
    if (strcmp(req->type, "ccip.ping.v1") != 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "the bus answers only ccip.ping.v1, not %s", req->type);
        s_reply_error(b, cid, cid_len, CCIP_MDP_BUS_SERVICE, req, CCIP__STATUS__INVALID_ARGUMENT,
                      msg);
        return;
    }
    Ccip__PingReply ping = CCIP__PING_REPLY__INIT;
    ping.service = CCIP_MDP_BUS_SERVICE;
    ping.instance = b->instance;
    ping.version = CCIP_VERSION;
    ping.started_at_us = b->started_us;
    uint8_t payload[256];
    size_t n = ccip__ping_reply__pack(&ping, payload);
    Ccip__Envelope reply;
    ccip_envelope_reply_init(&reply, req, CCIP__STATUS__OK, NULL);
    reply.source_service = CCIP_MDP_BUS_SERVICE;
    reply.source_instance = b->instance;
    reply.occurred_at_us = ccip_now_us();
    reply.payload.data = payload;
    reply.payload.len = n;
    s_send_to_client(b, cid, cid_len, CCIP_MDP_BUS_SERVICE, &reply);
}

/* ---- messages from clients -------------------------------------------- */

static void s_from_client(bus_broker *b, zmq_msg_t *f, int count)
{
    const uint8_t *cid = zmq_msg_data(&f[0]);
    size_t cid_len = zmq_msg_size(&f[0]);
    const char *peer = zmq_msg_gets(&f[1], "User-Id");
    if (!peer)
        peer = "local";
    char service[CCIP_MDP_SERVICE_MAX + 1] = "";
    if (count >= 3 && zmq_msg_size(&f[2]) <= CCIP_MDP_SERVICE_MAX)
        memcpy(service, zmq_msg_data(&f[2]), zmq_msg_size(&f[2]));
    char err[320];
    if (count != 4) {
        snprintf(err, sizeof err,
                 "a command must have 3 frames [%s][service][envelope], this one had %d",
                 CCIP_MDP_CLIENT, count - 1);
        goto refuse;
    }
    if (!s_service_name_ok(zmq_msg_data(&f[2]), zmq_msg_size(&f[2]))) {
        snprintf(err, sizeof err,
                 "service name must be 1-%d characters of a-z, 0-9 and _, starting with a letter",
                 CCIP_MDP_SERVICE_MAX);
        goto refuse;
    }
    char why[256];
    Ccip__Envelope *env = ccip_envelope_unpack(zmq_msg_data(&f[3]), zmq_msg_size(&f[3]),
                                               b->limits.max_message_bytes, why, sizeof why);
    if (!env) {
        snprintf(err, sizeof err, "%s", why);
        goto refuse;
    }
    int64_t now = ccip_now_us();
    int64_t deadline = env->deadline_us > 0 ? env->deadline_us : now + b->limits.default_wait_us;
    if (deadline <= now) {
        s_reply_error(b, cid, cid_len, service, env, CCIP__STATUS__DEADLINE_EXCEEDED,
                      "the command arrived after its deadline; send it again with a later one");
        b->stats.rejected++;
        ccip_envelope_free(&env);
        return;
    }
    if (strcmp(service, CCIP_MDP_BUS_SERVICE) == 0) {
        s_answer_bus(b, cid, cid_len, env);
        ccip_envelope_free(&env);
        return;
    }
    s_service *s = s_service_get(b, service, 1);
    if (!s || s->queued >= b->limits.max_queue) {
        snprintf(err, sizeof err,
                 "the bus has %zu commands waiting for %s already; try again shortly",
                 s ? s->queued : 0, service);
        s_reply_error(b, cid, cid_len, service, env, CCIP__STATUS__UNAVAILABLE, err);
        ccip_envelope_free(&env);
        return;
    }
    s_request *r = calloc(1, sizeof *r);
    if (!r || cid_len > ID_MAX) {
        free(r);
        ccip_envelope_free(&env);
        return;
    }
    memcpy(r->client_id, cid, cid_len);
    r->client_id_len = cid_len;
    snprintf(r->service, sizeof r->service, "%s", service);
    snprintf(r->peer, sizeof r->peer, "%s", peer);
    const ccip_key_entry *key = ccip_keyring_find_name(b->keyring, peer);
    r->front_door = key ? key->front_door : 0;
    zmq_msg_init(&r->envelope);
    zmq_msg_move(&r->envelope, &f[3]);
    r->decoded = env;
    r->deadline_us = deadline;
    if (s->tail)
        s->tail->next = r;
    else
        s->head = r;
    s->tail = r;
    s->queued++;
    b->stats.queued++;
    s_dispatch(b, s);
    return;
refuse:
    b->stats.rejected++;
    ccip_log_warn("refused a command", "peer", peer, "reason", err);
    s_reply_error(b, cid, cid_len, service, NULL, CCIP__STATUS__INVALID_ARGUMENT, err);
}

/* ---- messages from workers -------------------------------------------- */

static void s_from_worker(bus_broker *b, zmq_msg_t *f, int count)
{
    const void *wid = zmq_msg_data(&f[0]);
    size_t wid_len = zmq_msg_size(&f[0]);
    const char *peer = zmq_msg_gets(&f[1], "User-Id");
    s_worker *w = s_worker_find(b, wid, wid_len);
    if (count < 3 || zmq_msg_size(&f[2]) != 1) {
        ccip_log_warn("dropped a malformed worker message", "peer", peer ? peer : "local");
        b->stats.rejected++;
        return;
    }
    zmq_msg_t *cmd = &f[2];
    if (s_frame_is(cmd, CCIP_MDP_READY)) {
        if (w || count != 4 || !s_service_name_ok(zmq_msg_data(&f[3]), zmq_msg_size(&f[3])) ||
            wid_len > ID_MAX) {
            ccip_log_warn("refused a worker registration", "peer", peer ? peer : "local");
            b->stats.rejected++;
            if (w)
                s_worker_delete(b, w, 1);
            return;
        }
        char name[CCIP_MDP_SERVICE_MAX + 1] = "";
        memcpy(name, zmq_msg_data(&f[3]), zmq_msg_size(&f[3]));
        s_service *s = s_service_get(b, name, 1);
        w = calloc(1, sizeof *w);
        if (!s || !w) {
            free(w);
            return;
        }
        memcpy(w->id, wid, wid_len);
        w->id_len = wid_len;
        w->service = s;
        w->expiry_us = ccip_now_us() + s_liveness_us();
        w->next = b->workers;
        b->workers = w;
        s->nworkers++;
        b->stats.workers++;
        if (s_idle_push(s, w) < 0) {
            s_worker_delete(b, w, 1);
            return;
        }
        ccip_log_info("replica registered", "service", name, "peer", peer ? peer : "local");
        s_dispatch(b, s);
        return;
    }
    if (!w) {
        /* A replica we do not know (the broker restarted): make it register. */
        if (!s_frame_is(cmd, CCIP_MDP_DISCONNECT)) {
            const void *data[] = {wid, CCIP_MDP_WORKER, CCIP_MDP_DISCONNECT};
            size_t lens[] = {wid_len, strlen(CCIP_MDP_WORKER), 1};
            s_send(b, data, lens, 3);
        }
        return;
    }
    w->expiry_us = ccip_now_us() + s_liveness_us();
    if (s_frame_is(cmd, CCIP_MDP_HEARTBEAT)) {
        return;
    } else if (s_frame_is(cmd, CCIP_MDP_DISCONNECT)) {
        ccip_log_info("replica left", "service", w->service->name);
        s_worker_delete(b, w, 0);
    } else if (s_frame_is(cmd, CCIP_MDP_REPLY) && count == 5 && w->busy) {
        const void *data[] = {zmq_msg_data(&f[3]), CCIP_MDP_CLIENT, w->service->name,
                              zmq_msg_data(&f[4])};
        size_t lens[] = {zmq_msg_size(&f[3]), strlen(CCIP_MDP_CLIENT), strlen(w->service->name),
                         zmq_msg_size(&f[4])};
        if (s_send(b, data, lens, 4) < 0)
            ccip_log_info("client left before its reply", "service", w->service->name);
        else
            b->stats.replied++;
        w->busy = 0;
        if (s_idle_push(w->service, w) < 0)
            s_worker_delete(b, w, 1);
        else
            s_dispatch(b, w->service);
    } else {
        ccip_log_warn("dropped a malformed worker message", "service", w->service->name);
        b->stats.rejected++;
    }
}

/* ---- public API ------------------------------------------------------- */

bus_broker *bus_broker_new(void *router, const ccip_keyring *keyring,
                           const bus_broker_limits *limits, const char *instance)
{
    bus_broker *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->router = router;
    b->keyring = keyring;
    b->limits = *limits;
    snprintf(b->instance, sizeof b->instance, "%s", instance);
    b->started_us = ccip_now_us();
    b->next_heartbeat_us = b->started_us;
    return b;
}

void bus_broker_destroy(bus_broker **broker)
{
    if (!broker || !*broker)
        return;
    bus_broker *b = *broker;
    while (b->workers)
        s_worker_delete(b, b->workers, 0);
    while (b->services) {
        s_service *s = b->services;
        b->services = s->next;
        s_request *r;
        while ((r = s_queue_pop(s)) != NULL)
            s_request_free(r);
        free(s->idle);
        free(s);
    }
    free(b);
    *broker = NULL;
}

int bus_broker_drain(bus_broker *b)
{
    for (;;) {
        zmq_msg_t f[MAX_FRAMES];
        int count = ccip_sock_recv_parts(b->router, f, MAX_FRAMES, ZMQ_DONTWAIT);
        if (count < 0)
            return (zmq_errno() == EAGAIN || zmq_errno() == EINTR) ? 0 : -1;
        if (count > MAX_FRAMES) {
            ccip_log_warn("dropped a message with too many frames", "frames", "more than 8");
            b->stats.rejected++;
            continue;
        }
        if (count >= 2 && s_frame_is(&f[1], CCIP_MDP_CLIENT))
            s_from_client(b, f, count);
        else if (count >= 2 && s_frame_is(&f[1], CCIP_MDP_WORKER))
            s_from_worker(b, f, count);
        else {
            const char *peer = zmq_msg_gets(&f[count > 1 ? 1 : 0], "User-Id");
            ccip_log_warn("dropped a message with an unknown protocol header", "peer",
                          peer ? peer : "local");
            b->stats.rejected++;
        }
        for (int i = 0; i < count; i++)
            zmq_msg_close(&f[i]);
    }
}

void bus_broker_tick(bus_broker *b)
{
    int64_t now = ccip_now_us();
    for (s_worker *w = b->workers, *next; w; w = next) {
        next = w->next;
        int64_t until = w->expiry_us;
        if (w->busy && w->busy_until_us + s_liveness_us() > until)
            until = w->busy_until_us + s_liveness_us();
        if (until < now) {
            ccip_log_warn("replica silent too long; dropped", "service", w->service->name);
            s_worker_delete(b, w, 1);
        }
    }
    if (now >= b->next_heartbeat_us) {
        for (s_worker *w = b->workers; w; w = w->next)
            s_worker_send(b, w, CCIP_MDP_HEARTBEAT);
        b->next_heartbeat_us = now + (int64_t)CCIP_MDP_HEARTBEAT_MS * 1000;
    }
    for (s_service *s = b->services; s; s = s->next) {
        s_request *keep_head = NULL, *keep_tail = NULL;
        s_request *r;
        size_t kept = 0;
        while ((r = s_queue_pop(s)) != NULL) {
            if (r->deadline_us > now) {
                if (keep_tail)
                    keep_tail->next = r;
                else
                    keep_head = r;
                keep_tail = r;
                kept++;
                continue;
            }
            char msg[200];
            Ccip__Status st = CCIP__STATUS__DEADLINE_EXCEEDED;
            if (s->nworkers == 0) {
                st = CCIP__STATUS__UNAVAILABLE;
                snprintf(msg, sizeof msg,
                         "no replica of service %s is connected to the bus; start one and retry",
                         s->name);
            } else {
                snprintf(msg, sizeof msg,
                         "no replica of service %s became free before the command's deadline",
                         s->name);
            }
            s_reply_error(b, r->client_id, r->client_id_len, s->name, r->decoded, st, msg);
            b->stats.queued--;
            s_request_free(r);
        }
        s->head = keep_head;
        s->tail = keep_tail;
        s->queued = kept;
    }
}

void bus_broker_disconnect_all(bus_broker *b)
{
    for (s_worker *w = b->workers; w; w = w->next)
        s_worker_send(b, w, CCIP_MDP_DISCONNECT);
}

void bus_broker_get_stats(const bus_broker *b, bus_broker_stats *out)
{
    *out = b->stats;
}
