/*
 * ccip_text: pieces appended in order, across many reallocations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ccip_text.h"

static void test_pieces_in_order(void **state)
{
    (void)state;
    ccip_text t = CCIP_TEXT_INIT;
    assert_null(t.p); /* nothing allocated until something is added */
    char want[20000] = "";
    size_t n = 0;
    for (int i = 0; i < 2000; i++) {
        ccip_text_printf(&t, "%d,", i);
        n += (size_t)snprintf(want + n, sizeof want - n, "%d,", i);
    }
    ccip_text_puts(&t, "end");
    ccip_text_put(&t, "xyz", 1);
    assert_false(t.failed);
    assert_int_equal(t.len, n + 4);
    assert_memory_equal(t.p, want, n);
    assert_string_equal(t.p + n, "endx");
    ccip_text_release(&t);
    ccip_text_release(&t); /* twice is safe */
    assert_null(t.p);
}

/* reserve hands out room the caller fills itself. */
static void test_reserve(void **state)
{
    (void)state;
    ccip_text t = CCIP_TEXT_INIT;
    ccip_text_puts(&t, "ab");
    char *at = ccip_text_reserve(&t, 1000);
    assert_non_null(at);
    memset(at, 'c', 1000);
    t.len += 1000;
    ccip_text_puts(&t, "d");
    assert_int_equal(t.len, 1003);
    assert_int_equal(t.p[1001], 'c');
    assert_string_equal(t.p + 1002, "d");
    ccip_text_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pieces_in_order),
        cmocka_unit_test(test_reserve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
