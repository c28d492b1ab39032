/*
 * bench_intake: complete applications filed through the broker, each
 * acknowledged only after its commit, against the same PostgreSQL's
 * one-row INSERT of a row like an application.
 *
 * Starts a private bus and intake against the PostgreSQL that scripts/bench
 * started (durable: fsync on). Intake runs as an operator would run it for
 * this load (each setting unless the caller's environment sets it):
 * CCIP_WORKERS=8 command slots, so that every one of the 8 clients has its
 * command in hand at once, and the service defaults for the rest
 * (CCIP_DB_CONNECTIONS=2 connections, CCIP_BATCH_MAX=32): the commands in
 * hand share the connections and commit in batches (group commit), each
 * still acknowledged only after its batch's commit. Two connections were
 * the best measured here (2 shared cores): with one, batches grow to ~4
 * commands but the connection idles while replies travel (~990/s); with
 * four, batches shrink to ~1.5 and four backends compete for the cores
 * (~740/s); with two, ~2.3 per batch and ~1,100-1,350/s.
 *
 * 1. pgbench_tps: pgbench, as role ccip_intake, at CLIENTS clients for
 *    SECONDS, runs a one-row INSERT into a scratch table of schema intake
 *    made LIKE intake.application (same columns, checks and indexes), with
 *    the values a submitted application has. One transaction, one row, one
 *    durable commit: the baseline. The table is dropped afterwards.
 * 2. Outside any timed window: one cluster identification call is opened
 *    through the broker (staff; it requires CCIP_TEST_REQUIRED_DOC), and copied in SQL
 *    into as many calls as the run can use (intake allows one live
 *    application per organisation per call, so every application gets a
 *    call of its own); every client's organisation is registered (by
 *    itself) and verified (by staff) through the broker.
 * 3. submit_per_s: CLIENTS threads, each its own front-door connection
 *    (ccip_client) acting as its organisation (role applicant, actor
 *    org:<USCC>), file complete applications for SECONDS, each with ONE
 *    command, sent only after the previous one was answered:
 *      intake.application.file.v1   title, summary, district, the cluster's
 *                                   facts and the required document inline
 *                                   (DOC_BYTES, distinct content, so a new
 *                                   blob); drafted and submitted in one
 *                                   transaction, submitted event
 *    What is timed, per application, is that command from sending to its
 *    OK reply (p99_ms is its 99th percentile). submit_per_s = filed
 *    applications / seconds of the window. ratio = submit_per_s /
 *    pgbench_tps.
 *    Until the one-step command existed, this step timed the three-command
 *    sequence draft.v1, document.add.v1, submit.v1 (three transactions) as
 *    one application; that path still exists and is measured too, for
 *    THREE_STEP_SECONDS after the window, on a line of its own (step 5).
 * 4. lost: the number of applications whose filing was acknowledged (OK)
 *    but which the application table does not hold as SUBMITTED (once)
 *    with a document afterwards.
 * 5. three_step: the same clients make complete applications the old way
 *    (draft, document.add, submit; each command its own round trip) for
 *    THREE_STEP_SECONDS; reported with each command's latency on a line
 *    before the last two (its applications are checked for loss too).
 *
 * 6. ping: the same clients send ccip.ping.v1 (read-only: the broker's
 *    round trip and one read statement) for PING_SECONDS: the most any
 *    command can reach through the broker here, given on the line before
 *    the last.
 *
 * The line before the last also says how many commands intake ran in how
 * many transactions during the window (ccip.ping.v1 counts): the batches.
 *
 * cpu_ms_per_op: the machine's busy CPU (all processes, /proc/stat) during
 * the file.v1 window per filing. rss_mib: bus:IDLE/PEAK,intake:IDLE/PEAK,
 * resident MiB once intake answers, and the peak (VmHWM) after the window.
 *
 * Usage: bench_intake [SECONDS]
 * Last line: bench intake: submit_per_s=… pgbench_tps=… ratio=R p99_ms=… lost=L
 *            cpu_ms_per_op=… rss_mib=bus:I/P,intake:I/P
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
#include "ccip_test_pgbench.h"
#include "ccip_test_intake.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"

#define CLIENTS 8
#define WORKERS "8" /* intake's command slots: one per client */
/* service.batch_wait_us: a batch waits this long for the clients it just
 * answered (measured: 0 us ~1,370-1,520 filings/s at 2.3 a transaction,
 * 500 us ~1,750/s at 3.2). */
#define BATCH_WAIT_US      "500"
#define DOC_BYTES          1024
#define THREE_STEP_SECONDS 3
#define PING_SECONDS       2
#define NSTEPS             3 /* draft, document, submit (the three-step path) */
#define SUMMARY                                                                                    \
    "Restoring and digitising opera costumes in a former printing works; open studio for "         \
    "schools and a shared scanning room for the small studios of the district."

/* What the clients do in a window. */
typedef enum { MODE_FILE, MODE_THREE_STEP, MODE_PING, NMODES } s_mode;

static ccip_test_env s_env;
static void *s_ctx;
static s_mode s_current;   /* the window's mode */
static int64_t s_until_us; /* the window's end */
static long s_calls_each;  /* calls (so applications) each client may use */
static char (*s_calls)[CCIP_UUID_STRLEN + 1];
static atomic_long s_failed;

/* One client's results in one window. */
typedef struct {
    long done;                         /* applications acknowledged */
    int64_t *seq_us;                   /* per application: the whole of it */
    int64_t *step_us[NSTEPS];          /* per application: each command (three-step) */
    char (*ids)[CCIP_UUID_STRLEN + 1]; /* acknowledged applications */
} s_results;

typedef struct {
    int i;
    char uscc[19];
    char actor[32];
    long next;           /* its next call, in its slice of s_calls */
    s_results r[NMODES]; /* per window */
} s_client_state;

static s_client_state s_clients[CLIENTS];

static int64_t s_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The machine's CPU time so far (all cores, seconds): busy (not idle or
 * waiting for I/O) and in all. Both 0 when /proc/stat cannot be read. */
typedef struct {
    double busy, total;
} s_cpu;

static s_cpu s_cpu_now(void)
{
    s_cpu c = {0, 0};
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                    &v[4], &v[5], &v[6], &v[7]) == 8) {
        double hz = (double)sysconf(_SC_CLK_TCK);
        for (int i = 0; i < 8; i++)
            c.total += (double)v[i] / hz;
        c.busy = c.total - (double)(v[3] + v[4]) / hz;
    }
    if (f)
        fclose(f);
    return c;
}

/* Busy share of the CPU between a and b (0..1), and the busy CPU
 * milliseconds per unit of work for n units. */
static double s_cpu_share(s_cpu a, s_cpu b)
{
    return b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
}

static double s_cpu_ms_per(s_cpu a, s_cpu b, double n)
{
    return n > 0 ? (b.busy - a.busy) * 1000.0 / n : 0;
}

/* pgbench's one-row INSERT of an application-like row at CLIENTS clients
 * for `seconds`, as ccip_intake into a scratch table of schema intake.
 * Returns its tps, or -1. */
static double s_pgbench(int seconds)
{
    /* made by the schema's owner when it has one (bootstrap.sql): the
     * runtime role creates nothing, but may insert into what the owner
     * makes */
    ccip_db *db = ccip_test_db_connect_in("intake_owner", "intake");
    if (!db)
        db = ccip_test_db_connect_in("intake", "intake");
    if (!db || ccip_db_command(db, "DROP TABLE IF EXISTS bench_pgbench_application; "
                                   "CREATE TABLE bench_pgbench_application "
                                   "(LIKE application INCLUDING ALL)") != CCIP_DB_OK) {
        fprintf(stderr, "bench intake: could not make the scratch table: %s\n",
                db ? ccip_db_error(db) : ccip_test_db_error());
        ccip_db_destroy(&db);
        return -1;
    }
    char uscc[19];
    ccip_test_uscc("110105", uscc);
    char sql[1024], script[400];
    snprintf(sql, sizeof sql,
             "INSERT INTO intake.bench_pgbench_application (id, call_id, applicant_uscc, status, "
             "title, summary, district_code, requested_fen, submissions, created_by, "
             "submitted_at, case_root) VALUES (gen_random_uuid(), gen_random_uuid(), '%s', "
             "'SUBMITTED', "
             "'Digital heritage workshop', '" SUMMARY "', '110105', 0, 1, 'org:%s', now(), "
             "gen_random_uuid());\n",
             uscc, uscc);
    if (ccip_test_write_file(s_env.dir, "insert.sql", sql) < 0)
        return -1;
    snprintf(script, sizeof script, "%s/insert.sql", s_env.dir);
    double tps = ccip_test_pgbench("intake", "intake", script, CLIENTS, seconds, 0, NULL);
    if (ccip_db_command(db, "DROP TABLE bench_pgbench_application") != CCIP_DB_OK)
        fprintf(stderr, "bench intake: could not drop the scratch table: %s\n", ccip_db_error(db));
    ccip_db_destroy(&db);
    return tps;
}

static void s_failure(const char *what, int status, const char *err)
{
    if (atomic_fetch_add(&s_failed, 1) < 5)
        fprintf(stderr, "bench intake: %s failed: %d %s\n", what, status, err);
}

/* The content every application carries (complete for a cluster call). */
static void s_content(Ccip__Intake__ApplicationContent *content, Ccip__Intake__ClusterFacts *facts)
{
    *facts = (Ccip__Intake__ClusterFacts)CCIP__INTAKE__CLUSTER_FACTS__INIT;
    facts->cluster_name = "Langyuan Station creative park";
    facts->location = "Langjiayuan 6, Jianguo Road";
    facts->area_m2 = 60000;
    facts->enterprise_count = 120;
    facts->employee_count = 3500;
    facts->lead_operator = "Langyuan Cultural Investment Co.";
    *content = (Ccip__Intake__ApplicationContent)CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    content->title = "Digital heritage workshop";
    content->summary = SUMMARY;
    content->district = "110105";
    content->facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
    content->cluster = facts;
}

/* Distinct document content (so a new blob) for this client's k-th call. */
static void s_document(const s_client_state *st, const char *call, uint8_t doc[DOC_BYTES])
{
    memset(doc, ' ', DOC_BYTES);
    int n = snprintf((char *)doc, DOC_BYTES, "%%PDF-1.4 business licence of %s for call %s",
                     st->uscc, call);
    doc[n] = ' ';
}

/* One application in one command. Returns 0 with its id, or -1. */
static int s_file_one(ccip_client *c, s_client_state *st, const char *call,
                      Ccip__Intake__ApplicationContent *content, char app[CCIP_UUID_STRLEN + 1])
{
    char err[512];
    uint8_t doc[DOC_BYTES];
    s_document(st, call, doc);
    Ccip__Intake__DocumentUpload u = CCIP__INTAKE__DOCUMENT_UPLOAD__INIT;
    u.doc_type = CCIP_TEST_REQUIRED_DOC;
    u.name = "licence.pdf";
    u.media_type = "application/pdf";
    u.content.data = doc;
    u.content.len = DOC_BYTES;
    Ccip__Intake__DocumentUpload *docs[] = {&u};
    Ccip__Intake__FileApplicationRequest rq = CCIP__INTAKE__FILE_APPLICATION_REQUEST__INIT;
    rq.call_id = (char *)call;
    rq.applicant_uscc = st->uscc;
    rq.content = content;
    rq.documents = docs;
    rq.n_documents = 1;
    Ccip__Intake__ApplicationReply *r = NULL;
    int status = ccip_test_call(c, "intake", "applicant", st->actor, "intake.application.file.v1",
                                &rq.base, &ccip__intake__application_reply__descriptor,
                                (ProtobufCMessage **)&r, err, sizeof err);
    if (status != 0) {
        s_failure("file", status, err);
        return -1;
    }
    snprintf(app, CCIP_UUID_STRLEN + 1, "%s", r->application->id);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return 0;
}

/* One application in three commands (draft, document.add, submit), each
 * step's time into t[]. Returns 0 with its id, or -1. */
static int s_three_steps(ccip_client *c, s_client_state *st, const char *call,
                         Ccip__Intake__ApplicationContent *content, char app[CCIP_UUID_STRLEN + 1],
                         int64_t t[NSTEPS])
{
    char err[512];
    int64_t t0 = s_mono_us();
    Ccip__Intake__DraftApplicationRequest d = CCIP__INTAKE__DRAFT_APPLICATION_REQUEST__INIT;
    d.call_id = (char *)call;
    d.applicant_uscc = st->uscc;
    d.content = content;
    Ccip__Intake__ApplicationReply *r = NULL;
    int status = ccip_test_call(c, "intake", "applicant", st->actor, "intake.application.draft.v1",
                                &d.base, &ccip__intake__application_reply__descriptor,
                                (ProtobufCMessage **)&r, err, sizeof err);
    if (status != 0) {
        s_failure("draft", status, err);
        return -1;
    }
    snprintf(app, CCIP_UUID_STRLEN + 1, "%s", r->application->id);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    int64_t t1 = s_mono_us();
    uint8_t doc[DOC_BYTES];
    s_document(st, call, doc);
    Ccip__Intake__AddDocumentRequest a = CCIP__INTAKE__ADD_DOCUMENT_REQUEST__INIT;
    a.application_id = app;
    a.doc_type = CCIP_TEST_REQUIRED_DOC;
    a.name = "licence.pdf";
    a.media_type = "application/pdf";
    a.content.data = doc;
    a.content.len = DOC_BYTES;
    status =
        ccip_test_call(c, "intake", "applicant", st->actor, "intake.application.document.add.v1",
                       &a.base, NULL, NULL, err, sizeof err);
    if (status != 0) {
        s_failure("document.add", status, err);
        return -1;
    }
    int64_t t2 = s_mono_us();
    Ccip__Intake__ApplicationActionRequest sub = CCIP__INTAKE__APPLICATION_ACTION_REQUEST__INIT;
    sub.application_id = app;
    status = ccip_test_call(c, "intake", "applicant", st->actor, "intake.application.submit.v1",
                            &sub.base, NULL, NULL, err, sizeof err);
    if (status != 0) {
        s_failure("submit", status, err);
        return -1;
    }
    t[0] = t1 - t0;
    t[1] = t2 - t1;
    t[2] = s_mono_us() - t2;
    return 0;
}

/* One ccip.ping.v1 (read-only: the broker's round trip and one read);
 * writes "" as the id. Returns 0 or -1. */
static int s_ping_one(ccip_client *c, char app[CCIP_UUID_STRLEN + 1])
{
    char err[512];
    app[0] = '\0';
    int status = ccip_test_call(c, "intake", "applicant", "org:ping", "ccip.ping.v1", NULL, NULL,
                                NULL, err, sizeof err);
    if (status != 0)
        s_failure("ping", status, err);
    return status == 0 ? 0 : -1;
}

/* One client: complete applications until the window closes. */
static void *s_client(void *arg)
{
    s_client_state *st = arg;
    s_results *res = &st->r[s_current];
    char err[512];
    ccip_sock_opts so = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    ccip_client *c = ccip_client_new(s_ctx, s_env.commands, &so, err, sizeof err);
    if (!c) {
        s_failure("connect", -1, err);
        return NULL;
    }
    Ccip__Intake__ClusterFacts facts;
    Ccip__Intake__ApplicationContent content;
    s_content(&content, &facts);
    /* Pings use no call; every result slot holds one application or ping. */
    while (res->done < s_calls_each && ccip_now_us() < s_until_us) {
        if (s_current != MODE_PING && st->next >= s_calls_each)
            break;
        const char *call =
            s_current == MODE_PING ? "" : s_calls[(long)st->i * s_calls_each + st->next++];
        char app[CCIP_UUID_STRLEN + 1];
        int64_t t[NSTEPS] = {0}, t0 = s_mono_us();
        int rc = s_current == MODE_FILE         ? s_file_one(c, st, call, &content, app)
                 : s_current == MODE_THREE_STEP ? s_three_steps(c, st, call, &content, app, t)
                                                : s_ping_one(c, app);
        if (rc != 0)
            continue;
        long j = res->done++;
        res->seq_us[j] = s_mono_us() - t0;
        for (int k = 0; k < NSTEPS; k++)
            res->step_us[k][j] = t[k];
        snprintf(res->ids[j], sizeof res->ids[j], "%s", app);
    }
    if (ccip_now_us() < s_until_us)
        s_failure("client", -1, "ran out of calls before the window closed");
    ccip_client_destroy(&c);
    return NULL;
}

/* Runs the clients in `mode` for `seconds`; returns the window's length (s). */
static double s_window(s_mode mode, int seconds)
{
    s_current = mode;
    s_until_us = ccip_now_us() + (int64_t)seconds * 1000000;
    double t0 = ccip_test_mono_s();
    pthread_t t[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        pthread_create(&t[i], NULL, s_client, &s_clients[i]);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(t[i], NULL);
    return ccip_test_mono_s() - t0;
}

/* Applications acknowledged in a window. */
static long s_acked(s_mode mode)
{
    long n = 0;
    for (int i = 0; i < CLIENTS; i++)
        n += s_clients[i].r[mode].done;
    return n;
}

static int s_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of the values of every client's array `which`
 * (-1: the whole applications) in window `mode`, in milliseconds. */
static double s_quantile(s_mode mode, int which, double q)
{
    long total = s_acked(mode);
    if (total == 0)
        return 0;
    int64_t *all = malloc((size_t)total * sizeof *all);
    long n = 0;
    for (int i = 0; i < CLIENTS; i++) {
        const s_results *r = &s_clients[i].r[mode];
        for (long j = 0; j < r->done; j++)
            all[n++] = which < 0 ? r->seq_us[j] : r->step_us[which][j];
    }
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

/* Applications acknowledged in window `mode` that the table does not hold
 * as SUBMITTED once, with a document. */
static long s_lost(s_mode mode)
{
    long acked = s_acked(mode);
    if (acked == 0)
        return 0;
    size_t cap = (size_t)acked * (CCIP_UUID_STRLEN + 1) + 3;
    char *list = malloc(cap);
    size_t used = 0;
    list[used++] = '{';
    for (int i = 0; i < CLIENTS; i++)
        for (long j = 0; j < s_clients[i].r[mode].done; j++)
            used += (size_t)snprintf(list + used, cap - used, "%s%s", used > 1 ? "," : "",
                                     s_clients[i].r[mode].ids[j]);
    list[used++] = '}';
    list[used] = '\0';
    static const ccip_db_stmt S_FOUND = {
        "bench_found", "SELECT count(*) FROM application a WHERE a.id = ANY($1::uuid[]) "
                       "AND a.status = 'SUBMITTED' AND a.submissions = 1 "
                       "AND EXISTS (SELECT 1 FROM document d WHERE d.application_id = a.id)"};
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
    setenv("CCIP_BATCH_WAIT_US", BATCH_WAIT_US, 0);
    ccip_test_mem mem[2] = {{.name = "bus"}, {.name = "intake"}};
    if (ccip_test_env_init(&s_env) < 0 || (mem[0].pid = ccip_test_start_bus(&s_env)) < 0 ||
        (mem[1].pid =
             ccip_test_start_service(&s_env, "services/intake/intake", "intake", "intake-1")) < 0) {
        fprintf(stderr, "bench intake: could not start the services\n");
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    s_ctx = zmq_ctx_new();
    char err[512];
    ccip_sock_opts so = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    ccip_client *c = ccip_client_new(s_ctx, s_env.commands, &so, err, sizeof err);
    if (!c || ccip_test_wait_for(c, "intake", CCIP_TEST_SVC_START_MS) < 0) {
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }

    for (int i = 0; i < 2; i++) /* idle: started, migrated, answering */
        mem[i].idle_kib = ccip_test_proc_kib(mem[i].pid, "VmRSS");

    /* 1. the baseline */
    s_cpu pg0 = s_cpu_now();
    double tps = s_pgbench(seconds);
    s_cpu pg1 = s_cpu_now();
    if (tps <= 0) {
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }

    /* 2. set-up, untimed: enough calls that every client could file at
     * twice pgbench's rate, then make three-step applications at a tenth of
     * it; one application per call. */
    s_calls_each = (long)(2.0 * tps * seconds / CLIENTS) +
                   (long)(0.1 * tps * THREE_STEP_SECONDS / CLIENTS) + 400;
    s_calls = calloc((size_t)(s_calls_each * CLIENTS), sizeof *s_calls);
    if (!s_calls ||
        ccip_test_intake_calls(c, "bench intake", s_calls_each * CLIENTS, s_calls) < 0) {
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    for (int i = 0; i < CLIENTS; i++) {
        s_client_state *st = &s_clients[i];
        st->i = i;
        ccip_test_uscc("110105", st->uscc);
        memcpy(st->actor, "org:", 4); /* (snprintf from a field of the same struct: -Wrestrict) */
        memcpy(st->actor + 4, st->uscc, sizeof st->uscc);
        for (int m = 0; m < NMODES; m++) {
            s_results *r = &st->r[m];
            r->seq_us = calloc((size_t)s_calls_each, sizeof *r->seq_us);
            for (int k = 0; k < NSTEPS; k++)
                r->step_us[k] = calloc((size_t)s_calls_each, sizeof *r->step_us[k]);
            r->ids = calloc((size_t)s_calls_each, sizeof *r->ids);
            if (!r->seq_us || !r->step_us[0] || !r->step_us[1] || !r->step_us[2] || !r->ids) {
                ccip_test_env_cleanup(&s_env, 1);
                return 1;
            }
        }
        if (ccip_test_intake_org(c, st->uscc, "Beijing Bench Creative Co., Ltd.") < 0) {
            ccip_test_env_cleanup(&s_env, 1);
            return 1;
        }
    }
    ccip_client_destroy(&c);

    /* 3. the timed window: one command per application */
    unsigned long long cmd0 = 0, tx0 = 0, cmd1 = 0, tx1 = 0;
    ccip_test_ping_counts(&s_env, "intake", &cmd0, &tx0);
    s_cpu f0 = s_cpu_now();
    double elapsed = s_window(MODE_FILE, seconds);
    s_cpu f1 = s_cpu_now();
    ccip_test_ping_counts(&s_env, "intake", &cmd1, &tx1);
    long acked = s_acked(MODE_FILE);
    double per_s = (double)acked / elapsed;
    for (int i = 0; i < 2; i++) /* peak: under the filing load */
        mem[i].peak_kib = ccip_test_proc_kib(mem[i].pid, "VmHWM");
    char rss[200] = "";
    ccip_test_mem_text(mem, 2, rss, sizeof rss);

    /* 5. the three-command path, for comparison */
    double elapsed3 = s_window(MODE_THREE_STEP, THREE_STEP_SECONDS);
    long acked3 = s_acked(MODE_THREE_STEP);
    double per_s3 = (double)acked3 / elapsed3;

    /* 6. the bound the broker sets: the same clients ping intake (read-only:
     * one round trip through the broker and one read statement) */
    s_cpu p0 = s_cpu_now();
    double elapsed_ping = s_window(MODE_PING, PING_SECONDS);
    s_cpu p1 = s_cpu_now();
    double ping_per_s = (double)s_acked(MODE_PING) / elapsed_ping;

    /* 4. what was acknowledged is there */
    long lost = s_lost(MODE_FILE);
    long lost3 = s_lost(MODE_THREE_STEP);
    long failed = atomic_load(&s_failed);
    ccip_test_env_cleanup(&s_env, failed > 0 || lost != 0 || lost3 != 0);

    fprintf(stderr,
            "applications: %ld filed in %.1f s, %ld made in three steps in %.1f s, by %d "
            "clients (intake: %s workers, %s connections, batches of at most %s), %ld "
            "failed\n",
            acked, elapsed, acked3, elapsed3, CLIENTS, getenv("CCIP_WORKERS"),
            getenv("CCIP_DB_CONNECTIONS") ? getenv("CCIP_DB_CONNECTIONS") : "2 (default)",
            getenv("CCIP_BATCH_MAX") ? getenv("CCIP_BATCH_MAX") : "32 (default)", failed);
    printf("three-step path (draft, document.add, submit; ms p50/p99): draft %.1f/%.1f "
           "document.add %.1f/%.1f submit %.1f/%.1f; whole application p50 %.1f p99 %.1f; "
           "applications_per_s=%.0f ratio=%.3f lost=%ld\n",
           s_quantile(MODE_THREE_STEP, 0, 0.5), s_quantile(MODE_THREE_STEP, 0, 0.99),
           s_quantile(MODE_THREE_STEP, 1, 0.5), s_quantile(MODE_THREE_STEP, 1, 0.99),
           s_quantile(MODE_THREE_STEP, 2, 0.5), s_quantile(MODE_THREE_STEP, 2, 0.99),
           s_quantile(MODE_THREE_STEP, -1, 0.5), s_quantile(MODE_THREE_STEP, -1, 0.99), per_s3,
           per_s3 / tps, lost3);
    printf("file.v1 (one command per application): p50 %.1f ms; intake ran %llu commands in %llu "
           "transactions during the window (%.1f per commit); bound: the same clients ping "
           "intake at %.0f/s (p50 %.2f ms, ratio %.2f); machine CPU busy (all processes, %ld "
           "cores): pgbench %.0f%% %.2f ms/tx, file.v1 %.0f%% %.2f ms/application, ping %.0f%% "
           "%.2f ms/ping\n",
           s_quantile(MODE_FILE, -1, 0.5), cmd1 - cmd0, tx1 - tx0,
           tx1 > tx0 ? (double)(cmd1 - cmd0) / (double)(tx1 - tx0) : 0.0, ping_per_s,
           s_quantile(MODE_PING, -1, 0.5), ping_per_s / tps, sysconf(_SC_NPROCESSORS_ONLN),
           100 * s_cpu_share(pg0, pg1), s_cpu_ms_per(pg0, pg1, tps * seconds),
           100 * s_cpu_share(f0, f1), s_cpu_ms_per(f0, f1, (double)acked),
           100 * s_cpu_share(p0, p1), s_cpu_ms_per(p0, p1, (double)s_acked(MODE_PING)));
    printf("bench intake: submit_per_s=%.0f pgbench_tps=%.0f ratio=%.2f p99_ms=%.1f lost=%ld "
           "cpu_ms_per_op=%.2f rss_mib=%s\n",
           per_s, tps, per_s / tps, s_quantile(MODE_FILE, -1, 0.99), lost,
           s_cpu_ms_per(f0, f1, (double)acked), rss);
    return failed == 0 && lost == 0 && lost3 == 0 ? 0 : 1;
}
