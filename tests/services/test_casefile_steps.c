/* casefile_steps: what each consumed event says about its case, read
 * without a database. An event is about a case only when its correlation
 * is a UUID other than its causation; one that cannot be read is refused
 * with a reason; every subscribed type has its reading and every reading
 * is subscribed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "casefile_steps.h"
#include "ccip/casefile.pb-c.h"
#include "ccip/evaluation.pb-c.h"
#include "ccip/followup.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip_envelope.h"

#define ROOT    "0193aaaa-0000-7000-8000-000000000001"
#define COMMAND "0193aaaa-0000-7000-8000-0000000000c1"
#define USCC    "91110105MA01ABCD2X"

static uint8_t s_buf[8192];

/* An event about case ROOT, caused by COMMAND. */
static Ccip__Envelope s_event(const char *type, const ProtobufCMessage *m)
{
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.id = "0193aaaa-0000-7000-8000-0000000000e1";
    e.type = (char *)type;
    e.position = 9;
    e.occurred_at_us = 1784073600000000LL;
    e.correlation_id = ROOT;
    e.causation_id = COMMAND;
    e.payload.data = s_buf;
    e.payload.len = m ? protobuf_c_message_pack(m, s_buf) : 0;
    return e;
}

static casefile_step_rc s_read(const Ccip__Envelope *e, casefile_step *s, char *why, size_t len)
{
    ProtobufCMessage *m = NULL;
    casefile_step_rc rc = casefile_step_read(e, s, &m, why, len);
    if (rc == CASEFILE_STEP_OK)
        assert_non_null(m);
    else
        assert_null(m);
    protobuf_c_message_free_unpacked(m, NULL); /* s's borrowed strings are not read after */
    return rc;
}

/* A submission: the application, its facts, SUBMITTED, what the applicant
 * sees; a second submission says so. */
static void test_submitted(void **state)
{
    (void)state;
    Ccip__Intake__ApplicationSubmitted a = CCIP__INTAKE__APPLICATION_SUBMITTED__INIT;
    a.application_id = ROOT;
    a.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    a.applicant_uscc = USCC;
    a.applicant_name = "北京朝阳文化有限公司";
    a.title = "朝阳文化创意园";
    a.submissions = 1;
    Ccip__Envelope e = s_event("intake.application.submitted.v1", &a.base);
    casefile_step s;
    ProtobufCMessage *m = NULL;
    char why[300];
    assert_int_equal(casefile_step_read(&e, &s, &m, why, sizeof why), CASEFILE_STEP_OK);
    assert_string_equal(s.root_id, ROOT);
    assert_string_equal(s.producer, "intake");
    assert_string_equal(s.action, "application submitted");
    assert_string_equal(s.object_kind, "application");
    assert_string_equal(s.object_id, ROOT);
    assert_string_equal(s.application_id, ROOT);
    assert_string_equal(s.state, "SUBMITTED");
    assert_string_equal(s.applicant_status, "APPLICANT_RECEIVED");
    assert_int_equal(s.has_facts, 1);
    assert_string_equal(s.facts.kind, "CLUSTER_IDENTIFICATION");
    assert_string_equal(s.facts.title, "朝阳文化创意园");
    assert_string_equal(s.facts.applicant_uscc, USCC);
    assert_null(s.dossier_kind);
    assert_non_null(strstr(s.detail, "北京朝阳文化有限公司"));
    protobuf_c_message_free_unpacked(m, NULL);

    a.submissions = 2;
    e = s_event("intake.application.submitted.v1", &a.base);
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_OK);
    assert_string_equal(s.action, "application submitted again (submission 2)");
}

/* Not about a case: a command's own id as correlation and causation, no
 * correlation, a type casefile does not consume. */
static void test_not_about_a_case(void **state)
{
    (void)state;
    Ccip__Intake__ApplicationSubmitted a = CCIP__INTAKE__APPLICATION_SUBMITTED__INIT;
    a.application_id = ROOT;
    Ccip__Envelope e = s_event("intake.application.submitted.v1", &a.base);
    casefile_step s;
    char why[300];
    e.correlation_id = COMMAND;
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_NO_CASE);
    e.correlation_id = "";
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_NO_CASE);
    e.correlation_id = "not-a-uuid";
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_NO_CASE);
    e = s_event("intake.call.opened.v1", NULL);
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_NO_CASE);
    /* repeats of decision.made for intake's view: one step, not two */
    e = s_event("evaluation.application.approved.v1", NULL);
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_NO_CASE);
}

/* About a case but unreadable: refused with the reason, nothing kept. */
static void test_unreadable(void **state)
{
    (void)state;
    Ccip__Envelope e = s_event("funding.award.granted.v1", NULL);
    casefile_step s;
    char why[300];
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff};
    e.payload.data = (uint8_t *)junk;
    e.payload.len = sizeof junk;
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_BAD);
    assert_non_null(strstr(why, "could not decode its ccip.funding.AwardChanged"));
    Ccip__Funding__AwardChanged c = CCIP__FUNDING__AWARD_CHANGED__INIT; /* no award */
    e = s_event("funding.award.granted.v1", &c.base);
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_BAD);
    assert_string_equal(why, "the payload has no award");
}

/* The office's decision sets the state by its outcome; the award's events
 * the funding states, with intake's applicant statuses; a paid tranche
 * names its amount in yuan. */
static void test_decisions_and_funds(void **state)
{
    (void)state;
    Ccip__Evaluation__Decision d = CCIP__EVALUATION__DECISION__INIT;
    d.id = "0193aaaa-0000-7000-8000-0000000000d1";
    d.outcome = CCIP__EVALUATION__OUTCOME__DECISION_APPROVED;
    d.reasons = "meets the criteria";
    d.recommended_fen = 60000000;
    Ccip__Evaluation__DecisionMade dm = CCIP__EVALUATION__DECISION_MADE__INIT;
    dm.decision = &d;
    Ccip__Envelope e = s_event("evaluation.decision.made.v1", &dm.base);
    casefile_step s;
    char why[300];
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_OK);
    assert_string_equal(s.action, "approved by the office");
    assert_string_equal(s.state, "APPROVED");
    assert_string_equal(s.applicant_status, "APPLICANT_APPROVED");
    assert_string_equal(s.dossier_kind, "decision");
    assert_string_equal(s.detail, "meets the criteria; 600000.00 yuan recommended");
    d.outcome = CCIP__EVALUATION__OUTCOME__DECISION_RETURNED;
    d.return_to = CCIP__EVALUATION__RETURN_TO__RETURN_TO_REVIEW;
    e = s_event("evaluation.decision.made.v1", &dm.base);
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_OK);
    assert_string_equal(s.state, "IN_EVALUATION");
    assert_null(s.applicant_status);

    Ccip__Funding__Award a = CCIP__FUNDING__AWARD__INIT;
    a.id = "0193aaaa-0000-7000-8000-0000000000a1";
    a.programme_code = "CCI-2027";
    a.year = 2027;
    a.amount_fen = 60000000;
    Ccip__Funding__AwardChanged ac = CCIP__FUNDING__AWARD_CHANGED__INIT;
    ac.award = &a;
    static const struct {
        const char *type, *state, *applicant;
    } cases[] = {{"funding.award.proposed.v1", "FUNDING_PROPOSED", NULL},
                 {"funding.award.granted.v1", "FUNDED", "APPLICANT_FUNDED"},
                 {"funding.award.signed.v1", NULL, "APPLICANT_FUNDED"},
                 {"funding.award.rejected.v1", "NOT_FUNDED", "APPLICANT_NOT_FUNDED"},
                 {"funding.award.terminated.v1", "FUNDING_TERMINATED", "APPLICANT_FUNDING_ENDED"},
                 {"funding.award.completed.v1", "FUNDING_COMPLETED", "APPLICANT_FUNDED"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        e = s_event(cases[i].type, &ac.base);
        assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_OK);
        assert_string_equal(s.object_kind, "award");
        assert_string_equal(s.dossier_kind, "award");
        if (cases[i].state)
            assert_string_equal(s.state, cases[i].state);
        else
            assert_null(s.state);
        if (cases[i].applicant)
            assert_string_equal(s.applicant_status, cases[i].applicant);
        else
            assert_null(s.applicant_status);
    }

    Ccip__Funding__DisbursementPaid p = CCIP__FUNDING__DISBURSEMENT_PAID__INIT;
    p.payment_id = "0193aaaa-0000-7000-8000-0000000000b1";
    p.tranche_number = 1;
    p.amount_fen = 30000000;
    p.payment_ref = "BOC-1";
    p.disbursed_total_fen = 30000000;
    e = s_event("funding.disbursement.paid.v1", &p.base);
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_OK);
    assert_string_equal(s.action, "tranche paid");
    assert_string_equal(s.detail,
                        "tranche 1: 300000.00 yuan, ref BOC-1 (300000.00 yuan paid in all)");
    assert_null(s.state);
}

/* The dossier shows the award of an award event, the work of ip's link,
 * the payload itself otherwise; of the dossier's type only. */
static void test_dossier_parts(void **state)
{
    (void)state;
    Ccip__Funding__Award a = CCIP__FUNDING__AWARD__INIT;
    Ccip__Funding__AwardChanged ac = CCIP__FUNDING__AWARD_CHANGED__INIT;
    ac.award = &a;
    assert_ptr_equal(casefile_step_dossier_part("funding.award.signed.v1", &ac.base), &a.base);
    Ccip__Ip__Work w = CCIP__IP__WORK__INIT;
    Ccip__Ip__WorkLinked wl = CCIP__IP__WORK_LINKED__INIT;
    wl.work = &w;
    assert_ptr_equal(casefile_step_dossier_part("ip.work.linked.v1", &wl.base), &w.base);
    Ccip__Funding__DisbursementPaid p = CCIP__FUNDING__DISBURSEMENT_PAID__INIT;
    assert_ptr_equal(casefile_step_dossier_part("funding.disbursement.paid.v1", &p.base), &p.base);
    assert_null(casefile_step_dossier_part("funding.award.signed.v1", &p.base));
    assert_null(casefile_step_dossier_part("intake.call.opened.v1", &p.base));
}

/* followup's key project in the case of its award: registered, its
 * monthly report (a correction says so), an escalation; no state and
 * nothing for the applicant's view; one without its project is refused. */
static void test_key_project(void **state)
{
    (void)state;
    Ccip__Followup__Project p = CCIP__FOLLOWUP__PROJECT__INIT;
    p.id = "0193aaaa-0000-7000-8000-0000000000f1";
    p.title = "朗园共享扫描室";
    p.year = 2026;
    p.source = CCIP__FOLLOWUP__PROJECT_SOURCE__FROM_AWARD;
    p.district_code = "110105";
    p.planned_investment_fen = 65000000;
    Ccip__Followup__ProjectChanged c = CCIP__FOLLOWUP__PROJECT_CHANGED__INIT;
    c.project = &p;
    c.action = "registered";
    Ccip__Envelope e = s_event("followup.project.registered.v1", &c.base);
    casefile_step s;
    char why[300];
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_OK);
    assert_string_equal(s.producer, "followup");
    assert_string_equal(s.action, "key project registered");
    assert_string_equal(s.object_kind, "key_project");
    assert_string_equal(s.object_id, p.id);
    assert_null(s.state);
    assert_null(s.applicant_status);
    assert_non_null(strstr(s.detail, "650000.00 yuan planned"));

    Ccip__Followup__MonthlyReport r = CCIP__FOLLOWUP__MONTHLY_REPORT__INIT;
    r.id = "0193aaaa-0000-7000-8000-0000000000f2";
    r.month = "2026-12";
    r.version = 1;
    r.investment_completed_fen = 18000000;
    r.problems = "the scanners arrive two weeks late";
    Ccip__Followup__ProjectReported rep = CCIP__FOLLOWUP__PROJECT_REPORTED__INIT;
    rep.project = &p;
    rep.report = &r;
    e = s_event("followup.project.reported.v1", &rep.base);
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_OK);
    assert_string_equal(s.action, "key project's monthly report filed");
    assert_string_equal(s.object_kind, "monthly_report");
    assert_non_null(strstr(s.detail, "2026-12: 180000.00 yuan invested so far"));
    r.version = 2;
    e = s_event("followup.project.reported.v1", &rep.base);
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_OK);
    assert_string_equal(s.action, "key project's monthly report corrected (version 2)");

    Ccip__Followup__Escalation esc = CCIP__FOLLOWUP__ESCALATION__INIT;
    esc.kind = CCIP__FOLLOWUP__ESCALATION_KIND__MONTHLY_REPORT_MISSING;
    esc.summary = "the monthly report of 2026-11 was not filed";
    Ccip__Followup__ProjectEscalated pe = CCIP__FOLLOWUP__PROJECT_ESCALATED__INIT;
    pe.project = &p;
    pe.escalation = &esc;
    e = s_event("followup.project.escalated.v1", &pe.base);
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_OK);
    assert_non_null(strstr(s.detail, "MONTHLY_REPORT_MISSING: the monthly report of 2026-11"));

    rep.report = NULL;
    e = s_event("followup.project.reported.v1", &rep.base);
    assert_int_equal(s_read(&e, &s, why, sizeof why), CASEFILE_STEP_BAD);
    assert_non_null(strstr(why, "report"));
}

/* Every subscribed type has its reading and message, under its own
 * producer; and the readings are all subscribed (counted). */
static void test_lists_agree(void **state)
{
    (void)state;
    size_t n = 0;
    for (size_t i = 0; i < casefile_nstreams; i++) {
        const char *p = casefile_streams[i].producer;
        for (const char *const *t = casefile_streams[i].types; *t; t++, n++) {
            assert_true(casefile_step_known(*t));
            assert_non_null(casefile_step_message(*t));
            assert_int_equal(strncmp(*t, p, strlen(p)), 0);
            assert_int_equal((*t)[strlen(p)], '.');
        }
    }
    assert_int_equal(n, 49); /* the readings of casefile_steps.c */
    assert_false(casefile_step_known("evaluation.application.approved.v1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submitted),     cmocka_unit_test(test_not_about_a_case),
        cmocka_unit_test(test_unreadable),    cmocka_unit_test(test_decisions_and_funds),
        cmocka_unit_test(test_dossier_parts), cmocka_unit_test(test_key_project),
        cmocka_unit_test(test_lists_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
