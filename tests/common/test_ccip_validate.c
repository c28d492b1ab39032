/* ccip_validate: every check says yes, or says in one sentence what is wrong
 * and where, so that the person who typed the value can fix it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ccip_validate.h"

static char s_err[512];

/* ---- unified social credit code ---------------------------------------- */

/* GB 32100-2015, written out again independently of the library: appends
 * the check character to 17 characters. */
static void s_make_uscc(const char *first17, char out[CCIP_USCC_LEN + 1])
{
    static const char charset[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int weights[] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (int)(strchr(charset, first17[i]) - charset) * weights[i];
    memcpy(out, first17, 17);
    out[17] = charset[(31 - sum % 31) % 31];
    out[18] = '\0';
}

static void s_assert_uscc_fails(const char *code, const char *message)
{
    strcpy(s_err, "untouched");
    assert_int_equal(ccip_uscc_check(code, s_err, sizeof s_err), -1);
    assert_string_equal(s_err, message);
}

static void test_uscc_valid(void **state)
{
    (void)state;
    /* The example printed in GB 32100-2015 itself. */
    assert_int_equal(ccip_uscc_check("91350100M000100Y43", s_err, sizeof s_err), 0);

    /* Codes built from the algorithm: a company (9 1) in Haidian, a social
     * organisation (5 1) in Chaoyang, a public institution (1 2). */
    static const char *const bodies[] = {"91110108MA01ABCD2", "51110105500012345",
                                         "12110000400000001", "Y1110000000000000"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char code[CCIP_USCC_LEN + 1];
        s_make_uscc(bodies[i], code);
        if (ccip_uscc_check(code, s_err, sizeof s_err) != 0)
            fail_msg("%s rejected: %s", code, s_err);
    }
    /* Only the verdict is needed. */
    assert_int_equal(ccip_uscc_check("91350100M000100Y43", NULL, 0), 0);
    assert_int_equal(ccip_uscc_check("91350100M000100Y44", NULL, 0), -1);
}

/* The mod-31 check catches every single substitution and every swap of two
 * different neighbours. */
static void test_uscc_check_character_catches_typos(void **state)
{
    (void)state;
    static const char charset[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    char code[CCIP_USCC_LEN + 1];
    for (int pos = 0; pos < CCIP_USCC_LEN; pos++) {
        for (const char *c = charset; *c; c++) {
            strcpy(code, "91350100M000100Y43");
            if (code[pos] == *c || (pos >= 2 && pos <= 7 && (*c < '0' || *c > '9')))
                continue;
            code[pos] = *c;
            if (ccip_uscc_check(code, NULL, 0) != -1)
                fail_msg("typo %s accepted", code);
        }
    }
    for (int pos = 0; pos + 1 < CCIP_USCC_LEN - 1; pos++) {
        strcpy(code, "91350100M000100Y43");
        if (code[pos] == code[pos + 1])
            continue;
        char t = code[pos];
        code[pos] = code[pos + 1];
        code[pos + 1] = t;
        if (ccip_uscc_check(code, NULL, 0) != -1)
            fail_msg("swap %s accepted", code);
    }
}

static void test_uscc_invalid(void **state)
{
    (void)state;
    s_assert_uscc_fails("91350100M000100Y44",
                        "unified social credit code check character (position 18) should be '3', "
                        "got '4'; the code has a typing mistake");
    /* Often quoted as an example, but its check character is wrong. */
    s_assert_uscc_fails("911100001000013428",
                        "unified social credit code check character (position 18) should be 'C', "
                        "got '8'; the code has a typing mistake");
    s_assert_uscc_fails("9135010M000100Y43",
                        "unified social credit code must be 18 characters, got 17");
    s_assert_uscc_fails("91350100M000100Y433",
                        "unified social credit code must be 18 characters, got 19");
    s_assert_uscc_fails("", "unified social credit code must be 18 characters, got 0");
    s_assert_uscc_fails(NULL, "unified social credit code is missing");
    s_assert_uscc_fails("91350100m000100Y43",
                        "unified social credit code has a lowercase 'm' at position 9; letters "
                        "must be capitals");
    s_assert_uscc_fails(
        "91350100I000100Y43",
        "unified social credit code has 'I' at position 9, a letter codes never use "
        "(I, O, S, V and Z are left out)");
    s_assert_uscc_fails("91350100M0001O0Y43",
                        "unified social credit code has 'O' at position 14, a letter codes never "
                        "use (I, O, S, V and Z are left out)");
    s_assert_uscc_fails("91350100M000-00Y43",
                        "unified social credit code has an invalid character '-' at position 13; "
                        "only digits and the capital letters ABCDEFGHJKLMNPQRTUWXY are used");
    /* Full-width digits count as one character each. */
    s_assert_uscc_fails("９1350100M000100Y43",
                        "unified social credit code has an invalid character '９' at position 1; "
                        "only digits and the capital letters ABCDEFGHJKLMNPQRTUWXY are used");
    s_assert_uscc_fails("91A50100M000100Y43",
                        "unified social credit code characters 3 to 8 are the administrative "
                        "division code and must be digits, got 'A' at position 3");
    s_assert_uscc_fails("913501\t0M000100Y43",
                        "unified social credit code has an invalid character U+0009 at position 7; "
                        "only digits and the capital letters ABCDEFGHJKLMNPQRTUWXY are used");
}

/* ---- districts ---------------------------------------------------------- */

static void test_district_table(void **state)
{
    (void)state;
    assert_int_equal(ccip_district_count(), 16);
    assert_null(ccip_district_at(16));
    const ccip_district *first = ccip_district_at(0);
    assert_string_equal(first->code, "110101");
    assert_string_equal(first->name_en, "Dongcheng");
    assert_string_equal(first->name_zh, "东城区");
    for (size_t i = 0; i < ccip_district_count(); i++) {
        const ccip_district *d = ccip_district_at(i);
        assert_non_null(d);
        /* Every way of naming a district finds the same entry. */
        assert_ptr_equal(ccip_district_find(d->code), d);
        assert_ptr_equal(ccip_district_find(d->name_en), d);
        assert_ptr_equal(ccip_district_find(d->name_zh), d);
        assert_int_equal(ccip_district_check(d->name_zh, s_err, sizeof s_err), 0);
        assert_memory_equal(d->code, "1101", 4);
        if (i > 0)
            assert_true(strcmp(ccip_district_at(i - 1)->code, d->code) < 0);
    }
}

static void test_district_find(void **state)
{
    (void)state;
    const ccip_district *d = ccip_district_find("110108");
    assert_non_null(d);
    assert_string_equal(d->name_en, "Haidian");
    assert_ptr_equal(ccip_district_find("haidian"), d);
    assert_ptr_equal(ccip_district_find("HAIDIAN"), d);
    assert_ptr_equal(ccip_district_find("海淀区"), d);
    assert_string_equal(ccip_district_find("石景山区")->code, "110107");
    assert_string_equal(ccip_district_find("yanqing")->name_zh, "延庆区");

    assert_null(ccip_district_find("Pudong"));
    assert_null(ccip_district_find("110103")); /* Chongwen, merged into Dongcheng in 2010 */
    assert_null(ccip_district_find("110000")); /* Beijing itself */
    assert_null(ccip_district_find("Haidian "));
    assert_null(ccip_district_find("Haidian District"));
    assert_null(ccip_district_find("海淀"));
    assert_null(ccip_district_find(""));
    assert_null(ccip_district_find(NULL));
}

static void test_district_check(void **state)
{
    (void)state;
    assert_int_equal(ccip_district_check("chaoyang", s_err, sizeof s_err), 0);
    assert_int_equal(ccip_district_check("浦东新区", s_err, sizeof s_err), -1);
    assert_string_equal(s_err, "district must be one of Beijing's 16 districts, by code such as "
                               "110105 or by name such as Chaoyang or 朝阳区, got \"浦东新区\"");
    assert_int_equal(ccip_district_check("x\"\n", s_err, sizeof s_err), -1);
    assert_non_null(strstr(s_err, ", got \"x\\\"\\x0a\""));
    assert_int_equal(ccip_district_check(NULL, s_err, sizeof s_err), -1);
    assert_non_null(strstr(s_err, ", got nothing"));
}

/* ---- UTF-8 -------------------------------------------------------------- */

static int s_valid(const char *s)
{
    return ccip_utf8_valid(s, strlen(s));
}

static void test_utf8_valid(void **state)
{
    (void)state;
    assert_true(s_valid(""));
    assert_true(s_valid("plain ASCII"));
    assert_true(s_valid("朝阳区"));
    assert_true(s_valid("\xC2\x80"));          /* U+0080, smallest 2-byte */
    assert_true(s_valid("\xDF\xBF"));          /* U+07FF */
    assert_true(s_valid("\xE0\xA0\x80"));      /* U+0800, smallest 3-byte */
    assert_true(s_valid("\xED\x9F\xBF"));      /* U+D7FF, just below the surrogates */
    assert_true(s_valid("\xEE\x80\x80"));      /* U+E000, just above */
    assert_true(s_valid("\xEF\xBF\xBF"));      /* U+FFFF */
    assert_true(s_valid("\xF0\x90\x80\x80"));  /* U+10000, smallest 4-byte */
    assert_true(s_valid("\xF0\x9F\x98\x80"));  /* an emoji */
    assert_true(s_valid("\xF4\x8F\xBF\xBF"));  /* U+10FFFF, the last code point */
    assert_true(ccip_utf8_valid("a\0b", 3));   /* U+0000 is UTF-8; text checks reject it */
    assert_true(ccip_utf8_valid("朝阳区", 3)); /* the first character only */
}

static void test_utf8_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\x80",             /* lone continuation byte */
        "a\xBF",            /* continuation after ASCII */
        "\xC0\xAF",         /* overlong '/' */
        "\xC1\xBF",         /* overlong U+007F */
        "\xE0\x80\xAF",     /* overlong '/' in 3 bytes */
        "\xE0\x9F\xBF",     /* overlong U+07FF */
        "\xF0\x8F\xBF\xBF", /* overlong U+FFFF */
        "\xED\xA0\x80",     /* U+D800, high surrogate */
        "\xED\xBF\xBF",     /* U+DFFF, low surrogate */
        "\xF4\x90\x80\x80", /* U+110000 */
        "\xF5\x80\x80\x80",
        "\xF8\x88\x80\x80\x80", /* old 5-byte form */
        "\xFE",
        "\xFF",
        "\xE6\x9C",     /* first two bytes of 朝 */
        "\xF0\x9F\x98", /* truncated emoji */
        "\xE6\x41\x80", /* ASCII where a continuation belongs */
        "\xC2",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (s_valid(bad[i]))
            fail_msg("bad sequence %zu accepted", i);
    }
    assert_false(ccip_utf8_valid("朝阳区", 2)); /* cut inside a character */
    assert_false(ccip_utf8_valid(NULL, 0));
}

static void test_utf8_chars(void **state)
{
    (void)state;
    assert_int_equal(ccip_utf8_chars(""), 0);
    assert_int_equal(ccip_utf8_chars("abc"), 3);
    assert_int_equal(ccip_utf8_chars("朝阳区"), 3);
    assert_int_equal(ccip_utf8_chars("a朝\xF0\x9F\x98\x80"), 3);
    assert_int_equal(ccip_utf8_chars(NULL), 0);
}

/* ---- text --------------------------------------------------------------- */

static void s_assert_text_fails(const char *s, size_t min, size_t max, int flags,
                                const char *message)
{
    strcpy(s_err, "untouched");
    assert_int_equal(ccip_text_check("title", s, min, max, flags, s_err, sizeof s_err), -1);
    assert_string_equal(s_err, message);
}

static void test_text_check_accepts(void **state)
{
    (void)state;
    assert_int_equal(
        ccip_text_check("title", "Smart grid pilot 智能电网试点", 1, 200, 0, s_err, sizeof s_err),
        0);
    assert_int_equal(ccip_text_check("description", "line one\n\tline two", 0, 0,
                                     CCIP_TEXT_MULTILINE, s_err, sizeof s_err),
                     0);
    assert_int_equal(ccip_text_check("note", "", 0, 10, 0, s_err, sizeof s_err), 0);
    /* The limit counts characters, not bytes: 200 Chinese characters are
     * 600 bytes. */
    char zh[601];
    for (int i = 0; i < 200; i++)
        memcpy(zh + 3 * i, "中", 3);
    zh[600] = '\0';
    assert_int_equal(ccip_text_check("title", zh, 1, 200, 0, s_err, sizeof s_err), 0);
    assert_int_equal(ccip_text_check("title", zh, 1, 199, 0, s_err, sizeof s_err), -1);
    assert_string_equal(s_err, "field `title` must be 1 to 199 characters, got 200");
}

static void test_text_check_rejects(void **state)
{
    (void)state;
    char long_title[232];
    memset(long_title, 'x', 231);
    long_title[231] = '\0';
    s_assert_text_fails(long_title, 1, 200, 0,
                        "field `title` must be 1 to 200 characters, got 231");
    s_assert_text_fails("", 1, 200, 0, "field `title` must be 1 to 200 characters, got 0");
    s_assert_text_fails(NULL, 1, 200, 0, "field `title` is missing");
    s_assert_text_fails("abcd\x07", 1, 200, 0,
                        "field `title` contains a control character at character 5");
    s_assert_text_fails("智能电网\x01", 1, 200, 0,
                        "field `title` contains a control character at character 5");
    s_assert_text_fails("two\nlines", 1, 200, 0,
                        "field `title` contains a control character at character 4");
    s_assert_text_fails("windows\r\nline", 1, 200, CCIP_TEXT_MULTILINE,
                        "field `title` contains a control character at character 8");
    s_assert_text_fails("del\x7f", 1, 200, 0,
                        "field `title` contains a control character at character 4");
    s_assert_text_fails("c1\xC2\x85", 1, 200, 0, /* U+0085, NEXT LINE */
                        "field `title` contains a control character at character 3");
    s_assert_text_fails("ab\xE6\x9C", 1, 200, 0, "field `title` is not valid UTF-8 at byte 3");
    s_assert_text_fails("\xED\xA0\x80", 1, 200, 0, "field `title` is not valid UTF-8 at byte 1");

    s_assert_text_fails("", 1, 0, 0, "field `title` must not be empty");
    s_assert_text_fails("ab", 3, 0, 0, "field `title` must be at least 3 characters, got 2");
    s_assert_text_fails("abcd", 0, 3, 0, "field `title` must be at most 3 characters, got 4");
    s_assert_text_fails("ab", 0, 1, 0, "field `title` must be at most 1 character, got 2");
    s_assert_text_fails("abc", 6, 6, 0, "field `title` must be exactly 6 characters, got 3");
    s_assert_text_fails("abc", 5, 2, 0,
                        "field `title` cannot be checked: min_chars 5 > max_chars 2");
    assert_int_equal(ccip_text_check("title", "\x01", 0, 0, 0, NULL, 0), -1);
}

/* ---- codes -------------------------------------------------------------- */

static void s_assert_code_fails(const char *s, size_t max, const char *message)
{
    strcpy(s_err, "untouched");
    assert_int_equal(ccip_code_check("call_code", s, max, s_err, sizeof s_err), -1);
    assert_string_equal(s_err, message);
}

static void test_code_check(void **state)
{
    (void)state;
    assert_int_equal(ccip_code_check("call_code", "BJ-2026.ai_01", 32, s_err, sizeof s_err), 0);
    assert_int_equal(ccip_code_check("call_code", "x", 1, s_err, sizeof s_err), 0);
    assert_int_equal(ccip_code_check("ref", "a-very-long-reference-with-no-limit", 0, NULL, 0), 0);

    s_assert_code_fails(NULL, 32, "field `call_code` is missing");
    s_assert_code_fails("", 32, "field `call_code` must not be empty");
    s_assert_code_fails("BJ-2026-0123456789-0123456789-0123456789", 32,
                        "field `call_code` must be at most 32 characters, got 40");
    s_assert_code_fails("BJ/2026", 32,
                        "field `call_code` contains '/' at character 3; only letters A-Z and a-z, "
                        "digits, '_', '.' and '-' are allowed");
    s_assert_code_fails("BJ 2026", 32,
                        "field `call_code` contains ' ' at character 3; only letters A-Z and a-z, "
                        "digits, '_', '.' and '-' are allowed");
    s_assert_code_fails("京-2026", 32,
                        "field `call_code` contains '京' at character 1; only letters A-Z and a-z, "
                        "digits, '_', '.' and '-' are allowed");
    s_assert_code_fails("ab\x01", 32,
                        "field `call_code` contains U+0001 at character 3; only letters A-Z and "
                        "a-z, digits, '_', '.' and '-' are allowed");
    s_assert_code_fails("ab\xFF", 32,
                        "field `call_code` contains byte 0xff at character 3; only letters A-Z and "
                        "a-z, digits, '_', '.' and '-' are allowed");
}

/* Where a byte limit may cut UTF-8: never inside a character. */
static void test_utf8_boundary(void **state)
{
    (void)state;
    const char *s = "a区b"; /* 'a', E5 8C BA, 'b' */
    assert_int_equal(ccip_utf8_boundary(s, 0), 0);
    assert_int_equal(ccip_utf8_boundary(s, 1), 1);
    assert_int_equal(ccip_utf8_boundary(s, 2), 1); /* inside 区 */
    assert_int_equal(ccip_utf8_boundary(s, 3), 1); /* inside 区 */
    assert_int_equal(ccip_utf8_boundary(s, 4), 4);
    assert_int_equal(ccip_utf8_boundary(s, 5), 5);
    const char *emoji = "\xF0\x9F\x98\x80!"; /* U+1F600, four bytes */
    for (size_t len = 1; len < 4; len++)
        assert_int_equal(ccip_utf8_boundary(emoji, len), 0);
    assert_int_equal(ccip_utf8_boundary(emoji, 4), 4);
    /* Every cut of a mixed text is valid UTF-8 and as long as it can be. */
    const char *mixed = "é区\xF0\x9F\x98\x80x";
    size_t n = strlen(mixed);
    for (size_t len = 0; len <= n; len++) {
        size_t cut = ccip_utf8_boundary(mixed, len);
        assert_true(cut <= len && len - cut < 4);
        assert_true(ccip_utf8_valid(mixed, cut));
    }
}

/* Quoting what someone sent in a sentence: cut on a character boundary
 * with "...", control characters and bad bytes as '?', valid UTF-8. */
static void test_text_shown(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(ccip_text_shown("call-42", 40, out, sizeof out), "call-42");
    assert_string_equal(ccip_text_shown(NULL, 40, out, sizeof out), "");
    assert_string_equal(ccip_text_shown("a\nb\x01"
                                        "c\x7f",
                                        40, out, sizeof out),
                        "a?b?c?");
    assert_string_equal(ccip_text_shown("ok\xff\xc3", 40, out, sizeof out), "ok??");
    assert_string_equal(ccip_text_shown("abcdef", 3, out, sizeof out), "abc...");
    /* 区 is three bytes: a limit of 4 keeps one, never a piece of the next. */
    assert_string_equal(ccip_text_shown("区区", 4, out, sizeof out), "区...");
    assert_true(ccip_utf8_valid(out, strlen(out)));
    /* A small buffer bounds the limit too. */
    char tiny[8];
    assert_string_equal(ccip_text_shown("abcdefghij", 40, tiny, sizeof tiny), "abcd...");
    assert_string_equal(ccip_text_shown("x", 40, tiny, 0), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uscc_valid),
        cmocka_unit_test(test_uscc_check_character_catches_typos),
        cmocka_unit_test(test_uscc_invalid),
        cmocka_unit_test(test_district_table),
        cmocka_unit_test(test_district_find),
        cmocka_unit_test(test_district_check),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_utf8_chars),
        cmocka_unit_test(test_utf8_boundary),
        cmocka_unit_test(test_text_shown),
        cmocka_unit_test(test_text_check_accepts),
        cmocka_unit_test(test_text_check_rejects),
        cmocka_unit_test(test_code_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
