#include "ip.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_validate.h"
#include "ip_disputes.h"
#include "ip_providers.h"
#include "ip_register.h"
#include "ip_signer.h"
#include "ip_trades.h"
#include "ip_works.h"

CCIP_MIGRATIONS_DECLARE(ip);

const char *const ip_roles_staff[] = {"staff", "admin", NULL};
const char *const ip_roles_owner[] = {"owner", NULL};
const char *const ip_roles_party[] = {"owner", "applicant", NULL};
const char *const ip_roles_register[] = {"owner", "applicant", "staff", "admin", NULL};
const char *const ip_roles_settle[] = {"owner", "staff", "admin", NULL};
const char *const ip_roles_chain[] = {"staff", "admin", "service", NULL};
const char *const ip_roles_readers[] = {"owner", "applicant", "staff", "admin", "service", NULL};

static const ccip_command_handler s_commands[] = {
    {"ip.work.register.v1", 1, ip_roles_register, ip_work_register, ip_work_register_batch, NULL,
     NULL},
    {"ip.work.get.v1", 0, ip_roles_readers, ip_work_get, NULL, NULL, NULL},
    {"ip.work.list.v1", 0, ip_roles_readers, ip_work_list, NULL, NULL, NULL},
    {"ip.key.get.v1", 0, ip_roles_readers, ip_key_get, NULL, NULL, NULL},
    {"ip.chain.read.v1", 0, ip_roles_chain, ip_chain_read, NULL, NULL, NULL},
    {"ip.review.list.v1", 0, ip_roles_staff, ip_review_list, NULL, NULL, NULL},
    {"ip.review.resolve.v1", 1, ip_roles_staff, ip_review_resolve, NULL, NULL, NULL},
    {"ip.listing.create.v1", 1, ip_roles_owner, ip_listing_create, NULL, NULL, NULL},
    {"ip.listing.update.v1", 1, ip_roles_owner, ip_listing_update, NULL, NULL, NULL},
    {"ip.listing.withdraw.v1", 1, ip_roles_owner, ip_listing_withdraw, NULL, NULL, NULL},
    {"ip.listing.get.v1", 0, ip_roles_readers, ip_listing_get, NULL, NULL, NULL},
    {"ip.listing.list.v1", 0, ip_roles_readers, ip_listing_list, NULL, NULL, NULL},
    {"ip.offer.make.v1", 1, ip_roles_party, ip_offer_make, NULL, NULL, NULL},
    {"ip.offer.withdraw.v1", 1, ip_roles_party, ip_offer_withdraw, NULL, NULL, NULL},
    {"ip.offer.accept.v1", 1, ip_roles_owner, ip_offer_accept, NULL, NULL, NULL},
    {"ip.contract.settle.v1", 1, ip_roles_settle, ip_contract_settle, NULL, NULL, NULL},
    {"ip.contract.get.v1", 0, ip_roles_readers, ip_contract_get, NULL, NULL, NULL},
    {"ip.dispute.file.v1", 1, ip_roles_party, ip_dispute_file, NULL, NULL, NULL},
    {"ip.dispute.answer.v1", 1, ip_roles_party, ip_dispute_answer, NULL, NULL, NULL},
    {"ip.dispute.rule.v1", 1, ip_roles_staff, ip_dispute_rule, NULL, NULL, NULL},
    {"ip.dispute.lift.v1", 1, ip_roles_staff, ip_dispute_lift, NULL, NULL, NULL},
    {"ip.dispute.get.v1", 0, ip_roles_readers, ip_dispute_get, NULL, NULL, NULL},
    {"ip.provider.register.v1", 1, ip_roles_party, ip_provider_register, NULL, NULL, NULL},
    {"ip.provider.verify.v1", 1, ip_roles_staff, ip_provider_verify, NULL, NULL, NULL},
    {"ip.provider.list.v1", 0, ip_roles_readers, ip_provider_list, NULL, NULL, NULL},
    {"ip.request.create.v1", 1, ip_roles_party, ip_request_create, NULL, NULL, NULL},
    {"ip.request.accept.v1", 1, ip_roles_party, ip_request_accept, NULL, NULL, NULL},
    {"ip.request.complete.v1", 1, ip_roles_party, ip_request_complete, NULL, NULL, NULL},
    {"ip.request.rate.v1", 1, ip_roles_party, ip_request_rate, NULL, NULL, NULL},
};

static const ccip_config_field s_config_fields[] = {
    {"ip.signing_key_file", CCIP_CFG_STRING, offsetof(ip_config, signing_key_file), 1, 1023, NULL,
     "CCIP_IP_SIGNING_KEY_FILE",
     "the path of the platform's Ed25519 signing key (.key, made by ccipctl ip keygen)"},
    {"ip.max_content_bytes", CCIP_CFG_INT, offsetof(ip_config, max_content_bytes), 0,
     IP_MAX_CONTENT_LIMIT, "1048576", "CCIP_IP_MAX_CONTENT_BYTES",
     "the largest content stored with a registration, in bytes (0 = hashes only)"},
    {"ip.dispute_answer_seconds", CCIP_CFG_INT, offsetof(ip_config, dispute_answer_seconds), 1,
     INT64_C(366) * 86400, "1209600", "CCIP_IP_DISPUTE_ANSWER_SECONDS",
     "how long a respondent may answer a dispute, in seconds (default 14 days)"},
};

/* Start-up: a replica without a usable signing key would accept
 * registrations only to fail every one of them; it refuses to start
 * instead, naming the file and the problem. */
static int s_start(const ccip_service *svc, char *err, size_t errlen)
{
    const ip_config *cfg = ccip_service_config_get(svc);
    ip_key key;
    char why[512];
    if (ip_signer_get(cfg->signing_key_file, &key, why, sizeof why) < 0) {
        snprintf(err, errlen,
                 "no signing key: %s; make one with `ccipctl ip keygen` and set "
                 "ip.signing_key_file (CCIP_IP_SIGNING_KEY_FILE) to its .key",
                 why);
        return -1;
    }
    ip_key_wipe(&key);
    return 0;
}

const ccip_service_def ip_def = {
    .name = "ip",
    .consumers = (const char *const[]){"funding", "stats", NULL}, /* who replays its events */
    .start = s_start,
    .migrations = ip_migrations,
    .commands = s_commands,
    .ncommands = sizeof s_commands / sizeof s_commands[0],
    .config_fields = s_config_fields,
    .nconfig_fields = sizeof s_config_fields / sizeof s_config_fields[0],
    .config_size = sizeof(ip_config),
};

/* ---- callers ------------------------------------------------------------- */

const ip_config *ip_config_get(const ccip_command *cmd)
{
    return ccip_service_config_get(cmd->service);
}

int ip_actor_party(ccip_command *cmd, char *party)
{
    party[0] = '\0';
    if (strcmp(cmd->actor.role, "owner") != 0 && strcmp(cmd->actor.role, "applicant") != 0)
        return 0;
    char err[256];
    if (strlen(cmd->actor.id) > IP_PARTY_MAX ||
        ip_check_party("actor_id", cmd->actor.id, err, sizeof err) < 0)
        return ip_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                       "role \"%s\" acts for one party: the actor id must be \"org:<unified "
                       "social credit code>\" or \"person:<id>\", got \"%.60s\"",
                       cmd->actor.role, cmd->actor.id);
    snprintf(party, IP_PARTY_MAX + 1, "%s", cmd->actor.id);
    return 0;
}

/* ---- replies and events --------------------------------------------------- */

int ip_fail(ccip_command *cmd, Ccip__Status status, const char *fmt, ...)
{
    cmd->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd->error, sizeof cmd->error, fmt, ap);
    va_end(ap);
    return IP_REPLIED;
}

ProtobufCMessage *ip_unpack(ccip_command *cmd, const ProtobufCMessageDescriptor *desc)
{
    return ccip_command_unpack(cmd, desc);
}

int ip_run(ccip_command *cmd, const ProtobufCMessageDescriptor *desc, ip_body_fn body)
{
    ProtobufCMessage *rq = ip_unpack(cmd, desc);
    if (!rq)
        return 0;
    ccip_arena *a = ccip_arena_new();
    int rc = a ? body(cmd, a, rq) : ip_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    ccip_arena_destroy(&a);
    protobuf_c_message_free_unpacked(rq, NULL);
    return IP_RC(rc);
}

int ip_reply(ccip_command *cmd, const ProtobufCMessage *msg)
{
    return ccip_command_reply(cmd, msg) ? IP_REPLIED : 0;
}

int ip_emit(ccip_command *cmd, const char *type, const char *aggregate_type,
            const char *aggregate_id, const ProtobufCMessage *msg)
{
    int rc = ccip_command_emit(cmd, type, aggregate_type, aggregate_id, msg);
    return rc != 0 && cmd->status != CCIP__STATUS__OK ? IP_REPLIED : rc;
}

int ip_check_text(ccip_command *cmd, const char *field, const char *s, size_t min, size_t max,
                  int multiline)
{
    char err[300];
    if (ccip_text_check(field, s, min, max, multiline ? CCIP_TEXT_MULTILINE : 0, err, sizeof err) <
        0)
        return ip_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    return 0;
}

int ip_invalid(ccip_command *cmd, int rc, const char *err)
{
    if (rc < 0)
        return ip_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    return 0;
}

int ip_new_id(ccip_command *cmd, char id[40])
{
    if (ccip_uuid_v7(id) < 0)
        return ip_fail(cmd, CCIP__STATUS__INTERNAL, "could not make an id: no randomness");
    return 0;
}

const char *ip_i64(int64_t v, char *buf)
{
    snprintf(buf, 24, "%lld", (long long)v);
    return buf;
}

static const ccip_db_stmt S_IS_OWNER = {
    "ip_is_owner", "SELECT 1 FROM work_owner WHERE work_id = $1 AND party = $2"};

int ip_is_owner(ccip_command *cmd, const char *work_id, const char *party)
{
    PGresult *res = NULL;
    const char *v[] = {work_id, party};
    int rc = ccip_db_exec(cmd->db, &S_IS_OWNER, 2, v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int own = PQntuples(res) == 1;
    PQclear(res);
    return own;
}
