/*
 * bench_funding: concurrent award confirmations against one programme-year,
 * and the same PostgreSQL's throughput on one hot row as the baseline.
 *
 * Starts a private bus and funding against the PostgreSQL that
 * scripts/bench started, configured as an operator would run a replica
 * whose work is confirmations against a few programme-years (see WORKERS
 * and DB_CONNECTIONS below), opens one programme-year whose budget allows
 * exactly N awards, writes N + EXTRA proposed awards, and lets 16 clients
 * (each its own connection through the front door) confirm them all at
 * once. Every confirmation commits from the same AVAILABLE row (the row
 * lock that keeps the budget from being overspent), so this is a
 * contention benchmark: confirms_per_s counts every confirmation answered
 * (committed or refused for insufficient budget) per second of the whole
 * run. Then pgbench, at 16 clients for the same PostgreSQL, runs a one-row
 * UPDATE of a single hot row (pgbench_hot_tps): the ceiling any design
 * serialised on one row has. ratio = confirms_per_s / pgbench_hot_tps.
 * Also checks: exactly N committed, nothing overspent, the ledger
 * verifies.
 *
 * Usage: bench_funding [N [PGBENCH_SECONDS]]
 * cpu_ms_per_op: the machine's busy CPU (all processes, /proc/stat) while
 * the clients confirm, per confirmation. rss_mib: bus:IDLE/PEAK,funding:IDLE/PEAK,
 * resident MiB once funding answers, and the peak (VmHWM) after the
 * confirmations.
 *
 * Last line: bench funding: confirms_per_s=… pgbench_hot_tps=… ratio=R
 *            overspent_fen=0 committed=N cpu_ms_per_op=… rss_mib=bus:I/P,funding:I/P
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/funding.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test_db.h"
#include "ccip_test_pgbench.h"
#include "ccip_test_proc.h"

#define CLIENTS  16
#define EXTRA    64     /* confirmations beyond the budget: refused */
#define EACH_FEN 100000 /* 1,000.00 yuan per award */
#define YEAR     2027
#define WORKERS  "16" /* funding's command slots: one per client, so none waits at the bus */
/* funding's database connections. Every confirmation of the year waits for
 * the one AVAILABLE row, so a second connection buys no parallelism where it
 * matters: its batch only waits for that row lock (or, when it decided on a
 * balance the other batch then changed, decides and writes again), while the
 * batches get smaller and each pays a whole transaction (BEGIN, command-log
 * lock and lookup, events, replies, COMMIT and its WAL flush). Measured here
 * (3,064 confirmations, 16 clients): 1 connection ~1,750-1,800 confirms/s in
 * batches of ~8; 2 (the default) ~1,200-1,500/s in batches of ~4.7; 3
 * fewer still. service.batch_max keeps its default (32): with 16 clients a
 * batch never reaches it. An operator gives a replica more connections when
 * its commands touch many different rows. */
#define DB_CONNECTIONS "1"
/* How long a batch waits for more confirmations before it starts
 * (service.batch_wait_us). The 16 clients answered by one batch send their
 * next confirmations within a millisecond; without waiting they split into
 * two groups of ~8 that alternate, each paying a transaction. Measured here
 * (3,064 confirmations, same runs' pgbench): 0 us ~1,800-1,930/s in 388
 * transactions (ratio 0.52-0.55); 700 us ~2,070-2,420/s in ~245 (0.60-0.64);
 * 1,000 us 2,300/s in 201 (0.66); 1,500 us 1,780/s (0.49, the wait shows). An
 * operator sets it for a replica whose commands queue on one hot row. */
#define BATCH_WAIT_US "700"

static ccip_test_env s_env;
static void *s_ctx;
static char s_awards[20000][CCIP_UUID_STRLEN + 1];
static long s_total;
static atomic_long s_next;
static atomic_long s_committed, s_refused, s_failed;

/* Sends one command as staff; returns the status (-1: no reply). */
static int s_call(ccip_client *c, const char *type, const ProtobufCMessage *msg, char *err,
                  size_t errlen)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    protobuf_c_message_pack(msg, buf);
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.id = id;
    e.type = (char *)type;
    e.actor_role = "staff";
    e.actor_id = "bench";
    e.payload.data = buf;
    e.payload.len = len;
    Ccip__Envelope *r = ccip_client_call(c, "funding", &e, 30000, 3, err, errlen);
    free(buf);
    if (!r)
        return -1;
    int status = (int)r->status;
    snprintf(err, errlen, "%s", r->error);
    ccip_envelope_free(&r);
    return status;
}

/* 1 when funding.ledger.verify.v1 answers that the ledger verifies. */
static int s_verified(ccip_client *c)
{
    char err[256], id[CCIP_UUID_STRLEN + 1];
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    ccip_uuid_v7(id);
    e.id = id;
    e.type = "funding.ledger.verify.v1";
    e.actor_role = "staff";
    e.actor_id = "bench";
    Ccip__Envelope *r = ccip_client_call(c, "funding", &e, 60000, 1, err, sizeof err);
    Ccip__Funding__VerifyLedgerReply *v =
        r && r->status == 0 ? (Ccip__Funding__VerifyLedgerReply *)ccip_payload_unpack(
                                  &ccip__funding__verify_ledger_reply__descriptor, r->payload.data,
                                  r->payload.len, r->payload.len + 1, err, sizeof err)
                            : NULL;
    int ok = v && v->ok;
    if (v)
        protobuf_c_message_free_unpacked(&v->base, NULL);
    ccip_envelope_free(&r);
    return ok;
}

static void *s_client(void *arg)
{
    (void)arg;
    char err[512];
    ccip_sock_opts so = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    ccip_client *c = ccip_client_new(s_ctx, s_env.commands, &so, err, sizeof err);
    for (long i; c && (i = atomic_fetch_add(&s_next, 1)) < s_total;) {
        Ccip__Funding__ConfirmAwardRequest rq = CCIP__FUNDING__CONFIRM_AWARD_REQUEST__INIT;
        rq.award_id = s_awards[i];
        rq.category = "";
        rq.note = "";
        int status = s_call(c, "funding.award.confirm.v1", &rq.base, err, sizeof err);
        if (status == 0)
            atomic_fetch_add(&s_committed, 1);
        else if (status == CCIP__STATUS__FAILED_PRECONDITION && strstr(err, "insufficient"))
            atomic_fetch_add(&s_refused, 1);
        else {
            atomic_fetch_add(&s_failed, 1);
            fprintf(stderr, "bench funding: confirmation failed: %d %s\n", status, err);
        }
    }
    ccip_client_destroy(&c);
    return NULL;
}

/* Runs pgbench on a single hot row for `seconds` at CLIENTS clients as role
 * ccip_test. Returns its tps, or -1. */
static double s_pgbench(int seconds)
{
    ccip_db *db = ccip_test_db_connect_in("test", "ccip_test");
    if (!db || ccip_db_command(db, "CREATE TABLE IF NOT EXISTS bench_hot (id integer PRIMARY KEY, "
                                   "v bigint NOT NULL); INSERT INTO bench_hot VALUES (1, 0) "
                                   "ON CONFLICT DO NOTHING") != CCIP_DB_OK) {
        fprintf(stderr, "bench funding: could not make the hot row: %s\n",
                db ? ccip_db_error(db) : ccip_test_db_error());
        ccip_db_destroy(&db);
        return -1;
    }
    ccip_db_destroy(&db);
    char script[300], cmd[2048];
    if (ccip_test_pgpassword("test") < 0)
        return -1;
    snprintf(script, sizeof script, "%s/hot.sql", s_env.dir);
    FILE *f = fopen(script, "w");
    if (!f)
        return -1;
    fputs("UPDATE ccip_test.bench_hot SET v = v + 1 WHERE id = 1;\n", f);
    fclose(f);
    const char *bin = getenv("CCIP_PG_BIN") ? getenv("CCIP_PG_BIN") : "/usr/lib/postgresql/15/bin";
    snprintf(cmd, sizeof cmd,
             "'%s/pgbench' -n -M prepared -c %d -j 2 -T %d -f '%s' -h '%s' -p '%s' -U ccip_test "
             "'%s' 2>&1",
             bin, CLIENTS, seconds, script, getenv("CCIP_PGHOST"), getenv("CCIP_PGPORT"),
             getenv("CCIP_PGDATABASE"));
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[512];
    double tps = -1;
    while (fgets(line, sizeof line, p))
        if (strncmp(line, "tps = ", 6) == 0)
            tps = atof(line + 6);
    pclose(p);
    unsetenv("PGPASSWORD");
    if (tps < 0)
        fprintf(stderr, "bench funding: pgbench gave no tps (%s)\n", cmd);
    return tps;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 3000;
    int seconds = argc > 2 ? atoi(argv[2]) : 10;
    if (n < 1 || n + EXTRA > (long)(sizeof s_awards / sizeof s_awards[0]) || seconds < 1) {
        fprintf(stderr, "usage: bench_funding [N (1..%zu)] [PGBENCH_SECONDS]\n",
                sizeof s_awards / sizeof s_awards[0] - EXTRA);
        return 2;
    }
    s_total = n + EXTRA;
    setenv("CCIP_WORKERS", WORKERS, 0); /* unless the caller chose */
    setenv("CCIP_DB_CONNECTIONS", DB_CONNECTIONS, 0);
    setenv("CCIP_BATCH_WAIT_US", BATCH_WAIT_US, 0);
    ccip_test_mem mem[2] = {{.name = "bus"}, {.name = "funding"}};
    if (ccip_test_env_init(&s_env) < 0 || (mem[0].pid = ccip_test_start_bus(&s_env)) < 0 ||
        (mem[1].pid = ccip_test_start_service(&s_env, "services/funding/funding", "funding",
                                              "funding-1")) < 0) {
        fprintf(stderr, "bench funding: could not start the services\n");
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    s_ctx = zmq_ctx_new();
    char err[512], code[33];
    ccip_sock_opts so = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    ccip_client *c = ccip_client_new(s_ctx, s_env.commands, &so, err, sizeof err);
    snprintf(code, sizeof code, "BENCH-%ld", (long)getpid());
    Ccip__Funding__CreateProgrammeRequest cp = CCIP__FUNDING__CREATE_PROGRAMME_REQUEST__INIT;
    cp.code = code;
    cp.name = "bench programme";
    cp.description = "";
    int status = -1;
    for (int i = 0; i < 100 && status != 0; i++) { /* funding migrates first */
        status = s_call(c, "funding.programme.create.v1", &cp.base, err, sizeof err);
        if (status != 0)
            ccip_test_sleep_ms(100);
    }
    Ccip__Funding__SetBudgetRequest sb = CCIP__FUNDING__SET_BUDGET_REQUEST__INIT;
    sb.programme_code = code;
    sb.year = YEAR;
    sb.category = "";
    sb.budget_fen = n * EACH_FEN;
    sb.reason = "bench";
    if (status != 0 ||
        (status = s_call(c, "funding.budget.set.v1", &sb.base, err, sizeof err)) != 0) {
        fprintf(stderr, "bench funding: could not set up the programme: %d %s\n", status, err);
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    for (int i = 0; i < 2; i++) /* idle: started, migrated, answering */
        mem[i].idle_kib = ccip_test_proc_kib(mem[i].pid, "VmRSS");
    /* The proposals, as evaluation's decisions would have made them. */
    ccip_db *db = ccip_test_db_connect_in("funding", "funding");
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO award (id, application_id, decision_event_id, programme_code, year, "
             "grantee_uscc, requested_fen, recommended_fen, amount_fen, status) SELECT "
             "gen_random_uuid(), gen_random_uuid(), gen_random_uuid()::text, '%s', %d, "
             "'91110108MA01BENCH0', %d, %d, %d, 'AWARD_PROPOSED' FROM generate_series(1, %ld)",
             code, YEAR, EACH_FEN, EACH_FEN, EACH_FEN, s_total);
    if (!db || ccip_db_command(db, sql) != CCIP_DB_OK) {
        fprintf(stderr, "bench funding: could not write the proposals: %s\n",
                db ? ccip_db_error(db) : ccip_test_db_error());
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    static const ccip_db_stmt S_IDS = {"bench_ids", "SELECT id FROM award WHERE programme_code = "
                                                    "$1 ORDER BY random()"};
    PGresult *res = NULL;
    const char *cv[] = {code};
    if (ccip_db_exec(db, &S_IDS, 1, cv, NULL, NULL, &res) != CCIP_DB_OK ||
        PQntuples(res) != s_total) {
        fprintf(stderr, "bench funding: could not read the proposals back\n");
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    for (long i = 0; i < s_total; i++)
        snprintf(s_awards[i], sizeof s_awards[i], "%s", PQgetvalue(res, (int)i, 0));
    PQclear(res);

    pthread_t threads[CLIENTS];
    double cpu0 = ccip_test_cpu_busy_s();
    int64_t t0 = ccip_mono_ms();
    for (int i = 0; i < CLIENTS; i++)
        pthread_create(&threads[i], NULL, s_client, NULL);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(threads[i], NULL);
    int64_t ms = ccip_mono_ms() - t0;
    double confirms_per_s = ms > 0 ? (double)s_total * 1000.0 / (double)ms : 0;
    double cpu_ms = (ccip_test_cpu_busy_s() - cpu0) * 1000.0 / (double)s_total;
    for (int i = 0; i < 2; i++) /* peak: under the confirmations */
        mem[i].peak_kib = ccip_test_proc_kib(mem[i].pid, "VmHWM");
    char rss[200] = "";
    ccip_test_mem_text(mem, 2, rss, sizeof rss);

    static const ccip_db_stmt S_COUNT = {
        "bench_count", "SELECT count(*), coalesce(sum(amount_fen), 0)::bigint FROM award "
                       "WHERE programme_code = $1 AND status = 'AWARD_COMMITTED'"};
    long committed = -1;
    long long committed_fen = -1;
    if (ccip_db_exec(db, &S_COUNT, 1, cv, NULL, NULL, &res) == CCIP_DB_OK) {
        committed = atol(PQgetvalue(res, 0, 0));
        committed_fen = atoll(PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    ccip_db_destroy(&db);
    long long overspent = committed_fen - (long long)n * EACH_FEN;
    if (overspent < 0)
        overspent = 0;
    int verified = s_verified(c);
    ccip_client_destroy(&c);
    unsigned long long commands = 0, batches = 0;
    ccip_test_ping_counts(&s_env, "funding", &commands, &batches);
    ccip_test_env_cleanup(&s_env, s_failed > 0);

    double tps = s_pgbench(seconds);
    printf("confirmations: %ld in %lld ms by %d clients: %ld committed, %ld refused "
           "(insufficient budget), %ld failed; ledger %s; funding ran %llu commands in %llu "
           "transactions\n",
           s_total, (long long)ms, CLIENTS, (long)s_committed, (long)s_refused, (long)s_failed,
           verified ? "verifies" : "DOES NOT VERIFY", commands, batches);
    printf("bench funding: confirms_per_s=%.0f pgbench_hot_tps=%.0f ratio=%.2f overspent_fen=%lld "
           "committed=%ld cpu_ms_per_op=%.2f rss_mib=%s\n",
           confirms_per_s, tps, tps > 0 ? confirms_per_s / tps : 0.0, overspent, committed, cpu_ms,
           rss);
    return committed == n && overspent == 0 && s_failed == 0 && verified ? 0 : 1;
}
