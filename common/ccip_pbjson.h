/*
 * ccip_pbjson: protobuf-c messages <-> JSON (jansson), protobuf's canonical
 * proto3 JSON mapping, done once and generically from the message
 * descriptors, so that no message ever gets a hand-written mapper and the
 * HTTP API, its OpenAPI document and the protos cannot drift.
 *
 * Its own library, ccip_pbjson (common/CMakeLists.txt), so that only the
 * programs that speak JSON link jansson.
 *
 * The mapping (https://protobuf.dev/programming-guides/json/):
 *   message      object; keys are the fields' lowerCamelCase JSON names
 *                (the parser also accepts the proto field names)
 *   int32, uint32, sint32, fixed32, sfixed32   number
 *   int64, uint64, sint64, fixed64, sfixed64   string of decimal digits
 *                (the parser takes either form for every integer: a number
 *                that is an exact integer, or a string of decimal digits
 *                with an optional '-')
 *   float, double   number ("NaN", "Infinity", "-Infinity" strings)
 *   bool         true / false
 *   string       string (UTF-8)
 *   bytes        string, standard base64 with padding (the parser also
 *                accepts URL-safe base64 and missing padding)
 *   enum         the value's name as a string (the parser also accepts its
 *                number, and refuses names and numbers not in the enum)
 *   repeated     array
 *   oneof        the one member that is set
 *   null         the parser reads it as "absent" for any field (the
 *                canonical rule), but not as an element of an array
 *
 * Parsing is strict, because its input comes from the network: unknown
 * keys, wrong JSON types, numbers out of range or with a fraction, invalid
 * base64, strings with invalid UTF-8 or a NUL, nesting deeper than
 * CCIP_PBJSON_MAX_DEPTH, two members of one oneof, and one field given
 * twice (by its proto name and its JSON name) are all refused, with a
 * sentence that names the field by its path (the keys as the client wrote
 * them) and says what was expected:
 *   field `documents[1].media_type` must be a string, got a number
 *   unknown field `content.titel` in ccip.intake.ApplicationContent; known fields: title, ...
 *   fields `content.cluster` and `content.project` are members of one oneof; give at most one
 * Values the client sent are quoted cut to 40 bytes, with control
 * characters, quotes and invalid bytes as \xNN. The first problem (in the
 * object's key order) is the one reported. Nothing is left allocated after
 * a refusal.
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

/* The JSON of msg: a new object (the caller json_decref()s it), keys in
 * field number order; NULL when memory ran out (or msg is NULL). Never
 * fails otherwise: an enum value that the descriptor does not know is
 * written as its number, and a string that is not UTF-8 (a message decoded
 * from the wire may hold one) gets U+FFFD for each byte that starts no
 * valid sequence. Left out: fields at their zero value (unless
 * EMIT_DEFAULTS), unset message fields, oneof members not set and absent
 * proto3 `optional` fields (even with EMIT_DEFAULTS, as protobuf does), and
 * unknown fields kept from the wire. */
json_t *ccip_pbjson_from_message(const ProtobufCMessage *msg, int flags);

/* Builds a message of type desc from the JSON object j. Returns the
 * message, allocated with protobuf-c's default allocator so that the
 * caller frees it with protobuf_c_message_free_unpacked(msg, NULL); or
 * NULL with a sentence in err (naming the field path, see above) when j
 * does not fit desc or memory ran out. */
ProtobufCMessage *ccip_pbjson_to_message(const ProtobufCMessageDescriptor *desc, const json_t *j,
                                         char *err, size_t errlen);

/* The JSON name of a field, the lowerCamelCase of its name as protoc makes
 * it ("max_request_fen" -> "maxRequestFen"), into buf (cut to len - 1
 * bytes). protobuf-c's descriptors carry no json_name option, so this is
 * the only JSON name a field has. Returns buf. */
const char *ccip_pbjson_field_name(const ProtobufCFieldDescriptor *f, char *buf, size_t len);

/* A JSON Schema (draft 2020-12, as OpenAPI 3.1 uses) describing the
 * canonical JSON form of desc (what ccip_pbjson_from_message writes):
 * a new object {"$ref": "#/components/schemas/<full name of desc>"}. Every
 * message and enum it refers to (desc included) is added to `components`
 * (an object the caller owns, keyed by full name) when not already there:
 *   message   {"title", "type": "object", "additionalProperties": false,
 *              "properties" by JSON name, "dependentSchemas" that keep the
 *              members of a oneof apart}
 *   enum      {"title", "type": "string", "enum": [value names]}
 *   int64 ... {"type": "string", "format": "int64" or "uint64", "pattern"}
 *   int32 ... {"type": "integer", "format", "minimum", "maximum"}
 *   bytes     {"type": "string", "contentEncoding": "base64"}
 *   repeated  {"type": "array", "items": ...}
 * Returns NULL when memory ran out or desc is NULL or components is not an
 * object (components may then hold some of the schemas). */
json_t *ccip_pbjson_schema(const ProtobufCMessageDescriptor *desc, json_t *components);

#endif
