/*
 * gateway_http: the HTTP front of the gateway, on libmicrohttpd (its own
 * thread pool, each thread with an epoll set; TLS through its GnuTLS
 * support when a certificate is configured).
 *
 * Every request is answered by one of:
 *   /healthz, /readyz                the gateway's own liveness and readiness
 *   the endpoints of gateway_self.h  sign-in, sessions, accounts (answered here)
 *   the routes of gateway_routes.h   one bus command each
 * with JSON (application/json) or an RFC 9457 problem
 * (application/problem+json: type, title, status, detail, ccip_status).
 *
 * A request body is read whole before anything runs, up to
 * gateway.max_body_bytes (a document upload: gateway.max_document_bytes);
 * a larger one is refused with 413 as soon as that is known, a request that
 * takes longer than gateway.request_timeout_s to arrive with 408, and a
 * truncated one never runs: nothing is written for any of them.
 *
 * Sessions: cookie `ccip_session` (HttpOnly; Secure; SameSite=Strict;
 * Path=/). A state-changing request (any method but GET and HEAD) of a
 * signed-in person must carry the session's CSRF token in header
 * X-CSRF-Token, or it is refused with 403 before anything runs.
 */
#ifndef GATEWAY_HTTP_H
#define GATEWAY_HTTP_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "ccip/envelope.pb-c.h"
#include "gateway.h"
#include "gateway_store.h"

#define GATEWAY_COOKIE      "ccip_session"
#define GATEWAY_CSRF_HEADER "X-CSRF-Token"
#define GATEWAY_MAX_PARAMS  8   /* path parameters of one template */
#define GATEWAY_RETRY_AFTER "2" /* seconds, with every 503 */
#define GATEWAY_MAX_HEADERS 8   /* extra response headers */

typedef struct gateway_http gateway_http;

/* Starts the server on gateway.http_listen. Refuses (NULL with err) an
 * address other than loopback without gateway.tls_cert_file and
 * gateway.tls_key_file, and a port it cannot bind. */
gateway_http *gateway_http_start(gateway_runtime *rt, char *err, size_t errlen);

/* Stops accepting, finishes the requests in hand, frees; safe on NULL and
 * twice. */
void gateway_http_stop(gateway_http **http);

/* The port the server listens on (useful when configured as port 0). */
int gateway_http_port(const gateway_http *http);

/* ---- what handlers see ------------------------------------------------------ */

typedef struct {
    unsigned status; /* HTTP status */
    char *body;      /* malloc'd; freed after sending */
    size_t len;
    char content_type[128]; /* copied: a document's own media type outlives its message */
    struct {
        char name[40];
        char *value; /* malloc'd */
    } headers[GATEWAY_MAX_HEADERS];
    size_t nheaders;
} gateway_response;

typedef struct {
    const char *name; /* as in the template, borrowed from it */
    char value[512];  /* as in the URL (decoded) */
} gateway_param;

typedef struct gateway_request gateway_request;

/* The parts of a request handlers use. */
gateway_runtime *gateway_request_runtime(gateway_request *rq);
const char *gateway_request_method(const gateway_request *rq);
const char *gateway_request_path(const gateway_request *rq);
const char *gateway_request_client(const gateway_request *rq); /* client address text */
const char *gateway_request_id(const gateway_request *rq);     /* correlation id (UUIDv7) */
const char *gateway_request_header(gateway_request *rq, const char *name); /* NULL: none */
const uint8_t *gateway_request_body(const gateway_request *rq, size_t *len);
const gateway_param *gateway_request_params(const gateway_request *rq, size_t *n);
gateway_response *gateway_request_response(gateway_request *rq);

/* The caller's live session, looked up from the cookie on first use (one
 * statement), or NULL when there is none (no cookie, unknown, ended,
 * expired or idle too long). The session token itself (for the CSRF
 * token) is written into token when it is not NULL. */
const gateway_session_row *gateway_request_session(gateway_request *rq,
                                                   char token[GATEWAY_TOKEN_LEN + 1]);

/* Forgets the looked-up session (after the request changed it). */
void gateway_request_session_reset(gateway_request *rq);

/* Builds the request message of type desc from the request: the JSON body
 * (for methods with a body; `raw_field`, when not NULL, names the bytes
 * field that takes the raw body instead, and the Content-Type then fills
 * field `media_type`), the path parameters and (when with_query) the query
 * parameters, each into the field of its name. Strict: anything that does
 * not fit desc is refused. Returns the message (free with
 * protobuf_c_message_free_unpacked(msg, NULL)), or NULL after answering
 * 400 (or 415) naming the problem. */
ProtobufCMessage *gateway_request_message(gateway_request *rq,
                                          const ProtobufCMessageDescriptor *desc, int with_query,
                                          const char *raw_field);

/* ---- answers ------------------------------------------------------------------ */

/* The HTTP status of a ccip status: INVALID_ARGUMENT 400, UNAUTHENTICATED
 * 401, PERMISSION_DENIED 403, NOT_FOUND 404, ALREADY_EXISTS and
 * FAILED_PRECONDITION 409, UNAVAILABLE and DEADLINE_EXCEEDED 503, INTERNAL
 * (and anything else) 500, OK 200. */
unsigned gateway_http_status(Ccip__Status status);

/* Answers with the JSON j (stolen). */
void gateway_reply_json(gateway_request *rq, unsigned status, json_t *j);

/* Answers 200 with the JSON of msg (defaults emitted). */
void gateway_reply_message(gateway_request *rq, const ProtobufCMessage *msg);

/* Answers with an RFC 9457 problem: status, title (the HTTP reason),
 * detail (the sentence), ccip_status (a ccip.Status name, or a word of the
 * gateway's own such as "PAYLOAD_TOO_LARGE"). A 503 carries Retry-After. */
void gateway_reply_problem(gateway_request *rq, unsigned status, const char *ccip_status,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Answers with the ccip status and sentence of a refused command. */
void gateway_reply_status(gateway_request *rq, Ccip__Status status, const char *sentence);

/* Answers with raw bytes (copied). */
void gateway_reply_bytes(gateway_request *rq, unsigned status, const char *content_type,
                         const void *data, size_t len);

/* Adds a response header (value copied). */
void gateway_reply_header(gateway_request *rq, const char *name, const char *value);

/* Sets (token) or clears (NULL) the session cookie. */
void gateway_reply_cookie(gateway_request *rq, const char *token, int64_t max_age_s);

#endif
