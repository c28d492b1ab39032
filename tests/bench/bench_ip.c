/*
 * bench_ip: registrations per second, each a durable, chained, signed
 * registration, against the same PostgreSQL's one-row INSERT; then the
 * verification of the whole chain.
 *
 * Starts a private bus and ip against the PostgreSQL that
 * scripts/bench started. First pgbench runs a one-row INSERT at 8 clients
 * for SECONDS as role ccip_test (pgbench_tps: what the database commits
 * when each transaction is one row). Then 8 clients, each its own front-door
 * connection acting for its own organisation, register works (a fresh
 * SHA-256 each, so every one is appended to the chain and signed) for
 * SECONDS; register_per_s counts committed registrations. ratio =
 * register_per_s / pgbench_tps. Before both (the order of the run),
 * the chain is topped up to 1,000,000
 * records (CCIP_BENCH_IP_CHAIN overrides), made here as valid links and
 * loaded in one COPY (not timed), and `ccipctl ip audit-chain` reads the
 * whole chain through the bus and recomputes every hash and link:
 * chain_verify_per_s = records / the time from starting ccipctl to its
 * verdict (measured here, so its start-up and connecting count; over the
 * few thousand records of the load alone start-up dominated and the figure
 * swung from 52,000 to 174,000 between runs). broken counts the broken
 * links it found.
 *
 * ip runs as an operator would configure a replica that mostly registers:
 * 8 command slots (service.workers, one per client), ONE database
 * connection (service.db_connections) and batches of up to 32
 * (service.batch_max). One connection because every registration ends
 * under the chain head's lock, held to the commit: a second connection
 * lets the next batch run its first statements meanwhile, but splits the
 * commands in hand into two smaller batches that still commit one after
 * the other, and waits for the lock in between (measured, same build: 898
 * registrations/s with two connections, 2,031/s with one). A replica that
 * mostly trades keeps the default of two.
 *
 * With CCIP_BENCH_IP_PROBE=ping the clients send ccip.ping.v1 instead of
 * registrations (the same clients, bus and replica; one trivial read per
 * command): the ceiling the bus and the skeleton put on any command, to
 * tell it from the cost of a registration. The line before the last says
 * how many transactions ip committed for how many commands.
 *
 * Usage: [CCIP_BENCH_IP_PROBE=ping] [CCIP_BENCH_IP_CHAIN=N] bench_ip [SECONDS]
 * Same SQL (issue 22): after the load, pgbench runs
 * tests/bench/pgbench/ip_register.sql, ip's own statements for one
 * registration in one transaction (kept equal to ip's source by ctest
 * bench_pgbench_sql), at CLIENTS clients for SECONDS as role ccip_ip in
 * schema ip: durable (same_sql_tps; same_sql_ratio = register_per_s /
 * it), then with synchronous_commit=off for that session (ceiling_tps,
 * the SQL's cost when commits are free; ceiling_ratio). rows_per_op is the
 * rows inserted per registration, ccip/same SQL, from pg_stat_user_tables
 * (ip stopped first: a backend's counts reach them at its exit); a table
 * whose figures differ by more than 10% is named in rows_differ= and the
 * bench fails. (Updates are printed on stderr, not compared: ip moves the
 * chain head once per batch, pgbench once per registration.)
 *
 * cpu_ms_per_op: the machine's busy CPU (all processes, /proc/stat) during the
 * load per registration. rss_mib: bus:IDLE/PEAK,ip:IDLE/PEAK, the resident
 * size (MiB) once ip answers and the peak (VmHWM) of the load (reset after
 * the audit, whose peak is printed on stderr).
 *
 * Last line: bench ip: register_per_s=… pgbench_tps=… ratio=R chain_verify_per_s=… broken=0
 *            same_sql_tps=… same_sql_ratio=R1 ceiling_tps=… ceiling_ratio=R2
 *            rows_per_op=C/S cpu_ms_per_op=… rss_mib=bus:I/P,ip:I/P
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/ip.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test.h"
#include "ccip_test_db.h"
#include "ccip_test_pgbench.h"
#include "ccip_test_proc.h"
#include "ip_chain.h"

#define CLIENTS 8
/* ip's settings, as an operator of a registry would set them (see the
 * head of this file). */
#define WORKERS        "8"  /* command slots: one per client, so none waits at the broker */
#define DB_CONNECTIONS "1"  /* the chain serialises registrations: see above */
#define BATCH_MAX      "32" /* more than the clients: never splits what is queued */
/* service.batch_wait_us: a batch waits this long for the clients it just
 * answered (measured: 0 us ~2,000-2,060/s at 4 registrations a transaction,
 * 400-500 us ~2,240/s at 7; 1,000 us slower, 1,480/s). */
#define BATCH_WAIT_US "500"

static ccip_test_env s_env;
static void *s_ctx;
static int64_t s_until_us;
static atomic_long s_ok, s_failed;
static int s_probe; /* CCIP_BENCH_IP_PROBE=ping: clients send ccip.ping.v1 instead */

/* A valid party "org:<USCC>" for client i of this run. */
static void s_org(int i, char out[32])
{
    static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    char code[19];
    snprintf(code, sizeof code, "91110105%09ld", ((long)getpid() * 100 + i) % 1000000000L);
    int sum = 0;
    for (int k = 0; k < 17; k++)
        sum += (int)(strchr(cs, code[k]) - cs) * w[k];
    code[17] = cs[(31 - sum % 31) % 31];
    code[18] = '\0';
    snprintf(out, 32, "org:%s", code);
}

static void *s_client(void *arg)
{
    int i = (int)(long)arg;
    char err[256], org[32], hex[65], id[CCIP_UUID_STRLEN + 1];
    s_org(i, org);
    ccip_sock_opts so = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    ccip_client *c = ccip_client_new(s_ctx, s_env.commands, &so, err, sizeof err);
    if (!c)
        return NULL;
    uint8_t buf[512];
    while (ccip_now_us() < s_until_us) {
        /* A fresh content hash: two UUIDv4s' worth of randomness. */
        char a[CCIP_UUID_STRLEN + 1], b[CCIP_UUID_STRLEN + 1];
        ccip_uuid_v4(a);
        ccip_uuid_v4(b);
        int n = 0;
        for (const char *p = a; *p && n < 32; p++)
            if (*p != '-')
                hex[n++] = *p;
        for (const char *p = b; *p && n < 64; p++)
            if (*p != '-')
                hex[n++] = *p;
        hex[64] = '\0';
        Ccip__Ip__RegisterWorkRequest rq = CCIP__IP__REGISTER_WORK_REQUEST__INIT;
        rq.kind = CCIP__IP__WORK_KIND__COPYRIGHT_SOFTWARE;
        rq.title = "bench work";
        rq.created_on = "2026-01-01";
        rq.content_sha256 = hex;
        ccip_uuid_v7(id);
        Ccip__Envelope e = CCIP__ENVELOPE__INIT;
        e.id = id;
        e.type = "ip.work.register.v1";
        e.actor_role = "owner";
        e.actor_id = org;
        e.payload.data = buf;
        e.payload.len = ccip__ip__register_work_request__pack(&rq, buf);
        if (s_probe) {
            e.type = "ccip.ping.v1";
            e.payload.len = 0;
        }
        Ccip__Envelope *r = ccip_client_call(c, "ip", &e, 5000, 3, err, sizeof err);
        if (r && r->status == 0)
            atomic_fetch_add(&s_ok, 1);
        else {
            if (atomic_fetch_add(&s_failed, 1) < 3)
                fprintf(stderr, "bench ip: register failed: %s\n", r ? r->error : err);
        }
        ccip_envelope_free(&r);
    }
    ccip_client_destroy(&c);
    return NULL;
}

/* Pings ip until it answers (up to 30 s). Returns 0 or -1. */
static int s_ping(void)
{
    char err[256], id[CCIP_UUID_STRLEN + 1];
    ccip_sock_opts so = {.keys = &s_env.client_keys, .server_public = s_env.bus_keys.public_key};
    ccip_client *c = ccip_client_new(s_ctx, s_env.commands, &so, err, sizeof err);
    int rc = -1;
    for (int i = 0; c && i < 30 && rc < 0; i++) {
        ccip_uuid_v7(id);
        Ccip__Envelope e = CCIP__ENVELOPE__INIT;
        e.id = id;
        e.type = "ccip.ping.v1";
        Ccip__Envelope *r = ccip_client_call(c, "ip", &e, 1000, 1, err, sizeof err);
        if (r && r->status == 0)
            rc = 0;
        ccip_envelope_free(&r);
    }
    ccip_client_destroy(&c);
    return rc;
}

/* pgbench's one-row INSERT at CLIENTS clients for `seconds`, as ccip_test.
 * Returns its tps, or -1. */
static double s_pgbench(int seconds)
{
    ccip_db *db = ccip_test_db_connect_in("test", "ccip_test");
    if (!db || ccip_db_command(db, "CREATE TABLE IF NOT EXISTS bench_insert (id bigserial "
                                   "PRIMARY KEY, v text NOT NULL)") != CCIP_DB_OK) {
        fprintf(stderr, "bench ip: could not make the table: %s\n",
                db ? ccip_db_error(db) : ccip_test_db_error());
        ccip_db_destroy(&db);
        return -1;
    }
    ccip_db_destroy(&db);
    char script[400], cmd[2048];
    if (ccip_test_pgpassword("test") < 0)
        return -1;
    if (ccip_test_write_file(s_env.dir, "insert.sql",
                             "INSERT INTO ccip_test.bench_insert (v) VALUES ('one row');\n") < 0)
        return -1;
    snprintf(script, sizeof script, "%s/insert.sql", s_env.dir);
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
        fprintf(stderr, "bench ip: pgbench gave no tps (%s)\n", cmd);
    return tps;
}

/* ---- the chain the audit verifies --------------------------------------------------- */

#define CHAIN_RECORDS_DEFAULT 1000000
#define COPY_CHUNK            (1 << 20) /* bytes handed to libpq at a time */

/* Appends "\\x<hex>" (a bytea in COPY's text format) to p. */
static char *s_copy_bytea(char *p, const uint8_t *b, size_t n)
{
    memcpy(p, "\\\\x", 3);
    ip_hex(b, n, p + 3);
    return p + 3 + 2 * n;
}

/* Tops the chain up to `target` records after the load, in one COPY, as
 * the schema's owner: each record a valid link (its prev_hash the last
 * record's hash, its hash recomputed here with ip_chain_hash), then the
 * head moved to the last. The signatures are 64 zero bytes: the audit runs
 * without --key (as an auditor without the platform's keys would), and
 * signing a million records would time the bench, not the verifier.
 * Returns the records added, or -1. */
static long s_fill_chain(long target)
{
    ccip_db *db = ccip_test_db_connect_owner("ip");
    PGconn *pg = db ? ccip_db_conn(db) : NULL;
    PGresult *r = pg ? PQexec(pg, "BEGIN; SELECT seq, encode(hash, 'hex') FROM chain_head "
                                  "FOR UPDATE")
                     : NULL;
    long added = -1;
    char *buf = malloc(COPY_CHUNK + 4096);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || !buf) {
        fprintf(stderr, "bench ip: could not read the chain head: %s\n",
                pg ? PQerrorMessage(pg) : ccip_test_db_error());
        goto out;
    }
    uint64_t seq = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    ip_chain_record rec = {0};
    if (ip_unhex(PQgetvalue(r, 0, 1), rec.prev_hash, IP_HASH_LEN) < 0)
        goto out;
    PQclear(r);
    r = PQexec(pg, "COPY chain (seq, prev_hash, hash, work_id, kind, title, owner_parties, "
                   "owner_shares, creators, created_on, content_sha256, registered_at_us, "
                   "registrant, key_id, signature) FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        fprintf(stderr, "bench ip: COPY refused: %s\n", PQerrorMessage(pg));
        goto out;
    }
    char org[32], work_id[CCIP_UUID_STRLEN + 1];
    s_org(CLIENTS, org);
    ip_chain_owner own = {.party = org, .share_bp = 10000};
    static const uint8_t zero_sig[64];
    rec.work_id = work_id;
    rec.kind = "COPYRIGHT_SOFTWARE";
    rec.title = "bench work";
    rec.owners = &own;
    rec.nowners = 1;
    rec.created_on = "2026-01-01";
    rec.registrant = org;
    rec.key_id = "0000000000000000";
    int64_t now = ccip_now_us();
    size_t len = 0;
    long n = 0;
    for (uint64_t s = seq + 1; s <= (uint64_t)target; s++, n++) {
        uint8_t h[IP_HASH_LEN];
        rec.seq = s;
        ccip_uuid_v4(work_id);
        randombytes_buf(rec.content_sha256, IP_HASH_LEN);
        rec.registered_at_us = now + (int64_t)n;
        if (ip_chain_hash(&rec, h) < 0)
            goto copy_fail;
        char *p = buf + len;
        p += sprintf(p, "%" PRIu64 "\t", s);
        p = s_copy_bytea(p, rec.prev_hash, IP_HASH_LEN);
        *p++ = '\t';
        p = s_copy_bytea(p, h, IP_HASH_LEN);
        p += sprintf(p, "\t%s\t%s\t%s\t{%s}\t{%u}\t{}\t%s\t", work_id, rec.kind, rec.title, org,
                     own.share_bp, rec.created_on);
        p = s_copy_bytea(p, rec.content_sha256, IP_HASH_LEN);
        p += sprintf(p, "\t%" PRId64 "\t%s\t%s\t", rec.registered_at_us, org, rec.key_id);
        p = s_copy_bytea(p, zero_sig, sizeof zero_sig);
        *p++ = '\n';
        len = (size_t)(p - buf);
        memcpy(rec.prev_hash, h, IP_HASH_LEN);
        if (len >= COPY_CHUNK) {
            if (PQputCopyData(pg, buf, (int)len) != 1)
                goto copy_fail;
            len = 0;
        }
    }
    if ((len && PQputCopyData(pg, buf, (int)len) != 1) || PQputCopyEnd(pg, NULL) != 1)
        goto copy_fail;
    PQclear(r);
    r = PQgetResult(pg);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        goto copy_fail;
    while (PQgetResult(pg) != NULL) /* COPY's end */
        ;
    PQclear(r);
    char hex[IP_HASH_HEX + 1], sql[300];
    ip_hex(rec.prev_hash, IP_HASH_LEN, hex);
    /* numbers and hex made here, nothing from outside */
    snprintf(sql, sizeof sql,
             "UPDATE chain_head SET seq = %" PRIu64 ", hash = decode('%s', 'hex'); COMMIT; "
             "ANALYZE chain",
             seq + (uint64_t)n, hex);
    r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "bench ip: could not move the chain head: %s\n", PQerrorMessage(pg));
        goto out;
    }
    added = n;
    goto out;
copy_fail:
    fprintf(stderr, "bench ip: could not load the chain: %s\n", PQerrorMessage(pg));
out:
    PQclear(r);
    free(buf);
    ccip_db_destroy(&db);
    return added;
}

/* Runs `ccipctl --json ip audit-chain` as staff; fills its rate (records
 * over the time from the process's start to its verdict, both measured
 * here: start-up and connecting count) and whether the chain is intact.
 * Returns 0 or -1. */
static int s_audit(double *per_s, long *records, int *intact)
{
    char cmd[2048], out[4096];
    snprintf(cmd, sizeof cmd,
             "CCIP_BUS_COMMANDS=%s CCIP_CURVE_KEY_FILE=%s/allowed/ccipctl.key "
             "CCIP_CURVE_SERVER_KEY_FILE=%s/keys/bus.pub %s/cli/ccipctl --timeout 30000 --json "
             "--role staff --actor staff:bench ip audit-chain",
             s_env.commands, s_env.dir, s_env.dir, getenv("CCIP_BINARY_DIR"));
    double t0 = ccip_test_mono_s();
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    double dt = ccip_test_mono_s() - t0;
    const char *rate = strstr(out, "\"records_per_s\":");
    const char *recs = strstr(out, "\"records\":");
    if (!rate || !recs) {
        fprintf(stderr, "bench ip: audit-chain said: %s\n", out);
        return -1;
    }
    *records = atol(recs + strlen("\"records\":"));
    *per_s = dt > 0 ? (double)*records / dt : 0;
    fprintf(stderr, "bench ip: audit-chain: %ld records in %.2f s (%.0f/s by its own clock)\n",
            *records, dt, atof(rate + strlen("\"records_per_s\":")));
    *intact = strstr(out, "\"intact\":true") != NULL;
    if (!*intact)
        fprintf(stderr, "bench ip: audit-chain: %s\n", out);
    return 0;
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 10;
    if (seconds < 1) {
        fprintf(stderr, "usage: bench_ip [SECONDS]\n");
        return 2;
    }
    setenv("CCIP_WORKERS", WORKERS, 1);
    setenv("CCIP_DB_CONNECTIONS", DB_CONNECTIONS, 1);
    setenv("CCIP_BATCH_MAX", BATCH_MAX, 1);
    setenv("CCIP_BATCH_WAIT_US", BATCH_WAIT_US, 0); /* unless the caller chose */
    s_probe = getenv("CCIP_BENCH_IP_PROBE") && strcmp(getenv("CCIP_BENCH_IP_PROBE"), "ping") == 0;
    if (ccip_test_env_init(&s_env) < 0) {
        fprintf(stderr, "bench ip: could not make keys\n");
        return 1;
    }
    char cmd[1200], key[400];
    snprintf(cmd, sizeof cmd, "%s/cli/ccipctl ip keygen ip-signing --dir %s >/dev/null",
             getenv("CCIP_BINARY_DIR"), s_env.dir);
    snprintf(key, sizeof key, "%s/ip-signing.key", s_env.dir);
    setenv("CCIP_IP_SIGNING_KEY_FILE", key, 1);
    ccip_test_mem mem[2] = {{.name = "bus"}, {.name = "ip"}};
    if (system(cmd) != 0 || (mem[0].pid = ccip_test_start_bus(&s_env)) < 0 ||
        (mem[1].pid = ccip_test_start_service(&s_env, "services/ip/ip", "ip", "ip-1")) < 0) {
        fprintf(stderr, "bench ip: could not start the services\n");
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    /* Wait until ip has migrated and serves: it answers a ping. */
    s_ctx = zmq_ctx_new();
    if (s_ping() < 0) {
        fprintf(stderr, "bench ip: ip did not answer\n");
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }

    for (int i = 0; i < 2; i++) /* idle: started, migrated, answering */
        mem[i].idle_kib = ccip_test_proc_kib(mem[i].pid, "VmRSS");

    /* 1. the chain audit, over a chain the bench makes (before the load: the
     * same-SQL run at the end appends records whose hashes are not real) */
    const char *chain_env = getenv("CCIP_BENCH_IP_CHAIN");
    long chain = chain_env ? atol(chain_env) : CHAIN_RECORDS_DEFAULT;
    double fill_t0 = ccip_test_mono_s();
    long filled = s_probe ? 0 : s_fill_chain(chain);
    if (filled < 0) {
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    fprintf(stderr, "bench ip: %ld chain records loaded in %.1f s (COPY)\n", filled,
            ccip_test_mono_s() - fill_t0);
    double verify_per_s = 0;
    long records = 0;
    int intact = 0;
    int audited = s_probe || s_audit(&verify_per_s, &records, &intact) == 0;
    fprintf(stderr, "bench ip: ip's peak resident size after the audit: %.1f MiB\n",
            (double)ccip_test_proc_kib(mem[1].pid, "VmHWM") / 1024.0);
    for (int i = 0; i < 2; i++) /* the load's peak, not the audit's */
        ccip_test_proc_reset_peak(mem[i].pid);

    /* 2. the one-row INSERT */
    double tps = s_pgbench(seconds);

    /* 3. ccip's registrations */
    ccip_test_rows r0, r1, r2, r3, r4;
    int rows_ok = ccip_test_rows_read("ip", "ip", &r0) == 0;
    double cpu0 = ccip_test_cpu_busy_s();
    s_until_us = ccip_now_us() + (int64_t)seconds * 1000000;
    double t0 = ccip_test_mono_s();
    pthread_t t[CLIENTS];
    for (long i = 0; i < CLIENTS; i++)
        pthread_create(&t[i], NULL, s_client, (void *)i);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(t[i], NULL);
    double elapsed = ccip_test_mono_s() - t0;
    double per_s = (double)atomic_load(&s_ok) / elapsed;
    double cpu_ms = (ccip_test_cpu_busy_s() - cpu0) * 1000.0 /
                    (double)(atomic_load(&s_ok) > 0 ? atomic_load(&s_ok) : 1);
    for (int i = 0; i < 2; i++) /* peak: under the load */
        mem[i].peak_kib = ccip_test_proc_kib(mem[i].pid, "VmHWM");
    char rss[200] = "";
    ccip_test_mem_text(mem, 2, rss, sizeof rss);

    unsigned long long commands = 0, batches = 0;
    ccip_test_ping_counts(&s_env, "ip", &commands, &batches);
    /* stopped before the rows are counted: a backend's counts reach
     * pg_stat_user_tables at its exit, an idle one's only within 10 s */
    ccip_test_env_cleanup(&s_env, atomic_load(&s_failed) > 0 || !audited || (!s_probe && !intact));
    rows_ok &= ccip_test_rows_read("ip", "ip", &r1) == 0;
    if (tps <= 0 || !audited)
        return 1;
    printf("%s: %ld %s, %ld failed, %ld chain records verified; ip ran %llu commands in %llu "
           "transactions\n",
           s_probe ? "pings" : "registrations", atomic_load(&s_ok),
           s_probe ? "answered" : "committed", atomic_load(&s_failed), records, commands, batches);
    if (s_probe) {
        printf("bench ip probe: ping_per_s=%.0f pgbench_tps=%.0f ratio=%.2f cpu_ms_per_op=%.2f "
               "rss_mib=%s\n",
               per_s, tps, per_s / tps, cpu_ms, rss);
        return 0;
    }

    /* 4. the same SQL, one transaction per registration, durable and with
     * commits free (tests/bench/pgbench/ip_register.sql) */
    char script[600];
    const char *src = getenv("CCIP_SOURCE_DIR") ? getenv("CCIP_SOURCE_DIR") : CCIP_SOURCE_DEFAULT;
    snprintf(script, sizeof script, "%s/tests/bench/pgbench/ip_register.sql", src);
    long same_tx = 0, free_tx = 0;
    rows_ok &= ccip_test_rows_read("ip", "ip", &r2) == 0;
    double same_tps = ccip_test_pgbench("ip", "ip", script, CLIENTS, seconds, 0, &same_tx);
    rows_ok &= ccip_test_rows_read("ip", "ip", &r3) == 0;
    double free_tps = ccip_test_pgbench("ip", "ip", script, CLIENTS, seconds, 1, &free_tx);
    rows_ok &= ccip_test_rows_read("ip", "ip", &r4) == 0;
    if (same_tps <= 0 || free_tps <= 0 || !rows_ok)
        return 1;
    char per_op[64], differs[400], per_op_free[64], differs_free[400];
    int agree =
        ccip_test_rows_compare(&r0, &r1, (double)atomic_load(&s_ok), &r2, &r3, (double)same_tx,
                               per_op, sizeof per_op, differs, sizeof differs);
    agree &=
        ccip_test_rows_compare(&r0, &r1, (double)atomic_load(&s_ok), &r3, &r4, (double)free_tx,
                               per_op_free, sizeof per_op_free, differs_free, sizeof differs_free);
    if (!agree)
        fprintf(stderr, "bench ip: rows per registration differ by more than 10%%: %s %s\n",
                differs, differs_free);
    printf("bench ip: register_per_s=%.0f pgbench_tps=%.0f ratio=%.2f chain_verify_per_s=%.0f "
           "broken=%d same_sql_tps=%.0f same_sql_ratio=%.2f ceiling_tps=%.0f ceiling_ratio=%.2f "
           "rows_per_op=%s%s%s cpu_ms_per_op=%.2f rss_mib=%s\n",
           per_s, tps, per_s / tps, verify_per_s, intact ? 0 : 1, same_tps, per_s / same_tps,
           free_tps, per_s / free_tps, per_op, agree ? "" : " rows_differ=", agree ? "" : differs,
           cpu_ms, rss);
    return agree ? 0 : 1;
}
