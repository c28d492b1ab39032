/*
 * ip_pg: the text forms of PostgreSQL values that ip's statements send and
 * read: array literals ('{"a","b"}', '{1,2}') and bytea ('\x0a1b...').
 *
 * Arrays go in as parameters ($1::text[]), never spliced into SQL text, so
 * quoting here is about the array syntax only, not about SQL injection.
 * Pure and thread-safe; memory comes from the caller's arena.
 */
#ifndef IP_PG_H
#define IP_PG_H

#include <stddef.h>
#include <stdint.h>

#include "ccip_arena.h"

/* Parses a one-dimensional array literal of text, as PostgreSQL prints it
 * ('{}', '{a,"b c","d\"e"}'); NULL elements become "". Sets *items (n
 * strings, arena-owned) and *n. Returns 0, or -1 when the text is not such
 * a literal or memory ran out. */
int ip_pg_text_array(ccip_arena *a, const char *lit, char ***items, size_t *n);

/* The same for an array of integers ('{1,2,3}'): each 0..UINT32_MAX. */
int ip_pg_uint_array(ccip_arena *a, const char *lit, uint32_t **items, size_t *n);

/* An array literal of n strings, every element quoted: '{"a","b"}'. NULL
 * when memory ran out. */
char *ip_pg_text_literal(ccip_arena *a, char *const *items, size_t n);

/* An array literal of n unsigned (or signed 64-bit) integers. */
char *ip_pg_uint_literal(ccip_arena *a, const uint32_t *items, size_t n);
char *ip_pg_int64_literal(ccip_arena *a, const int64_t *items, size_t n);

/* Parses a bytea in hex output form ("\x" then 2n hex digits) into exactly
 * n bytes. Returns 0, or -1 when it is not that. */
int ip_pg_bytea(const char *text, uint8_t *out, size_t n);

/* The same, for a bytea of any length: *out (arena-owned) and *n. */
int ip_pg_bytea_dup(ccip_arena *a, const char *text, uint8_t **out, size_t *n);

#endif
