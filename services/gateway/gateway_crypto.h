/*
 * gateway_crypto: the secrets of the gateway, made and checked with
 * libsodium (randomness, SHA-256, argon2id) and liboath (TOTP, RFC 6238).
 * Nothing here keeps state; every function is thread-safe once
 * gateway_crypto_init() has returned 0.
 *
 * Tokens (sessions, invitations, password resets) are 32 random bytes
 * written as 43 characters of unpadded base64url; the database keeps only
 * their SHA-256, so a copy of it lets nobody in.
 */
#ifndef GATEWAY_CRYPTO_H
#define GATEWAY_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "ccip_id.h"

/* Characters of a token, without the NUL. */
#define GATEWAY_TOKEN_LEN 43
/* Bytes of a stored password hash, with the NUL (crypto_pwhash_STRBYTES). */
#define GATEWAY_PWHASH_MAX 128
/* Bytes of a TOTP secret (160 bits, as RFC 4226 recommends). */
#define GATEWAY_TOTP_SECRET_BYTES 20
/* Characters of its base32 form, with the NUL. */
#define GATEWAY_TOTP_BASE32_MAX 40
/* TOTP: 30-second steps, six digits, one step of clock skew either way. */
#define GATEWAY_TOTP_STEP_S 30
#define GATEWAY_TOTP_DIGITS 6
#define GATEWAY_TOTP_WINDOW 1

/* Initialises libsodium and liboath. Returns 0, or -1 with err. */
int gateway_crypto_init(char *err, size_t errlen);

/* Releases liboath. */
void gateway_crypto_done(void);

/* A new random token. Returns 0, or -1 (out is "") when no randomness. */
int gateway_token_new(char out[GATEWAY_TOKEN_LEN + 1]);

/* 1 when s has the form of a token (43 base64url characters), else 0. */
int gateway_token_form(const char *s);

/* SHA-256 of a token (or of any text). */
void gateway_sha256_text(const char *s, uint8_t out[32]);

/* The CSRF token of a session: derived from the session token, so it needs
 * no storage, and useless without the cookie it belongs to. Writes
 * GATEWAY_TOKEN_LEN characters and a NUL. */
void gateway_csrf_of(const char *session_token, char out[GATEWAY_TOKEN_LEN + 1]);

/* 1 when the two strings are equal, compared in time independent of where
 * they differ (both must be NUL-terminated; lengths are not secret). */
int gateway_equal_ct(const char *a, const char *b);

/* Hashes a password with argon2id (ops passes over mem_kib KiB) into out,
 * in libsodium's string format (salt and parameters included). Returns 0,
 * or -1 when memory ran out. */
int gateway_password_hash(const char *password, uint64_t ops, uint64_t mem_kib,
                          char out[GATEWAY_PWHASH_MAX]);

/* 1 when password matches the stored hash, 0 when it does not (or the
 * hash is malformed). Takes as long as hashing does. */
int gateway_password_verify(const char *hash, const char *password);

/* A new TOTP secret. Returns 0 or -1. */
int gateway_totp_secret_new(uint8_t out[GATEWAY_TOTP_SECRET_BYTES]);

/* The secret in base32 (RFC 4648, as authenticator apps take it). */
void gateway_totp_base32(const uint8_t *secret, size_t len, char out[GATEWAY_TOTP_BASE32_MAX]);

/* Checks a six-digit code at time now_s (UTC seconds) against the secret,
 * one step either way, and only for a step after last_step (a code is good
 * once). Returns 0 and sets *step to the code's time step, or -1. */
int gateway_totp_check(const uint8_t *secret, size_t len, const char *code, int64_t now_s,
                       int64_t last_step, int64_t *step);

/* The code of the secret at time now_s, into out (7 bytes). For tests and
 * the demo. Returns 0 or -1. */
int gateway_totp_code(const uint8_t *secret, size_t len, int64_t now_s, char out[8]);

/* The command id of a request carrying an Idempotency-Key: a UUID
 * (version 8, RFC 9562) from the SHA-256 of the account id, the command
 * type and the key, so that a retry of the same request gets the same id
 * and two accounts, or two routes, using the same key never share one. */
void gateway_command_id(const char *account_id, const char *type, const char *key,
                        char out[CCIP_UUID_STRLEN + 1]);

#endif
