/* ccip_id: UUIDs that sort by creation, RFC 3339 times in UTC microseconds,
 * and money as exact integer fen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"

/* ---- ids --------------------------------------------------------------- */

/* Checks the canonical layout, the version nibble and the variant bits. */
static void s_assert_uuid(const char *id, char version)
{
    assert_int_equal(strlen(id), CCIP_UUID_STRLEN);
    assert_true(ccip_uuid_valid(id));
    assert_int_equal(id[14], version);
    assert_non_null(strchr("89ab", id[19])); /* variant 10xx */
}

static void test_uuid_v4_format(void **state)
{
    (void)state;
    char id[CCIP_UUID_STRLEN + 1];
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(ccip_uuid_v4(id), 0);
        s_assert_uuid(id, '4');
    }
    assert_int_equal(ccip_uuid_v4(NULL), -1);
}

static void test_uuid_v7_format_and_time(void **state)
{
    (void)state;
    char id[CCIP_UUID_STRLEN + 1];
    int64_t before_ms = ccip_now_us() / 1000;
    assert_int_equal(ccip_uuid_v7(id), 0);
    int64_t after_ms = ccip_now_us() / 1000;
    s_assert_uuid(id, '7');

    /* The first 48 bits are the Unix time in milliseconds. */
    char hex[13];
    memcpy(hex, id, 8);
    memcpy(hex + 8, id + 9, 4);
    hex[12] = '\0';
    int64_t ms = (int64_t)strtoll(hex, NULL, 16);
    assert_true(ms >= before_ms);
    assert_true(ms <= after_ms + 1); /* +1: the counter may have carried */
    assert_int_equal(ccip_uuid_v7(NULL), -1);
}

/* The 48-bit millisecond and the 12-bit counter of a UUIDv7, as one number. */
static uint64_t s_v7_clock(const char *id)
{
    char hex[16];
    memcpy(hex, id, 8);
    memcpy(hex + 8, id + 9, 4);
    memcpy(hex + 12, id + 15, 3);
    hex[15] = '\0';
    return (uint64_t)strtoull(hex, NULL, 16);
}

static void test_uuid_v7_strictly_increasing(void **state)
{
    (void)state;
    enum { N = 10000 };
    static char ids[N][CCIP_UUID_STRLEN + 1];
    for (int i = 0; i < N; i++) {
        assert_int_equal(ccip_uuid_v7(ids[i]), 0);
        s_assert_uuid(ids[i], '7');
    }
    int same_ms = 0;
    for (int i = 1; i < N; i++) {
        assert_true(strcmp(ids[i - 1], ids[i]) < 0);
        /* Within one millisecond the 12-bit counter goes up by exactly one
         * (carrying into the millisecond when it runs out). */
        uint64_t prev = s_v7_clock(ids[i - 1]), cur = s_v7_clock(ids[i]);
        if (cur >> 12 == prev >> 12) {
            assert_int_equal(cur, prev + 1);
            same_ms++;
        }
    }
    assert_true(same_ms > 0); /* 10,000 ids take far less than 10,000 ms */
}

static int s_cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void test_uuid_unique(void **state)
{
    (void)state;
    enum { N = 100000 };
    char(*ids)[CCIP_UUID_STRLEN + 1] = malloc(2 * N * sizeof *ids);
    assert_non_null(ids);
    for (int i = 0; i < N; i++) {
        assert_int_equal(ccip_uuid_v7(ids[i]), 0);
        assert_int_equal(ccip_uuid_v4(ids[N + i]), 0);
    }
    qsort(ids, 2 * N, sizeof *ids, s_cmp_id);
    for (int i = 1; i < 2 * N; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) != 0);
    free(ids);
}

enum { THREADS = 4, PER_THREAD = 5000 };
static char s_thread_ids[THREADS][PER_THREAD][CCIP_UUID_STRLEN + 1];

static void *s_make_ids(void *arg)
{
    char(*ids)[CCIP_UUID_STRLEN + 1] = arg;
    for (int i = 0; i < PER_THREAD; i++)
        ccip_uuid_v7(ids[i]);
    return NULL;
}

static void test_uuid_v7_threads(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, s_make_ids, s_thread_ids[i]), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    /* Each thread sees its own ids increase; all of them are distinct. */
    for (int i = 0; i < THREADS; i++) {
        for (int j = 1; j < PER_THREAD; j++)
            assert_true(strcmp(s_thread_ids[i][j - 1], s_thread_ids[i][j]) < 0);
    }
    qsort(s_thread_ids, THREADS * PER_THREAD, CCIP_UUID_STRLEN + 1, s_cmp_id);
    char(*all)[CCIP_UUID_STRLEN + 1] = &s_thread_ids[0][0];
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        assert_true(strcmp(all[i - 1], all[i]) < 0);
}

static void test_uuid_valid(void **state)
{
    (void)state;
    assert_true(ccip_uuid_valid("01936b2e-4c3a-7d21-9f0e-5b8c2a1d4e6f"));
    assert_true(ccip_uuid_valid("00000000-0000-0000-0000-000000000000"));
    assert_false(ccip_uuid_valid("01936B2E-4C3A-7D21-9F0E-5B8C2A1D4E6F")); /* uppercase */
    assert_false(ccip_uuid_valid("01936b2e4c3a7d219f0e5b8c2a1d4e6f"));     /* no hyphens */
    assert_false(ccip_uuid_valid("{01936b2e-4c3a-7d21-9f0e-5b8c2a1d4e6f}"));
    assert_false(ccip_uuid_valid("01936b2e-4c3a-7d21-9f0e-5b8c2a1d4e6"));   /* short */
    assert_false(ccip_uuid_valid("01936b2e-4c3a-7d21-9f0e-5b8c2a1d4e6f0")); /* long */
    assert_false(ccip_uuid_valid("01936b2e-4c3a-7d21-9f0e-5b8c2a1d4e6g"));
    assert_false(ccip_uuid_valid("01936b2e-4c3a7-d21-9f0e-5b8c2a1d4e6f"));
    assert_false(ccip_uuid_valid(""));
    assert_false(ccip_uuid_valid(NULL));
}

/* ---- time -------------------------------------------------------------- */

static void s_assert_format(int64_t us, const char *expected)
{
    char buf[CCIP_TIME_STRLEN + 1];
    assert_int_equal(ccip_time_format_us(us, buf, sizeof buf), 0);
    assert_string_equal(buf, expected);
    int64_t back = 0;
    assert_int_equal(ccip_time_parse_us(buf, &back), 0);
    assert_int_equal(back, us);
}

static void test_time_format(void **state)
{
    (void)state;
    s_assert_format(INT64_C(1795773600123456), "2026-11-27T10:00:00.123456Z");
    s_assert_format(0, "1970-01-01T00:00:00.000000Z");
    s_assert_format(-1, "1969-12-31T23:59:59.999999Z");
    s_assert_format(INT64_C(1709251199) * 1000000, "2024-02-29T23:59:59.000000Z");
    s_assert_format(INT64_C(-2203891200) * 1000000, "1900-03-01T00:00:00.000000Z");
    s_assert_format(INT64_C(-62135596800) * 1000000, "0001-01-01T00:00:00.000000Z");
    s_assert_format(INT64_C(253402300799) * 1000000 + 999999, "9999-12-31T23:59:59.999999Z");

    char buf[CCIP_TIME_STRLEN + 1];
    /* Outside years 0001..9999 there is no four-digit form. */
    assert_int_equal(ccip_time_format_us(INT64_C(253402300800) * 1000000, buf, sizeof buf), -1);
    assert_string_equal(buf, "");
    assert_int_equal(ccip_time_format_us(INT64_C(-62135596801) * 1000000, buf, sizeof buf), -1);
    assert_int_equal(ccip_time_format_us(INT64_MIN, buf, sizeof buf), -1);
    assert_int_equal(ccip_time_format_us(0, buf, CCIP_TIME_STRLEN), -1);
    assert_string_equal(buf, "");
    assert_int_equal(ccip_time_format_us(0, NULL, 0), -1);
}

static void test_time_round_trip(void **state)
{
    (void)state;
    int64_t now = ccip_now_us();
    assert_true(now > INT64_C(1700000000) * 1000000); /* after 2023 */
    char buf[CCIP_TIME_STRLEN + 1];
    int64_t back;
    /* A spread of instants over the whole range, a prime step apart. */
    for (int64_t us = INT64_C(-62135596800) * 1000000; us < INT64_C(253402300799) * 1000000;
         us += INT64_C(3155760000000007)) {
        assert_int_equal(ccip_time_format_us(us, buf, sizeof buf), 0);
        assert_int_equal(ccip_time_parse_us(buf, &back), 0);
        assert_int_equal(back, us);
    }
    assert_int_equal(ccip_time_format_us(now, buf, sizeof buf), 0);
    assert_int_equal(ccip_time_parse_us(buf, &back), 0);
    assert_int_equal(back, now);
}

static void s_assert_parse(const char *s, int64_t expected)
{
    int64_t us = -42;
    assert_int_equal(ccip_time_parse_us(s, &us), 0);
    assert_int_equal(us, expected);
}

static void test_time_parse_forms_and_offsets(void **state)
{
    (void)state;
    const int64_t ten = INT64_C(1795773600) * 1000000; /* 2026-11-27T10:00:00Z */
    s_assert_parse("2026-11-27T10:00:00Z", ten);
    s_assert_parse("2026-11-27T10:00:00.123456Z", ten + 123456);
    s_assert_parse("2026-11-27T10:00:00.123Z", ten + 123000); /* browsers write ms */
    s_assert_parse("2026-11-27T10:00:00.5Z", ten + 500000);
    /* Beijing time is UTC+8: 18:00 there is 10:00Z. */
    s_assert_parse("2026-11-27T18:00:00+08:00", ten);
    s_assert_parse("2026-11-27T18:00:00.000001+08:00", ten + 1);
    /* Across midnight and a year boundary. */
    s_assert_parse("2027-01-01T07:59:59+08:00", INT64_C(1798761599) * 1000000);
    s_assert_parse("2026-11-27T05:00:00-05:00", ten);
    s_assert_parse("2026-11-27T15:30:00+05:30", ten);
    s_assert_parse("2026-11-27T10:00:00+00:00", ten);
}

static void test_time_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2026-11-27",
        "2026-11-27T10:00:00",          /* no zone: ambiguous */
        "2026-11-27T10:00Z",            /* no seconds */
        "2026-11-27 10:00:00Z",         /* space */
        "2026-11-27t10:00:00z",         /* lowercase */
        " 2026-11-27T10:00:00Z",        /* leading space */
        "2026-11-27T10:00:00Z ",        /* trailing space */
        "2026-11-27T10:00:00.Z",        /* empty fraction */
        "2026-11-27T10:00:00.1234567Z", /* finer than a microsecond */
        "2026-11-27T10:00:00+08",
        "2026-11-27T10:00:00+0800",
        "2026-11-27T10:00:00+24:00",
        "2026-11-27T10:00:00+08:60",
        "2026-11-27T10:00:00Z+08:00",
        "2026-13-01T10:00:00Z",
        "2026-00-01T10:00:00Z",
        "2026-02-29T10:00:00Z", /* not a leap year */
        "2100-02-29T10:00:00Z", /* not a leap year either */
        "2026-04-31T10:00:00Z",
        "2026-11-00T10:00:00Z",
        "2026-11-27T24:00:00Z",
        "2026-11-27T10:60:00Z",
        "2026-11-27T10:00:60Z", /* leap seconds are not representable */
        "0000-01-01T00:00:00Z",
        "+2026-11-27T10:00:00Z",
        "2026-1-27T10:00:00Z",
        "2026-11-27T10:00:00.12a456Z",
        "２０２６-11-27T10:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t us = 42;
        if (ccip_time_parse_us(bad[i], &us) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(us, 42);
    }
    int64_t us;
    assert_int_equal(ccip_time_parse_us(NULL, &us), -1);
    assert_int_equal(ccip_time_parse_us("2026-11-27T10:00:00Z", NULL), -1);
    s_assert_parse("2024-02-29T00:00:00Z", INT64_C(1709164800) * 1000000);
    s_assert_parse("2000-02-29T00:00:00Z", INT64_C(951782400) * 1000000);
}

/* ---- money ------------------------------------------------------------- */

static void s_assert_fen(const char *yuan, ccip_fen expected)
{
    ccip_fen fen = -42;
    if (ccip_fen_parse(yuan, &fen) != 0)
        fail_msg("rejected \"%s\"", yuan);
    assert_int_equal(fen, expected);
}

static void test_fen_parse(void **state)
{
    (void)state;
    s_assert_fen("1234", 123400);
    s_assert_fen("1234.5", 123450);
    s_assert_fen("1234.56", 123456);
    s_assert_fen("-3.20", -320);
    s_assert_fen("-0.05", -5);
    s_assert_fen("0", 0);
    s_assert_fen("-0", 0);
    s_assert_fen("0.01", 1);
    s_assert_fen("007.10", 710);
    /* The int64 limits, exactly. */
    s_assert_fen("92233720368547758.07", INT64_MAX);
    s_assert_fen("-92233720368547758.08", INT64_MIN);
    s_assert_fen("-92233720368547758", INT64_C(-9223372036854775800));
}

static void test_fen_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "-",
        "1.234", /* more than two decimals */
        "1.",
        ".5",
        "-.5",
        "+5",
        " 5",
        "5 ",
        "1,000",
        "1 000",
        "1e3",
        "0x10",
        "12a",
        "--5",
        "1.2.3",
        "１２", /* fullwidth digits */
        "92233720368547758.08",
        "-92233720368547758.09",
        "92233720368547759",
        "99999999999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ccip_fen fen = 42;
        if (ccip_fen_parse(bad[i], &fen) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(fen, 42);
    }
    ccip_fen fen;
    assert_int_equal(ccip_fen_parse(NULL, &fen), -1);
    assert_int_equal(ccip_fen_parse("1", NULL), -1);
}

static void s_assert_fen_format(ccip_fen fen, const char *expected)
{
    char buf[CCIP_FEN_STRLEN + 1];
    assert_int_equal(ccip_fen_format(fen, buf, sizeof buf), 0);
    assert_string_equal(buf, expected);
    ccip_fen back;
    assert_int_equal(ccip_fen_parse(buf, &back), 0);
    assert_int_equal(back, fen);
}

static void test_fen_format(void **state)
{
    (void)state;
    s_assert_fen_format(123456, "1234.56");
    s_assert_fen_format(-5, "-0.05");
    s_assert_fen_format(-320, "-3.20");
    s_assert_fen_format(0, "0.00");
    s_assert_fen_format(100, "1.00");
    s_assert_fen_format(7, "0.07");
    s_assert_fen_format(INT64_MAX, "92233720368547758.07");
    s_assert_fen_format(INT64_MIN, "-92233720368547758.08");
    assert_int_equal(strlen("-92233720368547758.08"), CCIP_FEN_STRLEN);

    char small[7];
    assert_int_equal(ccip_fen_format(123456, small, sizeof small), -1); /* needs 8 */
    assert_string_equal(small, "");
    char fits[8];
    assert_int_equal(ccip_fen_format(123456, fits, sizeof fits), 0);
    assert_int_equal(ccip_fen_format(1, NULL, 0), -1);
}

static void test_fen_add(void **state)
{
    (void)state;
    ccip_fen sum = 0;
    assert_int_equal(ccip_fen_add(123456, -320, &sum), 0);
    assert_int_equal(sum, 123136);
    assert_int_equal(ccip_fen_add(INT64_MAX, INT64_MIN, &sum), 0);
    assert_int_equal(sum, -1);
    assert_int_equal(ccip_fen_add(INT64_MAX - 1, 1, &sum), 0);
    assert_int_equal(sum, INT64_MAX);

    sum = 42;
    assert_int_equal(ccip_fen_add(INT64_MAX, 1, &sum), -1);
    assert_int_equal(ccip_fen_add(INT64_MIN, -1, &sum), -1);
    assert_int_equal(ccip_fen_add(INT64_MIN, INT64_MIN, &sum), -1);
    assert_int_equal(sum, 42); /* untouched on overflow */
    assert_int_equal(ccip_fen_add(1, 2, NULL), -1);
}

/* Time as people and JSON read it: no fraction when it is all zeros, the
 * six digits when it is not; the same failures as ccip_time_format_us. */
static void test_time_text(void **state)
{
    (void)state;
    char buf[CCIP_TIME_STRLEN + 1];
    const int64_t t = 1795773600LL * 1000000; /* 2026-11-27T10:00:00Z */
    assert_int_equal(ccip_time_text(t, buf, sizeof buf), 0);
    assert_string_equal(buf, "2026-11-27T10:00:00Z");
    assert_int_equal(ccip_time_text(t + 1, buf, sizeof buf), 0);
    assert_string_equal(buf, "2026-11-27T10:00:00.000001Z");
    assert_int_equal(ccip_time_text(t + 500000, buf, sizeof buf), 0);
    assert_string_equal(buf, "2026-11-27T10:00:00.500000Z");
    assert_int_equal(ccip_time_text(t, buf, 10), -1);
    assert_string_equal(buf, "");
}

static void test_i64_text(void **state)
{
    (void)state;
    char buf[21];
    assert_string_equal(ccip_i64_text(0, buf), "0");
    assert_string_equal(ccip_i64_text(-5, buf), "-5");
    assert_string_equal(ccip_i64_text(INT64_MAX, buf), "9223372036854775807");
    assert_ptr_equal(ccip_i64_text(INT64_MIN, buf), buf);
    assert_string_equal(buf, "-9223372036854775808");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_v4_format),
        cmocka_unit_test(test_uuid_v7_format_and_time),
        cmocka_unit_test(test_uuid_v7_strictly_increasing),
        cmocka_unit_test(test_uuid_unique),
        cmocka_unit_test(test_uuid_v7_threads),
        cmocka_unit_test(test_uuid_valid),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_time_round_trip),
        cmocka_unit_test(test_time_parse_forms_and_offsets),
        cmocka_unit_test(test_time_parse_rejects),
        cmocka_unit_test(test_time_text),
        cmocka_unit_test(test_i64_text),
        cmocka_unit_test(test_fen_parse),
        cmocka_unit_test(test_fen_parse_rejects),
        cmocka_unit_test(test_fen_format),
        cmocka_unit_test(test_fen_add),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
