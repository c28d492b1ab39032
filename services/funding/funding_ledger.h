/*
 * funding_ledger: the double-entry journal of the special funds.
 *
 * Every movement of budget or money is one journal entry of two or more
 * lines that add up to zero (debits positive, credits negative). Accounts
 * (kind, normal side, what they hold):
 *
 *   APPROPRIATION  C  the programme-year's budget         programme, year
 *   AVAILABLE      D  budget not yet committed            programme, year, category
 *                     ("" = the year's pool)
 *   COMMITTED      D  an award's commitment not yet paid  award
 *   DISBURSED      D  paid to the grantee                 award
 *   RECEIVABLE     D  clawback ordered, not recovered     award
 *   CLAWED_BACK    C  clawbacks ordered                   award
 *   RECOVERED      D  clawbacks recovered                 award
 *
 * Entries (proto EntryKind, ENTRY_ + ): BUDGET_ALLOCATED Dr AVAILABLE Cr APPROPRIATION;
 * BUDGET_REDUCED the reverse; BUDGET_ALLOTTED between the pool and a
 * category; AWARD_COMMITTED Dr COMMITTED Cr AVAILABLE; TRANCHE_DISBURSED
 * Dr DISBURSED Cr COMMITTED; AWARD_RELEASED Dr AVAILABLE Cr COMMITTED;
 * CLAWBACK_ORDERED Dr RECEIVABLE Cr CLAWED_BACK; CLAWBACK_RECOVERED Dr
 * RECOVERED Cr RECEIVABLE.
 *
 * Each account's balance (in its normal sign) is kept on its row, updated
 * with its lines in the same statement, and never below zero (a CHECK in
 * the schema): so a budget can never be overspent, and the remaining budget
 * of a year is the sum of its AVAILABLE accounts. The balance is a cache of
 * the journal: funding.ledger.verify.v1 recomputes every one and reports
 * any disagreement. Balance is enforced twice: funding_ledger_check here,
 * before anything is written, and a deferred constraint trigger at commit.
 */
#ifndef FUNDING_LEDGER_H
#define FUNDING_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "funding.h"

typedef enum {
    FUNDING_ACC_APPROPRIATION,
    FUNDING_ACC_AVAILABLE,
    FUNDING_ACC_COMMITTED,
    FUNDING_ACC_DISBURSED,
    FUNDING_ACC_RECEIVABLE,
    FUNDING_ACC_CLAWED_BACK,
    FUNDING_ACC_RECOVERED,
} funding_account_kind;

/* Longest account code, NUL included. */
#define FUNDING_ACCOUNT_MAX 128

/* Most lines one entry may have. */
#define FUNDING_LINES_MAX 8

/* One line of an entry. The account is named by its kind and, depending on
 * the kind, the entry's programme-year and a category, or an award. */
typedef struct {
    funding_account_kind kind;
    const char *category; /* AVAILABLE: "" or NULL = the year's pool */
    const char *award_id; /* COMMITTED .. RECOVERED: the award */
    int64_t amount_fen;   /* debit > 0, credit < 0, never 0 */
    int open_only;        /* refuse when the account is closed (new commitments) */
    int is_new;           /* the account cannot exist yet (an award's first entry): it is made
                             with this line in one statement; a clash is an error */
} funding_line;

/* What an entry is about. Strings are borrowed for the call. */
typedef struct {
    Ccip__Funding__EntryKind kind;
    const char *programme_code;
    int32_t year;
    const char *award_id; /* NULL or "" when none */
    const char *memo;
    const char *actor_id;
    const char *actor_role;
    const char *command_id;
} funding_entry;

/* Outcomes of funding_ledger_post besides 0 and the ccip_db_rc values. */
#define FUNDING_POST_SHORT      1 /* an account would go below zero */
#define FUNDING_POST_CLOSED     2 /* an open_only line met a closed account */
#define FUNDING_POST_UNBALANCED 3 /* the lines do not balance (a bug) */

/* Which account stopped a post, and its balance then. */
typedef struct {
    char account[FUNDING_ACCOUNT_MAX];
    int64_t balance_fen;
    char why[256]; /* FUNDING_POST_UNBALANCED: funding_ledger_check's sentence */
} funding_post_failure;

/* "APPROPRIATION", ...; "?" for values outside the enum. */
const char *funding_account_kind_name(funding_account_kind kind);

/* 'D' for debit-normal accounts, 'C' for credit-normal ones. */
char funding_account_normal_side(funding_account_kind kind);

/* Writes the account code of line l of entry e into out:
 *   appropriation:<programme>:<year>
 *   available:<programme>:<year>:<category>        (category may be empty)
 *   committed:<award>  disbursed:<award>  receivable:<award>
 *   clawed_back:<award>  recovered:<award>
 * Returns 0, or -1 when out is too small or a needed name is missing. */
int funding_account_code(const funding_entry *e, const funding_line *l, char *out, size_t len);

/* Checks lines before anything is written: 2..FUNDING_LINES_MAX lines, none
 * 0, none beyond +-FUNDING_AMOUNT_MAX, adding up to exactly 0. Returns 0, or
 * -1 with a sentence in err ("entry does not balance: debits 500 fen,
 * credits 400 fen"). Pure. */
int funding_ledger_check(const funding_line *lines, size_t n, char *err, size_t errlen);

/* Posts an entry inside the caller's transaction: inserts the entry, then
 * each line in the order given (put the most contended account last: its
 * row lock is then held for the shortest time), moving the balances.
 * Accounts are made on first use. Returns 0 and sets *entry_id (may be
 * NULL); FUNDING_POST_SHORT or FUNDING_POST_CLOSED with *failure naming the
 * account (the caller answers, and its transaction must be rolled back:
 * earlier lines were written); FUNDING_POST_UNBALANCED (nothing written,
 * failure->why says why); or a ccip_db_rc. */
int funding_ledger_post(ccip_db *db, const funding_entry *e, const funding_line *lines, size_t n,
                        int64_t *entry_id, funding_post_failure *failure);

/* funding_ledger_post for a command: fills actor and command id from cmd
 * and answers the failures itself (FAILED_PRECONDITION naming the account
 * and its balance, or INTERNAL for an unbalanced entry). Returns 0,
 * CCIP_REPLIED or a ccip_db_rc. */
int funding_ledger_post_cmd(ccip_command *cmd, funding_entry *e, const funding_line *lines,
                            size_t n, int64_t *entry_id);

/* Handlers: funding.journal.list.v1, funding.ledger.verify.v1. */
int funding_journal_list(ccip_command *cmd, ccip_arena *a, void *request);
int funding_ledger_verify(ccip_command *cmd, ccip_arena *a, void *request);

#endif
