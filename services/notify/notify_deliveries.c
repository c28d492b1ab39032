#include "notify_deliveries.h"

#include <stdio.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "notify_inbox.h"

#define S_PAGE_DEFAULT 100
#define S_PAGE_MAX     1000
#define S_REASON_MAX   500

Ccip__Notify__Delivery *notify_delivery_from_row(ccip_arena *a, const PGresult *res, int row,
                                                 int col)
{
    Ccip__Notify__Delivery *d = ccip_arena_alloc(a, sizeof *d);
    if (!d)
        return NULL;
    *d = (Ccip__Notify__Delivery)CCIP__NOTIFY__DELIVERY__INIT;
    d->id = ccip_arena_strdup(a, PQgetvalue(res, row, col));
    d->item_id = ccip_arena_strdup(a, PQgetvalue(res, row, col + 1));
    d->login = ccip_arena_strdup(a, PQgetvalue(res, row, col + 2));
    int ch = ccip_enum_value(&ccip__notify__channel__descriptor, PQgetvalue(res, row, col + 3));
    d->channel = ch > 0 ? (Ccip__Notify__Channel)ch : CCIP__NOTIFY__CHANNEL__CHANNEL_UNSPECIFIED;
    d->address = ccip_arena_strdup(a, PQgetvalue(res, row, col + 4));
    int st =
        ccip_enum_value(&ccip__notify__delivery_state__descriptor, PQgetvalue(res, row, col + 5));
    d->state = st > 0 ? (Ccip__Notify__DeliveryState)st
                      : CCIP__NOTIFY__DELIVERY_STATE__DELIVERY_STATE_UNSPECIFIED;
    d->attempts = (int32_t)ccip_db_cell_i64(res, row, col + 6);
    d->due_at_us = ccip_db_cell_i64(res, row, col + 7);
    d->sent_at_us = ccip_db_cell_i64(res, row, col + 8);
    d->error = ccip_arena_strdup(a, PQgetvalue(res, row, col + 9));
    d->created_at_us = ccip_db_cell_i64(res, row, col + 10);
    d->digest_id = ccip_arena_strdup(a, PQgetvalue(res, row, col + 11));
    d->digest_items = (int32_t)ccip_db_cell_i64(res, row, col + 12);
    return d;
}

/* Staff and admin ($1) see every delivery; anyone else those of items
 * addressed to them ($2) and the digests of accounts acting as them ($3). */
static const ccip_db_stmt S_LIST = {
    "notify_delivery_list",
    "SELECT " NOTIFY_DELIVERY_COLUMNS " FROM delivery d "
    "WHERE ($1::boolean OR d.item_id IN (SELECT i.id FROM item i "
    "WHERE i.addressee = ANY ($2::text[])) OR (d.item_id IS NULL AND d.account_id IN "
    "(SELECT b.account_id FROM binding b WHERE b.status = 'ACTIVE' AND b.actor_id = $3))) "
    "AND ($4 = '' OR d.item_id = nullif($4, '')::uuid) "
    "AND ($5 = '' OR d.login = $5) AND ($6 = '' OR d.state = $6) "
    "AND ($7 = '' OR (d.created_at, d.id) < (SELECT x.created_at, x.id FROM delivery x "
    "WHERE x.id = nullif($7, '')::uuid)) "
    "ORDER BY d.created_at DESC, d.id DESC LIMIT $8"};

int notify_deliveries_list_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Notify__ListDeliveriesRequest *rq = request;
    notify_caller c;
    int rc = notify_caller_get(cmd, &c);
    if (rc == 0 && rq->item_id[0])
        rc = ccip_command_check_uuid(cmd, "item_id", rq->item_id);
    if (rc == 0 && rq->after_id[0])
        rc = ccip_command_check_uuid(cmd, "after_id", rq->after_id);
    if (rc)
        return rc;
    if (rq->limit < 0 || rq->limit > S_PAGE_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `limit` must be 0 (for %d) to %d, got %d", S_PAGE_DEFAULT,
                                 S_PAGE_MAX, rq->limit);
    const char *state = "";
    if (rq->state != CCIP__NOTIFY__DELIVERY_STATE__DELIVERY_STATE_UNSPECIFIED &&
        !(state = ccip_enum_name(&ccip__notify__delivery_state__descriptor, (int)rq->state)))
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `state` must be a DeliveryState, got %d", (int)rq->state);
    int limit = rq->limit ? rq->limit : S_PAGE_DEFAULT;
    char who[2 * NOTIFY_ACTOR_MAX + 16], lim[16];
    notify_caller_addressees(&c, who, sizeof who);
    snprintf(lim, sizeof lim, "%d", limit + 1);
    const char *p[] = {c.center ? "true" : "false",
                       who,
                       c.actor,
                       rq->item_id,
                       rq->login,
                       state,
                       rq->after_id,
                       lim};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_LIST, 8, p, NULL, NULL, &res)) != 0)
        return rc;
    int n = PQntuples(res), shown = n > limit ? limit : n;
    Ccip__Notify__ListDeliveriesReply reply = CCIP__NOTIFY__LIST_DELIVERIES_REPLY__INIT;
    reply.deliveries = ccip_arena_alloc(a, ((size_t)shown + 1) * sizeof *reply.deliveries);
    for (int r = 0; reply.deliveries && r < shown; r++)
        reply.deliveries[reply.n_deliveries++] = notify_delivery_from_row(a, res, r, 0);
    reply.next_after_id =
        ccip_arena_strdup(a, n > limit && shown > 0 ? PQgetvalue(res, shown - 1, 0) : "");
    PQclear(res);
    if (ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory listing deliveries");
    return ccip_command_reply(cmd, &reply.base);
}

static const ccip_db_stmt S_STATE = {
    "notify_delivery_state", "SELECT d.state, d.item_id IS NULL, "
                             "(SELECT r.id::text FROM delivery r WHERE r.replaces = d.id LIMIT 1) "
                             "FROM delivery d WHERE d.id = $1::uuid"};

/* The new delivery goes to the account's current address (staff may have
 * had it corrected through the gateway since). */
static const ccip_db_stmt S_RESEND = {
    "notify_delivery_resend",
    "WITH n AS (INSERT INTO delivery (id, item_id, account_id, login, channel, address, name, "
    "language, state, due_at, replaces, note) "
    "SELECT $2::uuid, d.item_id, d.account_id, d.login, d.channel, "
    "coalesce(nullif(CASE WHEN d.channel = 'EMAIL' THEN p.email ELSE p.mobile END, ''), "
    "d.address), coalesce(p.name, d.name), d.language, 'PENDING', now(), d.id, $3 "
    "FROM delivery d LEFT JOIN person p ON p.account_id = d.account_id "
    "WHERE d.id = $1::uuid AND d.state = 'FAILED' AND d.item_id IS NOT NULL "
    "RETURNING *) "
    "SELECT " NOTIFY_DELIVERY_COLUMNS ", pg_notify('notify_delivery', '') FROM n d"};

int notify_deliveries_resend_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Notify__ResendRequest *rq = request;
    int rc = ccip_command_check_uuid(cmd, "delivery_id", rq->delivery_id);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "reason", rq->reason, 1, S_REASON_MAX, 0);
    if (rc)
        return rc;
    PGresult *res = NULL;
    const char *p1[] = {rq->delivery_id};
    if ((rc = ccip_db_exec(cmd->db, &S_STATE, 1, p1, NULL, NULL, &res)) != 0)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "no delivery %s; notify.delivery.list.v1 lists them",
                                 rq->delivery_id);
    }
    char state[16], again[CCIP_UUID_STRLEN + 1];
    snprintf(state, sizeof state, "%s", PQgetvalue(res, 0, 0));
    int digest = ccip_db_cell_bool(res, 0, 1);
    snprintf(again, sizeof again, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    if (strcmp(state, "FAILED") != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "delivery %s is %s; only a FAILED delivery is sent again",
                                 rq->delivery_id, state);
    if (digest)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "delivery %s is a digest, which is not sent again; its items "
                                 "stay in the inbox",
                                 rq->delivery_id);
    if (again[0])
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "delivery %s was sent again already, as %s", rq->delivery_id,
                                 again);
    char id[CCIP_UUID_STRLEN + 1];
    if ((rc = ccip_command_new_id(cmd, id)) != 0)
        return rc;
    char note[S_REASON_MAX * 4 + 200];
    snprintf(note, sizeof note, "resent by %s: %s", cmd->actor.id, rq->reason);
    const char *p[] = {rq->delivery_id, id, note};
    if ((rc = ccip_db_exec(cmd->db, &S_RESEND, 3, p, NULL, NULL, &res)) != 0)
        return rc;
    Ccip__Notify__DeliveryReply reply = CCIP__NOTIFY__DELIVERY_REPLY__INIT;
    reply.delivery = PQntuples(res) ? notify_delivery_from_row(a, res, 0, 0) : NULL;
    reply.replaces = (char *)rq->delivery_id;
    PQclear(res);
    if (!reply.delivery || ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "could not read back the delivery just made");
    return ccip_command_reply(cmd, &reply.base);
}
