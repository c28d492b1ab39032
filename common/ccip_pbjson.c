#include "ccip_pbjson.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_validate.h"

/* The member at byte offset `off` of a message struct (protobuf-c lays
 * every field out at the offset its descriptor names). */
#define S_MEMBER(type, msg, off)  (*(type *)((uint8_t *)(msg) + (off)))
#define S_CMEMBER(type, msg, off) (*(const type *)((const uint8_t *)(msg) + (off)))

/* Longest JSON name of a field; protoc refuses nothing longer in practice,
 * and a longer one is cut (and then matches no key, which is refused). */
#define S_NAME_MAX 128
/* Longest field path kept for error sentences ("documents[1].media_type"). */
#define S_PATH_MAX 512
/* Bytes of a client's value echoed in an error sentence. */
#define S_ECHO_MAX 40
/* Bytes of a list of names (known fields, enum values) in an error sentence. */
#define S_LIST_MAX 320

/* ---- small helpers ------------------------------------------------------ */

/* Length of the valid UTF-8 sequence that starts at p (n bytes left), or 0
 * when the byte there starts none. */
static size_t s_utf8_seq(const unsigned char *p, size_t n)
{
    size_t k;
    if (p[0] < 0x80)
        k = 1;
    else if (p[0] >= 0xC2 && p[0] <= 0xDF)
        k = 2;
    else if (p[0] >= 0xE0 && p[0] <= 0xEF)
        k = 3;
    else if (p[0] >= 0xF0 && p[0] <= 0xF4)
        k = 4;
    else
        return 0;
    return k <= n && ccip_utf8_valid((const char *)p, k) ? k : 0;
}

/* Writes s[0..n) for an error sentence into buf: at most S_ECHO_MAX bytes
 * of it, cut at a character boundary (then "..."), with quotes,
 * backslashes, control characters and invalid bytes as \xNN, so that what a
 * client sent can never break the sentence or a log line. Returns buf. */
static const char *s_echo(const char *s, size_t n, char *buf, size_t len)
{
    size_t o = 0, i = 0;
    const unsigned char *u = (const unsigned char *)s;
    while (i < n && o + 8 < len) {
        if (i >= S_ECHO_MAX) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        size_t k = s_utf8_seq(u + i, n - i);
        if (k == 1 && u[i] >= 0x20 && u[i] != 0x7f && u[i] != '"' && u[i] != '\\') {
            buf[o++] = (char)u[i];
        } else if (k > 1 && o + k + 4 < len) {
            memcpy(buf + o, u + i, k);
            o += k;
        } else {
            k = 1;
            o += (size_t)snprintf(buf + o, len - o, "\\x%02X", u[i]);
        }
        i += k;
    }
    buf[o] = '\0';
    return buf;
}

/* "a string", "an array", ...: what a JSON value is, for error sentences. */
static const char *s_kind(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* Size of one element of a repeated field of type t, as protobuf-c lays
 * out its arrays. */
static size_t s_elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
    default:
        return sizeof(ProtobufCMessage *);
    }
}

const char *ccip_pbjson_field_name(const ProtobufCFieldDescriptor *f, char *buf, size_t len)
{
    /* protoc's ToJsonName: drop each '_' and upper-case the letter after
     * it; nothing else changes (a leading capital stays). */
    if (!buf || len == 0)
        return buf;
    size_t o = 0;
    int up = 0;
    for (const char *p = f->name; *p && o + 1 < len; p++) {
        if (*p == '_') {
            up = 1;
            continue;
        }
        buf[o++] = (up && *p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
        up = 0;
    }
    buf[o] = '\0';
    return buf;
}

/* ---- base64 (RFC 4648) ---------------------------------------------------- */

static const char S_B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The value of one base64 character of either alphabet (standard "+/" or
 * URL-safe "-_"), or -1. */
static int s_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Standard base64 with padding of d[0..n), as a new JSON string; NULL when
 * memory ran out. */
static json_t *s_b64_encode(const uint8_t *d, size_t n)
{
    if (n > (SIZE_MAX / 4 - 1) * 3)
        return NULL;
    size_t outlen = 4 * ((n + 2) / 3);
    char *out = malloc(outlen + 1);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        out[o++] = S_B64[v >> 18 & 63];
        out[o++] = S_B64[v >> 12 & 63];
        out[o++] = S_B64[v >> 6 & 63];
        out[o++] = S_B64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0);
        out[o++] = S_B64[v >> 18 & 63];
        out[o++] = S_B64[v >> 12 & 63];
        out[o++] = i + 1 < n ? S_B64[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    json_t *j = json_stringn_nocheck(out, o);
    free(out);
    return j;
}

/* Decodes base64 of either alphabet, padded or not. Refuses characters of
 * neither alphabet (whitespace included), padding that does not complete
 * the last group, a lone character in the last group, and non-zero unused
 * bits (so that every byte string has exactly one accepted spelling per
 * alphabet and padding). Returns 0 with a malloc'd *out of *outlen bytes
 * (NULL for none), -1 when invalid, -2 when memory ran out. */
static int s_b64_decode(const char *s, size_t n, uint8_t **out, size_t *outlen)
{
    size_t pad = 0;
    while (pad < 2 && pad < n && s[n - 1 - pad] == '=')
        pad++;
    if (pad && n % 4 != 0)
        return -1;
    size_t m = n - pad; /* data characters */
    if (m % 4 == 1)
        return -1;
    size_t len = m / 4 * 3 + (m % 4 == 2 ? 1 : m % 4 == 3 ? 2 : 0);
    if (pad && m % 4 != 4 - pad)
        return -1;
    for (size_t i = 0; i < m; i++)
        if (s_b64_value((unsigned char)s[i]) < 0)
            return -1;
    if (m % 4 == 2 && (s_b64_value((unsigned char)s[m - 1]) & 0x0F))
        return -1;
    if (m % 4 == 3 && (s_b64_value((unsigned char)s[m - 1]) & 0x03))
        return -1;
    *out = NULL;
    *outlen = 0;
    if (len == 0)
        return 0;
    uint8_t *d = malloc(len);
    if (!d)
        return -2;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < m; i++) {
        acc = acc << 6 | (uint32_t)s_b64_value((unsigned char)s[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            d[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *out = d;
    *outlen = o;
    return 0;
}

/* ---- message -> JSON ------------------------------------------------------ */

/* s as a JSON string. A string a message holds should be UTF-8 (services
 * check what they accept), but one decoded from the wire may not be:
 * rather than fail, each byte that starts no valid sequence becomes U+FFFD,
 * so that the answer is still JSON. NULL only when memory ran out. */
static json_t *s_string_json(const char *s)
{
    size_t n = strlen(s);
    if (ccip_utf8_valid(s, n))
        return json_stringn_nocheck(s, n);
    if (n > SIZE_MAX / 3 - 1)
        return NULL;
    char *buf = malloc(n * 3 + 1);
    if (!buf)
        return NULL;
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = s_utf8_seq(u + i, n - i);
        if (k) {
            memcpy(buf + o, u + i, k);
            o += k;
            i += k;
        } else {
            memcpy(buf + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    json_t *j = json_stringn_nocheck(buf, o);
    free(buf);
    return j;
}

/* A float or double: a number, or "NaN", "Infinity", "-Infinity", which
 * JSON numbers cannot hold. */
static json_t *s_double_json(double d)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

static json_t *s_message_json(const ProtobufCMessage *m, int flags);

/* The JSON of one value of field f stored at p. NULL when memory ran out. */
static json_t *s_value_json(const ProtobufCFieldDescriptor *f, const void *p, int flags)
{
    char num[32];
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(num, sizeof num, "%" PRId64, *(const int64_t *)p);
        return json_string(num);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(num, sizeof num, "%" PRIu64, *(const uint64_t *)p);
        return json_string(num);
    case PROTOBUF_C_TYPE_FLOAT:
        return s_double_json(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE:
        return s_double_json(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: {
        int32_t v = *(const int32_t *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        return ev ? json_string(ev->name) : json_integer(v);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return s_string_json(s ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        return s_b64_encode(b->data, b->data ? b->len : 0);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        /* A hand-built message may hold NULL in a repeated field, which
         * protobuf-c could not pack either: written as null. */
        return sub ? s_message_json(sub, flags) : json_null();
    }
    }
    return json_null(); /* a type this protobuf-c does not have */
}

/* 1 when a singular proto3 field without presence holds its zero value,
 * which the canonical mapping leaves out (the same test protobuf-c uses to
 * leave it off the wire). */
static int s_is_zero(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)p == NULL;
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)p == 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)p == 0;
    case PROTOBUF_C_TYPE_BOOL:
        return !*(const protobuf_c_boolean *)p;
    default: {
        size_t n = s_elem_size(f->type);
        static const uint8_t zero[8];
        return memcmp(p, zero, n) == 0;
    }
    }
}

/* Whether field f of m is written: a oneof member when it is the one set,
 * a field with presence when present, a repeated field when not empty, any
 * other field when not zero; EMIT_DEFAULTS writes the last two always
 * (protobuf's rule: oneofs and unset message fields stay out). */
static int s_field_written(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int flags)
{
    const void *p = (const uint8_t *)m + f->offset;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return S_CMEMBER(uint32_t, m, f->quantifier_offset) == f->id;
    switch (f->label) {
    case PROTOBUF_C_LABEL_REQUIRED:
        return 1;
    case PROTOBUF_C_LABEL_OPTIONAL:
        if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING)
            return *(void *const *)p != NULL;
        return S_CMEMBER(protobuf_c_boolean, m, f->quantifier_offset) != 0;
    case PROTOBUF_C_LABEL_REPEATED:
        return (flags & CCIP_PBJSON_EMIT_DEFAULTS) ||
               S_CMEMBER(size_t, m, f->quantifier_offset) > 0;
    default:
        if (f->type == PROTOBUF_C_TYPE_MESSAGE)
            return *(ProtobufCMessage *const *)p != NULL;
        return (flags & CCIP_PBJSON_EMIT_DEFAULTS) || !s_is_zero(f, p);
    }
}

static json_t *s_message_json(const ProtobufCMessage *m, int flags)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!s_field_written(m, f, flags))
            continue;
        json_t *v;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = S_CMEMBER(size_t, m, f->quantifier_offset);
            const uint8_t *arr = S_CMEMBER(uint8_t *, m, f->offset);
            size_t esz = s_elem_size(f->type);
            v = json_array();
            for (size_t k = 0; v && arr && k < n; k++)
                if (json_array_append_new(v, s_value_json(f, arr + k * esz, flags)) < 0) {
                    json_decref(v);
                    v = NULL;
                }
        } else {
            v = s_value_json(f, (const uint8_t *)m + f->offset, flags);
        }
        char name[S_NAME_MAX];
        const char *key = (flags & CCIP_PBJSON_PROTO_NAMES)
                              ? f->name
                              : ccip_pbjson_field_name(f, name, sizeof name);
        /* json_object_set_new takes v even when it fails, NULL included. */
        if (!v || json_object_set_new(o, key, v) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *ccip_pbjson_from_message(const ProtobufCMessage *msg, int flags)
{
    if (!msg)
        return NULL;
    return s_message_json(msg, flags);
}

/* ---- JSON -> message ------------------------------------------------------ */

typedef struct {
    char *err;             /* where the sentence goes (may be NULL) */
    size_t errlen;         /* its size */
    char path[S_PATH_MAX]; /* the field being read, as the client named it */
    size_t pathlen;        /* strlen(path) */
    int failed;            /* a sentence was written */
} s_parse;

static void s_fail(s_parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_fail(s_parse *ps, const char *fmt, ...)
{
    if (ps->failed)
        return; /* the first problem found is the one reported */
    ps->failed = 1;
    if (!ps->err || ps->errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err, ps->errlen, fmt, ap);
    va_end(ap);
}

/* Appends a path segment (".key" or "[i]"); returns the length to restore.
 * A path that outgrows the buffer is cut (it stays a prefix of the truth). */
static size_t s_path_push(s_parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t s_path_push(s_parse *ps, const char *fmt, ...)
{
    size_t old = ps->pathlen;
    if (old + 1 < sizeof ps->path) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(ps->path + old, sizeof ps->path - old, fmt, ap);
        va_end(ap);
        if (n > 0)
            ps->pathlen = strlen(ps->path);
    }
    return old;
}

static void s_path_pop(s_parse *ps, size_t old)
{
    ps->pathlen = old;
    ps->path[old] = '\0';
}

static void s_oom(s_parse *ps)
{
    s_fail(ps, "out of memory while reading field `%s`", ps->path);
}

/* A JSON value as an error sentence shows it: numbers as written, strings
 * quoted and cut, anything else by its kind. */
static const char *s_show(const json_t *v, char *buf, size_t len)
{
    if (json_is_integer(v)) {
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        /* the shortest of %.15g and %.17g that reads back as the same number */
        double d = json_real_value(v);
        snprintf(buf, len, "%.15g", d);
        if (strtod(buf, NULL) != d)
            snprintf(buf, len, "%.17g", d);
    } else if (json_is_string(v)) {
        char echo[S_ECHO_MAX * 4 + 8];
        snprintf(buf, len, "\"%s\"",
                 s_echo(json_string_value(v), json_string_length(v), echo, sizeof echo));
    } else {
        snprintf(buf, len, "%s", s_kind(v));
    }
    return buf;
}

/* The bounds of an integer field: [min, max] when is_signed, else
 * [0, umax]. */
typedef struct {
    int is_signed;
    int64_t min, max;
    uint64_t umax;
} s_range;

static const s_range S_INT32 = {1, INT32_MIN, INT32_MAX, 0};
static const s_range S_UINT32 = {0, 0, 0, UINT32_MAX};
static const s_range S_INT64 = {1, INT64_MIN, INT64_MAX, 0};
static const s_range S_UINT64 = {0, 0, 0, UINT64_MAX};

/* Reads an integer: a JSON number without a fraction, or a string of
 * decimal digits with an optional '-' (how 64-bit values travel), within
 * r. Returns 0 with *out (the value's bits: a signed value cast), or -1. */
static int s_integer(s_parse *ps, const json_t *v, const s_range *r, uint64_t *out)
{
    int neg = 0;
    uint64_t mag = 0;
    int range_ok = 1;
    char shown[S_ECHO_MAX * 4 + 16];
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        neg = x < 0;
        mag = neg ? (uint64_t)(-(x + 1)) + 1 : (uint64_t)x;
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!isfinite(d) || d != floor(d)) {
            s_fail(ps, "field `%s` must be an integer, got %s", ps->path,
                   s_show(v, shown, sizeof shown));
            return -1;
        }
        neg = d < 0;
        double a = fabs(d);
        if (a >= 18446744073709551616.0) /* 2^64 */
            range_ok = 0;
        else
            mag = (uint64_t)a;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v), i = 0;
        if (n > 0 && s[0] == '-') {
            neg = 1;
            i = 1;
        }
        if (i == n)
            goto not_integer;
        for (; i < n; i++) {
            if (s[i] < '0' || s[i] > '9')
                goto not_integer;
            unsigned digit = (unsigned)(s[i] - '0');
            if (mag > (UINT64_MAX - digit) / 10)
                range_ok = 0;
            else
                mag = mag * 10 + digit;
        }
    } else {
        goto not_integer;
    }
    if (range_ok) {
        if (neg && mag != 0)
            range_ok = r->is_signed && mag <= (uint64_t)(-(r->min + 1)) + 1;
        else
            range_ok = mag <= (r->is_signed ? (uint64_t)r->max : r->umax);
    }
    if (!range_ok) {
        if (r->is_signed)
            s_fail(ps, "field `%s` must be an integer between %" PRId64 " and %" PRId64 ", got %s",
                   ps->path, r->min, r->max, s_show(v, shown, sizeof shown));
        else
            s_fail(ps, "field `%s` must be an integer between 0 and %" PRIu64 ", got %s", ps->path,
                   r->umax, s_show(v, shown, sizeof shown));
        return -1;
    }
    *out = neg ? (uint64_t)0 - mag : mag;
    return 0;
not_integer:
    s_fail(ps, "field `%s` must be an integer (a number, or a string of decimal digits), got %s",
           ps->path, s_show(v, shown, sizeof shown));
    return -1;
}

/* Reads a float or double: a number, "NaN", "Infinity", "-Infinity", or a
 * number written as a string. */
static int s_double(s_parse *ps, const json_t *v, int is_float, double *out)
{
    char shown[S_ECHO_MAX * 4 + 16];
    double d;
    if (json_is_number(v)) {
        d = json_number_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (strcmp(s, "NaN") == 0) {
            d = NAN;
        } else if (strcmp(s, "Infinity") == 0) {
            d = INFINITY;
        } else if (strcmp(s, "-Infinity") == 0) {
            d = -INFINITY;
        } else {
            /* Only digits, signs, '.', 'e': strtod alone would also take
             * hex, "inf", "nan" and leading spaces. */
            int ok = n > 0 && n < 64 && strspn(s, "0123456789+-.eE") == n;
            char *end = NULL;
            d = ok ? strtod(s, &end) : 0;
            if (!ok || end != s + n || !isfinite(d))
                goto bad;
        }
    } else {
        goto bad;
    }
    if (is_float && isfinite(d) && fabs(d) > FLT_MAX) {
        s_fail(ps, "field `%s` is out of range for a float (at most %g), got %s", ps->path,
               (double)FLT_MAX, s_show(v, shown, sizeof shown));
        return -1;
    }
    *out = d;
    return 0;
bad:
    s_fail(ps, "field `%s` must be a number (or \"NaN\", \"Infinity\", \"-Infinity\"), got %s",
           ps->path, s_show(v, shown, sizeof shown));
    return -1;
}

/* "A, B, C" from the names of an enum, cut with "..." past S_LIST_MAX. */
static const char *s_enum_names(const ProtobufCEnumDescriptor *e, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < e->n_values; i++) {
        const char *name = e->values[i].name;
        if (o + strlen(name) + 8 > len || o > S_LIST_MAX) {
            snprintf(buf + o, len - o, ", ...");
            break;
        }
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", name);
    }
    return buf;
}

/* Reads an enum value: its name, or its number; either must be in the enum. */
static int s_enum(s_parse *ps, const ProtobufCEnumDescriptor *e, const json_t *v, int32_t *out)
{
    const ProtobufCEnumValue *ev = NULL;
    if (json_is_string(v)) {
        if (strlen(json_string_value(v)) == json_string_length(v))
            ev = protobuf_c_enum_descriptor_get_value_by_name(e, json_string_value(v));
    } else if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x >= INT32_MIN && x <= INT32_MAX)
            ev = protobuf_c_enum_descriptor_get_value(e, (int)x);
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == floor(d) && d >= INT32_MIN && d <= INT32_MAX)
            ev = protobuf_c_enum_descriptor_get_value(e, (int)d);
    }
    if (!ev) {
        char names[S_LIST_MAX + 64], shown[S_ECHO_MAX * 4 + 16];
        s_fail(ps, "field `%s` must be one of %s (a name of %s, or its number), got %s", ps->path,
               s_enum_names(e, names, sizeof names), e->name, s_show(v, shown, sizeof shown));
        return -1;
    }
    *out = ev->value;
    return 0;
}

/* Reads a string: valid UTF-8 without NUL. Returns a malloc'd copy, or NULL. */
static char *s_string(s_parse *ps, const json_t *v)
{
    if (!json_is_string(v)) {
        s_fail(ps, "field `%s` must be a string, got %s", ps->path, s_kind(v));
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (memchr(s, '\0', n)) {
        s_fail(ps, "field `%s` contains a NUL character (\\u0000), which text fields cannot hold",
               ps->path);
        return NULL;
    }
    if (!ccip_utf8_valid(s, n)) {
        s_fail(ps, "field `%s` is not valid UTF-8", ps->path);
        return NULL;
    }
    char *copy = malloc(n + 1);
    if (!copy) {
        s_oom(ps);
        return NULL;
    }
    memcpy(copy, s, n + 1);
    return copy;
}

static int s_bytes(s_parse *ps, const json_t *v, ProtobufCBinaryData *out)
{
    if (!json_is_string(v)) {
        s_fail(ps, "field `%s` must be a base64 string, got %s", ps->path, s_kind(v));
        return -1;
    }
    int rc = s_b64_decode(json_string_value(v), json_string_length(v), &out->data, &out->len);
    if (rc == -2) {
        s_oom(ps);
        return -1;
    }
    if (rc < 0) {
        char shown[S_ECHO_MAX * 4 + 16];
        s_fail(ps,
               "field `%s` must be base64 (standard or URL-safe alphabet, padding optional), "
               "got %s",
               ps->path, s_show(v, shown, sizeof shown));
        return -1;
    }
    return 0;
}

static ProtobufCMessage *s_parse_message(s_parse *ps, const ProtobufCMessageDescriptor *d,
                                         const json_t *j, int depth);

/* Reads one value of field f from v into p (a member or an array
 * element). On failure nothing is stored at p and nothing stays
 * allocated. */
static int s_parse_value(s_parse *ps, const ProtobufCFieldDescriptor *f, const json_t *v, void *p,
                         int depth)
{
    uint64_t u;
    double d;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (s_integer(ps, v, &S_INT32, &u) < 0)
            return -1;
        *(int32_t *)p = (int32_t)(int64_t)u;
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (s_integer(ps, v, &S_UINT32, &u) < 0)
            return -1;
        *(uint32_t *)p = (uint32_t)u;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (s_integer(ps, v, &S_INT64, &u) < 0)
            return -1;
        *(int64_t *)p = (int64_t)u;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (s_integer(ps, v, &S_UINT64, &u) < 0)
            return -1;
        *(uint64_t *)p = u;
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
        if (s_double(ps, v, 1, &d) < 0)
            return -1;
        *(float *)p = (float)d;
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        if (s_double(ps, v, 0, &d) < 0)
            return -1;
        *(double *)p = d;
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v)) {
            s_fail(ps, "field `%s` must be true or false, got %s", ps->path, s_kind(v));
            return -1;
        }
        *(protobuf_c_boolean *)p = json_is_true(v);
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return s_enum(ps, f->descriptor, v, (int32_t *)p);
    case PROTOBUF_C_TYPE_STRING: {
        char *s = s_string(ps, v);
        if (!s)
            return -1;
        *(char **)p = s;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return s_bytes(ps, v, p);
    case PROTOBUF_C_TYPE_MESSAGE: {
        ProtobufCMessage *sub = s_parse_message(ps, f->descriptor, v, depth + 1);
        if (!sub)
            return -1;
        *(ProtobufCMessage **)p = sub;
        return 0;
    }
    }
    s_fail(ps, "field `%s` has a type this parser does not know (%d)", ps->path, (int)f->type);
    return -1;
}

/* Reads field f of message m from v (not null). On failure m stays
 * consistent: protobuf_c_message_free_unpacked frees exactly what was
 * stored. */
static int s_parse_field(s_parse *ps, ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                         const json_t *v, int depth)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED) {
        if (s_parse_value(ps, f, v, (uint8_t *)m + f->offset, depth) < 0)
            return -1;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            S_MEMBER(uint32_t, m, f->quantifier_offset) = f->id;
        else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
                 f->type != PROTOBUF_C_TYPE_STRING)
            S_MEMBER(protobuf_c_boolean, m, f->quantifier_offset) = 1;
        return 0;
    }
    if (!json_is_array(v)) {
        s_fail(ps, "field `%s` must be an array, got %s", ps->path, s_kind(v));
        return -1;
    }
    size_t n = json_array_size(v);
    if (n == 0)
        return 0;
    size_t esz = s_elem_size(f->type);
    uint8_t *arr = calloc(n, esz);
    if (!arr) {
        s_oom(ps);
        return -1;
    }
    S_MEMBER(uint8_t *, m, f->offset) = arr;
    /* The count grows with each element read, so that a failure half-way
     * leaves only read elements for free_unpacked to free. */
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(v, i);
        size_t old = s_path_push(ps, "[%zu]", i);
        int rc;
        if (json_is_null(e)) {
            s_fail(ps,
                   "field `%s` must not be null (null stands for an absent field, not an "
                   "element of an array)",
                   ps->path);
            rc = -1;
        } else {
            rc = s_parse_value(ps, f, e, arr + i * esz, depth);
        }
        s_path_pop(ps, old);
        if (rc < 0)
            return -1;
        S_MEMBER(size_t, m, f->quantifier_offset) = i + 1;
    }
    return 0;
}

/* The field of d named `key` by its proto name or its JSON name, or -1. */
static int s_field_index(const ProtobufCMessageDescriptor *d, const char *key, size_t keylen)
{
    if (strlen(key) != keylen)
        return -1; /* a NUL inside a key names no field */
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, key);
    if (f)
        return (int)(f - d->fields);
    for (unsigned i = 0; i < d->n_fields; i++) {
        char name[S_NAME_MAX];
        if (strcmp(ccip_pbjson_field_name(&d->fields[i], name, sizeof name), key) == 0)
            return (int)i;
    }
    return -1;
}

static void s_unknown_field(s_parse *ps, const ProtobufCMessageDescriptor *d, const char *key,
                            size_t keylen)
{
    char known[S_LIST_MAX + 64], echo[S_ECHO_MAX * 4 + 8];
    size_t o = 0;
    known[0] = '\0';
    for (unsigned i = 0; i < d->n_fields; i++) {
        char name[S_NAME_MAX];
        ccip_pbjson_field_name(&d->fields[i], name, sizeof name);
        if (o + strlen(name) + 8 > sizeof known || o > S_LIST_MAX) {
            snprintf(known + o, sizeof known - o, ", ...");
            break;
        }
        o += (size_t)snprintf(known + o, sizeof known - o, "%s%s", i ? ", " : "", name);
    }
    s_fail(ps, "unknown field `%s%s%s` in %s; known fields: %s", ps->path, ps->pathlen ? "." : "",
           s_echo(key, keylen, echo, sizeof echo), d->name, d->n_fields ? known : "none");
}

static ProtobufCMessage *s_parse_message(s_parse *ps, const ProtobufCMessageDescriptor *d,
                                         const json_t *j, int depth)
{
    if (!json_is_object(j)) {
        if (ps->pathlen == 0)
            s_fail(ps, "expected a JSON object for %s, got %s", d->name, s_kind(j));
        else
            s_fail(ps, "field `%s` must be an object (%s), got %s", ps->path, d->name, s_kind(j));
        return NULL;
    }
    if (depth > CCIP_PBJSON_MAX_DEPTH) {
        s_fail(ps, "field `%s` nests messages deeper than %d levels", ps->path,
               CCIP_PBJSON_MAX_DEPTH);
        return NULL;
    }
    ProtobufCMessage *m = malloc(d->sizeof_message);
    /* the key that set each field, to refuse one field given twice (by its
     * proto name and its JSON name) and to name oneof clashes */
    const char **seen = calloc(d->n_fields ? d->n_fields : 1, sizeof *seen);
    if (!m || !seen) {
        free(m);
        free(seen);
        s_oom(ps);
        return NULL;
    }
    d->message_init(m);
    json_t *obj = (json_t *)j; /* jansson's iterators take no const */
    for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
        const char *key = json_object_iter_key(it);
        size_t keylen = json_object_iter_key_len(it);
        const json_t *v = json_object_iter_value(it);
        int fi = s_field_index(d, key, keylen);
        if (fi < 0) {
            s_unknown_field(ps, d, key, keylen);
            goto fail;
        }
        const ProtobufCFieldDescriptor *f = &d->fields[fi];
        const char *dot = ps->pathlen ? "." : "";
        if (seen[fi]) {
            s_fail(ps, "field `%s%s%s` is given twice, as `%s` and `%s`; give it once", ps->path,
                   dot, f->name, seen[fi], key);
            goto fail;
        }
        seen[fi] = key;
        if (json_is_null(v))
            continue; /* the canonical mapping: null is the field's default */
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t set = S_MEMBER(uint32_t, m, f->quantifier_offset);
            if (set != 0) {
                const ProtobufCFieldDescriptor *other =
                    protobuf_c_message_descriptor_get_field(d, set);
                const char *other_key = other ? seen[other - d->fields] : "?";
                s_fail(ps,
                       "fields `%s%s%s` and `%s%s%s` are members of one oneof; give at most one",
                       ps->path, dot, other_key, ps->path, dot, key);
                goto fail;
            }
        }
        size_t old = s_path_push(ps, "%s%s", dot, key);
        int rc = s_parse_field(ps, m, f, v, depth);
        s_path_pop(ps, old);
        if (rc < 0)
            goto fail;
    }
    free(seen);
    return m;
fail:
    free(seen);
    protobuf_c_message_free_unpacked(m, NULL);
    return NULL;
}

ProtobufCMessage *ccip_pbjson_to_message(const ProtobufCMessageDescriptor *desc, const json_t *j,
                                         char *err, size_t errlen)
{
    s_parse ps = {.err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!desc || !j) {
        s_fail(&ps, "no %s given", desc ? "JSON" : "message type");
        return NULL;
    }
    return s_parse_message(&ps, desc, j, 1);
}

/* ---- JSON Schema ------------------------------------------------------------ */

/* Sets obj[key] = v, taking v; -1 when v is NULL or memory ran out. */
static int s_set(json_t *obj, const char *key, json_t *v)
{
    return v && json_object_set_new(obj, key, v) == 0 ? 0 : -1;
}

static json_t *s_ref(const char *name)
{
    char ref[512];
    snprintf(ref, sizeof ref, "#/components/schemas/%s", name);
    return json_pack("{s:s}", "$ref", ref);
}

static int s_schema_message(const ProtobufCMessageDescriptor *d, json_t *components);

/* An enum in components: its value names, as the canonical form writes. */
static int s_schema_enum(const ProtobufCEnumDescriptor *e, json_t *components)
{
    if (json_object_get(components, e->name))
        return 0;
    json_t *names = json_array();
    for (unsigned i = 0; names && i < e->n_values; i++)
        if (json_array_append_new(names, json_string(e->values[i].name)) < 0) {
            json_decref(names);
            names = NULL;
        }
    if (!names)
        return -1;
    return s_set(components, e->name,
                 json_pack("{s:s,s:s,s:o}", "title", e->name, "type", "string", "enum", names));
}

/* The schema of one value of field f (an element, for repeated fields). */
static json_t *s_schema_value(const ProtobufCFieldDescriptor *f, json_t *components)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_pack("{s:s,s:s,s:I,s:I}", "type", "integer", "format", "int32", "minimum",
                         (json_int_t)INT32_MIN, "maximum", (json_int_t)INT32_MAX);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_pack("{s:s,s:s,s:I,s:I}", "type", "integer", "format", "int64", "minimum",
                         (json_int_t)0, "maximum", (json_int_t)UINT32_MAX);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_pack("{s:s,s:s,s:s}", "type", "string", "format", "int64", "pattern",
                         "^-?[0-9]+$");
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return json_pack("{s:s,s:s,s:s}", "type", "string", "format", "uint64", "pattern",
                         "^[0-9]+$");
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_pack("{s:[{s:s,s:s},{s:s,s:[s,s,s]}]}", "anyOf", "type", "number", "format",
                         f->type == PROTOBUF_C_TYPE_FLOAT ? "float" : "double", "type", "string",
                         "enum", "NaN", "Infinity", "-Infinity");
    case PROTOBUF_C_TYPE_BOOL:
        return json_pack("{s:s}", "type", "boolean");
    case PROTOBUF_C_TYPE_STRING:
        return json_pack("{s:s}", "type", "string");
    case PROTOBUF_C_TYPE_BYTES:
        return json_pack("{s:s,s:s}", "type", "string", "contentEncoding", "base64");
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *e = f->descriptor;
        return s_schema_enum(e, components) < 0 ? NULL : s_ref(e->name);
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessageDescriptor *m = f->descriptor;
        return s_schema_message(m, components) < 0 ? NULL : s_ref(m->name);
    }
    }
    return json_object(); /* a type this protobuf-c does not have: anything */
}

/* For each member of a oneof: when it is present, the other members must
 * not be ("dependentSchemas"). protobuf-c's descriptors do not name oneofs;
 * the members of one share the offset of its case. */
static int s_schema_oneofs(const ProtobufCMessageDescriptor *d, json_t *schema)
{
    json_t *deps = NULL;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        json_t *others = json_object();
        if (!others)
            goto oom;
        for (unsigned k = 0; k < d->n_fields; k++) {
            const ProtobufCFieldDescriptor *g = &d->fields[k];
            char name[S_NAME_MAX];
            if (k != i && (g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                g->quantifier_offset == f->quantifier_offset &&
                s_set(others, ccip_pbjson_field_name(g, name, sizeof name), json_false()) < 0) {
                json_decref(others);
                goto oom;
            }
        }
        if (json_object_size(others) == 0) {
            json_decref(others);
            continue;
        }
        char name[S_NAME_MAX];
        if (!deps && !(deps = json_object())) {
            json_decref(others);
            goto oom;
        }
        if (s_set(deps, ccip_pbjson_field_name(f, name, sizeof name),
                  json_pack("{s:o}", "properties", others)) < 0)
            goto oom;
    }
    return deps ? s_set(schema, "dependentSchemas", deps) : 0;
oom:
    json_decref(deps);
    return -1;
}

/* Adds message d (and, first, a placeholder for it, so that a message that
 * contains itself ends) and every message and enum it uses to components. */
static int s_schema_message(const ProtobufCMessageDescriptor *d, json_t *components)
{
    if (json_object_get(components, d->name))
        return 0;
    json_t *schema =
        json_pack("{s:s,s:s,s:b}", "title", d->name, "type", "object", "additionalProperties", 0);
    if (s_set(components, d->name, schema) < 0)
        return -1;
    json_t *props = json_object();
    if (s_set(schema, "properties", props) < 0)
        return -1;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        json_t *v = s_schema_value(f, components);
        if (v && f->label == PROTOBUF_C_LABEL_REPEATED)
            v = json_pack("{s:s,s:o}", "type", "array", "items", v);
        char name[S_NAME_MAX];
        if (s_set(props, ccip_pbjson_field_name(f, name, sizeof name), v) < 0)
            return -1;
    }
    return s_schema_oneofs(d, schema);
}

json_t *ccip_pbjson_schema(const ProtobufCMessageDescriptor *desc, json_t *components)
{
    if (!desc || !json_is_object(components) || s_schema_message(desc, components) < 0)
        return NULL;
    return s_ref(desc->name);
}
