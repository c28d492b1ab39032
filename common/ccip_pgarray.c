#include "ccip_pgarray.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The separator before an element: "{" for the first, "," after. */
static void s_next(ccip_pgarray *a)
{
    ccip_text_put(&a->text, a->count++ ? "," : "{", 1);
}

void ccip_pgarray_text(ccip_pgarray *a, const char *v)
{
    s_next(a);
    ccip_text_put(&a->text, "\"", 1);
    for (const char *p = v ? v : ""; *p;) {
        size_t run = strcspn(p, "\"\\");
        ccip_text_put(&a->text, p, run);
        p += run;
        if (*p) {
            char esc[2] = {'\\', *p++};
            ccip_text_put(&a->text, esc, 2);
        }
    }
    ccip_text_put(&a->text, "\"", 1);
}

void ccip_pgarray_bytea(ccip_pgarray *a, const uint8_t *v, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    s_next(a);
    /* Inside a quoted element \\ stands for one backslash: bytea's "\x". */
    ccip_text_put(&a->text, "\"\\\\x", 4);
    char *at = ccip_text_reserve(&a->text, 2 * n);
    if (!at)
        return;
    for (size_t i = 0; i < n; i++) {
        *at++ = hex[v[i] >> 4];
        *at++ = hex[v[i] & 15];
    }
    a->text.len += 2 * n;
    ccip_text_put(&a->text, "\"", 1);
}

void ccip_pgarray_int(ccip_pgarray *a, int64_t v)
{
    s_next(a);
    ccip_text_printf(&a->text, "%" PRId64, v);
}

void ccip_pgarray_null(ccip_pgarray *a)
{
    s_next(a);
    ccip_text_put(&a->text, "NULL", 4);
}

const char *ccip_pgarray_value(ccip_pgarray *a)
{
    if (a->text.failed)
        return NULL;
    if (a->count == 0)
        return "{}";
    /* The brace goes after the last element but is not counted in len, so
     * that a later element overwrites it. */
    ccip_text_put(&a->text, "}", 1);
    if (a->text.failed)
        return NULL;
    a->text.len--;
    return a->text.p;
}

void ccip_pgarray_release(ccip_pgarray *a)
{
    ccip_text_release(&a->text);
    a->count = 0;
}
