#include "funding_programmes.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funding_ledger.h"
#include "funding_tranches.h"

/* ---- programmes ------------------------------------------------------------- */

static const ccip_db_stmt S_PROG_INSERT = {
    "funding_programme_insert",
    "INSERT INTO programme (code, name, description, created_by) VALUES ($1, $2, "
    "$3, $4) ON CONFLICT (code) DO NOTHING RETURNING code"};

static const ccip_db_stmt S_PROG_GET = {
    "funding_programme_get",
    "SELECT code, name, description, created_by, (extract(epoch FROM created_at) "
    "* 1000000)::bigint, (extract(epoch FROM updated_at) * 1000000)::bigint FROM "
    "programme WHERE code = $1"};

static const ccip_db_stmt S_PROG_LOCK = {"funding_programme_lock",
                                         "SELECT 1 FROM programme WHERE code = $1 FOR UPDATE"};

static const ccip_db_stmt S_PROG_UPDATE = {
    "funding_programme_update",
    "UPDATE programme SET name = CASE WHEN $2 = '' THEN name ELSE $2 END, "
    "description = CASE WHEN $3 = '' THEN description ELSE $3 END, updated_at = "
    "now() WHERE code = $1"};

static const ccip_db_stmt S_PROG_LIST = {"funding_programme_list",
                                         "SELECT code FROM programme ORDER BY code LIMIT 1000"};

static const ccip_db_stmt S_PLAN_DELETE = {
    "funding_plan_delete", "DELETE FROM programme_tranche WHERE programme_code = $1"};

static const ccip_db_stmt S_PLAN_INSERT = {
    "funding_plan_insert",
    "INSERT INTO programme_tranche (programme_code, number, percent, condition, "
    "label) VALUES ($1, $2::integer, $3::integer, $4, $5)"};

static const ccip_db_stmt S_PLAN_GET = {
    "funding_plan_get", "SELECT percent, condition, label FROM programme_tranche WHERE "
                        "programme_code = $1 ORDER BY number"};

int funding_programme_load(ccip_db *db, const char *code, ccip_arena *a,
                           Ccip__Funding__Programme **out)
{
    *out = NULL;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_PROG_GET, 1, &code, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0;
    }
    Ccip__Funding__Programme *p =
        ccip_row_new(a, CCIP_MSG(funding, programme), res, 0, 0,
                     "code, name, description, created_by, created_at_us, updated_at_us");
    if (!p) {
        PQclear(res);
        return 0;
    }
    PQclear(res);
    if ((rc = ccip_db_exec(db, &S_PLAN_GET, 1, &code, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    p->tranche_plan = ccip_arena_alloc(a, (size_t)rows * sizeof *p->tranche_plan + 1);
    for (int r = 0; p->tranche_plan && r < rows; r++) {
        Ccip__Funding__TrancheRule *t = ccip_row_new(a, CCIP_MSG(funding, tranche_rule), res, r, 0,
                                                     "percent, condition, label");
        if (!t)
            break;
        p->tranche_plan[p->n_tranche_plan++] = t;
    }
    PQclear(res);
    if (!ccip_arena_failed(a))
        *out = p;
    return 0;
}

int funding_programme_check(ccip_command *cmd, const char *field, const char *code)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_PROG_GET, 1, &code, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int found = PQntuples(res) == 1;
    PQclear(res);
    if (!found)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "field `%s`: there is no programme \"%s\"; list them with "
            "funding.programme.list.v1 or create it with funding.programme.create.v1",
            field, code);
    return 0;
}

/* Writes the plan of programme `code`, replacing any. rules may be empty:
 * then one tranche of 100% on AGREEMENT_SIGNED. */
static int s_write_plan(ccip_command *cmd, const char *code,
                        Ccip__Funding__TrancheRule *const *rules, size_t n)
{
    int rc = ccip_db_exec(cmd->db, &S_PLAN_DELETE, 1, &code, NULL, NULL, NULL);
    if (rc != CCIP_DB_OK)
        return rc;
    if (n == 0) {
        const char *v[] = {code, "1", "100", "AGREEMENT_SIGNED", "on signing"};
        return ccip_db_exec(cmd->db, &S_PLAN_INSERT, 5, v, NULL, NULL, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        char number[24], percent[24];
        ccip_i64_text((int64_t)i + 1, number);
        ccip_i64_text(rules[i]->percent, percent);
        const char *v[] = {
            code, number, percent,
            ccip_enum_name(&ccip__funding__condition__descriptor, rules[i]->condition),
            rules[i]->label};
        if ((rc = ccip_db_exec(cmd->db, &S_PLAN_INSERT, 5, v, NULL, NULL, NULL)) != CCIP_DB_OK)
            return rc;
    }
    return 0;
}

/* Replies with programme `code` and emits `type` when type is not NULL. */
static int s_reply_programme(ccip_command *cmd, const char *code, const char *type,
                             const char *reason)
{
    ccip_arena *a = ccip_arena_new();
    Ccip__Funding__Programme *p = NULL;
    int rc = funding_programme_load(cmd->db, code, a, &p);
    if (rc == 0 && !p)
        rc = ccip_arena_failed(a)
                 ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                     "out of memory reading a programme")
                 : ccip_command_fail(
                       cmd, CCIP__STATUS__NOT_FOUND,
                       "there is no programme \"%s\"; list them with funding.programme.list.v1",
                       code);
    if (rc == 0 && type) {
        Ccip__Funding__ProgrammeChanged ev = CCIP__FUNDING__PROGRAMME_CHANGED__INIT;
        ev.programme = p;
        ev.reason = (char *)(reason ? reason : "");
        rc = ccip_command_emit(cmd, type, "programme", code, &ev.base);
    }
    if (rc == 0) {
        Ccip__Funding__ProgrammeReply reply = CCIP__FUNDING__PROGRAMME_REPLY__INIT;
        reply.programme = p;
        rc = ccip_command_reply(cmd, &reply.base);
    }
    ccip_arena_destroy(&a);
    return rc;
}

static int s_check_plan(ccip_command *cmd, Ccip__Funding__TrancheRule *const *rules, size_t n)
{
    char err[300];
    if (funding_tranche_plan_check(rules, n, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    return 0;
}

int funding_programme_create(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__CreateProgrammeRequest *rq = request;
    PGresult *res = NULL;
    int rc;
    if ((rc = ccip_command_check_code(cmd, "code", rq->code, FUNDING_CODE_MAX)) != 0 ||
        (rc = ccip_command_check_text(cmd, "name", rq->name, 1, FUNDING_NAME_MAX, 0)) != 0 ||
        (rc = ccip_command_check_text(cmd, "description", rq->description, 0, FUNDING_DESC_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0 ||
        (rq->n_tranche_plan && (rc = s_check_plan(cmd, rq->tranche_plan, rq->n_tranche_plan)) != 0))
        goto out;
    const char *v[] = {rq->code, rq->name, rq->description, cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, &S_PROG_INSERT, 4, v, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    if (PQntuples(res) != 1) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__ALREADY_EXISTS,
                               "programme \"%s\" exists already; change it with "
                               "funding.programme.configure.v1",
                               rq->code);
        goto out;
    }
    if ((rc = s_write_plan(cmd, rq->code, rq->tranche_plan, rq->n_tranche_plan)) != 0)
        goto out;
    rc = s_reply_programme(cmd, rq->code, "funding.programme.created.v1", "");
out:
    PQclear(res);
    return rc;
}

int funding_programme_configure(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__ConfigureProgrammeRequest *rq = request;
    PGresult *res = NULL;
    int rc;
    if ((rc = ccip_command_check_code(cmd, "code", rq->code, FUNDING_CODE_MAX)) != 0 ||
        (rc = ccip_command_check_text(cmd, "name", rq->name, 0, FUNDING_NAME_MAX, 0)) != 0 ||
        (rc = ccip_command_check_text(cmd, "description", rq->description, 0, FUNDING_DESC_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0 ||
        (rc = ccip_command_check_text(cmd, "reason", rq->reason, 1, FUNDING_REASON_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0 ||
        (rq->n_tranche_plan && (rc = s_check_plan(cmd, rq->tranche_plan, rq->n_tranche_plan)) != 0))
        goto out;
    const char *code = rq->code;
    if ((rc = ccip_command_row(
             cmd, &S_PROG_LOCK, 1, &code, &res,
             "there is no programme \"%s\"; create it with funding.programme.create.v1", rq->code)))
        goto out;
    const char *v[] = {rq->code, rq->name, rq->description};
    if ((rc = ccip_db_exec(cmd->db, &S_PROG_UPDATE, 3, v, NULL, NULL, NULL)) != CCIP_DB_OK)
        goto out;
    if (rq->n_tranche_plan &&
        (rc = s_write_plan(cmd, rq->code, rq->tranche_plan, rq->n_tranche_plan)) != 0)
        goto out;
    rc = s_reply_programme(cmd, rq->code, "funding.programme.configured.v1", rq->reason);
out:
    PQclear(res);
    return rc;
}

int funding_programme_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__GetProgrammeRequest *rq = request;
    int rc = ccip_command_check_code(cmd, "code", rq->code, FUNDING_CODE_MAX);
    if (rc == 0)
        rc = s_reply_programme(cmd, rq->code, NULL, NULL);
    return rc;
}

int funding_programme_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)request; /* funding.ListProgrammesRequest has no fields */
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_PROG_LIST, 0, NULL, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    Ccip__Funding__ListProgrammesReply reply = CCIP__FUNDING__LIST_PROGRAMMES_REPLY__INIT;
    reply.programmes = ccip_arena_alloc(a, (size_t)rows * sizeof *reply.programmes + 1);
    for (int r = 0; rc == 0 && reply.programmes && r < rows; r++) {
        Ccip__Funding__Programme *p = NULL;
        rc = funding_programme_load(cmd->db, PQgetvalue(res, r, 0), a, &p);
        if (p)
            reply.programmes[reply.n_programmes++] = p;
    }
    PQclear(res);
    if (rc == 0)
        rc = ccip_command_reply_built(cmd, a, &reply.base);
    return rc;
}

/* ---- budgets ------------------------------------------------------------------ */

static const ccip_db_stmt S_YEAR_OPEN = {
    "funding_year_open",
    "INSERT INTO budget_year (programme_code, year) VALUES ($1, $2::integer) ON "
    "CONFLICT DO NOTHING"};

static const ccip_db_stmt S_YEAR_LOCK = {
    "funding_year_lock",
    "SELECT budget_fen, (extract(epoch FROM closed_at) * 1000000)::bigint, "
    "coalesce(closed_by, ''), close_reason FROM budget_year WHERE programme_code "
    "= $1 AND year = $2::integer FOR UPDATE"};

static const ccip_db_stmt S_YEAR_SET = {
    "funding_year_set", "UPDATE budget_year SET budget_fen = $3::bigint WHERE programme_code = $1 "
                        "AND year = $2::integer"};

static const ccip_db_stmt S_CATEGORY_LOCK = {
    "funding_category_lock",
    "SELECT budget_fen FROM budget_category WHERE programme_code = $1 AND year = "
    "$2::integer AND category = $3 FOR UPDATE"};

static const ccip_db_stmt S_CATEGORY_SET = {
    "funding_category_set",
    "INSERT INTO budget_category (programme_code, year, category, budget_fen) "
    "VALUES ($1, $2::integer, $3, $4::bigint) ON CONFLICT (programme_code, year, "
    "category) DO UPDATE SET budget_fen = EXCLUDED.budget_fen"};

static const ccip_db_stmt S_CHANGE = {
    "funding_budget_change",
    "INSERT INTO budget_change (programme_code, year, category, from_fen, "
    "to_fen, reason, actor_id, actor_role, command_id, entry_id) VALUES ($1, "
    "$2::integer, $3, $4::bigint, $5::bigint, $6, $7, $8, $9, $10::bigint)"};

static const ccip_db_stmt S_CLOSE_ACCOUNTS = {
    "funding_year_close_accounts",
    "WITH l AS (SELECT id FROM account WHERE programme_code = $1 AND year = "
    "$2::integer AND kind = 'AVAILABLE' ORDER BY code FOR UPDATE) UPDATE account "
    "SET closed = true WHERE id IN (SELECT id FROM l)"};

static const ccip_db_stmt S_CLOSE_YEAR = {
    "funding_year_close",
    "UPDATE budget_year SET closed_at = now(), closed_by = $3, close_reason = $4 "
    "WHERE programme_code = $1 AND year = $2::integer"};

static const ccip_db_stmt S_BUDGET_YEAR = {
    "funding_budget_year",
    "SELECT (extract(epoch FROM closed_at) * 1000000)::bigint, "
    "coalesce(closed_by, ''), close_reason, (SELECT count(*) FROM award w WHERE "
    "w.programme_code = $1 AND w.year = $2::integer AND w.status = "
    "'AWARD_PROPOSED'), (SELECT count(*) FROM award w WHERE w.programme_code = "
    "$1 AND w.year = $2::integer AND w.status IN ('AWARD_COMMITTED', "
    "'AWARD_SUSPENDED', 'AWARD_COMPLETED')) FROM budget_year WHERE "
    "programme_code = $1 AND year = $2::integer"};

static const ccip_db_stmt S_BUDGET_BALANCES = {
    "funding_budget_balances",
    "SELECT kind, category, sum(balance_fen)::bigint FROM account WHERE "
    "programme_code = $1 AND year = $2::integer GROUP BY kind, category"};

static const ccip_db_stmt S_BUDGET_CATEGORIES = {
    "funding_budget_categories",
    "SELECT c.category, c.budget_fen, coalesce(a.balance_fen, 0) FROM "
    "budget_category c LEFT JOIN account a ON a.programme_code = "
    "c.programme_code AND a.year = c.year AND a.kind = 'AVAILABLE' AND "
    "a.category = c.category WHERE c.programme_code = $1 AND c.year = "
    "$2::integer ORDER BY c.category"};

static const ccip_db_stmt S_BUDGET_CHANGES = {
    "funding_budget_changes",
    "SELECT (extract(epoch FROM at) * 1000000)::bigint, actor_id, actor_role, "
    "category, from_fen, to_fen, reason, command_id FROM budget_change WHERE "
    "programme_code = $1 AND year = $2::integer ORDER BY id"};

static const ccip_db_stmt S_BUDGET_LIST = {
    "funding_budget_list",
    "SELECT programme_code, year FROM budget_year WHERE ($1 = '' OR "
    "programme_code = $1) AND ($2::integer = 0 OR year = $2::integer) ORDER BY "
    "programme_code, year LIMIT 1000"};

int funding_budget_load(ccip_db *db, const char *programme_code, int32_t year, int with_changes,
                        ccip_arena *a, Ccip__Funding__Budget **out)
{
    *out = NULL;
    char y[24];
    ccip_i64_text(year, y);
    const char *v[] = {programme_code, y};
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_BUDGET_YEAR, 2, v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return 0;
    }
    Ccip__Funding__Budget *b =
        ccip_row_new(a, CCIP_MSG(funding, budget), res, 0, 0,
                     "closed_at_us, closed_by, close_reason, awards_proposed, awards_committed");
    if (!b) {
        PQclear(res);
        return 0;
    }
    b->programme_code = ccip_arena_strdup(a, programme_code);
    b->year = year;
    b->closed = !PQgetisnull(res, 0, 0);
    PQclear(res);

    if ((rc = ccip_db_exec(db, &S_BUDGET_BALANCES, 2, v, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *kind = PQgetvalue(res, r, 0);
        int64_t sum = ccip_db_cell_i64(res, r, 2);
        if (strcmp(kind, "APPROPRIATION") == 0)
            b->budget_fen += sum;
        else if (strcmp(kind, "AVAILABLE") == 0) {
            b->remaining_fen += sum;
            if (!PQgetvalue(res, r, 1)[0])
                b->unallotted_fen += sum;
        } else if (strcmp(kind, "DISBURSED") == 0)
            b->disbursed_fen += sum;
        else if (strcmp(kind, "CLAWED_BACK") == 0)
            b->clawed_back_fen += sum;
        else if (strcmp(kind, "RECOVERED") == 0)
            b->recovered_fen += sum;
    }
    b->committed_fen = b->budget_fen - b->remaining_fen;
    PQclear(res);

    if ((rc = ccip_db_exec(db, &S_BUDGET_CATEGORIES, 2, v, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    b->categories = ccip_arena_alloc(a, (size_t)rows * sizeof *b->categories + 1);
    for (int r = 0; b->categories && r < rows; r++) {
        Ccip__Funding__CategoryBudget *c = ccip_arena_alloc(a, sizeof *c);
        if (!c)
            break;
        *c = (Ccip__Funding__CategoryBudget)CCIP__FUNDING__CATEGORY_BUDGET__INIT;
        c->category = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
        c->budget_fen = ccip_db_cell_i64(res, r, 1);
        c->remaining_fen = ccip_db_cell_i64(res, r, 2);
        c->committed_fen = c->budget_fen - c->remaining_fen;
        b->categories[b->n_categories++] = c;
    }
    PQclear(res);

    if (with_changes) {
        if ((rc = ccip_db_exec(db, &S_BUDGET_CHANGES, 2, v, NULL, NULL, &res)) != CCIP_DB_OK)
            return rc;
        rows = PQntuples(res);
        b->changes = ccip_arena_alloc(a, (size_t)rows * sizeof *b->changes + 1);
        for (int r = 0; b->changes && r < rows; r++) {
            Ccip__Funding__BudgetChange *c = ccip_row_new(
                a, CCIP_MSG(funding, budget_change), res, r, 0,
                "at_us, actor_id, actor_role, category, from_fen, to_fen, reason, command_id");
            if (!c)
                break;
            b->changes[b->n_changes++] = c;
        }
        PQclear(res);
    }
    if (!ccip_arena_failed(a))
        *out = b;
    return 0;
}

static int s_reply_budget(ccip_command *cmd, const char *code, int32_t year)
{
    ccip_arena *a = ccip_arena_new();
    Ccip__Funding__Budget *b = NULL;
    int rc = funding_budget_load(cmd->db, code, year, 1, a, &b);
    if (rc == 0 && !b)
        rc = ccip_arena_failed(a)
                 ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading a budget")
                 : ccip_command_fail(
                       cmd, CCIP__STATUS__NOT_FOUND,
                       "programme \"%s\" has no budget for %d; set one with funding.budget.set.v1",
                       code, (int)year);
    if (rc == 0) {
        Ccip__Funding__BudgetReply reply = CCIP__FUNDING__BUDGET_REPLY__INIT;
        reply.budget = b;
        rc = ccip_command_reply(cmd, &reply.base);
    }
    ccip_arena_destroy(&a);
    return rc;
}

/* Answers FAILED_PRECONDITION for a closed year (row of S_YEAR_LOCK). */
static int s_closed(ccip_command *cmd, const PGresult *res, const char *code, int32_t year,
                    const char *what)
{
    char when[CCIP_TIME_STRLEN + 1];
    ccip_time_text(ccip_db_cell_i64(res, 0, 1), when, sizeof when);
    return ccip_command_fail(
        cmd, CCIP__STATUS__FAILED_PRECONDITION,
        "the %d budget of programme \"%s\" was closed at %s UTC by %s (%.200s); a "
        "closed year takes no %s",
        (int)year, code, when, PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3), what);
}

/* Announces the change of programme `code`'s budget for `year` (of a
 * category, or of the year when category is NULL: closing it) as event
 * `type`, and replies with the budget as it now stands. Returns 0,
 * CCIP_REPLIED or a ccip_db_rc. */
static int s_budget_changed(ccip_command *cmd, const char *type, const char *code, int32_t year,
                            const char *category, int64_t from, int64_t to, const char *reason)
{
    Ccip__Funding__BudgetChanged ev = CCIP__FUNDING__BUDGET_CHANGED__INIT;
    ev.programme_code = (char *)code;
    ev.year = year;
    ev.category = (char *)(category ? category : "");
    ev.from_fen = from;
    ev.to_fen = to;
    ev.reason = (char *)reason;
    ev.closed = category == NULL;
    int rc = ccip_command_emit(cmd, type, "programme", code, &ev.base);
    if (rc)
        return rc;
    return s_reply_budget(cmd, code, year);
}
int funding_budget_set(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__SetBudgetRequest *rq = request;
    PGresult *res = NULL;
    int rc;
    int category = rq->category[0] != '\0';
    if ((rc = ccip_command_check_code(cmd, "programme_code", rq->programme_code,
                                      FUNDING_CODE_MAX)) != 0 ||
        (rc = funding_check_year(cmd, "year", rq->year)) != 0 ||
        (category &&
         (rc = ccip_command_check_code(cmd, "category", rq->category, FUNDING_CODE_MAX)) != 0) ||
        (rc = funding_check_amount(cmd, "budget_fen", rq->budget_fen, 1)) != 0 ||
        (rc = ccip_command_check_text(cmd, "reason", rq->reason, 1, FUNDING_REASON_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0 ||
        (rc = funding_programme_check(cmd, "programme_code", rq->programme_code)) != 0)
        goto out;
    char year[24];
    ccip_i64_text(rq->year, year);
    const char *yv[] = {rq->programme_code, year};
    if ((rc = ccip_db_exec(cmd->db, &S_YEAR_OPEN, 2, yv, NULL, NULL, NULL)) != CCIP_DB_OK ||
        (rc = ccip_db_exec(cmd->db, &S_YEAR_LOCK, 2, yv, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    if (!PQgetisnull(res, 0, 1)) {
        rc = s_closed(cmd, res, rq->programme_code, rq->year, "budget changes");
        goto out;
    }
    int64_t from = ccip_db_cell_i64(res, 0, 0);
    PQclear(res);
    res = NULL;
    if (category) {
        const char *cv[] = {rq->programme_code, year, rq->category};
        if ((rc = ccip_db_exec(cmd->db, &S_CATEGORY_LOCK, 3, cv, NULL, NULL, &res)) != CCIP_DB_OK)
            goto out;
        from = PQntuples(res) == 1 ? ccip_db_cell_i64(res, 0, 0) : 0;
        PQclear(res);
        res = NULL;
    }
    int64_t to = rq->budget_fen, delta = to - from;
    if (delta == 0) {
        /* Nothing would change: refused, so that no empty year is opened and
         * no change without a movement is recorded. */
        char now[CCIP_FEN_STRLEN + 1];
        funding_yuan(from, now, sizeof now);
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "field `budget_fen`: the %d budget of programme \"%s\"%s%s%s is %s "
                               "yuan already; give a different figure to change it",
                               (int)rq->year, rq->programme_code, category ? " (category " : "",
                               rq->category, category ? ")" : "", now);
        goto out;
    }
    funding_entry e = {.programme_code = rq->programme_code, .year = rq->year, .memo = rq->reason};
    funding_line lines[2] = {{0}};
    if (!category) {
        /* The pool is the contended row: its line goes last. */
        e.kind = delta > 0 ? CCIP__FUNDING__ENTRY_KIND__ENTRY_BUDGET_ALLOCATED
                           : CCIP__FUNDING__ENTRY_KIND__ENTRY_BUDGET_REDUCED;
        lines[0] = (funding_line){.kind = FUNDING_ACC_APPROPRIATION, .amount_fen = -delta};
        lines[1] =
            (funding_line){.kind = FUNDING_ACC_AVAILABLE, .category = "", .amount_fen = delta};
    } else {
        e.kind = CCIP__FUNDING__ENTRY_KIND__ENTRY_BUDGET_ALLOTTED;
        lines[0] = (funding_line){
            .kind = FUNDING_ACC_AVAILABLE, .category = rq->category, .amount_fen = delta};
        lines[1] =
            (funding_line){.kind = FUNDING_ACC_AVAILABLE, .category = "", .amount_fen = -delta};
    }
    e.actor_id = cmd->actor.id;
    e.actor_role = cmd->actor.role;
    e.command_id = cmd->req->id;
    int64_t entry_id = 0;
    funding_post_failure f;
    rc = funding_ledger_post(cmd->db, &e, lines, 2, &entry_id, &f);
    if (rc == FUNDING_POST_SHORT) {
        char want[CCIP_FEN_STRLEN + 1], have[CCIP_FEN_STRLEN + 1], low[CCIP_FEN_STRLEN + 1];
        funding_yuan(to, want, sizeof want);
        funding_yuan(f.balance_fen, have, sizeof have);
        funding_yuan(from - f.balance_fen, low, sizeof low);
        if (!category && delta < 0)
            rc = ccip_command_fail(
                cmd, CCIP__STATUS__FAILED_PRECONDITION,
                "field `budget_fen`: cannot lower the %d budget of programme \"%s\" to %s "
                "yuan: only %s yuan of it is neither committed nor allotted to a category, "
                "so the lowest it can be set to is %s yuan",
                (int)rq->year, rq->programme_code, want, have, low);
        else if (category && delta < 0)
            rc = ccip_command_fail(
                cmd, CCIP__STATUS__FAILED_PRECONDITION,
                "field `budget_fen`: cannot lower category \"%s\" of the %d budget of "
                "programme \"%s\" to %s yuan: only %s yuan of it is not committed, so the "
                "lowest it can be set to is %s yuan",
                rq->category, (int)rq->year, rq->programme_code, want, have, low);
        else
            rc = ccip_command_fail(
                cmd, CCIP__STATUS__FAILED_PRECONDITION,
                "field `budget_fen`: category \"%s\" cannot get %s yuan from the %d budget "
                "of programme \"%s\": only %s yuan of the year is neither committed nor "
                "allotted; raise the year's total first",
                rq->category, want, (int)rq->year, rq->programme_code, have);
        goto out;
    }
    if (rc != 0) {
        if (rc > 0)
            rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                   "could not post the budget change: %s",
                                   f.why[0] ? f.why : f.account);
        goto out;
    }
    char sto[24], sfrom[24], sentry[24];
    ccip_i64_text(to, sto);
    ccip_i64_text(from, sfrom);
    ccip_i64_text(entry_id, sentry);
    if (category) {
        const char *cv[] = {rq->programme_code, year, rq->category, sto};
        rc = ccip_db_exec(cmd->db, &S_CATEGORY_SET, 4, cv, NULL, NULL, NULL);
    } else {
        const char *sv[] = {rq->programme_code, year, sto};
        rc = ccip_db_exec(cmd->db, &S_YEAR_SET, 3, sv, NULL, NULL, NULL);
    }
    if (rc != CCIP_DB_OK)
        goto out;
    const char *chv[] = {rq->programme_code, year,          rq->category,    sfrom,        sto,
                         rq->reason,         cmd->actor.id, cmd->actor.role, cmd->req->id, sentry};
    if ((rc = ccip_db_exec(cmd->db, &S_CHANGE, 10, chv, NULL, NULL, NULL)) != CCIP_DB_OK)
        goto out;
    rc = s_budget_changed(cmd, "funding.budget.changed.v1", rq->programme_code, rq->year,
                          rq->category, from, to, rq->reason);
out:
    PQclear(res);
    return rc;
}

int funding_year_close(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__CloseYearRequest *rq = request;
    PGresult *res = NULL;
    int rc;
    if ((rc = ccip_command_check_code(cmd, "programme_code", rq->programme_code,
                                      FUNDING_CODE_MAX)) != 0 ||
        (rc = funding_check_year(cmd, "year", rq->year)) != 0 ||
        (rc = ccip_command_check_text(cmd, "reason", rq->reason, 1, FUNDING_REASON_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0 ||
        (rc = funding_programme_check(cmd, "programme_code", rq->programme_code)) != 0)
        goto out;
    char year[24];
    ccip_i64_text(rq->year, year);
    const char *yv[] = {rq->programme_code, year};
    if ((rc = ccip_db_exec(cmd->db, &S_YEAR_LOCK, 2, yv, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    if (PQntuples(res) != 1) {
        rc =
            ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                              "programme \"%s\" has no budget for %d, so there is nothing to close",
                              rq->programme_code, (int)rq->year);
        goto out;
    }
    if (!PQgetisnull(res, 0, 1)) {
        rc = s_closed(cmd, res, rq->programme_code, rq->year, "second closing");
        goto out;
    }
    int64_t budget = ccip_db_cell_i64(res, 0, 0);
    const char *cv[] = {rq->programme_code, year, cmd->actor.id, rq->reason};
    if ((rc = ccip_db_exec(cmd->db, &S_CLOSE_ACCOUNTS, 2, yv, NULL, NULL, NULL)) != CCIP_DB_OK ||
        (rc = ccip_db_exec(cmd->db, &S_CLOSE_YEAR, 4, cv, NULL, NULL, NULL)) != CCIP_DB_OK)
        goto out;
    rc = s_budget_changed(cmd, "funding.year.closed.v1", rq->programme_code, rq->year, NULL, budget,
                          budget, rq->reason);
out:
    PQclear(res);
    return rc;
}

int funding_budget_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__GetBudgetRequest *rq = request;
    int rc;
    if ((rc = ccip_command_check_code(cmd, "programme_code", rq->programme_code,
                                      FUNDING_CODE_MAX)) == 0 &&
        (rc = funding_check_year(cmd, "year", rq->year)) == 0)
        rc = s_reply_budget(cmd, rq->programme_code, rq->year);
    return rc;
}

int funding_budget_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__ListBudgetsRequest *rq = request;
    PGresult *res = NULL;
    int rc = 0;
    if ((rq->programme_code[0] &&
         (rc = ccip_command_check_code(cmd, "programme_code", rq->programme_code,
                                       FUNDING_CODE_MAX)) != 0) ||
        (rq->year && (rc = funding_check_year(cmd, "year", rq->year)) != 0))
        goto out;
    char year[24];
    ccip_i64_text(rq->year, year);
    const char *v[] = {rq->programme_code, year};
    if ((rc = ccip_db_exec(cmd->db, &S_BUDGET_LIST, 2, v, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    int rows = PQntuples(res);
    Ccip__Funding__ListBudgetsReply reply = CCIP__FUNDING__LIST_BUDGETS_REPLY__INIT;
    reply.budgets = ccip_arena_alloc(a, (size_t)rows * sizeof *reply.budgets + 1);
    for (int r = 0; rc == 0 && reply.budgets && r < rows; r++) {
        Ccip__Funding__Budget *b = NULL;
        rc = funding_budget_load(cmd->db, PQgetvalue(res, r, 0),
                                 (int32_t)ccip_db_cell_i64(res, r, 1), 0, a, &b);
        if (b)
            reply.budgets[reply.n_budgets++] = b;
    }
    if (rc == 0)
        rc = ccip_command_reply_built(cmd, a, &reply.base);
out:
    PQclear(res);
    return rc;
}
