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

/* How to make a key of each kind again, for the sentences that refuse one. */
#define S_REMAKE                                                                                   \
    "make it again with `ccipctl keygen NAME --service SERVICE` (a service's replicas), "          \
    "`--front-door --as PERSON --roles ROLE[,ROLE]` (one person's ccipctl), `--front-door "        \
    "--any-person` (the web gateway) or `--admin` (operations), and put the new .pub here"

const char *ccip_key_kind_name(ccip_key_kind kind)
{
    switch (kind) {
    case CCIP_KEY_SERVICE:
        return "service";
    case CCIP_KEY_FRONT_DOOR:
        return "front-door";
    case CCIP_KEY_ADMIN:
        return "admin";
    case CCIP_KEY_BUS:
        return "bus";
    }
    return "?";
}

static ccip_key_kind s_kind_parse(const char *s)
{
    static const ccip_key_kind kinds[] = {CCIP_KEY_SERVICE, CCIP_KEY_FRONT_DOOR, CCIP_KEY_ADMIN,
                                          CCIP_KEY_BUS};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(s, ccip_key_kind_name(kinds[i])) == 0)
            return kinds[i];
    return 0;
}

int ccip_key_service_name_ok(const char *s, size_t len)
{
    if (!s || len == 0 || len > CCIP_KEY_SERVICE_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* [a-z][a-z0-9_]*, shorter than CCIP_KEY_ROLE_MAX. */
static int s_role_ok(const char *r)
{
    size_t n = strlen(r);
    if (n == 0 || n >= CCIP_KEY_ROLE_MAX || !(r[0] >= 'a' && r[0] <= 'z'))
        return 0;
    for (const char *p = r; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return 1;
}

/* Roles that no front door may claim: "service" is what service keys act
 * as, "system" what a service's own scheduled commands act as. */
static int s_role_reserved(const char *r)
{
    return strcmp(r, "service") == 0 || strcmp(r, "system") == 0;
}

static int s_person_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n >= CCIP_KEY_PERSON_MAX)
        return 0;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("._:@-", *p)))
            return 0;
    return 1;
}

int ccip_key_binding_check(const ccip_key_binding *b, char *err, size_t errlen)
{
    switch (b->kind) {
    case CCIP_KEY_SERVICE:
        if (!ccip_key_service_name_ok(b->service, strlen(b->service))) {
            snprintf(err, errlen,
                     "a service key names its service: 1-%d characters of a-z, 0-9 and _, "
                     "starting with a letter, got \"%.40s\"",
                     CCIP_KEY_SERVICE_MAX, b->service);
            return -1;
        }
        return 0;
    case CCIP_KEY_FRONT_DOOR:
        if (b->any_person) {
            if (b->person[0] || b->nroles) {
                snprintf(err, errlen,
                         "a front-door key for any person takes no person and no roles (it "
                         "asserts the person it authenticated)");
                return -1;
            }
            return 0;
        }
        if (!s_person_ok(b->person)) {
            snprintf(err, errlen,
                     "a front-door key is bound to one person (1-%d characters of A-Z, a-z, "
                     "0-9, '.', '_', ':', '@' and '-'), got \"%.60s\"; or make it for any "
                     "person",
                     CCIP_KEY_PERSON_MAX - 1, b->person);
            return -1;
        }
        if (b->nroles == 0 || b->nroles > CCIP_KEY_ROLES_MAX) {
            snprintf(err, errlen, "a front-door key bound to %s needs 1 to %d roles, got %zu",
                     b->person, CCIP_KEY_ROLES_MAX, b->nroles);
            return -1;
        }
        for (size_t i = 0; i < b->nroles; i++) {
            if (!s_role_ok(b->roles[i])) {
                snprintf(err, errlen,
                         "role \"%.40s\" must be 1-%d characters of a-z, 0-9 and _, starting "
                         "with a letter",
                         b->roles[i], CCIP_KEY_ROLE_MAX - 1);
                return -1;
            }
            if (s_role_reserved(b->roles[i])) {
                snprintf(err, errlen,
                         "role \"%s\" cannot be given to a person: it is what service keys and "
                         "a service's own scheduled commands act as",
                         b->roles[i]);
                return -1;
            }
        }
        return 0;
    case CCIP_KEY_ADMIN:
    case CCIP_KEY_BUS:
        return 0;
    }
    snprintf(err, errlen, "a key's kind must be service, front-door, admin or bus");
    return -1;
}

int ccip_key_roles_parse(ccip_key_binding *b, const char *csv, char *err, size_t errlen)
{
    const char *p = csv;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= CCIP_KEY_ROLE_MAX) {
            snprintf(err, errlen,
                     "roles are a comma-separated list such as staff,office (each 1-%d "
                     "characters), got \"%.60s\"",
                     CCIP_KEY_ROLE_MAX - 1, csv);
            return -1;
        }
        if (b->nroles == CCIP_KEY_ROLES_MAX) {
            snprintf(err, errlen, "a key holds at most %d roles", CCIP_KEY_ROLES_MAX);
            return -1;
        }
        memcpy(b->roles[b->nroles], p, n);
        b->roles[b->nroles][n] = '\0';
        if (!s_role_ok(b->roles[b->nroles])) {
            snprintf(err, errlen,
                     "role \"%s\" must be lower-case letters, digits and _, starting with a "
                     "letter",
                     b->roles[b->nroles]);
            return -1;
        }
        b->nroles++;
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

int ccip_key_claim_check(const char *key_name, const ccip_key_binding *b, const char *actor,
                         const char *role, char *why, size_t whylen)
{
    if (b->kind != CCIP_KEY_FRONT_DOOR) {
        snprintf(why, whylen, "key %s is not a front door and may not speak for a person",
                 key_name);
        return -1;
    }
    if (role[0] && s_role_reserved(role)) {
        snprintf(why, whylen,
                 "a front door may not claim role \"%s\": it belongs to service keys and to a "
                 "service's own scheduled commands",
                 role);
        return -1;
    }
    if (b->any_person)
        return 0;
    if (actor[0] && strcmp(actor, b->person) != 0) {
        snprintf(why, whylen,
                 "key %s is bound to person %s and may not act as %.80s; each person uses a key "
                 "of their own",
                 key_name, b->person, actor);
        return -1;
    }
    if (!role[0])
        return 0;
    for (size_t i = 0; i < b->nroles; i++)
        if (strcmp(role, b->roles[i]) == 0)
            return 0;
    char list[CCIP_KEY_ROLES_MAX * CCIP_KEY_ROLE_MAX] = "";
    for (size_t i = 0; i < b->nroles; i++) {
        if (i)
            strcat(list, ", ");
        strcat(list, b->roles[i]);
    }
    snprintf(why, whylen,
             "key %s is bound to %s in role%s %s and may not claim role \"%.40s\"; a new role "
             "needs a key made for it",
             key_name, b->person, b->nroles > 1 ? "s" : "", list, role);
    return -1;
}

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

/* The binding's lines of a .pub file, with a comment a person can read. */
static void s_binding_text(const ccip_key_binding *b, char *out, size_t len)
{
    size_t n = 0;
    switch (b->kind) {
    case CCIP_KEY_SERVICE:
        snprintf(out, len,
                 "# a replica of service %s: registers as %s only, publishes only %s.* events\n"
                 "kind = \"service\";\nservice = \"%s\";\n",
                 b->service, b->service, b->service, b->service);
        return;
    case CCIP_KEY_FRONT_DOOR:
        if (b->any_person) {
            snprintf(out, len,
                     "# a front door that authenticates people itself: may assert any person\n"
                     "kind = \"front-door\";\nany-person = true;\n");
            return;
        }
        n = (size_t)snprintf(out, len,
                             "# the client of one person: acts as %s, in these roles only\n"
                             "kind = \"front-door\";\nperson = \"%s\";\nroles = [",
                             b->person, b->person);
        for (size_t i = 0; i < b->nroles && n < len; i++)
            n += (size_t)snprintf(out + n, len - n, "%s\"%s\"", i ? ", " : "", b->roles[i]);
        if (n < len)
            snprintf(out + n, len - n, "];\n");
        return;
    case CCIP_KEY_ADMIN:
        snprintf(out, len,
                 "# operations (event replay and tail); the bus logs every use\n"
                 "kind = \"admin\";\n");
        return;
    case CCIP_KEY_BUS:
        snprintf(out, len,
                 "# the bus's own key: give this file to every client as its server key,"
                 " never put it in the keys directory\nkind = \"bus\";\n");
        return;
    }
    out[0] = '\0';
}

int ccip_keypair_save(const char *dir, const char *name, const ccip_keypair *kp,
                      const ccip_key_binding *b, char *err, size_t errlen)
{
    if (!s_name_ok(name)) {
        snprintf(err, errlen, "key name \"%s\" must be 1-63 characters of a-z, 0-9, _ and -", name);
        return -1;
    }
    char why[300];
    if (!b || ccip_key_binding_check(b, why, sizeof why) < 0) {
        snprintf(err, errlen, "could not make key %s: %s", name,
                 b ? why : "say what the key is (service, front door, admin or the bus's own)");
        return -1;
    }
    char key_path[1024], pub_path[1024], text[1024], binding[700];
    snprintf(key_path, sizeof key_path, "%s/%s.key", dir, name);
    snprintf(pub_path, sizeof pub_path, "%s/%s.pub", dir, name);
    snprintf(text, sizeof text,
             "# ccip CURVE key pair \"%s\": keep this file secret\n"
             "public-key = \"%s\";\nsecret-key = \"%s\";\n",
             name, kp->public_key, kp->secret_key);
    if (s_write_file(key_path, 0600, text, err, errlen) < 0)
        return -1;
    s_binding_text(b, binding, sizeof binding);
    snprintf(text, sizeof text,
             "# ccip CURVE public key \"%s\": copy into the bus's keys directory to let it in\n"
             "public-key = \"%s\";\n%s",
             name, kp->public_key, binding);
    if (s_write_file(pub_path, 0644, text, err, errlen) < 0) {
        unlink(key_path);
        return -1;
    }
    return 0;
}

/* Reads the binding of a .pub into b. Returns 0 or -1 with err. */
static int s_read_binding(const config_t *cfg, const char *path, ccip_key_binding *b, char *err,
                          size_t errlen)
{
    memset(b, 0, sizeof *b);
    const char *kind = NULL;
    if (!config_lookup_string(cfg, "kind", &kind)) {
        int legacy = 0;
        snprintf(err, errlen, "%s: this key does not say what it may be (no `kind`%s); " S_REMAKE,
                 path,
                 config_lookup_bool(cfg, "front-door", &legacy)
                     ? ": it was made before keys were bound to a service or a person"
                     : "");
        return -1;
    }
    if (!(b->kind = s_kind_parse(kind))) {
        snprintf(err, errlen,
                 "%s: `kind` must be \"service\", \"front-door\" or \"admin\", got \"%.40s\"", path,
                 kind);
        return -1;
    }
    const char *s = NULL;
    if (config_lookup_string(cfg, "service", &s))
        snprintf(b->service, sizeof b->service, "%s", s);
    if (config_lookup_string(cfg, "person", &s)) {
        if (strlen(s) >= sizeof b->person) {
            snprintf(err, errlen, "%s: `person` is longer than %d characters", path,
                     CCIP_KEY_PERSON_MAX - 1);
            return -1;
        }
        snprintf(b->person, sizeof b->person, "%s", s);
    }
    config_lookup_bool(cfg, "any-person", &b->any_person);
    const config_setting_t *roles = config_lookup(cfg, "roles");
    if (roles) {
        int n = config_setting_length(roles);
        if (!config_setting_is_array(roles) || n > CCIP_KEY_ROLES_MAX) {
            snprintf(err, errlen, "%s: `roles` must be a list of at most %d strings", path,
                     CCIP_KEY_ROLES_MAX);
            return -1;
        }
        for (int i = 0; i < n; i++) {
            const char *r = config_setting_get_string_elem(roles, i);
            if (!r || strlen(r) >= CCIP_KEY_ROLE_MAX) {
                snprintf(err, errlen, "%s: role %d of `roles` must be a string of 1-%d characters",
                         path, i + 1, CCIP_KEY_ROLE_MAX - 1);
                return -1;
            }
            snprintf(b->roles[b->nroles++], CCIP_KEY_ROLE_MAX, "%s", r);
        }
    }
    char why[300];
    if (ccip_key_binding_check(b, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    return 0;
}

/* Reads a key file; fills pub (required), sec (when wanted) and the
 * binding (when wanted: a .pub of the registry). */
static int s_read_key_file(const char *path, char *pub, char *sec, ccip_key_binding *binding,
                           char *err, size_t errlen)
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
    if (binding && s_read_binding(&cfg, path, binding, err, errlen) < 0)
        goto out;
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
        if (s_read_key_file(path, e.public_key, NULL, &e.binding, err, errlen) < 0)
            goto fail;
        if (e.binding.kind == CCIP_KEY_BUS) {
            snprintf(err, errlen,
                     "%s is the bus's own public key: it goes to the clients (their "
                     "curve.server_key_file), not into the keys directory; remove it",
                     path);
            goto fail;
        }
        /* One public key, one binding: two files would make what a
         * connection may do depend on which one the bus read first. */
        const ccip_key_entry *twin = ccip_keyring_find(kr, e.public_key);
        if (twin) {
            snprintf(err, errlen,
                     "%s holds the same public key as %s.pub; a key has one name and one "
                     "binding: remove one of them",
                     path, twin->name);
            goto fail;
        }
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

int ccip_keyring_serves(const ccip_keyring *kr, const char *service, size_t len)
{
    for (size_t i = 0; kr && i < kr->count; i++) {
        const ccip_key_binding *b = &kr->entries[i].binding;
        if (b->kind == CCIP_KEY_SERVICE && strlen(b->service) == len &&
            memcmp(b->service, service, len) == 0)
            return 1;
    }
    return 0;
}

size_t ccip_keyring_size(const ccip_keyring *kr)
{
    return kr ? kr->count : 0;
}
