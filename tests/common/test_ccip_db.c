/* ccip_db against a real PostgreSQL (label integration): parameters go in as
 * text or binary, errors come back classified, transactions commit or roll
 * back as a whole, and lost connections, serialization failures and
 * deadlocks are retried. Each test works in its own throwaway schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccip_db.h"
#include "ccip_log.h"
#include "ccip_test_db.h"

/* Three connections as ccip_test: `owner` creates and drops the schema,
 * `db` and `other` have it as their search_path (also after a reconnect,
 * since it is part of their conninfo). */
typedef struct {
    ccip_db *owner;  /* creates and drops the schema */
    ccip_db *db;     /* the connection under test */
    ccip_db *other;  /* a second session of the same role */
    char schema[64]; /* throwaway schema of this test */
} s_fixture;

static int s_setup(void **state)
{
    s_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    *state = f;
    f->owner = ccip_test_db_connect("test");
    if (!f->owner)
        fail_msg("%s", ccip_test_db_error());
    if (ccip_test_schema_new(f->owner, "t_db", f->schema, sizeof f->schema) < 0)
        fail_msg("%s", ccip_test_db_error());
    f->db = ccip_test_db_connect_in("test", f->schema);
    f->other = ccip_test_db_connect_in("test", f->schema);
    if (!f->db || !f->other)
        fail_msg("%s", ccip_test_db_error());
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture *f = *state;
    ccip_db_destroy(&f->db);
    ccip_db_destroy(&f->other);
    if (f->owner && f->schema[0])
        ccip_test_schema_drop(f->owner, f->schema);
    ccip_db_destroy(&f->owner);
    free(f);
    return 0;
}

/* Runs a fixed command and fails the test with the reason if it fails. */
static void s_command(ccip_db *db, const char *sql)
{
    if (ccip_db_command(db, sql) != CCIP_DB_OK)
        fail_msg("%s: %s", sql, ccip_db_error(db));
}

/* The single text value of a one-row result, copied into out. */
static void s_query_value(ccip_db *db, const ccip_db_stmt *stmt, int nparams,
                          const char *const *values, char *out, size_t len)
{
    PGresult *res = NULL;
    if (ccip_db_exec(db, stmt, nparams, values, NULL, NULL, &res) != CCIP_DB_OK)
        fail_msg("%s: %s", stmt->name, ccip_db_error(db));
    assert_int_equal(PQntuples(res), 1);
    snprintf(out, len, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
}

static const ccip_db_stmt S_ADD = {"test_add", "SELECT $1::int + $2::int"};
static const ccip_db_stmt S_IS_NULL = {"test_is_null", "SELECT $1::text IS NULL"};
static const ccip_db_stmt S_PID = {"test_pid", "SELECT pg_backend_pid()"};
static const ccip_db_stmt S_KILL = {"test_kill", "SELECT pg_terminate_backend($1::int, 5000)"};
static const ccip_db_stmt S_COUNT = {"test_count", "SELECT count(*) FROM item"};
static const ccip_db_stmt S_INSERT = {"test_insert", "INSERT INTO item (id) VALUES ($1::int)"};

static void test_exec_with_text_params(void **state)
{
    s_fixture *f = *state;
    char out[64];
    const char *two_three[] = {"2", "3"};
    s_query_value(f->db, &S_ADD, 2, two_three, out, sizeof out);
    assert_string_equal(out, "5");

    /* a NULL value is SQL NULL */
    const char *null_value[] = {NULL};
    s_query_value(f->db, &S_IS_NULL, 1, null_value, out, sizeof out);
    assert_string_equal(out, "t");
    assert_string_equal(ccip_db_error(f->db), "");
}

static void test_binary_bytea_round_trip(void **state)
{
    s_fixture *f = *state;
    static const ccip_db_stmt put = {"test_blob_put", "INSERT INTO blob VALUES ($1::int, $2)"};
    static const ccip_db_stmt get = {"test_blob_get",
                                     "SELECT data, length(data) FROM blob WHERE id = $1::int"};
    s_command(f->db, "CREATE TABLE blob (id int PRIMARY KEY, data bytea NOT NULL)");

    static const char data[] = {'\0', '\x01', '\'', '\\', '\xff', '\0'};
    const char *values[] = {"1", data};
    const int lengths[] = {0, (int)sizeof data};
    const int formats[] = {0, 1};
    assert_int_equal(ccip_db_exec(f->db, &put, 2, values, lengths, formats, NULL), CCIP_DB_OK);

    PGresult *res = NULL;
    const char *id[] = {"1"};
    assert_int_equal(ccip_db_exec(f->db, &get, 1, id, NULL, NULL, &res), CCIP_DB_OK);
    assert_string_equal(PQgetvalue(res, 0, 1), "6");
    size_t n = 0;
    unsigned char *back = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 0), &n);
    assert_non_null(back);
    assert_int_equal(n, sizeof data);
    assert_memory_equal(back, data, sizeof data);
    PQfreemem(back);
    PQclear(res);
}

static void test_errors_are_classified(void **state)
{
    s_fixture *f = *state;
    static const ccip_db_stmt bad = {"test_bad", "SELEC 1"};
    PGresult *res = (PGresult *)1; /* must come back NULL */
    assert_int_equal(ccip_db_exec(f->db, &bad, 0, NULL, NULL, NULL, &res), CCIP_DB_ERROR);
    assert_null(res);
    assert_string_equal(ccip_db_sqlstate(f->db), "42601");
    assert_non_null(strstr(ccip_db_error(f->db), "syntax error"));

    /* a constraint violation is an error, not a reason to retry */
    s_command(f->db, "CREATE TABLE item (id int PRIMARY KEY)");
    const char *one[] = {"1"};
    assert_int_equal(ccip_db_exec(f->db, &S_INSERT, 1, one, NULL, NULL, NULL), CCIP_DB_OK);
    assert_int_equal(ccip_db_exec(f->db, &S_INSERT, 1, one, NULL, NULL, NULL), CCIP_DB_ERROR);
    assert_string_equal(ccip_db_sqlstate(f->db), "23505");

    /* the connection is still fine afterwards */
    char out[64];
    const char *two_three[] = {"2", "3"};
    s_query_value(f->db, &S_ADD, 2, two_three, out, sizeof out);
    assert_string_equal(out, "5");
}

/* What the transaction functions below are told to do and what they saw. */
typedef struct {
    const char *id;         /* row to insert */
    int give_up;            /* return -1 after inserting */
    int ignore_error;       /* return 0 even when the insert failed */
    int attempts;           /* times the function ran */
    ccip_db *interfere;     /* when set, another session updates the row on attempt 1 */
    ccip_db *killer;        /* when set, terminates our backend on attempt 1 */
    char first_sqlstate[6]; /* SQLSTATE the first attempt failed with */
} s_tx_arg;

static void s_kill_backend_of(ccip_db *victim, ccip_db *killer);

static int s_insert_tx(ccip_db *db, void *arg)
{
    s_tx_arg *a = arg;
    a->attempts++;
    if (a->killer && a->attempts == 1)
        s_kill_backend_of(db, a->killer);
    const char *values[] = {a->id};
    ccip_db_rc rc = ccip_db_exec(db, &S_INSERT, 1, values, NULL, NULL, NULL);
    if (rc != CCIP_DB_OK && a->attempts == 1)
        snprintf(a->first_sqlstate, sizeof a->first_sqlstate, "%s", ccip_db_sqlstate(db));
    if (a->ignore_error)
        return 0;
    if (rc != CCIP_DB_OK)
        return rc;
    return a->give_up ? -1 : 0;
}

static long s_count(ccip_db *db)
{
    char out[32];
    s_query_value(db, &S_COUNT, 0, NULL, out, sizeof out);
    return atol(out);
}

static void test_tx_commits_or_rolls_back(void **state)
{
    s_fixture *f = *state;
    s_command(f->db, "CREATE TABLE item (id int PRIMARY KEY)");

    s_tx_arg commit = {.id = "1"};
    assert_int_equal(ccip_db_tx(f->db, CCIP_DB_READ_COMMITTED, 3, s_insert_tx, &commit), 0);
    assert_int_equal(s_count(f->other), 1);

    s_tx_arg give_up = {.id = "2", .give_up = 1};
    assert_int_equal(ccip_db_tx(f->db, CCIP_DB_READ_COMMITTED, 3, s_insert_tx, &give_up), -1);
    assert_int_equal(give_up.attempts, 1);
    assert_int_equal(s_count(f->other), 1);

    /* a failed statement: rolled back, not retried, its error kept */
    s_tx_arg dup = {.id = "1"};
    assert_int_equal(ccip_db_tx(f->db, CCIP_DB_READ_COMMITTED, 3, s_insert_tx, &dup), -1);
    assert_int_equal(dup.attempts, 1);
    assert_string_equal(ccip_db_sqlstate(f->db), "23505");

    /* a function that ignores the failure does not get a silent commit */
    s_tx_arg sloppy = {.id = "1", .ignore_error = 1};
    assert_int_equal(ccip_db_tx(f->db, CCIP_DB_REPEATABLE_READ, 3, s_insert_tx, &sloppy), -1);
    assert_int_equal(s_count(f->db), 1);
}

static void s_kill_backend_of(ccip_db *victim, ccip_db *killer)
{
    char pid[32], ok[8];
    s_query_value(victim, &S_PID, 0, NULL, pid, sizeof pid);
    const char *values[] = {pid};
    s_query_value(killer, &S_KILL, 1, values, ok, sizeof ok);
    assert_string_equal(ok, "t");
}

static void test_tx_retried_after_backend_killed(void **state)
{
    s_fixture *f = *state;
    s_command(f->db, "CREATE TABLE item (id int PRIMARY KEY)");
    char pid_before[32], pid_after[32];
    s_query_value(f->db, &S_PID, 0, NULL, pid_before, sizeof pid_before);

    /* Only a superuser or the same role may terminate a backend: `other`
     * is the same role as `db`. Killed between transactions: BEGIN fails,
     * the connection is made again, the function runs once. */
    s_kill_backend_of(f->db, f->other);
    s_tx_arg a = {.id = "7"};
    assert_int_equal(ccip_db_tx(f->db, CCIP_DB_READ_COMMITTED, 3, s_insert_tx, &a), 0);
    assert_int_equal(a.attempts, 1);
    s_query_value(f->db, &S_PID, 0, NULL, pid_after, sizeof pid_after);
    assert_string_not_equal(pid_before, pid_after);

    /* Killed inside the transaction: the whole function runs again. */
    s_tx_arg b = {.id = "8", .killer = f->other};
    assert_int_equal(ccip_db_tx(f->db, CCIP_DB_READ_COMMITTED, 3, s_insert_tx, &b), 0);
    assert_int_equal(b.attempts, 2);
    assert_int_equal(s_count(f->other), 2);
}

static void test_exec_after_backend_killed_needs_ensure(void **state)
{
    s_fixture *f = *state;
    char out[64];
    const char *two_three[] = {"2", "3"};
    s_query_value(f->db, &S_ADD, 2, two_three, out, sizeof out);
    s_kill_backend_of(f->db, f->other);

    assert_int_equal(ccip_db_exec(f->db, &S_ADD, 2, two_three, NULL, NULL, NULL),
                     CCIP_DB_RETRYABLE);
    assert_int_equal(ccip_db_exec(f->db, &S_ADD, 2, two_three, NULL, NULL, NULL),
                     CCIP_DB_RETRYABLE);
    assert_int_equal(ccip_db_ensure(f->db, 5000), 0);
    /* prepared again on the new connection without being asked */
    s_query_value(f->db, &S_ADD, 2, two_three, out, sizeof out);
    assert_string_equal(out, "5");
}

static const ccip_db_stmt S_READ_ACCT = {"test_read_acct", "SELECT v FROM acct WHERE id = 1"};
static const ccip_db_stmt S_BUMP_ACCT = {"test_bump_acct",
                                         "UPDATE acct SET v = v + $1::int WHERE id = 1"};

/* Reads the row, lets another session change it (first attempt only), then
 * writes it: under SERIALIZABLE the write fails with 40001. */
static int s_read_then_write_tx(ccip_db *db, void *arg)
{
    s_tx_arg *a = arg;
    a->attempts++;
    ccip_db_rc rc = ccip_db_exec(db, &S_READ_ACCT, 0, NULL, NULL, NULL, NULL);
    if (rc != CCIP_DB_OK)
        return rc;
    if (a->attempts == 1) {
        const char *one[] = {"1"};
        assert_int_equal(ccip_db_exec(a->interfere, &S_BUMP_ACCT, 1, one, NULL, NULL, NULL),
                         CCIP_DB_OK);
    }
    const char *ten[] = {"10"};
    rc = ccip_db_exec(db, &S_BUMP_ACCT, 1, ten, NULL, NULL, NULL);
    if (rc != CCIP_DB_OK && a->attempts == 1)
        snprintf(a->first_sqlstate, sizeof a->first_sqlstate, "%s", ccip_db_sqlstate(db));
    return rc;
}

static void test_serialization_failure_retried(void **state)
{
    s_fixture *f = *state;
    s_command(f->db, "CREATE TABLE acct (id int PRIMARY KEY, v int NOT NULL);"
                     " INSERT INTO acct VALUES (1, 0)");
    s_tx_arg a = {.interfere = f->other};
    assert_int_equal(ccip_db_tx(f->db, CCIP_DB_SERIALIZABLE, 3, s_read_then_write_tx, &a), 0);
    assert_int_equal(a.attempts, 2);
    assert_string_equal(a.first_sqlstate, "40001");
    char out[32];
    s_query_value(f->other, &S_READ_ACCT, 0, NULL, out, sizeof out);
    assert_string_equal(out, "11"); /* both updates, each once */
}

/* Two threads lock rows 1 and 2 in opposite orders; PostgreSQL breaks the
 * deadlock by failing one with 40P01, and ccip_db_tx runs it again. */
typedef struct {
    ccip_db *db;                    /* this thread's connection */
    const char *first;              /* row locked first */
    const char *second;             /* row locked second */
    pthread_barrier_t *both_locked; /* met once each holds its first row */
    int attempts;                   /* times the function ran */
    int rc;                         /* what ccip_db_tx returned */
} s_deadlock_arg;

static const ccip_db_stmt S_LOCK_ROW = {"test_lock_row",
                                        "UPDATE acct SET v = v + 1 WHERE id = $1::int"};

static int s_lock_two_rows_tx(ccip_db *db, void *arg)
{
    s_deadlock_arg *a = arg;
    a->attempts++;
    const char *first[] = {a->first};
    ccip_db_rc rc = ccip_db_exec(db, &S_LOCK_ROW, 1, first, NULL, NULL, NULL);
    if (rc != CCIP_DB_OK)
        return rc;
    if (a->attempts == 1)
        pthread_barrier_wait(a->both_locked);
    const char *second[] = {a->second};
    return ccip_db_exec(db, &S_LOCK_ROW, 1, second, NULL, NULL, NULL);
}

static void *s_deadlock_thread(void *arg)
{
    s_deadlock_arg *a = arg;
    a->rc = ccip_db_tx(a->db, CCIP_DB_READ_COMMITTED, 5, s_lock_two_rows_tx, a);
    return NULL;
}

static void test_deadlock_retried(void **state)
{
    s_fixture *f = *state;
    s_command(f->db, "CREATE TABLE acct (id int PRIMARY KEY, v int NOT NULL);"
                     " INSERT INTO acct VALUES (1, 0), (2, 0)");
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 2);
    s_deadlock_arg a = {.db = f->db, .first = "1", .second = "2", .both_locked = &barrier};
    s_deadlock_arg b = {.db = f->other, .first = "2", .second = "1", .both_locked = &barrier};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, s_deadlock_thread, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, s_deadlock_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&barrier);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    assert_int_equal(a.attempts + b.attempts, 3); /* exactly one was run again */
    char out[32];
    s_query_value(f->db, &S_READ_ACCT, 0, NULL, out, sizeof out);
    assert_string_equal(out, "2");
}

static int s_always_retryable_tx(ccip_db *db, void *arg)
{
    (void)db;
    (*(int *)arg)++;
    return CCIP_DB_RETRYABLE;
}

static void test_tx_gives_up_after_max_attempts(void **state)
{
    s_fixture *f = *state;
    int attempts = 0;
    assert_int_equal(ccip_db_tx(f->db, CCIP_DB_READ_COMMITTED, 3, s_always_retryable_tx, &attempts),
                     CCIP_DB_RETRYABLE);
    assert_int_equal(attempts, 3);
}

static void test_bad_password_is_refused(void **state)
{
    (void)state;
    char ci[2048];
    if (ccip_test_conninfo("test", ci, sizeof ci) < 0)
        fail_msg("%s", ccip_test_db_error());
    strncat(ci, " password=wrong", sizeof ci - strlen(ci) - 1); /* the last one counts */
    char err[512] = "";
    ccip_db *db = ccip_db_new(ci, err, sizeof err);
    assert_null(db);
    assert_non_null(strstr(err, "could not connect to database: "));
    assert_non_null(strstr(err, "password authentication failed"));
}

static void test_bad_arguments_are_errors(void **state)
{
    s_fixture *f = *state;
    assert_int_equal(ccip_db_exec(f->db, NULL, 0, NULL, NULL, NULL, NULL), CCIP_DB_ERROR);
    assert_int_equal(ccip_db_exec(f->db, &S_ADD, 2, NULL, NULL, NULL, NULL), CCIP_DB_ERROR);
    assert_int_equal(ccip_db_tx(f->db, CCIP_DB_READ_COMMITTED, 0, s_always_retryable_tx, NULL), -1);
    char err[128];
    assert_null(ccip_db_new(NULL, err, sizeof err));
    ccip_db *none = NULL;
    ccip_db_destroy(&none);
    ccip_db_destroy(NULL);
}

/* Result cells read the same way everywhere: NULL and text that is not a
 * number read as 0, a boolean is true only for 't'; set_schema keeps what
 * the connection's owner checked, cut to an identifier's 63 bytes. */
static const ccip_db_stmt S_CELLS = {
    "test_cells", "SELECT 42::bigint, NULL::bigint, (-9223372036854775808)::bigint, 'x'::text, "
                  "true, false, NULL::boolean"};

static void test_cells_and_schema(void **state)
{
    s_fixture *f = *state;
    PGresult *res = NULL;
    if (ccip_db_exec(f->db, &S_CELLS, 0, NULL, NULL, NULL, &res) != CCIP_DB_OK)
        fail_msg("%s", ccip_db_error(f->db));
    assert_int_equal(ccip_db_cell_i64(res, 0, 0), 42);
    assert_int_equal(ccip_db_cell_i64(res, 0, 1), 0);
    assert_true(ccip_db_cell_i64(res, 0, 2) == INT64_MIN);
    assert_int_equal(ccip_db_cell_i64(res, 0, 3), 0);
    assert_int_equal(ccip_db_cell_bool(res, 0, 4), 1);
    assert_int_equal(ccip_db_cell_bool(res, 0, 5), 0);
    assert_int_equal(ccip_db_cell_bool(res, 0, 6), 0);
    PQclear(res);

    assert_string_equal(ccip_db_schema(f->db), ""); /* nobody checked it yet */
    ccip_db_set_schema(f->db, f->schema);
    assert_string_equal(ccip_db_schema(f->db), f->schema);
    char longer[100];
    memset(longer, 's', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    ccip_db_set_schema(f->db, longer);
    assert_int_equal(strlen(ccip_db_schema(f->db)), 63);
}

int main(void)
{
    ccip_log_init("test", "test_ccip_db", CCIP_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exec_with_text_params, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_binary_bytea_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_errors_are_classified, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_tx_commits_or_rolls_back, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_tx_retried_after_backend_killed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_exec_after_backend_killed_needs_ensure, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_serialization_failure_retried, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_deadlock_retried, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_tx_gives_up_after_max_attempts, s_setup, s_teardown),
        cmocka_unit_test(test_bad_password_is_refused),
        cmocka_unit_test_setup_teardown(test_bad_arguments_are_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cells_and_schema, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
