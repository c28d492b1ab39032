/* ccip_chain: the canonical encoding of an event is a contract (a value
 * computed independently pins it), every field it covers changes the hash,
 * and ccip_chain_check tells a broken link from an altered event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ccip_chain.h"

static uint8_t s_payload[] = {0x08, 0x2a};

static Ccip__Envelope s_event(void)
{
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.position = 7;
    e.id = "0190c6d8-0000-7000-8000-000000000007";
    e.type = "probea.thing.happened.v1";
    e.aggregate_type = "thing";
    e.aggregate_id = "42";
    e.occurred_at_us = 1784073600000000LL;
    e.correlation_id = "corr";
    e.causation_id = "cause";
    e.actor_id = "staff-li";
    e.actor_role = "staff";
    e.source_instance = "probea-1";
    e.payload.data = s_payload;
    e.payload.len = sizeof s_payload;
    return e;
}

/* SHA-256 of the encoding in ccip_chain.h, computed with Python's hashlib
 * from the same fields: if this changes, every chain ever made stops
 * verifying. */
static void test_known_value(void **state)
{
    (void)state;
    Ccip__Envelope e = s_event();
    uint8_t h[CCIP_CHAIN_HASH_LEN];
    char hex[CCIP_CHAIN_HASH_HEX + 1];
    assert_int_equal(ccip_chain_hash(ccip_chain_genesis, &e, h), 0);
    assert_string_equal(ccip_chain_hex(h, sizeof h, hex),
                        "4523a44a6f3ecb078608f762c75a6a9bf384b3d474499a474fe9dd01c00622b9");
    e.source_service = "anything"; /* not encoded: a chain is one producer's */
    assert_int_equal(ccip_chain_hash(ccip_chain_genesis, &e, h), 0);
    assert_string_equal(ccip_chain_hex(h, sizeof h, hex),
                        "4523a44a6f3ecb078608f762c75a6a9bf384b3d474499a474fe9dd01c00622b9");
    assert_string_equal(ccip_chain_hex(NULL, 0, hex), "-");
}

/* Each encoded field, and the previous hash, moves the hash. */
static void test_every_field_counts(void **state)
{
    (void)state;
    uint8_t base[CCIP_CHAIN_HASH_LEN], h[CCIP_CHAIN_HASH_LEN], prev[CCIP_CHAIN_HASH_LEN] = {1};
    Ccip__Envelope e = s_event();
    assert_int_equal(ccip_chain_hash(ccip_chain_genesis, &e, base), 0);
    assert_int_equal(ccip_chain_hash(prev, &e, h), 0);
    assert_memory_not_equal(h, base, sizeof h);
    for (int f = 0; f < 12; f++) {
        Ccip__Envelope x = s_event();
        uint8_t other[] = {0x08, 0x2b};
        switch (f) {
        case 0:
            x.position = 8;
            break;
        case 1:
            x.id = "0190c6d8-0000-7000-8000-000000000008";
            break;
        case 2:
            x.type = "probea.thing.happened.v2";
            break;
        case 3:
            x.aggregate_type = "thingy";
            break;
        case 4:
            x.aggregate_id = "43";
            break;
        case 5:
            x.occurred_at_us++;
            break;
        case 6:
            x.correlation_id = "corR";
            break;
        case 7:
            x.causation_id = "causE";
            break;
        case 8:
            x.actor_id = "staff-wang";
            break;
        case 9:
            x.actor_role = "admin";
            break;
        case 10:
            x.source_instance = "probea-2";
            break;
        default:
            x.payload.data = other;
            break;
        }
        assert_int_equal(ccip_chain_hash(ccip_chain_genesis, &x, h), 0);
        if (memcmp(h, base, sizeof h) == 0)
            fail_msg("field %d does not change the hash", f);
    }
    /* lengths are encoded: moving a byte between two strings shows */
    Ccip__Envelope a = s_event(), b = s_event();
    a.actor_id = "ab";
    a.actor_role = "c";
    b.actor_id = "a";
    b.actor_role = "bc";
    uint8_t ha[CCIP_CHAIN_HASH_LEN], hb[CCIP_CHAIN_HASH_LEN];
    assert_int_equal(ccip_chain_hash(ccip_chain_genesis, &a, ha), 0);
    assert_int_equal(ccip_chain_hash(ccip_chain_genesis, &b, hb), 0);
    assert_memory_not_equal(ha, hb, sizeof ha);
}

/* The check: a sound event passes; a wrong link, an altered event and an
 * event without hashes are each named. */
static void test_check(void **state)
{
    (void)state;
    Ccip__Envelope e = s_event();
    uint8_t prev[CCIP_CHAIN_HASH_LEN] = {0}, hash[CCIP_CHAIN_HASH_LEN], other[CCIP_CHAIN_HASH_LEN];
    char err[512];
    assert_int_equal(ccip_chain_check(&e, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "carries no chain hashes"));
    assert_int_equal(ccip_chain_hash(prev, &e, hash), 0);
    e.prev_hash.data = prev;
    e.prev_hash.len = sizeof prev;
    e.hash.data = hash;
    e.hash.len = sizeof hash;
    assert_int_equal(ccip_chain_check(&e, ccip_chain_genesis, err, sizeof err), 0);
    assert_int_equal(ccip_chain_check(&e, NULL, err, sizeof err), 0);
    memset(other, 7, sizeof other);
    assert_int_equal(ccip_chain_check(&e, other, err, sizeof err), -1);
    assert_non_null(strstr(err, "is not the hash"));
    assert_non_null(strstr(err, "of the event before it"));
    e.aggregate_id = "44";
    assert_int_equal(ccip_chain_check(&e, ccip_chain_genesis, err, sizeof err), -1);
    assert_non_null(strstr(err, "the event was altered"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_value),
        cmocka_unit_test(test_every_field_counts),
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
