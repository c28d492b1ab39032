/*
 * ccip_db: one libpq connection that reconnects, and whole-transaction retry.
 *
 * SQL is only ever sent as prepared, parameterised statements (STYLE.md
 * rule 8). A statement is declared once, statically, and prepared lazily on
 * each connection the first time it is used:
 *
 *   static const ccip_db_stmt S_GET = {"intake_get_call",
 *       "SELECT title FROM intake.call WHERE id = $1"};
 *   PGresult *res = NULL;
 *   const char *params[] = {id};
 *   if (ccip_db_exec(db, &S_GET, 1, params, NULL, NULL, &res) < 0) ...
 *
 * Transactions go through ccip_db_tx(), which runs a function between BEGIN
 * and COMMIT and runs the whole function again when the connection was lost
 * (the connection is re-established with backoff) or PostgreSQL reports a
 * serialization failure or deadlock. The function must therefore keep no
 * state across attempts except through its return value and what it writes
 * in the database.
 *
 * Not thread-safe: one ccip_db per thread.
 */
#ifndef CCIP_DB_H
#define CCIP_DB_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ccip_db ccip_db;

/* A statement: its name must be unique in the program. */
typedef struct {
    const char *name; /* prepared-statement name, e.g. "outbox_append" */
    const char *sql;  /* text with $1..$n placeholders */
} ccip_db_stmt;

/* Outcome classes callers must tell apart. */
typedef enum {
    CCIP_DB_OK = 0,
    CCIP_DB_ERROR = -1,     /* statement failed; see ccip_db_error / ccip_db_sqlstate */
    CCIP_DB_RETRYABLE = -2, /* connection lost, serialization failure or deadlock */
} ccip_db_rc;

/* Connects with a libpq conninfo string ("host=... port=... dbname=...
 * user=... password=... application_name=...") or URI, used as given;
 * connect_timeout defaults to 5 seconds when it says none, and a cut link
 * breaks the connection (tcp_user_timeout 5000 ms, keepalives after 5 s
 * idle, every 1 s, 3 of them; each unless the conninfo sets it), so that
 * it is re-opened rather than waited on. Returns NULL and
 * fills err when the first connection cannot be made. */
ccip_db *ccip_db_new(const char *conninfo, char *err, size_t errlen);

/* ccip_db_new for start-up, when the database may be down or restarting
 * (a service started beside it, or during its restart): tries again every
 * second, logging each failure at warn, until it connects, until_us
 * (ccip_now_us's clock) passes, or a shutdown is requested
 * (ccip_shutdown.h). until_us 0: one try, as ccip_db_new. Returns the
 * connection, or NULL with the last reason in err. Every connection a
 * service opens at start-up goes through it, so that none of them can be
 * the one that makes it exit while the others would have waited. */
ccip_db *ccip_db_new_waiting(const char *conninfo, int64_t until_us, char *err, size_t errlen);

/* Server settings every connection gets unless its conninfo sets
 * `options` itself (then it must include them: ccip_service.c does).
 * jit=off: PostgreSQL's JIT compiles a statement whose estimated cost
 * passes jit_above_cost again on every execution, prepared or not; the
 * services' statements are short, and their estimates on tables filled in
 * the same transaction are large, so it compiled for longer than they ran
 * (notify's rebuild: 10-15 ms of compiling per 5,000-item INSERT; libLLVM
 * was half of PostgreSQL's CPU in a profile of bench audit). */
#define CCIP_DB_SESSION_OPTIONS "-cjit=off"

/* Closes the connection and frees everything; safe on NULL and twice. */
void ccip_db_destroy(ccip_db **db);

/* The live libpq connection, for code that needs libpq directly (LISTEN,
 * advisory locks). Borrowed; valid until the next reconnect. */
PGconn *ccip_db_conn(ccip_db *db);

/* Executes a prepared statement with text or binary parameters.
 * lengths/formats may be NULL (all text); results come back as text. On
 * success returns CCIP_DB_OK and, when res is not NULL, hands over the result
 * (caller PQclear()s it); on failure returns CCIP_DB_ERROR or
 * CCIP_DB_RETRYABLE with the error kept for ccip_db_error(), and *res is NULL.
 * A lost connection is not re-established here (that would silently drop an
 * open transaction): ccip_db_tx() does it, other callers use ccip_db_ensure(). */
ccip_db_rc ccip_db_exec(ccip_db *db, const ccip_db_stmt *stmt, int nparams,
                        const char *const *values, const int *lengths, const int *formats,
                        PGresult **res);

/* Runs a plain statement without parameters (BEGIN, SET, DDL in
 * migrations) with the simple query protocol, so the text may hold several
 * statements separated by semicolons. Never use it with data. Same return
 * values as ccip_db_exec. */
ccip_db_rc ccip_db_command(ccip_db *db, const char *sql);

/* The function run by ccip_db_tx. Returns 0 to commit, -1 to roll back and
 * give up (its error is the caller's business), or the ccip_db_rc it got
 * from a failed statement so that retryable failures are retried. */
typedef int (*ccip_db_tx_fn)(ccip_db *db, void *arg);

/* Transaction isolation for ccip_db_tx. */
typedef enum { CCIP_DB_READ_COMMITTED, CCIP_DB_REPEATABLE_READ, CCIP_DB_SERIALIZABLE } ccip_db_iso;

/* Runs fn inside BEGIN ... COMMIT, retrying the whole transaction up to
 * max_attempts times (reconnecting when the connection was lost) while it
 * fails with CCIP_DB_RETRYABLE. Returns 0 when committed, -1 when fn gave
 * up (rolled back), CCIP_DB_RETRYABLE when attempts ran out. */
int ccip_db_tx(ccip_db *db, ccip_db_iso iso, int max_attempts, ccip_db_tx_fn fn, void *arg);

/* The last error's reason as PostgreSQL or libpq gave it (first line, lower
 * case, no final period; callers add their "could not X: " context) and its
 * SQLSTATE ("" when none; a connection that could not be made or was found
 * closed reports class 08). Borrowed until the next call on db. */
const char *ccip_db_error(const ccip_db *db);
const char *ccip_db_sqlstate(const ccip_db *db);

/* Statements sent on db so far (ccip_db_exec and ccip_db_command). A
 * caller compares two readings to learn whether code in between touched
 * the database at all. */
unsigned long ccip_db_sent(const ccip_db *db);

/* Makes sure the connection is up, reconnecting with backoff (50 ms
 * doubling to 2 s between attempts) for at most timeout_ms; one attempt may
 * itself take up to the conninfo's connect_timeout. The backoff carries
 * over from call to call until a reconnect succeeds, so a caller may wait
 * in short slices without trying more often. Prepared statements are
 * prepared again on the new connection when next used. Returns 0 when
 * connected, -1 otherwise (reason in ccip_db_error). */
int ccip_db_ensure(ccip_db *db, int timeout_ms);

/* The schema unqualified names on this connection resolve to, as its owner
 * checked it (ccip_outbox_check_schema sets it); "" when nobody did. Code
 * that must name the schema (the outbox's NOTIFY channel) asks the
 * connection rather than spelling it. A schema longer than 63 bytes is not
 * a PostgreSQL identifier and is cut. */
void ccip_db_set_schema(ccip_db *db, const char *schema);
const char *ccip_db_schema(const ccip_db *db);

/* Result cells, the same way everywhere: an integer (0 for NULL or text
 * that is not one), a boolean (1 only for 't'). */
int64_t ccip_db_cell_i64(const PGresult *res, int row, int col);
int ccip_db_cell_bool(const PGresult *res, int row, int col);

/* SQL: a timestamptz column as UTC microseconds (bigint; NULL stays NULL),
 * and a bigint parameter of microseconds as a timestamptz. */
#define CCIP_SQL_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"
#define CCIP_SQL_TS(par) "('epoch'::timestamptz + " par "::bigint * interval '1 microsecond')"

#endif
