/*
 * stats_arena: one allocation pool per reply being built (the same design as
 * services/intake/intake_arena; a candidate for common/ as ccip_arena).
 *
 * Replies and events are protobuf-c structs whose strings and arrays are
 * built by hand from query results. Rather than freeing each piece, a
 * handler allocates them all from one arena and destroys the arena once the
 * message is packed:
 *
 *   stats_arena *a = stats_arena_new();
 *   Ccip__Stats__Report *r = stats_arena_alloc(a, sizeof *r);
 *   *r = (Ccip__Stats__Report)CCIP__STATS__REPORT__INIT;
 *   r->quarter = stats_arena_strdup(a, PQgetvalue(res, 0, 3));
 *   ...
 *   if (stats_arena_failed(a)) ... out of memory ...
 *   stats_arena_destroy(&a);
 *
 * Not thread-safe; one arena per command.
 */
#ifndef STATS_ARENA_H
#define STATS_ARENA_H

#include <stddef.h>

typedef struct stats_arena stats_arena;

/* A new, empty arena, or NULL when memory ran out. */
stats_arena *stats_arena_new(void);

/* Frees everything allocated from the arena and the arena itself; safe on
 * NULL and twice, sets *a to NULL. */
void stats_arena_destroy(stats_arena **a);

/* n zeroed bytes (n may be 0), aligned for any type, valid until the arena
 * is destroyed. Returns NULL when memory ran out (the arena then reports
 * failed) or a is NULL. */
void *stats_arena_alloc(stats_arena *a, size_t n);

/* A copy of s (NULL is copied as ""). When memory runs out, returns a
 * static "" and the arena reports failed, so that callers may fill a whole
 * message and check once at the end. */
char *stats_arena_strdup(stats_arena *a, const char *s);

/* 1 when an allocation failed since the arena was made, else 0; 1 for NULL. */
int stats_arena_failed(const stats_arena *a);

#endif
