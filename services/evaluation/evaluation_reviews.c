#include "evaluation_reviews.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "ccip_arena.h"
#include "evaluation_assignments.h"
#include "evaluation_cases.h"
#include "evaluation_score.h"
#include "evaluation_sheets.h"
#include "evaluation_tasks.h"

#define COMMENT_MAX_CHARS 4000 /* the review's overall comment */

static const ccip_db_stmt S_MY_REVIEW = {
    "evaluation_review_mine",
    "SELECT id, status FROM review WHERE case_id = $1::uuid AND expert_id = $2 "
    "AND status IN " EVALUATION_SQL_LIVE};
static const ccip_db_stmt S_ACCEPT = {
    "evaluation_review_accept",
    "UPDATE review SET status = 'TASK_ACCEPTED', declared_no_conflict_at = now(), "
    "no_conflict_statement = $2 WHERE id = $1::uuid AND status = 'TASK_ASSIGNED'"};
static const ccip_db_stmt S_DECLARE_CONFLICT = {
    "evaluation_review_declare_conflict",
    "INSERT INTO expert_conflict (expert_id, org_uscc, note) VALUES ($1, $2, $3) "
    "ON CONFLICT (expert_id, org_uscc) DO UPDATE SET note = $3, declared_at = now()"};
static const ccip_db_stmt S_SUBMIT = {
    "evaluation_review_submit",
    "UPDATE review SET status = 'TASK_DONE', sheet_version = $2::integer, comment = $3, "
    "score_centi = $4::integer, submitted_at = now() WHERE id = $1::uuid "
    "AND status = 'TASK_ACCEPTED'"};
static const ccip_db_stmt S_SCORE = {
    "evaluation_review_score", "INSERT INTO review_score (review_id, criterion, score, comment) "
                               "VALUES ($1::uuid, $2, $3::integer, $4)"};
static const ccip_db_stmt S_RELEASE = {"evaluation_review_release",
                                       "UPDATE expert SET load = load - 1 WHERE id = $1"};
static const ccip_db_stmt S_PANEL = {
    "evaluation_review_panel",
    "SELECT count(*) FILTER (WHERE status = 'TASK_DONE'), count(*) FROM review "
    "WHERE case_id = $1::uuid AND status IN " EVALUATION_SQL_LIVE};
static const ccip_db_stmt S_DONE_SCORES = {
    "evaluation_review_done_scores",
    "SELECT score_centi FROM review WHERE case_id = $1::uuid AND status = 'TASK_DONE'"};
static const ccip_db_stmt S_STORE_AGGREGATE = {
    "evaluation_review_store_aggregate",
    "UPDATE case_file SET score_centi = $2::integer, spread_centi = $3::integer, "
    "dropped = $4::integer, reviews_counted = $5::integer, updated_at = now() "
    "WHERE id = $1::uuid"};

/* Finds the caller's live review on case c: writes its id and status.
 * Returns 0, CCIP_REPLIED (PERMISSION_DENIED: not assigned) or a
 * ccip_db_rc. */
static int s_my_review(ccip_command *cmd, const evaluation_case_row *c, const char *me,
                       char id[CCIP_UUID_STRLEN + 1], char status[32])
{
    PGresult *res = NULL;
    const char *v[] = {c->id, me};
    int rc = ccip_db_exec(cmd->db, &S_MY_REVIEW, 2, v, NULL, NULL, &res);
    if (rc == 0 && PQntuples(res) != 1)
        rc = ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                               "expert %s is not assigned to case %s; only an assigned expert may "
                               "declare on or score its review",
                               me, c->id);
    if (rc == 0) {
        snprintf(id, CCIP_UUID_STRLEN + 1, "%s", PQgetvalue(res, 0, 0));
        snprintf(status, 32, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return rc;
}

/* Replies with review `review_id` of case `case_id`. */
static int s_reply(ccip_command *cmd, const char *case_id, const char *review_id, int complete)
{
    ccip_arena *a = ccip_arena_new();
    Ccip__Evaluation__Case *c = NULL;
    int rc = evaluation_case_load(cmd->db, case_id, 1, a, &c);
    Ccip__Evaluation__ReviewReply reply = CCIP__EVALUATION__REVIEW_REPLY__INIT;
    for (size_t i = 0; c && i < c->n_reviews; i++)
        if (strcmp(c->reviews[i]->id, review_id) == 0)
            reply.review = c->reviews[i];
    reply.panel_complete = complete;
    if (rc == 0)
        rc = !reply.review ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory")
                           : ccip_command_reply(cmd, &reply.base);
    ccip_arena_destroy(&a);
    return rc;
}

/* The caller's id, the case (locked) and its review; checks the case is
 * being evaluated and the review not yet submitted. */
static int s_begin(ccip_command *cmd, const char *case_id, char me[EVALUATION_ID_MAX + 1],
                   evaluation_case_row *c, char review[CCIP_UUID_STRLEN + 1], char status[32])
{
    memset(c, 0, sizeof *c);
    int rc = evaluation_actor_subject(cmd, "expert", me);
    if (rc == 0)
        rc = evaluation_case_fetch(cmd, case_id, 1, c);
    if (rc == 0 && strcmp(c->status, EVALUATION_CASE_IN_EVALUATION) != 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "case %s is %s: its reviews can no longer change", c->id, c->status);
    if (rc == 0)
        rc = s_my_review(cmd, c, me, review, status);
    if (rc == 0 && strcmp(status, EVALUATION_TASK_DONE) == 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "expert %s has already submitted its review of case %s", me, c->id);
    return rc;
}

int evaluation_review_declare(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__DeclareRequest *rq = request;
    char me[EVALUATION_ID_MAX + 1], review[CCIP_UUID_STRLEN + 1], status[32];
    evaluation_case_row c = {0}; /* cleared at the end whether s_begin ran or not */
    int rc = ccip_command_check_text(cmd, "statement", rq->statement,
                                     rq->conflict ? EVALUATION_REASON_MIN : 0,
                                     EVALUATION_REASON_MAX, CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = s_begin(cmd, rq->case_id, me, &c, review, status);
    if (rc != 0)
        goto out;
    char detail[EVALUATION_REASON_MAX + 64];
    if (!rq->conflict) {
        /* Declaring again after acceptance changes nothing. */
        if (strcmp(status, EVALUATION_TASK_ASSIGNED) == 0) {
            const char *v[] = {review, rq->statement};
            rc = ccip_db_exec(cmd->db, &S_ACCEPT, 2, v, NULL, NULL, NULL);
            snprintf(detail, sizeof detail, "expert %s%s%s", me, rq->statement[0] ? ": " : "",
                     rq->statement);
            if (rc == 0)
                rc = evaluation_case_log(cmd->db, c.id, cmd->actor.id, cmd->actor.role,
                                         "declared no conflict", detail);
        }
        if (rc == 0)
            rc = s_reply(cmd, c.id, review, 0);
        goto out;
    }
    /* A conflict: it goes into the register (so no later case of this
     * applicant proposes the expert), the review ends, the seat is filled
     * again. */
    const char *cv[] = {me, c.applicant_uscc, rq->statement};
    rc = ccip_db_exec(cmd->db, &S_DECLARE_CONFLICT, 3, cv, NULL, NULL, NULL);
    snprintf(detail, sizeof detail, "declared a conflict with the applicant: %s", rq->statement);
    if (rc == 0)
        rc = evaluation_task_release(cmd, CCIP__EVALUATION__SUBJECT_KIND__EXPERT, review, me,
                                     EVALUATION_TASK_DECLINED, detail);
    snprintf(detail, sizeof detail, "expert %s: %s", me, rq->statement);
    if (rc == 0)
        rc = evaluation_case_log(cmd->db, c.id, cmd->actor.id, cmd->actor.role,
                                 "declared a conflict", detail);
    if (rc == 0)
        rc = evaluation_assign_refill(cmd, &c, NULL, NULL);
    if (rc == 0)
        rc = s_reply(cmd, c.id, review, 0);
out:
    evaluation_case_row_clear(&c);
    return rc;
}

/* When every seat of the panel has a submitted review: computes the
 * aggregate from the stored scores, keeps it on the case and publishes
 * evaluation.review.completed.v1. Sets *complete. */
static int s_maybe_complete(ccip_command *cmd, evaluation_case_row *c, int *complete)
{
    *complete = 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_PANEL, 1, &c->id, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    int64_t done = ccip_db_cell_i64(res, 0, 0), live = ccip_db_cell_i64(res, 0, 1);
    PQclear(res);
    if (done != live || live < c->panel_size)
        return 0;
    rc = ccip_db_exec(cmd->db, &S_DONE_SCORES, 1, &c->id, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    int n = PQntuples(res);
    int *scores = malloc(((size_t)n + 1) * sizeof *scores);
    if (!scores) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    }
    for (int i = 0; i < n; i++)
        scores[i] = (int)ccip_db_cell_i64(res, i, 0);
    PQclear(res);
    evaluation_aggregate_out agg;
    int ok = evaluation_aggregate(scores, (size_t)n, &agg) == 0;
    free(scores);
    if (!ok)
        return 0;
    char s[16], sp[16], d[16], r[16];
    snprintf(s, sizeof s, "%d", agg.score_centi);
    snprintf(sp, sizeof sp, "%d", agg.spread_centi);
    snprintf(d, sizeof d, "%d", agg.dropped);
    snprintf(r, sizeof r, "%d", agg.reviews);
    const char *v[] = {c->id, s, sp, d, r};
    rc = ccip_db_exec(cmd->db, &S_STORE_AGGREGATE, 5, v, NULL, NULL, NULL);
    char detail[160];
    snprintf(detail, sizeof detail, "aggregate %d.%02d of %d reviews (%d dropped), spread %d.%02d",
             agg.score_centi / 100, agg.score_centi % 100, agg.reviews, agg.dropped,
             agg.spread_centi / 100, agg.spread_centi % 100);
    if (rc == 0)
        rc = evaluation_case_log(cmd->db, c->id, cmd->actor.id, cmd->actor.role, "reviews complete",
                                 detail);
    c->has_aggregate = 1;
    c->score_centi = agg.score_centi;
    c->spread_centi = agg.spread_centi;
    c->dropped = agg.dropped;
    c->reviews_counted = agg.reviews;
    Ccip__Evaluation__Aggregate aggregate;
    if (rc == 0)
        rc = evaluation_case_aggregate(cmd->db, c, &aggregate);
    if (rc == 0) {
        Ccip__Evaluation__ReviewCompleted ev = CCIP__EVALUATION__REVIEW_COMPLETED__INIT;
        ev.case_id = (char *)c->id;
        ev.application_id = (char *)c->application_id;
        ev.aggregate = &aggregate;
        rc = ccip_command_emit(cmd, "evaluation.review.completed.v1", "application",
                               c->application_id, &ev.base);
    }
    *complete = rc == 0;
    return rc;
}

int evaluation_review_submit(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__SubmitReviewRequest *rq = request;
    char me[EVALUATION_ID_MAX + 1], review[CCIP_UUID_STRLEN + 1], status[32], err[512];
    evaluation_case_row c = {0}; /* cleared at the end whether s_begin ran or not */
    evaluation_sheet sh;
    memset(&sh, 0, sizeof sh);
    evaluation_score_in *in = NULL;
    int found = 0, complete = 0;
    int rc = ccip_command_check_text(cmd, "comment", rq->comment, 0, COMMENT_MAX_CHARS,
                                     CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = s_begin(cmd, rq->case_id, me, &c, review, status);
    if (rc == 0 && strcmp(status, EVALUATION_TASK_ASSIGNED) == 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "expert %s must first declare that it has no conflict with the "
                               "applicant (evaluation.review.declare.v1), then score",
                               me);
    if (rc == 0 && rq->sheet_version != c.sheet_version)
        rc =
            ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                              "field `sheet_version` is %d, but case %s is scored on version %d of "
                              "the %s score sheet; fetch that version with "
                              "evaluation.sheet.get.v1 and score its criteria",
                              rq->sheet_version, c.id, c.sheet_version, c.kind);
    if (rc == 0)
        rc = evaluation_sheet_fetch(cmd->db, c.kind, c.sheet_version, &sh, &found);
    if (rc == 0 && !found)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "score sheet %s version %d is missing",
                               c.kind, c.sheet_version);
    if (rc != 0)
        goto out;
    in = calloc(rq->n_scores + 1, sizeof *in);
    if (!in) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < rq->n_scores; i++)
        in[i] = (evaluation_score_in){rq->scores[i]->criterion, rq->scores[i]->score,
                                      rq->scores[i]->comment};
    int ordered[EVALUATION_CRITERIA_MAX];
    if (evaluation_scores_check(sh.criteria, sh.ncriteria, in, rq->n_scores, ordered, err,
                                sizeof err) < 0) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
        goto out;
    }
    int score = evaluation_review_score(sh.criteria, sh.ncriteria, ordered);
    char version[16], score_s[16];
    snprintf(version, sizeof version, "%d", c.sheet_version);
    snprintf(score_s, sizeof score_s, "%d", score);
    const char *v[] = {review, version, rq->comment, score_s};
    rc = ccip_db_exec(cmd->db, &S_SUBMIT, 4, v, NULL, NULL, NULL);
    for (size_t i = 0; rc == 0 && i < rq->n_scores; i++) {
        char s[16];
        snprintf(s, sizeof s, "%d", rq->scores[i]->score);
        const char *sv[] = {review, rq->scores[i]->criterion, s, rq->scores[i]->comment};
        rc = ccip_db_exec(cmd->db, &S_SCORE, 4, sv, NULL, NULL, NULL);
    }
    const char *mv[] = {me};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_RELEASE, 1, mv, NULL, NULL, NULL);
    if (rc == 0)
        rc = evaluation_task_publish(cmd, CCIP__EVALUATION__SUBJECT_KIND__EXPERT, review,
                                     "evaluation.task.ended.v1");
    char detail[128];
    snprintf(detail, sizeof detail, "expert %s: score %d.%02d on sheet version %d", me, score / 100,
             score % 100, c.sheet_version);
    if (rc == 0)
        rc = evaluation_case_log(cmd->db, c.id, cmd->actor.id, cmd->actor.role, "review submitted",
                                 detail);
    if (rc == 0)
        rc = s_maybe_complete(cmd, &c, &complete);
    if (rc == 0)
        rc = s_reply(cmd, c.id, review, complete);
out:
    free(in);
    evaluation_sheet_clear(&sh);
    evaluation_case_row_clear(&c);
    return rc;
}
