/*
 * stats_validation: the rules a quarterly report is checked against, as
 * pure functions of the report's values, the catalogue version it is
 * collected with and the same entry's earlier reports (no database, no
 * clock): every rule has a unit test (tests/services/test_stats_validation.c).
 *
 * Importance (DHIS2's validation rules):
 *   ERROR    blocks submission:
 *              negative        a value below zero where the indicator does
 *                              not allow one (counts, areas, revenue...)
 *              out_of_range    a percentage outside 0..100 %
 *              compulsory      a compulsory indicator without a value
 *              <rule id>       a catalogue rule of importance ERROR, e.g.
 *                              profit_within_revenue: total profit above
 *                              operating revenue
 *   WARNING  needs a written explanation on the value before submission:
 *              change_qoq      the value moved more than `change_pct` percent
 *                              against the previous quarter
 *              change_yoy      ... against the same quarter a year before
 *              <rule id>       a catalogue rule of importance WARNING
 *
 * Which values do not fit at all (unknown indicator, wrong unit, an
 * indicator the entry's kind does not report) is checked earlier, when a
 * value is saved (stats_value_check), so such a value is never stored.
 */
#ifndef STATS_VALIDATION_H
#define STATS_VALIDATION_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/stats.pb-c.h"

/* Largest percentage value: 100 % in hundredths of a percent. */
#define STATS_PERCENT_MAX 10000
/* Shortest explanation that counts as written (characters, after trimming
 * spaces): "ok" does not explain a doubled revenue. */
#define STATS_EXPLANATION_MIN_CHARS 5

/* An indicator as the rules see it (one catalogue version, already
 * narrowed to the indicators the report's roster kind reports). Borrowed. */
typedef struct {
    const char *code;
    const char *name;
    Ccip__Stats__Unit unit;
    int compulsory;     /* must have a value before submission */
    int allow_negative; /* may be below zero (total_profit) */
} stats_indicator_def;

/* A catalogue rule between two indicators: left op right. Borrowed. */
typedef struct {
    const char *id;
    const char *left;
    Ccip__Stats__CompareOp op;
    const char *right;
    Ccip__Stats__Importance importance;
    const char *message;
} stats_rule_def;

/* One value of a report. Borrowed. */
typedef struct {
    const char *code;
    int64_t value;
    const char *explanation; /* NULL or "" = none */
} stats_value;

/* One finding. */
typedef struct {
    Ccip__Stats__Importance importance;
    char rule[48];      /* "negative", "compulsory", a rule id, "change_qoq", ... */
    char indicator[48]; /* the indicator it is about */
    char message[400];  /* a sentence the operator can act on */
    int explained;      /* warnings: the value carries a written explanation */
} stats_finding;

/* What a report is checked against. Arrays may be NULL when their count is
 * 0; previous and year_ago are the same entry's values in those quarters
 * (NULL with count 0 when it has no such report). */
typedef struct {
    const stats_indicator_def *indicators;
    size_t nindicators;
    const stats_rule_def *rules;
    size_t nrules;
    const stats_value *values;
    size_t nvalues;
    const stats_value *previous; /* previous quarter's values */
    size_t nprevious;
    const char *previous_quarter; /* "2026Q2", for messages */
    const stats_value *year_ago;  /* same quarter a year before */
    size_t nyear_ago;
    const char *year_ago_quarter; /* "2025Q3" */
    int64_t change_pct;           /* warn when a value moves more than this percentage */
} stats_validation_input;

/* Checks the values against every rule, in catalogue order. Writes at most
 * max findings into out and returns how many there are in all (may be more
 * than max: the rest are not written). */
size_t stats_validate(const stats_validation_input *in, stats_finding *out, size_t max);

/* Findings that block a submission: errors and unexplained warnings. */
size_t stats_findings_blocking(const stats_finding *f, size_t n);

/* 1 when an explanation counts as written (at least
 * STATS_EXPLANATION_MIN_CHARS characters besides spaces), else 0. */
int stats_explained(const char *explanation);

/* 1 when `now` moved more than pct percent away from `base`: |now - base| *
 * 100 > pct * |base|. A base of 0 gives 0: there is nothing to compare a
 * change with (a new activity is not an outlier). No overflow for any
 * int64 arguments. */
int stats_change_exceeds(int64_t base, int64_t now, int64_t pct);

/* Checks that a value may be stored for indicator `ind` (NULL = the code is
 * not in the catalogue version or not reported by the entry's kind): the
 * unit given must be the indicator's. Returns 0, or -1 with a sentence
 * naming the indicator, e.g.
 *   indicator `operating_revenue` is in FEN, got a value in COUNT */
int stats_value_check(const char *code, const stats_indicator_def *ind, Ccip__Stats__Unit unit,
                      char *err, size_t errlen);

/* The unit's name as stored ("FEN"), or NULL outside the enum. */
const char *stats_unit_name(Ccip__Stats__Unit unit);

#endif
