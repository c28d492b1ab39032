/*
 * ip_signer: the service's signing key, read from its file once and kept
 * for every registration after, re-read only when the file changes.
 *
 * Reading and parsing the .key file (a libconfig file, checked against its
 * seed) for each registration cost more than signing it. The key is kept in
 * one process-wide slot, loaded lazily by the first registration and guarded
 * by a mutex (any worker thread may sign). Each call stat()s the file (a
 * system call, microseconds) and reloads the key when the file's identity,
 * size or modification time changed, so a rotated key still takes effect
 * without a restart, as it did when the file was read per registration. The
 * slot is locked in memory where the system allows (sodium_mlock: never
 * swapped out) and wiped when replaced.
 *
 * The service never makes a key (see ip.h); a missing or broken file is
 * reported each time it is asked for, never cached as a failure.
 */
#ifndef IP_SIGNER_H
#define IP_SIGNER_H

#include <stddef.h>

#include "ip_keys.h"

/* Copies the secret key of the .key file at path into *key (wipe it with
 * ip_key_wipe after signing), loading or reloading it when needed. Returns
 * 0, or -1 with err naming the file and the problem (*key is then zeroed).
 * Thread-safe. */
int ip_signer_get(const char *path, ip_key *key, char *err, size_t errlen);

#endif
