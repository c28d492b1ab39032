/*
 * The evaluation service end to end: the real bus, intake and evaluation
 * processes, real PostgreSQL, commands through the front door with a
 * person's role. Cases are opened the way production opens them: intake
 * accepts an application and evaluation consumes
 * intake.application.accepted.v1. One test per rule of issue 5.
 *
 * The suite runs evaluation with evaluation.same_district_conflict on (the
 * default, off, is covered by tests/services/test_evaluation_assign.c).
 * Every test makes its own organisations, experts (ids and fields of
 * expertise carry a tag unique to the run) and agencies, and deactivates
 * the agencies of earlier tests, so the tests may run in any order against
 * a database that has seen earlier runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_outbox.h"
#include "ccip_test_db.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"
#include "ccip_validate.h"
#include "evaluation_cases.h"

#define STAFF        "staff", "staff-li"
#define OFFICE       "office", "office-zhao"
#define HOUR_US      (3600LL * 1000000)
#define DAY_US       (24 * HOUR_US)
#define CASE_WAIT_MS 15000 /* longest wait for a case to open after acceptance */

static ccip_test_svc s_svc; /* the bus, intake, evaluation, the clients, the last sentence */
static char s_tag[16];      /* unique to the run: ids and fields carry it */
static int s_test_no;       /* counts tests, for per-test ids */

/* ---- helpers -------------------------------------------------------------- */

/* ccip_test_send_cmd to `service` as (role, actor), or with the plain
 * service key when role is NULL; the sentence is kept in s_svc.error. */
static int s_send(const char *service, const char *role, const char *actor, const char *type,
                  const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc,
                  ProtobufCMessage **out)
{
    ccip_test_cmd c = {
        .service = service, .role = role, .actor = actor, .type = type, .msg = msg, .out = desc};
    return ccip_test_send_cmd(&s_svc, &c, out);
}

/* To evaluation. */
static int s_ev(const char *role, const char *actor, const char *type, const ProtobufCMessage *msg,
                const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
    return s_send("evaluation", role, actor, type, msg, desc, out);
}

/* s_send that must succeed. */
static ProtobufCMessage *s_ok(const char *service, const char *role, const char *actor,
                              const char *type, const ProtobufCMessage *msg,
                              const ProtobufCMessageDescriptor *desc)
{
    ccip_test_cmd c = {
        .service = service, .role = role, .actor = actor, .type = type, .msg = msg, .out = desc};
    return ccip_test_ok_cmd(&s_svc, &c);
}

/* A per-test prefix for ids: "<tag>-t<n>". */
static void s_prefix(char *out, size_t len)
{
    snprintf(out, len, "%s-t%d", s_tag, ++s_test_no);
}

/* Takes the agencies of earlier tests out of the rotation. */
static void s_only_agencies(const char *prefix)
{
    ccip_test_number(
        &s_svc,
        "WITH u AS (UPDATE agency SET active = false WHERE active AND id NOT LIKE '%s-%%' "
        "RETURNING 1) SELECT count(*) FROM u",
        prefix);
}

/* ---- intake: accepted applications ------------------------------------------ */

/* Opens a call of kind as staff; writes its id. */
static void s_open_call(Ccip__Intake__CallKind kind, char id[CCIP_UUID_STRLEN + 1])
{
    Ccip__Intake__OpenCallRequest rq = CCIP__INTAKE__OPEN_CALL_REQUEST__INIT;
    rq.kind = kind;
    rq.year = 2027;
    rq.title = "2027 call for evaluation tests";
    int64_t now = ccip_now_us() / 1000000 * 1000000;
    rq.opens_at_us = now - HOUR_US;
    rq.closes_at_us = now + 30 * DAY_US;
    if (kind == CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT) {
        rq.fund_programme_code = "CCI-2027";
        rq.max_request_fen = 500000000;
    }
    Ccip__Intake__CallReply *r = (Ccip__Intake__CallReply *)s_ok(
        "intake", STAFF, "intake.call.open.v1", &rq.base, &ccip__intake__call_reply__descriptor);
    snprintf(id, CCIP_UUID_STRLEN + 1, "%s", r->call->id);
    ccip_test_free(r);
}

/* An application accepted by intake: a fresh verified organisation in
 * Chaoyang with the given contacts drafts, submits, staff accept. Writes
 * the organisation's code and the application id. */
static void s_accepted(const char *call, Ccip__Intake__CallKind kind, const char *phone,
                       const char *email, int64_t requested_fen, char uscc[CCIP_USCC_LEN + 1],
                       char app[CCIP_UUID_STRLEN + 1])
{
    char actor[32];
    ccip_test_uscc("110108", uscc);
    snprintf(actor, sizeof actor, "org:%s", uscc);
    Ccip__Intake__RegisterOrganisationRequest org =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    org.uscc = uscc;
    org.name = "北京评审测试文化有限公司";
    org.type = CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE;
    org.district = "Chaoyang";
    org.legal_representative = "王芳";
    org.contact_name = "李明";
    org.contact_phone = (char *)phone;
    org.contact_email = (char *)email;
    ccip_test_free(
        s_ok("intake", "applicant", actor, "intake.organisation.register.v1", &org.base, NULL));
    Ccip__Intake__VerifyOrganisationRequest v = CCIP__INTAKE__VERIFY_ORGANISATION_REQUEST__INIT;
    v.uscc = uscc;
    v.note = "checked";
    ccip_test_free(s_ok("intake", STAFF, "intake.organisation.verify.v1", &v.base, NULL));

    Ccip__Intake__ApplicationContent c = CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    c.title = "Opera costume heritage workshop";
    c.summary = "Restoring and digitising opera costumes.";
    c.district = "110105";
    Ccip__Intake__ClusterFacts cluster = CCIP__INTAKE__CLUSTER_FACTS__INIT;
    Ccip__Intake__TrainingProgramme prog = CCIP__INTAKE__TRAINING_PROGRAMME__INIT;
    Ccip__Intake__TrainingProgramme *progs[] = {&prog};
    Ccip__Intake__TalentBaseFacts talent = CCIP__INTAKE__TALENT_BASE_FACTS__INIT;
    Ccip__Intake__BudgetLine line = CCIP__INTAKE__BUDGET_LINE__INIT;
    Ccip__Intake__BudgetLine *lines[] = {&line};
    Ccip__Intake__ProjectFacts project = CCIP__INTAKE__PROJECT_FACTS__INIT;
    if (kind == CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION) {
        cluster.cluster_name = "Jiuxianqiao Creative Park";
        cluster.location = "Jiuxianqiao Road 4";
        cluster.area_m2 = 230000;
        cluster.enterprise_count = 400;
        cluster.employee_count = 9000;
        cluster.lead_operator = "Seven Star Group";
        c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
        c.cluster = &cluster;
    } else if (kind == CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION) {
        prog.name = "Animation";
        prog.capacity = 120;
        talent.programmes = progs;
        talent.n_programmes = 1;
        talent.annual_capacity = 120;
        c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE;
        c.talent_base = &talent;
    } else {
        c.requested_fen = requested_fen;
        line.item = "Equipment";
        line.amount_fen = requested_fen;
        project.budget_lines = lines;
        project.n_budget_lines = 1;
        c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT;
        c.project = &project;
    }
    Ccip__Intake__DraftApplicationRequest d = CCIP__INTAKE__DRAFT_APPLICATION_REQUEST__INIT;
    d.call_id = (char *)call;
    d.applicant_uscc = uscc;
    d.content = &c;
    Ccip__Intake__ApplicationReply *r = (Ccip__Intake__ApplicationReply *)s_ok(
        "intake", "applicant", actor, "intake.application.draft.v1", &d.base,
        &ccip__intake__application_reply__descriptor);
    snprintf(app, CCIP_UUID_STRLEN + 1, "%s", r->application->id);
    ccip_test_free(r);
    Ccip__Intake__ApplicationActionRequest a = CCIP__INTAKE__APPLICATION_ACTION_REQUEST__INIT;
    a.application_id = app;
    ccip_test_free(
        s_ok("intake", "applicant", actor, "intake.application.submit.v1", &a.base, NULL));
    a.reason = "complete";
    ccip_test_free(s_ok("intake", STAFF, "intake.application.accept.v1", &a.base, NULL));
}

/* Waits until evaluation opened the case of application app; writes its
 * id. */
static void s_case_of(const char *app, char id[CCIP_UUID_STRLEN + 1])
{
    Ccip__Evaluation__GetCaseRequest rq = CCIP__EVALUATION__GET_CASE_REQUEST__INIT;
    rq.application_id = (char *)app;
    for (int waited = 0; waited < CASE_WAIT_MS; waited += 50) {
        Ccip__Evaluation__CaseReply *r = NULL;
        int status = s_ev(STAFF, "evaluation.case.get.v1", &rq.base,
                          &ccip__evaluation__case_reply__descriptor, (ProtobufCMessage **)&r);
        if (status == 0) {
            snprintf(id, CCIP_UUID_STRLEN + 1, "%s", r->case_->id);
            ccip_test_free(r);
            return;
        }
        ccip_test_sleep_ms(50);
    }
    ccip_test_fail(&s_svc, "the case was not opened from intake.application.accepted.v1");
}

static Ccip__Evaluation__Case *s_get_case(const char *id)
{
    Ccip__Evaluation__GetCaseRequest rq = CCIP__EVALUATION__GET_CASE_REQUEST__INIT;
    rq.case_id = (char *)id;
    Ccip__Evaluation__CaseReply *r =
        (Ccip__Evaluation__CaseReply *)s_ok("evaluation", STAFF, "evaluation.case.get.v1", &rq.base,
                                            &ccip__evaluation__case_reply__descriptor);
    Ccip__Evaluation__Case *c = r->case_;
    r->case_ = NULL;
    ccip_test_free(r);
    return c;
}

/* ---- registers and sheets ------------------------------------------------------ */

static int s_agency(const char *id, const char *uscc, int capacity, const char *conflict)
{
    Ccip__Evaluation__RegisterAgencyRequest rq = CCIP__EVALUATION__REGISTER_AGENCY_REQUEST__INIT;
    rq.id = (char *)id;
    rq.name = "Beijing Survey & Appraisal Co.";
    rq.uscc = (char *)uscc;
    rq.qualification = "Grade A appraisal";
    char *districts[] = {"Chaoyang", "110108"};
    rq.districts_served = districts;
    rq.n_districts_served = 2;
    rq.capacity = capacity;
    Ccip__Evaluation__DeclaredConflict dc = CCIP__EVALUATION__DECLARED_CONFLICT__INIT;
    Ccip__Evaluation__DeclaredConflict *dcs[] = {&dc};
    if (conflict) {
        dc.org_uscc = (char *)conflict;
        dc.note = "audited them last year";
        rq.declared_conflicts = dcs;
        rq.n_declared_conflicts = 1;
    }
    return s_ev(STAFF, "evaluation.agency.register.v1", &rq.base, NULL, NULL);
}

typedef struct {
    const char *affiliation; /* NULL = a fresh one */
    const char *district;    /* NULL = Haidian */
    const char *phone;
    const char *email;
    const char *declared; /* a credit code it conflicts with, or NULL */
    int cap;              /* 0 = 5 */
} s_expert_spec;

static int s_expert(const char *id, const char *field, const s_expert_spec *spec)
{
    Ccip__Evaluation__RegisterExpertRequest rq = CCIP__EVALUATION__REGISTER_EXPERT_REQUEST__INIT;
    char own[CCIP_USCC_LEN + 1];
    ccip_test_uscc("110108", own);
    rq.id = (char *)id;
    rq.name = "张教授";
    char *fields[] = {(char *)field, "general"};
    rq.fields = fields;
    rq.n_fields = 2;
    rq.affiliation_uscc = (char *)(spec && spec->affiliation ? spec->affiliation : own);
    rq.affiliation_name = "Capital Normal University";
    rq.district = (char *)(spec && spec->district ? spec->district : "Haidian");
    rq.max_concurrent_reviews = spec && spec->cap ? spec->cap : 5;
    rq.phone = (char *)(spec && spec->phone ? spec->phone : "");
    rq.email = (char *)(spec && spec->email ? spec->email : "");
    Ccip__Evaluation__DeclaredConflict dc = CCIP__EVALUATION__DECLARED_CONFLICT__INIT;
    Ccip__Evaluation__DeclaredConflict *dcs[] = {&dc};
    if (spec && spec->declared) {
        dc.org_uscc = (char *)spec->declared;
        dc.note = "former employer";
        rq.declared_conflicts = dcs;
        rq.n_declared_conflicts = 1;
    }
    return s_ev(STAFF, "evaluation.expert.register.v1", &rq.base, NULL, NULL);
}

/* Publishes a sheet for kind matching on `field`; returns its version. The
 * criteria: innovation (weight 3, max 10), impact (2, 20), feasibility
 * (1, 5). */
static int s_sheet(Ccip__Intake__CallKind kind, const char *field, int panel, int threshold)
{
    Ccip__Evaluation__PublishSheetRequest rq = CCIP__EVALUATION__PUBLISH_SHEET_REQUEST__INIT;
    rq.kind = kind;
    Ccip__Evaluation__Criterion c[3];
    Ccip__Evaluation__Criterion *cp[3];
    const char *codes[] = {"innovation", "impact", "feasibility"};
    const int weights[] = {3, 2, 1}, maxes[] = {10, 20, 5};
    for (int i = 0; i < 3; i++) {
        c[i] = (Ccip__Evaluation__Criterion)CCIP__EVALUATION__CRITERION__INIT;
        c[i].code = (char *)codes[i];
        c[i].title = (char *)codes[i];
        c[i].weight = weights[i];
        c[i].max_score = maxes[i];
        cp[i] = &c[i];
    }
    rq.criteria = cp;
    rq.n_criteria = 3;
    rq.pass_threshold_centi = threshold;
    rq.panel_size = panel;
    char *fields[] = {(char *)field};
    rq.fields = fields;
    rq.n_fields = 1;
    Ccip__Evaluation__SheetReply *r =
        (Ccip__Evaluation__SheetReply *)s_ok("evaluation", STAFF, "evaluation.sheet.publish.v1",
                                             &rq.base, &ccip__evaluation__sheet_reply__descriptor);
    int version = r->sheet->version;
    ccip_test_free(r);
    return version;
}

/* Sends a proposal or an assignment of case with optional picks; returns
 * the status and the reply in *out (may be NULL). */
static int s_assign(const char *type, const char *case_id, Ccip__Evaluation__Pick **picks,
                    size_t npicks, Ccip__Evaluation__AssignReply **out)
{
    Ccip__Evaluation__AssignRequest rq = CCIP__EVALUATION__ASSIGN_REQUEST__INIT;
    rq.case_id = (char *)case_id;
    rq.picks = picks;
    rq.n_picks = npicks;
    Ccip__Evaluation__AssignReply *r = NULL;
    int status = s_ev(STAFF, type, &rq.base, &ccip__evaluation__assign_reply__descriptor,
                      (ProtobufCMessage **)&r);
    if (out)
        *out = r;
    else
        ccip_test_free(r);
    return status;
}

/* The reply's experts as "a,b,c". */
static void s_ids(const Ccip__Evaluation__AssignReply *r, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < r->n_experts; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", r->experts[i]->id);
}

static int s_declare(const char *expert, const char *case_id, int conflict, const char *statement)
{
    char actor[64];
    snprintf(actor, sizeof actor, "expert:%.48s", expert);
    Ccip__Evaluation__DeclareRequest rq = CCIP__EVALUATION__DECLARE_REQUEST__INIT;
    rq.case_id = (char *)case_id;
    rq.conflict = conflict;
    rq.statement = (char *)statement;
    return s_ev("expert", actor, "evaluation.review.declare.v1", &rq.base, NULL, NULL);
}

/* Scores innovation, impact, feasibility; returns the status. */
static int s_score(const char *expert, const char *case_id, int version, int a, int b, int c)
{
    char actor[64];
    snprintf(actor, sizeof actor, "expert:%.48s", expert);
    Ccip__Evaluation__SubmitReviewRequest rq = CCIP__EVALUATION__SUBMIT_REVIEW_REQUEST__INIT;
    rq.case_id = (char *)case_id;
    rq.sheet_version = version;
    Ccip__Evaluation__CriterionScore s[3];
    Ccip__Evaluation__CriterionScore *sp[3];
    const char *codes[] = {"innovation", "impact", "feasibility"};
    const int values[] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        s[i] = (Ccip__Evaluation__CriterionScore)CCIP__EVALUATION__CRITERION_SCORE__INIT;
        s[i].criterion = (char *)codes[i];
        s[i].score = values[i];
        s[i].comment = "as seen in the application and on site";
        sp[i] = &s[i];
    }
    rq.scores = sp;
    rq.n_scores = 3;
    rq.comment = "overall sound";
    return s_ev("expert", actor, "evaluation.review.submit.v1", &rq.base, NULL, NULL);
}

static int s_report(const char *agency, const char *case_id, Ccip__Evaluation__Verdict verdict)
{
    char actor[64];
    snprintf(actor, sizeof actor, "agency:%.48s", agency);
    Ccip__Evaluation__FileReportRequest rq = CCIP__EVALUATION__FILE_REPORT_REQUEST__INIT;
    rq.case_id = (char *)case_id;
    rq.visit_date_us = ccip_now_us() - HOUR_US / 2;
    rq.findings = "Visited the site; 380 enterprises operating; facilities as declared.";
    rq.verdict = verdict;
    Ccip__Evaluation__ReportDocument d = CCIP__EVALUATION__REPORT_DOCUMENT__INIT;
    Ccip__Evaluation__ReportDocument *dp[] = {&d};
    d.name = "site-visit.pdf";
    d.sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    d.media_type = "application/pdf";
    rq.documents = dp;
    rq.n_documents = 1;
    return s_ev("agency", actor, "evaluation.investigation.report.v1", &rq.base, NULL, NULL);
}

static int s_decide(const char *role, const char *actor, const char *case_id,
                    Ccip__Evaluation__Outcome outcome, int64_t fen, Ccip__Evaluation__ReturnTo to)
{
    Ccip__Evaluation__DecideRequest rq = CCIP__EVALUATION__DECIDE_REQUEST__INIT;
    rq.case_id = (char *)case_id;
    rq.outcome = outcome;
    rq.reasons = "Meets the municipal criteria; see the panel's scores.";
    rq.recommended_fen = fen;
    rq.return_to = to;
    return s_ev(role, actor, "evaluation.case.decide.v1", &rq.base, NULL, NULL);
}

static int s_submit_to_office(const char *case_id)
{
    Ccip__Evaluation__SubmitToOfficeRequest rq = CCIP__EVALUATION__SUBMIT_TO_OFFICE_REQUEST__INIT;
    rq.case_id = (char *)case_id;
    rq.note = "for the office's meeting";
    return s_ev(STAFF, "evaluation.case.submit.v1", &rq.base, NULL, NULL);
}

/* Live reviews of a case, as "id,id" sorted. */
static int s_live_experts(const Ccip__Evaluation__Case *c, char ids[][48], int max)
{
    int n = 0;
    for (size_t i = 0; i < c->n_reviews && n < max; i++) {
        Ccip__Evaluation__TaskStatus s = c->reviews[i]->status;
        if (s == CCIP__EVALUATION__TASK_STATUS__TASK_ASSIGNED ||
            s == CCIP__EVALUATION__TASK_STATUS__TASK_ACCEPTED ||
            s == CCIP__EVALUATION__TASK_STATUS__TASK_DONE)
            snprintf(ids[n++], 48, "%s", c->reviews[i]->expert_id);
    }
    return n;
}

/* The live investigation's agency, or "". */
static const char *s_live_agency(const Ccip__Evaluation__Case *c)
{
    for (size_t i = 0; i < c->n_investigations; i++) {
        Ccip__Evaluation__TaskStatus s = c->investigations[i]->status;
        if (s == CCIP__EVALUATION__TASK_STATUS__TASK_ASSIGNED ||
            s == CCIP__EVALUATION__TASK_STATUS__TASK_DONE)
            return c->investigations[i]->agency_id;
    }
    return "";
}

/* The aggregate recomputed by SQL from the stored criterion scores and the
 * sheet, independently of the service's code: review score =
 * floor(sum(w * s * 1e6 / max) / (100 * sum(w))), mean of the scores,
 * without the highest and lowest from five on. */
static long long s_recomputed_aggregate(const char *case_id)
{
    return ccip_test_number(
        &s_svc,
        "WITH rs AS (SELECT r.id, sum(k.weight::bigint * s.score * 1000000 / k.max_score) / "
        "(100 * sum(k.weight)) AS score FROM review r JOIN review_score s ON s.review_id = r.id "
        "JOIN case_file c ON c.id = r.case_id JOIN sheet_criterion k ON k.kind = c.kind "
        "AND k.version = r.sheet_version AND k.code = s.criterion "
        "WHERE r.case_id = '%s' AND r.status = 'TASK_DONE' GROUP BY r.id), "
        "a AS (SELECT count(*) AS n, sum(score) AS total, min(score) AS lo, max(score) AS hi "
        "FROM rs) SELECT CASE WHEN n >= 5 THEN (total - lo - hi) / (n - 2) ELSE total / n END "
        "FROM a",
        case_id);
}

/* ---- set-up ------------------------------------------------------------------ */

static int s_group_setup(void **state)
{
    (void)state;
    static const ccip_test_svc_proc procs[] = {
        {"services/intake/intake", "intake", "intake-1"},
        {"services/evaluation/evaluation", "evaluation", "evaluation-1"},
        {NULL, NULL, NULL}};
    snprintf(s_tag, sizeof s_tag, "e%05x", (unsigned)((time(NULL) ^ getpid()) & 0xfffff));
    setenv("CCIP_EVALUATION_SAME_DISTRICT_CONFLICT", "true", 1);
    /* The sweeps here are staff's, counted: no automatic one in between
     * (test_batching checks the schedule itself). */
    setenv("CCIP_EVALUATION_SWEEP_SECONDS", "0", 1);
    return ccip_test_svc_start(&s_svc, "evaluation", procs);
}

static int s_group_teardown(void **state)
{
    (void)state;
    ccip_test_svc_stop(&s_svc);
    return 0;
}

/* ---- cases ---------------------------------------------------------------------- */

/* Consuming intake.application.accepted.v1 opens exactly one case per
 * application, with everything evaluation needs; replaying intake's whole
 * stream (the cursor set back, the service restarted) opens none again. */
static void test_case_opened_once(void **state)
{
    (void)state;
    char call[37], uscc[19], app[37], app2[37], id[37];
    s_open_call(CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, call);
    s_accepted(call, CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, "13800138000",
               "li@example.cn", 0, uscc, app);
    s_accepted(call, CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, "13900139000",
               "wang@example.cn", 0, uscc, app2);
    s_case_of(app, id);
    char first[37];
    snprintf(first, sizeof first, "%s", id);
    Ccip__Evaluation__Case *c = s_get_case(id);
    assert_string_equal(c->application_id, app);
    assert_int_equal(c->kind, CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION);
    assert_int_equal(c->status, CCIP__EVALUATION__CASE_STATUS__CASE_OPEN);
    assert_string_equal(c->district_code, "110105");
    assert_string_equal(c->title, "Opera costume heritage workshop");
    assert_int_equal(c->round, 1);
    assert_int_equal(c->n_history, 1);
    assert_string_equal(c->history[0]->action, "opened");
    assert_string_equal(c->history[0]->actor_id, "staff-li");
    ccip_test_free(c);
    s_case_of(app2, id);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM applicant_contact WHERE application_id = "
                         "'%s' AND phone = '13800138000' AND email = 'li@example.cn'",
                         app),
        1);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'evaluation.case.opened.v1' AND aggregate_id = '%s'",
                                      id),
                     1);

    /* Replay everything intake ever published: every accepted event is
     * applied again and opens nothing. (A case that exists now keeps its
     * single opened event; in a database where cases were deleted behind
     * the service's back, as the benchmark does, a replay re-opens exactly
     * those, once each.) */
    long long cases = ccip_test_number(&s_svc, "SELECT count(*) FROM case_file");
    long long opened = ccip_test_number(&s_svc, "SELECT count(*) FROM outbox WHERE type = "
                                                "'evaluation.case.opened.v1'");
    long long head = ccip_test_query_number("intake", "SELECT head FROM outbox_state");
    pid_t ev = 0;
    for (int i = 0; i < CCIP_TEST_MAX_PROCS; i++)
        if (strcmp(s_svc.env.children[i].name, "evaluation-1") == 0)
            ev = s_svc.env.children[i].pid;
    assert_int_equal(ccip_test_stop(&s_svc.env, ev, SIGTERM, 10000), 0);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "WITH u AS (UPDATE consumer_cursor SET position = 0 WHERE producer "
                         "= 'intake' RETURNING 1) SELECT count(*) FROM u"),
        1);
    assert_true(ccip_test_start_service(&s_svc.env, "services/evaluation/evaluation", "evaluation",
                                        "evaluation-2") > 0);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT position FROM consumer_cursor WHERE producer = 'intake'");
    if (ccip_test_wait_count("evaluation", sql, head, 20000) < head)
        ccip_test_fail(&s_svc, "evaluation did not replay intake's stream");
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM case_file") - cases,
                     ccip_test_number(&s_svc, "SELECT count(*) FROM outbox WHERE type = "
                                              "'evaluation.case.opened.v1'") -
                         opened);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM outbox WHERE type = "
                         "'evaluation.case.opened.v1' AND aggregate_id IN (SELECT id::text "
                         "FROM case_file WHERE application_id IN ('%s', '%s'))",
                         app, app2),
        2);
    /* The same case, still the only one of its application. */
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM case_file WHERE application_id = '%s'", app),
        1);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM case_file WHERE application_id = '%s' AND "
                         "id = '%s'",
                         app, first),
        1);
    assert_int_equal(ccip_test_svc_wait(&s_svc, "evaluation"), 0);
}

/* Applies one accepted event with the consumer's handler itself, in a
 * transaction of its own, as the consumer does after moving its cursor. */
static int s_apply(ccip_db *db, const Ccip__Intake__ApplicationAccepted *a, const char *event_id)
{
    uint8_t buf[4096];
    Ccip__Envelope ev = CCIP__ENVELOPE__INIT;
    ev.id = (char *)event_id;
    ev.type = "intake.application.accepted.v1";
    ev.actor_id = "staff-li";
    ev.actor_role = "staff";
    ev.occurred_at_us = ccip_now_us();
    ev.payload.data = buf;
    ev.payload.len = ccip__intake__application_accepted__pack(a, buf);
    assert_int_equal(ccip_db_command(db, "BEGIN"), CCIP_DB_OK);
    int rc = evaluation_case_open(db, &ev, NULL);
    assert_int_equal(ccip_db_command(db, rc == 0 ? "COMMIT" : "ROLLBACK"), CCIP_DB_OK);
    return rc;
}

/* The consumer's handler on its own: the same event applied twice opens
 * one case (the unique constraint on the application id, whatever the
 * cursor did); a malformed event is skipped (0: the stream goes on) and
 * writes nothing. */
static void test_case_handler_directly(void **state)
{
    (void)state;
    ccip_db *db = ccip_test_db_connect_in("evaluation", "evaluation");
    if (!db)
        fail_msg("%s", ccip_test_db_error());
    /* Checked as the consumer checks its own connection: the handler emits
     * evaluation.case.opened.v1 into the connection's schema. */
    char err[256];
    if (ccip_outbox_check_schema(db, "evaluation", err, sizeof err) < 0)
        fail_msg("%s", err);
    char app[37], call[37], event[37], uscc[19];
    ccip_uuid_v7(app);
    ccip_uuid_v7(call);
    ccip_uuid_v7(event);
    ccip_test_uscc("110108", uscc);
    Ccip__Intake__Organisation org = CCIP__INTAKE__ORGANISATION__INIT;
    org.uscc = uscc;
    org.name = "Handler Test Co.";
    org.district_code = "110105";
    org.contact_phone = "+86 136 0000 1234";
    org.contact_email = "Boss@Example.cn";
    Ccip__Intake__ApplicationAccepted a = CCIP__INTAKE__APPLICATION_ACCEPTED__INIT;
    a.application_id = app;
    a.call_id = call;
    a.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    a.year = 2027;
    a.applicant = &org;
    a.title = "Handler park";
    assert_int_equal(s_apply(db, &a, event), 0);
    assert_int_equal(s_apply(db, &a, event), 0);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM case_file WHERE application_id = '%s'", app),
        1);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM outbox WHERE type = "
                         "'evaluation.case.opened.v1' AND aggregate_id = (SELECT id::text "
                         "FROM case_file WHERE application_id = '%s')",
                         app),
        1);
    /* Contacts are kept normalised for conflict detection. */
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM applicant_contact WHERE application_id = "
                         "'%s' AND phone = '8613600001234' AND email = 'boss@example.cn'",
                         app),
        1);
    /* Malformed: skipped, nothing written. */
    char bad[37];
    ccip_uuid_v7(bad);
    a.application_id = bad;
    org.uscc = "91110105MA01ABCD2";
    assert_int_equal(s_apply(db, &a, event), 0);
    org.uscc = uscc;
    org.district_code = "Atlantis";
    assert_int_equal(s_apply(db, &a, event), 0);
    org.district_code = "110105";
    a.kind = CCIP__INTAKE__CALL_KIND__CALL_KIND_UNSPECIFIED;
    assert_int_equal(s_apply(db, &a, event), 0);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM case_file WHERE application_id = '%s'", bad),
        0);
    ccip_db_destroy(&db);
}

/* ---- registers ------------------------------------------------------------------ */

/* Bad registrations are refused naming the field, and write nothing; good
 * ones are stored normalised; only staff keep the registers; services
 * read. */
static void test_registers(void **state)
{
    (void)state;
    char p[32], id[64], agency_uscc[19], field[48];
    s_prefix(p, sizeof p);
    ccip_test_uscc("110108", agency_uscc);
    snprintf(field, sizeof field, "f-%s", p);
    long long experts = ccip_test_number(&s_svc, "SELECT count(*) FROM expert");

    snprintf(id, sizeof id, "%s-E1", p);
    s_expert_spec spec = {.phone = "+86 138-0000-1111", .email = " Zhang@Example.CN "};
    assert_int_equal(s_expert(id, "Design", &spec), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `fields[0]`");
    spec.phone = "12";
    assert_int_equal(s_expert(id, field, &spec), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `phone`");
    spec.phone = "+86 138-0000-1111";
    spec.district = "Atlantis";
    assert_int_equal(s_expert(id, field, &spec), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `district`");
    spec.district = NULL;
    spec.affiliation = "ABC";
    assert_int_equal(s_expert(id, field, &spec), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `affiliation_uscc`");
    spec.affiliation = NULL;
    spec.cap = -1;
    assert_int_equal(s_expert(id, field, &spec), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `max_concurrent_reviews`");
    spec.cap = 0;
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM expert"), experts);

    assert_int_equal(s_expert(id, field, &spec), 0);
    Ccip__Evaluation__GetRequest g = CCIP__EVALUATION__GET_REQUEST__INIT;
    g.id = id;
    Ccip__Evaluation__ExpertReply *e =
        (Ccip__Evaluation__ExpertReply *)s_ok("evaluation", NULL, NULL, "evaluation.expert.get.v1",
                                              &g.base, &ccip__evaluation__expert_reply__descriptor);
    assert_string_equal(e->expert->phone, "8613800001111");
    assert_string_equal(e->expert->email, "zhang@example.cn");
    assert_string_equal(e->expert->district_code, "110108");
    assert_int_equal(e->expert->n_fields, 2);
    assert_true(e->expert->active);
    assert_int_equal(e->expert->load, 0);
    ccip_test_free(e);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM expert_field WHERE expert_id = '%s'", id),
        2);

    /* Only staff register; a service reads. */
    Ccip__Evaluation__SetActiveRequest sa = CCIP__EVALUATION__SET_ACTIVE_REQUEST__INIT;
    sa.id = id;
    sa.active = 0;
    sa.reason = "on sabbatical";
    assert_int_equal(
        s_send("evaluation", NULL, NULL, "evaluation.expert.set_active.v1", &sa.base, NULL, NULL),
        CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(
        s_ev("office", "office-zhao", "evaluation.expert.set_active.v1", &sa.base, NULL, NULL),
        CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_ev(STAFF, "evaluation.expert.set_active.v1", &sa.base, NULL, NULL), 0);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM expert_field WHERE expert_id = '%s' AND NOT "
                         "active",
                         id),
        2);

    snprintf(id, sizeof id, "%s-A1", p);
    assert_int_equal(s_agency(id, "ABC", 3, NULL), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `uscc`");
    assert_int_equal(s_agency(id, agency_uscc, 0, NULL), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `capacity`");
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM agency WHERE id = '%s'", id),
                     0);
    assert_int_equal(s_agency(id, agency_uscc, 3, NULL), 0);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM agency_district WHERE agency_id = '%s'", id),
        2);
    Ccip__Evaluation__ListRegisterRequest l = CCIP__EVALUATION__LIST_REGISTER_REQUEST__INIT;
    l.district = "Chaoyang";
    l.after_id = p;
    Ccip__Evaluation__ListAgenciesReply *la = (Ccip__Evaluation__ListAgenciesReply *)s_ok(
        "evaluation", NULL, NULL, "evaluation.agency.list.v1", &l.base,
        &ccip__evaluation__list_agencies_reply__descriptor);
    assert_true(la->n_agencies >= 1);
    assert_string_equal(la->agencies[0]->id, id);
    ccip_test_free(la);
}

/* ---- assignment -------------------------------------------------------------------- */

/* A proposal is a dry run, the same every time, and passes over experts
 * with typed conflicts (same affiliation, declared conflict, the
 * applicant's contact, same district); an assignment of a conflicted
 * expert needs a written override, which is recorded. */
static void test_proposal_conflicts_override(void **state)
{
    (void)state;
    char p[32], field[48], call[37], uscc[19], app[37], case_id[37], id[64], a_uscc[19];
    s_prefix(p, sizeof p);
    snprintf(field, sizeof field, "f-%s", p);
    s_open_call(CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION, call);
    s_accepted(call, CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION, "010-6512 3456",
               "office@example.cn", 0, uscc, app);
    s_case_of(app, case_id);

    /* Conflicted experts sort first, so the proposal meets them. */
    s_expert_spec aff = {.affiliation = uscc};
    s_expert_spec declared = {.declared = uscc};
    s_expert_spec contact = {.phone = "(010) 6512-3456"};
    s_expert_spec district = {.district = "Chaoyang"};
    snprintf(id, sizeof id, "%s-A-aff", p);
    assert_int_equal(s_expert(id, field, &aff), 0);
    snprintf(id, sizeof id, "%s-B-declared", p);
    assert_int_equal(s_expert(id, field, &declared), 0);
    snprintf(id, sizeof id, "%s-C-contact", p);
    assert_int_equal(s_expert(id, field, &contact), 0);
    snprintf(id, sizeof id, "%s-D-district", p);
    assert_int_equal(s_expert(id, field, &district), 0);
    for (int i = 1; i <= 6; i++) {
        snprintf(id, sizeof id, "%s-E%d", p, i);
        assert_int_equal(s_expert(id, field, NULL), 0);
    }
    /* Agencies: one that declared a conflict with the applicant, one that
     * is fine. */
    ccip_test_uscc("110108", a_uscc);
    snprintf(id, sizeof id, "%s-AG1", p);
    assert_int_equal(s_agency(id, a_uscc, 5, uscc), 0);
    ccip_test_uscc("110108", a_uscc);
    snprintf(id, sizeof id, "%s-AG2", p);
    assert_int_equal(s_agency(id, a_uscc, 5, NULL), 0);
    s_only_agencies(p);
    int version = s_sheet(CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION, field, 5, 6000);

    Ccip__Evaluation__AssignReply *r1 = NULL, *r2 = NULL;
    assert_int_equal(s_assign("evaluation.assignment.propose.v1", case_id, NULL, 0, &r1), 0);
    assert_int_equal(s_assign("evaluation.assignment.propose.v1", case_id, NULL, 0, &r2), 0);
    char ids1[512], ids2[512], want[512];
    s_ids(r1, ids1, sizeof ids1);
    s_ids(r2, ids2, sizeof ids2);
    snprintf(want, sizeof want, "%s-E1,%s-E2,%s-E3,%s-E4,%s-E5", p, p, p, p, p);
    assert_string_equal(ids1, want);
    assert_string_equal(ids2, ids1);
    assert_true(r1->dry_run);
    assert_int_equal(r1->sheet_version, version);
    assert_int_equal(r1->experts_missing, 0);
    snprintf(id, sizeof id, "%s-AG2", p);
    assert_string_equal(r1->agency->id, id);
    /* The conflicted, with their types, in rank order. */
    const Ccip__Evaluation__ConflictType expect[] = {
        CCIP__EVALUATION__CONFLICT_TYPE__DECLARED_CONFLICT, /* AG1 */
        CCIP__EVALUATION__CONFLICT_TYPE__SAME_AFFILIATION,  /* A-aff */
        CCIP__EVALUATION__CONFLICT_TYPE__DECLARED_CONFLICT, /* B-declared */
        CCIP__EVALUATION__CONFLICT_TYPE__APPLICANT_CONTACT, /* C-contact */
        CCIP__EVALUATION__CONFLICT_TYPE__SAME_DISTRICT,     /* D-district */
    };
    assert_int_equal(r1->n_skipped, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(r1->skipped[i]->n_conflicts, 1);
        assert_int_equal(r1->skipped[i]->conflicts[0], expect[i]);
        assert_non_null(strstr(r1->skipped[i]->reason, "conflict"));
    }
    ccip_test_free(r1);
    ccip_test_free(r2);
    /* Nothing was written by the proposals. */
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM review WHERE case_id = '%s'", case_id), 0);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM investigation WHERE case_id = '%s'",
                                      case_id),
                     0);

    /* Picking the expert from the applicant's own organisation: refused
     * without a reason, recorded with one. */
    Ccip__Evaluation__Pick pick = CCIP__EVALUATION__PICK__INIT;
    Ccip__Evaluation__Pick *picks[] = {&pick};
    char aff_id[64];
    snprintf(aff_id, sizeof aff_id, "%s-A-aff", p);
    pick.kind = CCIP__EVALUATION__SUBJECT_KIND__EXPERT;
    pick.id = aff_id;
    assert_int_equal(s_assign("evaluation.assignment.make.v1", case_id, picks, 1, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "SAME_AFFILIATION");
    ccip_test_error_has(&s_svc, "override_reason");
    pick.override_reason = "x";
    assert_int_equal(s_assign("evaluation.assignment.make.v1", case_id, picks, 1, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "override_reason");
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM review WHERE case_id = '%s'", case_id), 0);
    pick.override_reason = "the only specialist in costume conservation in Beijing";
    Ccip__Evaluation__AssignReply *r = NULL;
    assert_int_equal(s_assign("evaluation.assignment.make.v1", case_id, picks, 1, &r), 0);
    assert_false(r->dry_run);
    assert_int_equal(r->n_experts, 5);
    assert_string_equal(r->experts[0]->id, aff_id);
    assert_true(r->experts[0]->picked);
    ccip_test_free(r);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM review WHERE case_id = '%s' AND expert_id = "
                         "'%s' AND override_reason LIKE 'the only specialist%%' AND "
                         "overridden_conflicts = '{SAME_AFFILIATION}'",
                         case_id, aff_id),
        1);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM case_log WHERE case_id = '%s' AND action = "
                         "'override' AND detail LIKE '%%SAME_AFFILIATION%%'",
                         case_id),
        1);
    /* No other conflicted expert got in. */
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM review WHERE case_id = '%s' AND expert_id IN "
                         "('%s-B-declared', '%s-C-contact', '%s-D-district')",
                         case_id, p, p, p),
        0);
    Ccip__Evaluation__Case *c = s_get_case(case_id);
    assert_int_equal(c->status, CCIP__EVALUATION__CASE_STATUS__CASE_IN_EVALUATION);
    assert_int_equal(c->sheet_version, version);
    assert_int_equal(c->panel_size, 5);
    ccip_test_free(c);
    /* A full case has nothing left to assign. */
    assert_int_equal(s_assign("evaluation.assignment.make.v1", case_id, NULL, 0, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "nothing to assign");
    /* Events for the applicant's view. */
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM outbox WHERE aggregate_id = '%s' AND type IN "
                         "('evaluation.review.started.v1', "
                         "'evaluation.investigation.scheduled.v1')",
                         app),
        2);
    /* ... and one evaluation.task.assigned.v1 per task, for its expert's or
     * agency's inbox (notify), naming the subject. */
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM (SELECT id, expert_id AS who FROM review WHERE "
                         "case_id = '%s' UNION ALL SELECT id, agency_id FROM investigation "
                         "WHERE case_id = '%s') t JOIN outbox o ON o.aggregate_id = t.id::text "
                         "AND o.type = 'evaluation.task.assigned.v1' AND o.aggregate_type = "
                         "'task' AND position(convert_to(t.who, 'UTF8') IN o.payload) > 0",
                         case_id, case_id),
        6);
}

typedef struct {
    const char *case_id;
    int status; /* of the assignment */
} s_job;

typedef struct {
    s_job *jobs;
    int njobs;
    int next;
    pthread_mutex_t mutex;
} s_jobs;

static void *s_worker(void *arg)
{
    s_jobs *js = arg;
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.front_keys);
    for (;;) {
        pthread_mutex_lock(&js->mutex);
        int i = js->next < js->njobs ? js->next++ : -1;
        pthread_mutex_unlock(&js->mutex);
        if (i < 0 || !c)
            break;
        Ccip__Evaluation__AssignRequest rq = CCIP__EVALUATION__ASSIGN_REQUEST__INIT;
        rq.case_id = (char *)js->jobs[i].case_id;
        char error[CCIP_TEST_SVC_ERROR_MAX];
        ccip_test_cmd cmd = {.service = "evaluation",
                             .role = "staff",
                             .actor = "staff-li",
                             .type = "evaluation.assignment.make.v1",
                             .msg = &rq.base,
                             .via = c,
                             .timeout_ms = 20000,
                             .error = error,
                             .error_len = sizeof error};
        js->jobs[i].status = ccip_test_send_cmd(&s_svc, &cmd, NULL);
        if (js->jobs[i].status > 0)
            fprintf(stderr, "assignment %d: %s\n", i, error);
    }
    ccip_client_destroy(&c);
    return NULL;
}

/* Assignments of many cases at once, on four worker threads of the
 * service, against experts whose caps are too small for all of them: no
 * cap is ever exceeded, loads equal the open reviews, and what could not be
 * filled is reported, not forced. */
static void test_caps_hold_under_concurrency(void **state)
{
    (void)state;
    enum { CASES = 8, EXPERTS = 5, CAP = 2, PANEL = 3 };
    char p[32], field[48], call[37], uscc[19], app[37], a_uscc[19], id[64];
    static char cases[CASES][37];
    s_prefix(p, sizeof p);
    snprintf(field, sizeof field, "f-%s", p);
    s_open_call(CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, call);
    for (int i = 0; i < CASES; i++) {
        s_accepted(call, CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, "13700000000",
                   "c@example.cn", 0, uscc, app);
        s_case_of(app, cases[i]);
    }
    s_expert_spec spec = {.cap = CAP};
    for (int i = 0; i < EXPERTS; i++) {
        snprintf(id, sizeof id, "%s-X%d", p, i);
        assert_int_equal(s_expert(id, field, &spec), 0);
    }
    ccip_test_uscc("110108", a_uscc);
    snprintf(id, sizeof id, "%s-AG", p);
    assert_int_equal(s_agency(id, a_uscc, 5, NULL), 0); /* 5 investigations for 8 cases */
    s_only_agencies(p);
    s_sheet(CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, field, PANEL, 6000);

    s_job jobs[CASES];
    for (int i = 0; i < CASES; i++)
        jobs[i] = (s_job){cases[i], -2};
    s_jobs js = {.jobs = jobs, .njobs = CASES};
    pthread_mutex_init(&js.mutex, NULL);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, s_worker, &js);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&js.mutex);
    for (int i = 0; i < CASES; i++)
        assert_true(jobs[i].status == 0 || jobs[i].status == CCIP__STATUS__FAILED_PRECONDITION);

    /* Every seat there was got taken, and none more. */
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM review r JOIN expert e ON e.id = r.expert_id "
                         "WHERE e.id LIKE '%s-X%%' AND r.status = 'TASK_ASSIGNED'",
                         p),
        EXPERTS * CAP);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM expert e WHERE e.id LIKE '%s-X%%' AND "
                         "(e.load > e.max_concurrent OR e.load <> (SELECT count(*) FROM "
                         "review r WHERE r.expert_id = e.id AND r.status IN "
                         "('TASK_ASSIGNED', 'TASK_ACCEPTED')))",
                         p),
        0);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM investigation WHERE agency_id = '%s' AND "
                         "status = 'TASK_ASSIGNED'",
                         id),
        5);
    assert_int_equal(ccip_test_number(&s_svc, "SELECT load FROM agency WHERE id = '%s'", id), 5);
    /* A cap cannot go below the open reviews. */
    snprintf(id, sizeof id, "%s-X0", p);
    spec.cap = 1;
    assert_int_equal(s_expert(id, field, &spec), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "max_concurrent_reviews");
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT max_concurrent FROM expert WHERE id = '%s'", id), CAP);
    /* The mirror the candidates are found through agrees. */
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM expert_field f JOIN expert e ON e.id = "
                                      "f.expert_id WHERE e.id LIKE '%s-X%%' AND f.load <> e.load",
                                      p),
                     0);
    /* No panel holds the same expert twice, and none more than its size. */
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM (SELECT case_id FROM review WHERE expert_id "
                         "LIKE '%s-X%%' GROUP BY case_id HAVING count(*) > %d OR "
                         "count(DISTINCT expert_id) <> count(*)) t",
                         p, PANEL),
        0);
}

/* ---- the whole way: reviews, report, office, designation ------------------------- */

/* Only the assigned expert scores, after declaring no conflict; scores are
 * checked against the sheet version; a decline re-fills the seat; only the
 * assigned agency reports; nothing goes to the office or is decided before
 * every review and the report are in (the refusal lists what is missing);
 * only the office decides; the aggregate is reproducible from the stored
 * scores; an approved identification becomes a designation that can be
 * revoked; the applicant's view in intake follows. */
static void test_review_to_designation(void **state)
{
    (void)state;
    char p[32], field[48], call[37], uscc[19], app[37], case_id[37], id[64], a_uscc[19];
    s_prefix(p, sizeof p);
    snprintf(field, sizeof field, "f-%s", p);
    s_open_call(CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, call);
    s_accepted(call, CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, "13611112222", "r@example.cn",
               0, uscc, app);
    s_case_of(app, case_id);
    for (int i = 1; i <= 7; i++) {
        snprintf(id, sizeof id, "%s-R%d", p, i);
        assert_int_equal(s_expert(id, field, NULL), 0);
    }
    ccip_test_uscc("110108", a_uscc);
    snprintf(id, sizeof id, "%s-AG1", p);
    assert_int_equal(s_agency(id, a_uscc, 5, NULL), 0);
    ccip_test_uscc("110108", a_uscc);
    snprintf(id, sizeof id, "%s-AG2", p);
    assert_int_equal(s_agency(id, a_uscc, 5, NULL), 0);
    s_only_agencies(p);
    int version = s_sheet(CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, field, 5, 6000);

    /* Nothing can be decided on an unassigned case. */
    assert_int_equal(s_decide(OFFICE, case_id, CCIP__EVALUATION__OUTCOME__DECISION_APPROVED, 0, 0),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "an agency for the on-site investigation (none assigned)");
    ccip_test_error_has(&s_svc, "a review panel (none assigned)");

    assert_int_equal(s_assign("evaluation.assignment.make.v1", case_id, NULL, 0, NULL), 0);
    Ccip__Evaluation__Case *c = s_get_case(case_id);
    char experts[8][48];
    assert_int_equal(s_live_experts(c, experts, 8), 5);
    char agency[48];
    snprintf(agency, sizeof agency, "%s", s_live_agency(c));
    ccip_test_free(c);
    char other_agency[64];
    snprintf(other_agency, sizeof other_agency, "%s-AG%c", p,
             agency[strlen(agency) - 1] == '1' ? '2' : '1');
    /* R1..R5 by rank (same load, id order); R6 is next, R7 never used. */
    char outsider[64], next[64];
    snprintf(outsider, sizeof outsider, "%s-R7", p);
    snprintf(next, sizeof next, "%s-R6", p);
    for (int i = 0; i < 5; i++) {
        assert_string_not_equal(experts[i], outsider);
        assert_string_not_equal(experts[i], next);
    }

    /* Roles and identities. */
    assert_int_equal(s_score(outsider, case_id, version, 5, 5, 5), CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_score(experts[0], case_id, version, 5, 5, 5),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "declare");
    assert_int_equal(s_report(other_agency, case_id, CCIP__EVALUATION__VERDICT__VERDICT_MEETS),
                     CCIP__STATUS__PERMISSION_DENIED);
    Ccip__Evaluation__DeclareRequest dq = CCIP__EVALUATION__DECLARE_REQUEST__INIT;
    dq.case_id = case_id;
    assert_int_equal(
        s_ev("expert", "mallory", "evaluation.review.declare.v1", &dq.base, NULL, NULL),
        CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_ev(STAFF, "evaluation.review.declare.v1", &dq.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);

    /* The first expert declines: the seat is filled again at once. */
    char declined[48];
    snprintf(declined, sizeof declined, "%s", experts[0]);
    char actor[64];
    snprintf(actor, sizeof actor, "expert:%s", declined);
    Ccip__Evaluation__DeclineRequest dr = CCIP__EVALUATION__DECLINE_REQUEST__INIT;
    dr.case_id = case_id;
    dr.reason = "travelling abroad during the review period";
    Ccip__Evaluation__AssignReply *ar = NULL;
    assert_int_equal(s_ev("expert", actor, "evaluation.assignment.decline.v1", &dr.base,
                          &ccip__evaluation__assign_reply__descriptor, (ProtobufCMessage **)&ar),
                     0);
    assert_int_equal(ar->n_experts, 1);
    assert_string_equal(ar->experts[0]->id, next);
    ccip_test_free(ar);
    c = s_get_case(case_id);
    assert_int_equal(s_live_experts(c, experts, 8), 5);
    ccip_test_free(c);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM review WHERE case_id = '%s' AND expert_id = "
                         "'%s' AND status = 'TASK_DECLINED'",
                         case_id, declined),
        1);
    assert_int_equal(ccip_test_number(&s_svc, "SELECT load FROM expert WHERE id = '%s'", declined),
                     0);

    /* Scores are checked against the sheet: nothing is written when they
     * are wrong. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(s_declare(experts[i], case_id, 0, "no ties to the applicant"), 0);
    assert_int_equal(s_score(experts[0], case_id, version + 1, 5, 5, 5),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `sheet_version`");
    assert_int_equal(s_score(experts[0], case_id, version, 11, 5, 5),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "must be between 0 and 10, got 11");
    assert_int_equal(s_score(experts[0], case_id, version, 5, -1, 5),
                     CCIP__STATUS__INVALID_ARGUMENT);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM review_score s JOIN review r ON r.id = "
                                      "s.review_id WHERE r.case_id = '%s'",
                                      case_id),
                     0);

    /* Not to the office, not decided, while anything is missing. */
    const int scores[5][3] = {{9, 18, 5}, {7, 12, 3}, {8, 15, 4}, {3, 4, 1}, {10, 20, 5}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(
            s_score(experts[i], case_id, version, scores[i][0], scores[i][1], scores[i][2]), 0);
    assert_int_equal(s_score(experts[0], case_id, version, 1, 1, 1),
                     CCIP__STATUS__FAILED_PRECONDITION); /* once */
    assert_int_equal(s_submit_to_office(case_id), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "missing: the investigation report of agency");
    char part[128];
    snprintf(part, sizeof part, "the review of expert %s", experts[4]);
    ccip_test_error_has(&s_svc, part);
    assert_int_equal(s_decide(OFFICE, case_id, CCIP__EVALUATION__OUTCOME__DECISION_APPROVED, 0, 0),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, part);
    assert_int_equal(
        s_score(experts[4], case_id, version, scores[4][0], scores[4][1], scores[4][2]), 0);
    assert_int_equal(s_submit_to_office(case_id), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "the investigation report of agency");
    assert_int_equal(s_report(agency, case_id, CCIP__EVALUATION__VERDICT__VERDICT_MEETS), 0);
    assert_int_equal(s_report(agency, case_id, CCIP__EVALUATION__VERDICT__VERDICT_MEETS),
                     CCIP__STATUS__FAILED_PRECONDITION);

    /* The aggregate: recomputed from the stored scores. Reviews (0..10000):
     * 9/18/5 -> 9166, 7/12/3 -> 6500, 8/15/4 -> 7833, 3/4/1 -> 2500,
     * 10/20/5 -> 10000; trimmed mean (9166 + 6500 + 7833) / 3 = 7833. */
    c = s_get_case(case_id);
    assert_non_null(c->aggregate);
    assert_int_equal(c->aggregate->reviews, 5);
    assert_int_equal(c->aggregate->dropped, 2);
    assert_int_equal(c->aggregate->score_centi, 7833);
    assert_int_equal(c->aggregate->spread_centi, 7500);
    assert_int_equal(c->aggregate->pass_threshold_centi, 6000);
    assert_int_equal(c->aggregate->verdict, CCIP__EVALUATION__VERDICT__VERDICT_MEETS);
    assert_int_equal(c->aggregate->recommendation,
                     CCIP__EVALUATION__RECOMMENDATION__RECOMMEND_APPROVE);
    ccip_test_free(c);
    assert_int_equal(s_recomputed_aggregate(case_id), 7833);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT score_centi FROM case_file WHERE id = '%s'", case_id),
        7833);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'evaluation.review.completed.v1' AND aggregate_id = '%s'",
                                      app),
                     1);
    /* Every task that ended (reviews submitted or declined, the report
     * filed) published its end, once. */
#define S_ENDED_ONCE(op)                                                                           \
    "SELECT count(*) FROM (SELECT t.id FROM (SELECT id FROM review WHERE case_id = '%s' AND "      \
    "status NOT IN ('TASK_ASSIGNED', 'TASK_ACCEPTED') UNION ALL SELECT id FROM investigation "     \
    "WHERE case_id = '%s' AND status <> 'TASK_ASSIGNED') t LEFT JOIN outbox o ON o.aggregate_id "  \
    "= t.id::text AND o.type = 'evaluation.task.ended.v1' GROUP BY t.id HAVING count(o.seq) " op   \
    " 1) x"
    assert_true(ccip_test_number(&s_svc, S_ENDED_ONCE("="), case_id, case_id) >= 6);
    assert_int_equal(ccip_test_number(&s_svc, S_ENDED_ONCE("<>"), case_id, case_id), 0);
#undef S_ENDED_ONCE

    /* To the office; only the office decides. */
    assert_int_equal(s_decide(OFFICE, case_id, CCIP__EVALUATION__OUTCOME__DECISION_APPROVED, 0, 0),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "not submitted it to the office");
    /* The refused submissions above said nothing; this one says that the
     * office's decision waits (notify's item for the office), with the note. */
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'evaluation.case.submitted.v1' AND aggregate_id = '%s'",
                                      case_id),
                     0);
    assert_int_equal(s_submit_to_office(case_id), 0);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'evaluation.case.submitted.v1' AND aggregate_id = '%s'",
                                      case_id),
                     1);
    assert_int_equal(s_decide(STAFF, case_id, CCIP__EVALUATION__OUTCOME__DECISION_APPROVED, 0, 0),
                     CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(
        s_decide(OFFICE, case_id, CCIP__EVALUATION__OUTCOME__DECISION_APPROVED, 100, 0),
        CCIP__STATUS__INVALID_ARGUMENT); /* an amount only for special funds */
    ccip_test_error_has(&s_svc, "recommended_fen");
    assert_int_equal(s_decide(OFFICE, case_id, CCIP__EVALUATION__OUTCOME__DECISION_APPROVED, 0, 0),
                     0);
    assert_int_equal(s_decide(OFFICE, case_id, CCIP__EVALUATION__OUTCOME__DECISION_DECLINED, 0, 0),
                     CCIP__STATUS__FAILED_PRECONDITION);
    c = s_get_case(case_id);
    assert_int_equal(c->status, CCIP__EVALUATION__CASE_STATUS__CASE_APPROVED);
    assert_int_equal(c->n_decisions, 1);
    assert_int_equal(c->decisions[0]->outcome, CCIP__EVALUATION__OUTCOME__DECISION_APPROVED);
    assert_string_equal(c->decisions[0]->decided_by, "office-zhao");
    assert_int_equal(c->decisions[0]->recommendation,
                     CCIP__EVALUATION__RECOMMENDATION__RECOMMEND_APPROVE);
    assert_true(c->designation_id[0]);
    char designation[37];
    snprintf(designation, sizeof designation, "%s", c->designation_id);
    ccip_test_free(c);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'evaluation.decision.made.v1' AND aggregate_id = '%s'",
                                      case_id),
                     1);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM outbox WHERE type = "
                         "'evaluation.application.approved.v1' AND aggregate_id = '%s'",
                         app),
        1);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'evaluation.designation.granted.v1' AND aggregate_id = '%s'",
                                      designation),
                     1);

    Ccip__Evaluation__GetDesignationRequest gd = CCIP__EVALUATION__GET_DESIGNATION_REQUEST__INIT;
    gd.designation_id = designation;
    Ccip__Evaluation__DesignationReply *d = (Ccip__Evaluation__DesignationReply *)s_ok(
        "evaluation", NULL, NULL, "evaluation.designation.get.v1", &gd.base,
        &ccip__evaluation__designation_reply__descriptor);
    assert_int_equal(strncmp(d->designation->certificate_no, "CCI-", 4), 0);
    assert_int_equal(strlen(d->designation->certificate_no), strlen("CCI-2027-0001"));
    assert_string_equal(d->designation->name, "Jiuxianqiao Creative Park");
    assert_string_equal(d->designation->holder_uscc, uscc);
    assert_int_equal(d->designation->status,
                     CCIP__EVALUATION__DESIGNATION_STATUS__DESIGNATION_ACTIVE);
    /* three years (the default), re-evaluation after twelve months */
    int64_t years = (d->designation->valid_until_us - d->designation->valid_from_us) / DAY_US;
    assert_true(years >= 3 * 365 && years <= 3 * 366);
    assert_true(d->designation->next_reevaluation_us >
                d->designation->valid_from_us + 360 * DAY_US);
    ccip_test_free(d);

    /* The applicant's view (intake consumes evaluation's events). */
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM applicant_view WHERE application_id = '%s' AND status = "
             "'APPLICANT_APPROVED'",
             app);
    assert_int_equal(ccip_test_wait_count("intake", sql, 1, 15000), 1);

    /* A periodic re-evaluation moves the next one on; due ones are listed. */
    ccip_test_number(
        &s_svc,
        "WITH u AS (UPDATE designation SET next_reevaluation = now() - interval '1 day' "
        "WHERE id = '%s' RETURNING 1) SELECT count(*) FROM u",
        designation);
    Ccip__Evaluation__ListDesignationsRequest ld =
        CCIP__EVALUATION__LIST_DESIGNATIONS_REQUEST__INIT;
    ld.reevaluation_due = 1;
    ld.holder_uscc = uscc;
    Ccip__Evaluation__ListDesignationsReply *dl = (Ccip__Evaluation__ListDesignationsReply *)s_ok(
        "evaluation", STAFF, "evaluation.designation.list.v1", &ld.base,
        &ccip__evaluation__list_designations_reply__descriptor);
    assert_int_equal(dl->n_designations, 1);
    ccip_test_free(dl);
    Ccip__Evaluation__ReevaluateRequest re = CCIP__EVALUATION__REEVALUATE_REQUEST__INIT;
    re.designation_id = designation;
    re.note = "annual visit: 410 enterprises, conditions met";
    d = (Ccip__Evaluation__DesignationReply *)s_ok(
        "evaluation", STAFF, "evaluation.designation.reevaluate.v1", &re.base,
        &ccip__evaluation__designation_reply__descriptor);
    assert_true(d->designation->next_reevaluation_us > ccip_now_us() + 360 * DAY_US);
    assert_true(d->designation->last_reevaluated_at_us > 0);
    ccip_test_free(d);
    dl = (Ccip__Evaluation__ListDesignationsReply *)s_ok(
        "evaluation", STAFF, "evaluation.designation.list.v1", &ld.base,
        &ccip__evaluation__list_designations_reply__descriptor);
    assert_int_equal(dl->n_designations, 0);
    ccip_test_free(dl);

    /* Revocation: office only, with reasons, once. */
    Ccip__Evaluation__RevokeDesignationRequest rv =
        CCIP__EVALUATION__REVOKE_DESIGNATION_REQUEST__INIT;
    rv.designation_id = designation;
    rv.reason = "";
    assert_int_equal(s_ev(OFFICE, "evaluation.designation.revoke.v1", &rv.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    rv.reason = "the operator left the park; fewer than 50 enterprises remain";
    assert_int_equal(s_ev(STAFF, "evaluation.designation.revoke.v1", &rv.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_ev(OFFICE, "evaluation.designation.revoke.v1", &rv.base, NULL, NULL), 0);
    assert_int_equal(s_ev(OFFICE, "evaluation.designation.revoke.v1", &rv.base, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'evaluation.designation.revoked.v1' AND aggregate_id = '%s'",
                                      designation),
                     1);
}

/* intake's count of the readers of app, live ones (ended_at IS NULL) or
 * all, once it is `want` or 10 s passed (intake follows evaluation's
 * events, so the count may still have to go up or down). */
static long long s_readers(const char *app, int live, long long want)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM intake.reader WHERE application_id = '%s'%s",
             app, live ? " AND ended_at IS NULL" : "");
    long long v = -1;
    for (int waited = 0; waited <= 10000 && v != want; waited += 100) {
        if ((v = ccip_test_query_number("intake", sql)) != want)
            ccip_test_sleep_ms(100);
    }
    return v;
}

/* Special funds: the approval carries an amount up to the one requested;
 * RETURNED sends the case back to the investigation in a new round, with a
 * new report required. A declared conflict ends the expert's review. Who
 * may read the application (intake's readers) follows: the agency from its
 * assignment, an expert from its declaration of no conflict, until a
 * conflict, a new round or the decision. */
static void test_special_funds_and_return(void **state)
{
    (void)state;
    char p[32], field[48], call[37], uscc[19], app[37], case_id[37], id[64], a_uscc[19];
    s_prefix(p, sizeof p);
    snprintf(field, sizeof field, "f-%s", p);
    s_open_call(CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT, call);
    s_accepted(call, CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT, "13522223333", "f@example.cn",
               80000000, uscc, app);
    s_case_of(app, case_id);
    for (int i = 1; i <= 3; i++) {
        snprintf(id, sizeof id, "%s-S%d", p, i);
        assert_int_equal(s_expert(id, field, NULL), 0);
    }
    ccip_test_uscc("110108", a_uscc);
    snprintf(id, sizeof id, "%s-AG", p);
    assert_int_equal(s_agency(id, a_uscc, 5, NULL), 0);
    s_only_agencies(p);
    int version = s_sheet(CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT, field, 2, 5000);
    assert_int_equal(s_assign("evaluation.assignment.make.v1", case_id, NULL, 0, NULL), 0);
    Ccip__Evaluation__Case *c = s_get_case(case_id);
    char experts[4][48];
    assert_int_equal(s_live_experts(c, experts, 4), 2);
    ccip_test_free(c);

    /* The first expert finds a conflict: recorded, replaced. */
    assert_int_equal(s_declare(experts[0], case_id, 1, ""), CCIP__STATUS__INVALID_ARGUMENT);
    assert_int_equal(
        s_declare(experts[0], case_id, 1, "my brother-in-law is the applicant's director"), 0);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM expert_conflict WHERE expert_id = '%s' AND "
                         "org_uscc = '%s'",
                         experts[0], uscc),
        1);
    c = s_get_case(case_id);
    assert_int_equal(s_live_experts(c, experts, 4), 2);
    ccip_test_free(c);
    assert_int_equal(s_readers(app, 1, 1), 1); /* the agency: no expert declared yet */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s_declare(experts[i], case_id, 0, ""), 0);
        assert_int_equal(s_score(experts[i], case_id, version, 6 + i, 14, 3), 0);
    }
    assert_int_equal(s_readers(app, 1, 3), 3);
    assert_int_equal(
        s_report(id, case_id, CCIP__EVALUATION__VERDICT__VERDICT_MEETS_WITH_CONDITIONS), 0);
    assert_int_equal(s_submit_to_office(case_id), 0);

    /* RETURNED for another investigation: a new round. */
    assert_int_equal(s_decide(OFFICE, case_id, CCIP__EVALUATION__OUTCOME__DECISION_RETURNED, 0, 0),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "return_to");
    assert_int_equal(s_decide(OFFICE, case_id, CCIP__EVALUATION__OUTCOME__DECISION_RETURNED, 0,
                              CCIP__EVALUATION__RETURN_TO__RETURN_TO_INVESTIGATION),
                     0);
    c = s_get_case(case_id);
    assert_int_equal(c->status, CCIP__EVALUATION__CASE_STATUS__CASE_IN_EVALUATION);
    assert_int_equal(c->round, 2);
    assert_string_equal(s_live_agency(c), id); /* the only agency, assigned again */
    assert_int_equal(c->n_investigations, 2);
    assert_int_equal(c->investigations[0]->status, CCIP__EVALUATION__TASK_STATUS__TASK_SUPERSEDED);
    assert_non_null(c->aggregate);
    assert_int_equal(c->aggregate->verdict, CCIP__EVALUATION__VERDICT__VERDICT_UNSPECIFIED);
    ccip_test_free(c);
    /* the agency's first investigation ended, its second began; the
     * experts' reviews stand: 5 rows (the agency's two, the two experts' and
     * the conflicted expert's, which ended without starting), 3 live */
    assert_int_equal(s_readers(app, 0, 5), 5);
    assert_int_equal(s_readers(app, 1, 3), 3);
    assert_int_equal(s_submit_to_office(case_id), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "the investigation report of agency");
    assert_int_equal(s_report(id, case_id, CCIP__EVALUATION__VERDICT__VERDICT_MEETS), 0);
    assert_int_equal(s_submit_to_office(case_id), 0);

    /* The amount: 1 fen up to what was requested. */
    assert_int_equal(s_decide(OFFICE, case_id, CCIP__EVALUATION__OUTCOME__DECISION_APPROVED, 0, 0),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "recommended_fen");
    assert_int_equal(
        s_decide(OFFICE, case_id, CCIP__EVALUATION__OUTCOME__DECISION_APPROVED, 80000001, 0),
        CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "800000.00 yuan requested");
    assert_int_equal(
        s_decide(OFFICE, case_id, CCIP__EVALUATION__OUTCOME__DECISION_APPROVED, 60000000, 0), 0);
    c = s_get_case(case_id);
    assert_int_equal(c->status, CCIP__EVALUATION__CASE_STATUS__CASE_APPROVED);
    assert_int_equal(c->n_decisions, 2);
    assert_int_equal(c->decisions[1]->recommended_fen, 60000000);
    assert_string_equal(c->designation_id, ""); /* funds are not designated */
    ccip_test_free(c);
    assert_int_equal(s_readers(app, 1, 0), 0); /* decided: nobody reads any more */
}

/* Overdue tasks are listed and announced once; an expert sees only its own
 * tasks; staff reassign the overdue one; a plain service key only reads. */
static void test_overdue_and_roles(void **state)
{
    (void)state;
    char p[32], field[48], call[37], uscc[19], app[37], case_id[37], id[64], a_uscc[19];
    s_prefix(p, sizeof p);
    snprintf(field, sizeof field, "f-%s", p);
    s_open_call(CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, call);
    s_accepted(call, CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, "13433334444", "o@example.cn",
               0, uscc, app);
    s_case_of(app, case_id);
    for (int i = 1; i <= 3; i++) {
        snprintf(id, sizeof id, "%s-O%d", p, i);
        assert_int_equal(s_expert(id, field, NULL), 0);
    }
    ccip_test_uscc("110108", a_uscc);
    snprintf(id, sizeof id, "%s-AG", p);
    assert_int_equal(s_agency(id, a_uscc, 5, NULL), 0);
    s_only_agencies(p);
    s_sheet(CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, field, 2, 6000);

    /* A service key may read but not assign. */
    Ccip__Evaluation__AssignRequest aq = CCIP__EVALUATION__ASSIGN_REQUEST__INIT;
    aq.case_id = case_id;
    assert_int_equal(
        s_send("evaluation", NULL, NULL, "evaluation.assignment.make.v1", &aq.base, NULL, NULL),
        CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_assign("evaluation.assignment.make.v1", case_id, NULL, 0, NULL), 0);
    char late[64], soon[64];
    snprintf(late, sizeof late, "%s-O1", p);
    snprintf(soon, sizeof soon, "%s-O2", p);
    /* Test-owned time travel: one review is a day late, one due tomorrow. */
    ccip_test_number(
        &s_svc,
        "WITH u AS (UPDATE review SET due_at = now() - interval '1 day' WHERE case_id = '%s' "
        "AND expert_id = '%s' RETURNING 1) SELECT count(*) FROM u",
        case_id, late);
    ccip_test_number(
        &s_svc,
        "WITH u AS (UPDATE review SET due_at = now() + interval '1 day' WHERE case_id = '%s' "
        "AND expert_id = '%s' RETURNING 1) SELECT count(*) FROM u",
        case_id, soon);

    Ccip__Evaluation__ListTasksRequest lt = CCIP__EVALUATION__LIST_TASKS_REQUEST__INIT;
    lt.overdue_only = 1;
    lt.subject_id = late;
    Ccip__Evaluation__ListTasksReply *tasks = (Ccip__Evaluation__ListTasksReply *)s_ok(
        "evaluation", STAFF, "evaluation.task.list.v1", &lt.base,
        &ccip__evaluation__list_tasks_reply__descriptor);
    assert_int_equal(tasks->n_tasks, 1);
    assert_true(tasks->tasks[0]->overdue);
    assert_string_equal(tasks->tasks[0]->case_id, case_id);
    ccip_test_free(tasks);
    /* An expert sees its own tasks, whatever it asks for. */
    char actor[80];
    snprintf(actor, sizeof actor, "expert:%s", soon);
    lt.overdue_only = 0;
    tasks = (Ccip__Evaluation__ListTasksReply *)s_ok(
        "evaluation", "expert", actor, "evaluation.task.list.v1", &lt.base,
        &ccip__evaluation__list_tasks_reply__descriptor);
    assert_int_equal(tasks->n_tasks, 1);
    assert_string_equal(tasks->tasks[0]->subject_id, soon);
    assert_string_equal(tasks->tasks[0]->case_title, "Opera costume heritage workshop");
    ccip_test_free(tasks);

    Ccip__Evaluation__SweepRequest sw = CCIP__EVALUATION__SWEEP_REQUEST__INIT;
    assert_int_equal(
        s_send("evaluation", NULL, NULL, "evaluation.task.sweep.v1", &sw.base, NULL, NULL),
        CCIP__STATUS__PERMISSION_DENIED); /* a service key only reads */
    Ccip__Evaluation__SweepReply *sr =
        (Ccip__Evaluation__SweepReply *)s_ok("evaluation", STAFF, "evaluation.task.sweep.v1",
                                             &sw.base, &ccip__evaluation__sweep_reply__descriptor);
    assert_true(sr->overdue_published >= 1);
    assert_true(sr->reminders_published >= 1);
    ccip_test_free(sr);
    sr = (Ccip__Evaluation__SweepReply *)s_ok("evaluation", STAFF, "evaluation.task.sweep.v1",
                                              &sw.base, &ccip__evaluation__sweep_reply__descriptor);
    assert_int_equal(sr->overdue_published, 0);
    assert_int_equal(sr->reminders_published, 0);
    ccip_test_free(sr);
    long long task =
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM outbox o JOIN review r ON r.id::text = "
                         "o.aggregate_id WHERE o.type = 'evaluation.task.overdue.v1' AND "
                         "r.case_id = '%s' AND r.expert_id = '%s'",
                         case_id, late);
    assert_int_equal(task, 1);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM outbox o JOIN review r ON r.id::text = "
                         "o.aggregate_id WHERE o.type = 'evaluation.task.reminder.v1' AND "
                         "r.case_id = '%s' AND r.expert_id = '%s'",
                         case_id, soon),
        1);

    /* Staff take the overdue review away: the third expert gets it. */
    Ccip__Evaluation__ReassignRequest ra = CCIP__EVALUATION__REASSIGN_REQUEST__INIT;
    ra.case_id = case_id;
    ra.kind = CCIP__EVALUATION__SUBJECT_KIND__EXPERT;
    ra.id = late;
    ra.reason = "";
    assert_int_equal(s_ev(STAFF, "evaluation.assignment.reassign.v1", &ra.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ra.reason = "a day overdue and not answering";
    Ccip__Evaluation__AssignReply *ar = NULL;
    assert_int_equal(s_ev(STAFF, "evaluation.assignment.reassign.v1", &ra.base,
                          &ccip__evaluation__assign_reply__descriptor, (ProtobufCMessage **)&ar),
                     0);
    assert_int_equal(ar->n_experts, 1);
    snprintf(id, sizeof id, "%s-O3", p);
    assert_string_equal(ar->experts[0]->id, id);
    ccip_test_free(ar);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM review WHERE case_id = '%s' AND expert_id = "
                         "'%s' AND status = 'TASK_REASSIGNED'",
                         case_id, late),
        1);
    /* The task's end is published (it closes the expert's inbox items), and
     * the new expert's task is. */
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox o JOIN review r ON r.id::text = "
                                      "o.aggregate_id WHERE o.type = 'evaluation.task.ended.v1' "
                                      "AND r.case_id = '%s' AND r.expert_id = '%s'",
                                      case_id, late),
                     1);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox o JOIN review r ON r.id::text = "
                                      "o.aggregate_id WHERE o.type = "
                                      "'evaluation.task.assigned.v1' AND r.case_id = '%s' AND "
                                      "r.expert_id = '%s'",
                                      case_id, id),
                     1);
    /* Reassigned away: that expert may no longer act on the case. */
    assert_int_equal(s_declare(late, case_id, 0, ""), CCIP__STATUS__PERMISSION_DENIED);
}

/* ---- ccipctl ------------------------------------------------------------------- */

/* An application taken to a designation with ccipctl alone, the way staff,
 * an expert, an agency and the office would. */
static void test_ccipctl_walkthrough(void **state)
{
    (void)state;
    static char out[65536];
    char p[32], field[48], call[37], uscc[19], app[37], case_id[37], a_uscc[19], e_uscc[19];
    s_prefix(p, sizeof p);
    snprintf(field, sizeof field, "f-%s", p);
    s_open_call(CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION, call);
    s_accepted(call, CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION, "13211112222",
               "w@example.cn", 0, uscc, app);
    s_case_of(app, case_id);
    ccip_test_uscc("110108", a_uscc);
    ccip_test_uscc("110108", e_uscc);

    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "evaluation --help"), 0);
    assert_non_null(strstr(out, "evaluation assign propose"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "evaluation assign make 2>/dev/null"),
                     2);
    const char *staff = "--role staff --actor staff-li evaluation";
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "%s agency register %s-AG --name 'Capital Appraisal' --uscc %s "
                                   "--districts all --capacity 3",
                                   staff, p, a_uscc),
                     0);
    s_only_agencies(p);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "%s expert register %s-EX --name 'Prof. Liu' --fields %s,animation "
                      "--affiliation %s --district Xicheng --max-reviews 2 --email "
                      "Liu@Example.cn",
                      staff, p, field, e_uscc),
        0);
    assert_non_null(strstr(out, "email: liu@example.cn"));
    /* A refusal by the service: exit 1 and the reason. */
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "%s expert register %s-EX2 --name X --fields %s --affiliation %s "
                      "--district Xicheng --max-reviews 0 2>&1",
                      staff, p, field, e_uscc),
        1);
    assert_non_null(strstr(out, "max_concurrent_reviews"));
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--json %s sheet publish talent_base_identification --criterion "
                      "innovation:3:10 --criterion impact:2:20 --criterion feasibility:1:5 "
                      "--threshold 60 --panel 1 --fields %s",
                      staff, field),
        0);
    const char *v = strstr(out, "\"version\":");
    assert_non_null(v);
    int version = atoi(v + strlen("\"version\":"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "%s assign propose %s", staff, case_id),
                     0);
    assert_non_null(strstr(out, "dry_run: yes"));
    char line[128];
    snprintf(line, sizeof line, "id: %s-EX", p);
    assert_non_null(strstr(out, line));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "%s assign make %s", staff, case_id),
                     0);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role expert --actor expert:%s-EX evaluation task list", p),
                     0);
    assert_non_null(strstr(out, case_id));
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role expert --actor expert:%s-EX evaluation review declare %s "
                      "--statement 'no ties'",
                      p, case_id),
        0);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role expert --actor expert:%s-EX evaluation review submit %s "
                      "--sheet-version %d --score 'innovation=8:new training model' --score "
                      "'impact=16:serves the district' --score 'feasibility=4:sound budget'",
                      p, case_id, version),
        0);
    assert_non_null(strstr(out, "panel_complete: yes"));
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role agency --actor agency:%s-AG evaluation report file %s "
                      "--visit 2020-01-01 --findings 'as declared' --verdict meets 2>&1",
                      p, case_id),
        1); /* before the agency was assigned */
    char today[40];
    ccip_time_format_us(ccip_now_us(), today, sizeof today);
    today[10] = '\0';
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role agency --actor agency:%s-AG evaluation report file %s "
                      "--visit %s --findings 'Classrooms and studios as declared.' "
                      "--verdict meets --document "
                      "visit.pdf:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00"
                      "a08:application/pdf",
                      p, case_id, today),
        0);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "%s case submit %s --note 'for Friday'",
                                   staff, case_id),
                     0);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role office --actor office-zhao evaluation case decide %s "
                                   "--outcome approved --reasons 'meets every criterion'",
                                   case_id),
                     0);
    assert_non_null(strstr(out, "status: CASE_APPROVED"));
    assert_non_null(strstr(out, "score_centi: 80.00"));
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out, "--json %s case get --application %s", staff, app),
        0);
    assert_non_null(strstr(out, "\"status\":\"CASE_APPROVED\""));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-li evaluation designation list "
                                   "--holder %s",
                                   uscc),
                     0);
    assert_non_null(strstr(out, "certificate_no: CTB-"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_opened_once),
        cmocka_unit_test(test_case_handler_directly),
        cmocka_unit_test(test_registers),
        cmocka_unit_test(test_proposal_conflicts_override),
        cmocka_unit_test(test_caps_hold_under_concurrency),
        cmocka_unit_test(test_review_to_designation),
        cmocka_unit_test(test_special_funds_and_return),
        cmocka_unit_test(test_overdue_and_roles),
        cmocka_unit_test(test_ccipctl_walkthrough),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
