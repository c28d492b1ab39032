#include "evaluation_cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "evaluation_assign.h"
#include "evaluation_score.h"

#define PHONE_MAX 32  /* bytes of a normalised phone number */
#define EMAIL_MAX 256 /* bytes of a normalised e-mail address */

/* The columns evaluation_case_row and s_case_message read, in this order. */
#define CASE_COLUMNS                                                                               \
    "id, application_id, call_id, kind, applicant_uscc, applicant_name, district_code, title, "    \
    "subject_name, fund_programme_code, status, array_to_string(fields, ','), year, round, "       \
    "coalesce(sheet_version, 0), coalesce(panel_size, 0), requested_fen, "                         \
    "reviews_counted IS NOT NULL, coalesce(score_centi, 0), coalesce(spread_centi, 0), "           \
    "coalesce(dropped, 0), coalesce(reviews_counted, 0), call_title, summary, "                    \
    "(extract(epoch FROM opened_at) * 1000000)::bigint, "                                          \
    "(extract(epoch FROM submitted_at) * 1000000)::bigint"
enum {
    C_ID,
    C_APPLICATION,
    C_CALL,
    C_KIND,
    C_USCC,
    C_APPLICANT,
    C_DISTRICT,
    C_TITLE,
    C_SUBJECT,
    C_FUND,
    C_STATUS,
    C_FIELDS,
    C_YEAR,
    C_ROUND,
    C_SHEET,
    C_PANEL,
    C_REQUESTED,
    C_HAS_AGG,
    C_SCORE,
    C_SPREAD,
    C_DROPPED,
    C_COUNTED,
    C_CALL_TITLE,
    C_SUMMARY,
    C_OPENED,
    C_SUBMITTED,
};

static const ccip_db_stmt S_GET = {"evaluation_case_get",
                                   "SELECT " CASE_COLUMNS " FROM case_file WHERE id = $1::uuid"};
static const ccip_db_stmt S_GET_LOCK = {"evaluation_case_get_lock",
                                        "SELECT " CASE_COLUMNS
                                        " FROM case_file WHERE id = $1::uuid FOR UPDATE"};
static const ccip_db_stmt S_BY_APPLICATION = {
    "evaluation_case_by_application", "SELECT id FROM case_file WHERE application_id = $1::uuid"};

/* ---- opening: intake.application.accepted.v1 -------------------------------- */

static const ccip_db_stmt S_OPEN = {
    "evaluation_case_open",
    "INSERT INTO case_file (id, application_id, event_id, call_id, kind, year, call_title, "
    "fund_programme_code, applicant_uscc, applicant_name, district_code, title, summary, "
    "subject_name, requested_fen, accepted_payload, accepted_at) "
    "VALUES ($1::uuid, $2::uuid, $3, $4::uuid, $5, $6::integer, $7, $8, $9, $10, $11, $12, $13, "
    "$14, $15::bigint, $16::bytea, " CCIP_SQL_TS(
        "$17") ") "
               "ON CONFLICT ON CONSTRAINT case_file_one_per_application DO NOTHING RETURNING id"};
static const ccip_db_stmt S_CONTACT = {
    "evaluation_contact_add",
    "INSERT INTO applicant_contact (applicant_uscc, application_id, contact_name, phone, email) "
    "VALUES ($1, $2::uuid, $3, $4, $5) ON CONFLICT DO NOTHING"};

/* Skips an event that cannot open a case: logged, the cursor moves on. */
static int s_skip(const Ccip__Envelope *ev, const char *why)
{
    char pos[24];
    snprintf(pos, sizeof pos, "%llu", (unsigned long long)ev->position);
    ccip_log_error("skipped an accepted application that cannot open a case", "event", ev->id,
                   "position", pos, "reason", why);
    return 0;
}

/* The name of what is being evaluated: the cluster's name, else the title. */
static const char *s_subject_name(const Ccip__Intake__ApplicationAccepted *a)
{
    if (a->facts_case == CCIP__INTAKE__APPLICATION_ACCEPTED__FACTS_CLUSTER && a->cluster &&
        a->cluster->cluster_name && a->cluster->cluster_name[0])
        return a->cluster->cluster_name;
    return a->title;
}

/* Announces the case opened because of the accepted event `cause`. */
static int s_emit_opened(ccip_db *db, const Ccip__Envelope *cause, const char *case_id)
{
    ccip_arena *a = ccip_arena_new();
    Ccip__Evaluation__Case *c = NULL;
    int rc = evaluation_case_load(db, case_id, 0, a, &c);
    if (rc == 0 && !c)
        rc = -1; /* out of memory: the event is tried again */
    if (rc == 0) {
        Ccip__Evaluation__CaseOpened msg = CCIP__EVALUATION__CASE_OPENED__INIT;
        msg.case_ = c;
        rc = ccip_outbox_emit_caused(db, cause, "evaluation.case.opened.v1", "case", case_id,
                                     &msg.base);
    }
    ccip_arena_destroy(&a);
    return rc;
}

int evaluation_case_open(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    char err[256];
    Ccip__Intake__ApplicationAccepted *a = (Ccip__Intake__ApplicationAccepted *)ccip_payload_unpack(
        &ccip__intake__application_accepted__descriptor, ev->payload.data, ev->payload.len,
        CCIP_OUTBOX_PAYLOAD_MAX, err, sizeof err);
    if (!a)
        return s_skip(ev, err);
    int rc = 0;
    const Ccip__Intake__Organisation *org = a->applicant;
    const char *district = a->district_code && a->district_code[0]
                               ? a->district_code
                               : (org && org->district_code ? org->district_code : "");
    const ccip_district *d = ccip_district_find(district);
    const char *kind =
        a->kind ? ccip_enum_name(&ccip__intake__call_kind__descriptor, (int)a->kind) : NULL;
    if (!ccip_uuid_valid(a->application_id) || !ccip_uuid_valid(a->call_id)) {
        rc = s_skip(ev, "application_id or call_id is not a UUID");
    } else if (!kind) {
        rc = s_skip(ev, "the call kind is missing or unknown");
    } else if (!org || ccip_uscc_check(org->uscc, err, sizeof err) < 0) {
        rc = s_skip(ev, org ? err : "the applicant organisation is missing");
    } else if (!d) {
        rc = s_skip(ev, "the district is missing or not one of Beijing's");
    } else {
        char id[CCIP_UUID_STRLEN + 1], year[16], fen[24], accepted[24];
        ccip_uuid_v7(id);
        snprintf(year, sizeof year, "%d", a->year);
        snprintf(fen, sizeof fen, "%lld", (long long)(a->requested_fen > 0 ? a->requested_fen : 0));
        snprintf(accepted, sizeof accepted, "%lld",
                 (long long)(a->accepted_at_us ? a->accepted_at_us : ev->occurred_at_us));
        const char *v[] = {id,
                           a->application_id,
                           ev->id,
                           a->call_id,
                           kind,
                           year,
                           a->call_title,
                           a->fund_programme_code,
                           org->uscc,
                           org->name && org->name[0] ? org->name : org->uscc,
                           d->code,
                           a->title && a->title[0] ? a->title : "(untitled)",
                           a->summary,
                           s_subject_name(a),
                           fen,
                           (const char *)ev->payload.data,
                           accepted};
        int lengths[17] = {0};
        int formats[17] = {0};
        lengths[15] = (int)ev->payload.len;
        formats[15] = 1;
        PGresult *res = NULL;
        rc = ccip_db_exec(db, &S_OPEN, 17, v, lengths, formats, &res);
        int opened = rc == 0 && PQntuples(res) == 1;
        PQclear(res);
        if (rc == 0 && !opened) {
            ccip_log_warn("application already has a case; the event opens none", "application",
                          a->application_id, "event", ev->id);
        } else if (rc == 0) {
            char phone[PHONE_MAX], email[EMAIL_MAX];
            evaluation_phone_norm(org->contact_phone, phone, sizeof phone);
            evaluation_email_norm(org->contact_email, email, sizeof email);
            const char *cv[] = {org->uscc, a->application_id, org->contact_name, phone, email};
            rc = ccip_db_exec(db, &S_CONTACT, 5, cv, NULL, NULL, NULL);
            if (rc == 0)
                rc = evaluation_case_log(db, id, ev->actor_id, ev->actor_role, "opened",
                                         "from intake.application.accepted.v1");
            if (rc == 0)
                rc = s_emit_opened(db, ev, id);
            if (rc == 0)
                ccip_log_info("case opened", "case", id, "application", a->application_id);
        }
    }
    protobuf_c_message_free_unpacked(&a->base, NULL);
    return rc;
}

/* ---- rows -------------------------------------------------------------------- */

static void s_row_fill(evaluation_case_row *r, PGresult *res)
{
    r->res = res;
    r->id = PQgetvalue(res, 0, C_ID);
    r->application_id = PQgetvalue(res, 0, C_APPLICATION);
    r->call_id = PQgetvalue(res, 0, C_CALL);
    r->kind = PQgetvalue(res, 0, C_KIND);
    r->applicant_uscc = PQgetvalue(res, 0, C_USCC);
    r->applicant_name = PQgetvalue(res, 0, C_APPLICANT);
    r->district_code = PQgetvalue(res, 0, C_DISTRICT);
    r->title = PQgetvalue(res, 0, C_TITLE);
    r->subject_name = PQgetvalue(res, 0, C_SUBJECT);
    r->fund_programme_code = PQgetvalue(res, 0, C_FUND);
    r->status = PQgetvalue(res, 0, C_STATUS);
    r->fields = PQgetvalue(res, 0, C_FIELDS);
    r->year = (int)ccip_db_cell_i64(res, 0, C_YEAR);
    r->round = (int)ccip_db_cell_i64(res, 0, C_ROUND);
    r->sheet_version = (int)ccip_db_cell_i64(res, 0, C_SHEET);
    r->panel_size = (int)ccip_db_cell_i64(res, 0, C_PANEL);
    r->requested_fen = ccip_db_cell_i64(res, 0, C_REQUESTED);
    r->has_aggregate = PQgetvalue(res, 0, C_HAS_AGG)[0] == 't';
    r->score_centi = (int)ccip_db_cell_i64(res, 0, C_SCORE);
    r->spread_centi = (int)ccip_db_cell_i64(res, 0, C_SPREAD);
    r->dropped = (int)ccip_db_cell_i64(res, 0, C_DROPPED);
    r->reviews_counted = (int)ccip_db_cell_i64(res, 0, C_COUNTED);
}

int evaluation_case_fetch(ccip_command *cmd, const char *case_id, int lock,
                          evaluation_case_row *out)
{
    memset(out, 0, sizeof *out);
    int rc = ccip_command_check_uuid(cmd, "case_id", case_id);
    if (rc != 0)
        return rc;
    PGresult *res = NULL;
    rc = ccip_command_row(cmd, lock ? &S_GET_LOCK : &S_GET, 1, &case_id, &res,
                          "there is no case %s; list cases with evaluation.case.list.v1", case_id);
    if (rc != 0)
        return rc;
    s_row_fill(out, res);
    return 0;
}

void evaluation_case_row_clear(evaluation_case_row *r)
{
    PQclear(r->res);
    r->res = NULL;
}

static const ccip_db_stmt S_VERDICT = {
    "evaluation_case_verdict",
    "SELECT verdict FROM investigation WHERE case_id = $1::uuid AND status = 'TASK_DONE'"};
static const ccip_db_stmt S_THRESHOLD = {
    "evaluation_case_threshold",
    "SELECT pass_threshold_centi FROM score_sheet WHERE kind = $1 AND version = $2::integer"};

int evaluation_case_aggregate(ccip_db *db, const evaluation_case_row *c,
                              Ccip__Evaluation__Aggregate *out)
{
    *out = (Ccip__Evaluation__Aggregate)CCIP__EVALUATION__AGGREGATE__INIT;
    out->sheet_version = c->sheet_version;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_VERDICT, 1, &c->id, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) == 1)
        out->verdict = (Ccip__Evaluation__Verdict)ccip_enum_value(
            &ccip__evaluation__verdict__descriptor, PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!c->has_aggregate)
        return 0;
    char version[16];
    snprintf(version, sizeof version, "%d", c->sheet_version);
    const char *v[] = {c->kind, version};
    rc = ccip_db_exec(db, &S_THRESHOLD, 2, v, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) == 1)
        out->pass_threshold_centi = (int32_t)ccip_db_cell_i64(res, 0, 0);
    PQclear(res);
    out->reviews = c->reviews_counted;
    out->dropped = c->dropped;
    out->score_centi = c->score_centi;
    out->spread_centi = c->spread_centi;
    out->recommendation =
        evaluation_recommend(out->score_centi, out->pass_threshold_centi, out->verdict);
    return 0;
}

/* ---- loading whole cases ------------------------------------------------------ */

static const ccip_db_stmt S_INVESTIGATIONS = {
    "evaluation_case_investigations",
    "SELECT i.id, i.agency_id, a.name, i.status, i.round, "
    "(extract(epoch FROM i.assigned_at) * 1000000)::bigint, i.assigned_by, "
    "(extract(epoch FROM i.due_at) * 1000000)::bigint, i.override_reason, "
    "array_to_string(i.overridden_conflicts, ','), "
    "(extract(epoch FROM i.visit_date) * 1000000)::bigint, coalesce(i.findings, ''), "
    "coalesce(i.verdict, ''), (extract(epoch FROM i.reported_at) * 1000000)::bigint, "
    "i.close_reason FROM investigation i JOIN agency a ON a.id = i.agency_id "
    "WHERE i.case_id = $1::uuid ORDER BY i.assigned_at, i.id"};
static const ccip_db_stmt S_DOCUMENTS = {
    "evaluation_case_documents",
    "SELECT d.investigation_id, d.name, d.sha256, d.media_type FROM report_document d "
    "JOIN investigation i ON i.id = d.investigation_id WHERE i.case_id = $1::uuid "
    "ORDER BY d.investigation_id, d.n"};
static const ccip_db_stmt S_REVIEWS = {
    "evaluation_case_reviews",
    "SELECT r.id, r.expert_id, e.name, r.status, r.round, "
    "(extract(epoch FROM r.assigned_at) * 1000000)::bigint, r.assigned_by, "
    "(extract(epoch FROM r.due_at) * 1000000)::bigint, r.override_reason, "
    "array_to_string(r.overridden_conflicts, ','), "
    "(extract(epoch FROM r.declared_no_conflict_at) * 1000000)::bigint, "
    "coalesce(r.sheet_version, 0), r.comment, coalesce(r.score_centi, 0), "
    "(extract(epoch FROM r.submitted_at) * 1000000)::bigint, r.close_reason "
    "FROM review r JOIN expert e ON e.id = r.expert_id "
    "WHERE r.case_id = $1::uuid ORDER BY r.assigned_at, r.id"};
static const ccip_db_stmt S_SCORES = {
    "evaluation_case_scores",
    "SELECT s.review_id, s.criterion, s.score, s.comment FROM review_score s "
    "JOIN review r ON r.id = s.review_id JOIN case_file c ON c.id = r.case_id "
    "LEFT JOIN sheet_criterion k ON k.kind = c.kind AND k.version = r.sheet_version "
    "AND k.code = s.criterion WHERE r.case_id = $1::uuid ORDER BY s.review_id, k.position"};
static const ccip_db_stmt S_DECISIONS = {
    "evaluation_case_decisions",
    "SELECT id, outcome, reasons, recommended_fen, return_to, round, decided_by, "
    "(extract(epoch FROM decided_at) * 1000000)::bigint, recommendation, "
    "coalesce(score_centi, 0) FROM decision WHERE case_id = $1::uuid ORDER BY decided_at, id"};
static const ccip_db_stmt S_HISTORY = {
    "evaluation_case_history",
    "SELECT (extract(epoch FROM at) * 1000000)::bigint, actor_id, actor_role, action, detail "
    "FROM case_log WHERE case_id = $1::uuid ORDER BY id"};
static const ccip_db_stmt S_DESIGNATION_OF = {
    "evaluation_case_designation", "SELECT id FROM designation WHERE case_id = $1::uuid"};

/* Splits "A,B" into enum values of desc, allocated from a. */
static int *s_enum_list(ccip_arena *a, const ProtobufCEnumDescriptor *desc, const char *text,
                        size_t *n)
{
    *n = 0;
    if (!text || !text[0])
        return NULL;
    size_t count = 1;
    for (const char *p = text; *p; p++)
        count += *p == ',';
    int *out = ccip_arena_alloc(a, count * sizeof *out);
    if (!out)
        return NULL;
    char buf[64];
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, ",");
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), p);
        out[(*n)++] = ccip_enum_value(desc, buf);
        p += len;
        if (*p == ',')
            p++;
    }
    return out;
}

static Ccip__Evaluation__Case *s_case_message(ccip_arena *a, const PGresult *res)
{
    Ccip__Evaluation__Case *c = ccip_row_new(
        a, CCIP_MSG(evaluation, case), res, 0, C_ID,
        "id, application_id, call_id, kind, applicant_uscc, applicant_name, district_code, title, "
        ", fund_programme_code, status, , year, round, sheet_version, panel_size, requested_fen, , "
        ", , , , call_title, summary, opened_at_us, submitted_to_office_at_us");
    if (!c)
        return NULL;
    c->fields = ccip_arena_split(a, PQgetvalue(res, 0, C_FIELDS), &c->n_fields);
    return c;
}

/* Runs a one-parameter query into *res. */
static int s_query(ccip_db *db, const ccip_db_stmt *st, const char *id, PGresult **res)
{
    return ccip_db_exec(db, st, 1, &id, NULL, NULL, res);
}

static int s_load_investigations(ccip_db *db, const char *case_id, ccip_arena *a,
                                 Ccip__Evaluation__Case *c)
{
    PGresult *res = NULL, *docs = NULL;
    int rc = s_query(db, &S_INVESTIGATIONS, case_id, &res);
    if (rc == 0)
        rc = s_query(db, &S_DOCUMENTS, case_id, &docs);
    int n = rc == 0 ? PQntuples(res) : 0;
    c->investigations = ccip_arena_alloc(a, (size_t)n * sizeof *c->investigations + 1);
    for (int i = 0; c->investigations && i < n; i++) {
        Ccip__Evaluation__Investigation *v = ccip_row_new(
            a, CCIP_MSG(evaluation, investigation), res, i, 0,
            "id, agency_id, agency_name, status, round, assigned_at_us, assigned_by, due_at_us, "
            "override_reason, , visit_date_us, findings, verdict, reported_at_us, close_reason");
        if (!v)
            break;
        v->overridden_conflicts = (Ccip__Evaluation__ConflictType *)s_enum_list(
            a, &ccip__evaluation__conflict_type__descriptor, PQgetvalue(res, i, 9),
            &v->n_overridden_conflicts);
        int nd = 0;
        for (int d = 0; d < PQntuples(docs); d++)
            nd += strcmp(PQgetvalue(docs, d, 0), v->id) == 0;
        v->documents = ccip_arena_alloc(a, (size_t)nd * sizeof *v->documents + 1);
        for (int d = 0; v->documents && d < PQntuples(docs); d++) {
            if (strcmp(PQgetvalue(docs, d, 0), v->id) != 0)
                continue;
            Ccip__Evaluation__ReportDocument *doc = ccip_row_new(
                a, CCIP_MSG(evaluation, report_document), docs, d, 1, "name, sha256, media_type");
            if (!doc)
                break;
            v->documents[v->n_documents++] = doc;
        }
        c->investigations[c->n_investigations++] = v;
    }
    PQclear(res);
    PQclear(docs);
    return rc;
}

static int s_load_reviews(ccip_db *db, const char *case_id, ccip_arena *a,
                          Ccip__Evaluation__Case *c)
{
    PGresult *res = NULL, *scores = NULL;
    int rc = s_query(db, &S_REVIEWS, case_id, &res);
    if (rc == 0)
        rc = s_query(db, &S_SCORES, case_id, &scores);
    int n = rc == 0 ? PQntuples(res) : 0;
    c->reviews = ccip_arena_alloc(a, (size_t)n * sizeof *c->reviews + 1);
    for (int i = 0; c->reviews && i < n; i++) {
        Ccip__Evaluation__Review *v =
            ccip_row_new(a, CCIP_MSG(evaluation, review), res, i, 0,
                         "id, expert_id, expert_name, status, round, assigned_at_us, assigned_by, "
                         "due_at_us, override_reason, , declared_no_conflict_at_us, sheet_version, "
                         "comment, score_centi, submitted_at_us, close_reason");
        if (!v)
            break;
        v->overridden_conflicts = (Ccip__Evaluation__ConflictType *)s_enum_list(
            a, &ccip__evaluation__conflict_type__descriptor, PQgetvalue(res, i, 9),
            &v->n_overridden_conflicts);
        int ns = 0;
        for (int s = 0; s < PQntuples(scores); s++)
            ns += strcmp(PQgetvalue(scores, s, 0), v->id) == 0;
        v->scores = ccip_arena_alloc(a, (size_t)ns * sizeof *v->scores + 1);
        for (int s = 0; v->scores && s < PQntuples(scores); s++) {
            if (strcmp(PQgetvalue(scores, s, 0), v->id) != 0)
                continue;
            Ccip__Evaluation__CriterionScore *cs =
                ccip_row_new(a, CCIP_MSG(evaluation, criterion_score), scores, s, 1,
                             "criterion, score, comment");
            if (!cs)
                break;
            v->scores[v->n_scores++] = cs;
        }
        c->reviews[c->n_reviews++] = v;
    }
    PQclear(res);
    PQclear(scores);
    return rc;
}

static int s_load_decisions(ccip_db *db, const char *case_id, ccip_arena *a,
                            Ccip__Evaluation__Case *c)
{
    PGresult *res = NULL;
    int rc = s_query(db, &S_DECISIONS, case_id, &res);
    int n = rc == 0 ? PQntuples(res) : 0;
    c->decisions = ccip_arena_alloc(a, (size_t)n * sizeof *c->decisions + 1);
    for (int i = 0; c->decisions && i < n; i++) {
        Ccip__Evaluation__Decision *d =
            ccip_row_new(a, CCIP_MSG(evaluation, decision), res, i, 0,
                         "id, outcome, reasons, recommended_fen, return_to, round, decided_by, "
                         "decided_at_us, recommendation, score_centi");
        if (!d)
            break;
        c->decisions[c->n_decisions++] = d;
    }
    PQclear(res);
    return rc;
}

static int s_load_history(ccip_db *db, const char *case_id, ccip_arena *a,
                          Ccip__Evaluation__Case *c)
{
    PGresult *res = NULL;
    int rc = s_query(db, &S_HISTORY, case_id, &res);
    int n = rc == 0 ? PQntuples(res) : 0;
    c->history = ccip_arena_alloc(a, (size_t)n * sizeof *c->history + 1);
    for (int i = 0; c->history && i < n; i++) {
        Ccip__Evaluation__CaseLogEntry *e =
            ccip_row_new(a, CCIP_MSG(evaluation, case_log_entry), res, i, 0,
                         "at_us, actor_id, actor_role, action, detail");
        if (!e)
            break;
        c->history[c->n_history++] = e;
    }
    PQclear(res);
    if (rc != 0)
        return rc;
    rc = s_query(db, &S_DESIGNATION_OF, case_id, &res);
    if (rc == 0 && PQntuples(res) == 1)
        c->designation_id = ccip_arena_strdup(a, PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

int evaluation_case_load(ccip_db *db, const char *case_id, int full, ccip_arena *a,
                         Ccip__Evaluation__Case **out)
{
    *out = NULL;
    PGresult *res = NULL;
    int rc = s_query(db, &S_GET, case_id, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0;
    }
    Ccip__Evaluation__Case *c = s_case_message(a, res);
    if (!c) {
        PQclear(res);
        return 0;
    }
    evaluation_case_row row;
    memset(&row, 0, sizeof row);
    s_row_fill(&row, res);
    if (full) {
        Ccip__Evaluation__Aggregate *agg = ccip_arena_alloc(a, sizeof *agg);
        if (agg) {
            rc = evaluation_case_aggregate(db, &row, agg);
            c->aggregate = agg;
        }
        if (rc == 0)
            rc = s_load_investigations(db, case_id, a, c);
        if (rc == 0)
            rc = s_load_reviews(db, case_id, a, c);
        if (rc == 0)
            rc = s_load_decisions(db, case_id, a, c);
        if (rc == 0)
            rc = s_load_history(db, case_id, a, c);
    }
    evaluation_case_row_clear(&row);
    if (rc == 0 && !ccip_arena_failed(a))
        *out = c;
    return rc;
}

/* ---- commands ------------------------------------------------------------------- */

int evaluation_case_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__GetCaseRequest *rq = request;
    int rc = 0;
    char id[CCIP_UUID_STRLEN + 1] = "";
    if (rq->application_id[0] && !rq->case_id[0]) {
        rc = ccip_command_check_uuid(cmd, "application_id", rq->application_id);
        PGresult *res = NULL;
        if (rc == 0)
            rc = s_query(cmd->db, &S_BY_APPLICATION, rq->application_id, &res);
        if (rc == 0 && PQntuples(res) == 1)
            snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
        else if (rc == 0)
            rc = ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                   "application %s has no case (yet): a case opens when intake "
                                   "accepts the application",
                                   rq->application_id);
        PQclear(res);
    } else {
        rc = ccip_command_check_uuid(cmd, "case_id", rq->case_id);
        if (rc == 0)
            snprintf(id, sizeof id, "%s", rq->case_id);
    }
    if (rc != 0)
        return rc;
    Ccip__Evaluation__Case *c = NULL;
    rc = evaluation_case_load(cmd->db, id, 1, a, &c);
    if (rc != 0)
        return rc;
    if (!c) {
        rc = ccip_arena_failed(a)
                 ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory")
                 : ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no case %s", id);
        return rc;
    }
    Ccip__Evaluation__CaseReply reply = CCIP__EVALUATION__CASE_REPLY__INIT;
    reply.case_ = c;
    rc = ccip_command_reply(cmd, &reply.base);
    return rc;
}

static const ccip_db_stmt S_LIST = {
    "evaluation_case_list",
    "SELECT id, application_id, kind, applicant_uscc, applicant_name, title, status, round, "
    "(extract(epoch FROM opened_at) * 1000000)::bigint, coalesce(score_centi, 0) "
    "FROM case_file WHERE ($1 = '' OR status = $1) AND ($2 = '' OR kind = $2) "
    "AND id > coalesce(nullif($3, '')::uuid, '00000000-0000-0000-0000-000000000000'::uuid) "
    "ORDER BY id LIMIT $4::integer"};

int evaluation_case_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__ListCasesRequest *rq = request;
    int rc = 0;
    PGresult *res = NULL;
    const char *status = "", *kind = "";
    if (rq->status) {
        status = ccip_enum_name(&ccip__evaluation__case_status__descriptor, (int)rq->status);
        if (!status) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                   "field `status` has an unknown value %d", (int)rq->status);
            goto out;
        }
    }
    if (rq->kind) {
        kind = ccip_enum_name(&ccip__intake__call_kind__descriptor, (int)rq->kind);
        if (!kind) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                   "field `kind` has an unknown value %d", (int)rq->kind);
            goto out;
        }
    }
    if (rq->after_id[0] && (rc = ccip_command_check_uuid(cmd, "after_id", rq->after_id)) != 0)
        goto out;
    if (rq->limit < 0 || rq->limit > EVALUATION_LIST_MAX) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `limit` must be between 0 (= %d) and %d, got %d",
                               EVALUATION_LIST_DEFAULT, EVALUATION_LIST_MAX, rq->limit);
        goto out;
    }
    char limit[16];
    snprintf(limit, sizeof limit, "%d", rq->limit ? rq->limit : EVALUATION_LIST_DEFAULT);
    const char *v[] = {status, kind, rq->after_id, limit};
    rc = ccip_db_exec(cmd->db, &S_LIST, 4, v, NULL, NULL, &res);
    if (rc != 0)
        goto out;
    int n = PQntuples(res);
    Ccip__Evaluation__ListCasesReply reply = CCIP__EVALUATION__LIST_CASES_REPLY__INIT;
    reply.cases = ccip_arena_alloc(a, (size_t)n * sizeof *reply.cases + 1);
    for (int i = 0; reply.cases && i < n; i++) {
        Ccip__Evaluation__CaseSummary *s =
            ccip_row_new(a, CCIP_MSG(evaluation, case_summary), res, i, 0,
                         "id, application_id, kind, applicant_uscc, applicant_name, title, status, "
                         "round, opened_at_us, score_centi");
        if (!s)
            break;
        reply.cases[reply.n_cases++] = s;
    }
    rc = ccip_command_reply_built(cmd, a, &reply.base);
out:
    PQclear(res);
    return rc;
}
