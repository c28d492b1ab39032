/* ccip_keys on a real directory (label unit): a saved pair loads back, the
 * secret file is private, a key is never overwritten, bad names and bad
 * files are refused with a sentence naming the file; a keyring holds the
 * .pub files of a directory, front doors marked, and finds them by key and
 * by name. (Keys let in over CURVE: test_ccip_zap.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ccip_keys.h"

#include "ccip_test.h"

static int s_setup(void **state)
{
    static char dir[256];
    if (ccip_test_tmpdir(dir, sizeof dir) < 0)
        return -1;
    *state = dir;
    return 0;
}

static void s_path(char *out, size_t len, const char *dir, const char *file)
{
    snprintf(out, len, "%s/%s", dir, file);
}

static void test_pair_saved_and_loaded(void **state)
{
    const char *dir = *state;
    ccip_keypair kp, back, other;
    char err[512], path[512], pub[CCIP_KEY_Z85_LEN + 1];
    assert_int_equal(ccip_keypair_generate(&kp), 0);
    assert_int_equal(strlen(kp.public_key), CCIP_KEY_Z85_LEN);
    assert_int_equal(strlen(kp.secret_key), CCIP_KEY_Z85_LEN);
    assert_int_equal(ccip_keypair_generate(&other), 0);
    assert_string_not_equal(kp.public_key, other.public_key);

    assert_int_equal(ccip_keypair_save(dir, "intake", &kp, 0, err, sizeof err), 0);
    s_path(path, sizeof path, dir, "intake.key");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* the secret is the owner's alone */
    assert_int_equal(ccip_keypair_load(path, &back, err, sizeof err), 0);
    assert_string_equal(back.public_key, kp.public_key);
    assert_string_equal(back.secret_key, kp.secret_key);
    /* The public key reads from either file. */
    assert_int_equal(ccip_public_key_load(path, pub, err, sizeof err), 0);
    assert_string_equal(pub, kp.public_key);
    s_path(path, sizeof path, dir, "intake.pub");
    assert_int_equal(ccip_public_key_load(path, pub, err, sizeof err), 0);
    assert_string_equal(pub, kp.public_key);
    /* A .pub has no secret: not a key pair. */
    assert_int_equal(ccip_keypair_load(path, &back, err, sizeof err), -1);
    assert_non_null(strstr(err, "is this a .pub file?"));
}

static void test_never_overwrites(void **state)
{
    const char *dir = *state;
    ccip_keypair a, b, back;
    char err[512], path[512];
    ccip_keypair_generate(&a);
    ccip_keypair_generate(&b);
    assert_int_equal(ccip_keypair_save(dir, "funding", &a, 0, err, sizeof err), 0);
    assert_int_equal(ccip_keypair_save(dir, "funding", &b, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "funding.key"));
    s_path(path, sizeof path, dir, "funding.key");
    assert_int_equal(ccip_keypair_load(path, &back, err, sizeof err), 0);
    assert_string_equal(back.public_key, a.public_key); /* still the first */
}

static void test_bad_names_and_files_refused(void **state)
{
    const char *dir = *state;
    ccip_keypair kp;
    char err[512], path[512];
    ccip_keypair_generate(&kp);
    const char *bad[] = {
        "",    "Intake", "../etc",
        "a b", "x.key",  "0123456789012345678901234567890123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(ccip_keypair_save(dir, bad[i], &kp, 0, err, sizeof err), -1);
        assert_non_null(strstr(err, "must be 1-63 characters of a-z, 0-9, _ and -"));
    }
    s_path(path, sizeof path, dir, "missing.key");
    assert_int_equal(ccip_keypair_load(path, &kp, err, sizeof err), -1);
    assert_non_null(strstr(err, "could not read key file"));
    assert_non_null(strstr(err, "missing.key"));
    assert_int_equal(ccip_test_write_file(dir, "short.key", "public-key = \"abc\";\n"), 0);
    s_path(path, sizeof path, dir, "short.key");
    assert_int_equal(ccip_keypair_load(path, &kp, err, sizeof err), -1);
    assert_non_null(strstr(err, "short.key: `public-key` must be a 40-character Z85 string"));
    assert_int_equal(ccip_test_write_file(dir, "broken.key", "public-key = \n"), 0);
    s_path(path, sizeof path, dir, "broken.key");
    assert_int_equal(ccip_keypair_load(path, &kp, err, sizeof err), -1);
    assert_non_null(strstr(err, "broken.key:")); /* with the line of the syntax error */
}

static void test_keyring(void **state)
{
    const char *dir = *state;
    char err[512], sub[300];
    s_path(sub, sizeof sub, dir, "ring");
    assert_int_equal(mkdir(sub, 0700), 0);
    /* An empty directory is an empty keyring, not an error. */
    ccip_keyring *kr = ccip_keyring_load(sub, err, sizeof err);
    assert_non_null(kr);
    assert_int_equal(ccip_keyring_size(kr), 0);
    ccip_keyring_destroy(&kr);

    ccip_keypair ctl, svc;
    ccip_keypair_generate(&ctl);
    ccip_keypair_generate(&svc);
    assert_int_equal(ccip_keypair_save(sub, "ccipctl", &ctl, 1, err, sizeof err), 0);
    assert_int_equal(ccip_keypair_save(sub, "intake", &svc, 0, err, sizeof err), 0);
    kr = ccip_keyring_load(sub, err, sizeof err);
    assert_non_null(kr);
    assert_int_equal(ccip_keyring_size(kr), 2); /* the .pub files; .key files are not read */
    const ccip_key_entry *e = ccip_keyring_find(kr, ctl.public_key);
    assert_non_null(e);
    assert_string_equal(e->name, "ccipctl");
    assert_int_equal(e->front_door, 1);
    e = ccip_keyring_find_name(kr, "intake");
    assert_non_null(e);
    assert_string_equal(e->public_key, svc.public_key);
    assert_int_equal(e->front_door, 0);
    ccip_keypair stranger;
    ccip_keypair_generate(&stranger);
    assert_null(ccip_keyring_find(kr, stranger.public_key));
    assert_null(ccip_keyring_find_name(kr, "stranger"));
    ccip_keyring_destroy(&kr);
    ccip_keyring_destroy(&kr); /* safe twice */

    /* A malformed .pub is an error the operator must see. */
    assert_int_equal(ccip_test_write_file(sub, "bad.pub", "public-key = \"short\";\n"), 0);
    assert_null(ccip_keyring_load(sub, err, sizeof err));
    assert_non_null(strstr(err, "bad.pub"));
    s_path(sub, sizeof sub, dir, "no-such-dir");
    assert_null(ccip_keyring_load(sub, err, sizeof err));
    assert_non_null(strstr(err, "could not open keys directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pair_saved_and_loaded, s_setup),
        cmocka_unit_test_setup(test_never_overwrites, s_setup),
        cmocka_unit_test_setup(test_bad_names_and_files_refused, s_setup),
        cmocka_unit_test_setup(test_keyring, s_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
