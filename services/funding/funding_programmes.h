/*
 * funding_programmes: fund programmes, their tranche plans, and their
 * budgets per year (with optional sub-budgets per category).
 *
 * A programme-year opens with its first budget figure. Each change of a
 * figure is a journal entry (BUDGET_ALLOCATED, BUDGET_REDUCED or
 * BUDGET_ALLOTTED) and a budget_change row with who, why and the command,
 * all in the command's one transaction. A figure can never go below what
 * is already committed from it: the ledger's AVAILABLE accounts cannot go
 * negative. A closed year takes no further budget change and no new
 * commitment.
 */
#ifndef FUNDING_PROGRAMMES_H
#define FUNDING_PROGRAMMES_H

#include "funding.h"

/* Handlers. */
int funding_programme_create(ccip_command *cmd, ccip_arena *a, void *request);
int funding_programme_configure(ccip_command *cmd, ccip_arena *a, void *request);
int funding_programme_get(ccip_command *cmd, ccip_arena *a, void *request);
int funding_programme_list(ccip_command *cmd, ccip_arena *a, void *request);
int funding_budget_set(ccip_command *cmd, ccip_arena *a, void *request);
int funding_year_close(ccip_command *cmd, ccip_arena *a, void *request);
int funding_budget_get(ccip_command *cmd, ccip_arena *a, void *request);
int funding_budget_list(ccip_command *cmd, ccip_arena *a, void *request);

/* Reads programme `code` with its tranche plan from the arena. Returns 0
 * with *out set, or NULL when there is no such programme (or memory ran
 * out: ccip_arena_failed tells), or a ccip_db_rc. */
int funding_programme_load(ccip_db *db, const char *code, ccip_arena *a,
                           Ccip__Funding__Programme **out);

/* Reads the figures of a programme-year (derived from the ledger's
 * balances) from the arena; with_changes adds its recorded budget changes.
 * Returns 0 with *out set, or NULL when the year was never opened, or a
 * ccip_db_rc. */
int funding_budget_load(ccip_db *db, const char *programme_code, int32_t year, int with_changes,
                        ccip_arena *a, Ccip__Funding__Budget **out);

/* Checks that programme `code` exists, answering FAILED_PRECONDITION
 * naming it and how to create it when not. Returns 0, CCIP_REPLIED or a
 * ccip_db_rc. */
int funding_programme_check(ccip_command *cmd, const char *field, const char *code);

#endif
