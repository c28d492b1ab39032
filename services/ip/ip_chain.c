#include "ip_chain.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where encoded bytes go: a buffer (when it fits) and/or a running hash. */
typedef struct {
    uint8_t *buf;                    /* NULL: only count or hash */
    size_t cap;                      /* bytes buf holds */
    size_t len;                      /* bytes produced so far */
    crypto_hash_sha256_state *state; /* NULL: no hashing */
} s_sink;

static void s_put(s_sink *s, const void *p, size_t n)
{
    if (s->buf && s->len + n <= s->cap)
        memcpy(s->buf + s->len, p, n);
    if (s->state)
        crypto_hash_sha256_update(s->state, p, n);
    s->len += n;
}

static void s_u32(s_sink *s, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    s_put(s, b, sizeof b);
}

static void s_u64(s_sink *s, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (56 - 8 * i));
    s_put(s, b, sizeof b);
}

static void s_str(s_sink *s, const char *str)
{
    size_t n = strlen(str);
    s_u32(s, (uint32_t)n);
    s_put(s, str, n);
}

static void s_encode(s_sink *s, const ip_chain_record *r)
{
    s_str(s, IP_CHAIN_TAG);
    s_u64(s, r->seq);
    s_put(s, r->prev_hash, IP_HASH_LEN);
    s_str(s, r->work_id);
    s_str(s, r->kind);
    s_str(s, r->title);
    s_u32(s, (uint32_t)r->nowners);
    for (size_t i = 0; i < r->nowners; i++) {
        s_str(s, r->owners[i].party);
        s_u32(s, r->owners[i].share_bp);
    }
    s_u32(s, (uint32_t)r->ncreators);
    for (size_t i = 0; i < r->ncreators; i++)
        s_str(s, r->creators[i]);
    s_str(s, r->created_on);
    s_put(s, r->content_sha256, IP_HASH_LEN);
    s_u64(s, (uint64_t)r->registered_at_us); /* two's complement: the same bits */
    s_str(s, r->registrant);
    s_str(s, r->key_id);
}

size_t ip_chain_encode(const ip_chain_record *r, uint8_t *buf, size_t cap)
{
    s_sink s = {.buf = buf, .cap = cap};
    s_encode(&s, r);
    return s.len;
}

int ip_chain_hash(const ip_chain_record *r, uint8_t out[IP_HASH_LEN])
{
    if (sodium_init() < 0)
        return -1;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    s_sink s = {.state = &st};
    s_encode(&s, r);
    crypto_hash_sha256_final(&st, out);
    return 0;
}

static int s_owner_cmp(const void *a, const void *b)
{
    return strcmp(((const ip_chain_owner *)a)->party, ((const ip_chain_owner *)b)->party);
}

void ip_chain_sort_owners(ip_chain_owner *owners, size_t n)
{
    if (n > 1)
        qsort(owners, n, sizeof *owners, s_owner_cmp);
}

void ip_chain_verifier_init(ip_chain_verifier *v)
{
    memset(v, 0, sizeof *v);
    v->next_seq = 1;
}

/* The first 8 bytes in hex: enough to tell two hashes apart in a message. */
static void s_short(const uint8_t *h, char out[17])
{
    ip_hex(h, 8, out);
}

int ip_chain_verify_next(ip_chain_verifier *v, const ip_chain_record *r,
                         const uint8_t stored_hash[IP_HASH_LEN], char *err, size_t errlen)
{
    char a[17], b[17];
    if (v->broken) {
        snprintf(err, errlen, "the chain is already broken before record %llu",
                 (unsigned long long)r->seq);
        return -1;
    }
    if (r->seq != v->next_seq) {
        v->broken = 1;
        if (r->seq > v->next_seq)
            snprintf(err, errlen,
                     "record %llu is missing: record %llu follows record %llu (deleted, or the "
                     "chain was cut)",
                     (unsigned long long)v->next_seq, (unsigned long long)r->seq,
                     (unsigned long long)(v->next_seq - 1));
        else
            snprintf(err, errlen, "record %llu appears out of order after record %llu",
                     (unsigned long long)r->seq, (unsigned long long)(v->next_seq - 1));
        return -1;
    }
    if (sodium_memcmp(r->prev_hash, v->last_hash, IP_HASH_LEN) != 0) {
        v->broken = 1;
        s_short(r->prev_hash, a);
        s_short(v->last_hash, b);
        if (r->seq == 1)
            snprintf(err, errlen,
                     "link 0 -> 1 is broken: record 1's prev_hash is %s..., it must be all zero "
                     "(record 1 was altered)",
                     a);
        else
            snprintf(err, errlen,
                     "link %llu -> %llu is broken: record %llu's prev_hash is %s..., record "
                     "%llu's hash is %s... (record %llu's hash or record %llu was altered)",
                     (unsigned long long)(r->seq - 1), (unsigned long long)r->seq,
                     (unsigned long long)r->seq, a, (unsigned long long)(r->seq - 1), b,
                     (unsigned long long)(r->seq - 1), (unsigned long long)r->seq);
        return -1;
    }
    uint8_t h[IP_HASH_LEN];
    if (ip_chain_hash(r, h) < 0) {
        v->broken = 1;
        snprintf(err, errlen, "could not hash record %llu: libsodium did not initialise",
                 (unsigned long long)r->seq);
        return -1;
    }
    if (sodium_memcmp(h, stored_hash, IP_HASH_LEN) != 0) {
        v->broken = 1;
        s_short(h, a);
        s_short(stored_hash, b);
        snprintf(err, errlen,
                 "record %llu was altered: its fields hash to %s..., its stored hash is %s...",
                 (unsigned long long)r->seq, a, b);
        return -1;
    }
    memcpy(v->last_hash, stored_hash, IP_HASH_LEN);
    v->next_seq++;
    return 0;
}

int ip_chain_verify_head(const ip_chain_verifier *v, uint64_t head_seq,
                         const uint8_t head_hash[IP_HASH_LEN], char *err, size_t errlen)
{
    uint64_t last = v->next_seq - 1;
    if (head_seq != last) {
        snprintf(err, errlen,
                 "the chain head says %llu records, the chain holds %llu (records %s at the end)",
                 (unsigned long long)head_seq, (unsigned long long)last,
                 head_seq > last ? "were deleted" : "were appended without moving the head");
        return -1;
    }
    if (sodium_memcmp(head_hash, v->last_hash, IP_HASH_LEN) != 0) {
        char a[17], b[17];
        s_short(head_hash, a);
        s_short(v->last_hash, b);
        snprintf(err, errlen,
                 "the chain head's hash %s... is not record %llu's hash %s... (the head or the "
                 "last record was altered)",
                 a, (unsigned long long)last, b);
        return -1;
    }
    return 0;
}

void ip_hex(const uint8_t *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xf];
    }
    out[2 * n] = '\0';
}

/* Value of each byte as a hex digit, or 0xff: audits decode millions of
 * hex characters, so a table rather than branches. */
static const uint8_t s_hexval[256] = {
    ['0'] = 0,  ['1'] = 1,  ['2'] = 2,  ['3'] = 3,  ['4'] = 4,  ['5'] = 5,  ['6'] = 6,  ['7'] = 7,
    ['8'] = 8,  ['9'] = 9,  ['a'] = 10, ['b'] = 11, ['c'] = 12, ['d'] = 13, ['e'] = 14, ['f'] = 15,
    ['A'] = 10, ['B'] = 11, ['C'] = 12, ['D'] = 13, ['E'] = 14, ['F'] = 15,
};

/* 1 when c is a hex digit (the table's zeros are ambiguous for '0'). */
static int s_is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

int ip_unhex(const char *hex, uint8_t *bytes, size_t n)
{
    if (!hex)
        return -1;
    for (size_t i = 0; i < n; i++) {
        /* One at a time: a short string stops at its NUL, never past it. */
        unsigned char hi = (unsigned char)hex[2 * i];
        if (!s_is_hex(hi))
            return -1;
        unsigned char lo = (unsigned char)hex[2 * i + 1];
        if (!s_is_hex(lo))
            return -1;
        bytes[i] = (uint8_t)(s_hexval[hi] << 4 | s_hexval[lo]);
    }
    return hex[2 * n] == '\0' ? 0 : -1;
}
