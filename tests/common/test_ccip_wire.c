/* ccip_wire: every string of a message is checked on the wire bytes, nested
 * and repeated fields included, and the refusal names the field's path; a
 * NUL that protobuf-c's unpack would silently cut at is caught; bytes
 * fields are not text; malformed input and deep nesting are refused without
 * reading past the end (fuzzed under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/bus.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_wire.h"

/* Replaces the first occurrence of `mark` in buf[0..len) by `with` (same
 * length): how a test puts bytes into a string that protobuf-c would not
 * pack (it packs C strings up to their NUL). */
static void s_patch(uint8_t *buf, size_t len, const char *mark, const char *with, size_t n)
{
    size_t m = strlen(mark);
    assert_int_equal(m, n);
    for (size_t i = 0; i + m <= len; i++) {
        if (memcmp(buf + i, mark, m) == 0) {
            memcpy(buf + i, with, n);
            return;
        }
    }
    fail_msg("mark %s not found", mark);
}

/* A ReplayReply of three events, the third with actor_id `actor`. */
static size_t s_reply(uint8_t *buf, const char *actor)
{
    Ccip__Envelope e[3];
    Ccip__Envelope *ev[3];
    for (int i = 0; i < 3; i++) {
        ccip__envelope__init(&e[i]);
        e[i].type = "intake.thing.happened.v1";
        e[i].id = "id";
        e[i].actor_id = i == 2 ? (char *)actor : "someone";
        e[i].payload.data = (uint8_t *)"\0\1\2 bytes are not text";
        e[i].payload.len = 22;
        ev[i] = &e[i];
    }
    Ccip__ReplayReply r = CCIP__REPLAY_REPLY__INIT;
    r.n_events = 3;
    r.events = ev;
    return ccip__replay_reply__pack(&r, buf);
}

static void test_valid_text_passes(void **state)
{
    (void)state;
    uint8_t buf[1024];
    char err[256];
    size_t n = s_reply(buf, "org:\xe5\x8c\x97\xe4\xba\xac tab\there\nnew line");
    assert_int_equal(
        ccip_wire_check_strings(&ccip__replay_reply__descriptor, buf, n, "field", err, sizeof err),
        0);
    /* An empty message is valid. */
    assert_int_equal(
        ccip_wire_check_strings(&ccip__replay_reply__descriptor, buf, 0, "field", err, sizeof err),
        0);
}

static void test_nul_named_by_path(void **state)
{
    (void)state;
    uint8_t buf[1024];
    char err[256];
    size_t n = s_reply(buf, "ABCDEF@junk");
    s_patch(buf, n, "ABCDEF@junk", "ABCDEF\0junk", 11);
    assert_int_equal(
        ccip_wire_check_strings(&ccip__replay_reply__descriptor, buf, n, "field", err, sizeof err),
        -1);
    assert_string_equal(err, "field `events[2].actor_id` contains a NUL byte at byte 7; text must "
                             "be UTF-8 and may hold no control characters but tab and newline");
    /* protobuf-c would have read it as "ABCDEF": that is why bytes are checked. */
    char why[256];
    Ccip__ReplayReply *r = (Ccip__ReplayReply *)ccip_payload_unpack(
        &ccip__replay_reply__descriptor, buf, n, sizeof buf, why, sizeof why);
    assert_non_null(r);
    assert_string_equal(r->events[2]->actor_id, "ABCDEF");
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void test_controls_and_utf8(void **state)
{
    (void)state;
    uint8_t buf[1024];
    char err[256];
    size_t n = s_reply(buf, "abc#def");
    s_patch(buf, n, "abc#def",
            "abc\x1b"
            "def",
            7);
    assert_int_equal(
        ccip_wire_check_strings(&ccip__replay_reply__descriptor, buf, n, "field", err, sizeof err),
        -1);
    assert_non_null(strstr(err, "`events[2].actor_id` contains control character 0x1b at byte 4"));
    n = s_reply(buf, "abc#def");
    s_patch(buf, n, "abc#def",
            "abc\r"
            "def",
            7);
    assert_int_equal(
        ccip_wire_check_strings(&ccip__replay_reply__descriptor, buf, n, "field", err, sizeof err),
        -1);
    assert_non_null(strstr(err, "control character 0x0d"));
    /* Invalid UTF-8: a lone continuation byte, an overlong form, a surrogate. */
    const char *bad[] = {"ab\x80"
                         "defg",
                         "ab\xc0\xaf"
                         "efg",
                         "ab\xed\xa0\x80"
                         "fg"};
    for (size_t i = 0; i < 3; i++) {
        n = s_reply(buf, "abXXXXX");
        s_patch(buf, n, "abXXXXX", bad[i], 7);
        assert_int_equal(ccip_wire_check_strings(&ccip__replay_reply__descriptor, buf, n, "field",
                                                 err, sizeof err),
                         -1);
        assert_non_null(strstr(err, "`events[2].actor_id` is not valid UTF-8 at byte 3"));
    }
    /* The envelope's own fields, as ccip_envelope_unpack checks them. */
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.id = "cmd-1@zz";
    e.type = "intake.call.open.v1";
    n = ccip__envelope__pack(&e, buf);
    s_patch(buf, n, "cmd-1@zz", "cmd-1\0zz", 8);
    Ccip__Envelope *env = ccip_envelope_unpack(buf, n, sizeof buf, err, sizeof err);
    assert_null(env);
    assert_non_null(strstr(err, "envelope field `id` contains a NUL byte at byte 6"));
}

static void test_malformed_refused(void **state)
{
    (void)state;
    char err[256];
    /* A string field whose length runs past the end. */
    uint8_t a[] = {0x0a, 0x05, 'a', 'b'};
    assert_int_equal(
        ccip_wire_check_strings(&ccip__envelope__descriptor, a, sizeof a, "field", err, sizeof err),
        CCIP_WIRE_MALFORMED);
    assert_non_null(strstr(err, "could not decode ccip.Envelope: malformed protobuf"));
    /* A varint that never ends. */
    uint8_t b[] = {0x38, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(
        ccip_wire_check_strings(&ccip__envelope__descriptor, b, sizeof b, "field", err, sizeof err),
        CCIP_WIRE_MALFORMED);
    /* A group (wire type 3). */
    uint8_t c[] = {0x0b};
    assert_int_equal(
        ccip_wire_check_strings(&ccip__envelope__descriptor, c, sizeof c, "field", err, sizeof err),
        CCIP_WIRE_MALFORMED);
    /* Field number 0. */
    uint8_t d[] = {0x02, 0x00};
    assert_int_equal(
        ccip_wire_check_strings(&ccip__envelope__descriptor, d, sizeof d, "field", err, sizeof err),
        CCIP_WIRE_MALFORMED);
    /* Unknown fields are skipped, whatever they hold. */
    uint8_t e[] = {0xfa, 0x07, 0x02, 0x00, 0xff};
    assert_int_equal(
        ccip_wire_check_strings(&ccip__envelope__descriptor, e, sizeof e, "field", err, sizeof err),
        0);
}

/* A message that contains itself: message Node { string name = 1; Node child = 2; } */
static const ProtobufCMessageDescriptor s_node;
static const ProtobufCFieldDescriptor s_node_fields[] = {
    {.name = "name", .id = 1, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_STRING},
    {.name = "child",
     .id = 2,
     .label = PROTOBUF_C_LABEL_NONE,
     .type = PROTOBUF_C_TYPE_MESSAGE,
     .descriptor = &s_node},
};
static const ProtobufCIntRange s_node_ranges[] = {{1, 0}, {0, 2}};
static const ProtobufCMessageDescriptor s_node = {
    .magic = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    .name = "test.Node",
    .n_fields = 2,
    .fields = s_node_fields,
    .n_field_ranges = 1,
    .field_ranges = s_node_ranges,
};

/* Writes `depth` nested Nodes, the innermost named `name`; returns the length. */
static size_t s_nest(uint8_t *out, int depth, const char *name, size_t nlen)
{
    if (depth == 1) {
        out[0] = 0x0a;
        out[1] = (uint8_t)nlen;
        memcpy(out + 2, name, nlen);
        return 2 + nlen;
    }
    uint8_t inner[512];
    size_t n = s_nest(inner, depth - 1, name, nlen);
    out[0] = 0x12;
    size_t h = 1;
    if (n < 128) {
        out[h++] = (uint8_t)n;
    } else {
        out[h++] = (uint8_t)(0x80 | (n & 0x7f));
        out[h++] = (uint8_t)(n >> 7);
    }
    memcpy(out + h, inner, n);
    return h + n;
}

static void test_nesting_bounded(void **state)
{
    (void)state;
    uint8_t buf[512];
    char err[256];
    size_t n = s_nest(buf, 3, "x\0y", 3);
    assert_int_equal(ccip_wire_check_strings(&s_node, buf, n, "field", err, sizeof err), -1);
    assert_non_null(strstr(err, "field `child.child.name` contains a NUL byte at byte 2"));
    n = s_nest(buf, CCIP_WIRE_MAX_DEPTH, "ok", 2);
    assert_int_equal(ccip_wire_check_strings(&s_node, buf, n, "field", err, sizeof err), 0);
    n = s_nest(buf, CCIP_WIRE_MAX_DEPTH + 1, "ok", 2);
    assert_int_equal(ccip_wire_check_strings(&s_node, buf, n, "field", err, sizeof err),
                     CCIP_WIRE_REFUSED);
    assert_non_null(strstr(err, "nests messages deeper than 32 levels"));
}

/* Random mutations of a valid message: the walk never reads out of bounds
 * (ASan would say), and whatever it accepts that protobuf-c can decode
 * holds strings without a cut: each string's C length is its whole length. */
static void test_fuzz(void **state)
{
    (void)state;
    uint8_t seed[1024], buf[1024];
    size_t n = s_reply(seed, "org:91110105MA01ABCDE1");
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int round = 0; round < 200000; round++) {
        memcpy(buf, seed, n);
        size_t len = n;
        int edits = 1 + (int)(x % 4);
        for (int e = 0; e < edits; e++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            size_t at = (size_t)(x >> 16) % len;
            switch (x % 3) {
            case 0:
                buf[at] = (uint8_t)(x >> 40);
                break;
            case 1:
                buf[at] ^= (uint8_t)(1u << ((x >> 8) % 8));
                break;
            default:
                len = at + 1; /* truncate */
                break;
            }
        }
        char err[256], why[256];
        int rc = ccip_wire_check_strings(&ccip__replay_reply__descriptor, buf, len, "field", err,
                                         sizeof err);
        if (rc != 0)
            continue;
        Ccip__ReplayReply *r = (Ccip__ReplayReply *)ccip_payload_unpack(
            &ccip__replay_reply__descriptor, buf, len, sizeof buf, why, sizeof why);
        if (!r)
            continue;
        for (size_t i = 0; i < r->n_events; i++) {
            const char *s = r->events[i]->actor_id;
            /* Found in the buffer with its length byte right before it. */
            size_t sl = strlen(s);
            int found = sl == 0 || sl >= 128; /* short ones: one length byte before */
            for (size_t k = 1; !found && k + sl <= len; k++)
                found = buf[k - 1] == sl && memcmp(buf + k, s, sl) == 0;
            assert_true(found);
        }
        protobuf_c_message_free_unpacked(&r->base, NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_text_passes), cmocka_unit_test(test_nul_named_by_path),
        cmocka_unit_test(test_controls_and_utf8), cmocka_unit_test(test_malformed_refused),
        cmocka_unit_test(test_nesting_bounded),   cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
