#include "ccip_command.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_log.h"
#include "ccip_outbox.h"
#include "ccip_service.h"
#include "ccip_service_batch.h"
#include "ccip_validate.h"
#include "ccip_wire.h"

/* ---- replies -------------------------------------------------------------- */

/* ccip_command_fail with its arguments in ap. */
__attribute__((format(printf, 3, 0))) static int s_vfail(ccip_command *cmd, Ccip__Status status,
                                                         const char *fmt, va_list ap)
{
    cmd->status = status;
    int n = vsnprintf(cmd->error, sizeof cmd->error, fmt, ap);
    /* vsnprintf cuts at a byte; a sentence cut inside a character would
     * be invalid UTF-8 that a strict protobuf parser refuses. */
    if (n >= (int)sizeof cmd->error)
        cmd->error[ccip_utf8_boundary(cmd->error, strlen(cmd->error))] = '\0';
    return CCIP_REPLIED;
}

int ccip_command_fail(ccip_command *cmd, Ccip__Status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vfail(cmd, status, fmt, ap);
    va_end(ap);
    return rc;
}

ProtobufCMessage *ccip_command_unpack(ccip_command *cmd, const ProtobufCMessageDescriptor *desc)
{
    const ccip_service_config *base = ccip_service_config_get(cmd->service);
    char err[CCIP_COMMAND_ERROR_MAX - 64];
    if (cmd->checked_as && cmd->checked_as != desc) {
        /* The strings were checked as the definition's `request`, not as
         * what the handler reads: refuse rather than trust unchecked text. */
        ccip_log_error("a handler decodes another message than its definition's request", "type",
                       cmd->req->type, "decodes", desc->name, "request", cmd->checked_as->name);
        ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                          "%s could not run: its handler decodes %s but its definition names %s "
                          "as its request (a programming error in the service)",
                          cmd->req->type, desc->name, cmd->checked_as->name);
        return NULL;
    }
    if (!cmd->checked_as && ccip_command_check_strings(cmd, desc))
        return NULL;
    ProtobufCMessage *m = ccip_payload_unpack(desc, cmd->req->payload.data, cmd->req->payload.len,
                                              (size_t)base->max_message_bytes, err, sizeof err);
    if (!m)
        ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                          "could not decode the payload of %s as %s: %s", cmd->req->type,
                          desc->name, err);
    return m;
}

int ccip_command_check_strings(ccip_command *cmd, const ProtobufCMessageDescriptor *desc)
{
    char err[CCIP_COMMAND_ERROR_MAX - 64];
    int rc = ccip_wire_check_strings(desc, cmd->req->payload.data, cmd->req->payload.len, "field",
                                     err, sizeof err);
    if (rc == 0) {
        cmd->checked_as = desc;
        return 0;
    }
    if (rc == CCIP_WIRE_REFUSED)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    /* Said as ccip_command_unpack says an undecodable payload: err is
     * "could not decode <name>: <why>", and a full name holds no ": ". */
    const char *why = strstr(err, ": ");
    return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                             "could not decode the payload of %s as %s: %s", cmd->req->type,
                             desc->name, why ? why + 2 : err);
}

/* Packs msg into a malloc'd buffer. Returns it (caller frees) or NULL. */
static uint8_t *s_pack_msg(const ProtobufCMessage *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(*len ? *len : 1);
    if (buf)
        protobuf_c_message_pack(msg, buf);
    return buf;
}

int ccip_command_reply(ccip_command *cmd, const ProtobufCMessage *msg)
{
    size_t len;
    uint8_t *buf = s_pack_msg(msg, &len);
    if (!buf)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory packing the reply");
    free(cmd->payload);
    cmd->payload = buf;
    cmd->payload_len = len;
    return 0;
}

int ccip_command_reply_built(ccip_command *cmd, const ccip_arena *a, const ProtobufCMessage *msg)
{
    if (ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    return ccip_command_reply(cmd, msg);
}

int ccip_command_run(ccip_command *cmd, const ccip_command_handler *h)
{
    if (!h->fn)
        return h->batch_fn(&cmd, 1);
    ProtobufCMessage *rq = NULL;
    if (h->request && !(rq = ccip_command_unpack(cmd, h->request)))
        return CCIP_REPLIED;
    ccip_arena *a = ccip_arena_new();
    int rc =
        a ? h->fn(cmd, a, rq) : ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    ccip_arena_destroy(&a);
    if (rq)
        protobuf_c_message_free_unpacked(rq, NULL);
    return rc;
}

void ccip_command_reset_reply(ccip_command *cmd)
{
    free(cmd->payload);
    cmd->payload = NULL;
    cmd->payload_len = 0;
    cmd->status = CCIP__STATUS__OK;
    cmd->error[0] = '\0';
}

/* ---- events --------------------------------------------------------------- */

int ccip_command_emit_bytes(ccip_command *cmd, const char *type, const char *aggregate_type,
                            const char *aggregate_id, const void *payload, size_t payload_len)
{
    const Ccip__Envelope *req = cmd->req;
    const ccip_service_config *base = ccip_service_config_get(cmd->service);
    ccip_outbox_event ev = {
        .type = type,
        .aggregate_type = aggregate_type,
        .aggregate_id = aggregate_id,
        .payload = payload,
        .payload_len = payload_len,
        .correlation_id = req->correlation_id[0] ? req->correlation_id : req->id,
        .causation_id = req->id,
        .actor_id = cmd->actor.id,
        .actor_role = cmd->actor.role,
        .source_instance = base->instance,
    };
    char err[256];
    if (!cmd->keep_events) {
        /* Outside a batch (never for a mutating command): straight in. */
        int rc = ccip_outbox_append(cmd->db, ccip_service_name(cmd->service), &ev, err, sizeof err);
        if (rc != CCIP_DB_OK)
            ccip_log_error("could not append an event", "type", type, "reason", err);
        return rc;
    }
    if (ccip_batch_keep_event(cmd, &ev, err, sizeof err) == 0)
        return 0;
    ccip_log_error("could not keep an event", "type", type, "reason", err);
    return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not write event %s: %s", type,
                             err);
}

int ccip_command_emit(ccip_command *cmd, const char *type, const char *aggregate_type,
                      const char *aggregate_id, const ProtobufCMessage *msg)
{
    size_t len;
    uint8_t *buf = s_pack_msg(msg, &len);
    if (!buf)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory packing event %s",
                                 type);
    if (len > CCIP_OUTBOX_PAYLOAD_MAX) {
        free(buf);
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "event %s would be %zu bytes, more than an event may carry (%d); "
                                 "shorten the texts",
                                 type, len, CCIP_OUTBOX_PAYLOAD_MAX);
    }
    int rc = ccip_command_emit_bytes(cmd, type, aggregate_type, aggregate_id, buf, len);
    free(buf);
    return rc;
}

/* ---- reading ------------------------------------------------------------- */

int ccip_command_row(ccip_command *cmd, const ccip_db_stmt *stmt, int nparams,
                     const char *const *values, PGresult **res, const char *fmt, ...)
{
    int rc = ccip_db_exec(cmd->db, stmt, nparams, values, NULL, NULL, res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(*res) == 1)
        return 0;
    PQclear(*res);
    *res = NULL;
    va_list ap;
    va_start(ap, fmt);
    rc = s_vfail(cmd, CCIP__STATUS__NOT_FOUND, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- checks --------------------------------------------------------------- */

int ccip_command_invalid(ccip_command *cmd, int rc, const char *err)
{
    if (rc >= 0)
        return 0;
    return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
}

int ccip_command_check_text(ccip_command *cmd, const char *field, const char *s, size_t min_chars,
                            size_t max_chars, int flags)
{
    char err[300];
    return ccip_command_invalid(
        cmd, ccip_text_check(field, s, min_chars, max_chars, flags, err, sizeof err), err);
}

int ccip_command_check_code(ccip_command *cmd, const char *field, const char *s, size_t max_len)
{
    char err[300];
    return ccip_command_invalid(cmd, ccip_code_check(field, s, max_len, err, sizeof err), err);
}

int ccip_command_check_uuid(ccip_command *cmd, const char *field, const char *s)
{
    if (ccip_uuid_valid(s))
        return 0;
    char shown[48];
    return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                             "field `%s` must be an id (a UUID such as "
                             "01936b2e-4c3a-7d21-9f0e-5b8c2a1d4e6f), got \"%s\"",
                             field, ccip_text_shown(s, 40, shown, sizeof shown));
}

int ccip_command_new_id(ccip_command *cmd, char id[CCIP_UUID_STRLEN + 1])
{
    if (ccip_uuid_v7(id) == 0)
        return 0;
    return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not make an id: no randomness");
}

int ccip_command_role_in(const ccip_command *cmd, const char *const *roles)
{
    for (const char *const *r = roles; r && *r; r++)
        if (strcmp(*r, cmd->actor.role) == 0)
            return 1;
    return 0;
}

int ccip_command_type_index(ccip_command *cmd, const char *const *types)
{
    for (int i = 0; types[i]; i++)
        if (strcmp(types[i], cmd->req->type) == 0)
            return i;
    ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "no handler of this service serves %s here",
                      cmd->req->type);
    return -1;
}
