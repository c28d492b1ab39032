/* ctl: the connection to the bus, one command's round trip, and the output
 * every ccipctl command shares (JSON driven by the message descriptors, so
 * every reply prints --json the same way). */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ctl.h"

/* ---- the bus --------------------------------------------------------------------- */

int ctl_load_keys(ctl_opts *o)
{
    char err[512];
    if (!o->key_file[0] || !o->server_key_file[0]) {
        fprintf(stderr, "ccipctl: no keys: set curve.key_file and curve.server_key_file (or "
                        "CCIP_CURVE_KEY_FILE and CCIP_CURVE_SERVER_KEY_FILE)\n");
        return -1;
    }
    if (ccip_keypair_load(o->key_file, &o->keys, err, sizeof err) < 0 ||
        ccip_public_key_load(o->server_key_file, o->server_key, err, sizeof err) < 0) {
        fprintf(stderr, "ccipctl: %s\n", err);
        return -1;
    }
    return 0;
}

ccip_client *ctl_connect(ctl_opts *o)
{
    char err[512];
    if (ctl_load_keys(o) < 0)
        return NULL;
    if (!o->ctx)
        o->ctx = zmq_ctx_new();
    ccip_sock_opts so = {.keys = &o->keys, .server_public = o->server_key};
    ccip_client *c = ccip_client_new(o->ctx, o->command_endpoint, &so, err, sizeof err);
    if (!c)
        fprintf(stderr, "ccipctl: %s\n", err);
    return c;
}

Ccip__Envelope *ctl_call(ctl_opts *o, ccip_client *c, const char *service, const char *type,
                         const void *payload, size_t len, int *exit_code)
{
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    Ccip__Envelope req = CCIP__ENVELOPE__INIT;
    req.id = id;
    req.type = (char *)type;
    req.source_service = "ccipctl";
    req.occurred_at_us = ccip_now_us();
    req.actor_id = (char *)(o->actor ? o->actor : "");
    req.actor_role = (char *)(o->role ? o->role : "");
    req.payload.data = (uint8_t *)payload;
    req.payload.len = len;
    char err[512];
    Ccip__Envelope *reply = ccip_client_call(c, service, &req, o->timeout_ms, 3, err, sizeof err);
    if (!reply) {
        fprintf(stderr, "ccipctl: %s\n", err);
        *exit_code = CTL_UNAVAILABLE;
        return NULL;
    }
    if (reply->status != CCIP__STATUS__OK) {
        if (o->json) {
            ctl_json_field(stdout, "{\"status\":", ccip_status_name(reply->status));
            ctl_json_field(stdout, ",\"error\":", reply->error);
            printf("}\n");
        } else {
            fprintf(stderr, "ccipctl: %s refused %s: %s: %s\n", service, type,
                    ccip_status_name(reply->status), reply->error);
        }
        *exit_code = reply->status == CCIP__STATUS__UNAVAILABLE ||
                             reply->status == CCIP__STATUS__DEADLINE_EXCEEDED
                         ? CTL_UNAVAILABLE
                         : CTL_REFUSED;
        ccip_envelope_free(&reply);
        return NULL;
    }
    *exit_code = CTL_OK;
    return reply;
}

/* ---- commands ------------------------------------------------------------------------ */

int ctl_request(ctl_opts *o, ccip_client **c, const char *service, const char *type,
                const ProtobufCMessage *rq, const ProtobufCMessageDescriptor *reply_desc,
                ProtobufCMessage **reply)
{
    *reply = NULL;
    if (!*c && !(*c = ctl_connect(o)))
        return CTL_LOCAL;
    size_t len = protobuf_c_message_get_packed_size(rq);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        fprintf(stderr, "ccipctl: out of memory\n");
        return CTL_LOCAL;
    }
    protobuf_c_message_pack(rq, buf);
    int code;
    Ccip__Envelope *env = ctl_call(o, *c, service, type, buf, len, &code);
    free(buf);
    if (!env)
        return code;
    char err[256];
    /* A reply is at most its payload: the bound only guards the decoder. */
    *reply = ccip_payload_unpack(reply_desc, env->payload.data, env->payload.len,
                                 env->payload.len + 1, err, sizeof err);
    ccip_envelope_free(&env);
    if (!*reply) {
        fprintf(stderr, "ccipctl: could not decode the reply of %s: %s\n", service, err);
        return CTL_REFUSED;
    }
    return CTL_OK;
}

void ctl_print(const ctl_opts *o, ctl_args *a, const ProtobufCMessage *reply, ctl_printer print)
{
    if (o->json) {
        ctl_json_message(stdout, reply);
        fputc('\n', stdout);
    } else {
        print(reply, a);
    }
}

int ctl_send_reply(ctl_opts *o, ctl_args *a, ProtobufCMessage *rq, ProtobufCMessage **reply)
{
    const ctl_command *cmd = ctl_args_command(a);
    ctl_fill(a, rq);
    ccip_client *c = NULL;
    const ctl_service *svc = ctl_args_service(a);
    int code = ctl_request(o, &c, svc->bus_name ? svc->bus_name : svc->name, cmd->type, rq,
                           cmd->reply, reply);
    ccip_client_destroy(&c);
    return code;
}

int ctl_send(ctl_opts *o, ctl_args *a, ProtobufCMessage *rq)
{
    ProtobufCMessage *reply = NULL;
    int code = ctl_send_reply(o, a, rq, &reply);
    if (code == CTL_OK) {
        ctl_print(o, a, reply, ctl_args_command(a)->print);
        protobuf_c_message_free_unpacked(reply, NULL);
    }
    return code;
}

/* ---- messages by their descriptors ------------------------------------------------------ */

size_t ctl_field_size(const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(int64_t);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return sizeof(int32_t); /* int32, uint32, enums, float */
    }
}

size_t ctl_field_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
    if (fd->label != PROTOBUF_C_LABEL_REPEATED)
        return 1;
    return *(const size_t *)((const char *)m + fd->quantifier_offset);
}

const void *ctl_field_value(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd, size_t k)
{
    const char *member = (const char *)m + fd->offset;
    if (fd->label != PROTOBUF_C_LABEL_REPEATED)
        return member;
    return *(const char *const *)member + k * ctl_field_size(fd);
}

/* ---- JSON ---------------------------------------------------------------------------- */

void ctl_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void ctl_json_field(FILE *f, const char *before, const char *s)
{
    fputs(before, f);
    ctl_json_string(f, s);
}

static void s_base64(FILE *f, const uint8_t *p, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fputc('"', f);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        fputc(a[(v >> 18) & 63], f);
        fputc(a[(v >> 12) & 63], f);
        fputc(i + 1 < n ? a[(v >> 6) & 63] : '=', f);
        fputc(i + 2 < n ? a[v & 63] : '=', f);
    }
    fputc('"', f);
}

void ctl_json_value(FILE *f, const ProtobufCFieldDescriptor *fd, const void *p)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        fprintf(f, "%" PRId32, *(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        fprintf(f, "%" PRIu32, *(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        fprintf(f, "%" PRId64, *(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        fprintf(f, "%" PRIu64, *(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        fprintf(f, "%g", (double)*(const float *)p);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        fprintf(f, "%g", *(const double *)p);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        fputs(*(const protobuf_c_boolean *)p ? "true" : "false", f);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, v);
        if (ev)
            ctl_json_string(f, ev->name);
        else
            fprintf(f, "%d", v);
        break;
    }
    case PROTOBUF_C_TYPE_STRING:
        ctl_json_string(f, *(char *const *)p);
        break;
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        s_base64(f, b->data, b->len);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        if (sub)
            ctl_json_message(f, sub);
        else
            fputs("null", f);
        break;
    }
    }
}

void ctl_json_message(FILE *f, const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    int first = 1;
    fputc('{', f);
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)((const char *)m + fd->quantifier_offset) != fd->id)
            continue;
        if (!first)
            fputc(',', f);
        first = 0;
        ctl_json_string(f, fd->name);
        fputc(':', f);
        if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
            ctl_json_value(f, fd, ctl_field_value(m, fd, 0));
            continue;
        }
        size_t n = ctl_field_count(m, fd);
        fputc('[', f);
        for (size_t k = 0; k < n; k++) {
            if (k)
                fputc(',', f);
            ctl_json_value(f, fd, ctl_field_value(m, fd, k));
        }
        fputc(']', f);
    }
    fputc('}', f);
}

/* ---- text ------------------------------------------------------------------------------- */

void ctl_csv_field(const char *s)
{
    if (!s)
        s = "";
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    fputc('"', stdout);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', stdout);
        fputc(*s, stdout);
    }
    fputc('"', stdout);
}

const char *ctl_enum_name(const ProtobufCEnumDescriptor *d, int v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    return ev ? ev->name : "?";
}

/* ---- the generic text printer ----------------------------------------------- */

static int s_ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int s_empty(const ProtobufCFieldDescriptor *fd, const void *p)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING:
        return !*(char *const *)p || !**(char *const *)p;
    case PROTOBUF_C_TYPE_MESSAGE:
        return !*(void *const *)p;
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const int64_t *)p == 0;
    case PROTOBUF_C_TYPE_BOOL:
        return !*(const protobuf_c_boolean *)p;
    default:
        return *(const int32_t *)p == 0;
    }
}

/* One scalar value, without a line break. */
static void s_scalar(const ProtobufCFieldDescriptor *fd, const void *p)
{
    char buf[64];
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        int64_t v = *(const int64_t *)p;
        if (s_ends(fd->name, "_us"))
            fputs(ctl_beijing_text(v, buf, sizeof buf), stdout);
        else if (s_ends(fd->name, "_fen"))
            printf("%s yuan", ctl_yuan_text(v, buf, sizeof buf));
        else
            printf("%" PRId64, v);
        return;
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        printf("%" PRIu64, *(const uint64_t *)p);
        return;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        printf("%" PRIu32, *(const uint32_t *)p);
        return;
    case PROTOBUF_C_TYPE_BOOL:
        fputs(*(const protobuf_c_boolean *)p ? "yes" : "no", stdout);
        return;
    case PROTOBUF_C_TYPE_ENUM:
        fputs(ctl_enum_name(fd->descriptor, *(const int *)p), stdout);
        return;
    case PROTOBUF_C_TYPE_STRING:
        fputs(*(char *const *)p ? *(char *const *)p : "", stdout);
        return;
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        ctl_json_value(stdout, fd, p); /* base64; a number as JSON writes it */
        return;
    default: {
        int32_t v = *(const int32_t *)p;
        if (s_ends(fd->name, "_centi"))
            printf("%s%d.%02d", v < 0 ? "-" : "", abs(v / 100), abs(v % 100));
        else
            printf("%" PRId32, v);
        return;
    }
    }
}

static void s_fields(const ProtobufCMessage *m, int depth);

/* "name: value" for one value (a message: "name:" and its fields below). */
static void s_field_line(const ProtobufCFieldDescriptor *fd, const void *p, int depth,
                         const char *label)
{
    printf("%*s%s:", depth * 2, "", label);
    if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
        putchar('\n');
        s_fields(*(ProtobufCMessage *const *)p, depth + 1);
        return;
    }
    const char *s = fd->type == PROTOBUF_C_TYPE_STRING ? *(char *const *)p : NULL;
    if (s && strchr(s, '\n')) {
        /* several lines: a block below the name, each line indented */
        putchar('\n');
        for (const char *line = s; *line;) {
            size_t len = strcspn(line, "\n");
            printf("%*s%.*s\n", depth * 2 + 2, "", (int)len, line);
            line += len + (line[len] ? 1 : 0);
        }
        return;
    }
    putchar(' ');
    s_scalar(fd, p);
    putchar('\n');
}

static void s_fields(const ProtobufCMessage *m, int depth)
{
    if (!m)
        return;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
            const void *p = ctl_field_value(m, fd, 0);
            if (!s_empty(fd, p))
                s_field_line(fd, p, depth, fd->name);
            continue;
        }
        size_t n = ctl_field_count(m, fd);
        if (!n)
            continue;
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE) {
            /* a list of words or numbers on one line */
            printf("%*s%s: ", depth * 2, "", fd->name);
            for (size_t k = 0; k < n; k++) {
                if (k)
                    fputs(", ", stdout);
                s_scalar(fd, ctl_field_value(m, fd, k));
            }
            putchar('\n');
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            char label[96];
            snprintf(label, sizeof label, "%s[%zu]", fd->name, k);
            s_field_line(fd, ctl_field_value(m, fd, k), depth, label);
        }
    }
}

void ctl_print_fields(const ProtobufCMessage *reply, ctl_args *a)
{
    (void)a;
    s_fields(reply, 0);
}

const char *ctl_yuan_text(int64_t fen, char *buf, size_t len)
{
    ccip_fen_format(fen, buf, len);
    return buf;
}

const char *ctl_time_text(int64_t us, int whole_seconds, char *buf, size_t len)
{
    if (!us) {
        snprintf(buf, len, "-");
        return buf;
    }
    if (!whole_seconds) {
        ccip_time_text(us, buf, len);
        return buf;
    }
    ccip_time_format_us(us, buf, len);
    char *dot = strchr(buf, '.');
    if (dot)
        memcpy(dot, "Z", 2);
    return buf;
}

const char *ctl_beijing_text(int64_t us, char *buf, size_t len)
{
    if (!us) {
        snprintf(buf, len, "-");
        return buf;
    }
    time_t t = (time_t)(us / 1000000 + 8 * 3600);
    if (us < 0 && us % 1000000)
        t--; /* floor, not truncation, before 1970 */
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d Beijing", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min);
    return buf;
}
