/*
 * evaluation_score: the checks of a review's scores and the integer
 * arithmetic of review scores, the aggregate and the recommendation, with
 * values worked out by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "evaluation_score.h"

static const evaluation_criterion s_sheet[] = {
    {"innovation", 3, 10},
    {"impact", 1, 20},
};

static void test_review_score_by_hand(void **state)
{
    (void)state;
    /* (3 * 7/10 + 1 * 15/20) / 4 = 0.7125 -> 71.25 points */
    int scores[] = {7, 15};
    assert_int_equal(evaluation_review_score(s_sheet, 2, scores), 7125);
    int full[] = {10, 20};
    assert_int_equal(evaluation_review_score(s_sheet, 2, full), 10000);
    int none[] = {0, 0};
    assert_int_equal(evaluation_review_score(s_sheet, 2, none), 0);
    /* 1/3 of a point scale: truncated, never rounded up: 33.33 */
    const evaluation_criterion thirds[] = {{"only", 1, 3}};
    int one[] = {1};
    assert_int_equal(evaluation_review_score(thirds, 1, one), 3333);
    int two[] = {2};
    assert_int_equal(evaluation_review_score(thirds, 1, two), 6666);
}

static void test_aggregate_trims_from_five(void **state)
{
    (void)state;
    evaluation_aggregate_out a;
    int four[] = {8000, 6000, 7000, 9000};
    assert_int_equal(evaluation_aggregate(four, 4, &a), 0);
    assert_int_equal(a.reviews, 4);
    assert_int_equal(a.dropped, 0);
    assert_int_equal(a.score_centi, 7500);
    assert_int_equal(a.spread_centi, 3000);

    int five[] = {8000, 6000, 7000, 9000, 5000};
    assert_int_equal(evaluation_aggregate(five, 5, &a), 0);
    assert_int_equal(a.dropped, 2);
    assert_int_equal(a.score_centi, 7000); /* (8000 + 6000 + 7000) / 3 */
    assert_int_equal(a.spread_centi, 4000);

    /* Ties: one of the highest and one of the lowest go, not all of them. */
    int ties[] = {9000, 9000, 5000, 5000, 7000};
    assert_int_equal(evaluation_aggregate(ties, 5, &a), 0);
    assert_int_equal(a.score_centi, 7000); /* (9000 + 5000 + 7000) / 3 */

    /* The mean is floored. */
    int odd[] = {1, 2};
    assert_int_equal(evaluation_aggregate(odd, 2, &a), 0);
    assert_int_equal(a.score_centi, 1);
    int six[] = {7001, 7002, 7002, 7003, 100, 10000};
    assert_int_equal(evaluation_aggregate(six, 6, &a), 0);
    assert_int_equal(a.score_centi, 7002); /* 28008 / 4 */
    assert_int_equal(a.spread_centi, 9900);

    assert_int_equal(evaluation_aggregate(NULL, 0, &a), -1);
}

static void test_recommendation(void **state)
{
    (void)state;
    assert_int_equal(evaluation_recommend(7000, 7000, CCIP__EVALUATION__VERDICT__VERDICT_MEETS),
                     CCIP__EVALUATION__RECOMMENDATION__RECOMMEND_APPROVE);
    assert_int_equal(evaluation_recommend(6999, 7000, CCIP__EVALUATION__VERDICT__VERDICT_MEETS),
                     CCIP__EVALUATION__RECOMMENDATION__RECOMMEND_DECLINE);
    assert_int_equal(
        evaluation_recommend(9000, 7000, CCIP__EVALUATION__VERDICT__VERDICT_MEETS_WITH_CONDITIONS),
        CCIP__EVALUATION__RECOMMENDATION__RECOMMEND_APPROVE_WITH_CONDITIONS);
    assert_int_equal(
        evaluation_recommend(9000, 7000, CCIP__EVALUATION__VERDICT__VERDICT_DOES_NOT_MEET),
        CCIP__EVALUATION__RECOMMENDATION__RECOMMEND_DECLINE);
    assert_int_equal(
        evaluation_recommend(9000, 7000, CCIP__EVALUATION__VERDICT__VERDICT_UNSPECIFIED),
        CCIP__EVALUATION__RECOMMENDATION__RECOMMENDATION_UNSPECIFIED);
}

/* Runs the check; returns its result with the message in err. */
static int s_check(const evaluation_score_in *in, size_t n, int *ordered, char *err, size_t len)
{
    err[0] = '\0';
    return evaluation_scores_check(s_sheet, 2, in, n, ordered, err, len);
}

static void test_scores_checked_against_the_sheet(void **state)
{
    (void)state;
    char err[512];
    int ordered[2];
    /* Any order is fine; the result is in the sheet's order. */
    evaluation_score_in good[] = {{"impact", 15, "strong regional effect"},
                                  {"innovation", 7, "new model"}};
    assert_int_equal(s_check(good, 2, ordered, err, sizeof err), 0);
    assert_int_equal(ordered[0], 7);
    assert_int_equal(ordered[1], 15);

    evaluation_score_in missing[] = {{"innovation", 7, "new model"}};
    assert_int_equal(s_check(missing, 1, ordered, err, sizeof err), -1);
    assert_non_null(strstr(err, "criterion `impact` has no score"));

    evaluation_score_in unknown[] = {{"innovation", 7, "x"}, {"beauty", 3, "y"}};
    assert_int_equal(s_check(unknown, 2, ordered, err, sizeof err), -1);
    assert_non_null(strstr(err, "scores[1].criterion `beauty` is not a criterion"));
    assert_non_null(strstr(err, "innovation, impact"));

    evaluation_score_in twice[] = {{"innovation", 7, "x"}, {"innovation", 8, "y"}};
    assert_int_equal(s_check(twice, 2, ordered, err, sizeof err), -1);
    assert_non_null(strstr(err, "a second time"));

    evaluation_score_in high[] = {{"innovation", 11, "x"}, {"impact", 1, "y"}};
    assert_int_equal(s_check(high, 2, ordered, err, sizeof err), -1);
    assert_string_equal(err, "scores[0].score for criterion `innovation` must be between 0 and "
                             "10, got 11");
    evaluation_score_in negative[] = {{"innovation", 1, "x"}, {"impact", -1, "y"}};
    assert_int_equal(s_check(negative, 2, ordered, err, sizeof err), -1);
    assert_non_null(strstr(err, "between 0 and 20, got -1"));

    evaluation_score_in no_comment[] = {{"innovation", 1, ""}, {"impact", 1, "y"}};
    assert_int_equal(s_check(no_comment, 2, ordered, err, sizeof err), -1);
    assert_non_null(strstr(err, "scores[0].comment"));
    assert_non_null(strstr(err, "with a comment"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_review_score_by_hand),
        cmocka_unit_test(test_aggregate_trims_from_five),
        cmocka_unit_test(test_recommendation),
        cmocka_unit_test(test_scores_checked_against_the_sheet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
