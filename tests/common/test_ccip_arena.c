/*
 * ccip_arena: allocations stay valid, zeroed and aligned until the arena
 * is destroyed; large requests and many small ones both work.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ccip_arena.h"

static void test_alloc_and_strdup(void **state)
{
    (void)state;
    ccip_arena *a = ccip_arena_new();
    assert_non_null(a);
    char *strings[2000];
    for (int i = 0; i < 2000; i++) {
        char text[32];
        snprintf(text, sizeof text, "string %d", i);
        strings[i] = ccip_arena_strdup(a, text);
    }
    for (int i = 0; i < 2000; i++) {
        char text[32];
        snprintf(text, sizeof text, "string %d", i);
        assert_string_equal(strings[i], text);
    }
    assert_string_equal(ccip_arena_strdup(a, NULL), "");

    /* Larger than a block, between small ones: all stay intact. */
    char *small = ccip_arena_strdup(a, "before");
    uint8_t *big = ccip_arena_alloc(a, 100000);
    assert_non_null(big);
    for (size_t i = 0; i < 100000; i++)
        assert_int_equal(big[i], 0);
    memset(big, 0xab, 100000);
    char *after = ccip_arena_strdup(a, "after");
    assert_string_equal(small, "before");
    assert_string_equal(after, "after");
    assert_int_equal(big[99999], 0xab);

    for (int i = 0; i < 100; i++) {
        void *p = ccip_arena_alloc(a, (size_t)i * 7 + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
    }
    assert_non_null(ccip_arena_alloc(a, 0));
    assert_int_equal(ccip_arena_failed(a), 0);
    ccip_arena_destroy(&a);
    assert_null(a);
    ccip_arena_destroy(&a); /* twice is fine */
}

static void test_failure_is_reported(void **state)
{
    (void)state;
    assert_null(ccip_arena_alloc(NULL, 8));
    assert_string_equal(ccip_arena_strdup(NULL, "x"), "");
    assert_int_equal(ccip_arena_failed(NULL), 1);
    ccip_arena *a = ccip_arena_new();
    assert_null(ccip_arena_alloc(a, SIZE_MAX - 4)); /* overflows the rounding */
    assert_int_equal(ccip_arena_failed(a), 1);
    ccip_arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_and_strdup),
        cmocka_unit_test(test_failure_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
