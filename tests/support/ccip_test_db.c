#include "ccip_test_db.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ccip_migrate.h"

CCIP_MIGRATIONS_DECLARE(ccip);

#define HINT "run the integration tests through scripts/test, which starts PostgreSQL"

static char s_error[2048];

const char *ccip_test_db_error(void)
{
    return s_error;
}

/* Appends `key='value'` to buf, quoting as libpq's conninfo wants. */
static int s_put(char *buf, size_t len, size_t *used, const char *key, const char *value)
{
    int n = snprintf(buf + *used, len - *used, "%s%s='", *used ? " " : "", key);
    if (n < 0 || (size_t)n >= len - *used)
        return -1;
    *used += (size_t)n;
    for (const char *p = value; *p; p++) {
        if (*used + 3 >= len)
            return -1;
        if (*p == '\'' || *p == '\\')
            buf[(*used)++] = '\\';
        buf[(*used)++] = *p;
    }
    if (*used + 2 > len)
        return -1;
    buf[(*used)++] = '\'';
    buf[*used] = '\0';
    return 0;
}

static const char *s_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        snprintf(s_error, sizeof s_error, "%s is not set: %s", name, HINT);
        return NULL;
    }
    return v;
}

int ccip_test_conninfo(const char *svc, char *buf, size_t len)
{
    const char *host = s_env("CCIP_PGHOST");
    const char *port = host ? s_env("CCIP_PGPORT") : NULL;
    const char *dbname = port ? s_env("CCIP_PGDATABASE") : NULL;
    const char *secrets = dbname ? s_env("CCIP_SECRETS_DIR") : NULL;
    if (!secrets)
        return -1;

    char path[1024];
    snprintf(path, sizeof path, "%s/db-%s.password", secrets, svc);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(s_error, sizeof s_error, "could not read %s: %s", path, HINT);
        return -1;
    }
    char password[256] = "";
    char *ok = fgets(password, sizeof password, f);
    fclose(f);
    password[strcspn(password, "\r\n")] = '\0';
    if (!ok || !*password) {
        snprintf(s_error, sizeof s_error, "password file %s is empty: %s", path, HINT);
        return -1;
    }

    char user[128], app[128];
    snprintf(user, sizeof user, "ccip_%s", svc);
    snprintf(app, sizeof app, "ccip-test-%s", svc);
    size_t used = 0;
    if (s_put(buf, len, &used, "host", host) < 0 || s_put(buf, len, &used, "port", port) < 0 ||
        s_put(buf, len, &used, "dbname", dbname) < 0 || s_put(buf, len, &used, "user", user) < 0 ||
        s_put(buf, len, &used, "password", password) < 0 ||
        s_put(buf, len, &used, "application_name", app) < 0) {
        snprintf(s_error, sizeof s_error, "conninfo for %s does not fit in %zu bytes", user, len);
        return -1;
    }
    return 0;
}

ccip_db *ccip_test_db_connect(const char *svc)
{
    return ccip_test_db_connect_in(svc, NULL);
}

ccip_db *ccip_test_db_connect_in(const char *svc, const char *schema)
{
    char ci[2048];
    if (ccip_test_conninfo(svc, ci, sizeof ci) < 0)
        return NULL;
    if (schema) {
        size_t used = strlen(ci);
        char opt[256];
        /* options set here replace ccip_db's own (ccip_db.h): keep them, so
         * that tests and benches run with the services' settings (jit=off) */
        snprintf(opt, sizeof opt, "-csearch_path=%s " CCIP_DB_SESSION_OPTIONS, schema);
        if (s_put(ci, sizeof ci, &used, "options", opt) < 0)
            return NULL;
    }
    char err[512];
    ccip_db *db = ccip_db_new(ci, err, sizeof err);
    if (!db)
        snprintf(s_error, sizeof s_error, "could not connect as ccip_%s: %s", svc, err);
    return db;
}

ccip_db *ccip_test_db_connect_owner(const char *svc)
{
    const char *secrets = s_env("CCIP_SECRETS_DIR");
    if (!secrets)
        return NULL;
    char path[1024], owner[128];
    snprintf(path, sizeof path, "%s/db-%s_owner.password", secrets, svc);
    snprintf(owner, sizeof owner, "%s_owner", svc);
    /* a missing file means no owner role; one that is there must work */
    return ccip_test_db_connect_in(access(path, R_OK) == 0 ? owner : svc, svc);
}

int ccip_test_schema_new(ccip_db *db, const char *prefix, char *name, size_t len)
{
    static int counter;
    int n = snprintf(name, len, "%s_%ld_%d", prefix, (long)getpid(), ++counter);
    if (n < 0 || (size_t)n >= len)
        return -1;
    /* Test code: the name is built from a literal prefix and numbers only, and
     * is quoted anyway. */
    char *quoted = PQescapeIdentifier(ccip_db_conn(db), name, strlen(name));
    if (!quoted)
        return -1;
    char sql[512];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s", quoted, quoted);
    PQfreemem(quoted);
    if (ccip_db_command(db, sql) != CCIP_DB_OK) {
        snprintf(s_error, sizeof s_error, "could not create schema %s: %s", name,
                 ccip_db_error(db));
        return -1;
    }
    return 0;
}

int ccip_test_schema_drop(ccip_db *db, const char *name)
{
    char *quoted = PQescapeIdentifier(ccip_db_conn(db), name, strlen(name));
    if (!quoted)
        return -1;
    char sql[512];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", quoted);
    PQfreemem(quoted);
    if (ccip_db_command(db, sql) != CCIP_DB_OK) {
        snprintf(s_error, sizeof s_error, "could not drop schema %s: %s", name, ccip_db_error(db));
        return -1;
    }
    return 0;
}

long long ccip_test_db_number(ccip_db *db, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    PGresult *res = PQexec(ccip_db_conn(db), sql); /* test-owned SQL, see the header */
    long long v = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        v = atoll(PQgetvalue(res, 0, 0));
    else
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(ccip_db_conn(db)));
    PQclear(res);
    return v;
}

int ccip_test_ccip_schema_new(ccip_test_ccip_schema *s, const char *prefix)
{
    memset(s, 0, sizeof *s);
    char ci[1024], err[512];
    s->owner = ccip_test_db_connect("test");
    if (!s->owner || ccip_test_schema_new(s->owner, prefix, s->schema, sizeof s->schema) < 0 ||
        !(s->db = ccip_test_db_connect_in("test", s->schema)) ||
        ccip_test_conninfo("test", ci, sizeof ci) < 0)
        goto err;
    /* The schema name is made of a literal prefix and numbers (see
     * ccip_test_schema_new): nothing to quote. */
    snprintf(s->conninfo, sizeof s->conninfo, "%s options='-csearch_path=%s'", ci, s->schema);
    if (ccip_migrate_run(s->db, s->schema, "ccip", ccip_migrations, ccip_migrations_count, NULL,
                         err, sizeof err) < 0) {
        snprintf(s_error, sizeof s_error, "could not migrate %s: %s", s->schema, err);
        goto err;
    }
    return 0;
err:
    ccip_test_ccip_schema_drop(s);
    return -1;
}

void ccip_test_ccip_schema_drop(ccip_test_ccip_schema *s)
{
    ccip_db_destroy(&s->db);
    if (s->owner && s->schema[0])
        ccip_test_schema_drop(s->owner, s->schema);
    s->schema[0] = '\0';
    ccip_db_destroy(&s->owner);
}
