/*
 * evaluation_designations: what an approved identification becomes (table
 * designation): a cluster or talent training base designated by the
 * municipality, with a certificate number (CCI-<year>-<nnnn> for clusters,
 * CTB-<year>-<nnnn> for talent bases, gap-free per series), a validity of
 * evaluation.designation_years, periodic re-evaluations every
 * evaluation.reevaluation_months, and revocation with reasons.
 * Publishes evaluation.designation.granted.v1 and .revoked.v1 (the
 * statistics service's monitoring roster).
 */
#ifndef EVALUATION_DESIGNATIONS_H
#define EVALUATION_DESIGNATIONS_H

#include "ccip_id.h"
#include "evaluation.h"
#include "evaluation_cases.h"

/* Grants the designation of approved case c inside the command's
 * transaction and publishes evaluation.designation.granted.v1; writes its id
 * into id. Returns 0, CCIP_REPLIED or a ccip_db_rc. */
int evaluation_designation_grant(ccip_command *cmd, const evaluation_case_row *c,
                                 char id[CCIP_UUID_STRLEN + 1]);

/* 1 when cases of this kind ("CLUSTER_IDENTIFICATION") end in a
 * designation. */
int evaluation_designation_kind(const char *kind);

/* evaluation.designation.get.v1, .list.v1, .revoke.v1, .reevaluate.v1 */
int evaluation_designation_get(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_designation_list(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_designation_revoke(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_designation_reevaluate(ccip_command *cmd, ccip_arena *a, void *request);

#endif
