#include "ccip_keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

struct ccip_keyring {
    ccip_key_entry *entries; /* sorted by nothing; rings are small */
    size_t count;
};

int ccip_keypair_generate(ccip_keypair *kp)
{
    return zmq_curve_keypair(kp->public_key, kp->secret_key) == 0 ? 0 : -1;
}

static int s_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= CCIP_KEY_NAME_MAX)
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

/* A Z85 key is 40 characters of the Z85 alphabet; zmq_z85_decode checks it. */
static int s_z85_ok(const char *z)
{
    uint8_t raw[32];
    return z && strlen(z) == CCIP_KEY_Z85_LEN && zmq_z85_decode(raw, z) != NULL;
}

static int s_write_file(const char *path, mode_t mode, const char *text, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        snprintf(err, errlen, "could not create %s: %s", path, strerror(errno));
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

int ccip_keypair_save(const char *dir, const char *name, const ccip_keypair *kp, int front_door,
                      char *err, size_t errlen)
{
    if (!s_name_ok(name)) {
        snprintf(err, errlen, "key name \"%s\" must be 1-63 characters of a-z, 0-9, _ and -", name);
        return -1;
    }
    char key_path[1024], pub_path[1024], text[512];
    snprintf(key_path, sizeof key_path, "%s/%s.key", dir, name);
    snprintf(pub_path, sizeof pub_path, "%s/%s.pub", dir, name);
    snprintf(text, sizeof text,
             "# ccip CURVE key pair \"%s\": keep this file secret\n"
             "public-key = \"%s\";\nsecret-key = \"%s\";\n",
             name, kp->public_key, kp->secret_key);
    if (s_write_file(key_path, 0600, text, err, errlen) < 0)
        return -1;
    snprintf(text, sizeof text,
             "# ccip CURVE public key \"%s\": copy into the bus's keys directory to let it in\n"
             "public-key = \"%s\";\nfront-door = %s;\n",
             name, kp->public_key, front_door ? "true" : "false");
    if (s_write_file(pub_path, 0644, text, err, errlen) < 0) {
        unlink(key_path);
        return -1;
    }
    return 0;
}

/* Reads a key file; fills pub (required), sec (when wanted) and front door. */
static int s_read_key_file(const char *path, char *pub, char *sec, int *front_door, char *err,
                           size_t errlen)
{
    config_t cfg;
    config_init(&cfg);
    int rc = -1;
    if (!config_read_file(&cfg, path)) {
        if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
            snprintf(err, errlen, "could not read key file %s: %s", path, strerror(errno));
        else
            snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&cfg),
                     config_error_text(&cfg));
        goto out;
    }
    const char *p = NULL, *s = NULL;
    if (!config_lookup_string(&cfg, "public-key", &p) || !s_z85_ok(p)) {
        snprintf(err, errlen, "%s: `public-key` must be a 40-character Z85 string", path);
        goto out;
    }
    memcpy(pub, p, CCIP_KEY_Z85_LEN + 1);
    if (sec) {
        if (!config_lookup_string(&cfg, "secret-key", &s) || !s_z85_ok(s)) {
            snprintf(err, errlen,
                     "%s: `secret-key` must be a 40-character Z85 string (is this a .pub file?)",
                     path);
            goto out;
        }
        memcpy(sec, s, CCIP_KEY_Z85_LEN + 1);
    }
    if (front_door) {
        int fd = 0;
        config_lookup_bool(&cfg, "front-door", &fd);
        *front_door = fd;
    }
    rc = 0;
out:
    config_destroy(&cfg);
    return rc;
}

int ccip_keypair_load(const char *path, ccip_keypair *kp, char *err, size_t errlen)
{
    return s_read_key_file(path, kp->public_key, kp->secret_key, NULL, err, errlen);
}

int ccip_public_key_load(const char *path, char out[CCIP_KEY_Z85_LEN + 1], char *err, size_t errlen)
{
    return s_read_key_file(path, out, NULL, NULL, err, errlen);
}

ccip_keyring *ccip_keyring_load(const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "could not open keys directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    ccip_keyring *kr = calloc(1, sizeof *kr);
    if (!kr)
        goto fail;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 5 || strcmp(de->d_name + n - 4, ".pub") != 0 || n - 4 >= CCIP_KEY_NAME_MAX)
            continue;
        ccip_key_entry e = {0};
        memcpy(e.name, de->d_name, n - 4);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (s_read_key_file(path, e.public_key, NULL, &e.front_door, err, errlen) < 0)
            goto fail;
        ccip_key_entry *grown = realloc(kr->entries, (kr->count + 1) * sizeof *grown);
        if (!grown)
            goto fail;
        kr->entries = grown;
        kr->entries[kr->count++] = e;
    }
    closedir(d);
    return kr;
fail:
    if (errno == ENOMEM)
        snprintf(err, errlen, "out of memory loading keys from %s", dir);
    closedir(d);
    ccip_keyring_destroy(&kr);
    return NULL;
}

void ccip_keyring_destroy(ccip_keyring **kr)
{
    if (!kr || !*kr)
        return;
    free((*kr)->entries);
    free(*kr);
    *kr = NULL;
}

const ccip_key_entry *ccip_keyring_find(const ccip_keyring *kr, const char *public_z85)
{
    for (size_t i = 0; kr && i < kr->count; i++)
        if (strcmp(kr->entries[i].public_key, public_z85) == 0)
            return &kr->entries[i];
    return NULL;
}

const ccip_key_entry *ccip_keyring_find_name(const ccip_keyring *kr, const char *name)
{
    for (size_t i = 0; kr && i < kr->count; i++)
        if (strcmp(kr->entries[i].name, name) == 0)
            return &kr->entries[i];
    return NULL;
}

size_t ccip_keyring_size(const ccip_keyring *kr)
{
    return kr ? kr->count : 0;
}
