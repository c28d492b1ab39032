/*
 * bench_evaluation: assignments of N open cases (default 2,000), first
 * against 500 experts and 50 agencies, then against 5,000 experts and 500
 * agencies, in one run, through the real bus and evaluation service.
 *
 * Registers, cases and score sheets are written straight into the
 * evaluation schema (bench-owned data; writing thousands of registrations
 * through commands would measure something else). Then every case gets one
 * evaluation.assignment.make.v1 (a proposal that is also committed, so
 * loads grow and caps come into play), one after the other. The data carry
 * every kind of conflict: experts employed by applicants, declared
 * conflicts, experts whose phone is an applicant's contact, and (the
 * service runs with evaluation.same_district_conflict on) experts from the
 * case's district; agencies that declared conflicts.
 *
 * Afterwards SQL written independently of the service checks every
 * assignment: caps (recounted from the tasks, not the counters) and
 * conflicts without a recorded override are violations.
 *
 * growth = time per case at the large size / time per case at the small
 * size. Ten times the candidates must cost at most three times as much per
 * case (target growth <= 3): candidates come out of an index range, not a
 * scan of the register.
 *
 * Last line: bench evaluation: cases_per_s_small=… cases_per_s_large=…
 *            growth=G violations=N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test_db.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"

#define APPLICANTS 400 /* applicant organisations the cases come from */
#define FIELDS     20  /* fields of expertise; each sheet matches on 6 */
#define PANEL      5
#define DISTRICTS                                                                                  \
    "ARRAY['110101','110102','110105','110106','110107','110108','110109','110111','110112',"      \
    "'110113','110114','110115','110116','110117','110118','110119']"

/* Runs bench-owned SQL (no data from outside). Returns 0 or -1. */
static int s_sql(ccip_db *db, const char *sql)
{
    if (ccip_db_command(db, sql) != CCIP_DB_OK) {
        fprintf(stderr, "bench evaluation: %s\n  in: %.200s\n", ccip_db_error(db), sql);
        return -1;
    }
    return 0;
}

/* One number from bench-owned SQL; -1 on failure. */
static long long s_number(ccip_db *db, const char *sql)
{
    PGresult *res = PQexec(ccip_db_conn(db), sql);
    long long v = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        v = atoll(PQgetvalue(res, 0, 0));
    else
        fprintf(stderr, "bench evaluation: %s", PQerrorMessage(ccip_db_conn(db)));
    PQclear(res);
    return v;
}

/* Empties the schema's business tables and writes the registers, the
 * applicants' contacts, the sheets and `cases` open cases. */
static int s_seed(ccip_db *db, int experts, int agencies, int cases)
{
    char sql[8192];
    if (s_sql(db, "TRUNCATE case_log, review_score, review, report_document, investigation, "
                  "decision, designation, case_file, applicant_contact, expert_conflict, "
                  "expert_field, expert, agency_conflict, agency_district, agency, "
                  "sheet_criterion, score_sheet, certificate_counter") < 0)
        return -1;
    /* Agencies: each serves 4 districts, 1 in 10 declared a conflict. */
    snprintf(sql, sizeof sql,
             "INSERT INTO agency (id, name, uscc, capacity, registered_by) SELECT 'AG-' || "
             "lpad(i::text, 5, '0'), 'Agency ' || i, '9111010' || lpad(i::text, 11, '0'), 40, "
             "'bench' FROM generate_series(1, %d) i;"
             "INSERT INTO agency_district (agency_id, district_code, load, active) "
             "SELECT 'AG-' || lpad(i::text, 5, '0'), (" DISTRICTS ")[1 + (i + k * 4) %% 16], 0, "
             "true FROM generate_series(1, %d) i, generate_series(0, 3) k;"
             "INSERT INTO agency_conflict (agency_id, org_uscc) SELECT 'AG-' || "
             "lpad(i::text, 5, '0'), '9211010' || lpad((i %% %d)::text, 11, '0') "
             "FROM generate_series(1, %d) i WHERE i %% 10 = 0;",
             agencies, agencies, APPLICANTS, agencies);
    if (s_sql(db, sql) < 0)
        return -1;
    /* Experts: two fields each, five per affiliation, one in ten employed
     * by an applicant, one in ten declared a conflict with one. */
    snprintf(sql, sizeof sql,
             "INSERT INTO expert (id, name, fields, affiliation_uscc, district_code, phone, "
             "max_concurrent, registered_by) SELECT 'EX-' || lpad(i::text, 6, '0'), 'Expert ' || "
             "i, ARRAY(SELECT DISTINCT 'f' || x FROM unnest(ARRAY[i %% %d, (i * 7 + 3) %% %d]) x), "
             "CASE WHEN i %% 10 = 0 THEN '9211010' || lpad((i %% %d)::text, 11, '0') "
             "ELSE '9311010' || lpad((i / 5)::text, 11, '0') END, (" DISTRICTS
             ")[1 + i %% 16], '138' || lpad(i::text, 8, '0'), 20, 'bench' "
             "FROM generate_series(1, %d) i;"
             "INSERT INTO expert_field (expert_id, field, load, active) SELECT e.id, f, 0, true "
             "FROM expert e, unnest(e.fields) f;"
             "INSERT INTO expert_conflict (expert_id, org_uscc) SELECT 'EX-' || "
             "lpad(i::text, 6, '0'), '9211010' || lpad(((i * 3) %% %d)::text, 11, '0') "
             "FROM generate_series(1, %d) i WHERE i %% 10 = 5;",
             FIELDS, FIELDS, APPLICANTS, experts, APPLICANTS, experts);
    if (s_sql(db, sql) < 0)
        return -1;
    /* Applicants' contacts: each one's phone is some expert's. */
    snprintf(sql, sizeof sql,
             "INSERT INTO applicant_contact (applicant_uscc, application_id, phone) "
             "SELECT '9211010' || lpad(j::text, 11, '0'), gen_random_uuid(), '138' || "
             "lpad((1 + (j * 13) %% %d)::text, 8, '0') FROM generate_series(0, %d) j;",
             experts, APPLICANTS - 1);
    if (s_sql(db, sql) < 0)
        return -1;
    /* Sheets: one criterion; each kind matches on six fields. */
    snprintf(sql, sizeof sql,
             "INSERT INTO score_sheet (kind, version, pass_threshold_centi, panel_size, fields, "
             "published_by) SELECT k, 1, 6000, %d, ARRAY(SELECT 'f' || x FROM "
             "generate_series(n * 6, n * 6 + 5) x), 'bench' FROM (VALUES "
             "('CLUSTER_IDENTIFICATION', 0), ('TALENT_BASE_IDENTIFICATION', 1), "
             "('SPECIAL_FUND_PROJECT', 2)) s(k, n);"
             "INSERT INTO sheet_criterion (kind, version, position, code, title, weight, "
             "max_score) SELECT kind, 1, 1, 'overall', 'Overall', 1, 100 FROM score_sheet;"
             "INSERT INTO case_file (id, application_id, event_id, call_id, kind, year, "
             "applicant_uscc, applicant_name, district_code, title, accepted_payload) "
             "SELECT gen_random_uuid(), gen_random_uuid(), 'bench', gen_random_uuid(), "
             "(ARRAY['CLUSTER_IDENTIFICATION', 'TALENT_BASE_IDENTIFICATION', "
             "'SPECIAL_FUND_PROJECT'])[1 + i %% 3], 2027, '9211010' || lpad((i %% %d)::text, 11, "
             "'0'), 'Applicant ' || (i %% %d), (" DISTRICTS ")[1 + (i * 5) %% 16], 'Case ' || i, "
             "'\\x'::bytea FROM generate_series(1, %d) i;"
             "ANALYZE case_file, applicant_contact, expert, expert_field, expert_conflict, agency, "
             "agency_district, agency_conflict, score_sheet, sheet_criterion;",
             PANEL, APPLICANTS, APPLICANTS, cases);
    return s_sql(db, sql);
}

/* Assignments recounted and checked against the registers, by SQL that
 * shares nothing with the service's code. */
static long long s_violations(ccip_db *db)
{
    return s_number(
        db,
        "SELECT "
        /* experts over their cap, by counter or by their open reviews */
        "(SELECT count(*) FROM expert e WHERE e.load > e.max_concurrent OR (SELECT count(*) "
        "FROM review r WHERE r.expert_id = e.id AND r.status IN ('TASK_ASSIGNED', "
        "'TASK_ACCEPTED')) > e.max_concurrent) + "
        "(SELECT count(*) FROM agency a WHERE a.load > a.capacity OR (SELECT count(*) FROM "
        "investigation i WHERE i.agency_id = a.id AND i.status = 'TASK_ASSIGNED') > a.capacity) "
        "+ "
        /* reviews in conflict without a recorded override */
        "(SELECT count(*) FROM review r JOIN case_file c ON c.id = r.case_id JOIN expert e ON "
        "e.id = r.expert_id WHERE r.override_reason = '' AND (e.affiliation_uscc = "
        "c.applicant_uscc OR e.district_code = c.district_code OR EXISTS (SELECT 1 FROM "
        "expert_conflict k WHERE k.expert_id = e.id AND k.org_uscc = c.applicant_uscc) OR "
        "EXISTS (SELECT 1 FROM applicant_contact t WHERE t.applicant_uscc = c.applicant_uscc "
        "AND t.phone <> '' AND t.phone = e.phone))) + "
        "(SELECT count(*) FROM investigation i JOIN case_file c ON c.id = i.case_id JOIN agency "
        "a ON a.id = i.agency_id WHERE i.override_reason = '' AND (a.uscc = c.applicant_uscc OR "
        "EXISTS (SELECT 1 FROM agency_conflict k WHERE k.agency_id = a.id AND k.org_uscc = "
        "c.applicant_uscc))) + "
        /* panels larger than the sheet's, or holding an expert twice */
        "(SELECT count(*) FROM (SELECT case_id FROM review GROUP BY case_id HAVING count(*) > "
        "5 OR count(DISTINCT expert_id) <> count(*)) t)");
}

/* Assigns every open case, one after the other; returns the seconds it
 * took, or -1. */
static double s_assign_all(ccip_db *db, ccip_client *c, long *assigned)
{
    PGresult *res = PQexec(ccip_db_conn(db), "SELECT id FROM case_file ORDER BY id");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return -1;
    }
    *assigned = 0;
    int64_t t0 = ccip_now_us();
    for (int i = 0; i < PQntuples(res); i++) {
        Ccip__Evaluation__AssignRequest rq = CCIP__EVALUATION__ASSIGN_REQUEST__INIT;
        rq.case_id = PQgetvalue(res, i, 0);
        uint8_t buf[128];
        char id[CCIP_UUID_STRLEN + 1], err[256];
        ccip_uuid_v7(id);
        Ccip__Envelope e = CCIP__ENVELOPE__INIT;
        e.id = id;
        e.type = "evaluation.assignment.make.v1";
        e.actor_role = "staff";
        e.actor_id = "bench";
        e.payload.data = buf;
        e.payload.len = ccip__evaluation__assign_request__pack(&rq, buf);
        Ccip__Envelope *r = ccip_client_call(c, "evaluation", &e, 10000, 3, err, sizeof err);
        if (!r) {
            fprintf(stderr, "bench evaluation: no reply: %s\n", err);
            PQclear(res);
            return -1;
        }
        if (r->status == CCIP__STATUS__OK)
            (*assigned)++;
        else if (*assigned < 3)
            fprintf(stderr, "bench evaluation: %s\n", r->error);
        ccip_envelope_free(&r);
    }
    double s = (double)(ccip_now_us() - t0) / 1e6;
    PQclear(res);
    return s;
}

/* 1 when the candidate query of a field uses the rank index. */
static int s_uses_index(ccip_db *db)
{
    PGresult *res = PQexec(ccip_db_conn(db),
                           "EXPLAIN SELECT expert_id FROM expert_field WHERE field = 'f1' AND "
                           "active ORDER BY load, expert_id LIMIT 36");
    int ok = 0;
    for (int i = 0; PQresultStatus(res) == PGRES_TUPLES_OK && i < PQntuples(res); i++)
        ok |= strstr(PQgetvalue(res, i, 0), "expert_field_rank") != NULL;
    PQclear(res);
    return ok;
}

int main(int argc, char **argv)
{
    int cases = argc > 1 ? atoi(argv[1]) : 2000;
    const int sizes[2][2] = {{500, 50}, {5000, 500}};
    ccip_test_env env;
    setenv("CCIP_EVALUATION_SAME_DISTRICT_CONFLICT", "true", 1);
    if (ccip_test_env_init(&env) < 0 || ccip_test_start_bus(&env) < 0 ||
        ccip_test_start_service(&env, "services/evaluation/evaluation", "evaluation",
                                "evaluation-1") < 0) {
        fprintf(stderr, "bench evaluation: could not start the services\n");
        ccip_test_env_cleanup(&env, 1);
        return 1;
    }
    void *ctx = zmq_ctx_new();
    char err[256];
    ccip_sock_opts so = {.keys = &env.front_keys, .server_public = env.bus_keys.public_key};
    ccip_client *c = ccip_client_new(ctx, env.commands, &so, err, sizeof err);
    /* The service has migrated its schema once it answers. */
    if (c && ccip_test_wait_for(c, "evaluation", CCIP_TEST_SVC_START_MS) < 0)
        ccip_client_destroy(&c);
    /* The seeding empties case_log, which only the schema's owner may do
     * when it has an owner role (common/sql/0006_history.sql). */
    ccip_db *db = ccip_test_db_connect_in("evaluation_owner", "evaluation");
    if (!db)
        db = ccip_test_db_connect_in("evaluation", "evaluation");
    if (!c || !db) {
        fprintf(stderr, "bench evaluation: %s\n", db ? err : ccip_test_db_error());
        ccip_test_env_cleanup(&env, 1);
        return 1;
    }
    double per_s[2] = {0, 0}, seconds[2] = {0, 0};
    long long violations = 0;
    int indexed = 1;
    for (int k = 0; k < 2; k++) {
        long assigned = 0;
        if (s_seed(db, sizes[k][0], sizes[k][1], cases) < 0 ||
            (seconds[k] = s_assign_all(db, c, &assigned)) <= 0) {
            ccip_test_env_cleanup(&env, 1);
            return 1;
        }
        per_s[k] = cases / seconds[k];
        long long v = s_violations(db);
        violations += v < 0 ? 1 : v;
        indexed &= s_uses_index(db);
        long long reviews = s_number(db, "SELECT count(*) FROM review");
        fprintf(stderr,
                "bench evaluation: %d experts, %d agencies: %d cases in %.2f s, %ld assigned, "
                "%lld reviews, %lld violations\n",
                sizes[k][0], sizes[k][1], cases, seconds[k], assigned, reviews, v);
    }
    if (!indexed)
        fprintf(stderr, "bench evaluation: the candidate query does not use expert_field_rank\n");
    ccip_db_destroy(&db);
    ccip_client_destroy(&c);
    ccip_test_env_cleanup(&env, 0);
    printf("bench evaluation: cases_per_s_small=%.0f cases_per_s_large=%.0f growth=%.2f "
           "violations=%lld\n",
           per_s[0], per_s[1], seconds[1] / seconds[0], violations);
    return violations == 0 && indexed ? 0 : 1;
}
