/*
 * evaluation_investigations: the assigned agency's on-site report (table
 * investigation, report_document): visit date, findings, verdict and the
 * documents it rests on (by SHA-256). Only the agency assigned to the case
 * may file it, once per round.
 */
#ifndef EVALUATION_INVESTIGATIONS_H
#define EVALUATION_INVESTIGATIONS_H

#include "evaluation.h"

/* Most documents one report names. */
#define EVALUATION_REPORT_DOCUMENTS_MAX 50

/* evaluation.investigation.report.v1. */
int evaluation_investigation_report(ccip_command *cmd, ccip_arena *a, void *request);

#endif
