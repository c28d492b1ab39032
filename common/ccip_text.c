#include "ccip_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CAP 256 /* bytes first allocated */

char *ccip_text_reserve(ccip_text *t, size_t n)
{
    if (t->failed)
        return NULL;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : FIRST_CAP;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *p = realloc(t->p, cap);
        if (!p) {
            t->failed = 1;
            return NULL;
        }
        t->p = p;
        t->cap = cap;
    }
    return t->p + t->len;
}

void ccip_text_put(ccip_text *t, const char *s, size_t n)
{
    char *at = ccip_text_reserve(t, n);
    if (!at)
        return;
    memcpy(at, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

void ccip_text_puts(ccip_text *t, const char *s)
{
    ccip_text_put(t, s, strlen(s));
}

void ccip_text_printf(ccip_text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = 1;
        return;
    }
    char *at = ccip_text_reserve(t, (size_t)n);
    if (!at)
        return;
    va_start(ap, fmt);
    vsnprintf(at, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

void ccip_text_release(ccip_text *t)
{
    free(t->p);
    memset(t, 0, sizeof *t);
}
