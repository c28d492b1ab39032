#include "funding_confirm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_log.h"
#include "ccip_pgarray.h"
#include "funding_awards.h"
#include "funding_ledger.h"
#include "funding_tranches.h"

#define NOTE_MAX 500 /* characters of a confirmation's note */

/* 1. The awards, locked in id order (two batches never wait on each other
 * in a cycle), and the transaction's time: what confirmed_at and
 * status_changed_at become. */
static const ccip_db_stmt S_LOCK = {"funding_confirm_lock",
                                    "SELECT " FUNDING_AWARD_COLUMNS
                                    ", " CCIP_SQL_US("now()") " FROM award w WHERE w.id = "
                                                              "ANY ($1::uuid[]) ORDER BY w.id "
                                                              "FOR UPDATE OF w"};
#define LOCK_NOW FUNDING_AWARD_NCOLUMNS /* column of now() */

/* 2. Per programme-year-category ($1, $2, $3 side by side, $4 its
 * AVAILABLE account's code): whether the programme, the year and the
 * category exist, whether the year is closed, the account as last committed
 * (not locked: see funding_award_confirm_batch), then one row per rule of
 * the programme's tranche plan (NULL rule when it has none). */
static const ccip_db_stmt S_STATE = {
    "funding_confirm_state",
    "SELECT k.ord, EXISTS (SELECT 1 FROM programme p WHERE p.code = k.code), "
    "y.programme_code IS NOT NULL, y.closed_at IS NOT NULL, " CCIP_SQL_US(
        "y.closed_at") ", k.category = '' OR EXISTS (SELECT 1 FROM budget_category c WHERE "
                       "c.programme_code = k.code AND c.year = k.year AND c.category = "
                       "k.category), a.id, a.balance_fen, a.closed, t.number, t.percent, "
                       "t.condition, t.label FROM unnest($1::text[], $2::integer[], $3::text[], "
                       "$4::text[]) WITH ORDINALITY AS k(code, year, category, account, ord) LEFT "
                       "JOIN budget_year y ON y.programme_code = k.code AND y.year = k.year LEFT "
                       "JOIN account a ON a.code = k.account LEFT JOIN programme_tranche t ON "
                       "t.programme_code = k.code ORDER BY k.ord, t.number"};
enum {
    ST_ORD,
    ST_PROGRAMME,
    ST_YEAR,
    ST_CLOSED,
    ST_CLOSED_AT,
    ST_CATEGORY,
    ST_ACCOUNT,
    ST_BALANCE,
    ST_ACCOUNT_CLOSED,
    ST_NUMBER,
    ST_PERCENT,
    ST_CONDITION,
    ST_LABEL
};

/* 3. Only when the balances of statement 2 turned out stale: the
 * AVAILABLE accounts drawn on, locked in code order (as funding.year.close.v1
 * locks them). */
static const ccip_db_stmt S_AVAILABLE = {
    "funding_confirm_available", "SELECT code, id, balance_fen, closed FROM account WHERE code = "
                                 "ANY ($1::text[]) ORDER BY code FOR UPDATE"};

/* 4. Everything the accepted confirmations write, in one statement; the
 * counts of what it wrote come back to be checked.
 *   $1..$11   per confirmation: award, amount, category, note, actor id and
 *             role, command id, programme, year, COMMITTED account code,
 *             AVAILABLE account id
 *   $12..$18  per tranche: award, programme, number, percent, amount,
 *             condition, label; matched against the programme's plan as it
 *             is now, so that a plan changed since statement 2 inserts fewer
 *   $19, $20  per AVAILABLE account: id, total committed from it,
 *   $24       and the balance it must still have (-1: any that covers the
 *             total); locked in code order, last (the counts are taken in
 *             this order, and the row lock is then held for the least time);
 *             found by id = ANY ($19), or the planner may scan every account
 *   $21..$23  the entry kind, the COMMITTED account kind and its normal side
 * Each entry's lines: the COMMITTED line first, then the AVAILABLE one (as
 * funding_ledger_post orders them). The awards are found by id = ANY ($1)
 * and nothing else (they are locked and were decided on as locked): joined
 * to the CTE alone, or with their status, the planner may scan every
 * proposed award. */
static const ccip_db_stmt S_WRITE = {
    "funding_confirm_write",
    "WITH c AS (SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], "
    "$5::text[], $6::text[], $7::text[], $8::text[], $9::integer[], $10::text[], $11::bigint[]) "
    "AS c(award_id, amount, category, note, actor_id, actor_role, command_id, programme_code, "
    "year, committed, available)), "
    "t AS (INSERT INTO tranche (award_id, number, percent, amount_fen, condition, label, "
    "status) SELECT a.award_id, p.number, p.percent, a.amount, p.condition, p.label, "
    "'TRANCHE_PLANNED' FROM unnest($12::uuid[], $13::text[], $14::integer[], $15::integer[], "
    "$16::bigint[], $17::text[], $18::text[]) AS a(award_id, programme_code, number, percent, "
    "amount, condition, label) JOIN programme_tranche p ON p.programme_code = a.programme_code "
    "AND p.number = a.number AND p.percent = a.percent AND p.condition = a.condition AND "
    "p.label = a.label RETURNING 1), "
    "u AS (UPDATE award w SET status = 'AWARD_COMMITTED', amount_fen = c.amount, category = "
    "c.category, note = CASE WHEN c.note = '' THEN w.note ELSE c.note END, confirmed_at = now(), "
    "confirmed_by = c.actor_id, status_reason = '', status_changed_at = now() FROM c WHERE w.id "
    "= ANY ($1::uuid[]) AND w.id = c.award_id RETURNING 1), "
    "e AS (INSERT INTO journal_entry (kind, programme_code, year, award_id, memo, actor_id, "
    "actor_role, command_id) SELECT $21, programme_code, year, award_id, 'award confirmed', "
    "actor_id, actor_role, command_id FROM c RETURNING id, award_id), "
    "k AS (INSERT INTO account (code, kind, normal_side, programme_code, year, category, "
    "award_id, balance_fen) SELECT committed, $22, $23, programme_code, year, '', award_id, "
    "amount FROM c RETURNING id, award_id), "
    "l AS (INSERT INTO journal_line (entry_id, account_id, amount_fen) SELECT e.id, x.account_id, "
    "x.amount FROM e JOIN (SELECT k.award_id, k.id AS account_id, c.amount, 1 AS side FROM c "
    "JOIN k ON k.award_id = c.award_id UNION ALL SELECT c.award_id, c.available, -c.amount, 2 "
    "FROM c) x ON x.award_id = e.award_id ORDER BY e.id, x.side RETURNING 1), "
    "m AS (UPDATE account a SET balance_fen = a.balance_fen - s.total FROM (SELECT x.id, s.total, "
    "s.before FROM account x JOIN unnest($19::bigint[], $20::bigint[], $24::bigint[]) AS s(id, "
    "total, before) ON s.id = x.id WHERE x.id = ANY ($19::bigint[]) ORDER BY x.code FOR UPDATE OF "
    "x) s WHERE a.id = s.id AND NOT "
    "a.closed AND a.balance_fen - s.total >= 0 AND (s.before < 0 OR a.balance_fen = s.before) "
    "RETURNING 1) "
    "SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM u), (SELECT count(*) FROM e), "
    "(SELECT count(*) FROM l), (SELECT count(*) FROM m)"};

/* An award as locked, and its status as the batch has left it so far. */
typedef struct {
    Ccip__Funding__Award *award;       /* as read (arena) */
    Ccip__Funding__AwardStatus status; /* after the batch's earlier confirmations */
    int64_t status_at_us;              /* since when (status_changed_at) */
    const char *status_reason;         /* why ("" once confirmed) */
} s_row;

/* An AVAILABLE account as read. */
typedef struct {
    int exists;          /* 0: there is none (nothing to draw on) */
    int64_t id;          /* account.id */
    int64_t balance_fen; /* its balance then */
    int closed;          /* its year closed: no new commitment */
} s_account;

/* A programme-year-category some confirmation draws on. */
typedef struct {
    const char *programme; /* borrowed from the award */
    int32_t year;          /* the award's */
    const char *category;  /* borrowed from the request ("" = the year's pool) */
    int programme_exists, year_exists, closed, category_exists; /* as statement 2 found them */
    int64_t closed_at_us;                                       /* when the year was closed */
    size_t nrules; /* rules of the programme's plan (may exceed FUNDING_TRANCHES_MAX) */
    int32_t number[FUNDING_TRANCHES_MAX], percent[FUNDING_TRANCHES_MAX];
    const char *condition[FUNDING_TRANCHES_MAX], *label[FUNDING_TRANCHES_MAX]; /* arena */
    char account[FUNDING_ACCOUNT_MAX]; /* its AVAILABLE account's code */
    s_account read;                    /* the account as the decisions were made on */
    int64_t balance_fen;               /* read.balance_fen less what was accepted so far */
    int64_t taken_fen;                 /* what the accepted confirmations take from it */
    int short_refused;                 /* a confirmation was refused for its balance or close */
} s_key;

/* One command of the batch. */
typedef struct {
    ccip_command *cmd;
    Ccip__Funding__ConfirmAwardRequest *rq;    /* NULL when it could not be decoded */
    int live;                                  /* no refusal before the decision */
    int row;                                   /* its award among the rows, -1 none */
    int key;                                   /* its programme-year-category, -1 none */
    int accepted;                              /* decided to be written */
    int64_t amount_fen;                        /* what it commits */
    int64_t tranche_fen[FUNDING_TRANCHES_MAX]; /* the split, by the plan's rules */
} s_item;

typedef struct {
    s_item *items;  /* the commands, in the batch's order */
    size_t n;       /* how many */
    s_row *rows;    /* the awards they name, locked (arena) */
    size_t nrows;   /* how many */
    s_key *keys;    /* the programme-year-categories they draw on (arena) */
    size_t nkeys;   /* how many */
    int64_t now_us; /* the transaction's time */
    ccip_arena *a;  /* everything read, until the batch is answered */
} s_batch;

/* ---- reading ---------------------------------------------------------------- */

/* Decodes and checks each request on its own; no database. */
static void s_check_requests(s_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        s_item *it = &b->items[i];
        ccip_command *cmd = it->cmd;
        it->row = it->key = -1;
        it->rq = (Ccip__Funding__ConfirmAwardRequest *)ccip_command_unpack(
            cmd, &ccip__funding__confirm_award_request__descriptor);
        it->live =
            it->rq && ccip_command_check_uuid(cmd, "award_id", it->rq->award_id) == 0 &&
            funding_check_amount(cmd, "amount_fen", it->rq->amount_fen, 1) == 0 &&
            (!it->rq->category[0] ||
             ccip_command_check_code(cmd, "category", it->rq->category, FUNDING_CODE_MAX) == 0) &&
            ccip_command_check_text(cmd, "note", it->rq->note, 0, NOTE_MAX, CCIP_TEXT_MULTILINE) ==
                0;
    }
}

/* Statement 1: locks the awards; answers NOT_FOUND for ids that name none. */
static int s_lock_awards(ccip_db *db, s_batch *b)
{
    ccip_pgarray ids = CCIP_PGARRAY_INIT;
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].live)
            ccip_pgarray_text(&ids, b->items[i].rq->award_id);
    if (ids.count == 0) {
        ccip_pgarray_release(&ids);
        return 0;
    }
    const char *v[] = {ccip_pgarray_value(&ids)};
    PGresult *res = NULL;
    int rc = v[0] ? ccip_db_exec(db, &S_LOCK, 1, v, NULL, NULL, &res) : CCIP_DB_ERROR;
    ccip_pgarray_release(&ids);
    if (rc != CCIP_DB_OK)
        return rc;
    int nrows = PQntuples(res);
    b->rows = ccip_arena_alloc(b->a, (size_t)nrows * sizeof *b->rows + 1);
    for (int r = 0; b->rows && r < nrows; r++) {
        s_row *w = &b->rows[b->nrows];
        if (!(w->award = funding_award_from_result(res, r, b->a)))
            break;
        b->now_us = ccip_db_cell_i64(res, r, LOCK_NOW);
        b->nrows++;
    }
    PQclear(res);
    if (ccip_arena_failed(b->a))
        return CCIP_DB_ERROR; /* out of memory: the skeleton answers INTERNAL */
    for (size_t i = 0; i < b->n; i++) {
        s_item *it = &b->items[i];
        if (!it->live)
            continue;
        for (size_t r = 0; r < b->nrows && it->row < 0; r++)
            if (strcmp(b->rows[r].award->id, it->rq->award_id) == 0)
                it->row = (int)r;
        if (it->row < 0) {
            ccip_command_fail(it->cmd, CCIP__STATUS__NOT_FOUND,
                              "there is no award %s; list awards with funding.award.list.v1",
                              it->rq->award_id);
            it->live = 0;
        }
    }
    return 0;
}

/* The programme-year-categories the live commands name, each once. */
static int s_collect_keys(s_batch *b)
{
    b->keys = ccip_arena_alloc(b->a, b->n * sizeof *b->keys + 1);
    if (!b->keys)
        return CCIP_DB_ERROR;
    for (size_t i = 0; i < b->n; i++) {
        s_item *it = &b->items[i];
        if (!it->live)
            continue;
        const Ccip__Funding__Award *w = b->rows[it->row].award;
        size_t k = 0;
        while (k < b->nkeys && !(b->keys[k].year == w->year &&
                                 strcmp(b->keys[k].programme, w->programme_code) == 0 &&
                                 strcmp(b->keys[k].category, it->rq->category) == 0))
            k++;
        if (k == b->nkeys) {
            s_key *key = &b->keys[b->nkeys++];
            memset(key, 0, sizeof *key);
            key->programme = w->programme_code;
            key->year = w->year;
            key->category = it->rq->category;
            funding_entry e = {.programme_code = key->programme, .year = key->year};
            funding_line l = {.kind = FUNDING_ACC_AVAILABLE, .category = key->category};
            if (funding_account_code(&e, &l, key->account, sizeof key->account) < 0)
                return CCIP_DB_ERROR; /* codes are checked: cannot happen */
        }
        it->key = (int)k;
    }
    return 0;
}

/* Statement 2: the state of every key, its account as last committed and
 * its programme's plan. */
static int s_read_state(ccip_db *db, s_batch *b)
{
    if (b->nkeys == 0)
        return 0;
    ccip_pgarray codes = CCIP_PGARRAY_INIT, years = CCIP_PGARRAY_INIT, cats = CCIP_PGARRAY_INIT,
                 accounts = CCIP_PGARRAY_INIT;
    for (size_t k = 0; k < b->nkeys; k++) {
        ccip_pgarray_text(&codes, b->keys[k].programme);
        ccip_pgarray_int(&years, b->keys[k].year);
        ccip_pgarray_text(&cats, b->keys[k].category);
        ccip_pgarray_text(&accounts, b->keys[k].account);
    }
    const char *v[] = {ccip_pgarray_value(&codes), ccip_pgarray_value(&years),
                       ccip_pgarray_value(&cats), ccip_pgarray_value(&accounts)};
    PGresult *res = NULL;
    int rc = v[0] && v[1] && v[2] && v[3] ? ccip_db_exec(db, &S_STATE, 4, v, NULL, NULL, &res)
                                          : CCIP_DB_ERROR;
    ccip_pgarray_release(&codes);
    ccip_pgarray_release(&years);
    ccip_pgarray_release(&cats);
    ccip_pgarray_release(&accounts);
    if (rc != CCIP_DB_OK)
        return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        int64_t ord = ccip_db_cell_i64(res, r, ST_ORD);
        if (ord < 1 || (size_t)ord > b->nkeys)
            continue;
        s_key *key = &b->keys[ord - 1];
        key->programme_exists = ccip_db_cell_bool(res, r, ST_PROGRAMME);
        key->year_exists = ccip_db_cell_bool(res, r, ST_YEAR);
        key->closed = ccip_db_cell_bool(res, r, ST_CLOSED);
        key->closed_at_us = ccip_db_cell_i64(res, r, ST_CLOSED_AT);
        key->category_exists = ccip_db_cell_bool(res, r, ST_CATEGORY);
        key->read.exists = !PQgetisnull(res, r, ST_ACCOUNT);
        key->read.id = ccip_db_cell_i64(res, r, ST_ACCOUNT);
        key->read.balance_fen = ccip_db_cell_i64(res, r, ST_BALANCE);
        key->read.closed = ccip_db_cell_bool(res, r, ST_ACCOUNT_CLOSED);
        if (PQgetisnull(res, r, ST_NUMBER))
            continue; /* no plan */
        if (key->nrules < FUNDING_TRANCHES_MAX) {
            size_t t = key->nrules;
            key->number[t] = (int32_t)ccip_db_cell_i64(res, r, ST_NUMBER);
            key->percent[t] = (int32_t)ccip_db_cell_i64(res, r, ST_PERCENT);
            key->condition[t] = ccip_arena_strdup(b->a, PQgetvalue(res, r, ST_CONDITION));
            key->label[t] = ccip_arena_strdup(b->a, PQgetvalue(res, r, ST_LABEL));
        }
        key->nrules++;
    }
    PQclear(res);
    return ccip_arena_failed(b->a) ? CCIP_DB_ERROR : 0;
}

/* Statement 3: locks the AVAILABLE accounts of the keys and reads them
 * again (an account that does not exist reads as such). */
static int s_lock_accounts(ccip_db *db, s_batch *b)
{
    ccip_pgarray codes = CCIP_PGARRAY_INIT;
    for (size_t k = 0; k < b->nkeys; k++)
        ccip_pgarray_text(&codes, b->keys[k].account);
    const char *v[] = {ccip_pgarray_value(&codes)};
    PGresult *res = NULL;
    int rc = v[0] ? ccip_db_exec(db, &S_AVAILABLE, 1, v, NULL, NULL, &res) : CCIP_DB_ERROR;
    ccip_pgarray_release(&codes);
    if (rc != CCIP_DB_OK)
        return rc;
    for (size_t k = 0; k < b->nkeys; k++)
        memset(&b->keys[k].read, 0, sizeof b->keys[k].read);
    for (int r = 0; r < PQntuples(res); r++)
        for (size_t k = 0; k < b->nkeys; k++) {
            s_key *key = &b->keys[k];
            if (strcmp(key->account, PQgetvalue(res, r, 0)) != 0)
                continue;
            key->read.exists = 1;
            key->read.id = ccip_db_cell_i64(res, r, 1);
            key->read.balance_fen = ccip_db_cell_i64(res, r, 2);
            key->read.closed = ccip_db_cell_bool(res, r, 3);
        }
    PQclear(res);
    return 0;
}

/* ---- deciding ---------------------------------------------------------------- */

/* Decides one command against the state the earlier ones left: 0 when it
 * is accepted (nothing answered yet), CCIP_REPLIED when refused. */
static int s_decide(s_batch *b, s_item *it)
{
    ccip_command *cmd = it->cmd;
    s_row *row = &b->rows[it->row];
    const Ccip__Funding__Award *w = row->award;
    if (row->status != CCIP__FUNDING__AWARD_STATUS__AWARD_PROPOSED) {
        funding_award_row fr = {.status = row->status, .status_changed_at_us = row->status_at_us};
        snprintf(fr.id, sizeof fr.id, "%s", w->id);
        snprintf(fr.status_reason, sizeof fr.status_reason, "%s", row->status_reason);
        return funding_award_wrong_status(cmd, &fr, "confirmed", "AWARD_PROPOSED");
    }
    int64_t amount = it->rq->amount_fen ? it->rq->amount_fen : w->amount_fen;
    char want[CCIP_FEN_STRLEN + 1], requested[CCIP_FEN_STRLEN + 1];
    funding_yuan(amount, want, sizeof want);
    funding_yuan(w->requested_fen, requested, sizeof requested);
    if (amount > w->requested_fen)
        return ccip_command_fail(
            cmd, CCIP__STATUS__INVALID_ARGUMENT,
            "field `amount_fen`: %s yuan (%" PRId64
            " fen) is above the %s yuan the applicant requested; an award is never above "
            "the request",
            want, amount, requested);
    s_key *key = &b->keys[it->key];
    const char *category = it->rq->category;
    if (!key->programme_exists)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "award %s names programme \"%s\", and there is no programme \"%s\"; create "
            "it with funding.programme.create.v1 and give it a budget for %d",
            w->id, w->programme_code, w->programme_code, (int)w->year);
    if (!key->year_exists)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "programme \"%s\" has no budget for %d, so award %s cannot be committed; set "
            "the year's budget with funding.budget.set.v1 first",
            w->programme_code, (int)w->year, w->id);
    if (key->closed) {
        char when[CCIP_TIME_STRLEN + 1];
        ccip_time_text(key->closed_at_us, when, sizeof when);
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "the %d budget of programme \"%s\" was closed at %s UTC: a closed year takes "
            "no new commitment, so award %s cannot be confirmed",
            (int)w->year, w->programme_code, when, w->id);
    }
    if (!key->category_exists)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "field `category`: the %d budget of programme \"%s\" has no category \"%s\"; "
            "give it a sub-budget with funding.budget.set.v1 or leave the category empty "
            "to draw on the year's pool",
            (int)w->year, w->programme_code, category);
    if (key->nrules < 1 || key->nrules > FUNDING_TRANCHES_MAX)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "programme \"%s\" has no valid tranche plan (%zu tranches); set one with "
            "funding.programme.configure.v1",
            w->programme_code, key->nrules);
    if (funding_tranche_split(amount, key->percent, key->nrules, it->tranche_fen) < 0)
        return ccip_command_fail(
            cmd, CCIP__STATUS__INVALID_ARGUMENT,
            "field `amount_fen`: %" PRId64
            " fen cannot be split into the %zu tranches of programme \"%s\" without a "
            "tranche of 0 fen; confirm a larger amount",
            amount, key->nrules, w->programme_code);
    /* The entry this confirmation posts, checked as funding_ledger_post
     * would before writing a line. */
    funding_line lines[2] = {
        {.kind = FUNDING_ACC_COMMITTED, .award_id = w->id, .amount_fen = amount, .is_new = 1},
        {.kind = FUNDING_ACC_AVAILABLE,
         .category = category,
         .amount_fen = -amount,
         .open_only = 1},
    };
    char why[256];
    if (funding_ledger_check(lines, 2, why, sizeof why) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not post the commitment: %s",
                                 why);
    if (key->read.exists && key->read.closed) {
        key->short_refused = 1;
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "the %d budget of programme \"%s\" was closed: a closed year takes no "
            "new commitment, so award %s cannot be confirmed",
            (int)w->year, w->programme_code, w->id);
    }
    int64_t have = key->read.exists ? key->balance_fen : 0;
    if (have < amount) {
        char left[CCIP_FEN_STRLEN + 1];
        funding_yuan(have, left, sizeof left);
        key->short_refused = 1;
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "insufficient budget: the %d budget of programme \"%s\"%s%s%s has %s yuan (%" PRId64
            " fen) left, and award %s needs %s yuan (%" PRId64 " fen); nothing was committed",
            (int)w->year, w->programme_code, category[0] ? " (category " : "", category,
            category[0] ? ")" : "", left, have, w->id, want, amount);
    }
    /* What the next commands of the batch see. */
    it->amount_fen = amount;
    key->balance_fen -= amount;
    key->taken_fen += amount;
    row->status = CCIP__FUNDING__AWARD_STATUS__AWARD_COMMITTED;
    row->status_at_us = b->now_us;
    row->status_reason = "";
    return 0;
}

/* Decides every command that got this far, in the batch's order, against
 * the accounts as last read; undoes an earlier round of decisions first.
 * Returns how many were accepted. */
static size_t s_decide_all(s_batch *b)
{
    for (size_t r = 0; r < b->nrows; r++) {
        s_row *w = &b->rows[r];
        w->status = w->award->status;
        w->status_at_us = w->award->status_changed_at_us;
        w->status_reason = w->award->status_reason;
    }
    for (size_t k = 0; k < b->nkeys; k++) {
        s_key *key = &b->keys[k];
        key->balance_fen = key->read.balance_fen;
        key->taken_fen = 0;
        key->short_refused = 0;
    }
    size_t accepted = 0;
    for (size_t i = 0; i < b->n; i++) {
        s_item *it = &b->items[i];
        if (!it->live)
            continue;
        it->cmd->status = CCIP__STATUS__OK;
        it->cmd->error[0] = '\0';
        it->accepted = s_decide(b, it) == 0;
        accepted += (size_t)it->accepted;
    }
    return accepted;
}

/* The award as the accepted confirmation leaves it: the reply and the
 * event. Built from what the batch read and decided, not read back. */
static Ccip__Funding__Award *s_confirmed(s_batch *b, const s_item *it)
{
    const s_key *key = &b->keys[it->key];
    Ccip__Funding__Award *w = ccip_arena_alloc(b->a, sizeof *w);
    Ccip__Funding__Tranche **list = ccip_arena_alloc(b->a, key->nrules * sizeof *list);
    if (!w || !list)
        return NULL;
    *w = *b->rows[it->row].award;
    w->category = it->rq->category;
    w->amount_fen = it->amount_fen;
    w->status = CCIP__FUNDING__AWARD_STATUS__AWARD_COMMITTED;
    if (it->rq->note[0])
        w->note = it->rq->note;
    w->confirmed_at_us = b->now_us;
    w->confirmed_by = (char *)it->cmd->actor.id;
    w->status_reason = "";
    w->status_changed_at_us = b->now_us;
    /* Its first entry: no DISBURSED, CLAWED_BACK or RECOVERED account yet. */
    w->disbursed_fen = w->clawed_back_fen = w->recovered_fen = 0;
    w->tranches = list;
    w->n_tranches = key->nrules;
    for (size_t t = 0; t < key->nrules; t++) {
        Ccip__Funding__Tranche *tr = ccip_arena_alloc(b->a, sizeof *tr);
        if (!tr)
            return NULL;
        *tr = (Ccip__Funding__Tranche)CCIP__FUNDING__TRANCHE__INIT;
        tr->number = key->number[t];
        tr->percent = key->percent[t];
        tr->amount_fen = it->tranche_fen[t];
        tr->condition = (Ccip__Funding__Condition)ccip_enum_value(
            &ccip__funding__condition__descriptor, key->condition[t]);
        tr->label = (char *)key->label[t];
        tr->status = CCIP__FUNDING__TRANCHE_STATUS__TRANCHE_PLANNED;
        /* Only the signature can already hold: reports and inspections are
         * refused for an award that is merely proposed. */
        tr->condition_met =
            tr->condition == CCIP__FUNDING__CONDITION__AGREEMENT_SIGNED && w->signed_at_us != 0;
        list[t] = tr;
    }
    return w;
}

/* Publishes funding.award.granted.v1 and sets the reply of an accepted
 * (and written) confirmation. Returns 0 or a negative ccip_db_rc: its
 * effects are written, so a failure here must undo the batch. */
static int s_answer(s_batch *b, s_item *it)
{
    ccip_command *cmd = it->cmd;
    Ccip__Funding__Award *done = s_confirmed(b, it);
    int rc = done ? 0 : CCIP_REPLIED;
    if (rc == 0) {
        Ccip__Funding__AwardChanged ev = CCIP__FUNDING__AWARD_CHANGED__INIT;
        ev.award = done;
        ev.reason = it->rq->note;
        rc = ccip_command_emit(cmd, "funding.award.granted.v1", "application", done->application_id,
                               &ev.base);
    }
    if (rc == 0) {
        Ccip__Funding__AwardReply reply = CCIP__FUNDING__AWARD_REPLY__INIT;
        reply.award = done;
        rc = ccip_command_reply(cmd, &reply.base);
    }
    if (rc > 0) {
        ccip_log_error("could not answer a written confirmation", "command", cmd->req->id, "reason",
                       cmd->error[0] ? cmd->error : "out of memory");
        rc = CCIP_DB_ERROR;
    }
    return rc;
}

/* ---- writing ---------------------------------------------------------------- */

#define WRITE_ARRAYS 21 /* array parameters of S_WRITE */

/* Statement 4 for the accepted commands. exact: each account moved must
 * still hold the balance the decisions were made on when a confirmation on
 * it was refused (otherwise any balance that covers its total will do).
 * Returns 0 with *stale = 1 when an account no longer qualifies (nothing
 * is then left of the statement but what the caller rolls back), or a
 * ccip_db_rc. */
static int s_write(ccip_db *db, s_batch *b, int exact, int *stale)
{
    enum { NPARAMS = 24 };
    ccip_pgarray p[WRITE_ARRAYS];
    for (int i = 0; i < WRITE_ARRAYS; i++)
        p[i] = (ccip_pgarray)CCIP_PGARRAY_INIT;
    size_t accepted = 0, ntranches = 0, naccounts = 0;
    int rc = 0;
    *stale = 0;
    for (size_t i = 0; i < b->n; i++) {
        const s_item *it = &b->items[i];
        if (!it->accepted)
            continue;
        const Ccip__Funding__Award *w = b->rows[it->row].award;
        const s_key *key = &b->keys[it->key];
        char committed[FUNDING_ACCOUNT_MAX];
        funding_entry e = {.programme_code = w->programme_code, .year = w->year};
        funding_line l = {.kind = FUNDING_ACC_COMMITTED, .award_id = w->id};
        if (funding_account_code(&e, &l, committed, sizeof committed) < 0) {
            rc = CCIP_DB_ERROR; /* cannot happen (an award id is a UUID): write nothing */
            break;
        }
        ccip_pgarray_text(&p[0], w->id);
        ccip_pgarray_int(&p[1], it->amount_fen);
        ccip_pgarray_text(&p[2], it->rq->category);
        ccip_pgarray_text(&p[3], it->rq->note);
        ccip_pgarray_text(&p[4], it->cmd->actor.id);
        ccip_pgarray_text(&p[5], it->cmd->actor.role);
        ccip_pgarray_text(&p[6], it->cmd->req->id);
        ccip_pgarray_text(&p[7], w->programme_code);
        ccip_pgarray_int(&p[8], w->year);
        ccip_pgarray_text(&p[9], committed);
        ccip_pgarray_int(&p[10], key->read.id);
        for (size_t t = 0; t < key->nrules; t++) {
            ccip_pgarray_text(&p[11], w->id);
            ccip_pgarray_text(&p[12], w->programme_code);
            ccip_pgarray_int(&p[13], key->number[t]);
            ccip_pgarray_int(&p[14], key->percent[t]);
            ccip_pgarray_int(&p[15], it->tranche_fen[t]);
            ccip_pgarray_text(&p[16], key->condition[t]);
            ccip_pgarray_text(&p[17], key->label[t]);
            ntranches++;
        }
        accepted++;
    }
    for (size_t k = 0; k < b->nkeys; k++) {
        const s_key *key = &b->keys[k];
        if (key->taken_fen == 0)
            continue;
        ccip_pgarray_int(&p[18], key->read.id);
        ccip_pgarray_int(&p[19], key->taken_fen);
        ccip_pgarray_int(&p[20], exact && key->short_refused ? key->read.balance_fen : -1);
        naccounts++;
    }
    if (rc == 0 && accepted > 0) {
        const char *v[NPARAMS];
        int ok = 1;
        for (int i = 0; i < 20; i++)
            ok &= (v[i] = ccip_pgarray_value(&p[i])) != NULL;
        ok &= (v[23] = ccip_pgarray_value(&p[20])) != NULL;
        char side[2] = {funding_account_normal_side(FUNDING_ACC_COMMITTED), '\0'};
        v[20] = ccip_enum_name(&ccip__funding__entry_kind__descriptor,
                               CCIP__FUNDING__ENTRY_KIND__ENTRY_AWARD_COMMITTED);
        v[21] = funding_account_kind_name(FUNDING_ACC_COMMITTED);
        v[22] = side;
        PGresult *res = NULL;
        rc = ok ? ccip_db_exec(db, &S_WRITE, NPARAMS, v, NULL, NULL, &res) : CCIP_DB_ERROR;
        if (rc == CCIP_DB_OK) {
            int64_t t = ccip_db_cell_i64(res, 0, 0), u = ccip_db_cell_i64(res, 0, 1),
                    e = ccip_db_cell_i64(res, 0, 2), l = ccip_db_cell_i64(res, 0, 3),
                    m = ccip_db_cell_i64(res, 0, 4);
            if ((size_t)t != ntranches) {
                /* A tranche plan changed since it was read: run again. */
                rc = CCIP_DB_RETRYABLE;
            } else if ((size_t)u != accepted || (size_t)e != accepted ||
                       (size_t)l != 2 * accepted) {
                /* The award locks make this impossible; refuse to commit. */
                char what[160];
                snprintf(what, sizeof what,
                         "awards %" PRId64 "/%zu, entries %" PRId64 "/%zu, lines %" PRId64 "/%zu",
                         u, accepted, e, accepted, l, 2 * accepted);
                ccip_log_error("confirmations wrote other than decided", "written", what);
                rc = CCIP_DB_ERROR;
            } else if ((size_t)m != naccounts) {
                *stale = 1;
            }
        }
        PQclear(res);
    }
    for (int i = 0; i < WRITE_ARRAYS; i++)
        ccip_pgarray_release(&p[i]);
    return rc;
}

/* ---- the handlers ------------------------------------------------------------ */

/* The AVAILABLE row every confirmation of a year draws on is what
 * serialises them, and its lock is held until the commit; so it is taken
 * as late as possible. The commands are decided on the account as last
 * committed (statement 2, no lock), everything is written, and the
 * account's balance is moved last, on condition that it still covers the
 * total (and, when the batch refused a confirmation for lack of budget,
 * that it still holds exactly what the refusal named). Only when that
 * condition fails, because another batch committed from the account
 * meanwhile, is the write undone (to a savepoint), the account locked and
 * read again, and every command decided again on it. */
int funding_award_confirm_batch(ccip_command *const *cmds, size_t n)
{
    if (n == 0)
        return 0;
    ccip_db *db = cmds[0]->db;
    s_batch b = {.n = n, .a = ccip_arena_new(), .items = calloc(n, sizeof *b.items)};
    int rc = CCIP_DB_ERROR; /* out of memory: the skeleton answers INTERNAL */
    if (!b.a || !b.items)
        goto out;
    for (size_t i = 0; i < n; i++)
        b.items[i].cmd = cmds[i];
    s_check_requests(&b);
    if ((rc = s_lock_awards(db, &b)) != 0 || (rc = s_collect_keys(&b)) != 0 ||
        (rc = s_read_state(db, &b)) != 0)
        goto out;
    /* Nothing to write: the refusals stand on the state as read, which is
     * what one command alone would have seen. */
    if (s_decide_all(&b) == 0)
        goto out;
    int stale = 0;
    if ((rc = ccip_db_command(db, "SAVEPOINT funding_confirm")) != CCIP_DB_OK ||
        (rc = s_write(db, &b, 1, &stale)) != 0)
        goto out;
    if (stale) {
        if ((rc = ccip_db_command(db, "ROLLBACK TO SAVEPOINT funding_confirm")) != CCIP_DB_OK ||
            (rc = s_lock_accounts(db, &b)) != 0)
            goto out;
        if (s_decide_all(&b) > 0 && (rc = s_write(db, &b, 0, &stale)) == 0 && stale) {
            ccip_log_error("confirmations found a locked account changed", "command",
                           cmds[0]->req->id);
            rc = CCIP_DB_ERROR;
        }
        if (rc != 0)
            goto out;
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        if (b.items[i].accepted)
            rc = s_answer(&b, &b.items[i]);
out:
    for (size_t i = 0; b.items && i < n; i++)
        if (b.items[i].rq)
            protobuf_c_message_free_unpacked(&b.items[i].rq->base, NULL);
    free(b.items);
    ccip_arena_destroy(&b.a);
    return rc;
}
