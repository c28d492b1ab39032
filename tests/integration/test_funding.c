/*
 * The funding service end to end: the real bus and funding processes, real
 * PostgreSQL, commands through the front door with a person's role (as
 * ccipctl sends them), and evaluation's decisions published by a stand-in
 * evaluation producer that answers replay and heartbeats like a real relay.
 * One test per rule of issue 6.
 *
 * Every test makes its own programme (a fresh code) and applications
 * (fresh UUIDs), so the tests may run in any order against a database that
 * has seen earlier runs.
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
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_keys.h"
#include "ccip_sock.h"
#include "ccip_test_db.h"
#include "ccip_test_proc.h"
#include "ccip_test_producer.h"
#include "ccip_test_svc.h"
#include "ccip_validate.h"
#include "ccip_worker.h"

#define STAFF         "staff", "staff-li"
#define FINANCE_A     "finance", "finance-wang"
#define FINANCE_B     "finance", "finance-zhao"
#define FOUR_EYES_FEN 1000000 /* funding.four_eyes_above_fen for this suite: 10,000.00 yuan */
#define YEAR          2027
#define DAY_US        (24LL * 3600 * 1000000)
#define RACERS        16 /* concurrent confirmations */

static ccip_test_svc s_svc; /* the bus, funding, the clients, the last reply's sentence */

/* ---- helpers -------------------------------------------------------------- */

/* A fresh programme code: "T<time><n>". */
static void s_code(char out[33])
{
    static int n;
    snprintf(out, 33, "T%lx-%d-%d", (unsigned long)time(NULL), (int)getpid() % 10000, ++n);
}

/* ccip_test_send_cmd on client c as (role, actor), keeping the sentence in
 * err: for threads, which may not share s_svc.error. */
static int s_send_on(ccip_client *c, const char *role, const char *actor, const char *type,
                     const ProtobufCMessage *msg, const char *id,
                     const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out, char *err,
                     size_t errlen)
{
    ccip_test_cmd cmd = {.role = role,
                         .actor = actor,
                         .type = type,
                         .msg = msg,
                         .id = id,
                         .out = desc,
                         .via = c,
                         .error = err,
                         .error_len = errlen};
    return ccip_test_send_cmd(&s_svc, &cmd, out);
}

/* Rows written by funding that a refused command must not add to. */
static long long s_rows(void)
{
    return ccip_test_number(
        &s_svc, "SELECT (SELECT count(*) FROM journal_entry) + (SELECT count(*) FROM "
                "journal_line) + (SELECT count(*) FROM budget_change) + (SELECT count(*) "
                "FROM outbox) + (SELECT count(*) FROM tranche) + (SELECT count(*) FROM "
                "payment) + (SELECT count(*) FROM programme) + (SELECT count(*) FROM "
                "budget_year)");
}

/* ---- the stand-in evaluation and ip producers ----------------------------- */

/* tests/support/ccip_test_producer.h: they answer replay and heartbeat like
 * real replicas; funding fetches their events by replay. */
static ccip_test_producer *s_eval, *s_ip;

/* Appends an event of f's one type about a new aggregate (a case or a
 * dispute), as the office or staff would cause it. */
static uint64_t s_fake_add(ccip_test_producer *f, const ProtobufCMessage *payload)
{
    char aggregate[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(aggregate);
    int eval = f == s_eval;
    uint64_t pos = ccip_test_producer_add(
        f, eval ? "evaluation.decision.made.v1" : "ip.dispute.upheld.v1", eval ? "case" : "dispute",
        aggregate, payload, "office-chen", "office");
    assert_true(pos > 0);
    return pos;
}

/* Waits until funding has applied everything the stand-in published. */
static void s_fake_applied(ccip_test_producer *f)
{
    if (ccip_test_producer_wait_applied(f, 20000) < 0)
        ccip_test_fail(&s_svc, "funding did not apply the stand-in producer's events");
}

/* A decision of the office about a fresh application. */
typedef struct {
    Ccip__Evaluation__DecisionMade d;
    Ccip__Evaluation__Decision decision;
    char application_id[37];
    char case_id[37];
    char uscc[19];
    char programme[33];
} s_decision;

static void s_decision_init(s_decision *s, const char *programme, Ccip__Intake__CallKind kind,
                            Ccip__Evaluation__Outcome outcome, int64_t requested,
                            int64_t recommended)
{
    memset(s, 0, sizeof *s);
    ccip_uuid_v7(s->application_id);
    ccip_uuid_v7(s->case_id);
    ccip_test_uscc("110108", s->uscc);
    snprintf(s->programme, sizeof s->programme, "%s", programme);
    s->decision = (Ccip__Evaluation__Decision)CCIP__EVALUATION__DECISION__INIT;
    s->decision.outcome = outcome;
    s->decision.reasons = "meets the programme's criteria";
    s->decision.recommended_fen = recommended;
    s->decision.decided_by = "office-chen";
    s->d = (Ccip__Evaluation__DecisionMade)CCIP__EVALUATION__DECISION_MADE__INIT;
    s->d.case_id = s->case_id;
    s->d.application_id = s->application_id;
    s->d.kind = kind;
    s->d.year = YEAR;
    s->d.applicant_uscc = s->uscc;
    s->d.applicant_name = "北京灯笼文化有限公司";
    s->d.title = "Lantern festival for the old town";
    s->d.fund_programme_code = s->programme;
    s->d.decision = &s->decision;
    s->d.requested_fen = requested;
}

/* Publishes an approval and waits for its award; writes the award id. */
static void s_award(const char *programme, int64_t requested, int64_t recommended,
                    char award_id[37], char uscc[19], char app[37])
{
    s_decision s;
    s_decision_init(&s, programme, CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT,
                    CCIP__EVALUATION__OUTCOME__DECISION_APPROVED, requested, recommended);
    s_fake_add(s_eval, &s.d.base);
    s_fake_applied(s_eval);
    Ccip__Funding__GetAwardRequest g = CCIP__FUNDING__GET_AWARD_REQUEST__INIT;
    g.application_id = s.application_id;
    Ccip__Funding__AwardReply *r = (Ccip__Funding__AwardReply *)ccip_test_ok(
        &s_svc, STAFF, "funding.award.get.v1", &g.base, &ccip__funding__award_reply__descriptor);
    snprintf(award_id, 37, "%s", r->award->id);
    if (uscc)
        snprintf(uscc, 19, "%s", s.uscc);
    if (app)
        snprintf(app, 37, "%s", s.application_id);
    ccip_test_free(r);
}

/* Creates a programme with a tranche plan ("50:AGREEMENT_SIGNED" ...). */
static void s_programme(const char *code, const char *const *plan)
{
    Ccip__Funding__CreateProgrammeRequest rq = CCIP__FUNDING__CREATE_PROGRAMME_REQUEST__INIT;
    rq.code = (char *)code;
    rq.name = "文化创意产业发展专项资金";
    rq.description = "Special fund for the cultural and creative industries";
    Ccip__Funding__TrancheRule rules[4], *ptrs[4];
    for (; plan && plan[rq.n_tranche_plan]; rq.n_tranche_plan++) {
        size_t i = rq.n_tranche_plan;
        rules[i] = (Ccip__Funding__TrancheRule)CCIP__FUNDING__TRANCHE_RULE__INIT;
        rules[i].percent = atoi(plan[i]);
        const char *cond = strchr(plan[i], ':') + 1;
        rules[i].condition = (Ccip__Funding__Condition)protobuf_c_enum_descriptor_get_value_by_name(
                                 &ccip__funding__condition__descriptor, cond)
                                 ->value;
        rules[i].label = "";
        ptrs[i] = &rules[i];
    }
    rq.tranche_plan = ptrs;
    ccip_test_free(ccip_test_ok(&s_svc, STAFF, "funding.programme.create.v1", &rq.base, NULL));
}

static const char *const S_PLAN_3[] = {"50:AGREEMENT_SIGNED", "30:MIDTERM_INSPECTION_PASSED",
                                       "20:FINAL_REPORT_ACCEPTED", NULL};

static int s_set_budget(const char *code, int32_t year, const char *category, int64_t fen,
                        const char *reason)
{
    Ccip__Funding__SetBudgetRequest rq = CCIP__FUNDING__SET_BUDGET_REQUEST__INIT;
    rq.programme_code = (char *)code;
    rq.year = year;
    rq.category = (char *)(category ? category : "");
    rq.budget_fen = fen;
    rq.reason = (char *)(reason ? reason : "annual appropriation");
    return ccip_test_send(&s_svc, STAFF, "funding.budget.set.v1", &rq.base, NULL, NULL, NULL);
}

static Ccip__Funding__Budget *s_budget(const char *code, int32_t year)
{
    Ccip__Funding__GetBudgetRequest rq = CCIP__FUNDING__GET_BUDGET_REQUEST__INIT;
    rq.programme_code = (char *)code;
    rq.year = year;
    Ccip__Funding__BudgetReply *r = (Ccip__Funding__BudgetReply *)ccip_test_ok(
        &s_svc, STAFF, "funding.budget.get.v1", &rq.base, &ccip__funding__budget_reply__descriptor);
    Ccip__Funding__Budget *b = r->budget;
    r->budget = NULL;
    ccip_test_free(r);
    return b;
}

static int s_confirm(const char *award, int64_t amount, const char *category, const char *id)
{
    Ccip__Funding__ConfirmAwardRequest rq = CCIP__FUNDING__CONFIRM_AWARD_REQUEST__INIT;
    rq.award_id = (char *)award;
    rq.amount_fen = amount;
    rq.category = (char *)(category ? category : "");
    rq.note = "";
    return ccip_test_send(&s_svc, STAFF, "funding.award.confirm.v1", &rq.base, id, NULL, NULL);
}

static Ccip__Funding__Award *s_get_award(const char *role, const char *actor, const char *award)
{
    Ccip__Funding__GetAwardRequest rq = CCIP__FUNDING__GET_AWARD_REQUEST__INIT;
    rq.award_id = (char *)award;
    Ccip__Funding__AwardReply *r = (Ccip__Funding__AwardReply *)ccip_test_ok(
        &s_svc, role, actor, "funding.award.get.v1", &rq.base,
        &ccip__funding__award_reply__descriptor);
    Ccip__Funding__Award *w = r->award;
    r->award = NULL;
    ccip_test_free(r);
    return w;
}

static int s_award_action(const char *verb, const char *award, const char *reason)
{
    char type[64];
    snprintf(type, sizeof type, "funding.award.%s.v1", verb);
    Ccip__Funding__AwardActionRequest rq = CCIP__FUNDING__AWARD_ACTION_REQUEST__INIT;
    rq.award_id = (char *)award;
    rq.reason = (char *)(reason ? reason : "");
    return ccip_test_send(&s_svc, STAFF, type, &rq.base, NULL, NULL, NULL);
}

/* Requests tranche n of an award; writes the payment id when OK. */
static int s_request(const char *award, int32_t n, char payment[37])
{
    Ccip__Funding__RequestPaymentRequest rq = CCIP__FUNDING__REQUEST_PAYMENT_REQUEST__INIT;
    rq.award_id = (char *)award;
    rq.tranche_number = n;
    Ccip__Funding__PaymentReply *r = NULL;
    int status = ccip_test_send(&s_svc, STAFF, "funding.payment.request.v1", &rq.base, NULL,
                                &ccip__funding__payment_reply__descriptor, (ProtobufCMessage **)&r);
    if (status == 0 && payment)
        snprintf(payment, 37, "%s", r->payment->id);
    ccip_test_free(r);
    return status;
}

/* Approves a payment as (role, actor); *paid (may be NULL) says whether it
 * is paid afterwards. */
static int s_approve(const char *role, const char *actor, const char *payment, int *paid)
{
    Ccip__Funding__ApprovePaymentRequest rq = CCIP__FUNDING__APPROVE_PAYMENT_REQUEST__INIT;
    rq.payment_id = (char *)payment;
    rq.payment_ref = "TREASURY-2027-0001";
    Ccip__Funding__PaymentReply *r = NULL;
    int status = ccip_test_send(&s_svc, role, actor, "funding.payment.approve.v1", &rq.base, NULL,
                                &ccip__funding__payment_reply__descriptor, (ProtobufCMessage **)&r);
    if (status == 0 && paid)
        *paid = r->payment->status == CCIP__FUNDING__PAYMENT_STATUS__PAYMENT_PAID;
    ccip_test_free(r);
    return status;
}

/* Pays tranche n of an award in full (two approvers when needed). */
static void s_pay(const char *award, int32_t n)
{
    char payment[37];
    if (s_request(award, n, payment) != 0)
        ccip_test_fail(&s_svc, s_svc.error);
    int paid = 0;
    assert_int_equal(s_approve(FINANCE_A, payment, &paid), 0);
    if (!paid)
        assert_int_equal(s_approve(FINANCE_B, payment, &paid), 0);
    assert_true(paid);
}

/* Schedules an inspection and records its finding; returns the status of
 * the recording. */
static int s_inspect(const char *award, Ccip__Funding__InspectionKind kind,
                     Ccip__Funding__Finding finding, int64_t misused, char clawback[37])
{
    Ccip__Funding__ScheduleInspectionRequest s = CCIP__FUNDING__SCHEDULE_INSPECTION_REQUEST__INIT;
    s.award_id = (char *)award;
    s.kind = kind;
    s.scheduled_for_us = ccip_now_us() + DAY_US;
    s.inspector = "inspector-sun";
    Ccip__Funding__InspectionReply *r = (Ccip__Funding__InspectionReply *)ccip_test_ok(
        &s_svc, STAFF, "funding.inspection.schedule.v1", &s.base,
        &ccip__funding__inspection_reply__descriptor);
    char id[37];
    snprintf(id, sizeof id, "%s", r->inspection->id);
    ccip_test_free(r);
    Ccip__Funding__RecordInspectionRequest rec = CCIP__FUNDING__RECORD_INSPECTION_REQUEST__INIT;
    rec.inspection_id = id;
    rec.finding = finding;
    rec.notes = "visited the workshop; books and receipts checked";
    rec.correct_by_us = finding == CCIP__FUNDING__FINDING__ISSUES ? ccip_now_us() + 30 * DAY_US : 0;
    rec.misused_fen = misused;
    r = NULL;
    int status =
        ccip_test_send(&s_svc, STAFF, "funding.inspection.record.v1", &rec.base, NULL,
                       &ccip__funding__inspection_reply__descriptor, (ProtobufCMessage **)&r);
    if (status == 0 && clawback)
        snprintf(clawback, 37, "%s", r->clawback ? r->clawback->id : "");
    ccip_test_free(r);
    return status;
}

static Ccip__Funding__VerifyLedgerReply *s_verify(void)
{
    Ccip__Funding__VerifyLedgerRequest rq = CCIP__FUNDING__VERIFY_LEDGER_REQUEST__INIT;
    return (Ccip__Funding__VerifyLedgerReply *)ccip_test_ok(
        &s_svc, STAFF, "funding.ledger.verify.v1", &rq.base,
        &ccip__funding__verify_ledger_reply__descriptor);
}

/* ---- set-up ------------------------------------------------------------------ */

static int s_group_setup(void **state)
{
    (void)state;
    static const ccip_test_svc_proc procs[] = {{"services/funding/funding", "funding", "funding-1"},
                                               {NULL, NULL, NULL}};
    char v[32];
    snprintf(v, sizeof v, "%d", FOUR_EYES_FEN);
    setenv("CCIP_FUNDING_FOUR_EYES_ABOVE_FEN", v, 1);
    setenv("CCIP_WORKERS", "8", 1);
    /* test_confirm_batch_mixed holds up both connections with one blocker
     * each while six commands queue behind them (8 workers). */
    setenv("CCIP_DB_CONNECTIONS", "2", 1);
    if (ccip_test_svc_start(&s_svc, "funding", procs) < 0)
        return -1;
    s_eval = ccip_test_producer_start(&s_svc.env, s_svc.ctx, "evaluation", "funding");
    s_ip = ccip_test_producer_start(&s_svc.env, s_svc.ctx, "ip", "funding");
    return s_eval && s_ip ? 0 : -1;
}

static int s_group_teardown(void **state)
{
    (void)state;
    /* The service first: the stand-ins then put the cursors they moved back,
     * with nothing left to move them again. */
    ccip_test_svc_stop(&s_svc);
    ccip_test_producer_stop(&s_eval);
    ccip_test_producer_stop(&s_ip);
    return 0;
}

/* ---- programmes and budgets ---------------------------------------------------- */

/* Staff create a programme and set, raise, lower and split its budget;
 * every change is recorded with actor and reason and is a journal entry. */
static void test_programmes_and_budgets(void **state)
{
    (void)state;
    char code[33];
    s_code(code);
    s_programme(code, S_PLAN_3);

    Ccip__Funding__GetProgrammeRequest g = CCIP__FUNDING__GET_PROGRAMME_REQUEST__INIT;
    g.code = code;
    Ccip__Funding__ProgrammeReply *p = (Ccip__Funding__ProgrammeReply *)ccip_test_ok(
        &s_svc, NULL, NULL, "funding.programme.get.v1", &g.base,
        &ccip__funding__programme_reply__descriptor);
    assert_int_equal(p->programme->n_tranche_plan, 3);
    assert_int_equal(p->programme->tranche_plan[1]->percent, 30);
    assert_int_equal(p->programme->tranche_plan[1]->condition,
                     CCIP__FUNDING__CONDITION__MIDTERM_INSPECTION_PASSED);
    ccip_test_free(p);

    assert_int_equal(s_set_budget(code, YEAR, NULL, 100000000, "appropriation 2027"), 0);
    assert_int_equal(s_set_budget(code, YEAR, NULL, 150000000, "supplementary appropriation"), 0);
    assert_int_equal(s_set_budget(code, YEAR, NULL, 120000000, "mid-year cut"), 0);
    assert_int_equal(s_set_budget(code, YEAR, "animation", 30000000, "animation line"), 0);
    Ccip__Funding__Budget *b = s_budget(code, YEAR);
    assert_int_equal(b->budget_fen, 120000000);
    assert_int_equal(b->remaining_fen, 120000000);
    assert_int_equal(b->unallotted_fen, 90000000);
    assert_int_equal(b->committed_fen, 0);
    assert_int_equal(b->n_categories, 1);
    assert_string_equal(b->categories[0]->category, "animation");
    assert_int_equal(b->categories[0]->budget_fen, 30000000);
    assert_int_equal(b->n_changes, 4);
    assert_string_equal(b->changes[1]->reason, "supplementary appropriation");
    assert_string_equal(b->changes[1]->actor_id, "staff-li");
    assert_string_equal(b->changes[1]->actor_role, "staff");
    assert_int_equal(b->changes[1]->from_fen, 100000000);
    assert_int_equal(b->changes[1]->to_fen, 150000000);
    assert_int_equal(b->changes[3]->from_fen, 0);
    ccip_test_free(b);
    /* Four entries: allocated, allocated, reduced, allotted; 2 lines each. */
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM journal_entry WHERE programme_code = '%s'",
                         code),
        4);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM journal_entry WHERE programme_code = '%s' "
                         "AND kind = 'ENTRY_BUDGET_REDUCED'",
                         code),
        1);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM outbox WHERE type = 'funding.budget.changed.v1' "
                         "AND aggregate_id = '%s'",
                         code),
        4);
    /* The category cannot be given more than the pool holds. */
    assert_int_equal(s_set_budget(code, YEAR, "film", 90000001, "film line"), 9);
    ccip_test_error_has(&s_svc, "raise the year's total first");
    /* Another year of the same programme is separate. */
    assert_int_equal(s_set_budget(code, YEAR + 1, NULL, 5000, "next year"), 0);
    b = s_budget(code, YEAR + 1);
    assert_int_equal(b->budget_fen, 5000);
    ccip_test_free(b);
}

/* Bad input is refused with the field and the fix, and writes nothing. */
static void test_bad_input_writes_nothing(void **state)
{
    (void)state;
    char code[33], unknown[33];
    s_code(code);
    s_code(unknown);
    s_programme(code, S_PLAN_3);
    assert_int_equal(s_set_budget(code, YEAR, NULL, 1000000, NULL), 0);
    long long before = s_rows();

    assert_int_equal(s_set_budget(code, YEAR, NULL, 1000000, NULL), 9); /* no change */
    ccip_test_error_has(&s_svc, "is 10000.00 yuan already");
    assert_int_equal(s_set_budget(code, YEAR + 3, NULL, 0, NULL), 9); /* opens no empty year */
    assert_int_equal(s_set_budget(code, YEAR, NULL, -5, NULL), 3);
    ccip_test_error_has(&s_svc, "field `budget_fen` must be a positive amount");
    assert_int_equal(s_set_budget(unknown, YEAR, NULL, 100, NULL), 9);
    ccip_test_error_has(&s_svc, "there is no programme");
    assert_int_equal(s_set_budget(code, 1999, NULL, 100, NULL), 3);
    ccip_test_error_has(&s_svc, "field `year`");
    assert_int_equal(s_set_budget(code, YEAR, NULL, 100, "\xff\xfe bad"), 3);
    ccip_test_error_has(&s_svc, "field `reason` is not valid UTF-8");
    assert_int_equal(s_set_budget(code, YEAR, NULL, 100, ""), 3);
    ccip_test_error_has(&s_svc, "field `reason`");
    assert_int_equal(s_set_budget(code, YEAR, "bad/category", 100, NULL), 3);
    ccip_test_error_has(&s_svc, "field `category`");

    /* A plan that does not add up to 100. */
    Ccip__Funding__CreateProgrammeRequest rq = CCIP__FUNDING__CREATE_PROGRAMME_REQUEST__INIT;
    Ccip__Funding__TrancheRule r1 = CCIP__FUNDING__TRANCHE_RULE__INIT, *rules[1] = {&r1};
    r1.percent = 90;
    r1.condition = CCIP__FUNDING__CONDITION__AGREEMENT_SIGNED;
    rq.code = unknown;
    rq.name = "x";
    rq.tranche_plan = rules;
    rq.n_tranche_plan = 1;
    assert_int_equal(
        ccip_test_send(&s_svc, STAFF, "funding.programme.create.v1", &rq.base, NULL, NULL, NULL),
        3);
    ccip_test_error_has(&s_svc, "add up to 90, not 100");
    /* The same code twice. */
    rq.code = code;
    r1.percent = 100;
    assert_int_equal(
        ccip_test_send(&s_svc, STAFF, "funding.programme.create.v1", &rq.base, NULL, NULL, NULL),
        6);
    /* Roles: a grantee or a service may not set budgets. */
    Ccip__Funding__SetBudgetRequest sb = CCIP__FUNDING__SET_BUDGET_REQUEST__INIT;
    sb.programme_code = code;
    sb.year = YEAR;
    sb.budget_fen = 5;
    sb.reason = "x";
    assert_int_equal(
        ccip_test_send(&s_svc, NULL, NULL, "funding.budget.set.v1", &sb.base, NULL, NULL, NULL), 7);
    assert_int_equal(ccip_test_send(&s_svc, "grantee", "org:x", "funding.budget.set.v1", &sb.base,
                                    NULL, NULL, NULL),
                     7);

    /* A closed year takes no budget change. */
    long long rows = s_rows();
    assert_int_equal(rows, before);
    Ccip__Funding__CloseYearRequest c = CCIP__FUNDING__CLOSE_YEAR_REQUEST__INIT;
    c.programme_code = code;
    c.year = YEAR;
    c.reason = "fiscal year closed";
    ccip_test_free(ccip_test_ok(&s_svc, STAFF, "funding.year.close.v1", &c.base, NULL));
    rows = s_rows();
    assert_int_equal(s_set_budget(code, YEAR, NULL, 2000000, NULL), 9);
    ccip_test_error_has(&s_svc, "closed");
    ccip_test_error_has(&s_svc, "takes no budget changes");
    assert_int_equal(
        ccip_test_send(&s_svc, STAFF, "funding.year.close.v1", &c.base, NULL, NULL, NULL), 9);
    assert_int_equal(s_rows(), rows);
    Ccip__Funding__Budget *b = s_budget(code, YEAR);
    assert_true(b->closed);
    assert_string_equal(b->close_reason, "fiscal year closed");
    ccip_test_free(b);
}

/* ---- awards ------------------------------------------------------------------------ */

/* An approval of a special-fund project proposes one award of the
 * recommended amount (never above the request); declined, returned and
 * non-fund decisions propose none; a redelivered decision proposes nothing
 * new. */
static void test_award_from_decision(void **state)
{
    (void)state;
    char code[33];
    s_code(code);
    s_programme(code, S_PLAN_3);
    s_decision ok, declined, cluster, capped, none;
    s_decision_init(&ok, code, CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT,
                    CCIP__EVALUATION__OUTCOME__DECISION_APPROVED, 50000000, 40000000);
    s_decision_init(&declined, code, CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT,
                    CCIP__EVALUATION__OUTCOME__DECISION_DECLINED, 50000000, 0);
    s_decision_init(&cluster, code, CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                    CCIP__EVALUATION__OUTCOME__DECISION_APPROVED, 0, 0);
    s_decision_init(&capped, code, CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT,
                    CCIP__EVALUATION__OUTCOME__DECISION_APPROVED, 30000000, 90000000);
    s_decision_init(&none, code, CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT,
                    CCIP__EVALUATION__OUTCOME__DECISION_APPROVED, 20000000, 0);
    uint64_t first = s_fake_add(s_eval, &ok.d.base);
    s_fake_add(s_eval, &declined.d.base);
    s_fake_add(s_eval, &cluster.d.base);
    s_fake_add(s_eval, &capped.d.base);
    s_fake_add(s_eval, &none.d.base);
    /* The first approval again, as a producer that published it twice. */
    assert_true(ccip_test_producer_repeat(s_eval, first) > 0);
    s_fake_applied(s_eval);
    ccip_test_sleep_ms(300); /* heartbeats keep coming: nothing is applied twice */

    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM award WHERE programme_code = '%s'", code),
        3);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT amount_fen FROM award WHERE application_id = '%s'",
                                      ok.application_id),
                     40000000);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT amount_fen FROM award WHERE application_id = '%s'",
                                      capped.application_id),
                     30000000);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT amount_fen FROM award WHERE application_id = '%s'",
                                      none.application_id),
                     20000000);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM award WHERE application_id IN ('%s', '%s')",
                         declined.application_id, cluster.application_id),
        0);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM outbox WHERE type = 'funding.award.proposed.v1' "
                         "AND aggregate_id = '%s'",
                         ok.application_id),
        1);

    Ccip__Funding__GetAwardRequest g = CCIP__FUNDING__GET_AWARD_REQUEST__INIT;
    g.application_id = ok.application_id;
    Ccip__Funding__AwardReply *r =
        (Ccip__Funding__AwardReply *)ccip_test_ok(&s_svc, NULL, NULL, "funding.award.get.v1",
                                                  &g.base, &ccip__funding__award_reply__descriptor);
    assert_int_equal(r->award->status, CCIP__FUNDING__AWARD_STATUS__AWARD_PROPOSED);
    assert_int_equal(r->award->requested_fen, 50000000);
    assert_int_equal(r->award->recommended_fen, 40000000);
    assert_string_equal(r->award->grantee_uscc, ok.uscc);
    assert_string_equal(r->award->programme_code, code);
    assert_int_equal(r->award->n_tranches, 0);
    ccip_test_free(r);
}

typedef struct {
    const char *award; /* to confirm */
    int status;        /* reply status */
    char error[800];
} s_racer;

static void *s_race(void *arg)
{
    s_racer *r = arg;
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.front_keys);
    Ccip__Funding__ConfirmAwardRequest rq = CCIP__FUNDING__CONFIRM_AWARD_REQUEST__INIT;
    rq.award_id = (char *)r->award;
    rq.category = "";
    rq.note = "";
    r->status = c ? s_send_on(c, STAFF, "funding.award.confirm.v1", &rq.base, NULL, NULL, NULL,
                              r->error, sizeof r->error)
                  : -1;
    ccip_client_destroy(&c);
    return NULL;
}

/* Many confirmations at once against a budget that allows exactly some of
 * them: exactly those are committed, the others are refused with
 * "insufficient budget", and the year is never overspent. */
static void test_confirm_never_overspends(void **state)
{
    (void)state;
    char code[33];
    s_code(code);
    s_programme(code, S_PLAN_3);
    const int64_t each = 1000000; /* 10,000.00 yuan */
    const int fit = 5;
    assert_int_equal(s_set_budget(code, YEAR, NULL, fit * each + each / 2, NULL), 0);
    char awards[RACERS][37];
    for (int i = 0; i < RACERS; i++)
        s_award(code, each, each, awards[i], NULL, NULL);
    s_racer racers[RACERS];
    pthread_t threads[RACERS];
    for (int i = 0; i < RACERS; i++) {
        racers[i] = (s_racer){.award = awards[i]};
        assert_int_equal(pthread_create(&threads[i], NULL, s_race, &racers[i]), 0);
    }
    int ok = 0, refused = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(threads[i], NULL);
        if (racers[i].status == 0)
            ok++;
        else if (racers[i].status == 9 && strstr(racers[i].error, "insufficient budget"))
            refused++;
        else
            fprintf(stderr, "racer %d: status %d: %s\n", i, racers[i].status, racers[i].error);
    }
    assert_int_equal(ok, fit);
    assert_int_equal(refused, RACERS - fit);
    Ccip__Funding__Budget *b = s_budget(code, YEAR);
    assert_int_equal(b->committed_fen, fit * each);
    assert_int_equal(b->remaining_fen, each / 2);
    assert_int_equal(b->awards_committed, fit);
    assert_int_equal(b->awards_proposed, RACERS - fit);
    ccip_test_free(b);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT coalesce(sum(amount_fen), 0) FROM award WHERE "
                                      "programme_code = '%s' AND status = 'AWARD_COMMITTED'",
                                      code),
                     fit * each);
    Ccip__Funding__VerifyLedgerReply *v = s_verify();
    assert_true(v->ok);
    ccip_test_free(v);
}

/* One confirmation sent from its own client, with a chosen command id
 * (NULL: a fresh one); keeps the reply's award. */
typedef struct {
    const char *award;
    int64_t amount;
    const char *id;
    int status;
    char error[800];
    Ccip__Funding__AwardReply *reply;
} s_confirmer;

static void *s_confirm_thread(void *arg)
{
    s_confirmer *r = arg;
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.front_keys);
    Ccip__Funding__ConfirmAwardRequest rq = CCIP__FUNDING__CONFIRM_AWARD_REQUEST__INIT;
    rq.award_id = (char *)r->award;
    rq.amount_fen = r->amount;
    rq.category = "";
    rq.note = "";
    r->status = c ? s_send_on(c, STAFF, "funding.award.confirm.v1", &rq.base, r->id,
                              &ccip__funding__award_reply__descriptor,
                              (ProtobufCMessage **)&r->reply, r->error, sizeof r->error)
                  : -1;
    ccip_client_destroy(&c);
    return NULL;
}

/* 1 when the award a confirmation replied with is, field for field, the
 * award as funding.award.get.v1 reads it afterwards. */
static int s_same_as_read(const Ccip__Funding__Award *replied)
{
    Ccip__Funding__Award *read = s_get_award(STAFF, replied->id);
    size_t n1 = protobuf_c_message_get_packed_size(&replied->base);
    size_t n2 = protobuf_c_message_get_packed_size(&read->base);
    uint8_t *b1 = malloc(n1 + 1), *b2 = malloc(n2 + 1);
    protobuf_c_message_pack(&replied->base, b1);
    protobuf_c_message_pack(&read->base, b2);
    int same = n1 == n2 && memcmp(b1, b2, n1) == 0;
    free(b1);
    free(b2);
    ccip_test_free(read);
    return same;
}

/* One batch of confirmations where some fit and some do not: funding is
 * held up (the test locks the year's AVAILABLE row, so that two blocker
 * confirmations occupy both database connections) while six more arrive in
 * a known order and queue, and they then commit as one transaction. Each
 * ends as if they had run one after the other: a confirmation too large
 * for what the earlier ones left is refused with the balance it saw, a
 * smaller later one still fits, a second confirmation of an award the
 * batch committed is refused, a repeated command id gets the first one's
 * reply; refused ones leave no trace, and replies are what a read shows. */
static void test_confirm_batch_mixed(void **state)
{
    (void)state;
    char code[33];
    s_code(code);
    s_programme(code, S_PLAN_3);
    const int64_t m = 1000000; /* 10,000.00 yuan */
    assert_int_equal(s_set_budget(code, YEAR, NULL, 8 * m, NULL), 0);
    char x1[37], x2[37], a[37], big[37], c[37], f[37], dup_id[37];
    s_award(code, m, m, x1, NULL, NULL);
    s_award(code, m, m, x2, NULL, NULL);
    s_award(code, 3 * m, 3 * m, a, NULL, NULL);
    s_award(code, 5 * m, 5 * m, big, NULL, NULL);
    s_award(code, m, m, c, NULL, NULL);
    s_award(code, 2 * m, 2 * m, f, NULL, NULL);
    ccip_uuid_v7(dup_id);
    s_confirmer w[8] = {
        {.award = x1},              /* blocker: alone, fits (7 m left) */
        {.award = x2},              /* blocker: alone, fits (6 m left) */
        {.award = a},               /* fits: 3 m left */
        {.award = big},             /* 5 m does not fit in 3 m: refused */
        {.award = c, .id = dup_id}, /* 1 m fits: 2 m left */
        {.award = a},               /* committed by this batch already */
        {.award = f},               /* 2 m fits exactly: 0 left */
        {.award = c, .id = dup_id}, /* the same command again: the same reply */
    };
    unsigned long long cmds0 = 0, batches0 = 0, cmds1 = 0, batches1 = 0;
    assert_int_equal(ccip_test_ping_counts(&s_svc.env, "funding", &cmds0, &batches0), 0);
    long long entries_before = ccip_test_number(&s_svc, "SELECT count(*) FROM journal_entry");

    ccip_db *db = ccip_test_db_connect_in("funding", "funding");
    assert_non_null(db);
    char sql[256];
    snprintf(sql, sizeof sql,
             "BEGIN; SELECT 1 FROM account WHERE code = 'available:%s:%d:' FOR UPDATE", code, YEAR);
    assert_int_equal(ccip_db_command(db, sql), CCIP_DB_OK);
    pthread_t threads[8];
    for (int i = 0; i < 8; i++) {
        assert_int_equal(pthread_create(&threads[i], NULL, s_confirm_thread, &w[i]), 0);
        /* both blockers wait on the row first; then each command must reach
         * funding before the next is sent, or the order the assertions
         * below expect is not the order of the batch: 150 ms was too short
         * on a machine busy with other builds */
        ccip_test_sleep_ms(i == 1 ? 600 : 350);
    }
    ccip_test_sleep_ms(300);
    assert_int_equal(ccip_db_command(db, "COMMIT"), CCIP_DB_OK);
    ccip_db_destroy(&db);
    for (int i = 0; i < 8; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(ccip_test_ping_counts(&s_svc.env, "funding", &cmds1, &batches1), 0);

    int want[8] = {0, 0, 0, 9, 0, 9, 0, 0};
    for (int i = 0; i < 8; i++)
        if (w[i].status != want[i]) {
            fprintf(stderr, "confirmation %d: status %d, wanted %d: %s\n", i, w[i].status, want[i],
                    w[i].error);
            fail();
        }
    assert_non_null(strstr(w[3].error, "insufficient budget"));
    assert_non_null(strstr(w[3].error, "has 30000.00 yuan (3000000 fen) left"));
    assert_non_null(strstr(w[5].error, "is AWARD_COMMITTED"));
    /* The six shared one transaction (singles add as many batches as
     * commands, so this difference counts only what was batched). */
    if ((cmds1 - batches1) - (cmds0 - batches0) < 5) {
        fprintf(stderr, "commands %llu -> %llu, batches %llu -> %llu\n", cmds0, cmds1, batches0,
                batches1);
        fail_msg("the six confirmations did not share one batch");
    }
    /* Replies are the awards as they are now, in full. */
    for (int i = 0; i < 8; i++)
        if (w[i].status == 0) {
            assert_int_equal(w[i].reply->award->status,
                             CCIP__FUNDING__AWARD_STATUS__AWARD_COMMITTED);
            assert_int_equal(w[i].reply->award->n_tranches, 3);
            assert_true(s_same_as_read(w[i].reply->award));
        }
    assert_int_equal(w[7].reply->award->confirmed_at_us, w[4].reply->award->confirmed_at_us);

    Ccip__Funding__Budget *b = s_budget(code, YEAR);
    assert_int_equal(b->committed_fen, 8 * m);
    assert_int_equal(b->remaining_fen, 0);
    assert_int_equal(b->awards_committed, 5);
    assert_int_equal(b->awards_proposed, 1);
    ccip_test_free(b);
    /* Five entries, one per award committed; the refused one left no trace. */
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM journal_entry") - entries_before, 5);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM journal_entry WHERE award_id = '%s'", c), 1);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM journal_entry WHERE award_id = '%s'", big),
        0);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM tranche WHERE award_id = '%s'", big), 0);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM account WHERE award_id = '%s'", big), 0);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM award WHERE id = '%s' AND status = "
                                      "'AWARD_PROPOSED' AND confirmed_at IS NULL",
                                      big),
                     1);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM outbox WHERE type = 'funding.award.granted.v1' "
                         "AND aggregate_id IN (SELECT application_id::text FROM award WHERE "
                         "programme_code = '%s')",
                         code),
        5);
    /* Two lines per entry. */
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM journal_line l JOIN journal_entry e ON e.id = "
                         "l.entry_id WHERE e.programme_code = '%s' AND e.kind = "
                         "'ENTRY_AWARD_COMMITTED'",
                         code),
        10);
    for (int i = 0; i < 8; i++)
        ccip_test_free(w[i].reply);
    Ccip__Funding__VerifyLedgerReply *v = s_verify();
    assert_true(v->ok);
    ccip_test_free(v);
}

/* Confirming: the amount is at most the request, the programme and year
 * must exist and be open; a refusal writes nothing; the same command id
 * twice commits once. */
static void test_confirm_rules(void **state)
{
    (void)state;
    char code[33], other[33], award[37], award2[37], lost[37];
    s_code(code);
    s_code(other);
    s_programme(code, S_PLAN_3);
    assert_int_equal(s_set_budget(code, YEAR, NULL, 100000000, NULL), 0);
    s_award(code, 3000000, 2500000, award, NULL, NULL);
    s_award(code, 3000000, 2500000, award2, NULL, NULL);
    s_award(other, 3000000, 2500000, lost, NULL, NULL); /* its programme does not exist */
    long long before = s_rows();
    assert_int_equal(s_confirm(award, -1, NULL, NULL), 3);
    ccip_test_error_has(&s_svc, "field `amount_fen` must be a positive amount");
    assert_int_equal(s_confirm(award, 3000001, NULL, NULL), 3);
    ccip_test_error_has(&s_svc, "above the 30000.00 yuan the applicant requested");
    assert_int_equal(s_confirm(award, 0, "nosuch", NULL), 9);
    ccip_test_error_has(&s_svc, "has no category \"nosuch\"");
    assert_int_equal(s_confirm(lost, 0, NULL, NULL), 9);
    ccip_test_error_has(&s_svc, "there is no programme");
    assert_int_equal(s_confirm("not-a-uuid", 0, NULL, NULL), 3);
    assert_int_equal(s_rows(), before);

    char id[37];
    ccip_uuid_v7(id);
    assert_int_equal(s_confirm(award, 2800000, NULL, id), 0);
    assert_int_equal(s_confirm(award, 2800000, NULL, id), 0); /* the stored reply */
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM journal_entry WHERE award_id = '%s'", award),
        1);
    assert_int_equal(s_confirm(award, 0, NULL, NULL), 9); /* a new id: not proposed any more */
    ccip_test_error_has(&s_svc, "is AWARD_COMMITTED");
    Ccip__Funding__Award *w = s_get_award(STAFF, award);
    assert_int_equal(w->amount_fen, 2800000);
    assert_int_equal(w->n_tranches, 3);
    assert_int_equal(w->tranches[0]->amount_fen, 1400000);
    assert_int_equal(w->tranches[1]->amount_fen, 840000);
    assert_int_equal(w->tranches[2]->amount_fen, 560000);
    ccip_test_free(w);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM outbox WHERE type = 'funding.award.granted.v1' "
                         "AND payload IS NOT NULL AND aggregate_type = 'application' AND "
                         "aggregate_id = (SELECT application_id::text FROM award WHERE id = "
                         "'%s')",
                         award),
        1);

    /* The budget cannot be lowered below what is committed. */
    assert_int_equal(s_set_budget(code, YEAR, NULL, 2000000, "cut"), 9);
    ccip_test_error_has(&s_svc, "the lowest it can be set to is 28000.00 yuan");

    /* A closed year takes no new commitment. */
    Ccip__Funding__CloseYearRequest c = CCIP__FUNDING__CLOSE_YEAR_REQUEST__INIT;
    c.programme_code = code;
    c.year = YEAR;
    c.reason = "closed";
    ccip_test_free(ccip_test_ok(&s_svc, STAFF, "funding.year.close.v1", &c.base, NULL));
    before = s_rows();
    assert_int_equal(s_confirm(award2, 0, NULL, NULL), 9);
    ccip_test_error_has(&s_svc, "closed");
    assert_int_equal(s_rows(), before);
    /* Rejecting a proposal needs a reason. */
    assert_int_equal(s_award_action("reject", award2, ""), 3);
    assert_int_equal(s_award_action("reject", award2, "the office's conditions were not met"), 0);
}

/* ---- tranches and payments ------------------------------------------------------- */

/* A tranche is paid only when its condition holds, in order, never while
 * the award is suspended; the error names the missing condition; above the
 * four-eyes amount two different approvers are needed; paid tranches
 * publish funding.disbursement.paid.v1. */
static void test_tranches_and_payments(void **state)
{
    (void)state;
    char code[33], award[37], uscc[19], app[37], payment[37], small[37];
    s_code(code);
    s_programme(code, S_PLAN_3);
    assert_int_equal(s_set_budget(code, YEAR, NULL, 100000000, NULL), 0);
    s_award(code, 3000001, 3000001, award, uscc, app);
    assert_int_equal(s_confirm(award, 0, NULL, NULL), 0);
    Ccip__Funding__Award *w = s_get_award(STAFF, award);
    /* 3,000,001 fen split 50/30/20: the last takes the remainder fen. */
    assert_int_equal(w->tranches[0]->amount_fen, 1500000);
    assert_int_equal(w->tranches[1]->amount_fen, 900000);
    assert_int_equal(w->tranches[2]->amount_fen, 600001);
    assert_false(w->tranches[0]->condition_met);
    ccip_test_free(w);

    assert_int_equal(s_request(award, 1, NULL), 9);
    ccip_test_error_has(&s_svc, "its condition AGREEMENT_SIGNED does not hold");
    assert_int_equal(s_request(award, 4, NULL), 3);
    assert_int_equal(s_award_action("sign", award, "signed in the office"), 0);
    assert_int_equal(s_request(award, 2, NULL), 9);
    ccip_test_error_has(&s_svc, "cannot be paid before tranche 1");

    /* 15,000.00 yuan is above the four-eyes amount: two approvers. */
    assert_int_equal(s_request(award, 1, payment), 0);
    assert_int_equal(s_request(award, 1, NULL), 9); /* one pending request per tranche */
    int paid = -1;
    assert_int_equal(s_approve(STAFF, payment, NULL), 7); /* staff do not approve */
    assert_int_equal(s_approve(FINANCE_A, payment, &paid), 0);
    assert_false(paid);
    /* The first approval said that the second waits (notify's item for
     * finance), in its own transaction; the refused repeat below says it
     * again nowhere. */
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'funding.payment.approved.v1' AND aggregate_id = '%s'",
                                      app),
                     1);
    assert_int_equal(s_approve(FINANCE_A, payment, NULL), 7);
    ccip_test_error_has(&s_svc, "two different approvers");
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'funding.payment.approved.v1' AND aggregate_id = '%s'",
                                      app),
                     1);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'funding.disbursement.paid.v1' AND aggregate_id = '%s'",
                                      app),
                     0);
    assert_int_equal(s_approve(FINANCE_B, payment, &paid), 0);
    assert_true(paid);
    assert_int_equal(s_approve(FINANCE_B, payment, NULL), 9); /* paid: nothing to approve */
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'funding.disbursement.paid.v1' AND aggregate_id = '%s'",
                                      app),
                     1);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM payment WHERE id = '%s' AND first_approver = "
                         "'finance-wang' AND second_approver = 'finance-zhao'",
                         payment),
        1);

    /* Tranche 2 waits for a compliant mid-term inspection. */
    assert_int_equal(s_request(award, 2, NULL), 9);
    ccip_test_error_has(&s_svc, "MIDTERM_INSPECTION_PASSED");
    assert_int_equal(s_inspect(award, CCIP__FUNDING__INSPECTION_KIND__MIDTERM,
                               CCIP__FUNDING__FINDING__ISSUES, 0, NULL),
                     0);
    assert_int_equal(s_request(award, 2, NULL), 9); /* issues are not a pass */
    assert_int_equal(s_inspect(award, CCIP__FUNDING__INSPECTION_KIND__MIDTERM,
                               CCIP__FUNDING__FINDING__COMPLIANT, 0, NULL),
                     0);
    /* Suspended: no payment, whatever the condition. */
    assert_int_equal(s_award_action("suspend", award, "audit of the accounts"), 0);
    assert_int_equal(s_request(award, 2, NULL), 9);
    ccip_test_error_has(&s_svc, "the award is suspended");
    assert_int_equal(s_award_action("resume", award, "audit closed"), 0);
    s_pay(award, 2);
    assert_int_equal(s_request(award, 3, NULL), 9);
    ccip_test_error_has(&s_svc, "FINAL_REPORT_ACCEPTED");

    /* A pending request is cancelled by a suspension: approving it then
     * fails, naming the suspension. */
    char award2[37], p2[37];
    s_award(code, 1000000, 1000000, award2, NULL, NULL);
    assert_int_equal(s_confirm(award2, 0, NULL, NULL), 0);
    assert_int_equal(s_award_action("sign", award2, ""), 0);
    assert_int_equal(s_request(award2, 1, p2), 0);
    assert_int_equal(s_award_action("suspend", award2, "complaint received"), 0);
    assert_int_equal(s_approve(FINANCE_A, p2, NULL), 9);
    ccip_test_error_has(&s_svc, "cancelled");

    /* Below the four-eyes amount one approval pays, and nothing waits for
     * a second. */
    char small_app[37];
    s_award(code, 10000, 10000, small, NULL, small_app);
    assert_int_equal(s_confirm(small, 0, NULL, NULL), 0);
    assert_int_equal(s_award_action("sign", small, ""), 0);
    assert_int_equal(s_request(small, 1, payment), 0);
    assert_int_equal(s_approve(FINANCE_A, payment, &paid), 0);
    assert_true(paid);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'funding.payment.approved.v1' AND aggregate_id = '%s'",
                                      small_app),
                     0);
    /* Each scheduled inspection said it was due, with its date. */
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM outbox WHERE type = "
                         "'funding.inspection.scheduled.v1' AND aggregate_id = '%s'",
                         app),
        ccip_test_number(&s_svc, "SELECT count(*) FROM inspection WHERE award_id = '%s'", award));
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM inspection WHERE award_id = '%s'", award),
        2);

    Ccip__Funding__Budget *b = s_budget(code, YEAR);
    assert_int_equal(b->disbursed_fen, 1500000 + 900000 + 5000);
    ccip_test_free(b);
    Ccip__Funding__VerifyLedgerReply *v = s_verify();
    assert_true(v->ok);
    ccip_test_free(v);
}

/* ---- use-of-funds reports ---------------------------------------------------------- */

static int s_save_report(const char *actor, const char *award, const char *report,
                         Ccip__Funding__ReportKind kind, char id[37])
{
    Ccip__Funding__SaveReportRequest rq = CCIP__FUNDING__SAVE_REPORT_REQUEST__INIT;
    rq.award_id = (char *)award;
    rq.report_id = (char *)(report ? report : "");
    rq.kind = kind;
    rq.period = "2027 H1";
    rq.progress = "Workshop built;\nfirst two exhibitions held.";
    Ccip__Funding__SpendLine l1 = CCIP__FUNDING__SPEND_LINE__INIT, l2 = l1, *lines[2] = {&l1, &l2};
    l1.item = "equipment";
    l1.spent_fen = 800000;
    l2.item = "staff";
    l2.spent_fen = 250050;
    rq.lines = lines;
    rq.n_lines = 2;
    Ccip__Funding__ReportDocument d = CCIP__FUNDING__REPORT_DOCUMENT__INIT, *docs[1] = {&d};
    d.name = "receipts.pdf";
    d.sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    rq.documents = docs;
    rq.n_documents = 1;
    Ccip__Funding__UseReportReply *r = NULL;
    int status =
        ccip_test_send(&s_svc, "grantee", actor, "funding.report.save.v1", &rq.base, NULL,
                       &ccip__funding__use_report_reply__descriptor, (ProtobufCMessage **)&r);
    if (status == 0 && id)
        snprintf(id, 37, "%s", r->report->id);
    if (status == 0)
        assert_int_equal(r->report->spent_fen, 1050050);
    ccip_test_free(r);
    return status;
}

static int s_report_act(const char *role, const char *actor, const char *verb, const char *report,
                        const char *note)
{
    char type[64];
    snprintf(type, sizeof type, "funding.report.%s.v1", verb);
    Ccip__Funding__ReportActionRequest rq = CCIP__FUNDING__REPORT_ACTION_REQUEST__INIT;
    rq.report_id = (char *)report;
    rq.note = (char *)(note ? note : "");
    return ccip_test_send(&s_svc, role, actor, type, &rq.base, NULL, NULL, NULL);
}

/* A grantee files reports on its own award only; a submitted report is
 * locked until staff return it; an accepted final report lets the last
 * tranche be paid. */
static void test_use_of_funds_reports(void **state)
{
    (void)state;
    char code[33], award[37], uscc[19], actor[24], other[24], other_uscc[19], report[37],
        final_report[37];
    s_code(code);
    static const char *const plan[] = {"60:AGREEMENT_SIGNED", "40:FINAL_REPORT_ACCEPTED", NULL};
    s_programme(code, plan);
    assert_int_equal(s_set_budget(code, YEAR, NULL, 100000000, NULL), 0);
    s_award(code, 2000000, 2000000, award, uscc, NULL);
    snprintf(actor, sizeof actor, "org:%s", uscc);
    ccip_test_uscc("110108", other_uscc);
    snprintf(other, sizeof other, "org:%s", other_uscc);
    /* Not before the award is confirmed. */
    assert_int_equal(s_save_report(actor, award, NULL, CCIP__FUNDING__REPORT_KIND__INTERIM, NULL),
                     9);
    assert_int_equal(s_confirm(award, 0, NULL, NULL), 0);
    assert_int_equal(s_save_report(other, award, NULL, CCIP__FUNDING__REPORT_KIND__INTERIM, NULL),
                     7);
    assert_int_equal(s_save_report(actor, award, NULL, CCIP__FUNDING__REPORT_KIND__INTERIM, report),
                     0);
    assert_int_equal(s_save_report(actor, award, report, CCIP__FUNDING__REPORT_KIND__INTERIM, NULL),
                     0);
    assert_int_equal(s_report_act("grantee", other, "submit", report, NULL), 7);
    assert_int_equal(s_report_act("grantee", actor, "submit", report, NULL), 0);
    /* Locked: neither the grantee nor direct SQL can change it. */
    assert_int_equal(s_save_report(actor, award, report, CCIP__FUNDING__REPORT_KIND__INTERIM, NULL),
                     9);
    ccip_test_error_has(&s_svc, "locked");
    assert_int_equal(
        ccip_test_number(
            &s_svc,
            "WITH d AS (DELETE FROM use_report_line WHERE report_id = '%s' RETURNING 1) "
            "SELECT count(*) FROM d",
            report),
        -1);
    assert_int_equal(s_report_act(STAFF, "return", report, ""), 3); /* a return needs a note */
    assert_int_equal(s_report_act(STAFF, "return", report, "add the bank statements"), 0);
    assert_int_equal(s_save_report(actor, award, report, CCIP__FUNDING__REPORT_KIND__INTERIM, NULL),
                     0);
    assert_int_equal(s_report_act("grantee", actor, "submit", report, NULL), 0);
    assert_int_equal(s_report_act(STAFF, "accept", report, "complete"), 0);
    assert_int_equal(s_report_act(STAFF, "accept", report, "again"), 9);

    /* The grantee sees its own award, not another's. */
    Ccip__Funding__Award *w = s_get_award("grantee", actor, award);
    assert_int_equal(w->n_reports, 1);
    assert_int_equal(w->reports[0]->status, CCIP__FUNDING__REPORT_STATUS__REPORT_ACCEPTED);
    assert_int_equal(w->reports[0]->submissions, 2);
    ccip_test_free(w);
    Ccip__Funding__GetAwardRequest g = CCIP__FUNDING__GET_AWARD_REQUEST__INIT;
    g.award_id = award;
    assert_int_equal(
        ccip_test_send(&s_svc, "grantee", other, "funding.award.get.v1", &g.base, NULL, NULL, NULL),
        7);
    Ccip__Funding__ListAwardsRequest l = CCIP__FUNDING__LIST_AWARDS_REQUEST__INIT;
    Ccip__Funding__ListAwardsReply *lr = (Ccip__Funding__ListAwardsReply *)ccip_test_ok(
        &s_svc, "grantee", other, "funding.award.list.v1", &l.base,
        &ccip__funding__list_awards_reply__descriptor);
    assert_int_equal(lr->n_awards, 0);
    ccip_test_free(lr);

    /* The final report gates the last tranche. */
    assert_int_equal(s_award_action("sign", award, ""), 0);
    s_pay(award, 1);
    assert_int_equal(s_request(award, 2, NULL), 9);
    ccip_test_error_has(&s_svc, "FINAL_REPORT_ACCEPTED");
    assert_int_equal(
        s_save_report(actor, award, NULL, CCIP__FUNDING__REPORT_KIND__FINAL, final_report), 0);
    assert_int_equal(s_report_act("grantee", actor, "submit", final_report, NULL), 0);
    assert_int_equal(s_report_act(STAFF, "accept", final_report, "final accounts in order"), 0);
    s_pay(award, 2);
    w = s_get_award(STAFF, award);
    assert_int_equal(w->status, CCIP__FUNDING__AWARD_STATUS__AWARD_COMPLETED);
    assert_int_equal(w->disbursed_fen, 2000000);
    ccip_test_free(w);
}

/* ---- inspections and clawback -------------------------------------------------------- */

/* Misuse suspends the remaining tranches and orders a clawback; the events
 * are published; recoveries are recorded until the clawback is recovered. */
static void test_misuse_and_clawback(void **state)
{
    (void)state;
    char code[33], award[37], app[37], clawback[37];
    s_code(code);
    s_programme(code, S_PLAN_3);
    assert_int_equal(s_set_budget(code, YEAR, NULL, 100000000, NULL), 0);
    s_award(code, 2000000, 2000000, award, NULL, app);
    assert_int_equal(s_confirm(award, 0, NULL, NULL), 0);
    assert_int_equal(s_award_action("sign", award, ""), 0);
    s_pay(award, 1); /* 1,000,000 fen paid */

    /* More than was paid cannot be clawed back. */
    assert_int_equal(s_inspect(award, CCIP__FUNDING__INSPECTION_KIND__AD_HOC,
                               CCIP__FUNDING__FINDING__MISUSE, 1000001, NULL),
                     3);
    ccip_test_error_has(&s_svc, "field `misused_fen`");
    assert_int_equal(s_inspect(award, CCIP__FUNDING__INSPECTION_KIND__AD_HOC,
                               CCIP__FUNDING__FINDING__MISUSE, 300000, clawback),
                     0);
    assert_true(ccip_uuid_valid(clawback));
    Ccip__Funding__Award *w = s_get_award(STAFF, award);
    assert_int_equal(w->status, CCIP__FUNDING__AWARD_STATUS__AWARD_SUSPENDED);
    assert_int_equal(w->tranches[0]->status, CCIP__FUNDING__TRANCHE_STATUS__TRANCHE_PAID);
    assert_int_equal(w->tranches[1]->status, CCIP__FUNDING__TRANCHE_STATUS__TRANCHE_SUSPENDED);
    assert_int_equal(w->tranches[2]->status, CCIP__FUNDING__TRANCHE_STATUS__TRANCHE_SUSPENDED);
    assert_int_equal(w->clawed_back_fen, 300000);
    assert_int_equal(w->n_clawbacks, 1);
    /* The refused recording left its inspection scheduled, without a finding. */
    assert_int_equal(w->n_inspections, 2);
    assert_int_equal(w->inspections[0]->finding, CCIP__FUNDING__FINDING__FINDING_UNSPECIFIED);
    assert_int_equal(w->inspections[1]->finding, CCIP__FUNDING__FINDING__MISUSE);
    ccip_test_free(w);
    const char *types[] = {"funding.inspection.recorded.v1", "funding.award.suspended.v1",
                           "funding.clawback.ordered.v1"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(ccip_test_number(&s_svc,
                                          "SELECT count(*) FROM outbox WHERE type = '%s' AND "
                                          "aggregate_id = '%s'",
                                          types[i], app),
                         1);
    assert_int_equal(s_request(award, 2, NULL), 9);
    ccip_test_error_has(&s_svc, "suspended");

    Ccip__Funding__RecoverRequest rv = CCIP__FUNDING__RECOVER_REQUEST__INIT;
    rv.clawback_id = clawback;
    rv.amount_fen = 300001;
    rv.reference = "BANK-REF-1";
    assert_int_equal(ccip_test_send(&s_svc, FINANCE_A, "funding.clawback.recover.v1", &rv.base,
                                    NULL, NULL, NULL),
                     3);
    rv.amount_fen = 0;
    assert_int_equal(ccip_test_send(&s_svc, FINANCE_A, "funding.clawback.recover.v1", &rv.base,
                                    NULL, NULL, NULL),
                     3);
    rv.amount_fen = 100000;
    ccip_test_free(ccip_test_ok(&s_svc, FINANCE_A, "funding.clawback.recover.v1", &rv.base, NULL));
    rv.amount_fen = 200000;
    rv.reference = "BANK-REF-2";
    Ccip__Funding__ClawbackReply *cr = (Ccip__Funding__ClawbackReply *)ccip_test_ok(
        &s_svc, FINANCE_A, "funding.clawback.recover.v1", &rv.base,
        &ccip__funding__clawback_reply__descriptor);
    assert_int_equal(cr->clawback->status, CCIP__FUNDING__CLAWBACK_STATUS__CLAWBACK_RECOVERED);
    assert_int_equal(cr->clawback->n_recoveries, 2);
    ccip_test_free(cr);
    assert_int_equal(ccip_test_send(&s_svc, FINANCE_A, "funding.clawback.recover.v1", &rv.base,
                                    NULL, NULL, NULL),
                     9);

    Ccip__Funding__Budget *b = s_budget(code, YEAR);
    assert_int_equal(b->disbursed_fen, 1000000);
    assert_int_equal(b->clawed_back_fen, 300000);
    assert_int_equal(b->recovered_fen, 300000);
    assert_int_equal(b->committed_fen, 2000000);
    ccip_test_free(b);

    /* Terminating releases what was not paid back to the budget. */
    assert_int_equal(s_award_action("terminate", award, "misuse confirmed"), 0);
    b = s_budget(code, YEAR);
    assert_int_equal(b->committed_fen, 1000000);
    assert_int_equal(b->remaining_fen, 99000000);
    ccip_test_free(b);
    w = s_get_award(STAFF, award);
    assert_int_equal(w->status, CCIP__FUNDING__AWARD_STATUS__AWARD_TERMINATED);
    assert_int_equal(w->tranches[1]->status, CCIP__FUNDING__TRANCHE_STATUS__TRANCHE_CANCELLED);
    ccip_test_free(w);
    Ccip__Funding__VerifyLedgerReply *v = s_verify();
    assert_true(v->ok);
    ccip_test_free(v);
}

/* ---- the ledger ------------------------------------------------------------------------ */

/* Every entry balances (the database refuses one that does not), balances
 * are derived from the journal, and verify finds a corrupted balance. */
static void test_ledger_verify(void **state)
{
    (void)state;
    char code[33];
    s_code(code);
    s_programme(code, S_PLAN_3);
    assert_int_equal(s_set_budget(code, YEAR, NULL, 7700, NULL), 0);
    Ccip__Funding__VerifyLedgerReply *v = s_verify();
    assert_true(v->ok);
    assert_true(v->entries >= 1);
    ccip_test_free(v);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM (SELECT entry_id FROM journal_line GROUP BY "
                                 "entry_id HAVING sum(amount_fen) <> 0) x"),
        0);

    /* An unbalanced entry is refused when its transaction commits. */
    long long entries = ccip_test_number(&s_svc, "SELECT count(*) FROM journal_entry");
    assert_int_equal(
        ccip_test_number(
            &s_svc,
            "WITH e AS (INSERT INTO journal_entry (kind, programme_code, year, actor_id, "
            "actor_role) VALUES ('ENTRY_BUDGET_ALLOCATED', '%s', %d, 'x', 'x') RETURNING id) "
            "INSERT INTO journal_line (entry_id, account_id, amount_fen) SELECT e.id, a.id, "
            "5 FROM e, account a WHERE a.code = 'available:%s:%d:' RETURNING 1",
            code, YEAR, code, YEAR),
        -1);
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM journal_entry"), entries);
    /* Lines are append-only. */
    assert_int_equal(
        ccip_test_number(&s_svc, "WITH u AS (UPDATE journal_line SET amount_fen = amount_fen + 1 "
                                 "WHERE id = (SELECT max(id) FROM journal_line) RETURNING 1) "
                                 "SELECT count(*) FROM u"),
        -1);

    /* A corrupted balance is found and named. */
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "WITH u AS (UPDATE account SET balance_fen = balance_fen + 13 "
                         "WHERE code = 'available:%s:%d:' RETURNING 1) SELECT count(*) FROM u",
                         code, YEAR),
        1);
    v = s_verify();
    assert_false(v->ok);
    char want[64];
    snprintf(want, sizeof want, "available:%s:%d:", code, YEAR);
    int found = 0;
    for (size_t i = 0; i < v->n_accounts_mismatched; i++)
        if (strcmp(v->accounts_mismatched[i]->account, want) == 0) {
            found = 1;
            assert_int_equal(v->accounts_mismatched[i]->stored_fen, 7713);
            assert_int_equal(v->accounts_mismatched[i]->journal_fen, 7700);
        }
    assert_true(found);
    ccip_test_free(v);
    /* So is a budget figure that disagrees with its appropriation. */
    assert_int_equal(ccip_test_number(&s_svc,
                                      "WITH u AS (UPDATE budget_year SET budget_fen = 1 WHERE "
                                      "programme_code = '%s' RETURNING 1) SELECT count(*) FROM u",
                                      code),
                     1);
    v = s_verify();
    found = 0;
    for (size_t i = 0; i < v->n_figures_mismatched; i++)
        found += strstr(v->figures_mismatched[i]->what, code) != NULL;
    assert_int_equal(found, 1);
    ccip_test_free(v);
    /* Repair, so that the other tests' verifications stay clean. */
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "WITH u AS (UPDATE account SET balance_fen = balance_fen - 13 "
                         "WHERE code = 'available:%s:%d:' RETURNING 1) SELECT count(*) FROM u",
                         code, YEAR),
        1);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "WITH u AS (UPDATE budget_year SET budget_fen = 7700 WHERE "
                                      "programme_code = '%s' RETURNING 1) SELECT count(*) FROM u",
                                      code),
                     1);
    v = s_verify();
    assert_true(v->ok);
    ccip_test_free(v);
}

/* ---- ccipctl --------------------------------------------------------------------------- */

/* The walk-through staff and finance do with ccipctl: a programme and its
 * budget, an approved project confirmed and its first tranche paid, the
 * staff report as a table, JSON and CSV, and the ledger verified. */
static void test_ccipctl(void **state)
{
    (void)state;
    static char out[65536];
    char code[33], award[64], payment[64], line[256];
    s_code(code);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "funding --help"), 0);
    assert_non_null(strstr(out, "budget set"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "funding budget set 2>/dev/null"), 2);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role staff --actor staff-li funding programme create %s --name "
                      "'Creative fund' --tranche 50:AGREEMENT_SIGNED:on-signing --tranche "
                      "30:midterm_inspection_passed --tranche 20:FINAL_REPORT_ACCEPTED",
                      code),
        0);
    assert_non_null(strstr(out, "50% on AGREEMENT_SIGNED"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-li funding budget set %s 2027 "
                                   "1000000.00 --reason 'appropriation 2027'",
                                   code),
                     0);
    assert_non_null(strstr(out, "1000000.00"));
    /* Refused by the service: exit code 1 and the sentence. */
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role staff --actor staff-li funding budget set %s 2027 5 2>&1", code),
        1);
    assert_non_null(strstr(out, "field `reason`"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-li funding budget set %s 2027 -5 "
                                   "--reason x 2>&1",
                                   code),
                     1);

    s_award(code, 30000000, 20000050, award, NULL, NULL);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role staff --actor staff-li funding award list --csv --programme %s",
                      code),
        0);
    assert_non_null(strstr(out, "award,application,programme"));
    assert_non_null(strstr(out, "AWARD_PROPOSED"));
    assert_non_null(strstr(out, "200000.50"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--json --role staff --actor staff-li funding award confirm %s "
                                   "--note 'as recommended'",
                                   award),
                     0);
    assert_non_null(strstr(out, "\"status\":\"AWARD_COMMITTED\""));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-li funding award sign %s", award),
                     0);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--json --role staff --actor staff-li funding payment request %s 1", award),
        0);
    ccip_test_json_value(out, "id", payment, sizeof payment);
    assert_true(ccip_uuid_valid(payment));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role finance --actor finance-wang funding payment approve %s "
                                   "--ref T-1",
                                   payment),
                     0);
    assert_non_null(strstr(out, "PAYMENT_PENDING")); /* 100,000.25 yuan: four eyes */
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role finance --actor finance-wang funding payment approve %s 2>&1",
                      payment),
        1);
    assert_non_null(strstr(out, "PERMISSION_DENIED"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role finance --actor finance-zhao funding payment approve %s "
                                   "--ref T-1",
                                   payment),
                     0);
    assert_non_null(strstr(out, "PAYMENT_PAID"));

    /* The staff report: a table, JSON and one CSV table. */
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-li funding summary %s 2027", code),
                     0);
    assert_non_null(strstr(out, "disbursed"));
    assert_non_null(strstr(out, "100000.25"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--json --role staff --actor staff-li funding summary %s 2027",
                                   code),
                     0);
    assert_non_null(strstr(out, "\"disbursed_fen\":10000025"));
    assert_non_null(strstr(out, "\"committed_fen\":20000050"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-li funding summary %s 2027 --csv",
                                   code),
                     0);
    snprintf(line, sizeof line,
             "year,%s,2027,,open,1000000.00,200000.50,100000.25,0.00,0.00,"
             "799999.50",
             code);
    assert_non_null(strstr(out, line));
    assert_non_null(strstr(out, "kind,programme,year,id,status"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-li funding award show %s --csv",
                                   award),
                     0);
    assert_non_null(strstr(out, ",1,50,100000.25,AGREEMENT_SIGNED,true,TRANCHE_PAID,"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-li funding journal --award %s --csv",
                                   award),
                     0);
    assert_non_null(strstr(out, "ENTRY_AWARD_COMMITTED"));
    assert_non_null(strstr(out, "ENTRY_TRANCHE_DISBURSED"));

    /* The ledger verifies: exit 0; corrupted: exit 1 and the account named. */
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out, "--role staff --actor staff-li funding verify"), 0);
    assert_non_null(strstr(out, "ledger verifies"));
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "WITH u AS (UPDATE account SET balance_fen = balance_fen + 1 "
                         "WHERE code = 'disbursed:%s' RETURNING 1) SELECT count(*) FROM u",
                         award),
        1);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out, "--role staff --actor staff-li funding verify"), 1);
    assert_non_null(strstr(out, "DOES NOT VERIFY"));
    assert_non_null(strstr(out, award));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--json --role staff --actor staff-li funding verify"),
                     1);
    assert_non_null(strstr(out, "\"ok\":false"));
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "WITH u AS (UPDATE account SET balance_fen = balance_fen - 1 "
                         "WHERE code = 'disbursed:%s' RETURNING 1) SELECT count(*) FROM u",
                         award),
        1);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out, "--role staff --actor staff-li funding verify"), 0);
}

/* ---- ip disputes ------------------------------------------------------------------------ */

/* An upheld ip dispute on a work a project uses holds the award's
 * tranches: no request and no approval, and the error names the dispute
 * and the work; other awards are not affected. */
static void test_ip_dispute_holds_tranches(void **state)
{
    (void)state;
    char code[33], award[37], other[37], work[37], dispute[37], payment[37];
    s_code(code);
    static const char *const plan[] = {"50:AGREEMENT_SIGNED", "50:AGREEMENT_SIGNED", NULL};
    s_programme(code, plan);
    assert_int_equal(s_set_budget(code, YEAR, NULL, 100000000, NULL), 0);
    s_award(code, 2000000, 2000000, award, NULL, NULL);
    s_award(code, 2000000, 2000000, other, NULL, NULL);
    for (int i = 0; i < 2; i++) {
        const char *id = i ? other : award;
        assert_int_equal(s_confirm(id, 0, NULL, NULL), 0);
        assert_int_equal(s_award_action("sign", id, ""), 0);
    }
    ccip_uuid_v7(work);
    ccip_uuid_v7(dispute);
    Ccip__Funding__LinkWorkRequest lw = CCIP__FUNDING__LINK_WORK_REQUEST__INIT;
    lw.award_id = award;
    lw.work_id = "not-a-work";
    assert_int_equal(
        ccip_test_send(&s_svc, STAFF, "funding.award.link_work.v1", &lw.base, NULL, NULL, NULL), 3);
    lw.work_id = work;
    ccip_test_free(ccip_test_ok(&s_svc, STAFF, "funding.award.link_work.v1", &lw.base, NULL));
    assert_int_equal(s_request(award, 1, payment), 0); /* not held yet */

    Ccip__Ip__DisputeRuled d = CCIP__IP__DISPUTE_RULED__INIT;
    d.dispute_id = dispute;
    d.work_id = work;
    d.ruling = CCIP__IP__RULING__UPHOLD;
    d.reasons = "the design copies a registered work";
    s_fake_add(s_ip, &d.base);
    s_fake_applied(s_ip);

    assert_int_equal(s_approve(FINANCE_A, payment, NULL), 9);
    ccip_test_error_has(&s_svc, "held because ip dispute");
    ccip_test_error_has(&s_svc, work);
    Ccip__Funding__CancelPaymentRequest c = CCIP__FUNDING__CANCEL_PAYMENT_REQUEST__INIT;
    c.payment_id = payment;
    c.reason = "held by the ip dispute";
    ccip_test_free(ccip_test_ok(&s_svc, STAFF, "funding.payment.cancel.v1", &c.base, NULL));
    /* The cancellation is said (it settles a second approval waiting), with
     * the payment as it now stands. */
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'funding.payment.cancelled.v1' AND aggregate_id = (SELECT "
                                      "application_id::text FROM award WHERE id = '%s')",
                                      award),
                     1);
    assert_int_equal(s_request(award, 1, NULL), 9);
    ccip_test_error_has(&s_svc, dispute);
    Ccip__Funding__Award *w = s_get_award(STAFF, award);
    assert_non_null(strstr(w->ip_hold, dispute));
    assert_int_equal(w->n_work_ids, 1);
    assert_string_equal(w->work_ids[0], work);
    ccip_test_free(w);
    s_pay(other, 1); /* not linked to the work */

    /* ip lifts the freeze (the ruling was overturned): the hold is released,
     * kept with its reason, and the tranche can be requested again. */
    d.reasons = "the appeal board overturned the ruling";
    assert_true(ccip_test_producer_add(s_ip, "ip.dispute.lifted.v1", "dispute", dispute, &d.base,
                                       "staff-wu", "staff") > 0);
    s_fake_applied(s_ip);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM work_hold WHERE dispute_id = '%s' AND "
                                      "released_at IS NOT NULL AND release_reasons = '%s'",
                                      dispute, d.reasons),
                     1);
    w = s_get_award(STAFF, award);
    assert_string_equal(w->ip_hold, "");
    ccip_test_free(w);
    assert_int_equal(s_request(award, 1, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_programmes_and_budgets),
        cmocka_unit_test(test_bad_input_writes_nothing),
        cmocka_unit_test(test_award_from_decision),
        cmocka_unit_test(test_confirm_never_overspends),
        cmocka_unit_test(test_confirm_rules),
        cmocka_unit_test(test_confirm_batch_mixed),
        cmocka_unit_test(test_tranches_and_payments),
        cmocka_unit_test(test_use_of_funds_reports),
        cmocka_unit_test(test_misuse_and_clawback),
        cmocka_unit_test(test_ledger_verify),
        cmocka_unit_test(test_ip_dispute_holds_tranches),
        cmocka_unit_test(test_ccipctl),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
