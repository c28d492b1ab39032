#include "ip_similarity.h"

#include <string.h>

#include "ccip_validate.h"

#define EMPTY     UINT32_MAX
#define BIN_SHIFT 57 /* top 7 bits of the hash pick the bin: 2^7 = IP_SIM_BINS */

_Static_assert(IP_SIM_BANDS *IP_SIM_ROWS == IP_SIM_BINS, "bands must cover the bins");
_Static_assert((1u << (64 - BIN_SHIFT)) == IP_SIM_BINS, "bin bits must match the bins");

/* splitmix64's finaliser: a fast, well-mixing 64-bit permutation. */
static uint64_t s_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Decodes one code point of valid UTF-8 at s (n bytes left); sets *len. */
static uint32_t s_decode(const unsigned char *s, size_t n, size_t *len)
{
    if (s[0] < 0x80 || n < 2) {
        *len = 1;
        return s[0];
    }
    if (s[0] < 0xE0) {
        *len = 2;
        return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    }
    if (s[0] < 0xF0 || n < 4) {
        *len = n < 3 ? n : 3;
        return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 |
               (n > 2 ? (s[2] & 0x3F) : 0);
    }
    *len = 4;
    return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
           (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
}

/* Normalised code point of c, or ' ' for a separator. */
static uint32_t s_normal(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + ('a' - 'A');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return c;
    if (c < 0x80)
        return ' ';
    /* Unicode spaces and CJK punctuation are separators too. */
    if (c == 0xA0 || c == 0x3000 || (c >= 0x2000 && c <= 0x206F) || (c >= 0x3001 && c <= 0x3003) ||
        (c >= 0x3008 && c <= 0x3011) || (c >= 0xFF01 && c <= 0xFF0F) ||
        (c >= 0xFF1A && c <= 0xFF20))
        return ' ';
    return c;
}

int ip_sim_signature_make(const char *text, size_t len, ip_sim_signature *out)
{
    if (!text || !ccip_utf8_valid(text, len))
        return 0;
    for (int i = 0; i < IP_SIM_BINS; i++)
        out->v[i] = EMPTY;
    /* A ring of the last IP_SIM_SHINGLE normalised code points. */
    uint32_t ring[IP_SIM_SHINGLE];
    size_t count = 0; /* code points kept so far */
    uint32_t prev = ' ';
    const unsigned char *p = (const unsigned char *)text, *end = p + len;
    while (p < end) {
        size_t n;
        uint32_t c = s_normal(s_decode(p, (size_t)(end - p), &n));
        p += n;
        if (c == ' ' && (prev == ' ' || count == 0)) {
            prev = c;
            continue; /* runs of separators are one space, none leading */
        }
        prev = c;
        ring[count % IP_SIM_SHINGLE] = c;
        count++;
        if (count < IP_SIM_SHINGLE)
            continue;
        /* Hash the shingle in order, oldest first (FNV-1a over code points,
         * then mixed). */
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t k = 0; k < IP_SIM_SHINGLE; k++) {
            h ^= ring[(count + k) % IP_SIM_SHINGLE];
            h *= 0x100000001b3ULL;
        }
        h = s_mix(h);
        unsigned bin = (unsigned)(h >> BIN_SHIFT);
        uint32_t val = (uint32_t)h;
        if (val == EMPTY)
            val--; /* keep the sentinel free */
        if (val < out->v[bin])
            out->v[bin] = val;
    }
    if (count < IP_SIM_MIN_CHARS)
        return 0;
    /* Rotation densification: an empty bin takes the value of the next
     * non-empty bin to its right (circularly), shifted by the distance so
     * that borrowed values differ from the lender's own. */
    uint32_t dense[IP_SIM_BINS];
    for (int i = 0; i < IP_SIM_BINS; i++) {
        int d = 0;
        while (d < IP_SIM_BINS && out->v[(i + d) % IP_SIM_BINS] == EMPTY)
            d++;
        if (d == IP_SIM_BINS)
            return 0; /* no shingle at all: cannot happen past the length check */
        dense[i] = out->v[(i + d) % IP_SIM_BINS] + (uint32_t)d * 0x9E3779B9u;
    }
    memcpy(out->v, dense, sizeof dense);
    return 1;
}

void ip_sim_bands(const ip_sim_signature *s, int64_t keys[IP_SIM_BANDS])
{
    for (int b = 0; b < IP_SIM_BANDS; b++) {
        uint64_t h = s_mix((uint64_t)b + 1);
        for (int r = 0; r < IP_SIM_ROWS; r++)
            h = s_mix(h ^ s->v[b * IP_SIM_ROWS + r]);
        keys[b] = (int64_t)h;
    }
}

unsigned ip_sim_similarity_pct(const ip_sim_signature *a, const ip_sim_signature *b)
{
    unsigned equal = 0;
    for (int i = 0; i < IP_SIM_BINS; i++)
        equal += a->v[i] == b->v[i];
    return (equal * 100 + IP_SIM_BINS / 2) / IP_SIM_BINS;
}

void ip_sim_pack(const ip_sim_signature *s, uint8_t out[IP_SIM_PACKED])
{
    for (int i = 0; i < IP_SIM_BINS; i++) {
        out[4 * i] = (uint8_t)(s->v[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->v[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->v[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->v[i];
    }
}

int ip_sim_unpack(const uint8_t *in, size_t len, ip_sim_signature *s)
{
    if (len != IP_SIM_PACKED)
        return -1;
    for (int i = 0; i < IP_SIM_BINS; i++)
        s->v[i] = (uint32_t)in[4 * i] << 24 | (uint32_t)in[4 * i + 1] << 16 |
                  (uint32_t)in[4 * i + 2] << 8 | in[4 * i + 3];
    return 0;
}
