/*
 * casefile end to end (issue 19): the real bus, intake, evaluation,
 * funding, ip, stats and casefile processes against real PostgreSQL,
 * commands through the front door with a person's role as ccipctl sends
 * them, and ccipctl itself for `case show`.
 *
 * One case is followed the way it happens: a cluster applies (intake),
 * experts and an agency evaluate it and the office approves it, which
 * designates the cluster (evaluation); the cluster reports a quarter
 * (stats); the cluster applies for special funds as a continuation of its
 * case, is evaluated and approved again, and funding pays its award in two
 * tranches; the project registers a work and links it to the award (ip).
 * casefile must show every step of all five services in order, find the
 * case by a fragment of its Chinese title, show an applicant only its own
 * case as intake's applicant view, and rebuild the same timeline by reading
 * every stream again from position 1.
 *
 * Every run makes its own organisation, programme, experts (fields carry a
 * tag unique to the run) and agency, and deactivates the agencies of
 * earlier runs, so the suite may run against a database that has seen
 * other suites.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ccip/casefile.pb-c.h"
#include "ccip/evaluation.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip/stats.pb-c.h"
#include "ccip_id.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"

#define STAFF     "staff", "staff-li"
#define OFFICE    "office", "office-zhao"
#define FINANCE   "finance", "finance-wang"
#define HOUR_US   (3600LL * 1000000)
#define DAY_US    (24 * HOUR_US)
#define WAIT_MS   30000 /* longest wait for a consumer to catch up */
#define TITLE     "朝阳戏曲服装文化创意园"
#define ORG_NAME  "北京戏衣坊文化发展有限公司"
#define REQUESTED 80000000LL /* fen: 800,000.00 yuan */
#define GRANTED   60000000LL /* fen */

static ccip_test_svc s_svc; /* the bus, the six services, the clients, the last sentence */
static char s_tag[16];      /* unique to the run */
static char s_out[262144];  /* ccipctl's output */

/* What the walk through the case made, for the tests after it. */
static struct {
    char root[37];        /* the case: the cluster's application */
    char project[37];     /* the special-fund application continuing it */
    char uscc[19];        /* the applicant */
    char designation[37]; /* the cluster's designation = roster entry */
    char award[37];       /* the project's award */
    char work[37];        /* the registered work */
    long long steps;      /* steps on the timeline at the end */
} s_case;

/* ---- helpers -------------------------------------------------------------- */

static ProtobufCMessage *s_ok(const char *service, const char *role, const char *actor,
                              const char *type, const ProtobufCMessage *msg,
                              const ProtobufCMessageDescriptor *desc)
{
    ccip_test_cmd c = {
        .service = service, .role = role, .actor = actor, .type = type, .msg = msg, .out = desc};
    return ccip_test_ok_cmd(&s_svc, &c);
}

static int s_send(const char *service, const char *role, const char *actor, const char *type,
                  const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc,
                  ProtobufCMessage **out)
{
    ccip_test_cmd c = {
        .service = service, .role = role, .actor = actor, .type = type, .msg = msg, .out = desc};
    return ccip_test_send_cmd(&s_svc, &c, out);
}

/* Waits until `sql` (one number, in service svc's schema) reaches want. */
static void s_wait(const char *svc, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_wait(const char *svc, const char *what, const char *fmt, ...)
{
    char sql[1000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    if (ccip_test_wait_count(svc, sql, 1, WAIT_MS) < 1)
        ccip_test_fail(&s_svc, what);
}

static const char *s_actor(void)
{
    static char actor[32];
    snprintf(actor, sizeof actor, "org:%s", s_case.uscc);
    return actor;
}

/* ---- intake ---------------------------------------------------------------- */

static void s_open_call(Ccip__Intake__CallKind kind, const char *programme, char id[37])
{
    Ccip__Intake__OpenCallRequest rq = CCIP__INTAKE__OPEN_CALL_REQUEST__INIT;
    rq.kind = kind;
    rq.year = 2027;
    rq.title = "2027 call for the casefile suite";
    int64_t now = ccip_now_us() / 1000000 * 1000000;
    rq.opens_at_us = now - HOUR_US;
    rq.closes_at_us = now + 30 * DAY_US;
    if (programme) {
        rq.fund_programme_code = (char *)programme;
        rq.max_request_fen = 500000000;
    }
    Ccip__Intake__CallReply *r = (Ccip__Intake__CallReply *)s_ok(
        "intake", STAFF, "intake.call.open.v1", &rq.base, &ccip__intake__call_reply__descriptor);
    snprintf(id, 37, "%s", r->call->id);
    ccip_test_free(r);
}

static void s_organisation(void)
{
    ccip_test_uscc("110105", s_case.uscc);
    Ccip__Intake__RegisterOrganisationRequest org =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    org.uscc = s_case.uscc;
    org.name = ORG_NAME;
    org.type = CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE;
    org.district = "Chaoyang";
    org.legal_representative = "王芳";
    org.contact_name = "李明";
    org.contact_phone = "13800138000";
    org.contact_email = "office@example.cn";
    ccip_test_free(
        s_ok("intake", "applicant", s_actor(), "intake.organisation.register.v1", &org.base, NULL));
    Ccip__Intake__VerifyOrganisationRequest v = CCIP__INTAKE__VERIFY_ORGANISATION_REQUEST__INIT;
    v.uscc = s_case.uscc;
    v.note = "licence checked";
    ccip_test_free(s_ok("intake", STAFF, "intake.organisation.verify.v1", &v.base, NULL));
}

/* Drafts, submits and accepts an application to `call`; continues `root`
 * when given. Writes its id. */
static void s_apply(const char *call, Ccip__Intake__CallKind kind, const char *title,
                    const char *root, char app[37])
{
    Ccip__Intake__ApplicationContent c = CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    c.title = (char *)title;
    c.summary = "Restoring and digitising opera costumes in a creative park.";
    c.district = "110105";
    Ccip__Intake__ClusterFacts cluster = CCIP__INTAKE__CLUSTER_FACTS__INIT;
    Ccip__Intake__BudgetLine line = CCIP__INTAKE__BUDGET_LINE__INIT;
    Ccip__Intake__BudgetLine *lines[] = {&line};
    Ccip__Intake__ProjectFacts project = CCIP__INTAKE__PROJECT_FACTS__INIT;
    if (kind == CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION) {
        cluster.cluster_name = TITLE;
        cluster.location = "Jiuxianqiao Road 4";
        cluster.area_m2 = 230000;
        cluster.enterprise_count = 400;
        cluster.employee_count = 9000;
        cluster.lead_operator = ORG_NAME;
        c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
        c.cluster = &cluster;
    } else {
        c.requested_fen = REQUESTED;
        line.item = "Digitisation equipment";
        line.amount_fen = REQUESTED;
        project.budget_lines = lines;
        project.n_budget_lines = 1;
        c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT;
        c.project = &project;
    }
    Ccip__Intake__DraftApplicationRequest d = CCIP__INTAKE__DRAFT_APPLICATION_REQUEST__INIT;
    d.call_id = (char *)call;
    d.applicant_uscc = s_case.uscc;
    d.content = &c;
    d.continues_case = (char *)(root ? root : "");
    Ccip__Intake__ApplicationReply *r = (Ccip__Intake__ApplicationReply *)s_ok(
        "intake", "applicant", s_actor(), "intake.application.draft.v1", &d.base,
        &ccip__intake__application_reply__descriptor);
    snprintf(app, 37, "%s", r->application->id);
    if (root)
        assert_string_equal(r->application->case_root, root);
    ccip_test_free(r);
    Ccip__Intake__ApplicationActionRequest a = CCIP__INTAKE__APPLICATION_ACTION_REQUEST__INIT;
    a.application_id = app;
    ccip_test_free(
        s_ok("intake", "applicant", s_actor(), "intake.application.submit.v1", &a.base, NULL));
    a.reason = "complete";
    ccip_test_free(s_ok("intake", STAFF, "intake.application.accept.v1", &a.base, NULL));
}

/* ---- evaluation ------------------------------------------------------------ */

/* The experts, agency and sheets of this run (once). */
static void s_registers(const char *field)
{
    char id[64], uscc[19];
    for (int i = 1; i <= 2; i++) {
        Ccip__Evaluation__RegisterExpertRequest rq =
            CCIP__EVALUATION__REGISTER_EXPERT_REQUEST__INIT;
        char own[19];
        ccip_test_uscc("110108", own);
        snprintf(id, sizeof id, "%s-E%d", s_tag, i);
        rq.id = id;
        rq.name = "张教授";
        char *fields[] = {(char *)field};
        rq.fields = fields;
        rq.n_fields = 1;
        rq.affiliation_uscc = own;
        rq.affiliation_name = "Capital Normal University";
        rq.district = "Haidian";
        rq.max_concurrent_reviews = 5;
        ccip_test_free(s_ok("evaluation", STAFF, "evaluation.expert.register.v1", &rq.base, NULL));
    }
    Ccip__Evaluation__RegisterAgencyRequest ag = CCIP__EVALUATION__REGISTER_AGENCY_REQUEST__INIT;
    ccip_test_uscc("110108", uscc);
    snprintf(id, sizeof id, "%s-AG", s_tag);
    ag.id = id;
    ag.name = "Beijing Survey & Appraisal Co.";
    ag.uscc = uscc;
    ag.qualification = "Grade A appraisal";
    char *districts[] = {"Chaoyang"};
    ag.districts_served = districts;
    ag.n_districts_served = 1;
    ag.capacity = 5;
    ccip_test_free(s_ok("evaluation", STAFF, "evaluation.agency.register.v1", &ag.base, NULL));
    /* only this run's agency takes cases */
    char sql[300];
    snprintf(sql, sizeof sql,
             "WITH u AS (UPDATE agency SET active = false WHERE active AND id <> '%s' "
             "RETURNING 1) SELECT count(*) FROM u",
             id);
    ccip_test_query_number("evaluation", sql);
    Ccip__Intake__CallKind kinds[] = {CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                                      CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT};
    for (int k = 0; k < 2; k++) {
        Ccip__Evaluation__PublishSheetRequest rq = CCIP__EVALUATION__PUBLISH_SHEET_REQUEST__INIT;
        rq.kind = kinds[k];
        Ccip__Evaluation__Criterion c = CCIP__EVALUATION__CRITERION__INIT;
        Ccip__Evaluation__Criterion *cp[] = {&c};
        c.code = "quality";
        c.title = "quality";
        c.weight = 1;
        c.max_score = 10;
        rq.criteria = cp;
        rq.n_criteria = 1;
        rq.pass_threshold_centi = 5000;
        rq.panel_size = 2;
        char *fields[] = {(char *)field};
        rq.fields = fields;
        rq.n_fields = 1;
        ccip_test_free(s_ok("evaluation", STAFF, "evaluation.sheet.publish.v1", &rq.base, NULL));
    }
}

/* Evaluates the case of application app to the office's approval: the
 * panel and the agency assigned, both reviews, the report, the office.
 * Writes the evaluation case's id. */
static void s_evaluate(const char *app, int64_t recommended_fen, char case_id[37])
{
    Ccip__Evaluation__GetCaseRequest g = CCIP__EVALUATION__GET_CASE_REQUEST__INIT;
    g.application_id = (char *)app;
    Ccip__Evaluation__CaseReply *cr = NULL;
    for (int waited = 0; !cr && waited < WAIT_MS; waited += 100) {
        if (s_send("evaluation", STAFF, "evaluation.case.get.v1", &g.base,
                   &ccip__evaluation__case_reply__descriptor, (ProtobufCMessage **)&cr) != 0)
            ccip_test_sleep_ms(100);
    }
    if (!cr)
        ccip_test_fail(&s_svc, "evaluation opened no case for the accepted application");
    snprintf(case_id, 37, "%s", cr->case_->id);
    ccip_test_free(cr);
    Ccip__Evaluation__AssignRequest as = CCIP__EVALUATION__ASSIGN_REQUEST__INIT;
    as.case_id = case_id;
    ccip_test_free(s_ok("evaluation", STAFF, "evaluation.assignment.make.v1", &as.base, NULL));
    char agency[64];
    snprintf(agency, sizeof agency, "agency:%s-AG", s_tag);
    for (int i = 1; i <= 2; i++) {
        char actor[64];
        snprintf(actor, sizeof actor, "expert:%s-E%d", s_tag, i);
        Ccip__Evaluation__DeclareRequest dq = CCIP__EVALUATION__DECLARE_REQUEST__INIT;
        dq.case_id = case_id;
        dq.statement = "no ties to the applicant";
        ccip_test_free(
            s_ok("evaluation", "expert", actor, "evaluation.review.declare.v1", &dq.base, NULL));
        Ccip__Evaluation__SubmitReviewRequest rq = CCIP__EVALUATION__SUBMIT_REVIEW_REQUEST__INIT;
        rq.case_id = case_id;
        rq.sheet_version = 0;
        Ccip__Evaluation__CriterionScore s = CCIP__EVALUATION__CRITERION_SCORE__INIT;
        Ccip__Evaluation__CriterionScore *sp[] = {&s};
        s.criterion = "quality";
        s.score = 7 + i;
        s.comment = "as seen on site";
        rq.scores = sp;
        rq.n_scores = 1;
        rq.comment = "sound";
        /* the sheet version the case pinned */
        Ccip__Evaluation__GetCaseRequest gc = CCIP__EVALUATION__GET_CASE_REQUEST__INIT;
        gc.case_id = case_id;
        Ccip__Evaluation__CaseReply *c = (Ccip__Evaluation__CaseReply *)s_ok(
            "evaluation", STAFF, "evaluation.case.get.v1", &gc.base,
            &ccip__evaluation__case_reply__descriptor);
        rq.sheet_version = c->case_->sheet_version;
        ccip_test_free(c);
        ccip_test_free(
            s_ok("evaluation", "expert", actor, "evaluation.review.submit.v1", &rq.base, NULL));
    }
    Ccip__Evaluation__FileReportRequest fr = CCIP__EVALUATION__FILE_REPORT_REQUEST__INIT;
    fr.case_id = case_id;
    fr.visit_date_us = ccip_now_us() - HOUR_US;
    fr.findings = "Visited the park; 380 enterprises operating; facilities as declared.";
    fr.verdict = CCIP__EVALUATION__VERDICT__VERDICT_MEETS;
    ccip_test_free(
        s_ok("evaluation", "agency", agency, "evaluation.investigation.report.v1", &fr.base, NULL));
    Ccip__Evaluation__SubmitToOfficeRequest so = CCIP__EVALUATION__SUBMIT_TO_OFFICE_REQUEST__INIT;
    so.case_id = case_id;
    so.note = "for the office's meeting";
    ccip_test_free(s_ok("evaluation", STAFF, "evaluation.case.submit.v1", &so.base, NULL));
    Ccip__Evaluation__DecideRequest d = CCIP__EVALUATION__DECIDE_REQUEST__INIT;
    d.case_id = case_id;
    d.outcome = CCIP__EVALUATION__OUTCOME__DECISION_APPROVED;
    d.reasons = "Meets the municipal criteria; see the panel's scores.";
    d.recommended_fen = recommended_fen;
    ccip_test_free(s_ok("evaluation", OFFICE, "evaluation.case.decide.v1", &d.base, NULL));
}

/* ---- set-up -------------------------------------------------------------------- */

/* Suites that ran before in the same cluster may have fed a service's
 * consumer from a stand-in producer (ccip_test_producer: test_stats feeds
 * stats evaluation's, funding's and ip's events, test_intake intake its
 * producers'), so its cursor may stand above the real producer's head, and
 * the consumer would stop consuming that producer (the guard of
 * ccip_consumer.h, as for a producer restored alone). The stand-ins'
 * events never were the real producer's: the cursor goes back to the real
 * head, unstopped. A schema not made yet is skipped. */
static void s_align_cursors(void)
{
    static const char *const producers[] = {"intake", "evaluation", "funding", "ip", "stats"};
    static const char *const consumers[] = {"intake", "evaluation", "funding",
                                            "ip",     "stats",      "casefile"};
    for (size_t p = 0; p < sizeof producers / sizeof producers[0]; p++) {
        long long head = ccip_test_query_number(producers[p], "SELECT head FROM outbox_state");
        if (head < 0)
            head = 0;
        for (size_t c = 0; c < sizeof consumers / sizeof consumers[0]; c++) {
            char sql[600];
            snprintf(sql, sizeof sql,
                     "WITH u AS (UPDATE consumer_cursor SET position = least(position, %lld), "
                     "stalled_at = NULL, stalled_reason = '' WHERE producer = '%s' AND "
                     "(position > %lld OR stalled_at IS NOT NULL) RETURNING 1) "
                     "SELECT count(*) FROM u",
                     head, producers[p], head);
            ccip_test_query_number(consumers[c], sql);
        }
    }
}

static int s_group_setup(void **state)
{
    (void)state;
    if (sodium_init() < 0 || ccip_test_svc_init(&s_svc, "casefile") < 0)
        return -1;
    snprintf(s_tag, sizeof s_tag, "cf%05x", (unsigned)((time(NULL) ^ getpid()) & 0xfffff));
    /* ip's signing key, made the way an operator makes it */
    char cmd[1200], key[600];
    snprintf(cmd, sizeof cmd, "%s/cli/ccipctl ip keygen ip-signing --dir %s >/dev/null",
             getenv("CCIP_BINARY_DIR"), s_svc.env.dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(key, sizeof key, "%s/ip-signing.key", s_svc.env.dir);
    setenv("CCIP_IP_SIGNING_KEY_FILE", key, 1);
    setenv("CCIP_EVALUATION_SWEEP_SECONDS", "0", 1);
    setenv("CCIP_INTAKE_CLOSE_CHECK_SECONDS", "0", 1);
    static const struct {
        const char *binary, *service, *instance;
    } procs[] = {{"services/intake/intake", "intake", "intake-1"},
                 {"services/evaluation/evaluation", "evaluation", "evaluation-1"},
                 {"services/funding/funding", "funding", "funding-1"},
                 {"services/ip/ip", "ip", "ip-1"},
                 {"services/stats/stats", "stats", "stats-1"},
                 {"services/casefile/casefile", "casefile", "casefile-1"}};
    s_align_cursors();
    if (ccip_test_start_bus(&s_svc.env) < 0)
        goto fail;
    for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++)
        if (ccip_test_start_service(&s_svc.env, procs[i].binary, procs[i].service,
                                    procs[i].instance) < 0)
            goto fail;
    for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++)
        if (ccip_test_svc_wait(&s_svc, procs[i].service) < 0)
            goto fail;
    s_svc.timeout_ms = 20000;
    return 0;
fail:
    ccip_test_env_cleanup(&s_svc.env, 1);
    return -1;
}

static int s_group_teardown(void **state)
{
    (void)state;
    ccip_test_svc_stop(&s_svc);
    return 0;
}

/* ---- the case, followed ----------------------------------------------------------- */

/* The reply of casefile.case.get.v1 as staff, once the case has a step of
 * `type` (NULL: once it exists). */
static Ccip__Casefile__CaseReply *s_case_when(const char *id, const char *type)
{
    Ccip__Casefile__GetCaseRequest rq = CCIP__CASEFILE__GET_CASE_REQUEST__INIT;
    rq.case_id = (char *)id;
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        Ccip__Casefile__CaseReply *r = NULL;
        if (s_send("casefile", STAFF, "casefile.case.get.v1", &rq.base,
                   &ccip__casefile__case_reply__descriptor, (ProtobufCMessage **)&r) == 0) {
            for (size_t i = 0; type && i < r->n_timeline; i++)
                if (strcmp(r->timeline[i]->type, type) == 0)
                    return r;
            if (!type)
                return r;
            ccip_test_free(r);
        }
        ccip_test_sleep_ms(100);
    }
    char what[300];
    snprintf(what, sizeof what, "casefile never showed a step %s of case %s", type ? type : "(any)",
             id);
    ccip_test_fail(&s_svc, what);
    return NULL;
}

/* The order of the steps every service must show, as event types. */
static const char *const S_EXPECTED[] = {"intake.application.submitted.v1",
                                         "intake.application.accepted.v1",
                                         "evaluation.case.opened.v1",
                                         "evaluation.review.submitted.v1",
                                         "evaluation.investigation.reported.v1",
                                         "evaluation.decision.made.v1",
                                         "evaluation.designation.granted.v1",
                                         "stats.report.submitted.v1",
                                         "stats.report.accepted.v1",
                                         "intake.application.submitted.v1",
                                         "intake.application.accepted.v1",
                                         "evaluation.case.opened.v1",
                                         "evaluation.decision.made.v1",
                                         "funding.award.proposed.v1",
                                         "funding.award.granted.v1",
                                         "funding.award.signed.v1",
                                         "funding.disbursement.paid.v1",
                                         "funding.inspection.recorded.v1",
                                         "funding.disbursement.paid.v1",
                                         "funding.award.completed.v1",
                                         "funding.award.work_linked.v1",
                                         "ip.work.linked.v1",
                                         NULL};

/* Cluster, designation, quarterly report, continuation, award, tranches,
 * work: every step in ccipctl case show, in order, across five services. */
static void test_case_across_services(void **state)
{
    (void)state;
    char field[48], call[37], fund_call[37], programme[33], case1[37], case2[37];
    snprintf(field, sizeof field, "f-%s", s_tag);
    snprintf(programme, sizeof programme, "CF%s", s_tag);
    s_registers(field);
    s_organisation();

    /* intake and evaluation: the cluster, approved and designated */
    s_open_call(CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, NULL, call);
    s_apply(call, CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, TITLE, NULL, s_case.root);
    s_evaluate(s_case.root, 0, case1);
    Ccip__Evaluation__GetCaseRequest g = CCIP__EVALUATION__GET_CASE_REQUEST__INIT;
    g.case_id = case1;
    Ccip__Evaluation__CaseReply *cr =
        (Ccip__Evaluation__CaseReply *)s_ok("evaluation", STAFF, "evaluation.case.get.v1", &g.base,
                                            &ccip__evaluation__case_reply__descriptor);
    assert_string_equal(cr->case_->case_root, s_case.root);
    snprintf(s_case.designation, sizeof s_case.designation, "%s", cr->case_->designation_id);
    ccip_test_free(cr);
    assert_true(s_case.designation[0]);

    /* stats: the designated cluster's quarterly report, accepted */
    s_wait("stats", "stats never put the designation on its roster",
           "SELECT count(*) FROM roster_entry WHERE id = '%s' AND case_root = '%s'",
           s_case.designation, s_case.root);
    Ccip__Stats__Value v[7], *vp[7];
    static const struct {
        const char *code;
        Ccip__Stats__Unit unit;
        int64_t value;
    } values[] = {{"enterprises", CCIP__STATS__UNIT__COUNT, 380},
                  {"employees", CCIP__STATS__UNIT__COUNT, 9100},
                  {"operating_revenue", CCIP__STATS__UNIT__FEN, 100000000000},
                  {"total_profit", CCIP__STATS__UNIT__FEN, 10000000000},
                  {"taxes_paid", CCIP__STATS__UNIT__FEN, 5000000000},
                  {"floor_area", CCIP__STATS__UNIT__SQUARE_METRES, 230000},
                  {"occupancy_rate", CCIP__STATS__UNIT__PERCENT, 8750}};
    for (int i = 0; i < 7; i++) {
        v[i] = (Ccip__Stats__Value)CCIP__STATS__VALUE__INIT;
        v[i].code = (char *)values[i].code;
        v[i].unit = values[i].unit;
        v[i].value = values[i].value;
        v[i].explanation = "";
        vp[i] = &v[i];
    }
    Ccip__Stats__RosterEntry *entry = NULL;
    Ccip__Stats__ListRosterRequest lr = CCIP__STATS__LIST_ROSTER_REQUEST__INIT;
    Ccip__Stats__ListRosterReply *roster =
        (Ccip__Stats__ListRosterReply *)s_ok("stats", "operator", s_actor(), "stats.roster.list.v1",
                                             &lr.base, &ccip__stats__list_roster_reply__descriptor);
    for (size_t i = 0; i < roster->n_entries; i++)
        if (strcmp(roster->entries[i]->id, s_case.designation) == 0)
            entry = roster->entries[i];
    assert_non_null(entry);
    Ccip__Stats__SaveReportRequest sr = CCIP__STATS__SAVE_REPORT_REQUEST__INIT;
    sr.roster_id = s_case.designation;
    sr.quarter = entry->first_quarter;
    sr.values = vp;
    sr.n_values = 7;
    sr.note = "figures from the operator's quarterly accounts";
    Ccip__Stats__ReportReply *rr =
        (Ccip__Stats__ReportReply *)s_ok("stats", "operator", s_actor(), "stats.report.save.v1",
                                         &sr.base, &ccip__stats__report_reply__descriptor);
    char report[40];
    snprintf(report, sizeof report, "%s", rr->report->id);
    ccip_test_free(rr);
    ccip_test_free(roster);
    Ccip__Stats__SubmitReportRequest sub = CCIP__STATS__SUBMIT_REPORT_REQUEST__INIT;
    sub.report_id = report;
    ccip_test_free(s_ok("stats", "operator", s_actor(), "stats.report.submit.v1", &sub.base, NULL));
    Ccip__Stats__DecideReportRequest dr = CCIP__STATS__DECIDE_REPORT_REQUEST__INIT;
    dr.report_id = report;
    dr.decision = CCIP__STATS__DECISION__APPROVE;
    dr.reason = "";
    ccip_test_free(
        s_ok("stats", "district", "district:110105", "stats.report.review.v1", &dr.base, NULL));
    ccip_test_free(s_ok("stats", STAFF, "stats.report.decide.v1", &dr.base, NULL));

    /* funding: a programme with two tranches, the project as a
     * continuation of the case, evaluated, awarded */
    Ccip__Funding__CreateProgrammeRequest cp = CCIP__FUNDING__CREATE_PROGRAMME_REQUEST__INIT;
    cp.code = programme;
    cp.name = "文化创意产业发展专项资金";
    cp.description = "Special fund for the cultural and creative industries";
    Ccip__Funding__TrancheRule t1 = CCIP__FUNDING__TRANCHE_RULE__INIT,
                               t2 = CCIP__FUNDING__TRANCHE_RULE__INIT, *plan[] = {&t1, &t2};
    t1.percent = 50;
    t1.condition = CCIP__FUNDING__CONDITION__AGREEMENT_SIGNED;
    t1.label = "";
    t2.percent = 50;
    t2.condition = CCIP__FUNDING__CONDITION__MIDTERM_INSPECTION_PASSED;
    t2.label = "";
    cp.tranche_plan = plan;
    cp.n_tranche_plan = 2;
    ccip_test_free(s_ok("funding", STAFF, "funding.programme.create.v1", &cp.base, NULL));
    Ccip__Funding__SetBudgetRequest sb = CCIP__FUNDING__SET_BUDGET_REQUEST__INIT;
    sb.programme_code = programme;
    sb.year = 2027;
    sb.category = "";
    sb.budget_fen = 1000000000;
    sb.reason = "annual appropriation";
    ccip_test_free(s_ok("funding", STAFF, "funding.budget.set.v1", &sb.base, NULL));
    s_open_call(CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT, programme, fund_call);
    s_apply(fund_call, CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT, "戏曲服装数字化项目",
            s_case.root, s_case.project);
    s_evaluate(s_case.project, GRANTED, case2);

    Ccip__Funding__GetAwardRequest ga = CCIP__FUNDING__GET_AWARD_REQUEST__INIT;
    ga.application_id = s_case.project;
    Ccip__Funding__AwardReply *ar = NULL;
    for (int waited = 0; !ar && waited < WAIT_MS; waited += 100)
        if (s_send("funding", STAFF, "funding.award.get.v1", &ga.base,
                   &ccip__funding__award_reply__descriptor, (ProtobufCMessage **)&ar) != 0)
            ccip_test_sleep_ms(100);
    if (!ar)
        ccip_test_fail(&s_svc, "funding proposed no award for the approved project");
    snprintf(s_case.award, sizeof s_case.award, "%s", ar->award->id);
    assert_string_equal(ar->award->case_root, s_case.root);
    ccip_test_free(ar);
    Ccip__Funding__ConfirmAwardRequest ca = CCIP__FUNDING__CONFIRM_AWARD_REQUEST__INIT;
    ca.award_id = s_case.award;
    ca.category = "";
    ca.note = "";
    ccip_test_free(s_ok("funding", STAFF, "funding.award.confirm.v1", &ca.base, NULL));
    Ccip__Funding__AwardActionRequest sign = CCIP__FUNDING__AWARD_ACTION_REQUEST__INIT;
    sign.award_id = s_case.award;
    sign.reason = "";
    ccip_test_free(s_ok("funding", STAFF, "funding.award.sign.v1", &sign.base, NULL));
    for (int n = 1; n <= 2; n++) {
        if (n == 2) {
            Ccip__Funding__ScheduleInspectionRequest si =
                CCIP__FUNDING__SCHEDULE_INSPECTION_REQUEST__INIT;
            si.award_id = s_case.award;
            si.kind = CCIP__FUNDING__INSPECTION_KIND__MIDTERM;
            si.scheduled_for_us = ccip_now_us() + DAY_US;
            si.inspector = "inspector-sun";
            Ccip__Funding__InspectionReply *ir = (Ccip__Funding__InspectionReply *)s_ok(
                "funding", STAFF, "funding.inspection.schedule.v1", &si.base,
                &ccip__funding__inspection_reply__descriptor);
            Ccip__Funding__RecordInspectionRequest rec =
                CCIP__FUNDING__RECORD_INSPECTION_REQUEST__INIT;
            rec.inspection_id = ir->inspection->id;
            rec.finding = CCIP__FUNDING__FINDING__COMPLIANT;
            rec.notes = "visited the workshop; books and receipts checked";
            ccip_test_free(s_ok("funding", STAFF, "funding.inspection.record.v1", &rec.base, NULL));
            ccip_test_free(ir);
        }
        Ccip__Funding__RequestPaymentRequest rp = CCIP__FUNDING__REQUEST_PAYMENT_REQUEST__INIT;
        rp.award_id = s_case.award;
        rp.tranche_number = n;
        Ccip__Funding__PaymentReply *pr = (Ccip__Funding__PaymentReply *)s_ok(
            "funding", STAFF, "funding.payment.request.v1", &rp.base,
            &ccip__funding__payment_reply__descriptor);
        Ccip__Funding__ApprovePaymentRequest ap = CCIP__FUNDING__APPROVE_PAYMENT_REQUEST__INIT;
        ap.payment_id = pr->payment->id;
        ap.payment_ref = n == 1 ? "TREASURY-2027-0001" : "TREASURY-2027-0002";
        Ccip__Funding__PaymentReply *paid = (Ccip__Funding__PaymentReply *)s_ok(
            "funding", FINANCE, "funding.payment.approve.v1", &ap.base,
            &ccip__funding__payment_reply__descriptor);
        assert_int_equal(paid->payment->status, CCIP__FUNDING__PAYMENT_STATUS__PAYMENT_PAID);
        ccip_test_free(paid);
        ccip_test_free(pr);
    }

    /* ip: the project registers a work and links it to the award */
    char content[160], hex[65];
    snprintf(content, sizeof content, "casefile %s: the costume pattern book", s_tag);
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const uint8_t *)content, strlen(content));
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    Ccip__Ip__RegisterWorkRequest rw = CCIP__IP__REGISTER_WORK_REQUEST__INIT;
    rw.kind = CCIP__IP__WORK_KIND__COPYRIGHT_DESIGN;
    rw.title = "戏曲服装纹样图册";
    rw.created_on = "2026-01-15";
    rw.content_sha256 = hex;
    char *creators[] = {"王芳"};
    rw.creators = creators;
    rw.n_creators = 1;
    Ccip__Ip__RegisterWorkReply *wr =
        (Ccip__Ip__RegisterWorkReply *)s_ok("ip", "owner", s_actor(), "ip.work.register.v1",
                                            &rw.base, &ccip__ip__register_work_reply__descriptor);
    snprintf(s_case.work, sizeof s_case.work, "%s", wr->work->id);
    ccip_test_free(wr);
    Ccip__Funding__LinkWorkRequest lw = CCIP__FUNDING__LINK_WORK_REQUEST__INIT;
    lw.award_id = s_case.award;
    lw.work_id = s_case.work;
    ccip_test_free(s_ok("funding", STAFF, "funding.award.link_work.v1", &lw.base, NULL));

    /* casefile: every step, in order, once the last one (ip's) arrived */
    Ccip__Casefile__CaseReply *r = s_case_when(s_case.root, "ip.work.linked.v1");
    ccip_test_free(s_case_when(s_case.root, "stats.report.accepted.v1"));
    ccip_test_free(r);
    r = s_case_when(s_case.project, "funding.award.completed.v1"); /* by the project's id too */
    size_t k = 0;
    int services = 0;
    const char *names[] = {"intake", "evaluation", "stats", "funding", "ip"};
    for (size_t i = 0; i < r->n_timeline; i++) {
        const Ccip__Casefile__Step *s = r->timeline[i];
        if (S_EXPECTED[k] && strcmp(s->type, S_EXPECTED[k]) == 0)
            k++;
        for (int n = 0; n < 5; n++)
            if (strcmp(s->service, names[n]) == 0)
                services |= 1 << n;
        if (i > 0)
            assert_true(s->at_us >= r->timeline[i - 1]->at_us);
    }
    if (S_EXPECTED[k]) {
        char what[300];
        snprintf(what, sizeof what, "the timeline lacks %s in its place (step %zu expected)",
                 S_EXPECTED[k], k);
        ccip_test_fail(&s_svc, what);
    }
    assert_int_equal(services, 0x1f);
    const Ccip__Casefile__CaseSummary *sum = r->summary;
    assert_string_equal(sum->root_id, s_case.root);
    assert_string_equal(sum->title, TITLE);
    assert_string_equal(sum->applicant_uscc, s_case.uscc);
    assert_string_equal(sum->applicant_name, ORG_NAME);
    assert_string_equal(sum->district_code, "110105");
    assert_int_equal(sum->kind, CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION);
    assert_int_equal(sum->n_application_ids, 2);
    assert_string_equal(sum->application_ids[0], s_case.root);
    assert_string_equal(sum->application_ids[1], s_case.project);
    assert_int_equal(sum->steps, (int)r->n_timeline);
    int64_t opened_us = sum->opened_at_us;
    s_case.steps = (long long)r->n_timeline;
    ccip_test_free(r);
    /* the state follows the latest step that sets one: the award is paid */
    r = s_case_when(s_case.root, "ip.work.linked.v1");
    assert_int_equal(r->summary->state, CCIP__CASEFILE__CASE_STATE__FUNDING_COMPLETED);
    s_case.steps = (long long)r->n_timeline;
    ccip_test_free(r);

    /* the same through ccipctl, for people: the steps' lines in order */
    int code = ccip_test_ctl(&s_svc, s_out, sizeof s_out,
                             "--role staff --actor staff-li case show %s", s_case.root);
    if (code != 0)
        ccip_test_fail(&s_svc, s_out);
    const char *order[] = {"application submitted",
                           "approved by the office",
                           "designation granted",
                           "quarterly report accepted",
                           "application submitted",
                           "award confirmed",
                           "tranche paid",
                           "tranche paid",
                           "award completed",
                           "registered work joined the case",
                           NULL};
    const char *at = s_out;
    for (int i = 0; order[i]; i++) {
        const char *next = strstr(at, order[i]);
        if (!next) {
            char what[600];
            snprintf(what, sizeof what, "ccipctl case show lacks \"%s\" in its place:\n%.400s",
                     order[i], s_out);
            ccip_test_fail(&s_svc, what);
        }
        at = next + strlen(order[i]);
    }
    assert_non_null(strstr(s_out, "state: FUNDING_COMPLETED"));
    assert_non_null(strstr(s_out, "TREASURY-2027-0002"));
    /* times for people in Beijing (UTC+8), as the other commands people
     * read print them: the case's opening written here by hand */
    time_t bj = (time_t)(opened_us / 1000000 + 8 * 3600);
    struct tm tm;
    gmtime_r(&bj, &tm);
    char want[64];
    snprintf(want, sizeof want, "opened: %04d-%02d-%02d %02d:%02d Beijing", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
    if (!strstr(s_out, want)) {
        char what[700];
        snprintf(what, sizeof what, "ccipctl case show lacks \"%s\":\n%.400s", want, s_out);
        ccip_test_fail(&s_svc, what);
    }
    assert_null(strstr(s_out, "Z  ")); /* no step's time left in UTC */
    code = ccip_test_ctl(&s_svc, s_out, sizeof s_out,
                         "--json --role staff --actor staff-li case show %s", s_case.project);
    assert_int_equal(code, 0);
    assert_non_null(strstr(s_out, "\"type\":\"ip.work.linked.v1\""));
}

/* The dossier holds each object as its service last published it. */
static void test_dossier(void **state)
{
    (void)state;
    if (!s_case.work[0])
        skip();
    Ccip__Casefile__GetCaseRequest rq = CCIP__CASEFILE__GET_CASE_REQUEST__INIT;
    rq.case_id = s_case.root;
    Ccip__Casefile__DossierReply *d =
        (Ccip__Casefile__DossierReply *)s_ok("casefile", OFFICE, "casefile.case.dossier.v1",
                                             &rq.base, &ccip__casefile__dossier_reply__descriptor);
    assert_int_equal(d->n_applications, 2);
    assert_string_equal(d->applications[0]->applicant->name, ORG_NAME);
    assert_int_equal(d->n_cases, 2);
    assert_int_equal(d->n_reviews, 4);
    assert_int_equal(d->n_investigations, 2);
    assert_int_equal(d->n_decisions, 2);
    assert_int_equal(d->n_designations, 1);
    assert_string_equal(d->designations[0]->id, s_case.designation);
    assert_int_equal(d->n_awards, 1);
    assert_int_equal(d->awards[0]->status, CCIP__FUNDING__AWARD_STATUS__AWARD_COMPLETED);
    assert_int_equal(d->awards[0]->n_tranches, 2);
    assert_int_equal(d->n_payments, 2);
    assert_int_equal(d->payments[0]->amount_fen + d->payments[1]->amount_fen, GRANTED);
    assert_int_equal(d->n_inspections, 1);
    assert_int_equal(d->n_works, 1);
    assert_string_equal(d->works[0]->id, s_case.work);
    assert_int_equal(d->n_quarterly_reports, 1);
    assert_int_equal(d->quarterly_reports[0]->status, CCIP__STATS__REPORT_STATUS__ACCEPTED);
    assert_int_equal((long long)d->n_timeline, s_case.steps);
    ccip_test_free(d);
    /* not for applicants */
    assert_int_equal(s_send("casefile", "applicant", s_actor(), "casefile.case.dossier.v1",
                            &rq.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
}

/* Search by any fragment of the Chinese title or the applicant's name, by
 * credit code, district, state and kind; bad criteria are refused naming
 * the field. */
static void test_search(void **state)
{
    (void)state;
    if (!s_case.work[0])
        skip();
    static const char *const fragments[] = {"戏曲服装", "服装", "文化创意园", "戏衣坊", "数字化"};
    for (size_t f = 0; f < sizeof fragments / sizeof fragments[0]; f++) {
        Ccip__Casefile__SearchCasesRequest rq = CCIP__CASEFILE__SEARCH_CASES_REQUEST__INIT;
        rq.text = (char *)fragments[f];
        rq.district = "Chaoyang";
        rq.limit = 500;
        Ccip__Casefile__SearchCasesReply *r = (Ccip__Casefile__SearchCasesReply *)s_ok(
            "casefile", STAFF, "casefile.case.search.v1", &rq.base,
            &ccip__casefile__search_cases_reply__descriptor);
        int found = 0;
        for (size_t i = 0; i < r->n_cases; i++)
            found |= strcmp(r->cases[i]->root_id, s_case.root) == 0;
        if (!found) {
            char what[200];
            snprintf(what, sizeof what, "search for \"%s\" did not find the case", fragments[f]);
            ccip_test_fail(&s_svc, what);
        }
        ccip_test_free(r);
    }
    Ccip__Casefile__SearchCasesRequest rq = CCIP__CASEFILE__SEARCH_CASES_REQUEST__INIT;
    rq.text = s_case.uscc + 4; /* a fragment of the credit code */
    rq.state = CCIP__CASEFILE__CASE_STATE__FUNDING_COMPLETED;
    rq.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    Ccip__Casefile__SearchCasesReply *r = (Ccip__Casefile__SearchCasesReply *)s_ok(
        "casefile", STAFF, "casefile.case.search.v1", &rq.base,
        &ccip__casefile__search_cases_reply__descriptor);
    assert_int_equal(r->n_cases, 1);
    assert_string_equal(r->cases[0]->root_id, s_case.root);
    ccip_test_free(r);
    rq.state = CCIP__CASEFILE__CASE_STATE__DECLINED;
    r = (Ccip__Casefile__SearchCasesReply *)s_ok("casefile", STAFF, "casefile.case.search.v1",
                                                 &rq.base,
                                                 &ccip__casefile__search_cases_reply__descriptor);
    assert_int_equal(r->n_cases, 0);
    ccip_test_free(r);
    /* '%' is a character like any other, not a wildcard */
    rq = (Ccip__Casefile__SearchCasesRequest)CCIP__CASEFILE__SEARCH_CASES_REQUEST__INIT;
    rq.text = "戏曲%园";
    r = (Ccip__Casefile__SearchCasesReply *)s_ok("casefile", STAFF, "casefile.case.search.v1",
                                                 &rq.base,
                                                 &ccip__casefile__search_cases_reply__descriptor);
    assert_int_equal(r->n_cases, 0);
    ccip_test_free(r);

    rq = (Ccip__Casefile__SearchCasesRequest)CCIP__CASEFILE__SEARCH_CASES_REQUEST__INIT;
    rq.district = "Atlantis";
    assert_int_equal(s_send("casefile", STAFF, "casefile.case.search.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `district`");
    rq.district = "";
    rq.limit = 501;
    assert_int_equal(s_send("casefile", STAFF, "casefile.case.search.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `limit`");
    rq.limit = 0;
    rq.applicant_uscc = "91110105MA01ABCD2";
    assert_int_equal(s_send("casefile", STAFF, "casefile.case.search.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `applicant_uscc`");
    Ccip__Casefile__GetCaseRequest g = CCIP__CASEFILE__GET_CASE_REQUEST__INIT;
    g.case_id = "no-such-case";
    assert_int_equal(s_send("casefile", STAFF, "casefile.case.get.v1", &g.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `case_id`");
    char other[37];
    ccip_uuid_v7(other);
    g.case_id = other;
    assert_int_equal(s_send("casefile", STAFF, "casefile.case.get.v1", &g.base, NULL, NULL),
                     CCIP__STATUS__NOT_FOUND);
    ccip_test_error_has(&s_svc, "there is no case");
    /* still serving */
    g.case_id = s_case.root;
    ccip_test_free(s_ok("casefile", STAFF, "casefile.case.get.v1", &g.base,
                        &ccip__casefile__case_reply__descriptor));
}

/* An applicant sees its own case as intake's applicant view (statuses and
 * sentences, no internal steps or state) and nothing of another's. */
static void test_applicant_view(void **state)
{
    (void)state;
    if (!s_case.work[0])
        skip();
    Ccip__Casefile__GetCaseRequest g = CCIP__CASEFILE__GET_CASE_REQUEST__INIT;
    g.case_id = s_case.project;
    Ccip__Casefile__CaseReply *r = (Ccip__Casefile__CaseReply *)s_ok(
        "casefile", "applicant", s_actor(), "casefile.case.get.v1", &g.base,
        &ccip__casefile__case_reply__descriptor);
    assert_int_equal(r->n_timeline, 0);
    assert_int_equal(r->summary->state, CCIP__CASEFILE__CASE_STATE__CASE_STATE_UNSPECIFIED);
    assert_true(r->n_applicant_view >= 6);
    assert_int_equal(r->applicant_view[0]->status,
                     CCIP__INTAKE__APPLICANT_STATUS__APPLICANT_RECEIVED);
    int approved = 0, funded = 0;
    for (size_t i = 0; i < r->n_applicant_view; i++) {
        approved +=
            r->applicant_view[i]->status == CCIP__INTAKE__APPLICANT_STATUS__APPLICANT_APPROVED;
        funded += r->applicant_view[i]->status == CCIP__INTAKE__APPLICANT_STATUS__APPLICANT_FUNDED;
    }
    assert_int_equal(approved, 2);
    assert_true(funded >= 3); /* awarded, signed, all paid */
    assert_int_equal(r->applicant_view[r->n_applicant_view - 1]->status,
                     CCIP__INTAKE__APPLICANT_STATUS__APPLICANT_FUNDED);
    ccip_test_free(r);

    /* another organisation: as if there were no such case */
    char stranger[19], actor[32];
    ccip_test_uscc("110105", stranger);
    snprintf(actor, sizeof actor, "org:%s", stranger);
    assert_int_equal(
        s_send("casefile", "applicant", actor, "casefile.case.get.v1", &g.base, NULL, NULL),
        CCIP__STATUS__NOT_FOUND);
    ccip_test_error_has(&s_svc, "has no case");
    Ccip__Casefile__SearchCasesRequest sq = CCIP__CASEFILE__SEARCH_CASES_REQUEST__INIT;
    sq.applicant_uscc = s_case.uscc;
    assert_int_equal(
        s_send("casefile", "applicant", actor, "casefile.case.search.v1", &sq.base, NULL, NULL),
        CCIP__STATUS__PERMISSION_DENIED);
    sq.applicant_uscc = "";
    Ccip__Casefile__SearchCasesReply *sr = (Ccip__Casefile__SearchCasesReply *)s_ok(
        "casefile", "applicant", actor, "casefile.case.search.v1", &sq.base,
        &ccip__casefile__search_cases_reply__descriptor);
    assert_int_equal(sr->n_cases, 0);
    ccip_test_free(sr);
    assert_int_equal(
        s_send("casefile", "applicant", "someone", "casefile.case.get.v1", &g.base, NULL, NULL),
        CCIP__STATUS__PERMISSION_DENIED);
    ccip_test_error_has(&s_svc, "\"org:\"");
    /* through ccipctl, as the applicant runs it */
    int code =
        ccip_test_ctl(&s_svc, s_out, sizeof s_out, "--role applicant --actor org:%s case show %s",
                      s_case.uscc, s_case.root);
    assert_int_equal(code, 0);
    assert_non_null(strstr(s_out, "APPLICANT_FUNDED"));
    assert_null(strstr(s_out, "tranche paid"));
}

/* Forgetting everything and reading every stream again from position 1
 * gives the same timeline: each event is one step, whatever order the
 * consumers apply the five streams in. */
static void test_rebuild_from_position_one(void **state)
{
    (void)state;
    if (!s_case.work[0])
        skip();
#define S_SUM                                                                                      \
    "SELECT count(*) * 1000003 + coalesce(sum(hashtext(producer || position || action || detail "  \
    "|| object_id)), 0) FROM step WHERE root_id = '%s'"
    char sql[400];
    snprintf(sql, sizeof sql, S_SUM, s_case.root);
    long long before = ccip_test_query_number("casefile", sql);
    long long steps = ccip_test_number(&s_svc, "SELECT count(*) FROM step");
    pid_t pid = 0;
    for (int i = 0; i < CCIP_TEST_MAX_PROCS; i++)
        if (strcmp(s_svc.env.children[i].name, "casefile-1") == 0)
            pid = s_svc.env.children[i].pid;
    assert_int_equal(ccip_test_stop(&s_svc.env, pid, SIGTERM, 10000), 0);
    ccip_test_number(&s_svc, "WITH a AS (DELETE FROM step RETURNING 1), b AS (DELETE FROM "
                             "case_record RETURNING 1), c AS (DELETE FROM case_application "
                             "RETURNING 1), d AS (DELETE FROM case_object RETURNING 1), "
                             "e AS (UPDATE consumer_cursor SET position = 0 RETURNING 1) "
                             "SELECT count(*) FROM e");
    assert_true(ccip_test_start_service(&s_svc.env, "services/casefile/casefile", "casefile",
                                        "casefile-2") > 0);
    assert_int_equal(ccip_test_svc_wait(&s_svc, "casefile"), 0);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM step");
    if (ccip_test_wait_count("casefile", sql, steps, WAIT_MS) < steps)
        ccip_test_fail(&s_svc, "casefile did not read the streams again from position 1");
    ccip_test_sleep_ms(500); /* nothing more may come */
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM step"), steps);
    snprintf(sql, sizeof sql, S_SUM, s_case.root);
    assert_int_equal(ccip_test_query_number("casefile", sql), before);
    Ccip__Casefile__CaseReply *r = s_case_when(s_case.root, "ip.work.linked.v1");
    assert_int_equal(r->summary->state, CCIP__CASEFILE__CASE_STATE__FUNDING_COMPLETED);
    assert_string_equal(r->summary->title, TITLE);
    assert_int_equal((long long)r->n_timeline, s_case.steps);
    ccip_test_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_case_across_services),
        cmocka_unit_test(test_dossier),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_applicant_view),
        cmocka_unit_test(test_rebuild_from_position_one),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
