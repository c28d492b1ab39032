#include "stats_rebuild.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* One producer's replay into the fact tables: events become facts with the
 * consumers' function and are applied a batch at a time. */
typedef struct {
    ccip_db *db;
    stats_fact *facts; /* REPLAY_BATCH of them */
    size_t n;
} s_sink;

static int s_apply(void *arg, const Ccip__Envelope *ev)
{
    s_sink *k = arg;
    char why[300];
    if (k->n < REPLAY_BATCH && stats_fact_from_event(ev, &k->facts[k->n], why, sizeof why))
        k->n++;
    return 0;
}

static int s_flush(void *arg)
{
    s_sink *k = arg;
    int rc = k->n ? stats_projections_apply(k->db, k->facts, k->n) : 0;
    k->n = 0;
    return rc;
}

/* Replays `producer` from position 1 to `upto` into the (emptied) tables.
 * Returns 0, CCIP_REPLIED or a ccip_db_rc. */
static int s_replay(ccip_command *cmd, ccip_replay *r, const char *producer, uint64_t upto)
{
    s_sink k = {.db = cmd->db, .facts = calloc(REPLAY_BATCH, sizeof *k.facts)};
    if (!k.facts)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    int stopped = 0;
    Ccip__Status status;
    char err[CCIP_COMMAND_ERROR_MAX];
    int got = ccip_replay_range(r, producer, upto, REPLAY_BATCH, s_apply, s_flush, &k, &stopped,
                                &status, err, sizeof err);
    free(k.facts);
    if (got < 0)
        return ccip_command_fail(cmd, status, "%s; nothing was changed", err);
    return stopped;
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
    ccip_replay *replay = NULL;
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
        if (upto > 0 && !replay) {
            char err[CCIP_COMMAND_ERROR_MAX];
            replay = ccip_service_replay_open(cmd->service, REPLAY_TIMEOUT_MS, REPLAY_ATTEMPTS, err,
                                              sizeof err);
            if (!replay)
                rc = ccip_command_fail(cmd, CCIP__STATUS__UNAVAILABLE, "%s", err);
        }
        if (rc == 0 && upto > 0)
            rc = s_replay(cmd, replay, names[r], upto);
        cursors[r] = (Ccip__Stats__ProducerCursor)CCIP__STATS__PRODUCER_CURSOR__INIT;
        cursors[r].producer = names[r];
        cursors[r].position = upto;
        list[reply.n_replayed++] = &cursors[r];
    }
    ccip_replay_destroy(&replay);
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
