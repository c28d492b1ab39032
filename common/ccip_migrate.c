#include "ccip_migrate.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_log.h"

#define MAX_ATTEMPTS     3  /* whole-run attempts when the connection drops */
#define SCHEMA_NAME_MAX  63 /* PostgreSQL's NAMEDATALEN - 1 */
#define CHECKSUM_HEX_LEN 64 /* sha256 as lower-case hex */
#define HEADER_PREFIX    "-- ccip:oldest-compatible-code "
#define STMT_SQL_MAX     512

/* Statements use unqualified names: the run does SET LOCAL search_path to
 * the target schema first. PostgreSQL re-parses a prepared statement when
 * search_path differs from the one it was prepared under (documented under
 * PREPARE since 9.3), so one prepared statement serves every schema. */
static const ccip_db_stmt S_LOCK = {
    "ccip_migrate_lock", "SELECT pg_advisory_xact_lock(hashtext('ccip.migrate.' || $1))"};
/* The checksum is sha256 of the file's bytes as lower-case hex, exactly what
 * `sha256sum NNNN_name.sql` prints; PostgreSQL computes it so that the
 * library carries no hash code of its own. */
static const ccip_db_stmt S_CHECKSUM = {"ccip_migrate_checksum",
                                        "SELECT encode(sha256($1::bytea), 'hex')"};
static const ccip_db_stmt S_LANDED = {
    "ccip_migrate_landed", "SELECT version, name, checksum, oldest_compatible_code"
                           " FROM schema_migrations WHERE component = $1 ORDER BY version"};
static const ccip_db_stmt S_RECORD = {
    "ccip_migrate_record", "INSERT INTO schema_migrations"
                           " (component, version, name, checksum, oldest_compatible_code)"
                           " VALUES ($1, $2, $3, $4, $5)"};

static const char S_CREATE_TABLE[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                     " component text NOT NULL,"
                                     " version int NOT NULL,"
                                     " name text NOT NULL,"
                                     " checksum text NOT NULL,"
                                     " oldest_compatible_code int NOT NULL,"
                                     " applied_at timestamptz NOT NULL DEFAULT now(),"
                                     " PRIMARY KEY (component, version))";

/* Everything one run needs, handed to the transaction function. */
typedef struct {
    ccip_db *db;                        /* connection the run uses */
    const char *schema;                 /* validated schema name */
    const char *component;              /* component whose migrations these are */
    const ccip_migration *list;         /* the binary's migrations, by version */
    size_t count;                       /* entries in list */
    int *oldest;                        /* parsed header of each entry */
    char (*sums)[CHECKSUM_HEX_LEN + 1]; /* checksum of each entry, filled in the run */
    char set_path_sql[STMT_SQL_MAX];    /* SET LOCAL search_path TO "<schema>" */
    ccip_migrate_result result;         /* filled by the run */
    char *err;                          /* caller's buffer */
    size_t errlen;                      /* its size */
    int err_set;                        /* the run wrote err itself */
} s_run;

static int s_fail(s_run *run, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes the run's error and returns rc (so: `return s_fail(run, -1, ...)`). */
static int s_fail(s_run *run, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run->err, run->errlen, fmt, ap);
    va_end(ap);
    run->err_set = 1;
    return rc;
}

/* [a-z_][a-z0-9_]{0,62}: schema names are spliced into SQL (they cannot be
 * parameters), so they are both checked here and quoted. */
static int s_valid_schema(const char *s)
{
    if (!s || !*s || strlen(s) > SCHEMA_NAME_MAX)
        return 0;
    /* explicit ranges: islower() would follow the locale */
    if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return 0;
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    }
    return 1;
}

/* Reads "-- ccip:oldest-compatible-code N" from the first line of sql.
 * Returns N, or -1 when the line is missing or malformed. */
static int s_parse_header(const char *sql)
{
    size_t plen = strlen(HEADER_PREFIX);
    if (strncmp(sql, HEADER_PREFIX, plen) != 0)
        return -1;
    const char *p = sql + plen;
    if (!isdigit((unsigned char)*p))
        return -1;
    long n = 0;
    for (; isdigit((unsigned char)*p); p++) {
        n = n * 10 + (*p - '0');
        if (n > INT_MAX)
            return -1;
    }
    while (*p == ' ' || *p == '\t' || *p == '\r')
        p++;
    if (*p != '\n' && *p != '\0')
        return -1;
    return (int)n;
}

/* Checks the list and reads every header before the database is touched. */
static int s_check_list(s_run *run)
{
    for (size_t i = 0; i < run->count; i++) {
        const ccip_migration *m = &run->list[i];
        if (!m->name || !*m->name || !m->sql)
            return s_fail(run, -1,
                          "could not migrate schema %s: migration %zu of component %s"
                          " has no name or no text",
                          run->schema, i + 1, run->component);
        if (m->version <= 0 || (i > 0 && m->version <= run->list[i - 1].version))
            return s_fail(run, -1,
                          "could not migrate schema %s: migration %s of component %s"
                          " has version %d, which is not above the one before it",
                          run->schema, m->name, run->component, m->version);
        int oldest = s_parse_header(m->sql);
        if (oldest < 0)
            return s_fail(run, -1,
                          "could not migrate schema %s: migration %s.sql of component %s"
                          " does not start with the line \"%sN\"",
                          run->schema, m->name, run->component, HEADER_PREFIX);
        if (oldest < 1 || oldest > m->version)
            return s_fail(run, -1,
                          "could not migrate schema %s: migration %s.sql of component %s"
                          " says oldest compatible code %d, which must be between 1 and its own"
                          " version %d",
                          run->schema, m->name, run->component, oldest, m->version);
        run->oldest[i] = oldest;
    }
    return 0;
}

/* Index of `version` in the list, or -1. */
static long s_find(const s_run *run, int version)
{
    for (size_t i = 0; i < run->count; i++) {
        if (run->list[i].version == version)
            return (long)i;
    }
    return -1;
}

/* Fills run->sums[i]. Returns a ccip_db_rc. */
static int s_checksum(s_run *run, size_t i)
{
    const char *values[] = {run->list[i].sql};
    const int lengths[] = {(int)strlen(run->list[i].sql)};
    const int formats[] = {1};
    PGresult *res = NULL;
    ccip_db_rc rc = ccip_db_exec(run->db, &S_CHECKSUM, 1, values, lengths, formats, &res);
    if (rc != CCIP_DB_OK)
        return s_fail(run, rc, "could not checksum migration %s: %s", run->list[i].name,
                      ccip_db_error(run->db));
    snprintf(run->sums[i], sizeof run->sums[i], "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return CCIP_DB_OK;
}

/* Runs the migration text and records it. Returns a ccip_db_rc. */
static int s_apply_one(s_run *run, size_t i)
{
    const ccip_migration *m = &run->list[i];
    /* The migration text is code-owned DDL carried in the binary, never
     * data, and holds several statements: it is the one place besides
     * ccip_db_command's fixed commands where SQL is sent unparameterised,
     * through the simple query protocol (PQexec inside ccip_db_command). */
    ccip_db_rc rc = ccip_db_command(run->db, m->sql);
    if (rc != CCIP_DB_OK)
        return s_fail(run, rc, "could not apply migration %s of component %s to schema %s: %s",
                      m->name, run->component, run->schema, ccip_db_error(run->db));
    if (PQtransactionStatus(ccip_db_conn(run->db)) != PQTRANS_INTRANS)
        return s_fail(run, -1,
                      "could not apply migration %s of component %s to schema %s: it ended the"
                      " transaction (COMMIT or ROLLBACK in the file), so it cannot be applied"
                      " atomically; remove them",
                      m->name, run->component, run->schema);
    /* A migration may have changed search_path itself: set it back for the
     * bookkeeping below. */
    rc = ccip_db_command(run->db, run->set_path_sql);
    if (rc != CCIP_DB_OK)
        return s_fail(run, rc, "could not set search_path to schema %s: %s", run->schema,
                      ccip_db_error(run->db));
    char version[16], oldest[16];
    snprintf(version, sizeof version, "%d", m->version);
    snprintf(oldest, sizeof oldest, "%d", run->oldest[i]);
    const char *values[] = {run->component, version, m->name, run->sums[i], oldest};
    rc = ccip_db_exec(run->db, &S_RECORD, 5, values, NULL, NULL, NULL);
    if (rc != CCIP_DB_OK)
        return s_fail(run, rc, "could not record migration %s of component %s in schema %s: %s",
                      m->name, run->component, run->schema, ccip_db_error(run->db));
    ccip_log_info("applied migration", "schema", run->schema, "component", run->component,
                  "migration", m->name);
    return CCIP_DB_OK;
}

/* Compares what the database has with the list. Fills result's
 * db_version_before and db_ahead, and landed[i] = 1 for entries already
 * applied. Returns a ccip_db_rc, or -1 to refuse. */
static int s_compare(s_run *run, PGresult *rows, char *landed)
{
    int code = run->result.code_version;
    int db_version = 0, needs = 0;
    for (int r = 0; r < PQntuples(rows); r++) {
        int version = atoi(PQgetvalue(rows, r, 0));
        const char *name = PQgetvalue(rows, r, 1);
        const char *sum = PQgetvalue(rows, r, 2);
        int oldest = atoi(PQgetvalue(rows, r, 3));
        if (version > db_version)
            db_version = version;
        if (version > code) {
            if (oldest > needs)
                needs = oldest;
            continue;
        }
        long i = s_find(run, version);
        if (i < 0)
            return s_fail(run, -1,
                          "could not migrate schema %s: the database has migration %s"
                          " of component %s, which this binary does not carry",
                          run->schema, name, run->component);
        int rc = s_checksum(run, (size_t)i);
        if (rc != CCIP_DB_OK)
            return rc;
        if (strcmp(sum, run->sums[i]) != 0)
            return s_fail(run, -1,
                          "could not migrate schema %s: migration %s of component %s"
                          " differs from the one applied to the database (checksum %.12s..."
                          " applied, %.12s... in this binary); landed migrations are never"
                          " edited: add a new migration instead",
                          run->schema, run->list[i].name, run->component, sum, run->sums[i]);
        landed[i] = 1;
    }
    run->result.db_version_before = db_version;
    if (db_version > code) {
        if (needs > code) {
            char of_component[128] = "";
            if (strcmp(run->component, run->schema) != 0)
                snprintf(of_component, sizeof of_component, " (component %s)", run->component);
            return s_fail(run, -1,
                          "database schema %s%s is at version %d, which needs code"
                          " version %d or newer; this binary is version %d (upgrade the"
                          " binary, or restore the database)",
                          run->schema, of_component, db_version, needs, code);
        }
        run->result.db_ahead = 1;
    }
    for (size_t i = 0; i < run->count; i++) {
        if (!landed[i] && run->list[i].version < db_version)
            return s_fail(run, -1,
                          "could not migrate schema %s: migration %s of component %s"
                          " is not applied, but the later version %d is",
                          run->schema, run->list[i].name, run->component, db_version);
    }
    return CCIP_DB_OK;
}

/* The transaction: lock, make sure the table exists, compare, apply. Keeps
 * no state across attempts except what it resets first. */
static int s_run_tx(ccip_db *db, void *arg)
{
    s_run *run = arg;
    run->err_set = 0;
    int code = run->result.code_version;
    memset(&run->result, 0, sizeof run->result);
    run->result.code_version = code;

    const char *lock_values[] = {run->schema};
    int rc = ccip_db_exec(db, &S_LOCK, 1, lock_values, NULL, NULL, NULL);
    if (rc != CCIP_DB_OK)
        return s_fail(run, rc, "could not lock schema %s for migration: %s", run->schema,
                      ccip_db_error(db));
    rc = ccip_db_command(db, run->set_path_sql);
    if (rc != CCIP_DB_OK)
        return s_fail(run, rc, "could not set search_path to schema %s: %s", run->schema,
                      ccip_db_error(db));
    rc = ccip_db_command(db, S_CREATE_TABLE);
    if (rc != CCIP_DB_OK)
        return s_fail(run, rc, "could not create %s.schema_migrations: %s", run->schema,
                      ccip_db_error(db));

    const char *landed_values[] = {run->component};
    PGresult *rows = NULL;
    rc = ccip_db_exec(db, &S_LANDED, 1, landed_values, NULL, NULL, &rows);
    if (rc != CCIP_DB_OK)
        return s_fail(run, rc, "could not read %s.schema_migrations: %s", run->schema,
                      ccip_db_error(db));
    char *landed = calloc(run->count ? run->count : 1, 1);
    if (!landed) {
        PQclear(rows);
        return s_fail(run, -1, "could not migrate schema %s: out of memory", run->schema);
    }
    rc = s_compare(run, rows, landed);
    PQclear(rows);

    int after = run->result.db_version_before;
    for (size_t i = 0; rc == CCIP_DB_OK && i < run->count; i++) {
        if (landed[i])
            continue;
        rc = s_checksum(run, i);
        if (rc == CCIP_DB_OK)
            rc = s_apply_one(run, i);
        if (rc == CCIP_DB_OK) {
            run->result.applied++;
            if (run->list[i].version > after)
                after = run->list[i].version;
        }
    }
    free(landed);
    run->result.db_version_after = after;
    return rc;
}

int ccip_migrate_run(ccip_db *db, const char *schema, const char *component,
                     const ccip_migration *list, size_t count, ccip_migrate_result *result,
                     char *err, size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    err[0] = '\0';
    s_run run = {.db = db,
                 .schema = schema,
                 .component = component,
                 .list = list,
                 .count = count,
                 .err = err,
                 .errlen = errlen};
    if (!db || !component || !*component || (count > 0 && !list)) {
        snprintf(err, errlen, "could not migrate: invalid arguments");
        return -1;
    }
    if (!s_valid_schema(schema)) {
        snprintf(err, errlen,
                 "could not migrate: schema name \"%s\" is not a lower-case identifier"
                 " ([a-z_][a-z0-9_]{0,62})",
                 schema ? schema : "");
        return -1;
    }
    run.oldest = calloc(count ? count : 1, sizeof *run.oldest);
    run.sums = calloc(count ? count : 1, sizeof *run.sums);
    int rc = -1;
    if (!run.oldest || !run.sums) {
        snprintf(err, errlen, "could not migrate schema %s: out of memory", schema);
        goto done;
    }
    if (s_check_list(&run) < 0)
        goto done;
    run.result.code_version = count ? list[count - 1].version : 0;

    PGconn *conn = ccip_db_conn(db);
    char *quoted = conn ? PQescapeIdentifier(conn, schema, strlen(schema)) : NULL;
    if (!quoted) {
        snprintf(err, errlen, "could not migrate schema %s: no usable database connection", schema);
        goto done;
    }
    snprintf(run.set_path_sql, sizeof run.set_path_sql, "SET LOCAL search_path TO %s", quoted);
    PQfreemem(quoted);

    /* READ COMMITTED on purpose: each statement after the lock sees what a
     * runner that held the lock before us committed. */
    rc = ccip_db_tx(db, CCIP_DB_READ_COMMITTED, MAX_ATTEMPTS, s_run_tx, &run);
    if (rc == 0) {
        if (result)
            *result = run.result;
        if (run.result.db_ahead) {
            char dbv[16], codev[16];
            snprintf(dbv, sizeof dbv, "%d", run.result.db_version_before);
            snprintf(codev, sizeof codev, "%d", run.result.code_version);
            ccip_log_info("database schema is newer than this binary but compatible", "schema",
                          schema, "component", component, "db_version", dbv, "code_version", codev);
        }
        goto done;
    }
    if (!run.err_set)
        snprintf(err, errlen, "could not migrate schema %s: %s", schema, ccip_db_error(db));
    else if (rc == CCIP_DB_RETRYABLE) {
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "%s (gave up after %d attempts)", why, MAX_ATTEMPTS);
    }
    rc = -1;
done:
    free(run.oldest);
    free(run.sums);
    return rc;
}
