/*
 * evaluation_cases: the case of one accepted application (table case_file),
 * its log (case_log), and how cases are read.
 *
 * A case is opened by consuming intake.application.accepted.v1
 * (evaluation_case_open, subscribed by evaluation_def): the handler runs in the consumer's
 * transaction that also moves the cursor, so a redelivered event opens no
 * second case; the unique constraint on the application id guarantees one
 * case per application even if intake accepted the same application twice
 * (the second event is logged and skipped). The handler also records the
 * applicant's contacts (conflict detection) and publishes
 * evaluation.case.opened.v1. A malformed event is logged and skipped: the
 * stream must not stop behind it.
 */
#ifndef EVALUATION_CASES_H
#define EVALUATION_CASES_H

#include "evaluation.h"
#include "ccip_arena.h"

/* The consumer handler of intake.application.accepted.v1. Returns 0 (case opened, or event skipped)
 * or a ccip_db_rc. */
int evaluation_case_open(ccip_db *db, const Ccip__Envelope *ev, void *arg);

/* The columns of a case that commands work with. Strings point into res. */
typedef struct {
    PGresult *res; /* owns the strings */
    const char *id;
    const char *application_id;
    const char *call_id;
    const char *kind; /* CLUSTER_IDENTIFICATION, ... */
    const char *applicant_uscc;
    const char *applicant_name;
    const char *district_code;
    const char *title;
    const char *subject_name;
    const char *fund_programme_code;
    const char *status; /* CASE_OPEN, ... */
    const char *fields; /* pinned expertise, comma-separated; "" before */
    int year;
    int round;
    int sheet_version; /* 0 before the first panel seat is filled */
    int panel_size;    /* 0 before */
    int64_t requested_fen;
    int has_aggregate; /* the current round's reviews are all in */
    int score_centi;
    int spread_centi;
    int dropped;
    int reviews_counted;
} evaluation_case_row;

/* Reads case `case_id` (FOR UPDATE when lock is set: commands that change a
 * case take its row lock first, so they run one after the other per case).
 * Returns 0 with *out filled; CCIP_REPLIED with INVALID_ARGUMENT (not
 * a UUID) or NOT_FOUND set on cmd; or a ccip_db_rc. Release with
 * evaluation_case_row_clear (also after a failure). */
int evaluation_case_fetch(ccip_command *cmd, const char *case_id, int lock,
                          evaluation_case_row *out);

/* Frees the row's result; safe twice. */
void evaluation_case_row_clear(evaluation_case_row *r);

/* The case's current aggregate with the agency's verdict, the sheet's
 * threshold and the recommendation, into *out (initialised here). Without
 * all reviews in, only verdict and sheet_version are set. Returns 0 or a
 * ccip_db_rc. */
int evaluation_case_aggregate(ccip_db *db, const evaluation_case_row *c,
                              Ccip__Evaluation__Aggregate *out);

/* Loads the case as a message allocated from a: with every investigation,
 * review, decision and log entry when full is set, else the case's own
 * fields only. Returns 0 with *out set (NULL when there is no such case or
 * memory ran out: check ccip_arena_failed), or a ccip_db_rc. */
int evaluation_case_load(ccip_db *db, const char *case_id, int full, ccip_arena *a,
                         Ccip__Evaluation__Case **out);

/* evaluation.case.get.v1 and evaluation.case.list.v1. */
int evaluation_case_get(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_case_list(ccip_command *cmd, ccip_arena *a, void *request);

#endif
