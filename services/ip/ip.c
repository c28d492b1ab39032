#include "ip.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ip_anchors.h"
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

/* Each command: type, mutating, roles, handler, batch handler, request, reply. */
static const ccip_command_handler s_commands[] = {
    {"ip.work.register.v1", 1, ip_roles_register, NULL, ip_work_register_batch,
     CCIP_MSG(ip, register_work_request), CCIP_MSG(ip, register_work_reply)},
    {"ip.work.get.v1", 0, ip_roles_readers, ip_work_get, NULL, CCIP_MSG(ip, get_work_request),
     CCIP_MSG(ip, work_reply)},
    {"ip.work.list.v1", 0, ip_roles_readers, ip_work_list, NULL, CCIP_MSG(ip, list_works_request),
     CCIP_MSG(ip, list_works_reply)},
    {"ip.key.get.v1", 0, ip_roles_readers, ip_key_get, NULL, CCIP_MSG(ip, key_request),
     CCIP_MSG(ip, key_reply)},
    {"ip.chain.read.v1", 0, ip_roles_chain, ip_chain_read, NULL, CCIP_MSG(ip, read_chain_request),
     CCIP_MSG(ip, chain_batch)},
    {"ip.anchor.run.v1", 1, ip_roles_staff, ip_anchor_run, NULL, CCIP_MSG(ip, run_anchors_request),
     CCIP_MSG(ip, run_anchors_reply)},
    {"ip.anchor.list.v1", 0, ip_roles_chain, ip_anchor_list, NULL,
     CCIP_MSG(ip, list_anchors_request), CCIP_MSG(ip, list_anchors_reply)},
    {"ip.review.list.v1", 0, ip_roles_staff, ip_review_list, NULL,
     CCIP_MSG(ip, list_review_request), CCIP_MSG(ip, list_review_reply)},
    {"ip.review.resolve.v1", 1, ip_roles_staff, ip_review_resolve, NULL,
     CCIP_MSG(ip, resolve_review_request), CCIP_MSG(ip, work_reply)},
    {"ip.listing.create.v1", 1, ip_roles_owner, ip_listing_create, NULL,
     CCIP_MSG(ip, create_listing_request), CCIP_MSG(ip, listing_reply)},
    {"ip.listing.update.v1", 1, ip_roles_owner, ip_listing_update, NULL,
     CCIP_MSG(ip, update_listing_request), CCIP_MSG(ip, listing_reply)},
    {"ip.listing.withdraw.v1", 1, ip_roles_owner, ip_listing_withdraw, NULL,
     CCIP_MSG(ip, listing_action_request), CCIP_MSG(ip, listing_reply)},
    {"ip.listing.get.v1", 0, ip_roles_readers, ip_listing_get, NULL,
     CCIP_MSG(ip, listing_action_request), CCIP_MSG(ip, listing_reply)},
    {"ip.listing.list.v1", 0, ip_roles_readers, ip_listing_list, NULL,
     CCIP_MSG(ip, list_listings_request), CCIP_MSG(ip, list_listings_reply)},
    {"ip.offer.make.v1", 1, ip_roles_party, ip_offer_make, NULL, CCIP_MSG(ip, make_offer_request),
     CCIP_MSG(ip, offer_reply)},
    {"ip.offer.withdraw.v1", 1, ip_roles_party, ip_offer_withdraw, NULL,
     CCIP_MSG(ip, offer_action_request), CCIP_MSG(ip, offer_reply)},
    {"ip.offer.accept.v1", 1, ip_roles_owner, ip_offer_accept, NULL,
     CCIP_MSG(ip, offer_action_request), CCIP_MSG(ip, contract_reply)},
    {"ip.contract.settle.v1", 1, ip_roles_settle, ip_contract_settle, NULL,
     CCIP_MSG(ip, settle_contract_request), CCIP_MSG(ip, contract_reply)},
    {"ip.contract.list.v1", 0, ip_roles_readers, ip_contract_list, NULL,
     CCIP_MSG(ip, list_contracts_request), CCIP_MSG(ip, list_contracts_reply)},
    {"ip.contract.get.v1", 0, ip_roles_readers, ip_contract_get, NULL,
     CCIP_MSG(ip, contract_action_request), CCIP_MSG(ip, contract_reply)},
    {"ip.dispute.file.v1", 1, ip_roles_party, ip_dispute_file, NULL,
     CCIP_MSG(ip, file_dispute_request), CCIP_MSG(ip, dispute_reply)},
    {"ip.dispute.answer.v1", 1, ip_roles_party, ip_dispute_answer, NULL,
     CCIP_MSG(ip, answer_dispute_request), CCIP_MSG(ip, dispute_reply)},
    {"ip.dispute.rule.v1", 1, ip_roles_staff, ip_dispute_rule, NULL,
     CCIP_MSG(ip, rule_dispute_request), CCIP_MSG(ip, dispute_reply)},
    {"ip.dispute.lift.v1", 1, ip_roles_staff, ip_dispute_lift, NULL,
     CCIP_MSG(ip, lift_freeze_request), CCIP_MSG(ip, dispute_reply)},
    {"ip.dispute.get.v1", 0, ip_roles_readers, ip_dispute_get, NULL,
     CCIP_MSG(ip, dispute_action_request), CCIP_MSG(ip, dispute_reply)},
    {"ip.dispute.list.v1", 0, ip_roles_staff, ip_dispute_list, NULL,
     CCIP_MSG(ip, list_disputes_request), CCIP_MSG(ip, list_disputes_reply)},
    {"ip.provider.register.v1", 1, ip_roles_party, ip_provider_register, NULL,
     CCIP_MSG(ip, register_provider_request), CCIP_MSG(ip, provider_reply)},
    {"ip.provider.verify.v1", 1, ip_roles_staff, ip_provider_verify, NULL,
     CCIP_MSG(ip, provider_action_request), CCIP_MSG(ip, provider_reply)},
    {"ip.provider.list.v1", 0, ip_roles_readers, ip_provider_list, NULL,
     CCIP_MSG(ip, list_providers_request), CCIP_MSG(ip, list_providers_reply)},
    {"ip.request.create.v1", 1, ip_roles_party, ip_request_create, NULL,
     CCIP_MSG(ip, create_service_request), CCIP_MSG(ip, service_request_reply)},
    {"ip.request.accept.v1", 1, ip_roles_party, ip_request_accept, NULL,
     CCIP_MSG(ip, service_request_action), CCIP_MSG(ip, service_request_reply)},
    {"ip.request.complete.v1", 1, ip_roles_party, ip_request_complete, NULL,
     CCIP_MSG(ip, service_request_action), CCIP_MSG(ip, service_request_reply)},
    {"ip.request.rate.v1", 1, ip_roles_party, ip_request_rate, NULL,
     CCIP_MSG(ip, rate_service_request), CCIP_MSG(ip, service_request_reply)},
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
    {"ip.anchor_seconds", CCIP_CFG_INT, offsetof(ip_config, anchor_seconds), 0, 86400, "3600",
     "CCIP_IP_ANCHOR_SECONDS",
     "seconds between the anchors of the event chains in the registry (ip.anchor.run.v1; 0: "
     "only when staff run it)"},
    {"ip.anchor_producers", CCIP_CFG_STRING, offsetof(ip_config, anchor_producers), 0, 1023,
     "intake,evaluation,funding,ip,stats,casefile,followup,notify,gateway",
     "CCIP_IP_ANCHOR_PRODUCERS",
     "the services whose event chain heads are anchored, comma-separated"},
};

/* The anchors (ip_anchors.h): one effect per period, whichever replicas run it. */
static const ccip_schedule s_schedules[] = {
    {"ip.anchor.run.v1", offsetof(ip_config, anchor_seconds)},
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

/* A funded project's works join its case (ip_works.h). */
static const ccip_consumer_handler s_funding[] = {
    {"funding.award.work_linked.v1", ip_on_work_linked},
};
static const ccip_subscription s_subscriptions[] = {
    {"funding", CCIP_TABLE(s_funding)},
};

const ccip_service_def ip_def = {
    .name = "ip",
    /* who may replay its events: the services that subscribe to them
     * (tests/services/test_service_defs.c checks both sides) */
    .consumers = (const char *const[]){"funding", "stats", "followup", "notify", "casefile", NULL},
    .start = s_start,
    .migrations = ip_migrations,
    CCIP_DEF_TABLE(commands, s_commands),
    CCIP_DEF_TABLE(subscriptions, s_subscriptions),
    CCIP_DEF_TABLE(config_fields, s_config_fields),
    .config_size = sizeof(ip_config),
    CCIP_DEF_TABLE(schedules, s_schedules),
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
        return ccip_command_fail(
            cmd, CCIP__STATUS__PERMISSION_DENIED,
            "role \"%s\" acts for one party: the actor id must be \"org:<unified "
            "social credit code>\" or \"person:<id>\", got \"%.60s\"",
            cmd->actor.role, cmd->actor.id);
    snprintf(party, IP_PARTY_MAX + 1, "%s", cmd->actor.id);
    return 0;
}

/* ---- parties ---------------------------------------------------------------- */

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

/* ---- reading rows ----------------------------------------------------------- */

int ip_read_row(ccip_command *cmd, const ccip_db_stmt *stmt, const char *noun, const char *id,
                PGresult **res)
{
    return ccip_command_row(cmd, stmt, 1, &id, res, "no %s %s exists", noun, id);
}

void *ip_read_one(ccip_command *cmd, ccip_arena *a, const ccip_db_stmt *stmt, const ip_rows *kind,
                  const char *id, int *rc)
{
    PGresult *res = NULL;
    if ((*rc = ip_read_row(cmd, stmt, kind->noun, id, &res)) != 0)
        return NULL;
    void *msg = ccip_arena_alloc(a, kind->size);
    if (!msg || kind->fill(a, res, 0, msg) < 0 || ccip_arena_failed(a)) {
        msg = NULL;
        *rc =
            ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not read %s %s", kind->noun, id);
    }
    PQclear(res);
    return msg;
}

void *ip_read_all(ccip_arena *a, const PGresult *res, const ip_rows *kind, size_t *n)
{
    int rows = PQntuples(res);
    void **out = ccip_arena_alloc(a, (size_t)(rows ? rows : 1) * sizeof *out);
    *n = 0;
    for (int i = 0; out && i < rows; i++) {
        void *msg = ccip_arena_alloc(a, kind->size);
        if (!msg || kind->fill(a, res, i, msg) < 0)
            return NULL;
        out[(*n)++] = msg;
    }
    return out && !ccip_arena_failed(a) ? out : NULL;
}

const char *ip_list_limit(uint32_t asked, char buf[24])
{
    uint32_t n = asked == 0 ? IP_LIST_DEFAULT : asked > IP_LIST_MAX ? IP_LIST_MAX : asked;
    snprintf(buf, 24, "%" PRIu32, n);
    return buf;
}

void *ip_read_list(ccip_command *cmd, ccip_arena *a, const ccip_db_stmt *stmt, int nparams,
                   const char *const *v, const ip_rows *kind, size_t *n, int *rc)
{
    PGresult *res = NULL;
    if ((*rc = ccip_db_exec(cmd->db, stmt, nparams, v, NULL, NULL, &res)) != 0)
        return NULL;
    void *out = ip_read_all(a, res, kind, n);
    PQclear(res);
    if (!out)
        *rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not read the %ss", kind->noun);
    return out;
}

int ip_work_of(ccip_command *cmd, const ccip_db_stmt *stmt, const char *field, const char *noun,
               const char *id, char work_id[40])
{
    char err[200];
    if (ip_check_uuid(field, id, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    PGresult *res = NULL;
    int rc = ip_read_row(cmd, stmt, noun, id, &res);
    if (rc != 0)
        return rc;
    snprintf(work_id, 40, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}
