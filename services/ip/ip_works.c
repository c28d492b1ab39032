#include "ip_works.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/funding.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_log.h"
#include "ccip_outbox.h"
#include "ip_chain.h"
#include "ip_keys.h"
#include "ip_pg.h"
#include "ip_receipts.h"

#define CHAIN_DEFAULT 2000 /* chain records per batch unless asked */
#define CHAIN_MAX     5000

/* ---- reading works --------------------------------------------------------- */

/* The columns every work read returns, in this order (see s_fill_work). */
#define WORK_COLUMNS                                                                               \
    "w.id, c.seq, w.kind, w.title, c.creators, c.created_on, encode(c.content_sha256, 'hex'), "    \
    "c.registered_at_us, w.registrant, w.frozen_by IS NOT NULL, w.review, encode(c.hash, 'hex'), " \
    "EXISTS (SELECT 1 FROM work_content x WHERE x.work_id = w.id), "                               \
    "(SELECT array_agg(o.party ORDER BY o.party COLLATE \"C\") FROM work_owner o "                 \
    "  WHERE o.work_id = w.id), "                                                                  \
    "(SELECT array_agg(o.share_bp ORDER BY o.party COLLATE \"C\") FROM work_owner o "              \
    "  WHERE o.work_id = w.id), "                                                                  \
    "c.key_id, encode(c.signature, 'hex'), "                                                       \
    "coalesce((SELECT k.case_root::text FROM work_case k WHERE k.work_id = w.id "                  \
    "  ORDER BY k.linked_at, k.award_id LIMIT 1), '') "                                            \
    "FROM work w JOIN chain c ON c.work_id = w.id "
enum {
    C_ID,
    C_SEQ,
    C_KIND,
    C_TITLE,
    C_CREATORS,
    C_CREATED_ON,
    C_CONTENT,
    C_AT,
    C_REGISTRANT,
    C_FROZEN,
    C_REVIEW,
    C_HASH,
    C_HAS_CONTENT,
    C_PARTIES,
    C_SHARES,
    C_KEY_ID,
    C_SIGNATURE,
    C_CASE_ROOT,
};

static const ccip_db_stmt S_WORK_BY_ID = {"ip_work_by_id",
                                          "SELECT " WORK_COLUMNS "WHERE w.id = $1::uuid"};
static const ccip_db_stmt S_WORK_BY_SERIAL = {"ip_work_by_serial",
                                              "SELECT " WORK_COLUMNS "WHERE c.seq = $1::bigint"};
static const ccip_db_stmt S_WORK_LIST = {
    "ip_work_list", "SELECT " WORK_COLUMNS
                    "WHERE c.seq > $2::bigint AND ($1 = '' OR EXISTS (SELECT 1 FROM work_owner o "
                    "WHERE o.work_id = w.id AND o.party = $1)) ORDER BY c.seq LIMIT $3::integer"};
static const ccip_db_stmt S_WORK_REVIEW = {
    "ip_work_review",
    "SELECT " WORK_COLUMNS "WHERE w.review = 'FLAGGED' ORDER BY c.seq LIMIT $1::integer"};
static const ccip_db_stmt S_SIMILAR_OF = {
    "ip_similar_of", "SELECT s.similar_id, c.seq, w.title, s.similarity_pct FROM work_similar s "
                     "JOIN work w ON w.id = s.similar_id JOIN chain c ON c.work_id = s.similar_id "
                     "WHERE s.work_id = $1::uuid ORDER BY s.similarity_pct DESC, c.seq"};

/* Fills w from row `row` of a WORK_COLUMNS result; strings are copied into
 * the arena. Returns 0 or -1 (out of memory or a malformed row). */
static int s_fill_work(ccip_arena *a, const PGresult *res, int row, void *msg)
{
    Ccip__Ip__Work *w = msg;
    ccip__ip__work__init(w);
    w->id = ccip_arena_strdup(a, PQgetvalue(res, row, C_ID));
    w->serial = strtoull(PQgetvalue(res, row, C_SEQ), NULL, 10);
    w->serial_text = ccip_arena_alloc(a, 24);
    if (w->serial_text)
        ip_serial_text(w->serial, w->serial_text, 24);
    w->kind = ip_enum_value(&ccip__ip__work_kind__descriptor, PQgetvalue(res, row, C_KIND));
    w->title = ccip_arena_strdup(a, PQgetvalue(res, row, C_TITLE));
    if (ip_pg_text_array(a, PQgetvalue(res, row, C_CREATORS), &w->creators, &w->n_creators) < 0)
        return -1;
    ccip_row_fill(&w->base, res, row, C_CREATED_ON,
                  "created_on, content_sha256, registered_at_us, registrant, frozen, review, "
                  "chain_hash, has_content",
                  a);
    char **parties = NULL;
    uint32_t *shares = NULL;
    size_t np = 0, ns = 0;
    if (!PQgetisnull(res, row, C_PARTIES) &&
        (ip_pg_text_array(a, PQgetvalue(res, row, C_PARTIES), &parties, &np) < 0 ||
         ip_pg_uint_array(a, PQgetvalue(res, row, C_SHARES), &shares, &ns) < 0 || np != ns))
        return -1;
    w->owners = ccip_arena_alloc(a, (np ? np : 1) * sizeof *w->owners);
    for (size_t i = 0; w->owners && i < np; i++) {
        Ccip__Ip__Owner *o = ccip_arena_alloc(a, sizeof *o);
        if (!o)
            return -1;
        ccip__ip__owner__init(o);
        o->party = parties[i];
        o->share_bp = shares[i];
        w->owners[i] = o;
    }
    w->n_owners = np;
    w->case_root = ccip_arena_strdup(a, PQgetvalue(res, row, C_CASE_ROOT));
    return ccip_arena_failed(a) ? -1 : 0;
}

/* The receipt of row `row` of a WORK_COLUMNS result, as text (arena). */
static char *s_row_receipt(ccip_arena *a, const PGresult *res, int row)
{
    ip_receipt r;
    memset(&r, 0, sizeof r);
    r.serial = strtoull(PQgetvalue(res, row, C_SEQ), NULL, 10);
    snprintf(r.work_id, sizeof r.work_id, "%s", PQgetvalue(res, row, C_ID));
    r.registered_at_us = strtoll(PQgetvalue(res, row, C_AT), NULL, 10);
    snprintf(r.key_id, sizeof r.key_id, "%s", PQgetvalue(res, row, C_KEY_ID));
    char *text = ccip_arena_alloc(a, IP_RECEIPT_MAX);
    if (!text || ip_unhex(PQgetvalue(res, row, C_CONTENT), r.content_sha256, IP_HASH_LEN) < 0 ||
        ip_unhex(PQgetvalue(res, row, C_HASH), r.chain_hash, IP_HASH_LEN) < 0 ||
        ip_unhex(PQgetvalue(res, row, C_SIGNATURE), r.signature, IP_SIGNATURE_LEN) < 0 ||
        ip_receipt_format(&r, text, IP_RECEIPT_MAX) < 0)
        return NULL;
    return text;
}

/* The near-duplicates recorded for work_id. */
static int s_load_similar(ccip_command *cmd, ccip_arena *a, const char *work_id,
                          Ccip__Ip__SimilarWork ***out, size_t *n)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_SIMILAR_OF, 1, &work_id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    *out = ccip_arena_alloc(a, (size_t)(rows ? rows : 1) * sizeof **out);
    *n = 0;
    for (int i = 0; *out && i < rows; i++) {
        Ccip__Ip__SimilarWork *s = ccip_row_new(a, CCIP_MSG(ip, similar_work), res, i, 0,
                                                "work_id, serial, title, similarity_pct");
        if (!s)
            break;
        (*out)[(*n)++] = s;
    }
    PQclear(res);
    return ccip_arena_failed(a) ? CCIP_DB_ERROR : 0;
}

/* Reads one work (by id, or by serial when id is NULL) into a WorkReply.
 * Returns 0, CCIP_REPLIED (NOT_FOUND) or a negative ccip_db_rc. */
static int s_load_work(ccip_command *cmd, ccip_arena *a, const char *id, uint64_t serial,
                       Ccip__Ip__WorkReply *reply)
{
    PGresult *res = NULL;
    char s[24];
    const char *v = id;
    if (!id) {
        snprintf(s, sizeof s, "%" PRIu64, serial);
        v = s;
    }
    int rc = ccip_db_exec(cmd->db, id ? &S_WORK_BY_ID : &S_WORK_BY_SERIAL, 1, &v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        if (id)
            return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "no work %s is registered", id);
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "no work has serial %" PRIu64,
                                 serial);
    }
    reply->work = ccip_arena_alloc(a, sizeof *reply->work);
    if (!reply->work || s_fill_work(a, res, 0, reply->work) < 0 ||
        !(reply->receipt = s_row_receipt(a, res, 0))) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "could not read work %s: a malformed row", id ? id : s);
    }
    PQclear(res);
    return s_load_similar(cmd, a, reply->work->id, &reply->similar, &reply->n_similar);
}

/* ---- for registration (ip_register.c) ---------------------------------------------- */

int ip_work_load(ccip_command *cmd, ccip_arena *a, const char *id, Ccip__Ip__WorkReply *reply)
{
    return s_load_work(cmd, a, id, 0, reply);
}

/* ---- reads ------------------------------------------------------------------------- */

int ip_work_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__GetWorkRequest *rq = request;
    int rc;
    char err[200];
    Ccip__Ip__WorkReply reply = CCIP__IP__WORK_REPLY__INIT;
    if (rq->work_id[0] && ip_check_uuid("work_id", rq->work_id, err, sizeof err) < 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    else if (!rq->work_id[0] && rq->serial == 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "give either `work_id` or `serial` (1 or more)");
    else if ((rc = s_load_work(cmd, a, rq->work_id[0] ? rq->work_id : NULL, rq->serial, &reply)) ==
             0)
        rc = ccip_command_reply(cmd, &reply.base);
    return rc;
}

static const ip_rows S_WORKS = {"work", sizeof(Ccip__Ip__Work), s_fill_work};

int ip_work_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ListWorksRequest *rq = request;
    char err[300], after[24], limit[24];
    int rc = 0;
    if (rq->owner[0] && ip_check_party("owner", rq->owner, err, sizeof err) < 0) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
        return rc;
    }
    const char *v[] = {rq->owner, ccip_i64_text((int64_t)rq->after_serial, after),
                       ip_list_limit(rq->limit, limit)};
    Ccip__Ip__ListWorksReply reply = CCIP__IP__LIST_WORKS_REPLY__INIT;
    if (!(reply.works = ip_read_list(cmd, a, &S_WORK_LIST, 3, v, &S_WORKS, &reply.n_works, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

int ip_key_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)a;
    (void)request; /* ip.KeyRequest has no fields */
    ip_key key;
    char err[512], text[512], pub[IP_PUBLIC_KEY_LEN * 2 + 1];
    if (ip_key_load_public(ip_config_get(cmd)->signing_key_file, &key, err, sizeof err) < 0) {
        ccip_log_error("could not load the signing key", "reason", err);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "the registry's signing key is unavailable; ask its operator");
    }
    ip_hex(key.public_key, IP_PUBLIC_KEY_LEN, pub);
    if (ip_key_public_text(&key, text, sizeof text) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not write the public key");
    Ccip__Ip__KeyReply reply = CCIP__IP__KEY_REPLY__INIT;
    reply.public_key = pub;
    reply.key_id = key.key_id;
    reply.key_file = text;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- the chain ------------------------------------------------------------------------ */

static const ccip_db_stmt S_CHAIN_HEAD = {"ip_chain_head",
                                          "SELECT seq, encode(hash, 'hex') FROM chain_head"};
/* A range of seqs rather than "from, LIMIT n": on a young table whose
 * statistics lag, the planner may otherwise sort the whole chain to find
 * the first n; a range is always an index range scan. The chain is gap-free,
 * so the range holds n records unless some were removed (which the audit
 * reports). */
static const ccip_db_stmt S_CHAIN_READ = {
    "ip_chain_read",
    "SELECT seq, encode(prev_hash, 'hex'), encode(hash, 'hex'), work_id, kind, title, "
    "owner_parties, owner_shares, creators, created_on, encode(content_sha256, 'hex'), "
    "registered_at_us, registrant, key_id, encode(signature, 'hex') "
    "FROM chain WHERE seq >= $1::bigint AND seq < $1::bigint + $2::integer ORDER BY seq"};

/* Copies a hex column into an arena-owned ProtobufCBinaryData of n bytes. */
static int s_bin(ccip_arena *a, const char *hex, size_t n, ProtobufCBinaryData *out)
{
    out->data = ccip_arena_alloc(a, n);
    out->len = n;
    return out->data && ip_unhex(hex, out->data, n) == 0 ? 0 : -1;
}

int ip_chain_read(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ReadChainRequest *rq = request;
    PGresult *head = NULL, *res = NULL;
    int rc = 0;
    char from[24], max[24];
    uint32_t n = rq->max ? rq->max : CHAIN_DEFAULT;
    if (n > CHAIN_MAX)
        n = CHAIN_MAX;
    const char *v[] = {ccip_i64_text((int64_t)(rq->from_seq ? rq->from_seq : 1), from),
                       ccip_i64_text((int64_t)n, max)};
    /* Head first: every record up to it is committed (they commit together),
     * so the batch holds all of them that it reaches. */
    if ((rc = ccip_db_exec(cmd->db, &S_CHAIN_HEAD, 0, NULL, NULL, NULL, &head)) != CCIP_DB_OK ||
        (rc = ccip_db_exec(cmd->db, &S_CHAIN_READ, 2, v, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    Ccip__Ip__ChainBatch batch = CCIP__IP__CHAIN_BATCH__INIT;
    batch.head_seq = strtoull(PQgetvalue(head, 0, 0), NULL, 10);
    int bad = s_bin(a, PQgetvalue(head, 0, 1), IP_HASH_LEN, &batch.head_hash) < 0;
    int rows = PQntuples(res);
    batch.records = ccip_arena_alloc(a, (size_t)(rows ? rows : 1) * sizeof *batch.records);
    Ccip__Ip__ChainRecord *recs = ccip_arena_alloc(a, (size_t)(rows ? rows : 1) * sizeof *recs);
    bad |= !batch.records || !recs;
    for (int i = 0; !bad && i < rows; i++) {
        Ccip__Ip__ChainRecord *r = &recs[i];
        ccip__ip__chain_record__init(r);
        r->seq = strtoull(PQgetvalue(res, i, 0), NULL, 10);
        if (r->seq > batch.head_seq)
            break; /* committed after the head was read: the next batch has it */
        bad |= s_bin(a, PQgetvalue(res, i, 1), IP_HASH_LEN, &r->prev_hash) < 0;
        bad |= s_bin(a, PQgetvalue(res, i, 2), IP_HASH_LEN, &r->hash) < 0;
        r->work_id = PQgetvalue(res, i, 3);
        r->kind = PQgetvalue(res, i, 4);
        r->title = PQgetvalue(res, i, 5);
        char **parties = NULL;
        uint32_t *shares = NULL;
        size_t np = 0, ns = 0;
        bad |= ip_pg_text_array(a, PQgetvalue(res, i, 6), &parties, &np) < 0 ||
               ip_pg_uint_array(a, PQgetvalue(res, i, 7), &shares, &ns) < 0 || np != ns ||
               ip_pg_text_array(a, PQgetvalue(res, i, 8), &r->creators, &r->n_creators) < 0;
        if (bad)
            break;
        r->owners = ccip_arena_alloc(a, (np ? np : 1) * sizeof *r->owners);
        Ccip__Ip__Owner *ov = ccip_arena_alloc(a, (np ? np : 1) * sizeof *ov);
        bad |= !r->owners || !ov;
        for (size_t k = 0; !bad && k < np; k++) {
            ccip__ip__owner__init(&ov[k]);
            ov[k].party = parties[k];
            ov[k].share_bp = shares[k];
            r->owners[k] = &ov[k];
        }
        r->n_owners = np;
        r->created_on = PQgetvalue(res, i, 9);
        bad |= s_bin(a, PQgetvalue(res, i, 10), IP_HASH_LEN, &r->content_sha256) < 0;
        r->registered_at_us = strtoll(PQgetvalue(res, i, 11), NULL, 10);
        r->registrant = PQgetvalue(res, i, 12);
        r->key_id = PQgetvalue(res, i, 13);
        if (!rq->without_signatures)
            bad |= s_bin(a, PQgetvalue(res, i, 14), IP_SIGNATURE_LEN, &r->signature) < 0;
        batch.records[batch.n_records++] = r;
    }
    if (bad)
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__INTERNAL,
            "could not read the chain: a malformed row near record %s (run ccipctl ip "
            "audit-chain)",
            v[0]);
    else
        rc = ccip_command_reply(cmd, &batch.base);
out:
    PQclear(head);
    PQclear(res);
    return rc;
}

/* ---- review of near-duplicates ------------------------------------------------------- */

static const ccip_db_stmt S_REVIEW_RESOLVE = {
    "ip_review_resolve",
    "UPDATE work SET review = $2, review_note = $3, reviewed_by = $4 WHERE id = $1::uuid "
    "AND review = 'FLAGGED' RETURNING id"};

int ip_review_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ListReviewRequest *rq = request;
    PGresult *res = NULL;
    char limit[24];
    const char *v[] = {ip_list_limit(rq->limit, limit)};
    int rc = ccip_db_exec(cmd->db, &S_WORK_REVIEW, 1, v, NULL, NULL, &res);
    if (rc != 0)
        goto out;
    Ccip__Ip__ListReviewReply reply = CCIP__IP__LIST_REVIEW_REPLY__INIT;
    Ccip__Ip__Work **works = NULL;
    size_t n = 0;
    if (!(works = ip_read_all(a, res, &S_WORKS, &n))) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                               "could not read the works: a malformed row");
        goto out;
    }
    reply.items = ccip_arena_alloc(a, (n ? n : 1) * sizeof *reply.items);
    for (size_t i = 0; reply.items && i < n; i++) {
        Ccip__Ip__ReviewItem *it = ccip_arena_alloc(a, sizeof *it);
        if (!it)
            break;
        ccip__ip__review_item__init(it);
        it->work = works[i];
        if ((rc = s_load_similar(cmd, a, works[i]->id, &it->similar, &it->n_similar)) != 0)
            goto out;
        reply.items[reply.n_items++] = it;
    }
    rc = ccip_command_reply_built(cmd, a, &reply.base);
out:
    PQclear(res);
    return rc;
}

int ip_review_resolve(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ResolveReviewRequest *rq = request;
    char err[400];
    int rc = ccip_command_invalid(cmd, ip_check_uuid("work_id", rq->work_id, err, sizeof err), err);
    if (rc != 0 ||
        (rc = ccip_command_invalid(cmd,
                                   ip_check_enum("decision", &ccip__ip__review_decision__descriptor,
                                                 rq->decision, err, sizeof err),
                                   err)) != 0 ||
        (rc = ccip_command_check_text(cmd, "note", rq->note, 1, IP_NOTE_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0)
        return rc;
    PGresult *res = NULL;
    const char *v[] = {rq->work_id,
                       ip_enum_name(&ccip__ip__review_decision__descriptor, rq->decision), rq->note,
                       cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, &S_REVIEW_RESOLVE, 4, v, NULL, NULL, &res)) != 0)
        return rc;
    int hit = PQntuples(res) == 1;
    PQclear(res);
    if (!hit)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "work %s is not waiting for review (unknown, never flagged, or already "
            "resolved)",
            rq->work_id);
    Ccip__Ip__WorkReply reply = CCIP__IP__WORK_REPLY__INIT;
    if ((rc = s_load_work(cmd, a, rq->work_id, 0, &reply)) != 0)
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- shared with trades and disputes ----------------------------------------------------- */

static const ccip_db_stmt S_WORK_LOCK = {
    "ip_work_lock",
    "SELECT w.id, c.seq, w.title, coalesce(w.frozen_by::text, ''), coalesce((SELECT "
    "k.case_root::text FROM work_case k WHERE k.work_id = w.id ORDER BY k.linked_at, k.award_id "
    "LIMIT 1), '') FROM work w JOIN chain c ON c.work_id = w.id WHERE w.id = $1::uuid "
    "FOR UPDATE OF w"};
static const ccip_db_stmt S_WORK_OWNERS = {
    "ip_work_owners", "SELECT party, share_bp FROM work_owner WHERE work_id = $1::uuid "
                      "ORDER BY party COLLATE \"C\""};

int ip_work_lock(ccip_command *cmd, const char *work_id, ip_work_state *w)
{
    char err[200];
    if (ip_check_uuid("work_id", work_id, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    PGresult *res = NULL;
    int rc =
        ccip_command_row(cmd, &S_WORK_LOCK, 1, &work_id, &res, "no work %s is registered", work_id);
    if (rc != 0)
        return rc;
    snprintf(w->id, sizeof w->id, "%s", PQgetvalue(res, 0, 0));
    w->serial = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    snprintf(w->title, sizeof w->title, "%s", PQgetvalue(res, 0, 2));
    snprintf(w->frozen_by, sizeof w->frozen_by, "%s", PQgetvalue(res, 0, 3));
    w->frozen = w->frozen_by[0] != '\0';
    snprintf(w->case_root, sizeof w->case_root, "%s", PQgetvalue(res, 0, 4));
    PQclear(res);
    /* A work a funded project uses belongs to that case: what is done with
     * it (trades, disputes) is part of the case. */
    return w->case_root[0] ? ccip_command_case(cmd, w->case_root) : 0;
}

/* ---- the case of a work: funding.award.work_linked.v1 ------------------------------ */

static const ccip_db_stmt S_CASE_LINK = {
    "ip_work_case_link",
    "INSERT INTO work_case (work_id, award_id, case_root, event_id, linked_at) "
    "SELECT w.id, $2::uuid, $3::uuid, $4, " CCIP_SQL_TS(
        "$5") " FROM work w WHERE w.id = $1::uuid "
              "ON CONFLICT DO NOTHING RETURNING work_id"};
static const ccip_db_stmt S_WORK_EXISTS = {"ip_work_exists",
                                           "SELECT 1 FROM work WHERE id = $1::uuid"};

int ip_on_work_linked(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    char err[256], pos[24];
    snprintf(pos, sizeof pos, "%" PRIu64, ev->position);
    Ccip__Funding__WorkLinked *m = (Ccip__Funding__WorkLinked *)ccip_payload_unpack(
        &ccip__funding__work_linked__descriptor, ev->payload.data, ev->payload.len,
        CCIP_OUTBOX_PAYLOAD_MAX, err, sizeof err);
    if (!m) {
        ccip_log_warn("skipped an undecodable work link", "event", ev->id, "position", pos,
                      "reason", err);
        return 0;
    }
    int rc = 0;
    PGresult *res = NULL;
    if (!ccip_uuid_valid(m->work_id) || !ccip_uuid_valid(m->award_id) ||
        !ccip_uuid_valid(m->case_root)) {
        ccip_log_warn("skipped a work link without its work, award or case", "event", ev->id,
                      "position", pos);
        goto out;
    }
    char at[24];
    snprintf(at, sizeof at, "%" PRId64, m->linked_at_us ? m->linked_at_us : ev->occurred_at_us);
    const char *v[] = {m->work_id, m->award_id, m->case_root, ev->id, at};
    if ((rc = ccip_db_exec(db, &S_CASE_LINK, 5, v, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    int linked = PQntuples(res) == 1;
    PQclear(res);
    res = NULL;
    if (!linked) {
        /* Linked before (a replay), or a work ip never registered: funding
         * checks only that the id is a UUID. */
        if ((rc = ccip_db_exec(db, &S_WORK_EXISTS, 1, v, NULL, NULL, &res)) == CCIP_DB_OK &&
            PQntuples(res) == 0)
            ccip_log_warn("a funded project names a work ip has not registered; it joins no case",
                          "work", m->work_id, "award", m->award_id, "event", ev->id);
        goto out;
    }
    if ((rc = ccip_db_exec(db, &S_WORK_BY_ID, 1, v, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    ccip_arena *a = ccip_arena_new();
    Ccip__Ip__WorkLinked out = CCIP__IP__WORK_LINKED__INIT;
    out.work = a ? ccip_arena_alloc(a, sizeof *out.work) : NULL;
    if (!out.work || PQntuples(res) != 1 || s_fill_work(a, res, 0, out.work) < 0) {
        rc = -1; /* out of memory or a malformed row: tried again later */
    } else {
        out.award_id = m->award_id;
        out.case_root = m->case_root;
        out.linked_at_us = strtoll(at, NULL, 10);
        rc = ccip_outbox_emit_caused(db, ev, "ip.work.linked.v1", "work", m->work_id, &out.base);
    }
    ccip_arena_destroy(&a);
    if (rc == 0)
        ccip_log_info("work joined a case", "work", m->work_id, "award", m->award_id, "case",
                      m->case_root);
out:
    PQclear(res);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return rc;
}

int ip_work_frozen_fail(ccip_command *cmd, const ip_work_state *w, const char *what)
{
    char serial[24];
    ip_serial_text(w->serial, serial, sizeof serial);
    return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                             "work %s (%s) is frozen by upheld dispute %s and cannot be %s", serial,
                             w->id, w->frozen_by, what);
}

int ip_work_owners(ccip_command *cmd, ccip_arena *a, const char *work_id, Ccip__Ip__Owner ***owners,
                   size_t *n)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_WORK_OWNERS, 1, &work_id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    *owners = ccip_arena_alloc(a, (size_t)(rows ? rows : 1) * sizeof **owners);
    *n = 0;
    for (int i = 0; *owners && i < rows; i++) {
        Ccip__Ip__Owner *o = ccip_arena_alloc(a, sizeof *o);
        if (!o)
            break;
        ccip__ip__owner__init(o);
        o->party = ccip_arena_strdup(a, PQgetvalue(res, i, 0));
        o->share_bp = (uint32_t)atoi(PQgetvalue(res, i, 1));
        (*owners)[(*n)++] = o;
    }
    PQclear(res);
    return ccip_arena_failed(a) ? CCIP_DB_ERROR : 0;
}
