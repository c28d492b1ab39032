/*
 * Chaos: the whole system under a mixed load while processes die (issue 15,
 * item 2). Run by tests/system/chaos.sh, which makes a private PostgreSQL
 * cluster for it (the run restarts PostgreSQL) and tells it how to restart
 * that cluster (CCIP_CHAOS_RESTART_PG).
 *
 * The bus, two replicas of intake and of evaluation, and funding, ip,
 * stats, followup, notify and casefile run against the cluster (the last
 * three only consume here: followup keeps the awards, designations and
 * works, notify makes inbox items, casefile the cases' timelines; they are
 * killed like the others and must catch up like them). Four clients take
 * cases along the real path for CCIP_CHAOS_LOAD_S seconds (default 60): an
 * organisation registered and verified, an application filed in one step
 * and accepted,
 * its evaluation case (opened by evaluation from intake's event) assigned,
 * investigated, reviewed, submitted and decided; a special-fund project's
 * award (proposed by funding from evaluation's event) confirmed, a
 * cluster's quarterly report (stats puts it on the roster from
 * evaluation's event) saved and submitted, and a work registered in ip.
 * Every command is sent until it is answered, under the same command id.
 * Meanwhile a driver SIGKILLs a random process every 2 s and starts it
 * again, and half-way through restarts PostgreSQL with
 * `pg_ctl restart -m immediate`.
 *
 * Afterwards it checks and prints, each failing the test when broken:
 *   lost        acknowledged commands whose effect is missing: their stored
 *               reply (command_log), their event, their row
 *   doubled     acknowledged commands whose event is in the outbox twice
 *   gaps        positions missing or unnumbered in any outbox
 *   lag_after_s seconds from the end of the load until every consumer's
 *               cursor equals its producer's head (at most 60)
 *   downstream  effects made from events exactly once: one case per
 *               accepted application, one award per approved project,
 *               stats' facts equal to their sources, followup's awards
 *               and casefile's steps equal to theirs
 *   self_exits  processes that exited without being killed
 * and measures pg_restart_s (PostgreSQL's own restart, from the order to
 * accepting connections) and pg_recovery_s (from accepting connections to
 * the first command answered). Its last line:
 *   chaos: acked=... lost=0 doubled=0 gaps=0 lag_after_s=... pg_recovery_s=...
 *          pg_restart_s=... downstream_off=0 self_exits=0 kills=...
 * (scripts/bench chaos prints it as "bench chaos: ...").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip/stats.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test_db.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"
#include "ccip_validate.h"

#define CLIENTS          4
#define LOAD_S_DEFAULT   60
#define KILL_EVERY_MS    2000
#define ATTEMPT_MS       2000  /* one attempt of a command */
#define ATTEMPTS         15    /* then the client gives the command up (30 s) */
#define WAIT_MS          30000 /* longest wait for an effect made from an event */
#define LAG_MAX_S        60    /* consumers must catch up within this after the load */
#define RECOVERY_MAX_S   10    /* the first command answered after the restart, at most */
#define MAX_ACKS         200000
#define FUND_REQUEST_FEN 10000000 /* 100,000.00 yuan per project */
#define HOUR_US          (3600LL * 1000000)
#define DAY_US           (24 * HOUR_US)

static ccip_test_svc s_svc;

/* ---- the processes ------------------------------------------------------------ */

typedef struct {
    const char *binary;   /* NULL: the bus */
    const char *service;  /* its role and key */
    const char *instance; /* its replica name (and log) */
    pid_t pid;            /* running now; 0 when not */
    int kills;            /* SIGKILLs it took */
} s_proc;

static s_proc s_procs[] = {
    {NULL, "bus", "bus", 0, 0},
    {"services/intake/intake", "intake", "intake-1", 0, 0},
    {"services/intake/intake", "intake", "intake-2", 0, 0},
    {"services/evaluation/evaluation", "evaluation", "evaluation-1", 0, 0},
    {"services/evaluation/evaluation", "evaluation", "evaluation-2", 0, 0},
    {"services/funding/funding", "funding", "funding-1", 0, 0},
    {"services/ip/ip", "ip", "ip-1", 0, 0},
    {"services/stats/stats", "stats", "stats-1", 0, 0},
    {"services/followup/followup", "followup", "followup-1", 0, 0},
    {"services/notify/notify", "notify", "notify-1", 0, 0},
    {"services/casefile/casefile", "casefile", "casefile-1", 0, 0},
};
#define NPROCS (sizeof s_procs / sizeof s_procs[0])

/* The producers (an outbox each; followup's holds what its sweep and
 * feed emit). */
static const char *const s_services[] = {"intake", "evaluation", "funding",
                                         "ip",     "stats",      "followup"};
#define NSERVICES (sizeof s_services / sizeof s_services[0])
/* Every service the run waits for at the start. */
static const char *const s_all[] = {"intake", "evaluation", "funding", "ip",
                                    "stats",  "followup",   "notify",  "casefile"};

/* Each consumer and the producer it follows. */
static const struct {
    const char *consumer;
    const char *producer;
} s_streams[] = {
    {"intake", "evaluation"},  {"intake", "funding"},      {"evaluation", "intake"},
    {"funding", "evaluation"}, {"funding", "ip"},          {"stats", "intake"},
    {"stats", "evaluation"},   {"stats", "funding"},       {"stats", "ip"},
    {"followup", "funding"},   {"followup", "evaluation"}, {"followup", "ip"},
    {"notify", "intake"},      {"notify", "evaluation"},   {"notify", "funding"},
    {"notify", "ip"},          {"notify", "stats"},        {"notify", "followup"},
    {"casefile", "intake"},    {"casefile", "evaluation"}, {"casefile", "funding"},
    {"casefile", "ip"},        {"casefile", "stats"},      {"casefile", "followup"},
};
#define NSTREAMS (sizeof s_streams / sizeof s_streams[0])

static int s_start(s_proc *p)
{
    p->pid = p->binary ? ccip_test_start_service(&s_svc.env, p->binary, p->service, p->instance)
                       : ccip_test_start_bus(&s_svc.env);
    return p->pid > 0 ? 0 : -1;
}

static int s_self_exits; /* processes that exited without being killed */
static int s_kills;      /* SIGKILLs sent */

/* Starts again every process that exited on its own (and counts it). */
static void s_reap(void)
{
    for (size_t i = 0; i < NPROCS; i++) {
        int status = s_procs[i].pid > 0 ? ccip_test_stop(&s_svc.env, s_procs[i].pid, 0, 0) : 0;
        if (s_procs[i].pid > 0 && status >= 0) {
            s_self_exits++;
            fprintf(stderr, "chaos: %s exited by itself with status %d; its log:\n",
                    s_procs[i].instance, status);
            char cmd[600];
            snprintf(cmd, sizeof cmd, "tail -n 15 %s/%s.log >&2", s_svc.env.dir,
                     s_procs[i].instance);
            if (system(cmd) != 0)
                fprintf(stderr, "(no log)\n");
            s_start(&s_procs[i]);
        }
    }
}

/* SIGKILLs process i and starts it again at once. */
static void s_kill_restart(size_t i)
{
    ccip_test_stop(&s_svc.env, s_procs[i].pid, SIGKILL, 5000);
    s_kills++;
    s_procs[i].kills++;
    s_start(&s_procs[i]);
}

/* ---- acknowledged commands ------------------------------------------------------ */

typedef struct {
    char id[CCIP_UUID_STRLEN + 1]; /* the command id */
    const char *service;           /* where it ran */
    const char *type;              /* what it was */
    const char *event;             /* the event its effect emits, caused by it; NULL: none */
    const char *check;             /* "FROM ... WHERE ...": the row its effect made, where %s
                                      stands for its key; NULL: none to look for */
    char key[64];                  /* the row's id */
} s_ack;

static pthread_mutex_t s_mu = PTHREAD_MUTEX_INITIALIZER;
static s_ack *s_acks; /* under s_mu */
static size_t s_nacks;
static atomic_int s_stop;              /* the load ends */
static atomic_llong s_accepting_us;    /* PostgreSQL accepts connections again (0: not yet) */
static atomic_llong s_first_answer_us; /* the first command answered after that */
static atomic_llong s_refused;         /* commands answered with a refusal */
static atomic_llong s_given_up;        /* commands never answered */
static char s_first_refusal[600];      /* under s_mu */

/* ---- a client ------------------------------------------------------------------- */

typedef struct {
    int no;         /* 1..CLIENTS */
    ccip_client *c; /* its own connection to the bus, through the front door */
    unsigned seed;  /* rand_r state */
    int cases;      /* cases started */
} s_client;

static const char *s_call_cluster, *s_call_fund; /* set at set-up */
static char s_calls[2][CCIP_UUID_STRLEN + 1];
static int s_cluster_version, s_fund_version; /* score sheet versions */

/* Sends a command as (role, actor) until it is answered, under one command
 * id. Returns the status (-1: never answered, or the load ended); on OK
 * records the acknowledgement (event and check may be NULL; key is the id
 * check's %s names), and
 * decodes the reply into *out when desc is given; *slot (when not NULL) is
 * where the acknowledgement went, for s_ack_key. */
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
    free(buf);
    if (!r) {
        atomic_fetch_add(&s_given_up, 1);
        return -1;
    }
    int status = (int)r->status;
    if (status == CCIP__STATUS__OK) {
        long long accepting = atomic_load(&s_accepting_us), zero = 0;
        if (accepting > 0)
            atomic_compare_exchange_strong(&s_first_answer_us, &zero, (long long)ccip_now_us());
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

/* Sets the key of acknowledgement `slot`, when it comes from the reply. */
static void s_ack_key(size_t slot, const char *key)
{
    pthread_mutex_lock(&s_mu);
    if (slot < s_nacks)
        snprintf(s_acks[slot].key, sizeof s_acks[slot].key, "%s", key);
    pthread_mutex_unlock(&s_mu);
}

/* Reads until `ok` or the load's end or WAIT_MS: a read command (no
 * effect, not recorded) repeated until the event's effect shows. */
static ProtobufCMessage *s_wait_read(s_client *cl, const char *service, const char *type,
                                     const ProtobufCMessage *msg,
                                     const ProtobufCMessageDescriptor *desc)
{
    int64_t until = ccip_now_us() + (int64_t)WAIT_MS * 1000;
    while (!atomic_load(&s_stop) && ccip_now_us() < until) {
        size_t len = protobuf_c_message_get_packed_size(msg);
        uint8_t buf[512];
        assert_true(len <= sizeof buf);
        protobuf_c_message_pack(msg, buf);
        char id[CCIP_UUID_STRLEN + 1], err[256];
        ccip_uuid_v7(id);
        Ccip__Envelope env = CCIP__ENVELOPE__INIT;
        env.id = id;
        env.type = (char *)type;
        env.actor_role = "staff";
        env.actor_id = "staff-chaos";
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

/* One case along the path; returns when it is done, refused, or the load
 * ended. */
static void s_case(s_client *cl)
{
    int fund = cl->cases++ % 2;
    size_t slot = 0;
    char uscc[CCIP_USCC_LEN + 1], org[32], email[80], title[80];
    ccip_test_uscc("110105", uscc);
    snprintf(org, sizeof org, "org:%s", uscc);
    snprintf(email, sizeof email, "c%d-%d@chaos.example.cn", cl->no, cl->cases);
    snprintf(title, sizeof title, "Chaos case %d of client %d", cl->cases, cl->no);

    Ccip__Intake__RegisterOrganisationRequest reg =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    reg.uscc = uscc;
    reg.name = "北京混沌测试文化有限公司";
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
    if (s_call(cl, "intake", "staff", "staff-chaos", "intake.organisation.verify.v1", &ver.base,
               NULL, NULL, "intake.organisation.verified.v1", NULL, NULL, NULL) != 0)
        return;

    /* filing */
    Ccip__Intake__ClusterFacts cluster = CCIP__INTAKE__CLUSTER_FACTS__INIT;
    cluster.cluster_name = title;
    cluster.location = "Langjiayuan 6";
    cluster.area_m2 = 60000;
    cluster.enterprise_count = 120;
    cluster.employee_count = 3500;
    cluster.lead_operator = "Langyuan Co.";
    Ccip__Intake__BudgetLine line = CCIP__INTAKE__BUDGET_LINE__INIT;
    line.item = "Equipment";
    line.amount_fen = FUND_REQUEST_FEN;
    Ccip__Intake__BudgetLine *lines[] = {&line};
    Ccip__Intake__ProjectFacts project = CCIP__INTAKE__PROJECT_FACTS__INIT;
    project.budget_lines = lines;
    project.n_budget_lines = 1;
    Ccip__Intake__ApplicationContent content = CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    content.title = title;
    content.summary = "A case of the chaos run.";
    content.district = "110105";
    if (fund) {
        content.requested_fen = FUND_REQUEST_FEN;
        content.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT;
        content.project = &project;
    } else {
        content.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
        content.cluster = &cluster;
    }
    Ccip__Intake__FileApplicationRequest file = CCIP__INTAKE__FILE_APPLICATION_REQUEST__INIT;
    file.call_id = (char *)(fund ? s_call_fund : s_call_cluster);
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

    /* acceptance */
    Ccip__Intake__ApplicationActionRequest acc = CCIP__INTAKE__APPLICATION_ACTION_REQUEST__INIT;
    acc.application_id = app;
    acc.reason = "complete";
    if (s_call(cl, "intake", "staff", "staff-chaos", "intake.application.accept.v1", &acc.base,
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
    char case_id[CCIP_UUID_STRLEN + 1], agency[32], expert[32], agency_actor[40], expert_actor[40];
    snprintf(case_id, sizeof case_id, "%s", cr->case_->id);
    ccip_test_free(cr);
    snprintf(agency, sizeof agency, "CHAOS%d-AG", cl->no);
    snprintf(expert, sizeof expert, "CHAOS%d-EX", cl->no);
    snprintf(agency_actor, sizeof agency_actor, "agency:%s", agency);
    snprintf(expert_actor, sizeof expert_actor, "expert:%s", expert);

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
    if (s_call(cl, "evaluation", "staff", "staff-chaos", "evaluation.assignment.make.v1", &as.base,
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
    Ccip__Evaluation__DeclareRequest dec = CCIP__EVALUATION__DECLARE_REQUEST__INIT;
    dec.case_id = case_id;
    dec.statement = "no ties";
    if (s_call(cl, "evaluation", "expert", expert_actor, "evaluation.review.declare.v1", &dec.base,
               NULL, NULL, NULL, NULL, NULL, NULL) != 0)
        return;
    Ccip__Evaluation__CriterionScore s1 = CCIP__EVALUATION__CRITERION_SCORE__INIT,
                                     s2 = CCIP__EVALUATION__CRITERION_SCORE__INIT;
    s1.criterion = "merit";
    s1.score = 8;
    s1.comment = "good";
    s2.criterion = "impact";
    s2.score = 16;
    s2.comment = "wide";
    Ccip__Evaluation__CriterionScore *scores[] = {&s1, &s2};
    Ccip__Evaluation__SubmitReviewRequest rv = CCIP__EVALUATION__SUBMIT_REVIEW_REQUEST__INIT;
    rv.case_id = case_id;
    rv.sheet_version = fund ? s_fund_version : s_cluster_version;
    rv.scores = scores;
    rv.n_scores = 2;
    if (s_call(cl, "evaluation", "expert", expert_actor, "evaluation.review.submit.v1", &rv.base,
               NULL, NULL, NULL, NULL, NULL, NULL) != 0)
        return;
    Ccip__Evaluation__SubmitToOfficeRequest sub = CCIP__EVALUATION__SUBMIT_TO_OFFICE_REQUEST__INIT;
    sub.case_id = case_id;
    sub.note = "in";
    if (s_call(cl, "evaluation", "staff", "staff-chaos", "evaluation.case.submit.v1", &sub.base,
               NULL, NULL, NULL, NULL, NULL, NULL) != 0)
        return;

    /* decision */
    Ccip__Evaluation__DecideRequest dr = CCIP__EVALUATION__DECIDE_REQUEST__INIT;
    dr.case_id = case_id;
    dr.outcome = CCIP__EVALUATION__OUTCOME__DECISION_APPROVED;
    dr.reasons = "meets the criteria";
    dr.recommended_fen = fund ? FUND_REQUEST_FEN : 0;
    Ccip__Evaluation__CaseReply *decided = NULL;
    if (s_call(cl, "evaluation", "office", "office-chaos", "evaluation.case.decide.v1", &dr.base,
               &ccip__evaluation__case_reply__descriptor, (ProtobufCMessage **)&decided,
               "evaluation.decision.made.v1", "FROM decision WHERE case_id::text = %s", case_id,
               NULL) != 0)
        return;
    char designation[CCIP_UUID_STRLEN + 1];
    snprintf(designation, sizeof designation, "%s", decided->case_->designation_id);
    ccip_test_free(decided);

    if (fund) {
        /* confirmation of the award funding proposed from evaluation's event */
        Ccip__Funding__GetAwardRequest ga = CCIP__FUNDING__GET_AWARD_REQUEST__INIT;
        ga.application_id = app;
        Ccip__Funding__AwardReply *aw = (Ccip__Funding__AwardReply *)s_wait_read(
            cl, "funding", "funding.award.get.v1", &ga.base,
            &ccip__funding__award_reply__descriptor);
        if (!aw)
            return;
        char award[CCIP_UUID_STRLEN + 1];
        snprintf(award, sizeof award, "%s", aw->award->id);
        ccip_test_free(aw);
        Ccip__Funding__ConfirmAwardRequest conf = CCIP__FUNDING__CONFIRM_AWARD_REQUEST__INIT;
        conf.award_id = award;
        conf.note = "as decided";
        if (s_call(cl, "funding", "staff", "staff-chaos", "funding.award.confirm.v1", &conf.base,
                   NULL, NULL, "funding.award.granted.v1",
                   "FROM award WHERE id::text = %s AND status = 'AWARD_COMMITTED'", award,
                   NULL) != 0)
            return;
    } else {
        /* the cluster's first quarterly report, once stats has it on its roster */
        char sql[300];
        snprintf(sql, sizeof sql,
                 "SELECT substr(first_quarter, 1, 4)::int * 10 + substr(first_quarter, 6, 1)::int "
                 "FROM roster_entry WHERE id = '%s'",
                 designation);
        long long q = -1;
        int64_t until = ccip_now_us() + (int64_t)WAIT_MS * 1000;
        while (q < 0 && !atomic_load(&s_stop) && ccip_now_us() < until) {
            q = ccip_test_query_number("stats", sql);
            if (q < 0)
                ccip_test_sleep_ms(200);
        }
        if (q < 0)
            return;
        char quarter[24];
        snprintf(quarter, sizeof quarter, "%04lldQ%lld", q / 10, q % 10);
        /* the compulsory indicators of a cluster */
        static const struct {
            const char *code;
            Ccip__Stats__Unit unit;
            int64_t value;
        } figures[] = {{"enterprises", CCIP__STATS__UNIT__COUNT, 118},
                       {"employees", CCIP__STATS__UNIT__COUNT, 2900},
                       {"operating_revenue", CCIP__STATS__UNIT__FEN, 123456789},
                       {"total_profit", CCIP__STATS__UNIT__FEN, 12345678},
                       {"taxes_paid", CCIP__STATS__UNIT__FEN, 6172839}};
        Ccip__Stats__Value v[5], *values[5];
        for (int i = 0; i < 5; i++) {
            ccip__stats__value__init(&v[i]);
            v[i].code = (char *)figures[i].code;
            v[i].unit = figures[i].unit;
            v[i].value = figures[i].value;
            values[i] = &v[i];
        }
        Ccip__Stats__SaveReportRequest save = CCIP__STATS__SAVE_REPORT_REQUEST__INIT;
        save.roster_id = designation;
        save.quarter = quarter;
        save.values = values;
        save.n_values = 5;
        Ccip__Stats__ReportReply *rr = NULL;
        if (s_call(cl, "stats", "operator", org, "stats.report.save.v1", &save.base,
                   &ccip__stats__report_reply__descriptor, (ProtobufCMessage **)&rr, NULL,
                   "FROM report WHERE id::text = %s", NULL, &slot) != 0)
            return;
        char report[CCIP_UUID_STRLEN + 1];
        snprintf(report, sizeof report, "%s", rr->report->id);
        ccip_test_free(rr);
        s_ack_key(slot, report);
        Ccip__Stats__SubmitReportRequest sr = CCIP__STATS__SUBMIT_REPORT_REQUEST__INIT;
        sr.report_id = report;
        if (s_call(cl, "stats", "operator", org, "stats.report.submit.v1", &sr.base, NULL, NULL,
                   "stats.report.submitted.v1",
                   "FROM report WHERE id::text = %s AND first_submitted_at IS NOT NULL", report,
                   NULL) != 0)
            return;
    }

    /* registration of a work */
    char sha[65];
    for (int i = 0; i < 64; i++)
        sha[i] = "0123456789abcdef"[rand_r(&cl->seed) % 16];
    sha[64] = '\0';
    char today[40];
    ccip_time_format_us(ccip_now_us() - DAY_US, today, sizeof today);
    today[10] = '\0';
    Ccip__Ip__RegisterWorkRequest work = CCIP__IP__REGISTER_WORK_REQUEST__INIT;
    work.kind = CCIP__IP__WORK_KIND__COPYRIGHT_LITERARY;
    work.title = title;
    work.created_on = today;
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
    while (!atomic_load(&s_stop))
        s_case(cl);
    return NULL;
}

/* ---- set-up through ccipctl ------------------------------------------------------- */

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

/* The registers, the fund, the calls and the score sheets the load uses. */
static void s_setup_domain(void)
{
    char now[40], opens[40], closes[40], code[CCIP_USCC_LEN + 1];
    ccip_time_format_us(ccip_now_us(), now, sizeof now);
    int year = atoi(now);
    ccip_time_format_us(ccip_now_us() - 60 * 1000000LL, opens, sizeof opens);
    ccip_time_format_us(ccip_now_us() + 30 * DAY_US, closes, sizeof closes);
    s_ctl("--role staff --actor staff-chaos funding programme create CHAOS-SF --name 'Chaos fund' "
          "--tranche 100:AGREEMENT_SIGNED:on-signing");
    s_ctl("--role staff --actor staff-chaos funding budget set CHAOS-SF %d 900000000.00 "
          "--reason appropriation",
          year);
    s_ctl("--role staff --actor staff-chaos intake call open --kind CLUSTER_IDENTIFICATION "
          "--year %d --title 'Chaos clusters' --opens %s --closes %s --eligible ENTERPRISE",
          year, opens, closes);
    ccip_test_json_value(s_out, "id", s_calls[0], sizeof s_calls[0]);
    s_ctl("--role staff --actor staff-chaos intake call open --kind SPECIAL_FUND_PROJECT "
          "--year %d --title 'Chaos fund projects' --opens %s --closes %s --eligible ENTERPRISE "
          "--fund-programme CHAOS-SF --max-request 500000",
          year, opens, closes);
    ccip_test_json_value(s_out, "id", s_calls[1], sizeof s_calls[1]);
    s_call_cluster = s_calls[0];
    s_call_fund = s_calls[1];
    for (int i = 1; i <= CLIENTS; i++) {
        ccip_test_uscc("110108", code);
        s_ctl("--role staff --actor staff-chaos evaluation agency register CHAOS%d-AG "
              "--name 'Chaos appraisal %d' --uscc %s --districts all --capacity 1000",
              i, i, code);
        ccip_test_uscc("110108", code);
        s_ctl("--role staff --actor staff-chaos evaluation expert register CHAOS%d-EX "
              "--name 'Chaos expert %d' --fields chaos --affiliation %s --district Haidian "
              "--max-reviews 1000 --email ex%d@chaos-univ.example.cn",
              i, i, code, i);
    }
    const char *kinds[] = {"cluster_identification", "special_fund_project"};
    int *versions[] = {&s_cluster_version, &s_fund_version};
    for (int k = 0; k < 2; k++) {
        s_ctl("--role staff --actor staff-chaos evaluation sheet publish %s "
              "--criterion merit:1:10:Merit --criterion impact:1:20:Impact --threshold 10 "
              "--panel 1 --fields chaos",
              kinds[k]);
        const char *v = strstr(s_out, "\"version\":");
        assert_non_null(v);
        *versions[k] = atoi(v + strlen("\"version\":"));
    }
}

/* ---- PostgreSQL's restart -------------------------------------------------------- */

static double s_pg_restart_s = -1, s_pg_recovery_s = -1;

static void *s_restart_run(void *arg)
{
    int *rc = arg;
    *rc = system(getenv("CCIP_CHAOS_RESTART_PG"));
    return NULL;
}

/* Restarts PostgreSQL (pg_ctl restart -m immediate), watching it with
 * PQping every 10 ms: pg_restart_s runs from the order until it accepts
 * connections again, pg_recovery_s from then until a client's command is
 * answered. */
static void s_restart_pg(void)
{
    char conninfo[300];
    snprintf(conninfo, sizeof conninfo, "host=%s port=%s dbname=postgres connect_timeout=1",
             getenv("CCIP_PGHOST"), getenv("CCIP_PGPORT"));
    int rc = -1;
    pthread_t t;
    int64_t ordered = ccip_now_us();
    assert_int_equal(pthread_create(&t, NULL, s_restart_run, &rc), 0);
    int seen_down = 0;
    int64_t accepting = 0, until = ordered + 60 * 1000000LL;
    while (!accepting && ccip_now_us() < until) {
        PGPing p = PQping(conninfo);
        if (p != PQPING_OK)
            seen_down = 1;
        else if (seen_down)
            accepting = ccip_now_us();
        if (!accepting)
            ccip_test_sleep_ms(10);
    }
    pthread_join(t, NULL);
    if (rc != 0 || !accepting)
        ccip_test_fail(&s_svc, "PostgreSQL's restart failed or it never came back");
    atomic_store(&s_accepting_us, (long long)accepting);
    s_pg_restart_s = (double)(accepting - ordered) / 1e6;
    int64_t give_up = accepting + (int64_t)RECOVERY_MAX_S * 1000000;
    while (!atomic_load(&s_first_answer_us) && ccip_now_us() < give_up)
        ccip_test_sleep_ms(5);
    long long first = atomic_load(&s_first_answer_us);
    if (first)
        s_pg_recovery_s = (double)(first - accepting) / 1e6;
    printf("chaos: PostgreSQL restarted in %.2f s; first command answered %.2f s after it "
           "accepted connections\n",
           s_pg_restart_s, s_pg_recovery_s);
}

/* ---- the checks ---------------------------------------------------------------- */

/* A query's number, retried while the database is busy; -1 when it fails. */
static long long s_number(const char *svc, const char *sql)
{
    long long v = ccip_test_query_number(svc, sql);
    for (int i = 0; v < 0 && i < 20; i++) {
        ccip_test_sleep_ms(250);
        v = ccip_test_query_number(svc, sql);
    }
    return v;
}

/* A growing SQL text. */
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

/* Prints (some of) the acknowledged commands of `svc` among ids that left
 * no stored reply: which they were, for the logs. */
static void s_print_lost(const char *svc)
{
    for (size_t i = 0, shown = 0; i < s_nacks && shown < 5; i++) {
        if (strcmp(s_acks[i].service, svc) != 0)
            continue;
        char q[300];
        snprintf(q, sizeof q, "SELECT count(*) FROM command_log WHERE command_id = '%s'",
                 s_acks[i].id);
        if (s_number(svc, q) == 0) {
            printf("chaos: lost: %s %s (key %s)\n", s_acks[i].type, s_acks[i].id, s_acks[i].key);
            shown++;
        }
    }
}

/* Acknowledged commands of `svc` that left no stored reply, and (event)
 * those whose event is missing (*lost) or there more than once (*doubled). */
static void s_check_commands(const char *svc, long long *lost, long long *doubled)
{
    s_text ids = {0}, events = {0};
    for (size_t i = 0; i < s_nacks; i++) {
        if (strcmp(s_acks[i].service, svc) != 0)
            continue;
        s_add(&ids, "%s'%s'", ids.len ? "," : "", s_acks[i].id);
        if (s_acks[i].event)
            s_add(&events, "%s('%s','%s')", events.len ? "," : "", s_acks[i].id, s_acks[i].event);
    }
    if (!ids.len)
        return;
    s_text q = {0};
    s_add(&q,
          "SELECT count(*) FROM unnest(ARRAY[%s]::text[]) AS i(id) WHERE NOT EXISTS "
          "(SELECT 1 FROM command_log c WHERE c.command_id = i.id)",
          ids.s);
    long long no_reply = s_number(svc, q.s);
    q.len = 0;
    long long no_event = 0, twice = 0;
    if (events.len) {
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
    printf("chaos: %s: commands without a stored reply %lld, without their event %lld, with it "
           "twice %lld\n",
           svc, no_reply, no_event, twice);
    if (no_reply > 0)
        s_print_lost(svc);
    *lost += (no_reply < 0 ? 1 : no_reply) + (no_event < 0 ? 1 : no_event);
    *doubled += twice < 0 ? 1 : twice;
    free(ids.s);
    free(events.s);
    free(q.s);
}

/* Acknowledged commands whose row (their check) is missing. */
static long long s_check_rows(void)
{
    long long missing = 0;
    for (size_t i = 0; i < s_nacks; i++) {
        const char *check = s_acks[i].check;
        if (!check || !s_acks[i].key[0])
            continue;
        int first = 1;
        for (size_t j = 0; j < i; j++)
            if (s_acks[j].check == check) {
                first = 0;
                break;
            }
        if (!first)
            continue;
        /* every ack with this check, in one query */
        s_text keys = {0}, q = {0};
        for (size_t j = i; j < s_nacks; j++)
            if (s_acks[j].check == check && s_acks[j].key[0])
                s_add(&keys, "%s'%s'", keys.len ? "," : "", s_acks[j].key);
        /* the check's %s names the key column of the query below */
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
            printf("chaos: %lld acknowledged commands left no row %s\n", n, check);
        missing += n < 0 ? 1 : n;
        free(keys.s);
        free(q.s);
    }
    return missing;
}

/* Positions missing, unnumbered or past the head in every outbox. */
static long long s_check_gaps(void)
{
    long long gaps = 0;
    for (size_t i = 0; i < NSERVICES; i++) {
        long long g = s_number(
            s_services[i],
            "SELECT abs(s.head - s.oldest + 1 - (SELECT count(*) FROM outbox WHERE position IS "
            "NOT NULL)) + (SELECT count(*) FROM outbox WHERE position IS NULL) + CASE WHEN "
            "(SELECT coalesce(max(position), 0) FROM outbox) = s.head THEN 0 ELSE 1 END "
            "FROM outbox_state s");
        long long head = s_number(s_services[i], "SELECT head FROM outbox_state");
        printf("chaos: %s's outbox: head %lld, %lld gaps\n", s_services[i], head, g);
        gaps += g < 0 ? 1 : g;
    }
    return gaps;
}

/* Seconds until every consumer's cursor equals its producer's head (-1:
 * not within LAG_MAX_S). */
static double s_wait_caught_up(int64_t from)
{
    int64_t until = from + (int64_t)LAG_MAX_S * 1000000;
    for (;;) {
        int behind = 0;
        for (size_t i = 0; i < NSTREAMS && !behind; i++) {
            char sql[200];
            snprintf(sql, sizeof sql, "SELECT position FROM consumer_cursor WHERE producer = '%s'",
                     s_streams[i].producer);
            long long head =
                ccip_test_query_number(s_streams[i].producer, "SELECT head FROM outbox_state");
            long long cursor = ccip_test_query_number(s_streams[i].consumer, sql);
            behind = head < 0 || cursor != head;
        }
        int64_t now = ccip_now_us();
        if (!behind)
            return (double)(now - from) / 1e6;
        if (now >= until)
            break;
        ccip_test_sleep_ms(200);
    }
    for (size_t i = 0; i < NSTREAMS; i++) {
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT position FROM consumer_cursor WHERE producer = '%s'",
                 s_streams[i].producer);
        printf("chaos: stream %s -> %s: head %lld, cursor %lld\n", s_streams[i].producer,
               s_streams[i].consumer,
               ccip_test_query_number(s_streams[i].producer, "SELECT head FROM outbox_state"),
               ccip_test_query_number(s_streams[i].consumer, sql));
    }
    return -1;
}

/* One downstream count against its source; returns |difference|. */
static long long s_same(const char *what, const char *src_svc, const char *src_sql,
                        const char *dst_svc, const char *dst_sql)
{
    long long a = s_number(src_svc, src_sql), b = s_number(dst_svc, dst_sql);
    printf("chaos: %s: %lld in %s, %lld in %s\n", what, a, src_svc, b, dst_svc);
    if (a < 0 || b < 0)
        return 1;
    return a > b ? a - b : b - a;
}

/* Effects made from events, exactly once each. */
static long long s_check_downstream(void)
{
    long long off = 0;
    off += s_same("cases per accepted application", "intake",
                  "SELECT count(*) FROM application WHERE status = 'ACCEPTED'", "evaluation",
                  "SELECT count(*) FROM case_file");
    off += s_same("awards per approved project", "evaluation",
                  "SELECT count(*) FROM decision d JOIN case_file c ON c.id = d.case_id WHERE "
                  "c.kind = 'SPECIAL_FUND_PROJECT' AND d.outcome = 'DECISION_APPROVED'",
                  "funding", "SELECT count(*) FROM award");
    off += s_same("stats: organisations", "intake", "SELECT count(*) FROM organisation", "stats",
                  "SELECT count(*) FROM ev_org");
    off += s_same("stats: accepted applications", "intake",
                  "SELECT count(*) FROM application WHERE status = 'ACCEPTED'", "stats",
                  "SELECT count(*) FROM ev_application WHERE accepted_at_us IS NOT NULL");
    off += s_same("stats: decisions", "evaluation",
                  "SELECT count(*) FROM decision WHERE outcome IN ('DECISION_APPROVED', "
                  "'DECISION_DECLINED')",
                  "stats", "SELECT count(*) FROM ev_decision");
    off += s_same("stats: awards granted", "funding",
                  "SELECT count(*) FROM award WHERE confirmed_at IS NOT NULL", "stats",
                  "SELECT count(*) FROM ev_award");
    off += s_same("stats: works", "ip", "SELECT count(*) FROM work", "stats",
                  "SELECT count(*) FROM ev_work");
    off += s_same("stats: roster", "evaluation", "SELECT count(*) FROM designation", "stats",
                  "SELECT count(*) FROM roster_entry");
    off += s_same("followup: awards granted", "funding",
                  "SELECT count(*) FROM award WHERE confirmed_at IS NOT NULL", "followup",
                  "SELECT count(*) FROM award");
    /* casefile: one step per event about a case (every application's are) */
    off += s_same("casefile: acceptances", "intake",
                  "SELECT count(*) FROM outbox WHERE type = 'intake.application.accepted.v1'",
                  "casefile",
                  "SELECT count(*) FROM step WHERE type = 'intake.application.accepted.v1'");
    off +=
        s_same("casefile: decisions", "evaluation",
               "SELECT count(*) FROM outbox WHERE type = 'evaluation.decision.made.v1'", "casefile",
               "SELECT count(*) FROM step WHERE type = 'evaluation.decision.made.v1'");
    off += s_same("casefile: awards granted", "funding",
                  "SELECT count(*) FROM outbox WHERE type = 'funding.award.granted.v1'", "casefile",
                  "SELECT count(*) FROM step WHERE type = 'funding.award.granted.v1'");
    return off;
}

/* ---- the run --------------------------------------------------------------------- */

static int s_setup(void **state)
{
    (void)state;
    if (!getenv("CCIP_CHAOS_RESTART_PG")) {
        fprintf(stderr, "CCIP_CHAOS_RESTART_PG is not set: run test_chaos through "
                        "tests/system/chaos.sh, which makes its PostgreSQL cluster\n");
        return -1;
    }
    s_acks = calloc(MAX_ACKS, sizeof *s_acks);
    if (!s_acks || ccip_test_svc_init(&s_svc, "intake") < 0)
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
    for (size_t i = 0; i < sizeof s_all / sizeof s_all[0]; i++)
        if (ccip_test_svc_wait(&s_svc, s_all[i]) < 0) {
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

static void test_chaos(void **state)
{
    (void)state;
    const char *e = getenv("CCIP_CHAOS_LOAD_S");
    int load_s = e && atoi(e) > 0 ? atoi(e) : LOAD_S_DEFAULT;
    e = getenv("CCIP_CHAOS_SEED");
    unsigned seed = e ? (unsigned)strtoul(e, NULL, 10) : (unsigned)time(NULL);
    printf("chaos: %d s of load, seed %u (CCIP_CHAOS_SEED repeats the kills)\n", load_s, seed);
    s_setup_domain();

    s_client clients[CLIENTS];
    pthread_t threads[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        clients[i] = (s_client){.no = i + 1, .seed = seed + (unsigned)i};
        clients[i].c = ccip_test_svc_client(&s_svc, &s_svc.env.front_keys);
        assert_non_null(clients[i].c);
        assert_int_equal(pthread_create(&threads[i], NULL, s_client_run, &clients[i]), 0);
    }
    int64_t start = ccip_now_us(), end = start + (int64_t)load_s * 1000000;
    int64_t pg_at = start + (int64_t)load_s * 500000, next_kill = start + KILL_EVERY_MS * 1000LL;
    int restarted = 0;
    while (ccip_now_us() < end) {
        ccip_test_sleep_ms(50);
        s_reap();
        int64_t now = ccip_now_us();
        if (!restarted && now >= pg_at) {
            s_restart_pg();
            restarted = 1;
            next_kill = ccip_now_us() + KILL_EVERY_MS * 1000LL;
        } else if (now >= next_kill) {
            size_t victim = (size_t)(rand_r(&seed) % NPROCS);
            s_kill_restart(victim);
            next_kill += KILL_EVERY_MS * 1000LL;
        }
    }
    atomic_store(&s_stop, 1);
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(threads[i], NULL);
        ccip_client_destroy(&clients[i].c);
    }
    int64_t stopped = ccip_now_us();
    s_reap();
    /* which processes the random kills hit (a process never hit was not
     * tested for catching up after a kill in this run: the seed says) */
    printf("chaos: kills:");
    for (size_t i = 0; i < NPROCS; i++)
        printf(" %s=%d", s_procs[i].instance, s_procs[i].kills);
    printf("\n");
    printf("chaos: %zu commands acknowledged, %lld refused, %lld never answered\n", s_nacks,
           (long long)atomic_load(&s_refused), (long long)atomic_load(&s_given_up));
    if (s_first_refusal[0])
        printf("chaos: first refusal: %s\n", s_first_refusal);

    double lag = s_wait_caught_up(stopped);
    long long lost = 0, doubled = 0;
    for (size_t i = 0; i < NSERVICES; i++)
        s_check_commands(s_services[i], &lost, &doubled);
    lost += s_check_rows();
    long long gaps = s_check_gaps();
    long long off = s_check_downstream();
    s_reap();
    printf("chaos: acked=%zu lost=%lld doubled=%lld gaps=%lld lag_after_s=%.1f "
           "pg_recovery_s=%.2f pg_restart_s=%.2f downstream_off=%lld self_exits=%d kills=%d\n",
           s_nacks, lost, doubled, gaps, lag, s_pg_recovery_s, s_pg_restart_s, off, s_self_exits,
           s_kills);
    fflush(stdout);
    if (lost || doubled || gaps || lag < 0 || off || s_self_exits || s_pg_recovery_s < 0 ||
        s_nacks < 50)
        ccip_test_fail(&s_svc, "an invariant of the chaos run is broken (see the lines above)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chaos),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
