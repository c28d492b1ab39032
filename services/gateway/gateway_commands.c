#include "gateway_commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/intake.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_log.h"
#include "ccip_outbox.h"
#include "ccip_validate.h"
#include "gateway.h"
#include "gateway_crypto.h"
#include "gateway_store.h"
#include "gateway_subjects.h"

#define LIST_DEFAULT        100
#define LIST_MAX            1000
#define RESET_HOURS_DEFAULT 1
#define VALID_HOURS_MAX     (24 * 30)

static int s_is(const ccip_command *cmd, const char *role)
{
    return strcmp(cmd->actor.role, role) == 0;
}

/* May the caller grant, revoke or offer a binding of kind k and subject?
 * Admins: any. Staff: the kinds marked staff_may_grant. An organisation's
 * user (applicant, actor "org:<USCC>"): its own organisation only. */
static int s_may_manage(ccip_command *cmd, const gateway_kind_info *k, const char *subject,
                        const char *what)
{
    if (s_is(cmd, "admin"))
        return 0;
    if (s_is(cmd, "staff")) {
        if (k->staff_may_grant)
            return 0;
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "staff may not %s %s bindings; only an admin may", what, k->name);
    }
    if (s_is(cmd, "applicant") && k->kind == CCIP__GATEWAY__BINDING_KIND__ORGANISATION &&
        strncmp(cmd->actor.id, "org:", 4) == 0 && strcmp(cmd->actor.id + 4, subject) == 0)
        return 0;
    return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                             "role \"%s\" may %s only users of its own organisation (%s), not %s "
                             "%s",
                             cmd->actor.role, what, cmd->actor.id, k->name, subject);
}

static const gateway_kind_info *s_kind(ccip_command *cmd, Ccip__Gateway__BindingKind kind,
                                       const char *subject)
{
    const gateway_kind_info *k = gateway_kind(kind);
    char err[300];
    if (!k) {
        ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                          "field `kind` must be one of ORGANISATION, STAFF, FINANCE, EXPERT, "
                          "AGENCY, OFFICE, ANALYST, DISTRICT, ADMIN");
        return NULL;
    }
    if (gateway_subject_check(k, subject, err, sizeof err) < 0) {
        ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
        return NULL;
    }
    return k;
}

/* Asks the owner of the subject (gateway_subjects.h). Returns 0 or
 * CCIP_REPLIED. */
static int s_subject_exists(ccip_command *cmd, const gateway_kind_info *k, const char *subject)
{
    gateway_runtime *rt = gateway_runtime_get();
    char err[600];
    if (!rt)
        return ccip_command_fail(cmd, CCIP__STATUS__UNAVAILABLE,
                                 "the gateway is stopping; try again");
    int rc = gateway_subject_exists(rt, k, subject, err, sizeof err);
    if (rc == GATEWAY_SUBJECT_UNKNOWN)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "%s", err);
    if (rc != GATEWAY_SUBJECT_OK)
        return ccip_command_fail(cmd, CCIP__STATUS__UNAVAILABLE, "%s", err);
    return 0;
}

int gateway_emit_binding(ccip_command *cmd, const char *type, const char *account_id,
                         const char *login, const void *binding)
{
    Ccip__Gateway__BindingChanged ev = CCIP__GATEWAY__BINDING_CHANGED__INIT;
    ev.account_id = (char *)account_id;
    ev.login = (char *)login;
    ev.binding = (Ccip__Gateway__Binding *)binding;
    return ccip_command_emit(cmd, type, "account", account_id, &ev.base);
}

/* ---- gateway.account.get.v1 / list.v1 -------------------------------------------- */

int gateway_cmd_account_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Gateway__GetAccountRequest *rq = request;
    char id[CCIP_UUID_STRLEN + 1] = "";
    if (rq->account_id[0]) {
        int rc = ccip_command_check_uuid(cmd, "account_id", rq->account_id);
        if (rc)
            return rc;
        snprintf(id, sizeof id, "%s", rq->account_id);
    } else if (rq->login[0]) {
        gateway_account acc;
        int rc = gateway_account_by_login(cmd->db, rq->login, &acc);
        if (rc < 0)
            return rc;
        if (rc == GATEWAY_STORE_NONE)
            return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no account \"%.64s\"",
                                     rq->login);
        snprintf(id, sizeof id, "%s", acc.id);
    } else {
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "give field `account_id` or field `login`");
    }
    Ccip__Gateway__AccountReply reply = CCIP__GATEWAY__ACCOUNT_REPLY__INIT;
    int rc = gateway_account_message(cmd->db, id, a, &reply.account);
    if (rc < 0)
        return rc;
    if (rc == GATEWAY_STORE_NONE)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no account %s", id);
    return ccip_command_reply(cmd, &reply.base);
}

int gateway_cmd_account_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Gateway__ListAccountsRequest *rq = request;
    if (rq->after_id[0]) {
        int rc = ccip_command_check_uuid(cmd, "after_id", rq->after_id);
        if (rc)
            return rc;
    }
    if (rq->limit < 0 || rq->limit > LIST_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `limit` must be 0 (= %d) to %d, got %d", LIST_DEFAULT,
                                 LIST_MAX, rq->limit);
    int limit = rq->limit ? rq->limit : LIST_DEFAULT;
    const char *kind = NULL;
    if (rq->kind) {
        const gateway_kind_info *k = gateway_kind(rq->kind);
        if (!k)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `kind` is not a binding kind");
        kind = k->name;
    }
    char(*ids)[CCIP_UUID_STRLEN + 1] = ccip_arena_alloc(a, (size_t)limit * sizeof *ids);
    Ccip__Gateway__Account **accounts = ccip_arena_alloc(a, (size_t)limit * sizeof *accounts);
    if (!ids || !accounts)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    size_t n = 0;
    int rc = gateway_account_list(cmd->db, rq->after_id, limit, kind, rq->subject, ids, &n);
    if (rc < 0)
        return rc;
    Ccip__Gateway__ListAccountsReply reply = CCIP__GATEWAY__LIST_ACCOUNTS_REPLY__INIT;
    for (size_t i = 0; i < n; i++) {
        rc = gateway_account_message(cmd->db, ids[i], a, &accounts[i]);
        if (rc < 0)
            return rc;
        if (rc == GATEWAY_STORE_NONE)
            return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "account %s vanished", ids[i]);
    }
    reply.accounts = accounts;
    reply.n_accounts = n;
    reply.next_after_id = n == (size_t)limit ? ids[n - 1] : "";
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- gateway.binding.grant.v1 ------------------------------------------------------- */

static int s_reply_binding(ccip_command *cmd, ccip_arena *a, const char *account_id,
                           const char *login, const gateway_binding *b, const char *event)
{
    Ccip__Gateway__BindingReply reply = CCIP__GATEWAY__BINDING_REPLY__INIT;
    reply.account_id = (char *)account_id;
    reply.binding = gateway_binding_message(b, login, a);
    if (!reply.binding)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    int rc = gateway_emit_binding(cmd, event, account_id, login, reply.binding);
    if (rc)
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

int gateway_cmd_binding_grant(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Gateway__GrantBindingRequest *rq = request;
    int rc = ccip_command_check_uuid(cmd, "account_id", rq->account_id);
    if (rc)
        return rc;
    const gateway_kind_info *k = s_kind(cmd, rq->kind, rq->subject);
    if (!k)
        return CCIP_REPLIED;
    if ((rc = ccip_command_check_text(cmd, "reason", rq->reason, 0, 500, 0)) ||
        (rc = s_may_manage(cmd, k, rq->subject, "grant")))
        return rc;
    gateway_account acc;
    rc = gateway_account_by_id(cmd->db, rq->account_id, 1, &acc);
    if (rc < 0)
        return rc;
    if (rc == GATEWAY_STORE_NONE)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no account %s",
                                 rq->account_id);
    if ((rc = s_subject_exists(cmd, k, rq->subject)))
        return rc;
    gateway_binding b = {.kind = k, .status = CCIP__GATEWAY__BINDING_STATUS__ACTIVE};
    if ((rc = ccip_command_new_id(cmd, b.id)))
        return rc;
    snprintf(b.subject, sizeof b.subject, "%s", rq->subject);
    snprintf(b.granted_by, sizeof b.granted_by, "%s", cmd->actor.id);
    snprintf(b.reason, sizeof b.reason, "%s", rq->reason);
    b.granted_at_us = ccip_now_us();
    rc = gateway_binding_insert(cmd->db, acc.id, &b);
    if (rc < 0)
        return rc;
    if (rc == GATEWAY_STORE_NONE) {
        /* The account holds it already: a pending claim of the same
         * organisation is confirmed; anything else is a repetition. */
        gateway_binding *have = ccip_arena_alloc(a, GATEWAY_BINDINGS_MAX * sizeof *have);
        size_t n = 0;
        if (!have)
            return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        if ((rc = gateway_bindings_of(cmd->db, acc.id, have, &n)) < 0)
            return rc;
        for (size_t i = 0; i < n; i++) {
            gateway_binding *h = &have[i];
            if (h->kind != k || strcmp(h->subject, b.subject) != 0 ||
                h->status != CCIP__GATEWAY__BINDING_STATUS__PENDING)
                continue;
            if ((rc = gateway_binding_activate(cmd->db, h->id, cmd->actor.id, rq->reason)) < 0)
                return rc;
            h->status = CCIP__GATEWAY__BINDING_STATUS__ACTIVE;
            snprintf(h->granted_by, sizeof h->granted_by, "%s", cmd->actor.id);
            if ((rc = gateway_audit(cmd->db, "binding.grant", "confirmed", acc.id, acc.login,
                                    cmd->actor.id, "", h->id)) < 0)
                return rc;
            return s_reply_binding(cmd, a, acc.id, acc.login, h,
                                   "gateway.account.binding_granted.v1");
        }
        return ccip_command_fail(cmd, CCIP__STATUS__ALREADY_EXISTS,
                                 "account %s already holds a %s binding%s%s", acc.login, k->name,
                                 b.subject[0] ? " of " : "", b.subject);
    }
    char detail[200];
    snprintf(detail, sizeof detail, "%s %s %s", b.id, k->name, b.subject);
    if ((rc = gateway_audit(cmd->db, "binding.grant", "ok", acc.id, acc.login, cmd->actor.id, "",
                            detail)) < 0)
        return rc;
    return s_reply_binding(cmd, a, acc.id, acc.login, &b, "gateway.account.binding_granted.v1");
}

/* ---- gateway.binding.revoke.v1 ------------------------------------------------------- */

int gateway_cmd_binding_revoke(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Gateway__RevokeBindingRequest *rq = request;
    int rc = ccip_command_check_uuid(cmd, "binding_id", rq->binding_id);
    if (rc || (rc = ccip_command_check_text(cmd, "reason", rq->reason, 1, 500, 0)))
        return rc;
    gateway_binding b;
    char account_id[CCIP_UUID_STRLEN + 1], login[GATEWAY_LOGIN_MAX + 1];
    rc = gateway_binding_get(cmd->db, rq->binding_id, 1, &b, account_id, login);
    if (rc < 0)
        return rc;
    if (rc == GATEWAY_STORE_NONE)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no binding %s",
                                 rq->binding_id);
    if ((rc = s_may_manage(cmd, b.kind, b.subject, "revoke")))
        return rc;
    if (b.status == CCIP__GATEWAY__BINDING_STATUS__REVOKED)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "binding %s was revoked already", b.id);
    if ((rc = gateway_binding_revoke(cmd->db, b.id, cmd->actor.id, rq->reason)) < 0)
        return rc;
    b.status = CCIP__GATEWAY__BINDING_STATUS__REVOKED;
    b.revoked_at_us = ccip_now_us();
    snprintf(b.revoked_by, sizeof b.revoked_by, "%s", cmd->actor.id);
    snprintf(b.reason, sizeof b.reason, "%s", rq->reason);
    char detail[200];
    snprintf(detail, sizeof detail, "%s %s %s", b.id, b.kind->name, b.subject);
    if ((rc = gateway_audit(cmd->db, "binding.revoke", "ok", account_id, login, cmd->actor.id, "",
                            detail)) < 0)
        return rc;
    return s_reply_binding(cmd, a, account_id, login, &b, "gateway.account.binding_revoked.v1");
}

/* ---- gateway.invitation.create.v1 ------------------------------------------------------ */

static int s_valid_hours(ccip_command *cmd, int32_t hours, int32_t dflt, int64_t *expires_us)
{
    if (hours < 0 || hours > VALID_HOURS_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `valid_hours` must be 0 (the default, %d) to %d, got %d",
                                 dflt, VALID_HOURS_MAX, hours);
    *expires_us = ccip_now_us() + (int64_t)(hours ? hours : dflt) * 3600 * 1000000;
    return 0;
}

int gateway_cmd_invitation_create(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)a;
    Ccip__Gateway__CreateInvitationRequest *rq = request;
    char err[300];
    if (gateway_email_check(rq->email, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    const gateway_kind_info *k = s_kind(cmd, rq->kind, rq->subject);
    if (!k)
        return CCIP_REPLIED;
    gateway_runtime *rt = gateway_runtime_get();
    int dflt = rt ? (int)gateway_cfg(rt)->invitation_hours : 72;
    gateway_token_row t = {.purpose = "INVITATION", .kind = k};
    int rc = ccip_command_check_text(cmd, "note", rq->note, 0, 500, 0);
    if (rc || (rc = s_may_manage(cmd, k, rq->subject, "invite")) ||
        (rc = s_valid_hours(cmd, rq->valid_hours, dflt, &t.expires_at_us)) ||
        (rc = s_subject_exists(cmd, k, rq->subject)) || (rc = ccip_command_new_id(cmd, t.id)))
        return rc;
    snprintf(t.email, sizeof t.email, "%s", rq->email);
    snprintf(t.subject, sizeof t.subject, "%s", rq->subject);
    snprintf(t.created_by, sizeof t.created_by, "%s", cmd->actor.id);
    char token[GATEWAY_TOKEN_LEN + 1];
    uint8_t hash[32];
    gateway_token_new(token);
    gateway_sha256_text(token, hash);
    if ((rc = gateway_token_insert(cmd->db, hash, &t)) < 0)
        return rc;
    char detail[400];
    snprintf(detail, sizeof detail, "invitation %s: %s %s for %s", t.id, k->name, t.subject,
             t.email);
    if ((rc = gateway_audit(cmd->db, "invitation.create", "ok", NULL, "", cmd->actor.id, "",
                            detail)) < 0)
        return rc;
    Ccip__Gateway__InvitationReply reply = CCIP__GATEWAY__INVITATION_REPLY__INIT;
    reply.invitation_id = t.id;
    reply.token = token;
    reply.expires_at_us = t.expires_at_us;
    reply.email = t.email;
    reply.kind = k->kind;
    reply.subject = t.subject;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- gateway.password_reset.issue.v1 ------------------------------------------------------- */

int gateway_cmd_reset_issue(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Gateway__IssueResetRequest *rq = request;
    int rc = ccip_command_check_uuid(cmd, "account_id", rq->account_id);
    if (rc)
        return rc;
    gateway_account acc;
    if ((rc = gateway_account_by_id(cmd->db, rq->account_id, 0, &acc)) < 0)
        return rc;
    if (rc == GATEWAY_STORE_NONE)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no account %s",
                                 rq->account_id);
    if (!s_is(cmd, "admin")) {
        /* Staff resetting a privileged account's password would be a way
         * into that privilege. */
        gateway_binding *bs = ccip_arena_alloc(a, GATEWAY_BINDINGS_MAX * sizeof *bs);
        size_t n = 0;
        if (!bs)
            return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        if ((rc = gateway_bindings_of(cmd->db, acc.id, bs, &n)) < 0)
            return rc;
        for (size_t i = 0; i < n; i++)
            if (bs[i].status != CCIP__GATEWAY__BINDING_STATUS__REVOKED && bs[i].kind->needs_totp)
                return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                         "account %s holds a %s binding: only an admin may reset "
                                         "its password",
                                         acc.login, bs[i].kind->name);
    }
    gateway_token_row t = {.purpose = "PASSWORD_RESET"};
    if ((rc = s_valid_hours(cmd, rq->valid_hours, RESET_HOURS_DEFAULT, &t.expires_at_us)) ||
        (rc = ccip_command_new_id(cmd, t.id)))
        return rc;
    snprintf(t.account_id, sizeof t.account_id, "%s", acc.id);
    snprintf(t.created_by, sizeof t.created_by, "%s", cmd->actor.id);
    char token[GATEWAY_TOKEN_LEN + 1];
    uint8_t hash[32];
    gateway_token_new(token);
    gateway_sha256_text(token, hash);
    if ((rc = gateway_token_insert(cmd->db, hash, &t)) < 0 ||
        (rc = gateway_audit(cmd->db, "password.reset_issued", "ok", acc.id, acc.login,
                            cmd->actor.id, "", t.id)) < 0)
        return rc;
    Ccip__Gateway__ResetReply reply = CCIP__GATEWAY__RESET_REPLY__INIT;
    reply.account_id = acc.id;
    reply.token = token;
    reply.expires_at_us = t.expires_at_us;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- consumer: intake.organisation.verified.v1 ------------------------------------------------
 */

#define PENDING_MAX 64

int gateway_on_organisation_verified(ccip_db *db, const Ccip__Envelope *event, void *arg)
{
    (void)arg;
    char err[256];
    Ccip__Intake__OrganisationVerified *ev =
        (Ccip__Intake__OrganisationVerified *)ccip_payload_unpack(
            &ccip__intake__organisation_verified__descriptor, event->payload.data,
            event->payload.len, event->payload.len + 1, err, sizeof err);
    if (!ev) {
        ccip_log_warn("skipping a malformed intake.organisation.verified.v1", "reason", err);
        return 0;
    }
    int rc = CCIP_DB_OK;
    gateway_binding *bs = calloc(PENDING_MAX, sizeof *bs);
    char(*accounts)[CCIP_UUID_STRLEN + 1] = calloc(PENDING_MAX, sizeof *accounts);
    char(*logins)[GATEWAY_LOGIN_MAX + 1] = calloc(PENDING_MAX, sizeof *logins);
    ccip_arena *a = ccip_arena_new();
    size_t n = 0;
    if (!bs || !accounts || !logins || !a) {
        rc = -1; /* out of memory: the consumer tries again later */
        goto out;
    }
    if ((rc = gateway_bindings_pending(db, ev->uscc, bs, accounts, logins, PENDING_MAX, &n)) < 0)
        goto out;
    char by[GATEWAY_ACTOR_MAX + 1];
    snprintf(by, sizeof by, "%s", event->actor_id[0] ? event->actor_id : "intake");
    for (size_t i = 0; i < n; i++) {
        gateway_binding *b = &bs[i];
        const char *type, *outcome;
        if (b->registered) {
            rc = gateway_binding_activate(db, b->id, by, "the organisation was verified");
            b->status = CCIP__GATEWAY__BINDING_STATUS__ACTIVE;
            snprintf(b->granted_by, sizeof b->granted_by, "%s", by);
            type = "gateway.account.binding_granted.v1";
            outcome = "confirmed";
        } else {
            rc = gateway_binding_revoke(db, b->id, "gateway",
                                        "the organisation was registered through another account; "
                                        "ask one of its users for an invitation");
            b->status = CCIP__GATEWAY__BINDING_STATUS__REVOKED;
            type = "gateway.account.binding_revoked.v1";
            outcome = "declined";
        }
        if (rc < 0 || (rc = gateway_audit(db, "binding.verify", outcome, accounts[i], logins[i], by,
                                          "", b->id)) < 0)
            goto out;
        Ccip__Gateway__BindingChanged msg = CCIP__GATEWAY__BINDING_CHANGED__INIT;
        msg.account_id = accounts[i];
        msg.login = logins[i];
        msg.binding = gateway_binding_message(b, logins[i], a);
        if (!msg.binding) {
            rc = -1;
            goto out;
        }
        if ((rc = ccip_outbox_emit_caused(db, event, type, "account", accounts[i], &msg.base)) < 0)
            goto out;
    }
    rc = 0;
out:
    ccip_arena_destroy(&a);
    free(bs);
    free(accounts);
    free(logins);
    protobuf_c_message_free_unpacked(&ev->base, NULL);
    return rc;
}
