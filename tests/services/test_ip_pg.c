/*
 * ip_pg: PostgreSQL's text forms of arrays and bytea, both ways, including
 * the quoting that titles and names with commas, quotes and braces need.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ip_pg.h"

static void test_text_arrays_round_trip(void **state)
{
    (void)state;
    ccip_arena *a = ccip_arena_new();
    char *items[] = {"plain", "a, b", "say \"hi\"", "back\\slash", "{braces}", "", "NULL", "张三"};
    size_t n = sizeof items / sizeof items[0];
    char *lit = ip_pg_text_literal(a, items, n);
    assert_non_null(lit);
    char **back = NULL;
    size_t m = 0;
    assert_int_equal(ip_pg_text_array(a, lit, &back, &m), 0);
    assert_int_equal(m, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(back[i], items[i]);
    ccip_arena_destroy(&a);
}

static void test_text_arrays_as_postgres_prints_them(void **state)
{
    (void)state;
    ccip_arena *a = ccip_arena_new();
    char **v = NULL;
    size_t n = 9;
    assert_int_equal(ip_pg_text_array(a, "{}", &v, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(ip_pg_text_array(a, "{CN,CN-BJ,\"a b\",NULL}", &v, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(v[1], "CN-BJ");
    assert_string_equal(v[2], "a b");
    assert_string_equal(v[3], "");
    assert_int_equal(ip_pg_text_array(a, "CN,US", &v, &n), -1);
    assert_int_equal(ip_pg_text_array(a, "{\"open", &v, &n), -1);
    assert_int_equal(ip_pg_text_array(a, NULL, &v, &n), -1);
    uint32_t *u = NULL;
    assert_int_equal(ip_pg_uint_array(a, "{6000,4000}", &u, &n), 0);
    assert_int_equal(u[0] + u[1], 10000);
    assert_int_equal(ip_pg_uint_array(a, "{1,x}", &u, &n), -1);
    assert_int_equal(ip_pg_uint_array(a, "{-1}", &u, &n), -1);
    ccip_arena_destroy(&a);
}

static void test_number_literals_and_bytea(void **state)
{
    (void)state;
    ccip_arena *a = ccip_arena_new();
    uint32_t u[] = {0, 7, 4294967295u};
    assert_string_equal(ip_pg_uint_literal(a, u, 3), "{0,7,4294967295}");
    assert_string_equal(ip_pg_uint_literal(a, u, 0), "{}");
    int64_t k[] = {-9223372036854775807LL - 1, 5};
    assert_string_equal(ip_pg_int64_literal(a, k, 2), "{-9223372036854775808,5}");
    uint8_t b[2];
    assert_int_equal(ip_pg_bytea("\\x0aff", b, 2), 0);
    assert_int_equal(b[0], 0x0a);
    assert_int_equal(ip_pg_bytea("\\x0aff", b, 3), -1);
    assert_int_equal(ip_pg_bytea("0aff", b, 2), -1);
    uint8_t *d = NULL;
    size_t n = 0;
    assert_int_equal(ip_pg_bytea_dup(a, "\\x010203", &d, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(d[2], 3);
    assert_int_equal(ip_pg_bytea_dup(a, "\\x012", &d, &n), -1);
    ccip_arena_destroy(&a);
    ccip_arena_destroy(&a); /* safe twice */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_arrays_round_trip),
        cmocka_unit_test(test_text_arrays_as_postgres_prints_them),
        cmocka_unit_test(test_number_literals_and_bytea),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
