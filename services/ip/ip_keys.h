/*
 * ip_keys: the platform's Ed25519 signing key, which signs every
 * registration receipt, and its public half, which anyone may hold to check
 * receipts offline.
 *
 * Files are small libconfig files a person can read, like the CURVE keys
 * (common/ccip_keys.h):
 *
 *   NAME.key (mode 0600, the secret)       NAME.pub (publish it)
 *     algorithm = "ed25519";                 algorithm = "ed25519";
 *     key-id = "<16 hex>";                   key-id = "<16 hex>";
 *     public-key = "<64 hex>";               public-key = "<64 hex>";
 *     secret-seed = "<64 hex>";
 *
 * The key id is the first 16 hex characters of SHA-256(public key): it
 * travels in every receipt and chain record so that, after a key rotation,
 * a verifier knows which public key a receipt needs.
 *
 * Keys are made by `ccipctl ip keygen` (an operator's deliberate act, never
 * by a replica at start-up: see services/ip/ip.h).
 */
#ifndef IP_KEYS_H
#define IP_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define IP_PUBLIC_KEY_LEN 32 /* crypto_sign_PUBLICKEYBYTES */
#define IP_SECRET_KEY_LEN 64 /* crypto_sign_SECRETKEYBYTES (seed + public key) */
#define IP_SEED_LEN       32 /* crypto_sign_SEEDBYTES */
#define IP_SIGNATURE_LEN  64 /* crypto_sign_BYTES */
#define IP_KEY_ID_LEN     16 /* hex characters */

/* A signing key pair. Wipe it with ip_key_wipe when done. */
typedef struct {
    uint8_t public_key[IP_PUBLIC_KEY_LEN];
    uint8_t secret_key[IP_SECRET_KEY_LEN]; /* all zero in a public-only key */
    char key_id[IP_KEY_ID_LEN + 1];
} ip_key;

/* Makes a new key pair from the kernel's randomness. Returns 0, or -1 when
 * libsodium could not be initialised. */
int ip_key_generate(ip_key *k);

/* The key id of a public key into out. */
void ip_key_id(const uint8_t public_key[IP_PUBLIC_KEY_LEN], char out[IP_KEY_ID_LEN + 1]);

/* Writes dir/name.key (mode 0600) and dir/name.pub. name must be 1-63
 * characters of [a-z0-9_-]. Refuses to overwrite either file (a lost
 * signing key would make the published public key useless). Returns 0, or
 * -1 with err. */
int ip_key_save(const char *dir, const char *name, const ip_key *k, char *err, size_t errlen);

/* Reads a .key file: checks that the public key and key id belong to the
 * seed. Returns 0, or -1 with err naming the file and the problem. */
int ip_key_load_secret(const char *path, ip_key *k, char *err, size_t errlen);

/* Reads the public key of a .pub (or .key) file; k->secret_key is zeroed.
 * Returns 0 or -1 with err. */
int ip_key_load_public(const char *path, ip_key *k, char *err, size_t errlen);

/* Writes the text of a .pub file for k into buf. Returns the length, or -1
 * when it does not fit. */
int ip_key_public_text(const ip_key *k, char *buf, size_t len);

/* Overwrites the key with zeros (sodium_memzero). Safe on NULL. */
void ip_key_wipe(ip_key *k);

#endif
