/*
 * ccip_pgarray: what goes in as elements comes back from PostgreSQL's array
 * parser unchanged, whatever the text or bytes hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ccip_db.h"
#include "ccip_pgarray.h"
#include "ccip_test_db.h"

static ccip_db *s_connect(void)
{
    ccip_db *db = ccip_test_db_connect("test");
    if (!db)
        fail_msg("%s", ccip_test_db_error());
    return db;
}

/* Texts that the array syntax gives meaning to, and some it does not. */
static void test_texts_round_trip(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "plain", "",           "NULL",        "with \"quotes\"", "back\\slash", "{braces}",
        "a,b",   "  spaced  ", "line\nbreak", "北京市朝阳区",    "\\\"",        "trailing\\",
    };
    size_t n = sizeof texts / sizeof texts[0];
    ccip_pgarray a = CCIP_PGARRAY_INIT;
    for (size_t i = 0; i < n; i++)
        ccip_pgarray_text(&a, texts[i]);
    ccip_pgarray_null(&a);
    assert_int_equal(a.count, n + 1);
    static const ccip_db_stmt S = {"test_pgarray_texts",
                                   "SELECT t IS NULL, coalesce(t, '') FROM unnest($1::text[]) "
                                   "WITH ORDINALITY AS x(t, i) ORDER BY i"};
    ccip_db *db = s_connect();
    const char *v[] = {ccip_pgarray_value(&a)};
    assert_non_null(v[0]);
    PGresult *res = NULL;
    assert_int_equal(ccip_db_exec(db, &S, 1, v, NULL, NULL, &res), CCIP_DB_OK);
    assert_int_equal(PQntuples(res), (int)n + 1);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(PQgetvalue(res, (int)i, 0), "f");
        assert_string_equal(PQgetvalue(res, (int)i, 1), texts[i]);
    }
    assert_string_equal(PQgetvalue(res, (int)n, 0), "t"); /* NULL, not the text "NULL" */
    PQclear(res);
    /* Adding after reading the value goes on where it stopped. */
    ccip_pgarray_text(&a, "after");
    v[0] = ccip_pgarray_value(&a);
    assert_int_equal(ccip_db_exec(db, &S, 1, v, NULL, NULL, &res), CCIP_DB_OK);
    assert_int_equal(PQntuples(res), (int)n + 2);
    assert_string_equal(PQgetvalue(res, (int)n + 1, 1), "after");
    PQclear(res);
    ccip_pgarray_release(&a);
    ccip_pgarray_release(&a); /* twice is safe */
    ccip_db_destroy(&db);
}

/* Every byte value, an empty value, and integers at their limits. */
static void test_bytes_and_numbers_round_trip(void **state)
{
    (void)state;
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    ccip_pgarray bytes = CCIP_PGARRAY_INIT, nums = CCIP_PGARRAY_INIT;
    ccip_pgarray_bytea(&bytes, all, sizeof all);
    ccip_pgarray_bytea(&bytes, NULL, 0);
    ccip_pgarray_int(&nums, INT64_MIN);
    ccip_pgarray_int(&nums, 0);
    ccip_pgarray_int(&nums, INT64_MAX);
    static const ccip_db_stmt S_BYTES = {
        "test_pgarray_bytes",
        "SELECT length(b), b = (SELECT string_agg(set_byte('\\x00'::bytea, 0, g), ''::bytea "
        "ORDER BY g) FROM generate_series(0, 255) g) FROM unnest($1::bytea[]) WITH ORDINALITY "
        "AS x(b, i) ORDER BY i"};
    static const ccip_db_stmt S_NUMS = {"test_pgarray_nums",
                                        "SELECT sum(n::numeric)::text, min(n)::text, max(n)::text "
                                        "FROM unnest($1::bigint[]) n"};
    ccip_db *db = s_connect();
    PGresult *res = NULL;
    const char *b[] = {ccip_pgarray_value(&bytes)};
    assert_int_equal(ccip_db_exec(db, &S_BYTES, 1, b, NULL, NULL, &res), CCIP_DB_OK);
    assert_int_equal(PQntuples(res), 2);
    assert_string_equal(PQgetvalue(res, 0, 0), "256");
    assert_string_equal(PQgetvalue(res, 0, 1), "t");
    assert_string_equal(PQgetvalue(res, 1, 0), "0");
    PQclear(res);
    const char *n[] = {ccip_pgarray_value(&nums)};
    assert_int_equal(ccip_db_exec(db, &S_NUMS, 1, n, NULL, NULL, &res), CCIP_DB_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "-1");
    assert_string_equal(PQgetvalue(res, 0, 1), "-9223372036854775808");
    assert_string_equal(PQgetvalue(res, 0, 2), "9223372036854775807");
    PQclear(res);
    ccip_pgarray_release(&bytes);
    ccip_pgarray_release(&nums);
    ccip_db_destroy(&db);
}

/* No elements: an empty array, which unnests to no rows. */
static void test_empty(void **state)
{
    (void)state;
    ccip_pgarray a = CCIP_PGARRAY_INIT;
    assert_string_equal(ccip_pgarray_value(&a), "{}");
    ccip_pgarray_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_texts_round_trip),
        cmocka_unit_test(test_bytes_and_numbers_round_trip),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
