/*
 * ccipctl admin consumer status | reset: how a service's consumers stand,
 * and an operator's deliberate reset of one of its cursors (the skeleton's
 * built-in commands ccip.ping.v1 and ccip.consumer.reset.v1, which every
 * service answers; docs/OPERATIONS.md says when and how).
 *
 * Lines of the command table (ctl_args.h) like every other service's; the
 * one difference is where a command goes: to the SERVICE the command line
 * names, not to a service called "admin".
 */
#include <inttypes.h>
#include <stdio.h>

#include "ccip/bus.pb-c.h"
#include "ctl.h"

#define Q(m) &ccip__##m##__descriptor
#define R(m) &ccip__##m##__descriptor

/* Sends the command a was parsed for, its request filled from the table
 * and rq's own fields, to the service its SERVICE argument names, and
 * prints the reply. Returns the exit code. */
static int s_send_to_service(ctl_opts *o, ctl_args *a, ProtobufCMessage *rq)
{
    const ctl_command *cmd = ctl_args_command(a);
    ctl_fill(a, rq);
    ccip_client *c = NULL;
    ProtobufCMessage *reply = NULL;
    int code = ctl_request(o, &c, ctl_str(a, "SERVICE"), cmd->type, rq, cmd->reply, &reply);
    ccip_client_destroy(&c);
    if (reply) {
        ctl_print(o, a, reply, cmd->print);
        protobuf_c_message_free_unpacked(reply, NULL);
    }
    return code;
}

static void s_print_status(const ProtobufCMessage *m, ctl_args *a)
{
    (void)a;
    const Ccip__PingReply *p = (const Ccip__PingReply *)m;
    printf("%s replica %s: %zu consumer%s\n", p->service, p->instance, p->n_consumers,
           p->n_consumers == 1 ? "" : "s");
    for (size_t i = 0; i < p->n_consumers; i++) {
        const Ccip__ConsumerStatus *s = p->consumers[i];
        printf("  %-12s cursor %-10" PRIu64 " producer head %-10" PRIu64 " %s%s\n", s->producer,
               s->cursor, s->producer_head, s->stalled ? "STOPPED: " : "consuming",
               s->stalled ? s->stalled_reason : "");
    }
}

static int s_status(ctl_opts *o, ctl_args *a)
{
    Ccip__PingRequest rq = CCIP__PING_REQUEST__INIT;
    return s_send_to_service(o, a, &rq.base);
}

static void s_print_reset(const ProtobufCMessage *m, ctl_args *a)
{
    const Ccip__ConsumerResetReply *r = (const Ccip__ConsumerResetReply *)m;
    printf("%s's cursor of %s moved from %" PRIu64 " to %" PRIu64 "%s%s\n", ctl_str(a, "SERVICE"),
           r->producer, r->from_position, r->to_position,
           r->was_stalled ? "; it had stopped: " : "", r->was_stalled ? r->stalled_reason : "");
}

/* Refused here without --confirm, before anything is sent: the operator is
 * told what the reset does (the service refuses it without confirm too). */
static int s_reset(ctl_opts *o, ctl_args *a)
{
    if (!ctl_int(a, "confirm")) {
        fprintf(stderr,
                "ccipctl: refused: resetting %s's cursor of %s to %" PRId64 " applies %s's events"
                " after %" PRId64 " (again) and never applies those up to it that were not;"
                " check docs/OPERATIONS.md, then add --confirm\n",
                ctl_str(a, "SERVICE"), ctl_str(a, "PRODUCER"), ctl_int(a, "to"),
                ctl_str(a, "PRODUCER"), ctl_int(a, "to"));
        return CTL_USAGE;
    }
    Ccip__ConsumerResetRequest rq = CCIP__CONSUMER_RESET_REQUEST__INIT;
    return s_send_to_service(o, a, &rq.base);
}

static const ctl_arg A_STATUS[] = {CTL_STR("SERVICE", NULL, CTL_ARG), {0}};
static const ctl_arg A_RESET[] = {CTL_STR("SERVICE", NULL, CTL_ARG),
                                  CTL_STR("PRODUCER", "producer", CTL_ARG),
                                  CTL_INT("to", "to_position", 0, INT64_MAX, CTL_REQUIRED),
                                  CTL_FLAG("confirm", "confirm"),
                                  {0}};

#define ADMIN "--role admin --actor ID"

static const ctl_command S_COMMANDS[] = {
    {"consumer status", "SERVICE", A_STATUS, "ccip.ping.v1", Q(ping_request), R(ping_reply),
     s_print_status, s_status, .who = ADMIN, .summary = "each consumer of a replica",
     .about = "  each consumer of one replica of SERVICE: the producer, its cursor, the\n"
              "  producer's head as last seen, and STOPPED with the reason when it stopped\n"
              "  consuming that producer (its stream went below the cursor: the producer was\n"
              "  restored to an earlier point alone; or its events are no longer retained)\n"},
    {"consumer reset", "SERVICE PRODUCER --to N --confirm", A_RESET, "ccip.consumer.reset.v1",
     Q(consumer_reset_request), R(consumer_reset_reply), s_print_reset, s_reset, .who = ADMIN,
     .summary = "move a cursor after a restore",
     .about = "  sets SERVICE's cursor of PRODUCER to N and lets a stopped consumer go on\n"
              "  after N: events after N are applied (again), events up to N that were never\n"
              "  applied never will be. Refused without --confirm. See docs/OPERATIONS.md.\n"},
};

static const ctl_service S_ADMIN = {
    .name = "admin",
    .header = "usage: ccipctl [--json] --role admin --actor ID admin GROUP COMMAND [ARGS]\n"
              "  the skeleton's operator commands, which every service answers. Every command\n"
              "  has --help.\n\n",
    .list_prefix = "  admin ",
    .group_width = 9,
    .verb_width = 7,
    .commands = S_COMMANDS,
    .ncommands = sizeof S_COMMANDS / sizeof S_COMMANDS[0],
};

int ctl_admin(ctl_opts *o, int argc, char **argv)
{
    return ctl_service_run(o, &S_ADMIN, argc, argv);
}
