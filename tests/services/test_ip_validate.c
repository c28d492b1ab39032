/*
 * ip_validate: each bad value gets one sentence naming the field and the
 * fix; territories and terms overlap exactly when they share a place and a
 * day.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ccip/ip.pb-c.h"
#include "ip_validate.h"

static char s_err[512];

#define ORG_A "org:91110105MA01ABCD26"
#define ORG_B "org:91110108MA02XYKW3T"

static void test_sha256(void **state)
{
    (void)state;
    uint8_t h[IP_HASH_LEN];
    const char *good = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
    assert_int_equal(ip_check_sha256("content_sha256", good, h, s_err, sizeof s_err), 0);
    assert_int_equal(h[0], 0x9f);
    assert_int_equal(ip_check_sha256("content_sha256", "abc", h, s_err, sizeof s_err), -1);
    assert_string_equal(s_err, "field `content_sha256` must be 64 hex characters (a SHA-256, e.g. "
                               "from sha256sum), got 3 characters");
    char bad[65];
    snprintf(bad, sizeof bad, "%s", good);
    bad[10] = 'x';
    assert_int_equal(ip_check_sha256("content_sha256", bad, h, s_err, sizeof s_err), -1);
    assert_non_null(strstr(s_err, "non-hex character at character 11"));
    assert_int_equal(ip_check_sha256("evidence[0].sha256", NULL, h, s_err, sizeof s_err), -1);
    assert_non_null(strstr(s_err, "`evidence[0].sha256`"));
}

static void test_enums(void **state)
{
    (void)state;
    const ProtobufCEnumDescriptor *d = &ccip__ip__work_kind__descriptor;
    assert_string_equal(ip_enum_name(d, CCIP__IP__WORK_KIND__COPYRIGHT_SOFTWARE),
                        "COPYRIGHT_SOFTWARE");
    assert_null(ip_enum_name(d, 0));
    assert_null(ip_enum_name(d, 99));
    assert_int_equal(ip_enum_value(d, "copyright-software"),
                     CCIP__IP__WORK_KIND__COPYRIGHT_SOFTWARE);
    assert_int_equal(ip_enum_value(d, "WORK_KIND_UNSPECIFIED"), 0);
    assert_int_equal(ip_enum_value(d, "sculpture"), 0);
    assert_int_equal(ip_check_enum("kind", d, 99, s_err, sizeof s_err), -1);
    assert_non_null(strstr(s_err, "field `kind` has the unknown value 99; it must be one of "
                                  "COPYRIGHT_LITERARY, "));
    assert_int_equal(ip_check_enum("kind", d, 0, s_err, sizeof s_err), -1);
    assert_non_null(strstr(s_err, "field `kind` is missing"));
}

static void test_dates_and_terms(void **state)
{
    (void)state;
    int64_t d, s, e;
    assert_int_equal(ip_check_date("created_on", "1970-01-02", &d, s_err, sizeof s_err), 0);
    assert_int_equal(d, 1);
    assert_int_equal(ip_check_date("created_on", "2024-02-29", &d, s_err, sizeof s_err), 0);
    assert_int_equal(ip_check_date("created_on", "2023-02-29", &d, s_err, sizeof s_err), -1);
    assert_int_equal(ip_check_date("created_on", "2023-2-01", &d, s_err, sizeof s_err), -1);
    assert_non_null(strstr(s_err, "YYYY-MM-DD"));
    assert_int_equal(ip_check_term("2026-01-01", "2026-12-31", &s, &e, s_err, sizeof s_err), 0);
    assert_int_equal(e - s, 364);
    assert_int_equal(ip_check_term("2026-01-01", "2026-01-01", &s, &e, s_err, sizeof s_err), 0);
    assert_int_equal(ip_check_term("2026-06-01", "2026-05-31", &s, &e, s_err, sizeof s_err), -1);
    assert_string_equal(s_err, "field `term_end` (2026-05-31) is before `term_start` "
                               "(2026-06-01); a term must end on or after the day it starts");
    assert_true(ip_terms_overlap(0, 10, 10, 20));
    assert_false(ip_terms_overlap(0, 9, 10, 20));
    assert_true(ip_terms_overlap(5, 6, 0, 100));
}

static void test_territories(void **state)
{
    (void)state;
    char *cn[] = {"CN"}, *bj[] = {"CN-BJ"}, *sh[] = {"CN-SH"}, *world[] = {"WORLD"},
         *us_jp[] = {"US", "JP"}, *bad[] = {"cn"}, *twice[] = {"CN", "CN"};
    assert_int_equal(ip_check_territory("territory", cn, 1, s_err, sizeof s_err), 0);
    assert_int_equal(ip_check_territory("territory", bj, 1, s_err, sizeof s_err), 0);
    assert_int_equal(ip_check_territory("territory", bad, 1, s_err, sizeof s_err), -1);
    assert_non_null(strstr(s_err, "field `territory[0]` must be \"WORLD\""));
    assert_int_equal(ip_check_territory("territory", twice, 2, s_err, sizeof s_err), -1);
    assert_int_equal(ip_check_territory("territory", NULL, 0, s_err, sizeof s_err), -1);
    assert_true(ip_territories_overlap(cn, 1, bj, 1));
    assert_true(ip_territories_overlap(sh, 1, cn, 1));
    assert_false(ip_territories_overlap(bj, 1, sh, 1));
    assert_true(ip_territories_overlap(world, 1, us_jp, 2));
    assert_false(ip_territories_overlap(cn, 1, us_jp, 2));
}

static void test_parties_and_owners(void **state)
{
    (void)state;
    assert_int_equal(ip_check_party("owner", ORG_A, s_err, sizeof s_err), 0);
    assert_int_equal(ip_check_party("owner", "person:li-si", s_err, sizeof s_err), 0);
    assert_int_equal(ip_check_party("owner", "org:91110105MA01ABCD27", s_err, sizeof s_err), -1);
    assert_non_null(strstr(s_err, "check character"));
    assert_int_equal(ip_check_party("owner", "company:x", s_err, sizeof s_err), -1);
    assert_int_equal(ip_check_party("owner", "person:a b", s_err, sizeof s_err), -1);

    ip_chain_owner two[] = {{ORG_A, 6000}, {ORG_B, 4000}};
    assert_int_equal(ip_check_owners(two, 2, s_err, sizeof s_err), 0);
    two[1].share_bp = 3000;
    assert_int_equal(ip_check_owners(two, 2, s_err, sizeof s_err), -1);
    assert_non_null(strstr(s_err, "add up to 10000 basis points"));
    ip_chain_owner dup[] = {{ORG_A, 5000}, {ORG_A, 5000}};
    assert_int_equal(ip_check_owners(dup, 2, s_err, sizeof s_err), -1);
    assert_non_null(strstr(s_err, "twice"));
    ip_chain_owner zero[] = {{ORG_A, 0}};
    assert_int_equal(ip_check_owners(zero, 1, s_err, sizeof s_err), -1);
    assert_int_equal(ip_check_owners(NULL, 0, s_err, sizeof s_err), -1);
}

static void test_price_and_serial(void **state)
{
    (void)state;
    assert_int_equal(ip_check_price("price_fen", 0, s_err, sizeof s_err), 0);
    assert_int_equal(ip_check_price("price_fen", -5, s_err, sizeof s_err), -1);
    assert_string_equal(s_err,
                        "field `price_fen` must be 0 or more fen (1 yuan = 100 fen), got -5");
    char serial[24];
    ip_serial_text(42, serial, sizeof serial);
    assert_string_equal(serial, "IP-00000042");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_dates_and_terms),
        cmocka_unit_test(test_territories),
        cmocka_unit_test(test_parties_and_owners),
        cmocka_unit_test(test_price_and_serial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
