/* stats_answers: a questionnaire's design checks, answers checked against
 * a version (types, ranges, options, required questions, conditions,
 * tables) and the rows they are stored as, read back; drafts merged;
 * dates and numbers as people write them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_arena.h"
#include "stats_answers.h"

/* ---- a questionnaire ------------------------------------------------------------------------ */

/* Questions in order:
 *  0 staff        NUMBER people, 0..100000, required
 *  1 budget       NUMBER yuan, 2 decimals, 0..1000000.00
 *  2 known        YES_NO, required
 *  3 channels     MULTIPLE_CHOICE web, press, meeting; 1..2; asked when known is yes; required
 *  4 rating       SINGLE_CHOICE low, mid, high
 *  5 started      DATE 2020-01-01 .. 2030-12-31
 *  6 comment      LONG_TEXT
 *  7 projects     TABLE, at most 3 rows: name SHORT_TEXT required, cost NUMBER >= 0
 *  8 followup     SHORT_TEXT, asked when staff is at least 10 */
typedef struct {
    Ccip__Stats__QuestionnaireContent content;
    Ccip__Stats__Section sec[2], *secs[2];
    Ccip__Stats__Question q[9], *qa[5], *qb[4];
    Ccip__Stats__Question col[2], *cols[2];
    Ccip__Stats__QuestionOption opt[6], *channels[3], *rating[3];
    Ccip__Stats__Condition cond[2];
    char *known_yes[1];
} s_form;

static void s_question(Ccip__Stats__Question *q, const char *code, Ccip__Stats__QuestionKind kind)
{
    *q = (Ccip__Stats__Question)CCIP__STATS__QUESTION__INIT;
    q->code = (char *)code;
    q->title = (char *)code;
    q->kind = kind;
}

static void s_option(Ccip__Stats__QuestionOption *o, const char *code)
{
    *o = (Ccip__Stats__QuestionOption)CCIP__STATS__QUESTION_OPTION__INIT;
    o->code = (char *)code;
    o->label = (char *)code;
}

static void s_form_init(s_form *f)
{
    memset(f, 0, sizeof *f);
    s_question(&f->q[0], "staff", CCIP__STATS__QUESTION_KIND__NUMBER);
    f->q[0].unit = "people";
    f->q[0].has_min = f->q[0].has_max = 1;
    f->q[0].max = 100000;
    f->q[0].required = 1;
    s_question(&f->q[1], "budget", CCIP__STATS__QUESTION_KIND__NUMBER);
    f->q[1].unit = "yuan";
    f->q[1].decimals = 2;
    f->q[1].has_min = f->q[1].has_max = 1;
    f->q[1].max = 100000000;
    s_question(&f->q[2], "known", CCIP__STATS__QUESTION_KIND__YES_NO);
    f->q[2].required = 1;
    s_question(&f->q[3], "channels", CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE);
    s_option(&f->opt[0], "web");
    s_option(&f->opt[1], "press");
    s_option(&f->opt[2], "meeting");
    for (int i = 0; i < 3; i++)
        f->channels[i] = &f->opt[i];
    f->q[3].options = f->channels;
    f->q[3].n_options = 3;
    f->q[3].has_min = f->q[3].has_max = 1;
    f->q[3].min = 1;
    f->q[3].max = 2;
    f->q[3].required = 1;
    f->cond[0] = (Ccip__Stats__Condition)CCIP__STATS__CONDITION__INIT;
    f->cond[0].question = "known";
    f->cond[0].op = CCIP__STATS__CONDITION_OP__CHOSEN;
    f->known_yes[0] = "yes";
    f->cond[0].options = f->known_yes;
    f->cond[0].n_options = 1;
    f->q[3].show_if = &f->cond[0];
    s_question(&f->q[4], "rating", CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE);
    s_option(&f->opt[3], "low");
    s_option(&f->opt[4], "mid");
    s_option(&f->opt[5], "high");
    for (int i = 0; i < 3; i++)
        f->rating[i] = &f->opt[3 + i];
    f->q[4].options = f->rating;
    f->q[4].n_options = 3;
    s_question(&f->q[5], "started", CCIP__STATS__QUESTION_KIND__DATE);
    f->q[5].min_date = "2020-01-01";
    f->q[5].max_date = "2030-12-31";
    s_question(&f->q[6], "comment", CCIP__STATS__QUESTION_KIND__LONG_TEXT);
    s_question(&f->q[7], "projects", CCIP__STATS__QUESTION_KIND__TABLE);
    f->q[7].max_rows = 3;
    s_question(&f->col[0], "name", CCIP__STATS__QUESTION_KIND__SHORT_TEXT);
    f->col[0].required = 1;
    s_question(&f->col[1], "cost", CCIP__STATS__QUESTION_KIND__NUMBER);
    f->col[1].has_min = 1;
    f->cols[0] = &f->col[0];
    f->cols[1] = &f->col[1];
    f->q[7].columns = f->cols;
    f->q[7].n_columns = 2;
    s_question(&f->q[8], "followup", CCIP__STATS__QUESTION_KIND__SHORT_TEXT);
    f->cond[1] = (Ccip__Stats__Condition)CCIP__STATS__CONDITION__INIT;
    f->cond[1].question = "staff";
    f->cond[1].op = CCIP__STATS__CONDITION_OP__AT_LEAST;
    f->cond[1].number = 10;
    f->q[8].show_if = &f->cond[1];
    for (int i = 0; i < 5; i++)
        f->qa[i] = &f->q[i];
    for (int i = 0; i < 4; i++)
        f->qb[i] = &f->q[5 + i];
    for (int s = 0; s < 2; s++) {
        f->sec[s] = (Ccip__Stats__Section)CCIP__STATS__SECTION__INIT;
        f->sec[s].code = s ? "details" : "basics";
        f->sec[s].title = s ? "Details" : "Basics";
        f->sec[s].questions = s ? f->qb : f->qa;
        f->sec[s].n_questions = s ? 4 : 5;
        f->secs[s] = &f->sec[s];
    }
    f->content = (Ccip__Stats__QuestionnaireContent)CCIP__STATS__QUESTIONNAIRE_CONTENT__INIT;
    f->content.title = "Policy implementation";
    f->content.sections = f->secs;
    f->content.n_sections = 2;
}

/* ---- answers --------------------------------------------------------------------------------- */

typedef struct {
    Ccip__Stats__Answer a[16], *list[16];
    Ccip__Stats__Choices ch[4];
    char *opts[4][4];
    Ccip__Stats__TableAnswer table;
    Ccip__Stats__TableAnswerRow rows[4], *rowp[4];
    Ccip__Stats__Answer cells[8], *cellp[4][2];
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

static void s_number(s_answers *s, const char *code, int64_t v)
{
    Ccip__Stats__Answer *a = s_add(s, code);
    a->value_case = CCIP__STATS__ANSWER__VALUE_NUMBER;
    a->number = v;
}

static void s_yes(s_answers *s, const char *code, int yes)
{
    Ccip__Stats__Answer *a = s_add(s, code);
    a->value_case = CCIP__STATS__ANSWER__VALUE_YES;
    a->yes = yes;
}

static void s_text(s_answers *s, const char *code, const char *text)
{
    Ccip__Stats__Answer *a = s_add(s, code);
    a->value_case = CCIP__STATS__ANSWER__VALUE_TEXT;
    a->text = (char *)text;
}

static void s_date(s_answers *s, const char *code, const char *date)
{
    Ccip__Stats__Answer *a = s_add(s, code);
    a->value_case = CCIP__STATS__ANSWER__VALUE_DATE;
    a->date = (char *)date;
}

/* Options o1 [, o2, o3] (NULL ends). */
static void s_choose(s_answers *s, int slot, const char *code, const char *o1, const char *o2,
                     const char *o3)
{
    Ccip__Stats__Answer *a = s_add(s, code);
    Ccip__Stats__Choices *c = &s->ch[slot];
    *c = (Ccip__Stats__Choices)CCIP__STATS__CHOICES__INIT;
    const char *o[] = {o1, o2, o3};
    for (int i = 0; i < 3 && o[i]; i++)
        s->opts[slot][c->n_options++] = (char *)o[i];
    c->options = s->opts[slot];
    a->value_case = CCIP__STATS__ANSWER__VALUE_CHOICES;
    a->choices = c;
}

/* `rows` rows of projects: name "p<i>" (none when names is 0), cost 100 i. */
static void s_projects(s_answers *s, int rows, int names)
{
    Ccip__Stats__Answer *a = s_add(s, "projects");
    static const char *const nm[] = {"p1", "p2", "p3", "p4"};
    s->table = (Ccip__Stats__TableAnswer)CCIP__STATS__TABLE_ANSWER__INIT;
    for (int r = 0; r < rows; r++) {
        Ccip__Stats__TableAnswerRow *row = &s->rows[r];
        *row = (Ccip__Stats__TableAnswerRow)CCIP__STATS__TABLE_ANSWER_ROW__INIT;
        Ccip__Stats__Answer *name = &s->cells[2 * r], *cost = &s->cells[2 * r + 1];
        *name = (Ccip__Stats__Answer)CCIP__STATS__ANSWER__INIT;
        *cost = (Ccip__Stats__Answer)CCIP__STATS__ANSWER__INIT;
        name->question = "name";
        name->value_case = CCIP__STATS__ANSWER__VALUE_TEXT;
        name->text = (char *)nm[r];
        cost->question = "cost";
        cost->value_case = CCIP__STATS__ANSWER__VALUE_NUMBER;
        cost->number = 100 * (r + 1);
        if (names)
            s->cellp[r][row->n_cells++] = name;
        s->cellp[r][row->n_cells++] = cost;
        row->cells = s->cellp[r];
        s->rowp[r] = row;
    }
    s->table.rows = s->rowp;
    s->table.n_rows = (size_t)rows;
    a->value_case = CCIP__STATS__ANSWER__VALUE_TABLE;
    a->table = &s->table;
}

/* A complete, valid set of answers. */
static void s_valid(s_answers *s)
{
    memset(s, 0, sizeof *s);
    s_number(s, "staff", 25);
    s_number(s, "budget", 1234567);
    s_yes(s, "known", 1);
    s_choose(s, 0, "channels", "web", "meeting", NULL);
    s_choose(s, 1, "rating", "high", NULL, NULL);
    s_date(s, "started", "2024-02-29");
    s_text(s, "comment", "Two lines\nof comment");
    s_projects(s, 2, 1);
    s_text(s, "followup", "a visit in June");
}

/* Checks answers; returns 0 or -1 with the sentence in err. */
static int s_check(const s_form *f, s_answers *s, stats_answers_mode mode, stats_cell **cells,
                   size_t *n, char *err)
{
    stats_questions qs;
    assert_int_equal(stats_questions_index(&f->content, &qs, err, 400), 0);
    int rc = stats_answers_check(&qs, s->list, s->n, mode, cells, n, err, 400);
    stats_questions_release(&qs);
    return rc;
}

/* Expects a refusal containing `part`. */
static void s_refused(const s_form *f, s_answers *s, stats_answers_mode mode, const char *part)
{
    stats_cell *cells = NULL;
    size_t n = 0;
    char err[400] = "";
    if (s_check(f, s, mode, &cells, &n, err) == 0) {
        free(cells);
        fail_msg("expected a refusal containing \"%s\"", part);
    }
    assert_null(cells);
    if (!strstr(err, part))
        fail_msg("refusal \"%s\" does not contain \"%s\"", err, part);
}

/* ---- the design --------------------------------------------------------------------------------
 */

static void test_design_accepted(void **state)
{
    (void)state;
    s_form f;
    s_form_init(&f);
    char err[400] = "";
    if (stats_questionnaire_check(&f.content, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void s_design_refused(s_form *f, const char *part)
{
    char err[400] = "";
    assert_int_equal(stats_questionnaire_check(&f->content, err, sizeof err), -1);
    if (!strstr(err, part))
        fail_msg("refusal \"%s\" does not contain \"%s\"", err, part);
}

/* Each mistake is named with its question or section and the fix. */
static void test_design_refusals(void **state)
{
    (void)state;
    s_form f;
    s_form_init(&f);
    f.q[4].code = "staff";
    s_design_refused(&f,
                     "question `staff` (section `basics`): code `staff` is taken by question 1");
    s_form_init(&f);
    f.cond[0].question = "rating"; /* comes after channels */
    s_design_refused(&f, "question `channels` (section `basics`): its condition names `rating`, "
                         "which does not come before it");
    s_form_init(&f);
    f.q[0].options = f.rating;
    f.q[0].n_options = 3;
    s_design_refused(&f, "a NUMBER question takes no `options`; remove them");
    s_form_init(&f);
    f.q[0].min = 10;
    f.q[0].max = 5;
    s_design_refused(&f, "`min` 10 is above `max` 5");
    s_form_init(&f);
    f.col[0].kind = CCIP__STATS__QUESTION_KIND__LONG_TEXT;
    s_design_refused(&f, "column 1 of question `projects` (section `details`): a table column is "
                         "NUMBER, SINGLE_CHOICE, YES_NO, DATE or SHORT_TEXT, not LONG_TEXT");
    s_form_init(&f);
    f.known_yes[0] = "maybe";
    s_design_refused(&f, "its condition names option `maybe`, which `known` does not have (yes or "
                         "no)");
    s_form_init(&f);
    f.cond[1].op = CCIP__STATS__CONDITION_OP__CHOSEN;
    s_design_refused(&f, "its condition asks what `staff` chose, but `staff` is a NUMBER question");
    s_form_init(&f);
    f.sec[1].n_questions = 0;
    s_design_refused(&f, "section `details` has no questions");
    s_form_init(&f);
    f.q[2].kind = CCIP__STATS__QUESTION_KIND__QUESTION_KIND_UNSPECIFIED;
    s_design_refused(&f, "question `known` (section `basics`): field `kind` must be");
    s_form_init(&f);
    f.q[3].max = 7;
    s_design_refused(&f, "`max` is the most options to choose, 1 to 3, got 7");
    s_form_init(&f);
    f.q[5].min_date = "2020-02-30";
    s_design_refused(&f, "field `min_date` must be a date YYYY-MM-DD");
}

/* ---- answers ------------------------------------------------------------------------------------
 */

static const stats_cell *s_cell(const stats_cell *c, size_t n, int q, int item, int col)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].question == q && c[i].item == item && c[i].col == col)
            return &c[i];
    return NULL;
}

static void test_answers_stored_as_rows(void **state)
{
    (void)state;
    s_form f;
    s_answers s;
    s_form_init(&f);
    s_valid(&s);
    stats_cell *cells = NULL;
    size_t n = 0;
    char err[400] = "";
    if (s_check(&f, &s, STATS_ANSWERS_FINAL, &cells, &n, err) != 0)
        fail_msg("%s", err);
    /* 8 plain answers, the table's row count and 2 x 2 cells. */
    assert_int_equal(n, 8 + 1 + 4);
    const stats_cell *c = s_cell(cells, n, 0, 0, 0);
    assert_true(c && c->has_num && c->num == 25 && !c->has_opt);
    c = s_cell(cells, n, 2, 0, 0);
    assert_true(c && c->has_opt && c->opt == 1);
    c = s_cell(cells, n, 3, 0, 0);
    assert_true(c && c->has_opt && c->opt == (1 | 4)); /* web and meeting */
    c = s_cell(cells, n, 4, 0, 0);
    assert_true(c && c->has_opt && c->opt == 2); /* high */
    c = s_cell(cells, n, 5, 0, 0);
    int64_t days;
    assert_int_equal(stats_date_days("2024-02-29", &days), 0);
    assert_true(c && c->has_num && c->num == days);
    c = s_cell(cells, n, 6, 0, 0);
    assert_true(c && c->txt && strcmp(c->txt, "Two lines\nof comment") == 0);
    c = s_cell(cells, n, 7, 0, 0);
    assert_true(c && c->has_num && c->num == 2);
    c = s_cell(cells, n, 7, 2, 2);
    assert_true(c && c->has_num && c->num == 200);
    c = s_cell(cells, n, 7, 1, 1);
    assert_true(c && c->txt && strcmp(c->txt, "p1") == 0);
    free(cells);
}

/* The rows read back are the answers given (and check again to the same
 * rows): what a stored response means depends on its version only. */
static void test_rows_read_back(void **state)
{
    (void)state;
    s_form f;
    s_answers s;
    s_form_init(&f);
    s_valid(&s);
    stats_questions qs;
    char err[400];
    stats_cell *cells = NULL, *again = NULL;
    size_t n = 0, n2 = 0, na = 0;
    assert_int_equal(stats_questions_index(&f.content, &qs, err, sizeof err), 0);
    assert_int_equal(
        stats_answers_check(&qs, s.list, s.n, STATS_ANSWERS_FINAL, &cells, &n, err, sizeof err), 0);
    ccip_arena *a = ccip_arena_new();
    Ccip__Stats__Answer **answers = NULL;
    assert_int_equal(stats_answers_from_cells(&qs, cells, n, a, &answers, &na), 0);
    assert_int_equal(na, s.n);
    assert_string_equal(answers[3]->question, "channels");
    assert_int_equal(answers[3]->choices->n_options, 2);
    assert_string_equal(answers[3]->choices->options[1], "meeting");
    assert_string_equal(answers[5]->date, "2024-02-29");
    assert_int_equal(answers[7]->table->n_rows, 2);
    assert_int_equal(
        stats_answers_check(&qs, answers, na, STATS_ANSWERS_FINAL, &again, &n2, err, sizeof err),
        0);
    assert_int_equal(n2, n);
    for (size_t i = 0; i < n; i++) {
        const stats_cell *x = s_cell(again, n2, cells[i].question, cells[i].item, cells[i].col);
        assert_non_null(x);
        assert_true(x->num == cells[i].num && x->opt == cells[i].opt);
        assert_true((x->txt == NULL) == (cells[i].txt == NULL));
    }
    free(cells);
    free(again);
    ccip_arena_destroy(&a);
    stats_questions_release(&qs);
}

/* Wrong type, out of range, unknown options, the required and the hidden:
 * each refusal names the question and says what is taken. */
static void test_answer_refusals(void **state)
{
    (void)state;
    s_form f;
    s_answers s;
    s_form_init(&f);

    s_valid(&s);
    s.a[0].value_case = CCIP__STATS__ANSWER__VALUE_TEXT;
    s.a[0].text = "twenty";
    s_refused(&f, &s, STATS_ANSWERS_DRAFT,
              "question `staff` (section `basics`) takes a number (field `number`), got a text");
    s_valid(&s);
    s.a[0].number = -3;
    s_refused(&f, &s, STATS_ANSWERS_DRAFT,
              "question `staff` (section `basics`) must be at least 0 people, got -3");
    s_valid(&s);
    s.a[1].number = 100000001;
    s_refused(&f, &s, STATS_ANSWERS_DRAFT,
              "question `budget` (section `basics`) must be at most 1000000.00 yuan, got "
              "1000000.01");
    s_valid(&s);
    s.opts[0][1] = "radio";
    s_refused(&f, &s, STATS_ANSWERS_DRAFT,
              "question `channels` (section `basics`) has no option `radio`; its options are web, "
              "press, meeting");
    s_valid(&s);
    s.ch[0].n_options = 3;
    s.opts[0][2] = "press";
    s_refused(&f, &s, STATS_ANSWERS_DRAFT,
              "question `channels` (section `basics`) allows at most 2 options chosen, got 3");
    s_valid(&s);
    s.ch[1].n_options = 2;
    s.opts[1][1] = "low";
    s_refused(&f, &s, STATS_ANSWERS_DRAFT, "question `rating` (section `basics`) takes one option");
    s_valid(&s);
    s.a[5].date = "2019-12-31";
    s_refused(&f, &s, STATS_ANSWERS_DRAFT,
              "question `started` (section `details`) must be on or after 2020-01-01");
    s_valid(&s);
    s.a[5].date = "2024-02-30";
    s_refused(&f, &s, STATS_ANSWERS_DRAFT, "question `started` (section `details`) takes a date");
    s_valid(&s);
    s.a[2].question = "nope";
    s_refused(&f, &s, STATS_ANSWERS_DRAFT, "the questionnaire has no question `nope`");
    s_valid(&s);
    s.a[4].question = "staff";
    s_refused(&f, &s, STATS_ANSWERS_DRAFT, "question `staff` is answered twice");
    s_valid(&s);
    s.n = 7;
    s_projects(&s, 4, 1);
    s_refused(&f, &s, STATS_ANSWERS_DRAFT,
              "question `projects` (section `details`) allows at most 3 rows, got 4");
    s_valid(&s);
    s.n = 7;
    s_projects(&s, 2, 0);
    s_refused(&f, &s, STATS_ANSWERS_FINAL,
              "row 1 of question `projects` (section `details`): column `name` is required");
    s_valid(&s);
    s.cells[1].number = -1;
    s_refused(
        &f, &s, STATS_ANSWERS_DRAFT,
        "column `cost` in row 1 of question `projects` (section `details`) must be at least 0");
    /* The required, on submission only: everything but `staff` (and the
     * follow-up, which is asked only when staff is at least 10). */
    memset(&s, 0, sizeof s);
    s_number(&s, "budget", 100);
    s_yes(&s, "known", 1);
    s_choose(&s, 0, "channels", "web", NULL, NULL);
    s_refused(&f, &s, STATS_ANSWERS_FINAL,
              "question `staff` (section `basics`) is required: answer "
              "it");
    stats_cell *cells = NULL;
    size_t n = 0;
    char err[400];
    assert_int_equal(s_check(&f, &s, STATS_ANSWERS_DRAFT, &cells, &n, err), 0); /* a draft */
    assert_int_equal(n, 3);
    free(cells);
    /* An empty text is no answer. */
    s_text(&s, "comment", "");
    s_number(&s, "staff", 3);
    assert_int_equal(s_check(&f, &s, STATS_ANSWERS_FINAL, &cells, &n, err), 0);
    assert_int_equal(n, 4);
    free(cells);
}

/* A question asked only when an earlier answer says so: not required when
 * not asked, and refused when answered anyway. */
static void test_conditions(void **state)
{
    (void)state;
    s_form f;
    s_answers s;
    s_form_init(&f);
    s_valid(&s);
    s.a[2].yes = 0; /* not known: channels is not asked */
    s_refused(&f, &s, STATS_ANSWERS_FINAL,
              "question `channels` (section `basics`) is asked only when `known` chose yes; "
              "remove its answer");
    /* Without channels it is complete. */
    memset(&s, 0, sizeof s);
    s_number(&s, "staff", 25);
    s_yes(&s, "known", 0);
    s_choose(&s, 1, "rating", "low", NULL, NULL);
    s_text(&s, "followup", "none planned");
    stats_cell *cells = NULL;
    size_t n = 0;
    char err[400] = "";
    if (s_check(&f, &s, STATS_ANSWERS_FINAL, &cells, &n, err) != 0)
        fail_msg("%s", err);
    assert_int_equal(n, 4);
    free(cells);
    /* staff below 10: the follow-up is not asked. */
    s_valid(&s);
    s.a[0].number = 9;
    s_refused(&f, &s, STATS_ANSWERS_FINAL,
              "question `followup` (section `details`) is asked only "
              "when `staff` is at least 10");
    /* Known yes, channels left out: required. */
    s_valid(&s);
    s.ch[0].n_options = 0;
    s_refused(&f, &s, STATS_ANSWERS_FINAL, "question `channels` (section `basics`) is required");
}

static void test_merge(void **state)
{
    (void)state;
    s_form f;
    s_answers old, set;
    s_form_init(&f);
    s_valid(&old);
    memset(&set, 0, sizeof set);
    s_number(&set, "staff", 40);
    stats_questions qs;
    char err[400];
    assert_int_equal(stats_questions_index(&f.content, &qs, err, sizeof err), 0);
    char *remove[] = {"comment"};
    Ccip__Stats__Answer **out = NULL;
    size_t n = 0;
    assert_int_equal(stats_answers_merge(&qs, old.list, old.n, set.list, set.n, remove, 1, &out, &n,
                                         err, sizeof err),
                     0);
    assert_int_equal(n, old.n - 1);
    assert_string_equal(out[0]->question, "staff");
    assert_int_equal(out[0]->number, 40);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(out[i]->question, "comment");
    free(out);
    char *unknown[] = {"nothing_like_it"};
    assert_int_equal(stats_answers_merge(&qs, old.list, old.n, set.list, set.n, unknown, 1, &out,
                                         &n, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "field `remove`: the questionnaire has no question "
                                "`nothing_like_it`"));
    stats_questions_release(&qs);
}

static void test_dates_and_numbers(void **state)
{
    (void)state;
    int64_t d;
    char text[11], num[32];
    assert_int_equal(stats_date_days("1970-01-01", &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(stats_date_days("2000-02-29", &d), 0);
    assert_int_equal(d, 11016);
    stats_date_text(d, text);
    assert_string_equal(text, "2000-02-29");
    assert_int_equal(stats_date_days("1969-12-31", &d), 0);
    assert_int_equal(d, -1);
    assert_int_equal(stats_date_days("2001-02-29", &d), -1);
    assert_int_equal(stats_date_days("2024-13-01", &d), -1);
    assert_int_equal(stats_date_days("2024-1-01", &d), -1);
    assert_int_equal(stats_date_days("", &d), -1);
    stats_number_text(12345, 2, num, sizeof num);
    assert_string_equal(num, "123.45");
    stats_number_text(-5, 2, num, sizeof num);
    assert_string_equal(num, "-0.05");
    stats_number_text(7, 0, num, sizeof num);
    assert_string_equal(num, "7");
    stats_number_text(INT64_MIN, 3, num, sizeof num);
    assert_string_equal(num, "-9223372036854775.808");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_design_accepted),
        cmocka_unit_test(test_design_refusals),
        cmocka_unit_test(test_answers_stored_as_rows),
        cmocka_unit_test(test_rows_read_back),
        cmocka_unit_test(test_answer_refusals),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_dates_and_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
