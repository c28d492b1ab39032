/*
 * gateway_bindings and gateway_crypto: what a binding acts as on the bus,
 * the checks of account fields, and the secrets (tokens, CSRF, derived
 * command ids, argon2id, TOTP with replay refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "gateway_bindings.h"
#include "gateway_crypto.h"

static const char *const s_intake_readers[] = {"staff", "admin", "applicant", "service", NULL};
static const char *const s_ip_readers[] = {"owner", "applicant", "staff", "admin", NULL};
static const char *const s_staff_only[] = {"staff", "admin", NULL};

static void test_actor_ids_follow_the_services(void **state)
{
    (void)state;
    char a[GATEWAY_ACTOR_MAX + 1];
    const gateway_kind_info *org = gateway_kind(CCIP__GATEWAY__BINDING_KIND__ORGANISATION);
    assert_int_equal(gateway_binding_actor(org, "91110105MA01ABCD26", "li.na", a, sizeof a), 0);
    assert_string_equal(a, "org:91110105MA01ABCD26");
    gateway_binding_actor(gateway_kind(CCIP__GATEWAY__BINDING_KIND__EXPERT), "EX-0042", "x", a,
                          sizeof a);
    assert_string_equal(a, "expert:EX-0042");
    gateway_binding_actor(gateway_kind(CCIP__GATEWAY__BINDING_KIND__AGENCY), "AG-001", "x", a,
                          sizeof a);
    assert_string_equal(a, "agency:AG-001");
    gateway_binding_actor(gateway_kind(CCIP__GATEWAY__BINDING_KIND__DISTRICT), "110105", "x", a,
                          sizeof a);
    assert_string_equal(a, "district:110105");
    gateway_binding_actor(gateway_kind(CCIP__GATEWAY__BINDING_KIND__STAFF), "", "zhou.min", a,
                          sizeof a);
    assert_string_equal(a, "person:zhou.min");
    char tiny[8];
    assert_int_equal(gateway_binding_actor(org, "91110105MA01ABCD26", "x", tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "");
}

static void test_role_is_the_first_the_handler_allows(void **state)
{
    (void)state;
    const gateway_kind_info *org = gateway_kind(CCIP__GATEWAY__BINDING_KIND__ORGANISATION);
    assert_string_equal(gateway_binding_role_for(org, s_intake_readers), "applicant");
    assert_string_equal(gateway_binding_role_for(org, s_ip_readers), "owner");
    assert_null(gateway_binding_role_for(org, s_staff_only));
    assert_string_equal(gateway_binding_role_for(org, NULL), "applicant");
    const gateway_kind_info *staff = gateway_kind(CCIP__GATEWAY__BINDING_KIND__STAFF);
    assert_string_equal(gateway_binding_role_for(staff, s_staff_only), "staff");
    const gateway_kind_info *admin = gateway_kind(CCIP__GATEWAY__BINDING_KIND__ADMIN);
    assert_string_equal(gateway_binding_role_for(admin, s_staff_only), "admin");
    /* no kind ever acts as "service" or "system": those are not people */
    for (int k = 1; k <= 9; k++) {
        const gateway_kind_info *ki = gateway_kind((Ccip__Gateway__BindingKind)k);
        assert_non_null(ki);
        for (const char *const *r = ki->roles; *r; r++) {
            assert_string_not_equal(*r, "service");
            assert_string_not_equal(*r, "system");
        }
    }
    assert_null(gateway_kind(CCIP__GATEWAY__BINDING_KIND__BINDING_KIND_UNSPECIFIED));
    assert_ptr_equal(gateway_kind_by_name("STAFF"), staff);
    assert_null(gateway_kind_by_name("staff"));
}

static void test_second_factor_for_privileged_kinds(void **state)
{
    (void)state;
    assert_true(gateway_kind(CCIP__GATEWAY__BINDING_KIND__STAFF)->needs_totp);
    assert_true(gateway_kind(CCIP__GATEWAY__BINDING_KIND__OFFICE)->needs_totp);
    assert_true(gateway_kind(CCIP__GATEWAY__BINDING_KIND__ANALYST)->needs_totp);
    assert_true(gateway_kind(CCIP__GATEWAY__BINDING_KIND__ADMIN)->needs_totp);
    assert_true(gateway_kind(CCIP__GATEWAY__BINDING_KIND__FINANCE)->needs_totp);
    assert_false(gateway_kind(CCIP__GATEWAY__BINDING_KIND__ORGANISATION)->needs_totp);
    assert_false(gateway_kind(CCIP__GATEWAY__BINDING_KIND__EXPERT)->needs_totp);
}

static void test_subjects_and_fields(void **state)
{
    (void)state;
    char err[300];
    const gateway_kind_info *org = gateway_kind(CCIP__GATEWAY__BINDING_KIND__ORGANISATION);
    assert_int_equal(gateway_subject_check(org, "91110105MA01ABCD26", err, sizeof err), 0);
    assert_int_equal(gateway_subject_check(org, "91110105MA01ABCD2X", err, sizeof err), -1);
    assert_non_null(strstr(err, "field `subject`"));
    const gateway_kind_info *d = gateway_kind(CCIP__GATEWAY__BINDING_KIND__DISTRICT);
    assert_int_equal(gateway_subject_check(d, "110105", err, sizeof err), 0);
    assert_int_equal(gateway_subject_check(d, "Chaoyang", err, sizeof err), -1);
    const gateway_kind_info *staff = gateway_kind(CCIP__GATEWAY__BINDING_KIND__STAFF);
    assert_int_equal(gateway_subject_check(staff, "", err, sizeof err), 0);
    assert_int_equal(gateway_subject_check(staff, "x", err, sizeof err), -1);
    assert_int_equal(gateway_subject_check(gateway_kind(CCIP__GATEWAY__BINDING_KIND__EXPERT), "",
                                           err, sizeof err),
                     -1);
    assert_int_equal(gateway_login_check("li.na", err, sizeof err), 0);
    assert_int_equal(gateway_login_check("Li.Na", err, sizeof err), -1);
    assert_int_equal(gateway_login_check(".x1", err, sizeof err), -1);
    assert_int_equal(gateway_login_check("ab", err, sizeof err), -1);
    assert_int_equal(gateway_password_check("password", "short", err, sizeof err), -1);
    assert_int_equal(gateway_password_check("password", "长城长城长城长城长城", err, sizeof err),
                     0);
    assert_int_equal(gateway_password_check("password", "with\ttab here", err, sizeof err), -1);
    assert_int_equal(gateway_email_check("li.na@example.cn", err, sizeof err), 0);
    assert_int_equal(gateway_email_check("li.na@example", err, sizeof err), -1);
    assert_int_equal(gateway_email_check("a b@example.cn", err, sizeof err), -1);
    assert_int_equal(gateway_mobile_check("", err, sizeof err), 0);
    assert_int_equal(gateway_mobile_check("+86 138 0000 0000", err, sizeof err), 0);
    assert_int_equal(gateway_mobile_check("call me", err, sizeof err), -1);
}

static void test_tokens_and_csrf(void **state)
{
    (void)state;
    char err[100], a[GATEWAY_TOKEN_LEN + 1], b[GATEWAY_TOKEN_LEN + 1];
    assert_int_equal(gateway_crypto_init(err, sizeof err), 0);
    gateway_token_new(a);
    gateway_token_new(b);
    assert_int_equal(strlen(a), GATEWAY_TOKEN_LEN);
    assert_true(gateway_token_form(a));
    assert_string_not_equal(a, b);
    assert_false(gateway_token_form("short"));
    char bad[GATEWAY_TOKEN_LEN + 1];
    memcpy(bad, a, sizeof bad);
    bad[3] = '/';
    assert_false(gateway_token_form(bad));
    char ca[GATEWAY_TOKEN_LEN + 1], ca2[GATEWAY_TOKEN_LEN + 1], cb[GATEWAY_TOKEN_LEN + 1];
    gateway_csrf_of(a, ca);
    gateway_csrf_of(a, ca2);
    gateway_csrf_of(b, cb);
    assert_string_equal(ca, ca2);
    assert_string_not_equal(ca, cb);
    assert_string_not_equal(ca, a);
    assert_true(gateway_equal_ct(ca, ca2));
    assert_false(gateway_equal_ct(ca, cb));
    assert_false(gateway_equal_ct(ca, "x"));
}

static void test_command_ids_from_idempotency_keys(void **state)
{
    (void)state;
    char x[CCIP_UUID_STRLEN + 1], y[CCIP_UUID_STRLEN + 1], z[CCIP_UUID_STRLEN + 1];
    const char *acc1 = "01936b2e-4c3a-7d21-9f0e-5b8c2a1d4e6f";
    const char *acc2 = "01936b2e-4c3a-7d21-9f0e-5b8c2a1d4e70";
    gateway_command_id(acc1, "intake.application.draft.v1", "k-1", x);
    gateway_command_id(acc1, "intake.application.draft.v1", "k-1", y);
    assert_string_equal(x, y); /* a retry gets the same command */
    assert_true(ccip_uuid_valid(x));
    assert_int_equal(x[14], '8');
    gateway_command_id(acc2, "intake.application.draft.v1", "k-1", z);
    assert_string_not_equal(x, z); /* two accounts never share one */
    gateway_command_id(acc1, "intake.application.file.v1", "k-1", z);
    assert_string_not_equal(x, z); /* nor two routes */
    gateway_command_id(acc1, "intake.application.draft.v1", "k-2", z);
    assert_string_not_equal(x, z);
}

static void test_passwords_with_argon2id(void **state)
{
    (void)state;
    char h[GATEWAY_PWHASH_MAX], h2[GATEWAY_PWHASH_MAX];
    assert_int_equal(gateway_password_hash("correct horse battery", 1, 8192, h), 0);
    assert_int_equal(strncmp(h, "$argon2id$", 10), 0);
    assert_true(gateway_password_verify(h, "correct horse battery"));
    assert_false(gateway_password_verify(h, "correct horse batterY"));
    assert_false(gateway_password_verify("not a hash", "x"));
    assert_int_equal(gateway_password_hash("correct horse battery", 1, 8192, h2), 0);
    assert_string_not_equal(h, h2); /* salted */
}

static void test_totp_codes_once_within_a_step(void **state)
{
    (void)state;
    /* RFC 6238 appendix B, SHA-1 secret "12345678901234567890": at
     * 59 s the 8-digit code is 94287082, so the 6-digit one is 287082. */
    const uint8_t secret[] = "12345678901234567890";
    char code[8];
    assert_int_equal(gateway_totp_code(secret, 20, 59, code), 0);
    assert_string_equal(code, "287082");
    int64_t step = 0;
    assert_int_equal(gateway_totp_check(secret, 20, "287082", 59, 0, &step), 0);
    assert_int_equal(step, 1);
    /* the same code again (a replay) is refused */
    assert_int_equal(gateway_totp_check(secret, 20, "287082", 59, step, &step), -1);
    /* one step of clock skew is accepted, two are not */
    int64_t s2 = 0;
    assert_int_equal(gateway_totp_check(secret, 20, "287082", 59 + 30, 0, &s2), 0);
    assert_int_equal(gateway_totp_check(secret, 20, "287082", 59 + 90, 0, &s2), -1);
    assert_int_equal(gateway_totp_check(secret, 20, "28708", 59, 0, &s2), -1);
    assert_int_equal(gateway_totp_check(secret, 20, "28708a", 59, 0, &s2), -1);
    char b32[GATEWAY_TOTP_BASE32_MAX];
    gateway_totp_base32(secret, 20, b32);
    assert_string_equal(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_actor_ids_follow_the_services),
        cmocka_unit_test(test_role_is_the_first_the_handler_allows),
        cmocka_unit_test(test_second_factor_for_privileged_kinds),
        cmocka_unit_test(test_subjects_and_fields),
        cmocka_unit_test(test_tokens_and_csrf),
        cmocka_unit_test(test_command_ids_from_idempotency_keys),
        cmocka_unit_test(test_passwords_with_argon2id),
        cmocka_unit_test(test_totp_codes_once_within_a_step),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
