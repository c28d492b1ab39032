/*
 * ccip_envelope: encoding and safe decoding of the one envelope around every
 * message (proto/ccip/envelope.proto).
 *
 * Envelopes to send are built on the stack with borrowed strings:
 *
 *   Ccip__Envelope env = CCIP__ENVELOPE__INIT;
 *   char id[CCIP_UUID_STRLEN + 1];
 *   ccip_uuid_v7(id);
 *   env.id = id;
 *   env.type = "ccip.ping.v1";
 *   zmq_msg_t msg;
 *   ccip_envelope_pack(&env, &msg);
 *
 * Envelopes received are decoded with ccip_envelope_unpack(), which refuses
 * oversized input before decoding and bounds what the decoder may allocate
 * (hostile protobuf input: CVE-2022-48468), then checks the fields routing
 * relies on.
 */
#ifndef CCIP_ENVELOPE_H
#define CCIP_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "ccip/envelope.pb-c.h"

/* Longest type name, e.g. "intake.application.accepted.v1". */
#define CCIP_TYPE_MAX 128

/* Packs env into a freshly initialised zmq message (caller sends or closes
 * it). Returns 0, or -1 when memory ran out (msg then needs no close). */
int ccip_envelope_pack(const Ccip__Envelope *env, zmq_msg_t *msg);

/* Packs env into a malloc'd buffer (caller frees *out). Returns 0 or -1. */
int ccip_envelope_pack_buf(const Ccip__Envelope *env, uint8_t **out, size_t *len);

/* Decodes len bytes. Refuses input longer than max_bytes, input the decoder
 * rejects (and a field numbered 0, which protobuf-c keeps but then cannot
 * decode once re-packed), envelopes with a string field that is not UTF-8
 * or holds a NUL or another control character but tab and newline
 * (ccip_wire.h, naming the field), and envelopes whose type is not a valid
 * type name. Returns the envelope (free with ccip_envelope_free) or NULL
 * with a sentence in err. */
Ccip__Envelope *ccip_envelope_unpack(const void *data, size_t len, size_t max_bytes, char *err,
                                     size_t errlen);

/* Frees a decoded envelope; safe on NULL and twice. */
void ccip_envelope_free(Ccip__Envelope **env);

/* Checks a type name: lower-case dotted words ending in a version,
 * "<service>.<word>[.<word>...].v<N>". Returns 0 or -1 with err. */
int ccip_type_check(const char *type, char *err, size_t errlen);

/* "OK", "INVALID_ARGUMENT", ... ; "UNKNOWN" for values outside the enum. */
const char *ccip_status_name(Ccip__Status status);

/* The name of an enum value ("SPECIAL_FUND_PROJECT"), which is also how
 * services store it; NULL when value is not in the enum. */
const char *ccip_enum_name(const ProtobufCEnumDescriptor *desc, int value);

/* The value of an enum name, or 0 (the UNSPECIFIED value by proto/README's
 * rule) when name is NULL or not in the enum. */
int ccip_enum_value(const ProtobufCEnumDescriptor *desc, const char *name);

/* Builds a reply to `req` on the stack: copies id (so a client can match
 * it), type, correlation id (the request's own id when it had none) and
 * sets causation id, status and error. Strings stay borrowed from req and
 * error. */
void ccip_envelope_reply_init(Ccip__Envelope *reply, const Ccip__Envelope *req, Ccip__Status status,
                              const char *error);

/* Generic payload helpers with the same size cap and bounded allocator as
 * ccip_envelope_unpack. The descriptor is the generated one, e.g.
 * &ccip__replay_request__descriptor. Returns NULL and fills err on failure;
 * free with protobuf_c_message_free_unpacked(msg, NULL). */
ProtobufCMessage *ccip_payload_unpack(const ProtobufCMessageDescriptor *desc, const void *data,
                                      size_t len, size_t max_bytes, char *err, size_t errlen);

#endif
