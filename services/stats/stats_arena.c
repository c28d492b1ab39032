#include "stats_arena.h"

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

struct stats_arena {
    s_block *blocks; /* current block first */
    int failed;      /* an allocation failed */
};

stats_arena *stats_arena_new(void)
{
    return calloc(1, sizeof(stats_arena));
}

void stats_arena_destroy(stats_arena **a)
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

void *stats_arena_alloc(stats_arena *a, size_t n)
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

char *stats_arena_strdup(stats_arena *a, const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *p = stats_arena_alloc(a, n);
    if (!p) {
        if (a)
            a->failed = 1;
        /* Never written through: the message is dropped when failed is set. */
        return (char *)"";
    }
    memcpy(p, s, n);
    return p;
}

int stats_arena_failed(const stats_arena *a)
{
    return a ? a->failed : 1;
}
