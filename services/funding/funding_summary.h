/*
 * funding_summary: reports for staff. Per programme-year: budget,
 * committed, disbursed, clawed back, recovered and remaining (all derived
 * from the ledger), with every award of the year and its tranches.
 */
#ifndef FUNDING_SUMMARY_H
#define FUNDING_SUMMARY_H

#include "funding.h"

/* Handler: funding.summary.year.v1. */
int funding_summary_year(ccip_command *cmd, ccip_arena *a, void *request);

#endif
