/*
 * gateway_routes: THE route table of the HTTP API. A route is one line:
 * method, path template, command type (and a few flags). Nothing else about
 * a command is written here: its request and reply messages and the roles
 * allowed come from the owning service's own definition table
 * (intake_def.commands[] etc., linked from the services' libraries), so the
 * API, its OpenAPI document (gateway_openapi.h) and the protos cannot
 * drift.
 *
 * A request to a route becomes exactly one bus command:
 *  - the request message is the JSON body (POST) with the path parameters,
 *    or the path and query parameters (GET), each into the request field of
 *    its name (gateway_request_message);
 *  - actor id and role come from the session's active binding
 *    (gateway_bindings.h): the first of the handler's roles the binding
 *    holds; nothing in the request can change them;
 *  - the command id is derived from an Idempotency-Key header, when there
 *    is one (gateway_command_id), else a new UUIDv7;
 *  - the reply becomes the JSON of the reply message, a refusal a problem
 *    with the service's sentence.
 * GET routes must name read-only commands (checked at start-up): GET never
 * changes state.
 */
#ifndef GATEWAY_ROUTES_H
#define GATEWAY_ROUTES_H

#include <stddef.h>

#include "ccip_service.h"
#include "gateway_http.h"

/* Flags of a route. */
#define GATEWAY_ROUTE_PUBLIC                                                                       \
    0x1 /* anyone: without a session it is sent as the gateway's own                               \
           service identity (role "service") */
#define GATEWAY_ROUTE_UPLOAD                                                                       \
    0x2 /* the body is a document's raw content (request field                                     \
           `content`; its Content-Type fills `media_type`) */
#define GATEWAY_ROUTE_DOWNLOAD                                                                     \
    0x4 /* the reply is a document: bytes field `content`, described                               \
           by message field `document` (`media_type`, `name`) */

typedef struct {
    const char *method; /* GET or POST */
    const char *path;   /* "/api/v1/intake/applications/{application_id}" */
    const char *type;   /* "intake.application.get.v1" */
    unsigned flags;     /* GATEWAY_ROUTE_* */
} gateway_route;

/* A route with what the owning service says about its command. */
typedef struct {
    const gateway_route *route;
    const char *service;                 /* "intake" */
    const ccip_command_handler *handler; /* from the service's table */
    int described;                       /* the handler names its request (and reply) */
} gateway_route_info;

/* Finds every route's service and handler and checks the table: every
 * command exists, GET routes are read-only, path parameters and the flags'
 * fields are fields of the request (and reply). Returns 0, or -1 with err
 * naming the route (a programming error: the gateway does not start).
 * Routes whose command does not name its messages yet are answered with
 * 501 and logged once here. */
int gateway_routes_init(char *err, size_t errlen);
void gateway_routes_done(void);

/* The routes, in table order. */
size_t gateway_route_count(void);
const gateway_route_info *gateway_route_at(size_t i);

/* The service definitions the gateway routes to (for tests and OpenAPI). */
const ccip_service_def *gateway_service_def(const char *service);

/* Answers a request to route ri. */
void gateway_route_handle(gateway_request *rq, const gateway_route_info *ri);

#endif
