#include "ccip_chain.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

const uint8_t ccip_chain_genesis[CCIP_CHAIN_HASH_LEN] = {0};

static void s_put(crypto_hash_sha256_state *st, const void *p, size_t n)
{
    crypto_hash_sha256_update(st, p, n);
}

static void s_u32(crypto_hash_sha256_state *st, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    s_put(st, b, sizeof b);
}

static void s_u64(crypto_hash_sha256_state *st, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    s_put(st, b, sizeof b);
}

static void s_bytes(crypto_hash_sha256_state *st, const void *p, size_t n)
{
    s_u32(st, (uint32_t)n);
    if (n)
        s_put(st, p, n);
}

static void s_str(crypto_hash_sha256_state *st, const char *s)
{
    s_bytes(st, s ? s : "", s ? strlen(s) : 0);
}

int ccip_chain_hash(const uint8_t prev[CCIP_CHAIN_HASH_LEN], const Ccip__Envelope *ev,
                    uint8_t out[CCIP_CHAIN_HASH_LEN])
{
    if (sodium_init() < 0)
        return -1;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    s_put(&st, prev, CCIP_CHAIN_HASH_LEN);
    s_str(&st, CCIP_CHAIN_TAG);
    s_u64(&st, ev->position);
    s_str(&st, ev->id);
    s_str(&st, ev->type);
    s_str(&st, ev->aggregate_type);
    s_str(&st, ev->aggregate_id);
    s_u64(&st, (uint64_t)ev->occurred_at_us); /* two's complement: the same bits */
    s_str(&st, ev->correlation_id);
    s_str(&st, ev->causation_id);
    s_str(&st, ev->actor_id);
    s_str(&st, ev->actor_role);
    s_str(&st, ev->source_instance);
    s_bytes(&st, ev->payload.data, ev->payload.len);
    crypto_hash_sha256_final(&st, out);
    return 0;
}

int ccip_chain_check(const Ccip__Envelope *ev, const uint8_t *expected_prev, char *err,
                     size_t errlen)
{
    if (ev->prev_hash.len != CCIP_CHAIN_HASH_LEN || ev->hash.len != CCIP_CHAIN_HASH_LEN) {
        snprintf(err, errlen,
                 "it carries no chain hashes (prev_hash %zu bytes, hash %zu bytes, 32 each "
                 "expected): it was written into the outbox behind the relay's back, or its "
                 "hashes were erased",
                 ev->prev_hash.len, ev->hash.len);
        return -1;
    }
    char want[CCIP_CHAIN_HASH_HEX + 1], got[CCIP_CHAIN_HASH_HEX + 1];
    if (expected_prev && memcmp(ev->prev_hash.data, expected_prev, CCIP_CHAIN_HASH_LEN) != 0) {
        snprintf(err, errlen,
                 "its prev_hash %s is not the hash %s of the event before it: an event before "
                 "it was altered, deleted or inserted",
                 ccip_chain_hex(ev->prev_hash.data, ev->prev_hash.len, got),
                 ccip_chain_hex(expected_prev, CCIP_CHAIN_HASH_LEN, want));
        return -1;
    }
    uint8_t h[CCIP_CHAIN_HASH_LEN];
    if (ccip_chain_hash(ev->prev_hash.data, ev, h) < 0) {
        snprintf(err, errlen, "could not compute its hash: libsodium cannot be initialised");
        return -1;
    }
    if (memcmp(h, ev->hash.data, CCIP_CHAIN_HASH_LEN) != 0) {
        snprintf(err, errlen,
                 "its hash %s is not the hash %s of its contents: the event was altered (or "
                 "moved to another position)",
                 ccip_chain_hex(ev->hash.data, ev->hash.len, got),
                 ccip_chain_hex(h, sizeof h, want));
        return -1;
    }
    return 0;
}

const char *ccip_chain_hex(const uint8_t *h, size_t len, char out[CCIP_CHAIN_HASH_HEX + 1])
{
    if (!h || len != CCIP_CHAIN_HASH_LEN) {
        snprintf(out, CCIP_CHAIN_HASH_HEX + 1, "-");
        return out;
    }
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < CCIP_CHAIN_HASH_LEN; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 15];
    }
    out[CCIP_CHAIN_HASH_HEX] = '\0';
    return out;
}
