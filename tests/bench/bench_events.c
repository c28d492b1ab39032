/*
 * bench_events: commit-to-consumer-commit latency of the durable topics.
 *
 * Starts a private bus, probea (producer) and probeb (consumer) against the
 * PostgreSQL that scripts/bench started, then emits N events at a steady
 * rate (10 events per command, 1 command every 10 ms = 1,000 events/s).
 * Each event's occurred_at is taken inside the producer's transaction and
 * its applied_at inside the consumer's, so the difference is the
 * commit-to-commit latency plus well under a millisecond of transaction
 * tail. Counts lost (never applied) and duplicated (applied twice) events.
 *
 * Last line: bench events: p50_ms=… p99_ms=… lost=N duplicated=N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test_proc.h"
#include "probe.pb-c.h"

#define PER_COMMAND 10

int main(int argc, char **argv)
{
    long total = argc > 1 ? atol(argv[1]) : 20000;
    long rate = argc > 2 ? atol(argv[2]) : 1000;
    ccip_test_env env;
    if (ccip_test_env_init(&env) < 0 || ccip_test_start_bus(&env) < 0 ||
        ccip_test_start_service(&env, "tests/integration/probe/probea", "probea", "probea-1") < 0 ||
        ccip_test_start_service(&env, "tests/integration/probe/probeb", "probeb", "probeb-1") < 0) {
        fprintf(stderr, "bench events: could not start the services\n");
        ccip_test_env_cleanup(&env, 1);
        return 1;
    }
    void *ctx = zmq_ctx_new();
    char err[256];
    ccip_sock_opts so = {.keys = &env.client_keys, .server_public = env.bus_keys.public_key};
    ccip_client *c = ccip_client_new(ctx, env.commands, &so, err, sizeof err);
    long long head0 = ccip_test_wait_count("probea", "SELECT head FROM outbox_state", 0, 10000);
    /* Wait until probeb has caught up with whatever an earlier run left. */
    ccip_test_wait_count("probeb", "SELECT count(*) FROM applied", head0, 30000);

    int64_t interval_us = 1000000LL * PER_COMMAND / rate;
    int64_t next = ccip_now_us();
    for (long sent = 0; sent < total; sent += PER_COMMAND) {
        int64_t now = ccip_now_us();
        if (next > now)
            ccip_test_sleep_ms((int)((next - now) / 1000));
        next += interval_us;
        char id[CCIP_UUID_STRLEN + 1];
        ccip_uuid_v7(id);
        Probe__EmitRequest rq = PROBE__EMIT_REQUEST__INIT;
        rq.count = PER_COMMAND;
        rq.tag = "bench";
        uint8_t buf[64];
        Ccip__Envelope e = CCIP__ENVELOPE__INIT;
        e.id = id;
        e.type = "probea.emit.v1";
        e.payload.data = buf;
        e.payload.len = probe__emit_request__pack(&rq, buf);
        Ccip__Envelope *r = ccip_client_call(c, "probea", &e, 5000, 5, err, sizeof err);
        if (!r || r->status != 0) {
            fprintf(stderr, "bench events: emit failed: %s\n", r ? r->error : err);
            ccip_envelope_free(&r);
            ccip_test_env_cleanup(&env, 1);
            return 1;
        }
        ccip_envelope_free(&r);
    }
    long long want = head0 + total;
    ccip_test_wait_count("probeb", "SELECT count(*) FROM applied", want, 60000);
    ccip_test_sleep_ms(500); /* a late duplicate would show up here */
    char q[512];
    snprintf(q, sizeof q, "SELECT count(DISTINCT position) FROM applied WHERE position > %lld",
             head0);
    long long distinct = ccip_test_query_number("probeb", q);
    snprintf(q, sizeof q, "SELECT count(*) FROM applied WHERE position > %lld", head0);
    long long rows = ccip_test_query_number("probeb", q);
    snprintf(q, sizeof q,
             "SELECT (percentile_disc(0.5) WITHIN GROUP (ORDER BY applied_at_us - "
             "occurred_at_us)) FROM applied WHERE position > %lld",
             head0);
    long long p50 = ccip_test_query_number("probeb", q);
    snprintf(q, sizeof q,
             "SELECT (percentile_disc(0.99) WITHIN GROUP (ORDER BY applied_at_us - "
             "occurred_at_us)) FROM applied WHERE position > %lld",
             head0);
    long long p99 = ccip_test_query_number("probeb", q);
    ccip_client_destroy(&c);
    zmq_ctx_term(ctx);
    ccip_test_env_cleanup(&env, 0);
    printf("bench events: p50_ms=%.2f p99_ms=%.2f lost=%lld duplicated=%lld\n",
           (double)p50 / 1000.0, (double)p99 / 1000.0, total - distinct, rows - distinct);
    return 0;
}
