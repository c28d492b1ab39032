/*
 * ccip_chain: every producer's stream of events is a hash chain, so that
 * nobody with access to a producer's database (an administrator, a leaked
 * role) can alter, delete, insert or reorder a published event unseen.
 *
 * When the relay gives an event its position (ccip_outbox_assign) it also
 * sets the event's prev_hash (the hash of the event before it; 32 zero
 * bytes before position 1) and its hash:
 *
 *   hash = SHA-256(prev_hash || canonical encoding of the event)
 *
 * so altering one byte of an event changes its hash and breaks the next
 * event's link; deleting one leaves a gap in the positions and a broken
 * link; swapping two changes both hashes (the position is encoded). A
 * consumer checks each event against the hash of the one it applied before
 * (ccip_consumer.h), and `ccipctl audit verify` recomputes whole chains.
 *
 * CANONICAL ENCODING, version 1: a contract, since chains made today must
 * verify for ever; a change is a new version with a new tag. The bytes are
 *
 *   str("ccip.event.chain.v1")   domain tag
 *   u64(position)
 *   str(id) str(type) str(aggregate_type) str(aggregate_id)
 *   i64(occurred_at_us)
 *   str(correlation_id) str(causation_id) str(actor_id) str(actor_role)
 *   str(source_instance)
 *   bytes(payload)
 *
 * where u32/u64 are unsigned big-endian of 4/8 bytes, i64 two's complement
 * big-endian in 8 bytes, str(s) and bytes(b) u32(length) then the bytes.
 * The envelope's source_service is not encoded: a chain is one producer's.
 * The same encoding style as ip's registration chain (services/ip/ip_chain.h).
 *
 * Pure and thread-safe; SHA-256 is libsodium's.
 */
#ifndef CCIP_CHAIN_H
#define CCIP_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/envelope.pb-c.h"

#define CCIP_CHAIN_HASH_LEN 32 /* SHA-256 */
#define CCIP_CHAIN_HASH_HEX (CCIP_CHAIN_HASH_LEN * 2)
#define CCIP_CHAIN_TAG      "ccip.event.chain.v1"

/* The prev_hash of position 1: 32 zero bytes. */
extern const uint8_t ccip_chain_genesis[CCIP_CHAIN_HASH_LEN];

/* out = SHA-256(prev || canonical encoding of ev), from ev's position,
 * strings and payload (its prev_hash and hash fields are not read).
 * Returns 0, or -1 when libsodium cannot be initialised. */
int ccip_chain_hash(const uint8_t prev[CCIP_CHAIN_HASH_LEN], const Ccip__Envelope *ev,
                    uint8_t out[CCIP_CHAIN_HASH_LEN]);

/* Checks event ev of a chain: that it carries a prev_hash and a hash of 32
 * bytes, that its prev_hash is `expected_prev` (NULL: the link is not
 * checked, e.g. a reader that starts in the middle), and that its hash is
 * what ccip_chain_hash computes. Returns 0, or -1 with a sentence in err
 * naming what does not hold ("its hash is not the hash of its contents:
 * the event was altered"). */
int ccip_chain_check(const Ccip__Envelope *ev, const uint8_t *expected_prev, char *err,
                     size_t errlen);

/* Lower-case hex of a hash into out (CCIP_CHAIN_HASH_HEX + 1 bytes); "-"
 * when h is NULL or len is not 32. Returns out. */
const char *ccip_chain_hex(const uint8_t *h, size_t len, char out[CCIP_CHAIN_HASH_HEX + 1]);

/* Hashes at named positions (anchors) that one ccip.audit.verify.v1 reply
 * carries at most (common/ccip_outbox.h, ccip_outbox_verify). */
#define CCIP_CHAIN_VERIFY_HASHES_MAX 64

#endif
