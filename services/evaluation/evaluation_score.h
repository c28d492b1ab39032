/*
 * evaluation_score: the arithmetic of reviews. Pure and integer-only, so
 * that an aggregate can always be recomputed from the stored scores to the
 * last digit (tests/services/test_evaluation_score.c; the integration test
 * recomputes stored aggregates).
 *
 * Scores are on a 0..100 scale in hundredths of a point ("centipoints",
 * 0..10000):
 *
 *   review score  R = floor( sum_c floor(w_c * s_c * 1000000 / max_c)
 *                            / (100 * sum_c w_c) )
 *                 (s_c the criterion's score 0..max_c, w_c its weight)
 *   aggregate     the mean of the review scores, floor'd, after dropping
 *                 one highest and one lowest when there are
 *                 EVALUATION_TRIM_MIN (5) or more
 *   spread        highest minus lowest review score, of all of them
 *
 * The recommendation combines the aggregate with the sheet's pass
 * threshold and the agency's verdict:
 *
 *   verdict DOES_NOT_MEET, or aggregate < threshold   RECOMMEND_DECLINE
 *   otherwise, verdict MEETS_WITH_CONDITIONS          RECOMMEND_APPROVE_WITH_CONDITIONS
 *   otherwise (verdict MEETS)                         RECOMMEND_APPROVE
 *   no verdict yet                                    UNSPECIFIED
 */
#ifndef EVALUATION_SCORE_H
#define EVALUATION_SCORE_H

#include <stddef.h>

#include "ccip/evaluation.pb-c.h"

#define EVALUATION_TRIM_MIN     5     /* reviews from which the extremes are dropped */
#define EVALUATION_SCORE_MAX    10000 /* 100.00 points */
#define EVALUATION_CRITERIA_MAX 30    /* criteria one sheet may have */
#define EVALUATION_WEIGHT_MAX   100
#define EVALUATION_MAX_SCORE    1000 /* highest max_score of a criterion */
#define EVALUATION_COMMENT_MAX  2000 /* characters of a criterion's comment */

/* One criterion of a score sheet. */
typedef struct {
    const char *code; /* e.g. "innovation" */
    int weight;       /* 1..EVALUATION_WEIGHT_MAX */
    int max_score;    /* 1..EVALUATION_MAX_SCORE */
} evaluation_criterion;

/* One score as an expert sent it. */
typedef struct {
    const char *criterion; /* the criterion's code */
    int score;
    const char *comment;
} evaluation_score_in;

/* Checks that scores[0..nscores) name every criterion of the sheet exactly
 * once and nothing else, with a score in 0..max_score and a comment of 1 to
 * EVALUATION_COMMENT_MAX characters. On success writes each criterion's
 * score, in the sheet's order, into ordered (room for ncrit) and returns 0;
 * otherwise returns -1 with a sentence naming the field and the fix, e.g.
 * "scores[2].score for criterion `innovation` must be between 0 and 20, got 25". */
int evaluation_scores_check(const evaluation_criterion *crit, size_t ncrit,
                            const evaluation_score_in *scores, size_t nscores, int *ordered,
                            char *err, size_t errlen);

/* The review score R of scores (in the sheet's order, already checked).
 * Returns 0..EVALUATION_SCORE_MAX, or -1 for a sheet without weight. */
int evaluation_review_score(const evaluation_criterion *crit, size_t ncrit, const int *scores);

typedef struct {
    int reviews;      /* review scores given */
    int dropped;      /* 2 when the extremes were dropped, else 0 */
    int score_centi;  /* the trimmed mean */
    int spread_centi; /* highest minus lowest */
} evaluation_aggregate_out;

/* The aggregate of n review scores (any order). Returns 0, or -1 when n is
 * 0 (nothing to aggregate). */
int evaluation_aggregate(const int *review_scores, size_t n, evaluation_aggregate_out *out);

/* The recommendation as described above. */
Ccip__Evaluation__Recommendation evaluation_recommend(int score_centi, int pass_threshold_centi,
                                                      Ccip__Evaluation__Verdict verdict);

#endif
