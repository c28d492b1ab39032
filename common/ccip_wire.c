#include "ccip_wire.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ccip_validate.h"

/* Where the walk is at one level of nesting: enough to name the path of a
 * field after the fact, so that the walk itself keeps no path. */
typedef struct {
    const ProtobufCMessageDescriptor *desc; /* the message at this level */
    const uint8_t *start;                   /* its first byte */
    const ProtobufCFieldDescriptor *field;  /* the field being read at this level */
    const uint8_t *field_at;                /* where that field's tag starts */
} s_frame;

typedef struct {
    s_frame frames[CCIP_WIRE_MAX_DEPTH]; /* frames[0] is the top message */
    const uint8_t *end;                  /* end of the whole message */
    const char *what;                    /* "field", "envelope field" */
    char *err;                           /* caller's buffer */
    size_t errlen;                       /* its size */
} s_walk;

/* Reads a varint at *p (below end) into *v. Returns 1, or 0 when it is
 * truncated or longer than 10 bytes. */
static int s_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 70 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 63);
        if (!(b & 0x80)) {
            *v = r;
            return 1;
        }
    }
    return 0;
}

/* How many fields numbered `number` the message begun at start has before
 * `at` (both well-formed, already walked): a repeated field's index. */
static size_t s_index(const uint8_t *start, const uint8_t *at, uint32_t number)
{
    size_t n = 0;
    const uint8_t *p = start;
    while (p < at) {
        uint64_t key, len = 0;
        if (!s_varint(&p, at, &key))
            break;
        if ((key >> 3) == number)
            n++;
        switch (key & 7) {
        case 0:
            if (!s_varint(&p, at, &len))
                return n;
            break;
        case 1:
            p += 8;
            break;
        case 5:
            p += 4;
            break;
        case 2:
            if (!s_varint(&p, at, &len) || len > (uint64_t)(at - p))
                return n;
            p += len;
            break;
        default:
            return n;
        }
    }
    return n;
}

/* Appends one path segment: the field's name, and [i] when repeated. */
static size_t s_segment(char *buf, size_t len, size_t n, const s_frame *fr)
{
    if (n >= len)
        return n;
    int w;
    if (fr->field->label == PROTOBUF_C_LABEL_REPEATED)
        w = snprintf(buf + n, len - n, "%s%s[%zu]", n ? "." : "", fr->field->name,
                     s_index(fr->start, fr->field_at, fr->field->id));
    else
        w = snprintf(buf + n, len - n, "%s%s", n ? "." : "", fr->field->name);
    return w > 0 ? n + (size_t)w : n;
}

/* The path of the field frames[depth].field, e.g. documents[2].title. */
static void s_path(const s_walk *w, int depth, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i <= depth; i++)
        n = s_segment(buf, len, n, &w->frames[i]);
}

/* Refuses the string field frames[depth].field: `problem` at byte `at` of
 * the string (0-based; said 1-based, as ccip_text_check says it). */
static int s_fail_field(s_walk *w, int depth, const char *problem, size_t at)
{
    char path[256];
    s_path(w, depth, path, sizeof path);
    snprintf(w->err, w->errlen,
             "%s `%s` %s at byte %zu; text must be UTF-8 and may hold no control characters but "
             "tab and newline",
             w->what, path, problem, at + 1);
    return CCIP_WIRE_REFUSED;
}

static int s_malformed(s_walk *w, const uint8_t *at, const char *why)
{
    snprintf(w->err, w->errlen, "could not decode %s: malformed protobuf (%s at byte %zu)",
             w->frames[0].desc->name, why, (size_t)(at - w->frames[0].start) + 1);
    return CCIP_WIRE_MALFORMED;
}

/* Checks one string's bytes; the field is frames[depth].field. */
static int s_string(s_walk *w, int depth, const uint8_t *s, size_t len)
{
    size_t ctl = len;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x20 && s[i] != '\t' && s[i] != '\n') {
            ctl = i;
            break;
        }
    }
    size_t bad = ccip_utf8_invalid_at((const char *)s, ctl);
    if (bad < ctl)
        return s_fail_field(w, depth, "is not valid UTF-8", bad);
    if (ctl == len)
        return 0;
    if (s[ctl] == 0)
        return s_fail_field(w, depth, "contains a NUL byte", ctl);
    char problem[48];
    snprintf(problem, sizeof problem, "contains control character 0x%02x", s[ctl]);
    return s_fail_field(w, depth, problem, ctl);
}

static int s_message(s_walk *w, int depth, const ProtobufCMessageDescriptor *desc, const uint8_t *p,
                     const uint8_t *end)
{
    s_frame *fr = &w->frames[depth];
    fr->desc = desc;
    fr->start = p;
    while (p < end) {
        const uint8_t *tag_at = p;
        uint64_t key, len;
        if (!s_varint(&p, end, &key))
            return s_malformed(w, tag_at, "a truncated or overlong field tag");
        uint64_t number = key >> 3;
        if (number == 0 || number > 0x1fffffff)
            return s_malformed(w, tag_at, "a field numbered 0 or beyond 2^29");
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(desc, (unsigned)number);
        switch (key & 7) {
        case 0:
            if (!s_varint(&p, end, &len))
                return s_malformed(w, tag_at, "a truncated varint");
            break;
        case 1:
        case 5: {
            size_t n = (key & 7) == 1 ? 8 : 4;
            if ((size_t)(end - p) < n)
                return s_malformed(w, tag_at, "a truncated fixed-size field");
            p += n;
            break;
        }
        case 2:
            if (!s_varint(&p, end, &len) || len > (uint64_t)(end - p))
                return s_malformed(w, tag_at, "a length beyond the end of the message");
            if (f && (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)) {
                fr->field = f;
                fr->field_at = tag_at;
                if (f->type == PROTOBUF_C_TYPE_STRING) {
                    if (s_string(w, depth, p, (size_t)len) < 0)
                        return CCIP_WIRE_REFUSED;
                } else {
                    if (depth + 1 >= CCIP_WIRE_MAX_DEPTH) {
                        char path[256];
                        s_path(w, depth, path, sizeof path);
                        snprintf(w->err, w->errlen, "%s `%s` nests messages deeper than %d levels",
                                 w->what, path, CCIP_WIRE_MAX_DEPTH);
                        return CCIP_WIRE_REFUSED;
                    }
                    int rc = s_message(w, depth + 1, f->descriptor, p, p + len);
                    if (rc < 0)
                        return rc;
                }
            }
            p += len;
            break;
        default:
            return s_malformed(w, tag_at, "a group or an unknown wire type");
        }
    }
    return 0;
}

int ccip_wire_check_strings(const ProtobufCMessageDescriptor *desc, const void *data, size_t len,
                            const char *what, char *err, size_t errlen)
{
    s_walk w;
    w.end = (const uint8_t *)data + len;
    w.what = what;
    w.err = err;
    w.errlen = errlen;
    w.frames[0].desc = desc;
    w.frames[0].start = data;
    if (len == 0)
        return 0;
    return s_message(&w, 0, desc, data, w.end);
}
