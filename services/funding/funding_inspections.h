/*
 * funding_inspections: follow-up inspection of how the money was used,
 * and clawback.
 *
 * Staff schedule an inspection of an award (MIDTERM, COMPLETION, AD_HOC)
 * and record its finding: COMPLIANT; ISSUES to correct by a date; or
 * MISUSE, which in the same transaction suspends the award (its unpaid
 * tranches and pending payments), orders a clawback of the misused amount
 * (a CLAWBACK_ORDERED journal entry) and publishes
 * funding.inspection.recorded.v1, funding.award.suspended.v1 and
 * funding.clawback.ordered.v1. Recoveries are recorded against the
 * clawback (CLAWBACK_RECOVERED entries) until it is recovered in full.
 */
#ifndef FUNDING_INSPECTIONS_H
#define FUNDING_INSPECTIONS_H

#include "funding.h"

/* Read an award's inspections and clawbacks (with their recoveries) into
 * a, oldest first. Return 0 or a ccip_db_rc. */
int funding_inspections_load(ccip_db *db, const char *award_id, ccip_arena *a,
                             Ccip__Funding__Inspection ***out, size_t *n);
int funding_clawbacks_load(ccip_db *db, const char *award_id, ccip_arena *a,
                           Ccip__Funding__Clawback ***out, size_t *n);

/* Handlers. */
int funding_inspection_schedule(ccip_command *cmd, ccip_arena *a, void *request);
int funding_inspection_record(ccip_command *cmd, ccip_arena *a, void *request);
int funding_clawback_recover(ccip_command *cmd, ccip_arena *a, void *request);

#endif
