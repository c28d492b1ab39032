#include "ip_anchors.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccip/bus.pb-c.h"
#include "ccip_chain.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_log.h"
#include "ip_chain.h"
#include "ip_keys.h"
#include "ip_receipts.h"
#include "ip_signer.h"

#define ANCHOR_PRODUCERS_MAX 32 /* producers one run anchors */
#define ANCHOR_NAME_MAX      63 /* a service name's bytes */
#define ANCHOR_KIND          "AUDIT_ANCHOR"

/* ip's own head, in the command's transaction. */
static const ccip_db_stmt S_OWN_HEAD = {"ip_anchor_own_head",
                                        "SELECT head, encode(head_hash, 'hex') FROM outbox_state"};

/* Whether this head or this period of the producer is anchored already. */
static const ccip_db_stmt S_DONE = {
    "ip_anchor_done", "SELECT EXISTS (SELECT 1 FROM anchor WHERE producer = $1::text AND"
                      " ((position = $2::bigint AND hash = decode($3::text, 'hex'))"
                      " OR period_start_s = $4::bigint))"};

/* The registration chain's head, locked (as ip_register takes it: the last
 * lock of the transaction), with the database clock as trusted time and
 * the day it falls on in UTC. */
static const ccip_db_stmt S_LOCK_HEAD = {
    "ip_anchor_lock_head",
    "SELECT seq, encode(hash, 'hex'), (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,"
    " to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM chain_head FOR UPDATE"};

/* One anchor: the work, its owner, its chain record, the anchor row, and
 * the head moved on; all or nothing. */
static const ccip_db_stmt S_WRITE = {
    "ip_anchor_write",
    "WITH w AS (INSERT INTO work (id, kind, title, created_on, content_sha256, registrant)"
    "  VALUES ($1::uuid, '" ANCHOR_KIND "', $2::text, $3::text::date, decode($4::text, 'hex'),"
    "  $5::text) RETURNING id),"
    " o AS (INSERT INTO work_owner (work_id, party, share_bp) SELECT id, $6::text, 10000 FROM w),"
    " c AS (INSERT INTO chain (seq, prev_hash, hash, work_id, kind, title, owner_parties,"
    "  owner_shares, creators, created_on, content_sha256, registered_at_us, registrant, key_id,"
    "  signature) SELECT $7::bigint, decode($8::text, 'hex'), decode($9::text, 'hex'), id, "
    "'" ANCHOR_KIND "', $2::text, ARRAY[$6::text], ARRAY[10000], '{}'::text[], $3::text,"
    "  decode($4::text, 'hex'), $10::bigint, $5::text, $11::text, decode($12::text, 'hex')"
    "  FROM w),"
    " a AS (INSERT INTO anchor (producer, period_start_s, position, hash, work_id)"
    "  SELECT $13::text, $14::bigint, $15::bigint, decode($16::text, 'hex'), id FROM w),"
    " h AS (UPDATE chain_head SET seq = $7::bigint, hash = decode($9::text, 'hex'))"
    " SELECT count(*) FROM w"};

static const ccip_db_stmt S_LIST = {
    "ip_anchor_list",
    "SELECT a.position, encode(a.hash, 'hex'), a.period_start_s, c.seq, a.work_id,"
    " c.registered_at_us, encode(c.content_sha256, 'hex'), encode(c.hash, 'hex'), c.key_id,"
    " encode(c.signature, 'hex') FROM anchor a JOIN chain c ON c.work_id = a.work_id"
    " WHERE a.producer = $1::text AND a.period_start_s > $2::bigint"
    " ORDER BY a.period_start_s LIMIT $3::integer"};

/* A producer's head as asked. */
typedef struct {
    char producer[ANCHOR_NAME_MAX + 1];
    uint64_t position;
    uint8_t hash[CCIP_CHAIN_HASH_LEN];
    char why[200]; /* "" = asked; else why it is skipped */
} s_head;

/* Asks producer for its head with ccip.ping.v1. Fills h (or h->why). */
static void s_ask(ccip_client *c, s_head *h)
{
    char id[CCIP_UUID_STRLEN + 1], err[300];
    if (ccip_uuid_v7(id) < 0) {
        snprintf(h->why, sizeof h->why, "could not make a command id");
        return;
    }
    Ccip__PingRequest ping = CCIP__PING_REQUEST__INIT;
    uint8_t buf[16];
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = "ccip.ping.v1";
    env.source_service = "ip";
    env.payload.data = buf;
    env.payload.len = protobuf_c_message_pack(&ping.base, buf);
    Ccip__Envelope *r =
        ccip_client_call(c, h->producer, &env, ANCHOR_ASK_TIMEOUT_MS, 1, err, sizeof err);
    if (!r) {
        snprintf(h->why, sizeof h->why, "no answer: %.150s", err);
        return;
    }
    if (r->status != CCIP__STATUS__OK) {
        snprintf(h->why, sizeof h->why, "it answered %d: %.150s", (int)r->status,
                 r->error ? r->error : "");
        ccip_envelope_free(&r);
        return;
    }
    Ccip__PingReply *p = ccip__ping_reply__unpack(NULL, r->payload.len, r->payload.data);
    ccip_envelope_free(&r);
    if (!p) {
        snprintf(h->why, sizeof h->why, "its ping reply does not decode");
        return;
    }
    h->position = p->outbox_head;
    if (p->outbox_head_hash.len != CCIP_CHAIN_HASH_LEN)
        snprintf(h->why, sizeof h->why,
                 "it names no head hash (a version from before the anchors: upgrade it)");
    else
        memcpy(h->hash, p->outbox_head_hash.data, CCIP_CHAIN_HASH_LEN);
    ccip__ping_reply__free_unpacked(p, NULL);
}

/* The period a run anchors: a scheduled command's id says it
 * ("schedule:ip.anchor.run.v1@<UTC seconds>"); a run asked by staff
 * anchors the second it runs in. */
static int64_t s_period(const ccip_command *cmd)
{
    const char *id = cmd->req->id ? cmd->req->id : "";
    const char *at = strrchr(id, '@');
    if (strncmp(id, CCIP_SCHEDULE_ID_PREFIX, strlen(CCIP_SCHEDULE_ID_PREFIX)) == 0 && at)
        return strtoll(at + 1, NULL, 10);
    return (int64_t)time(NULL);
}

/* Registers one head (h asked, not anchored yet) as the next record after
 * *seq / prev; moves them on. Fills out. Returns 0, CCIP_REPLIED or a
 * negative ccip_db_rc. */
static int s_register(ccip_command *cmd, ccip_arena *a, const s_head *h, int64_t period,
                      const ip_key *key, int64_t now_us, const char *day, uint64_t *seq,
                      uint8_t prev[IP_HASH_LEN], Ccip__Ip__Anchor *out)
{
    char work_id[CCIP_UUID_STRLEN + 1];
    int rc = ccip_command_new_id(cmd, work_id);
    if (rc)
        return rc;
    char hash_hex[CCIP_CHAIN_HASH_HEX + 1], content[400], title[160];
    ccip_chain_hex(h->hash, CCIP_CHAIN_HASH_LEN, hash_hex);
    int clen = snprintf(content, sizeof content,
                        "ccip.audit.anchor.v1\nproducer: %s\nposition: %" PRIu64
                        "\nhash: %s\nperiod_start: %" PRId64 "\n",
                        h->producer, h->position, hash_hex, period);
    snprintf(title, sizeof title, "event chain of %s at position %" PRIu64, h->producer,
             h->position);
    static const ip_chain_owner owner = {IP_ANCHOR_OWNER, 10000};
    ip_chain_record r = {.seq = *seq + 1,
                         .work_id = work_id,
                         .kind = ANCHOR_KIND,
                         .title = title,
                         .owners = &owner,
                         .nowners = 1,
                         .creators = NULL,
                         .ncreators = 0,
                         .created_on = day,
                         .registered_at_us = now_us,
                         .registrant = cmd->actor.id,
                         .key_id = key->key_id};
    memcpy(r.prev_hash, prev, IP_HASH_LEN);
    crypto_hash_sha256(r.content_sha256, (const uint8_t *)content, (size_t)clen);
    ip_receipt rec;
    memset(&rec, 0, sizeof rec);
    rec.serial = r.seq;
    snprintf(rec.work_id, sizeof rec.work_id, "%s", work_id);
    memcpy(rec.content_sha256, r.content_sha256, IP_HASH_LEN);
    rec.registered_at_us = now_us;
    if (ip_chain_hash(&r, rec.chain_hash) < 0 || ip_receipt_sign(&rec, key) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "could not hash or sign the anchor of %s", h->producer);
    char content_hex[IP_HASH_LEN * 2 + 1], prev_hex[IP_HASH_LEN * 2 + 1],
        chain_hex[IP_HASH_LEN * 2 + 1], sig_hex[IP_SIGNATURE_LEN * 2 + 1], seq_s[24], at_s[24],
        period_s[24], pos_s[24];
    ip_hex(r.content_sha256, IP_HASH_LEN, content_hex);
    ip_hex(prev, IP_HASH_LEN, prev_hex);
    ip_hex(rec.chain_hash, IP_HASH_LEN, chain_hex);
    ip_hex(rec.signature, IP_SIGNATURE_LEN, sig_hex);
    snprintf(seq_s, sizeof seq_s, "%" PRIu64, r.seq);
    snprintf(at_s, sizeof at_s, "%" PRId64, now_us);
    snprintf(period_s, sizeof period_s, "%" PRId64, period);
    snprintf(pos_s, sizeof pos_s, "%" PRIu64, h->position);
    const char *v[] = {work_id,     title,    day,       content_hex, cmd->actor.id, owner.party,
                       seq_s,       prev_hex, chain_hex, at_s,        key->key_id,   sig_hex,
                       h->producer, period_s, pos_s,     hash_hex};
    PGresult *res = NULL;
    rc = ccip_db_exec(cmd->db, &S_WRITE, 16, v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int wrote = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "1") == 0;
    PQclear(res);
    if (!wrote)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "the anchor of %s was not written; nothing was registered",
                                 h->producer);
    *seq = r.seq;
    memcpy(prev, rec.chain_hash, IP_HASH_LEN);

    char *text = ccip_arena_alloc(a, IP_RECEIPT_MAX);
    uint8_t *hash = ccip_arena_alloc(a, CCIP_CHAIN_HASH_LEN);
    if (!text || !hash || ip_receipt_format(&rec, text, IP_RECEIPT_MAX) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    memcpy(hash, h->hash, CCIP_CHAIN_HASH_LEN);
    out->producer = ccip_arena_strdup(a, h->producer);
    out->position = h->position;
    out->hash.data = hash;
    out->hash.len = CCIP_CHAIN_HASH_LEN;
    out->period_start_s = period;
    out->serial = r.seq;
    out->work_id = ccip_arena_strdup(a, work_id);
    out->registered_at_us = now_us;
    out->receipt = text;
    ccip_log_info("anchored an event chain", "producer", h->producer, "position", pos_s, "hash",
                  hash_hex, "serial", seq_s);
    return 0;
}

int ip_anchor_run(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)request;
    const ip_config *cfg = ip_config_get(cmd);
    int64_t period = s_period(cmd);

    /* 1. the heads, asked before anything is locked */
    s_head *heads = ccip_arena_alloc(a, ANCHOR_PRODUCERS_MAX * sizeof *heads);
    if (!heads)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    size_t n = 0;
    const char *p = cfg->anchor_producers ? cfg->anchor_producers : "";
    while (*p && n < ANCHOR_PRODUCERS_MAX) {
        size_t len = strcspn(p, ", ");
        if (len > 0 && len <= ANCHOR_NAME_MAX) {
            memset(&heads[n], 0, sizeof heads[n]);
            memcpy(heads[n].producer, p, len);
            n++;
        }
        p += len;
        p += strspn(p, ", ");
    }
    ccip_client *client = NULL;
    char err[300];
    for (size_t i = 0; i < n; i++) {
        s_head *h = &heads[i];
        if (strcmp(h->producer, "ip") == 0) {
            PGresult *res = NULL;
            int rc = ccip_db_exec(cmd->db, &S_OWN_HEAD, 0, NULL, NULL, NULL, &res);
            if (rc != CCIP_DB_OK) {
                ccip_client_destroy(&client);
                return rc;
            }
            h->position = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
            if (ip_unhex(PQgetvalue(res, 0, 1), h->hash, CCIP_CHAIN_HASH_LEN) < 0)
                snprintf(h->why, sizeof h->why, "its head hash does not read");
            PQclear(res);
        } else {
            if (!client && !(client = ccip_service_client_new(cmd->service, err, sizeof err))) {
                ccip_log_error("could not make a bus client to ask for heads", "reason", err);
                return ccip_command_fail(cmd, CCIP__STATUS__UNAVAILABLE,
                                         "could not reach the bus to ask for heads: %s", err);
            }
            s_ask(client, h);
        }
        if (!h->why[0] && h->position == 0)
            snprintf(h->why, sizeof h->why, "it has published nothing yet");
    }
    ccip_client_destroy(&client);

    /* 2. those not anchored yet, registered one after the other */
    Ccip__Ip__RunAnchorsReply reply = CCIP__IP__RUN_ANCHORS_REPLY__INIT;
    reply.anchors = ccip_arena_alloc(a, (n ? n : 1) * sizeof *reply.anchors);
    reply.skipped = ccip_arena_alloc(a, (n ? n : 1) * sizeof *reply.skipped);
    if (!reply.anchors || !reply.skipped)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    char period_s[24];
    snprintf(period_s, sizeof period_s, "%" PRId64, period);
    for (size_t i = 0; i < n; i++) {
        s_head *h = &heads[i];
        if (h->why[0])
            continue;
        char pos_s[24], hex[CCIP_CHAIN_HASH_HEX + 1];
        snprintf(pos_s, sizeof pos_s, "%" PRIu64, h->position);
        ccip_chain_hex(h->hash, CCIP_CHAIN_HASH_LEN, hex);
        const char *v[] = {h->producer, pos_s, hex, period_s};
        PGresult *res = NULL;
        int rc = ccip_db_exec(cmd->db, &S_DONE, 4, v, NULL, NULL, &res);
        if (rc != CCIP_DB_OK)
            return rc;
        if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
            snprintf(h->why, sizeof h->why, "position %s or this period is anchored already",
                     pos_s);
        PQclear(res);
    }
    ip_key key;
    memset(&key, 0, sizeof key); /* loaded before the first anchor */
    int have_key = 0;
    uint64_t seq = 0;
    uint8_t prev[IP_HASH_LEN];
    int64_t now_us = 0;
    char day[16] = "";
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        s_head *h = &heads[i];
        if (h->why[0]) {
            char *s = ccip_arena_alloc(a, sizeof h->producer + sizeof h->why + 4);
            if (s) {
                sprintf(s, "%s: %s", h->producer, h->why);
                reply.skipped[reply.n_skipped++] = s;
            }
            ccip_log_info("event chain not anchored", "producer", h->producer, "reason", h->why);
            continue;
        }
        if (!have_key) {
            /* the key before the head's lock: nothing slow under it */
            if (ip_signer_get(cfg->signing_key_file, &key, err, sizeof err) < 0) {
                ccip_log_error("could not load the signing key", "reason", err);
                return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                         "the registry cannot sign receipts now (its signing key "
                                         "is unavailable); nothing was anchored");
            }
            have_key = 1;
            PGresult *res = NULL;
            if ((rc = ccip_db_exec(cmd->db, &S_LOCK_HEAD, 0, NULL, NULL, NULL, &res)) != CCIP_DB_OK)
                break;
            seq = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
            if (ip_unhex(PQgetvalue(res, 0, 1), prev, IP_HASH_LEN) < 0)
                rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                       "the registration chain's head hash does not read");
            now_us = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
            snprintf(day, sizeof day, "%s", PQgetvalue(res, 0, 3));
            PQclear(res);
            if (rc)
                break;
        }
        Ccip__Ip__Anchor *out = ccip_arena_alloc(a, sizeof *out);
        if (!out) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
            break;
        }
        ccip__ip__anchor__init(out);
        rc = s_register(cmd, a, h, period, &key, now_us, day, &seq, prev, out);
        if (rc == 0)
            reply.anchors[reply.n_anchors++] = out;
    }
    if (have_key)
        ip_key_wipe(&key);
    if (rc)
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

int ip_anchor_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ListAnchorsRequest *rq = request;
    int rc = ccip_command_check_code(cmd, "producer", rq->producer, ANCHOR_NAME_MAX);
    if (rc)
        return rc;
    char after[24], limit[16];
    snprintf(after, sizeof after, "%" PRId64, rq->after_period_start_s);
    snprintf(limit, sizeof limit, "%d", ANCHOR_LIST_MAX);
    const char *v[] = {rq->producer, after, limit};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_LIST, 3, v, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    Ccip__Ip__ListAnchorsReply reply = CCIP__IP__LIST_ANCHORS_REPLY__INIT;
    reply.anchors = ccip_arena_alloc(a, (rows ? (size_t)rows : 1) * sizeof *reply.anchors);
    for (int i = 0; reply.anchors && i < rows; i++) {
        Ccip__Ip__Anchor *x = ccip_arena_alloc(a, sizeof *x);
        uint8_t *hash = ccip_arena_alloc(a, CCIP_CHAIN_HASH_LEN);
        char *text = ccip_arena_alloc(a, IP_RECEIPT_MAX);
        if (!x || !hash || !text)
            break;
        ccip__ip__anchor__init(x);
        ip_receipt r;
        memset(&r, 0, sizeof r);
        x->producer = rq->producer;
        x->position = strtoull(PQgetvalue(res, i, 0), NULL, 10);
        if (ip_unhex(PQgetvalue(res, i, 1), hash, CCIP_CHAIN_HASH_LEN) == 0) {
            x->hash.data = hash;
            x->hash.len = CCIP_CHAIN_HASH_LEN;
        }
        x->period_start_s = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        x->serial = r.serial = strtoull(PQgetvalue(res, i, 3), NULL, 10);
        x->work_id = ccip_arena_strdup(a, PQgetvalue(res, i, 4));
        snprintf(r.work_id, sizeof r.work_id, "%s", PQgetvalue(res, i, 4));
        x->registered_at_us = r.registered_at_us = strtoll(PQgetvalue(res, i, 5), NULL, 10);
        snprintf(r.key_id, sizeof r.key_id, "%s", PQgetvalue(res, i, 8));
        if (ip_unhex(PQgetvalue(res, i, 6), r.content_sha256, IP_HASH_LEN) == 0 &&
            ip_unhex(PQgetvalue(res, i, 7), r.chain_hash, IP_HASH_LEN) == 0 &&
            ip_unhex(PQgetvalue(res, i, 9), r.signature, IP_SIGNATURE_LEN) == 0 &&
            ip_receipt_format(&r, text, IP_RECEIPT_MAX) >= 0)
            x->receipt = text;
        reply.anchors[reply.n_anchors++] = x;
    }
    PQclear(res);
    if (!reply.anchors || ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    return ccip_command_reply(cmd, &reply.base);
}
