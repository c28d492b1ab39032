/*
 * notify_inbox: the reads of the inbox (notify.inbox.list.v1, .count.v1,
 * .get.v1). Every one reads only the caller's items (notify_caller): those
 * addressed to its actor id and, in one of the center's roles, to its role.
 * An item of someone else is NOT_FOUND, exactly like one that does not exist.
 */
#ifndef NOTIFY_INBOX_H
#define NOTIFY_INBOX_H

#include "notify.h"

/* Items per page when the request says 0, and at most. */
#define NOTIFY_PAGE_DEFAULT 50
#define NOTIFY_PAGE_MAX     500

/* The caller's addressees as a text[] parameter ("{\"org:...\",\"role:staff\"}")
 * into buf. */
void notify_caller_addressees(const notify_caller *c, char *buf, size_t len);

/* The console path of an object ("/applications/<id>"), "" for an unknown
 * type. Returns buf. */
const char *notify_object_path(const char *object_type, const char *object_id, char *buf,
                               size_t len);

/* notify.inbox.list.v1: ListInboxRequest -> ListInboxReply. */
int notify_inbox_list_cmd(ccip_command *cmd, ccip_arena *a, void *request);

/* notify.inbox.count.v1: CountInboxRequest -> CountInboxReply. */
int notify_inbox_count_cmd(ccip_command *cmd, ccip_arena *a, void *request);

/* notify.inbox.get.v1: GetItemRequest -> ItemReply (with its deliveries). */
int notify_inbox_get_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
