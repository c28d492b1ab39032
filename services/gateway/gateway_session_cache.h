/*
 * gateway_session_cache: the sessions recent requests looked up, so that a
 * signed-in person's request usually costs the gateway no database round
 * trip.
 *
 * An entry is used only while all of these hold:
 *  - it is younger than the cache's ttl (gateway.session_cache_ms): what
 *    another gateway process, or a bus command whose commit this process
 *    does not see, changed about a session acts here after at most ttl;
 *  - gateway_store_generation() has not moved since the lookup began: a
 *    change written by this process (sign-out, a switched binding, a
 *    password change, a binding granted or revoked) drops every entry;
 *  - the session has not expired, and is not idle longer than allowed.
 * A lookup that found nothing is not cached. Thread-safe (one mutex; an
 * entry is copied in or out under it).
 */
#ifndef GATEWAY_SESSION_CACHE_H
#define GATEWAY_SESSION_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "gateway_store.h"

typedef struct gateway_session_cache gateway_session_cache;

/* A cache of `slots` entries (rounded up to a power of two; a token's
 * hash picks its slot, a newer session replaces an older one) that keeps an
 * entry ttl_us. ttl_us 0 makes a cache that never holds anything. Returns
 * NULL when out of memory. */
gateway_session_cache *gateway_session_cache_new(size_t slots, int64_t ttl_us);

/* Frees the cache; safe on NULL and twice (sets *c to NULL). */
void gateway_session_cache_destroy(gateway_session_cache **c);

/* Copies the entry of token_hash into out and returns 1 when it may be used
 * at now_us (see above; idle_us: gateway.session_idle_s in microseconds,
 * touch_us: how old the session's last use may be before it must be
 * written again, which the caller does after a database lookup); 0
 * otherwise (out untouched). */
int gateway_session_cache_get(gateway_session_cache *c, const uint8_t token_hash[32],
                              int64_t now_us, int64_t idle_us, int64_t touch_us,
                              gateway_session_row *out);

/* Keeps row (copied), looked up in the database at now_us after
 * gateway_store_generation() returned generation: when the generation
 * moved since, the entry is never used. */
void gateway_session_cache_put(gateway_session_cache *c, const gateway_session_row *row,
                               unsigned generation, int64_t now_us);

#endif
