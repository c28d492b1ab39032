#include "stats_rebuild.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_replay.h"
#include "stats_facts.h"
#include "stats_projections.h"

#define REPLAY_BATCH                                                                               \
    5000                        /* events asked for per request (a producer sends at most          \
                                   its own cap, 2000, and what fits half a message) */
#define REPLAY_TIMEOUT_MS 10000 /* per replay request and attempt */
#define REPLAY_ATTEMPTS   3
#define PRODUCERS_MAX     8 /* producers a rebuild replays */

static const ccip_db_stmt S_LOCK_CURSORS = {
    "stats_projection_lock_cursors",
    "SELECT producer, position FROM consumer_cursor WHERE producer = ANY(string_to_array($1, ','))"
    " ORDER BY producer FOR UPDATE"};

/* The broker connection a rebuild asks the producers through: its own, as
 * the command's thread has none (the consumers' are theirs). */
typedef struct {
    void *ctx;                             /* zmq context of the connection */
    ccip_keypair keys;                     /* the service's key pair */
    char server_key[CCIP_KEY_Z85_LEN + 1]; /* the bus's public key */
    ccip_replay *replay;                   /* the replay client */
} s_link;

/* Connects l to the broker with the service's keys. Returns 0 or
 * CCIP_REPLIED (INTERNAL: keys; UNAVAILABLE: no connection). */
static int s_link_open(ccip_command *cmd, s_link *l)
{
    const stats_config *cfg = stats_cfg(cmd);
    char err[400];
    if (ccip_keypair_load(cfg->base.key_file, &l->keys, err, sizeof err) < 0 ||
        ccip_public_key_load(cfg->base.server_key_file, l->server_key, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "could not load the service's keys: %s", err);
    l->ctx = zmq_ctx_new();
    if (!l->ctx)
        snprintf(err, sizeof err, "could not make a zmq context: %s", zmq_strerror(zmq_errno()));
    ccip_sock_opts so = {.keys = &l->keys,
                         .server_public = l->server_key,
                         .max_message_bytes = cfg->base.max_message_bytes};
    ccip_replay_config rc = {.service = ccip_service_name(cmd->service),
                             .broker_endpoint = cfg->base.bus_command_endpoint,
                             .sock_opts = &so,
                             .timeout_ms = REPLAY_TIMEOUT_MS,
                             .attempts = REPLAY_ATTEMPTS};
    l->replay = l->ctx ? ccip_replay_new(l->ctx, &rc, err, sizeof err) : NULL;
    if (!l->replay)
        return ccip_command_fail(cmd, CCIP__STATUS__UNAVAILABLE, "could not reach the bus: %s",
                                 err);
    return 0;
}

static void s_link_close(s_link *l)
{
    ccip_replay_destroy(&l->replay);
    if (l->ctx)
        zmq_ctx_term(l->ctx);
    l->ctx = NULL;
}

/* Fails the command for a replay request that brought no batch. Returns
 * CCIP_REPLIED. */
static int s_fetch_failed(ccip_command *cmd, const char *producer, uint64_t from, int rc,
                          Ccip__Status status, const char *err)
{
    if (rc == CCIP_REPLAY_NO_ANSWER)
        return ccip_command_fail(cmd, CCIP__STATUS__UNAVAILABLE,
                                 "could not replay %s from position %" PRIu64
                                 ": %s; nothing was changed",
                                 producer, from, err);
    if (rc == CCIP_REPLAY_REFUSED)
        return ccip_command_fail(
            cmd,
            status == CCIP__STATUS__FAILED_PRECONDITION ? CCIP__STATUS__FAILED_PRECONDITION
                                                        : CCIP__STATUS__UNAVAILABLE,
            "%s cannot replay from position %" PRIu64 ": %s: %s; a rebuild from position zero "
            "is impossible, nothing was changed",
            producer, from, ccip_status_name(status), err);
    return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                             "%s sent a replay reply stats cannot decode: %s", producer, err);
}

/* Turns the events of one batch, which must follow each other from *next
 * on, into facts (those up to `upto`), advancing *next. Returns 0 with
 * facts[0..*nf), or CCIP_REPLIED. */
static int s_batch_facts(ccip_command *cmd, const char *producer, const Ccip__ReplayReply *batch,
                         uint64_t upto, uint64_t *next, stats_fact *facts, size_t *nf)
{
    *nf = 0;
    for (size_t i = 0; i < batch->n_events && i < REPLAY_BATCH && *next <= upto; i++) {
        const Ccip__Envelope *ev = batch->events[i];
        if (ev->position != *next)
            return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                     "%s replayed position %" PRIu64 " where %" PRIu64
                                     " was expected; nothing was changed",
                                     producer, ev->position, *next);
        char why[300];
        if (stats_fact_from_event(ev, &facts[*nf], why, sizeof why))
            (*nf)++;
        (*next)++;
    }
    if (batch->n_events == 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "%s's stream ends at position %" PRIu64
                                 ", but stats applied it up to %" PRIu64 "; nothing was changed",
                                 producer, batch->head, upto);
    return 0;
}

/* Replays `producer` from position 1 to `upto` into the (emptied) tables.
 * Returns 0, CCIP_REPLIED or a ccip_db_rc. */
static int s_replay(ccip_command *cmd, s_link *l, const char *producer, uint64_t upto)
{
    stats_fact *facts = calloc(REPLAY_BATCH, sizeof *facts);
    if (!facts)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    int rc = 0;
    uint64_t next = 1;
    while (rc == 0 && next <= upto) {
        uint64_t want = upto - next + 1;
        Ccip__ReplayReply *batch = NULL;
        Ccip__Status status;
        char err[CCIP_COMMAND_ERROR_MAX]; /* holds any sentence a producer refuses with */
        int fetched = ccip_replay_fetch(l->replay, producer, next,
                                        (uint32_t)(want < REPLAY_BATCH ? want : REPLAY_BATCH),
                                        &batch, &status, err, sizeof err);
        if (fetched != CCIP_REPLAY_OK) {
            rc = s_fetch_failed(cmd, producer, next, fetched, status, err);
            break;
        }
        size_t nf = 0;
        rc = s_batch_facts(cmd, producer, batch, upto, &next, facts, &nf);
        ccip_replay_batch_free(&batch);
        if (rc == 0 && nf)
            rc = stats_projections_apply(cmd->db, facts, nf);
    }
    free(facts);
    return rc;
}

/* The producers stats subscribes to, as "intake,evaluation,...". */
static void s_producers(char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; i < stats_def.nsubscriptions && i < PRODUCERS_MAX; i++) {
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s%s", i ? "," : "", stats_def.subscriptions[i].producer);
    }
}

int stats_rebuild_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    int64_t t0 = ccip_now_us();
    char producers[256];
    s_producers(producers, sizeof producers);
    Ccip__Stats__RebuildReply reply = CCIP__STATS__REBUILD_REPLY__INIT;
    Ccip__Stats__ProducerCursor cursors[PRODUCERS_MAX], *list[PRODUCERS_MAX];
    char names[PRODUCERS_MAX][32], before[STATS_CHECKSUM_LEN], after[STATS_CHECKSUM_LEN];
    uint64_t rows;
    s_link link = {0};
    PGresult *res = NULL;
    const char *p[] = {producers};
    /* The consumers wait on their cursor rows until this commits. */
    int rc = ccip_db_exec(cmd->db, &S_LOCK_CURSORS, 1, p, NULL, NULL, &res);
    if (rc == 0)
        rc = stats_projections_checksum(cmd->db, before, &rows);
    if (rc == 0)
        rc = stats_projections_clear(cmd->db);
    for (int r = 0; rc == 0 && res && r < PQntuples(res) && r < PRODUCERS_MAX; r++) {
        uint64_t upto = (uint64_t)ccip_db_cell_i64(res, r, 1);
        snprintf(names[r], sizeof names[r], "%s", PQgetvalue(res, r, 0));
        if (upto > 0 && !link.replay)
            rc = s_link_open(cmd, &link);
        if (rc == 0 && upto > 0)
            rc = s_replay(cmd, &link, names[r], upto);
        cursors[r] = (Ccip__Stats__ProducerCursor)CCIP__STATS__PRODUCER_CURSOR__INIT;
        cursors[r].producer = names[r];
        cursors[r].position = upto;
        list[reply.n_replayed++] = &cursors[r];
    }
    s_link_close(&link);
    PQclear(res);
    if (rc == 0)
        rc = stats_projections_checksum(cmd->db, after, &rows);
    if (rc != 0)
        return rc;
    reply.replayed = list;
    reply.checksum_before = before;
    reply.checksum_after = after;
    reply.took_us = ccip_now_us() - t0;
    char took[24];
    ccip_log_info("projections rebuilt", "before", before, "after", after, "took_us",
                  ccip_i64_text(reply.took_us, took));
    return ccip_command_reply(cmd, &reply.base);
}
