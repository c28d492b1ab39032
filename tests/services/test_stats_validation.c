/* stats_validation: each rule a quarterly report is checked against, with
 * its importance: errors block submission, warnings need an explanation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "stats_validation.h"

#define FEN     CCIP__STATS__UNIT__FEN
#define COUNT   CCIP__STATS__UNIT__COUNT
#define PERCENT CCIP__STATS__UNIT__PERCENT
#define ERROR   CCIP__STATS__IMPORTANCE__ERROR
#define WARNING CCIP__STATS__IMPORTANCE__WARNING

static const stats_indicator_def S_IND[] = {
    {"enterprises", "Enterprises", COUNT, 1, 0},
    {"operating_revenue", "Operating revenue", FEN, 1, 0},
    {"total_profit", "Total profit", FEN, 1, 1},
    {"export_value", "Export value", FEN, 0, 0},
    {"occupancy_rate", "Occupancy rate", PERCENT, 0, 0},
};
#define NIND (sizeof S_IND / sizeof S_IND[0])

static const stats_rule_def S_RULES[] = {
    {"profit_within_revenue", "total_profit", CCIP__STATS__COMPARE_OP__LESS_OR_EQUAL,
     "operating_revenue", ERROR, "total profit cannot exceed operating revenue"},
    {"exports_within_revenue", "export_value", CCIP__STATS__COMPARE_OP__LESS_OR_EQUAL,
     "operating_revenue", WARNING, "exports are usually part of operating revenue"},
};

static stats_finding s_f[32];

/* Validates values (and earlier quarters) with the catalogue above. */
static size_t s_run(const stats_value *v, size_t n, const stats_value *prev, size_t np,
                    const stats_value *yoy, size_t ny)
{
    stats_validation_input in = {.indicators = S_IND,
                                 .nindicators = NIND,
                                 .rules = S_RULES,
                                 .nrules = 2,
                                 .values = v,
                                 .nvalues = n,
                                 .previous = prev,
                                 .nprevious = np,
                                 .previous_quarter = "2026Q2",
                                 .year_ago = yoy,
                                 .nyear_ago = ny,
                                 .year_ago_quarter = "2025Q3",
                                 .change_pct = 50};
    memset(s_f, 0, sizeof s_f);
    return stats_validate(&in, s_f, 32);
}

static const stats_finding *s_find(size_t n, const char *rule, const char *indicator)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s_f[i].rule, rule) == 0 && strcmp(s_f[i].indicator, indicator) == 0)
            return &s_f[i];
    return NULL;
}

/* A clean report: every compulsory value, consistent. */
static const stats_value S_GOOD[] = {
    {"enterprises", 120, NULL},
    {"operating_revenue", 500000000, NULL},
    {"total_profit", 40000000, NULL},
};

static void test_clean_report_has_no_findings(void **state)
{
    (void)state;
    assert_int_equal(s_run(S_GOOD, 3, NULL, 0, NULL, 0), 0);
}

/* Error: a negative count. */
static void test_negative_count_is_an_error(void **state)
{
    (void)state;
    stats_value v[] = {
        {"enterprises", -3, NULL}, {"operating_revenue", 100, NULL}, {"total_profit", 10, NULL}};
    size_t n = s_run(v, 3, NULL, 0, NULL, 0);
    const stats_finding *f = s_find(n, "negative", "enterprises");
    assert_non_null(f);
    assert_int_equal(f->importance, ERROR);
    assert_non_null(strstr(f->message, "enterprises cannot be negative, got -3"));
    assert_int_equal(stats_findings_blocking(s_f, n), 1);
}

/* A loss is allowed where the catalogue says so. */
static void test_negative_profit_is_allowed(void **state)
{
    (void)state;
    stats_value v[] = {
        {"enterprises", 3, NULL}, {"operating_revenue", 100, NULL}, {"total_profit", -2500, NULL}};
    assert_int_equal(s_run(v, 3, NULL, 0, NULL, 0), 0);
}

/* Error: money below zero where it cannot be. */
static void test_negative_revenue_is_an_error(void **state)
{
    (void)state;
    stats_value v[] = {
        {"enterprises", 3, NULL}, {"operating_revenue", -100, NULL}, {"total_profit", -200, NULL}};
    size_t n = s_run(v, 3, NULL, 0, NULL, 0);
    const stats_finding *f = s_find(n, "negative", "operating_revenue");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "-1.00 yuan"));
}

/* Error: profit above revenue. */
static void test_profit_above_revenue_is_an_error(void **state)
{
    (void)state;
    stats_value v[] = {{"enterprises", 3, NULL},
                       {"operating_revenue", 100000, NULL},
                       {"total_profit", 100001, NULL}};
    size_t n = s_run(v, 3, NULL, 0, NULL, 0);
    assert_int_equal(n, 1);
    const stats_finding *f = s_find(n, "profit_within_revenue", "total_profit");
    assert_non_null(f);
    assert_int_equal(f->importance, ERROR);
    assert_non_null(strstr(f->message, "total profit cannot exceed operating revenue"));
    assert_non_null(strstr(f->message, "1000.01 yuan"));
    /* Equal is fine. */
    v[2].value = 100000;
    assert_int_equal(s_run(v, 3, NULL, 0, NULL, 0), 0);
}

/* Error: a compulsory value missing; optional ones may be. */
static void test_missing_compulsory_is_an_error(void **state)
{
    (void)state;
    stats_value v[] = {{"enterprises", 3, NULL}, {"operating_revenue", 100, NULL}};
    size_t n = s_run(v, 2, NULL, 0, NULL, 0);
    assert_int_equal(n, 1);
    const stats_finding *f = s_find(n, "compulsory", "total_profit");
    assert_non_null(f);
    assert_int_equal(f->importance, ERROR);
    assert_non_null(strstr(f->message, "Total profit"));
    assert_null(s_find(n, "compulsory", "export_value"));
}

/* Error: a percentage beyond 100 %. */
static void test_percentage_out_of_range_is_an_error(void **state)
{
    (void)state;
    stats_value v[] = {{"enterprises", 3, NULL},
                       {"operating_revenue", 100, NULL},
                       {"total_profit", 10, NULL},
                       {"occupancy_rate", 10001, NULL}};
    size_t n = s_run(v, 4, NULL, 0, NULL, 0);
    const stats_finding *f = s_find(n, "out_of_range", "occupancy_rate");
    assert_non_null(f);
    assert_non_null(strstr(f->message, "100.01 %"));
    v[3].value = 10000;
    assert_int_equal(s_run(v, 4, NULL, 0, NULL, 0), 0);
}

/* Warning rule of the catalogue: needs an explanation on the value. */
static void test_warning_rule_needs_an_explanation(void **state)
{
    (void)state;
    stats_value v[] = {{"enterprises", 3, NULL},
                       {"operating_revenue", 100, NULL},
                       {"total_profit", 10, NULL},
                       {"export_value", 150, NULL}};
    size_t n = s_run(v, 4, NULL, 0, NULL, 0);
    const stats_finding *f = s_find(n, "exports_within_revenue", "export_value");
    assert_non_null(f);
    assert_int_equal(f->importance, WARNING);
    assert_false(f->explained);
    assert_int_equal(stats_findings_blocking(s_f, n), 1);
    v[3].explanation = "re-exports of goods bought abroad";
    n = s_run(v, 4, NULL, 0, NULL, 0);
    assert_true(s_find(n, "exports_within_revenue", "export_value")->explained);
    assert_int_equal(stats_findings_blocking(s_f, n), 0);
}

/* Warning: more than change_pct (50 %) against the previous quarter. */
static void test_change_against_previous_quarter(void **state)
{
    (void)state;
    stats_value prev[] = {{"enterprises", 100, NULL}, {"operating_revenue", 400000000, NULL}};
    stats_value v[] = {{"enterprises", 150, NULL}, /* +50 %: not beyond */
                       {"operating_revenue", 600000001, NULL},
                       {"total_profit", 1, NULL}};
    size_t n = s_run(v, 3, prev, 2, NULL, 0);
    assert_int_equal(n, 1);
    const stats_finding *f = s_find(n, "change_qoq", "operating_revenue");
    assert_non_null(f);
    assert_int_equal(f->importance, WARNING);
    assert_non_null(strstr(f->message, "2026Q2"));
    assert_non_null(strstr(f->message, "4000000.00 yuan"));
    assert_int_equal(stats_findings_blocking(s_f, n), 1);
    v[1].explanation = "ok"; /* too short to explain anything */
    n = s_run(v, 3, prev, 2, NULL, 0);
    assert_int_equal(stats_findings_blocking(s_f, n), 1);
    v[1].explanation = "新园区开业"; /* five characters */
    n = s_run(v, 3, prev, 2, NULL, 0);
    assert_int_equal(stats_findings_blocking(s_f, n), 0);
    /* A fall counts too. */
    v[1].explanation = NULL;
    v[1].value = 199999999;
    n = s_run(v, 3, prev, 2, NULL, 0);
    assert_non_null(s_find(n, "change_qoq", "operating_revenue"));
}

/* Warning: more than change_pct against the same quarter a year before. */
static void test_change_against_year_before(void **state)
{
    (void)state;
    stats_value yoy[] = {{"enterprises", 10, NULL}};
    stats_value v[] = {
        {"enterprises", 30, NULL}, {"operating_revenue", 100, NULL}, {"total_profit", 1, NULL}};
    size_t n = s_run(v, 3, NULL, 0, yoy, 1);
    const stats_finding *f = s_find(n, "change_yoy", "enterprises");
    assert_non_null(f);
    assert_non_null(strstr(f ? f->message : "", "2025Q3"));
    assert_null(s_find(n, "change_qoq", "enterprises"));
}

/* No base, no comparison: a value that was 0 is not an outlier. */
static void test_change_from_zero_is_not_a_warning(void **state)
{
    (void)state;
    assert_int_equal(stats_change_exceeds(0, 1000, 50), 0);
    assert_int_equal(stats_change_exceeds(100, 150, 50), 0);
    assert_int_equal(stats_change_exceeds(100, 151, 50), 1);
    assert_int_equal(stats_change_exceeds(100, 49, 50), 1);
    assert_int_equal(stats_change_exceeds(-100, -151, 50), 1);
    assert_int_equal(stats_change_exceeds(-100, -150, 50), 0);
    /* Extremes do not overflow. */
    assert_int_equal(stats_change_exceeds(INT64_MAX, INT64_MIN, 50), 1);
    assert_int_equal(stats_change_exceeds(INT64_MIN, INT64_MIN, 1), 0);
    assert_int_equal(stats_change_exceeds(1, INT64_MAX, 100000), 1);
}

/* A value in the wrong unit is refused before it is stored, naming the
 * indicator. */
static void test_wrong_unit_names_the_indicator(void **state)
{
    (void)state;
    char err[300];
    assert_int_equal(stats_value_check("operating_revenue", &S_IND[1], COUNT, err, sizeof err), -1);
    assert_string_equal(err, "indicator `operating_revenue` is in FEN, got a value in COUNT");
    assert_int_equal(stats_value_check("enterprises", &S_IND[0], 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "`enterprises`"));
    assert_int_equal(stats_value_check("nonsense", NULL, COUNT, err, sizeof err), -1);
    assert_non_null(strstr(err, "`nonsense`"));
    assert_int_equal(stats_value_check("enterprises", &S_IND[0], COUNT, err, sizeof err), 0);
}

/* More findings than room: counted, not written past the end. */
static void test_findings_are_capped(void **state)
{
    (void)state;
    stats_validation_input in = {.indicators = S_IND, .nindicators = NIND, .change_pct = 50};
    stats_finding two[2];
    assert_int_equal(stats_validate(&in, two, 2), 3); /* three compulsory values missing */
    assert_string_equal(two[1].indicator, "operating_revenue");
    assert_int_equal(stats_validate(&in, NULL, 0), 3);
}

static void test_explained(void **state)
{
    (void)state;
    assert_false(stats_explained(NULL));
    assert_false(stats_explained(""));
    assert_false(stats_explained("  a b c d  "));
    assert_true(stats_explained("abcde"));
    assert_true(stats_explained("a b c d e"));
    assert_false(stats_explained("扩建园区")); /* four characters */
    assert_true(stats_explained("园区扩建了"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_report_has_no_findings),
        cmocka_unit_test(test_negative_count_is_an_error),
        cmocka_unit_test(test_negative_profit_is_allowed),
        cmocka_unit_test(test_negative_revenue_is_an_error),
        cmocka_unit_test(test_profit_above_revenue_is_an_error),
        cmocka_unit_test(test_missing_compulsory_is_an_error),
        cmocka_unit_test(test_percentage_out_of_range_is_an_error),
        cmocka_unit_test(test_warning_rule_needs_an_explanation),
        cmocka_unit_test(test_change_against_previous_quarter),
        cmocka_unit_test(test_change_against_year_before),
        cmocka_unit_test(test_change_from_zero_is_not_a_warning),
        cmocka_unit_test(test_wrong_unit_names_the_indicator),
        cmocka_unit_test(test_findings_are_capped),
        cmocka_unit_test(test_explained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
