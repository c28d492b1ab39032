/*
 * The cases of tests/web/uscc_cases.tsv against ccip_uscc_check: the same
 * file checks the console's JavaScript port (validate.js usccCheck) in the
 * browser test, so the two cannot come to disagree unnoticed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ccip_validate.h"

/* The rule a sentence of ccip_uscc_check is about (the JS port's names). */
static const char *s_rule_of(const char *err)
{
    static const struct {
        const char *part, *rule;
    } rules[] = {
        {"must be 18 characters", "length"}, {"lowercase", "lowercase"},
        {"never use", "never_letter"},       {"invalid character", "invalid_char"},
        {"division code", "division"},       {"check character", "check"},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strstr(err, rules[i].part))
            return rules[i].rule;
    return "?";
}

static void test_cases(void **state)
{
    (void)state;
    FILE *f = fopen(CCIP_USCC_CASES, "r");
    assert_non_null(f);
    char line[256];
    int n = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || !line[0])
            continue;
        char *tab = strchr(line, '\t');
        assert_non_null(tab);
        *tab = '\0';
        const char *code = line, *want = tab + 1;
        char err[400] = "";
        int rc = ccip_uscc_check(code, err, sizeof err);
        const char *got = rc == 0 ? "ok" : s_rule_of(err);
        if (strcmp(got, want) != 0) {
            fprintf(stderr, "\"%s\": ccip_uscc_check says %s (%s), the cases say %s\n", code, got,
                    err, want);
            bad++;
        }
        n++;
    }
    fclose(f);
    assert_true(n >= 10);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cases)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
