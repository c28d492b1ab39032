#include "ccip_row.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_log.h"

/* Longest field name a list may hold (protobuf-c names are identifiers). */
#define NAME_MAX_LEN 127

/* Logs a mistake in a field list and returns -1. */
static int s_mistake(const ProtobufCMessage *msg, const char *name, const char *why)
{
    ccip_log_error("could not read a row into a message", "message", msg->descriptor->name, "field",
                   name, "reason", why);
    return -1;
}

/* Sets field f of msg from the column's text (NULL cells read as ""). */
static int s_set(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, const char *text,
                 ccip_arena *a)
{
    void *p = (char *)msg + f->offset;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        *(char **)p = ccip_arena_strdup(a, text);
        return 0;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *(int32_t *)p = (int32_t)strtoll(text, NULL, 10);
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)p = (uint32_t)strtoull(text, NULL, 10);
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *(int64_t *)p = strtoll(text, NULL, 10);
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(uint64_t *)p = strtoull(text, NULL, 10);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)p = text[0] == 't';
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        *(int *)p = ccip_enum_value(f->descriptor, text);
        return 0;
    default:
        return -1;
    }
}

int ccip_row_fill(ProtobufCMessage *msg, const PGresult *res, int row, int col0, const char *fields,
                  ccip_arena *a)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    int col = col0;
    for (const char *p = fields; *p; col++) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, ", ");
        char name[NAME_MAX_LEN + 1];
        if (len > NAME_MAX_LEN)
            return s_mistake(msg, "(a name too long)", "not a field name");
        memcpy(name, p, len);
        name[len] = '\0';
        p += len;
        while (*p == ' ')
            p++;
        p += *p == ',';
        if (!name[0])
            continue; /* a column the caller reads itself */
        if (col >= PQnfields(res))
            return s_mistake(msg, name, "the result has no column for it");
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(desc, name);
        if (!f)
            return s_mistake(msg, name, "the message has no such field");
        if (f->label == PROTOBUF_C_LABEL_REPEATED || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
            s_set(msg, f, PQgetvalue(res, row, col), a) < 0)
            return s_mistake(msg, name, "not a singular string, integer, bool or enum field");
        if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
            *(protobuf_c_boolean *)((char *)msg + f->quantifier_offset) = 1;
    }
    return 0;
}

void *ccip_row_new(ccip_arena *a, const ProtobufCMessageDescriptor *desc, const PGresult *res,
                   int row, int col0, const char *fields)
{
    ProtobufCMessage *msg = ccip_arena_alloc(a, desc->sizeof_message);
    if (!msg)
        return NULL;
    desc->message_init(msg);
    return ccip_row_fill(msg, res, row, col0, fields, a) == 0 ? msg : NULL;
}
