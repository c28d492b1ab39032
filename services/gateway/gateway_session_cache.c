#include "gateway_session_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int used;                /* the slot holds a session */
    unsigned generation;     /* gateway_store_generation() before its lookup */
    int64_t filled_us;       /* when it was looked up */
    gateway_session_row row; /* what the lookup returned */
} s_entry;

struct gateway_session_cache {
    pthread_mutex_t mu; /* guards every entry */
    int64_t ttl_us;     /* an entry's life */
    size_t mask;        /* slots - 1 */
    s_entry *entries;
};

gateway_session_cache *gateway_session_cache_new(size_t slots, int64_t ttl_us)
{
    size_t n = 1;
    while (n < slots)
        n <<= 1;
    gateway_session_cache *c = calloc(1, sizeof *c);
    if (!c || !(c->entries = calloc(n, sizeof *c->entries))) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->ttl_us = ttl_us;
    c->mask = n - 1;
    return c;
}

void gateway_session_cache_destroy(gateway_session_cache **c)
{
    if (!c || !*c)
        return;
    pthread_mutex_destroy(&(*c)->mu);
    free((*c)->entries);
    free(*c);
    *c = NULL;
}

/* The slot of a token: its hash is SHA-256, as good a spread as any. */
static s_entry *s_slot(gateway_session_cache *c, const uint8_t token_hash[32])
{
    size_t h = 0;
    memcpy(&h, token_hash, sizeof h);
    return &c->entries[h & c->mask];
}

int gateway_session_cache_get(gateway_session_cache *c, const uint8_t token_hash[32],
                              int64_t now_us, int64_t idle_us, int64_t touch_us,
                              gateway_session_row *out)
{
    if (!c || c->ttl_us <= 0)
        return 0;
    /* read before the lock: a change written while we look is newer than
     * anything we may hand out */
    unsigned generation = gateway_store_generation();
    int hit = 0;
    pthread_mutex_lock(&c->mu);
    s_entry *e = s_slot(c, token_hash);
    if (e->used && e->generation == generation && now_us - e->filled_us < c->ttl_us &&
        memcmp(e->row.token_hash, token_hash, 32) == 0 && now_us < e->row.expires_at_us &&
        now_us - e->row.last_seen_us < idle_us && now_us - e->row.last_seen_us <= touch_us) {
        *out = e->row;
        hit = 1;
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void gateway_session_cache_put(gateway_session_cache *c, const gateway_session_row *row,
                               unsigned generation, int64_t now_us)
{
    if (!c || c->ttl_us <= 0)
        return;
    pthread_mutex_lock(&c->mu);
    s_entry *e = s_slot(c, row->token_hash);
    e->used = 1;
    e->generation = generation;
    e->filled_us = now_us;
    e->row = *row;
    pthread_mutex_unlock(&c->mu);
}
