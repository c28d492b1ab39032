/*
 * The intake service end to end: the real bus and intake processes, real
 * PostgreSQL, commands sent through the front door with a person's role,
 * the way ccipctl and the web gateway send them. One test per rule of
 * issue 4, plus the applicant view fed by (fake) evaluation and funding
 * producers and a walk-through with ccipctl.
 *
 * Every test makes its own calls and organisations (fresh unified social
 * credit codes), so the tests share one bus and one intake and may run in
 * any order against a database that has seen earlier runs.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip/intake.pb-c.h"
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

#define STAFF         "staff", "staff-li"
#define MAX_DOC_BYTES 65536 /* intake.max_document_bytes for this suite */
#define HOUR_US       (3600LL * 1000000)
#define DAY_US        (24 * HOUR_US)

static ccip_test_svc s_svc; /* the bus, intake, the clients, the last reply's sentence */
static pid_t s_intake;      /* the running intake replica */

/* ---- helpers -------------------------------------------------------------- */

/* Whole seconds, so that the times in messages are predictable. */
static int64_t s_now_s_us(void)
{
    return ccip_now_us() / 1000000 * 1000000;
}

/* Writes t as the service writes it in messages: "2026-11-27T10:00:00Z". */
static void s_time_text(int64_t us, char *buf, size_t len)
{
    ccip_time_format_us(us, buf, len);
    char *dot = strchr(buf, '.');
    if (dot)
        memcpy(dot, "Z", 2);
}

typedef struct {
    Ccip__Intake__CallKind kind;
    int64_t opens_at_us;                     /* 0 = an hour ago */
    int64_t closes_at_us;                    /* 0 = in thirty days */
    const char *docs[4];                     /* required document types */
    int64_t max_request_fen;                 /* special funds */
    Ccip__Intake__OrganisationType eligible; /* 0 = anyone */
} s_call_spec;

/* Opens a call as staff; writes its id. */
static void s_open_call(const s_call_spec *spec, char id[CCIP_UUID_STRLEN + 1])
{
    Ccip__Intake__OpenCallRequest rq = CCIP__INTAKE__OPEN_CALL_REQUEST__INIT;
    rq.kind = spec->kind;
    rq.year = 2027;
    rq.title = "2027 call for test applications";
    int64_t now = s_now_s_us();
    rq.opens_at_us = spec->opens_at_us ? spec->opens_at_us : now - HOUR_US;
    rq.closes_at_us = spec->closes_at_us ? spec->closes_at_us : now + 30 * DAY_US;
    char *docs[4];
    for (rq.n_required_documents = 0;
         rq.n_required_documents < 4 && spec->docs[rq.n_required_documents];
         rq.n_required_documents++)
        docs[rq.n_required_documents] = (char *)spec->docs[rq.n_required_documents];
    rq.required_documents = docs;
    Ccip__Intake__OrganisationType types[1] = {spec->eligible};
    if (spec->eligible) {
        rq.eligible_types = types;
        rq.n_eligible_types = 1;
    }
    if (spec->kind == CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT) {
        rq.fund_programme_code = "CCI-2027";
        rq.max_request_fen = spec->max_request_fen ? spec->max_request_fen : 500000000;
    }
    Ccip__Intake__CallReply *r = (Ccip__Intake__CallReply *)ccip_test_ok(
        &s_svc, STAFF, "intake.call.open.v1", &rq.base, &ccip__intake__call_reply__descriptor);
    snprintf(id, CCIP_UUID_STRLEN + 1, "%s", r->call->id);
    ccip_test_free(r);
}

/* Registers a fresh organisation (as itself); verifies it when asked.
 * Writes its USCC and the applicant actor id "org:<USCC>". */
static void s_org(Ccip__Intake__OrganisationType type, int verify, char uscc[CCIP_USCC_LEN + 1],
                  char actor[CCIP_USCC_LEN + 5])
{
    ccip_test_uscc("110105", uscc);
    snprintf(actor, CCIP_USCC_LEN + 5, "org:%s", uscc);
    Ccip__Intake__RegisterOrganisationRequest rq =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    rq.uscc = uscc;
    rq.name = "北京测试文化创意有限公司";
    rq.type = type ? type : CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE;
    rq.district = "Chaoyang";
    rq.legal_representative = "王芳";
    rq.contact_name = "李明";
    rq.contact_phone = "010-6512 3456";
    rq.contact_email = "office@example.cn";
    ccip_test_free(ccip_test_ok(&s_svc, "applicant", actor, "intake.organisation.register.v1",
                                &rq.base, NULL));
    if (verify) {
        Ccip__Intake__VerifyOrganisationRequest v = CCIP__INTAKE__VERIFY_ORGANISATION_REQUEST__INIT;
        v.uscc = uscc;
        v.note = "licence checked against the register";
        ccip_test_free(ccip_test_ok(&s_svc, STAFF, "intake.organisation.verify.v1", &v.base, NULL));
    }
}

/* Content of a complete application for a call of `kind`. The facts
 * structs live in the caller's frame (see s_content_storage). */
typedef struct {
    Ccip__Intake__ApplicationContent c;
    Ccip__Intake__ClusterFacts cluster;
    Ccip__Intake__TalentBaseFacts talent;
    Ccip__Intake__TrainingProgramme programme;
    Ccip__Intake__TrainingProgramme *programmes[1];
    Ccip__Intake__ProjectFacts project;
    Ccip__Intake__BudgetLine lines[2];
    Ccip__Intake__BudgetLine *line_ptrs[2];
} s_content_storage;

static Ccip__Intake__ApplicationContent *s_content(s_content_storage *s,
                                                   Ccip__Intake__CallKind kind, int64_t requested)
{
    memset(s, 0, sizeof *s);
    s->c = (Ccip__Intake__ApplicationContent)CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    s->c.title = "Digital heritage workshop";
    s->c.summary = "Restoring and digitising opera costumes;\nopen studio for schools.";
    s->c.district = "110105";
    if (kind == CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION) {
        s->cluster = (Ccip__Intake__ClusterFacts)CCIP__INTAKE__CLUSTER_FACTS__INIT;
        s->cluster.cluster_name = "798 Art Zone";
        s->cluster.location = "Jiuxianqiao Road 4";
        s->cluster.area_m2 = 230000;
        s->cluster.enterprise_count = 400;
        s->cluster.employee_count = 9000;
        s->cluster.lead_operator = "Seven Star Group";
        s->c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
        s->c.cluster = &s->cluster;
    } else if (kind == CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION) {
        s->programme = (Ccip__Intake__TrainingProgramme)CCIP__INTAKE__TRAINING_PROGRAMME__INIT;
        s->programme.name = "Animation";
        s->programme.capacity = 120;
        s->programmes[0] = &s->programme;
        s->talent = (Ccip__Intake__TalentBaseFacts)CCIP__INTAKE__TALENT_BASE_FACTS__INIT;
        s->talent.programmes = s->programmes;
        s->talent.n_programmes = 1;
        s->talent.annual_capacity = 120;
        s->c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE;
        s->c.talent_base = &s->talent;
    } else {
        s->c.requested_fen = requested;
        for (int i = 0; i < 2; i++) {
            s->lines[i] = (Ccip__Intake__BudgetLine)CCIP__INTAKE__BUDGET_LINE__INIT;
            s->lines[i].item = i ? "Equipment" : "Staff";
            s->lines[i].amount_fen = requested > 1 ? requested / 2 : 1;
            s->line_ptrs[i] = &s->lines[i];
        }
        s->project = (Ccip__Intake__ProjectFacts)CCIP__INTAKE__PROJECT_FACTS__INIT;
        s->project.budget_lines = s->line_ptrs;
        s->project.n_budget_lines = 2;
        s->c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT;
        s->c.project = &s->project;
    }
    return &s->c;
}

/* Sends a draft; returns the status and writes the id when OK. */
static int s_try_draft(const char *actor, const char *uscc, const char *call_id,
                       Ccip__Intake__ApplicationContent *content, const char *command_id,
                       char id[CCIP_UUID_STRLEN + 1])
{
    Ccip__Intake__DraftApplicationRequest rq = CCIP__INTAKE__DRAFT_APPLICATION_REQUEST__INIT;
    rq.call_id = (char *)call_id;
    rq.applicant_uscc = (char *)uscc;
    rq.content = content;
    Ccip__Intake__ApplicationReply *r = NULL;
    int status = ccip_test_send(&s_svc, "applicant", actor, "intake.application.draft.v1", &rq.base,
                                command_id, &ccip__intake__application_reply__descriptor,
                                (ProtobufCMessage **)&r);
    if (status == 0 && id)
        snprintf(id, CCIP_UUID_STRLEN + 1, "%s", r->application->id);
    ccip_test_free(r);
    return status;
}

static void s_draft(const char *actor, const char *uscc, const char *call_id,
                    Ccip__Intake__CallKind kind, int64_t requested, char id[CCIP_UUID_STRLEN + 1])
{
    s_content_storage st;
    int status = s_try_draft(actor, uscc, call_id, s_content(&st, kind, requested), NULL, id);
    if (status != 0) {
        char what[800];
        snprintf(what, sizeof what, "draft: status %d: %s", status, s_svc.error);
        ccip_test_fail(&s_svc, what);
    }
}

/* Adds a document; returns the status; *dedup (may be NULL) says whether
 * the content was stored already. */
static int s_add_doc(const char *actor, const char *app, const char *doc_type, const void *data,
                     size_t len, int *dedup)
{
    Ccip__Intake__AddDocumentRequest rq = CCIP__INTAKE__ADD_DOCUMENT_REQUEST__INIT;
    rq.application_id = (char *)app;
    rq.doc_type = (char *)doc_type;
    rq.name = "scan.pdf";
    rq.media_type = "application/pdf";
    rq.content.data = (uint8_t *)data;
    rq.content.len = len;
    Ccip__Intake__DocumentReply *r = NULL;
    int status =
        ccip_test_send(&s_svc, "applicant", actor, "intake.application.document.add.v1", &rq.base,
                       NULL, &ccip__intake__document_reply__descriptor, (ProtobufCMessage **)&r);
    if (status == 0 && dedup)
        *dedup = r->deduplicated;
    ccip_test_free(r);
    return status;
}

/* A transition (submit, withdraw, accept, return, reject); returns the
 * status. */
static int s_act(const char *role, const char *actor, const char *verb, const char *app,
                 const char *reason, const char *command_id)
{
    char type[64];
    snprintf(type, sizeof type, "intake.application.%s.v1", verb);
    Ccip__Intake__ApplicationActionRequest rq = CCIP__INTAKE__APPLICATION_ACTION_REQUEST__INIT;
    rq.application_id = (char *)app;
    rq.reason = (char *)(reason ? reason : "");
    return ccip_test_send(&s_svc, role, actor, type, &rq.base, command_id, NULL, NULL);
}

static Ccip__Intake__Application *s_get(const char *role, const char *actor, const char *app)
{
    Ccip__Intake__GetApplicationRequest rq = CCIP__INTAKE__GET_APPLICATION_REQUEST__INIT;
    rq.application_id = (char *)app;
    Ccip__Intake__ApplicationReply *r = (Ccip__Intake__ApplicationReply *)ccip_test_ok(
        &s_svc, role, actor, "intake.application.get.v1", &rq.base,
        &ccip__intake__application_reply__descriptor);
    Ccip__Intake__Application *a = r->application;
    r->application = NULL;
    ccip_test_free(r);
    return a;
}

/* A draft with every required document, ready to submit. */
static void s_ready(const char *actor, const char *uscc, const char *call,
                    Ccip__Intake__CallKind kind, const char *const *docs, char app[37])
{
    s_draft(actor, uscc, call, kind, 100000000, app);
    for (int i = 0; docs && docs[i]; i++) {
        char content[64];
        snprintf(content, sizeof content, "%s of %s", docs[i], app);
        assert_int_equal(s_add_doc(actor, app, docs[i], content, strlen(content), NULL), 0);
    }
}

/* ---- set-up ------------------------------------------------------------------ */

static int s_group_setup(void **state)
{
    (void)state;
    char v[32];
    snprintf(v, sizeof v, "%d", MAX_DOC_BYTES);
    setenv("CCIP_INTAKE_MAX_DOCUMENT_BYTES", v, 1);
    setenv("CCIP_INTAKE_CLOSE_CHECK_SECONDS", "1", 1); /* test_calls_close_themselves */
    /* Started by hand rather than by ccip_test_svc_start: the restart test
     * needs the replica's pid. */
    if (ccip_test_svc_init(&s_svc, "intake") < 0 || ccip_test_start_bus(&s_svc.env) < 0 ||
        (s_intake = ccip_test_start_service(&s_svc.env, "services/intake/intake", "intake",
                                            "intake-1")) < 0 ||
        ccip_test_svc_wait(&s_svc, "intake") < 0) {
        ccip_test_env_cleanup(&s_svc.env, 1);
        return -1;
    }
    s_svc.timeout_ms = 5000;
    return 0;
}

static int s_group_teardown(void **state)
{
    (void)state;
    ccip_test_svc_stop(&s_svc);
    return 0;
}

/* ---- calls --------------------------------------------------------------------- */

/* Staff open a call: opened event; anyone allowed reads it; applicants and
 * services may not open one; bad calls are refused, naming the field. */
static void test_calls(void **state)
{
    (void)state;
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT,
                        .docs = {"business_licence", "budget_table"},
                        .max_request_fen = 300000000,
                        .eligible = CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE};
    char call[37];
    s_open_call(&spec, call);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM outbox WHERE type = 'intake.call.opened.v1' "
                         "AND aggregate_id = '%s'",
                         call),
        1);

    Ccip__Intake__GetCallRequest g = CCIP__INTAKE__GET_CALL_REQUEST__INIT;
    g.call_id = call;
    Ccip__Intake__CallReply *r = (Ccip__Intake__CallReply *)ccip_test_ok(
        &s_svc, NULL, NULL, "intake.call.get.v1", &g.base, &ccip__intake__call_reply__descriptor);
    assert_int_equal(r->call->kind, CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT);
    assert_int_equal(r->call->n_required_documents, 2);
    assert_string_equal(r->call->required_documents[1], "budget_table");
    assert_int_equal(r->call->n_eligible_types, 1);
    assert_int_equal(r->call->max_request_fen, 300000000);
    assert_true(r->call->accepting);
    ccip_test_free(r);

    Ccip__Intake__ListCallsRequest l = CCIP__INTAKE__LIST_CALLS_REQUEST__INIT;
    l.year = 2027;
    l.accepting_only = 1;
    Ccip__Intake__ListCallsReply *lr = (Ccip__Intake__ListCallsReply *)ccip_test_ok(
        &s_svc, "applicant", "org:91110105MA01ABCD26", "intake.call.list.v1", &l.base,
        &ccip__intake__list_calls_reply__descriptor);
    int found = 0;
    for (size_t i = 0; i < lr->n_calls; i++)
        found += strcmp(lr->calls[i]->id, call) == 0;
    assert_int_equal(found, 1);
    ccip_test_free(lr);

    /* Only staff open calls. */
    Ccip__Intake__OpenCallRequest o = CCIP__INTAKE__OPEN_CALL_REQUEST__INIT;
    o.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    o.year = 2027;
    o.title = "Clusters 2027";
    o.opens_at_us = s_now_s_us();
    o.closes_at_us = o.opens_at_us + DAY_US;
    assert_int_equal(ccip_test_send(&s_svc, "applicant", "org:91110105MA01ABCD26",
                                    "intake.call.open.v1", &o.base, NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(
        ccip_test_send(&s_svc, NULL, NULL, "intake.call.open.v1", &o.base, NULL, NULL, NULL),
        CCIP__STATUS__PERMISSION_DENIED);

    long long calls = ccip_test_number(&s_svc, "SELECT count(*) FROM call");
    o.title = "";
    assert_int_equal(
        ccip_test_send(&s_svc, STAFF, "intake.call.open.v1", &o.base, NULL, NULL, NULL),
        CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `title` is empty");
    o.title = "Clusters 2027";
    o.closes_at_us = o.opens_at_us - 1000000;
    assert_int_equal(
        ccip_test_send(&s_svc, STAFF, "intake.call.open.v1", &o.base, NULL, NULL, NULL),
        CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "`closes_at_us`");
    o.closes_at_us = o.opens_at_us + DAY_US;
    o.kind = CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT;
    o.fund_programme_code = "CCI-2027";
    assert_int_equal(
        ccip_test_send(&s_svc, STAFF, "intake.call.open.v1", &o.base, NULL, NULL, NULL),
        CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "`max_request_fen` must be positive");
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM call"), calls);

    /* Closing: once, by staff, with an event. */
    Ccip__Intake__CloseCallRequest c = CCIP__INTAKE__CLOSE_CALL_REQUEST__INIT;
    c.call_id = call;
    c.reason = "budget exhausted";
    assert_int_equal(ccip_test_send(&s_svc, "applicant", "org:91110105MA01ABCD26",
                                    "intake.call.close.v1", &c.base, NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    ccip_test_free(ccip_test_ok(&s_svc, STAFF, "intake.call.close.v1", &c.base, NULL));
    assert_int_equal(
        ccip_test_send(&s_svc, STAFF, "intake.call.close.v1", &c.base, NULL, NULL, NULL),
        CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "already closed");
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM outbox WHERE type = 'intake.call.closed.v1' "
                         "AND aggregate_id = '%s'",
                         call),
        1);
}

/* ---- the register -------------------------------------------------------------- */

/* Bad codes, unknown districts and invalid UTF-8 are refused naming the
 * field, and nothing is written; an applicant registers only itself; a code
 * is registered once; applicants read only their own organisation. */
static void test_register(void **state)
{
    (void)state;
    char uscc[19], actor[24];
    ccip_test_uscc("110105", uscc);
    snprintf(actor, sizeof actor, "org:%s", uscc);
    Ccip__Intake__RegisterOrganisationRequest rq =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    rq.uscc = uscc;
    rq.name = "Beijing Opera Costume Co.";
    rq.type = CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE;
    rq.district = "Xicheng";
    rq.legal_representative = "Zhang Wei";
    rq.contact_name = "Liu Yang";
    rq.contact_phone = "+86 10 6601 2345";
    long long before = ccip_test_number(&s_svc, "SELECT count(*) FROM organisation");

    char bad[19];
    memcpy(bad, uscc, sizeof bad);
    bad[17] = bad[17] == '0' ? '1' : '0'; /* wrong check character */
    rq.uscc = bad;
    assert_int_equal(ccip_test_send(&s_svc, STAFF, "intake.organisation.register.v1", &rq.base,
                                    NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `uscc`");
    ccip_test_error_has(&s_svc, "check character");
    rq.uscc = "91110105MA01ABCD";
    assert_int_equal(ccip_test_send(&s_svc, STAFF, "intake.organisation.register.v1", &rq.base,
                                    NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "must be 18 characters");
    rq.uscc = uscc;
    rq.district = "Gotham";
    assert_int_equal(ccip_test_send(&s_svc, STAFF, "intake.organisation.register.v1", &rq.base,
                                    NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `district`");
    ccip_test_error_has(&s_svc, "Beijing's 16 districts");
    rq.district = "Xicheng";
    rq.name = "Bad \xC3\x28 name";
    assert_int_equal(ccip_test_send(&s_svc, STAFF, "intake.organisation.register.v1", &rq.base,
                                    NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `name` is not valid UTF-8");
    rq.name = "";
    assert_int_equal(ccip_test_send(&s_svc, STAFF, "intake.organisation.register.v1", &rq.base,
                                    NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `name` is empty");
    rq.name = "Beijing Opera Costume Co.";
    rq.contact_phone = "call me";
    assert_int_equal(ccip_test_send(&s_svc, STAFF, "intake.organisation.register.v1", &rq.base,
                                    NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "`contact_phone`");
    rq.contact_phone = "+86 10 6601 2345";
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM organisation"), before);

    /* An applicant registers only its own organisation. */
    char other[19], other_actor[24];
    ccip_test_uscc("110105", other);
    snprintf(other_actor, sizeof other_actor, "org:%s", other);
    assert_int_equal(ccip_test_send(&s_svc, "applicant", other_actor,
                                    "intake.organisation.register.v1", &rq.base, NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(ccip_test_send(&s_svc, NULL, NULL, "intake.organisation.register.v1", &rq.base,
                                    NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    Ccip__Intake__OrganisationReply *r = (Ccip__Intake__OrganisationReply *)ccip_test_ok(
        &s_svc, "applicant", actor, "intake.organisation.register.v1", &rq.base,
        &ccip__intake__organisation_reply__descriptor);
    assert_string_equal(r->organisation->district_code, "110102");
    assert_false(r->organisation->verified);
    ccip_test_free(r);
    assert_int_equal(ccip_test_send(&s_svc, STAFF, "intake.organisation.register.v1", &rq.base,
                                    NULL, NULL, NULL),
                     CCIP__STATUS__ALREADY_EXISTS);
    ccip_test_error_has(&s_svc, "already registered");

    Ccip__Intake__GetOrganisationRequest g = CCIP__INTAKE__GET_ORGANISATION_REQUEST__INIT;
    g.uscc = uscc;
    assert_int_equal(ccip_test_send(&s_svc, "applicant", other_actor, "intake.organisation.get.v1",
                                    &g.base, NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    ccip_test_free(ccip_test_ok(&s_svc, NULL, NULL, "intake.organisation.get.v1", &g.base, NULL));
    /* An applicant's actor id must name an organisation. */
    assert_int_equal(ccip_test_send(&s_svc, "applicant", "mallory", "intake.organisation.get.v1",
                                    &g.base, NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    ccip_test_error_has(&s_svc, "\"org:\"");

    Ccip__Intake__VerifyOrganisationRequest v = CCIP__INTAKE__VERIFY_ORGANISATION_REQUEST__INIT;
    v.uscc = uscc;
    assert_int_equal(ccip_test_send(&s_svc, "applicant", actor, "intake.organisation.verify.v1",
                                    &v.base, NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    r = (Ccip__Intake__OrganisationReply *)ccip_test_ok(
        &s_svc, STAFF, "intake.organisation.verify.v1", &v.base,
        &ccip__intake__organisation_reply__descriptor);
    assert_true(r->organisation->verified);
    assert_string_equal(r->organisation->verified_by, "staff-li");
    ccip_test_free(r);
}

/* ---- applications ------------------------------------------------------------- */

/* Draft, documents, submit, accept: the accepted event carries everything
 * evaluation needs; staff see the history, the applicant its own view. */
static void test_lifecycle(void **state)
{
    (void)state;
    const char *docs[] = {"business_licence", "budget_table", NULL};
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT,
                        .docs = {"business_licence", "budget_table"},
                        .max_request_fen = 300000000};
    char call[37], uscc[19], actor[24], app[37];
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    s_ready(actor, uscc, call, spec.kind, docs, app);
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL), 0);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'intake.application.submitted.v1' AND aggregate_id = '%s'",
                                      app),
                     1);
    assert_int_equal(s_act(STAFF, "accept", app, "complete", NULL), 0);

    /* The accepted event, as evaluation will read it. */
    Ccip__Intake__Application *a = s_get(STAFF, app);
    assert_int_equal(a->status, CCIP__INTAKE__APPLICATION_STATUS__ACCEPTED);
    assert_int_equal(a->n_history, 3);
    assert_int_equal(a->history[0]->to_status, CCIP__INTAKE__APPLICATION_STATUS__DRAFT);
    assert_int_equal(a->history[1]->to_status, CCIP__INTAKE__APPLICATION_STATUS__SUBMITTED);
    assert_string_equal(a->history[1]->actor_id, actor);
    assert_string_equal(a->history[2]->actor_id, "staff-li");
    assert_string_equal(a->history[2]->actor_role, "staff");
    assert_string_equal(a->history[2]->reason, "complete");
    assert_int_equal(a->n_documents, 2);
    assert_int_equal(strlen(a->documents[0]->sha256), 64);
    assert_int_equal(a->applicant_view->status,
                     CCIP__INTAKE__APPLICANT_STATUS__APPLICANT_IN_REVIEW);
    ccip_test_free(a);

    /* Replay answers only intake's consumers and admin keys. */
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.admin_keys);
    assert_non_null(c);
    Ccip__ReplayRequest rr = CCIP__REPLAY_REQUEST__INIT;
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM outbox WHERE type = 'intake.application.accepted.v1' AND "
             "aggregate_id = '%s' AND position IS NOT NULL",
             app);
    assert_int_equal(ccip_test_wait_count("intake", sql, 1, 5000), 1); /* the relay numbers it */
    long long pos = ccip_test_number(&s_svc,
                                     "SELECT position FROM outbox WHERE type = "
                                     "'intake.application.accepted.v1' AND aggregate_id = '%s'",
                                     app);
    assert_true(pos > 0);
    rr.from_position = (uint64_t)pos;
    rr.max_events = 1;
    uint8_t buf[32];
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    char id[37], err[256];
    ccip_uuid_v7(id);
    env.id = id;
    env.type = "ccip.replay.v1";
    env.payload.data = buf;
    env.payload.len = ccip__replay_request__pack(&rr, buf);
    Ccip__Envelope *reply = ccip_client_call(c, "intake", &env, 5000, 3, err, sizeof err);
    assert_non_null(reply);
    Ccip__ReplayReply *batch = (Ccip__ReplayReply *)ccip_payload_unpack(
        &ccip__replay_reply__descriptor, reply->payload.data, reply->payload.len,
        reply->payload.len + 1, err, sizeof err);
    assert_non_null(batch);
    assert_int_equal(batch->n_events, 1);
    const Ccip__Envelope *ev = batch->events[0];
    assert_string_equal(ev->type, "intake.application.accepted.v1");
    assert_string_equal(ev->actor_id, "staff-li");
    Ccip__Intake__ApplicationAccepted *acc =
        (Ccip__Intake__ApplicationAccepted *)ccip_payload_unpack(
            &ccip__intake__application_accepted__descriptor, ev->payload.data, ev->payload.len,
            ev->payload.len + 1, err, sizeof err);
    assert_non_null(acc);
    assert_string_equal(acc->application_id, app);
    assert_string_equal(acc->call_id, call);
    assert_int_equal(acc->kind, CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT);
    assert_int_equal(acc->year, 2027);
    assert_string_equal(acc->fund_programme_code, "CCI-2027");
    assert_string_equal(acc->applicant->uscc, uscc);
    assert_string_equal(acc->applicant->district_code, "110105");
    assert_true(acc->applicant->verified);
    assert_string_equal(acc->title, "Digital heritage workshop");
    assert_non_null(strstr(acc->summary, "opera costumes"));
    assert_int_equal(acc->requested_fen, 100000000);
    assert_int_equal(acc->facts_case, CCIP__INTAKE__APPLICATION_ACCEPTED__FACTS_PROJECT);
    assert_int_equal(acc->project->n_budget_lines, 2);
    assert_int_equal(acc->n_documents, 2);
    assert_string_equal(acc->documents[0]->doc_type, "business_licence");
    assert_int_equal(strlen(acc->documents[1]->sha256), 64);
    assert_string_equal(acc->note, "complete");
    ccip_test_free(acc);
    ccip_test_free(batch);
    ccip_envelope_free(&reply);
    ccip_client_destroy(&c);

    /* The applicant sees its view, not the internal status and history. */
    a = s_get("applicant", actor, app);
    assert_int_equal(a->status, 0);
    assert_int_equal(a->n_history, 0);
    assert_int_equal(a->applicant_view->status,
                     CCIP__INTAKE__APPLICANT_STATUS__APPLICANT_IN_REVIEW);
    assert_int_equal(a->applicant_view->n_timeline, 3);
    assert_string_equal(a->applicant_view->timeline[2]->source, "intake");
    ccip_test_free(a);

    /* A decision is final: no withdrawal after acceptance. */
    assert_int_equal(s_act("applicant", actor, "withdraw", app, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "can be withdrawn only while it is DRAFT, SUBMITTED or RETURNED");
}

/* No submission before the call opens or after it closes; the error says
 * when, in UTC. Drafts may exist any time. */
static void test_submission_window(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], app[37], when[40], part[80];
    s_org(0, 1, uscc, actor);
    int64_t now = s_now_s_us();

    s_call_spec later = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                         .opens_at_us = now + 2 * DAY_US,
                         .closes_at_us = now + 30 * DAY_US};
    s_open_call(&later, call);
    s_ready(actor, uscc, call, later.kind, NULL, app);
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_time_text(later.opens_at_us, when, sizeof when);
    snprintf(part, sizeof part, "opens for submissions at %s UTC", when);
    ccip_test_error_has(&s_svc, part);

    s_call_spec past = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                        .opens_at_us = now - 30 * DAY_US,
                        .closes_at_us = now - DAY_US};
    s_open_call(&past, call);
    s_ready(actor, uscc, call, past.kind, NULL, app);
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_time_text(past.closes_at_us, when, sizeof when);
    snprintf(part, sizeof part, "closed for submissions at %s UTC", when);
    ccip_test_error_has(&s_svc, part);

    /* Closed early by staff. */
    s_call_spec open = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&open, call);
    s_ready(actor, uscc, call, open.kind, NULL, app);
    Ccip__Intake__CloseCallRequest c = CCIP__INTAKE__CLOSE_CALL_REQUEST__INIT;
    c.call_id = call;
    c.reason = "moved to next year";
    ccip_test_free(ccip_test_ok(&s_svc, STAFF, "intake.call.close.v1", &c.base, NULL));
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "was closed by staff at ");
    ccip_test_error_has(&s_svc, "moved to next year");
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM application WHERE id = '%s' AND status = "
                         "'DRAFT'",
                         app),
        1);
}

/* One live application per organisation per call; a withdrawn or rejected
 * one does not count. */
static void test_one_live_application(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], first[37], second[37], third[37];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION};
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    s_draft(actor, uscc, call, spec.kind, 0, first);
    s_content_storage st;
    assert_int_equal(s_try_draft(actor, uscc, call, s_content(&st, spec.kind, 0), NULL, NULL),
                     CCIP__STATUS__ALREADY_EXISTS);
    ccip_test_error_has(&s_svc, "already has a live application");
    ccip_test_error_has(&s_svc, first);
    assert_int_equal(s_act("applicant", actor, "withdraw", first, "wrong programme", NULL), 0);
    s_draft(actor, uscc, call, spec.kind, 0, second);
    assert_int_equal(s_act("applicant", actor, "submit", second, NULL, NULL), 0);
    assert_int_equal(s_try_draft(actor, uscc, call, s_content(&st, spec.kind, 0), NULL, NULL),
                     CCIP__STATUS__ALREADY_EXISTS);
    assert_int_equal(s_act(STAFF, "reject", second, "not a training base", NULL), 0);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'intake.application.rejected.v1' AND aggregate_id = '%s'",
                                      second),
                     1);
    assert_int_equal(s_act("applicant", actor, "withdraw", second, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_draft(actor, uscc, call, spec.kind, 0, third);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM application a JOIN organisation o ON "
                                      "o.uscc = a.applicant_uscc WHERE o.uscc = '%s'",
                                      uscc),
                     3);
    /* Another organisation is not affected. */
    char uscc2[19], actor2[24];
    s_org(0, 0, uscc2, actor2);
    s_draft(actor2, uscc2, call, spec.kind, 0, first);
    /* Eligibility: a call for district governments refuses an enterprise. */
    s_call_spec gov = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                       .eligible = CCIP__INTAKE__ORGANISATION_TYPE__DISTRICT_GOVERNMENT};
    s_open_call(&gov, call);
    assert_int_equal(s_try_draft(actor, uscc, call, s_content(&st, gov.kind, 0), NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "DISTRICT_GOVERNMENT only");
}

/* Every required document before submit; the error lists the missing ones. */
static void test_required_documents(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], app[37];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                        .docs = {"business_licence", "site_plan", "operator_report"}};
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    s_draft(actor, uscc, call, spec.kind, 0, app);
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc,
                        "required documents missing: business_licence, site_plan, operator_report");
    assert_int_equal(s_add_doc(actor, app, "site_plan", "plan", 4, NULL), 0);
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "required documents missing: business_licence, operator_report");
    assert_int_equal(s_add_doc(actor, app, "business_licence", "licence", 7, NULL), 0);
    assert_int_equal(s_add_doc(actor, app, "operator_report", "report", 6, NULL), 0);
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL), 0);
    /* Submitted: documents can no longer be added. */
    assert_int_equal(s_add_doc(actor, app, "extra", "x", 1, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);

    /* Incomplete content is listed too. */
    char call2[37], app2[37];
    s_call_spec plain = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&plain, call2);
    s_content_storage st;
    Ccip__Intake__ApplicationContent *c = s_content(&st, plain.kind, 0);
    c->summary = "";
    c->facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS__NOT_SET;
    assert_int_equal(s_try_draft(actor, uscc, call2, c, NULL, app2), 0);
    assert_int_equal(s_act("applicant", actor, "submit", app2, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "field `summary` is empty");
    ccip_test_error_has(&s_svc, "cluster facts");
}

/* Requested amount positive and within the call's maximum. */
static void test_requested_amount(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], app[37];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT,
                        .max_request_fen = 100000000};
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    long long before = ccip_test_number(&s_svc, "SELECT count(*) FROM application");
    s_content_storage st;
    assert_int_equal(
        s_try_draft(actor, uscc, call, s_content(&st, spec.kind, 100000001), NULL, NULL),
        CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(
        &s_svc, "field `requested_fen` must be at most 100000000 (the call's maximum, 1000000.00 "
                "yuan), got 100000001");
    Ccip__Intake__ApplicationContent *c = s_content(&st, spec.kind, 5000);
    c->requested_fen = -5;
    assert_int_equal(s_try_draft(actor, uscc, call, c, NULL, NULL), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `requested_fen` must be positive");
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM application"), before);

    /* A draft may leave it out; a submission may not. */
    c = s_content(&st, spec.kind, 5000);
    c->requested_fen = 0;
    assert_int_equal(s_try_draft(actor, uscc, call, c, NULL, app), 0);
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "field `requested_fen` must be positive");
    /* Exactly the maximum is fine. */
    Ccip__Intake__UpdateApplicationRequest u = CCIP__INTAKE__UPDATE_APPLICATION_REQUEST__INIT;
    u.application_id = app;
    u.content = s_content(&st, spec.kind, 100000000);
    ccip_test_free(
        ccip_test_ok(&s_svc, "applicant", actor, "intake.application.update.v1", &u.base, NULL));
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL), 0);

    /* Other kinds request nothing. */
    s_call_spec cluster = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&cluster, call);
    c = s_content(&st, cluster.kind, 0);
    c->requested_fen = 100;
    assert_int_equal(s_try_draft(actor, uscc, call, c, NULL, NULL), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "only for SPECIAL_FUND_PROJECT");
}

/* Only the owner edits, submits and withdraws; only staff accept, return
 * and reject; services only read. */
static void test_permissions(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], app[37], uscc2[19], actor2[24];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    s_org(0, 1, uscc2, actor2);
    s_draft(actor, uscc, call, spec.kind, 0, app);

    /* Drafting for another organisation. */
    s_content_storage st;
    assert_int_equal(s_try_draft(actor2, uscc, call, s_content(&st, spec.kind, 0), NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    /* Another organisation's applicant. */
    Ccip__Intake__UpdateApplicationRequest u = CCIP__INTAKE__UPDATE_APPLICATION_REQUEST__INIT;
    u.application_id = app;
    u.content = s_content(&st, spec.kind, 0);
    assert_int_equal(ccip_test_send(&s_svc, "applicant", actor2, "intake.application.update.v1",
                                    &u.base, NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    ccip_test_error_has(&s_svc, "may only act for its own organisation");
    assert_int_equal(s_add_doc(actor2, app, "x", "x", 1, NULL), CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_act("applicant", actor2, "submit", app, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_act("applicant", actor2, "withdraw", app, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    Ccip__Intake__GetApplicationRequest g = CCIP__INTAKE__GET_APPLICATION_REQUEST__INIT;
    g.application_id = app;
    assert_int_equal(ccip_test_send(&s_svc, "applicant", actor2, "intake.application.get.v1",
                                    &g.base, NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    /* Staff do not edit or submit for the applicant. */
    assert_int_equal(
        ccip_test_send(&s_svc, STAFF, "intake.application.update.v1", &u.base, NULL, NULL, NULL),
        CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_act(STAFF, "submit", app, NULL, NULL), CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_act(STAFF, "withdraw", app, NULL, NULL), CCIP__STATUS__PERMISSION_DENIED);
    /* Services only read. */
    assert_int_equal(s_act(NULL, NULL, "submit", app, NULL, NULL), CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_act(NULL, NULL, "accept", app, NULL, NULL), CCIP__STATUS__PERMISSION_DENIED);
    Ccip__Intake__Application *a = s_get(NULL, NULL, app);
    assert_int_equal(a->status, CCIP__INTAKE__APPLICATION_STATUS__DRAFT);
    ccip_test_free(a);
    /* Other roles get nothing. */
    assert_int_equal(ccip_test_send(&s_svc, "auditor", "someone", "intake.application.get.v1",
                                    &g.base, NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);

    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL), 0);
    /* The applicant does not decide its own application. */
    assert_int_equal(s_act("applicant", actor, "accept", app, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_act("applicant", actor, "return", app, "x", NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_act("applicant", actor, "reject", app, "x", NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM application WHERE id = '%s' AND status = "
                         "'SUBMITTED'",
                         app),
        1);
    /* The owner withdraws before a decision. */
    assert_int_equal(s_act("applicant", actor, "withdraw", app, "merging with a partner", NULL), 0);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'intake.application.withdrawn.v1' AND aggregate_id = '%s'",
                                      app),
                     1);
}

/* The same command id twice: one application, one submission. */
static void test_same_command_id(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], app[37], again[37], cid[37];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    s_content_storage st;
    ccip_uuid_v7(cid);
    assert_int_equal(s_try_draft(actor, uscc, call, s_content(&st, spec.kind, 0), cid, app), 0);
    assert_int_equal(s_try_draft(actor, uscc, call, s_content(&st, spec.kind, 0), cid, again), 0);
    assert_string_equal(app, again);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM application WHERE applicant_uscc = '%s'",
                         uscc),
        1);
    ccip_uuid_v7(cid);
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, cid), 0);
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, cid), 0);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM application_history WHERE application_id = "
                         "'%s' AND to_status = 'SUBMITTED'",
                         app),
        1);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT submissions FROM application WHERE id = '%s'", app), 1);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'intake.application.submitted.v1' AND aggregate_id = '%s'",
                                      app),
                     1);
    /* A new command id is a new submission attempt: refused, as it is one. */
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "already SUBMITTED");
}

/* One command sent twice at the same moment, as a client's retry does when
 * the first attempt is slow: two workers run it at once. */
typedef struct {
    const Ccip__Envelope *env;  /* the command, shared */
    pthread_barrier_t *barrier; /* starts both at once */
    int status;                 /* reply status, -1 for none */
    char app[37];               /* application id in the reply */
} s_racer;

static void *s_race(void *arg)
{
    s_racer *r = arg;
    char err[256];
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.front_keys);
    pthread_barrier_wait(r->barrier);
    Ccip__Envelope *reply =
        c ? ccip_client_call(c, "intake", r->env, 5000, 3, err, sizeof err) : NULL;
    r->status = reply ? (int)reply->status : -1;
    r->app[0] = '\0';
    if (reply && reply->status == 0) {
        Ccip__Intake__ApplicationReply *a = (Ccip__Intake__ApplicationReply *)ccip_payload_unpack(
            &ccip__intake__application_reply__descriptor, reply->payload.data, reply->payload.len,
            reply->payload.len + 1, err, sizeof err);
        if (a && a->application)
            snprintf(r->app, sizeof r->app, "%s", a->application->id);
        ccip_test_free(a);
    } else if (reply) {
        fprintf(stderr, "race: %s: %s\n", ccip_status_name(reply->status), reply->error);
    }
    ccip_envelope_free(&reply);
    ccip_client_destroy(&c);
    return NULL;
}

/* Runs env twice at once; both replies must be OK and name the same
 * application. */
static void s_race_twice(const Ccip__Envelope *env, char app[37])
{
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 2);
    s_racer r[2] = {{.env = env, .barrier = &barrier}, {.env = env, .barrier = &barrier}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, s_race, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    assert_int_equal(r[0].status, 0);
    assert_int_equal(r[1].status, 0);
    assert_string_equal(r[0].app, r[1].app);
    snprintf(app, 37, "%s", r[0].app);
}

static void test_same_command_id_at_once(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], app[37], cid[37];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&spec, call);
    for (int round = 0; round < 8; round++) {
        s_org(0, 1, uscc, actor);
        s_content_storage st;
        Ccip__Intake__DraftApplicationRequest rq = CCIP__INTAKE__DRAFT_APPLICATION_REQUEST__INIT;
        rq.call_id = call;
        rq.applicant_uscc = uscc;
        rq.content = s_content(&st, spec.kind, 0);
        uint8_t buf[4096];
        Ccip__Envelope env = CCIP__ENVELOPE__INIT;
        ccip_uuid_v7(cid);
        env.id = cid;
        env.type = "intake.application.draft.v1";
        env.actor_role = "applicant";
        env.actor_id = actor;
        env.payload.data = buf;
        env.payload.len = protobuf_c_message_pack(&rq.base, buf);
        s_race_twice(&env, app);
        assert_int_equal(
            ccip_test_number(&s_svc, "SELECT count(*) FROM application WHERE applicant_uscc = '%s'",
                             uscc),
            1);

        Ccip__Intake__ApplicationActionRequest sub = CCIP__INTAKE__APPLICATION_ACTION_REQUEST__INIT;
        sub.application_id = app;
        char cid2[37], again[37];
        ccip_uuid_v7(cid2);
        env.id = cid2;
        env.type = "intake.application.submit.v1";
        env.payload.len = protobuf_c_message_pack(&sub.base, buf);
        s_race_twice(&env, again);
        assert_string_equal(app, again);
        assert_int_equal(ccip_test_number(&s_svc,
                                          "SELECT count(*) FROM application_history WHERE "
                                          "application_id = '%s' AND to_status = 'SUBMITTED'",
                                          app),
                         1);
    }
}

/* Empty titles, invalid UTF-8, unknown districts, oversized documents: a
 * clear error naming the field, and nothing written. */
static void test_bad_input_writes_nothing(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], app[37];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    long long apps = ccip_test_number(&s_svc, "SELECT count(*) FROM application");
    long long history = ccip_test_number(&s_svc, "SELECT count(*) FROM application_history");
    s_content_storage st;
    Ccip__Intake__ApplicationContent *c = s_content(&st, spec.kind, 0);
    c->title = "";
    assert_int_equal(s_try_draft(actor, uscc, call, c, NULL, NULL), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `title` is empty; give 1 to 200 characters");
    c->title = "Caf\xE9 culture";
    assert_int_equal(s_try_draft(actor, uscc, call, c, NULL, NULL), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `content.title` is not valid UTF-8 at byte 4");
    c->title = "Good title";
    c->district = "Pudong";
    assert_int_equal(s_try_draft(actor, uscc, call, c, NULL, NULL), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `district`");
    c->district = "";
    c->cluster->area_m2 = -1;
    assert_int_equal(s_try_draft(actor, uscc, call, c, NULL, NULL), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "`cluster.area_m2` must not be negative");
    c = s_content(&st, CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION, 0);
    assert_int_equal(s_try_draft(actor, uscc, call, c, NULL, NULL), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "its facts go in field `cluster`");
    assert_int_equal(s_try_draft(actor, uscc, "not-a-uuid", c, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `call_id` must be a UUID");
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM application"), apps);
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM application_history"), history);

    /* An empty district means the organisation's own. */
    c = s_content(&st, spec.kind, 0);
    c->district = "";
    assert_int_equal(s_try_draft(actor, uscc, call, c, NULL, app), 0);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM application WHERE id = '%s' AND "
                                      "district_code = '110105'",
                                      app),
                     1);

    /* Documents: too large for intake.max_document_bytes, empty, bad type. */
    long long docs = ccip_test_number(&s_svc, "SELECT count(*) FROM document");
    long long blobs = ccip_test_number(&s_svc, "SELECT count(*) FROM blob");
    size_t big = MAX_DOC_BYTES + 1;
    char *content = calloc(1, big);
    assert_int_equal(s_add_doc(actor, app, "site_plan", content, big, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc,
                        "is 65537 bytes; at most 65536 are accepted (intake.max_document_bytes)");
    assert_int_equal(s_add_doc(actor, app, "site_plan", content, 0, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "is empty");
    assert_int_equal(s_add_doc(actor, app, "site plan", content, 10, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `doc_type`");
    /* Exactly the limit is accepted. */
    content[0] = 'x';
    assert_int_equal(s_add_doc(actor, app, "site_plan", content, MAX_DOC_BYTES, NULL), 0);
    free(content);
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM document"), docs + 1);
    assert_true(ccip_test_number(&s_svc, "SELECT count(*) FROM blob") <= blobs + 1);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT size FROM document WHERE application_id = '%s'", app),
        MAX_DOC_BYTES);

    /* A payload that is not the message at all. */
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    char id[37], err[256];
    ccip_uuid_v7(id);
    uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
    env.id = id;
    env.type = "intake.application.draft.v1";
    env.actor_role = "applicant";
    env.actor_id = actor;
    env.payload.data = junk;
    env.payload.len = sizeof junk;
    Ccip__Envelope *r = ccip_client_call(s_svc.front, "intake", &env, 5000, 3, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_non_null(strstr(r->error, "could not decode"));
    ccip_envelope_free(&r);
}

/* Content is stored once per SHA-256 however many documents carry it, and
 * comes back byte for byte. */
static void test_documents_deduplicated(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], app1[37], uscc2[19], actor2[24], app2[37];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&spec, call);
    s_org(0, 0, uscc, actor);
    s_org(0, 0, uscc2, actor2);
    s_draft(actor, uscc, call, spec.kind, 0, app1);
    s_draft(actor2, uscc2, call, spec.kind, 0, app2);
    char content[200];
    snprintf(content, sizeof content, "site plan shared by two applicants %s", app1);
    int dedup = -1;
    assert_int_equal(s_add_doc(actor, app1, "site_plan", content, strlen(content), &dedup), 0);
    assert_int_equal(dedup, 0);
    assert_int_equal(s_add_doc(actor2, app2, "site_plan", content, strlen(content), &dedup), 0);
    assert_int_equal(dedup, 1);
    /* The same content twice under one type is refused. */
    assert_int_equal(s_add_doc(actor, app1, "site_plan", content, strlen(content), NULL),
                     CCIP__STATUS__ALREADY_EXISTS);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM blob b WHERE EXISTS (SELECT 1 FROM document "
                         "d WHERE d.sha256 = b.sha256 AND d.application_id = '%s')",
                         app1),
        1);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(DISTINCT sha256) FROM document WHERE application_id "
                         "IN ('%s', '%s')",
                         app1, app2),
        1);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM document d JOIN blob b ON b.sha256 = "
                                      "d.sha256 WHERE d.application_id = '%s' AND b.sha256 = "
                                      "sha256(convert_to('%s', 'UTF8'))",
                                      app2, content),
                     1);

    Ccip__Intake__Application *a = s_get("applicant", actor2, app2);
    assert_int_equal(a->n_documents, 1);
    Ccip__Intake__GetDocumentRequest g = CCIP__INTAKE__GET_DOCUMENT_REQUEST__INIT;
    g.application_id = app2;
    g.document_id = a->documents[0]->id;
    Ccip__Intake__DocumentContentReply *d = (Ccip__Intake__DocumentContentReply *)ccip_test_ok(
        &s_svc, "applicant", actor2, "intake.document.get.v1", &g.base,
        &ccip__intake__document_content_reply__descriptor);
    assert_int_equal(d->content.len, strlen(content));
    assert_memory_equal(d->content.data, content, strlen(content));
    assert_string_equal(d->document->sha256, a->documents[0]->sha256);
    ccip_test_free(d);
    /* Not the other organisation's to read. */
    assert_int_equal(ccip_test_send(&s_svc, "applicant", actor, "intake.document.get.v1", &g.base,
                                    NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    /* At most 100 documents on one application. */
    for (int i = 1; i < 100; i++) {
        char more[64];
        snprintf(more, sizeof more, "annex %d of %s", i, app1);
        if (s_add_doc(actor, app1, "annex", more, strlen(more), NULL) != 0)
            ccip_test_fail(&s_svc, s_svc.error);
    }
    assert_int_equal(s_add_doc(actor, app1, "annex", "one too many", 12, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "already carries 100 documents");
    /* Removing it leaves the other application's copy alone. */
    Ccip__Intake__RemoveDocumentRequest rm = CCIP__INTAKE__REMOVE_DOCUMENT_REQUEST__INIT;
    rm.application_id = app2;
    rm.document_id = a->documents[0]->id;
    ccip_test_free(ccip_test_ok(&s_svc, "applicant", actor2,
                                "intake.application.document.remove.v1", &rm.base, NULL));
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM document WHERE application_id = '%s'", app2),
        0);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM document d JOIN blob b ON b.sha256 = "
                                      "d.sha256 WHERE d.application_id = '%s' AND d.doc_type = "
                                      "'site_plan'",
                                      app1),
                     1);
    ccip_test_free(a);
}

/* An organisation's details change: contact details keep its verification,
 * a new name withdraws it; only the organisation itself or staff may change
 * them, bad details change nothing. */
static void test_org_update(void **state)
{
    (void)state;
    char uscc[19], actor[24], other_uscc[19], other[24];
    s_org(0, 1, uscc, actor);
    s_org(0, 0, other_uscc, other);
    Ccip__Intake__RegisterOrganisationRequest d = CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    d.uscc = uscc;
    d.name = "北京测试文化创意有限公司";
    d.type = CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE;
    d.district = "Chaoyang";
    d.legal_representative = "王芳";
    d.contact_name = "李明";
    d.contact_phone = "010-6512 3456";
    d.contact_email = "office@example.cn";
    Ccip__Intake__UpdateOrganisationRequest rq = CCIP__INTAKE__UPDATE_ORGANISATION_REQUEST__INIT;
    rq.details = &d;
    rq.reason = "new office";
    /* Nothing differs. */
    assert_int_equal(ccip_test_send(&s_svc, "applicant", actor, "intake.organisation.update.v1",
                                    &rq.base, NULL, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "nothing to change");
    /* Another organisation's user. */
    d.contact_phone = "010-8888 0000";
    assert_int_equal(ccip_test_send(&s_svc, "applicant", other, "intake.organisation.update.v1",
                                    &rq.base, NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    /* A district that is not Beijing's: refused, nothing written. */
    d.district = "Pudong";
    assert_int_equal(ccip_test_send(&s_svc, "applicant", actor, "intake.organisation.update.v1",
                                    &rq.base, NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "district");
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM organisation WHERE uscc = '%s' AND "
                                      "contact_phone = '010-6512 3456'",
                                      uscc),
                     1);
    /* The contact phone: still verified. */
    d.district = "Chaoyang";
    Ccip__Intake__OrganisationReply *r = (Ccip__Intake__OrganisationReply *)ccip_test_ok(
        &s_svc, "applicant", actor, "intake.organisation.update.v1", &rq.base,
        &ccip__intake__organisation_reply__descriptor);
    assert_string_equal(r->organisation->contact_phone, "010-8888 0000");
    assert_true(r->organisation->verified);
    ccip_test_free(r);
    /* A new name: staff must verify it again. */
    d.name = "北京测试文化创意集团有限公司";
    rq.reason = "renamed after the merger";
    r = (Ccip__Intake__OrganisationReply *)ccip_test_ok(
        &s_svc, STAFF, "intake.organisation.update.v1", &rq.base,
        &ccip__intake__organisation_reply__descriptor);
    assert_false(r->organisation->verified);
    ccip_test_free(r);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'intake.organisation.updated.v1' AND aggregate_id = '%s'",
                                      uscc),
                     2);
}

/* A call whose window ends is closed by intake itself, as of its closing
 * time, and announced once; a draft then gets the window's end in its error. */
static void test_calls_close_themselves(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], app[37];
    int64_t closes = s_now_s_us() + 2 * 1000000;
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                        .closes_at_us = closes};
    s_open_call(&spec, call);
    s_org(0, 0, uscc, actor);
    s_draft(actor, uscc, call, spec.kind, 0, app);
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM outbox WHERE type = 'intake.call.closed.v1' AND aggregate_id = "
             "'%s'",
             call);
    assert_int_equal(ccip_test_wait_count("intake", sql, 1, 10000), 1);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM call WHERE id = '%s' AND closed_at = closes_at "
                         "AND close_reason = 'the submission window ended' AND closed_by "
                         "LIKE 'system:intake-%%'",
                         call),
        1);
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    char when[40], part[120];
    s_time_text(closes, when, sizeof when);
    snprintf(part, sizeof part, "closed for submissions at %s UTC", when);
    ccip_test_error_has(&s_svc, part);
    ccip_test_sleep_ms(2500); /* later runs find nothing more to close */
    assert_int_equal(ccip_test_query_number("intake", sql), 1);
}

/* Returned for correction, corrected, submitted again (even after the
 * close), accepted once the organisation is verified. */
static void test_return_and_resubmit(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], app[37];
    int64_t now = s_now_s_us();
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION,
                        .closes_at_us = now + 6 * 1000000};
    s_open_call(&spec, call);
    s_org(0, 0, uscc, actor);
    s_draft(actor, uscc, call, spec.kind, 0, app);
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL), 0);
    assert_int_equal(s_act(STAFF, "return", app, "", NULL), CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `reason` is empty; say what the applicant must correct");
    assert_int_equal(s_act(STAFF, "reject", app, NULL, NULL), CCIP__STATUS__INVALID_ARGUMENT);
    assert_int_equal(s_act(STAFF, "return", app, "the capacity must be per year", NULL), 0);
    Ccip__Intake__Application *a = s_get("applicant", actor, app);
    assert_int_equal(a->applicant_view->status,
                     CCIP__INTAKE__APPLICANT_STATUS__APPLICANT_ACTION_REQUIRED);
    assert_non_null(strstr(a->applicant_view->message, "the capacity must be per year"));
    ccip_test_free(a);
    assert_int_equal(s_act(STAFF, "accept", app, NULL, NULL), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "is RETURNED; it can be accepted only while it is SUBMITTED");

    /* The call closes meanwhile; the correction is still accepted. */
    ccip_test_sleep_ms((int)((now + 6 * 1000000 - ccip_now_us()) / 1000) + 500);
    s_content_storage st;
    Ccip__Intake__UpdateApplicationRequest u = CCIP__INTAKE__UPDATE_APPLICATION_REQUEST__INIT;
    u.application_id = app;
    u.content = s_content(&st, spec.kind, 0);
    u.content->title = "Animation base, capacity per year";
    ccip_test_free(
        ccip_test_ok(&s_svc, "applicant", actor, "intake.application.update.v1", &u.base, NULL));
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL), 0);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT submissions FROM application WHERE id = '%s'", app), 2);

    /* Not before the organisation is verified. */
    assert_int_equal(s_act(STAFF, "accept", app, NULL, NULL), CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "is not verified yet");
    Ccip__Intake__VerifyOrganisationRequest v = CCIP__INTAKE__VERIFY_ORGANISATION_REQUEST__INIT;
    v.uscc = uscc;
    ccip_test_free(ccip_test_ok(&s_svc, STAFF, "intake.organisation.verify.v1", &v.base, NULL));
    assert_int_equal(s_act(STAFF, "accept", app, NULL, NULL), 0);
    a = s_get(STAFF, app);
    assert_int_equal(a->n_history, 5); /* DRAFT SUBMITTED RETURNED SUBMITTED ACCEPTED */
    assert_int_equal(a->history[2]->to_status, CCIP__INTAKE__APPLICATION_STATUS__RETURNED);
    assert_string_equal(a->history[2]->reason, "the capacity must be per year");
    assert_string_equal(a->content->title, "Animation base, capacity per year");
    assert_int_equal(a->submissions, 2);
    assert_int_equal(a->applicant_view->n_timeline, 5);
    ccip_test_free(a);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM outbox WHERE aggregate_id = '%s' AND type IN "
                         "('intake.application.returned.v1', "
                         "'intake.application.submitted.v1', "
                         "'intake.application.accepted.v1')",
                         app),
        4);
}

/* The history is append-only for real: the database refuses to change it. */
static void test_history_append_only(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], app[37];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&spec, call);
    s_org(0, 0, uscc, actor);
    s_draft(actor, uscc, call, spec.kind, 0, app);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "WITH u AS (UPDATE application_history SET reason = 'forged' WHERE "
                         "application_id = '%s' RETURNING 1) SELECT count(*) FROM u",
                         app),
        -1);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "WITH d AS (DELETE FROM application_history WHERE application_id "
                         "= '%s' RETURNING 1) SELECT count(*) FROM d",
                         app),
        -1);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "WITH d AS (DELETE FROM applicant_timeline WHERE application_id "
                         "= '%s' RETURNING 1) SELECT count(*) FROM d",
                         app),
        -1);
    assert_int_equal(ccip_test_query_number("intake", "TRUNCATE application_history"), -1);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM application_history WHERE application_id = "
                         "'%s' AND reason = ''",
                         app),
        1);
}

/* ---- the applicant's view, fed by evaluation and funding ----------------- */

/* Evaluation and funding are played by stand-ins
 * (tests/support/ccip_test_producer.h) so that this test controls exactly
 * which events reach intake. */
static void s_fake_add(ccip_test_producer *f, const char *type, const char *application)
{
    assert_true(
        ccip_test_producer_add(f, type, "application", application, NULL, "expert-9", "staff") > 0);
}

/* Evaluation's and funding's events about an application reach the
 * applicant's view exactly once, in its timeline, without touching the
 * internal status; events about unknown applications are skipped. */
static void test_applicant_view_from_other_services(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], app[37], unknown[37];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    s_draft(actor, uscc, call, spec.kind, 0, app);
    assert_int_equal(s_act("applicant", actor, "submit", app, NULL, NULL), 0);
    assert_int_equal(s_act(STAFF, "accept", app, NULL, NULL), 0);

    ccip_test_producer *evaluation =
        ccip_test_producer_start(&s_svc.env, s_svc.ctx, "evaluation", "intake");
    ccip_test_producer *funding =
        ccip_test_producer_start(&s_svc.env, s_svc.ctx, "funding", "intake");
    assert_non_null(evaluation);
    assert_non_null(funding);
    ccip_uuid_v7(unknown);
    s_fake_add(evaluation, "evaluation.review.started.v1", unknown); /* skipped */
    s_fake_add(evaluation, "evaluation.review.started.v1", app);
    s_fake_add(evaluation, "evaluation.something.else.v1", app); /* not for the view */
    s_fake_add(evaluation, "evaluation.application.approved.v1", app);
    s_fake_add(funding, "funding.award.granted.v1", app);
    s_fake_add(funding, "funding.budget.changed.v1", app); /* not for the view */
    s_fake_add(funding, "funding.award.suspended.v1", app);

    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM applicant_timeline WHERE application_id = '%s' AND source IN "
             "('evaluation', 'funding')",
             app);
    long long got = ccip_test_wait_count("intake", sql, 4, 20000);
    if (got != 4)
        ccip_test_fail(&s_svc, "the view did not get evaluation's and funding's events");
    long long evaluation_head =
        (long long)ccip_test_producer_base(evaluation) + 4; /* four events above */
    snprintf(sql, sizeof sql, "SELECT position FROM consumer_cursor WHERE producer = 'evaluation'");
    assert_int_equal(ccip_test_producer_wait_applied(evaluation, 10000), 0);
    ccip_test_sleep_ms(500); /* heartbeats keep coming: nothing is applied twice */
    assert_int_equal(ccip_test_query_number("intake", sql), evaluation_head);

    Ccip__Intake__Application *a = s_get("applicant", actor, app);
    assert_int_equal(a->applicant_view->status, CCIP__INTAKE__APPLICANT_STATUS__APPLICANT_FUNDED);
    assert_string_equal(a->applicant_view->message, "payments are on hold");
    assert_int_equal(a->applicant_view->n_timeline, 7); /* draft, submit, accept + 4 */
    int approved = 0;
    for (size_t i = 0; i < a->applicant_view->n_timeline; i++)
        approved += a->applicant_view->timeline[i]->status ==
                    CCIP__INTAKE__APPLICANT_STATUS__APPLICANT_APPROVED;
    assert_int_equal(approved, 1);
    ccip_test_free(a);
    a = s_get(STAFF, app);
    assert_int_equal(a->status, CCIP__INTAKE__APPLICATION_STATUS__ACCEPTED);
    assert_int_equal(a->n_history, 3);
    ccip_test_free(a);
    unsigned long long evaluation_base = ccip_test_producer_base(evaluation);
    unsigned long long funding_base = ccip_test_producer_base(funding);
    ccip_test_producer_stop(&evaluation);
    ccip_test_producer_stop(&funding);

    /* The fake streams moved intake's cursors past positions that the real
     * evaluation and funding services (whose tests share this database)
     * have not used yet: put them back, or a later real intake would take
     * real events for ones it applied already. */
    assert_int_equal(ccip_test_stop(&s_svc.env, s_intake, SIGTERM, 10000), 0);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "WITH u AS (UPDATE consumer_cursor SET position = %llu WHERE "
                                      "producer = 'evaluation' RETURNING 1) SELECT count(*) FROM u",
                                      evaluation_base),
                     1);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "WITH u AS (UPDATE consumer_cursor SET position = %llu WHERE "
                                      "producer = 'funding' RETURNING 1) SELECT count(*) FROM u",
                                      funding_base),
                     1);
    s_intake = ccip_test_start_service(&s_svc.env, "services/intake/intake", "intake", "intake-2");
    assert_true(s_intake > 0);
    if (ccip_test_svc_wait(&s_svc, "intake") < 0)
        ccip_test_fail(&s_svc, "intake did not come back");
}

/* ---- ccipctl ------------------------------------------------------------------ */

/* The walk-through an operator does, with ccipctl. */
static void test_ccipctl(void **state)
{
    (void)state;
    static char out[65536];
    char uscc[19], call[64], app[64], path[400];
    ccip_test_uscc("110105", uscc);
    char opens[40], closes[40];
    s_time_text(s_now_s_us() - HOUR_US, opens, sizeof opens);
    s_time_text(s_now_s_us() + 30 * DAY_US, closes, sizeof closes);

    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "intake --help"), 0);
    assert_non_null(strstr(out, "application"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "intake call open --help"), 0);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out, "intake call open --year 2027 2>/dev/null"), 2);

    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--json --role staff --actor staff-li intake call open --kind "
                      "SPECIAL_FUND_PROJECT --year 2027 --title 'Fund 2027' --opens %s "
                      "--closes %s --require business_licence --fund-programme CCI-2027 "
                      "--max-request 2000000.00 --eligible ENTERPRISE",
                      opens, closes),
        0);
    ccip_test_json_value(out, "id", call, sizeof call);
    assert_true(ccip_uuid_valid(call));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-li intake call show %s", call),
                     0);
    assert_non_null(strstr(out, "Fund 2027"));
    assert_non_null(strstr(out, "2000000.00"));
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out, "--role staff --actor staff-li intake call list"),
        0);
    assert_non_null(strstr(out, call));

    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role applicant --actor org:%s intake org register --uscc %s --name "
                      "'Beijing Lantern Studio' --type ENTERPRISE --district Dongcheng "
                      "--legal-rep 'Zhao Lei' --contact-name 'Sun Li' --contact-phone "
                      "'010-8888 0000'",
                      uscc, uscc),
        0);
    /* A new contact phone keeps the organisation unverified as it was; then staff verify. */
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role applicant --actor org:%s intake org update --uscc %s --name "
                      "'Beijing Lantern Studio' --type ENTERPRISE --district Dongcheng "
                      "--legal-rep 'Zhao Lei' --contact-name 'Sun Li' --contact-phone "
                      "'010-8888 0001' --reason 'new line'",
                      uscc, uscc),
        0);
    assert_non_null(strstr(out, "010-8888 0001"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-li intake org verify %s --note ok",
                                   uscc),
                     0);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-li intake call close-due"),
                     0);
    assert_non_null(strstr(out, "closed"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--json --role staff --actor s intake org show %s", uscc),
                     0);
    assert_non_null(strstr(out, "\"verified\":true"));

    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--json --role applicant --actor org:%s intake application draft "
                      "--call %s --title 'Lantern festival' --summary 'Lanterns for the "
                      "old town' --requested 150000.50 --budget-line 'Materials=100000' "
                      "--budget-line 'Staff=50000.50'",
                      uscc, call),
        0);
    ccip_test_json_value(out, "id", app, sizeof app);
    assert_true(ccip_uuid_valid(app));
    /* Amount above the maximum: refused by the service, exit code 1. */
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role applicant --actor org:%s intake application update %s "
                                   "--requested 2000000.01 2>&1",
                                   uscc, app),
                     1);
    assert_non_null(strstr(out, "INVALID_ARGUMENT"));
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role applicant --actor org:%s intake application submit %s 2>&1", uscc,
                      app),
        1);
    assert_non_null(strstr(out, "business_licence"));
    snprintf(path, sizeof path, "%s/licence.pdf", s_svc.env.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("%PDF-1.4 licence", f);
    fclose(f);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role applicant --actor org:%s intake application add-document %s "
                      "--type business_licence --file %s",
                      uscc, app, path),
        0);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role applicant --actor org:%s intake application submit %s",
                                   uscc, app),
                     0);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role staff --actor staff-li intake application accept %s --note "
                      "complete",
                      app),
        0);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-li intake application show %s", app),
                     0);
    assert_non_null(strstr(out, "ACCEPTED"));
    assert_non_null(strstr(out, "Lantern festival"));
    assert_non_null(strstr(out, "business_licence"));
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--json --role applicant --actor org:%s intake application list",
                                   uscc),
                     0);
    assert_non_null(strstr(out, app));
    assert_non_null(strstr(out, "APPLICANT_IN_REVIEW"));
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT requested_fen FROM application WHERE id = '%s'", app),
        15000050);
    /* Staff may not withdraw: PERMISSION_DENIED, exit code 1. */
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role staff --actor staff-li intake application withdraw %s 2>&1", app),
        1);
    assert_non_null(strstr(out, "PERMISSION_DENIED"));
}

/* ---- one-step filing (intake.application.file.v1) ------------------------------ */

/* A FileApplicationRequest and what it points to, in the caller's frame. */
typedef struct {
    s_content_storage content;
    Ccip__Intake__DocumentUpload uploads[4];
    Ccip__Intake__DocumentUpload *ptrs[4];
    char data[4][128];
    Ccip__Intake__FileApplicationRequest rq;
} s_file_storage;

/* A complete application for call (of `kind`) of organisation uscc, with a
 * document of each type in docs (NULL-terminated, may be NULL), its
 * content distinct per organisation, call and type. */
static Ccip__Intake__FileApplicationRequest *s_file_rq(s_file_storage *s, const char *uscc,
                                                       const char *call,
                                                       Ccip__Intake__CallKind kind,
                                                       int64_t requested, const char *const *docs)
{
    memset(s, 0, sizeof *s);
    s->rq = (Ccip__Intake__FileApplicationRequest)CCIP__INTAKE__FILE_APPLICATION_REQUEST__INIT;
    s->rq.call_id = (char *)call;
    s->rq.applicant_uscc = (char *)uscc;
    s->rq.content = s_content(&s->content, kind, requested);
    for (size_t i = 0; docs && docs[i] && i < 4; i++) {
        snprintf(s->data[i], sizeof s->data[i], "%%PDF-1.4 %s of %s for %s", docs[i], uscc, call);
        s->uploads[i] = (Ccip__Intake__DocumentUpload)CCIP__INTAKE__DOCUMENT_UPLOAD__INIT;
        s->uploads[i].doc_type = (char *)docs[i];
        s->uploads[i].name = "scan.pdf";
        s->uploads[i].media_type = "application/pdf";
        s->uploads[i].content.data = (uint8_t *)s->data[i];
        s->uploads[i].content.len = strlen(s->data[i]);
        s->ptrs[i] = &s->uploads[i];
        s->rq.n_documents = i + 1;
    }
    s->rq.documents = s->ptrs;
    return &s->rq;
}

/* Sends a filing as (role, actor) with command id cid (NULL: fresh);
 * returns the status and, when OK, writes the application id and hands
 * over the reply's application (may be NULL). */
static int s_file_send(const char *role, const char *actor,
                       const Ccip__Intake__FileApplicationRequest *rq, const char *cid,
                       char app[CCIP_UUID_STRLEN + 1], Ccip__Intake__Application **out)
{
    Ccip__Intake__ApplicationReply *r = NULL;
    int status =
        ccip_test_send(&s_svc, role, actor, "intake.application.file.v1", &rq->base, cid,
                       &ccip__intake__application_reply__descriptor, (ProtobufCMessage **)&r);
    if (status == 0 && r && app)
        snprintf(app, CCIP_UUID_STRLEN + 1, "%s", r->application->id);
    if (status == 0 && r && out) {
        *out = r->application;
        r->application = NULL;
    }
    ccip_test_free(r);
    return status;
}

/* Applications of organisation uscc, and rows any of them left behind. */
static long long s_traces(const char *uscc)
{
    return ccip_test_number(
        &s_svc,
        "SELECT (SELECT count(*) FROM application WHERE applicant_uscc = '%s') + "
        "(SELECT count(*) FROM outbox WHERE type = 'intake.application.submitted.v1' "
        "AND position(convert_to('%s', 'UTF8') IN payload) > 0)",
        uscc, uscc);
}

/* One command files a complete application: SUBMITTED with its facts and
 * documents, the same history, view, timeline and event as draft + submit,
 * and a reply that shows it as a get does. */
static void test_file_complete(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], app[37], cid[37];
    static const char *const docs[] = {"business_licence", "site_plan", NULL};
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                        .docs = {"business_licence", "site_plan"}};
    s_open_call(&spec, call);
    s_org(0, 0, uscc, actor); /* not verified: filing, like submitting, does not need it */
    s_file_storage fs;
    ccip_uuid_v7(cid);
    Ccip__Intake__Application *a = NULL;
    assert_int_equal(s_file_send("applicant", actor, s_file_rq(&fs, uscc, call, spec.kind, 0, docs),
                                 cid, app, &a),
                     0);
    assert_non_null(a);
    /* The reply: as the applicant sees it. */
    assert_int_equal(a->status, 0);
    assert_int_equal(a->n_history, 0);
    assert_int_equal(a->submissions, 1);
    assert_true(a->submitted_at_us > 0);
    assert_string_equal(a->call_id, call);
    assert_string_equal(a->applicant_uscc, uscc);
    assert_string_equal(a->content->title, "Digital heritage workshop");
    assert_string_equal(a->content->district, "110105");
    assert_int_equal(a->content->facts_case, CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER);
    assert_int_equal(a->n_documents, 2);
    assert_string_equal(a->documents[1]->doc_type, "site_plan");
    assert_int_equal(strlen(a->documents[0]->sha256), 64);
    assert_int_equal(a->applicant_view->status, CCIP__INTAKE__APPLICANT_STATUS__APPLICANT_RECEIVED);
    assert_int_equal(a->applicant_view->n_timeline, 2);
    /* What a get shows afterwards is the same. */
    Ccip__Intake__Application *g = s_get("applicant", actor, app);
    assert_int_equal(g->n_documents, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(g->documents[i]->id, a->documents[i]->id);
        assert_string_equal(g->documents[i]->sha256, a->documents[i]->sha256);
        assert_int_equal(g->documents[i]->size, a->documents[i]->size);
    }
    assert_int_equal(g->applicant_view->status, a->applicant_view->status);
    assert_string_equal(g->applicant_view->message, a->applicant_view->message);
    assert_int_equal(g->applicant_view->n_timeline, 2);
    assert_string_equal(g->applicant_view->timeline[0]->message,
                        a->applicant_view->timeline[0]->message);
    assert_int_equal(g->submitted_at_us, a->submitted_at_us);
    assert_string_equal(g->content->summary, a->content->summary);
    assert_string_equal(g->content->cluster->lead_operator, "Seven Star Group");
    ccip_test_free(g);
    ccip_test_free(a);
    /* Staff see the history: created as a draft, then submitted, both by
     * this command. */
    g = s_get(STAFF, app);
    assert_int_equal(g->status, CCIP__INTAKE__APPLICATION_STATUS__SUBMITTED);
    assert_int_equal(g->n_history, 2);
    assert_int_equal(g->history[0]->from_status, 0);
    assert_int_equal(g->history[0]->to_status, CCIP__INTAKE__APPLICATION_STATUS__DRAFT);
    assert_int_equal(g->history[1]->from_status, CCIP__INTAKE__APPLICATION_STATUS__DRAFT);
    assert_int_equal(g->history[1]->to_status, CCIP__INTAKE__APPLICATION_STATUS__SUBMITTED);
    assert_string_equal(g->history[1]->command_id, cid);
    assert_string_equal(g->history[1]->actor_id, actor);
    ccip_test_free(g);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'intake.application.submitted.v1' AND aggregate_id = '%s'",
                                      app),
                     1);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM document d JOIN blob b ON b.sha256 = d.sha256 "
                         "WHERE d.application_id = '%s' AND b.sha256 = sha256(b.content)",
                         app),
        2);
    /* Staff may accept it as any other (once the organisation is verified). */
    assert_int_equal(s_act(STAFF, "accept", app, NULL, NULL), CCIP__STATUS__FAILED_PRECONDITION);
    Ccip__Intake__VerifyOrganisationRequest v = CCIP__INTAKE__VERIFY_ORGANISATION_REQUEST__INIT;
    v.uscc = uscc;
    ccip_test_free(ccip_test_ok(&s_svc, STAFF, "intake.organisation.verify.v1", &v.base, NULL));
    assert_int_equal(s_act(STAFF, "accept", app, NULL, NULL), 0);

    /* The other kinds: their facts are written too; content already stored
     * (the same file under another application) is kept once. */
    char tcall[37], pcall[37], tapp[37], papp[37];
    s_call_spec talent = {.kind = CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION,
                          .docs = {"business_licence"}};
    s_open_call(&talent, tcall);
    s_call_spec project = {.kind = CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT};
    s_open_call(&project, pcall);
    Ccip__Intake__FileApplicationRequest *rq = s_file_rq(
        &fs, uscc, tcall, talent.kind, 0, (const char *const[]){"business_licence", NULL});
    snprintf(fs.data[0], sizeof fs.data[0], "%%PDF-1.4 business_licence of %s for %s", uscc, call);
    fs.uploads[0].content.len = strlen(fs.data[0]);
    long long blobs = ccip_test_number(&s_svc, "SELECT count(*) FROM blob");
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, tapp, NULL), 0);
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM blob"), blobs);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM talent_programme p JOIN talent_base_facts t "
                         "USING (application_id) WHERE application_id = '%s' AND "
                         "t.annual_capacity = 120 AND p.name = 'Animation'",
                         tapp),
        1);
    assert_int_equal(s_file_send("applicant", actor,
                                 s_file_rq(&fs, uscc, pcall, project.kind, 4000000, NULL), NULL,
                                 papp, NULL),
                     0);
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM budget_line WHERE application_id = '%s' AND "
                         "amount_fen = 2000000",
                         papp),
        2);
    assert_int_equal(
        ccip_test_number(
            &s_svc,
            "SELECT requested_fen FROM application WHERE id = '%s' AND status = 'SUBMITTED'", papp),
        4000000);
}

/* No filing before a call opens or after it closes (the error says when),
 * and nothing is written: not even a draft. */
static void test_file_window(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], when[40], part[80];
    s_org(0, 1, uscc, actor);
    int64_t now = s_now_s_us();
    s_file_storage fs;

    s_call_spec later = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                         .opens_at_us = now + 2 * DAY_US,
                         .closes_at_us = now + 30 * DAY_US};
    s_open_call(&later, call);
    assert_int_equal(s_file_send("applicant", actor,
                                 s_file_rq(&fs, uscc, call, later.kind, 0, NULL), NULL, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_time_text(later.opens_at_us, when, sizeof when);
    snprintf(part, sizeof part, "opens for submissions at %s UTC", when);
    ccip_test_error_has(&s_svc, part);

    s_call_spec past = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                        .opens_at_us = now - 30 * DAY_US,
                        .closes_at_us = now - DAY_US};
    s_open_call(&past, call);
    assert_int_equal(s_file_send("applicant", actor, s_file_rq(&fs, uscc, call, past.kind, 0, NULL),
                                 NULL, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_time_text(past.closes_at_us, when, sizeof when);
    snprintf(part, sizeof part, "closed for submissions at %s UTC", when);
    ccip_test_error_has(&s_svc, part);

    s_call_spec open = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&open, call);
    Ccip__Intake__CloseCallRequest c = CCIP__INTAKE__CLOSE_CALL_REQUEST__INIT;
    c.call_id = call;
    c.reason = "moved to next year";
    ccip_test_free(ccip_test_ok(&s_svc, STAFF, "intake.call.close.v1", &c.base, NULL));
    assert_int_equal(s_file_send("applicant", actor, s_file_rq(&fs, uscc, call, open.kind, 0, NULL),
                                 NULL, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "was closed by staff at ");
    ccip_test_error_has(&s_svc, "moved to next year");
    assert_int_equal(s_traces(uscc), 0);
}

/* One live application per organisation per call, whether the live one was
 * drafted or filed; a withdrawn one does not count. Not eligible: refused. */
static void test_file_one_live_application(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], draft[37], filed[37];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    s_file_storage fs;
    s_draft(actor, uscc, call, spec.kind, 0, draft);
    assert_int_equal(s_file_send("applicant", actor, s_file_rq(&fs, uscc, call, spec.kind, 0, NULL),
                                 NULL, NULL, NULL),
                     CCIP__STATUS__ALREADY_EXISTS);
    ccip_test_error_has(&s_svc, "already has a live application");
    ccip_test_error_has(&s_svc, draft);
    assert_int_equal(s_act("applicant", actor, "withdraw", draft, NULL, NULL), 0);
    assert_int_equal(s_file_send("applicant", actor, s_file_rq(&fs, uscc, call, spec.kind, 0, NULL),
                                 NULL, filed, NULL),
                     0);
    assert_int_equal(s_file_send("applicant", actor, s_file_rq(&fs, uscc, call, spec.kind, 0, NULL),
                                 NULL, NULL, NULL),
                     CCIP__STATUS__ALREADY_EXISTS);
    ccip_test_error_has(&s_svc, filed);
    s_content_storage st;
    assert_int_equal(s_try_draft(actor, uscc, call, s_content(&st, spec.kind, 0), NULL, NULL),
                     CCIP__STATUS__ALREADY_EXISTS);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM application WHERE applicant_uscc = '%s'",
                         uscc),
        2);
    /* Eligibility: a call for district governments refuses an enterprise. */
    s_call_spec gov = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                       .eligible = CCIP__INTAKE__ORGANISATION_TYPE__DISTRICT_GOVERNMENT};
    s_open_call(&gov, call);
    assert_int_equal(s_file_send("applicant", actor, s_file_rq(&fs, uscc, call, gov.kind, 0, NULL),
                                 NULL, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "DISTRICT_GOVERNMENT only");
}

/* Every required document and complete content, or the error lists what
 * is missing and nothing is written. */
static void test_file_required_documents(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                        .docs = {"business_licence", "site_plan", "operator_report"}};
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    s_file_storage fs;
    assert_int_equal(s_file_send("applicant", actor, s_file_rq(&fs, uscc, call, spec.kind, 0, NULL),
                                 NULL, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc,
                        "required documents missing: business_licence, site_plan, operator_report");
    assert_int_equal(s_file_send("applicant", actor,
                                 s_file_rq(&fs, uscc, call, spec.kind, 0,
                                           (const char *const[]){"site_plan", "extra", NULL}),
                                 NULL, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "required documents missing: business_licence, operator_report");
    Ccip__Intake__FileApplicationRequest *rq =
        s_file_rq(&fs, uscc, call, spec.kind, 0,
                  (const char *const[]){"business_licence", "site_plan", "operator_report", NULL});
    rq->content->summary = "";
    rq->content->facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS__NOT_SET;
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "field `summary` is empty");
    ccip_test_error_has(&s_svc, "cluster facts");
    rq->content = NULL;
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `content` is missing");
    assert_int_equal(s_traces(uscc), 0);
    assert_int_equal(s_file_send("applicant", actor,
                                 s_file_rq(&fs, uscc, call, spec.kind, 0,
                                           (const char *const[]){"business_licence", "site_plan",
                                                                 "operator_report", NULL}),
                                 NULL, NULL, NULL),
                     0);
}

/* Requested amount positive and within the call's maximum. */
static void test_file_requested_amount(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT,
                        .max_request_fen = 100000000};
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    s_file_storage fs;
    assert_int_equal(s_file_send("applicant", actor,
                                 s_file_rq(&fs, uscc, call, spec.kind, 100000001, NULL), NULL, NULL,
                                 NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(
        &s_svc, "field `requested_fen` must be at most 100000000 (the call's maximum, 1000000.00 "
                "yuan), got 100000001");
    Ccip__Intake__FileApplicationRequest *rq = s_file_rq(&fs, uscc, call, spec.kind, 5000, NULL);
    rq->content->requested_fen = -5;
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `requested_fen` must be positive");
    rq->content->requested_fen = 0;
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    ccip_test_error_has(&s_svc, "field `requested_fen` must be positive");
    assert_int_equal(s_traces(uscc), 0);
    assert_int_equal(s_file_send("applicant", actor,
                                 s_file_rq(&fs, uscc, call, spec.kind, 100000000, NULL), NULL, NULL,
                                 NULL),
                     0);
}

/* Only the organisation's own users file; other roles are refused. */
static void test_file_permissions(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], uscc2[19], actor2[24];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    s_org(0, 1, uscc2, actor2);
    s_file_storage fs;
    Ccip__Intake__FileApplicationRequest *rq = s_file_rq(&fs, uscc, call, spec.kind, 0, NULL);
    assert_int_equal(s_file_send("applicant", actor2, rq, NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    ccip_test_error_has(&s_svc, "may not file an application for organisation");
    assert_int_equal(s_file_send(STAFF, rq, NULL, NULL, NULL), CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_file_send(NULL, NULL, rq, NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    /* An applicant whose actor id is not a valid organisation code. */
    assert_int_equal(s_file_send("applicant", "org:91110105MA01ABCD2Y", rq, NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    ccip_test_error_has(&s_svc, "unified social credit code");
    /* An organisation that is not registered. */
    char uscc3[19], actor3[24];
    ccip_test_uscc("110105", uscc3);
    snprintf(actor3, sizeof actor3, "org:%s", uscc3);
    assert_int_equal(s_file_send("applicant", actor3, s_file_rq(&fs, "", call, spec.kind, 0, NULL),
                                 NULL, NULL, NULL),
                     CCIP__STATUS__NOT_FOUND);
    ccip_test_error_has(&s_svc, "is not registered");
    /* Nor a call that does not exist. */
    char nocall[37];
    ccip_uuid_v7(nocall);
    assert_int_equal(s_file_send("applicant", actor,
                                 s_file_rq(&fs, uscc, nocall, spec.kind, 0, NULL), NULL, NULL,
                                 NULL),
                     CCIP__STATUS__NOT_FOUND);
    ccip_test_error_has(&s_svc, "there is no call");
    assert_int_equal(s_traces(uscc), 0);
    assert_int_equal(s_traces(uscc3), 0);
    /* applicant_uscc "" means the caller's own organisation. */
    char app[37];
    assert_int_equal(s_file_send("applicant", actor2, s_file_rq(&fs, "", call, spec.kind, 0, NULL),
                                 NULL, app, NULL),
                     0);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM application WHERE id = '%s' AND "
                                      "applicant_uscc = '%s'",
                                      app, uscc2),
                     1);
}

/* The same command id twice, one after the other and at once: one
 * application, and both replies name it. */
static void test_file_same_command_id(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24], app[37], again[37], cid[37];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    s_file_storage fs;
    Ccip__Intake__FileApplicationRequest *rq = s_file_rq(&fs, uscc, call, spec.kind, 0, NULL);
    ccip_uuid_v7(cid);
    assert_int_equal(s_file_send("applicant", actor, rq, cid, app, NULL), 0);
    assert_int_equal(s_file_send("applicant", actor, rq, cid, again, NULL), 0);
    assert_string_equal(app, again);
    assert_int_equal(
        ccip_test_number(&s_svc, "SELECT count(*) FROM application WHERE applicant_uscc = '%s'",
                         uscc),
        1);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM outbox WHERE type = "
                                      "'intake.application.submitted.v1' AND aggregate_id = '%s'",
                                      app),
                     1);
    for (int round = 0; round < 4; round++) {
        s_org(0, 1, uscc, actor);
        rq = s_file_rq(&fs, uscc, call, spec.kind, 0, NULL);
        uint8_t buf[4096];
        Ccip__Envelope env = CCIP__ENVELOPE__INIT;
        ccip_uuid_v7(cid);
        env.id = cid;
        env.type = "intake.application.file.v1";
        env.actor_role = "applicant";
        env.actor_id = actor;
        env.payload.data = buf;
        env.payload.len = protobuf_c_message_pack(&rq->base, buf);
        s_race_twice(&env, app);
        assert_int_equal(
            ccip_test_number(&s_svc, "SELECT count(*) FROM application WHERE applicant_uscc = '%s'",
                             uscc),
            1);
        assert_int_equal(ccip_test_number(&s_svc,
                                          "SELECT count(*) FROM application_history WHERE "
                                          "application_id = '%s'",
                                          app),
                         2);
    }
}

/* Bad codes, empty titles, unknown districts, invalid UTF-8, oversized or
 * repeated documents: a clear error naming the field, and nothing written. */
static void test_file_bad_input(void **state)
{
    (void)state;
    char call[37], uscc[19], actor[24];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    long long apps = ccip_test_number(&s_svc, "SELECT count(*) FROM application");
    long long docs = ccip_test_number(&s_svc, "SELECT count(*) FROM document");
    long long blobs = ccip_test_number(&s_svc, "SELECT count(*) FROM blob");
    long long history = ccip_test_number(&s_svc, "SELECT count(*) FROM application_history");
    static const char *const licence[] = {"business_licence", NULL};
    s_file_storage fs;
    Ccip__Intake__FileApplicationRequest *rq;

    rq = s_file_rq(&fs, uscc, "not-a-uuid", spec.kind, 0, licence);
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `call_id` must be a UUID");
    rq = s_file_rq(&fs, "91110105MA01ABCD2X", call, spec.kind, 0, licence);
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    rq = s_file_rq(&fs, uscc, call, spec.kind, 0, licence);
    rq->content->title = "";
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `title` is empty; give 1 to 200 characters");
    rq->content->title = "Caf\xE9 culture";
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `content.title` is not valid UTF-8 at byte 4");
    rq->content->title = "Good title";
    rq->content->district = "Pudong";
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `district`");
    rq->content->district = "";
    rq->content->cluster->area_m2 = -1;
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "`cluster.area_m2` must not be negative");

    /* Documents: too large, empty, a bad type or name, bad UTF-8 in a name,
     * the same content twice under one type. */
    rq = s_file_rq(&fs, uscc, call, spec.kind, 0, licence);
    size_t big = MAX_DOC_BYTES + 1;
    uint8_t *content = calloc(1, big);
    fs.uploads[0].content.data = content;
    fs.uploads[0].content.len = big;
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(
        &s_svc, "documents[0]: field `content` of document \"scan.pdf\" is 65537 bytes; at most "
                "65536 are accepted (intake.max_document_bytes)");
    fs.uploads[0].content.len = 0;
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "is empty");
    free(content);
    rq = s_file_rq(&fs, uscc, call, spec.kind, 0, licence);
    fs.uploads[0].doc_type = "business licence";
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `doc_type`");
    fs.uploads[0].doc_type = "business_licence";
    fs.uploads[0].name = "../etc/passwd";
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "field `name` must be a file name");
    fs.uploads[0].name = "sc\xFFn.pdf";
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(&s_svc, "not valid UTF-8");
    rq = s_file_rq(&fs, uscc, call, spec.kind, 0,
                   (const char *const[]){"business_licence", "business_licence", NULL});
    assert_int_equal(s_file_send("applicant", actor, rq, NULL, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    ccip_test_error_has(
        &s_svc, "documents[0] and documents[1] carry the same content as type business_licence");

    /* A payload that is not the message at all. */
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    char id[37], err[256];
    ccip_uuid_v7(id);
    uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
    env.id = id;
    env.type = "intake.application.file.v1";
    env.actor_role = "applicant";
    env.actor_id = actor;
    env.payload.data = junk;
    env.payload.len = sizeof junk;
    Ccip__Envelope *r = ccip_client_call(s_svc.front, "intake", &env, 5000, 3, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_non_null(strstr(r->error, "could not decode"));
    ccip_envelope_free(&r);

    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM application"), apps);
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM document"), docs);
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM blob"), blobs);
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM application_history"), history);
    assert_int_equal(s_traces(uscc), 0);
}

/* Sends every envelope at the same moment, each from its own client, so
 * that intake holds them together and commits them in shared batches. */
static void s_race_many(const Ccip__Envelope *envs, size_t n, s_racer *r)
{
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)n);
    pthread_t *t = calloc(n, sizeof *t);
    assert_non_null(t);
    for (size_t i = 0; i < n; i++) {
        r[i] = (s_racer){.env = &envs[i], .barrier = &barrier};
        assert_int_equal(pthread_create(&t[i], NULL, s_race, &r[i]), 0);
    }
    for (size_t i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&barrier);
    free(t);
}

#define MIXED 12 /* commands of the mixed batch test */

/* Commands of one batch: the accepted ones are written, each refused one
 * gets its own error and leaves no trace, as if they had run one by one.
 * Sent at once until intake has run at least two of them in one
 * transaction (its ping counts), so that a shared batch was exercised. */
static void test_file_batch_mixed(void **state)
{
    (void)state;
    char open_call[37], closed_call[37], fund_call[37];
    s_call_spec open = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                        .docs = {"business_licence"}};
    s_open_call(&open, open_call);
    s_call_spec past = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                        .opens_at_us = s_now_s_us() - 30 * DAY_US,
                        .closes_at_us = s_now_s_us() - DAY_US};
    s_open_call(&past, closed_call);
    s_call_spec fund = {.kind = CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT,
                        .max_request_fen = 1000000};
    s_open_call(&fund, fund_call);
    static const char *const licence[] = {"business_licence", NULL};
    int shared = 0;
    for (int attempt = 0; attempt < 10 && !shared; attempt++) {
        char uscc[MIXED][19], actor[MIXED][24], cid[MIXED][37];
        s_file_storage fs[MIXED];
        uint8_t buf[MIXED][4096];
        Ccip__Envelope env[MIXED];
        int want[MIXED];
        for (int i = 0; i < MIXED; i++) {
            s_org(0, 1, uscc[i], actor[i]);
            Ccip__Intake__FileApplicationRequest *rq;
            switch (i % 4) {
            case 0: /* complete: accepted */
                rq = s_file_rq(&fs[i], uscc[i], open_call, open.kind, 0, licence);
                want[i] = 0;
                break;
            case 1: /* the window closed */
                rq = s_file_rq(&fs[i], uscc[i], closed_call, past.kind, 0, licence);
                want[i] = CCIP__STATUS__FAILED_PRECONDITION;
                break;
            case 2: /* above the call's maximum */
                rq = s_file_rq(&fs[i], uscc[i], fund_call, fund.kind, 1000001, NULL);
                want[i] = CCIP__STATUS__INVALID_ARGUMENT;
                break;
            default: /* a project within the maximum: accepted */
                rq = s_file_rq(&fs[i], uscc[i], fund_call, fund.kind, 1000000, NULL);
                want[i] = 0;
                break;
            }
            ccip_uuid_v7(cid[i]);
            env[i] = (Ccip__Envelope)CCIP__ENVELOPE__INIT;
            env[i].id = cid[i];
            env[i].type = "intake.application.file.v1";
            env[i].actor_role = "applicant";
            env[i].actor_id = actor[i];
            env[i].payload.data = buf[i];
            env[i].payload.len = protobuf_c_message_pack(&rq->base, buf[i]);
        }
        unsigned long long c0 = 0, b0 = 0, c1 = 0, b1 = 0;
        assert_int_equal(ccip_test_ping_counts(&s_svc.env, "intake", &c0, &b0), 0);
        s_racer r[MIXED];
        s_race_many(env, MIXED, r);
        assert_int_equal(ccip_test_ping_counts(&s_svc.env, "intake", &c1, &b1), 0);
        /* The two pings are commands of their own, each alone. */
        shared = c1 - c0 > b1 - b0;
        for (int i = 0; i < MIXED; i++) {
            assert_int_equal(r[i].status, want[i]);
            long long rows = s_traces(uscc[i]);
            if (want[i] == 0) {
                assert_true(ccip_uuid_valid(r[i].app));
                assert_int_equal(rows, 2); /* the application and its event */
                assert_int_equal(ccip_test_number(&s_svc,
                                                  "SELECT count(*) FROM application_history WHERE "
                                                  "application_id = '%s' AND command_id = '%s'",
                                                  r[i].app, cid[i]),
                                 2);
                assert_int_equal(ccip_test_number(&s_svc,
                                                  "SELECT count(*) FROM applicant_timeline WHERE "
                                                  "application_id = '%s'",
                                                  r[i].app),
                                 2);
            } else {
                assert_int_equal(rows, 0);
                assert_int_equal(
                    ccip_test_number(
                        &s_svc, "SELECT count(*) FROM command_log WHERE command_id = '%s'", cid[i]),
                    0);
            }
        }
    }
    assert_true(shared);
}

#define SAME_AT_ONCE 8 /* filings for one organisation and call at once */

/* Several filings for the same organisation and call at the same moment
 * (different command ids): exactly one is accepted, the others are told
 * which application is live, whether they shared its batch or not. */
static void test_file_same_org_call_at_once(void **state)
{
    (void)state;
    char call[37];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION};
    s_open_call(&spec, call);
    for (int round = 0; round < 4; round++) {
        char uscc[19], actor[24], cid[SAME_AT_ONCE][37];
        s_org(0, 1, uscc, actor);
        s_file_storage fs;
        Ccip__Intake__FileApplicationRequest *rq = s_file_rq(&fs, uscc, call, spec.kind, 0, NULL);
        uint8_t buf[4096];
        size_t len = protobuf_c_message_pack(&rq->base, buf);
        Ccip__Envelope env[SAME_AT_ONCE];
        for (int i = 0; i < SAME_AT_ONCE; i++) {
            ccip_uuid_v7(cid[i]);
            env[i] = (Ccip__Envelope)CCIP__ENVELOPE__INIT;
            env[i].id = cid[i];
            env[i].type = "intake.application.file.v1";
            env[i].actor_role = "applicant";
            env[i].actor_id = actor;
            env[i].payload.data = buf;
            env[i].payload.len = len;
        }
        s_racer r[SAME_AT_ONCE];
        s_race_many(env, SAME_AT_ONCE, r);
        int ok = 0, exists = 0;
        const char *winner = NULL;
        for (int i = 0; i < SAME_AT_ONCE; i++) {
            if (r[i].status == 0) {
                ok++;
                winner = r[i].app;
            }
            exists += r[i].status == CCIP__STATUS__ALREADY_EXISTS;
        }
        assert_int_equal(ok, 1);
        assert_int_equal(exists, SAME_AT_ONCE - 1);
        assert_int_equal(
            ccip_test_number(&s_svc, "SELECT count(*) FROM application WHERE applicant_uscc = '%s'",
                             uscc),
            1);
        assert_int_equal(ccip_test_number(&s_svc,
                                          "SELECT count(*) FROM application WHERE id = '%s' AND "
                                          "status = 'SUBMITTED'",
                                          winner),
                         1);
        assert_int_equal(
            ccip_test_number(
                &s_svc,
                "SELECT count(*) FROM outbox WHERE type = 'intake.application.submitted.v1' "
                "AND aggregate_id = '%s'",
                winner),
            1);
    }
}

/* The operator's one-step filing with ccipctl. */
static void test_ccipctl_file(void **state)
{
    (void)state;
    static char out[65536];
    char call[37], uscc[19], actor[24], app[64], path[400];
    s_call_spec spec = {.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION,
                        .docs = {"business_licence"}};
    s_open_call(&spec, call);
    s_org(0, 1, uscc, actor);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "intake application file --help"), 0);
    snprintf(path, sizeof path, "%s/file-licence.pdf", s_svc.env.dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%%PDF-1.4 licence of %s", uscc);
    fclose(f);
    /* Without the document: refused, nothing written. */
    const char *facts = "--cluster-name 'Lantern Works' --location 'Qianmen 1' --area-m2 5000 "
                        "--enterprises 12 --employees 300 --lead-operator 'Lantern Co.'";
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role applicant --actor %s intake application file --call %s "
                                   "--title 'Lantern works' --summary 'A lantern cluster' %s 2>&1",
                                   actor, call, facts),
                     1);
    assert_non_null(strstr(out, "required documents missing: business_licence"));
    assert_int_equal(s_traces(uscc), 0);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--json --role applicant --actor %s intake application file --call %s "
                      "--title 'Lantern works' --summary 'A lantern cluster' %s "
                      "--document business_licence=%s",
                      actor, call, facts, path),
        0);
    ccip_test_json_value(out, "id", app, sizeof app);
    assert_true(ccip_uuid_valid(app));
    assert_non_null(strstr(out, "APPLICANT_RECEIVED"));
    assert_int_equal(
        ccip_test_number(&s_svc,
                         "SELECT count(*) FROM application a JOIN document d ON "
                         "d.application_id = a.id WHERE a.id = '%s' AND a.status = "
                         "'SUBMITTED' AND d.name = 'file-licence.pdf' AND d.media_type = "
                         "'application/pdf'",
                         app),
        1);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role applicant --actor %s intake application file --call %s "
                                   "--title x --document nonsense 2>&1",
                                   actor, call),
                     2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calls),
        cmocka_unit_test(test_register),
        cmocka_unit_test(test_org_update),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_submission_window),
        cmocka_unit_test(test_calls_close_themselves),
        cmocka_unit_test(test_one_live_application),
        cmocka_unit_test(test_required_documents),
        cmocka_unit_test(test_requested_amount),
        cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_same_command_id),
        cmocka_unit_test(test_same_command_id_at_once),
        cmocka_unit_test(test_bad_input_writes_nothing),
        cmocka_unit_test(test_documents_deduplicated),
        cmocka_unit_test(test_return_and_resubmit),
        cmocka_unit_test(test_history_append_only),
        cmocka_unit_test(test_applicant_view_from_other_services),
        cmocka_unit_test(test_ccipctl),
        cmocka_unit_test(test_file_complete),
        cmocka_unit_test(test_file_window),
        cmocka_unit_test(test_file_one_live_application),
        cmocka_unit_test(test_file_required_documents),
        cmocka_unit_test(test_file_requested_amount),
        cmocka_unit_test(test_file_permissions),
        cmocka_unit_test(test_file_same_command_id),
        cmocka_unit_test(test_file_bad_input),
        cmocka_unit_test(test_file_batch_mixed),
        cmocka_unit_test(test_file_same_org_call_at_once),
        cmocka_unit_test(test_ccipctl_file),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
