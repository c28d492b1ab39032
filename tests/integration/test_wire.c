/*
 * The wire trusts nothing (issue 23) and the bus trusts keys for what they
 * are bound to (issue 14, item 4): a real bus, intake and evaluation, real
 * PostgreSQL, and a hostile client that speaks the bus protocol itself on
 * raw CURVE sockets (DEALER, PUB, SUB), with keys the bus lets in.
 *
 * Each of the six cases of the issue is reproduced as it was found and
 * must be refused, with the row counts of the schemas of the services it
 * reaches (intake, evaluation) the same before and after; and what worked
 * must still work: the right key registers, serves and relays, a bound
 * front door acts as its person, a retry gets its stored reply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_mdp.h"
#include "ccip_sock.h"
#include "ccip_test_db.h"
#include "ccip_test_proc.h"

#define HOUR_US        (3600LL * 1000000)
#define MIB            (1024 * 1024)
#define MAX_WAIT_MS    2000 /* the bus's cap on any command's wait, in this test */
#define CLOSE_CHECK_S  2    /* intake closes due calls this often, in this test */
#define REPLY_MAX      (8 * MIB)
#define SNAPSHOT_BYTES 8192

static ccip_test_env s_env;
static void *s_ctx;
static pid_t s_bus;
static ccip_keypair s_evaluation; /* a service key: evaluation */
static ccip_keypair s_funding;    /* a service key: funding (not a consumer of intake) */
static ccip_keypair s_zhou;       /* a front door bound to staff-zhou, role staff */
static ccip_keypair s_org_a;      /* a front door bound to org:<A>, role applicant */
static ccip_keypair s_org_b;      /* a front door bound to org:<B>, role applicant */
static char s_uscc_a[19], s_uscc_b[19], s_actor_a[32], s_actor_b[32];

/* ---- helpers -------------------------------------------------------------------- */

static void s_fail_with_logs(const char *what)
{
    fprintf(stderr, "FAILED: %s\n", what);
    ccip_test_env_cleanup(&s_env, 1);
    fail_msg("%s", what);
}

/* A fresh, valid unified social credit code (GB 32100-2015 check character). */
static void s_uscc(char out[19])
{
    static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    static unsigned long long n;
    if (!n)
        n = ((unsigned long long)time(NULL) * 1000033ULL + (unsigned long long)getpid() * 7) %
            1000000000ULL;
    n = (n + 104729) % 1000000000ULL;
    snprintf(out, 19, "91110105%09llu", n);
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (int)(strchr(cs, out[i]) - cs) * w[i];
    out[17] = cs[(31 - sum % 31) % 31];
    out[18] = '\0';
}

/* Makes a key pair in allowed/ with binding b (before the bus starts). */
static int s_make_key(const char *name, const ccip_key_binding *b, ccip_keypair *kp)
{
    char dir[400], err[300];
    snprintf(dir, sizeof dir, "%s/allowed", s_env.dir);
    if (ccip_keypair_generate(kp) < 0 || ccip_keypair_save(dir, name, kp, b, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int s_load_key(const char *name, ccip_keypair *kp)
{
    char path[400], err[300];
    snprintf(path, sizeof path, "%s/allowed/%s.key", s_env.dir, name);
    if (ccip_keypair_load(path, kp, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

/* A raw socket of `type` with keys kp, CURVE to one of the bus's endpoints. */
static void *s_sock(int type, const char *endpoint, const ccip_keypair *kp)
{
    char err[300];
    ccip_sock_opts so = {.keys = kp, .server_public = s_env.bus_keys.public_key};
    void *s = ccip_sock_connect(s_ctx, type, endpoint, &so, err, sizeof err);
    assert_non_null(s);
    return s;
}

/* What a command envelope carries; NULL strings are left empty. */
typedef struct {
    const char *id;              /* NULL: a fresh UUID */
    const char *type;            /* command type */
    const char *actor;           /* claimed actor id */
    const char *role;            /* claimed role */
    int64_t deadline;            /* 0: none */
    const ProtobufCMessage *msg; /* payload, or NULL */
} s_cmd;

/* Packs c into a malloc'd buffer (the caller frees it). */
static uint8_t *s_pack(const s_cmd *c, size_t *len)
{
    char fresh[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(fresh);
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.id = (char *)(c->id ? c->id : fresh);
    e.type = (char *)c->type;
    e.actor_id = (char *)(c->actor ? c->actor : "");
    e.actor_role = (char *)(c->role ? c->role : "");
    e.deadline_us = c->deadline;
    uint8_t *payload = NULL;
    if (c->msg) {
        e.payload.len = protobuf_c_message_get_packed_size(c->msg);
        payload = malloc(e.payload.len + 1);
        protobuf_c_message_pack(c->msg, payload);
        e.payload.data = payload;
    }
    *len = ccip__envelope__get_packed_size(&e);
    uint8_t *buf = malloc(*len);
    ccip__envelope__pack(&e, buf);
    free(payload);
    return buf;
}

/* Replaces the first `mark` in buf by `with` (same length): how bytes that
 * protobuf-c would not pack (a NUL, invalid UTF-8) get into a string. */
static void s_patch(uint8_t *buf, size_t len, const char *mark, const char *with, size_t n)
{
    size_t m = strlen(mark);
    assert_int_equal(m, n);
    for (size_t i = 0; i + m <= len; i++) {
        if (memcmp(buf + i, mark, m) == 0) {
            memcpy(buf + i, with, n);
            return;
        }
    }
    fail_msg("mark %s not in the message", mark);
}

/* Reads one [CLIENT][service][envelope] reply from d within timeout_ms. */
static Ccip__Envelope *s_read_reply(void *d, int timeout_ms)
{
    zmq_pollitem_t it = {d, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, timeout_ms) != 1)
        return NULL;
    zmq_msg_t f[3];
    int n = ccip_sock_recv_parts(d, f, 3, 0);
    Ccip__Envelope *r = NULL;
    if (n == 3) {
        char err[300];
        r = ccip_envelope_unpack(zmq_msg_data(&f[2]), zmq_msg_size(&f[2]), REPLY_MAX, err,
                                 sizeof err);
        if (!r)
            fprintf(stderr, "undecodable reply: %s\n", err);
    }
    for (int i = 0; n <= 3 && i < n; i++)
        zmq_msg_close(&f[i]);
    return r;
}

/* Sends envelope bytes to `service` on a fresh DEALER with keys kp and
 * waits for the one reply (NULL when none came). */
static Ccip__Envelope *s_raw(const ccip_keypair *kp, const char *service, const uint8_t *env,
                             size_t len, int timeout_ms)
{
    void *d = s_sock(ZMQ_DEALER, s_env.commands, kp);
    const void *data[] = {CCIP_MDP_CLIENT, service, env};
    size_t lens[] = {strlen(CCIP_MDP_CLIENT), strlen(service), len};
    ccip_sock_send_frames(d, data, lens, 3, 0);
    Ccip__Envelope *r = s_read_reply(d, timeout_ms);
    ccip_sock_close(&d);
    return r;
}

/* Packs c, sends it to intake with keys kp, returns the reply. */
static Ccip__Envelope *s_call(const ccip_keypair *kp, const s_cmd *c)
{
    size_t len;
    uint8_t *buf = s_pack(c, &len);
    Ccip__Envelope *r = s_raw(kp, "intake", buf, len, 5000);
    free(buf);
    if (!r)
        s_fail_with_logs("intake did not answer");
    return r;
}

/* s_call that must succeed; returns the reply. */
static Ccip__Envelope *s_ok(const ccip_keypair *kp, const s_cmd *c)
{
    Ccip__Envelope *r = s_call(kp, c);
    if (r->status != CCIP__STATUS__OK) {
        char what[800];
        snprintf(what, sizeof what, "%s: %s: %s", c->type, ccip_status_name(r->status), r->error);
        s_fail_with_logs(what);
    }
    return r;
}

static void s_has(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" lacks \"%s\"", text, part);
}

/* 1 when a line of <dir>/<name>.log holds both parts (b may be NULL). */
static int s_log_has(const char *name, const char *a, const char *b)
{
    char path[400], line[4096];
    snprintf(path, sizeof path, "%s/%s.log", s_env.dir, name);
    FILE *f = fopen(path, "r");
    int found = 0;
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, a) && (!b || strstr(line, b));
    if (f)
        fclose(f);
    return found;
}

/* Row counts of every table of the schemas of the services this test
 * runs, as one text: "intake:application=3,call=2,...;evaluation:...".
 * Only these: a hostile frame reaches only the services on this test's
 * own bus, and the other schemas belong to the suites that scripts/test
 * runs beside this one (their rows change meanwhile). The service's own
 * scheduled runs are left out of command_log (they come on their own). */
static void s_snapshot(char *out, size_t len)
{
    static const char *const svcs[] = {"intake", "evaluation"};
    static const char sql[] =
        "SELECT coalesce(string_agg(table_name || '=' || (xpath('/row/c/text()', query_to_xml("
        "format('SELECT count(*) AS c FROM %I.%I%s', table_schema, table_name, CASE WHEN "
        "table_name = 'command_log' THEN ' WHERE command_id NOT LIKE ''schedule:%%''' ELSE '' END),"
        " false, true, '')))[1]::text, ',' ORDER BY table_name), '') FROM information_schema.tables"
        " WHERE table_schema = $1 AND table_type = 'BASE TABLE'";
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof svcs / sizeof svcs[0]; i++) {
        char ci[1024];
        if (ccip_test_conninfo(svcs[i], ci, sizeof ci) < 0)
            continue;
        PGconn *c = PQconnectdb(ci);
        const char *params[] = {svcs[i]};
        PGresult *r = PQstatus(c) == CONNECTION_OK
                          ? PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0)
                          : NULL;
        if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s:%s;", svcs[i],
                                  PQgetvalue(r, 0, 0));
        else
            fail_msg("could not count the rows of %s: %s", svcs[i], PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
    }
}

static void s_same_rows(const char *before, const char *what)
{
    char after[SNAPSHOT_BYTES];
    s_snapshot(after, sizeof after);
    if (strcmp(before, after) != 0) {
        fprintf(stderr, "before: %s\nafter:  %s\n", before, after);
        fail_msg("%s changed rows", what);
    }
}

/* The bus's resident size in KiB (/proc/<pid>/status VmRSS), or -1. */
static long s_rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atol(line + 6);
    if (f)
        fclose(f);
    return kib;
}

/* Registers organisation uscc as itself with key kp under command id id
 * (NULL: fresh), name `name`; returns the reply. */
static Ccip__Envelope *s_register(const ccip_keypair *kp, const char *id, const char *uscc,
                                  const char *actor, const char *name)
{
    Ccip__Intake__RegisterOrganisationRequest rq =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    rq.uscc = (char *)uscc;
    rq.name = (char *)name;
    rq.type = CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE;
    rq.district = "Chaoyang";
    rq.legal_representative = "王芳";
    rq.contact_name = "Li Ming";
    rq.contact_phone = "010-6512 3456";
    rq.contact_email = "office-a@example.cn";
    s_cmd c = {.id = id,
               .type = "intake.organisation.register.v1",
               .actor = actor,
               .role = "applicant",
               .msg = &rq.base};
    return s_call(kp, &c);
}

/* Opens a call closing at closes_us as staff (the any-person front door). */
static void s_open_call(int64_t closes_us, char id[CCIP_UUID_STRLEN + 1])
{
    Ccip__Intake__OpenCallRequest rq = CCIP__INTAKE__OPEN_CALL_REQUEST__INIT;
    rq.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    rq.year = 2027;
    rq.title = "2027 call, wire test";
    rq.opens_at_us = ccip_now_us() / 1000000 * 1000000 - HOUR_US;
    rq.closes_at_us = closes_us;
    s_cmd c = {
        .type = "intake.call.open.v1", .actor = "staff-li", .role = "staff", .msg = &rq.base};
    Ccip__Envelope *r = s_ok(&s_env.front_keys, &c);
    Ccip__Intake__CallReply *cr = (Ccip__Intake__CallReply *)ccip_payload_unpack(
        &ccip__intake__call_reply__descriptor, r->payload.data, r->payload.len, REPLY_MAX, NULL, 0);
    assert_non_null(cr);
    snprintf(id, CCIP_UUID_STRLEN + 1, "%s", cr->call->id);
    protobuf_c_message_free_unpacked(&cr->base, NULL);
    ccip_envelope_free(&r);
}

/* ---- set-up ----------------------------------------------------------------------- */

static int s_wait_for(const char *service)
{
    for (int i = 0; i < 100; i++) {
        s_cmd c = {.type = "ccip.ping.v1"};
        size_t len;
        uint8_t *buf = s_pack(&c, &len);
        Ccip__Envelope *r = s_raw(&s_env.admin_keys, service, buf, len, 500);
        free(buf);
        int ok = r && r->status == CCIP__STATUS__OK;
        ccip_envelope_free(&r);
        if (ok)
            return 0;
        ccip_test_sleep_ms(100);
    }
    fprintf(stderr, "%s did not answer\n", service);
    return -1;
}

static int s_setup(void **state)
{
    (void)state;
    if (ccip_test_env_init(&s_env) < 0)
        return -1;
    s_ctx = zmq_ctx_new();
    s_uscc(s_uscc_a);
    s_uscc(s_uscc_b);
    snprintf(s_actor_a, sizeof s_actor_a, "org:%s", s_uscc_a);
    snprintf(s_actor_b, sizeof s_actor_b, "org:%s", s_uscc_b);
    ccip_key_binding zhou = {.kind = CCIP_KEY_FRONT_DOOR, .person = "staff-zhou", .nroles = 1};
    snprintf(zhou.roles[0], sizeof zhou.roles[0], "staff");
    ccip_key_binding a = {.kind = CCIP_KEY_FRONT_DOOR, .nroles = 1};
    snprintf(a.person, sizeof a.person, "%s", s_actor_a);
    snprintf(a.roles[0], sizeof a.roles[0], "applicant");
    ccip_key_binding b = a;
    snprintf(b.person, sizeof b.person, "%s", s_actor_b);
    if (s_make_key("zhou-min", &zhou, &s_zhou) < 0 || s_make_key("org-a", &a, &s_org_a) < 0 ||
        s_make_key("org-b", &b, &s_org_b) < 0 || s_load_key("evaluation", &s_evaluation) < 0 ||
        s_load_key("funding", &s_funding) < 0)
        return -1;
    /* Small bounds, so that the test reaches them quickly. */
    char v[32];
    snprintf(v, sizeof v, "%d", MAX_WAIT_MS);
    setenv("CCIP_BUS_MAX_WAIT_MS", v, 1);
    snprintf(v, sizeof v, "%d", 8 * MIB);
    setenv("CCIP_BUS_MAX_QUEUED_BYTES", v, 1);
    snprintf(v, sizeof v, "%d", 24 * MIB);
    setenv("CCIP_BUS_MAX_QUEUED_BYTES_TOTAL", v, 1);
    snprintf(v, sizeof v, "%d", CLOSE_CHECK_S);
    setenv("CCIP_INTAKE_CLOSE_CHECK_SECONDS", v, 1);
    setenv("CCIP_EVALUATION_SWEEP_SECONDS", "0", 1);
    /* ASan keeps freed memory in quarantine; the bus must be able to give
     * it back for the memory rule to be measured at all. */
    setenv("ASAN_OPTIONS", "quarantine_size_mb=0:allocator_release_to_os_interval_ms=100", 1);
    s_bus = ccip_test_start_bus(&s_env);
    unsetenv("ASAN_OPTIONS");
    if (s_bus < 0 ||
        ccip_test_start_service(&s_env, "services/intake/intake", "intake", "intake-1") < 0 ||
        ccip_test_start_service(&s_env, "services/evaluation/evaluation", "evaluation",
                                "evaluation-1") < 0 ||
        s_wait_for("intake") < 0 || s_wait_for("evaluation") < 0) {
        ccip_test_env_cleanup(&s_env, 1);
        return -1;
    }
    /* Organisations A and B register as themselves (their bound keys). */
    Ccip__Envelope *r = s_register(&s_org_a, NULL, s_uscc_a, NULL, "Organisation A Ltd");
    Ccip__Envelope *r2 = s_register(&s_org_b, NULL, s_uscc_b, NULL, "Organisation B Ltd");
    int ok = r->status == CCIP__STATUS__OK && r2->status == CCIP__STATUS__OK;
    if (!ok)
        fprintf(stderr, "registering A and B: %s / %s\n", r->error, r2->error);
    ccip_envelope_free(&r);
    ccip_envelope_free(&r2);
    return ok ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    ccip_test_env_cleanup(&s_env, 0);
    return 0;
}

/* ---- what worked keeps working --------------------------------------------------- */

/* The right key registers and serves, and a bound front door acts as its
 * person, in its role, without saying so; its events reach their consumer. */
static void test_right_keys_still_work(void **state)
{
    (void)state;
    /* Served by the real intake, as the bound person. */
    s_cmd list = {.type = "intake.call.list.v1"};
    Ccip__Envelope *r = s_ok(&s_zhou, &list);
    assert_string_equal(r->source_instance, "intake-1");
    assert_string_equal(r->actor_id, "staff-zhou");
    assert_string_equal(r->actor_role, "staff");
    ccip_envelope_free(&r);
    /* ...and claiming its own person and role is the same. */
    list.actor = "staff-zhou";
    list.role = "staff";
    r = s_ok(&s_zhou, &list);
    ccip_envelope_free(&r);
    /* intake relays: its events reach evaluation, its consumer. */
    long long head = ccip_test_wait_count("intake", "SELECT head FROM outbox_state", 2, 5000);
    assert_true(head >= 2);
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT coalesce(max(position), 0) FROM consumer_cursor WHERE producer = 'intake'");
    assert_true(ccip_test_wait_count("evaluation", sql, head, 10000) >= head);
    /* A service key that is a consumer may replay; so may an admin key. */
    Ccip__ReplayRequest rr = CCIP__REPLAY_REQUEST__INIT;
    rr.from_position = 1;
    rr.max_events = 1;
    s_cmd replay = {.type = "ccip.replay.v1", .msg = &rr.base};
    r = s_ok(&s_evaluation, &replay);
    ccip_envelope_free(&r);
    r = s_ok(&s_env.admin_keys, &replay);
    ccip_envelope_free(&r);
    assert_true(s_log_has("intake-1", "event replay for an admin key", "peer=operator"));
    assert_true(s_log_has("bus", "command with an admin key", "key=operator"));
}

/* ---- case 1: a service key serves only its service, publishes only its topics ---- */

static void test_case1_service_key_bound(void **state)
{
    (void)state;
    char before[SNAPSHOT_BYTES];
    s_snapshot(before, sizeof before);
    /* evaluation's key says READY for intake. */
    void *w = s_sock(ZMQ_DEALER, s_env.commands, &s_evaluation);
    const void *ready[] = {CCIP_MDP_WORKER, CCIP_MDP_READY, "intake"};
    size_t rl[] = {strlen(CCIP_MDP_WORKER), 1, 6};
    ccip_sock_send_frames(w, ready, rl, 3, 0);
    ccip_test_sleep_ms(300);
    /* Front-door commands to intake: every one is answered by the real
     * intake, none reaches the impostor. intake has 8 slots: were the
     * impostor registered, the 9th idle replica would be it. */
    for (int i = 0; i < 12; i++) {
        s_cmd ping = {.type = "ccip.ping.v1", .actor = "staff-li", .role = "staff"};
        Ccip__Envelope *r = s_ok(&s_env.front_keys, &ping);
        assert_string_equal(r->source_instance, "intake-1");
        ccip_envelope_free(&r);
    }
    zmq_pollitem_t it = {w, 0, ZMQ_POLLIN, 0};
    while (zmq_poll(&it, 1, 200) == 1) {
        zmq_msg_t f[10];
        int n = ccip_sock_recv_parts(w, f, 10, 0);
        int request = n >= 2 && zmq_msg_size(&f[1]) == 1 &&
                      *(const char *)zmq_msg_data(&f[1]) == CCIP_MDP_REQUEST[0];
        for (int i = 0; n <= 10 && i < n; i++)
            zmq_msg_close(&f[i]);
        assert_false(request);
    }
    ccip_sock_close(&w);
    assert_true(s_log_has("bus", "refused a replica registration", "key=evaluation"));
    assert_true(s_log_has("bus", "refused a replica registration", "bound=evaluation"));

    /* evaluation's key publishes under intake's name: an accepted
     * application evaluation itself would open a case for. */
    long long head = ccip_test_query_number("intake", "SELECT head FROM outbox_state");
    Ccip__Intake__Organisation org = CCIP__INTAKE__ORGANISATION__INIT;
    org.uscc = s_uscc_a;
    org.name = "Organisation A Ltd";
    org.district_code = "110105";
    org.verified = 1;
    Ccip__Intake__ClusterFacts facts = CCIP__INTAKE__CLUSTER_FACTS__INIT;
    facts.cluster_name = "Forged Zone";
    Ccip__Intake__ApplicationAccepted acc = CCIP__INTAKE__APPLICATION_ACCEPTED__INIT;
    char app[CCIP_UUID_STRLEN + 1], call[CCIP_UUID_STRLEN + 1], evid[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(app);
    ccip_uuid_v7(call);
    ccip_uuid_v7(evid);
    acc.application_id = app;
    acc.call_id = call;
    acc.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    acc.year = 2027;
    acc.applicant = &org;
    acc.district_code = "110105";
    acc.title = "Forged";
    acc.facts_case = CCIP__INTAKE__APPLICATION_ACCEPTED__FACTS_CLUSTER;
    acc.cluster = &facts;
    uint8_t payload[1024];
    Ccip__Envelope ev = CCIP__ENVELOPE__INIT;
    ev.id = evid;
    ev.type = "intake.application.accepted.v1";
    ev.source_service = "intake";
    ev.aggregate_type = "application";
    ev.aggregate_id = app;
    ev.position = (uint64_t)head + 1;
    ev.occurred_at_us = ccip_now_us();
    ev.payload.data = payload;
    ev.payload.len = ccip__intake__application_accepted__pack(&acc, payload);
    uint8_t evbuf[2048];
    size_t evlen = ccip__envelope__pack(&ev, evbuf);
    /* And the same key under its own name, which must pass. */
    Ccip__Envelope own = CCIP__ENVELOPE__INIT;
    own.id = evid;
    own.type = "evaluation.wire.test.v1";
    own.source_service = "evaluation";
    uint8_t ownbuf[256];
    size_t ownlen = ccip__envelope__pack(&own, ownbuf);

    void *sub = s_sock(ZMQ_SUB, s_env.subscribe, &s_env.admin_keys);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "intake.", 7);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "evaluation.wire", 15);
    void *pub = s_sock(ZMQ_PUB, s_env.publish, &s_evaluation);
    int forged = 0, own_seen = 0, heartbeats = 0;
    for (int64_t until = ccip_now_us() + 2500000; ccip_now_us() < until;) {
        zmq_send(pub, "intake.application.accepted.v1", 30, ZMQ_SNDMORE);
        zmq_send(pub, evbuf, evlen, 0);
        zmq_send(pub, "evaluation.wire.test.v1", 23, ZMQ_SNDMORE);
        zmq_send(pub, ownbuf, ownlen, 0);
        zmq_pollitem_t si = {sub, 0, ZMQ_POLLIN, 0};
        while (zmq_poll(&si, 1, 50) == 1) {
            char topic[64] = "";
            int n = zmq_recv(sub, topic, sizeof topic - 1, 0);
            topic[n > 0 && n < 64 ? n : 0] = '\0';
            char body[4096];
            zmq_recv(sub, body, sizeof body, 0);
            forged += strcmp(topic, "intake.application.accepted.v1") == 0;
            own_seen += strcmp(topic, "evaluation.wire.test.v1") == 0;
            heartbeats += strcmp(topic, "intake.stream.heartbeat.v1") == 0;
        }
    }
    ccip_sock_close(&pub);
    ccip_sock_close(&sub);
    assert_int_equal(forged, 0);
    assert_true(own_seen > 0);   /* the key publishes under its own name */
    assert_true(heartbeats > 0); /* and intake's real stream flows */
    assert_true(s_log_has("bus", "refused an event", "key=evaluation"));
    ccip_test_sleep_ms(1500); /* what got through would be applied by now */
    s_same_rows(before, "a service key posing as intake");
}

/* ---- case 2: a command id belongs to its caller, type and payload ------------------- */

static void test_case2_command_ids_scoped(void **state)
{
    (void)state;
    char uscc[19], actor[32], id[CCIP_UUID_STRLEN + 1];
    s_uscc(uscc);
    snprintf(actor, sizeof actor, "org:%s", uscc);
    ccip_uuid_v7(id);
    /* A registers (as itself, through the any-person front door, as a web
     * user would) under command id `id`. */
    Ccip__Envelope *first = s_register(&s_env.front_keys, id, uscc, actor, "First Name Ltd");
    assert_int_equal(first->status, CCIP__STATUS__OK);
    char before[SNAPSHOT_BYTES];
    s_snapshot(before, sizeof before);

    /* B withdraws "an application" under A's command id: refused, and B
     * sees nothing of A's registration. */
    Ccip__Intake__ApplicationActionRequest wd = CCIP__INTAKE__APPLICATION_ACTION_REQUEST__INIT;
    char some_app[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(some_app);
    wd.application_id = some_app;
    s_cmd c = {.id = id, .type = "intake.application.withdraw.v1", .msg = &wd.base};
    Ccip__Envelope *r = s_call(&s_org_b, &c);
    assert_int_equal(r->status, CCIP__STATUS__ALREADY_EXISTS);
    s_has(r->error, "already used by another caller");
    s_has(r->error, "use a new command id for a new request");
    assert_int_equal(r->payload.len, 0);
    assert_null(strstr(r->error, "office-a@example.cn"));
    assert_null(strstr(r->error, "register"));
    assert_string_equal(r->type, "intake.application.withdraw.v1");
    ccip_envelope_free(&r);
    /* The same request under the same id from another key, even claiming
     * A's person: another caller. */
    r = s_register(&s_env.admin_keys, id, uscc, actor, "First Name Ltd");
    assert_int_equal(r->status, CCIP__STATUS__ALREADY_EXISTS);
    s_has(r->error, "another caller");
    ccip_envelope_free(&r);
    /* A again, with another name: not applied, not answered OK. */
    r = s_register(&s_env.front_keys, id, uscc, actor, "Second Name Ltd");
    assert_int_equal(r->status, CCIP__STATUS__ALREADY_EXISTS);
    s_has(r->error, "with another payload");
    ccip_envelope_free(&r);
    /* A again, another type. */
    Ccip__Intake__UpdateOrganisationRequest upd = CCIP__INTAKE__UPDATE_ORGANISATION_REQUEST__INIT;
    Ccip__Intake__RegisterOrganisationRequest det =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    det.uscc = uscc;
    det.name = "Third Name Ltd";
    upd.details = &det;
    upd.reason = "renamed";
    s_cmd u = {.id = id,
               .type = "intake.organisation.update.v1",
               .actor = actor,
               .role = "applicant",
               .msg = &upd.base};
    r = s_call(&s_env.front_keys, &u);
    assert_int_equal(r->status, CCIP__STATUS__ALREADY_EXISTS);
    s_has(r->error, "already used for intake.organisation.register.v1");
    ccip_envelope_free(&r);
    s_same_rows(before, "commands reusing another's command id");
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM organisation WHERE uscc = '%s' AND name = "
             "'First Name Ltd'",
             uscc);
    assert_int_equal(ccip_test_query_number("intake", sql), 1);

    /* A's retry of the very same request gets the stored reply. */
    r = s_register(&s_env.front_keys, id, uscc, actor, "First Name Ltd");
    assert_int_equal(r->status, CCIP__STATUS__OK);
    assert_int_equal(r->payload.len, first->payload.len);
    assert_memory_equal(r->payload.data, first->payload.data, r->payload.len);
    ccip_envelope_free(&r);
    ccip_envelope_free(&first);
    s_same_rows(before, "a retry");
}

/* ---- case 3: scheduled runs cannot be squatted ------------------------------------- */

static void test_case3_schedule_not_squatted(void **state)
{
    (void)state;
    int64_t now_s = ccip_now_us() / 1000000;
    int64_t next = (now_s / CLOSE_CHECK_S + 1) * CLOSE_CHECK_S;
    char before[SNAPSHOT_BYTES];
    s_snapshot(before, sizeof before);
    /* The scheduled runs' own ids: refused to every key, even intake's
     * staff and a service key. */
    for (int k = 0; k < 2; k++) {
        char id[128];
        snprintf(id, sizeof id, "schedule:intake.call.close_due.v1@%lld", (long long)next + 2 * k);
        Ccip__Intake__CloseDueRequest cd = CCIP__INTAKE__CLOSE_DUE_REQUEST__INIT;
        s_cmd c = {.id = id,
                   .type = "intake.call.close_due.v1",
                   .actor = "staff-li",
                   .role = "staff",
                   .msg = &cd.base};
        Ccip__Envelope *r = s_call(&s_env.front_keys, &c);
        assert_int_equal(r->status, CCIP__STATUS__PERMISSION_DENIED);
        s_has(r->error, "belong to intake's own scheduled runs");
        ccip_envelope_free(&r);
        Ccip__Intake__RegisterOrganisationRequest rq =
            CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
        s_cmd squat = {.id = id, .type = "intake.organisation.register.v1", .msg = &rq.base};
        r = s_call(&s_evaluation, &squat);
        assert_int_equal(r->status, CCIP__STATUS__PERMISSION_DENIED);
        ccip_envelope_free(&r);
    }
    s_same_rows(before, "commands under scheduled ids");
    /* The ids scheduled runs used to have are ordinary ids now: taking the
     * next ones changes nothing for the schedule. */
    for (int k = 0; k < 2; k++) {
        char id[128], uscc[19], actor[32];
        snprintf(id, sizeof id, "intake.call.close_due.v1@%lld", (long long)next + 2 * k);
        s_uscc(uscc);
        snprintf(actor, sizeof actor, "org:%s", uscc);
        Ccip__Envelope *r = s_register(&s_env.front_keys, id, uscc, actor, "Squatter Ltd");
        assert_int_equal(r->status, CCIP__STATUS__OK);
        ccip_envelope_free(&r);
    }
    /* A call due to close in 3 s is closed by the schedule within a few
     * periods. */
    char call[CCIP_UUID_STRLEN + 1], sql[300];
    s_open_call((ccip_now_us() / 1000000 + 3) * 1000000, call);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM outbox WHERE type = 'intake.call.closed.v1' AND aggregate_id = "
             "'%s'",
             call);
    if (ccip_test_wait_count("intake", sql, 1, 3000 + 4 * CLOSE_CHECK_S * 1000) != 1)
        s_fail_with_logs("the due call was not closed by intake's schedule");
    /* Only intake itself ever stored under a scheduled id. */
    assert_int_equal(ccip_test_query_number("intake",
                                            "SELECT count(*) FROM command_log WHERE command_id "
                                            "LIKE 'schedule:%' AND caller_role <> 'system'"),
                     0);
    assert_true(ccip_test_query_number("intake", "SELECT count(*) FROM command_log WHERE "
                                                 "command_id LIKE 'schedule:%'") > 0);
}

/* ---- case 4: every string is checked, whole -------------------------------------- */

static void test_case4_strings_checked(void **state)
{
    (void)state;
    char call[CCIP_UUID_STRLEN + 1], app[CCIP_UUID_STRLEN + 1];
    s_open_call(ccip_now_us() + 30 * 24 * HOUR_US, call);
    /* A's application, drafted by A. */
    Ccip__Intake__ClusterFacts facts = CCIP__INTAKE__CLUSTER_FACTS__INIT;
    facts.cluster_name = "798 Art Zone";
    facts.location = "Jiuxianqiao Road 4";
    facts.area_m2 = 230000;
    facts.enterprise_count = 400;
    facts.employee_count = 9000;
    facts.lead_operator = "Seven Star Group";
    Ccip__Intake__ApplicationContent content = CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    content.title = "Good@title";
    content.summary = "A zone of studios;\nopen to schools.";
    content.district = "110105";
    content.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
    content.cluster = &facts;
    Ccip__Intake__DraftApplicationRequest dr = CCIP__INTAKE__DRAFT_APPLICATION_REQUEST__INIT;
    dr.call_id = call;
    dr.applicant_uscc = s_uscc_a;
    dr.content = &content;
    s_cmd draft = {.type = "intake.application.draft.v1", .msg = &dr.base};
    Ccip__Envelope *r = s_ok(&s_org_a, &draft);
    Ccip__Intake__ApplicationReply *ar = (Ccip__Intake__ApplicationReply *)ccip_payload_unpack(
        &ccip__intake__application_reply__descriptor, r->payload.data, r->payload.len, REPLY_MAX,
        NULL, 0);
    assert_non_null(ar);
    snprintf(app, sizeof app, "%s", ar->application->id);
    protobuf_c_message_free_unpacked(&ar->base, NULL);
    ccip_envelope_free(&r);
    char before[SNAPSHOT_BYTES];
    s_snapshot(before, sizeof before);

    /* A title with a NUL: refused naming the field, not stored cut. */
    size_t len;
    uint8_t *buf = s_pack(&draft, &len);
    s_patch(buf, len, "Good@title", "Good\0title", 10);
    r = s_raw(&s_org_a, "intake", buf, len, 5000);
    free(buf);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__INVALID_ARGUMENT);
    s_has(r->error, "field `content.title` contains a NUL byte at byte 5");
    ccip_envelope_free(&r);

    /* A real code followed by \0junk does not find the real organisation. */
    char code[32];
    snprintf(code, sizeof code, "%s@junk", s_uscc_a);
    Ccip__Intake__GetOrganisationRequest go = CCIP__INTAKE__GET_ORGANISATION_REQUEST__INIT;
    go.uscc = code;
    s_cmd get = {.type = "intake.organisation.get.v1", .msg = &go.base};
    buf = s_pack(&get, &len);
    char with[64];
    memcpy(with, code, strlen(code));
    with[18] = '\0';
    s_patch(buf, len, code, with, strlen(code));
    r = s_raw(&s_org_a, "intake", buf, len, 5000);
    free(buf);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__INVALID_ARGUMENT);
    s_has(r->error, "field `uscc` contains a NUL byte at byte 19");
    assert_int_equal(r->payload.len, 0);
    ccip_envelope_free(&r);

    /* An application id followed by \0zzz does not find the application. */
    char idz[48];
    snprintf(idz, sizeof idz, "%s@zzz", app);
    Ccip__Intake__GetApplicationRequest ga = CCIP__INTAKE__GET_APPLICATION_REQUEST__INIT;
    ga.application_id = idz;
    s_cmd geta = {.type = "intake.application.get.v1", .msg = &ga.base};
    buf = s_pack(&geta, &len);
    memcpy(with, idz, strlen(idz));
    with[36] = '\0';
    s_patch(buf, len, idz, with, strlen(idz));
    r = s_raw(&s_org_a, "intake", buf, len, 5000);
    free(buf);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__INVALID_ARGUMENT);
    s_has(r->error, "field `application_id` contains a NUL byte at byte 37");
    assert_int_equal(r->payload.len, 0);
    ccip_envelope_free(&r);

    /* Two command ids that differ only after a NUL: the bus refuses both,
     * so neither can collide with the other. */
    char cid[48];
    ccip_uuid_v7(cid);
    strcat(cid, "@a");
    Ccip__Intake__RegisterOrganisationRequest rq =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    char uscc[19];
    s_uscc(uscc);
    rq.uscc = uscc;
    rq.name = "NUL id Ltd";
    rq.type = CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE;
    rq.district = "Chaoyang";
    char actor[32];
    snprintf(actor, sizeof actor, "org:%s", uscc);
    s_cmd reg = {.id = cid,
                 .type = "intake.organisation.register.v1",
                 .actor = actor,
                 .role = "applicant",
                 .msg = &rq.base};
    buf = s_pack(&reg, &len);
    memcpy(with, cid, strlen(cid));
    with[36] = '\0';
    s_patch(buf, len, cid, with, strlen(cid));
    r = s_raw(&s_env.front_keys, "intake", buf, len, 5000);
    free(buf);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__INVALID_ARGUMENT);
    s_has(r->error, "envelope field `id` contains a NUL byte at byte 37");
    assert_string_equal(r->source_service, "bus");
    ccip_envelope_free(&r);

    /* An actor id that is not UTF-8: refused, never echoed back. */
    s_cmd bad = {.type = "intake.call.list.v1", .actor = "staff-\x01x", .role = "staff"};
    buf = s_pack(&bad, &len);
    s_patch(buf, len, "staff-\x01x", "staff-\xff\xfe", 8);
    r = s_raw(&s_env.front_keys, "intake", buf, len, 5000);
    free(buf);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__INVALID_ARGUMENT);
    s_has(r->error, "envelope field `actor_id` is not valid UTF-8 at byte 7");
    ccip_envelope_free(&r);

    s_same_rows(before, "strings with NUL bytes and invalid UTF-8");
    /* And the real ones still work. */
    go.uscc = s_uscc_a;
    r = s_ok(&s_org_a, &get);
    ccip_envelope_free(&r);
}

/* ---- case 5: replay for consumers only ------------------------------------------- */

static void test_case5_replay_for_consumers(void **state)
{
    (void)state;
    Ccip__ReplayRequest rr = CCIP__REPLAY_REQUEST__INIT;
    rr.from_position = 1;
    s_cmd c = {.type = "ccip.replay.v1", .actor = "op-1", .role = "operator", .msg = &rr.base};
    /* A front door claiming role operator, a bound person, a service that
     * does not consume intake: all refused. */
    const ccip_keypair *refused[] = {&s_env.front_keys, &s_zhou, &s_funding, &s_env.client_keys};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        c.actor = i == 0 ? "op-1" : NULL;
        c.role = i == 0 ? "operator" : NULL;
        Ccip__Envelope *r = s_call(refused[i], &c);
        assert_int_equal(r->status, CCIP__STATUS__PERMISSION_DENIED);
        s_has(r->error, "answers only the services that consume its events (evaluation, stats, "
                        "gateway, notify)");
        assert_int_equal(r->payload.len, 0);
        ccip_envelope_free(&r);
    }
    /* Its consumer and an admin key are answered. */
    c.actor = c.role = NULL;
    Ccip__Envelope *r = s_ok(&s_evaluation, &c);
    assert_true(r->payload.len > 0);
    ccip_envelope_free(&r);
    r = s_ok(&s_env.admin_keys, &c);
    ccip_envelope_free(&r);
    /* Nor can a front door read the live stream: it is not let in. */
    void *sub = s_sock(ZMQ_SUB, s_env.subscribe, &s_env.front_keys);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "intake.", 7);
    zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&it, 1, 2500), 0); /* heartbeats come every second */
    ccip_sock_close(&sub);
    assert_true(s_log_has("bus", "refused a client", "domain=ccip.subscribe"));
}

/* ---- bound front doors ------------------------------------------------------------ */

static void test_bound_front_door_claims(void **state)
{
    (void)state;
    char before[SNAPSHOT_BYTES];
    s_snapshot(before, sizeof before);
    /* zhou-min claims another person, or a role it does not hold. */
    s_cmd c = {.type = "intake.call.list.v1", .actor = "staff-li", .role = "staff"};
    Ccip__Envelope *r = s_call(&s_zhou, &c);
    assert_int_equal(r->status, CCIP__STATUS__PERMISSION_DENIED);
    s_has(r->error, "bound to person staff-zhou and may not act as staff-li");
    assert_string_equal(r->source_service, "bus");
    ccip_envelope_free(&r);
    c.actor = NULL;
    c.role = "admin";
    r = s_call(&s_zhou, &c);
    assert_int_equal(r->status, CCIP__STATUS__PERMISSION_DENIED);
    s_has(r->error, "may not claim role \"admin\"");
    ccip_envelope_free(&r);
    /* A applicant key cannot act as B's. */
    Ccip__Intake__RegisterOrganisationRequest rq =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    rq.uscc = s_uscc_b;
    rq.name = "Hijacked Ltd";
    s_cmd upd = {.type = "intake.organisation.register.v1",
                 .actor = s_actor_b,
                 .role = "applicant",
                 .msg = &rq.base};
    r = s_call(&s_org_a, &upd);
    assert_int_equal(r->status, CCIP__STATUS__PERMISSION_DENIED);
    ccip_envelope_free(&r);
    /* The gateway's key may assert anyone, but never a key's role. */
    c.actor = "anyone";
    c.role = "service";
    r = s_call(&s_env.front_keys, &c);
    assert_int_equal(r->status, CCIP__STATUS__PERMISSION_DENIED);
    ccip_envelope_free(&r);
    assert_true(s_log_has("bus", "refused a command", "key=zhou-min"));
    assert_true(s_log_has("bus", "refused a command", "key=org-a"));
    s_same_rows(before, "front doors claiming outside their binding");
}

/* ---- case 6: a bounded bus ----------------------------------------------------------- */

static void test_case6_bounded_bus(void **state)
{
    (void)state;
    ccip_test_sleep_ms(500);
    long idle = s_rss_kib(s_bus);
    assert_true(idle > 0);
    /* A ping to a name nobody serves, with deadline INT64_MAX: at once. */
    s_cmd ping = {.type = "ccip.ping.v1", .deadline = INT64_MAX};
    size_t len;
    uint8_t *buf = s_pack(&ping, &len);
    int64_t t0 = ccip_now_us();
    Ccip__Envelope *r = s_raw(&s_env.front_keys, "nobody_serves_this", buf, len, 5000);
    free(buf);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__UNAVAILABLE);
    s_has(r->error, "no service nobody_serves_this is known to the bus");
    assert_true(ccip_now_us() - t0 < 1000000);
    ccip_envelope_free(&r);

    /* 100 commands of 1 MiB, each to another unserved name. */
    static uint8_t big[MIB];
    memset(big, 'x', sizeof big);
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.type = "ccip.ping.v1";
    e.deadline_us = INT64_MAX;
    e.payload.data = big;
    e.payload.len = sizeof big;
    void *d = s_sock(ZMQ_DEALER, s_env.commands, &s_env.front_keys);
    uint8_t *ebuf = malloc(MIB + 256); /* the payload and a short envelope around it */
    size_t elen;
    long peak = idle;
    int answered = 0;
    t0 = ccip_now_us();
    for (int i = 0; i < 100; i++) {
        char id[40], name[32];
        snprintf(id, sizeof id, "big-%d", i);
        snprintf(name, sizeof name, "unserved_%d", i);
        e.id = id;
        elen = ccip__envelope__pack(&e, ebuf);
        const void *data[] = {CCIP_MDP_CLIENT, name, ebuf};
        size_t lens[] = {strlen(CCIP_MDP_CLIENT), strlen(name), elen};
        ccip_sock_send_frames(d, data, lens, 3, 0);
        long now = s_rss_kib(s_bus);
        peak = now > peak ? now : peak;
    }
    while (answered < 100) {
        Ccip__Envelope *x = s_read_reply(d, 3000);
        if (!x)
            break;
        answered += x->status == CCIP__STATUS__UNAVAILABLE;
        ccip_envelope_free(&x);
    }
    assert_int_equal(answered, 100);
    assert_true(ccip_now_us() - t0 < 10000000);

    /* The bus logged a few of those refusals one by one and counted the
     * rest: a flood of bad commands does not flood its log. */
    ccip_test_sleep_ms(1100);
    assert_true(s_log_has("bus", "refusals not logged one by one", NULL));

    /* A name the registry knows (probeb has a key, no replica runs): it
     * waits, but no longer than the cap; its bytes are capped (8 MiB). */
    e.deadline_us = INT64_MAX;
    int exhausted = 0, unavailable = 0;
    t0 = ccip_now_us();
    for (int i = 0; i < 12; i++) {
        char id[40];
        snprintf(id, sizeof id, "known-%d", i);
        e.id = id;
        elen = ccip__envelope__pack(&e, ebuf);
        const void *data[] = {CCIP_MDP_CLIENT, "probeb", ebuf};
        size_t lens[] = {strlen(CCIP_MDP_CLIENT), 6, elen};
        ccip_sock_send_frames(d, data, lens, 3, 0);
    }
    for (int i = 0; i < 12; i++) {
        Ccip__Envelope *x = s_read_reply(d, MAX_WAIT_MS + 3000);
        if (!x)
            break;
        exhausted += x->status == CCIP__STATUS__RESOURCE_EXHAUSTED;
        unavailable += x->status == CCIP__STATUS__UNAVAILABLE;
        long now = s_rss_kib(s_bus);
        peak = now > peak ? now : peak;
        ccip_envelope_free(&x);
    }
    int64_t waited_ms = (ccip_now_us() - t0) / 1000;
    assert_true(exhausted >= 3);
    assert_int_equal(exhausted + unavailable, 12);
    assert_true(waited_ms >= MAX_WAIT_MS - 200 && waited_ms < MAX_WAIT_MS + 3000);
    free(ebuf);
    ccip_sock_close(&d);
    assert_true(s_log_has("bus", "refused a command", "status=RESOURCE_EXHAUSTED"));

    /* The memory comes back: within twice the idle size in 10 s. */
    long after = -1;
    for (int i = 0; i < 100; i++) {
        after = s_rss_kib(s_bus);
        if (after <= 2 * idle)
            break;
        ccip_test_sleep_ms(100);
    }
    fprintf(stderr, "bus RSS: idle %ld KiB, peak %ld KiB, after %ld KiB\n", idle, peak, after);
    assert_true(after <= 2 * idle);
    /* And it serves. */
    s_cmd p2 = {.type = "ccip.ping.v1"};
    r = s_ok(&s_env.front_keys, &p2);
    ccip_envelope_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_right_keys_still_work),
        cmocka_unit_test(test_case1_service_key_bound),
        cmocka_unit_test(test_case2_command_ids_scoped),
        cmocka_unit_test(test_case3_schedule_not_squatted),
        cmocka_unit_test(test_case4_strings_checked),
        cmocka_unit_test(test_case5_replay_for_consumers),
        cmocka_unit_test(test_bound_front_door_claims),
        cmocka_unit_test(test_case6_bounded_bus),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
