/*
 * stats_survey_responses: answering a survey (issue 20).
 *
 * A target's respondent (stats_surveys.h) saves a draft as often as it
 * likes (stats.survey.response.save.v1: the answers given are set, the
 * codes in `remove` cleared, the rest stay) and submits once
 * (stats.survey.response.submit.v1). Rules, each enforced here and tested
 * in tests/integration/test_surveys.c:
 *
 *  - answers are taken only while the survey is open: not before its
 *    opening, not after its closing time or an early close;
 *  - one submitted response per target: a second submission, or a draft
 *    saved after it, is refused; staff may reopen one response with a
 *    reason (stats.survey.response.reopen.v1): its answers become the
 *    target's draft again and leave the results until it is submitted
 *    again;
 *  - every answer is checked against the questionnaire version the survey
 *    asks (stats_answers.h: type, range, options; on submission also the
 *    required questions and the conditions): a refusal names the question
 *    and writes nothing;
 *  - in an anonymous survey the submitted response carries nothing about
 *    who answered (no target, district, kind, time or actor, a random id),
 *    nothing else in the schema names it (participation rows, events and
 *    the stored reply name the target only), and so nobody, the respondent
 *    included, can read it back or reopen it; completeness still counts
 *    the target as submitted.
 *
 * Reading a response: the respondent reads its own (an anonymous survey's
 * only while a draft); other callers read a submitted response of a survey
 * that is not anonymous only as results are read (stats_survey_results.h:
 * analysts before the release, anyone known after it).
 */
#ifndef STATS_SURVEY_RESPONSES_H
#define STATS_SURVEY_RESPONSES_H

#include "stats.h"
#include "stats_answers.h"

/* The stored answers of response `response_id` (a UUID) as cells: *cells
 * malloc'd (the caller frees it and PQclear()s *res, whose values the
 * texts point into). Returns 0 or a ccip_db_rc. */
int stats_response_cells(ccip_db *db, const char *response_id, stats_cell **cells, size_t *n,
                         PGresult **res);

/* The commands. */
int stats_response_save_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_response_submit_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_response_get_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_response_reopen_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
