/* followup_rules: Beijing days and months, what "by 30 June" means, when a
 * monthly report is due, timeliness, board states, units and amounts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "ccip_id.h"
#include "followup_rules.h"

#define DAY_US FOLLOWUP_DAY_US

/* UTC microseconds of an RFC 3339 time. */
static int64_t s_us(const char *rfc3339)
{
    int64_t us = 0;
    assert_int_equal(ccip_time_parse_us(rfc3339, &us), 0);
    return us;
}

static followup_day s_day(const char *s)
{
    followup_day d;
    assert_int_equal(followup_day_parse("day", s, &d, NULL, 0), 0);
    return d;
}

static void test_day_parse(void **state)
{
    (void)state;
    followup_day d;
    char err[200], buf[16];
    assert_int_equal(followup_day_parse("deadline", "2027-06-30", &d, err, sizeof err), 0);
    assert_int_equal(d.year, 2027);
    assert_int_equal(d.month, 6);
    assert_int_equal(d.day, 30);
    followup_day_format(d, buf, sizeof buf);
    assert_string_equal(buf, "2027-06-30");
    assert_int_equal(followup_day_parse("deadline", "2028-02-29", &d, err, sizeof err), 0);
    static const char *const bad[] = {"2027-02-29",  "2027-13-01", "2027-00-10", "2027-06-31",
                                      "27-06-30",    "2027/06/30", "2027-6-30",  " 2027-06-30",
                                      "2027-06-30Z", "1999-12-31", "2101-01-01", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(followup_day_parse("deadline", bad[i], &d, err, sizeof err), -1);
        assert_non_null(strstr(err, "field `deadline`"));
    }
    assert_int_equal(followup_day_parse("deadline", NULL, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "is missing"));
}

/* Every day of the range goes to its number and back. */
static void test_day_numbers(void **state)
{
    (void)state;
    followup_day first = {FOLLOWUP_YEAR_MIN, 1, 1};
    int64_t n0 = followup_day_number(first);
    assert_int_equal(followup_day_number(s_day("2000-01-01")), 10957); /* days since 1970 */
    followup_day prev = first;
    for (int64_t n = n0; n < n0 + 101 * 366; n++) {
        followup_day d = followup_day_from_number(n);
        assert_int_equal(followup_day_number(d), n);
        if (n > n0)
            assert_int_equal(followup_day_cmp(prev, d), -1);
        prev = d;
    }
    assert_int_equal(followup_day_cmp(s_day("2027-06-30"), s_day("2027-06-30")), 0);
}

/* "By 30 June" is due before the end of 30 June in Beijing: 16:00 UTC. */
static void test_deadline_is_end_of_beijing_day(void **state)
{
    (void)state;
    followup_day june30 = s_day("2027-06-30");
    assert_int_equal(followup_day_end_us(june30), s_us("2027-06-30T16:00:00Z"));
    assert_int_equal(followup_day_end_us(june30), s_us("2027-07-01T00:00:00+08:00"));
    assert_int_equal(followup_day_start_us(june30), s_us("2027-06-29T16:00:00Z"));
    /* the Beijing day of an instant */
    char buf[16];
    followup_day_format(followup_day_of_us(s_us("2027-06-30T15:59:59.999999Z")), buf, sizeof buf);
    assert_string_equal(buf, "2027-06-30");
    followup_day_format(followup_day_of_us(s_us("2027-06-30T16:00:00Z")), buf, sizeof buf);
    assert_string_equal(buf, "2027-07-01");
    followup_day_format(followup_day_of_us(s_us("2027-06-29T16:00:00Z")), buf, sizeof buf);
    assert_string_equal(buf, "2027-06-30");
    /* before 1970 too (floor, not truncation) */
    followup_day_format(followup_day_of_us(-1), buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01");
    followup_day_format(followup_day_of_us(-8 * 3600LL * 1000000 - 1), buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31");
}

static void test_beijing_text_and_week(void **state)
{
    (void)state;
    char buf[32];
    followup_beijing_text(s_us("2027-06-30T15:59:30Z"), buf, sizeof buf);
    assert_string_equal(buf, "2027-06-30 23:59 Beijing");
    followup_beijing_text(s_us("2027-06-30T16:00:00Z"), buf, sizeof buf);
    assert_string_equal(buf, "2027-07-01 00:00 Beijing");
    static const struct {
        const char *at, *week;
    } weeks[] = {
        {"2027-01-01T04:00:00Z", "2026-W53"},
        {"2026-12-28T04:00:00Z", "2026-W53"},
        {"2027-01-04T04:00:00Z", "2027-W01"},
        {"2021-01-03T04:00:00Z", "2020-W53"},
        {"2024-12-30T04:00:00Z", "2025-W01"},
        {"2027-06-30T04:00:00Z", "2027-W26"},
        /* Monday 2027-01-04 begins at 16:00 UTC on Sunday the 3rd */
        {"2027-01-03T15:59:59Z", "2026-W53"},
        {"2027-01-03T16:00:00Z", "2027-W01"},
    };
    for (size_t i = 0; i < sizeof weeks / sizeof weeks[0]; i++) {
        followup_iso_week(s_us(weeks[i].at), buf, sizeof buf);
        assert_string_equal(buf, weeks[i].week);
    }
}

static void test_months_and_report_due(void **state)
{
    (void)state;
    followup_month m;
    char err[200], buf[16];
    assert_int_equal(followup_month_parse("month", "2027-12", &m, err, sizeof err), 0);
    followup_month_format(followup_month_next(m), buf, sizeof buf);
    assert_string_equal(buf, "2028-01");
    static const char *const bad[] = {"2027-13", "2027-00", "2027-6", "2027/06", "202706", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(followup_month_parse("month", bad[i], &m, err, sizeof err), -1);
    /* June's report is due by the end of 10 July in Beijing */
    followup_month_parse("month", "2027-06", &m, NULL, 0);
    assert_int_equal(followup_month_report_due_us(m, 10), s_us("2027-07-10T16:00:00Z"));
    /* December's by 10 January; due days outside 1..28 are clamped */
    followup_month_parse("month", "2027-12", &m, NULL, 0);
    assert_int_equal(followup_month_report_due_us(m, 10), s_us("2028-01-10T16:00:00Z"));
    assert_int_equal(followup_month_report_due_us(m, 31), s_us("2028-01-28T16:00:00Z"));
    assert_int_equal(followup_month_report_due_us(m, 0), s_us("2028-01-01T16:00:00Z"));
    /* a project registered on 20 July 2027 reports from July on: June's
     * report was due before it existed */
    followup_month first, last, out;
    followup_month_parse("", "2027-03", &first, NULL, 0);
    followup_month_parse("", "2027-12", &last, NULL, 0);
    assert_int_equal(
        followup_month_first_due_after(first, last, 10, s_us("2027-07-20T04:00:00Z"), &out), 0);
    followup_month_format(out, buf, sizeof buf);
    assert_string_equal(buf, "2027-07");
    /* on 10 July at 23:59 Beijing June is still due after now */
    assert_int_equal(
        followup_month_first_due_after(first, last, 10, s_us("2027-07-10T15:59:00Z"), &out), 0);
    followup_month_format(out, buf, sizeof buf);
    assert_string_equal(buf, "2027-06");
    /* a period whose every report is already due: none */
    assert_int_equal(
        followup_month_first_due_after(first, last, 10, s_us("2028-02-01T00:00:00Z"), &out), -1);
}

static void test_timeliness(void **state)
{
    (void)state;
    int64_t end = followup_day_end_us(s_day("2027-06-30"));
    assert_int_equal(followup_task_timeliness(end, end - 1, 0), FOLLOWUP_DUE_SOON);
    assert_int_equal(followup_task_timeliness(end, end, 0), FOLLOWUP_OVERDUE);
    assert_int_equal(followup_task_timeliness(end, end + DAY_US, 0), FOLLOWUP_OVERDUE);
    assert_int_equal(followup_task_timeliness(end, end - 7 * DAY_US, 0), FOLLOWUP_DUE_SOON);
    assert_int_equal(followup_task_timeliness(end, end - 7 * DAY_US - 1, 0), FOLLOWUP_ON_TIME);
    /* completion reported: judged when it was reported */
    assert_int_equal(followup_task_timeliness(end, end + 30 * DAY_US, end - 1), FOLLOWUP_ON_TIME);
    assert_int_equal(followup_task_timeliness(end, end + 30 * DAY_US, end), FOLLOWUP_OVERDUE);
    /* the next progress report: the end of the day interval days later,
     * counted in Beijing days (00:30 on 1 July Beijing is 1 July) */
    assert_int_equal(followup_report_due_us(s_us("2027-06-30T16:30:00Z"), 7),
                     s_us("2027-07-08T16:00:00Z"));
    assert_int_equal(followup_report_due_us(s_us("2027-06-30T15:30:00Z"), 7),
                     s_us("2027-07-07T16:00:00Z"));
    assert_int_equal(followup_report_due_us(s_us("2027-06-30T15:30:00Z"), 0), 0);
}

static void test_units(void **state)
{
    (void)state;
    char err[300];
    static const char *const lead_ok[] = {"center", "district:110105", "district:110108",
                                          "person:zhang.wei", "person:li@office-1"};
    for (size_t i = 0; i < sizeof lead_ok / sizeof lead_ok[0]; i++) {
        assert_int_equal(followup_unit_check("lead_unit", lead_ok[i], 1, err, sizeof err), 0);
        assert_int_equal(followup_unit_check("co_organisers", lead_ok[i], 0, err, sizeof err), 0);
    }
    assert_int_equal(followup_unit_check("co_organisers", "center:planning", 0, err, sizeof err),
                     0);
    assert_int_equal(followup_unit_check("lead_unit", "center:planning", 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"center\""));
    static const char *const bad[] = {
        "",           "office",  "district:999999", "district:Chaoyang", "district:", "person:",
        "person:a b", "center:", "CENTER"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(followup_unit_check("lead_unit", bad[i], 0, err, sizeof err), -1);
        assert_non_null(strstr(err, "field `lead_unit`"));
    }
    assert_int_equal(followup_unit_check("lead_unit", NULL, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "missing"));
}

/* Amounts are non-negative and at most 10^14 fen, so sums cannot overflow. */
static void test_amounts(void **state)
{
    (void)state;
    char err[300];
    assert_int_equal(followup_fen_check("planned_investment_fen", 0, err, sizeof err), 0);
    assert_int_equal(
        followup_fen_check("planned_investment_fen", FOLLOWUP_FEN_MAX, err, sizeof err), 0);
    assert_int_equal(
        followup_fen_check("planned_investment_fen", FOLLOWUP_FEN_MAX + 1, err, sizeof err), -1);
    assert_int_equal(followup_fen_check("planned_investment_fen", INT64_MAX, err, sizeof err), -1);
    assert_int_equal(followup_fen_check("planned_investment_fen", -5, err, sizeof err), -1);
    assert_string_equal(err, "field `planned_investment_fen` must be 0 to 100000000000000 fen (one "
                             "trillion yuan), got -5");
    /* the promise the limit makes: 92,233 largest amounts add up in int64 */
    int64_t sum = 0;
    for (int i = 0; i < 92233; i++)
        assert_int_equal(ccip_fen_add(sum, FOLLOWUP_FEN_MAX, &sum), 0);
}

static void test_board_state(void **state)
{
    (void)state;
    followup_project_facts f = {0};
    assert_int_equal(followup_project_state(&f), FOLLOWUP_ON_TRACK);
    f.milestones_at_risk = 1;
    assert_int_equal(followup_project_state(&f), FOLLOWUP_AT_RISK);
    f.milestones_late = 1;
    assert_int_equal(followup_project_state(&f), FOLLOWUP_LATE);
    /* each of the funding and designation facts alone makes it at risk */
    for (int k = 0; k < 4; k++) {
        followup_project_facts g = {0};
        int *fact[] = {&g.award_suspended, &g.award_terminated, &g.clawbacks_open,
                       &g.designation_revoked};
        *fact[k] = 1;
        assert_int_equal(followup_project_state(&g), FOLLOWUP_AT_RISK);
        g.milestones_late = 2;
        assert_int_equal(followup_project_state(&g), FOLLOWUP_LATE);
    }
}

static void test_milestone_within_period(void **state)
{
    (void)state;
    char err[300];
    followup_day start = s_day("2027-03-01"), end = s_day("2027-12-31");
    assert_int_equal(followup_milestone_check("planned_date", start, start, end, err, sizeof err),
                     0);
    assert_int_equal(followup_milestone_check("planned_date", end, start, end, err, sizeof err), 0);
    assert_int_equal(
        followup_milestone_check("planned_date", s_day("2028-01-01"), start, end, err, sizeof err),
        -1);
    assert_string_equal(err, "field `planned_date` 2028-01-01 lies outside the project's period "
                             "2027-03-01 to 2027-12-31; give a day within it");
    assert_int_equal(
        followup_milestone_check("planned_date", s_day("2027-02-28"), start, end, err, sizeof err),
        -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_day_parse),
        cmocka_unit_test(test_day_numbers),
        cmocka_unit_test(test_deadline_is_end_of_beijing_day),
        cmocka_unit_test(test_beijing_text_and_week),
        cmocka_unit_test(test_months_and_report_due),
        cmocka_unit_test(test_timeliness),
        cmocka_unit_test(test_units),
        cmocka_unit_test(test_amounts),
        cmocka_unit_test(test_board_state),
        cmocka_unit_test(test_milestone_within_period),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
