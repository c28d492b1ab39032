#include "probe.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_pgarray.h"
#include "probe.pb-c.h"

CCIP_MIGRATIONS_DECLARE(probea);
CCIP_MIGRATIONS_DECLARE(probeb);

#define EMIT_MAX 5000 /* events one command may ask for */

static const ccip_db_stmt S_EMIT = {"probea_emit",
                                    "INSERT INTO emitted (tag) VALUES ($1) RETURNING n"};

static int s_emit(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Probe__EmitRequest *rq = request;
    if (rq->count < 1 || rq->count > EMIT_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `count` must be between 1 and %d, got %u", EMIT_MAX,
                                 rq->count);
    Probe__EmitReply reply = PROBE__EMIT_REPLY__INIT;
    for (uint32_t i = 0; i < rq->count; i++) {
        PGresult *res = NULL;
        const char *tag = rq->tag;
        int rc = ccip_db_exec(cmd->db, &S_EMIT, 1, &tag, NULL, NULL, &res);
        if (rc != CCIP_DB_OK)
            return rc;
        uint64_t n = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        if (i == 0)
            reply.first = n;
        reply.last = n;
        Probe__ThingHappened ev = PROBE__THING_HAPPENED__INIT;
        ev.n = n;
        ev.tag = rq->tag;
        char id[32];
        snprintf(id, sizeof id, "%llu", (unsigned long long)n);
        if ((rc = ccip_command_emit(cmd, "probea.thing.happened.v1", "thing", id, &ev.base)))
            return rc;
    }
    /* A refusal after writing: the skeleton must undo this command's rows
     * and events while the rest of its batch commits. */
    if (strncmp(rq->tag, "refuse", 6) == 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "refused as asked (tag %s)", rq->tag);
    return ccip_command_reply(cmd, &reply.base);
}

/* probea.note.v1 has a batch handler, as a service's hot command would:
 * checks every command first, refuses without writing, then writes the
 * accepted ones in one statement. */
static const ccip_db_stmt S_NOTED = {"probea_noted",
                                     "SELECT tag FROM noted WHERE tag = ANY ($1::text[])"};
static const ccip_db_stmt S_NOTE = {"probea_note",
                                    "INSERT INTO noted (tag, command_id) SELECT * FROM "
                                    "unnest($1::text[], $2::text[])"};

static int s_note_batch(ccip_command *const *cmds, size_t n)
{
    Probe__NoteRequest **rq = calloc(n, sizeof *rq);
    ccip_pgarray tags = CCIP_PGARRAY_INIT, ids = CCIP_PGARRAY_INIT;
    PGresult *res = NULL;
    int rc = rq ? 0 : CCIP_DB_ERROR;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rq[i] =
            (Probe__NoteRequest *)ccip_command_unpack(cmds[i], &probe__note_request__descriptor);
        if (rq[i])
            ccip_pgarray_text(&tags, rq[i]->tag);
    }
    const char *v[] = {ccip_pgarray_value(&tags)};
    if (rc == 0 && !v[0])
        rc = CCIP_DB_ERROR;
    if (rc == 0)
        rc = ccip_db_exec(cmds[0]->db, &S_NOTED, 1, v, NULL, NULL, &res);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!rq[i])
            continue;
        int taken = strncmp(rq[i]->tag, "refuse", 6) == 0;
        for (int r = 0; !taken && r < PQntuples(res); r++)
            taken = strcmp(PQgetvalue(res, r, 0), rq[i]->tag) == 0;
        for (size_t k = 0; !taken && k < i; k++) /* an earlier command of this batch */
            taken =
                rq[k] && cmds[k]->status == CCIP__STATUS__OK && strcmp(rq[k]->tag, rq[i]->tag) == 0;
        if (taken) {
            ccip_command_fail(cmds[i], CCIP__STATUS__ALREADY_EXISTS,
                              "tag %s is noted already (or refused as asked)", rq[i]->tag);
            continue;
        }
        ccip_pgarray_text(&ids, cmds[i]->req->id);
        rc = ccip_command_emit_bytes(cmds[i], "probea.noted.v1", "tag", rq[i]->tag, NULL, 0);
    }
    ccip_pgarray_release(&tags);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (rq[i] && cmds[i]->status == CCIP__STATUS__OK)
            ccip_pgarray_text(&tags, rq[i]->tag);
    const char *w[] = {ccip_pgarray_value(&tags), ccip_pgarray_value(&ids)};
    if (rc == 0 && (!w[0] || !w[1]))
        rc = CCIP_DB_ERROR;
    if (rc == 0 && tags.count > 0)
        rc = ccip_db_exec(cmds[0]->db, &S_NOTE, 2, w, NULL, NULL, NULL);
    PQclear(res);
    ccip_pgarray_release(&tags);
    ccip_pgarray_release(&ids);
    for (size_t i = 0; rq && i < n; i++)
        if (rq[i])
            protobuf_c_message_free_unpacked(&rq[i]->base, NULL);
    free(rq);
    return rc;
}

/* probea.tick.v1: what a scheduled command leaves, one row per run, tagged
 * with its command id (the period it ran for). */
static int s_tick(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)request; /* a TickRequest has no fields */
    char tag[220];
    snprintf(tag, sizeof tag, "tick:%s", cmd->req->id);
    const char *v[] = {tag};
    return ccip_db_exec(cmd->db, &S_EMIT, 1, v, NULL, NULL, NULL);
}

static const char *const s_nobody[] = {NULL}; /* only the schedule runs it */

/* Each command: type, mutating, roles, handler, batch handler, request, reply
 * (package probe is not one of ccip's, hence no CCIP_MSG). */
static const ccip_command_handler s_probea_commands[] = {
    {"probea.emit.v1", 1, NULL, s_emit, NULL, &probe__emit_request__descriptor,
     &probe__emit_reply__descriptor},
    {"probea.note.v1", 1, NULL, NULL, s_note_batch, &probe__note_request__descriptor, NULL},
    {"probea.tick.v1", 1, s_nobody, s_tick, NULL, &probe__tick_request__descriptor, NULL},
};

typedef struct {
    ccip_service_config base;
    int64_t tick_seconds; /* period of probea.tick.v1, 0 = off */
} s_probea_config;

static const ccip_config_field s_probea_fields[] = {
    {"probe.tick_seconds", CCIP_CFG_INT, offsetof(s_probea_config, tick_seconds), 0, 3600, "0",
     "CCIP_PROBEA_TICK_SECONDS", "seconds between runs of probea.tick.v1 (0: never)"},
};

static const ccip_schedule s_probea_schedules[] = {
    {"probea.tick.v1", offsetof(s_probea_config, tick_seconds)},
};

const ccip_service_def probea_def = {
    .name = "probea",
    .consumers = (const char *const[]){"probeb", NULL}, /* who replays its events */
    .migrations = probea_migrations,
    .commands = s_probea_commands,
    .ncommands = sizeof s_probea_commands / sizeof s_probea_commands[0],
    .config_fields = s_probea_fields,
    .nconfig_fields = sizeof s_probea_fields / sizeof s_probea_fields[0],
    .config_size = sizeof(s_probea_config),
    .schedules = s_probea_schedules,
    .nschedules = sizeof s_probea_schedules / sizeof s_probea_schedules[0],
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
    .nsubscriptions = sizeof s_probeb_subscriptions / sizeof s_probeb_subscriptions[0],
};
