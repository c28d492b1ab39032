#include "ip_arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE 8192 /* bytes of a block; larger requests get their own */

/* A block of memory; allocations are carved from its tail. */
typedef struct s_block {
    struct s_block *next;
    size_t size; /* usable bytes in data */
    size_t used; /* bytes handed out */
    alignas(max_align_t) unsigned char data[];
} s_block;

struct ip_arena {
    s_block *head; /* most recent block first */
    int failed;    /* an allocation failed */
};

ip_arena *ip_arena_new(void)
{
    return calloc(1, sizeof(ip_arena));
}

void ip_arena_destroy(ip_arena **a)
{
    if (!a || !*a)
        return;
    s_block *b = (*a)->head;
    while (b) {
        s_block *next = b->next;
        free(b);
        b = next;
    }
    free(*a);
    *a = NULL;
}

void *ip_arena_alloc(ip_arena *a, size_t n)
{
    if (!a)
        return NULL;
    const size_t align = alignof(max_align_t);
    size_t need = (n + align - 1) / align * align;
    if (need == 0)
        need = align;
    s_block *b = a->head;
    if (!b || b->size - b->used < need) {
        size_t size = need > BLOCK_SIZE ? need : BLOCK_SIZE;
        b = malloc(sizeof *b + size);
        if (!b) {
            a->failed = 1;
            return NULL;
        }
        b->size = size;
        b->used = 0;
        /* A big one-off block goes behind the current one, which keeps
         * its free space. */
        if (need > BLOCK_SIZE && a->head) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->data + b->used;
    b->used += need;
    memset(p, 0, n);
    return p;
}

char *ip_arena_strdup(ip_arena *a, const char *s)
{
    static char empty[1];
    if (!s)
        s = "";
    size_t n = strlen(s);
    char *p = ip_arena_alloc(a, n + 1);
    if (!p) {
        if (a)
            a->failed = 1;
        return empty; /* zero-initialised and never written */
    }
    memcpy(p, s, n + 1);
    return p;
}

int ip_arena_failed(const ip_arena *a)
{
    return a ? a->failed : 1;
}
