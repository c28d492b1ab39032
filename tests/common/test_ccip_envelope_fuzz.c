/* ccip_envelope under hostile input: a fixed-seed mutation fuzzer (bit
 * flips, byte changes, truncation, duplication, random bytes) run under the
 * suite's AddressSanitizer build. Every input must be either refused with a
 * sentence or decoded into an envelope whose type is valid; nothing may
 * crash, leak or read out of bounds. (MESSAGING-NOTES: fuzz every decoder.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

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
    char err[256];
    for (long i = 0; i < ITERATIONS / 4; i++) {
        memcpy(buf, seed, seed_len);
        size_t len = s_mutate(buf, seed_len);
        ProtobufCMessage *m = ccip_payload_unpack(&ccip__replay_request__descriptor, buf, len,
                                                  FUZZ_MAX_INPUT, err, sizeof err);
        if (m)
            protobuf_c_message_free_unpacked(m, NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_decoder_survives_mutations),
        cmocka_unit_test(test_payload_decoder_survives_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
