#include "stats_answers.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_validate.h"

#define TITLE_MAX       500 /* characters of a question's title */
#define HELP_MAX        2000
#define NAME_MAX_CHARS  200 /* titles of questionnaires and sections, option labels */
#define DESCRIPTION_MAX 5000
#define UNIT_MAX        20

/* ---- small pieces ------------------------------------------------------------------------ */

static int s_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* 1 when s is [a-z][a-z0-9_]*, 1 to STATS_CODE_MAX characters. */
static int s_code_ok(const char *s)
{
    if (!s || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    size_t n = 0;
    for (const char *p = s; *p; p++, n++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return 0;
    return n <= STATS_CODE_MAX;
}

/* ccip_text_check of a field of `where`, its sentence after "where: ". */
static int s_text(const char *where, const char *field, const char *s, size_t min, size_t max,
                  int flags, char *err, size_t errlen)
{
    char why[300];
    if (ccip_text_check(field, s, min, max, flags, why, sizeof why) == 0)
        return 0;
    return s_fail(err, errlen, "%s: %s", where, why);
}

static int s_code(const char *where, const char *field, const char *s, char *err, size_t errlen)
{
    if (s_code_ok(s))
        return 0;
    return s_fail(err, errlen,
                  "%s: field `%s` must be 1 to %d characters from a-z, 0-9 and '_', starting "
                  "with a letter, got \"%.60s\"",
                  where, field, STATS_CODE_MAX, s ? s : "");
}

static const char *s_kind_name(Ccip__Stats__QuestionKind k)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&ccip__stats__question_kind__descriptor, (int)k);
    return v ? v->name : "UNSPECIFIED";
}

/* ---- dates and numbers -------------------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static int64_t s_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int stats_date_days(const char *text, int64_t *days)
{
    if (!text || strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !(text[i] >= '0' && text[i] <= '9'))
            return -1;
    int y = atoi(text), m = atoi(text + 5), d = atoi(text + 8);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap))
        return -1;
    *days = s_days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

void stats_date_text(int64_t days, char out[11])
{
    /* H. Hinnant's civil_from_days. */
    int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t y0 = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    const int64_t y = y0 + (m <= 2);
    if (y < 0 || y > 9999) {
        snprintf(out, 11, "0000-00-00");
        return;
    }
    char buf[48]; /* the compiler cannot see that m and d have two digits */
    snprintf(buf, sizeof buf, "%04d-%02u-%02u", (int)y, m % 100, d % 100);
    memcpy(out, buf, 10);
    out[10] = '\0';
}

void stats_number_text(int64_t v, unsigned decimals, char *out, size_t len)
{
    if (decimals == 0 || decimals > 9) {
        snprintf(out, len, "%" PRId64, v);
        return;
    }
    uint64_t scale = 1;
    for (unsigned i = 0; i < decimals; i++)
        scale *= 10;
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    snprintf(out, len, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", a / scale, (int)decimals,
             a % scale);
}

/* ---- the index ----------------------------------------------------------------------------- */

int stats_questions_index(const Ccip__Stats__QuestionnaireContent *content, stats_questions *qs,
                          char *err, size_t errlen)
{
    memset(qs, 0, sizeof *qs);
    qs->content = content;
    size_t n = 0;
    for (size_t s = 0; s < content->n_sections; s++)
        n += content->sections[s]->n_questions;
    qs->questions = calloc(n + 1, sizeof *qs->questions);
    qs->sections = calloc(n + 1, sizeof *qs->sections);
    if (!qs->questions || !qs->sections) {
        stats_questions_release(qs);
        return s_fail(err, errlen, "out of memory indexing a questionnaire");
    }
    for (size_t s = 0; s < content->n_sections; s++) {
        const Ccip__Stats__Section *sec = content->sections[s];
        for (size_t i = 0; i < sec->n_questions; i++) {
            qs->questions[qs->n] = sec->questions[i];
            qs->sections[qs->n] = sec->code;
            qs->n++;
        }
    }
    return 0;
}

void stats_questions_release(stats_questions *qs)
{
    free(qs->questions);
    free(qs->sections);
    qs->questions = NULL;
    qs->sections = NULL;
    qs->n = 0;
}

int stats_questions_find(const stats_questions *qs, const char *code)
{
    for (size_t i = 0; code && i < qs->n; i++)
        if (strcmp(qs->questions[i]->code, code) == 0)
            return (int)i;
    return -1;
}

/* ---- the design ------------------------------------------------------------------------------ */

static int s_is_choice(Ccip__Stats__QuestionKind k)
{
    return k == CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE ||
           k == CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE;
}

/* Checks the options of a choice question. */
static int s_check_options(const Ccip__Stats__Question *q, const char *where, char *err,
                           size_t errlen)
{
    if (q->n_options < 1 || q->n_options > STATS_OPTIONS_MAX)
        return s_fail(err, errlen, "%s: a %s question needs 1 to %d options, got %zu", where,
                      s_kind_name(q->kind), STATS_OPTIONS_MAX, q->n_options);
    for (size_t i = 0; i < q->n_options; i++) {
        const Ccip__Stats__QuestionOption *o = q->options[i];
        char w[200];
        snprintf(w, sizeof w, "%s, option %zu", where, i + 1);
        if (s_code(w, "code", o->code, err, errlen) < 0 ||
            s_text(w, "label", o->label, 1, NAME_MAX_CHARS, 0, err, errlen) < 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(q->options[j]->code, o->code) == 0)
                return s_fail(err, errlen,
                              "%s: option `%s` is there twice; give each option its "
                              "own code",
                              where, o->code);
    }
    if (q->kind == CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE) {
        if (q->has_min && (q->min < 0 || (size_t)q->min > q->n_options))
            return s_fail(err, errlen,
                          "%s: `min` is the fewest options to choose, 0 to %zu, got %" PRId64,
                          where, q->n_options, q->min);
        if (q->has_max && (q->max < 1 || (size_t)q->max > q->n_options))
            return s_fail(err, errlen,
                          "%s: `max` is the most options to choose, 1 to %zu, got %" PRId64, where,
                          q->n_options, q->max);
    }
    return 0;
}

/* Checks that the fields of q belong to its kind (a unit on a yes/no
 * question is a design mistake someone should hear about). */
static int s_check_fields(const Ccip__Stats__Question *q, const char *where, char *err,
                          size_t errlen)
{
    Ccip__Stats__QuestionKind k = q->kind;
    const char *kn = s_kind_name(k);
    int number = k == CCIP__STATS__QUESTION_KIND__NUMBER;
    if (!number && (q->unit[0] || q->decimals))
        return s_fail(err, errlen, "%s: a %s question takes no `unit` or `decimals`; remove them",
                      where, kn);
    if (!number && k != CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE && (q->has_min || q->has_max))
        return s_fail(err, errlen, "%s: a %s question takes no `min` or `max`; remove them", where,
                      kn);
    if (k != CCIP__STATS__QUESTION_KIND__DATE && (q->min_date[0] || q->max_date[0]))
        return s_fail(err, errlen,
                      "%s: a %s question takes no `min_date` or `max_date`; remove them", where,
                      kn);
    if (!s_is_choice(k) && q->n_options)
        return s_fail(err, errlen, "%s: a %s question takes no `options`; remove them%s", where, kn,
                      k == CCIP__STATS__QUESTION_KIND__YES_NO ? " (its answers are yes and no)"
                                                              : "");
    if (k != CCIP__STATS__QUESTION_KIND__TABLE && (q->max_rows || q->n_columns))
        return s_fail(err, errlen,
                      "%s: a %s question takes no `max_rows` or `columns`; remove them", where, kn);
    return 0;
}

static int s_check_question(const Ccip__Stats__Question *q, int column, const char *where,
                            char *err, size_t errlen)
{
    if (s_code(where, "code", q->code, err, errlen) < 0 ||
        s_text(where, "title", q->title, 1, TITLE_MAX, 0, err, errlen) < 0 ||
        s_text(where, "help", q->help, 0, HELP_MAX, CCIP_TEXT_MULTILINE, err, errlen) < 0)
        return -1;
    Ccip__Stats__QuestionKind k = q->kind;
    if (!protobuf_c_enum_descriptor_get_value(&ccip__stats__question_kind__descriptor, (int)k) ||
        k == CCIP__STATS__QUESTION_KIND__QUESTION_KIND_UNSPECIFIED)
        return s_fail(err, errlen,
                      "%s: field `kind` must be NUMBER, SINGLE_CHOICE, MULTIPLE_CHOICE, YES_NO, "
                      "DATE, SHORT_TEXT, LONG_TEXT or TABLE",
                      where);
    if (column && k != CCIP__STATS__QUESTION_KIND__NUMBER &&
        k != CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE && k != CCIP__STATS__QUESTION_KIND__YES_NO &&
        k != CCIP__STATS__QUESTION_KIND__DATE && k != CCIP__STATS__QUESTION_KIND__SHORT_TEXT)
        return s_fail(err, errlen,
                      "%s: a table column is NUMBER, SINGLE_CHOICE, YES_NO, DATE or SHORT_TEXT, "
                      "not %s",
                      where, s_kind_name(k));
    if (column && q->show_if)
        return s_fail(err, errlen, "%s: a table column has no condition (`show_if`); remove it",
                      where);
    if (s_check_fields(q, where, err, errlen) < 0)
        return -1;
    switch (k) {
    case CCIP__STATS__QUESTION_KIND__NUMBER:
        if (s_text(where, "unit", q->unit, 0, UNIT_MAX, 0, err, errlen) < 0)
            return -1;
        if (q->decimals > STATS_DECIMALS_MAX)
            return s_fail(err, errlen, "%s: field `decimals` must be 0 to %d, got %u", where,
                          STATS_DECIMALS_MAX, q->decimals);
        if (q->has_min && q->has_max && q->min > q->max)
            return s_fail(err, errlen,
                          "%s: `min` %" PRId64 " is above `max` %" PRId64 "; make min at most max",
                          where, q->min, q->max);
        return 0;
    case CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE:
    case CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE:
        if (s_check_options(q, where, err, errlen) < 0)
            return -1;
        if (q->has_min && q->has_max && q->min > q->max)
            return s_fail(err, errlen,
                          "%s: `min` %" PRId64 " is above `max` %" PRId64 "; make min at most max",
                          where, q->min, q->max);
        return 0;
    case CCIP__STATS__QUESTION_KIND__DATE: {
        int64_t lo = 0, hi = 0;
        if (q->min_date[0] && stats_date_days(q->min_date, &lo) < 0)
            return s_fail(err, errlen,
                          "%s: field `min_date` must be a date YYYY-MM-DD, got \"%.20s\"", where,
                          q->min_date);
        if (q->max_date[0] && stats_date_days(q->max_date, &hi) < 0)
            return s_fail(err, errlen,
                          "%s: field `max_date` must be a date YYYY-MM-DD, got \"%.20s\"", where,
                          q->max_date);
        if (q->min_date[0] && q->max_date[0] && lo > hi)
            return s_fail(err, errlen, "%s: `min_date` %s is after `max_date` %s", where,
                          q->min_date, q->max_date);
        return 0;
    }
    case CCIP__STATS__QUESTION_KIND__TABLE:
        if (q->max_rows < 1 || q->max_rows > STATS_ROWS_MAX)
            return s_fail(err, errlen, "%s: field `max_rows` must be 1 to %d, got %u", where,
                          STATS_ROWS_MAX, q->max_rows);
        if (q->n_columns < 1 || q->n_columns > STATS_COLUMNS_MAX)
            return s_fail(err, errlen, "%s: a table needs 1 to %d columns, got %zu", where,
                          STATS_COLUMNS_MAX, q->n_columns);
        for (size_t c = 0; c < q->n_columns; c++) {
            char w[200];
            snprintf(w, sizeof w, "column %zu of %s", c + 1, where);
            if (s_check_question(q->columns[c], 1, w, err, errlen) < 0)
                return -1;
            for (size_t j = 0; j < c; j++)
                if (strcmp(q->columns[j]->code, q->columns[c]->code) == 0)
                    return s_fail(err, errlen,
                                  "%s: column `%s` is there twice; give each column its own code",
                                  where, q->columns[c]->code);
        }
        return 0;
    default:
        return 0;
    }
}

/* 1 when the question has an option with this code. */
static int s_has_option(const Ccip__Stats__Question *q, const char *code)
{
    for (size_t i = 0; i < q->n_options; i++)
        if (strcmp(q->options[i]->code, code) == 0)
            return 1;
    return 0;
}

/* Checks question i's condition against the questions before it. */
static int s_check_condition(const stats_questions *qs, size_t i, const char *where, char *err,
                             size_t errlen)
{
    const Ccip__Stats__Condition *c = qs->questions[i]->show_if;
    if (!c)
        return 0;
    int ref = stats_questions_find(qs, c->question);
    if (ref < 0 || (size_t)ref >= i)
        return s_fail(err, errlen,
                      "%s: its condition names `%.60s`, which does not come before it; a question "
                      "may depend only on an earlier one",
                      where, c->question);
    const Ccip__Stats__Question *r = qs->questions[ref];
    switch (c->op) {
    case CCIP__STATS__CONDITION_OP__ANSWERED:
        if (r->kind == CCIP__STATS__QUESTION_KIND__TABLE)
            break;
        if (c->n_options || c->number)
            return s_fail(err, errlen,
                          "%s: an ANSWERED condition takes no `options` or `number`; remove them",
                          where);
        return 0;
    case CCIP__STATS__CONDITION_OP__CHOSEN:
    case CCIP__STATS__CONDITION_OP__NOT_CHOSEN:
        if (!s_is_choice(r->kind) && r->kind != CCIP__STATS__QUESTION_KIND__YES_NO)
            return s_fail(err, errlen,
                          "%s: its condition asks what `%s` chose, but `%s` is a %s question; "
                          "use ANSWERED, or AT_LEAST / AT_MOST for numbers",
                          where, r->code, r->code, s_kind_name(r->kind));
        if (c->n_options == 0)
            return s_fail(err, errlen, "%s: its condition needs the `options` of `%s` it looks for",
                          where, r->code);
        for (size_t k = 0; k < c->n_options; k++) {
            int ok = r->kind == CCIP__STATS__QUESTION_KIND__YES_NO
                         ? strcmp(c->options[k], "yes") == 0 || strcmp(c->options[k], "no") == 0
                         : s_has_option(r, c->options[k]);
            if (!ok)
                return s_fail(err, errlen,
                              "%s: its condition names option `%.60s`, which `%s` does "
                              "not have%s",
                              where, c->options[k], r->code,
                              r->kind == CCIP__STATS__QUESTION_KIND__YES_NO ? " (yes or no)" : "");
        }
        return 0;
    case CCIP__STATS__CONDITION_OP__AT_LEAST:
    case CCIP__STATS__CONDITION_OP__AT_MOST:
        if (r->kind != CCIP__STATS__QUESTION_KIND__NUMBER)
            return s_fail(err, errlen,
                          "%s: an AT_LEAST or AT_MOST condition needs a NUMBER question, and `%s` "
                          "is %s",
                          where, r->code, s_kind_name(r->kind));
        if (c->n_options)
            return s_fail(err, errlen, "%s: an AT_LEAST or AT_MOST condition takes no `options`",
                          where);
        return 0;
    default:
        return s_fail(err, errlen,
                      "%s: the condition's `op` must be ANSWERED, CHOSEN, NOT_CHOSEN, AT_LEAST or "
                      "AT_MOST",
                      where);
    }
    return s_fail(err, errlen, "%s: a condition cannot depend on a table question (`%s`)", where,
                  r->code);
}

int stats_questionnaire_check(const Ccip__Stats__QuestionnaireContent *c, char *err, size_t errlen)
{
    if (!c)
        return s_fail(err, errlen, "field `content` is missing: give the questionnaire");
    if (s_text("questionnaire", "title", c->title, 1, NAME_MAX_CHARS, 0, err, errlen) < 0 ||
        s_text("questionnaire", "description", c->description, 0, DESCRIPTION_MAX,
               CCIP_TEXT_MULTILINE, err, errlen) < 0)
        return -1;
    if (c->n_sections == 0)
        return s_fail(err, errlen, "questionnaire: it needs at least one section with questions");
    size_t total = 0;
    for (size_t s = 0; s < c->n_sections; s++) {
        const Ccip__Stats__Section *sec = c->sections[s];
        char where[120];
        snprintf(where, sizeof where, "section %zu", s + 1);
        if (s_code(where, "code", sec->code, err, errlen) < 0)
            return -1;
        snprintf(where, sizeof where, "section `%s`", sec->code);
        if (s_text(where, "title", sec->title, 1, NAME_MAX_CHARS, 0, err, errlen) < 0 ||
            s_text(where, "description", sec->description, 0, HELP_MAX, CCIP_TEXT_MULTILINE, err,
                   errlen) < 0)
            return -1;
        for (size_t j = 0; j < s; j++)
            if (strcmp(c->sections[j]->code, sec->code) == 0)
                return s_fail(err, errlen, "%s is there twice; give each section its own code",
                              where);
        if (sec->n_questions == 0)
            return s_fail(err, errlen, "%s has no questions; add some or remove the section",
                          where);
        total += sec->n_questions;
    }
    if (total > STATS_QUESTIONS_MAX)
        return s_fail(err, errlen, "questionnaire: at most %d questions, got %zu; split it",
                      STATS_QUESTIONS_MAX, total);
    stats_questions qs;
    if (stats_questions_index(c, &qs, err, errlen) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < qs.n; i++) {
        const Ccip__Stats__Question *q = qs.questions[i];
        char where[160];
        if (s_code_ok(q->code))
            snprintf(where, sizeof where, "question `%s` (section `%s`)", q->code, qs.sections[i]);
        else
            snprintf(where, sizeof where, "question %zu (section `%s`)", i + 1, qs.sections[i]);
        rc = s_check_question(q, 0, where, err, errlen);
        for (size_t j = 0; rc == 0 && j < i; j++)
            if (strcmp(qs.questions[j]->code, q->code) == 0)
                rc = s_fail(err, errlen,
                            "%s: code `%s` is taken by question %zu; give each question its own "
                            "code",
                            where, q->code, j + 1);
        if (rc == 0)
            rc = s_check_condition(&qs, i, where, err, errlen);
    }
    stats_questions_release(&qs);
    return rc;
}

/* ---- answers
 * ------------------------------------------------------------------------------------- */

/* The cells being written, and where a refusal goes. */
typedef struct {
    stats_cell *cells;
    size_t n, cap;
    char *err;
    size_t errlen;
} s_out;

static int s_push(s_out *o, const stats_cell *c)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        stats_cell *p = realloc(o->cells, cap * sizeof *p);
        if (!p)
            return s_fail(o->err, o->errlen, "out of memory checking the answers");
        o->cells = p;
        o->cap = cap;
    }
    o->cells[o->n++] = *c;
    return 0;
}

/* What an answer's value case is, in words. */
static const char *s_got(const Ccip__Stats__Answer *a)
{
    switch (a->value_case) {
    case CCIP__STATS__ANSWER__VALUE_NUMBER:
        return "a number";
    case CCIP__STATS__ANSWER__VALUE_CHOICES:
        return "options";
    case CCIP__STATS__ANSWER__VALUE_YES:
        return "yes or no";
    case CCIP__STATS__ANSWER__VALUE_TEXT:
        return "a text";
    case CCIP__STATS__ANSWER__VALUE_DATE:
        return "a date";
    case CCIP__STATS__ANSWER__VALUE_TABLE:
        return "table rows";
    default:
        return "no value";
    }
}

/* What a kind takes, in words, and its field. */
static const char *s_takes(Ccip__Stats__QuestionKind k)
{
    switch (k) {
    case CCIP__STATS__QUESTION_KIND__NUMBER:
        return "a number (field `number`)";
    case CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE:
        return "one option (field `choices`)";
    case CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE:
        return "options (field `choices`)";
    case CCIP__STATS__QUESTION_KIND__YES_NO:
        return "yes or no (field `yes`)";
    case CCIP__STATS__QUESTION_KIND__DATE:
        return "a date YYYY-MM-DD (field `date`)";
    case CCIP__STATS__QUESTION_KIND__SHORT_TEXT:
    case CCIP__STATS__QUESTION_KIND__LONG_TEXT:
        return "a text (field `text`)";
    case CCIP__STATS__QUESTION_KIND__TABLE:
        return "table rows (field `table`)";
    default:
        return "nothing this version knows";
    }
}

static Ccip__Stats__Answer__ValueCase s_case_of(Ccip__Stats__QuestionKind k)
{
    switch (k) {
    case CCIP__STATS__QUESTION_KIND__NUMBER:
        return CCIP__STATS__ANSWER__VALUE_NUMBER;
    case CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE:
    case CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE:
        return CCIP__STATS__ANSWER__VALUE_CHOICES;
    case CCIP__STATS__QUESTION_KIND__YES_NO:
        return CCIP__STATS__ANSWER__VALUE_YES;
    case CCIP__STATS__QUESTION_KIND__DATE:
        return CCIP__STATS__ANSWER__VALUE_DATE;
    case CCIP__STATS__QUESTION_KIND__SHORT_TEXT:
    case CCIP__STATS__QUESTION_KIND__LONG_TEXT:
        return CCIP__STATS__ANSWER__VALUE_TEXT;
    case CCIP__STATS__QUESTION_KIND__TABLE:
        return CCIP__STATS__ANSWER__VALUE_TABLE;
    default:
        return CCIP__STATS__ANSWER__VALUE__NOT_SET;
    }
}

/* A number with its unit: "1000000.00 yuan". */
static void s_amount(const Ccip__Stats__Question *q, int64_t v, char *out, size_t len)
{
    char n[40];
    stats_number_text(v, q->decimals, n, sizeof n);
    snprintf(out, len, "%s%s%s", n, q->unit[0] ? " " : "", q->unit);
}

static int s_option_index(const Ccip__Stats__Question *q, const char *code)
{
    for (size_t i = 0; i < q->n_options; i++)
        if (strcmp(q->options[i]->code, code) == 0)
            return (int)i;
    return -1;
}

/* The option codes of q as "a, b, c" (for refusals). */
static void s_option_list(const Ccip__Stats__Question *q, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < q->n_options && used + 1 < len; i++) {
        int w = snprintf(out + used, len - used, "%s%s", i ? ", " : "", q->options[i]->code);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static int s_value(const Ccip__Stats__Question *q, const char *where, const Ccip__Stats__Answer *a,
                   int qi, int item, int col, stats_answers_mode mode, s_out *o);

/* One row of a table answer (row r, 1-based). Returns 0 or -1. */
static int s_table_row(const Ccip__Stats__Question *q, const char *where,
                       const Ccip__Stats__TableAnswerRow *row, int qi, int r,
                       stats_answers_mode mode, s_out *o)
{
    int answered[STATS_COLUMNS_MAX] = {0}, any = 0;
    for (size_t i = 0; row && i < row->n_cells; i++) {
        const Ccip__Stats__Answer *cell = row->cells[i];
        int c = -1;
        for (size_t k = 0; k < q->n_columns && k < STATS_COLUMNS_MAX; k++)
            if (strcmp(q->columns[k]->code, cell->question) == 0)
                c = (int)k;
        if (c < 0)
            return s_fail(o->err, o->errlen,
                          "row %d of %s: the table has no column `%.60s`; remove that cell", r,
                          where, cell->question);
        if (answered[c])
            return s_fail(o->err, o->errlen,
                          "row %d of %s: column `%s` is answered twice; give it once", r, where,
                          cell->question);
        char w[300];
        snprintf(w, sizeof w, "column `%s` in row %d of %s", cell->question, r, where);
        int got = s_value(q->columns[c], w, cell, qi, r, c + 1, mode, o);
        if (got < 0)
            return -1;
        answered[c] = got > 0 ? 1 : 2;
        any |= got > 0;
    }
    if (!any)
        return s_fail(o->err, o->errlen, "row %d of %s is empty; fill it in or remove it", r,
                      where);
    for (size_t k = 0; mode == STATS_ANSWERS_FINAL && k < q->n_columns; k++)
        if (q->columns[k]->required && answered[k] != 1)
            return s_fail(o->err, o->errlen, "row %d of %s: column `%s` is required: answer it", r,
                          where, q->columns[k]->code);
    return 0;
}

/* Checks answer a to question q (index qi; table cells: row item, column
 * col) and pushes its rows. Returns 1 when answered, 0 when the answer is
 * empty (no row), -1 refused. */
static int s_value(const Ccip__Stats__Question *q, const char *where, const Ccip__Stats__Answer *a,
                   int qi, int item, int col, stats_answers_mode mode, s_out *o)
{
    if (a->value_case != s_case_of(q->kind))
        return s_fail(o->err, o->errlen, "%s takes %s, got %s", where, s_takes(q->kind), s_got(a));
    stats_cell c = {.question = qi, .item = item, .col = col};
    char v[64], lim[64];
    switch (q->kind) {
    case CCIP__STATS__QUESTION_KIND__NUMBER:
        if (q->has_min && a->number < q->min) {
            s_amount(q, q->min, lim, sizeof lim);
            s_amount(q, a->number, v, sizeof v);
            return s_fail(o->err, o->errlen, "%s must be at least %s, got %s", where, lim, v);
        }
        if (q->has_max && a->number > q->max) {
            s_amount(q, q->max, lim, sizeof lim);
            s_amount(q, a->number, v, sizeof v);
            return s_fail(o->err, o->errlen, "%s must be at most %s, got %s", where, lim, v);
        }
        c.has_num = 1;
        c.num = a->number;
        break;
    case CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE:
    case CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE: {
        const Ccip__Stats__Choices *ch = a->choices;
        size_t n = ch ? ch->n_options : 0;
        if (n == 0)
            return 0;
        char list[400];
        uint64_t mask = 0;
        for (size_t i = 0; i < n; i++) {
            int k = s_option_index(q, ch->options[i]);
            if (k < 0) {
                s_option_list(q, list, sizeof list);
                return s_fail(o->err, o->errlen, "%s has no option `%.60s`; its options are %s",
                              where, ch->options[i], list);
            }
            if (mask & ((uint64_t)1 << k))
                return s_fail(o->err, o->errlen, "%s: option `%s` is chosen twice; give it once",
                              where, ch->options[i]);
            mask |= (uint64_t)1 << k;
            c.opt = k;
        }
        if (q->kind == CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE) {
            if (n > 1)
                return s_fail(o->err, o->errlen, "%s takes one option, got %zu; choose one", where,
                              n);
        } else {
            if (q->has_min && (int64_t)n < q->min)
                return s_fail(o->err, o->errlen,
                              "%s needs at least %" PRId64 " options chosen, got %zu", where,
                              q->min, n);
            if (q->has_max && (int64_t)n > q->max)
                return s_fail(o->err, o->errlen,
                              "%s allows at most %" PRId64 " options chosen, got %zu", where,
                              q->max, n);
            c.opt = (int64_t)mask;
        }
        c.has_opt = 1;
        break;
    }
    case CCIP__STATS__QUESTION_KIND__YES_NO:
        c.has_opt = 1;
        c.opt = a->yes ? 1 : 0;
        break;
    case CCIP__STATS__QUESTION_KIND__DATE: {
        if (!a->date || !a->date[0])
            return 0;
        int64_t d, lo, hi;
        if (stats_date_days(a->date, &d) < 0)
            return s_fail(o->err, o->errlen, "%s takes a date YYYY-MM-DD, got \"%.20s\"", where,
                          a->date);
        if (q->min_date[0] && stats_date_days(q->min_date, &lo) == 0 && d < lo)
            return s_fail(o->err, o->errlen, "%s must be on or after %s, got %s", where,
                          q->min_date, a->date);
        if (q->max_date[0] && stats_date_days(q->max_date, &hi) == 0 && d > hi)
            return s_fail(o->err, o->errlen, "%s must be on or before %s, got %s", where,
                          q->max_date, a->date);
        c.has_num = 1;
        c.num = d;
        break;
    }
    case CCIP__STATS__QUESTION_KIND__SHORT_TEXT:
    case CCIP__STATS__QUESTION_KIND__LONG_TEXT: {
        if (!a->text || !a->text[0])
            return 0;
        int long_text = q->kind == CCIP__STATS__QUESTION_KIND__LONG_TEXT;
        char why[300];
        if (ccip_text_check("text", a->text, 1, long_text ? STATS_LONG_TEXT : STATS_SHORT_TEXT,
                            long_text ? CCIP_TEXT_MULTILINE : 0, why, sizeof why) < 0)
            return s_fail(o->err, o->errlen, "%s: %s", where, why);
        c.txt = a->text;
        break;
    }
    case CCIP__STATS__QUESTION_KIND__TABLE: {
        const Ccip__Stats__TableAnswer *t = a->table;
        size_t rows = t ? t->n_rows : 0;
        if (rows == 0)
            return 0;
        if (rows > q->max_rows)
            return s_fail(o->err, o->errlen, "%s allows at most %u rows, got %zu", where,
                          q->max_rows, rows);
        c.has_num = 1;
        c.num = (int64_t)rows;
        if (s_push(o, &c) < 0)
            return -1;
        for (size_t r = 0; r < rows; r++)
            if (s_table_row(q, where, t->rows[r], qi, (int)r + 1, mode, o) < 0)
                return -1;
        return 1;
    }
    default:
        return s_fail(o->err, o->errlen, "%s is of a kind this version cannot take answers for",
                      where);
    }
    return s_push(o, &c) < 0 ? -1 : 1;
}

/* Whether question i is asked, given the answers so far (ans[j] the
 * answer to question j when answered[j]). */
static int s_asked(const stats_questions *qs, size_t i, const Ccip__Stats__Answer *const *ans,
                   const int *answered, const int *asked)
{
    const Ccip__Stats__Condition *c = qs->questions[i]->show_if;
    if (!c)
        return 1;
    int ref = stats_questions_find(qs, c->question);
    if (ref < 0 || (size_t)ref >= i || !asked[ref] || !answered[ref])
        return 0;
    const Ccip__Stats__Answer *a = ans[ref];
    const Ccip__Stats__Question *r = qs->questions[ref];
    int chosen = 0;
    switch (c->op) {
    case CCIP__STATS__CONDITION_OP__ANSWERED:
        return 1;
    case CCIP__STATS__CONDITION_OP__CHOSEN:
    case CCIP__STATS__CONDITION_OP__NOT_CHOSEN:
        for (size_t k = 0; k < c->n_options; k++) {
            if (r->kind == CCIP__STATS__QUESTION_KIND__YES_NO)
                chosen |= strcmp(c->options[k], a->yes ? "yes" : "no") == 0;
            else
                for (size_t m = 0; a->choices && m < a->choices->n_options; m++)
                    chosen |= strcmp(c->options[k], a->choices->options[m]) == 0;
        }
        return c->op == CCIP__STATS__CONDITION_OP__CHOSEN ? chosen : !chosen;
    case CCIP__STATS__CONDITION_OP__AT_LEAST:
        return a->number >= c->number;
    case CCIP__STATS__CONDITION_OP__AT_MOST:
        return a->number <= c->number;
    default:
        return 0;
    }
}

/* The condition of question q in words: "`training` is yes". */
static void s_condition_text(const Ccip__Stats__Condition *c, char *out, size_t len)
{
    const char *op = c->op == CCIP__STATS__CONDITION_OP__ANSWERED     ? "is answered"
                     : c->op == CCIP__STATS__CONDITION_OP__CHOSEN     ? "chose"
                     : c->op == CCIP__STATS__CONDITION_OP__NOT_CHOSEN ? "chose none of"
                     : c->op == CCIP__STATS__CONDITION_OP__AT_LEAST   ? "is at least"
                                                                      : "is at most";
    int w = snprintf(out, len, "`%s` %s", c->question, op);
    size_t used = w > 0 ? (size_t)w : 0;
    if (c->op == CCIP__STATS__CONDITION_OP__AT_LEAST || c->op == CCIP__STATS__CONDITION_OP__AT_MOST)
        snprintf(out + used, len - used, " %" PRId64, c->number);
    for (size_t k = 0; k < c->n_options && used < len; k++) {
        w = snprintf(out + used, len - used, "%s%s", k ? " or " : " ", c->options[k]);
        used += w > 0 ? (size_t)w : 0;
    }
}

int stats_answers_check(const stats_questions *qs, Ccip__Stats__Answer *const *answers, size_t n,
                        stats_answers_mode mode, stats_cell **cells, size_t *ncells, char *err,
                        size_t errlen)
{
    *cells = NULL;
    *ncells = 0;
    s_out o = {.err = err, .errlen = errlen};
    const Ccip__Stats__Answer **ans = calloc(qs->n + 1, sizeof *ans);
    int *answered = calloc(qs->n + 1, sizeof *answered);
    int *asked = calloc(qs->n + 1, sizeof *asked);
    int rc = 0;
    if (!ans || !answered || !asked)
        rc = s_fail(err, errlen, "out of memory checking the answers");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const Ccip__Stats__Answer *a = answers[i];
        int qi = stats_questions_find(qs, a->question);
        if (qi < 0) {
            rc = s_fail(err, errlen,
                        "answer %zu: the questionnaire has no question `%.60s`; remove that answer",
                        i + 1, a->question);
            break;
        }
        if (ans[qi]) {
            rc = s_fail(err, errlen, "question `%s` is answered twice; give it once", a->question);
            break;
        }
        char where[160];
        snprintf(where, sizeof where, "question `%s` (section `%s`)", a->question,
                 qs->sections[qi]);
        ans[qi] = a;
        int got = s_value(qs->questions[qi], where, a, qi, 0, 0, mode, &o);
        if (got < 0)
            rc = -1;
        answered[qi] = got > 0;
    }
    for (size_t i = 0; rc == 0 && mode == STATS_ANSWERS_FINAL && i < qs->n; i++) {
        const Ccip__Stats__Question *q = qs->questions[i];
        asked[i] = s_asked(qs, i, ans, answered, asked);
        char cond[300];
        if (!asked[i] && answered[i]) {
            s_condition_text(q->show_if, cond, sizeof cond);
            rc = s_fail(err, errlen,
                        "question `%s` (section `%s`) is asked only when %s; remove its answer",
                        q->code, qs->sections[i], cond);
        } else if (asked[i] && q->required && !answered[i]) {
            rc = s_fail(err, errlen, "question `%s` (section `%s`) is required: answer it", q->code,
                        qs->sections[i]);
        }
    }
    free(ans);
    free(answered);
    free(asked);
    if (rc < 0) {
        free(o.cells);
        return -1;
    }
    *cells = o.cells;
    *ncells = o.n;
    return 0;
}

/* ---- back from the rows
 * ----------------------------------------------------------------------------- */

static int s_cell_cmp(const void *x, const void *y)
{
    const stats_cell *a = x, *b = y;
    if (a->question != b->question)
        return a->question < b->question ? -1 : 1;
    if (a->item != b->item)
        return a->item < b->item ? -1 : 1;
    return (a->col > b->col) - (a->col < b->col);
}

/* Fills answer *a (code, kind's value) from cell c of question q, in a.
 * Returns 0, or -1 when the cell does not fit the question (left out). */
static int s_answer_of(const Ccip__Stats__Question *q, const stats_cell *c, ccip_arena *ar,
                       Ccip__Stats__Answer *a)
{
    *a = (Ccip__Stats__Answer)CCIP__STATS__ANSWER__INIT;
    a->question = (char *)q->code;
    switch (q->kind) {
    case CCIP__STATS__QUESTION_KIND__NUMBER:
        if (!c->has_num)
            return -1;
        a->value_case = CCIP__STATS__ANSWER__VALUE_NUMBER;
        a->number = c->num;
        return 0;
    case CCIP__STATS__QUESTION_KIND__DATE: {
        if (!c->has_num)
            return -1;
        char *d = ccip_arena_alloc(ar, 11);
        if (!d)
            return -1;
        stats_date_text(c->num, d);
        a->value_case = CCIP__STATS__ANSWER__VALUE_DATE;
        a->date = d;
        return 0;
    }
    case CCIP__STATS__QUESTION_KIND__YES_NO:
        if (!c->has_opt)
            return -1;
        a->value_case = CCIP__STATS__ANSWER__VALUE_YES;
        a->yes = c->opt != 0;
        return 0;
    case CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE:
    case CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE: {
        if (!c->has_opt)
            return -1;
        Ccip__Stats__Choices *ch = ccip_arena_alloc(ar, sizeof *ch);
        char **opts = ccip_arena_alloc(ar, (q->n_options + 1) * sizeof *opts);
        if (!ch || !opts)
            return -1;
        *ch = (Ccip__Stats__Choices)CCIP__STATS__CHOICES__INIT;
        ch->options = opts;
        if (q->kind == CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE) {
            if (c->opt < 0 || (size_t)c->opt >= q->n_options)
                return -1;
            opts[ch->n_options++] = q->options[c->opt]->code;
        } else {
            for (size_t k = 0; k < q->n_options && k < 63; k++)
                if ((uint64_t)c->opt & ((uint64_t)1 << k))
                    opts[ch->n_options++] = q->options[k]->code;
        }
        a->value_case = CCIP__STATS__ANSWER__VALUE_CHOICES;
        a->choices = ch;
        return 0;
    }
    case CCIP__STATS__QUESTION_KIND__SHORT_TEXT:
    case CCIP__STATS__QUESTION_KIND__LONG_TEXT:
        if (!c->txt)
            return -1;
        a->value_case = CCIP__STATS__ANSWER__VALUE_TEXT;
        a->text = ccip_arena_strdup(ar, c->txt);
        return a->text ? 0 : -1;
    default:
        return -1;
    }
}

/* The table answer of question q from its cells [from, to) (sorted). */
static int s_table_of(const Ccip__Stats__Question *q, const stats_cell *cells, size_t from,
                      size_t to, ccip_arena *ar, Ccip__Stats__Answer *a)
{
    *a = (Ccip__Stats__Answer)CCIP__STATS__ANSWER__INIT;
    a->question = (char *)q->code;
    int rows = 0;
    for (size_t i = from; i < to; i++)
        if (cells[i].item > rows)
            rows = cells[i].item;
    Ccip__Stats__TableAnswer *t = ccip_arena_alloc(ar, sizeof *t);
    Ccip__Stats__TableAnswerRow **list = ccip_arena_alloc(ar, ((size_t)rows + 1) * sizeof *list);
    if (!t || !list)
        return -1;
    *t = (Ccip__Stats__TableAnswer)CCIP__STATS__TABLE_ANSWER__INIT;
    t->rows = list;
    for (int r = 1; r <= rows; r++) {
        Ccip__Stats__TableAnswerRow *row = ccip_arena_alloc(ar, sizeof *row);
        Ccip__Stats__Answer **cl = ccip_arena_alloc(ar, (q->n_columns + 1) * sizeof *cl);
        if (!row || !cl)
            return -1;
        *row = (Ccip__Stats__TableAnswerRow)CCIP__STATS__TABLE_ANSWER_ROW__INIT;
        row->cells = cl;
        for (size_t i = from; i < to; i++) {
            const stats_cell *c = &cells[i];
            if (c->item != r || c->col < 1 || (size_t)c->col > q->n_columns ||
                row->n_cells >= q->n_columns)
                continue;
            Ccip__Stats__Answer *cell = ccip_arena_alloc(ar, sizeof *cell);
            if (!cell)
                return -1;
            if (s_answer_of(q->columns[c->col - 1], c, ar, cell) == 0)
                cl[row->n_cells++] = cell;
        }
        list[t->n_rows++] = row;
    }
    a->value_case = CCIP__STATS__ANSWER__VALUE_TABLE;
    a->table = t;
    return 0;
}

int stats_answers_from_cells(const stats_questions *qs, const stats_cell *cells, size_t n,
                             ccip_arena *a, Ccip__Stats__Answer ***answers, size_t *nanswers)
{
    *answers = NULL;
    *nanswers = 0;
    if (n == 0)
        return 0;
    stats_cell *sorted = malloc(n * sizeof *sorted);
    Ccip__Stats__Answer **list = ccip_arena_alloc(a, (qs->n + 1) * sizeof *list);
    if (!sorted || !list) {
        free(sorted);
        return -1;
    }
    memcpy(sorted, cells, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, s_cell_cmp);
    size_t count = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n;) {
        size_t j = i;
        while (j < n && sorted[j].question == sorted[i].question)
            j++;
        int qi = sorted[i].question;
        if (qi >= 0 && (size_t)qi < qs->n) {
            const Ccip__Stats__Question *q = qs->questions[qi];
            Ccip__Stats__Answer *ans = ccip_arena_alloc(a, sizeof *ans);
            if (!ans)
                rc = -1;
            else if (q->kind == CCIP__STATS__QUESTION_KIND__TABLE)
                rc = s_table_of(q, sorted, i, j, a, ans) == 0 ? 0 : -1;
            else if (s_answer_of(q, &sorted[i], a, ans) < 0)
                ans = NULL; /* a cell the version cannot read: left out */
            if (rc == 0 && ans)
                list[count++] = ans;
        }
        i = j;
    }
    free(sorted);
    if (rc < 0 || ccip_arena_failed(a))
        return -1;
    *answers = list;
    *nanswers = count;
    return 0;
}

/* ---- drafts
 * -------------------------------------------------------------------------------------------- */

int stats_answers_merge(const stats_questions *qs, Ccip__Stats__Answer *const *old, size_t nold,
                        Ccip__Stats__Answer *const *set, size_t nset, char *const *remove,
                        size_t nremove, Ccip__Stats__Answer ***out, size_t *nout, char *err,
                        size_t errlen)
{
    *out = NULL;
    *nout = 0;
    for (size_t r = 0; r < nremove; r++)
        if (stats_questions_find(qs, remove[r]) < 0)
            return s_fail(err, errlen,
                          "field `remove`: the questionnaire has no question `%.60s`; name a "
                          "question code",
                          remove[r]);
    Ccip__Stats__Answer **list = calloc(nold + nset + 1, sizeof *list);
    if (!list)
        return s_fail(err, errlen, "out of memory saving the answers");
    size_t n = 0;
    for (size_t i = 0; i < qs->n; i++) {
        const char *code = qs->questions[i]->code;
        int given = 0, removed = 0;
        for (size_t k = 0; k < nset; k++)
            if (strcmp(set[k]->question, code) == 0) {
                list[n++] = set[k];
                given = 1;
            }
        for (size_t r = 0; r < nremove; r++)
            removed |= strcmp(remove[r], code) == 0;
        for (size_t k = 0; !given && !removed && k < nold; k++)
            if (strcmp(old[k]->question, code) == 0) {
                list[n++] = old[k];
                break;
            }
    }
    /* Answers to questions the version lacks stay, to be refused by name. */
    for (size_t k = 0; k < nset; k++)
        if (stats_questions_find(qs, set[k]->question) < 0)
            list[n++] = set[k];
    *out = list;
    *nout = n;
    return 0;
}
