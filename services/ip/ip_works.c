#include "ip_works.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "ccip_log.h"
#include "ip_chain.h"
#include "ip_keys.h"
#include "ip_pg.h"
#include "ip_receipts.h"
#include "ip_similarity.h"

#define SIMILAR_MAX   10  /* near-duplicates listed per work */
#define LIST_DEFAULT  100 /* works per list reply unless asked */
#define LIST_MAX      500
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
    "c.key_id, encode(c.signature, 'hex') "                                                        \
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
static int s_fill_work(ccip_arena *a, const PGresult *res, int row, Ccip__Ip__Work *w)
{
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
    w->created_on = ccip_arena_strdup(a, PQgetvalue(res, row, C_CREATED_ON));
    w->content_sha256 = ccip_arena_strdup(a, PQgetvalue(res, row, C_CONTENT));
    w->registered_at_us = strtoll(PQgetvalue(res, row, C_AT), NULL, 10);
    w->registrant = ccip_arena_strdup(a, PQgetvalue(res, row, C_REGISTRANT));
    w->frozen = PQgetvalue(res, row, C_FROZEN)[0] == 't';
    w->review = ccip_arena_strdup(a, PQgetvalue(res, row, C_REVIEW));
    w->chain_hash = ccip_arena_strdup(a, PQgetvalue(res, row, C_HASH));
    w->has_content = PQgetvalue(res, row, C_HAS_CONTENT)[0] == 't';
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
        Ccip__Ip__SimilarWork *s = ccip_arena_alloc(a, sizeof *s);
        if (!s)
            break;
        ccip__ip__similar_work__init(s);
        s->work_id = ccip_arena_strdup(a, PQgetvalue(res, i, 0));
        s->serial = strtoull(PQgetvalue(res, i, 1), NULL, 10);
        s->title = ccip_arena_strdup(a, PQgetvalue(res, i, 2));
        s->similarity_pct = (uint32_t)atoi(PQgetvalue(res, i, 3));
        (*out)[(*n)++] = s;
    }
    PQclear(res);
    return ccip_arena_failed(a) ? CCIP_DB_ERROR : 0;
}

/* Reads one work (by id, or by serial when id is NULL) into a WorkReply.
 * Returns 0, IP_REPLIED (NOT_FOUND) or a negative ccip_db_rc. */
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
            return ip_fail(cmd, CCIP__STATUS__NOT_FOUND, "no work %s is registered", id);
        return ip_fail(cmd, CCIP__STATUS__NOT_FOUND, "no work has serial %" PRIu64, serial);
    }
    reply->work = ccip_arena_alloc(a, sizeof *reply->work);
    if (!reply->work || s_fill_work(a, res, 0, reply->work) < 0 ||
        !(reply->receipt = s_row_receipt(a, res, 0))) {
        PQclear(res);
        return ip_fail(cmd, CCIP__STATUS__INTERNAL, "could not read work %s: a malformed row",
                       id ? id : s);
    }
    PQclear(res);
    return s_load_similar(cmd, a, reply->work->id, &reply->similar, &reply->n_similar);
}

/* ---- registration --------------------------------------------------------------- */

static const ccip_db_stmt S_DUPLICATE = {
    "ip_register_duplicate",
    "SELECT w.id, c.seq, c.registered_at_us, "
    "  EXISTS (SELECT 1 FROM work_owner o WHERE o.work_id = w.id AND o.party = $2) "
    "FROM work w JOIN chain c ON c.work_id = w.id WHERE w.content_sha256 = $1"};

static const ccip_db_stmt S_CANDIDATES = {
    "ip_register_candidates",
    "SELECT m.work_id, encode(m.signature, 'hex'), c.seq, w.title FROM work_minhash m "
    "JOIN work w ON w.id = m.work_id JOIN chain c ON c.work_id = m.work_id "
    "WHERE m.work_id IN (SELECT b.work_id FROM work_band b "
    "  JOIN unnest($1::smallint[], $2::bigint[]) AS t(band, key) "
    "  ON b.band = t.band AND b.key = t.key)"};

/* The work and everything about it but its chain record, in one statement.
 * ON CONFLICT: identical content registered by a transaction that
 * committed since our duplicate check; no row comes back and the handler
 * asks for a retry, which finds it. */
static const ccip_db_stmt S_INSERT_WORK = {
    "ip_register_insert",
    "WITH w AS (INSERT INTO work (id, kind, title, created_on, content_sha256, registrant, review) "
    "  VALUES ($1::uuid, $2, $3, $4::date, $5, $6, $7) ON CONFLICT (content_sha256) DO NOTHING "
    "  RETURNING id), "
    "o AS (INSERT INTO work_owner (work_id, party, share_bp) "
    "  SELECT w.id, t.p, t.s FROM w, unnest($8::text[], $9::integer[]) AS t(p, s)), "
    "c AS (INSERT INTO work_content (work_id, content) SELECT w.id, $10::bytea FROM w "
    "  WHERE $10::bytea IS NOT NULL), "
    "m AS (INSERT INTO work_minhash (work_id, signature) SELECT w.id, $11::bytea FROM w "
    "  WHERE $11::bytea IS NOT NULL), "
    "b AS (INSERT INTO work_band (band, key, work_id) "
    "  SELECT t.band, t.key, w.id FROM w, unnest($12::smallint[], $13::bigint[]) AS t(band, key) "
    "  ON CONFLICT DO NOTHING), "
    "s AS (INSERT INTO work_similar (work_id, similar_id, similarity_pct) "
    "  SELECT w.id, t.sid, t.pct FROM w, unnest($14::uuid[], $15::integer[]) AS t(sid, pct)) "
    "SELECT count(*) FROM w"};

/* The critical section's two statements (see ip_works.h). */
static const ccip_db_stmt S_HEAD_LOCK = {
    "ip_chain_head_lock", "SELECT seq, encode(hash, 'hex'), "
                          "  (extract(epoch FROM clock_timestamp()) * 1000000)::bigint "
                          "FROM chain_head FOR UPDATE"};
static const ccip_db_stmt S_APPEND = {
    "ip_chain_append",
    "WITH r AS (INSERT INTO chain (seq, prev_hash, hash, work_id, kind, title, owner_parties, "
    "  owner_shares, creators, created_on, content_sha256, registered_at_us, registrant, key_id, "
    "  signature) VALUES ($1::bigint, $2, $3, $4::uuid, $5, $6, $7::text[], $8::integer[], "
    "  $9::text[], $10, $11, $12::bigint, $13, $14, $15)) "
    "UPDATE chain_head SET seq = $1::bigint, hash = $3"};

/* A registration being made: the request, checked and normalised. */
typedef struct {
    Ccip__Ip__RegisterWorkRequest *rq;
    char party[IP_PARTY_MAX + 1]; /* the caller's party; "" for staff */
    const char *registering;      /* the party whose registration it is */
    const char *kind;             /* WorkKind name */
    uint8_t content_sha256[IP_HASH_LEN];
    char content_hex[IP_HASH_HEX + 1]; /* lower case */
    ip_chain_owner *owners;            /* sorted by party */
    size_t nowners;
    int has_signature; /* the content is text with a MinHash signature */
    ip_sim_signature sig;
    Ccip__Ip__SimilarWork **similar; /* near-duplicates found (arena) */
    size_t nsimilar;
} s_reg;

/* Checks the request; fills reg. Returns 0 or IP_REPLIED. */
static int s_check(ccip_command *cmd, ccip_arena *a, s_reg *reg)
{
    Ccip__Ip__RegisterWorkRequest *rq = reg->rq;
    char err[400];
    int rc = ip_actor_party(cmd, reg->party);
    if (rc != 0)
        return rc;
    if ((rc = ip_invalid(
             cmd,
             ip_check_enum("kind", &ccip__ip__work_kind__descriptor, rq->kind, err, sizeof err),
             err)) != 0 ||
        (rc = ip_check_text(cmd, "title", rq->title, 1, IP_TITLE_MAX, 0)) != 0)
        return rc;
    reg->kind = ip_enum_name(&ccip__ip__work_kind__descriptor, rq->kind);
    if (rq->n_creators > IP_CREATORS_MAX)
        return ip_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                       "field `creators` must list at most %d names, got %zu", IP_CREATORS_MAX,
                       rq->n_creators);
    for (size_t i = 0; i < rq->n_creators; i++) {
        char field[32];
        snprintf(field, sizeof field, "creators[%zu]", i);
        if ((rc = ip_check_text(cmd, field, rq->creators[i], 1, IP_CREATOR_MAX, 0)) != 0)
            return rc;
    }
    int64_t created;
    if ((rc =
             ip_invalid(cmd, ip_check_date("created_on", rq->created_on, &created, err, sizeof err),
                        err)) != 0)
        return rc;
    /* Today in UTC, plus a day: "today" east of Greenwich (Beijing is
     * UTC+8) is tomorrow in UTC for part of the day. */
    if (created > ip_today_days() + 1)
        return ip_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                       "field `created_on` (%s) is in the future; a work can only be registered "
                       "once it exists",
                       rq->created_on);
    if ((rc = ip_invalid(cmd,
                         ip_check_sha256("content_sha256", rq->content_sha256, reg->content_sha256,
                                         err, sizeof err),
                         err)) != 0)
        return rc;
    ip_hex(reg->content_sha256, IP_HASH_LEN, reg->content_hex);
    if (rq->content.len) {
        int64_t max = ip_config_get(cmd)->max_content_bytes;
        if ((int64_t)rq->content.len > max)
            return ip_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                           "field `content` is %zu bytes; the registry stores at most %lld "
                           "(ip.max_content_bytes): register the hash alone",
                           rq->content.len, (long long)max);
        uint8_t h[IP_HASH_LEN];
        crypto_hash_sha256(h, rq->content.data, rq->content.len);
        if (sodium_memcmp(h, reg->content_sha256, IP_HASH_LEN) != 0) {
            char hex[IP_HASH_HEX + 1];
            ip_hex(h, IP_HASH_LEN, hex);
            return ip_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                           "field `content` hashes to %s, not to the `content_sha256` given; "
                           "send the content the hash was made of",
                           hex);
        }
    }
    /* Owners: the caller alone by default; staff must name them. */
    size_t n = rq->n_owners ? rq->n_owners : 1;
    reg->owners = ccip_arena_alloc(a, n * sizeof *reg->owners);
    if (!reg->owners)
        return ip_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if (rq->n_owners == 0) {
        if (!reg->party[0])
            return ip_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
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
    if ((rc = ip_invalid(cmd, ip_check_owners(reg->owners, n, err, sizeof err), err)) != 0)
        return rc;
    reg->registering = reg->party[0] ? reg->party : reg->owners[0].party;
    ip_chain_sort_owners(reg->owners, n);
    if (reg->party[0]) {
        int owns = 0;
        for (size_t i = 0; i < n; i++)
            owns |= strcmp(reg->owners[i].party, reg->party) == 0;
        if (!owns)
            return ip_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                           "%s may register only works it owns: add it to `owners`, or ask the "
                           "owners (or staff) to register the work",
                           reg->party);
    }
    return 0;
}

/* Looks for the same content. Returns 0 (none), IP_REPLIED (refused, or the
 * caller's own earlier registration returned), or a negative ccip_db_rc. */
static int s_duplicate(ccip_command *cmd, ccip_arena *a, s_reg *reg)
{
    PGresult *res = NULL;
    const char *v[] = {(const char *)reg->content_sha256, reg->registering};
    int len[] = {IP_HASH_LEN, 0}, fmt[] = {1, 0};
    int rc = ccip_db_exec(cmd->db, &S_DUPLICATE, 2, v, len, fmt, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    char id[40], when[CCIP_TIME_STRLEN + 1], serial[24];
    snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
    ip_serial_text(strtoull(PQgetvalue(res, 0, 1), NULL, 10), serial, sizeof serial);
    ccip_time_format_us(strtoll(PQgetvalue(res, 0, 2), NULL, 10), when, sizeof when);
    int own = PQgetvalue(res, 0, 3)[0] == 't';
    PQclear(res);
    if (!own)
        return ip_fail(cmd, CCIP__STATUS__ALREADY_EXISTS,
                       "identical content (sha256 %s) was registered as %s (work %s) on %s by "
                       "another owner; if that registration is improper, file a dispute against "
                       "work %s (kind IMPROPER_REGISTRATION)",
                       reg->content_hex, serial, id, when, id);
    /* The same owner again: its earlier registration is the answer. */
    Ccip__Ip__WorkReply wr = CCIP__IP__WORK_REPLY__INIT;
    if ((rc = s_load_work(cmd, a, id, 0, &wr)) != 0)
        return rc;
    Ccip__Ip__RegisterWorkReply reply = CCIP__IP__REGISTER_WORK_REPLY__INIT;
    reply.work = wr.work;
    reply.receipt = wr.receipt;
    reply.existing = 1;
    reply.similar = wr.similar;
    reply.n_similar = wr.n_similar;
    rc = ip_reply(cmd, &reply.base);
    return rc ? rc : IP_REPLIED;
}

static int s_similar_cmp(const void *x, const void *y)
{
    const Ccip__Ip__SimilarWork *a = *(Ccip__Ip__SimilarWork *const *)x,
                                *b = *(Ccip__Ip__SimilarWork *const *)y;
    if (a->similarity_pct != b->similarity_pct)
        return a->similarity_pct > b->similarity_pct ? -1 : 1;
    return a->serial < b->serial ? -1 : a->serial > b->serial;
}

/* Finds earlier works whose text is a near-duplicate of this content. */
static int s_find_similar(ccip_command *cmd, ccip_arena *a, s_reg *reg, int64_t keys[IP_SIM_BANDS])
{
    Ccip__Ip__RegisterWorkRequest *rq = reg->rq;
    reg->has_signature =
        rq->content.len > 0 &&
        ip_sim_signature_make((const char *)rq->content.data, rq->content.len, &reg->sig) == 1;
    if (!reg->has_signature)
        return 0;
    ip_sim_bands(&reg->sig, keys);
    uint32_t bands[IP_SIM_BANDS];
    for (uint32_t i = 0; i < IP_SIM_BANDS; i++)
        bands[i] = i;
    const char *v[] = {ip_pg_uint_literal(a, bands, IP_SIM_BANDS),
                       ip_pg_int64_literal(a, keys, IP_SIM_BANDS)};
    if (!v[0] || !v[1])
        return CCIP_DB_ERROR;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_CANDIDATES, 2, v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    reg->similar = ccip_arena_alloc(a, (size_t)(rows ? rows : 1) * sizeof *reg->similar);
    for (int i = 0; reg->similar && i < rows; i++) {
        uint8_t packed[IP_SIM_PACKED];
        ip_sim_signature other;
        if (ip_unhex(PQgetvalue(res, i, 1), packed, sizeof packed) < 0 ||
            ip_sim_unpack(packed, sizeof packed, &other) < 0)
            continue;
        unsigned pct = ip_sim_similarity_pct(&reg->sig, &other);
        if (pct < IP_SIM_FLAG_PCT)
            continue;
        Ccip__Ip__SimilarWork *s = ccip_arena_alloc(a, sizeof *s);
        if (!s)
            break;
        ccip__ip__similar_work__init(s);
        s->work_id = ccip_arena_strdup(a, PQgetvalue(res, i, 0));
        s->serial = strtoull(PQgetvalue(res, i, 2), NULL, 10);
        s->title = ccip_arena_strdup(a, PQgetvalue(res, i, 3));
        s->similarity_pct = pct;
        reg->similar[reg->nsimilar++] = s;
    }
    PQclear(res);
    if (ccip_arena_failed(a))
        return CCIP_DB_ERROR;
    qsort(reg->similar, reg->nsimilar, sizeof *reg->similar, s_similar_cmp);
    if (reg->nsimilar > SIMILAR_MAX)
        reg->nsimilar = SIMILAR_MAX;
    return 0;
}

/* What s_insert_work returns when identical content is already registered
 * (committed by another transaction, maybe since the caller looked). */
#define S_CONFLICT 2

/* Inserts the work, its owners, content, MinHash and near-duplicates.
 * Returns 0, S_CONFLICT (nothing inserted), or a negative ccip_db_rc. */
static int s_insert_work(ccip_command *cmd, ccip_arena *a, s_reg *reg, const char *id,
                         const int64_t keys[IP_SIM_BANDS])
{
    Ccip__Ip__RegisterWorkRequest *rq = reg->rq;
    char **parties = ccip_arena_alloc(a, reg->nowners * sizeof *parties);
    uint32_t *shares = ccip_arena_alloc(a, reg->nowners * sizeof *shares);
    if (!parties || !shares)
        return CCIP_DB_ERROR;
    for (size_t i = 0; i < reg->nowners; i++) {
        parties[i] = (char *)reg->owners[i].party;
        shares[i] = reg->owners[i].share_bp;
    }
    char **sim_ids = ccip_arena_alloc(a, (reg->nsimilar + 1) * sizeof *sim_ids);
    uint32_t *sim_pct = ccip_arena_alloc(a, (reg->nsimilar + 1) * sizeof *sim_pct);
    if (!sim_ids || !sim_pct)
        return CCIP_DB_ERROR;
    for (size_t i = 0; i < reg->nsimilar; i++) {
        sim_ids[i] = reg->similar[i]->work_id;
        sim_pct[i] = reg->similar[i]->similarity_pct;
    }
    uint8_t packed[IP_SIM_PACKED];
    uint32_t bands[IP_SIM_BANDS];
    for (uint32_t i = 0; i < IP_SIM_BANDS; i++)
        bands[i] = i;
    size_t nb = reg->has_signature ? IP_SIM_BANDS : 0;
    if (reg->has_signature)
        ip_sim_pack(&reg->sig, packed);
    const char *v[15] = {
        id,
        reg->kind,
        rq->title,
        rq->created_on,
        (const char *)reg->content_sha256,
        reg->registering,
        reg->nsimilar ? "FLAGGED" : "",
        ip_pg_text_literal(a, parties, reg->nowners),
        ip_pg_uint_literal(a, shares, reg->nowners),
        rq->content.len ? (const char *)rq->content.data : NULL,
        reg->has_signature ? (const char *)packed : NULL,
        ip_pg_uint_literal(a, bands, nb),
        ip_pg_int64_literal(a, keys, nb),
        ip_pg_text_literal(a, sim_ids, reg->nsimilar),
        ip_pg_uint_literal(a, sim_pct, reg->nsimilar),
    };
    if (ccip_arena_failed(a))
        return CCIP_DB_ERROR;
    int len[15] = {0}, fmt[15] = {0};
    len[4] = IP_HASH_LEN;
    fmt[4] = 1;
    len[9] = (int)rq->content.len;
    fmt[9] = 1;
    len[10] = IP_SIM_PACKED;
    fmt[10] = 1;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_INSERT_WORK, 15, v, len, fmt, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int inserted = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return inserted == 1 ? 0 : S_CONFLICT;
}

/* Appends the chain record and signs the receipt: the critical section.
 * Fills the receipt. Returns 0 or a negative ccip_db_rc. */
static int s_append(ccip_command *cmd, ccip_arena *a, s_reg *reg, const char *id, const ip_key *key,
                    ip_receipt *receipt)
{
    Ccip__Ip__RegisterWorkRequest *rq = reg->rq;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_HEAD_LOCK, 0, NULL, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    ip_chain_record r = {
        .seq = strtoull(PQgetvalue(res, 0, 0), NULL, 10) + 1,
        .work_id = id,
        .kind = reg->kind,
        .title = rq->title,
        .owners = reg->owners,
        .nowners = reg->nowners,
        .creators = (const char *const *)rq->creators,
        .ncreators = rq->n_creators,
        .created_on = rq->created_on,
        .registered_at_us = strtoll(PQgetvalue(res, 0, 2), NULL, 10),
        .registrant = cmd->actor.id,
        .key_id = key->key_id,
    };
    int ok = ip_unhex(PQgetvalue(res, 0, 1), r.prev_hash, IP_HASH_LEN) == 0;
    PQclear(res);
    if (!ok)
        return ip_fail(cmd, CCIP__STATUS__INTERNAL, "the chain head's hash is malformed");
    memcpy(r.content_sha256, reg->content_sha256, IP_HASH_LEN);
    memset(receipt, 0, sizeof *receipt);
    receipt->serial = r.seq;
    snprintf(receipt->work_id, sizeof receipt->work_id, "%s", id);
    memcpy(receipt->content_sha256, reg->content_sha256, IP_HASH_LEN);
    receipt->registered_at_us = r.registered_at_us;
    if (ip_chain_hash(&r, receipt->chain_hash) < 0 || ip_receipt_sign(receipt, key) < 0)
        return ip_fail(cmd, CCIP__STATUS__INTERNAL, "could not hash or sign the registration");

    char **parties = ccip_arena_alloc(a, reg->nowners * sizeof *parties);
    uint32_t *shares = ccip_arena_alloc(a, reg->nowners * sizeof *shares);
    if (!parties || !shares)
        return CCIP_DB_ERROR;
    for (size_t i = 0; i < reg->nowners; i++) {
        parties[i] = (char *)reg->owners[i].party;
        shares[i] = reg->owners[i].share_bp;
    }
    char seq[24], at[24];
    const char *v[15] = {
        ip_i64((int64_t)r.seq, seq),
        (const char *)r.prev_hash,
        (const char *)receipt->chain_hash,
        id,
        reg->kind,
        rq->title,
        ip_pg_text_literal(a, parties, reg->nowners),
        ip_pg_uint_literal(a, shares, reg->nowners),
        ip_pg_text_literal(a, rq->creators, rq->n_creators),
        rq->created_on,
        (const char *)reg->content_sha256,
        ip_i64(r.registered_at_us, at),
        cmd->actor.id,
        key->key_id,
        (const char *)receipt->signature,
    };
    if (ccip_arena_failed(a))
        return CCIP_DB_ERROR;
    int len[15] = {0}, fmt[15] = {0};
    len[1] = len[2] = len[10] = IP_HASH_LEN;
    len[14] = IP_SIGNATURE_LEN;
    fmt[1] = fmt[2] = fmt[10] = fmt[14] = 1;
    return ccip_db_exec(cmd->db, &S_APPEND, 15, v, len, fmt, NULL);
}

static int s_register(ccip_command *cmd, ccip_arena *a, s_reg *reg)
{
    int rc = s_check(cmd, a, reg);
    if (rc != 0)
        return rc;
    /* The work goes in first (ON CONFLICT DO NOTHING on its content hash):
     * a new work, the usual case, costs no separate duplicate look-up, and
     * an identical one registered by a transaction still in flight is waited
     * for, then answered as a duplicate. */
    int64_t keys[IP_SIM_BANDS];
    char id[40];
    if ((rc = s_find_similar(cmd, a, reg, keys)) != 0 || (rc = ip_new_id(cmd, id)) != 0 ||
        (rc = s_insert_work(cmd, a, reg, id, keys)) < 0)
        return rc;
    if (rc == S_CONFLICT) {
        rc = s_duplicate(cmd, a, reg);
        /* Not found after all: the conflicting transaction's row is not
         * visible yet; run the whole command again. */
        return rc == 0 ? CCIP_DB_RETRYABLE : rc;
    }
    /* The key before the chain's lock, so that reading it is not inside the
     * critical section. */
    ip_key key;
    char err[512];
    const ip_config *cfg = ip_config_get(cmd);
    if (ip_key_load_secret(cfg->signing_key_file, &key, err, sizeof err) < 0) {
        ccip_log_error("could not load the signing key", "reason", err);
        return ip_fail(cmd, CCIP__STATUS__INTERNAL,
                       "the registry cannot sign receipts now (its signing key is unavailable); "
                       "nothing was registered, try again later");
    }
    ip_receipt receipt;
    if ((rc = s_append(cmd, a, reg, id, &key, &receipt)) != 0) {
        ip_key_wipe(&key);
        return rc;
    }
    ip_key_wipe(&key);

    /* The work as registered, for the reply and the event. */
    char chain_hex[IP_HASH_HEX + 1], serial_text[24];
    ip_hex(receipt.chain_hash, IP_HASH_LEN, chain_hex);
    ip_serial_text(receipt.serial, serial_text, sizeof serial_text);
    Ccip__Ip__Owner **owners = ccip_arena_alloc(a, reg->nowners * sizeof *owners);
    Ccip__Ip__Owner *ov = ccip_arena_alloc(a, reg->nowners * sizeof *ov);
    char *text = ccip_arena_alloc(a, IP_RECEIPT_MAX);
    if (!owners || !ov || !text || ip_receipt_format(&receipt, text, IP_RECEIPT_MAX) < 0)
        return ip_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    for (size_t i = 0; i < reg->nowners; i++) {
        ccip__ip__owner__init(&ov[i]);
        ov[i].party = (char *)reg->owners[i].party;
        ov[i].share_bp = reg->owners[i].share_bp;
        owners[i] = &ov[i];
    }
    Ccip__Ip__WorkRegistered ev = CCIP__IP__WORK_REGISTERED__INIT;
    ev.work_id = id;
    ev.serial = receipt.serial;
    ev.kind = reg->rq->kind;
    ev.title = reg->rq->title;
    ev.owners = owners;
    ev.n_owners = reg->nowners;
    ev.content_sha256 = reg->content_hex;
    ev.registered_at_us = receipt.registered_at_us;
    ev.chain_hash = chain_hex;
    ev.flagged_for_review = reg->nsimilar > 0;
    if ((rc = ip_emit(cmd, "ip.work.registered.v1", "work", id, &ev.base)) != 0)
        return rc;

    Ccip__Ip__Work w = CCIP__IP__WORK__INIT;
    w.id = id;
    w.serial = receipt.serial;
    w.serial_text = serial_text;
    w.kind = reg->rq->kind;
    w.title = reg->rq->title;
    w.owners = owners;
    w.n_owners = reg->nowners;
    w.creators = reg->rq->creators;
    w.n_creators = reg->rq->n_creators;
    w.created_on = reg->rq->created_on;
    w.content_sha256 = reg->content_hex;
    w.registered_at_us = receipt.registered_at_us;
    w.registrant = (char *)cmd->actor.id;
    w.review = reg->nsimilar ? "FLAGGED" : "";
    w.chain_hash = chain_hex;
    w.has_content = reg->rq->content.len > 0;
    Ccip__Ip__RegisterWorkReply reply = CCIP__IP__REGISTER_WORK_REPLY__INIT;
    reply.work = &w;
    reply.receipt = text;
    reply.similar = reg->similar;
    reply.n_similar = reg->nsimilar;
    return ip_reply(cmd, &reply.base);
}

int ip_work_register(ccip_command *cmd)
{
    Ccip__Ip__RegisterWorkRequest *rq = (Ccip__Ip__RegisterWorkRequest *)ip_unpack(
        cmd, &ccip__ip__register_work_request__descriptor);
    if (!rq)
        return 0;
    ccip_arena *a = ccip_arena_new();
    s_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.rq = rq;
    int rc = a ? s_register(cmd, a, &reg) : ip_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    ccip_arena_destroy(&a);
    protobuf_c_message_free_unpacked(&rq->base, NULL);
    return IP_RC(rc);
}

/* ---- reads ------------------------------------------------------------------------- */

int ip_work_get(ccip_command *cmd)
{
    Ccip__Ip__GetWorkRequest *rq =
        (Ccip__Ip__GetWorkRequest *)ip_unpack(cmd, &ccip__ip__get_work_request__descriptor);
    if (!rq)
        return 0;
    ccip_arena *a = ccip_arena_new();
    int rc;
    char err[200];
    Ccip__Ip__WorkReply reply = CCIP__IP__WORK_REPLY__INIT;
    if (!a)
        rc = ip_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    else if (rq->work_id[0] && ip_check_uuid("work_id", rq->work_id, err, sizeof err) < 0)
        rc = ip_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    else if (!rq->work_id[0] && rq->serial == 0)
        rc = ip_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                     "give either `work_id` or `serial` (1 or more)");
    else if ((rc = s_load_work(cmd, a, rq->work_id[0] ? rq->work_id : NULL, rq->serial, &reply)) ==
             0)
        rc = ip_reply(cmd, &reply.base);
    ccip_arena_destroy(&a);
    protobuf_c_message_free_unpacked(&rq->base, NULL);
    return IP_RC(rc);
}

/* Fills a list of works from a WORK_COLUMNS result. */
static int s_fill_works(ccip_arena *a, const PGresult *res, Ccip__Ip__Work ***out, size_t *n)
{
    int rows = PQntuples(res);
    *out = ccip_arena_alloc(a, (size_t)(rows ? rows : 1) * sizeof **out);
    *n = 0;
    for (int i = 0; *out && i < rows; i++) {
        Ccip__Ip__Work *w = ccip_arena_alloc(a, sizeof *w);
        if (!w || s_fill_work(a, res, i, w) < 0)
            return -1;
        (*out)[(*n)++] = w;
    }
    return *out ? 0 : -1;
}

int ip_work_list(ccip_command *cmd)
{
    Ccip__Ip__ListWorksRequest *rq =
        (Ccip__Ip__ListWorksRequest *)ip_unpack(cmd, &ccip__ip__list_works_request__descriptor);
    if (!rq)
        return 0;
    char err[300], after[24], limit[24];
    int rc = 0;
    ccip_arena *a = ccip_arena_new();
    if (!a) {
        rc = ip_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        goto out;
    }
    if (rq->owner[0] && ip_check_party("owner", rq->owner, err, sizeof err) < 0) {
        rc = ip_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
        goto out;
    }
    uint32_t lim = rq->limit ? rq->limit : LIST_DEFAULT;
    if (lim > LIST_MAX)
        lim = LIST_MAX;
    const char *v[] = {rq->owner, ip_i64((int64_t)rq->after_serial, after),
                       ip_i64((int64_t)lim, limit)};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_WORK_LIST, 3, v, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    Ccip__Ip__ListWorksReply reply = CCIP__IP__LIST_WORKS_REPLY__INIT;
    if (s_fill_works(a, res, &reply.works, &reply.n_works) < 0)
        rc = ip_fail(cmd, CCIP__STATUS__INTERNAL, "could not read the works: a malformed row");
    else
        rc = ip_reply(cmd, &reply.base);
    PQclear(res);
out:
    ccip_arena_destroy(&a);
    protobuf_c_message_free_unpacked(&rq->base, NULL);
    return IP_RC(rc);
}

int ip_key_get(ccip_command *cmd)
{
    ip_key key;
    char err[512], text[512], pub[IP_PUBLIC_KEY_LEN * 2 + 1];
    if (ip_key_load_public(ip_config_get(cmd)->signing_key_file, &key, err, sizeof err) < 0) {
        ccip_log_error("could not load the signing key", "reason", err);
        return ip_fail(cmd, CCIP__STATUS__INTERNAL,
                       "the registry's signing key is unavailable; ask its operator");
    }
    ip_hex(key.public_key, IP_PUBLIC_KEY_LEN, pub);
    if (ip_key_public_text(&key, text, sizeof text) < 0)
        return ip_fail(cmd, CCIP__STATUS__INTERNAL, "could not write the public key");
    Ccip__Ip__KeyReply reply = CCIP__IP__KEY_REPLY__INIT;
    reply.public_key = pub;
    reply.key_id = key.key_id;
    reply.key_file = text;
    return IP_RC(ip_reply(cmd, &reply.base));
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

int ip_chain_read(ccip_command *cmd)
{
    Ccip__Ip__ReadChainRequest *rq =
        (Ccip__Ip__ReadChainRequest *)ip_unpack(cmd, &ccip__ip__read_chain_request__descriptor);
    if (!rq)
        return 0;
    ccip_arena *a = ccip_arena_new();
    PGresult *head = NULL, *res = NULL;
    int rc = 0;
    char from[24], max[24];
    uint32_t n = rq->max ? rq->max : CHAIN_DEFAULT;
    if (n > CHAIN_MAX)
        n = CHAIN_MAX;
    const char *v[] = {ip_i64((int64_t)(rq->from_seq ? rq->from_seq : 1), from),
                       ip_i64((int64_t)n, max)};
    /* Head first: every record up to it is committed (they commit together),
     * so the batch holds all of them that it reaches. */
    if (!a) {
        rc = ip_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        goto out;
    }
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
        rc = ip_fail(cmd, CCIP__STATUS__INTERNAL,
                     "could not read the chain: a malformed row near record %s (run ccipctl ip "
                     "audit-chain)",
                     v[0]);
    else
        rc = ip_reply(cmd, &batch.base);
out:
    PQclear(head);
    PQclear(res);
    ccip_arena_destroy(&a);
    protobuf_c_message_free_unpacked(&rq->base, NULL);
    return IP_RC(rc);
}

/* ---- review of near-duplicates ------------------------------------------------------- */

static const ccip_db_stmt S_REVIEW_RESOLVE = {
    "ip_review_resolve",
    "UPDATE work SET review = $2, review_note = $3, reviewed_by = $4 WHERE id = $1::uuid "
    "AND review = 'FLAGGED' RETURNING id"};

int ip_review_list(ccip_command *cmd)
{
    Ccip__Ip__ListReviewRequest *rq =
        (Ccip__Ip__ListReviewRequest *)ip_unpack(cmd, &ccip__ip__list_review_request__descriptor);
    if (!rq)
        return 0;
    ccip_arena *a = ccip_arena_new();
    PGresult *res = NULL;
    char limit[24];
    uint32_t lim = rq->limit && rq->limit <= LIST_MAX ? rq->limit : LIST_DEFAULT;
    const char *v[] = {ip_i64(lim, limit)};
    int rc = a ? ccip_db_exec(cmd->db, &S_WORK_REVIEW, 1, v, NULL, NULL, &res)
               : ip_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if (rc != 0)
        goto out;
    Ccip__Ip__ListReviewReply reply = CCIP__IP__LIST_REVIEW_REPLY__INIT;
    Ccip__Ip__Work **works = NULL;
    size_t n = 0;
    if (s_fill_works(a, res, &works, &n) < 0) {
        rc = ip_fail(cmd, CCIP__STATUS__INTERNAL, "could not read the works: a malformed row");
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
    rc = ccip_arena_failed(a) ? ip_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory")
                              : ip_reply(cmd, &reply.base);
out:
    PQclear(res);
    ccip_arena_destroy(&a);
    protobuf_c_message_free_unpacked(&rq->base, NULL);
    return IP_RC(rc);
}

static int s_review_resolve(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ResolveReviewRequest *rq = request;
    char err[400];
    int rc = ip_invalid(cmd, ip_check_uuid("work_id", rq->work_id, err, sizeof err), err);
    if (rc != 0 ||
        (rc = ip_invalid(cmd,
                         ip_check_enum("decision", &ccip__ip__review_decision__descriptor,
                                       rq->decision, err, sizeof err),
                         err)) != 0 ||
        (rc = ip_check_text(cmd, "note", rq->note, 1, IP_NOTE_MAX, 1)) != 0)
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
        return ip_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                       "work %s is not waiting for review (unknown, never flagged, or already "
                       "resolved)",
                       rq->work_id);
    Ccip__Ip__WorkReply reply = CCIP__IP__WORK_REPLY__INIT;
    if ((rc = s_load_work(cmd, a, rq->work_id, 0, &reply)) != 0)
        return rc;
    return ip_reply(cmd, &reply.base);
}

int ip_review_resolve(ccip_command *cmd)
{
    return ip_run(cmd, &ccip__ip__resolve_review_request__descriptor, s_review_resolve);
}

/* ---- shared with trades and disputes ----------------------------------------------------- */

static const ccip_db_stmt S_WORK_LOCK = {
    "ip_work_lock", "SELECT w.id, c.seq, w.title, coalesce(w.frozen_by::text, '') FROM work w "
                    "JOIN chain c ON c.work_id = w.id WHERE w.id = $1::uuid FOR UPDATE OF w"};
static const ccip_db_stmt S_WORK_OWNERS = {
    "ip_work_owners", "SELECT party, share_bp FROM work_owner WHERE work_id = $1::uuid "
                      "ORDER BY party COLLATE \"C\""};

int ip_work_lock(ccip_command *cmd, const char *work_id, ip_work_state *w)
{
    char err[200];
    if (ip_check_uuid("work_id", work_id, err, sizeof err) < 0)
        return ip_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_WORK_LOCK, 1, &work_id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ip_fail(cmd, CCIP__STATUS__NOT_FOUND, "no work %s is registered", work_id);
    }
    snprintf(w->id, sizeof w->id, "%s", PQgetvalue(res, 0, 0));
    w->serial = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    snprintf(w->title, sizeof w->title, "%s", PQgetvalue(res, 0, 2));
    snprintf(w->frozen_by, sizeof w->frozen_by, "%s", PQgetvalue(res, 0, 3));
    w->frozen = w->frozen_by[0] != '\0';
    PQclear(res);
    return 0;
}

int ip_work_frozen_fail(ccip_command *cmd, const ip_work_state *w, const char *what)
{
    char serial[24];
    ip_serial_text(w->serial, serial, sizeof serial);
    return ip_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                   "work %s (%s) is frozen by upheld dispute %s and cannot be %s", serial, w->id,
                   w->frozen_by, what);
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
