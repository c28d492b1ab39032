#include "gateway_store.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"

#define US CCIP_SQL_US

/* Moved by every write that changes what a session acts as (below). */
static atomic_uint s_generation;

unsigned gateway_store_generation(void)
{
    return atomic_load(&s_generation);
}

void gateway_store_changed(void)
{
    atomic_fetch_add(&s_generation, 1);
}

/* ---- helpers --------------------------------------------------------------- */

static void s_copy(char *dst, size_t len, const PGresult *res, int row, int col)
{
    snprintf(dst, len, "%s", PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

/* A bytea cell in text form ("\x0a1b...") into out; returns the bytes
 * written (0 when NULL or too long). */
static size_t s_bytea(const PGresult *res, int row, int col, uint8_t *out, size_t max)
{
    if (PQgetisnull(res, row, col))
        return 0;
    const char *v = PQgetvalue(res, row, col);
    if (strncmp(v, "\\x", 2) != 0)
        return 0;
    v += 2;
    size_t n = strlen(v) / 2;
    if (n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned int byte;
        if (sscanf(v + 2 * i, "%2x", &byte) != 1)
            return 0;
        out[i] = (uint8_t)byte;
    }
    return n;
}

/* Runs stmt with text parameters, except the ones flagged in `binary`
 * (bit i: parameter i is a 32-byte hash). */
static int s_exec(ccip_db *db, const ccip_db_stmt *stmt, int n, const char *const *values,
                  unsigned binary, PGresult **res)
{
    int lengths[16] = {0}, formats[16] = {0};
    for (int i = 0; i < n && i < 16; i++)
        if (binary & (1u << i)) {
            lengths[i] = 32;
            formats[i] = 1;
        }
    return ccip_db_exec(db, stmt, n, values, lengths, formats, res);
}

/* ---- accounts ---------------------------------------------------------------- */

#define ACCOUNT_COLUMNS                                                                            \
    "id, login, name, email, mobile, password_hash, totp_secret, totp_confirmed, "                 \
    "totp_last_step, " US("created_at")

static void s_account_row(const PGresult *res, int row, gateway_account *a)
{
    memset(a, 0, sizeof *a);
    s_copy(a->id, sizeof a->id, res, row, 0);
    s_copy(a->login, sizeof a->login, res, row, 1);
    s_copy(a->name, sizeof a->name, res, row, 2);
    s_copy(a->email, sizeof a->email, res, row, 3);
    s_copy(a->mobile, sizeof a->mobile, res, row, 4);
    s_copy(a->password_hash, sizeof a->password_hash, res, row, 5);
    a->has_totp_secret =
        s_bytea(res, row, 6, a->totp_secret, sizeof a->totp_secret) == GATEWAY_TOTP_SECRET_BYTES;
    a->totp_confirmed = ccip_db_cell_bool(res, row, 7) && a->has_totp_secret;
    a->totp_last_step = ccip_db_cell_i64(res, row, 8);
    a->created_at_us = ccip_db_cell_i64(res, row, 9);
}

static const ccip_db_stmt S_ACCOUNT_INSERT = {
    "gateway_account_insert", "INSERT INTO account (id, login, name, email, mobile, password_hash) "
                              "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"};
static const ccip_db_stmt S_ACCOUNT_TAKEN = {
    "gateway_account_taken",
    "SELECT EXISTS (SELECT FROM account WHERE login = $1), "
    "EXISTS (SELECT FROM account WHERE lower(email) = lower($2) AND id <> $3::uuid)"};

static int s_taken(ccip_db *db, const char *login, const char *email, const char *id,
                   const char **which)
{
    PGresult *res = NULL;
    const char *v[] = {login, email, id};
    int rc = ccip_db_exec(db, &S_ACCOUNT_TAKEN, 3, v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    *which = ccip_db_cell_bool(res, 0, 0) ? "login" : "email";
    PQclear(res);
    return CCIP_DB_OK;
}

int gateway_account_insert(ccip_db *db, const gateway_account *a, const char **which)
{
    PGresult *res = NULL;
    const char *v[] = {a->id, a->login, a->name, a->email, a->mobile, a->password_hash};
    int rc = ccip_db_exec(db, &S_ACCOUNT_INSERT, 6, v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int inserted = atoi(PQcmdTuples(res)) == 1;
    PQclear(res);
    if (inserted)
        return CCIP_DB_OK;
    rc = s_taken(db, a->login, a->email, a->id, which);
    return rc != CCIP_DB_OK ? rc : GATEWAY_STORE_NONE;
}

static const ccip_db_stmt S_ACCOUNT_BY_LOGIN = {
    "gateway_account_by_login", "SELECT " ACCOUNT_COLUMNS " FROM account WHERE login = $1"};
static const ccip_db_stmt S_ACCOUNT_BY_ID = {
    "gateway_account_by_id", "SELECT " ACCOUNT_COLUMNS " FROM account WHERE id = $1::uuid"};
static const ccip_db_stmt S_ACCOUNT_BY_ID_LOCK = {"gateway_account_by_id_lock",
                                                  "SELECT " ACCOUNT_COLUMNS
                                                  " FROM account WHERE id = $1::uuid FOR UPDATE"};

static int s_account_one(ccip_db *db, const ccip_db_stmt *st, const char *key, gateway_account *out)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, st, 1, &key, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    rc = PQntuples(res) == 1 ? CCIP_DB_OK : GATEWAY_STORE_NONE;
    if (rc == CCIP_DB_OK)
        s_account_row(res, 0, out);
    PQclear(res);
    return rc;
}

int gateway_account_by_login(ccip_db *db, const char *login, gateway_account *out)
{
    return s_account_one(db, &S_ACCOUNT_BY_LOGIN, login, out);
}

int gateway_account_by_id(ccip_db *db, const char *id, int lock, gateway_account *out)
{
    if (!ccip_uuid_valid(id))
        return GATEWAY_STORE_NONE;
    return s_account_one(db, lock ? &S_ACCOUNT_BY_ID_LOCK : &S_ACCOUNT_BY_ID, id, out);
}

static const ccip_db_stmt S_SET_PASSWORD = {
    "gateway_account_set_password",
    "UPDATE account SET password_hash = $2, updated_at = now() WHERE id = $1::uuid"};

int gateway_account_set_password(ccip_db *db, const char *id, const char *hash)
{
    gateway_store_changed();
    const char *v[] = {id, hash};
    return ccip_db_exec(db, &S_SET_PASSWORD, 2, v, NULL, NULL, NULL);
}

static const ccip_db_stmt S_SET_CONTACT = {
    "gateway_account_set_contact",
    "UPDATE account SET name = $2, email = $3, mobile = $4, updated_at = now() "
    "WHERE id = $1::uuid AND NOT EXISTS (SELECT FROM account o WHERE lower(o.email) = "
    "lower($3) AND o.id <> $1::uuid)"};

int gateway_account_set_contact(ccip_db *db, const char *id, const char *name, const char *email,
                                const char *mobile, const char **which)
{
    PGresult *res = NULL;
    const char *v[] = {id, name, email, mobile};
    int rc = ccip_db_exec(db, &S_SET_CONTACT, 4, v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int updated = atoi(PQcmdTuples(res)) == 1;
    PQclear(res);
    *which = "email";
    return updated ? CCIP_DB_OK : GATEWAY_STORE_NONE;
}

static const ccip_db_stmt S_TOTP_NEW = {
    "gateway_account_totp_new",
    "UPDATE account SET totp_secret = $2::bytea, totp_confirmed = false, updated_at = now() "
    "WHERE id = $1::uuid"};
static const ccip_db_stmt S_TOTP_CONFIRM = {
    "gateway_account_totp_confirm",
    "UPDATE account SET totp_confirmed = true, totp_last_step = $2::bigint, updated_at = now() "
    "WHERE id = $1::uuid AND totp_secret IS NOT NULL"};
static const ccip_db_stmt S_TOTP_USED = {
    "gateway_account_totp_used",
    "UPDATE account SET totp_last_step = greatest(totp_last_step, $2::bigint) WHERE id = "
    "$1::uuid"};

int gateway_account_set_totp(ccip_db *db, const char *id, const uint8_t *secret, int64_t step)
{
    if (secret) {
        const char *v[] = {id, (const char *)secret};
        int lengths[] = {0, GATEWAY_TOTP_SECRET_BYTES}, formats[] = {0, 1};
        return ccip_db_exec(db, &S_TOTP_NEW, 2, v, lengths, formats, NULL);
    }
    char s[21];
    const char *v[] = {id, ccip_i64_text(step, s)};
    return ccip_db_exec(db, &S_TOTP_CONFIRM, 2, v, NULL, NULL, NULL);
}

int gateway_account_totp_used(ccip_db *db, const char *id, int64_t step)
{
    char s[21];
    const char *v[] = {id, ccip_i64_text(step, s)};
    return ccip_db_exec(db, &S_TOTP_USED, 2, v, NULL, NULL, NULL);
}

static const ccip_db_stmt S_ACCOUNT_LIST = {
    "gateway_account_list",
    "SELECT a.id FROM account a WHERE ($1 = '' OR a.id > $1::uuid) AND ($3 = '' OR EXISTS "
    "(SELECT FROM binding b WHERE b.account_id = a.id AND b.kind = $3 AND b.status <> 'REVOKED' "
    "AND ($4 = '' OR b.subject = $4))) ORDER BY a.id LIMIT $2::int"};

int gateway_account_list(ccip_db *db, const char *after_id, int limit, const char *kind,
                         const char *subject, char (*ids)[CCIP_UUID_STRLEN + 1], size_t *n)
{
    *n = 0;
    char lim[21];
    const char *v[] = {after_id, ccip_i64_text(limit, lim), kind ? kind : "", subject};
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_ACCOUNT_LIST, 4, v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    for (int i = 0; i < PQntuples(res) && i < limit; i++)
        s_copy(ids[(*n)++], CCIP_UUID_STRLEN + 1, res, i, 0);
    PQclear(res);
    return CCIP_DB_OK;
}

/* ---- bindings ------------------------------------------------------------------ */

#define BINDING_COLUMNS                                                                            \
    "b.id, b.kind, b.subject, b.status, b.registered_at IS NOT NULL, " US(                         \
        "b.granted_at") ", "                                                                       \
                        "b.granted_by, " US(                                                       \
                            "b.revoked_at") ", coalesce(b.revoked_by, ''), b.reason"
#define BINDING_NCOLUMNS 10

static void s_binding_row(const PGresult *res, int row, int c, gateway_binding *b)
{
    memset(b, 0, sizeof *b);
    s_copy(b->id, sizeof b->id, res, row, c);
    b->kind = gateway_kind_by_name(PQgetvalue(res, row, c + 1));
    s_copy(b->subject, sizeof b->subject, res, row, c + 2);
    b->status = (Ccip__Gateway__BindingStatus)ccip_enum_value(
        &ccip__gateway__binding_status__descriptor, PQgetvalue(res, row, c + 3));
    b->registered = ccip_db_cell_bool(res, row, c + 4);
    b->granted_at_us = ccip_db_cell_i64(res, row, c + 5);
    s_copy(b->granted_by, sizeof b->granted_by, res, row, c + 6);
    b->revoked_at_us = ccip_db_cell_i64(res, row, c + 7);
    s_copy(b->revoked_by, sizeof b->revoked_by, res, row, c + 8);
    s_copy(b->reason, sizeof b->reason, res, row, c + 9);
}

static const ccip_db_stmt S_BINDINGS_OF = {
    "gateway_bindings_of", "SELECT " BINDING_COLUMNS " FROM binding b WHERE b.account_id = "
                           "$1::uuid ORDER BY b.granted_at, b.id LIMIT 32"};
_Static_assert(GATEWAY_BINDINGS_MAX == 32, "LIMIT of gateway_bindings_of");

int gateway_bindings_of(ccip_db *db, const char *account_id, gateway_binding *out, size_t *n)
{
    *n = 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_BINDINGS_OF, 1, &account_id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    for (int i = 0; i < PQntuples(res) && *n < GATEWAY_BINDINGS_MAX; i++) {
        s_binding_row(res, i, 0, &out[*n]);
        if (out[*n].kind)
            (*n)++;
    }
    PQclear(res);
    return CCIP_DB_OK;
}

static const ccip_db_stmt S_BINDING_GET = {
    "gateway_binding_get", "SELECT " BINDING_COLUMNS ", b.account_id, a.login FROM binding b "
                           "JOIN account a ON a.id = b.account_id WHERE b.id = $1::uuid"};
static const ccip_db_stmt S_BINDING_GET_LOCK = {
    "gateway_binding_get_lock",
    "SELECT " BINDING_COLUMNS ", b.account_id, a.login FROM binding b JOIN account a ON a.id = "
    "b.account_id WHERE b.id = $1::uuid FOR UPDATE OF b"};

int gateway_binding_get(ccip_db *db, const char *id, int lock, gateway_binding *out,
                        char account_id[CCIP_UUID_STRLEN + 1], char login[GATEWAY_LOGIN_MAX + 1])
{
    if (!ccip_uuid_valid(id))
        return GATEWAY_STORE_NONE;
    PGresult *res = NULL;
    int rc =
        ccip_db_exec(db, lock ? &S_BINDING_GET_LOCK : &S_BINDING_GET, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    rc = PQntuples(res) == 1 ? CCIP_DB_OK : GATEWAY_STORE_NONE;
    if (rc == CCIP_DB_OK) {
        s_binding_row(res, 0, 0, out);
        s_copy(account_id, CCIP_UUID_STRLEN + 1, res, 0, BINDING_NCOLUMNS);
        s_copy(login, GATEWAY_LOGIN_MAX + 1, res, 0, BINDING_NCOLUMNS + 1);
        if (!out->kind)
            rc = GATEWAY_STORE_NONE;
    }
    PQclear(res);
    return rc;
}

static const ccip_db_stmt S_BINDING_INSERT = {
    "gateway_binding_insert",
    "INSERT INTO binding (id, account_id, kind, subject, status, granted_by, reason) "
    "VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"};

int gateway_binding_insert(ccip_db *db, const char *account_id, const gateway_binding *b)
{
    gateway_store_changed();
    const char *status = ccip_enum_name(&ccip__gateway__binding_status__descriptor, b->status);
    const char *v[] = {
        b->id,         account_id, b->kind->name, b->subject, status ? status : "ACTIVE",
        b->granted_by, b->reason};
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_BINDING_INSERT, 7, v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int inserted = atoi(PQcmdTuples(res)) == 1;
    PQclear(res);
    return inserted ? CCIP_DB_OK : GATEWAY_STORE_NONE;
}

static const ccip_db_stmt S_BINDING_ACTIVATE = {
    "gateway_binding_activate",
    "UPDATE binding SET status = 'ACTIVE', granted_at = now(), granted_by = $2, reason = $3 "
    "WHERE id = $1::uuid AND status = 'PENDING'"};
static const ccip_db_stmt S_BINDING_REVOKE = {
    "gateway_binding_revoke",
    "UPDATE binding SET status = 'REVOKED', revoked_at = now(), revoked_by = $2, reason = $3 "
    "WHERE id = $1::uuid AND status <> 'REVOKED'"};
static const ccip_db_stmt S_BINDING_REGISTERED = {
    "gateway_binding_registered",
    "UPDATE binding SET registered_at = coalesce(registered_at, now()) WHERE id = $1::uuid AND "
    "status = 'PENDING'"};

static int s_update_one(ccip_db *db, const ccip_db_stmt *st, int n, const char *const *v)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, st, n, v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int changed = atoi(PQcmdTuples(res)) >= 1;
    PQclear(res);
    return changed ? CCIP_DB_OK : GATEWAY_STORE_NONE;
}

int gateway_binding_activate(ccip_db *db, const char *id, const char *by, const char *reason)
{
    gateway_store_changed();
    const char *v[] = {id, by, reason};
    return s_update_one(db, &S_BINDING_ACTIVATE, 3, v);
}

int gateway_binding_revoke(ccip_db *db, const char *id, const char *by, const char *reason)
{
    gateway_store_changed();
    const char *v[] = {id, by, reason};
    return s_update_one(db, &S_BINDING_REVOKE, 3, v);
}

int gateway_binding_registered(ccip_db *db, const char *id)
{
    gateway_store_changed();
    return s_update_one(db, &S_BINDING_REGISTERED, 1, &id);
}

static const ccip_db_stmt S_BINDINGS_PENDING = {
    "gateway_bindings_pending",
    "SELECT " BINDING_COLUMNS ", b.account_id, a.login FROM binding b JOIN account a ON a.id = "
    "b.account_id WHERE b.kind = 'ORGANISATION' AND b.subject = $1 AND b.status = 'PENDING' "
    "ORDER BY b.id FOR UPDATE OF b"};

int gateway_bindings_pending(ccip_db *db, const char *uscc, gateway_binding *out,
                             char (*accounts)[CCIP_UUID_STRLEN + 1],
                             char (*logins)[GATEWAY_LOGIN_MAX + 1], size_t max, size_t *n)
{
    *n = 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_BINDINGS_PENDING, 1, &uscc, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    for (int i = 0; i < PQntuples(res) && *n < max; i++) {
        s_binding_row(res, i, 0, &out[*n]);
        s_copy(accounts[*n], CCIP_UUID_STRLEN + 1, res, i, BINDING_NCOLUMNS);
        s_copy(logins[*n], GATEWAY_LOGIN_MAX + 1, res, i, BINDING_NCOLUMNS + 1);
        if (out[*n].kind)
            (*n)++;
    }
    PQclear(res);
    return CCIP_DB_OK;
}

Ccip__Gateway__Binding *gateway_binding_message(const gateway_binding *b, const char *login,
                                                ccip_arena *a)
{
    Ccip__Gateway__Binding *m = ccip_arena_alloc(a, sizeof *m);
    char actor[GATEWAY_ACTOR_MAX + 1];
    size_t nroles = 0;
    while (b->kind->roles[nroles])
        nroles++;
    char **roles = ccip_arena_alloc(a, (nroles + 1) * sizeof *roles);
    if (!m || !roles)
        return NULL;
    *m = (Ccip__Gateway__Binding)CCIP__GATEWAY__BINDING__INIT;
    m->id = ccip_arena_strdup(a, b->id);
    m->kind = b->kind->kind;
    m->subject = ccip_arena_strdup(a, b->subject);
    m->status = b->status;
    gateway_binding_actor(b->kind, b->subject, login, actor, sizeof actor);
    m->actor_id = ccip_arena_strdup(a, actor);
    for (size_t i = 0; i < nroles; i++)
        roles[i] = (char *)b->kind->roles[i];
    m->roles = roles;
    m->n_roles = nroles;
    m->needs_totp = b->kind->needs_totp;
    m->granted_at_us = b->granted_at_us;
    m->granted_by = ccip_arena_strdup(a, b->granted_by);
    m->revoked_at_us = b->revoked_at_us;
    m->revoked_by = ccip_arena_strdup(a, b->revoked_by);
    m->reason = ccip_arena_strdup(a, b->reason);
    return ccip_arena_failed(a) ? NULL : m;
}

int gateway_account_message(ccip_db *db, const char *account_id, ccip_arena *a,
                            Ccip__Gateway__Account **out)
{
    *out = NULL;
    gateway_account acc;
    int rc = gateway_account_by_id(db, account_id, 0, &acc);
    if (rc != CCIP_DB_OK)
        return rc;
    gateway_binding *bs = malloc(GATEWAY_BINDINGS_MAX * sizeof *bs);
    size_t nb = 0;
    if (!bs)
        return CCIP_DB_ERROR;
    rc = gateway_bindings_of(db, account_id, bs, &nb);
    if (rc != CCIP_DB_OK) {
        free(bs);
        return rc;
    }
    Ccip__Gateway__Account *m = ccip_arena_alloc(a, sizeof *m);
    Ccip__Gateway__Binding **list = ccip_arena_alloc(a, (nb + 1) * sizeof *list);
    if (m && list) {
        *m = (Ccip__Gateway__Account)CCIP__GATEWAY__ACCOUNT__INIT;
        m->id = ccip_arena_strdup(a, acc.id);
        m->login = ccip_arena_strdup(a, acc.login);
        m->name = ccip_arena_strdup(a, acc.name);
        m->email = ccip_arena_strdup(a, acc.email);
        m->mobile = ccip_arena_strdup(a, acc.mobile);
        m->totp_enrolled = acc.totp_confirmed;
        m->created_at_us = acc.created_at_us;
        for (size_t i = 0; i < nb; i++)
            list[i] = gateway_binding_message(&bs[i], acc.login, a);
        m->bindings = list;
        m->n_bindings = nb;
    }
    free(bs);
    if (!m || !list || ccip_arena_failed(a))
        return CCIP_DB_ERROR;
    *out = m;
    return CCIP_DB_OK;
}

/* ---- sessions ---------------------------------------------------------------------- */

static const ccip_db_stmt S_SESSION_INSERT = {
    "gateway_session_insert",
    "INSERT INTO session (token_hash, account_id, active_binding, second_factor, expires_at, "
    "client_addr) VALUES ($1, $2::uuid, nullif($3, '')::uuid, $4::boolean, now() + "
    "make_interval(secs => $5::bigint), $6)"};

int gateway_session_insert(ccip_db *db, const uint8_t token_hash[32], const char *account_id,
                           const char *binding_id, int second_factor, int64_t absolute_s,
                           const char *client_addr)
{
    char abs[21];
    const char *v[] = {(const char *)token_hash,       account_id,
                       binding_id ? binding_id : "",   second_factor ? "true" : "false",
                       ccip_i64_text(absolute_s, abs), client_addr};
    return s_exec(db, &S_SESSION_INSERT, 6, v, 1u, NULL);
}

/* The active binding only when it is still live: a revoked binding acts
 * no more, in every session at once. */
static const ccip_db_stmt S_SESSION_LOOKUP = {
    "gateway_session_lookup",
    "SELECT s.account_id, a.login, s.second_factor, " US("s.expires_at") ", " US(
        "s.last_seen_at") ", b.id IS NOT NULL AND b.status <> 'REVOKED', " BINDING_COLUMNS
                          " FROM session s JOIN account a ON a.id = s.account_id LEFT JOIN binding "
                          "b ON b.id = "
                          "s.active_binding WHERE s.token_hash = $1 AND s.ended_at IS NULL AND "
                          "s.expires_at > now() "
                          "AND s.last_seen_at > now() - make_interval(secs => $2::bigint)"};

int gateway_session_lookup(ccip_db *db, const uint8_t token_hash[32], int64_t idle_s,
                           gateway_session_row *out)
{
    char idle[21];
    const char *v[] = {(const char *)token_hash, ccip_i64_text(idle_s, idle)};
    PGresult *res = NULL;
    int rc = s_exec(db, &S_SESSION_LOOKUP, 2, v, 1u, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    rc = PQntuples(res) == 1 ? CCIP_DB_OK : GATEWAY_STORE_NONE;
    if (rc == CCIP_DB_OK) {
        memset(out, 0, sizeof *out);
        memcpy(out->token_hash, token_hash, 32);
        s_copy(out->account_id, sizeof out->account_id, res, 0, 0);
        s_copy(out->login, sizeof out->login, res, 0, 1);
        out->second_factor = ccip_db_cell_bool(res, 0, 2);
        out->expires_at_us = ccip_db_cell_i64(res, 0, 3);
        out->last_seen_us = ccip_db_cell_i64(res, 0, 4);
        out->has_binding = ccip_db_cell_bool(res, 0, 5);
        if (out->has_binding) {
            s_binding_row(res, 0, 6, &out->binding);
            out->has_binding = out->binding.kind != NULL;
        }
    }
    PQclear(res);
    return rc;
}

static const ccip_db_stmt S_SESSION_TOUCH = {
    "gateway_session_touch", "UPDATE session SET last_seen_at = now() WHERE token_hash = $1"};

int gateway_session_touch(ccip_db *db, const uint8_t token_hash[32])
{
    const char *v[] = {(const char *)token_hash};
    return s_exec(db, &S_SESSION_TOUCH, 1, v, 1u, NULL);
}

static const ccip_db_stmt S_SESSION_END = {
    "gateway_session_end",
    "UPDATE session SET ended_at = now() WHERE token_hash = $1 AND ended_at IS NULL"};
static const ccip_db_stmt S_SESSION_END_ALL = {
    "gateway_session_end_all",
    "UPDATE session SET ended_at = now() WHERE account_id = $1::uuid AND ended_at IS NULL AND "
    "($2::bytea IS NULL OR token_hash <> $2::bytea)"};

static int s_count(ccip_db *db, const ccip_db_stmt *st, int n, const char *const *v,
                   const int *lengths, const int *formats, int *count)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, st, n, v, lengths, formats, &res);
    if (rc == CCIP_DB_OK && count)
        *count = atoi(PQcmdTuples(res));
    PQclear(res);
    return rc;
}

int gateway_session_end(ccip_db *db, const uint8_t token_hash[32], int *ended)
{
    gateway_store_changed();
    const char *v[] = {(const char *)token_hash};
    int lengths[] = {32}, formats[] = {1};
    return s_count(db, &S_SESSION_END, 1, v, lengths, formats, ended);
}

int gateway_session_end_all(ccip_db *db, const char *account_id, const uint8_t *keep, int *ended)
{
    gateway_store_changed();
    const char *v[] = {account_id, (const char *)keep};
    int lengths[] = {0, keep ? 32 : 0}, formats[] = {0, 1};
    return s_count(db, &S_SESSION_END_ALL, 2, v, lengths, formats, ended);
}

static const ccip_db_stmt S_SESSION_BINDING = {
    "gateway_session_set_binding",
    "UPDATE session SET active_binding = $2::uuid WHERE token_hash = $1"};
static const ccip_db_stmt S_SESSION_SECOND = {
    "gateway_session_set_second_factor",
    "UPDATE session SET second_factor = true WHERE token_hash = $1"};

int gateway_session_set_binding(ccip_db *db, const uint8_t token_hash[32], const char *binding_id)
{
    gateway_store_changed();
    const char *v[] = {(const char *)token_hash, binding_id};
    return s_exec(db, &S_SESSION_BINDING, 2, v, 1u, NULL);
}

int gateway_session_set_second_factor(ccip_db *db, const uint8_t token_hash[32])
{
    gateway_store_changed();
    const char *v[] = {(const char *)token_hash};
    return s_exec(db, &S_SESSION_SECOND, 1, v, 1u, NULL);
}

/* ---- throttling ------------------------------------------------------------------------- */

static const ccip_db_stmt S_THROTTLE_WAIT = {
    "gateway_throttle_wait",
    "SELECT coalesce(max(" US("not_before") "), 0) FROM signin_throttle WHERE key IN ($1, $2) "
                                            "AND not_before > now()"};

int gateway_throttle_wait(ccip_db *db, const char *key1, const char *key2, int64_t *until_us)
{
    const char *v[] = {key1, key2};
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_THROTTLE_WAIT, 2, v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    *until_us = ccip_db_cell_i64(res, 0, 0);
    PQclear(res);
    return CCIP_DB_OK;
}

/* Failures older than the lock's length are forgotten: "in a row" means
 * within that time. $2 free failures, $3 lock failures, $4 lock seconds. */
static const ccip_db_stmt S_THROTTLE_FAIL = {
    "gateway_throttle_fail",
    "WITH n AS (SELECT coalesce((SELECT CASE WHEN last_failure_at < now() - make_interval(secs "
    "=> $4::bigint) THEN 0 ELSE failures END FROM signin_throttle WHERE key = $1), 0) + 1 AS f) "
    "INSERT INTO signin_throttle (key, failures, last_failure_at, not_before) "
    "SELECT $1, n.f, now(), now() + CASE WHEN n.f >= $3::int THEN make_interval(secs => "
    "$4::bigint) WHEN n.f >= $2::int THEN make_interval(secs => least($4::bigint, power(2, "
    "least(n.f - $2::int, 30))::bigint)) ELSE interval '0' END FROM n "
    "ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_failure_at = "
    "excluded.last_failure_at, not_before = excluded.not_before"};

int gateway_throttle_fail(ccip_db *db, const char *key, const gateway_throttle_rule *rule)
{
    char f[21], l[21], s[21];
    const char *v[] = {key, ccip_i64_text(rule->free_failures, f),
                       ccip_i64_text(rule->lock_failures, l), ccip_i64_text(rule->lock_s, s)};
    return ccip_db_exec(db, &S_THROTTLE_FAIL, 4, v, NULL, NULL, NULL);
}

static const ccip_db_stmt S_THROTTLE_CLEAR = {"gateway_throttle_clear",
                                              "DELETE FROM signin_throttle WHERE key = $1"};

int gateway_throttle_clear(ccip_db *db, const char *key)
{
    return ccip_db_exec(db, &S_THROTTLE_CLEAR, 1, &key, NULL, NULL, NULL);
}

/* ---- one-time tokens ----------------------------------------------------------------------- */

static const ccip_db_stmt S_TOKEN_INSERT = {
    "gateway_token_insert",
    "INSERT INTO one_time_token (id, token_hash, purpose, email, kind, subject, account_id, "
    "created_by, expires_at) VALUES ($1::uuid, $2, $3, $4, nullif($5, ''), $6, nullif($7, "
    "'')::uuid, $8, " CCIP_SQL_TS("$9") ")"};

int gateway_token_insert(ccip_db *db, const uint8_t token_hash[32], const gateway_token_row *t)
{
    char exp[21];
    const char *v[] = {t->id,
                       (const char *)token_hash,
                       t->purpose,
                       t->email,
                       t->kind ? t->kind->name : "",
                       t->subject,
                       t->account_id,
                       t->created_by,
                       ccip_i64_text(t->expires_at_us, exp)};
    return s_exec(db, &S_TOKEN_INSERT, 9, v, 1u << 1, NULL);
}

static const ccip_db_stmt S_TOKEN_USE = {
    "gateway_token_use",
    "UPDATE one_time_token SET used_at = now() WHERE token_hash = $1 AND purpose = $2 AND "
    "used_at IS NULL AND expires_at > now() RETURNING id, email, coalesce(kind, ''), subject, "
    "coalesce(account_id::text, ''), created_by, " US("expires_at")};

int gateway_token_use(ccip_db *db, const uint8_t token_hash[32], const char *purpose,
                      gateway_token_row *out)
{
    const char *v[] = {(const char *)token_hash, purpose};
    PGresult *res = NULL;
    int rc = s_exec(db, &S_TOKEN_USE, 2, v, 1u, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    rc = PQntuples(res) == 1 ? CCIP_DB_OK : GATEWAY_STORE_NONE;
    if (rc == CCIP_DB_OK) {
        memset(out, 0, sizeof *out);
        s_copy(out->id, sizeof out->id, res, 0, 0);
        out->purpose = purpose;
        s_copy(out->email, sizeof out->email, res, 0, 1);
        out->kind = gateway_kind_by_name(PQgetvalue(res, 0, 2));
        s_copy(out->subject, sizeof out->subject, res, 0, 3);
        s_copy(out->account_id, sizeof out->account_id, res, 0, 4);
        s_copy(out->created_by, sizeof out->created_by, res, 0, 5);
        out->expires_at_us = ccip_db_cell_i64(res, 0, 6);
    }
    PQclear(res);
    return rc;
}

static const ccip_db_stmt S_TOKEN_USED_BY = {
    "gateway_token_used_by", "UPDATE one_time_token SET used_by = $2::uuid WHERE id = $1::uuid"};

int gateway_token_used_by(ccip_db *db, const char *token_id, const char *account_id)
{
    const char *v[] = {token_id, account_id};
    return ccip_db_exec(db, &S_TOKEN_USED_BY, 2, v, NULL, NULL, NULL);
}

/* ---- audit ---------------------------------------------------------------------------------- */

static const ccip_db_stmt S_AUDIT = {
    "gateway_audit",
    "INSERT INTO audit (action, outcome, account_id, login, actor, client_addr, detail) "
    "VALUES ($1, $2, nullif($3, '')::uuid, $4, $5, $6, $7)"};

int gateway_audit(ccip_db *db, const char *action, const char *outcome, const char *account_id,
                  const char *login, const char *actor, const char *client_addr, const char *detail)
{
    const char *v[] = {action,
                       outcome,
                       account_id ? account_id : "",
                       login ? login : "",
                       actor ? actor : "",
                       client_addr ? client_addr : "",
                       detail ? detail : ""};
    return ccip_db_exec(db, &S_AUDIT, 7, v, NULL, NULL, NULL);
}
