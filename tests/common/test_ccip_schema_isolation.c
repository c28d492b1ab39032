/* Schema isolation (label integration): each service connects as its own
 * role ccip_<svc>, works freely in its own schema, and can neither read nor
 * create anything in another service's schema or in public. Any widened
 * grant (schema usage, table privilege, role membership, CREATE on the
 * database or on public) fails this test. Roles and schemas come from
 * deploy/sql/bootstrap.sql, run by scripts/test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ccip_db.h"
#include "ccip_log.h"
#include "ccip_test_db.h"

#define NSVC 7
static const char *const s_services[NSVC] = {"intake", "evaluation", "funding", "ip",
                                             "stats",  "followup",   "notify"};

/* One connection per service role, opened by the group setup. */
static ccip_db *s_db[NSVC];

static const ccip_db_stmt S_WHO = {"iso_who", "SELECT current_user, current_schema()"};
static const ccip_db_stmt S_INSERT_SCRATCH = {"iso_insert_scratch",
                                              "INSERT INTO isolation_scratch (v) VALUES ($1)"};
static const ccip_db_stmt S_READ_SCRATCH = {"iso_read_scratch",
                                            "SELECT sum(v) FROM isolation_scratch"};
/* Each answer is "t" when the role has more than it should. */
static const ccip_db_stmt S_OWN_EXCESS = {
    "iso_own_excess",
    "SELECT r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolbypassrls AS role_attributes,"
    " has_database_privilege(current_database(), 'CREATE') AS database_create,"
    " has_database_privilege(current_database(), 'TEMPORARY') AS database_temporary,"
    " has_schema_privilege('public', 'CREATE') AS public_create,"
    " has_schema_privilege('public', 'USAGE') AS public_usage"
    " FROM pg_roles r WHERE r.rolname = current_user"};
static const ccip_db_stmt S_OTHER_EXCESS = {
    "iso_other_excess",
    "SELECT has_schema_privilege($1, 'USAGE') AS schema_usage,"
    " has_schema_privilege($1, 'CREATE') AS schema_create,"
    " pg_has_role($2, 'MEMBER') AS role_membership,"
    " (SELECT count(*) > 0 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    "   WHERE n.nspname = $1 AND has_table_privilege(c.oid,"
    "     'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')) AS table_privilege"};

static int s_setup(void **state)
{
    (void)state;
    for (int i = 0; i < NSVC; i++) {
        s_db[i] = ccip_test_db_connect(s_services[i]);
        if (!s_db[i]) {
            print_error("%s\n", ccip_test_db_error());
            return -1;
        }
        /* the probe every other role will fail to read, made by its owner */
        if (ccip_db_command(s_db[i], "DROP TABLE IF EXISTS isolation_probe;"
                                     " CREATE TABLE isolation_probe (v int NOT NULL);"
                                     " INSERT INTO isolation_probe VALUES (42)") != CCIP_DB_OK) {
            print_error("ccip_%s could not create a table in its own schema: %s\n", s_services[i],
                        ccip_db_error(s_db[i]));
            return -1;
        }
    }
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NSVC; i++) {
        if (s_db[i])
            ccip_db_command(s_db[i], "DROP TABLE IF EXISTS isolation_probe");
        ccip_db_destroy(&s_db[i]);
    }
    return 0;
}

/* Every column of the one-row result of stmt must be "f". */
static void s_expect_all_false(ccip_db *db, const ccip_db_stmt *stmt, int nparams,
                               const char *const *values, const char *who)
{
    PGresult *res = NULL;
    if (ccip_db_exec(db, stmt, nparams, values, NULL, NULL, &res) != CCIP_DB_OK)
        fail_msg("%s: %s: %s", who, stmt->name, ccip_db_error(db));
    for (int c = 0; c < PQnfields(res); c++) {
        if (strcmp(PQgetvalue(res, 0, c), "f") != 0)
            fail_msg("%s: %s is %s: a grant was widened", who, PQfname(res, c),
                     PQgetvalue(res, 0, c));
    }
    PQclear(res);
}

/* Runs a fixed statement that must be refused with 42501. */
static void s_expect_denied(ccip_db *db, const char *sql, const char *who)
{
    ccip_db_rc rc = ccip_db_command(db, sql);
    if (rc == CCIP_DB_OK)
        fail_msg("%s could run \"%s\": a grant was widened", who, sql);
    if (strcmp(ccip_db_sqlstate(db), "42501") != 0)
        fail_msg("%s: \"%s\" failed with %s (%s), not permission denied (42501)", who, sql,
                 ccip_db_sqlstate(db), ccip_db_error(db));
}

/* Connected as A: A's own schema is A's search_path and works for DDL and
 * data; nothing beyond it is granted. */
static void test_each_role_owns_its_schema(void **state)
{
    (void)state;
    for (int i = 0; i < NSVC; i++) {
        const char *svc = s_services[i];
        char role[64];
        snprintf(role, sizeof role, "ccip_%s", svc);
        PGresult *res = NULL;
        assert_int_equal(ccip_db_exec(s_db[i], &S_WHO, 0, NULL, NULL, NULL, &res), CCIP_DB_OK);
        assert_string_equal(PQgetvalue(res, 0, 0), role);
        assert_string_equal(PQgetvalue(res, 0, 1), svc);
        PQclear(res);

        if (ccip_db_command(s_db[i],
                            "DROP TABLE IF EXISTS isolation_scratch;"
                            " CREATE TABLE isolation_scratch (v int NOT NULL)") != CCIP_DB_OK)
            fail_msg("%s could not create a table in its own schema: %s", role,
                     ccip_db_error(s_db[i]));
        const char *values[] = {"20", "22"};
        assert_int_equal(ccip_db_exec(s_db[i], &S_INSERT_SCRATCH, 1, &values[0], NULL, NULL, NULL),
                         CCIP_DB_OK);
        assert_int_equal(ccip_db_exec(s_db[i], &S_INSERT_SCRATCH, 1, &values[1], NULL, NULL, NULL),
                         CCIP_DB_OK);
        assert_int_equal(ccip_db_exec(s_db[i], &S_READ_SCRATCH, 0, NULL, NULL, NULL, &res),
                         CCIP_DB_OK);
        assert_string_equal(PQgetvalue(res, 0, 0), "42");
        PQclear(res);
        assert_int_equal(ccip_db_command(s_db[i], "DROP TABLE isolation_scratch"), CCIP_DB_OK);

        s_expect_all_false(s_db[i], &S_OWN_EXCESS, 0, NULL, role);
        s_expect_denied(s_db[i], "CREATE TABLE public.isolation_intruder (v int)", role);
    }
}

/* For every ordered pair (A, B), A != B: A cannot use B's schema at all. */
static void test_no_role_reaches_another_schema(void **state)
{
    (void)state;
    for (int a = 0; a < NSVC; a++) {
        for (int b = 0; b < NSVC; b++) {
            if (a == b)
                continue;
            char who[128], sql[256], other_role[64];
            snprintf(who, sizeof who, "ccip_%s in schema %s", s_services[a], s_services[b]);
            snprintf(other_role, sizeof other_role, "ccip_%s", s_services[b]);

            /* fixed service names from the list above, not data */
            snprintf(sql, sizeof sql, "SELECT v FROM %s.isolation_probe", s_services[b]);
            s_expect_denied(s_db[a], sql, who);
            snprintf(sql, sizeof sql, "CREATE TABLE %s.isolation_intruder (v int)", s_services[b]);
            s_expect_denied(s_db[a], sql, who);

            const char *values[] = {s_services[b], other_role};
            s_expect_all_false(s_db[a], &S_OTHER_EXCESS, 2, values, who);
        }
    }
}

int main(void)
{
    ccip_log_init("test", "test_ccip_schema_isolation", CCIP_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_role_owns_its_schema),
        cmocka_unit_test(test_no_role_reaches_another_schema),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
