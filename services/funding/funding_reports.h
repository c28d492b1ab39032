/*
 * funding_reports: the grantee's use-of-funds reports.
 *
 * A grantee (actor "org:<USCC>" of the award's organisation) saves a draft
 * report for an award (spent per budget line, progress, documents by name
 * and SHA-256), and submits it; a submitted report is locked (the service
 * refuses edits, and a trigger refuses any change of its lines and
 * documents) until staff accept it or return it for correction. An
 * accepted INTERIM or FINAL report is what the conditions
 * INTERIM_REPORT_ACCEPTED and FINAL_REPORT_ACCEPTED look for.
 */
#ifndef FUNDING_REPORTS_H
#define FUNDING_REPORTS_H

#include "funding.h"

/* Reads an award's reports into a, oldest first. Returns 0 or a ccip_db_rc. */
int funding_reports_load(ccip_db *db, const char *award_id, ccip_arena *a,
                         Ccip__Funding__UseReport ***out, size_t *n);

/* Handlers. */
int funding_report_save(ccip_command *cmd, ccip_arena *a, void *request);
/* funding.report.{submit,accept,return}.v1, told apart by the command's
 * type. */
int funding_report_act(ccip_command *cmd, ccip_arena *a, void *request);

#endif
