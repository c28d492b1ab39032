#include "followup_projects.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_log.h"
#include "ccip_outbox.h"
#include "ccip_pgarray.h"
#include "ccip_row.h"
#include "followup_sweep.h"

#define TITLE_MAX       200
#define NAME_MAX_CHARS  200
#define DESCRIPTION_MAX 2000
#define PROBLEMS_MAX    5000
#define NOTE_MAX        2000
#define MILESTONES_MAX  50
#define LIST_DEFAULT    200
#define LIST_MAX        2000
#define WORKS_MAX       100

#define TS CCIP_SQL_TS
#define US CCIP_SQL_US

/* What the reading helpers below return when memory ran out, apart from
 * the ccip_db_rc of a failed statement; handlers answer it INTERNAL. */
#define S_OOM (-50)

enum {
    P_ID,
    P_YEAR,
    P_SOURCE,
    P_AWARD,
    P_DESIGNATION,
    P_TITLE,
    P_OWNER,
    P_OWNER_NAME,
    P_DISTRICT,
    P_PLANNED,
    P_START,
    P_END,
    P_DESCRIPTION,
    P_STATUS,
    P_COMPLETED,
    P_LAST_MONTH,
    P_REGISTERED_AT,
    P_REGISTERED_BY,
    P_CLOSED_AT,
    P_CLOSE_REASON,
};
_Static_assert(P_CLOSE_REASON + 1 == FOLLOWUP_PROJECT_NCOLUMNS, "project columns");

enum { M_ID, M_SEQ, M_TITLE, M_PLANNED, M_DUE, M_PERCENT, M_REACHED, M_PROGRESS_AT };
_Static_assert(M_PROGRESS_AT + 1 == FOLLOWUP_MILESTONE_NCOLUMNS, "milestone columns");

/* What a project's state depends on, after its columns: $1 now and $2 now
 * + FOLLOWUP_RISK_DAYS, UTC microseconds (the same bounds as
 * followup_project_state's facts and the sweep's). From FACTS_FROM. */
#define FACTS                                                                                      \
    "(SELECT count(*) FROM milestone m WHERE m.project_id = p.id AND m.active AND m.reached_on "   \
    "IS NULL AND m.due_at <= " TS(                                                                 \
        "$1") "), (SELECT count(*) FROM milestone m WHERE m.project_id "                           \
              "= p.id AND m.active AND m.reached_on IS NULL AND "                                  \
              "m.progress_percent = 0 AND m.due_at > " TS("$1") " AND m.due_at <= " TS(            \
                  "$2") "), "                                                                      \
                        "coalesce(a.status, ''), coalesce(a.status_"                               \
                        "reason, ''), (SELECT count(*) FROM "                                      \
                        "award_clawback c WHERE c.award_id = "                                     \
                        "p.award_id AND c.status = 'CLAWBACK_OPEN'), "                             \
                        "coalesce(d.status, ''), "                                                 \
                        "coalesce(d.revoke_reason, '')"
#define NFACTS 7
#define FACTS_FROM                                                                                 \
    "project p LEFT JOIN award a ON a.id = p.award_id LEFT JOIN designation d ON d.id = "          \
    "p.designation_id"

static const ccip_db_stmt S_AWARD = {
    "followup_project_award",
    "SELECT grantee_uscc, grantee_name, title, status, year FROM award WHERE id = $1::uuid"};

static const ccip_db_stmt S_DESIGNATION = {
    "followup_project_designation",
    "SELECT holder_uscc, holder_name, name, district_code, status, certificate_no FROM "
    "designation WHERE id = $1::uuid"};

/* The case a project is in: its award's or its designation's (the root id
 * followup_feed kept from their events); "" when neither knows one. */
static const ccip_db_stmt S_CASE = {
    "followup_project_case",
    "SELECT coalesce(a.case_root, d.case_root)::text FROM project p LEFT JOIN award a ON a.id = "
    "p.award_id LEFT JOIN designation d ON d.id = p.designation_id WHERE p.id = $1::uuid"};

static const ccip_db_stmt S_DUPLICATE = {
    "followup_project_duplicate",
    "SELECT id::text, title FROM project WHERE year = $1::integer AND (award_id = NULLIF($2, "
    "'')::uuid OR designation_id = NULLIF($3, '')::uuid OR (owner_uscc = $4 AND title = $5)) "
    "LIMIT 1"};

static const ccip_db_stmt S_INSERT = {
    "followup_project_insert",
    "INSERT INTO project (id, year, source, award_id, designation_id, title, owner_uscc, "
    "owner_name, district_code, planned_investment_fen, start_date, end_date, description, "
    "report_check_month, report_check_due_at, registered_by) VALUES ($1::uuid, $2::integer, $3, "
    "NULLIF($4, '')::uuid, NULLIF($5, '')::uuid, $6, $7, $8, $9, $10::bigint, $11::date, "
    "$12::date, $13, to_date(NULLIF($14, ''), 'YYYY-MM'), " TS("NULLIF($15, '')") ", $16)"};

static const ccip_db_stmt S_MILESTONE = {
    "followup_project_milestone",
    "WITH s AS (UPDATE project SET milestones = milestones + 1 WHERE id = $2::uuid RETURNING "
    "milestones) INSERT INTO milestone (id, project_id, seq, title, planned_date, due_at, "
    "created_by) SELECT $1::uuid, $2::uuid, s.milestones, $3, $4::date, " TS("$5") ", $6 FROM s"};

static const ccip_db_stmt S_LOCK = {"followup_project_lock",
                                    "SELECT " FOLLOWUP_PROJECT_COLUMNS
                                    " FROM project p WHERE p.id = $1::uuid FOR UPDATE"};

/* $1, $2 as in FACTS, $3 the project. */
static const ccip_db_stmt S_GET = {"followup_project_get",
                                   "SELECT " FOLLOWUP_PROJECT_COLUMNS ", " FACTS " FROM " FACTS_FROM
                                   " WHERE p.id = $3::uuid"};

static const ccip_db_stmt S_MILESTONES = {
    "followup_project_milestones",
    "SELECT m.project_id::text, " FOLLOWUP_MILESTONE_COLUMNS
    " FROM milestone m WHERE m.project_id = ANY ($1::uuid[]) ORDER BY m.project_id, m.seq"};

static const ccip_db_stmt S_CURRENT_REPORT = {
    "followup_project_current_report",
    "SELECT id::text, version, " US("filed_at") ", filed_by, investment_completed_fen FROM "
                                                "monthly_report WHERE project_id = $1::uuid AND "
                                                "month = to_date($2, 'YYYY-MM') AND current"};

static const ccip_db_stmt S_SUPERSEDE = {
    "followup_project_supersede", "UPDATE monthly_report SET current = false WHERE id = $1::uuid"};

static const ccip_db_stmt S_REPORT_INSERT = {
    "followup_project_report_insert",
    "INSERT INTO monthly_report (id, project_id, month, version, current, "
    "investment_completed_fen, problems, filed_by, correction_reason) VALUES ($1::uuid, $2::uuid, "
    "to_date($3, 'YYYY-MM'), $4::integer, true, $5::bigint, $6, $7, $8)"};

static const ccip_db_stmt S_PROGRESS_INSERT = {
    "followup_project_progress_insert",
    "INSERT INTO report_progress (report_id, milestone_id, percent, reached_on, note) SELECT "
    "$1::uuid, * FROM unnest($2::uuid[], $3::integer[], $4::date[], $5::text[])"};

/* A report moves a milestone unless a report of a later month already did
 * (a correction of an old month does not undo newer progress). */
static const ccip_db_stmt S_MILESTONE_PROGRESS = {
    "followup_project_milestone_progress",
    "UPDATE milestone m SET progress_percent = u.percent, reached_on = u.reached_on, progress_at "
    "= now(), progress_month = to_date($5, 'YYYY-MM') FROM unnest($1::uuid[], $2::integer[], "
    "$3::date[]) AS u(id, percent, reached_on) WHERE m.id = u.id AND m.project_id = $4::uuid AND "
    "(m.progress_month IS NULL OR m.progress_month <= to_date($5, 'YYYY-MM'))"};

static const ccip_db_stmt S_PROJECT_REPORTED = {
    "followup_project_reported",
    "UPDATE project SET investment_completed_fen = CASE WHEN last_reported_month IS NULL OR "
    "last_reported_month <= to_date($2, 'YYYY-MM') THEN $3::bigint ELSE "
    "investment_completed_fen END, last_reported_month = greatest(last_reported_month, "
    "to_date($2, 'YYYY-MM')) WHERE id = $1::uuid"};

static const ccip_db_stmt S_CLOSE = {
    "followup_project_close",
    "WITH m AS (UPDATE milestone SET active = false WHERE project_id = $1::uuid) UPDATE project "
    "SET status = $2, closed_at = now(), closed_by = $3, close_reason = $4, report_check_month "
    "= NULL, report_check_due_at = NULL WHERE id = $1::uuid"};

static const ccip_db_stmt S_REPORTS = {
    "followup_project_reports",
    "SELECT id::text, to_char(month, 'YYYY-MM'), version, current, investment_completed_fen, "
    "problems, " US("filed_at") ", filed_by, correction_reason FROM monthly_report WHERE "
                                "project_id = $1::uuid ORDER BY month DESC, version DESC"};

static const ccip_db_stmt S_REPORT_PROGRESS = {
    "followup_project_report_progress",
    "SELECT r.report_id::text, r.milestone_id::text, r.percent, coalesce(r.reached_on::text, ''), "
    "r.note FROM report_progress r JOIN monthly_report mr ON mr.id = r.report_id WHERE "
    "mr.project_id = $1::uuid ORDER BY r.report_id, r.milestone_id"};

static const ccip_db_stmt S_ESCALATIONS = {"followup_project_escalations",
                                           "SELECT " FOLLOWUP_ESCALATION_COLUMNS
                                           " FROM " FOLLOWUP_ESCALATION_FROM
                                           " WHERE e.project_id = $1::uuid ORDER BY e.id"};

static const ccip_db_stmt S_AWARD_INFO = {
    "followup_project_award_info",
    "SELECT id::text, coalesce(application_id::text, ''), programme_code, year, amount_fen, "
    "status, status_reason, disbursed_fen FROM award WHERE id = $1::uuid"};

static const ccip_db_stmt S_TRANCHES = {"followup_project_tranches",
                                        "SELECT payment_id::text, tranche_number, amount_fen, " US(
                                            "paid_at") " FROM award_payment WHERE award_id = "
                                                       "$1::uuid ORDER BY tranche_number, paid_at"};

static const ccip_db_stmt S_INSPECTIONS = {
    "followup_project_inspections",
    "SELECT inspection_id::text, kind, finding, notes, " US("correct_by") ", misused_fen, " US(
        "recorded_at") " FROM award_inspection WHERE award_id = $1::uuid ORDER BY recorded_at"};

static const ccip_db_stmt S_CLAWBACKS = {
    "followup_project_clawbacks",
    "SELECT clawback_id::text, amount_fen, recovered_fen, status, reason, " US(
        "ordered_at") " FROM award_clawback WHERE award_id = $1::uuid ORDER BY ordered_at"};

static const ccip_db_stmt S_DESIGNATION_INFO = {
    "followup_project_designation_info",
    "SELECT id::text, certificate_no, name, status, " US(
        "valid_until") ", revoke_reason FROM designation WHERE id = $1::uuid"};

/* The owner's works registered from the project's start on. */
static const ccip_db_stmt S_WORKS = {
    "followup_project_works",
    "SELECT w.id::text, w.serial, w.title, w.kind, " US(
        "w.registered_at") " FROM work_owner o JOIN work w ON w.id = o.work_id WHERE o.party = $1 "
                           "AND w.registered_at >= " TS("$2") " ORDER BY w.registered_at DESC, "
                                                              "w.id LIMIT $3::integer"};

/* $1, $2 as in FACTS; $3 year (0 any), $4 district ('' any), $5 owner (''
 * any), $6 active only, $7 limit. */
static const ccip_db_stmt S_LIST = {
    "followup_project_list",
    "SELECT " FOLLOWUP_PROJECT_COLUMNS ", " FACTS " FROM " FACTS_FROM
    " WHERE ($3::integer = 0 OR p.year = $3::integer) AND ($4 = '' OR p.district_code = $4) AND "
    "($5 = '' OR p.owner_uscc = $5) AND (NOT $6::boolean OR p.status = 'PROJECT_ACTIVE') ORDER BY "
    "p.year DESC, p.registered_at, p.id LIMIT $7::integer"};

/* The projects following an award or a designation. */
static const ccip_db_stmt S_FOLLOWING = {
    "followup_project_following",
    "SELECT " FOLLOWUP_PROJECT_COLUMNS ", " FACTS " FROM " FACTS_FROM
    " WHERE p.status = 'PROJECT_ACTIVE' AND (p.award_id = NULLIF($3, '')::uuid OR "
    "p.designation_id = NULLIF($4, '')::uuid) ORDER BY p.id"};

/* ---- rows ---------------------------------------------------------------------- */

Ccip__Followup__Project *followup_project_from_row(const PGresult *res, int row, int col0,
                                                   ccip_arena *a)
{
    return ccip_row_new(a, CCIP_MSG(followup, project), res, row, col0,
                        "id, year, source, award_id, designation_id, title, owner_uscc, "
                        "owner_name, district_code, planned_investment_fen, start_date, end_date, "
                        "description, status, investment_completed_fen, last_reported_month, "
                        "registered_at_us, registered_by, closed_at_us, close_reason");
}

Ccip__Followup__Milestone *followup_milestone_from_row(const PGresult *res, int row, int col0,
                                                       int64_t now_us, ccip_arena *a)
{
    Ccip__Followup__Milestone *m = ccip_row_new(
        a, CCIP_MSG(followup, milestone), res, row, col0,
        "id, seq, title, planned_date, due_at_us, progress_percent, reached_on, progress_at_us");
    if (!m)
        return NULL;
    if (m->reached_on[0]) {
        followup_day reached;
        m->late = followup_day_parse("", m->reached_on, &reached, NULL, 0) == 0 &&
                  followup_day_start_us(reached) >= m->due_at_us;
    } else {
        m->late = now_us >= m->due_at_us;
    }
    return m;
}

/* The state of an active project from its facts (the NFACTS columns at
 * col), with a sentence per reason. */
static int s_state(Ccip__Followup__Project *p, const PGresult *res, int row, int col, ccip_arena *a)
{
    if (p->status != CCIP__FOLLOWUP__PROJECT_STATUS__PROJECT_ACTIVE)
        return 0;
    followup_project_facts f = {0};
    f.milestones_late = (int)ccip_db_cell_i64(res, row, col);
    f.milestones_at_risk = (int)ccip_db_cell_i64(res, row, col + 1);
    const char *award = PQgetvalue(res, row, col + 2);
    const char *award_reason = PQgetvalue(res, row, col + 3);
    f.award_suspended = strcmp(award, "AWARD_SUSPENDED") == 0;
    f.award_terminated = strcmp(award, "AWARD_TERMINATED") == 0;
    f.clawbacks_open = (int)ccip_db_cell_i64(res, row, col + 4);
    f.designation_revoked = strcmp(PQgetvalue(res, row, col + 5), "DESIGNATION_REVOKED") == 0;
    const char *revoke_reason = PQgetvalue(res, row, col + 6);
    p->state = (Ccip__Followup__BoardState)followup_project_state(&f);
    char *reasons[6];
    char buf[400];
    size_t n = 0;
#define REASON(...)                                                                                \
    do {                                                                                           \
        snprintf(buf, sizeof buf, __VA_ARGS__);                                                    \
        reasons[n++] = ccip_arena_strdup(a, buf);                                                  \
    } while (0)
    if (f.milestones_late)
        REASON("%d milestone%s past the planned day and not reached", f.milestones_late,
               f.milestones_late > 1 ? "s" : "");
    if (f.milestones_at_risk)
        REASON("%d milestone%s due within %d days without progress", f.milestones_at_risk,
               f.milestones_at_risk > 1 ? "s" : "", FOLLOWUP_RISK_DAYS);
    if (f.award_suspended)
        REASON("the funding award is suspended%s%s", award_reason[0] ? ": " : "", award_reason);
    if (f.award_terminated)
        REASON("the funding award was terminated%s%s", award_reason[0] ? ": " : "", award_reason);
    if (f.clawbacks_open)
        REASON("%d clawback%s of the award not recovered", f.clawbacks_open,
               f.clawbacks_open > 1 ? "s" : "");
    if (f.designation_revoked)
        REASON("the designation was revoked%s%s", revoke_reason[0] ? ": " : "", revoke_reason);
#undef REASON
    if (n) {
        p->state_reasons = ccip_arena_alloc(a, n * sizeof *p->state_reasons);
        if (p->state_reasons) {
            memcpy(p->state_reasons, reasons, n * sizeof *reasons);
            p->n_state_reasons = n;
        }
    }
    return ccip_arena_failed(a) ? S_OOM : 0;
}

/* FACTS' parameters: now and now + FOLLOWUP_RISK_DAYS. */
static void s_fact_bounds(char now[24], char horizon[24])
{
    int64_t n = ccip_now_us();
    snprintf(now, 24, "%" PRId64, n);
    snprintf(horizon, 24, "%" PRId64, n + FOLLOWUP_RISK_DAYS * FOLLOWUP_DAY_US);
}

/* Projects with their state from the rows of a statement returning
 * project columns then FACTS. */
static int s_projects_from(const PGresult *res, ccip_arena *a, Ccip__Followup__Project ***out,
                           size_t *n)
{
    int rows = PQntuples(res);
    *n = 0;
    *out = ccip_arena_alloc(a, (size_t)(rows + 1) * sizeof **out);
    for (int i = 0; *out && i < rows; i++) {
        Ccip__Followup__Project *p = followup_project_from_row(res, i, 0, a);
        if (!p || s_state(p, res, i, FOLLOWUP_PROJECT_NCOLUMNS, a) < 0)
            return S_OOM;
        (*out)[(*n)++] = p;
    }
    return *out ? 0 : S_OOM;
}

/* Attaches their milestones to projects (one statement for all). */
static int s_attach_milestones(ccip_db *db, ccip_arena *a, Ccip__Followup__Project **ps, size_t n)
{
    if (n == 0)
        return 0;
    ccip_pgarray ids = CCIP_PGARRAY_INIT;
    for (size_t i = 0; i < n; i++)
        ccip_pgarray_text(&ids, ps[i]->id);
    const char *v[] = {ccip_pgarray_value(&ids)};
    PGresult *res = NULL;
    int rc = v[0] ? ccip_db_exec(db, &S_MILESTONES, 1, v, NULL, NULL, &res) : S_OOM;
    ccip_pgarray_release(&ids);
    if (rc)
        return rc;
    int rows = PQntuples(res);
    int64_t now = ccip_now_us();
    /* Rows come by project id; each project takes its run of them. */
    for (size_t i = 0; i < n; i++) {
        int first = -1, count = 0;
        for (int r = 0; r < rows; r++)
            if (strcmp(PQgetvalue(res, r, 0), ps[i]->id) == 0) {
                if (first < 0)
                    first = r;
                count++;
            } else if (first >= 0) {
                break;
            }
        ps[i]->milestones = ccip_arena_alloc(a, (size_t)(count + 1) * sizeof(void *));
        for (int k = 0; ps[i]->milestones && k < count; k++) {
            Ccip__Followup__Milestone *m = followup_milestone_from_row(res, first + k, 1, now, a);
            if (!m)
                break;
            ps[i]->milestones[ps[i]->n_milestones++] = m;
        }
    }
    PQclear(res);
    return ccip_arena_failed(a) ? S_OOM : 0;
}

/* Reads one project with state and milestones, on any connection. *out is
 * NULL when there is no such project. Returns 0, S_OOM or a ccip_db_rc. */
static int s_read(ccip_db *db, const char *id, ccip_arena *a, Ccip__Followup__Project **out)
{
    *out = NULL;
    char now[24], horizon[24];
    s_fact_bounds(now, horizon);
    const char *v[] = {now, horizon, id};
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_GET, 3, v, NULL, NULL, &res);
    if (rc)
        return rc;
    Ccip__Followup__Project **ps = NULL;
    size_t n = 0;
    rc = s_projects_from(res, a, &ps, &n);
    PQclear(res);
    if (rc == 0 && n == 1 && (rc = s_attach_milestones(db, a, ps, 1)) == 0)
        *out = ps[0];
    return rc;
}

/* ---- the whole record (get) ---------------------------------------------------------- */

/* The monthly reports, every version, each with its progress entries. */
static int s_reports(ccip_db *db, ccip_arena *a, Ccip__Followup__Project *p)
{
    PGresult *res = NULL, *pr = NULL;
    const char *v[] = {p->id};
    int rc = ccip_db_exec(db, &S_REPORTS, 1, v, NULL, NULL, &res);
    if (!rc)
        rc = ccip_db_exec(db, &S_REPORT_PROGRESS, 1, v, NULL, NULL, &pr);
    void **reports = NULL, **progress = NULL;
    size_t np = 0;
    if (!rc && (followup_rows(a, res, 0, CCIP_MSG(followup, monthly_report),
                              "id, month, version, current, investment_completed_fen, problems, "
                              "filed_at_us, filed_by, correction_reason",
                              &reports, &p->n_reports) < 0 ||
                followup_rows(a, pr, 1, CCIP_MSG(followup, milestone_progress),
                              "milestone_id, percent, reached_on, note", &progress, &np) < 0))
        rc = S_OOM;
    p->reports = (Ccip__Followup__MonthlyReport **)reports;
    for (size_t i = 0; rc == 0 && i < p->n_reports; i++) {
        Ccip__Followup__MonthlyReport *r = p->reports[i];
        r->progress = ccip_arena_alloc(a, (np + 1) * sizeof *r->progress);
        for (size_t j = 0; r->progress && j < np; j++)
            if (strcmp(PQgetvalue(pr, (int)j, 0), r->id) == 0)
                r->progress[r->n_progress++] = progress[j];
    }
    PQclear(res);
    PQclear(pr);
    return rc ? rc : ccip_arena_failed(a) ? S_OOM : 0;
}

static int s_escalations(ccip_db *db, ccip_arena *a, Ccip__Followup__Project *p)
{
    const char *v[] = {p->id};
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_ESCALATIONS, 1, v, NULL, NULL, &res);
    if (rc)
        return rc;
    int n = PQntuples(res);
    p->escalations = ccip_arena_alloc(a, (size_t)(n + 1) * sizeof(void *));
    for (int i = 0; p->escalations && i < n; i++) {
        Ccip__Followup__Escalation *e = followup_escalation_from_row(res, i, 0, a);
        if (!e)
            break;
        p->escalations[p->n_escalations++] = e;
    }
    PQclear(res);
    return ccip_arena_failed(a) ? S_OOM : 0;
}

/* The award a project follows, with its tranches paid, inspections and
 * clawbacks. */
static int s_award(ccip_db *db, ccip_arena *a, Ccip__Followup__Project *p)
{
    const char *v[] = {p->award_id};
    PGresult *res = NULL, *tr = NULL, *in = NULL, *cb = NULL;
    int rc = ccip_db_exec(db, &S_AWARD_INFO, 1, v, NULL, NULL, &res);
    if (!rc)
        rc = ccip_db_exec(db, &S_TRANCHES, 1, v, NULL, NULL, &tr);
    if (!rc)
        rc = ccip_db_exec(db, &S_INSPECTIONS, 1, v, NULL, NULL, &in);
    if (!rc)
        rc = ccip_db_exec(db, &S_CLAWBACKS, 1, v, NULL, NULL, &cb);
    if (rc == 0 && PQntuples(res) == 1) {
        Ccip__Followup__AwardInfo *w = ccip_row_new(
            a, CCIP_MSG(followup, award_info), res, 0, 0,
            "award_id, application_id, programme_code, year, amount_fen, status, status_reason, "
            "disbursed_fen");
        void **t = NULL, **i = NULL, **c = NULL;
        if (!w ||
            followup_rows(a, tr, 0, CCIP_MSG(followup, tranche_paid),
                          "payment_id, tranche_number, amount_fen, paid_at_us", &t,
                          &w->n_tranches_paid) < 0 ||
            followup_rows(a, in, 0, CCIP_MSG(followup, inspection_finding),
                          "inspection_id, kind, finding, notes, correct_by_us, misused_fen, "
                          "recorded_at_us",
                          &i, &w->n_inspections) < 0 ||
            followup_rows(a, cb, 0, CCIP_MSG(followup, clawback_info),
                          "clawback_id, amount_fen, recovered_fen, status, reason, ordered_at_us",
                          &c, &w->n_clawbacks) < 0) {
            rc = S_OOM;
        } else {
            w->tranches_paid = (Ccip__Followup__TranchePaid **)t;
            w->inspections = (Ccip__Followup__InspectionFinding **)i;
            w->clawbacks = (Ccip__Followup__ClawbackInfo **)c;
            p->award = w;
        }
    }
    PQclear(res);
    PQclear(tr);
    PQclear(in);
    PQclear(cb);
    return rc;
}

static int s_designation(ccip_db *db, ccip_arena *a, Ccip__Followup__Project *p)
{
    const char *v[] = {p->designation_id};
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_DESIGNATION_INFO, 1, v, NULL, NULL, &res);
    if (rc)
        return rc;
    if (PQntuples(res) == 1 &&
        !(p->designation = ccip_row_new(
              a, CCIP_MSG(followup, designation_info), res, 0, 0,
              "designation_id, certificate_no, name, status, valid_until_us, revoke_reason")))
        rc = S_OOM;
    PQclear(res);
    return rc;
}

/* The works the owner registered in ip from the project's start on. */
static int s_works(ccip_db *db, ccip_arena *a, Ccip__Followup__Project *p)
{
    followup_day start;
    if (followup_day_parse("", p->start_date, &start, NULL, 0) < 0)
        return 0;
    char party[32], from[24], limit[16];
    snprintf(party, sizeof party, "%s%s", FOLLOWUP_ORG_PREFIX, p->owner_uscc);
    snprintf(from, sizeof from, "%" PRId64, followup_day_start_us(start));
    snprintf(limit, sizeof limit, "%d", WORKS_MAX);
    const char *v[] = {party, from, limit};
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_WORKS, 3, v, NULL, NULL, &res);
    if (rc)
        return rc;
    void **w = NULL;
    if (followup_rows(a, res, 0, CCIP_MSG(followup, work_info),
                      "work_id, serial, title, kind, registered_at_us", &w, &p->n_works) < 0)
        rc = S_OOM;
    p->works = (Ccip__Followup__WorkInfo **)w;
    PQclear(res);
    return rc;
}

/* The whole record of a project, for get and for the replies of the
 * commands that change it. */
static int s_load_full(ccip_command *cmd, const char *id, ccip_arena *a,
                       Ccip__Followup__Project **out)
{
    int rc = s_read(cmd->db, id, a, out);
    if (rc == 0 && !*out)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "there is no key project %s; list them with "
                                 "followup.project.list.v1",
                                 id);
    Ccip__Followup__Project *p = *out;
    if (rc == 0 && (rc = s_reports(cmd->db, a, p)) == 0 &&
        (rc = s_escalations(cmd->db, a, p)) == 0 && (rc = s_works(cmd->db, a, p)) == 0) {
        if (p->award_id[0])
            rc = s_award(cmd->db, a, p);
        if (rc == 0 && p->designation_id[0])
            rc = s_designation(cmd->db, a, p);
    }
    if (rc == S_OOM)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading project %s",
                                 id);
    return rc;
}

int followup_project_case(ccip_command *cmd, const char *project_id)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_CASE, 1, &project_id, NULL, NULL, &res);
    if (rc)
        return rc;
    char root[CCIP_UUID_STRLEN + 1] = "";
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        snprintf(root, sizeof root, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (root[0])
        return ccip_command_case(cmd, root);
    /* In no case: a sweep's earlier event may have named one; this event
     * must not inherit it. */
    cmd->case_id[0] = '\0';
    return 0;
}

/* Emits followup.project.<action>.v1 and replies with the whole project. */
static int s_finish(ccip_command *cmd, ccip_arena *a, const char *id, const char *action,
                    const char *note)
{
    Ccip__Followup__Project *p = NULL;
    int rc = s_load_full(cmd, id, a, &p);
    if (rc)
        return rc;
    Ccip__Followup__Project summary = *p;
    summary.n_reports = summary.n_escalations = summary.n_works = 0;
    summary.award = NULL;
    summary.designation = NULL;
    Ccip__Followup__ProjectChanged ev = CCIP__FOLLOWUP__PROJECT_CHANGED__INIT;
    ev.project = &summary;
    ev.action = (char *)action;
    ev.note = (char *)(note ? note : "");
    char type[96];
    snprintf(type, sizeof type, "followup.project.%s.v1", action);
    if ((rc = followup_project_case(cmd, id)) ||
        (rc = ccip_command_emit(cmd, type, "project", id, &ev.base)))
        return rc;
    Ccip__Followup__ProjectReply reply = CCIP__FOLLOWUP__PROJECT_REPLY__INIT;
    reply.project = p;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- register ---------------------------------------------------------------- */

/* What a registration resolves to before it is written. */
typedef struct {
    char owner[CCIP_USCC_LEN + 1];
    char owner_name[NAME_MAX_CHARS * 4 + 1];
    char title[TITLE_MAX * 4 + 1];
    char district[8];
    followup_day start, end;
} s_registration;

/* The period's days and the milestones within it. */
static int s_check_period(ccip_command *cmd, const Ccip__Followup__RegisterProjectRequest *rq,
                          s_registration *r)
{
    int rc;
    if ((rc = followup_check_day(cmd, "start_date", rq->start_date, &r->start)) ||
        (rc = followup_check_day(cmd, "end_date", rq->end_date, &r->end)))
        return rc;
    if (followup_day_cmp(r->start, r->end) > 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `end_date` %s is before `start_date` %s; a project ends "
                                 "on or after the day it starts",
                                 rq->end_date, rq->start_date);
    if (rq->year < r->start.year || rq->year > r->end.year)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `year` %d is not a year of the project's period %s to "
                                 "%s; a key project of a year runs in that year",
                                 rq->year, rq->start_date, rq->end_date);
    if (rq->n_milestones > MILESTONES_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "a project has at most %d milestones, got %zu", MILESTONES_MAX,
                                 rq->n_milestones);
    for (size_t i = 0; i < rq->n_milestones; i++) {
        char field[64], err[400];
        followup_day planned;
        snprintf(field, sizeof field, "milestones[%zu].title", i);
        if ((rc = ccip_command_check_text(cmd, field, rq->milestones[i]->title, 1, TITLE_MAX, 0)))
            return rc;
        snprintf(field, sizeof field, "milestones[%zu].planned_date", i);
        if ((rc = followup_check_day(cmd, field, rq->milestones[i]->planned_date, &planned)) ||
            (rc = ccip_command_invalid(
                 cmd, followup_milestone_check(field, planned, r->start, r->end, err, sizeof err),
                 err)))
            return rc;
    }
    return 0;
}

static int s_check_district(ccip_command *cmd, const char *given, s_registration *r)
{
    char err[300];
    int rc = ccip_command_invalid(cmd, ccip_district_check(given, err, sizeof err), err);
    if (rc)
        return rc;
    snprintf(r->district, sizeof r->district, "%s", ccip_district_find(given)->code);
    return 0;
}

/* The owner, title and district of a project from an award. */
static int s_from_award(ccip_command *cmd, const Ccip__Followup__RegisterProjectRequest *rq,
                        s_registration *r)
{
    int rc;
    if ((rc = ccip_command_check_uuid(cmd, "award_id", rq->award_id)))
        return rc;
    if (rq->designation_id[0] || rq->owner_uscc[0] || rq->owner_name[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "a project from an award takes its owner from the award's "
                                 "grantee: leave `designation_id`, `owner_uscc` and `owner_name` "
                                 "empty");
    PGresult *res = NULL;
    const char *v[] = {rq->award_id};
    if ((rc = ccip_db_exec(cmd->db, &S_AWARD, 1, v, NULL, NULL, &res)))
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "award %s is not known to followup, which learns of awards from "
                                 "funding's funding.award.granted.v1; check the id (funding.award."
                                 "get.v1), or try again in a few seconds if it was just confirmed",
                                 rq->award_id);
    }
    const char *status = PQgetvalue(res, 0, 3);
    if (strcmp(status, "AWARD_TERMINATED") == 0) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "award %s was terminated; a terminated award is no key project",
                                 rq->award_id);
    }
    snprintf(r->owner, sizeof r->owner, "%s", PQgetvalue(res, 0, 0));
    snprintf(r->owner_name, sizeof r->owner_name, "%s", PQgetvalue(res, 0, 1));
    snprintf(r->title, sizeof r->title, "%s", rq->title[0] ? rq->title : PQgetvalue(res, 0, 2));
    PQclear(res);
    return s_check_district(cmd, rq->district_code, r);
}

static int s_from_designation(ccip_command *cmd, const Ccip__Followup__RegisterProjectRequest *rq,
                              s_registration *r)
{
    int rc;
    if ((rc = ccip_command_check_uuid(cmd, "designation_id", rq->designation_id)))
        return rc;
    if (rq->award_id[0] || rq->owner_uscc[0] || rq->owner_name[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "a project from a designated cluster takes its owner from the "
                                 "designation's holder: leave `award_id`, `owner_uscc` and "
                                 "`owner_name` empty");
    PGresult *res = NULL;
    const char *v[] = {rq->designation_id};
    if ((rc = ccip_db_exec(cmd->db, &S_DESIGNATION, 1, v, NULL, NULL, &res)))
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "designation %s is not known to followup, which learns of "
                                 "designations from evaluation's evaluation.designation.granted."
                                 "v1; check the id (evaluation.designation.get.v1)",
                                 rq->designation_id);
    }
    if (strcmp(PQgetvalue(res, 0, 4), "DESIGNATION_ACTIVE") != 0) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "designation %s is not active (it was revoked); only a "
                                 "designated cluster can be a key project from its designation",
                                 rq->designation_id);
    }
    snprintf(r->owner, sizeof r->owner, "%s", PQgetvalue(res, 0, 0));
    snprintf(r->owner_name, sizeof r->owner_name, "%s", PQgetvalue(res, 0, 1));
    snprintf(r->title, sizeof r->title, "%s", rq->title[0] ? rq->title : PQgetvalue(res, 0, 2));
    char district[8];
    snprintf(district, sizeof district, "%s", PQgetvalue(res, 0, 3));
    PQclear(res);
    if (rq->district_code[0] && (!ccip_district_find(rq->district_code) ||
                                 strcmp(ccip_district_find(rq->district_code)->code, district)))
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `district_code` %s is not the cluster's district %s; "
                                 "leave it empty to take the designation's",
                                 rq->district_code, district);
    return s_check_district(cmd, district, r);
}

static int s_from_staff(ccip_command *cmd, const Ccip__Followup__RegisterProjectRequest *rq,
                        s_registration *r)
{
    int rc;
    char err[300];
    if (rq->award_id[0] || rq->designation_id[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "a project entered by staff follows no award or designation: "
                                 "leave `award_id` and `designation_id` empty, or register it "
                                 "with source FROM_AWARD or FROM_DESIGNATION");
    if ((rc = ccip_command_check_text(cmd, "title", rq->title, 1, TITLE_MAX, 0)) ||
        (rc = ccip_command_invalid(cmd, ccip_uscc_check(rq->owner_uscc, err, sizeof err), err)) ||
        (rc = ccip_command_check_text(cmd, "owner_name", rq->owner_name, 1, NAME_MAX_CHARS, 0)))
        return rc;
    snprintf(r->owner, sizeof r->owner, "%s", rq->owner_uscc);
    snprintf(r->owner_name, sizeof r->owner_name, "%s", rq->owner_name);
    snprintf(r->title, sizeof r->title, "%s", rq->title);
    return s_check_district(cmd, rq->district_code, r);
}

int followup_project_register(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Followup__RegisterProjectRequest *rq = request;
    s_registration r;
    memset(&r, 0, sizeof r);
    char err[300];
    int rc;
    if (rq->year < FOLLOWUP_YEAR_MIN || rq->year > FOLLOWUP_YEAR_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `year` must be %d to %d, got %d", FOLLOWUP_YEAR_MIN,
                                 FOLLOWUP_YEAR_MAX, rq->year);
    if (rq->title[0] && (rc = ccip_command_check_text(cmd, "title", rq->title, 1, TITLE_MAX, 0)))
        return rc;
    switch (rq->source) {
    case CCIP__FOLLOWUP__PROJECT_SOURCE__FROM_AWARD:
        rc = s_from_award(cmd, rq, &r);
        break;
    case CCIP__FOLLOWUP__PROJECT_SOURCE__FROM_DESIGNATION:
        rc = s_from_designation(cmd, rq, &r);
        break;
    case CCIP__FOLLOWUP__PROJECT_SOURCE__FROM_STAFF:
        rc = s_from_staff(cmd, rq, &r);
        break;
    default:
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `source` must say where the project comes from: "
                               "FROM_AWARD (with award_id), FROM_DESIGNATION (with "
                               "designation_id) or FROM_STAFF");
    }
    if (rc ||
        (rc = ccip_command_invalid(cmd,
                                   followup_fen_check("planned_investment_fen",
                                                      rq->planned_investment_fen, err, sizeof err),
                                   err)) ||
        (rc = ccip_command_check_text(cmd, "description", rq->description, 0, DESCRIPTION_MAX,
                                      CCIP_TEXT_MULTILINE)) ||
        (rc = s_check_period(cmd, rq, &r)))
        return rc;
    char year[16];
    snprintf(year, sizeof year, "%d", rq->year);
    const char *dv[] = {year, rq->award_id, rq->designation_id, r.owner, r.title};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_DUPLICATE, 5, dv, NULL, NULL, &res)))
        return rc;
    if (PQntuples(res) > 0) {
        char msg[600];
        snprintf(msg, sizeof msg,
                 "the key projects of %d already hold this one as project %s (\"%s\"); add "
                 "milestones to it rather than registering it again",
                 rq->year, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__ALREADY_EXISTS, "%s", msg);
    }
    PQclear(res);
    /* Monthly reports are asked for from the first month due after the
     * registration: months already due before it are not late. */
    followup_month first, check;
    char check_month[16] = "", check_due[24] = "";
    int due_day = (int)followup_config_of(cmd)->report_due_day;
    first = followup_month_of(r.start);
    if (followup_month_first_due_after(first, followup_month_of(r.end), due_day, ccip_now_us(),
                                       &check) == 0) {
        followup_month_format(check, check_month, sizeof check_month);
        snprintf(check_due, sizeof check_due, "%" PRId64,
                 followup_month_report_due_us(check, due_day));
    }
    char id[CCIP_UUID_STRLEN + 1], fen[24], start[16], end[16];
    if ((rc = ccip_command_new_id(cmd, id)))
        return rc;
    snprintf(fen, sizeof fen, "%" PRId64, rq->planned_investment_fen);
    followup_day_format(r.start, start, sizeof start);
    followup_day_format(r.end, end, sizeof end);
    const char *v[] = {
        id,
        year,
        ccip_enum_name(&ccip__followup__project_source__descriptor, rq->source),
        rq->source == CCIP__FOLLOWUP__PROJECT_SOURCE__FROM_AWARD ? rq->award_id : "",
        rq->source == CCIP__FOLLOWUP__PROJECT_SOURCE__FROM_DESIGNATION ? rq->designation_id : "",
        r.title,
        r.owner,
        r.owner_name,
        r.district,
        fen,
        start,
        end,
        rq->description,
        check_month,
        check_due,
        cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, &S_INSERT, 16, v, NULL, NULL, NULL)))
        return rc;
    for (size_t i = 0; i < rq->n_milestones; i++) {
        followup_day planned;
        followup_day_parse("", rq->milestones[i]->planned_date, &planned, NULL, 0);
        char mid[CCIP_UUID_STRLEN + 1], due[24];
        if ((rc = ccip_command_new_id(cmd, mid)))
            return rc;
        snprintf(due, sizeof due, "%" PRId64, followup_day_end_us(planned));
        const char *mv[] = {
            mid, id, rq->milestones[i]->title, rq->milestones[i]->planned_date, due, cmd->actor.id};
        if ((rc = ccip_db_exec(cmd->db, &S_MILESTONE, 6, mv, NULL, NULL, NULL)))
            return rc;
    }
    return s_finish(cmd, a, id, "registered", NULL);
}

/* ---- changes of a project ---------------------------------------------------------- */

/* Locks the project and reads its row. */
static int s_lock(ccip_command *cmd, const char *id, ccip_arena *a, Ccip__Followup__Project **out)
{
    *out = NULL;
    int rc = ccip_command_check_uuid(cmd, "project_id", id);
    if (rc)
        return rc;
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_LOCK, 1, &id, NULL, NULL, &res)))
        return rc;
    int found = PQntuples(res) == 1;
    if (found)
        *out = followup_project_from_row(res, 0, 0, a);
    PQclear(res);
    if (!found)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "there is no key project %s; list them with "
                                 "followup.project.list.v1",
                                 id);
    if (!*out)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    return 0;
}

static int s_check_active(ccip_command *cmd, const Ccip__Followup__Project *p)
{
    if (p->status == CCIP__FOLLOWUP__PROJECT_STATUS__PROJECT_ACTIVE)
        return 0;
    char when[FOLLOWUP_BEIJING_STRLEN + 1];
    return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                             "key project %s was closed on %s (%s); it takes no more changes",
                             p->id, followup_when(p->closed_at_us, when, sizeof when),
                             p->close_reason);
}

int followup_project_add_milestone(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Followup__AddMilestoneRequest *rq = request;
    Ccip__Followup__Project *p = NULL;
    followup_day planned, start, end;
    char err[400];
    int rc;
    if ((rc = s_lock(cmd, rq->project_id, a, &p)) || (rc = s_check_active(cmd, p)) ||
        (rc = ccip_command_check_text(cmd, "title", rq->title, 1, TITLE_MAX, 0)) ||
        (rc = followup_check_day(cmd, "planned_date", rq->planned_date, &planned)))
        return rc;
    followup_day_parse("", p->start_date, &start, NULL, 0);
    followup_day_parse("", p->end_date, &end, NULL, 0);
    if ((rc = ccip_command_invalid(
             cmd, followup_milestone_check("planned_date", planned, start, end, err, sizeof err),
             err)))
        return rc;
    Ccip__Followup__Project *full = NULL;
    if ((rc = s_read(cmd->db, p->id, a, &full)))
        return rc == S_OOM ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory") : rc;
    if (full->n_milestones >= MILESTONES_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "key project %s has %d milestones already, the most it may "
                                 "have; report on those",
                                 p->id, MILESTONES_MAX);
    char mid[CCIP_UUID_STRLEN + 1], due[24];
    if ((rc = ccip_command_new_id(cmd, mid)))
        return rc;
    snprintf(due, sizeof due, "%" PRId64, followup_day_end_us(planned));
    const char *v[] = {mid, p->id, rq->title, rq->planned_date, due, cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, &S_MILESTONE, 6, v, NULL, NULL, NULL)))
        return rc;
    return s_finish(cmd, a, p->id, "milestone_added", rq->title);
}

int followup_project_close(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Followup__CloseProjectRequest *rq = request;
    Ccip__Followup__Project *p = NULL;
    int rc;
    if ((rc = s_lock(cmd, rq->project_id, a, &p)) || (rc = s_check_active(cmd, p)))
        return rc;
    if (rq->status != CCIP__FOLLOWUP__PROJECT_STATUS__PROJECT_COMPLETED &&
        rq->status != CCIP__FOLLOWUP__PROJECT_STATUS__PROJECT_CANCELLED)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `status` must be PROJECT_COMPLETED or PROJECT_CANCELLED");
    if (!rq->reason[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `reason` is missing: give the reasons for closing the "
                                 "project (1 to %d characters)",
                                 NOTE_MAX);
    if ((rc = ccip_command_check_text(cmd, "reason", rq->reason, 1, NOTE_MAX, CCIP_TEXT_MULTILINE)))
        return rc;
    const char *v[] = {p->id,
                       ccip_enum_name(&ccip__followup__project_status__descriptor, rq->status),
                       cmd->actor.id, rq->reason};
    if ((rc = ccip_db_exec(cmd->db, &S_CLOSE, 4, v, NULL, NULL, NULL)))
        return rc;
    return s_finish(cmd, a, p->id, "closed", rq->reason);
}

/* ---- monthly reports ------------------------------------------------------------------ */

/* Refuses a caller that is not the project's owner. */
static int s_check_owner(ccip_command *cmd, const Ccip__Followup__Project *p)
{
    char own[CCIP_USCC_LEN + 1];
    int rc = followup_actor_org(cmd, own);
    if (rc)
        return rc;
    if (strcmp(own, p->owner_uscc) == 0)
        return 0;
    return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                             "key project %s belongs to organisation %s, and you act for %s; "
                             "its monthly reports are filed by its own users (role grantee, "
                             "actor org:%s)",
                             p->id, p->owner_uscc, own, p->owner_uscc);
}

/* Checks the progress entries against the project's milestones. */
static int s_check_progress(ccip_command *cmd, const Ccip__Followup__FileReportRequest *rq,
                            const Ccip__Followup__Project *p, followup_day today, int correction)
{
    if (rq->n_progress > MILESTONES_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "a report has at most %d progress entries, got %zu",
                                 MILESTONES_MAX, rq->n_progress);
    followup_day start;
    followup_day_parse("", p->start_date, &start, NULL, 0);
    for (size_t i = 0; i < rq->n_progress; i++) {
        const Ccip__Followup__MilestoneProgress *g = rq->progress[i];
        char field[64];
        int rc;
        snprintf(field, sizeof field, "progress[%zu].milestone_id", i);
        if ((rc = ccip_command_check_uuid(cmd, field, g->milestone_id)))
            return rc;
        const Ccip__Followup__Milestone *m = NULL;
        for (size_t k = 0; k < p->n_milestones; k++)
            if (strcmp(p->milestones[k]->id, g->milestone_id) == 0)
                m = p->milestones[k];
        if (!m)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `%s`: %s is no milestone of project %s; its "
                                     "milestones are listed by followup.project.get.v1",
                                     field, g->milestone_id, p->id);
        for (size_t j = 0; j < i; j++)
            if (strcmp(rq->progress[j]->milestone_id, g->milestone_id) == 0)
                return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                         "milestone %s appears twice in `progress`; give one "
                                         "entry per milestone",
                                         g->milestone_id);
        if (g->percent < 0 || g->percent > 100)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `progress[%zu].percent` must be 0 to 100, got %d", i,
                                     g->percent);
        snprintf(field, sizeof field, "progress[%zu].note", i);
        if ((rc = ccip_command_check_text(cmd, field, g->note, 0, NOTE_MAX, CCIP_TEXT_MULTILINE)))
            return rc;
        if (g->reached_on[0]) {
            followup_day reached;
            snprintf(field, sizeof field, "progress[%zu].reached_on", i);
            if ((rc = followup_check_day(cmd, field, g->reached_on, &reached)))
                return rc;
            if (followup_day_cmp(reached, today) > 0 || followup_day_cmp(reached, start) < 0)
                return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                         "field `%s` %s must lie between the project's start %s "
                                         "and today",
                                         field, g->reached_on, p->start_date);
            if (g->percent != 100)
                return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                         "milestone \"%s\" is reported reached on %s, so its "
                                         "`percent` must be 100, got %d",
                                         m->title, g->reached_on, g->percent);
        } else if (g->percent == 100) {
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "milestone \"%s\" is reported 100%% done: give the day it "
                                     "was reached in `progress[%zu].reached_on`",
                                     m->title, i);
        }
        /* A reached milestone stays reached; only a correction of the
         * report that said so may change it. */
        if (!correction && m->reached_on[0] && strcmp(m->reached_on, g->reached_on) != 0)
            return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                     "milestone \"%s\" was reported reached on %s; a report "
                                     "cannot undo that: file a correction of the month that "
                                     "reported it",
                                     m->title, m->reached_on);
    }
    return 0;
}

int followup_project_file_report(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Followup__FileReportRequest *rq = request;
    Ccip__Followup__Project *p = NULL;
    followup_month month, first, last;
    followup_day start, end, today = followup_day_of_us(ccip_now_us());
    char err[300];
    int rc;
    if ((rc = s_lock(cmd, rq->project_id, a, &p)) || (rc = s_check_owner(cmd, p)) ||
        (rc = s_check_active(cmd, p)) ||
        (rc = ccip_command_invalid(
             cmd, followup_month_parse("month", rq->month, &month, err, sizeof err), err)))
        return rc;
    followup_day_parse("", p->start_date, &start, NULL, 0);
    followup_day_parse("", p->end_date, &end, NULL, 0);
    first = followup_month_of(start);
    last = followup_month_of(end);
    if (followup_month_cmp(month, first) < 0 || followup_month_cmp(month, last) > 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `month` %s lies outside the project's period %s to %s; "
                                 "report a month within it",
                                 rq->month, p->start_date, p->end_date);
    if (followup_month_cmp(month, followup_month_of(today)) > 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `month` %s has not begun yet (today is in %04d-%02d, "
                                 "Beijing); report a month once it has begun",
                                 rq->month, today.year, today.month);
    if ((rc =
             ccip_command_invalid(cmd,
                                  followup_fen_check("investment_completed_fen",
                                                     rq->investment_completed_fen, err, sizeof err),
                                  err)) ||
        (rc = ccip_command_check_text(cmd, "problems", rq->problems, 0, PROBLEMS_MAX,
                                      CCIP_TEXT_MULTILINE)))
        return rc;
    if (rq->correction && !rq->correction_reason[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `correction_reason` is missing: a correction says why the "
                                 "report it replaces was wrong (1 to %d characters)",
                                 NOTE_MAX);
    if (!rq->correction && rq->correction_reason[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `correction_reason` is for corrections: set `correction`, "
                                 "or leave the reason empty");
    if (rq->correction &&
        (rc = ccip_command_check_text(cmd, "correction_reason", rq->correction_reason, 1, NOTE_MAX,
                                      CCIP_TEXT_MULTILINE)))
        return rc;
    Ccip__Followup__Project *full = NULL;
    if ((rc = s_read(cmd->db, p->id, a, &full)))
        return rc == S_OOM ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory") : rc;
    if ((rc = s_check_progress(cmd, rq, full, today, rq->correction)))
        return rc;
    /* The month's current report, if any: a second report replaces nothing. */
    const char *cv[] = {p->id, rq->month};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_CURRENT_REPORT, 2, cv, NULL, NULL, &res)))
        return rc;
    int exists = PQntuples(res) == 1;
    char old_id[CCIP_UUID_STRLEN + 1] = "", when[FOLLOWUP_BEIJING_STRLEN + 1], by[128] = "";
    int version = 1;
    if (exists) {
        snprintf(old_id, sizeof old_id, "%s", PQgetvalue(res, 0, 0));
        version = (int)ccip_db_cell_i64(res, 0, 1) + 1;
        followup_when(ccip_db_cell_i64(res, 0, 2), when, sizeof when);
        snprintf(by, sizeof by, "%s", PQgetvalue(res, 0, 3));
    }
    PQclear(res);
    if (exists && !rq->correction)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "the report of %s for project %s was filed on %s by %s; a second "
                                 "report replaces nothing: to correct it, file it again with "
                                 "`correction` set and a `correction_reason` (the first is kept)",
                                 rq->month, p->id, when, by);
    if (!exists && rq->correction)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "project %s has no report of %s to correct; file it without "
                                 "`correction`",
                                 p->id, rq->month);
    char id[CCIP_UUID_STRLEN + 1], ver[16], fen[24];
    if ((rc = ccip_command_new_id(cmd, id)))
        return rc;
    snprintf(ver, sizeof ver, "%d", version);
    snprintf(fen, sizeof fen, "%" PRId64, rq->investment_completed_fen);
    if (exists &&
        (rc = ccip_db_exec(cmd->db, &S_SUPERSEDE, 1, (const char *[]){old_id}, NULL, NULL, NULL)))
        return rc;
    const char *rv[] = {
        id,  p->id,        rq->month,     ver,
        fen, rq->problems, cmd->actor.id, rq->correction ? rq->correction_reason : ""};
    if ((rc = ccip_db_exec(cmd->db, &S_REPORT_INSERT, 8, rv, NULL, NULL, NULL)))
        return rc;
    if (rq->n_progress > 0) {
        ccip_pgarray ms = CCIP_PGARRAY_INIT, pc = CCIP_PGARRAY_INIT, rd = CCIP_PGARRAY_INIT,
                     nt = CCIP_PGARRAY_INIT;
        for (size_t i = 0; i < rq->n_progress; i++) {
            ccip_pgarray_text(&ms, rq->progress[i]->milestone_id);
            ccip_pgarray_int(&pc, rq->progress[i]->percent);
            if (rq->progress[i]->reached_on[0])
                ccip_pgarray_text(&rd, rq->progress[i]->reached_on);
            else
                ccip_pgarray_null(&rd);
            ccip_pgarray_text(&nt, rq->progress[i]->note);
        }
        const char *pv[] = {id, ccip_pgarray_value(&ms), ccip_pgarray_value(&pc),
                            ccip_pgarray_value(&rd), ccip_pgarray_value(&nt)};
        const char *uv[] = {pv[1], pv[2], pv[3], p->id, rq->month};
        if (!pv[1] || !pv[2] || !pv[3] || !pv[4])
            rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        else if (!(rc = ccip_db_exec(cmd->db, &S_PROGRESS_INSERT, 5, pv, NULL, NULL, NULL)))
            rc = ccip_db_exec(cmd->db, &S_MILESTONE_PROGRESS, 5, uv, NULL, NULL, NULL);
        ccip_pgarray_release(&ms);
        ccip_pgarray_release(&pc);
        ccip_pgarray_release(&rd);
        ccip_pgarray_release(&nt);
        if (rc)
            return rc;
    }
    const char *fv[] = {p->id, rq->month, fen};
    if ((rc = ccip_db_exec(cmd->db, &S_PROJECT_REPORTED, 3, fv, NULL, NULL, NULL)))
        return rc;
    /* A milestone reported reached after its planned day is escalated now,
     * once (the sweep's key: a late one it already escalated is not again). */
    for (size_t i = 0; i < rq->n_progress; i++) {
        const Ccip__Followup__MilestoneProgress *g = rq->progress[i];
        if (!g->reached_on[0])
            continue;
        for (size_t k = 0; k < full->n_milestones; k++) {
            const Ccip__Followup__Milestone *m = full->milestones[k];
            followup_day reached;
            followup_day_parse("", g->reached_on, &reached, NULL, 0);
            int raised;
            if (strcmp(m->id, g->milestone_id) == 0 &&
                followup_day_start_us(reached) >= m->due_at_us &&
                (rc = followup_escalate_reached_late(cmd, a, p->id, m->id, m->due_at_us, &raised)))
                return rc;
        }
    }
    /* The event: the report as filed, and the one it replaced. */
    Ccip__Followup__Project *after = NULL;
    if ((rc = s_load_full(cmd, p->id, a, &after)))
        return rc;
    Ccip__Followup__MonthlyReport *now = NULL, *replaced = NULL;
    for (size_t i = 0; i < after->n_reports; i++) {
        if (strcmp(after->reports[i]->id, id) == 0)
            now = after->reports[i];
        if (exists && strcmp(after->reports[i]->id, old_id) == 0)
            replaced = after->reports[i];
    }
    Ccip__Followup__Project summary = *after;
    summary.n_reports = summary.n_escalations = summary.n_works = 0;
    summary.award = NULL;
    summary.designation = NULL;
    Ccip__Followup__ProjectReported ev = CCIP__FOLLOWUP__PROJECT_REPORTED__INIT;
    ev.project = &summary;
    ev.report = now;
    ev.replaced = replaced;
    if ((rc = followup_project_case(cmd, p->id)) ||
        (rc = ccip_command_emit(cmd, "followup.project.reported.v1", "project", p->id, &ev.base)))
        return rc;
    Ccip__Followup__ProjectReply reply = CCIP__FOLLOWUP__PROJECT_REPLY__INIT;
    reply.project = after;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- reading ----------------------------------------------------------------------- */

/* What the caller may read: a district its own district's projects, an
 * owner its own. district/owner are set for those callers. */
static int s_scope(ccip_command *cmd, char district[16], char owner[CCIP_USCC_LEN + 1])
{
    int rc = followup_actor_district(cmd, district);
    if (!rc)
        rc = followup_actor_org(cmd, owner);
    return rc;
}

static int s_deny_scope(ccip_command *cmd, const Ccip__Followup__Project *p, const char *district,
                        const char *owner)
{
    if (district[0] && strcmp(district, p->district_code) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "key project %s is in district %s; district %s reads only the "
                                 "projects in its own district",
                                 p->id, p->district_code, district);
    if (owner[0] && strcmp(owner, p->owner_uscc) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "key project %s belongs to another organisation; an owner reads "
                                 "only its own projects",
                                 p->id);
    return 0;
}

int followup_project_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Followup__GetProjectRequest *rq = request;
    char district[16], owner[CCIP_USCC_LEN + 1];
    Ccip__Followup__Project *p = NULL;
    int rc;
    if ((rc = ccip_command_check_uuid(cmd, "project_id", rq->project_id)) ||
        (rc = s_scope(cmd, district, owner)) || (rc = s_load_full(cmd, rq->project_id, a, &p)) ||
        (rc = s_deny_scope(cmd, p, district, owner)))
        return rc;
    Ccip__Followup__ProjectReply reply = CCIP__FOLLOWUP__PROJECT_REPLY__INIT;
    reply.project = p;
    return ccip_command_reply(cmd, &reply.base);
}

/* Reads the projects matching the filters (a district's or owner's scope
 * imposed), with their state. limit 0 = no limit (the board, which counts
 * them all). */
static int s_select(ccip_command *cmd, ccip_arena *a, int32_t year, const char *district,
                    const char *owner, int active_only, int limit, Ccip__Followup__Project ***out,
                    size_t *n)
{
    char now[24], horizon[24], y[16], lim[16];
    s_fact_bounds(now, horizon);
    snprintf(y, sizeof y, "%d", year);
    snprintf(lim, sizeof lim, "%d", limit ? limit : INT32_MAX);
    const char *v[] = {now, horizon, y, district, owner, active_only ? "true" : "false", lim};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_LIST, 7, v, NULL, NULL, &res);
    if (rc)
        return rc;
    rc = s_projects_from(res, a, out, n);
    PQclear(res);
    return rc == S_OOM ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory") : rc;
}

/* The filters a caller asked for, within its scope. */
static int s_filters(ccip_command *cmd, int32_t year, const char *district_in, const char *owner_in,
                     char district[16], char owner[CCIP_USCC_LEN + 1])
{
    char own_district[16], own_org[CCIP_USCC_LEN + 1], err[300];
    int rc = s_scope(cmd, own_district, own_org);
    if (rc)
        return rc;
    if (year && (year < FOLLOWUP_YEAR_MIN || year > FOLLOWUP_YEAR_MAX))
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `year` must be 0 (any) or %d to %d, got %d",
                                 FOLLOWUP_YEAR_MIN, FOLLOWUP_YEAR_MAX, year);
    district[0] = owner[0] = '\0';
    if (district_in && district_in[0]) {
        if ((rc =
                 ccip_command_invalid(cmd, ccip_district_check(district_in, err, sizeof err), err)))
            return rc;
        snprintf(district, 16, "%s", ccip_district_find(district_in)->code);
    }
    if (owner_in && owner_in[0]) {
        if ((rc = ccip_command_invalid(cmd, ccip_uscc_check(owner_in, err, sizeof err), err)))
            return rc;
        snprintf(owner, CCIP_USCC_LEN + 1, "%s", owner_in);
    }
    if (own_district[0]) {
        if (district[0] && strcmp(district, own_district) != 0)
            return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                     "district %s reads only the projects in its own district; "
                                     "leave `district_code` empty",
                                     own_district);
        snprintf(district, 16, "%s", own_district);
    }
    if (own_org[0]) {
        if (owner[0] && strcmp(owner, own_org) != 0)
            return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                     "an owner reads only its own projects; leave `owner_uscc` "
                                     "empty");
        snprintf(owner, CCIP_USCC_LEN + 1, "%s", own_org);
    }
    return 0;
}

int followup_project_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Followup__ListProjectsRequest *rq = request;
    char district[16], owner[CCIP_USCC_LEN + 1];
    int rc;
    if ((rc = s_filters(cmd, rq->year, rq->district_code, rq->owner_uscc, district, owner)))
        return rc;
    if (rq->limit < 0 || rq->limit > LIST_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `limit` must be 0 (for %d) to %d, got %d", LIST_DEFAULT,
                                 LIST_MAX, rq->limit);
    if (!ccip_enum_name(&ccip__followup__board_state__descriptor, (int)rq->state))
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `state` must be ON_TRACK, AT_RISK, LATE or unspecified");
    int limit = rq->limit ? rq->limit : LIST_DEFAULT;
    Ccip__Followup__Project **ps = NULL;
    size_t n = 0;
    /* A state is known only once read: filter by it after reading every
     * project in scope (the board does the same). */
    if ((rc = s_select(cmd, a, rq->year, district, owner, rq->state != 0, rq->state ? 0 : limit,
                       &ps, &n)))
        return rc;
    size_t kept = 0;
    for (size_t i = 0; i < n && kept < (size_t)limit; i++)
        if (!rq->state || ps[i]->state == rq->state)
            ps[kept++] = ps[i];
    if ((rc = s_attach_milestones(cmd->db, a, ps, kept)))
        return rc == S_OOM ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory") : rc;
    Ccip__Followup__ListProjectsReply reply = CCIP__FOLLOWUP__LIST_PROJECTS_REPLY__INIT;
    reply.projects = ps;
    reply.n_projects = kept;
    return ccip_command_reply(cmd, &reply.base);
}

int followup_project_board(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Followup__BoardRequest *rq = request;
    char district[16], owner[CCIP_USCC_LEN + 1];
    int rc;
    if ((rc = s_filters(cmd, rq->year, rq->district_code, "", district, owner)))
        return rc;
    if (rq->limit < 0 || rq->limit > LIST_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `limit` must be 0 (for %d) to %d, got %d", LIST_DEFAULT,
                                 LIST_MAX, rq->limit);
    if (!ccip_enum_name(&ccip__followup__board_state__descriptor, (int)rq->state))
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `state` must be ON_TRACK, AT_RISK, LATE or unspecified");
    Ccip__Followup__Project **ps = NULL;
    size_t n = 0;
    if ((rc = s_select(cmd, a, rq->year, district, owner, 1, 0, &ps, &n)))
        return rc;
    Ccip__Followup__BoardReply reply = CCIP__FOLLOWUP__BOARD_REPLY__INIT;
    reply.as_of_us = ccip_now_us();
    Ccip__Followup__Project **listed = ccip_arena_alloc(a, (n + 1) * sizeof *listed);
    if (!listed)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (ps[i]->state == CCIP__FOLLOWUP__BOARD_STATE__LATE)
            reply.late++;
        else if (ps[i]->state == CCIP__FOLLOWUP__BOARD_STATE__AT_RISK)
            reply.at_risk++;
        else
            reply.on_track++;
    }
    /* Late first, then at risk, then on track; in each, registration order. */
    size_t limit = (size_t)(rq->limit ? rq->limit : LIST_DEFAULT);
    static const Ccip__Followup__BoardState order[] = {CCIP__FOLLOWUP__BOARD_STATE__LATE,
                                                       CCIP__FOLLOWUP__BOARD_STATE__AT_RISK,
                                                       CCIP__FOLLOWUP__BOARD_STATE__ON_TRACK};
    for (size_t o = 0; o < 3; o++) {
        Ccip__Followup__BoardState s = order[o];
        if (rq->state ? s != rq->state : s == CCIP__FOLLOWUP__BOARD_STATE__ON_TRACK)
            continue;
        for (size_t i = 0; i < n && reply.n_projects < limit; i++)
            if (ps[i]->state == s)
                listed[reply.n_projects++] = ps[i];
    }
    reply.projects = listed;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- for the consumers ------------------------------------------------------------------ */

int followup_project_source_changed(ccip_db *db, const Ccip__Envelope *cause, const char *award_id,
                                    const char *designation_id, const char *summary)
{
    ccip_arena *a = ccip_arena_new();
    if (!a)
        return CCIP_DB_ERROR;
    char now[24], horizon[24];
    s_fact_bounds(now, horizon);
    const char *v[] = {now, horizon, award_id, designation_id};
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_FOLLOWING, 4, v, NULL, NULL, &res);
    Ccip__Followup__Project **ps = NULL;
    size_t n = 0;
    if (rc == 0) {
        /* out of memory: the consumer tries the event again later */
        rc = s_projects_from(res, a, &ps, &n) ? CCIP_DB_ERROR : 0;
        PQclear(res);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        Ccip__Followup__ProjectSourceChanged ev = CCIP__FOLLOWUP__PROJECT_SOURCE_CHANGED__INIT;
        ev.project = ps[i];
        ev.cause = cause->type;
        ev.summary = (char *)summary;
        rc = ccip_outbox_emit_caused(db, cause, "followup.project.source_changed.v1", "project",
                                     ps[i]->id, &ev.base);
        if (rc == 0)
            ccip_log_info("key project's source changed", "project", ps[i]->id, "cause",
                          cause->type);
    }
    ccip_arena_destroy(&a);
    return rc;
}
