#include "ccip_arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE 8192 /* bytes of a regular block; larger requests get their own */

typedef struct s_block {
    struct s_block *next; /* blocks in reverse order of creation */
    size_t used;          /* bytes handed out from data */
    size_t size;          /* bytes in data */
    alignas(max_align_t) unsigned char data[];
} s_block;

struct ccip_arena {
    s_block *blocks; /* current block first */
    int failed;      /* an allocation failed */
};

ccip_arena *ccip_arena_new(void)
{
    return calloc(1, sizeof(ccip_arena));
}

void ccip_arena_destroy(ccip_arena **a)
{
    if (!a || !*a)
        return;
    s_block *b = (*a)->blocks;
    while (b) {
        s_block *next = b->next;
        free(b);
        b = next;
    }
    free(*a);
    *a = NULL;
}

void *ccip_arena_alloc(ccip_arena *a, size_t n)
{
    if (!a)
        return NULL;
    size_t align = alignof(max_align_t);
    size_t need = (n + align - 1) / align * align;
    if (need < n) {
        a->failed = 1;
        return NULL;
    }
    s_block *b = a->blocks;
    if (!b || b->size - b->used < need) {
        size_t size = need > BLOCK_SIZE ? need : BLOCK_SIZE;
        s_block *nb = malloc(sizeof *nb + size);
        if (!nb) {
            a->failed = 1;
            return NULL;
        }
        nb->used = 0;
        nb->size = size;
        if (b && need > BLOCK_SIZE) {
            /* A large block goes behind the current one, which keeps its
             * free space for the small requests that follow. */
            nb->next = b->next;
            b->next = nb;
            nb->used = need;
            memset(nb->data, 0, n);
            return nb->data;
        }
        nb->next = b;
        a->blocks = b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    memset(p, 0, n);
    return p;
}

char *ccip_arena_strdup(ccip_arena *a, const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *p = ccip_arena_alloc(a, n);
    if (!p) {
        if (a)
            a->failed = 1;
        /* Never written through: the message is dropped when failed is set. */
        return (char *)"";
    }
    memcpy(p, s, n);
    return p;
}

int ccip_arena_failed(const ccip_arena *a)
{
    return a ? a->failed : 1;
}

char **ccip_arena_split(ccip_arena *a, const char *text, size_t *n)
{
    *n = 0;
    if (!text || !text[0])
        return NULL;
    size_t count = 1;
    for (const char *p = text; *p; p++)
        count += *p == ',';
    char **out = ccip_arena_alloc(a, count * sizeof *out);
    char *copy = ccip_arena_strdup(a, text);
    if (!out || ccip_arena_failed(a))
        return NULL;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        out[(*n)++] = t;
    return out;
}
