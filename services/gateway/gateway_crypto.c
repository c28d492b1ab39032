#include "gateway_crypto.h"

#include <liboath/oath.h>
#include <stdlib.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int gateway_crypto_init(char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "could not initialise libsodium");
        return -1;
    }
    int rc = oath_init();
    if (rc != OATH_OK) {
        snprintf(err, errlen, "could not initialise liboath: %s", oath_strerror(rc));
        return -1;
    }
    return 0;
}

void gateway_crypto_done(void)
{
    oath_done();
}

static void s_b64url(const uint8_t *bin, size_t n, char *out, size_t outlen)
{
    sodium_bin2base64(out, outlen, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int gateway_token_new(char out[GATEWAY_TOKEN_LEN + 1])
{
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    s_b64url(raw, sizeof raw, out, GATEWAY_TOKEN_LEN + 1);
    sodium_memzero(raw, sizeof raw);
    return 0;
}

int gateway_token_form(const char *s)
{
    if (!s || strlen(s) != GATEWAY_TOKEN_LEN)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return 0;
    return 1;
}

void gateway_sha256_text(const char *s, uint8_t out[32])
{
    crypto_hash_sha256(out, (const unsigned char *)s, strlen(s));
}

void gateway_csrf_of(const char *session_token, char out[GATEWAY_TOKEN_LEN + 1])
{
    /* A different purpose prefix than the stored session hash, so that the
     * CSRF token (which a page may show) says nothing about that hash. */
    crypto_hash_sha256_state st;
    uint8_t h[32];
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const unsigned char *)"ccip-csrf", 10);
    crypto_hash_sha256_update(&st, (const unsigned char *)session_token, strlen(session_token));
    crypto_hash_sha256_final(&st, h);
    s_b64url(h, sizeof h, out, GATEWAY_TOKEN_LEN + 1);
}

int gateway_equal_ct(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (n != strlen(b))
        return 0;
    return sodium_memcmp(a, b, n) == 0;
}

int gateway_password_hash(const char *password, uint64_t ops, uint64_t mem_kib,
                          char out[GATEWAY_PWHASH_MAX])
{
    _Static_assert(crypto_pwhash_STRBYTES <= GATEWAY_PWHASH_MAX, "GATEWAY_PWHASH_MAX");
    if (crypto_pwhash_str_alg(out, password, strlen(password), ops, (size_t)mem_kib * 1024,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

int gateway_password_verify(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

int gateway_totp_secret_new(uint8_t out[GATEWAY_TOTP_SECRET_BYTES])
{
    randombytes_buf(out, GATEWAY_TOTP_SECRET_BYTES);
    return 0;
}

void gateway_totp_base32(const uint8_t *secret, size_t len, char out[GATEWAY_TOTP_BASE32_MAX])
{
    char *b32 = NULL;
    size_t b32len = 0;
    out[0] = '\0';
    if (oath_base32_encode((const char *)secret, len, &b32, &b32len) == OATH_OK && b32 &&
        b32len < GATEWAY_TOTP_BASE32_MAX) {
        memcpy(out, b32, b32len);
        out[b32len] = '\0';
        /* Authenticator apps take the secret without '=' padding. */
        char *pad = strchr(out, '=');
        if (pad)
            *pad = '\0';
    }
    free(b32);
}

int gateway_totp_check(const uint8_t *secret, size_t len, const char *code, int64_t now_s,
                       int64_t last_step, int64_t *step)
{
    if (!code || strlen(code) != GATEWAY_TOTP_DIGITS)
        return -1;
    for (const char *p = code; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    int pos = 0;
    int rc = oath_totp_validate2((const char *)secret, len, (time_t)now_s, GATEWAY_TOTP_STEP_S,
                                 OATH_TOTP_DEFAULT_START_TIME, GATEWAY_TOTP_WINDOW, &pos, code);
    if (rc < 0)
        return -1;
    int64_t s = now_s / GATEWAY_TOTP_STEP_S + pos;
    if (s <= last_step)
        return -1; /* that code (or a later one) was used already */
    *step = s;
    return 0;
}

int gateway_totp_code(const uint8_t *secret, size_t len, int64_t now_s, char out[8])
{
    return oath_totp_generate((const char *)secret, len, (time_t)now_s, GATEWAY_TOTP_STEP_S,
                              OATH_TOTP_DEFAULT_START_TIME, GATEWAY_TOTP_DIGITS, out) == OATH_OK
               ? 0
               : -1;
}

void gateway_command_id(const char *account_id, const char *type, const char *key,
                        char out[CCIP_UUID_STRLEN + 1])
{
    crypto_hash_sha256_state st;
    uint8_t h[32];
    crypto_hash_sha256_init(&st);
    /* Each part with its NUL, so that ("ab", "c") and ("a", "bc") differ. */
    crypto_hash_sha256_update(&st, (const unsigned char *)"ccip-idempotency", 17);
    crypto_hash_sha256_update(&st, (const unsigned char *)account_id, strlen(account_id) + 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)type, strlen(type) + 1);
    crypto_hash_sha256_update(&st, (const unsigned char *)key, strlen(key));
    crypto_hash_sha256_final(&st, h);
    h[6] = (uint8_t)((h[6] & 0x0f) | 0x80); /* version 8: custom */
    h[8] = (uint8_t)((h[8] & 0x3f) | 0x80); /* variant 10 */
    snprintf(out, CCIP_UUID_STRLEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", h[0], h[1],
             h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13], h[14],
             h[15]);
}
