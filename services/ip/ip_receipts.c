#include "ip_receipts.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "ccip_id.h"

#define HEADER "ccip ip receipt v1"

/* The signed message: at most 4+18 + 8 + 4+39 + 32 + 32 + 8 + 4+16 bytes. */
#define MESSAGE_MAX 192

static size_t s_put(uint8_t *m, size_t n, const void *p, size_t len)
{
    memcpy(m + n, p, len);
    return n + len;
}

static size_t s_u64(uint8_t *m, size_t n, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        m[n + (size_t)i] = (uint8_t)(v >> (56 - 8 * i));
    return n + 8;
}

static size_t s_str(uint8_t *m, size_t n, const char *s)
{
    size_t len = strnlen(s, 40);
    uint8_t b[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
    n = s_put(m, n, b, 4);
    return s_put(m, n, s, len);
}

static size_t s_message(const ip_receipt *r, uint8_t m[MESSAGE_MAX])
{
    size_t n = s_str(m, 0, IP_RECEIPT_TAG);
    n = s_u64(m, n, r->serial);
    n = s_str(m, n, r->work_id);
    n = s_put(m, n, r->content_sha256, IP_HASH_LEN);
    n = s_put(m, n, r->chain_hash, IP_HASH_LEN);
    n = s_u64(m, n, (uint64_t)r->registered_at_us);
    return s_str(m, n, r->key_id);
}

int ip_receipt_sign(ip_receipt *r, const ip_key *k)
{
    static const uint8_t zero[IP_SECRET_KEY_LEN];
    if (sodium_init() < 0 || sodium_memcmp(k->secret_key, zero, sizeof zero) == 0)
        return -1;
    memcpy(r->key_id, k->key_id, sizeof r->key_id);
    uint8_t m[MESSAGE_MAX];
    size_t n = s_message(r, m);
    return crypto_sign_detached(r->signature, NULL, m, n, k->secret_key) == 0 ? 0 : -1;
}

int ip_receipt_verify(const ip_receipt *r, const ip_key *k, char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "could not initialise libsodium");
        return -1;
    }
    if (strcmp(r->key_id, k->key_id) != 0) {
        snprintf(err, errlen,
                 "the receipt was signed with key %s, the public key given is %s: get the "
                 "platform's public key %s",
                 r->key_id, k->key_id, r->key_id);
        return -1;
    }
    uint8_t m[MESSAGE_MAX];
    size_t n = s_message(r, m);
    if (crypto_sign_verify_detached(r->signature, m, n, k->public_key) != 0) {
        snprintf(err, errlen,
                 "the signature does not match the receipt: its serial, work_id, "
                 "content_sha256, chain_hash, registered_at or signature was altered");
        return -1;
    }
    return 0;
}

int ip_receipt_format(const ip_receipt *r, char *buf, size_t len)
{
    char content[IP_HASH_HEX + 1], chain[IP_HASH_HEX + 1], sig[IP_SIGNATURE_LEN * 2 + 1],
        when[CCIP_TIME_STRLEN + 1];
    if (ccip_time_format_us(r->registered_at_us, when, sizeof when) < 0)
        return -1;
    ip_hex(r->content_sha256, IP_HASH_LEN, content);
    ip_hex(r->chain_hash, IP_HASH_LEN, chain);
    ip_hex(r->signature, IP_SIGNATURE_LEN, sig);
    int n = snprintf(buf, len,
                     HEADER "\nserial: %" PRIu64 "\nwork_id: %s\ncontent_sha256: %s\n"
                            "chain_hash: %s\nregistered_at: %s\nkey_id: %s\nsignature: %s\n",
                     r->serial, r->work_id, content, chain, when, r->key_id, sig);
    return n < 0 || (size_t)n >= len ? -1 : n;
}

/* ---- parsing ------------------------------------------------------------- */

typedef struct {
    const char *p;   /* next unread byte */
    const char *end; /* one past the text */
    int line;        /* number of the line being read */
    char *err;
    size_t errlen;
} s_reader;

/* Reads one line "key: value\n" into value (without the newline). */
static int s_field(s_reader *rd, const char *key, char *value, size_t cap)
{
    rd->line++;
    size_t klen = strlen(key);
    const char *nl = memchr(rd->p, '\n', (size_t)(rd->end - rd->p));
    if (!nl) {
        snprintf(rd->err, rd->errlen, "receipt line %d (`%s`): missing, or not ended by a newline",
                 rd->line, key);
        return -1;
    }
    size_t n = (size_t)(nl - rd->p);
    if (n < klen + 2 || memcmp(rd->p, key, klen) != 0 || rd->p[klen] != ':' ||
        rd->p[klen + 1] != ' ') {
        snprintf(rd->err, rd->errlen, "receipt line %d: must start with \"%s: \"", rd->line, key);
        return -1;
    }
    size_t vlen = n - klen - 2;
    if (vlen >= cap || memchr(rd->p + klen + 2, '\0', vlen)) {
        snprintf(rd->err, rd->errlen, "receipt line %d (`%s`): the value is malformed", rd->line,
                 key);
        return -1;
    }
    memcpy(value, rd->p + klen + 2, vlen);
    value[vlen] = '\0';
    rd->p = nl + 1;
    return 0;
}

static int s_bad(s_reader *rd, const char *key, const char *what)
{
    snprintf(rd->err, rd->errlen, "receipt line %d (`%s`): must be %s", rd->line, key, what);
    return -1;
}

/* Strict lower-case hex of exactly n bytes. */
static int s_lower_hex(const char *s, uint8_t *out, size_t n)
{
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return -1;
    return ip_unhex(s, out, n);
}

int ip_receipt_parse(const char *text, size_t len, ip_receipt *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    s_reader rd = {.p = text, .end = text + len, .err = err, .errlen = errlen};
    char v[200];
    rd.line = 1;
    size_t hl = strlen(HEADER);
    if (len < hl + 1 || memcmp(text, HEADER "\n", hl + 1) != 0) {
        snprintf(err, errlen, "receipt line 1: must be \"" HEADER "\" (is this a ccip receipt?)");
        return -1;
    }
    rd.p += hl + 1;

    if (s_field(&rd, "serial", v, sizeof v) < 0)
        return -1;
    char *endp = NULL;
    unsigned long long serial = strtoull(v, &endp, 10);
    if (!v[0] || *endp || v[0] < '1' || v[0] > '9' || strlen(v) > 19)
        return s_bad(&rd, "serial", "a decimal number from 1, without leading zeros");
    r->serial = serial;

    if (s_field(&rd, "work_id", v, sizeof v) < 0)
        return -1;
    if (!ccip_uuid_valid(v))
        return s_bad(&rd, "work_id", "a lower-case UUID");
    memcpy(r->work_id, v, CCIP_UUID_STRLEN + 1);

    if (s_field(&rd, "content_sha256", v, sizeof v) < 0)
        return -1;
    if (s_lower_hex(v, r->content_sha256, IP_HASH_LEN) < 0)
        return s_bad(&rd, "content_sha256", "64 lower-case hex characters");

    if (s_field(&rd, "chain_hash", v, sizeof v) < 0)
        return -1;
    if (s_lower_hex(v, r->chain_hash, IP_HASH_LEN) < 0)
        return s_bad(&rd, "chain_hash", "64 lower-case hex characters");

    if (s_field(&rd, "registered_at", v, sizeof v) < 0)
        return -1;
    char again[CCIP_TIME_STRLEN + 1];
    if (ccip_time_parse_us(v, &r->registered_at_us) < 0 ||
        ccip_time_format_us(r->registered_at_us, again, sizeof again) < 0 || strcmp(again, v) != 0)
        return s_bad(&rd, "registered_at", "a UTC time such as 2026-11-27T10:00:00.123456Z");

    if (s_field(&rd, "key_id", v, sizeof v) < 0)
        return -1;
    uint8_t idb[IP_KEY_ID_LEN / 2];
    if (strlen(v) != IP_KEY_ID_LEN || s_lower_hex(v, idb, sizeof idb) < 0)
        return s_bad(&rd, "key_id", "16 lower-case hex characters");
    memcpy(r->key_id, v, IP_KEY_ID_LEN + 1);

    if (s_field(&rd, "signature", v, sizeof v) < 0)
        return -1;
    if (s_lower_hex(v, r->signature, IP_SIGNATURE_LEN) < 0)
        return s_bad(&rd, "signature", "128 lower-case hex characters");

    if (rd.p != rd.end) {
        snprintf(err, errlen, "receipt line %d: unexpected text after the signature", rd.line + 1);
        return -1;
    }
    return 0;
}
