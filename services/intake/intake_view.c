#include "intake_view.h"

#include <stdio.h>
#include <string.h>

#include "ccip_id.h"
#include "ccip_log.h"
#include "intake_validate.h"

static const ccip_db_stmt S_SET = {
    "intake_view_set",
    "INSERT INTO applicant_view (application_id, status, message, updated_at) "
    "VALUES ($1::uuid, $2, $3, now()) ON CONFLICT (application_id) DO UPDATE "
    "SET status = EXCLUDED.status, message = EXCLUDED.message, updated_at = EXCLUDED.updated_at"};

static const ccip_db_stmt S_TIMELINE = {
    "intake_view_timeline",
    "INSERT INTO applicant_timeline (application_id, at, status, message, source) "
    "VALUES ($1::uuid, now(), $2, $3, 'intake')"};

static const ccip_db_stmt S_EXISTS = {"intake_view_exists",
                                      "SELECT 1 FROM application WHERE id = $1::uuid"};

/* How far along an applicant status is: an event of another service moves
 * the view only forward, or sideways when it is not older than the view
 * (evaluation's and funding's streams are applied independently, and their
 * clocks are not intake's). */
#define RANK_SQL(col)                                                                              \
    "CASE " col " WHEN 'APPLICANT_IN_REVIEW' THEN 1 WHEN 'APPLICANT_APPROVED' THEN 2 "             \
    "WHEN 'APPLICANT_NOT_APPROVED' THEN 2 WHEN 'APPLICANT_FUNDED' THEN 3 "                         \
    "WHEN 'APPLICANT_NOT_FUNDED' THEN 3 WHEN 'APPLICANT_FUNDING_ENDED' THEN 3 ELSE 0 END"
#define EVENT_AT "('epoch'::timestamptz + $2::bigint * interval '1 microsecond')"

/* An event of another service: a timeline entry (once per event id), and
 * the status when it is further along, or as far along and not older. */
static const ccip_db_stmt S_EVENT = {
    "intake_view_event",
    "WITH t AS (INSERT INTO applicant_timeline (application_id, at, status, message, source, "
    "event_id) VALUES ($1::uuid, " EVENT_AT ", $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING "
    "RETURNING application_id) "
    "UPDATE applicant_view v SET status = $3, message = $4, updated_at = " EVENT_AT " FROM t "
    "WHERE v.application_id = t.application_id AND (" RANK_SQL("$3::text") " > " RANK_SQL(
        "v.status") " OR (" RANK_SQL("$3::text") " = " RANK_SQL("v.status") " AND v.updated_at "
                                                                            "<= " EVENT_AT "))"};

static const ccip_db_stmt S_LOAD = {
    "intake_view_load",
    "SELECT status, message, (extract(epoch FROM updated_at) * 1000000)::bigint "
    "FROM applicant_view WHERE application_id = $1::uuid"};

static const ccip_db_stmt S_LOAD_TIMELINE = {
    "intake_view_load_timeline",
    "SELECT (extract(epoch FROM at) * 1000000)::bigint, status, message, source "
    "FROM applicant_timeline WHERE application_id = $1::uuid ORDER BY at, id"};

Ccip__Intake__ApplicantStatus intake_view_status(const char *name)
{
    return (Ccip__Intake__ApplicantStatus)ccip_enum_value(
        &ccip__intake__applicant_status__descriptor, name);
}

int intake_view_entry(const char *from, const char *to, const char *reason, const char **status,
                      char *message, size_t len)
{
    int has_reason = reason && reason[0];
    *status = NULL;
    if (strcmp(to, INTAKE_DRAFT) == 0) {
        *status = "APPLICANT_DRAFT";
        snprintf(message, len, "draft created; complete it and submit it while the call is open");
    } else if (strcmp(to, INTAKE_SUBMITTED) == 0) {
        *status = "APPLICANT_RECEIVED";
        snprintf(message, len, "%s; the center checks it for completeness",
                 from && strcmp(from, INTAKE_RETURNED) == 0 ? "submitted again after correction"
                                                            : "submitted");
    } else if (strcmp(to, INTAKE_RETURNED) == 0) {
        *status = "APPLICANT_ACTION_REQUIRED";
        snprintf(message, len, "returned for correction: %s; correct it and submit again",
                 has_reason ? reason : "see the center's note");
    } else if (strcmp(to, INTAKE_ACCEPTED) == 0) {
        *status = "APPLICANT_IN_REVIEW";
        snprintf(message, len, "accepted as complete; the evaluation follows");
    } else if (strcmp(to, INTAKE_REJECTED) == 0) {
        *status = "APPLICANT_NOT_ACCEPTED";
        snprintf(message, len, "not accepted: %s", has_reason ? reason : "no reason given");
    } else if (strcmp(to, INTAKE_WITHDRAWN) == 0) {
        *status = "APPLICANT_WITHDRAWN";
        snprintf(message, len, "withdrawn by the applicant%s%s", has_reason ? ": " : "",
                 has_reason ? reason : "");
    } else {
        return -1;
    }
    return 0;
}

int intake_view_transition(ccip_db *db, const char *app_id, const char *from, const char *to,
                           const char *reason)
{
    const char *status = NULL;
    char message[INTAKE_VIEW_MESSAGE_MAX];
    if (intake_view_entry(from, to, reason, &status, message, sizeof message) < 0)
        return CCIP_DB_ERROR; /* a status the schema's CHECK would refuse too */
    const char *values[] = {app_id, status, message};
    int rc = ccip_db_exec(db, &S_SET, 3, values, NULL, NULL, NULL);
    if (rc != CCIP_DB_OK)
        return rc;
    return ccip_db_exec(db, &S_TIMELINE, 3, values, NULL, NULL, NULL);
}

int intake_view_load(ccip_db *db, const char *app_id, ccip_arena *a,
                     Ccip__Intake__ApplicantView **out)
{
    *out = NULL;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_LOAD, 1, &app_id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    Ccip__Intake__ApplicantView *v = ccip_arena_alloc(a, sizeof *v);
    if (!v) {
        PQclear(res);
        return 0;
    }
    *v = (Ccip__Intake__ApplicantView)CCIP__INTAKE__APPLICANT_VIEW__INIT;
    if (PQntuples(res) == 1) {
        v->status = intake_view_status(PQgetvalue(res, 0, 0));
        v->message = ccip_arena_strdup(a, PQgetvalue(res, 0, 1));
        v->updated_at_us = ccip_db_cell_i64(res, 0, 2);
    }
    PQclear(res);
    if ((rc = ccip_db_exec(db, &S_LOAD_TIMELINE, 1, &app_id, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    v->timeline = ccip_arena_alloc(a, (size_t)rows * sizeof *v->timeline);
    for (int r = 0; v->timeline && r < rows; r++) {
        Ccip__Intake__TimelineEntry *e = ccip_row_new(a, CCIP_MSG(intake, timeline_entry), res, r,
                                                      0, "at_us, , message, source");
        if (!e)
            break;
        e->status = intake_view_status(PQgetvalue(res, r, 1));
        v->timeline[v->n_timeline++] = e;
    }
    PQclear(res);
    if (!ccip_arena_failed(a))
        *out = v;
    return 0;
}

/* ---- events of evaluation and funding -------------------------------------- */

typedef struct {
    const char *type;    /* event type */
    const char *status;  /* applicant status it leads to */
    const char *message; /* timeline sentence */
} s_mapping;

static const s_mapping S_MAPPINGS[] = {
    {"evaluation.review.started.v1", "APPLICANT_IN_REVIEW", "the expert review has started"},
    {"evaluation.investigation.scheduled.v1", "APPLICANT_IN_REVIEW",
     "an on-site investigation has been scheduled"},
    {"evaluation.review.completed.v1", "APPLICANT_IN_REVIEW",
     "the expert review is complete; a decision follows"},
    {"evaluation.application.approved.v1", "APPLICANT_APPROVED", "approved"},
    {"evaluation.application.declined.v1", "APPLICANT_NOT_APPROVED", "not approved"},
    {"funding.award.granted.v1", "APPLICANT_FUNDED", "funds have been awarded"},
    {"funding.award.signed.v1", "APPLICANT_FUNDED", "the award agreement has been signed"},
    {"funding.award.suspended.v1", "APPLICANT_FUNDED", "payments are on hold"},
    {"funding.award.resumed.v1", "APPLICANT_FUNDED", "payments have resumed"},
    {"funding.award.completed.v1", "APPLICANT_FUNDED", "all funds have been paid"},
    {"funding.award.rejected.v1", "APPLICANT_NOT_FUNDED", "funding was not granted"},
    {"funding.award.terminated.v1", "APPLICANT_FUNDING_ENDED", "the award was terminated"},
};
#define NMAPPINGS (sizeof S_MAPPINGS / sizeof S_MAPPINGS[0])

int intake_view_apply(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    const s_mapping *m = NULL;
    for (size_t i = 0; i < NMAPPINGS; i++)
        if (strcmp(S_MAPPINGS[i].type, ev->type) == 0)
            m = &S_MAPPINGS[i];
    if (!m)
        return 0;
    if (strcmp(ev->aggregate_type, "application") != 0 || !ccip_uuid_valid(ev->aggregate_id)) {
        ccip_log_warn("skipped an event not about an intake application", "type", ev->type, "event",
                      ev->id, "aggregate_type", ev->aggregate_type, "aggregate_id",
                      ev->aggregate_id);
        return 0;
    }
    const char *id = ev->aggregate_id;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_EXISTS, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int known = PQntuples(res) == 1;
    PQclear(res);
    if (!known) {
        ccip_log_warn("skipped an event about an application intake does not know", "type",
                      ev->type, "event", ev->id, "application", id);
        return 0;
    }
    char at[24];
    snprintf(at, sizeof at, "%lld",
             (long long)(ev->occurred_at_us ? ev->occurred_at_us : ccip_now_us()));
    const char *values[] = {id, at, m->status, m->message, ev->source_service, ev->id};
    return ccip_db_exec(db, &S_EVENT, 6, values, NULL, NULL, NULL);
}
