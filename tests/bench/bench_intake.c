/*
 * bench_intake: complete applications submitted through the broker, each
 * acknowledged only after its commit, against the same PostgreSQL's
 * one-row INSERT of a row like an application.
 *
 * Starts a private bus and intake (CCIP_WORKERS, default 8: eight worker
 * threads, each its own database connection, so eight transactions can be
 * in flight) against the PostgreSQL that scripts/bench started (durable:
 * fsync on).
 *
 * 1. pgbench_tps: pgbench, as role ccip_intake, at CLIENTS clients for
 *    SECONDS, runs a one-row INSERT into a scratch table of schema intake
 *    made LIKE intake.application (same columns, checks and indexes), with
 *    the values a submitted application has. One transaction, one row, one
 *    durable commit: the baseline. The table is dropped afterwards.
 * 2. Outside any timed window: one cluster identification call is opened
 *    through the broker (staff; it requires REQUIRED_DOC), and copied in SQL
 *    into as many calls as the run can use (intake allows one live
 *    application per organisation per call, so every application gets a
 *    call of its own); every client's organisation is registered (by
 *    itself) and verified (by staff) through the broker.
 * 3. submit_per_s: CLIENTS threads, each its own front-door connection
 *    (ccip_client) acting as its organisation (role applicant, actor
 *    org:<USCC>), make complete applications for SECONDS. A complete
 *    application is three commands, each its own transaction and durable
 *    commit, each sent only after the previous one was answered:
 *      intake.application.draft.v1          title, summary, district and the
 *                                           cluster's facts (complete content)
 *      intake.application.document.add.v1   the required document (DOC_BYTES,
 *                                           distinct content, so a new blob)
 *      intake.application.submit.v1         DRAFT -> SUBMITTED, submitted event
 *    What is timed, per application, is that whole sequence: from sending the
 *    draft to receiving the submit's OK reply (p99_ms is its 99th
 *    percentile). submit_per_s = submitted applications / seconds of the
 *    window. ratio = submit_per_s / pgbench_tps.
 * 4. lost: the number of applications whose submit was acknowledged (OK)
 *    but which the application table does not hold as SUBMITTED afterwards.
 *
 * The line before the last gives each command's latency and the number of
 * commands per second, which is what to compare with pgbench's per-commit
 * rate (three commits per application).
 *
 * Usage: bench_intake [SECONDS]
 * Last line: bench intake: submit_per_s=… pgbench_tps=… ratio=R p99_ms=… lost=L
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/intake.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test.h"
#include "ccip_test_db.h"
#include "ccip_test_proc.h"

#define CLIENTS      8
#define WORKERS      "8" /* intake's worker threads (and database connections) */
#define REQUIRED_DOC "business_licence"
#define DOC_BYTES    1024
#define NSTEPS       3 /* draft, document, submit */
#define SUMMARY                                                                                    \
    "Restoring and digitising opera costumes in a former printing works; open studio for "         \
    "schools and a shared scanning room for the small studios of the district."

static ccip_test_env s_env;
static void *s_ctx;
static int64_t s_until_us;
static long s_calls_each; /* calls (so applications) each client may use */
static char (*s_calls)[CCIP_UUID_STRLEN + 1];
static atomic_long s_failed;

typedef struct {
    int i;
    char uscc[19];
    char actor[32];
    long done;                         /* applications submitted (acknowledged) */
    int64_t *seq_us;                   /* per application: the whole sequence */
    int64_t *step_us[NSTEPS];          /* per application: each command */
    char (*ids)[CCIP_UUID_STRLEN + 1]; /* acknowledged applications */
} s_client_state;

static s_client_state s_clients[CLIENTS];

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t s_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A valid unified social credit code (GB 32100-2015 check character) for
 * client i of this run. */
static void s_uscc(int i, char out[19])
{
    static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    snprintf(out, 19, "91110105%09ld", ((long)getpid() * 100 + i) % 1000000000L);
    int sum = 0;
    for (int k = 0; k < 17; k++)
        sum += (int)(strchr(cs, out[k]) - cs) * w[k];
    out[17] = cs[(31 - sum % 31) % 31];
    out[18] = '\0';
}

/* Sends one command to intake as (role, actor). Returns the status (-1: no
 * reply; the error in err); with out and an OK status, the reply decoded as
 * desc. */
static int s_call(ccip_client *c, const char *role, const char *actor, const char *type,
                  const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc,
                  ProtobufCMessage **out, char *err, size_t errlen)
{
    if (out)
        *out = NULL;
    size_t len = msg ? protobuf_c_message_get_packed_size(msg) : 0;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (msg)
        protobuf_c_message_pack(msg, buf);
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.id = id;
    e.type = (char *)type;
    e.actor_role = (char *)role;
    e.actor_id = (char *)actor;
    e.payload.data = buf;
    e.payload.len = len;
    Ccip__Envelope *r = ccip_client_call(c, "intake", &e, 10000, 3, err, errlen);
    free(buf);
    if (!r)
        return -1;
    int status = (int)r->status;
    snprintf(err, errlen, "%s", r->error);
    if (status == 0 && out && desc) {
        *out = ccip_payload_unpack(desc, r->payload.data, r->payload.len, r->payload.len + 1, err,
                                   errlen);
        if (!*out)
            status = -1;
    }
    ccip_envelope_free(&r);
    return status;
}

/* Waits until intake answers a ping (it migrates its schema first). */
static int s_wait_for_intake(ccip_client *c)
{
    char err[256] = "";
    for (int i = 0; i < 100; i++) {
        char id[CCIP_UUID_STRLEN + 1];
        ccip_uuid_v7(id);
        Ccip__Envelope ping = CCIP__ENVELOPE__INIT;
        ping.id = id;
        ping.type = "ccip.ping.v1";
        Ccip__Envelope *r = ccip_client_call(c, "intake", &ping, 1000, 1, err, sizeof err);
        if (r) {
            ccip_envelope_free(&r);
            return 0;
        }
    }
    fprintf(stderr, "bench intake: intake did not answer: %s\n", err);
    return -1;
}

/* The password of role ccip_<svc>, from $CCIP_SECRETS_DIR. */
static int s_password(const char *svc, char *pw, size_t len)
{
    char path[400];
    snprintf(path, sizeof path, "%s/db-%s.password", getenv("CCIP_SECRETS_DIR"), svc);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(pw, (int)len, f)) {
        fprintf(stderr, "bench intake: could not read %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    pw[strcspn(pw, "\r\n")] = '\0';
    return 0;
}

/* pgbench's one-row INSERT of an application-like row at CLIENTS clients
 * for `seconds`, as ccip_intake into a scratch table of schema intake.
 * Returns its tps, or -1. */
static double s_pgbench(int seconds)
{
    ccip_db *db = ccip_test_db_connect_in("intake", "intake");
    if (!db || ccip_db_command(db, "DROP TABLE IF EXISTS bench_pgbench_application; "
                                   "CREATE TABLE bench_pgbench_application "
                                   "(LIKE application INCLUDING ALL)") != CCIP_DB_OK) {
        fprintf(stderr, "bench intake: could not make the scratch table: %s\n",
                db ? ccip_db_error(db) : ccip_test_db_error());
        ccip_db_destroy(&db);
        return -1;
    }
    char pw[256] = "", script[400], cmd[2048];
    if (s_password("intake", pw, sizeof pw) < 0)
        return -1;
    setenv("PGPASSWORD", pw, 1);
    char uscc[19];
    s_uscc(99, uscc);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO intake.bench_pgbench_application (id, call_id, applicant_uscc, status, "
             "title, summary, district_code, requested_fen, submissions, created_by, "
             "submitted_at) VALUES (gen_random_uuid(), gen_random_uuid(), '%s', 'SUBMITTED', "
             "'Digital heritage workshop', '" SUMMARY "', '110105', 0, 1, 'org:%s', now());\n",
             uscc, uscc);
    if (ccip_test_write_file(s_env.dir, "insert.sql", sql) < 0)
        return -1;
    snprintf(script, sizeof script, "%s/insert.sql", s_env.dir);
    const char *bin = getenv("CCIP_PG_BIN") ? getenv("CCIP_PG_BIN") : "/usr/lib/postgresql/15/bin";
    snprintf(cmd, sizeof cmd,
             "'%s/pgbench' -n -M prepared -c %d -j 2 -T %d -f '%s' -h '%s' -p '%s' -U ccip_intake "
             "'%s' 2>&1",
             bin, CLIENTS, seconds, script, getenv("CCIP_PGHOST"), getenv("CCIP_PGPORT"),
             getenv("CCIP_PGDATABASE"));
    FILE *p = popen(cmd, "r");
    double tps = -1;
    if (p) {
        char line[512];
        while (fgets(line, sizeof line, p))
            if (strncmp(line, "tps = ", 6) == 0)
                tps = atof(line + 6);
        pclose(p);
    }
    unsetenv("PGPASSWORD");
    if (tps < 0)
        fprintf(stderr, "bench intake: pgbench gave no tps (%s)\n", cmd);
    if (ccip_db_command(db, "DROP TABLE bench_pgbench_application") != CCIP_DB_OK)
        fprintf(stderr, "bench intake: could not drop the scratch table: %s\n", ccip_db_error(db));
    ccip_db_destroy(&db);
    return tps;
}

/* Opens the template call through the broker, then copies it in SQL into
 * n calls (ids into s_calls). Returns 0 or -1. */
static int s_make_calls(ccip_client *c, long n)
{
    char err[512];
    Ccip__Intake__OpenCallRequest rq = CCIP__INTAKE__OPEN_CALL_REQUEST__INIT;
    rq.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    rq.year = 2027;
    rq.title = "2027 identification of creative industry clusters (bench)";
    int64_t now = ccip_now_us() / 1000000 * 1000000;
    rq.opens_at_us = now - 3600LL * 1000000;
    rq.closes_at_us = now + 30 * 24 * 3600LL * 1000000;
    char *docs[] = {REQUIRED_DOC};
    rq.required_documents = docs;
    rq.n_required_documents = 1;
    Ccip__Intake__CallReply *r = NULL;
    int status =
        s_call(c, "staff", "staff-bench", "intake.call.open.v1", &rq.base,
               &ccip__intake__call_reply__descriptor, (ProtobufCMessage **)&r, err, sizeof err);
    if (status != 0) {
        fprintf(stderr, "bench intake: could not open the call: %d %s\n", status, err);
        return -1;
    }
    char template[CCIP_UUID_STRLEN + 1], count[24];
    snprintf(template, sizeof template, "%s", r->call->id);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    snprintf(count, sizeof count, "%ld", n);
    static const ccip_db_stmt S_COPY = {
        "bench_calls_copy",
        "INSERT INTO call (id, kind, year, title, opens_at, closes_at, required_documents, "
        "eligible_types, fund_programme_code, max_request_fen, opened_by) "
        "SELECT gen_random_uuid(), kind, year, title || ' #' || g, opens_at, closes_at, "
        "required_documents, eligible_types, fund_programme_code, max_request_fen, opened_by "
        "FROM call, generate_series(1, $2::integer) g WHERE id = $1::uuid RETURNING id"};
    ccip_db *db = ccip_test_db_connect_in("intake", "intake");
    const char *values[] = {template, count};
    PGresult *res = NULL;
    if (!db || ccip_db_exec(db, &S_COPY, 2, values, NULL, NULL, &res) != CCIP_DB_OK ||
        PQntuples(res) != n) {
        fprintf(stderr, "bench intake: could not copy the call: %s\n",
                db ? ccip_db_error(db) : ccip_test_db_error());
        PQclear(res);
        ccip_db_destroy(&db);
        return -1;
    }
    for (long k = 0; k < n; k++)
        snprintf(s_calls[k], sizeof s_calls[k], "%s", PQgetvalue(res, (int)k, 0));
    PQclear(res);
    ccip_db_destroy(&db);
    return 0;
}

/* Registers client i's organisation (as itself) and verifies it (staff). */
static int s_make_org(ccip_client *c, s_client_state *st)
{
    char err[512];
    Ccip__Intake__RegisterOrganisationRequest rq =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    rq.uscc = st->uscc;
    rq.name = "Beijing Bench Creative Co., Ltd.";
    rq.type = CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE;
    rq.district = "Chaoyang";
    rq.legal_representative = "Wang Fang";
    rq.contact_name = "Li Ming";
    rq.contact_phone = "010-6512 3456";
    int status = s_call(c, "applicant", st->actor, "intake.organisation.register.v1", &rq.base,
                        NULL, NULL, err, sizeof err);
    if (status == 0) {
        Ccip__Intake__VerifyOrganisationRequest v = CCIP__INTAKE__VERIFY_ORGANISATION_REQUEST__INIT;
        v.uscc = st->uscc;
        v.note = "licence checked";
        status = s_call(c, "staff", "staff-bench", "intake.organisation.verify.v1", &v.base, NULL,
                        NULL, err, sizeof err);
    }
    if (status != 0)
        fprintf(stderr, "bench intake: could not register organisation %s: %d %s\n", st->uscc,
                status, err);
    return status == 0 ? 0 : -1;
}

static void s_failure(const char *what, int status, const char *err)
{
    if (atomic_fetch_add(&s_failed, 1) < 5)
        fprintf(stderr, "bench intake: %s failed: %d %s\n", what, status, err);
}

/* One client: complete applications until the window closes. */
static void *s_client(void *arg)
{
    s_client_state *st = arg;
    char err[512];
    ccip_sock_opts so = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    ccip_client *c = ccip_client_new(s_ctx, s_env.commands, &so, err, sizeof err);
    if (!c) {
        s_failure("connect", -1, err);
        return NULL;
    }
    Ccip__Intake__ClusterFacts facts = CCIP__INTAKE__CLUSTER_FACTS__INIT;
    facts.cluster_name = "Langyuan Station creative park";
    facts.location = "Langjiayuan 6, Jianguo Road";
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
    uint8_t doc[DOC_BYTES];
    memset(doc, ' ', sizeof doc);
    for (long k = 0; k < s_calls_each && ccip_now_us() < s_until_us; k++) {
        const char *call = s_calls[(long)st->i * s_calls_each + k];
        int64_t t0 = s_mono_us(), t1, t2, t3;
        /* 1. the draft, with complete content */
        Ccip__Intake__DraftApplicationRequest d = CCIP__INTAKE__DRAFT_APPLICATION_REQUEST__INIT;
        d.call_id = (char *)call;
        d.applicant_uscc = st->uscc;
        d.content = &content;
        Ccip__Intake__ApplicationReply *r = NULL;
        int status = s_call(c, "applicant", st->actor, "intake.application.draft.v1", &d.base,
                            &ccip__intake__application_reply__descriptor, (ProtobufCMessage **)&r,
                            err, sizeof err);
        if (status != 0) {
            s_failure("draft", status, err);
            continue;
        }
        char app[CCIP_UUID_STRLEN + 1];
        snprintf(app, sizeof app, "%s", r->application->id);
        protobuf_c_message_free_unpacked(&r->base, NULL);
        t1 = s_mono_us();
        /* 2. the required document: distinct content, so a new blob */
        int n = snprintf((char *)doc, sizeof doc, "%%PDF-1.4 business licence of %s for %s",
                         st->uscc, app);
        doc[n] = ' ';
        Ccip__Intake__AddDocumentRequest a = CCIP__INTAKE__ADD_DOCUMENT_REQUEST__INIT;
        a.application_id = app;
        a.doc_type = REQUIRED_DOC;
        a.name = "licence.pdf";
        a.media_type = "application/pdf";
        a.content.data = doc;
        a.content.len = sizeof doc;
        status = s_call(c, "applicant", st->actor, "intake.application.document.add.v1", &a.base,
                        NULL, NULL, err, sizeof err);
        if (status != 0) {
            s_failure("document.add", status, err);
            continue;
        }
        t2 = s_mono_us();
        /* 3. the submission */
        Ccip__Intake__ApplicationActionRequest s = CCIP__INTAKE__APPLICATION_ACTION_REQUEST__INIT;
        s.application_id = app;
        status = s_call(c, "applicant", st->actor, "intake.application.submit.v1", &s.base, NULL,
                        NULL, err, sizeof err);
        if (status != 0) {
            s_failure("submit", status, err);
            continue;
        }
        t3 = s_mono_us();
        long j = st->done++;
        st->seq_us[j] = t3 - t0;
        st->step_us[0][j] = t1 - t0;
        st->step_us[1][j] = t2 - t1;
        st->step_us[2][j] = t3 - t2;
        snprintf(st->ids[j], sizeof st->ids[j], "%s", app);
    }
    if (ccip_now_us() < s_until_us)
        s_failure("client", -1, "ran out of calls before the window closed");
    ccip_client_destroy(&c);
    return NULL;
}

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of the values of every client's array `which`
 * (-1: the sequences), in milliseconds. */
static double s_quantile(int which, double q)
{
    long total = 0;
    for (int i = 0; i < CLIENTS; i++)
        total += s_clients[i].done;
    if (total == 0)
        return 0;
    int64_t *all = malloc((size_t)total * sizeof *all);
    long n = 0;
    for (int i = 0; i < CLIENTS; i++)
        for (long j = 0; j < s_clients[i].done; j++)
            all[n++] = which < 0 ? s_clients[i].seq_us[j] : s_clients[i].step_us[which][j];
    qsort(all, (size_t)n, sizeof *all, s_cmp);
    long k = (long)(q * (double)n + 0.999999) - 1;
    if (k < 0)
        k = 0;
    if (k >= n)
        k = n - 1;
    double ms = (double)all[k] / 1000.0;
    free(all);
    return ms;
}

/* Acknowledged applications the table does not hold as SUBMITTED. */
static long s_lost(long acked)
{
    if (acked == 0)
        return 0;
    size_t cap = (size_t)acked * (CCIP_UUID_STRLEN + 1) + 3;
    char *list = malloc(cap);
    size_t used = 0;
    list[used++] = '{';
    for (int i = 0; i < CLIENTS; i++)
        for (long j = 0; j < s_clients[i].done; j++)
            used += (size_t)snprintf(list + used, cap - used, "%s%s", used > 1 ? "," : "",
                                     s_clients[i].ids[j]);
    list[used++] = '}';
    list[used] = '\0';
    static const ccip_db_stmt S_FOUND = {
        "bench_found", "SELECT count(*) FROM application WHERE id = ANY($1::uuid[]) "
                       "AND status = 'SUBMITTED' AND submissions = 1"};
    ccip_db *db = ccip_test_db_connect_in("intake", "intake");
    const char *values[] = {list};
    PGresult *res = NULL;
    long found = -1;
    if (db && ccip_db_exec(db, &S_FOUND, 1, values, NULL, NULL, &res) == CCIP_DB_OK)
        found = atol(PQgetvalue(res, 0, 0));
    else
        fprintf(stderr, "bench intake: could not count the applications: %s\n",
                db ? ccip_db_error(db) : ccip_test_db_error());
    PQclear(res);
    ccip_db_destroy(&db);
    free(list);
    return found < 0 ? acked : acked - found;
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 10;
    if (seconds < 1) {
        fprintf(stderr, "usage: bench_intake [SECONDS]\n");
        return 2;
    }
    setenv("CCIP_WORKERS", WORKERS, 0); /* unless the caller chose */
    if (ccip_test_env_init(&s_env) < 0 || ccip_test_start_bus(&s_env) < 0 ||
        ccip_test_start_service(&s_env, "services/intake/intake", "intake", "intake-1") < 0) {
        fprintf(stderr, "bench intake: could not start the services\n");
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    s_ctx = zmq_ctx_new();
    char err[512];
    ccip_sock_opts so = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    ccip_client *c = ccip_client_new(s_ctx, s_env.commands, &so, err, sizeof err);
    if (!c || s_wait_for_intake(c) < 0) {
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }

    /* 1. the baseline */
    double tps = s_pgbench(seconds);
    if (tps <= 0) {
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }

    /* 2. set-up, untimed: enough calls that every client could go at
     * twice pgbench's rate, one application per call. */
    s_calls_each = (long)(2.0 * tps * seconds / CLIENTS) + 200;
    s_calls = calloc((size_t)(s_calls_each * CLIENTS), sizeof *s_calls);
    if (!s_calls || s_make_calls(c, s_calls_each * CLIENTS) < 0) {
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    for (int i = 0; i < CLIENTS; i++) {
        s_client_state *st = &s_clients[i];
        st->i = i;
        s_uscc(i, st->uscc);
        memcpy(st->actor, "org:", 4); /* (snprintf from a field of the same struct: -Wrestrict) */
        memcpy(st->actor + 4, st->uscc, sizeof st->uscc);
        st->seq_us = calloc((size_t)s_calls_each, sizeof *st->seq_us);
        for (int k = 0; k < NSTEPS; k++)
            st->step_us[k] = calloc((size_t)s_calls_each, sizeof *st->step_us[k]);
        st->ids = calloc((size_t)s_calls_each, sizeof *st->ids);
        if (!st->seq_us || !st->step_us[0] || !st->step_us[1] || !st->step_us[2] || !st->ids ||
            s_make_org(c, st) < 0) {
            ccip_test_env_cleanup(&s_env, 1);
            return 1;
        }
    }
    ccip_client_destroy(&c);

    /* 3. the timed window */
    s_until_us = ccip_now_us() + (int64_t)seconds * 1000000;
    double t0 = s_now();
    pthread_t t[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        pthread_create(&t[i], NULL, s_client, &s_clients[i]);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(t[i], NULL);
    double elapsed = s_now() - t0;
    long acked = 0;
    for (int i = 0; i < CLIENTS; i++)
        acked += s_clients[i].done;
    double per_s = (double)acked / elapsed;

    /* 4. what was acknowledged is there */
    long lost = s_lost(acked);
    long failed = atomic_load(&s_failed);
    ccip_test_env_cleanup(&s_env, failed > 0 || lost != 0);

    fprintf(stderr,
            "applications: %ld submitted in %.1f s by %d clients (%d intake "
            "workers), %ld failed\n",
            acked, elapsed, CLIENTS, atoi(getenv("CCIP_WORKERS")), failed);
    printf("per command (ms, p50/p99): draft %.1f/%.1f document.add %.1f/%.1f submit %.1f/%.1f; "
           "whole application p50 %.1f; commands_per_s=%.0f (%d commits per application)\n",
           s_quantile(0, 0.5), s_quantile(0, 0.99), s_quantile(1, 0.5), s_quantile(1, 0.99),
           s_quantile(2, 0.5), s_quantile(2, 0.99), s_quantile(-1, 0.5), per_s * NSTEPS, NSTEPS);
    printf("bench intake: submit_per_s=%.0f pgbench_tps=%.0f ratio=%.2f p99_ms=%.1f lost=%ld\n",
           per_s, tps, per_s / tps, s_quantile(-1, 0.99), lost);
    return failed == 0 && lost == 0 ? 0 : 1;
}
