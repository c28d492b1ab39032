#include "funding_ledger.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_log.h"

#define JOURNAL_LIST_DEFAULT 200
#define JOURNAL_LIST_MAX     2000
#define VERIFY_LIST_MAX      "100" /* mismatches of each kind one reply names */

static const char *const S_KIND_NAMES[] = {
    "APPROPRIATION", "AVAILABLE",   "COMMITTED", "DISBURSED",
    "RECEIVABLE",    "CLAWED_BACK", "RECOVERED",
};
#define NKINDS (sizeof S_KIND_NAMES / sizeof S_KIND_NAMES[0])

const char *funding_account_kind_name(funding_account_kind kind)
{
    return (unsigned)kind < NKINDS ? S_KIND_NAMES[kind] : "?";
}

char funding_account_normal_side(funding_account_kind kind)
{
    return kind == FUNDING_ACC_APPROPRIATION || kind == FUNDING_ACC_CLAWED_BACK ? 'C' : 'D';
}

int funding_account_code(const funding_entry *e, const funding_line *l, char *out, size_t len)
{
    int n;
    if (!out || len == 0)
        return -1;
    out[0] = '\0';
    switch (l->kind) {
    case FUNDING_ACC_APPROPRIATION:
        if (!e->programme_code || !e->programme_code[0])
            return -1;
        n = snprintf(out, len, "appropriation:%s:%d", e->programme_code, (int)e->year);
        break;
    case FUNDING_ACC_AVAILABLE:
        if (!e->programme_code || !e->programme_code[0])
            return -1;
        n = snprintf(out, len, "available:%s:%d:%s", e->programme_code, (int)e->year,
                     l->category ? l->category : "");
        break;
    case FUNDING_ACC_COMMITTED:
    case FUNDING_ACC_DISBURSED:
    case FUNDING_ACC_RECEIVABLE:
    case FUNDING_ACC_CLAWED_BACK:
    case FUNDING_ACC_RECOVERED: {
        if (!l->award_id || !l->award_id[0])
            return -1;
        char kind[16];
        const char *name = funding_account_kind_name(l->kind);
        size_t i = 0;
        for (; name[i] && i + 1 < sizeof kind; i++)
            kind[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
        kind[i] = '\0';
        n = snprintf(out, len, "%s:%s", kind, l->award_id);
        break;
    }
    default:
        return -1;
    }
    if (n < 0 || (size_t)n >= len) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

int funding_ledger_check(const funding_line *lines, size_t n, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!lines || n < 2 || n > FUNDING_LINES_MAX) {
        if (err)
            snprintf(err, errlen, "an entry needs 2 to %d lines, got %zu", FUNDING_LINES_MAX, n);
        return -1;
    }
    /* Each amount is within +-10^15, so at most 8 of them add up without
     * overflow. */
    int64_t debits = 0, credits = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t a = lines[i].amount_fen;
        if (a == 0 || a > FUNDING_AMOUNT_MAX || a < -FUNDING_AMOUNT_MAX) {
            if (err)
                snprintf(err, errlen,
                         "line %zu of the entry has amount %" PRId64
                         " fen; every line must be a non-zero debit or credit of at most %lld fen",
                         i + 1, a, FUNDING_AMOUNT_MAX);
            return -1;
        }
        if (a > 0)
            debits += a;
        else
            credits -= a;
    }
    if (debits != credits) {
        if (err)
            snprintf(err, errlen,
                     "entry does not balance: debits %" PRId64 " fen, credits %" PRId64 " fen",
                     debits, credits);
        return -1;
    }
    return 0;
}

/* ---- posting --------------------------------------------------------------- */

static const ccip_db_stmt S_ENTRY = {
    "funding_ledger_entry",
    "INSERT INTO journal_entry (kind, programme_code, year, award_id, memo, "
    "actor_id, actor_role, command_id) VALUES ($1, $2, $3::integer, nullif($4, "
    "'')::uuid, $5, $6, $7, $8) RETURNING id"};

/* Moves the balance (only when it stays >= 0 and, for open_only lines, the
 * account is open) and inserts the line, in one statement: one round trip
 * under the row lock. */
static const ccip_db_stmt S_LINE = {
    "funding_ledger_line",
    "WITH u AS (UPDATE account SET balance_fen = balance_fen + $3::bigint WHERE "
    "code = $2 AND balance_fen + $3::bigint >= 0 AND NOT (closed AND "
    "$5::boolean) RETURNING id) INSERT INTO journal_line (entry_id, account_id, "
    "amount_fen) SELECT $1::bigint, id, $4::bigint FROM u RETURNING account_id"};

/* A new account holding this line's amount, and the line, in one statement. */
static const ccip_db_stmt S_LINE_NEW = {
    "funding_ledger_line_new",
    "WITH a AS (INSERT INTO account (code, kind, normal_side, programme_code, "
    "year, category, award_id, balance_fen) VALUES ($2, $5, $6, $7, $8::integer, "
    "$9, nullif($10, '')::uuid, $3::bigint) RETURNING id) INSERT INTO "
    "journal_line (entry_id, account_id, amount_fen) SELECT $1::bigint, id, "
    "$4::bigint FROM a RETURNING account_id"};

static const ccip_db_stmt S_ACCOUNT_GET = {
    "funding_ledger_account_get", "SELECT balance_fen, closed FROM account WHERE code = $1"};

static const ccip_db_stmt S_ACCOUNT_NEW = {
    "funding_ledger_account_new",
    "INSERT INTO account (code, kind, normal_side, programme_code, year, "
    "category, award_id) VALUES ($1, $2, $3, $4, $5::integer, $6, nullif($7, "
    "'')::uuid) ON CONFLICT (code) DO NOTHING"};

int funding_ledger_post(ccip_db *db, const funding_entry *e, const funding_line *lines, size_t n,
                        int64_t *entry_id, funding_post_failure *failure)
{
    funding_post_failure spare;
    if (!failure)
        failure = &spare;
    memset(failure, 0, sizeof *failure);
    if (funding_ledger_check(lines, n, failure->why, sizeof failure->why) < 0)
        return FUNDING_POST_UNBALANCED;
    char codes[FUNDING_LINES_MAX][FUNDING_ACCOUNT_MAX];
    for (size_t i = 0; i < n; i++)
        if (funding_account_code(e, &lines[i], codes[i], sizeof codes[i]) < 0) {
            snprintf(failure->why, sizeof failure->why,
                     "line %zu names no account (kind %s without its programme or award)", i + 1,
                     funding_account_kind_name(lines[i].kind));
            return FUNDING_POST_UNBALANCED;
        }
    const char *kind = ccip_enum_name(&ccip__funding__entry_kind__descriptor, (int)e->kind);
    if (!kind) {
        snprintf(failure->why, sizeof failure->why, "entry kind %d is unknown", (int)e->kind);
        return FUNDING_POST_UNBALANCED;
    }
    char year[24], id[24];
    ccip_i64_text(e->year, year);
    const char *ev[] = {kind,
                        e->programme_code,
                        year,
                        e->award_id ? e->award_id : "",
                        e->memo ? e->memo : "",
                        e->actor_id ? e->actor_id : "",
                        e->actor_role ? e->actor_role : "",
                        e->command_id ? e->command_id : ""};
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_ENTRY, 8, ev, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (entry_id)
        *entry_id = strtoll(id, NULL, 10);
    for (size_t i = 0; i < n; i++) {
        const funding_line *l = &lines[i];
        int64_t delta =
            funding_account_normal_side(l->kind) == 'D' ? l->amount_fen : -l->amount_fen;
        char sdelta[24], amount[24];
        ccip_i64_text(delta, sdelta);
        ccip_i64_text(l->amount_fen, amount);
        char side[2] = {funding_account_normal_side(l->kind), '\0'};
        const char *category = l->kind == FUNDING_ACC_AVAILABLE && l->category ? l->category : "";
        if (l->is_new && delta >= 0) {
            const char *nv[] = {
                id,   codes[i],          sdelta, amount,   funding_account_kind_name(l->kind),
                side, e->programme_code, year,   category, l->award_id ? l->award_id : ""};
            if ((rc = ccip_db_exec(db, &S_LINE_NEW, 10, nv, NULL, NULL, NULL)) != CCIP_DB_OK)
                return rc;
            continue;
        }
        const char *lv[] = {id, codes[i], sdelta, amount, l->open_only ? "t" : "f"};
        for (int attempt = 0;; attempt++) {
            rc = ccip_db_exec(db, &S_LINE, 5, lv, NULL, NULL, &res);
            if (rc != CCIP_DB_OK)
                return rc;
            int done = PQntuples(res) == 1;
            PQclear(res);
            if (done)
                break;
            const char *code = codes[i];
            rc = ccip_db_exec(db, &S_ACCOUNT_GET, 1, &code, NULL, NULL, &res);
            if (rc != CCIP_DB_OK)
                return rc;
            int exists = PQntuples(res) == 1;
            snprintf(failure->account, sizeof failure->account, "%s", code);
            failure->balance_fen = exists ? ccip_db_cell_i64(res, 0, 0) : 0;
            int closed = exists && ccip_db_cell_bool(res, 0, 1);
            PQclear(res);
            if (exists && closed && l->open_only)
                return FUNDING_POST_CLOSED;
            if (exists || delta < 0 || attempt > 0)
                return FUNDING_POST_SHORT;
            /* A new account, then the line again. */
            const char *av[] = {
                code,     funding_account_kind_name(l->kind), side, e->programme_code, year,
                category, l->award_id ? l->award_id : ""};
            rc = ccip_db_exec(db, &S_ACCOUNT_NEW, 7, av, NULL, NULL, NULL);
            if (rc != CCIP_DB_OK)
                return rc;
        }
    }
    return 0;
}

int funding_ledger_post_cmd(ccip_command *cmd, funding_entry *e, const funding_line *lines,
                            size_t n, int64_t *entry_id)
{
    e->actor_id = cmd->actor.id;
    e->actor_role = cmd->actor.role;
    e->command_id = cmd->req->id;
    funding_post_failure f;
    int rc = funding_ledger_post(cmd->db, e, lines, n, entry_id, &f);
    char yuan[CCIP_FEN_STRLEN + 1];
    funding_yuan(f.balance_fen, yuan, sizeof yuan);
    switch (rc) {
    case FUNDING_POST_SHORT:
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "account %s holds only %s yuan (%" PRId64
                                 " fen), not enough for this %s entry",
                                 f.account, yuan, f.balance_fen,
                                 ccip_enum_name(&ccip__funding__entry_kind__descriptor, e->kind));
    case FUNDING_POST_CLOSED:
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "account %s belongs to a closed year: nothing new may be committed from it", f.account);
    case FUNDING_POST_UNBALANCED:
        ccip_log_error("refused an unbalanced journal entry", "type", cmd->req->type, "reason",
                       f.why);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "could not post the journal entry: %s", f.why);
    default:
        return rc;
    }
}

/* ---- journal listing ------------------------------------------------------------ */

static const ccip_db_stmt S_JOURNAL = {
    "funding_journal_list",
    "SELECT e.id, e.kind, (extract(epoch FROM e.at) * 1000000)::bigint, "
    "e.actor_id, e.memo, e.programme_code, e.year, coalesce(e.award_id::text, "
    "''), e.command_id, (SELECT string_agg(a.code || '=' || l.amount_fen, ' ' "
    "ORDER BY l.id) FROM journal_line l JOIN account a ON a.id = l.account_id "
    "WHERE l.entry_id = e.id) FROM journal_entry e WHERE ($1 = '' OR "
    "e.programme_code = $1) AND ($2::integer = 0 OR e.year = $2::integer) AND "
    "($3 = '' OR e.award_id = nullif($3, '')::uuid) AND e.id > $4::bigint ORDER "
    "BY e.id LIMIT $5::integer"};

int funding_journal_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__ListJournalRequest *rq = request;
    int rc = 0;
    PGresult *res = NULL;
    if (rq->award_id[0] && (rc = ccip_command_check_uuid(cmd, "award_id", rq->award_id)) != 0)
        goto out;
    if (rq->limit < 0 || rq->after_id < 0) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "fields `limit` and `after_id` must not be negative");
        goto out;
    }
    int limit = rq->limit == 0 ? JOURNAL_LIST_DEFAULT
                               : (rq->limit > JOURNAL_LIST_MAX ? JOURNAL_LIST_MAX : rq->limit);
    char year[24], after[24], lim[24];
    ccip_i64_text(rq->year, year);
    ccip_i64_text(rq->after_id, after);
    ccip_i64_text(limit, lim);
    const char *v[] = {rq->programme_code, year, rq->award_id, after, lim};
    if ((rc = ccip_db_exec(cmd->db, &S_JOURNAL, 5, v, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    int rows = PQntuples(res);
    Ccip__Funding__ListJournalReply reply = CCIP__FUNDING__LIST_JOURNAL_REPLY__INIT;
    reply.entries = ccip_arena_alloc(a, (size_t)rows * sizeof *reply.entries + 1);
    for (int r = 0; reply.entries && r < rows; r++) {
        Ccip__Funding__JournalEntry *e = ccip_row_new(
            a, CCIP_MSG(funding, journal_entry), res, r, 0,
            "id, kind, at_us, actor_id, memo, programme_code, year, award_id, command_id");
        if (!e)
            break;
        /* "code=amount code=amount": codes never hold spaces or '='. */
        char *lines = ccip_arena_strdup(a, PQgetvalue(res, r, 9));
        size_t nl = 1;
        for (const char *p = lines; *p; p++)
            nl += *p == ' ';
        e->lines = ccip_arena_alloc(a, nl * sizeof *e->lines);
        for (char *tok = lines, *next; e->lines && tok && *tok; tok = next) {
            next = strchr(tok, ' ');
            if (next)
                *next++ = '\0';
            char *eq = strrchr(tok, '=');
            if (!eq)
                continue;
            *eq = '\0';
            Ccip__Funding__JournalLine *l = ccip_arena_alloc(a, sizeof *l);
            if (!l)
                break;
            *l = (Ccip__Funding__JournalLine)CCIP__FUNDING__JOURNAL_LINE__INIT;
            l->account = tok;
            int64_t amount = strtoll(eq + 1, NULL, 10);
            if (amount > 0)
                l->debit_fen = amount;
            else
                l->credit_fen = -amount;
            e->lines[e->n_lines++] = l;
        }
        reply.entries[reply.n_entries++] = e;
    }
    rc = ccip_command_reply_built(cmd, a, &reply.base);
out:
    PQclear(res);
    return rc;
}

/* ---- verification -------------------------------------------------------------- */

static const ccip_db_stmt S_COUNTS = {
    "funding_verify_counts", "SELECT (SELECT count(*) FROM journal_entry), (SELECT count(*) FROM "
                             "journal_line), (SELECT count(*) FROM account)"};

/* Each account's balance recomputed from its lines, in its normal sign. */
#define JOURNAL_BALANCES                                                                           \
    "(SELECT a.id, a.code, a.kind, a.programme_code, a.year, a.category, "                         \
    "a.award_id, a.balance_fen AS stored, coalesce(CASE a.normal_side WHEN 'D' "                   \
    "THEN s.total ELSE -s.total END, 0)::bigint AS computed FROM account a LEFT "                  \
    "JOIN (SELECT account_id, sum(amount_fen) AS total FROM journal_line GROUP "                   \
    "BY account_id) s ON s.account_id = a.id)"

static const ccip_db_stmt S_ACCOUNTS_BAD = {
    "funding_verify_accounts", "SELECT code, stored, computed FROM " JOURNAL_BALANCES
                               " b WHERE stored <> computed ORDER BY code LIMIT " VERIFY_LIST_MAX};

static const ccip_db_stmt S_NEGATIVE = {
    "funding_verify_negative", "SELECT code FROM " JOURNAL_BALANCES
                               " b WHERE computed < 0 ORDER BY code LIMIT " VERIFY_LIST_MAX};

static const ccip_db_stmt S_ENTRIES_BAD = {
    "funding_verify_entries",
    "SELECT e.id, coalesce(sum(l.amount_fen) FILTER (WHERE l.amount_fen > 0), "
    "0)::bigint, coalesce(-sum(l.amount_fen) FILTER (WHERE l.amount_fen < 0), "
    "0)::bigint, count(l.id) FROM journal_entry e LEFT JOIN journal_line l ON "
    "l.entry_id = e.id GROUP BY e.id HAVING coalesce(sum(l.amount_fen), 0) <> 0 "
    "OR count(l.id) < 2 ORDER BY e.id LIMIT " VERIFY_LIST_MAX};

/* Figures kept beside the journal: the budget as set against the
 * appropriation, a category's budget against what was allotted to it, an
 * award's amount against what was committed to it. */
static const ccip_db_stmt S_FIGURES_BAD = {
    "funding_verify_figures",
    "WITH j AS " JOURNAL_BALANCES ", allotted AS (SELECT a.programme_code, a.year, a.category, "
    "sum(l.amount_fen) AS total FROM journal_line l JOIN account a ON a.id = "
    "l.account_id JOIN journal_entry e ON e.id = l.entry_id WHERE a.kind = "
    "'AVAILABLE' AND a.category <> '' AND e.kind = 'ENTRY_BUDGET_ALLOTTED' GROUP "
    "BY 1, 2, 3), committed AS (SELECT a.award_id, sum(l.amount_fen) AS total "
    "FROM journal_line l JOIN account a ON a.id = l.account_id WHERE a.kind = "
    "'COMMITTED' AND l.amount_fen > 0 GROUP BY 1) SELECT 'budget ' || "
    "y.programme_code || '/' || y.year, y.budget_fen, coalesce(j.computed, 0) "
    "FROM budget_year y LEFT JOIN j ON j.kind = 'APPROPRIATION' AND "
    "j.programme_code = y.programme_code AND j.year = y.year WHERE y.budget_fen "
    "<> coalesce(j.computed, 0) UNION ALL SELECT 'category ' || c.programme_code "
    "|| '/' || c.year || '/' || c.category, c.budget_fen, coalesce(t.total, "
    "0)::bigint FROM budget_category c LEFT JOIN allotted t USING "
    "(programme_code, year, category) WHERE c.budget_fen <> coalesce(t.total, 0) "
    "UNION ALL SELECT 'award ' || w.id, w.amount_fen, coalesce(m.total, "
    "0)::bigint FROM award w LEFT JOIN committed m ON m.award_id = w.id WHERE "
    "w.status NOT IN ('AWARD_PROPOSED', 'AWARD_REJECTED') AND w.amount_fen <> "
    "coalesce(m.total, 0) UNION ALL SELECT 'clawback ' || k.id, k.recovered_fen, "
    "coalesce((SELECT sum(amount_fen) FROM recovery r WHERE r.clawback_id = "
    "k.id), 0)::bigint FROM clawback k WHERE k.recovered_fen <> coalesce((SELECT "
    "sum(amount_fen) FROM recovery r WHERE r.clawback_id = k.id), 0) LIMIT " VERIFY_LIST_MAX};

int funding_ledger_verify(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)request; /* a VerifyLedgerRequest has no fields */
    Ccip__Funding__VerifyLedgerReply reply = CCIP__FUNDING__VERIFY_LEDGER_REPLY__INIT;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_COUNTS, 0, NULL, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        goto out;
    ccip_row_fill(&reply.base, res, 0, 0, "entries, lines, accounts", a);
    PQclear(res);

    if ((rc = ccip_db_exec(cmd->db, &S_ACCOUNTS_BAD, 0, NULL, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    int rows = PQntuples(res);
    reply.accounts_mismatched =
        ccip_arena_alloc(a, (size_t)rows * sizeof *reply.accounts_mismatched + 1);
    for (int r = 0; reply.accounts_mismatched && r < rows; r++) {
        Ccip__Funding__AccountMismatch *m = ccip_row_new(
            a, CCIP_MSG(funding, account_mismatch), res, r, 0, "account, stored_fen, journal_fen");
        if (!m)
            break;
        reply.accounts_mismatched[reply.n_accounts_mismatched++] = m;
        ccip_log_error("ledger: stored balance disagrees with the journal", "account", m->account,
                       "stored_fen", PQgetvalue(res, r, 1), "journal_fen", PQgetvalue(res, r, 2));
    }
    PQclear(res);

    if ((rc = ccip_db_exec(cmd->db, &S_ENTRIES_BAD, 0, NULL, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    rows = PQntuples(res);
    reply.entries_unbalanced =
        ccip_arena_alloc(a, (size_t)rows * sizeof *reply.entries_unbalanced + 1);
    for (int r = 0; reply.entries_unbalanced && r < rows; r++) {
        Ccip__Funding__UnbalancedEntry *u =
            ccip_row_new(a, CCIP_MSG(funding, unbalanced_entry), res, r, 0,
                         "entry_id, debit_fen, credit_fen, lines");
        if (!u)
            break;
        reply.entries_unbalanced[reply.n_entries_unbalanced++] = u;
        ccip_log_error("ledger: journal entry does not balance", "entry", PQgetvalue(res, r, 0));
    }
    PQclear(res);

    if ((rc = ccip_db_exec(cmd->db, &S_FIGURES_BAD, 0, NULL, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    rows = PQntuples(res);
    reply.figures_mismatched =
        ccip_arena_alloc(a, (size_t)rows * sizeof *reply.figures_mismatched + 1);
    for (int r = 0; reply.figures_mismatched && r < rows; r++) {
        Ccip__Funding__FigureMismatch *m = ccip_row_new(a, CCIP_MSG(funding, figure_mismatch), res,
                                                        r, 0, "what, stored_fen, journal_fen");
        if (!m)
            break;
        reply.figures_mismatched[reply.n_figures_mismatched++] = m;
        ccip_log_error("ledger: a figure disagrees with the journal", "what", m->what, "stored_fen",
                       PQgetvalue(res, r, 1), "journal_fen", PQgetvalue(res, r, 2));
    }
    PQclear(res);

    if ((rc = ccip_db_exec(cmd->db, &S_NEGATIVE, 0, NULL, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    rows = PQntuples(res);
    reply.negative_balances =
        ccip_arena_alloc(a, (size_t)rows * sizeof *reply.negative_balances + 1);
    for (int r = 0; reply.negative_balances && r < rows; r++)
        reply.negative_balances[reply.n_negative_balances++] =
            ccip_arena_strdup(a, PQgetvalue(res, r, 0));
    PQclear(res);
    res = NULL;

    reply.ok = reply.n_accounts_mismatched == 0 && reply.n_entries_unbalanced == 0 &&
               reply.n_figures_mismatched == 0 && reply.n_negative_balances == 0;
    rc = ccip_command_reply_built(cmd, a, &reply.base);
out:
    PQclear(res);
    return rc;
}
