/*
 * evaluation_reviews: an expert's review of a case (tables review,
 * review_score), and the case's aggregate once every review is in.
 *
 * Before scoring, the assigned expert declares whether it has a conflict
 * with the applicant: "no conflict" lets it score; "conflict" records the
 * declared conflict in the register, ends its review and fills the seat
 * again. A review scores every criterion of the case's score sheet version
 * with a comment (evaluation_score.h); anything else is refused with
 * nothing written. When the panel's last review comes in, the aggregate is
 * computed from the stored review scores, kept on the case, and published
 * as evaluation.review.completed.v1.
 */
#ifndef EVALUATION_REVIEWS_H
#define EVALUATION_REVIEWS_H

#include "evaluation.h"

/* evaluation.review.declare.v1 and evaluation.review.submit.v1. */
int evaluation_review_declare(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_review_submit(ccip_command *cmd, ccip_arena *a, void *request);

#endif
