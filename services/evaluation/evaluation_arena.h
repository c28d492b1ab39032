/*
 * evaluation_arena: one allocation pool per reply being built.
 *
 * Replies and events are protobuf-c structs whose strings and arrays are
 * built by hand from query results. Rather than freeing each piece, a
 * handler allocates them all from one arena and destroys the arena once the
 * message is packed:
 *
 *   evaluation_arena *a = evaluation_arena_new();
 *   Ccip__Evaluation__Case *c = evaluation_arena_alloc(a, sizeof *c);
 *   *c = (Ccip__Evaluation__Case)CCIP__EVALUATION__CASE__INIT;
 *   c->title = evaluation_arena_strdup(a, PQgetvalue(res, 0, 3));
 *   ...
 *   if (evaluation_arena_failed(a)) ... out of memory ...
 *   evaluation_arena_destroy(&a);
 *
 * (The same allocator as intake_arena; each service keeps its own copy until
 * one moves to common/.) Not thread-safe; one arena per command.
 */
#ifndef EVALUATION_ARENA_H
#define EVALUATION_ARENA_H

#include <stddef.h>

typedef struct evaluation_arena evaluation_arena;

/* A new, empty arena, or NULL when memory ran out. */
evaluation_arena *evaluation_arena_new(void);

/* Frees everything allocated from the arena and the arena itself; safe on
 * NULL and twice, sets *a to NULL. */
void evaluation_arena_destroy(evaluation_arena **a);

/* n zeroed bytes (n may be 0), aligned for any type, valid until the arena
 * is destroyed. Returns NULL when memory ran out (the arena then reports
 * failed) or a is NULL. */
void *evaluation_arena_alloc(evaluation_arena *a, size_t n);

/* A copy of s (NULL is copied as ""). When memory runs out, returns a
 * static "" and the arena reports failed, so that callers may fill a whole
 * message and check once at the end. */
char *evaluation_arena_strdup(evaluation_arena *a, const char *s);

/* Splits "a,b,c" at commas into strings allocated from a, writing their
 * number into *n. Empty pieces are dropped; NULL or "" gives NULL and 0.
 * Returns NULL (and the arena reports failed) when memory ran out. */
char **evaluation_arena_split(evaluation_arena *a, const char *text, size_t *n);

/* 1 when an allocation failed since the arena was made, else 0; 1 for NULL. */
int evaluation_arena_failed(const evaluation_arena *a);

#endif
