#include "evaluation_score.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ccip_validate.h"

#define SCALE 1000000 /* per-criterion fraction of the weight, in millionths */

int evaluation_scores_check(const evaluation_criterion *crit, size_t ncrit,
                            const evaluation_score_in *scores, size_t nscores, int *ordered,
                            char *err, size_t errlen)
{
    unsigned char seen[EVALUATION_CRITERIA_MAX] = {0};
    if (ncrit == 0 || ncrit > EVALUATION_CRITERIA_MAX) {
        snprintf(err, errlen, "the score sheet has %zu criteria; it needs 1 to %d", ncrit,
                 EVALUATION_CRITERIA_MAX);
        return -1;
    }
    for (size_t i = 0; i < nscores; i++) {
        const evaluation_score_in *s = &scores[i];
        size_t c = 0;
        while (c < ncrit && strcmp(crit[c].code, s->criterion ? s->criterion : "") != 0)
            c++;
        if (c == ncrit) {
            char list[512] = "";
            size_t used = 0;
            for (size_t k = 0; k < ncrit && used < sizeof list; k++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "",
                                         crit[k].code);
            snprintf(err, errlen,
                     "scores[%zu].criterion `%.40s` is not a criterion of this score sheet; "
                     "its criteria are: %s",
                     i, s->criterion ? s->criterion : "", list);
            return -1;
        }
        if (seen[c]) {
            snprintf(err, errlen,
                     "scores[%zu] scores criterion `%s` a second time; give each criterion "
                     "exactly one score",
                     i, crit[c].code);
            return -1;
        }
        seen[c] = 1;
        if (s->score < 0 || s->score > crit[c].max_score) {
            snprintf(err, errlen,
                     "scores[%zu].score for criterion `%s` must be between 0 and %d, got %d", i,
                     crit[c].code, crit[c].max_score, s->score);
            return -1;
        }
        char field[64], why[256];
        snprintf(field, sizeof field, "scores[%zu].comment", i);
        if (ccip_text_check(field, s->comment, 1, EVALUATION_COMMENT_MAX, CCIP_TEXT_MULTILINE, why,
                            sizeof why) < 0) {
            snprintf(err, errlen, "%s (every criterion is scored with a comment, criterion `%s`)",
                     why, crit[c].code);
            return -1;
        }
        ordered[c] = s->score;
    }
    for (size_t c = 0; c < ncrit; c++) {
        if (!seen[c]) {
            snprintf(err, errlen,
                     "criterion `%s` has no score; every criterion of the sheet must be scored "
                     "(%zu given, %zu needed)",
                     crit[c].code, nscores, ncrit);
            return -1;
        }
    }
    return 0;
}

int evaluation_review_score(const evaluation_criterion *crit, size_t ncrit, const int *scores)
{
    int64_t sum = 0, weights = 0;
    for (size_t c = 0; c < ncrit; c++) {
        if (crit[c].max_score <= 0)
            return -1;
        sum += (int64_t)crit[c].weight * scores[c] * SCALE / crit[c].max_score;
        weights += crit[c].weight;
    }
    if (weights <= 0)
        return -1;
    return (int)(sum / (100 * weights));
}

int evaluation_aggregate(const int *review_scores, size_t n, evaluation_aggregate_out *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return -1;
    int64_t sum = 0;
    int lo = review_scores[0], hi = review_scores[0];
    for (size_t i = 0; i < n; i++) {
        sum += review_scores[i];
        if (review_scores[i] < lo)
            lo = review_scores[i];
        if (review_scores[i] > hi)
            hi = review_scores[i];
    }
    int64_t count = (int64_t)n;
    if (n >= EVALUATION_TRIM_MIN) {
        /* One highest and one lowest go, even when several share the value. */
        sum -= (int64_t)lo + hi;
        count -= 2;
        out->dropped = 2;
    }
    out->reviews = (int)n;
    out->score_centi = (int)(sum / count);
    out->spread_centi = hi - lo;
    return 0;
}

Ccip__Evaluation__Recommendation evaluation_recommend(int score_centi, int pass_threshold_centi,
                                                      Ccip__Evaluation__Verdict verdict)
{
    switch (verdict) {
    case CCIP__EVALUATION__VERDICT__VERDICT_DOES_NOT_MEET:
        return CCIP__EVALUATION__RECOMMENDATION__RECOMMEND_DECLINE;
    case CCIP__EVALUATION__VERDICT__VERDICT_MEETS:
    case CCIP__EVALUATION__VERDICT__VERDICT_MEETS_WITH_CONDITIONS:
        if (score_centi < pass_threshold_centi)
            return CCIP__EVALUATION__RECOMMENDATION__RECOMMEND_DECLINE;
        return verdict == CCIP__EVALUATION__VERDICT__VERDICT_MEETS
                   ? CCIP__EVALUATION__RECOMMENDATION__RECOMMEND_APPROVE
                   : CCIP__EVALUATION__RECOMMENDATION__RECOMMEND_APPROVE_WITH_CONDITIONS;
    default:
        return CCIP__EVALUATION__RECOMMENDATION__RECOMMENDATION_UNSPECIFIED;
    }
}
