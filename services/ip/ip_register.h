/*
 * ip_register: ip.work.register.v1, the registration of works, a batch of
 * them at a time.
 *
 * A registration checks its request, refuses identical content of another
 * owner (naming the earlier registration), returns the earlier registration
 * to its own owner, flags near-duplicate text for staff review, then
 * appends its record to the chain (ip_chain.h) and signs its receipt
 * (ip_receipts.h).
 *
 * KEEPING THE CHAIN FROM BEING THE BOTTLENECK. Every registration appends
 * to one chain, so registrations are serialised on the chain_head row lock,
 * held until the commit (a record may only link to a committed one: an
 * aborted predecessor would break the chain). What is serial is therefore
 * one lock-to-commit section; the way to go faster is to put many
 * registrations in one section. The skeleton hands the registrations that a
 * replica holds at once to ip_work_register_batch (group commit,
 * ccip_service_batch.h), which handles them together:
 *
 *   1. in C: decodes and checks every request, makes MinHash signatures;
 *   2. ONE statement for the whole batch: the registered work with the same
 *      content as each request (and whether the registering party owns it),
 *      the works sharing a MinHash band key with each, and last the chain
 *      head, locked FOR UPDATE, with the database clock as trusted time: the
 *      head lock is taken ONCE per batch, as the last thing the batch takes;
 *   3. in C, in array order, each request is refused as a duplicate (of a
 *      registered work, or of an earlier request of the same batch), or
 *      answered with the earlier registration (same owner), or appended: the
 *      next serial, its chain hash over the previous one, its Ed25519
 *      receipt with the key cached in memory (ip_signer.h); microseconds each;
 *   4. ONE statement writes every new work with its owners, content, MinHash,
 *      band keys, near-duplicates and chain record (one INSERT ... SELECT
 *      FROM unnest(...) per table, as data-modifying CTEs) and moves the head
 *      once;
 *   5. the skeleton writes the batch's events in one statement, its replies
 *      in another, and commits once.
 *
 * So k registrations cost one head lock, two statements of their own and
 * one commit (one WAL flush) instead of k of each, and the section under
 * the lock is statement 4, the skeleton's two statements and the COMMIT.
 * Meanwhile the next batch runs everything up to the lock (BEGIN, command
 * ids, stored replies, statement 2's reads) on the replica's other
 * connection. No lock is taken after the head's, so it cannot be part of a
 * deadlock, and a batch whose requests are all refused by the checks of
 * step 1 never touches it.
 *
 * Statement 2 reads works with the snapshot of its start, from before it
 * waited for the head: identical content that the batch holding the head
 * commits meanwhile is caught in step 4 by the unique content hash (ON
 * CONFLICT DO NOTHING writes fewer works than expected), and the whole
 * batch is run again (CCIP_DB_RETRYABLE), which then sees and answers it as
 * a duplicate. A near-duplicate committed meanwhile may go unflagged, as
 * with any concurrent registration (the search never locked).
 */
#ifndef IP_REGISTER_H
#define IP_REGISTER_H

#include "ip.h"

/* ip.work.register.v1 for n >= 1 commands (a ccip_command_batch_fn): each
 * ends as if the commands had run one after the other in array order. */
int ip_work_register_batch(ccip_command *const *cmds, size_t n);

#endif
