/*
 * gateway_session_cache: a looked-up session is reused only while it is
 * young, nothing about sessions was written since its lookup began, and
 * the session itself is neither expired nor idle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "gateway_session_cache.h"

#define SEC 1000000LL

static const int64_t s_t0 = 1000000 * SEC; /* "now" of the tests */
static const int64_t s_idle = 1800 * SEC;
static const int64_t s_touch = 60 * SEC;

static gateway_session_row s_row(uint8_t tag)
{
    gateway_session_row r;
    memset(&r, 0, sizeof r);
    memset(r.token_hash, tag, sizeof r.token_hash);
    snprintf(r.account_id, sizeof r.account_id, "0190f3b4-0000-7000-8000-0000000000%02x", tag);
    snprintf(r.login, sizeof r.login, "user.%u", tag);
    r.expires_at_us = s_t0 + 3600 * SEC;
    r.last_seen_us = s_t0;
    return r;
}

static void test_a_young_entry_is_reused(void **state)
{
    (void)state;
    gateway_session_cache *c = gateway_session_cache_new(16, 1 * SEC);
    assert_non_null(c);
    gateway_session_row in = s_row(7), out;
    memset(&out, 0, sizeof out);
    assert_int_equal(gateway_session_cache_get(c, in.token_hash, s_t0, s_idle, s_touch, &out), 0);
    gateway_session_cache_put(c, &in, gateway_store_generation(), s_t0);
    assert_int_equal(
        gateway_session_cache_get(c, in.token_hash, s_t0 + SEC / 2, s_idle, s_touch, &out), 1);
    assert_memory_equal(&out, &in, sizeof in);
    /* another token in the same slot is not this one */
    gateway_session_row other = s_row(7);
    other.token_hash[31] = 8;
    assert_int_equal(gateway_session_cache_get(c, other.token_hash, s_t0, s_idle, s_touch, &out),
                     0);
    /* older than the ttl: looked up again */
    assert_int_equal(gateway_session_cache_get(c, in.token_hash, s_t0 + SEC, s_idle, s_touch, &out),
                     0);
    gateway_session_cache_destroy(&c);
    assert_null(c);
    gateway_session_cache_destroy(&c);
}

static void test_a_write_drops_every_entry(void **state)
{
    (void)state;
    gateway_session_cache *c = gateway_session_cache_new(16, 10 * SEC);
    gateway_session_row a = s_row(1), b = s_row(2), out;
    gateway_session_cache_put(c, &a, gateway_store_generation(), s_t0);
    gateway_session_cache_put(c, &b, gateway_store_generation(), s_t0);
    assert_int_equal(gateway_session_cache_get(c, a.token_hash, s_t0, s_idle, s_touch, &out), 1);
    gateway_store_changed(); /* e.g. a sign-out: */
    assert_int_equal(gateway_session_cache_get(c, a.token_hash, s_t0, s_idle, s_touch, &out), 0);
    assert_int_equal(gateway_session_cache_get(c, b.token_hash, s_t0, s_idle, s_touch, &out), 0);
    /* a lookup that began before a write is never served */
    unsigned before = gateway_store_generation();
    gateway_store_changed();
    gateway_session_cache_put(c, &a, before, s_t0);
    assert_int_equal(gateway_session_cache_get(c, a.token_hash, s_t0, s_idle, s_touch, &out), 0);
    gateway_session_cache_put(c, &a, gateway_store_generation(), s_t0);
    assert_int_equal(gateway_session_cache_get(c, a.token_hash, s_t0, s_idle, s_touch, &out), 1);
    gateway_session_cache_destroy(&c);
}

static void test_expired_idle_or_due_for_a_touch_is_looked_up(void **state)
{
    (void)state;
    gateway_session_cache *c = gateway_session_cache_new(16, 100 * SEC);
    gateway_session_row r = s_row(3), out;
    r.expires_at_us = s_t0 + 5 * SEC;
    gateway_session_cache_put(c, &r, gateway_store_generation(), s_t0);
    assert_int_equal(
        gateway_session_cache_get(c, r.token_hash, s_t0 + 4 * SEC, s_idle, s_touch, &out), 1);
    assert_int_equal(
        gateway_session_cache_get(c, r.token_hash, s_t0 + 5 * SEC, s_idle, s_touch, &out), 0);
    /* idle longer than allowed (here 10 s) */
    r = s_row(4);
    gateway_session_cache_put(c, &r, gateway_store_generation(), s_t0);
    assert_int_equal(
        gateway_session_cache_get(c, r.token_hash, s_t0 + 9 * SEC, 10 * SEC, s_touch, &out), 1);
    assert_int_equal(
        gateway_session_cache_get(c, r.token_hash, s_t0 + 10 * SEC, 10 * SEC, s_touch, &out), 0);
    /* its last use must be written again: the caller's lookup does that */
    assert_int_equal(
        gateway_session_cache_get(c, r.token_hash, s_t0 + 61 * SEC, s_idle, s_touch, &out), 0);
    gateway_session_cache_destroy(&c);
}

static void test_ttl_zero_holds_nothing(void **state)
{
    (void)state;
    gateway_session_cache *c = gateway_session_cache_new(16, 0);
    gateway_session_row r = s_row(5), out;
    gateway_session_cache_put(c, &r, gateway_store_generation(), s_t0);
    assert_int_equal(gateway_session_cache_get(c, r.token_hash, s_t0, s_idle, s_touch, &out), 0);
    assert_int_equal(gateway_session_cache_get(NULL, r.token_hash, s_t0, s_idle, s_touch, &out), 0);
    gateway_session_cache_put(NULL, &r, 0, s_t0);
    gateway_session_cache_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_young_entry_is_reused),
        cmocka_unit_test(test_a_write_drops_every_entry),
        cmocka_unit_test(test_expired_idle_or_due_for_a_touch_is_looked_up),
        cmocka_unit_test(test_ttl_zero_holds_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
