/*
 * ip_similarity: near-duplicate text, found with shingled MinHash.
 *
 * Identical content is caught by its SHA-256; a copy with a few words
 * changed is not. For text content the registry keeps a MinHash signature:
 *
 *  1. normalise: ASCII letters lower-cased, every run of ASCII spaces,
 *     digits' separators and punctuation (anything not a letter or digit)
 *     becomes one space; other code points (CJK text) are kept as they are;
 *  2. shingle: every run of IP_SIM_SHINGLE consecutive code points (Chinese
 *     needs character shingles, and 6 code points also cover a short English
 *     word with its neighbours);
 *  3. one-permutation MinHash: each shingle's 64-bit hash picks one of
 *     IP_SIM_BINS bins by its top bits and the bin keeps the smallest low
 *     32 bits; empty bins borrow from the next non-empty bin (rotation
 *     densification, Shrivastava & Li 2014), so a signature costs one hash
 *     per shingle, not one per bin.
 *
 * The share of equal bins between two signatures estimates the Jaccard
 * similarity of their shingle sets (standard error about 4 points at 0.7).
 * To find candidates without comparing against every work, signatures are
 * cut into IP_SIM_BANDS bands of IP_SIM_ROWS bins (locality-sensitive
 * hashing): works sharing any band key are candidates. With 32 bands of 4,
 * a pair at similarity 0.7 becomes a candidate with probability 0.9998, a
 * pair at 0.3 with 0.23 (and is then dropped by its estimate).
 *
 * Pure and thread-safe.
 */
#ifndef IP_SIMILARITY_H
#define IP_SIMILARITY_H

#include <stddef.h>
#include <stdint.h>

#define IP_SIM_BINS      128 /* MinHash values in a signature */
#define IP_SIM_BANDS     32  /* LSH bands */
#define IP_SIM_ROWS      4   /* bins per band: IP_SIM_BANDS * IP_SIM_ROWS = IP_SIM_BINS */
#define IP_SIM_SHINGLE   6   /* code points per shingle */
#define IP_SIM_MIN_CHARS 32  /* shorter texts (after normalising) get no signature */
#define IP_SIM_PACKED    (IP_SIM_BINS * 4)
/* Similarity from which a registration is flagged for staff review. */
#define IP_SIM_FLAG_PCT 70

typedef struct {
    uint32_t v[IP_SIM_BINS];
} ip_sim_signature;

/* Makes the signature of len bytes of text. Returns 1 with *out filled, or
 * 0 when the text gets no signature: not valid UTF-8, or fewer than
 * IP_SIM_MIN_CHARS code points after normalising. */
int ip_sim_signature_make(const char *text, size_t len, ip_sim_signature *out);

/* The band keys of a signature (one per band, band number mixed in). */
void ip_sim_bands(const ip_sim_signature *s, int64_t keys[IP_SIM_BANDS]);

/* Estimated similarity of two signatures, 0..100 (percent of equal bins). */
unsigned ip_sim_similarity_pct(const ip_sim_signature *a, const ip_sim_signature *b);

/* Signature <-> IP_SIM_PACKED bytes (big-endian), as stored. unpack returns
 * 0, or -1 when len is not IP_SIM_PACKED. */
void ip_sim_pack(const ip_sim_signature *s, uint8_t out[IP_SIM_PACKED]);
int ip_sim_unpack(const uint8_t *in, size_t len, ip_sim_signature *s);

#endif
