/* ccipctl events tail | replay: watching the durable topics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_shutdown.h"
#include "ccip_sock.h"
#include "ctl.h"

#define REPLAY_BATCH 500

void ctl_print_event(const ctl_opts *o, const char *topic, const Ccip__Envelope *ev)
{
    char when[40] = "";
    ccip_time_format_us(ev->occurred_at_us, when, sizeof when);
    if (o->json) {
        ctl_json_field(stdout, "{\"topic\":", topic);
        printf(",\"position\":%llu", (unsigned long long)ev->position);
        ctl_json_field(stdout, ",\"id\":", ev->id);
        ctl_json_field(stdout, ",\"type\":", ev->type);
        ctl_json_field(stdout, ",\"source\":", ev->source_service);
        ctl_json_field(stdout, ",\"aggregate_type\":", ev->aggregate_type);
        ctl_json_field(stdout, ",\"aggregate_id\":", ev->aggregate_id);
        ctl_json_field(stdout, ",\"occurred_at\":", when);
        ctl_json_field(stdout, ",\"actor\":", ev->actor_id);
        printf(",\"payload_bytes\":%zu}\n", ev->payload.len);
    } else {
        printf("%-8llu %-27s %-40s %s/%s by %s (%zu bytes)\n", (unsigned long long)ev->position,
               when, ev->type, ev->aggregate_type[0] ? ev->aggregate_type : "-",
               ev->aggregate_id[0] ? ev->aggregate_id : "-", ev->actor_id[0] ? ev->actor_id : "-",
               ev->payload.len);
    }
    fflush(stdout);
}

/* --count N: how many events to print (0 or less: all). Read as it always
 * was: what is not a number is 0. */
static long s_count(const ctl_args *a)
{
    return atol(ctl_str_or(a, "count", "0"));
}

static const ctl_arg A_TAIL[] = {CTL_STR("PREFIX", NULL, CTL_ARG), CTL_STR("count", NULL, 0), {0}};

/* Follows live events whose type starts with PREFIX. */
static int s_tail(ctl_opts *o, ctl_args *a)
{
    const char *prefix = ctl_str(a, "PREFIX");
    long count = s_count(a);
    char err[512];
    if (ctl_load_keys(o) < 0)
        return CTL_LOCAL;
    if (!o->ctx)
        o->ctx = zmq_ctx_new();
    ccip_sock_opts so = {.keys = &o->keys, .server_public = o->server_key};
    void *sub = ccip_sock_connect(o->ctx, ZMQ_SUB, o->subscribe_endpoint, &so, err, sizeof err);
    if (!sub) {
        fprintf(stderr, "ccipctl: %s\n", err);
        return CTL_UNAVAILABLE;
    }
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, prefix, strlen(prefix));
    ccip_shutdown_install();
    long seen = 0;
    while (!ccip_shutdown_requested() && (count <= 0 || seen < count)) {
        zmq_pollitem_t item = {sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 200) <= 0)
            continue;
        zmq_msg_t f[2];
        int n = ccip_sock_recv_parts(sub, f, 2, ZMQ_DONTWAIT);
        if (n == 2) {
            char topic[CCIP_TYPE_MAX + 1];
            size_t tl = zmq_msg_size(&f[0]) < CCIP_TYPE_MAX ? zmq_msg_size(&f[0]) : CCIP_TYPE_MAX;
            memcpy(topic, zmq_msg_data(&f[0]), tl);
            topic[tl] = '\0';
            Ccip__Envelope *ev =
                ccip_envelope_unpack(zmq_msg_data(&f[1]), zmq_msg_size(&f[1]),
                                     CCIP_SOCK_MAX_MESSAGE_DEFAULT, err, sizeof err);
            if (ev && !strstr(ev->type, ".stream.heartbeat.")) {
                ctl_print_event(o, topic, ev);
                seen++;
            } else if (!ev) {
                fprintf(stderr, "ccipctl: skipped an undecodable event on %s: %s\n", topic, err);
            }
            ccip_envelope_free(&ev);
        }
        for (int i = 0; i < n && i < 2; i++)
            zmq_msg_close(&f[i]);
    }
    ccip_sock_close(&sub);
    return CTL_OK;
}

static const ctl_arg A_REPLAY[] = {
    CTL_STR("SERVICE", NULL, CTL_ARG), CTL_STR("from", NULL, 0), CTL_STR("count", NULL, 0), {0}};

/* Prints SERVICE's stored events from position --from on, in batches. */
static int s_replay(ctl_opts *o, ctl_args *a)
{
    const char *service = ctl_str(a, "SERVICE");
    long count = s_count(a);
    long long start = atoll(ctl_str(a, "from"));
    if (start < 1) {
        fprintf(stderr, "ccipctl: replay needs --from N with N >= 1\n");
        return CTL_USAGE;
    }
    uint64_t from = (uint64_t)start;
    ccip_client *c = ctl_connect(o);
    if (!c)
        return CTL_LOCAL;
    int code = CTL_OK;
    long printed = 0;
    for (;;) {
        Ccip__ReplayRequest rq = CCIP__REPLAY_REQUEST__INIT;
        rq.from_position = from;
        rq.max_events = REPLAY_BATCH;
        uint8_t buf[32];
        size_t len = ccip__replay_request__pack(&rq, buf);
        Ccip__Envelope *reply = ctl_call(o, c, service, "ccip.replay.v1", buf, len, &code);
        if (!reply)
            break;
        char err[256];
        Ccip__ReplayReply *rr = (Ccip__ReplayReply *)ccip_payload_unpack(
            &ccip__replay_reply__descriptor, reply->payload.data, reply->payload.len,
            reply->payload.len + 1, err, sizeof err);
        ccip_envelope_free(&reply);
        if (!rr) {
            fprintf(stderr, "ccipctl: %s\n", err);
            code = CTL_REFUSED;
            break;
        }
        for (size_t i = 0; i < rr->n_events && (count <= 0 || printed < count); i++, printed++)
            ctl_print_event(o, rr->events[i]->type, rr->events[i]);
        int done = rr->n_events == 0 || (count > 0 && printed >= count);
        if (rr->n_events)
            from = rr->events[rr->n_events - 1]->position + 1;
        if (from > rr->head)
            done = 1;
        protobuf_c_message_free_unpacked(&rr->base, NULL);
        if (done)
            break;
    }
    ccip_client_destroy(&c);
    return code;
}

static const ctl_command S_COMMANDS[] = {
    {"tail", "PREFIX [--count N]", A_TAIL, NULL, NULL, NULL, NULL, s_tail,
     .about = "  follows live events whose type starts with PREFIX (e.g. intake.)\n"},
    {"replay", "SERVICE --from N [--count N]", A_REPLAY, NULL, NULL, NULL, NULL, s_replay,
     .about = "  prints SERVICE's stored events from position N on\n"},
};

static const ctl_service S_EVENTS = {
    .name = "events",
    .header = "usage: ccipctl events tail PREFIX [--count N]\n"
              "       ccipctl events replay SERVICE --from N [--count N]\n"
              "  tail follows live events whose type starts with PREFIX (e.g. intake.)\n"
              "  replay prints SERVICE's stored events from position N on\n",
    .commands = S_COMMANDS,
    .ncommands = sizeof S_COMMANDS / sizeof S_COMMANDS[0],
};

int ctl_events(ctl_opts *o, int argc, char **argv)
{
    return ctl_service_run(o, &S_EVENTS, argc, argv);
}
