/*
 * ccip_command: the one API a command handler uses, the same in every
 * service.
 *
 * A handler reads cmd->req (the envelope) and the caller's trusted identity
 * cmd->actor, decodes the payload, checks everything, writes through cmd->db
 * (inside the command's transaction when the command mutates), emits
 * events and packs its reply. The skeleton decodes the payload as the
 * table row's `request` message and hands it over with an arena for the
 * reply (both freed when the handler returns), so a handler is only its
 * checks and its effects:
 *
 *   int intake_call_close(ccip_command *cmd, ccip_arena *a, void *request)
 *   {
 *       Ccip__Intake__CloseCallRequest *rq = request;
 *       int rc = ccip_command_check_uuid(cmd, "call_id", rq->call_id);
 *       if (rc)
 *           return rc;                       // CCIP_REPLIED: refused, nothing written
 *       ...
 *       if ((rc = ccip_command_emit(cmd, "intake.call.closed.v1", "call", id, &ev.base)))
 *           return rc;                       // CCIP_REPLIED, or a failed statement
 *       return ccip_command_reply(cmd, &reply.base);
 *   }
 *
 * and its table row names it beside the request it takes:
 *   {"intake.call.close.v1", 1, intake_roles_staff, intake_call_close, NULL,
 *    CCIP_MSG(intake, close_call_request), CCIP_MSG(intake, call_reply)},
 *
 * One return convention everywhere, for handlers and for every helper that
 * may answer the command:
 *   0             go on (a helper), or: the reply is ready (a handler)
 *   CCIP_REPLIED  the reply's status and sentence are set (a refusal or an
 *                 internal failure); stop and return it
 *   < 0           the ccip_db_rc of a failed statement: the skeleton retries
 *                 the transaction (CCIP_DB_RETRYABLE) or answers INTERNAL
 * so `if (rc) return rc;` is always right. A mutating command's writes and
 * events are committed only when it ends with status OK.
 */
#ifndef CCIP_COMMAND_H
#define CCIP_COMMAND_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/envelope.pb-c.h"
#include "ccip_arena.h"
#include "ccip_db.h"
#include "ccip_id.h"

typedef struct ccip_service ccip_service;

/* An event a command emitted, kept until its batch commits (opaque). */
typedef struct ccip_command_event ccip_command_event;

/* What a handler or helper returns once the reply's status is set. */
#define CCIP_REPLIED 1

/* Longest reply sentence, in bytes, with its NUL. */
#define CCIP_COMMAND_ERROR_MAX 512

/* The caller's identity as the service may trust it (the bus checked the
 * key's binding, ccip_keys.h). */
typedef struct {
    const char *id;      /* person or service id */
    const char *role;    /* "service" for service keys; the claimed role for front doors */
    const char *peer;    /* name of the CURVE key used */
    const char *kind;    /* the key's kind: "service", "front-door", "admin"; "system" for the
                            service's own scheduled commands; "local" in tests */
    const char *service; /* kind "service": the one service the key is bound to; else "" */
} ccip_actor;

/* One command being handled. The handler reads req and fills the reply. */
typedef struct {
    ccip_service *service;
    ccip_db *db;                        /* inside the command's transaction when mutating */
    const Ccip__Envelope *req;          /* the command */
    ccip_actor actor;                   /* who asked, as trusted */
    Ccip__Status status;                /* reply status; OK unless the handler says otherwise */
    char error[CCIP_COMMAND_ERROR_MAX]; /* reply sentence when status is not OK */
    uint8_t *payload; /* reply payload, malloc'd by the handler, freed by the skeleton */
    size_t payload_len;
    ccip_command_event *events; /* skeleton's: emitted events, newest first, written with the
                                   batch (ccip_service_batch.h) */
    int keep_events;            /* skeleton's: 1 when emitted events wait for the batch */
    const ProtobufCMessageDescriptor *checked_as; /* skeleton's: the message whose strings it
                                                     checked in the payload before the handler
                                                     ran (the handler's `request`, ccip_wire.h);
                                                     NULL: not checked (a unit test's command) */
} ccip_command;

/* A handler: request is the payload decoded as its table row's `request`
 * message (borrowed; NULL only for a row without one, whose handler reads
 * cmd->req->payload itself), a is an arena for the reply's parts (freed
 * after the reply is packed). Returns 0 or CCIP_REPLIED when it produced a
 * reply (any status), or the ccip_db_rc of a failed statement (see
 * above). The descriptor is named once, in the table, so that what the
 * skeleton checks, what the gateway maps JSON to and what the handler
 * reads cannot differ. */
typedef int (*ccip_command_fn)(ccip_command *cmd, ccip_arena *a, void *request);

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

/* A command type a service serves: one line of its definition table. */
typedef struct {
    const char *type;               /* e.g. "intake.call.open.v1" */
    int mutating;                   /* 1: transactional and idempotent by command id */
    const char *const *roles;       /* NULL-terminated roles allowed, NULL = any caller */
    ccip_command_fn fn;             /* NULL when batch_fn is set: it runs alone (n = 1) */
    ccip_command_batch_fn batch_fn; /* optional, mutating only: several at once */
    const ProtobufCMessageDescriptor *request; /* the payload's message, never NULL (the service
                                                  does not start without it): the skeleton checks
                                                  every string in it before the handler runs,
                                                  decodes it for the handler, the gateway maps
                                                  JSON to it */
    const ProtobufCMessageDescriptor *reply;   /* the reply payload's message; NULL: none */
} ccip_command_handler;

/* The descriptor of message `name` of package ccip.`pkg`, for the request
 * and reply columns of a definition table:
 *   CCIP_MSG(intake, open_call_request)
 * is &ccip__intake__open_call_request__descriptor. A shorthand only, so
 * that a table line holds its command's type, roles, handlers and messages
 * in two lines rather than four. */
#define CCIP_MSG(pkg, name) (&ccip__##pkg##__##name##__descriptor)

/* ---- replies -------------------------------------------------------------- */

/* Sets the reply's status and sentence ("field `budget_fen` must be
 * positive, got -5"), cut at a character boundary when it does not fit.
 * Returns CCIP_REPLIED, so a handler or helper can `return
 * ccip_command_fail(...)`. */
int ccip_command_fail(ccip_command *cmd, Ccip__Status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Decodes the command's payload as desc, bounded by limits.max_message_bytes
 * and a bounded allocator. desc must be the handler's `request`: the
 * skeleton checked every string of the payload as that message before the
 * handler ran (ccip_wire.h: UTF-8, no NUL or other control character but
 * tab and newline), and a handler decoding another message would read
 * strings nobody checked (and the gateway would map JSON to the wrong
 * message). A command the skeleton did not check (checked_as NULL: a unit
 * test's) is checked here as desc. Returns the message (the caller frees it
 * with protobuf_c_message_free_unpacked(msg, NULL)), or NULL with the
 * command failed: INVALID_ARGUMENT, the sentence naming the type (or the
 * field) and why; INTERNAL when desc is not the message the skeleton
 * checked (a programming error in the service's definition, logged). */
ProtobufCMessage *ccip_command_unpack(ccip_command *cmd, const ProtobufCMessageDescriptor *desc);

/* Packs msg as the reply's payload. Returns 0, or CCIP_REPLIED with the
 * command failed INTERNAL (out of memory). */
int ccip_command_reply(ccip_command *cmd, const ProtobufCMessage *msg);

/* ccip_command_reply for a reply built in arena a: when an allocation from
 * a failed on the way (ccip_arena_failed), the reply is incomplete and the
 * command fails INTERNAL "out of memory" instead. Returns 0 or
 * CCIP_REPLIED. */
int ccip_command_reply_built(ccip_command *cmd, const ccip_arena *a, const ProtobufCMessage *msg);

/* Runs one command through its table row: decodes the payload as
 * h->request (INVALID_ARGUMENT when it cannot; not at all when h->request
 * is NULL), makes an arena, calls h->fn, frees both; a row with only a
 * batch handler runs it with n = 1. The skeleton's, and a test's that
 * calls a handler directly. Returns what the handler returned
 * (CCIP_REPLIED when decoding failed or memory ran out). */
int ccip_command_run(ccip_command *cmd, const ccip_command_handler *h);

/* ---- events --------------------------------------------------------------- */

/* Packs msg and appends it to the service's outbox as event `type` about
 * aggregate_type/aggregate_id, inside the command's transaction, with
 * source, correlation (the command's, or its id), causation (the command's
 * id) and actor filled from the command. A mutating command's events are
 * checked now and written with the other events of its batch in one
 * statement just before the commit (dropped when the command is refused).
 * Returns 0; CCIP_REPLIED with the command failed (INTERNAL: out of memory
 * or a malformed event; FAILED_PRECONDITION: larger than an event may
 * carry, "shorten the texts"); or the ccip_db_rc of a failed statement. */
int ccip_command_emit(ccip_command *cmd, const char *type, const char *aggregate_type,
                      const char *aggregate_id, const ProtobufCMessage *msg);

/* ccip_command_emit for a payload already packed. Same returns. */
int ccip_command_emit_bytes(ccip_command *cmd, const char *type, const char *aggregate_type,
                            const char *aggregate_id, const void *payload, size_t payload_len);

/* ---- reading ------------------------------------------------------------- */

/* Runs stmt (ccip_db_exec, text parameters) for the one row a command is
 * about. Returns 0 with the row in *res (the caller PQclear()s it);
 * CCIP_REPLIED with the command failed NOT_FOUND, the sentence made from
 * fmt ("there is no call %s; list the calls with ..."), when the statement
 * returned no row (or more than one); or the ccip_db_rc of a failed
 * statement. *res is NULL unless 0 is returned. */
int ccip_command_row(ccip_command *cmd, const ccip_db_stmt *stmt, int nparams,
                     const char *const *values, PGresult **res, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* ---- checks that answer the command --------------------------------------- */

/* Fails the command INVALID_ARGUMENT with err when rc < 0 (rc and err as
 * left by a ccip_*_check function). Returns 0 or CCIP_REPLIED. */
int ccip_command_invalid(ccip_command *cmd, int rc, const char *err);

/* ccip_text_check (ccip_validate.h) answering the command. Returns 0 or
 * CCIP_REPLIED with INVALID_ARGUMENT naming the field. */
int ccip_command_check_text(ccip_command *cmd, const char *field, const char *s, size_t min_chars,
                            size_t max_chars, int flags);

/* ccip_code_check answering the command. Returns 0 or CCIP_REPLIED. */
int ccip_command_check_code(ccip_command *cmd, const char *field, const char *s, size_t max_len);

/* A UUID in canonical text form. Returns 0 or CCIP_REPLIED with
 * INVALID_ARGUMENT: "field `call_id` must be a UUID such as ..., got ...". */
int ccip_command_check_uuid(ccip_command *cmd, const char *field, const char *s);

/* A new v7 UUID into id. Returns 0, or CCIP_REPLIED with INTERNAL. */
int ccip_command_new_id(ccip_command *cmd, char id[CCIP_UUID_STRLEN + 1]);

/* 1 when the caller acts in one of the NULL-terminated roles, else 0. */
int ccip_command_role_in(const ccip_command *cmd, const char *const *roles);

/* For one handler that serves several command types sharing a request
 * (intake's transitions, funding's award actions): the position of the
 * command's type in the NULL-terminated list `types`. Returns it, or -1
 * with the command failed INTERNAL when the type is not listed (the
 * definition table routed another type to the handler). */
int ccip_command_type_index(ccip_command *cmd, const char *const *types);

/* ---- for the skeleton ----------------------------------------------------- */

/* Checks every string of the command's payload as desc (ccip_wire.h) and,
 * when they pass, records desc in cmd->checked_as (ccip_command_unpack then
 * decodes desc without checking again). Returns 0, or CCIP_REPLIED with the
 * command failed INVALID_ARGUMENT: the sentence names the field and the
 * rule, or, for bytes that are not desc at all, the command's type and the
 * message. */
int ccip_command_check_strings(ccip_command *cmd, const ProtobufCMessageDescriptor *desc);

/* Clears the reply: payload freed, status OK, no sentence. */
void ccip_command_reset_reply(ccip_command *cmd);

#endif
