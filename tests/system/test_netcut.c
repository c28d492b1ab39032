/*
 * A cut network (issue 15, item 3). Run by tests/system/netcut.sh, which
 * makes one network namespace per member (bus, pg, intake, evaluation,
 * funding, ip, stats, and drv, where this driver runs) joined by veth
 * pairs to a bridge, with IPv4 link-local addresses that exist only
 * inside them, and a private PostgreSQL listening inside the pg namespace;
 * it tells the driver how to cut and mend a member's link
 * (CCIP_NETCUT_LINK).
 *
 * The bus and the five services (intake, evaluation, funding, ip, stats)
 * each run in their own namespace (the child joins it before it execs:
 * ccip_test_env.netns). Three clients take cases along the real path (an
 * organisation registered and verified, an application filed and accepted
 * in intake; the case evaluation opens from intake's event read back,
 * assigned and its investigation reported; a work of the organisation
 * registered in ip); stats follows intake's and evaluation's events,
 * funding evaluation's and ip's. Each command is sent until it is answered
 * under the same command id (an UNAVAILABLE reply is sent again under that
 * id too: the service could not reach its database, nothing was done), every loop
 * bounded in count (MAX_CASES) and time (the load's end). A prober per
 * service sends a read that needs the service's database (OK or NOT_FOUND
 * means served) every PROBE_EVERY_MS.
 *
 * Under that load the driver cuts intake's link for CUT_S seconds, then,
 * once intake serves again, the database's link for CUT_S seconds. It
 * checks and prints, each failing the test when broken:
 *   cut_served   probes answered by a cut service while its link was down
 *                (after the first second): must be 0, or the cut cut
 *                nothing and the test proves nothing
 *   recovery_s   seconds from a link's return to the first probe the
 *                service answered: at most RECOVERY_MAX_S for intake after
 *                its cut and for every service after the database's
 *   lost         acknowledged commands whose stored reply, event or row is
 *                missing
 *   doubled      acknowledged commands whose event is in the outbox twice
 *   downstream   evaluation cases other than one per accepted application
 *   lag          events not yet numbered by their producer's relay, or
 *                consumers (every stream among the five) not caught up
 *                with their producer's head,
 *                LAG_MAX_S after the load
 *   self_exits   processes that exited (each must stay up throughout, its
 *                broken connections re-opened by their owners)
 *   reconnects   services whose log does not show a database connection
 *                lost and re-established during the database's cut (the
 *                rule that a connection broken later is re-opened with
 *                backoff, not merely resumed)
 * Its last line:
 *   netcut: acked=... lost=0 doubled=0 downstream_off=0 lag_s=...
 *           intake_cut_recovery_s=... db_cut_recovery_s=intake:...,evaluation:...,
 *           funding:...,ip:...,stats:... cut_served=0 self_exits=0 reconnects_missing=0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip/stats.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"
#include "ccip_validate.h"

#define CLIENTS        3
#define MAX_CASES      300   /* per client: the load's bound in count */
#define WARM_S         4     /* load before the first cut */
#define CUT_S          10    /* each cut's length */
#define RECOVERY_MAX_S 5     /* a service serves again within this after its link returns */
#define SETTLE_MAX_S   15    /* longest wait for the services to serve after a link returns */
#define ATTEMPT_MS     2000  /* one attempt of a command */
#define ATTEMPTS       20    /* then the client gives the command up (40 s) */
#define WAIT_MS        30000 /* longest wait for an effect made from an event */
#define PROBE_EVERY_MS 100   /* between a prober's reads */
#define PROBE_MS       1000  /* a probe's one attempt */
#define CUT_GRACE_MS   1000  /* probes sent before a cut may still be answered this long */
#define LAG_MAX_S      30    /* consumers catch up within this after the load */
#define MAX_ACKS       20000
#define HOUR_US        (3600LL * 1000000)
#define DAY_US         (24 * HOUR_US)

static ccip_test_svc s_svc;

/* ---- the processes and their namespaces ------------------------------------------ */

typedef struct {
    const char *binary; /* NULL: the bus */
    const char *member; /* its namespace's member name (and its role, key, replica) */
    pid_t pid;
} s_proc;

static s_proc s_procs[] = {
    {NULL, "bus", 0},
    {"services/intake/intake", "intake", 0},
    {"services/evaluation/evaluation", "evaluation", 0},
    {"services/funding/funding", "funding", 0},
    {"services/ip/ip", "ip", 0},
    {"services/stats/stats", "stats", 0},
};
#define NPROCS (sizeof s_procs / sizeof s_procs[0])

static const char *const s_services[] = {"intake", "evaluation", "funding", "ip", "stats"};
#define NSERVICES (sizeof s_services / sizeof s_services[0])

/* Each consumer and the producer it follows (their subscriptions). */
static const struct {
    const char *consumer;
    const char *producer;
} s_streams[] = {
    {"intake", "evaluation"},  {"intake", "funding"}, {"evaluation", "intake"},
    {"funding", "evaluation"}, {"funding", "ip"},     {"stats", "intake"},
    {"stats", "evaluation"},   {"stats", "funding"},  {"stats", "ip"},
};
#define NSTREAMS (sizeof s_streams / sizeof s_streams[0])

static void s_set_netns(const char *member)
{
    snprintf(s_svc.env.netns, sizeof s_svc.env.netns, "%s%s", getenv("CCIP_NETCUT_PREFIX"), member);
}

static int s_start(s_proc *p)
{
    s_set_netns(p->member);
    char instance[64];
    snprintf(instance, sizeof instance, "%s-1", p->member);
    p->pid = p->binary ? ccip_test_start_service(&s_svc.env, p->binary, p->member, instance)
                       : ccip_test_start_bus(&s_svc.env);
    s_svc.env.netns[0] = '\0';
    return p->pid > 0 ? 0 : -1;
}

/* Cuts (up = 0) or mends (up = 1) member's link; returns when it is done. */
static void s_link(const char *member, int up)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s %s %s", getenv("CCIP_NETCUT_LINK"), member, up ? "up" : "down");
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "could not set %s's link %s", member, up ? "up" : "down");
        ccip_test_fail(&s_svc, cmd);
    }
    printf("netcut: %s's link %s\n", member, up ? "mended" : "cut");
    fflush(stdout);
}

/* ---- acknowledged commands --------------------------------------------------------- */

typedef struct {
    char id[CCIP_UUID_STRLEN + 1]; /* the command id */
    const char *service;           /* where it ran */
    const char *type;              /* what it was */
    const char *event;             /* the event its effect emits; NULL: none looked for */
    const char *check;             /* "FROM ... WHERE ... %s": the row its effect made; NULL */
    char key[64];                  /* the row's id (the check's %s) */
} s_ack;

static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static s_ack *s_acks; /* under s_mu */
static size_t s_nacks;
static atomic_int s_stop;          /* the load ends */
static atomic_llong s_given_up;    /* commands never answered */
static atomic_llong s_refused;     /* answered with a refusal */
static atomic_llong s_unavailable; /* UNAVAILABLE replies, each sent again under its id */
static char s_first_refusal[600];
static char s_call_id[CCIP_UUID_STRLEN + 1];

typedef struct {
    int no;
    ccip_client *c;
    int cases;
} s_client;

/* Sends until answered under one command id (at most ATTEMPTS attempts);
 * records an OK as acknowledged. Returns the status or -1. */
static int s_call(s_client *cl, const char *service, const char *role, const char *actor,
                  const char *type, const ProtobufCMessage *msg,
                  const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out, const char *event,
                  const char *check, const char *key, size_t *slot)
{
    if (out)
        *out = NULL;
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    protobuf_c_message_pack(msg, buf);
    char id[CCIP_UUID_STRLEN + 1], err[256];
    ccip_uuid_v7(id);
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = (char *)type;
    env.actor_role = (char *)role;
    env.actor_id = (char *)actor;
    env.payload.data = buf;
    env.payload.len = len;
    Ccip__Envelope *r =
        ccip_client_call(cl->c, service, &env, ATTEMPT_MS, ATTEMPTS, err, sizeof err);
    /* UNAVAILABLE: the service could not reach its database and did
     * nothing; a faithful client sends the same command (same id) again
     * rather than taking it as a refusal, within the same bound. */
    for (int again = 1; r && r->status == CCIP__STATUS__UNAVAILABLE && again < ATTEMPTS; again++) {
        atomic_fetch_add(&s_unavailable, 1);
        ccip_envelope_free(&r);
        ccip_test_sleep_ms(ATTEMPT_MS / 4);
        r = ccip_client_call(cl->c, service, &env, ATTEMPT_MS, ATTEMPTS, err, sizeof err);
    }
    free(buf);
    if (!r) {
        atomic_fetch_add(&s_given_up, 1);
        return -1;
    }
    int status = (int)r->status;
    if (status == CCIP__STATUS__OK) {
        if (desc && out) {
            *out = ccip_payload_unpack(desc, r->payload.data, r->payload.len, r->payload.len + 1,
                                       err, sizeof err);
            assert_non_null(*out);
        }
        pthread_mutex_lock(&s_mu);
        if (s_nacks < MAX_ACKS) {
            if (slot)
                *slot = s_nacks;
            s_ack *a = &s_acks[s_nacks++];
            snprintf(a->id, sizeof a->id, "%s", id);
            a->service = service;
            a->type = type;
            a->event = event;
            a->check = check;
            snprintf(a->key, sizeof a->key, "%s", key ? key : "");
        }
        pthread_mutex_unlock(&s_mu);
    } else {
        atomic_fetch_add(&s_refused, 1);
        pthread_mutex_lock(&s_mu);
        if (!s_first_refusal[0])
            snprintf(s_first_refusal, sizeof s_first_refusal, "%s: %s: %s", type,
                     ccip_status_name(r->status), r->error);
        pthread_mutex_unlock(&s_mu);
    }
    ccip_envelope_free(&r);
    return status;
}

static void s_ack_key(size_t slot, const char *key)
{
    pthread_mutex_lock(&s_mu);
    if (slot < s_nacks)
        snprintf(s_acks[slot].key, sizeof s_acks[slot].key, "%s", key);
    pthread_mutex_unlock(&s_mu);
}

/* A read repeated until it answers OK, the load ends or WAIT_MS passes. */
static ProtobufCMessage *s_wait_read(s_client *cl, const char *service, const char *type,
                                     const ProtobufCMessage *msg,
                                     const ProtobufCMessageDescriptor *desc)
{
    int64_t until = ccip_now_us() + (int64_t)WAIT_MS * 1000;
    while (!atomic_load(&s_stop) && ccip_now_us() < until) {
        uint8_t buf[512];
        size_t len = protobuf_c_message_get_packed_size(msg);
        assert_true(len <= sizeof buf);
        protobuf_c_message_pack(msg, buf);
        char id[CCIP_UUID_STRLEN + 1], err[256];
        ccip_uuid_v7(id);
        Ccip__Envelope env = CCIP__ENVELOPE__INIT;
        env.id = id;
        env.type = (char *)type;
        env.actor_role = "staff";
        env.actor_id = "staff-netcut";
        env.payload.data = buf;
        env.payload.len = len;
        Ccip__Envelope *r = ccip_client_call(cl->c, service, &env, ATTEMPT_MS, 1, err, sizeof err);
        if (r && r->status == CCIP__STATUS__OK) {
            ProtobufCMessage *out = ccip_payload_unpack(desc, r->payload.data, r->payload.len,
                                                        r->payload.len + 1, err, sizeof err);
            ccip_envelope_free(&r);
            return out;
        }
        ccip_envelope_free(&r);
        ccip_test_sleep_ms(200);
    }
    return NULL;
}

/* One case; returns when it is done, refused, or the load ended. */
static void s_case(s_client *cl)
{
    size_t slot = 0;
    char uscc[CCIP_USCC_LEN + 1], org[32], email[80], title[80];
    pthread_mutex_lock(&s_mu); /* ccip_test_uscc counts in a static */
    ccip_test_uscc("110105", uscc);
    pthread_mutex_unlock(&s_mu);
    cl->cases++;
    snprintf(org, sizeof org, "org:%s", uscc);
    snprintf(email, sizeof email, "n%d-%d@netcut.example.cn", cl->no, cl->cases);
    snprintf(title, sizeof title, "Netcut case %d of client %d", cl->cases, cl->no);

    Ccip__Intake__RegisterOrganisationRequest reg =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    reg.uscc = uscc;
    reg.name = "北京断网测试文化有限公司";
    reg.type = CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE;
    reg.district = "Chaoyang";
    reg.legal_representative = "王芳";
    reg.contact_name = "李明";
    reg.contact_phone = "010-6598 1234";
    reg.contact_email = email;
    if (s_call(cl, "intake", "applicant", org, "intake.organisation.register.v1", &reg.base, NULL,
               NULL, "intake.organisation.registered.v1", "FROM organisation WHERE uscc = %s", uscc,
               NULL) != 0)
        return;
    Ccip__Intake__VerifyOrganisationRequest ver = CCIP__INTAKE__VERIFY_ORGANISATION_REQUEST__INIT;
    ver.uscc = uscc;
    ver.note = "checked";
    if (s_call(cl, "intake", "staff", "staff-netcut", "intake.organisation.verify.v1", &ver.base,
               NULL, NULL, "intake.organisation.verified.v1", NULL, NULL, NULL) != 0)
        return;

    Ccip__Intake__ClusterFacts cluster = CCIP__INTAKE__CLUSTER_FACTS__INIT;
    cluster.cluster_name = title;
    cluster.location = "Langjiayuan 6";
    cluster.area_m2 = 60000;
    cluster.enterprise_count = 120;
    cluster.employee_count = 3500;
    cluster.lead_operator = "Langyuan Co.";
    Ccip__Intake__ApplicationContent content = CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    content.title = title;
    content.summary = "A case of the cut-network run.";
    content.district = "110105";
    content.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
    content.cluster = &cluster;
    Ccip__Intake__FileApplicationRequest file = CCIP__INTAKE__FILE_APPLICATION_REQUEST__INIT;
    file.call_id = s_call_id;
    file.applicant_uscc = uscc;
    file.content = &content;
    Ccip__Intake__ApplicationReply *ar = NULL;
    if (s_call(cl, "intake", "applicant", org, "intake.application.file.v1", &file.base,
               &ccip__intake__application_reply__descriptor, (ProtobufCMessage **)&ar,
               "intake.application.submitted.v1", "FROM application WHERE id::text = %s", NULL,
               &slot) != 0)
        return;
    char app[CCIP_UUID_STRLEN + 1];
    snprintf(app, sizeof app, "%s", ar->application->id);
    ccip_test_free(ar);
    s_ack_key(slot, app);

    Ccip__Intake__ApplicationActionRequest acc = CCIP__INTAKE__APPLICATION_ACTION_REQUEST__INIT;
    acc.application_id = app;
    acc.reason = "complete";
    if (s_call(cl, "intake", "staff", "staff-netcut", "intake.application.accept.v1", &acc.base,
               NULL, NULL, "intake.application.accepted.v1",
               "FROM application WHERE id::text = %s AND status = 'ACCEPTED'", app, NULL) != 0)
        return;

    /* evaluation opens the case from intake's event */
    Ccip__Evaluation__GetCaseRequest gc = CCIP__EVALUATION__GET_CASE_REQUEST__INIT;
    gc.application_id = app;
    Ccip__Evaluation__CaseReply *cr = (Ccip__Evaluation__CaseReply *)s_wait_read(
        cl, "evaluation", "evaluation.case.get.v1", &gc.base,
        &ccip__evaluation__case_reply__descriptor);
    if (!cr)
        return;
    char case_id[CCIP_UUID_STRLEN + 1], agency[32], expert[32], agency_actor[40];
    snprintf(case_id, sizeof case_id, "%s", cr->case_->id);
    ccip_test_free(cr);
    snprintf(agency, sizeof agency, "NETCUT%d-AG", cl->no);
    snprintf(expert, sizeof expert, "NETCUT%d-EX", cl->no);
    snprintf(agency_actor, sizeof agency_actor, "agency:%s", agency);
    Ccip__Evaluation__Pick pa = CCIP__EVALUATION__PICK__INIT, pe = CCIP__EVALUATION__PICK__INIT;
    pa.kind = CCIP__EVALUATION__SUBJECT_KIND__AGENCY;
    pa.id = agency;
    pe.kind = CCIP__EVALUATION__SUBJECT_KIND__EXPERT;
    pe.id = expert;
    Ccip__Evaluation__Pick *picks[] = {&pa, &pe};
    Ccip__Evaluation__AssignRequest as = CCIP__EVALUATION__ASSIGN_REQUEST__INIT;
    as.case_id = case_id;
    as.picks = picks;
    as.n_picks = 2;
    if (s_call(cl, "evaluation", "staff", "staff-netcut", "evaluation.assignment.make.v1", &as.base,
               NULL, NULL, NULL, NULL, NULL, NULL) != 0)
        return;
    Ccip__Evaluation__FileReportRequest rep = CCIP__EVALUATION__FILE_REPORT_REQUEST__INIT;
    rep.case_id = case_id;
    rep.visit_date_us = ccip_now_us() - HOUR_US;
    rep.findings = "As declared.";
    rep.verdict = CCIP__EVALUATION__VERDICT__VERDICT_MEETS;
    if (s_call(cl, "evaluation", "agency", agency_actor, "evaluation.investigation.report.v1",
               &rep.base, NULL, NULL, NULL, NULL, NULL, NULL) != 0)
        return;

    /* a work of the organisation registered in ip (ip's load and events) */
    char sha[65], day[40]; /* a content hash of its own for each work */
    snprintf(sha, sizeof sha, "%08x%08x%016llx%032x", (unsigned)cl->no, (unsigned)cl->cases,
             (unsigned long long)ccip_now_us(), 0u);
    ccip_time_format_us(ccip_now_us() - DAY_US, day, sizeof day);
    day[10] = '\0';
    Ccip__Ip__RegisterWorkRequest work = CCIP__IP__REGISTER_WORK_REQUEST__INIT;
    work.kind = CCIP__IP__WORK_KIND__COPYRIGHT_LITERARY;
    work.title = title;
    work.created_on = day;
    work.content_sha256 = sha;
    Ccip__Ip__RegisterWorkReply *wr = NULL;
    if (s_call(cl, "ip", "owner", org, "ip.work.register.v1", &work.base,
               &ccip__ip__register_work_reply__descriptor, (ProtobufCMessage **)&wr,
               "ip.work.registered.v1", "FROM work WHERE id::text = %s", NULL, &slot) != 0)
        return;
    s_ack_key(slot, wr->work->id);
    ccip_test_free(wr);
}

static void *s_client_run(void *arg)
{
    s_client *cl = arg;
    while (!atomic_load(&s_stop) && cl->cases < MAX_CASES)
        s_case(cl);
    return NULL;
}

/* ---- probers: is a service serving? ------------------------------------------------- */

typedef struct {
    const char *service;
    ccip_client *c;
    /* under s_mu: */
    int64_t down_us, up_us; /* the last cut of a link it needs: from, to (0: none yet) */
    int64_t first_after_up; /* the first probe answered after up_us (0: none yet) */
    int served_in_cut;      /* probes answered within (down_us + grace, up_us) */
} s_prober;

static s_prober s_probers[NSERVICES];

/* One read that needs the service's database: intake reads the call, the
 * others a case, programme, work or report that does not exist. Returns 1
 * when it was served (OK or NOT_FOUND). */
static int s_probe(s_prober *p)
{
    uint8_t buf[128];
    size_t len;
    const char *type;
    char missing[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(missing);
    if (strcmp(p->service, "intake") == 0) {
        Ccip__Intake__GetCallRequest rq = CCIP__INTAKE__GET_CALL_REQUEST__INIT;
        rq.call_id = s_call_id;
        len = protobuf_c_message_pack(&rq.base, buf);
        type = "intake.call.get.v1";
    } else if (strcmp(p->service, "evaluation") == 0) {
        Ccip__Evaluation__GetCaseRequest rq = CCIP__EVALUATION__GET_CASE_REQUEST__INIT;
        rq.application_id = missing;
        len = protobuf_c_message_pack(&rq.base, buf);
        type = "evaluation.case.get.v1";
    } else if (strcmp(p->service, "funding") == 0) {
        Ccip__Funding__GetProgrammeRequest rq = CCIP__FUNDING__GET_PROGRAMME_REQUEST__INIT;
        rq.code = "NETCUT-NONE";
        len = protobuf_c_message_pack(&rq.base, buf);
        type = "funding.programme.get.v1";
    } else if (strcmp(p->service, "ip") == 0) {
        Ccip__Ip__GetWorkRequest rq = CCIP__IP__GET_WORK_REQUEST__INIT;
        rq.work_id = missing;
        len = protobuf_c_message_pack(&rq.base, buf);
        type = "ip.work.get.v1";
    } else {
        Ccip__Stats__GetReportRequest rq = CCIP__STATS__GET_REPORT_REQUEST__INIT;
        rq.report_id = missing;
        len = protobuf_c_message_pack(&rq.base, buf);
        type = "stats.report.get.v1";
    }
    char id[CCIP_UUID_STRLEN + 1], err[256];
    ccip_uuid_v7(id);
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = (char *)type;
    env.actor_role = "staff";
    env.actor_id = "staff-netcut";
    env.payload.data = buf;
    env.payload.len = len;
    Ccip__Envelope *r = ccip_client_call(p->c, p->service, &env, PROBE_MS, 1, err, sizeof err);
    int served =
        r && (r->status == CCIP__STATUS__OK || r->status == CCIP__STATUS__NOT_FOUND) ? 1 : 0;
    ccip_envelope_free(&r);
    return served;
}

static void *s_prober_run(void *arg)
{
    s_prober *p = arg;
    while (!atomic_load(&s_stop)) {
        int served = s_probe(p);
        int64_t now = ccip_now_us();
        pthread_mutex_lock(&s_mu);
        if (served && p->down_us && now > p->down_us + CUT_GRACE_MS * 1000LL &&
            (!p->up_us || now < p->up_us))
            p->served_in_cut++;
        if (served && p->up_us && !p->first_after_up && now > p->up_us)
            p->first_after_up = now;
        pthread_mutex_unlock(&s_mu);
        ccip_test_sleep_ms(PROBE_EVERY_MS);
    }
    return NULL;
}

/* Cuts `member`'s link for CUT_S seconds; the services in `hit` (NULL-ended)
 * need that link. Waits until each serves again (at most SETTLE_MAX_S) and
 * returns the largest recovery in seconds (-1: one never served again);
 * writes each into rec[] by s_services' order; adds the probes served during
 * the cut to *cut_served. */
static double s_cut(const char *member, const char *const *hit, double rec[NSERVICES],
                    int *cut_served)
{
    int64_t down = ccip_now_us();
    pthread_mutex_lock(&s_mu);
    for (const char *const *h = hit; *h; h++)
        for (size_t i = 0; i < NSERVICES; i++)
            if (strcmp(s_probers[i].service, *h) == 0) {
                s_probers[i].down_us = down;
                s_probers[i].up_us = 0;
                s_probers[i].first_after_up = 0;
                s_probers[i].served_in_cut = 0;
            }
    pthread_mutex_unlock(&s_mu);
    s_link(member, 0);
    ccip_test_sleep_ms(CUT_S * 1000);
    s_link(member, 1);
    int64_t up = ccip_now_us();
    pthread_mutex_lock(&s_mu);
    for (const char *const *h = hit; *h; h++)
        for (size_t i = 0; i < NSERVICES; i++)
            if (strcmp(s_probers[i].service, *h) == 0)
                s_probers[i].up_us = up;
    pthread_mutex_unlock(&s_mu);
    double worst = 0;
    for (const char *const *h = hit; *h; h++)
        for (size_t i = 0; i < NSERVICES; i++) {
            if (strcmp(s_probers[i].service, *h) != 0)
                continue;
            int64_t first = 0;
            while (!first && ccip_now_us() < up + SETTLE_MAX_S * 1000000LL) {
                pthread_mutex_lock(&s_mu);
                first = s_probers[i].first_after_up;
                pthread_mutex_unlock(&s_mu);
                if (!first)
                    ccip_test_sleep_ms(20);
            }
            pthread_mutex_lock(&s_mu);
            rec[i] = first ? (double)(first - up) / 1e6 : -1;
            *cut_served += s_probers[i].served_in_cut;
            printf("netcut: %s's cut: %s answered %d probes while cut, served again %.2f s after "
                   "the link returned\n",
                   member, *h, s_probers[i].served_in_cut, rec[i]);
            pthread_mutex_unlock(&s_mu);
            if (rec[i] < 0 || worst < 0)
                worst = -1;
            else if (rec[i] > worst)
                worst = rec[i];
        }
    fflush(stdout);
    return worst;
}

/* ---- the checks -------------------------------------------------------------------- */

static long long s_number(const char *svc, const char *sql)
{
    long long v = ccip_test_query_number(svc, sql);
    for (int i = 0; v < 0 && i < 20; i++) {
        ccip_test_sleep_ms(250);
        v = ccip_test_query_number(svc, sql);
    }
    return v;
}

typedef struct {
    char *s;
    size_t len, cap;
} s_text;

static void s_add(s_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_add(s_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* Acknowledged commands of svc without a stored reply or their event
 * (*lost), or with their event twice (*doubled). */
static void s_check_commands(const char *svc, long long *lost, long long *doubled)
{
    s_text ids = {0}, events = {0}, q = {0};
    for (size_t i = 0; i < s_nacks; i++) {
        if (strcmp(s_acks[i].service, svc) != 0)
            continue;
        s_add(&ids, "%s'%s'", ids.len ? "," : "", s_acks[i].id);
        if (s_acks[i].event)
            s_add(&events, "%s('%s','%s')", events.len ? "," : "", s_acks[i].id, s_acks[i].event);
    }
    if (!ids.len)
        return;
    s_add(&q,
          "SELECT count(*) FROM unnest(ARRAY[%s]::text[]) AS i(id) WHERE NOT EXISTS "
          "(SELECT 1 FROM command_log c WHERE c.command_id = i.id)",
          ids.s);
    long long no_reply = s_number(svc, q.s), no_event = 0, twice = 0;
    if (events.len) {
        q.len = 0;
        s_add(&q,
              "SELECT count(*) FROM (VALUES %s) AS v(id, t) WHERE NOT EXISTS "
              "(SELECT 1 FROM outbox o WHERE o.causation_id = v.id AND o.type = v.t)",
              events.s);
        no_event = s_number(svc, q.s);
        q.len = 0;
        s_add(&q,
              "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM outbox o JOIN "
              "(VALUES %s) AS v(id, t) ON o.causation_id = v.id AND o.type = v.t "
              "GROUP BY o.causation_id, o.type) d",
              events.s);
        twice = s_number(svc, q.s);
    }
    printf("netcut: %s: acknowledged commands without a stored reply %lld, without their event "
           "%lld, with it twice %lld\n",
           svc, no_reply, no_event, twice);
    *lost += (no_reply < 0 ? 1 : no_reply) + (no_event < 0 ? 1 : no_event);
    *doubled += twice < 0 ? 1 : twice;
    free(ids.s);
    free(events.s);
    free(q.s);
}

/* Acknowledged commands whose row is missing. */
static long long s_check_rows(void)
{
    long long missing = 0;
    for (size_t i = 0; i < s_nacks; i++) {
        const char *check = s_acks[i].check;
        if (!check || !s_acks[i].key[0])
            continue;
        int first = 1;
        for (size_t j = 0; j < i && first; j++)
            first = s_acks[j].check != check;
        if (!first)
            continue;
        s_text keys = {0}, q = {0};
        for (size_t j = i; j < s_nacks; j++)
            if (s_acks[j].check == check && s_acks[j].key[0])
                s_add(&keys, "%s'%s'", keys.len ? "," : "", s_acks[j].key);
        char cond[400];
        const char *mark = strstr(check, "%s");
        assert_non_null(mark);
        snprintf(cond, sizeof cond, "%.*sk.k%s", (int)(mark - check), check, mark + 2);
        s_add(&q,
              "SELECT count(*) FROM unnest(ARRAY[%s]::text[]) AS k(k) WHERE NOT EXISTS "
              "(SELECT 1 %s)",
              keys.s, cond);
        long long n = s_number(s_acks[i].service, q.s);
        if (n != 0)
            printf("netcut: %lld acknowledged commands left no row %s\n", n, check);
        missing += n < 0 ? 1 : n;
        free(keys.s);
        free(q.s);
    }
    return missing;
}

/* Seconds until each consumer's cursor equals its producer's head (-1: not
 * within LAG_MAX_S). */
static double s_wait_caught_up(int64_t from)
{
    for (;;) {
        int behind = 0;
        for (size_t i = 0; i < NSTREAMS && !behind; i++) {
            char sql[200];
            /* a producer with no events yet has no cursor row at its consumer */
            snprintf(
                sql, sizeof sql,
                "SELECT coalesce((SELECT position FROM consumer_cursor WHERE producer = '%s'), "
                "0)",
                s_streams[i].producer);
            long long head =
                ccip_test_query_number(s_streams[i].producer, "SELECT head FROM outbox_state");
            long long cursor = ccip_test_query_number(s_streams[i].consumer, sql);
            /* events the producer's relay has not numbered yet are behind
             * too: a relay that cannot lead again leaves head = cursor */
            long long unnumbered = ccip_test_query_number(
                s_streams[i].producer, "SELECT count(*) FROM outbox WHERE position IS NULL");
            behind = head < 0 || cursor != head || unnumbered != 0;
            if (behind && ccip_now_us() >= from + LAG_MAX_S * 1000000LL)
                printf("netcut: stream %s -> %s behind: head %lld, cursor %lld, unnumbered %lld\n",
                       s_streams[i].producer, s_streams[i].consumer, head, cursor, unnumbered);
        }
        int64_t now = ccip_now_us();
        if (!behind)
            return (double)(now - from) / 1e6;
        if (now >= from + LAG_MAX_S * 1000000LL)
            return -1;
        ccip_test_sleep_ms(200);
    }
}

/* ---- the run ----------------------------------------------------------------------- */

static char s_out[65536];

static void s_ctl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void s_ctl(const char *fmt, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    if (ccip_test_ctl(&s_svc, s_out, sizeof s_out, "--json %s 2>&1", args) != 0) {
        char what[8192];
        snprintf(what, sizeof what, "ccipctl %s: %.2000s", args, s_out);
        ccip_test_fail(&s_svc, what);
    }
}

/* The call, agencies, experts and score sheet the load uses. */
static void s_setup_domain(void)
{
    char now[40], opens[40], closes[40], code[CCIP_USCC_LEN + 1];
    ccip_time_format_us(ccip_now_us(), now, sizeof now);
    ccip_time_format_us(ccip_now_us() - 60 * 1000000LL, opens, sizeof opens);
    ccip_time_format_us(ccip_now_us() + 30 * DAY_US, closes, sizeof closes);
    s_ctl("--role staff --actor staff-netcut intake call open --kind CLUSTER_IDENTIFICATION "
          "--year %d --title 'Netcut clusters' --opens %s --closes %s --eligible ENTERPRISE",
          atoi(now), opens, closes);
    ccip_test_json_value(s_out, "id", s_call_id, sizeof s_call_id);
    for (int i = 1; i <= CLIENTS; i++) {
        ccip_test_uscc("110108", code);
        s_ctl("--role staff --actor staff-netcut evaluation agency register NETCUT%d-AG "
              "--name 'Netcut appraisal %d' --uscc %s --districts all --capacity 1000",
              i, i, code);
        ccip_test_uscc("110108", code);
        s_ctl("--role staff --actor staff-netcut evaluation expert register NETCUT%d-EX "
              "--name 'Netcut expert %d' --fields netcut --affiliation %s --district Haidian "
              "--max-reviews 1000 --email ex%d@netcut-univ.example.cn",
              i, i, code, i);
    }
    s_ctl("--role staff --actor staff-netcut evaluation sheet publish cluster_identification "
          "--criterion merit:1:10:Merit --criterion impact:1:20:Impact --threshold 10 "
          "--panel 1 --fields netcut");
}

static int s_setup(void **state)
{
    (void)state;
    const char *net = getenv("CCIP_NETCUT_NET");
    if (!net || !getenv("CCIP_NETCUT_LINK") || !getenv("CCIP_NETCUT_PREFIX")) {
        fprintf(stderr, "CCIP_NETCUT_LINK is not set: run test_netcut through "
                        "tests/system/netcut.sh, which makes its network\n");
        return -1;
    }
    s_acks = calloc(MAX_ACKS, sizeof *s_acks);
    if (!s_acks || ccip_test_env_init(&s_svc.env) < 0)
        return -1;
    /* The bus listens on its namespace's address (.1); fixed ports, as
     * nothing else lives in that namespace. */
    snprintf(s_svc.env.commands, sizeof s_svc.env.commands, "tcp://%s.1:5555", net);
    snprintf(s_svc.env.publish, sizeof s_svc.env.publish, "tcp://%s.1:5556", net);
    snprintf(s_svc.env.subscribe, sizeof s_svc.env.subscribe, "tcp://%s.1:5557", net);
    s_svc.ctx = zmq_ctx_new();
    s_svc.target = "intake";
    s_svc.front = ccip_test_svc_client(&s_svc, &s_svc.env.front_keys);
    s_svc.plain = ccip_test_svc_client(&s_svc, &s_svc.env.client_keys);
    if (!s_svc.ctx || !s_svc.front || !s_svc.plain)
        return -1;
    /* ip's receipt-signing key, made as an operator makes it */
    char cmd[1200], key[600];
    snprintf(cmd, sizeof cmd, "%s/cli/ccipctl ip keygen ip-signing --dir %s >/dev/null",
             getenv("CCIP_BINARY_DIR"), s_svc.env.dir);
    snprintf(key, sizeof key, "%s/ip-signing.key", s_svc.env.dir);
    if (system(cmd) != 0 || setenv("CCIP_IP_SIGNING_KEY_FILE", key, 1) != 0)
        return -1;
    for (size_t i = 0; i < NPROCS; i++)
        if (s_start(&s_procs[i]) < 0)
            return -1;
    for (size_t i = 0; i < NSERVICES; i++)
        if (ccip_test_svc_wait(&s_svc, s_services[i]) < 0) {
            ccip_test_env_cleanup(&s_svc.env, 1);
            return -1;
        }
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    ccip_test_svc_stop(&s_svc);
    free(s_acks);
    return 0;
}

/* Lines of service svc's log (replica svc-1) that contain text. */
static int s_log_count(const char *svc, const char *text)
{
    char path[512], line[4096];
    snprintf(path, sizeof path, "%s/%s-1.log", s_svc.env.dir, svc);
    FILE *f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, text) != NULL;
    if (f)
        fclose(f);
    return n;
}

#define LOG_LOST "database connection lost, reconnecting"
#define LOG_BACK "database connection re-established"

static void test_netcut(void **state)
{
    (void)state;
    s_setup_domain();
    printf("netcut: %d clients, cuts of %d s: intake's link, then the database's\n", CLIENTS,
           CUT_S);

    s_client clients[CLIENTS];
    pthread_t threads[CLIENTS], probers[NSERVICES];
    for (size_t i = 0; i < NSERVICES; i++) {
        s_probers[i] = (s_prober){.service = s_services[i]};
        s_probers[i].c = ccip_test_svc_client(&s_svc, &s_svc.env.front_keys);
        assert_non_null(s_probers[i].c);
        assert_int_equal(pthread_create(&probers[i], NULL, s_prober_run, &s_probers[i]), 0);
    }
    for (int i = 0; i < CLIENTS; i++) {
        clients[i] = (s_client){.no = i + 1};
        clients[i].c = ccip_test_svc_client(&s_svc, &s_svc.env.front_keys);
        assert_non_null(clients[i].c);
        assert_int_equal(pthread_create(&threads[i], NULL, s_client_run, &clients[i]), 0);
    }
    ccip_test_sleep_ms(WARM_S * 1000);
    size_t before_cut = s_nacks;

    double rec_intake[NSERVICES], rec_db[NSERVICES];
    for (size_t i = 0; i < NSERVICES; i++)
        rec_intake[i] = rec_db[i] = -1;
    int cut_served = 0;
    static const char *const hit_intake[] = {"intake", NULL};
    static const char *const hit_db[] = {"intake", "evaluation", "funding", "ip", "stats", NULL};
    s_cut("intake", hit_intake, rec_intake, &cut_served);
    ccip_test_sleep_ms(2000); /* load between the cuts */
    int lost_before[NSERVICES], back_before[NSERVICES];
    for (size_t i = 0; i < NSERVICES; i++) {
        lost_before[i] = s_log_count(s_services[i], LOG_LOST);
        back_before[i] = s_log_count(s_services[i], LOG_BACK);
    }
    s_cut("pg", hit_db, rec_db, &cut_served);
    ccip_test_sleep_ms(2000); /* load after the cuts */

    atomic_store(&s_stop, 1);
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(threads[i], NULL);
        ccip_client_destroy(&clients[i].c);
    }
    for (size_t i = 0; i < NSERVICES; i++) {
        pthread_join(probers[i], NULL);
        ccip_client_destroy(&s_probers[i].c);
    }
    int64_t stopped = ccip_now_us();
    printf("netcut: %zu commands acknowledged (%zu before the first cut), %lld refused, %lld "
           "never answered, %lld UNAVAILABLE replies sent again\n",
           s_nacks, before_cut, (long long)atomic_load(&s_refused),
           (long long)atomic_load(&s_given_up), (long long)atomic_load(&s_unavailable));
    if (s_first_refusal[0])
        printf("netcut: first refusal: %s\n", s_first_refusal);

    int self_exits = 0;
    for (size_t i = 0; i < NPROCS; i++) {
        int status = ccip_test_stop(&s_svc.env, s_procs[i].pid, 0, 0);
        if (status >= 0) {
            printf("netcut: %s exited with status %d\n", s_procs[i].member, status);
            self_exits++;
        }
    }
    /* The rule: a connection broken later is re-opened by its owner, with
     * backoff (ccip_db_ensure), and the service stays up. A cut longer than
     * the connections' TCP timeouts (ccip_db.c) must break them: each
     * service's log shows connections lost and re-established since the
     * database's cut began. */
    int no_reconnect = 0;
    for (size_t i = 0; i < NSERVICES; i++) {
        int lost = s_log_count(s_services[i], LOG_LOST) - lost_before[i];
        int back = s_log_count(s_services[i], LOG_BACK) - back_before[i];
        printf("netcut: %s's log since the database's cut: %d connections lost, %d "
               "re-established\n",
               s_services[i], lost, back);
        no_reconnect += !(lost > 0 && back > 0);
    }

    double lag = s_wait_caught_up(stopped);
    long long lost = 0, doubled = 0;
    for (size_t i = 0; i < NSERVICES; i++)
        s_check_commands(s_services[i], &lost, &doubled);
    lost += s_check_rows();
    long long accepted =
                  s_number("intake", "SELECT count(*) FROM application WHERE status = 'ACCEPTED'"),
              cases = s_number("evaluation", "SELECT count(*) FROM case_file");
    long long off = accepted < 0 || cases < 0 ? 1 : llabs(accepted - cases);
    printf("netcut: accepted applications %lld, evaluation cases %lld\n", accepted, cases);

    char db_rec[256];
    size_t n = 0;
    int slow = rec_intake[0] < 0 || rec_intake[0] > RECOVERY_MAX_S;
    for (size_t i = 0; i < NSERVICES; i++) {
        n += (size_t)snprintf(db_rec + n, sizeof db_rec - n, "%s%s:%.2f", i ? "," : "",
                              s_services[i], rec_db[i]);
        slow |= rec_db[i] < 0 || rec_db[i] > RECOVERY_MAX_S;
    }
    printf("netcut: acked=%zu lost=%lld doubled=%lld downstream_off=%lld lag_s=%.1f "
           "intake_cut_recovery_s=%.2f db_cut_recovery_s=%s cut_served=%d self_exits=%d "
           "reconnects_missing=%d\n",
           s_nacks, lost, doubled, off, lag, rec_intake[0], db_rec, cut_served, self_exits,
           no_reconnect);
    fflush(stdout);
    if (lost || doubled || off || lag < 0 || slow || cut_served || self_exits || no_reconnect ||
        s_nacks <= before_cut || before_cut < 10)
        ccip_test_fail(&s_svc, "an invariant of the cut network is broken (see the lines above)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netcut),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
