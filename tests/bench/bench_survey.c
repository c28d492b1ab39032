/*
 * bench_survey: a survey's per-question results against a plain GROUP BY
 * over the same answer rows (issue 20).
 *
 * Starts a private bus and the stats service against the PostgreSQL that
 * scripts/bench started. Through the service, an analyst saves and
 * publishes a questionnaire of 40 questions (10 numbers, 10 single
 * choices, 5 multiple choices, 5 yes/no, 5 dates, 5 short texts) and sends
 * it to every enterprise of intake's register; the register holds 20,000
 * enterprises in 16 districts, loaded straight into ev_org (a fixture, as
 * if intake's events had been applied). Each enterprise's submitted
 * response is loaded with SQL too (fixtures: 20,000 responses, their
 * participation rows and 800,000 answers, in one INSERT each, with the
 * tables' triggers on, so the tally is kept as the service keeps it).
 * Then, in the same run, each the median of 7 after one warm-up:
 *
 *   aggregate_ms  stats.survey.results.v1 through the bus, as an analyst:
 *                 for every question the answers, counts and shares of
 *                 the options, count, sum, minimum, maximum, mean and
 *                 quartiles of the numbers and dates, each in all, by
 *                 district and by target kind
 *   baseline_ms   SELECT question, count(*) FROM survey_answer WHERE
 *                 survey_id = $1 GROUP BY question, over the same rows
 *
 * Before the timing it checks the results against the load (every
 * question answered 20,000 times, a choice's counts adding up to it, the
 * numbers' count and sum as SQL computes them) and prints the plan of the
 * numbers' read (an index-only scan of survey_answer_numbers, no sort).
 *
 * Last line: bench survey: aggregate_ms=… baseline_ms=… ratio=R responses=20000
 * (R = aggregate / baseline; target R <= 3).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "ccip/stats.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test.h"
#include "ccip_test_db.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"

#define QUESTIONS 40
#define TARGETS   20000
#define RUNS      7
#define CALL_MS   600000

static ccip_test_env s_env;
static void *s_ctx;
static ccip_client *s_front;

static int s_die(const char *what, const char *why)
{
    fprintf(stderr, "bench survey: %s: %s\n", what, why);
    ccip_test_env_cleanup(&s_env, 1);
    exit(1);
}

/* Sends a command to stats through the front door as (role, "bench");
 * returns the reply decoded as desc (caller frees) or exits. */
static ProtobufCMessage *s_call(const char *role, const char *type, const ProtobufCMessage *msg,
                                const ProtobufCMessageDescriptor *desc)
{
    char err[CCIP_TEST_SVC_ERROR_MAX];
    ccip_test_cmd c = {.service = "stats",
                       .role = role,
                       .actor = "bench",
                       .type = type,
                       .msg = msg,
                       .out = desc,
                       .via = s_front,
                       .timeout_ms = CALL_MS,
                       .attempts = 1,
                       .error = err,
                       .error_len = sizeof err};
    ProtobufCMessage *out = NULL;
    if (ccip_test_call_cmd(&c, &out) != 0 || !out)
        s_die(type, err);
    return out;
}

static void s_sql(ccip_db *db, const char *sql)
{
    if (ccip_db_command(db, sql) != CCIP_DB_OK)
        s_die(sql, ccip_db_error(db));
}

/* One number of a one-row query with the survey id as $1. */
static long long s_number(ccip_db *db, const char *name, const char *sql, const char *survey)
{
    ccip_db_stmt st = {name, sql};
    PGresult *res = NULL;
    if (ccip_db_exec(db, &st, 1, &survey, NULL, NULL, &res) != CCIP_DB_OK)
        s_die(sql, ccip_db_error(db));
    long long n = PQntuples(res) ? atoll(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    return n;
}

/* ---- the questionnaire ---------------------------------------------------------------- */

/* Question i's kind: its index mod 8 says which (this is also what the
 * load's SQL writes, see S_ANSWERS). */
static Ccip__Stats__QuestionKind s_kind(int i)
{
    static const Ccip__Stats__QuestionKind kinds[8] = {CCIP__STATS__QUESTION_KIND__NUMBER,
                                                       CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE,
                                                       CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE,
                                                       CCIP__STATS__QUESTION_KIND__YES_NO,
                                                       CCIP__STATS__QUESTION_KIND__NUMBER,
                                                       CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE,
                                                       CCIP__STATS__QUESTION_KIND__DATE,
                                                       CCIP__STATS__QUESTION_KIND__SHORT_TEXT};
    return kinds[i % 8];
}

/* Saves and publishes the questionnaire; writes its id into id. */
static void s_questionnaire(char id[CCIP_UUID_STRLEN + 1])
{
    static Ccip__Stats__Question q[QUESTIONS], *qs[QUESTIONS];
    static Ccip__Stats__QuestionOption o[5], *opts[5];
    static char codes[QUESTIONS][16], titles[QUESTIONS][40];
    static const char *const ocodes[5] = {"a", "b", "c", "d", "e"};
    for (int k = 0; k < 5; k++) {
        o[k] = (Ccip__Stats__QuestionOption)CCIP__STATS__QUESTION_OPTION__INIT;
        o[k].code = (char *)ocodes[k];
        o[k].label = (char *)ocodes[k];
        opts[k] = &o[k];
    }
    for (int i = 0; i < QUESTIONS; i++) {
        q[i] = (Ccip__Stats__Question)CCIP__STATS__QUESTION__INIT;
        snprintf(codes[i], sizeof codes[i], "q%02d", i);
        snprintf(titles[i], sizeof titles[i], "Question %d", i);
        q[i].code = codes[i];
        q[i].title = titles[i];
        q[i].kind = s_kind(i);
        q[i].required = 1;
        if (q[i].kind == CCIP__STATS__QUESTION_KIND__NUMBER) {
            q[i].unit = "yuan";
            q[i].has_min = 1;
        }
        if (q[i].kind == CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE) {
            q[i].options = opts;
            q[i].n_options = 5;
        }
        if (q[i].kind == CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE) {
            q[i].options = opts;
            q[i].n_options = 4;
        }
        qs[i] = &q[i];
    }
    Ccip__Stats__Section sec = CCIP__STATS__SECTION__INIT, *secs[] = {&sec};
    sec.code = "all";
    sec.title = "All questions";
    sec.questions = qs;
    sec.n_questions = QUESTIONS;
    Ccip__Stats__QuestionnaireContent c = CCIP__STATS__QUESTIONNAIRE_CONTENT__INIT;
    c.title = "Bench questionnaire of forty questions";
    c.sections = secs;
    c.n_sections = 1;
    Ccip__Stats__SaveQuestionnaireRequest s = CCIP__STATS__SAVE_QUESTIONNAIRE_REQUEST__INIT;
    s.questionnaire_id = "";
    s.content = &c;
    Ccip__Stats__QuestionnaireReply *r =
        (Ccip__Stats__QuestionnaireReply *)s_call("analyst", "stats.questionnaire.save.v1", &s.base,
                                                  &ccip__stats__questionnaire_reply__descriptor);
    snprintf(id, CCIP_UUID_STRLEN + 1, "%s", r->questionnaire->id);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    Ccip__Stats__PublishQuestionnaireRequest p = CCIP__STATS__PUBLISH_QUESTIONNAIRE_REQUEST__INIT;
    p.questionnaire_id = id;
    p.note = "";
    protobuf_c_message_free_unpacked(s_call("analyst", "stats.questionnaire.publish.v1", &p.base,
                                            &ccip__stats__questionnaire_reply__descriptor),
                                     NULL);
}

/* ---- the load --------------------------------------------------------------------------- */

/* 20,000 enterprises of intake's register, in 16 districts, registered a
 * year ago (as intake.organisation.registered.v1 would have left them). */
static const ccip_db_stmt S_ORGS = {
    "bench_orgs",
    "INSERT INTO ev_org (uscc, district_code, position, org_type, name, registered_at_us) "
    "SELECT '91' || lpad(i::text, 16, '0'), (ARRAY['110101', '110102', '110105', '110106', "
    "'110107', '110108', '110109', '110111', '110112', '110113', '110114', '110115', '110116', "
    "'110117', '110118', '110119'])[1 + i % 16], i, 'ENTERPRISE', 'bench enterprise ' || i, "
    "(extract(epoch FROM now() - interval '1 year') * 1000000)::bigint "
    "FROM generate_series(1, $1::int) i"};

/* Every target's response, named as the service names it. */
static const ccip_db_stmt S_RESPONSES = {
    "bench_responses",
    "INSERT INTO survey_response (id, survey_id, questionnaire_id, questionnaire_version, "
    "target_id, target_kind, district_code, submitted_by, submitted_at) SELECT "
    "gen_random_uuid(), s.id, s.questionnaire_id, s.questionnaire_version, t.target_id, "
    "t.target_kind, t.district_code, t.respondent, now() FROM survey s, survey_targets(s.id) t "
    "WHERE s.id = $1::uuid"};
static const ccip_db_stmt S_PARTICIPATION = {
    "bench_participation",
    "INSERT INTO survey_participation (survey_id, target_id, status, saved_at, "
    "first_submitted_at, submitted_at, submissions) SELECT survey_id, target_id, 'SUBMITTED', "
    "now(), now(), now(), 1 FROM survey_response WHERE survey_id = $1::uuid"};

/* 40 answers per response, by the kinds of s_kind (q % 8), each value a
 * hash of the response and question: numbers 0..99,999 yuan, one of 5
 * options, a non-empty set of 4 (bits), yes or no, a date in 1970+19000
 * days .. +1000, a short text. */
static const ccip_db_stmt S_ANSWERS = {
    "bench_answers",
    "INSERT INTO survey_answer (survey_id, response_id, question, district_code, target_kind, "
    "num, opt, txt) SELECT r.survey_id, r.id, q, r.district_code, r.target_kind, "
    "CASE WHEN q % 8 IN (0, 4) THEN h % 100000 WHEN q % 8 = 6 THEN 19000 + h % 1000 END, "
    "CASE WHEN q % 8 IN (1, 5) THEN h % 5 WHEN q % 8 = 2 THEN 1 + h % 15 WHEN q % 8 = 3 "
    "THEN h % 2 END, CASE WHEN q % 8 = 7 THEN 'answer ' || h % 1000 END "
    "FROM survey_response r, generate_series(0, 39) q, "
    "LATERAL (SELECT abs(hashtext(r.id::text || q))::bigint AS h) x WHERE r.survey_id = $1::uuid"};

static const ccip_db_stmt S_BASELINE = {
    "bench_baseline",
    "SELECT question, count(*) FROM survey_answer WHERE survey_id = $1::uuid GROUP BY question"};

/* The results agree with the load. */
static void s_check(ccip_db *db, const Ccip__Stats__SurveyResults *r, const char *survey)
{
    if (r->responses != TARGETS || r->expected != TARGETS || r->n_questions != QUESTIONS)
        s_die("results", "not every response or question is in them");
    for (size_t i = 0; i < r->n_questions; i++) {
        const Ccip__Stats__QuestionResult *q = r->questions[i];
        const Ccip__Stats__GroupResult *total = q->n_groups ? q->groups[0] : NULL;
        if (!total || strcmp(total->dimension, "total") != 0 || total->answered != TARGETS)
            s_die("results", "a question's total is not every response");
        if (q->kind == CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE ||
            q->kind == CCIP__STATS__QUESTION_KIND__YES_NO) {
            uint32_t sum = 0;
            for (size_t k = 0; k < total->n_options; k++)
                sum += total->options[k]->count;
            if (sum != TARGETS)
                s_die("results", "a choice's counts do not add up to the responses");
        }
        if (i == 0) {
            long long sum =
                s_number(db, "bench_sum0",
                         "SELECT sum(num) FROM survey_answer WHERE survey_id = $1::uuid "
                         "AND question = 0",
                         survey);
            if (!total->numbers || total->numbers->count != TARGETS || total->numbers->sum != sum)
                s_die("results", "the numbers' count or sum differ from SQL's");
        }
    }
}

int main(void)
{
    if (ccip_test_env_init(&s_env) < 0 || ccip_test_start_bus(&s_env) < 0 ||
        ccip_test_start_service(&s_env, "services/stats/stats", "stats", "stats-1") < 0) {
        fprintf(stderr, "bench survey: could not start the services\n");
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    s_ctx = zmq_ctx_new();
    char err[256];
    ccip_sock_opts so = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    s_front = ccip_client_new(s_ctx, s_env.commands, &so, err, sizeof err);
    if (!s_front)
        s_die("client", err);
    /* stats answers once it has migrated its schema */
    if (ccip_test_wait_for(s_front, "stats", 61000) < 0)
        s_die("stats did not answer", "see above");
    ccip_db *db = ccip_test_db_connect_in("stats", "stats");
    if (!db)
        s_die("database", ccip_test_db_error());
    /* VACUUM ANALYZE only as the schema's owner: the runtime role's skips
     * each table with a mere warning, which left the plans to autovacuum's
     * timing (bootstrap.sql: owner roles) */
    ccip_db *own = ccip_test_db_connect_owner("stats");
    if (!own)
        s_die("database", ccip_test_db_error());

    double t0 = ccip_test_mono_ms();
    char n_text[16], qid[CCIP_UUID_STRLEN + 1], sid[CCIP_UUID_STRLEN + 1];
    snprintf(n_text, sizeof n_text, "%d", TARGETS);
    const char *np[] = {n_text};
    if (ccip_db_exec(db, &S_ORGS, 1, np, NULL, NULL, NULL) != CCIP_DB_OK)
        s_die("organisations", ccip_db_error(db));
    s_questionnaire(qid);
    Ccip__Stats__TargetSelector sel = CCIP__STATS__TARGET_SELECTOR__INIT, *sels[] = {&sel};
    sel.kind = CCIP__STATS__TARGET_KIND__ORGANISATION;
    sel.organisation_type = "ENTERPRISE";
    Ccip__Stats__CreateSurveyRequest cs = CCIP__STATS__CREATE_SURVEY_REQUEST__INIT;
    cs.title = "Bench survey of every enterprise";
    cs.questionnaire_id = qid;
    cs.closes_at_us = ccip_now_us() + 30LL * 86400 * 1000000;
    cs.targets = sels;
    cs.n_targets = 1;
    Ccip__Stats__SurveyReply *sr = (Ccip__Stats__SurveyReply *)s_call(
        "analyst", "stats.survey.create.v1", &cs.base, &ccip__stats__survey_reply__descriptor);
    snprintf(sid, sizeof sid, "%s", sr->survey->id);
    protobuf_c_message_free_unpacked(&sr->base, NULL);
    const char *sp[] = {sid};
    if (ccip_db_exec(db, &S_RESPONSES, 1, sp, NULL, NULL, NULL) != CCIP_DB_OK ||
        ccip_db_exec(db, &S_PARTICIPATION, 1, sp, NULL, NULL, NULL) != CCIP_DB_OK ||
        ccip_db_exec(db, &S_ANSWERS, 1, sp, NULL, NULL, NULL) != CCIP_DB_OK)
        s_die("load", ccip_db_error(db));
    s_sql(own, "VACUUM ANALYZE survey_response");
    s_sql(own, "VACUUM ANALYZE survey_answer");
    s_sql(own, "VACUUM ANALYZE survey_tally");
    long long responses =
        s_number(db, "bench_responses_n",
                 "SELECT count(*) FROM survey_response WHERE survey_id = $1::uuid", sid);
    long long answers =
        s_number(db, "bench_answers_n",
                 "SELECT count(*) FROM survey_answer WHERE survey_id = $1::uuid", sid);
    printf("loaded %lld responses, %lld answers (%d questions) in %.1f s\n", responses, answers,
           QUESTIONS, (ccip_test_mono_ms() - t0) / 1000.0);
    if (responses != TARGETS)
        s_die("load", "not one response per target");

    /* How the numbers are read: the index, already in order. */
    ccip_db_stmt plan = {
        "bench_plan",
        "EXPLAIN SELECT question, col, coalesce(district_code, ''), coalesce(target_kind, ''), "
        "num FROM survey_answer WHERE survey_id = $1::uuid AND num IS NOT NULL AND (true OR "
        "survey_released($1::uuid)) ORDER BY question, col, num"};
    PGresult *res = NULL;
    if (ccip_db_exec(db, &plan, 1, sp, NULL, NULL, &res) != CCIP_DB_OK)
        s_die("plan", ccip_db_error(db));
    for (int i = 0; i < PQntuples(res); i++)
        printf("plan: %s\n", PQgetvalue(res, i, 0));
    PQclear(res);

    double agg[RUNS], base[RUNS];
    Ccip__Stats__SurveyResultsRequest rq = CCIP__STATS__SURVEY_RESULTS_REQUEST__INIT;
    rq.survey_id = sid;
    for (int i = -1; i < RUNS; i++) { /* run -1 warms the caches and checks */
        double t = ccip_test_mono_ms();
        Ccip__Stats__SurveyResultsReply *r = (Ccip__Stats__SurveyResultsReply *)s_call(
            "analyst", "stats.survey.results.v1", &rq.base,
            &ccip__stats__survey_results_reply__descriptor);
        double ta = ccip_test_mono_ms() - t;
        if (i < 0)
            s_check(db, r->results, sid);
        protobuf_c_message_free_unpacked(&r->base, NULL);
        t = ccip_test_mono_ms();
        if (ccip_db_exec(db, &S_BASELINE, 1, sp, NULL, NULL, &res) != CCIP_DB_OK)
            s_die("baseline", ccip_db_error(db));
        double tb = ccip_test_mono_ms() - t;
        if (PQntuples(res) != QUESTIONS)
            s_die("baseline", "wrong number of questions");
        PQclear(res);
        if (i >= 0) {
            agg[i] = ta;
            base[i] = tb;
        }
    }
    double aggregate_ms = ccip_test_median(agg, RUNS), baseline_ms = ccip_test_median(base, RUNS);

    ccip_db_destroy(&db);
    ccip_db_destroy(&own);
    ccip_client_destroy(&s_front);
    zmq_ctx_term(s_ctx);
    ccip_test_env_cleanup(&s_env, 0);
    printf("bench survey: aggregate_ms=%.2f baseline_ms=%.2f ratio=%.2f responses=%lld\n",
           aggregate_ms, baseline_ms, aggregate_ms / baseline_ms, responses);
    return 0;
}
