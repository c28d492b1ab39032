/*
 * funding_ledger: the checks every entry passes before anything is written
 * (at least two lines, none zero, debits equal to credits, no overflow),
 * the account codes, and the normal side of each kind of account.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "funding_ledger.h"

static void test_balanced_entries_pass(void **state)
{
    (void)state;
    char err[256];
    funding_line commit[2] = {
        {.kind = FUNDING_ACC_COMMITTED, .award_id = "a", .amount_fen = 2500000},
        {.kind = FUNDING_ACC_AVAILABLE, .category = "", .amount_fen = -2500000},
    };
    assert_int_equal(funding_ledger_check(commit, 2, err, sizeof err), 0);
    /* Several debits against one credit. */
    funding_line split[3] = {
        {.kind = FUNDING_ACC_AVAILABLE, .category = "film", .amount_fen = 300},
        {.kind = FUNDING_ACC_AVAILABLE, .category = "animation", .amount_fen = 700},
        {.kind = FUNDING_ACC_AVAILABLE, .category = "", .amount_fen = -1000},
    };
    assert_int_equal(funding_ledger_check(split, 3, err, sizeof err), 0);
}

static void test_unbalanced_entries_fail(void **state)
{
    (void)state;
    char err[256];
    funding_line lines[2] = {
        {.kind = FUNDING_ACC_DISBURSED, .award_id = "a", .amount_fen = 500},
        {.kind = FUNDING_ACC_COMMITTED, .award_id = "a", .amount_fen = -400},
    };
    assert_int_equal(funding_ledger_check(lines, 2, err, sizeof err), -1);
    assert_string_equal(err, "entry does not balance: debits 500 fen, credits 400 fen");
    /* One fen off either way. */
    lines[1].amount_fen = -501;
    assert_int_equal(funding_ledger_check(lines, 2, err, sizeof err), -1);
    /* Two debits, no credit. */
    lines[1].amount_fen = 500;
    assert_int_equal(funding_ledger_check(lines, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "credits 0 fen"));
}

static void test_malformed_entries_fail(void **state)
{
    (void)state;
    char err[256];
    funding_line one[1] = {{.kind = FUNDING_ACC_AVAILABLE, .amount_fen = 0}};
    assert_int_equal(funding_ledger_check(one, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "2 to 8 lines, got 1"));
    assert_int_equal(funding_ledger_check(NULL, 0, err, sizeof err), -1);
    funding_line zero[2] = {
        {.kind = FUNDING_ACC_AVAILABLE, .amount_fen = 0},
        {.kind = FUNDING_ACC_APPROPRIATION, .amount_fen = 0},
    };
    assert_int_equal(funding_ledger_check(zero, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 1"));
    /* Amounts beyond the limit could overflow a sum: refused. */
    funding_line huge[2] = {
        {.kind = FUNDING_ACC_AVAILABLE, .amount_fen = INT64_MAX},
        {.kind = FUNDING_ACC_APPROPRIATION, .amount_fen = INT64_MIN + 1},
    };
    assert_int_equal(funding_ledger_check(huge, 2, err, sizeof err), -1);
    funding_line max[2] = {
        {.kind = FUNDING_ACC_AVAILABLE, .amount_fen = FUNDING_AMOUNT_MAX},
        {.kind = FUNDING_ACC_APPROPRIATION, .amount_fen = -FUNDING_AMOUNT_MAX},
    };
    assert_int_equal(funding_ledger_check(max, 2, err, sizeof err), 0);
    funding_line nine[FUNDING_LINES_MAX + 1];
    for (int i = 0; i <= FUNDING_LINES_MAX; i++)
        nine[i] = (funding_line){.kind = FUNDING_ACC_AVAILABLE, .amount_fen = i % 2 ? 1 : -1};
    assert_int_equal(funding_ledger_check(nine, FUNDING_LINES_MAX + 1, err, sizeof err), -1);
    /* err may be NULL when only the verdict is wanted. */
    assert_int_equal(funding_ledger_check(zero, 2, NULL, 0), -1);
}

static void test_account_codes(void **state)
{
    (void)state;
    funding_entry e = {.programme_code = "CCI-2027", .year = 2027};
    char code[FUNDING_ACCOUNT_MAX];
    funding_line l = {.kind = FUNDING_ACC_APPROPRIATION};
    assert_int_equal(funding_account_code(&e, &l, code, sizeof code), 0);
    assert_string_equal(code, "appropriation:CCI-2027:2027");
    l = (funding_line){.kind = FUNDING_ACC_AVAILABLE, .category = "animation"};
    assert_int_equal(funding_account_code(&e, &l, code, sizeof code), 0);
    assert_string_equal(code, "available:CCI-2027:2027:animation");
    l.category = NULL;
    assert_int_equal(funding_account_code(&e, &l, code, sizeof code), 0);
    assert_string_equal(code, "available:CCI-2027:2027:");
    l = (funding_line){.kind = FUNDING_ACC_CLAWED_BACK,
                       .award_id = "01936b2e-4c3a-7d21-9f0e-5b8c2a1d4e6f"};
    assert_int_equal(funding_account_code(&e, &l, code, sizeof code), 0);
    assert_string_equal(code, "clawed_back:01936b2e-4c3a-7d21-9f0e-5b8c2a1d4e6f");
    /* An award account without its award, a year account without its
     * programme, or too small a buffer: no code. */
    l.award_id = NULL;
    assert_int_equal(funding_account_code(&e, &l, code, sizeof code), -1);
    funding_entry none = {.year = 2027};
    l = (funding_line){.kind = FUNDING_ACC_AVAILABLE};
    assert_int_equal(funding_account_code(&none, &l, code, sizeof code), -1);
    assert_int_equal(funding_account_code(&e, &l, code, 8), -1);
    assert_string_equal(code, "");
}

static void test_normal_sides(void **state)
{
    (void)state;
    assert_int_equal(funding_account_normal_side(FUNDING_ACC_APPROPRIATION), 'C');
    assert_int_equal(funding_account_normal_side(FUNDING_ACC_CLAWED_BACK), 'C');
    assert_int_equal(funding_account_normal_side(FUNDING_ACC_AVAILABLE), 'D');
    assert_int_equal(funding_account_normal_side(FUNDING_ACC_COMMITTED), 'D');
    assert_int_equal(funding_account_normal_side(FUNDING_ACC_DISBURSED), 'D');
    assert_int_equal(funding_account_normal_side(FUNDING_ACC_RECEIVABLE), 'D');
    assert_int_equal(funding_account_normal_side(FUNDING_ACC_RECOVERED), 'D');
    assert_string_equal(funding_account_kind_name(FUNDING_ACC_RECOVERED), "RECOVERED");
    assert_string_equal(funding_account_kind_name((funding_account_kind)42), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balanced_entries_pass),
        cmocka_unit_test(test_unbalanced_entries_fail),
        cmocka_unit_test(test_malformed_entries_fail),
        cmocka_unit_test(test_account_codes),
        cmocka_unit_test(test_normal_sides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
