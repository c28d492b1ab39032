#include "intake_applications.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ccip_id.h"
#include "intake_applicants.h"
#include "intake_calls.h"
#include "intake_documents.h"
#include "intake_history.h"
#include "intake_validate.h"
#include "intake_view.h"

#define LIST_MAX 500 /* applications one list reply holds, latest change first */

/* ---- statements ------------------------------------------------------------ */

static const ccip_db_stmt S_ROW = {
    "intake_application_row",
    "SELECT id, call_id, applicant_uscc, status FROM application WHERE id = $1::uuid"};

static const ccip_db_stmt S_ROW_LOCK = {
    "intake_application_row_lock",
    "SELECT id, call_id, applicant_uscc, status FROM application WHERE id = $1::uuid FOR UPDATE"};

static const ccip_db_stmt S_LIVE = {
    "intake_application_live",
    "SELECT id, status FROM application WHERE call_id = $1::uuid AND applicant_uscc = $2 "
    "AND status IN " INTAKE_SQL_LIVE_STATUSES " LIMIT 1"};

static const ccip_db_stmt S_INSERT = {
    "intake_application_insert",
    "INSERT INTO application (id, call_id, applicant_uscc, status, title, summary, district_code, "
    "requested_fen, created_by) VALUES ($1::uuid, $2::uuid, $3, 'DRAFT', $4, $5, $6, $7::bigint, "
    "$8)"};

static const ccip_db_stmt S_UPDATE = {
    "intake_application_update",
    "UPDATE application SET title = $2, summary = $3, district_code = $4, "
    "requested_fen = $5::bigint, updated_at = now() WHERE id = $1::uuid"};

static const ccip_db_stmt S_SET_STATUS = {
    "intake_application_set_status",
    "UPDATE application SET status = $2, updated_at = now(), "
    "submitted_at = CASE WHEN $2 = 'SUBMITTED' THEN now() ELSE submitted_at END, "
    "submissions = submissions + CASE WHEN $2 = 'SUBMITTED' THEN 1 ELSE 0 END, "
    "decided_at = CASE WHEN $2 IN ('ACCEPTED', 'REJECTED') THEN now() ELSE decided_at END "
    "WHERE id = $1::uuid AND status = $3"};

static const ccip_db_stmt S_LOAD = {
    "intake_application_load",
    "SELECT a.id, a.call_id, c.kind, c.year, a.applicant_uscc, o.name, a.district_code, a.title, "
    "a.summary, a.requested_fen, a.status, (extract(epoch FROM a.created_at) * 1000000)::bigint, "
    "(extract(epoch FROM a.updated_at) * 1000000)::bigint, "
    "(extract(epoch FROM a.submitted_at) * 1000000)::bigint, a.submissions, c.title "
    "FROM application a JOIN call c ON c.id = a.call_id "
    "JOIN organisation o ON o.uscc = a.applicant_uscc WHERE a.id = $1::uuid"};
enum {
    A_ID,
    A_CALL_ID,
    A_KIND,
    A_YEAR,
    A_USCC,
    A_ORG_NAME,
    A_DISTRICT,
    A_TITLE,
    A_SUMMARY,
    A_REQUESTED,
    A_STATUS,
    A_CREATED,
    A_UPDATED,
    A_SUBMITTED,
    A_SUBMISSIONS,
    A_CALL_TITLE,
};

static const ccip_db_stmt S_LIST = {
    "intake_application_list",
    "SELECT a.id, a.call_id, c.kind, a.applicant_uscc, o.name, a.title, a.status, "
    "coalesce(v.status, ''), a.requested_fen, (extract(epoch FROM a.updated_at) * 1000000)::bigint "
    "FROM application a JOIN call c ON c.id = a.call_id "
    "JOIN organisation o ON o.uscc = a.applicant_uscc "
    "LEFT JOIN applicant_view v ON v.application_id = a.id "
    "WHERE ($1::text = '' OR a.call_id = nullif($1::text, '')::uuid) "
    "AND ($2::text = '' OR a.applicant_uscc = $2::text) AND ($3::text = '' OR a.status = $3::text) "
    "ORDER BY a.updated_at DESC, a.id LIMIT 500"};

/* Kind-specific facts: replaced as a whole on every edit. */
static const ccip_db_stmt S_DEL_CLUSTER = {
    "intake_cluster_delete", "DELETE FROM cluster_facts WHERE application_id = $1::uuid"};
static const ccip_db_stmt S_DEL_TALENT = {
    "intake_talent_delete", "DELETE FROM talent_base_facts WHERE application_id = $1::uuid"};
static const ccip_db_stmt S_DEL_BUDGET = {
    "intake_budget_delete", "DELETE FROM budget_line WHERE application_id = $1::uuid"};
static const ccip_db_stmt S_INS_CLUSTER = {
    "intake_cluster_insert",
    "INSERT INTO cluster_facts (application_id, cluster_name, location, area_m2, "
    "enterprise_count, employee_count, lead_operator) "
    "VALUES ($1::uuid, $2, $3, $4::bigint, $5::integer, $6::integer, $7)"};
static const ccip_db_stmt S_INS_TALENT = {
    "intake_talent_insert", "INSERT INTO talent_base_facts (application_id, annual_capacity) "
                            "VALUES ($1::uuid, $2::integer)"};
static const ccip_db_stmt S_INS_PROGRAMME = {
    "intake_programme_insert",
    "INSERT INTO talent_programme (application_id, ordinal, name, capacity) "
    "VALUES ($1::uuid, $2::integer, $3, $4::integer)"};
static const ccip_db_stmt S_INS_BUDGET = {
    "intake_budget_insert", "INSERT INTO budget_line (application_id, ordinal, item, amount_fen) "
                            "VALUES ($1::uuid, $2::integer, $3, $4::bigint)"};
static const ccip_db_stmt S_GET_CLUSTER = {
    "intake_cluster_get",
    "SELECT cluster_name, location, area_m2, enterprise_count, employee_count, lead_operator "
    "FROM cluster_facts WHERE application_id = $1::uuid"};
static const ccip_db_stmt S_GET_TALENT = {
    "intake_talent_get",
    "SELECT annual_capacity FROM talent_base_facts WHERE application_id = $1::uuid"};
static const ccip_db_stmt S_GET_PROGRAMMES = {
    "intake_programmes_get",
    "SELECT name, capacity FROM talent_programme WHERE application_id = $1::uuid ORDER BY ordinal"};
static const ccip_db_stmt S_GET_BUDGET = {
    "intake_budget_get",
    "SELECT item, amount_fen FROM budget_line WHERE application_id = $1::uuid ORDER BY ordinal"};

/* ---- rows, ownership, states ---------------------------------------------- */

int intake_application_row(ccip_command *cmd, const char *id, int lock, int staff_may,
                           intake_app_row *row)
{
    char err[256];
    memset(row, 0, sizeof *row);
    if (intake_validate_uuid("application_id", id, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    PGresult *res = NULL;
    int rc = ccip_command_row(cmd, lock ? &S_ROW_LOCK : &S_ROW, 1, &id, &res,
                              "there is no application %s", id);
    if (rc != 0)
        return rc;
    snprintf(row->id, sizeof row->id, "%s", PQgetvalue(res, 0, 0));
    snprintf(row->call_id, sizeof row->call_id, "%s", PQgetvalue(res, 0, 1));
    snprintf(row->uscc, sizeof row->uscc, "%s", PQgetvalue(res, 0, 2));
    snprintf(row->status, sizeof row->status, "%s", PQgetvalue(res, 0, 3));
    PQclear(res);
    char what[64];
    snprintf(what, sizeof what, "application %s", row->id);
    return intake_check_owner(cmd, row->uscc, staff_may, what);
}

static int s_in(const char *status, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(status, *list) == 0)
            return 1;
    return 0;
}

static const char *const S_EDITABLE[] = {INTAKE_DRAFT, INTAKE_RETURNED, NULL};
static const char *const S_UNDECIDED[] = {INTAKE_DRAFT, INTAKE_SUBMITTED, INTAKE_RETURNED, NULL};
static const char *const S_SUBMITTED_ONLY[] = {INTAKE_SUBMITTED, NULL};

int intake_application_editable(ccip_command *cmd, const intake_app_row *row, const char *doing)
{
    if (s_in(row->status, S_EDITABLE))
        return 0;
    return ccip_command_fail(
        cmd, CCIP__STATUS__FAILED_PRECONDITION,
        "application %s is %s and cannot be %s; only a DRAFT or an application "
        "RETURNED for correction can",
        row->id, row->status, doing);
}

/* ---- loading ---------------------------------------------------------------- */

static int s_load_facts(ccip_command *cmd, Ccip__Intake__ApplicationContent *c,
                        Ccip__Intake__CallKind kind, const char *id, ccip_arena *a)
{
    PGresult *res = NULL;
    int rc;
    if (kind == CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION) {
        if ((rc = ccip_db_exec(cmd->db, &S_GET_CLUSTER, 1, &id, NULL, NULL, &res)) != CCIP_DB_OK)
            return rc;
        Ccip__Intake__ClusterFacts *f = PQntuples(res) == 1 ? ccip_arena_alloc(a, sizeof *f) : NULL;
        if (f) {
            *f = (Ccip__Intake__ClusterFacts)CCIP__INTAKE__CLUSTER_FACTS__INIT;
            ccip_row_fill(
                &f->base, res, 0, 0,
                "cluster_name, location, area_m2, enterprise_count, employee_count, lead_operator",
                a);
            c->facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
            c->cluster = f;
        }
        PQclear(res);
    } else if (kind == CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION) {
        if ((rc = ccip_db_exec(cmd->db, &S_GET_TALENT, 1, &id, NULL, NULL, &res)) != CCIP_DB_OK)
            return rc;
        Ccip__Intake__TalentBaseFacts *f =
            PQntuples(res) == 1 ? ccip_arena_alloc(a, sizeof *f) : NULL;
        if (f) {
            *f = (Ccip__Intake__TalentBaseFacts)CCIP__INTAKE__TALENT_BASE_FACTS__INIT;
            f->annual_capacity = (int32_t)ccip_db_cell_i64(res, 0, 0);
            c->facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE;
            c->talent_base = f;
        }
        PQclear(res);
        if (!f)
            return 0;
        if ((rc = ccip_db_exec(cmd->db, &S_GET_PROGRAMMES, 1, &id, NULL, NULL, &res)) != CCIP_DB_OK)
            return rc;
        int n = PQntuples(res);
        f->programmes = ccip_arena_alloc(a, (size_t)n * sizeof *f->programmes);
        for (int r = 0; f->programmes && r < n; r++) {
            Ccip__Intake__TrainingProgramme *p = ccip_arena_alloc(a, sizeof *p);
            if (!p)
                break;
            *p = (Ccip__Intake__TrainingProgramme)CCIP__INTAKE__TRAINING_PROGRAMME__INIT;
            p->name = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
            p->capacity = (int32_t)ccip_db_cell_i64(res, r, 1);
            f->programmes[f->n_programmes++] = p;
        }
        PQclear(res);
    } else if (kind == CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT) {
        if ((rc = ccip_db_exec(cmd->db, &S_GET_BUDGET, 1, &id, NULL, NULL, &res)) != CCIP_DB_OK)
            return rc;
        int n = PQntuples(res);
        Ccip__Intake__ProjectFacts *f = n > 0 ? ccip_arena_alloc(a, sizeof *f) : NULL;
        if (f) {
            *f = (Ccip__Intake__ProjectFacts)CCIP__INTAKE__PROJECT_FACTS__INIT;
            f->budget_lines = ccip_arena_alloc(a, (size_t)n * sizeof *f->budget_lines);
            for (int r = 0; f->budget_lines && r < n; r++) {
                Ccip__Intake__BudgetLine *b = ccip_arena_alloc(a, sizeof *b);
                if (!b)
                    break;
                *b = (Ccip__Intake__BudgetLine)CCIP__INTAKE__BUDGET_LINE__INIT;
                b->item = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
                b->amount_fen = ccip_db_cell_i64(res, r, 1);
                f->budget_lines[f->n_budget_lines++] = b;
            }
            c->facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT;
            c->project = f;
        }
        PQclear(res);
    }
    return 0;
}

int intake_application_load(ccip_command *cmd, const char *id, ccip_arena *a,
                            Ccip__Intake__Application **out)
{
    *out = NULL;
    PGresult *res = NULL;
    int rc = ccip_command_row(cmd, &S_LOAD, 1, &id, &res, "there is no application %s", id);
    if (rc != 0)
        return rc;
    Ccip__Intake__Application *app = ccip_arena_alloc(a, sizeof *app);
    Ccip__Intake__ApplicationContent *c = ccip_arena_alloc(a, sizeof *c);
    if (!app || !c) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "out of memory reading application %s", id);
    }
    *app = (Ccip__Intake__Application)CCIP__INTAKE__APPLICATION__INIT;
    *c = (Ccip__Intake__ApplicationContent)CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    ccip_row_fill(&app->base, res, 0, A_ID,
                  "id, call_id, kind, year, applicant_uscc, applicant_name, , , , , status, "
                  "created_at_us, updated_at_us, submitted_at_us, submissions, call_title",
                  a);
    c->district = ccip_arena_strdup(a, PQgetvalue(res, 0, A_DISTRICT));
    c->title = ccip_arena_strdup(a, PQgetvalue(res, 0, A_TITLE));
    c->summary = ccip_arena_strdup(a, PQgetvalue(res, 0, A_SUMMARY));
    c->requested_fen = ccip_db_cell_i64(res, 0, A_REQUESTED);
    app->content = c;
    PQclear(res);
    if ((rc = s_load_facts(cmd, c, app->kind, id, a)) != 0)
        return rc;
    if ((rc = intake_documents_load(cmd, id, a, &app->documents, &app->n_documents)) != 0)
        return rc;
    if ((rc = intake_history_load(cmd, id, a, &app->history, &app->n_history)) != 0)
        return rc;
    if ((rc = intake_view_load(cmd->db, id, a, &app->applicant_view)) != 0)
        return rc;
    if (ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "out of memory reading application %s", id);
    *out = app;
    return 0;
}

/* Applicants see their status through the applicant view only. */
static void s_redact(const ccip_command *cmd, Ccip__Intake__Application *app)
{
    if (strcmp(cmd->actor.role, "applicant") != 0)
        return;
    app->status = CCIP__INTAKE__APPLICATION_STATUS__APPLICATION_STATUS_UNSPECIFIED;
    app->history = NULL;
    app->n_history = 0;
}

int intake_application_reply(ccip_command *cmd, const char *id, ccip_arena *a)
{
    Ccip__Intake__Application *app = NULL;
    int rc = intake_application_load(cmd, id, a, &app);
    if (rc != 0)
        return rc;
    s_redact(cmd, app);
    Ccip__Intake__ApplicationReply reply = CCIP__INTAKE__APPLICATION_REPLY__INIT;
    reply.application = app;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- content ------------------------------------------------------------------ */

/* Writes the facts of content c for application id, replacing any when
 * `replace` is set (an update; a new draft has none to delete). */
static int s_write_facts(ccip_command *cmd, const char *id,
                         const Ccip__Intake__ApplicationContent *c, int replace)
{
    int rc;
    if (replace &&
        ((rc = ccip_db_exec(cmd->db, &S_DEL_CLUSTER, 1, &id, NULL, NULL, NULL)) != CCIP_DB_OK ||
         (rc = ccip_db_exec(cmd->db, &S_DEL_TALENT, 1, &id, NULL, NULL, NULL)) != CCIP_DB_OK ||
         (rc = ccip_db_exec(cmd->db, &S_DEL_BUDGET, 1, &id, NULL, NULL, NULL)) != CCIP_DB_OK))
        return rc;
    char n1[24], n2[24], n3[24];
    switch (c->facts_case) {
    case CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER: {
        const Ccip__Intake__ClusterFacts *f = c->cluster;
        snprintf(n1, sizeof n1, "%" PRId64, f->area_m2);
        snprintf(n2, sizeof n2, "%d", f->enterprise_count);
        snprintf(n3, sizeof n3, "%d", f->employee_count);
        const char *values[] = {id, f->cluster_name, f->location, n1, n2, n3, f->lead_operator};
        return ccip_db_exec(cmd->db, &S_INS_CLUSTER, 7, values, NULL, NULL, NULL);
    }
    case CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE: {
        const Ccip__Intake__TalentBaseFacts *f = c->talent_base;
        snprintf(n1, sizeof n1, "%d", f->annual_capacity);
        const char *values[] = {id, n1};
        if ((rc = ccip_db_exec(cmd->db, &S_INS_TALENT, 2, values, NULL, NULL, NULL)) != CCIP_DB_OK)
            return rc;
        for (size_t i = 0; i < f->n_programmes; i++) {
            snprintf(n1, sizeof n1, "%zu", i + 1);
            snprintf(n2, sizeof n2, "%d", f->programmes[i]->capacity);
            const char *pv[] = {id, n1, f->programmes[i]->name, n2};
            if ((rc = ccip_db_exec(cmd->db, &S_INS_PROGRAMME, 4, pv, NULL, NULL, NULL)) !=
                CCIP_DB_OK)
                return rc;
        }
        return 0;
    }
    case CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT: {
        const Ccip__Intake__ProjectFacts *f = c->project;
        for (size_t i = 0; i < f->n_budget_lines; i++) {
            snprintf(n1, sizeof n1, "%zu", i + 1);
            snprintf(n2, sizeof n2, "%" PRId64, f->budget_lines[i]->amount_fen);
            const char *bv[] = {id, n1, f->budget_lines[i]->item, n2};
            if ((rc = ccip_db_exec(cmd->db, &S_INS_BUDGET, 4, bv, NULL, NULL, NULL)) != CCIP_DB_OK)
                return rc;
        }
        return 0;
    }
    default:
        return 0;
    }
}

int intake_application_check_content(ccip_command *cmd, const Ccip__Intake__ApplicationContent *c,
                                     const Ccip__Intake__Call *call,
                                     const Ccip__Intake__Organisation *org, char district[8])
{
    char err[512];
    if (intake_validate_content(c, call->kind, call->max_request_fen, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    const ccip_district *d = c->district[0] ? ccip_district_find(c->district) : NULL;
    snprintf(district, 8, "%s", d ? d->code : org->district_code);
    return 0;
}

int intake_application_check_eligible(ccip_command *cmd, const Ccip__Intake__Call *call,
                                      const Ccip__Intake__Organisation *org)
{
    if (call->n_eligible_types == 0)
        return 0;
    char names[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < call->n_eligible_types; i++) {
        if (call->eligible_types[i] == org->type)
            return 0;
        used += (size_t)snprintf(names + used, used < sizeof names ? sizeof names - used : 0,
                                 "%s%s", i ? ", " : "",
                                 ccip_enum_name(&ccip__intake__organisation_type__descriptor,
                                                (int)call->eligible_types[i]));
    }
    const char *type = ccip_enum_name(&ccip__intake__organisation_type__descriptor, org->type);
    return ccip_command_fail(
        cmd, CCIP__STATUS__FAILED_PRECONDITION,
        "call %s accepts applications from %s only; organisation %s is registered "
        "as %s",
        call->id, names, org->uscc, type ? type : "?");
}

/* ---- draft and update ------------------------------------------------------------ */

int intake_application_applicant(ccip_command *cmd, const char *applicant_uscc, const char *call_id,
                                 const char *doing, char uscc[CCIP_USCC_LEN + 1])
{
    char own[CCIP_USCC_LEN + 1], err[512], shown[24];
    int rc = intake_actor_org(cmd, own);
    if (rc != 0)
        return rc;
    const char *asked = applicant_uscc[0] ? applicant_uscc : own;
    if (intake_validate_uuid("call_id", call_id, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    if (!own[0] || strcmp(asked, own) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "the caller acts for organisation %s and may not %s an "
                                 "application for organisation %s",
                                 own[0] ? own : "(none)", doing,
                                 ccip_text_shown(asked, 18, shown, sizeof shown));
    memcpy(uscc, own, CCIP_USCC_LEN + 1);
    return 0;
}

int intake_application_draft(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__DraftApplicationRequest *rq = request;
    char uscc[CCIP_USCC_LEN + 1];
    int rc = intake_application_applicant(cmd, rq->applicant_uscc, rq->call_id, "draft", uscc);
    if (rc != 0)
        return rc;
    Ccip__Intake__Call *call = NULL;
    Ccip__Intake__Organisation *org = NULL;
    char district[8];
    if ((rc = intake_call_load(cmd, rq->call_id, 0, a, &call)) != 0 ||
        (rc = intake_org_load(cmd, uscc, a, &org)) != 0 ||
        (rc = intake_application_check_content(cmd, rq->content, call, org, district)) != 0 ||
        (rc = intake_application_check_eligible(cmd, call, org)) != 0)
        return rc;

    const char *live_values[] = {call->id, uscc};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_LIVE, 2, live_values, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) == 1) {
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__ALREADY_EXISTS,
            "organisation %s already has a live application for call %s: %s (%s); "
            "continue that one, or withdraw it before starting another",
            uscc, call->id, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
        PQclear(res);
        return rc;
    }
    PQclear(res);

    char id[CCIP_UUID_STRLEN + 1], requested[24];
    if (ccip_uuid_v7(id) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not make an id");
    snprintf(requested, sizeof requested, "%" PRId64, rq->content->requested_fen);
    const char *values[] = {
        id,       call->id,  uscc,         rq->content->title, rq->content->summary,
        district, requested, cmd->actor.id};
    rc = ccip_db_exec(cmd->db, &S_INSERT, 8, values, NULL, NULL, NULL);
    if (rc == CCIP_DB_ERROR && strcmp(ccip_db_sqlstate(cmd->db), "23505") == 0)
        /* Another command drafted one between our look and our insert:
         * run again, and the look above names it. */
        return CCIP_DB_RETRYABLE;
    if (rc != CCIP_DB_OK)
        return rc;
    if ((rc = s_write_facts(cmd, id, rq->content, 0)) != 0 ||
        (rc = intake_history_append(cmd, id, NULL, INTAKE_DRAFT, "")) != 0)
        return rc;
    return intake_application_reply(cmd, id, a);
}

int intake_application_update(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__UpdateApplicationRequest *rq = request;
    intake_app_row row;
    int rc = intake_application_row(cmd, rq->application_id, 1, 0, &row);
    if (rc != 0 || (rc = intake_application_editable(cmd, &row, "edited")) != 0)
        return rc;
    Ccip__Intake__Call *call = NULL;
    Ccip__Intake__Organisation *org = NULL;
    char district[8], requested[24];
    if ((rc = intake_call_load(cmd, row.call_id, 0, a, &call)) != 0 ||
        (rc = intake_org_load(cmd, row.uscc, a, &org)) != 0 ||
        (rc = intake_application_check_content(cmd, rq->content, call, org, district)) != 0)
        return rc;
    snprintf(requested, sizeof requested, "%" PRId64, rq->content->requested_fen);
    const char *values[] = {row.id, rq->content->title, rq->content->summary, district, requested};
    if ((rc = ccip_db_exec(cmd->db, &S_UPDATE, 5, values, NULL, NULL, NULL)) != CCIP_DB_OK ||
        (rc = s_write_facts(cmd, row.id, rq->content, 1)) != 0)
        return rc;
    return intake_application_reply(cmd, row.id, a);
}

/* ---- transitions ------------------------------------------------------------------- */

typedef enum { ACT_SUBMIT, ACT_WITHDRAW, ACT_ACCEPT, ACT_RETURN, ACT_REJECT } s_act_kind;

typedef struct {
    s_act_kind kind;            /* what it does */
    const char *to;             /* status after */
    const char *const *from;    /* statuses it may come from */
    const char *from_text;      /* the same, for people */
    const char *verb;           /* "submitted" */
    int staff;                  /* 1: staff act; 0: the owner */
    int reason_required;        /* a reason must be given */
    const char *reason_purpose; /* "say <what>" when it is missing */
    const char *event;          /* event type published */
} s_action;

/* The type of each transition's command, in the order of s_act_kind. */
static const char *const S_ACTION_TYPES[] = {
    "intake.application.submit.v1", "intake.application.withdraw.v1",
    "intake.application.accept.v1", "intake.application.return.v1",
    "intake.application.reject.v1", NULL,
};

/* The transitions, in the order of s_act_kind. */
static const s_action S_ACTIONS[] = {
    [ACT_SUBMIT] = {.kind = ACT_SUBMIT,
                    .to = INTAKE_SUBMITTED,
                    .from = S_EDITABLE,
                    .from_text = "DRAFT or RETURNED",
                    .verb = "submitted",
                    .reason_purpose = "",
                    .event = "intake.application.submitted.v1"},
    [ACT_WITHDRAW] = {.kind = ACT_WITHDRAW,
                      .to = INTAKE_WITHDRAWN,
                      .from = S_UNDECIDED,
                      .from_text = "DRAFT, SUBMITTED or RETURNED, before a decision",
                      .verb = "withdrawn",
                      .reason_purpose = "",
                      .event = "intake.application.withdrawn.v1"},
    [ACT_ACCEPT] = {.kind = ACT_ACCEPT,
                    .to = INTAKE_ACCEPTED,
                    .from = S_SUBMITTED_ONLY,
                    .from_text = "SUBMITTED",
                    .verb = "accepted",
                    .staff = 1,
                    .reason_purpose = "",
                    .event = "intake.application.accepted.v1"},
    [ACT_RETURN] = {.kind = ACT_RETURN,
                    .to = INTAKE_RETURNED,
                    .from = S_SUBMITTED_ONLY,
                    .from_text = "SUBMITTED",
                    .verb = "returned",
                    .staff = 1,
                    .reason_required = 1,
                    .reason_purpose = "what the applicant must correct",
                    .event = "intake.application.returned.v1"},
    [ACT_REJECT] = {.kind = ACT_REJECT,
                    .to = INTAKE_REJECTED,
                    .from = S_SUBMITTED_ONLY,
                    .from_text = "SUBMITTED",
                    .verb = "rejected",
                    .staff = 1,
                    .reason_required = 1,
                    .reason_purpose = "why the application is rejected",
                    .event = "intake.application.rejected.v1"},
};

/* Everything a submission needs besides the window: content and documents. */
static int s_check_complete(ccip_command *cmd, const Ccip__Intake__Application *app)
{
    char problems[400];
    char missing[300];
    int n = intake_incomplete(app->content, app->kind, problems, sizeof problems);
    int nmissing = 0;
    int rc =
        intake_documents_missing(cmd, app->id, app->call_id, missing, sizeof missing, &nmissing);
    if (rc != 0)
        return rc;
    if (n == 0 && nmissing == 0)
        return 0;
    return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                             "application %s cannot be submitted yet: %s%s%s%s%s", app->id,
                             n ? problems : "", n && nmissing ? "; " : "",
                             nmissing ? "required documents missing: " : "",
                             nmissing ? missing : "",
                             nmissing ? " (add them with intake.application.document.add.v1)" : "");
}

/* The facts of an application, as the accepted event carries them. */
static void s_accepted_facts(Ccip__Intake__ApplicationAccepted *ev,
                             const Ccip__Intake__ApplicationContent *c)
{
    switch (c->facts_case) {
    case CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER:
        ev->facts_case = CCIP__INTAKE__APPLICATION_ACCEPTED__FACTS_CLUSTER;
        ev->cluster = c->cluster;
        break;
    case CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE:
        ev->facts_case = CCIP__INTAKE__APPLICATION_ACCEPTED__FACTS_TALENT_BASE;
        ev->talent_base = c->talent_base;
        break;
    case CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT:
        ev->facts_case = CCIP__INTAKE__APPLICATION_ACCEPTED__FACTS_PROJECT;
        ev->project = c->project;
        break;
    default:
        break;
    }
}

int intake_application_emit_submitted(ccip_command *cmd, const Ccip__Intake__Application *app)
{
    Ccip__Intake__ApplicationSubmitted ev = CCIP__INTAKE__APPLICATION_SUBMITTED__INIT;
    ev.application_id = app->id;
    ev.call_id = app->call_id;
    ev.kind = app->kind;
    ev.year = app->year;
    ev.applicant_uscc = app->applicant_uscc;
    ev.applicant_name = app->applicant_name;
    ev.title = app->content->title;
    ev.requested_fen = app->content->requested_fen;
    ev.submissions = app->submissions;
    ev.submitted_at_us = app->submitted_at_us;
    return ccip_command_emit(cmd, "intake.application.submitted.v1", "application", app->id,
                             &ev.base);
}

static int s_emit_for(ccip_command *cmd, const s_action *act, const Ccip__Intake__Application *app,
                      const char *from, const char *reason, ccip_arena *a)
{
    if (act->kind == ACT_SUBMIT)
        return intake_application_emit_submitted(cmd, app);
    if (act->kind == ACT_ACCEPT) {
        Ccip__Intake__Call *call = NULL;
        Ccip__Intake__Organisation *org = NULL;
        int rc = intake_call_load(cmd, app->call_id, 0, a, &call);
        if (rc != 0 || (rc = intake_org_load(cmd, app->applicant_uscc, a, &org)) != 0)
            return rc;
        Ccip__Intake__ApplicationAccepted ev = CCIP__INTAKE__APPLICATION_ACCEPTED__INIT;
        ev.application_id = app->id;
        ev.kind = app->kind;
        ev.call_id = app->call_id;
        ev.year = app->year;
        ev.call_title = call->title;
        ev.fund_programme_code = call->fund_programme_code;
        ev.applicant = org;
        ev.district_code = app->content->district;
        ev.title = app->content->title;
        ev.summary = app->content->summary;
        ev.requested_fen = app->content->requested_fen;
        s_accepted_facts(&ev, app->content);
        ev.documents = app->documents;
        ev.n_documents = app->n_documents;
        ev.submitted_at_us = app->submitted_at_us;
        ev.accepted_at_us = app->updated_at_us;
        ev.accepted_by = (char *)cmd->actor.id;
        ev.note = (char *)reason;
        return ccip_command_emit(cmd, act->event, "application", app->id, &ev.base);
    }
    Ccip__Intake__ApplicationTransitioned ev = CCIP__INTAKE__APPLICATION_TRANSITIONED__INIT;
    ev.application_id = app->id;
    ev.call_id = app->call_id;
    ev.kind = app->kind;
    ev.applicant_uscc = app->applicant_uscc;
    ev.from_status = (Ccip__Intake__ApplicationStatus)ccip_enum_value(
        &ccip__intake__application_status__descriptor, from);
    ev.to_status = app->status;
    ev.reason = (char *)reason;
    ev.at_us = app->updated_at_us;
    return ccip_command_emit(cmd, act->event, "application", app->id, &ev.base);
}

int intake_application_act(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__ApplicationActionRequest *rq = request;
    int k = ccip_command_type_index(cmd, S_ACTION_TYPES);
    if (k < 0)
        return CCIP_REPLIED;
    const s_action *act = &S_ACTIONS[k];
    char err[512];
    if (intake_validate_reason(rq->reason, act->reason_required, act->reason_purpose, err,
                               sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    intake_app_row row;
    int rc = intake_application_row(cmd, rq->application_id, 1, act->staff, &row);
    if (rc != 0)
        return rc;
    if (!s_in(row.status, act->from)) {
        if (strcmp(row.status, act->to) == 0)
            return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                     "application %s is already %s; nothing to do", row.id,
                                     row.status);
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "application %s is %s; it can be %s only while it is %s", row.id,
                                 row.status, act->verb, act->from_text);
    }
    Ccip__Intake__Application *app = NULL;
    if ((rc = intake_application_load(cmd, row.id, a, &app)) != 0)
        return rc;
    if (act->kind == ACT_SUBMIT) {
        /* A returned application was submitted in time: its correction may
         * come after the close. */
        if (strcmp(row.status, INTAKE_DRAFT) == 0 &&
            (rc = intake_call_check_window(cmd, row.call_id)) != 0)
            return rc;
        if ((rc = s_check_complete(cmd, app)) != 0)
            return rc;
    }
    if (act->kind == ACT_ACCEPT) {
        Ccip__Intake__Organisation *org = NULL;
        char name[84];
        if ((rc = intake_org_load(cmd, row.uscc, a, &org)) != 0)
            return rc;
        if (!org->verified)
            return ccip_command_fail(
                cmd, CCIP__STATUS__FAILED_PRECONDITION,
                "organisation %s (%s) is not verified yet; verify it with "
                "intake.organisation.verify.v1 before accepting its applications",
                org->uscc, ccip_text_shown(org->name, 80, name, sizeof name));
    }
    const char *values[] = {row.id, act->to, row.status};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_SET_STATUS, 3, values, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    int changed = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (!changed) /* cannot happen under the row lock; be loud rather than wrong */
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "application %s changed status while being %s", row.id, act->verb);
    if ((rc = intake_history_append(cmd, row.id, row.status, act->to, rq->reason)) != 0)
        return rc;
    /* The reply and the event show the application as it is now. */
    if ((rc = intake_application_load(cmd, row.id, a, &app)) != 0 ||
        (rc = s_emit_for(cmd, act, app, row.status, rq->reason, a)) != 0)
        return rc;
    s_redact(cmd, app);
    Ccip__Intake__ApplicationReply reply = CCIP__INTAKE__APPLICATION_REPLY__INIT;
    reply.application = app;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- reading ------------------------------------------------------------------------- */

typedef struct {
    ccip_command *cmd;              /* the command */
    const char *id;                 /* application asked for */
    ccip_arena *a;                  /* this attempt's allocations */
    Ccip__Intake__Application *app; /* what was read */
} s_get_state;

/* One attempt of reading an application in one snapshot. */
static int s_get_tx(ccip_db *db, void *arg)
{
    (void)db; /* the command's connection, which the helpers use */
    s_get_state *st = arg;
    ccip_arena_destroy(&st->a);
    st->app = NULL;
    st->cmd->status = CCIP__STATUS__OK;
    st->cmd->error[0] = '\0';
    if (!(st->a = ccip_arena_new())) {
        ccip_command_fail(st->cmd, CCIP__STATUS__INTERNAL, "out of memory");
        return 0;
    }
    intake_app_row row;
    int rc = intake_application_row(st->cmd, st->id, 0, 1, &row);
    if (rc == 0)
        rc = intake_application_load(st->cmd, row.id, st->a, &st->app);
    /* A refusal (CCIP_REPLIED) ends the snapshot like a read: only a failed
     * statement rolls back (and is retried). */
    return rc == CCIP_REPLIED ? 0 : rc;
}

int intake_application_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)a; /* each attempt of the snapshot has its own */
    const Ccip__Intake__GetApplicationRequest *rq = request;
    s_get_state st = {.cmd = cmd, .id = rq->application_id};
    int rc = ccip_db_tx(cmd->db, CCIP_DB_REPEATABLE_READ, 3, s_get_tx, &st);
    if (rc == 0 && cmd->status == CCIP__STATUS__OK && st.app) {
        s_redact(cmd, st.app);
        Ccip__Intake__ApplicationReply reply = CCIP__INTAKE__APPLICATION_REPLY__INIT;
        reply.application = st.app;
        rc = ccip_command_reply(cmd, &reply.base);
    }
    ccip_arena_destroy(&st.a);
    return rc;
}

int intake_application_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__ListApplicationsRequest *rq = request;
    char own[CCIP_USCC_LEN + 1], err[256];
    int rc = intake_actor_org(cmd, own);
    if (rc != 0)
        return rc;
    const char *uscc = rq->applicant_uscc;
    char shown[24];
    if (own[0]) {
        if (uscc[0] && strcmp(uscc, own) != 0)
            return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                     "the caller acts for organisation %s and may not list the "
                                     "applications of organisation %s",
                                     own, ccip_text_shown(uscc, 18, shown, sizeof shown));
        uscc = own;
    }
    if (rq->call_id[0] && intake_validate_uuid("call_id", rq->call_id, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    const char *status = "";
    if (rq->status) {
        status = ccip_enum_name(&ccip__intake__application_status__descriptor, (int)rq->status);
        if (!status)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `status` has the unknown value %d", (int)rq->status);
    }
    const char *values[] = {rq->call_id, uscc, status};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_LIST, 3, values, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    int n = PQntuples(res);
    if (n > LIST_MAX)
        n = LIST_MAX;
    Ccip__Intake__ListApplicationsReply reply = CCIP__INTAKE__LIST_APPLICATIONS_REPLY__INIT;
    reply.applications = ccip_arena_alloc(a, (size_t)n * sizeof *reply.applications);
    int applicant = own[0] != '\0';
    for (int r = 0; reply.applications && r < n; r++) {
        Ccip__Intake__ApplicationSummary *s =
            ccip_row_new(a, CCIP_MSG(intake, application_summary), res, r, 0,
                         "id, call_id, kind, applicant_uscc, applicant_name, title");
        if (!s)
            break;
        if (!applicant)
            ccip_row_fill(&s->base, res, r, 6, "status, , requested_fen, updated_at_us", a);
        s->applicant_status = intake_view_status(PQgetvalue(res, r, 7));
        reply.applications[reply.n_applications++] = s;
    }
    PQclear(res);
    return ccip_command_reply_built(cmd, a, &reply.base);
}
