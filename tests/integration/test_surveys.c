/*
 * Surveys and research tasks in stats (issue 20) end to end: the real bus,
 * intake and stats, a stand-in evaluation for the roster, real
 * PostgreSQL, commands sent through the front door with a person's role.
 * One test per rule of the issue, each with the way it was seen to fail
 * when the rule was broken on purpose (the commit history says so too):
 *
 *   test_open_and_close          no answers before the opening or after the close
 *   test_one_response_per_target one submission; a reopening by staff with a reason
 *   test_answer_refusals         required, empty, wrong type, out of range: named, nothing written
 *   test_anonymous_has_no_link   no column of any table ties a response to who answered
 *   test_published_version_keeps_meaning  a new version never changes an old response
 *   test_results_embargo         before the bulletin's embargo only analysts read results
 *   test_completeness_replay     replaying the events that feed surveys: same completeness
 *
 * Every test makes its own questionnaire and surveys, so they may run in
 * any order against a database that has seen earlier runs; districts and
 * departments are shared targets, but each survey counts its own answers.
 *
 * This suite runs after test_stats (CMake DEPENDS): test_stats replays the
 * stand-in producers from position 1 and needs a stats schema that has not
 * consumed them; this one continues the evaluation stand-in's stream where
 * the cursor stands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip/stats.pb-c.h"
#include "ccip_db.h"
#include "ccip_id.h"
#include "ccip_test.h"
#include "ccip_test_db.h"
#include "ccip_test_producer.h"
#include "ccip_test_svc.h"
#include "ccip_validate.h"
#include "stats_quarter.h"

#define ANALYST "analyst", "analyst-liu"
#define STAFF   "staff", "staff-wang"
#define SEC_US  1000000LL
#define DAY_US  (86400LL * SEC_US)

static ccip_test_svc s_svc;
static ccip_test_producer *s_evaluation;     /* the roster's designations */
static ccip_test_producer *s_funding, *s_ip; /* quiet: stats consumes them too */
static char s_run[16];                       /* tells this run's ids from earlier runs' */

/* Three districts that answer in most tests. */
#define DONGCHENG "110101"
#define XICHENG   "110102"
#define CHAOYANG  "110105"
#define HAIDIAN   "110108"

/* ---- helpers --------------------------------------------------------------------------------- */

static int s_send(const char *role, const char *actor, const char *type,
                  const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc,
                  ProtobufCMessage **out)
{
    return ccip_test_send(&s_svc, role, actor, type, msg, NULL, desc, out);
}

static ProtobufCMessage *s_ok(const char *role, const char *actor, const char *type,
                              const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc)
{
    return ccip_test_ok(&s_svc, role, actor, type, msg, desc);
}

static ProtobufCMessage *s_ok_at(const char *service, const char *role, const char *actor,
                                 const char *type, const ProtobufCMessage *msg)
{
    ccip_test_cmd c = {.service = service, .role = role, .actor = actor, .type = type, .msg = msg};
    return ccip_test_ok_cmd(&s_svc, &c);
}

/* The sentence of the last refusal must hold `part`. */
static void s_said(const char *part)
{
    ccip_test_error_has(&s_svc, part);
}

/* A number read from the stats schema (a macro, so that the format is
 * checked against its arguments). */
#define s_n(...) ccip_test_number(&s_svc, __VA_ARGS__)

/* ---- a questionnaire ------------------------------------------------------------------------- */

/* The policy-implementation questionnaire, in one section:
 *   implemented  SINGLE_CHOICE full, partly, not_yet (required)
 *   enterprises  NUMBER enterprises, 0..100000 (required)
 *   funds        NUMBER yuan, 2 decimals, >= 0
 *   obstacles    LONG_TEXT
 *   published    YES_NO (required)
 *   channels     MULTIPLE_CHOICE web, press, meeting; asked when published is yes
 * `labels` changes the options' labels and turns their order round (a
 * later version), `drop_funds` leaves funds out. */
typedef struct {
    Ccip__Stats__QuestionnaireContent c;
    Ccip__Stats__Section sec, *secs[1];
    Ccip__Stats__Question q[6], *qs[6];
    Ccip__Stats__QuestionOption o[6], *impl[3], *chan[3];
    Ccip__Stats__Condition cond;
    char *yes[1];
} s_form;

static void s_q(Ccip__Stats__Question *q, const char *code, const char *title,
                Ccip__Stats__QuestionKind kind, int required)
{
    *q = (Ccip__Stats__Question)CCIP__STATS__QUESTION__INIT;
    q->code = (char *)code;
    q->title = (char *)title;
    q->kind = kind;
    q->required = required;
}

static void s_o(Ccip__Stats__QuestionOption *o, const char *code, const char *label)
{
    *o = (Ccip__Stats__QuestionOption)CCIP__STATS__QUESTION_OPTION__INIT;
    o->code = (char *)code;
    o->label = (char *)label;
}

static void s_form_init(s_form *f, int labels, int drop_funds)
{
    memset(f, 0, sizeof *f);
    s_q(&f->q[0], "implemented", "Is the policy implemented in your area?",
        CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE, 1);
    s_o(&f->o[0], "full", labels ? "Completely" : "Fully");
    s_o(&f->o[1], "partly", labels ? "In part" : "Partly");
    s_o(&f->o[2], "not_yet", labels ? "Not started" : "Not yet");
    for (int i = 0; i < 3; i++)
        f->impl[i] = &f->o[labels ? 2 - i : i]; /* a later version also turns them round */
    f->q[0].options = f->impl;
    f->q[0].n_options = 3;
    s_q(&f->q[1], "enterprises", "Enterprises that benefited", CCIP__STATS__QUESTION_KIND__NUMBER,
        1);
    f->q[1].unit = "enterprises";
    f->q[1].has_min = f->q[1].has_max = 1;
    f->q[1].max = 100000;
    s_q(&f->q[2], "funds", "Funds spent on the policy", CCIP__STATS__QUESTION_KIND__NUMBER, 0);
    f->q[2].unit = "yuan";
    f->q[2].decimals = 2;
    f->q[2].has_min = 1;
    s_q(&f->q[3], "obstacles", "What stands in the way?", CCIP__STATS__QUESTION_KIND__LONG_TEXT, 0);
    s_q(&f->q[4], "published", "Was the policy published locally?",
        CCIP__STATS__QUESTION_KIND__YES_NO, 1);
    s_q(&f->q[5], "channels", "Through which channels?",
        CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE, 1);
    s_o(&f->o[3], "web", "Web site");
    s_o(&f->o[4], "press", "Press");
    s_o(&f->o[5], "meeting", "Meetings");
    for (int i = 0; i < 3; i++)
        f->chan[i] = &f->o[3 + i];
    f->q[5].options = f->chan;
    f->q[5].n_options = 3;
    f->cond = (Ccip__Stats__Condition)CCIP__STATS__CONDITION__INIT;
    f->cond.question = "published";
    f->cond.op = CCIP__STATS__CONDITION_OP__CHOSEN;
    f->yes[0] = "yes";
    f->cond.options = f->yes;
    f->cond.n_options = 1;
    f->q[5].show_if = &f->cond;
    size_t n = 0;
    for (int i = 0; i < 6; i++)
        if (!(drop_funds && i == 2))
            f->qs[n++] = &f->q[i];
    f->sec = (Ccip__Stats__Section)CCIP__STATS__SECTION__INIT;
    f->sec.code = "implementation";
    f->sec.title = "Implementation";
    f->sec.questions = f->qs;
    f->sec.n_questions = n;
    f->secs[0] = &f->sec;
    f->c = (Ccip__Stats__QuestionnaireContent)CCIP__STATS__QUESTIONNAIRE_CONTENT__INIT;
    f->c.title = "Implementation of the cultural industry policies";
    f->c.sections = f->secs;
    f->c.n_sections = 1;
}

/* Saves f as a draft (of `id`, or a new questionnaire when id is ""),
 * writing its id into id. */
static void s_save_form(const s_form *f, char id[CCIP_UUID_STRLEN + 1])
{
    Ccip__Stats__SaveQuestionnaireRequest rq = CCIP__STATS__SAVE_QUESTIONNAIRE_REQUEST__INIT;
    rq.questionnaire_id = id;
    rq.content = (Ccip__Stats__QuestionnaireContent *)&f->c;
    Ccip__Stats__QuestionnaireReply *r =
        (Ccip__Stats__QuestionnaireReply *)s_ok(ANALYST, "stats.questionnaire.save.v1", &rq.base,
                                                &ccip__stats__questionnaire_reply__descriptor);
    assert_int_equal(r->questionnaire->status,
                     CCIP__STATS__QUESTIONNAIRE_STATUS__QUESTIONNAIRE_DRAFT);
    snprintf(id, CCIP_UUID_STRLEN + 1, "%s", r->questionnaire->id);
    ccip_test_free(r);
}

static uint32_t s_publish_form(const char *id, const char *note)
{
    Ccip__Stats__PublishQuestionnaireRequest rq = CCIP__STATS__PUBLISH_QUESTIONNAIRE_REQUEST__INIT;
    rq.questionnaire_id = (char *)id;
    rq.note = (char *)note;
    Ccip__Stats__QuestionnaireReply *r =
        (Ccip__Stats__QuestionnaireReply *)s_ok(ANALYST, "stats.questionnaire.publish.v1", &rq.base,
                                                &ccip__stats__questionnaire_reply__descriptor);
    uint32_t v = r->questionnaire->version;
    assert_int_equal(r->questionnaire->status,
                     CCIP__STATS__QUESTIONNAIRE_STATUS__QUESTIONNAIRE_PUBLISHED);
    ccip_test_free(r);
    return v;
}

/* A published questionnaire (version 1) of the policy form. */
static void s_new_questionnaire(char id[CCIP_UUID_STRLEN + 1])
{
    s_form f;
    s_form_init(&f, 0, 0);
    id[0] = '\0';
    s_save_form(&f, id);
    assert_int_equal(s_publish_form(id, ""), 1);
}

/* ---- surveys --------------------------------------------------------------------------------- */

typedef struct {
    Ccip__Stats__CreateSurveyRequest rq;
    Ccip__Stats__TargetSelector sel[4], *sels[4];
    char *ids[4][8];
    uint32_t days[2];
} s_survey_spec;

static void s_spec(s_survey_spec *s, const char *qid, int anonymous, int64_t opens, int64_t closes)
{
    memset(s, 0, sizeof *s);
    s->rq = (Ccip__Stats__CreateSurveyRequest)CCIP__STATS__CREATE_SURVEY_REQUEST__INIT;
    s->rq.title = anonymous ? "Anonymous policy survey" : "Policy implementation survey";
    s->rq.questionnaire_id = (char *)qid;
    s->rq.anonymous = anonymous;
    s->rq.opens_at_us = opens;
    s->rq.closes_at_us = closes ? closes : ccip_now_us() + 7 * DAY_US;
    s->rq.targets = s->sels;
}

/* Adds a part of the target list with up to 8 ids (NULL-terminated list). */
static Ccip__Stats__TargetSelector *s_target(s_survey_spec *s, Ccip__Stats__TargetKind kind,
                                             const char *const *ids)
{
    size_t i = s->rq.n_targets++;
    Ccip__Stats__TargetSelector *t = &s->sel[i];
    *t = (Ccip__Stats__TargetSelector)CCIP__STATS__TARGET_SELECTOR__INIT;
    t->kind = kind;
    for (size_t k = 0; ids && ids[k] && k < 8; k++)
        s->ids[i][t->n_ids++] = (char *)ids[k];
    t->ids = s->ids[i];
    s->sels[i] = t;
    return t;
}

static void s_create(s_survey_spec *s, char id[CCIP_UUID_STRLEN + 1])
{
    Ccip__Stats__SurveyReply *r = (Ccip__Stats__SurveyReply *)s_ok(
        ANALYST, "stats.survey.create.v1", &s->rq.base, &ccip__stats__survey_reply__descriptor);
    snprintf(id, CCIP_UUID_STRLEN + 1, "%s", r->survey->id);

    assert_int_equal(r->questionnaire->version, r->survey->questionnaire_version);
    ccip_test_free(r);
}

/* A survey of the policy questionnaire to three districts, open now. */
static void s_district_survey(const char *qid, int anonymous, char id[CCIP_UUID_STRLEN + 1])
{
    static const char *const d[] = {DONGCHENG, XICHENG, CHAOYANG, NULL};
    s_survey_spec s;
    s_spec(&s, qid, anonymous, 0, 0);
    s_target(&s, CCIP__STATS__TARGET_KIND__DISTRICT, d);
    s_create(&s, id);
}

/* ---- answers --------------------------------------------------------------------------------- */

typedef struct {
    Ccip__Stats__Answer a[8], *list[8];
    Ccip__Stats__Choices ch[2];
    char *opts[2][3];
    char text[96]; /* the obstacles: different in every answer (see s_links) */
    size_t n;
} s_answers;

static Ccip__Stats__Answer *s_add(s_answers *s, const char *code)
{
    Ccip__Stats__Answer *a = &s->a[s->n];
    *a = (Ccip__Stats__Answer)CCIP__STATS__ANSWER__INIT;
    a->question = (char *)code;
    s->list[s->n++] = a;
    return a;
}

/* A complete answer: implemented `impl`, `ent` enterprises, funds, a text,
 * published yes through the web (or no). */
static void s_answers_init(s_answers *s, const char *impl, int64_t ent, int published)
{
    memset(s, 0, sizeof *s);
    Ccip__Stats__Answer *a = s_add(s, "implemented");
    s->opts[0][0] = (char *)impl;
    s->ch[0] = (Ccip__Stats__Choices)CCIP__STATS__CHOICES__INIT;
    s->ch[0].options = s->opts[0];
    s->ch[0].n_options = 1;
    a->value_case = CCIP__STATS__ANSWER__VALUE_CHOICES;
    a->choices = &s->ch[0];
    a = s_add(s, "enterprises");
    a->value_case = CCIP__STATS__ANSWER__VALUE_NUMBER;
    a->number = ent;
    a = s_add(s, "funds");
    a->value_case = CCIP__STATS__ANSWER__VALUE_NUMBER;
    a->number = ent * 100000; /* yuan in fen */
    static int seq;
    snprintf(s->text, sizeof s->text, "%s (note %s-%d)",
             published ? "Too few venues for small firms" : "Nobody was told", s_run, ++seq);
    a = s_add(s, "obstacles");
    a->value_case = CCIP__STATS__ANSWER__VALUE_TEXT;
    a->text = s->text;
    a = s_add(s, "published");
    a->value_case = CCIP__STATS__ANSWER__VALUE_YES;
    a->yes = published;
    if (published) {
        a = s_add(s, "channels");
        s->opts[1][0] = "web";
        s->ch[1] = (Ccip__Stats__Choices)CCIP__STATS__CHOICES__INIT;
        s->ch[1].options = s->opts[1];
        s->ch[1].n_options = 1;
        a->value_case = CCIP__STATS__ANSWER__VALUE_CHOICES;
        a->choices = &s->ch[1];
    }
}

/* Saves (submit 0) or submits answers for target as (role, actor).
 * Returns the status; the reply's response into *out when out. */
static int s_answer(const char *role, const char *actor, const char *survey, const char *target,
                    const s_answers *ans, int submit, Ccip__Stats__ResponseReply **out)
{
    Ccip__Stats__SaveResponseRequest rq = CCIP__STATS__SAVE_RESPONSE_REQUEST__INIT;
    rq.survey_id = (char *)survey;
    rq.target_id = (char *)(target ? target : "");
    if (ans) {
        rq.answers = (Ccip__Stats__Answer **)ans->list;
        rq.n_answers = ans->n;
    }
    return s_send(role, actor,
                  submit ? "stats.survey.response.submit.v1" : "stats.survey.response.save.v1",
                  &rq.base, &ccip__stats__response_reply__descriptor, (ProtobufCMessage **)out);
}

/* A district submits its answers. */
static void s_district_submits(const char *survey, const char *district, const char *impl,
                               int64_t ent, int published)
{
    char actor[32];
    snprintf(actor, sizeof actor, "district:%s", district);
    s_answers a;
    s_answers_init(&a, impl, ent, published);
    Ccip__Stats__ResponseReply *r = NULL;
    int st = s_answer("district", actor, survey, NULL, &a, 1, &r);
    if (st != 0) {
        fprintf(stderr, "%s could not submit: %s\n", actor, s_svc.error);
        fail();
    }
    assert_int_equal(r->response->status, CCIP__STATS__RESPONSE_STATUS__RESPONSE_SUBMITTED);
    ccip_test_free(r);
}

static Ccip__Stats__SurveyCompletenessReply *s_completeness(const char *survey)
{
    Ccip__Stats__SurveyCompletenessRequest rq = CCIP__STATS__SURVEY_COMPLETENESS_REQUEST__INIT;
    rq.survey_id = (char *)survey;
    return (Ccip__Stats__SurveyCompletenessReply *)s_ok(
        STAFF, "stats.survey.completeness.v1", &rq.base,
        &ccip__stats__survey_completeness_reply__descriptor);
}

static const Ccip__Stats__SurveyGroupCompleteness *
s_group(const Ccip__Stats__SurveyCompletenessReply *r, const char *dim, const char *key)
{
    for (size_t i = 0; i < r->n_groups; i++)
        if (strcmp(r->groups[i]->dimension, dim) == 0 && strcmp(r->groups[i]->key, key) == 0)
            return r->groups[i];
    return NULL;
}

static int s_results(const char *role, const char *actor, const char *survey,
                     Ccip__Stats__SurveyResultsReply **out)
{
    Ccip__Stats__SurveyResultsRequest rq = CCIP__STATS__SURVEY_RESULTS_REQUEST__INIT;
    rq.survey_id = (char *)survey;
    return s_send(role, actor, "stats.survey.results.v1", &rq.base,
                  &ccip__stats__survey_results_reply__descriptor, (ProtobufCMessage **)out);
}

static const Ccip__Stats__QuestionResult *s_question(const Ccip__Stats__SurveyResults *r,
                                                     const char *code)
{
    for (size_t i = 0; i < r->n_questions; i++)
        if (strcmp(r->questions[i]->code, code) == 0)
            return r->questions[i];
    fail_msg("no results for question %s", code);
    return NULL;
}

static const Ccip__Stats__GroupResult *s_gr(const Ccip__Stats__QuestionResult *q, const char *dim,
                                            const char *key)
{
    for (size_t i = 0; i < q->n_groups; i++)
        if (strcmp(q->groups[i]->dimension, dim) == 0 && strcmp(q->groups[i]->key, key) == 0)
            return q->groups[i];
    return NULL;
}

static uint32_t s_option(const Ccip__Stats__GroupResult *g, const char *option)
{
    for (size_t i = 0; g && i < g->n_options; i++)
        if (strcmp(g->options[i]->option, option) == 0)
            return g->options[i]->count;
    return 0;
}

/* Rows of the survey's answers and participation, for "nothing written". */
static long long s_written(const char *survey)
{
    return ccip_test_number(&s_svc,
                            "SELECT (SELECT count(*) FROM survey_answer WHERE survey_id = '%s') + "
                            "(SELECT count(*) FROM survey_participation WHERE survey_id = '%s') * "
                            "1000 + (SELECT count(*) FROM survey_response WHERE survey_id = '%s') "
                            "* 100000 + (SELECT coalesce(sum(length(draft)), 0) FROM "
                            "survey_participation WHERE survey_id = '%s') * 10000000",
                            survey, survey, survey, survey);
}

/* ---- set-up ---------------------------------------------------------------------------------- */

static int s_group_setup(void **state)
{
    (void)state;
    static const ccip_test_svc_proc procs[] = {{"services/intake/intake", "intake", "intake-1"},
                                               {"services/stats/stats", "stats", "stats-1"},
                                               {NULL, NULL, NULL}};
    snprintf(s_run, sizeof s_run, "%lx%x", (unsigned long)time(NULL) % 0xfffffff,
             (unsigned)getpid() % 0xfff);
    setenv("CCIP_STATS_SURVEY_NOTICE_SECONDS", "1", 1);
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
    ccip_test_producer_stop(&s_evaluation);
    ccip_test_producer_stop(&s_funding);
    ccip_test_producer_stop(&s_ip);
    ccip_test_svc_stop(&s_svc);
    return 0;
}

/* ---- questionnaires -------------------------------------------------------------------------- */

/* A design mistake is named and nothing is saved; a draft changes until it
 * is published; a published version is frozen, even to hand-written SQL;
 * others read only published versions. */
static void test_questionnaire_versions(void **state)
{
    (void)state;
    s_form f;
    s_form_init(&f, 0, 0);
    long long before = ccip_test_number(&s_svc, "SELECT count(*) FROM questionnaire_version");
    f.q[3].code = "funds"; /* taken by question 3 */
    Ccip__Stats__SaveQuestionnaireRequest rq = CCIP__STATS__SAVE_QUESTIONNAIRE_REQUEST__INIT;
    rq.questionnaire_id = "";
    rq.content = &f.c;
    assert_int_equal(s_send(ANALYST, "stats.questionnaire.save.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("question `funds` (section `implementation`): code `funds` is taken by question 3; "
           "give each question its own code; nothing was saved");
    assert_int_equal(s_send(STAFF, "stats.questionnaire.save.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM questionnaire_version"),
                     before);

    s_form_init(&f, 0, 0);
    char id[CCIP_UUID_STRLEN + 1] = "";
    s_save_form(&f, id);
    Ccip__Stats__GetQuestionnaireRequest g = CCIP__STATS__GET_QUESTIONNAIRE_REQUEST__INIT;
    g.questionnaire_id = id;
    assert_int_equal(s_send(STAFF, "stats.questionnaire.get.v1", &g.base, NULL, NULL),
                     CCIP__STATUS__NOT_FOUND);
    s_said("has no published version");
    assert_int_equal(s_publish_form(id, ""), 1);
    s_form_init(&f, 1, 0);
    s_save_form(&f, id); /* version 2, a draft */
    Ccip__Stats__QuestionnaireReply *r =
        (Ccip__Stats__QuestionnaireReply *)s_ok(STAFF, "stats.questionnaire.get.v1", &g.base,
                                                &ccip__stats__questionnaire_reply__descriptor);
    assert_int_equal(r->questionnaire->version, 1);
    assert_string_equal(r->questionnaire->content->sections[0]->questions[0]->options[0]->label,
                        "Fully");
    ccip_test_free(r);
    g.draft = 1;
    assert_int_equal(s_send(STAFF, "stats.questionnaire.get.v1", &g.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    r = (Ccip__Stats__QuestionnaireReply *)s_ok(ANALYST, "stats.questionnaire.get.v1", &g.base,
                                                &ccip__stats__questionnaire_reply__descriptor);
    assert_int_equal(r->questionnaire->version, 2);
    assert_string_equal(r->questionnaire->content->sections[0]->questions[0]->options[0]->label,
                        "Not started");
    ccip_test_free(r);
    /* A second version says what changed. */
    Ccip__Stats__PublishQuestionnaireRequest p = CCIP__STATS__PUBLISH_QUESTIONNAIRE_REQUEST__INIT;
    p.questionnaire_id = id;
    p.note = "";
    assert_int_equal(s_send(ANALYST, "stats.questionnaire.publish.v1", &p.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("field `note` must say what changed");
    assert_int_equal(s_publish_form(id, "labels reworded, options reordered"), 2);
    /* Frozen: the database refuses a change of a published version. */
    assert_int_equal(ccip_test_number(&s_svc,
                                      "WITH u AS (UPDATE questionnaire_version SET title = 'x' "
                                      "WHERE questionnaire_id = '%s' AND version = 1 RETURNING 1) "
                                      "SELECT count(*) FROM u",
                                      id),
                     -1);
    assert_int_equal(s_n("SELECT count(*) FROM questionnaire_version WHERE questionnaire_id = "
                         "'%s' AND status = 'PUBLISHED'",
                         id),
                     2);
}

/* ---- opening and closing --------------------------------------------------------------------- */

/* No answers before the survey opens, none after it closes (at its time or
 * early), and nothing written by the refusals. */
static void test_open_and_close(void **state)
{
    (void)state;
    char qid[CCIP_UUID_STRLEN + 1], early[CCIP_UUID_STRLEN + 1], timed[CCIP_UUID_STRLEN + 1];
    s_new_questionnaire(qid);
    static const char *const d[] = {DONGCHENG, NULL};
    int64_t opens = ccip_now_us() + 3 * SEC_US;
    s_survey_spec s;
    s_spec(&s, qid, 0, opens, opens + 3 * SEC_US);
    s_target(&s, CCIP__STATS__TARGET_KIND__DISTRICT, d);
    s_create(&s, timed);
    s_answers a;
    s_answers_init(&a, "full", 12, 1);
    const char *dc = "district:" DONGCHENG;
    assert_int_equal(s_answer("district", dc, timed, NULL, &a, 0, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_said("opens at");
    s_said("no answers are taken before it opens; nothing was saved");
    assert_int_equal(s_answer("district", dc, timed, NULL, &a, 1, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    assert_int_equal(s_written(timed), 0);
    while (ccip_now_us() < opens + 200000)
        ccip_test_sleep_ms(100);
    assert_int_equal(s_answer("district", dc, timed, NULL, &a, 0, NULL), 0); /* a draft */
    long long draft = s_written(timed);
    assert_true(draft > 0);
    while (ccip_now_us() < opens + 3 * SEC_US + 200000)
        ccip_test_sleep_ms(100);
    assert_int_equal(s_answer("district", dc, timed, NULL, &a, 1, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_said("no answers are taken after it closes; nothing was saved");
    assert_int_equal(s_written(timed), draft);

    /* Closed early by the analyst, with a reason. */
    s_district_survey(qid, 0, early);
    Ccip__Stats__CloseSurveyRequest c = CCIP__STATS__CLOSE_SURVEY_REQUEST__INIT;
    c.survey_id = early;
    c.reason = "";
    assert_int_equal(s_send(ANALYST, "stats.survey.close.v1", &c.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("field `reason`");
    c.reason = "the policy was withdrawn";
    Ccip__Stats__SurveyReply *r = (Ccip__Stats__SurveyReply *)s_ok(
        ANALYST, "stats.survey.close.v1", &c.base, &ccip__stats__survey_reply__descriptor);
    assert_int_equal(r->survey->status, CCIP__STATS__SURVEY_STATUS__CLOSED);
    ccip_test_free(r);
    assert_int_equal(s_answer("district", dc, early, NULL, &a, 1, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_said("(closed early): no answers are taken after it closes");
    assert_int_equal(s_written(early), 0);
}

/* ---- one response per target ----------------------------------------------------------------- */

static int s_reopen(const char *role, const char *actor, const char *survey, const char *target,
                    const char *reason)
{
    Ccip__Stats__ReopenResponseRequest rq = CCIP__STATS__REOPEN_RESPONSE_REQUEST__INIT;
    rq.survey_id = (char *)survey;
    rq.target_id = (char *)target;
    rq.reason = (char *)reason;
    return s_send(role, actor, "stats.survey.response.reopen.v1", &rq.base, NULL, NULL);
}

/* One submitted response per target: a second submission or a later draft
 * is refused; staff reopen it with a reason, and it leaves the results
 * until it is submitted again. Only a target's respondent answers. */
static void test_one_response_per_target(void **state)
{
    (void)state;
    char qid[CCIP_UUID_STRLEN + 1], sid[CCIP_UUID_STRLEN + 1];
    s_new_questionnaire(qid);
    s_district_survey(qid, 0, sid);
    s_answers a;
    s_answers_init(&a, "partly", 30, 1);
    const char *xc = "district:" XICHENG;
    assert_int_equal(s_answer("district", "district:" HAIDIAN, sid, NULL, &a, 1, NULL),
                     CCIP__STATUS__NOT_FOUND);
    s_said("district:" HAIDIAN " is not a target of survey");
    assert_int_equal(s_answer("district", "district:" DONGCHENG, sid, xc, &a, 1, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    s_said("is answered by district:" XICHENG ", not by district:" DONGCHENG);
    assert_int_equal(s_answer("staff", "staff-wang", sid, xc, &a, 1, NULL),
                     CCIP__STATUS__PERMISSION_DENIED); /* staff do not answer */
    s_district_submits(sid, XICHENG, "partly", 30, 1);
    long long written = s_written(sid);
    assert_int_equal(s_answer("district", xc, sid, NULL, &a, 1, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_said("a survey takes one response per target: staff may reopen it with a reason "
           "(stats.survey.response.reopen.v1); nothing was saved");
    assert_int_equal(s_answer("district", xc, sid, NULL, &a, 0, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    assert_int_equal(s_written(sid), written);
    assert_int_equal(s_n("SELECT count(*) FROM survey_response WHERE survey_id = '%s'", sid), 1);

    /* Reopened by staff with a reason: a draft again, out of the results. */
    assert_int_equal(s_reopen("district", xc, sid, xc, "mistake"), CCIP__STATUS__PERMISSION_DENIED);
    assert_int_equal(s_reopen(STAFF, sid, xc, ""), CCIP__STATUS__INVALID_ARGUMENT);
    s_said("field `reason`");
    assert_int_equal(s_reopen(STAFF, sid, xc, "the district counted its enterprises twice"), 0);
    assert_int_equal(s_n("SELECT count(*) FROM survey_response WHERE survey_id = '%s'", sid), 0);
    assert_int_equal(
        s_n("SELECT coalesce(sum(n), 0) FROM survey_tally WHERE survey_id = '%s'", sid), 0);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM survey_participation_history WHERE "
                                      "survey_id = '%s' AND change = 'REOPENED' AND reason = "
                                      "'the district counted its enterprises twice' AND actor_id "
                                      "= 'staff-wang'",
                                      sid),
                     1);
    Ccip__Stats__GetResponseRequest g = CCIP__STATS__GET_RESPONSE_REQUEST__INIT;
    g.survey_id = sid;
    Ccip__Stats__ResponseReply *r =
        (Ccip__Stats__ResponseReply *)s_ok("district", xc, "stats.survey.response.get.v1", &g.base,
                                           &ccip__stats__response_reply__descriptor);
    assert_int_equal(r->response->status, CCIP__STATS__RESPONSE_STATUS__RESPONSE_DRAFT);
    assert_int_equal(r->response->n_answers, a.n); /* the answers came back as the draft */
    assert_string_equal(r->response->reopen_reason, "the district counted its enterprises twice");
    ccip_test_free(r);
    /* Submitted again, with the enterprises corrected. */
    s_district_submits(sid, XICHENG, "partly", 15, 1);
    r = (Ccip__Stats__ResponseReply *)s_ok("district", xc, "stats.survey.response.get.v1", &g.base,
                                           &ccip__stats__response_reply__descriptor);
    assert_int_equal(r->response->status, CCIP__STATS__RESPONSE_STATUS__RESPONSE_SUBMITTED);
    assert_int_equal(r->response->submissions, 2);
    assert_true(r->response->response_id[0] != '\0');
    ccip_test_free(r);
    Ccip__Stats__SurveyResultsReply *res = NULL;
    assert_int_equal(s_results(ANALYST, sid, &res), 0);
    const Ccip__Stats__GroupResult *tot =
        s_gr(s_question(res->results, "enterprises"), "total", "");
    assert_true(tot && tot->numbers && tot->numbers->count == 1 && tot->numbers->sum == 15);
    ccip_test_free(res);
}

/* ---- refusals of answers --------------------------------------------------------------------- */

/* A required question left empty, an answer of the wrong type or out of
 * range, an unknown option, an answer to a question not asked: each named,
 * nothing written. */
static void test_answer_refusals(void **state)
{
    (void)state;
    char qid[CCIP_UUID_STRLEN + 1], sid[CCIP_UUID_STRLEN + 1];
    s_new_questionnaire(qid);
    s_district_survey(qid, 0, sid);
    const char *cy = "district:" CHAOYANG;
    s_answers a;
    s_answers_init(&a, "full", 8, 1);
    a.n = 1; /* implemented only: a draft is fine */
    assert_int_equal(s_answer("district", cy, sid, NULL, &a, 0, NULL), 0);
    long long written = s_written(sid);
    assert_int_equal(s_answer("district", cy, sid, NULL, &a, 1, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("question `enterprises` (section `implementation`) is required: answer it; nothing was "
           "saved");
    s_answers_init(&a, "full", 8, 1);
    a.a[1].value_case = CCIP__STATS__ANSWER__VALUE_TEXT;
    a.a[1].text = "eight";
    assert_int_equal(s_answer("district", cy, sid, NULL, &a, 0, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("question `enterprises` (section `implementation`) takes a number (field `number`), got "
           "a text; nothing was saved");
    s_answers_init(&a, "full", 200000, 1);
    assert_int_equal(s_answer("district", cy, sid, NULL, &a, 1, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("question `enterprises` (section `implementation`) must be at most 100000 enterprises, "
           "got 200000");
    s_answers_init(&a, "full", 8, 1);
    a.a[2].number = -1;
    assert_int_equal(s_answer("district", cy, sid, NULL, &a, 1, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("question `funds` (section `implementation`) must be at least 0.00 yuan, got -0.01");
    s_answers_init(&a, "full", 8, 1);
    a.ch[0].n_options = 0; /* empty */
    assert_int_equal(s_answer("district", cy, sid, NULL, &a, 1, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("question `implemented` (section `implementation`) is required: answer it");
    s_answers_init(&a, "somewhat", 8, 1);
    assert_int_equal(s_answer("district", cy, sid, NULL, &a, 1, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("question `implemented` (section `implementation`) has no option `somewhat`; its "
           "options are full, partly, not_yet");
    s_answers_init(&a, "full", 8, 1);
    a.a[4].yes = 0; /* not published, yet channels answered */
    assert_int_equal(s_answer("district", cy, sid, NULL, &a, 1, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("question `channels` (section `implementation`) is asked only when `published` chose "
           "yes; remove its answer");
    s_answers_init(&a, "full", 8, 1);
    a.a[5].question = "enterprises";
    assert_int_equal(s_answer("district", cy, sid, NULL, &a, 1, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("question `enterprises` is answered twice");
    assert_int_equal(s_written(sid), written);
    assert_int_equal(s_n("SELECT count(*) FROM survey_response WHERE survey_id = '%s'", sid), 0);
    /* And the same answers, right, go in. */
    s_district_submits(sid, CHAOYANG, "full", 8, 1);
}

/* ---- anonymous surveys ----------------------------------------------------------------------- */

/* A growing list of texts for an SQL array parameter, built by the test
 * from ids it read itself. */
typedef struct {
    char *v[64];
    size_t n;
} s_list;

static void s_list_add(s_list *l, const char *s)
{
    if (l->n < 64)
        l->v[l->n++] = strdup(s);
}

static void s_list_free(s_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    l->n = 0;
}

/* {"a","b"} of the list, and of each one's hex (bytea columns show
 * their bytes as hex in a row's JSON). */
static void s_list_array(const s_list *l, char *out, size_t len)
{
    size_t used = (size_t)snprintf(out, len, "{");
    for (size_t i = 0; i < l->n && used < len; i++) {
        used += (size_t)snprintf(out + used, len - used, "%s\"%s\",\"", i ? "," : "", l->v[i]);
        for (const unsigned char *p = (const unsigned char *)l->v[i]; *p && used + 3 < len; p++)
            used += (size_t)snprintf(out + used, len - used, "%02x", *p);
        used += (size_t)snprintf(out + used, len - used, "\"");
    }
    if (used + 2 < len)
        snprintf(out + used, len - used, "}");
}

/* The base tables of schema stats. */
static int s_tables(ccip_db *db, s_list *tables)
{
    static const ccip_db_stmt st = {
        "test_tables", "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                       "'stats' AND table_type = 'BASE TABLE' ORDER BY 1"};
    PGresult *res = NULL;
    if (ccip_db_exec(db, &st, 0, NULL, NULL, NULL, &res) != CCIP_DB_OK)
        return -1;
    for (int r = 0; r < PQntuples(res); r++)
        s_list_add(tables, PQgetvalue(res, r, 0));
    PQclear(res);
    return 0;
}

/* Looks for a link, in any row of any table of the schema (every column,
 * as the row's JSON text), from a response (its id in `rids`) to who
 * answered (`who`: target ids, actor ids, their district codes): a row
 * holding both, directly; or, indirectly, a value of at least 8
 * characters (an id, a time, a text) of a row holding a response id, other
 * than the ids every response of the survey shares (`shared`), found again
 * in a row that holds someone in `who`. Returns how many linking rows
 * there are (and prints them), or -1 when a query failed. */
static long long s_links(const s_list *rids, const s_list *who, const s_list *shared)
{
    ccip_db *db = ccip_test_db_connect_in("stats", "stats");
    if (!db)
        fail_msg("%s", ccip_test_db_error());
    s_list tables = {0}, values = {0};
    char rid_arr[16384], who_arr[16384], val_arr[65536], sql[1024];
    s_list_array(rids, rid_arr, sizeof rid_arr);
    s_list_array(who, who_arr, sizeof who_arr);
    long long links = 0;
    if (s_tables(db, &tables) < 0)
        links = -1;
    /* Direct: a row with both; and the values of the rows with a response. */
    for (size_t t = 0; links >= 0 && t < tables.n; t++) {
        snprintf(sql, sizeof sql,
                 "SELECT to_jsonb(t)::text, e.v FROM stats.\"%s\" t, jsonb_each_text(to_jsonb(t)) "
                 "AS e(k, v) WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) p WHERE "
                 "strpos(to_jsonb(t)::text, p) > 0) AND length(e.v) >= 8 AND NOT e.v = ANY "
                 "($3::text[]) AND NOT e.v = ANY ($1::text[]) AND $2::text[] IS NOT NULL",
                 tables.v[t]);
        ccip_db_stmt st = {NULL, sql};
        char name[96];
        snprintf(name, sizeof name, "test_links_values_%s", tables.v[t]);
        st.name = name;
        char shared_arr[4096];
        s_list_array(shared, shared_arr, sizeof shared_arr);
        const char *p[] = {rid_arr, who_arr, shared_arr};
        PGresult *res = NULL;
        if (ccip_db_exec(db, &st, 3, p, NULL, NULL, &res) != CCIP_DB_OK) {
            fprintf(stderr, "%s: %s\n", tables.v[t], ccip_db_error(db));
            links = -1;
            break;
        }
        for (int r = 0; r < PQntuples(res); r++) {
            const char *row = PQgetvalue(res, r, 0);
            for (size_t w = 0; w < who->n; w++)
                if (strstr(row, who->v[w])) {
                    fprintf(stderr, "a response's row names %s in table %s: %s\n", who->v[w],
                            tables.v[t], row);
                    links++;
                }
            s_list_add(&values, PQgetvalue(res, r, 1));
        }
        PQclear(res);
    }
    /* Indirect: those values in a row that names someone. */
    s_list_array(&values, val_arr, sizeof val_arr);
    for (size_t t = 0; links >= 0 && values.n && t < tables.n; t++) {
        snprintf(sql, sizeof sql,
                 "SELECT to_jsonb(t)::text FROM stats.\"%s\" t WHERE EXISTS (SELECT 1 FROM "
                 "unnest($1::text[]) p WHERE strpos(to_jsonb(t)::text, p) > 0) AND EXISTS "
                 "(SELECT 1 FROM unnest($2::text[]) v WHERE strpos(to_jsonb(t)::text, v) > 0) "
                 "AND NOT EXISTS (SELECT 1 FROM unnest($3::text[]) r WHERE "
                 "strpos(to_jsonb(t)::text, r) > 0)",
                 tables.v[t]);
        char name[96];
        snprintf(name, sizeof name, "test_links_rows_%s", tables.v[t]);
        ccip_db_stmt st = {name, sql};
        const char *p[] = {who_arr, val_arr, rid_arr};
        PGresult *res = NULL;
        if (ccip_db_exec(db, &st, 3, p, NULL, NULL, &res) != CCIP_DB_OK) {
            fprintf(stderr, "%s: %s\n", tables.v[t], ccip_db_error(db));
            links = -1;
            break;
        }
        for (int r = 0; r < PQntuples(res); r++) {
            fprintf(stderr, "a value of a response is found with who answered, in table %s: %s\n",
                    tables.v[t], PQgetvalue(res, r, 0));
            links++;
        }
        PQclear(res);
    }
    s_list_free(&tables);
    s_list_free(&values);
    ccip_db_destroy(&db);
    return links;
}

/* The responses of a survey, its targets' ids, respondents and districts,
 * and what every response shares (survey and questionnaire ids), as read
 * by the test from the tables. */
static void s_survey_ids(const char *survey, s_list *rids, s_list *who, s_list *shared)
{
    ccip_db *db = ccip_test_db_connect_in("stats", "stats");
    if (!db)
        fail_msg("%s", ccip_test_db_error());
    static const ccip_db_stmt q1 = {"test_rids",
                                    "SELECT id::text FROM survey_response WHERE survey_id = $1"};
    static const ccip_db_stmt q2 = {
        "test_who", "SELECT target_id, respondent, district_code FROM survey_targets($1::uuid)"};
    static const ccip_db_stmt q3 = {"test_shared",
                                    "SELECT id::text, questionnaire_id::text FROM survey WHERE id "
                                    "= $1::uuid"};
    PGresult *res = NULL;
    const char *p[] = {survey};
    assert_int_equal(ccip_db_exec(db, &q1, 1, p, NULL, NULL, &res), CCIP_DB_OK);
    for (int r = 0; r < PQntuples(res); r++)
        s_list_add(rids, PQgetvalue(res, r, 0));
    PQclear(res);
    assert_int_equal(ccip_db_exec(db, &q2, 1, p, NULL, NULL, &res), CCIP_DB_OK);
    for (int r = 0; r < PQntuples(res); r++)
        for (int c = 0; c < 3; c++)
            if (PQgetvalue(res, r, c)[0])
                s_list_add(who, PQgetvalue(res, r, c));
    PQclear(res);
    assert_int_equal(ccip_db_exec(db, &q3, 1, p, NULL, NULL, &res), CCIP_DB_OK);
    s_list_add(shared, PQgetvalue(res, 0, 0));
    s_list_add(shared, PQgetvalue(res, 0, 1));
    PQclear(res);
    ccip_db_destroy(&db);
}

/* An anonymous survey: completeness counts who submitted, but no column of
 * any table of the schema (the events in the outbox and the stored
 * replies included) ties a response to its respondent, directly or through
 * a shared value; nobody reads one back or reopens it. The same check
 * finds the links of a survey that is not anonymous, so it can see them. */
static void test_anonymous_has_no_link(void **state)
{
    (void)state;
    char qid[CCIP_UUID_STRLEN + 1], anon[CCIP_UUID_STRLEN + 1], named[CCIP_UUID_STRLEN + 1];
    s_new_questionnaire(qid);
    s_district_survey(qid, 1, anon);
    s_district_survey(qid, 0, named);
    s_district_submits(anon, DONGCHENG, "full", 11, 1);
    s_district_submits(anon, XICHENG, "partly", 22, 0);
    s_district_submits(named, DONGCHENG, "full", 33, 1);
    s_district_submits(named, CHAOYANG, "not_yet", 44, 0);
    /* Chaoyang keeps a draft of the anonymous one. */
    s_answers a;
    s_answers_init(&a, "not_yet", 5, 0);
    assert_int_equal(s_answer("district", "district:" CHAOYANG, anon, NULL, &a, 0, NULL), 0);

    Ccip__Stats__SurveyCompletenessReply *c = s_completeness(anon);
    const Ccip__Stats__SurveyGroupCompleteness *t = s_group(c, "total", "");
    assert_non_null(t);
    assert_int_equal(t->expected, 3);
    assert_int_equal(t->submitted, 2);
    assert_int_equal(t->drafts, 1);
    assert_int_equal(t->completeness_bp, 6667);
    ccip_test_free(c);
    assert_int_equal(s_n("SELECT count(*) FROM survey_response WHERE survey_id = '%s' AND "
                         "target_id IS NULL AND target_kind IS NULL AND district_code IS NULL AND "
                         "submitted_by IS NULL AND submitted_at IS NULL",
                         anon),
                     2);

    s_list rids = {0}, who = {0}, shared = {0};
    s_survey_ids(anon, &rids, &who, &shared);
    assert_int_equal(rids.n, 2);
    assert_int_equal(s_links(&rids, &who, &shared), 0);
    s_list_free(&rids);
    s_list_free(&who);
    s_list_free(&shared);
    /* The check sees a link where there is one. */
    s_survey_ids(named, &rids, &who, &shared);
    assert_true(s_links(&rids, &who, &shared) >= 2);
    s_list_free(&rids);
    s_list_free(&who);
    s_list_free(&shared);

    /* The respondent cannot read it back, and nobody can reopen it. */
    Ccip__Stats__GetResponseRequest g = CCIP__STATS__GET_RESPONSE_REQUEST__INIT;
    g.survey_id = anon;
    Ccip__Stats__ResponseReply *r = (Ccip__Stats__ResponseReply *)s_ok(
        "district", "district:" DONGCHENG, "stats.survey.response.get.v1", &g.base,
        &ccip__stats__response_reply__descriptor);
    assert_int_equal(r->response->status, CCIP__STATS__RESPONSE_STATUS__RESPONSE_SUBMITTED);
    assert_string_equal(r->response->response_id, "");
    assert_int_equal(r->response->n_answers, 0);
    ccip_test_free(r);
    assert_int_equal(s_reopen(STAFF, anon, "district:" DONGCHENG, "asked to"),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_said("is anonymous: no response can be traced to district:" DONGCHENG);
    /* Its results have the totals only, without respondents in exports. */
    Ccip__Stats__SurveyResultsReply *res = NULL;
    assert_int_equal(s_results(ANALYST, anon, &res), 0);
    const Ccip__Stats__QuestionResult *q = s_question(res->results, "implemented");
    assert_int_equal(q->n_groups, 1);
    assert_int_equal(s_option(s_gr(q, "total", ""), "full"), 1);
    ccip_test_free(res);
    Ccip__Stats__SurveyExportRequest e = CCIP__STATS__SURVEY_EXPORT_REQUEST__INIT;
    e.survey_id = anon;
    e.format = CCIP__STATS__EXPORT_FORMAT__CSV;
    Ccip__Stats__SurveyExportReply *x = (Ccip__Stats__SurveyExportReply *)s_ok(
        ANALYST, "stats.survey.export.v1", &e.base, &ccip__stats__survey_export_reply__descriptor);
    assert_int_equal(x->total, 2);
    assert_non_null(strstr(x->content, "response,implemented,enterprises"));
    assert_null(strstr(x->content, "district:"));
    assert_null(strstr(x->content, DONGCHENG));
    ccip_test_free(x);
}

/* ---- versions and meaning -------------------------------------------------------------------- */

/* A new version (options relabelled and turned round, a question dropped)
 * changes nothing of a response to an older one: it reads as answered,
 * and the older survey's results stay as they were. */
static void test_published_version_keeps_meaning(void **state)
{
    (void)state;
    char qid[CCIP_UUID_STRLEN + 1], sid[CCIP_UUID_STRLEN + 1], sid2[CCIP_UUID_STRLEN + 1];
    s_new_questionnaire(qid);
    s_district_survey(qid, 0, sid);
    s_district_submits(sid, DONGCHENG, "partly", 7, 1);
    s_district_submits(sid, XICHENG, "not_yet", 9, 0);
    Ccip__Stats__SurveyResultsReply *before = NULL, *after = NULL;
    assert_int_equal(s_results(ANALYST, sid, &before), 0);
    long long v1 = s_n("SELECT hashtext(encode(content, 'hex')) FROM questionnaire_version "
                       "WHERE questionnaire_id = '%s' AND version = 1",
                       qid);

    s_form f;
    s_form_init(&f, 1, 1);
    s_save_form(&f, qid);
    assert_int_equal(s_publish_form(qid, "options reordered and reworded; funds dropped"), 2);

    assert_int_equal(s_n("SELECT hashtext(encode(content, 'hex')) FROM questionnaire_version "
                         "WHERE questionnaire_id = '%s' AND version = 1",
                         qid),
                     v1);
    Ccip__Stats__GetResponseRequest g = CCIP__STATS__GET_RESPONSE_REQUEST__INIT;
    g.survey_id = sid;
    Ccip__Stats__ResponseReply *r = (Ccip__Stats__ResponseReply *)s_ok(
        "district", "district:" DONGCHENG, "stats.survey.response.get.v1", &g.base,
        &ccip__stats__response_reply__descriptor);
    assert_int_equal(r->response->questionnaire_version, 1);
    assert_string_equal(r->response->answers[0]->question, "implemented");
    assert_string_equal(r->response->answers[0]->choices->options[0], "partly");
    assert_string_equal(r->response->answers[2]->question, "funds");
    assert_true(r->response->answers[2]->number == 700000);
    ccip_test_free(r);
    assert_int_equal(s_results(ANALYST, sid, &after), 0);
    const Ccip__Stats__QuestionResult *qb = s_question(before->results, "implemented");
    const Ccip__Stats__QuestionResult *qa = s_question(after->results, "implemented");
    const Ccip__Stats__GroupResult *gb = s_gr(qb, "total", ""), *ga = s_gr(qa, "total", "");
    assert_int_equal(ga->n_options, gb->n_options);
    for (size_t i = 0; i < ga->n_options; i++) {
        assert_string_equal(ga->options[i]->option, gb->options[i]->option);
        assert_string_equal(ga->options[i]->label, gb->options[i]->label);
        assert_int_equal(ga->options[i]->count, gb->options[i]->count);
    }
    assert_string_equal(ga->options[1]->label, "Partly");
    assert_int_equal(s_option(ga, "partly"), 1);
    assert_int_equal(s_option(ga, "not_yet"), 1);
    assert_int_equal(after->results->n_questions, before->results->n_questions);
    assert_true(s_gr(s_question(after->results, "funds"), "total", "")->numbers->sum == 1600000);
    ccip_test_free(before);
    ccip_test_free(after);
    /* A new survey asks the new version. */
    s_district_survey(qid, 0, sid2);
    Ccip__Stats__GetSurveyRequest gs = CCIP__STATS__GET_SURVEY_REQUEST__INIT;
    gs.survey_id = sid2;
    Ccip__Stats__SurveyReply *sr =
        (Ccip__Stats__SurveyReply *)s_ok("district", "district:" DONGCHENG, "stats.survey.get.v1",
                                         &gs.base, &ccip__stats__survey_reply__descriptor);
    assert_int_equal(sr->survey->questionnaire_version, 2);
    assert_string_equal(sr->questionnaire->content->sections[0]->questions[0]->options[0]->code,
                        "not_yet");
    ccip_test_free(sr);
}

/* ---- results and their embargo --------------------------------------------------------------- */

static const char *s_quarter_now(void)
{
    static char q[8];
    stats_quarter_format(stats_quarter_of_us(ccip_now_us()), q, sizeof q);
    return q;
}

/* 1 when the analysis of the quarter, as (role, actor) reads it, has the
 * survey's section. */
static int s_in_analysis(const char *role, const char *actor, const char *survey)
{
    Ccip__Stats__AnalysisRequest rq = CCIP__STATS__ANALYSIS_REQUEST__INIT;
    rq.quarter = (char *)s_quarter_now();
    Ccip__Stats__AnalysisReply *r = (Ccip__Stats__AnalysisReply *)s_ok(
        role, actor, "stats.analysis.get.v1", &rq.base, &ccip__stats__analysis_reply__descriptor);
    int found = 0;
    for (size_t i = 0; i < r->n_surveys; i++)
        found |= strcmp(r->surveys[i]->survey->id, survey) == 0;
    ccip_test_free(r);
    return found;
}

/* Every read of results, as (role, actor): results, texts, exports as CSV
 * and JSON, another target's response. Returns how many answered OK. */
static int s_reads(const char *role, const char *actor, const char *survey)
{
    int ok = 0;
    ok += s_results(role, actor, survey, NULL) == 0;
    Ccip__Stats__SurveyTextsRequest t = CCIP__STATS__SURVEY_TEXTS_REQUEST__INIT;
    t.survey_id = (char *)survey;
    t.question = "obstacles";
    ok += s_send(role, actor, "stats.survey.texts.v1", &t.base, NULL, NULL) == 0;
    Ccip__Stats__SurveyExportRequest e = CCIP__STATS__SURVEY_EXPORT_REQUEST__INIT;
    e.survey_id = (char *)survey;
    e.format = CCIP__STATS__EXPORT_FORMAT__CSV;
    ok += s_send(role, actor, "stats.survey.export.v1", &e.base, NULL, NULL) == 0;
    e.format = CCIP__STATS__EXPORT_FORMAT__JSON;
    ok += s_send(role, actor, "stats.survey.export.v1", &e.base, NULL, NULL) == 0;
    Ccip__Stats__GetResponseRequest g = CCIP__STATS__GET_RESPONSE_REQUEST__INIT;
    g.survey_id = (char *)survey;
    g.target_id = "district:" XICHENG;
    ok += s_send(role, actor, "stats.survey.response.get.v1", &g.base, NULL, NULL) == 0;
    return ok;
}

/* Counts, shares, sums, means and exact quartiles, by district and target
 * kind; the choices' tally equals a GROUP BY over the answers. Before the
 * bulletin that carries them is past its embargo, only analysts read the
 * results, through every read (results, texts, exports, others'
 * responses, the quarter's analysis, the release); after it, anyone. */
static void test_results_embargo(void **state)
{
    (void)state;
    char qid[CCIP_UUID_STRLEN + 1], sid[CCIP_UUID_STRLEN + 1];
    s_new_questionnaire(qid);
    static const char *const d[] = {DONGCHENG, XICHENG, CHAOYANG, HAIDIAN, NULL};
    s_survey_spec s;
    s_spec(&s, qid, 0, 0, 0);
    s_target(&s, CCIP__STATS__TARGET_KIND__DISTRICT, d);
    s_create(&s, sid);
    s_district_submits(sid, DONGCHENG, "full", 10, 1);
    s_district_submits(sid, XICHENG, "full", 20, 1);
    s_district_submits(sid, CHAOYANG, "partly", 30, 0);
    s_district_submits(sid, HAIDIAN, "not_yet", 40, 1);

    Ccip__Stats__SurveyResultsReply *r = NULL;
    assert_int_equal(s_results(ANALYST, sid, &r), 0);
    assert_int_equal(r->results->responses, 4);
    assert_int_equal(r->results->expected, 4);
    assert_false(r->results->released);
    const Ccip__Stats__QuestionResult *q = s_question(r->results, "implemented");
    const Ccip__Stats__GroupResult *g = s_gr(q, "total", "");
    assert_int_equal(g->answered, 4);
    assert_int_equal(s_option(g, "full"), 2);
    assert_int_equal(g->options[0]->share_bp, 5000);
    assert_int_equal(s_option(s_gr(q, "district", CHAOYANG), "partly"), 1);
    assert_int_equal(s_option(s_gr(q, "target_kind", "DISTRICT"), "not_yet"), 1);
    g = s_gr(s_question(r->results, "enterprises"), "total", "");
    assert_int_equal(g->numbers->count, 4);
    assert_true(g->numbers->sum == 100 && g->numbers->min == 10 && g->numbers->max == 40);
    assert_true(g->numbers->mean_x100 == 2500);
    assert_true(g->numbers->q1_x100 == 1750); /* 17.5 */
    assert_true(g->numbers->median_x100 == 2500);
    assert_true(g->numbers->q3_x100 == 3250); /* 32.5 */
    g = s_gr(s_question(r->results, "enterprises"), "district", XICHENG);
    assert_true(g && g->numbers->count == 1 && g->numbers->median_x100 == 2000);
    g = s_gr(s_question(r->results, "channels"), "total", "");
    assert_int_equal(g->answered, 3); /* asked of those who published */
    assert_int_equal(s_option(g, "web"), 3);
    assert_int_equal(s_gr(s_question(r->results, "obstacles"), "total", "")->answered, 4);
    ccip_test_free(r);
    /* The kept tally is a GROUP BY over the answers, both ways. */
    assert_int_equal(ccip_test_number(&s_svc,
                                      "SELECT count(*) FROM ((SELECT question, col, "
                                      "district_code, target_kind, opt, n FROM survey_tally "
                                      "WHERE survey_id = '%s' AND n > 0 EXCEPT SELECT question, "
                                      "col, coalesce(district_code, ''), coalesce(target_kind, "
                                      "''), coalesce(opt, -1), count(*) FROM survey_answer WHERE "
                                      "survey_id = '%s' GROUP BY 1, 2, 3, 4, 5) UNION ALL (SELECT "
                                      "question, col, coalesce(district_code, ''), "
                                      "coalesce(target_kind, ''), coalesce(opt, -1), count(*) "
                                      "FROM survey_answer WHERE survey_id = '%s' GROUP BY 1, 2, "
                                      "3, 4, 5 EXCEPT SELECT question, col, district_code, "
                                      "target_kind, opt, n FROM survey_tally WHERE survey_id = "
                                      "'%s' AND n > 0)) x",
                                      sid, sid, sid, sid),
                     0);

    /* Before any release: analysts only, through every read. */
    assert_int_equal(s_reads(ANALYST, sid), 5);
    assert_int_equal(s_reads(STAFF, sid), 0);
    s_said("that you may read (others' responses are results");
    assert_int_equal(s_reads("district", "district:" DONGCHENG, sid), 0);
    assert_int_equal(s_reads(NULL, NULL, sid), 0); /* another service */
    /* (a target reads its own response, which is not results) */
    Ccip__Stats__GetResponseRequest own = CCIP__STATS__GET_RESPONSE_REQUEST__INIT;
    own.survey_id = sid;
    ccip_test_free(s_ok("district", "district:" DONGCHENG, "stats.survey.response.get.v1",
                        &own.base, &ccip__stats__response_reply__descriptor));
    Ccip__Stats__AttachSurveyRequest at = CCIP__STATS__ATTACH_SURVEY_REQUEST__INIT;
    at.survey_id = sid;
    at.quarter = (char *)s_quarter_now();
    assert_int_equal(s_send(STAFF, "stats.survey.attach.v1", &at.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    ccip_test_free(s_ok(ANALYST, "stats.survey.attach.v1", &at.base,
                        &ccip__stats__attach_survey_reply__descriptor));
    assert_true(s_in_analysis(ANALYST, sid));
    assert_false(s_in_analysis(STAFF, sid));

    /* A release with an embargo carries the survey; until it ends, nothing. */
    int64_t embargo = ccip_now_us() + 4 * SEC_US;
    Ccip__Stats__PublishReleaseRequest p = CCIP__STATS__PUBLISH_RELEASE_REQUEST__INIT;
    p.quarter = (char *)s_quarter_now();
    p.title = "Quarterly bulletin with the policy survey";
    p.licence = "CC-BY-4.0";
    p.embargo_until_us = embargo;
    p.change_note = "the policy-implementation survey added";
    Ccip__Stats__ReleaseReply *rel = (Ccip__Stats__ReleaseReply *)s_ok(
        ANALYST, "stats.release.publish.v1", &p.base, &ccip__stats__release_reply__descriptor);
    uint32_t version = rel->release->version;
    assert_non_null(strstr(rel->release->summary, "Survey \"Policy implementation survey\": 4 of 4 "
                                                  "targets responded (100.00 %)"));
    ccip_test_free(rel);
    assert_int_equal(s_reads(STAFF, sid), 0);
    assert_false(s_in_analysis(STAFF, sid));
    Ccip__Stats__GetReleaseRequest gr = CCIP__STATS__GET_RELEASE_REQUEST__INIT;
    gr.quarter = (char *)s_quarter_now();
    gr.version = version;
    assert_int_equal(s_send(STAFF, "stats.release.get.v1", &gr.base, NULL, NULL),
                     CCIP__STATUS__NOT_FOUND);
    while (ccip_now_us() < embargo + 300000)
        ccip_test_sleep_ms(100);
    assert_int_equal(s_reads(STAFF, sid), 5);
    assert_int_equal(s_reads("district", "district:" DONGCHENG, sid), 5);
    assert_int_equal(s_reads(NULL, NULL, sid), 5);
    assert_true(s_in_analysis(STAFF, sid));
    rel = (Ccip__Stats__ReleaseReply *)s_ok(STAFF, "stats.release.get.v1", &gr.base,
                                            &ccip__stats__release_reply__descriptor);
    int html = 0, csv = 0;
    for (size_t i = 0; i < rel->release->n_files; i++) {
        const Ccip__Stats__ReleaseFile *f = rel->release->files[i];
        if (strcmp(f->name, "bulletin.html") == 0)
            html = strstr(f->content, "<h2>Survey: Policy implementation survey</h2>") &&
                   strstr(f->content, "aria-label=\"implemented: share of each answer\"") &&
                   strstr(f->content, "aria-label=\"enterprises: median by district\"");
        if (strcmp(f->name, "surveys.csv") == 0)
            csv = strstr(f->content, sid) != NULL;
    }
    assert_true(html);
    assert_true(csv);
    ccip_test_free(rel);
    assert_int_equal(s_results(STAFF, sid, &r), 0);
    assert_true(r->results->released);
    ccip_test_free(r);
}

/* ---- completeness and replay ----------------------------------------------------------------- */

/* Registers organisation uscc (of `district`) of `type` with the real
 * intake. */
static void s_register_uscc(const char *district, Ccip__Intake__OrganisationType type,
                            const char *uscc)
{
    char actor[CCIP_USCC_LEN + 5], name[80];
    snprintf(actor, sizeof actor, "org:%s", uscc);
    snprintf(name, sizeof name, "Research institute %s", uscc + 10);
    Ccip__Intake__RegisterOrganisationRequest org =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    org.uscc = (char *)uscc;
    org.name = name;
    org.type = type;
    org.district = (char *)district;
    org.legal_representative = "Zhao Min";
    org.contact_name = "Qian Cheng";
    org.contact_phone = "010-6904 0000";
    org.contact_email = "office@example.cn";
    ccip_test_free(
        s_ok_at("intake", "applicant", actor, "intake.organisation.register.v1", &org.base));
}

/* A new organisation of `type` in district, registered with intake. */
static void s_register_org(const char *district, Ccip__Intake__OrganisationType type,
                           char uscc[CCIP_USCC_LEN + 1])
{
    ccip_test_uscc(district, uscc);
    s_register_uscc(district, type, uscc);
}

/* Waits until stats has applied intake's whole stream. */
static void s_intake_wait(void)
{
    long long head = -1, at = -1;
    for (int i = 0; i < 300; i++) {
        head = ccip_test_query_number("intake", "SELECT head FROM outbox_state");
        at = ccip_test_query_number(
            "stats", "SELECT position FROM consumer_cursor WHERE producer = 'intake'");
        if (head >= 0 && at >= head)
            return;
        ccip_test_sleep_ms(100);
    }
    fprintf(stderr, "intake's head is at %lld, stats applied up to %lld\n", head, at);
    ccip_test_fail(&s_svc, "stats did not apply intake's stream");
}

/* Puts a cluster on the roster the way it gets there (evaluation's
 * designation event, consumed); returns the event's position. */
static uint64_t s_designate(const char *district, const char *uscc, char id[64])
{
    static int n;
    snprintf(id, 64, "S%s-%d", s_run, ++n);
    Ccip__Evaluation__Designation d = CCIP__EVALUATION__DESIGNATION__INIT;
    d.id = id;
    d.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    d.certificate_no = "CCI-SURVEY-0001";
    d.holder_uscc = (char *)uscc;
    d.holder_name = "Lantern Culture Co.";
    d.name = "Lantern creative cluster";
    d.district_code = (char *)district;
    d.valid_from_us = ccip_now_us() - 365 * DAY_US;
    d.valid_until_us = ccip_now_us() + 3 * 365 * DAY_US;
    d.status = CCIP__EVALUATION__DESIGNATION_STATUS__DESIGNATION_ACTIVE;
    d.granted_at_us = ccip_now_us() - 365 * DAY_US;
    d.granted_by = "office-chen";
    Ccip__Evaluation__DesignationChanged ev = CCIP__EVALUATION__DESIGNATION_CHANGED__INIT;
    ev.designation = &d;
    uint64_t pos = ccip_test_producer_add(s_evaluation, "evaluation.designation.granted.v1",
                                          "designation", id, &ev.base, "office-chen", "office");
    assert_true(pos > 0);
    if (ccip_test_producer_wait_applied(s_evaluation, 30000) < 0)
        ccip_test_fail(&s_svc, "stats did not apply the designation");
    return pos;
}

/* Two completeness replies say the same of every target and group. */
static void s_same_completeness(const Ccip__Stats__SurveyCompletenessReply *a,
                                const Ccip__Stats__SurveyCompletenessReply *b)
{
    assert_int_equal(a->n_targets, b->n_targets);
    for (size_t i = 0; i < a->n_targets; i++) {
        assert_string_equal(a->targets[i]->target_id, b->targets[i]->target_id);
        assert_string_equal(a->targets[i]->name, b->targets[i]->name);
        assert_string_equal(a->targets[i]->district_code, b->targets[i]->district_code);
        assert_string_equal(a->targets[i]->respondent, b->targets[i]->respondent);
        assert_int_equal(a->targets[i]->kind, b->targets[i]->kind);
        assert_int_equal(a->targets[i]->status, b->targets[i]->status);
    }
    assert_int_equal(a->n_groups, b->n_groups);
    for (size_t i = 0; i < a->n_groups; i++) {
        assert_string_equal(a->groups[i]->dimension, b->groups[i]->dimension);
        assert_string_equal(a->groups[i]->key, b->groups[i]->key);
        assert_int_equal(a->groups[i]->expected, b->groups[i]->expected);
        assert_int_equal(a->groups[i]->submitted, b->groups[i]->submitted);
        assert_int_equal(a->groups[i]->drafts, b->groups[i]->drafts);
    }
}

/* A survey of organisations of a type (intake's register), a cluster on
 * the roster (evaluation's designations), a district and a department:
 * its targets are the list as it stood when it opened, by the sources'
 * own times; completeness counts each by district and kind; replaying the
 * events that feed it (intake's stream from position 0 into an emptied
 * register, evaluation's designation delivered again) gives the same
 * completeness. */
static void test_completeness_replay(void **state)
{
    (void)state;
    char org[3][CCIP_USCC_LEN + 1], late[CCIP_USCC_LEN + 1], op[CCIP_USCC_LEN + 1];
    char roster[64], qid[CCIP_UUID_STRLEN + 1], sid[CCIP_UUID_STRLEN + 1];
    s_register_org(CHAOYANG, CCIP__INTAKE__ORGANISATION_TYPE__INSTITUTION, org[0]);
    s_register_org(HAIDIAN, CCIP__INTAKE__ORGANISATION_TYPE__INSTITUTION, org[1]);
    s_register_org(HAIDIAN, CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE, org[2]); /* not the type */
    ccip_test_uscc(XICHENG, op);
    uint64_t grant = s_designate(XICHENG, op, roster);
    s_intake_wait();
    s_new_questionnaire(qid);
    ccip_test_uscc(HAIDIAN, late); /* registered after the opening: not a target */
    s_survey_spec s;
    s_spec(&s, qid, 0, 0, 0);
    const char *orgs[] = {org[0], org[1], org[2], late, NULL};
    Ccip__Stats__TargetSelector *t = s_target(&s, CCIP__STATS__TARGET_KIND__ORGANISATION, orgs);
    t->organisation_type = "INSTITUTION";
    const char *entries[] = {roster, NULL};
    s_target(&s, CCIP__STATS__TARGET_KIND__ROSTER_ENTRY, entries);
    const char *dist[] = {DONGCHENG, NULL}, *dept[] = {"culture_tourism", NULL};
    s_target(&s, CCIP__STATS__TARGET_KIND__DISTRICT, dist);
    s_target(&s, CCIP__STATS__TARGET_KIND__DEPARTMENT, dept);
    s_create(&s, sid);
    ccip_test_sleep_ms(20);
    s_register_uscc(HAIDIAN, CCIP__INTAKE__ORGANISATION_TYPE__INSTITUTION, late);
    s_intake_wait();

    /* An organisation answers for itself, the operator for its cluster,
     * the department keeps a draft. */
    s_answers a;
    char actor[40], target[80];
    s_answers_init(&a, "full", 3, 1);
    snprintf(actor, sizeof actor, "org:%s", org[0]);
    assert_int_equal(s_answer("applicant", actor, sid, NULL, &a, 1, NULL), 0);
    snprintf(actor, sizeof actor, "org:%s", late);
    assert_int_equal(s_answer("applicant", actor, sid, NULL, &a, 1, NULL), CCIP__STATUS__NOT_FOUND);
    snprintf(actor, sizeof actor, "org:%s", op);
    assert_int_equal(s_answer("operator", actor, sid, NULL, &a, 1, NULL), CCIP__STATUS__NOT_FOUND);
    s_said("field `target_id` names the target you answer for");
    snprintf(target, sizeof target, "roster:%s", roster);
    assert_int_equal(s_answer("operator", actor, sid, target, &a, 1, NULL), 0);
    a.n = 2;
    assert_int_equal(s_answer("department", "dept:culture_tourism", sid, NULL, &a, 0, NULL), 0);

    Ccip__Stats__SurveyCompletenessReply *before = s_completeness(sid);
    assert_int_equal(before->n_targets, 5); /* 2 institutions, the cluster, a district, a dept */
    const Ccip__Stats__SurveyGroupCompleteness *g = s_group(before, "total", "");
    assert_int_equal(g->expected, 5);
    assert_int_equal(g->submitted, 2);
    assert_int_equal(g->drafts, 1);
    assert_int_equal(g->not_started, 2);
    assert_int_equal(s_group(before, "district", HAIDIAN)->expected, 1);
    assert_int_equal(s_group(before, "district", "")->expected, 1); /* the department */
    assert_int_equal(s_group(before, "target_kind", "ORGANISATION")->submitted, 1);
    assert_int_equal(s_group(before, "target_kind", "ROSTER_ENTRY")->submitted, 1);
    /* A district office sees its own district only. */
    Ccip__Stats__SurveyCompletenessRequest cr = CCIP__STATS__SURVEY_COMPLETENESS_REQUEST__INIT;
    cr.survey_id = sid;
    cr.district = HAIDIAN;
    assert_int_equal(s_send("district", "district:" DONGCHENG, "stats.survey.completeness.v1",
                            &cr.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);

    /* Replay: the register kept from intake's events emptied and intake's
     * cursor set back to 0 in one statement (so the consumer never sees the
     * one without the other); the consumer follows the cursor back at
     * intake's next event (an enterprise registered now, not a target) and
     * applies intake's whole stream again from position 1. (Not
     * stats.projections.rebuild.v1: it replays every producer from 1, and
     * this suite's stand-ins hold only the events after the cursors of the
     * suites before it.) Then the designation is delivered a second time. */
    long long registered = s_n("SELECT count(*) FROM ev_org");
    long long reg = s_n("SELECT registered_at_us FROM ev_org WHERE uscc = '%s'", org[1]);
    assert_int_equal(ccip_test_number(&s_svc,
                                      "WITH d AS (DELETE FROM ev_org RETURNING 1), c AS (UPDATE "
                                      "consumer_cursor SET position = 0 WHERE producer = 'intake' "
                                      "RETURNING 1) SELECT (SELECT count(*) FROM c) + 0 * (SELECT "
                                      "count(*) FROM d)"),
                     1);
    char next[CCIP_USCC_LEN + 1];
    s_register_org(HAIDIAN, CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE, next);
    s_intake_wait();
    assert_int_equal(s_n("SELECT count(*) FROM ev_org"), registered + 1);
    assert_int_equal(s_n("SELECT registered_at_us FROM ev_org WHERE uscc = '%s'", org[1]), reg);
    assert_true(ccip_test_producer_repeat(s_evaluation, grant) > 0);
    if (ccip_test_producer_wait_applied(s_evaluation, 30000) < 0)
        ccip_test_fail(&s_svc, "stats did not apply the designation again");
    assert_int_equal(s_n("SELECT count(*) FROM ev_org WHERE uscc IN ('%s')", org[0]), 1);
    Ccip__Stats__SurveyCompletenessReply *after = s_completeness(sid);
    s_same_completeness(before, after);
    ccip_test_free(before);
    ccip_test_free(after);
}

/* ---- invitations and reminders --------------------------------------------------------------- */

/* When a survey opens every target is invited (an event for the inbox);
 * at each reminder day before the close the targets that have not
 * submitted are reminded; each once. */
static void test_invitations_and_reminders(void **state)
{
    (void)state;
    char qid[CCIP_UUID_STRLEN + 1], sid[CCIP_UUID_STRLEN + 1];
    s_new_questionnaire(qid);
    static const char *const d[] = {DONGCHENG, XICHENG, NULL};
    s_survey_spec s;
    /* Closes a day and 4 s from now, reminds a day before: in 4 s. */
    s_spec(&s, qid, 0, 0, ccip_now_us() + DAY_US + 4 * SEC_US);
    s.days[0] = 1;
    s.rq.reminder_days = s.days;
    s.rq.n_reminder_days = 1;
    s_target(&s, CCIP__STATS__TARGET_KIND__DISTRICT, d);
    s_create(&s, sid);
    s_district_submits(sid, DONGCHENG, "full", 1, 1);
#define S_NOTICES(kind)                                                                            \
    "SELECT count(*) FROM outbox WHERE type = 'stats.survey." kind ".v1' AND aggregate_id = '%s'"
    char sql[300];
    snprintf(sql, sizeof sql, S_NOTICES("reminder"), sid);
    if (ccip_test_wait_count("stats", sql, 1, 15000) != 1)
        ccip_test_fail(&s_svc, "no reminder came");
    ccip_test_sleep_ms(2500); /* two more runs of the schedule: nothing more */
    assert_int_equal(s_n(S_NOTICES("reminder"), sid), 1);
    assert_int_equal(s_n(S_NOTICES("opened"), sid), 2);
    assert_int_equal(s_n("SELECT count(*) FROM survey_notice WHERE survey_id = '%s'", sid), 2);
}

/* ---- research -------------------------------------------------------------------------------- */

static Ccip__Stats__ResearchReply *s_deliver(const char *role, const char *actor, const char *task,
                                             const char *code, const char *content, int *status)
{
    Ccip__Stats__DeliverResearchRequest rq = CCIP__STATS__DELIVER_RESEARCH_REQUEST__INIT;
    rq.task_id = (char *)task;
    rq.deliverable = (char *)code;
    rq.document_name = "report.pdf";
    rq.media_type = "application/pdf";
    rq.content.data = (uint8_t *)content;
    rq.content.len = strlen(content);
    Ccip__Stats__ResearchReply *r = NULL;
    *status = s_send(role, actor, "stats.research.deliver.v1", &rq.base,
                     &ccip__stats__research_reply__descriptor, (ProtobufCMessage **)&r);
    return r;
}

static int s_review(const char *task, const char *code, int approve, const char *note)
{
    Ccip__Stats__ReviewDeliverableRequest rq = CCIP__STATS__REVIEW_DELIVERABLE_REQUEST__INIT;
    rq.task_id = (char *)task;
    rq.deliverable = (char *)code;
    rq.approve = approve;
    rq.note = (char *)note;
    return s_send(ANALYST, "stats.research.review.v1", &rq.base, NULL, NULL);
}

/* A study commissioned from an organisation of intake's register, with its
 * deliverables as documents, reviewed and accepted; the body acts only on
 * its own task. */
static void test_research(void **state)
{
    (void)state;
    char body[CCIP_USCC_LEN + 1], other[CCIP_USCC_LEN + 1], qid[CCIP_UUID_STRLEN + 1];
    char sid[CCIP_UUID_STRLEN + 1], task[CCIP_UUID_STRLEN + 1], actor[40];
    s_register_org(HAIDIAN, CCIP__INTAKE__ORGANISATION_TYPE__INSTITUTION, body);
    ccip_test_uscc(HAIDIAN, other);
    s_intake_wait();
    s_new_questionnaire(qid);
    s_district_survey(qid, 0, sid);
    Ccip__Stats__DeliverableSpec d[2];
    Ccip__Stats__DeliverableSpec *dl[2] = {&d[0], &d[1]};
    for (int i = 0; i < 2; i++) {
        d[i] = (Ccip__Stats__DeliverableSpec)CCIP__STATS__DELIVERABLE_SPEC__INIT;
        d[i].code = i ? "final_report" : "interim_report";
        d[i].title = i ? "Final report" : "Interim report";
        d[i].due_at_us = ccip_now_us() + (i + 1) * 30 * DAY_US;
    }
    Ccip__Stats__CommissionResearchRequest c = CCIP__STATS__COMMISSION_RESEARCH_REQUEST__INIT;
    c.topic = "How the rent subsidies reach small studios";
    c.survey_id = sid;
    c.deliverables = dl;
    c.n_deliverables = 2;
    snprintf(actor, sizeof actor, "org:%s", other); /* not registered */
    c.body = actor;
    assert_int_equal(s_send(ANALYST, "stats.research.commission.v1", &c.base, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_said("is not in intake's register");
    c.body = "dept:nowhere";
    assert_int_equal(s_send(ANALYST, "stats.research.commission.v1", &c.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("field `body`: there is no department `nowhere`");
    snprintf(actor, sizeof actor, "org:%s", body);
    c.body = actor;
    d[1].due_at_us = ccip_now_us() - DAY_US;
    assert_int_equal(s_send(ANALYST, "stats.research.commission.v1", &c.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("field `deliverables[2].due_at_us` must be in the future");
    d[1].due_at_us = ccip_now_us() + 60 * DAY_US;
    Ccip__Stats__ResearchReply *r = (Ccip__Stats__ResearchReply *)s_ok(
        ANALYST, "stats.research.commission.v1", &c.base, &ccip__stats__research_reply__descriptor);
    snprintf(task, sizeof task, "%s", r->task->id);
    assert_string_equal(r->task->survey_id, sid);
    assert_int_equal(strncmp(r->task->body_name, "Research institute ", 19), 0);
    assert_int_equal(r->task->n_deliverables, 2);
    assert_int_equal(r->task->deliverables[0]->status, CCIP__STATS__DELIVERABLE_STATUS__PENDING);
    ccip_test_free(r);

    /* Only the body delivers, a document at a time. */
    char stranger[40];
    int st;
    snprintf(stranger, sizeof stranger, "org:%s", other);
    r = s_deliver("applicant", stranger, task, "interim_report", "%PDF-1.7 interim", &st);
    assert_int_equal(st, CCIP__STATUS__NOT_FOUND);
    s_said("there is no research task");
    r = s_deliver("applicant", actor, task, "nothing", "%PDF-1.7 interim", &st);
    assert_int_equal(st, CCIP__STATUS__NOT_FOUND);
    s_said("has no deliverable `nothing`");
    r = s_deliver("applicant", actor, task, "interim_report", "%PDF-1.7 interim", &st);
    assert_int_equal(st, 0);
    assert_int_equal(r->task->deliverables[0]->status, CCIP__STATS__DELIVERABLE_STATUS__DELIVERED);
    assert_int_equal(r->task->deliverables[0]->size, 16);
    assert_int_equal(strlen(r->task->deliverables[0]->sha256), 64);
    ccip_test_free(r);
    /* Returned with a note, delivered again, approved. */
    assert_int_equal(s_review(task, "interim_report", 0, ""), CCIP__STATUS__INVALID_ARGUMENT);
    s_said("field `note`");
    assert_int_equal(s_review(task, "interim_report", 0, "the survey's data are missing"), 0);
    Ccip__Stats__AcceptResearchRequest acc = CCIP__STATS__ACCEPT_RESEARCH_REQUEST__INIT;
    acc.task_id = task;
    acc.note = "thorough work";
    assert_int_equal(s_send(ANALYST, "stats.research.accept.v1", &acc.base, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_said("deliverable `interim_report` is REDO; approve every deliverable first");
    ccip_test_free(
        s_deliver("applicant", actor, task, "interim_report", "%PDF-1.7 interim v2", &st));
    assert_int_equal(st, 0);
    assert_int_equal(s_review(task, "interim_report", 1, ""), 0);
    ccip_test_free(s_deliver("applicant", actor, task, "final_report", "%PDF-1.7 final", &st));
    assert_int_equal(s_review(task, "final_report", 1, "good"), 0);
    r = (Ccip__Stats__ResearchReply *)s_ok(ANALYST, "stats.research.accept.v1", &acc.base,
                                           &ccip__stats__research_reply__descriptor);
    assert_int_equal(r->task->status, CCIP__STATS__RESEARCH_STATUS__RESEARCH_ACCEPTED);
    ccip_test_free(r);
    ccip_test_free(s_deliver("applicant", actor, task, "final_report", "%PDF-1.7 late", &st));
    assert_int_equal(st, CCIP__STATUS__FAILED_PRECONDITION);
    s_said("is accepted: its deliverables are final");
    /* The document as delivered; the history of every step. */
    Ccip__Stats__GetResearchDocumentRequest gd = CCIP__STATS__GET_RESEARCH_DOCUMENT_REQUEST__INIT;
    gd.task_id = task;
    gd.deliverable = "interim_report";
    Ccip__Stats__ResearchDocumentReply *doc = (Ccip__Stats__ResearchDocumentReply *)s_ok(
        "applicant", actor, "stats.research.document.v1", &gd.base,
        &ccip__stats__research_document_reply__descriptor);
    assert_int_equal(doc->content.len, 19);
    assert_memory_equal(doc->content.data, "%PDF-1.7 interim v2", 19);
    ccip_test_free(doc);
    assert_int_equal(s_n("SELECT count(*) FROM research_history WHERE task_id = '%s'", task), 8);
    assert_int_equal(
        s_send("applicant", stranger, "stats.research.document.v1", &gd.base, NULL, NULL),
        CCIP__STATUS__NOT_FOUND);
    /* A department's study, delivered as the department. */
    c.body = "dept:culture_tourism";
    c.n_deliverables = 1;
    c.survey_id = "";
    r = (Ccip__Stats__ResearchReply *)s_ok(ANALYST, "stats.research.commission.v1", &c.base,
                                           &ccip__stats__research_reply__descriptor);
    snprintf(task, sizeof task, "%s", r->task->id);
    ccip_test_free(r);
    ccip_test_free(
        s_deliver("department", "dept:culture_tourism", task, "interim_report", "%PDF dept", &st));
    assert_int_equal(st, 0);
}

/* ---- departments ----------------------------------------------------------------------------- */

static void test_departments(void **state)
{
    (void)state;
    char code[40];
    snprintf(code, sizeof code, "bureau_%s", s_run);
    Ccip__Stats__DefineDepartmentRequest rq = CCIP__STATS__DEFINE_DEPARTMENT_REQUEST__INIT;
    rq.code = "Bad-Code";
    rq.name = "x";
    assert_int_equal(s_send(STAFF, "stats.department.define.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("field `code`");
    rq.code = code;
    rq.name = "Municipal Bureau of Parks";
    assert_int_equal(s_send(ANALYST, "stats.department.define.v1", &rq.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    ccip_test_free(s_ok(STAFF, "stats.department.define.v1", &rq.base,
                        &ccip__stats__department_reply__descriptor));
    Ccip__Stats__ListDepartmentsRequest l = CCIP__STATS__LIST_DEPARTMENTS_REQUEST__INIT;
    Ccip__Stats__ListDepartmentsReply *r = (Ccip__Stats__ListDepartmentsReply *)s_ok(
        "department", "dept:culture_tourism", "stats.department.list.v1", &l.base,
        &ccip__stats__list_departments_reply__descriptor);
    int found = 0;
    for (size_t i = 0; i < r->n_departments; i++)
        found |= strcmp(r->departments[i]->code, code) == 0;
    assert_true(found);
    assert_true(r->n_departments >= 14);
    ccip_test_free(r);
}

/* ---- refusals write nothing ------------------------------------------------------------------ */

/* Every row the survey and research commands write, and their events (the
 * scheduled invitations and reminders aside, which other tests' surveys
 * may still be sending). */
static long long s_all_rows(void)
{
    return s_n("SELECT (SELECT count(*) FROM questionnaire_version) + (SELECT count(*) FROM "
               "survey) + (SELECT count(*) FROM survey_selector) + (SELECT count(*) FROM "
               "survey_participation) + (SELECT count(*) FROM survey_participation_history) + "
               "(SELECT count(*) FROM survey_response) + (SELECT count(*) FROM survey_answer) + "
               "(SELECT coalesce(sum(n), 0) FROM survey_tally) + (SELECT count(*) FROM "
               "survey_section) + (SELECT count(*) FROM research_task) + (SELECT count(*) FROM "
               "research_deliverable) + (SELECT count(*) FROM research_history) + (SELECT "
               "count(*) FROM department) + (SELECT count(*) FROM outbox WHERE type NOT IN "
               "('stats.survey.opened.v1', 'stats.survey.reminder.v1'))");
}

/* Each refusal of creating, closing, reopening, attaching and
 * commissioning names what is wrong, and writes no row and no event. */
static void test_refusals_write_nothing(void **state)
{
    (void)state;
    char qid[CCIP_UUID_STRLEN + 1], draft[CCIP_UUID_STRLEN + 1], sid[CCIP_UUID_STRLEN + 1];
    s_new_questionnaire(qid);
    s_form f;
    s_form_init(&f, 0, 0);
    draft[0] = '\0';
    s_save_form(&f, draft); /* never published */
    s_district_survey(qid, 0, sid);
    s_district_submits(sid, DONGCHENG, "full", 5, 1);
    long long before = s_all_rows();

    static const char *const d[] = {DONGCHENG, NULL}, *nodept[] = {"nowhere", NULL};
    static const char *const baddist[] = {"999999", NULL};
    s_survey_spec s;
    s_spec(&s, draft, 0, 0, 0);
    s_target(&s, CCIP__STATS__TARGET_KIND__DISTRICT, d);
    assert_int_equal(s_send(ANALYST, "stats.survey.create.v1", &s.rq.base, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_said("has no published version: publish it first");
    s_spec(&s, qid, 0, ccip_now_us() + DAY_US, ccip_now_us() + 3600 * SEC_US);
    s_target(&s, CCIP__STATS__TARGET_KIND__DISTRICT, d);
    assert_int_equal(s_send(ANALYST, "stats.survey.create.v1", &s.rq.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("field `closes_at_us` must be after the opening");
    s_spec(&s, qid, 0, 0, 0);
    s_target(&s, CCIP__STATS__TARGET_KIND__DEPARTMENT, nodept);
    assert_int_equal(s_send(ANALYST, "stats.survey.create.v1", &s.rq.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("field `targets[1].ids`: there is no department `nowhere`");
    s_spec(&s, qid, 0, 0, 0);
    s_target(&s, CCIP__STATS__TARGET_KIND__DISTRICT, baddist);
    assert_int_equal(s_send(ANALYST, "stats.survey.create.v1", &s.rq.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("field `targets[1].ids`");
    s_spec(&s, qid, 0, 0, 0);
    s_target(&s, CCIP__STATS__TARGET_KIND__ORGANISATION, NULL);
    assert_int_equal(s_send(ANALYST, "stats.survey.create.v1", &s.rq.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("an ORGANISATION part names its organisations");
    s_spec(&s, qid, 0, 0, 0);
    s_target(&s, CCIP__STATS__TARGET_KIND__DISTRICT, d);
    s.days[0] = 120;
    s.rq.reminder_days = s.days;
    s.rq.n_reminder_days = 1;
    assert_int_equal(s_send(ANALYST, "stats.survey.create.v1", &s.rq.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("field `reminder_days` holds days before the close, 1 to 90, got 120");
    assert_int_equal(s_send(STAFF, "stats.survey.create.v1", &s.rq.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);

    /* Reopening what was never submitted; attaching to no quarter. */
    assert_int_equal(s_reopen(STAFF, sid, "district:" XICHENG, "asked to"),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_said("district:" XICHENG " has not submitted a response to survey");
    Ccip__Stats__AttachSurveyRequest at = CCIP__STATS__ATTACH_SURVEY_REQUEST__INIT;
    at.survey_id = sid;
    at.quarter = "2026Q5";
    assert_int_equal(s_send(ANALYST, "stats.survey.attach.v1", &at.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("field `quarter`");

    /* A study without deliverables. */
    Ccip__Stats__CommissionResearchRequest c = CCIP__STATS__COMMISSION_RESEARCH_REQUEST__INIT;
    c.topic = "Nothing to deliver";
    c.body = "dept:culture_tourism";
    c.survey_id = sid;
    assert_int_equal(s_send(ANALYST, "stats.research.commission.v1", &c.base, NULL, NULL),
                     CCIP__STATUS__INVALID_ARGUMENT);
    s_said("field `deliverables` needs 1 to");
    assert_int_equal(s_all_rows(), before);

    /* Closing twice: the second is refused and changes nothing, and a
     * closed survey's response cannot be reopened. */
    Ccip__Stats__CloseSurveyRequest cl = CCIP__STATS__CLOSE_SURVEY_REQUEST__INIT;
    cl.survey_id = sid;
    cl.reason = "enough answers";
    ccip_test_free(
        s_ok(ANALYST, "stats.survey.close.v1", &cl.base, &ccip__stats__survey_reply__descriptor));
    before = s_all_rows();
    assert_int_equal(s_send(ANALYST, "stats.survey.close.v1", &cl.base, NULL, NULL),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_said("is closed already; nothing was changed");
    assert_int_equal(s_reopen(STAFF, sid, "district:" DONGCHENG, "a typo"),
                     CCIP__STATUS__FAILED_PRECONDITION);
    s_said("is not open: a reopened response could not be submitted again");
    assert_int_equal(s_all_rows(), before);
}

/* ---- ccipctl --------------------------------------------------------------------------------- */

static void s_ctl_has(const char *out, const char *part)
{
    if (!strstr(out, part)) {
        fprintf(stderr, "ccipctl output lacks \"%s\":\n%s\n", part, out);
        fail();
    }
}

/* The form of s_form_init as the JSON file an analyst writes, with a
 * table question too (projects: up to 3 rows of a name and a cost). */
static const char S_FORM_JSON[] =
    "{\"title\": \"Implementation of the cultural industry policies\", \"sections\": [{"
    "\"code\": \"implementation\", \"title\": \"Implementation\", \"questions\": ["
    "{\"code\": \"implemented\", \"title\": \"Is the policy implemented in your area?\", "
    "\"kind\": \"SINGLE_CHOICE\", \"required\": true, \"options\": [{\"code\": \"full\", "
    "\"label\": \"Fully\"}, {\"code\": \"partly\", \"label\": \"Partly\"}, {\"code\": "
    "\"not_yet\", \"label\": \"Not yet\"}]},"
    "{\"code\": \"enterprises\", \"title\": \"Enterprises that benefited\", \"kind\": "
    "\"NUMBER\", \"required\": true, \"unit\": \"enterprises\", \"hasMin\": true, \"hasMax\": "
    "true, \"max\": 100000},"
    "{\"code\": \"funds\", \"title\": \"Funds spent on the policy\", \"kind\": \"NUMBER\", "
    "\"unit\": \"yuan\", \"decimals\": 2, \"hasMin\": true},"
    "{\"code\": \"obstacles\", \"title\": \"What stands in the way?\", \"kind\": \"LONG_TEXT\"},"
    "{\"code\": \"published\", \"title\": \"Was the policy published locally?\", \"kind\": "
    "\"YES_NO\", \"required\": true},"
    "{\"code\": \"channels\", \"title\": \"Through which channels?\", \"kind\": "
    "\"MULTIPLE_CHOICE\", \"required\": true, \"options\": [{\"code\": \"web\", \"label\": "
    "\"Web site\"}, {\"code\": \"press\", \"label\": \"Press\"}, {\"code\": \"meeting\", "
    "\"label\": \"Meetings\"}], \"showIf\": {\"question\": \"published\", \"op\": \"CHOSEN\", "
    "\"options\": [\"yes\"]}},"
    "{\"code\": \"projects\", \"title\": \"Projects supported\", \"kind\": \"TABLE\", "
    "\"maxRows\": 3, \"columns\": [{\"code\": \"name\", \"title\": \"Project\", \"kind\": "
    "\"SHORT_TEXT\", \"required\": true}, {\"code\": \"cost\", \"title\": \"Cost\", \"kind\": "
    "\"NUMBER\", \"unit\": \"yuan\", \"decimals\": 2, \"hasMin\": true}]}]}]}\n";

/* District 110101's table answer, as the JSON of ccip.stats.Answers. */
static const char S_ANSWERS_JSON[] =
    "{\"answers\": [{\"question\": \"projects\", \"table\": {\"rows\": ["
    "{\"cells\": [{\"question\": \"name\", \"text\": \"Studio rent\"}, {\"question\": "
    "\"cost\", \"number\": \"100050\"}]},"
    "{\"cells\": [{\"question\": \"name\", \"text\": \"Night market\"}, {\"question\": "
    "\"cost\", \"number\": 50000}]}]}}]}\n";

/* The walk-through with ccipctl as the analyst, the district offices, staff
 * and a department use it: a questionnaire from a JSON file, a survey of
 * two districts, answers written as people write them, a refusal named,
 * completeness, results, an export, the quarter's analysis, a study. */
static void test_ccipctl(void **state)
{
    (void)state;
    static char out[131072];
    char path[600], qid[64], sid[64], task[64], closes[CCIP_TIME_STRLEN + 1], due[16];
    const char *dir = s_svc.env.dir;
    assert_int_equal(ccip_test_write_file(dir, "policy-form.json", S_FORM_JSON), 0);
    assert_int_equal(ccip_test_write_file(dir, "obstacles.txt", "Too few venues\nand no money"), 0);
    assert_int_equal(ccip_test_write_file(dir, "study.pdf", "%PDF-1.7 the study"), 0);
    assert_int_equal(ccip_test_write_file(dir, "projects.json", S_ANSWERS_JSON), 0);
    ccip_time_format_us(ccip_now_us() + 7 * DAY_US, closes, sizeof closes);
    time_t in30 = time(NULL) + 30 * 86400;
    strftime(due, sizeof due, "%Y-%m-%d", gmtime(&in30));

    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out, "stats --help"), 0);
    s_ctl_has(out, "stats survey         submit");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--json --role analyst --actor analyst-liu stats questionnaire "
                                   "save --file %s/policy-form.json",
                                   dir),
                     0);
    ccip_test_json_value(out, "id", qid, sizeof qid);
    assert_int_equal(strlen(qid), CCIP_UUID_STRLEN);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role analyst --actor analyst-liu stats questionnaire publish "
                                   "%s",
                                   qid),
                     0);
    s_ctl_has(out, "version 1 (QUESTIONNAIRE_PUBLISHED), 7 questions");
    s_ctl_has(out, "channels             MULTIPLE_CHOICE required Through which channels?");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--json --role analyst --actor analyst-liu stats survey create "
                                   "--questionnaire %s --title 'Policy survey by ccipctl' "
                                   "--closes %s --remind 2 --target 'district 110101,110105'",
                                   qid, closes),
                     0);
    ccip_test_json_value(out, "id", sid, sizeof sid);
    assert_int_equal(strlen(sid), CCIP_UUID_STRLEN);
    /* Wrong on the command line: said there, nothing sent. */
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role district --actor district:110101 stats survey submit %s "
                                   "--answer enterprises=twelve 2>&1",
                                   sid),
                     2);
    s_ctl_has(out, "--answer enterprises must be a number with at most 0 decimals, got \"twelve\"");
    /* Refused by stats: the sentence names the question, nothing is saved. */
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role district --actor district:110101 stats survey submit %s "
                                   "--answer implemented=full --answer funds=1234.50 2>&1",
                                   sid),
                     1);
    s_ctl_has(out, "question `enterprises` (section `implementation`) is required");
    assert_int_equal(s_n("SELECT count(*) FROM survey_participation WHERE survey_id = '%s'", sid),
                     0);
    assert_int_equal(
        ccip_test_ctl(&s_svc, out, sizeof out,
                      "--role district --actor district:110101 stats survey submit %s "
                      "--answer implemented=full --answer enterprises=12 --answer "
                      "funds=1234.50 --answer published=yes --answer channels=web,press "
                      "--answer obstacles=@%s/obstacles.txt --file %s/projects.json",
                      sid, dir, dir),
        0);
    s_ctl_has(out, "projects             (table of 2 rows)");
    s_ctl_has(out, "RESPONSE_SUBMITTED");
    s_ctl_has(out, "funds                1234.50 yuan");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role district --actor district:110105 stats survey answer %s "
                                   "--answer implemented=partly --answer enterprises=30",
                                   sid),
                     0);
    s_ctl_has(out, "RESPONSE_DRAFT");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role district --actor district:110105 stats survey submit %s "
                                   "--answer published=no",
                                   sid),
                     0);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-wang stats survey completeness %s",
                                   sid),
                     0);
    s_ctl_has(out, "total");
    s_ctl_has(out, "100.00 %");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role analyst --actor analyst-liu stats survey results %s",
                                   sid),
                     0);
    s_ctl_has(out, "2 of 2 targets responded (not released: analysts only)");
    s_ctl_has(out,
              "count 2  sum 42  min 12  max 30  mean 21  quartiles 16.5 / 21 / 25.5 enterprises");
    s_ctl_has(out, "count 1  sum 1234.50");
    s_ctl_has(out, "projects.cost (NUMBER): Projects supported: Cost");
    s_ctl_has(out, "count 2  sum 1500.50  min 500.00  max 1000.50  mean 750.25");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role analyst --actor analyst-liu stats survey texts %s "
                                   "projects.name",
                                   sid),
                     0);
    s_ctl_has(out, "district:110101 row 1: Studio rent");
    s_ctl_has(out, "district:110101 row 2: Night market");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role analyst --actor analyst-liu stats survey export %s "
                                   "--format json",
                                   sid),
                     0);
    s_ctl_has(out, "\"projects\":[{\"name\":\"Studio rent\",\"cost\":");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role staff --actor staff-wang stats survey results %s 2>&1",
                                   sid),
                     1);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role analyst --actor analyst-liu stats survey texts %s "
                                   "obstacles",
                                   sid),
                     0);
    s_ctl_has(out, "district:110101: Too few venues\nand no money");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role analyst --actor analyst-liu stats survey export %s",
                                   sid),
                     0);
    s_ctl_has(out, "implemented,enterprises,funds");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role analyst --actor analyst-liu stats survey attach %s %s",
                                   sid, s_quarter_now()),
                     0);
    s_ctl_has(out, s_quarter_now());

    /* A study for a department, delivered, approved and accepted. */
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--json --role analyst --actor analyst-liu stats research "
                                   "commission --topic 'Who the policy reaches' --body "
                                   "dept:culture_tourism --survey %s --deliverable "
                                   "'report@%s=The study'",
                                   sid, due),
                     0);
    ccip_test_json_value(out, "id", task, sizeof task);
    assert_int_equal(strlen(task), CCIP_UUID_STRLEN);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role department --actor dept:culture_tourism stats research "
                                   "deliver %s report --file %s/study.pdf",
                                   task, dir),
                     0);
    s_ctl_has(out, "study.pdf (application/pdf, 18 bytes");
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role analyst --actor analyst-liu stats research review %s "
                                   "report --approve",
                                   task),
                     0);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role analyst --actor analyst-liu stats research accept %s "
                                   "--note 'clear and complete'",
                                   task),
                     0);
    s_ctl_has(out, "RESEARCH_ACCEPTED");
    snprintf(path, sizeof path, "%s/copy.pdf", dir);
    assert_int_equal(ccip_test_ctl(&s_svc, out, sizeof out,
                                   "--role analyst --actor analyst-liu stats research document %s "
                                   "report --out %s",
                                   task, path),
                     0);
    s_ctl_has(out, "wrote");
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char copy[64] = "";
    size_t n = fread(copy, 1, sizeof copy - 1, f);
    fclose(f);
    assert_int_equal(n, 18);
    assert_string_equal(copy, "%PDF-1.7 the study");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_questionnaire_versions),
        cmocka_unit_test(test_open_and_close),
        cmocka_unit_test(test_one_response_per_target),
        cmocka_unit_test(test_answer_refusals),
        cmocka_unit_test(test_anonymous_has_no_link),
        cmocka_unit_test(test_published_version_keeps_meaning),
        cmocka_unit_test(test_results_embargo),
        cmocka_unit_test(test_completeness_replay),
        cmocka_unit_test(test_invitations_and_reminders),
        cmocka_unit_test(test_research),
        cmocka_unit_test(test_departments),
        cmocka_unit_test(test_refusals_write_nothing),
        cmocka_unit_test(test_ccipctl),
    };
    /* CCIP_TEST_FILTER=test_research runs one test (a cmocka pattern). */
    if (getenv("CCIP_TEST_FILTER"))
        cmocka_set_test_filter(getenv("CCIP_TEST_FILTER"));
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
