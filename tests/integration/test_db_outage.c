/*
 * The database is down: the rules of issue 15 about PostgreSQL outages,
 * with real services, the real bus and the real test PostgreSQL, made
 * unreachable for the services under test alone by a TCP forwarder
 * (tests/support/ccip_test_proxy.h) that their db.port points at. The
 * shared cluster is never stopped: the other suites use it meanwhile.
 *
 * 1. A service started while PostgreSQL is down or restarting waits for it
 *    (every connection it opens at start-up: the command pool, the
 *    relay's, each consumer's) and then serves. The database comes up 2 s
 *    after the start, and then goes down for 2 s just as the service opens
 *    its 2nd, 3rd, ... connection: one connection that does not wait makes
 *    the service exit, and the run of that connection fails.
 * 2. A connection that breaks later is re-opened with backoff by whoever
 *    owns it, and the service stays up: every connection of intake and
 *    evaluation is cut for 3 s in the middle of the path from an accepted
 *    application to its evaluation case; reads are answered once the
 *    database is back, a command sent during the cut too, and the next
 *    application takes the whole path again, through both relays and
 *    consumers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/bus.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test_proc.h"
#include "ccip_test_proxy.h"
#include "ccip_test_svc.h"
#include "ccip_validate.h"

#define STAFF      "staff", "staff-outage"
#define OUTAGE_MS  2000  /* how long the database stays away at start-up (the 2 s) */
#define CUT_MS     3000  /* how long a running service's connections stay cut */
#define SERVE_MS   30000 /* longest wait for a service to serve once the database is back */
#define HOUR_US    (3600LL * 1000000)
#define DAY_US     (24 * HOUR_US)
#define INTAKE     "services/intake/intake"
#define EVALUATION "services/evaluation/evaluation"
/* Reconnection attempts one connection may make in a CUT_MS cut: with waits
 * doubling from 50 ms it makes 6 (at 0, 50, 150, 350, 750 and 1550 ms);
 * retrying at a fixed 50 ms it would make 60. */
#define MAX_ATTEMPTS 10

static ccip_test_svc s_svc;

/* Each test has a bus of its own: a failed test stops every process. */
static int s_setup(void **state)
{
    (void)state;
    if (ccip_test_svc_init(&s_svc, "intake") < 0 || ccip_test_start_bus(&s_svc.env) < 0)
        return -1;
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    ccip_test_svc_stop(&s_svc);
    return 0;
}

static int s_pg_port(void)
{
    const char *p = getenv("CCIP_PGPORT");
    return p ? atoi(p) : 0;
}

/* Waits until a replica of `service` (process pid) answers ccip.ping.v1;
 * fails the test, with the logs, when the process exits first or nothing
 * answers within SERVE_MS. */
static void s_wait_serving(const char *service, pid_t pid, const char *when)
{
    int64_t until = ccip_now_us() + (int64_t)SERVE_MS * 1000;
    char err[256] = "", what[600];
    while (ccip_now_us() < until) {
        int status = ccip_test_stop(&s_svc.env, pid, 0, 0);
        if (status >= 0) {
            snprintf(what, sizeof what, "%s exited with status %d %s", service, status, when);
            ccip_test_fail(&s_svc, what);
        }
        Ccip__Envelope ping = CCIP__ENVELOPE__INIT;
        char id[CCIP_UUID_STRLEN + 1];
        ccip_uuid_v7(id);
        ping.id = id;
        ping.type = "ccip.ping.v1";
        Ccip__Envelope *r = ccip_client_call(s_svc.plain, service, &ping, 500, 1, err, sizeof err);
        if (r) {
            ccip_envelope_free(&r);
            return;
        }
    }
    snprintf(what, sizeof what, "%s did not answer within %d ms %s: %s", service, SERVE_MS, when,
             err);
    ccip_test_fail(&s_svc, what);
}

/* Opens a call as staff, writing its id; the command must succeed (it goes
 * through the command pool's connections and writes the outbox). */
static void s_open_call(char id[CCIP_UUID_STRLEN + 1])
{
    Ccip__Intake__OpenCallRequest rq = CCIP__INTAKE__OPEN_CALL_REQUEST__INIT;
    rq.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    rq.year = 2027;
    rq.title = "2027 call of the database outage tests";
    int64_t now = ccip_now_us() / 1000000 * 1000000;
    rq.opens_at_us = now - HOUR_US;
    rq.closes_at_us = now + 30 * DAY_US;
    ccip_test_cmd c = {.service = "intake",
                       .role = "staff",
                       .actor = "staff-outage",
                       .type = "intake.call.open.v1",
                       .msg = &rq.base,
                       .out = &ccip__intake__call_reply__descriptor};
    Ccip__Intake__CallReply *r = (Ccip__Intake__CallReply *)ccip_test_ok_cmd(&s_svc, &c);
    snprintf(id, CCIP_UUID_STRLEN + 1, "%s", r->call->id);
    ccip_test_free(r);
}

/* True once the relay numbered the event that opened call `id` (its
 * connection works) within SERVE_MS. */
static int s_call_event_published(const char *id)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM intake.outbox WHERE aggregate_id = '%s' AND position IS NOT "
             "NULL",
             id);
    return ccip_test_wait_count("intake", sql, 1, SERVE_MS) == 1;
}

/* ---- 1. start-up waits for the database, on every connection ------------------ */

/* Starts intake against proxy p, checks that it serves (a command answered,
 * its event published), and kills it. */
static void s_start_and_serve(ccip_test_proxy *p, int start_late, const char *when)
{
    pid_t pid = ccip_test_start_service(&s_svc.env, INTAKE, "intake", "intake-outage");
    assert_true(pid > 0);
    if (start_late) {
        ccip_test_sleep_ms(OUTAGE_MS);
        assert_int_equal(ccip_test_proxy_start(p), 0);
    }
    s_wait_serving("intake", pid, when);
    char call[CCIP_UUID_STRLEN + 1];
    s_open_call(call);
    if (!s_call_event_published(call))
        ccip_test_fail(&s_svc, "intake's relay did not publish the call's event");
    ccip_test_stop(&s_svc.env, pid, SIGKILL, 5000);
}

static void test_start_waits_for_the_database_on_every_connection(void **state)
{
    (void)state;
    s_svc.target = "intake";
    /* How many connections intake opens at start-up: counted by a proxy
     * that is up all along. */
    ccip_test_proxy *p = ccip_test_proxy_new(s_pg_port());
    assert_non_null(p);
    assert_int_equal(ccip_test_proxy_start(p), 0);
    s_svc.env.db_port = ccip_test_proxy_port(p);
    s_start_and_serve(p, 0, "with the database up");
    unsigned opened = ccip_test_proxy_forwarded(p);
    ccip_test_proxy_destroy(&p);
    printf("intake opens %u database connections at start-up\n", opened);
    /* the first, the relay's, two consumers', two of the command pool */
    assert_true(opened >= 6);

    /* Down at the start, up OUTAGE_MS later. */
    p = ccip_test_proxy_new(s_pg_port());
    assert_non_null(p);
    s_svc.env.db_port = ccip_test_proxy_port(p);
    s_start_and_serve(p, 1, "after the database came up 2 s late");
    ccip_test_proxy_destroy(&p);

    /* Up, then down for OUTAGE_MS just as the (k+1)-th connection is
     * opened, every connection before it broken too: a restart during
     * start-up, at each of its connections. */
    for (unsigned k = 1; k < opened; k++) {
        p = ccip_test_proxy_new(s_pg_port());
        assert_non_null(p);
        assert_int_equal(ccip_test_proxy_start(p), 0);
        ccip_test_proxy_cut_after(p, k, OUTAGE_MS);
        s_svc.env.db_port = ccip_test_proxy_port(p);
        char when[120];
        snprintf(when, sizeof when, "when the database went down for 2 s at its connection %u",
                 k + 1);
        s_start_and_serve(p, 0, when);
        /* the outage happened, and during start-up, or the run proved nothing */
        if (ccip_test_proxy_refused(p) == 0)
            ccip_test_fail(&s_svc, "the proxy refused no connection: the outage never happened");
        printf("connection %u: %u attempts refused during the outage\n", k + 1,
               ccip_test_proxy_refused(p));
        ccip_test_proxy_destroy(&p);
    }
    s_svc.env.db_port = 0;
}

/* ---- 2. a connection that breaks later is re-opened ---------------------------- */

/* An organisation that registers and is verified, and its application to
 * call `call` drafted and submitted (accepting it is left to the caller). */
static void s_submitted(const char *call, char app[CCIP_UUID_STRLEN + 1])
{
    char uscc[CCIP_USCC_LEN + 1], actor[32];
    ccip_test_uscc("110105", uscc);
    snprintf(actor, sizeof actor, "org:%s", uscc);
    Ccip__Intake__RegisterOrganisationRequest org =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    org.uscc = uscc;
    org.name = "北京断线测试文化有限公司";
    org.type = CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE;
    org.district = "Chaoyang";
    org.legal_representative = "王芳";
    org.contact_name = "李明";
    org.contact_phone = "010-6598 1234";
    org.contact_email = "office@outage.example.cn";
    ccip_test_free(ccip_test_ok(&s_svc, "applicant", actor, "intake.organisation.register.v1",
                                &org.base, NULL));
    Ccip__Intake__VerifyOrganisationRequest v = CCIP__INTAKE__VERIFY_ORGANISATION_REQUEST__INIT;
    v.uscc = uscc;
    v.note = "checked";
    ccip_test_free(ccip_test_ok(&s_svc, STAFF, "intake.organisation.verify.v1", &v.base, NULL));
    Ccip__Intake__ClusterFacts cluster = CCIP__INTAKE__CLUSTER_FACTS__INIT;
    cluster.cluster_name = "Langyuan Station";
    cluster.location = "Langjiayuan 6";
    cluster.area_m2 = 60000;
    cluster.enterprise_count = 120;
    cluster.employee_count = 3500;
    cluster.lead_operator = "Langyuan Operation Co.";
    Ccip__Intake__ApplicationContent c = CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    c.title = "Langyuan Station creative cluster";
    c.summary = "A former printing works turned into studios.";
    c.district = "110105";
    c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
    c.cluster = &cluster;
    Ccip__Intake__DraftApplicationRequest d = CCIP__INTAKE__DRAFT_APPLICATION_REQUEST__INIT;
    d.call_id = (char *)call;
    d.applicant_uscc = uscc;
    d.content = &c;
    Ccip__Intake__ApplicationReply *r = (Ccip__Intake__ApplicationReply *)ccip_test_ok(
        &s_svc, "applicant", actor, "intake.application.draft.v1", &d.base,
        &ccip__intake__application_reply__descriptor);
    snprintf(app, CCIP_UUID_STRLEN + 1, "%s", r->application->id);
    ccip_test_free(r);
    Ccip__Intake__ApplicationActionRequest a = CCIP__INTAKE__APPLICATION_ACTION_REQUEST__INIT;
    a.application_id = app;
    ccip_test_free(
        ccip_test_ok(&s_svc, "applicant", actor, "intake.application.submit.v1", &a.base, NULL));
}

/* Staff accept application `app` under command id `id`, each attempt
 * waiting timeout_ms; returns the status (-1: no reply). */
static int s_accept(const char *app, const char *id, int timeout_ms, int attempts)
{
    Ccip__Intake__ApplicationActionRequest a = CCIP__INTAKE__APPLICATION_ACTION_REQUEST__INIT;
    a.application_id = (char *)app;
    a.reason = "complete";
    ccip_test_cmd c = {.role = "staff",
                       .actor = "staff-outage",
                       .type = "intake.application.accept.v1",
                       .msg = &a.base,
                       .id = id,
                       .timeout_ms = timeout_ms,
                       .attempts = attempts};
    return ccip_test_send_cmd(&s_svc, &c, NULL);
}

/* Waits until evaluation opened the case of `app`, and intake applied
 * everything evaluation published (intake's cursor on evaluation's stream
 * equals its head): both relays and both consumers work. */
static void s_path_taken(const char *app)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM evaluation.case_file WHERE application_id = '%s'", app);
    if (ccip_test_wait_count("evaluation", sql, 1, SERVE_MS) != 1)
        ccip_test_fail(&s_svc, "evaluation opened no case for the accepted application");
    long long head = ccip_test_query_number("evaluation", "SELECT head FROM outbox_state");
    long long cursor = -1;
    for (int waited = 0; waited < SERVE_MS && cursor != head; waited += 100) {
        cursor = ccip_test_query_number(
            "intake", "SELECT position FROM consumer_cursor WHERE producer = 'evaluation'");
        if (cursor != head)
            ccip_test_sleep_ms(100);
    }
    if (cursor != head)
        ccip_test_fail(&s_svc, "intake did not catch up with evaluation's stream");
}

static void test_broken_connections_are_reopened_and_the_services_stay_up(void **state)
{
    (void)state;
    s_svc.target = "intake";
    ccip_test_proxy *p = ccip_test_proxy_new(s_pg_port());
    assert_non_null(p);
    assert_int_equal(ccip_test_proxy_start(p), 0);
    s_svc.env.db_port = ccip_test_proxy_port(p);
    pid_t intake = ccip_test_start_service(&s_svc.env, INTAKE, "intake", "intake-outage");
    pid_t evaluation =
        ccip_test_start_service(&s_svc.env, EVALUATION, "evaluation", "evaluation-outage");
    assert_true(intake > 0 && evaluation > 0);
    s_wait_serving("intake", intake, "at start-up");
    s_wait_serving("evaluation", evaluation, "at start-up");

    char call[CCIP_UUID_STRLEN + 1], first[CCIP_UUID_STRLEN + 1], second[CCIP_UUID_STRLEN + 1];
    s_open_call(call);
    s_submitted(call, first);
    s_submitted(call, second);
    assert_int_equal(s_accept(first, NULL, 5000, 3), CCIP__STATUS__OK);
    s_path_taken(first);

    /* Every connection of both services breaks, and none can be made for
     * CUT_MS; an acceptance sent meanwhile is retried under its command id
     * until the database is back. */
    unsigned made_before = ccip_test_proxy_forwarded(p);
    ccip_test_proxy_cut(p);
    int64_t cut_at = ccip_now_us();
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    int status = s_accept(second, id, 1000, 1);
    while (ccip_now_us() < cut_at + (int64_t)CUT_MS * 1000)
        ccip_test_sleep_ms(50);
    unsigned refused = ccip_test_proxy_refused(p);
    ccip_test_proxy_restore(p);
    printf("during the %d ms cut: the first attempt's status %d, %u connection attempts refused "
           "(%u connections had been made before)\n",
           CUT_MS, status, refused, made_before);
    /* Backoff: each connection tries again at growing intervals, not in a
     * tight loop. */
    if (refused > MAX_ATTEMPTS * made_before)
        ccip_test_fail(&s_svc, "connections were retried without backoff during the cut");
    if (refused == 0)
        ccip_test_fail(&s_svc, "nothing tried to reconnect during the cut");
    /* Reads run outside any transaction: each connection of the command
     * pool must be re-opened for them too, not only by the next write. */
    for (int i = 0; i < 4; i++) {
        Ccip__Intake__GetCallRequest g = CCIP__INTAKE__GET_CALL_REQUEST__INIT;
        g.call_id = call;
        ccip_test_cmd c = {.role = "staff",
                           .actor = "staff-outage",
                           .type = "intake.call.get.v1",
                           .msg = &g.base,
                           .timeout_ms = 5000,
                           .attempts = 6};
        if (ccip_test_send_cmd(&s_svc, &c, NULL) != CCIP__STATUS__OK) {
            char what[CCIP_TEST_SVC_ERROR_MAX + 100];
            snprintf(what, sizeof what, "a read after the cut was not answered: %s", s_svc.error);
            ccip_test_fail(&s_svc, what);
        }
    }
    status = s_accept(second, id, 5000, 6);
    if (status != CCIP__STATUS__OK)
        ccip_test_fail(&s_svc, "the acceptance retried after the cut was not answered OK");
    s_path_taken(second);
    /* the same processes throughout */
    assert_int_equal(ccip_test_stop(&s_svc.env, intake, 0, 0), -1);
    assert_int_equal(ccip_test_stop(&s_svc.env, evaluation, 0, 0), -1);
    if (!ccip_test_log_contains(&s_svc, "intake-outage", "database connection re-established") ||
        !ccip_test_log_contains(&s_svc, "evaluation-outage", "database connection re-established"))
        ccip_test_fail(&s_svc, "a service did not log its reconnection");
    ccip_test_stop(&s_svc.env, intake, SIGKILL, 5000);
    ccip_test_stop(&s_svc.env, evaluation, SIGKILL, 5000);
    ccip_test_proxy_destroy(&p);
    s_svc.env.db_port = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_waits_for_the_database_on_every_connection,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_broken_connections_are_reopened_and_the_services_stay_up, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
