/*
 * ccip_keys: CURVE key pairs on disk and the bus's key registry: the keys
 * allowed in, and what each of them may be.
 *
 * Key files are small libconfig files so that a person can read them:
 *
 *   NAME.key (mode 0600, the secret)    NAME.pub (shareable: the registry entry)
 *     public-key = "<40 Z85 chars>";      public-key = "<40 Z85 chars>";
 *     secret-key = "<40 Z85 chars>";      kind = "service";
 *                                         service = "intake";
 *
 * A keyring is a directory of NAME.pub files: the clients the bus lets in.
 * Every .pub says what its key is (its binding), and the bus holds the key
 * to it:
 *
 *   kind = "service"; service = "intake";
 *       a replica of intake: it may register with the broker as intake only,
 *       publish events only under intake's topics (`intake.*`), and it
 *       speaks as role "service", actor "service:intake";
 *   kind = "front-door"; person = "zhou.min"; roles = ["staff", "office"];
 *       one person's client (ccipctl): its commands act as that person, in
 *       one of those roles, and a claim of anyone or anything else is
 *       refused;
 *   kind = "front-door"; any-person = true;
 *       a front door that authenticates people itself (the web gateway): it
 *       may assert any person and role, except the roles "service" and
 *       "system", which belong to keys and to a service's own runs;
 *   kind = "admin";
 *       operations (event replay, tail): acts as role "admin", and every
 *       use is logged by the bus;
 *   kind = "bus";
 *       the bus's own key pair; its .pub goes to every client, never into
 *       the keys directory (a keyring refuses it).
 *
 * A .pub without `kind` was made before keys were bound; a keyring refuses
 * it with a sentence saying how to make it again (nothing is guessed).
 */
#ifndef CCIP_KEYS_H
#define CCIP_KEYS_H

#include <stddef.h>

#define CCIP_KEY_Z85_LEN     40
#define CCIP_KEY_NAME_MAX    64  /* longest key name, with its NUL */
#define CCIP_KEY_SERVICE_MAX 32  /* longest service name (ccip_mdp.h's CCIP_MDP_SERVICE_MAX) */
#define CCIP_KEY_PERSON_MAX  128 /* longest person (actor id) a key is bound to, with its NUL */
#define CCIP_KEY_ROLE_MAX    32  /* longest role, with its NUL */
#define CCIP_KEY_ROLES_MAX   8   /* most roles one front-door key may hold */

typedef struct {
    char public_key[CCIP_KEY_Z85_LEN + 1]; /* Z85, NUL-terminated */
    char secret_key[CCIP_KEY_Z85_LEN + 1]; /* Z85, NUL-terminated; "" for public-only */
} ccip_keypair;

/* What a key is. 0 is not a kind: a binding must say. */
typedef enum {
    CCIP_KEY_SERVICE = 1, /* the replicas of one service */
    CCIP_KEY_FRONT_DOOR,  /* speaks for one person, or for any person */
    CCIP_KEY_ADMIN,       /* operations; every use logged */
    CCIP_KEY_BUS,         /* the bus's own pair; never in a keyring */
} ccip_key_kind;

/* What a key may be: written into its .pub, read back by the bus. */
typedef struct {
    ccip_key_kind kind;
    char service[CCIP_KEY_SERVICE_MAX + 1]; /* SERVICE: the one service */
    char person[CCIP_KEY_PERSON_MAX];       /* FRONT_DOOR: the person; "" with any_person */
    int any_person;                         /* FRONT_DOOR: 1 = may assert any person */
    char roles[CCIP_KEY_ROLES_MAX][CCIP_KEY_ROLE_MAX]; /* FRONT_DOOR with a person: its roles */
    size_t nroles;                                     /* entries used in roles */
} ccip_key_binding;

/* "service", "front-door", "admin", "bus"; "?" for anything else. */
const char *ccip_key_kind_name(ccip_key_kind kind);

/* 1 when s[0..len) is a service name: 1-32 characters of a-z, 0-9 and _,
 * starting with a letter (also the broker's rule for its service frame),
 * else 0. Compares bytes, so a NUL inside is refused. */
int ccip_key_service_name_ok(const char *s, size_t len);

/* Checks a binding is complete and consistent (a SERVICE names a valid
 * service; a FRONT_DOOR names a person with 1-8 roles, or any_person with
 * none; roles are [a-z][a-z0-9_]* and never "service" or "system"; a
 * person is 1-127 characters of A-Z a-z 0-9 . _ : @ -). Returns 0, or -1
 * with err saying which part and why. */
int ccip_key_binding_check(const ccip_key_binding *b, char *err, size_t errlen);

/* Adds the roles of a comma-separated list ("staff,office") to b. Returns 0,
 * or -1 with err (empty item, too many, a role of the wrong form). */
int ccip_key_roles_parse(ccip_key_binding *b, const char *csv, char *err, size_t errlen);

/* Whether a FRONT_DOOR key with binding b may send a command claiming actor
 * id `actor` and role `role` ("" = no claim). Returns 0 when it may, or -1
 * with a sentence in why ("key zhou-min is bound to person zhou.min and may
 * not act as li.lei"). Only for FRONT_DOOR bindings (-1 otherwise). */
int ccip_key_claim_check(const char *key_name, const ccip_key_binding *b, const char *actor,
                         const char *role, char *why, size_t whylen);

/* Makes a new key pair with zmq_curve_keypair. Returns 0 or -1 (libzmq built
 * without CURVE). */
int ccip_keypair_generate(ccip_keypair *kp);

/* Writes dir/name.key (0600) and dir/name.pub, the .pub stating binding b
 * (checked first with ccip_key_binding_check). name must be 1-63 characters
 * of [a-z0-9_-]. Refuses to overwrite an existing key. Returns 0 or -1 with
 * err; on -1 neither file is left behind. */
int ccip_keypair_save(const char *dir, const char *name, const ccip_keypair *kp,
                      const ccip_key_binding *b, char *err, size_t errlen);

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
    ccip_key_binding binding;              /* what the key may be */
} ccip_key_entry;

/* Loads every *.pub of dir. A malformed file, a .pub without a kind (made
 * before keys were bound: the sentence says how to make it again), a bus
 * key, or two files holding the same public key are errors (the operator
 * must see them: the bus does not start), an empty directory is not.
 * Returns NULL with err on failure. */
ccip_keyring *ccip_keyring_load(const char *dir, char *err, size_t errlen);

/* Frees; safe on NULL and twice. */
void ccip_keyring_destroy(ccip_keyring **kr);

/* The entry for a Z85 public key, or NULL when it is not allowed. Borrowed.
 * Read-only, so safe from several threads. */
const ccip_key_entry *ccip_keyring_find(const ccip_keyring *kr, const char *public_z85);

/* The entry with that name, or NULL. Borrowed. */
const ccip_key_entry *ccip_keyring_find_name(const ccip_keyring *kr, const char *name);

/* 1 when some SERVICE key of the ring is bound to service[0..len), else 0. */
int ccip_keyring_serves(const ccip_keyring *kr, const char *service, size_t len);

size_t ccip_keyring_size(const ccip_keyring *kr);

#endif
