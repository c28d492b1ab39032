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
 *             stops the threads and exits 0 within a few seconds;
 *  metrics    with `metrics.listen` set (e.g. 127.0.0.1:9101), a thread
 *             serves /healthz (alive), /readyz (its database and the bus
 *             answer) and /metrics in Prometheus text (ccip_metrics.h):
 *               ccip_commands_total{type,status}       commands answered
 *               ccip_command_duration_seconds{type}    receipt to answer
 *               ccip_batch_size                        commands per batch
 *               ccip_db_connections{state}             busy / idle
 *               ccip_relay_unpublished_events, ccip_relay_lag_seconds
 *                                                      outbox rows not yet
 *                                                      numbered, the oldest's age
 *               ccip_relay_published_total, ccip_relay_leader
 *               ccip_consumer_lag_events{producer}     the producer's head
 *                                                      minus what is applied
 *               ccip_consumer_applied_total{producer}, ccip_consumer_stalled{producer}
 *             and what the service records itself (ccip_service_metrics).
 *
 * Before a handler runs, every command is checked: its deadline, its type,
 * its command id (not in the scheduled runs' namespace, at most
 * CCIP_COMMAND_ID_MAX bytes), the caller's role, and every string of its
 * payload (ccip_wire.h, from the handler's `request` message). The caller
 * is what the bus verified of its key (ccip_mdp.h): service keys act as
 * "service:<their service>" in role "service", front doors as the person
 * and role they claimed within their binding, admin keys as
 * "admin:<key name>" in role "admin".
 *
 * Built-in commands of every service: ccip.ping.v1 (with each consumer's
 * standing), ccip.replay.v1 (answered only to the services listed in
 * `consumers` and to admin keys), and ccip.consumer.reset.v1 (role admin:
 * an operator resets a consumer's cursor, ccip_consumer.h).
 */
#ifndef CCIP_SERVICE_H
#define CCIP_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/envelope.pb-c.h"
#include "ccip_command.h"
#include "ccip_config.h"
#include "ccip_consumer.h"
#include "ccip_db.h"
#include "ccip_migrate.h"
#include "ccip_outbox.h"

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
    char *db_owner_user;             /* the schema's owner role, used only to apply the
                                        migrations at start-up ("" = db_user applies them) */
    char *db_owner_password;         /* secret: prefer CCIP_DB_OWNER_PASSWORD */
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
    char *metrics_listen;            /* host:port of /metrics, /healthz, /readyz; "" = none */
} ccip_service_config;

/* Command ids that start with this are the service's own scheduled runs:
 * a command from the bus carrying one is refused (PERMISSION_DENIED), so
 * nobody outside can take a period's id before the service runs it. */
#define CCIP_SCHEDULE_ID_PREFIX "schedule:"

/* Longest command id accepted from the bus, in bytes. */
#define CCIP_COMMAND_ID_MAX 128

/* A command the service gives itself periodically: housekeeping that would
 * otherwise need a cron job (evaluation's overdue sweep). Each replica runs
 * it at every multiple of the period (UTC), through the same batcher as any
 * command, with an empty payload, as actor "system:<instance>" with role
 * "system" (the handler's role list is not consulted: the service itself
 * asks), under the command id "schedule:<type>@<period start in UTC
 * seconds>": so however many replicas run it, each period has one effect,
 * kept by the command log like any retried command (every replica of the
 * service counts as the same caller of its scheduled commands). */
typedef struct {
    const char *type;    /* a mutating command of this service */
    size_t every_offset; /* offset of the int64_t period in seconds in the service's
                            configuration struct; 0 there turns it off */
} ccip_schedule;

/* The number of elements of an array (never a pointer): a definition
 * table's length. */
#define CCIP_NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A table and its length as the two fields that hold them, in a
 * ccip_service_def (CCIP_DEF_TABLE(commands, s_commands) is
 * `.commands = s_commands, .ncommands = ...`) and in a ccip_subscription's
 * row ({"intake", CCIP_TABLE(s_intake)}): the length is never written by
 * hand. */
#define CCIP_DEF_TABLE(field, table) .field = (table), .n##field = CCIP_NELEMS(table)
#define CCIP_TABLE(table)            (table), CCIP_NELEMS(table)

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
    /* The services that consume this one's events: the only service keys
     * that ccip.replay.v1 answers (and admin keys, logged); NULL-terminated,
     * NULL when nobody consumes them. Kept beside each consumer's
     * subscriptions: a new consumer is added here too. */
    const char *const *consumers;
    /* Optional: checks and loads what the service needs before it serves
     * (after the migrations, before any thread starts), e.g. a key file.
     * Returns 0, or -1 with a sentence in err: the service then does not
     * start (exit status 1). */
    int (*start)(const ccip_service *svc, char *err, size_t errlen);
    /* Optional: stops what start started (a server of the service's own),
     * called once at shutdown when start returned 0, after the command slots
     * finished their commands in hand and before the relay, the consumers
     * and the database connections go. */
    void (*stop)(const ccip_service *svc);
} ccip_service_def;

/* Checks a service's definition table: every command line names its type,
 * its handler and its request message (ccip_command_handler), a batch
 * handler only on a mutating command, no type twice and none of the
 * built-ins' (ccip.ping.v1, ccip.replay.v1, ccip.consumer.reset.v1). Returns 0, or -1 with a
 * sentence in err naming the command and what its line lacks (a
 * programming error in the service). ccip_service_main runs it first, and
 * the service does not start when it fails. */
int ccip_service_def_check(const ccip_service_def *def, char *err, size_t errlen);

/* Runs the service until SIGTERM. Returns the process exit status: 0 after
 * a clean stop, 1 when it could not start (the reason is logged), 2 on bad
 * usage. */
int ccip_service_main(const ccip_service_def *def, int argc, char **argv);

/* The service's configuration (its own struct, starting with the base). */
const void *ccip_service_config_get(const ccip_service *svc);

/* The service's name, which is also its schema and its name on the bus. */
const char *ccip_service_name(const ccip_service *svc);

/* The service's metrics registry (borrowed; it lives as long as the
 * service), for families of the service's own (the gateway's requests).
 * Exists whether or not metrics.listen is set. */
struct ccip_metrics *ccip_service_metrics(const ccip_service *svc);

/* The libpq conninfo the service's own connections use (its role, its
 * schema first on search_path), for a thread of the service that needs a
 * connection of its own (notify's sender). Borrowed for the service's life. */
const char *ccip_service_conninfo(const ccip_service *svc);

/* A replay client of the service's own (its keys, the bus), for a command
 * that reads whole streams (a rebuild: ccip_replay_range); the command's
 * thread has no broker connection. timeout_ms and attempts per request.
 * Returns it (ccip_replay_destroy), or NULL with a sentence in err. */
struct ccip_replay;
struct ccip_replay *ccip_service_replay_open(const ccip_service *svc, int timeout_ms, int attempts,
                                             char *err, size_t errlen);

/* ---- rebuilding what events feed ------------------------------------------ */

/* How far a rebuild replayed one producer's stream: positions 1 .. position. */
typedef struct {
    char producer[32];
    uint64_t position;
} ccip_rebuild_cursor;

#define CCIP_REBUILD_PRODUCERS_MAX 8 /* producers one service subscribes to, at most */

/* What a rebuild does that is the service's own (stats' projections,
 * notify's inbox). Each returns 0, CCIP_REPLIED or a ccip_db_rc. */
typedef struct {
    /* With the cursors locked, before any event: the checksum before and
     * emptying the tables. */
    int (*start)(ccip_command *cmd, void *arg);
    /* Applies `producer`'s events 1 .. upto, read through r
     * (ccip_replay_range), to the emptied tables. */
    int (*replay)(ccip_command *cmd, struct ccip_replay *r, const char *producer, uint64_t upto,
                  void *arg);
    void *arg;
    int timeout_ms; /* per replay request and attempt; 0: 10,000 */
    int attempts;   /* requests per replay batch before giving up; 0: 3 */
} ccip_rebuild_steps;

/* Makes again, in the command's one transaction, what the service keeps
 * from the events of the producers it subscribes to: locks their consumer
 * cursor rows (the consumers wait on them until the command commits, so
 * nothing is applied twice or missed), runs steps->start, then replays
 * each producer whose cursor is above 0 from position 1 to the cursor
 * through a replay client of the service's own (the command's thread has
 * none). Fills cursors[0 .. *n) in producer order, for the reply. Returns
 * 0; CCIP_REPLIED when the command was answered (the bus unreachable, or a
 * step's refusal); or a ccip_db_rc. Why one commit and not "move the
 * cursors back": while consumers replay, readers would see half-made
 * tables. */
int ccip_service_rebuild(ccip_command *cmd, const ccip_rebuild_steps *steps,
                         ccip_rebuild_cursor cursors[CCIP_REBUILD_PRODUCERS_MAX], size_t *n);

struct ccip_client;

/* A new client of the bus's command socket with the service's own key (its
 * calls carry source_service = the service's name and role "service"), for
 * a handler that asks another service something (ip's hourly anchors ask
 * each producer for its head). One per thread: the caller destroys it with
 * ccip_client_destroy. Returns NULL with err when the socket cannot be made. */
struct ccip_client *ccip_service_client_new(const ccip_service *svc, char *err, size_t errlen);

#endif
