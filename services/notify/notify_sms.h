/*
 * notify_sms: one text message to the HTTP SMS gateway (libcurl).
 *
 * notify.sms_url is a URL template: {mobile}, {text}, {id} and {key} are
 * replaced by the number, the message, the delivery's id (the idempotency
 * key) and notify.sms_key, each percent-encoded. The request is a POST
 * whose body is the JSON {"mobile": ..., "text": ..., "id": ...}, with the
 * headers Idempotency-Key (the delivery id) and, when a key is set,
 * Authorization: Bearer <key>. A gateway that has seen the key answers
 * without sending again, which is what makes a send repeated after a crash
 * harmless.
 *
 * Outcomes (notify_smtp.h): 2xx NOTIFY_SENT; 4xx other than 408 and 429
 * NOTIFY_PERMANENT (a number the gateway rejects); anything else, including
 * no answer, NOTIFY_TEMPORARY. err gets the status and the start of the
 * gateway's answer.
 */
#ifndef NOTIFY_SMS_H
#define NOTIFY_SMS_H

#include <stddef.h>

#include "ccip_text.h"
#include "notify.h"
#include "notify_smtp.h"

typedef struct notify_sms notify_sms;

/* A client of the gateway in cfg (borrowed). NULL when memory ran out. */
notify_sms *notify_sms_new(const notify_config *cfg);

/* Frees; safe on NULL and twice; sets *s to NULL. */
void notify_sms_destroy(notify_sms **s);

/* Sends text to mobile under idempotency key id. */
notify_outcome notify_sms_send(notify_sms *s, const char *mobile, const char *text, const char *id,
                               char *err, size_t errlen);

/* Appends the URL template with its placeholders replaced (percent-encoded
 * values) to out; for tests. */
void notify_sms_url(const char *tmpl, const char *mobile, const char *text, const char *id,
                    const char *key, ccip_text *out);

#endif
