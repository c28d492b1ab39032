/*
 * ccip_test_db: how the integration tests reach the PostgreSQL that
 * scripts/test started (not part of the product).
 *
 * scripts/test exports CCIP_PGHOST, CCIP_PGPORT, CCIP_PGDATABASE and
 * CCIP_SECRETS_DIR, and writes one password file per role,
 * $CCIP_SECRETS_DIR/db-<svc>.password, for role ccip_<svc>. A test that
 * finds them missing must fail, never pass quietly:
 *
 *   char ci[1024];
 *   if (ccip_test_conninfo("test", ci, sizeof ci) < 0)
 *       fail_msg("%s", ccip_test_db_error());
 */
#ifndef CCIP_TEST_DB_H
#define CCIP_TEST_DB_H

#include <stddef.h>

#include "ccip_db.h"

/* Writes a libpq conninfo for role ccip_<svc> (svc "test" = ccip_test) into
 * buf. Returns 0, or -1 when the environment or the password file is missing
 * or buf is too small (reason in ccip_test_db_error()). */
int ccip_test_conninfo(const char *svc, char *buf, size_t len);

/* Why the last ccip_test_* call here failed, with a hint to run the tests
 * through scripts/test. Static storage. */
const char *ccip_test_db_error(void);

/* Connects as ccip_<svc>. Returns NULL (reason in ccip_test_db_error()) on
 * failure; the caller ccip_db_destroy()s the handle. */
ccip_db *ccip_test_db_connect(const char *svc);

/* Connects as ccip_<svc> with search_path set to `schema` in the conninfo,
 * so that it stays set across reconnects. Same failure rules. */
ccip_db *ccip_test_db_connect_in(const char *svc, const char *schema);

/* Connects as the owner of service svc's schema, ccip_<svc>_owner, with
 * search_path = svc, when scripts/test or scripts/bench made that role
 * (bootstrap.sql's owner_pw: a password file db-<svc>_owner.password);
 * else, when the service keeps one role, as ccip_<svc>. For what only an
 * owner may do: make or drop a scratch table, ALTER TABLE, VACUUM and
 * ANALYZE (which a runtime role is refused, or for VACUUM skips with a
 * mere warning). The runtime role may read and write what the owner
 * makes (default privileges). Same failure rules. */
ccip_db *ccip_test_db_connect_owner(const char *svc);

/* Creates a fresh schema named "<prefix>_<pid>_<n>" (n counts up in the
 * process) owned by the connected role, and writes its name into name.
 * Returns 0 or -1. Throwaway schemas need the ccip_test role. */
int ccip_test_schema_new(ccip_db *db, const char *prefix, char *name, size_t len);

/* A throwaway schema holding the "ccip" migration component (outbox,
 * command log, consumer cursors), made as role ccip_test, for the tests of
 * the units that work on those tables. */
typedef struct {
    ccip_db *owner;      /* made the schema (no search_path); drops it */
    ccip_db *db;         /* search_path = schema */
    char schema[64];     /* its name */
    char conninfo[1200]; /* conninfo with search_path = schema, for units that connect */
} ccip_test_ccip_schema;

/* Makes a fresh schema (ccip_test_schema_new with prefix) and migrates the
 * "ccip" component into it. Returns 0, or -1 with the reason in
 * ccip_test_db_error() (what was made is then dropped again). */
int ccip_test_ccip_schema_new(ccip_test_ccip_schema *s, const char *prefix);

/* Drops the schema and closes both connections; safe twice. */
void ccip_test_ccip_schema_drop(ccip_test_ccip_schema *s);

/* Runs a query returning one number on db, in db's schema: test-owned SQL
 * formatted from fmt with ids and names the test made, never with data
 * from a reply. Returns the number, or -1 when the query failed or did not
 * return one row (reason on stderr). */
long long ccip_test_db_number(ccip_db *db, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Drops the schema and everything in it. Returns 0 or -1. */
int ccip_test_schema_drop(ccip_db *db, const char *name);

#endif
