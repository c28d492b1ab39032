#include "stats_questionnaires.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_arena.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "stats_answers.h"

#define LIST_MAX    1000    /* questionnaires one list reply holds */
#define CONTENT_MAX 1048576 /* bytes a stored version may decode from */

// clang-format off
#define VERSION_COLUMNS                                                                            \
    "questionnaire_id, version, status, content, note, saved_by, " CCIP_SQL_US("saved_at") ", "  \
    "coalesce(published_by, ''), coalesce(" CCIP_SQL_US("published_at") ", 0), questions"
// clang-format on

/* $2: the version, 0 = the latest published, -1 = the draft. */
static const ccip_db_stmt S_LOAD = {
    "stats_questionnaire_load",
    "SELECT " VERSION_COLUMNS " FROM questionnaire_version WHERE questionnaire_id = $1::uuid AND "
    "CASE WHEN $2::integer > 0 THEN version = $2::integer "
    "WHEN $2::integer = 0 THEN status = 'PUBLISHED' ELSE status = 'DRAFT' END "
    "ORDER BY version DESC LIMIT 1"};
static const ccip_db_stmt S_PUBLISHED = {
    "stats_questionnaire_published",
    "SELECT version FROM questionnaire_version WHERE questionnaire_id = $1::uuid AND status = "
    "'PUBLISHED' ORDER BY version"};
static const ccip_db_stmt S_EXISTS = {"stats_questionnaire_exists",
                                      "SELECT 1 FROM questionnaire WHERE id = $1::uuid FOR UPDATE"};
static const ccip_db_stmt S_CREATE = {
    "stats_questionnaire_create",
    "INSERT INTO questionnaire (id, created_by) VALUES ($1::uuid, $2)"};
/* A draft replaced, or made as the version after the last one. */
static const ccip_db_stmt S_SAVE = {
    "stats_questionnaire_save",
    "WITH upd AS (UPDATE questionnaire_version SET title = $2, content = $3, questions = "
    "$4::integer, saved_by = $5, saved_at = now() WHERE questionnaire_id = $1::uuid AND status = "
    "'DRAFT' RETURNING version) "
    "INSERT INTO questionnaire_version (questionnaire_id, version, status, title, content, "
    "questions, saved_by) SELECT $1::uuid, coalesce((SELECT max(version) FROM "
    "questionnaire_version WHERE questionnaire_id = $1::uuid), 0) + 1, 'DRAFT', $2, $3, "
    "$4::integer, $5 WHERE NOT EXISTS (SELECT 1 FROM upd)"};
static const ccip_db_stmt S_PUBLISH = {
    "stats_questionnaire_publish",
    "UPDATE questionnaire_version SET status = 'PUBLISHED', note = $2, published_by = $3, "
    "published_at = now() WHERE questionnaire_id = $1::uuid AND status = 'DRAFT' "
    "RETURNING version"};
static const ccip_db_stmt S_LIST = {"stats_questionnaire_list",
                                    "SELECT DISTINCT ON (questionnaire_id) " VERSION_COLUMNS
                                    ", title FROM questionnaire_version "
                                    "ORDER BY questionnaire_id, version DESC LIMIT 1000"};

enum {
    V_ID,
    V_VERSION,
    V_STATUS,
    V_CONTENT,
    V_NOTE,
    V_SAVED_BY,
    V_SAVED_AT,
    V_PUBLISHED_BY,
    V_PUBLISHED_AT,
    V_QUESTIONS
};

/* ---- rows ------------------------------------------------------------------------------------ */

/* Reads row r of res into row, decoding the content unless skip_content.
 * Returns 0, or -1 when the content does not decode (logged). */
static int s_row(const PGresult *res, int r, int skip_content, stats_questionnaire_row *row)
{
    memset(row, 0, sizeof *row);
    snprintf(row->id, sizeof row->id, "%s", PQgetvalue(res, r, V_ID));
    row->version = (int)ccip_db_cell_i64(res, r, V_VERSION);
    snprintf(row->status, sizeof row->status, "%s", PQgetvalue(res, r, V_STATUS));
    snprintf(row->note, sizeof row->note, "%s", PQgetvalue(res, r, V_NOTE));
    snprintf(row->saved_by, sizeof row->saved_by, "%s", PQgetvalue(res, r, V_SAVED_BY));
    row->saved_at_us = ccip_db_cell_i64(res, r, V_SAVED_AT);
    snprintf(row->published_by, sizeof row->published_by, "%s", PQgetvalue(res, r, V_PUBLISHED_BY));
    row->published_at_us = ccip_db_cell_i64(res, r, V_PUBLISHED_AT);
    row->questions = (int)ccip_db_cell_i64(res, r, V_QUESTIONS);
    if (skip_content)
        return 0;
    size_t len = 0;
    unsigned char *raw =
        PQunescapeBytea((const unsigned char *)PQgetvalue(res, r, V_CONTENT), &len);
    char err[200] = "out of memory";
    if (raw)
        row->content = (Ccip__Stats__QuestionnaireContent *)ccip_payload_unpack(
            &ccip__stats__questionnaire_content__descriptor, raw, len, CONTENT_MAX, err,
            sizeof err);
    PQfreemem(raw);
    if (!row->content) {
        ccip_log_error("could not decode a stored questionnaire version", "questionnaire", row->id,
                       "reason", err);
        return -1;
    }
    return 0;
}

int stats_questionnaire_load(ccip_db *db, const char *id, int version, stats_questionnaire_row *row,
                             int *found)
{
    *found = 0;
    memset(row, 0, sizeof *row);
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *p[] = {id, v};
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_LOAD, 2, p, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) == 1) {
        if (s_row(res, 0, 0, row) < 0)
            rc = CCIP_DB_ERROR;
        else
            *found = 1;
    }
    PQclear(res);
    return rc;
}

void stats_questionnaire_row_release(stats_questionnaire_row *row)
{
    if (row->content)
        protobuf_c_message_free_unpacked(&row->content->base, NULL);
    row->content = NULL;
}

int stats_questionnaire_message(ccip_db *db, const stats_questionnaire_row *row, ccip_arena *a,
                                Ccip__Stats__Questionnaire **out)
{
    *out = NULL;
    Ccip__Stats__Questionnaire *m = ccip_arena_alloc(a, sizeof *m);
    if (!m)
        return 0;
    *m = (Ccip__Stats__Questionnaire)CCIP__STATS__QUESTIONNAIRE__INIT;
    m->id = ccip_arena_strdup(a, row->id);
    m->version = (uint32_t)row->version;
    m->status = strcmp(row->status, STATS_Q_PUBLISHED) == 0
                    ? CCIP__STATS__QUESTIONNAIRE_STATUS__QUESTIONNAIRE_PUBLISHED
                    : CCIP__STATS__QUESTIONNAIRE_STATUS__QUESTIONNAIRE_DRAFT;
    m->content = row->content;
    m->note = ccip_arena_strdup(a, row->note);
    m->saved_by = ccip_arena_strdup(a, row->saved_by);
    m->saved_at_us = row->saved_at_us;
    m->published_by = ccip_arena_strdup(a, row->published_by);
    m->published_at_us = row->published_at_us;
    m->questions = (uint32_t)row->questions;
    if (db) {
        PGresult *res = NULL;
        const char *p[] = {row->id};
        int rc = ccip_db_exec(db, &S_PUBLISHED, 1, p, NULL, NULL, &res);
        if (rc != CCIP_DB_OK)
            return rc;
        int n = PQntuples(res);
        m->published_versions = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof(uint32_t));
        for (int r = 0; m->published_versions && r < n; r++)
            m->published_versions[m->n_published_versions++] =
                (uint32_t)ccip_db_cell_i64(res, r, 0);
        PQclear(res);
    }
    if (!ccip_arena_failed(a))
        *out = m;
    return 0;
}

/* Replies with version `version` (-1: the draft) of questionnaire id. */
static int s_reply(ccip_command *cmd, ccip_arena *a, const char *id, int version)
{
    stats_questionnaire_row row;
    int found;
    int rc = stats_questionnaire_load(cmd->db, id, version, &row, &found);
    if (rc != 0)
        return rc;
    if (!found)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "questionnaire %s vanished while it was written", id);
    Ccip__Stats__QuestionnaireReply reply = CCIP__STATS__QUESTIONNAIRE_REPLY__INIT;
    rc = stats_questionnaire_message(cmd->db, &row, a, &reply.questionnaire);
    if (rc == 0 && !reply.questionnaire)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if (rc == 0)
        rc = stats_reply_built(cmd, a, &reply.base, "out of memory");
    stats_questionnaire_row_release(&row);
    return rc;
}

/* ---- stats.questionnaire.save.v1 ------------------------------------------------------------- */

int stats_questionnaire_save_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__SaveQuestionnaireRequest *rq = request;
    char err[CCIP_COMMAND_ERROR_MAX];
    if (stats_questionnaire_check(rq->content, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s; nothing was saved", err);
    char id[CCIP_UUID_STRLEN + 1];
    int rc = 0;
    if (rq->questionnaire_id[0]) {
        int found;
        if ((rc = ccip_command_check_uuid(cmd, "questionnaire_id", rq->questionnaire_id)) != 0)
            return rc;
        snprintf(id, sizeof id, "%s", rq->questionnaire_id);
        const char *p[] = {id};
        if ((rc = stats_db_found(cmd->db, &S_EXISTS, 1, p, &found)) != 0)
            return rc;
        if (!found)
            return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                     "there is no questionnaire %s; leave `questionnaire_id` "
                                     "empty to make a new one",
                                     id);
    } else {
        if ((rc = ccip_command_new_id(cmd, id)) != 0)
            return rc;
        const char *p[] = {id, cmd->actor.id};
        if ((rc = ccip_db_exec(cmd->db, &S_CREATE, 2, p, NULL, NULL, NULL)) != 0)
            return rc;
    }
    size_t len = protobuf_c_message_get_packed_size(&rq->content->base);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    protobuf_c_message_pack(&rq->content->base, buf);
    size_t questions = 0;
    for (size_t s = 0; s < rq->content->n_sections; s++)
        questions += rq->content->sections[s]->n_questions;
    char nq[16];
    snprintf(nq, sizeof nq, "%zu", questions);
    const char *p[] = {id, rq->content->title, (const char *)buf, nq, cmd->actor.id};
    int lengths[] = {0, 0, (int)len, 0, 0}, formats[] = {0, 0, 1, 0, 0};
    rc = ccip_db_exec(cmd->db, &S_SAVE, 5, p, lengths, formats, NULL);
    free(buf);
    return rc ? rc : s_reply(cmd, a, id, -1);
}

/* ---- stats.questionnaire.publish.v1 ---------------------------------------------------------- */

int stats_questionnaire_publish_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__PublishQuestionnaireRequest *rq = request;
    int rc = ccip_command_check_uuid(cmd, "questionnaire_id", rq->questionnaire_id);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "note", rq->note, 0, STATS_REASON_MAX,
                                     CCIP_TEXT_MULTILINE);
    if (rc != 0)
        return rc;
    stats_questionnaire_row draft;
    int found;
    if ((rc = stats_questionnaire_load(cmd->db, rq->questionnaire_id, -1, &draft, &found)) != 0)
        return rc;
    stats_questionnaire_row_release(&draft);
    if (!found)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "questionnaire %s has no draft to publish: save one first "
                                 "(stats.questionnaire.save.v1)",
                                 rq->questionnaire_id);
    if (draft.version > 1 && !rq->note[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "questionnaire %s version %d changes a published version: field "
                                 "`note` must say what changed",
                                 rq->questionnaire_id, draft.version);
    const char *p[] = {rq->questionnaire_id, rq->note, cmd->actor.id};
    if ((rc = stats_db_found(cmd->db, &S_PUBLISH, 3, p, &found)) != 0)
        return rc;
    if (!found)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "questionnaire %s's draft was published meanwhile; read it again",
                                 rq->questionnaire_id);
    Ccip__Stats__QuestionnairePublished ev = CCIP__STATS__QUESTIONNAIRE_PUBLISHED__INIT;
    ev.questionnaire_id = (char *)rq->questionnaire_id;
    ev.version = (uint32_t)draft.version;
    ev.note = (char *)rq->note;
    char agg[64];
    snprintf(agg, sizeof agg, "%s/%d", rq->questionnaire_id, draft.version);
    stats_questionnaire_row row;
    if ((rc = stats_questionnaire_load(cmd->db, rq->questionnaire_id, draft.version, &row,
                                       &found)) != 0)
        return rc;
    ev.title = row.content ? row.content->title : "";
    rc = ccip_command_emit(cmd, "stats.questionnaire.published.v1", "questionnaire", agg, &ev.base);
    stats_questionnaire_row_release(&row);
    return rc ? rc : s_reply(cmd, a, rq->questionnaire_id, draft.version);
}

/* ---- reading ------------------------------------------------------------------------------------
 */

int stats_questionnaire_get_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__GetQuestionnaireRequest *rq = request;
    int rc = ccip_command_check_uuid(cmd, "questionnaire_id", rq->questionnaire_id);
    if (rc != 0)
        return rc;
    if (rq->draft && strcmp(cmd->actor.role, "analyst") != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "drafts of questionnaires are the analysts' work; ask for a "
                                 "published version (field `draft` false)");
    if (rq->version > 100000)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `version` must be a version number, got %u", rq->version);
    int version = rq->draft ? -1 : (int)rq->version;
    stats_questionnaire_row row;
    int found;
    if ((rc = stats_questionnaire_load(cmd->db, rq->questionnaire_id, version, &row, &found)) != 0)
        return rc;
    if (!found) {
        if (rq->draft)
            return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "questionnaire %s has no draft",
                                     rq->questionnaire_id);
        if (rq->version)
            return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                     "questionnaire %s has no version %u", rq->questionnaire_id,
                                     rq->version);
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "questionnaire %s has no published version", rq->questionnaire_id);
    }
    /* A draft is read only through `draft`: others see published versions. */
    if (strcmp(row.status, STATS_Q_DRAFT) == 0 && strcmp(cmd->actor.role, "analyst") != 0) {
        stats_questionnaire_row_release(&row);
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "questionnaire %s has no published version %u",
                                 rq->questionnaire_id, rq->version);
    }
    Ccip__Stats__QuestionnaireReply reply = CCIP__STATS__QUESTIONNAIRE_REPLY__INIT;
    rc = stats_questionnaire_message(cmd->db, &row, a, &reply.questionnaire);
    if (rc == 0 && !reply.questionnaire)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if (rc == 0)
        rc = stats_reply_built(cmd, a, &reply.base, "out of memory");
    stats_questionnaire_row_release(&row);
    return rc;
}

int stats_questionnaire_list_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)request;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_LIST, 0, NULL, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    Ccip__Stats__ListQuestionnairesReply reply = CCIP__STATS__LIST_QUESTIONNAIRES_REPLY__INIT;
    int n = PQntuples(res);
    reply.questionnaires = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof *reply.questionnaires);
    for (int r = 0; reply.questionnaires && r < n && r < LIST_MAX; r++) {
        stats_questionnaire_row row;
        s_row(res, r, 1, &row);
        /* The title without the rest of the content: a list stays small. */
        Ccip__Stats__QuestionnaireContent *c = ccip_arena_alloc(a, sizeof *c);
        if (!c)
            break;
        *c = (Ccip__Stats__QuestionnaireContent)CCIP__STATS__QUESTIONNAIRE_CONTENT__INIT;
        c->title = ccip_arena_strdup(a, PQgetvalue(res, r, V_QUESTIONS + 1));
        row.content = c;
        Ccip__Stats__Questionnaire *m = NULL;
        if ((rc = stats_questionnaire_message(NULL, &row, a, &m)) != 0 || !m)
            break;
        reply.questionnaires[reply.n_questionnaires++] = m;
    }
    PQclear(res);
    return rc ? rc : stats_reply_built(cmd, a, &reply.base, "out of memory listing questionnaires");
}
