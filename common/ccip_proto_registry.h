/*
 * ccip_proto_registry: every protobuf message and enum of proto/, found by
 * full name ("ccip.intake.DraftRequest"). The table behind it is generated
 * by the build from the protoc-c output (proto/CMakeLists.txt,
 * cmake/proto_registry.cmake), so a new
 * .proto file or message needs no hand-kept list; fuzzers pick a
 * descriptor from their input with it, the gateway and ccipctl find the
 * message of a name they were given.
 */
#ifndef CCIP_PROTO_REGISTRY_H
#define CCIP_PROTO_REGISTRY_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* Number of message descriptors known, and the i-th (i < count), sorted by
 * full name; NULL when i is out of range. Borrowed, static. */
size_t ccip_proto_message_count(void);
const ProtobufCMessageDescriptor *ccip_proto_message_at(size_t i);

/* The message descriptor of full name `name`, or NULL when none. */
const ProtobufCMessageDescriptor *ccip_proto_message_find(const char *name);

/* Number of enum descriptors known, and the i-th (i < count), sorted by
 * full name; NULL when i is out of range. Borrowed, static. */
size_t ccip_proto_enum_count(void);
const ProtobufCEnumDescriptor *ccip_proto_enum_at(size_t i);

/* The enum descriptor of full name `name` ("ccip.Status"), or NULL. */
const ProtobufCEnumDescriptor *ccip_proto_enum_find(const char *name);

#endif
