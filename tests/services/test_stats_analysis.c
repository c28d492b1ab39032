/* stats_analysis: growth in basis points, means and rankings, in integer
 * arithmetic; completeness rates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>

#include "stats_analysis.h"
#include "stats_completeness.h"

static void test_growth(void **state)
{
    (void)state;
    int64_t bp = 7;
    assert_int_equal(stats_growth_bp(100, 112, &bp), 0);
    assert_int_equal(bp, 1200);
    assert_int_equal(stats_growth_bp(100, 100, &bp), 0);
    assert_int_equal(bp, 0);
    assert_int_equal(stats_growth_bp(200, 100, &bp), 0);
    assert_int_equal(bp, -5000);
    assert_int_equal(stats_growth_bp(100, 0, &bp), 0);
    assert_int_equal(bp, -10000);
    assert_int_equal(stats_growth_bp(3, 4, &bp), 0);
    assert_int_equal(bp, 3333); /* 33.333 % */
    assert_int_equal(stats_growth_bp(3, 5, &bp), 0);
    assert_int_equal(bp, 6667); /* 66.667 %, rounded up */
    assert_int_equal(stats_growth_bp(3, 1, &bp), 0);
    assert_int_equal(bp, -6667); /* half away from zero */
    assert_int_equal(stats_growth_bp(20000, 20001, &bp), 0);
    assert_int_equal(bp, 1); /* 0.5 bp rounds away from zero */
    assert_int_equal(stats_growth_bp(20000, 19999, &bp), 0);
    assert_int_equal(bp, -1);
}

/* No growth from nothing or from a loss; no overflow at the extremes. */
static void test_growth_undefined_and_extremes(void **state)
{
    (void)state;
    int64_t bp = 42;
    assert_int_equal(stats_growth_bp(0, 100, &bp), -1);
    assert_int_equal(stats_growth_bp(-50, 100, &bp), -1);
    assert_int_equal(bp, 42);
    assert_int_equal(stats_growth_bp(1, INT64_MAX, &bp), 0);
    assert_true(bp == INT64_MAX); /* clamped */
    assert_int_equal(stats_growth_bp(INT64_MAX, 0, &bp), 0);
    assert_int_equal(bp, -10000);
    assert_int_equal(stats_growth_bp(1, INT64_MIN, &bp), 0);
    assert_true(bp == INT64_MIN);
}

static void test_mean(void **state)
{
    (void)state;
    assert_int_equal(stats_mean(10, 0), 0);
    assert_int_equal(stats_mean(10, 4), 3); /* 2.5 -> 3 */
    assert_int_equal(stats_mean(-10, 4), -3);
    assert_int_equal(stats_mean(9, 4), 2);
    assert_int_equal(stats_mean(INT64_MAX, 1), INT64_MAX);
}

static void test_rank(void **state)
{
    (void)state;
    int64_t v[] = {50, 80, 50, 999, 10};
    int ok[] = {1, 1, 1, 0, 1};
    uint32_t r[5];
    stats_rank(v, ok, 5, r);
    assert_int_equal(r[0], 2);
    assert_int_equal(r[1], 1);
    assert_int_equal(r[2], 2); /* ties share a rank */
    assert_int_equal(r[3], 0); /* not ranked, takes no place */
    assert_int_equal(r[4], 4); /* "1, 2, 2, 4" */
}

static void test_rates(void **state)
{
    (void)state;
    assert_int_equal(stats_rate_bp(0, 0), 0);
    assert_int_equal(stats_rate_bp(3, 3), 10000);
    assert_int_equal(stats_rate_bp(2, 3), 6667);
    assert_int_equal(stats_rate_bp(1, 3), 3333);
    assert_int_equal(stats_rate_bp(0, 7), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_growth), cmocka_unit_test(test_growth_undefined_and_extremes),
        cmocka_unit_test(test_mean),   cmocka_unit_test(test_rank),
        cmocka_unit_test(test_rates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
