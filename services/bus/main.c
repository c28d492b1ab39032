/*
 * bus: the message bus of ccip. One process, three jobs, no business state:
 *
 *  - the command broker (ROUTER, bus_broker.c) that hands each command to a
 *    free replica of the service it names and routes the one reply back;
 *  - the event proxy (XSUB <- relays, XPUB -> subscribers) that fans each
 *    service's events out to every subscriber, passing on only what a
 *    service key publishes under its own service's topics;
 *  - the ZAP handler that lets in only the CURVE keys of its keys directory,
 *    each only where its kind may go (ccip_zap.h).
 *
 * Usage: bus [-c bus.conf]. Exits 0 after SIGTERM, 1 on a start-up error.
 */
#include <malloc.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "bus_broker.h"
#include "ccip_config.h"
#include "ccip_id.h"
#include "ccip_keys.h"
#include "ccip_log.h"
#include "ccip_mdp.h"
#include "ccip_shutdown.h"
#include "ccip_sock.h"
#include "ccip_zap.h"

#define PROXY_CONTROL "inproc://bus-proxy-control"
#define EVENT_HWM     100000 /* events buffered per subscriber before PUB drops */
#define EVENT_FRAMES  2      /* [topic][envelope] */
#define PROXY_BATCH   1000   /* messages forwarded per socket before looking at the others */
/* Allocations from this size up are mapped on their own and returned to
 * the system when freed: large commands must not leave the bus at its
 * peak size (glibc would otherwise raise the threshold as it sees them). */
#define MMAP_THRESHOLD (256 * 1024)

typedef struct {
    char *instance;           /* replica name on every log line */
    char *log_level;          /* debug, info, warn, error */
    char *command_endpoint;   /* ROUTER: clients and service replicas */
    char *publish_endpoint;   /* XSUB: service relays publish here */
    char *subscribe_endpoint; /* XPUB: consumers subscribe here */
    char *key_file;           /* the bus's own CURVE key pair */
    char *keys_dir;           /* public keys of the clients let in */
    int64_t max_message_bytes;
    int64_t max_queue;
    int64_t default_wait_ms;
    int64_t max_wait_ms;            /* longest any command waits, whatever its deadline */
    int64_t max_queued_bytes;       /* bytes waiting for one service */
    int64_t max_queued_bytes_total; /* bytes waiting for all services */
} bus_config;

static const ccip_config_field s_fields[] = {
    {"instance", CCIP_CFG_STRING, offsetof(bus_config, instance), 1, 63, "bus-1", "CCIP_INSTANCE",
     "a replica name such as bus-1"},
    {"log.level", CCIP_CFG_STRING, offsetof(bus_config, log_level), 1, 5, "info", "CCIP_LOG_LEVEL",
     "one of debug, info, warn, error"},
    {"bus.command_endpoint", CCIP_CFG_STRING, offsetof(bus_config, command_endpoint), 6, 255,
     "tcp://127.0.0.1:5555", "CCIP_BUS_COMMANDS", "an endpoint such as tcp://0.0.0.0:5555"},
    {"bus.publish_endpoint", CCIP_CFG_STRING, offsetof(bus_config, publish_endpoint), 6, 255,
     "tcp://127.0.0.1:5556", "CCIP_BUS_PUBLISH", "an endpoint such as tcp://0.0.0.0:5556"},
    {"bus.subscribe_endpoint", CCIP_CFG_STRING, offsetof(bus_config, subscribe_endpoint), 6, 255,
     "tcp://127.0.0.1:5557", "CCIP_BUS_SUBSCRIBE", "an endpoint such as tcp://0.0.0.0:5557"},
    {"curve.key_file", CCIP_CFG_STRING, offsetof(bus_config, key_file), 1, 1023, NULL,
     "CCIP_CURVE_KEY_FILE", "the path of the bus's .key file (ccipctl keygen bus)"},
    {"curve.keys_dir", CCIP_CFG_STRING, offsetof(bus_config, keys_dir), 1, 1023, NULL,
     "CCIP_CURVE_KEYS_DIR", "a directory of the .pub files of the clients let in"},
    {"limits.max_message_bytes", CCIP_CFG_INT, offsetof(bus_config, max_message_bytes), 1024,
     64 * 1024 * 1024, "4194304", NULL, NULL},
    {"limits.max_queue", CCIP_CFG_INT, offsetof(bus_config, max_queue), 1, 1000000, "10000", NULL,
     NULL},
    {"limits.default_wait_ms", CCIP_CFG_INT, offsetof(bus_config, default_wait_ms), 100, 600000,
     "30000", NULL, NULL},
    {"limits.max_wait_ms", CCIP_CFG_INT, offsetof(bus_config, max_wait_ms), 100, 600000, "60000",
     "CCIP_BUS_MAX_WAIT_MS", "milliseconds, 100 to 600000"},
    {"limits.max_queued_bytes", CCIP_CFG_INT, offsetof(bus_config, max_queued_bytes), 1024,
     (int64_t)1 << 40, "67108864", "CCIP_BUS_MAX_QUEUED_BYTES", "bytes, 1024 or more"},
    {"limits.max_queued_bytes_total", CCIP_CFG_INT, offsetof(bus_config, max_queued_bytes_total),
     1024, (int64_t)1 << 40, "268435456", "CCIP_BUS_MAX_QUEUED_BYTES_TOTAL", "bytes, 1024 or more"},
};
#define NFIELDS (sizeof s_fields / sizeof s_fields[0])

typedef struct {
    void *xsub;                  /* relays publish here */
    void *xpub;                  /* consumers subscribe here */
    void *control;               /* "TERMINATE" stops the thread */
    const ccip_keyring *keyring; /* borrowed */
    unsigned long forwarded;     /* events passed on */
    unsigned long refused;       /* events dropped */
    int64_t last_log_us;         /* refusals are logged at most once a second */
    unsigned long unlogged;      /* refusals since the last line */
} s_proxy;

/* NULL when the event's sender may publish it: a service key, under its
 * own service's topics ("<service>.", the prefix consumers subscribe to),
 * as one [topic][envelope] message. Otherwise why not. */
static const char *s_event_refused(const s_proxy *p, zmq_msg_t *f, int count, const char **peer)
{
    const char *user = zmq_msg_gets(&f[0], "User-Id");
    *peer = user ? user : "local";
    const ccip_key_entry *key = user ? ccip_keyring_find_name(p->keyring, user) : NULL;
    if (!key || key->binding.kind != CCIP_KEY_SERVICE)
        return "only a service key may publish events";
    if (count != EVENT_FRAMES)
        return "an event is one message of two frames [topic][envelope]";
    size_t n = strlen(key->binding.service), len = zmq_msg_size(&f[0]);
    const char *topic = zmq_msg_data(&f[0]);
    if (len <= n + 1 || memcmp(topic, key->binding.service, n) != 0 || topic[n] != '.')
        return "the key may publish only under its own service's topics";
    return NULL;
}

/* Passes on the events waiting on the XSUB that their sender may publish,
 * and drops (and logs, with the key's name) the others. */
static void s_forward_events(s_proxy *p)
{
    for (int m = 0; m < PROXY_BATCH; m++) {
        zmq_msg_t f[EVENT_FRAMES + 1];
        int count = ccip_sock_recv_parts(p->xsub, f, EVENT_FRAMES + 1, ZMQ_DONTWAIT);
        if (count < 0)
            return;
        const char *peer = "?";
        const char *why = count <= EVENT_FRAMES + 1 ? s_event_refused(p, f, count, &peer)
                                                    : "an event is one message of two frames";
        if (!why) {
            if (zmq_msg_send(&f[0], p->xpub, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
                zmq_msg_send(&f[1], p->xpub, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&f[0]);
                zmq_msg_close(&f[1]);
            }
            p->forwarded++;
            continue;
        }
        p->refused++;
        int64_t now = ccip_now_us();
        if (now - p->last_log_us >= 1000000) {
            char topic[80] = "", skipped[24];
            if (count >= 1 && count <= EVENT_FRAMES + 1)
                snprintf(topic, sizeof topic, "%.*s",
                         (int)(zmq_msg_size(&f[0]) < 64 ? zmq_msg_size(&f[0]) : 64),
                         (const char *)zmq_msg_data(&f[0]));
            snprintf(skipped, sizeof skipped, "%lu", p->unlogged);
            ccip_log_warn("refused an event", "key", peer, "topic", topic, "reason", why,
                          "unlogged_before", skipped);
            p->last_log_us = now;
            p->unlogged = 0;
        } else {
            p->unlogged++;
        }
        for (int i = 0; count <= EVENT_FRAMES + 1 && i < count; i++)
            zmq_msg_close(&f[i]);
    }
}

/* Passes subscriptions from the XPUB up to the publishers. Who may
 * subscribe at all is the ZAP handler's decision (CCIP_ZAP_DOMAIN_SUBSCRIBE). */
static void s_forward_subscriptions(s_proxy *p)
{
    for (int m = 0; m < PROXY_BATCH; m++) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, p->xpub, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        int more = zmq_msg_more(&msg);
        if (zmq_msg_send(&msg, p->xsub, (more ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) < 0)
            zmq_msg_close(&msg);
    }
}

/* The proxy's thread: zmq_proxy with a look at every event. */
static void *s_proxy_run(void *arg)
{
    s_proxy *p = arg;
    for (;;) {
        zmq_pollitem_t items[] = {{p->xsub, 0, ZMQ_POLLIN, 0},
                                  {p->xpub, 0, ZMQ_POLLIN, 0},
                                  {p->control, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 3, -1) < 0) {
            if (zmq_errno() == ETERM)
                break;
            continue;
        }
        if (items[2].revents & ZMQ_POLLIN) {
            char cmd[16];
            int n = zmq_recv(p->control, cmd, sizeof cmd, ZMQ_DONTWAIT);
            if (n == 9 && memcmp(cmd, "TERMINATE", 9) == 0)
                break;
        }
        if (items[0].revents & ZMQ_POLLIN)
            s_forward_events(p);
        if (items[1].revents & ZMQ_POLLIN)
            s_forward_subscriptions(p);
    }
    return NULL;
}

static int s_usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [-c FILE]\n  -c FILE  configuration (default: defaults and "
            "environment only)\n",
            argv0);
    return 2;
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "c:h")) != -1) {
        if (opt == 'c')
            file = optarg;
        else
            return s_usage(argv[0]);
    }
    bus_config cfg;
    memset(&cfg, 0, sizeof cfg);
    char err[512];
    ccip_log_init("bus", "bus", CCIP_LOG_INFO);
    if (ccip_config_load(file, s_fields, NFIELDS, &cfg, NULL, err, sizeof err) < 0) {
        ccip_log_error("could not load configuration", "reason", err);
        return 1;
    }
    ccip_log_level level;
    if (ccip_log_level_parse(cfg.log_level, &level) < 0) {
        ccip_log_error("could not load configuration", "reason",
                       "`log.level` must be one of debug, info, warn, error");
        ccip_config_release(s_fields, NFIELDS, &cfg);
        return 1;
    }
    ccip_log_init("bus", cfg.instance, level);

    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    int rc = 1;
    void *ctx = zmq_ctx_new();
    ccip_keyring *keyring = NULL;
    ccip_zap *zap = NULL;
    bus_broker *broker = NULL;
    void *router = NULL, *xsub = NULL, *xpub = NULL, *control = NULL, *control_peer = NULL;
    pthread_t proxy_thread;
    int proxy_started = 0;
    s_proxy proxy = {0};
    bus_broker_stats st = {0};
    ccip_keypair keys;

    if (ccip_shutdown_install() < 0 ||
        ccip_keypair_load(cfg.key_file, &keys, err, sizeof err) < 0 ||
        !(keyring = ccip_keyring_load(cfg.keys_dir, err, sizeof err)) ||
        !(zap = ccip_zap_start(ctx, keyring, err, sizeof err))) {
        ccip_log_error("could not start", "reason", err);
        goto out;
    }
    /* One ZAP domain per socket: the ZAP handler lets each kind of key in
     * only where it may go (ccip_zap.h). */
    ccip_sock_opts so = {.keys = &keys, .max_message_bytes = cfg.max_message_bytes};
    ccip_sock_opts so_pub = so, so_sub = so;
    so_pub.zap_domain = CCIP_ZAP_DOMAIN_PUBLISH;
    so_sub.zap_domain = CCIP_ZAP_DOMAIN_SUBSCRIBE;
    if (!(router = ccip_sock_bind(ctx, ZMQ_ROUTER, cfg.command_endpoint, &so, err, sizeof err)) ||
        !(xsub = ccip_sock_bind(ctx, ZMQ_XSUB, cfg.publish_endpoint, &so_pub, err, sizeof err)) ||
        !(xpub = ccip_sock_bind(ctx, ZMQ_XPUB, cfg.subscribe_endpoint, &so_sub, err, sizeof err))) {
        ccip_log_error("could not start", "reason", err);
        goto out;
    }
    int hwm = EVENT_HWM;
    zmq_setsockopt(xpub, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(xsub, ZMQ_RCVHWM, &hwm, sizeof hwm);
    control = zmq_socket(ctx, ZMQ_PAIR);
    control_peer = zmq_socket(ctx, ZMQ_PAIR);
    if (!control || !control_peer || zmq_bind(control, PROXY_CONTROL) != 0 ||
        zmq_connect(control_peer, PROXY_CONTROL) != 0) {
        ccip_log_error("could not start", "reason", "could not create the proxy control pair");
        goto out;
    }
    proxy = (s_proxy){.xsub = xsub, .xpub = xpub, .control = control, .keyring = keyring};
    if (pthread_create(&proxy_thread, NULL, s_proxy_run, &proxy) != 0) {
        ccip_log_error("could not start", "reason", "could not start the proxy thread");
        goto out;
    }
    proxy_started = 1;

    bus_broker_limits limits = {.max_queue = (size_t)cfg.max_queue,
                                .default_wait_us = cfg.default_wait_ms * 1000,
                                .max_wait_us = cfg.max_wait_ms * 1000,
                                .max_message_bytes = (size_t)cfg.max_message_bytes,
                                .max_queued_bytes = (size_t)cfg.max_queued_bytes,
                                .max_queued_bytes_total = (size_t)cfg.max_queued_bytes_total};
    broker = bus_broker_new(router, keyring, &limits, cfg.instance);
    if (!broker) {
        ccip_log_error("could not start", "reason", "out of memory");
        goto out;
    }
    char nkeys[32];
    snprintf(nkeys, sizeof nkeys, "%zu", ccip_keyring_size(keyring));
    ccip_log_info("bus ready", "commands", cfg.command_endpoint, "publish", cfg.publish_endpoint,
                  "subscribe", cfg.subscribe_endpoint, "keys", nkeys, "version", CCIP_VERSION);

    while (!ccip_shutdown_requested()) {
        zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&item, 1, CCIP_MDP_HEARTBEAT_MS / 4);
        if (n > 0 && bus_broker_drain(broker) < 0)
            break;
        bus_broker_tick(broker);
    }
    bus_broker_disconnect_all(broker);
    bus_broker_get_stats(broker, &st);
    rc = 0;
out:
    if (proxy_started) {
        zmq_send(control_peer, "TERMINATE", 9, 0);
        pthread_join(proxy_thread, NULL);
    }
    if (broker) {
        char routed[32], rejected[32], events[32], events_refused[32];
        snprintf(routed, sizeof routed, "%lu", st.routed);
        snprintf(rejected, sizeof rejected, "%lu", st.rejected);
        snprintf(events, sizeof events, "%lu", proxy.forwarded);
        snprintf(events_refused, sizeof events_refused, "%lu", proxy.refused);
        ccip_log_info("bus stopping", "routed", routed, "rejected", rejected, "events", events,
                      "events_refused", events_refused);
    }
    bus_broker_destroy(&broker);
    ccip_sock_close(&router);
    ccip_sock_close(&xsub);
    ccip_sock_close(&xpub);
    ccip_sock_close(&control);
    ccip_sock_close(&control_peer);
    ccip_zap_stop(&zap);
    zmq_ctx_term(ctx);
    ccip_keyring_destroy(&keyring);
    ccip_config_release(s_fields, NFIELDS, &cfg);
    return rc;
}
