#include "ip_pg.h"

#include <stdlib.h>
#include <string.h>

#include "ccip_pgarray.h"
#include "ip_chain.h"

int ip_pg_text_array(ccip_arena *a, const char *lit, char ***items, size_t *n)
{
    *items = NULL;
    *n = 0;
    size_t len = lit ? strlen(lit) : 0;
    if (len < 2 || lit[0] != '{' || lit[len - 1] != '}')
        return -1;
    /* At most one element per byte: a generous bound for the pointer array. */
    char **out = ccip_arena_alloc(a, (len / 2 + 1) * sizeof *out);
    char *buf = ccip_arena_alloc(a, len);
    if (!out || !buf)
        return -1;
    size_t count = 0;
    const char *p = lit + 1;
    if (*p == '}') {
        *items = out;
        return 0;
    }
    for (;;) {
        char *start = buf;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1])
                    p++;
                *buf++ = *p++;
            }
            if (*p != '"')
                return -1;
            p++;
        } else {
            while (*p && *p != ',' && *p != '}')
                *buf++ = *p++;
            if (buf - start == 4 && memcmp(start, "NULL", 4) == 0)
                buf = start;
        }
        *buf++ = '\0';
        out[count++] = start;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '}' && p[1] == '\0')
            break;
        return -1;
    }
    *items = out;
    *n = count;
    return 0;
}

int ip_pg_uint_array(ccip_arena *a, const char *lit, uint32_t **items, size_t *n)
{
    char **text;
    if (ip_pg_text_array(a, lit, &text, n) < 0)
        return -1;
    uint32_t *out = ccip_arena_alloc(a, (*n ? *n : 1) * sizeof *out);
    if (!out)
        return -1;
    for (size_t i = 0; i < *n; i++) {
        char *end = NULL;
        unsigned long long v = strtoull(text[i], &end, 10);
        if (!text[i][0] || *end || v > UINT32_MAX)
            return -1;
        out[i] = (uint32_t)v;
    }
    *items = out;
    return 0;
}

/* The literals are built by ccip_pgarray (one place knows the quoting) and
 * kept in the caller's arena. */
static char *s_keep(ccip_arena *a, ccip_pgarray *arr)
{
    const char *v = ccip_pgarray_value(arr);
    char *out = v ? ccip_arena_strdup(a, v) : NULL;
    ccip_pgarray_release(arr);
    return out;
}

char *ip_pg_text_literal(ccip_arena *a, char *const *items, size_t n)
{
    ccip_pgarray arr = CCIP_PGARRAY_INIT;
    for (size_t i = 0; i < n; i++)
        ccip_pgarray_text(&arr, items[i]);
    return s_keep(a, &arr);
}

char *ip_pg_uint_literal(ccip_arena *a, const uint32_t *items, size_t n)
{
    ccip_pgarray arr = CCIP_PGARRAY_INIT;
    for (size_t i = 0; i < n; i++)
        ccip_pgarray_int(&arr, items[i]);
    return s_keep(a, &arr);
}

char *ip_pg_int64_literal(ccip_arena *a, const int64_t *items, size_t n)
{
    ccip_pgarray arr = CCIP_PGARRAY_INIT;
    for (size_t i = 0; i < n; i++)
        ccip_pgarray_int(&arr, items[i]);
    return s_keep(a, &arr);
}

int ip_pg_bytea(const char *text, uint8_t *out, size_t n)
{
    if (!text || text[0] != '\\' || text[1] != 'x')
        return -1;
    return ip_unhex(text + 2, out, n);
}

int ip_pg_bytea_dup(ccip_arena *a, const char *text, uint8_t **out, size_t *n)
{
    if (!text || text[0] != '\\' || text[1] != 'x' || strlen(text + 2) % 2 != 0)
        return -1;
    *n = strlen(text + 2) / 2;
    *out = ccip_arena_alloc(a, *n ? *n : 1);
    if (!*out)
        return -1;
    return ip_unhex(text + 2, *out, *n);
}
