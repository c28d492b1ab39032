#include "ip_signer.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The one cached key and what the file looked like when it was read. */
static struct {
    pthread_mutex_t mu;    /* guards everything below */
    int loaded;            /* key holds the file's key */
    int locked;            /* the slot is mlock'ed (tried once) */
    char path[1024];       /* the file read */
    dev_t dev;             /* its identity ... */
    ino_t ino;             /* ... (a key moved into place is a new inode) */
    off_t size;            /* its size */
    struct timespec mtime; /* and modification time */
    ip_key key;            /* the key */
} s_slot = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int s_same_file(const struct stat *st, const char *path)
{
    return s_slot.loaded && strcmp(s_slot.path, path) == 0 && s_slot.dev == st->st_dev &&
           s_slot.ino == st->st_ino && s_slot.size == st->st_size &&
           s_slot.mtime.tv_sec == st->st_mtim.tv_sec && s_slot.mtime.tv_nsec == st->st_mtim.tv_nsec;
}

int ip_signer_get(const char *path, ip_key *key, char *err, size_t errlen)
{
    memset(key, 0, sizeof *key);
    if (!path || strlen(path) >= sizeof s_slot.path) {
        snprintf(err, errlen, "the signing key's path is missing or too long");
        return -1;
    }
    pthread_mutex_lock(&s_slot.mu);
    if (!s_slot.locked) {
        /* Best effort: without the privilege the key is still wiped when
         * replaced, only not pinned in memory. */
        (void)sodium_mlock(&s_slot.key, sizeof s_slot.key);
        s_slot.locked = 1;
    }
    struct stat st;
    int rc = 0;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "could not read %s: %s", path, strerror(errno));
        rc = -1;
    } else if (!s_same_file(&st, path)) {
        ip_key_wipe(&s_slot.key);
        s_slot.loaded = 0;
        if (ip_key_load_secret(path, &s_slot.key, err, errlen) < 0) {
            ip_key_wipe(&s_slot.key);
            rc = -1;
        } else {
            /* The stat from before the read: a file replaced while it was
             * read is read again on the next call. */
            snprintf(s_slot.path, sizeof s_slot.path, "%s", path);
            s_slot.dev = st.st_dev;
            s_slot.ino = st.st_ino;
            s_slot.size = st.st_size;
            s_slot.mtime = st.st_mtim;
            s_slot.loaded = 1;
        }
    }
    if (rc == 0)
        memcpy(key, &s_slot.key, sizeof *key);
    pthread_mutex_unlock(&s_slot.mu);
    return rc;
}
