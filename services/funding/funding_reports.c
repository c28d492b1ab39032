#include "funding_reports.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PERIOD_MAX    100
#define ITEM_MAX      200
#define LINES_MAX     100
#define DOCUMENTS_MAX 50
#define SHA256_HEX    64

#define REPORT_COLUMNS                                                                             \
    "id, award_id, kind, period, progress, status, submissions, (extract(epoch "                   \
    "FROM submitted_at) * 1000000)::bigint, coalesce(submitted_by, ''), "                          \
    "(extract(epoch FROM reviewed_at) * 1000000)::bigint, coalesce(reviewed_by, "                  \
    "''), review_note, (extract(epoch FROM updated_at) * 1000000)::bigint"

static const ccip_db_stmt S_REPORTS = {
    "funding_reports",
    "SELECT " REPORT_COLUMNS " FROM use_report WHERE award_id = $1::uuid ORDER BY created_at, id"};

static const ccip_db_stmt S_REPORT_GET = {
    "funding_report_get", "SELECT " REPORT_COLUMNS " FROM use_report WHERE id = $1::uuid"};

static const ccip_db_stmt S_REPORT_LOCK = {
    "funding_report_lock",
    "SELECT r.award_id, r.status, w.grantee_uscc, w.application_id FROM "
    "use_report r JOIN award w ON w.id = r.award_id WHERE r.id = $1::uuid FOR "
    "UPDATE OF r"};

static const ccip_db_stmt S_LINES = {
    "funding_report_lines",
    "SELECT item, spent_fen FROM use_report_line WHERE report_id = $1::uuid "
    "ORDER BY n"};

static const ccip_db_stmt S_DOCUMENTS = {
    "funding_report_documents",
    "SELECT name, sha256 FROM use_report_document WHERE report_id = $1::uuid "
    "ORDER BY n"};

static const ccip_db_stmt S_AWARD = {
    "funding_report_award", "SELECT grantee_uscc, status FROM award WHERE id = $1::uuid FOR SHARE"};

static const ccip_db_stmt S_INSERT = {
    "funding_report_insert",
    "INSERT INTO use_report (id, award_id, kind, period, progress, status, "
    "created_by) VALUES ($1::uuid, $2::uuid, $3, $4, $5, 'REPORT_DRAFT', $6)"};

static const ccip_db_stmt S_UPDATE = {
    "funding_report_update",
    "UPDATE use_report SET kind = $2, period = $3, progress = $4, updated_at = "
    "now() WHERE id = $1::uuid"};

static const ccip_db_stmt S_CLEAR_LINES = {
    "funding_report_clear_lines", "DELETE FROM use_report_line WHERE report_id = $1::uuid"};

static const ccip_db_stmt S_CLEAR_DOCUMENTS = {
    "funding_report_clear_documents", "DELETE FROM use_report_document WHERE report_id = $1::uuid"};

static const ccip_db_stmt S_LINE = {
    "funding_report_line", "INSERT INTO use_report_line (report_id, n, item, spent_fen) VALUES "
                           "($1::uuid, $2::integer, $3, $4::bigint)"};

static const ccip_db_stmt S_DOCUMENT = {
    "funding_report_document",
    "INSERT INTO use_report_document (report_id, n, name, sha256) VALUES "
    "($1::uuid, $2::integer, $3, $4)"};

static const ccip_db_stmt S_SUBMIT = {
    "funding_report_submit",
    "UPDATE use_report SET status = 'REPORT_SUBMITTED', submissions = "
    "submissions + 1, submitted_at = now(), submitted_by = $2, updated_at = "
    "now() WHERE id = $1::uuid"};

static const ccip_db_stmt S_REVIEW = {
    "funding_report_review",
    "UPDATE use_report SET status = $2, reviewed_at = now(), reviewed_by = $3, "
    "review_note = $4, updated_at = now() WHERE id = $1::uuid"};

static Ccip__Funding__UseReport *s_row(ccip_db *db, const PGresult *res, int r, ccip_arena *a,
                                       int *rc)
{
    *rc = 0;
    Ccip__Funding__UseReport *u =
        ccip_row_new(a, CCIP_MSG(funding, use_report), res, r, 0,
                     "id, award_id, kind, period, progress, status, submissions, submitted_at_us, "
                     "submitted_by, reviewed_at_us, reviewed_by, review_note, updated_at_us");
    if (!u)
        return NULL;
    const char *id = u->id;
    PGresult *sub = NULL;
    if ((*rc = ccip_db_exec(db, &S_LINES, 1, &id, NULL, NULL, &sub)) != CCIP_DB_OK)
        return NULL;
    int rows = PQntuples(sub);
    u->lines = ccip_arena_alloc(a, (size_t)rows * sizeof *u->lines + 1);
    for (int i = 0; u->lines && i < rows; i++) {
        Ccip__Funding__SpendLine *l = ccip_arena_alloc(a, sizeof *l);
        if (!l)
            break;
        *l = (Ccip__Funding__SpendLine)CCIP__FUNDING__SPEND_LINE__INIT;
        l->item = ccip_arena_strdup(a, PQgetvalue(sub, i, 0));
        l->spent_fen = ccip_db_cell_i64(sub, i, 1);
        u->spent_fen += l->spent_fen;
        u->lines[u->n_lines++] = l;
    }
    PQclear(sub);
    if ((*rc = ccip_db_exec(db, &S_DOCUMENTS, 1, &id, NULL, NULL, &sub)) != CCIP_DB_OK)
        return NULL;
    rows = PQntuples(sub);
    u->documents = ccip_arena_alloc(a, (size_t)rows * sizeof *u->documents + 1);
    for (int i = 0; u->documents && i < rows; i++) {
        Ccip__Funding__ReportDocument *d = ccip_arena_alloc(a, sizeof *d);
        if (!d)
            break;
        *d = (Ccip__Funding__ReportDocument)CCIP__FUNDING__REPORT_DOCUMENT__INIT;
        d->name = ccip_arena_strdup(a, PQgetvalue(sub, i, 0));
        d->sha256 = ccip_arena_strdup(a, PQgetvalue(sub, i, 1));
        u->documents[u->n_documents++] = d;
    }
    PQclear(sub);
    return u;
}

int funding_reports_load(ccip_db *db, const char *award_id, ccip_arena *a,
                         Ccip__Funding__UseReport ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_REPORTS, 1, &award_id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    Ccip__Funding__UseReport **list = ccip_arena_alloc(a, (size_t)rows * sizeof *list + 1);
    for (int r = 0; rc == 0 && list && r < rows; r++) {
        Ccip__Funding__UseReport *u = s_row(db, res, r, a, &rc);
        if (u)
            list[(*n)++] = u;
    }
    PQclear(res);
    *out = list;
    return rc;
}

/* Replies with report `id`; emits `type` about application `app` when type
 * is not NULL. */
static int s_reply(ccip_command *cmd, const char *id, const char *type, const char *app)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_REPORT_GET, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    ccip_arena *a = ccip_arena_new();
    Ccip__Funding__UseReport *u = PQntuples(res) == 1 ? s_row(cmd->db, res, 0, a, &rc) : NULL;
    PQclear(res);
    if (rc == 0 && (!u || ccip_arena_failed(a)))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not read report %s back", id);
    if (rc == 0 && type) {
        Ccip__Funding__UseReportChanged ev = CCIP__FUNDING__USE_REPORT_CHANGED__INIT;
        ev.report = u;
        ev.application_id = (char *)app;
        rc = ccip_command_emit(cmd, type, "application", app, &ev.base);
    }
    if (rc == 0) {
        Ccip__Funding__UseReportReply reply = CCIP__FUNDING__USE_REPORT_REPLY__INIT;
        reply.report = u;
        rc = ccip_command_reply(cmd, &reply.base);
    }
    ccip_arena_destroy(&a);
    return rc;
}

static int s_check_content(ccip_command *cmd, const Ccip__Funding__SaveReportRequest *rq)
{
    int rc;
    if (rq->kind != CCIP__FUNDING__REPORT_KIND__INTERIM &&
        rq->kind != CCIP__FUNDING__REPORT_KIND__FINAL)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `kind` must be INTERIM or FINAL, got %d", (int)rq->kind);
    if ((rc = ccip_command_check_text(cmd, "period", rq->period, 1, PERIOD_MAX, 0)) != 0 ||
        (rc = ccip_command_check_text(cmd, "progress", rq->progress, 1, FUNDING_TEXT_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0)
        return rc;
    if (rq->n_lines < 1 || rq->n_lines > LINES_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `lines` must have 1 to %d budget lines, got %zu", LINES_MAX,
                                 rq->n_lines);
    char field[48];
    for (size_t i = 0; i < rq->n_lines; i++) {
        snprintf(field, sizeof field, "lines[%zu].item", i);
        if ((rc = ccip_command_check_text(cmd, field, rq->lines[i]->item, 1, ITEM_MAX, 0)) != 0)
            return rc;
        snprintf(field, sizeof field, "lines[%zu].spent_fen", i);
        if ((rc = funding_check_amount(cmd, field, rq->lines[i]->spent_fen, 1)) != 0)
            return rc;
    }
    if (rq->n_documents > DOCUMENTS_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `documents` may have at most %d entries, got %zu",
                                 DOCUMENTS_MAX, rq->n_documents);
    for (size_t i = 0; i < rq->n_documents; i++) {
        snprintf(field, sizeof field, "documents[%zu].name", i);
        if ((rc = ccip_command_check_text(cmd, field, rq->documents[i]->name, 1, ITEM_MAX, 0)) != 0)
            return rc;
        const char *h = rq->documents[i]->sha256;
        size_t len = strlen(h), ok = len == SHA256_HEX;
        for (size_t k = 0; ok && k < len; k++)
            ok = (h[k] >= '0' && h[k] <= '9') || (h[k] >= 'a' && h[k] <= 'f');
        if (!ok)
            return ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "field `documents[%zu].sha256` must be the document's SHA-256 as 64 "
                "lower-case hex characters, got %zu characters",
                i, len);
    }
    return 0;
}

/* Checks that the caller (a grantee) may report on award_id: its own, and
 * confirmed. */
static int s_check_award(ccip_command *cmd, const char *award_id)
{
    PGresult *res = NULL;
    int rc = ccip_command_row(cmd, &S_AWARD, 1, &award_id, &res, "there is no award %s", award_id);
    if (rc != 0)
        return rc;
    char what[64], status[32];
    snprintf(what, sizeof what, "award %s", award_id);
    snprintf(status, sizeof status, "%s", PQgetvalue(res, 0, 1));
    rc = funding_check_grantee(cmd, PQgetvalue(res, 0, 0), what);
    PQclear(res);
    if (rc == 0 && strcmp(status, "AWARD_COMMITTED") != 0 &&
        strcmp(status, "AWARD_SUSPENDED") != 0 && strcmp(status, "AWARD_COMPLETED") != 0)
        rc =
            ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                              "award %s is %s: use-of-funds reports are filed for confirmed awards",
                              award_id, status);
    return rc;
}

int funding_report_save(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__SaveReportRequest *rq = request;
    PGresult *res = NULL;
    int rc;
    int fresh = !rq->report_id[0];
    char id[CCIP_UUID_STRLEN + 1];
    if ((rc = ccip_command_check_uuid(cmd, "award_id", rq->award_id)) != 0 ||
        (!fresh && (rc = ccip_command_check_uuid(cmd, "report_id", rq->report_id)) != 0) ||
        (rc = s_check_content(cmd, rq)) != 0 || (rc = s_check_award(cmd, rq->award_id)) != 0)
        goto out;
    const char *kind = ccip_enum_name(&ccip__funding__report_kind__descriptor, (int)rq->kind);
    if (fresh) {
        ccip_uuid_v7(id);
        const char *v[] = {id, rq->award_id, kind, rq->period, rq->progress, cmd->actor.id};
        if ((rc = ccip_db_exec(cmd->db, &S_INSERT, 6, v, NULL, NULL, NULL)) != CCIP_DB_OK)
            goto out;
    } else {
        snprintf(id, sizeof id, "%s", rq->report_id);
        const char *rid = id;
        if ((rc = ccip_db_exec(cmd->db, &S_REPORT_LOCK, 1, &rid, NULL, NULL, &res)) != CCIP_DB_OK)
            goto out;
        if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), rq->award_id) != 0) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "award %s has no report %s",
                                   rq->award_id, id);
            goto out;
        }
        const char *status = PQgetvalue(res, 0, 1);
        if (strcmp(status, "REPORT_DRAFT") != 0 && strcmp(status, "REPORT_RETURNED") != 0) {
            rc = ccip_command_fail(
                cmd, CCIP__STATUS__FAILED_PRECONDITION,
                "report %s is %s: a submitted report is locked until staff return it, and an "
                "accepted one for good",
                id, status);
            goto out;
        }
        const char *v[] = {id, kind, rq->period, rq->progress};
        if ((rc = ccip_db_exec(cmd->db, &S_UPDATE, 4, v, NULL, NULL, NULL)) != CCIP_DB_OK ||
            (rc = ccip_db_exec(cmd->db, &S_CLEAR_LINES, 1, &rid, NULL, NULL, NULL)) != CCIP_DB_OK ||
            (rc = ccip_db_exec(cmd->db, &S_CLEAR_DOCUMENTS, 1, &rid, NULL, NULL, NULL)) !=
                CCIP_DB_OK)
            goto out;
    }
    for (size_t i = 0; i < rq->n_lines; i++) {
        char n[24], spent[24];
        ccip_i64_text((int64_t)i + 1, n);
        ccip_i64_text(rq->lines[i]->spent_fen, spent);
        const char *v[] = {id, n, rq->lines[i]->item, spent};
        if ((rc = ccip_db_exec(cmd->db, &S_LINE, 4, v, NULL, NULL, NULL)) != CCIP_DB_OK)
            goto out;
    }
    for (size_t i = 0; i < rq->n_documents; i++) {
        char n[24];
        ccip_i64_text((int64_t)i + 1, n);
        const char *v[] = {id, n, rq->documents[i]->name, rq->documents[i]->sha256};
        if ((rc = ccip_db_exec(cmd->db, &S_DOCUMENT, 4, v, NULL, NULL, NULL)) != CCIP_DB_OK)
            goto out;
    }
    rc = s_reply(cmd, id, NULL, NULL);
out:
    PQclear(res);
    return rc;
}

/* Submit, accept and return: one request, one handler, the transition
 * named by the command's type. */
typedef enum { R_SUBMIT, R_ACCEPT, R_RETURN } s_verb;

/* The type of each transition's command, in the order of s_verb. */
static const char *const S_VERB_TYPES[] = {
    "funding.report.submit.v1",
    "funding.report.accept.v1",
    "funding.report.return.v1",
    NULL,
};

int funding_report_act(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__ReportActionRequest *rq = request;
    int k = ccip_command_type_index(cmd, S_VERB_TYPES);
    if (k < 0)
        return CCIP_REPLIED;
    s_verb verb = (s_verb)k;
    PGresult *res = NULL;
    int rc;
    if ((rc = ccip_command_check_uuid(cmd, "report_id", rq->report_id)) != 0 ||
        (rc = ccip_command_check_text(cmd, "note", rq->note, verb == R_RETURN ? 1 : 0,
                                      FUNDING_REASON_MAX, CCIP_TEXT_MULTILINE)) != 0)
        goto out;
    const char *rid = rq->report_id;
    if ((rc = ccip_db_exec(cmd->db, &S_REPORT_LOCK, 1, &rid, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    if (PQntuples(res) != 1) {
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__NOT_FOUND,
            "there is no report %s; an award's reports are listed by funding.award.get.v1",
            rq->report_id);
        goto out;
    }
    char what[64], status[32], app[CCIP_UUID_STRLEN + 1];
    snprintf(what, sizeof what, "report %s", rq->report_id);
    snprintf(status, sizeof status, "%s", PQgetvalue(res, 0, 1));
    snprintf(app, sizeof app, "%s", PQgetvalue(res, 0, 3));
    if ((rc = funding_check_grantee(cmd, PQgetvalue(res, 0, 2), what)) != 0)
        goto out;
    const char *type;
    if (verb == R_SUBMIT) {
        if (strcmp(status, "REPORT_DRAFT") != 0 && strcmp(status, "REPORT_RETURNED") != 0) {
            rc = ccip_command_fail(
                cmd, CCIP__STATUS__FAILED_PRECONDITION,
                "report %s is %s; only a draft or returned report can be submitted", rq->report_id,
                status);
            goto out;
        }
        const char *v[] = {rq->report_id, cmd->actor.id};
        rc = ccip_db_exec(cmd->db, &S_SUBMIT, 2, v, NULL, NULL, NULL);
        type = "funding.report.submitted.v1";
    } else {
        if (strcmp(status, "REPORT_SUBMITTED") != 0) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                   "report %s is %s; only a submitted report can be %s",
                                   rq->report_id, status,
                                   verb == R_ACCEPT ? "accepted" : "returned");
            goto out;
        }
        const char *v[] = {rq->report_id, verb == R_ACCEPT ? "REPORT_ACCEPTED" : "REPORT_RETURNED",
                           cmd->actor.id, rq->note};
        rc = ccip_db_exec(cmd->db, &S_REVIEW, 4, v, NULL, NULL, NULL);
        type = verb == R_ACCEPT ? "funding.report.accepted.v1" : "funding.report.returned.v1";
    }
    if (rc != CCIP_DB_OK)
        goto out;
    rc = s_reply(cmd, rq->report_id, type, app);
out:
    PQclear(res);
    return rc;
}
