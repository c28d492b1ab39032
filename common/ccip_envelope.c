#include "ccip_envelope.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_wire.h"

/* A decoder may allocate at most this many times the input size (plus a
 * constant), which covers every legitimate message: protobuf-c allocates
 * the struct and copies strings and bytes, never more than a few times the
 * wire size. */
#define DECODE_BUDGET_FACTOR 8
#define DECODE_BUDGET_BASE   16384

typedef struct {
    size_t remaining; /* bytes the decoder may still allocate */
} s_budget;

static void *s_budget_alloc(void *data, size_t size)
{
    s_budget *b = data;
    if (size > b->remaining)
        return NULL;
    b->remaining -= size;
    return malloc(size);
}

static void s_budget_free(void *data, void *p)
{
    (void)data;
    free(p);
}

int ccip_envelope_pack(const Ccip__Envelope *env, zmq_msg_t *msg)
{
    size_t n = ccip__envelope__get_packed_size(env);
    if (zmq_msg_init_size(msg, n) != 0)
        return -1;
    ccip__envelope__pack(env, zmq_msg_data(msg));
    return 0;
}

int ccip_envelope_pack_buf(const Ccip__Envelope *env, uint8_t **out, size_t *len)
{
    size_t n = ccip__envelope__get_packed_size(env);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return -1;
    ccip__envelope__pack(env, buf);
    *out = buf;
    *len = n;
    return 0;
}

/* 1 when m, or a message inside it, holds an unknown field numbered 0.
 * Field number 0 is not valid protobuf, but protobuf-c 1.4 accepts it when
 * the tag is written as a longer varint than needed (0x82 0x00) and keeps
 * it as an unknown field, which it then packs as 0x02 and refuses to
 * decode: a message that could not be passed on (proto/README: unknown
 * fields are written back). Found by tests/fuzz (fuzz_envelope). */
static int s_has_field_zero(const ProtobufCMessage *m)
{
    for (unsigned i = 0; i < m->n_unknown_fields; i++)
        if (m->unknown_fields[i].tag == 0)
            return 1;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const uint8_t *base = (const uint8_t *)m;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage *const *arr = *(ProtobufCMessage * *const *)(base + f->offset);
            for (size_t k = 0; k < n; k++)
                if (arr[k] && s_has_field_zero(arr[k]))
                    return 1;
        } else {
            const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(base + f->offset);
            if (sub && s_has_field_zero(sub))
                return 1;
        }
    }
    return 0;
}

ProtobufCMessage *ccip_payload_unpack(const ProtobufCMessageDescriptor *desc, const void *data,
                                      size_t len, size_t max_bytes, char *err, size_t errlen)
{
    if (len > max_bytes) {
        snprintf(err, errlen, "%s of %zu bytes exceeds the limit of %zu bytes", desc->short_name,
                 len, max_bytes);
        return NULL;
    }
    s_budget budget = {.remaining = len * DECODE_BUDGET_FACTOR + DECODE_BUDGET_BASE};
    ProtobufCAllocator alloc = {
        .alloc = s_budget_alloc, .free = s_budget_free, .allocator_data = &budget};
    ProtobufCMessage *msg = protobuf_c_message_unpack(desc, &alloc, len, data);
    if (!msg) {
        snprintf(err, errlen, "could not decode %s: malformed protobuf (%zu bytes)",
                 desc->short_name, len);
        return NULL;
    }
    if (s_has_field_zero(msg)) {
        snprintf(err, errlen,
                 "could not decode %s: malformed protobuf (a field numbered 0, %zu bytes)",
                 desc->short_name, len);
        protobuf_c_message_free_unpacked(msg, &alloc);
        return NULL;
    }
    return msg;
}

Ccip__Envelope *ccip_envelope_unpack(const void *data, size_t len, size_t max_bytes, char *err,
                                     size_t errlen)
{
    ProtobufCMessage *msg =
        ccip_payload_unpack(&ccip__envelope__descriptor, data, len, max_bytes, err, errlen);
    if (!msg)
        return NULL;
    Ccip__Envelope *env = (Ccip__Envelope *)msg;
    /* The decoded strings end at their first NUL: the wire bytes say what
     * was really sent (ccip_wire.h). */
    if (ccip_wire_check_strings(&ccip__envelope__descriptor, data, len, "envelope field", err,
                                errlen) < 0) {
        ccip_envelope_free(&env);
        return NULL;
    }
    char why[160];
    if (ccip_type_check(env->type, why, sizeof why) < 0) {
        snprintf(err, errlen, "envelope has a bad type: %s", why);
        ccip_envelope_free(&env);
        return NULL;
    }
    return env;
}

void ccip_envelope_free(Ccip__Envelope **env)
{
    if (!env || !*env)
        return;
    ccip__envelope__free_unpacked(*env, NULL);
    *env = NULL;
}

int ccip_type_check(const char *type, char *err, size_t errlen)
{
    if (!type || !*type) {
        snprintf(err, errlen, "type is empty; expected a name like intake.call.open.v1");
        return -1;
    }
    size_t n = strlen(type);
    if (n > CCIP_TYPE_MAX) {
        snprintf(err, errlen, "type is %zu characters long; at most %d are allowed", n,
                 CCIP_TYPE_MAX);
        return -1;
    }
    int words = 1;
    const char *last = type;
    for (const char *p = type; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.') {
            if (p == type || p[-1] == '.' || p[1] == '\0')
                goto bad;
            words++;
            last = p + 1;
        } else if (!(islower(c) || isdigit(c) || c == '_')) {
            goto bad;
        }
    }
    if (words < 3 || last[0] != 'v' || !isdigit((unsigned char)last[1]))
        goto bad;
    for (const char *p = last + 1; *p; p++)
        if (!isdigit((unsigned char)*p))
            goto bad;
    return 0;
bad:
    snprintf(err, errlen,
             "type \"%.*s\" is not of the form <service>.<name>.v<N> in lower case, "
             "e.g. intake.call.open.v1",
             CCIP_TYPE_MAX, type);
    return -1;
}

const char *ccip_status_name(Ccip__Status status)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&ccip__status__descriptor, (int)status);
    return v ? v->name : "UNKNOWN";
}

void ccip_envelope_reply_init(Ccip__Envelope *reply, const Ccip__Envelope *req, Ccip__Status status,
                              const char *error)
{
    ccip__envelope__init(reply);
    reply->id = req->id;
    reply->type = req->type;
    reply->correlation_id =
        (req->correlation_id && *req->correlation_id) ? req->correlation_id : req->id;
    reply->causation_id = req->id;
    reply->aggregate_type = req->aggregate_type;
    reply->aggregate_id = req->aggregate_id;
    reply->status = status;
    reply->error = (char *)(error ? error : "");
}

const char *ccip_enum_name(const ProtobufCEnumDescriptor *desc, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    return v ? v->name : NULL;
}

int ccip_enum_value(const ProtobufCEnumDescriptor *desc, const char *name)
{
    const ProtobufCEnumValue *v =
        name ? protobuf_c_enum_descriptor_get_value_by_name(desc, name) : NULL;
    return v ? v->value : 0;
}
