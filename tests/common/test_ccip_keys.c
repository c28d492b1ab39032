/* ccip_keys on a real directory (label unit): a saved pair loads back, the
 * secret file is private, a key is never overwritten, bad names and bad
 * files are refused with a sentence naming the file; the key registry says
 * what each key may be: a .pub round-trips its binding; a .pub made before
 * keys were bound, the bus's own key, two files with one public key and
 * inconsistent bindings are refused with a sentence that says what to do; a
 * front door's claims are checked against its binding. (Keys let in over
 * CURVE: test_ccip_zap.c.) */
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

static char s_dir[256]; /* this test's fresh directory (s_setup) */

static int s_setup(void **state)
{
    if (ccip_test_tmpdir(s_dir, sizeof s_dir) < 0)
        return -1;
    *state = s_dir;
    return 0;
}

/* A fresh subdirectory of s_dir. */
static const char *s_sub(const char *name)
{
    static char path[400];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    mkdir(path, 0700);
    return path;
}

static void s_path(char *out, size_t len, const char *dir, const char *file)
{
    snprintf(out, len, "%s/%s", dir, file);
}

/* Bindings for the tests of files and names. */
static const ccip_key_binding s_svc_intake = {.kind = CCIP_KEY_SERVICE, .service = "intake"};
static const ccip_key_binding s_svc_funding = {.kind = CCIP_KEY_SERVICE, .service = "funding"};
static const ccip_key_binding s_front_any = {.kind = CCIP_KEY_FRONT_DOOR, .any_person = 1};

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

    assert_int_equal(ccip_keypair_save(dir, "intake", &kp, &s_svc_intake, err, sizeof err), 0);
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
    assert_int_equal(ccip_keypair_save(dir, "funding", &a, &s_svc_funding, err, sizeof err), 0);
    assert_int_equal(ccip_keypair_save(dir, "funding", &b, &s_svc_funding, err, sizeof err), -1);
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
        assert_int_equal(ccip_keypair_save(dir, bad[i], &kp, &s_svc_intake, err, sizeof err), -1);
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
    assert_int_equal(ccip_keypair_save(sub, "ccipctl", &ctl, &s_front_any, err, sizeof err), 0);
    assert_int_equal(ccip_keypair_save(sub, "intake", &svc, &s_svc_intake, err, sizeof err), 0);
    kr = ccip_keyring_load(sub, err, sizeof err);
    assert_non_null(kr);
    assert_int_equal(ccip_keyring_size(kr), 2); /* the .pub files; .key files are not read */
    const ccip_key_entry *e = ccip_keyring_find(kr, ctl.public_key);
    assert_non_null(e);
    assert_string_equal(e->name, "ccipctl");
    assert_int_equal(e->binding.kind, CCIP_KEY_FRONT_DOOR);
    e = ccip_keyring_find_name(kr, "intake");
    assert_non_null(e);
    assert_string_equal(e->public_key, svc.public_key);
    assert_int_equal(e->binding.kind, CCIP_KEY_SERVICE);
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

static void test_bindings_round_trip(void **state)
{
    (void)state;
    const char *dir = s_sub("ring");
    char err[400];
    ccip_keypair kp[4];
    ccip_key_binding svc = {.kind = CCIP_KEY_SERVICE, .service = "intake"};
    ccip_key_binding person = {.kind = CCIP_KEY_FRONT_DOOR, .person = "zhou.min"};
    assert_int_equal(ccip_key_roles_parse(&person, "staff,office", err, sizeof err), 0);
    ccip_key_binding any = {.kind = CCIP_KEY_FRONT_DOOR, .any_person = 1};
    ccip_key_binding admin = {.kind = CCIP_KEY_ADMIN};
    const ccip_key_binding *b[] = {&svc, &person, &any, &admin};
    const char *names[] = {"intake", "zhou-min", "gateway", "operator"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ccip_keypair_generate(&kp[i]), 0);
        assert_int_equal(ccip_keypair_save(dir, names[i], &kp[i], b[i], err, sizeof err), 0);
    }
    ccip_keyring *kr = ccip_keyring_load(dir, err, sizeof err);
    assert_non_null(kr);
    assert_int_equal(ccip_keyring_size(kr), 4);
    const ccip_key_entry *e = ccip_keyring_find(kr, kp[1].public_key);
    assert_string_equal(e->name, "zhou-min");
    assert_int_equal(e->binding.kind, CCIP_KEY_FRONT_DOOR);
    assert_string_equal(e->binding.person, "zhou.min");
    assert_int_equal(e->binding.nroles, 2);
    assert_string_equal(e->binding.roles[1], "office");
    assert_string_equal(ccip_keyring_find_name(kr, "intake")->binding.service, "intake");
    assert_true(ccip_keyring_find_name(kr, "gateway")->binding.any_person);
    assert_int_equal(ccip_keyring_find_name(kr, "operator")->binding.kind, CCIP_KEY_ADMIN);
    assert_int_equal(ccip_keyring_serves(kr, "intake", 6), 1);
    assert_int_equal(ccip_keyring_serves(kr, "intake\0x", 8), 0); /* whole names only */
    assert_int_equal(ccip_keyring_serves(kr, "funding", 7), 0);
    ccip_keyring_destroy(&kr);
}

static void test_old_and_wrong_files_refused(void **state)
{
    (void)state;
    char err[600];
    ccip_keypair kp;
    ccip_keypair_generate(&kp);
    char text[256];
    /* Made before keys were bound: refused, saying how to make it again. */
    const char *dir = s_sub("old");
    snprintf(text, sizeof text, "public-key = \"%s\";\nfront-door = false;\n", kp.public_key);
    ccip_test_write_file(dir, "intake.pub", text);
    assert_null(ccip_keyring_load(dir, err, sizeof err));
    assert_non_null(strstr(err, "intake.pub: this key does not say what it may be"));
    assert_non_null(strstr(err, "made before keys were bound"));
    assert_non_null(strstr(err, "ccipctl keygen NAME --service SERVICE"));
    /* The bus's own key does not belong in the keys directory. */
    dir = s_sub("bus");
    ccip_key_binding bus = {.kind = CCIP_KEY_BUS};
    assert_int_equal(ccip_keypair_save(dir, "bus", &kp, &bus, err, sizeof err), 0);
    assert_null(ccip_keyring_load(dir, err, sizeof err));
    assert_non_null(strstr(err, "the bus's own public key"));
    /* One public key under two names. */
    dir = s_sub("twins");
    snprintf(text, sizeof text, "public-key = \"%s\";\nkind = \"admin\";\n", kp.public_key);
    ccip_test_write_file(dir, "a.pub", text);
    ccip_test_write_file(dir, "b.pub", text);
    assert_null(ccip_keyring_load(dir, err, sizeof err));
    assert_non_null(strstr(err, "holds the same public key as"));
    /* Inconsistent bindings. */
    const char *bad[] = {
        "kind = \"service\";\n",                            /* which service? */
        "kind = \"service\";\nservice = \"Intake!\";\n",    /* not a name */
        "kind = \"front-door\";\n",                         /* whom? */
        "kind = \"front-door\";\nperson = \"zhou.min\";\n", /* no roles */
        "kind = \"front-door\";\nperson = \"zhou.min\";\nroles = [\"service\"];\n", /* reserved */
        "kind = \"front-door\";\nany-person = true;\nroles = [\"staff\"];\n",
        "kind = \"wizard\";\n",
    };
    const char *why[] = {
        "names its service",  "names its service",           "bound to one person",
        "needs 1 to 8 roles", "cannot be given to a person", "takes no person and no roles",
        "`kind` must be"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu", i);
        dir = s_sub(name);
        snprintf(text, sizeof text, "public-key = \"%s\";\n%s", kp.public_key, bad[i]);
        ccip_test_write_file(dir, "k.pub", text);
        assert_null(ccip_keyring_load(dir, err, sizeof err));
        if (!strstr(err, why[i]))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err, why[i]);
    }
    /* Saving checks the binding too, and leaves no file behind. */
    dir = s_sub("save");
    ccip_key_binding none = {0};
    assert_int_equal(ccip_keypair_save(dir, "x", &kp, &none, err, sizeof err), -1);
    assert_int_equal(ccip_keypair_save(dir, "x", &kp, NULL, err, sizeof err), -1);
    ccip_keyring *kr = ccip_keyring_load(dir, err, sizeof err);
    assert_int_equal(ccip_keyring_size(kr), 0);
    ccip_keyring_destroy(&kr);
}

static void test_claims(void **state)
{
    (void)state;
    char why[400];
    ccip_key_binding p = {.kind = CCIP_KEY_FRONT_DOOR, .person = "zhou.min"};
    assert_int_equal(ccip_key_roles_parse(&p, "staff,office", why, sizeof why), 0);
    /* Its own person and roles, or nothing claimed. */
    assert_int_equal(ccip_key_claim_check("zhou-min", &p, "zhou.min", "staff", why, sizeof why), 0);
    assert_int_equal(ccip_key_claim_check("zhou-min", &p, "", "office", why, sizeof why), 0);
    assert_int_equal(ccip_key_claim_check("zhou-min", &p, "", "", why, sizeof why), 0);
    /* Someone else, or another role. */
    assert_int_equal(ccip_key_claim_check("zhou-min", &p, "li.lei", "staff", why, sizeof why), -1);
    assert_non_null(strstr(why, "bound to person zhou.min and may not act as li.lei"));
    assert_int_equal(ccip_key_claim_check("zhou-min", &p, "zhou.min", "admin", why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "may not claim role \"admin\""));
    assert_int_equal(ccip_key_claim_check("zhou-min", &p, "zhou.min.x", "", why, sizeof why), -1);
    /* Any person, but never the roles of keys and of the service itself. */
    ccip_key_binding any = {.kind = CCIP_KEY_FRONT_DOOR, .any_person = 1};
    assert_int_equal(ccip_key_claim_check("gw", &any, "org:X", "applicant", why, sizeof why), 0);
    assert_int_equal(ccip_key_claim_check("gw", &any, "x", "service", why, sizeof why), -1);
    assert_int_equal(ccip_key_claim_check("gw", &any, "x", "system", why, sizeof why), -1);
    /* Roles lists: well formed or refused. */
    ccip_key_binding r = {.kind = CCIP_KEY_FRONT_DOOR, .person = "a"};
    assert_int_equal(ccip_key_roles_parse(&r, "staff,,office", why, sizeof why), -1);
    assert_int_equal(ccip_key_roles_parse(&r, "Staff", why, sizeof why), -1);
    assert_int_equal(ccip_key_roles_parse(&r, "a,b,c,d,e,f,g,h,i", why, sizeof why), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_pair_saved_and_loaded, s_setup),
        cmocka_unit_test_setup(test_never_overwrites, s_setup),
        cmocka_unit_test_setup(test_bad_names_and_files_refused, s_setup),
        cmocka_unit_test_setup(test_keyring, s_setup),
        cmocka_unit_test_setup(test_bindings_round_trip, s_setup),
        cmocka_unit_test_setup(test_old_and_wrong_files_refused, s_setup),
        cmocka_unit_test_setup(test_claims, s_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
