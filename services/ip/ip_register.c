#include "ip_register.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_pgarray.h"
#include "ip_chain.h"
#include "ip_keys.h"
#include "ip_receipts.h"
#include "ip_signer.h"
#include "ip_similarity.h"
#include "ip_works.h"

#define SIMILAR_MAX 10 /* near-duplicates listed per work */
/* Content up to this size travels inside the batch's one write statement
 * (as hex text, twice its size); larger content gets a statement of its own
 * with the bytes as a binary parameter, so that a batch of large contents
 * never builds one huge parameter. */
#define CONTENT_INLINE_MAX (64 * 1024)

/* Step 2 (ip_register.h): what the database knows about every request of
 * the batch, and the chain head, locked last; register_check is in
 * sql/0002_register_check.sql. Rows:
 *   'D', i, work id, serial, registered_at_us, 't'/'f' (the party owns it), NULL
 *        the registered work with request i's content ($1, $2: content and
 *        registering party of each request, i counts from 1);
 *   'S', i, work id, serial, NULL, title, MinHash signature (hex)
 *        a work sharing a band key with request i ($3, $4, $5: request,
 *        band, key);
 *   'H', 0, head hash (hex), head serial, the database clock (UTC us)
 *        the chain head, FOR UPDATE. */
static const ccip_db_stmt S_CHECK = {
    "ip_register_check", "SELECT * FROM register_check($1::bytea[], $2::text[], $3::bigint[], "
                         "$4::smallint[], $5::bigint[])"};

/* Step 4: every new work of the batch with everything about it, its chain
 * record, and the head moved once. The works' rows (t) are in chain order;
 * owners, content, MinHash, bands and near-duplicates are one row each,
 * keyed by work id. A record's owners, shares and creators are arrays of
 * their own, so they travel as array literals (text) cast in SQL. ON
 * CONFLICT: identical content committed since step 2 read (see
 * ip_register.h); fewer works come back and the batch is run again. */
enum {
    W_ID = 0, /* $1 ... $15: one element per new work */
    W_KIND,
    W_TITLE,
    W_CREATED_ON,
    W_CONTENT_SHA256,
    W_REGISTRANT,
    W_REVIEW,
    W_SEQ,
    W_PREV_HASH,
    W_HASH,
    W_PARTIES,
    W_SHARES,
    W_CREATORS,
    W_ACTOR,
    W_SIGNATURE,
    W_OWNER_WORK, /* $16 ... $18: one per owner */
    W_OWNER_PARTY,
    W_OWNER_SHARE,
    W_CONTENT_WORK, /* $19, $20: one per content stored inline */
    W_CONTENT,
    W_MINHASH_WORK, /* $21, $22: one per MinHash signature */
    W_MINHASH,
    W_BAND_WORK, /* $23 ... $25: one per band key */
    W_BAND,
    W_BAND_KEY,
    W_SIMILAR_WORK, /* $26 ... $28: one per near-duplicate */
    W_SIMILAR_ID,
    W_SIMILAR_PCT,
    W_ARRAYS,        /* the array parameters above */
    W_AT = W_ARRAYS, /* $29 registered_at_us of the batch */
    W_KEY_ID,        /* $30 */
    W_HEAD_SEQ,      /* $31 */
    W_HEAD_HASH,     /* $32 (binary) */
    W_PARAMS,
};
static const ccip_db_stmt S_WRITE = {
    "ip_register_write",
    "WITH t AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], "
    "  $5::bytea[], $6::text[], $7::text[], $8::bigint[], $9::bytea[], $10::bytea[], $11::text[], "
    "  $12::text[], $13::text[], $14::text[], $15::bytea[]) AS t(id, kind, title, created_on, "
    "  content_sha256, registrant, review, seq, prev_hash, hash, parties, shares, creators, actor, "
    "  signature)), "
    "w AS (INSERT INTO work (id, kind, title, created_on, content_sha256, registrant, review) "
    "  SELECT id, kind, title, created_on::date, content_sha256, registrant, review FROM t "
    "  ON CONFLICT (content_sha256) DO NOTHING RETURNING id), "
    "o AS (INSERT INTO work_owner (work_id, party, share_bp) "
    "  SELECT x.work_id, x.party, x.share_bp "
    "  FROM unnest($16::uuid[], $17::text[], $18::integer[]) AS x(work_id, party, share_bp) "
    "  JOIN w ON w.id = x.work_id), "
    "c AS (INSERT INTO work_content (work_id, content) "
    "  SELECT x.work_id, x.content FROM unnest($19::uuid[], $20::bytea[]) AS x(work_id, content) "
    "  JOIN w ON w.id = x.work_id), "
    "m AS (INSERT INTO work_minhash (work_id, signature) "
    "  SELECT x.work_id, x.signature "
    "  FROM unnest($21::uuid[], $22::bytea[]) AS x(work_id, signature) "
    "  JOIN w ON w.id = x.work_id), "
    "b AS (INSERT INTO work_band (band, key, work_id) "
    "  SELECT x.band, x.key, x.work_id "
    "  FROM unnest($23::uuid[], $24::smallint[], $25::bigint[]) AS x(work_id, band, key) "
    "  JOIN w ON w.id = x.work_id ON CONFLICT DO NOTHING), "
    "s AS (INSERT INTO work_similar (work_id, similar_id, similarity_pct) "
    "  SELECT x.work_id, x.similar_id, x.pct "
    "  FROM unnest($26::uuid[], $27::uuid[], $28::integer[]) AS x(work_id, similar_id, pct) "
    "  JOIN w ON w.id = x.work_id), "
    "r AS (INSERT INTO chain (seq, prev_hash, hash, work_id, kind, title, owner_parties, "
    "  owner_shares, creators, created_on, content_sha256, registered_at_us, registrant, key_id, "
    "  signature) "
    "  SELECT seq, prev_hash, hash, id, kind, title, parties::text[], shares::integer[], "
    "  creators::text[], created_on, content_sha256, $29::bigint, actor, $30, signature FROM t), "
    "h AS (UPDATE chain_head SET seq = $31::bigint, hash = $32) "
    "SELECT count(*) FROM w"};

/* A content larger than CONTENT_INLINE_MAX, after its work was written. */
static const ccip_db_stmt S_CONTENT_ONE = {
    "ip_register_content", "INSERT INTO work_content (work_id, content) VALUES ($1::uuid, $2)"};

/* How a request of the batch ends. */
typedef enum {
    S_REFUSED,        /* its reply (an error) is set */
    S_CHECKED,        /* passed step 1, waiting for step 3 */
    S_NEW,            /* appended: a new registration */
    S_EXISTING_DB,    /* its own registered work, from before the batch */
    S_EXISTING_BATCH, /* the same owner's request earlier in the batch */
    S_OTHER_BATCH,    /* another owner's request earlier in the batch: refused */
} s_state;

/* One request of the batch, checked and normalised. */
typedef struct {
    ccip_command *cmd;
    Ccip__Ip__RegisterWorkRequest *rq; /* decoded; freed with the batch */
    s_state state;
    size_t earlier;               /* S_EXISTING_BATCH, S_OTHER_BATCH: that request's index */
    char party[IP_PARTY_MAX + 1]; /* the caller's party; "" for staff */
    const char *registering;      /* the party whose registration it is */
    const char *kind;             /* WorkKind name */
    uint8_t content_sha256[IP_HASH_LEN];
    char content_hex[IP_HASH_HEX + 1]; /* lower case */
    ip_chain_owner *owners;            /* sorted by party */
    size_t nowners;
    int has_signature; /* the content is text with a MinHash signature */
    ip_sim_signature sig;
    int64_t keys[IP_SIM_BANDS]; /* its band keys */
    /* identical content registered before the batch (step 2) */
    int dup;             /* found */
    char dup_id[40];     /* that work */
    uint64_t dup_serial; /* its serial */
    int64_t dup_at;      /* when it was registered */
    int dup_own;         /* the registering party owns it */
    /* near-duplicates (arena), sorted by similarity, then serial */
    Ccip__Ip__SimilarWork **similar;
    size_t nsimilar;
    size_t capsimilar;
    /* S_NEW: the registration */
    char id[40];
    uint8_t prev_hash[IP_HASH_LEN]; /* the record before it */
    ip_receipt receipt;
    char chain_hex[IP_HASH_HEX + 1];
} s_item;

/* Checks the request; fills the item. Returns 0 or CCIP_REPLIED. */
static int s_check(ccip_command *cmd, ccip_arena *a, s_item *reg)
{
    Ccip__Ip__RegisterWorkRequest *rq = reg->rq;
    char err[400];
    int rc = ip_actor_party(cmd, reg->party);
    if (rc != 0)
        return rc;
    if ((rc = ccip_command_invalid(
             cmd,
             ip_check_enum("kind", &ccip__ip__work_kind__descriptor, rq->kind, err, sizeof err),
             err)) != 0 ||
        (rc = ccip_command_check_text(cmd, "title", rq->title, 1, IP_TITLE_MAX, 0)) != 0)
        return rc;
    if (rq->kind == CCIP__IP__WORK_KIND__AUDIT_ANCHOR)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `kind` AUDIT_ANCHOR is the registry's own (the hourly "
                                 "anchors of the event chains, ip.anchor.run.v1); register the "
                                 "work under the kind it is");
    reg->kind = ip_enum_name(&ccip__ip__work_kind__descriptor, rq->kind);
    if (rq->n_creators > IP_CREATORS_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `creators` must list at most %d names, got %zu",
                                 IP_CREATORS_MAX, rq->n_creators);
    for (size_t i = 0; i < rq->n_creators; i++) {
        char field[32];
        snprintf(field, sizeof field, "creators[%zu]", i);
        if ((rc = ccip_command_check_text(cmd, field, rq->creators[i], 1, IP_CREATOR_MAX, 0)) != 0)
            return rc;
    }
    int64_t created;
    if ((rc = ccip_command_invalid(
             cmd, ip_check_date("created_on", rq->created_on, &created, err, sizeof err), err)) !=
        0)
        return rc;
    /* Today in UTC, plus a day: "today" east of Greenwich (Beijing is
     * UTC+8) is tomorrow in UTC for part of the day. */
    if (created > ip_today_days() + 1)
        return ccip_command_fail(
            cmd, CCIP__STATUS__INVALID_ARGUMENT,
            "field `created_on` (%s) is in the future; a work can only be registered "
            "once it exists",
            rq->created_on);
    if ((rc = ccip_command_invalid(cmd,
                                   ip_check_sha256("content_sha256", rq->content_sha256,
                                                   reg->content_sha256, err, sizeof err),
                                   err)) != 0)
        return rc;
    ip_hex(reg->content_sha256, IP_HASH_LEN, reg->content_hex);
    if (rq->content.len) {
        int64_t max = ip_config_get(cmd)->max_content_bytes;
        if ((int64_t)rq->content.len > max)
            return ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "field `content` is %zu bytes; the registry stores at most %lld "
                "(ip.max_content_bytes): register the hash alone",
                rq->content.len, (long long)max);
        uint8_t h[IP_HASH_LEN];
        crypto_hash_sha256(h, rq->content.data, rq->content.len);
        if (sodium_memcmp(h, reg->content_sha256, IP_HASH_LEN) != 0) {
            char hex[IP_HASH_HEX + 1];
            ip_hex(h, IP_HASH_LEN, hex);
            return ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "field `content` hashes to %s, not to the `content_sha256` given; "
                "send the content the hash was made of",
                hex);
        }
    }
    /* Owners: the caller alone by default; staff must name them. */
    size_t n = rq->n_owners ? rq->n_owners : 1;
    reg->owners = ccip_arena_alloc(a, n * sizeof *reg->owners);
    if (!reg->owners)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if (rq->n_owners == 0) {
        if (!reg->party[0])
            return ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "field `owners` is missing: staff register a work on behalf of its "
                "owners, so list them (party and share_bp)");
        reg->owners[0].party = reg->party;
        reg->owners[0].share_bp = IP_SHARES_TOTAL;
    } else {
        for (size_t i = 0; i < n; i++) {
            reg->owners[i].party = rq->owners[i]->party;
            reg->owners[i].share_bp = rq->owners[i]->share_bp;
        }
    }
    reg->nowners = n;
    if ((rc = ccip_command_invalid(cmd, ip_check_owners(reg->owners, n, err, sizeof err), err)) !=
        0)
        return rc;
    reg->registering = reg->party[0] ? reg->party : reg->owners[0].party;
    ip_chain_sort_owners(reg->owners, n);
    if (reg->party[0]) {
        int owns = 0;
        for (size_t i = 0; i < n; i++)
            owns |= strcmp(reg->owners[i].party, reg->party) == 0;
        if (!owns)
            return ccip_command_fail(
                cmd, CCIP__STATUS__PERMISSION_DENIED,
                "%s may register only works it owns: add it to `owners`, or ask the "
                "owners (or staff) to register the work",
                reg->party);
    }
    return 0;
}

/* Step 1 for every command: decode and check. */
static void s_check_all(ccip_arena *a, s_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s_item *it = &items[i];
        it->state = S_REFUSED;
        it->rq = (Ccip__Ip__RegisterWorkRequest *)ccip_command_unpack(
            it->cmd, &ccip__ip__register_work_request__descriptor);
        if (!it->rq || s_check(it->cmd, a, it) != 0)
            continue;
        it->state = S_CHECKED;
        it->has_signature =
            it->rq->content.len > 0 && ip_sim_signature_make((const char *)it->rq->content.data,
                                                             it->rq->content.len, &it->sig) == 1;
        if (it->has_signature)
            ip_sim_bands(&it->sig, it->keys);
    }
}

/* Adds a near-duplicate to item it (room was made for every candidate). */
static int s_add_similar(ccip_arena *a, s_item *it, const char *work_id, uint64_t serial,
                         const char *title, unsigned pct)
{
    if (it->nsimilar >= it->capsimilar)
        return 0;
    Ccip__Ip__SimilarWork *s = ccip_arena_alloc(a, sizeof *s);
    if (!s)
        return -1;
    ccip__ip__similar_work__init(s);
    s->work_id = ccip_arena_strdup(a, work_id);
    s->serial = serial;
    s->title = ccip_arena_strdup(a, title);
    s->similarity_pct = pct;
    it->similar[it->nsimilar++] = s;
    return ccip_arena_failed(a) ? -1 : 0;
}

/* Step 2: one statement for the batch. Fills every checked item's duplicate
 * and near-duplicates from before the batch, and the head (locked). Returns
 * 0 or a negative ccip_db_rc. */
static int s_read(ccip_command *cmd0, ccip_arena *a, s_item *items, size_t n, uint64_t *head_seq,
                  uint8_t head_hash[IP_HASH_LEN], int64_t *now_us)
{
    ccip_pgarray p[5] = {CCIP_PGARRAY_INIT, CCIP_PGARRAY_INIT, CCIP_PGARRAY_INIT, CCIP_PGARRAY_INIT,
                         CCIP_PGARRAY_INIT};
    for (size_t i = 0; i < n; i++) {
        s_item *it = &items[i];
        if (it->state != S_CHECKED)
            continue;
        ccip_pgarray_bytea(&p[0], it->content_sha256, IP_HASH_LEN);
        ccip_pgarray_text(&p[1], it->registering);
        /* $3..$5 carry the original index i + 1 (not the ordinality of
         * $1, which counts checked requests only). */
        for (size_t b = 0; it->has_signature && b < IP_SIM_BANDS; b++) {
            ccip_pgarray_int(&p[2], (int64_t)i + 1);
            ccip_pgarray_int(&p[3], (int64_t)b);
            ccip_pgarray_int(&p[4], it->keys[b]);
        }
    }
    /* The ordinality of $1 counts checked items only: map it back. */
    size_t *checked = ccip_arena_alloc(a, (n ? n : 1) * sizeof *checked);
    size_t nchecked = 0;
    for (size_t i = 0; checked && i < n; i++)
        if (items[i].state == S_CHECKED)
            checked[nchecked++] = i;
    const char *v[5];
    int bad = !checked;
    for (int k = 0; k < 5; k++)
        bad |= !(v[k] = ccip_pgarray_value(&p[k]));
    PGresult *res = NULL;
    int rc = bad ? CCIP_DB_ERROR : ccip_db_exec(cmd0->db, &S_CHECK, 5, v, NULL, NULL, &res);
    for (int k = 0; k < 5; k++)
        ccip_pgarray_release(&p[k]);
    if (rc != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res), have_head = 0;
    /* Room for every candidate of each item, and for every earlier request. */
    size_t *cand = ccip_arena_alloc(a, (n ? n : 1) * sizeof *cand);
    if (!cand) {
        PQclear(res);
        return CCIP_DB_ERROR;
    }
    memset(cand, 0, n * sizeof *cand);
    for (int r = 0; r < rows; r++) {
        long long i = strtoll(PQgetvalue(res, r, 1), NULL, 10);
        if (PQgetvalue(res, r, 0)[0] == 'S' && i >= 1 && (size_t)i <= n)
            cand[i - 1]++;
    }
    for (size_t i = 0; i < n; i++) {
        s_item *it = &items[i];
        if (it->state != S_CHECKED)
            continue;
        it->capsimilar = cand[i] + i;
        it->similar =
            ccip_arena_alloc(a, (it->capsimilar ? it->capsimilar : 1) * sizeof *it->similar);
        if (!it->similar) {
            PQclear(res);
            return CCIP_DB_ERROR;
        }
    }
    for (int r = 0; r < rows; r++) {
        char tag = PQgetvalue(res, r, 0)[0];
        long long i = strtoll(PQgetvalue(res, r, 1), NULL, 10);
        if (tag == 'H') {
            *head_seq = strtoull(PQgetvalue(res, r, 3), NULL, 10);
            *now_us = strtoll(PQgetvalue(res, r, 4), NULL, 10);
            have_head = ip_unhex(PQgetvalue(res, r, 2), head_hash, IP_HASH_LEN) == 0;
            continue;
        }
        if (tag == 'D' && i >= 1 && (size_t)i <= nchecked) {
            s_item *it = &items[checked[i - 1]];
            it->dup = 1;
            snprintf(it->dup_id, sizeof it->dup_id, "%s", PQgetvalue(res, r, 2));
            it->dup_serial = strtoull(PQgetvalue(res, r, 3), NULL, 10);
            it->dup_at = strtoll(PQgetvalue(res, r, 4), NULL, 10);
            it->dup_own = PQgetvalue(res, r, 5)[0] == 't';
            continue;
        }
        if (tag != 'S' || i < 1 || (size_t)i > n)
            continue;
        s_item *it = &items[i - 1];
        uint8_t packed[IP_SIM_PACKED];
        ip_sim_signature other;
        if (ip_unhex(PQgetvalue(res, r, 6), packed, sizeof packed) < 0 ||
            ip_sim_unpack(packed, sizeof packed, &other) < 0)
            continue;
        unsigned pct = ip_sim_similarity_pct(&it->sig, &other);
        if (pct >= IP_SIM_FLAG_PCT &&
            s_add_similar(a, it, PQgetvalue(res, r, 2), strtoull(PQgetvalue(res, r, 3), NULL, 10),
                          PQgetvalue(res, r, 5), pct) < 0) {
            PQclear(res);
            return CCIP_DB_ERROR;
        }
    }
    PQclear(res);
    if (!have_head) {
        ccip_log_error("the chain head is missing or its hash is malformed");
        return CCIP_DB_ERROR;
    }
    return 0;
}

static int s_similar_cmp(const void *x, const void *y)
{
    const Ccip__Ip__SimilarWork *a = *(Ccip__Ip__SimilarWork *const *)x,
                                *b = *(Ccip__Ip__SimilarWork *const *)y;
    if (a->similarity_pct != b->similarity_pct)
        return a->similarity_pct > b->similarity_pct ? -1 : 1;
    return a->serial < b->serial ? -1 : a->serial > b->serial;
}

/* 1 when party is one of the item's owners. */
static int s_owns(const s_item *it, const char *party)
{
    for (size_t k = 0; k < it->nowners; k++)
        if (strcmp(it->owners[k].party, party) == 0)
            return 1;
    return 0;
}

/* The refusal of identical content registered by another owner. */
static void s_refuse_duplicate(s_item *it, const char *id, uint64_t serial, int64_t at_us)
{
    char when[CCIP_TIME_STRLEN + 1], serial_text[24];
    ip_serial_text(serial, serial_text, sizeof serial_text);
    ccip_time_format_us(at_us, when, sizeof when);
    ccip_command_fail(
        it->cmd, CCIP__STATUS__ALREADY_EXISTS,
        "identical content (sha256 %s) was registered as %s (work %s) on %s by another "
        "owner; if that registration is improper, file a dispute against work %s (kind "
        "IMPROPER_REGISTRATION)",
        it->content_hex, serial_text, id, when, id);
    it->state = S_REFUSED;
}

/* Step 3 for one checked item, in array order: settles duplicates, or
 * appends it after *seq / prev (advanced). Returns 0 or -1 (out of memory). */
static int s_settle(ccip_arena *a, s_item *items, size_t i, const ip_key *key, int64_t now_us,
                    uint64_t *seq, uint8_t prev[IP_HASH_LEN])
{
    s_item *it = &items[i];
    if (it->dup) {
        if (!it->dup_own) {
            s_refuse_duplicate(it, it->dup_id, it->dup_serial, it->dup_at);
            return 0;
        }
        it->state = S_EXISTING_DB;
        return 0;
    }
    for (size_t k = 0; k < i; k++) {
        const s_item *e = &items[k];
        if (e->state != S_NEW || memcmp(e->content_sha256, it->content_sha256, IP_HASH_LEN) != 0)
            continue;
        /* Identical content appended earlier in this batch: as if it had
         * committed just before. */
        it->earlier = k;
        if (s_owns(e, it->registering)) {
            it->state = S_EXISTING_BATCH;
        } else {
            s_refuse_duplicate(it, e->id, e->receipt.serial, e->receipt.registered_at_us);
            it->state = S_OTHER_BATCH;
        }
        return 0;
    }
    /* Near-duplicates appended earlier in this batch: the same test as the
     * database's (a shared band key, then the estimate). */
    for (size_t k = 0; it->has_signature && k < i; k++) {
        const s_item *e = &items[k];
        if (e->state != S_NEW || !e->has_signature)
            continue;
        int shared = 0;
        for (size_t b = 0; b < IP_SIM_BANDS && !shared; b++)
            shared = e->keys[b] == it->keys[b];
        unsigned pct = shared ? ip_sim_similarity_pct(&it->sig, &e->sig) : 0;
        if (pct >= IP_SIM_FLAG_PCT &&
            s_add_similar(a, it, e->id, e->receipt.serial, e->rq->title, pct) < 0)
            return -1;
    }
    qsort(it->similar, it->nsimilar, sizeof *it->similar, s_similar_cmp);
    if (it->nsimilar > SIMILAR_MAX)
        it->nsimilar = SIMILAR_MAX;

    if (ccip_command_new_id(it->cmd, it->id) != 0) {
        it->state = S_REFUSED;
        return 0;
    }
    Ccip__Ip__RegisterWorkRequest *rq = it->rq;
    ip_chain_record r = {
        .seq = *seq + 1,
        .work_id = it->id,
        .kind = it->kind,
        .title = rq->title,
        .owners = it->owners,
        .nowners = it->nowners,
        .creators = (const char *const *)rq->creators,
        .ncreators = rq->n_creators,
        .created_on = rq->created_on,
        .registered_at_us = now_us,
        .registrant = it->cmd->actor.id,
        .key_id = key->key_id,
    };
    memcpy(r.prev_hash, prev, IP_HASH_LEN);
    memcpy(it->prev_hash, prev, IP_HASH_LEN);
    memcpy(r.content_sha256, it->content_sha256, IP_HASH_LEN);
    ip_receipt *rec = &it->receipt;
    memset(rec, 0, sizeof *rec);
    rec->serial = r.seq;
    snprintf(rec->work_id, sizeof rec->work_id, "%s", it->id);
    memcpy(rec->content_sha256, it->content_sha256, IP_HASH_LEN);
    rec->registered_at_us = now_us;
    if (ip_chain_hash(&r, rec->chain_hash) < 0 || ip_receipt_sign(rec, key) < 0) {
        ccip_command_fail(it->cmd, CCIP__STATUS__INTERNAL,
                          "could not hash or sign the registration");
        it->state = S_REFUSED;
        return 0;
    }
    ip_hex(rec->chain_hash, IP_HASH_LEN, it->chain_hex);
    *seq = r.seq;
    memcpy(prev, rec->chain_hash, IP_HASH_LEN);
    it->state = S_NEW;
    return 0;
}

/* An array literal of an item's owners' parties, shares or creators, as
 * one text element of an outer array parameter. */
static void s_nested(ccip_pgarray *outer, const s_item *it, int what)
{
    ccip_pgarray in = CCIP_PGARRAY_INIT;
    size_t n = what == 2 ? it->rq->n_creators : it->nowners;
    for (size_t k = 0; k < n; k++) {
        if (what == 0)
            ccip_pgarray_text(&in, it->owners[k].party);
        else if (what == 1)
            ccip_pgarray_int(&in, it->owners[k].share_bp);
        else
            ccip_pgarray_text(&in, it->rq->creators[k]);
    }
    const char *v = ccip_pgarray_value(&in);
    if (v)
        ccip_pgarray_text(outer, v);
    else
        outer->text.failed = 1; /* the whole parameter is then unusable */
    ccip_pgarray_release(&in);
}

/* Step 4: writes the batch's new works and records (nnew of them) and moves
 * the head to seq / hash. Returns 0 or a negative ccip_db_rc
 * (CCIP_DB_RETRYABLE when identical content was committed meanwhile). */
static int s_write(ccip_db *db, s_item *items, size_t n, size_t nnew, const ip_key *key,
                   int64_t now_us, uint64_t seq, const uint8_t hash[IP_HASH_LEN])
{
    ccip_pgarray p[W_ARRAYS];
    memset(p, 0, sizeof p);
    uint32_t bands[IP_SIM_BANDS];
    for (uint32_t b = 0; b < IP_SIM_BANDS; b++)
        bands[b] = b;
    for (size_t i = 0; i < n; i++) {
        const s_item *it = &items[i];
        if (it->state != S_NEW)
            continue;
        const Ccip__Ip__RegisterWorkRequest *rq = it->rq;
        ccip_pgarray_text(&p[W_ID], it->id);
        ccip_pgarray_text(&p[W_KIND], it->kind);
        ccip_pgarray_text(&p[W_TITLE], rq->title);
        ccip_pgarray_text(&p[W_CREATED_ON], rq->created_on);
        ccip_pgarray_bytea(&p[W_CONTENT_SHA256], it->content_sha256, IP_HASH_LEN);
        ccip_pgarray_text(&p[W_REGISTRANT], it->registering);
        ccip_pgarray_text(&p[W_REVIEW], it->nsimilar ? "FLAGGED" : "");
        ccip_pgarray_int(&p[W_SEQ], (int64_t)it->receipt.serial);
        ccip_pgarray_bytea(&p[W_PREV_HASH], it->prev_hash, IP_HASH_LEN);
        ccip_pgarray_bytea(&p[W_HASH], it->receipt.chain_hash, IP_HASH_LEN);
        s_nested(&p[W_PARTIES], it, 0);
        s_nested(&p[W_SHARES], it, 1);
        s_nested(&p[W_CREATORS], it, 2);
        ccip_pgarray_text(&p[W_ACTOR], it->cmd->actor.id);
        ccip_pgarray_bytea(&p[W_SIGNATURE], it->receipt.signature, IP_SIGNATURE_LEN);
        for (size_t k = 0; k < it->nowners; k++) {
            ccip_pgarray_text(&p[W_OWNER_WORK], it->id);
            ccip_pgarray_text(&p[W_OWNER_PARTY], it->owners[k].party);
            ccip_pgarray_int(&p[W_OWNER_SHARE], it->owners[k].share_bp);
        }
        if (rq->content.len && rq->content.len <= CONTENT_INLINE_MAX) {
            ccip_pgarray_text(&p[W_CONTENT_WORK], it->id);
            ccip_pgarray_bytea(&p[W_CONTENT], rq->content.data, rq->content.len);
        }
        if (it->has_signature) {
            uint8_t packed[IP_SIM_PACKED];
            ip_sim_pack(&it->sig, packed);
            ccip_pgarray_text(&p[W_MINHASH_WORK], it->id);
            ccip_pgarray_bytea(&p[W_MINHASH], packed, sizeof packed);
            for (size_t b = 0; b < IP_SIM_BANDS; b++) {
                ccip_pgarray_text(&p[W_BAND_WORK], it->id);
                ccip_pgarray_int(&p[W_BAND], bands[b]);
                ccip_pgarray_int(&p[W_BAND_KEY], it->keys[b]);
            }
        }
        for (size_t k = 0; k < it->nsimilar; k++) {
            ccip_pgarray_text(&p[W_SIMILAR_WORK], it->id);
            ccip_pgarray_text(&p[W_SIMILAR_ID], it->similar[k]->work_id);
            ccip_pgarray_int(&p[W_SIMILAR_PCT], it->similar[k]->similarity_pct);
        }
    }
    const char *v[W_PARAMS];
    int len[W_PARAMS] = {0}, fmt[W_PARAMS] = {0};
    int bad = 0;
    for (int k = 0; k < W_ARRAYS; k++)
        bad |= !(v[k] = ccip_pgarray_value(&p[k]));
    char at[24], seqs[24];
    v[W_AT] = ccip_i64_text(now_us, at);
    v[W_KEY_ID] = key->key_id;
    v[W_HEAD_SEQ] = ccip_i64_text((int64_t)seq, seqs);
    v[W_HEAD_HASH] = (const char *)hash;
    len[W_HEAD_HASH] = IP_HASH_LEN;
    fmt[W_HEAD_HASH] = 1;
    PGresult *res = NULL;
    int rc = bad ? CCIP_DB_ERROR : ccip_db_exec(db, &S_WRITE, W_PARAMS, v, len, fmt, &res);
    for (int k = 0; k < W_ARRAYS; k++)
        ccip_pgarray_release(&p[k]);
    if (rc != CCIP_DB_OK)
        return rc;
    size_t written = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (written != nnew) {
        /* Identical content committed since step 2 read: run again, and
         * the next attempt answers it as a duplicate. */
        ccip_log_info("a registration's content was registered meanwhile; running its batch again");
        return CCIP_DB_RETRYABLE;
    }
    for (size_t i = 0; i < n; i++) {
        const s_item *it = &items[i];
        if (it->state != S_NEW || it->rq->content.len <= CONTENT_INLINE_MAX)
            continue;
        const char *cv[] = {it->id, (const char *)it->rq->content.data};
        int cl[] = {0, (int)it->rq->content.len}, cf[] = {0, 1};
        if ((rc = ccip_db_exec(db, &S_CONTENT_ONE, 2, cv, cl, cf, NULL)) != CCIP_DB_OK)
            return rc;
    }
    return 0;
}

/* Replies to cmd with item it's registration (existing: an earlier one) and,
 * when event is set, emits ip.work.registered.v1. Returns 0 or a negative
 * ccip_db_rc (out of memory included: the registration is written, so the
 * batch must not commit without its reply). */
static int s_answer(ccip_arena *a, ccip_command *cmd, const s_item *it, int existing, int event)
{
    char serial_text[24];
    ip_serial_text(it->receipt.serial, serial_text, sizeof serial_text);
    Ccip__Ip__Owner **owners = ccip_arena_alloc(a, it->nowners * sizeof *owners);
    Ccip__Ip__Owner *ov = ccip_arena_alloc(a, it->nowners * sizeof *ov);
    char *text = ccip_arena_alloc(a, IP_RECEIPT_MAX);
    if (!owners || !ov || !text || ip_receipt_format(&it->receipt, text, IP_RECEIPT_MAX) < 0) {
        ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        return CCIP_DB_ERROR;
    }
    for (size_t i = 0; i < it->nowners; i++) {
        ccip__ip__owner__init(&ov[i]);
        ov[i].party = (char *)it->owners[i].party;
        ov[i].share_bp = it->owners[i].share_bp;
        owners[i] = &ov[i];
    }
    const Ccip__Ip__RegisterWorkRequest *rq = it->rq;
    int rc;
    if (event) {
        Ccip__Ip__WorkRegistered ev = CCIP__IP__WORK_REGISTERED__INIT;
        ev.work_id = (char *)it->id;
        ev.serial = it->receipt.serial;
        ev.kind = rq->kind;
        ev.title = rq->title;
        ev.owners = owners;
        ev.n_owners = it->nowners;
        ev.content_sha256 = (char *)it->content_hex;
        ev.registered_at_us = it->receipt.registered_at_us;
        ev.chain_hash = (char *)it->chain_hex;
        ev.flagged_for_review = it->nsimilar > 0;
        if ((rc = ccip_command_emit(cmd, "ip.work.registered.v1", "work", it->id, &ev.base)) != 0)
            return rc;
    }
    Ccip__Ip__Work w = CCIP__IP__WORK__INIT;
    w.id = (char *)it->id;
    w.serial = it->receipt.serial;
    w.serial_text = serial_text;
    w.kind = rq->kind;
    w.title = rq->title;
    w.owners = owners;
    w.n_owners = it->nowners;
    w.creators = rq->creators;
    w.n_creators = rq->n_creators;
    w.created_on = rq->created_on;
    w.content_sha256 = (char *)it->content_hex;
    w.registered_at_us = it->receipt.registered_at_us;
    w.registrant = (char *)it->cmd->actor.id;
    w.review = it->nsimilar ? "FLAGGED" : "";
    w.chain_hash = (char *)it->chain_hex;
    w.has_content = rq->content.len > 0;
    Ccip__Ip__RegisterWorkReply reply = CCIP__IP__REGISTER_WORK_REPLY__INIT;
    reply.work = &w;
    reply.receipt = text;
    reply.existing = existing;
    reply.similar = it->similar;
    reply.n_similar = it->nsimilar;
    return ccip_command_reply(cmd, &reply.base) == 0 ? 0 : CCIP_DB_ERROR;
}

/* The same owner's registration from before the batch. Returns 0,
 * CCIP_REPLIED or a negative ccip_db_rc. */
static int s_answer_existing(ccip_arena *a, s_item *it)
{
    Ccip__Ip__WorkReply wr = CCIP__IP__WORK_REPLY__INIT;
    int rc = ip_work_load(it->cmd, a, it->dup_id, &wr);
    if (rc != 0)
        return rc;
    Ccip__Ip__RegisterWorkReply reply = CCIP__IP__REGISTER_WORK_REPLY__INIT;
    reply.work = wr.work;
    reply.receipt = wr.receipt;
    reply.existing = 1;
    reply.similar = wr.similar;
    reply.n_similar = wr.n_similar;
    return ccip_command_reply(it->cmd, &reply.base);
}

/* Steps 2 to 4 for the checked items, and every reply. Returns 0 or a
 * negative ccip_db_rc. */
static int s_register(ccip_arena *a, s_item *items, size_t n)
{
    size_t nchecked = 0;
    for (size_t i = 0; i < n; i++)
        nchecked += items[i].state == S_CHECKED;
    if (nchecked == 0)
        return 0;
    /* The key before the head's lock: nothing slow under it. */
    ccip_command *cmd0 = items[0].cmd;
    ip_key key;
    char err[512];
    if (ip_signer_get(ip_config_get(cmd0)->signing_key_file, &key, err, sizeof err) < 0) {
        ccip_log_error("could not load the signing key", "reason", err);
        for (size_t i = 0; i < n; i++) {
            if (items[i].state != S_CHECKED)
                continue;
            ccip_command_fail(
                items[i].cmd, CCIP__STATUS__INTERNAL,
                "the registry cannot sign receipts now (its signing key is unavailable); "
                "nothing was registered, try again later");
            items[i].state = S_REFUSED;
        }
        return 0;
    }
    uint64_t seq = 0;
    uint8_t hash[IP_HASH_LEN];
    int64_t now_us = 0;
    int rc = s_read(cmd0, a, items, n, &seq, hash, &now_us);
    size_t nnew = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (items[i].state != S_CHECKED)
            continue;
        if (s_settle(a, items, i, &key, now_us, &seq, hash) < 0)
            rc = CCIP_DB_ERROR;
        nnew += items[i].state == S_NEW;
    }
    if (rc == 0 && nnew > 0)
        rc = s_write(cmd0->db, items, n, nnew, &key, now_us, seq, hash);
    ip_key_wipe(&key);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        s_item *it = &items[i];
        switch (it->state) {
        case S_NEW:
            rc = s_answer(a, it->cmd, it, 0, 1);
            break;
        case S_EXISTING_BATCH:
            rc = s_answer(a, it->cmd, &items[it->earlier], 1, 0);
            break;
        case S_EXISTING_DB:
            rc = s_answer_existing(a, it);
            rc = rc < 0 ? rc : 0;
            break;
        default:
            rc = 0;
            break;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

int ip_work_register_batch(ccip_command *const *cmds, size_t n)
{
    ccip_arena *a = ccip_arena_new();
    s_item *items = a ? ccip_arena_alloc(a, (n ? n : 1) * sizeof *items) : NULL;
    if (!items) {
        for (size_t i = 0; i < n; i++)
            ccip_command_fail(cmds[i], CCIP__STATUS__INTERNAL, "out of memory");
        ccip_arena_destroy(&a);
        return 0;
    }
    memset(items, 0, n * sizeof *items);
    for (size_t i = 0; i < n; i++)
        items[i].cmd = cmds[i];
    s_check_all(a, items, n);
    int rc = s_register(a, items, n);
    for (size_t i = 0; i < n; i++)
        if (items[i].rq)
            protobuf_c_message_free_unpacked(&items[i].rq->base, NULL);
    ccip_arena_destroy(&a);
    return rc;
}
