/*
 * stats_answers: a questionnaire's design checks, and answers checked
 * against a questionnaire version and turned into the rows they are stored
 * as (and back), without a database. Unit-tested in
 * tests/services/test_stats_answers.c.
 *
 * A questionnaire version (ccip.stats.QuestionnaireContent) is read through
 * a stats_questions: its questions in answer order (sections in order),
 * each with its index, which is what survey_answer stores
 * (sql/0005_surveys.sql). Because a published version never changes, an
 * index and an option's position mean the same thing for as long as the
 * response exists.
 *
 *   stats_questions qs;
 *   if (stats_questions_index(content, &qs, err, sizeof err) < 0) ...   // out of memory
 *   stats_cell *cells = NULL;
 *   size_t n = 0;
 *   if (stats_answers_check(&qs, answers, nanswers, STATS_ANSWERS_FINAL, &cells, &n,
 *                           err, sizeof err) < 0)
 *       return refuse(err);      // "question `staff` must be at least 0 people, got -3"
 *   ... store cells[0..n) ...
 *   free(cells);
 *   stats_questions_release(&qs);
 *
 * Every refusal is one sentence that names the question (or the design's
 * field) and says what would be accepted.
 */
#ifndef STATS_ANSWERS_H
#define STATS_ANSWERS_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/stats.pb-c.h"
#include "ccip_arena.h"

/* Limits of a design. */
#define STATS_QUESTIONS_MAX 200 /* questions in a questionnaire (table columns not counted) */
#define STATS_OPTIONS_MAX   50  /* options of a choice question */
#define STATS_COLUMNS_MAX   20  /* columns of a table question */
#define STATS_ROWS_MAX      100 /* rows a table question may allow */
#define STATS_DECIMALS_MAX  4   /* decimals of a number question */
#define STATS_SHORT_TEXT    200 /* characters of a short text answer */
#define STATS_LONG_TEXT     5000
#define STATS_CODE_MAX      40 /* characters of a question, section or option code */

/* The questions of one version in answer order. Borrowed pointers into the
 * content, which must outlive it. */
typedef struct {
    const Ccip__Stats__QuestionnaireContent *content;
    size_t n;                                /* questions */
    const Ccip__Stats__Question **questions; /* [n], malloc'd */
    const char **sections;                   /* [n]: the section code of each, malloc'd */
} stats_questions;

/* Indexes content into *qs. Returns 0, or -1 when memory ran out (err set,
 * *qs empty). Does not check the design (stats_questionnaire_check does). */
int stats_questions_index(const Ccip__Stats__QuestionnaireContent *content, stats_questions *qs,
                          char *err, size_t errlen);

/* Frees the arrays of qs (not the content); safe twice. */
void stats_questions_release(stats_questions *qs);

/* The index of question `code`, or -1. */
int stats_questions_find(const stats_questions *qs, const char *code);

/* Checks a design: codes, texts, kinds and the fields each kind takes,
 * ranges, options, table columns, conditions (an earlier question, an op
 * its kind allows). Returns 0, or -1 with a sentence in err naming the
 * section, question or option and the fix, e.g.
 *   "question `visits` (section `use`): its condition names `later_q`, which
 *    does not come before it; a question may depend only on an earlier one" */
int stats_questionnaire_check(const Ccip__Stats__QuestionnaireContent *content, char *err,
                              size_t errlen);

/* One stored answer value: a row of survey_answer. */
typedef struct {
    int question;    /* index in the version */
    int item;        /* table row 1.., else 0 */
    int col;         /* table column 1.., else 0 */
    int has_num;     /* num holds the value (numbers, dates, a table's row count) */
    int64_t num;     /* NUMBER: 10^-decimals of the unit; DATE: days since 1970-01-01 */
    int has_opt;     /* opt holds the value (choices, yes/no) */
    int64_t opt;     /* SINGLE_CHOICE: option index; MULTIPLE_CHOICE: bit per option;
                        YES_NO: 1 yes, 0 no */
    const char *txt; /* SHORT_TEXT, LONG_TEXT: borrowed from the answers; else NULL */
} stats_cell;

typedef enum {
    STATS_ANSWERS_DRAFT, /* each answer's type and range; nothing is required yet */
    STATS_ANSWERS_FINAL, /* also: required questions answered, questions whose condition
                            does not hold left unanswered */
} stats_answers_mode;

/* Checks answers[0..n) against the version and writes the rows they are
 * stored as into *cells (malloc'd, the caller frees; NULL when *ncells is
 * 0; text pointers borrow from answers). An empty text or an empty list of
 * choices counts as no answer (no row). Returns 0, or -1 with a sentence in
 * err (nothing in *cells), e.g.
 *   "question `budget` (section `funds`) must be at most 1000000.00 yuan, got 2000000.00"
 *   "question `opinion` (section `views`) is required: answer it"
 *   "question `training` takes yes or no (field `yes`), got a number" */
int stats_answers_check(const stats_questions *qs, Ccip__Stats__Answer *const *answers, size_t n,
                        stats_answers_mode mode, stats_cell **cells, size_t *ncells, char *err,
                        size_t errlen);

/* The answers stored as cells[0..n) (any order), as the version reads
 * them: allocated from arena a (NULL answers when n is 0). Cells the
 * version does not have are left out. Returns 0, or -1 when memory ran
 * out. */
int stats_answers_from_cells(const stats_questions *qs, const stats_cell *cells, size_t n,
                             ccip_arena *a, Ccip__Stats__Answer ***answers, size_t *nanswers);

/* A draft changed: the answers of `old` whose question is neither set nor
 * removed, then `set`, in the questionnaire's order of questions. The
 * result borrows the answers (malloc'd array, caller frees). Unknown codes
 * in `remove` are refused: returns -1 with err ("field `remove`: ..."),
 * else 0. */
int stats_answers_merge(const stats_questions *qs, Ccip__Stats__Answer *const *old, size_t nold,
                        Ccip__Stats__Answer *const *set, size_t nset, char *const *remove,
                        size_t nremove, Ccip__Stats__Answer ***out, size_t *nout, char *err,
                        size_t errlen);

/* Days since 1970-01-01 of a date "YYYY-MM-DD" (a real calendar date,
 * years 1900..2999). Returns 0 and sets *days, or -1. */
int stats_date_days(const char *text, int64_t *days);

/* The date `days` after 1970-01-01 as "YYYY-MM-DD" into out (11 bytes). */
void stats_date_text(int64_t days, char out[11]);

/* A number in 10^-decimals of its unit as people write it: 12345 with 2
 * decimals is "123.45" (decimals up to 9; more are ignored). */
void stats_number_text(int64_t v, unsigned decimals, char *out, size_t len);

#endif
