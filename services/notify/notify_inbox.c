#include "notify_inbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_pgarray.h"
#include "notify_deliveries.h"
#include "notify_message.h"

/* The columns an Item is read from (table item aliased i). */
#define S_ITEM_COLUMNS                                                                             \
    "i.id, i.kind, i.addressee, i.service, i.object_type, i.object_id, i.subject, i.detail, "      \
    "i.state, " CCIP_SQL_US("i.since") ", coalesce(" CCIP_SQL_US(                                  \
        "i.due") ", 0), "                                                                          \
                 "coalesce(" CCIP_SQL_US(                                                          \
                     "i.closed_at") ", 0), coalesce(i.closed_by, ''), i.event_id, "                \
                                    "EXISTS (SELECT 1 FROM delivery f WHERE f.item_id = i.id AND " \
                                    "f.state = 'FAILED')"

static const ccip_db_stmt S_LIST = {
    "notify_inbox_list", "SELECT " S_ITEM_COLUMNS " FROM item i "
                         "WHERE i.addressee = ANY ($1::text[]) "
                         "AND (($2 = '' AND i.state <> 'DONE') OR i.state = $2) "
                         "AND ($3 = '' OR i.service = $3) "
                         "AND ($4 = '' OR (i.since, i.id) < (SELECT a.since, a.id FROM item a "
                         "WHERE a.id = nullif($4, '')::uuid AND a.addressee = ANY ($1::text[]))) "
                         "ORDER BY i.since DESC, i.id DESC LIMIT $5"};

static const ccip_db_stmt S_COUNT = {
    "notify_inbox_count",
    "SELECT count(*) FILTER (WHERE state = 'OPEN'), "
    "count(*) FILTER (WHERE state = 'OPEN' AND due < now()), "
    "count(*) FILTER (WHERE state = 'NOTICE' AND since > now() - interval '30 days') "
    "FROM item WHERE addressee = ANY ($1::text[])"};

static const ccip_db_stmt S_COUNT_BY_SERVICE = {
    "notify_inbox_count_by_service",
    "SELECT service, count(*) FROM item WHERE addressee = ANY ($1::text[]) AND state = 'OPEN' "
    "GROUP BY service ORDER BY service"};

static const ccip_db_stmt S_GET = {
    "notify_inbox_get", "SELECT " S_ITEM_COLUMNS
                        " FROM item i WHERE i.id = $1::uuid AND i.addressee = ANY ($2::text[])"};

static const ccip_db_stmt S_ITEM_DELIVERIES = {"notify_item_deliveries",
                                               "SELECT " NOTIFY_DELIVERY_COLUMNS
                                               " FROM delivery d WHERE d.item_id = $1::uuid "
                                               "ORDER BY d.created_at, d.id"};

void notify_caller_addressees(const notify_caller *c, char *buf, size_t len)
{
    ccip_pgarray a = CCIP_PGARRAY_INIT;
    ccip_pgarray_text(&a, c->actor);
    if (c->role[0])
        ccip_pgarray_text(&a, c->role);
    const char *v = ccip_pgarray_value(&a);
    snprintf(buf, len, "%s", v ? v : "{}");
    ccip_pgarray_release(&a);
}

const char *notify_object_path(const char *object_type, const char *object_id, char *buf,
                               size_t len)
{
    static const char *const paths[][2] = {{"application", "/applications/"},
                                           {"organisation", "/organisations/"},
                                           {"award", "/awards/"},
                                           {"report", "/reports/"},
                                           {"work", "/works/"},
                                           {"task", "/tasks/"},
                                           {"project", "/projects/"}};
    buf[0] = '\0';
    for (size_t i = 0; object_type && i < sizeof paths / sizeof paths[0]; i++)
        if (strcmp(object_type, paths[i][0]) == 0)
            snprintf(buf, len, "%s%s", paths[i][1], object_id ? object_id : "");
    return buf;
}

/* An Item from row r of res (S_ITEM_COLUMNS), its title in `language`. */
static Ccip__Notify__Item *s_item(ccip_arena *a, const PGresult *res, int r, const char *language)
{
    Ccip__Notify__Item *it = ccip_arena_alloc(a, sizeof *it);
    if (!it)
        return NULL;
    *it = (Ccip__Notify__Item)CCIP__NOTIFY__ITEM__INIT;
    it->id = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
    it->kind = ccip_arena_strdup(a, PQgetvalue(res, r, 1));
    it->addressee = ccip_arena_strdup(a, PQgetvalue(res, r, 2));
    it->service = ccip_arena_strdup(a, PQgetvalue(res, r, 3));
    it->object_type = ccip_arena_strdup(a, PQgetvalue(res, r, 4));
    it->object_id = ccip_arena_strdup(a, PQgetvalue(res, r, 5));
    it->subject = ccip_arena_strdup(a, PQgetvalue(res, r, 6));
    it->detail = ccip_arena_strdup(a, PQgetvalue(res, r, 7));
    int st = ccip_enum_value(&ccip__notify__item_state__descriptor, PQgetvalue(res, r, 8));
    it->state =
        st > 0 ? (Ccip__Notify__ItemState)st : CCIP__NOTIFY__ITEM_STATE__ITEM_STATE_UNSPECIFIED;
    it->since_us = ccip_db_cell_i64(res, r, 9);
    it->due_us = ccip_db_cell_i64(res, r, 10);
    it->closed_at_us = ccip_db_cell_i64(res, r, 11);
    it->closed_by = ccip_arena_strdup(a, PQgetvalue(res, r, 12));
    it->event_id = ccip_arena_strdup(a, PQgetvalue(res, r, 13));
    it->delivery_failed = ccip_db_cell_bool(res, r, 14);
    char path[256], due[32];
    it->link =
        ccip_arena_strdup(a, notify_object_path(it->object_type, it->object_id, path, sizeof path));
    const notify_words *w = notify_words_get(it->kind, language);
    ccip_text title = CCIP_TEXT_INIT;
    notify_values v = {.subject = it->subject,
                       .detail = it->detail,
                       .due = notify_beijing_text(it->due_us, due, sizeof due),
                       .link = it->link};
    notify_render(w ? w->title : it->kind, &v, 0, &title);
    it->title = ccip_arena_strdup(a, title.failed ? it->kind : title.p);
    ccip_text_release(&title);
    return it;
}

static int s_language_arg(ccip_command *cmd, const char *given, const char **out)
{
    *out = notify_language(given);
    if (*out)
        return 0;
    return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                             "field `language` must be \"zh-CN\" or \"en\" (or empty for zh-CN), "
                             "got \"%.20s\"",
                             given);
}

int notify_inbox_list_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Notify__ListInboxRequest *rq = request;
    notify_caller c;
    const char *lang;
    int rc = notify_caller_get(cmd, &c);
    if (rc == 0)
        rc = s_language_arg(cmd, rq->language, &lang);
    if (rc)
        return rc;
    if (rq->after_id[0] && !ccip_uuid_valid(rq->after_id))
        return ccip_command_check_uuid(cmd, "after_id", rq->after_id);
    if (rq->limit < 0 || rq->limit > NOTIFY_PAGE_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `limit` must be 0 (for %d) to %d, got %d",
                                 NOTIFY_PAGE_DEFAULT, NOTIFY_PAGE_MAX, rq->limit);
    const char *state = "";
    if (rq->state != CCIP__NOTIFY__ITEM_STATE__ITEM_STATE_UNSPECIFIED) {
        state = ccip_enum_name(&ccip__notify__item_state__descriptor, (int)rq->state);
        if (!state)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `state` must be OPEN, DONE or NOTICE, got %d",
                                     (int)rq->state);
    }
    int limit = rq->limit ? rq->limit : NOTIFY_PAGE_DEFAULT;
    char who[2 * NOTIFY_ACTOR_MAX + 16], lim[16];
    notify_caller_addressees(&c, who, sizeof who);
    snprintf(lim, sizeof lim, "%d", limit + 1); /* one more: is there a next page? */
    const char *p[] = {who, state, rq->service, rq->after_id, lim};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_LIST, 5, p, NULL, NULL, &res)) != 0)
        return rc;
    int n = PQntuples(res);
    Ccip__Notify__ListInboxReply reply = CCIP__NOTIFY__LIST_INBOX_REPLY__INIT;
    int shown = n > limit ? limit : n;
    reply.items = ccip_arena_alloc(a, ((size_t)shown + 1) * sizeof *reply.items);
    for (int r = 0; reply.items && r < shown; r++)
        reply.items[reply.n_items++] = s_item(a, res, r, lang);
    reply.next_after_id =
        ccip_arena_strdup(a, n > limit && shown > 0 ? PQgetvalue(res, shown - 1, 0) : "");
    PQclear(res);
    if (ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory listing the inbox");
    return ccip_command_reply(cmd, &reply.base);
}

int notify_inbox_count_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    notify_caller c;
    int rc = notify_caller_get(cmd, &c);
    if (rc)
        return rc;
    char who[2 * NOTIFY_ACTOR_MAX + 16];
    notify_caller_addressees(&c, who, sizeof who);
    const char *p[] = {who};
    PGresult *res = NULL, *by = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_COUNT, 1, p, NULL, NULL, &res)) != 0)
        return rc;
    if ((rc = ccip_db_exec(cmd->db, &S_COUNT_BY_SERVICE, 1, p, NULL, NULL, &by)) != 0) {
        PQclear(res);
        return rc;
    }
    Ccip__Notify__CountInboxReply reply = CCIP__NOTIFY__COUNT_INBOX_REPLY__INIT;
    reply.open = (int32_t)ccip_db_cell_i64(res, 0, 0);
    reply.overdue = (int32_t)ccip_db_cell_i64(res, 0, 1);
    reply.notices = (int32_t)ccip_db_cell_i64(res, 0, 2);
    int n = PQntuples(by);
    reply.by_service = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof *reply.by_service);
    for (int r = 0; reply.by_service && r < n; r++) {
        Ccip__Notify__ServiceCount *sc = ccip_arena_alloc(a, sizeof *sc);
        if (!sc)
            break;
        *sc = (Ccip__Notify__ServiceCount)CCIP__NOTIFY__SERVICE_COUNT__INIT;
        sc->service = ccip_arena_strdup(a, PQgetvalue(by, r, 0));
        sc->open = (int32_t)ccip_db_cell_i64(by, r, 1);
        reply.by_service[reply.n_by_service++] = sc;
    }
    PQclear(res);
    PQclear(by);
    if (ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory counting the inbox");
    return ccip_command_reply(cmd, &reply.base);
}

int notify_inbox_get_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Notify__GetItemRequest *rq = request;
    notify_caller c;
    const char *lang;
    int rc = notify_caller_get(cmd, &c);
    if (rc == 0)
        rc = s_language_arg(cmd, rq->language, &lang);
    if (rc == 0)
        rc = ccip_command_check_uuid(cmd, "item_id", rq->item_id);
    if (rc)
        return rc;
    char who[2 * NOTIFY_ACTOR_MAX + 16];
    notify_caller_addressees(&c, who, sizeof who);
    const char *p[] = {rq->item_id, who};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_GET, 2, p, NULL, NULL, &res)) != 0)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "no item %s in the inbox of %s; notify.inbox.list.v1 lists yours",
                                 rq->item_id, c.actor);
    }
    Ccip__Notify__ItemReply reply = CCIP__NOTIFY__ITEM_REPLY__INIT;
    reply.item = s_item(a, res, 0, lang);
    PQclear(res);
    if ((rc = ccip_db_exec(cmd->db, &S_ITEM_DELIVERIES, 1, p, NULL, NULL, &res)) != 0)
        return rc;
    int n = PQntuples(res);
    if (reply.item) {
        reply.item->deliveries = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof(void *));
        for (int r = 0; reply.item->deliveries && r < n; r++)
            reply.item->deliveries[reply.item->n_deliveries++] =
                notify_delivery_from_row(a, res, r, 0);
    }
    PQclear(res);
    if (ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading an item");
    return ccip_command_reply(cmd, &reply.base);
}
