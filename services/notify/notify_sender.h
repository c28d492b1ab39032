/*
 * notify_sender: the thread of the service that sends due deliveries.
 *
 * Started by notify_def's start hook (after the migrations) and stopped by
 * its stop hook, it keeps a database connection of its own and, in a loop:
 *
 *  1. gathers each account's DIGEST deliveries whose digest time came into
 *     one digest delivery (under an advisory lock, so two replicas never
 *     make two digests of the same items);
 *  2. claims up to notify.send_batch due deliveries in one committed
 *     statement: PENDING ones whose due time came, and SENDING ones whose
 *     lease ran out (a sender that died between sending and recording),
 *     marking them SENDING with a lease of notify.lease_seconds and one
 *     attempt more (FOR UPDATE SKIP LOCKED: replicas share the work);
 *  3. sends each one, with a Message-ID "<delivery id@notify.ccip>" (the
 *     SMS gateway's idempotency key is the delivery id), so that a message
 *     sent again after a crash is the same message to whoever de-duplicates;
 *  4. records the outcome: SENT; FAILED with the relay's or gateway's words
 *     (a permanent refusal, or temporary ones for longer than
 *     notify.give_up_hours); else PENDING again after a pause that doubles
 *     from notify.retry_min_ms to notify.retry_max_seconds. An SMS due in
 *     its account's quiet hours goes back to PENDING until they end, without
 *     counting an attempt; when the relay cannot be reached at all, the rest
 *     of the batch waits too, untried;
 *  5. waits for a NOTIFY on channel notify_delivery (a new delivery) or
 *     notify.poll_ms, whichever comes first.
 *
 * A delivery is recorded only if it is still SENDING (a lease that ran out
 * and was taken over is the other sender's to record), so a row is never
 * recorded SENT twice; the message itself may leave twice only when a
 * sender died or stalled past its lease after sending, and then with the
 * same Message-ID or idempotency key.
 */
#ifndef NOTIFY_SENDER_H
#define NOTIFY_SENDER_H

#include <stddef.h>

#include "notify.h"

/* The start hook of notify_def: checks the channel settings (a
 * notify.smtp_tls that is not try, require or off; a mail_from that is not
 * an address; an SMS URL template without {mobile} or {text}), connects
 * and starts the thread. Returns 0, or -1 with err. */
int notify_sender_start(const ccip_service *svc, char *err, size_t errlen);

/* The stop hook: stops the thread within about notify.poll_ms plus the
 * exchange in hand, and frees it. */
void notify_sender_stop(const ccip_service *svc);

/* The Message-ID of a delivery: "<id@notify.ccip>" into buf. Returns buf. */
const char *notify_message_id(const char *delivery_id, char *buf, size_t len);

#endif
