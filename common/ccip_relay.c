#include "ccip_relay.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip_db.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_outbox.h"

#define TICK_MS            100   /* longest wait between looks at the stop flag and the outbox */
#define LEADER_RETRY_MS    1000  /* a follower asks for the lock this often */
#define PRUNE_EVERY_MS     60000 /* retention runs this often */
#define RECONNECT_SLICE_MS 100   /* one ccip_db_ensure call waits at most this long */
#define REPEAT_LOG_MS      60000 /* the same failure is logged again after this long */
#define ERR_MAX            512
/* Shortest time between two drains when commits keep coming: one drain (four
 * statements and a commit) then numbers and publishes every event committed
 * in the meantime, instead of one drain per committed transaction. An idle
 * outbox is drained as soon as it is notified. */
#define DRAIN_GAP_MS 2

/* Session-level lock: held while the relay's connection lives, released by
 * PostgreSQL when it ends, so a crashed leader frees it by itself. */
static const ccip_db_stmt S_TRY_LEAD = {
    "ccip_relay_try_lead", "SELECT pg_try_advisory_lock(hashtext('ccip.relay.' || $1))"};

struct ccip_relay {
    /* configuration, copied */
    char *service;                          /* source_service, heartbeat type prefix */
    char *schema;                           /* lock name, channel */
    char *instance;                         /* heartbeat source_instance */
    char *endpoint;                         /* bus XSUB */
    int64_t retention_s;                    /* 0 = never prune */
    int heartbeat_ms;                       /* heartbeat interval */
    int batch;                              /* events per assign transaction */
    char listen_sql[96];                    /* LISTEN "ccip_outbox_<schema>" */
    char heartbeat_type[CCIP_TYPE_MAX + 1]; /* "<service>.stream.heartbeat.v1" */

    /* owned by the thread once it runs */
    ccip_db *db;            /* the relay's own connection */
    void *pub;              /* PUB socket connected to the bus */
    int leader;             /* this session holds the lock and LISTENs */
    int leader_pid;         /* backend pid of that session (a reconnect changes it) */
    int head_known;         /* an assign succeeded since becoming leader */
    uint64_t head;          /* head after the last assign */
    int64_t last_log_ms;    /* when a repeated failure was last logged */
    char last_log[ERR_MAX]; /* what it was */

    /* shared */
    pthread_t thread;       /* the relay thread */
    int thread_started;     /* thread must be joined */
    atomic_int stop;        /* set by ccip_relay_stop */
    pthread_mutex_t mutex;  /* guards stats */
    ccip_relay_stats stats; /* counters for ccip_relay_stats_get */
};

/* ---- small helpers ---------------------------------------------------- */

static int s_stopping(ccip_relay *r)
{
    return atomic_load(&r->stop);
}

/* Logs a failure at warn level, but the same sentence at most once a
 * minute: a broken table must not write ten lines a second. */
static void s_warn_limited(ccip_relay *r, const char *msg, const char *reason)
{
    int64_t now = ccip_mono_ms();
    if (strcmp(reason, r->last_log) == 0 && now - r->last_log_ms < REPEAT_LOG_MS)
        return;
    snprintf(r->last_log, sizeof r->last_log, "%s", reason);
    r->last_log_ms = now;
    ccip_log_warn(msg, "schema", r->schema, "reason", reason);
}

static void s_free(ccip_relay *r)
{
    if (!r)
        return;
    ccip_sock_close(&r->pub);
    ccip_db_destroy(&r->db);
    pthread_mutex_destroy(&r->mutex);
    free(r->service);
    free(r->schema);
    free(r->instance);
    free(r->endpoint);
    free(r);
}

/* ---- leadership --------------------------------------------------------- */

static void s_set_leader(ccip_relay *r, int leader)
{
    pthread_mutex_lock(&r->mutex);
    r->stats.leader = leader;
    if (leader)
        r->stats.leadership_won++;
    pthread_mutex_unlock(&r->mutex);
}

/* The session that held the lock is gone (or never had it): forget it. */
static void s_lose_leadership(ccip_relay *r, const char *reason)
{
    if (!r->leader)
        return;
    r->leader = 0;
    r->head_known = 0;
    s_set_leader(r, 0);
    ccip_log_warn("relay lost the leadership", "schema", r->schema, "reason", reason);
}

/* Asks for the lock; on success LISTENs. Returns 1 when leader now, 0 when
 * another session leads, -1 on a database failure (logged). */
static int s_try_lead(ccip_relay *r)
{
    const char *values[] = {r->schema};
    PGresult *res = NULL;
    if (ccip_db_exec(r->db, &S_TRY_LEAD, 1, values, NULL, NULL, &res) != CCIP_DB_OK) {
        s_warn_limited(r, "relay could not ask for the leadership", ccip_db_error(r->db));
        return -1;
    }
    int got = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (!got)
        return 0;
    /* LISTEN takes a channel name, which cannot be a parameter; it is built
     * from the schema name checked by ccip_outbox_channel. Outside a
     * transaction it takes effect at once. */
    if (ccip_db_command(r->db, r->listen_sql) != CCIP_DB_OK) {
        s_warn_limited(r, "relay could not LISTEN for new events", ccip_db_error(r->db));
        /* Give the lock back so that a healthier replica can lead; if the
         * connection is gone this fails too and the lock went with it. */
        ccip_db_command(r->db, "SELECT pg_advisory_unlock_all()");
        return -1;
    }
    r->leader = 1;
    r->leader_pid = PQbackendPID(ccip_db_conn(r->db));
    r->head_known = 0;
    s_set_leader(r, 1);
    ccip_log_info("relay became leader", "schema", r->schema, "service", r->service);
    return 1;
}

/* ---- publishing --------------------------------------------------------- */

/* Sends [topic = type][packed envelope]. Returns 0 or -1 (logged). PUB
 * never blocks: beyond the high-water mark it drops, and subscribers find
 * the gap and replay. */
static int s_publish(ccip_relay *r, const Ccip__Envelope *env)
{
    zmq_msg_t body;
    if (ccip_envelope_pack(env, &body) < 0) {
        ccip_log_error("relay could not pack an event", "schema", r->schema, "type", env->type,
                       "reason", "out of memory");
        return -1;
    }
    if (zmq_send(r->pub, env->type, strlen(env->type), ZMQ_SNDMORE) < 0 ||
        zmq_msg_send(&body, r->pub, 0) < 0) {
        int e = zmq_errno();
        zmq_msg_close(&body);
        if (e == ETERM) {
            /* The process is tearing down its zmq context: nothing can be
             * published any more, and zmq_ctx_term waits for this thread to
             * close its socket, so stop (the thread closes it on its way
             * out) rather than retry forever. */
            atomic_store(&r->stop, 1);
            return -1;
        }
        ccip_log_error("relay could not publish", "schema", r->schema, "type", env->type, "reason",
                       zmq_strerror(e));
        return -1;
    }
    return 0;
}

static void s_heartbeat(ccip_relay *r)
{
    Ccip__StreamHeartbeat hb = CCIP__STREAM_HEARTBEAT__INIT;
    hb.head = r->head;
    uint8_t payload[16]; /* a uint64 field: tag + at most 10 bytes */
    size_t len = ccip__stream_heartbeat__pack(&hb, payload);

    char id[CCIP_UUID_STRLEN + 1];
    if (ccip_uuid_v7(id) < 0)
        return;
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = r->heartbeat_type;
    env.source_service = r->service;
    env.source_instance = r->instance;
    env.position = r->head;
    env.occurred_at_us = ccip_now_us();
    env.payload.data = payload;
    env.payload.len = len;
    if (s_publish(r, &env) == 0) {
        pthread_mutex_lock(&r->mutex);
        r->stats.heartbeats++;
        pthread_mutex_unlock(&r->mutex);
    }
}

/* Numbers and publishes until the outbox has nothing unnumbered left (a
 * batch came back short). Positions are committed before anything is sent,
 * so a crash between the two loses nothing: the next heartbeat shows the
 * head and subscribers replay. */
static void s_drain(ccip_relay *r)
{
    for (;;) {
        if (s_stopping(r))
            return;
        ccip_outbox_batch *batch = NULL;
        char err[ERR_MAX];
        int rc = ccip_outbox_assign(r->db, r->service, r->batch, &batch, err, sizeof err);
        if (rc != CCIP_OUTBOX_OK) {
            s_warn_limited(r, "relay could not number new events", err);
            return;
        }
        size_t n = ccip_outbox_batch_count(batch);
        uint64_t published = 0;
        for (size_t i = 0; i < n; i++) {
            if (s_publish(r, ccip_outbox_batch_event(batch, i)) == 0)
                published++;
        }
        r->head = ccip_outbox_batch_head(batch);
        r->head_known = 1;
        ccip_outbox_batch_destroy(&batch);
        pthread_mutex_lock(&r->mutex);
        r->stats.head = r->head;
        r->stats.published += published;
        pthread_mutex_unlock(&r->mutex);
        if (n < (size_t)r->batch)
            return;
    }
}

static void s_prune(ccip_relay *r)
{
    char err[ERR_MAX];
    uint64_t deleted = 0;
    if (ccip_outbox_prune(r->db, r->retention_s, &deleted, err, sizeof err) != CCIP_OUTBOX_OK) {
        s_warn_limited(r, "relay could not archive old events", err);
        return;
    }
    if (deleted == 0)
        return;
    char n[24];
    snprintf(n, sizeof n, "%" PRIu64, deleted);
    ccip_log_info("relay archived published events past retention", "schema", r->schema, "archived",
                  n);
    pthread_mutex_lock(&r->mutex);
    r->stats.pruned += deleted;
    pthread_mutex_unlock(&r->mutex);
}

/* ---- waiting -------------------------------------------------------------- */

/* Takes every notification libpq has buffered. Returns 1 when there was
 * one. Notifications also arrive while other statements run, so they are
 * looked for before sleeping as well as after. */
static int s_take_notifies(PGconn *conn)
{
    int any = 0;
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL) {
        any = 1;
        PQfreemem(n);
    }
    return any;
}

/* Waits up to timeout_ms for a NOTIFY on the connection's socket. Returns 1
 * when one came. A broken connection shows as CONNECTION_BAD afterwards. */
static int s_wait(ccip_relay *r, int timeout_ms)
{
    PGconn *conn = ccip_db_conn(r->db);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        ccip_sleep_ms(timeout_ms);
        return 0;
    }
    if (s_take_notifies(conn))
        return 1;
    struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
    if (p.fd < 0) {
        ccip_sleep_ms(timeout_ms);
        return 0;
    }
    int n = poll(&p, 1, timeout_ms);
    if (n <= 0)
        return 0;
    if (!PQconsumeInput(conn))
        return 0;
    return s_take_notifies(conn);
}

/* ---- the thread ------------------------------------------------------------ */

static int64_t s_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static void *s_run(void *arg)
{
    ccip_relay *r = arg;
    int64_t next_lead = 0, next_look = 0, next_heartbeat = 0, next_prune = 0, last_drain = 0;
    int notified = 0;
    while (!s_stopping(r)) {
        PGconn *conn = ccip_db_conn(r->db);
        if (!conn || PQstatus(conn) != CONNECTION_OK) {
            /* The lock and the LISTEN died with the session. */
            s_lose_leadership(r, ccip_db_error(r->db));
            if (ccip_db_ensure(r->db, RECONNECT_SLICE_MS) < 0)
                continue;
            next_lead = 0;
            continue;
        }
        /* ccip_db_tx reconnects by itself when it finds the connection
         * gone; the new session holds neither the lock nor the LISTEN. */
        if (r->leader && PQbackendPID(conn) != r->leader_pid)
            s_lose_leadership(r, "the database session was replaced by a reconnect");
        int64_t now = ccip_mono_ms();
        if (!r->leader) {
            if (now < next_lead) {
                ccip_sleep_ms(s_min(TICK_MS, next_lead - now));
                continue;
            }
            next_lead = now + LEADER_RETRY_MS;
            if (s_try_lead(r) != 1)
                continue;
            /* Catch up with what was committed while nobody listened. */
            notified = 1;
            next_heartbeat = now;
            next_prune = now;
        }
        if (notified || now >= next_look) {
            if (notified && now - last_drain < DRAIN_GAP_MS)
                ccip_sleep_ms(DRAIN_GAP_MS - (now - last_drain));
            s_drain(r);
            last_drain = ccip_mono_ms();
            next_look = last_drain + TICK_MS;
            notified = 0;
        }
        now = ccip_mono_ms();
        if (r->head_known && now >= next_heartbeat) {
            s_heartbeat(r);
            next_heartbeat = now + r->heartbeat_ms;
        }
        if (r->retention_s > 0 && now >= next_prune) {
            s_prune(r);
            next_prune = ccip_mono_ms() + PRUNE_EVERY_MS;
        }
        now = ccip_mono_ms();
        int64_t wake = s_min(next_look, r->head_known ? next_heartbeat : next_look);
        int64_t timeout = s_min(wake - now, TICK_MS);
        notified = s_wait(r, timeout > 0 ? (int)timeout : 0);
    }
    if (r->leader)
        ccip_log_info("relay stopping, giving up the leadership", "schema", r->schema);
    /* The thread owns these: close them here, in the thread that used them. */
    ccip_sock_close(&r->pub);
    ccip_db_destroy(&r->db);
    return NULL;
}

/* ---- start / stop ------------------------------------------------------------ */

static int s_valid_name(const char *s)
{
    if (!s || !*s || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    }
    return 1;
}

ccip_relay *ccip_relay_start(const ccip_relay_config *cfg, char *err, size_t errlen)
{
    if (!cfg || !cfg->zmq_ctx || !cfg->conninfo || !cfg->publish_endpoint) {
        snprintf(err, errlen,
                 "could not start the relay: the configuration needs a zmq"
                 " context, a conninfo and a publish endpoint");
        return NULL;
    }
    if (!s_valid_name(cfg->service)) {
        snprintf(err, errlen,
                 "could not start the relay: service name \"%.64s\" is not [a-z][a-z0-9_]*",
                 cfg->service ? cfg->service : "");
        return NULL;
    }
    char channel[CCIP_OUTBOX_CHANNEL_SIZE];
    if (ccip_outbox_channel(cfg->schema, channel, sizeof channel) < 0) {
        snprintf(err, errlen,
                 "could not start the relay: schema \"%.64s\" is not [a-z_][a-z0-9_]* of at"
                 " most %d characters",
                 cfg->schema ? cfg->schema : "", CCIP_OUTBOX_SCHEMA_MAX);
        return NULL;
    }
    if (cfg->retention_seconds < 0 || cfg->heartbeat_ms < 0 || cfg->batch_size < 0) {
        snprintf(err, errlen,
                 "could not start the relay: retention, heartbeat interval and"
                 " batch size must not be negative");
        return NULL;
    }

    ccip_relay *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "could not start the relay: out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->mutex, NULL);
    atomic_init(&r->stop, 0);
    r->service = strdup(cfg->service);
    r->schema = strdup(cfg->schema);
    r->instance = strdup(cfg->instance ? cfg->instance : "");
    r->endpoint = strdup(cfg->publish_endpoint);
    r->retention_s = cfg->retention_seconds;
    r->heartbeat_ms = cfg->heartbeat_ms ? cfg->heartbeat_ms : CCIP_RELAY_HEARTBEAT_MS_DEFAULT;
    r->batch = cfg->batch_size ? cfg->batch_size : CCIP_RELAY_BATCH_DEFAULT;
    snprintf(r->listen_sql, sizeof r->listen_sql, "LISTEN \"%s\"", channel);
    snprintf(r->heartbeat_type, sizeof r->heartbeat_type, "%s%s", cfg->service,
             CCIP_RELAY_HEARTBEAT_SUFFIX);
    if (!r->service || !r->schema || !r->instance || !r->endpoint) {
        snprintf(err, errlen, "could not start the relay: out of memory");
        goto fail;
    }
    char why[256];
    if (ccip_type_check(r->heartbeat_type, why, sizeof why) < 0) {
        snprintf(err, errlen, "could not start the relay: heartbeat %s", why);
        goto fail;
    }

    char dberr[ERR_MAX];
    r->db = ccip_db_new_waiting(cfg->conninfo, cfg->connect_until_us, dberr, sizeof dberr);
    if (!r->db) {
        snprintf(err, errlen, "could not start the relay of schema %s: %s", r->schema, dberr);
        goto fail;
    }
    if (ccip_outbox_check_schema(r->db, r->schema, dberr, sizeof dberr) < 0) {
        snprintf(err, errlen, "could not start the relay: %s", dberr);
        goto fail;
    }

    r->pub = ccip_sock_connect(cfg->zmq_ctx, ZMQ_PUB, cfg->publish_endpoint, cfg->sock_opts, err,
                               errlen);
    if (!r->pub)
        goto fail;
    /* libzmq 4.3 applies a changed high-water mark to pipes that already
     * exist, so setting it after ccip_sock_connect still counts. */
    int hwm = CCIP_RELAY_SNDHWM;
    if (zmq_setsockopt(r->pub, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0) {
        snprintf(err, errlen, "could not configure the relay's socket for %s: %s",
                 cfg->publish_endpoint, zmq_strerror(zmq_errno()));
        goto fail;
    }

    /* pthread_create is a full memory barrier: the socket, created here,
     * is from now on used by the thread only. */
    if (pthread_create(&r->thread, NULL, s_run, r) != 0) {
        snprintf(err, errlen, "could not start the relay thread: %s", strerror(errno));
        goto fail;
    }
    r->thread_started = 1;
    return r;
fail:
    s_free(r);
    return NULL;
}

void ccip_relay_stop(ccip_relay **r)
{
    if (!r || !*r)
        return;
    ccip_relay *x = *r;
    atomic_store(&x->stop, 1);
    if (x->thread_started)
        pthread_join(x->thread, NULL);
    s_free(x);
    *r = NULL;
}

void ccip_relay_stats_get(ccip_relay *r, ccip_relay_stats *out)
{
    pthread_mutex_lock(&r->mutex);
    *out = r->stats;
    pthread_mutex_unlock(&r->mutex);
}
