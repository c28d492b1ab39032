/*
 * The followup service end to end: the real bus and followup processes,
 * real PostgreSQL, commands through the front door with a person's role
 * (as ccipctl sends them). What funding, evaluation and ip publish comes
 * from stand-in producers (tests/support/ccip_test_producer.h) that answer
 * replay and heartbeats like real relays, with payloads built as those
 * services build them (proto/ccip/{funding,evaluation,ip}.proto): the
 * followup consumer takes the same path as from the real services, and
 * the test does not need a programme, a budget, an approved application
 * and four-eyes payments to make an award suspend.
 *
 * One test per rule of issue 17, then the rest of what the service does.
 * Every test makes its own tasks and projects (fresh titles, owners and
 * ids), so the tests may run in any order against a database that has
 * seen earlier runs. Time passing is simulated where a rule needs it (a
 * deadline already missed) by moving the row's due time back with SQL,
 * as role ccip_followup: the one thing the service cannot be asked to do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip/evaluation.pb-c.h"
#include "ccip/followup.pb-c.h"
#include "ccip/funding.pb-c.h"
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
#include "followup_rules.h"

#define OFFICE   "office", "office-chen"
#define ADMIN    "admin", "admin-zhou"
#define STAFF    "staff", "staff-li"
#define STAFF2   "staff", "staff-wang"
#define CHAOYANG "district", "district:110105"
#define HAIDIAN  "district", "district:110108"
#define DAY_US   FOLLOWUP_DAY_US
#define SWEEPERS 8 /* staff sweeping at once in the sweep test */

static ccip_test_svc s_svc; /* the bus, followup, the clients, the last reply's sentence */
static ccip_test_producer *s_funding, *s_evaluation, *s_ip;

/* ---- helpers ------------------------------------------------------------------- */

static void s_fail_with_logs(const char *what)
{
    ccip_test_fail(&s_svc, what);
}

/* A fresh, valid unified social credit code, different in every call and run. */
static void s_uscc(char out[CCIP_USCC_LEN + 1])
{
    ccip_test_uscc("110105", out);
}

/* A title no earlier run used. */
static const char *s_title(const char *what)
{
    static char buf[8][160];
    static int n;
    char *b = buf[n % 8];
    snprintf(b, 160, "%s %lx-%d-%d", what, (unsigned long)time(NULL), (int)getpid(), ++n);
    return b;
}

/* Today in Beijing plus `days`, as "YYYY-MM-DD" (rotating buffers). */
static const char *s_day(int days)
{
    static char buf[8][16];
    static int n;
    char *b = buf[n++ % 8];
    followup_day d = followup_day_of_us(ccip_now_us());
    followup_day_format(followup_day_from_number(followup_day_number(d) + days), b, 16);
    return b;
}

/* This month in Beijing, "YYYY-MM". */
static const char *s_this_month(void)
{
    static char buf[16];
    followup_month_format(followup_month_of(followup_day_of_us(ccip_now_us())), buf, sizeof buf);
    return buf;
}

static int s_this_year(void)
{
    return followup_day_of_us(ccip_now_us()).year;
}

/* Sends `type` to followup as (role, actor) through the front door, or
 * with the plain service key when role is NULL. Returns the reply's status
 * (sentence in s_svc.error) or -1 when no reply came; *out is the decoded
 * reply when OK and desc is given. */
static int s_send(const char *role, const char *actor, const char *type,
                  const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc,
                  ProtobufCMessage **out)
{
    return ccip_test_send(&s_svc, role, actor, type, msg, NULL, desc, out);
}

/* s_send that must succeed; returns the decoded reply (NULL without desc). */
static ProtobufCMessage *s_ok(const char *role, const char *actor, const char *type,
                              const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc)
{
    return ccip_test_ok(&s_svc, role, actor, type, msg, desc);
}

static void s_free(void *msg)
{
    ccip_test_free(msg);
}

/* Asserts that the last sentence contains `part`. */
static void s_error_has(const char *part)
{
    ccip_test_error_has(&s_svc, part);
}

/* A number from followup's schema; test-owned SQL with ids made here. */
#define s_number(...) ccip_test_number(&s_svc, __VA_ARGS__)

/* Everything followup keeps about a task, and the events about it: what a
 * refused command must not change. */
static long long s_task_rows(const char *task)
{
    return s_number("SELECT (SELECT count(*) FROM task_step WHERE task_id = '%s') + (SELECT "
                    "count(*) FROM task_deadline WHERE task_id = '%s') + (SELECT count(*) FROM "
                    "task_extension WHERE task_id = '%s') + (SELECT count(*) FROM task_report "
                    "WHERE task_id = '%s') + (SELECT count(*) FROM outbox WHERE aggregate_id = "
                    "'%s') + (SELECT count(*) FROM task WHERE id = '%s' AND status = "
                    "(SELECT status FROM task WHERE id = '%s') AND updated_at = (SELECT "
                    "updated_at FROM task WHERE id = '%s'))",
                    task, task, task, task, task, task, task, task);
}

/* The state of a task as a text fingerprint (status, deadline, steps). */
static long long s_task_fingerprint(const char *task)
{
    return s_number("SELECT hashtext(status || deadline_at::text || steps::text || "
                    "coalesce(acknowledged_at::text, '') || coalesce(accepted_at::text, '')) FROM "
                    "task WHERE id = '%s'",
                    task);
}

static long long s_events(const char *type, const char *aggregate)
{
    return s_number("SELECT count(*) FROM outbox WHERE type = '%s' AND aggregate_id = '%s'", type,
                    aggregate);
}

/* ---- tasks -------------------------------------------------------------------------- */

/* Creates a task led by `lead` due `deadline`; writes its id. */
static void s_task(const char *lead, const char *deadline, int interval, char id[37])
{
    Ccip__Followup__CreateTaskRequest rq = CCIP__FOLLOWUP__CREATE_TASK_REQUEST__INIT;
    Ccip__Followup__TaskSource src = CCIP__FOLLOWUP__TASK_SOURCE__INIT;
    src.kind = CCIP__FOLLOWUP__TASK_SOURCE_KIND__SOURCE_MEMO;
    src.reference = "京文创办〔2027〕12号";
    rq.title = (char *)s_title("Survey the animation parks");
    rq.instruction = "Survey the animation parks of the city and report on their occupancy.";
    rq.source = &src;
    rq.lead_unit = (char *)lead;
    char *co[] = {"district:110108", "center:statistics"};
    rq.co_organisers = co;
    rq.n_co_organisers = strcmp(lead, "district:110108") == 0 ? 0 : 2;
    rq.responsible = "王主任";
    rq.priority = CCIP__FOLLOWUP__PRIORITY__PRIORITY_HIGH;
    rq.deadline = (char *)deadline;
    rq.report_interval_days = interval;
    Ccip__Followup__TaskReply *r = (Ccip__Followup__TaskReply *)s_ok(
        OFFICE, "followup.task.create.v1", &rq.base, &ccip__followup__task_reply__descriptor);
    snprintf(id, 37, "%s", r->task->id);
    s_free(r);
}

/* A step of a task by (role, actor) with a note; returns the status. */
static int s_act(const char *role, const char *actor, const char *type, const char *task,
                 const char *note)
{
    Ccip__Followup__TaskActionRequest rq = CCIP__FOLLOWUP__TASK_ACTION_REQUEST__INIT;
    rq.task_id = (char *)task;
    rq.note = (char *)(note ? note : "");
    return s_send(role, actor, type, &rq.base, NULL, NULL);
}

static int s_report(const char *role, const char *actor, const char *type, const char *task,
                    const char *text, const char *attachment)
{
    Ccip__Followup__ReportTaskRequest rq = CCIP__FOLLOWUP__REPORT_TASK_REQUEST__INIT;
    Ccip__Followup__AttachmentUpload up = CCIP__FOLLOWUP__ATTACHMENT_UPLOAD__INIT;
    Ccip__Followup__AttachmentUpload *ups[] = {&up};
    rq.task_id = (char *)task;
    rq.text = (char *)text;
    if (attachment) {
        up.name = "survey.csv";
        up.media_type = "text/csv";
        up.content.data = (uint8_t *)attachment;
        up.content.len = strlen(attachment);
        rq.attachments = ups;
        rq.n_attachments = 1;
    }
    return s_send(role, actor, type, &rq.base, NULL, NULL);
}

static int s_request_extension(const char *role, const char *actor, const char *task,
                               const char *deadline, const char *reason)
{
    Ccip__Followup__RequestExtensionRequest rq = CCIP__FOLLOWUP__REQUEST_EXTENSION_REQUEST__INIT;
    rq.task_id = (char *)task;
    rq.deadline = (char *)deadline;
    rq.reason = (char *)reason;
    return s_send(role, actor, "followup.task.request_extension.v1", &rq.base, NULL, NULL);
}

static int s_decide(const char *role, const char *actor, int grant, const char *task,
                    const char *deadline, const char *reason)
{
    Ccip__Followup__DecideExtensionRequest rq = CCIP__FOLLOWUP__DECIDE_EXTENSION_REQUEST__INIT;
    rq.task_id = (char *)task;
    rq.deadline = (char *)(deadline ? deadline : "");
    rq.reason = (char *)reason;
    return s_send(role, actor,
                  grant ? "followup.task.grant_extension.v1" : "followup.task.refuse_extension.v1",
                  &rq.base, NULL, NULL);
}

static Ccip__Followup__Task *s_get_task(const char *task)
{
    Ccip__Followup__GetTaskRequest rq = CCIP__FOLLOWUP__GET_TASK_REQUEST__INIT;
    rq.task_id = (char *)task;
    Ccip__Followup__TaskReply *r = (Ccip__Followup__TaskReply *)s_ok(
        STAFF, "followup.task.get.v1", &rq.base, &ccip__followup__task_reply__descriptor);
    Ccip__Followup__Task *t = r->task;
    r->task = NULL;
    s_free(r);
    return t;
}

/* "Time passes": the task's current deadline becomes the Beijing day `days`
 * days before today, due at the end of that day as the service would have
 * stored it. */
static void s_deadline_passed(const char *task, int days)
{
    assert_int_equal(s_number("WITH d AS (SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date - "
                              "%d AS day), u AS (UPDATE task SET deadline_date = d.day, "
                              "deadline_at = (d.day + 1)::timestamp AT TIME ZONE 'Asia/Shanghai' "
                              "FROM d WHERE id = '%s' RETURNING 1) SELECT count(*) FROM u",
                              days, task),
                     1);
}

static Ccip__Followup__SweepReply *s_sweep(void)
{
    Ccip__Followup__SweepRequest rq = CCIP__FOLLOWUP__SWEEP_REQUEST__INIT;
    return (Ccip__Followup__SweepReply *)s_ok(STAFF, "followup.sweep.run.v1", &rq.base,
                                              &ccip__followup__sweep_reply__descriptor);
}

/* ---- the stand-in producers -------------------------------------------------------- */

static void s_applied(ccip_test_producer *p)
{
    if (ccip_test_producer_wait_applied(p, 20000) < 0)
        s_fail_with_logs("followup did not apply the stand-in producer's events");
}

/* An award as funding publishes it. */
typedef struct {
    char id[37], application[37], uscc[19];
    Ccip__Funding__Award award;
} s_award;

static void s_award_init(s_award *w, int64_t amount)
{
    memset(w, 0, sizeof *w);
    ccip_uuid_v7(w->id);
    ccip_uuid_v7(w->application);
    s_uscc(w->uscc);
    w->award = (Ccip__Funding__Award)CCIP__FUNDING__AWARD__INIT;
    w->award.id = w->id;
    w->award.application_id = w->application;
    w->award.programme_code = "CCI-2027";
    w->award.year = s_this_year();
    w->award.grantee_uscc = w->uscc;
    w->award.grantee_name = "北京灯笼文化有限公司";
    w->award.title = (char *)s_title("Lantern festival for the old town");
    w->award.amount_fen = amount;
    w->award.status = CCIP__FUNDING__AWARD_STATUS__AWARD_COMMITTED;
    w->award.status_reason = "";
}

/* Publishes funding.award.<verb>.v1 with the award in `status`. */
static void s_award_event(s_award *w, const char *verb, Ccip__Funding__AwardStatus status,
                          const char *reason)
{
    char type[64];
    snprintf(type, sizeof type, "funding.award.%s.v1", verb);
    w->award.status = status;
    w->award.status_reason = (char *)(reason ? reason : "");
    Ccip__Funding__AwardChanged ev = CCIP__FUNDING__AWARD_CHANGED__INIT;
    ev.award = &w->award;
    ev.reason = w->award.status_reason;
    assert_true(ccip_test_producer_add(s_funding, type, "application", w->application, &ev.base,
                                       "staff-li", "staff") > 0);
    s_applied(s_funding);
}

/* ---- setup ----------------------------------------------------------------------------- */

static pid_t s_start_followup(const char *instance)
{
    return ccip_test_start_service(&s_svc.env, "services/followup/followup", "followup", instance);
}

static int s_group_setup(void **state)
{
    (void)state;
    static const ccip_test_svc_proc procs[] = {
        {"services/followup/followup", "followup", "followup-1"}, {NULL, NULL, NULL}};
    /* The main replica sweeps only when a test asks; the sweep test starts
     * sweeping replicas of its own. The digest is published when asked. */
    setenv("CCIP_FOLLOWUP_SWEEP_SECONDS", "0", 1);
    setenv("CCIP_FOLLOWUP_DIGEST_CHECK_SECONDS", "0", 1);
    setenv("CCIP_FOLLOWUP_MAX_ATTACHMENT_BYTES", "65536", 1);
    if (ccip_test_svc_start(&s_svc, "followup", procs) < 0)
        return -1;
    s_funding = ccip_test_producer_start(&s_svc.env, s_svc.ctx, "funding", "followup");
    s_evaluation = ccip_test_producer_start(&s_svc.env, s_svc.ctx, "evaluation", "followup");
    s_ip = ccip_test_producer_start(&s_svc.env, s_svc.ctx, "ip", "followup");
    return s_funding && s_evaluation && s_ip ? 0 : -1;
}

static int s_group_teardown(void **state)
{
    (void)state;
    ccip_test_producer_stop(&s_funding);
    ccip_test_producer_stop(&s_evaluation);
    ccip_test_producer_stop(&s_ip);
    ccip_test_svc_stop(&s_svc);
    return 0;
}

/* ---- rule 1: who decides, who reports ----------------------------------------------------- */

/* Only the office (or admin) creates, extends, accepts, returns or closes
 * a task; only the lead unit reports on it; anyone else gets
 * PERMISSION_DENIED and nothing changes. */
static void test_only_office_decides_only_lead_reports(void **state)
{
    (void)state;
    char center[37], district[37], person[37];
    s_task("center", s_day(30), 0, center);
    s_task("district:110105", s_day(30), 0, district);
    s_task("person:zhang.wei", s_day(30), 0, person);

    /* creating: anyone but office and admin is refused, and no task appears */
    long long tasks = s_number("SELECT count(*) FROM task");
    Ccip__Followup__CreateTaskRequest rq = CCIP__FOLLOWUP__CREATE_TASK_REQUEST__INIT;
    Ccip__Followup__TaskSource src = CCIP__FOLLOWUP__TASK_SOURCE__INIT;
    src.kind = CCIP__FOLLOWUP__TASK_SOURCE_KIND__SOURCE_MEETING;
    src.reference = "2027 first plenary";
    rq.title = "A task nobody may create";
    rq.instruction = "Nothing.";
    rq.source = &src;
    rq.lead_unit = "center";
    rq.responsible = "nobody";
    rq.deadline = (char *)s_day(10);
    const char *const creators[][2] = {{STAFF}, {CHAOYANG}, {"grantee", "org:x"}, {"expert", "e"}};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(
            s_send(creators[i][0], creators[i][1], "followup.task.create.v1", &rq.base, NULL, NULL),
            CCIP__STATUS__PERMISSION_DENIED);
        s_error_has(creators[i][0]);
    }
    assert_int_equal(s_send(NULL, NULL, "followup.task.create.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_number("SELECT count(*) FROM task"), tasks);
    /* admin may */
    rq.title = (char *)s_title("Admin's task");
    s_free(s_ok(ADMIN, "followup.task.create.v1", &rq.base, NULL));

    /* the lead unit's steps, by everyone who is not the lead unit */
    struct {
        const char *task, *role, *actor;
    } strangers[] = {
        {center, OFFICE},
        {center, ADMIN},
        {center, CHAOYANG},
        {center, "grantee", "org:91110105MA01ABCD2X"},
        {district, STAFF},
        {district, HAIDIAN},
        {district, "district", "district:110105x"},
        {district, OFFICE},
        {person, STAFF},
        {person, "staff", "li.si"},
        {person, CHAOYANG},
    };
    for (size_t i = 0; i < sizeof strangers / sizeof strangers[0]; i++) {
        const char *t = strangers[i].task, *role = strangers[i].role, *actor = strangers[i].actor;
        long long rows = s_task_rows(t), print = s_task_fingerprint(t);
        assert_int_equal(s_act(role, actor, "followup.task.acknowledge.v1", t, NULL),
                         CCIP__STATUS__PERMISSION_DENIED);
        assert_int_equal(
            s_report(role, actor, "followup.task.report_progress.v1", t, "progress", "a,b\n"),
            CCIP__STATUS__PERMISSION_DENIED);
        assert_int_equal(
            s_report(role, actor, "followup.task.report_completion.v1", t, "done", NULL),
            CCIP__STATUS__PERMISSION_DENIED);
        assert_int_equal(s_request_extension(role, actor, t, s_day(60), "more time"),
                         CCIP__STATUS__PERMISSION_DENIED);
        assert_int_equal(s_task_rows(t), rows);
        assert_int_equal(s_task_fingerprint(t), print);
    }
    s_error_has("only the lead unit");

    /* the lead units themselves may: any staff member for the center, the
     * district's own actor, the named person */
    assert_int_equal(s_act(STAFF2, "followup.task.acknowledge.v1", center, NULL), 0);
    assert_int_equal(s_act(CHAOYANG, "followup.task.acknowledge.v1", district, NULL), 0);
    assert_int_equal(s_act("office", "zhang.wei", "followup.task.acknowledge.v1", person, NULL), 0);
    assert_int_equal(s_report(STAFF, "followup.task.report_progress.v1", center, "half done", NULL),
                     0);
    assert_int_equal(s_request_extension(CHAOYANG, district, s_day(60), "the survey grew"), 0);
    assert_int_equal(s_report(STAFF, "followup.task.report_completion.v1", center, "done", NULL),
                     0);

    /* the office's decisions, by everyone who is not the office */
    const char *const deciders[][2] = {{STAFF}, {CHAOYANG}, {"grantee", "org:x"}};
    for (size_t i = 0; i < 3; i++) {
        long long rows_c = s_task_rows(center), rows_d = s_task_rows(district);
        long long print_c = s_task_fingerprint(center), print_d = s_task_fingerprint(district);
        const char *role = deciders[i][0], *actor = deciders[i][1];
        assert_int_equal(s_decide(role, actor, 1, district, NULL, "granted"),
                         CCIP__STATUS__PERMISSION_DENIED);
        assert_int_equal(s_decide(role, actor, 0, district, NULL, "refused"),
                         CCIP__STATUS__PERMISSION_DENIED);
        assert_int_equal(s_act(role, actor, "followup.task.accept.v1", center, "good"),
                         CCIP__STATUS__PERMISSION_DENIED);
        assert_int_equal(s_act(role, actor, "followup.task.return.v1", center, "redo"),
                         CCIP__STATUS__PERMISSION_DENIED);
        assert_int_equal(s_act(role, actor, "followup.task.close.v1", center, "enough"),
                         CCIP__STATUS__PERMISSION_DENIED);
        assert_int_equal(s_task_rows(center), rows_c);
        assert_int_equal(s_task_rows(district), rows_d);
        assert_int_equal(s_task_fingerprint(center), print_c);
        assert_int_equal(s_task_fingerprint(district), print_d);
    }
    /* the office and admin may */
    assert_int_equal(s_decide(OFFICE, 1, district, NULL, "the scope grew: granted"), 0);
    assert_int_equal(s_act(ADMIN, "followup.task.accept.v1", center, "complete"), 0);
    assert_int_equal(s_act(OFFICE, "followup.task.close.v1", center, "archived"), 0);
}

/* ---- rule 2: extensions --------------------------------------------------------------------- */

/* An extension moves the deadline only when granted; the history keeps
 * every deadline the task had. */
static void test_extension_moves_deadline_only_when_granted(void **state)
{
    (void)state;
    char task[37];
    const char *first = s_day(20);
    char first_copy[16];
    snprintf(first_copy, sizeof first_copy, "%s", first);
    s_task("district:110105", first_copy, 0, task);
    assert_int_equal(s_act(CHAOYANG, "followup.task.acknowledge.v1", task, "received"), 0);

    /* asked: the deadline stays */
    char asked[16], second[16], third[16];
    snprintf(asked, sizeof asked, "%s", s_day(40));
    assert_int_equal(s_request_extension(CHAOYANG, task, asked, "the parks asked for a month"), 0);
    Ccip__Followup__Task *t = s_get_task(task);
    assert_string_equal(t->deadline_date, first_copy);
    assert_true(t->extension_pending);
    assert_int_equal(t->n_deadlines, 1);
    s_free(t);
    /* a second request while one is pending is refused */
    assert_int_equal(s_request_extension(CHAOYANG, task, s_day(50), "again"),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_error_has("waits for the office's decision");
    /* an extension must move the deadline later */
    assert_int_equal(s_decide(OFFICE, 1, task, s_day(10), "earlier"),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_error_has("not later than the task's deadline");

    /* refused: the deadline stays, the history has one deadline */
    assert_int_equal(s_decide(OFFICE, 0, task, NULL, "the survey must be in before the plenary"),
                     0);
    t = s_get_task(task);
    assert_string_equal(t->deadline_date, first_copy);
    assert_false(t->extension_pending);
    assert_int_equal(t->n_deadlines, 1);
    assert_int_equal(t->n_extensions, 1);
    assert_int_equal(t->extensions[0]->status, CCIP__FOLLOWUP__EXTENSION_STATUS__EXTENSION_REFUSED);
    assert_string_equal(t->extensions[0]->decision_reason,
                        "the survey must be in before the plenary");
    s_free(t);
    assert_int_equal(s_number("SELECT count(*) FROM task_deadline WHERE task_id = '%s'", task), 1);
    assert_int_equal(s_events("followup.task.extension_refused.v1", task), 1);

    /* asked again, granted to another day than asked: the deadline moves */
    assert_int_equal(s_request_extension(CHAOYANG, task, asked, "two parks were closed"), 0);
    snprintf(second, sizeof second, "%s", s_day(35));
    assert_int_equal(s_decide(OFFICE, 1, task, second, "granted, but by the 35th day"), 0);
    /* and once more, as asked */
    snprintf(third, sizeof third, "%s", s_day(45));
    assert_int_equal(s_request_extension(CHAOYANG, task, third, "the data came late"), 0);
    assert_int_equal(s_decide(ADMIN, 1, task, NULL, "granted as asked"), 0);

    t = s_get_task(task);
    assert_string_equal(t->deadline_date, third);
    assert_int_equal(t->n_deadlines, 3);
    assert_string_equal(t->deadlines[0]->date, first_copy);
    assert_string_equal(t->deadlines[0]->reason, "");
    assert_string_equal(t->deadlines[1]->date, second);
    assert_string_equal(t->deadlines[1]->reason, "granted, but by the 35th day");
    assert_string_equal(t->deadlines[1]->set_by, "office-chen");
    assert_string_equal(t->deadlines[2]->date, third);
    assert_string_equal(t->deadlines[2]->extension_id, t->extensions[2]->id);
    for (size_t i = 0; i < t->n_deadlines; i++) {
        followup_day d;
        assert_int_equal(followup_day_parse("", t->deadlines[i]->date, &d, NULL, 0), 0);
        assert_int_equal(t->deadlines[i]->due_at_us, followup_day_end_us(d));
    }
    assert_int_equal(t->n_extensions, 3);
    assert_int_equal(t->extensions[1]->status, CCIP__FOLLOWUP__EXTENSION_STATUS__EXTENSION_GRANTED);
    assert_string_equal(t->extensions[1]->requested_date, asked);
    assert_string_equal(t->extensions[1]->granted_date, second);
    s_free(t);
    assert_int_equal(s_events("followup.task.extension_requested.v1", task), 3);
    assert_int_equal(s_events("followup.task.extension_granted.v1", task), 2);
    /* the stored history agrees: three rows, the task's deadline the last */
    assert_int_equal(s_number("SELECT count(*) FROM task_deadline d JOIN task t ON t.id = "
                              "d.task_id WHERE d.task_id = '%s' AND d.seq = 3 AND d.deadline_at "
                              "= t.deadline_at",
                              task),
                     1);
}

/* ---- rule 3: the sweep -------------------------------------------------------------------- */

typedef struct {
    ccip_client *client;
    int status[4];
    char error[300];
} s_sweeper;

static void *s_sweeper_run(void *arg)
{
    s_sweeper *s = arg;
    for (int i = 0; i < 4; i++) {
        Ccip__Followup__SweepRequest rq = CCIP__FOLLOWUP__SWEEP_REQUEST__INIT;
        ccip_test_cmd c = {.role = "staff",
                           .actor = "staff-li",
                           .type = "followup.sweep.run.v1",
                           .msg = &rq.base,
                           .via = s->client,
                           .error = s->error,
                           .error_len = sizeof s->error};
        s->status[i] = ccip_test_send_cmd(&s_svc, &c, NULL);
    }
    return NULL;
}

/* Staff sweep from SWEEPERS clients at once, four times each. */
static void s_sweep_storm(void)
{
    s_sweeper sw[SWEEPERS];
    pthread_t th[SWEEPERS];
    for (int i = 0; i < SWEEPERS; i++) {
        memset(&sw[i], 0, sizeof sw[i]);
        sw[i].client = ccip_test_svc_client(&s_svc, &s_svc.env.front_keys);
        assert_non_null(sw[i].client);
        pthread_create(&th[i], NULL, s_sweeper_run, &sw[i]);
    }
    for (int i = 0; i < SWEEPERS; i++) {
        pthread_join(th[i], NULL);
        for (int k = 0; k < 4; k++)
            if (sw[i].status[k] != 0)
                s_fail_with_logs(sw[i].error);
        ccip_client_destroy(&sw[i].client);
    }
}

/* The replicas the sweep test starts, sweeping every second; stopped by
 * its teardown whatever happened. */
static pid_t s_sweeping[2];

static int s_stop_sweeping(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++)
        if (s_sweeping[i] > 0 && ccip_test_stop(&s_svc.env, s_sweeping[i], SIGTERM, 10000) != 0)
            return -1;
    s_sweeping[0] = s_sweeping[1] = 0;
    return 0;
}

/* The overdue sweep escalates each task once per missed deadline however
 * many replicas run it and however often: three replicas sweep on their
 * own every second while eight staff members sweep at once, again and
 * again. */
static void test_sweep_escalates_once_per_missed_deadline(void **state)
{
    (void)state;
    enum { TASKS = 12 };
    char tasks[TASKS][37];
    for (int i = 0; i < TASKS; i++) {
        s_task(i % 2 ? "center" : "district:110105", s_day(30), 0, tasks[i]);
        s_deadline_passed(tasks[i], 2 + i);
    }
    /* one on time: not escalated */
    char on_time[37];
    s_task("center", s_day(30), 0, on_time);

    setenv("CCIP_FOLLOWUP_SWEEP_SECONDS", "1", 1);
    s_sweeping[0] = s_start_followup("followup-2");
    s_sweeping[1] = s_start_followup("followup-3");
    setenv("CCIP_FOLLOWUP_SWEEP_SECONDS", "0", 1);
    assert_true(s_sweeping[0] > 0 && s_sweeping[1] > 0);
    s_sweep_storm();
    ccip_test_sleep_ms(2500); /* the replicas' own sweeps of the next seconds */
    s_sweep_storm();

    for (int i = 0; i < TASKS; i++) {
        assert_int_equal(s_number("SELECT count(*) FROM escalation WHERE task_id = '%s' AND kind "
                                  "= 'DEADLINE_MISSED'",
                                  tasks[i]),
                         1);
        assert_int_equal(s_events("followup.task.escalated.v1", tasks[i]), 1);
    }
    assert_int_equal(s_number("SELECT count(*) FROM escalation WHERE task_id = '%s'", on_time), 0);

    /* a granted extension is a new deadline: missed too, it is escalated
     * once more, and only once */
    assert_int_equal(s_act(CHAOYANG, "followup.task.acknowledge.v1", tasks[0], NULL), 0);
    assert_int_equal(s_request_extension(CHAOYANG, tasks[0], s_day(10), "late data"), 0);
    assert_int_equal(s_decide(OFFICE, 1, tasks[0], NULL, "granted"), 0);
    s_deadline_passed(tasks[0], 1);
    s_sweep_storm();
    ccip_test_sleep_ms(1500);
    assert_int_equal(s_number("SELECT count(*) FROM escalation WHERE task_id = '%s' AND kind = "
                              "'DEADLINE_MISSED'",
                              tasks[0]),
                     2);
    assert_int_equal(s_events("followup.task.escalated.v1", tasks[0]), 2);
    for (int i = 1; i < TASKS; i++)
        assert_int_equal(s_number("SELECT count(*) FROM escalation WHERE task_id = '%s'", tasks[i]),
                         1);

    /* the escalation names the deadline in Beijing */
    Ccip__Followup__Task *t = s_get_task(tasks[1]);
    assert_int_equal(t->n_escalations, 1);
    assert_int_equal(t->escalations[0]->kind, CCIP__FOLLOWUP__ESCALATION_KIND__DEADLINE_MISSED);
    assert_non_null(strstr(t->escalations[0]->summary, "end of that day in Beijing"));
    assert_non_null(strstr(t->escalations[0]->summary, t->deadline_date));
    s_free(t);
}

/* A task's interval asks for progress reports: one that does not come is
 * escalated once per due time; a report moves the due time. */
static void test_progress_report_interval(void **state)
{
    (void)state;
    char task[37];
    s_task("center", s_day(60), 7, task);
    assert_int_equal(s_act(STAFF, "followup.task.acknowledge.v1", task, NULL), 0);
    Ccip__Followup__Task *t = s_get_task(task);
    followup_day in7 =
        followup_day_from_number(followup_day_number(followup_day_of_us(ccip_now_us())) + 7);
    assert_int_equal(t->next_report_due_us, followup_day_end_us(in7));
    s_free(t);
    /* time passes: the report is due and missing */
    assert_int_equal(s_number("WITH u AS (UPDATE task SET report_due_at = now() - interval '1 "
                              "hour' WHERE id = '%s' RETURNING 1) SELECT count(*) FROM u",
                              task),
                     1);
    Ccip__Followup__SweepReply *r = s_sweep();
    assert_true(r->progress_reports_overdue >= 1);
    s_free(r);
    s_free(s_sweep());
    assert_int_equal(s_number("SELECT count(*) FROM escalation WHERE task_id = '%s' AND kind = "
                              "'PROGRESS_REPORT_OVERDUE'",
                              task),
                     1);
    /* the report comes: the next one is due a week from today again */
    assert_int_equal(
        s_report(STAFF, "followup.task.report_progress.v1", task, "7 of 12 parks", NULL), 0);
    assert_int_equal(s_number("SELECT count(*) FROM task WHERE id = '%s' AND report_due_at > "
                              "now() + interval '6 days'",
                              task),
                     1);
}

/* ---- rule 4: milestones, amounts, monthly reports -------------------------------------------- */

static Ccip__Followup__Project *s_register(Ccip__Followup__RegisterProjectRequest *rq, int *status)
{
    Ccip__Followup__ProjectReply *r = NULL;
    *status = s_send(STAFF, "followup.project.register.v1", &rq->base,
                     &ccip__followup__project_reply__descriptor, (ProtobufCMessage **)&r);
    if (!r)
        return NULL;
    Ccip__Followup__Project *p = r->project;
    r->project = NULL;
    s_free(r);
    return p;
}

/* A project entered by staff, running from last year to next year, with
 * milestones planned `days[i]` days from today. */
static Ccip__Followup__Project *s_staff_project(const char *owner, const int *days, size_t n)
{
    static char start[32], end[32];
    snprintf(start, sizeof start, "%d-01-01", s_this_year() - 1);
    snprintf(end, sizeof end, "%d-12-31", s_this_year() + 1);
    Ccip__Followup__RegisterProjectRequest rq = CCIP__FOLLOWUP__REGISTER_PROJECT_REQUEST__INIT;
    Ccip__Followup__MilestoneInput ms[4], *mp[4];
    char titles[4][64];
    for (size_t i = 0; i < n; i++) {
        ms[i] = (Ccip__Followup__MilestoneInput)CCIP__FOLLOWUP__MILESTONE_INPUT__INIT;
        snprintf(titles[i], sizeof titles[i], "milestone %zu", i + 1);
        ms[i].title = titles[i];
        ms[i].planned_date = (char *)s_day(days[i]);
        mp[i] = &ms[i];
    }
    rq.year = s_this_year();
    rq.source = CCIP__FOLLOWUP__PROJECT_SOURCE__FROM_STAFF;
    rq.title = (char *)s_title("Digital museum of the Grand Canal");
    rq.owner_uscc = (char *)owner;
    rq.owner_name = "北京运河数字文化有限公司";
    rq.district_code = "110105";
    rq.planned_investment_fen = 5000000000LL;
    rq.start_date = start;
    rq.end_date = end;
    rq.milestones = mp;
    rq.n_milestones = n;
    int status;
    Ccip__Followup__Project *p = s_register(&rq, &status);
    if (status != 0)
        s_fail_with_logs(s_svc.error);
    return p;
}

static Ccip__Followup__Project *s_get_project(const char *role, const char *actor, const char *id)
{
    Ccip__Followup__GetProjectRequest rq = CCIP__FOLLOWUP__GET_PROJECT_REQUEST__INIT;
    rq.project_id = (char *)id;
    Ccip__Followup__ProjectReply *r =
        (Ccip__Followup__ProjectReply *)s_ok(role, actor, "followup.project.get.v1", &rq.base,
                                             &ccip__followup__project_reply__descriptor);
    Ccip__Followup__Project *p = r->project;
    r->project = NULL;
    s_free(r);
    return p;
}

/* Rows a refused project command must not add to. */
static long long s_project_rows(void)
{
    return s_number("SELECT (SELECT count(*) FROM project) + (SELECT count(*) FROM milestone) + "
                    "(SELECT count(*) FROM monthly_report) + (SELECT count(*) FROM "
                    "report_progress) + (SELECT count(*) FROM escalation) + (SELECT count(*) "
                    "FROM outbox)");
}

/* A milestone's planned date lies within the project's period; amounts are
 * non-negative fen that cannot overflow. */
static void test_milestones_within_period_and_amounts(void **state)
{
    (void)state;
    char owner[19], start[32], end[32], outside[32];
    s_uscc(owner);
    snprintf(start, sizeof start, "%d-03-01", s_this_year());
    snprintf(end, sizeof end, "%d-11-30", s_this_year());
    Ccip__Followup__RegisterProjectRequest rq = CCIP__FOLLOWUP__REGISTER_PROJECT_REQUEST__INIT;
    Ccip__Followup__MilestoneInput m = CCIP__FOLLOWUP__MILESTONE_INPUT__INIT, *mp[] = {&m};
    rq.year = s_this_year();
    rq.source = CCIP__FOLLOWUP__PROJECT_SOURCE__FROM_STAFF;
    rq.title = (char *)s_title("Opera house renovation");
    rq.owner_uscc = owner;
    rq.owner_name = "北京歌剧院";
    rq.district_code = "Chaoyang"; /* a district by name is taken too */
    rq.planned_investment_fen = 100;
    rq.start_date = start;
    rq.end_date = end;
    rq.milestones = mp;
    rq.n_milestones = 1;
    m.title = "stage machinery installed";
    long long rows = s_project_rows();
    int status;
    static const char *const outside_days[] = {"02-28", "12-01"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(outside, sizeof outside, "%d-%s", s_this_year(), outside_days[i]);
        m.planned_date = outside;
        assert_null(s_register(&rq, &status));
        assert_int_equal(status, CCIP__STATUS__INVALID_ARGUMENT);
        s_error_has("lies outside the project's period");
        s_error_has(start);
    }
    /* amounts: negative, above the cap, the largest int64 */
    m.planned_date = end;
    const int64_t bad[] = {-1, FOLLOWUP_FEN_MAX + 1, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < 4; i++) {
        rq.planned_investment_fen = bad[i];
        assert_null(s_register(&rq, &status));
        assert_int_equal(status, CCIP__STATUS__INVALID_ARGUMENT);
        s_error_has("must be 0 to 100000000000000 fen");
    }
    assert_int_equal(s_project_rows(), rows);
    /* within the period, at the cap: registered */
    rq.planned_investment_fen = FOLLOWUP_FEN_MAX;
    Ccip__Followup__Project *p = s_register(&rq, &status);
    assert_int_equal(status, 0);
    assert_int_equal(p->planned_investment_fen, FOLLOWUP_FEN_MAX);
    assert_string_equal(p->district_code, "110105");
    assert_int_equal(p->n_milestones, 1);
    assert_int_equal(s_events("followup.project.registered.v1", p->id), 1);
    /* a milestone added later: within the period too */
    Ccip__Followup__AddMilestoneRequest am = CCIP__FOLLOWUP__ADD_MILESTONE_REQUEST__INIT;
    am.project_id = p->id;
    am.title = "opening night";
    snprintf(outside, sizeof outside, "%d-12-01", s_this_year());
    am.planned_date = outside;
    rows = s_project_rows();
    assert_int_equal(s_send(STAFF, "followup.project.add_milestone.v1", &am.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_error_has("lies outside the project's period");
    assert_int_equal(s_project_rows(), rows);
    am.planned_date = end;
    s_free(s_ok(STAFF, "followup.project.add_milestone.v1", &am.base, NULL));
    assert_int_equal(s_number("SELECT count(*) FROM milestone WHERE project_id = '%s'", p->id), 2);
    s_free(p);
    /* a report's amount: the same rule (a project whose period holds this
     * month) */
    char owner2[19], actor[32];
    s_uscc(owner2);
    snprintf(actor, sizeof actor, "org:%s", owner2);
    const int days[] = {20};
    p = s_staff_project(owner2, days, 1);
    Ccip__Followup__FileReportRequest fr = CCIP__FOLLOWUP__FILE_REPORT_REQUEST__INIT;
    fr.project_id = p->id;
    fr.month = (char *)s_this_month();
    fr.problems = "";
    rows = s_project_rows();
    for (size_t i = 0; i < 4; i++) {
        fr.investment_completed_fen = bad[i];
        assert_int_equal(
            s_send("grantee", actor, "followup.project.file_report.v1", &fr.base, NULL, NULL),
            CCIP__STATUS__INVALID_ARGUMENT);
        s_error_has("field `investment_completed_fen` must be 0 to 100000000000000 fen");
    }
    assert_int_equal(s_project_rows(), rows);
    fr.investment_completed_fen = FOLLOWUP_FEN_MAX;
    s_free(s_ok("grantee", actor, "followup.project.file_report.v1", &fr.base, NULL));
    s_free(p);
}

/* A monthly report for a month already reported replaces nothing: it is
 * refused, unless it says it is a correction (and why); then it is
 * recorded as a new version and the old one is kept. */
static void test_monthly_report_once_or_correction(void **state)
{
    (void)state;
    char owner[19], actor[32];
    s_uscc(owner);
    snprintf(actor, sizeof actor, "org:%s", owner);
    const int days[] = {40, 90};
    Ccip__Followup__Project *p = s_staff_project(owner, days, 2);
    Ccip__Followup__FileReportRequest fr = CCIP__FOLLOWUP__FILE_REPORT_REQUEST__INIT;
    Ccip__Followup__MilestoneProgress g = CCIP__FOLLOWUP__MILESTONE_PROGRESS__INIT, *gp[] = {&g};
    g.milestone_id = p->milestones[0]->id;
    g.percent = 40;
    g.reached_on = "";
    g.note = "foundations poured";
    fr.project_id = p->id;
    fr.month = (char *)s_this_month();
    fr.investment_completed_fen = 1200000000;
    fr.problems = "the district's permit for the riverside site is pending";
    fr.progress = gp;
    fr.n_progress = 1;

    /* only the owner files it */
    char other[19], other_actor[32];
    s_uscc(other);
    snprintf(other_actor, sizeof other_actor, "org:%s", other);
    assert_int_equal(
        s_send("grantee", other_actor, "followup.project.file_report.v1", &fr.base, NULL, NULL),
        CCIP__STATUS__PERMISSION_DENIED);
    s_error_has(owner);
    assert_int_equal(s_send(STAFF, "followup.project.file_report.v1", &fr.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    s_free(s_ok("grantee", actor, "followup.project.file_report.v1", &fr.base, NULL));
    assert_int_equal(s_events("followup.project.reported.v1", p->id), 1);

    /* the same month again: refused, nothing changes */
    long long rows = s_project_rows();
    fr.investment_completed_fen = 1500000000;
    g.percent = 60;
    assert_int_equal(
        s_send("grantee", actor, "followup.project.file_report.v1", &fr.base, NULL, NULL),
        CCIP__STATUS__FAILED_PRECONDITION);
    s_error_has("replaces nothing");
    s_error_has("correction");
    assert_int_equal(s_project_rows(), rows);
    Ccip__Followup__Project *q = s_get_project(OFFICE, p->id);
    assert_int_equal(q->investment_completed_fen, 1200000000);
    assert_int_equal(q->milestones[0]->progress_percent, 40);
    s_free(q);
    /* a correction without its reason: refused */
    fr.correction = 1;
    fr.correction_reason = "";
    assert_int_equal(
        s_send("grantee", actor, "followup.project.file_report.v1", &fr.base, NULL, NULL),
        CCIP__STATUS__INVALID_ARGUMENT);
    s_error_has("correction_reason");
    assert_int_equal(s_project_rows(), rows);

    /* a correction with its reason: recorded, the old report kept */
    fr.correction_reason = "the May invoices were counted twice";
    s_free(s_ok("grantee", actor, "followup.project.file_report.v1", &fr.base, NULL));
    q = s_get_project("grantee", actor, p->id);
    assert_int_equal(q->n_reports, 2);
    assert_int_equal(q->reports[0]->version, 2);
    assert_true(q->reports[0]->current);
    assert_int_equal(q->reports[0]->investment_completed_fen, 1500000000);
    assert_string_equal(q->reports[0]->correction_reason, "the May invoices were counted twice");
    assert_int_equal(q->reports[1]->version, 1);
    assert_false(q->reports[1]->current);
    assert_int_equal(q->reports[1]->investment_completed_fen, 1200000000);
    assert_int_equal(q->reports[1]->n_progress, 1);
    assert_int_equal(q->reports[1]->progress[0]->percent, 40);
    assert_int_equal(q->investment_completed_fen, 1500000000);
    assert_int_equal(q->milestones[0]->progress_percent, 60);
    s_free(q);
    /* the event of a correction carries the report it replaced */
    assert_int_equal(s_events("followup.project.reported.v1", p->id), 2);
    assert_int_equal(s_number("SELECT count(*) FROM monthly_report WHERE project_id = '%s' AND "
                              "NOT current AND investment_completed_fen = 1200000000",
                              p->id),
                     1);
    /* a correction of a month never reported (last month, within the
     * period): refused */
    char last[16];
    followup_month m = followup_month_of(followup_day_of_us(ccip_now_us()));
    m = m.month == 1 ? (followup_month){m.year - 1, 12} : (followup_month){m.year, m.month - 1};
    followup_month_format(m, last, sizeof last);
    fr.month = last;
    assert_int_equal(
        s_send("grantee", actor, "followup.project.file_report.v1", &fr.base, NULL, NULL),
        CCIP__STATUS__FAILED_PRECONDITION);
    s_error_has("no report of");
    /* a month outside the period, or not begun: refused */
    fr.month = (char *)"2000-01";
    assert_int_equal(
        s_send("grantee", actor, "followup.project.file_report.v1", &fr.base, NULL, NULL),
        CCIP__STATUS__INVALID_ARGUMENT);
    s_error_has("outside the project's period");
    s_free(p);
}

/* ---- rule 5: a project follows its award ---------------------------------------------------- */

static Ccip__Followup__Project *s_award_project(s_award *w)
{
    char start[32], end[32];
    snprintf(start, sizeof start, "%d-01-01", s_this_year());
    snprintf(end, sizeof end, "%d-12-31", s_this_year() + 1);
    Ccip__Followup__RegisterProjectRequest rq = CCIP__FOLLOWUP__REGISTER_PROJECT_REQUEST__INIT;
    rq.year = s_this_year();
    rq.source = CCIP__FOLLOWUP__PROJECT_SOURCE__FROM_AWARD;
    rq.award_id = w->id;
    rq.district_code = "110101";
    rq.planned_investment_fen = 30000000;
    rq.start_date = start;
    rq.end_date = end;
    int status;
    Ccip__Followup__Project *p = s_register(&rq, &status);
    if (status != 0)
        s_fail_with_logs(s_svc.error);
    return p;
}

/* A key project created from a funding award follows that award: a
 * suspended award or a clawback shows on the project and moves it to at
 * risk. */
static void test_award_suspension_and_clawback_put_project_at_risk(void **state)
{
    (void)state;
    s_award w;
    s_award_init(&w, 20000000);
    /* an award followup has not heard of: refused, with the fix */
    Ccip__Followup__RegisterProjectRequest rq = CCIP__FOLLOWUP__REGISTER_PROJECT_REQUEST__INIT;
    rq.year = s_this_year();
    rq.source = CCIP__FOLLOWUP__PROJECT_SOURCE__FROM_AWARD;
    rq.award_id = w.id;
    rq.district_code = "110101";
    rq.start_date = (char *)s_day(-10);
    rq.end_date = (char *)s_day(300);
    int status;
    assert_null(s_register(&rq, &status));
    assert_int_equal(status, CCIP__STATUS__FAILED_PRECONDITION);
    s_error_has("funding.award.granted.v1");

    s_award_event(&w, "granted", CCIP__FUNDING__AWARD_STATUS__AWARD_COMMITTED, NULL);
    Ccip__Followup__Project *p = s_award_project(&w);
    assert_string_equal(p->owner_uscc, w.uscc);
    assert_string_equal(p->title, w.award.title);
    assert_int_equal(p->state, CCIP__FOLLOWUP__BOARD_STATE__ON_TRACK);
    char id[37];
    snprintf(id, sizeof id, "%s", p->id);
    s_free(p);
    /* registered once per award and year */
    assert_null(s_register(&rq, &status));
    assert_int_equal(status, CCIP__STATUS__ALREADY_EXISTS);

    /* suspended: at risk, with the reason, and an event saying so */
    s_award_event(&w, "suspended", CCIP__FUNDING__AWARD_STATUS__AWARD_SUSPENDED,
                  "use of funds under review");
    p = s_get_project(OFFICE, id);
    assert_int_equal(p->state, CCIP__FOLLOWUP__BOARD_STATE__AT_RISK);
    assert_int_equal(p->n_state_reasons, 1);
    assert_non_null(strstr(p->state_reasons[0], "suspended: use of funds under review"));
    assert_int_equal(p->award->status, CCIP__FUNDING__AWARD_STATUS__AWARD_SUSPENDED);
    s_free(p);
    assert_int_equal(s_events("followup.project.source_changed.v1", id), 1);
    /* resumed: on track again */
    s_award_event(&w, "resumed", CCIP__FUNDING__AWARD_STATUS__AWARD_COMMITTED, NULL);
    p = s_get_project(OFFICE, id);
    assert_int_equal(p->state, CCIP__FOLLOWUP__BOARD_STATE__ON_TRACK);
    s_free(p);

    /* a tranche paid and an inspection's finding show on the record */
    char payment[37], inspection[37], clawback[37];
    ccip_uuid_v7(payment);
    ccip_uuid_v7(inspection);
    ccip_uuid_v7(clawback);
    Ccip__Funding__DisbursementPaid paid = CCIP__FUNDING__DISBURSEMENT_PAID__INIT;
    paid.payment_id = payment;
    paid.award_id = w.id;
    paid.application_id = w.application;
    paid.tranche_number = 1;
    paid.amount_fen = 10000000;
    paid.grantee_uscc = w.uscc;
    paid.paid_at_us = ccip_now_us();
    paid.disbursed_total_fen = 10000000;
    assert_true(ccip_test_producer_add(s_funding, "funding.disbursement.paid.v1", "application",
                                       w.application, &paid.base, "finance-wang", "finance") > 0);
    Ccip__Funding__Inspection insp = CCIP__FUNDING__INSPECTION__INIT;
    insp.id = inspection;
    insp.award_id = w.id;
    insp.kind = CCIP__FUNDING__INSPECTION_KIND__MIDTERM;
    insp.finding = CCIP__FUNDING__FINDING__MISUSE;
    insp.notes = "half of the first tranche paid for an unrelated event";
    insp.misused_fen = 5000000;
    insp.recorded_at_us = ccip_now_us();
    insp.clawback_id = clawback;
    Ccip__Funding__InspectionRecorded rec = CCIP__FUNDING__INSPECTION_RECORDED__INIT;
    rec.inspection = &insp;
    rec.application_id = w.application;
    rec.grantee_uscc = w.uscc;
    assert_true(ccip_test_producer_add(s_funding, "funding.inspection.recorded.v1", "application",
                                       w.application, &rec.base, "staff-li", "staff") > 0);
    /* the clawback: at risk until recovered */
    Ccip__Funding__Clawback cb = CCIP__FUNDING__CLAWBACK__INIT;
    cb.id = clawback;
    cb.award_id = w.id;
    cb.inspection_id = inspection;
    cb.amount_fen = 5000000;
    cb.status = CCIP__FUNDING__CLAWBACK_STATUS__CLAWBACK_OPEN;
    cb.reason = "misuse found at the midterm inspection";
    cb.ordered_at_us = ccip_now_us();
    Ccip__Funding__ClawbackChanged cc = CCIP__FUNDING__CLAWBACK_CHANGED__INIT;
    cc.clawback = &cb;
    cc.application_id = w.application;
    cc.grantee_uscc = w.uscc;
    assert_true(ccip_test_producer_add(s_funding, "funding.clawback.ordered.v1", "application",
                                       w.application, &cc.base, "staff-li", "staff") > 0);
    s_applied(s_funding);
    p = s_get_project(OFFICE, id);
    assert_int_equal(p->state, CCIP__FOLLOWUP__BOARD_STATE__AT_RISK);
    assert_non_null(strstr(p->state_reasons[0], "clawback"));
    assert_int_equal(p->award->n_tranches_paid, 1);
    assert_int_equal(p->award->tranches_paid[0]->amount_fen, 10000000);
    assert_int_equal(p->award->disbursed_fen, 10000000);
    assert_int_equal(p->award->n_inspections, 1);
    assert_int_equal(p->award->inspections[0]->finding, CCIP__FUNDING__FINDING__MISUSE);
    assert_int_equal(p->award->n_clawbacks, 1);
    assert_int_equal(p->award->clawbacks[0]->status, CCIP__FUNDING__CLAWBACK_STATUS__CLAWBACK_OPEN);
    s_free(p);
    /* the board counts it at risk */
    Ccip__Followup__BoardRequest br = CCIP__FOLLOWUP__BOARD_REQUEST__INIT;
    br.year = s_this_year();
    br.state = CCIP__FOLLOWUP__BOARD_STATE__AT_RISK;
    br.limit = 2000;
    Ccip__Followup__BoardReply *board = (Ccip__Followup__BoardReply *)s_ok(
        OFFICE, "followup.project.board.v1", &br.base, &ccip__followup__board_reply__descriptor);
    int found = 0;
    for (size_t i = 0; i < board->n_projects; i++)
        found += strcmp(board->projects[i]->id, id) == 0;
    assert_int_equal(found, 1);
    s_free(board);
    /* recovered in full: on track */
    cb.recovered_fen = 5000000;
    cb.status = CCIP__FUNDING__CLAWBACK_STATUS__CLAWBACK_RECOVERED;
    assert_true(ccip_test_producer_add(s_funding, "funding.clawback.recovered.v1", "application",
                                       w.application, &cc.base, "finance-wang", "finance") > 0);
    s_applied(s_funding);
    p = s_get_project(OFFICE, id);
    assert_int_equal(p->state, CCIP__FOLLOWUP__BOARD_STATE__ON_TRACK);
    s_free(p);
    /* terminated: at risk */
    s_award_event(&w, "terminated", CCIP__FUNDING__AWARD_STATUS__AWARD_TERMINATED,
                  "the grantee withdrew");
    p = s_get_project(OFFICE, id);
    assert_int_equal(p->state, CCIP__FOLLOWUP__BOARD_STATE__AT_RISK);
    s_free(p);
    /* each change of the award was an event on the project */
    assert_true(s_events("followup.project.source_changed.v1", id) >= 6);
}

/* ---- rule 6: dates ------------------------------------------------------------------------ */

/* Dates are stored in UTC and shown in Beijing time; a deadline "by 30
 * June" means the end of that day in Beijing. */
static void test_dates_stored_utc_shown_beijing(void **state)
{
    (void)state;
    char task[37], date[32];
    int year = s_this_year() + 1;
    snprintf(date, sizeof date, "%d-06-30", year);
    s_task("center", date, 0, task);
    char utc[40];
    snprintf(utc, sizeof utc, "%d-06-30T16:00:00Z", year);
    int64_t end = 0;
    assert_int_equal(ccip_time_parse_us(utc, &end), 0);
    /* stored: the instant, in UTC; and the Beijing day */
    assert_int_equal(s_number("SELECT count(*) FROM task WHERE id = '%s' AND deadline_at = "
                              "'%s'::timestamptz AND deadline_date = '%s'",
                              task, utc, date),
                     1);
    assert_int_equal(s_number("SELECT count(*) FROM task WHERE id = '%s' AND (deadline_at AT "
                              "TIME ZONE 'Asia/Shanghai') = '%d-07-01 00:00:00'",
                              task, year),
                     1);
    Ccip__Followup__Task *t = s_get_task(task);
    assert_int_equal(t->deadline_at_us, end);
    assert_string_equal(t->deadline_date, date);
    assert_int_equal(t->deadlines[0]->due_at_us, end);
    s_free(t);

    /* shown in Beijing: the refusal of a second extension names the
     * request's time in Beijing */
    assert_int_equal(s_act(STAFF, "followup.task.acknowledge.v1", task, NULL), 0);
    char later[32];
    snprintf(later, sizeof later, "%d-07-31", year);
    assert_int_equal(s_request_extension(STAFF, task, later, "summer"), 0);
    assert_int_equal(s_request_extension(STAFF, task, later, "summer"),
                     CCIP__STATUS__FAILED_PRECONDITION);
    char beijing[32];
    followup_beijing_text(ccip_now_us(), beijing, sizeof beijing);
    beijing[10] = '\0'; /* the day, in Beijing */
    s_error_has(beijing);
    s_error_has("Beijing");

    /* the boundary: a day before the end it is due within 7 days, at the
     * end it is overdue (the board reads the stored instant) */
    char soon[37], over[37];
    s_task("district:110108", s_day(20), 0, soon);
    s_task("district:110108", s_day(20), 0, over);
    assert_int_equal(s_number("WITH u AS (UPDATE task SET deadline_at = now() + interval '1 day' "
                              "WHERE id = '%s' RETURNING 1) SELECT count(*) FROM u",
                              soon),
                     1);
    assert_int_equal(s_number("WITH u AS (UPDATE task SET deadline_at = now() - interval '1 "
                              "second' WHERE id = '%s' RETURNING 1) SELECT count(*) FROM u",
                              over),
                     1);
    Ccip__Followup__TaskBoardRequest br = CCIP__FOLLOWUP__TASK_BOARD_REQUEST__INIT;
    br.lead_unit = "district:110108";
    br.limit = 5000;
    Ccip__Followup__TaskBoardReply *b = (Ccip__Followup__TaskBoardReply *)s_ok(
        OFFICE, "followup.task.board.v1", &br.base, &ccip__followup__task_board_reply__descriptor);
    int seen = 0;
    for (size_t i = 0; i < b->n_tasks; i++) {
        if (strcmp(b->tasks[i]->task_id, soon) == 0) {
            assert_int_equal(b->tasks[i]->timeliness, CCIP__FOLLOWUP__TIMELINESS__DUE_SOON);
            seen++;
        }
        if (strcmp(b->tasks[i]->task_id, over) == 0) {
            assert_int_equal(b->tasks[i]->timeliness, CCIP__FOLLOWUP__TIMELINESS__OVERDUE);
            seen++;
        }
        /* overdue first, then due soon, then on time */
        if (i > 0)
            assert_true(b->tasks[i - 1]->timeliness >= b->tasks[i]->timeliness);
    }
    assert_int_equal(seen, 2);
    s_free(b);
    /* the list by timeliness: the overdue one, not the one due soon */
    Ccip__Followup__ListTasksRequest lr = CCIP__FOLLOWUP__LIST_TASKS_REQUEST__INIT;
    lr.lead_unit = "district:110108";
    lr.timeliness = CCIP__FOLLOWUP__TIMELINESS__OVERDUE;
    lr.limit = 2000;
    Ccip__Followup__ListTasksReply *l = (Ccip__Followup__ListTasksReply *)s_ok(
        OFFICE, "followup.task.list.v1", &lr.base, &ccip__followup__list_tasks_reply__descriptor);
    int listed_over = 0, listed_soon = 0;
    for (size_t i = 0; i < l->n_tasks; i++) {
        assert_int_equal(l->tasks[i]->timeliness, CCIP__FOLLOWUP__TIMELINESS__OVERDUE);
        listed_over += strcmp(l->tasks[i]->id, over) == 0;
        listed_soon += strcmp(l->tasks[i]->id, soon) == 0;
    }
    assert_int_equal(listed_over, 1);
    assert_int_equal(listed_soon, 0);
    s_free(l);
    /* a milestone planned for a day is due at the end of that day in
     * Beijing, too */
    char owner[19];
    s_uscc(owner);
    const int days[] = {3};
    Ccip__Followup__Project *p = s_staff_project(owner, days, 1);
    followup_day d;
    assert_int_equal(followup_day_parse("", p->milestones[0]->planned_date, &d, NULL, 0), 0);
    assert_int_equal(p->milestones[0]->due_at_us, followup_day_end_us(d));
    assert_int_equal(
        s_number("SELECT count(*) FROM milestone WHERE id = '%s' AND due_at = (planned_date + "
                 "1)::timestamp AT TIME ZONE 'Asia/Shanghai'",
                 p->milestones[0]->id),
        1);
    s_free(p);
}

/* ---- the rest: the task's whole life, projects, board, digest, bad input --------------------- */

/* A task from creation to closing, with every step's event and history. */
static void test_task_life(void **state)
{
    (void)state;
    char task[37];
    s_task("center", s_day(14), 0, task);
    /* steps out of order are refused with what the task waits for */
    assert_int_equal(s_report(STAFF, "followup.task.report_progress.v1", task, "early", NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_error_has("acknowledge it");
    assert_int_equal(s_act(OFFICE, "followup.task.accept.v1", task, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_error_has("reported completion");
    assert_int_equal(s_act(STAFF, "followup.task.acknowledge.v1", task, "received"), 0);
    assert_int_equal(s_act(STAFF, "followup.task.acknowledge.v1", task, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    const char *csv = "park,occupancy\n798,0.93\nLangyuan,0.88\n";
    assert_int_equal(
        s_report(STAFF, "followup.task.report_progress.v1", task, "two parks surveyed", csv), 0);
    assert_int_equal(s_report(STAFF2, "followup.task.report_completion.v1", task,
                              "all twelve parks surveyed", NULL),
                     0);
    assert_int_equal(s_report(STAFF, "followup.task.report_progress.v1", task, "more", NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_error_has("waits for the office");
    /* returned without reasons: refused; with them: back to work */
    assert_int_equal(s_act(OFFICE, "followup.task.return.v1", task, ""),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_error_has("reasons");
    assert_int_equal(s_act(OFFICE, "followup.task.return.v1", task,
                           "the occupancy of the suburban parks is missing"),
                     0);
    assert_int_equal(
        s_report(STAFF, "followup.task.report_completion.v1", task, "suburban parks added", NULL),
        0);
    assert_int_equal(s_act(OFFICE, "followup.task.accept.v1", task, "thorough"), 0);
    assert_int_equal(s_act(OFFICE, "followup.task.close.v1", task, "archived after acceptance"), 0);
    assert_int_equal(s_act(OFFICE, "followup.task.close.v1", task, "again"),
                     CCIP__STATUS__FAILED_PRECONDITION);

    Ccip__Followup__Task *t = s_get_task(task);
    assert_int_equal(t->status, CCIP__FOLLOWUP__TASK_STATUS__TASK_CLOSED);
    assert_int_equal(t->n_reports, 3);
    assert_int_equal(t->reports[0]->kind, CCIP__FOLLOWUP__REPORT_KIND__REPORT_PROGRESS);
    assert_int_equal(t->reports[0]->n_attachments, 1);
    assert_int_equal(t->reports[0]->attachments[0]->size, (int64_t)strlen(csv));
    assert_int_equal(strlen(t->reports[0]->attachments[0]->sha256), 64);
    assert_string_equal(t->reports[1]->reported_by, "staff-wang");
    static const char *const actions[] = {
        "created",  "acknowledged",        "progress_reported", "completion_reported",
        "returned", "completion_reported", "accepted",          "closed"};
    assert_int_equal(t->n_steps, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_string_equal(t->steps[i]->action, actions[i]);
        assert_int_equal(t->steps[i]->seq, (int)i + 1);
        char type[80];
        snprintf(type, sizeof type, "followup.task.%s.v1", actions[i]);
        assert_true(s_events(type, task) >= 1);
    }
    assert_string_equal(t->steps[4]->note, "the occupancy of the suburban parks is missing");
    assert_string_equal(t->steps[4]->actor_id, "office-chen");
    /* the attachment, whole */
    Ccip__Followup__GetAttachmentRequest ar = CCIP__FOLLOWUP__GET_ATTACHMENT_REQUEST__INIT;
    ar.attachment_id = t->reports[0]->attachments[0]->id;
    Ccip__Followup__AttachmentReply *a =
        (Ccip__Followup__AttachmentReply *)s_ok(STAFF, "followup.task.attachment.get.v1", &ar.base,
                                                &ccip__followup__attachment_reply__descriptor);
    assert_int_equal(a->content.len, strlen(csv));
    assert_memory_equal(a->content.data, csv, strlen(csv));
    assert_string_equal(a->attachment->name, "survey.csv");
    assert_string_equal(a->task_id, task);
    s_free(a);
    /* a district that neither leads nor co-organises it may not read it */
    Ccip__Followup__GetTaskRequest gr = CCIP__FOLLOWUP__GET_TASK_REQUEST__INIT;
    gr.task_id = task;
    assert_int_equal(
        s_send("district", "district:110101", "followup.task.get.v1", &gr.base, NULL, NULL),
        CCIP__STATUS__PERMISSION_DENIED);
    /* a co-organiser may */
    s_free(s_ok(HAIDIAN, "followup.task.get.v1", &gr.base, NULL));
    s_free(t);
}

/* Milestones late and at risk, a month without report, a milestone
 * reached late: each escalated once; the board by state; the owner's
 * works and the designation on the record. */
static void test_project_escalations_and_board(void **state)
{
    (void)state;
    char owner[19], actor[32];
    s_uscc(owner);
    snprintf(actor, sizeof actor, "org:%s", owner);
    /* yesterday (late), in 10 days without progress (at risk), in 100 days */
    const int days[] = {-1, 10, 100};
    Ccip__Followup__Project *p = s_staff_project(owner, days, 3);
    assert_int_equal(p->state, CCIP__FOLLOWUP__BOARD_STATE__LATE);
    assert_true(p->milestones[0]->late);
    assert_false(p->milestones[1]->late);
    char id[37], late_m[37], risk_m[37];
    snprintf(id, sizeof id, "%s", p->id);
    snprintf(late_m, sizeof late_m, "%s", p->milestones[0]->id);
    snprintf(risk_m, sizeof risk_m, "%s", p->milestones[1]->id);
    s_free(p);
    /* listed as late, not as on track */
    Ccip__Followup__ListProjectsRequest lp = CCIP__FOLLOWUP__LIST_PROJECTS_REQUEST__INIT;
    lp.owner_uscc = owner;
    lp.state = CCIP__FOLLOWUP__BOARD_STATE__LATE;
    Ccip__Followup__ListProjectsReply *lr =
        (Ccip__Followup__ListProjectsReply *)s_ok(STAFF, "followup.project.list.v1", &lp.base,
                                                  &ccip__followup__list_projects_reply__descriptor);
    assert_int_equal(lr->n_projects, 1);
    assert_string_equal(lr->projects[0]->id, id);
    assert_int_equal(lr->projects[0]->n_milestones, 3);
    s_free(lr);
    lp.state = CCIP__FOLLOWUP__BOARD_STATE__ON_TRACK;
    lr =
        (Ccip__Followup__ListProjectsReply *)s_ok(STAFF, "followup.project.list.v1", &lp.base,
                                                  &ccip__followup__list_projects_reply__descriptor);
    assert_int_equal(lr->n_projects, 0);
    s_free(lr);
    /* an owner lists its own, and only its own */
    lp.state = 0;
    lp.owner_uscc = "";
    lr = (Ccip__Followup__ListProjectsReply *)s_ok(
        "grantee", actor, "followup.project.list.v1", &lp.base,
        &ccip__followup__list_projects_reply__descriptor);
    assert_int_equal(lr->n_projects, 1);
    s_free(lr);
    /* a month's report due and missing: time passes for this project */
    assert_int_equal(s_number("WITH u AS (UPDATE project SET report_check_due_at = now() - "
                              "interval '1 minute' WHERE id = '%s' AND report_check_month IS NOT "
                              "NULL RETURNING 1) SELECT count(*) FROM u",
                              id),
                     1);
    s_free(s_sweep());
    s_free(s_sweep());
    assert_int_equal(s_number("SELECT count(*) FROM escalation WHERE milestone_id = '%s' AND kind "
                              "= 'MILESTONE_LATE'",
                              late_m),
                     1);
    assert_int_equal(s_number("SELECT count(*) FROM escalation WHERE milestone_id = '%s' AND kind "
                              "= 'MILESTONE_AT_RISK'",
                              risk_m),
                     1);
    assert_int_equal(s_number("SELECT count(*) FROM escalation WHERE project_id = '%s' AND kind = "
                              "'MONTHLY_REPORT_MISSING'",
                              id),
                     1);
    /* the month's cursor moved on */
    assert_int_equal(s_number("SELECT count(*) FROM project WHERE id = '%s' AND "
                              "report_check_due_at > now()",
                              id),
                     1);
    assert_int_equal(s_events("followup.project.escalated.v1", id), 3);

    /* the late milestone reported reached today: late, but escalated once */
    Ccip__Followup__FileReportRequest fr = CCIP__FOLLOWUP__FILE_REPORT_REQUEST__INIT;
    Ccip__Followup__MilestoneProgress g1 = CCIP__FOLLOWUP__MILESTONE_PROGRESS__INIT,
                                      g2 = CCIP__FOLLOWUP__MILESTONE_PROGRESS__INIT,
                                      *gp[] = {&g1, &g2};
    g1.milestone_id = late_m;
    g1.percent = 100;
    g1.reached_on = (char *)s_day(0);
    g1.note = "";
    g2.milestone_id = risk_m;
    g2.percent = 10;
    g2.reached_on = "";
    g2.note = "tender published";
    fr.project_id = id;
    fr.month = (char *)s_this_month();
    fr.investment_completed_fen = 700000000;
    fr.problems = "";
    fr.progress = gp;
    fr.n_progress = 2;
    /* reached but not 100%, reached in the future: refused */
    g1.percent = 90;
    assert_int_equal(
        s_send("grantee", actor, "followup.project.file_report.v1", &fr.base, NULL, NULL),
        CCIP__STATUS__INVALID_ARGUMENT);
    g1.percent = 100;
    g1.reached_on = (char *)s_day(2);
    assert_int_equal(
        s_send("grantee", actor, "followup.project.file_report.v1", &fr.base, NULL, NULL),
        CCIP__STATUS__INVALID_ARGUMENT);
    s_error_has("today");
    g1.reached_on = (char *)s_day(0);
    s_free(s_ok("grantee", actor, "followup.project.file_report.v1", &fr.base, NULL));
    assert_int_equal(s_number("SELECT count(*) FROM escalation WHERE milestone_id = '%s' AND kind "
                              "= 'MILESTONE_LATE'",
                              late_m),
                     1);
    p = s_get_project(OFFICE, id);
    assert_int_equal(p->state, CCIP__FOLLOWUP__BOARD_STATE__ON_TRACK);
    assert_true(p->milestones[0]->late); /* reached after its day */
    assert_int_equal(p->n_escalations, 3);
    int reached_summary = 0;
    for (size_t i = 0; i < p->n_escalations; i++)
        reached_summary += strstr(p->escalations[i]->summary, "was reached on") != NULL;
    assert_int_equal(reached_summary, 1);
    s_free(p);

    /* a milestone planned for today, reported reached today: not late */
    const int today[] = {0, 5};
    char owner2[19], actor2[32];
    s_uscc(owner2);
    snprintf(actor2, sizeof actor2, "org:%s", owner2);
    p = s_staff_project(owner2, today, 2);
    g1.milestone_id = p->milestones[0]->id;
    g1.reached_on = (char *)s_day(0);
    fr.project_id = p->id;
    fr.n_progress = 1;
    s_free(s_ok("grantee", actor2, "followup.project.file_report.v1", &fr.base, NULL));
    assert_int_equal(s_number("SELECT count(*) FROM escalation WHERE project_id = '%s'", p->id), 0);
    s_free(p);

    /* works its owner registered in ip show on the record */
    char work[37];
    ccip_uuid_v7(work);
    Ccip__Ip__Owner o = CCIP__IP__OWNER__INIT, *op[] = {&o};
    o.party = actor;
    o.share_bp = 10000;
    Ccip__Ip__WorkRegistered wr = CCIP__IP__WORK_REGISTERED__INIT;
    wr.work_id = work;
    wr.serial = 42;
    wr.kind = CCIP__IP__WORK_KIND__COPYRIGHT_SOFTWARE;
    wr.title = "Canal museum guide app";
    wr.owners = op;
    wr.n_owners = 1;
    wr.content_sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
    wr.registered_at_us = ccip_now_us();
    assert_true(ccip_test_producer_add(s_ip, "ip.work.registered.v1", "work", work, &wr.base, actor,
                                       "owner") > 0);
    s_applied(s_ip);
    p = s_get_project(OFFICE, id);
    assert_int_equal(p->n_works, 1);
    assert_string_equal(p->works[0]->title, "Canal museum guide app");
    assert_int_equal(p->works[0]->serial, 42);
    s_free(p);

    /* a project from a designated cluster; revoked, it is at risk */
    char designation[37], holder[19];
    ccip_uuid_v7(designation);
    s_uscc(holder);
    Ccip__Evaluation__Designation d = CCIP__EVALUATION__DESIGNATION__INIT;
    d.id = designation;
    d.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    d.certificate_no = "CCI-2027-0042";
    d.holder_uscc = holder;
    d.holder_name = "北京郎园文创园";
    d.name = (char *)s_title("Langyuan creative cluster");
    d.district_code = "110105";
    d.status = CCIP__EVALUATION__DESIGNATION_STATUS__DESIGNATION_ACTIVE;
    d.valid_until_us = ccip_now_us() + 365 * DAY_US;
    Ccip__Evaluation__DesignationChanged dc = CCIP__EVALUATION__DESIGNATION_CHANGED__INIT;
    dc.designation = &d;
    assert_true(ccip_test_producer_add(s_evaluation, "evaluation.designation.granted.v1",
                                       "designation", designation, &dc.base, "office-chen",
                                       "office") > 0);
    s_applied(s_evaluation);
    Ccip__Followup__RegisterProjectRequest rq = CCIP__FOLLOWUP__REGISTER_PROJECT_REQUEST__INIT;
    rq.year = s_this_year();
    rq.source = CCIP__FOLLOWUP__PROJECT_SOURCE__FROM_DESIGNATION;
    rq.designation_id = designation;
    rq.planned_investment_fen = 0;
    rq.start_date = (char *)s_day(-30);
    rq.end_date = (char *)s_day(30);
    int status;
    p = s_register(&rq, &status);
    assert_int_equal(status, 0);
    assert_string_equal(p->owner_uscc, holder);
    assert_string_equal(p->district_code, "110105");
    char from_designation[37];
    snprintf(from_designation, sizeof from_designation, "%s", p->id);
    s_free(p);
    d.status = CCIP__EVALUATION__DESIGNATION_STATUS__DESIGNATION_REVOKED;
    d.revoke_reason = "the park closed";
    assert_true(ccip_test_producer_add(s_evaluation, "evaluation.designation.revoked.v1",
                                       "designation", designation, &dc.base, "office-chen",
                                       "office") > 0);
    s_applied(s_evaluation);
    p = s_get_project(OFFICE, from_designation);
    assert_int_equal(p->state, CCIP__FOLLOWUP__BOARD_STATE__AT_RISK);
    assert_int_equal(p->designation->status,
                     CCIP__EVALUATION__DESIGNATION_STATUS__DESIGNATION_REVOKED);
    s_free(p);

    /* the board: counts agree with the states of every active project */
    Ccip__Followup__BoardRequest br = CCIP__FOLLOWUP__BOARD_REQUEST__INIT;
    br.limit = 2000;
    Ccip__Followup__BoardReply *b = (Ccip__Followup__BoardReply *)s_ok(
        OFFICE, "followup.project.board.v1", &br.base, &ccip__followup__board_reply__descriptor);
    assert_int_equal(b->on_track + b->at_risk + b->late,
                     s_number("SELECT count(*) FROM project WHERE status = 'PROJECT_ACTIVE'"));
    for (size_t i = 1; i < b->n_projects; i++)
        assert_true(b->projects[i - 1]->state >= b->projects[i]->state); /* late first */
    assert_true(b->n_projects == (size_t)(b->at_risk + b->late));
    s_free(b);
    /* a district sees only its own district's projects */
    br.district_code = "110108";
    assert_int_equal(s_send(CHAOYANG, "followup.project.board.v1", &br.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    br.district_code = "";
    b = (Ccip__Followup__BoardReply *)s_ok(CHAOYANG, "followup.project.board.v1", &br.base,
                                           &ccip__followup__board_reply__descriptor);
    for (size_t i = 0; i < b->n_projects; i++)
        assert_string_equal(b->projects[i]->district_code, "110105");
    s_free(b);
    /* closed: off the board, nothing more escalated */
    Ccip__Followup__CloseProjectRequest cr = CCIP__FOLLOWUP__CLOSE_PROJECT_REQUEST__INIT;
    cr.project_id = id;
    cr.status = CCIP__FOLLOWUP__PROJECT_STATUS__PROJECT_CANCELLED;
    cr.reason = "";
    assert_int_equal(s_send(OFFICE, "followup.project.close.v1", &cr.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    cr.reason = "the owner gave the site back";
    assert_int_equal(s_send(STAFF, "followup.project.close.v1", &cr.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    s_free(s_ok(OFFICE, "followup.project.close.v1", &cr.base, NULL));
    assert_int_equal(
        s_number("SELECT count(*) FROM milestone WHERE project_id = '%s' AND active", id), 0);
}

/* The weekly digest: every open task by timeliness, once per week. */
static void test_weekly_digest(void **state)
{
    (void)state;
    char task[37];
    s_task("center", s_day(3), 0, task);
    Ccip__Followup__TaskBoardRequest br = CCIP__FOLLOWUP__TASK_BOARD_REQUEST__INIT;
    Ccip__Followup__TaskBoardReply *b = (Ccip__Followup__TaskBoardReply *)s_ok(
        OFFICE, "followup.task.board.v1", &br.base, &ccip__followup__task_board_reply__descriptor);
    Ccip__Followup__PublishDigestRequest rq = CCIP__FOLLOWUP__PUBLISH_DIGEST_REQUEST__INIT;
    assert_int_equal(s_send(STAFF, "followup.task.publish_digest.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    Ccip__Followup__PublishDigestReply *r = (Ccip__Followup__PublishDigestReply *)s_ok(
        OFFICE, "followup.task.publish_digest.v1", &rq.base,
        &ccip__followup__publish_digest_reply__descriptor);
    assert_true(r->published);
    char week[16];
    followup_iso_week(ccip_now_us(), week, sizeof week);
    assert_string_equal(r->week, week);
    assert_int_equal(r->on_time, b->on_time);
    assert_int_equal(r->due_soon, b->due_soon);
    assert_int_equal(r->overdue, b->overdue);
    assert_true(r->due_soon >= 1);
    assert_int_equal(s_events("followup.task.digest_published.v1", week), r->parts);
    s_free(r);
    s_free(b);
    /* again this week: nothing more */
    r = (Ccip__Followup__PublishDigestReply *)s_ok(
        ADMIN, "followup.task.publish_digest.v1", &rq.base,
        &ccip__followup__publish_digest_reply__descriptor);
    assert_false(r->published);
    s_free(r);
    assert_int_equal(s_number("SELECT count(*) FROM digest WHERE week = '%s'", week), 1);
}

/* Bad input gets a sentence naming the problem and the fix, and changes
 * nothing. */
static void test_bad_input_changes_nothing(void **state)
{
    (void)state;
    long long tasks = s_number("SELECT count(*) FROM task");
    long long events = s_number("SELECT count(*) FROM outbox");
    /* not a protobuf */
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    char id[37];
    ccip_uuid_v7(id);
    env.id = id;
    env.type = "followup.task.create.v1";
    env.actor_role = "office";
    env.actor_id = "office-chen";
    uint8_t junk[] = {0xff, 0xff, 0xff, 0x01};
    env.payload.data = junk;
    env.payload.len = sizeof junk;
    char err[256];
    Ccip__Envelope *reply =
        ccip_client_call(s_svc.front, "followup", &env, 10000, 3, err, sizeof err);
    assert_non_null(reply);
    assert_int_equal(reply->status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_non_null(strstr(reply->error, "could not decode"));
    ccip_envelope_free(&reply);

    Ccip__Followup__CreateTaskRequest rq = CCIP__FOLLOWUP__CREATE_TASK_REQUEST__INIT;
    Ccip__Followup__TaskSource src = CCIP__FOLLOWUP__TASK_SOURCE__INIT;
    src.kind = CCIP__FOLLOWUP__TASK_SOURCE_KIND__SOURCE_MEMO;
    src.reference = "京文创办〔2027〕13号";
    char *dup[] = {"center:planning", "center:planning"};
    char *lead_co[] = {"center"};
    struct {
        const char *title, *lead, *deadline;
        char **co;
        size_t nco;
        int interval;
        const char *says;
    } cases[] = {
        {"", "center", s_day(5), NULL, 0, 0, "field `title`"},
        {"ok", "office", s_day(5), NULL, 0, 0, "field `lead_unit`"},
        {"ok", "district:999999", s_day(5), NULL, 0, 0, "names no district"},
        {"ok", "center", s_day(-1), NULL, 0, 0, "has passed"},
        {"ok", "center", "30 June", NULL, 0, 0, "YYYY-MM-DD"},
        {"ok", "center", s_day(5), dup, 2, 0, "twice"},
        {"ok", "center", s_day(5), lead_co, 1, 0, "names the lead unit"},
        {"ok", "center", s_day(5), NULL, 0, 91, "report_interval_days"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rq.title = (char *)cases[i].title;
        rq.instruction = "Do it.";
        rq.source = &src;
        rq.lead_unit = (char *)cases[i].lead;
        rq.responsible = "王主任";
        rq.deadline = (char *)cases[i].deadline;
        rq.co_organisers = cases[i].co;
        rq.n_co_organisers = cases[i].nco;
        rq.report_interval_days = cases[i].interval;
        assert_int_equal(s_send(OFFICE, "followup.task.create.v1", &rq.base, NULL, NULL),
                         CCIP__STATUS__INVALID_ARGUMENT);
        s_error_has(cases[i].says);
    }
    rq.source = NULL;
    rq.title = "ok";
    rq.lead_unit = "center";
    rq.deadline = (char *)s_day(5);
    rq.co_organisers = NULL;
    rq.n_co_organisers = 0;
    rq.report_interval_days = 0;
    assert_int_equal(s_send(OFFICE, "followup.task.create.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_error_has("source.kind");
    /* ids that are not ids, tasks that do not exist */
    assert_int_equal(s_act(STAFF, "followup.task.acknowledge.v1", "42", NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_error_has("task_id");
    char none[37];
    ccip_uuid_v7(none);
    assert_int_equal(s_act(STAFF, "followup.task.acknowledge.v1", none, NULL),
                     CCIP__STATUS__NOT_FOUND);
    s_error_has("followup.task.list.v1");
    assert_int_equal(s_number("SELECT count(*) FROM task"), tasks);
    assert_int_equal(s_number("SELECT count(*) FROM outbox"), events);
    /* an attachment too large */
    char task[37];
    s_task("center", s_day(9), 0, task);
    assert_int_equal(s_act(STAFF, "followup.task.acknowledge.v1", task, NULL), 0);
    long long rows = s_task_rows(task);
    char *big = malloc(70000);
    memset(big, 'x', 69999);
    big[69999] = '\0';
    assert_int_equal(s_report(STAFF, "followup.task.report_progress.v1", task, "big", big),
                     CCIP__STATUS__INVALID_ARGUMENT);
    free(big);
    s_error_has("65536 bytes");
    assert_int_equal(s_task_rows(task), rows);
    /* the service is still there */
    s_free(s_sweep());
}

/* ---- ccipctl --------------------------------------------------------------------------- */

/* The office, the center and an owner through ccipctl: a task from
 * creation to acceptance with an attachment, the board as CSV, a key
 * project with milestones and its monthly report, the project board; as
 * text (Beijing times), JSON and CSV. */
static void test_ccipctl(void **state)
{
    (void)state;
    static char out[131072];
    char task[64] = "", project[64] = "", milestone[64] = "", attachment[64] = "", path[512];
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "followup --help"), 0);
    assert_non_null(strstr(out, "task create"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "followup task create x 2>&1"), 2);
    assert_non_null(strstr(out, "--instruction is required"));
    /* the office records a task: JSON for the id */
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--json --role office --actor office-chen followup task create "
                                   "'Report on the parks' --instruction 'Survey them.' --source "
                                   "memo --ref 'No. 12' --lead center --co district:110108 "
                                   "--responsible 'Wang' --deadline %s --priority high",
                                   s_day(20)),
                     0);
    ccip_test_json_value(out, "id", task, sizeof task);
    assert_true(ccip_uuid_valid(task));
    assert_non_null(strstr(out, "\"status\":\"TASK_ASSIGNED\""));
    /* a district that does not lead it: refused, exit 1, the sentence */
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role district --actor district:110108 followup task "
                                   "acknowledge %s 2>&1",
                                   task),
                     1);
    assert_non_null(strstr(out, "only the lead unit"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-li followup task acknowledge %s",
                                   task),
                     0);
    /* progress with an attachment, read back whole */
    snprintf(path, sizeof path, "%s/parks.csv", s_svc.env.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("park,occupancy\n798,0.93\n", f);
    fclose(f);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--json --role staff --actor staff-li followup task progress %s "
                                   "--text 'half the parks' --attach %s --type text/csv",
                                   task, path),
                     0);
    const char *at = strstr(out, "\"attachments\":[{\"id\":\"");
    assert_non_null(at);
    snprintf(attachment, 37, "%s", at + strlen("\"attachments\":[{\"id\":\""));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-li followup task attachment %s",
                                   attachment),
                     0);
    assert_string_equal(out, "park,occupancy\n798,0.93\n");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-wang followup task complete %s "
                                   "--text 'all parks'",
                                   task),
                     0);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role office --actor office-chen followup task accept %s",
                                   task),
                     0);
    /* shown in Beijing */
    assert_non_null(strstr(out, "TASK_ACCEPTED"));
    assert_non_null(strstr(out, "(end of that day, Beijing)"));
    assert_non_null(strstr(out, " Beijing  completion_reported"));
    /* the list and the board as CSV */
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role office --actor office-chen followup task list --lead "
                                   "center --csv --limit 2000"),
                     0);
    assert_non_null(strstr(out, "id,title,status,timeliness,deadline,lead_unit"));
    assert_non_null(strstr(out, task));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role office --actor office-chen followup task board --csv"),
                     0);
    assert_non_null(strstr(out, "task_id,title,lead_unit,deadline,timeliness"));

    /* a key project with milestones, entered by staff */
    char owner[19];
    s_uscc(owner);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--json --role staff --actor staff-li followup project register "
                                   "--year %d --source staff --title 'Canal light show' --owner %s "
                                   "--owner-name 'Canal Culture Co.' --district 110105 "
                                   "--investment 1500000.50 --start %s --end %s --milestone "
                                   "'%s:designs approved' --milestone '%s:premiere'",
                                   s_this_year(), owner, s_day(-30), s_day(200), s_day(-2),
                                   s_day(100)),
                     0);
    ccip_test_json_value(out, "id", project, sizeof project);
    assert_true(ccip_uuid_valid(project));
    assert_non_null(strstr(out, "\"planned_investment_fen\":150000050"));
    assert_non_null(strstr(out, "\"state\":\"LATE\""));
    const char *ms = strstr(out, "\"milestones\":[{\"id\":\"");
    assert_non_null(ms);
    snprintf(milestone, 37, "%s", ms + strlen("\"milestones\":[{\"id\":\""));
    /* the owner reports the late milestone reached */
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role grantee --actor org:%s followup project report %s %s "
                                   "--invested 200000 --problems 'permit pending' --progress "
                                   "%s:100:%s",
                                   owner, project, s_this_month(), milestone, s_day(0)),
                     0);
    assert_non_null(strstr(out, "state        ON_TRACK"));
    assert_non_null(strstr(out, "LATE  designs approved"));
    assert_non_null(strstr(out, "MILESTONE_LATE"));
    assert_non_null(strstr(out, "200000.00 yuan"));
    /* again: refused, with the fix */
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role grantee --actor org:%s followup project report %s %s "
                                   "--invested 250000 2>&1",
                                   owner, project, s_this_month()),
                     1);
    assert_non_null(strstr(out, "replaces nothing"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role grantee --actor org:%s followup project report %s %s "
                                   "--invested 250000 --correction 'invoice counted twice'",
                                   owner, project, s_this_month()),
                     0);
    assert_non_null(strstr(out, "(replaced)"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role office --actor office-chen followup project board "
                                   "--state on-track --csv --limit 2000"),
                     0);
    assert_non_null(strstr(out, "id,year,state,status,district"));
    assert_non_null(strstr(out, project));
    assert_non_null(strstr(out, "1500000.50,250000.00"));
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out, "--role staff --actor staff-li followup sweep"), 0);
    assert_non_null(strstr(out, "escalated:"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_office_decides_only_lead_reports),
        cmocka_unit_test(test_extension_moves_deadline_only_when_granted),
        cmocka_unit_test_teardown(test_sweep_escalates_once_per_missed_deadline, s_stop_sweeping),
        cmocka_unit_test(test_progress_report_interval),
        cmocka_unit_test(test_milestones_within_period_and_amounts),
        cmocka_unit_test(test_monthly_report_once_or_correction),
        cmocka_unit_test(test_award_suspension_and_clawback_put_project_at_risk),
        cmocka_unit_test(test_dates_stored_utc_shown_beijing),
        cmocka_unit_test(test_task_life),
        cmocka_unit_test(test_project_escalations_and_board),
        cmocka_unit_test(test_weekly_digest),
        cmocka_unit_test(test_bad_input_changes_nothing),
        cmocka_unit_test(test_ccipctl),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
