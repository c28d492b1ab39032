/*
 * ip_arena: one allocation pool per reply or event being built.
 *
 * Replies are protobuf-c structs whose strings and arrays are built by hand
 * from query results. A handler allocates every piece from one arena and
 * destroys the arena once the message is packed:
 *
 *   ip_arena *a = ip_arena_new();
 *   Ccip__Ip__Work *w = ip_arena_alloc(a, sizeof *w);
 *   w->title = ip_arena_strdup(a, PQgetvalue(res, 0, 3));
 *   ...
 *   if (ip_arena_failed(a)) ... out of memory ...
 *   ip_arena_destroy(&a);
 *
 * (intake has the same helper; it belongs in common/ once both have landed.)
 * Not thread-safe; one arena per command.
 */
#ifndef IP_ARENA_H
#define IP_ARENA_H

#include <stddef.h>

typedef struct ip_arena ip_arena;

/* A new, empty arena, or NULL when memory ran out. */
ip_arena *ip_arena_new(void);

/* Frees everything allocated from the arena and the arena itself; safe on
 * NULL and twice, sets *a to NULL. */
void ip_arena_destroy(ip_arena **a);

/* n zeroed bytes (n may be 0), aligned for any type, valid until the arena
 * is destroyed. Returns NULL when memory ran out (the arena then reports
 * failed) or a is NULL. */
void *ip_arena_alloc(ip_arena *a, size_t n);

/* A copy of s (NULL is copied as ""). When memory runs out, returns a
 * static "" and the arena reports failed, so that callers may fill a whole
 * message and check once at the end. */
char *ip_arena_strdup(ip_arena *a, const char *s);

/* 1 when an allocation failed since the arena was made, else 0; 1 for NULL. */
int ip_arena_failed(const ip_arena *a);

#endif
