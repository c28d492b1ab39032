/*
 * gateway_self: the HTTP endpoints the gateway answers itself, against its
 * own schema, because they are where identity is decided: sign-up,
 * sign-in (argon2id, TOTP, throttling), the session and its active
 * binding, sign-out (of one or all sessions), password and contact
 * changes, TOTP enrolment, asking to be a user of an organisation,
 * accepting an invitation, resetting a password with its one-time token.
 * Each change is written with its audit row and its event
 * (gateway.account.*.v1) in one transaction.
 *
 * Their request and reply bodies are the JSON of messages of
 * proto/ccip/gateway.proto (table below), mapped and checked like every
 * route's, and listed in the OpenAPI document.
 */
#ifndef GATEWAY_SELF_H
#define GATEWAY_SELF_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "gateway_http.h"

/* Flags of an endpoint. */
#define GATEWAY_SELF_SESSION 0x1 /* needs a session (401 without) */
#define GATEWAY_SELF_NO_CSRF 0x2 /* does not act with a session: no CSRF token needed */

/* Handles the request; body is the request message (owned by the caller)
 * or NULL when the endpoint has none. */
typedef void (*gateway_self_fn)(gateway_request *rq, ProtobufCMessage *body);

typedef struct {
    const char *method;
    const char *path;
    gateway_self_fn fn;
    const ProtobufCMessageDescriptor *request; /* NULL: no body */
    const ProtobufCMessageDescriptor *reply;   /* for the OpenAPI document */
    unsigned flags;
    const char *summary; /* one line for the OpenAPI document */
} gateway_self_endpoint;

size_t gateway_self_count(void);
const gateway_self_endpoint *gateway_self_at(size_t i);

/* Prepares what sign-in needs (the dummy hash that an unknown login is
 * checked against, so that it takes as long as a known one). Returns 0 or
 * -1 with err. */
int gateway_self_init(const gateway_config *cfg, char *err, size_t errlen);

#endif
