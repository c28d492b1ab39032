/*
 * ccip_wire: every string of a protobuf message checked on the wire, once,
 * before anything reads it.
 *
 * protobuf-c's unpack copies a string field into a C string and says
 * nothing about what it held: "ABC\0junk" arrives as "ABC", so a code or an
 * id followed by a NUL and junk would find the real record, two command ids
 * that differ only after a NUL would be one, and invalid UTF-8 would be
 * stored and echoed back to clients whose strict parsers then refuse the
 * reply. So the bytes are checked as they travel, not the unpacked struct:
 * ccip_wire_check_strings walks the wire format (tags, wire types,
 * length-delimited fields) with the message's descriptor, recursing into
 * nested and repeated messages (depth bounded), and every field of type
 * string must be strict UTF-8 (ccip_utf8_valid) without NUL and without
 * the other C0 control characters (U+0001..U+001F) except tab and newline.
 * Bytes fields, numbers and fields the descriptor does not know are
 * skipped: they are not text.
 *
 * The refusal names the field by its path in the message, as a person
 * would write it:
 *   field `documents[2].title` contains a NUL byte at byte 7; text must be
 *   UTF-8 and may hold no control characters but tab and newline
 * (bytes counted from 1 in the string, as ccip_text_check counts them).
 */
#ifndef CCIP_WIRE_H
#define CCIP_WIRE_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

/* Deepest nesting of messages followed (the message itself is depth 1). */
#define CCIP_WIRE_MAX_DEPTH 32

/* What ccip_wire_check_strings refused. */
#define CCIP_WIRE_REFUSED   (-1) /* a string field breaks the rule, or nesting is too deep */
#define CCIP_WIRE_MALFORMED (-2) /* the bytes are not the message at all */

/* Checks every string field of the message of type desc encoded in
 * data[0..len). `what` starts the sentence ("field", "envelope field").
 * Returns 0; CCIP_WIRE_REFUSED with a sentence in err naming the field's
 * path, the byte (counted in the string from 1) and the rule, or saying
 * that the nesting is deeper than CCIP_WIRE_MAX_DEPTH; or
 * CCIP_WIRE_MALFORMED for malformed wire data (a truncated field, a bad
 * varint, a group, field number 0), err then "could not decode <message's
 * full name>: malformed protobuf (<what> at byte N)". Reads only data;
 * allocates nothing. */
int ccip_wire_check_strings(const ProtobufCMessageDescriptor *desc, const void *data, size_t len,
                            const char *what, char *err, size_t errlen);

#endif
