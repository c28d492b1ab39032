#include "evaluation_sheets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_arena.h"
#include "evaluation_registers.h"

#define CODE_MAX_LEN    32
#define TITLE_MAX_CHARS 200

static const ccip_db_stmt S_SHEET = {
    "evaluation_sheet_get",
    "SELECT version, pass_threshold_centi, panel_size, array_to_string(fields, ','), "
    "(extract(epoch FROM published_at) * 1000000)::bigint"
    ", published_by FROM score_sheet WHERE kind = $1 "
    "AND ($2::integer = 0 OR version = $2::integer) ORDER BY version DESC "
    "LIMIT 1"};
static const ccip_db_stmt S_CRITERIA = {
    "evaluation_sheet_criteria",
    "SELECT code, title, weight, max_score FROM sheet_criterion WHERE kind = $1 "
    "AND version = $2::integer ORDER BY position"};
static const ccip_db_stmt S_NEXT = {
    "evaluation_sheet_next",
    "SELECT coalesce(max(version), 0) + 1 FROM score_sheet WHERE kind = $1"};
static const ccip_db_stmt S_INSERT = {
    "evaluation_sheet_insert",
    "INSERT INTO score_sheet (kind, version, pass_threshold_centi, panel_size, fields, "
    "published_by) VALUES ($1, $2::integer, $3::integer, $4::integer, string_to_array($5, ','), "
    "$6)"};
static const ccip_db_stmt S_INSERT_CRITERION = {
    "evaluation_sheet_insert_criterion",
    "INSERT INTO sheet_criterion (kind, version, position, code, title, weight, max_score) "
    "VALUES ($1, $2::integer, $3::integer, $4, $5, $6::integer, $7::integer)"};

int evaluation_sheet_fetch(ccip_db *db, const char *kind, int version, evaluation_sheet *out,
                           int *found)
{
    memset(out, 0, sizeof *out);
    *found = 0;
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *p[] = {kind, v};
    int rc = ccip_db_exec(db, &S_SHEET, 2, p, NULL, NULL, &out->sheet_res);
    if (rc != 0 || PQntuples(out->sheet_res) != 1)
        return rc;
    out->version = (int)ccip_db_cell_i64(out->sheet_res, 0, 0);
    out->pass_threshold_centi = (int)ccip_db_cell_i64(out->sheet_res, 0, 1);
    out->panel_size = (int)ccip_db_cell_i64(out->sheet_res, 0, 2);
    out->fields = PQgetvalue(out->sheet_res, 0, 3);
    snprintf(v, sizeof v, "%d", out->version);
    rc = ccip_db_exec(db, &S_CRITERIA, 2, p, NULL, NULL, &out->criteria_res);
    if (rc != 0)
        return rc;
    for (int i = 0; i < PQntuples(out->criteria_res) && i < EVALUATION_CRITERIA_MAX; i++) {
        out->criteria[i].code = PQgetvalue(out->criteria_res, i, 0);
        out->criteria[i].weight = (int)ccip_db_cell_i64(out->criteria_res, i, 2);
        out->criteria[i].max_score = (int)ccip_db_cell_i64(out->criteria_res, i, 3);
        out->ncriteria++;
    }
    *found = 1;
    return 0;
}

void evaluation_sheet_clear(evaluation_sheet *s)
{
    PQclear(s->sheet_res);
    PQclear(s->criteria_res);
    s->sheet_res = s->criteria_res = NULL;
}

/* Replies with the sheet of kind/version, or NOT_FOUND. */
static int s_reply(ccip_command *cmd, const char *kind, int version)
{
    evaluation_sheet sh;
    int found;
    int rc = evaluation_sheet_fetch(cmd->db, kind, version, &sh, &found);
    if (rc == 0 && !found) {
        if (version)
            rc = ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                   "there is no score sheet version %d for %s", version, kind);
        else
            rc = ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                   "no score sheet has been published for %s yet; publish one "
                                   "with evaluation.sheet.publish.v1",
                                   kind);
    }
    if (rc == 0) {
        ccip_arena *a = ccip_arena_new();
        Ccip__Evaluation__ScoreSheet *s = ccip_arena_alloc(a, sizeof *s);
        Ccip__Evaluation__SheetReply reply = CCIP__EVALUATION__SHEET_REPLY__INIT;
        if (s) {
            *s = (Ccip__Evaluation__ScoreSheet)CCIP__EVALUATION__SCORE_SHEET__INIT;
            s->kind =
                (Ccip__Intake__CallKind)ccip_enum_value(&ccip__intake__call_kind__descriptor, kind);
            s->version = sh.version;
            s->pass_threshold_centi = sh.pass_threshold_centi;
            s->panel_size = sh.panel_size;
            s->fields = ccip_arena_split(a, sh.fields, &s->n_fields);
            s->published_at_us = ccip_db_cell_i64(sh.sheet_res, 0, 4);
            s->published_by = ccip_arena_strdup(a, PQgetvalue(sh.sheet_res, 0, 5));
            int n = PQntuples(sh.criteria_res);
            s->criteria = ccip_arena_alloc(a, (size_t)n * sizeof *s->criteria + 1);
            for (int i = 0; s->criteria && i < n; i++) {
                Ccip__Evaluation__Criterion *c = ccip_arena_alloc(a, sizeof *c);
                if (!c)
                    break;
                *c = (Ccip__Evaluation__Criterion)CCIP__EVALUATION__CRITERION__INIT;
                c->code = ccip_arena_strdup(a, PQgetvalue(sh.criteria_res, i, 0));
                c->title = ccip_arena_strdup(a, PQgetvalue(sh.criteria_res, i, 1));
                c->weight = (int32_t)ccip_db_cell_i64(sh.criteria_res, i, 2);
                c->max_score = (int32_t)ccip_db_cell_i64(sh.criteria_res, i, 3);
                s->criteria[s->n_criteria++] = c;
            }
        }
        reply.sheet = s;
        rc = ccip_command_reply_built(cmd, a, &reply.base);
        ccip_arena_destroy(&a);
    }
    evaluation_sheet_clear(&sh);
    return rc;
}

/* The kind of a request, as stored. Returns NULL after INVALID_ARGUMENT. */
static const char *s_kind(ccip_command *cmd, int kind)
{
    const char *name = kind ? ccip_enum_name(&ccip__intake__call_kind__descriptor, kind) : NULL;
    if (!name)
        ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                          "field `kind` must be CLUSTER_IDENTIFICATION, "
                          "TALENT_BASE_IDENTIFICATION or SPECIAL_FUND_PROJECT, got %d",
                          kind);
    return name;
}

/* Checks the criteria. Returns 0 or CCIP_REPLIED. */
static int s_check_criteria(ccip_command *cmd, Ccip__Evaluation__Criterion **c, size_t n)
{
    char field[64], err[256];
    if (n < 1 || n > EVALUATION_CRITERIA_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `criteria` must hold 1 to %d criteria, got %zu",
                                 EVALUATION_CRITERIA_MAX, n);
    for (size_t i = 0; i < n; i++) {
        err[0] = '\0';
        snprintf(field, sizeof field, "field `criteria[%zu].code`", i);
        if (evaluation_field_check(field, c[i]->code, err, sizeof err) < 0 ||
            strlen(c[i]->code) > CODE_MAX_LEN)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "%s (codes are at most %d characters of a-z, 0-9, '_', '.', "
                                     "'-')",
                                     err[0] ? err : field, CODE_MAX_LEN);
        for (size_t k = 0; k < i; k++)
            if (strcmp(c[k]->code, c[i]->code) == 0)
                return ccip_command_fail(
                    cmd, CCIP__STATUS__INVALID_ARGUMENT,
                    "field `criteria[%zu].code` repeats `%s` of criteria[%zu]; "
                    "codes must be unique",
                    i, c[i]->code, k);
        snprintf(field, sizeof field, "criteria[%zu].title", i);
        int rc = ccip_command_check_text(cmd, field, c[i]->title, 1, TITLE_MAX_CHARS, 0);
        if (rc != 0)
            return rc;
        if (c[i]->weight < 1 || c[i]->weight > EVALUATION_WEIGHT_MAX)
            return ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "field `criteria[%zu].weight` must be between 1 and %d, got %d", i,
                EVALUATION_WEIGHT_MAX, c[i]->weight);
        if (c[i]->max_score < 1 || c[i]->max_score > EVALUATION_MAX_SCORE)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `criteria[%zu].max_score` must be between 1 and %d, "
                                     "got %d",
                                     i, EVALUATION_MAX_SCORE, c[i]->max_score);
    }
    return 0;
}

int evaluation_sheet_publish(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__PublishSheetRequest *rq = request;
    char err[256], field[64], fields[EVALUATION_FIELDS_MAX * 50] = "";
    PGresult *res = NULL;
    int rc = 0;
    int panel = rq->panel_size ? rq->panel_size : EVALUATION_PANEL_DEFAULT;
    const char *kind = s_kind(cmd, (int)rq->kind);
    if (!kind)
        goto out;
    if ((rc = s_check_criteria(cmd, rq->criteria, rq->n_criteria)) != 0)
        goto out;
    if (rq->pass_threshold_centi < 0 || rq->pass_threshold_centi > EVALUATION_SCORE_MAX) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `pass_threshold_centi` must be between 0 and %d (hundredths "
                               "of a point: 7000 = 70.00), got %d",
                               EVALUATION_SCORE_MAX, rq->pass_threshold_centi);
        goto out;
    }
    if (panel < 1 || panel > EVALUATION_PANEL_MAX) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `panel_size` must be between 1 and %d (0 = %d), got %d",
                               EVALUATION_PANEL_MAX, EVALUATION_PANEL_DEFAULT, rq->panel_size);
        goto out;
    }
    if (rq->n_fields < 1 || rq->n_fields > EVALUATION_FIELDS_MAX) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `fields` must name 1 to %d fields of expertise the panel is "
                               "matched on, got %zu",
                               EVALUATION_FIELDS_MAX, rq->n_fields);
        goto out;
    }
    size_t used = 0;
    for (size_t i = 0; i < rq->n_fields; i++) {
        snprintf(field, sizeof field, "field `fields[%zu]`", i);
        if (evaluation_field_check(field, rq->fields[i], err, sizeof err) < 0) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
            goto out;
        }
        used += (size_t)snprintf(fields + used, sizeof fields - used, "%s%s", i ? "," : "",
                                 rq->fields[i]);
    }
    rc = ccip_db_exec(cmd->db, &S_NEXT, 1, &kind, NULL, NULL, &res);
    if (rc != 0)
        goto out;
    char version[16], threshold[16], panel_s[16];
    snprintf(version, sizeof version, "%s", PQgetvalue(res, 0, 0));
    snprintf(threshold, sizeof threshold, "%d", rq->pass_threshold_centi);
    snprintf(panel_s, sizeof panel_s, "%d", panel);
    const char *v[] = {kind, version, threshold, panel_s, fields, cmd->actor.id};
    rc = ccip_db_exec(cmd->db, &S_INSERT, 6, v, NULL, NULL, NULL);
    /* Two publications raced for the same version: run again, the next
     * attempt takes the next number. */
    if (rc == CCIP_DB_ERROR && strcmp(ccip_db_sqlstate(cmd->db), "23505") == 0)
        rc = CCIP_DB_RETRYABLE;
    for (size_t i = 0; rc == 0 && i < rq->n_criteria; i++) {
        char pos[24], weight[16], max[16];
        snprintf(pos, sizeof pos, "%zu", i + 1);
        snprintf(weight, sizeof weight, "%d", rq->criteria[i]->weight);
        snprintf(max, sizeof max, "%d", rq->criteria[i]->max_score);
        const char *cv[] = {kind,   version, pos, rq->criteria[i]->code, rq->criteria[i]->title,
                            weight, max};
        rc = ccip_db_exec(cmd->db, &S_INSERT_CRITERION, 7, cv, NULL, NULL, NULL);
    }
    if (rc == 0)
        rc = s_reply(cmd, kind, atoi(version));
out:
    PQclear(res);
    return rc;
}

int evaluation_sheet_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__GetSheetRequest *rq = request;
    int rc = 0;
    const char *kind = s_kind(cmd, (int)rq->kind);
    if (kind && rq->version < 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `version` must be 0 (the latest) or a version number, got %d",
                               rq->version);
    else if (kind)
        rc = s_reply(cmd, kind, rq->version);
    return rc;
}
