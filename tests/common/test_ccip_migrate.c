/* ccip_migrate against a real PostgreSQL (label integration): a fresh
 * schema gets every migration once, a second run and a concurrent runner
 * apply nothing more, a newer database is accepted only when its migrations
 * say this code still works, and edited, failing or header-less migrations
 * are refused with nothing left applied. Each test migrates its own
 * throwaway schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_db.h"
#include "ccip_log.h"
#include "ccip_migrate.h"
#include "ccip_test_db.h"

#define COMPONENT "widget"

/* Three migrations; the third is an expand migration, so code version 2
 * still works against a database at version 3. */
static const ccip_migration s_v3[] = {
    {1, "0001_item",
     "-- ccip:oldest-compatible-code 1\n"
     "CREATE TABLE item (id int PRIMARY KEY);\n"
     "INSERT INTO item VALUES (1);\n"},
    {2, "0002_item_name",
     "-- ccip:oldest-compatible-code 1\nALTER TABLE item ADD COLUMN name text;\n"},
    {3, "0003_note", "-- ccip:oldest-compatible-code 2\nCREATE TABLE note (id int);\n"},
};
/* sha256sum of s_v3[0].sql */
#define V3_FIRST_SHA256 "ac1a12f84218d8503de6680f78d3dba7fe84bacda35de53c66a0d9c477b31016"

/* The same history, but the third is a contract migration that code
 * version 2 cannot live with. */
static const ccip_migration s_v3_contract[] = {
    s_v3[0],
    s_v3[1],
    {3, "0003_drop_name", "-- ccip:oldest-compatible-code 3\nALTER TABLE item DROP COLUMN name;\n"},
};

typedef struct {
    ccip_db *db;     /* connection as ccip_test, search_path = schema */
    char schema[64]; /* throwaway schema of this test */
} s_fixture;

static int s_setup(void **state)
{
    s_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    *state = f;
    ccip_db *owner = ccip_test_db_connect("test");
    if (!owner)
        fail_msg("%s", ccip_test_db_error());
    if (ccip_test_schema_new(owner, "t_migrate", f->schema, sizeof f->schema) < 0)
        fail_msg("%s", ccip_test_db_error());
    ccip_db_destroy(&owner);
    f->db = ccip_test_db_connect_in("test", f->schema);
    if (!f->db)
        fail_msg("%s", ccip_test_db_error());
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

static const ccip_db_stmt S_EXISTS = {"test_exists", "SELECT to_regclass($1) IS NOT NULL"};
static const ccip_db_stmt S_COUNT_APPLIED = {
    "test_count_applied", "SELECT count(*) FROM schema_migrations WHERE component = $1"};
static const ccip_db_stmt S_COUNT_ITEMS = {"test_count_items", "SELECT count(*) FROM item"};
static const ccip_db_stmt S_FIRST_ROW = {
    "test_first_row", "SELECT name, checksum, oldest_compatible_code, applied_at IS NOT NULL"
                      " FROM schema_migrations WHERE component = $1 AND version = 1"};

/* True when <schema>.<table> exists. */
static int s_exists(s_fixture *f, const char *table)
{
    char qualified[160];
    snprintf(qualified, sizeof qualified, "%s.%s", f->schema, table);
    const char *values[] = {qualified};
    PGresult *res = NULL;
    if (ccip_db_exec(f->db, &S_EXISTS, 1, values, NULL, NULL, &res) != CCIP_DB_OK)
        fail_msg("%s", ccip_db_error(f->db));
    int yes = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return yes;
}

static long s_count(s_fixture *f, const ccip_db_stmt *stmt, const char *param)
{
    const char *values[] = {param};
    PGresult *res = NULL;
    if (ccip_db_exec(f->db, stmt, param ? 1 : 0, values, NULL, NULL, &res) != CCIP_DB_OK)
        fail_msg("%s: %s", stmt->name, ccip_db_error(f->db));
    long n = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n;
}

/* Runs the migrations and fails the test, showing why, when that fails. */
static ccip_migrate_result s_migrate_ok(s_fixture *f, const ccip_migration *list, size_t count)
{
    ccip_migrate_result r;
    char err[512] = "";
    if (ccip_migrate_run(f->db, f->schema, COMPONENT, list, count, &r, err, sizeof err) != 0)
        fail_msg("migration failed: %s", err);
    return r;
}

static void test_fresh_schema_gets_everything(void **state)
{
    s_fixture *f = *state;
    ccip_migrate_result r = s_migrate_ok(f, s_v3, 3);
    assert_int_equal(r.db_version_before, 0);
    assert_int_equal(r.db_version_after, 3);
    assert_int_equal(r.code_version, 3);
    assert_int_equal(r.applied, 3);
    assert_int_equal(r.db_ahead, 0);

    assert_true(s_exists(f, "note"));
    assert_int_equal(s_count(f, &S_COUNT_ITEMS, NULL), 1);
    assert_int_equal(s_count(f, &S_COUNT_APPLIED, COMPONENT), 3);
    PGresult *res = NULL;
    const char *component[] = {COMPONENT};
    assert_int_equal(ccip_db_exec(f->db, &S_FIRST_ROW, 1, component, NULL, NULL, &res), CCIP_DB_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "0001_item");
    assert_string_equal(PQgetvalue(res, 0, 1), V3_FIRST_SHA256);
    assert_string_equal(PQgetvalue(res, 0, 2), "1");
    assert_string_equal(PQgetvalue(res, 0, 3), "t");
    PQclear(res);
}

static void test_second_run_applies_nothing(void **state)
{
    s_fixture *f = *state;
    s_migrate_ok(f, s_v3, 2);
    ccip_migrate_result r = s_migrate_ok(f, s_v3, 3); /* a newer binary: one more */
    assert_int_equal(r.applied, 1);
    assert_int_equal(r.db_version_before, 2);
    r = s_migrate_ok(f, s_v3, 3);
    assert_int_equal(r.applied, 0);
    assert_int_equal(r.db_version_before, 3);
    assert_int_equal(r.db_version_after, 3);
    assert_int_equal(s_count(f, &S_COUNT_ITEMS, NULL), 1);
}

/* Two replicas starting together: each thread has its own connection. */
typedef struct {
    const char *schema;         /* schema both migrate */
    ccip_migrate_result result; /* what this runner did */
    int rc;                     /* what ccip_migrate_run returned */
    char err[512];              /* its error */
} s_runner;

static const ccip_migration s_slow[] = {
    {1, "0001_slow_item",
     "-- ccip:oldest-compatible-code 1\n"
     "SELECT pg_sleep(0.3);\n"
     "CREATE TABLE item (id int PRIMARY KEY);\n"
     "INSERT INTO item VALUES (1);\n"},
    {2, "0002_more", "-- ccip:oldest-compatible-code 1\nINSERT INTO item VALUES (2);\n"},
};

static void *s_runner_thread(void *arg)
{
    s_runner *r = arg;
    ccip_db *db = ccip_test_db_connect("test");
    if (!db) {
        snprintf(r->err, sizeof r->err, "%s", ccip_test_db_error());
        r->rc = -1;
        return NULL;
    }
    r->rc =
        ccip_migrate_run(db, r->schema, COMPONENT, s_slow, 2, &r->result, r->err, sizeof r->err);
    ccip_db_destroy(&db);
    return NULL;
}

static void test_two_runners_at_once(void **state)
{
    s_fixture *f = *state;
    s_runner a = {.schema = f->schema}, b = {.schema = f->schema};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, s_runner_thread, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, s_runner_thread, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    if (a.rc != 0 || b.rc != 0)
        fail_msg("runner failed: a: %s; b: %s", a.err, b.err);
    assert_int_equal(a.result.applied + b.result.applied, 2);
    assert_true(a.result.applied == 0 || b.result.applied == 0);
    assert_int_equal(s_count(f, &S_COUNT_APPLIED, COMPONENT), 2);
    assert_int_equal(s_count(f, &S_COUNT_ITEMS, NULL), 2);
}

static void test_database_ahead_but_compatible_starts(void **state)
{
    s_fixture *f = *state;
    s_migrate_ok(f, s_v3, 3);
    ccip_migrate_result r = s_migrate_ok(f, s_v3, 2); /* the previous binary, rolled back */
    assert_int_equal(r.db_ahead, 1);
    assert_int_equal(r.applied, 0);
    assert_int_equal(r.code_version, 2);
    assert_int_equal(r.db_version_before, 3);
    assert_int_equal(r.db_version_after, 3);
}

static void test_database_ahead_and_incompatible_refuses(void **state)
{
    s_fixture *f = *state;
    char err[512] = "", want[512];
    /* component named like the schema, as services do for their own tables */
    assert_int_equal(
        ccip_migrate_run(f->db, f->schema, f->schema, s_v3_contract, 3, NULL, err, sizeof err), 0);
    ccip_migrate_result r = {.applied = -1};
    assert_int_equal(
        ccip_migrate_run(f->db, f->schema, f->schema, s_v3_contract, 2, &r, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "database schema %s is at version 3, which needs code version 3 or newer;"
             " this binary is version 2 (upgrade the binary, or restore the database)",
             f->schema);
    assert_string_equal(err, want);
    assert_int_equal(r.applied, -1); /* result untouched on failure */
}

static void test_edited_migration_is_refused(void **state)
{
    s_fixture *f = *state;
    s_migrate_ok(f, s_v3, 2);
    ccip_migration edited[3] = {s_v3[0], s_v3[1], s_v3[2]};
    edited[1].sql = "-- ccip:oldest-compatible-code 1\nALTER TABLE item ADD COLUMN name varchar;\n";
    char err[512] = "";
    assert_int_equal(
        ccip_migrate_run(f->db, f->schema, COMPONENT, edited, 3, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "migration 0002_item_name of component " COMPONENT));
    assert_non_null(strstr(err, "landed migrations are never edited"));
    assert_false(s_exists(f, "note")); /* 0003 was not applied either */
    assert_int_equal(s_count(f, &S_COUNT_APPLIED, COMPONENT), 2);
}

static void test_failing_migration_leaves_nothing(void **state)
{
    s_fixture *f = *state;
    const ccip_migration broken[] = {
        s_v3[0],
        {2, "0002_broken", "-- ccip:oldest-compatible-code 1\nALTER TABLE nosuch ADD x int;\n"},
    };
    char err[512] = "";
    assert_int_equal(
        ccip_migrate_run(f->db, f->schema, COMPONENT, broken, 2, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "could not apply migration 0002_broken of component " COMPONENT));
    assert_non_null(strstr(err, "\"nosuch\" does not exist"));
    assert_false(s_exists(f, "item"));
    assert_false(s_exists(f, "schema_migrations"));

    /* on top of an earlier run: only that run's work stays */
    s_migrate_ok(f, s_v3, 1);
    const ccip_migration later[] = {
        s_v3[0],
        s_v3[1],
        {3, "0003_broken", "-- ccip:oldest-compatible-code 1\nCREATE TABLE item (id int);\n"},
    };
    assert_int_equal(ccip_migrate_run(f->db, f->schema, COMPONENT, later, 3, NULL, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "0003_broken"));
    assert_int_equal(s_count(f, &S_COUNT_APPLIED, COMPONENT), 1);
    ccip_migrate_result r = s_migrate_ok(f, s_v3, 3); /* 0002 was rolled back with 0003 */
    assert_int_equal(r.applied, 2);

    /* a migration may not end the transaction it runs in; what it did after
     * its COMMIT cannot be undone, which is why the run fails loudly */
    const ccip_migration committing[] = {
        s_v3[0],
        s_v3[1],
        s_v3[2],
        {4, "0004_commits",
         "-- ccip:oldest-compatible-code 1\nCOMMIT;\nCREATE TABLE late (id int);\n"},
    };
    assert_int_equal(
        ccip_migrate_run(f->db, f->schema, COMPONENT, committing, 4, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "0004_commits"));
    assert_non_null(strstr(err, "ended the transaction"));
}

static void test_missing_or_bad_header_is_refused(void **state)
{
    s_fixture *f = *state;
    const char *bad_texts[] = {
        "CREATE TABLE item (id int);\n",
        "-- ccip:oldest-compatible-code\nCREATE TABLE item (id int);\n",
        "-- ccip:oldest-compatible-code two\nCREATE TABLE item (id int);\n",
        "-- ccip:oldest-compatible-code 1 2\nCREATE TABLE item (id int);\n",
        "-- ccip:oldest-compatible-code 5\nCREATE TABLE item (id int);\n", /* above version */
        "\n-- ccip:oldest-compatible-code 1\nCREATE TABLE item (id int);\n",
    };
    for (size_t i = 0; i < sizeof bad_texts / sizeof bad_texts[0]; i++) {
        const ccip_migration list[] = {s_v3[0], {2, "0002_no_header", bad_texts[i]}};
        char err[512] = "";
        assert_int_equal(
            ccip_migrate_run(f->db, f->schema, COMPONENT, list, 2, NULL, err, sizeof err), -1);
        assert_non_null(strstr(err, "migration 0002_no_header.sql of component " COMPONENT));
    }
    assert_false(s_exists(f, "schema_migrations")); /* refused before touching anything */
}

static void test_bad_schema_names_are_refused(void **state)
{
    s_fixture *f = *state;
    const char *names[] = {
        "Intake", "a;drop schema x",
        "",       "1abc",
        "a-b",    "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char err[512] = "";
        assert_int_equal(
            ccip_migrate_run(f->db, names[i], COMPONENT, s_v3, 3, NULL, err, sizeof err), -1);
        assert_non_null(strstr(err, "is not a lower-case identifier"));
    }
    char err[512] = "";
    assert_int_equal(ccip_migrate_run(f->db, NULL, COMPONENT, s_v3, 3, NULL, err, sizeof err), -1);
}

static void test_components_are_independent(void **state)
{
    s_fixture *f = *state;
    const ccip_migration infra[] = {
        {1, "0001_outbox", "-- ccip:oldest-compatible-code 1\nCREATE TABLE outbox (id int);\n"},
    };
    char err[512] = "";
    ccip_migrate_result r;
    assert_int_equal(ccip_migrate_run(f->db, f->schema, "ccip", infra, 1, &r, err, sizeof err), 0);
    assert_int_equal(r.applied, 1);
    r = s_migrate_ok(f, s_v3, 3);
    assert_int_equal(r.applied, 3);
    assert_int_equal(r.db_version_before, 0);
    assert_int_equal(s_count(f, &S_COUNT_APPLIED, "ccip"), 1);
}

int main(void)
{
    ccip_log_init("test", "test_ccip_migrate", CCIP_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_schema_gets_everything, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_second_run_applies_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_two_runners_at_once, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_database_ahead_but_compatible_starts, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_database_ahead_and_incompatible_refuses, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_edited_migration_is_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_failing_migration_leaves_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_missing_or_bad_header_is_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_schema_names_are_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_components_are_independent, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
