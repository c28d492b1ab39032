/*
 * stats_survey_results: what a survey's responses say (issue 20), and who
 * may read it.
 *
 * Per question (a table's columns each count as one): how many answered;
 * for choices and yes/no the count and share of each option; for numbers
 * and dates count, sum, minimum, maximum, mean and quartiles; each for all
 * responses, by district and by target kind (an anonymous survey's
 * responses carry neither, so it has the totals only). Free-text answers
 * are listed for reading (stats.survey.texts.v1), every response exported
 * as CSV or JSON (stats.survey.export.v1; anonymous surveys without who
 * answered).
 *
 * How it stays cheap (scripts/bench survey): the choices' counts are kept
 * as answers are written (survey_tally, sql/0005_surveys.sql), so they are
 * read in a few rows; the numbers are read from an index that holds them
 * sorted per question (survey_answer_numbers, an index-only scan), so the
 * quartiles of every group come from one ordered pass in C, without a sort
 * anywhere.
 *
 * Release: a survey attached to a quarter (stats.survey.attach.v1) is a
 * section of that quarter's analysis and of its bulletin (stats_release.h)
 * with SVG charts. Until a release that carries it is past its embargo, a
 * survey's results, texts, exports and others' responses are readable by
 * analysts only, through every read: each reading statement carries the
 * condition (`$2::boolean OR survey_released(...)`), so a read that forgot
 * to ask still gets nothing.
 */
#ifndef STATS_SURVEY_RESULTS_H
#define STATS_SURVEY_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "ccip_text.h"
#include "stats.h"

/* ---- arithmetic (pure) ----------------------------------------------------------------------- */

/* Quartiles of sorted[0..n) in hundredths (x100): q[0] the first quartile,
 * q[1] the median, q[2] the third, each interpolated between the two
 * nearest ranks (Hyndman and Fan's type 7, PostgreSQL's percentile_cont):
 * h = (n - 1) p, q = x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]),
 * exact because the fraction is a multiple of 1/4. All 0 when n is 0;
 * clamped to the int64 range. */
void stats_quartiles_x100(const int64_t *sorted, size_t n, int64_t q[3]);

/* sum / n in hundredths, rounded half away from zero; 0 when n is 0. */
int64_t stats_mean_x100(__int128 sum, uint32_t n);

/* Adds `count` answers whose stored choice is opt to per_option[0..n_options):
 * MULTIPLE_CHOICE: every bit set; SINGLE_CHOICE: the index opt; YES_NO:
 * per_option[0] yes (opt 1), per_option[1] no (opt 0). Values outside the
 * options are ignored. */
void stats_option_add(Ccip__Stats__QuestionKind kind, size_t n_options, int64_t opt, uint32_t count,
                      uint32_t *per_option);

/* ---- reading ------------------------------------------------------------------------------- */

/* Sets *readable to 1 when the caller may read survey id's results now:
 * an analyst, or anyone once a release carrying them is past its embargo.
 * Returns 0 or a ccip_db_rc. */
int stats_results_readable(ccip_command *cmd, const char *survey_id, int *readable);

/* Builds survey id's results into *out (from arena a), reading with the
 * caller's rights: a caller who may not read them gets NOT_FOUND ("survey
 * ... has no results you may read"). Returns 0, CCIP_REPLIED or a
 * ccip_db_rc. */
int stats_survey_results_build(ccip_command *cmd, const char *survey_id, ccip_arena *a,
                               Ccip__Stats__SurveyResults **out);

/* The results of the surveys attached to `quarter` that the caller may
 * read, oldest attachment first, into *out (n of them, from a). Returns 0,
 * CCIP_REPLIED or a ccip_db_rc. */
int stats_survey_sections(ccip_command *cmd, const char *quarter, ccip_arena *a,
                          Ccip__Stats__SurveyResults ***out, size_t *n);

/* ---- the bulletin's parts (stats_release.c) -------------------------------------------------- */

/* A section of the HTML bulletin: title, response rate, per question an
 * SVG bar chart of the options' shares or a table of the numbers by
 * district with an SVG chart of the medians. */
void stats_survey_section_html(ccip_text *t, const Ccip__Stats__SurveyResults *r);

/* A line of the text summary per survey. */
void stats_survey_section_summary(ccip_text *t, const Ccip__Stats__SurveyResults *r);

/* surveys.csv: one line per survey, question, group and option (or number
 * summary), header first; and surveys.json: the results as JSON. */
void stats_survey_sections_csv(ccip_text *t, Ccip__Stats__SurveyResults *const *r, size_t n);
void stats_survey_sections_json(ccip_text *t, Ccip__Stats__SurveyResults *const *r, size_t n);

/* ---- the commands ------------------------------------------------------------------------------
 */

int stats_survey_results_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_survey_texts_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_survey_export_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_survey_attach_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
