/*
 * ccipctl stats: departments, questionnaires, surveys, responses, results
 * and research tasks (issue 20; the commands and roles are listed in
 * proto/ccip/stats.proto). See ctl_surveys.h.
 *
 * A questionnaire is designed as a file: the JSON of
 * ccip.stats.QuestionnaireContent (proto3 JSON, ccip_pbjson.h), e.g.
 *
 *   {"title": "Policy implementation", "sections": [{"code": "impl",
 *    "title": "Implementation", "questions": [{"code": "implemented",
 *    "title": "Is the policy implemented?", "kind": "SINGLE_CHOICE",
 *    "required": true, "options": [{"code": "full", "label": "Fully"}, ...]}]}]}
 *
 * Answers are given as people write them, --answer CODE=VALUE, and
 * converted with the question's kind, read from the survey first: a number
 * with the question's decimals ("12.5"), option codes ("web,press"), yes or
 * no, a date (YYYY-MM-DD), a text (or @FILE for a text in a file). A table
 * question, or a whole set of answers, comes from --file: the JSON of
 * ccip.stats.Answers ({"answers": [{"question": "staff", "table": ...}]}).
 */
#include "ctl_surveys.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/stats.pb-c.h"
#include "ccip_pbjson.h"
#include "ccip_sock.h"
#include "ctl.h"

#define JSON_FILE_MAX     (4 * 1024 * 1024) /* a questionnaire or answers file */
#define TEXT_FILE_MAX     (64 * 1024)       /* a text answer from @FILE */
#define DOCUMENT_OVERHEAD (64 * 1024)       /* what a delivery carries besides the document */
#define TARGETS_MAX       20                /* --target parts of one survey */

/* ---- values for people ------------------------------------------------------------------- */

/* v in units of 10^-decimals, as "123.45" (no decimals: "123"), into buf. */
static const char *s_fixed(int64_t v, unsigned decimals, char *buf, size_t len)
{
    if (decimals == 0) {
        snprintf(buf, len, "%" PRId64, v);
        return buf;
    }
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t scale = 1;
    for (unsigned i = 0; i < decimals && i < 18; i++)
        scale *= 10;
    snprintf(buf, len, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", mag / scale, (int)decimals,
             mag % scale);
    return buf;
}

/* s_fixed, without the trailing zeros beyond `keep` decimals: a mean in
 * hundredths of yuan-with-2-decimals as "148166.8333", of whole
 * enterprises as "14.67" or "17". */
static const char *s_fixed_trim(int64_t v, unsigned decimals, unsigned keep, char *buf, size_t len)
{
    s_fixed(v, decimals, buf, len);
    char *dot = strchr(buf, '.');
    if (!dot)
        return buf;
    char *end = buf + strlen(buf);
    while (end > dot + 1 + keep && end[-1] == '0')
        *--end = '\0';
    if (end == dot + 1)
        *dot = '\0';
    return buf;
}

/* A percentage of basis points, "66.67 %". */
static const char *s_bp(uint32_t bp, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%02u %%", bp / 100, bp % 100);
    return buf;
}

static const char *s_time(int64_t us, char *buf, size_t len)
{
    return ctl_time_text(us, 1, buf, len);
}

/* ---- reading JSON files --------------------------------------------------------------------- */

/* The message of type d written in the JSON file at path. Returns it (free
 * with protobuf_c_message_free_unpacked(m, NULL)), or NULL after saying
 * why. */
static ProtobufCMessage *s_json_file(ctl_args *a, const char *what, const char *path,
                                     const ProtobufCMessageDescriptor *d)
{
    size_t len = 0;
    uint8_t *text = ctl_read_file(a, path, JSON_FILE_MAX, &len);
    if (!text)
        return NULL;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)text, len, 0, &jerr);
    if (!j) {
        fprintf(stderr, "ccipctl: %s %s is not JSON: line %d: %s\n", what, path, jerr.line,
                jerr.text);
        return NULL;
    }
    char err[512];
    ProtobufCMessage *m = ccip_pbjson_to_message(d, j, err, sizeof err);
    json_decref(j);
    if (!m)
        fprintf(stderr, "ccipctl: %s %s: %s\n", what, path, err);
    return m;
}

/* ---- printing ------------------------------------------------------------------------------ */

static const char *s_kind(Ccip__Stats__QuestionKind k)
{
    return ctl_enum_name(&ccip__stats__question_kind__descriptor, (int)k);
}

static void s_print_question(const Ccip__Stats__Question *q, const char *indent)
{
    printf("%s%-20s %-15s %s%s", indent, q->code, s_kind(q->kind), q->required ? "required " : "",
           q->title);
    if (q->kind == CCIP__STATS__QUESTION_KIND__NUMBER) {
        char lo[32], hi[32];
        printf(" [%s%s%s .. %s]", q->unit, q->unit[0] ? ", " : "",
               q->has_min ? s_fixed(q->min, q->decimals, lo, sizeof lo) : "",
               q->has_max ? s_fixed(q->max, q->decimals, hi, sizeof hi) : "");
    }
    for (size_t i = 0; i < q->n_options; i++)
        printf("%s%s=%s", i ? ", " : " (", q->options[i]->code, q->options[i]->label);
    if (q->n_options)
        putchar(')');
    if (q->show_if)
        printf(" -- asked when `%s` %s %s", q->show_if->question,
               ctl_enum_name(&ccip__stats__condition_op__descriptor, (int)q->show_if->op),
               q->show_if->n_options ? q->show_if->options[0] : "");
    putchar('\n');
    for (size_t i = 0; i < q->n_columns; i++) {
        char more[32];
        snprintf(more, sizeof more, "%s  | ", indent);
        s_print_question(q->columns[i], more);
    }
}

static void s_print_questionnaire(const Ccip__Stats__Questionnaire *q)
{
    if (!q)
        return;
    char t[40];
    printf("questionnaire %s version %u (%s), %u questions\n", q->id, q->version,
           ctl_enum_name(&ccip__stats__questionnaire_status__descriptor, (int)q->status),
           q->questions);
    if (q->published_at_us)
        printf("published     %s by %s%s%s\n", s_time(q->published_at_us, t, sizeof t),
               q->published_by, q->note[0] ? ": " : "", q->note);
    if (q->n_published_versions) {
        printf("versions     ");
        for (size_t i = 0; i < q->n_published_versions; i++)
            printf(" %u", q->published_versions[i]);
        putchar('\n');
    }
    if (!q->content)
        return;
    printf("title         %s\n", q->content->title);
    for (size_t s = 0; s < q->content->n_sections; s++) {
        const Ccip__Stats__Section *sec = q->content->sections[s];
        printf("section %s: %s\n", sec->code, sec->title);
        for (size_t i = 0; i < sec->n_questions; i++)
            s_print_question(sec->questions[i], "  ");
    }
}

static void s_print_questionnaire_reply(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    s_print_questionnaire(((const Ccip__Stats__QuestionnaireReply *)m)->questionnaire);
}

static void s_print_questionnaires(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Stats__ListQuestionnairesReply *r = (const Ccip__Stats__ListQuestionnairesReply *)m;
    for (size_t i = 0; i < r->n_questionnaires; i++) {
        const Ccip__Stats__Questionnaire *q = r->questionnaires[i];
        printf("%s  v%-3u %-9s %3u questions  %s\n", q->id, q->version,
               q->status == CCIP__STATS__QUESTIONNAIRE_STATUS__QUESTIONNAIRE_PUBLISHED ? "published"
                                                                                       : "draft",
               q->questions, q->content ? q->content->title : "");
    }
    printf("%zu questionnaire%s\n", r->n_questionnaires, r->n_questionnaires == 1 ? "" : "s");
}

static void s_print_department(const Ccip__Stats__Department *d)
{
    printf("%-24s dept:%-24s %s%s%s\n", d->code, d->code, d->name, d->name_zh[0] ? " / " : "",
           d->name_zh);
}

static void s_print_department_reply(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Stats__DepartmentReply *r = (const Ccip__Stats__DepartmentReply *)m;
    if (r->department)
        s_print_department(r->department);
}

static void s_print_departments(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Stats__ListDepartmentsReply *r = (const Ccip__Stats__ListDepartmentsReply *)m;
    for (size_t i = 0; i < r->n_departments; i++)
        s_print_department(r->departments[i]);
}

static void s_print_targets(const Ccip__Stats__Survey *s)
{
    for (size_t i = 0; i < s->n_targets; i++) {
        const Ccip__Stats__TargetSelector *t = s->targets[i];
        printf("  target    %s",
               ctl_enum_name(&ccip__stats__target_kind__descriptor, (int)t->kind));
        for (size_t k = 0; k < t->n_ids; k++)
            printf("%s%s", k ? "," : " ", t->ids[k]);
        if (t->organisation_type[0])
            printf(" type=%s", t->organisation_type);
        for (size_t k = 0; k < t->n_roster_kinds; k++)
            printf(" kind=%s",
                   ctl_enum_name(&ccip__stats__roster_kind__descriptor, (int)t->roster_kinds[k]));
        if (t->district[0])
            printf(" district=%s", t->district);
        putchar('\n');
    }
}

static void s_print_survey(const Ccip__Stats__Survey *s)
{
    char a[40], b[40];
    printf("survey      %s\n", s->id);
    printf("title       %s\n", s->title);
    printf("status      %s%s\n", ctl_enum_name(&ccip__stats__survey_status__descriptor, s->status),
           s->anonymous ? ", anonymous" : "");
    printf("asks        questionnaire %s version %u\n", s->questionnaire_id,
           s->questionnaire_version);
    printf("open        %s .. %s\n", s_time(s->opens_at_us, a, sizeof a),
           s_time(s->closes_at_us, b, sizeof b));
    if (s->closed_early_at_us)
        printf("closed      %s: %s\n", s_time(s->closed_early_at_us, a, sizeof a), s->close_reason);
    if (s->n_reminder_days) {
        printf("reminders  ");
        for (size_t i = 0; i < s->n_reminder_days; i++)
            printf(" %u", s->reminder_days[i]);
        printf(" day(s) before the close\n");
    }
    s_print_targets(s);
    if (s->n_quarters) {
        printf("in analysis");
        for (size_t i = 0; i < s->n_quarters; i++)
            printf(" %s", s->quarters[i]);
        putchar('\n');
    }
}

/* "survey show" prints the questions too; create and close the survey. */
static void s_print_survey_reply(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Stats__SurveyReply *r = (const Ccip__Stats__SurveyReply *)m;
    if (r->survey)
        s_print_survey(r->survey);
    if (r->questionnaire && strcmp(ctl_args_command(args)->words, "survey show") == 0)
        s_print_questionnaire(r->questionnaire);
}

static void s_print_surveys(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Stats__ListSurveysReply *r = (const Ccip__Stats__ListSurveysReply *)m;
    for (size_t i = 0; i < r->n_surveys; i++) {
        const Ccip__Stats__Survey *s = r->surveys[i];
        char c[40];
        printf("%s  %-9s closes %s  %s%s\n", s->id,
               ctl_enum_name(&ccip__stats__survey_status__descriptor, s->status),
               s_time(s->closes_at_us, c, sizeof c), s->title, s->anonymous ? " (anonymous)" : "");
    }
    printf("%zu survey%s\n", r->n_surveys, r->n_surveys == 1 ? "" : "s");
}

/* The questionnaire the response printed next answers (the commands that
 * print responses read the survey first), so that numbers are shown in
 * their units; NULL: as stored, in 10^-decimals of the unit. */
static const Ccip__Stats__QuestionnaireContent *s_answered;

static const Ccip__Stats__Question *s_find(const Ccip__Stats__QuestionnaireContent *c,
                                           const char *code);

/* One answer's value as people read it. */
static void s_print_answer(const Ccip__Stats__Answer *a, const char *indent)
{
    printf("%s%-20s ", indent, a->question);
    const Ccip__Stats__Question *q = s_find(s_answered, a->question);
    char num[32];
    switch (a->value_case) {
    case CCIP__STATS__ANSWER__VALUE_NUMBER:
        if (q)
            printf("%s%s%s\n", s_fixed(a->number, q->decimals, num, sizeof num),
                   q->unit[0] ? " " : "", q->unit);
        else
            printf("%" PRId64 "\n", a->number);
        break;
    case CCIP__STATS__ANSWER__VALUE_CHOICES:
        for (size_t i = 0; a->choices && i < a->choices->n_options; i++)
            printf("%s%s", i ? "," : "", a->choices->options[i]);
        putchar('\n');
        break;
    case CCIP__STATS__ANSWER__VALUE_YES:
        printf("%s\n", a->yes ? "yes" : "no");
        break;
    case CCIP__STATS__ANSWER__VALUE_TEXT:
        printf("%s\n", a->text);
        break;
    case CCIP__STATS__ANSWER__VALUE_DATE:
        printf("%s\n", a->date);
        break;
    case CCIP__STATS__ANSWER__VALUE_TABLE:
        printf("(table of %zu rows)\n", a->table ? a->table->n_rows : 0);
        for (size_t r = 0; a->table && r < a->table->n_rows; r++)
            for (size_t c = 0; c < a->table->rows[r]->n_cells; c++) {
                char more[40];
                snprintf(more, sizeof more, "%s  row %zu: ", indent, r + 1);
                s_print_answer(a->table->rows[r]->cells[c], more);
            }
        break;
    default:
        printf("(no answer)\n");
    }
}

static void s_print_response(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Stats__Response *r = ((const Ccip__Stats__ResponseReply *)m)->response;
    if (!r)
        return;
    char a[40], b[40];
    printf("survey      %s\n", r->survey_id);
    printf("target      %s\n", r->target_id);
    printf("status      %s (questionnaire version %u)\n",
           ctl_enum_name(&ccip__stats__response_status__descriptor, r->status),
           r->questionnaire_version);
    if (r->response_id[0])
        printf("response    %s\n", r->response_id);
    printf("saved       %s\n", s_time(r->saved_at_us, a, sizeof a));
    if (r->submissions)
        printf("submitted   %s (first %s), %u time%s\n", s_time(r->submitted_at_us, a, sizeof a),
               s_time(r->first_submitted_at_us, b, sizeof b), r->submissions,
               r->submissions == 1 ? "" : "s");
    if (r->reopen_reason[0])
        printf("reopened    %s\n", r->reopen_reason);
    if (r->n_answers)
        printf("answers:\n");
    for (size_t i = 0; i < r->n_answers; i++)
        s_print_answer(r->answers[i], "  ");
}

static void s_print_completeness(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Stats__SurveyCompletenessReply *r = (const Ccip__Stats__SurveyCompletenessReply *)m;
    printf("completeness of survey %s (%s)\n", r->survey_id,
           ctl_enum_name(&ccip__stats__survey_status__descriptor, r->status));
    printf("%-12s %-16s %-14s %8s %9s %6s %11s %12s\n", "by", "key", "name", "expected",
           "submitted", "drafts", "not started", "completeness");
    for (size_t i = 0; i < r->n_groups; i++) {
        const Ccip__Stats__SurveyGroupCompleteness *g = r->groups[i];
        char bp[24];
        printf("%-12s %-16s %-14s %8u %9u %6u %11u %12s\n", g->dimension, g->key[0] ? g->key : "-",
               g->name, g->expected, g->submitted, g->drafts, g->not_started,
               s_bp(g->completeness_bp, bp, sizeof bp));
    }
    if (r->n_targets)
        printf("targets:\n");
    for (size_t i = 0; i < r->n_targets; i++) {
        const Ccip__Stats__TargetCompleteness *t = r->targets[i];
        printf("  %-40s %-6s %-14s answered by %-28s %s\n", t->target_id,
               t->district_code[0] ? t->district_code : "-",
               ctl_enum_name(&ccip__stats__response_status__descriptor, t->status), t->respondent,
               t->name);
    }
}

static void s_print_group(const Ccip__Stats__QuestionResult *q, const Ccip__Stats__GroupResult *g)
{
    printf("  %s%s%s: %u answered\n", g->dimension, g->key[0] ? " " : "", g->key, g->answered);
    for (size_t i = 0; i < g->n_options; i++) {
        char bp[24];
        printf("    %-16s %6u %10s  %s\n", g->options[i]->option, g->options[i]->count,
               s_bp(g->options[i]->share_bp, bp, sizeof bp), g->options[i]->label);
    }
    const Ccip__Stats__NumberSummary *n = g->numbers;
    if (n && n->count) {
        /* Sum, minimum and maximum in the answers' units; mean and
         * quartiles in hundredths of them. */
        unsigned d = q->decimals;
        char s[32], lo[32], hi[32], mean[32], q1[32], med[32], q3[32];
        printf("    count %u  sum %s  min %s  max %s  mean %s  quartiles %s / %s / %s%s%s\n",
               n->count, s_fixed(n->sum, d, s, sizeof s), s_fixed(n->min, d, lo, sizeof lo),
               s_fixed(n->max, d, hi, sizeof hi),
               s_fixed_trim(n->mean_x100, d + 2, d, mean, sizeof mean),
               s_fixed_trim(n->q1_x100, d + 2, d, q1, sizeof q1),
               s_fixed_trim(n->median_x100, d + 2, d, med, sizeof med),
               s_fixed_trim(n->q3_x100, d + 2, d, q3, sizeof q3), q->unit[0] ? " " : "", q->unit);
    }
}

/* --by total|district|target_kind: only those groups (every one without). */
static void s_print_results(const ProtobufCMessage *m, ctl_args *args)
{
    const char *by = ctl_str(args, "by");
    const Ccip__Stats__SurveyResults *r = ((const Ccip__Stats__SurveyResultsReply *)m)->results;
    if (!r)
        return;
    if (r->survey)
        printf("survey %s: %s\n", r->survey->id, r->survey->title);
    printf("%u of %u targets responded%s\n", r->responses, r->expected,
           r->released ? "" : " (not released: analysts only)");
    for (size_t i = 0; i < r->n_questions; i++) {
        const Ccip__Stats__QuestionResult *q = r->questions[i];
        printf("%s (%s): %s\n", q->code, s_kind(q->kind), q->title);
        for (size_t k = 0; k < q->n_groups; k++)
            if (!by[0] || strcmp(by, q->groups[k]->dimension) == 0)
                s_print_group(q, q->groups[k]);
    }
}

static void s_print_texts(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Stats__SurveyTextsReply *r = (const Ccip__Stats__SurveyTextsReply *)m;
    for (size_t i = 0; i < r->n_answers; i++) {
        const Ccip__Stats__TextAnswer *t = r->answers[i];
        char row[16] = "";
        if (t->row)
            snprintf(row, sizeof row, " row %u", t->row);
        printf("%s%s%s: %s\n", t->target_id[0] ? t->target_id : "(anonymous)", row,
               t->district_code[0] ? "" : "", t->text);
    }
    printf("%zu of %u answers\n", r->n_answers, r->total);
}

static void s_print_export(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Stats__SurveyExportReply *r = (const Ccip__Stats__SurveyExportReply *)m;
    fputs(r->content, stdout);
    if (r->next_offset)
        fprintf(stderr, "ccipctl: %u responses in all; the next page starts at --offset %u\n",
                r->total, r->next_offset);
}

static void s_print_attach(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Stats__AttachSurveyReply *r = (const Ccip__Stats__AttachSurveyReply *)m;
    printf("survey %s is in the analysis of", r->survey_id);
    for (size_t i = 0; i < r->n_quarters; i++)
        printf(" %s", r->quarters[i]);
    printf("%s\n", r->n_quarters ? "" : " no quarter");
}

static void s_print_task(const Ccip__Stats__ResearchTask *t)
{
    char a[40], b[40];
    printf("task        %s\n", t->id);
    printf("topic       %s\n", t->topic);
    printf("body        %s (%s)\n", t->body, t->body_name);
    printf("status      %s\n", ctl_enum_name(&ccip__stats__research_status__descriptor, t->status));
    if (t->survey_id[0])
        printf("survey      %s\n", t->survey_id);
    printf("commissioned %s by %s\n", s_time(t->commissioned_at_us, a, sizeof a),
           t->commissioned_by);
    if (t->accepted_at_us)
        printf("accepted    %s by %s: %s\n", s_time(t->accepted_at_us, a, sizeof a), t->accepted_by,
               t->acceptance_note);
    printf("deliverables:\n");
    for (size_t i = 0; i < t->n_deliverables; i++) {
        const Ccip__Stats__Deliverable *d = t->deliverables[i];
        printf("  %-20s %-9s due %s%s  %s\n", d->code,
               ctl_enum_name(&ccip__stats__deliverable_status__descriptor, d->status),
               s_time(d->due_at_us, a, sizeof a), d->overdue ? " OVERDUE" : "", d->title);
        if (d->delivered_at_us)
            printf("    %s (%s, %" PRId64 " bytes, sha256 %s) delivered %s by %s\n",
                   d->document_name, d->media_type, d->size, d->sha256,
                   s_time(d->delivered_at_us, b, sizeof b), d->delivered_by);
        if (d->review_note[0])
            printf("    review: %s\n", d->review_note);
    }
}

static void s_print_research(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Stats__ResearchReply *r = (const Ccip__Stats__ResearchReply *)m;
    if (r->task)
        s_print_task(r->task);
}

static void s_print_research_list(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Stats__ListResearchReply *r = (const Ccip__Stats__ListResearchReply *)m;
    for (size_t i = 0; i < r->n_tasks; i++) {
        const Ccip__Stats__ResearchTask *t = r->tasks[i];
        printf("%s  %-17s %-28s %s\n", t->id,
               ctl_enum_name(&ccip__stats__research_status__descriptor, t->status), t->body,
               t->topic);
    }
    printf("%zu task%s\n", r->n_tasks, r->n_tasks == 1 ? "" : "s");
}

/* ---- questionnaires ---------------------------------------------------------------------- */

static const ctl_arg A_Q_SAVE[] = {
    CTL_STR("QUESTIONNAIRE_ID", "questionnaire_id", CTL_ARG_OPTIONAL),
    CTL_STR("file", NULL, CTL_REQUIRED),
    {0}};

/* The content from --file. */
static int s_q_save(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__SaveQuestionnaireRequest rq = CCIP__STATS__SAVE_QUESTIONNAIRE_REQUEST__INIT;
    ProtobufCMessage *content = s_json_file(a, "questionnaire", ctl_str(a, "file"),
                                            &ccip__stats__questionnaire_content__descriptor);
    if (!content)
        return CTL_LOCAL;
    rq.content = (Ccip__Stats__QuestionnaireContent *)content;
    int code = ctl_send(o, a, &rq.base);
    protobuf_c_message_free_unpacked(content, NULL);
    return code;
}

static const ctl_arg A_Q_PUBLISH[] = {
    CTL_STR("QUESTIONNAIRE_ID", "questionnaire_id", CTL_ARG), CTL_STR("note", "note", 0), {0}};
static const ctl_arg A_Q_SHOW[] = {CTL_STR("QUESTIONNAIRE_ID", "questionnaire_id", CTL_ARG),
                                   CTL_INT("version", "version", 1, 100000, 0),
                                   CTL_FLAG("draft", "draft"),
                                   {0}};

/* ---- departments ------------------------------------------------------------------------- */

static const ctl_arg A_DEPT_DEFINE[] = {CTL_STR("CODE", "code", CTL_ARG),
                                        CTL_STR("name", "name", CTL_REQUIRED),
                                        CTL_STR("name-zh", "name_zh", 0),
                                        {0}};

/* ---- surveys ----------------------------------------------------------------------------- */

/* One --target: "KIND [IDS] [type=T] [kind=K] [district=D]", KIND district,
 * department, roster or organisation, IDS comma-separated (none: every one
 * of the kind). Returns 0 or -1 after saying why. */
static int s_target(ctl_args *a, const char *text, Ccip__Stats__TargetSelector *t)
{
    static const char *const must = "KIND [ID,...] [type=ORG_TYPE] [kind=ROSTER_KIND] "
                                    "[district=CODE], KIND one of district, department, roster, "
                                    "organisation; such as \"district 110101,110102\"";
    size_t n = 0;
    char **words = ctl_split(a, text, ' ', 64, &n);
    if (n == 0)
        return ctl_wrong("--target", must, text);
    const char *kind = strcmp(words[0], "roster") == 0 ? "ROSTER_ENTRY" : words[0];
    int k;
    if (ctl_parse_enum("--target kind", &ccip__stats__target_kind__descriptor, NULL, kind, &k) < 0)
        return -1;
    t->kind = (Ccip__Stats__TargetKind)k;
    t->roster_kinds = ctl_alloc(a, 8 * sizeof *t->roster_kinds);
    for (size_t i = 1; i < n; i++) {
        char *value;
        char *key = ctl_cut(a, words[i], '=', 0, &value);
        if (value && strcmp(key, "type") == 0) {
            t->organisation_type = value;
        } else if (value && strcmp(key, "district") == 0) {
            t->district = value;
        } else if (value && strcmp(key, "kind") == 0 && t->n_roster_kinds < 8) {
            int rk;
            if (ctl_parse_enum("--target kind=", &ccip__stats__roster_kind__descriptor, NULL, value,
                               &rk) < 0)
                return -1;
            t->roster_kinds[t->n_roster_kinds++] = (Ccip__Stats__RosterKind)rk;
        } else if (value) {
            return ctl_wrong("--target", must, text);
        } else if (t->n_ids) {
            return ctl_wrong("--target", "one list of ids, separated by commas", text);
        } else {
            t->ids = ctl_split(a, words[i], ',', 100000, &t->n_ids);
        }
    }
    return 0;
}

static const ctl_arg A_S_CREATE[] = {CTL_STR("questionnaire", "questionnaire_id", CTL_REQUIRED),
                                     CTL_INT("version", "questionnaire_version", 1, 100000, 0),
                                     CTL_STR("title", "title", CTL_REQUIRED),
                                     CTL_STR("description", "description", 0),
                                     CTL_FLAG("anonymous", "anonymous"),
                                     CTL_TIME("opens", "opens_at_us", 0),
                                     CTL_TIME("closes", "closes_at_us", CTL_REQUIRED),
                                     CTL_INT("remind", "reminder_days", 1, 90, CTL_REPEATED),
                                     CTL_STR("target", NULL, CTL_REQUIRED | CTL_REPEATED),
                                     {0}};

static int s_s_create(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__CreateSurveyRequest rq = CCIP__STATS__CREATE_SURVEY_REQUEST__INIT;
    rq.n_targets = (size_t)ctl_given(a, "target");
    if (rq.n_targets > TARGETS_MAX) {
        fprintf(stderr, "ccipctl: at most %d --target parts\n", TARGETS_MAX);
        return CTL_USAGE;
    }
    rq.targets = ctl_messages(a, &ccip__stats__target_selector__descriptor, rq.n_targets);
    for (size_t i = 0; i < rq.n_targets; i++)
        if (s_target(a, ctl_str_at(a, "target", (int)i), rq.targets[i]) < 0)
            return CTL_USAGE;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_S_CLOSE[] = {
    CTL_STR("SURVEY_ID", "survey_id", CTL_ARG), CTL_STR("reason", "reason", CTL_REQUIRED), {0}};
static const ctl_arg A_SURVEY[] = {CTL_STR("SURVEY_ID", "survey_id", CTL_ARG), {0}};
static const ctl_arg A_S_RESULTS[] = {
    CTL_STR("SURVEY_ID", "survey_id", CTL_ARG), CTL_STR("by", NULL, 0), {0}};

/* --by is the printer's; a value it does not know is said here. */
static int s_s_results(ctl_opts *o, ctl_args *a)
{
    const char *by = ctl_str(a, "by");
    if (by[0] && strcmp(by, "total") != 0 && strcmp(by, "district") != 0 &&
        strcmp(by, "target_kind") != 0) {
        ctl_wrong("--by", "total, district or target_kind", by);
        return CTL_USAGE;
    }
    Ccip__Stats__SurveyResultsRequest rq = CCIP__STATS__SURVEY_RESULTS_REQUEST__INIT;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_S_LIST[] = {
    CTL_ENUM("status", "status", &ccip__stats__survey_status__descriptor, NULL, 0), {0}};

/* The question `code` of the questionnaire, or NULL. */
static const Ccip__Stats__Question *s_find(const Ccip__Stats__QuestionnaireContent *c,
                                           const char *code)
{
    for (size_t s = 0; c && s < c->n_sections; s++)
        for (size_t i = 0; i < c->sections[s]->n_questions; i++)
            if (strcmp(c->sections[s]->questions[i]->code, code) == 0)
                return c->sections[s]->questions[i];
    return NULL;
}

/* "12.5" into a whole number of 10^-decimals. Returns 0 or -1 after
 * saying why. */
static int s_decimal(const char *what, const char *text, unsigned decimals, int64_t *out)
{
    const char *p = text;
    int neg = *p == '-';
    if (neg)
        p++;
    uint64_t v = 0;
    unsigned frac = 0;
    int digits = 0, dot = 0;
    for (; *p; p++) {
        if (*p == '.' && !dot) {
            dot = 1;
            continue;
        }
        if (*p < '0' || *p > '9' || (dot && ++frac > decimals) || v > (UINT64_MAX - 9) / 10)
            goto bad;
        v = v * 10 + (uint64_t)(*p - '0');
        digits++;
    }
    for (; frac < decimals; frac++) {
        if (v > UINT64_MAX / 10)
            goto bad;
        v *= 10;
    }
    if (!digits || v > (uint64_t)INT64_MAX)
        goto bad;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
bad:;
    char must[80];
    snprintf(must, sizeof must, "a number with at most %u decimal%s", decimals,
             decimals == 1 ? "" : "s");
    return ctl_wrong(what, must, text);
}

/* --answer CODE=VALUE into ans, converted with the question's kind.
 * Returns 0 or -1 after saying why. */
static int s_answer(ctl_args *a, const Ccip__Stats__QuestionnaireContent *c, const char *text,
                    Ccip__Stats__Answer *ans)
{
    char *value;
    char *code = ctl_cut(a, text, '=', 0, &value);
    if (!value || !code[0])
        return ctl_wrong("--answer", "CODE=VALUE, such as enterprises=12", text);
    const Ccip__Stats__Question *q = s_find(c, code);
    if (!q) {
        fprintf(stderr,
                "ccipctl: --answer: the questionnaire has no question `%s`; "
                "`ccipctl stats survey show SURVEY_ID` lists its questions\n",
                code);
        return -1;
    }
    char what[80];
    snprintf(what, sizeof what, "--answer %.40s", code);
    ans->question = code;
    switch (q->kind) {
    case CCIP__STATS__QUESTION_KIND__NUMBER:
        ans->value_case = CCIP__STATS__ANSWER__VALUE_NUMBER;
        return s_decimal(what, value, q->decimals, &ans->number);
    case CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE:
    case CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE:
        ans->value_case = CCIP__STATS__ANSWER__VALUE_CHOICES;
        ans->choices =
            ((Ccip__Stats__Choices **)ctl_messages(a, &ccip__stats__choices__descriptor, 1))[0];
        ans->choices->options = ctl_split(a, value, ',', 100, &ans->choices->n_options);
        return 0;
    case CCIP__STATS__QUESTION_KIND__YES_NO:
        ans->value_case = CCIP__STATS__ANSWER__VALUE_YES;
        if (strcmp(value, "yes") == 0 || strcmp(value, "no") == 0) {
            ans->yes = value[0] == 'y';
            return 0;
        }
        return ctl_wrong(what, "yes or no", value);
    case CCIP__STATS__QUESTION_KIND__DATE:
        ans->value_case = CCIP__STATS__ANSWER__VALUE_DATE;
        ans->date = value;
        return 0;
    case CCIP__STATS__QUESTION_KIND__SHORT_TEXT:
    case CCIP__STATS__QUESTION_KIND__LONG_TEXT:
        ans->value_case = CCIP__STATS__ANSWER__VALUE_TEXT;
        if (value[0] == '@') {
            size_t len;
            ans->text = (char *)ctl_read_file(a, value + 1, TEXT_FILE_MAX, &len);
            return ans->text ? 0 : -1;
        }
        ans->text = value;
        return 0;
    default:
        fprintf(stderr,
                "ccipctl: --answer: `%s` is a %s question: give its answer in --file "
                "(the JSON of ccip.stats.Answers)\n",
                code, s_kind(q->kind));
        return -1;
    }
}

/* The survey SURVEY_ID names, with the questionnaire it asks, into *sv
 * (free with protobuf_c_message_free_unpacked). Returns the exit code,
 * CTL_OK with *sv set. */
static int s_survey_read(ctl_opts *o, ctl_args *a, Ccip__Stats__SurveyReply **sv)
{
    Ccip__Stats__GetSurveyRequest g = CCIP__STATS__GET_SURVEY_REQUEST__INIT;
    g.survey_id = ctl_str(a, "SURVEY_ID");
    ccip_client *c = NULL;
    int code = ctl_request(o, &c, "stats", "stats.survey.get.v1", &g.base,
                           &ccip__stats__survey_reply__descriptor, (ProtobufCMessage **)sv);
    ccip_client_destroy(&c);
    if (code == CTL_OK && (!(*sv)->questionnaire || !(*sv)->questionnaire->content)) {
        fprintf(stderr, "ccipctl: stats sent the survey without its questionnaire\n");
        protobuf_c_message_free_unpacked(&(*sv)->base, NULL);
        *sv = NULL;
        code = CTL_UNAVAILABLE;
    }
    return code;
}

/* A response, its numbers in their units (the survey is read first). */
static int s_s_response(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__SurveyReply *sv = NULL;
    int code = s_survey_read(o, a, &sv);
    if (code != CTL_OK)
        return code;
    s_answered = sv->questionnaire->content;
    Ccip__Stats__GetResponseRequest rq = CCIP__STATS__GET_RESPONSE_REQUEST__INIT;
    code = ctl_send(o, a, &rq.base);
    s_answered = NULL;
    protobuf_c_message_free_unpacked(&sv->base, NULL);
    return code;
}

static const ctl_arg A_S_ANSWER[] = {CTL_STR("SURVEY_ID", "survey_id", CTL_ARG),
                                     CTL_STR("target", "target_id", 0),
                                     CTL_STR("answer", NULL, CTL_REPEATED),
                                     CTL_STR("remove", "remove", CTL_REPEATED),
                                     CTL_STR("file", NULL, 0),
                                     {0}};

/* answer (a draft) and submit: the survey is read first for its
 * questions, so that each --answer is converted with its kind (and the
 * reply's numbers shown in their units); --file's answers come first,
 * --answer's after them. */
static int s_s_answer(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__SaveResponseRequest rq = CCIP__STATS__SAVE_RESPONSE_REQUEST__INIT;
    Ccip__Stats__Answers *file = NULL;
    Ccip__Stats__SurveyReply *sv = NULL;
    int code = CTL_OK;
    if (ctl_given(a, "file") &&
        !(file = (Ccip__Stats__Answers *)s_json_file(a, "answers", ctl_str(a, "file"),
                                                     &ccip__stats__answers__descriptor)))
        return CTL_LOCAL;
    size_t given = (size_t)ctl_given(a, "answer"), from_file = file ? file->n_answers : 0;
    if ((code = s_survey_read(o, a, &sv)) == CTL_OK)
        s_answered = sv->questionnaire->content;
    rq.answers = ctl_alloc(a, (from_file + given + 1) * sizeof *rq.answers);
    for (size_t i = 0; i < from_file; i++)
        rq.answers[rq.n_answers++] = file->answers[i];
    Ccip__Stats__Answer **mine =
        given ? ctl_messages(a, &ccip__stats__answer__descriptor, given) : NULL;
    for (size_t i = 0; code == CTL_OK && i < given; i++) {
        if (s_answer(a, sv->questionnaire->content, ctl_str_at(a, "answer", (int)i), mine[i]) < 0)
            code = CTL_USAGE;
        rq.answers[rq.n_answers++] = mine[i];
    }
    if (code == CTL_OK)
        code = ctl_send(o, a, &rq.base);
    s_answered = NULL;
    if (sv)
        protobuf_c_message_free_unpacked(&sv->base, NULL);
    if (file)
        protobuf_c_message_free_unpacked(&file->base, NULL);
    return code;
}

static const ctl_arg A_S_RESPONSE[] = {
    CTL_STR("SURVEY_ID", "survey_id", CTL_ARG), CTL_STR("target", "target_id", 0), {0}};
static const ctl_arg A_S_REOPEN[] = {CTL_STR("SURVEY_ID", "survey_id", CTL_ARG),
                                     CTL_STR("target", "target_id", CTL_REQUIRED),
                                     CTL_STR("reason", "reason", CTL_REQUIRED),
                                     {0}};
static const ctl_arg A_S_COMPLETENESS[] = {
    CTL_STR("SURVEY_ID", "survey_id", CTL_ARG), CTL_STR("district", "district", 0), {0}};
static const ctl_arg A_S_TEXTS[] = {CTL_STR("SURVEY_ID", "survey_id", CTL_ARG),
                                    CTL_STR("QUESTION", "question", CTL_ARG),
                                    CTL_INT("offset", "offset", 0, 1000000000, 0),
                                    CTL_INT("limit", "limit", 1, 1000, 0),
                                    {0}};
static const ctl_arg A_S_EXPORT[] = {
    CTL_STR("SURVEY_ID", "survey_id", CTL_ARG),
    CTL_ENUM("format", "format", &ccip__stats__export_format__descriptor, NULL, 0),
    CTL_INT("offset", "offset", 0, 1000000000, 0),
    CTL_INT("limit", "limit", 1, 5000, 0),
    {0}};

/* CSV unless --format says otherwise. */
static int s_s_export(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__SurveyExportRequest rq = CCIP__STATS__SURVEY_EXPORT_REQUEST__INIT;
    rq.format = CCIP__STATS__EXPORT_FORMAT__CSV;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_S_ATTACH[] = {CTL_STR("SURVEY_ID", "survey_id", CTL_ARG),
                                     CTL_STR("QUARTER", "quarter", CTL_ARG),
                                     CTL_FLAG("detach", "detach"),
                                     {0}};

/* ---- research ---------------------------------------------------------------------------- */

static const ctl_arg A_R_COMMISSION[] = {CTL_STR("topic", "topic", CTL_REQUIRED),
                                         CTL_STR("description", "description", 0),
                                         CTL_STR("body", "body", CTL_REQUIRED),
                                         CTL_STR("survey", "survey_id", 0),
                                         CTL_STR("deliverable", NULL, CTL_REQUIRED | CTL_REPEATED),
                                         {0}};

/* --deliverable CODE@DUE=TITLE: the code has no '@' and a time no '='. */
static int s_r_commission(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__CommissionResearchRequest rq = CCIP__STATS__COMMISSION_RESEARCH_REQUEST__INIT;
    rq.n_deliverables = (size_t)ctl_given(a, "deliverable");
    rq.deliverables =
        ctl_messages(a, &ccip__stats__deliverable_spec__descriptor, rq.n_deliverables);
    for (size_t i = 0; i < rq.n_deliverables; i++) {
        const char *text = ctl_str_at(a, "deliverable", (int)i);
        char *rest = NULL, *title = NULL;
        char *code = ctl_cut(a, text, '@', 0, &rest);
        char *due = rest ? ctl_cut(a, rest, '=', 0, &title) : NULL;
        if (!title || !code[0] || !title[0]) {
            ctl_wrong("--deliverable",
                      "CODE@DUE=TITLE, such as final_report@2027-06-30=Final report", text);
            return CTL_USAGE;
        }
        rq.deliverables[i]->code = code;
        rq.deliverables[i]->title = title;
        if (ctl_parse_time("--deliverable due time", due, &rq.deliverables[i]->due_at_us) < 0)
            return CTL_USAGE;
    }
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_R_DELIVER[] = {
    CTL_STR("TASK_ID", "task_id", CTL_ARG), CTL_STR("DELIVERABLE", "deliverable", CTL_ARG),
    CTL_STR("file", NULL, CTL_REQUIRED),    CTL_STR("name", "document_name", 0),
    CTL_STR("media-type", "media_type", 0), {0}};

/* The media type of a file by its name's ending. */
static const char *s_media_type(const char *path)
{
    static const char *const types[][2] = {
        {".pdf", "application/pdf"},
        {".ofd", "application/ofd"},
        {".csv", "text/csv"},
        {".txt", "text/plain"},
        {".json", "application/json"},
        {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}};
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t e = strlen(types[i][0]);
        if (n > e && strcmp(path + n - e, types[i][0]) == 0)
            return types[i][1];
    }
    return "application/octet-stream";
}

/* The file's content; its name and media type unless given. */
static int s_r_deliver(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__DeliverResearchRequest rq = CCIP__STATS__DELIVER_RESEARCH_REQUEST__INIT;
    char *file = ctl_str(a, "file");
    rq.content.data =
        ctl_read_file(a, file, CCIP_SOCK_MAX_MESSAGE_DEFAULT - DOCUMENT_OVERHEAD, &rq.content.len);
    if (!rq.content.data)
        return CTL_LOCAL;
    char *slash = strrchr(file, '/');
    rq.document_name = slash ? slash + 1 : file;
    rq.media_type = (char *)s_media_type(file);
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_R_REVIEW[] = {CTL_STR("TASK_ID", "task_id", CTL_ARG),
                                     CTL_STR("DELIVERABLE", "deliverable", CTL_ARG),
                                     CTL_FLAG("approve", NULL),
                                     CTL_FLAG("return", NULL),
                                     CTL_STR("note", "note", 0),
                                     {0}};

/* --approve or --return (the later counts). */
static int s_r_review(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__ReviewDeliverableRequest rq = CCIP__STATS__REVIEW_DELIVERABLE_REQUEST__INIT;
    int approve = ctl_last(a, "approve"), back = ctl_last(a, "return");
    if (!approve && !back) {
        fprintf(stderr, "ccipctl: say --approve or --return\n");
        return CTL_USAGE;
    }
    rq.approve = approve > back;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_R_ACCEPT[] = {
    CTL_STR("TASK_ID", "task_id", CTL_ARG), CTL_STR("note", "note", CTL_REQUIRED), {0}};
static const ctl_arg A_TASK[] = {CTL_STR("TASK_ID", "task_id", CTL_ARG), {0}};
static const ctl_arg A_R_LIST[] = {
    CTL_ENUM("status", "status", &ccip__stats__research_status__descriptor, "RESEARCH_", 0), {0}};
static const ctl_arg A_R_DOCUMENT[] = {CTL_STR("TASK_ID", "task_id", CTL_ARG),
                                       CTL_STR("DELIVERABLE", "deliverable", CTL_ARG),
                                       CTL_STR("out", NULL, CTL_REQUIRED),
                                       {0}};

/* Writes the document to --out ("-": standard output), then says what it
 * wrote (unless that was standard output). */
static int s_r_document(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__GetResearchDocumentRequest rq = CCIP__STATS__GET_RESEARCH_DOCUMENT_REQUEST__INIT;
    Ccip__Stats__ResearchDocumentReply *r = NULL;
    int code = ctl_send_reply(o, a, &rq.base, (ProtobufCMessage **)&r);
    if (code != CTL_OK)
        return code;
    const char *out = ctl_str(a, "out");
    int to_stdout = strcmp(out, "-") == 0;
    if (ctl_write_file(out, r->content.data, r->content.len) < 0)
        code = CTL_LOCAL;
    if (code == CTL_OK && !to_stdout)
        printf("wrote %s: %s, %s, %zu bytes, sha256 %s\n", out, r->name, r->media_type,
               r->content.len, r->sha256);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return code;
}

/* ---- the table --------------------------------------------------------------------------- */

#define Q(name) &ccip__stats__##name##_request__descriptor
#define R(name) &ccip__stats__##name##_reply__descriptor
#define ANALYST "--role analyst --actor ID"

const ctl_command ctl_survey_commands[] = {
    {"department define", "CODE --name NAME [--name-zh NAME]", A_DEPT_DEFINE,
     "stats.department.define.v1", Q(define_department), R(department), s_print_department_reply,
     .who = "--role staff --actor ID", .summary = "a municipal department (staff)",
     .about = "  defines a municipal department that surveys may target; it answers as role\n"
              "  department, actor dept:CODE. A new NAME renames it.\n"},
    {"department list", NULL, NULL, "stats.department.list.v1", Q(list_departments),
     R(list_departments), s_print_departments, .summary = "the municipal departments"},
    {"questionnaire save", "[QUESTIONNAIRE_ID] --file FORM.json", A_Q_SAVE,
     "stats.questionnaire.save.v1", Q(save_questionnaire), R(questionnaire),
     s_print_questionnaire_reply, s_q_save, .who = ANALYST,
     .summary = "design a questionnaire (analyst)",
     .about = "  saves the design in FORM.json (the JSON of ccip.stats.QuestionnaireContent:\n"
              "  title, sections, questions of kinds NUMBER, SINGLE_CHOICE, MULTIPLE_CHOICE,\n"
              "  YES_NO, DATE, SHORT_TEXT, LONG_TEXT, TABLE, with show_if conditions) as a new\n"
              "  questionnaire, or as the draft of QUESTIONNAIRE_ID. A published version never\n"
              "  changes: saving after it starts the next version.\n"},
    {"questionnaire publish", "QUESTIONNAIRE_ID [--note TEXT]", A_Q_PUBLISH,
     "stats.questionnaire.publish.v1", Q(publish_questionnaire), R(questionnaire),
     s_print_questionnaire_reply, .who = ANALYST, .summary = "freeze the draft as a version",
     .about = "  publishes the draft as a frozen version; from version 2 on --note says what\n"
              "  changed\n"},
    {"questionnaire show", "QUESTIONNAIRE_ID [--version N] [--draft]", A_Q_SHOW,
     "stats.questionnaire.get.v1", Q(get_questionnaire), R(questionnaire),
     s_print_questionnaire_reply, .summary = "a version and its questions",
     .about = "  the latest published version, version N, or the draft (analysts)\n"},
    {"questionnaire list", NULL, NULL, "stats.questionnaire.list.v1", Q(list_questionnaires),
     R(list_questionnaires), s_print_questionnaires, .summary = "questionnaires, latest versions"},
    {"survey create",
     "--questionnaire ID [--version N]\n"
     "           --title TEXT [--description TEXT] [--anonymous] [--opens TIME] --closes TIME\n"
     "           [--remind DAYS]... --target \"KIND [ID,...] [type=T] [kind=K] "
     "[district=D]\"...",
     A_S_CREATE, "stats.survey.create.v1", Q(create_survey), R(survey), s_print_survey_reply,
     s_s_create, .who = ANALYST, .summary = "send a questionnaire to targets (analyst)",
     .about =
         "  sends a published questionnaire version (the latest unless --version) to the\n"
         "  targets: each --target is a part of the list, KIND district, department, roster\n"
         "  or organisation, with ids (none: every one of the kind), for organisations\n"
         "  type=ENTERPRISE|INSTITUTION|..., for roster entries kind=CLUSTER|TALENT_BASE, for\n"
         "  both district=CODE. The list is taken as it stands when the survey opens (now\n"
         "  unless --opens). --remind 3 reminds those who have not submitted 3 days before\n"
         "  the close. --anonymous: no response can be traced to its respondent.\n"},
    {"survey close", "SURVEY_ID --reason TEXT", A_S_CLOSE, "stats.survey.close.v1", Q(close_survey),
     R(survey), s_print_survey_reply, .who = ANALYST, .summary = "close early, with a reason"},
    {"survey show", "SURVEY_ID", A_SURVEY, "stats.survey.get.v1", Q(get_survey), R(survey),
     s_print_survey_reply, .summary = "a survey and its questions"},
    {"survey list", "[--status STATUS]", A_S_LIST, "stats.survey.list.v1", Q(list_surveys),
     R(list_surveys), s_print_surveys, .summary = "surveys (respondents: their own)",
     .about = "  surveys, newest first; a respondent sees those it answers. STATUS: SCHEDULED,\n"
              "  OPEN, CLOSED\n"},
    {"survey answer",
     "SURVEY_ID [--target ID]\n"
     "           [--answer CODE=VALUE]... [--remove CODE]... [--file ANSWERS.json]",
     A_S_ANSWER, "stats.survey.response.save.v1", Q(save_response), R(response), s_print_response,
     s_s_answer, .who = "--role district --actor district:CODE (or department, operator, ...)",
     .summary = "save answers as a draft",
     .about = "  saves answers to the draft of the target the caller answers for (--target: a\n"
              "  roster entry the operator answers for, roster:ID). VALUE as people write it: a\n"
              "  number (12.5), option codes (web,press), yes or no, a date, a text or @FILE;\n"
              "  tables and whole answer sets come from --file (JSON of ccip.stats.Answers).\n"},
    {"survey submit",
     "SURVEY_ID [--target ID]\n"
     "           [--answer CODE=VALUE]... [--remove CODE]... [--file ANSWERS.json]",
     A_S_ANSWER, "stats.survey.response.submit.v1", Q(save_response), R(response), s_print_response,
     s_s_answer, .who = "--role district --actor district:CODE (or department, operator, ...)",
     .summary = "submit the response, once",
     .about = "  saves the answers given, then checks the whole response (required questions,\n"
              "  conditions, ranges) and submits it: one response per target\n"},
    {"survey response", "SURVEY_ID [--target ID]", A_S_RESPONSE, "stats.survey.response.get.v1",
     Q(get_response), R(response), s_print_response, s_s_response,
     .summary = "a target's response (own, or analyst)"},
    {"survey reopen", "SURVEY_ID --target ID --reason TEXT", A_S_REOPEN,
     "stats.survey.response.reopen.v1", Q(reopen_response), R(response), s_print_response,
     .who = "--role staff --actor ID", .summary = "reopen a submitted response (staff)"},
    {"survey completeness", "SURVEY_ID [--district CODE]", A_S_COMPLETENESS,
     "stats.survey.completeness.v1", Q(survey_completeness), R(survey_completeness),
     s_print_completeness, .summary = "submitted, drafts, not started",
     .about = "  every target's state, and the counts by district and target kind\n"},
    {"survey results", "SURVEY_ID [--by total|district|target_kind]", A_S_RESULTS,
     "stats.survey.results.v1", Q(survey_results), R(survey_results), s_print_results, s_s_results,
     .summary = "counts, shares, means, quartiles",
     .about = "  per question: counts and shares of the options, sum, mean, median and quartiles\n"
              "  of numbers, by district and target kind. Before a bulletin carrying the survey\n"
              "  is past its embargo, analysts only.\n"},
    {"survey texts", "SURVEY_ID QUESTION [--offset N] [--limit N]", A_S_TEXTS,
     "stats.survey.texts.v1", Q(survey_texts), R(survey_texts), s_print_texts,
     .summary = "free-text answers to read"},
    {"survey export", "SURVEY_ID [--format csv|json] [--offset N] [--limit N]", A_S_EXPORT,
     "stats.survey.export.v1", Q(survey_export), R(survey_export), s_print_export, s_s_export,
     .summary = "every response as CSV or JSON",
     .about = "  every submitted response, a page at a time (anonymous surveys without who\n"
              "  answered)\n"},
    {"survey attach", "SURVEY_ID QUARTER [--detach]", A_S_ATTACH, "stats.survey.attach.v1",
     Q(attach_survey), R(attach_survey), s_print_attach, .who = ANALYST,
     .summary = "results into a quarter's bulletin",
     .about = "  makes the results a section of QUARTER's analysis and of its next bulletin\n"
              "  (release publish), with SVG charts, under the bulletin's embargo\n"},
    {"research commission",
     "--topic TEXT [--description TEXT]\n"
     "           --body org:USCC|dept:CODE [--survey ID] --deliverable CODE@DUE=TITLE...",
     A_R_COMMISSION, "stats.research.commission.v1", Q(commission_research), R(research),
     s_print_research, s_r_commission, .who = ANALYST, .summary = "commission a study (analyst)",
     .about = "  a study by an organisation of intake's register or a department, with its\n"
              "  deliverables and their due times (DUE a date or RFC 3339 time), maybe using a\n"
              "  survey's data\n"},
    {"research deliver", "TASK_ID DELIVERABLE --file PATH [--name NAME] [--media-type TYPE]",
     A_R_DELIVER, "stats.research.deliver.v1", Q(deliver_research), R(research), s_print_research,
     s_r_deliver, .who = "--role applicant --actor org:USCC (or department)",
     .summary = "deliver a document (the body)"},
    {"research review", "TASK_ID DELIVERABLE (--approve [--note TEXT] | --return --note TEXT)",
     A_R_REVIEW, "stats.research.review.v1", Q(review_deliverable), R(research), s_print_research,
     s_r_review, .who = ANALYST, .summary = "approve or return a deliverable"},
    {"research accept", "TASK_ID --note TEXT", A_R_ACCEPT, "stats.research.accept.v1",
     Q(accept_research), R(research), s_print_research, .who = ANALYST,
     .summary = "accept the study (analyst)",
     .about = "  accepts the study once every deliverable is approved\n"},
    {"research show", "TASK_ID", A_TASK, "stats.research.get.v1", Q(get_research), R(research),
     s_print_research, .summary = "a study and its deliverables"},
    {"research list", "[--status active|accepted]", A_R_LIST, "stats.research.list.v1",
     Q(list_research), R(list_research), s_print_research_list, .summary = "studies"},
    {"research document", "TASK_ID DELIVERABLE --out PATH|-", A_R_DOCUMENT,
     "stats.research.document.v1", Q(get_research_document), R(research_document), NULL,
     s_r_document, .summary = "a delivered document"},
};

const size_t ctl_survey_ncommands = sizeof ctl_survey_commands / sizeof ctl_survey_commands[0];
