/*
 * ip_chain: the registration chain, the proof that a registry record has
 * not been altered since it was written.
 *
 * Every registration is one chain record. Record n's hash is SHA-256 of its
 * canonical encoding, which holds record n-1's hash, so altering, deleting
 * or inserting any record changes every hash after it; the chain head
 * (`chain_head` row: last seq and hash) and the signed receipts people hold
 * pin the end of the chain down.
 *
 * CANONICAL ENCODING, version 1. This is a contract: receipts and audits
 * made today must verify forever, so it is never changed; a change is a new
 * version with a new tag. Records are encoded as this exact byte sequence:
 *
 *   str("ccip.ip.chain.v1")           domain tag
 *   u64(seq)                          1, 2, 3, ... (gap-free)
 *   prev_hash                         32 bytes: record seq-1's hash; 32 zero
 *                                     bytes for seq 1
 *   str(work_id)                      36-character lower-case UUID
 *   str(kind)                         WorkKind value name, e.g. "COPYRIGHT_SOFTWARE"
 *   str(title)
 *   u32(number of owners)             then for each owner, in ascending
 *     str(party) u32(share_bp)        byte order of party:
 *   u32(number of creators)           then for each creator, in the order
 *     str(creator)                    given at registration:
 *   str(created_on)                   "YYYY-MM-DD"
 *   content_sha256                    32 bytes
 *   i64(registered_at_us)             UTC microseconds since the epoch
 *   str(registrant)                   actor id that registered the work
 *   str(key_id)                       16 hex characters naming the signing key
 *
 * where u32 and u64 are unsigned big-endian integers of 4 and 8 bytes, i64
 * is two's complement big-endian in 8 bytes, and str(s) is u32(byte length
 * of s) followed by the bytes of s (UTF-8 as stored, no terminator, no
 * normalisation). hash = SHA-256(encoding).
 *
 * Everything here is pure (no I/O, no global state) and thread-safe.
 */
#ifndef IP_CHAIN_H
#define IP_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#define IP_HASH_LEN  32 /* SHA-256 */
#define IP_HASH_HEX  (IP_HASH_LEN * 2)
#define IP_CHAIN_TAG "ccip.ip.chain.v1"

/* One owner as hashed. */
typedef struct {
    const char *party; /* "org:<USCC>" or "person:<id>" */
    uint32_t share_bp; /* basis points */
} ip_chain_owner;

/* The hashed fields of one record. Strings are borrowed, never NULL. */
typedef struct {
    uint64_t seq;
    uint8_t prev_hash[IP_HASH_LEN];
    const char *work_id;
    const char *kind;
    const char *title;
    const ip_chain_owner *owners; /* sorted by party, ascending bytes */
    size_t nowners;
    const char *const *creators;
    size_t ncreators;
    const char *created_on;
    uint8_t content_sha256[IP_HASH_LEN];
    int64_t registered_at_us;
    const char *registrant;
    const char *key_id;
} ip_chain_record;

/* Writes the canonical encoding of r into buf when it fits in cap bytes
 * (buf may be NULL with cap 0 to ask for the size). Returns the encoding's
 * length either way. */
size_t ip_chain_encode(const ip_chain_record *r, uint8_t *buf, size_t cap);

/* hash = SHA-256(canonical encoding of r), computed without allocating.
 * Returns 0, or -1 when libsodium cannot be initialised. */
int ip_chain_hash(const ip_chain_record *r, uint8_t out[IP_HASH_LEN]);

/* Sorts owners in place into the canonical order (ascending bytes of
 * party). */
void ip_chain_sort_owners(ip_chain_owner *owners, size_t n);

/* Walks a chain from its first record, one record at a time, and stops at
 * the first broken link. Plain struct, no allocation: keep it on the stack. */
typedef struct {
    uint64_t next_seq;              /* seq the next record must have */
    uint8_t last_hash[IP_HASH_LEN]; /* stored hash of the last record seen */
    int broken;                     /* 1 once a break was found */
} ip_chain_verifier;

/* Starts a walk at seq 1 (prev hash = 32 zero bytes). */
void ip_chain_verifier_init(ip_chain_verifier *v);

/* Checks the next record: its seq follows the last one, its prev_hash is the
 * last record's stored hash, and its fields hash to its stored hash.
 * Returns 0, or -1 with a sentence in err naming the record and what broke:
 *   "record 7 is missing: record 8 follows record 6 (deleted, or the chain was cut)"
 *   "link 6 -> 7 is broken: record 7's prev_hash is 1f3a..., record 6's hash is 9c0e...
 *    (record 6's hash or record 7 was altered)"
 *   "record 7 was altered: its fields hash to 4b1d..., its stored hash is 77aa..."
 * After a failure the verifier stays broken (every later call returns -1). */
int ip_chain_verify_next(ip_chain_verifier *v, const ip_chain_record *r,
                         const uint8_t stored_hash[IP_HASH_LEN], char *err, size_t errlen);

/* Checks the chain head against the last record seen: the head's seq must be
 * the last record's and its hash the last record's stored hash (a head ahead
 * of the records means records were deleted from the end). Returns 0 or -1
 * with err. */
int ip_chain_verify_head(const ip_chain_verifier *v, uint64_t head_seq,
                         const uint8_t head_hash[IP_HASH_LEN], char *err, size_t errlen);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void ip_hex(const uint8_t *bytes, size_t n, char *out);

/* Parses exactly 2n hex characters (either case) into bytes. Returns 0 or
 * -1 (bytes then undefined). */
int ip_unhex(const char *hex, uint8_t *bytes, size_t n);

#endif
