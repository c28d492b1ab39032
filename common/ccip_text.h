/*
 * ccip_text: a growing text buffer, for the few places that compose a
 * document (a JSON projection, an HTML bulletin, an array parameter) piece
 * by piece.
 *
 *   ccip_text t = CCIP_TEXT_INIT;
 *   ccip_text_puts(&t, "<p>");
 *   ccip_text_printf(&t, "%d clusters", n);
 *   if (t.failed) ... out of memory: every call after the failure did nothing
 *   use(t.p);          // NUL-terminated, NULL while empty
 *   ccip_text_release(&t);
 */
#ifndef CCIP_TEXT_H
#define CCIP_TEXT_H

#include <stddef.h>

typedef struct {
    char *p;    /* the text, NUL-terminated; NULL until something was added */
    size_t len; /* bytes in p, without the NUL */
    size_t cap; /* bytes allocated */
    int failed; /* memory ran out: the text is incomplete, later calls do nothing */
} ccip_text;

#define CCIP_TEXT_INIT                                                                             \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }

/* Appends n bytes of s. */
void ccip_text_put(ccip_text *t, const char *s, size_t n);

/* Appends the string s. */
void ccip_text_puts(ccip_text *t, const char *s);

/* Appends printf-formatted text. */
void ccip_text_printf(ccip_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Makes room for n more bytes (and the NUL) and returns where they go, or
 * NULL when memory ran out; the caller writes them and adds n to len. */
char *ccip_text_reserve(ccip_text *t, size_t n);

/* Frees the text; t is empty again. Safe twice. */
void ccip_text_release(ccip_text *t);

#endif
