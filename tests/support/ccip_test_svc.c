#include "ccip_test_svc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_validate.h"

/* ---- the installation --------------------------------------------------- */

ccip_client *ccip_test_svc_client(ccip_test_svc *s, const ccip_keypair *keys)
{
    char err[256];
    ccip_sock_opts so = {.keys = keys, .server_public = s->env.bus_keys.public_key};
    ccip_client *c = ccip_client_new(s->ctx, s->env.commands, &so, err, sizeof err);
    if (!c)
        fprintf(stderr, "could not make a client: %s\n", err);
    return c;
}

int ccip_test_svc_init(ccip_test_svc *s, const char *target)
{
    if (ccip_test_env_init(&s->env) < 0)
        return -1;
    if (!s->ctx)
        s->ctx = zmq_ctx_new();
    s->target = target;
    s->error[0] = '\0';
    s->front = ccip_test_svc_client(s, &s->env.front_keys);
    s->plain = ccip_test_svc_client(s, &s->env.client_keys);
    return s->ctx && s->front && s->plain ? 0 : -1;
}

int ccip_test_wait_for(ccip_client *c, const char *service, int timeout_ms)
{
    char err[256] = "";
    int64_t until = ccip_now_us() + (int64_t)timeout_ms * 1000;
    /* Each attempt waits twice as long as the last (1 s up to 8 s): a
     * fixed 1 s deadline never succeeds on a machine where one round trip
     * takes longer (under valgrind the bus alone can), and the bus then
     * refuses every ping as past its deadline. */
    int attempt_ms = 1000;
    while (ccip_now_us() < until) {
        Ccip__Envelope ping = CCIP__ENVELOPE__INIT;
        char id[CCIP_UUID_STRLEN + 1];
        ccip_uuid_v7(id);
        ping.id = id;
        ping.type = "ccip.ping.v1";
        int64_t left_ms = (until - ccip_now_us()) / 1000;
        int ms = left_ms < attempt_ms ? (int)(left_ms > 100 ? left_ms : 100) : attempt_ms;
        Ccip__Envelope *r = ccip_client_call(c, service, &ping, ms, 1, err, sizeof err);
        if (r) {
            ccip_envelope_free(&r);
            return 0;
        }
        if (attempt_ms < 8000)
            attempt_ms *= 2;
    }
    fprintf(stderr, "%s did not answer within %d ms: %s\n", service, timeout_ms, err);
    return -1;
}

int ccip_test_svc_wait(ccip_test_svc *s, const char *service)
{
    /* Under valgrind (CCIP_TEST_VALGRIND) every process, the bus too, runs
     * tens of times slower, and more so beside other suites on 2 cores. */
    int ms = CCIP_TEST_SVC_START_MS;
    if (getenv("CCIP_TEST_VALGRIND"))
        ms *= CCIP_TEST_VALGRIND_SLOWER;
    return ccip_test_wait_for(s->plain, service, ms);
}

int ccip_test_svc_start(ccip_test_svc *s, const char *target, const ccip_test_svc_proc *procs)
{
    if (ccip_test_svc_init(s, target) < 0 || ccip_test_start_bus(&s->env) < 0)
        goto err;
    for (const ccip_test_svc_proc *p = procs; p && p->binary; p++)
        if (ccip_test_start_service(&s->env, p->binary, p->service, p->instance) < 0)
            goto err;
    for (const ccip_test_svc_proc *p = procs; p && p->binary; p++)
        if (ccip_test_svc_wait(s, p->service) < 0)
            goto err;
    return 0;
err:
    ccip_client_destroy(&s->front);
    ccip_client_destroy(&s->plain);
    ccip_test_env_cleanup(&s->env, 1);
    return -1;
}

void ccip_test_svc_stop(ccip_test_svc *s)
{
    ccip_client_destroy(&s->front);
    ccip_client_destroy(&s->plain);
    ccip_test_env_cleanup(&s->env, 0);
}

void ccip_test_fail(ccip_test_svc *s, const char *what)
{
    fprintf(stderr, "FAILED: %s\n", what);
    ccip_test_env_cleanup(&s->env, 1);
    fail_msg("%s", what);
}

/* ---- commands ----------------------------------------------------------- */

int ccip_test_call_cmd(const ccip_test_cmd *c, ProtobufCMessage **out)
{
    char *error = c->error;
    size_t error_len = c->error_len;
    if (out)
        *out = NULL;
    size_t len = c->msg ? protobuf_c_message_get_packed_size(c->msg) : 0;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        snprintf(error, error_len, "out of memory packing %s", c->type);
        return -1;
    }
    if (c->msg)
        protobuf_c_message_pack(c->msg, buf);
    char fresh[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(fresh);
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = (char *)(c->id ? c->id : fresh);
    env.type = (char *)c->type;
    env.actor_role = (char *)(c->role ? c->role : "");
    env.actor_id = (char *)(c->actor ? c->actor : "");
    env.payload.data = buf;
    env.payload.len = len;
    char err[256];
    Ccip__Envelope *reply = ccip_client_call(
        c->via, c->service, &env, c->timeout_ms ? c->timeout_ms : CCIP_TEST_SVC_TIMEOUT,
        c->attempts ? c->attempts : CCIP_TEST_SVC_ATTEMPTS, err, sizeof err);
    free(buf);
    if (!reply) {
        snprintf(error, error_len, "no reply: %s", err);
        return -1;
    }
    int status = (int)reply->status;
    snprintf(error, error_len, "%s", reply->error);
    if (status == CCIP__STATUS__OK && out && c->out) {
        *out = ccip_payload_unpack(c->out, reply->payload.data, reply->payload.len,
                                   reply->payload.len + 1, err, sizeof err);
        if (!*out)
            snprintf(error, error_len, "could not decode the reply: %s", err);
    }
    ccip_envelope_free(&reply);
    return status;
}

int ccip_test_send_cmd(ccip_test_svc *s, const ccip_test_cmd *c, ProtobufCMessage **out)
{
    ccip_test_cmd full = *c;
    if (!full.error) {
        full.error = s->error;
        full.error_len = sizeof s->error;
    }
    if (!full.via)
        full.via = c->role ? s->front : s->plain;
    if (!full.service)
        full.service = s->target;
    if (!full.timeout_ms)
        full.timeout_ms = s->timeout_ms;
    return ccip_test_call_cmd(&full, out);
}

int ccip_test_call(ccip_client *via, const char *service, const char *role, const char *actor,
                   const char *type, const ProtobufCMessage *msg,
                   const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out, char *err,
                   size_t errlen)
{
    ccip_test_cmd c = {.service = service,
                       .role = role,
                       .actor = actor,
                       .type = type,
                       .msg = msg,
                       .out = desc,
                       .via = via,
                       .error = err,
                       .error_len = errlen};
    int status = ccip_test_call_cmd(&c, out);
    /* An OK reply that did not decode is no answer the caller can use. */
    return status == CCIP__STATUS__OK && desc && out && !*out ? -1 : status;
}

int ccip_test_send(ccip_test_svc *s, const char *role, const char *actor, const char *type,
                   const ProtobufCMessage *msg, const char *id,
                   const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out)
{
    ccip_test_cmd c = {
        .role = role, .actor = actor, .type = type, .msg = msg, .id = id, .out = desc};
    return ccip_test_send_cmd(s, &c, out);
}

ProtobufCMessage *ccip_test_ok_cmd(ccip_test_svc *s, const ccip_test_cmd *c)
{
    ProtobufCMessage *out = NULL;
    int status = ccip_test_send_cmd(s, c, &out);
    if (status != CCIP__STATUS__OK || (c->out && !out)) {
        char what[CCIP_TEST_SVC_ERROR_MAX + 400];
        snprintf(what, sizeof what, "%s as %s: status %d: %s", c->type,
                 c->role ? c->role : "service", status, c->error ? c->error : s->error);
        ccip_test_fail(s, what);
    }
    return out;
}

ProtobufCMessage *ccip_test_ok(ccip_test_svc *s, const char *role, const char *actor,
                               const char *type, const ProtobufCMessage *msg,
                               const ProtobufCMessageDescriptor *desc)
{
    ccip_test_cmd c = {.role = role, .actor = actor, .type = type, .msg = msg, .out = desc};
    return ccip_test_ok_cmd(s, &c);
}

void ccip_test_free(void *msg)
{
    if (msg)
        protobuf_c_message_free_unpacked(msg, NULL);
}

void ccip_test_error_has(ccip_test_svc *s, const char *part)
{
    if (!strstr(s->error, part)) {
        fprintf(stderr, "error \"%s\" lacks \"%s\"\n", s->error, part);
        fail();
    }
}

/* ---- the database and ccipctl ------------------------------------------- */

long long ccip_test_number(ccip_test_svc *s, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof sql) {
        fprintf(stderr, "query longer than %zu bytes: %.200s...\n", sizeof sql, sql);
        return -1;
    }
    return ccip_test_query_number(s->target, sql);
}

/* Runs ccipctl with key and the formatted arguments (see ccip_test_ctl_as). */
static int s_ctl_v(ccip_test_svc *s, const char *key, char *out, size_t len, const char *fmt,
                   va_list ap)
{
    char args[4096], cmd[8192];
    vsnprintf(args, sizeof args, fmt, ap);
    snprintf(cmd, sizeof cmd,
             "CCIP_BUS_COMMANDS='%s' CCIP_BUS_SUBSCRIBE='%s' CCIP_CURVE_KEY_FILE='%s/%s' "
             "CCIP_CURVE_SERVER_KEY_FILE='%s/keys/bus.pub' '%s/cli/ccipctl' %s",
             s->env.commands, s->env.subscribe, s->env.dir, key, s->env.dir,
             getenv("CCIP_BINARY_DIR"), args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int ccip_test_ctl_as(ccip_test_svc *s, const char *key, char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_ctl_v(s, key, out, len, fmt, ap);
    va_end(ap);
    return rc;
}

int ccip_test_ctl(ccip_test_svc *s, char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_ctl_v(s, "allowed/ccipctl.key", out, len, fmt, ap);
    va_end(ap);
    return rc;
}

void ccip_test_json_value(const char *json, const char *key, char *out, size_t len)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(json, pat);
    out[0] = '\0';
    if (!p)
        return;
    p += strlen(pat);
    size_t n = strcspn(p, "\"");
    snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
}

int ccip_test_log_contains(ccip_test_svc *s, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.log", s->env.dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

/* ---- test data ---------------------------------------------------------- */

void ccip_test_uscc(const char *district, char out[19])
{
    /* GB 32100-2015: 31 characters, weights 3^i mod 31, the check character
     * makes the weighted sum 0 mod 31. */
    static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    static unsigned long long n;
    if (!n)
        n = ((unsigned long long)time(NULL) * 1000003ULL + (unsigned long long)getpid()) %
            1000000000ULL;
    n = (n + 7919) % 1000000000ULL;
    snprintf(out, CCIP_USCC_LEN + 1, "91%.6s%09llu", district, n);
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (int)(strchr(cs, out[i]) - cs) * w[i];
    out[17] = cs[(31 - sum % 31) % 31];
    out[18] = '\0';
}
