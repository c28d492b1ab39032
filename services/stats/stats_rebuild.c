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
    5000 /* events asked for per request (a producer sends at most                                 \
            its own cap, 2000, and what fits half a message) */

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
static int s_replay(ccip_command *cmd, ccip_replay *r, const char *producer, uint64_t upto,
                    void *arg)
{
    (void)arg;
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

/* With the cursors locked: the checksum before, then empty tables. */
static int s_start(ccip_command *cmd, void *arg)
{
    int rc = stats_projections_checksum(cmd->db, arg, &(uint64_t){0});
    return rc ? rc : stats_projections_clear(cmd->db);
}

int stats_rebuild_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    int64_t t0 = ccip_now_us();
    Ccip__Stats__RebuildReply reply = CCIP__STATS__REBUILD_REPLY__INIT;
    char before[STATS_CHECKSUM_LEN], after[STATS_CHECKSUM_LEN];
    ccip_rebuild_cursor done[CCIP_REBUILD_PRODUCERS_MAX];
    size_t n = 0;
    uint64_t rows;
    const ccip_rebuild_steps steps = {.start = s_start, .replay = s_replay, .arg = before};
    int rc = ccip_service_rebuild(cmd, &steps, done, &n);
    if (rc == 0)
        rc = stats_projections_checksum(cmd->db, after, &rows);
    if (rc != 0)
        return rc;
    Ccip__Stats__ProducerCursor cursors[CCIP_REBUILD_PRODUCERS_MAX],
        *list[CCIP_REBUILD_PRODUCERS_MAX];
    for (size_t i = 0; i < n; i++) {
        cursors[i] = (Ccip__Stats__ProducerCursor)CCIP__STATS__PRODUCER_CURSOR__INIT;
        cursors[i].producer = done[i].producer;
        cursors[i].position = done[i].position;
        list[i] = &cursors[i];
    }
    reply.replayed = list;
    reply.n_replayed = n;
    reply.checksum_before = before;
    reply.checksum_after = after;
    reply.took_us = ccip_now_us() - t0;
    char took[24];
    ccip_log_info("projections rebuilt", "before", before, "after", after, "took_us",
                  ccip_i64_text(reply.took_us, took));
    (void)a;
    (void)request;
    return ccip_command_reply(cmd, &reply.base);
}
