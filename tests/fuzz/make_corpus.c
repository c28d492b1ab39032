/*
 * make_corpus: writes the seed corpora of tests/fuzz from real messages
 * (run by `scripts/fuzz --seeds`, which commits nothing itself):
 *
 *   OUT/envelope/   envelopes of real commands, a reply and an event
 *   OUT/payload/    "<full name>\0<packed message>" for every message of
 *                   proto/ (fuzz_sample.h fills it), so every type is fuzzed
 *   OUT/pbjson/     "<full name>\n<JSON>" for every message, and a client's
 *                   intake.application.file.v1 body with base64 documents
 *   OUT/config/     configuration files (scripts/fuzz adds deploy/config/)
 *   OUT/broker/     scripts of client and replica frames (fuzz_broker.c)
 *
 *   make_corpus OUT
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ccip/bus.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_mdp.h"
#include "ccip_pbjson.h"
#include "ccip_proto_registry.h"
#include "fuzz_sample.h"

static const char *s_out;

static void s_die(const char *what)
{
    fprintf(stderr, "make_corpus: %s\n", what);
    exit(1);
}

static void s_mkdir(const char *sub)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", s_out, sub);
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        s_die(path);
}

static void s_write(const char *sub, const char *name, const void *a, size_t alen, const void *b,
                    size_t blen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", s_out, sub, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(a, 1, alen, fp) != alen || (blen && fwrite(b, 1, blen, fp) != blen) ||
        fclose(fp) != 0)
        s_die(path);
}

static uint8_t *s_pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(*len + 1);
    if (!buf)
        s_die("out of memory");
    protobuf_c_message_pack(m, buf);
    return buf;
}

static const ProtobufCMessageDescriptor *s_find(const char *name)
{
    const ProtobufCMessageDescriptor *d = ccip_proto_message_find(name);
    if (!d) {
        fprintf(stderr, "make_corpus: no message %s in the registry\n", name);
        exit(1);
    }
    return d;
}

/* ---- envelopes ---------------------------------------------------------- */

/* Real command types and the request each carries (the protos list them). */
static const struct {
    const char *type;
    const char *message;
} S_COMMANDS[] = {
    {"ccip.ping.v1", "ccip.PingRequest"},
    {"ccip.replay.v1", "ccip.ReplayRequest"},
    {"intake.call.open.v1", "ccip.intake.OpenCallRequest"},
    {"intake.application.file.v1", "ccip.intake.FileApplicationRequest"},
    {"evaluation.review.submit.v1", "ccip.evaluation.SubmitReviewRequest"},
    {"evaluation.case.decide.v1", "ccip.evaluation.DecideRequest"},
    {"funding.award.confirm.v1", "ccip.funding.ConfirmAwardRequest"},
    {"ip.work.register.v1", "ccip.ip.RegisterWorkRequest"},
};
#define NCOMMANDS (sizeof S_COMMANDS / sizeof S_COMMANDS[0])

/* An envelope as ccipctl or the gateway sends it, around payload. */
static uint8_t *s_command(const char *type, const uint8_t *payload, size_t plen, size_t *len)
{
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.id = "0190c6d8-0000-7000-8000-000000000001";
    e.type = (char *)type;
    e.source_service = "ccipctl";
    e.source_instance = "ccipctl-1";
    e.actor_id = "org:91110105MA01ABCD2X";
    e.actor_role = "applicant";
    e.deadline_us = 4102444800000000; /* 2100-01-01: never late */
    e.occurred_at_us = 1790000000000000;
    e.payload.data = (uint8_t *)payload;
    e.payload.len = plen;
    uint8_t *out;
    if (ccip_envelope_pack_buf(&e, &out, len) < 0)
        s_die("out of memory");
    return out;
}

static void s_envelopes(void)
{
    s_mkdir("envelope");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        ProtobufCMessage *m = fuzz_sample_message(s_find(S_COMMANDS[i].message), 0);
        size_t plen, len;
        uint8_t *p = s_pack(m, &plen);
        uint8_t *e = s_command(S_COMMANDS[i].type, p, plen, &len);
        s_write("envelope", S_COMMANDS[i].type, e, len, NULL, 0);
        free(e);
        free(p);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    /* a refusal as a service answers it */
    Ccip__Envelope rq = CCIP__ENVELOPE__INIT, reply;
    rq.id = "0190c6d8-0000-7000-8000-000000000002";
    rq.type = "funding.award.confirm.v1";
    ccip_envelope_reply_init(&reply, &rq, CCIP__STATUS__FAILED_PRECONDITION,
                             "the budget of 2027 has 0 fen left; raise it or award less");
    reply.source_service = "funding";
    uint8_t *out;
    size_t len;
    if (ccip_envelope_pack_buf(&reply, &out, &len) < 0)
        s_die("out of memory");
    s_write("envelope", "reply.funding.award.confirm.v1", out, len, NULL, 0);
    free(out);
    /* an event as a relay publishes it */
    ProtobufCMessage *m = fuzz_sample_message(s_find("ccip.intake.ApplicationAccepted"), 0);
    size_t plen;
    uint8_t *p = s_pack(m, &plen);
    Ccip__Envelope ev = CCIP__ENVELOPE__INIT;
    ev.id = "0190c6d8-0000-7000-8000-000000000003";
    ev.type = "intake.application.accepted.v1";
    ev.source_service = "intake";
    ev.source_instance = "intake-1";
    ev.aggregate_type = "application";
    ev.aggregate_id = "0190c6d8-0000-7000-8000-0000000000aa";
    ev.position = 123456;
    ev.occurred_at_us = 1790000000000000;
    ev.correlation_id = "0190c6d8-0000-7000-8000-000000000001";
    ev.causation_id = "0190c6d8-0000-7000-8000-000000000001";
    ev.payload.data = p;
    ev.payload.len = plen;
    if (ccip_envelope_pack_buf(&ev, &out, &len) < 0)
        s_die("out of memory");
    s_write("envelope", "event.intake.application.accepted.v1", out, len, NULL, 0);
    free(out);
    free(p);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* ---- every message: protobuf and JSON ------------------------------------- */

static void s_messages(void)
{
    s_mkdir("payload");
    s_mkdir("pbjson");
    for (size_t i = 0; i < ccip_proto_message_count(); i++) {
        const ProtobufCMessageDescriptor *d = ccip_proto_message_at(i);
        ProtobufCMessage *m = fuzz_sample_message(d, 0);
        if (!m)
            s_die("out of memory");
        size_t len;
        uint8_t *p = s_pack(m, &len);
        s_write("payload", d->name, d->name, strlen(d->name) + 1, p, len);
        free(p);
        json_t *j = ccip_pbjson_from_message(m, 0);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (!text)
            s_die("out of memory");
        char head[256];
        snprintf(head, sizeof head, "%s\n", d->name);
        char file[300];
        snprintf(file, sizeof file, "%s.json", d->name);
        s_write("pbjson", file, head, strlen(head), text, strlen(text));
        free(text);
        json_decref(j);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    /* a client's body, as the gateway would receive it: proto names mixed
     * with JSON names, an int64 as a number, base64 both ways */
    static const char body[] =
        "ccip.intake.FileApplicationRequest\n"
        "{\"callId\":\"0190c6d8-0000-7000-8000-00000000000a\",\"applicant_uscc\":\"\","
        "\"content\":{\"title\":\"数字文创园\",\"summary\":\"a park\",\"requestedFen\":500000000,"
        "\"project\":{\"budgetLines\":[{\"item\":\"stage\",\"amountFen\":\"9007199254740993\"}]}},"
        "\"documents\":[{\"docType\":\"business_licence\",\"name\":\"licence.pdf\","
        "\"mediaType\":\"application/pdf\",\"content\":\"APv/\"},{\"doc_type\":\"plan\","
        "\"content\":\"JVBERg\"}]}";
    s_write("pbjson", "client.intake.application.file.v1.json", body, sizeof body - 1, NULL, 0);
}

/* ---- configuration -------------------------------------------------------- */

static void s_configs(void)
{
    s_mkdir("config");
    static const char full[] =
        "# a service's settings\n"
        "instance = \"intake-1\";\n"
        "log = { level = \"warn\"; };\n"
        "db = { host = \"127.0.0.1\"; port = 5432; user = \"ccip_intake\"; password = \"\"; };\n"
        "bus = { command_endpoint = \"tcp://127.0.0.1:5555\"; };\n"
        "service = { workers = 8; };\n"
        "limits = { max_message_bytes = 0x400000L; };\n"
        "debug = true;\n"
        "future = { setting = [1, 2, 3]; other = (\"a\", 1.5); };\n";
    s_write("config", "service.conf", full, sizeof full - 1, NULL, 0);
    static const char minimal[] = "instance = \"x\";\ndb: { user = \"u\" };\n";
    s_write("config", "minimal.conf", minimal, sizeof minimal - 1, NULL, 0);
    static const char bad[] = "instance = \"x\";\ndb = { user = \"u\"; port = 70000; };\n";
    s_write("config", "port-out-of-range.conf", bad, sizeof bad - 1, NULL, 0);
}

/* ---- broker scripts ----------------------------------------------------------- */

typedef struct {
    uint8_t buf[4096];
    size_t len;
} s_script;

/* Appends one message from peer (0 client, 1 and 2 replicas) of n frames. */
static void s_msg(s_script *s, uint8_t peer, int n, const void *const *frames, const size_t *lens)
{
    s->buf[s->len++] = peer;
    s->buf[s->len++] = (uint8_t)(n - 1);
    for (int i = 0; i < n; i++) {
        if (lens[i] > 255 || s->len + 1 + lens[i] > sizeof s->buf)
            s_die("broker frame too long");
        s->buf[s->len++] = (uint8_t)lens[i];
        memcpy(s->buf + s->len, frames[i], lens[i]);
        s->len += lens[i];
    }
}

static void s_client(s_script *s, const char *service, const char *type)
{
    Ccip__PingRequest ping = CCIP__PING_REQUEST__INIT;
    uint8_t payload[64];
    size_t plen = ccip__ping_request__pack(&ping, payload), len;
    uint8_t *env = s_command(type, payload, plen, &len);
    const void *f[] = {CCIP_MDP_CLIENT, service, env};
    size_t l[] = {strlen(CCIP_MDP_CLIENT), strlen(service), len};
    s_msg(s, 0, 3, f, l);
    free(env);
}

static void s_worker(s_script *s, uint8_t peer, const char *cmd, const char *arg)
{
    const void *f[] = {CCIP_MDP_WORKER, cmd, arg};
    size_t l[] = {strlen(CCIP_MDP_WORKER), 1, arg ? strlen(arg) : 0};
    s_msg(s, peer, arg ? 3 : 2, f, l);
}

static void s_brokers(void)
{
    s_mkdir("broker");
    s_script s = {.len = 0};
    s_client(&s, "bus", "ccip.ping.v1");
    s_write("broker", "ping-the-bus", s.buf, s.len, NULL, 0);

    /* a replica registers, a command reaches it, it replies, beats, leaves */
    s.len = 0;
    s_worker(&s, 1, CCIP_MDP_READY, "intake");
    s_client(&s, "intake", "intake.call.get.v1");
    Ccip__Envelope reply = CCIP__ENVELOPE__INIT;
    reply.id = "0190c6d8-0000-7000-8000-000000000001";
    reply.type = "intake.call.get.v1";
    uint8_t *env;
    size_t len;
    if (ccip_envelope_pack_buf(&reply, &env, &len) < 0)
        s_die("out of memory");
    const void *f[] = {CCIP_MDP_WORKER, CCIP_MDP_REPLY, "client", env};
    size_t l[] = {strlen(CCIP_MDP_WORKER), 1, 6, len};
    s_msg(&s, 1, 4, f, l);
    free(env);
    s_worker(&s, 1, CCIP_MDP_HEARTBEAT, NULL);
    s.buf[s.len++] = 0xFF; /* tick */
    s.buf[s.len++] = 0;
    s_worker(&s, 1, CCIP_MDP_DISCONNECT, NULL);
    s_write("broker", "replica-round-trip", s.buf, s.len, NULL, 0);

    /* commands queue up with no replica, past the queue's limit */
    s.len = 0;
    for (int i = 0; i < 6; i++)
        s_client(&s, "funding", "funding.award.confirm.v1");
    s_worker(&s, 2, CCIP_MDP_READY, "funding");
    s_worker(&s, 1, CCIP_MDP_READY, "funding");
    s.buf[s.len++] = 0xFF;
    s.buf[s.len++] = 0;
    s_write("broker", "queue-then-replicas", s.buf, s.len, NULL, 0);

    /* malformed: too few frames, a bad service name, an unknown header, a
     * replica nobody knows, READY twice */
    s.len = 0;
    const void *f2[] = {CCIP_MDP_CLIENT, "intake"};
    size_t l2[] = {strlen(CCIP_MDP_CLIENT), 6};
    s_msg(&s, 0, 2, f2, l2);
    s_client(&s, "Intake!", "intake.call.get.v1");
    const void *f3[] = {"HTTP/1.1", "x"};
    size_t l3[] = {8, 1};
    s_msg(&s, 0, 2, f3, l3);
    s_worker(&s, 2, CCIP_MDP_HEARTBEAT, NULL);
    s_worker(&s, 1, CCIP_MDP_READY, "stats");
    s_worker(&s, 1, CCIP_MDP_READY, "stats");
    s_write("broker", "malformed", s.buf, s.len, NULL, 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus OUTDIR\n");
        return 2;
    }
    s_out = argv[1];
    if (mkdir(s_out, 0755) < 0 && errno != EEXIST)
        s_die(s_out);
    s_envelopes();
    s_messages();
    s_configs();
    s_brokers();
    return 0;
}
