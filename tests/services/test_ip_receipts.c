/*
 * ip_receipts and ip_keys: a receipt verifies with the public key alone;
 * any one changed byte of it fails and says where; key files round-trip and
 * are never overwritten.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ccip_test.h"
#include "ip_keys.h"
#include "ip_receipts.h"

static ip_key s_key;

static int s_setup(void **state)
{
    (void)state;
    return ip_key_generate(&s_key);
}

static void s_receipt(ip_receipt *r)
{
    memset(r, 0, sizeof *r);
    r->serial = 42;
    snprintf(r->work_id, sizeof r->work_id, "0193b6c2-5d0e-7a31-8c4f-2e9d1b7a6c55");
    for (int i = 0; i < IP_HASH_LEN; i++) {
        r->content_sha256[i] = (uint8_t)(i * 7);
        r->chain_hash[i] = (uint8_t)(255 - i);
    }
    r->registered_at_us = 1795000000123456LL;
}

static void test_sign_format_parse_verify(void **state)
{
    (void)state;
    ip_receipt r, back;
    char text[IP_RECEIPT_MAX], err[400];
    s_receipt(&r);
    assert_int_equal(ip_receipt_sign(&r, &s_key), 0);
    assert_string_equal(r.key_id, s_key.key_id);
    int n = ip_receipt_format(&r, text, sizeof text);
    assert_true(n > 0);
    assert_non_null(strstr(text, "ccip ip receipt v1\nserial: 42\n"));
    assert_non_null(strstr(text, "registered_at: 2026-11-18T"));
    assert_int_equal(ip_receipt_parse(text, (size_t)n, &back, err, sizeof err), 0);
    assert_memory_equal(&back, &r, sizeof r);

    /* Verification needs only the public half. */
    ip_key pub = s_key;
    memset(pub.secret_key, 0, sizeof pub.secret_key);
    assert_int_equal(ip_receipt_verify(&back, &pub, err, sizeof err), 0);
    /* A public-only key cannot sign. */
    assert_int_equal(ip_receipt_sign(&back, &pub), -1);
}

/* Flips one bit (then the top bit) of every byte in turn: every variant is
 * refused, either by the parser (naming the line) or by the signature. */
static void test_every_flipped_byte_fails(void **state)
{
    (void)state;
    ip_receipt r, back;
    char text[IP_RECEIPT_MAX], err[400];
    s_receipt(&r);
    ip_receipt_sign(&r, &s_key);
    size_t n = (size_t)ip_receipt_format(&r, text, sizeof text);
    int by_parser = 0, by_signature = 0, by_key = 0;
    static const uint8_t masks[] = {0x01, 0x80};
    for (size_t m = 0; m < sizeof masks; m++) {
        for (size_t i = 0; i < n; i++) {
            text[i] ^= (char)masks[m];
            if (ip_receipt_parse(text, n, &back, err, sizeof err) < 0) {
                assert_non_null(strstr(err, "receipt line"));
                by_parser++;
            } else {
                assert_int_equal(ip_receipt_verify(&back, &s_key, err, sizeof err), -1);
                if (strstr(err, "signed with key"))
                    by_key++;
                else
                    by_signature++;
            }
            text[i] ^= (char)masks[m];
        }
    }
    assert_int_equal(by_parser + by_signature + by_key, 2 * (int)n);
    assert_true(by_signature > 0 && by_parser > 0 && by_key > 0);
    /* Untouched, it still verifies; cut short or extended, it does not. */
    assert_int_equal(ip_receipt_parse(text, n, &back, err, sizeof err), 0);
    assert_int_equal(ip_receipt_verify(&back, &s_key, err, sizeof err), 0);
    assert_int_equal(ip_receipt_parse(text, n - 1, &back, err, sizeof err), -1);
    assert_non_null(strstr(err, "receipt line 8"));
    text[n] = 'x';
    assert_int_equal(ip_receipt_parse(text, n + 1, &back, err, sizeof err), -1);
    assert_non_null(strstr(err, "after the signature"));
}

static void test_names_the_line(void **state)
{
    (void)state;
    ip_receipt r, back;
    char text[IP_RECEIPT_MAX], err[400];
    s_receipt(&r);
    ip_receipt_sign(&r, &s_key);
    size_t n = (size_t)ip_receipt_format(&r, text, sizeof text);
    char *p = strstr(text, "content_sha256: ") + strlen("content_sha256: ");
    *p = 'G';
    assert_int_equal(ip_receipt_parse(text, n, &back, err, sizeof err), -1);
    assert_string_equal(err, "receipt line 4 (`content_sha256`): must be 64 lower-case hex "
                             "characters");
    assert_int_equal(ip_receipt_parse("hello\n", 6, &back, err, sizeof err), -1);
    assert_non_null(strstr(err, "is this a ccip receipt?"));
}

static void test_other_key(void **state)
{
    (void)state;
    ip_key other;
    ip_receipt r;
    char err[400];
    assert_int_equal(ip_key_generate(&other), 0);
    s_receipt(&r);
    ip_receipt_sign(&r, &s_key);
    assert_int_equal(ip_receipt_verify(&r, &other, err, sizeof err), -1);
    assert_non_null(strstr(err, "signed with key"));
    /* Same key id claimed, other key: the signature says no. */
    memcpy(r.key_id, other.key_id, sizeof r.key_id);
    assert_int_equal(ip_receipt_verify(&r, &other, err, sizeof err), -1);
    assert_non_null(strstr(err, "signature does not match"));
    ip_key_wipe(&other);
}

static void test_key_files(void **state)
{
    (void)state;
    char dir[256], path[400], err[400];
    assert_int_equal(ccip_test_tmpdir(dir, sizeof dir), 0);
    assert_int_equal(ip_key_save(dir, "platform", &s_key, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/platform.key", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    ip_key secret, pub;
    assert_int_equal(ip_key_load_secret(path, &secret, err, sizeof err), 0);
    assert_memory_equal(&secret, &s_key, sizeof secret);
    snprintf(path, sizeof path, "%s/platform.pub", dir);
    assert_int_equal(ip_key_load_public(path, &pub, err, sizeof err), 0);
    assert_memory_equal(pub.public_key, s_key.public_key, IP_PUBLIC_KEY_LEN);
    assert_string_equal(pub.key_id, s_key.key_id);
    /* A .pub has no secret. */
    assert_int_equal(ip_key_load_secret(path, &secret, err, sizeof err), -1);
    assert_non_null(strstr(err, "is this a .pub file?"));
    /* Never overwritten. */
    assert_int_equal(ip_key_save(dir, "platform", &s_key, err, sizeof err), -1);
    assert_non_null(strstr(err, "never overwritten"));
    /* A public key altered in the file no longer matches its key id. */
    char text[600];
    ip_key_public_text(&s_key, text, sizeof text);
    char *p = strstr(text, "public-key = \"") + strlen("public-key = \"");
    *p = *p == 'a' ? 'b' : 'a';
    assert_int_equal(ccip_test_write_file(dir, "altered.pub", text), 0);
    snprintf(path, sizeof path, "%s/altered.pub", dir);
    assert_int_equal(ip_key_load_public(path, &pub, err, sizeof err), -1);
    assert_non_null(strstr(err, "`key-id` must be"));
    assert_int_equal(ip_key_save(dir, "Bad/Name", &s_key, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_format_parse_verify),
        cmocka_unit_test(test_every_flipped_byte_fails),
        cmocka_unit_test(test_names_the_line),
        cmocka_unit_test(test_other_key),
        cmocka_unit_test(test_key_files),
    };
    return cmocka_run_group_tests(tests, s_setup, NULL);
}
