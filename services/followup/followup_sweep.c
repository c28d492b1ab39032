#include "followup_sweep.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_log.h"
#include "ccip_row.h"
#include "ccip_pgarray.h"
#include "followup_projects.h"
#include "followup_task_read.h"
#include "followup_tasks.h"

#define TS CCIP_SQL_TS
#define US CCIP_SQL_US

/* SQL: a task still owes work by its deadline. */
#define SQL_OWES "t.status IN ('TASK_ASSIGNED', 'TASK_IN_PROGRESS', 'TASK_RETURNED')"

/* What an escalation statement returns before the subject's columns. */
#define ESC_RETURNED "e.id, " US("e.due_at") ", " US("e.raised_at")
/* Columns of a row a sweep statement returns before the subject's: the
 * escalation's three, then c's own (rid, due, and for milestones pid). */
#define TASK_COL0      5
#define MILESTONE_COL0 6

/* Each sweep statement:
 *   c  its candidates from the partial index (the same predicate, so the
 *      planner uses it), locked, or skipped when another sweep holds
 *      them, read whole (the event carries them);
 *   m  marked escalated for their due time, found by primary key through
 *      = ANY (ARRAY(...)): a join with c is planned on c's estimate, which
 *      a partial index's statistics make 10 to 20 times too high, and the
 *      hash join over the whole table that follows costs more than
 *      everything else together (EXPLAIN in tests/bench/bench_followup.c);
 *   e  the escalations inserted unless the (subject, kind, due time) is
 *      there already: the unique key that makes "once" hold whoever sweeps.
 * $1 limit, $2 the actor raising them. Only the escalations inserted come
 * back, with their subject as c read it. */
static const ccip_db_stmt S_DEADLINES = {
    "followup_sweep_deadlines",
    "WITH c AS (SELECT t.id AS rid, t.deadline_at AS due, " FOLLOWUP_TASK_COLUMNS
    " FROM task t WHERE " SQL_OWES
    " AND t.escalated_deadline_at IS DISTINCT FROM t.deadline_at AND t.deadline_at <= now() "
    "ORDER BY t.deadline_at LIMIT $1::integer FOR UPDATE SKIP LOCKED), "
    "m AS (UPDATE task t SET escalated_deadline_at = t.deadline_at WHERE t.id = ANY (ARRAY(SELECT "
    "rid FROM c))), "
    "e AS (INSERT INTO escalation (kind, subject_id, task_id, due_at, raised_by) SELECT "
    "'DEADLINE_MISSED', c.rid, c.rid, c.due, $2 FROM c ON CONFLICT (subject_id, kind, due_at) DO "
    "NOTHING RETURNING id, task_id, due_at, raised_at) "
    "SELECT " ESC_RETURNED ", c.* FROM e JOIN c ON c.rid = e.task_id"};

static const ccip_db_stmt S_REPORTS = {
    "followup_sweep_reports",
    "WITH c AS (SELECT t.id AS rid, t.report_due_at AS due, " FOLLOWUP_TASK_COLUMNS
    " FROM task t WHERE " SQL_OWES
    " AND t.report_due_at IS NOT NULL AND t.escalated_report_due_at IS DISTINCT FROM "
    "t.report_due_at AND t.report_due_at <= now() ORDER BY t.report_due_at LIMIT $1::integer "
    "FOR UPDATE SKIP LOCKED), "
    "m AS (UPDATE task t SET escalated_report_due_at = t.report_due_at WHERE t.id = ANY "
    "(ARRAY(SELECT rid FROM c))), "
    "e AS (INSERT INTO escalation (kind, subject_id, task_id, due_at, raised_by) SELECT "
    "'PROGRESS_REPORT_OVERDUE', c.rid, c.rid, c.due, $2 FROM c ON CONFLICT (subject_id, kind, "
    "due_at) DO NOTHING RETURNING id, task_id, due_at, raised_at) "
    "SELECT " ESC_RETURNED ", c.* FROM e JOIN c ON c.rid = e.task_id"};

/* The milestones' candidates with their project, locking the milestone only. */
#define MILESTONE_CANDIDATES                                                                       \
    "SELECT m.id AS rid, m.due_at AS due, m.project_id AS pid, " FOLLOWUP_MILESTONE_COLUMNS        \
    ", " FOLLOWUP_PROJECT_COLUMNS " FROM milestone m JOIN project p ON p.id = m.project_id WHERE " \
    "m.active AND m.reached_on IS NULL "

static const ccip_db_stmt S_LATE = {
    "followup_sweep_late",
    "WITH c AS (" MILESTONE_CANDIDATES
    "AND m.late_escalated_due IS DISTINCT FROM m.due_at AND m.due_at <= now() ORDER BY m.due_at "
    "LIMIT $1::integer FOR UPDATE OF m SKIP LOCKED), "
    "u AS (UPDATE milestone m SET late_escalated_due = m.due_at WHERE m.id = ANY (ARRAY(SELECT rid "
    "FROM c))), "
    "e AS (INSERT INTO escalation (kind, subject_id, project_id, milestone_id, due_at, raised_by) "
    "SELECT 'MILESTONE_LATE', c.rid, c.pid, c.rid, c.due, $2 FROM c ON CONFLICT (subject_id, "
    "kind, due_at) DO NOTHING RETURNING id, milestone_id, due_at, raised_at) "
    "SELECT " ESC_RETURNED ", c.* FROM e JOIN c ON c.rid = e.milestone_id"};

/* $3: FOLLOWUP_RISK_DAYS. */
static const ccip_db_stmt S_RISK = {
    "followup_sweep_risk",
    "WITH c AS (" MILESTONE_CANDIDATES
    "AND m.progress_percent = 0 AND m.risk_escalated_due IS DISTINCT FROM m.due_at AND m.due_at "
    "> now() AND m.due_at <= now() + $3::integer * interval '1 day' ORDER BY m.due_at LIMIT "
    "$1::integer FOR UPDATE OF m SKIP LOCKED), "
    "u AS (UPDATE milestone m SET risk_escalated_due = m.due_at WHERE m.id = ANY (ARRAY(SELECT rid "
    "FROM c))), "
    "e AS (INSERT INTO escalation (kind, subject_id, project_id, milestone_id, due_at, raised_by) "
    "SELECT 'MILESTONE_AT_RISK', c.rid, c.pid, c.rid, c.due, $2 FROM c ON CONFLICT (subject_id, "
    "kind, due_at) DO NOTHING RETURNING id, milestone_id, due_at, raised_at) "
    "SELECT " ESC_RETURNED ", c.* FROM e JOIN c ON c.rid = e.milestone_id"};

/* The months whose report came due: the projects are locked (skipped when
 * another sweep has them) until the cursor moves in S_MONTHS_MOVE. */
static const ccip_db_stmt S_MONTHS_DUE = {
    "followup_sweep_months_due",
    "SELECT p.id::text, to_char(p.report_check_month, 'YYYY-MM'), " US(
        "p.report_check_due_at") ", to_char(p.end_date, 'YYYY-MM'), EXISTS (SELECT 1 FROM "
                                 "monthly_report r WHERE r.project_id = p.id AND r.month = "
                                 "p.report_check_month) FROM project p WHERE p.status = "
                                 "'PROJECT_ACTIVE' AND p.report_check_due_at IS NOT NULL AND "
                                 "p.report_check_due_at <= now() ORDER BY p.report_check_due_at "
                                 "LIMIT $1::integer FOR UPDATE SKIP LOCKED"};

/* Moves each project's cursor to its next month ($2/$3 empty: none left)
 * and escalates the months without report ($4), returning those inserted. */
static const ccip_db_stmt S_MONTHS_MOVE = {
    "followup_sweep_months_move",
    "WITH u AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::boolean[], "
    "$5::text[], $6::bigint[]) AS u(id, next_month, next_due, missing, month, due)), "
    "m AS (UPDATE project p SET report_check_month = to_date(NULLIF(u.next_month, ''), "
    "'YYYY-MM'), report_check_due_at = " TS(
        "NULLIF(u.next_due, '')") " FROM u WHERE p.id = u.id), "
                                  "e AS (INSERT INTO escalation (kind, subject_id, project_id, "
                                  "month, due_at, raised_by) SELECT 'MONTHLY_REPORT_MISSING', "
                                  "u.id, u.id, to_date(u.month, 'YYYY-MM'), " TS(
                                      "u.due") ", $7 FROM u WHERE u.missing ON CONFLICT "
                                               "(subject_id, kind, due_at) DO NOTHING RETURNING "
                                               "id, project_id, due_at, raised_at, month) "
                                               "SELECT " ESC_RETURNED ", to_char(e.month, "
                                               "'YYYY-MM'), " FOLLOWUP_PROJECT_COLUMNS
                                               " FROM e JOIN project p ON p.id = e.project_id"};

/* A milestone reached late, reported by its owner. */
static const ccip_db_stmt S_REACHED_LATE = {
    "followup_escalate_reached_late",
    "WITH e AS (INSERT INTO escalation (kind, subject_id, project_id, milestone_id, due_at, "
    "raised_by) VALUES ('MILESTONE_LATE', $2::uuid, $1::uuid, $2::uuid, " TS(
        "$3") ", $4) ON CONFLICT (subject_id, kind, due_at) DO NOTHING RETURNING id, project_id, "
              "milestone_id, due_at, raised_at), u AS (UPDATE milestone SET late_escalated_due "
              "= " TS("$3") " WHERE id = $2::uuid) "
                            "SELECT " ESC_RETURNED ", " FOLLOWUP_MILESTONE_COLUMNS
                            ", " FOLLOWUP_PROJECT_COLUMNS
                            " FROM e JOIN milestone m ON m.id = e.milestone_id JOIN project p ON "
                            "p.id = e.project_id"};

static const ccip_db_stmt S_DIGEST_DONE = {"followup_digest_done",
                                           "SELECT 1 FROM digest WHERE week = $1"};

static const ccip_db_stmt S_DIGEST_TASKS = {
    "followup_digest_tasks",
    "SELECT * FROM (SELECT " FOLLOWUP_DIGEST_COLUMNS(
        "$1", "$2") ", t.deadline_at AS d FROM task "
                    "t WHERE t.status IN " FOLLOWUP_SQL_TASK_OPEN ") x ORDER BY x.tl = 'OVERDUE' "
                    "DESC, x.tl = 'DUE_SOON' DESC, "
                    "x.d, x.id"};

static const ccip_db_stmt S_DIGEST_INSERT = {
    "followup_digest_insert",
    "INSERT INTO digest (week, published_by, on_time, due_soon, overdue, parts) VALUES ($1, $2, "
    "$3::integer, $4::integer, $5::integer, $6::integer) ON CONFLICT (week) DO NOTHING "
    "RETURNING week"};

/* ---- escalations -------------------------------------------------------------- */

/* The Beijing day a deadline instant closes ("by 2027-06-30"). */
static void s_by_day(int64_t due_us, char *buf, size_t len)
{
    followup_day_format(followup_day_of_us(due_us - 1), buf, len);
}

/* The sentence for the office, in Beijing time. */
static char *s_summary(ccip_arena *a, Ccip__Followup__EscalationKind kind, int64_t due_us,
                       const char *title, const char *month, const char *reached_on)
{
    char buf[600], day[16], when[FOLLOWUP_BEIJING_STRLEN + 1];
    s_by_day(due_us, day, sizeof day);
    followup_beijing_text(due_us, when, sizeof when);
    switch (kind) {
    case CCIP__FOLLOWUP__ESCALATION_KIND__DEADLINE_MISSED:
        snprintf(buf, sizeof buf,
                 "task \"%s\" missed its deadline: it was due by %s (end of that day in "
                 "Beijing) and its completion was not reported",
                 title, day);
        break;
    case CCIP__FOLLOWUP__ESCALATION_KIND__PROGRESS_REPORT_OVERDUE:
        snprintf(buf, sizeof buf,
                 "task \"%s\" owes a progress report: one was due by %s (end of that day in "
                 "Beijing)",
                 title, day);
        break;
    case CCIP__FOLLOWUP__ESCALATION_KIND__MILESTONE_LATE:
        if (reached_on && reached_on[0])
            snprintf(buf, sizeof buf,
                     "milestone \"%s\" was planned for %s and was reached on %s, late", title, day,
                     reached_on);
        else
            snprintf(buf, sizeof buf,
                     "milestone \"%s\" was planned for %s and has not been reached", title, day);
        break;
    case CCIP__FOLLOWUP__ESCALATION_KIND__MILESTONE_AT_RISK:
        snprintf(buf, sizeof buf,
                 "milestone \"%s\" is due by %s, within %d days, and no progress on it has been "
                 "reported",
                 title, day, FOLLOWUP_RISK_DAYS);
        break;
    default:
        snprintf(buf, sizeof buf,
                 "the monthly report of %s for project \"%s\" was due by %s and was not filed",
                 month, title, when);
        break;
    }
    return ccip_arena_strdup(a, buf);
}

/* An escalation with its sentence (strings borrowed or arena copies). */
static Ccip__Followup__Escalation *
s_escalation(ccip_arena *a, int64_t id, Ccip__Followup__EscalationKind kind, const char *task,
             const char *project, const char *milestone, const char *month, int64_t due_us,
             int64_t raised_us, const char *raised_by, const char *title, const char *reached_on)
{
    Ccip__Followup__Escalation *e = ccip_arena_alloc(a, sizeof *e);
    if (!e)
        return NULL;
    *e = (Ccip__Followup__Escalation)CCIP__FOLLOWUP__ESCALATION__INIT;
    e->id = id;
    e->kind = kind;
    e->task_id = ccip_arena_strdup(a, task);
    e->project_id = ccip_arena_strdup(a, project);
    e->milestone_id = ccip_arena_strdup(a, milestone);
    e->month = ccip_arena_strdup(a, month);
    e->due_at_us = due_us;
    e->raised_at_us = raised_us;
    e->raised_by = ccip_arena_strdup(a, raised_by);
    e->summary = s_summary(a, kind, due_us, title, month, reached_on);
    return ccip_arena_failed(a) ? NULL : e;
}

Ccip__Followup__Escalation *followup_escalation_from_row(const PGresult *res, int row, int col0,
                                                         ccip_arena *a)
{
    Ccip__Followup__Escalation *e = ccip_row_new(
        a, CCIP_MSG(followup, escalation), res, row, col0,
        "id, kind, task_id, project_id, milestone_id, month, due_at_us, raised_at_us, raised_by");
    if (!e)
        return NULL;
    /* then the subject's title and the day a milestone was reached */
    e->summary = s_summary(a, e->kind, e->due_at_us, PQgetvalue(res, row, col0 + 9), e->month,
                           PQgetvalue(res, row, col0 + 10));
    return ccip_arena_failed(a) ? NULL : e;
}

/* Runs a task kind's statement and emits followup.task.escalated.v1 for
 * each escalation. */
static int s_task_kind(ccip_command *cmd, ccip_arena *a, const ccip_db_stmt *st,
                       Ccip__Followup__EscalationKind kind, const char *limit, int *count)
{
    const char *v[] = {limit, cmd->actor.id};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, st, 2, v, NULL, NULL, &res);
    if (rc)
        return rc;
    int n = PQntuples(res);
    int64_t now = ccip_now_us();
    for (int i = 0; rc == 0 && i < n; i++) {
        Ccip__Followup__Task *t = followup_task_from_row(res, i, TASK_COL0, now, a);
        Ccip__Followup__Escalation *e =
            t ? s_escalation(a, ccip_db_cell_i64(res, i, 0), kind, t->id, "", "", "",
                             ccip_db_cell_i64(res, i, 1), ccip_db_cell_i64(res, i, 2),
                             cmd->actor.id, t->title, "")
              : NULL;
        if (!e) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory escalating");
            break;
        }
        Ccip__Followup__TaskEscalated ev = CCIP__FOLLOWUP__TASK_ESCALATED__INIT;
        ev.escalation = e;
        ev.task = t;
        rc = ccip_command_emit(cmd, "followup.task.escalated.v1", "task", t->id, &ev.base);
    }
    PQclear(res);
    *count = n;
    return rc;
}

/* Emits followup.project.escalated.v1 for the escalation row `row` of a
 * milestone statement (ESC_RETURNED, then from col0 the milestone's and the
 * project's columns). */
static int s_emit_milestone(ccip_command *cmd, ccip_arena *a, const PGresult *res, int row,
                            int col0, Ccip__Followup__EscalationKind kind, int64_t now)
{
    Ccip__Followup__Milestone *m = followup_milestone_from_row(res, row, col0, now, a);
    Ccip__Followup__Project *p =
        followup_project_from_row(res, row, col0 + FOLLOWUP_MILESTONE_NCOLUMNS, a);
    Ccip__Followup__Escalation *e =
        m && p ? s_escalation(a, ccip_db_cell_i64(res, row, 0), kind, "", p->id, m->id, "",
                              ccip_db_cell_i64(res, row, 1), ccip_db_cell_i64(res, row, 2),
                              cmd->actor.id, m->title, m->reached_on)
               : NULL;
    if (!e)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory escalating");
    Ccip__Followup__ProjectEscalated ev = CCIP__FOLLOWUP__PROJECT_ESCALATED__INIT;
    ev.escalation = e;
    ev.project = p;
    ev.milestone = m;
    int rc = followup_project_case(cmd, p->id);
    return rc ? rc
              : ccip_command_emit(cmd, "followup.project.escalated.v1", "project", p->id, &ev.base);
}

static int s_milestone_kind(ccip_command *cmd, ccip_arena *a, const ccip_db_stmt *st,
                            Ccip__Followup__EscalationKind kind, const char *limit, int *count)
{
    char days[16];
    snprintf(days, sizeof days, "%d", FOLLOWUP_RISK_DAYS);
    const char *v[] = {limit, cmd->actor.id, days};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, st, st == &S_RISK ? 3 : 2, v, NULL, NULL, &res);
    if (rc)
        return rc;
    int n = PQntuples(res);
    int64_t now = ccip_now_us();
    for (int i = 0; rc == 0 && i < n; i++)
        rc = s_emit_milestone(cmd, a, res, i, MILESTONE_COL0, kind, now);
    PQclear(res);
    *count = n;
    return rc;
}

/* Months whose report came due: checks each, moves its project's cursor
 * to the next month, escalates the ones without report. */
static int s_months(ccip_command *cmd, ccip_arena *a, const char *limit, int *checked, int *missing)
{
    const char *v[] = {limit};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_MONTHS_DUE, 1, v, NULL, NULL, &res);
    if (rc)
        return rc;
    int n = PQntuples(res);
    *checked = n;
    *missing = 0;
    if (n == 0) {
        PQclear(res);
        return 0;
    }
    int due_day = (int)followup_config_of(cmd)->report_due_day;
    ccip_pgarray ids = CCIP_PGARRAY_INIT, next = CCIP_PGARRAY_INIT, next_due = CCIP_PGARRAY_INIT,
                 miss = CCIP_PGARRAY_INIT, months = CCIP_PGARRAY_INIT, dues = CCIP_PGARRAY_INIT;
    for (int i = 0; i < n; i++) {
        followup_month m, end;
        followup_month_parse("", PQgetvalue(res, i, 1), &m, NULL, 0);
        followup_month_parse("", PQgetvalue(res, i, 3), &end, NULL, 0);
        followup_month after = followup_month_next(m);
        ccip_pgarray_text(&ids, PQgetvalue(res, i, 0));
        if (followup_month_cmp(after, end) <= 0) {
            char text[FOLLOWUP_MONTH_STRLEN + 1], due[24];
            followup_month_format(after, text, sizeof text);
            snprintf(due, sizeof due, "%" PRId64, followup_month_report_due_us(after, due_day));
            ccip_pgarray_text(&next, text);
            ccip_pgarray_text(&next_due, due);
        } else {
            ccip_pgarray_text(&next, "");
            ccip_pgarray_text(&next_due, "");
        }
        ccip_pgarray_text(&miss, ccip_db_cell_bool(res, i, 4) ? "false" : "true");
        ccip_pgarray_text(&months, PQgetvalue(res, i, 1));
        ccip_pgarray_int(&dues, ccip_db_cell_i64(res, i, 2));
    }
    PQclear(res);
    const char *mv[] = {ccip_pgarray_value(&ids),
                        ccip_pgarray_value(&next),
                        ccip_pgarray_value(&next_due),
                        ccip_pgarray_value(&miss),
                        ccip_pgarray_value(&months),
                        ccip_pgarray_value(&dues),
                        cmd->actor.id};
    int ok = 1;
    for (int i = 0; i < 6; i++)
        ok = ok && mv[i];
    rc = ok ? ccip_db_exec(cmd->db, &S_MONTHS_MOVE, 7, mv, NULL, NULL, &res)
            : ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory checking months");
    ccip_pgarray_release(&ids);
    ccip_pgarray_release(&next);
    ccip_pgarray_release(&next_due);
    ccip_pgarray_release(&miss);
    ccip_pgarray_release(&months);
    ccip_pgarray_release(&dues);
    if (rc)
        return rc;
    n = PQntuples(res);
    for (int i = 0; rc == 0 && i < n; i++) {
        Ccip__Followup__Project *p = followup_project_from_row(res, i, 4, a);
        const char *month = PQgetvalue(res, i, 3);
        Ccip__Followup__Escalation *e =
            p ? s_escalation(a, ccip_db_cell_i64(res, i, 0),
                             CCIP__FOLLOWUP__ESCALATION_KIND__MONTHLY_REPORT_MISSING, "", p->id, "",
                             month, ccip_db_cell_i64(res, i, 1), ccip_db_cell_i64(res, i, 2),
                             cmd->actor.id, p->title, "")
              : NULL;
        if (!e) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory escalating");
            break;
        }
        Ccip__Followup__ProjectEscalated ev = CCIP__FOLLOWUP__PROJECT_ESCALATED__INIT;
        ev.escalation = e;
        ev.project = p;
        if ((rc = followup_project_case(cmd, p->id)) == 0)
            rc =
                ccip_command_emit(cmd, "followup.project.escalated.v1", "project", p->id, &ev.base);
    }
    PQclear(res);
    *missing = n;
    return rc;
}

int followup_sweep_run(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)request; /* a SweepRequest has no fields */
    int64_t max = followup_config_of(cmd)->sweep_max;
    char limit[24];
    snprintf(limit, sizeof limit, "%" PRId64, max);
    int deadlines = 0, reports = 0, late = 0, risk = 0, checked = 0, missing = 0;
    int rc;
    if ((rc = s_task_kind(cmd, a, &S_DEADLINES, CCIP__FOLLOWUP__ESCALATION_KIND__DEADLINE_MISSED,
                          limit, &deadlines)) ||
        (rc = s_task_kind(cmd, a, &S_REPORTS,
                          CCIP__FOLLOWUP__ESCALATION_KIND__PROGRESS_REPORT_OVERDUE, limit,
                          &reports)) ||
        (rc = s_milestone_kind(cmd, a, &S_LATE, CCIP__FOLLOWUP__ESCALATION_KIND__MILESTONE_LATE,
                               limit, &late)) ||
        (rc = s_milestone_kind(cmd, a, &S_RISK, CCIP__FOLLOWUP__ESCALATION_KIND__MILESTONE_AT_RISK,
                               limit, &risk)) ||
        (rc = s_months(cmd, a, limit, &checked, &missing)))
        return rc;
    Ccip__Followup__SweepReply reply = CCIP__FOLLOWUP__SWEEP_REPLY__INIT;
    reply.deadlines_missed = deadlines;
    reply.progress_reports_overdue = reports;
    reply.milestones_late = late;
    reply.milestones_at_risk = risk;
    reply.monthly_reports_missing = missing;
    reply.months_checked = checked;
    reply.more = deadlines >= max || reports >= max || late >= max || risk >= max || checked >= max;
    if (deadlines + reports + late + risk + missing > 0) {
        char n[5][16];
        snprintf(n[0], 16, "%d", deadlines);
        snprintf(n[1], 16, "%d", reports);
        snprintf(n[2], 16, "%d", late);
        snprintf(n[3], 16, "%d", risk);
        snprintf(n[4], 16, "%d", missing);
        ccip_log_info("escalated", "deadlines_missed", n[0], "progress_reports_overdue", n[1],
                      "milestones_late", n[2], "milestones_at_risk", n[3],
                      "monthly_reports_missing", n[4]);
    }
    return ccip_command_reply(cmd, &reply.base);
}

int followup_escalate_reached_late(ccip_command *cmd, ccip_arena *a, const char *project_id,
                                   const char *milestone_id, int64_t due_us, int *raised)
{
    *raised = 0;
    char due[24];
    snprintf(due, sizeof due, "%" PRId64, due_us);
    const char *v[] = {project_id, milestone_id, due, cmd->actor.id};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_REACHED_LATE, 4, v, NULL, NULL, &res);
    if (rc)
        return rc;
    if (PQntuples(res) == 1) {
        *raised = 1;
        rc = s_emit_milestone(cmd, a, res, 0, 3, CCIP__FOLLOWUP__ESCALATION_KIND__MILESTONE_LATE,
                              ccip_now_us());
    }
    PQclear(res);
    return rc;
}

/* ---- the weekly digest -------------------------------------------------------------- */

int followup_digest_publish(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)request;
    int64_t now = ccip_now_us();
    char week[FOLLOWUP_WEEK_STRLEN + 1];
    followup_iso_week(now, week, sizeof week);
    Ccip__Followup__PublishDigestReply reply = CCIP__FOLLOWUP__PUBLISH_DIGEST_REPLY__INIT;
    reply.week = week;
    const char *wv[] = {week};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_DIGEST_DONE, 1, wv, NULL, NULL, &res);
    if (rc)
        return rc;
    int done = PQntuples(res) > 0;
    PQclear(res);
    if (done) /* the check that runs every hour: this week's is out */
        return ccip_command_reply(cmd, &reply.base);
    char nowt[24], soon[24];
    snprintf(nowt, sizeof nowt, "%" PRId64, now);
    snprintf(soon, sizeof soon, "%" PRId64, now + FOLLOWUP_DUE_SOON_DAYS * FOLLOWUP_DAY_US);
    const char *tv[] = {nowt, soon};
    if ((rc = ccip_db_exec(cmd->db, &S_DIGEST_TASKS, 2, tv, NULL, NULL, &res)))
        return rc;
    int n = PQntuples(res);
    Ccip__Followup__DigestEntry **entries = ccip_arena_alloc(a, (size_t)(n + 1) * sizeof *entries);
    for (int i = 0; entries && i < n; i++) {
        if (!(entries[i] = followup_digest_entry_from_row(res, i, a)))
            break;
        switch (entries[i]->timeliness) {
        case CCIP__FOLLOWUP__TIMELINESS__OVERDUE:
            reply.overdue++;
            break;
        case CCIP__FOLLOWUP__TIMELINESS__DUE_SOON:
            reply.due_soon++;
            break;
        default:
            reply.on_time++;
            break;
        }
    }
    PQclear(res);
    if (!entries || ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading open tasks");
    /* An empty week still gets its digest: "no open task" is news too. */
    reply.parts = n == 0 ? 1 : (n + FOLLOWUP_DIGEST_PART - 1) / FOLLOWUP_DIGEST_PART;
    char c[4][16];
    snprintf(c[0], 16, "%d", reply.on_time);
    snprintf(c[1], 16, "%d", reply.due_soon);
    snprintf(c[2], 16, "%d", reply.overdue);
    snprintf(c[3], 16, "%d", reply.parts);
    const char *iv[] = {week, cmd->actor.id, c[0], c[1], c[2], c[3]};
    if ((rc = ccip_db_exec(cmd->db, &S_DIGEST_INSERT, 6, iv, NULL, NULL, &res)))
        return rc;
    int inserted = PQntuples(res) == 1;
    PQclear(res);
    if (!inserted) { /* another run published it meanwhile */
        reply.on_time = reply.due_soon = reply.overdue = reply.parts = 0;
        return ccip_command_reply(cmd, &reply.base);
    }
    reply.published = 1;
    for (int part = 0; part < reply.parts; part++) {
        Ccip__Followup__DigestPublished ev = CCIP__FOLLOWUP__DIGEST_PUBLISHED__INIT;
        ev.week = week;
        ev.part = part + 1;
        ev.parts = reply.parts;
        ev.as_of_us = now;
        ev.on_time = reply.on_time;
        ev.due_soon = reply.due_soon;
        ev.overdue = reply.overdue;
        int from = part * FOLLOWUP_DIGEST_PART;
        ev.tasks = entries + from;
        ev.n_tasks = (size_t)(n - from < FOLLOWUP_DIGEST_PART ? n - from : FOLLOWUP_DIGEST_PART);
        if ((rc = ccip_command_emit(cmd, "followup.task.digest_published.v1", "digest", week,
                                    &ev.base)))
            return rc;
    }
    ccip_log_info("digest published", "week", week, "parts", c[3]);
    return ccip_command_reply(cmd, &reply.base);
}
