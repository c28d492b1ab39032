#include "gateway_openapi.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_pbjson.h"
#include "gateway_http.h"
#include "gateway_routes.h"
#include "gateway_self.h"

static char *s_doc;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

/* The schema of one scalar field as a URL parameter carries it. */
static json_t *s_scalar_schema(const ProtobufCFieldDescriptor *f)
{
    json_t *s = json_object();
    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL:
        json_object_set_new(s, "type", json_string("boolean"));
        break;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        json_object_set_new(s, "type", json_string("integer"));
        json_object_set_new(s, "format", json_string("int32"));
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        json_object_set_new(s, "type", json_string("string"));
        json_object_set_new(s, "pattern", json_string("^-?[0-9]+$"));
        break;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        json_object_set_new(s, "type", json_string("number"));
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *e = f->descriptor;
        json_t *names = json_array();
        for (unsigned i = 0; i < e->n_values; i++)
            json_array_append_new(names, json_string(e->values[i].name));
        json_object_set_new(s, "type", json_string("string"));
        json_object_set_new(s, "enum", names);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES:
        json_object_set_new(s, "type", json_string("string"));
        json_object_set_new(s, "contentEncoding", json_string("base64"));
        break;
    default:
        json_object_set_new(s, "type", json_string("string"));
        break;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        json_t *arr = json_object();
        json_object_set_new(arr, "type", json_string("array"));
        json_object_set_new(arr, "items", s);
        return arr;
    }
    return s;
}

static const ProtobufCFieldDescriptor *s_path_field(const ProtobufCMessageDescriptor *d,
                                                    const char *name)
{
    char part[128];
    const ProtobufCFieldDescriptor *f = NULL;
    for (const char *s = name; d && *s;) {
        size_t n = strcspn(s, ".");
        snprintf(part, sizeof part, "%.*s", (int)n, s);
        f = protobuf_c_message_descriptor_get_field_by_name(d, part);
        s += n + (s[n] == '.');
        d = f && f->type == PROTOBUF_C_TYPE_MESSAGE ? f->descriptor : NULL;
    }
    return f;
}

/* Path parameters of a template, with their schemas; their names are
 * added to `taken`. */
static json_t *s_path_params(const char *path, const ProtobufCMessageDescriptor *req, json_t *taken)
{
    json_t *params = json_array();
    for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{')) {
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(p + 1, "}"), p + 1);
        json_t *param = json_object();
        json_object_set_new(param, "name", json_string(name));
        json_object_set_new(param, "in", json_string("path"));
        json_object_set_new(param, "required", json_true());
        const ProtobufCFieldDescriptor *f = req ? s_path_field(req, name) : NULL;
        json_t *schema = f ? s_scalar_schema(f) : json_object();
        if (!f)
            json_object_set_new(schema, "type", json_string("string"));
        json_object_set_new(param, "schema", schema);
        json_array_append_new(params, param);
        json_object_set_new(taken, name, json_true());
    }
    return params;
}

static json_t *s_ref_content(const char *type, json_t *schema)
{
    json_t *content = json_object(), *media = json_object();
    json_object_set_new(media, "schema", schema);
    json_object_set_new(content, type, media);
    return content;
}

static json_t *s_binary_schema(void)
{
    json_t *s = json_object();
    json_object_set_new(s, "type", json_string("string"));
    json_object_set_new(s, "format", json_string("binary"));
    return s;
}

static json_t *s_problem_response(void)
{
    json_t *r = json_object(), *ref = json_object();
    json_object_set_new(ref, "$ref", json_string("#/components/schemas/Problem"));
    json_object_set_new(r, "description",
                        json_string("a problem (RFC 9457) with the service's sentence in detail"));
    json_object_set_new(r, "content", s_ref_content("application/problem+json", ref));
    return r;
}

static json_t *s_security(int public_, int csrf)
{
    json_t *sec = json_array(), *req = json_object();
    json_object_set_new(req, "session", json_array());
    if (csrf)
        json_object_set_new(req, "csrf", json_array());
    json_array_append_new(sec, req);
    if (public_)
        json_array_append_new(sec, json_object()); /* or nobody at all */
    return sec;
}

static void s_add_op(json_t *paths, const char *path, const char *method, json_t *op)
{
    json_t *item = json_object_get(paths, path);
    if (!item) {
        item = json_object();
        json_object_set_new(paths, path, item);
    }
    char m[16];
    size_t i = 0;
    for (; method[i] && i + 1 < sizeof m; i++)
        m[i] = (char)tolower((unsigned char)method[i]);
    m[i] = '\0';
    json_object_set_new(item, m, op);
}

static json_t *s_route_op(const gateway_route_info *ri, json_t *components)
{
    const gateway_route *r = ri->route;
    const ccip_command_handler *h = ri->handler;
    const ProtobufCMessageDescriptor *req = ri->described ? h->request : NULL;
    json_t *op = json_object(), *taken = json_object();
    json_object_set_new(op, "operationId", json_string(r->type));
    json_object_set_new(op, "summary", json_string(r->type));
    json_t *tags = json_array();
    json_array_append_new(tags, json_string(ri->service));
    json_object_set_new(op, "tags", tags);
    json_object_set_new(op, "x-ccip-command", json_string(r->type));
    json_object_set_new(op, "x-ccip-mutating", json_boolean(h->mutating));
    json_t *roles = json_array();
    for (const char *const *p = h->roles; p && *p; p++)
        json_array_append_new(roles, json_string(*p));
    json_object_set_new(op, "x-ccip-roles", h->roles ? roles : (json_decref(roles), json_null()));
    json_t *params = s_path_params(r->path, req, taken);
    int get = strcmp(r->method, "GET") == 0, upload = (r->flags & GATEWAY_ROUTE_UPLOAD) != 0;
    if (req && (get || upload))
        for (unsigned i = 0; i < req->n_fields; i++) {
            const ProtobufCFieldDescriptor *f = &req->fields[i];
            if (json_object_get(taken, f->name) || f->type == PROTOBUF_C_TYPE_MESSAGE ||
                (upload && (strcmp(f->name, "content") == 0)))
                continue;
            json_t *param = json_object();
            json_object_set_new(param, "name", json_string(f->name));
            json_object_set_new(param, "in", json_string("query"));
            json_object_set_new(param, "required", json_false());
            json_object_set_new(param, "schema", s_scalar_schema(f));
            if (f->label == PROTOBUF_C_LABEL_REPEATED)
                json_object_set_new(param, "explode", json_true());
            json_array_append_new(params, param);
        }
    json_object_set_new(op, "parameters", params);
    json_decref(taken);
    if (upload) {
        json_t *body = json_object();
        json_object_set_new(body, "required", json_true());
        json_object_set_new(body, "description",
                            json_string("the document itself, sent as its own media type "
                                        "(Content-Type fills field media_type)"));
        json_object_set_new(body, "content", s_ref_content("*/*", s_binary_schema()));
        json_object_set_new(op, "requestBody", body);
    } else if (!get && req) {
        json_t *body = json_object();
        json_object_set_new(body, "required", json_false());
        json_object_set_new(body, "content",
                            s_ref_content("application/json", ccip_pbjson_schema(req, components)));
        json_object_set_new(op, "requestBody", body);
    }
    json_t *responses = json_object(), *ok = json_object();
    json_object_set_new(ok, "description", json_string("the command's reply"));
    if (r->flags & GATEWAY_ROUTE_DOWNLOAD)
        json_object_set_new(ok, "content", s_ref_content("*/*", s_binary_schema()));
    else if (ri->described && h->reply)
        json_object_set_new(
            ok, "content",
            s_ref_content("application/json", ccip_pbjson_schema(h->reply, components)));
    if (!ri->described)
        json_object_set_new(op, "description",
                            json_string("the service does not describe this command's messages "
                                        "yet: the gateway answers 501"));
    json_object_set_new(responses, "200", ok);
    json_object_set_new(responses, "default", s_problem_response());
    json_object_set_new(op, "responses", responses);
    json_object_set_new(op, "security", s_security((r->flags & GATEWAY_ROUTE_PUBLIC) != 0, !get));
    return op;
}

static json_t *s_self_op(const gateway_self_endpoint *e, json_t *components)
{
    json_t *op = json_object(), *taken = json_object();
    char id[160];
    size_t n = (size_t)snprintf(id, sizeof id, "gateway.%s", e->method);
    for (const char *p = e->path + strlen("/api/v1"); *p && n + 1 < sizeof id; p++)
        id[n++] = isalnum((unsigned char)*p) ? *p : '.';
    id[n] = '\0';
    json_object_set_new(op, "operationId", json_string(id));
    json_object_set_new(op, "summary", json_string(e->summary));
    json_t *tags = json_array();
    json_array_append_new(tags, json_string("session"));
    json_object_set_new(op, "tags", tags);
    json_object_set_new(op, "parameters", s_path_params(e->path, e->request, taken));
    json_decref(taken);
    if (e->request) {
        json_t *body = json_object();
        json_object_set_new(body, "required", json_true());
        json_object_set_new(
            body, "content",
            s_ref_content("application/json", ccip_pbjson_schema(e->request, components)));
        json_object_set_new(op, "requestBody", body);
    }
    json_t *responses = json_object(), *ok = json_object();
    json_object_set_new(ok, "description", json_string(e->summary));
    if (e->reply)
        json_object_set_new(
            ok, "content",
            s_ref_content("application/json", ccip_pbjson_schema(e->reply, components)));
    json_object_set_new(responses, "200", ok);
    json_object_set_new(responses, "default", s_problem_response());
    json_object_set_new(op, "responses", responses);
    int session = (e->flags & GATEWAY_SELF_SESSION) != 0;
    if (session)
        json_object_set_new(
            op, "security",
            s_security(0, !(e->flags & GATEWAY_SELF_NO_CSRF) && strcmp(e->method, "GET") != 0));
    else
        json_object_set_new(op, "security", json_array());
    return op;
}

static json_t *s_problem_schema(void)
{
    const char *doc =
        "{\"type\":\"object\",\"description\":\"RFC 9457 problem details\",\"properties\":{"
        "\"type\":{\"type\":\"string\"},\"title\":{\"type\":\"string\"},"
        "\"status\":{\"type\":\"integer\"},\"detail\":{\"type\":\"string\",\"description\":"
        "\"what went wrong and how to fix it, as the service said it\"},"
        "\"ccip_status\":{\"type\":\"string\",\"description\":\"the ccip.Status name, or "
        "PAYLOAD_TOO_LARGE, UNIMPLEMENTED, TOO_MANY_REQUESTS\"}},"
        "\"required\":[\"type\",\"title\",\"status\",\"detail\",\"ccip_status\"]}";
    return json_loads(doc, 0, NULL);
}

json_t *gateway_openapi_build(void)
{
    json_t *doc = json_object(), *info = json_object(), *paths = json_object();
    json_t *components = json_object(), *schemas = json_object(), *sec = json_object();
    json_object_set_new(doc, "openapi", json_string("3.1.0"));
    json_object_set_new(info, "title", json_string("ccip API"));
    json_object_set_new(info, "version", json_string(CCIP_VERSION));
    json_object_set_new(
        info, "description",
        json_string("The HTTP API of ccip, served by the gateway. Every route is one bus "
                    "command of the service named in its path; bodies are the canonical "
                    "proto3 JSON of the messages in proto/. Sign in at POST /api/v1/session; "
                    "send the session's CSRF token in X-CSRF-Token with every state-changing "
                    "request; an Idempotency-Key header makes a retried POST safe."));
    json_object_set_new(doc, "info", info);
    json_t *servers = json_array(), *server = json_object();
    json_object_set_new(server, "url", json_string("/"));
    json_array_append_new(servers, server);
    json_object_set_new(doc, "servers", servers);
    for (size_t i = 0; i < gateway_self_count(); i++) {
        const gateway_self_endpoint *e = gateway_self_at(i);
        s_add_op(paths, e->path, e->method, s_self_op(e, schemas));
    }
    for (size_t i = 0; i < gateway_route_count(); i++) {
        const gateway_route_info *ri = gateway_route_at(i);
        s_add_op(paths, ri->route->path, ri->route->method, s_route_op(ri, schemas));
    }
    json_object_set_new(schemas, "Problem", s_problem_schema());
    json_t *session = json_object(), *csrf = json_object();
    json_object_set_new(session, "type", json_string("apiKey"));
    json_object_set_new(session, "in", json_string("cookie"));
    json_object_set_new(session, "name", json_string(GATEWAY_COOKIE));
    json_object_set_new(csrf, "type", json_string("apiKey"));
    json_object_set_new(csrf, "in", json_string("header"));
    json_object_set_new(csrf, "name", json_string(GATEWAY_CSRF_HEADER));
    json_object_set_new(sec, "session", session);
    json_object_set_new(sec, "csrf", csrf);
    json_object_set_new(components, "schemas", schemas);
    json_object_set_new(components, "securitySchemes", sec);
    json_object_set_new(doc, "components", components);
    json_object_set_new(doc, "paths", paths);
    return doc;
}

static void s_build_once(void)
{
    json_t *doc = gateway_openapi_build();
    s_doc = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
}

int gateway_openapi_init(char *err, size_t errlen)
{
    pthread_once(&s_once, s_build_once);
    if (!s_doc) {
        snprintf(err, errlen, "could not build the OpenAPI document: out of memory");
        return -1;
    }
    return 0;
}

const char *gateway_openapi_json(void)
{
    return s_doc;
}
