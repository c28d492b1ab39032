/*
 * bus: the message bus of ccip. One process, three jobs, no business state:
 *
 *  - the command broker (ROUTER, bus_broker.c) that hands each command to a
 *    free replica of the service it names and routes the one reply back;
 *  - the event proxy (XSUB <- relays, XPUB -> subscribers, zmq_proxy) that
 *    fans each service's events out to every subscriber;
 *  - the ZAP handler that lets in only the CURVE keys of its keys directory.
 *
 * Usage: bus [-c bus.conf]. Exits 0 after SIGTERM, 1 on a start-up error.
 */
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
#include "ccip_keys.h"
#include "ccip_log.h"
#include "ccip_mdp.h"
#include "ccip_shutdown.h"
#include "ccip_sock.h"
#include "ccip_zap.h"

#define PROXY_CONTROL "inproc://bus-proxy-control"
#define EVENT_HWM     100000 /* events buffered per subscriber before PUB drops */

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
};
#define NFIELDS (sizeof s_fields / sizeof s_fields[0])

typedef struct {
    void *xsub;
    void *xpub;
    void *control;
} s_proxy;

static void *s_proxy_run(void *arg)
{
    s_proxy *p = arg;
    zmq_proxy_steerable(p->xsub, p->xpub, NULL, p->control);
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

    int rc = 1;
    void *ctx = zmq_ctx_new();
    ccip_keyring *keyring = NULL;
    ccip_zap *zap = NULL;
    bus_broker *broker = NULL;
    void *router = NULL, *xsub = NULL, *xpub = NULL, *control = NULL, *control_peer = NULL;
    pthread_t proxy_thread;
    int proxy_started = 0;
    ccip_keypair keys;

    if (ccip_shutdown_install() < 0 ||
        ccip_keypair_load(cfg.key_file, &keys, err, sizeof err) < 0 ||
        !(keyring = ccip_keyring_load(cfg.keys_dir, err, sizeof err)) ||
        !(zap = ccip_zap_start(ctx, keyring, err, sizeof err))) {
        ccip_log_error("could not start", "reason", err);
        goto out;
    }
    ccip_sock_opts so = {.keys = &keys, .max_message_bytes = cfg.max_message_bytes};
    if (!(router = ccip_sock_bind(ctx, ZMQ_ROUTER, cfg.command_endpoint, &so, err, sizeof err)) ||
        !(xsub = ccip_sock_bind(ctx, ZMQ_XSUB, cfg.publish_endpoint, &so, err, sizeof err)) ||
        !(xpub = ccip_sock_bind(ctx, ZMQ_XPUB, cfg.subscribe_endpoint, &so, err, sizeof err))) {
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
    s_proxy proxy = {xsub, xpub, control};
    if (pthread_create(&proxy_thread, NULL, s_proxy_run, &proxy) != 0) {
        ccip_log_error("could not start", "reason", "could not start the proxy thread");
        goto out;
    }
    proxy_started = 1;

    bus_broker_limits limits = {.max_queue = (size_t)cfg.max_queue,
                                .default_wait_us = cfg.default_wait_ms * 1000,
                                .max_message_bytes = (size_t)cfg.max_message_bytes};
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
    bus_broker_stats st;
    bus_broker_get_stats(broker, &st);
    char routed[32], rejected[32];
    snprintf(routed, sizeof routed, "%lu", st.routed);
    snprintf(rejected, sizeof rejected, "%lu", st.rejected);
    ccip_log_info("bus stopping", "routed", routed, "rejected", rejected);
    rc = 0;
out:
    if (proxy_started) {
        zmq_send(control_peer, "TERMINATE", 9, 0);
        pthread_join(proxy_thread, NULL);
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
