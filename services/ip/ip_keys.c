#include "ip_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ip_chain.h"

#define ALGORITHM "ed25519"

int ip_key_generate(ip_key *k)
{
    if (sodium_init() < 0)
        return -1;
    crypto_sign_keypair(k->public_key, k->secret_key);
    ip_key_id(k->public_key, k->key_id);
    return 0;
}

void ip_key_id(const uint8_t public_key[IP_PUBLIC_KEY_LEN], char out[IP_KEY_ID_LEN + 1])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, public_key, IP_PUBLIC_KEY_LEN);
    ip_hex(h, IP_KEY_ID_LEN / 2, out);
}

static int s_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > 63)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

/* Creates path exclusively with mode and writes text. */
static int s_write_new(const char *path, int mode, const char *text, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        snprintf(err, errlen, "could not create %s: %s%s", path, strerror(errno),
                 errno == EEXIST ? " (a signing key is never overwritten; move it away first)"
                                 : "");
        return -1;
    }
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);
    int rc = close(fd);
    if (w != (ssize_t)n || rc != 0) {
        snprintf(err, errlen, "could not write %s: %s", path, strerror(errno));
        unlink(path);
        return -1;
    }
    return 0;
}

int ip_key_public_text(const ip_key *k, char *buf, size_t len)
{
    char pub[IP_PUBLIC_KEY_LEN * 2 + 1];
    ip_hex(k->public_key, IP_PUBLIC_KEY_LEN, pub);
    int n = snprintf(buf, len,
                     "# ccip ip signing public key (Ed25519): publish it; it verifies receipts\n"
                     "# offline: ccipctl ip verify RECEIPT --key THIS_FILE\n"
                     "algorithm = \"" ALGORITHM "\";\nkey-id = \"%s\";\npublic-key = \"%s\";\n",
                     k->key_id, pub);
    return n < 0 || (size_t)n >= len ? -1 : n;
}

int ip_key_save(const char *dir, const char *name, const ip_key *k, char *err, size_t errlen)
{
    if (!s_name_ok(name)) {
        snprintf(err, errlen, "key name \"%s\" must be 1-63 characters of a-z, 0-9, _ and -",
                 name ? name : "");
        return -1;
    }
    char key_path[1024], pub_path[1024], text[1024], pub[IP_PUBLIC_KEY_LEN * 2 + 1],
        seed[IP_SEED_LEN * 2 + 1];
    snprintf(key_path, sizeof key_path, "%s/%s.key", dir, name);
    snprintf(pub_path, sizeof pub_path, "%s/%s.pub", dir, name);
    if (access(pub_path, F_OK) == 0) {
        snprintf(err, errlen, "%s exists: a signing key is never overwritten; move it away first",
                 pub_path);
        return -1;
    }
    ip_hex(k->public_key, IP_PUBLIC_KEY_LEN, pub);
    ip_hex(k->secret_key, IP_SEED_LEN, seed); /* libsodium's secret key starts with the seed */
    snprintf(text, sizeof text,
             "# ccip ip signing key (Ed25519) \"%s\": SECRET. Keep it mode 0600 and give the\n"
             "# ip service its path (ip.signing_key_file or CCIP_IP_SIGNING_KEY_FILE);\n"
             "# publish %s.pub instead.\n"
             "algorithm = \"" ALGORITHM "\";\nkey-id = \"%s\";\npublic-key = \"%s\";\n"
             "secret-seed = \"%s\";\n",
             name, name, k->key_id, pub, seed);
    sodium_memzero(seed, sizeof seed);
    int rc = s_write_new(key_path, 0600, text, err, errlen);
    sodium_memzero(text, sizeof text);
    if (rc < 0)
        return -1;
    if (ip_key_public_text(k, text, sizeof text) < 0 ||
        s_write_new(pub_path, 0644, text, err, errlen) < 0) {
        unlink(key_path);
        return -1;
    }
    return 0;
}

/* Reads path; fills k's public key and id and, when want_secret, its secret
 * key derived from the seed. */
static int s_load(const char *path, ip_key *k, int want_secret, char *err, size_t errlen)
{
    memset(k, 0, sizeof *k);
    if (sodium_init() < 0) {
        snprintf(err, errlen, "could not initialise libsodium");
        return -1;
    }
    config_t cfg;
    config_init(&cfg);
    int rc = -1;
    const char *alg = NULL, *id = NULL, *pub = NULL, *seed = NULL;
    if (!config_read_file(&cfg, path)) {
        if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
            snprintf(err, errlen, "could not read signing key file %s: %s", path, strerror(errno));
        else
            snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&cfg),
                     config_error_text(&cfg));
        goto out;
    }
    if (!config_lookup_string(&cfg, "algorithm", &alg) || strcmp(alg, ALGORITHM) != 0) {
        snprintf(err, errlen, "%s: `algorithm` must be \"" ALGORITHM "\"", path);
        goto out;
    }
    if (!config_lookup_string(&cfg, "public-key", &pub) ||
        ip_unhex(pub, k->public_key, IP_PUBLIC_KEY_LEN) < 0) {
        snprintf(err, errlen, "%s: `public-key` must be 64 hex characters", path);
        goto out;
    }
    ip_key_id(k->public_key, k->key_id);
    if (!config_lookup_string(&cfg, "key-id", &id) || strcmp(id, k->key_id) != 0) {
        snprintf(err, errlen, "%s: `key-id` must be \"%s\", the id of its public key", path,
                 k->key_id);
        goto out;
    }
    if (want_secret) {
        uint8_t s[IP_SEED_LEN], derived[IP_PUBLIC_KEY_LEN];
        if (!config_lookup_string(&cfg, "secret-seed", &seed) ||
            ip_unhex(seed, s, IP_SEED_LEN) < 0) {
            snprintf(err, errlen,
                     "%s: `secret-seed` must be 64 hex characters (is this a .pub file?)", path);
            goto out;
        }
        crypto_sign_seed_keypair(derived, k->secret_key, s);
        sodium_memzero(s, sizeof s);
        if (sodium_memcmp(derived, k->public_key, IP_PUBLIC_KEY_LEN) != 0) {
            snprintf(err, errlen, "%s: `public-key` does not belong to `secret-seed`", path);
            goto out;
        }
    }
    rc = 0;
out:
    config_destroy(&cfg);
    if (rc < 0)
        ip_key_wipe(k);
    return rc;
}

int ip_key_load_secret(const char *path, ip_key *k, char *err, size_t errlen)
{
    return s_load(path, k, 1, err, errlen);
}

int ip_key_load_public(const char *path, ip_key *k, char *err, size_t errlen)
{
    return s_load(path, k, 0, err, errlen);
}

void ip_key_wipe(ip_key *k)
{
    if (k)
        sodium_memzero(k, sizeof *k);
}
