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
    int exhausted;    /* 1 once an allocation was refused */
} s_budget;

static void *s_budget_alloc(void *data, size_t size)
{
    s_budget *b = data;
    if (size > b->remaining) {
        b->exhausted = 1;
        return NULL;
    }
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

/* Counts the unknown fields of m and of every message inside it into
 * *unknown; returns 1 when one of them is numbered 0.
 *
 * Field number 0 is not valid protobuf, but protobuf-c 1.4 accepts it when
 * the tag is written as a longer varint than needed (0x82 0x00) and keeps
 * it as an unknown field, which it then packs as 0x02 and refuses to
 * decode: a message that could not be passed on (proto/README: unknown
 * fields are written back). Found by tests/fuzz (fuzz_envelope).
 *
 * Unknown fields are what a newer sender adds (a few fields per version);
 * each costs the decoder about 60 bytes however short it is on the wire,
 * so hundreds of one-byte ones could pass the decode budget in a message
 * padded with repeats of a known field, and its own packing (the repeats
 * collapsed, the unknown fields kept) would then exceed the budget of its
 * smaller size: a message accepted once and refused when passed on (found
 * by fuzz_envelope). CCIP_UNKNOWN_FIELDS_MAX bounds them. */
static int s_unknown_fields(const ProtobufCMessage *m, size_t *unknown)
{
    *unknown += m->n_unknown_fields;
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
                if (arr[k] && s_unknown_fields(arr[k], unknown))
                    return 1;
        } else {
            const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(base + f->offset);
            if (sub && s_unknown_fields(sub, unknown))
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
    if (!msg && budget.exhausted) {
        /* protobuf-c spends about 40 bytes on each field it reads, however
         * short: only a message of many tiny (repeated) fields gets here */
        snprintf(err, errlen,
                 "could not decode %s: its %zu bytes hold more fields than a message of that "
                 "size may (decoding would take more than %d times its size); send each field "
                 "once",
                 desc->short_name, len, DECODE_BUDGET_FACTOR);
        return NULL;
    }
    if (!msg) {
        snprintf(err, errlen, "could not decode %s: malformed protobuf (%zu bytes)",
                 desc->short_name, len);
        return NULL;
    }
    size_t unknown = 0;
    if (s_unknown_fields(msg, &unknown)) {
        snprintf(err, errlen,
                 "could not decode %s: malformed protobuf (a field numbered 0, %zu bytes)",
                 desc->short_name, len);
        protobuf_c_message_free_unpacked(msg, &alloc);
        return NULL;
    }
    if (unknown > CCIP_UNKNOWN_FIELDS_MAX) {
        snprintf(err, errlen,
                 "could not decode %s: it carries %zu fields this version does not know, more "
                 "than the %d a newer sender may add; send the fields of %s only",
                 desc->short_name, unknown, CCIP_UNKNOWN_FIELDS_MAX, desc->name);
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
