/*
 * ccipctl admin consumer status | reset: how a service's consumers stand,
 * and an operator's deliberate reset of one of its cursors (the skeleton's
 * built-in commands ccip.ping.v1 and ccip.consumer.reset.v1, every service;
 * docs/OPERATIONS.md says when and how).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/bus.pb-c.h"
#include "ccip_envelope.h"
#include "ctl.h"

#define REPLY_MAX 65536 /* a ping or reset reply is a few hundred bytes */

static const char s_usage_text[] =
    "usage: ccipctl --role admin --actor ID admin consumer status SERVICE\n"
    "       ccipctl --role admin --actor ID admin consumer reset SERVICE PRODUCER --to N"
    " --confirm\n"
    "  status: each consumer of one replica of SERVICE: the producer, its cursor, the\n"
    "          producer's head as last seen, and STOPPED with the reason when it stopped\n"
    "          consuming that producer (its stream went below the cursor: the producer was\n"
    "          restored to an earlier point alone; or its events are no longer retained)\n"
    "  reset:  sets SERVICE's cursor of PRODUCER to N and lets a stopped consumer go on\n"
    "          after N: events after N are applied (again), events up to N that were never\n"
    "          applied never will be. Refused without --confirm. See docs/OPERATIONS.md.\n";

static int s_usage(int code)
{
    fputs(s_usage_text, code == CTL_OK ? stdout : stderr);
    return code;
}

/* Parses a position: digits only, at most INT64_MAX. Returns 0 or -1. */
static int s_position(const char *text, uint64_t *out)
{
    if (!text || !*text || strspn(text, "0123456789") != strlen(text))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(text, NULL, 10);
    if (errno || v > (unsigned long long)INT64_MAX)
        return -1;
    *out = v;
    return 0;
}

static int s_status(ctl_opts *o, const char *service)
{
    ccip_client *c = ctl_connect(o);
    if (!c)
        return CTL_LOCAL;
    int code;
    Ccip__Envelope *reply = ctl_call(o, c, service, "ccip.ping.v1", NULL, 0, &code);
    if (reply) {
        char err[256];
        Ccip__PingReply *p = (Ccip__PingReply *)ccip_payload_unpack(
            &ccip__ping_reply__descriptor, reply->payload.data, reply->payload.len, REPLY_MAX, err,
            sizeof err);
        if (!p) {
            fprintf(stderr, "ccipctl: %s\n", err);
            code = CTL_REFUSED;
        } else if (o->json) {
            ctl_json_message(stdout, &p->base);
            printf("\n");
        } else {
            printf("%s replica %s: %zu consumer%s\n", p->service, p->instance, p->n_consumers,
                   p->n_consumers == 1 ? "" : "s");
            for (size_t i = 0; i < p->n_consumers; i++) {
                const Ccip__ConsumerStatus *s = p->consumers[i];
                printf("  %-12s cursor %-10" PRIu64 " producer head %-10" PRIu64 " %s%s\n",
                       s->producer, s->cursor, s->producer_head,
                       s->stalled ? "STOPPED: " : "consuming", s->stalled ? s->stalled_reason : "");
            }
        }
        if (p)
            protobuf_c_message_free_unpacked(&p->base, NULL);
        ccip_envelope_free(&reply);
    }
    ccip_client_destroy(&c);
    return code;
}

static int s_reset(ctl_opts *o, int argc, char **argv)
{
    const char *service = NULL, *producer = NULL, *to_text = NULL;
    int confirm = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--confirm") == 0) {
            confirm = 1;
        } else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
            to_text = argv[++i];
        } else if (strncmp(argv[i], "--to=", 5) == 0) {
            to_text = argv[i] + 5;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "ccipctl: unknown option %s of admin consumer reset\n", argv[i]);
            return s_usage(CTL_USAGE);
        } else if (!service) {
            service = argv[i];
        } else if (!producer) {
            producer = argv[i];
        } else {
            fprintf(stderr,
                    "ccipctl: admin consumer reset takes SERVICE and PRODUCER, got \"%s\""
                    " too\n",
                    argv[i]);
            return s_usage(CTL_USAGE);
        }
    }
    uint64_t to = 0;
    if (!service || !producer || !to_text) {
        fprintf(stderr, "ccipctl: admin consumer reset needs SERVICE, PRODUCER and --to N\n");
        return s_usage(CTL_USAGE);
    }
    if (s_position(to_text, &to) < 0) {
        fprintf(stderr, "ccipctl: --to must be a position from 0 to %" PRId64 ", got \"%s\"\n",
                INT64_MAX, to_text);
        return CTL_USAGE;
    }
    if (!confirm) {
        fprintf(stderr,
                "ccipctl: refused: resetting %s's cursor of %s to %" PRIu64
                " applies %s's events after %" PRIu64 " (again) and never applies those up to it"
                " that were not; check docs/OPERATIONS.md, then add --confirm\n",
                service, producer, to, producer, to);
        return CTL_USAGE;
    }
    Ccip__ConsumerResetRequest rq = CCIP__CONSUMER_RESET_REQUEST__INIT;
    rq.producer = (char *)producer;
    rq.to_position = to;
    rq.confirm = 1;
    size_t len = ccip__consumer_reset_request__get_packed_size(&rq);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        fprintf(stderr, "ccipctl: out of memory\n");
        return CTL_LOCAL;
    }
    ccip__consumer_reset_request__pack(&rq, buf);
    ccip_client *c = ctl_connect(o);
    if (!c) {
        free(buf);
        return CTL_LOCAL;
    }
    int code;
    Ccip__Envelope *reply = ctl_call(o, c, service, "ccip.consumer.reset.v1", buf, len, &code);
    free(buf);
    if (reply) {
        char err[256];
        Ccip__ConsumerResetReply *r = (Ccip__ConsumerResetReply *)ccip_payload_unpack(
            &ccip__consumer_reset_reply__descriptor, reply->payload.data, reply->payload.len,
            REPLY_MAX, err, sizeof err);
        if (!r) {
            fprintf(stderr, "ccipctl: %s\n", err);
            code = CTL_REFUSED;
        } else if (o->json) {
            ctl_json_message(stdout, &r->base);
            printf("\n");
        } else {
            printf("%s's cursor of %s moved from %" PRIu64 " to %" PRIu64 "%s%s\n", service,
                   r->producer, r->from_position, r->to_position,
                   r->was_stalled ? "; it had stopped: " : "",
                   r->was_stalled ? r->stalled_reason : "");
        }
        if (r)
            protobuf_c_message_free_unpacked(&r->base, NULL);
        ccip_envelope_free(&reply);
    }
    ccip_client_destroy(&c);
    return code;
}

int ctl_admin(ctl_opts *o, int argc, char **argv)
{
    /* argv[0] is "admin" */
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0))
        return s_usage(CTL_OK);
    if (argc < 3 || strcmp(argv[1], "consumer") != 0)
        return s_usage(CTL_USAGE);
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0)
            return s_usage(CTL_OK);
    if (strcmp(argv[2], "status") == 0) {
        if (argc != 4)
            return s_usage(CTL_USAGE);
        return s_status(o, argv[3]);
    }
    if (strcmp(argv[2], "reset") == 0)
        return s_reset(o, argc - 3, argv + 3);
    fprintf(stderr, "ccipctl: unknown command admin consumer %s\n", argv[2]);
    return s_usage(CTL_USAGE);
}
