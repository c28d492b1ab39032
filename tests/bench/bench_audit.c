/*
 * bench_audit: what the event chain (common/ccip_chain.h, issue 19) costs.
 *
 * Against the PostgreSQL that scripts/bench started, in probea's schema
 * (migrated here, before probea runs, so that no relay competes):
 *
 *  1. The relay's numbering with hashing against without it: M events are
 *     inserted unnumbered and numbered by ccip_outbox_assign (the relay's
 *     step: number, hash, store the hashes) in batches of the relay's
 *     default size; M more by the numbering alone (the relay's lock and
 *     one numbering UPDATE ... RETURNING, with no hashing), which are then
 *     taken back. relay_ratio = rate with hashing /
 *     rate without (target >= 0.9). Publishing is the same in both and not
 *     timed: the hashing is all in the numbering transaction.
 *  2. The stream topped up to N events (2,000,000), all numbered and hashed
 *     by ccip_outbox_assign; then the bus and probea start and
 *     `ccipctl audit verify probea` has probea recompute the chain from
 *     position 1 next to its data (ccip.audit.verify.v1); then the same
 *     with --via-replay (events through ccip.replay.v1, hashed in ccipctl),
 *     printed for comparison. The plain figure: one SHA-256 (libsodium)
 *     over the same events' packed envelopes, read here beforehand (only the
 *     hashing is timed). ratio = verify time / plain time (target <= 2).
 *
 * Last line:
 *   bench audit: verify_per_s=... ratio=... relay_ratio=... broken=0
 * where broken is 1 when verify did not report the chain intact.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ccip_chain.h"
#include "ccip_db.h"
#include "ccip_migrate.h"
#include "ccip_outbox.h"
#include "ccip_relay.h"
#include "ccip_test_db.h"
#include "ccip_test_svc.h"
#include "ccip_id.h"

CCIP_MIGRATIONS_DECLARE(ccip);

#define PAYLOAD_BYTES 120 /* a typical small event's payload */
#define INSERT_CHUNK  100000
#define FILL_BATCH    5000 /* numbering batch when filling the stream (not timed) */

/* Inserts n unnumbered events into the outbox (one statement per chunk). */
static int s_insert(ccip_db *db, long n)
{
    for (long done = 0; done < n; done += INSERT_CHUNK) {
        long k = n - done < INSERT_CHUNK ? n - done : INSERT_CHUNK;
        char sql[900];
        /* numbers only: nothing from outside */
        snprintf(sql, sizeof sql,
                 "INSERT INTO outbox (event_id, type, aggregate_type, aggregate_id, payload,"
                 " occurred_at_us, correlation_id, causation_id, actor_id, actor_role,"
                 " source_instance)"
                 " SELECT gen_random_uuid(), 'probea.bench.v1', 'bench', g::text,"
                 " convert_to(repeat(md5(g::text), %d), 'UTF8'),"
                 " (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,"
                 " gen_random_uuid()::text, gen_random_uuid()::text, 'bench', 'service',"
                 " 'bench-1' FROM generate_series(1, %ld) g",
                 PAYLOAD_BYTES / 32 + 1, k);
        if (ccip_db_command(db, sql) != CCIP_DB_OK) {
            fprintf(stderr, "bench audit: could not insert events: %s\n", ccip_db_error(db));
            return -1;
        }
    }
    return 0;
}

/* Numbers every unnumbered event with ccip_outbox_assign in batches of
 * `batch`. Returns the events numbered, or -1. */
static long s_assign_all(ccip_db *db, int batch)
{
    long total = 0;
    for (;;) {
        ccip_outbox_batch *b = NULL;
        char err[512];
        if (ccip_outbox_assign(db, "probea", batch, &b, err, sizeof err) != CCIP_OUTBOX_OK) {
            fprintf(stderr, "bench audit: %s\n", err);
            return -1;
        }
        size_t n = ccip_outbox_batch_count(b);
        ccip_outbox_batch_destroy(&b);
        if (n == 0)
            return total;
        total += (long)n;
    }
}

/* The numbering alone, as the relay numbered before the chain: its lock
 * (common/ccip_outbox.c, S_ASSIGN_LOCK) and one UPDATE ... RETURNING that
 * numbers the rows and returns them as the relay fetches them, with no
 * hashing. (With the chain the relay reads the rows under the lock, hashes
 * them in C and writes position and hashes in one UPDATE: S_ASSIGN_PENDING
 * and S_ASSIGN_WRITE.) */
static const ccip_db_stmt S_LOCK = {"bench_lock", "SELECT head FROM outbox_state FOR UPDATE"};
static const ccip_db_stmt S_NUMBER = {
    "bench_number",
    "WITH next AS (SELECT seq, $1::bigint + row_number() OVER (ORDER BY seq) AS pos"
    "  FROM (SELECT seq FROM outbox WHERE position IS NULL ORDER BY seq LIMIT $2) pending),"
    " numbered AS (UPDATE outbox o SET position = next.pos FROM next WHERE o.seq = next.seq"
    "  RETURNING o.position, o.event_id, o.type, o.aggregate_type, o.aggregate_id, o.payload,"
    "  o.occurred_at_us, o.correlation_id, o.causation_id, o.actor_id, o.actor_role,"
    "  o.source_instance),"
    " state AS (UPDATE outbox_state SET head = $1::bigint + (SELECT count(*) FROM numbered))"
    " SELECT * FROM numbered ORDER BY position"};

typedef struct {
    int batch;
    int numbered; /* rows of the attempt */
} s_plain;

static int s_plain_tx(ccip_db *db, void *arg)
{
    s_plain *p = arg;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_LOCK, 0, NULL, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    char head[24], max[16];
    snprintf(head, sizeof head, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    snprintf(max, sizeof max, "%d", p->batch);
    const char *values[] = {head, max};
    if ((rc = ccip_db_exec(db, &S_NUMBER, 2, values, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    p->numbered = PQntuples(res);
    PQclear(res);
    return 0;
}

static long s_number_plain(ccip_db *db, int batch)
{
    long total = 0;
    for (;;) {
        s_plain p = {.batch = batch};
        if (ccip_db_tx(db, CCIP_DB_READ_COMMITTED, 3, s_plain_tx, &p) != 0) {
            fprintf(stderr, "bench audit: plain numbering failed: %s\n", ccip_db_error(db));
            return -1;
        }
        if (p.numbered == 0)
            return total;
        total += p.numbered;
    }
}

/* One SHA-256 over the packed envelopes of positions 1..n, read with
 * ccip_outbox_read (not timed). Returns the seconds spent hashing, or -1. */
static double s_plain_sha256(ccip_db *db, long n)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    uint8_t *buf = NULL;
    size_t cap = 0;
    int64_t hashing_us = 0;
    for (uint64_t from = 1; from <= (uint64_t)n;) {
        ccip_outbox_batch *b = NULL;
        char err[512];
        if (ccip_outbox_read(db, "probea", from, CCIP_OUTBOX_READ_MAX, 0, &b, err, sizeof err) !=
                CCIP_OUTBOX_OK ||
            ccip_outbox_batch_count(b) == 0) {
            fprintf(stderr, "bench audit: could not read from position %" PRIu64 ": %s\n", from,
                    err);
            ccip_outbox_batch_destroy(&b);
            free(buf);
            return -1;
        }
        size_t count = ccip_outbox_batch_count(b);
        size_t len = 0;
        for (size_t i = 0; i < count; i++)
            len += ccip__envelope__get_packed_size(ccip_outbox_batch_event(b, i));
        if (len > cap) {
            uint8_t *nb = realloc(buf, len);
            if (!nb) {
                ccip_outbox_batch_destroy(&b);
                free(buf);
                return -1;
            }
            buf = nb;
            cap = len;
        }
        size_t off = 0;
        for (size_t i = 0; i < count; i++)
            off += ccip__envelope__pack(ccip_outbox_batch_event(b, i), buf + off);
        int64_t t0 = ccip_now_us();
        crypto_hash_sha256_update(&st, buf, off);
        hashing_us += ccip_now_us() - t0;
        from += count;
        ccip_outbox_batch_destroy(&b);
    }
    uint8_t out[crypto_hash_sha256_BYTES];
    int64_t t0 = ccip_now_us();
    crypto_hash_sha256_final(&st, out);
    hashing_us += ccip_now_us() - t0;
    free(buf);
    return (double)hashing_us / 1e6;
}

int main(int argc, char **argv)
{
    long total = argc > 1 ? atol(argv[1]) : 2000000;
    long relay_m = argc > 2 ? atol(argv[2]) : (total / 10 < 200000 ? total / 10 : 200000);
    if (sodium_init() < 0 || total < relay_m || relay_m < 1000) {
        fprintf(stderr, "usage: bench_audit [EVENTS >= RELAY_EVENTS] [RELAY_EVENTS >= 1000]\n");
        return 2;
    }
    ccip_db *db = ccip_test_db_connect_in("probea", "probea");
    char err[512];
    if (!db || ccip_migrate_run(db, "probea", "ccip", ccip_migrations, ccip_migrations_count, NULL,
                                err, sizeof err) < 0) {
        fprintf(stderr, "bench audit: could not migrate probea: %s\n",
                db ? err : ccip_test_db_error());
        return 1;
    }
    long long head0 = ccip_test_db_number(db, "SELECT head FROM outbox_state");
    if (head0 != 0) {
        fprintf(stderr, "bench audit: probea's stream must be empty (head %lld)\n", head0);
        return 1;
    }

    /* 1. numbering with hashing against without */
    if (s_insert(db, relay_m) < 0)
        return 1;
    int64_t t0 = ccip_now_us();
    long hashed = s_assign_all(db, CCIP_RELAY_BATCH_DEFAULT);
    double with_s = (double)(ccip_now_us() - t0) / 1e6;
    if (hashed != relay_m || s_insert(db, relay_m) < 0)
        return 1;
    t0 = ccip_now_us();
    long plain = s_number_plain(db, CCIP_RELAY_BATCH_DEFAULT);
    double without_s = (double)(ccip_now_us() - t0) / 1e6;
    if (plain != relay_m)
        return 1;
    /* the unhashed events go: the stream is the hashed ones again */
    char sql[300];
    snprintf(sql, sizeof sql,
             "WITH d AS (DELETE FROM outbox WHERE position > %ld RETURNING 1),"
             " s AS (UPDATE outbox_state SET head = %ld) SELECT count(*) FROM d",
             relay_m, relay_m);
    if (ccip_test_db_number(db, "%s", sql) != relay_m)
        return 1;
    double with_per_s = relay_m / with_s, without_per_s = relay_m / without_s;
    printf("bench audit: relay numbering %ld events in batches of %d: with hashing %.0f/s,"
           " without %.0f/s\n",
           relay_m, CCIP_RELAY_BATCH_DEFAULT, with_per_s, without_per_s);
    fflush(stdout);

    /* 2. the whole stream, then verify against plain SHA-256 */
    if (s_insert(db, total - relay_m) < 0 || s_assign_all(db, FILL_BATCH) != total - relay_m)
        return 1;
    ccip_db_command(db, "VACUUM ANALYZE outbox");
    double plain_s = s_plain_sha256(db, total);
    if (plain_s <= 0)
        return 1;
    ccip_db_destroy(&db);

    static ccip_test_svc s; /* zeroed: ccip_test_svc_init makes the context once */
    static const ccip_test_svc_proc procs[] = {
        {"tests/integration/probe/probea", "probea", "probea-1"}, {NULL, NULL, NULL}};
    if (ccip_test_svc_start(&s, "probea", procs) < 0)
        return 1;
    static char out[4096];
    t0 = ccip_now_us();
    int code = ccip_test_ctl_as(&s, "allowed/operator.key", out, sizeof out,
                                "audit verify probea --no-anchors 2>&1");
    double verify_s = (double)(ccip_now_us() - t0) / 1e6;
    char want[64];
    snprintf(want, sizeof want, "intact, positions 1..%ld,", total);
    int broken = code != 0 || !strstr(out, want);
    if (broken)
        fprintf(stderr, "bench audit: verify said (exit %d): %s\n", code, out);
    /* the same through ccip.replay.v1, every hash recomputed in ccipctl */
    t0 = ccip_now_us();
    code = ccip_test_ctl_as(&s, "allowed/operator.key", out, sizeof out,
                            "audit verify probea --no-anchors --via-replay 2>&1");
    double replay_s = (double)(ccip_now_us() - t0) / 1e6;
    ccip_test_svc_stop(&s);
    if (code != 0 || !strstr(out, want)) {
        fprintf(stderr, "bench audit: verify --via-replay said (exit %d): %s\n", code, out);
        broken = 1;
    }
    printf("bench audit: %ld events: verify %.2f s (--via-replay %.2f s), plain sha256 over their"
           " %s %.3f s\n",
           total, verify_s, replay_s, "packed envelopes", plain_s);
    printf("bench audit: verify_per_s=%.0f ratio=%.2f relay_ratio=%.2f broken=%d\n",
           total / verify_s, verify_s / plain_s, with_per_s / without_per_s, broken);
    return broken;
}
