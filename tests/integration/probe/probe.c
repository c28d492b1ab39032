#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "probe.pb-c.h"

CCIP_MIGRATIONS_DECLARE(probea);
CCIP_MIGRATIONS_DECLARE(probeb);

#define EMIT_MAX 5000 /* events one command may ask for */

static const ccip_db_stmt S_EMIT = {"probea_emit",
                                    "INSERT INTO emitted (tag) VALUES ($1) RETURNING n"};

static int s_emit(ccip_command *cmd)
{
    char err[256];
    Probe__EmitRequest *rq = (Probe__EmitRequest *)ccip_payload_unpack(
        &probe__emit_request__descriptor, cmd->req->payload.data, cmd->req->payload.len, 4096, err,
        sizeof err);
    if (!rq)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    int rc = 0;
    if (rq->count < 1 || rq->count > EMIT_MAX) {
        ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                          "field `count` must be between 1 and %d, got %u", EMIT_MAX, rq->count);
        goto out;
    }
    Probe__EmitReply reply = PROBE__EMIT_REPLY__INIT;
    for (uint32_t i = 0; i < rq->count; i++) {
        PGresult *res = NULL;
        const char *tag = rq->tag;
        rc = ccip_db_exec(cmd->db, &S_EMIT, 1, &tag, NULL, NULL, &res);
        if (rc != CCIP_DB_OK)
            goto out;
        uint64_t n = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        if (i == 0)
            reply.first = n;
        reply.last = n;
        Probe__ThingHappened ev = PROBE__THING_HAPPENED__INIT;
        ev.n = n;
        ev.tag = rq->tag;
        uint8_t buf[256];
        size_t len = probe__thing_happened__pack(&ev, buf);
        char id[32];
        snprintf(id, sizeof id, "%llu", (unsigned long long)n);
        rc = ccip_command_emit(cmd, "probea.thing.happened.v1", "thing", id, buf, len);
        if (rc != 0)
            goto out;
    }
    cmd->payload_len = probe__emit_reply__get_packed_size(&reply);
    cmd->payload = malloc(cmd->payload_len + 1);
    if (!cmd->payload) {
        ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        goto out;
    }
    probe__emit_reply__pack(&reply, cmd->payload);
out:
    protobuf_c_message_free_unpacked(&rq->base, NULL);
    return rc;
}

static const ccip_command_handler s_probea_commands[] = {
    {"probea.emit.v1", 1, NULL, s_emit, NULL},
};

const ccip_service_def probea_def = {
    .name = "probea",
    .migrations = probea_migrations,
    .commands = s_probea_commands,
    .ncommands = sizeof s_probea_commands / sizeof s_probea_commands[0],
};

static const ccip_db_stmt S_APPLY = {
    "probeb_apply", "INSERT INTO applied (position, event_id, n, occurred_at_us, applied_at_us) "
                    "VALUES ($1, $2, $3, $4, $5)"};

static int s_apply(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    char err[256];
    Probe__ThingHappened *t = (Probe__ThingHappened *)ccip_payload_unpack(
        &probe__thing_happened__descriptor, ev->payload.data, ev->payload.len, 4096, err,
        sizeof err);
    if (!t)
        return -1;
    char pos[24], n[24], occurred[24], now[24];
    snprintf(pos, sizeof pos, "%llu", (unsigned long long)ev->position);
    snprintf(n, sizeof n, "%llu", (unsigned long long)t->n);
    snprintf(occurred, sizeof occurred, "%lld", (long long)ev->occurred_at_us);
    snprintf(now, sizeof now, "%lld", (long long)ccip_now_us());
    protobuf_c_message_free_unpacked(&t->base, NULL);
    const char *values[] = {pos, ev->id, n, occurred, now};
    return ccip_db_exec(db, &S_APPLY, 5, values, NULL, NULL, NULL);
}

static const ccip_consumer_handler s_probeb_handlers[] = {
    {"probea.thing.happened.v1", s_apply},
};

static const ccip_subscription s_probeb_subscriptions[] = {
    {"probea", s_probeb_handlers, sizeof s_probeb_handlers / sizeof s_probeb_handlers[0]},
};

const ccip_service_def probeb_def = {
    .name = "probeb",
    .migrations = probeb_migrations,
    .subscriptions = s_probeb_subscriptions,
    .nsubscriptions = 1,
};
