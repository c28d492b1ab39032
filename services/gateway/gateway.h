/*
 * gateway: the front door for people (issue 14; messages in
 * proto/ccip/gateway.proto; the design in docs/ARCHITECTURE.md, "Gateway and
 * identity").
 *
 * The service is gateway_def (gateway.c) run by ccip_service_main like every
 * other service: its schema `gateway` holds accounts, role bindings,
 * sessions, sign-in throttling, one-time tokens and the audit; its relay
 * publishes `gateway.account.*.v1`; its command slots serve `gateway.*.v1`
 * so that staff and admins manage accounts through the bus too; it consumes
 * intake's `intake.organisation.verified.v1` to confirm the pending binding
 * of the account that registered the organisation. Its start hook adds the
 * HTTP front (gateway_http.h) that people and the web console talk to.
 *
 *   gateway_bindings.c  what a binding acts as (actor id, roles): pure
 *   gateway_crypto.c    tokens, password hashes (argon2id), TOTP, derived ids
 *   gateway_store.c     the SQL of accounts, bindings, sessions, tokens, audit
 *   gateway_commands.c  the bus commands gateway.*.v1 and the consumer
 *   gateway_subjects.c  checks of a binding's subject with its owning service
 *   gateway_http.c      the libmicrohttpd server, requests and responses
 *   gateway_routes.c    THE route table: method, path, command type
 *   gateway_self.c      the endpoints the gateway answers itself (sign-in, ...)
 *   gateway_openapi.c   /api/v1/openapi.json from the route table
 */
#ifndef GATEWAY_H
#define GATEWAY_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/gateway.pb-c.h"
#include "ccip_client.h"
#include "ccip_service.h"

/* What a helper returns after it set the command's reply (ccip_command.h). */
#define GATEWAY_REPLIED CCIP_REPLIED

/* The service's configuration: the base, then its own settings. */
typedef struct {
    ccip_service_config base;       /* every service's settings; must be first */
    char *http_listen;              /* gateway.http_listen: address:port of the HTTP front */
    int64_t http_threads;           /* gateway.http_threads: HTTP threads (each one bus client) */
    int64_t http_db_connections;    /* gateway.http_db_connections: their shared connections */
    char *tls_cert_file;            /* gateway.tls_cert_file: PEM certificate ("" = plain HTTP) */
    char *front_door_key_file;      /* gateway.front_door_key_file: its front-door key pair */
    char *tls_key_file;             /* gateway.tls_key_file: its PEM private key */
    int64_t max_body_bytes;         /* gateway.max_body_bytes: largest JSON body */
    int64_t max_document_bytes;     /* gateway.max_document_bytes: largest document upload */
    int64_t request_timeout_s;      /* gateway.request_timeout_s: idle or slow upload limit */
    int64_t command_timeout_ms;     /* gateway.command_timeout_ms: wait for a service's reply */
    int64_t session_idle_s;         /* gateway.session_idle_s: idle timeout of a session */
    int64_t session_absolute_s;     /* gateway.session_absolute_s: absolute session lifetime */
    int64_t session_cache_ms;       /* gateway.session_cache_ms: how long a looked-up session
                                       is reused (gateway_session_cache.h); 0: never */
    int64_t throttle_free_failures; /* failures in a row per login before delays start */
    int64_t throttle_addr_failures; /* the same per client address */
    int64_t throttle_lock_failures; /* failures in a row after which the key is locked */
    int64_t throttle_lock_s;        /* how long such a lock lasts */
    int64_t argon2_ops;             /* gateway.argon2_ops: argon2id passes */
    int64_t argon2_mem_kib;         /* gateway.argon2_mem_kib: argon2id memory in KiB */
    int64_t invitation_hours;       /* gateway.invitation_hours: default validity */
    char *totp_issuer;              /* gateway.totp_issuer: name shown by authenticator apps */
    char *web_dir;                  /* gateway.web_dir: the web console's files ("" = none) */
} gateway_config;

extern const ccip_service_def gateway_def;

/* Roles of the gateway's own command table (NULL-terminated). */
extern const char *const gateway_roles_manage[]; /* admin, staff */
extern const char *const gateway_roles_invite[]; /* admin, staff, applicant */

/* The running gateway, shared by its HTTP threads and its command slots
 * (set up by the start hook, torn down by the stop hook). */
typedef struct gateway_runtime gateway_runtime;

/* The runtime of this process; NULL before start and after stop. */
gateway_runtime *gateway_runtime_get(void);

/* The configuration in force. */
const gateway_config *gateway_cfg(const gateway_runtime *rt);

/* This thread's bus client (made on first use with the gateway's own
 * front-door key; every thread has its own, since a DEALER socket is not
 * thread-safe). Borrowed; freed at stop. NULL with err when it could not be
 * made. */
ccip_client *gateway_bus_client(gateway_runtime *rt, char *err, size_t errlen);

/* The same with the gateway's service key (service.key_file): for what the
 * gateway asks on its own account, as role `service` (whether a binding's
 * subject exists), never for a person's command. A front door may not
 * claim role service (ccip_keys.h), and a service key may act only as
 * service:gateway. Borrowed; freed at stop. */
ccip_client *gateway_service_client(gateway_runtime *rt, char *err, size_t errlen);

/* A database connection of the HTTP side's pool, search_path gateway:
 * waits until one is free. Returns NULL after the timeout (ms) or when the
 * pool is gone. Give it back with gateway_db_release. */
ccip_db *gateway_db_acquire(gateway_runtime *rt, int timeout_ms);
void gateway_db_release(gateway_runtime *rt, ccip_db *db);

/* The libpq conninfo of the gateway's schema (borrowed). */
const char *gateway_conninfo(const gateway_runtime *rt);

/* The bus client side's identity: source_instance for envelopes. */
const char *gateway_instance(const gateway_runtime *rt);

#endif
