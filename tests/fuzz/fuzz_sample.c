#include "fuzz_sample.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_DEPTH 4

#define S_MEMBER(type, msg, off) (*(type *)((uint8_t *)(msg) + (off)))

static size_t s_elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    default:
        return 4;
    }
}

static ProtobufCMessage *s_message(const ProtobufCMessageDescriptor *d, unsigned v, int depth);

/* Writes value number k of field f (index i) at p. -1 when memory ran out. */
static int s_value(const ProtobufCFieldDescriptor *f, unsigned i, unsigned v, unsigned k, void *p,
                   int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *(int32_t *)p = v == 1 ? INT32_MIN + (int32_t)k : (int32_t)(2027 + i + k);
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)p = v == 1 ? UINT32_MAX - k : 100 + i + k;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        /* v 0: money beyond 2^53, which a JSON number would round */
        *(int64_t *)p = v == 1   ? INT64_MIN + (int64_t)k
                        : v == 2 ? -(int64_t)(1000 + i)
                                 : 9007199254740993LL + i + k;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(uint64_t *)p = v == 1 ? UINT64_MAX - k : 1790000000000000ULL + i + k;
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
        *(float *)p = v == 1 ? 3.0e38f : v == 2 ? INFINITY : 1.5f + (float)k;
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        *(double *)p = v == 1 ? -1e300 : v == 2 ? NAN : 0.1 + k;
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)p = v != 1;
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *e = f->descriptor;
        unsigned pick = v == 1 ? (e->n_values > 1 ? 1 : 0) : e->n_values - 1 - k % e->n_values;
        *(int32_t *)p = e->values[pick].value;
        return 0;
    }
    case PROTOBUF_C_TYPE_STRING: {
        char buf[160];
        if (v == 1)
            buf[0] = '\0';
        else if (v == 2)
            snprintf(buf, sizeof buf, "%s \"q\" \\ \t\n\x01 %u", f->name, k);
        else
            snprintf(buf, sizeof buf, "%s 文化创意 %u", f->name, k);
        char *s = strdup(buf);
        if (!s)
            return -1;
        *(char **)p = s;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *b = p;
        size_t n = v == 1 ? 0 : v == 2 ? 1 + (i + k) % 6 : 32 + k;
        b->len = n;
        b->data = NULL;
        if (n == 0)
            return 0;
        if (!(b->data = malloc(n)))
            return -1;
        for (size_t j = 0; j < n; j++)
            b->data[j] = (uint8_t)(j * 91 + i * 37 + k * 7 + 0xf0);
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        ProtobufCMessage *sub = s_message(f->descriptor, v, depth + 1);
        if (!sub)
            return -1;
        *(ProtobufCMessage **)p = sub;
        return 0;
    }
    }
    return 0;
}

/* Which member of f's oneof variant v sets: its ordinal among the members
 * (they share the case's offset) equal to v modulo their number. */
static int s_oneof_pick(const ProtobufCMessageDescriptor *d, unsigned fi, unsigned v)
{
    const ProtobufCFieldDescriptor *f = &d->fields[fi];
    unsigned members = 0, ordinal = 0;
    for (unsigned i = 0; i < d->n_fields; i++)
        if ((d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            d->fields[i].quantifier_offset == f->quantifier_offset) {
            if (i == fi)
                ordinal = members;
            members++;
        }
    return ordinal == v % members;
}

static ProtobufCMessage *s_message(const ProtobufCMessageDescriptor *d, unsigned v, int depth)
{
    ProtobufCMessage *m = malloc(d->sizeof_message);
    if (!m)
        return NULL;
    d->message_init(m);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        /* messages stop at S_MAX_DEPTH (a message may contain itself) */
        if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth >= S_MAX_DEPTH)
            continue;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (!s_oneof_pick(d, i, v))
                continue;
            if (s_value(f, i, v, 0, (uint8_t *)m + f->offset, depth) < 0)
                goto oom;
            S_MEMBER(uint32_t, m, f->quantifier_offset) = f->id;
        } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = v == 1 ? 1 : v == 2 ? 3 : 2, esz = s_elem_size(f->type);
            uint8_t *arr = calloc(n, esz);
            if (!arr)
                goto oom;
            S_MEMBER(uint8_t *, m, f->offset) = arr;
            for (size_t k = 0; k < n; k++) {
                if (s_value(f, i, v, (unsigned)k, arr + k * esz, depth) < 0)
                    goto oom;
                S_MEMBER(size_t, m, f->quantifier_offset) = k + 1;
            }
        } else {
            if (s_value(f, i, v, 0, (uint8_t *)m + f->offset, depth) < 0)
                goto oom;
            if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
                f->type != PROTOBUF_C_TYPE_STRING)
                S_MEMBER(protobuf_c_boolean, m, f->quantifier_offset) = 1;
        }
    }
    return m;
oom:
    protobuf_c_message_free_unpacked(m, NULL);
    return NULL;
}

ProtobufCMessage *fuzz_sample_message(const ProtobufCMessageDescriptor *d, unsigned variant)
{
    return s_message(d, variant % FUZZ_SAMPLE_VARIANTS, 1);
}
