#include "stats_survey_responses.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_arena.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_pgarray.h"
#include "stats_questionnaires.h"
#include "stats_survey_results.h"
#include "stats_surveys.h"

#define DRAFT_MAX (4 * 1024 * 1024) /* bytes a stored draft may decode from */

static const ccip_db_stmt S_PARTICIPATION = {
    "stats_response_participation",
    "SELECT status, draft, coalesce(" CCIP_SQL_US("saved_at") ", 0), coalesce(" CCIP_SQL_US(
        "first_submitted_at") ", 0), coalesce(" CCIP_SQL_US("submitted_at") ", 0), submissions, "
                                                                            "reopen_reason FROM "
                                                                            "survey_participation "
                                                                            "WHERE survey_id = "
                                                                            "$1::uuid "
                                                                            "AND target_id = $2 "
                                                                            "FOR UPDATE"};
static const ccip_db_stmt S_SAVE_DRAFT = {
    "stats_response_save_draft",
    "INSERT INTO survey_participation (survey_id, target_id, status, draft, saved_at) "
    "VALUES ($1::uuid, $2, 'DRAFT', $3, now()) ON CONFLICT (survey_id, target_id) DO UPDATE "
    "SET status = 'DRAFT', draft = EXCLUDED.draft, saved_at = now() "
    "WHERE survey_participation.status = 'DRAFT' RETURNING 1"};
static const ccip_db_stmt S_SUBMITTED = {
    "stats_response_submitted",
    "INSERT INTO survey_participation (survey_id, target_id, status, saved_at, "
    "first_submitted_at, submitted_at, submissions) VALUES ($1::uuid, $2, 'SUBMITTED', now(), "
    "now(), now(), 1) ON CONFLICT (survey_id, target_id) DO UPDATE SET status = 'SUBMITTED', "
    "draft = NULL, submitted_at = now(), first_submitted_at = "
    "coalesce(survey_participation.first_submitted_at, now()), submissions = "
    "survey_participation.submissions + 1 WHERE survey_participation.status = 'DRAFT' "
    "RETURNING 1"};
static const ccip_db_stmt S_HISTORY = {
    "stats_response_history",
    "INSERT INTO survey_participation_history (survey_id, target_id, change, actor_id, "
    "actor_role, reason) VALUES ($1::uuid, $2, $3, $4, $5, $6)"};
/* An anonymous survey's response gets NULL for every column that could
 * tell who answered ($5..$8 are NULL then; the table's trigger refuses
 * anything else). */
static const ccip_db_stmt S_RESPONSE = {
    "stats_response_insert",
    "INSERT INTO survey_response (id, survey_id, questionnaire_id, questionnaire_version, "
    "target_id, target_kind, district_code, submitted_by, submitted_at) VALUES ($1::uuid, "
    "$2::uuid, $3::uuid, $4::integer, $5, $6, $7, $8, CASE WHEN $5::text IS NOT NULL THEN now() "
    "END)"};
static const ccip_db_stmt S_ANSWERS = {
    "stats_response_answers",
    "INSERT INTO survey_answer (survey_id, response_id, question, item, col, district_code, "
    "target_kind, num, opt, txt) SELECT $1::uuid, $2::uuid, q, i, c, $3, $4, n, o, t FROM "
    "unnest($5::smallint[], $6::smallint[], $7::smallint[], $8::bigint[], $9::bigint[], "
    "$10::text[]) AS x(q, i, c, n, o, t)"};
/* $3: the caller may read it unreleased (its own response, an analyst, or
 * staff reopening it); else only a released survey's response is found,
 * like every read of results (stats_survey_results.h). */
static const ccip_db_stmt S_FIND_RESPONSE = {
    "stats_response_find",
    "SELECT id FROM survey_response WHERE survey_id = $1::uuid AND target_id = $2 "
    "AND ($3::boolean OR survey_released($1::uuid))"};
static const ccip_db_stmt S_CELLS = {
    "stats_response_cells",
    "SELECT question, item, col, num IS NOT NULL, coalesce(num, 0), opt IS NOT NULL, "
    "coalesce(opt, 0), txt IS NOT NULL, coalesce(txt, '') FROM survey_answer "
    "WHERE response_id = $1::uuid"};
static const ccip_db_stmt S_DELETE_ANSWERS = {
    "stats_response_delete_answers", "DELETE FROM survey_answer WHERE response_id = $1::uuid"};
static const ccip_db_stmt S_DELETE_RESPONSE = {"stats_response_delete",
                                               "DELETE FROM survey_response WHERE id = $1::uuid"};
static const ccip_db_stmt S_REOPEN = {
    "stats_response_reopen",
    "UPDATE survey_participation SET status = 'DRAFT', draft = $3, submitted_at = NULL, "
    "saved_at = now(), reopen_reason = $4 WHERE survey_id = $1::uuid AND target_id = $2"};

/* ---- pieces ------------------------------------------------------------------------------------
 */

/* A target's participation as stored. */
typedef struct {
    int exists;
    char status[16];             /* "DRAFT", "SUBMITTED" */
    Ccip__Stats__Answers *draft; /* decoded; owned */
    int64_t saved_at_us, first_submitted_at_us, submitted_at_us;
    uint32_t submissions;
    char reopen_reason[STATS_REASON_MAX * 4 + 1];
} s_part;

static void s_part_release(s_part *p)
{
    if (p->draft)
        protobuf_c_message_free_unpacked(&p->draft->base, NULL);
    p->draft = NULL;
}

/* Reads (FOR UPDATE) the target's participation. Returns 0, CCIP_REPLIED
 * (a draft that does not decode) or a ccip_db_rc. */
static int s_part_load(ccip_command *cmd, const char *survey, const char *target, s_part *p)
{
    memset(p, 0, sizeof *p);
    const char *v[] = {survey, target};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_PARTICIPATION, 2, v, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) == 1) {
        p->exists = 1;
        snprintf(p->status, sizeof p->status, "%s", PQgetvalue(res, 0, 0));
        p->saved_at_us = ccip_db_cell_i64(res, 0, 2);
        p->first_submitted_at_us = ccip_db_cell_i64(res, 0, 3);
        p->submitted_at_us = ccip_db_cell_i64(res, 0, 4);
        p->submissions = (uint32_t)ccip_db_cell_i64(res, 0, 5);
        snprintf(p->reopen_reason, sizeof p->reopen_reason, "%s", PQgetvalue(res, 0, 6));
        if (!PQgetisnull(res, 0, 1)) {
            size_t len = 0;
            unsigned char *raw =
                PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 1), &len);
            char err[200] = "out of memory";
            if (raw)
                p->draft = (Ccip__Stats__Answers *)ccip_payload_unpack(
                    &ccip__stats__answers__descriptor, raw, len, DRAFT_MAX, err, sizeof err);
            PQfreemem(raw);
            if (!p->draft)
                rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                       "the stored draft of %s cannot be read: %s", target, err);
        }
    }
    PQclear(res);
    return rc;
}

/* The target the caller answers for: target_id, or its own actor id when
 * "". Refuses a target that is not one (NOT_FOUND) or answered by another
 * actor (PERMISSION_DENIED). Returns 0, CCIP_REPLIED or a ccip_db_rc. */
static int s_target(ccip_command *cmd, const stats_survey_row *sv, const char *target_id,
                    stats_target *t)
{
    const char *id = target_id[0] ? target_id : cmd->actor.id;
    int found;
    int rc = ccip_command_check_text(cmd, "target_id", id, 1, STATS_TARGET_MAX - 1, 0);
    if (rc == 0)
        rc = stats_survey_target(cmd->db, sv->id, id, t, &found);
    if (rc != 0)
        return rc;
    if (!found)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "%s is not a target of survey %s%s; nothing was saved", id, sv->id,
                                 target_id[0] ? ""
                                              : " (field `target_id` names the target you answer "
                                                "for, e.g. roster:<entry> for a cluster you "
                                                "operate)");
    if (strcmp(t->respondent, cmd->actor.id) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "target %s of survey %s is answered by %s, not by %s", t->id,
                                 sv->id, t->respondent, cmd->actor.id);
    return 0;
}

/* Refuses answers outside the survey's opening hours. Returns 0 or
 * CCIP_REPLIED. */
static int s_require_open(ccip_command *cmd, const stats_survey_row *sv)
{
    char when[CCIP_TIME_STRLEN + 1];
    switch (stats_survey_status(sv)) {
    case CCIP__STATS__SURVEY_STATUS__SCHEDULED:
        ccip_time_format_us(sv->opens_at_us, when, sizeof when);
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "survey %s opens at %s: no answers are taken before it opens; "
                                 "nothing was saved",
                                 sv->id, when);
    case CCIP__STATS__SURVEY_STATUS__CLOSED:
        ccip_time_format_us(sv->closed_early_at_us ? sv->closed_early_at_us : sv->closes_at_us,
                            when, sizeof when);
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "survey %s closed at %s%s: no answers are taken after it "
                                 "closes; nothing was saved",
                                 sv->id, when, sv->closed_early_at_us ? " (closed early)" : "");
    default:
        return 0;
    }
}

/* Refuses a change after the one submission. Returns 0 or CCIP_REPLIED. */
static int s_require_draft(ccip_command *cmd, const stats_survey_row *sv, const stats_target *t,
                           const s_part *p)
{
    if (!p->exists || strcmp(p->status, "SUBMITTED") != 0)
        return 0;
    char when[CCIP_TIME_STRLEN + 1];
    ccip_time_format_us(p->submitted_at_us, when, sizeof when);
    return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                             "%s submitted its response to survey %s at %s, and a survey takes "
                             "one response per target: staff may reopen it with a reason "
                             "(stats.survey.response.reopen.v1); nothing was saved",
                             t->id, sv->id, when);
}

/* Packs answers[0..n) as a draft (malloc'd into *buf). Returns 0 or -1. */
static int s_pack_draft(Ccip__Stats__Answer **answers, size_t n, uint8_t **buf, size_t *len)
{
    Ccip__Stats__Answers m = CCIP__STATS__ANSWERS__INIT;
    m.answers = answers;
    m.n_answers = n;
    *len = protobuf_c_message_get_packed_size(&m.base);
    *buf = malloc(*len ? *len : 1);
    if (!*buf)
        return -1;
    protobuf_c_message_pack(&m.base, *buf);
    return 0;
}

/* Replies with the target's response as it now stands. */
static int s_reply(ccip_command *cmd, ccip_arena *a, const stats_survey_row *sv,
                   const char *target_id, Ccip__Stats__ResponseStatus status,
                   const char *response_id, Ccip__Stats__Answer **answers, size_t n)
{
    s_part p;
    int rc = s_part_load(cmd, sv->id, target_id, &p);
    if (rc != 0)
        return rc;
    Ccip__Stats__Response r = CCIP__STATS__RESPONSE__INIT;
    r.survey_id = (char *)sv->id;
    r.target_id = (char *)target_id;
    r.status = status;
    r.response_id = (char *)(response_id ? response_id : "");
    r.questionnaire_version = (uint32_t)sv->version;
    r.answers = answers;
    r.n_answers = n;
    r.saved_at_us = p.saved_at_us;
    r.first_submitted_at_us = p.first_submitted_at_us;
    r.submitted_at_us = p.submitted_at_us;
    r.submissions = p.submissions;
    r.reopen_reason = ccip_arena_strdup(a, p.reopen_reason);
    s_part_release(&p);
    Ccip__Stats__ResponseReply reply = CCIP__STATS__RESPONSE_REPLY__INIT;
    reply.response = &r;
    return stats_reply_built(cmd, a, &reply.base, "out of memory");
}

/* The questionnaire version the survey asks, indexed. Returns 0,
 * CCIP_REPLIED or a ccip_db_rc; on 0 the caller releases both. */
static int s_version(ccip_command *cmd, const stats_survey_row *sv, stats_questionnaire_row *q,
                     stats_questions *qs)
{
    int found;
    char err[200];
    int rc = stats_questionnaire_load(cmd->db, sv->questionnaire_id, sv->version, q, &found);
    if (rc != 0)
        return rc;
    if (!found || !q->content) {
        stats_questionnaire_row_release(q);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "survey %s asks questionnaire %s version %d, which is gone",
                                 sv->id, sv->questionnaire_id, sv->version);
    }
    if (stats_questions_index(q->content, qs, err, sizeof err) < 0) {
        stats_questionnaire_row_release(q);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "%s", err);
    }
    return 0;
}

/* ---- save and submit ---------------------------------------------------------------------------
 */

/* Writes the submitted response and its answers. Returns 0 or a ccip_db_rc. */
static int s_write_response(ccip_command *cmd, const stats_survey_row *sv, const stats_target *t,
                            const char *rid, const stats_cell *cells, size_t n)
{
    char v[16];
    snprintf(v, sizeof v, "%d", sv->version);
    const char *kind = stats_target_kind_name(t->kind);
    /* NULL parameters are SQL NULLs: nothing about who answered. */
    const char *who[4] = {NULL, NULL, NULL, NULL};
    if (!sv->anonymous) {
        who[0] = t->id;
        who[1] = kind;
        who[2] = t->district;
        who[3] = cmd->actor.id;
    }
    const char *p[] = {rid, sv->id, sv->questionnaire_id, v, who[0], who[1], who[2], who[3]};
    int rc = ccip_db_exec(cmd->db, &S_RESPONSE, 8, p, NULL, NULL, NULL);
    if (rc != 0 || n == 0)
        return rc;
    ccip_pgarray q = CCIP_PGARRAY_INIT, it = CCIP_PGARRAY_INIT, co = CCIP_PGARRAY_INIT;
    ccip_pgarray nu = CCIP_PGARRAY_INIT, op = CCIP_PGARRAY_INIT, tx = CCIP_PGARRAY_INIT;
    for (size_t i = 0; i < n; i++) {
        ccip_pgarray_int(&q, cells[i].question);
        ccip_pgarray_int(&it, cells[i].item);
        ccip_pgarray_int(&co, cells[i].col);
        if (cells[i].has_num)
            ccip_pgarray_int(&nu, cells[i].num);
        else
            ccip_pgarray_null(&nu);
        if (cells[i].has_opt)
            ccip_pgarray_int(&op, cells[i].opt);
        else
            ccip_pgarray_null(&op);
        if (cells[i].txt)
            ccip_pgarray_text(&tx, cells[i].txt);
        else
            ccip_pgarray_null(&tx);
    }
    const char *a[] = {sv->id,
                       rid,
                       who[2],
                       who[1],
                       ccip_pgarray_value(&q),
                       ccip_pgarray_value(&it),
                       ccip_pgarray_value(&co),
                       ccip_pgarray_value(&nu),
                       ccip_pgarray_value(&op),
                       ccip_pgarray_value(&tx)};
    int ok = 1;
    for (int i = 4; i < 10; i++)
        ok &= a[i] != NULL;
    rc = ok ? ccip_db_exec(cmd->db, &S_ANSWERS, 10, a, NULL, NULL, NULL)
            : ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    ccip_pgarray_release(&q);
    ccip_pgarray_release(&it);
    ccip_pgarray_release(&co);
    ccip_pgarray_release(&nu);
    ccip_pgarray_release(&op);
    ccip_pgarray_release(&tx);
    return rc;
}

/* Emits stats.survey.response.<what>.v1 about the target. */
static int s_emit(ccip_command *cmd, const stats_survey_row *sv, const stats_target *t,
                  const char *type, Ccip__Stats__ResponseStatus status, const char *reason)
{
    Ccip__Stats__ResponseChanged ev = CCIP__STATS__RESPONSE_CHANGED__INIT;
    ev.survey_id = (char *)sv->id;
    ev.target_id = (char *)t->id;
    ev.respondent = (char *)t->respondent;
    ev.district_code = (char *)t->district;
    ev.status = status;
    ev.reason = (char *)(reason ? reason : "");
    ev.at_us = sv->now_us;
    char agg[CCIP_UUID_STRLEN + STATS_TARGET_MAX + 2];
    snprintf(agg, sizeof agg, "%s/%s", sv->id, t->id);
    return ccip_command_emit(cmd, type, "survey_target", agg, &ev.base);
}

/* Save (submit 0) and submit (1) share everything up to the check. */
static int s_answer(ccip_command *cmd, ccip_arena *a, const Ccip__Stats__SaveResponseRequest *rq,
                    int submit)
{
    stats_survey_row sv;
    stats_target t;
    int rc = stats_survey_require(cmd, "survey_id", rq->survey_id, 1, &sv);
    if (rc == 0)
        rc = s_require_open(cmd, &sv);
    if (rc == 0)
        rc = s_target(cmd, &sv, rq->target_id, &t);
    if (rc != 0)
        return rc;
    s_part p;
    stats_questionnaire_row q;
    stats_questions qs;
    if ((rc = s_part_load(cmd, sv.id, t.id, &p)) != 0)
        return rc;
    if ((rc = s_require_draft(cmd, &sv, &t, &p)) != 0 || (rc = s_version(cmd, &sv, &q, &qs)) != 0) {
        s_part_release(&p);
        return rc;
    }
    char err[CCIP_COMMAND_ERROR_MAX - 40];
    Ccip__Stats__Answer **merged = NULL;
    size_t nmerged = 0, ncells = 0;
    stats_cell *cells = NULL;
    if (stats_answers_merge(&qs, p.draft ? p.draft->answers : NULL,
                            p.draft ? p.draft->n_answers : 0, rq->answers, rq->n_answers,
                            rq->remove, rq->n_remove, &merged, &nmerged, err, sizeof err) < 0 ||
        stats_answers_check(&qs, merged, nmerged,
                            submit ? STATS_ANSWERS_FINAL : STATS_ANSWERS_DRAFT, &cells, &ncells,
                            err, sizeof err) < 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s; nothing was saved", err);
    char rid[CCIP_UUID_STRLEN + 1] = "";
    const char *hp[] = {sv.id, t.id, "SUBMITTED", cmd->actor.id, cmd->actor.role, ""};
    const char *pp[] = {sv.id, t.id};
    int hit = 0;
    if (rc == 0 && !submit) {
        uint8_t *buf = NULL;
        size_t len = 0;
        if (s_pack_draft(merged, nmerged, &buf, &len) < 0) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        } else {
            const char *dp[] = {sv.id, t.id, (const char *)buf};
            int lengths[] = {0, 0, (int)len}, formats[] = {0, 0, 1};
            PGresult *res = NULL;
            rc = ccip_db_exec(cmd->db, &S_SAVE_DRAFT, 3, dp, lengths, formats, &res);
            /* No row: a submission that came first (no participation row
             * to lock when this one read it). */
            if (rc == 0 && PQntuples(res) != 1)
                rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                       "%s's response was submitted meanwhile; nothing was saved",
                                       t.id);
            PQclear(res);
        }
        free(buf);
    } else if (rc == 0) {
        /* v4, not v7: a time-ordered id would say when it came. */
        if (ccip_uuid_v4(rid) < 0)
            rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not make a response id");
        if (rc == 0)
            rc = s_write_response(cmd, &sv, &t, rid, cells, ncells);
        if (rc == 0)
            rc = stats_db_found(cmd->db, &S_SUBMITTED, 2, pp, &hit);
        if (rc == 0 && !hit)
            rc =
                ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                  "%s's response was submitted meanwhile; nothing was saved", t.id);
        if (rc == 0)
            rc = ccip_db_exec(cmd->db, &S_HISTORY, 6, hp, NULL, NULL, NULL);
        if (rc == 0)
            rc = s_emit(cmd, &sv, &t, "stats.survey.response.submitted.v1",
                        CCIP__STATS__RESPONSE_STATUS__RESPONSE_SUBMITTED, NULL);
    }
    if (rc == 0) {
        /* An anonymous survey's submission names neither the response nor
         * its answers, not even to its respondent: the stored reply would
         * tie them to the target. */
        int hide = submit && sv.anonymous;
        rc = s_reply(cmd, a, &sv, t.id,
                     submit ? CCIP__STATS__RESPONSE_STATUS__RESPONSE_SUBMITTED
                            : CCIP__STATS__RESPONSE_STATUS__RESPONSE_DRAFT,
                     hide ? "" : rid, hide ? NULL : merged, hide ? 0 : nmerged);
    }
    free(cells);
    free(merged);
    stats_questions_release(&qs);
    stats_questionnaire_row_release(&q);
    s_part_release(&p);
    return rc;
}

int stats_response_save_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    return s_answer(cmd, a, request, 0);
}

int stats_response_submit_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    return s_answer(cmd, a, request, 1);
}

/* ---- reading
 * ------------------------------------------------------------------------------------- */

int stats_response_cells(ccip_db *db, const char *response_id, stats_cell **cells, size_t *n,
                         PGresult **res)
{
    *cells = NULL;
    *n = 0;
    int rc = ccip_db_exec(db, &S_CELLS, 1, &response_id, NULL, NULL, res);
    if (rc != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(*res);
    *cells = calloc((size_t)rows + 1, sizeof **cells);
    if (!*cells)
        return CCIP_DB_ERROR;
    for (int r = 0; r < rows; r++) {
        stats_cell *c = &(*cells)[r];
        c->question = (int)ccip_db_cell_i64(*res, r, 0);
        c->item = (int)ccip_db_cell_i64(*res, r, 1);
        c->col = (int)ccip_db_cell_i64(*res, r, 2);
        c->has_num = ccip_db_cell_bool(*res, r, 3);
        c->num = ccip_db_cell_i64(*res, r, 4);
        c->has_opt = ccip_db_cell_bool(*res, r, 5);
        c->opt = ccip_db_cell_i64(*res, r, 6);
        c->txt = ccip_db_cell_bool(*res, r, 7) ? PQgetvalue(*res, r, 8) : NULL;
    }
    *n = (size_t)rows;
    return 0;
}

/* The answers of the target's submitted response (not anonymous) into
 * *answers, from a; unreleased: the caller may read it before the survey's
 * results are released (else the statement finds none then). Returns 0,
 * CCIP_REPLIED or a ccip_db_rc; *rid holds its id ("" when there is
 * none). */
static int s_submitted_answers(ccip_command *cmd, ccip_arena *a, const stats_survey_row *sv,
                               const stats_questions *qs, const char *target, int unreleased,
                               char rid[CCIP_UUID_STRLEN + 1], Ccip__Stats__Answer ***answers,
                               size_t *n)
{
    *answers = NULL;
    *n = 0;
    rid[0] = '\0';
    const char *p[] = {sv->id, target, unreleased ? "true" : "false"};
    PGresult *res = NULL, *cres = NULL;
    int rc = ccip_db_exec(cmd->db, &S_FIND_RESPONSE, 3, p, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) == 1)
        snprintf(rid, CCIP_UUID_STRLEN + 1, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!rid[0])
        return 0;
    stats_cell *cells = NULL;
    size_t ncells = 0;
    rc = stats_response_cells(cmd->db, rid, &cells, &ncells, &cres);
    if (rc == 0 && stats_answers_from_cells(qs, cells, ncells, a, answers, n) < 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    free(cells);
    PQclear(cres);
    return rc;
}

int stats_response_get_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__GetResponseRequest *rq = request;
    stats_survey_row sv;
    stats_target t;
    int found;
    int rc = stats_survey_require(cmd, "survey_id", rq->survey_id, 0, &sv);
    const char *id = rq->target_id[0] ? rq->target_id : cmd->actor.id;
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "target_id", id, 1, STATS_TARGET_MAX - 1, 0);
    if (rc == 0)
        rc = stats_survey_target(cmd->db, sv.id, id, &t, &found);
    if (rc != 0)
        return rc;
    int own = found && strcmp(t.respondent, cmd->actor.id) == 0;
    int readable = 0;
    if (!own && (rc = stats_results_readable(cmd, sv.id, &readable)) != 0)
        return rc;
    /* The same answer whether the target does not exist or may not be read. */
    if (!found || (!own && !readable))
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "survey %s has no response of %s that you may read%s", sv.id, id,
                                 own ? ""
                                     : " (others' responses are results: analysts read them "
                                       "before they are released)");
    s_part p;
    stats_questionnaire_row q;
    stats_questions qs;
    if ((rc = s_part_load(cmd, sv.id, t.id, &p)) != 0)
        return rc;
    if ((rc = s_version(cmd, &sv, &q, &qs)) != 0) {
        s_part_release(&p);
        return rc;
    }
    Ccip__Stats__ResponseStatus st = !p.exists ? CCIP__STATS__RESPONSE_STATUS__NOT_STARTED
                                     : strcmp(p.status, "SUBMITTED") == 0
                                         ? CCIP__STATS__RESPONSE_STATUS__RESPONSE_SUBMITTED
                                         : CCIP__STATS__RESPONSE_STATUS__RESPONSE_DRAFT;
    Ccip__Stats__Answer **answers = NULL;
    size_t n = 0;
    char rid[CCIP_UUID_STRLEN + 1] = "";
    if (st == CCIP__STATS__RESPONSE_STATUS__RESPONSE_DRAFT && own && p.draft) {
        answers = p.draft->answers;
        n = p.draft->n_answers;
    } else if (st == CCIP__STATS__RESPONSE_STATUS__RESPONSE_SUBMITTED && !sv.anonymous) {
        rc = s_submitted_answers(cmd, a, &sv, &qs, t.id,
                                 own || strcmp(cmd->actor.role, "analyst") == 0, rid, &answers, &n);
    }
    if (rc == 0)
        rc = s_reply(cmd, a, &sv, t.id, st, rid, answers, n);
    stats_questions_release(&qs);
    stats_questionnaire_row_release(&q);
    s_part_release(&p);
    return rc;
}

/* ---- stats.survey.response.reopen.v1
 * ---------------------------------------------------------------- */

int stats_response_reopen_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__ReopenResponseRequest *rq = request;
    stats_survey_row sv;
    stats_target t;
    int found;
    int rc = ccip_command_check_text(cmd, "reason", rq->reason, 1, STATS_REASON_MAX,
                                     CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = stats_survey_require(cmd, "survey_id", rq->survey_id, 1, &sv);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "target_id", rq->target_id, 1, STATS_TARGET_MAX - 1, 0);
    if (rc != 0)
        return rc;
    if (sv.anonymous)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "survey %s is anonymous: no response can be traced to %s, so "
                                 "none can be reopened; nothing was changed",
                                 sv.id, rq->target_id);
    if (stats_survey_status(&sv) != CCIP__STATS__SURVEY_STATUS__OPEN)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "survey %s is not open: a reopened response could not be "
                                 "submitted again; nothing was changed",
                                 sv.id);
    if ((rc = stats_survey_target(cmd->db, sv.id, rq->target_id, &t, &found)) != 0)
        return rc;
    if (!found)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "%.80s is not a target of survey %s",
                                 rq->target_id, sv.id);
    s_part p;
    if ((rc = s_part_load(cmd, sv.id, t.id, &p)) != 0)
        return rc;
    int submitted = p.exists && strcmp(p.status, "SUBMITTED") == 0;
    s_part_release(&p);
    if (!submitted)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "%s has not submitted a response to survey %s: there is nothing "
                                 "to reopen",
                                 t.id, sv.id);
    stats_questionnaire_row q;
    stats_questions qs;
    if ((rc = s_version(cmd, &sv, &q, &qs)) != 0)
        return rc;
    char rid[CCIP_UUID_STRLEN + 1];
    Ccip__Stats__Answer **answers = NULL;
    size_t n = 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    rc = s_submitted_answers(cmd, a, &sv, &qs, t.id, 1, rid, &answers, &n);
    if (rc == 0 && !rid[0])
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "%s's response is missing", t.id);
    if (rc == 0 && s_pack_draft(answers, n, &buf, &len) < 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    const char *r1[] = {rid};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_DELETE_ANSWERS, 1, r1, NULL, NULL, NULL);
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_DELETE_RESPONSE, 1, r1, NULL, NULL, NULL);
    if (rc == 0) {
        const char *up[] = {sv.id, t.id, (const char *)buf, rq->reason};
        int lengths[] = {0, 0, (int)len, 0}, formats[] = {0, 0, 1, 0};
        rc = ccip_db_exec(cmd->db, &S_REOPEN, 4, up, lengths, formats, NULL);
    }
    const char *hp[] = {sv.id, t.id, "REOPENED", cmd->actor.id, cmd->actor.role, rq->reason};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_HISTORY, 6, hp, NULL, NULL, NULL);
    if (rc == 0)
        rc = s_emit(cmd, &sv, &t, "stats.survey.response.reopened.v1",
                    CCIP__STATS__RESPONSE_STATUS__RESPONSE_DRAFT, rq->reason);
    if (rc == 0)
        rc = s_reply(cmd, a, &sv, t.id, CCIP__STATS__RESPONSE_STATUS__RESPONSE_DRAFT, "", answers,
                     n);
    free(buf);
    stats_questions_release(&qs);
    stats_questionnaire_row_release(&q);
    return rc;
}
