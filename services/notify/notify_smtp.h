/*
 * notify_smtp: e-mails handed to the SMTP relay with libcurl, and text
 * messages to the HTTP SMS gateway (notify_sms.h shares the outcome codes).
 *
 * One notify_smtp per sender thread: its libcurl handle keeps the relay's
 * connection open between messages. STARTTLS is used when the relay offers
 * it (notify.smtp_tls "try"), demanded ("require") or never tried ("off");
 * the relay's certificate is verified against notify.smtp_ca_file or the
 * system's CAs.
 *
 * What an outcome means for a delivery:
 *   NOTIFY_SENT       the relay took the message (250 after DATA)
 *   NOTIFY_TEMPORARY  try again later: no connection, a timeout, a 4xx
 *   NOTIFY_PERMANENT  never again: the relay refused it with a 5xx (an
 *                     address it does not know, a message it will not take)
 */
#ifndef NOTIFY_SMTP_H
#define NOTIFY_SMTP_H

#include <stddef.h>

#include "notify.h"

typedef enum {
    NOTIFY_SENT = 0,
    NOTIFY_TEMPORARY = -1,
    NOTIFY_PERMANENT = -2,
} notify_outcome;

typedef struct notify_smtp notify_smtp;

/* A client of the relay in cfg (borrowed: must outlive it). NULL when
 * memory ran out or libcurl could not make a handle. */
notify_smtp *notify_smtp_new(const notify_config *cfg);

/* Frees; safe on NULL and twice; sets *s to NULL. */
void notify_smtp_destroy(notify_smtp **s);

/* Sends message (len bytes, a whole RFC 5322 message with CRLF line ends)
 * from cfg's mail_from to `to`. Returns the outcome, with the relay's or
 * libcurl's words in err (at most errlen bytes, "" when sent). */
notify_outcome notify_smtp_send(notify_smtp *s, const char *to, const char *message, size_t len,
                                char *err, size_t errlen);

#endif
