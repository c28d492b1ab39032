/* ccip_envelope under hostile input: a fixed-seed mutation fuzzer (bit
 * flips, byte changes, truncation, duplication, random bytes) run under the
 * suite's AddressSanitizer build, beside the coverage-guided libFuzzer
 * targets of tests/fuzz (scripts/fuzz). Every input must be one of two
 * things, and each is checked:
 *   decoded  the envelope's type is valid, and it re-packs to bytes that
 *            decode again and re-pack to the same bytes (what a service
 *            that passes a message on relies on);
 *   refused  NULL with a sentence.
 * Nothing may crash, leak or read out of bounds, and both outcomes must
 * occur often, or the loop tests nothing. (MESSAGING-NOTES: fuzz every
 * decoder.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/bus.pb-c.h"
#include "ccip_envelope.h"

#define ITERATIONS     200000
#define FUZZ_MAX_INPUT 4096

/* xorshift64*: reproducible across runs and machines. */
static uint64_t s_state = 0x9E3779B97F4A7C15ULL;
static uint64_t s_rand(void)
{
    s_state ^= s_state >> 12;
    s_state ^= s_state << 25;
    s_state ^= s_state >> 27;
    return s_state * 2685821657736338717ULL;
}

static size_t s_seed(uint8_t *out)
{
    static uint8_t payload[300];
    memset(payload, 'p', sizeof payload);
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.id = "0190c6d8-0000-7000-8000-000000000001";
    e.type = "intake.application.accepted.v1";
    e.source_service = "intake";
    e.aggregate_type = "application";
    e.aggregate_id = "42";
    e.position = 123456;
    e.occurred_at_us = 1790000000000000;
    e.actor_role = "staff";
    e.status = CCIP__STATUS__FAILED_PRECONDITION;
    e.error = "budget exhausted";
    e.payload.data = payload;
    e.payload.len = sizeof payload;
    return ccip__envelope__pack(&e, out);
}

static size_t s_mutate(uint8_t *buf, size_t len)
{
    int rounds = 1 + (int)(s_rand() % 4);
    for (int r = 0; r < rounds; r++) {
        switch (s_rand() % 6) {
        case 0: /* flip a bit */
            if (len)
                buf[s_rand() % len] ^= (uint8_t)(1u << (s_rand() % 8));
            break;
        case 1: /* set a byte to an interesting value */
            if (len) {
                static const uint8_t v[] = {0x00, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x08};
                buf[s_rand() % len] = v[s_rand() % sizeof v];
            }
            break;
        case 2: /* truncate */
            if (len)
                len = (size_t)(s_rand() % len);
            break;
        case 3: /* duplicate a slice at the end */
            if (len && len < FUZZ_MAX_INPUT / 2) {
                size_t from = (size_t)(s_rand() % len), n = (size_t)(s_rand() % (len - from));
                memcpy(buf + len, buf + from, n);
                len += n;
            }
            break;
        case 4: /* random bytes */
            if (len) {
                size_t at = (size_t)(s_rand() % len), n = 1 + (size_t)(s_rand() % 8);
                for (size_t i = at; i < at + n && i < len; i++)
                    buf[i] = (uint8_t)s_rand();
            }
            break;
        default: /* a huge varint length where a length goes */
            if (len > 2) {
                size_t at = (size_t)(s_rand() % (len - 1));
                buf[at] = 0xff;
                buf[at + 1] = 0xff;
            }
            break;
        }
    }
    return len;
}

/* Packs m; the caller frees. */
static uint8_t *s_pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len + 1);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(m, buf), *len);
    return buf;
}

/* m re-packs to bytes that decode again (with the same bounded decoder)
 * and re-pack to the same bytes. */
static void s_assert_repacks(const ProtobufCMessage *m)
{
    char err[256] = "";
    size_t n1, n2;
    uint8_t *p1 = s_pack(m, &n1);
    ProtobufCMessage *again =
        ccip_payload_unpack(m->descriptor, p1, n1, FUZZ_MAX_INPUT * 2, err, sizeof err);
    if (!again)
        fail_msg("a decoded %s re-packs to bytes it refuses: %s", m->descriptor->name, err);
    uint8_t *p2 = s_pack(again, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(p1, p2, n1);
    protobuf_c_message_free_unpacked(again, NULL);
    free(p1);
    free(p2);
}

static void test_envelope_decoder_survives_mutations(void **state)
{
    (void)state;
    uint8_t seed[FUZZ_MAX_INPUT], buf[FUZZ_MAX_INPUT];
    size_t seed_len = s_seed(seed);
    unsigned long decoded = 0, refused = 0;
    char err[256];
    for (long i = 0; i < ITERATIONS; i++) {
        memcpy(buf, seed, seed_len);
        size_t len = s_mutate(buf, seed_len);
        err[0] = '\0';
        Ccip__Envelope *e = ccip_envelope_unpack(buf, len, FUZZ_MAX_INPUT, err, sizeof err);
        if (e) {
            assert_int_equal(ccip_type_check(e->type, err, sizeof err), 0);
            s_assert_repacks(&e->base);
            decoded++;
            ccip_envelope_free(&e);
        } else {
            assert_true(err[0] != '\0'); /* refused with a sentence */
            refused++;
        }
    }
    /* Both outcomes must actually occur, or the fuzzer tests nothing. */
    assert_true(decoded > 1000);
    assert_true(refused > 1000);
}

static void test_payload_decoder_survives_mutations(void **state)
{
    (void)state;
    Ccip__ReplayRequest rq = CCIP__REPLAY_REQUEST__INIT;
    rq.from_position = 99;
    rq.max_events = 500;
    uint8_t seed[64], buf[FUZZ_MAX_INPUT];
    size_t seed_len = ccip__replay_request__pack(&rq, seed);
    unsigned long decoded = 0, refused = 0;
    char err[256];
    for (long i = 0; i < ITERATIONS / 4; i++) {
        memcpy(buf, seed, seed_len);
        size_t len = s_mutate(buf, seed_len);
        err[0] = '\0';
        ProtobufCMessage *m = ccip_payload_unpack(&ccip__replay_request__descriptor, buf, len,
                                                  FUZZ_MAX_INPUT, err, sizeof err);
        if (m) {
            assert_ptr_equal(m->descriptor, &ccip__replay_request__descriptor);
            s_assert_repacks(m);
            decoded++;
            protobuf_c_message_free_unpacked(m, NULL);
        } else {
            assert_true(err[0] != '\0');
            refused++;
        }
    }
    assert_true(decoded > 1000);
    assert_true(refused > 1000);
}

/* What tests/fuzz found (corpus/envelope/regression-field-number-zero):
 * protobuf-c keeps a field numbered 0 when its tag is a two-byte varint
 * (0x82 0x00), then packs it as 0x02 and refuses its own output. The
 * decoder refuses it up front, at any depth. */
static void test_field_number_zero_is_refused(void **state)
{
    (void)state;
    uint8_t buf[FUZZ_MAX_INPUT];
    size_t len = s_seed(buf);
    static const uint8_t field_zero[] = {0x82, 0x00, 0x01, 'x'}; /* field 0, length 1 */
    memcpy(buf + len, field_zero, sizeof field_zero);
    char err[256] = "";
    Ccip__Envelope *e =
        ccip_envelope_unpack(buf, len + sizeof field_zero, FUZZ_MAX_INPUT, err, sizeof err);
    assert_null(e);
    char expected[128];
    snprintf(expected, sizeof expected,
             "could not decode Envelope: malformed protobuf (a field numbered 0, %zu bytes)",
             len + sizeof field_zero);
    assert_string_equal(err, expected);
    /* inside a nested message: ReplayReply.events[0] */
    Ccip__Envelope ev = CCIP__ENVELOPE__INIT;
    ev.id = "e";
    ev.type = "intake.call.opened.v1";
    uint8_t inner[128];
    size_t ilen = ccip__envelope__pack(&ev, inner);
    memcpy(inner + ilen, field_zero, sizeof field_zero);
    ilen += sizeof field_zero;
    uint8_t outer[256] = {0x0a, (uint8_t)ilen}; /* ReplayReply field 1 (events), length */
    memcpy(outer + 2, inner, ilen);
    ProtobufCMessage *m = ccip_payload_unpack(&ccip__replay_reply__descriptor, outer, ilen + 2,
                                              FUZZ_MAX_INPUT, err, sizeof err);
    assert_null(m);
    assert_non_null(strstr(err, "a field numbered 0"));
    /* and without the field 0 the same message decodes */
    m = ccip_payload_unpack(&ccip__replay_reply__descriptor, outer, 2 + ilen - sizeof field_zero,
                            FUZZ_MAX_INPUT, err, sizeof err);
    assert_null(m); /* the length byte still counts the 4 bytes: truncated, refused */
    outer[1] = (uint8_t)(ilen - sizeof field_zero);
    m = ccip_payload_unpack(&ccip__replay_reply__descriptor, outer, 2 + ilen - sizeof field_zero,
                            FUZZ_MAX_INPUT, err, sizeof err);
    assert_non_null(m);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* What tests/fuzz found (corpus/envelope/regression-unknown-fields): an
 * envelope padded with repeats of a known field and holding hundreds of
 * one-byte unknown fields passed the decode budget, but its own packing
 * (repeats collapsed, unknown fields kept) did not pass the budget of its
 * smaller size. Unknown fields are bounded (CCIP_UNKNOWN_FIELDS_MAX): up to
 * the bound a message decodes and re-packs, beyond it it is refused with a
 * sentence, padded or not. */
static void test_unknown_fields_bounded(void **state)
{
    (void)state;
    static const uint8_t unknown[] = {0xa0, 0x06, 0x01}; /* field 100, varint 1 */
    static const uint8_t pad[] = {0x40, 0x01};           /* occurred_at_us = 1, again */
    char err[256];
    for (int padded = 0; padded <= 1; padded++) {
        for (int n = CCIP_UNKNOWN_FIELDS_MAX; n <= CCIP_UNKNOWN_FIELDS_MAX + 1; n++) {
            uint8_t buf[FUZZ_MAX_INPUT];
            size_t len = s_seed(buf);
            for (int i = 0; i < n; i++) {
                memcpy(buf + len, unknown, sizeof unknown);
                len += sizeof unknown;
                for (int k = 0; padded && k < 2; k++) {
                    memcpy(buf + len, pad, sizeof pad);
                    len += sizeof pad;
                }
            }
            assert_true(len <= sizeof buf);
            err[0] = '\0';
            Ccip__Envelope *e = ccip_envelope_unpack(buf, len, FUZZ_MAX_INPUT, err, sizeof err);
            /* the padding alone may exceed the decode budget: refused for
             * it, with a sentence that says so */
            int budget = !e && strstr(err, "hold more fields than a message of that size may");
            int bound = !e && strstr(err, "fields this version does not know");
            if (!e && !(padded && budget) && !(n > CCIP_UNKNOWN_FIELDS_MAX && bound))
                fail_msg("%d unknown fields (padded %d) refused: %s", n, padded, err);
            if (e) {
                if (n > CCIP_UNKNOWN_FIELDS_MAX)
                    fail_msg("%d unknown fields (padded %d) accepted", n, padded);
                assert_int_equal(e->base.n_unknown_fields, n);
                s_assert_repacks(&e->base);
                ccip_envelope_free(&e);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_decoder_survives_mutations),
        cmocka_unit_test(test_payload_decoder_survives_mutations),
        cmocka_unit_test(test_field_number_zero_is_refused),
        cmocka_unit_test(test_unknown_fields_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
