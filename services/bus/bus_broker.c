#include "bus_broker.h"

#include <errno.h>
#include <malloc.h>
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
#define MAX_FRAMES 8   /* the longest valid message from a peer has 5 frames */

/* Refusals are logged one by one up to this many a second, then counted
 * and summed up once a second: a hostile client must not turn the bus's
 * log into its own disk-filling loop. */
#define LOG_PER_SECOND 20

/* After this many bytes of commands since the last trim, the bus gives
 * memory back to the system once its queues are empty (malloc_trim):
 * glibc keeps freed memory for reuse, and a burst of large commands would
 * otherwise keep the bus at its peak size for good. */
#define TRIM_AFTER_BYTES (8u * 1024 * 1024)
#define TRIM_QUIET_US    500000 /* queues empty this long before trimming */

typedef struct s_request {
    uint8_t client_id[ID_MAX]; /* ROUTER identity of the client */
    size_t client_id_len;
    char service[CCIP_MDP_SERVICE_MAX + 1]; /* echoed in the reply */
    char peer[CCIP_KEY_NAME_MAX];           /* key name the client authenticated with */
    const ccip_key_entry *key;              /* its registry entry (borrowed); NULL when local */
    zmq_msg_t envelope;                     /* the request as received */
    Ccip__Envelope *decoded;                /* for error replies and deadlines, payload dropped */
    int64_t deadline_us;                    /* give up after this */
    size_t bytes;                           /* what it holds in memory, for the caps */
    struct s_request *next;
} s_request;

typedef struct s_service s_service;

typedef struct s_worker {
    uint8_t id[ID_MAX]; /* ROUTER identity of the replica */
    size_t id_len;
    s_service *service; /* the service it registered for */
    char peer[CCIP_KEY_NAME_MAX];
    int64_t expiry_us;         /* dropped when silent past this */
    int busy;                  /* holds a request */
    int64_t busy_until_us;     /* that request's (capped) deadline */
    uint8_t client_id[ID_MAX]; /* the client whose request it holds */
    size_t client_id_len;      /* 0 when idle */
    struct s_worker *next;
} s_worker;

struct s_service {
    char name[CCIP_MDP_SERVICE_MAX + 1];
    s_request *head, *tail; /* waiting requests, oldest first */
    size_t queued;
    size_t queued_bytes; /* bytes those hold */
    s_worker **idle;     /* idle replicas, longest idle first */
    size_t nidle, idle_cap;
    size_t nworkers; /* replicas registered (idle or busy) */
    s_service *next;
};

struct bus_broker {
    void *router;
    const ccip_keyring *keyring; /* NULL: every peer is "local" (unit tests) */
    bus_broker_limits limits;
    char instance[64];
    int64_t started_us;
    s_service *services;
    s_worker *workers;
    int64_t next_heartbeat_us;
    bus_broker_stats stats;
    int64_t log_window_us;     /* start of the current second of refusal logs */
    unsigned log_count;        /* refusals logged in it */
    unsigned long log_dropped; /* refusals not logged one by one since the last summary */
    size_t bytes_since_trim;   /* command bytes received since memory was last given back */
    int64_t empty_since_us;    /* when the queues last became empty; 0 while not empty */
};

/* ---- small helpers ---------------------------------------------------- */

static int64_t s_liveness_us(void)
{
    return (int64_t)CCIP_MDP_HEARTBEAT_MS * 1000 * CCIP_MDP_LIVENESS;
}

static int s_frame_is(zmq_msg_t *m, const char *text)
{
    size_t n = strlen(text);
    return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), text, n) == 0;
}

/* 1 when a refusal may be logged now (LOG_PER_SECOND). */
static int s_log_ok(bus_broker *b)
{
    int64_t now = ccip_now_us();
    if (now - b->log_window_us >= 1000000) {
        b->log_window_us = now;
        b->log_count = 0;
    }
    if (b->log_count < LOG_PER_SECOND) {
        b->log_count++;
        return 1;
    }
    b->log_dropped++;
    return 0;
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

/* The registry entry of the key a message came with, or NULL when the
 * registry does not know it (or the peer used no key). *name gets the key's
 * name ("local" without one). */
static const ccip_key_entry *s_key(bus_broker *b, zmq_msg_t *m, const char **name)
{
    const char *user = zmq_msg_gets(m, "User-Id");
    *name = user ? user : "local";
    return user ? ccip_keyring_find_name(b->keyring, user) : NULL;
}

/* The service with that name, or NULL. */
static s_service *s_service_find(bus_broker *b, const char *name)
{
    for (s_service *s = b->services; s; s = s->next)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

/* The service with that name, made when missing. Only for names the bus
 * knows (a registering replica, a key of the registry), so that a client
 * cannot grow the list. NULL when out of memory. */
static s_service *s_service_get(bus_broker *b, const char *name)
{
    s_service *s = s_service_find(b, name);
    if (s)
        return s;
    if (!(s = calloc(1, sizeof *s)))
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

static s_request *s_queue_pop(bus_broker *b, s_service *s)
{
    s_request *r = s->head;
    if (r) {
        s->head = r->next;
        if (!s->head)
            s->tail = NULL;
        s->queued--;
        s->queued_bytes -= r->bytes;
        b->stats.queued--;
        b->stats.queued_bytes -= r->bytes;
        r->next = NULL;
    }
    return r;
}

static void s_queue_push(bus_broker *b, s_service *s, s_request *r, int front)
{
    if (front) {
        r->next = s->head;
        s->head = r;
        if (!s->tail)
            s->tail = r;
    } else {
        r->next = NULL;
        if (s->tail)
            s->tail->next = r;
        else
            s->head = r;
        s->tail = r;
    }
    s->queued++;
    s->queued_bytes += r->bytes;
    b->stats.queued++;
    b->stats.queued_bytes += r->bytes;
    b->empty_since_us = 0;
}

/* A bound front door's roles as the REQUEST frame carries them: "a,b". */
static void s_roles_text(const ccip_key_binding *k, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < k->nroles && n < len; i++)
        n += (size_t)snprintf(out + n, len - n, "%s%s", i ? "," : "", k->roles[i]);
}

/* Hands waiting requests to idle replicas, oldest request to longest idle. */
static void s_dispatch(bus_broker *b, s_service *s)
{
    int64_t now = ccip_now_us();
    while (s->nidle > 0 && s->head) {
        s_request *r = s_queue_pop(b, s);
        if (r->deadline_us <= now) {
            s_reply_error(b, r->client_id, r->client_id_len, r->service, r->decoded,
                          CCIP__STATUS__DEADLINE_EXCEEDED,
                          "the command's deadline passed while it waited for a replica");
            s_request_free(r);
            continue;
        }
        s_worker *w = s->idle[0];
        s_idle_remove(s, w);
        /* What the bus verified about the caller (ccip_mdp.h). */
        const ccip_key_binding *k = r->key ? &r->key->binding : NULL;
        const char *kind = k ? ccip_key_kind_name(k->kind) : CCIP_MDP_KIND_LOCAL;
        const char *bound = !k                               ? ""
                            : k->kind == CCIP_KEY_SERVICE    ? k->service
                            : k->kind == CCIP_KEY_FRONT_DOOR ? k->person
                                                             : "";
        char roles[CCIP_KEY_ROLES_MAX * CCIP_KEY_ROLE_MAX] = "";
        if (k && k->kind == CCIP_KEY_FRONT_DOOR && !k->any_person)
            s_roles_text(k, roles, sizeof roles);
        const void *data[] = {w->id,        CCIP_MDP_WORKER, CCIP_MDP_REQUEST,
                              r->client_id, r->peer,         kind,
                              bound,        roles,           zmq_msg_data(&r->envelope)};
        size_t lens[] = {w->id_len,        strlen(CCIP_MDP_WORKER), 1,
                         r->client_id_len, strlen(r->peer),         strlen(kind),
                         strlen(bound),    strlen(roles),           zmq_msg_size(&r->envelope)};
        if (s_send(b, data, lens, 9) < 0) {
            /* The replica vanished between its last message and now. */
            ccip_log_warn("could not hand a request to a replica; dropping the replica", "service",
                          s->name, "reason", zmq_strerror(zmq_errno()));
            s_queue_push(b, s, r, 1);
            s_worker_delete(b, w, 0);
            continue;
        }
        w->busy = 1;
        w->busy_until_us = r->deadline_us;
        memcpy(w->client_id, r->client_id, r->client_id_len);
        w->client_id_len = r->client_id_len;
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

/* Refuses a client's command: answers it and logs why with the key. */
static void s_refuse(bus_broker *b, const uint8_t *cid, size_t cid_len, const char *service,
                     const Ccip__Envelope *env, const char *peer, Ccip__Status status,
                     const char *why)
{
    s_reply_error(b, cid, cid_len, service, env, status, why);
    b->stats.rejected++;
    if (s_log_ok(b))
        ccip_log_warn("refused a command", "key", peer, "service", service, "type",
                      env ? env->type : "?", "status", ccip_status_name(status), "reason", why);
}

static void s_from_client(bus_broker *b, zmq_msg_t *f, int count)
{
    const uint8_t *cid = zmq_msg_data(&f[0]);
    size_t cid_len = zmq_msg_size(&f[0]);
    const char *peer;
    const ccip_key_entry *key = s_key(b, &f[1], &peer);
    /* The service frame as sent, whole: it is checked byte by byte below,
     * so no NUL inside can make it compare equal to a shorter name. */
    char service[CCIP_MDP_SERVICE_MAX + 1] = "";
    if (count >= 3 && zmq_msg_size(&f[2]) <= CCIP_MDP_SERVICE_MAX)
        memcpy(service, zmq_msg_data(&f[2]), zmq_msg_size(&f[2]));
    char err[400];
    if (cid_len > ID_MAX) {
        b->stats.rejected++;
        return; /* not a ROUTER identity libzmq made; nothing to answer to */
    }
    if (count != 4) {
        snprintf(err, sizeof err,
                 "a command must have 3 frames [%s][service][envelope], this one had %d",
                 CCIP_MDP_CLIENT, count - 1);
        s_refuse(b, cid, cid_len, service, NULL, peer, CCIP__STATUS__INVALID_ARGUMENT, err);
        return;
    }
    if (!ccip_key_service_name_ok(zmq_msg_data(&f[2]), zmq_msg_size(&f[2]))) {
        snprintf(err, sizeof err,
                 "service name must be 1-%d characters of a-z, 0-9 and _, starting with a letter",
                 CCIP_MDP_SERVICE_MAX);
        s_refuse(b, cid, cid_len, service, NULL, peer, CCIP__STATUS__INVALID_ARGUMENT, err);
        return;
    }
    if (b->keyring && !key) {
        /* Only a connection without CURVE (an ipc:// endpoint) has no key. */
        s_refuse(b, cid, cid_len, service, NULL, peer, CCIP__STATUS__UNAUTHENTICATED,
                 "the bus serves only clients with a key of its keys directory");
        return;
    }
    char why[320];
    size_t env_len = zmq_msg_size(&f[3]);
    Ccip__Envelope *env = ccip_envelope_unpack(zmq_msg_data(&f[3]), env_len,
                                               b->limits.max_message_bytes, why, sizeof why);
    if (!env) {
        s_refuse(b, cid, cid_len, service, NULL, peer, CCIP__STATUS__INVALID_ARGUMENT, why);
        return;
    }
    b->bytes_since_trim += env_len;
    int64_t now = ccip_now_us();
    /* No command waits longer than max_wait, whatever it asked for: a
     * deadline of INT64_MAX would hold its bytes (and a replica that took
     * it) for ever. */
    int64_t max_wait =
        b->limits.max_wait_us > 0 ? b->limits.max_wait_us : b->limits.default_wait_us;
    int64_t deadline = env->deadline_us > 0 ? env->deadline_us : now + b->limits.default_wait_us;
    if (deadline > now + max_wait)
        deadline = now + max_wait;
    if (deadline <= now) {
        s_refuse(b, cid, cid_len, service, env, peer, CCIP__STATUS__DEADLINE_EXCEEDED,
                 "the command arrived after its deadline; send it again with a later one");
        ccip_envelope_free(&env);
        return;
    }
    if (key && key->binding.kind == CCIP_KEY_FRONT_DOOR &&
        ccip_key_claim_check(key->name, &key->binding, env->actor_id, env->actor_role, why,
                             sizeof why) < 0) {
        s_refuse(b, cid, cid_len, service, env, peer, CCIP__STATUS__PERMISSION_DENIED, why);
        ccip_envelope_free(&env);
        return;
    }
    if (key && key->binding.kind == CCIP_KEY_ADMIN)
        ccip_log_info("command with an admin key", "key", peer, "service", service, "type",
                      env->type, "command", env->id);
    if (strcmp(service, CCIP_MDP_BUS_SERVICE) == 0) {
        s_answer_bus(b, cid, cid_len, env);
        ccip_envelope_free(&env);
        return;
    }
    /* A service is known when a replica registered for it or a key of the
     * registry serves it; any other name is answered at once, so that no
     * client can park commands under names nobody will ever serve. */
    s_service *s = s_service_find(b, service);
    if (!s && (!b->keyring || ccip_keyring_serves(b->keyring, service, strlen(service))))
        s = s_service_get(b, service);
    if (!s) {
        snprintf(err, sizeof err,
                 "no service %s is known to the bus: no replica registered for it and no key of "
                 "the bus's keys directory serves it; check the service name",
                 service);
        s_refuse(b, cid, cid_len, service, env, peer, CCIP__STATUS__UNAVAILABLE, err);
        ccip_envelope_free(&env);
        return;
    }
    /* What the request holds while it waits: the message, its decoded
     * strings (the payload is dropped from the decoded copy below) and the
     * bookkeeping. */
    size_t bytes = env_len + (env_len - env->payload.len) + sizeof(s_request);
    const char *full = NULL;
    if (s->queued >= b->limits.max_queue)
        full = "commands";
    else if (b->limits.max_queued_bytes && s->queued_bytes + bytes > b->limits.max_queued_bytes)
        full = "bytes of commands";
    else if (b->limits.max_queued_bytes_total &&
             b->stats.queued_bytes + bytes > b->limits.max_queued_bytes_total)
        full = "bytes of commands for all services";
    if (full) {
        snprintf(err, sizeof err,
                 "the bus holds as many %s waiting for %s as it may (%zu commands, %zu bytes for "
                 "%s); try again shortly",
                 full, service, s->queued, s->queued_bytes, service);
        s_refuse(b, cid, cid_len, service, env, peer, CCIP__STATUS__RESOURCE_EXHAUSTED, err);
        ccip_envelope_free(&env);
        return;
    }
    s_request *r = calloc(1, sizeof *r);
    if (!r) {
        ccip_envelope_free(&env);
        return;
    }
    memcpy(r->client_id, cid, cid_len);
    r->client_id_len = cid_len;
    snprintf(r->service, sizeof r->service, "%s", service);
    snprintf(r->peer, sizeof r->peer, "%s", peer);
    r->key = key;
    zmq_msg_init(&r->envelope);
    zmq_msg_move(&r->envelope, &f[3]);
    /* Only the envelope's strings are needed for an error reply; the
     * payload travels in r->envelope. */
    free(env->payload.data);
    env->payload.data = NULL;
    env->payload.len = 0;
    r->decoded = env;
    r->deadline_us = deadline;
    r->bytes = bytes;
    s_queue_push(b, s, r, 0);
    s_dispatch(b, s);
}

/* ---- messages from workers -------------------------------------------- */

static void s_from_worker(bus_broker *b, zmq_msg_t *f, int count)
{
    const uint8_t *wid = zmq_msg_data(&f[0]);
    size_t wid_len = zmq_msg_size(&f[0]);
    if (count < 3 || zmq_msg_size(&f[2]) != 1 || wid_len > ID_MAX) {
        if (s_log_ok(b))
            ccip_log_warn("dropped a malformed worker message");
        b->stats.rejected++;
        return;
    }
    zmq_msg_t *cmd = &f[2];
    const char *peer;
    const ccip_key_entry *key = s_key(b, &f[1], &peer);
    s_worker *w = s_worker_find(b, wid, wid_len);
    if (s_frame_is(cmd, CCIP_MDP_READY)) {
        const char *name = count == 4 ? zmq_msg_data(&f[3]) : "";
        size_t name_len = count == 4 ? zmq_msg_size(&f[3]) : 0;
        const char *why = NULL;
        if (w)
            why = "this connection is registered already";
        else if (!ccip_key_service_name_ok(name, name_len))
            why = "the service name is missing or not a service name";
        else if (b->keyring && !key)
            why = "the connection has no key of the keys directory";
        else if (key && key->binding.kind != CCIP_KEY_SERVICE)
            why = "only a service key may register a replica";
        else if (key && (strlen(key->binding.service) != name_len ||
                         memcmp(key->binding.service, name, name_len) != 0))
            why = "the key is bound to another service";
        if (why) {
            char asked[CCIP_MDP_SERVICE_MAX + 1] = "";
            if (name_len <= CCIP_MDP_SERVICE_MAX)
                memcpy(asked, name, name_len);
            b->stats.rejected++;
            if (s_log_ok(b))
                ccip_log_warn("refused a replica registration", "key", peer, "bound",
                              key && key->binding.kind == CCIP_KEY_SERVICE ? key->binding.service
                                                                           : "-",
                              "service", asked, "reason", why);
            /* A duplicate READY drops the registration; a refused one is
             * not answered, so a misconfigured replica retries only at its
             * back-off pace. */
            if (w)
                s_worker_delete(b, w, 1);
            return;
        }
        char sname[CCIP_MDP_SERVICE_MAX + 1] = "";
        memcpy(sname, name, name_len);
        s_service *s = s_service_get(b, sname);
        w = calloc(1, sizeof *w);
        if (!s || !w) {
            free(w);
            return;
        }
        memcpy(w->id, wid, wid_len);
        w->id_len = wid_len;
        w->service = s;
        snprintf(w->peer, sizeof w->peer, "%s", peer);
        w->expiry_us = ccip_now_us() + s_liveness_us();
        w->next = b->workers;
        b->workers = w;
        s->nworkers++;
        b->stats.workers++;
        if (s_idle_push(s, w) < 0) {
            s_worker_delete(b, w, 1);
            return;
        }
        ccip_log_info("replica registered", "service", sname, "key", peer);
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
        ccip_log_info("replica left", "service", w->service->name, "key", w->peer);
        s_worker_delete(b, w, 0);
    } else if (s_frame_is(cmd, CCIP_MDP_REPLY) && count == 5) {
        /* Only to the client whose request this replica holds: a replica
         * must not answer (or forge answers to) anyone else's commands. */
        if (!w->busy || zmq_msg_size(&f[3]) != w->client_id_len ||
            memcmp(zmq_msg_data(&f[3]), w->client_id, w->client_id_len) != 0) {
            b->stats.rejected++;
            if (s_log_ok(b))
                ccip_log_warn("refused a reply to a client whose request the replica does not "
                              "hold",
                              "service", w->service->name, "key", w->peer);
            return;
        }
        const void *data[] = {zmq_msg_data(&f[3]), CCIP_MDP_CLIENT, w->service->name,
                              zmq_msg_data(&f[4])};
        size_t lens[] = {zmq_msg_size(&f[3]), strlen(CCIP_MDP_CLIENT), strlen(w->service->name),
                         zmq_msg_size(&f[4])};
        if (s_send(b, data, lens, 4) < 0)
            ccip_log_info("client left before its reply", "service", w->service->name);
        else
            b->stats.replied++;
        w->busy = 0;
        w->client_id_len = 0;
        if (s_idle_push(w->service, w) < 0)
            s_worker_delete(b, w, 1);
        else
            s_dispatch(b, w->service);
    } else {
        if (s_log_ok(b))
            ccip_log_warn("dropped a malformed worker message", "service", w->service->name, "key",
                          w->peer);
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
        while ((r = s_queue_pop(b, s)) != NULL)
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
            if (s_log_ok(b))
                ccip_log_warn("dropped a message with too many frames", "frames", "more than 8");
            b->stats.rejected++;
            continue;
        }
        if (count >= 2 && s_frame_is(&f[1], CCIP_MDP_CLIENT))
            s_from_client(b, f, count);
        else if (count >= 2 && s_frame_is(&f[1], CCIP_MDP_WORKER))
            s_from_worker(b, f, count);
        else {
            const char *peer;
            s_key(b, &f[count > 1 ? 1 : 0], &peer);
            if (s_log_ok(b))
                ccip_log_warn("dropped a message with an unknown protocol header", "key", peer);
            b->stats.rejected++;
        }
        for (int i = 0; i < count; i++)
            zmq_msg_close(&f[i]);
    }
}

/* Gives memory back to the system once the queues have been empty for a
 * while after a burst (TRIM_AFTER_BYTES). */
static void s_trim(bus_broker *b, int64_t now)
{
    if (b->stats.queued > 0) {
        b->empty_since_us = 0;
        return;
    }
    if (b->empty_since_us == 0)
        b->empty_since_us = now;
    if (b->bytes_since_trim < TRIM_AFTER_BYTES || now - b->empty_since_us < TRIM_QUIET_US)
        return;
    malloc_trim(0);
    b->bytes_since_trim = 0;
    b->stats.trims++;
}

void bus_broker_tick(bus_broker *b)
{
    int64_t now = ccip_now_us();
    for (s_worker *w = b->workers, *next; w; w = next) {
        next = w->next;
        int64_t until = w->expiry_us;
        /* busy_until_us is a capped deadline (s_from_client), so this sum
         * cannot overflow. */
        if (w->busy && w->busy_until_us + s_liveness_us() > until)
            until = w->busy_until_us + s_liveness_us();
        if (until < now) {
            ccip_log_warn("replica silent too long; dropped", "service", w->service->name, "key",
                          w->peer);
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
        while ((r = s_queue_pop(b, s)) != NULL) {
            if (r->deadline_us > now) {
                r->next = NULL;
                if (keep_tail)
                    keep_tail->next = r;
                else
                    keep_head = r;
                keep_tail = r;
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
            s_request_free(r);
        }
        for (r = keep_head; r;) {
            s_request *next = r->next;
            s_queue_push(b, s, r, 0);
            r = next;
        }
    }
    if (b->log_dropped && now - b->log_window_us >= 1000000) {
        char n[24];
        snprintf(n, sizeof n, "%lu", b->log_dropped);
        ccip_log_warn("refusals not logged one by one (more than 20 a second)", "count", n);
        b->log_dropped = 0;
    }
    s_trim(b, now);
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
