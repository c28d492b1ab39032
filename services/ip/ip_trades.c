#include "ip_trades.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "ip_pg.h"
#include "ip_works.h"

#define PAYMENT_REF_MAX 100 /* characters */

/* ---- rows ------------------------------------------------------------------ */

#define LISTING_COLUMNS                                                                            \
    "l.id, l.work_id, l.seller, l.deal, l.territory, coalesce(l.term_start::text, ''), "           \
    "coalesce(l.term_end::text, ''), l.price_fen, l.status, l.created_at_us, "                     \
    "(SELECT count(*) FROM offer o WHERE o.listing_id = l.id AND o.status = 'OPEN') "              \
    "FROM listing l "
#define OFFER_COLUMNS                                                                              \
    "o.id, o.listing_id, o.buyer, o.price_fen, o.status, o.note, o.created_at_us FROM offer o "
#define CONTRACT_COLUMNS                                                                           \
    "k.id, k.listing_id, k.offer_id, k.work_id, k.seller, k.buyer, k.deal, k.territory, "          \
    "coalesce(k.term_start::text, ''), coalesce(k.term_end::text, ''), k.price_fen, k.status, "    \
    "k.payment_ref, k.contracted_at_us, k.settled_at_us, k.share_bp FROM contract k "

static const ccip_db_stmt S_LISTING_GET = {"ip_listing_get",
                                           "SELECT " LISTING_COLUMNS "WHERE l.id = $1::uuid"};
static const ccip_db_stmt S_LISTING_LOCK = {
    "ip_listing_lock", "SELECT " LISTING_COLUMNS "WHERE l.id = $1::uuid FOR UPDATE OF l"};
static const ccip_db_stmt S_LISTING_LIST = {
    "ip_listing_list",
    "SELECT " LISTING_COLUMNS "WHERE ($1 = '' OR l.work_id = $1::uuid) AND (NOT $2::boolean OR "
    "l.status = 'OPEN') ORDER BY l.created_at_us, l.id LIMIT $3::integer"};
static const ccip_db_stmt S_LISTING_OFFERS = {
    "ip_listing_offers",
    "SELECT " OFFER_COLUMNS "WHERE o.listing_id = $1::uuid ORDER BY o.created_at_us, o.id"};
static const ccip_db_stmt S_OFFER_GET = {"ip_offer_get",
                                         "SELECT " OFFER_COLUMNS "WHERE o.id = $1::uuid"};
static const ccip_db_stmt S_OFFER_LISTING = {
    "ip_offer_listing",
    "SELECT l.work_id FROM offer o JOIN listing l ON l.id = o.listing_id WHERE o.id = $1::uuid"};
static const ccip_db_stmt S_CONTRACT_GET = {"ip_contract_get",
                                            "SELECT " CONTRACT_COLUMNS "WHERE k.id = $1::uuid"};
static const ccip_db_stmt S_CONTRACT_LOCK = {
    "ip_contract_lock", "SELECT " CONTRACT_COLUMNS "WHERE k.id = $1::uuid FOR UPDATE"};
/* $1 status ('' any), $2 party, seller or buyer ('' any), $3 work id as
 * text ('' any), $4 limit. */
static const ccip_db_stmt S_CONTRACT_LIST = {
    "ip_contract_list",
    "SELECT " CONTRACT_COLUMNS "WHERE ($1 = '' OR k.status = $1) AND ($2 = '' OR k.seller = $2 OR "
    "k.buyer = $2) AND ($3 = '' OR k.work_id::text = $3) ORDER BY k.contracted_at_us DESC, k.id "
    "LIMIT $4::integer"};
static const ccip_db_stmt S_LISTING_WORK = {"ip_listing_work",
                                            "SELECT work_id FROM listing WHERE id = $1::uuid"};
static const ccip_db_stmt S_CONTRACT_WORK = {"ip_contract_work",
                                             "SELECT work_id FROM contract WHERE id = $1::uuid"};

static int s_fill_listing(ccip_arena *a, const PGresult *res, int row, void *msg)
{
    Ccip__Ip__Listing *l = msg;
    ccip__ip__listing__init(l);
    if (ccip_row_fill(&l->base, res, row, 0,
                      "id, work_id, seller, deal, , term_start, term_end, price_fen, status, "
                      "created_at_us, open_offers",
                      a) < 0 ||
        ip_pg_text_array(a, PQgetvalue(res, row, 4), &l->territory, &l->n_territory) < 0)
        return -1;
    return ccip_arena_failed(a) ? -1 : 0;
}

static int s_fill_offer(ccip_arena *a, const PGresult *res, int row, void *msg)
{
    Ccip__Ip__Offer *o = msg;
    ccip__ip__offer__init(o);
    return ccip_row_fill(&o->base, res, row, 0,
                         "id, listing_id, buyer, price_fen, status, note, created_at_us", a);
}

static int s_fill_contract(ccip_arena *a, const PGresult *res, int row, void *msg)
{
    Ccip__Ip__Contract *k = msg;
    ccip__ip__contract__init(k);
    if (ccip_row_fill(&k->base, res, row, 0,
                      "id, listing_id, offer_id, work_id, seller, buyer, deal, , term_start, "
                      "term_end, price_fen, status, payment_ref, contracted_at_us, settled_at_us, "
                      "share_bp",
                      a) < 0 ||
        ip_pg_text_array(a, PQgetvalue(res, row, 7), &k->territory, &k->n_territory) < 0)
        return -1;
    return ccip_arena_failed(a) ? -1 : 0;
}

static const ip_rows S_LISTINGS = {"listing", sizeof(Ccip__Ip__Listing), s_fill_listing};
static const ip_rows S_OFFERS = {"offer", sizeof(Ccip__Ip__Offer), s_fill_offer};
static const ip_rows S_CONTRACTS = {"contract", sizeof(Ccip__Ip__Contract), s_fill_contract};

/* ---- the licence rules --------------------------------------------------------- */

static const ccip_db_stmt S_LICENCES = {
    "ip_licences", "SELECT id, deal, territory, term_start::text, term_end::text FROM contract "
                   "WHERE work_id = $1::uuid AND deal <> 'TRANSFER'"};
static const ccip_db_stmt S_SHARE = {
    "ip_share", "SELECT share_bp, (SELECT count(*) FROM work_owner WHERE work_id = $1::uuid) "
                "FROM work_owner WHERE work_id = $1::uuid AND party = $2"};

/* A licence being checked against the work's contracts. */
typedef struct {
    int exclusive;
    char **territory;
    size_t nterritory;
    int64_t start, end; /* days */
} s_licence;

/* Fails with FAILED_PRECONDITION when lic collides with a licence contract
 * of the work (see ip_trades.h). Call with the work's row locked. Returns
 * 0, CCIP_REPLIED or a negative ccip_db_rc. */
static int s_licence_free(ccip_command *cmd, ccip_arena *a, const char *work_id,
                          const s_licence *lic)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_LICENCES, 1, &work_id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    char err[200];
    for (int i = 0; i < PQntuples(res); i++) {
        int exclusive = strcmp(PQgetvalue(res, i, 1), "EXCLUSIVE_LICENCE") == 0;
        if (!exclusive && !lic->exclusive)
            continue; /* non-exclusive licences coexist */
        char **terr = NULL;
        size_t nterr = 0;
        int64_t s, e;
        if (ip_pg_text_array(a, PQgetvalue(res, i, 2), &terr, &nterr) < 0 ||
            ip_check_term(PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), &s, &e, err, sizeof err) <
                0)
            continue;
        if (ip_terms_overlap(lic->start, lic->end, s, e) &&
            ip_territories_overlap(lic->territory, lic->nterritory, terr, nterr)) {
            rc = ccip_command_fail(
                cmd, CCIP__STATUS__FAILED_PRECONDITION,
                "%s licence contract %s already covers part of this territory from %s "
                "to %s; %s",
                exclusive ? "exclusive" : "non-exclusive", PQgetvalue(res, i, 0),
                PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
                exclusive ? "no other licence may overlap an exclusive one"
                          : "an exclusive licence may not overlap any other licence");
            break;
        }
    }
    PQclear(res);
    return rc;
}

/* The seller's current share of the work and the number of owners, or
 * share 0 when it owns none. */
static int s_share(ccip_command *cmd, const char *work_id, const char *party, uint32_t *share,
                   int *owners)
{
    PGresult *res = NULL;
    const char *v[] = {work_id, party};
    int rc = ccip_db_exec(cmd->db, &S_SHARE, 2, v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    *share = PQntuples(res) == 1 ? (uint32_t)atoi(PQgetvalue(res, 0, 0)) : 0;
    *owners = PQntuples(res) == 1 ? atoi(PQgetvalue(res, 0, 1)) : 0;
    PQclear(res);
    return 0;
}

/* Checks the terms of a listing for its deal; fills lic. */
static int s_check_terms(ccip_command *cmd, Ccip__Ip__DealType deal, char **territory, size_t n,
                         const char *start, const char *end, int64_t price, s_licence *lic)
{
    char err[400];
    int rc = ccip_command_invalid(cmd, ip_check_price("price_fen", price, err, sizeof err), err);
    if (rc != 0)
        return rc;
    if (deal == CCIP__IP__DEAL_TYPE__TRANSFER) {
        if (n || start[0] || end[0])
            return ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "fields `territory`, `term_start` and `term_end` must be empty for a "
                "TRANSFER: a transfer moves the share everywhere and for good");
        return 0;
    }
    if ((rc = ccip_command_invalid(
             cmd, ip_check_territory("territory", territory, n, err, sizeof err), err)) != 0 ||
        (rc = ccip_command_invalid(
             cmd, ip_check_term(start, end, &lic->start, &lic->end, err, sizeof err), err)) != 0)
        return rc;
    lic->exclusive = deal == CCIP__IP__DEAL_TYPE__EXCLUSIVE_LICENCE;
    lic->territory = territory;
    lic->nterritory = n;
    return 0;
}

/* ---- listings ----------------------------------------------------------------------- */

static const ccip_db_stmt S_LISTING_INSERT = {
    "ip_listing_insert",
    "INSERT INTO listing (id, work_id, seller, deal, territory, term_start, term_end, price_fen, "
    "created_at_us) VALUES ($1::uuid, $2::uuid, $3, $4, $5::text[], nullif($6, '')::date, "
    "nullif($7, '')::date, $8::bigint, $9::bigint)"};
static const ccip_db_stmt S_OPEN_TRANSFER = {
    "ip_open_transfer",
    "SELECT (SELECT id FROM listing WHERE work_id = $1::uuid AND seller = $2 AND deal = "
    "'TRANSFER' AND status = 'OPEN' AND ($3::uuid IS NULL OR id <> $3::uuid) LIMIT 1), "
    "(SELECT id FROM contract WHERE work_id = $1::uuid AND seller = $2 AND deal = 'TRANSFER' "
    "AND status = 'CONTRACTED' LIMIT 1)"};

/* Refuses a second sale of the same share: an open transfer listing (other
 * than except_listing) or an unsettled transfer contract of the seller. */
static int s_no_pending_transfer(ccip_command *cmd, const char *work_id, const char *seller,
                                 const char *except_listing, int listings_too)
{
    PGresult *res = NULL;
    const char *v[] = {work_id, seller, except_listing};
    int rc = ccip_db_exec(cmd->db, &S_OPEN_TRANSFER, 3, v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (listings_too && !PQgetisnull(res, 0, 0))
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "%s already lists its share of this work for transfer (listing %s); "
                               "withdraw that listing first",
                               seller, PQgetvalue(res, 0, 0));
    else if (!PQgetisnull(res, 0, 1))
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "%s has already contracted to transfer its share of this work (contract %s, "
            "not yet settled)",
            seller, PQgetvalue(res, 0, 1));
    PQclear(res);
    return rc;
}

int ip_listing_create(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__CreateListingRequest *rq = request;
    char party[IP_PARTY_MAX + 1], err[400], id[40], price[24], now[24];
    int rc = ip_actor_party(cmd, party);
    if (rc != 0)
        return rc;
    if ((rc = ccip_command_invalid(cmd, ip_check_uuid("work_id", rq->work_id, err, sizeof err),
                                   err)) != 0 ||
        (rc = ccip_command_invalid(
             cmd,
             ip_check_enum("deal", &ccip__ip__deal_type__descriptor, rq->deal, err, sizeof err),
             err)) != 0)
        return rc;
    s_licence lic = {0};
    if ((rc = s_check_terms(cmd, rq->deal, rq->territory, rq->n_territory, rq->term_start,
                            rq->term_end, rq->price_fen, &lic)) != 0)
        return rc;
    ip_work_state w;
    if ((rc = ip_work_lock(cmd, rq->work_id, &w)) != 0)
        return rc;
    if (w.frozen)
        return ip_work_frozen_fail(cmd, &w, "listed");
    uint32_t share;
    int owners;
    if ((rc = s_share(cmd, w.id, party, &share, &owners)) != 0)
        return rc;
    if (share == 0)
        return ccip_command_fail(
            cmd, CCIP__STATUS__PERMISSION_DENIED,
            "only a current owner may list work %s; %s is not one of its owners", w.id, party);
    if (rq->deal == CCIP__IP__DEAL_TYPE__EXCLUSIVE_LICENCE && owners > 1)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "an exclusive licence binds every owner, and work %s has %d owners: only a "
            "sole owner may list it for an exclusive licence",
            w.id, owners);
    if (rq->deal == CCIP__IP__DEAL_TYPE__TRANSFER)
        rc = s_no_pending_transfer(cmd, w.id, party, NULL, 1);
    else
        rc = s_licence_free(cmd, a, w.id, &lic);
    if (rc != 0 || (rc = ccip_command_new_id(cmd, id)) != 0)
        return rc;
    const char *v[] = {id,
                       w.id,
                       party,
                       ip_enum_name(&ccip__ip__deal_type__descriptor, rq->deal),
                       ip_pg_text_literal(a, rq->territory, rq->n_territory),
                       rq->term_start,
                       rq->term_end,
                       ccip_i64_text(rq->price_fen, price),
                       ccip_i64_text(ccip_now_us(), now)};
    if (!v[4])
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if ((rc = ccip_db_exec(cmd->db, &S_LISTING_INSERT, 9, v, NULL, NULL, NULL)) != 0)
        return rc;
    Ccip__Ip__ListingReply reply = CCIP__IP__LISTING_REPLY__INIT;
    if (!(reply.listing = ip_read_one(cmd, a, &S_LISTING_GET, &S_LISTINGS, id, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

/* Locks the work of a listing, then the listing, and checks that the caller
 * is its seller. */
static int s_lock_own_listing(ccip_command *cmd, ccip_arena *a, const char *listing_id,
                              ip_work_state *w, Ccip__Ip__Listing **l, const char *what)
{
    char party[IP_PARTY_MAX + 1], work_id[40];
    int rc = ip_actor_party(cmd, party);
    if (rc != 0 ||
        (rc = ip_work_of(cmd, &S_LISTING_WORK, "listing_id", "listing", listing_id, work_id)) !=
            0 ||
        (rc = ip_work_lock(cmd, work_id, w)) != 0 ||
        !(*l = ip_read_one(cmd, a, &S_LISTING_LOCK, &S_LISTINGS, listing_id, &rc)))
        return rc;
    if (strcmp((*l)->seller, party) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "only the listing's owner (%s) may %s listing %s", (*l)->seller,
                                 what, listing_id);
    return 0;
}

static const ccip_db_stmt S_LISTING_UPDATE = {
    "ip_listing_update",
    "UPDATE listing SET territory = $2::text[], term_start = nullif($3, '')::date, "
    "term_end = nullif($4, '')::date, price_fen = $5::bigint, updated_at = now() "
    "WHERE id = $1::uuid"};

int ip_listing_update(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__UpdateListingRequest *rq = request;
    ip_work_state w;
    Ccip__Ip__Listing *l = NULL;
    int rc = s_lock_own_listing(cmd, a, rq->listing_id, &w, &l, "change");
    if (rc != 0)
        return rc;
    if (strcmp(l->status, "OPEN") != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "listing %s is %s and can no longer be changed", l->id, l->status);
    if (l->open_offers)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "listing %s is under offer (%u open offer%s) and cannot be changed; accept "
            "one, wait for them to be withdrawn, or withdraw the listing",
            l->id, l->open_offers, l->open_offers == 1 ? "" : "s");
    if (w.frozen)
        return ip_work_frozen_fail(cmd, &w, "offered under new terms");
    s_licence lic = {0};
    if ((rc = s_check_terms(cmd, l->deal, rq->territory, rq->n_territory, rq->term_start,
                            rq->term_end, rq->price_fen, &lic)) != 0)
        return rc;
    if (l->deal != CCIP__IP__DEAL_TYPE__TRANSFER && (rc = s_licence_free(cmd, a, w.id, &lic)) != 0)
        return rc;
    char price[24];
    const char *v[] = {l->id, ip_pg_text_literal(a, rq->territory, rq->n_territory), rq->term_start,
                       rq->term_end, ccip_i64_text(rq->price_fen, price)};
    if (!v[1])
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if ((rc = ccip_db_exec(cmd->db, &S_LISTING_UPDATE, 5, v, NULL, NULL, NULL)) != 0)
        return rc;
    Ccip__Ip__ListingReply reply = CCIP__IP__LISTING_REPLY__INIT;
    if (!(reply.listing = ip_read_one(cmd, a, &S_LISTING_GET, &S_LISTINGS, l->id, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

static const ccip_db_stmt S_LISTING_WITHDRAW = {
    "ip_listing_withdraw",
    "WITH o AS (UPDATE offer SET status = 'DECLINED' WHERE listing_id = $1::uuid AND "
    "status = 'OPEN') UPDATE listing SET status = 'WITHDRAWN', updated_at = now() "
    "WHERE id = $1::uuid"};

int ip_listing_withdraw(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ListingActionRequest *rq = request;
    ip_work_state w;
    Ccip__Ip__Listing *l = NULL;
    int rc = s_lock_own_listing(cmd, a, rq->listing_id, &w, &l, "withdraw");
    if (rc != 0)
        return rc;
    if (strcmp(l->status, "OPEN") != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "listing %s is %s; only an open listing can be withdrawn", l->id,
                                 l->status);
    const char *id = l->id;
    if ((rc = ccip_db_exec(cmd->db, &S_LISTING_WITHDRAW, 1, &id, NULL, NULL, NULL)) != 0)
        return rc;
    Ccip__Ip__ListingReply reply = CCIP__IP__LISTING_REPLY__INIT;
    if (!(reply.listing = ip_read_one(cmd, a, &S_LISTING_GET, &S_LISTINGS, id, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

int ip_listing_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ListingActionRequest *rq = request;
    char err[200];
    int rc = ccip_command_invalid(cmd, ip_check_uuid("listing_id", rq->listing_id, err, sizeof err),
                                  err);
    Ccip__Ip__ListingReply reply = CCIP__IP__LISTING_REPLY__INIT;
    if (rc != 0 ||
        !(reply.listing = ip_read_one(cmd, a, &S_LISTING_GET, &S_LISTINGS, rq->listing_id, &rc)))
        return rc;
    PGresult *res = NULL;
    const char *id = rq->listing_id;
    if ((rc = ccip_db_exec(cmd->db, &S_LISTING_OFFERS, 1, &id, NULL, NULL, &res)) != 0)
        return rc;
    reply.offers = ip_read_all(a, res, &S_OFFERS, &reply.n_offers);
    PQclear(res);
    if (!reply.offers)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    /* An offer's price and note are between its buyer and the seller: a
     * party other than the seller sees only its own offers (staff and
     * services see them all). */
    char party[IP_PARTY_MAX + 1];
    if ((rc = ip_actor_party(cmd, party)) != 0)
        return rc;
    if (party[0] && strcmp(party, reply.listing->seller) != 0) {
        size_t kept = 0;
        for (size_t i = 0; i < reply.n_offers; i++)
            if (strcmp(reply.offers[i]->buyer, party) == 0)
                reply.offers[kept++] = reply.offers[i];
        reply.n_offers = kept;
    }
    return ccip_command_reply(cmd, &reply.base);
}

int ip_listing_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ListListingsRequest *rq = request;
    char err[200], limit[24];
    if (rq->work_id[0] && ip_check_uuid("work_id", rq->work_id, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    const char *v[] = {rq->work_id, rq->open_only ? "true" : "false",
                       ip_list_limit(rq->limit, limit)};
    Ccip__Ip__ListListingsReply reply = CCIP__IP__LIST_LISTINGS_REPLY__INIT;
    int rc = 0;
    if (!(reply.listings =
              ip_read_list(cmd, a, &S_LISTING_LIST, 3, v, &S_LISTINGS, &reply.n_listings, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- offers ------------------------------------------------------------------------- */

static const ccip_db_stmt S_OFFER_INSERT = {
    "ip_offer_insert", "INSERT INTO offer (id, listing_id, buyer, price_fen, note, created_at_us) "
                       "VALUES ($1::uuid, $2::uuid, $3, $4::bigint, $5, $6::bigint) "
                       "ON CONFLICT (listing_id, buyer) WHERE status = 'OPEN' DO NOTHING "
                       "RETURNING id"};

int ip_offer_make(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__MakeOfferRequest *rq = request;
    char party[IP_PARTY_MAX + 1], err[300], work_id[40], id[40], price[24], now[24];
    int rc = ip_actor_party(cmd, party);
    if (rc != 0 ||
        (rc = ip_work_of(cmd, &S_LISTING_WORK, "listing_id", "listing", rq->listing_id, work_id)) !=
            0 ||
        (rc = ccip_command_invalid(cmd, ip_check_price("price_fen", rq->price_fen, err, sizeof err),
                                   err)) != 0 ||
        (rc = ccip_command_check_text(cmd, "note", rq->note, 0, IP_NOTE_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0)
        return rc;
    ip_work_state w;
    Ccip__Ip__Listing *l = NULL;
    if ((rc = ip_work_lock(cmd, work_id, &w)) != 0 ||
        !(l = ip_read_one(cmd, a, &S_LISTING_LOCK, &S_LISTINGS, rq->listing_id, &rc)))
        return rc;
    if (w.frozen)
        return ip_work_frozen_fail(cmd, &w, "offered for");
    if (strcmp(l->status, "OPEN") != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "listing %s is %s and takes no more offers", l->id, l->status);
    if (strcmp(l->seller, party) == 0)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "%s listed this work itself and cannot make an offer on its own listing", party);
    if ((rc = ccip_command_new_id(cmd, id)) != 0)
        return rc;
    const char *v[] = {id,       l->id,
                       party,    ccip_i64_text(rq->price_fen, price),
                       rq->note, ccip_i64_text(ccip_now_us(), now)};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_OFFER_INSERT, 6, v, NULL, NULL, &res)) != 0)
        return rc;
    int inserted = PQntuples(res) == 1;
    PQclear(res);
    if (!inserted)
        return ccip_command_fail(
            cmd, CCIP__STATUS__ALREADY_EXISTS,
            "%s already has an open offer on listing %s; withdraw it to make another", party,
            l->id);
    Ccip__Ip__OfferReply reply = CCIP__IP__OFFER_REPLY__INIT;
    if (!(reply.offer = ip_read_one(cmd, a, &S_OFFER_GET, &S_OFFERS, id, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

static const ccip_db_stmt S_OFFER_WITHDRAW = {
    "ip_offer_withdraw",
    "UPDATE offer SET status = 'WITHDRAWN' WHERE id = $1::uuid AND buyer = $2 AND "
    "status = 'OPEN' RETURNING id"};

int ip_offer_withdraw(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__OfferActionRequest *rq = request;
    char party[IP_PARTY_MAX + 1], work_id[40];
    Ccip__Ip__Offer *o = NULL;
    ip_work_state w;
    /* The work's lock first, as an acceptance takes it: an offer is never
     * withdrawn under an acceptance in flight. */
    int rc = ip_actor_party(cmd, party);
    if (rc != 0 ||
        (rc = ip_work_of(cmd, &S_OFFER_LISTING, "offer_id", "offer", rq->offer_id, work_id)) != 0 ||
        (rc = ip_work_lock(cmd, work_id, &w)) != 0 ||
        !(o = ip_read_one(cmd, a, &S_OFFER_GET, &S_OFFERS, rq->offer_id, &rc)))
        return rc;
    if (strcmp(o->buyer, party) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "only the buyer (%s) may withdraw offer %s", o->buyer, o->id);
    const char *v[] = {o->id, party};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_OFFER_WITHDRAW, 2, v, NULL, NULL, &res)) != 0)
        return rc;
    int hit = PQntuples(res) == 1;
    PQclear(res);
    if (!hit)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "offer %s is %s; only an open offer can be withdrawn", o->id,
                                 o->status);
    Ccip__Ip__OfferReply reply = CCIP__IP__OFFER_REPLY__INIT;
    if (!(reply.offer = ip_read_one(cmd, a, &S_OFFER_GET, &S_OFFERS, o->id, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- contracts ----------------------------------------------------------------------- */

static const ccip_db_stmt S_ACCEPT = {
    "ip_offer_accept",
    "WITH k AS (INSERT INTO contract (id, listing_id, offer_id, work_id, seller, buyer, deal, "
    "  territory, term_start, term_end, price_fen, share_bp, contracted_at_us) "
    "  SELECT $1::uuid, l.id, o.id, l.work_id, l.seller, o.buyer, l.deal, l.territory, "
    "  l.term_start, l.term_end, o.price_fen, $3::integer, $4::bigint "
    "  FROM offer o JOIN listing l ON l.id = o.listing_id WHERE o.id = $2::uuid), "
    "d AS (UPDATE offer SET status = CASE WHEN id = $2::uuid THEN 'ACCEPTED' ELSE 'DECLINED' END "
    "  WHERE listing_id = (SELECT listing_id FROM offer WHERE id = $2::uuid) AND status = 'OPEN') "
    "UPDATE listing SET status = 'CONTRACTED', updated_at = now() "
    "WHERE id = (SELECT listing_id FROM offer WHERE id = $2::uuid)"};

int ip_offer_accept(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__OfferActionRequest *rq = request;
    char party[IP_PARTY_MAX + 1], work_id[40], id[40], share_text[24], now[24];
    int rc = ip_actor_party(cmd, party);
    if (rc != 0 ||
        (rc = ip_work_of(cmd, &S_OFFER_LISTING, "offer_id", "offer", rq->offer_id, work_id)) != 0)
        return rc;
    /* The work's row lock: concurrent acceptances on this work queue here,
     * and each sees the contracts committed before it. */
    ip_work_state w;
    Ccip__Ip__Offer *o = NULL;
    Ccip__Ip__Listing *l = NULL;
    if ((rc = ip_work_lock(cmd, work_id, &w)) != 0 ||
        !(o = ip_read_one(cmd, a, &S_OFFER_GET, &S_OFFERS, rq->offer_id, &rc)) ||
        !(l = ip_read_one(cmd, a, &S_LISTING_LOCK, &S_LISTINGS, o->listing_id, &rc)))
        return rc;
    if (strcmp(l->seller, party) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "only the listing's owner (%s) may accept offer %s", l->seller,
                                 o->id);
    if (w.frozen)
        return ip_work_frozen_fail(cmd, &w, "contracted");
    if (strcmp(l->status, "OPEN") != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "listing %s is %s; offers can only be accepted on an open listing",
                                 l->id, l->status);
    if (strcmp(o->status, "OPEN") != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "offer %s is %s; only an open offer can be accepted", o->id,
                                 o->status);
    uint32_t share;
    int owners;
    if ((rc = s_share(cmd, w.id, party, &share, &owners)) != 0)
        return rc;
    if (share == 0)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "%s no longer owns work %s, so it cannot grant or sell anything of it", party, w.id);
    s_licence lic = {0};
    if (l->deal == CCIP__IP__DEAL_TYPE__TRANSFER) {
        rc = s_no_pending_transfer(cmd, w.id, party, l->id, 0);
    } else {
        if (l->deal == CCIP__IP__DEAL_TYPE__EXCLUSIVE_LICENCE && owners > 1)
            return ccip_command_fail(
                cmd, CCIP__STATUS__FAILED_PRECONDITION,
                "work %s now has %d owners: an exclusive licence needs a sole owner", w.id, owners);
        char err[200];
        lic.exclusive = l->deal == CCIP__IP__DEAL_TYPE__EXCLUSIVE_LICENCE;
        lic.territory = l->territory;
        lic.nterritory = l->n_territory;
        if (ip_check_term(l->term_start, l->term_end, &lic.start, &lic.end, err, sizeof err) < 0)
            return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "listing %s has a malformed term",
                                     l->id);
        rc = s_licence_free(cmd, a, w.id, &lic);
    }
    if (rc != 0 || (rc = ccip_command_new_id(cmd, id)) != 0)
        return rc;
    const char *v[] = {
        id, o->id,
        ccip_i64_text(l->deal == CCIP__IP__DEAL_TYPE__TRANSFER ? (int64_t)share : 0, share_text),
        ccip_i64_text(ccip_now_us(), now)};
    if ((rc = ccip_db_exec(cmd->db, &S_ACCEPT, 4, v, NULL, NULL, NULL)) != 0)
        return rc;
    Ccip__Ip__ContractReply reply = CCIP__IP__CONTRACT_REPLY__INIT;
    if (!(reply.contract = ip_read_one(cmd, a, &S_CONTRACT_GET, &S_CONTRACTS, id, &rc)))
        return rc;
    Ccip__Ip__TradeContracted ev = CCIP__IP__TRADE_CONTRACTED__INIT;
    ev.contract = reply.contract;
    if ((rc = ccip_command_emit(cmd, "ip.trade.contracted.v1", "contract", id, &ev.base)) != 0)
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

static const ccip_db_stmt S_SELLER_GIVES = {
    "ip_settle_seller",
    "WITH d AS (DELETE FROM work_owner WHERE work_id = $1::uuid AND party = $2 AND "
    "  share_bp = $3::integer) "
    "UPDATE work_owner SET share_bp = share_bp - $3::integer WHERE work_id = $1::uuid AND "
    "party = $2 AND share_bp > $3::integer"};
static const ccip_db_stmt S_BUYER_GETS = {
    "ip_settle_buyer",
    "INSERT INTO work_owner (work_id, party, share_bp) VALUES ($1::uuid, $2, $3::integer) "
    "ON CONFLICT (work_id, party) DO UPDATE SET share_bp = work_owner.share_bp + "
    "EXCLUDED.share_bp"};
/* A seller left without a share can no longer offer anything of the work. */
static const ccip_db_stmt S_SELLER_LISTINGS = {
    "ip_settle_close_listings",
    "WITH l AS (UPDATE listing SET status = 'WITHDRAWN', updated_at = now() "
    "  WHERE work_id = $1::uuid AND seller = $2 AND status = 'OPEN' AND NOT EXISTS "
    "  (SELECT 1 FROM work_owner WHERE work_id = $1::uuid AND party = $2) RETURNING id) "
    "UPDATE offer SET status = 'DECLINED' WHERE status = 'OPEN' AND listing_id IN "
    "(SELECT id FROM l)"};
static const ccip_db_stmt S_SETTLE = {
    "ip_settle", "UPDATE contract SET status = 'SETTLED', payment_ref = $2, settled_at_us = "
                 "$3::bigint, settled_by = $4 WHERE id = $1::uuid"};

int ip_contract_settle(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__SettleContractRequest *rq = request;
    char party[IP_PARTY_MAX + 1], work_id[40], err[200], now[24], share[24];
    int rc = ip_actor_party(cmd, party);
    if (rc != 0 ||
        (rc = ip_work_of(cmd, &S_CONTRACT_WORK, "contract_id", "contract", rq->contract_id,
                         work_id)) != 0 ||
        (rc = ccip_command_check_text(cmd, "payment_ref", rq->payment_ref, 1, PAYMENT_REF_MAX,
                                      0)) != 0 ||
        (rc = ccip_command_invalid(cmd, ip_check_price("paid_fen", rq->paid_fen, err, sizeof err),
                                   err)) != 0)
        return rc;
    ip_work_state w;
    Ccip__Ip__Contract *k = NULL;
    if ((rc = ip_work_lock(cmd, work_id, &w)) != 0 ||
        !(k = ip_read_one(cmd, a, &S_CONTRACT_LOCK, &S_CONTRACTS, rq->contract_id, &rc)))
        return rc;
    if (party[0] && strcmp(k->seller, party) != 0)
        return ccip_command_fail(
            cmd, CCIP__STATUS__PERMISSION_DENIED,
            "only the seller (%s) or staff may record the payment of contract %s", k->seller,
            k->id);
    if (strcmp(k->status, "CONTRACTED") != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "contract %s is already %s", k->id, k->status);
    if (w.frozen)
        return ip_work_frozen_fail(cmd, &w, "settled (and change hands)");
    if (rq->paid_fen != k->price_fen)
        return ccip_command_fail(
            cmd, CCIP__STATUS__INVALID_ARGUMENT,
            "field `paid_fen` must equal the contract's price, %lld fen, got %lld",
            (long long)k->price_fen, (long long)rq->paid_fen);
    if (k->deal == CCIP__IP__DEAL_TYPE__TRANSFER) {
        const char *gv[] = {w.id, k->seller, ccip_i64_text(k->share_bp, share)};
        const char *bv[] = {w.id, k->buyer, share};
        const char *lv[] = {w.id, k->seller};
        if ((rc = ccip_db_exec(cmd->db, &S_SELLER_GIVES, 3, gv, NULL, NULL, NULL)) != 0 ||
            (rc = ccip_db_exec(cmd->db, &S_BUYER_GETS, 3, bv, NULL, NULL, NULL)) != 0 ||
            (rc = ccip_db_exec(cmd->db, &S_SELLER_LISTINGS, 2, lv, NULL, NULL, NULL)) != 0)
            return rc;
    }
    const char *v[] = {k->id, rq->payment_ref, ccip_i64_text(ccip_now_us(), now), cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, &S_SETTLE, 4, v, NULL, NULL, NULL)) != 0)
        return rc;
    Ccip__Ip__ContractReply reply = CCIP__IP__CONTRACT_REPLY__INIT;
    if (!(reply.contract = ip_read_one(cmd, a, &S_CONTRACT_GET, &S_CONTRACTS, k->id, &rc)))
        return rc;
    Ccip__Ip__TradeSettled ev = CCIP__IP__TRADE_SETTLED__INIT;
    ev.contract = reply.contract;
    if ((rc = ip_work_owners(cmd, a, w.id, &ev.owners, &ev.n_owners)) != 0 ||
        (rc = ccip_command_emit(cmd, "ip.trade.settled.v1", "contract", k->id, &ev.base)) != 0)
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

int ip_contract_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ContractActionRequest *rq = request;
    char err[200];
    int rc = ccip_command_invalid(
        cmd, ip_check_uuid("contract_id", rq->contract_id, err, sizeof err), err);
    Ccip__Ip__ContractReply reply = CCIP__IP__CONTRACT_REPLY__INIT;
    if (rc != 0 || !(reply.contract =
                         ip_read_one(cmd, a, &S_CONTRACT_GET, &S_CONTRACTS, rq->contract_id, &rc)))
        return rc;
    /* A contract's price and terms are between its seller and its buyer
     * (staff and services read every contract). */
    char party[IP_PARTY_MAX + 1];
    if ((rc = ip_actor_party(cmd, party)) != 0)
        return rc;
    if (party[0] && strcmp(party, reply.contract->seller) != 0 &&
        strcmp(party, reply.contract->buyer) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "contract %s is between its seller and its buyer; %s is neither",
                                 rq->contract_id, party);
    return ccip_command_reply(cmd, &reply.base);
}

int ip_contract_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ListContractsRequest *rq = request;
    char party[IP_PARTY_MAX + 1], err[300], limit[24];
    int rc = ip_actor_party(cmd, party);
    if (rc != 0)
        return rc;
    if (rq->status[0] && strcmp(rq->status, "CONTRACTED") != 0 &&
        strcmp(rq->status, "SETTLED") != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `status` must be CONTRACTED or SETTLED (or empty for any), "
                                 "got \"%.40s\"",
                                 rq->status);
    if (rq->party[0] && (rc = ccip_command_invalid(
                             cmd, ip_check_party("party", rq->party, err, sizeof err), err)) != 0)
        return rc;
    /* A party lists its own contracts: their price and terms are between
     * their seller and buyer (ip_contract_get). */
    if (party[0] && rq->party[0] && strcmp(rq->party, party) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "%s lists only its own contracts: leave `party` empty or give "
                                 "%s, not %s",
                                 party, party, rq->party);
    if (rq->work_id[0] &&
        (rc = ccip_command_invalid(cmd, ip_check_uuid("work_id", rq->work_id, err, sizeof err),
                                   err)) != 0)
        return rc;
    const char *v[] = {rq->status, party[0] ? party : rq->party, rq->work_id,
                       ip_list_limit(rq->limit, limit)};
    Ccip__Ip__ListContractsReply reply = CCIP__IP__LIST_CONTRACTS_REPLY__INIT;
    if (!(reply.contracts =
              ip_read_list(cmd, a, &S_CONTRACT_LIST, 4, v, &S_CONTRACTS, &reply.n_contracts, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}
