/*
 * evaluation_registers: the registers of intermediary agencies (agency,
 * agency_district, agency_conflict) and experts (expert, expert_field,
 * expert_conflict), kept by staff.
 *
 * A registration replaces every field of an entry (it is not a patch): a
 * new entry starts active with no load; an existing one keeps its status
 * and load, and its capacity may not go below its load. Deactivating takes
 * an entry out of the rotation for new tasks; its open tasks stay.
 * Phones are stored as digits and e-mails in lower case so that contact
 * conflicts compare by equality (evaluation_assign.h).
 */
#ifndef EVALUATION_REGISTERS_H
#define EVALUATION_REGISTERS_H

#include "evaluation.h"
#include "ccip_arena.h"

/* Most fields of expertise per expert, districts are at most 16. */
#define EVALUATION_FIELDS_MAX    20
#define EVALUATION_CONFLICTS_MAX 200 /* declared conflicts per entry */

/* Command handlers. get and set_active serve both registers, which the
 * command's type names (evaluation.agency.get.v1, evaluation.expert.get.v1). */
int evaluation_agency_register(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_agency_list(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_expert_register(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_expert_list(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_register_get(ccip_command *cmd, ccip_arena *a, void *request);
int evaluation_register_set_active(ccip_command *cmd, ccip_arena *a, void *request);

/* Checks a field of expertise: 1 to 48 of a-z, 0-9, '_', '.', '-'. Returns
 * 0, or -1 with a sentence naming `field`. */
int evaluation_field_check(const char *field, const char *value, char *err, size_t errlen);

#endif
