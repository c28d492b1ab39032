/*
 * bench_followup: the sweep that escalates what is overdue or at risk,
 * against a plain count of the same rows with the same date predicates.
 *
 * Starts a private bus and the followup service (its own sweep off)
 * against the PostgreSQL that scripts/bench started, and loads straight
 * into its tables with SQL (fixtures, as the service would have written
 * them):
 *   120,000 tasks: 100,000 open (assigned, in progress, returned, completion
 *           reported) and 20,000 closed; of the open ones 1,000 are past
 *           their deadline and not escalated (PLANTED), 1,000 past it and
 *           escalated already, 500 owe a progress report (PLANTED), the
 *           rest are due within a year
 *   20,000  key projects, 500 of which have a month whose report came due:
 *           250 filed it, 250 did not (PLANTED)
 *   200,000 milestones, ten a project: 1,000 past their day unreached
 *           (PLANTED), 1,000 of those escalated already, 1,000 due within
 *           30 days without progress (PLANTED), 60,000 reached, 10,000 due
 *           within 30 days with progress, the rest later
 * Then, in the same run:
 *   sweep_ms     followup.sweep.run.v1 through the bus, as staff, on the
 *                planted data (median of RUNS; between runs the escalations
 *                are deleted and the rows marked unescalated again, outside
 *                the timing)
 *   baseline_ms  one SELECT of count(*) over the same tables with the same
 *                date predicates (overdue, report due, late, due within 30
 *                days without progress, month due), without the sweep's
 *                "not escalated yet" conditions (median of RUNS)
 *   escalations  what the first sweep raised; it must equal PLANTED, and a
 *                second sweep right after it must raise none
 * With CCIP_BENCH_EXPLAIN=1 it prints the plans of the baseline and of the
 * sweep's candidate scans first.
 *
 * Last line: bench followup: sweep_ms=... baseline_ms=... ratio=R escalations=N
 * (R = sweep / baseline; targets R <= 3, N = PLANTED).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "ccip/followup.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test.h"
#include "ccip_test_db.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"

#define RUNS         7
#define CALL_MS      600000
#define PLANTED      (1000 + 500 + 250 + 1000 + 1000)
#define OPEN_TASKS   100000
#define CLOSED_TASKS 20000
#define PROJECTS     20000
#define MILESTONES   200000

static ccip_test_env s_env;
static void *s_ctx;
static ccip_client *s_front;

static int s_die(const char *what, const char *why)
{
    fprintf(stderr, "bench followup: %s: %s\n", what, why);
    ccip_test_env_cleanup(&s_env, 1);
    exit(1);
}

static void s_sql(ccip_db *db, const char *sql)
{
    if (ccip_db_command(db, sql) != CCIP_DB_OK)
        s_die(sql, ccip_db_error(db));
}

/* VACUUM ANALYZE of the tables the sweep reads (one statement each: VACUUM
 * runs outside a transaction). */
static void s_vacuum(ccip_db *db)
{
    static const char *const tables[] = {"task", "project", "milestone", "monthly_report",
                                         "escalation"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "VACUUM ANALYZE %s", tables[i]);
        s_sql(db, sql);
    }
}

/* ---- the data --------------------------------------------------------------- */

/* Today's Beijing day and "the end of Beijing day d", as the service stores
 * deadlines and milestones (followup_rules.h). */
#define TODAY       "((now() AT TIME ZONE 'Asia/Shanghai')::date)"
#define END_OF(day) "((" day " + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')"

static const char S_TASKS[] =
    "INSERT INTO task (id, title, instruction, source_kind, source_ref, lead_unit, responsible, "
    "priority, report_interval_days, deadline_date, deadline_at, status, created_by, "
    "report_due_at, escalated_deadline_at, completion_reported_at) "
    "SELECT gen_random_uuid(), 'bench task ' || g, 'survey and report', 'SOURCE_MEMO', "
    "'BENCH-' || g, (ARRAY['center', 'district:110105', 'district:110108', "
    "'person:zhang.wei'])[1 + g % 4], 'bench', 'PRIORITY_NORMAL', "
    "CASE WHEN g BETWEEN 2001 AND 2500 THEN 7 WHEN g BETWEEN 2501 AND 30000 THEN 14 ELSE 0 END, "
    "d, " END_OF(
        "d") ", "
             "CASE WHEN g % 10 = 0 THEN 'TASK_ASSIGNED' WHEN g % 10 = 1 THEN 'TASK_RETURNED' "
             "WHEN g % 10 = 2 AND g > 2500 THEN 'TASK_COMPLETION_REPORTED' ELSE 'TASK_IN_PROGRESS' "
             "END, "
             "'bench', "
             "CASE WHEN g BETWEEN 2001 AND 2500 THEN now() - (g % 48 + 1) * interval '1 hour' "
             "WHEN g BETWEEN 2501 AND 30000 THEN now() + (g % 14 + 1) * interval '1 day' END, "
             "CASE WHEN g BETWEEN 1001 AND 2000 THEN " END_OF(
                 "d") " END, "
                      "CASE WHEN g % 10 = 2 AND g > 2500 THEN now() END "
                      "FROM (SELECT g, CASE WHEN g <= 2000 THEN " TODAY
                      " - (1 + g % 60) ELSE " TODAY
                      " + (1 + g % 365) END AS d FROM generate_series(1, 100000) g) x";

static const char S_CLOSED[] =
    "INSERT INTO task (id, title, instruction, source_kind, source_ref, lead_unit, responsible, "
    "priority, deadline_date, deadline_at, status, created_by, closed_at, close_reason) "
    "SELECT gen_random_uuid(), 'bench closed task ' || g, 'done', 'SOURCE_MEETING', 'B', "
    "'center', 'bench', 'PRIORITY_NORMAL', d, " END_OF(
        "d") ", 'TASK_CLOSED', 'bench', now(), "
             "'accepted and archived' FROM (SELECT g, " TODAY
             " - (1 + g % 300) AS d FROM generate_series(1, 20000) g) x";

/* Projects p: 1..500 have last month's report due an hour ago (1..250 filed it). */
#define PROJECT_ID(p) "md5('p' || " p ")::uuid"
#define LAST_MONTH    "(date_trunc('month', " TODAY " - interval '1 month'))::date"
#define THIS_MONTH    "(date_trunc('month', " TODAY "))::date"
static const char S_PROJECTS[] =
    "INSERT INTO project (id, year, source, title, owner_uscc, owner_name, district_code, "
    "planned_investment_fen, start_date, end_date, registered_by, report_check_month, "
    "report_check_due_at, milestones) "
    "SELECT " PROJECT_ID("p") ", extract(year FROM " TODAY ")::int, 'FROM_STAFF', 'bench project "
                              "' || p, '91110105' || lpad(p::text, 10, '0'), 'bench owner', "
                              "'110105', 100000000, " TODAY " - 400, " TODAY " + 700, 'bench', "
                              "CASE WHEN p <= 500 THEN " LAST_MONTH " ELSE " THIS_MONTH " END, "
                              "CASE WHEN p <= 500 THEN now() - interval '1 hour' ELSE now() + "
                              "interval '10 days' END, 10 "
                              "FROM generate_series(1, 20000) p";

static const char S_REPORTS[] =
    "INSERT INTO monthly_report (id, project_id, month, version, current, "
    "investment_completed_fen, filed_by) SELECT gen_random_uuid(), " PROJECT_ID(
        "p") ", " LAST_MONTH ", 1, true, 1000, 'bench' FROM generate_series(1, 250) p";

/* Milestone i = (p - 1) * 10 + k. */
static const char S_MILESTONES[] =
    "INSERT INTO milestone (id, project_id, seq, title, planned_date, due_at, progress_percent, "
    "reached_on, created_by, late_escalated_due) "
    "SELECT gen_random_uuid(), " PROJECT_ID("p") ", k, 'milestone ' || k, d, " END_OF(
        "d") ", "
             "CASE WHEN i <= 2000 THEN (i % 3) * 10 WHEN i <= 3000 THEN 0 WHEN i <= 63000 THEN 100 "
             "WHEN i <= 73000 THEN 30 ELSE 0 END, CASE WHEN i > 3000 AND i <= 63000 THEN d END, "
             "'bench', "
             "CASE WHEN i > 1000 AND i <= 2000 THEN " END_OF(
                 "d") " END "
                      "FROM (SELECT p, k, (p - 1) * 10 + k AS i, CASE "
                      "WHEN (p - 1) * 10 + k <= 2000 THEN " TODAY
                      " - (1 + ((p - 1) * 10 + k) % 90) "
                      "WHEN (p - 1) * 10 + k <= 3000 THEN " TODAY
                      " + (1 + ((p - 1) * 10 + k) % 29) "
                      "WHEN (p - 1) * 10 + k <= 63000 THEN " TODAY
                      " - (1 + ((p - 1) * 10 + k) % 300) "
                      "WHEN (p - 1) * 10 + k <= 73000 THEN " TODAY
                      " + (1 + ((p - 1) * 10 + k) % 29) "
                      "ELSE " TODAY " + (31 + ((p - 1) * 10 + k) % 600) END AS d "
                      "FROM generate_series(1, 20000) p, generate_series(1, 10) k) x";

/* Undoes what a sweep did to the planted rows, so that the next run finds
 * them again. */
static const char S_RESET[] =
    "UPDATE task SET escalated_deadline_at = NULL WHERE id IN (SELECT task_id FROM escalation "
    "WHERE raised_by = 'bench' AND kind = 'DEADLINE_MISSED'); "
    "UPDATE task SET escalated_report_due_at = NULL WHERE id IN (SELECT task_id FROM escalation "
    "WHERE raised_by = 'bench' AND kind = 'PROGRESS_REPORT_OVERDUE'); "
    "UPDATE milestone SET late_escalated_due = NULL WHERE id IN (SELECT milestone_id FROM "
    "escalation WHERE raised_by = 'bench' AND kind = 'MILESTONE_LATE'); "
    "UPDATE milestone SET risk_escalated_due = NULL WHERE id IN (SELECT milestone_id FROM "
    "escalation WHERE raised_by = 'bench' AND kind = 'MILESTONE_AT_RISK'); "
    "UPDATE project SET report_check_month = " LAST_MONTH
    ", report_check_due_at = now() - interval '1 hour' WHERE right(owner_uscc, 10)::int <= 500; "
    "DELETE FROM escalation WHERE raised_by = 'bench'";

/* The sweep's date predicates, counted (sql/0001_followup.sql and
 * followup_sweep.c hold the sweep's own; here without "not escalated yet"). */
#define OWES "status IN ('TASK_ASSIGNED', 'TASK_IN_PROGRESS', 'TASK_RETURNED')"
static const char S_BASELINE[] =
    "SELECT (SELECT count(*) FROM task WHERE " OWES " AND deadline_at <= now()) "
    "+ (SELECT count(*) FROM task WHERE " OWES " AND report_due_at <= now()) "
    "+ (SELECT count(*) FROM milestone WHERE active AND reached_on IS NULL AND due_at <= now()) "
    "+ (SELECT count(*) FROM milestone WHERE active AND reached_on IS NULL AND progress_percent = "
    "0 AND due_at > now() AND due_at <= now() + 30 * interval '1 day') "
    "+ (SELECT count(*) FROM project WHERE status = 'PROJECT_ACTIVE' AND report_check_due_at <= "
    "now())";

/* The candidate scans of the sweep's statements, as in followup_sweep.c
 * (the statements' CTE c). */
#define MILESTONE_CANDIDATES                                                                       \
    "SELECT m.id, m.due_at, m.project_id, p.title FROM milestone m JOIN project p ON p.id = "      \
    "m.project_id WHERE m.active AND m.reached_on IS NULL "
static const char *const S_CANDIDATES[] = {
    "SELECT t.id, t.deadline_at FROM task t WHERE t." OWES
    " AND t.escalated_deadline_at IS DISTINCT FROM t.deadline_at AND t.deadline_at <= now() "
    "ORDER BY t.deadline_at LIMIT 20000 FOR UPDATE SKIP LOCKED",
    "SELECT t.id, t.report_due_at FROM task t WHERE t." OWES
    " AND t.report_due_at IS NOT NULL AND t.escalated_report_due_at IS DISTINCT FROM "
    "t.report_due_at AND t.report_due_at <= now() ORDER BY t.report_due_at LIMIT 20000 FOR "
    "UPDATE SKIP LOCKED",
    MILESTONE_CANDIDATES "AND m.late_escalated_due IS DISTINCT FROM m.due_at AND m.due_at <= now() "
                         "ORDER BY m.due_at LIMIT 20000 FOR UPDATE OF m SKIP LOCKED",
    MILESTONE_CANDIDATES "AND m.progress_percent = 0 AND m.risk_escalated_due IS DISTINCT FROM "
                         "m.due_at AND m.due_at > now() AND m.due_at <= now() + 30 * interval '1 "
                         "day' ORDER BY m.due_at LIMIT 20000 FOR UPDATE OF m SKIP LOCKED",
    "SELECT p.id FROM project p WHERE p.status = 'PROJECT_ACTIVE' AND p.report_check_due_at IS NOT "
    "NULL AND p.report_check_due_at <= now() ORDER BY p.report_check_due_at LIMIT 20000 FOR UPDATE "
    "SKIP LOCKED",
};

static void s_explain(ccip_db *db, const char *what, const char *sql)
{
    char text[4096];
    snprintf(text, sizeof text, "EXPLAIN %s", sql);
    PGresult *res = PQexec(ccip_db_conn(db), text);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        s_die("explain", PQerrorMessage(ccip_db_conn(db)));
    printf("-- %s\n", what);
    for (int i = 0; i < PQntuples(res); i++)
        printf("   %s\n", PQgetvalue(res, i, 0));
    PQclear(res);
}

/* ---- the service -------------------------------------------------------------------- */

static Ccip__Followup__SweepReply *s_sweep(void)
{
    Ccip__Followup__SweepRequest rq = CCIP__FOLLOWUP__SWEEP_REQUEST__INIT;
    uint8_t buf[16];
    size_t len = ccip__followup__sweep_request__pack(&rq, buf);
    char id[CCIP_UUID_STRLEN + 1], err[256];
    ccip_uuid_v7(id);
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = "followup.sweep.run.v1";
    env.actor_role = "staff";
    env.actor_id = "bench";
    env.payload.data = buf;
    env.payload.len = len;
    Ccip__Envelope *reply =
        ccip_client_call(s_front, "followup", &env, CALL_MS, 1, err, sizeof err);
    if (!reply)
        s_die("sweep", err);
    if (reply->status != 0)
        s_die("sweep", reply->error);
    Ccip__Followup__SweepReply *r = (Ccip__Followup__SweepReply *)ccip_payload_unpack(
        &ccip__followup__sweep_reply__descriptor, reply->payload.data, reply->payload.len,
        reply->payload.len + 1, err, sizeof err);
    ccip_envelope_free(&reply);
    if (!r)
        s_die("sweep", err);
    return r;
}

static long long s_raised(const Ccip__Followup__SweepReply *r)
{
    return (long long)r->deadlines_missed + r->progress_reports_overdue + r->milestones_late +
           r->milestones_at_risk + r->monthly_reports_missing;
}

int main(void)
{
    setenv("CCIP_FOLLOWUP_SWEEP_SECONDS", "0", 1);
    setenv("CCIP_FOLLOWUP_DIGEST_CHECK_SECONDS", "0", 1);
    if (ccip_test_env_init(&s_env) < 0 || ccip_test_start_bus(&s_env) < 0 ||
        ccip_test_start_service(&s_env, "services/followup/followup", "followup", "followup-1") <
            0) {
        fprintf(stderr, "bench followup: could not start the services\n");
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    s_ctx = zmq_ctx_new();
    char err[256];
    ccip_sock_opts so = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    s_front = ccip_client_new(s_ctx, s_env.commands, &so, err, sizeof err);
    if (!s_front)
        s_die("client", err);
    /* followup answers once it has migrated its schema */
    if (ccip_test_wait_for(s_front, "followup", 61000) < 0)
        s_die("followup did not answer", "see above");
    ccip_db *db = ccip_test_db_connect_in("followup", "followup");
    if (!db)
        s_die("database", ccip_test_db_error());
    /* VACUUM ANALYZE only as the schema's owner: the runtime role's skips
     * each table with a mere warning, which left the plans to autovacuum's
     * timing (bootstrap.sql: owner roles) */
    ccip_db *own = ccip_test_db_connect_owner("followup");
    if (!own)
        s_die("database", ccip_test_db_error());

    double t0 = ccip_test_mono_ms();
    s_sql(db, S_TASKS);
    s_sql(db, S_CLOSED);
    s_sql(db, S_PROJECTS);
    s_sql(db, S_REPORTS);
    s_sql(db, S_MILESTONES);
    s_vacuum(own);
    printf("loaded %d open and %d closed tasks, %d projects, %d milestones in %.1f s\n", OPEN_TASKS,
           CLOSED_TASKS, PROJECTS, MILESTONES, (ccip_test_mono_ms() - t0) / 1000.0);
    if (getenv("CCIP_BENCH_EXPLAIN") && strcmp(getenv("CCIP_BENCH_EXPLAIN"), "1") == 0) {
        s_explain(db, "baseline", S_BASELINE);
        static const char *const names[] = {"sweep: deadlines", "sweep: progress reports",
                                            "sweep: late milestones", "sweep: milestones at risk",
                                            "sweep: months due"};
        for (size_t i = 0; i < sizeof S_CANDIDATES / sizeof S_CANDIDATES[0]; i++)
            s_explain(db, names[i], S_CANDIDATES[i]);
    }

    double sweep[RUNS], base[RUNS];
    long long escalations = -1;
    for (int i = -1; i < RUNS; i++) { /* run -1 warms the caches */
        double t = ccip_test_mono_ms();
        PGresult *res = PQexec(ccip_db_conn(db), S_BASELINE);
        double tb = ccip_test_mono_ms() - t;
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            s_die("baseline", PQerrorMessage(ccip_db_conn(db)));
        long long counted = atoll(PQgetvalue(res, 0, 0));
        PQclear(res);
        t = ccip_test_mono_ms();
        Ccip__Followup__SweepReply *r = s_sweep();
        double ts = ccip_test_mono_ms() - t;
        long long raised = s_raised(r);
        int more = r->more;
        protobuf_c_message_free_unpacked(&r->base, NULL);
        if (more)
            s_die("sweep", "it stopped at followup.sweep_max; raise the setting");
        if (i < 0) {
            escalations = raised;
            /* once: a sweep right after raises nothing */
            r = s_sweep();
            if (s_raised(r) != 0)
                s_die("sweep", "a second sweep escalated again");
            protobuf_c_message_free_unpacked(&r->base, NULL);
            printf("counted %lld rows with the date predicates; the first sweep raised %lld "
                   "escalations\n",
                   counted, raised);
        } else {
            if (raised != escalations)
                s_die("sweep", "a run after the reset raised another number");
            sweep[i] = ts;
            base[i] = tb;
        }
        s_sql(db, S_RESET);
        s_vacuum(own);
    }
    double sweep_ms = ccip_test_median(sweep, RUNS), baseline_ms = ccip_test_median(base, RUNS);
    ccip_db_destroy(&db);
    ccip_db_destroy(&own);
    ccip_client_destroy(&s_front);
    zmq_ctx_term(s_ctx);
    ccip_test_env_cleanup(&s_env, 0);
    if (escalations != PLANTED)
        fprintf(stderr, "bench followup: the sweep raised %lld escalations, %d were planted\n",
                escalations, PLANTED);
    printf("bench followup: sweep_ms=%.2f baseline_ms=%.2f ratio=%.2f escalations=%lld\n", sweep_ms,
           baseline_ms, sweep_ms / baseline_ms, escalations);
    return escalations == PLANTED ? 0 : 1;
}
