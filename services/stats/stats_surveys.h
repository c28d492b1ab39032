/*
 * stats_surveys: surveys of a target list (issue 20): creation, closing,
 * reading, the targets, completeness, and the invitations and reminders
 * the inbox is told of.
 *
 * An analyst sends one published questionnaire version to a target list
 * (ccip.stats.TargetSelector: districts, municipal departments, roster
 * entries, organisations of intake's register of a type) with an opening
 * and a closing time (stats.survey.create.v1). The targets are the list as
 * it stood when the survey opened, computed in the database from the
 * registers stats keeps from the other services' events
 * (sql/0005_surveys.sql: survey_targets), with the sources' own times, so
 * a replay of those events gives the same targets and the same
 * completeness. Each target has one actor that answers for it: a
 * district's office ("district:<code>"), a department ("dept:<code>"), an
 * organisation ("org:<USCC>"), for a roster entry its operator.
 *
 * Responses are taken from the opening until the closing time or an early
 * close (stats_survey_responses.h). The service itself runs
 * stats.survey.remind.v1 every stats.survey_notice_seconds: when a survey
 * has opened it emits stats.survey.opened.v1 for each target (the inbox's
 * invitation), and at each of its reminder_days before the close
 * stats.survey.reminder.v1 for each target that has not submitted; each
 * once (survey_notice).
 *
 * Completeness (stats.survey.completeness.v1) counts every target as not
 * started, draft or submitted, by district and target kind, anonymous
 * surveys included (participation is kept apart from the responses).
 */
#ifndef STATS_SURVEYS_H
#define STATS_SURVEYS_H

#include "stats.h"

/* Prefixes of target ids (the other two are STATS_DISTRICT_PREFIX and
 * STATS_ORG_PREFIX). */
#define STATS_DEPT_PREFIX   "dept:"
#define STATS_ROSTER_PREFIX "roster:"

/* Longest target or actor id with its NUL ("roster:" and 64). */
#define STATS_TARGET_MAX 80

/* One survey as stored. */
typedef struct {
    char id[CCIP_UUID_STRLEN + 1];
    char title[STATS_NAME_MAX * 4 + 1];
    char questionnaire_id[CCIP_UUID_STRLEN + 1];
    int version;   /* the questionnaire version it asks */
    int anonymous; /* responses carry nothing about who answered */
    int64_t opens_at_us;
    int64_t closes_at_us;
    int64_t closed_early_at_us; /* 0 = not closed early */
    int64_t now_us;             /* the database's time of the reading (its transaction's) */
} stats_survey_row;

/* Reads survey `id` (FOR SHARE when lock is 1, FOR UPDATE when 2) into
 * row, or fails the command: INVALID_ARGUMENT naming `field` when id is no
 * UUID, NOT_FOUND when there is no such survey. Returns 0, CCIP_REPLIED or
 * a ccip_db_rc. */
int stats_survey_require(ccip_command *cmd, const char *field, const char *id, int lock,
                         stats_survey_row *row);

/* The survey's status at row->now_us. */
Ccip__Stats__SurveyStatus stats_survey_status(const stats_survey_row *row);

/* The survey as a message, allocated from a, with its target selectors and
 * the quarters it is attached to. Returns 0 or a ccip_db_rc; *out NULL
 * when memory ran out. */
int stats_survey_message(ccip_db *db, const stats_survey_row *row, ccip_arena *a,
                         Ccip__Stats__Survey **out);

/* One target of a survey. */
typedef struct {
    char id[STATS_TARGET_MAX]; /* "district:110105", "roster:<id>", ... */
    Ccip__Stats__TargetKind kind;
    char district[8]; /* "" for departments */
    char name[STATS_NAME_MAX * 4 + 1];
    char respondent[STATS_TARGET_MAX]; /* the actor id that answers for it */
} stats_target;

/* Looks target_id up among the survey's targets. *found is 0 when it is
 * not one. Returns 0 or a ccip_db_rc. */
int stats_survey_target(ccip_db *db, const char *survey_id, const char *target_id, stats_target *t,
                        int *found);

/* The target kind stored as text ("DISTRICT", ...), and back. */
const char *stats_target_kind_name(Ccip__Stats__TargetKind k);
Ccip__Stats__TargetKind stats_target_kind_of(const char *name);

/* The commands. */
int stats_survey_create_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_survey_close_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_survey_get_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_survey_list_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_survey_completeness_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_survey_remind_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
