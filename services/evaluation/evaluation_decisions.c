#include "evaluation_decisions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "ccip_arena.h"
#include "evaluation_assignments.h"
#include "evaluation_designations.h"

#define NOTE_MAX_CHARS 2000
#define MISSING_MAX    1024 /* bytes of the list of what is missing */

static const ccip_db_stmt S_MISSING_INVESTIGATION = {
    "evaluation_missing_investigation",
    "SELECT agency_id, status, to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') "
    "FROM investigation WHERE case_id = $1::uuid AND status IN ('TASK_ASSIGNED', 'TASK_DONE')"};
static const ccip_db_stmt S_MISSING_REVIEWS = {
    "evaluation_missing_reviews",
    "SELECT expert_id, status, to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM review "
    "WHERE case_id = $1::uuid AND status IN " EVALUATION_SQL_LIVE " ORDER BY expert_id"};
static const ccip_db_stmt S_SUBMIT = {
    "evaluation_case_submit",
    "UPDATE case_file SET status = 'CASE_WITH_OFFICE', submitted_at = now(), submitted_by = $2, "
    "updated_at = now() WHERE id = $1::uuid AND status = 'CASE_IN_EVALUATION'"};
static const ccip_db_stmt S_DECISION = {
    "evaluation_decision_insert",
    "INSERT INTO decision (id, case_id, round, outcome, reasons, recommended_fen, return_to, "
    "recommendation, score_centi, decided_by) VALUES ($1::uuid, $2::uuid, $3::integer, $4, $5, "
    "$6::bigint, $7, $8, nullif($9, '')::integer, $10)"};
static const ccip_db_stmt S_FINAL = {
    "evaluation_case_final",
    "UPDATE case_file SET status = $2, updated_at = now() WHERE id = $1::uuid"};
static const ccip_db_stmt S_RETURN = {
    "evaluation_case_return",
    "UPDATE case_file SET status = 'CASE_IN_EVALUATION', round = round + 1, submitted_at = NULL, "
    "submitted_by = NULL, score_centi = CASE WHEN $2::boolean THEN NULL ELSE score_centi END, "
    "spread_centi = CASE WHEN $2::boolean THEN NULL ELSE spread_centi END, "
    "dropped = CASE WHEN $2::boolean THEN NULL ELSE dropped END, "
    "reviews_counted = CASE WHEN $2::boolean THEN NULL ELSE reviews_counted END, "
    "updated_at = now() WHERE id = $1::uuid"};
static const ccip_db_stmt S_SUPERSEDE_INVESTIGATION = {
    "evaluation_supersede_investigation",
    "UPDATE investigation SET status = 'TASK_SUPERSEDED', closed_at = now(), close_reason = $2 "
    "WHERE case_id = $1::uuid AND status = 'TASK_DONE' RETURNING id, agency_id"};
static const ccip_db_stmt S_SUPERSEDE_REVIEWS = {
    "evaluation_supersede_reviews",
    "UPDATE review SET status = 'TASK_SUPERSEDED', closed_at = now(), close_reason = $2 "
    "WHERE case_id = $1::uuid AND status = 'TASK_DONE' RETURNING id, expert_id"};

/* Appends "; item" (or "item") to out. */
static void s_add(char *out, size_t len, int *missing, const char *item)
{
    size_t used = strlen(out);
    if (used + 4 < len)
        snprintf(out + used, len - used, "%s%s", used ? "; " : "", item);
    (*missing)++;
}

int evaluation_case_missing(ccip_db *db, const evaluation_case_row *c, char *out, size_t len,
                            int *missing)
{
    out[0] = '\0';
    *missing = 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_MISSING_INVESTIGATION, 1, &c->id, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    char item[160];
    if (PQntuples(res) == 0) {
        s_add(out, len, missing, "an agency for the on-site investigation (none assigned)");
    } else if (strcmp(PQgetvalue(res, 0, 1), EVALUATION_TASK_DONE) != 0) {
        snprintf(item, sizeof item, "the investigation report of agency %s (due %s)",
                 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 2));
        s_add(out, len, missing, item);
    }
    PQclear(res);
    rc = ccip_db_exec(db, &S_MISSING_REVIEWS, 1, &c->id, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    int live = PQntuples(res);
    for (int i = 0; i < live; i++) {
        const char *status = PQgetvalue(res, i, 1);
        if (strcmp(status, EVALUATION_TASK_DONE) == 0)
            continue;
        snprintf(item, sizeof item, "the review of expert %s (%sdue %s)", PQgetvalue(res, i, 0),
                 strcmp(status, EVALUATION_TASK_ASSIGNED) == 0 ? "no declaration of conflict yet, "
                                                               : "",
                 PQgetvalue(res, i, 2));
        s_add(out, len, missing, item);
    }
    PQclear(res);
    if (c->panel_size == 0) {
        s_add(out, len, missing, "a review panel (none assigned)");
    } else if (live < c->panel_size) {
        snprintf(item, sizeof item, "%d of %d panel seats are empty", c->panel_size - live,
                 c->panel_size);
        s_add(out, len, missing, item);
    }
    return 0;
}

/* Replies with the whole case. */
static int s_reply_case(ccip_command *cmd, const char *case_id)
{
    ccip_arena *a = ccip_arena_new();
    Ccip__Evaluation__CaseReply reply = CCIP__EVALUATION__CASE_REPLY__INIT;
    int rc = evaluation_case_load(cmd->db, case_id, 1, a, &reply.case_);
    if (rc == 0)
        rc = !reply.case_ ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory")
                          : ccip_command_reply(cmd, &reply.base);
    ccip_arena_destroy(&a);
    return rc;
}

/* Publishes evaluation.case.submitted.v1: the office's decision on case c
 * waits from now on (notify's "decision waiting"), in the transaction that
 * moves it to CASE_WITH_OFFICE, so the two never disagree. */
static int s_emit_submitted(ccip_command *cmd, const evaluation_case_row *c, const char *note)
{
    Ccip__Evaluation__CaseSubmitted ev = CCIP__EVALUATION__CASE_SUBMITTED__INIT;
    ev.case_id = (char *)c->id;
    ev.application_id = (char *)c->application_id;
    ev.title = (char *)c->title;
    ev.applicant_uscc = (char *)c->applicant_uscc;
    ev.applicant_name = (char *)c->applicant_name;
    ev.round = c->round;
    ev.note = (char *)(note ? note : "");
    ev.submitted_at_us = ccip_now_us();
    ev.case_root = (char *)c->case_root;
    return ccip_command_emit(cmd, "evaluation.case.submitted.v1", "case", c->id, &ev.base);
}

int evaluation_case_submit(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__SubmitToOfficeRequest *rq = request;
    evaluation_case_row c;
    memset(&c, 0, sizeof c);
    char missing[MISSING_MAX];
    int nmissing = 0;
    int rc = ccip_command_check_text(cmd, "note", rq->note, 0, NOTE_MAX_CHARS, CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = evaluation_case_fetch(cmd, rq->case_id, 1, &c);
    if (rc == 0 && strcmp(c.status, EVALUATION_CASE_IN_EVALUATION) != 0 &&
        strcmp(c.status, EVALUATION_CASE_OPEN) != 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "case %s is %s; only a case in evaluation can be submitted to the "
                               "office",
                               c.id, c.status);
    if (rc == 0)
        rc = evaluation_case_missing(cmd->db, &c, missing, sizeof missing, &nmissing);
    if (rc == 0 && nmissing)
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "case %s cannot go to the office yet; missing: %s", c.id, missing);
    const char *v[] = {c.id, cmd->actor.id};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_SUBMIT, 2, v, NULL, NULL, NULL);
    if (rc == 0)
        rc = evaluation_case_log(cmd->db, c.id, cmd->actor.id, cmd->actor.role,
                                 "submitted to the office", rq->note);
    if (rc == 0)
        rc = s_emit_submitted(cmd, &c, rq->note);
    if (rc == 0)
        rc = s_reply_case(cmd, c.id);
    evaluation_case_row_clear(&c);
    return rc;
}

/* Checks the decision against the case. Returns 0 or CCIP_REPLIED. */
static int s_check_decision(ccip_command *cmd, const Ccip__Evaluation__DecideRequest *rq,
                            const evaluation_case_row *c)
{
    int funds = strcmp(c->kind, "SPECIAL_FUND_PROJECT") == 0;
    int approved = rq->outcome == CCIP__EVALUATION__OUTCOME__DECISION_APPROVED;
    int returned = rq->outcome == CCIP__EVALUATION__OUTCOME__DECISION_RETURNED;
    char req[CCIP_FEN_STRLEN + 1];
    ccip_fen_format(c->requested_fen, req, sizeof req);
    if (funds && approved && (rq->recommended_fen < 1 || rq->recommended_fen > c->requested_fen))
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `recommended_fen`: approving a special-fund project names "
                                 "the amount recommended, between 1 fen and the %s yuan requested "
                                 "(%lld fen), got %lld",
                                 req, (long long)c->requested_fen, (long long)rq->recommended_fen);
    if ((!funds || !approved) && rq->recommended_fen != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `recommended_fen` applies only to approving a special-fund "
                                 "project; leave it 0");
    if (returned && (!rq->return_to ||
                     !ccip_enum_name(&ccip__evaluation__return_to__descriptor, (int)rq->return_to)))
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `return_to` must say where a RETURNED case goes back to: "
                                 "RETURN_TO_INVESTIGATION, RETURN_TO_REVIEW or RETURN_TO_BOTH");
    if (!returned && rq->return_to != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `return_to` applies only to DECISION_RETURNED; leave it "
                                 "unset");
    return 0;
}

/* Publishes evaluation.decision.made.v1 (and the application's approved or
 * declined event). */
static int s_emit_decision(ccip_command *cmd, const char *case_id, const char *decision_id,
                           const char *designation_id, const Ccip__Evaluation__Aggregate *aggregate)
{
    ccip_arena *a = ccip_arena_new();
    Ccip__Evaluation__Case *c = NULL;
    int rc = evaluation_case_load(cmd->db, case_id, 1, a, &c);
    if (rc == 0 && !c)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if (rc != 0) {
        ccip_arena_destroy(&a);
        return rc;
    }
    Ccip__Evaluation__DecisionMade ev = CCIP__EVALUATION__DECISION_MADE__INIT;
    ev.case_id = c->id;
    ev.application_id = c->application_id;
    ev.call_id = c->call_id;
    ev.kind = c->kind;
    ev.year = c->year;
    ev.applicant_uscc = c->applicant_uscc;
    ev.applicant_name = c->applicant_name;
    ev.title = c->title;
    ev.fund_programme_code = c->fund_programme_code;
    ev.requested_fen = c->requested_fen;
    ev.aggregate = (Ccip__Evaluation__Aggregate *)aggregate;
    ev.designation_id = (char *)designation_id;
    ev.case_root = c->case_root;
    for (size_t i = 0; i < c->n_decisions; i++)
        if (strcmp(c->decisions[i]->id, decision_id) == 0)
            ev.decision = c->decisions[i];
    rc = ccip_command_emit(cmd, "evaluation.decision.made.v1", "case", case_id, &ev.base);
    if (rc == 0 && ev.decision &&
        ev.decision->outcome != CCIP__EVALUATION__OUTCOME__DECISION_RETURNED)
        rc = ccip_command_emit(cmd,
                               ev.decision->outcome == CCIP__EVALUATION__OUTCOME__DECISION_APPROVED
                                   ? "evaluation.application.approved.v1"
                                   : "evaluation.application.declined.v1",
                               "application", c->application_id, &ev.base);
    ccip_arena_destroy(&a);
    return rc;
}

/* Supersedes the done tasks of case c that st names (v: case id, reason);
 * their subjects no longer read the application (a new round assigns
 * afresh). */
static int s_supersede(ccip_command *cmd, const evaluation_case_row *c, const ccip_db_stmt *st,
                       Ccip__Evaluation__SubjectKind kind, const char *const v[2])
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, st, 2, v, NULL, NULL, &res);
    for (int i = 0; rc == 0 && i < PQntuples(res); i++)
        rc = evaluation_assignment_event(cmd, c, kind, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                                         0, v[1]);
    PQclear(res);
    return rc;
}

/* RETURNED: a new round, the named steps superseded and refilled. */
static int s_return(ccip_command *cmd, evaluation_case_row *c, Ccip__Evaluation__ReturnTo to,
                    const char *reasons)
{
    int investigation = to == CCIP__EVALUATION__RETURN_TO__RETURN_TO_INVESTIGATION ||
                        to == CCIP__EVALUATION__RETURN_TO__RETURN_TO_BOTH;
    int review = to == CCIP__EVALUATION__RETURN_TO__RETURN_TO_REVIEW ||
                 to == CCIP__EVALUATION__RETURN_TO__RETURN_TO_BOTH;
    char why[EVALUATION_REASON_MAX + 64];
    snprintf(why, sizeof why, "returned by the office: %s", reasons);
    const char *v[] = {c->id, why};
    const char *rv[] = {c->id, review ? "true" : "false"};
    int rc = ccip_db_exec(cmd->db, &S_RETURN, 2, rv, NULL, NULL, NULL);
    if (rc == 0 && investigation)
        rc = s_supersede(cmd, c, &S_SUPERSEDE_INVESTIGATION, CCIP__EVALUATION__SUBJECT_KIND__AGENCY,
                         v);
    if (rc == 0 && review)
        rc = s_supersede(cmd, c, &S_SUPERSEDE_REVIEWS, CCIP__EVALUATION__SUBJECT_KIND__EXPERT, v);
    if (rc != 0)
        return rc;
    /* Read the case again: new round and status, then fill the seats. */
    char id[CCIP_UUID_STRLEN + 1];
    snprintf(id, sizeof id, "%s", c->id);
    evaluation_case_row_clear(c);
    rc = evaluation_case_fetch(cmd, id, 1, c);
    if (rc == 0)
        rc = evaluation_assign_refill(cmd, c, NULL, NULL);
    return rc;
}

int evaluation_case_decide(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__DecideRequest *rq = request;
    evaluation_case_row c;
    memset(&c, 0, sizeof c);
    char missing[MISSING_MAX], case_id[CCIP_UUID_STRLEN + 1] = "";
    char designation[CCIP_UUID_STRLEN + 1] = "";
    int nmissing = 0, rc = 0;
    const char *outcome =
        rq->outcome ? ccip_enum_name(&ccip__evaluation__outcome__descriptor, (int)rq->outcome)
                    : NULL;
    if (!outcome)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `outcome` must be DECISION_APPROVED, DECISION_DECLINED or "
                               "DECISION_RETURNED");
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "reasons", rq->reasons, EVALUATION_REASON_MIN,
                                     EVALUATION_REASON_MAX, CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = evaluation_case_fetch(cmd, rq->case_id, 1, &c);
    if (rc == 0 && (strcmp(c.status, EVALUATION_CASE_APPROVED) == 0 ||
                    strcmp(c.status, EVALUATION_CASE_DECLINED) == 0))
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "case %s was decided already (%s); a decision is final", c.id,
                               c.status);
    if (rc == 0 && strcmp(c.status, EVALUATION_CASE_WITH_OFFICE) != 0) {
        rc = evaluation_case_missing(cmd->db, &c, missing, sizeof missing, &nmissing);
        if (rc == 0 && nmissing)
            rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                   "case %s cannot be decided yet; missing: %s; then staff submit "
                                   "it to the office",
                                   c.id, missing);
        else if (rc == 0)
            rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                   "case %s cannot be decided yet: its reviews and report are in, "
                                   "but staff have not submitted it to the office "
                                   "(evaluation.case.submit.v1)",
                                   c.id);
    }
    if (rc == 0)
        rc = s_check_decision(cmd, rq, &c);
    Ccip__Evaluation__Aggregate agg;
    if (rc == 0)
        rc = evaluation_case_aggregate(cmd->db, &c, &agg);
    if (rc != 0)
        goto out;
    snprintf(case_id, sizeof case_id, "%s", c.id);
    char id[CCIP_UUID_STRLEN + 1], round[16], fen[24], score[16] = "";
    ccip_uuid_v7(id);
    snprintf(round, sizeof round, "%d", c.round);
    snprintf(fen, sizeof fen, "%lld", (long long)rq->recommended_fen);
    if (c.has_aggregate)
        snprintf(score, sizeof score, "%d", c.score_centi);
    const char *return_to =
        rq->return_to ? ccip_enum_name(&ccip__evaluation__return_to__descriptor, (int)rq->return_to)
                      : "RETURN_TO_UNSPECIFIED";
    const char *recommendation =
        agg.recommendation
            ? ccip_enum_name(&ccip__evaluation__recommendation__descriptor, (int)agg.recommendation)
            : "RECOMMENDATION_UNSPECIFIED";
    const char *v[] = {id,  case_id,   round,          outcome, rq->reasons,
                       fen, return_to, recommendation, score,   cmd->actor.id};
    rc = ccip_db_exec(cmd->db, &S_DECISION, 10, v, NULL, NULL, NULL);
    char detail[EVALUATION_REASON_MAX + 64];
    snprintf(detail, sizeof detail, "%s: %s", outcome, rq->reasons);
    if (rc == 0)
        rc = evaluation_case_log(cmd->db, case_id, cmd->actor.id, cmd->actor.role, "decided",
                                 detail);
    if (rc == 0 && rq->outcome == CCIP__EVALUATION__OUTCOME__DECISION_RETURNED) {
        rc = s_return(cmd, &c, rq->return_to, rq->reasons);
    } else if (rc == 0) {
        const char *status = rq->outcome == CCIP__EVALUATION__OUTCOME__DECISION_APPROVED
                                 ? EVALUATION_CASE_APPROVED
                                 : EVALUATION_CASE_DECLINED;
        const char *fv[] = {case_id, status};
        rc = ccip_db_exec(cmd->db, &S_FINAL, 2, fv, NULL, NULL, NULL);
        if (rc == 0 && rq->outcome == CCIP__EVALUATION__OUTCOME__DECISION_APPROVED &&
            evaluation_designation_kind(c.kind))
            rc = evaluation_designation_grant(cmd, &c, designation);
    }
    if (rc == 0)
        rc = s_emit_decision(cmd, case_id, id, designation, &agg);
    if (rc == 0 && designation[0])
        rc = evaluation_designation_publish_granted(cmd, designation);
    if (rc == 0)
        rc = s_reply_case(cmd, case_id);
out:
    evaluation_case_row_clear(&c);
    return rc;
}
