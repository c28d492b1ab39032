/*
 * ccipctl notify ...: the inbox and its messages from the command line:
 * a person's items (list, count, show), preferences (show, set), the
 * deliveries and their state, a failed one sent again (staff), and the
 * rebuild of the inbox from the streams (admin). Replies are printed for
 * people, with --json as one JSON object mirroring the reply message
 * (proto/ccip/notify.proto).
 *
 * Whose inbox it is comes from the global --role and --actor, as the
 * gateway sets them: "--role applicant --actor org:<USCC>", "--role expert
 * --actor expert:<id>", "--role staff --actor person:<login>".
 */
#include <stdio.h>
#include <string.h>

#include "ccip/notify.pb-c.h"
#include "ctl.h"

#define Q(m) (&ccip__notify__##m##_request__descriptor)
#define R(m) (&ccip__notify__##m##_reply__descriptor)

static const char *s_enum(const ProtobufCEnumDescriptor *d, int v)
{
    const ProtobufCEnumValue *e = protobuf_c_enum_descriptor_get_value(d, v);
    return e ? e->name : "?";
}

static void s_item_line(const Ccip__Notify__Item *it)
{
    char since[40], due[40];
    printf("%-6s %s  %s  %s\n", s_enum(&ccip__notify__item_state__descriptor, (int)it->state),
           it->id, ctl_time_text(it->since_us, 1, since, sizeof since), it->title);
    printf("       %s from %s, %s %s%s%s%s\n", it->kind, it->service, it->object_type, it->link,
           it->due_us ? ", due " : "",
           it->due_us ? ctl_time_text(it->due_us, 1, due, sizeof due) : "",
           it->delivery_failed ? ", A DELIVERY FAILED" : "");
}

static void s_print_list(const ProtobufCMessage *m, ctl_args *a)
{
    const Ccip__Notify__ListInboxReply *r = (const Ccip__Notify__ListInboxReply *)m;
    if (!r->n_items)
        printf("no items\n");
    for (size_t i = 0; i < r->n_items; i++)
        s_item_line(r->items[i]);
    if (r->next_after_id[0])
        printf("more: --after %s\n", r->next_after_id);
}

static void s_print_count(const ProtobufCMessage *m, ctl_args *a)
{
    const Ccip__Notify__CountInboxReply *r = (const Ccip__Notify__CountInboxReply *)m;
    printf("open %d (overdue %d), notices of the last 30 days %d\n", r->open, r->overdue,
           r->notices);
    for (size_t i = 0; i < r->n_by_service; i++)
        printf("  %-12s %d\n", r->by_service[i]->service, r->by_service[i]->open);
}

static void s_delivery_line(const Ccip__Notify__Delivery *d)
{
    char when[40];
    printf("%-8s %-5s %s  to %s (%s), %d attempt%s",
           s_enum(&ccip__notify__delivery_state__descriptor, (int)d->state),
           s_enum(&ccip__notify__channel__descriptor, (int)d->channel), d->id, d->address, d->login,
           d->attempts, d->attempts == 1 ? "" : "s");
    if (d->sent_at_us)
        printf(", sent %s", ctl_time_text(d->sent_at_us, 1, when, sizeof when));
    else if (d->due_at_us)
        printf(", due %s", ctl_time_text(d->due_at_us, 1, when, sizeof when));
    if (d->digest_items)
        printf(", a digest of %d items", d->digest_items);
    printf("\n");
    if (d->error[0])
        printf("         %s\n", d->error);
}

static void s_print_item(const ProtobufCMessage *m, ctl_args *a)
{
    const Ccip__Notify__Item *it = ((const Ccip__Notify__ItemReply *)m)->item;
    if (!it)
        return;
    s_item_line(it);
    if (it->subject[0])
        printf("       about: %s\n", it->subject);
    if (it->detail[0])
        printf("       detail: %s\n", it->detail);
    if (it->closed_by[0]) {
        char when[40];
        printf("       settled by %s at %s\n", it->closed_by,
               ctl_time_text(it->closed_at_us, 1, when, sizeof when));
    }
    for (size_t i = 0; i < it->n_deliveries; i++) {
        printf("  ");
        s_delivery_line(it->deliveries[i]);
    }
}

static void s_print_deliveries(const ProtobufCMessage *m, ctl_args *a)
{
    const Ccip__Notify__ListDeliveriesReply *r = (const Ccip__Notify__ListDeliveriesReply *)m;
    if (!r->n_deliveries)
        printf("no deliveries\n");
    for (size_t i = 0; i < r->n_deliveries; i++)
        s_delivery_line(r->deliveries[i]);
    if (r->next_after_id[0])
        printf("more: --after %s\n", r->next_after_id);
}

static void s_print_resend(const ProtobufCMessage *m, ctl_args *a)
{
    const Ccip__Notify__DeliveryReply *r = (const Ccip__Notify__DeliveryReply *)m;
    printf("sent again (replaces %s):\n", r->replaces);
    if (r->delivery)
        s_delivery_line(r->delivery);
}

static void s_print_prefs(const ProtobufCMessage *m, ctl_args *a)
{
    const Ccip__Notify__Preferences *p = ((const Ccip__Notify__PreferencesReply *)m)->preferences;
    if (!p)
        return;
    printf("login       %s (%s)\ne-mail      %s\nmobile      %s\nlanguage    %s\n", p->login,
           p->name, p->email[0] ? p->email : "-", p->mobile[0] ? p->mobile : "-", p->language);
    printf("quiet hours %s\n", p->quiet_start[0] ? "" : "none");
    if (p->quiet_start[0])
        printf("            %s-%s Beijing time (SMS held)\n", p->quiet_start, p->quiet_end);
    printf("digest      %s%s\n", p->digest ? "daily at " : "no", p->digest ? p->digest_time : "");
    for (size_t i = 0; i < p->n_kinds; i++)
        printf("kind        %s: e-mail %s, SMS %s\n", p->kinds[i]->kind,
               p->kinds[i]->email ? "yes" : "no", p->kinds[i]->sms ? "yes" : "no");
    for (size_t i = 0; i < p->n_actors; i++)
        printf("acts as     %s\n", p->actors[i]);
}

static void s_print_rebuild(const ProtobufCMessage *m, ctl_args *a)
{
    const Ccip__Notify__RebuildReply *r = (const Ccip__Notify__RebuildReply *)m;
    for (size_t i = 0; i < r->n_replayed; i++)
        printf("replayed %-10s 1..%llu\n", r->replayed[i]->producer,
               (unsigned long long)r->replayed[i]->position);
    printf("items %llu, checksum %s -> %s (%s), %.1f s\n", (unsigned long long)r->items,
           r->checksum_before, r->checksum_after,
           strcmp(r->checksum_before, r->checksum_after) == 0 ? "unchanged" : "CHANGED",
           (double)r->took_us / 1e6);
}

static void s_print_checksum(const ProtobufCMessage *m, ctl_args *a)
{
    const Ccip__Notify__ChecksumReply *r = (const Ccip__Notify__ChecksumReply *)m;
    printf("%s  %llu items\n", r->checksum, (unsigned long long)r->items);
}

/* --kind KIND=email,sms (repeated): channels per kind; "KIND=" for none. */
static int s_prefs_set(ctl_opts *o, ctl_args *a)
{
    Ccip__Notify__SetPreferencesRequest rq = CCIP__NOTIFY__SET_PREFERENCES_REQUEST__INIT;
    int n = ctl_given(a, "kind");
    rq.kinds = ctl_messages(a, &ccip__notify__kind_channels__descriptor, (size_t)n);
    rq.n_kinds = (size_t)n;
    for (int i = 0; i < n; i++) {
        char *channels = NULL;
        char *kind = ctl_cut(a, ctl_str_at(a, "kind", i), '=', 0, &channels);
        if (!channels) {
            ctl_wrong("--kind", "KIND=CHANNELS such as application_returned=email,sms",
                      ctl_str_at(a, "kind", i));
            return CTL_USAGE;
        }
        rq.kinds[i]->kind = kind;
        rq.kinds[i]->email = strstr(channels, "email") != NULL;
        rq.kinds[i]->sms = strstr(channels, "sms") != NULL;
    }
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_LIST[] = {
    CTL_ENUM("state", "state", &ccip__notify__item_state__descriptor, NULL, 0),
    CTL_STR("service", "service", 0),
    CTL_STR("after", "after_id", 0),
    CTL_INT("limit", "limit", 1, 500, 0),
    CTL_STR("lang", "language", 0),
    {0}};
static const ctl_arg A_SHOW[] = {
    CTL_STR("ITEM", "item_id", CTL_ARG), CTL_STR("lang", "language", 0), {0}};
static const ctl_arg A_LOGIN[] = {CTL_STR("LOGIN", "login", CTL_ARG), {0}};
static const ctl_arg A_PREFS_SET[] = {CTL_STR("LOGIN", "login", CTL_ARG),
                                      CTL_STR("language", "language", 0),
                                      CTL_STR("quiet-start", "quiet_start", 0),
                                      CTL_STR("quiet-end", "quiet_end", 0),
                                      CTL_FLAG("digest", "digest"),
                                      CTL_STR("digest-time", "digest_time", 0),
                                      CTL_STR("kind", NULL, CTL_REPEATED),
                                      {0}};
static const ctl_arg A_DELIVERIES[] = {
    CTL_STR("item", "item_id", 0),
    CTL_STR("login", "login", 0),
    CTL_ENUM("state", "state", &ccip__notify__delivery_state__descriptor, NULL, 0),
    CTL_STR("after", "after_id", 0),
    CTL_INT("limit", "limit", 1, 1000, 0),
    {0}};
static const ctl_arg A_RESEND[] = {
    CTL_STR("DELIVERY", "delivery_id", CTL_ARG), CTL_STR("reason", "reason", CTL_REQUIRED), {0}};

static const ctl_command S_COMMANDS[] = {
    {"inbox list", "[--state open|done|notice] [--service S] [--after ID] [--limit N] [--lang en]",
     A_LIST, "notify.inbox.list.v1", Q(list_inbox), R(list_inbox), s_print_list,
     .summary = "the caller's items, newest first"},
    {"inbox count", NULL, NULL, "notify.inbox.count.v1", Q(count_inbox), R(count_inbox),
     s_print_count, .summary = "open and overdue items (the badge)"},
    {"inbox show", "ITEM [--lang en]", A_SHOW, "notify.inbox.get.v1", Q(get_item), R(item),
     s_print_item, .summary = "one item with its deliveries"},
    {"prefs show", "LOGIN", A_LOGIN, "notify.preferences.get.v1", Q(get_preferences),
     R(preferences), s_print_prefs, .summary = "a person's channels, quiet hours, digest"},
    {"prefs set",
     "LOGIN [--language zh-CN|en] [--quiet-start HH:MM --quiet-end HH:MM] [--digest] "
     "[--digest-time HH:MM] [--kind KIND=email,sms ...]",
     A_PREFS_SET, "notify.preferences.set.v1", Q(set_preferences), R(preferences), s_print_prefs,
     s_prefs_set, .summary = "replaces a person's preferences"},
    {"deliveries", "[--item ID] [--login L] [--state failed|sent|...] [--after ID] [--limit N]",
     A_DELIVERIES, "notify.delivery.list.v1", Q(list_deliveries), R(list_deliveries),
     s_print_deliveries, .summary = "deliveries and their state"},
    {"delivery resend", "DELIVERY --reason TEXT", A_RESEND, "notify.delivery.resend.v1", Q(resend),
     R(delivery), s_print_resend, .who = "--role staff --actor ID",
     .summary = "a FAILED delivery sent again (staff)"},
    {"inbox rebuild", NULL, NULL, "notify.inbox.rebuild.v1", Q(rebuild), R(rebuild),
     s_print_rebuild, .who = "--role admin --actor ID",
     .summary = "the inbox made again from every stream (admin)"},
    {"inbox checksum", NULL, NULL, "notify.inbox.checksum.v1", Q(checksum), R(checksum),
     s_print_checksum, .summary = "md5 over every item"},
};

static const ctl_service S_NOTIFY = {
    .name = "notify",
    .header = "usage: ccipctl [--json] --role ROLE --actor ID notify COMMAND [ARGS]\n"
              "  whose inbox: the actor as the gateway sets it (org:<USCC>, expert:<id>,\n"
              "  agency:<id>, district:<code>, person:<login>). Every command has --help.\n\n",
    .list_prefix = "  notify ",
    .group_width = 12,
    .verb_width = 10,
    .commands = S_COMMANDS,
    .ncommands = sizeof S_COMMANDS / sizeof S_COMMANDS[0],
};

int ctl_notify(ctl_opts *o, int argc, char **argv)
{
    return ctl_service_run(o, &S_NOTIFY, argc, argv);
}
