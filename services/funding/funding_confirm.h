/*
 * funding_confirm: confirming proposed awards (funding.award.confirm.v1),
 * many at once.
 *
 * A confirmation commits the award's amount (at most the request) from its
 * programme-year's budget, or from a category of it, and plans its tranches
 * by the programme's plan, in one transaction: the award becomes
 * AWARD_COMMITTED, one ENTRY_AWARD_COMMITTED journal entry (Dr COMMITTED of
 * the award, a new account; Cr AVAILABLE of the year or category) is posted,
 * funding.award.granted.v1 is published and the reply is the award.
 *
 * Every confirmation of a programme-year draws on the same AVAILABLE account
 * row, so they are serialised on its row lock, held until the commit. The
 * service skeleton commits the commands a replica holds in batches
 * (ccip_service_batch.h); this handler takes a batch's confirmations
 * together, with four statements per batch whatever its size, and takes
 * that row lock as late as it can:
 *
 *   1. the awards, locked (FOR UPDATE, in id order) with the transaction's
 *      time;
 *   2. the state of each programme-year-category they name (programme, year
 *      open or closed, category), its AVAILABLE account as last committed
 *      (not locked), and the programmes' tranche plans;
 *   3. a savepoint;
 *   4. one statement that writes every accepted confirmation: tranches,
 *      awards, journal entries, the awards' COMMITTED accounts, the lines,
 *      and last the AVAILABLE balances, each moved by its total on
 *      condition that it still covers it (and still holds exactly what a
 *      refusal named, when the batch refused one for lack of budget).
 *
 * Between 2 and 3 each command is decided in C, in the batch's order, as if
 * the commands had run one after the other: an award confirmed earlier in
 * the batch is no longer proposed, and a confirmation is accepted only when
 * the balance the earlier ones left covers it; the others get the same
 * answer one alone would get ("insufficient budget: ... has 150.00 yuan
 * ... left") and nothing is written for them. When the condition of 4
 * fails (another batch committed from the account since 2), the batch
 * rolls back to the savepoint, locks the accounts (in code order), reads
 * them again and decides and writes again: the outcome is always the one a
 * decision under the lock gives. Replies and events are built from what
 * was read and decided, not read back. The database stays the last word:
 * the balance never goes below zero (a CHECK), every entry balances
 * (deferred constraint triggers at the commit), and a tranche plan changed
 * meanwhile makes the batch run again.
 */
#ifndef FUNDING_CONFIRM_H
#define FUNDING_CONFIRM_H

#include <stddef.h>

#include "funding.h"

/* Handles n >= 1 confirmations inside their batch's transaction (a
 * ccip_command_batch_fn): each ends with its reply or its refusal, exactly
 * as if run alone one after the other. Returns 0, or the ccip_db_rc of a
 * failed statement (CCIP_DB_RETRYABLE when a tranche plan changed under
 * it); the skeleton then undoes the batch. */
int funding_award_confirm_batch(ccip_command *const *cmds, size_t n);

#endif
