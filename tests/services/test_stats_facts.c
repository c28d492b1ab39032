/* stats_projections: what each event contributes to the event-derived
 * tables, decoded without a database; malformed events are skipped with a
 * reason, unrelated ones silently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ccip/intake.pb-c.h"
#include "ccip_id.h"
#include "stats_facts.h"

#define USCC_CHAOYANG "91110105MA01ABCD2X" /* characters 3-8: 110105 */

static uint8_t s_buf[4096];

static Ccip__Envelope s_event(const char *type, const ProtobufCMessage *m, uint64_t position)
{
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.type = (char *)type;
    e.position = position;
    e.occurred_at_us = 1784073600000000LL; /* 2026-07-15T00:00:00Z */
    e.payload.data = s_buf;
    e.payload.len = m ? protobuf_c_message_pack(m, s_buf) : 0;
    return e;
}

static void test_uscc_district(void **state)
{
    (void)state;
    char d[8];
    stats_uscc_district(USCC_CHAOYANG, d);
    assert_string_equal(d, "110105");
    stats_uscc_district("91310105MA01ABCD2X", d); /* Shanghai */
    assert_string_equal(d, "");
    stats_uscc_district("short", d);
    assert_string_equal(d, "");
    stats_uscc_district(NULL, d);
    assert_string_equal(d, "");
}

static void test_submitted(void **state)
{
    (void)state;
    Ccip__Intake__ApplicationSubmitted m = CCIP__INTAKE__APPLICATION_SUBMITTED__INIT;
    m.application_id = "0193aaaa-0000-7000-8000-000000000001";
    m.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    m.applicant_uscc = USCC_CHAOYANG;
    int64_t at;
    assert_int_equal(ccip_time_parse_us("2026-09-30T23:00:00+08:00", &at), 0);
    m.submitted_at_us = at;
    Ccip__Envelope e = s_event("intake.application.submitted.v1", &m.base, 7);
    stats_fact f;
    char why[300];
    assert_int_equal(stats_fact_from_event(&e, &f, why, sizeof why), 1);
    assert_int_equal(f.kind, STATS_FACT_SUBMITTED);
    assert_string_equal(f.id, m.application_id);
    assert_string_equal(f.ref, USCC_CHAOYANG);
    assert_string_equal(f.type, "CLUSTER_IDENTIFICATION");
    assert_string_equal(f.ud, "110105");
    assert_string_equal(f.quarter, "2026Q3"); /* Beijing time decides */
    assert_true(f.at_us == at);
    assert_int_equal(f.position, 7);
}

static void test_accepted_takes_the_named_district(void **state)
{
    (void)state;
    Ccip__Intake__Organisation o = CCIP__INTAKE__ORGANISATION__INIT;
    o.uscc = USCC_CHAOYANG;
    Ccip__Intake__ApplicationAccepted m = CCIP__INTAKE__APPLICATION_ACCEPTED__INIT;
    m.application_id = "0193aaaa-0000-7000-8000-000000000002";
    m.kind = CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION;
    m.applicant = &o;
    m.district_code = "110108";
    int64_t at;
    assert_int_equal(ccip_time_parse_us("2026-10-01T00:00:00+08:00", &at), 0);
    m.accepted_at_us = at;
    Ccip__Envelope e = s_event("intake.application.accepted.v1", &m.base, 8);
    stats_fact f;
    char why[300];
    assert_int_equal(stats_fact_from_event(&e, &f, why, sizeof why), 1);
    assert_int_equal(f.kind, STATS_FACT_ACCEPTED);
    assert_string_equal(f.district, "110108");
    assert_string_equal(f.ud, "110105");
    assert_string_equal(f.type, "TALENT_BASE_IDENTIFICATION");
    assert_string_equal(f.quarter, "2026Q4");
}

static void test_organisation(void **state)
{
    (void)state;
    Ccip__Intake__Organisation o = CCIP__INTAKE__ORGANISATION__INIT;
    o.uscc = USCC_CHAOYANG;
    o.district_code = "110101";
    Ccip__Intake__OrganisationRegistered m = CCIP__INTAKE__ORGANISATION_REGISTERED__INIT;
    m.organisation = &o;
    Ccip__Envelope e = s_event("intake.organisation.registered.v1", &m.base, 3);
    stats_fact f;
    char why[300];
    assert_int_equal(stats_fact_from_event(&e, &f, why, sizeof why), 1);
    assert_int_equal(f.kind, STATS_FACT_ORG);
    assert_string_equal(f.id, USCC_CHAOYANG);
    assert_string_equal(f.district, "110101");
    assert_string_equal(f.quarter, "2026Q3"); /* registered_at 0: the envelope's time */
}

/* Unrelated types give no fact and no complaint; malformed ones a reason. */
static void test_skipped(void **state)
{
    (void)state;
    stats_fact f;
    char why[300];
    Ccip__Envelope e = s_event("intake.call.opened.v1", NULL, 1);
    assert_int_equal(stats_fact_from_event(&e, &f, why, sizeof why), 0);
    assert_string_equal(why, "");
    e = s_event("intake.application.submitted.v1", NULL, 2);
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    e.payload.data = (uint8_t *)junk;
    e.payload.len = sizeof junk;
    assert_int_equal(stats_fact_from_event(&e, &f, why, sizeof why), 0);
    assert_non_null(strstr(why, "could not decode"));
    Ccip__Intake__ApplicationSubmitted m = CCIP__INTAKE__APPLICATION_SUBMITTED__INIT;
    e = s_event("intake.application.submitted.v1", &m.base, 3); /* no id */
    assert_int_equal(stats_fact_from_event(&e, &f, why, sizeof why), 0);
    assert_non_null(strstr(why, "application id"));
    assert_int_equal(f.kind, STATS_FACT_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uscc_district),
        cmocka_unit_test(test_submitted),
        cmocka_unit_test(test_accepted_takes_the_named_district),
        cmocka_unit_test(test_organisation),
        cmocka_unit_test(test_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
