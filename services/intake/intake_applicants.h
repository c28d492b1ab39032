/*
 * intake_applicants: the register of applicant organisations, keyed by
 * unified social credit code (validated, unique). An organisation registers
 * itself (an applicant acting as "org:<its USCC>") or is registered by
 * staff; staff verify it before any of its applications can be accepted.
 */
#ifndef INTAKE_APPLICANTS_H
#define INTAKE_APPLICANTS_H

#include "intake.h"
#include "ccip_arena.h"

/* Command handlers (see intake_def). */
int intake_org_register(ccip_command *cmd, ccip_arena *a,
                        void *request); /* emits intake.organisation.registered.v1 */
int intake_org_verify(ccip_command *cmd, ccip_arena *a,
                      void *request); /* emits intake.organisation.verified.v1 */
/* intake.organisation.update.v1: new details; a new name, type or district
 * withdraws the verification. Emits intake.organisation.updated.v1. */
int intake_org_update(ccip_command *cmd, ccip_arena *a, void *request);
int intake_org_get(ccip_command *cmd, ccip_arena *a, void *request);

/* The columns intake_org_from_row reads, in this order, from a query on
 * table organisation alone, and their number. */
#define INTAKE_ORG_COLUMNS                                                                         \
    "uscc, name, org_type, district_code, legal_representative, contact_name, contact_phone, "     \
    "contact_email, address, (extract(epoch FROM registered_at) * 1000000)::bigint, "              \
    "registered_by, (extract(epoch FROM verified_at) * 1000000)::bigint, "                         \
    "coalesce(verified_by, ''), verification_note"
#define INTAKE_ORG_NCOLUMNS 14

/* The organisation whose INTAKE_ORG_COLUMNS start at column col0 of row
 * `row` of res, allocated from a; NULL when memory ran out. */
Ccip__Intake__Organisation *intake_org_from_row(const PGresult *res, int row, int col0,
                                                ccip_arena *a);

/* Loads organisation `uscc` into *out, allocated from a. Returns 0,
 * CCIP_REPLIED with NOT_FOUND (saying how to register it), or a
 * ccip_db_rc. */
int intake_org_load(ccip_command *cmd, const char *uscc, ccip_arena *a,
                    Ccip__Intake__Organisation **out);

#endif
