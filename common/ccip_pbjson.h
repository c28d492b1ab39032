/*
 * ccip_pbjson: protobuf-c messages <-> JSON (jansson), protobuf's canonical
 * proto3 JSON mapping, done once and generically from the message
 * descriptors, so that no message ever gets a hand-written mapper and the
 * HTTP API, its OpenAPI document and the protos cannot drift.
 *
 * The mapping (https://protobuf.dev/programming-guides/json/):
 *   message      object; keys are the fields' lowerCamelCase JSON names
 *                (the parser also accepts the proto field names)
 *   int32, uint32, sint32, fixed32, sfixed32   number
 *   int64, uint64, sint64, fixed64, sfixed64   string of decimal digits
 *                (the parser also accepts a number that is an exact integer)
 *   float, double   number ("NaN", "Infinity", "-Infinity" strings)
 *   bool         true / false
 *   string       string (UTF-8)
 *   bytes        string, standard base64 with padding (the parser also
 *                accepts URL-safe base64 and missing padding)
 *   enum         the value's name as a string (the parser also accepts its
 *                number, and refuses names and numbers not in the enum)
 *   repeated     array
 *   oneof        the one member that is set
 *
 * Parsing is strict, because its input comes from the network: unknown
 * keys, wrong JSON types, numbers out of range or with a fraction, invalid
 * base64, strings with invalid UTF-8 or a NUL, nesting deeper than
 * CCIP_PBJSON_MAX_DEPTH, and two members of one oneof are all refused, with
 * a sentence that names the field by its path and says what was expected:
 *   field `documents[1].media_type` must be a string, got a number
 *   unknown field `titel` in ccip.intake.DraftRequest; known fields: title, summary, ...
 * Nothing is left allocated after a refusal.
 */
#ifndef CCIP_PBJSON_H
#define CCIP_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* Deepest nesting of messages the parser follows. */
#define CCIP_PBJSON_MAX_DEPTH 32

/* Flags for ccip_pbjson_from_message. */
#define CCIP_PBJSON_EMIT_DEFAULTS                                                                  \
    0x1                             /* write fields that hold their zero value too                 \
                                       (empty strings, 0, false, [], the enum's zero) */
#define CCIP_PBJSON_PROTO_NAMES 0x2 /* keys are the proto field names, not lowerCamelCase */

/* The JSON of msg: a new object (the caller json_decref()s it), or NULL
 * when memory ran out. Never fails otherwise: an enum value that the
 * descriptor does not know is written as its number. */
json_t *ccip_pbjson_from_message(const ProtobufCMessage *msg, int flags);

/* Builds a message of type desc from the JSON object j. Returns the
 * message, allocated with protobuf-c's default allocator so that the
 * caller frees it with protobuf_c_message_free_unpacked(msg, NULL); or
 * NULL with a sentence in err (naming the field path, see above) when j
 * does not fit desc or memory ran out. */
ProtobufCMessage *ccip_pbjson_to_message(const ProtobufCMessageDescriptor *desc, const json_t *j,
                                         char *err, size_t errlen);

/* The JSON name of a field: its json_name when the descriptor has one,
 * else the lowerCamelCase of its name ("max_request_fen" ->
 * "maxRequestFen"), into buf. Returns buf. */
const char *ccip_pbjson_field_name(const ProtobufCFieldDescriptor *f, char *buf, size_t len);

/* A JSON Schema (draft 2020-12, as OpenAPI 3.1 uses) describing the JSON
 * form of desc: a new object whose "$ref"s point to
 * "#/components/schemas/<full message name>"; every message it refers to
 * (desc included) is added to `components` (an object the caller owns,
 * keyed by full name) when not already there. Returns NULL when memory ran
 * out. */
json_t *ccip_pbjson_schema(const ProtobufCMessageDescriptor *desc, json_t *components);

#endif
