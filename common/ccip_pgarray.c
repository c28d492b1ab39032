#include "ccip_pgarray.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_CAP 256 /* bytes first allocated: a handful of ids */

static void s_put(ccip_pgarray *a, const char *p, size_t n)
{
    if (a->failed)
        return;
    if (a->len + n + 2 > a->cap) { /* room for the closing brace and NUL */
        size_t cap = a->cap ? a->cap : FIRST_CAP;
        while (a->len + n + 2 > cap)
            cap *= 2;
        char *s = realloc(a->s, cap);
        if (!s) {
            a->failed = 1;
            return;
        }
        a->s = s;
        a->cap = cap;
    }
    memcpy(a->s + a->len, p, n);
    a->len += n;
    a->s[a->len] = '\0';
}

/* The separator before an element: "{" for the first, "," after. */
static void s_next(ccip_pgarray *a)
{
    s_put(a, a->count++ ? "," : "{", 1);
}

void ccip_pgarray_text(ccip_pgarray *a, const char *v)
{
    s_next(a);
    s_put(a, "\"", 1);
    for (const char *p = v ? v : ""; *p;) {
        size_t run = strcspn(p, "\"\\");
        s_put(a, p, run);
        p += run;
        if (*p) {
            char esc[2] = {'\\', *p++};
            s_put(a, esc, 2);
        }
    }
    s_put(a, "\"", 1);
}

void ccip_pgarray_bytea(ccip_pgarray *a, const uint8_t *v, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char chunk[128];
    s_next(a);
    /* Inside a quoted element \\ stands for one backslash: bytea's "\x". */
    s_put(a, "\"\\\\x", 4);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        chunk[k++] = hex[v[i] >> 4];
        chunk[k++] = hex[v[i] & 15];
        if (k == sizeof chunk) {
            s_put(a, chunk, k);
            k = 0;
        }
    }
    s_put(a, chunk, k);
    s_put(a, "\"", 1);
}

void ccip_pgarray_int(ccip_pgarray *a, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    s_next(a);
    s_put(a, num, (size_t)n);
}

void ccip_pgarray_null(ccip_pgarray *a)
{
    s_next(a);
    s_put(a, "NULL", 4);
}

const char *ccip_pgarray_value(ccip_pgarray *a)
{
    if (a->failed)
        return NULL;
    if (a->count == 0)
        return "{}";
    /* The brace goes after the last element but is not counted in len, so
     * that a later element overwrites it. */
    s_put(a, "}", 1);
    if (a->failed)
        return NULL;
    a->len--;
    return a->s;
}

void ccip_pgarray_release(ccip_pgarray *a)
{
    free(a->s);
    memset(a, 0, sizeof *a);
}
