/* ccip_outbox against a real PostgreSQL (label integration): an event
 * exists exactly when its transaction committed; the relay's numbering is
 * gap-free, in order, follows commit order rather than insertion order, and
 * stays gap-free and unique when several relays number at once; a replay
 * read is a consistent batch; pruning deletes a prefix and raises oldest.
 * Each test migrates the "ccip" component into its own throwaway schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/bus.pb-c.h"
#include "ccip_db.h"
#include "ccip_log.h"
#include "ccip_migrate.h"
#include "ccip_outbox.h"
#include "ccip_chain.h"
#include "ccip_test_db.h"

CCIP_MIGRATIONS_DECLARE(ccip);

#define SERVICE "widget"

typedef struct {
    ccip_db *db;     /* connection as ccip_test, search_path = schema */
    char schema[64]; /* throwaway schema of this test */
    char err[512];   /* last error from the unit under test */
} s_fixture;

static ccip_db *s_connect(const s_fixture *f)
{
    ccip_db *db = ccip_test_db_connect_in("test", f->schema);
    if (!db)
        fail_msg("%s", ccip_test_db_error());
    return db;
}

static int s_setup(void **state)
{
    s_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    *state = f;
    ccip_log_init("test", "test-1", CCIP_LOG_WARN);
    ccip_db *owner = ccip_test_db_connect("test");
    if (!owner)
        fail_msg("%s", ccip_test_db_error());
    if (ccip_test_schema_new(owner, "t_outbox", f->schema, sizeof f->schema) < 0)
        fail_msg("%s", ccip_test_db_error());
    ccip_db_destroy(&owner);
    f->db = s_connect(f);
    if (ccip_migrate_run(f->db, f->schema, "ccip", ccip_migrations, ccip_migrations_count, NULL,
                         f->err, sizeof f->err) < 0)
        fail_msg("%s", f->err);
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture *f = *state;
    if (f->db && f->schema[0])
        ccip_test_schema_drop(f->db, f->schema);
    ccip_db_destroy(&f->db);
    free(f);
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static const ccip_db_stmt S_COUNT = {"test_outbox_count", "SELECT count(*) FROM outbox"};
static const ccip_db_stmt S_AGE = {
    "test_outbox_age",
    "UPDATE outbox SET created_at = now() - interval '2 hours' WHERE position = $1::bigint"};

static long s_count_rows(ccip_db *db)
{
    PGresult *res = NULL;
    assert_int_equal(ccip_db_exec(db, &S_COUNT, 0, NULL, NULL, NULL, &res), CCIP_DB_OK);
    long n = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n;
}

/* Events appended by s_append_tx: `count` of them, typed and numbered so
 * that a test can tell them apart ("widget.thing.made.v1", payload "e<i>"). */
typedef struct {
    const char *schema; /* where */
    int first;          /* number of the first event */
    int count;          /* how many */
    int give_up;        /* 1: roll back after appending */
    char *err;          /* for the unit's message */
    size_t errlen;
} s_batch_arg;

static int s_append_tx(ccip_db *db, void *arg)
{
    s_batch_arg *a = arg;
    for (int i = 0; i < a->count; i++) {
        char payload[32], agg[32];
        int n = snprintf(payload, sizeof payload, "e%d", a->first + i);
        snprintf(agg, sizeof agg, "%d", a->first + i);
        ccip_outbox_event ev = {.type = "widget.thing.made.v1",
                                .aggregate_type = "thing",
                                .aggregate_id = agg,
                                .payload = payload,
                                .payload_len = (size_t)n,
                                .correlation_id = "corr-1",
                                .actor_id = "alice",
                                .actor_role = "operator",
                                .source_instance = "widget-1"};
        int rc = ccip_outbox_append(db, a->schema, &ev, a->err, a->errlen);
        if (rc != 0)
            return rc;
    }
    return a->give_up ? -1 : 0;
}

static void s_append(s_fixture *f, ccip_db *db, int first, int count)
{
    s_batch_arg a = {f->schema, first, count, 0, f->err, sizeof f->err};
    if (ccip_db_tx(db, CCIP_DB_READ_COMMITTED, 3, s_append_tx, &a) != 0)
        fail_msg("append failed: %s", f->err);
}

static ccip_outbox_batch *s_assign(s_fixture *f, int max)
{
    ccip_outbox_batch *b = NULL;
    if (ccip_outbox_assign(f->db, SERVICE, max, &b, f->err, sizeof f->err) != CCIP_OUTBOX_OK)
        fail_msg("assign failed: %s", f->err);
    assert_non_null(b);
    return b;
}

/* Checks that event i of b is event number `num` at `position`. */
static void s_expect_event(const ccip_outbox_batch *b, size_t i, uint64_t position, int num)
{
    const Ccip__Envelope *e = ccip_outbox_batch_event(b, i);
    assert_non_null(e);
    char payload[32];
    int n = snprintf(payload, sizeof payload, "e%d", num);
    assert_int_equal(e->position, position);
    assert_int_equal(e->payload.len, (size_t)n);
    assert_memory_equal(e->payload.data, payload, (size_t)n);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_rolled_back_append_leaves_nothing(void **state)
{
    s_fixture *f = *state;
    s_batch_arg a = {f->schema, 1, 3, 1, f->err, sizeof f->err};
    assert_int_equal(ccip_db_tx(f->db, CCIP_DB_READ_COMMITTED, 3, s_append_tx, &a), -1);
    assert_int_equal(s_count_rows(f->db), 0);
    ccip_outbox_batch *b = s_assign(f, 10);
    assert_int_equal(ccip_outbox_batch_count(b), 0);
    assert_int_equal(ccip_outbox_batch_head(b), 0);
    ccip_outbox_batch_destroy(&b);
    assert_null(b);
    ccip_outbox_batch_destroy(&b); /* twice is fine */
}

static void test_append_refuses_bad_events(void **state)
{
    s_fixture *f = *state;
    ccip_outbox_event ev = {.type = "Not A Type"};
    assert_int_equal(ccip_outbox_append(f->db, f->schema, &ev, f->err, sizeof f->err),
                     CCIP_OUTBOX_ERROR);
    assert_non_null(strstr(f->err, "type"));

    ev.type = "widget.stream.heartbeat.v1";
    assert_int_equal(ccip_outbox_append(f->db, f->schema, &ev, f->err, sizeof f->err),
                     CCIP_OUTBOX_ERROR);
    assert_non_null(strstr(f->err, "reserved"));

    ev.type = "widget.thing.made.v1";
    ev.event_id = "not-a-uuid";
    assert_int_equal(ccip_outbox_append(f->db, f->schema, &ev, f->err, sizeof f->err),
                     CCIP_OUTBOX_ERROR);
    assert_non_null(strstr(f->err, "UUID"));

    ev.event_id = NULL;
    assert_int_equal(ccip_outbox_append(f->db, "Bad-Schema", &ev, f->err, sizeof f->err),
                     CCIP_OUTBOX_ERROR);
    assert_int_equal(s_count_rows(f->db), 0);
}

static void test_committed_append_notifies(void **state)
{
    s_fixture *f = *state;
    char channel[CCIP_OUTBOX_CHANNEL_SIZE], listen[128];
    assert_int_equal(ccip_outbox_channel(f->schema, channel, sizeof channel), 0);
    snprintf(listen, sizeof listen, "LISTEN \"%s\"", channel);
    ccip_db *listener = s_connect(f);
    assert_int_equal(ccip_db_command(listener, listen), CCIP_DB_OK);

    s_append(f, f->db, 1, 2);

    PGconn *conn = ccip_db_conn(listener);
    PGnotify *n = NULL;
    for (int i = 0; i < 50 && !n; i++) {
        struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
        poll(&p, 1, 100);
        PQconsumeInput(conn);
        n = PQnotifies(conn);
    }
    assert_non_null(n);
    assert_string_equal(n->relname, channel);
    PQfreemem(n);
    ccip_db_destroy(&listener);
}

static void test_assign_is_gap_free_and_in_order(void **state)
{
    s_fixture *f = *state;
    s_append(f, f->db, 1, 5);
    s_append(f, f->db, 6, 3);

    ccip_outbox_batch *b = s_assign(f, 4);
    assert_int_equal(ccip_outbox_batch_count(b), 4);
    for (size_t i = 0; i < 4; i++)
        s_expect_event(b, i, i + 1, (int)i + 1);
    assert_int_equal(ccip_outbox_batch_head(b), 4);
    assert_int_equal(ccip_outbox_batch_oldest(b), 1);
    const Ccip__Envelope *e = ccip_outbox_batch_event(b, 0);
    assert_string_equal(e->type, "widget.thing.made.v1");
    assert_string_equal(e->source_service, SERVICE);
    assert_string_equal(e->source_instance, "widget-1");
    assert_string_equal(e->aggregate_type, "thing");
    assert_string_equal(e->aggregate_id, "1");
    assert_string_equal(e->correlation_id, "corr-1");
    assert_string_equal(e->causation_id, "");
    assert_string_equal(e->actor_id, "alice");
    assert_string_equal(e->actor_role, "operator");
    assert_int_equal(strlen(e->id), 36);
    assert_true(e->occurred_at_us > 0);
    assert_null(ccip_outbox_batch_event(b, 4));
    ccip_outbox_batch_destroy(&b);

    b = s_assign(f, 100);
    assert_int_equal(ccip_outbox_batch_count(b), 4);
    for (size_t i = 0; i < 4; i++)
        s_expect_event(b, i, i + 5, (int)i + 5);
    assert_int_equal(ccip_outbox_batch_head(b), 8);
    ccip_outbox_batch_destroy(&b);

    b = s_assign(f, 100);
    assert_int_equal(ccip_outbox_batch_count(b), 0);
    assert_int_equal(ccip_outbox_batch_head(b), 8);
    ccip_outbox_batch_destroy(&b);
}

/* The bigserial trap: an event inserted first but committed last must
 * still get a position, after the ones committed before it. */
static void test_positions_follow_commit_order(void **state)
{
    s_fixture *f = *state;
    ccip_db *slow = s_connect(f);
    assert_int_equal(ccip_db_command(slow, "BEGIN"), CCIP_DB_OK);
    s_batch_arg a = {f->schema, 1, 1, 0, f->err, sizeof f->err};
    assert_int_equal(s_append_tx(slow, &a), 0); /* lower seq, not committed yet */

    s_append(f, f->db, 2, 1);
    ccip_outbox_batch *b = s_assign(f, 10);
    assert_int_equal(ccip_outbox_batch_count(b), 1);
    s_expect_event(b, 0, 1, 2);
    ccip_outbox_batch_destroy(&b);

    assert_int_equal(ccip_db_command(slow, "COMMIT"), CCIP_DB_OK);
    b = s_assign(f, 10);
    assert_int_equal(ccip_outbox_batch_count(b), 1);
    s_expect_event(b, 0, 2, 1);
    assert_int_equal(ccip_outbox_batch_head(b), 2);
    ccip_outbox_batch_destroy(&b);
    ccip_db_destroy(&slow);
}

/* ---- several relays at once ------------------------------------------------ */

#define RACE_RELAYS    4
#define RACE_PRODUCERS 2
#define RACE_EVENTS    300 /* per producer */
#define RACE_BATCH     7   /* small, so that the relays interleave often */

typedef struct {
    ccip_db *db;           /* this thread's connection */
    const char *schema;    /* where */
    int first;             /* producers: number of the first event */
    atomic_int *producing; /* producers still running */
    uint64_t *positions;   /* relays: positions they were handed */
    size_t n;              /* entries filled */
    int failures;          /* calls that failed */
    char err[512];         /* the last failure */
} s_racer;

static void *s_producer(void *arg)
{
    s_racer *r = arg;
    /* One event per transaction, so that commits interleave with the
     * relays' numbering. */
    for (int i = 0; i < RACE_EVENTS; i++) {
        s_batch_arg a = {r->schema, r->first + i, 1, 0, r->err, sizeof r->err};
        if (ccip_db_tx(r->db, CCIP_DB_READ_COMMITTED, 5, s_append_tx, &a) != 0)
            r->failures++;
    }
    atomic_fetch_sub(r->producing, 1);
    return NULL;
}

static void *s_relay(void *arg)
{
    s_racer *r = arg;
    for (;;) {
        int done = atomic_load(r->producing) == 0;
        ccip_outbox_batch *b = NULL;
        if (ccip_outbox_assign(r->db, SERVICE, RACE_BATCH, &b, r->err, sizeof r->err) != 0) {
            if (++r->failures > 10)
                return NULL;
            continue;
        }
        size_t n = ccip_outbox_batch_count(b);
        for (size_t i = 0; i < n; i++) {
            const Ccip__Envelope *e = ccip_outbox_batch_event(b, i);
            r->positions[r->n++] = e->position;
        }
        ccip_outbox_batch_destroy(&b);
        /* Stop only after a pass that started when every producer had
         * finished found nothing left. */
        if (done && n == 0)
            return NULL;
    }
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_concurrent_relays_never_duplicate_or_skip(void **state)
{
    s_fixture *f = *state;
    const size_t total = RACE_PRODUCERS * RACE_EVENTS;
    atomic_int producing = RACE_PRODUCERS;
    s_racer producers[RACE_PRODUCERS], relays[RACE_RELAYS];
    pthread_t pt[RACE_PRODUCERS], rt[RACE_RELAYS];
    memset(producers, 0, sizeof producers);
    memset(relays, 0, sizeof relays);
    for (int i = 0; i < RACE_RELAYS; i++) {
        relays[i].db = s_connect(f);
        relays[i].producing = &producing;
        relays[i].positions = calloc(total, sizeof *relays[i].positions);
        assert_non_null(relays[i].positions);
    }
    for (int i = 0; i < RACE_PRODUCERS; i++) {
        producers[i].db = s_connect(f);
        producers[i].schema = f->schema;
        producers[i].first = 1 + i * RACE_EVENTS;
        producers[i].producing = &producing;
    }
    for (int i = 0; i < RACE_RELAYS; i++)
        assert_int_equal(pthread_create(&rt[i], NULL, s_relay, &relays[i]), 0);
    for (int i = 0; i < RACE_PRODUCERS; i++)
        assert_int_equal(pthread_create(&pt[i], NULL, s_producer, &producers[i]), 0);
    for (int i = 0; i < RACE_PRODUCERS; i++)
        pthread_join(pt[i], NULL);
    for (int i = 0; i < RACE_RELAYS; i++)
        pthread_join(rt[i], NULL);

    uint64_t *all = calloc(total, sizeof *all);
    assert_non_null(all);
    size_t n = 0;
    int relays_that_worked = 0;
    for (int i = 0; i < RACE_PRODUCERS; i++) {
        if (producers[i].failures)
            fail_msg("producer failed: %s", producers[i].err);
        ccip_db_destroy(&producers[i].db);
    }
    for (int i = 0; i < RACE_RELAYS; i++) {
        if (relays[i].failures)
            fail_msg("relay failed: %s", relays[i].err);
        assert_true(n + relays[i].n <= total);
        memcpy(all + n, relays[i].positions, relays[i].n * sizeof *all);
        n += relays[i].n;
        relays_that_worked += relays[i].n > 0;
        /* Each relay got its positions in increasing order. */
        for (size_t j = 1; j < relays[i].n; j++)
            assert_true(relays[i].positions[j] > relays[i].positions[j - 1]);
        free(relays[i].positions);
        ccip_db_destroy(&relays[i].db);
    }
    /* Every event exactly once, positions exactly 1..total. */
    assert_int_equal(n, total);
    qsort(all, n, sizeof *all, s_cmp_u64);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(all[i], i + 1);
    free(all);
    assert_true(relays_that_worked >= 2); /* they really did race */

    ccip_outbox_batch *b = s_assign(f, 10);
    assert_int_equal(ccip_outbox_batch_count(b), 0);
    assert_int_equal(ccip_outbox_batch_head(b), total);
    ccip_outbox_batch_destroy(&b);
}

/* ---- read and prune ----------------------------------------------------------- */

static ccip_outbox_batch *s_read(s_fixture *f, uint64_t from, uint32_t max, size_t max_bytes,
                                 int expect_rc)
{
    ccip_outbox_batch *b = NULL;
    int rc = ccip_outbox_read(f->db, SERVICE, from, max, max_bytes, &b, f->err, sizeof f->err);
    if (rc != expect_rc)
        fail_msg("read from %" PRIu64 " returned %d, expected %d: %s", from, rc, expect_rc, f->err);
    assert_non_null(b);
    return b;
}

/* Numbering chains the events (ccip_chain.h): each one's hash covers its
 * predecessor's, across batches; what is read back verifies from position
 * 1; the SQL implementation of the encoding (migration 0005) agrees with
 * the C one; and one altered byte, a deleted event or two swapped ones are
 * caught. */
static void test_assign_chains_the_events(void **state)
{
    s_fixture *f = *state;
    s_append(f, f->db, 1, 3);
    ccip_outbox_batch *b = s_assign(f, 2); /* two batches: the chain goes on */
    const Ccip__Envelope *e1 = ccip_outbox_batch_event(b, 0);
    assert_int_equal(e1->prev_hash.len, CCIP_CHAIN_HASH_LEN);
    assert_memory_equal(e1->prev_hash.data, ccip_chain_genesis, CCIP_CHAIN_HASH_LEN);
    char err[512];
    assert_int_equal(ccip_chain_check(e1, ccip_chain_genesis, err, sizeof err), 0);
    ccip_outbox_batch_destroy(&b);
    b = s_assign(f, 10);
    ccip_outbox_batch_destroy(&b);

    b = s_read(f, 1, 10, 0, CCIP_OUTBOX_OK);
    assert_int_equal(ccip_outbox_batch_count(b), 3);
    const uint8_t *link = ccip_chain_genesis;
    for (size_t i = 0; i < 3; i++) {
        const Ccip__Envelope *e = ccip_outbox_batch_event(b, i);
        if (ccip_chain_check(e, link, err, sizeof err) < 0)
            fail_msg("event %zu: %s", i + 1, err);
        link = e->hash.data;
    }
    char head[CCIP_CHAIN_HASH_HEX + 1], sql[300];
    ccip_chain_hex(link, CCIP_CHAIN_HASH_LEN, head);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM outbox_state WHERE head_hash = '\\x%s'", head);
    assert_int_equal(ccip_test_db_number(f->db, "%s", sql), 1);
    ccip_outbox_batch_destroy(&b);
    assert_int_equal(ccip_test_db_number(f->db, "SELECT count(*) FROM outbox o WHERE o.hash = "
                                                "ccip_event_chain_hash(o.prev_hash, o)"),
                     3);

    /* one byte of a payload altered: its own hash no longer holds */
    ccip_test_db_number(f->db, "WITH u AS (UPDATE outbox SET payload = 'E2' WHERE position = 2 "
                               "RETURNING 1) SELECT count(*) FROM u");
    b = s_read(f, 1, 10, 0, CCIP_OUTBOX_OK);
    assert_int_equal(
        ccip_chain_check(ccip_outbox_batch_event(b, 0), ccip_chain_genesis, err, sizeof err), 0);
    assert_int_equal(ccip_chain_check(ccip_outbox_batch_event(b, 1),
                                      ccip_outbox_batch_event(b, 0)->hash.data, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "the event was altered"));
    ccip_outbox_batch_destroy(&b);
    ccip_test_db_number(f->db, "WITH u AS (UPDATE outbox SET payload = 'e2' WHERE position = 2 "
                               "RETURNING 1) SELECT count(*) FROM u");
    /* two swapped: the positions are hashed */
    ccip_test_db_number(f->db, "WITH u AS (UPDATE outbox SET position = -position WHERE position "
                               "IN (2, 3) RETURNING 1) SELECT count(*) FROM u");
    ccip_test_db_number(f->db, "WITH u AS (UPDATE outbox SET position = CASE position WHEN -2 "
                               "THEN 3 ELSE 2 END WHERE position < 0 RETURNING 1) "
                               "SELECT count(*) FROM u");
    b = s_read(f, 1, 10, 0, CCIP_OUTBOX_OK);
    assert_int_equal(ccip_chain_check(ccip_outbox_batch_event(b, 1),
                                      ccip_outbox_batch_event(b, 0)->hash.data, err, sizeof err),
                     -1);
    ccip_outbox_batch_destroy(&b);
}

static void test_read_from_position(void **state)
{
    s_fixture *f = *state;
    s_append(f, f->db, 1, 10);
    ccip_outbox_batch *b = s_assign(f, 100);
    ccip_outbox_batch_destroy(&b);
    s_append(f, f->db, 11, 2); /* committed but not numbered: not readable */

    b = s_read(f, 4, 3, 0, CCIP_OUTBOX_OK);
    assert_int_equal(ccip_outbox_batch_count(b), 3);
    for (size_t i = 0; i < 3; i++)
        s_expect_event(b, i, 4 + i, 4 + (int)i);
    assert_int_equal(ccip_outbox_batch_head(b), 10);
    assert_int_equal(ccip_outbox_batch_oldest(b), 1);

    /* Straight into a reply, borrowing from the batch. */
    Ccip__ReplayReply reply;
    ccip_outbox_batch_replay_reply(b, &reply);
    assert_int_equal(reply.n_events, 3);
    assert_int_equal(reply.head, 10);
    assert_int_equal(reply.oldest, 1);
    size_t len = ccip__replay_reply__get_packed_size(&reply);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    ccip__replay_reply__pack(&reply, buf);
    ccip_outbox_batch_destroy(&b);
    Ccip__ReplayReply *back = ccip__replay_reply__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(back);
    assert_int_equal(back->n_events, 3);
    assert_int_equal(back->events[2]->position, 6);
    assert_memory_equal(back->events[2]->payload.data, "e6", 2);
    ccip__replay_reply__free_unpacked(back, NULL);

    b = s_read(f, 0, 0, 0, CCIP_OUTBOX_OK); /* 0 = from the start, default batch */
    assert_int_equal(ccip_outbox_batch_count(b), 10);
    s_expect_event(b, 9, 10, 10);
    ccip_outbox_batch_destroy(&b);

    b = s_read(f, 11, 10, 0, CCIP_OUTBOX_OK);
    assert_int_equal(ccip_outbox_batch_count(b), 0);
    assert_int_equal(ccip_outbox_batch_head(b), 10);
    ccip_outbox_batch_destroy(&b);

    /* A byte budget cuts the batch, but never to nothing. */
    b = s_read(f, 1, 10, 1, CCIP_OUTBOX_OK);
    assert_int_equal(ccip_outbox_batch_count(b), 1);
    ccip_outbox_batch_destroy(&b);
    b = s_read(f, 1, 10, 250, CCIP_OUTBOX_OK);
    size_t cut = ccip_outbox_batch_count(b);
    assert_true(cut >= 1 && cut < 10);
    ccip_outbox_batch_replay_reply(b, &reply);
    assert_true(ccip__replay_reply__get_packed_size(&reply) <= 250 + 32);
    ccip_outbox_batch_destroy(&b);
}

/* Retention moves a prefix of the stream to the archive: the outbox keeps
 * the rest, a reader from position 1 still gets every event in order, with
 * its chain hashes, across the two tables; only events in neither table
 * (deleted by someone) are reported lost. */
static void test_prune_archives_a_prefix_and_raises_oldest(void **state)
{
    s_fixture *f = *state;
    s_append(f, f->db, 1, 6);
    ccip_outbox_batch *b = s_assign(f, 100);
    ccip_outbox_batch_destroy(&b);
    s_append(f, f->db, 7, 1); /* unnumbered: never archived */

    /* Positions 1..3 and 5 are past the retention, 4 and 6 are not: only
     * the prefix 1..3 may move, or oldest would lie about 5. */
    const char *old[] = {"1", "2", "3", "5"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(ccip_db_exec(f->db, &S_AGE, 1, &old[i], NULL, NULL, NULL), CCIP_DB_OK);

    uint64_t moved = 99;
    assert_int_equal(ccip_outbox_prune(f->db, 3600, &moved, f->err, sizeof f->err), CCIP_OUTBOX_OK);
    assert_int_equal(moved, 3);
    assert_int_equal(s_count_rows(f->db), 4);
    assert_int_equal(ccip_test_db_number(f->db, "SELECT count(*) FROM outbox_archive"), 3);
    assert_int_equal(ccip_test_db_number(f->db, "SELECT min(oldest) FROM outbox_state"), 4);

    b = s_read(f, 4, 10, 0, CCIP_OUTBOX_OK);
    assert_int_equal(ccip_outbox_batch_count(b), 3);
    assert_int_equal(ccip_outbox_batch_oldest(b), 1); /* readable from 1: the archive */
    ccip_outbox_batch_destroy(&b);

    /* A reader from position 1 gets every event, archived or not, in order,
     * and the chain holds across the two. */
    b = s_read(f, 1, 2, 0, CCIP_OUTBOX_OK); /* a batch inside the archive */
    assert_int_equal(ccip_outbox_batch_count(b), 2);
    s_expect_event(b, 1, 2, 2);
    ccip_outbox_batch_destroy(&b);
    b = s_read(f, 2, 10, 0, CCIP_OUTBOX_OK);
    assert_int_equal(ccip_outbox_batch_count(b), 5);
    for (size_t i = 0; i < 5; i++)
        s_expect_event(b, i, 2 + i, 2 + (int)i);
    for (size_t i = 1; i < 5; i++) {
        char err[512];
        const Ccip__Envelope *e = ccip_outbox_batch_event(b, i);
        if (ccip_chain_check(e, ccip_outbox_batch_event(b, i - 1)->hash.data, err, sizeof err) < 0)
            fail_msg("position %zu: %s", i + 2, err);
    }
    ccip_outbox_batch_destroy(&b);

    /* Nothing more is old enough: a second run moves nothing. */
    assert_int_equal(ccip_outbox_prune(f->db, 3600, &moved, f->err, sizeof f->err), CCIP_OUTBOX_OK);
    assert_int_equal(moved, 0);

    /* Once 4 ages too, 4..5 move; 6 stays; the unnumbered event stays. */
    const char *four[] = {"4"};
    assert_int_equal(ccip_db_exec(f->db, &S_AGE, 1, four, NULL, NULL, NULL), CCIP_DB_OK);
    assert_int_equal(ccip_outbox_prune(f->db, 3600, &moved, f->err, sizeof f->err), CCIP_OUTBOX_OK);
    assert_int_equal(moved, 2);
    assert_int_equal(s_count_rows(f->db), 2);
    b = s_read(f, 1, 10, 0, CCIP_OUTBOX_OK);
    assert_int_equal(ccip_outbox_batch_count(b), 6);
    s_expect_event(b, 5, 6, 6);
    ccip_outbox_batch_destroy(&b);

    /* Events in neither table (someone deleted them) are reported, with
     * the positions: the reader cannot be caught up. */
    assert_int_equal(ccip_test_db_number(f->db, "WITH d AS (DELETE FROM outbox_archive WHERE "
                                                "position < 3 RETURNING 1) SELECT count(*) FROM d"),
                     2);
    b = s_read(f, 2, 10, 0, CCIP_OUTBOX_PRUNED);
    assert_int_equal(ccip_outbox_batch_count(b), 0);
    assert_int_equal(ccip_outbox_batch_oldest(b), 3);
    assert_int_equal(ccip_outbox_batch_head(b), 6);
    assert_non_null(strstr(f->err, "2..5"));
    assert_non_null(strstr(f->err, "no longer retained"));
    ccip_outbox_batch_destroy(&b);
    b = s_read(f, 3, 10, 0, CCIP_OUTBOX_OK); /* from where the archive still has them */
    assert_int_equal(ccip_outbox_batch_count(b), 4);
    ccip_outbox_batch_destroy(&b);

    assert_int_equal(ccip_outbox_prune(f->db, 0, NULL, f->err, sizeof f->err), CCIP_OUTBOX_ERROR);
}

static void test_check_schema(void **state)
{
    s_fixture *f = *state;
    assert_int_equal(ccip_outbox_check_schema(f->db, f->schema, f->err, sizeof f->err), 0);
    assert_int_equal(ccip_outbox_check_schema(f->db, "intake", f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "search_path"));
}

/* A consumer's handler emits because of the event it applies: the new
 * event carries the cause's correlation (or the cause's id when it has
 * none), the cause as its causation and the cause's actor, into the
 * outbox of the schema the connection's owner checked; on a connection
 * nobody checked, or when too large, nothing is written. */
static void test_emit_caused(void **state)
{
    s_fixture *f = *state;
    Ccip__Envelope cause = CCIP__ENVELOPE__INIT;
    cause.id = "0190c6d8-0000-7000-8000-0000000000c1";
    cause.type = "intake.application.accepted.v1";
    cause.correlation_id = "corr-9";
    cause.actor_id = "office-chen";
    cause.actor_role = "office";
    Ccip__ReplayRequest msg = CCIP__REPLAY_REQUEST__INIT;
    msg.from_position = 77;

    /* Never checked: refused, nothing written. */
    assert_int_equal(
        ccip_outbox_emit_caused(f->db, &cause, "widget.case.opened.v1", "case", "k-1", &msg.base),
        CCIP_OUTBOX_ERROR);
    assert_int_equal(s_count_rows(f->db), 0);

    assert_int_equal(ccip_outbox_check_schema(f->db, f->schema, f->err, sizeof f->err), 0);
    assert_int_equal(
        ccip_outbox_emit_caused(f->db, &cause, "widget.case.opened.v1", "case", "k-1", &msg.base),
        CCIP_OUTBOX_OK);
    cause.correlation_id = ""; /* a cause that starts its own chain */
    assert_int_equal(
        ccip_outbox_emit_caused(f->db, &cause, "widget.case.opened.v1", "case", "k-2", &msg.base),
        CCIP_OUTBOX_OK);
    /* Larger than an event may carry. */
    Ccip__Envelope big = CCIP__ENVELOPE__INIT;
    static uint8_t blob[CCIP_OUTBOX_PAYLOAD_MAX + 1];
    big.payload.data = blob;
    big.payload.len = sizeof blob;
    assert_int_equal(
        ccip_outbox_emit_caused(f->db, &cause, "widget.case.opened.v1", "case", "k-3", &big.base),
        CCIP_OUTBOX_ERROR);
    assert_int_equal(s_count_rows(f->db), 2);

    ccip_outbox_batch *b = s_assign(f, 10);
    assert_int_equal(ccip_outbox_batch_count(b), 2);
    for (size_t i = 0; i < 2; i++) {
        const Ccip__Envelope *e = ccip_outbox_batch_event(b, i);
        assert_string_equal(e->type, "widget.case.opened.v1");
        assert_string_equal(e->aggregate_type, "case");
        assert_string_equal(e->aggregate_id, i == 0 ? "k-1" : "k-2");
        assert_string_equal(e->correlation_id, i == 0 ? "corr-9" : cause.id);
        assert_string_equal(e->causation_id, cause.id);
        assert_string_equal(e->actor_id, "office-chen");
        assert_string_equal(e->actor_role, "office");
        Ccip__ReplayRequest *back =
            ccip__replay_request__unpack(NULL, e->payload.len, e->payload.data);
        assert_non_null(back);
        assert_int_equal(back->from_position, 77);
        ccip__replay_request__free_unpacked(back, NULL);
    }
    ccip_outbox_batch_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rolled_back_append_leaves_nothing, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_append_refuses_bad_events, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_committed_append_notifies, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_assign_is_gap_free_and_in_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_positions_follow_commit_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_relays_never_duplicate_or_skip, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_assign_chains_the_events, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_read_from_position, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_prune_archives_a_prefix_and_raises_oldest, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_check_schema, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_emit_caused, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
