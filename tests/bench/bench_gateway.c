/*
 * bench_gateway: the same commands through the gateway's HTTP API and
 * directly on the bus, in the same run.
 *
 * Starts a private bus, intake and gateway against the PostgreSQL that
 * scripts/bench started. Intake has CLIENTS command slots (so no client
 * waits at the bus for a slot) and the gateway CLIENTS HTTP threads (each
 * one request in hand, one bus client): the gateway adds its own work,
 * never a queue of its own.
 *
 * Set-up, outside the timed windows: CLIENTS organisations, each an
 * account that signs up over HTTP asking to be its user, registers it over
 * HTTP, is verified by staff through the bus and confirmed by the gateway
 * (consuming intake.organisation.verified.v1); then signs in (a session
 * cookie, a CSRF token). One call is opened and copied in SQL into as many
 * calls as the run can use (one live application per organisation and
 * call); each organisation files one application to read.
 *
 * The work, per client, in a loop for SECONDS: READS_PER_FILING reads of
 * its application (intake.application.get.v1), then one complete filing
 * (intake.application.file.v1: content, facts and the required document,
 * drafted and submitted in one durable transaction).
 *   http:   CLIENTS threads, each one keep-alive HTTP connection (libcurl,
 *           reused handle) with the session cookie (and the CSRF token on
 *           the POST): GET /api/v1/intake/applications/{id} and POST
 *           /api/v1/intake/applications/file with the application's JSON;
 *           every reply parsed as JSON.
 *   direct: CLIENTS threads, each its own front-door ccip_client, the same
 *           two commands with the protobuf messages, as role applicant and
 *           actor org:<USCC> (what the gateway would put on the envelope).
 * http_per_s and direct_per_s are requests answered per second in each
 * window, ratio = http / direct, p99_ms the 99th percentile latency of the
 * HTTP requests, errors = requests of either window not answered 200 / OK.
 *
 * Usage: bench_gateway [SECONDS]
 * Last line: bench gateway: http_per_s=... direct_per_s=... ratio=R p99_ms=... errors=E
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/intake.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_keys.h"
#include "ccip_test.h"
#include "ccip_test_db.h"
#include "ccip_test_intake.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"
#include "ccip_validate.h"

#define CLIENTS          32
#define CLIENTS_TEXT     "32"
#define READS_PER_FILING 3
#define DOC_BYTES        1024
#define PASSWORD         "bench password 2027"
#define MAX_SAMPLES      200000 /* latencies kept per client */
#define SUMMARY                                                                                    \
    "Restoring and digitising opera costumes in a former printing works; open studio for "         \
    "schools and a shared scanning room for the small studios of the district."

static ccip_test_env s_env;
static void *s_ctx;
static int s_port;
static int64_t s_until_us;
static long s_ncalls;
static char (*s_calls)[CCIP_UUID_STRLEN + 1];
static atomic_long s_next_call;
static atomic_long s_errors;

typedef struct {
    int i;
    char uscc[CCIP_USCC_LEN + 1];
    char actor[32];
    char login[64];
    char token[64];
    char csrf[64];
    char app[CCIP_UUID_STRLEN + 1]; /* the application it reads */
    long done;
    int64_t *lat_us; /* HTTP latencies */
    long nlat;
} s_client;

static s_client s_clients[CLIENTS];

static int64_t s_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void s_err(const char *what, long status, const char *detail)
{
    if (atomic_fetch_add(&s_errors, 1) < 5)
        fprintf(stderr, "bench gateway: %s failed: %ld %.300s\n", what, status,
                detail ? detail : "");
}

/* ---- HTTP --------------------------------------------------------------------------- */

typedef struct {
    char *p;
    size_t n;
    char cookie[128];
} s_buf;

static size_t s_write(char *p, size_t size, size_t n, void *arg)
{
    s_buf *b = arg;
    size_t k = size * n;
    char *g = realloc(b->p, b->n + k + 1);
    if (!g)
        return 0;
    b->p = g;
    memcpy(b->p + b->n, p, k);
    b->n += k;
    b->p[b->n] = '\0';
    return k;
}

static size_t s_header(char *p, size_t size, size_t n, void *arg)
{
    s_buf *b = arg;
    size_t k = size * n;
    if (k > 25 && strncasecmp(p, "Set-Cookie: ccip_session=", 25) == 0)
        snprintf(b->cookie, sizeof b->cookie, "%.43s", p + 25);
    return k;
}

/* One request on handle c (reused: keep-alive). Returns the status and the
 * parsed JSON (the caller json_decref()s it). */
static long s_http(CURL *c, const char *method, const char *path, const char *body,
                   const s_client *who, int csrf, json_t **json, char cookie[64])
{
    s_buf b = {0};
    char url[512], hdr[128], ck[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s_port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        h = curl_slist_append(h, "Content-Type: application/json");
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    }
    if (who && who->token[0]) {
        snprintf(ck, sizeof ck, "ccip_session=%s", who->token);
        curl_easy_setopt(c, CURLOPT_COOKIE, ck);
        if (csrf) {
            snprintf(hdr, sizeof hdr, "X-CSRF-Token: %s", who->csrf);
            h = curl_slist_append(h, hdr);
        }
    } else {
        curl_easy_setopt(c, CURLOPT_COOKIE, NULL);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    long status = -1;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    if (json)
        *json = b.p ? json_loadb(b.p, b.n, 0, NULL) : NULL;
    if (cookie)
        snprintf(cookie, 64, "%.43s", b.cookie);
    if (status != 200 && status != -1 && !json)
        s_err(path, status, b.p);
    free(b.p);
    return status;
}

static const char *s_str(json_t *j, const char *a, const char *b)
{
    json_t *v = json_object_get(j, a);
    if (b)
        v = json_object_get(v, b);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* ---- the bus -------------------------------------------------------------------------- */

static Ccip__Envelope *s_bus(ccip_client *c, const char *service, const char *type,
                             const char *role, const char *actor, const ProtobufCMessage *msg)
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
    Ccip__Envelope *reply = ccip_client_call(c, service, &env, 10000, 3, err, sizeof err);
    free(buf);
    if (!reply)
        s_err(type, -1, err);
    return reply;
}

static ccip_client *s_front(void)
{
    char err[300];
    ccip_sock_opts so = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    ccip_client *c = ccip_client_new(s_ctx, s_env.commands, &so, err, sizeof err);
    if (!c)
        fprintf(stderr, "bench gateway: %s\n", err);
    return c;
}

/* ---- the two workloads ------------------------------------------------------------------ */

static void s_body(char *out, size_t len, const char *call, const s_client *cl, long k)
{
    char doc[DOC_BYTES], b64[DOC_BYTES * 2];
    memset(doc, ' ', sizeof doc);
    int n = snprintf(doc, sizeof doc, "%%PDF-1.4 licence of %s call %s #%ld", cl->uscc, call, k);
    doc[n] = ' ';
    /* base64 of the document for the JSON body */
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < sizeof doc; i += 3) {
        unsigned v = (unsigned)(unsigned char)doc[i] << 16;
        if (i + 1 < sizeof doc)
            v |= (unsigned)(unsigned char)doc[i + 1] << 8;
        if (i + 2 < sizeof doc)
            v |= (unsigned char)doc[i + 2];
        b64[o++] = t[(v >> 18) & 63];
        b64[o++] = t[(v >> 12) & 63];
        b64[o++] = i + 1 < sizeof doc ? t[(v >> 6) & 63] : '=';
        b64[o++] = i + 2 < sizeof doc ? t[v & 63] : '=';
    }
    b64[o] = '\0';
    snprintf(out, len,
             "{\"callId\":\"%s\",\"content\":{\"title\":\"Digital heritage workshop\","
             "\"summary\":\"" SUMMARY "\",\"district\":\"110105\",\"cluster\":{\"clusterName\":"
             "\"Langyuan Station creative park\",\"location\":\"Langjiayuan 6\",\"areaM2\":"
             "\"60000\",\"enterpriseCount\":120,\"employeeCount\":3500,\"leadOperator\":"
             "\"Langyuan Cultural Investment "
             "Co.\"}},\"documents\":[{\"docType\":\"" CCIP_TEST_REQUIRED_DOC
             "\",\"name\":\"licence.pdf\",\"mediaType\":\"application/pdf\",\"content\":\"%s\"}]}",
             call, b64);
}

static void *s_http_client(void *arg)
{
    s_client *cl = arg;
    CURL *c = curl_easy_init();
    char path[200], *body = malloc(8192);
    snprintf(path, sizeof path, "/api/v1/intake/applications/%s", cl->app);
    long k = 0;
    while (s_mono_us() < s_until_us) {
        int filing = (k % (READS_PER_FILING + 1)) == READS_PER_FILING;
        long call = filing ? atomic_fetch_add(&s_next_call, 1) : 0;
        if (filing && call >= s_ncalls)
            break;
        if (filing)
            s_body(body, 8192, s_calls[call], cl, k);
        json_t *j = NULL;
        int64_t t0 = s_mono_us();
        long st = filing
                      ? s_http(c, "POST", "/api/v1/intake/applications/file", body, cl, 1, &j, NULL)
                      : s_http(c, "GET", path, NULL, cl, 0, &j, NULL);
        int64_t dt = s_mono_us() - t0;
        const char *id = s_str(j, "application", "id");
        if (st != 200 || !id[0])
            s_err(filing ? "http filing" : "http read", st, "");
        json_decref(j);
        if (cl->nlat < MAX_SAMPLES)
            cl->lat_us[cl->nlat++] = dt;
        cl->done++;
        k++;
    }
    free(body);
    curl_easy_cleanup(c);
    return NULL;
}

static void *s_direct_client(void *arg)
{
    s_client *cl = arg;
    ccip_client *c = s_front();
    if (!c)
        return NULL;
    uint8_t doc[DOC_BYTES];
    long k = 0;
    while (s_mono_us() < s_until_us) {
        int filing = (k % (READS_PER_FILING + 1)) == READS_PER_FILING;
        long call = filing ? atomic_fetch_add(&s_next_call, 1) : 0;
        if (filing && call >= s_ncalls)
            break;
        Ccip__Envelope *r;
        const ProtobufCMessageDescriptor *rd = &ccip__intake__application_reply__descriptor;
        if (filing) {
            memset(doc, ' ', sizeof doc);
            int n = snprintf((char *)doc, sizeof doc, "%%PDF-1.4 licence of %s call %s #%ld",
                             cl->uscc, s_calls[call], k);
            doc[n] = ' ';
            Ccip__Intake__ClusterFacts facts = CCIP__INTAKE__CLUSTER_FACTS__INIT;
            facts.cluster_name = "Langyuan Station creative park";
            facts.location = "Langjiayuan 6";
            facts.area_m2 = 60000;
            facts.enterprise_count = 120;
            facts.employee_count = 3500;
            facts.lead_operator = "Langyuan Cultural Investment Co.";
            Ccip__Intake__ApplicationContent content = CCIP__INTAKE__APPLICATION_CONTENT__INIT;
            content.title = "Digital heritage workshop";
            content.summary = SUMMARY;
            content.district = "110105";
            content.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
            content.cluster = &facts;
            Ccip__Intake__DocumentUpload u = CCIP__INTAKE__DOCUMENT_UPLOAD__INIT;
            u.doc_type = CCIP_TEST_REQUIRED_DOC;
            u.name = "licence.pdf";
            u.media_type = "application/pdf";
            u.content.data = doc;
            u.content.len = sizeof doc;
            Ccip__Intake__DocumentUpload *docs[] = {&u};
            Ccip__Intake__FileApplicationRequest rq = CCIP__INTAKE__FILE_APPLICATION_REQUEST__INIT;
            rq.call_id = s_calls[call];
            rq.content = &content;
            rq.documents = docs;
            rq.n_documents = 1;
            r = s_bus(c, "intake", "intake.application.file.v1", "applicant", cl->actor, &rq.base);
        } else {
            Ccip__Intake__GetApplicationRequest rq = CCIP__INTAKE__GET_APPLICATION_REQUEST__INIT;
            rq.application_id = cl->app;
            r = s_bus(c, "intake", "intake.application.get.v1", "applicant", cl->actor, &rq.base);
        }
        /* decoded, as the gateway decodes it (to map it to JSON) */
        char err[200];
        ProtobufCMessage *m = r && r->status == CCIP__STATUS__OK
                                  ? ccip_payload_unpack(rd, r->payload.data, r->payload.len,
                                                        r->payload.len + 1, err, sizeof err)
                                  : NULL;
        if (!m)
            s_err(filing ? "direct filing" : "direct read", r ? (long)r->status : -1,
                  r ? r->error : "");
        else
            protobuf_c_message_free_unpacked(m, NULL);
        ccip_envelope_free(&r);
        cl->done++;
        k++;
    }
    ccip_client_destroy(&c);
    return NULL;
}

/* Runs one window; returns requests answered per second. */
static double s_window(void *(*fn)(void *), int seconds)
{
    pthread_t t[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        s_clients[i].done = 0;
    int64_t start = s_mono_us();
    s_until_us = start + (int64_t)seconds * 1000000;
    for (int i = 0; i < CLIENTS; i++)
        pthread_create(&t[i], NULL, fn, &s_clients[i]);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(t[i], NULL);
    double secs = (double)(s_mono_us() - start) / 1e6;
    long done = 0;
    for (int i = 0; i < CLIENTS; i++)
        done += s_clients[i].done;
    return done / secs;
}

/* ---- set-up --------------------------------------------------------------------------------- */

/* One client's organisation and account, up to a first filed application. */
static int s_prepare(ccip_client *bus, s_client *cl)
{
    CURL *c = curl_easy_init();
    char body[1024];
    json_t *j = NULL;
    snprintf(body, sizeof body,
             "{\"login\":\"%s\",\"name\":\"Bench %d\",\"email\":\"%s@example.cn\","
             "\"password\":\"" PASSWORD "\",\"organisationUscc\":\"%s\"}",
             cl->login, cl->i, cl->login, cl->uscc);
    long st = s_http(c, "POST", "/api/v1/accounts", body, NULL, 0, &j, NULL);
    json_decref(j);
    snprintf(body, sizeof body, "{\"login\":\"%s\",\"password\":\"" PASSWORD "\"}", cl->login);
    if (st == 200)
        st = s_http(c, "POST", "/api/v1/session", body, NULL, 0, &j, cl->token);
    if (st == 200)
        snprintf(cl->csrf, sizeof cl->csrf, "%s", s_str(j, "csrfToken", NULL));
    json_decref(j);
    snprintf(body, sizeof body,
             "{\"uscc\":\"%s\",\"name\":\"Beijing Bench Creative Co %d\",\"type\":\"ENTERPRISE\","
             "\"district\":\"Chaoyang\",\"legalRepresentative\":\"Wang Fang\",\"contactName\":"
             "\"Li Ming\",\"contactPhone\":\"010-6512 3456\"}",
             cl->uscc, cl->i);
    if (st == 200)
        st = s_http(c, "POST", "/api/v1/intake/organisations", body, cl, 1, NULL, NULL);
    if (st != 200) {
        fprintf(stderr, "bench gateway: client %d could not be set up (%ld)\n", cl->i, st);
        curl_easy_cleanup(c);
        return -1;
    }
    Ccip__Intake__VerifyOrganisationRequest v = CCIP__INTAKE__VERIFY_ORGANISATION_REQUEST__INIT;
    v.uscc = cl->uscc;
    v.note = "bench";
    Ccip__Envelope *r =
        s_bus(bus, "intake", "intake.organisation.verify.v1", "staff", "person:bench", &v.base);
    int ok = r && r->status == CCIP__STATUS__OK;
    ccip_envelope_free(&r);
    curl_easy_cleanup(c);
    return ok ? 0 : -1;
}

static int s_first_filing(s_client *cl)
{
    CURL *c = curl_easy_init();
    char *body = malloc(8192);
    long call = atomic_fetch_add(&s_next_call, 1);
    s_body(body, 8192, s_calls[call], cl, -1);
    json_t *j = NULL;
    long st = s_http(c, "POST", "/api/v1/intake/applications/file", body, cl, 1, &j, NULL);
    snprintf(cl->app, sizeof cl->app, "%s", s_str(j, "application", "id"));
    json_decref(j);
    free(body);
    curl_easy_cleanup(c);
    return st == 200 && cl->app[0] ? 0 : -1;
}

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 10;
    if (seconds < 1)
        seconds = 10;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (ccip_test_env_init(&s_env) < 0)
        return 1;
    char listen[64];
    s_port = ccip_test_free_port();
    snprintf(listen, sizeof listen, "127.0.0.1:%d", s_port);
    /* each unless the caller's environment says otherwise */
    setenv("CCIP_GATEWAY_LISTEN", listen, 1);
    setenv("CCIP_GATEWAY_HTTP_THREADS", CLIENTS_TEXT, 0);
    setenv("CCIP_WORKERS", CLIENTS_TEXT, 0);
    setenv("CCIP_BATCH_WAIT_US", "500", 0);
    if (ccip_test_start_bus(&s_env) < 0 ||
        ccip_test_start_service(&s_env, "services/intake/intake", "intake", "intake-bench") < 0 ||
        ccip_test_start_service(&s_env, "services/gateway/gateway", "gateway", "gateway-bench") < 0)
        return 1;
    s_ctx = zmq_ctx_new();
    ccip_client *bus = s_front();
    /* wait until the gateway is ready */
    CURL *probe = curl_easy_init();
    long st = -1;
    for (int i = 0; i < 300 && st != 200; i++) {
        st = s_http(probe, "GET", "/readyz", NULL, NULL, 0, NULL, NULL);
        if (st != 200)
            ccip_test_sleep_ms(100);
    }
    curl_easy_cleanup(probe);
    atomic_store(&s_errors, 0);
    if (!bus || st != 200) {
        fprintf(stderr, "bench gateway: the gateway did not become ready\n");
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    /* enough calls for both windows at a generous rate */
    s_ncalls = (long)seconds * 2 * 4000 + 2 * CLIENTS;
    s_calls = calloc((size_t)s_ncalls, sizeof *s_calls);
    if (!s_calls || ccip_test_intake_calls(bus, "bench gateway", s_ncalls, s_calls) < 0) {
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    for (int i = 0; i < CLIENTS; i++) {
        s_client *cl = &s_clients[i];
        cl->i = i;
        ccip_test_uscc("110105", cl->uscc);
        memcpy(cl->actor, "org:", 4); /* (snprintf from a field of the same struct: -Wrestrict) */
        memcpy(cl->actor + 4, cl->uscc, sizeof cl->uscc);
        snprintf(cl->login, sizeof cl->login, "bench.%d.%d", (int)getpid(), i);
        cl->lat_us = calloc(MAX_SAMPLES, sizeof *cl->lat_us);
        if (s_prepare(bus, cl) < 0) {
            ccip_test_env_cleanup(&s_env, 1);
            return 1;
        }
    }
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM gateway.binding WHERE status = 'ACTIVE' AND kind = "
             "'ORGANISATION'");
    if (ccip_test_wait_count("gateway", sql, CLIENTS, 30000) < CLIENTS) {
        fprintf(stderr, "bench gateway: the gateway did not confirm the organisations' users\n");
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    for (int i = 0; i < CLIENTS; i++)
        if (s_first_filing(&s_clients[i]) < 0) {
            fprintf(stderr, "bench gateway: client %d could not file its first application\n", i);
            ccip_test_env_cleanup(&s_env, 1);
            return 1;
        }
    long errors_before = atomic_load(&s_errors);
    /* a short warm-up of both paths, then the windows */
    double direct = s_window(s_direct_client, 1);
    for (int i = 0; i < CLIENTS; i++)
        s_clients[i].nlat = 0;
    double http = s_window(s_http_client, 1);
    for (int i = 0; i < CLIENTS; i++)
        s_clients[i].nlat = 0;
    direct = s_window(s_direct_client, seconds);
    http = s_window(s_http_client, seconds);
    long errors = atomic_load(&s_errors) - errors_before;
    long n = 0;
    for (int i = 0; i < CLIENTS; i++)
        n += s_clients[i].nlat;
    int64_t *all = calloc((size_t)n + 1, sizeof *all);
    long k = 0;
    for (int i = 0; i < CLIENTS; i++)
        for (long j = 0; j < s_clients[i].nlat; j++)
            all[k++] = s_clients[i].lat_us[j];
    qsort(all, (size_t)n, sizeof *all, s_cmp);
    double p99 = n ? all[(size_t)((double)n * 0.99)] / 1000.0 : 0;
    double p50 = n ? all[n / 2] / 1000.0 : 0;
    printf("bench gateway: %d clients, %d reads per filing, %d s each; http p50 %.2f ms\n", CLIENTS,
           READS_PER_FILING, seconds, p50);
    printf("bench gateway: http_per_s=%.0f direct_per_s=%.0f ratio=%.2f p99_ms=%.1f errors=%ld\n",
           http, direct, direct > 0 ? http / direct : 0, p99, errors);
    free(all);
    ccip_client_destroy(&bus);
    ccip_test_env_cleanup(&s_env, errors > 0);
    zmq_ctx_term(s_ctx);
    curl_global_cleanup();
    return 0;
}
