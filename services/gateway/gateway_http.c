#include "gateway_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_pbjson.h"
#include "ccip_validate.h"
#include "gateway_openapi.h"
#include "gateway_routes.h"
#include "gateway_self.h"
#include "gateway_session_cache.h"
#include "gateway_static.h"

#define CONNECTION_LIMIT 1024             /* connections at once */
#define TOUCH_EVERY_US   (60LL * 1000000) /* a session's last use is written at most this often */
#define READY_TIMEOUT_MS 1000
#define PEM_MAX          (64 * 1024)
#define SESSION_SLOTS    4096 /* sessions the cache holds at most */

struct gateway_http {
    struct MHD_Daemon *daemon;
    gateway_runtime *rt;
    char *tls_cert; /* PEM, kept while the daemon runs */
    char *tls_key;
    int port;
    gateway_session_cache *sessions; /* recent lookups (gateway_session_cache.h) */
};

struct gateway_request {
    struct MHD_Connection *conn;
    gateway_runtime *rt;
    gateway_http *http;
    char method[16];
    char path[1024];
    char client[64];
    char id[CCIP_UUID_STRLEN + 1];
    int64_t started_ms;
    /* what the request is for, found from the first call on */
    const gateway_self_endpoint *endpoint;
    const gateway_route_info *route;
    gateway_param params[GATEWAY_MAX_PARAMS];
    char pnames[GATEWAY_MAX_PARAMS][64]; /* the parameters' names */
    size_t nparams;
    /* the body */
    uint8_t *body;
    size_t len, cap, max;
    int refused; /* a response was queued before the body was whole */
    /* the session, looked up on first use */
    int session_loaded;
    int has_session;
    gateway_session_row session;
    char token[GATEWAY_TOKEN_LEN + 1];
    gateway_response resp;
    int answered;
};

/* ---- small pieces ---------------------------------------------------------------------- */

gateway_runtime *gateway_request_runtime(gateway_request *rq)
{
    return rq->rt;
}
const char *gateway_request_method(const gateway_request *rq)
{
    return rq->method;
}
const char *gateway_request_path(const gateway_request *rq)
{
    return rq->path;
}
const char *gateway_request_client(const gateway_request *rq)
{
    return rq->client;
}
const char *gateway_request_id(const gateway_request *rq)
{
    return rq->id;
}
const uint8_t *gateway_request_body(const gateway_request *rq, size_t *len)
{
    *len = rq->len;
    return rq->body;
}
const gateway_param *gateway_request_params(const gateway_request *rq, size_t *n)
{
    *n = rq->nparams;
    return rq->params;
}
gateway_response *gateway_request_response(gateway_request *rq)
{
    return &rq->resp;
}

const char *gateway_request_header(gateway_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

static int s_has_body(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

unsigned gateway_http_status(Ccip__Status status)
{
    switch (status) {
    case CCIP__STATUS__OK:
        return 200;
    case CCIP__STATUS__INVALID_ARGUMENT:
        return 400;
    case CCIP__STATUS__UNAUTHENTICATED:
        return 401;
    case CCIP__STATUS__PERMISSION_DENIED:
        return 403;
    case CCIP__STATUS__NOT_FOUND:
        return 404;
    case CCIP__STATUS__ALREADY_EXISTS:
    case CCIP__STATUS__FAILED_PRECONDITION:
        return 409;
    case CCIP__STATUS__UNAVAILABLE:
    case CCIP__STATUS__DEADLINE_EXCEEDED:
        return 503;
    default:
        return 500;
    }
}

static const char *s_reason(unsigned status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

static void s_response_clear(gateway_response *r)
{
    free(r->body);
    for (size_t i = 0; i < r->nheaders; i++)
        free(r->headers[i].value);
    memset(r, 0, sizeof *r);
}

void gateway_reply_header(gateway_request *rq, const char *name, const char *value)
{
    gateway_response *r = &rq->resp;
    if (r->nheaders == GATEWAY_MAX_HEADERS)
        return;
    snprintf(r->headers[r->nheaders].name, sizeof r->headers[0].name, "%s", name);
    r->headers[r->nheaders].value = strdup(value);
    if (r->headers[r->nheaders].value)
        r->nheaders++;
}

/* Keeps the headers added so far (cookies), replaces status and body. */
static void s_set_body(gateway_request *rq, unsigned status, const char *type, char *body,
                       size_t len)
{
    free(rq->resp.body);
    rq->resp.status = status;
    snprintf(rq->resp.content_type, sizeof rq->resp.content_type, "%s", type);
    rq->resp.body = body;
    rq->resp.len = len;
    rq->answered = 1;
}

void gateway_reply_bytes(gateway_request *rq, unsigned status, const char *content_type,
                         const void *data, size_t len)
{
    char *copy = malloc(len ? len : 1);
    if (!copy) {
        s_set_body(rq, 500, "text/plain", NULL, 0);
        return;
    }
    if (len)
        memcpy(copy, data, len);
    s_set_body(rq, status, content_type, copy, len);
}

void gateway_reply_json(gateway_request *rq, unsigned status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        s_set_body(rq, 500, "text/plain", NULL, 0);
        return;
    }
    s_set_body(rq, status, "application/json", text, strlen(text));
}

void gateway_reply_message(gateway_request *rq, const ProtobufCMessage *msg)
{
    json_t *j = ccip_pbjson_from_message(msg, CCIP_PBJSON_EMIT_DEFAULTS);
    if (!j) {
        gateway_reply_problem(rq, 500, "INTERNAL", "out of memory writing the reply");
        return;
    }
    gateway_reply_json(rq, 200, j);
}

void gateway_reply_problem(gateway_request *rq, unsigned status, const char *ccip_status,
                           const char *fmt, ...)
{
    char detail[CCIP_COMMAND_ERROR_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    detail[ccip_utf8_boundary(detail, strlen(detail))] = '\0';
    json_t *j = json_object();
    json_object_set_new(j, "type", json_string("about:blank"));
    json_object_set_new(j, "title", json_string(s_reason(status)));
    json_object_set_new(j, "status", json_integer(status));
    /* A sentence that is not valid UTF-8 cannot be a JSON string. */
    json_t *d = json_string(detail);
    json_object_set_new(j, "detail", d ? d : json_string("(the reason is not valid UTF-8)"));
    json_object_set_new(j, "ccip_status", json_string(ccip_status));
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    s_set_body(rq, status, "application/problem+json", text, text ? strlen(text) : 0);
    if (status == 503)
        gateway_reply_header(rq, "Retry-After", GATEWAY_RETRY_AFTER);
}

void gateway_reply_status(gateway_request *rq, Ccip__Status status, const char *sentence)
{
    gateway_reply_problem(rq, gateway_http_status(status), ccip_status_name(status), "%s",
                          sentence && sentence[0] ? sentence : ccip_status_name(status));
}

void gateway_reply_cookie(gateway_request *rq, const char *token, int64_t max_age_s)
{
    char c[256];
    if (token)
        snprintf(c, sizeof c,
                 GATEWAY_COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; Secure; SameSite=Strict",
                 token, (long long)max_age_s);
    else
        snprintf(c, sizeof c,
                 GATEWAY_COOKIE "=; Path=/; Max-Age=0; HttpOnly; Secure; "
                                "SameSite=Strict");
    gateway_reply_header(rq, "Set-Cookie", c);
}

/* ---- sessions ---------------------------------------------------------------------------- */

const gateway_session_row *gateway_request_session(gateway_request *rq,
                                                   char token[GATEWAY_TOKEN_LEN + 1])
{
    if (!rq->session_loaded) {
        rq->session_loaded = 1;
        const char *cookie = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, GATEWAY_COOKIE);
        if (cookie && gateway_token_form(cookie)) {
            uint8_t hash[32];
            gateway_sha256_text(cookie, hash);
            const gateway_config *cfg = gateway_cfg(rq->rt);
            int64_t now = ccip_now_us(), idle = cfg->session_idle_s * 1000000;
            gateway_session_cache *cache = rq->http ? rq->http->sessions : NULL;
            if (gateway_session_cache_get(cache, hash, now, idle, TOUCH_EVERY_US, &rq->session)) {
                rq->has_session = 1;
            } else {
                unsigned generation = gateway_store_generation();
                ccip_db *db = gateway_db_acquire(rq->rt, 5000);
                if (db && gateway_session_lookup(db, hash, cfg->session_idle_s, &rq->session) ==
                              CCIP_DB_OK) {
                    rq->has_session = 1;
                    if (now - rq->session.last_seen_us > TOUCH_EVERY_US &&
                        gateway_session_touch(db, hash) == CCIP_DB_OK)
                        rq->session.last_seen_us = now;
                    gateway_session_cache_put(cache, &rq->session, generation, now);
                }
                gateway_db_release(rq->rt, db);
            }
            if (rq->has_session)
                snprintf(rq->token, sizeof rq->token, "%s", cookie);
        }
    }
    if (token)
        snprintf(token, GATEWAY_TOKEN_LEN + 1, "%s", rq->has_session ? rq->token : "");
    return rq->has_session ? &rq->session : NULL;
}

void gateway_request_session_reset(gateway_request *rq)
{
    rq->session_loaded = 0;
    rq->has_session = 0;
}

/* ---- building a request message ------------------------------------------------------------ */

/* The name of the field being read where a JSON text went wrong: the last
 * object key before byte `pos` (jansson reports invalid UTF-8 by position
 * only). Writes "" when there is none. */
static void s_key_before(const uint8_t *text, size_t len, size_t pos, char *out, size_t outlen)
{
    size_t start = 0, end = 0, last_start = 0, last_end = 0;
    int in_string = 0, have_key = 0;
    for (size_t i = 0; i < len && i < pos; i++) {
        uint8_t c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"') {
                in_string = 0;
                end = i;
            }
        } else if (c == '"') {
            in_string = 1;
            start = i + 1;
        } else if (c == ':') {
            last_start = start;
            last_end = end;
            have_key = 1;
        }
    }
    out[0] = '\0';
    if (have_key && last_end >= last_start) {
        size_t n = last_end - last_start;
        if (n >= outlen)
            n = outlen - 1;
        memcpy(out, text + last_start, n);
        out[n] = '\0';
    }
}

static const ProtobufCFieldDescriptor *s_field_named(const ProtobufCMessageDescriptor *desc,
                                                     const char *name)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, name);
    if (f)
        return f;
    char json[128];
    for (unsigned i = 0; i < desc->n_fields; i++)
        if (strcmp(ccip_pbjson_field_name(&desc->fields[i], json, sizeof json), name) == 0)
            return &desc->fields[i];
    return NULL;
}

/* The JSON value of a parameter's text for field f, or NULL with err. */
static json_t *s_param_value(const ProtobufCFieldDescriptor *f, const char *where, const char *name,
                             const char *text, char *err, size_t errlen)
{
    char *end = NULL;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_ENUM: {
        json_t *v = json_string(text);
        if (!v)
            snprintf(err, errlen, "%s parameter `%s` must be valid UTF-8", where, name);
        return v;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
            return json_true();
        if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
            return json_false();
        snprintf(err, errlen, "%s parameter `%s` must be true or false, got \"%.40s\"", where, name,
                 text);
        return NULL;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (!text[0] || *end || errno) {
            snprintf(err, errlen, "%s parameter `%s` must be an integer, got \"%.40s\"", where,
                     name, text);
            return NULL;
        }
        /* 64-bit integers travel as strings in proto3 JSON. */
        if (f->type == PROTOBUF_C_TYPE_INT32 || f->type == PROTOBUF_C_TYPE_SINT32 ||
            f->type == PROTOBUF_C_TYPE_SFIXED32 || f->type == PROTOBUF_C_TYPE_UINT32 ||
            f->type == PROTOBUF_C_TYPE_FIXED32)
            return json_integer(v);
        return json_string(text);
    }
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        double d = strtod(text, &end);
        if (!text[0] || *end) {
            snprintf(err, errlen, "%s parameter `%s` must be a number, got \"%.40s\"", where, name,
                     text);
            return NULL;
        }
        return json_real(d);
    }
    default:
        snprintf(err, errlen,
                 "%s parameter `%s` cannot be given in the URL (field `%s` is a "
                 "message); send it in a JSON body",
                 where, name, f->name);
        return NULL;
    }
}

/* Puts v (stolen) at the dotted path name of obj, through nested objects;
 * a value already there (from the body) must be the same. Returns 0 or -1
 * with err. */
static int s_put(json_t *obj, const ProtobufCMessageDescriptor *desc, const char *name, json_t *v,
                 char *err, size_t errlen)
{
    char part[128];
    const char *p = name;
    for (;;) {
        size_t n = strcspn(p, ".");
        snprintf(part, sizeof part, "%.*s", (int)n, p);
        const ProtobufCFieldDescriptor *f = s_field_named(desc, part);
        char jname[128];
        const char *alias = f ? ccip_pbjson_field_name(f, jname, sizeof jname) : part;
        json_t *have = json_object_get(obj, part);
        const char *have_key = part;
        if (!have && (have = json_object_get(obj, alias)))
            have_key = alias;
        if (!p[n]) {
            if (have && !json_equal(have, v)) {
                snprintf(err, errlen,
                         "field `%s` is given by the URL and differently in the body; leave it "
                         "out of the body",
                         name);
                json_decref(v);
                return -1;
            }
            if (!have)
                json_object_set_new(obj, part, v);
            else
                json_decref(v);
            return 0;
        }
        if (!have) {
            have = json_object();
            json_object_set_new(obj, part, have);
        } else if (!json_is_object(have)) {
            snprintf(err, errlen, "field `%s` must be an object", have_key);
            json_decref(v);
            return -1;
        }
        obj = have;
        desc = f && f->type == PROTOBUF_C_TYPE_MESSAGE ? f->descriptor : desc;
        p += n + 1;
    }
}

typedef struct {
    const ProtobufCMessageDescriptor *desc;
    json_t *obj;
    json_t *seen; /* parameter names given, for "given twice" */
    char err[400];
    int failed;
    int any;
} s_query_ctx;

static enum MHD_Result s_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    s_query_ctx *q = cls;
    q->any = 1;
    if (q->failed || !q->desc)
        return MHD_YES;
    const ProtobufCFieldDescriptor *f = s_field_named(q->desc, key);
    if (!f || f->type == PROTOBUF_C_TYPE_MESSAGE) {
        char known[300] = "";
        size_t n = 0;
        for (unsigned i = 0; i < q->desc->n_fields && n < sizeof known; i++)
            if (q->desc->fields[i].type != PROTOBUF_C_TYPE_MESSAGE)
                n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", n ? ", " : "",
                                      q->desc->fields[i].name);
        char shown[80];
        snprintf(q->err, sizeof q->err, "unknown query parameter `%s`; known: %s",
                 ccip_text_shown(key, 40, shown, sizeof shown), known[0] ? known : "none");
        q->failed = 1;
        return MHD_YES;
    }
    json_t *v = s_param_value(f, "query", f->name, value ? value : "", q->err, sizeof q->err);
    if (!v) {
        q->failed = 1;
        return MHD_YES;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        json_t *arr = json_object_get(q->obj, f->name);
        if (!arr) {
            arr = json_array();
            json_object_set_new(q->obj, f->name, arr);
        }
        json_array_append_new(arr, v);
        return MHD_YES;
    }
    if (json_object_get(q->seen, f->name)) {
        snprintf(q->err, sizeof q->err, "query parameter `%s` is given twice", f->name);
        json_decref(v);
        q->failed = 1;
        return MHD_YES;
    }
    json_object_set_new(q->seen, f->name, json_true());
    if (s_put(q->obj, q->desc, f->name, v, q->err, sizeof q->err) < 0)
        q->failed = 1;
    return MHD_YES;
}

static int s_content_type_is(const char *ct, const char *want)
{
    size_t n = strlen(want);
    return ct && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

ProtobufCMessage *gateway_request_message(gateway_request *rq,
                                          const ProtobufCMessageDescriptor *desc, int with_query,
                                          const char *raw_field)
{
    json_t *obj = NULL;
    char err[600];
    if (raw_field || !s_has_body(rq->method) || rq->len == 0) {
        if (!raw_field && !s_has_body(rq->method) && rq->len) {
            gateway_reply_problem(rq, 400, "INVALID_ARGUMENT",
                                  "a %s request carries no body; give the fields as query "
                                  "parameters",
                                  rq->method);
            return NULL;
        }
        obj = json_object();
    } else {
        const char *ct = gateway_request_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!s_content_type_is(ct, "application/json")) {
            gateway_reply_problem(rq, 415, "INVALID_ARGUMENT",
                                  "the body must be JSON: send it with Content-Type: "
                                  "application/json");
            return NULL;
        }
        json_error_t je;
        obj = json_loadb((const char *)rq->body, rq->len, JSON_REJECT_DUPLICATES, &je);
        if (!obj) {
            char key[80];
            s_key_before(rq->body, rq->len, (size_t)je.position, key, sizeof key);
            if (strstr(je.text, "decode") || strstr(je.text, "UTF-8") ||
                strstr(je.text, "invalid Unicode"))
                gateway_reply_problem(rq, 400, "INVALID_ARGUMENT",
                                      "field `%s`: the text is not valid UTF-8 (%s, line %d "
                                      "column %d)",
                                      key[0] ? key : "(top level)", je.text, je.line, je.column);
            else
                gateway_reply_problem(rq, 400, "INVALID_ARGUMENT",
                                      "the body is not valid JSON: %s (line %d, column %d%s%s%s)",
                                      je.text, je.line, je.column, key[0] ? ", after field `" : "",
                                      key, key[0] ? "`" : "");
            return NULL;
        }
        if (!json_is_object(obj)) {
            json_decref(obj);
            gateway_reply_problem(rq, 400, "INVALID_ARGUMENT",
                                  "the body must be a JSON object holding the fields of %s",
                                  desc->name);
            return NULL;
        }
    }
    for (size_t i = 0; i < rq->nparams; i++) {
        const gateway_param *p = &rq->params[i];
        /* gateway_routes_init checked that the parameter is a field. */
        const ProtobufCFieldDescriptor *f = NULL;
        const ProtobufCMessageDescriptor *d = desc;
        char part[128];
        for (const char *s = p->name; d && *s;) {
            size_t n = strcspn(s, ".");
            snprintf(part, sizeof part, "%.*s", (int)n, s);
            f = protobuf_c_message_descriptor_get_field_by_name(d, part);
            s += n + (s[n] == '.');
            d = f && f->type == PROTOBUF_C_TYPE_MESSAGE ? f->descriptor : NULL;
        }
        json_t *v = f ? s_param_value(f, "path", p->name, p->value, err, sizeof err) : NULL;
        if (!f)
            snprintf(err, sizeof err, "path parameter `%s` is not a field of %s", p->name,
                     desc->name);
        if (!v || s_put(obj, desc, p->name, v, err, sizeof err) < 0) {
            json_decref(obj);
            gateway_reply_problem(rq, 400, "INVALID_ARGUMENT", "%s", err);
            return NULL;
        }
    }
    s_query_ctx q = {.desc = with_query ? desc : NULL, .obj = obj, .seen = json_object()};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, s_query_arg, &q);
    json_decref(q.seen);
    if (q.any && !with_query) {
        json_decref(obj);
        gateway_reply_problem(rq, 400, "INVALID_ARGUMENT",
                              "this request takes no query parameters; send the fields in the "
                              "JSON body");
        return NULL;
    }
    if (q.failed) {
        json_decref(obj);
        gateway_reply_problem(rq, 400, "INVALID_ARGUMENT", "%s", q.err);
        return NULL;
    }
    if (raw_field) {
        /* The document's media type is its Content-Type unless the query
         * named one. */
        const char *ct = gateway_request_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!json_object_get(obj, "media_type") && !json_object_get(obj, "mediaType") && ct) {
            char media[128];
            snprintf(media, sizeof media, "%.*s", (int)strcspn(ct, "; "), ct);
            json_t *v = json_string(media);
            if (v)
                json_object_set_new(obj, "media_type", v);
        }
    }
    ProtobufCMessage *msg = ccip_pbjson_to_message(desc, obj, err, sizeof err);
    json_decref(obj);
    if (!msg) {
        gateway_reply_problem(rq, 400, "INVALID_ARGUMENT", "%s", err);
        return NULL;
    }
    if (raw_field && rq->len) {
        /* The content goes into the message as it came: no base64 detour. */
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(desc, raw_field);
        ProtobufCBinaryData *bin = (ProtobufCBinaryData *)((char *)msg + f->offset);
        free(bin->data);
        bin->data = malloc(rq->len);
        if (!bin->data) {
            bin->len = 0;
            protobuf_c_message_free_unpacked(msg, NULL);
            gateway_reply_problem(rq, 500, "INTERNAL", "out of memory");
            return NULL;
        }
        memcpy(bin->data, rq->body, rq->len);
        bin->len = rq->len;
    }
    return msg;
}

/* ---- matching ------------------------------------------------------------------------------ */

/* Matches path against a template; fills params. Returns 1 on a match. */
static int s_match(const char *tmpl, const char *path, gateway_param *params, size_t *nparams)
{
    size_t n = 0;
    const char *t = tmpl, *p = path;
    while (*t && *p) {
        if (*t == '{') {
            const char *close = strchr(t, '}');
            size_t vlen = strcspn(p, "/");
            if (!close || vlen == 0 || n == GATEWAY_MAX_PARAMS || vlen >= sizeof params[0].value)
                return 0;
            /* the name is borrowed from the template: note where it ends */
            params[n].name = t + 1;
            memcpy(params[n].value, p, vlen);
            params[n].value[vlen] = '\0';
            n++;
            t = close + 1;
            p += vlen;
        } else if (*t == *p) {
            t++;
            p++;
        } else {
            return 0;
        }
    }
    if (*t || *p)
        return 0;
    *nparams = n;
    return 1;
}

/* Finds what answers (method, path); 1 found, 0 path unknown, -1 path known
 * with another method (allowed says which). */
static int s_find(gateway_request *rq, char *allowed, size_t alen)
{
    allowed[0] = '\0';
    size_t an = 0;
    for (size_t i = 0; i < gateway_self_count(); i++) {
        const gateway_self_endpoint *e = gateway_self_at(i);
        gateway_param params[GATEWAY_MAX_PARAMS];
        size_t np = 0;
        if (!s_match(e->path, rq->path, params, &np))
            continue;
        if (strcmp(e->method, rq->method) == 0) {
            rq->endpoint = e;
            memcpy(rq->params, params, sizeof params);
            rq->nparams = np;
            return 1;
        }
        an += (size_t)snprintf(allowed + an, an < alen ? alen - an : 0, "%s%s", an ? ", " : "",
                               e->method);
    }
    for (size_t i = 0; i < gateway_route_count(); i++) {
        const gateway_route_info *ri = gateway_route_at(i);
        gateway_param params[GATEWAY_MAX_PARAMS];
        size_t np = 0;
        if (!s_match(ri->route->path, rq->path, params, &np))
            continue;
        if (strcmp(ri->route->method, rq->method) == 0) {
            rq->route = ri;
            memcpy(rq->params, params, sizeof params);
            rq->nparams = np;
            return 1;
        }
        an += (size_t)snprintf(allowed + an, an < alen ? alen - an : 0, "%s%s", an ? ", " : "",
                               ri->route->method);
    }
    return an ? -1 : 0;
}

/* ---- health --------------------------------------------------------------------------------- */

static void s_readyz(gateway_request *rq)
{
    char why[400] = "";
    ccip_db *db = gateway_db_acquire(rq->rt, READY_TIMEOUT_MS);
    if (!db)
        snprintf(why, sizeof why, "no database connection is free");
    else if (ccip_db_command(db, "SELECT 1") != CCIP_DB_OK)
        snprintf(why, sizeof why, "the database does not answer: %s", ccip_db_error(db));
    gateway_db_release(rq->rt, db);
    if (!why[0]) {
        char err[300], id[CCIP_UUID_STRLEN + 1];
        ccip_client *c = gateway_bus_client(rq->rt, err, sizeof err);
        ccip_uuid_v7(id);
        Ccip__PingRequest ping = CCIP__PING_REQUEST__INIT;
        uint8_t buf[16];
        size_t len = protobuf_c_message_pack(&ping.base, buf);
        Ccip__Envelope env = CCIP__ENVELOPE__INIT;
        env.id = id;
        env.type = "ccip.ping.v1";
        env.source_service = "gateway";
        env.payload.data = buf;
        env.payload.len = len;
        /* Through the bus to a gateway replica: the bus and the command
         * slots are up. */
        Ccip__Envelope *r =
            c ? ccip_client_call(c, "gateway", &env, READY_TIMEOUT_MS, 1, err, sizeof err) : NULL;
        if (!r)
            snprintf(why, sizeof why, "the bus does not answer: %s", err);
        else if (r->status != CCIP__STATUS__OK)
            snprintf(why, sizeof why, "the bus answered %s: %s", ccip_status_name(r->status),
                     r->error);
        ccip_envelope_free(&r);
    }
    if (why[0]) {
        gateway_reply_problem(rq, 503, "UNAVAILABLE", "not ready: %s", why);
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "status", json_string("ready"));
    gateway_reply_json(rq, 200, j);
}

/* ---- dispatch -------------------------------------------------------------------------------- */

static int s_state_changing(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
}

/* The CSRF token of the session must come with every state-changing
 * request made with a session. Returns 0, or -1 after answering 403. */
static int s_csrf(gateway_request *rq)
{
    char token[GATEWAY_TOKEN_LEN + 1];
    if (!s_state_changing(rq->method) || !gateway_request_session(rq, token))
        return 0;
    char want[GATEWAY_TOKEN_LEN + 1];
    gateway_csrf_of(token, want);
    const char *got = gateway_request_header(rq, GATEWAY_CSRF_HEADER);
    if (got && gateway_equal_ct(got, want))
        return 0;
    gateway_reply_problem(rq, 403, "PERMISSION_DENIED",
                          "a state-changing request needs the session's CSRF token in header "
                          "%s (it comes with the session: GET /api/v1/session)",
                          GATEWAY_CSRF_HEADER);
    return -1;
}

static void s_dispatch(gateway_request *rq)
{
    if (strcmp(rq->path, "/healthz") == 0 && strcmp(rq->method, "GET") == 0) {
        json_t *j = json_object();
        json_object_set_new(j, "status", json_string("alive"));
        gateway_reply_json(rq, 200, j);
        return;
    }
    if (strcmp(rq->path, "/readyz") == 0 && strcmp(rq->method, "GET") == 0) {
        s_readyz(rq);
        return;
    }
    if (strcmp(rq->path, "/api/v1/openapi.json") == 0 && strcmp(rq->method, "GET") == 0) {
        const char *doc = gateway_openapi_json();
        if (!doc)
            gateway_reply_problem(rq, 500, "INTERNAL", "the OpenAPI document could not be made");
        else
            gateway_reply_bytes(rq, 200, "application/json", doc, strlen(doc));
        return;
    }
    if (rq->endpoint) {
        const gateway_self_endpoint *e = rq->endpoint;
        if ((e->flags & GATEWAY_SELF_SESSION) && !gateway_request_session(rq, NULL)) {
            gateway_reply_problem(rq, 401, "UNAUTHENTICATED",
                                  "sign in first (POST /api/v1/session); the session is missing, "
                                  "ended or expired");
            return;
        }
        if (!(e->flags & GATEWAY_SELF_NO_CSRF) && s_csrf(rq) < 0)
            return;
        ProtobufCMessage *body = NULL;
        if (e->request && !(body = gateway_request_message(rq, e->request, 0, NULL)))
            return;
        e->fn(rq, body);
        if (body)
            protobuf_c_message_free_unpacked(body, NULL);
        return;
    }
    if (rq->route) {
        if (s_csrf(rq) < 0)
            return;
        gateway_route_handle(rq, rq->route);
    }
}

/* ---- libmicrohttpd callbacks
 * --------------------------------------------------------------------- */

static enum MHD_Result s_queue(gateway_request *rq)
{
    gateway_response *r = &rq->resp;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        return MHD_NO;
    r->body = NULL; /* the response frees it */
    if (r->content_type[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Request-Id", rq->id);
    for (size_t i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    enum MHD_Result ok = MHD_queue_response(rq->conn, r->status ? r->status : 500, resp);
    MHD_destroy_response(resp);
    return ok;
}

static void s_client_text(struct MHD_Connection *conn, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)len);
}

static enum MHD_Result s_access(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls)
{
    (void)version;
    gateway_http *http = cls;
    gateway_request *rq = *con_cls;
    int queued;
    if (!rq && gateway_static_answer(conn, method, url, &queued)) /* the web console */
        return (enum MHD_Result)queued;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        rq->conn = conn;
        rq->rt = http->rt;
        rq->http = http;
        rq->started_ms = ccip_mono_ms();
        ccip_uuid_v7(rq->id);
        snprintf(rq->method, sizeof rq->method, "%s", method);
        snprintf(rq->path, sizeof rq->path, "%s", url);
        s_client_text(conn, rq->client, sizeof rq->client);
        const gateway_config *cfg = gateway_cfg(http->rt);
        char allowed[64];
        int found = strlen(url) < sizeof rq->path ? s_find(rq, allowed, sizeof allowed) : 0;
        /* s_match left each name pointing into its template ("id}/x"):
         * the request keeps its own copy, cut at the '}'. */
        for (size_t i = 0; i < rq->nparams; i++) {
            size_t n = strcspn(rq->params[i].name, "}");
            snprintf(rq->pnames[i], sizeof rq->pnames[i], "%.*s", (int)n, rq->params[i].name);
            rq->params[i].name = rq->pnames[i];
        }
        rq->max = rq->route && (rq->route->route->flags & GATEWAY_ROUTE_UPLOAD)
                      ? (size_t)cfg->max_document_bytes
                      : (size_t)cfg->max_body_bytes;
        if (found == 0 && strcmp(url, "/healthz") && strcmp(url, "/readyz") &&
            strcmp(url, "/api/v1/openapi.json")) {
            gateway_reply_problem(rq, 404, "NOT_FOUND",
                                  "no API at %s %.200s; the API is described at "
                                  "/api/v1/openapi.json",
                                  method, url);
            rq->refused = 1;
            return s_queue(rq);
        }
        if (found < 0) {
            gateway_reply_problem(rq, 405, "INVALID_ARGUMENT", "%s is not allowed here; use %s",
                                  method, allowed);
            gateway_reply_header(rq, MHD_HTTP_HEADER_ALLOW, allowed);
            rq->refused = 1;
            return s_queue(rq);
        }
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        const char *te =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
        if (te && !cl) {
            /* A body of unknown length could only be refused once too much
             * of it arrived, and libmicrohttpd sends an answer only after
             * the whole request: so the length must be known at once. */
            gateway_reply_problem(rq, 411, "INVALID_ARGUMENT",
                                  "send the body with a Content-Length (at most %zu bytes here); "
                                  "chunked bodies are not accepted",
                                  rq->max);
            rq->refused = 1;
            return s_queue(rq);
        }
        if (cl && strtoull(cl, NULL, 10) > rq->max) {
            gateway_reply_problem(rq, 413, "PAYLOAD_TOO_LARGE",
                                  "the body of %s bytes is larger than the %zu bytes allowed "
                                  "here; nothing was done",
                                  cl, rq->max);
            rq->refused = 1;
            return s_queue(rq);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (rq->refused)
            return MHD_YES; /* drop the rest of a refused body */
        const gateway_config *cfg = gateway_cfg(rq->rt);
        if (ccip_mono_ms() - rq->started_ms > cfg->request_timeout_s * 1000) {
            gateway_reply_problem(rq, 408, "DEADLINE_EXCEEDED",
                                  "the request took longer than %lld s to arrive; nothing was "
                                  "done",
                                  (long long)cfg->request_timeout_s);
            rq->refused = 1;
            return s_queue(rq);
        }
        if (rq->len + n > rq->max) {
            gateway_reply_problem(rq, 413, "PAYLOAD_TOO_LARGE",
                                  "the body is larger than the %zu bytes allowed here; nothing "
                                  "was done",
                                  rq->max);
            rq->refused = 1;
            return s_queue(rq);
        }
        if (rq->len + n > rq->cap) {
            size_t cap = rq->cap ? rq->cap : 4096;
            while (cap < rq->len + n)
                cap *= 2;
            if (cap > rq->max)
                cap = rq->max;
            uint8_t *grown = realloc(rq->body, cap);
            if (!grown)
                return MHD_NO;
            rq->body = grown;
            rq->cap = cap;
        }
        memcpy(rq->body + rq->len, upload_data, n);
        rq->len += n;
        return MHD_YES;
    }
    if (rq->refused)
        return MHD_YES;
    s_dispatch(rq);
    if (!rq->answered)
        gateway_reply_problem(rq, 500, "INTERNAL", "the request was not answered");
    return s_queue(rq);
}

static void s_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    gateway_request *rq = *con_cls;
    if (!rq)
        return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && ccip_log_enabled(CCIP_LOG_INFO)) {
        char t[16];
        snprintf(t, sizeof t, "%d", (int)toe);
        ccip_log_info("request ended before its answer was sent; nothing ran for it unless it "
                      "was whole",
                      "method", rq->method, "path", rq->path, "client", rq->client, "code", t);
    } else if (rq->resp.status >= 500 || ccip_log_enabled(CCIP_LOG_DEBUG)) {
        char st[8], ms[24];
        snprintf(st, sizeof st, "%u", rq->resp.status);
        snprintf(ms, sizeof ms, "%lld", (long long)(ccip_mono_ms() - rq->started_ms));
        ccip_log(rq->resp.status >= 500 ? CCIP_LOG_WARN : CCIP_LOG_DEBUG, "request", "method",
                 rq->method, "path", rq->path, "status", st, "ms", ms, "id", rq->id,
                 (const char *)NULL);
    }
    s_response_clear(&rq->resp);
    free(rq->body);
    free(rq);
    *con_cls = NULL;
}

static void s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    ccip_log_info("libmicrohttpd", "says", line);
}

/* ---- start and stop ----------------------------------------------------------------------------
 */

static char *s_read_pem(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "could not read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = calloc(1, PEM_MAX + 1);
    size_t n = buf ? fread(buf, 1, PEM_MAX, f) : 0;
    fclose(f);
    if (!buf || n == 0 || n == PEM_MAX) {
        snprintf(err, errlen, "could not read %s: %s", path,
                 !buf ? "out of memory"
                 : n  ? "larger than 64 KiB"
                      : "empty");
        free(buf);
        return NULL;
    }
    return buf;
}

/* Parses "host:port" or "[v6]:port" into a socket address. */
static int s_parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *sslen,
                          int *loopback, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || !colon[1])
        goto bad;
    size_t hl = (size_t)(colon - text);
    if (hl >= sizeof host)
        goto bad;
    memcpy(host, text, hl);
    host[hl] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        goto bad;
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
            goto bad;
        *loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
        *sslen = sizeof *a;
        return 0;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        goto bad;
    *loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    *sslen = sizeof *a;
    return 0;
bad:
    snprintf(err, errlen,
             "`gateway.http_listen` must be an address and port such as 127.0.0.1:8080 or "
             "[::1]:8080, got \"%.60s\"",
             text);
    return -1;
}

gateway_http *gateway_http_start(gateway_runtime *rt, char *err, size_t errlen)
{
    const gateway_config *cfg = gateway_cfg(rt);
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    int loopback = 0;
    if (s_parse_listen(cfg->http_listen, &ss, &sslen, &loopback, err, errlen) < 0)
        return NULL;
    int tls = cfg->tls_cert_file[0] || cfg->tls_key_file[0];
    if (!loopback && !tls) {
        snprintf(err, errlen,
                 "refusing to serve people on %s without TLS: set gateway.tls_cert_file and "
                 "gateway.tls_key_file (plain HTTP is only for a loopback address such as "
                 "127.0.0.1, for the demo and the tests)",
                 cfg->http_listen);
        return NULL;
    }
    if (tls && (!cfg->tls_cert_file[0] || !cfg->tls_key_file[0])) {
        snprintf(err, errlen, "TLS needs both gateway.tls_cert_file and gateway.tls_key_file");
        return NULL;
    }
    if (gateway_self_init(cfg, err, errlen) < 0 || gateway_openapi_init(err, errlen) < 0 ||
        gateway_static_install(cfg->web_dir, err, errlen) < 0)
        return NULL;
    gateway_http *http = calloc(1, sizeof *http);
    if (!http) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    http->rt = rt;
    if (!(http->sessions =
              gateway_session_cache_new(SESSION_SLOTS, cfg->session_cache_ms * 1000))) {
        snprintf(err, errlen, "out of memory");
        gateway_http_stop(&http);
        return NULL;
    }
    if (tls && (!(http->tls_cert = s_read_pem(cfg->tls_cert_file, err, errlen)) ||
                !(http->tls_key = s_read_pem(cfg->tls_key_file, err, errlen)))) {
        gateway_http_stop(&http);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (tls)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)s_mhd_log, NULL}, /* first: it says so */
        {MHD_OPTION_SOCK_ADDR, 0, &ss},
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)cfg->http_threads, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->request_timeout_s, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)s_completed, NULL},
        {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, http->tls_cert},
        {tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, http->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    http->daemon = MHD_start_daemon(flags, 0, NULL, NULL, s_access, http, MHD_OPTION_ARRAY, opts,
                                    MHD_OPTION_END);
    if (!http->daemon) {
        snprintf(err, errlen, "could not serve HTTP on %s (address in use, or a bad TLS key?)",
                 cfg->http_listen);
        gateway_http_stop(&http);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_BIND_PORT);
    http->port = di ? di->port : 0;
    char port[16];
    snprintf(port, sizeof port, "%d", http->port);
    ccip_log_info("serving HTTP", "listen", cfg->http_listen, "port", port, "tls",
                  tls ? "yes" : "no");
    (void)sslen;
    return http;
}

void gateway_http_stop(gateway_http **http)
{
    if (!http || !*http)
        return;
    if ((*http)->daemon)
        MHD_stop_daemon((*http)->daemon);
    free((*http)->tls_cert);
    free((*http)->tls_key);
    gateway_session_cache_destroy(&(*http)->sessions);
    free(*http);
    *http = NULL;
}

int gateway_http_port(const gateway_http *http)
{
    return http ? http->port : 0;
}
