/*
 * The gateway end to end: the real bus, intake, evaluation and gateway
 * processes, real PostgreSQL, and HTTP over real sockets (libcurl for
 * well-formed requests, raw sockets for malformed, slow and truncated
 * ones). One test per rule of issue 14, and the flows around them: sign-up,
 * an organisation's pending binding confirmed when staff verify it,
 * invitations, bindings checked with their owning service, documents,
 * idempotency, sessions ending.
 *
 * The first admin is invited through the bus by the test's front-door key
 * (as an operator would with ccipctl), accepts over HTTP and enrols TOTP;
 * everyone else comes in over HTTP. Every test makes its own accounts and
 * organisations, so the tests may run in any order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <liboath/oath.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/gateway.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_keys.h"
#include "ccip_test_proc.h"
#include "ccip_validate.h"
#include "gateway_crypto.h"

#define PASSWORD     "correct horse battery"
#define MAX_DOC      65536 /* the gateway's and intake's document limit here */
#define MAX_BODY     262144
#define REQUEST_S    3 /* gateway.request_timeout_s here */
#define HOUR_US      (3600LL * 1000000)
#define DAY_US       (24 * HOUR_US)
#define REQUIRED_DOC "business_licence"

static ccip_test_env s_env;
static void *s_ctx;
static ccip_client *s_front;  /* the test's front door: an operator's ccipctl */
static int s_port;            /* the gateway's HTTP port */
static int s_intake_metrics;  /* intake's metrics.listen port */
static int s_gateway_metrics; /* the gateway's */
static char s_call[CCIP_UUID_STRLEN + 1];
static unsigned s_seq;

/* ---- people --------------------------------------------------------------------- */

typedef struct {
    char login[65];
    char account_id[CCIP_UUID_STRLEN + 1];
    char token[GATEWAY_TOKEN_LEN + 1]; /* session cookie */
    char csrf[GATEWAY_TOKEN_LEN + 1];
    char binding_id[CCIP_UUID_STRLEN + 1];
    uint8_t totp[32]; /* secret, once enrolled */
    size_t totp_len;
    int64_t totp_step; /* last step a code was used for */
    char uscc[CCIP_USCC_LEN + 1];
} s_who;

static s_who s_admin, s_staff;

static void s_fail_with_logs(const char *what)
{
    fprintf(stderr, "FAILED: %s\n", what);
    ccip_test_env_cleanup(&s_env, 1);
    fail_msg("%s", what);
}

static void s_login(s_who *w, const char *prefix)
{
    memset(w, 0, sizeof *w);
    snprintf(w->login, sizeof w->login, "%s.%d.%u", prefix, (int)getpid() % 100000, ++s_seq);
}

/* A fresh, valid unified social credit code. */
static void s_uscc(char out[CCIP_USCC_LEN + 1])
{
    static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    static unsigned long long n;
    if (!n)
        n = ((unsigned long long)time(NULL) * 1000003ULL + (unsigned long long)getpid()) %
            1000000000ULL;
    n = (n + 7919) % 1000000000ULL;
    snprintf(out, CCIP_USCC_LEN + 1, "91110105%09llu", n);
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (int)(strchr(cs, out[i]) - cs) * w[i];
    out[17] = cs[(31 - sum % 31) % 31];
    out[18] = '\0';
}

/* ---- HTTP ------------------------------------------------------------------------- */

typedef struct {
    long status;
    char *body;
    size_t len;
    char headers[8192];
    size_t hlen;
    json_t *json; /* the body parsed, when it was JSON */
} s_resp;

static size_t s_write(char *p, size_t size, size_t n, void *arg)
{
    s_resp *r = arg;
    size_t k = size * n;
    char *grown = realloc(r->body, r->len + k + 1);
    if (!grown)
        return 0;
    r->body = grown;
    memcpy(r->body + r->len, p, k);
    r->len += k;
    r->body[r->len] = '\0';
    return k;
}

static size_t s_header(char *p, size_t size, size_t n, void *arg)
{
    s_resp *r = arg;
    size_t k = size * n;
    if (r->hlen + k < sizeof r->headers) {
        memcpy(r->headers + r->hlen, p, k);
        r->hlen += k;
        r->headers[r->hlen] = '\0';
    }
    return k;
}

static void s_resp_free(s_resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* Sends a request as `who` (NULL: nobody), with its CSRF token when csrf is
 * set. body may be NULL; ctype NULL means application/json when there is a
 * body. extra: one more "Name: value" header or NULL. */
static long s_http(const char *method, const char *path, const char *ctype, const void *body,
                   size_t len, const s_who *who, int csrf, const char *extra, s_resp *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    char url[1024], cookie[128], hdr[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s_port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
        snprintf(hdr, sizeof hdr, "Content-Type: %s", ctype ? ctype : "application/json");
        h = curl_slist_append(h, hdr);
    }
    if (who && who->token[0]) {
        snprintf(cookie, sizeof cookie, "ccip_session=%s", who->token);
        curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
        if (csrf) {
            snprintf(hdr, sizeof hdr, "X-CSRF-Token: %s", who->csrf);
            h = curl_slist_append(h, hdr);
        }
    }
    if (extra)
        h = curl_slist_append(h, extra);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    else
        r->status = -1;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (r->body)
        r->json = json_loadb(r->body, r->len, 0, NULL);
    return r->status;
}

/* JSON text from a format. */
static long s_post(const char *path, const s_who *who, s_resp *r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static long s_post(const char *path, const s_who *who, s_resp *r, const char *fmt, ...)
{
    char body[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    return s_http("POST", path, NULL, body, strlen(body), who, 1, NULL, r);
}

static long s_get(const char *path, const s_who *who, s_resp *r)
{
    return s_http("GET", path, NULL, NULL, 0, who, 0, NULL, r);
}

static const char *s_str(json_t *j, const char *path)
{
    char part[64];
    for (const char *p = path; j && *p;) {
        size_t n = strcspn(p, ".");
        snprintf(part, sizeof part, "%.*s", (int)n, p);
        j = json_object_get(j, part);
        p += n + (p[n] == '.');
    }
    return j && json_is_string(j) ? json_string_value(j) : "";
}

/* Expects status; prints the body otherwise. */
static void s_expect(const s_resp *r, long status, const char *what)
{
    if (r->status != status) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s: HTTP %ld, expected %ld: %.1500s", what, r->status, status,
                 r->body ? r->body : "(no body)");
        s_fail_with_logs(msg);
    }
}

/* A problem's detail contains `part`. */
static void s_detail_has(const s_resp *r, const char *part)
{
    const char *d = s_str(r->json, "detail");
    if (!strstr(d, part)) {
        fprintf(stderr, "detail \"%s\" lacks \"%s\" (body %s)\n", d, part, r->body);
        fail();
    }
}

static int64_t s_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long s_number(const char *svc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static long long s_number(const char *svc, const char *fmt, ...)
{
    char sql[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return ccip_test_query_number(svc, sql);
}

/* ---- sessions --------------------------------------------------------------------- */

/* The next TOTP code of w: a step not used yet, within one of now. */
static void s_code(s_who *w, char code[8])
{
    int64_t now = ccip_now_us() / 1000000;
    for (int64_t d = -1; d <= 1; d++) {
        int64_t step = now / GATEWAY_TOTP_STEP_S + d;
        if (step > w->totp_step) {
            w->totp_step = step;
            gateway_totp_code(w->totp, w->totp_len, step * GATEWAY_TOTP_STEP_S, code);
            return;
        }
    }
    /* every step in the window was used: wait for the next */
    ccip_test_sleep_ms(GATEWAY_TOTP_STEP_S * 1000);
    s_code(w, code);
}

static void s_take_session(s_who *w, const s_resp *r)
{
    const char *c = strstr(r->headers, "ccip_session=");
    if (c)
        snprintf(w->token, sizeof w->token, "%.43s", c + strlen("ccip_session="));
    snprintf(w->csrf, sizeof w->csrf, "%s", s_str(r->json, "csrfToken"));
    snprintf(w->account_id, sizeof w->account_id, "%s", s_str(r->json, "account.id"));
    snprintf(w->binding_id, sizeof w->binding_id, "%s", s_str(r->json, "activeBindingId"));
}

/* Signs w in (with a code when it has TOTP). Returns the HTTP status. */
static long s_sign_in(s_who *w, const char *password)
{
    s_resp r;
    char code[8] = "";
    if (w->totp_len)
        s_code(w, code);
    s_post("/api/v1/session", NULL, &r, "{\"login\":\"%s\",\"password\":\"%s\",\"totp\":\"%s\"}",
           w->login, password, code);
    long st = r.status;
    if (st == 200)
        s_take_session(w, &r);
    s_resp_free(&r);
    return st;
}

/* Enrols TOTP for the signed-in w and confirms it (the session then has the
 * second factor). */
static void s_enrol_totp(s_who *w)
{
    s_resp r;
    s_post("/api/v1/account/totp", w, &r, "{\"password\":\"" PASSWORD "\"}");
    s_expect(&r, 200, "TOTP enrolment");
    const char *b32 = s_str(r.json, "secretBase32");
    char *raw = NULL;
    size_t rawlen = 0;
    assert_int_equal(oath_base32_decode(b32, strlen(b32), &raw, &rawlen), OATH_OK);
    assert_true(rawlen <= sizeof w->totp);
    memcpy(w->totp, raw, rawlen);
    w->totp_len = rawlen;
    free(raw);
    s_resp_free(&r);
    char code[8];
    s_code(w, code);
    s_post("/api/v1/account/totp/confirm", w, &r, "{\"code\":\"%s\"}", code);
    s_expect(&r, 200, "TOTP confirmation");
    assert_true(json_is_true(json_object_get(r.json, "secondFactor")));
    s_resp_free(&r);
}

/* Signs up w (optionally asking for organisation uscc) and signs in. */
static void s_sign_up(s_who *w, const char *prefix, const char *uscc)
{
    s_login(w, prefix);
    s_resp r;
    if (uscc)
        snprintf(w->uscc, sizeof w->uscc, "%s", uscc);
    s_post("/api/v1/accounts", NULL, &r,
           "{\"login\":\"%s\",\"name\":\"Tester %s\",\"email\":\"%s@example.cn\","
           "\"password\":\"" PASSWORD "\",\"organisationUscc\":\"%s\"}",
           w->login, w->login, w->login, uscc ? uscc : "");
    s_expect(&r, 200, "sign-up");
    s_resp_free(&r);
    if (s_sign_in(w, PASSWORD) != 200)
        s_fail_with_logs("sign-in after sign-up");
}

/* ---- the bus (the operator's front door) ----------------------------------------------- */

static Ccip__Envelope *s_bus(const char *service, const char *type, const char *role,
                             const char *actor, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    protobuf_c_message_pack(msg, buf);
    char id[CCIP_UUID_STRLEN + 1], err[300];
    ccip_uuid_v7(id);
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = (char *)type;
    env.actor_role = (char *)role;
    env.actor_id = (char *)actor;
    env.payload.data = buf;
    env.payload.len = len;
    Ccip__Envelope *reply = ccip_client_call(s_front, service, &env, 5000, 3, err, sizeof err);
    free(buf);
    if (!reply)
        s_fail_with_logs(err);
    return reply;
}

/* An invitation made through the bus as admin (the bootstrap). */
static void s_invite_bus(Ccip__Gateway__BindingKind kind, const char *subject, char token[64])
{
    Ccip__Gateway__CreateInvitationRequest rq = CCIP__GATEWAY__CREATE_INVITATION_REQUEST__INIT;
    rq.email = "ops@example.cn";
    rq.kind = kind;
    rq.subject = (char *)subject;
    Ccip__Envelope *r =
        s_bus("gateway", "gateway.invitation.create.v1", "admin", "person:root", &rq.base);
    if (r->status != CCIP__STATUS__OK)
        s_fail_with_logs(r->error);
    char err[200];
    Ccip__Gateway__InvitationReply *ir = (Ccip__Gateway__InvitationReply *)ccip_payload_unpack(
        &ccip__gateway__invitation_reply__descriptor, r->payload.data, r->payload.len, 65536, err,
        sizeof err);
    assert_non_null(ir);
    snprintf(token, 64, "%s", ir->token);
    protobuf_c_message_free_unpacked(&ir->base, NULL);
    ccip_envelope_free(&r);
}

/* A new account from an invitation token, signed in, with TOTP when
 * totp is set. */
static void s_accept_new(s_who *w, const char *prefix, const char *token, int totp)
{
    s_login(w, prefix);
    char path[200];
    snprintf(path, sizeof path, "/api/v1/invitations/%s/accept", token);
    s_resp r;
    s_post(path, NULL, &r,
           "{\"token\":\"%s\",\"login\":\"%s\",\"name\":\"%s\",\"email\":\"%s@example.cn\","
           "\"password\":\"" PASSWORD "\"}",
           token, w->login, w->login, w->login);
    s_expect(&r, 200, "accepting an invitation");
    s_take_session(w, &r);
    s_resp_free(&r);
    if (totp)
        s_enrol_totp(w);
}

static void s_open_call(void)
{
    Ccip__Intake__OpenCallRequest rq = CCIP__INTAKE__OPEN_CALL_REQUEST__INIT;
    rq.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    rq.year = 2027;
    rq.title = "2027 identification of creative clusters (gateway tests)";
    int64_t now = ccip_now_us() / 1000000 * 1000000;
    rq.opens_at_us = now - HOUR_US;
    rq.closes_at_us = now + 30 * DAY_US;
    char *docs[] = {REQUIRED_DOC};
    rq.required_documents = docs;
    rq.n_required_documents = 1;
    Ccip__Envelope *r = s_bus("intake", "intake.call.open.v1", "staff", "person:ops", &rq.base);
    if (r->status != CCIP__STATUS__OK)
        s_fail_with_logs(r->error);
    char err[200];
    Ccip__Intake__CallReply *cr = (Ccip__Intake__CallReply *)ccip_payload_unpack(
        &ccip__intake__call_reply__descriptor, r->payload.data, r->payload.len, 65536, err,
        sizeof err);
    snprintf(s_call, sizeof s_call, "%s", cr->call->id);
    protobuf_c_message_free_unpacked(&cr->base, NULL);
    ccip_envelope_free(&r);
}

/* An organisation user whose binding is confirmed: signs up asking for a
 * new organisation, registers it, staff verify it, the gateway confirms. */
static void s_org_user(s_who *w, const char *prefix)
{
    char uscc[CCIP_USCC_LEN + 1];
    s_uscc(uscc);
    s_sign_up(w, prefix, uscc);
    s_resp r;
    s_post("/api/v1/intake/organisations", w, &r,
           "{\"uscc\":\"%s\",\"name\":\"Creative Co %s\",\"type\":\"ENTERPRISE\","
           "\"district\":\"110105\",\"legalRepresentative\":\"Wang Fang\","
           "\"contactName\":\"Li Ming\",\"contactPhone\":\"010-6512 3456\"}",
           uscc, w->login);
    s_expect(&r, 200, "registering the organisation");
    s_resp_free(&r);
    char path[200];
    snprintf(path, sizeof path, "/api/v1/intake/organisations/%s/verify", uscc);
    s_post(path, &s_staff, &r, "{\"note\":\"checked the licence\"}");
    s_expect(&r, 200, "staff verify the organisation");
    s_resp_free(&r);
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM gateway.binding WHERE subject = '%s' AND status = 'ACTIVE'",
             uscc);
    if (ccip_test_wait_count("gateway", sql, 1, 10000) < 1)
        s_fail_with_logs("the pending binding was not confirmed after the verification");
}

/* Files a complete application of w's organisation over HTTP; its id into app. */
static long s_file(const s_who *w, const char *key, char app[CCIP_UUID_STRLEN + 1], s_resp *r)
{
    char body[4096], extra[200];
    snprintf(body, sizeof body,
             "{\"callId\":\"%s\",\"content\":{\"title\":\"Digital heritage workshop\","
             "\"summary\":\"A cluster of studios restoring and digitising heritage crafts.\","
             "\"district\":\"110105\",\"cluster\":{\"clusterName\":\"Langyuan Station\","
             "\"location\":\"Langjiayuan 6\",\"areaM2\":\"60000\",\"enterpriseCount\":120,"
             "\"employeeCount\":3500,\"leadOperator\":\"Langyuan Co.\"}},"
             "\"documents\":[{\"docType\":\"" REQUIRED_DOC "\",\"name\":\"licence.pdf\","
             "\"mediaType\":\"application/pdf\",\"content\":\"JVBERi0xLjQgbGljZW5jZQ==\"}]}",
             s_call);
    snprintf(extra, sizeof extra, "Idempotency-Key: %s", key ? key : "");
    s_http("POST", "/api/v1/intake/applications/file", NULL, body, strlen(body), w, 1,
           key ? extra : NULL, r);
    if (app)
        snprintf(app, CCIP_UUID_STRLEN + 1, "%s", s_str(r->json, "application.id"));
    return r->status;
}

/* ---- raw sockets ---------------------------------------------------------------------- */

static int s_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads what the server sends until it closes or timeout_ms passes. */
static size_t s_read_all(int fd, char *buf, size_t len, int timeout_ms)
{
    size_t n = 0;
    int64_t until = s_mono_us() + (int64_t)timeout_ms * 1000;
    while (n + 1 < len) {
        int left = (int)((until - s_mono_us()) / 1000);
        if (left <= 0)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0)
            break;
        ssize_t k = recv(fd, buf + n, len - n - 1, 0);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    buf[n] = '\0';
    return n;
}

static void s_alive(void)
{
    s_resp r;
    s_get("/healthz", NULL, &r);
    s_expect(&r, 200, "the gateway keeps serving");
    s_resp_free(&r);
}

/* ---- setup ------------------------------------------------------------------------------ */

static int s_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char err[300];
    if (ccip_test_env_init(&s_env) < 0 || gateway_crypto_init(err, sizeof err) < 0)
        return -1;
    /* The gateway's key, a front door (it authenticated the people it
     * speaks for), is made by ccip_test_env_init with every service's. */
    s_port = ccip_test_free_port();
    char listen[64], v[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", s_port);
    setenv("CCIP_GATEWAY_LISTEN", listen, 1);
    setenv("CCIP_GATEWAY_COMMAND_TIMEOUT_MS", "3000", 1);
    setenv("CCIP_GATEWAY_THROTTLE_ADDR_FAILURES", "100000", 1);
    snprintf(v, sizeof v, "%d", MAX_DOC);
    setenv("CCIP_GATEWAY_MAX_DOCUMENT_BYTES", v, 1);
    setenv("CCIP_INTAKE_MAX_DOCUMENT_BYTES", v, 1);
    snprintf(v, sizeof v, "%d", MAX_BODY);
    setenv("CCIP_GATEWAY_MAX_BODY_BYTES", v, 1);
    snprintf(v, sizeof v, "%d", REQUEST_S);
    setenv("CCIP_GATEWAY_REQUEST_TIMEOUT_S", v, 1);
    /* intake and the gateway serve their metrics (each on its own port:
     * a started service takes the environment of the moment) */
    char metrics[64];
    s_intake_metrics = ccip_test_free_port();
    s_gateway_metrics = ccip_test_free_port();
    snprintf(metrics, sizeof metrics, "127.0.0.1:%d", s_intake_metrics);
    setenv("CCIP_METRICS_LISTEN", metrics, 1);
    if (ccip_test_start_bus(&s_env) < 0 ||
        ccip_test_start_service(&s_env, "services/intake/intake", "intake", "intake-gw") < 0)
        return -1;
    unsetenv("CCIP_METRICS_LISTEN");
    if (ccip_test_start_service(&s_env, "services/evaluation/evaluation", "evaluation",
                                "evaluation-gw") < 0)
        return -1;
    /* followup and notify: their routes are answered by the real services
     * (no sweep or digest on a timer; notify with no mail or SMS channel) */
    setenv("CCIP_FOLLOWUP_SWEEP_SECONDS", "0", 1);
    setenv("CCIP_FOLLOWUP_DIGEST_CHECK_SECONDS", "0", 1);
    if (ccip_test_start_service(&s_env, "services/followup/followup", "followup", "followup-gw") <
            0 ||
        ccip_test_start_service(&s_env, "services/notify/notify", "notify", "notify-gw") < 0)
        return -1;
    snprintf(metrics, sizeof metrics, "127.0.0.1:%d", s_gateway_metrics);
    setenv("CCIP_METRICS_LISTEN", metrics, 1);
    int started =
        ccip_test_start_service(&s_env, "services/gateway/gateway", "gateway", "gateway-1");
    unsetenv("CCIP_METRICS_LISTEN");
    if (started < 0)
        return -1;
    s_ctx = zmq_ctx_new();
    ccip_sock_opts so = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    s_front = ccip_client_new(s_ctx, s_env.commands, &so, err, sizeof err);
    if (!s_front)
        return -1;
    /* ready: the database and the bus answer */
    s_resp r = {0};
    for (int i = 0; i < 300 && r.status != 200; i++) {
        s_resp_free(&r);
        s_get("/readyz", NULL, &r);
        if (r.status != 200)
            ccip_test_sleep_ms(100);
    }
    long st = r.status;
    s_resp_free(&r);
    if (st != 200) {
        ccip_test_env_cleanup(&s_env, 1);
        return -1;
    }
    /* The first admin comes through the operator's front door; staff are
     * invited by the admin over HTTP. Both enrol TOTP. */
    char token[64];
    s_invite_bus(CCIP__GATEWAY__BINDING_KIND__ADMIN, "", token);
    s_accept_new(&s_admin, "admin", token, 1);
    s_post("/api/v1/gateway/invitations", &s_admin, &r,
           "{\"email\":\"staff@example.cn\",\"kind\":\"STAFF\"}");
    s_expect(&r, 200, "the admin invites staff");
    snprintf(token, sizeof token, "%s", s_str(r.json, "token"));
    s_resp_free(&r);
    s_accept_new(&s_staff, "staff", token, 1);
    s_open_call();
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    ccip_client_destroy(&s_front);
    ccip_test_env_cleanup(&s_env, 0);
    if (s_ctx)
        zmq_ctx_term(s_ctx);
    curl_global_cleanup();
    return 0;
}

/* ---- the tests -------------------------------------------------------------------------- */

/* /healthz, /readyz and the OpenAPI document, generated from the route
 * table and the services' messages. */
static void test_health_and_openapi(void **state)
{
    (void)state;
    s_resp r;
    s_get("/healthz", NULL, &r);
    s_expect(&r, 200, "healthz");
    s_resp_free(&r);
    s_get("/readyz", NULL, &r);
    s_expect(&r, 200, "readyz");
    s_resp_free(&r);
    s_get("/api/v1/openapi.json", NULL, &r);
    s_expect(&r, 200, "openapi");
    json_t *paths = json_object_get(r.json, "paths");
    assert_non_null(json_object_get(
        json_object_get(paths, "/api/v1/intake/applications/{application_id}"), "get"));
    assert_non_null(json_object_get(json_object_get(paths, "/api/v1/session"), "post"));
    json_t *schemas = json_object_get(json_object_get(r.json, "components"), "schemas");
    assert_non_null(json_object_get(schemas, "ccip.intake.ApplicationReply"));
    s_resp_free(&r);
    /* unknown paths and methods are problems too */
    s_get("/api/v1/nowhere", NULL, &r);
    s_expect(&r, 404, "unknown path");
    assert_non_null(strstr(r.headers, "application/problem+json"));
    assert_string_equal(s_str(r.json, "ccip_status"), "NOT_FOUND");
    s_resp_free(&r);
    s_http("DELETE", "/api/v1/intake/calls", NULL, NULL, 0, NULL, 0, NULL, &r);
    s_expect(&r, 405, "wrong method");
    assert_non_null(strstr(r.headers, "Allow: "));
    s_resp_free(&r);
}

/* A session is an opaque token in an HttpOnly, Secure, SameSite=Strict
 * cookie; only its SHA-256 is stored. */
static void test_session_cookie_and_storage(void **state)
{
    (void)state;
    s_who w;
    s_sign_up(&w, "cookie", NULL);
    s_resp r;
    s_post("/api/v1/session", NULL, &r, "{\"login\":\"%s\",\"password\":\"" PASSWORD "\"}",
           w.login);
    s_expect(&r, 200, "sign-in");
    const char *sc = strstr(r.headers, "Set-Cookie: ccip_session=");
    assert_non_null(sc);
    char line[400];
    snprintf(line, sizeof line, "%.*s", (int)strcspn(sc, "\r\n"), sc);
    assert_non_null(strstr(line, "HttpOnly"));
    assert_non_null(strstr(line, "Secure"));
    assert_non_null(strstr(line, "SameSite=Strict"));
    assert_non_null(strstr(line, "Path=/"));
    s_take_session(&w, &r);
    s_resp_free(&r);
    assert_int_equal(strlen(w.token), GATEWAY_TOKEN_LEN);
    uint8_t h[32];
    gateway_sha256_text(w.token, h);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    assert_int_equal(
        s_number("gateway", "SELECT count(*) FROM gateway.session WHERE token_hash = '\\x%s'", hex),
        1);
    /* the token itself appears nowhere in the schema */
    assert_int_equal(s_number("gateway",
                              "SELECT count(*) FROM gateway.session s, gateway.audit a WHERE "
                              "encode(s.token_hash, 'escape') LIKE '%%%s%%' OR a.detail LIKE "
                              "'%%%s%%'",
                              w.token, w.token),
                     0);
    s_get("/api/v1/session", &w, &r);
    s_expect(&r, 200, "the session");
    assert_string_equal(s_str(r.json, "account.login"), w.login);
    assert_string_equal(s_str(r.json, "csrfToken"), w.csrf);
    s_resp_free(&r);
    /* the audit keeps the sign-up and the sign-ins */
    assert_true(s_number("gateway",
                         "SELECT count(*) FROM gateway.audit WHERE login = '%s' AND action = "
                         "'sign_in' AND outcome = 'ok'",
                         w.login) >= 2);
}

/* Rule: a body or header naming a role or actor changes nothing about who
 * acts. */
static void test_no_one_declares_their_role(void **state)
{
    (void)state;
    s_who a;
    s_org_user(&a, "actor");
    s_resp r;
    /* role or actor in a body is an unknown field of the message: refused,
     * naming it, nothing written */
    long long before = s_number("intake", "SELECT count(*) FROM intake.organisation");
    s_post("/api/v1/intake/organisations", &a, &r,
           "{\"uscc\":\"%s\",\"name\":\"X\",\"type\":\"ENTERPRISE\",\"district\":\"110105\","
           "\"legalRepresentative\":\"W\",\"contactName\":\"L\",\"contactPhone\":\"010-6512 3456\","
           "\"actorRole\":\"staff\"}",
           a.uscc);
    s_expect(&r, 400, "a body naming a role");
    s_detail_has(&r, "actorRole");
    s_resp_free(&r);
    long long drafts = s_number("intake", "SELECT count(*) FROM intake.application");
    s_post("/api/v1/intake/applications", &a, &r,
           "{\"callId\":\"%s\",\"content\":{\"title\":\"x\"},\"role\":\"staff\"}", s_call);
    s_expect(&r, 400, "a body naming a role");
    s_detail_has(&r, "role");
    s_resp_free(&r);
    s_post("/api/v1/intake/applications", &a, &r,
           "{\"callId\":\"%s\",\"content\":{\"title\":\"x\"},\"actor_id\":\"person:li\"}", s_call);
    s_expect(&r, 400, "a body naming an actor");
    s_detail_has(&r, "actor_id");
    s_resp_free(&r);
    assert_int_equal(s_number("intake", "SELECT count(*) FROM intake.application"), drafts);
    char path[300];
    snprintf(path, sizeof path, "/api/v1/intake/organisations/%s/verify", a.uscc);
    /* headers claiming a role or an actor are not read at all: the
     * applicant stays an applicant, who may not verify */
    s_http("POST", path, NULL, "{\"note\":\"x\"}", 12, &a, 1, "X-CCIP-Role: staff", &r);
    s_expect(&r, 403, "a header claiming staff");
    s_detail_has(&r, "ORGANISATION");
    s_resp_free(&r);
    s_http("POST", path, NULL, "{\"note\":\"x\"}", 12, &a, 1, "X-Actor-Id: person:staff", &r);
    s_expect(&r, 403, "a header claiming an actor");
    s_resp_free(&r);
    assert_int_equal(s_number("intake", "SELECT count(*) FROM intake.organisation"), before);
    /* a query parameter is no way either */
    s_get("/api/v1/intake/applications?actor_role=staff", &a, &r);
    s_expect(&r, 400, "a query naming a role");
    s_detail_has(&r, "actor_role");
    s_resp_free(&r);
    /* where the message legitimately names an organisation, the service
     * still uses the caller's own: an applicant listing another's applications
     * gets only its own */
    s_who b;
    s_org_user(&b, "other");
    char app[CCIP_UUID_STRLEN + 1];
    s_file(&b, NULL, app, &r);
    s_expect(&r, 200, "b files");
    s_resp_free(&r);
    char q[300];
    snprintf(q, sizeof q, "/api/v1/intake/applications?applicant_uscc=%s", b.uscc);
    s_get(q, &a, &r);
    assert_true(r.status == 403 || r.status == 200);
    if (r.status == 200)
        assert_null(strstr(r.body, app));
    s_resp_free(&r);
    /* what intake recorded as the actor is the binding's */
    assert_int_equal(s_number("intake",
                              "SELECT count(*) FROM intake.application WHERE id = '%s' AND "
                              "created_by = 'org:%s'",
                              app, b.uscc),
                     1);
}

/* Rule: a wrong password and an unknown account get the same answer in the
 * same time class. */
static void test_unknown_and_wrong_look_alike(void **state)
{
    (void)state;
    s_who w;
    s_sign_up(&w, "alike", NULL);
    const int n = 5;
    int64_t wrong_us[5], unknown_us[5];
    char wrong_body[600] = "", unknown_body[600] = "";
    for (int i = 0; i < n; i++) {
        /* a different login each time, so that the throttle stays out of it */
        s_who fresh;
        s_sign_up(&fresh, "alike", NULL);
        s_resp r;
        int64_t t0 = s_mono_us();
        s_post("/api/v1/session", NULL, &r, "{\"login\":\"%s\",\"password\":\"wrong password!\"}",
               fresh.login);
        wrong_us[i] = s_mono_us() - t0;
        s_expect(&r, 401, "wrong password");
        snprintf(wrong_body, sizeof wrong_body, "%s", r.body);
        s_resp_free(&r);
        t0 = s_mono_us();
        s_post("/api/v1/session", NULL, &r,
               "{\"login\":\"nobody.%d.%d\",\"password\":\"wrong password!\"}", (int)getpid(), i);
        unknown_us[i] = s_mono_us() - t0;
        s_expect(&r, 401, "unknown account");
        snprintf(unknown_body, sizeof unknown_body, "%s", r.body);
        s_resp_free(&r);
    }
    assert_string_equal(wrong_body, unknown_body);
    /* medians within a factor of four of each other: the unknown login is
     * checked against a dummy argon2id hash, not answered at once (that
     * would be ~50x faster). Two was too tight beside other suites on two
     * cores: a clean-clone run measured 272,672 us against 103,272 us. */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            if (wrong_us[j] < wrong_us[i]) {
                int64_t t = wrong_us[i];
                wrong_us[i] = wrong_us[j];
                wrong_us[j] = t;
            }
            if (unknown_us[j] < unknown_us[i]) {
                int64_t t = unknown_us[i];
                unknown_us[i] = unknown_us[j];
                unknown_us[j] = t;
            }
        }
    int64_t mw = wrong_us[n / 2], mu = unknown_us[n / 2];
    fprintf(stderr, "sign-in failure medians: wrong password %lld us, unknown login %lld us\n",
            (long long)mw, (long long)mu);
    assert_true(mu * 4 > mw && mw * 4 > mu);
}

/* Rule: the sixth failure in a row is delayed, then the login is locked
 * for a while; the right password does not get through meanwhile. */
static void test_sixth_failure_is_delayed(void **state)
{
    (void)state;
    s_who w;
    s_sign_up(&w, "throttle", NULL);
    s_resp r;
    for (int i = 0; i < 5; i++) {
        s_post("/api/v1/session", NULL, &r, "{\"login\":\"%s\",\"password\":\"guess %d guess\"}",
               w.login, i);
        s_expect(&r, 401, "a failure before the delays");
        s_resp_free(&r);
    }
    s_post("/api/v1/session", NULL, &r, "{\"login\":\"%s\",\"password\":\"guess 6 guess\"}",
           w.login);
    s_expect(&r, 429, "the sixth attempt in a row");
    assert_non_null(strstr(r.headers, "Retry-After: "));
    s_resp_free(&r);
    /* even the right password waits */
    assert_int_equal(s_sign_in(&w, PASSWORD), 429);
    /* the same for a login that does not exist: no enumeration by throttle */
    for (int i = 0; i < 6; i++) {
        s_post("/api/v1/session", NULL, &r,
               "{\"login\":\"ghost.%d\",\"password\":\"guess %d guess\"}", (int)getpid(), i);
        s_expect(&r, i < 5 ? 401 : 429, "an unknown login is throttled alike");
        s_resp_free(&r);
    }
    /* after the delay, the right password gets in and the count is reset */
    ccip_test_sleep_ms(1100);
    assert_int_equal(s_sign_in(&w, PASSWORD), 200);
    assert_true(s_number("gateway",
                         "SELECT count(*) FROM gateway.audit WHERE login = '%s' AND action = "
                         "'sign_in' AND outcome = 'failure'",
                         w.login) >= 5);
    assert_true(s_number("gateway",
                         "SELECT count(*) FROM gateway.audit WHERE login = '%s' AND outcome = "
                         "'throttled'",
                         w.login) >= 2);
}

/* Rule: TOTP is demanded where the role needs it. */
static void test_totp_where_the_role_needs_it(void **state)
{
    (void)state;
    s_resp r;
    /* an enrolled account signs in only with a code */
    s_who staff = s_staff;
    s_post("/api/v1/session", NULL, &r, "{\"login\":\"%s\",\"password\":\"" PASSWORD "\"}",
           staff.login);
    s_expect(&r, 401, "staff without a code");
    s_detail_has(&r, "totp");
    s_resp_free(&r);
    s_post("/api/v1/session", NULL, &r,
           "{\"login\":\"%s\",\"password\":\"" PASSWORD "\",\"totp\":\"000000\"}", staff.login);
    s_expect(&r, 401, "staff with a wrong code");
    s_resp_free(&r);
    assert_int_equal(s_sign_in(&staff, PASSWORD), 200);
    s_get("/api/v1/session", &staff, &r);
    assert_true(json_is_true(json_object_get(r.json, "secondFactor")));
    s_resp_free(&r);
    /* a staff binding on an account without TOTP does not act */
    char token[64];
    s_invite_bus(CCIP__GATEWAY__BINDING_KIND__STAFF, "", token);
    s_who plain;
    s_accept_new(&plain, "nototp", token, 0);
    s_get("/api/v1/intake/applications", &plain, &r);
    s_expect(&r, 403, "staff without a second factor");
    s_detail_has(&r, "TOTP");
    s_resp_free(&r);
    /* after enrolling (which proves the factor) it does */
    s_enrol_totp(&plain);
    s_get("/api/v1/intake/applications", &plain, &r);
    s_expect(&r, 200, "staff with a second factor");
    s_resp_free(&r);
}

/* Rule: a state-changing request without the CSRF token is refused, and
 * nothing is written. */
static void test_csrf_token_required(void **state)
{
    (void)state;
    s_who w;
    char uscc[CCIP_USCC_LEN + 1];
    s_uscc(uscc);
    s_sign_up(&w, "csrf", uscc);
    char body[600];
    snprintf(
        body, sizeof body,
        "{\"uscc\":\"%s\",\"name\":\"CSRF Co\",\"type\":\"ENTERPRISE\",\"district\":\"110105\","
        "\"legalRepresentative\":\"W\",\"contactName\":\"L\",\"contactPhone\":\"010-6512 3456\"}",
        uscc);
    s_who other;
    s_sign_up(&other, "csrf2", NULL);
    long long audit = s_number("gateway", "SELECT count(*) FROM gateway.audit");
    s_resp r;
    s_http("POST", "/api/v1/intake/organisations", NULL, body, strlen(body), &w, 0, NULL, &r);
    s_expect(&r, 403, "no CSRF token");
    s_detail_has(&r, "X-CSRF-Token");
    s_resp_free(&r);
    s_http("POST", "/api/v1/intake/organisations", NULL, body, strlen(body), &w, 0,
           "X-CSRF-Token: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &r);
    s_expect(&r, 403, "a wrong CSRF token");
    s_resp_free(&r);
    /* another session's token does not do either */
    char extra[100];
    snprintf(extra, sizeof extra, "X-CSRF-Token: %s", other.csrf);
    s_http("POST", "/api/v1/intake/organisations", NULL, body, strlen(body), &w, 0, extra, &r);
    s_expect(&r, 403, "another session's CSRF token");
    s_resp_free(&r);
    s_http("DELETE", "/api/v1/session", NULL, NULL, 0, &w, 0, NULL, &r);
    s_expect(&r, 403, "signing out without the token");
    s_resp_free(&r);
    assert_int_equal(
        s_number("intake", "SELECT count(*) FROM intake.organisation WHERE uscc = '%s'", uscc), 0);
    assert_int_equal(s_number("gateway", "SELECT count(*) FROM gateway.audit"), audit);
    s_http("POST", "/api/v1/intake/organisations", NULL, body, strlen(body), &w, 1, NULL, &r);
    s_expect(&r, 200, "with the token");
    s_resp_free(&r);
}

/* Rule: an expired, idle or ended session is refused (401), nothing written. */
static void test_ended_sessions_write_nothing(void **state)
{
    (void)state;
    s_who w;
    char uscc[CCIP_USCC_LEN + 1];
    s_uscc(uscc);
    s_sign_up(&w, "expiry", uscc);
    char body[600];
    snprintf(
        body, sizeof body,
        "{\"uscc\":\"%s\",\"name\":\"Late Co\",\"type\":\"ENTERPRISE\",\"district\":\"110105\","
        "\"legalRepresentative\":\"W\",\"contactName\":\"L\",\"contactPhone\":\"010-6512 3456\"}",
        uscc);
    uint8_t h[32];
    gateway_sha256_text(w.token, h);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    /* idle for longer than gateway.session_idle_s */
    s_number("gateway",
             "WITH u AS (UPDATE gateway.session SET last_seen_at = now() - interval '1 day' WHERE "
             "token_hash = '\\x%s' RETURNING 1) SELECT count(*) FROM u",
             hex);
    s_resp r;
    s_http("POST", "/api/v1/intake/organisations", NULL, body, strlen(body), &w, 1, NULL, &r);
    s_expect(&r, 401, "an idle session");
    s_resp_free(&r);
    /* past its absolute end */
    assert_int_equal(s_sign_in(&w, PASSWORD), 200);
    gateway_sha256_text(w.token, h);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    s_number("gateway",
             "WITH u AS (UPDATE gateway.session SET expires_at = now() - interval '1 s' WHERE "
             "token_hash = '\\x%s' RETURNING 1) SELECT count(*) FROM u",
             hex);
    s_http("POST", "/api/v1/intake/organisations", NULL, body, strlen(body), &w, 1, NULL, &r);
    s_expect(&r, 401, "an expired session");
    s_resp_free(&r);
    /* signed out */
    assert_int_equal(s_sign_in(&w, PASSWORD), 200);
    s_http("DELETE", "/api/v1/session", NULL, NULL, 0, &w, 1, NULL, &r);
    s_expect(&r, 200, "sign-out");
    assert_non_null(strstr(r.headers, "ccip_session=;"));
    s_resp_free(&r);
    s_http("POST", "/api/v1/intake/organisations", NULL, body, strlen(body), &w, 1, NULL, &r);
    s_expect(&r, 401, "a signed-out session");
    s_resp_free(&r);
    assert_int_equal(
        s_number("intake", "SELECT count(*) FROM intake.organisation WHERE uscc = '%s'", uscc), 0);
    /* sign-out of every session and a password change end the others */
    s_who w2 = w;
    assert_int_equal(s_sign_in(&w, PASSWORD), 200);
    assert_int_equal(s_sign_in(&w2, PASSWORD), 200);
    s_post("/api/v1/account/password", &w, &r,
           "{\"currentPassword\":\"" PASSWORD "\",\"newPassword\":\"a new long password\"}");
    s_expect(&r, 200, "password change");
    s_resp_free(&r);
    s_get("/api/v1/session", &w2, &r);
    s_expect(&r, 401, "the other session after a password change");
    s_resp_free(&r);
    s_get("/api/v1/session", &w, &r);
    s_expect(&r, 200, "this session after a password change");
    s_resp_free(&r);
    s_post("/api/v1/session/end-all", &w, &r, "{}");
    s_expect(&r, 200, "sign-out of all sessions");
    s_resp_free(&r);
    s_get("/api/v1/session", &w, &r);
    s_expect(&r, 401, "after signing out of all sessions");
    s_resp_free(&r);
    assert_int_equal(s_sign_in(&w, PASSWORD), 401);
    assert_int_equal(s_sign_in(&w, "a new long password"), 200);
}

/* Rule: an applicant user of one organisation cannot read or act on
 * another's applications, through any route. */
static void test_organisations_are_apart(void **state)
{
    (void)state;
    s_who a, b;
    s_org_user(&a, "orga");
    s_org_user(&b, "orgb");
    s_resp r;
    char app[CCIP_UUID_STRLEN + 1];
    s_file(&b, NULL, app, &r);
    s_expect(&r, 200, "b files an application");
    char doc[CCIP_UUID_STRLEN + 1];
    snprintf(doc, sizeof doc, "%s",
             s_str(json_array_get(
                       json_object_get(json_object_get(r.json, "application"), "documents"), 0),
                   "id"));
    s_resp_free(&r);
    char path[400];
    snprintf(path, sizeof path, "/api/v1/intake/applications/%s", app);
    s_get(path, &a, &r);
    s_expect(&r, 403, "reading another organisation's application");
    s_resp_free(&r);
    s_get(path, &b, &r);
    s_expect(&r, 200, "reading one's own");
    s_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/intake/applications/%s/documents/%s", app, doc);
    s_get(path, &a, &r);
    s_expect(&r, 403, "downloading another organisation's document");
    s_resp_free(&r);
    const char *acts[] = {"submit", "withdraw"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/api/v1/intake/applications/%s/%s", app, acts[i]);
        s_post(path, &a, &r, "{}");
        s_expect(&r, 403, "acting on another organisation's application");
        s_resp_free(&r);
    }
    snprintf(path, sizeof path, "/api/v1/intake/applications/%s", app);
    s_post(path, &a, &r, "{\"content\":{\"title\":\"taken over\"}}");
    s_expect(&r, 403, "updating another organisation's application");
    s_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/intake/applications/%s/documents?doc_type=x&name=y.pdf",
             app);
    s_http("POST", path, "application/pdf", "%PDF-1.4", 8, &a, 1, NULL, &r);
    s_expect(&r, 403, "adding a document to another organisation's application");
    s_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/intake/organisations/%s", b.uscc);
    s_get(path, &a, &r);
    s_expect(&r, 403, "reading another organisation");
    s_resp_free(&r);
    s_post(
        path, &a, &r,
        "{\"details\":{\"name\":\"Hijacked\",\"type\":\"ENTERPRISE\",\"district\":\"110105\","
        "\"legalRepresentative\":\"W\",\"contactName\":\"L\",\"contactPhone\":\"010-6512 3456\"}}");
    s_expect(&r, 403, "updating another organisation");
    s_resp_free(&r);
    s_get("/api/v1/intake/applications", &a, &r);
    s_expect(&r, 200, "listing");
    assert_null(strstr(r.body, app));
    s_resp_free(&r);
    /* a's own organisation cannot invite users of b's */
    s_post("/api/v1/gateway/invitations", &a, &r,
           "{\"email\":\"x@example.cn\",\"kind\":\"ORGANISATION\",\"subject\":\"%s\"}", b.uscc);
    s_expect(&r, 403, "inviting users of another organisation");
    s_resp_free(&r);
    assert_int_equal(s_number("intake",
                              "SELECT count(*) FROM intake.application WHERE id = '%s' AND status "
                              "= 'SUBMITTED'",
                              app),
                     1);
}

/* A pending binding may register its organisation and nothing else; the
 * verification confirms the registrant's and declines the other claims. */
static void test_pending_binding_until_verified(void **state)
{
    (void)state;
    char uscc[CCIP_USCC_LEN + 1];
    s_uscc(uscc);
    s_who first, second;
    s_sign_up(&first, "claim1", uscc);
    s_sign_up(&second, "claim2", uscc);
    s_resp r;
    s_get("/api/v1/intake/applications", &first, &r);
    s_expect(&r, 403, "a pending binding lists nothing");
    s_resp_free(&r);
    char path[300];
    snprintf(path, sizeof path, "/api/v1/intake/organisations/%s", uscc);
    const char *details = "{\"details\":{\"name\":\"Claimed Co Ltd\",\"type\":\"ENTERPRISE\","
                          "\"district\":\"110105\",\"legalRepresentative\":\"W\","
                          "\"contactName\":\"L\",\"contactPhone\":\"010-6512 3456\"}}";
    s_http("POST", path, NULL, details, strlen(details), &first, 1, NULL, &r);
    s_expect(&r, 403, "updating before having registered");
    s_resp_free(&r);
    s_post("/api/v1/intake/organisations", &first, &r,
           "{\"uscc\":\"%s\",\"name\":\"Claimed Co\",\"type\":\"ENTERPRISE\","
           "\"district\":\"110105\",\"legalRepresentative\":\"W\",\"contactName\":\"L\","
           "\"contactPhone\":\"010-6512 3456\"}",
           uscc);
    s_expect(&r, 200, "the first claimant registers");
    s_resp_free(&r);
    s_post("/api/v1/intake/organisations", &second, &r,
           "{\"uscc\":\"%s\",\"name\":\"Claimed Co\",\"type\":\"ENTERPRISE\","
           "\"district\":\"110105\",\"legalRepresentative\":\"W\",\"contactName\":\"L\","
           "\"contactPhone\":\"010-6512 3456\"}",
           uscc);
    s_expect(&r, 409, "the second claimant cannot register it again");
    s_resp_free(&r);
    s_http("POST", path, NULL, details, strlen(details), &second, 1, NULL, &r);
    s_expect(&r, 403, "nor update what it did not register");
    s_resp_free(&r);
    s_http("POST", path, NULL, details, strlen(details), &first, 1, NULL, &r);
    s_expect(&r, 200, "the registrant updates");
    s_resp_free(&r);
    s_file(&first, NULL, NULL, &r);
    s_expect(&r, 403, "no application before the verification");
    s_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/intake/organisations/%s/verify", uscc);
    s_post(path, &s_staff, &r, "{\"note\":\"ok\"}");
    s_expect(&r, 200, "staff verify");
    s_resp_free(&r);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM gateway.binding WHERE subject = '%s' AND status <> 'PENDING'",
             uscc);
    assert_true(ccip_test_wait_count("gateway", sql, 2, 10000) >= 2);
    s_file(&first, NULL, NULL, &r);
    s_expect(&r, 200, "the registrant files after the verification");
    s_resp_free(&r);
    s_get("/api/v1/intake/applications", &second, &r);
    s_expect(&r, 403, "the other claim was declined");
    s_resp_free(&r);
    assert_int_equal(s_number("gateway",
                              "SELECT count(*) FROM gateway.outbox WHERE type = "
                              "'gateway.account.binding_granted.v1' AND aggregate_id = '%s'",
                              first.account_id),
                     1);
}

/* A person changes their own contact: other services (notify) hear of it
 * through gateway.account.contact_changed.v1; a bad address changes
 * nothing and publishes nothing. */
static void test_contact_changed(void **state)
{
    (void)state;
    s_who a;
    s_org_user(&a, "contact");
#define CONTACT_EVENTS                                                                             \
    "SELECT count(*) FROM gateway.outbox WHERE type = "                                            \
    "'gateway.account.contact_changed.v1' AND aggregate_id = '%s'"
    s_resp r;
    s_post("/api/v1/account/contact", &a, &r,
           "{\"name\":\"Wang Fang\",\"email\":\"wang.fang@lantern.example.cn\","
           "\"mobile\":\"+86 138 0013 8000\"}");
    s_expect(&r, 200, "a person changes their contact");
    assert_string_equal(s_str(r.json, "account.email"), "wang.fang@lantern.example.cn");
    s_resp_free(&r);
    assert_int_equal(s_number("gateway", CONTACT_EVENTS, a.account_id), 1);
    s_post("/api/v1/account/contact", &a, &r,
           "{\"name\":\"Wang Fang\",\"email\":\"not an address\",\"mobile\":\"\"}");
    s_expect(&r, 400, "an address that is none");
    s_detail_has(&r, "email");
    s_resp_free(&r);
    assert_int_equal(s_number("gateway", CONTACT_EVENTS, a.account_id), 1);
    assert_int_equal(s_number("gateway",
                              "SELECT count(*) FROM gateway.account WHERE id = '%s' AND email = "
                              "'wang.fang@lantern.example.cn'",
                              a.account_id),
                     1);
#undef CONTACT_EVENTS
}

/* A confirmed user invites a colleague; invitations are one-time. */
static void test_invitations(void **state)
{
    (void)state;
    s_who a;
    s_org_user(&a, "inviter");
    s_resp r;
    s_post("/api/v1/gateway/invitations", &a, &r,
           "{\"email\":\"colleague@example.cn\",\"kind\":\"ORGANISATION\",\"subject\":\"%s\"}",
           a.uscc);
    s_expect(&r, 200, "an organisation's user invites");
    char token[64];
    snprintf(token, sizeof token, "%s", s_str(r.json, "token"));
    s_resp_free(&r);
    assert_int_equal(s_number("gateway",
                              "SELECT count(*) FROM gateway.one_time_token WHERE "
                              "encode(token_hash, 'escape') LIKE '%%%s%%'",
                              token),
                     0);
    s_who c;
    s_accept_new(&c, "colleague", token, 0);
    s_get("/api/v1/intake/applications", &c, &r);
    s_expect(&r, 200, "the colleague acts for the organisation");
    s_resp_free(&r);
    /* a second use of the token */
    s_who d;
    s_login(&d, "again");
    char path[200];
    snprintf(path, sizeof path, "/api/v1/invitations/%s/accept", token);
    s_post(path, NULL, &r,
           "{\"token\":\"%s\",\"login\":\"%s\",\"name\":\"D\",\"email\":\"%s@example.cn\","
           "\"password\":\"" PASSWORD "\"}",
           token, d.login, d.login);
    s_expect(&r, 404, "an invitation used twice");
    s_resp_free(&r);
    /* an organisation's user may not invite staff */
    s_post("/api/v1/gateway/invitations", &a, &r,
           "{\"email\":\"x@example.cn\",\"kind\":\"STAFF\"}");
    s_expect(&r, 403, "inviting staff");
    s_resp_free(&r);
    /* nor may staff invite an admin */
    s_post("/api/v1/gateway/invitations", &s_staff, &r,
           "{\"email\":\"x@example.cn\",\"kind\":\"ADMIN\"}");
    s_expect(&r, 403, "staff inviting an admin");
    s_resp_free(&r);
}

/* Bindings are checked with the service that owns their subject; a person
 * with two bindings chooses which acts. */
static void test_bindings_checked_and_switched(void **state)
{
    (void)state;
    s_who x;
    s_org_user(&x, "twohats");
    s_resp r;
    char path[300];
    snprintf(path, sizeof path, "/api/v1/gateway/accounts/%s/bindings", x.account_id);
    s_post(path, &s_admin, &r, "{\"kind\":\"EXPERT\",\"subject\":\"EX-NONE-%d\"}", (int)getpid());
    s_expect(&r, 404, "an expert evaluation does not know");
    s_detail_has(&r, "expert");
    s_resp_free(&r);
    s_post(path, &s_admin, &r, "{\"kind\":\"DISTRICT\",\"subject\":\"999999\"}");
    s_expect(&r, 400, "a district that does not exist");
    s_resp_free(&r);
    /* register the expert with evaluation (staff, over HTTP), then grant */
    char expert[40];
    snprintf(expert, sizeof expert, "EX-GW-%d", (int)getpid() % 100000);
    s_post("/api/v1/evaluation/experts", &s_staff, &r,
           "{\"id\":\"%s\",\"name\":\"Prof. Chen\",\"fields\":[\"design\"],"
           "\"affiliationUscc\":\"%s\",\"affiliationName\":\"Academy\",\"district\":\"110108\","
           "\"maxConcurrentReviews\":5,\"phone\":\"13800000000\",\"email\":\"chen@example.cn\"}",
           expert, x.uscc);
    s_expect(&r, 200, "staff register an expert");
    s_resp_free(&r);
    s_post(path, &s_staff, &r, "{\"kind\":\"EXPERT\",\"subject\":\"%s\",\"reason\":\"panel\"}",
           expert);
    s_expect(&r, 200, "staff grant the expert binding");
    char expert_binding[CCIP_UUID_STRLEN + 1];
    snprintf(expert_binding, sizeof expert_binding, "%s", s_str(r.json, "binding.id"));
    char actor[64];
    snprintf(actor, sizeof actor, "expert:%s", expert);
    assert_string_equal(s_str(r.json, "binding.actorId"), actor);
    s_resp_free(&r);
    assert_int_equal(s_number("gateway",
                              "SELECT count(*) FROM gateway.outbox WHERE type = "
                              "'gateway.account.binding_granted.v1' AND aggregate_id = '%s'",
                              x.account_id),
                     2);
    /* as the organisation it drafts; as the expert it may not */
    s_post("/api/v1/session/binding", &x, &r, "{\"bindingId\":\"%s\"}", expert_binding);
    s_expect(&r, 200, "switching to the expert binding");
    s_resp_free(&r);
    s_file(&x, NULL, NULL, &r);
    s_expect(&r, 403, "an expert files no application");
    s_detail_has(&r, "EXPERT");
    s_resp_free(&r);
    s_get("/api/v1/evaluation/tasks", &x, &r);
    s_expect(&r, 200, "the expert's tasks");
    s_resp_free(&r);
    s_post("/api/v1/session/binding", &x, &r, "{\"bindingId\":\"%s\"}", x.binding_id);
    s_expect(&r, 200, "switching back");
    s_resp_free(&r);
    s_file(&x, NULL, NULL, &r);
    s_expect(&r, 200, "the organisation files");
    s_resp_free(&r);
    /* revoked: it acts no more, at once, in every session */
    snprintf(path, sizeof path, "/api/v1/gateway/bindings/%s/revoke", x.binding_id);
    s_post(path, &s_staff, &r, "{\"reason\":\"left the company\"}");
    s_expect(&r, 200, "revoking");
    s_resp_free(&r);
    s_get("/api/v1/intake/applications", &x, &r);
    s_expect(&r, 403, "a revoked binding");
    s_resp_free(&r);
    assert_true(s_number("gateway",
                         "SELECT count(*) FROM gateway.audit WHERE account_id = '%s' AND action "
                         "LIKE 'binding.%%'",
                         x.account_id) >= 3);
}

/* An account holding one binding of `kind` to `subject`, granted by staff,
 * signed in again so that the binding acts. */
static void s_register_person(s_who *w, const char *prefix, const char *kind, const char *subject)
{
    s_sign_up(w, prefix, NULL);
    char path[200];
    snprintf(path, sizeof path, "/api/v1/gateway/accounts/%s/bindings", w->account_id);
    s_resp r;
    s_post(path, &s_staff, &r, "{\"kind\":\"%s\",\"subject\":\"%s\",\"reason\":\"panel\"}", kind,
           subject);
    s_expect(&r, 200, "staff grant the binding");
    s_resp_free(&r);
    if (s_sign_in(w, PASSWORD) != 200)
        s_fail_with_logs("sign-in with the new binding");
}

/* What `who` gets for the application and its document. */
static void s_reads(const s_who *who, const char *app, const char *doc, long want, const char *what)
{
    char path[300], msg[300];
    s_resp r;
    snprintf(path, sizeof path, "/api/v1/intake/applications/%s", app);
    s_get(path, who, &r);
    snprintf(msg, sizeof msg, "%s: the application", what);
    s_expect(&r, want, msg);
    if (want == 200) {
        /* the facts, not what staff or the applicant see of its course */
        assert_string_equal(s_str(r.json, "application.content.cluster.clusterName"),
                            "Langyuan Station");
        json_t *a = json_object_get(r.json, "application");
        assert_int_equal(json_array_size(json_object_get(a, "history")), 0);
        json_t *view = json_object_get(a, "applicantView");
        assert_true(!view || json_is_null(view));
        assert_int_equal(json_array_size(json_object_get(a, "documents")), 1);
    } else {
        s_detail_has(&r, "reads only the applications of the cases it is assigned to");
    }
    s_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/intake/applications/%s/documents/%s", app, doc);
    s_get(path, who, &r);
    snprintf(msg, sizeof msg, "%s: the document", what);
    s_expect(&r, want, msg);
    if (want == 200)
        assert_memory_equal(r.body, "%PDF-1.4 licence", 16);
    s_resp_free(&r);
}

/* Waits until intake counts `want` live readers of app (it follows
 * evaluation's events: the count goes up or down). */
static void s_live_readers(const char *app, long long want)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM intake.reader WHERE application_id = '%s' AND ended_at IS NULL",
             app);
    for (int waited = 0; s_number("intake", "%s", sql) != want; waited += 100) {
        if (waited > 10000)
            s_fail_with_logs("intake did not follow evaluation's assignment events");
        ccip_test_sleep_ms(100);
    }
}

/* Rule: an expert reads the facts and documents of a case it is assigned
 * to once it declared no conflict, and not of a case it is not assigned
 * to, declared a conflict on, or was taken off; an agency from its
 * assignment (the end at the decision and a new round: test_evaluation's
 * test_special_funds_and_return). */
static void test_experts_read_what_they_judge(void **state)
{
    (void)state;
    s_who org, other;
    s_org_user(&org, "judged");
    s_org_user(&other, "unjudged");
    char app[CCIP_UUID_STRLEN + 1], doc[CCIP_UUID_STRLEN + 1], app2[CCIP_UUID_STRLEN + 1];
    char doc2[CCIP_UUID_STRLEN + 1];
    s_resp r;
    s_file(&org, NULL, app, &r);
    s_expect(&r, 200, "filing the application to judge");
    json_t *d =
        json_array_get(json_object_get(json_object_get(r.json, "application"), "documents"), 0);
    snprintf(doc, sizeof doc, "%s", s_str(d, "id"));
    s_resp_free(&r);
    s_file(&other, NULL, app2, &r);
    s_expect(&r, 200, "filing another application");
    d = json_array_get(json_object_get(json_object_get(r.json, "application"), "documents"), 0);
    snprintf(doc2, sizeof doc2, "%s", s_str(d, "id"));
    s_resp_free(&r);
    /* the register: three experts and an agency, a two-seat panel */
    char ex[3][40], ag[40], path[300];
    int pid = (int)getpid() % 100000;
    char affiliation[CCIP_USCC_LEN + 1];
    for (int i = 0; i < 3; i++) {
        snprintf(ex[i], sizeof ex[i], "EX-RD%d-%d", i, pid);
        s_uscc(affiliation);
        s_post("/api/v1/evaluation/experts", &s_staff, &r,
               "{\"id\":\"%s\",\"name\":\"Prof. %d\",\"fields\":[\"heritage\"],"
               "\"affiliationUscc\":\"%s\",\"affiliationName\":\"Academy %d\","
               "\"district\":\"110108\",\"maxConcurrentReviews\":5,\"phone\":\"1380000000%d\","
               "\"email\":\"ex%d@example.cn\"}",
               ex[i], i, affiliation, i, i, i);
        s_expect(&r, 200, "staff register an expert");
        s_resp_free(&r);
    }
    snprintf(ag, sizeof ag, "AG-RD-%d", pid);
    s_uscc(affiliation);
    s_post("/api/v1/evaluation/agencies", &s_staff, &r,
           "{\"id\":\"%s\",\"name\":\"Survey Co\",\"uscc\":\"%s\",\"qualification\":\"A\","
           "\"districtsServed\":[\"all\"],\"capacity\":5}",
           ag, affiliation);
    s_expect(&r, 200, "staff register an agency");
    s_resp_free(&r);
    s_post("/api/v1/evaluation/sheets", &s_staff, &r,
           "{\"kind\":\"CLUSTER_IDENTIFICATION\",\"criteria\":[{\"code\":\"scale\","
           "\"title\":\"Scale\",\"weight\":100,\"maxScore\":10}],\"passThresholdCenti\":6000,"
           "\"panelSize\":2,\"fields\":[\"heritage\"]}");
    s_expect(&r, 200, "staff publish the score sheet");
    s_resp_free(&r);
    s_who e0, e1, e2, agency;
    s_register_person(&e0, "expert0", "EXPERT", ex[0]);
    s_register_person(&e1, "expert1", "EXPERT", ex[1]);
    s_register_person(&e2, "expert2", "EXPERT", ex[2]);
    s_register_person(&agency, "agency", "AGENCY", ag);
    /* accepted: evaluation opens the case */
    snprintf(path, sizeof path, "/api/v1/intake/applications/%s/accept", app);
    s_post(path, &s_staff, &r, "{}");
    s_expect(&r, 200, "staff accept the application");
    s_resp_free(&r);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM evaluation.case_file WHERE application_id = '%s'", app);
    if (ccip_test_wait_count("evaluation", sql, 1, 10000) != 1)
        s_fail_with_logs("evaluation opened no case for the accepted application");
    char case_id[CCIP_UUID_STRLEN + 1];
    snprintf(path, sizeof path, "/api/v1/evaluation/cases?status=CASE_OPEN");
    s_get(path, &s_staff, &r);
    s_expect(&r, 200, "staff list the open cases");
    case_id[0] = '\0';
    json_t *cs = json_object_get(r.json, "cases");
    for (size_t i = 0; i < json_array_size(cs); i++)
        if (strcmp(s_str(json_array_get(cs, i), "applicationId"), app) == 0)
            snprintf(case_id, sizeof case_id, "%s", s_str(json_array_get(cs, i), "id"));
    s_resp_free(&r);
    assert_true(case_id[0]);
    /* nobody reads before the assignment */
    s_reads(&e0, app, doc, 403, "an expert before any assignment");
    s_reads(&agency, app, doc, 403, "an agency before its assignment");
    snprintf(path, sizeof path, "/api/v1/evaluation/cases/%s/assignment", case_id);
    s_post(path, &s_staff, &r,
           "{\"picks\":[{\"kind\":\"AGENCY\",\"id\":\"%s\"},{\"kind\":\"EXPERT\",\"id\":\"%s\"},"
           "{\"kind\":\"EXPERT\",\"id\":\"%s\"}]}",
           ag, ex[0], ex[1]);
    s_expect(&r, 200, "staff assign the agency and two experts");
    s_resp_free(&r);
    /* the agency reads from its assignment; an expert once it declared no
     * conflict */
    s_live_readers(app, 1);
    s_reads(&agency, app, doc, 200, "the assigned agency");
    s_reads(&e0, app, doc, 403, "an assigned expert that has not declared");
    snprintf(path, sizeof path, "/api/v1/evaluation/cases/%s/review/declare", case_id);
    for (int i = 0; i < 2; i++) {
        s_post(path, i ? &e1 : &e0, &r, "{\"conflict\":false,\"statement\":\"none\"}");
        s_expect(&r, 200, "an expert declares no conflict");
        s_resp_free(&r);
    }
    s_live_readers(app, 3);
    s_reads(&e0, app, doc, 200, "an assigned expert without a conflict");
    s_reads(&e1, app, doc, 200, "the other assigned expert");
    /* not of a case it is not assigned to, nor the list of applications */
    s_reads(&e0, app2, doc2, 403, "an expert on a case it is not assigned to");
    s_reads(&e2, app, doc, 403, "an expert assigned to nothing");
    s_get("/api/v1/intake/applications", &e0, &r);
    s_expect(&r, 403, "an expert lists no applications");
    s_resp_free(&r);
    /* an expert that declares a conflict (after all) reads no more */
    s_post(path, &e1, &r, "{\"conflict\":true,\"statement\":\"my cousin runs the applicant\"}");
    s_expect(&r, 200, "an expert declares a conflict");
    s_resp_free(&r);
    /* one taken off the case by staff reads no more either */
    snprintf(path, sizeof path, "/api/v1/evaluation/cases/%s/assignment/reassign", case_id);
    s_post(path, &s_staff, &r,
           "{\"kind\":\"EXPERT\",\"id\":\"%s\",\"reason\":\"unavailable for a month\"}", ex[0]);
    s_expect(&r, 200, "staff take the expert off the case");
    s_resp_free(&r);
    s_live_readers(app, 1);
    s_reads(&e1, app, doc, 403, "an expert that declared a conflict");
    s_reads(&e0, app, doc, 403, "an expert taken off the case");
    s_reads(&agency, app, doc, 200, "the agency still assigned");
    assert_int_equal(s_number("intake",
                              "SELECT count(*) FROM intake.reader WHERE application_id = '%s' AND "
                              "ended_at IS NOT NULL AND end_reason <> ''",
                              app),
                     2);
}

/* Lists come in pages: limit, then after_id = the last id of a page. */
static void test_lists_are_paged(void **state)
{
    (void)state;
    s_who a, b, c;
    s_org_user(&a, "page");
    s_org_user(&b, "page");
    s_org_user(&c, "page");
    s_resp r;
    const s_who *all[] = {&a, &b, &c};
    char apps[3][CCIP_UUID_STRLEN + 1];
    for (size_t i = 0; i < 3; i++) {
        s_file(all[i], NULL, apps[i], &r);
        s_expect(&r, 200, "filing for the pages");
        s_resp_free(&r);
    }
    s_get("/api/v1/intake/applications?limit=2", &s_staff, &r);
    s_expect(&r, 200, "a first page");
    json_t *p1 = json_object_get(r.json, "applications");
    assert_int_equal(json_array_size(p1), 2);
    char first[CCIP_UUID_STRLEN + 1], second[CCIP_UUID_STRLEN + 1], path[200];
    snprintf(first, sizeof first, "%s", s_str(json_array_get(p1, 0), "id"));
    snprintf(second, sizeof second, "%s", s_str(json_array_get(p1, 1), "id"));
    /* a full page names where the next one starts */
    assert_string_equal(s_str(r.json, "nextAfterId"), second);
    s_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/intake/applications?limit=2&after_id=%s", second);
    s_get(path, &s_staff, &r);
    s_expect(&r, 200, "the next page");
    json_t *p2 = json_object_get(r.json, "applications");
    assert_true(json_array_size(p2) >= 1);
    for (size_t i = 0; i < json_array_size(p2); i++) {
        const char *id = s_str(json_array_get(p2, i), "id");
        assert_string_not_equal(id, first);
        assert_string_not_equal(id, second);
    }
    s_resp_free(&r);
    /* an applicant's cursor on another organisation's application (c's, newer than b's)
       gives an empty page, so it tells nothing about that application */
    snprintf(path, sizeof path, "/api/v1/intake/applications?after_id=%s", apps[2]);
    s_get(path, &b, &r);
    s_expect(&r, 200, "an applicant's cursor on another's application");
    assert_int_equal(json_array_size(json_object_get(r.json, "applications")), 0);
    s_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/intake/applications?limit=1");
    s_get(path, &b, &r);
    s_expect(&r, 200, "an applicant's first page of one");
    assert_string_equal(s_str(r.json, "nextAfterId"), apps[1]);
    s_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/intake/applications?after_id=%s", apps[1]);
    s_get(path, &b, &r);
    s_expect(&r, 200, "an applicant after its own last application");
    assert_int_equal(json_array_size(json_object_get(r.json, "applications")), 0);
    assert_string_equal(s_str(r.json, "nextAfterId"), "");
    s_resp_free(&r);
    s_get("/api/v1/intake/applications?limit=501", &s_staff, &r);
    s_expect(&r, 400, "a page too long");
    s_detail_has(&r, "field `limit` must be between 0 (= 500) and 500, got 501");
    s_resp_free(&r);
    s_get("/api/v1/intake/applications?after_id=page-2", &s_staff, &r);
    s_expect(&r, 400, "a cursor that is no id");
    s_detail_has(&r, "after_id");
    s_resp_free(&r);
}

/* followup's and notify's commands are routes too, answered by the
 * services, with the roles of their own tables. */
static void test_followup_and_notify_routes(void **state)
{
    (void)state;
    s_who a;
    s_org_user(&a, "fn");
    s_resp r;
    s_get("/api/v1/followup/tasks?open_only=true", &s_staff, &r);
    s_expect(&r, 200, "staff list followup's tasks");
    assert_true(json_is_object(r.json));
    s_resp_free(&r);
    s_get("/api/v1/followup/projects/board", &s_staff, &r);
    s_expect(&r, 200, "staff read the project board (a literal path before {project_id})");
    s_resp_free(&r);
    s_get("/api/v1/followup/tasks", &a, &r);
    s_expect(&r, 403, "an applicant lists followup's tasks");
    s_detail_has(&r, "followup.task.list.v1");
    s_resp_free(&r);
    s_post("/api/v1/followup/tasks", &s_staff, &r,
           "{\"title\":\"x\",\"leadUnit\":\"center\",\"deadline\":\"2027-01-01\"}");
    s_expect(&r, 403, "staff create an office's task");
    s_detail_has(&r, "roles allowed: office, admin");
    s_resp_free(&r);
    s_get("/api/v1/notify/inbox/count", &a, &r);
    s_expect(&r, 200, "an applicant counts its inbox");
    s_resp_free(&r);
    s_get("/api/v1/notify/inbox", &s_staff, &r);
    s_expect(&r, 200, "staff read their inbox");
    assert_true(json_is_object(r.json));
    s_resp_free(&r);
    s_get("/api/v1/notify/inbox/checksum", &a, &r);
    s_expect(&r, 403, "an applicant reads notify's checksum");
    s_resp_free(&r);
}

/* GET of path on localhost:port (a metrics port), body into r. */
static long s_get_port(int port, const char *path, s_resp *r)
{
    int saved = s_port;
    s_port = port;
    long st = s_get(path, NULL, r);
    s_port = saved;
    return st;
}

/* Operations (issue 14.7): every service serves /healthz, /readyz and
 * /metrics on metrics.listen; the gateway adds its requests by route
 * template (never the path as sent) and status, and their latency. */
static void test_metrics_and_health(void **state)
{
    (void)state;
    s_who w;
    s_org_user(&w, "metrics");
    char app[CCIP_UUID_STRLEN + 1], path[200];
    s_resp r;
    s_file(&w, NULL, app, &r);
    s_expect(&r, 200, "a filing to count");
    s_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/intake/applications/%s", app);
    s_get(path, &w, &r);
    s_expect(&r, 200, "a read to count");
    s_resp_free(&r);
    s_get_port(s_intake_metrics, "/healthz", &r);
    s_expect(&r, 200, "intake is alive");
    s_resp_free(&r);
    s_get_port(s_intake_metrics, "/readyz", &r);
    s_expect(&r, 200, "intake is ready");
    s_resp_free(&r);
    s_get_port(s_intake_metrics, "/metrics", &r);
    s_expect(&r, 200, "intake's metrics");
    const char *want[] = {
        "ccip_commands_total{type=\"intake.application.file.v1\",status=\"OK\"} ",
        "ccip_commands_total{type=\"intake.application.get.v1\",status=\"OK\"} ",
        "ccip_command_duration_seconds_bucket{type=\"intake.application.file.v1\",le=\"0.0005\"} ",
        "ccip_command_duration_seconds_count{type=\"intake.application.get.v1\"} ",
        "# TYPE ccip_batch_size histogram\n",
        "ccip_batch_size_count ",
        "ccip_db_connections{state=\"busy\"} ",
        "ccip_db_connections{state=\"idle\"} ",
        "ccip_relay_unpublished_events ",
        "ccip_relay_lag_seconds ",
        "ccip_relay_published_total ",
        "ccip_consumer_lag_events{producer=\"evaluation\"} ",
        "ccip_consumer_lag_events{producer=\"funding\"} ",
        "ccip_consumer_applied_total{producer=\"evaluation\"} ",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(r.body, want[i])) {
            fprintf(stderr, "intake's /metrics lacks \"%s\":\n%s\n", want[i], r.body);
            fail();
        }
    s_resp_free(&r);
    s_get_port(s_gateway_metrics, "/readyz", &r);
    s_expect(&r, 200, "the gateway's skeleton is ready");
    s_resp_free(&r);
    s_get_port(s_gateway_metrics, "/metrics", &r);
    s_expect(&r, 200, "the gateway's metrics");
    const char *gw[] = {
        "ccip_http_requests_total{route=\"/api/v1/intake/applications/file\",method=\"POST\","
        "status=\"200\"} ",
        "ccip_http_requests_total{route=\"/api/v1/intake/applications/{application_id}\","
        "method=\"GET\",status=\"200\"} ",
        "ccip_http_requests_total{route=\"/api/v1/session\",method=\"POST\",status=\"200\"} ",
        "ccip_http_request_duration_seconds_bucket{route=\"/readyz\",le=\"+Inf\"} ",
        "ccip_commands_total{type=\"gateway.invitation.create.v1\",status=\"OK\"} ",
    };
    for (size_t i = 0; i < sizeof gw / sizeof gw[0]; i++)
        if (!strstr(r.body, gw[i])) {
            fprintf(stderr, "the gateway's /metrics lacks \"%s\":\n%s\n", gw[i], r.body);
            fail();
        }
    assert_null(strstr(r.body, app)); /* a route is its template, never an id */
    s_resp_free(&r);
    /* the public port does not serve metrics */
    s_get("/metrics", NULL, &r);
    s_expect(&r, 404, "metrics on the public port");
    s_resp_free(&r);
}

/* Rule: malformed JSON, wrong types, unknown fields, invalid UTF-8, bodies
 * over the limit, slow and truncated uploads: a clear 4xx naming the field,
 * nothing written, and the gateway keeps serving. */
static void test_bad_bodies(void **state)
{
    (void)state;
    s_who w;
    s_org_user(&w, "bad");
    long long apps = s_number("intake", "SELECT count(*) FROM intake.application");
    long long docs = s_number("intake", "SELECT count(*) FROM intake.document");
    s_resp r;
    const char *draft = "/api/v1/intake/applications";
    s_http("POST", draft, NULL, "{\"callId\": ", 11, &w, 1, NULL, &r);
    s_expect(&r, 400, "malformed JSON");
    s_detail_has(&r, "not valid JSON");
    s_resp_free(&r);
    s_post(draft, &w, &r, "{\"callId\":\"%s\",\"content\":{\"title\":42}}", s_call);
    s_expect(&r, 400, "a number for a string");
    s_detail_has(&r, "title");
    s_resp_free(&r);
    s_post(draft, &w, &r, "{\"callId\":\"%s\",\"content\":{\"titel\":\"x\"}}", s_call);
    s_expect(&r, 400, "an unknown field");
    s_detail_has(&r, "titel");
    s_resp_free(&r);
    s_post(draft, &w, &r, "[1,2]");
    s_expect(&r, 400, "not an object");
    s_resp_free(&r);
    char utf[200];
    int n = snprintf(utf, sizeof utf,
                     "{\"callId\":\"%s\",\"content\":{\"title\":\"bad \xff\xfe\"}}", s_call);
    s_http("POST", draft, NULL, utf, (size_t)n, &w, 1, NULL, &r);
    s_expect(&r, 400, "invalid UTF-8");
    s_detail_has(&r, "`title`");
    s_detail_has(&r, "UTF-8");
    s_resp_free(&r);
    s_http("POST", draft, "text/plain", "{}", 2, &w, 1, NULL, &r);
    s_expect(&r, 415, "a body that says it is not JSON");
    s_resp_free(&r);
    /* over the limit: known from Content-Length, refused before reading */
    size_t big = MAX_BODY + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    s_http("POST", draft, NULL, huge, big, &w, 1, NULL, &r);
    s_expect(&r, 413, "a body over the limit");
    s_resp_free(&r);
    free(huge);
    s_alive();
    /* chunked: its size would be known only as it arrives, so it is refused
     * at once (411) */
    int fd = s_connect();
    char head[1024], buf[4096];
    int hn = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: x\r\nCookie: ccip_session=%s\r\nX-CSRF-Token: "
                      "%s\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                      draft, w.token, w.csrf);
    assert_true(send(fd, head, (size_t)hn, MSG_NOSIGNAL) == hn);
    char chunk[16384];
    memset(chunk, ' ', sizeof chunk);
    int sent_ok = 1;
    /* until the gateway answers (it stops reading then: a client that kept
     * sending would have its unread answer reset away) */
    for (int i = 0; i < 40 && sent_ok; i++) {
        char sz[32];
        int zn = snprintf(sz, sizeof sz, "%zx\r\n", sizeof chunk);
        sent_ok = send(fd, sz, (size_t)zn, MSG_NOSIGNAL) == zn &&
                  send(fd, chunk, sizeof chunk, MSG_NOSIGNAL) == (ssize_t)sizeof chunk &&
                  send(fd, "\r\n", 2, MSG_NOSIGNAL) == 2;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 20) > 0)
            break;
    }
    s_read_all(fd, buf, sizeof buf, 3000);
    close(fd);
    assert_non_null(strstr(buf, " 411 "));
    assert_non_null(strstr(buf, "Content-Length"));
    s_alive();
    /* truncated: a Content-Length never reached, then the client goes */
    fd = s_connect();
    const char *part = "{\"callId\":\"";
    hn = snprintf(head, sizeof head,
                  "POST %s HTTP/1.1\r\nHost: x\r\nCookie: ccip_session=%s\r\nX-CSRF-Token: "
                  "%s\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n%s",
                  draft, w.token, w.csrf, part);
    assert_true(send(fd, head, (size_t)hn, MSG_NOSIGNAL) == hn);
    ccip_test_sleep_ms(200);
    close(fd);
    s_alive();
    /* slow: a trickle that takes longer than gateway.request_timeout_s */
    fd = s_connect();
    char body[600];
    int bn =
        snprintf(body, sizeof body,
                 "{\"callId\":\"%s\",\"applicantUscc\":\"%s\",\"content\":{\"title\":\"slow\"}}",
                 s_call, w.uscc);
    hn = snprintf(head, sizeof head,
                  "POST %s HTTP/1.1\r\nHost: x\r\nCookie: ccip_session=%s\r\nX-CSRF-Token: "
                  "%s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
                  draft, w.token, w.csrf, bn);
    assert_true(send(fd, head, (size_t)hn, MSG_NOSIGNAL) == hn);
    int64_t t0 = s_mono_us();
    int i = 0;
    while (i < bn - 1 && s_mono_us() - t0 < (REQUEST_S + 2) * 1000000LL) {
        if (send(fd, body + i, 1, MSG_NOSIGNAL) != 1)
            break;
        i++;
        ccip_test_sleep_ms(400);
    }
    /* the last byte arrives only after the limit: too late */
    send(fd, body + bn - 1, 1, MSG_NOSIGNAL);
    s_read_all(fd, buf, sizeof buf, 3000);
    close(fd);
    assert_true(strstr(buf, " 408 ") || buf[0] == '\0');
    s_alive();
    /* a document over the limit */
    char app[CCIP_UUID_STRLEN + 1];
    s_post(draft, &w, &r,
           "{\"callId\":\"%s\",\"applicantUscc\":\"%s\",\"content\":{\"title\":\"with docs\"}}",
           s_call, w.uscc);
    s_expect(&r, 200, "a draft");
    snprintf(app, sizeof app, "%s", s_str(r.json, "application.id"));
    s_resp_free(&r);
    apps++;
    char path[300];
    snprintf(path, sizeof path,
             "/api/v1/intake/applications/%s/documents?doc_type=" REQUIRED_DOC "&name=big.pdf",
             app);
    char *doc = calloc(1, MAX_DOC + 1);
    s_http("POST", path, "application/pdf", doc, MAX_DOC + 1, &w, 1, NULL, &r);
    s_expect(&r, 413, "a document over the limit");
    s_resp_free(&r);
    free(doc);
    assert_int_equal(s_number("intake", "SELECT count(*) FROM intake.application"), apps);
    assert_int_equal(s_number("intake", "SELECT count(*) FROM intake.document"), docs);
    s_alive();
}

/* Documents go up as their own media type and come down with it and a
 * Content-Disposition. */
static void test_documents_up_and_down(void **state)
{
    (void)state;
    s_who w;
    s_org_user(&w, "docs");
    s_resp r;
    s_post("/api/v1/intake/applications", &w, &r,
           "{\"callId\":\"%s\",\"applicantUscc\":\"%s\",\"content\":{\"title\":\"with docs\"}}",
           s_call, w.uscc);
    s_expect(&r, 200, "a draft");
    char app[CCIP_UUID_STRLEN + 1];
    snprintf(app, sizeof app, "%s", s_str(r.json, "application.id"));
    s_resp_free(&r);
    char path[400];
    snprintf(path, sizeof path,
             "/api/v1/intake/applications/%s/documents?doc_type=" REQUIRED_DOC
             "&name=%%E8%%90%%A5%%E4%%B8%%9A%%E6%%89%%A7%%E7%%85%%A7.pdf",
             app);
    uint8_t content[3000];
    for (size_t i = 0; i < sizeof content; i++)
        content[i] = (uint8_t)(i * 7 + 3);
    s_http("POST", path, "application/pdf", content, sizeof content, &w, 1, NULL, &r);
    s_expect(&r, 200, "an upload");
    char doc[CCIP_UUID_STRLEN + 1];
    snprintf(doc, sizeof doc, "%s", s_str(r.json, "document.id"));
    assert_string_equal(s_str(r.json, "document.mediaType"), "application/pdf");
    assert_string_equal(s_str(r.json, "document.size"), "3000");
    s_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/intake/applications/%s/documents/%s", app, doc);
    s_get(path, &w, &r);
    s_expect(&r, 200, "a download");
    assert_int_equal(r.len, sizeof content);
    assert_memory_equal(r.body, content, sizeof content);
    assert_non_null(strstr(r.headers, "Content-Type: application/pdf"));
    assert_non_null(strstr(r.headers, "Content-Disposition: attachment; filename="));
    assert_non_null(strstr(r.headers, "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf"));
    s_resp_free(&r);
}

/* An Idempotency-Key makes a retried POST get the stored reply and no
 * second effect; two accounts using the same key never collide. */
static void test_idempotency_key(void **state)
{
    (void)state;
    s_who a, b;
    s_org_user(&a, "idem");
    s_org_user(&b, "idem2");
    s_resp r;
    char first[CCIP_UUID_STRLEN + 1], again[CCIP_UUID_STRLEN + 1], other[CCIP_UUID_STRLEN + 1];
    s_file(&a, "retry-1", first, &r);
    s_expect(&r, 200, "filing with a key");
    s_resp_free(&r);
    s_file(&a, "retry-1", again, &r);
    s_expect(&r, 200, "the same request again");
    s_resp_free(&r);
    assert_string_equal(first, again);
    assert_int_equal(s_number("intake",
                              "SELECT count(*) FROM intake.application WHERE applicant_uscc = '%s'",
                              a.uscc),
                     1);
    s_file(&b, "retry-1", other, &r);
    s_expect(&r, 200, "another account with the same key");
    s_resp_free(&r);
    assert_string_not_equal(first, other);
    /* without a key, a retry is a new command: intake refuses the second
     * live application of the same call */
    s_file(&a, NULL, NULL, &r);
    s_expect(&r, 409, "a second live application");
    assert_string_equal(s_str(r.json, "ccip_status"), "ALREADY_EXISTS");
    s_resp_free(&r);
}

/* Statuses map to HTTP; a service that does not answer is 503 with
 * Retry-After. */
static void test_status_mapping(void **state)
{
    (void)state;
    s_who w;
    s_org_user(&w, "status");
    s_resp r;
    char path[200];
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    snprintf(path, sizeof path, "/api/v1/intake/applications/%s", id);
    s_get(path, &w, &r);
    s_expect(&r, 404, "an unknown application");
    assert_non_null(strstr(r.headers, "Content-Type: application/problem+json"));
    assert_string_equal(s_str(r.json, "ccip_status"), "NOT_FOUND");
    assert_string_equal(s_str(r.json, "title"), "Not Found");
    assert_true(strlen(s_str(r.json, "detail")) > 10);
    s_resp_free(&r);
    s_get("/api/v1/intake/applications/not-a-uuid", &w, &r);
    s_expect(&r, 400, "a malformed id");
    s_detail_has(&r, "application_id");
    s_resp_free(&r);
    s_get("/api/v1/intake/applications", NULL, &r);
    s_expect(&r, 401, "no session");
    s_resp_free(&r);
    s_get("/api/v1/intake/calls", NULL, &r);
    s_expect(&r, 200, "a public route without a session");
    s_resp_free(&r);
    /* stop evaluation: its routes answer 503 with Retry-After */
    pid_t ev = 0;
    for (int i = 0; i < CCIP_TEST_MAX_PROCS; i++)
        if (strcmp(s_env.children[i].name, "evaluation-gw") == 0)
            ev = s_env.children[i].pid;
    assert_true(ev > 0);
    assert_int_equal(ccip_test_stop(&s_env, ev, SIGTERM, 10000), 0);
    s_get("/api/v1/evaluation/experts", &s_staff, &r);
    s_expect(&r, 503, "evaluation stopped");
    assert_non_null(strstr(r.headers, "Retry-After: "));
    s_resp_free(&r);
    assert_true(ccip_test_start_service(&s_env, "services/evaluation/evaluation", "evaluation",
                                        "evaluation-gw") > 0);
    for (int i = 0; i < 100; i++) {
        s_get("/api/v1/evaluation/experts", &s_staff, &r);
        long st = r.status;
        s_resp_free(&r);
        if (st == 200)
            return;
        ccip_test_sleep_ms(200);
    }
    fail_msg("evaluation did not come back");
}

/* A password reset by a one-time token, issued by staff. */
static void test_password_reset(void **state)
{
    (void)state;
    s_who w;
    s_sign_up(&w, "forgot", NULL);
    s_resp r;
    char path[300];
    snprintf(path, sizeof path, "/api/v1/gateway/accounts/%s/password-reset", w.account_id);
    s_post(path, &s_staff, &r, "{}");
    s_expect(&r, 200, "staff issue a reset");
    char token[64];
    snprintf(token, sizeof token, "%s", s_str(r.json, "token"));
    s_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/password-resets/%s", token);
    s_post(path, NULL, &r, "{\"token\":\"%s\",\"newPassword\":\"the reset password\"}", token);
    s_expect(&r, 200, "the reset");
    s_resp_free(&r);
    s_get("/api/v1/session", &w, &r);
    s_expect(&r, 401, "sessions end with a reset");
    s_resp_free(&r);
    assert_int_equal(s_sign_in(&w, PASSWORD), 401);
    assert_int_equal(s_sign_in(&w, "the reset password"), 200);
    s_post(path, NULL, &r, "{\"token\":\"%s\",\"newPassword\":\"another new one\"}", token);
    s_expect(&r, 404, "a reset token used twice");
    s_resp_free(&r);
    /* staff may not reset a privileged account */
    snprintf(path, sizeof path, "/api/v1/gateway/accounts/%s/password-reset", s_admin.account_id);
    s_post(path, &s_staff, &r, "{}");
    s_expect(&r, 403, "staff resetting an admin");
    s_resp_free(&r);
}

/* Runs ccipctl of the build as the operator's front door; its output into
 * out. Returns its exit status. */
static int s_ctl(char *out, size_t len, const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "CCIP_BUS_COMMANDS='%s' CCIP_CURVE_KEY_FILE='%s/allowed/ccipctl.key' "
             "CCIP_CURVE_SERVER_KEY_FILE='%s/keys/bus.pub' '%s/cli/ccipctl' %s 2>&1",
             s_env.commands, s_env.dir, s_env.dir, getenv("CCIP_BINARY_DIR"), args);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, len - 1, p) : 0;
    out[n] = '\0';
    int st = p ? pclose(p) : -1;
    return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ccipctl gateway: an admin invites, the invitee accepts over HTTP, the
 * account is read back; staff may not invite an admin. */
static void test_ccipctl_gateway(void **state)
{
    (void)state;
    char out[8192];
    int rc = s_ctl(out, sizeof out,
                   "--json --role admin --actor person:root gateway invite --email "
                   "analyst@example.cn --kind analyst --hours 2");
    if (rc != 0)
        fail_msg("ccipctl gateway invite: %d: %s", rc, out);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    char token[64];
    snprintf(token, sizeof token, "%s", s_str(j, "token"));
    assert_string_equal(s_str(j, "kind"), "ANALYST");
    json_decref(j);
    s_who w;
    s_accept_new(&w, "analyst", token, 0);
    char args[300];
    snprintf(args, sizeof args, "--role staff --actor person:ops gateway account get --login %s",
             w.login);
    rc = s_ctl(out, sizeof out, args);
    if (rc != 0)
        fail_msg("ccipctl gateway account get: %d: %s", rc, out);
    assert_non_null(strstr(out, "ANALYST"));
    assert_non_null(strstr(out, w.login));
    rc = s_ctl(out, sizeof out,
               "--role staff --actor person:ops gateway invite --email x@example.cn --kind admin");
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "only an admin"));
    rc = s_ctl(out, sizeof out, "gateway binding revoke");
    assert_int_equal(rc, 2);
}

/* SIGTERM: the gateway finishes, stops its HTTP threads with the service
 * (the stop hook) and exits 0 (under AddressSanitizer: nothing leaked). */
static void test_clean_shutdown(void **state)
{
    (void)state;
    pid_t gw = 0;
    for (int i = 0; i < CCIP_TEST_MAX_PROCS; i++)
        if (strcmp(s_env.children[i].name, "gateway-1") == 0)
            gw = s_env.children[i].pid;
    assert_true(gw > 0);
    int rc = ccip_test_stop(&s_env, gw, SIGTERM, 15000);
    if (rc != 0) {
        char what[100];
        snprintf(what, sizeof what, "the gateway exited with %d after SIGTERM", rc);
        s_fail_with_logs(what);
    }
    s_resp r;
    s_get("/healthz", NULL, &r);
    assert_int_equal(r.status, -1); /* nobody listens any more */
    s_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_and_openapi),
        cmocka_unit_test(test_session_cookie_and_storage),
        cmocka_unit_test(test_no_one_declares_their_role),
        cmocka_unit_test(test_unknown_and_wrong_look_alike),
        cmocka_unit_test(test_sixth_failure_is_delayed),
        cmocka_unit_test(test_totp_where_the_role_needs_it),
        cmocka_unit_test(test_csrf_token_required),
        cmocka_unit_test(test_ended_sessions_write_nothing),
        cmocka_unit_test(test_organisations_are_apart),
        cmocka_unit_test(test_pending_binding_until_verified),
        cmocka_unit_test(test_invitations),
        cmocka_unit_test(test_contact_changed),
        cmocka_unit_test(test_bindings_checked_and_switched),
        cmocka_unit_test(test_experts_read_what_they_judge),
        cmocka_unit_test(test_metrics_and_health),
        cmocka_unit_test(test_lists_are_paged),
        cmocka_unit_test(test_followup_and_notify_routes),
        cmocka_unit_test(test_bad_bodies),
        cmocka_unit_test(test_documents_up_and_down),
        cmocka_unit_test(test_idempotency_key),
        cmocka_unit_test(test_password_reset),
        cmocka_unit_test(test_status_mapping),
        cmocka_unit_test(test_ccipctl_gateway),
        cmocka_unit_test(test_clean_shutdown),
    };
    /* CCIP_TEST_FILTER=test_csrf* runs only the matching tests (the set-up
     * always runs). */
    if (getenv("CCIP_TEST_FILTER"))
        cmocka_set_test_filter(getenv("CCIP_TEST_FILTER"));
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
