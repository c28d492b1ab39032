#include "gateway.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "ccip_keys.h"
#include "ccip_log.h"
#include "gateway_commands.h"
#include "gateway_crypto.h"
#include "gateway_http.h"
#include "gateway_routes.h"

CCIP_MIGRATIONS_DECLARE(gateway);

const char *const gateway_roles_manage[] = {"admin", "staff", NULL};
const char *const gateway_roles_invite[] = {"admin", "staff", "applicant", NULL};

static const ccip_command_handler s_commands[] = {
    {"gateway.account.get.v1", 0, gateway_roles_manage, gateway_cmd_account_get, NULL,
     &ccip__gateway__get_account_request__descriptor, &ccip__gateway__account_reply__descriptor},
    {"gateway.account.list.v1", 0, gateway_roles_manage, gateway_cmd_account_list, NULL,
     &ccip__gateway__list_accounts_request__descriptor,
     &ccip__gateway__list_accounts_reply__descriptor},
    {"gateway.binding.grant.v1", 1, gateway_roles_manage, gateway_cmd_binding_grant, NULL,
     &ccip__gateway__grant_binding_request__descriptor, &ccip__gateway__binding_reply__descriptor},
    {"gateway.binding.revoke.v1", 1, gateway_roles_manage, gateway_cmd_binding_revoke, NULL,
     &ccip__gateway__revoke_binding_request__descriptor, &ccip__gateway__binding_reply__descriptor},
    {"gateway.invitation.create.v1", 1, gateway_roles_invite, gateway_cmd_invitation_create, NULL,
     &ccip__gateway__create_invitation_request__descriptor,
     &ccip__gateway__invitation_reply__descriptor},
    {"gateway.password_reset.issue.v1", 1, gateway_roles_manage, gateway_cmd_reset_issue, NULL,
     &ccip__gateway__issue_reset_request__descriptor, &ccip__gateway__reset_reply__descriptor},
};

#define CFG(field) offsetof(gateway_config, field)

static const ccip_config_field s_config_fields[] = {
    {"gateway.http_listen", CCIP_CFG_STRING, CFG(http_listen), 3, 255, "127.0.0.1:8080",
     "CCIP_GATEWAY_LISTEN",
     "host:port of the HTTP front, e.g. 127.0.0.1:8080 (any other address than loopback needs "
     "gateway.tls_cert_file and gateway.tls_key_file)"},
    {"gateway.front_door_key_file", CCIP_CFG_STRING, CFG(front_door_key_file), 0, 1023, "",
     "CCIP_GATEWAY_FRONT_DOOR_KEY_FILE",
     "the CURVE key pair the gateway sends people's commands with: a front door for any person "
     "(ccipctl keygen gateway-front --front-door --any-person); service.key_file stays its "
     "service key, bound to the gateway"},
    {"gateway.http_threads", CCIP_CFG_INT, CFG(http_threads), 1, 256, "16",
     "CCIP_GATEWAY_HTTP_THREADS",
     "HTTP threads, each serving its connections and holding one bus client: requests in "
     "hand at once"},
    {"gateway.http_db_connections", CCIP_CFG_INT, CFG(http_db_connections), 1, 64, "4",
     "CCIP_GATEWAY_HTTP_DB_CONNECTIONS",
     "database connections the HTTP threads share (sessions, sign-in)"},
    {"gateway.tls_cert_file", CCIP_CFG_STRING, CFG(tls_cert_file), 0, 1023, "",
     "CCIP_GATEWAY_TLS_CERT_FILE", "a PEM certificate (chain) for HTTPS"},
    {"gateway.tls_key_file", CCIP_CFG_STRING, CFG(tls_key_file), 0, 1023, "",
     "CCIP_GATEWAY_TLS_KEY_FILE", "the PEM private key of gateway.tls_cert_file"},
    {"gateway.max_body_bytes", CCIP_CFG_INT, CFG(max_body_bytes), 1024, 16 * 1024 * 1024, "1048576",
     "CCIP_GATEWAY_MAX_BODY_BYTES", "the largest JSON request body, in bytes"},
    {"gateway.max_document_bytes", CCIP_CFG_INT, CFG(max_document_bytes), 1024, 32 * 1024 * 1024,
     "2097152", "CCIP_GATEWAY_MAX_DOCUMENT_BYTES",
     "the largest document upload, in bytes (intake.max_document_bytes or less)"},
    {"gateway.request_timeout_s", CCIP_CFG_INT, CFG(request_timeout_s), 1, 3600, "30",
     "CCIP_GATEWAY_REQUEST_TIMEOUT_S",
     "seconds a request may take to arrive whole (and a connection may stay idle)"},
    {"gateway.command_timeout_ms", CCIP_CFG_INT, CFG(command_timeout_ms), 100, 600000, "5000",
     "CCIP_GATEWAY_COMMAND_TIMEOUT_MS", "milliseconds to wait for a service's reply"},
    {"gateway.session_idle_s", CCIP_CFG_INT, CFG(session_idle_s), 60, 7 * 86400, "1800",
     "CCIP_GATEWAY_SESSION_IDLE_S", "seconds a session lives without a request"},
    {"gateway.session_absolute_s", CCIP_CFG_INT, CFG(session_absolute_s), 300, 30 * 86400, "43200",
     "CCIP_GATEWAY_SESSION_ABSOLUTE_S", "seconds a session lives at most"},
    {"gateway.session_cache_ms", CCIP_CFG_INT, CFG(session_cache_ms), 0, 60000, "1000",
     "CCIP_GATEWAY_SESSION_CACHE_MS",
     "milliseconds a session looked up in the database is reused without looking again; a "
     "sign-out or binding change made through another gateway process, or by ccipctl, acts "
     "here after at most this long (0: every request looks its session up)"},
    {"gateway.throttle_free_failures", CCIP_CFG_INT, CFG(throttle_free_failures), 1, 1000, "5",
     NULL, "failed sign-ins in a row of one login before each next one is delayed"},
    {"gateway.throttle_addr_failures", CCIP_CFG_INT, CFG(throttle_addr_failures), 1, 100000, "50",
     "CCIP_GATEWAY_THROTTLE_ADDR_FAILURES",
     "failed sign-ins in a row from one client address before delays start (many people may "
     "share one address)"},
    {"gateway.throttle_lock_failures", CCIP_CFG_INT, CFG(throttle_lock_failures), 2, 100000, "10",
     NULL, "failed sign-ins in a row of one login that lock it for gateway.throttle_lock_s"},
    {"gateway.throttle_lock_s", CCIP_CFG_INT, CFG(throttle_lock_s), 1, 86400, "900", NULL,
     "seconds a lock lasts; failures older than this are forgotten"},
    {"gateway.argon2_ops", CCIP_CFG_INT, CFG(argon2_ops), 1, 20, "2", "CCIP_GATEWAY_ARGON2_OPS",
     "argon2id passes (libsodium's interactive level is 2)"},
    {"gateway.argon2_mem_kib", CCIP_CFG_INT, CFG(argon2_mem_kib), 8, 4 * 1024 * 1024, "65536",
     "CCIP_GATEWAY_ARGON2_MEM_KIB", "argon2id memory in KiB (interactive level: 65536)"},
    {"gateway.invitation_hours", CCIP_CFG_INT, CFG(invitation_hours), 1, 24 * 30, "72", NULL,
     "hours an invitation is valid unless its issuer says otherwise"},
    {"gateway.totp_issuer", CCIP_CFG_STRING, CFG(totp_issuer), 1, 64, "ccip", NULL,
     "the name authenticator apps show for the TOTP secret"},
    {"gateway.web_dir", CCIP_CFG_STRING, CFG(web_dir), 0, 1023, "", "CCIP_GATEWAY_WEB_DIR",
     "the web console's folder (services/gateway/web), read at start-up and served at / "
     "(gateway_static.h); \"\" serves the API only"},
};

static const ccip_consumer_handler s_intake_handlers[] = {
    {"intake.organisation.verified.v1", gateway_on_organisation_verified},
};

static const ccip_subscription s_subscriptions[] = {
    {"intake", CCIP_TABLE(s_intake_handlers)},
};

static int s_start(const ccip_service *svc, char *err, size_t errlen);
static void s_stop(const ccip_service *svc);

const ccip_service_def gateway_def = {
    .name = "gateway",
    /* who may replay its events: the services that subscribe to them
     * (tests/services/test_service_defs.c checks both sides) */
    .consumers = (const char *const[]){"notify", NULL},
    .migrations = gateway_migrations,
    CCIP_DEF_TABLE(commands, s_commands),
    CCIP_DEF_TABLE(subscriptions, s_subscriptions),
    CCIP_DEF_TABLE(config_fields, s_config_fields),
    .config_size = sizeof(gateway_config),
    .start = s_start,
    .stop = s_stop,
};

/* ---- the runtime -------------------------------------------------------------- */

struct gateway_runtime {
    const ccip_service *svc;
    const gateway_config *cfg;
    void *zmq_ctx;
    ccip_keypair keys;         /* gateway.front_door_key_file: people's commands go with it */
    ccip_keypair service_keys; /* service.key_file: the gateway's own questions (role service) */
    char server_key[CCIP_KEY_Z85_LEN + 1]; /* the bus's public key */
    char conninfo[1024];
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t freed;
    ccip_db **dbs; /* the HTTP side's connections; NULL entries are lent out */
    size_t ndbs;
    ccip_client **clients; /* every thread's bus client, freed at stop */
    size_t nclients, capclients;
    unsigned generation; /* a new runtime invalidates threads' cached clients */
    gateway_http *http;
};

static gateway_runtime *s_rt;
static unsigned s_generation;
static _Thread_local ccip_client *s_tl_client;
static _Thread_local unsigned s_tl_generation;
static _Thread_local ccip_client *s_tl_service_client;
static _Thread_local unsigned s_tl_service_generation;

gateway_runtime *gateway_runtime_get(void)
{
    return s_rt;
}

const gateway_config *gateway_cfg(const gateway_runtime *rt)
{
    return rt->cfg;
}

const char *gateway_conninfo(const gateway_runtime *rt)
{
    return rt->conninfo;
}

const char *gateway_instance(const gateway_runtime *rt)
{
    return rt->cfg->base.instance;
}

struct ccip_metrics *gateway_metrics(const gateway_runtime *rt)
{
    return rt->svc ? ccip_service_metrics(rt->svc) : NULL;
}

/* The calling thread's client with the given key pair, made on first use
 * and kept in *tl until the runtime changes. */
static ccip_client *s_thread_client(gateway_runtime *rt, const ccip_keypair *keys, ccip_client **tl,
                                    unsigned *tl_generation, char *err, size_t errlen)
{
    if (*tl && *tl_generation == rt->generation)
        return *tl;
    ccip_sock_opts so = {.keys = keys,
                         .server_public = rt->server_key,
                         .max_message_bytes = rt->cfg->base.max_message_bytes};
    ccip_client *c =
        ccip_client_new(rt->zmq_ctx, rt->cfg->base.bus_command_endpoint, &so, err, errlen);
    if (!c)
        return NULL;
    pthread_mutex_lock(&rt->mu);
    if (rt->nclients == rt->capclients) {
        size_t cap = rt->capclients ? rt->capclients * 2 : 16;
        ccip_client **grown = realloc(rt->clients, cap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&rt->mu);
            ccip_client_destroy(&c);
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        rt->clients = grown;
        rt->capclients = cap;
    }
    rt->clients[rt->nclients++] = c;
    pthread_mutex_unlock(&rt->mu);
    *tl = c;
    *tl_generation = rt->generation;
    return c;
}

ccip_client *gateway_bus_client(gateway_runtime *rt, char *err, size_t errlen)
{
    return s_thread_client(rt, &rt->keys, &s_tl_client, &s_tl_generation, err, errlen);
}

ccip_client *gateway_service_client(gateway_runtime *rt, char *err, size_t errlen)
{
    return s_thread_client(rt, &rt->service_keys, &s_tl_service_client, &s_tl_service_generation,
                           err, errlen);
}

ccip_db *gateway_db_acquire(gateway_runtime *rt, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    ccip_db *db = NULL;
    pthread_mutex_lock(&rt->mu);
    for (;;) {
        for (size_t i = 0; i < rt->ndbs && !db; i++)
            if (rt->dbs[i]) {
                db = rt->dbs[i];
                rt->dbs[i] = NULL;
            }
        if (db || pthread_cond_timedwait(&rt->freed, &rt->mu, &until) != 0)
            break;
    }
    pthread_mutex_unlock(&rt->mu);
    /* A connection that broke since it was last used comes back here; the
     * caller's ccip_db_tx would reconnect too, but a plain read would not. */
    if (db && ccip_db_ensure(db, 2000) < 0)
        ccip_log_warn("the gateway's database connection is down", "reason", ccip_db_error(db));
    return db;
}

void gateway_db_release(gateway_runtime *rt, ccip_db *db)
{
    if (!db)
        return;
    pthread_mutex_lock(&rt->mu);
    for (size_t i = 0; i < rt->ndbs; i++)
        if (!rt->dbs[i]) {
            rt->dbs[i] = db;
            db = NULL;
            break;
        }
    pthread_cond_signal(&rt->freed);
    pthread_mutex_unlock(&rt->mu);
    ccip_db_destroy(&db); /* only when the pool was full: a programming error */
}

/* ---- start and stop ----------------------------------------------------------- */

/* Appends key='value' to a libpq conninfo string, quoted as libpq wants. */
static void s_conninfo_add(char *buf, size_t size, const char *key, const char *value)
{
    size_t n = strlen(buf);
    n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s='", n ? " " : "", key);
    for (const char *p = value; *p && n + 3 < size; p++) {
        if (*p == '\'' || *p == '\\')
            buf[n++] = '\\';
        buf[n++] = *p;
    }
    if (n + 2 <= size) {
        buf[n++] = '\'';
        buf[n] = '\0';
    }
}

static void s_runtime_free(gateway_runtime *rt)
{
    if (!rt)
        return;
    gateway_http_stop(&rt->http);
    for (size_t i = 0; i < rt->nclients; i++)
        ccip_client_destroy(&rt->clients[i]);
    free(rt->clients);
    if (rt->zmq_ctx)
        zmq_ctx_term(rt->zmq_ctx);
    for (size_t i = 0; rt->dbs && i < rt->ndbs; i++)
        ccip_db_destroy(&rt->dbs[i]);
    free(rt->dbs);
    pthread_mutex_destroy(&rt->mu);
    pthread_cond_destroy(&rt->freed);
    free(rt);
}

static int s_start(const ccip_service *svc, char *err, size_t errlen)
{
    const gateway_config *cfg = ccip_service_config_get(svc);
    if (gateway_crypto_init(err, errlen) < 0)
        return -1;
    gateway_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rt->svc = svc;
    rt->cfg = cfg;
    rt->generation = ++s_generation;
    pthread_mutex_init(&rt->mu, NULL);
    pthread_cond_init(&rt->freed, NULL);
    /* Two keys, each bound to one thing (ccip_keys.h): the service key the
     * skeleton registers and publishes with, and this front door, which may
     * claim the people the gateway authenticated. */
    if (!cfg->front_door_key_file[0]) {
        snprintf(err, errlen,
                 "gateway.front_door_key_file is empty: name the gateway's front-door key pair "
                 "(made by ccipctl keygen gateway-front --front-door --any-person), or set "
                 "CCIP_GATEWAY_FRONT_DOOR_KEY_FILE");
        goto fail;
    }
    if (ccip_keypair_load(cfg->front_door_key_file, &rt->keys, err, errlen) < 0 ||
        ccip_keypair_load(cfg->base.key_file, &rt->service_keys, err, errlen) < 0 ||
        ccip_public_key_load(cfg->base.server_key_file, rt->server_key, err, errlen) < 0)
        goto fail;
    char port[24], options[64];
    snprintf(port, sizeof port, "%lld", (long long)cfg->base.db_port);
    snprintf(options, sizeof options, "-csearch_path=%s", svc ? ccip_service_name(svc) : "gateway");
    const char *keys[] = {"host",   "port", "dbname", "user", "password", "application_name",
                          "options"};
    const char *vals[] = {
        cfg->base.db_host,  port,   cfg->base.db_name, cfg->base.db_user, cfg->base.db_password,
        cfg->base.instance, options};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        s_conninfo_add(rt->conninfo, sizeof rt->conninfo, keys[i], vals[i]);
    rt->ndbs = (size_t)cfg->http_db_connections;
    rt->dbs = calloc(rt->ndbs, sizeof *rt->dbs);
    if (!rt->dbs) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < rt->ndbs; i++)
        if (!(rt->dbs[i] = ccip_db_new(rt->conninfo, err, errlen)))
            goto fail;
    if (gateway_routes_init(err, errlen) < 0)
        goto fail;
    rt->zmq_ctx = zmq_ctx_new();
    if (!rt->zmq_ctx) {
        snprintf(err, errlen, "could not make a ZeroMQ context");
        goto fail;
    }
    s_rt = rt;
    if (!(rt->http = gateway_http_start(rt, err, errlen))) {
        s_rt = NULL;
        goto fail;
    }
    return 0;
fail:
    s_runtime_free(rt);
    gateway_crypto_done();
    return -1;
}

static void s_stop(const ccip_service *svc)
{
    (void)svc;
    gateway_runtime *rt = s_rt;
    if (!rt)
        return;
    /* The HTTP threads finish their requests in hand first; nothing uses
     * the bus clients or the connections after that. */
    gateway_http_stop(&rt->http);
    s_rt = NULL;
    s_runtime_free(rt);
    gateway_routes_done();
    gateway_crypto_done();
}
