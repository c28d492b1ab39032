/*
 * intake_validate: every payload check says which field is wrong and how
 * to fix it, and accepts what a person would reasonably send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_validate.h"
#include "intake_validate.h"

static char s_err[512];

#define assert_err_has(part)                                                                       \
    do {                                                                                           \
        if (!strstr(s_err, (part)))                                                                \
            fail_msg("error \"%s\" lacks \"%s\"", s_err, (part));                                  \
    } while (0)

static void test_uuid(void **state)
{
    (void)state;
    assert_int_equal(intake_validate_uuid("call_id", "0193a5d2-7c1e-7b3a-9f00-1a2b3c4d5e6f", s_err,
                                          sizeof s_err),
                     0);
    assert_int_equal(intake_validate_uuid("call_id", "", s_err, sizeof s_err), -1);
    assert_err_has("field `call_id` is empty");
    assert_int_equal(intake_validate_uuid("call_id", "0193A5D2-7C1E-7B3A-9F00-1A2B3C4D5E6F", s_err,
                                          sizeof s_err),
                     -1);
    assert_err_has("must be a UUID in lower case");
    assert_int_equal(intake_validate_uuid("call_id", "a\x01", s_err, sizeof s_err), -1);
    assert_err_has("\\x01");
}

static Ccip__Intake__OpenCallRequest s_call(void)
{
    Ccip__Intake__OpenCallRequest rq = CCIP__INTAKE__OPEN_CALL_REQUEST__INIT;
    rq.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    rq.year = 2027;
    rq.title = "Clusters 2027";
    rq.opens_at_us = 1798761600000000LL; /* 2027-01-01 */
    rq.closes_at_us = rq.opens_at_us + 86400000000LL * 60;
    return rq;
}

static void test_open_call(void **state)
{
    (void)state;
    Ccip__Intake__OpenCallRequest rq = s_call();
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), 0);

    rq.kind = 0;
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `kind` is not set; give one of CLUSTER_IDENTIFICATION");
    rq.kind = 42;
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), -1);
    assert_err_has("unknown value 42");
    rq = s_call();
    rq.year = 1999;
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `year` must be between 2000 and 2100, got 1999");
    rq = s_call();
    rq.title = "";
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `title` is empty");
    rq = s_call();
    rq.closes_at_us = rq.opens_at_us;
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `closes_at_us` (2027-01-01T00:00:00.000000Z) must be later");
    rq = s_call();
    rq.opens_at_us = 0;
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), -1);
    assert_err_has("must both be set");

    char *docs[] = {"business_licence", "site plan"};
    rq = s_call();
    rq.required_documents = docs;
    rq.n_required_documents = 2;
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `required_documents` contains ' '");
    assert_err_has("entry 2");
    docs[1] = "business_licence";
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), -1);
    assert_err_has("names \"business_licence\" twice");

    Ccip__Intake__OrganisationType types[] = {CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE,
                                              CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE};
    rq = s_call();
    rq.eligible_types = types;
    rq.n_eligible_types = 1;
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), 0);
    rq.n_eligible_types = 2;
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), -1);
    assert_err_has("names ENTERPRISE twice");

    /* Special funds need a programme and a maximum; others have neither. */
    rq = s_call();
    rq.kind = CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT;
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `fund_programme_code` is empty");
    rq.fund_programme_code = "CCI-2027";
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `max_request_fen` must be positive");
    rq.max_request_fen = 500000000;
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), 0);
    rq.kind = CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION;
    assert_int_equal(intake_validate_open_call(&rq, s_err, sizeof s_err), -1);
    assert_err_has("only for SPECIAL_FUND_PROJECT calls; leave it empty for "
                   "TALENT_BASE_IDENTIFICATION");
}

static Ccip__Intake__RegisterOrganisationRequest s_org(void)
{
    Ccip__Intake__RegisterOrganisationRequest rq =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    rq.uscc = "91110105MA01ABCD26";
    rq.name = "北京文化创意有限公司";
    rq.type = CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE;
    rq.district = "朝阳区";
    rq.legal_representative = "王芳";
    rq.contact_name = "李明";
    rq.contact_phone = "(010) 6512-3456";
    return rq;
}

static void test_organisation(void **state)
{
    (void)state;
    Ccip__Intake__RegisterOrganisationRequest rq = s_org();
    assert_int_equal(intake_validate_organisation(&rq, s_err, sizeof s_err), 0);
    const char *good = rq.uscc;

    rq.uscc = "";
    assert_int_equal(intake_validate_organisation(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `uscc` is empty");
    rq.uscc = "91110105ma01abcd2x";
    assert_int_equal(intake_validate_organisation(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `uscc`: unified social credit code has a lowercase");
    rq.uscc = "9111010";
    assert_int_equal(intake_validate_organisation(&rq, s_err, sizeof s_err), -1);
    assert_err_has("must be 18 characters, got 7");
    rq = s_org();
    rq.uscc = (char *)good;
    rq.district = "Pudong";
    assert_int_equal(intake_validate_organisation(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `district`: district must be one of Beijing's 16 districts");
    rq.district = "haidian";
    assert_int_equal(intake_validate_organisation(&rq, s_err, sizeof s_err), 0);
    rq.name = "Bad \xff name";
    assert_int_equal(intake_validate_organisation(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `name` is not valid UTF-8 at byte 5");
    rq.name = "Name";
    rq.type = 0;
    assert_int_equal(intake_validate_organisation(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `type` is not set");
    rq.type = CCIP__INTAKE__ORGANISATION_TYPE__INSTITUTION;
    rq.legal_representative = "";
    assert_int_equal(intake_validate_organisation(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `legal_representative` is empty");
    rq.legal_representative = "王芳";
    rq.contact_phone = "ask at the desk";
    assert_int_equal(intake_validate_organisation(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `contact_phone` contains 'a'");
    rq.contact_phone = "110";
    assert_int_equal(intake_validate_organisation(&rq, s_err, sizeof s_err), -1);
    assert_err_has("has 3 digits");
    rq.contact_phone = "+86 10 6512 3456";
    rq.contact_email = "office.example.cn";
    assert_int_equal(intake_validate_organisation(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `contact_email` is not an e-mail address");
    rq.contact_email = "office@example.cn";
    assert_int_equal(intake_validate_organisation(&rq, s_err, sizeof s_err), 0);
    rq.address = "Line one\nline two";
    assert_int_equal(intake_validate_organisation(&rq, s_err, sizeof s_err), -1);
    assert_err_has("field `address` contains a control character");
}

static void test_content(void **state)
{
    (void)state;
    Ccip__Intake__ApplicationContent c = CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    const Ccip__Intake__CallKind cluster = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    const Ccip__Intake__CallKind fund = CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT;
    assert_int_equal(intake_validate_content(NULL, cluster, 0, s_err, sizeof s_err), -1);
    assert_err_has("field `content` is missing");
    assert_int_equal(intake_validate_content(&c, cluster, 0, s_err, sizeof s_err), -1);
    assert_err_has("field `title` is empty; give 1 to 200 characters");
    c.title = "Lantern Street";
    c.summary = "Two lines\n\tindented";
    assert_int_equal(intake_validate_content(&c, cluster, 0, s_err, sizeof s_err), 0);
    c.summary = "carriage\rreturn";
    assert_int_equal(intake_validate_content(&c, cluster, 0, s_err, sizeof s_err), -1);
    assert_err_has("field `summary` contains a control character at character 9");
    c.summary = "";
    char long_title[INTAKE_TITLE_MAX + 2];
    memset(long_title, 'x', sizeof long_title - 1);
    long_title[sizeof long_title - 1] = '\0';
    c.title = long_title;
    assert_int_equal(intake_validate_content(&c, cluster, 0, s_err, sizeof s_err), -1);
    assert_err_has("must be 1 to 200 characters, got 201");
    c.title = "Lantern Street";
    c.district = "Xicheng District";
    assert_int_equal(intake_validate_content(&c, cluster, 0, s_err, sizeof s_err), -1);
    assert_err_has("or leave it empty for the organisation's own district");
    c.district = "";

    /* Money. */
    c.requested_fen = 1;
    assert_int_equal(intake_validate_content(&c, cluster, 0, s_err, sizeof s_err), -1);
    assert_err_has("only for SPECIAL_FUND_PROJECT calls; leave it 0 for CLUSTER_IDENTIFICATION");
    c.requested_fen = 50000001;
    assert_int_equal(intake_validate_content(&c, fund, 50000000, s_err, sizeof s_err), -1);
    assert_err_has("must be at most 50000000 (the call's maximum, 500000.00 yuan), got 50000001 "
                   "(500000.01 yuan)");
    c.requested_fen = INT64_MIN;
    assert_int_equal(intake_validate_content(&c, fund, 50000000, s_err, sizeof s_err), -1);
    assert_err_has("must be positive");
    c.requested_fen = 50000000;
    assert_int_equal(intake_validate_content(&c, fund, 50000000, s_err, sizeof s_err), 0);

    /* Facts of the call's kind only, no negative numbers. */
    Ccip__Intake__ClusterFacts cf = CCIP__INTAKE__CLUSTER_FACTS__INIT;
    c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
    c.cluster = &cf;
    assert_int_equal(intake_validate_content(&c, fund, 50000000, s_err, sizeof s_err), -1);
    assert_err_has("the call is SPECIAL_FUND_PROJECT, so its facts go in field `project`, not "
                   "`cluster`");
    c.requested_fen = 0;
    assert_int_equal(intake_validate_content(&c, cluster, 0, s_err, sizeof s_err), 0);
    cf.employee_count = -3;
    assert_int_equal(intake_validate_content(&c, cluster, 0, s_err, sizeof s_err), -1);
    assert_err_has("must not be negative, got 0 and -3");

    Ccip__Intake__BudgetLine line = CCIP__INTAKE__BUDGET_LINE__INIT;
    Ccip__Intake__BudgetLine *lines[] = {&line};
    Ccip__Intake__ProjectFacts pf = CCIP__INTAKE__PROJECT_FACTS__INIT;
    pf.budget_lines = lines;
    pf.n_budget_lines = 1;
    c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT;
    c.project = &pf;
    assert_int_equal(intake_validate_content(&c, fund, 100, s_err, sizeof s_err), -1);
    assert_err_has("field `project.budget_lines[0].item` is empty");
    line.item = "Equipment";
    assert_int_equal(intake_validate_content(&c, fund, 100, s_err, sizeof s_err), -1);
    assert_err_has("field `project.budget_lines[0].amount_fen` must be positive");
    line.amount_fen = 100;
    assert_int_equal(intake_validate_content(&c, fund, 100, s_err, sizeof s_err), 0);

    Ccip__Intake__TrainingProgramme p = CCIP__INTAKE__TRAINING_PROGRAMME__INIT;
    Ccip__Intake__TrainingProgramme *ps[] = {&p};
    Ccip__Intake__TalentBaseFacts tf = CCIP__INTAKE__TALENT_BASE_FACTS__INIT;
    tf.programmes = ps;
    tf.n_programmes = 1;
    c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE;
    c.talent_base = &tf;
    const Ccip__Intake__CallKind base = CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION;
    assert_int_equal(intake_validate_content(&c, base, 0, s_err, sizeof s_err), -1);
    assert_err_has("field `talent_base.programmes[0].name` is empty");
    p.name = "Animation";
    p.capacity = -1;
    assert_int_equal(intake_validate_content(&c, base, 0, s_err, sizeof s_err), -1);
    assert_err_has("`talent_base.programmes[0].capacity` must not be negative");
    p.capacity = 40;
    assert_int_equal(intake_validate_content(&c, base, 0, s_err, sizeof s_err), 0);
}

static void test_document(void **state)
{
    (void)state;
    uint8_t data[16] = {1};
    Ccip__Intake__AddDocumentRequest rq = CCIP__INTAKE__ADD_DOCUMENT_REQUEST__INIT;
    rq.doc_type = "business_licence";
    rq.name = "营业执照.pdf";
    rq.media_type = "application/pdf";
    rq.content.data = data;
    rq.content.len = sizeof data;
    assert_int_equal(intake_validate_document(&rq, 16, 0, s_err, sizeof s_err), 0);
    assert_int_equal(intake_validate_document(&rq, 15, 0, s_err, sizeof s_err), -1);
    assert_err_has("field `content` of document \"营业执照.pdf\" is 16 bytes; at most 15 are "
                   "accepted (intake.max_document_bytes); compress or split the file");
    assert_int_equal(intake_validate_document(&rq, 15, 1, s_err, sizeof s_err), -1);
    assert_err_has("limits.max_message_bytes");
    rq.content.len = 0;
    assert_int_equal(intake_validate_document(&rq, 16, 0, s_err, sizeof s_err), -1);
    assert_err_has("is empty; send the file");
    rq.content.len = 1;
    rq.name = "../etc/passwd";
    assert_int_equal(intake_validate_document(&rq, 16, 0, s_err, sizeof s_err), -1);
    assert_err_has("without '/'");
    rq.name = "plan.pdf";
    rq.media_type = "PDF";
    assert_int_equal(intake_validate_document(&rq, 16, 0, s_err, sizeof s_err), -1);
    assert_err_has("field `media_type` must be a media type");
    rq.media_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    assert_int_equal(intake_validate_document(&rq, 16, 0, s_err, sizeof s_err), 0);
    rq.doc_type = "";
    assert_int_equal(intake_validate_document(&rq, 16, 0, s_err, sizeof s_err), -1);
    assert_err_has("field `doc_type` must not be empty");
}

static void test_reason(void **state)
{
    (void)state;
    assert_int_equal(intake_validate_reason("", 0, "why", s_err, sizeof s_err), 0);
    assert_int_equal(
        intake_validate_reason("", 1, "what the applicant must correct", s_err, sizeof s_err), -1);
    assert_err_has("field `reason` is empty; say what the applicant must correct");
    assert_int_equal(
        intake_validate_reason("page 3:\n\tsignature missing", 1, "x", s_err, sizeof s_err), 0);
    char *long_reason = malloc(INTAKE_REASON_MAX + 2);
    memset(long_reason, 'r', INTAKE_REASON_MAX + 1);
    long_reason[INTAKE_REASON_MAX + 1] = '\0';
    assert_int_equal(intake_validate_reason(long_reason, 1, "x", s_err, sizeof s_err), -1);
    assert_err_has("at most 2000 characters, got 2001");
    free(long_reason);
}

static void test_incomplete(void **state)
{
    (void)state;
    char out[400];
    Ccip__Intake__ApplicationContent c = CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    c.title = "T";
    const Ccip__Intake__CallKind fund = CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT;
    assert_int_equal(intake_incomplete(&c, fund, out, sizeof out), 3);
    assert_string_equal(out, "field `summary` is empty; field `requested_fen` must be positive; "
                             "field `project.budget_lines` names no budget line");
    Ccip__Intake__BudgetLine line = CCIP__INTAKE__BUDGET_LINE__INIT;
    Ccip__Intake__BudgetLine *lines[] = {&line};
    Ccip__Intake__ProjectFacts pf = CCIP__INTAKE__PROJECT_FACTS__INIT;
    pf.budget_lines = lines;
    pf.n_budget_lines = 1;
    c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT;
    c.project = &pf;
    c.summary = "S";
    c.requested_fen = 5;
    assert_int_equal(intake_incomplete(&c, fund, out, sizeof out), 0);
    assert_string_equal(out, "");

    const Ccip__Intake__CallKind cluster = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS__NOT_SET;
    c.requested_fen = 0;
    assert_int_equal(intake_incomplete(&c, cluster, NULL, 0), 1);
    Ccip__Intake__ClusterFacts cf = CCIP__INTAKE__CLUSTER_FACTS__INIT;
    c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
    c.cluster = &cf;
    assert_int_equal(intake_incomplete(&c, cluster, out, sizeof out), 5);
    assert_non_null(strstr(out, "field `cluster.lead_operator` is empty"));
    /* A short buffer is cut, the count stays right. */
    assert_int_equal(intake_incomplete(&c, cluster, out, 10), 5);
    assert_int_equal(strlen(out), 9);
}

static void test_clip(void **state)
{
    (void)state;
    char out[16];
    assert_string_equal(ccip_text_shown("short", 10, out, sizeof out), "short");
    assert_string_equal(ccip_text_shown(NULL, 10, out, sizeof out), "");
    assert_string_equal(ccip_text_shown("abcdefghij", 4, out, sizeof out), "abcd...");
    /* "文化创意" is four 3-byte characters: never cut inside one. */
    assert_string_equal(ccip_text_shown("文化创意", 7, out, sizeof out), "文化...");
    assert_string_equal(ccip_text_shown("文化创意", 6, out, sizeof out), "文化...");
    assert_string_equal(ccip_text_shown("文化创意", 12, out, sizeof out), "文化创意");
    assert_string_equal(ccip_text_shown("a\xF0\x9F\x98\x80"
                                        "b",
                                        3, out, sizeof out),
                        "a...");
    assert_int_equal(ccip_utf8_boundary("ab\xE6\x96", 4), 2);
    assert_int_equal(ccip_utf8_boundary("ab\xE6\x96\x87", 5), 5);
    assert_int_equal(ccip_utf8_boundary("ab", 2), 2);
    assert_int_equal(ccip_utf8_boundary("\x80\x80", 2), 2); /* not UTF-8: left alone */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid),         cmocka_unit_test(test_open_call),
        cmocka_unit_test(test_organisation), cmocka_unit_test(test_content),
        cmocka_unit_test(test_document),     cmocka_unit_test(test_reason),
        cmocka_unit_test(test_incomplete),   cmocka_unit_test(test_clip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
