#include "intake_documents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "intake_applications.h"
#include "intake_validate.h"

#define DOC_COLUMNS                                                                                \
    "d.id, d.doc_type, d.name, d.media_type, d.size, encode(d.sha256, 'hex'), "                    \
    "(extract(epoch FROM d.added_at) * 1000000)::bigint, d.added_by"

/* Content in, hash computed once: the blob is stored unless that content is
 * stored already, and the document refers to it. */
static const ccip_db_stmt S_ADD = {
    "intake_document_add",
    "WITH h AS (SELECT sha256($3::bytea) AS sha, length($3::bytea)::bigint AS size), "
    "b AS (INSERT INTO blob (sha256, size, content) SELECT sha, size, $3::bytea FROM h "
    "ON CONFLICT (sha256) DO NOTHING RETURNING sha256) "
    "INSERT INTO document (id, application_id, doc_type, name, media_type, size, sha256, added_by) "
    "SELECT $1::uuid, $2::uuid, $4, $5, $6, h.size, h.sha, $7 FROM h "
    "RETURNING (SELECT count(*) FROM b) = 0"};

static const ccip_db_stmt S_LIST = {"intake_document_list",
                                    "SELECT " DOC_COLUMNS " FROM document d "
                                    "WHERE d.application_id = $1::uuid ORDER BY d.added_at, d.id"};

static const ccip_db_stmt S_ONE = {"intake_document_one",
                                   "SELECT " DOC_COLUMNS " FROM document d "
                                   "WHERE d.id = $1::uuid AND d.application_id = $2::uuid"};

static const ccip_db_stmt S_CONTENT = {
    "intake_document_content",
    "SELECT " DOC_COLUMNS ", b.content FROM document d JOIN blob b ON b.sha256 = d.sha256 "
    "WHERE d.id = $1::uuid AND d.application_id = $2::uuid"};

static const ccip_db_stmt S_REMOVE = {
    "intake_document_remove",
    "DELETE FROM document WHERE id = $1::uuid AND application_id = $2::uuid RETURNING name"};

static const ccip_db_stmt S_COUNT = {
    "intake_document_count", "SELECT count(*) FROM document WHERE application_id = $1::uuid"};

static const ccip_db_stmt S_MISSING = {
    "intake_document_missing",
    "SELECT coalesce(string_agg(u.t, ', ' ORDER BY u.i), ''), count(u.t) "
    "FROM call c, unnest(c.required_documents) WITH ORDINALITY AS u(t, i) "
    "WHERE c.id = $1::uuid AND NOT EXISTS "
    "(SELECT 1 FROM document d WHERE d.application_id = $2::uuid AND d.doc_type = u.t)"};

static Ccip__Intake__Document *s_row(const PGresult *res, int r, ccip_arena *a)
{
    return ccip_row_new(a, CCIP_MSG(intake, document), res, r, 0,
                        "id, doc_type, name, media_type, size, sha256, added_at_us, added_by");
}

int intake_documents_load(ccip_command *cmd, const char *app_id, ccip_arena *a,
                          Ccip__Intake__Document ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_LIST, 1, &app_id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    Ccip__Intake__Document **list = ccip_arena_alloc(a, (size_t)rows * sizeof *list);
    for (int r = 0; list && r < rows; r++) {
        Ccip__Intake__Document *d = s_row(res, r, a);
        if (!d)
            break;
        list[(*n)++] = d;
    }
    PQclear(res);
    if (ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "out of memory reading the documents");
    *out = list;
    return 0;
}

int intake_documents_missing(ccip_command *cmd, const char *app_id, const char *call_id, char *out,
                             size_t len, int *n)
{
    *n = 0;
    out[0] = '\0';
    const char *values[] = {call_id, app_id};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_MISSING, 2, values, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) == 1) {
        snprintf(out, len, "%s", PQgetvalue(res, 0, 0));
        *n = (int)ccip_db_cell_i64(res, 0, 1);
    }
    PQclear(res);
    return 0;
}

int intake_document_add(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__AddDocumentRequest *rq = request;
    char err[512];
    int from_cap = 0;
    int64_t max = intake_max_document_bytes(cmd, &from_cap);
    if (intake_validate_document(rq, max, from_cap, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    intake_app_row row;
    int rc = intake_application_row(cmd, rq->application_id, 1, 0, &row);
    if (rc != 0 || (rc = intake_application_editable(cmd, &row, "given documents")) != 0)
        return rc;
    PGresult *res = NULL;
    const char *app_id = row.id;
    if ((rc = ccip_db_exec(cmd->db, &S_COUNT, 1, &app_id, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    int64_t count = ccip_db_cell_i64(res, 0, 0);
    PQclear(res);
    if (count >= INTAKE_DOCUMENTS_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "application %s already carries %d documents, the most one may; "
                                 "remove one (or combine files) before adding another",
                                 row.id, INTAKE_DOCUMENTS_MAX);
    char id[CCIP_UUID_STRLEN + 1];
    if (ccip_uuid_v7(id) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not make an id");
    const char *values[] = {id,           row.id,   (const char *)rq->content.data,
                            rq->doc_type, rq->name, rq->media_type,
                            cmd->actor.id};
    int lengths[] = {0, 0, (int)rq->content.len, 0, 0, 0, 0};
    int formats[] = {0, 0, 1, 0, 0, 0, 0};
    rc = ccip_db_exec(cmd->db, &S_ADD, 7, values, lengths, formats, &res);
    if (rc == CCIP_DB_ERROR && strcmp(ccip_db_sqlstate(cmd->db), "23505") == 0)
        return ccip_command_fail(cmd, CCIP__STATUS__ALREADY_EXISTS,
                                 "application %s already carries this content (same SHA-256) as a "
                                 "document of type %s; nothing was added",
                                 row.id, rq->doc_type);
    if (rc != CCIP_DB_OK)
        return rc;
    int dedup = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    const char *one[] = {id, row.id};
    if ((rc = ccip_db_exec(cmd->db, &S_ONE, 2, one, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    Ccip__Intake__DocumentReply reply = CCIP__INTAKE__DOCUMENT_REPLY__INIT;
    reply.document = PQntuples(res) == 1 ? s_row(res, 0, a) : NULL;
    reply.deduplicated = dedup;
    PQclear(res);
    if (!reply.document || ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not read back document %s",
                                 id);
    return ccip_command_reply(cmd, &reply.base);
}

int intake_document_remove(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__RemoveDocumentRequest *rq = request;
    char err[256];
    intake_app_row row;
    int rc = intake_application_row(cmd, rq->application_id, 1, 0, &row);
    if (rc != 0 || (rc = intake_application_editable(cmd, &row, "changed")) != 0)
        return rc;
    if (intake_validate_uuid("document_id", rq->document_id, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    const char *values[] = {rq->document_id, row.id};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_REMOVE, 2, values, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    int removed = PQntuples(res) == 1;
    PQclear(res);
    if (!removed)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "application %s has no document %s",
                                 row.id, rq->document_id);
    /* The content stays in blob: other applications may carry it, and it
     * is what was once submitted. */
    return intake_application_reply(cmd, row.id, a);
}

int intake_document_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__GetDocumentRequest *rq = request;
    char err[256];
    intake_app_row row;
    int rc = intake_application_row(cmd, rq->application_id, 0, 1, &row);
    if (rc != 0)
        return rc;
    if (intake_validate_uuid("document_id", rq->document_id, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    const char *values[] = {rq->document_id, row.id};
    PGresult *res = NULL;
    if ((rc = ccip_command_row(cmd, &S_CONTENT, 2, values, &res,
                               "application %s has no document %s", row.id, rq->document_id)) != 0)
        return rc;
    Ccip__Intake__DocumentContentReply reply = CCIP__INTAKE__DOCUMENT_CONTENT_REPLY__INIT;
    reply.document = s_row(res, 0, a);
    size_t n = 0;
    unsigned char *content = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 8), &n);
    PQclear(res);
    if (!reply.document || !content || ccip_arena_failed(a)) {
        PQfreemem(content);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading document %s",
                                 rq->document_id);
    }
    reply.content.data = content;
    reply.content.len = n;
    rc = ccip_command_reply(cmd, &reply.base);
    PQfreemem(content);
    return rc;
}
