#include "ccip_db.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_shutdown.h"

#define ERR_MAX                 512
#define RECONNECT_FIRST_MS      50    /* first wait between reconnect attempts */
#define RECONNECT_CAP_MS        2000  /* waits double up to this */
#define TX_RECONNECT_TIMEOUT_MS 10000 /* how long ccip_db_tx waits for the database */
#define TX_BACKOFF_FIRST_MS     10    /* first wait before a transaction is retried */
#define TX_BACKOFF_CAP_MS       500   /* transaction retry waits double up to this */
/* Seconds a connection attempt may take before the caller's backoff tries
 * again, unless the conninfo or libpq's own PGCONNECT_TIMEOUT says
 * otherwise (test_valgrind sets it: under valgrind SCRAM alone takes
 * seconds). */
#define DEFAULT_CONNECT_TIMEOUT "5"
/* A cut link must break a connection, so that its owner re-opens it (with
 * backoff) instead of waiting on a socket that TCP would keep retrying for
 * ~15 minutes, resuming only at its next retransmission (seconds to
 * minutes after the link returns). Unless the conninfo says otherwise:
 * data unacknowledged for 5 s breaks the connection (TCP_USER_TIMEOUT,
 * which also bounds a connect), and an idle one (a relay's LISTEN, a
 * transaction waiting for its result) is probed after 5 s, every second,
 * and given up after 3 unanswered probes. test_netcut cuts the database's
 * link for 10 s and checks that every service re-opened its connections. */
#define DEFAULT_TCP_USER_TIMEOUT    "5000" /* ms */
#define DEFAULT_KEEPALIVES_IDLE     "5"    /* s */
#define DEFAULT_KEEPALIVES_INTERVAL "1"    /* s */
#define DEFAULT_KEEPALIVES_COUNT    "3"

struct ccip_db {
    char *conninfo;       /* as given to ccip_db_new */
    PGconn *conn;         /* current connection, NULL when none could be made */
    char **prepared;      /* statement names prepared on `conn` */
    size_t nprepared;     /* entries used in `prepared` */
    size_t capprepared;   /* entries allocated in `prepared` */
    char err[ERR_MAX];    /* last error's reason, "" when none */
    char sqlstate[6];     /* last error's SQLSTATE, "" when none */
    unsigned int jitter;  /* rand_r() state for backoff jitter */
    int reconnect_logged; /* a "connection lost" warning was logged for this outage */
    int64_t retry_at_ms;  /* ccip_mono_ms before which no reconnect is tried; 0 = any time */
    int64_t retry_wait;   /* the wait after the last failed reconnect (0 = none failed) */
    int retry_attempts;   /* reconnects tried in this outage */
    unsigned long sent;   /* statements sent since the handle was made */
    char schema[64];      /* the schema its search_path names, "" when not known */
};

/* ---- errors ------------------------------------------------------------ */

static void s_clear_error(ccip_db *db)
{
    db->err[0] = '\0';
    db->sqlstate[0] = '\0';
}

/* Copies the first line of `msg` into db->err, without a trailing period. */
static void s_set_error(ccip_db *db, const char *msg, const char *sqlstate)
{
    if (!msg || !*msg)
        msg = "unknown error";
    size_t n = strcspn(msg, "\n");
    if (n >= sizeof db->err)
        n = sizeof db->err - 1;
    memcpy(db->err, msg, n);
    while (n > 0 && (db->err[n - 1] == '.' || db->err[n - 1] == ' '))
        n--;
    db->err[n] = '\0';
    snprintf(db->sqlstate, sizeof db->sqlstate, "%s", sqlstate ? sqlstate : "");
}

/* Strips libpq's "ERROR:  " / "FATAL:  " prefix from a connection-level
 * message so that messages read the same whichever way they arrived. */
static const char *s_skip_severity(const char *msg)
{
    static const char *const prefixes[] = {"ERROR:  ", "FATAL:  ", "PANIC:  "};
    for (size_t i = 0; msg && i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(msg, prefixes[i], n) == 0)
            return msg + n;
    }
    return msg;
}

/* True for the SQLSTATEs after which running the transaction again can
 * succeed: connection exceptions (class 08), serialization failure, deadlock. */
static int s_sqlstate_retryable(const char *state)
{
    if (!state)
        return 0;
    return strncmp(state, "08", 2) == 0 || strcmp(state, "40001") == 0 ||
           strcmp(state, "40P01") == 0;
}

/* Looks at a result (NULL when libpq could not even send the query), keeps
 * its error, and classifies it. Clears `res` in every case except success,
 * where it is left for the caller. */
static ccip_db_rc s_classify(ccip_db *db, PGresult *res)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
        s_clear_error(db);
        return CCIP_DB_OK;
    }
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg)
        msg = s_skip_severity(db->conn ? PQerrorMessage(db->conn) : "no connection");
    int lost = !db->conn || PQstatus(db->conn) == CONNECTION_BAD;
    /* libpq's own errors (server closed the connection) carry no SQLSTATE:
     * report them as connection_failure so callers can tell. */
    s_set_error(db, msg, state ? state : lost ? "08006" : NULL);
    PQclear(res); /* msg and state point into res: use the copies in db from here on */
    if (lost || s_sqlstate_retryable(db->sqlstate))
        return CCIP_DB_RETRYABLE;
    return CCIP_DB_ERROR;
}

/* ---- time -------------------------------------------------------------- */

/* ---- prepared-statement names ----------------------------------------- */

/* A linear search: a program has a few dozen statements at most, and this is
 * cheap next to a round trip to the server. */
static int s_is_prepared(const ccip_db *db, const char *name)
{
    for (size_t i = 0; i < db->nprepared; i++) {
        if (strcmp(db->prepared[i], name) == 0)
            return 1;
    }
    return 0;
}

/* Returns 0, or -1 when out of memory (the statement is then simply prepared
 * again next time, which fails with "already exists": see s_prepare). */
static int s_remember_prepared(ccip_db *db, const char *name)
{
    if (db->nprepared == db->capprepared) {
        size_t cap = db->capprepared ? 2 * db->capprepared : 16;
        char **grown = realloc(db->prepared, cap * sizeof *grown);
        if (!grown)
            return -1;
        db->prepared = grown;
        db->capprepared = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return -1;
    db->prepared[db->nprepared++] = copy;
    return 0;
}

static void s_forget_prepared(ccip_db *db)
{
    for (size_t i = 0; i < db->nprepared; i++)
        free(db->prepared[i]);
    db->nprepared = 0;
}

/* ---- connecting -------------------------------------------------------- */

/* libpq prints server notices ("relation already exists, skipping") on
 * stderr by default; the common library only speaks through ccip_log. */
static void s_notice(void *arg, const PGresult *res)
{
    (void)arg;
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    int warning = severity && strcmp(severity, "WARNING") == 0;
    ccip_log(warning ? CCIP_LOG_WARN : CCIP_LOG_DEBUG, "database notice", "severity", severity,
             "sqlstate", PQresultErrorField(res, PG_DIAG_SQLSTATE), "reason", msg,
             (const char *)NULL);
}

/* Opens a new connection, dropping the old one and what was prepared on it.
 * Returns 0, or -1 with the reason in db->err. */
static int s_connect(ccip_db *db)
{
    if (db->conn)
        PQfinish(db->conn);
    s_forget_prepared(db);
    /* With expand_dbname the conninfo is parsed as given (keywords or URI),
     * and its own settings override the defaults listed before it. */
    const char *const keys[] = {"connect_timeout",
                                "tcp_user_timeout",
                                "keepalives_idle",
                                "keepalives_interval",
                                "keepalives_count",
                                "fallback_application_name",
                                "options",
                                "dbname",
                                NULL};
    const char *connect_timeout = getenv("PGCONNECT_TIMEOUT");
    const char *const values[] = {connect_timeout && connect_timeout[0] ? connect_timeout
                                                                        : DEFAULT_CONNECT_TIMEOUT,
                                  DEFAULT_TCP_USER_TIMEOUT,
                                  DEFAULT_KEEPALIVES_IDLE,
                                  DEFAULT_KEEPALIVES_INTERVAL,
                                  DEFAULT_KEEPALIVES_COUNT,
                                  "ccip",
                                  CCIP_DB_SESSION_OPTIONS,
                                  db->conninfo,
                                  NULL};
    db->conn = PQconnectdbParams(keys, values, 1);
    if (!db->conn) {
        s_set_error(db, "out of memory", NULL);
        return -1;
    }
    PQsetNoticeReceiver(db->conn, s_notice, NULL);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        char msg[ERR_MAX];
        snprintf(msg, sizeof msg, "could not connect to database: %s",
                 s_skip_severity(PQerrorMessage(db->conn)));
        s_set_error(db, msg, "08006");
        return -1;
    }
    s_clear_error(db);
    return 0;
}

ccip_db *ccip_db_new(const char *conninfo, char *err, size_t errlen)
{
    if (!conninfo) {
        snprintf(err, errlen, "could not connect to database: no conninfo given");
        return NULL;
    }
    ccip_db *db = calloc(1, sizeof *db);
    if (!db)
        goto oom;
    db->conninfo = strdup(conninfo);
    if (!db->conninfo)
        goto oom;
    db->jitter =
        (unsigned int)ccip_mono_ms() ^ (unsigned int)getpid() ^ (unsigned int)(uintptr_t)db;
    if (s_connect(db) < 0) {
        snprintf(err, errlen, "%s", db->err);
        ccip_db_destroy(&db);
        return NULL;
    }
    return db;
oom:
    snprintf(err, errlen, "could not connect to database: out of memory");
    ccip_db_destroy(&db);
    return NULL;
}

ccip_db *ccip_db_new_waiting(const char *conninfo, int64_t until_us, char *err, size_t errlen)
{
    ccip_db *db;
    while (!(db = ccip_db_new(conninfo, err, errlen))) {
        if (ccip_now_us() >= until_us || ccip_shutdown_requested())
            return NULL;
        ccip_log_warn("waiting for the database", "reason", err);
        sleep(1);
    }
    return db;
}

void ccip_db_destroy(ccip_db **db)
{
    if (!db || !*db)
        return;
    ccip_db *d = *db;
    if (d->conn)
        PQfinish(d->conn);
    s_forget_prepared(d);
    free(d->prepared);
    free(d->conninfo);
    free(d);
    *db = NULL;
}

PGconn *ccip_db_conn(ccip_db *db)
{
    return db ? db->conn : NULL;
}

int ccip_db_ensure(ccip_db *db, int timeout_ms)
{
    if (!db)
        return -1;
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
        return 0;
    if (!db->reconnect_logged) {
        ccip_log_warn("database connection lost, reconnecting", "reason", db->err);
        db->reconnect_logged = 1;
    }
    /* The backoff lives in the handle, not in this call: a thread that
     * waits in short slices (to look at its stop flag between them) goes on
     * where its last slice left off, instead of trying again at the first
     * wait each time. */
    int64_t deadline = ccip_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        if (ccip_mono_ms() >= db->retry_at_ms) {
            db->retry_attempts++;
            if (s_connect(db) == 0) {
                char n[16];
                snprintf(n, sizeof n, "%d", db->retry_attempts);
                ccip_log_info("database connection re-established", "attempts", n);
                db->reconnect_logged = 0;
                db->retry_at_ms = 0;
                db->retry_wait = 0;
                db->retry_attempts = 0;
                return 0;
            }
            db->retry_wait = db->retry_wait == 0                     ? RECONNECT_FIRST_MS
                             : db->retry_wait * 2 > RECONNECT_CAP_MS ? RECONNECT_CAP_MS
                                                                     : db->retry_wait * 2;
            db->retry_at_ms = ccip_mono_ms() + db->retry_wait;
        }
        int64_t now = ccip_mono_ms(), left = deadline - now;
        if (left <= 0)
            return -1;
        int64_t wait = db->retry_at_ms - now;
        ccip_sleep_ms(wait < left ? wait : left);
    }
}

/* ---- statements -------------------------------------------------------- */

/* Prepares `stmt` on the current connection unless that was done already. */
static ccip_db_rc s_prepare(ccip_db *db, const ccip_db_stmt *stmt)
{
    if (s_is_prepared(db, stmt->name))
        return CCIP_DB_OK;
    PGresult *res = PQprepare(db->conn, stmt->name, stmt->sql, 0, NULL);
    ccip_db_rc rc = s_classify(db, res);
    if (rc == CCIP_DB_OK) {
        PQclear(res);
    } else if (strcmp(db->sqlstate, "42P05") == 0 &&
               PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
        /* duplicate_prepared_statement outside a transaction: prepared
         * before but not remembered (out of memory then); it is there, so
         * use it. Inside a transaction the error has aborted it: report. */
        s_clear_error(db);
        rc = CCIP_DB_OK;
    } else {
        return rc;
    }
    s_remember_prepared(db, stmt->name);
    return rc;
}

ccip_db_rc ccip_db_exec(ccip_db *db, const ccip_db_stmt *stmt, int nparams,
                        const char *const *values, const int *lengths, const int *formats,
                        PGresult **res)
{
    if (res)
        *res = NULL;
    if (!db || !stmt || !stmt->name || !stmt->sql || nparams < 0 || (nparams > 0 && !values)) {
        if (db)
            s_set_error(db, "could not execute statement: invalid arguments", NULL);
        return CCIP_DB_ERROR;
    }
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        s_set_error(db, db->err[0] ? db->err : "no connection to the database", "08003");
        return CCIP_DB_RETRYABLE;
    }
    ccip_db_rc rc = s_prepare(db, stmt);
    if (rc != CCIP_DB_OK)
        return rc;
    db->sent++;
    PGresult *r = PQexecPrepared(db->conn, stmt->name, nparams, values, lengths, formats, 0);
    rc = s_classify(db, r);
    if (rc != CCIP_DB_OK)
        return rc;
    if (res)
        *res = r;
    else
        PQclear(r);
    return CCIP_DB_OK;
}

/* Simple query protocol (PQexec): no parameters, and the text may hold
 * several statements, which is what migration files need. */
ccip_db_rc ccip_db_command(ccip_db *db, const char *sql)
{
    if (!db || !sql) {
        if (db)
            s_set_error(db, "could not run command: invalid arguments", NULL);
        return CCIP_DB_ERROR;
    }
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        s_set_error(db, db->err[0] ? db->err : "no connection to the database", "08003");
        return CCIP_DB_RETRYABLE;
    }
    db->sent++;
    PGresult *r = PQexec(db->conn, sql);
    ccip_db_rc rc = s_classify(db, r);
    if (rc == CCIP_DB_OK)
        PQclear(r);
    return rc;
}

unsigned long ccip_db_sent(const ccip_db *db)
{
    return db ? db->sent : 0;
}

const char *ccip_db_error(const ccip_db *db)
{
    return db ? db->err : "no database handle";
}

const char *ccip_db_sqlstate(const ccip_db *db)
{
    return db ? db->sqlstate : "";
}

/* ---- transactions ------------------------------------------------------ */

/* Rolls back what is open, keeping the error that caused it: the caller
 * wants to know why the transaction failed, not how the rollback went. */
static void s_rollback(ccip_db *db)
{
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK ||
        PQtransactionStatus(db->conn) == PQTRANS_IDLE)
        return;
    PGresult *r = PQexec(db->conn, "ROLLBACK");
    PQclear(r);
}

/* Waits before retry number `attempt` (1 = first retry): doubling from
 * TX_BACKOFF_FIRST_MS up to TX_BACKOFF_CAP_MS, each wait drawn between half
 * and all of that, so that two transactions that collided do not collide
 * again in step. */
static void s_tx_backoff(ccip_db *db, int attempt)
{
    int64_t ceiling = TX_BACKOFF_FIRST_MS;
    for (int i = 1; i < attempt && ceiling < TX_BACKOFF_CAP_MS; i++)
        ceiling *= 2;
    if (ceiling > TX_BACKOFF_CAP_MS)
        ceiling = TX_BACKOFF_CAP_MS;
    int64_t half = ceiling / 2;
    ccip_sleep_ms(half + (int64_t)(rand_r(&db->jitter) % (unsigned int)(half + 1)));
}

static const char *s_begin_sql(ccip_db_iso iso)
{
    switch (iso) {
    case CCIP_DB_REPEATABLE_READ:
        return "BEGIN ISOLATION LEVEL REPEATABLE READ";
    case CCIP_DB_SERIALIZABLE:
        return "BEGIN ISOLATION LEVEL SERIALIZABLE";
    case CCIP_DB_READ_COMMITTED:
    default:
        return "BEGIN ISOLATION LEVEL READ COMMITTED";
    }
}

/* One attempt: BEGIN, fn, COMMIT. Returns 0, -1 or CCIP_DB_RETRYABLE, with
 * nothing left open on the connection. */
static int s_tx_once(ccip_db *db, ccip_db_iso iso, ccip_db_tx_fn fn, void *arg)
{
    ccip_db_rc rc = ccip_db_command(db, s_begin_sql(iso));
    if (rc != CCIP_DB_OK)
        return rc == CCIP_DB_RETRYABLE ? CCIP_DB_RETRYABLE : -1;
    int frc = fn(db, arg);
    if (frc == CCIP_DB_RETRYABLE) {
        s_rollback(db);
        return CCIP_DB_RETRYABLE;
    }
    if (frc != 0) {
        s_rollback(db);
        return -1;
    }
    if (PQtransactionStatus(db->conn) == PQTRANS_INERROR) {
        /* fn ignored a failed statement: COMMIT would quietly roll back. */
        if (!db->err[0])
            s_set_error(db, "could not commit: a statement in the transaction failed", NULL);
        s_rollback(db);
        return -1;
    }
    rc = ccip_db_command(db, "COMMIT");
    if (rc == CCIP_DB_OK)
        return 0;
    s_rollback(db);
    return rc == CCIP_DB_RETRYABLE ? CCIP_DB_RETRYABLE : -1;
}

int ccip_db_tx(ccip_db *db, ccip_db_iso iso, int max_attempts, ccip_db_tx_fn fn, void *arg)
{
    if (!db || !fn || max_attempts < 1) {
        if (db)
            s_set_error(db, "could not run transaction: invalid arguments", NULL);
        return -1;
    }
    for (int attempt = 1;; attempt++) {
        if (ccip_db_ensure(db, TX_RECONNECT_TIMEOUT_MS) < 0)
            return CCIP_DB_RETRYABLE;
        int rc = s_tx_once(db, iso, fn, arg);
        if (rc != CCIP_DB_RETRYABLE)
            return rc;
        if (attempt >= max_attempts)
            return CCIP_DB_RETRYABLE;
        char a[16], m[16];
        snprintf(a, sizeof a, "%d", attempt + 1);
        snprintf(m, sizeof m, "%d", max_attempts);
        ccip_log_warn("retrying database transaction", "attempt", a, "max_attempts", m, "sqlstate",
                      db->sqlstate, "reason", db->err);
        s_tx_backoff(db, attempt);
    }
}

void ccip_db_set_schema(ccip_db *db, const char *schema)
{
    snprintf(db->schema, sizeof db->schema, "%s", schema ? schema : "");
}

const char *ccip_db_schema(const ccip_db *db)
{
    return db->schema;
}

int64_t ccip_db_cell_i64(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return 0;
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int ccip_db_cell_bool(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}
