#include "ccip_test_pgbench.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccip_db.h"
#include "ccip_test_db.h"

int ccip_test_rows_read(const char *svc, const char *schema, ccip_test_rows *out)
{
    /* A backend sends its counts at most once a second, and at its exit. */
    usleep(1200 * 1000);
    memset(out, 0, sizeof *out);
    ccip_db *db = ccip_test_db_connect(svc);
    static const ccip_db_stmt S_ROWS = {
        "ccip_test_rows", "SELECT relname, n_tup_ins, n_tup_upd FROM pg_stat_user_tables "
                          "WHERE schemaname = $1 ORDER BY relname"};
    PGresult *res = NULL;
    const char *v[] = {schema};
    if (!db || ccip_db_exec(db, &S_ROWS, 1, v, NULL, NULL, &res) != CCIP_DB_OK) {
        fprintf(stderr, "ccip_test_rows_read: %s\n", db ? ccip_db_error(db) : ccip_test_db_error());
        ccip_db_destroy(&db);
        return -1;
    }
    for (int i = 0; i < PQntuples(res) && out->n < CCIP_TEST_ROWS_TABLES; i++, out->n++) {
        snprintf(out->t[out->n].name, sizeof out->t[out->n].name, "%s", PQgetvalue(res, i, 0));
        out->t[out->n].ins = atoll(PQgetvalue(res, i, 1));
        out->t[out->n].upd = atoll(PQgetvalue(res, i, 2));
    }
    PQclear(res);
    ccip_db_destroy(&db);
    return 0;
}

/* Inserted rows of table `name` between r0 and r1 (0 when absent). */
static long long s_ins(const ccip_test_rows *r0, const ccip_test_rows *r1, const char *name,
                       int upd)
{
    long long a = 0, b = 0;
    for (int i = 0; i < r0->n; i++)
        if (strcmp(r0->t[i].name, name) == 0)
            a = upd ? r0->t[i].upd : r0->t[i].ins;
    for (int i = 0; i < r1->n; i++)
        if (strcmp(r1->t[i].name, name) == 0)
            b = upd ? r1->t[i].upd : r1->t[i].ins;
    return b - a;
}

int ccip_test_rows_compare(const ccip_test_rows *a0, const ccip_test_rows *a1, double ops_a,
                           const ccip_test_rows *b0, const ccip_test_rows *b1, double ops_b,
                           char *per_op, size_t per_op_len, char *differs, size_t differs_len)
{
    double ta = 0, tb = 0;
    int ok = 1;
    differs[0] = '\0';
    for (int i = 0; i < a1->n; i++) {
        const char *name = a1->t[i].name;
        double ra = ops_a > 0 ? (double)s_ins(a0, a1, name, 0) / ops_a : 0;
        double rb = ops_b > 0 ? (double)s_ins(b0, b1, name, 0) / ops_b : 0;
        double ua = ops_a > 0 ? (double)s_ins(a0, a1, name, 1) / ops_a : 0;
        double ub = ops_b > 0 ? (double)s_ins(b0, b1, name, 1) / ops_b : 0;
        if (ra == 0 && rb == 0 && ua == 0 && ub == 0)
            continue;
        ta += ra;
        tb += rb;
        fprintf(stderr,
                "rows per operation, %-28s inserted: ccip %.3f, same SQL %.3f; updated: ccip "
                "%.3f, same SQL %.3f\n",
                name, ra, rb, ua, ub);
        double hi = ra > rb ? ra : rb, lo = ra > rb ? rb : ra;
        if (hi > 0 && lo < 0.9 * hi) {
            ok = 0;
            size_t used = strlen(differs);
            snprintf(differs + used, differs_len - used, "%s%s:%.2f/%.2f", used ? "," : "", name,
                     ra, rb);
        }
    }
    snprintf(per_op, per_op_len, "%.2f/%.2f", ta, tb);
    return ok;
}

int ccip_test_pgpassword(const char *svc)
{
    char path[400], pw[256] = "";
    snprintf(path, sizeof path, "%s/db-%s.password", getenv("CCIP_SECRETS_DIR"), svc);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(pw, sizeof pw, f)) {
        fprintf(stderr, "could not read the password of ccip_%s from %s\n", svc, path);
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    pw[strcspn(pw, "\r\n")] = '\0';
    setenv("PGPASSWORD", pw, 1);
    return 0;
}

double ccip_test_pgbench(const char *svc, const char *schema, const char *script, int clients,
                         int seconds, int commits_free, long *transactions)
{
    char cmd[3000], opts[200];
    if (ccip_test_pgpassword(svc) < 0)
        return -1;
    snprintf(opts, sizeof opts, "-c search_path=%s %s%s", schema, CCIP_DB_SESSION_OPTIONS,
             commits_free ? " -c synchronous_commit=off" : "");
    setenv("PGOPTIONS", opts, 1);
    const char *bin = getenv("CCIP_PG_BIN") ? getenv("CCIP_PG_BIN") : "/usr/lib/postgresql/15/bin";
    snprintf(cmd, sizeof cmd,
             "'%s/pgbench' -n -M prepared -c %d -j 2 -T %d -f '%s' -h '%s' -p '%s' -U ccip_%s "
             "'%s' 2>&1",
             bin, clients, seconds, script, getenv("CCIP_PGHOST"), getenv("CCIP_PGPORT"), svc,
             getenv("CCIP_PGDATABASE"));
    FILE *p = popen(cmd, "r");
    double tps = -1;
    long tx = 0;
    char line[1024], last[4][1024] = {{0}};
    int nl = 0;
    while (p && fgets(line, sizeof line, p)) {
        snprintf(last[nl++ % 4], sizeof last[0], "%s", line);
        if (strncmp(line, "tps = ", 6) == 0)
            tps = atof(line + 6);
        if (strncmp(line, "number of transactions actually processed: ", 43) == 0)
            tx = atol(line + 43);
    }
    if (p)
        pclose(p);
    unsetenv("PGPASSWORD");
    unsetenv("PGOPTIONS");
    if (tps < 0) {
        fprintf(stderr, "ccip_test_pgbench: no tps from %s; it said:\n", cmd);
        for (int i = 0; i < 4; i++)
            fputs(last[(nl + i) % 4], stderr);
    }
    if (transactions)
        *transactions = tx;
    return tps;
}
