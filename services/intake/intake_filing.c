#include "intake_filing.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_arena.h"
#include "ccip_id.h"
#include "ccip_pgarray.h"
#include "intake_applicants.h"
#include "intake_applications.h"
#include "intake_calls.h"
#include "intake_validate.h"
#include "intake_view.h"

/* ---- statements ------------------------------------------------------------ */

/* Everything the checks need, for every command of the batch at once: per
 * (call, organisation) pair, the call with its window as of now(), the
 * organisation and a live application of that organisation for that call.
 * A missing call or organisation leaves its columns NULL.
 * The arrays are read through sub-SELECTs so that the planner cannot see
 * their lengths: its estimate is then the same with and without the
 * values, and the prepared statement settles on one generic plan instead
 * of being planned again on every execution (which cost more than running
 * it). */
static const ccip_db_stmt S_READ = {
    "intake_filing_read",
    "SELECT r.i, c.*, o.*, l.id, l.status, (extract(epoch FROM now()) * 1000000)::bigint "
    "FROM unnest((SELECT $1::uuid[]), (SELECT $2::text[]), (SELECT $3::integer[])) "
    "AS r(call_id, uscc, i) "
    "LEFT JOIN LATERAL (SELECT " INTAKE_CALL_COLUMNS ", now() < opens_at, now() >= closes_at "
    "FROM call WHERE id = r.call_id) c ON true "
    "LEFT JOIN LATERAL (SELECT " INTAKE_ORG_COLUMNS " FROM organisation WHERE uscc = r.uscc) o "
    "ON true "
    "LEFT JOIN LATERAL (SELECT a.id, a.status FROM application a WHERE a.call_id = r.call_id "
    "AND a.applicant_uscc = r.uscc AND a.status IN " INTAKE_SQL_LIVE_STATUSES " LIMIT 1) l "
    "ON true ORDER BY r.i"};
enum {
    R_I = 0,
    R_CALL = 1,                               /* INTAKE_CALL_COLUMNS */
    R_BEFORE = R_CALL + INTAKE_CALL_NCOLUMNS, /* now() < opens_at */
    R_AFTER,                                  /* now() >= closes_at */
    R_ORG,                                    /* INTAKE_ORG_COLUMNS */
    R_LIVE_ID = R_ORG + INTAKE_ORG_NCOLUMNS,  /* a live application, or NULL */
    R_LIVE_STATUS,
    R_NOW_US, /* the transaction's now() */
};

/* Every accepted application with all of its rows, one INSERT per table:
 * the application (SUBMITTED, once), the facts of each kind, two history
 * rows and two timeline entries per application (the draft, then the
 * submission, in that order), the applicant's view, the blobs not stored
 * yet (one per distinct SHA-256) and the documents. Foreign keys between
 * these tables are checked at the end of the statement, when every row is
 * in. Returns each document's id and SHA-256 (hex). */
static const ccip_db_stmt S_WRITE = {
    "intake_filing_write",
    "WITH app AS (INSERT INTO application (id, call_id, applicant_uscc, status, title, summary, "
    "district_code, requested_fen, submissions, created_by, submitted_at) "
    "SELECT id, call_id, uscc, 'SUBMITTED', title, summary, district, requested, 1, actor, now() "
    "FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], "
    "$7::bigint[], $8::text[]) AS r(id, call_id, uscc, title, summary, district, requested, "
    "actor)), "
    "cl AS (INSERT INTO cluster_facts (application_id, cluster_name, location, area_m2, "
    "enterprise_count, employee_count, lead_operator) SELECT * FROM unnest($15::uuid[], "
    "$16::text[], $17::text[], $18::bigint[], $19::integer[], $20::integer[], $21::text[])), "
    "tb AS (INSERT INTO talent_base_facts (application_id, annual_capacity) "
    "SELECT * FROM unnest($22::uuid[], $23::integer[])), "
    "tp AS (INSERT INTO talent_programme (application_id, ordinal, name, capacity) "
    "SELECT * FROM unnest($24::uuid[], $25::integer[], $26::text[], $27::integer[])), "
    "bl AS (INSERT INTO budget_line (application_id, ordinal, item, amount_fen) "
    "SELECT * FROM unnest($28::uuid[], $29::integer[], $30::text[], $31::bigint[])), "
    "hist AS (INSERT INTO application_history (application_id, from_status, to_status, actor_id, "
    "actor_role, command_id) SELECT r.id, s.from_status, s.to_status, r.actor, r.role, r.command "
    "FROM unnest($1::uuid[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY "
    "AS r(id, actor, role, command, i) CROSS JOIN (VALUES (1, NULL::text, 'DRAFT'), "
    "(2, 'DRAFT', 'SUBMITTED')) AS s(n, from_status, to_status) ORDER BY r.i, s.n), "
    "v AS (INSERT INTO applicant_view (application_id, status, message, updated_at) "
    "SELECT id, $13::text, $14::text, now() FROM unnest($1::uuid[]) AS r(id)), "
    "tl AS (INSERT INTO applicant_timeline (application_id, at, status, message, source) "
    "SELECT r.id, now(), s.status, s.message, 'intake' FROM unnest($1::uuid[]) WITH ORDINALITY "
    "AS r(id, i) CROSS JOIN (VALUES (1, $11::text, $12::text), (2, $13::text, $14::text)) "
    "AS s(n, status, message) ORDER BY r.i, s.n), "
    "d AS (SELECT d.*, sha256(d.content) AS sha FROM unnest($32::uuid[], $33::uuid[], $34::text[], "
    "$35::text[], $36::text[], $37::bytea[], $38::text[]) WITH ORDINALITY "
    "AS d(id, application_id, doc_type, name, media_type, content, added_by, i)), "
    "b AS (INSERT INTO blob (sha256, size, content) SELECT DISTINCT ON (sha) sha, length(content), "
    "content FROM d ON CONFLICT (sha256) DO NOTHING), "
    "doc AS (INSERT INTO document (id, application_id, doc_type, name, media_type, size, sha256, "
    "added_by) SELECT id, application_id, doc_type, name, media_type, length(content), sha, "
    "added_by FROM d ORDER BY i RETURNING id, sha256) "
    "SELECT id, encode(sha256, 'hex') FROM doc"};
#define WRITE_NPARAMS 38

/* ---- one command's state ---------------------------------------------------- */

typedef struct {
    ccip_command *cmd;                        /* the command */
    Ccip__Intake__FileApplicationRequest *rq; /* decoded request; NULL when undecodable */
    int ok;                                   /* not refused (yet) */
    char uscc[CCIP_USCC_LEN + 1];             /* the organisation: the caller's own */
    Ccip__Intake__Call *call;                 /* read for the checks */
    Ccip__Intake__Organisation *org;          /* read for the checks */
    char district[8];                         /* resolved district code */
    char id[CCIP_UUID_STRLEN + 1];            /* the new application's id */
    char (*doc_ids)[CCIP_UUID_STRLEN + 1];    /* its documents' ids, request order */
    const char **doc_sha;                     /* their SHA-256 (hex), from the write */
} s_filing;

/* ---- checks that need no database --------------------------------------------- */

/* The caller's organisation, the call id and the documents. */
static int s_check_request(s_filing *f)
{
    ccip_command *cmd = f->cmd;
    const Ccip__Intake__FileApplicationRequest *rq = f->rq;
    char err[512];
    int rc = intake_application_applicant(cmd, rq->applicant_uscc, rq->call_id, "file", f->uscc);
    if (rc != 0)
        return rc;
    if (rq->n_documents > INTAKE_DOCUMENTS_MAX)
        return ccip_command_fail(
            cmd, CCIP__STATUS__INVALID_ARGUMENT,
            "field `documents` holds %zu documents; an application may carry at "
            "most %d (combine files)",
            rq->n_documents, INTAKE_DOCUMENTS_MAX);
    int from_cap = 0;
    int64_t max = intake_max_document_bytes(cmd, &from_cap);
    for (size_t i = 0; i < rq->n_documents; i++) {
        const Ccip__Intake__DocumentUpload *u = rq->documents[i];
        /* The same checks as document.add, on the same fields. */
        Ccip__Intake__AddDocumentRequest as_add = CCIP__INTAKE__ADD_DOCUMENT_REQUEST__INIT;
        as_add.doc_type = u->doc_type;
        as_add.name = u->name;
        as_add.media_type = u->media_type;
        as_add.content = u->content;
        if (intake_validate_document(&as_add, max, from_cap, err, sizeof err) < 0)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "documents[%zu]: %s", i,
                                     err);
        for (size_t k = 0; k < i; k++) {
            const Ccip__Intake__DocumentUpload *e = rq->documents[k];
            if (strcmp(e->doc_type, u->doc_type) == 0 && e->content.len == u->content.len &&
                memcmp(e->content.data, u->content.data, u->content.len) == 0)
                return ccip_command_fail(
                    cmd, CCIP__STATUS__INVALID_ARGUMENT,
                    "documents[%zu] and documents[%zu] carry the same content as "
                    "type %s; send it once",
                    k, i, u->doc_type);
        }
    }
    return 0;
}

/* 1 when the request carries a document of type t. */
static int s_has_doc(const Ccip__Intake__FileApplicationRequest *rq, const char *t)
{
    for (size_t i = 0; i < rq->n_documents; i++)
        if (strcmp(rq->documents[i]->doc_type, t) == 0)
            return 1;
    return 0;
}

/* Complete enough to submit: content and every required document. */
static int s_check_complete(s_filing *f)
{
    char problems[400], missing[300] = "";
    int n = intake_incomplete(f->rq->content, f->call->kind, problems, sizeof problems);
    int nmissing = 0;
    size_t used = 0;
    for (size_t i = 0; i < f->call->n_required_documents; i++) {
        const char *t = f->call->required_documents[i];
        if (s_has_doc(f->rq, t))
            continue;
        used += (size_t)snprintf(missing + used, used < sizeof missing ? sizeof missing - used : 0,
                                 "%s%s", nmissing ? ", " : "", t);
        nmissing++;
    }
    if (n == 0 && nmissing == 0)
        return 0;
    return ccip_command_fail(
        f->cmd, CCIP__STATUS__FAILED_PRECONDITION,
        "the application cannot be filed for call %s: %s%s%s%s%s", f->call->id, n ? problems : "",
        n && nmissing ? "; " : "", nmissing ? "required documents missing: " : "",
        nmissing ? missing : "", nmissing ? " (send them in field `documents`)" : "");
}

/* ---- checks against what is stored ---------------------------------------------- */

/* The checks of filing f against row r of S_READ and against the
 * applications accepted earlier in this batch (f[0..i) with ok set). */
static int s_check_stored(s_filing *all, size_t i, const PGresult *res, int r, ccip_arena *a)
{
    s_filing *f = &all[i];
    ccip_command *cmd = f->cmd;
    if (PQgetisnull(res, r, R_CALL))
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "there is no call %s; list the calls with intake.call.list.v1",
                                 f->rq->call_id);
    if (PQgetisnull(res, r, R_ORG))
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "organisation %s is not registered; register it with "
                                 "intake.organisation.register.v1 first",
                                 f->uscc);
    if (!(f->call = intake_call_from_row(res, r, R_CALL, a)) ||
        !(f->org = intake_org_from_row(res, r, R_ORG, a)))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading call %s",
                                 f->rq->call_id);
    int rc;
    if ((rc = intake_application_check_content(cmd, f->rq->content, f->call, f->org,
                                               f->district)) != 0 ||
        (rc = intake_application_check_eligible(cmd, f->call, f->org)) != 0)
        return rc;
    if (!PQgetisnull(res, r, R_LIVE_ID))
        return ccip_command_fail(
            cmd, CCIP__STATUS__ALREADY_EXISTS,
            "organisation %s already has a live application for call %s: %s (%s); "
            "continue that one, or withdraw it before filing another",
            f->uscc, f->call->id, PQgetvalue(res, r, R_LIVE_ID), PQgetvalue(res, r, R_LIVE_STATUS));
    /* One filed by an earlier command of this batch is live too, though
     * the read above could not see it. */
    for (size_t k = 0; k < i; k++)
        if (all[k].ok && strcmp(all[k].uscc, f->uscc) == 0 &&
            strcmp(all[k].call->id, f->call->id) == 0)
            return ccip_command_fail(
                cmd, CCIP__STATUS__ALREADY_EXISTS,
                "organisation %s already has a live application for call %s: %s "
                "(SUBMITTED); continue that one, or withdraw it before filing "
                "another",
                f->uscc, f->call->id, all[k].id);
    if ((rc = intake_call_window_fail(cmd, f->call, strcmp(PQgetvalue(res, r, R_BEFORE), "t") == 0,
                                      strcmp(PQgetvalue(res, r, R_AFTER), "t") == 0)) != 0)
        return rc;
    return s_check_complete(f);
}

/* ---- writing ----------------------------------------------------------------------- */

/* The columns of S_WRITE, built for the accepted filings. */
typedef struct {
    ccip_pgarray p[WRITE_NPARAMS];
} s_columns;

static void s_columns_release(s_columns *c)
{
    for (int i = 0; i < WRITE_NPARAMS; i++)
        ccip_pgarray_release(&c->p[i]);
}

/* Adds filing f's rows to the columns (parameter k is c->p[k - 1]). */
static void s_columns_add(s_columns *c, const s_filing *f)
{
    ccip_pgarray *p = c->p - 1; /* p[k] is $k */
    const Ccip__Intake__ApplicationContent *ct = f->rq->content;
    ccip_pgarray_text(&p[1], f->id);
    ccip_pgarray_text(&p[2], f->call->id);
    ccip_pgarray_text(&p[3], f->uscc);
    ccip_pgarray_text(&p[4], ct->title);
    ccip_pgarray_text(&p[5], ct->summary);
    ccip_pgarray_text(&p[6], f->district);
    ccip_pgarray_int(&p[7], ct->requested_fen);
    ccip_pgarray_text(&p[8], f->cmd->actor.id);
    ccip_pgarray_text(&p[9], f->cmd->actor.role);
    ccip_pgarray_text(&p[10], f->cmd->req->id);
    switch (ct->facts_case) {
    case CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER:
        ccip_pgarray_text(&p[15], f->id);
        ccip_pgarray_text(&p[16], ct->cluster->cluster_name);
        ccip_pgarray_text(&p[17], ct->cluster->location);
        ccip_pgarray_int(&p[18], ct->cluster->area_m2);
        ccip_pgarray_int(&p[19], ct->cluster->enterprise_count);
        ccip_pgarray_int(&p[20], ct->cluster->employee_count);
        ccip_pgarray_text(&p[21], ct->cluster->lead_operator);
        break;
    case CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE:
        ccip_pgarray_text(&p[22], f->id);
        ccip_pgarray_int(&p[23], ct->talent_base->annual_capacity);
        for (size_t i = 0; i < ct->talent_base->n_programmes; i++) {
            ccip_pgarray_text(&p[24], f->id);
            ccip_pgarray_int(&p[25], (int64_t)i + 1);
            ccip_pgarray_text(&p[26], ct->talent_base->programmes[i]->name);
            ccip_pgarray_int(&p[27], ct->talent_base->programmes[i]->capacity);
        }
        break;
    case CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT:
        for (size_t i = 0; i < ct->project->n_budget_lines; i++) {
            ccip_pgarray_text(&p[28], f->id);
            ccip_pgarray_int(&p[29], (int64_t)i + 1);
            ccip_pgarray_text(&p[30], ct->project->budget_lines[i]->item);
            ccip_pgarray_int(&p[31], ct->project->budget_lines[i]->amount_fen);
        }
        break;
    default:
        break;
    }
    for (size_t i = 0; i < f->rq->n_documents; i++) {
        const Ccip__Intake__DocumentUpload *u = f->rq->documents[i];
        ccip_pgarray_text(&p[32], f->doc_ids[i]);
        ccip_pgarray_text(&p[33], f->id);
        ccip_pgarray_text(&p[34], u->doc_type);
        ccip_pgarray_text(&p[35], u->name);
        ccip_pgarray_text(&p[36], u->media_type);
        ccip_pgarray_bytea(&p[37], u->content.data, u->content.len);
        ccip_pgarray_text(&p[38], f->cmd->actor.id);
    }
}

/* Writes the accepted filings (n_ok of them) in one statement and notes
 * each document's SHA-256. Returns 0 or a ccip_db_rc. */
static int s_write(s_filing *all, size_t n, ccip_db *db, ccip_arena *a)
{
    char draft_msg[INTAKE_VIEW_MESSAGE_MAX], submitted_msg[INTAKE_VIEW_MESSAGE_MAX];
    const char *draft_status = NULL, *submitted_status = NULL;
    if (intake_view_entry(NULL, INTAKE_DRAFT, "", &draft_status, draft_msg, sizeof draft_msg) < 0 ||
        intake_view_entry(INTAKE_DRAFT, INTAKE_SUBMITTED, "", &submitted_status, submitted_msg,
                          sizeof submitted_msg) < 0)
        return CCIP_DB_ERROR;
    s_columns c;
    memset(&c, 0, sizeof c);
    for (size_t i = 0; i < n; i++)
        if (all[i].ok)
            s_columns_add(&c, &all[i]);
    const char *values[WRITE_NPARAMS];
    int rc = CCIP_DB_OK;
    for (int k = 0; k < WRITE_NPARAMS; k++)
        if (!(values[k] = ccip_pgarray_value(&c.p[k])))
            rc = CCIP_DB_ERROR; /* out of memory */
    values[10] = draft_status;
    values[11] = draft_msg;
    values[12] = submitted_status;
    values[13] = submitted_msg;
    PGresult *res = NULL;
    if (rc == CCIP_DB_OK)
        rc = ccip_db_exec(db, &S_WRITE, WRITE_NPARAMS, values, NULL, NULL, &res);
    s_columns_release(&c);
    if (rc == CCIP_DB_ERROR && strcmp(ccip_db_sqlstate(db), "23505") == 0)
        /* Another transaction filed or drafted a live application for one
         * of these organisations and calls after our read: run the batch
         * again, and the read names it. */
        return CCIP_DB_RETRYABLE;
    if (rc != CCIP_DB_OK)
        return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *id = PQgetvalue(res, r, 0);
        for (size_t i = 0; i < n; i++)
            for (size_t d = 0; all[i].ok && d < all[i].rq->n_documents; d++)
                if (strcmp(all[i].doc_ids[d], id) == 0)
                    all[i].doc_sha[d] = ccip_arena_strdup(a, PQgetvalue(res, r, 1));
    }
    PQclear(res);
    return CCIP_DB_OK;
}

/* ---- reply and event ----------------------------------------------------------------- */

/* The application as intake.application.get.v1 would now show it to the
 * caller, built from what was written (no read back). */
static Ccip__Intake__Application *s_application(const s_filing *f, int64_t now_us, ccip_arena *a)
{
    Ccip__Intake__Application *app = ccip_arena_alloc(a, sizeof *app);
    Ccip__Intake__ApplicationContent *c = ccip_arena_alloc(a, sizeof *c);
    Ccip__Intake__ApplicantView *v = ccip_arena_alloc(a, sizeof *v);
    size_t ndocs = f->rq->n_documents;
    Ccip__Intake__Document **docs = ccip_arena_alloc(a, (ndocs ? ndocs : 1) * sizeof *docs);
    Ccip__Intake__TimelineEntry **tl = ccip_arena_alloc(a, 2 * sizeof *tl);
    Ccip__Intake__Transition **hist = ccip_arena_alloc(a, 2 * sizeof *hist);
    if (!app || !c || !v || !docs || !tl || !hist)
        return NULL;
    *app = (Ccip__Intake__Application)CCIP__INTAKE__APPLICATION__INIT;
    *c = *f->rq->content;
    c->district = (char *)f->district; /* the code, as stored */
    app->id = (char *)f->id;
    app->call_id = f->call->id;
    app->kind = f->call->kind;
    app->year = f->call->year;
    app->applicant_uscc = f->org->uscc;
    app->applicant_name = f->org->name;
    app->content = c;
    app->status = CCIP__INTAKE__APPLICATION_STATUS__SUBMITTED;
    app->created_at_us = app->updated_at_us = app->submitted_at_us = now_us;
    app->submissions = 1;
    app->call_title = f->call->title;
    for (size_t i = 0; i < ndocs; i++) {
        const Ccip__Intake__DocumentUpload *u = f->rq->documents[i];
        Ccip__Intake__Document *d = ccip_arena_alloc(a, sizeof *d);
        if (!d)
            return NULL;
        *d = (Ccip__Intake__Document)CCIP__INTAKE__DOCUMENT__INIT;
        d->id = (char *)f->doc_ids[i];
        d->doc_type = u->doc_type;
        d->name = u->name;
        d->media_type = u->media_type;
        d->size = (int64_t)u->content.len;
        d->sha256 = (char *)(f->doc_sha[i] ? f->doc_sha[i] : "");
        d->added_at_us = now_us;
        d->added_by = (char *)f->cmd->actor.id;
        docs[i] = d;
    }
    app->documents = docs;
    app->n_documents = ndocs;
    /* The history and the timeline: created as a draft, then submitted. */
    static const char *const froms[2] = {NULL, INTAKE_DRAFT};
    static const char *const tos[2] = {INTAKE_DRAFT, INTAKE_SUBMITTED};
    *v = (Ccip__Intake__ApplicantView)CCIP__INTAKE__APPLICANT_VIEW__INIT;
    for (int k = 0; k < 2; k++) {
        const char *status = NULL;
        char message[INTAKE_VIEW_MESSAGE_MAX];
        Ccip__Intake__TimelineEntry *e = ccip_arena_alloc(a, sizeof *e);
        Ccip__Intake__Transition *t = ccip_arena_alloc(a, sizeof *t);
        if (!e || !t || intake_view_entry(froms[k], tos[k], "", &status, message, sizeof message))
            return NULL;
        *e = (Ccip__Intake__TimelineEntry)CCIP__INTAKE__TIMELINE_ENTRY__INIT;
        e->at_us = now_us;
        e->status = intake_view_status(status);
        e->message = ccip_arena_strdup(a, message);
        e->source = "intake";
        tl[k] = e;
        *t = (Ccip__Intake__Transition)CCIP__INTAKE__TRANSITION__INIT;
        t->from_status = (Ccip__Intake__ApplicationStatus)ccip_enum_value(
            &ccip__intake__application_status__descriptor, froms[k]);
        t->to_status = (Ccip__Intake__ApplicationStatus)ccip_enum_value(
            &ccip__intake__application_status__descriptor, tos[k]);
        t->actor_id = (char *)f->cmd->actor.id;
        t->actor_role = (char *)f->cmd->actor.role;
        t->at_us = now_us;
        t->command_id = f->cmd->req->id;
        hist[k] = t;
        v->status = e->status;
        v->message = e->message;
    }
    v->updated_at_us = now_us;
    v->timeline = tl;
    v->n_timeline = 2;
    app->applicant_view = v;
    app->history = hist;
    app->n_history = 2;
    /* Applicants see their status through the applicant view only. */
    if (strcmp(f->cmd->actor.role, "applicant") == 0) {
        app->status = CCIP__INTAKE__APPLICATION_STATUS__APPLICATION_STATUS_UNSPECIFIED;
        app->history = NULL;
        app->n_history = 0;
    }
    return ccip_arena_failed(a) ? NULL : app;
}

/* The submitted event and the reply of an accepted filing. Returns 0,
 * CCIP_REPLIED (the command then ended refused after its rows were
 * written: the caller undoes the batch) or a ccip_db_rc. */
static int s_finish(s_filing *f, int64_t now_us, ccip_arena *a)
{
    Ccip__Intake__Application *app = s_application(f, now_us, a);
    if (!app)
        return ccip_command_fail(f->cmd, CCIP__STATUS__INTERNAL, "out of memory replying to %s",
                                 f->cmd->req->type);
    int rc = intake_application_emit_submitted(f->cmd, app);
    if (rc != 0)
        return rc;
    Ccip__Intake__ApplicationReply reply = CCIP__INTAKE__APPLICATION_REPLY__INIT;
    reply.application = app;
    return ccip_command_reply(f->cmd, &reply.base);
}

/* ---- the batch ------------------------------------------------------------------------ */

/* Reads what the checks need for the filings still ok, checks them, and
 * makes the ids of the accepted ones. Sets *now_us to the transaction's
 * now(). Returns 0 or a ccip_db_rc. */
static int s_check_all(s_filing *all, size_t n, ccip_db *db, ccip_arena *a, int64_t *now_us)
{
    ccip_pgarray calls = CCIP_PGARRAY_INIT, usccs = CCIP_PGARRAY_INIT, idx = CCIP_PGARRAY_INIT;
    for (size_t i = 0; i < n; i++) {
        if (!all[i].ok)
            continue;
        ccip_pgarray_text(&calls, all[i].rq->call_id);
        ccip_pgarray_text(&usccs, all[i].uscc);
        ccip_pgarray_int(&idx, (int64_t)i);
    }
    if (idx.count == 0)
        return 0;
    const char *values[] = {ccip_pgarray_value(&calls), ccip_pgarray_value(&usccs),
                            ccip_pgarray_value(&idx)};
    PGresult *res = NULL;
    int rc = values[0] && values[1] && values[2]
                 ? ccip_db_exec(db, &S_READ, 3, values, NULL, NULL, &res)
                 : CCIP_DB_ERROR;
    ccip_pgarray_release(&calls);
    ccip_pgarray_release(&usccs);
    ccip_pgarray_release(&idx);
    if (rc != CCIP_DB_OK)
        return rc;
    /* Rows come in the order of the batch, one per filing still ok. */
    for (int r = 0; r < PQntuples(res); r++) {
        size_t i = (size_t)ccip_db_cell_i64(res, r, R_I);
        if (i >= n || !all[i].ok)
            continue;
        *now_us = ccip_db_cell_i64(res, r, R_NOW_US);
        s_filing *f = &all[i];
        f->ok = 0; /* until every check passed */
        if (s_check_stored(all, i, res, r, a) != 0)
            continue;
        size_t nd = f->rq->n_documents;
        f->doc_ids = ccip_arena_alloc(a, (nd ? nd : 1) * sizeof *f->doc_ids);
        f->doc_sha = ccip_arena_alloc(a, (nd ? nd : 1) * sizeof *f->doc_sha);
        int ids_ok = f->doc_ids && f->doc_sha && ccip_uuid_v7(f->id) == 0;
        for (size_t d = 0; ids_ok && d < nd; d++) {
            ids_ok = ccip_uuid_v7(f->doc_ids[d]) == 0;
            f->doc_sha[d] = NULL;
        }
        if (!ids_ok) {
            ccip_command_fail(f->cmd, CCIP__STATUS__INTERNAL, "could not make an id");
            continue;
        }
        f->ok = 1;
    }
    PQclear(res);
    for (size_t i = 0; i < n; i++)
        if (all[i].ok && !all[i].call) { /* no row came back for it: be loud, not wrong */
            all[i].ok = 0;
            ccip_command_fail(all[i].cmd, CCIP__STATUS__INTERNAL, "could not read call %s",
                              all[i].rq->call_id);
        }
    return 0;
}

int intake_application_file_batch(ccip_command *const *cmds, size_t n)
{
    s_filing *all = calloc(n ? n : 1, sizeof *all);
    ccip_arena *a = ccip_arena_new();
    if (!all || !a) {
        free(all);
        ccip_arena_destroy(&a);
        return CCIP_DB_ERROR; /* out of memory: the skeleton answers INTERNAL */
    }
    for (size_t i = 0; i < n; i++) {
        s_filing *f = &all[i];
        f->cmd = cmds[i];
        f->rq = (Ccip__Intake__FileApplicationRequest *)ccip_command_unpack(
            f->cmd, &ccip__intake__file_application_request__descriptor);
        f->ok = f->rq && s_check_request(f) == 0;
    }
    int64_t now_us = 0;
    ccip_db *db = n ? cmds[0]->db : NULL;
    int rc = s_check_all(all, n, db, a, &now_us);
    size_t accepted = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        accepted += all[i].ok != 0;
    if (rc == 0 && accepted > 0)
        rc = s_write(all, n, db, a);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!all[i].ok)
            continue;
        int frc = s_finish(&all[i], now_us, a);
        /* A command refused after its rows were written would break the
         * contract (refused leave no trace): fail the batch, so that the
         * skeleton undoes it and runs each command alone. */
        if (frc != 0)
            rc = frc < 0 ? frc : CCIP_DB_ERROR;
    }
    for (size_t i = 0; i < n; i++)
        if (all[i].rq)
            protobuf_c_message_free_unpacked(&all[i].rq->base, NULL);
    free(all);
    ccip_arena_destroy(&a);
    return rc;
}
