/* ccip_config: a field table turns a libconfig file, the environment and
 * defaults into a typed struct, or into one sentence saying what to fix and
 * on which line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ccip_config.h"
#include "ccip_log.h"
#include "ccip_test.h"

/* The configuration of an imaginary intake service. */
typedef struct {
    char *endpoint;    /* broker endpoint */
    int64_t pool_size; /* database connections */
    char *db_host;     /* required */
    char *db_password; /* usually from CCIP_DB_PASSWORD */
    int64_t db_port;   /* may come from CCIP_DB_PORT */
    int debug;         /* bool */
} s_conf;

static const ccip_config_field S_FIELDS[] = {
    {"broker.endpoint", CCIP_CFG_STRING, offsetof(s_conf, endpoint), 1, 64, "tcp://127.0.0.1:5555",
     NULL, "a broker endpoint such as tcp://127.0.0.1:5555"},
    {"db.pool_size", CCIP_CFG_INT, offsetof(s_conf, pool_size), 1, 64, "5", NULL, NULL},
    {"db.host", CCIP_CFG_STRING, offsetof(s_conf, db_host), 1, 253, NULL, NULL,
     "the host name of the PostgreSQL server"},
    {"db.password", CCIP_CFG_STRING, offsetof(s_conf, db_password), 0, 8, "", "CCIP_DB_PASSWORD",
     NULL},
    {"db.port", CCIP_CFG_INT, offsetof(s_conf, db_port), 1, 65535, "5432", "CCIP_DB_PORT", NULL},
    {"debug", CCIP_CFG_BOOL, offsetof(s_conf, debug), 0, 0, "false", NULL, NULL},
};
#define NFIELDS (sizeof S_FIELDS / sizeof S_FIELDS[0])

static char s_err[512];
static char s_dir[256];
static char s_path[512];

/* Each test gets its own directory with one intake.conf in it. */
static int s_setup(void **state)
{
    (void)state;
    unsetenv("CCIP_DB_PASSWORD");
    unsetenv("CCIP_DB_PORT");
    s_err[0] = '\0';
    if (ccip_test_tmpdir(s_dir, sizeof s_dir) < 0)
        return -1;
    snprintf(s_path, sizeof s_path, "%s/intake.conf", s_dir);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    static const char *const names[] = {"intake.conf", "db.conf", "bad.conf", "outer.conf"};
    char path[600];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", s_dir, names[i]);
        unlink(path);
    }
    return rmdir(s_dir);
}

/* Writes intake.conf and loads it. */
static int s_load_text(const char *text, s_conf *c, int *unknown)
{
    assert_int_equal(ccip_test_write_file(s_dir, "intake.conf", text), 0);
    return ccip_config_load(s_path, S_FIELDS, NFIELDS, c, unknown, s_err, sizeof s_err);
}

/* Asserts that loading `text` fails with exactly `message`, and leaves no
 * string behind. */
static void s_assert_fails(const char *text, const char *message)
{
    s_conf c;
    memset(&c, 0xAB, sizeof c); /* garbage in: load must not free it */
    assert_int_equal(s_load_text(text, &c, NULL), -1);
    assert_string_equal(s_err, message);
    assert_null(c.endpoint);
    assert_null(c.db_host);
    assert_null(c.db_password);
}

static void test_file_values_and_defaults(void **state)
{
    (void)state;
    s_conf c;
    int unknown = -1;
    assert_int_equal(s_load_text("# intake\n"
                                 "db = {\n"
                                 "  host = \"db.internal\";\n"
                                 "  pool_size = 0x10;\n"
                                 "};\n"
                                 "debug = true;\n",
                                 &c, &unknown),
                     0);
    assert_string_equal(s_err, "");
    assert_int_equal(unknown, 0);
    assert_string_equal(c.db_host, "db.internal");
    assert_int_equal(c.pool_size, 16);
    assert_int_equal(c.debug, 1);
    /* Not in the file: defaults. */
    assert_string_equal(c.endpoint, "tcp://127.0.0.1:5555");
    assert_string_equal(c.db_password, "");
    assert_int_equal(c.db_port, 5432);
    ccip_config_release(S_FIELDS, NFIELDS, &c);
    assert_null(c.endpoint);
    assert_null(c.db_host);
    ccip_config_release(S_FIELDS, NFIELDS, &c); /* twice is fine */
    ccip_config_release(S_FIELDS, NFIELDS, NULL);
}

static void test_null_file_uses_defaults_and_environment(void **state)
{
    (void)state;
    static const ccip_config_field fields[] = {
        {"broker.endpoint", CCIP_CFG_STRING, offsetof(s_conf, endpoint), 0, 0,
         "tcp://127.0.0.1:5555", NULL, NULL},
        {"db.password", CCIP_CFG_STRING, offsetof(s_conf, db_password), 0, 0, NULL,
         "CCIP_DB_PASSWORD", NULL},
        {"db.port", CCIP_CFG_INT, offsetof(s_conf, db_port), 1, 65535, "5432", "CCIP_DB_PORT",
         NULL},
        {"debug", CCIP_CFG_BOOL, offsetof(s_conf, debug), 0, 0, "TRUE", NULL, NULL},
    };
    s_conf c;
    int unknown = -1;
    setenv("CCIP_DB_PASSWORD", "s3cret", 1);
    assert_int_equal(ccip_config_load(NULL, fields, 4, &c, &unknown, s_err, sizeof s_err), 0);
    assert_int_equal(unknown, 0);
    assert_string_equal(c.endpoint, "tcp://127.0.0.1:5555");
    assert_string_equal(c.db_password, "s3cret");
    assert_int_equal(c.db_port, 5432);
    assert_int_equal(c.debug, 1);
    ccip_config_release(fields, 4, &c);

    /* Without the variable, the required password has nowhere to come from. */
    unsetenv("CCIP_DB_PASSWORD");
    assert_int_equal(ccip_config_load(NULL, fields, 4, &c, NULL, s_err, sizeof s_err), -1);
    assert_string_equal(s_err, "`db.password` is required and no configuration file was given; "
                               "it can also be set with environment CCIP_DB_PASSWORD");
    assert_null(c.endpoint);
    assert_null(c.db_password);
}

static void test_missing_file(void **state)
{
    (void)state;
    s_conf c;
    char missing[600];
    snprintf(missing, sizeof missing, "%s/nope.conf", s_dir);
    int unknown = -1;
    assert_int_equal(
        ccip_config_load(missing, S_FIELDS, NFIELDS, &c, &unknown, s_err, sizeof s_err), -1);
    char expected[700];
    snprintf(expected, sizeof expected, "could not read %s: No such file or directory", missing);
    assert_string_equal(s_err, expected);
    assert_int_equal(unknown, 0);
    assert_null(c.endpoint);

    /* A directory is not a file (and must not reach libconfig's scanner). */
    assert_int_equal(ccip_config_load(s_dir, S_FIELDS, NFIELDS, &c, NULL, s_err, sizeof s_err), -1);
    snprintf(expected, sizeof expected, "could not read %s: Is a directory", s_dir);
    assert_string_equal(s_err, expected);
}

static void test_syntax_error_has_line(void **state)
{
    (void)state;
    s_assert_fails("db = {\n"
                   "  host = \"x\";\n"
                   "  pool_size = ;\n"
                   "};\n",
                   "intake.conf:3: syntax error");
    s_assert_fails("debug = true;\n"
                   "debug = false;\n",
                   "intake.conf:2: duplicate setting name");
}

static void test_wrong_type_says_what_was_given(void **state)
{
    (void)state;
    s_assert_fails(
        "db = { host = \"h\";\n"
        "  pool_size = \"abc\"; };\n",
        "intake.conf:2: `db.pool_size` must be an integer between 1 and 64, got \"abc\"");
    s_assert_fails("db = { host = \"h\"; pool_size = 2.0; };\n",
                   "intake.conf:1: `db.pool_size` must be an integer between 1 and 64, got 2.0");
    s_assert_fails("db = { host = \"h\"; };\ndebug = 1;\n",
                   "intake.conf:2: `debug` must be true or false, got 1");
    s_assert_fails("db = { host = \"h\"; };\ndebug = \"yes\";\n",
                   "intake.conf:2: `debug` must be true or false, got \"yes\"");
    s_assert_fails("db = { host = 5; };\n",
                   "intake.conf:1: `db.host` must be a string of 1 to 253 bytes, got 5 "
                   "(expected: the host name of the PostgreSQL server)");
    s_assert_fails(
        "db = { host = \"h\"; };\nbroker = { endpoint = { a = 1; }; };\n",
        "intake.conf:2: `broker.endpoint` must be a string of 1 to 64 bytes, got a group "
        "(expected: a broker endpoint such as tcp://127.0.0.1:5555)");
    s_assert_fails("db = { host = [\"a\", \"b\"]; };\n",
                   "intake.conf:1: `db.host` must be a string of 1 to 253 bytes, got an array "
                   "(expected: the host name of the PostgreSQL server)");
}

static void test_out_of_range(void **state)
{
    (void)state;
    s_assert_fails("db = {\n  host = \"h\";\n  pool_size = 99;\n};\n",
                   "intake.conf:3: `db.pool_size` must be an integer between 1 and 64, got 99");
    s_assert_fails("db = { host = \"h\"; pool_size = 0; };\n",
                   "intake.conf:1: `db.pool_size` must be an integer between 1 and 64, got 0");
    s_assert_fails("db = { host = \"h\"; pool_size = -3; };\n",
                   "intake.conf:1: `db.pool_size` must be an integer between 1 and 64, got -3");
}

/* libconfig 1.5 reads plain integer literals with atoi(): 4294967301 would
 * arrive as 5 and pass the range check. The loader sees what was written. */
static void test_large_literals_are_not_truncated(void **state)
{
    (void)state;
    s_assert_fails("db = { host = \"h\"; pool_size = 4294967301; };\n",
                   "intake.conf:1: `db.pool_size` must be an integer between 1 and 64, "
                   "got 4294967301");
    s_assert_fails("db = { host = \"h\"; pool_size = 99999999999999999999999; };\n",
                   "intake.conf:1: `db.pool_size` must be an integer between 1 and 64, "
                   "got 99999999999999999999999");

    static const ccip_config_field wide[] = {
        {"limits.max_bytes", CCIP_CFG_INT, offsetof(s_conf, pool_size), 0, 0, NULL, NULL, NULL},
    };
    s_conf c;
    assert_int_equal(ccip_test_write_file(s_dir, "intake.conf",
                                          "limits = {\n"
                                          "  # max_bytes = 7;\n"
                                          "  max_bytes = 10000000000; # ten GB\n"
                                          "};\n"),
                     0);
    assert_int_equal(ccip_config_load(s_path, wide, 1, &c, NULL, s_err, sizeof s_err), 0);
    assert_int_equal(c.pool_size, 10000000000LL);
    assert_int_equal(ccip_test_write_file(s_dir, "intake.conf", "limits: { max_bytes: -5L; };\n"),
                     0);
    assert_int_equal(ccip_config_load(s_path, wide, 1, &c, NULL, s_err, sizeof s_err), 0);
    assert_int_equal(c.pool_size, -5);
}

static void test_string_too_long(void **state)
{
    (void)state;
    /* The value is not echoed: it may be a secret. */
    s_assert_fails(
        "db = { host = \"h\"; password = \"correct horse\"; };\n",
        "intake.conf:1: `db.password` must be a string of at most 8 bytes, got 13 bytes");
    s_assert_fails("db = { host = \"\"; };\n",
                   "intake.conf:1: `db.host` must be a string of 1 to 253 bytes, got 0 bytes "
                   "(expected: the host name of the PostgreSQL server)");
}

static void test_required_missing(void **state)
{
    (void)state;
    s_assert_fails("db = { pool_size = 4; };\n",
                   "intake.conf: `db.host` is required "
                   "(expected: the host name of the PostgreSQL server)");
}

/* Reads what the logger wrote into the pipe. */
static void s_read_log(int fd, char *buf, size_t len)
{
    ssize_t n = read(fd, buf, len - 1);
    buf[n < 0 ? 0 : n] = '\0';
}

static void test_unknown_keys_are_warned_and_counted(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    ccip_log_init("intake", "intake-1", CCIP_LOG_INFO);
    ccip_log_set_fd(fds[1]);
    s_conf c;
    int unknown = -1;
    int rc = s_load_text("db = {\n"
                         "  host = \"h\";\n"
                         "  pool_sise = 4;\n"
                         "};\n"
                         "metrics = { port = 9100; path = \"/m\"; };\n"
                         "debug = false;\n",
                         &c, &unknown);
    ccip_log_set_fd(-1);
    close(fds[1]);
    char log[4096];
    s_read_log(fds[0], log, sizeof log);
    close(fds[0]);

    assert_int_equal(rc, 0);
    assert_int_equal(unknown, 2); /* db.pool_sise and the metrics group, once */
    assert_int_equal(c.pool_size, 5);
    assert_non_null(strstr(log, "level=warn svc=intake inst=intake-1 "
                                "msg=\"unknown configuration key\" "
                                "file=intake.conf line=3 key=db.pool_sise\n"));
    assert_non_null(strstr(log, "msg=\"unknown configuration key\" "
                                "file=intake.conf line=5 key=metrics\n"));
    assert_null(strstr(log, "metrics.port"));
    assert_null(strstr(log, "key=debug"));
    ccip_config_release(S_FIELDS, NFIELDS, &c);
}

static void test_environment_overrides_file(void **state)
{
    (void)state;
    s_conf c;
    setenv("CCIP_DB_PORT", "6543", 1);
    setenv("CCIP_DB_PASSWORD", "fromenv", 1);
    /* The file's own password would be too long; it is overridden, so it is
     * not checked. */
    assert_int_equal(s_load_text("db = { host = \"h\"; port = 7000;\n"
                                 "  password = \"a placeholder that is far too long\"; };\n",
                                 &c, NULL),
                     0);
    assert_int_equal(c.db_port, 6543);
    assert_string_equal(c.db_password, "fromenv");
    ccip_config_release(S_FIELDS, NFIELDS, &c);

    /* Set to the empty string counts as set. */
    setenv("CCIP_DB_PASSWORD", "", 1);
    assert_int_equal(s_load_text("db = { host = \"h\"; password = \"file\"; };\n", &c, NULL), 0);
    assert_string_equal(c.db_password, "");
    ccip_config_release(S_FIELDS, NFIELDS, &c);
}

static void test_malformed_environment(void **state)
{
    (void)state;
    setenv("CCIP_DB_PORT", "x", 1);
    s_assert_fails("db = { host = \"h\"; port = 7000; };\n",
                   "environment CCIP_DB_PORT: must be an integer between 1 and 65535, got \"x\"");
    setenv("CCIP_DB_PORT", " 80", 1);
    s_assert_fails("db = { host = \"h\"; };\n",
                   "environment CCIP_DB_PORT: must be an integer between 1 and 65535, got \" 80\"");
    setenv("CCIP_DB_PORT", "70000", 1);
    s_assert_fails("db = { host = \"h\"; };\n",
                   "environment CCIP_DB_PORT: must be an integer between 1 and 65535, got 70000");
    setenv("CCIP_DB_PORT", "80", 1);
    setenv("CCIP_DB_PASSWORD", "much too long", 1);
    s_assert_fails("db = { host = \"h\"; };\n",
                   "environment CCIP_DB_PASSWORD: must be a string of at most 8 bytes, got 13 "
                   "bytes");
}

static void test_include_is_relative_to_the_file(void **state)
{
    (void)state;
    assert_int_equal(ccip_test_write_file(s_dir, "db.conf",
                                          "db = {\n  host = \"inc\";\n"
                                          "  pool_size = 100;\n};\n"),
                     0);
    s_assert_fails("@include \"db.conf\"\n",
                   "db.conf:3: `db.pool_size` must be an integer between 1 and 64, got 100");
    assert_int_equal(ccip_test_write_file(s_dir, "bad.conf", "\n\nx = ;\n"), 0);
    s_assert_fails("db = { host = \"h\"; };\n@include \"bad.conf\"\n", "bad.conf:3: syntax error");
}

/* libconfig's scanner exits the process when an include cannot be read
 * (a directory) and blocks on a FIFO: each is refused with its line before
 * libconfig sees it, at any depth; an @include in a comment or a string is
 * not one. */
static void test_include_of_what_is_not_a_file(void **state)
{
    (void)state;
    s_assert_fails("\n  @include \".\"\n",
                   "intake.conf:2: @include \".\": not a regular file; name a "
                   "configuration file");
    char fifo[600];
    snprintf(fifo, sizeof fifo, "%s/pipe", s_dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    s_assert_fails(
        "@include \"pipe\"\n",
        "intake.conf:1: @include \"pipe\": not a regular file; name a configuration file");
    unlink(fifo);
    s_assert_fails("@include \"nowhere.conf\"\n",
                   "intake.conf:1: @include \"nowhere.conf\": No such "
                   "file or directory; name a configuration file");
    assert_int_equal(ccip_test_write_file(s_dir, "outer.conf", "# outer\n@include \"..\"\n"), 0);
    s_assert_fails("@include \"outer.conf\"\n",
                   "outer.conf:2: @include \"..\": not a regular file; name a configuration file");
    /* not includes: a comment, a string, a block comment */
    s_assert_fails("# @include \".\"\nx = \"a\n@include \\\".\\\"\";\n/*\n@include \".\"\n*/\n"
                   "db = { pool_size = 100; };\n",
                   "intake.conf:7: `db.pool_size` must be an integer between 1 and 64, got 100");
}

static void test_bad_field_table_or_default(void **state)
{
    (void)state;
    s_conf c;
    const ccip_config_field bad_default[] = {
        {"db.port", CCIP_CFG_INT, offsetof(s_conf, db_port), 1, 65535, "five", NULL, NULL},
    };
    assert_int_equal(ccip_config_load(NULL, bad_default, 1, &c, NULL, s_err, sizeof s_err), -1);
    assert_string_equal(
        s_err, "default of `db.port`: must be an integer between 1 and 65535, got \"five\"");

    const ccip_config_field bad_range[] = {
        {"db.port", CCIP_CFG_INT, offsetof(s_conf, db_port), 10, 1, "5", NULL, NULL},
    };
    assert_int_equal(ccip_config_load(NULL, bad_range, 1, &c, NULL, s_err, sizeof s_err), -1);
    assert_string_equal(s_err, "field table entry 0 (`db.port`) has min 10 greater than max 1");

    const ccip_config_field no_path[] = {
        {NULL, CCIP_CFG_INT, offsetof(s_conf, db_port), 0, 0, "5", NULL, NULL},
    };
    assert_int_equal(ccip_config_load(NULL, no_path, 1, &c, NULL, s_err, sizeof s_err), -1);
    assert_string_equal(s_err, "field table entry 0 has no path");

    assert_int_equal(ccip_config_load(NULL, S_FIELDS, NFIELDS, NULL, NULL, s_err, sizeof s_err),
                     -1);
    assert_string_equal(s_err, "invalid arguments: out is NULL");
    /* No message buffer is fine too. */
    assert_int_equal(ccip_config_load(NULL, no_path, 1, &c, NULL, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_values_and_defaults, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_null_file_uses_defaults_and_environment, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error_has_line, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_type_says_what_was_given, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_out_of_range, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_large_literals_are_not_truncated, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_string_too_long, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_required_missing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_keys_are_warned_and_counted, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_environment_overrides_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_environment, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_include_is_relative_to_the_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_include_of_what_is_not_a_file, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_field_table_or_default, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
