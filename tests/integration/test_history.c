/*
 * History its own role cannot rewrite (issue 19, item 4): the real
 * services, started as deploy/sql/bootstrap.sql sets them up with an owner
 * role for their migrations (ccip_<svc>_owner), against real PostgreSQL.
 * Connected as each service's runtime role, every history and ledger table
 * (common/sql/0006_history.sql) can be read and added to, and UPDATE,
 * DELETE, TRUNCATE and ALTER TABLE ... DISABLE TRIGGER are all refused as
 * permission denied; the runtime role owns no table of its schema at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_db.h"
#include "ccip_test_db.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"

static ccip_test_svc s_svc;

/* A history table and a column of it (the UPDATE tried sets it to itself). */
typedef struct {
    const char *name;
    const char *column;
} s_table;

/* outbox_archive: every schema's published events past the retention
 * (common/sql/0007_outbox_archive.sql) */
#define ARCHIVE                                                                                    \
    {                                                                                              \
        "outbox_archive", "position"                                                               \
    }

/* Each service's history and ledger tables, as its migrations name them. */
static const struct {
    const char *service;
    s_table tables[7]; /* ends with {NULL} */
} S_HISTORY[] = {
    {"intake", {{"application_history", "id"}, {"applicant_timeline", "id"}, ARCHIVE, {NULL}}},
    {"evaluation", {{"case_log", "id"}, ARCHIVE, {NULL}}},
    {"funding",
     {{"journal_entry", "id"},
      {"journal_line", "id"},
      {"budget_change", "id"},
      {"recovery", "id"},
      ARCHIVE,
      {NULL}}},
    /* anchor: the event chains' hourly anchors (services/ip/sql/0006_anchor.sql) */
    {"ip", {{"chain", "seq"}, {"anchor", "position"}, ARCHIVE, {NULL}}},
    {"stats",
     {{"roster_history", "id"},
      {"report_transition", "id"},
      {"value_audit", "id"},
      ARCHIVE,
      {NULL}}},
    /* services/followup/sql/0003_history.sql */
    {"followup",
     {{"task_deadline", "seq"},
      {"task_step", "seq"},
      {"task_report", "id"},
      {"task_attachment", "id"},
      {"escalation", "raised_at"},
      ARCHIVE,
      {NULL}}},
    /* services/gateway/sql/0002_history.sql */
    {"gateway", {{"audit", "at"}, ARCHIVE, {NULL}}},
    /* notify keeps no history of its own: its items and deliveries change
     * state, and a rebuild makes them again; its archived events are */
    {"notify", {ARCHIVE, {NULL}}},
    /* services/casefile/sql/0002_history.sql: each case's timeline */
    {"casefile", {{"step", "position"}, ARCHIVE, {NULL}}},
};
#define NSVC (sizeof S_HISTORY / sizeof S_HISTORY[0])

static int s_setup(void **state)
{
    (void)state;
    if (ccip_test_svc_init(&s_svc, "intake") < 0)
        return -1;
    /* ip's signing key, as an operator makes it */
    char cmd[1200], key[600];
    snprintf(cmd, sizeof cmd, "%s/cli/ccipctl ip keygen ip-signing --dir %s >/dev/null",
             getenv("CCIP_BINARY_DIR"), s_svc.env.dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(key, sizeof key, "%s/ip-signing.key", s_svc.env.dir);
    setenv("CCIP_IP_SIGNING_KEY_FILE", key, 1);
    setenv("CCIP_EVALUATION_SWEEP_SECONDS", "0", 1);
    setenv("CCIP_INTAKE_CLOSE_CHECK_SECONDS", "0", 1);
    setenv("CCIP_FOLLOWUP_SWEEP_SECONDS", "0", 1);
    setenv("CCIP_FOLLOWUP_DIGEST_CHECK_SECONDS", "0", 1);
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", ccip_test_free_port());
    setenv("CCIP_GATEWAY_LISTEN", listen, 1);
    if (ccip_test_start_bus(&s_svc.env) < 0)
        goto fail;
    for (size_t i = 0; i < NSVC; i++) {
        char binary[128], instance[64];
        snprintf(binary, sizeof binary, "services/%s/%s", S_HISTORY[i].service,
                 S_HISTORY[i].service);
        snprintf(instance, sizeof instance, "%s-1", S_HISTORY[i].service);
        if (ccip_test_start_service(&s_svc.env, binary, S_HISTORY[i].service, instance) < 0)
            goto fail;
    }
    /* each migrates its schema (as its owner) before it serves */
    for (size_t i = 0; i < NSVC; i++)
        if (ccip_test_svc_wait(&s_svc, S_HISTORY[i].service) < 0)
            goto fail;
    return 0;
fail:
    ccip_test_env_cleanup(&s_svc.env, 1);
    return -1;
}

static int s_teardown(void **state)
{
    (void)state;
    ccip_test_svc_stop(&s_svc);
    return 0;
}

/* Runs sql on db; it must fail as permission denied (42501). */
static void s_denied(ccip_db *db, const char *sql, const char *who)
{
    if (ccip_db_command(db, sql) == CCIP_DB_OK)
        fail_msg("%s could run \"%s\": history can be rewritten", who, sql);
    if (strcmp(ccip_db_sqlstate(db), "42501") != 0)
        fail_msg("%s: \"%s\" failed with %s (%s), not permission denied (42501)", who, sql,
                 ccip_db_sqlstate(db), ccip_db_error(db));
}

static void s_check_service(size_t i)
{
    const char *svc = S_HISTORY[i].service;
    char who[64];
    snprintf(who, sizeof who, "ccip_%s", svc);
    ccip_db *db = ccip_test_db_connect(svc);
    if (!db)
        fail_msg("%s", ccip_test_db_error());
    /* the tables the migrations protected are exactly the expected ones */
    size_t n = 0;
    for (; S_HISTORY[i].tables[n].name; n++) {
        const char *t = S_HISTORY[i].tables[n].name;
        const char *col = S_HISTORY[i].tables[n].column;
        char sql[600];
        /* test-owned names from the list above */
        snprintf(sql, sizeof sql, "SELECT count(*) FROM history_table WHERE name = '%s'", t);
        if (ccip_test_db_number(db, "%s", sql) != 1)
            fail_msg("%s.%s is not listed in history_table", svc, t);
        snprintf(sql, sizeof sql,
                 "SELECT (has_table_privilege('%s', 'SELECT') AND has_table_privilege('%s', "
                 "'INSERT'))::int",
                 t, t);
        if (ccip_test_db_number(db, "%s", sql) != 1)
            fail_msg("%s may not read and add to %s.%s", who, svc, t);
        snprintf(sql, sizeof sql, "UPDATE %s SET %s = %s", t, col, col);
        s_denied(db, sql, who);
        snprintf(sql, sizeof sql, "DELETE FROM %s", t);
        s_denied(db, sql, who);
        snprintf(sql, sizeof sql, "TRUNCATE %s", t);
        s_denied(db, sql, who);
        snprintf(sql, sizeof sql, "ALTER TABLE %s DISABLE TRIGGER ALL", t);
        s_denied(db, sql, who);
        snprintf(sql, sizeof sql, "ALTER TABLE %s OWNER TO %s", t, who);
        s_denied(db, sql, who);
    }
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM history_table");
    assert_int_equal(ccip_test_db_number(db, "%s", sql), (long long)n);
    /* it owns nothing in its schema, so it can alter nothing */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
             "WHERE s.nspname = '%s' AND pg_get_userbyid(c.relowner) = current_user",
             svc);
    assert_int_equal(ccip_test_db_number(db, "%s", sql), 0);
    ccip_db_destroy(&db);
}

/* Every service's runtime role reads and adds to its history, and can
 * neither change it, delete it, empty it, switch off its triggers nor take
 * it over. */
static void test_history_is_insert_only(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSVC; i++)
        s_check_service(i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_is_insert_only),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
