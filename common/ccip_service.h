/*
 * ccip_service: the skeleton every ccip service is built on.
 *
 * A service is a ccip_service_def (its name, migrations, command handlers,
 * event subscriptions and extra configuration) and a main.c of one line:
 *
 *   int main(int argc, char **argv) { return ccip_service_main(&intake_def, argc, argv); }
 *
 * ccip_service_main does the rest, the same way for every service:
 *  start-up   configuration (file + environment), log, CURVE keys, database
 *             (waits for it), migrations ("ccip" infrastructure tables, then
 *             the service's own), the relay thread (publishes the outbox),
 *             one consumer thread per subscribed producer;
 *  serving    `service.workers` threads (default 8), each registered with the
 *             bus as a replica, hold one command each: a command's
 *             deadline, type and the caller's role are checked before its
 *             handler runs; the commands in hand share
 *             `service.db_connections` connections (default 2) and are
 *             committed in batches (ccip_service_batch.h): a mutating
 *             command runs in a transaction together with the stored reply
 *             under its command id, so a repeated id gets the stored reply
 *             and no second effect, and is answered only after that
 *             transaction committed;
 *  shutdown   on SIGTERM finishes the command in hand, leaves the bus,
 *             stops the threads and exits 0 within a few seconds.
 *
 * Built-in commands of every service: ccip.ping.v1 and ccip.replay.v1.
 */
#ifndef CCIP_SERVICE_H
#define CCIP_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/envelope.pb-c.h"
#include "ccip_config.h"
#include "ccip_consumer.h"
#include "ccip_db.h"
#include "ccip_migrate.h"
#include "ccip_outbox.h"

typedef struct ccip_service ccip_service;

/* An event a command emitted, kept until its batch commits (opaque). */
typedef struct ccip_command_event ccip_command_event;

/* Configuration every service has. A service's own configuration struct
 * starts with this as its first member, named `base`. */
typedef struct {
    char *instance;                  /* replica name, e.g. intake-7f9c */
    char *log_level;                 /* debug, info, warn, error */
    char *db_host;                   /* PostgreSQL host */
    int64_t db_port;                 /* PostgreSQL port */
    char *db_name;                   /* database */
    char *db_user;                   /* the service's own role, ccip_<service> */
    char *db_password;               /* secret: prefer CCIP_DB_PASSWORD */
    char *bus_command_endpoint;      /* broker ROUTER */
    char *bus_publish_endpoint;      /* event proxy XSUB */
    char *bus_subscribe_endpoint;    /* event proxy XPUB */
    char *key_file;                  /* own CURVE key pair (.key) */
    char *server_key_file;           /* the bus's public key (.pub) */
    int64_t max_message_bytes;       /* largest message accepted */
    int64_t workers;                 /* commands in hand at once (broker slots, threads) */
    int64_t db_connections;          /* database connections those commands share */
    int64_t batch_max;               /* most commands committed in one transaction */
    int64_t batch_wait_us;           /* how long a batch waits for more commands */
    int64_t retention_hours;         /* how long the outbox keeps published events */
    int64_t command_retention_hours; /* how long stored replies answer retried commands */
} ccip_service_config;

/* The caller's identity as the service may trust it. */
typedef struct {
    const char *id;   /* person or service id */
    const char *role; /* "service" for service keys; the claimed role for front doors */
    const char *peer; /* name of the CURVE key used */
} ccip_actor;

/* One command being handled. The handler reads req and fills the reply. */
typedef struct {
    ccip_service *service;
    ccip_db *db;               /* inside the command's transaction when mutating */
    const Ccip__Envelope *req; /* the command */
    ccip_actor actor;          /* who asked, as trusted */
    Ccip__Status status;       /* reply status; OK unless the handler says otherwise */
    char error[512];           /* reply sentence when status is not OK */
    uint8_t *payload;          /* reply payload, malloc'd by the handler, freed by the skeleton */
    size_t payload_len;
    ccip_command_event *events; /* skeleton's: emitted events, newest first, written with the
                                   batch (ccip_service_batch.h) */
    int keep_events;            /* skeleton's: 1 when emitted events wait for the batch */
} ccip_command;

/* A handler returns 0 when it produced a reply (any status), or the
 * ccip_db_rc of a failed statement (so that retryable failures are retried
 * and others answered INTERNAL). A mutating handler's writes are committed
 * only when it returns 0 with status OK; otherwise they are rolled back. */
typedef int (*ccip_command_fn)(ccip_command *cmd);

/* Optional, for the few commands whose throughput matters: handles n >= 1
 * commands of one type at once, inside their batch's transaction, with
 * set-based statements (one INSERT ... SELECT FROM unnest(...) for all of
 * them rather than one per command). The contract:
 *  - each command ends as its own handler would leave it: status, error,
 *    payload; as if they had run one after the other in array order (the
 *    second of two commands that conflict sees the first);
 *  - effects are written ONLY for commands that end with status OK: check
 *    everything first, then write the accepted ones; a refused command
 *    leaves no trace, and the skeleton does not roll anything back for it;
 *  - return 0, or the ccip_db_rc of a failed statement: the skeleton then
 *    undoes the whole group and runs each command alone (n = 1), so that
 *    only the command that causes the failure fails. */
typedef int (*ccip_command_batch_fn)(ccip_command *const *cmds, size_t n);

typedef struct {
    const char *type;         /* e.g. "intake.call.open.v1" */
    int mutating;             /* 1: transactional and idempotent by command id */
    const char *const *roles; /* NULL-terminated roles allowed, NULL = any caller */
    ccip_command_fn fn;
    ccip_command_batch_fn batch_fn; /* optional, mutating only: several at once */
} ccip_command_handler;

/* A command the service gives itself periodically: housekeeping that would
 * otherwise need a cron job (evaluation's overdue sweep). Each replica runs
 * it at every multiple of the period (UTC), through the same batcher as any
 * command, with an empty payload, as actor "system:<instance>" with role
 * "system" (the handler's role list is not consulted: the service itself
 * asks), under the command id "<type>@<period start in UTC seconds>": so
 * however many replicas run it, each period has one effect, kept by the
 * command log like any retried command. */
typedef struct {
    const char *type;    /* a mutating command of this service */
    size_t every_offset; /* offset of the int64_t period in seconds in the service's
                            configuration struct; 0 there turns it off */
} ccip_schedule;

/* Events of one producer this service consumes. */
typedef struct {
    const char *producer;                  /* e.g. "intake" */
    const ccip_consumer_handler *handlers; /* per event type */
    size_t nhandlers;
} ccip_subscription;

typedef struct {
    const char *name;                 /* service, schema, bus name: [a-z][a-z0-9_]* */
    const ccip_migration *migrations; /* the service's own component, as generated by
                                         ccip_embed_migrations: ends with a {0} entry */
    const ccip_command_handler *commands;
    size_t ncommands;
    const ccip_subscription *subscriptions;
    size_t nsubscriptions;
    const ccip_config_field
        *config_fields; /* the service's own settings, offsets into its struct */
    size_t nconfig_fields;
    size_t config_size;             /* sizeof its struct (>= sizeof ccip_service_config) */
    void *arg;                      /* handed to consumer handlers */
    const ccip_schedule *schedules; /* commands run periodically, may be NULL */
    size_t nschedules;
    /* Optional: checks and loads what the service needs before it serves
     * (after the migrations, before any thread starts), e.g. a key file.
     * Returns 0, or -1 with a sentence in err: the service then does not
     * start (exit status 1). */
    int (*start)(const ccip_service *svc, char *err, size_t errlen);
} ccip_service_def;

/* Runs the service until SIGTERM. Returns the process exit status: 0 after
 * a clean stop, 1 when it could not start (the reason is logged), 2 on bad
 * usage. */
int ccip_service_main(const ccip_service_def *def, int argc, char **argv);

/* The service's configuration (its own struct, starting with the base). */
const void *ccip_service_config_get(const ccip_service *svc);

/* Sets a reply error: ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
 * "field `%s` must be positive, got %lld", ...). Returns 0 so a handler can
 * `return ccip_command_fail(...)`. */
int ccip_command_fail(ccip_command *cmd, Ccip__Status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends an event to the service's outbox inside the command's
 * transaction, filling source, correlation, causation and actor from the
 * command. A mutating command's events are checked now and written with
 * the other events of its batch in one statement just before the commit
 * (dropped when the command is refused). Returns 0, or CCIP_DB_ERROR when
 * the event is malformed (logged), or the ccip_db_rc of the failure. */
int ccip_command_emit(ccip_command *cmd, const char *type, const char *aggregate_type,
                      const char *aggregate_id, const void *payload, size_t payload_len);

/* The protobuf side of a handler, the same in every service. */

/* Decodes the command's payload as desc, bounded by limits.max_message_bytes
 * and a bounded allocator. Returns the message (the caller frees it with
 * protobuf_c_message_free_unpacked), or NULL with the command failed
 * INVALID_ARGUMENT, the sentence naming the type and why. */
ProtobufCMessage *ccip_command_unpack(ccip_command *cmd, const ProtobufCMessageDescriptor *desc);

/* Packs msg as the reply's payload. Returns 0, or -1 with the command failed
 * INTERNAL (out of memory). */
int ccip_command_reply(ccip_command *cmd, const ProtobufCMessage *msg);

/* Packs msg and emits it (ccip_command_emit). Returns 0; -1 with the command
 * failed (INTERNAL: out of memory; FAILED_PRECONDITION: larger than an event
 * may carry, "shorten the texts"); or the ccip_db_rc of a failure
 * (cmd->status then still OK). */
int ccip_command_emit_msg(ccip_command *cmd, const char *type, const char *aggregate_type,
                          const char *aggregate_id, const ProtobufCMessage *msg);

#endif
