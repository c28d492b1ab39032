#include "gateway_self.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_outbox.h"
#include "ccip_validate.h"
#include "gateway_bindings.h"
#include "gateway_crypto.h"
#include "gateway_store.h"

#define DB_WAIT_MS     5000
#define TX_ATTEMPTS    3
#define NAME_MAX_CHARS 100
#define SIGNIN_FAILED  "the login, the password or the code is wrong"
#define SCHEMA         "gateway"

/* The hash an unknown login's password is checked against, made at start
 * with the configured cost, so that both take the same time. */
static char s_dummy_hash[GATEWAY_PWHASH_MAX];

int gateway_self_init(const gateway_config *cfg, char *err, size_t errlen)
{
    char pw[GATEWAY_TOKEN_LEN + 1];
    gateway_token_new(pw);
    if (gateway_password_hash(pw, (uint64_t)cfg->argon2_ops, (uint64_t)cfg->argon2_mem_kib,
                              s_dummy_hash) < 0) {
        snprintf(err, errlen,
                 "could not hash a password with argon2id (%lld passes, %lld KiB): "
                 "out of memory?",
                 (long long)cfg->argon2_ops, (long long)cfg->argon2_mem_kib);
        return -1;
    }
    return 0;
}

/* ---- shared pieces ------------------------------------------------------------------ */

/* What a transaction function leaves for its caller. */
typedef struct {
    gateway_request *rq;
    Ccip__Status status; /* a refusal (rolled back) when not OK */
    char sentence[400];
    char err[300]; /* a failed statement's reason */
} s_tx;

static int s_refuse(s_tx *t, Ccip__Status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int s_refuse(s_tx *t, Ccip__Status status, const char *fmt, ...)
{
    t->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->sentence, sizeof t->sentence, fmt, ap);
    va_end(ap);
    return -1;
}

/* Runs fn in a transaction on a pooled connection. Returns 0 when it
 * committed; otherwise the request is answered (the refusal, or 503/500)
 * and -1 returned. */
static int s_run(gateway_request *rq, ccip_db_tx_fn fn, s_tx *t)
{
    t->rq = rq;
    t->status = CCIP__STATUS__OK;
    gateway_runtime *rt = gateway_request_runtime(rq);
    ccip_db *db = gateway_db_acquire(rt, DB_WAIT_MS);
    if (!db) {
        gateway_reply_problem(rq, 503, "UNAVAILABLE", "the gateway's database is busy; try again");
        return -1;
    }
    unsigned generation = gateway_store_generation();
    int rc = ccip_db_tx(db, CCIP_DB_READ_COMMITTED, TX_ATTEMPTS, fn, t);
    /* what the transaction changed about sessions is committed now: a
     * session looked up while it ran must not be served from the cache */
    if (gateway_store_generation() != generation)
        gateway_store_changed();
    if (rc != 0 && t->status == CCIP__STATUS__OK)
        snprintf(t->err, sizeof t->err, "%s", ccip_db_error(db));
    gateway_db_release(rt, db);
    if (rc == 0)
        return 0;
    if (t->status != CCIP__STATUS__OK)
        gateway_reply_status(rq, t->status, t->sentence);
    else if (rc == CCIP_DB_RETRYABLE)
        gateway_reply_problem(rq, 503, "UNAVAILABLE", "the gateway's database did not answer: %s",
                              t->err);
    else {
        ccip_log_warn("a gateway transaction failed", "path", gateway_request_path(rq), "reason",
                      t->err);
        gateway_reply_problem(rq, 500, "INTERNAL", "the gateway could not write its records: %s",
                              t->err);
    }
    return -1;
}

/* Appends an event about an account, in the transaction on db. */
static int s_emit(ccip_db *db, s_tx *t, const char *type, const char *account_id, const char *actor,
                  const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        snprintf(t->err, sizeof t->err, "out of memory");
        return CCIP_DB_ERROR;
    }
    protobuf_c_message_pack(msg, buf);
    gateway_runtime *rt = gateway_request_runtime(t->rq);
    ccip_outbox_event ev = {.type = type,
                            .aggregate_type = "account",
                            .aggregate_id = account_id,
                            .payload = buf,
                            .payload_len = len,
                            .correlation_id = gateway_request_id(t->rq),
                            .causation_id = gateway_request_id(t->rq),
                            .actor_id = actor,
                            .actor_role = "self",
                            .source_instance = gateway_instance(rt)};
    int rc = ccip_outbox_append(db, SCHEMA, &ev, t->err, sizeof t->err);
    free(buf);
    return rc;
}

static int s_emit_binding(ccip_db *db, s_tx *t, const char *type, const char *account_id,
                          const char *login, const gateway_binding *b)
{
    ccip_arena *a = ccip_arena_new();
    Ccip__Gateway__BindingChanged ev = CCIP__GATEWAY__BINDING_CHANGED__INIT;
    ev.account_id = (char *)account_id;
    ev.login = (char *)login;
    ev.binding = a ? gateway_binding_message(b, login, a) : NULL;
    char actor[GATEWAY_ACTOR_MAX + 1];
    snprintf(actor, sizeof actor, "person:%s", login);
    int rc = ev.binding ? s_emit(db, t, type, account_id, actor, &ev.base) : CCIP_DB_ERROR;
    ccip_arena_destroy(&a);
    return rc;
}

/* Lower-cases a login as typed into out (at most GATEWAY_LOGIN_MAX bytes
 * kept). */
static void s_login_norm(const char *in, char out[GATEWAY_LOGIN_MAX + 1])
{
    /* cut on a character boundary: the login as typed goes into the audit,
     * a text column, and half a UTF-8 character would make that fail */
    size_t len = in ? strlen(in) : 0;
    size_t max =
        ccip_utf8_boundary(in ? in : "", len < GATEWAY_LOGIN_MAX ? len : GATEWAY_LOGIN_MAX);
    size_t n = 0;
    for (; n < max; n++)
        out[n] = (char)tolower((unsigned char)in[n]);
    out[n] = '\0';
}

static int s_check_name(const char *name, char *err, size_t errlen)
{
    return ccip_text_check("name", name, 1, NAME_MAX_CHARS, 0, err, errlen);
}

static gateway_throttle_rule s_rule_login(const gateway_config *cfg)
{
    return (gateway_throttle_rule){cfg->throttle_free_failures, cfg->throttle_lock_failures,
                                   cfg->throttle_lock_s};
}

static gateway_throttle_rule s_rule_addr(const gateway_config *cfg)
{
    int64_t free_ = cfg->throttle_addr_failures;
    return (gateway_throttle_rule){free_, free_ * 2, cfg->throttle_lock_s};
}

/* The binding to act as: the one asked for (it must be live), else the
 * first active one that the session may use, else the first active one,
 * else the first pending one. NULL when none. */
static const gateway_binding *s_choose(const gateway_binding *bs, size_t n, const char *wanted,
                                       int second_factor, s_tx *t)
{
    if (wanted && wanted[0]) {
        for (size_t i = 0; i < n; i++)
            if (strcmp(bs[i].id, wanted) == 0 &&
                bs[i].status != CCIP__GATEWAY__BINDING_STATUS__REVOKED)
                return &bs[i];
        s_refuse(t, CCIP__STATUS__NOT_FOUND,
                 "field `binding_id`: this account holds no live binding %s", wanted);
        return NULL;
    }
    for (int pass = 0; pass < 3; pass++)
        for (size_t i = 0; i < n; i++) {
            const gateway_binding *b = &bs[i];
            int active = b->status == CCIP__GATEWAY__BINDING_STATUS__ACTIVE;
            if ((pass == 0 && active && (second_factor || !b->kind->needs_totp)) ||
                (pass == 1 && active) ||
                (pass == 2 && b->status == CCIP__GATEWAY__BINDING_STATUS__PENDING))
                return b;
        }
    return NULL;
}

/* Answers with the session: the account with its bindings, the active
 * binding, the CSRF token. */
static void s_reply_session(gateway_request *rq, const char *account_id, const char *token,
                            const char *binding_id, int second_factor, int64_t expires_at_us)
{
    gateway_runtime *rt = gateway_request_runtime(rq);
    ccip_db *db = gateway_db_acquire(rt, DB_WAIT_MS);
    ccip_arena *a = ccip_arena_new();
    Ccip__Gateway__SessionReply reply = CCIP__GATEWAY__SESSION_REPLY__INIT;
    int rc = db && a ? gateway_account_message(db, account_id, a, &reply.account) : -1;
    gateway_db_release(rt, db);
    if (rc != CCIP_DB_OK) {
        ccip_arena_destroy(&a);
        gateway_reply_problem(rq, 503, "UNAVAILABLE", "could not read the account; try again");
        return;
    }
    char csrf[GATEWAY_TOKEN_LEN + 1];
    gateway_csrf_of(token, csrf);
    reply.active_binding_id = (char *)(binding_id ? binding_id : "");
    reply.csrf_token = csrf;
    reply.expires_at_us = expires_at_us;
    reply.idle_timeout_s = gateway_cfg(rt)->session_idle_s;
    reply.second_factor = second_factor;
    gateway_reply_message(rq, &reply.base);
    ccip_arena_destroy(&a);
}

/* ---- POST /api/v1/session: sign in ------------------------------------------------------------
 */

typedef struct {
    s_tx t;
    const Ccip__Gateway__SignInRequest *in;
    const gateway_config *cfg;
    char login[GATEWAY_LOGIN_MAX + 1];
    char key_login[96], key_addr[96];
    int found;
    gateway_account acc;
    int ok;            /* password (and code) right */
    const char *why;   /* a failure's reason, for the audit */
    int64_t totp_step; /* > 0: the code used */
    char token[GATEWAY_TOKEN_LEN + 1];
    char binding_id[CCIP_UUID_STRLEN + 1];
    int second_factor;
} s_signin;

static int s_signin_fail_tx(ccip_db *db, void *arg)
{
    s_signin *s = arg;
    gateway_throttle_rule rl = s_rule_login(s->cfg), ra = s_rule_addr(s->cfg);
    int rc;
    if ((rc = gateway_throttle_fail(db, s->key_login, &rl)) < 0 ||
        (rc = gateway_throttle_fail(db, s->key_addr, &ra)) < 0 ||
        (rc = gateway_audit(db, "sign_in", "failure", s->found ? s->acc.id : NULL, s->login, "self",
                            gateway_request_client(s->t.rq), s->why)) < 0)
        return rc;
    return 0;
}

static int s_signin_ok_tx(ccip_db *db, void *arg)
{
    s_signin *s = arg;
    int rc;
    gateway_binding bs[GATEWAY_BINDINGS_MAX];
    size_t n = 0;
    if ((rc = gateway_throttle_clear(db, s->key_login)) < 0 ||
        (rc = gateway_bindings_of(db, s->acc.id, bs, &n)) < 0)
        return rc;
    const gateway_binding *b = s_choose(bs, n, s->in->binding_id, s->second_factor, &s->t);
    if (!b && s->t.status != CCIP__STATUS__OK)
        return -1;
    snprintf(s->binding_id, sizeof s->binding_id, "%s", b ? b->id : "");
    uint8_t hash[32];
    gateway_token_new(s->token);
    gateway_sha256_text(s->token, hash);
    if ((rc = gateway_session_insert(db, hash, s->acc.id, b ? b->id : NULL, s->second_factor,
                                     s->cfg->session_absolute_s, gateway_request_client(s->t.rq))) <
        0)
        return rc;
    if (s->totp_step > 0 && (rc = gateway_account_totp_used(db, s->acc.id, s->totp_step)) < 0)
        return rc;
    return gateway_audit(db, "sign_in", "ok", s->acc.id, s->acc.login, "self",
                         gateway_request_client(s->t.rq),
                         s->second_factor ? "with a TOTP code" : "password only");
}

static void s_sign_in(gateway_request *rq, ProtobufCMessage *body)
{
    gateway_runtime *rt = gateway_request_runtime(rq);
    s_signin *s = calloc(1, sizeof *s);
    if (!s) {
        gateway_reply_problem(rq, 500, "INTERNAL", "out of memory");
        return;
    }
    s->in = (const Ccip__Gateway__SignInRequest *)body;
    s->cfg = gateway_cfg(rt);
    s->t.rq = rq;
    s_login_norm(s->in->login, s->login);
    snprintf(s->key_login, sizeof s->key_login, "login:%s", s->login);
    snprintf(s->key_addr, sizeof s->key_addr, "addr:%s", gateway_request_client(rq));
    ccip_db *db = gateway_db_acquire(rt, DB_WAIT_MS);
    int64_t until = 0;
    int rc = db ? gateway_throttle_wait(db, s->key_login, s->key_addr, &until) : -1;
    if (rc == CCIP_DB_OK && until > ccip_now_us()) {
        gateway_audit(db, "sign_in", "throttled", NULL, s->login, "self",
                      gateway_request_client(rq), "");
        gateway_db_release(rt, db);
        long long wait_s = (until - ccip_now_us()) / 1000000 + 1;
        char retry[24];
        snprintf(retry, sizeof retry, "%lld", wait_s);
        gateway_reply_problem(rq, 429, "TOO_MANY_REQUESTS",
                              "too many failed sign-ins in a row; try again in %lld s", wait_s);
        gateway_reply_header(rq, "Retry-After", retry);
        free(s);
        return;
    }
    if (rc == CCIP_DB_OK) {
        rc = gateway_account_by_login(db, s->login, &s->acc);
        s->found = rc == CCIP_DB_OK;
        if (rc == GATEWAY_STORE_NONE)
            rc = CCIP_DB_OK;
    }
    gateway_db_release(rt, db);
    if (rc != CCIP_DB_OK) {
        gateway_reply_problem(rq, 503, "UNAVAILABLE",
                              "the gateway's database did not answer; "
                              "try again");
        free(s);
        return;
    }
    /* The connection is given back while argon2id runs: it takes a while
     * on purpose. An unknown login is checked against the dummy hash, so
     * that it takes as long and is answered the same way. */
    s->ok =
        gateway_password_verify(s->found ? s->acc.password_hash : s_dummy_hash, s->in->password) &&
        s->found;
    s->why = s->found ? "wrong password" : "unknown login";
    if (s->ok && s->acc.totp_confirmed) {
        if (!s->in->totp[0]) {
            s->ok = 0;
            s->why = "no code";
        } else if (gateway_totp_check(s->acc.totp_secret, GATEWAY_TOTP_SECRET_BYTES, s->in->totp,
                                      ccip_now_us() / 1000000, s->acc.totp_last_step,
                                      &s->totp_step) < 0) {
            s->ok = 0;
            s->why = "wrong code";
        } else {
            s->second_factor = 1;
        }
    }
    if (!s->ok) {
        if (s_run(rq, s_signin_fail_tx, &s->t) == 0) {
            if (strcmp(s->why, "no code") == 0)
                gateway_reply_problem(rq, 401, "UNAUTHENTICATED",
                                      "this account signs in with a code from its authenticator "
                                      "app too: send field `totp` with the password");
            else
                gateway_reply_problem(rq, 401, "UNAUTHENTICATED", SIGNIN_FAILED);
        }
        free(s);
        return;
    }
    if (s_run(rq, s_signin_ok_tx, &s->t) == 0) {
        gateway_reply_cookie(rq, s->token, s->cfg->session_absolute_s);
        s_reply_session(rq, s->acc.id, s->token, s->binding_id, s->second_factor,
                        ccip_now_us() + s->cfg->session_absolute_s * 1000000);
    }
    free(s);
}

/* ---- GET /api/v1/session ------------------------------------------------------------------------
 */

static void s_session_get(gateway_request *rq, ProtobufCMessage *body)
{
    (void)body;
    char token[GATEWAY_TOKEN_LEN + 1];
    const gateway_session_row *s = gateway_request_session(rq, token);
    s_reply_session(rq, s->account_id, token, s->has_binding ? s->binding.id : NULL,
                    s->second_factor, s->expires_at_us);
}

/* ---- DELETE /api/v1/session, POST /api/v1/session/end-all ---------------------------------------
 */

typedef struct {
    s_tx t;
    const gateway_session_row *s;
    int all;
    int ended;
} s_signout;

static int s_signout_tx(ccip_db *db, void *arg)
{
    s_signout *o = arg;
    int rc = o->all ? gateway_session_end_all(db, o->s->account_id, NULL, &o->ended)
                    : gateway_session_end(db, o->s->token_hash, &o->ended);
    if (rc < 0)
        return rc;
    return gateway_audit(db, o->all ? "sign_out_all" : "sign_out", "ok", o->s->account_id,
                         o->s->login, "self", gateway_request_client(o->t.rq), "");
}

static void s_sign_out_common(gateway_request *rq, int all)
{
    s_signout o = {.s = gateway_request_session(rq, NULL), .all = all};
    if (s_run(rq, s_signout_tx, &o.t) < 0)
        return;
    gateway_reply_cookie(rq, NULL, 0);
    Ccip__Gateway__SignOutReply reply = CCIP__GATEWAY__SIGN_OUT_REPLY__INIT;
    reply.sessions_ended = o.ended;
    gateway_reply_message(rq, &reply.base);
}

static void s_sign_out(gateway_request *rq, ProtobufCMessage *body)
{
    (void)body;
    s_sign_out_common(rq, 0);
}

static void s_sign_out_all(gateway_request *rq, ProtobufCMessage *body)
{
    (void)body;
    s_sign_out_common(rq, 1);
}

/* ---- POST /api/v1/session/binding
 * ----------------------------------------------------------------- */

typedef struct {
    s_tx t;
    const gateway_session_row *s;
    const char *wanted;
    char chosen[CCIP_UUID_STRLEN + 1];
} s_switch;

static int s_switch_tx(ccip_db *db, void *arg)
{
    s_switch *w = arg;
    gateway_binding bs[GATEWAY_BINDINGS_MAX];
    size_t n = 0;
    int rc = gateway_bindings_of(db, w->s->account_id, bs, &n);
    if (rc < 0)
        return rc;
    if (!w->wanted[0])
        return s_refuse(&w->t, CCIP__STATUS__INVALID_ARGUMENT,
                        "field `binding_id` is required: one of the account's bindings");
    const gateway_binding *b = s_choose(bs, n, w->wanted, w->s->second_factor, &w->t);
    if (!b)
        return -1;
    if (b->kind->needs_totp && !w->s->second_factor)
        return s_refuse(&w->t, CCIP__STATUS__PERMISSION_DENIED,
                        "a %s binding acts only in a session signed in with a TOTP code: enrol "
                        "one (POST /api/v1/account/totp) and sign in again",
                        b->kind->name);
    snprintf(w->chosen, sizeof w->chosen, "%s", b->id);
    if ((rc = gateway_session_set_binding(db, w->s->token_hash, b->id)) < 0)
        return rc;
    char detail[160];
    snprintf(detail, sizeof detail, "%s %s %s", b->id, b->kind->name, b->subject);
    return gateway_audit(db, "binding.switch", "ok", w->s->account_id, w->s->login, "self",
                         gateway_request_client(w->t.rq), detail);
}

static void s_switch_binding(gateway_request *rq, ProtobufCMessage *body)
{
    char token[GATEWAY_TOKEN_LEN + 1];
    s_switch w = {.s = gateway_request_session(rq, token),
                  .wanted = ((Ccip__Gateway__SwitchBindingRequest *)body)->binding_id};
    if (s_run(rq, s_switch_tx, &w.t) < 0)
        return;
    s_reply_session(rq, w.s->account_id, token, w.chosen, w.s->second_factor, w.s->expires_at_us);
}

/* ---- POST /api/v1/accounts: sign up -------------------------------------------------------------
 */

typedef struct {
    s_tx t;
    gateway_account acc;
    const char *uscc;
    gateway_binding b;
} s_signup;

static int s_signup_tx(ccip_db *db, void *arg)
{
    s_signup *u = arg;
    const char *which = NULL;
    int rc = gateway_account_insert(db, &u->acc, &which);
    if (rc < 0)
        return rc;
    if (rc == GATEWAY_STORE_NONE)
        return strcmp(which, "login") == 0
                   ? s_refuse(&u->t, CCIP__STATUS__ALREADY_EXISTS,
                              "field `login`: \"%s\" is taken; choose another", u->acc.login)
                   : s_refuse(&u->t, CCIP__STATUS__ALREADY_EXISTS,
                              "field `email`: an account with this e-mail address exists; sign "
                              "in, or reset its password");
    if (u->uscc[0]) {
        if ((rc = gateway_binding_insert(db, u->acc.id, &u->b)) < 0)
            return rc;
    }
    char detail[120];
    snprintf(detail, sizeof detail, "%s%s", u->uscc[0] ? "asks for organisation " : "", u->uscc);
    if ((rc = gateway_audit(db, "sign_up", "ok", u->acc.id, u->acc.login, "self",
                            gateway_request_client(u->t.rq), detail)) < 0)
        return rc;
    Ccip__Gateway__AccountCreated ev = CCIP__GATEWAY__ACCOUNT_CREATED__INIT;
    ev.account_id = u->acc.id;
    ev.login = u->acc.login;
    ev.name = u->acc.name;
    ev.email = u->acc.email;
    ev.mobile = u->acc.mobile;
    ev.created_at_us = ccip_now_us();
    char actor[GATEWAY_ACTOR_MAX + 1];
    snprintf(actor, sizeof actor, "person:%s", u->acc.login);
    return s_emit(db, &u->t, "gateway.account.created.v1", u->acc.id, actor, &ev.base);
}

/* Checks the details of a new account and hashes its password into acc.
 * Returns 0, or -1 after answering 400. */
static int s_new_account(gateway_request *rq, const char *login, const char *name,
                         const char *email, const char *mobile, const char *password,
                         gateway_account *acc)
{
    char err[300];
    if (gateway_login_check(login, err, sizeof err) < 0 ||
        s_check_name(name, err, sizeof err) < 0 ||
        gateway_email_check(email, err, sizeof err) < 0 ||
        gateway_mobile_check(mobile, err, sizeof err) < 0 ||
        gateway_password_check("password", password, err, sizeof err) < 0) {
        gateway_reply_problem(rq, 400, "INVALID_ARGUMENT", "%s", err);
        return -1;
    }
    const gateway_config *cfg = gateway_cfg(gateway_request_runtime(rq));
    memset(acc, 0, sizeof *acc);
    ccip_uuid_v7(acc->id);
    snprintf(acc->login, sizeof acc->login, "%s", login);
    snprintf(acc->name, sizeof acc->name, "%s", name);
    snprintf(acc->email, sizeof acc->email, "%s", email);
    snprintf(acc->mobile, sizeof acc->mobile, "%s", mobile);
    if (gateway_password_hash(password, (uint64_t)cfg->argon2_ops, (uint64_t)cfg->argon2_mem_kib,
                              acc->password_hash) < 0) {
        gateway_reply_problem(rq, 503, "UNAVAILABLE",
                              "could not hash the password (out of "
                              "memory); try again");
        return -1;
    }
    return 0;
}

static void s_sign_up(gateway_request *rq, ProtobufCMessage *body)
{
    const Ccip__Gateway__SignUpRequest *in = (const Ccip__Gateway__SignUpRequest *)body;
    s_signup *u = calloc(1, sizeof *u);
    if (!u) {
        gateway_reply_problem(rq, 500, "INTERNAL", "out of memory");
        return;
    }
    u->uscc = in->organisation_uscc;
    char err[300];
    if (u->uscc[0] && ccip_uscc_check(u->uscc, err, sizeof err) < 0) {
        gateway_reply_problem(rq, 400, "INVALID_ARGUMENT", "field `organisation_uscc`: %s", err);
        free(u);
        return;
    }
    if (s_new_account(rq, in->login, in->name, in->email, in->mobile, in->password, &u->acc) < 0) {
        free(u);
        return;
    }
    u->b.kind = gateway_kind(CCIP__GATEWAY__BINDING_KIND__ORGANISATION);
    u->b.status = CCIP__GATEWAY__BINDING_STATUS__PENDING;
    ccip_uuid_v7(u->b.id);
    snprintf(u->b.subject, sizeof u->b.subject, "%s", u->uscc);
    snprintf(u->b.granted_by, sizeof u->b.granted_by, "self");
    if (s_run(rq, s_signup_tx, &u->t) == 0) {
        gateway_runtime *rt = gateway_request_runtime(rq);
        ccip_db *db = gateway_db_acquire(rt, DB_WAIT_MS);
        ccip_arena *a = ccip_arena_new();
        Ccip__Gateway__AccountReply reply = CCIP__GATEWAY__ACCOUNT_REPLY__INIT;
        if (db && a && gateway_account_message(db, u->acc.id, a, &reply.account) == CCIP_DB_OK)
            gateway_reply_message(rq, &reply.base);
        else
            gateway_reply_problem(rq, 503, "UNAVAILABLE",
                                  "the account was made, but could not be read back; sign in");
        gateway_db_release(rt, db);
        ccip_arena_destroy(&a);
    }
    free(u);
}

/* ---- POST /api/v1/account/password
 * ---------------------------------------------------------------- */

typedef struct {
    s_tx t;
    const gateway_session_row *s;
    char hash[GATEWAY_PWHASH_MAX];
    int ended;
} s_password;

static int s_password_tx(ccip_db *db, void *arg)
{
    s_password *p = arg;
    int rc;
    if ((rc = gateway_account_set_password(db, p->s->account_id, p->hash)) < 0 ||
        (rc = gateway_session_end_all(db, p->s->account_id, p->s->token_hash, &p->ended)) < 0)
        return rc;
    return gateway_audit(db, "password.change", "ok", p->s->account_id, p->s->login, "self",
                         gateway_request_client(p->t.rq), "other sessions ended");
}

/* The signed-in account's current password is right. Returns 0, or -1
 * after answering (403, or 503). */
static int s_recheck_password(gateway_request *rq, const gateway_session_row *s, const char *pw,
                              gateway_account *acc)
{
    gateway_runtime *rt = gateway_request_runtime(rq);
    ccip_db *db = gateway_db_acquire(rt, DB_WAIT_MS);
    int rc = db ? gateway_account_by_id(db, s->account_id, 0, acc) : -1;
    if (rc == CCIP_DB_OK && !gateway_password_verify(acc->password_hash, pw)) {
        gateway_audit(db, "password.recheck", "failure", s->account_id, s->login, "self",
                      gateway_request_client(rq), gateway_request_path(rq));
        gateway_db_release(rt, db);
        gateway_reply_problem(rq, 403, "PERMISSION_DENIED",
                              "the current password is wrong; nothing was changed");
        return -1;
    }
    gateway_db_release(rt, db);
    if (rc != CCIP_DB_OK) {
        gateway_reply_problem(rq, 503, "UNAVAILABLE", "could not read the account; try again");
        return -1;
    }
    return 0;
}

static void s_change_password(gateway_request *rq, ProtobufCMessage *body)
{
    const Ccip__Gateway__ChangePasswordRequest *in =
        (const Ccip__Gateway__ChangePasswordRequest *)body;
    s_password p = {.s = gateway_request_session(rq, NULL)};
    char err[300];
    if (gateway_password_check("new_password", in->new_password, err, sizeof err) < 0) {
        gateway_reply_problem(rq, 400, "INVALID_ARGUMENT", "%s", err);
        return;
    }
    gateway_account acc;
    if (s_recheck_password(rq, p.s, in->current_password, &acc) < 0)
        return;
    const gateway_config *cfg = gateway_cfg(gateway_request_runtime(rq));
    if (gateway_password_hash(in->new_password, (uint64_t)cfg->argon2_ops,
                              (uint64_t)cfg->argon2_mem_kib, p.hash) < 0) {
        gateway_reply_problem(rq, 503, "UNAVAILABLE", "could not hash the password; try again");
        return;
    }
    if (s_run(rq, s_password_tx, &p.t) < 0)
        return;
    Ccip__Gateway__SignOutReply reply = CCIP__GATEWAY__SIGN_OUT_REPLY__INIT;
    reply.sessions_ended = p.ended;
    gateway_reply_message(rq, &reply.base);
}

/* ---- POST /api/v1/account/contact
 * ------------------------------------------------------------------ */

typedef struct {
    s_tx t;
    const gateway_session_row *s;
    const Ccip__Gateway__ChangeContactRequest *in;
} s_contact;

static int s_contact_tx(ccip_db *db, void *arg)
{
    s_contact *c = arg;
    const char *which = NULL;
    int rc = gateway_account_set_contact(db, c->s->account_id, c->in->name, c->in->email,
                                         c->in->mobile, &which);
    if (rc < 0)
        return rc;
    if (rc == GATEWAY_STORE_NONE)
        return s_refuse(&c->t, CCIP__STATUS__ALREADY_EXISTS,
                        "field `email`: another account has this e-mail address");
    if ((rc = gateway_audit(db, "contact.change", "ok", c->s->account_id, c->s->login, "self",
                            gateway_request_client(c->t.rq), "")) < 0)
        return rc;
    Ccip__Gateway__ContactChanged ev = CCIP__GATEWAY__CONTACT_CHANGED__INIT;
    ev.account_id = (char *)c->s->account_id;
    ev.name = c->in->name;
    ev.email = c->in->email;
    ev.mobile = c->in->mobile;
    char actor[GATEWAY_ACTOR_MAX + 1];
    snprintf(actor, sizeof actor, "person:%s", c->s->login);
    return s_emit(db, &c->t, "gateway.account.contact_changed.v1", c->s->account_id, actor,
                  &ev.base);
}

static void s_change_contact(gateway_request *rq, ProtobufCMessage *body)
{
    s_contact c = {.s = gateway_request_session(rq, NULL),
                   .in = (const Ccip__Gateway__ChangeContactRequest *)body};
    char err[300];
    if (s_check_name(c.in->name, err, sizeof err) < 0 ||
        gateway_email_check(c.in->email, err, sizeof err) < 0 ||
        gateway_mobile_check(c.in->mobile, err, sizeof err) < 0) {
        gateway_reply_problem(rq, 400, "INVALID_ARGUMENT", "%s", err);
        return;
    }
    if (s_run(rq, s_contact_tx, &c.t) < 0)
        return;
    gateway_runtime *rt = gateway_request_runtime(rq);
    ccip_db *db = gateway_db_acquire(rt, DB_WAIT_MS);
    ccip_arena *a = ccip_arena_new();
    Ccip__Gateway__AccountReply reply = CCIP__GATEWAY__ACCOUNT_REPLY__INIT;
    if (db && a && gateway_account_message(db, c.s->account_id, a, &reply.account) == CCIP_DB_OK)
        gateway_reply_message(rq, &reply.base);
    else
        gateway_reply_problem(rq, 503, "UNAVAILABLE", "changed, but could not read back");
    gateway_db_release(rt, db);
    ccip_arena_destroy(&a);
}

/* ---- TOTP: POST /api/v1/account/totp, /api/v1/account/totp/confirm
 * ------------------------------- */

typedef struct {
    s_tx t;
    const gateway_session_row *s;
    uint8_t secret[GATEWAY_TOTP_SECRET_BYTES];
    const char *code;
    int64_t step;
} s_totp;

static int s_totp_enrol_tx(ccip_db *db, void *arg)
{
    s_totp *o = arg;
    int rc = gateway_account_set_totp(db, o->s->account_id, o->secret, 0);
    if (rc < 0)
        return rc;
    return gateway_audit(db, "totp.enrol", "started", o->s->account_id, o->s->login, "self",
                         gateway_request_client(o->t.rq), "");
}

/* Percent-encodes s for a URI into out. */
static void s_uri_part(const char *s, char *out, size_t len)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n + 4 < len; p++) {
        if (isalnum(*p) || strchr("-._~", *p))
            out[n++] = (char)*p;
        else
            n += (size_t)snprintf(out + n, len - n, "%%%02X", *p);
    }
    out[n] = '\0';
}

static void s_totp_enrol(gateway_request *rq, ProtobufCMessage *body)
{
    const Ccip__Gateway__TotpEnrolRequest *in = (const Ccip__Gateway__TotpEnrolRequest *)body;
    s_totp o = {.s = gateway_request_session(rq, NULL)};
    gateway_account acc;
    if (s_recheck_password(rq, o.s, in->password, &acc) < 0)
        return;
    gateway_totp_secret_new(o.secret);
    if (s_run(rq, s_totp_enrol_tx, &o.t) < 0)
        return;
    char b32[GATEWAY_TOTP_BASE32_MAX], issuer[200], login[200], uri[1024];
    gateway_totp_base32(o.secret, sizeof o.secret, b32);
    s_uri_part(gateway_cfg(gateway_request_runtime(rq))->totp_issuer, issuer, sizeof issuer);
    s_uri_part(o.s->login, login, sizeof login);
    snprintf(uri, sizeof uri,
             "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d&period=%d", issuer,
             login, b32, issuer, GATEWAY_TOTP_DIGITS, GATEWAY_TOTP_STEP_S);
    Ccip__Gateway__TotpEnrolReply reply = CCIP__GATEWAY__TOTP_ENROL_REPLY__INIT;
    reply.secret_base32 = b32;
    reply.otpauth_uri = uri;
    gateway_reply_message(rq, &reply.base);
}

static int s_totp_confirm_tx(ccip_db *db, void *arg)
{
    s_totp *o = arg;
    gateway_account acc;
    int rc = gateway_account_by_id(db, o->s->account_id, 1, &acc);
    if (rc < 0)
        return rc;
    if (rc != CCIP_DB_OK || !acc.has_totp_secret)
        return s_refuse(&o->t, CCIP__STATUS__FAILED_PRECONDITION,
                        "there is no TOTP secret to confirm: make one first (POST "
                        "/api/v1/account/totp)");
    if (gateway_totp_check(acc.totp_secret, GATEWAY_TOTP_SECRET_BYTES, o->code,
                           ccip_now_us() / 1000000, acc.totp_last_step, &o->step) < 0) {
        /* The refusal is audited in its own statement after the rollback. */
        return s_refuse(&o->t, CCIP__STATUS__INVALID_ARGUMENT,
                        "field `code`: that is not the current code of the new secret; check "
                        "the authenticator app's clock and try the next code");
    }
    if ((rc = gateway_account_set_totp(db, acc.id, NULL, o->step)) < 0 ||
        (rc = gateway_session_set_second_factor(db, o->s->token_hash)) < 0)
        return rc;
    return gateway_audit(db, "totp.enrol", "confirmed", acc.id, acc.login, "self",
                         gateway_request_client(o->t.rq), "");
}

static void s_totp_confirm(gateway_request *rq, ProtobufCMessage *body)
{
    char token[GATEWAY_TOKEN_LEN + 1];
    s_totp o = {.s = gateway_request_session(rq, token),
                .code = ((const Ccip__Gateway__TotpConfirmRequest *)body)->code};
    if (s_run(rq, s_totp_confirm_tx, &o.t) < 0)
        return;
    s_reply_session(rq, o.s->account_id, token, o.s->has_binding ? o.s->binding.id : NULL, 1,
                    o.s->expires_at_us);
}

/* ---- POST /api/v1/account/organisations
 * ----------------------------------------------------------- */

typedef struct {
    s_tx t;
    const gateway_session_row *s;
    gateway_binding b;
} s_claim;

static int s_claim_tx(ccip_db *db, void *arg)
{
    s_claim *c = arg;
    int rc = gateway_binding_insert(db, c->s->account_id, &c->b);
    if (rc < 0)
        return rc;
    if (rc == GATEWAY_STORE_NONE)
        return s_refuse(&c->t, CCIP__STATUS__ALREADY_EXISTS,
                        "this account already holds (or asked for) organisation %s", c->b.subject);
    return gateway_audit(db, "binding.claim", "pending", c->s->account_id, c->s->login, "self",
                         gateway_request_client(c->t.rq), c->b.subject);
}

static void s_claim_org(gateway_request *rq, ProtobufCMessage *body)
{
    const char *uscc = ((const Ccip__Gateway__ClaimOrganisationRequest *)body)->uscc;
    char err[300];
    if (ccip_uscc_check(uscc, err, sizeof err) < 0) {
        gateway_reply_problem(rq, 400, "INVALID_ARGUMENT", "field `uscc`: %s", err);
        return;
    }
    s_claim c = {.s = gateway_request_session(rq, NULL)};
    c.b.kind = gateway_kind(CCIP__GATEWAY__BINDING_KIND__ORGANISATION);
    c.b.status = CCIP__GATEWAY__BINDING_STATUS__PENDING;
    ccip_uuid_v7(c.b.id);
    snprintf(c.b.subject, sizeof c.b.subject, "%s", uscc);
    snprintf(c.b.granted_by, sizeof c.b.granted_by, "self");
    c.b.granted_at_us = ccip_now_us();
    if (s_run(rq, s_claim_tx, &c.t) < 0)
        return;
    ccip_arena *a = ccip_arena_new();
    Ccip__Gateway__BindingOnlyReply reply = CCIP__GATEWAY__BINDING_ONLY_REPLY__INIT;
    reply.binding = a ? gateway_binding_message(&c.b, c.s->login, a) : NULL;
    if (reply.binding)
        gateway_reply_message(rq, &reply.base);
    else
        gateway_reply_problem(rq, 500, "INTERNAL", "out of memory");
    ccip_arena_destroy(&a);
}

/* ---- POST /api/v1/invitations/{token}/accept
 * ------------------------------------------------------ */

typedef struct {
    s_tx t;
    const gateway_session_row *s; /* NULL: a new account */
    const char *token;
    gateway_account acc;
    gateway_binding b;
    char session_token[GATEWAY_TOKEN_LEN + 1];
    const gateway_config *cfg;
} s_accept;

static int s_accept_tx(ccip_db *db, void *arg)
{
    s_accept *x = arg;
    uint8_t hash[32];
    gateway_sha256_text(x->token, hash);
    gateway_token_row tok;
    int rc = gateway_token_use(db, hash, "INVITATION", &tok);
    if (rc < 0)
        return rc;
    if (rc == GATEWAY_STORE_NONE || !tok.kind)
        return s_refuse(&x->t, CCIP__STATUS__NOT_FOUND,
                        "this invitation is unknown, used already or expired; ask for a new one");
    if (!x->s) {
        const char *which = NULL;
        if ((rc = gateway_account_insert(db, &x->acc, &which)) < 0)
            return rc;
        if (rc == GATEWAY_STORE_NONE)
            return s_refuse(&x->t, CCIP__STATUS__ALREADY_EXISTS,
                            strcmp(which, "login") == 0
                                ? "field `login` is taken; choose another"
                                : "field `email`: an account with this e-mail address exists; "
                                  "sign in and accept the invitation from there");
        Ccip__Gateway__AccountCreated ev = CCIP__GATEWAY__ACCOUNT_CREATED__INIT;
        ev.account_id = x->acc.id;
        ev.login = x->acc.login;
        ev.name = x->acc.name;
        ev.email = x->acc.email;
        ev.mobile = x->acc.mobile;
        ev.created_at_us = ccip_now_us();
        char actor[GATEWAY_ACTOR_MAX + 1];
        snprintf(actor, sizeof actor, "person:%s", x->acc.login);
        if ((rc = s_emit(db, &x->t, "gateway.account.created.v1", x->acc.id, actor, &ev.base)) < 0)
            return rc;
    } else if ((rc = gateway_account_by_id(db, x->s->account_id, 1, &x->acc)) != CCIP_DB_OK) {
        return rc < 0 ? rc : s_refuse(&x->t, CCIP__STATUS__NOT_FOUND, "the account is gone");
    }
    memset(&x->b, 0, sizeof x->b);
    ccip_uuid_v7(x->b.id);
    x->b.kind = tok.kind;
    x->b.status = CCIP__GATEWAY__BINDING_STATUS__ACTIVE;
    snprintf(x->b.subject, sizeof x->b.subject, "%s", tok.subject);
    snprintf(x->b.granted_by, sizeof x->b.granted_by, "%s", tok.created_by);
    snprintf(x->b.reason, sizeof x->b.reason, "invitation %s", tok.id);
    x->b.granted_at_us = ccip_now_us();
    if ((rc = gateway_binding_insert(db, x->acc.id, &x->b)) < 0)
        return rc;
    if (rc == GATEWAY_STORE_NONE)
        return s_refuse(&x->t, CCIP__STATUS__ALREADY_EXISTS,
                        "this account holds that binding already; the invitation stays unused");
    if ((rc = gateway_token_used_by(db, tok.id, x->acc.id)) < 0 ||
        (rc = gateway_audit(db, "invitation.accept", "ok", x->acc.id, x->acc.login, tok.created_by,
                            gateway_request_client(x->t.rq), tok.id)) < 0 ||
        (rc = s_emit_binding(db, &x->t, "gateway.account.binding_granted.v1", x->acc.id,
                             x->acc.login, &x->b)) < 0)
        return rc;
    if (!x->s) {
        /* A new account is signed in at once: it just chose its password. */
        gateway_token_new(x->session_token);
        gateway_sha256_text(x->session_token, hash);
        if ((rc =
                 gateway_session_insert(db, hash, x->acc.id, x->b.id, 0, x->cfg->session_absolute_s,
                                        gateway_request_client(x->t.rq))) < 0)
            return rc;
    }
    return 0;
}

static void s_accept_invitation(gateway_request *rq, ProtobufCMessage *body)
{
    const Ccip__Gateway__AcceptInvitationRequest *in =
        (const Ccip__Gateway__AcceptInvitationRequest *)body;
    char token[GATEWAY_TOKEN_LEN + 1];
    s_accept *x = calloc(1, sizeof *x);
    if (!x) {
        gateway_reply_problem(rq, 500, "INTERNAL", "out of memory");
        return;
    }
    x->s = gateway_request_session(rq, token);
    x->token = in->token;
    x->cfg = gateway_cfg(gateway_request_runtime(rq));
    if (!gateway_token_form(x->token)) {
        gateway_reply_problem(rq, 404, "NOT_FOUND",
                              "this invitation is unknown, used already or expired; ask for a "
                              "new one");
        free(x);
        return;
    }
    if (!x->s &&
        s_new_account(rq, in->login, in->name, in->email, in->mobile, in->password, &x->acc) < 0) {
        free(x);
        return;
    }
    if (s_run(rq, s_accept_tx, &x->t) == 0) {
        if (x->s) {
            s_reply_session(rq, x->s->account_id, token, x->s->has_binding ? x->s->binding.id : "",
                            x->s->second_factor, x->s->expires_at_us);
        } else {
            gateway_reply_cookie(rq, x->session_token, x->cfg->session_absolute_s);
            s_reply_session(rq, x->acc.id, x->session_token, x->b.id, 0,
                            ccip_now_us() + x->cfg->session_absolute_s * 1000000);
        }
    }
    free(x);
}

/* ---- POST /api/v1/password-resets/{token}
 * ---------------------------------------------------------- */

typedef struct {
    s_tx t;
    const char *token;
    char hash[GATEWAY_PWHASH_MAX];
    int ended;
} s_reset;

static int s_reset_tx(ccip_db *db, void *arg)
{
    s_reset *r = arg;
    uint8_t hash[32];
    gateway_sha256_text(r->token, hash);
    gateway_token_row tok;
    int rc = gateway_token_use(db, hash, "PASSWORD_RESET", &tok);
    if (rc < 0)
        return rc;
    if (rc == GATEWAY_STORE_NONE)
        return s_refuse(&r->t, CCIP__STATUS__NOT_FOUND,
                        "this reset link is unknown, used already or expired; ask for a new one");
    gateway_account acc;
    if ((rc = gateway_account_by_id(db, tok.account_id, 1, &acc)) != CCIP_DB_OK)
        return rc < 0 ? rc : s_refuse(&r->t, CCIP__STATUS__NOT_FOUND, "the account is gone");
    char key[96];
    snprintf(key, sizeof key, "login:%s", acc.login);
    if ((rc = gateway_account_set_password(db, acc.id, r->hash)) < 0 ||
        (rc = gateway_token_used_by(db, tok.id, acc.id)) < 0 ||
        (rc = gateway_session_end_all(db, acc.id, NULL, &r->ended)) < 0 ||
        (rc = gateway_throttle_clear(db, key)) < 0)
        return rc;
    return gateway_audit(db, "password.reset", "ok", acc.id, acc.login, tok.created_by,
                         gateway_request_client(r->t.rq), tok.id);
}

static void s_reset_password(gateway_request *rq, ProtobufCMessage *body)
{
    const Ccip__Gateway__ResetPasswordRequest *in =
        (const Ccip__Gateway__ResetPasswordRequest *)body;
    s_reset r = {.token = in->token};
    char err[300];
    if (!gateway_token_form(r.token)) {
        gateway_reply_problem(rq, 404, "NOT_FOUND",
                              "this reset link is unknown, used already or expired; ask for a new "
                              "one");
        return;
    }
    if (gateway_password_check("new_password", in->new_password, err, sizeof err) < 0) {
        gateway_reply_problem(rq, 400, "INVALID_ARGUMENT", "%s", err);
        return;
    }
    const gateway_config *cfg = gateway_cfg(gateway_request_runtime(rq));
    if (gateway_password_hash(in->new_password, (uint64_t)cfg->argon2_ops,
                              (uint64_t)cfg->argon2_mem_kib, r.hash) < 0) {
        gateway_reply_problem(rq, 503, "UNAVAILABLE", "could not hash the password; try again");
        return;
    }
    if (s_run(rq, s_reset_tx, &r.t) < 0)
        return;
    gateway_reply_cookie(rq, NULL, 0);
    Ccip__Gateway__SignOutReply reply = CCIP__GATEWAY__SIGN_OUT_REPLY__INIT;
    reply.sessions_ended = r.ended;
    gateway_reply_message(rq, &reply.base);
}

/* ---- the table
 * ------------------------------------------------------------------------------------- */

#define SESSION GATEWAY_SELF_SESSION
#define NO_CSRF GATEWAY_SELF_NO_CSRF

static const gateway_self_endpoint s_endpoints[] = {
    {"POST", "/api/v1/session", s_sign_in, &ccip__gateway__sign_in_request__descriptor,
     &ccip__gateway__session_reply__descriptor, NO_CSRF,
     "sign in: a session cookie and the session (its CSRF token included)"},
    {"GET", "/api/v1/session", s_session_get, NULL, &ccip__gateway__session_reply__descriptor,
     SESSION, "the signed-in account, its bindings, the active one and the CSRF token"},
    {"DELETE", "/api/v1/session", s_sign_out, NULL, &ccip__gateway__sign_out_reply__descriptor,
     SESSION, "sign out of this session"},
    {"POST", "/api/v1/session/end-all", s_sign_out_all, NULL,
     &ccip__gateway__sign_out_reply__descriptor, SESSION,
     "sign out of every session of the account"},
    {"POST", "/api/v1/session/binding", s_switch_binding,
     &ccip__gateway__switch_binding_request__descriptor, &ccip__gateway__session_reply__descriptor,
     SESSION, "act as another of the account's bindings"},
    {"POST", "/api/v1/accounts", s_sign_up, &ccip__gateway__sign_up_request__descriptor,
     &ccip__gateway__account_reply__descriptor, NO_CSRF,
     "sign up, optionally asking to be a user of an organisation"},
    {"POST", "/api/v1/account/password", s_change_password,
     &ccip__gateway__change_password_request__descriptor,
     &ccip__gateway__sign_out_reply__descriptor, SESSION,
     "change the password (the account's other sessions end)"},
    {"POST", "/api/v1/account/contact", s_change_contact,
     &ccip__gateway__change_contact_request__descriptor, &ccip__gateway__account_reply__descriptor,
     SESSION, "change name, e-mail address and mobile number"},
    {"POST", "/api/v1/account/totp", s_totp_enrol, &ccip__gateway__totp_enrol_request__descriptor,
     &ccip__gateway__totp_enrol_reply__descriptor, SESSION,
     "a new TOTP secret (in force once confirmed)"},
    {"POST", "/api/v1/account/totp/confirm", s_totp_confirm,
     &ccip__gateway__totp_confirm_request__descriptor, &ccip__gateway__session_reply__descriptor,
     SESSION, "confirm the TOTP secret with its current code"},
    {"POST", "/api/v1/account/organisations", s_claim_org,
     &ccip__gateway__claim_organisation_request__descriptor,
     &ccip__gateway__binding_only_reply__descriptor, SESSION,
     "ask to be a user of an organisation (pending until staff verify it)"},
    {"POST", "/api/v1/invitations/{token}/accept", s_accept_invitation,
     &ccip__gateway__accept_invitation_request__descriptor,
     &ccip__gateway__session_reply__descriptor, 0,
     "accept an invitation: with a session, the binding joins the account; without, a new "
     "account is made and signed in"},
    {"POST", "/api/v1/password-resets/{token}", s_reset_password,
     &ccip__gateway__reset_password_request__descriptor, &ccip__gateway__sign_out_reply__descriptor,
     NO_CSRF, "set a new password with a one-time reset token (every session ends)"},
};

size_t gateway_self_count(void)
{
    return CCIP_NELEMS(s_endpoints);
}

const gateway_self_endpoint *gateway_self_at(size_t i)
{
    return i < gateway_self_count() ? &s_endpoints[i] : NULL;
}
