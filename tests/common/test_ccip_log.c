/* ccip_log: lines are key=value, carry service and instance, quote what needs
 * quoting, respect the level and stay one line even for hostile values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include "ccip_log.h"

static char s_out[2 * CCIP_LOG_LINE_MAX];

/* Runs the logger into a pipe and returns what it wrote. */
static const char *s_capture_begin(int fds[2])
{
    assert_int_equal(pipe(fds), 0);
    ccip_log_set_fd(fds[1]);
    return s_out;
}

static const char *s_capture_end(int fds[2])
{
    ccip_log_set_fd(-1);
    close(fds[1]);
    ssize_t n = read(fds[0], s_out, sizeof s_out - 1);
    s_out[n < 0 ? 0 : n] = '\0';
    close(fds[0]);
    return s_out;
}

static void test_line_has_fields(void **state)
{
    (void)state;
    int fds[2];
    ccip_log_init("funding", "funding-1", CCIP_LOG_INFO);
    s_capture_begin(fds);
    ccip_log_warn("could not reserve budget", "award", "42", "reason", "budget exhausted");
    const char *out = s_capture_end(fds);
    assert_non_null(strstr(out, " level=warn svc=funding inst=funding-1 "));
    assert_non_null(strstr(out, " msg=\"could not reserve budget\" award=42 "));
    assert_non_null(strstr(out, " reason=\"budget exhausted\"\n"));
    assert_memory_equal(out, "ts=", 3);
    assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));
}

static void test_level_filters(void **state)
{
    (void)state;
    int fds[2];
    ccip_log_init("intake", "i1", CCIP_LOG_WARN);
    s_capture_begin(fds);
    ccip_log_info("not shown");
    ccip_log_error("shown");
    const char *out = s_capture_end(fds);
    assert_null(strstr(out, "not shown"));
    assert_non_null(strstr(out, "msg=shown"));
    assert_false(ccip_log_enabled(CCIP_LOG_DEBUG));
    assert_true(ccip_log_enabled(CCIP_LOG_ERROR));
}

static void test_hostile_values_stay_on_one_line(void **state)
{
    (void)state;
    int fds[2];
    ccip_log_init("ip", "ip-1", CCIP_LOG_DEBUG);
    s_capture_begin(fds);
    ccip_log_info("x", "v", "a\"b\\c\nlevel=error\x01", "empty", "", "null", NULL);
    const char *out = s_capture_end(fds);
    assert_non_null(strstr(out, "v=\"a\\\"b\\\\c\\nlevel=error\\x01\""));
    assert_non_null(strstr(out, "empty=\"\""));
    assert_non_null(strstr(out, "null=\"\""));
    assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));
}

static void test_long_line_is_cut(void **state)
{
    (void)state;
    static char big[3 * CCIP_LOG_LINE_MAX];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    int fds[2];
    ccip_log_init("stats", "s1", CCIP_LOG_INFO);
    s_capture_begin(fds);
    ccip_log_info("big", "v", big);
    const char *out = s_capture_end(fds);
    size_t n = strlen(out);
    assert_true(n <= CCIP_LOG_LINE_MAX);
    assert_memory_equal(out + n - 4, "...\n", 4);
}

static void test_level_parse(void **state)
{
    (void)state;
    ccip_log_level l = CCIP_LOG_INFO;
    assert_int_equal(ccip_log_level_parse("debug", &l), 0);
    assert_int_equal(l, CCIP_LOG_DEBUG);
    assert_int_equal(ccip_log_level_parse("loud", &l), -1);
    assert_int_equal(l, CCIP_LOG_DEBUG);
    assert_int_equal(ccip_log_level_parse(NULL, &l), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_has_fields),
        cmocka_unit_test(test_level_filters),
        cmocka_unit_test(test_hostile_values_stay_on_one_line),
        cmocka_unit_test(test_long_line_is_cut),
        cmocka_unit_test(test_level_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
