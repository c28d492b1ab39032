/*
 * evaluation_sheets: versioned score sheets per call kind (score_sheet,
 * sheet_criterion). A sheet names the criteria with their weights and
 * maximum scores, the pass threshold of the aggregate, the panel size K and
 * the fields of expertise a panel is matched on. Publishing never changes a
 * sheet: it adds the next version. A case pins the version current when its
 * first panel seat is filled, and its reviews must be scored against that
 * version.
 */
#ifndef EVALUATION_SHEETS_H
#define EVALUATION_SHEETS_H

#include "evaluation.h"
#include "evaluation_score.h"

#define EVALUATION_PANEL_DEFAULT 5 /* K when a sheet says 0 */
#define EVALUATION_PANEL_MAX     15

/* A sheet as commands use it. Strings point into the results. */
typedef struct {
    PGresult *sheet_res;    /* owns fields */
    PGresult *criteria_res; /* owns the criteria's codes */
    int version;
    int pass_threshold_centi;
    int panel_size;
    const char *fields; /* comma-separated */
    size_t ncriteria;
    evaluation_criterion criteria[EVALUATION_CRITERIA_MAX]; /* in the sheet's order */
} evaluation_sheet;

/* Reads the sheet of `kind` ("CLUSTER_IDENTIFICATION") at `version` (0 =
 * the latest). Returns 0 and sets *found (0 when there is none; *out is then
 * empty), or a ccip_db_rc. Release with evaluation_sheet_clear (also after a
 * failure). */
int evaluation_sheet_fetch(ccip_db *db, const char *kind, int version, evaluation_sheet *out,
                           int *found);

/* Frees the sheet's results; safe twice. */
void evaluation_sheet_clear(evaluation_sheet *s);

/* evaluation.sheet.publish.v1 and evaluation.sheet.get.v1. */
int evaluation_sheet_publish(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_sheet_get(ccip_command *cmd, ccip_arena *a, void *request);

#endif
