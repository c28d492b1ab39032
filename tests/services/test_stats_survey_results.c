/* stats_survey_results: exact quartiles and means in hundredths, options
 * counted from the stored choices (indexes, bit masks, yes/no). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "stats_survey_results.h"

static void s_quartiles(const int64_t *v, size_t n, int64_t q1, int64_t med, int64_t q3)
{
    int64_t q[3];
    stats_quartiles_x100(v, n, q);
    assert_true(q[0] == q1);
    assert_true(q[1] == med);
    assert_true(q[2] == q3);
}

/* Type 7 (percentile_cont): h = (n - 1) p between the two nearest ranks. */
static void test_quartiles(void **state)
{
    (void)state;
    static const int64_t four[] = {1, 2, 3, 4};
    s_quartiles(four, 4, 175, 250, 325);
    static const int64_t five[] = {1, 2, 3, 4, 5};
    s_quartiles(five, 5, 200, 300, 400);
    static const int64_t one[] = {7};
    s_quartiles(one, 1, 700, 700, 700);
    s_quartiles(NULL, 0, 0, 0, 0);
    static const int64_t two[] = {10, 20};
    s_quartiles(two, 2, 1250, 1500, 1750);
    static const int64_t neg[] = {-5, -1, 0, 3};
    s_quartiles(neg, 4, -200, -50, 75);
    /* 6 values: h = 1.25, 2.5, 3.75 */
    static const int64_t six[] = {0, 10, 20, 30, 40, 50};
    s_quartiles(six, 6, 1250, 2500, 3750);
    /* Repeated values; huge values clamp rather than wrap. */
    static const int64_t same[] = {3, 3, 3, 3, 3, 3, 3};
    s_quartiles(same, 7, 300, 300, 300);
    static const int64_t huge[] = {INT64_MAX - 1, INT64_MAX};
    s_quartiles(huge, 2, INT64_MAX, INT64_MAX, INT64_MAX);
    static const int64_t tiny[] = {INT64_MIN, INT64_MIN + 1};
    s_quartiles(tiny, 2, INT64_MIN, INT64_MIN, INT64_MIN);
}

/* The same as PostgreSQL's percentile_cont over the same values (checked
 * by hand: percentile_cont(0.25) of 1, 7, 8, 100 is 5.5). */
static void test_quartiles_like_percentile_cont(void **state)
{
    (void)state;
    static const int64_t v[] = {1, 7, 8, 100};
    s_quartiles(v, 4, 550, 750, 3100);
}

static void test_mean(void **state)
{
    (void)state;
    assert_true(stats_mean_x100(7, 2) == 350);
    assert_true(stats_mean_x100(10, 3) == 333);
    assert_true(stats_mean_x100(20, 3) == 667); /* 6.666.. rounds up */
    assert_true(stats_mean_x100(1, 8) == 13);   /* 12.5 rounds away from zero */
    assert_true(stats_mean_x100(-1, 8) == -13);
    assert_true(stats_mean_x100(-1, 2) == -50);
    assert_true(stats_mean_x100(5, 0) == 0);
    __int128 big = (__int128)INT64_MAX * 3;
    assert_true(stats_mean_x100(big, 1) == INT64_MAX); /* clamped */
}

static void test_options(void **state)
{
    (void)state;
    uint32_t c[4];
    memset(c, 0, sizeof c);
    stats_option_add(CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE, 3, 5, 3, c); /* 0 and 2 */
    stats_option_add(CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE, 3, 2, 1, c); /* 1 */
    stats_option_add(CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE, 3, 8, 9, c); /* none of 3 */
    assert_int_equal(c[0], 3);
    assert_int_equal(c[1], 1);
    assert_int_equal(c[2], 3);
    assert_int_equal(c[3], 0);
    memset(c, 0, sizeof c);
    stats_option_add(CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE, 3, 2, 4, c);
    stats_option_add(CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE, 3, 3, 4, c); /* out of range */
    stats_option_add(CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE, 3, -1, 4, c);
    assert_int_equal(c[2], 4);
    assert_int_equal(c[0] + c[1] + c[3], 0);
    memset(c, 0, sizeof c);
    stats_option_add(CCIP__STATS__QUESTION_KIND__YES_NO, 2, 1, 5, c);
    stats_option_add(CCIP__STATS__QUESTION_KIND__YES_NO, 2, 0, 2, c);
    assert_int_equal(c[0], 5); /* yes */
    assert_int_equal(c[1], 2); /* no */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quartiles),
        cmocka_unit_test(test_quartiles_like_percentile_cont),
        cmocka_unit_test(test_mean),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
