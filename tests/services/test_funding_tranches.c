/*
 * funding_tranches: the split of an award into tranches in whole fen (the
 * last tranche takes the remainder, so the tranches always add up to the
 * award exactly) and the checks of a programme's tranche plan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "funding_tranches.h"

static int64_t s_sum(const int64_t *v, size_t n)
{
    int64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

static void test_split_exact(void **state)
{
    (void)state;
    const int32_t p[] = {50, 30, 20};
    int64_t out[3];
    assert_int_equal(funding_tranche_split(100000000, p, 3, out), 0);
    assert_int_equal(out[0], 50000000);
    assert_int_equal(out[1], 30000000);
    assert_int_equal(out[2], 20000000);
}

static void test_split_remainder_goes_last(void **state)
{
    (void)state;
    const int32_t p[] = {50, 30, 20};
    int64_t out[3];
    /* 3,000,001 fen: 1,500,000.5 and 900,000.3 are floored; the last gets
     * 600,000.2 plus the 0.8 fen the others left: 600,001. */
    assert_int_equal(funding_tranche_split(3000001, p, 3, out), 0);
    assert_int_equal(out[0], 1500000);
    assert_int_equal(out[1], 900000);
    assert_int_equal(out[2], 600001);
    /* Thirds of 100 fen: 33, 33, 34. */
    const int32_t thirds[] = {33, 33, 34};
    assert_int_equal(funding_tranche_split(100, thirds, 3, out), 0);
    assert_int_equal(out[0], 33);
    assert_int_equal(out[1], 33);
    assert_int_equal(out[2], 34);
    assert_int_equal(funding_tranche_split(101, thirds, 3, out), 0);
    assert_int_equal(out[0], 33);
    assert_int_equal(out[1], 33);
    assert_int_equal(out[2], 35);
}

/* Every amount from 10 to 5000 fen and a few plans: whole fen, all at
 * least 1, adding up to the amount, each within 1 fen per tranche of its
 * exact share (the last one takes all the remainders). */
static void test_split_always_adds_up(void **state)
{
    (void)state;
    const int32_t plans[][4] = {
        {50, 30, 20, 0}, {33, 33, 34, 0}, {10, 20, 30, 40}, {100, 0, 0, 0}, {1, 99, 0, 0}};
    const size_t sizes[] = {3, 3, 4, 1, 2};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        for (int64_t amount = 100; amount <= 5000; amount++) {
            int64_t out[4];
            assert_int_equal(funding_tranche_split(amount, plans[k], sizes[k], out), 0);
            assert_int_equal(s_sum(out, sizes[k]), amount);
            for (size_t i = 0; i + 1 < sizes[k]; i++) {
                assert_true(out[i] * 100 <= amount * plans[k][i]);
                assert_true((out[i] + 1) * 100 > amount * plans[k][i]);
            }
            int64_t exact_last = amount * plans[k][sizes[k] - 1];
            assert_true(out[sizes[k] - 1] * 100 >= exact_last);
            assert_true(out[sizes[k] - 1] * 100 < exact_last + 100 * (int64_t)sizes[k]);
        }
}

static void test_split_large_amounts(void **state)
{
    (void)state;
    const int32_t p[] = {50, 30, 20};
    int64_t out[3];
    /* The largest amount accepted: no overflow in amount * percent. */
    assert_int_equal(funding_tranche_split(FUNDING_AMOUNT_MAX, p, 3, out), 0);
    assert_int_equal(s_sum(out, 3), FUNDING_AMOUNT_MAX);
    assert_int_equal(out[0], FUNDING_AMOUNT_MAX / 2);
    assert_int_equal(funding_tranche_split(FUNDING_AMOUNT_MAX + 1, p, 3, out), -1);
}

static void test_split_refuses(void **state)
{
    (void)state;
    const int32_t p[] = {50, 30, 20};
    const int32_t bad_sum[] = {50, 30, 30};
    const int32_t zero[] = {100, 0};
    int64_t out[FUNDING_TRANCHES_MAX + 1];
    assert_int_equal(funding_tranche_split(0, p, 3, out), -1);
    assert_int_equal(funding_tranche_split(-100, p, 3, out), -1);
    assert_int_equal(funding_tranche_split(1000, bad_sum, 3, out), -1);
    assert_int_equal(funding_tranche_split(1000, zero, 2, out), -1);
    assert_int_equal(funding_tranche_split(1000, p, 0, out), -1);
    assert_int_equal(funding_tranche_split(1000, NULL, 3, out), -1);
    /* 3 fen cannot be split 50/30/20 without a tranche of 0 fen. */
    assert_int_equal(funding_tranche_split(3, p, 3, out), -1);
    int32_t many[FUNDING_TRANCHES_MAX + 1];
    for (int i = 0; i <= FUNDING_TRANCHES_MAX; i++)
        many[i] = 1;
    assert_int_equal(funding_tranche_split(1000, many, FUNDING_TRANCHES_MAX + 1, out), -1);
}

static void test_plan_check(void **state)
{
    (void)state;
    Ccip__Funding__TrancheRule r[3];
    Ccip__Funding__TrancheRule *ptr[3] = {&r[0], &r[1], &r[2]};
    const int32_t pct[] = {50, 30, 20};
    const Ccip__Funding__Condition cond[] = {CCIP__FUNDING__CONDITION__AGREEMENT_SIGNED,
                                             CCIP__FUNDING__CONDITION__MIDTERM_INSPECTION_PASSED,
                                             CCIP__FUNDING__CONDITION__FINAL_REPORT_ACCEPTED};
    for (int i = 0; i < 3; i++) {
        r[i] = (Ccip__Funding__TrancheRule)CCIP__FUNDING__TRANCHE_RULE__INIT;
        r[i].percent = pct[i];
        r[i].condition = cond[i];
        r[i].label = "";
    }
    char err[300];
    assert_int_equal(funding_tranche_plan_check(ptr, 3, err, sizeof err), 0);

    r[2].percent = 10;
    assert_int_equal(funding_tranche_plan_check(ptr, 3, err, sizeof err), -1);
    assert_non_null(strstr(err, "add up to 90, not 100"));
    r[2].percent = 0;
    assert_int_equal(funding_tranche_plan_check(ptr, 3, err, sizeof err), -1);
    assert_non_null(strstr(err, "`tranche_plan[2].percent` must be between 1 and 100, got 0"));
    r[2].percent = 20;
    r[1].condition = CCIP__FUNDING__CONDITION__CONDITION_UNSPECIFIED;
    assert_int_equal(funding_tranche_plan_check(ptr, 3, err, sizeof err), -1);
    assert_non_null(strstr(err, "`tranche_plan[1].condition`"));
    r[1].condition = (Ccip__Funding__Condition)77;
    assert_int_equal(funding_tranche_plan_check(ptr, 3, err, sizeof err), -1);
    r[1].condition = CCIP__FUNDING__CONDITION__MIDTERM_INSPECTION_PASSED;
    r[0].label = "\xc3\x28";
    assert_int_equal(funding_tranche_plan_check(ptr, 3, err, sizeof err), -1);
    assert_non_null(strstr(err, "`tranche_plan[0].label` is not valid UTF-8"));
    r[0].label = "on signing";
    assert_int_equal(funding_tranche_plan_check(ptr, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "1 to 10 tranches"));
}

static void test_condition_sentences(void **state)
{
    (void)state;
    assert_non_null(strstr(funding_condition_missing(CCIP__FUNDING__CONDITION__AGREEMENT_SIGNED),
                           "funding.award.sign.v1"));
    assert_non_null(strstr(
        funding_condition_missing(CCIP__FUNDING__CONDITION__MIDTERM_INSPECTION_PASSED), "MIDTERM"));
    assert_non_null(strstr(funding_condition_missing((Ccip__Funding__Condition)99), "unknown"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_exact),
        cmocka_unit_test(test_split_remainder_goes_last),
        cmocka_unit_test(test_split_always_adds_up),
        cmocka_unit_test(test_split_large_amounts),
        cmocka_unit_test(test_split_refuses),
        cmocka_unit_test(test_plan_check),
        cmocka_unit_test(test_condition_sentences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
