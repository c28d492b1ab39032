/*
 * ccip_keys: CURVE key pairs on disk and the directory of keys allowed in.
 *
 * Key files are small libconfig files so that a person can read them:
 *
 *   NAME.key (mode 0600, the secret)    NAME.pub (shareable)
 *     public-key = "<40 Z85 chars>";      public-key = "<40 Z85 chars>";
 *     secret-key = "<40 Z85 chars>";      front-door = false;
 *
 * A keyring is a directory of NAME.pub files: the clients the bus lets in.
 * `front-door = true` marks the trusted front doors (ccipctl, later the web
 * gateway): only their envelopes may claim an actor role; every other key
 * speaks as the service its name says.
 */
#ifndef CCIP_KEYS_H
#define CCIP_KEYS_H

#include <stddef.h>

#define CCIP_KEY_Z85_LEN  40
#define CCIP_KEY_NAME_MAX 64

typedef struct {
    char public_key[CCIP_KEY_Z85_LEN + 1]; /* Z85, NUL-terminated */
    char secret_key[CCIP_KEY_Z85_LEN + 1]; /* Z85, NUL-terminated; "" for public-only */
} ccip_keypair;

/* Makes a new key pair with zmq_curve_keypair. Returns 0 or -1 (libzmq built
 * without CURVE). */
int ccip_keypair_generate(ccip_keypair *kp);

/* Writes dir/name.key (0600) and dir/name.pub. name must be 1-63 characters
 * of [a-z0-9_-]. Refuses to overwrite an existing key. Returns 0 or -1 with
 * err. */
int ccip_keypair_save(const char *dir, const char *name, const ccip_keypair *kp, int front_door,
                      char *err, size_t errlen);

/* Reads a .key file (both keys) into kp. Returns 0 or -1 with err naming the
 * file and the problem. */
int ccip_keypair_load(const char *path, ccip_keypair *kp, char *err, size_t errlen);

/* Reads the public key of a .pub or .key file into out. Returns 0 or -1. */
int ccip_public_key_load(const char *path, char out[CCIP_KEY_Z85_LEN + 1], char *err,
                         size_t errlen);

typedef struct ccip_keyring ccip_keyring;

/* One allowed client. */
typedef struct {
    char name[CCIP_KEY_NAME_MAX];          /* file name without .pub */
    char public_key[CCIP_KEY_Z85_LEN + 1]; /* Z85 */
    int front_door;                        /* 1 when its actor claims are trusted */
} ccip_key_entry;

/* Loads every *.pub of dir. A malformed file is an error (the operator must
 * see it), an empty directory is not. Returns NULL with err on failure. */
ccip_keyring *ccip_keyring_load(const char *dir, char *err, size_t errlen);

/* Frees; safe on NULL and twice. */
void ccip_keyring_destroy(ccip_keyring **kr);

/* The entry for a Z85 public key, or NULL when it is not allowed. Borrowed.
 * Read-only, so safe from several threads. */
const ccip_key_entry *ccip_keyring_find(const ccip_keyring *kr, const char *public_z85);

/* The entry with that name, or NULL. */
const ccip_key_entry *ccip_keyring_find_name(const ccip_keyring *kr, const char *name);

size_t ccip_keyring_size(const ccip_keyring *kr);

#endif
