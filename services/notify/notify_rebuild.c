#include "notify_rebuild.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_replay.h"
#include "notify_batch.h"
#include "notify_events.h"

static const ccip_db_stmt S_CHECKSUM = {
    "notify_checksum",
    "SELECT coalesce(md5(string_agg(concat_ws('|', id, kind, addressee, service, object_type, "
    "object_id, subject, detail, close_key, state, " CCIP_SQL_US("since") ", " CCIP_SQL_US(
        "due") ", " CCIP_SQL_US("closed_at") ", closed_by, event_id), "
                                             "E'\\n' ORDER BY id)), md5('')), count(*) FROM item"};

static const ccip_db_stmt S_CLEAR = {
    "notify_rebuild_clear",
    "WITH a AS (DELETE FROM item RETURNING 1), b AS (DELETE FROM settlement RETURNING 1), "
    "c AS (DELETE FROM lookup RETURNING 1), d AS (DELETE FROM binding RETURNING 1), "
    "e AS (DELETE FROM person RETURNING 1) "
    "SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b), (SELECT count(*) FROM c), "
    "(SELECT count(*) FROM d), (SELECT count(*) FROM e)"};

int notify_checksum(ccip_db *db, char out[NOTIFY_CHECKSUM_LEN], uint64_t *items)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_CHECKSUM, 0, NULL, NULL, NULL, &res);
    if (rc)
        return rc;
    snprintf(out, NOTIFY_CHECKSUM_LEN, "%s", PQgetvalue(res, 0, 0));
    *items = (uint64_t)ccip_db_cell_i64(res, 0, 1);
    PQclear(res);
    return 0;
}

/* Two batches: while one is written (by a thread of its own, on the
 * command's connection, which nothing else uses meanwhile), the next events
 * are fetched from the producer and mapped onto the other. Writes still
 * happen one at a time and in stream order, so a flush finds the facts and
 * settlements of every flush before it; only the fetching and mapping
 * (about a sixth of a rebuild) overlap the database's work. */
typedef struct {
    notify_batch *b[2];
    int cur;                /* the batch being filled */
    notify_batch *flushing; /* the batch being written, while running */
    pthread_t thread;
    int running;
    int rc;                           /* the last flush's result */
    char before[NOTIFY_CHECKSUM_LEN]; /* the checksum before the rebuild */
} s_pipe;

static void *s_flush_thread(void *arg)
{
    s_pipe *p = arg;
    p->rc = notify_batch_flush(p->flushing);
    return NULL;
}

/* Waits for the flush under way, if any. Returns its result. */
static int s_wait(s_pipe *p)
{
    if (!p->running)
        return 0;
    pthread_join(p->thread, NULL);
    p->running = 0;
    return p->rc;
}

static int s_apply(void *arg, const Ccip__Envelope *ev)
{
    s_pipe *p = arg;
    return notify_events_map(p->b[p->cur], ev);
}

/* After each fetched batch: the previous flush must be over (one statement
 * at a time on the connection), then this batch is written on a thread and
 * the other one filled. The fetched events may be freed on return: a batch
 * holds copies. */
static int s_flush(void *arg)
{
    s_pipe *p = arg;
    int rc = s_wait(p);
    if (rc != 0)
        return rc;
    p->flushing = p->b[p->cur];
    if (pthread_create(&p->thread, NULL, s_flush_thread, p) != 0)
        return notify_batch_flush(p->flushing); /* no thread to be had: here, then */
    p->running = 1;
    p->cur = !p->cur;
    return 0;
}

/* Replays `producer` from position 1 to `upto` onto p's batches, every
 * flush over on return. Returns 0, CCIP_REPLIED or a ccip_db_rc. */
static int s_replay(ccip_command *cmd, ccip_replay *r, const char *producer, uint64_t upto,
                    void *arg)
{
    s_pipe *p = arg;
    int stopped = 0;
    Ccip__Status status;
    char err[CCIP_COMMAND_ERROR_MAX];
    uint32_t batch = (uint32_t)notify_cfg(cmd)->rebuild_batch;
    int ranged = ccip_replay_range(r, producer, upto, batch, s_apply, s_flush, p, &stopped, &status,
                                   err, sizeof err);
    int flushed = s_wait(p);
    if (ranged < 0)
        return ccip_command_fail(cmd, status, "%s; nothing was changed", err);
    return stopped ? stopped : flushed;
}

/* With the cursors locked: the checksum before, then empty tables. */
static int s_start(ccip_command *cmd, void *arg)
{
    s_pipe *p = arg;
    /* For this transaction only: JIT compiling costs each flush's item
     * INSERT (thousands of rows, cost above jit_above_cost) 10-15 ms and
     * saves nothing on statements that are index probes per row; the
     * closing pass at the end sorts every item and settlement, on disk at
     * the default work_mem. */
    int rc = ccip_db_command(cmd->db, "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'");
    if (rc == 0)
        rc = notify_checksum(cmd->db, p->before, &(uint64_t){0});
    return rc ? rc : ccip_db_exec(cmd->db, &S_CLEAR, 0, NULL, NULL, NULL, NULL);
}

int notify_rebuild_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    int64_t t0 = ccip_now_us();
    Ccip__Notify__RebuildReply reply = CCIP__NOTIFY__REBUILD_REPLY__INIT;
    char after[NOTIFY_CHECKSUM_LEN];
    ccip_rebuild_cursor done[CCIP_REBUILD_PRODUCERS_MAX];
    size_t n = 0;
    uint64_t items = 0;
    s_pipe pipe = {.b = {notify_batch_new(cmd->db, NOTIFY_BATCH_REBUILD),
                         notify_batch_new(cmd->db, NOTIFY_BATCH_REBUILD)}};
    if (!pipe.b[0] || !pipe.b[1]) {
        notify_batch_destroy(&pipe.b[0]);
        notify_batch_destroy(&pipe.b[1]);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    }
    const ccip_rebuild_steps steps = {.start = s_start, .replay = s_replay, .arg = &pipe};
    int rc = ccip_service_rebuild(cmd, &steps, done, &n);
    if (rc == 0)
        rc = notify_batch_close_all(pipe.b[0]);
    notify_batch_destroy(&pipe.b[0]);
    notify_batch_destroy(&pipe.b[1]);
    if (rc == 0)
        rc = notify_checksum(cmd->db, after, &items);
    if (rc != 0)
        return rc;
    Ccip__Notify__ProducerCursor cursors[CCIP_REBUILD_PRODUCERS_MAX],
        *list[CCIP_REBUILD_PRODUCERS_MAX];
    for (size_t i = 0; i < n; i++) {
        cursors[i] = (Ccip__Notify__ProducerCursor)CCIP__NOTIFY__PRODUCER_CURSOR__INIT;
        cursors[i].producer = done[i].producer;
        cursors[i].position = done[i].position;
        list[i] = &cursors[i];
    }
    reply.replayed = list;
    reply.n_replayed = n;
    reply.checksum_before = pipe.before;
    reply.checksum_after = after;
    reply.items = items;
    reply.took_us = ccip_now_us() - t0;
    char took[24];
    ccip_log_info("inbox rebuilt", "before", pipe.before, "after", after, "took_us",
                  ccip_i64_text(reply.took_us, took));
    (void)a;
    (void)request;
    return ccip_command_reply(cmd, &reply.base);
}

int notify_checksum_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    char sum[NOTIFY_CHECKSUM_LEN];
    uint64_t items = 0;
    int rc = notify_checksum(cmd->db, sum, &items);
    if (rc)
        return rc;
    Ccip__Notify__ChecksumReply reply = CCIP__NOTIFY__CHECKSUM_REPLY__INIT;
    reply.checksum = sum;
    reply.items = items;
    (void)a;
    return ccip_command_reply(cmd, &reply.base);
}
