/*
 * The stats service end to end: the real bus, intake and stats processes,
 * real PostgreSQL, commands sent through the front door with a person's
 * role, the way ccipctl sends them. One test per rule of issue 7.
 *
 * Every test makes its own roster entries (fresh ids and operator codes)
 * and, where totals matter, its own cluster category, so the tests share
 * one bus and one stats and may run in any order against a database that
 * has seen earlier runs.
 *
 * Quarters are relative to today: Q(0) is the current quarter (started,
 * open, due in the future), Q(-8) two years ago (locked).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip/evaluation.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip/stats.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_keys.h"
#include "ccip_sock.h"
#include "ccip_test_proc.h"
#include "ccip_test_producer.h"
#include "ccip_test_svc.h"
#include "ccip_validate.h"
#include "ccip_worker.h"
#include "stats_quarter.h"

#define STAFF     "staff", "staff-wang"
#define ADMIN     "admin", "admin-zhou"
#define ANALYST   "analyst", "analyst-liu"
#define LOCK_DAYS 60 /* stats.lock_days for this suite */
#define DUE_DAYS  20 /* stats.due_days */
#define EXC_DAYS  10 /* stats.max_exception_days */
#define HOUR_US   (3600LL * 1000000)
#define DAY_US    (24 * HOUR_US)

#define COUNT CCIP__STATS__UNIT__COUNT
#define FEN   CCIP__STATS__UNIT__FEN
#define M2    CCIP__STATS__UNIT__SQUARE_METRES
#define PCT   CCIP__STATS__UNIT__PERCENT

static ccip_test_svc s_svc;   /* the bus, intake, stats, the clients, the last sentence */
static stats_quarter s_now_q; /* the current quarter */
static char s_run[16];        /* distinguishes this run's ids from earlier runs' */

/* ---- helpers -------------------------------------------------------------- */

/* Quarter n quarters from now, as text. */
static const char *s_q(int n)
{
    static char buf[8][8];
    static int next;
    char *b = buf[next++ % 8];
    stats_quarter_format(stats_quarter_add(s_now_q, n), b, 8);
    return b;
}

static int s_send(const char *role, const char *actor, const char *type,
                  const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc,
                  ProtobufCMessage **out)
{
    return ccip_test_send(&s_svc, role, actor, type, msg, NULL, desc, out);
}

/* ccip_test_ok to `service`. */
static ProtobufCMessage *s_ok_at(const char *service, const char *role, const char *actor,
                                 const char *type, const ProtobufCMessage *msg,
                                 const ProtobufCMessageDescriptor *desc)
{
    ccip_test_cmd c = {
        .service = service, .role = role, .actor = actor, .type = type, .msg = msg, .out = desc};
    return ccip_test_ok_cmd(&s_svc, &c);
}

/* ---- stand-ins for evaluation, funding and ip ---------------------------------- */

/* tests/support/ccip_test_producer.h: they answer replay and heartbeat like
 * real replicas; stats fetches their events by replay. */
static ccip_test_producer *s_evaluation, *s_funding, *s_ip;

/* Appends an event carrying msg. */
static void s_fake_add(ccip_test_producer *f, const char *type, const char *aggregate_type,
                       const char *aggregate_id, const ProtobufCMessage *msg)
{
    assert_true(ccip_test_producer_add(f, type, aggregate_type, aggregate_id, msg, "office-chen",
                                       "office") > 0);
}

/* Waits until stats has applied everything f published. */
static void s_fake_wait(ccip_test_producer *f)
{
    if (ccip_test_producer_wait_applied(f, 30000) < 0)
        ccip_test_fail(&s_svc, "stats did not apply a stand-in producer's events");
}

/* ---- roster entries and reports ------------------------------------------------ */

typedef struct {
    char id[64];
    char uscc[CCIP_USCC_LEN + 1];
    char actor[CCIP_USCC_LEN + 5]; /* "org:<uscc>" */
    char district[8];
} s_entry;

/* Puts a fresh entry on the roster the way it gets there: evaluation
 * publishes evaluation.designation.granted.v1, and stats consumes it. Valid
 * from three years ago unless at_us is given; categorised when category is
 * not NULL. */
static int64_t s_valid_until_us; /* when set, the next grant's valid_until */

static void s_grant(Ccip__Stats__RosterKind kind, const char *district, int64_t at_us, s_entry *e)
{
    static int n;
    memset(e, 0, sizeof *e);
    snprintf(e->id, sizeof e->id, "T%s-%d", s_run, ++n);
    ccip_test_uscc(district, e->uscc);
    snprintf(e->actor, sizeof e->actor, "org:%s", e->uscc);
    snprintf(e->district, sizeof e->district, "%s", district);
    Ccip__Evaluation__Designation d = CCIP__EVALUATION__DESIGNATION__INIT;
    d.id = e->id;
    d.kind = kind == CCIP__STATS__ROSTER_KIND__TALENT_BASE
                 ? CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION
                 : CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    char cert[40];
    snprintf(cert, sizeof cert, "CCI-%d-%04d", s_now_q.year, n);
    d.certificate_no = cert;
    d.holder_uscc = e->uscc;
    d.holder_name = "Beijing Lantern Culture Co.";
    d.name = kind == CCIP__STATS__ROSTER_KIND__TALENT_BASE ? "Animation training base"
                                                           : "Lantern creative cluster";
    d.district_code = (char *)district;
    d.valid_from_us = at_us ? at_us : stats_quarter_start_us(stats_quarter_add(s_now_q, -12));
    d.valid_until_us = s_valid_until_us ? s_valid_until_us : d.valid_from_us + 5 * 365 * DAY_US;
    d.status = CCIP__EVALUATION__DESIGNATION_STATUS__DESIGNATION_ACTIVE;
    d.granted_at_us = ccip_now_us();
    d.granted_by = "office-chen";
    Ccip__Evaluation__DesignationChanged ev = CCIP__EVALUATION__DESIGNATION_CHANGED__INIT;
    ev.designation = &d;
    s_fake_add(s_evaluation, "evaluation.designation.granted.v1", "designation", e->id, &ev.base);
}

static void s_categorise(const s_entry *e, const char *category)
{
    Ccip__Stats__CategoriseRosterEntryRequest rq =
        CCIP__STATS__CATEGORISE_ROSTER_ENTRY_REQUEST__INIT;
    rq.id = (char *)e->id;
    rq.category = (char *)category;
    ccip_test_free(ccip_test_ok(&s_svc, STAFF, "stats.roster.categorise.v1", &rq.base,
                                &ccip__stats__roster_entry_reply__descriptor));
}

static void s_add_entry(Ccip__Stats__RosterKind kind, const char *district, const char *category,
                        int64_t at_us, s_entry *e)
{
    s_grant(kind, district, at_us, e);
    s_fake_wait(s_evaluation);
    if (category)
        s_categorise(e, category);
}

/* evaluation.designation.revoked.v1 for the entry, at at_us. */
static void s_revoke(const s_entry *e, int64_t at_us)
{
    Ccip__Evaluation__Designation d = CCIP__EVALUATION__DESIGNATION__INIT;
    d.id = (char *)e->id;
    d.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    d.holder_uscc = (char *)e->uscc;
    d.district_code = (char *)e->district;
    d.status = CCIP__EVALUATION__DESIGNATION_STATUS__DESIGNATION_REVOKED;
    d.revoked_at_us = at_us;
    d.revoked_by = "office-chen";
    d.revoke_reason = "designation revoked after the re-evaluation";
    Ccip__Evaluation__DesignationChanged ev = CCIP__EVALUATION__DESIGNATION_CHANGED__INIT;
    ev.designation = &d;
    s_fake_add(s_evaluation, "evaluation.designation.revoked.v1", "designation", e->id, &ev.base);
    s_fake_wait(s_evaluation);
}

/* Values of a report, built on the caller's stack. */
typedef struct {
    Ccip__Stats__Value v[16];
    Ccip__Stats__Value *p[16];
    size_t n;
} s_values;

static void s_set(s_values *vs, const char *code, Ccip__Stats__Unit unit, int64_t value,
                  const char *explanation)
{
    Ccip__Stats__Value *v = &vs->v[vs->n];
    *v = (Ccip__Stats__Value)CCIP__STATS__VALUE__INIT;
    v->code = (char *)code;
    v->unit = unit;
    v->value = value;
    v->explanation = (char *)(explanation ? explanation : "");
    vs->p[vs->n] = v;
    vs->n++;
}

/* Every compulsory value of a cluster, consistent: revenue r fen. */
static void s_cluster_values(s_values *vs, int64_t revenue)
{
    vs->n = 0;
    s_set(vs, "enterprises", COUNT, 120, NULL);
    s_set(vs, "employees", COUNT, 3400, NULL);
    s_set(vs, "operating_revenue", FEN, revenue, NULL);
    s_set(vs, "total_profit", FEN, revenue / 10, NULL);
    s_set(vs, "taxes_paid", FEN, revenue / 20, NULL);
    s_set(vs, "floor_area", M2, 52000, NULL);
    s_set(vs, "occupancy_rate", PCT, 8750, NULL);
}

/* Saves values; returns the status and the reply (caller frees) when OK. */
static int s_try_save(const s_entry *e, const char *actor, const char *quarter, const s_values *vs,
                      Ccip__Stats__ReportReply **out)
{
    Ccip__Stats__SaveReportRequest rq = CCIP__STATS__SAVE_REPORT_REQUEST__INIT;
    rq.roster_id = (char *)e->id;
    rq.quarter = (char *)quarter;
    rq.values = (Ccip__Stats__Value **)(vs ? vs->p : NULL);
    rq.n_values = vs ? vs->n : 0;
    rq.note = "figures from the operator's quarterly accounts";
    return s_send("operator", actor ? actor : e->actor, "stats.report.save.v1", &rq.base,
                  &ccip__stats__report_reply__descriptor, (ProtobufCMessage **)out);
}

/* Saves a draft that must succeed; writes the report id. */
static void s_save(const s_entry *e, const char *quarter, const s_values *vs, char id[40])
{
    Ccip__Stats__ReportReply *r = NULL;
    if (s_try_save(e, NULL, quarter, vs, &r) != 0) {
        char what[900];
        snprintf(what, sizeof what, "save %s %s: %s", e->id, quarter, s_svc.error);
        ccip_test_fail(&s_svc, what);
    }
    snprintf(id, 40, "%s", r->report->id);
    ccip_test_free(r);
}

typedef struct {
    Ccip__Stats__Explanation e[4];
    Ccip__Stats__Explanation *p[4];
    size_t n;
} s_explanations;

static int s_try_submit(const s_entry *e, const char *id, const s_explanations *ex,
                        Ccip__Stats__ReportReply **out)
{
    Ccip__Stats__SubmitReportRequest rq = CCIP__STATS__SUBMIT_REPORT_REQUEST__INIT;
    rq.report_id = (char *)id;
    if (ex) {
        rq.explanations = (Ccip__Stats__Explanation **)ex->p;
        rq.n_explanations = ex->n;
    }
    return s_send("operator", e->actor, "stats.report.submit.v1", &rq.base,
                  &ccip__stats__report_reply__descriptor, (ProtobufCMessage **)out);
}

static void s_submit(const s_entry *e, const char *id)
{
    Ccip__Stats__ReportReply *r = NULL;
    if (s_try_submit(e, id, NULL, &r) != 0) {
        char what[900];
        snprintf(what, sizeof what, "submit %s: %s", id, s_svc.error);
        ccip_test_fail(&s_svc, what);
    }
    assert_int_equal(r->report->status, CCIP__STATS__REPORT_STATUS__SUBMITTED);
    ccip_test_free(r);
}

/* The district's review or the center's decision. */
static int s_decide(const char *role, const char *actor, const char *type, const char *id,
                    Ccip__Stats__Decision d, const char *reason)
{
    Ccip__Stats__DecideReportRequest rq = CCIP__STATS__DECIDE_REPORT_REQUEST__INIT;
    rq.report_id = (char *)id;
    rq.decision = d;
    rq.reason = (char *)(reason ? reason : "");
    return s_send(role, actor, type, &rq.base, NULL, NULL);
}

static void s_district_actor(const s_entry *e, char *buf, size_t len)
{
    snprintf(buf, len, "district:%s", e->district);
}

/* Submitted, approved by the district and accepted by the center. */
static void s_accept(const s_entry *e, const char *id)
{
    char d[32];
    s_district_actor(e, d, sizeof d);
    if (s_decide("district", d, "stats.report.review.v1", id, CCIP__STATS__DECISION__APPROVE,
                 NULL) != 0 ||
        s_decide(STAFF, "stats.report.decide.v1", id, CCIP__STATS__DECISION__APPROVE, NULL) != 0) {
        char what[900];
        snprintf(what, sizeof what, "accept %s: %s", id, s_svc.error);
        ccip_test_fail(&s_svc, what);
    }
}

static Ccip__Stats__Report *s_get_report(const char *role, const char *actor, const char *id)
{
    Ccip__Stats__GetReportRequest rq = CCIP__STATS__GET_REPORT_REQUEST__INIT;
    rq.report_id = (char *)id;
    Ccip__Stats__ReportReply *r =
        (Ccip__Stats__ReportReply *)ccip_test_ok(&s_svc, role, actor, "stats.report.get.v1",
                                                 &rq.base, &ccip__stats__report_reply__descriptor);
    Ccip__Stats__Report *rep = r->report;
    r->report = NULL;
    ccip_test_free(r);
    return rep;
}

static int64_t s_value_of(const Ccip__Stats__Report *r, const char *code, int *found)
{
    for (size_t i = 0; i < r->n_values; i++)
        if (strcmp(r->values[i]->code, code) == 0) {
            if (found)
                *found = 1;
            return r->values[i]->value;
        }
    if (found)
        *found = 0;
    return 0;
}

/* Lets the entry enter a (locked) quarter for `seconds`. */
static int s_try_exception(const char *role, const char *actor, const char *roster,
                           const char *quarter, int64_t until_us)
{
    Ccip__Stats__GrantLockExceptionRequest rq = CCIP__STATS__GRANT_LOCK_EXCEPTION_REQUEST__INIT;
    rq.roster_id = (char *)roster;
    rq.quarter = (char *)quarter;
    rq.until_us = until_us;
    rq.reason = "the operator's accountant was ill; figures arrive late";
    return s_send(role, actor, "stats.lock.grant.v1", &rq.base, NULL, NULL);
}

static void s_exception(const s_entry *e, const char *quarter)
{
    if (s_try_exception(STAFF, e->id, quarter, ccip_now_us() + DAY_US) != 0) {
        char what[900];
        snprintf(what, sizeof what, "exception %s %s: %s", e->id, quarter, s_svc.error);
        ccip_test_fail(&s_svc, what);
    }
}

/* A report of `quarter` saved and submitted (with an exception first when
 * the quarter is in the past), optionally accepted. */
static void s_report(const s_entry *e, const char *quarter, int64_t revenue, int accept,
                     char id[40])
{
    if (strcmp(quarter, s_q(0)) != 0)
        s_exception(e, quarter);
    s_values vs;
    s_cluster_values(&vs, revenue);
    s_save(e, quarter, &vs, id);
    s_submit(e, id);
    if (accept)
        s_accept(e, id);
}

/* Waits until the stats outbox has an event of `type` about `aggregate`. */
static void s_event_emitted(const char *type, const char *aggregate)
{
    long long n = ccip_test_number(
        &s_svc, "SELECT count(*) FROM outbox WHERE type = '%s' AND aggregate_id = '%s'", type,
        aggregate);
    if (n < 1) {
        fprintf(stderr, "no %s event about %s\n", type, aggregate);
        fail();
    }
}

/* ---- set-up ------------------------------------------------------------------ */

static int s_group_setup(void **state)
{
    (void)state;
    static const ccip_test_svc_proc procs[] = {{"services/intake/intake", "intake", "intake-1"},
                                               {"services/stats/stats", "stats", "stats-1"},
                                               {NULL, NULL, NULL}};
    s_now_q = stats_quarter_of_us(ccip_now_us());
    snprintf(s_run, sizeof s_run, "%lx%x", (unsigned long)time(NULL) % 0xfffffff,
             (unsigned)getpid() % 0xfff);
    char v[16];
    snprintf(v, sizeof v, "%d", LOCK_DAYS);
    setenv("CCIP_STATS_LOCK_DAYS", v, 1);
    snprintf(v, sizeof v, "%d", DUE_DAYS);
    setenv("CCIP_STATS_DUE_DAYS", v, 1);
    snprintf(v, sizeof v, "%d", EXC_DAYS);
    setenv("CCIP_STATS_MAX_EXCEPTION_DAYS", v, 1);
    setenv("CCIP_STATS_CHANGE_PCT", "50", 1);
    if (ccip_test_svc_start(&s_svc, "stats", procs) < 0)
        return -1;
    s_svc.timeout_ms = 20000;
    if (!(s_evaluation = ccip_test_producer_start(&s_svc.env, s_svc.ctx, "evaluation", "stats")) ||
        !(s_funding = ccip_test_producer_start(&s_svc.env, s_svc.ctx, "funding", "stats")) ||
        !(s_ip = ccip_test_producer_start(&s_svc.env, s_svc.ctx, "ip", "stats"))) {
        ccip_test_env_cleanup(&s_svc.env, 1);
        return -1;
    }
    return 0;
}

static int s_group_teardown(void **state)
{
    (void)state;
    /* The services first: the stand-ins then put the cursors they moved
     * back (intake's too), with nothing left to move them again. */
    ccip_test_svc_stop(&s_svc);
    ccip_test_producer_stop(&s_evaluation);
    ccip_test_producer_stop(&s_funding);
    ccip_test_producer_stop(&s_ip);
    return 0;
}

/* ---- the catalogue ------------------------------------------------------------- */

/* Version 1 holds the required indicators with their units; a quarter is
 * read against the version it is collected with; a new version takes effect
 * only from a later quarter nobody has reported for. */
static void test_catalogue_versions(void **state)
{
    (void)state;
    Ccip__Stats__GetCatalogueRequest g = CCIP__STATS__GET_CATALOGUE_REQUEST__INIT;
    g.version = 1;
    Ccip__Stats__CatalogueReply *c = (Ccip__Stats__CatalogueReply *)ccip_test_ok(
        &s_svc, "operator", "org:91110105MA01ABCD2X", "stats.catalogue.get.v1", &g.base,
        &ccip__stats__catalogue_reply__descriptor);
    static const struct {
        const char *code;
        Ccip__Stats__Unit unit;
    } required[] = {
        {"enterprises", COUNT},          {"employees", COUNT},  {"operating_revenue", FEN},
        {"total_profit", FEN},           {"taxes_paid", FEN},   {"fixed_asset_investment", FEN},
        {"new_ip_registrations", COUNT}, {"export_value", FEN}, {"floor_area", M2},
        {"occupancy_rate", PCT}};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        int found = 0;
        for (size_t k = 0; k < c->catalogue->n_indicators; k++)
            if (strcmp(c->catalogue->indicators[k]->code, required[i].code) == 0) {
                found = 1;
                assert_int_equal(c->catalogue->indicators[k]->unit, required[i].unit);
                assert_true(c->catalogue->indicators[k]->n_kinds >= 1);
            }
        if (!found)
            fail_msg("catalogue version 1 lacks %s", required[i].code);
    }
    assert_true(c->catalogue->n_rules >= 1);
    ccip_test_free(c);

    /* A report of this quarter is collected with the version in force. */
    s_entry e;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110105", NULL, 0, &e);
    s_values vs;
    s_cluster_values(&vs, 100000000);
    char id[40];
    s_save(&e, s_q(0), &vs, id);
    g.version = 0;
    g.quarter = (char *)s_q(0);
    c = (Ccip__Stats__CatalogueReply *)ccip_test_ok(&s_svc, STAFF, "stats.catalogue.get.v1",
                                                    &g.base,
                                                    &ccip__stats__catalogue_reply__descriptor);
    uint32_t in_force = c->catalogue->version;
    char latest_from[8];
    uint32_t latest = c->versions[c->n_versions - 1];
    ccip_test_free(c);
    g.version = latest;
    g.quarter = "";
    c = (Ccip__Stats__CatalogueReply *)ccip_test_ok(&s_svc, STAFF, "stats.catalogue.get.v1",
                                                    &g.base,
                                                    &ccip__stats__catalogue_reply__descriptor);
    snprintf(latest_from, sizeof latest_from, "%s", c->catalogue->effective_from);
    ccip_test_free(c);
    Ccip__Stats__Report *r = s_get_report(STAFF, id);
    assert_int_equal(r->catalogue_version, in_force);
    ccip_test_free(r);

    /* Version n+1: version 1 plus digital_revenue, from a later quarter. */
    Ccip__Stats__Indicator extra = CCIP__STATS__INDICATOR__INIT;
    extra.code = "digital_revenue";
    extra.name = "Revenue from digital products";
    extra.unit = FEN;
    Ccip__Stats__RosterKind kinds[] = {CCIP__STATS__ROSTER_KIND__CLUSTER};
    extra.kinds = kinds;
    extra.n_kinds = 1;
    g.version = 1;
    c = (Ccip__Stats__CatalogueReply *)ccip_test_ok(&s_svc, STAFF, "stats.catalogue.get.v1",
                                                    &g.base,
                                                    &ccip__stats__catalogue_reply__descriptor);
    size_t n = c->catalogue->n_indicators;
    Ccip__Stats__Indicator **inds = calloc(n + 1, sizeof *inds);
    memcpy(inds, c->catalogue->indicators, n * sizeof *inds);
    inds[n] = &extra;
    Ccip__Stats__PublishCatalogueRequest p = CCIP__STATS__PUBLISH_CATALOGUE_REQUEST__INIT;
    p.note = "adds digital_revenue";
    p.indicators = inds;
    p.n_indicators = n + 1;
    p.rules = c->catalogue->rules;
    p.n_rules = c->catalogue->n_rules;
    /* Not for the quarter being reported. */
    p.effective_from = (char *)s_q(0);
    assert_int_equal(s_send(STAFF, "stats.catalogue.publish.v1", &p.base, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    if (strcmp(latest_from, s_q(0)) < 0)
        ccip_test_error_has(&s_svc, "collected with the catalogue in force already");
    /* Operators do not publish catalogues. */
    assert_int_equal(s_send("operator", e.actor, "stats.catalogue.publish.v1", &p.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    /* A rule between different units is refused, naming it. */
    Ccip__Stats__Rule bad = CCIP__STATS__RULE__INIT;
    bad.id = "nonsense";
    bad.left = "employees";
    bad.op = CCIP__STATS__COMPARE_OP__LESS_OR_EQUAL;
    bad.right = "operating_revenue";
    bad.importance = CCIP__STATS__IMPORTANCE__ERROR;
    bad.message = "apples and pears";
    Ccip__Stats__Rule *rules[8];
    for (size_t i = 0; i < c->catalogue->n_rules && i < 7; i++)
        rules[i] = c->catalogue->rules[i];
    rules[c->catalogue->n_rules] = &bad;
    p.rules = rules;
    p.n_rules = c->catalogue->n_rules + 1;
    stats_quarter lf;
    stats_quarter_parse("q", latest_from, &lf, NULL, 0);
    char from[8];
    stats_quarter_format(stats_quarter_cmp(lf, stats_quarter_add(s_now_q, 1)) >= 0
                             ? stats_quarter_add(lf, 1)
                             : stats_quarter_add(s_now_q, 1),
                         from, sizeof from);
    p.effective_from = from;
    assert_int_equal(s_send(STAFF, "stats.catalogue.publish.v1", &p.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "rule `nonsense`");
    ccip_test_error_has(&s_svc, "same unit");
    p.n_rules = c->catalogue->n_rules;
    Ccip__Stats__CatalogueReply *pub = (Ccip__Stats__CatalogueReply *)ccip_test_ok(
        &s_svc, STAFF, "stats.catalogue.publish.v1", &p.base,
        &ccip__stats__catalogue_reply__descriptor);
    assert_int_equal(pub->catalogue->version, latest + 1);
    assert_string_equal(pub->catalogue->effective_from, from);
    ccip_test_free(pub);
    free(inds);
    ccip_test_free(c);

    /* The quarter in progress still reads version in_force: the new
     * indicator is not in it. */
    s_values extra_v = {0};
    s_set(&extra_v, "digital_revenue", FEN, 100, NULL);
    Ccip__Stats__ReportReply *rr = NULL;
    assert_int_equal(s_try_save(&e, NULL, s_q(0), &extra_v, &rr), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "`digital_revenue` is not in catalogue version");
    g.version = 0;
    g.quarter = (char *)s_q(0);
    c = (Ccip__Stats__CatalogueReply *)ccip_test_ok(&s_svc, STAFF, "stats.catalogue.get.v1",
                                                    &g.base,
                                                    &ccip__stats__catalogue_reply__descriptor);
    assert_int_equal(c->catalogue->version, in_force);
    ccip_test_free(c);
}

/* ---- the roster ------------------------------------------------------------------ */

/* The roster is kept from evaluation's designation events: a granted
 * identification is asked to report from the quarter it became valid in; a
 * revoked one is not asked from the next quarter on, and its row, history
 * and reports stay. Events it cannot use are skipped, the stream goes on. */
/* A designation that expired: the entry reported up to the quarter its
 * validity ended in and is not asked after it; a report for now is refused
 * with the reason. */
static void test_roster_designation_expires(void **state)
{
    (void)state;
    s_entry e;
    /* Valid from 12 quarters ago until the middle of 6 quarters ago. */
    s_valid_until_us = stats_quarter_start_us(stats_quarter_add(s_now_q, -6)) + 40 * DAY_US;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110105", NULL, 0, &e);
    s_valid_until_us = 0;
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM roster_entry WHERE id = '%s' AND "
                                      "expiry_quarter = '%s' AND certificate_no LIKE 'CCI-%%'",
                                      e.id, s_q(-6)),
                     1);
    s_values vs;
    s_cluster_values(&vs, 50000000);
    Ccip__Stats__ReportReply *r = NULL;
    assert_int_equal(s_try_save(&e, NULL, s_q(0), &vs, &r), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "not on the roster for");
    ccip_test_error_has(&s_svc, "expired");
    /* Not listed for now, listed (with its expiry) for a quarter it was valid in. */
    Ccip__Stats__ListRosterRequest l = CCIP__STATS__LIST_ROSTER_REQUEST__INIT;
    l.quarter = (char *)s_q(0);
    Ccip__Stats__ListRosterReply *lr = (Ccip__Stats__ListRosterReply *)ccip_test_ok(
        &s_svc, "operator", e.actor, "stats.roster.list.v1", &l.base,
        &ccip__stats__list_roster_reply__descriptor);
    assert_int_equal(lr->n_entries, 0);
    ccip_test_free(lr);
    l.quarter = (char *)s_q(-7);
    lr = (Ccip__Stats__ListRosterReply *)ccip_test_ok(&s_svc, "operator", e.actor,
                                                      "stats.roster.list.v1", &l.base,
                                                      &ccip__stats__list_roster_reply__descriptor);
    assert_int_equal(lr->n_entries, 1);
    assert_string_equal(lr->entries[0]->expiry_quarter, s_q(-6));
    assert_non_null(strstr(lr->entries[0]->certificate_no, "CCI-"));
    ccip_test_free(lr);
}

static void test_roster_from_designations(void **state)
{
    (void)state;
    s_entry e;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110108", NULL, 0, &e);
    /* The same designation again (a redelivery): no second entry, no change. */
    Ccip__Evaluation__Designation d = CCIP__EVALUATION__DESIGNATION__INIT;
    d.id = e.id;
    d.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    d.name = "renamed";
    d.district_code = "110101";
    d.holder_uscc = e.uscc;
    Ccip__Evaluation__DesignationChanged ev = CCIP__EVALUATION__DESIGNATION_CHANGED__INIT;
    ev.designation = &d;
    s_fake_add(s_evaluation, "evaluation.designation.granted.v1", "designation", e.id, &ev.base);
    /* A special-funds project is no designation; a district outside
     * Beijing cannot be monitored: both skipped. */
    char other[80], far[80];
    snprintf(other, sizeof other, "%s-project", e.id);
    d.id = other;
    d.kind = CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT;
    s_fake_add(s_evaluation, "evaluation.designation.granted.v1", "designation", other, &ev.base);
    snprintf(far, sizeof far, "%s-far", e.id);
    d.id = far;
    d.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    d.district_code = "310101";
    s_fake_add(s_evaluation, "evaluation.designation.granted.v1", "designation", far, &ev.base);
    s_fake_wait(s_evaluation);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM roster_entry WHERE id IN ('%s', '%s')",
                                      other, far),
                     0);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM roster_entry WHERE id = '%s' AND name = "
                         "'Lantern creative cluster' AND district_code = '110108' AND "
                         "source = 'evaluation' AND first_quarter = '%s'",
                         e.id, s_q(-12)),
        1);

    /* The operator lists its own entry for this quarter; staff categorise it. */
    Ccip__Stats__ListRosterRequest l = CCIP__STATS__LIST_ROSTER_REQUEST__INIT;
    l.quarter = (char *)s_q(0);
    Ccip__Stats__ListRosterReply *lr = (Ccip__Stats__ListRosterReply *)ccip_test_ok(
        &s_svc, "operator", e.actor, "stats.roster.list.v1", &l.base,
        &ccip__stats__list_roster_reply__descriptor);
    assert_int_equal(lr->n_entries, 1);
    assert_string_equal(lr->entries[0]->id, e.id);
    assert_string_equal(lr->entries[0]->source, "evaluation");
    assert_string_equal(lr->entries[0]->first_quarter, s_q(-12));
    ccip_test_free(lr);
    Ccip__Stats__CategoriseRosterEntryRequest c =
        CCIP__STATS__CATEGORISE_ROSTER_ENTRY_REQUEST__INIT;
    c.id = e.id;
    c.category = "Design!";
    assert_int_equal(s_send(STAFF, "stats.roster.categorise.v1", &c.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "`category`");
    c.category = "design";
    assert_int_equal(s_send("operator", e.actor, "stats.roster.categorise.v1", &c.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    s_categorise(&e, "design");
    s_event_emitted("stats.roster.changed.v1", e.id);

    /* Revoked now: it still reports for this quarter, not for the next. */
    s_revoke(&e, ccip_now_us());
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM roster_entry WHERE id = '%s' AND "
                                      "last_quarter = '%s' AND revoked_at IS NOT NULL",
                                      e.id, s_q(0)),
                     1);
    s_values vs;
    s_cluster_values(&vs, 50000000);
    char id[40];
    s_save(&e, s_q(0), &vs, id);
    Ccip__Stats__ReportReply *r = NULL;
    assert_int_equal(s_try_save(&e, NULL, s_q(1), &vs, &r), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "not on the roster for");
    ccip_test_error_has(&s_svc, "revoked");
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM report WHERE roster_id = '%s' AND quarter = '%s'",
                         e.id, s_q(1)),
        0);
    /* History kept: the row, every change, the report. */
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM roster_history WHERE roster_id = '%s'",
                                      e.id),
                     3); /* granted, categorised, revoked */
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM report WHERE roster_id = '%s'", e.id), 1);
    l.quarter = (char *)s_q(1);
    lr = (Ccip__Stats__ListRosterReply *)ccip_test_ok(&s_svc, "operator", e.actor,
                                                      "stats.roster.list.v1", &l.base,
                                                      &ccip__stats__list_roster_reply__descriptor);
    assert_int_equal(lr->n_entries, 0);
    ccip_test_free(lr);

    /* Revoked two quarters back: not asked for the last one. */
    s_entry gone;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110108", NULL, 0, &gone);
    s_revoke(&gone, stats_quarter_start_us(stats_quarter_add(s_now_q, -2)) + DAY_US);
    assert_int_equal(s_try_exception(STAFF, gone.id, s_q(-1), ccip_now_us() + DAY_US),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "revoked");

    /* An entry valid from this quarter does not report for earlier ones. */
    s_entry late;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110108", NULL, ccip_now_us() - HOUR_US, &late);
    assert_int_equal(s_try_exception(STAFF, late.id, s_q(-1), ccip_now_us() + DAY_US),
                     CCIP__STATUS__FAILED_PRECONDITION);
    assert_int_equal(s_try_save(&late, NULL, s_q(-1), &vs, &r), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "reports from");
}

/* ---- reports: what is refused before anything is written ------------------------------ */

static void test_save_refusals_write_nothing(void **state)
{
    (void)state;
    s_entry e, other;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110101", NULL, 0, &e);
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110101", NULL, 0, &other);
    Ccip__Stats__ReportReply *r = NULL;
    s_values vs;

    /* A value in the wrong unit: INVALID_ARGUMENT naming the indicator. */
    s_cluster_values(&vs, 100000000);
    vs.v[2].unit = COUNT; /* operating_revenue */
    assert_int_equal(s_try_save(&e, NULL, s_q(0), &vs, &r), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "indicator `operating_revenue` is in FEN, got a value in COUNT");
    /* An indicator the catalogue does not have. */
    s_cluster_values(&vs, 100000000);
    s_set(&vs, "visitors", COUNT, 100, NULL);
    assert_int_equal(s_try_save(&e, NULL, s_q(0), &vs, &r), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "indicator `visitors` is not in catalogue version");
    /* An indicator clusters do not report. */
    s_cluster_values(&vs, 100000000);
    s_set(&vs, "trainees", COUNT, 100, NULL);
    assert_int_equal(s_try_save(&e, NULL, s_q(0), &vs, &r), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "indicator `trainees` is not reported by clusters");
    /* The same indicator twice. */
    s_cluster_values(&vs, 100000000);
    s_set(&vs, "enterprises", COUNT, 1, NULL);
    assert_int_equal(s_try_save(&e, NULL, s_q(0), &vs, &r), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "`enterprises` is given twice");
    /* A quarter written wrongly, or one that has not started. */
    s_cluster_values(&vs, 100000000);
    assert_int_equal(s_try_save(&e, NULL, "2026-3", &vs, &r), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `quarter` must be a quarter written like 2026Q3");
    assert_int_equal(s_try_save(&e, NULL, s_q(1), &vs, &r), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "has not started");
    /* Another organisation's entry; a role that does not report. */
    assert_int_equal(s_try_save(&e, other.actor, s_q(0), &vs, &r), CCIP__STATUS__PERMISSION_DENIED);
    ccip_test_error_has(&s_svc, e.uscc);
    Ccip__Stats__SaveReportRequest rq = CCIP__STATS__SAVE_REPORT_REQUEST__INIT;
    rq.roster_id = e.id;
    rq.quarter = (char *)s_q(0);
    assert_int_equal(s_send(STAFF, "stats.report.save.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(
        s_send("operator", "91110105MA01ABCD2X", "stats.report.save.v1", &rq.base, NULL, NULL),
        CCIP__STATUS__PERMISSION_DENIED); /* actor id without "org:" */
    ccip_test_error_has(&s_svc, "org:");
    /* Other services read, but do not report. */
    assert_int_equal(s_send(NULL, NULL, "stats.report.save.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    Ccip__Stats__ListReportsRequest lr = CCIP__STATS__LIST_REPORTS_REQUEST__INIT;
    assert_int_equal(s_send(NULL, NULL, "stats.report.list.v1", &lr.base, NULL, NULL), 0);
    assert_int_equal(s_send("visitor", "someone", "stats.report.list.v1", &lr.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    /* Not on the roster at all. */
    rq.roster_id = "no-such-entry";
    assert_int_equal(s_send("operator", e.actor, "stats.report.save.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__NOT_FOUND);
    ccip_test_error_has(&s_svc, "monitoring roster");
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM report WHERE roster_id IN ('%s', '%s')",
                                      e.id, other.id),
                     0);

    /* A draft with errors is kept (errors block submission, not drafts). */
    s_values few = {0};
    s_set(&few, "enterprises", COUNT, -2, NULL);
    assert_int_equal(s_try_save(&e, NULL, s_q(0), &few, &r), 0);
    assert_int_equal(r->report->status, CCIP__STATS__REPORT_STATUS__DRAFT);
    assert_true(r->n_findings >= 5); /* negative + 4 compulsory missing */
    ccip_test_free(r);
    /* The same command id twice: one effect, the same reply. */
    char cid[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(cid);
    rq.roster_id = other.id;
    assert_int_equal(ccip_test_send(&s_svc, "operator", other.actor, "stats.report.save.v1",
                                    &rq.base, cid, NULL, NULL),
                     0);
    assert_int_equal(ccip_test_send(&s_svc, "operator", other.actor, "stats.report.save.v1",
                                    &rq.base, cid, NULL, NULL),
                     0);
    assert_int_equal(
        ccip_test_number(
            &s_svc,
            "SELECT count(*) FROM report_transition t JOIN report r ON r.id = t.report_id "
            "WHERE r.roster_id = '%s'",
            other.id),
        1);
}

/* ---- validation at submission ------------------------------------------------------------- */

/* Errors block submission: negative counts, profit above revenue, missing
 * compulsory values. */
static void test_errors_block_submission(void **state)
{
    (void)state;
    s_entry e;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110102", NULL, 0, &e);
    s_values vs;
    char id[40];
    Ccip__Stats__ReportReply *r = NULL;

    s_cluster_values(&vs, 100000000);
    vs.v[0].value = -1; /* enterprises */
    s_save(&e, s_q(0), &vs, id);
    assert_int_equal(s_try_submit(&e, id, NULL, &r), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "enterprises cannot be negative, got -1");

    s_cluster_values(&vs, 100000000);
    vs.v[3].value = 100000001; /* total_profit above operating_revenue */
    s_save(&e, s_q(0), &vs, id);
    assert_int_equal(s_try_submit(&e, id, NULL, &r), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "total profit cannot exceed operating revenue");

    Ccip__Stats__SaveReportRequest rm = CCIP__STATS__SAVE_REPORT_REQUEST__INIT;
    s_cluster_values(&vs, 100000000);
    char *remove[] = {"taxes_paid"};
    rm.roster_id = e.id;
    rm.quarter = (char *)s_q(0);
    rm.values = vs.p;
    rm.n_values = 4; /* enterprises .. total_profit */
    rm.remove = remove;
    rm.n_remove = 1;
    ccip_test_free(ccip_test_ok(&s_svc, "operator", e.actor, "stats.report.save.v1", &rm.base,
                                &ccip__stats__report_reply__descriptor));
    assert_int_equal(s_try_submit(&e, id, NULL, &r), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "taxes_paid (Taxes paid) is compulsory");
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM report WHERE id = '%s' AND status = 'DRAFT' "
                         "AND first_submitted_at IS NULL",
                         id),
        1);

    /* Fixed: submitted, with an event. */
    s_cluster_values(&vs, 100000000);
    s_save(&e, s_q(0), &vs, id);
    s_submit(&e, id);
    s_event_emitted("stats.report.submitted.v1", id);
    /* Submitted reports are not edited. */
    assert_int_equal(s_try_save(&e, NULL, s_q(0), &vs, &r), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "is SUBMITTED");
}

/* Warnings need a written explanation: a change beyond stats.change_pct
 * against the previous quarter, or the same quarter a year before. */
static void test_warnings_need_explanations(void **state)
{
    (void)state;
    s_entry e;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110106", NULL, 0, &e);
    char year_ago[40], prev[40], id[40];
    s_report(&e, s_q(-4), 100000000, 0, year_ago);
    s_report(&e, s_q(-1), 150000000, 0, prev); /* +50 %: no warning */

    s_values vs;
    s_cluster_values(&vs, 300000000); /* +100 % on the quarter, +200 % on the year */
    s_save(&e, s_q(0), &vs, id);
    Ccip__Stats__ReportReply *r = NULL;
    assert_int_equal(s_try_submit(&e, id, NULL, &r), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "unexplained warning");
    ccip_test_error_has(&s_svc, s_q(-1));
    /* Its findings say which, and that they are warnings. */
    Ccip__Stats__GetReportRequest g = CCIP__STATS__GET_REPORT_REQUEST__INIT;
    g.report_id = id;
    r = (Ccip__Stats__ReportReply *)ccip_test_ok(&s_svc, "operator", e.actor, "stats.report.get.v1",
                                                 &g.base, &ccip__stats__report_reply__descriptor);
    int qoq = 0, yoy = 0;
    for (size_t i = 0; i < r->n_findings; i++) {
        const Ccip__Stats__Finding *f = r->findings[i];
        assert_int_equal(f->importance, CCIP__STATS__IMPORTANCE__WARNING);
        qoq += strcmp(f->rule, "change_qoq") == 0 && strcmp(f->indicator, "operating_revenue") == 0;
        yoy += strcmp(f->rule, "change_yoy") == 0 && strcmp(f->indicator, "operating_revenue") == 0;
    }
    assert_int_equal(qoq, 1);
    assert_int_equal(yoy, 1);
    ccip_test_free(r);
    /* An explanation too short to explain anything does not count. */
    s_explanations ex = {0};
    ex.e[0] = (Ccip__Stats__Explanation)CCIP__STATS__EXPLANATION__INIT;
    ex.e[0].code = "operating_revenue";
    ex.e[0].text = "ok";
    ex.p[0] = &ex.e[0];
    ex.n = 1;
    assert_int_equal(s_try_submit(&e, id, &ex, &r), CCIP__STATUS__FAILED_PRECONDITION);
    /* Nor does one for a value the report does not have. */
    ex.e[0].code = "export_value";
    ex.e[0].text = "no exports this quarter";
    assert_int_equal(s_try_submit(&e, id, &ex, &r), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "`export_value`");
    /* The other warned values need theirs too (profit and taxes follow revenue). */
    const char *codes[] = {"operating_revenue", "total_profit", "taxes_paid"};
    for (int i = 0; i < 3; i++) {
        ex.e[i] = (Ccip__Stats__Explanation)CCIP__STATS__EXPLANATION__INIT;
        ex.e[i].code = (char *)codes[i];
        ex.e[i].text = "a second hall opened in July and doubled the tenants";
        ex.p[i] = &ex.e[i];
    }
    ex.n = 3;
    assert_int_equal(s_try_submit(&e, id, &ex, &r), 0);
    assert_int_equal(r->report->status, CCIP__STATS__REPORT_STATUS__SUBMITTED);
    int explained = 0;
    for (size_t i = 0; i < r->n_findings; i++)
        explained += r->findings[i]->explained;
    assert_int_equal(explained, (int)r->n_findings);
    ccip_test_free(r);
}

/* ---- approval ------------------------------------------------------------------------------ */

/* The district reviews its own district's reports, then the center accepts
 * or returns; returning needs a reason; an accepted report stays accepted. */
static void test_two_level_approval(void **state)
{
    (void)state;
    s_entry e;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110112", NULL, 0, &e);
    char id[40], d[32];
    s_district_actor(&e, d, sizeof d);
    s_values vs;
    s_cluster_values(&vs, 80000000);
    s_save(&e, s_q(0), &vs, id);
    /* Nothing to review before submission. */
    assert_int_equal(
        s_decide("district", d, "stats.report.review.v1", id, CCIP__STATS__DECISION__APPROVE, NULL),
        CCIP__STATUS__FAILED_PRECONDITION);
    s_submit(&e, id);
    Ccip__Stats__Report *r = s_get_report("operator", e.actor, id);
    int64_t first = r->first_submitted_at_us;
    assert_int_equal(r->timeliness, CCIP__STATS__TIMELINESS__ON_TIME);
    ccip_test_free(r);
    /* Another district's office may not review it, nor see it. */
    assert_int_equal(s_decide("district", "district:110105", "stats.report.review.v1", id,
                              CCIP__STATS__DECISION__APPROVE, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    ccip_test_error_has(&s_svc, "110112");
    Ccip__Stats__GetReportRequest g = CCIP__STATS__GET_REPORT_REQUEST__INIT;
    g.report_id = id;
    assert_int_equal(
        s_send("district", "district:110105", "stats.report.get.v1", &g.base, NULL, NULL),
        CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_decide("district", "district:999999", "stats.report.review.v1", id,
                              CCIP__STATS__DECISION__APPROVE, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    /* The center accepts only what the district approved. */
    assert_int_equal(
        s_decide(STAFF, "stats.report.decide.v1", id, CCIP__STATS__DECISION__APPROVE, NULL),
        CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "DISTRICT_APPROVED");
    /* The district returns it, with a reason. */
    assert_int_equal(
        s_decide("district", d, "stats.report.review.v1", id, CCIP__STATS__DECISION__RETURN, NULL),
        CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "`reason`");
    assert_int_equal(s_decide("district", d, "stats.report.review.v1", id,
                              CCIP__STATS__DECISION__RETURN, "employees look like last year's"),
                     0);
    s_event_emitted("stats.report.returned.v1", id);
    /* Corrected and submitted again: the first submission time stays. */
    vs.v[1].value = 3550;
    s_save(&e, s_q(0), &vs, id);
    s_submit(&e, id);
    r = s_get_report("operator", e.actor, id);
    assert_true(r->first_submitted_at_us == first);
    assert_true(r->submitted_at_us > first);
    assert_string_equal(r->return_reason, "employees look like last year's");
    ccip_test_free(r);
    /* District approves, the center returns it, then accepts it. The
     * district's approval is said (the center's acceptance now waits). */
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'stats.report.district_approved.v1' AND aggregate_id = '%s'",
                                      id),
                     0);
    assert_int_equal(s_decide("district", d, "stats.report.review.v1", id,
                              CCIP__STATS__DECISION__APPROVE, "checked"),
                     0);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'stats.report.district_approved.v1' AND aggregate_id = '%s'",
                                      id),
                     1);
    assert_int_equal(s_decide(STAFF, "stats.report.decide.v1", id, CCIP__STATS__DECISION__RETURN,
                              "taxes do not match the tax bureau's figure"),
                     0);
    s_save(&e, s_q(0), &vs, id);
    s_submit(&e, id);
    s_accept(&e, id);
    s_event_emitted("stats.report.accepted.v1", id);
    r = s_get_report("district", d, id);
    assert_int_equal(r->status, CCIP__STATS__REPORT_STATUS__ACCEPTED);
    /* draft, submit, return, submit, approve, return, submit, approve, accept */
    assert_int_equal(r->n_history, 9);
    assert_string_equal(r->history[8]->actor_id, "staff-wang");
    ccip_test_free(r);
    /* Accepted stays accepted; the operator cannot edit it. */
    assert_int_equal(s_decide(STAFF, "stats.report.decide.v1", id, CCIP__STATS__DECISION__RETURN,
                              "second thoughts"),
                     CCIP__STATUS__FAILED_PRECONDITION);
    Ccip__Stats__ReportReply *rr = NULL;
    assert_int_equal(s_try_save(&e, NULL, s_q(0), &vs, &rr), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "ACCEPTED");
}

/* The center's acceptance of the last report a quarter expects says the
 * quarter complete (stats.quarter.completed.v1, for the analysts' bulletin)
 * in its own transaction: not before, and once, even when an entry added
 * later is accepted too. The quarter is one of this run's, long past, whose
 * only entries are made here. */
static void test_quarter_completed_once(void **state)
{
    (void)state;
    stats_quarter q = stats_quarter_add(s_now_q, -(30 + (int)(getpid() % 60)));
    char quarter[8], ida[40], idb[40], idc[40];
    stats_quarter_format(q, quarter, sizeof quarter);
    int64_t from = stats_quarter_start_us(q) + DAY_US;
    s_valid_until_us = from + 40 * DAY_US; /* active in that quarter only */
    s_entry a, b, c;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110105", NULL, from, &a);
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110108", NULL, from, &b);
    s_valid_until_us = 0;
#define S_COMPLETED                                                                                \
    "SELECT count(*) FROM outbox WHERE type = 'stats.quarter.completed.v1' AND aggregate_id = "    \
    "'%s'"
    s_report(&a, quarter, 10000000, 1, ida);
    assert_int_equal(ccip_test_number(&s_svc, S_COMPLETED, quarter), 0); /* b's is still missing */
    s_report(&b, quarter, 20000000, 0, idb);
    assert_int_equal(ccip_test_number(&s_svc, S_COMPLETED, quarter),
                     0); /* submitted, not accepted */
    s_accept(&b, idb);
    assert_int_equal(ccip_test_number(&s_svc, S_COMPLETED, quarter), 1);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM quarter_completed WHERE quarter = "
                                      "'%s' AND reports = 2 AND completed_by = 'staff-wang'",
                                      quarter),
                     1);
    /* an entry added to the quarter later, accepted too: said once only */
    s_valid_until_us = from + 40 * DAY_US;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110105", NULL, from, &c);
    s_valid_until_us = 0;
    s_report(&c, quarter, 30000000, 1, idc);
    assert_int_equal(ccip_test_number(&s_svc, S_COMPLETED, quarter), 1);
#undef S_COMPLETED
}

/* Once a quarter has ended, each entry active in it that has not submitted
 * its report is told the report is due (stats.report.due.v1, for notify's
 * "quarterly report due"), once however often the sweep runs; an entry that
 * submitted is not, a draft does not count as submitted. */
static void test_reports_due_told_once(void **state)
{
    (void)state;
    s_entry due, filed, draft;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110105", NULL, 0, &due);
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110105", NULL, 0, &filed);
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110105", NULL, 0, &draft);
    char id[40];
    s_report(&filed, s_q(-1), 10000000, 0, id);
    s_values vs;
    s_cluster_values(&vs, 10000000);
    s_exception(&draft, s_q(-1));
    s_save(&draft, s_q(-1), &vs, id);
    Ccip__Stats__ReportRemindRequest rq = CCIP__STATS__REPORT_REMIND_REQUEST__INIT;
    assert_int_equal(s_send(STAFF, "stats.report.remind.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED); /* the service's own, or admin's */
    for (int run = 0; run < 2; run++) {
        Ccip__Stats__ReportRemindReply *r = NULL;
        assert_int_equal(s_send(ADMIN, "stats.report.remind.v1", &rq.base,
                                &ccip__stats__report_remind_reply__descriptor,
                                (ProtobufCMessage **)&r),
                         0);
        assert_string_equal(r->quarter, s_q(-1));
        ccip_test_free(r);
    }
#define S_DUE                                                                                      \
    "SELECT count(*) FROM outbox WHERE type = 'stats.report.due.v1' AND aggregate_id = '%s'"
    assert_int_equal(ccip_test_number(&s_svc, S_DUE, due.id), 1);
    assert_int_equal(ccip_test_number(&s_svc, S_DUE, draft.id), 1);
    assert_int_equal(ccip_test_number(&s_svc, S_DUE, filed.id), 0);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM report_notice WHERE roster_id = '%s' "
                                      "AND quarter = '%s'",
                                      due.id, s_q(-1)),
                     1);
#undef S_DUE
}

/* ---- locking -------------------------------------------------------------------------------- */

/* A quarter closes for entry stats.lock_days after it ends; staff grant one
 * entry a time-limited exception. */
static void test_locking_and_exceptions(void **state)
{
    (void)state;
    s_entry e, other;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110113", NULL, 0, &e);
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110113", NULL, 0, &other);
    const char *old = s_q(-8);
    s_values vs;
    s_cluster_values(&vs, 70000000);
    Ccip__Stats__ReportReply *r = NULL;
    assert_int_equal(s_try_save(&e, NULL, old, &vs, &r), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "is locked");
    ccip_test_error_has(&s_svc, "60 days");
    ccip_test_error_has(&s_svc, "lock exception");
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM report WHERE roster_id = '%s'", e.id), 0);
    /* Exceptions: center only, in the future, not too long. */
    int64_t now = ccip_now_us();
    assert_int_equal(s_try_exception("operator", e.actor, e.id, old, now + DAY_US),
                     CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_try_exception(STAFF, e.id, old, now - HOUR_US),
                     CCIP__STATUS__INVALID_ARGUMENT);
    assert_int_equal(s_try_exception(STAFF, e.id, old, now + (EXC_DAYS + 1) * DAY_US),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "10 days");
    /* A short exception: the entry may enter the quarter until it ends. */
    assert_int_equal(s_try_exception(STAFF, e.id, old, now + 4 * 1000000LL), 0);
    char id[40];
    s_save(&e, old, &vs, id);
    /* ... only that entry. */
    assert_int_equal(s_try_save(&other, NULL, old, &vs, &r), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "is locked");
    ccip_test_sleep_ms(4500);
    assert_int_equal(s_try_submit(&e, id, NULL, &r), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "is locked");
    /* A new exception; submitted now, long after the due time: late. */
    s_exception(&e, old);
    s_submit(&e, id);
    Ccip__Stats__Report *rep = s_get_report(STAFF, id);
    assert_int_equal(rep->timeliness, CCIP__STATS__TIMELINESS__LATE);
    ccip_test_free(rep);
}

/* The sums stats keeps as values change equal a GROUP BY over the values. */
static void s_sums_consistent(void)
{
    static const char sums[] =
        "SELECT quarter, coalesce(district_code, ''), coalesce(category, ''), code, isum(value), "
        "count(*), coalesce(isum(value) FILTER (WHERE prev_value IS NOT NULL), 0), "
        "coalesce(isum(prev_value), 0), count(prev_value), coalesce(isum(value) FILTER (WHERE "
        "yoy_value IS NOT NULL), 0), coalesce(isum(yoy_value), 0), count(yoy_value) FROM "
        "report_value WHERE accepted GROUP BY 1, 2, 3, 4";
    static const char kept[] = "SELECT quarter, district_code, category, code, value, reporting, "
                               "qoq_cur, qoq_base, qoq_panel, yoy_cur, yoy_base, yoy_panel FROM "
                               "quarter_aggregate WHERE reporting > 0";
    /* Neighbours too: every value's prev and yoy are its entry's accepted values. */
    static const char wrong_neighbours[] =
        "SELECT count(*) FROM report_value v LEFT JOIN report_value p ON p.roster_id = "
        "v.roster_id AND p.code = v.code AND p.quarter = quarter_add(v.quarter, -1) AND "
        "p.accepted LEFT JOIN report_value y ON y.roster_id = v.roster_id AND y.code = v.code "
        "AND y.quarter = quarter_add(v.quarter, -4) AND y.accepted WHERE v.prev_value IS "
        "DISTINCT FROM p.value OR v.yoy_value IS DISTINCT FROM y.value";
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM ((%s EXCEPT %s) UNION ALL (%s EXCEPT %s)) d",
                         sums, kept, kept, sums),
        0);
    assert_int_equal(ccip_test_number(&s_svc, "%s", wrong_neighbours), 0);
}

/* ---- audit ---------------------------------------------------------------------------------- */

/* Every change to an accepted value is audited (old, new, actor, time,
 * reason); the trail reproduces every value's history; the database
 * refuses a change without its audit record. */
static void test_audit_of_accepted_values(void **state)
{
    (void)state;
    s_entry e;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110114", NULL, 0, &e);
    char id[40];
    s_report(&e, s_q(0), 90000000, 1, id);
    Ccip__Stats__CorrectReportRequest c = CCIP__STATS__CORRECT_REPORT_REQUEST__INIT;
    s_values vs = {0};
    s_set(&vs, "enterprises", COUNT, 125, NULL);
    s_set(&vs, "export_value", FEN, 1000000, NULL);
    c.report_id = id;
    c.values = vs.p;
    c.n_values = vs.n;
    /* No reason, no correction; operators do not correct. */
    assert_int_equal(s_send(STAFF, "stats.report.correct.v1", &c.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "`reason`");
    c.reason = "the district's register lists five more enterprises";
    assert_int_equal(s_send("operator", e.actor, "stats.report.correct.v1", &c.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    ccip_test_free(ccip_test_ok(&s_svc, STAFF, "stats.report.correct.v1", &c.base,
                                &ccip__stats__report_reply__descriptor));
    s_event_emitted("stats.value.corrected.v1", id);
    /* A second correction, by an admin, removing a value. */
    char *remove[] = {"occupancy_rate"};
    Ccip__Stats__CorrectReportRequest c2 = CCIP__STATS__CORRECT_REPORT_REQUEST__INIT;
    s_values v2 = {0};
    s_set(&v2, "enterprises", COUNT, 124, NULL);
    c2.report_id = id;
    c2.values = v2.p;
    c2.n_values = v2.n;
    c2.remove = remove;
    c2.n_remove = 1;
    c2.reason = "one enterprise was counted twice; occupancy not surveyed";
    ccip_test_free(ccip_test_ok(&s_svc, ADMIN, "stats.report.correct.v1", &c2.base,
                                &ccip__stats__report_reply__descriptor));
    /* Nothing to change: refused, not recorded. */
    assert_int_equal(s_send(ADMIN, "stats.report.correct.v1", &c2.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    /* A correction that brings in an error: refused, nothing changed. */
    s_values v3 = {0};
    s_set(&v3, "total_profit", FEN, 90000001, NULL);
    c2.values = v3.p;
    c2.n_values = v3.n;
    c2.n_remove = 0;
    assert_int_equal(s_send(STAFF, "stats.report.correct.v1", &c2.base, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "total profit cannot exceed operating revenue");

    /* The trail: the accepted values, then each change. */
    Ccip__Stats__GetReportRequest g = CCIP__STATS__GET_REPORT_REQUEST__INIT;
    g.report_id = id;
    Ccip__Stats__AuditReply *a = (Ccip__Stats__AuditReply *)ccip_test_ok(
        &s_svc, "operator", e.actor, "stats.report.audit.v1", &g.base,
        &ccip__stats__audit_reply__descriptor);
    assert_int_equal(a->n_entries, 7 + 2 + 2);
    int corrections = 0;
    for (size_t i = 0; i < a->n_entries; i++) {
        const Ccip__Stats__AuditEntry *x = a->entries[i];
        if (strcmp(x->indicator, "enterprises") == 0 && x->had_old && x->old_value == 120) {
            assert_int_equal(x->new_value, 125);
            assert_string_equal(x->actor_id, "staff-wang");
            assert_string_equal(x->actor_role, "staff");
            assert_string_equal(x->reason, "the district's register lists five more enterprises");
            assert_true(x->at_us > 0);
            corrections++;
        }
        if (strcmp(x->indicator, "occupancy_rate") == 0 && x->had_old) {
            assert_false(x->has_new);
            assert_string_equal(x->actor_id, "admin-zhou");
            corrections++;
        }
    }
    assert_int_equal(corrections, 2);
    /* Folding the trail gives the current values, every one of them. */
    Ccip__Stats__Report *r = s_get_report(STAFF, id);
    const char *codes[16];
    int64_t vals[16];
    int present[16];
    size_t n = 0;
    for (size_t i = 0; i < a->n_entries; i++) {
        const Ccip__Stats__AuditEntry *x = a->entries[i];
        size_t k = 0;
        while (k < n && strcmp(codes[k], x->indicator) != 0)
            k++;
        if (k == n)
            codes[n++] = x->indicator;
        vals[k] = x->new_value;
        present[k] = x->has_new;
    }
    size_t live = 0;
    for (size_t k = 0; k < n; k++) {
        int found;
        int64_t v = s_value_of(r, codes[k], &found);
        assert_int_equal(found, present[k]);
        if (found) {
            assert_true(v == vals[k]);
            live++;
        }
    }
    assert_int_equal(live, r->n_values);
    ccip_test_free(r);
    ccip_test_free(a);
    /* The database itself refuses a change without who and why. */
    assert_int_equal(ccip_test_number(&s_svc,
                                      "WITH u AS (UPDATE report_value SET value = value + 1 "
                                      "WHERE report_id = '%s' RETURNING 1) SELECT count(*) FROM u",
                                      id),
                     -1);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM value_audit WHERE report_id = '%s'", id),
        11);
    s_sums_consistent();
    /* A draft is corrected by its operator, not through the audit path. */
    s_entry d;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110114", NULL, 0, &d);
    s_values dv;
    s_cluster_values(&dv, 1000);
    char did[40];
    s_save(&d, s_q(0), &dv, did);
    c.report_id = did;
    assert_int_equal(s_send(STAFF, "stats.report.correct.v1", &c.base, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
}

/* ---- completeness --------------------------------------------------------------------------- */

static Ccip__Stats__CompletenessReply *s_completeness(const char *quarter, const char *district)
{
    Ccip__Stats__CompletenessRequest rq = CCIP__STATS__COMPLETENESS_REQUEST__INIT;
    rq.quarter = (char *)quarter;
    rq.district = (char *)district;
    return (Ccip__Stats__CompletenessReply *)ccip_test_ok(
        &s_svc, STAFF, "stats.completeness.get.v1", &rq.base,
        &ccip__stats__completeness_reply__descriptor);
}

static const Ccip__Stats__DistrictCompleteness *
s_district_line(const Ccip__Stats__CompletenessReply *c, const char *code)
{
    for (size_t i = 0; i < c->n_districts; i++)
        if (strcmp(c->districts[i]->district_code, code) == 0)
            return c->districts[i];
    return NULL;
}

static Ccip__Stats__Timeliness s_timeliness_of(const Ccip__Stats__CompletenessReply *c,
                                               const char *roster)
{
    for (size_t i = 0; i < c->n_clusters; i++)
        if (strcmp(c->clusters[i]->roster_id, roster) == 0)
            return c->clusters[i]->timeliness;
    return CCIP__STATS__TIMELINESS__TIMELINESS_UNSPECIFIED;
}

/* Who reported on time, late or not at all, by district. */
static void test_completeness_and_timeliness(void **state)
{
    (void)state;
    const char *district = "110116";
    Ccip__Stats__CompletenessReply *before = s_completeness(s_q(0), district);
    Ccip__Stats__CompletenessReply *before_old = s_completeness(s_q(-8), district);
    const Ccip__Stats__DistrictCompleteness *b = s_district_line(before, district);
    const Ccip__Stats__DistrictCompleteness *bo = s_district_line(before_old, district);
    uint32_t b_exp = b ? b->expected : 0, b_on = b ? b->on_time : 0, b_miss = b ? b->missing : 0;
    uint32_t b_late = b ? b->late : 0;
    uint32_t bo_late = bo ? bo->late : 0, bo_miss = bo ? bo->missing : 0;
    uint32_t bo_acc = bo ? bo->accepted : 0;
    ccip_test_free(before);
    ccip_test_free(before_old);

    s_entry on_time, draft_only, none, late;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, district, NULL, 0, &on_time);
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, district, NULL, 0, &draft_only);
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, district, NULL, 0, &none);
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, district, NULL, 0, &late);
    char id[40];
    s_report(&on_time, s_q(0), 10000000, 0, id);
    s_values vs;
    s_cluster_values(&vs, 10000000);
    s_save(&draft_only, s_q(0), &vs, id);
    s_report(&late, s_q(-8), 10000000, 1, id);

    Ccip__Stats__CompletenessReply *c = s_completeness(s_q(0), district);
    const Ccip__Stats__DistrictCompleteness *d = s_district_line(c, district);
    assert_non_null(d);
    assert_string_equal(d->district_name, "Huairou");
    assert_int_equal(d->expected, b_exp + 4);
    assert_int_equal(d->on_time, b_on + 1);
    assert_int_equal(d->late, b_late);
    assert_int_equal(d->missing, b_miss + 3);
    assert_int_equal(
        d->completeness_bp,
        (uint32_t)(((uint64_t)(d->on_time + d->late) * 10000 + d->expected / 2) / d->expected));
    assert_int_equal(s_timeliness_of(c, on_time.id), CCIP__STATS__TIMELINESS__ON_TIME);
    assert_int_equal(s_timeliness_of(c, draft_only.id), CCIP__STATS__TIMELINESS__MISSING);
    assert_int_equal(s_timeliness_of(c, none.id), CCIP__STATS__TIMELINESS__MISSING);
    assert_int_equal(s_timeliness_of(c, late.id), CCIP__STATS__TIMELINESS__MISSING);
    assert_true(c->due_at_us == stats_quarter_end_us(s_now_q) + DUE_DAYS * DAY_US);
    assert_true(c->locks_at_us == stats_quarter_end_us(s_now_q) + LOCK_DAYS * DAY_US);
    assert_int_equal(c->total->expected >= d->expected, 1);
    ccip_test_free(c);

    c = s_completeness(s_q(-8), district);
    d = s_district_line(c, district);
    assert_non_null(d);
    assert_int_equal(d->late, bo_late + 1);
    assert_int_equal(d->missing, bo_miss + 3);
    assert_int_equal(d->accepted, bo_acc + 1);
    assert_int_equal(s_timeliness_of(c, late.id), CCIP__STATS__TIMELINESS__LATE);
    ccip_test_free(c);
    /* A bad quarter is refused naming the field. */
    Ccip__Stats__CompletenessRequest rq = CCIP__STATS__COMPLETENESS_REQUEST__INIT;
    rq.quarter = "Q3-2026";
    assert_int_equal(s_send(STAFF, "stats.completeness.get.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "`quarter`");
}

/* ---- analysis ----------------------------------------------------------------------------------
 */

static const Ccip__Stats__AnalysisRow *s_row(const Ccip__Stats__AnalysisReply *a,
                                             const char *dimension, const char *key,
                                             const char *indicator)
{
    for (size_t i = 0; i < a->n_rows; i++)
        if (strcmp(a->rows[i]->dimension, dimension) == 0 && strcmp(a->rows[i]->key, key) == 0 &&
            strcmp(a->rows[i]->indicator, indicator) == 0)
            return a->rows[i];
    return NULL;
}

static Ccip__Stats__AnalysisReply *s_analysis(const char *quarter)
{
    Ccip__Stats__AnalysisRequest rq = CCIP__STATS__ANALYSIS_REQUEST__INIT;
    rq.quarter = (char *)quarter;
    return (Ccip__Stats__AnalysisReply *)ccip_test_ok(&s_svc, "district", "district:110105",
                                                      "stats.analysis.get.v1", &rq.base,
                                                      &ccip__stats__analysis_reply__descriptor);
}

/* Aggregates by category (and district), growth like for like over the
 * entries that reported both quarters, rankings; an incomplete group says
 * so and its mean divides by the entries that reported. */
static void test_quarterly_analysis(void **state)
{
    (void)state;
    char category[24];
    snprintf(category, sizeof category, "c%s", s_run);
    s_entry a, b, c;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110105", category, 0, &a);
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110105", category, 0, &b);
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110108", category, 0, &c);
    char id[40], c_id[40];
    s_report(&a, s_q(-4), 70000000, 1, id);
    s_report(&b, s_q(-4), 200000000, 1, id);
    s_report(&a, s_q(-1), 80000000, 1, id);
    s_report(&a, s_q(0), 100000000, 1, id);
    s_report(&b, s_q(0), 300000000, 1, id);
    s_report(&c, s_q(0), 50000000, 0, c_id); /* submitted, not accepted */

    Ccip__Stats__AnalysisReply *an = s_analysis(s_q(0));
    assert_string_equal(an->previous_quarter, s_q(-1));
    assert_string_equal(an->year_ago_quarter, s_q(-4));
    const Ccip__Stats__AnalysisRow *r = s_row(an, "category", category, "operating_revenue");
    assert_non_null(r);
    assert_int_equal(r->unit, FEN);
    assert_true(r->value == 400000000); /* accepted reports only */
    assert_int_equal(r->reporting, 2);
    assert_int_equal(r->expected, 3);
    assert_false(r->complete); /* marked, not averaged in silently */
    assert_true(r->mean == 200000000);
    assert_true(r->has_qoq); /* panel: a alone, 80 -> 100 */
    assert_int_equal(r->qoq_panel, 1);
    assert_true(r->qoq_bp == 2500);
    assert_true(r->has_yoy); /* panel: a and b, 270 -> 400 */
    assert_int_equal(r->yoy_panel, 2);
    assert_true(r->yoy_bp == 4815);
    assert_true(r->rank >= 1);
    /* Trainees are not asked of clusters: nothing expected of the category. */
    r = s_row(an, "category", category, "trainees");
    assert_non_null(r);
    assert_int_equal(r->expected, 0);
    assert_false(r->has_qoq);
    /* An optional indicator nobody reported has no growth. */
    r = s_row(an, "category", category, "export_value");
    assert_int_equal(r->reporting, 0);
    assert_false(r->has_qoq);
    assert_false(r->has_yoy);
    assert_int_equal(r->rank, 0);
    /* Districts are there too, ranked. */
    r = s_row(an, "district", "110108", "operating_revenue");
    assert_non_null(r);
    assert_true(r->expected >= 1);
    r = s_row(an, "total", "", "operating_revenue");
    assert_non_null(r);
    assert_true(r->value >= 400000000);
    ccip_test_free(an);

    /* Once the last report is accepted the group is complete. */
    s_accept(&c, c_id);
    an = s_analysis(s_q(0));
    r = s_row(an, "category", category, "operating_revenue");
    assert_true(r->value == 450000000);
    assert_int_equal(r->reporting, 3);
    assert_true(r->complete);
    assert_true(r->mean == 150000000);
    assert_int_equal(r->qoq_panel, 1); /* c did not report the previous quarter */
    ccip_test_free(an);
    /* A correction of the previous quarter moves the growth; a new category
     * moves the entry's values with it. */
    Ccip__Stats__GetReportRequest g = CCIP__STATS__GET_REPORT_REQUEST__INIT;
    g.roster_id = a.id;
    g.quarter = (char *)s_q(-1);
    Ccip__Stats__ReportReply *prev = (Ccip__Stats__ReportReply *)ccip_test_ok(
        &s_svc, STAFF, "stats.report.get.v1", &g.base, &ccip__stats__report_reply__descriptor);
    s_values cv = {0};
    s_set(&cv, "operating_revenue", FEN, 50000000, NULL);
    s_set(&cv, "total_profit", FEN, 5000000, NULL);
    Ccip__Stats__CorrectReportRequest c2 = CCIP__STATS__CORRECT_REPORT_REQUEST__INIT;
    c2.report_id = prev->report->id;
    c2.values = cv.p;
    c2.n_values = cv.n;
    c2.reason = "restated accounts";
    ccip_test_free(ccip_test_ok(&s_svc, STAFF, "stats.report.correct.v1", &c2.base,
                                &ccip__stats__report_reply__descriptor));
    ccip_test_free(prev);
    char other[32];
    snprintf(other, sizeof other, "o%s", s_run);
    s_categorise(&c, other);
    an = s_analysis(s_q(0));
    r = s_row(an, "category", category, "operating_revenue");
    assert_true(r->value == 400000000);
    assert_int_equal(r->expected, 2);
    assert_true(r->complete);
    assert_true(r->qoq_bp == 10000); /* a: 50 -> 100 */
    r = s_row(an, "category", other, "operating_revenue");
    assert_non_null(r);
    assert_true(r->value == 50000000);
    assert_int_equal(r->reporting, 1);
    ccip_test_free(an);
    s_sums_consistent();
    /* A bad quarter is refused naming the field. */
    Ccip__Stats__AnalysisRequest rq = CCIP__STATS__ANALYSIS_REQUEST__INIT;
    rq.quarter = "2026Q9";
    assert_int_equal(s_send(STAFF, "stats.analysis.get.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "`quarter`");
    /* Operators do not read the analysis (it shows other entries). */
    rq.quarter = (char *)s_q(0);
    assert_int_equal(s_send("operator", a.actor, "stats.analysis.get.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
}

/* ---- indicators from events
 * ---------------------------------------------------------------------- */

#define MIYUN      "110118" /* no other suite uses it: its figures move only here */
#define MIYUN_NAME "Miyun"

/* indicator value (0 when absent) of one district and kind. */
static int64_t s_ind(const Ccip__Stats__EventIndicatorsReply *r, const char *kind,
                     const char *indicator)
{
    for (size_t i = 0; i < r->n_rows; i++)
        if (strcmp(r->rows[i]->kind, kind) == 0 && strcmp(r->rows[i]->indicator, indicator) == 0)
            return r->rows[i]->value;
    return 0;
}

static Ccip__Stats__EventIndicatorsReply *s_indicators(void)
{
    Ccip__Stats__EventIndicatorsRequest rq = CCIP__STATS__EVENT_INDICATORS_REQUEST__INIT;
    rq.quarter = (char *)s_q(0);
    rq.district = MIYUN_NAME;
    return (Ccip__Stats__EventIndicatorsReply *)ccip_test_ok(
        &s_svc, STAFF, "stats.indicators.get.v1", &rq.base,
        &ccip__stats__event_indicators_reply__descriptor);
}

/* Waits until stats has applied intake's whole stream. */
static void s_intake_wait(void)
{
    long long head = ccip_test_query_number("intake", "SELECT head FROM outbox_state");
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT position FROM consumer_cursor WHERE producer = 'intake'");
    for (int i = 0; i < 300 && head >= 0; i++) {
        if (ccip_test_query_number("stats", sql) >= head)
            return;
        ccip_test_sleep_ms(100);
        head = ccip_test_query_number("intake", "SELECT head FROM outbox_state");
    }
    ccip_test_fail(&s_svc, "stats did not apply intake's stream");
}

/* An application through the real intake: a call of `kind`, an
 * organisation in Miyun, a draft, a submission, an acceptance. */
static void s_intake_application(Ccip__Intake__CallKind kind, char uscc[CCIP_USCC_LEN + 1],
                                 char app[CCIP_UUID_STRLEN + 1])
{
    Ccip__Intake__OpenCallRequest call = CCIP__INTAKE__OPEN_CALL_REQUEST__INIT;
    call.kind = kind;
    call.year = s_now_q.year + 1;
    call.title = "call for the statistics suite";
    call.opens_at_us = ccip_now_us() / 1000000 * 1000000 - HOUR_US;
    call.closes_at_us = call.opens_at_us + 30 * DAY_US;
    if (kind == CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT) {
        call.fund_programme_code = "CCI-STATS";
        call.max_request_fen = 500000000;
    }
    Ccip__Intake__CallReply *cr = (Ccip__Intake__CallReply *)s_ok_at(
        "intake", STAFF, "intake.call.open.v1", &call.base, &ccip__intake__call_reply__descriptor);
    char call_id[CCIP_UUID_STRLEN + 1];
    snprintf(call_id, sizeof call_id, "%s", cr->call->id);
    ccip_test_free(cr);
    ccip_test_uscc(MIYUN, uscc);
    char actor[CCIP_USCC_LEN + 5];
    snprintf(actor, sizeof actor, "org:%s", uscc);
    Ccip__Intake__RegisterOrganisationRequest org =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    org.uscc = uscc;
    org.name = "密云文化发展有限公司";
    org.type = CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE;
    org.district = MIYUN_NAME;
    org.legal_representative = "赵敏";
    org.contact_name = "钱程";
    org.contact_phone = "010-6904 0000";
    org.contact_email = "office@example.cn";
    ccip_test_free(
        s_ok_at("intake", "applicant", actor, "intake.organisation.register.v1", &org.base, NULL));
    Ccip__Intake__VerifyOrganisationRequest v = CCIP__INTAKE__VERIFY_ORGANISATION_REQUEST__INIT;
    v.uscc = uscc;
    v.note = "licence checked";
    ccip_test_free(s_ok_at("intake", STAFF, "intake.organisation.verify.v1", &v.base, NULL));
    Ccip__Intake__ApplicationContent c = CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    Ccip__Intake__ClusterFacts cluster = CCIP__INTAKE__CLUSTER_FACTS__INIT;
    Ccip__Intake__ProjectFacts project = CCIP__INTAKE__PROJECT_FACTS__INIT;
    Ccip__Intake__BudgetLine line = CCIP__INTAKE__BUDGET_LINE__INIT;
    Ccip__Intake__BudgetLine *lines[] = {&line};
    c.title = "Miyun reservoir crafts";
    c.summary = "A crafts cluster by the reservoir";
    c.district = MIYUN;
    if (kind == CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT) {
        c.requested_fen = 100000000;
        line.item = "Workshops";
        line.amount_fen = 100000000;
        project.budget_lines = lines;
        project.n_budget_lines = 1;
        c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT;
        c.project = &project;
    } else {
        cluster.cluster_name = "Reservoir crafts";
        cluster.location = "Xiwengzhuang";
        cluster.area_m2 = 12000;
        cluster.enterprise_count = 30;
        cluster.employee_count = 400;
        cluster.lead_operator = "Miyun Culture Co.";
        c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
        c.cluster = &cluster;
    }
    Ccip__Intake__DraftApplicationRequest d = CCIP__INTAKE__DRAFT_APPLICATION_REQUEST__INIT;
    d.call_id = call_id;
    d.applicant_uscc = uscc;
    d.content = &c;
    Ccip__Intake__ApplicationReply *ar = (Ccip__Intake__ApplicationReply *)s_ok_at(
        "intake", "applicant", actor, "intake.application.draft.v1", &d.base,
        &ccip__intake__application_reply__descriptor);
    snprintf(app, CCIP_UUID_STRLEN + 1, "%s", ar->application->id);
    ccip_test_free(ar);
    Ccip__Intake__ApplicationActionRequest act = CCIP__INTAKE__APPLICATION_ACTION_REQUEST__INIT;
    act.application_id = app;
    ccip_test_free(
        s_ok_at("intake", "applicant", actor, "intake.application.submit.v1", &act.base, NULL));
    ccip_test_free(s_ok_at("intake", STAFF, "intake.application.accept.v1", &act.base, NULL));
}

static void s_decision(const char *app, const char *uscc, Ccip__Intake__CallKind kind,
                       Ccip__Evaluation__Outcome outcome)
{
    Ccip__Evaluation__Decision d = CCIP__EVALUATION__DECISION__INIT;
    d.outcome = outcome;
    d.decided_at_us = ccip_now_us();
    d.decided_by = "office-chen";
    Ccip__Evaluation__DecisionMade m = CCIP__EVALUATION__DECISION_MADE__INIT;
    m.application_id = (char *)app;
    m.kind = kind;
    m.applicant_uscc = (char *)uscc;
    m.decision = &d;
    s_fake_add(s_evaluation, "evaluation.decision.made.v1", "case", app, &m.base);
}

static void s_funds(const char *app, const char *uscc)
{
    char award_id[40], pay_id[40], claw_id[40];
    ccip_uuid_v7(award_id);
    ccip_uuid_v7(pay_id);
    ccip_uuid_v7(claw_id);
    Ccip__Funding__Award a = CCIP__FUNDING__AWARD__INIT;
    a.id = award_id;
    a.application_id = (char *)app;
    a.grantee_uscc = (char *)uscc;
    a.amount_fen = 80000000;
    a.confirmed_at_us = ccip_now_us();
    Ccip__Funding__AwardChanged ac = CCIP__FUNDING__AWARD_CHANGED__INIT;
    ac.award = &a;
    s_fake_add(s_funding, "funding.award.granted.v1", "application", app, &ac.base);
    Ccip__Funding__DisbursementPaid p = CCIP__FUNDING__DISBURSEMENT_PAID__INIT;
    p.payment_id = pay_id;
    p.award_id = award_id;
    p.application_id = (char *)app;
    p.amount_fen = 30000000;
    p.grantee_uscc = (char *)uscc;
    p.paid_at_us = ccip_now_us();
    s_fake_add(s_funding, "funding.disbursement.paid.v1", "application", app, &p.base);
    Ccip__Funding__Clawback c = CCIP__FUNDING__CLAWBACK__INIT;
    c.id = claw_id;
    c.award_id = award_id;
    c.amount_fen = 5000000;
    c.ordered_at_us = ccip_now_us();
    Ccip__Funding__ClawbackChanged cc = CCIP__FUNDING__CLAWBACK_CHANGED__INIT;
    cc.clawback = &c;
    cc.application_id = (char *)app;
    cc.grantee_uscc = (char *)uscc;
    s_fake_add(s_funding, "funding.clawback.ordered.v1", "application", app, &cc.base);
}

static void s_work(const char *uscc, char work_id[40])
{
    char party[32];
    snprintf(party, sizeof party, "org:%s", uscc);
    ccip_uuid_v7(work_id);
    Ccip__Ip__Owner o = CCIP__IP__OWNER__INIT;
    o.party = party;
    o.share_bp = 10000;
    Ccip__Ip__Owner *owners[] = {&o};
    Ccip__Ip__WorkRegistered w = CCIP__IP__WORK_REGISTERED__INIT;
    w.work_id = work_id;
    w.serial = ccip_test_producer_head(s_ip) + 1;
    w.kind = CCIP__IP__WORK_KIND__COPYRIGHT_DESIGN;
    w.title = "Reservoir lantern pattern";
    w.owners = owners;
    w.n_owners = 1;
    w.registered_at_us = ccip_now_us();
    s_fake_add(s_ip, "ip.work.registered.v1", "work", work_id, &w.base);
}

static void s_trade_and_dispute(const char *uscc, const char *work_id)
{
    char party[32], contract[40], dispute[40];
    snprintf(party, sizeof party, "org:%s", uscc);
    ccip_uuid_v7(contract);
    ccip_uuid_v7(dispute);
    Ccip__Ip__Contract c = CCIP__IP__CONTRACT__INIT;
    c.id = contract;
    c.work_id = (char *)work_id;
    c.seller = party;
    c.buyer = "org:91110105MA01ABCD2X";
    c.deal = CCIP__IP__DEAL_TYPE__NON_EXCLUSIVE_LICENCE;
    c.price_fen = 880000;
    c.status = "SETTLED";
    c.settled_at_us = ccip_now_us();
    Ccip__Ip__TradeSettled t = CCIP__IP__TRADE_SETTLED__INIT;
    t.contract = &c;
    s_fake_add(s_ip, "ip.trade.settled.v1", "contract", contract, &t.base);
    Ccip__Ip__Owner o = CCIP__IP__OWNER__INIT;
    o.party = party;
    o.share_bp = 10000;
    Ccip__Ip__Owner *owners[] = {&o};
    Ccip__Ip__DisputeRuled d = CCIP__IP__DISPUTE_RULED__INIT;
    d.dispute_id = dispute;
    d.work_id = (char *)work_id;
    d.ruling = CCIP__IP__RULING__UPHOLD;
    d.reasons = "the pattern copies a registered design";
    d.owners = owners;
    d.n_owners = 1;
    s_fake_add(s_ip, "ip.dispute.upheld.v1", "dispute", dispute, &d.base);
}

static Ccip__Stats__RebuildReply *s_rebuild(void)
{
    Ccip__Stats__RebuildRequest rq = CCIP__STATS__REBUILD_REQUEST__INIT;
    return (Ccip__Stats__RebuildReply *)ccip_test_ok(&s_svc, ADMIN, "stats.projections.rebuild.v1",
                                                     &rq.base,
                                                     &ccip__stats__rebuild_reply__descriptor);
}

static void s_checksum(char out[40])
{
    Ccip__Stats__ChecksumRequest rq = CCIP__STATS__CHECKSUM_REQUEST__INIT;
    Ccip__Stats__ChecksumReply *r = (Ccip__Stats__ChecksumReply *)ccip_test_ok(
        &s_svc, NULL, NULL, "stats.projections.checksum.v1", &rq.base,
        &ccip__stats__checksum_reply__descriptor);
    snprintf(out, 40, "%s", r->checksum);
    assert_true(r->rows > 0);
    ccip_test_free(r);
}

/* Indicators per quarter, district and kind, computed from intake's,
 * evaluation's, funding's and ip's events; a rebuild by replay from
 * position zero produces identical tables, and consumption goes on. */
static void test_indicators_from_events_and_rebuild(void **state)
{
    (void)state;
    if (ccip_test_producer_base(s_evaluation) || ccip_test_producer_base(s_funding) ||
        ccip_test_producer_base(s_ip))
        fail_msg("this test replays evaluation, funding and ip from position 1: run it on a "
                 "stats schema that has not consumed them before (scripts/test makes one)");
    s_intake_wait();
    Ccip__Stats__EventIndicatorsReply *before = s_indicators();
    const char *cluster = "CLUSTER_IDENTIFICATION", *project = "SPECIAL_FUND_PROJECT";
    int64_t b_sub = s_ind(before, cluster, "applications_submitted");
    int64_t b_acc = s_ind(before, cluster, "applications_accepted");
    int64_t b_app = s_ind(before, cluster, "applications_approved");
    int64_t b_pacc = s_ind(before, project, "applications_accepted");
    int64_t b_dec = s_ind(before, "TALENT_BASE_IDENTIFICATION", "applications_declined");
    int64_t b_award = s_ind(before, project, "awards_committed_fen");
    int64_t b_paid = s_ind(before, project, "disbursed_fen");
    int64_t b_claw = s_ind(before, project, "clawed_back_fen");
    int64_t b_works = s_ind(before, "COPYRIGHT_DESIGN", "ip_registrations");
    int64_t b_trades = s_ind(before, "COPYRIGHT_DESIGN", "ip_trades");
    int64_t b_value = s_ind(before, "COPYRIGHT_DESIGN", "ip_trade_value_fen");
    int64_t b_upheld = s_ind(before, "COPYRIGHT_DESIGN", "disputes_upheld");
    ccip_test_free(before);

    char uscc_c[CCIP_USCC_LEN + 1], app_c[CCIP_UUID_STRLEN + 1];
    char uscc_p[CCIP_USCC_LEN + 1], app_p[CCIP_UUID_STRLEN + 1], unknown[40], work[40];
    s_intake_application(CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION, uscc_c, app_c);
    s_intake_application(CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT, uscc_p, app_p);
    /* Evaluation decides (a RETURNED decision first: not final, not counted);
     * a decision about an application intake never told stats about counts
     * under the district of its applicant's code. */
    s_decision(app_c, uscc_c, CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
               CCIP__EVALUATION__OUTCOME__DECISION_RETURNED);
    s_decision(app_c, uscc_c, CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
               CCIP__EVALUATION__OUTCOME__DECISION_APPROVED);
    s_decision(app_p, uscc_p, CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT,
               CCIP__EVALUATION__OUTCOME__DECISION_APPROVED);
    ccip_uuid_v7(unknown);
    s_decision(unknown, uscc_c, CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION,
               CCIP__EVALUATION__OUTCOME__DECISION_DECLINED);
    s_funds(app_p, uscc_p);
    s_work(uscc_c, work);
    s_trade_and_dispute(uscc_c, work);
    s_intake_wait();
    s_fake_wait(s_evaluation);
    s_fake_wait(s_funding);
    s_fake_wait(s_ip);

    Ccip__Stats__EventIndicatorsReply *live = s_indicators();
    assert_true(s_ind(live, cluster, "applications_submitted") == b_sub + 1);
    assert_true(s_ind(live, cluster, "applications_accepted") == b_acc + 1);
    assert_true(s_ind(live, cluster, "applications_approved") == b_app + 1);
    assert_true(s_ind(live, project, "applications_accepted") == b_pacc + 1);
    assert_true(s_ind(live, "TALENT_BASE_IDENTIFICATION", "applications_declined") == b_dec + 1);
    assert_true(s_ind(live, cluster, "approval_rate_bp") > 0);
    assert_true(s_ind(live, project, "awards_committed_fen") == b_award + 80000000);
    assert_true(s_ind(live, project, "disbursed_fen") == b_paid + 30000000);
    assert_true(s_ind(live, project, "clawed_back_fen") == b_claw + 5000000);
    assert_true(s_ind(live, "COPYRIGHT_DESIGN", "ip_registrations") == b_works + 1);
    assert_true(s_ind(live, "COPYRIGHT_DESIGN", "ip_trades") == b_trades + 1);
    assert_true(s_ind(live, "COPYRIGHT_DESIGN", "ip_trade_value_fen") == b_value + 880000);
    assert_true(s_ind(live, "COPYRIGHT_DESIGN", "disputes_upheld") == b_upheld + 1);
    assert_true(live->n_cursors >= 4);
    for (size_t i = 0; i < live->n_rows; i++)
        assert_string_equal(live->rows[i]->district_code, MIYUN);

    /* Rebuild: the tables after a full replay equal the live ones. */
    char sum_live[40], sum[40];
    s_checksum(sum_live);
    Ccip__Stats__RebuildRequest rq = CCIP__STATS__REBUILD_REQUEST__INIT;
    assert_int_equal(s_send(STAFF, "stats.projections.rebuild.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED); /* admin only */
    Ccip__Stats__RebuildReply *rb = s_rebuild();
    assert_string_equal(rb->checksum_before, sum_live);
    assert_string_equal(rb->checksum_after, sum_live);
    assert_true(rb->n_replayed >= 4);
    uint64_t replayed = 0;
    for (size_t i = 0; i < rb->n_replayed; i++)
        replayed += rb->replayed[i]->position;
    assert_true(replayed >= 11);
    ccip_test_free(rb);
    /* Tables that drifted (a lost row) come back from the streams. */
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "WITH d AS (DELETE FROM ev_award RETURNING 1), "
                         "e AS (DELETE FROM ev_application WHERE application_id = '%s' "
                         "RETURNING 1) SELECT (SELECT count(*) FROM d) + (SELECT count(*) "
                         "FROM e)",
                         app_c),
        2);
    s_checksum(sum);
    assert_string_not_equal(sum, sum_live);
    rb = s_rebuild();
    assert_string_equal(rb->checksum_before, sum);
    assert_string_equal(rb->checksum_after, sum_live);
    ccip_test_free(rb);
    s_checksum(sum);
    assert_string_equal(sum, sum_live);
    Ccip__Stats__EventIndicatorsReply *again = s_indicators();
    assert_int_equal(again->n_rows, live->n_rows);
    for (size_t i = 0; i < live->n_rows; i++) {
        assert_string_equal(again->rows[i]->kind, live->rows[i]->kind);
        assert_string_equal(again->rows[i]->indicator, live->rows[i]->indicator);
        assert_true(again->rows[i]->value == live->rows[i]->value);
    }
    ccip_test_free(again);
    /* The consumers go on from their cursors, exactly once. */
    char work2[40];
    s_work(uscc_c, work2);
    s_fake_wait(s_ip);
    again = s_indicators();
    assert_true(s_ind(again, "COPYRIGHT_DESIGN", "ip_registrations") == b_works + 2);
    ccip_test_free(again);
    ccip_test_free(live);
}

/* ---- releases ------------------------------------------------------------------------------- */

static int s_get_release(const char *role, const char *actor, const char *quarter, uint32_t version,
                         Ccip__Stats__ReleaseReply **out)
{
    Ccip__Stats__GetReleaseRequest rq = CCIP__STATS__GET_RELEASE_REQUEST__INIT;
    rq.quarter = (char *)quarter;
    rq.version = version;
    return s_send(role, actor, "stats.release.get.v1", &rq.base,
                  &ccip__stats__release_reply__descriptor, (ProtobufCMessage **)out);
}

static size_t s_listed(const char *role, const char *actor, const char *quarter, const char *search)
{
    Ccip__Stats__ListReleasesRequest rq = CCIP__STATS__LIST_RELEASES_REQUEST__INIT;
    rq.quarter = (char *)quarter;
    rq.search = (char *)search;
    Ccip__Stats__ListReleasesReply *r = (Ccip__Stats__ListReleasesReply *)ccip_test_ok(
        &s_svc, role, actor, "stats.release.list.v1", &rq.base,
        &ccip__stats__list_releases_reply__descriptor);
    size_t n = r->n_releases;
    ccip_test_free(r);
    return n;
}

static const char *s_file(const Ccip__Stats__Release *r, const char *name)
{
    for (size_t i = 0; i < r->n_files; i++)
        if (strcmp(r->files[i]->name, name) == 0)
            return r->files[i]->content;
    return NULL;
}

/* A bulletin with a licence and versions; under embargo nothing of it can
 * be read without the analyst role, not even through list and search. */
static void test_release_embargo_and_versions(void **state)
{
    (void)state;
    /* A quarter of this run alone. */
    char quarter[8], title[80], search[40];
    stats_quarter q = {2100 + (int)(getpid() % 90), (int)(time(NULL) % 4) + 1};
    stats_quarter_format(q, quarter, sizeof quarter);
    /* An entry whose designation is still valid then, for the chart's bar. */
    s_entry e;
    s_valid_until_us = stats_quarter_start_us((stats_quarter){2199, 1});
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110108", NULL, 0, &e);
    s_valid_until_us = 0;
    snprintf(search, sizeof search, "bulletin-%s", s_run);
    snprintf(title, sizeof title, "Cluster monitoring %s", search);
    Ccip__Stats__PublishReleaseRequest p = CCIP__STATS__PUBLISH_RELEASE_REQUEST__INIT;
    p.quarter = quarter;
    p.title = title;
    p.licence = "CC-BY-4.0";
    p.embargo_until_us = ccip_now_us() + 3 * 1000000LL;
    /* Staff do not publish; the licence is required. */
    assert_int_equal(s_send(STAFF, "stats.release.publish.v1", &p.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    p.licence = "";
    assert_int_equal(s_send(ANALYST, "stats.release.publish.v1", &p.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "`licence`");
    p.licence = "CC-BY-4.0";
    Ccip__Stats__ReleaseReply *r =
        (Ccip__Stats__ReleaseReply *)ccip_test_ok(&s_svc, ANALYST, "stats.release.publish.v1",
                                                  &p.base, &ccip__stats__release_reply__descriptor);
    assert_int_equal(r->release->version, 1);
    assert_non_null(strstr(r->release->summary, quarter));
    ccip_test_free(r);
    char agg[24];
    snprintf(agg, sizeof agg, "%s/1", quarter);
    s_event_emitted("stats.release.published.v1", agg);

    /* Under embargo: not found by get, list or search, for anyone but the analyst. */
    assert_int_equal(s_get_release(STAFF, quarter, 0, &r), CCIP__STATUS__NOT_FOUND);
    assert_int_equal(s_get_release(NULL, NULL, quarter, 1, &r), CCIP__STATUS__NOT_FOUND);
    assert_int_equal(s_get_release("operator", "org:91110105MA01ABCD2X", quarter, 0, &r),
                     CCIP__STATUS__NOT_FOUND);
    assert_int_equal(s_listed(STAFF, quarter, ""), 0);
    assert_int_equal(s_listed(NULL, NULL, "", search), 0);
    assert_int_equal(s_listed(ANALYST, "", search), 1);
    assert_int_equal(s_get_release(ANALYST, quarter, 0, &r), 0);
    const Ccip__Stats__Release *rel = r->release;
    assert_int_equal(rel->n_files, 6);
    assert_string_equal(rel->licence, "CC-BY-4.0");
    assert_non_null(strstr(s_file(rel, "bulletin.html"), "<svg"));
    assert_non_null(strstr(s_file(rel, "bulletin.html"), "CC-BY-4.0"));
    assert_non_null(strstr(s_file(rel, "districts.csv"), "quarter,dimension,key,indicator"));
    assert_non_null(strstr(s_file(rel, "analysis.json"), "\"rows\":["));
    assert_non_null(strstr(s_file(rel, "summary.txt"), "operating_revenue"));
    ccip_test_free(r);

    /* A correction needs a change note; it is public at once; the first
     * version stays (still under its embargo). */
    p.embargo_until_us = 0;
    assert_int_equal(s_send(ANALYST, "stats.release.publish.v1", &p.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "change note");
    p.change_note = "district table corrected";
    ccip_test_free(ccip_test_ok(&s_svc, ANALYST, "stats.release.publish.v1", &p.base,
                                &ccip__stats__release_reply__descriptor));
    assert_int_equal(s_get_release(STAFF, quarter, 0, &r), 0);
    assert_int_equal(r->release->version, 2);
    assert_string_equal(r->release->change_note, "district table corrected");
    ccip_test_free(r);
    assert_int_equal(s_get_release(STAFF, quarter, 1, &r), CCIP__STATUS__NOT_FOUND);
    assert_int_equal(s_listed(NULL, NULL, "", search), 1);
    /* After the embargo both versions are readable by anyone. */
    ccip_test_sleep_ms(3500);
    assert_int_equal(s_get_release(NULL, NULL, quarter, 1, &r), 0);
    assert_int_equal(r->release->version, 1);
    assert_int_equal(r->release->n_files, 6);
    ccip_test_free(r);
    assert_int_equal(s_listed(STAFF, quarter, ""), 2);
}

/* ---- ccipctl ------------------------------------------------------------------------------- */

static void s_out_has(const char *out, const char *part)
{
    if (!strstr(out, part)) {
        fprintf(stderr, "ccipctl output lacks \"%s\":\n%s\n", part, out);
        fail();
    }
}

/* The walk-through an operator, a district office, staff and an analyst do
 * with ccipctl: tables, --json and --csv. */
static void test_ccipctl(void **state)
{
    (void)state;
    static char out[262144];
    char id[64];
    s_entry e;
    s_add_entry(CCIP__STATS__ROSTER_KIND__CLUSTER, "110115", NULL, 0, &e);

    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "stats --help"), 0);
    s_out_has(out, "completeness");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "stats report save --help"), 0);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "stats report save --quarter %s 2>/dev/null", s_q(0)),
                     2);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "stats nonsense 2>/dev/null"), 2);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor s stats catalogue show --version 1"),
                     0);
    s_out_has(out, "operating_revenue");
    s_out_has(out, "profit_within_revenue");

    /* The operator saves (yuan and percentages as people write them) and submits. */
    assert_int_equal(
        ccip_test_ctl(
            &s_svc, out, sizeof out,
            "--json --role operator --actor %s stats report save --roster %s --quarter %s "
            "--value enterprises=118 --value employees=2900 --value operating_revenue=1234567.89 "
            "--value total_profit=123456.78 --value taxes_paid=61728.39 --value "
            "occupancy_rate=87.5 --value floor_area=41000 --note 'from the accounts'",
            e.actor, e.id, s_q(0)),
        0);
    char *p = strstr(out, "\"id\":\"");
    assert_non_null(p);
    snprintf(id, sizeof id, "%.36s", p + 6);
    assert_true(ccip_uuid_valid(id));
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT value FROM report_value WHERE report_id = '%s' AND code = "
                         "'operating_revenue'",
                         id),
        123456789);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT value FROM report_value WHERE report_id = '%s' AND code = "
                         "'occupancy_rate'",
                         id),
        8750);
    /* A value that is not in the indicator's unit never leaves ccipctl. */
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role operator --actor %s stats report save --roster %s --quarter "
                      "%s --value enterprises=1.5 2>&1",
                      e.actor, e.id, s_q(0)),
        2);
    s_out_has(out, "whole number");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role operator --actor %s stats report submit %s", e.actor,
                                   id),
                     0);
    s_out_has(out, "SUBMITTED");
    s_out_has(out, "1234567.89 yuan");
    s_out_has(out, "87.50 %");
    /* A district office of another district is refused: exit code 1. */
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role district --actor district:110105 stats report review %s "
                                   "--approve 2>&1",
                                   id),
                     1);
    s_out_has(out, "PERMISSION_DENIED");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role district --actor district:110115 stats report review %s "
                                   "--approve --reason checked",
                                   id),
                     0);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role staff --actor staff-wang stats report decide %s --accept", id),
        0);
    s_out_has(out, "ACCEPTED");
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role staff --actor staff-wang stats report correct %s --value "
                      "operating_revenue=1300000 --reason 'audited accounts'",
                      id),
        0);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor s stats --csv report audit %s", id),
                     0);
    s_out_has(out, "indicator,had_old,old_value,has_new,new_value");
    s_out_has(out, "operating_revenue,true,123456789,true,130000000,staff-wang,staff,audited "
                   "accounts");

    /* Completeness of the quarter: table, JSON and CSV. */
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor s stats completeness %s", s_q(0)),
                     0);
    s_out_has(out, "Daxing");
    s_out_has(out, e.id);
    s_out_has(out, "ON_TIME");
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--json --role staff --actor s stats completeness %s --district 110115",
                      s_q(0)),
        0);
    s_out_has(out, "\"districts\":[{\"district_code\":\"110115\"");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor s stats completeness --csv %s", s_q(0)),
                     0);
    s_out_has(out, "district_code,district_name,expected,on_time,late,missing,accepted");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor s stats completeness 2026-3 2>&1"),
                     1);
    s_out_has(out, "INVALID_ARGUMENT");
    /* Analysis and indicators. */
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out, "--role staff --actor s stats analysis %s", s_q(0)),
        0);
    s_out_has(out, "operating_revenue");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor s stats --csv analysis %s", s_q(0)),
                     0);
    s_out_has(out, "dimension,key,indicator,unit,value,reporting,expected,complete");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor s stats --csv indicators %s", s_q(0)),
                     0);
    s_out_has(out, "district_code,kind,indicator,value");
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out, "--role staff --actor s stats projections checksum"),
        0);

    /* A bulletin: published by an analyst, read as a file. */
    char quarter[8];
    stats_quarter q = {2190 + (int)(getpid() % 9), (int)(time(NULL) % 4) + 1};
    stats_quarter_format(q, quarter, sizeof quarter);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role analyst --actor analyst-liu stats release publish %s --title "
                      "'Quarterly bulletin' --licence CC-BY-4.0 --note 'first edition'",
                      quarter),
        0);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role staff --actor s stats release show %s --file districts.csv", quarter),
        0);
    s_out_has(out, "quarter,dimension,key,indicator");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor s stats release list --quarter %s",
                                   quarter),
                     0);
    s_out_has(out, "Quarterly bulletin");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue_versions),
        cmocka_unit_test(test_roster_from_designations),
        cmocka_unit_test(test_roster_designation_expires),
        cmocka_unit_test(test_save_refusals_write_nothing),
        cmocka_unit_test(test_errors_block_submission),
        cmocka_unit_test(test_warnings_need_explanations),
        cmocka_unit_test(test_two_level_approval),
        cmocka_unit_test(test_quarter_completed_once),
        cmocka_unit_test(test_reports_due_told_once),
        cmocka_unit_test(test_locking_and_exceptions),
        cmocka_unit_test(test_audit_of_accepted_values),
        cmocka_unit_test(test_completeness_and_timeliness),
        cmocka_unit_test(test_quarterly_analysis),
        cmocka_unit_test(test_indicators_from_events_and_rebuild),
        cmocka_unit_test(test_release_embargo_and_versions),
        cmocka_unit_test(test_ccipctl),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
