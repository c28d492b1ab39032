/*
 * notify_deliveries: deliveries as people see them (notify.delivery.list.v1)
 * and a failed one sent again (notify.delivery.resend.v1, staff).
 *
 * Staff and admin see every delivery; anyone else only the deliveries of
 * their own items (notify_inbox.h) and of their own login's digests.
 */
#ifndef NOTIFY_DELIVERIES_H
#define NOTIFY_DELIVERIES_H

#include <libpq-fe.h>

#include "notify.h"

/* The columns a Delivery is read from, in this order (for SELECT lists of
 * table delivery aliased d). */
#define NOTIFY_DELIVERY_COLUMNS                                                                    \
    "d.id, coalesce(d.item_id::text, ''), d.login, d.channel, d.address, d.state, d.attempts, "    \
    "coalesce(" CCIP_SQL_US("d.due_at") ", 0), coalesce(" CCIP_SQL_US(                             \
        "d.sent_at") ", 0), "                                                                      \
                     "d.error, " CCIP_SQL_US(                                                      \
                         "d.created_at") ", coalesce(d.digest_id::text, ''), d.digest_items"
#define NOTIFY_DELIVERY_NCOLUMNS 13

/* A Delivery from row `row` of res, starting at column `col`, allocated
 * from a (check ccip_arena_failed once the reply is built). */
Ccip__Notify__Delivery *notify_delivery_from_row(ccip_arena *a, const PGresult *res, int row,
                                                 int col);

/* notify.delivery.list.v1: ListDeliveriesRequest -> ListDeliveriesReply. */
int notify_deliveries_list_cmd(ccip_command *cmd, ccip_arena *a, void *request);

/* notify.delivery.resend.v1: ResendRequest -> DeliveryReply. Only a FAILED
 * delivery of an item may be sent again (FAILED_PRECONDITION otherwise);
 * the new one is PENDING, due now, to the account's current address. */
int notify_deliveries_resend_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
