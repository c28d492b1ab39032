/*
 * funding_arena: one allocation pool per reply being built.
 *
 * Replies and events are protobuf-c structs whose strings and arrays are
 * built by hand from query results. Rather than freeing each piece, a
 * handler allocates them all from one arena and destroys the arena once the
 * message is packed:
 *
 *   funding_arena *a = funding_arena_new();
 *   Ccip__Intake__Call *call = funding_arena_alloc(a, sizeof *call);
 *   *call = (Ccip__Intake__Call)CCIP__INTAKE__CALL__INIT;
 *   call->title = funding_arena_strdup(a, PQgetvalue(res, 0, 3));
 *   ...
 *   if (funding_arena_failed(a)) ... out of memory ...
 *   funding_arena_destroy(&a);
 *
 * Not thread-safe; one arena per command.
 */
#ifndef FUNDING_ARENA_H
#define FUNDING_ARENA_H

#include <stddef.h>

typedef struct funding_arena funding_arena;

/* A new, empty arena, or NULL when memory ran out. */
funding_arena *funding_arena_new(void);

/* Frees everything allocated from the arena and the arena itself; safe on
 * NULL and twice, sets *a to NULL. */
void funding_arena_destroy(funding_arena **a);

/* n zeroed bytes (n may be 0), aligned for any type, valid until the arena
 * is destroyed. Returns NULL when memory ran out (the arena then reports
 * failed) or a is NULL. */
void *funding_arena_alloc(funding_arena *a, size_t n);

/* A copy of s (NULL is copied as ""). When memory runs out, returns a
 * static "" and the arena reports failed, so that callers may fill a whole
 * message and check once at the end. */
char *funding_arena_strdup(funding_arena *a, const char *s);

/* 1 when an allocation failed since the arena was made, else 0; 1 for NULL. */
int funding_arena_failed(const funding_arena *a);

#endif
