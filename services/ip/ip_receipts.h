/*
 * ip_receipts: the signed receipt a registrant keeps as proof that its work
 * existed, in exactly this form, at the registration's time.
 *
 * A receipt is a short text anyone can read, check offline with only the
 * platform's public key (`ccipctl ip verify RECEIPT --key ip-signing.pub
 * [--content FILE]`), and quote in court:
 *
 *   ccip ip receipt v1
 *   serial: 42
 *   work_id: 0193b6c2-5d0e-7a31-8c4f-2e9d1b7a6c55
 *   content_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 *   chain_hash: 1c5d...(64 hex)
 *   registered_at: 2026-11-27T10:00:00.123456Z
 *   key_id: 3b8f0c1d2e4a5b6c
 *   signature: (128 hex)
 *
 * Every line is required, in this order, with exactly one space after the
 * colon and a final newline; hex is lower case; the serial is decimal
 * without leading zeros; the time has six fraction digits and Z. Parsing is
 * strict on purpose: any changed byte either breaks the format (and the
 * parser names the line) or changes a signed value (and the signature fails).
 *
 * The signature is Ed25519 (libsodium crypto_sign_detached) over these
 * bytes, encoded as in ip_chain.h (str = u32 length + bytes, big-endian):
 *
 *   str("ccip.ip.receipt.v1") u64(serial) str(work_id) content_sha256[32]
 *   chain_hash[32] i64(registered_at_us) str(key_id)
 *
 * The chain record of the same serial stores this signature, so an audit
 * with the public key also proves each record is the one that was signed.
 *
 * Pure and thread-safe.
 */
#ifndef IP_RECEIPTS_H
#define IP_RECEIPTS_H

#include <stddef.h>
#include <stdint.h>

#include "ip_chain.h"
#include "ip_keys.h"

#define IP_RECEIPT_TAG "ccip.ip.receipt.v1"
#define IP_RECEIPT_MAX 1024 /* bytes a receipt's text can take, NUL included */

/* What a receipt says. */
typedef struct {
    uint64_t serial;  /* = chain seq */
    char work_id[40]; /* UUID */
    uint8_t content_sha256[IP_HASH_LEN];
    uint8_t chain_hash[IP_HASH_LEN];
    int64_t registered_at_us;       /* trusted time */
    char key_id[IP_KEY_ID_LEN + 1]; /* which key signed it */
    uint8_t signature[IP_SIGNATURE_LEN];
} ip_receipt;

/* Signs r's fields with k (sets r->key_id to k's and fills r->signature).
 * Returns 0, or -1 when k has no secret key or libsodium fails. */
int ip_receipt_sign(ip_receipt *r, const ip_key *k);

/* Checks r's signature with public key k. Returns 0, or -1 with err:
 * the key ids differ ("receipt was signed with key X, the key given is Y"),
 * or the signature does not match the fields. */
int ip_receipt_verify(const ip_receipt *r, const ip_key *k, char *err, size_t errlen);

/* Writes r as text (format above) into buf of len bytes. Returns the text's
 * length, or -1 when it does not fit or the time cannot be written. */
int ip_receipt_format(const ip_receipt *r, char *buf, size_t len);

/* Parses the text of a receipt (len bytes, need not be NUL-terminated).
 * Returns 0, or -1 with err naming the line and field:
 *   "receipt line 4 (`content_sha256`): must be 64 lower-case hex characters" */
int ip_receipt_parse(const char *text, size_t len, ip_receipt *r, char *err, size_t errlen);

#endif
