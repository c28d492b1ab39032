/* stats_quarter: quarters written "2026Q3", in Beijing time (UTC+8). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ccip_id.h"
#include "stats_quarter.h"

static void s_fmt(stats_quarter q, char *buf)
{
    stats_quarter_format(q, buf, STATS_QUARTER_STRLEN + 1);
}

static void test_parse_valid(void **state)
{
    (void)state;
    stats_quarter q;
    char err[200];
    assert_int_equal(stats_quarter_parse("quarter", "2026Q3", &q, err, sizeof err), 0);
    assert_int_equal(q.year, 2026);
    assert_int_equal(q.quarter, 3);
    assert_int_equal(stats_quarter_parse("quarter", "2000Q1", &q, err, sizeof err), 0);
    assert_int_equal(stats_quarter_parse("quarter", "2199Q4", &q, err, sizeof err), 0);
    char buf[8];
    s_fmt(q, buf);
    assert_string_equal(buf, "2199Q4");
}

/* Anything else is refused with a sentence naming the field and the form. */
static void test_parse_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {"2026q3",  "2026Q0",  "2026Q5", "2026-3", "26Q3",  "2026Q3 ",
                                      " 2026Q3", "2026Q34", "",       "abcdQ1", "2026Q", "Q3"};
    stats_quarter q = {1, 1};
    char err[200];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(stats_quarter_parse("quarter", bad[i], &q, err, sizeof err), -1);
        assert_non_null(strstr(err, "`quarter`"));
        assert_non_null(strstr(err, "2026Q3"));
    }
    assert_int_equal(q.year, 1); /* untouched */
    assert_int_equal(stats_quarter_parse("effective_from", "1999Q4", &q, err, sizeof err), -1);
    assert_non_null(strstr(err, "from 2000 to 2199"));
    assert_int_equal(stats_quarter_parse("quarter", NULL, &q, err, sizeof err), -1);
    assert_non_null(strstr(err, "missing"));
}

static void test_add_and_compare(void **state)
{
    (void)state;
    stats_quarter q = {2026, 1}, r;
    char buf[8];
    r = stats_quarter_add(q, -1);
    s_fmt(r, buf);
    assert_string_equal(buf, "2025Q4");
    r = stats_quarter_add(q, -4);
    s_fmt(r, buf);
    assert_string_equal(buf, "2025Q1");
    r = stats_quarter_add(q, 7);
    s_fmt(r, buf);
    assert_string_equal(buf, "2027Q4");
    assert_int_equal(stats_quarter_diff(q, r), 7);
    assert_true(stats_quarter_cmp(q, r) < 0);
    assert_true(stats_quarter_cmp(r, q) > 0);
    assert_int_equal(stats_quarter_cmp(q, q), 0);
}

/* 2026Q3 is 2026-07-01T00:00+08:00 up to 2026-10-01T00:00+08:00. */
static void test_bounds_in_beijing_time(void **state)
{
    (void)state;
    stats_quarter q = {2026, 3};
    int64_t start, end;
    assert_int_equal(ccip_time_parse_us("2026-07-01T00:00:00+08:00", &start), 0);
    assert_int_equal(ccip_time_parse_us("2026-10-01T00:00:00+08:00", &end), 0);
    assert_true(stats_quarter_start_us(q) == start);
    assert_true(stats_quarter_end_us(q) == end);
    stats_quarter q4 = {2026, 4};
    int64_t ny;
    assert_int_equal(ccip_time_parse_us("2027-01-01T00:00:00+08:00", &ny), 0);
    assert_true(stats_quarter_end_us(q4) == ny);
}

static void test_of_time(void **state)
{
    (void)state;
    int64_t t;
    char buf[8];
    /* 2026-06-30T20:00Z is already 1 July in Beijing. */
    assert_int_equal(ccip_time_parse_us("2026-06-30T20:00:00Z", &t), 0);
    s_fmt(stats_quarter_of_us(t), buf);
    assert_string_equal(buf, "2026Q3");
    assert_int_equal(ccip_time_parse_us("2026-06-30T15:59:59.999999Z", &t), 0);
    s_fmt(stats_quarter_of_us(t), buf);
    assert_string_equal(buf, "2026Q2");
    assert_int_equal(ccip_time_parse_us("2024-02-29T12:00:00Z", &t), 0);
    s_fmt(stats_quarter_of_us(t), buf);
    assert_string_equal(buf, "2024Q1");
    assert_int_equal(ccip_time_parse_us("2026-12-31T15:59:59Z", &t), 0);
    s_fmt(stats_quarter_of_us(t), buf);
    assert_string_equal(buf, "2026Q4");
    assert_int_equal(ccip_time_parse_us("2026-12-31T16:00:00Z", &t), 0);
    s_fmt(stats_quarter_of_us(t), buf);
    assert_string_equal(buf, "2027Q1");
    /* Every quarter's start is in it, and the instant before is not. */
    for (int y = 2000; y < 2100; y++)
        for (int k = 1; k <= 4; k++) {
            stats_quarter q = {y, k};
            stats_quarter a = stats_quarter_of_us(stats_quarter_start_us(q));
            stats_quarter b = stats_quarter_of_us(stats_quarter_start_us(q) - 1);
            assert_int_equal(stats_quarter_cmp(a, q), 0);
            assert_int_equal(stats_quarter_cmp(b, stats_quarter_add(q, -1)), 0);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),     cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_add_and_compare), cmocka_unit_test(test_bounds_in_beijing_time),
        cmocka_unit_test(test_of_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
