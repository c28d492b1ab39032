#include "ccip_service.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip_chain.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_keys.h"
#include "ccip_log.h"
#include "ccip_mdp.h"
#include "ccip_metrics.h"
#include "ccip_relay.h"
#include "ccip_replay.h"
#include "ccip_service_batch.h"
#include "ccip_shutdown.h"
#include "ccip_wire.h"
#include "ccip_worker.h"

CCIP_MIGRATIONS_DECLARE(ccip);

#define DB_WAIT_MS             30000 /* how long start-up waits for PostgreSQL */
#define POLL_MS                100   /* longest time between looks at the stop flag */
#define REPLAY_MAX_DEFAULT     500   /* events per replay reply unless asked for fewer */
#define REPLAY_MAX_LIMIT       2000
#define AUDIT_VERIFY_BUDGET_US 250000 /* work per ccip.audit.verify.v1: a read holds its batch */

/* One command slot: a thread with its own broker connection (the broker
 * sees it as one more replica), so a replica has `workers` commands in hand.
 * The slots share the replica's database connections (ccip_service_batch). */
typedef struct {
    ccip_service *svc;
    ccip_worker *worker;
    pthread_t thread;
    int started;
} s_thread;

struct ccip_service {
    const ccip_service_def *def;
    void *config; /* the service's struct; starts with ccip_service_config */
    ccip_service_config *base;
    void *ctx;
    ccip_db *db; /* start-up connection: migrations */
    s_thread *threads;
    size_t nthreads;
    ccip_batcher *batcher; /* the command slots' database connections */
    ccip_relay *relay;
    ccip_consumer **consumers;
    ccip_keypair keys;
    char server_key[CCIP_KEY_Z85_LEN + 1];
    char conninfo[1024];
    int64_t started_us;
    int def_started; /* def->start returned 0: def->stop runs at shutdown */
    /* metrics (ccip_service.h): the registry, its families, the server */
    ccip_metrics *metrics;
    ccip_metric *m_commands, *m_duration, *m_batch, *m_dbs, *m_unpublished, *m_relay_lag;
    ccip_metric *m_published, *m_leader, *m_consumer_lag, *m_applied, *m_stalled;
    ccip_metrics_server *metrics_server;
    ccip_db *metrics_db;         /* the metrics thread's own connection */
    ccip_client *metrics_client; /* and its own bus client (/readyz) */
};

/* ---- configuration ---------------------------------------------------- */

#define BASE(field) offsetof(ccip_service_config, field)

static const ccip_config_field s_base_fields[] = {
    {"instance", CCIP_CFG_STRING, BASE(instance), 1, 63, NULL, "CCIP_INSTANCE",
     "a replica name such as intake-1"},
    {"log.level", CCIP_CFG_STRING, BASE(log_level), 1, 5, "info", "CCIP_LOG_LEVEL",
     "one of debug, info, warn, error"},
    {"db.host", CCIP_CFG_STRING, BASE(db_host), 1, 255, "127.0.0.1", "CCIP_DB_HOST", NULL},
    {"db.port", CCIP_CFG_INT, BASE(db_port), 1, 65535, "5432", "CCIP_DB_PORT", NULL},
    {"db.name", CCIP_CFG_STRING, BASE(db_name), 1, 63, "ccip", "CCIP_DB_NAME", NULL},
    {"db.user", CCIP_CFG_STRING, BASE(db_user), 1, 63, NULL, "CCIP_DB_USER",
     "the service's own role, e.g. ccip_intake"},
    {"db.password", CCIP_CFG_STRING, BASE(db_password), 0, 255, "", "CCIP_DB_PASSWORD",
     "the role's password; set CCIP_DB_PASSWORD rather than writing it here"},
    {"db.owner_user", CCIP_CFG_STRING, BASE(db_owner_user), 0, 63, "", "CCIP_DB_OWNER_USER",
     "the schema's owner role, e.g. ccip_intake_owner, used only for migrations; \"\" when "
     "db.user owns the schema"},
    {"db.owner_password", CCIP_CFG_STRING, BASE(db_owner_password), 0, 255, "",
     "CCIP_DB_OWNER_PASSWORD",
     "the owner role's password; set CCIP_DB_OWNER_PASSWORD rather than writing it here"},
    {"bus.command_endpoint", CCIP_CFG_STRING, BASE(bus_command_endpoint), 6, 255,
     "tcp://127.0.0.1:5555", "CCIP_BUS_COMMANDS", NULL},
    {"bus.publish_endpoint", CCIP_CFG_STRING, BASE(bus_publish_endpoint), 6, 255,
     "tcp://127.0.0.1:5556", "CCIP_BUS_PUBLISH", NULL},
    {"bus.subscribe_endpoint", CCIP_CFG_STRING, BASE(bus_subscribe_endpoint), 6, 255,
     "tcp://127.0.0.1:5557", "CCIP_BUS_SUBSCRIBE", NULL},
    {"curve.key_file", CCIP_CFG_STRING, BASE(key_file), 1, 1023, NULL, "CCIP_CURVE_KEY_FILE",
     "the path of this service's .key file (ccipctl keygen)"},
    {"curve.server_key_file", CCIP_CFG_STRING, BASE(server_key_file), 1, 1023, NULL,
     "CCIP_CURVE_SERVER_KEY_FILE", "the path of the bus's .pub file"},
    {"limits.max_message_bytes", CCIP_CFG_INT, BASE(max_message_bytes), 1024, 64 * 1024 * 1024,
     "4194304", NULL, NULL},
    {"service.workers", CCIP_CFG_INT, BASE(workers), 1, 64, "8", "CCIP_WORKERS",
     "commands this replica has in hand at once"},
    {"service.db_connections", CCIP_CFG_INT, BASE(db_connections), 1, 64, "2",
     "CCIP_DB_CONNECTIONS", "database connections the commands in hand share"},
    {"service.batch_max", CCIP_CFG_INT, BASE(batch_max), 1, 64, "32", "CCIP_BATCH_MAX",
     "most commands committed together in one transaction (1: one transaction each)"},
    {"service.batch_wait_us", CCIP_CFG_INT, BASE(batch_wait_us), 0, 100000, "0",
     "CCIP_BATCH_WAIT_US",
     "microseconds a batch waits for more commands before it starts (0: never waits)"},
    {"commands.retention_hours", CCIP_CFG_INT, BASE(command_retention_hours), 1, 24 * 365, "168",
     NULL, "hours a command's stored reply answers a retry with the same command id"},
    {"outbox.retention_hours", CCIP_CFG_INT, BASE(retention_hours), 1, 24 * 365 * 10, "720",
     "CCIP_OUTBOX_RETENTION_HOURS",
     "hours published events stay in the outbox before they move to its archive (replays "
     "serve both)"},
    {"metrics.listen", CCIP_CFG_STRING, BASE(metrics_listen), 0, 255, "", "CCIP_METRICS_LISTEN",
     "host:port serving /metrics, /healthz and /readyz, e.g. 127.0.0.1:9101 (empty: none); "
     "for the operators' network only"},
};
#define NBASE (sizeof s_base_fields / sizeof s_base_fields[0])

/* One table for the whole file: the base fields, then the service's. */
static ccip_config_field *s_fields(const ccip_service_def *def, size_t *n)
{
    *n = NBASE + def->nconfig_fields;
    ccip_config_field *all = calloc(*n, sizeof *all);
    if (!all)
        return NULL;
    memcpy(all, s_base_fields, sizeof s_base_fields);
    if (def->nconfig_fields)
        memcpy(all + NBASE, def->config_fields, def->nconfig_fields * sizeof *all);
    return all;
}

/* Packs the reply for cmd into a malloc'd buffer. */
static int s_pack_reply(ccip_service *svc, ccip_command *cmd, uint8_t **buf, size_t *len)
{
    Ccip__Envelope reply;
    ccip_envelope_reply_init(&reply, cmd->req, cmd->status,
                             cmd->status == CCIP__STATUS__OK ? NULL : cmd->error);
    if (cmd->case_id[0])
        reply.correlation_id = cmd->case_id; /* the caller learns the case it acted on */
    reply.source_service = (char *)svc->def->name;
    reply.source_instance = svc->base->instance;
    reply.occurred_at_us = ccip_now_us();
    reply.actor_id = (char *)cmd->actor.id;
    reply.actor_role = (char *)cmd->actor.role;
    if (cmd->status == CCIP__STATUS__OK) {
        reply.payload.data = cmd->payload;
        reply.payload.len = cmd->payload_len;
    }
    return ccip_envelope_pack_buf(&reply, buf, len);
}

/* ---- built-in commands ------------------------------------------------ */

/* The head and its chain hash, from one row: ip anchors the pair. */
static const ccip_db_stmt S_HEAD = {"ccip_outbox_head",
                                    "SELECT head, encode(head_hash, 'hex') FROM outbox_state"};

static int s_ping(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)a;
    (void)request;
    ccip_service *svc = cmd->service;
    Ccip__PingReply ping = CCIP__PING_REPLY__INIT;
    ping.service = (char *)svc->def->name;
    ping.instance = svc->base->instance;
    ping.version = CCIP_VERSION;
    ping.started_at_us = svc->started_us;
    ccip_batcher_counts(svc->batcher, &ping.commands_run, &ping.batches_committed);
    PGresult *res = NULL;
    uint8_t head_hash[CCIP_CHAIN_HASH_LEN];
    if (ccip_db_exec(cmd->db, &S_HEAD, 0, NULL, NULL, NULL, &res) == CCIP_DB_OK &&
        PQntuples(res) == 1) {
        ping.outbox_head = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        const char *hex = PQgetvalue(res, 0, 1);
        int ok = strlen(hex) == CCIP_CHAIN_HASH_HEX;
        for (size_t i = 0; ok && i < CCIP_CHAIN_HASH_LEN; i++) {
            unsigned v;
            ok = sscanf(hex + 2 * i, "%2x", &v) == 1;
            head_hash[i] = (uint8_t)v;
        }
        if (ok) {
            ping.outbox_head_hash.data = head_hash;
            ping.outbox_head_hash.len = sizeof head_hash;
        }
    }
    PQclear(res);
    /* Each consumer's standing, so that a stopped one is visible
     * (ccip_consumer.h: a producer restored alone). */
    size_t n = svc->consumers ? svc->def->nsubscriptions : 0;
    Ccip__ConsumerStatus *st = calloc(n + 1, sizeof *st);
    Ccip__ConsumerStatus **stp = calloc(n + 1, sizeof *stp);
    ccip_consumer_stats *cs = calloc(n + 1, sizeof *cs);
    if (!st || !stp || !cs)
        n = 0;
    for (size_t i = 0; i < n && svc->consumers[i]; i++) {
        ccip__consumer_status__init(&st[i]);
        ccip_consumer_stats_get(svc->consumers[i], &cs[i]);
        st[i].producer = (char *)ccip_consumer_producer(svc->consumers[i]);
        st[i].cursor = cs[i].cursor;
        st[i].producer_head = cs[i].producer_head;
        st[i].applied = cs[i].applied;
        st[i].stalled = cs[i].stalled;
        st[i].stalled_reason = cs[i].stalled_reason;
        stp[i] = &st[i];
        ping.n_consumers = i + 1;
    }
    ping.consumers = stp;
    int rc = ccip_command_reply(cmd, &ping.base);
    free(cs);
    free(stp);
    free(st);
    return rc;
}

/* ccip.consumer.reset.v1: an operator moves this service's cursor of one
 * producer and so resumes a consumer that stopped (ccip_consumer.h), e.g.
 * after that producer alone was restored to an earlier point. */
static int s_consumer_reset(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)a;
    const ccip_service_def *def = cmd->service->def;
    Ccip__ConsumerResetRequest *rq = request;
    char consumed[256] = "";
    size_t i = 0;
    for (; i < def->nsubscriptions; i++)
        if (strcmp(def->subscriptions[i].producer, rq->producer) == 0)
            break;
    for (size_t k = 0; k < def->nsubscriptions; k++)
        snprintf(consumed + strlen(consumed), sizeof consumed - strlen(consumed), "%s%s",
                 consumed[0] ? ", " : "", def->subscriptions[k].producer);
    int rc;
    ccip_consumer_reset_result r;
    char err[CCIP_COMMAND_ERROR_MAX];
    if (i == def->nsubscriptions) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "%s consumes no events of \"%s\"; it consumes: %s", def->name,
                               rq->producer, consumed[0] ? consumed : "none");
    } else if (!rq->confirm) {
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "resetting %s's cursor of %s to %llu re-applies the events after it, or never applies "
            "those it jumps over: send it again with `confirm` set (ccipctl: --confirm)",
            def->name, rq->producer, (unsigned long long)rq->to_position);
    } else if ((rc = ccip_consumer_reset_cursor(cmd->db, rq->producer, rq->to_position, &r, err,
                                                sizeof err)) != 0) {
        if (rc > 0 || rq->to_position > (uint64_t)INT64_MAX)
            rc = ccip_command_fail(
                cmd, rc > 0 ? CCIP__STATUS__NOT_FOUND : CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    } else {
        char from[24], to[24];
        snprintf(from, sizeof from, "%llu", (unsigned long long)r.from);
        snprintf(to, sizeof to, "%llu", (unsigned long long)rq->to_position);
        ccip_log_warn("an operator reset a consumer's cursor", "producer", rq->producer, "from",
                      from, "to", to, "was_stalled", r.was_stalled ? "yes" : "no", "actor",
                      cmd->actor.id, "command", cmd->req->id);
        Ccip__ConsumerResetReply reply = CCIP__CONSUMER_RESET_REPLY__INIT;
        reply.producer = rq->producer;
        reply.from_position = r.from;
        reply.to_position = rq->to_position;
        reply.was_stalled = r.was_stalled;
        reply.stalled_reason = r.stalled_reason;
        rc = ccip_command_reply(cmd, &reply.base);
    }
    return rc;
}

/* Whether the caller may read this service's whole stream: a service key
 * bound to one of its consumers, or an admin key. The stream holds every
 * organisation's data, so nobody else may, whatever role they claim. */
static int s_replay_allowed(const ccip_command *cmd)
{
    const ccip_service_def *def = cmd->service->def;
    const char *kind = cmd->actor.kind ? cmd->actor.kind : "";
    if (strcmp(kind, "admin") == 0)
        return 1;
    if (strcmp(kind, "service") == 0 && cmd->actor.service)
        for (const char *const *c = def->consumers; c && *c; c++)
            if (strcmp(*c, cmd->actor.service) == 0)
                return 1;
    return 0;
}

/* Refuses a replay to a caller s_replay_allowed does not allow. Returns
 * CCIP_REPLIED. */
static int s_replay_deny(ccip_command *cmd)
{
    char list[256] = "";
    for (const char *const *c = cmd->service->def->consumers; c && *c; c++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? ", " : "", *c);
    return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                             "ccip.replay.v1 on %s answers only the services that consume its "
                             "events (%s) and admin keys; key %s is neither",
                             cmd->service->def->name, list[0] ? list : "none",
                             cmd->actor.peer ? cmd->actor.peer : "?");
}

static int s_replay(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)a;
    /* s_handle refused the others before the batch; checked again here,
     * where the stream is read. */
    if (!s_replay_allowed(cmd))
        return s_replay_deny(cmd);
    if (strcmp(cmd->actor.kind ? cmd->actor.kind : "", "admin") == 0)
        ccip_log_info("event replay for an admin key", "peer", cmd->actor.peer, "command",
                      cmd->req->id);
    Ccip__ReplayRequest *rq = request;
    uint64_t from = rq->from_position;
    uint32_t max = rq->max_events ? rq->max_events : REPLAY_MAX_DEFAULT;
    if (from == 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `from_position` must be 1 or more (positions start at 1)");
    if (max > REPLAY_MAX_LIMIT)
        max = REPLAY_MAX_LIMIT;
    ccip_outbox_batch *batch = NULL;
    char err[300];
    /* Half the message cap leaves room for the reply's own envelope. */
    size_t max_bytes = (size_t)cmd->service->base->max_message_bytes / 2;
    int rc = ccip_outbox_read(cmd->db, cmd->service->def->name, from, max, max_bytes, &batch, err,
                              sizeof err);
    if (rc == CCIP_OUTBOX_PRUNED) {
        ccip_outbox_batch_destroy(&batch);
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION, "%s", err);
    }
    if (rc != CCIP_OUTBOX_OK)
        return rc;
    Ccip__ReplayReply reply;
    ccip_outbox_batch_replay_reply(batch, &reply);
    rc = ccip_command_reply(cmd, &reply.base);
    ccip_outbox_batch_destroy(&batch);
    return rc;
}

/* ccip.archive.import.v1: an export put back into the archive, its chain
 * checked against what is stored on either side (ccip_outbox.h). */
static int s_archive_import(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)a;
    Ccip__ArchiveImportRequest *rq = request;
    const char *name = cmd->service->def->name;
    /* an operator's admin key, as for replaying a whole stream */
    if (strcmp(cmd->actor.kind ? cmd->actor.kind : "", "admin") != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "ccip.archive.import.v1 answers only admin keys (an operator's, "
                                 "made by ccipctl keygen --admin); key %s is none",
                                 cmd->actor.peer ? cmd->actor.peer : "?");
    for (size_t i = 0; i < rq->n_events; i++)
        if (!rq->events[i]->source_service || strcmp(rq->events[i]->source_service, name) != 0)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "event %zu is %s's, not %s's: import an export of %s's "
                                     "stream here",
                                     i, rq->events[i]->source_service, name, name);
    uint64_t imported = 0, already = 0;
    char err[600];
    int rc = ccip_outbox_archive_import(cmd->db, (const Ccip__Envelope *const *)rq->events,
                                        rq->n_events, &imported, &already, err, sizeof err);
    if (rc == CCIP_OUTBOX_REFUSED)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION, "nothing was imported: %s",
                                 err);
    if (rc == CCIP_OUTBOX_ERROR && err[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "%s", err);
    if (rc != 0)
        return rc;
    char n[24];
    snprintf(n, sizeof n, "%" PRIu64, imported);
    ccip_log_info("events imported into the archive", "peer", cmd->actor.peer, "events", n);
    Ccip__ArchiveImportReply reply = CCIP__ARCHIVE_IMPORT_REPLY__INIT;
    reply.imported = imported;
    reply.already = already;
    return ccip_command_reply(cmd, &reply.base);
}

/* ccip.audit.verify.v1: the chain recomputed next to the data (an admin
 * key: the stream holds every organisation's data, as for replay). */
static int s_audit_verify(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)a;
    Ccip__AuditVerifyRequest *rq = request;
    if (strcmp(cmd->actor.kind ? cmd->actor.kind : "", "admin") != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "ccip.audit.verify.v1 answers only admin keys (an operator's, "
                                 "made by ccipctl keygen --admin); key %s is none",
                                 cmd->actor.peer ? cmd->actor.peer : "?");
    if (rq->from_position == 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `from_position` must be 1 or more (positions start at 1)");
    if (rq->to_position && rq->to_position < rq->from_position)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `to_position` (%" PRIu64
                                 ") is below `from_position` (%" PRIu64
                                 "): send 0 for the head, or a position at or after the first",
                                 rq->to_position, rq->from_position);
    const uint8_t *prev = ccip_chain_genesis;
    if (rq->expected_prev.len == CCIP_CHAIN_HASH_LEN)
        prev = rq->expected_prev.data;
    else if (rq->expected_prev.len != 0 || rq->from_position != 1)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `expected_prev` must be the 32-byte hash at position "
                                 "%" PRIu64 " (empty only from position 1); it has %zu bytes",
                                 rq->from_position - 1, rq->expected_prev.len);
    if (rq->n_hashes_at > CCIP_CHAIN_VERIFY_HASHES_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `hashes_at` names %zu positions, more than %d: ask for "
                                 "the rest in the next request",
                                 rq->n_hashes_at, CCIP_CHAIN_VERIFY_HASHES_MAX);
    for (size_t i = 1; i < rq->n_hashes_at; i++)
        if (rq->hashes_at[i] <= rq->hashes_at[i - 1])
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `hashes_at` must be in ascending order without "
                                     "repeats (item %zu is %" PRIu64 " after %" PRIu64 ")",
                                     i, rq->hashes_at[i], rq->hashes_at[i - 1]);
    ccip_outbox_verify_result *r = malloc(sizeof *r);
    if (!r)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    char err[600];
    /* A quarter of a second's work per command (reads run before the
     * mutating commands of their batch, which wait for them): the caller
     * asks again from where it stopped, and the others go in between. */
    int rc = ccip_outbox_verify(cmd->db, rq->from_position, rq->to_position, prev, rq->max_events,
                                AUDIT_VERIFY_BUDGET_US, rq->hashes_at, rq->n_hashes_at, r, err,
                                sizeof err);
    if (rc != CCIP_OUTBOX_OK) {
        free(r);
        if (rc == CCIP_OUTBOX_ERROR && err[0])
            return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "%s", err);
        return rc;
    }
    Ccip__AuditVerifyReply reply = CCIP__AUDIT_VERIFY_REPLY__INIT;
    Ccip__PositionHash hv[CCIP_CHAIN_VERIFY_HASHES_MAX], *hp[CCIP_CHAIN_VERIFY_HASHES_MAX];
    reply.verified = r->verified;
    reply.head = r->head;
    reply.hash.data = r->hash;
    reply.hash.len = CCIP_CHAIN_HASH_LEN;
    reply.broken_at = r->broken_at;
    reply.reason = r->reason;
    for (size_t i = 0; i < r->n_hashes; i++) {
        ccip__position_hash__init(&hv[i]);
        hv[i].position = r->hashes[i].position;
        hv[i].hash.data = r->hashes[i].hash;
        hv[i].hash.len = CCIP_CHAIN_HASH_LEN;
        hp[i] = &hv[i];
    }
    reply.n_hashes = r->n_hashes;
    reply.hashes = hp;
    rc = ccip_command_reply(cmd, &reply.base);
    free(r);
    return rc;
}

static const char *const s_admin_only[] = {"admin", NULL};

static const ccip_command_handler s_builtin[] = {
    {"ccip.ping.v1", 0, NULL, s_ping, NULL, &ccip__ping_request__descriptor,
     &ccip__ping_reply__descriptor},
    /* No role list: who may replay is decided by the caller's key (s_replay_allowed). */
    {"ccip.replay.v1", 0, NULL, s_replay, NULL, &ccip__replay_request__descriptor,
     &ccip__replay_reply__descriptor},
    {"ccip.consumer.reset.v1", 1, s_admin_only, s_consumer_reset, NULL,
     &ccip__consumer_reset_request__descriptor, &ccip__consumer_reset_reply__descriptor},
    /* No role list: the caller's key decides (s_archive_import). */
    {"ccip.archive.import.v1", 1, NULL, s_archive_import, NULL,
     &ccip__archive_import_request__descriptor, &ccip__archive_import_reply__descriptor},
    /* No role list: the caller's key decides (s_audit_verify). Read-only. */
    {"ccip.audit.verify.v1", 0, NULL, s_audit_verify, NULL, &ccip__audit_verify_request__descriptor,
     &ccip__audit_verify_reply__descriptor},
};

/* ---- dispatch --------------------------------------------------------- */

static const ccip_command_handler *s_find(const ccip_service_def *def, const char *type)
{
    for (size_t i = 0; i < sizeof s_builtin / sizeof s_builtin[0]; i++)
        if (strcmp(s_builtin[i].type, type) == 0)
            return &s_builtin[i];
    for (size_t i = 0; i < def->ncommands; i++)
        if (strcmp(def->commands[i].type, type) == 0)
            return &def->commands[i];
    return NULL;
}

static int s_role_allowed(const ccip_command_handler *h, const char *role)
{
    if (!h->roles)
        return 1;
    for (const char *const *r = h->roles; *r; r++)
        if (strcmp(*r, role) == 0)
            return 1;
    return 0;
}

/* The batcher's way to pack a reply (ccip_batch_pack_fn). */
static int s_pack_command_reply(ccip_command *cmd, uint8_t **buf, size_t *len)
{
    return s_pack_reply(cmd->service, cmd, buf, len);
}

/* Counts an answered command and how long it took (t0: its receipt). The
 * type label is the handler's: a type nobody serves is "unknown", so what a
 * caller sends never makes a new series. */
static void s_record(ccip_service *svc, const ccip_command_handler *h, Ccip__Status status,
                     int64_t t0)
{
    char labels[CCIP_METRICS_LABELS_MAX];
    const char *type = h ? h->type : "unknown";
    ccip_metric_add(svc->m_commands,
                    ccip_metrics_labels(labels, sizeof labels, "type", type, "status",
                                        ccip_status_name(status), (const char *)NULL),
                    1);
    ccip_metric_observe(
        svc->m_duration,
        ccip_metrics_labels(labels, sizeof labels, "type", type, (const char *)NULL),
        ccip_metrics_now_us() - t0);
}

static void s_send(s_thread *th, const ccip_request *req, ccip_command *cmd)
{
    ccip_service *svc = th->svc;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (s_pack_reply(svc, cmd, &buf, &len) == 0)
        ccip_worker_reply(th->worker, req, buf, len);
    free(buf);
}

/* Fills cmd->actor from what the bus verified of the caller's key
 * (ccip_mdp.h). Returns 0, or -1 when the bus said nothing usable. The
 * buffers hold the strings the actor points to. */
static int s_actor(ccip_command *cmd, const ccip_request *req, char *id, size_t idlen, char *role,
                   size_t rolelen)
{
    const Ccip__Envelope *env = req->envelope;
    cmd->actor.peer = req->peer;
    cmd->actor.kind = req->kind;
    cmd->actor.service = "";
    if (strcmp(req->kind, "service") == 0) {
        /* A service key speaks as its service, whatever its envelope claims. */
        snprintf(id, idlen, "service:%s", req->bound);
        cmd->actor.id = id;
        cmd->actor.role = "service";
        cmd->actor.service = req->bound;
    } else if (strcmp(req->kind, "front-door") == 0) {
        /* The bus checked the claims against the key's binding; a key bound
         * to one person that claims nothing acts as that person, in the
         * first of its roles. */
        cmd->actor.id = env->actor_id;
        cmd->actor.role = env->actor_role;
        if (req->bound[0] && !env->actor_id[0])
            cmd->actor.id = req->bound;
        if (req->bound[0] && !env->actor_role[0]) {
            snprintf(role, rolelen, "%.*s", (int)strcspn(req->roles, ","), req->roles);
            cmd->actor.role = role;
        }
    } else if (strcmp(req->kind, "admin") == 0) {
        snprintf(id, idlen, "admin:%s", req->peer);
        cmd->actor.id = id;
        cmd->actor.role = "admin";
    } else if (strcmp(req->kind, CCIP_MDP_KIND_LOCAL) == 0) {
        /* A broker without a key registry (unit tests). */
        snprintf(id, idlen, "service:%s", req->peer);
        cmd->actor.id = id;
        cmd->actor.role = "service";
    } else {
        cmd->actor.id = "";
        cmd->actor.role = "";
        return -1;
    }
    return 0;
}

static void s_handle(s_thread *th, const ccip_request *req)
{
    ccip_service *svc = th->svc;
    const Ccip__Envelope *env = req->envelope;
    int64_t t0 = ccip_metrics_now_us();
    ccip_command cmd = {.service = svc, .req = env};
    char actor_id[CCIP_KEY_PERSON_MAX + 16], actor_role[CCIP_KEY_ROLE_MAX];
    int known = s_actor(&cmd, req, actor_id, sizeof actor_id, actor_role, sizeof actor_role);

    const ccip_command_handler *h = s_find(svc->def, env->type);
    size_t plen = strlen(CCIP_SCHEDULE_ID_PREFIX);
    if (known < 0) {
        ccip_command_fail(&cmd, CCIP__STATUS__PERMISSION_DENIED,
                          "the bus did not say what key %s may do (key kind \"%s\"); the bus and "
                          "the services must run the same version",
                          req->peer, req->kind);
    } else if (env->deadline_us && env->deadline_us < ccip_now_us()) {
        ccip_command_fail(&cmd, CCIP__STATUS__DEADLINE_EXCEEDED,
                          "the command's deadline passed before %s could start it; send it "
                          "again with a later deadline",
                          svc->def->name);
    } else if (!h) {
        ccip_command_fail(&cmd, CCIP__STATUS__INVALID_ARGUMENT,
                          "unknown command type %s for service %s", env->type, svc->def->name);
    } else if (strncmp(env->id, CCIP_SCHEDULE_ID_PREFIX, plen) == 0) {
        ccip_command_fail(&cmd, CCIP__STATUS__PERMISSION_DENIED,
                          "command ids starting with \"%s\" belong to %s's own scheduled runs; "
                          "send the command under a new UUID",
                          CCIP_SCHEDULE_ID_PREFIX, svc->def->name);
    } else if (strlen(env->id) > CCIP_COMMAND_ID_MAX) {
        ccip_command_fail(&cmd, CCIP__STATUS__INVALID_ARGUMENT,
                          "a command id is at most %d bytes, this one has %zu; use a UUID",
                          CCIP_COMMAND_ID_MAX, strlen(env->id));
    } else if (!s_role_allowed(h, cmd.actor.role)) {
        ccip_command_fail(&cmd, CCIP__STATUS__PERMISSION_DENIED, "role \"%s\" may not run %s",
                          cmd.actor.role, env->type);
    } else if (h->fn == s_replay && !s_replay_allowed(&cmd)) {
        /* Here, not in the batch: a refused caller takes no seat in a
         * transaction (scripts/bench hostile measured what seats cost). */
        s_replay_deny(&cmd);
    } else if (h->mutating && !env->id[0]) {
        ccip_command_fail(&cmd, CCIP__STATUS__INVALID_ARGUMENT,
                          "a command must carry its command id in the envelope's `id`");
    } else if (ccip_command_check_strings(&cmd, h->request) == 0) {
        /* Every string was checked once, as the handler's request message
         * (never NULL: ccip_service_def_check), before any handler reads
         * the payload (ccip_wire.h); a refusal is sent below. Run with
         * whatever else the replica has in hand (ccip_service_batch). */
        uint8_t *reply = NULL;
        size_t reply_len = 0;
        if (ccip_batcher_run(svc->batcher, &cmd, h, &reply, &reply_len) == 0) {
            if (cmd.status != CCIP__STATUS__OK)
                ccip_log_info("command refused", "type", env->type, "peer", req->peer, "status",
                              ccip_status_name(cmd.status), "reason", cmd.error);
            ccip_worker_reply(th->worker, req, reply, reply_len);
            free(reply);
            s_record(svc, h, cmd.status, t0);
            ccip_command_reset_reply(&cmd);
            return;
        }
        ccip_command_reset_reply(&cmd);
        ccip_command_fail(&cmd, CCIP__STATUS__INTERNAL, "could not run %s: out of memory",
                          env->type);
    }
    if (cmd.status != CCIP__STATUS__OK)
        ccip_log_info("command refused", "type", env->type, "peer", req->peer, "status",
                      ccip_status_name(cmd.status), "reason", cmd.error);
    s_send(th, req, &cmd);
    s_record(svc, h, cmd.status, t0);
    ccip_command_reset_reply(&cmd);
}

/* A worker thread: one command at a time until shutdown is asked for. The
 * command in hand is always finished and answered. */
static void *s_thread_run(void *arg)
{
    s_thread *th = arg;
    while (!ccip_shutdown_requested()) {
        ccip_request req;
        int rc = ccip_worker_recv(th->worker, POLL_MS, &req);
        if (rc < 0)
            break;
        if (rc == 1) {
            s_handle(th, &req);
            ccip_request_release(&req);
        }
    }
    return NULL;
}

/* ---- housekeeping ------------------------------------------------------ */

#define PRUNE_EVERY_US (10LL * 60 * 1000000) /* how often old stored replies go */
#define PRUNE_BATCH    "10000"               /* rows per statement: short locks */

static const ccip_db_stmt S_LOG_PRUNE = {
    "ccip_command_log_prune",
    "DELETE FROM command_log WHERE command_id IN (SELECT command_id FROM command_log "
    "WHERE created_at < now() - make_interval(hours => $1::int) LIMIT " PRUNE_BATCH ")"};

/* Deletes stored replies older than the retention. A retry arrives within
 * seconds; the retention only has to outlast the longest outage a client
 * keeps retrying through. Every replica does it; the deletes are idempotent. */
static void s_prune_command_log(ccip_service *svc)
{
    char hours[24];
    snprintf(hours, sizeof hours, "%lld", (long long)svc->base->command_retention_hours);
    const char *values[] = {hours};
    if (ccip_db_ensure(svc->db, 1000) < 0 ||
        ccip_db_exec(svc->db, &S_LOG_PRUNE, 1, values, NULL, NULL, NULL) != CCIP_DB_OK)
        ccip_log_warn("could not prune the command log; will try again", "reason",
                      ccip_db_error(svc->db));
}

/* ---- start-up and shutdown -------------------------------------------- */

/* Appends key='value' to a libpq conninfo string, quoting the value as libpq
 * wants (a password may hold spaces or quotes). */
static void s_conninfo_add(char *buf, size_t size, const char *key, const char *value)
{
    size_t n = strlen(buf);
    n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s='", n ? " " : "", key);
    for (const char *p = value; *p && n + 3 < size; p++) {
        if (*p == '\'' || *p == '\\')
            buf[n++] = '\\';
        buf[n++] = *p;
    }
    if (n + 2 <= size) {
        buf[n++] = '\'';
        buf[n] = '\0';
    }
}

static size_t s_count_migrations(const ccip_migration *list)
{
    size_t n = 0;
    while (list && list[n].version != 0)
        n++;
    return n;
}

/* ---- scheduled commands ------------------------------------------------ */

static int64_t s_period(const ccip_service *svc, const ccip_schedule *sch)
{
    int64_t v;
    memcpy(&v, (const char *)svc->config + sch->every_offset, sizeof v);
    return v;
}

int ccip_service_def_check(const ccip_service_def *def, char *err, size_t errlen)
{
    const char *why = NULL;
    const ccip_command_handler *h = NULL;
    for (size_t i = 0; !why && i < def->ncommands; i++) {
        h = &def->commands[i];
        if (!h->type || !h->type[0])
            why = "names no type";
        else if (!h->fn && !(h->batch_fn && h->mutating))
            /* A batch-only line runs its batch handler with n = 1. */
            why = "names no handler (a line names its handler, or a batch handler when it "
                  "mutates)";
        else if (!h->request)
            /* The skeleton checks every string of the payload as this
             * message before the handler runs (ccip_wire.h): without it
             * nothing would be checked, so the service does not start. */
            why = "names no request message (`request`, e.g. CCIP_MSG(pkg, name_request)), so "
                  "its payload's strings could not be checked before it runs";
        else if (h->batch_fn && !h->mutating)
            why = "has a batch handler but does not mutate (batches are transactions)";
        for (size_t k = 0; !why && k < sizeof s_builtin / sizeof s_builtin[0]; k++)
            if (strcmp(h->type, s_builtin[k].type) == 0)
                why = "is a built-in command of every service";
        for (size_t k = 0; !why && k < i; k++)
            if (strcmp(h->type, def->commands[k].type) == 0)
                why = "is listed twice";
    }
    if (!why)
        return 0;
    snprintf(err, errlen,
             "command %s of service %s %s: a programming error in its definition table, fix "
             "that line",
             h->type && h->type[0] ? h->type : "(no type)", def->name, why);
    return -1;
}

static int s_check_schedules(const ccip_service *svc, char *err, size_t errlen)
{
    for (size_t i = 0; i < svc->def->nschedules; i++) {
        const ccip_schedule *sch = &svc->def->schedules[i];
        const ccip_command_handler *h = s_find(svc->def, sch->type);
        if (!h || !h->mutating) {
            snprintf(err, errlen,
                     "scheduled command %s is not a mutating command of %s (a programming "
                     "error in its service definition)",
                     sch->type, svc->def->name);
            return -1;
        }
        if (s_period(svc, sch) < 0) {
            snprintf(err, errlen, "the period of scheduled command %s must be 0 (off) or more",
                     sch->type);
            return -1;
        }
    }
    return 0;
}

/* Runs one scheduled command for the period starting at `slot` (UTC s). */
static void s_run_scheduled(ccip_service *svc, const ccip_schedule *sch, int64_t slot)
{
    char id[200], actor[96];
    snprintf(id, sizeof id, "%s%s@%lld", CCIP_SCHEDULE_ID_PREFIX, sch->type, (long long)slot);
    snprintf(actor, sizeof actor, "system:%s", svc->base->instance);
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = (char *)sch->type;
    env.occurred_at_us = ccip_now_us();
    ccip_command cmd = {.service = svc, .req = &env};
    cmd.actor.id = actor;
    cmd.actor.role = "system";
    cmd.actor.peer = svc->def->name;
    cmd.actor.kind = "system";
    cmd.actor.service = svc->def->name;
    const ccip_command_handler *h = s_find(svc->def, sch->type);
    cmd.checked_as = h->request; /* an empty payload: no string to check */
    uint8_t *reply = NULL;
    size_t len = 0;
    int64_t t0 = ccip_metrics_now_us();
    int rc = ccip_batcher_run(svc->batcher, &cmd, h, &reply, &len);
    s_record(svc, h, cmd.status, t0);
    if (rc < 0 || cmd.status != CCIP__STATUS__OK)
        ccip_log_warn("a scheduled command did not succeed; it runs again next period", "type",
                      sch->type, "status", ccip_status_name(cmd.status), "reason",
                      cmd.error[0] ? cmd.error : "out of memory");
    free(reply);
    ccip_command_reset_reply(&cmd);
}

/* Runs the scheduled commands whose next period has begun. next[i] holds
 * the start of the next period to run (0: not yet known). */
static void s_run_schedules(ccip_service *svc, int64_t *next)
{
    int64_t now = ccip_now_us() / 1000000;
    for (size_t i = 0; i < svc->def->nschedules; i++) {
        const ccip_schedule *sch = &svc->def->schedules[i];
        int64_t every = s_period(svc, sch);
        if (every <= 0)
            continue;
        if (next[i] == 0) /* the first whole period after start-up */
            next[i] = (now / every + 1) * every;
        if (now < next[i])
            continue;
        s_run_scheduled(svc, sch, now / every * every);
        next[i] = (now / every + 1) * every;
    }
}

/* ---- metrics ----------------------------------------------------------- */

#define READY_TIMEOUT_MS 1000 /* how long /readyz waits for the database or the bus */

static const ccip_db_stmt S_RELAY_LAG = {
    "ccip_metrics_relay_lag",
    "SELECT count(*), coalesce((extract(epoch FROM now() - min(created_at)) * 1000000)::bigint, 0) "
    "FROM outbox WHERE position IS NULL"};

/* The registry and the families every service has. Returns 0 or -1. */
static int s_metrics_new(ccip_service *svc)
{
    ccip_metrics *m = svc->metrics = ccip_metrics_new();
    if (!m)
        return -1;
    svc->m_commands =
        ccip_metrics_counter(m, "ccip_commands_total", "commands answered, by type and status");
    svc->m_duration = ccip_metrics_histogram(
        m, "ccip_command_duration_seconds", "from a command's receipt to its answer, by type",
        ccip_metrics_latency_us, ccip_metrics_latency_n, 1000000);
    svc->m_batch =
        ccip_metrics_histogram(m, "ccip_batch_size", "commands run in one batch (one transaction)",
                               ccip_batch_size_bounds, CCIP_BATCH_SIZE_BOUNDS, 1);
    svc->m_dbs = ccip_metrics_gauge(m, "ccip_db_connections",
                                    "the command slots' database connections, by state", 1);
    svc->m_unpublished =
        ccip_metrics_gauge(m, "ccip_relay_unpublished_events",
                           "events in the outbox the relay has not numbered yet", 1);
    svc->m_relay_lag =
        ccip_metrics_gauge(m, "ccip_relay_lag_seconds",
                           "age of the oldest event the relay has not numbered yet", 1000000);
    svc->m_published = ccip_metrics_counter(m, "ccip_relay_published_total",
                                            "events this replica's relay published");
    svc->m_leader = ccip_metrics_gauge(m, "ccip_relay_leader",
                                       "1 while this replica's relay is the one that publishes", 1);
    svc->m_consumer_lag = ccip_metrics_gauge(
        m, "ccip_consumer_lag_events",
        "the producer's head as last seen minus the position applied, by producer", 1);
    svc->m_applied = ccip_metrics_counter(m, "ccip_consumer_applied_total",
                                          "events this replica applied, by producer");
    svc->m_stalled =
        ccip_metrics_gauge(m, "ccip_consumer_stalled",
                           "1 when the producer no longer holds the events this consumer needs", 1);
    return 0;
}

/* The metrics thread's connection, made (or mended) on first use. */
static ccip_db *s_metrics_db(ccip_service *svc)
{
    char err[300];
    if (!svc->metrics_db && !(svc->metrics_db = ccip_db_new(svc->conninfo, err, sizeof err)))
        return NULL;
    return ccip_db_ensure(svc->metrics_db, READY_TIMEOUT_MS) == 0 ? svc->metrics_db : NULL;
}

/* Refreshes the gauges that are read, not recorded (on the metrics thread). */
static void s_metrics_collect(void *arg)
{
    ccip_service *svc = arg;
    char labels[CCIP_METRICS_LABELS_MAX];
    ccip_batcher_stats bs;
    ccip_batcher_stats_get(svc->batcher, &bs);
    int64_t sum = (int64_t)bs.commands;
    ccip_metric_set_histogram(svc->m_batch, "", bs.by_size, CCIP_BATCH_SIZE_BOUNDS + 1, sum);
    ccip_metric_set(svc->m_dbs, ccip_metrics_labels(labels, sizeof labels, "state", "busy", NULL),
                    (int64_t)bs.busy);
    ccip_metric_set(svc->m_dbs, ccip_metrics_labels(labels, sizeof labels, "state", "idle", NULL),
                    (int64_t)(bs.connections - bs.busy));
    if (svc->relay) {
        ccip_relay_stats rs;
        ccip_relay_stats_get(svc->relay, &rs);
        ccip_metric_set(svc->m_published, "", (int64_t)rs.published);
        ccip_metric_set(svc->m_leader, "", rs.leader);
    }
    ccip_db *db = s_metrics_db(svc);
    PGresult *res = NULL;
    if (db && ccip_db_exec(db, &S_RELAY_LAG, 0, NULL, NULL, NULL, &res) == CCIP_DB_OK &&
        PQntuples(res) == 1) {
        ccip_metric_set(svc->m_unpublished, "", ccip_db_cell_i64(res, 0, 0));
        ccip_metric_set(svc->m_relay_lag, "", ccip_db_cell_i64(res, 0, 1));
    }
    PQclear(res);
    for (size_t i = 0; svc->consumers && i < svc->def->nsubscriptions; i++) {
        if (!svc->consumers[i])
            continue;
        ccip_consumer_stats cs;
        ccip_consumer_stats_get(svc->consumers[i], &cs);
        ccip_metrics_labels(labels, sizeof labels, "producer", svc->def->subscriptions[i].producer,
                            NULL);
        ccip_metric_set(svc->m_consumer_lag, labels,
                        cs.known_head > cs.cursor ? (int64_t)(cs.known_head - cs.cursor) : 0);
        ccip_metric_set(svc->m_applied, labels, (int64_t)cs.applied);
        ccip_metric_set(svc->m_stalled, labels, cs.stalled);
    }
}

/* /readyz: the database answers on the metrics thread's connection, and a
 * ping through the bus reaches a replica of this service. */
static int s_metrics_ready(void *arg, char *why, size_t whylen)
{
    ccip_service *svc = arg;
    ccip_db *db = s_metrics_db(svc);
    if (!db || ccip_db_command(db, "SELECT 1") != CCIP_DB_OK) {
        snprintf(why, whylen, "the database does not answer: %s",
                 db ? ccip_db_error(db) : "no connection");
        return -1;
    }
    char err[300];
    ccip_sock_opts so = {.keys = &svc->keys,
                         .server_public = svc->server_key,
                         .max_message_bytes = svc->base->max_message_bytes};
    if (!svc->metrics_client &&
        !(svc->metrics_client =
              ccip_client_new(svc->ctx, svc->base->bus_command_endpoint, &so, err, sizeof err))) {
        snprintf(why, whylen, "could not reach the bus: %s", err);
        return -1;
    }
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    Ccip__PingRequest ping = CCIP__PING_REQUEST__INIT;
    uint8_t buf[16];
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = "ccip.ping.v1";
    env.source_service = (char *)svc->def->name;
    env.payload.data = buf;
    env.payload.len = protobuf_c_message_pack(&ping.base, buf);
    Ccip__Envelope *r = ccip_client_call(svc->metrics_client, svc->def->name, &env,
                                         READY_TIMEOUT_MS, 1, err, sizeof err);
    int ok = r && r->status == CCIP__STATUS__OK;
    if (!ok)
        snprintf(why, whylen, "the bus does not answer: %s", r ? r->error : err);
    ccip_envelope_free(&r);
    return ok ? 0 : -1;
}

struct ccip_metrics *ccip_service_metrics(const ccip_service *svc)
{
    return svc ? svc->metrics : NULL;
}

static int s_start(ccip_service *svc, char *err, size_t errlen)
{
    const ccip_service_def *def = svc->def;
    ccip_service_config *b = svc->base;
    if (ccip_keypair_load(b->key_file, &svc->keys, err, errlen) < 0 ||
        ccip_public_key_load(b->server_key_file, svc->server_key, err, errlen) < 0)
        return -1;
    char port[24];
    snprintf(port, sizeof port, "%lld", (long long)b->db_port);
    /* The schema is the service's name; naming it in the connection makes
     * every unqualified table name the service's own. The TCP settings are
     * the server's side of ccip_db's timeouts: after a cut link the server
     * must notice the dead client too, or its backend lives on for the
     * OS's 2 hours of keepalive idle, holding what the session held: the
     * relay's leadership lock, so that no new relay session could number
     * the outbox (test_netcut saw intake's events stop for good after its
     * link was cut for 10 s). */
    char options[256];
    snprintf(options, sizeof options,
             "-csearch_path=%s -ctcp_keepalives_idle=5 -ctcp_keepalives_interval=1 "
             "-ctcp_keepalives_count=3 -ctcp_user_timeout=5000 " CCIP_DB_SESSION_OPTIONS,
             def->name);
    const char *keys[] = {"host",   "port", "dbname", "user", "password", "application_name",
                          "options"};
    const char *vals[] = {b->db_host,     port,        b->db_name, b->db_user,
                          b->db_password, b->instance, options};
    svc->conninfo[0] = '\0';
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        s_conninfo_add(svc->conninfo, sizeof svc->conninfo, keys[i], vals[i]);
    /* Every connection start-up opens waits for the database within one
     * limit: PostgreSQL restarting during the first second must not make
     * the relay's or a consumer's connection the one that ends the
     * process. */
    int64_t give_up = ccip_now_us() + (int64_t)DB_WAIT_MS * 1000;
    if (!(svc->db = ccip_db_new_waiting(svc->conninfo, give_up, err, errlen)))
        return -1;
    /* With an owner role the migrations run as the owner, on a connection
     * of their own closed right after: the runtime role never holds the
     * rights to alter a table (bootstrap.sql, ccip_history). */
    ccip_db *mdb = svc->db;
    if (b->db_owner_user[0]) {
        char owner_info[sizeof svc->conninfo] = "";
        vals[3] = b->db_owner_user;
        vals[4] = b->db_owner_password;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            s_conninfo_add(owner_info, sizeof owner_info, keys[i], vals[i]);
        if (!(mdb = ccip_db_new_waiting(owner_info, give_up, err, errlen)))
            return -1;
    }
    ccip_migrate_result mr;
    int migrated = ccip_migrate_run(mdb, def->name, "ccip", ccip_migrations, ccip_migrations_count,
                                    &mr, err, errlen) == 0 &&
                   ccip_migrate_run(mdb, def->name, def->name, def->migrations,
                                    s_count_migrations(def->migrations), &mr, err, errlen) == 0;
    if (mdb != svc->db)
        ccip_db_destroy(&mdb);
    if (!migrated)
        return -1;
    if (s_metrics_new(svc) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (s_check_schedules(svc, err, errlen) < 0 || (def->start && def->start(svc, err, errlen) < 0))
        return -1;
    svc->def_started = 1;
    svc->ctx = zmq_ctx_new();
    ccip_sock_opts so = {.keys = &svc->keys,
                         .server_public = svc->server_key,
                         .max_message_bytes = b->max_message_bytes};
    ccip_relay_config rc = {
        .zmq_ctx = svc->ctx,
        .conninfo = svc->conninfo,
        .service = def->name,
        .schema = def->name,
        .instance = b->instance,
        .publish_endpoint = b->bus_publish_endpoint,
        .sock_opts = &so,
        .retention_seconds = b->retention_hours * 3600,
        .connect_until_us = give_up,
    };
    if (!(svc->relay = ccip_relay_start(&rc, err, errlen)))
        return -1;
    svc->consumers = calloc(def->nsubscriptions + 1, sizeof *svc->consumers);
    for (size_t i = 0; svc->consumers && i < def->nsubscriptions; i++) {
        ccip_consumer_config cc = {
            .zmq_ctx = svc->ctx,
            .conninfo = svc->conninfo,
            .service = def->name,
            .producer = def->subscriptions[i].producer,
            .subscribe_endpoint = b->bus_subscribe_endpoint,
            .broker_endpoint = b->bus_command_endpoint,
            .sock_opts = &so,
            .handlers = def->subscriptions[i].handlers,
            .nhandlers = def->subscriptions[i].nhandlers,
            .arg = def->arg,
            .connect_until_us = give_up,
        };
        if (!(svc->consumers[i] = ccip_consumer_start(&cc, err, errlen)))
            return -1;
    }
    if (!svc->consumers) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    svc->nthreads = (size_t)b->workers;
    svc->threads = calloc(svc->nthreads, sizeof *svc->threads);
    if (!svc->threads) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t ndbs = (size_t)b->db_connections;
    ccip_db **dbs = calloc(ndbs, sizeof *dbs);
    int ok = dbs != NULL;
    for (size_t i = 0; ok && i < ndbs; i++)
        ok = (dbs[i] = ccip_db_new_waiting(svc->conninfo, give_up, err, errlen)) != NULL;
    if (ok && !(svc->batcher = ccip_batcher_new(dbs, ndbs, (size_t)b->batch_max, b->batch_wait_us,
                                                def->name, s_pack_command_reply))) {
        snprintf(err, errlen, "out of memory");
        ok = 0;
    }
    for (size_t i = 0; dbs && i < ndbs; i++)
        ccip_db_destroy(&dbs[i]); /* none left when the batcher took them */
    free(dbs);
    if (!ok)
        return -1;
    for (size_t i = 0; i < svc->nthreads; i++) {
        s_thread *th = &svc->threads[i];
        th->svc = svc;
        if (!(th->worker =
                  ccip_worker_new(svc->ctx, b->bus_command_endpoint, def->name, &so, err, errlen)))
            return -1;
    }
    /* Threads start only once every connection is made, so a failed
     * start-up never leaves half the workers serving. */
    for (size_t i = 0; i < svc->nthreads; i++) {
        if (pthread_create(&svc->threads[i].thread, NULL, s_thread_run, &svc->threads[i]) != 0) {
            snprintf(err, errlen, "could not start worker thread %zu", i + 1);
            ccip_shutdown_request();
            return -1;
        }
        svc->threads[i].started = 1;
    }
    if (b->metrics_listen[0] && !(svc->metrics_server = ccip_metrics_server_start(
                                      svc->metrics, b->metrics_listen, s_metrics_collect,
                                      s_metrics_ready, svc, err, errlen)))
        return -1;
    if (svc->metrics_server) {
        char mport[16];
        snprintf(mport, sizeof mport, "%d", ccip_metrics_server_port(svc->metrics_server));
        ccip_log_info("serving metrics", "listen", b->metrics_listen, "port", mport);
    }
    return 0;
}

static void s_stop(ccip_service *svc)
{
    /* first: its thread reads the relay, consumers and batcher freed below */
    ccip_metrics_server_stop(&svc->metrics_server);
    ccip_client_destroy(&svc->metrics_client);
    ccip_db_destroy(&svc->metrics_db);
    ccip_shutdown_request(); /* stops the worker threads after their command in hand */
    for (size_t i = 0; svc->threads && i < svc->nthreads; i++) {
        if (svc->threads[i].started)
            pthread_join(svc->threads[i].thread, NULL);
        ccip_worker_destroy(&svc->threads[i].worker);
    }
    free(svc->threads);
    svc->threads = NULL;
    if (svc->def_started && svc->def->stop)
        svc->def->stop(svc);
    svc->def_started = 0;
    if (svc->batcher) {
        uint64_t commands = 0, batches = 0;
        ccip_batcher_counts(svc->batcher, &commands, &batches);
        char c[24], bt[24];
        snprintf(c, sizeof c, "%llu", (unsigned long long)commands);
        snprintf(bt, sizeof bt, "%llu", (unsigned long long)batches);
        ccip_log_info("commands run", "commands", c, "batches", bt);
    }
    ccip_batcher_destroy(&svc->batcher);
    for (size_t i = 0; svc->consumers && i < svc->def->nsubscriptions; i++)
        ccip_consumer_stop(&svc->consumers[i]);
    free(svc->consumers);
    ccip_relay_stop(&svc->relay);
    if (svc->ctx)
        zmq_ctx_term(svc->ctx);
    ccip_db_destroy(&svc->db);
    ccip_metrics_destroy(&svc->metrics);
}

const void *ccip_service_config_get(const ccip_service *svc)
{
    return svc->config;
}

const char *ccip_service_name(const ccip_service *svc)
{
    return svc->def->name;
}

const char *ccip_service_conninfo(const ccip_service *svc)
{
    return svc->conninfo;
}

ccip_replay *ccip_service_replay_open(const ccip_service *svc, int timeout_ms, int attempts,
                                      char *err, size_t errlen)
{
    /* The service's context and keys live as long as the service. */
    ccip_sock_opts so = {.keys = &svc->keys,
                         .server_public = svc->server_key,
                         .max_message_bytes = svc->base->max_message_bytes};
    ccip_replay_config rc = {.service = ccip_service_name(svc),
                             .broker_endpoint = svc->base->bus_command_endpoint,
                             .sock_opts = &so,
                             .timeout_ms = timeout_ms,
                             .attempts = attempts};
    char why[400];
    ccip_replay *r = ccip_replay_new(svc->ctx, &rc, why, sizeof why);
    if (!r)
        snprintf(err, errlen, "could not reach the bus: %s", why);
    return r;
}

/* The cursors of the producers a rebuild replays; FOR UPDATE holds the
 * service's consumers until the rebuild commits. */
static const ccip_db_stmt S_REBUILD_LOCK_CURSORS = {
    "ccip_rebuild_lock_cursors",
    "SELECT producer, position FROM consumer_cursor WHERE producer = ANY(string_to_array($1, ','))"
    " ORDER BY producer FOR UPDATE"};

int ccip_service_rebuild(ccip_command *cmd, const ccip_rebuild_steps *steps,
                         ccip_rebuild_cursor cursors[CCIP_REBUILD_PRODUCERS_MAX], size_t *n)
{
    *n = 0;
    const ccip_service_def *def = cmd->service->def;
    char producers[CCIP_REBUILD_PRODUCERS_MAX * 33] = "";
    for (size_t i = 0; i < def->nsubscriptions && i < CCIP_REBUILD_PRODUCERS_MAX; i++) {
        size_t used = strlen(producers);
        snprintf(producers + used, sizeof producers - used, "%s%s", i ? "," : "",
                 def->subscriptions[i].producer);
    }
    PGresult *res = NULL;
    const char *p[] = {producers};
    int rc = ccip_db_exec(cmd->db, &S_REBUILD_LOCK_CURSORS, 1, p, NULL, NULL, &res);
    if (rc == 0)
        rc = steps->start(cmd, steps->arg);
    ccip_replay *replay = NULL;
    for (int r = 0; rc == 0 && r < PQntuples(res) && r < CCIP_REBUILD_PRODUCERS_MAX; r++) {
        ccip_rebuild_cursor *c = &cursors[(*n)++];
        snprintf(c->producer, sizeof c->producer, "%s", PQgetvalue(res, r, 0));
        c->position = (uint64_t)ccip_db_cell_i64(res, r, 1);
        if (c->position > 0 && !replay) {
            char err[CCIP_COMMAND_ERROR_MAX];
            /* a producer may take seconds to read a batch of a long stream */
            replay = ccip_service_replay_open(
                cmd->service, steps->timeout_ms ? steps->timeout_ms : 10000,
                steps->attempts ? steps->attempts : 3, err, sizeof err);
            if (!replay)
                rc = ccip_command_fail(cmd, CCIP__STATUS__UNAVAILABLE, "%s", err);
        }
        if (rc == 0 && c->position > 0)
            rc = steps->replay(cmd, replay, c->producer, c->position, steps->arg);
    }
    ccip_replay_destroy(&replay);
    PQclear(res);
    return rc;
}

ccip_client *ccip_service_client_new(const ccip_service *svc, char *err, size_t errlen)
{
    ccip_sock_opts so = {.keys = &svc->keys,
                         .server_public = svc->server_key,
                         .max_message_bytes = svc->base->max_message_bytes};
    return ccip_client_new(svc->ctx, svc->base->bus_command_endpoint, &so, err, errlen);
}

int ccip_service_main(const ccip_service_def *def, int argc, char **argv)
{
    const char *file = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "c:h")) != -1) {
        if (opt != 'c') {
            fprintf(stderr, "usage: %s [-c FILE]\n", argv[0]);
            return 2;
        }
        file = optarg;
    }
    ccip_log_init(def->name, def->name, CCIP_LOG_INFO);
    char err[1024];
    if (ccip_service_def_check(def, err, sizeof err) < 0) {
        ccip_log_error("could not start", "reason", err);
        return 1;
    }
    ccip_service svc = {.def = def, .started_us = ccip_now_us()};
    size_t nfields = 0;
    ccip_config_field *fields = s_fields(def, &nfields);
    size_t size = def->config_size > sizeof(ccip_service_config) ? def->config_size
                                                                 : sizeof(ccip_service_config);
    svc.config = calloc(1, size);
    svc.base = svc.config;
    int status = 1;
    if (!fields || !svc.config) {
        ccip_log_error("could not start", "reason", "out of memory");
        goto out;
    }
    if (ccip_config_load(file, fields, nfields, svc.config, NULL, err, sizeof err) < 0) {
        ccip_log_error("could not load configuration", "reason", err);
        goto out;
    }
    ccip_log_level level;
    if (ccip_log_level_parse(svc.base->log_level, &level) < 0) {
        ccip_log_error("could not load configuration", "reason",
                       "`log.level` must be one of debug, info, warn, error");
        goto out;
    }
    ccip_log_init(def->name, svc.base->instance, level);
    if (ccip_shutdown_install() < 0 || s_start(&svc, err, sizeof err) < 0) {
        ccip_log_error("could not start", "reason", err);
        s_stop(&svc);
        goto out;
    }
    ccip_log_info("service ready", "version", CCIP_VERSION, "bus", svc.base->bus_command_endpoint);
    int64_t next_prune = 0;
    int64_t *next_run = calloc(def->nschedules + 1, sizeof *next_run);
    while (!ccip_shutdown_requested()) {
        if (next_run)
            s_run_schedules(&svc, next_run);
        if (ccip_now_us() >= next_prune) {
            s_prune_command_log(&svc);
            next_prune = ccip_now_us() + PRUNE_EVERY_US;
        }
        struct timespec ts = {0, POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    free(next_run);
    ccip_log_info("service stopping");
    s_stop(&svc);
    status = 0;
out:
    if (fields && svc.config)
        ccip_config_release(fields, nfields, svc.config);
    free(svc.config);
    free(fields);
    return status;
}
