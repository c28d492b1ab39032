/*
 * notify_message: the words of a notification and the bytes of an e-mail
 * (pure: no database, no network).
 *
 * Templates live in services/notify/templates/<language>.txt (the format is
 * at the head of zh-CN.txt) and are compiled into the binary
 * (embed_templates.cmake), so a binary always carries the words of its own
 * version. Values from other people (an application's title, a reason, a
 * person's name) are never trusted:
 *  - in an e-mail header (To, Subject) they become RFC 2047 encoded words
 *    after every control character (CR and LF included) is replaced by a
 *    space, so no value can end a header or start another;
 *  - addresses must pass notify_email_valid, which refuses anything but
 *    plain local@domain;
 *  - in the HTML part every value is escaped (& < > " ');
 *  - the parts are base64 in UTF-8, so no line of a value reaches the SMTP
 *    stream as such.
 */
#ifndef NOTIFY_MESSAGE_H
#define NOTIFY_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "ccip_text.h"

/* The placeholders of a template ({name} ...); NULL reads as "". */
typedef struct {
    const char *name;    /* the person the message goes to */
    const char *subject; /* what it is about */
    const char *detail;  /* a reason, a note */
    const char *due;     /* the deadline as text, "" = none */
    const char *link;    /* the object's page */
    const char *count;   /* digests: how many items */
    const char *list;    /* digests: one line per item */
} notify_values;

/* One kind's words in one language. Borrowed from the parsed templates:
 * valid for the life of the process. */
typedef struct {
    const char *title; /* inbox title and e-mail subject */
    const char *sms;   /* the text message */
    const char *body;  /* the e-mail's text, lines separated by '\n' */
} notify_words;

/* The words of `kind` ("_digest" for the digest) in `language` ("zh-CN" or
 * "en"; anything else reads as zh-CN), falling back to zh-CN when the
 * language lacks the kind. Returns NULL when no template has the kind (a
 * kind without words is a bug that the unit tests catch). Thread-safe; the
 * templates are parsed on first use. */
const notify_words *notify_words_get(const char *kind, const char *language);

/* Appends tmpl with its placeholders replaced by v's values to out. With
 * drop_empty, a line holding a placeholder whose value is empty is left
 * out entirely ("截止时间：{due}" without a deadline). Unknown placeholders
 * are copied as they are. */
void notify_render(const char *tmpl, const notify_values *v, int drop_empty, ccip_text *out);

/* Appends s HTML-escaped (& < > " ') to out. */
void notify_html_escape(const char *s, ccip_text *out);

/* Appends the value of one header field made from s: every control
 * character (U+0000..U+001F, U+007F) replaced by a space, then, unless it
 * is printable ASCII without "=?", as RFC 2047 encoded words
 * (=?UTF-8?B?...?=, at most 75 characters each, never splitting a
 * character), separated by CRLF and a space. Invalid UTF-8 bytes become
 * U+FFFD. */
void notify_header_text(const char *s, ccip_text *out);

/* 1 when s is a plain e-mail address: local@domain, 3..254 bytes, the local
 * part of letters, digits and . _ % + -, the domain of labels of letters,
 * digits and -, with at least one dot. Else 0. */
int notify_email_valid(const char *s);

/* 1 when s is a mobile number: an optional '+' and 6..20 digits. Else 0. */
int notify_mobile_valid(const char *s);

/* An e-mail to compose. Every string is required ("" allowed for names). */
typedef struct {
    const char *message_id; /* "<id@domain>", made from the delivery id */
    const char *from_name;
    const char *from_addr; /* notify_email_valid */
    const char *to_name;
    const char *to_addr;  /* notify_email_valid */
    const char *language; /* "zh-CN" or "en": the HTML part's lang */
    const char *subject;  /* rendered title */
    const char *text;     /* rendered body */
    int64_t date_us;      /* the Date header (written in Beijing time) */
} notify_mail;

/* Appends the whole message (headers, a multipart/alternative body with a
 * text/plain and a text/html part, both UTF-8 in base64, CRLF line ends) to
 * out. Returns 0, or -1 when an address is not valid (nothing appended). */
int notify_mail_compose(const notify_mail *m, ccip_text *out);

/* Appends the base64 of n bytes at p, in lines of 76 characters each ended
 * by CRLF. */
void notify_base64_lines(const void *p, size_t n, ccip_text *out);

/* Writes us as Beijing time "YYYY-MM-DD HH:MM" into buf (at least 17 bytes);
 * "" for 0. Returns buf. */
char *notify_beijing_text(int64_t us, char *buf, size_t len);

#endif
