/*
 * gateway_store: the SQL of the gateway's schema (sql/0001_gateway.sql), in
 * one place: accounts, bindings, sessions, sign-in throttling, one-time
 * tokens and the audit. Every function runs one or two prepared statements
 * on the connection it is given (search_path gateway) and returns a
 * ccip_db_rc (CCIP_DB_OK, or the failure of a statement, to be returned
 * from a ccip_db_tx function so that it retries or rolls back); functions
 * that look something up return GATEWAY_STORE_NONE (1) when it is not
 * there. Callers put the writes that belong together (a change, its audit
 * row and its event) in one transaction.
 */
#ifndef GATEWAY_STORE_H
#define GATEWAY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/gateway.pb-c.h"
#include "ccip_arena.h"
#include "ccip_db.h"
#include "ccip_id.h"
#include "gateway_bindings.h"
#include "gateway_crypto.h"

/* A lookup found nothing. */
#define GATEWAY_STORE_NONE 1

/* Most bindings an account holds that are read (revoked ones included). */
#define GATEWAY_BINDINGS_MAX 32

typedef struct {
    char id[CCIP_UUID_STRLEN + 1];
    char login[GATEWAY_LOGIN_MAX + 1];
    char name[404];  /* at most 100 characters */
    char email[256]; /* at most 254 bytes */
    char mobile[24];
    char password_hash[GATEWAY_PWHASH_MAX];
    uint8_t totp_secret[GATEWAY_TOTP_SECRET_BYTES];
    int has_totp_secret;    /* a secret was made (maybe not confirmed yet) */
    int totp_confirmed;     /* the secret is in force: sign-in needs a code */
    int64_t totp_last_step; /* last time step a code was accepted for */
    int64_t created_at_us;
} gateway_account;

typedef struct {
    char id[CCIP_UUID_STRLEN + 1];
    const gateway_kind_info *kind;
    char subject[GATEWAY_SUBJECT_MAX + 1];
    Ccip__Gateway__BindingStatus status;
    int registered; /* a pending organisation binding that registered it */
    int64_t granted_at_us;
    char granted_by[GATEWAY_ACTOR_MAX + 1];
    int64_t revoked_at_us;
    char revoked_by[GATEWAY_ACTOR_MAX + 1];
    char reason[512];
} gateway_binding;

/* A session as every request sees it. */
typedef struct {
    uint8_t token_hash[32];
    char account_id[CCIP_UUID_STRLEN + 1];
    char login[GATEWAY_LOGIN_MAX + 1];
    int has_binding; /* an active binding is set and still live */
    gateway_binding binding;
    int second_factor; /* signed in (or confirmed) with TOTP */
    int64_t expires_at_us;
    int64_t last_seen_us;
} gateway_session_row;

/* A number that moves whenever this process writes something that changes
 * what a session acts as (a session ended or switched, a binding granted,
 * confirmed or revoked, a password changed): the session cache
 * (gateway_session_cache.h) uses no entry looked up before it moved. The
 * writes below move it when they run, before their transaction commits; a
 * caller moves it again with gateway_store_changed once the commit is done
 * (a lookup between the two read what was there before). */
unsigned gateway_store_generation(void);
void gateway_store_changed(void);

/* ---- accounts ------------------------------------------------------------ */

/* Inserts an account. Returns CCIP_DB_OK, GATEWAY_STORE_NONE when the login
 * or the e-mail address is taken (nothing written; *which says "login" or
 * "email"), or a ccip_db_rc. */
int gateway_account_insert(ccip_db *db, const gateway_account *a, const char **which);

/* Reads an account by login (lower case) or by id. Returns CCIP_DB_OK,
 * GATEWAY_STORE_NONE or a ccip_db_rc. lock: FOR UPDATE. */
int gateway_account_by_login(ccip_db *db, const char *login, gateway_account *out);
int gateway_account_by_id(ccip_db *db, const char *id, int lock, gateway_account *out);

int gateway_account_set_password(ccip_db *db, const char *id, const char *hash);
int gateway_account_set_contact(ccip_db *db, const char *id, const char *name, const char *email,
                                const char *mobile, const char **which);
/* A new secret, not yet in force (confirmed = 0), or confirmation of the
 * one there (secret NULL) with the step its first code was for. */
int gateway_account_set_totp(ccip_db *db, const char *id, const uint8_t *secret, int64_t step);
/* Records the time step of a code just accepted. */
int gateway_account_totp_used(ccip_db *db, const char *id, int64_t step);

/* Accounts after `after_id` (""), at most limit, optionally only those
 * holding a live binding of kind (NULL = any) and subject ("" = any), in id
 * order: their ids into ids[] (limit entries). Sets *n. */
int gateway_account_list(ccip_db *db, const char *after_id, int limit, const char *kind,
                         const char *subject, char (*ids)[CCIP_UUID_STRLEN + 1], size_t *n);

/* ---- bindings -------------------------------------------------------------- */

/* Every binding of an account (revoked ones too), oldest first, at most
 * GATEWAY_BINDINGS_MAX. Sets *n. */
int gateway_bindings_of(ccip_db *db, const char *account_id, gateway_binding *out, size_t *n);

/* One binding and its account's id (and login). lock: FOR UPDATE. */
int gateway_binding_get(ccip_db *db, const char *id, int lock, gateway_binding *out,
                        char account_id[CCIP_UUID_STRLEN + 1], char login[GATEWAY_LOGIN_MAX + 1]);

/* Inserts a binding (b->id set by the caller). Returns CCIP_DB_OK,
 * GATEWAY_STORE_NONE when the account already holds a live binding of
 * that kind and subject (nothing written), or a ccip_db_rc. */
int gateway_binding_insert(ccip_db *db, const char *account_id, const gateway_binding *b);

/* Moves a live binding to ACTIVE or REVOKED (by, reason). Returns
 * CCIP_DB_OK, GATEWAY_STORE_NONE when it is not live, or a ccip_db_rc. */
int gateway_binding_activate(ccip_db *db, const char *id, const char *by, const char *reason);
int gateway_binding_revoke(ccip_db *db, const char *id, const char *by, const char *reason);

/* Marks a pending organisation binding as the one that registered it. */
int gateway_binding_registered(ccip_db *db, const char *id);

/* Pending organisation bindings of uscc, with their accounts: those that
 * registered it and those that did not. At most max; sets *n. */
int gateway_bindings_pending(ccip_db *db, const char *uscc, gateway_binding *out,
                             char (*accounts)[CCIP_UUID_STRLEN + 1],
                             char (*logins)[GATEWAY_LOGIN_MAX + 1], size_t max, size_t *n);

/* The protobuf form of a binding (strings borrowed from b and login's
 * buffer, actor id made in the arena). NULL when memory ran out. */
Ccip__Gateway__Binding *gateway_binding_message(const gateway_binding *b, const char *login,
                                                ccip_arena *a);

/* The protobuf form of an account with its bindings, read from db. Returns
 * CCIP_DB_OK with *out (in the arena), GATEWAY_STORE_NONE or a ccip_db_rc. */
int gateway_account_message(ccip_db *db, const char *account_id, ccip_arena *a,
                            Ccip__Gateway__Account **out);

/* ---- sessions -------------------------------------------------------------- */

/* Starts a session. binding_id may be NULL (none). */
int gateway_session_insert(ccip_db *db, const uint8_t token_hash[32], const char *account_id,
                           const char *binding_id, int second_factor, int64_t absolute_s,
                           const char *client_addr);

/* The live session of a token hash (not ended, not past its absolute end,
 * seen within idle_s). Returns CCIP_DB_OK, GATEWAY_STORE_NONE or a
 * ccip_db_rc. */
int gateway_session_lookup(ccip_db *db, const uint8_t token_hash[32], int64_t idle_s,
                           gateway_session_row *out);

/* Notes that the session was used now. */
int gateway_session_touch(ccip_db *db, const uint8_t token_hash[32]);

/* Ends one session; or every live session of an account except `keep`
 * (NULL: all). *ended (may be NULL) = how many ended. */
int gateway_session_end(ccip_db *db, const uint8_t token_hash[32], int *ended);
int gateway_session_end_all(ccip_db *db, const char *account_id, const uint8_t *keep, int *ended);

/* Sets the session's active binding, or its second factor. */
int gateway_session_set_binding(ccip_db *db, const uint8_t token_hash[32], const char *binding_id);
int gateway_session_set_second_factor(ccip_db *db, const uint8_t token_hash[32]);

/* ---- sign-in throttling ---------------------------------------------------- */

typedef struct {
    int64_t free_failures; /* failures in a row before delays start */
    int64_t lock_failures; /* failures in a row that lock the key */
    int64_t lock_s;        /* how long a lock lasts; also how long failures are remembered */
} gateway_throttle_rule;

/* The latest not_before of the keys (UTC microseconds; 0 when none is
 * later than now). */
int gateway_throttle_wait(ccip_db *db, const char *key1, const char *key2, int64_t *until_us);

/* Counts a failure for key under rule: the delay after the n-th failure in
 * a row (n >= free_failures) is 2^(n - free_failures) seconds, at most
 * lock_s; from lock_failures on, lock_s. */
int gateway_throttle_fail(ccip_db *db, const char *key, const gateway_throttle_rule *rule);

/* Forgets the failures of key (a successful sign-in). */
int gateway_throttle_clear(ccip_db *db, const char *key);

/* ---- one-time tokens --------------------------------------------------------- */

typedef struct {
    char id[CCIP_UUID_STRLEN + 1];
    const char *purpose; /* "INVITATION" or "PASSWORD_RESET" */
    char email[256];
    const gateway_kind_info *kind; /* invitations */
    char subject[GATEWAY_SUBJECT_MAX + 1];
    char account_id[CCIP_UUID_STRLEN + 1]; /* resets */
    char created_by[GATEWAY_ACTOR_MAX + 1];
    int64_t expires_at_us;
} gateway_token_row;

int gateway_token_insert(ccip_db *db, const uint8_t token_hash[32], const gateway_token_row *t);

/* Uses up a token of that purpose that is unused and not expired, by
 * account `by` (NULL: recorded later). Returns CCIP_DB_OK with *out,
 * GATEWAY_STORE_NONE or a ccip_db_rc. */
int gateway_token_use(ccip_db *db, const uint8_t token_hash[32], const char *purpose,
                      gateway_token_row *out);
int gateway_token_used_by(ccip_db *db, const char *token_id, const char *account_id);

/* ---- audit ------------------------------------------------------------------- */

/* Appends an audit row. account_id may be NULL (an unknown login). */
int gateway_audit(ccip_db *db, const char *action, const char *outcome, const char *account_id,
                  const char *login, const char *actor, const char *client_addr,
                  const char *detail);

#endif
