/*
 * ccip_pgarray: array parameters for set-based statements.
 *
 * One statement that writes or reads many rows takes each column as one
 * array parameter and unnests it:
 *
 *   INSERT INTO t (a, b) SELECT * FROM unnest($1::text[], $2::bytea[])
 *
 * A ccip_pgarray builds the text form of such a parameter, element by
 * element, quoting as PostgreSQL's array parser wants; the value is still a
 * parameter (never spliced into SQL), so STYLE.md rule 8 holds.
 *
 *   ccip_pgarray ids = CCIP_PGARRAY_INIT;
 *   ccip_pgarray_text(&ids, "a\"b");
 *   ccip_pgarray_null(&ids);
 *   const char *v = ccip_pgarray_value(&ids);   // {"a\"b",NULL}; NULL when out of memory
 *   ...
 *   ccip_pgarray_release(&ids);
 */
#ifndef CCIP_PGARRAY_H
#define CCIP_PGARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "ccip_text.h"

typedef struct {
    ccip_text text; /* "{" and the elements so far; the closing brace is written
                       by ccip_pgarray_value past the end, so more may follow */
    size_t count;   /* elements added */
} ccip_pgarray;

#define CCIP_PGARRAY_INIT                                                                          \
    {                                                                                              \
        CCIP_TEXT_INIT, 0                                                                          \
    }

/* Adds a text element (any UTF-8; quotes and backslashes are escaped). */
void ccip_pgarray_text(ccip_pgarray *a, const char *v);

/* Adds a bytea element in hex format from n raw bytes. */
void ccip_pgarray_bytea(ccip_pgarray *a, const uint8_t *v, size_t n);

/* Adds a 64-bit integer element. */
void ccip_pgarray_int(ccip_pgarray *a, int64_t v);

/* Adds a NULL element. */
void ccip_pgarray_null(ccip_pgarray *a);

/* The parameter's text, e.g. {"a","b"}, valid until the next call on a;
 * NULL when memory ran out on the way. */
const char *ccip_pgarray_value(ccip_pgarray *a);

/* Frees the text; a is empty again. Safe twice. */
void ccip_pgarray_release(ccip_pgarray *a);

#endif
