/*
 * ctl_surveys: the survey and research part of "ccipctl stats" (issue 20):
 * departments, questionnaires, surveys, responses, results, research tasks.
 *
 * Its lines are a table of the one shape (ctl_args.h) that cli/ctl_stats.c
 * puts after the quarterly part, so "ccipctl stats --help" lists both and
 * one parser reads every command line.
 */
#ifndef CTL_SURVEYS_H
#define CTL_SURVEYS_H

#include <stddef.h>

#include "ctl_args.h"

/* The survey and research commands of ccipctl stats (static storage). */
extern const ctl_command ctl_survey_commands[];

/* How many lines ctl_survey_commands holds. */
extern const size_t ctl_survey_ncommands;

#endif
