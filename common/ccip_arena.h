/*
 * ccip_arena: one allocation pool per reply being built.
 *
 * Replies and events are protobuf-c structs whose strings and arrays are
 * built by hand from query results. Rather than freeing each piece, a
 * handler allocates them all from one arena and destroys the arena once the
 * message is packed:
 *
 *   ccip_arena *a = ccip_arena_new();
 *   Ccip__Intake__Call *c = ccip_arena_alloc(a, sizeof *c);
 *   *c = (Ccip__Intake__Call)CCIP__INTAKE__CALL__INIT;
 *   c->title = ccip_arena_strdup(a, PQgetvalue(res, 0, 3));
 *   ...
 *   if (ccip_arena_failed(a)) ... out of memory ...
 *   ccip_arena_destroy(&a);
 *
 * Every service builds its replies this way, so the arena lives here. Not
 * thread-safe; one arena per command.
 */
#ifndef CCIP_ARENA_H
#define CCIP_ARENA_H

#include <stddef.h>

typedef struct ccip_arena ccip_arena;

/* A new, empty arena, or NULL when memory ran out. */
ccip_arena *ccip_arena_new(void);

/* Frees everything allocated from the arena and the arena itself; safe on
 * NULL and twice, sets *a to NULL. */
void ccip_arena_destroy(ccip_arena **a);

/* n zeroed bytes (n may be 0), aligned for any type, valid until the arena
 * is destroyed. Returns NULL when memory ran out (the arena then reports
 * failed) or a is NULL. */
void *ccip_arena_alloc(ccip_arena *a, size_t n);

/* A copy of s (NULL is copied as ""). When memory runs out, returns a
 * static "" and the arena reports failed, so that callers may fill a whole
 * message and check once at the end. */
char *ccip_arena_strdup(ccip_arena *a, const char *s);

/* Splits "a,b,c" at commas into strings allocated from a, writing their
 * number into *n. Empty pieces are dropped; NULL or "" gives NULL and 0.
 * Returns NULL (and the arena reports failed) when memory ran out. */
char **ccip_arena_split(ccip_arena *a, const char *text, size_t *n);

/* 1 when an allocation failed since the arena was made, else 0; 1 for NULL. */
int ccip_arena_failed(const ccip_arena *a);

#endif
