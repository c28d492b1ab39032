/*
 * fuzz_sample: a message of any type with its fields filled, built from the
 * descriptor alone, for the fuzzers' seed corpora (tests/fuzz/make_corpus.c)
 * and the JSON round-trip tests (tests/common/test_ccip_pbjson.c), so that
 * every message of proto/ gets a realistic instance without a hand-written
 * one per type.
 */
#ifndef FUZZ_SAMPLE_H
#define FUZZ_SAMPLE_H

#include <protobuf-c/protobuf-c.h>

/* Number of variants fuzz_sample_message makes. */
#define FUZZ_SAMPLE_VARIANTS 3

/* A message of type d in which every field holds a value of its kind.
 * variant (0 .. FUZZ_SAMPLE_VARIANTS - 1) picks the values:
 *   0  ordinary ones: text with CJK characters, "2027", an enum's last value,
 *      two elements per repeated field, the first member of each oneof
 *   1  the extremes: INT64_MIN, UINT64_MAX, INT32_MIN, empty strings and
 *      bytes, one element, the second member of each oneof
 *   2  text with quotes, backslashes and control characters, three
 *      elements, bytes of every length modulo 3
 * Nested messages are filled the same way down to 4 levels. Allocated with
 * malloc, so that protobuf_c_message_free_unpacked(msg, NULL) frees it.
 * Returns NULL when memory ran out. */
ProtobufCMessage *fuzz_sample_message(const ProtobufCMessageDescriptor *d, unsigned variant);

#endif
