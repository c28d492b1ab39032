/*
 * ccip_test_pgbench: the same-SQL baselines of the benchmarks (issue 22):
 * pgbench running, one transaction per operation, the statements a service
 * runs for one operation (the .sql scripts of tests/bench/pgbench, kept equal to the
 * services' statements by tests/bench/pgbench/check_pgbench_sql.py), and
 * the rows each side writes per operation, from pg_stat_user_tables.
 */
#ifndef CCIP_TEST_PGBENCH_H
#define CCIP_TEST_PGBENCH_H

#include <stddef.h>

#define CCIP_TEST_ROWS_TABLES 64

/* Rows inserted into each table of one schema so far. */
typedef struct {
    int n;
    struct {
        char name[64];
        long long ins, upd;
    } t[CCIP_TEST_ROWS_TABLES];
} ccip_test_rows;

/* Reads the schema's counts (as role ccip_<svc>), after waiting for the
 * backends' statistics to reach the shared counters (PostgreSQL flushes
 * them at most once a second). Returns 0 or -1 (reason on stderr). */
int ccip_test_rows_read(const char *svc, const char *schema, ccip_test_rows *out);

/* Rows per operation on both sides: inserted rows of each table between
 * a0 and a1 over ops_a operations, against b0..b1 over ops_b. Writes
 * "ccip/same" totals into per_op (e.g. "6.00/6.00") and, when a table's
 * rows per operation differ by more than 10% (either way), its name and
 * both figures into differs (else ""). Every table's figures go to stderr.
 * Returns 1 when all agree within 10%, else 0. */
int ccip_test_rows_compare(const ccip_test_rows *a0, const ccip_test_rows *a1, double ops_a,
                           const ccip_test_rows *b0, const ccip_test_rows *b1, double ops_b,
                           char *per_op, size_t per_op_len, char *differs, size_t differs_len);

/* Sets PGPASSWORD for role ccip_<svc> (db-<svc>.password under
 * $CCIP_SECRETS_DIR, as scripts/test writes it), for pgbench and psql
 * started next. Returns 0 or -1 (reason on stderr, naming the file). */
int ccip_test_pgpassword(const char *svc);

/* Runs pgbench (-M prepared, one transaction per script run) with the
 * script at `clients` clients for `seconds`, as role ccip_<svc> with
 * search_path `schema` and jit off as the services have it; with
 * commits_free, synchronous_commit=off for that session only. Fills
 * *transactions when not NULL. Returns tps, or -1 (pgbench's output on
 * stderr). */
double ccip_test_pgbench(const char *svc, const char *schema, const char *script, int clients,
                         int seconds, int commits_free, long *transactions);

#endif
