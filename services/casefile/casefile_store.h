/*
 * casefile_store: the consumer that keeps every case from the other
 * services' events (tables in sql/0001_casefile.sql).
 *
 * Each event about a case (casefile_steps.h says which) becomes, in the
 * consumer's transaction:
 *   - its step on the case's timeline, keyed by (producer, position), so a
 *     redelivered or replayed event writes nothing twice;
 *   - the case's row, made when the case is first seen, with the first and
 *     latest times; the state when the step sets one and is the latest to
 *     do so (by time, then producer, then position);
 *   - for intake's events, the application in the case, and for the root
 *     application the case's facts (title, applicant, district; a later
 *     intake position wins, an empty value never erases one) and the text
 *     the search looks in;
 *   - for the objects the dossier shows, the event's payload, the latest
 *     position of each object winning.
 * Every write is commutative in this sense, so the tables end the same
 * whatever order the five consumer threads applied their streams in.
 */
#ifndef CASEFILE_STORE_H
#define CASEFILE_STORE_H

#include "ccip/envelope.pb-c.h"
#include "ccip_db.h"

/* The consumer handler (ccip_consumer_apply_fn) of every consumed type:
 * records the event's step inside the consumer's transaction on db. An
 * event not about a case moves only the cursor; one about a case that
 * cannot be read (a malformed payload) is logged and skipped, so the stream
 * goes on. Returns 0 or the ccip_db_rc of a failed statement. */
int casefile_store_apply(ccip_db *db, const Ccip__Envelope *ev, void *arg);

#endif
