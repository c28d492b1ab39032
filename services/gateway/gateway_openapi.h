/*
 * gateway_openapi: the OpenAPI 3.1 document of the HTTP API, served at
 * /api/v1/openapi.json. It is generated once at start-up from the route
 * table (gateway_routes.h), the gateway's own endpoints (gateway_self.h)
 * and the message descriptors (ccip_pbjson_schema), never written by hand,
 * so it cannot disagree with what the gateway does.
 */
#ifndef GATEWAY_OPENAPI_H
#define GATEWAY_OPENAPI_H

#include <jansson.h>
#include <stddef.h>

/* Builds the document (once). Returns 0, or -1 with err. */
int gateway_openapi_init(char *err, size_t errlen);

/* The document as JSON text (static, built by gateway_openapi_init), or
 * NULL before. */
const char *gateway_openapi_json(void);

/* Builds the document as a new JSON object (the caller json_decref()s it),
 * or NULL when memory ran out. For tests. */
json_t *gateway_openapi_build(void);

#endif
