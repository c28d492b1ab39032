/*
 * gateway_subjects: a binding's subject is checked with the service that
 * owns it before the binding is granted or offered: an organisation with
 * intake (intake.organisation.get.v1), an expert or an agency with
 * evaluation's registers (evaluation.expert.get.v1, evaluation.agency.get.v1),
 * a district against the code table (ccip_district_check). The gateway asks
 * as a service (no person's role), through this thread's bus client.
 */
#ifndef GATEWAY_SUBJECTS_H
#define GATEWAY_SUBJECTS_H

#include <stddef.h>

#include "gateway.h"
#include "gateway_bindings.h"

/* Results of gateway_subject_exists. */
#define GATEWAY_SUBJECT_OK          0
#define GATEWAY_SUBJECT_UNKNOWN     1  /* the owner says it does not exist: err says so */
#define GATEWAY_SUBJECT_UNAVAILABLE -1 /* no answer, or an unexpected one: err says why */

/* Asks the owning service whether subject exists (kinds without a subject,
 * and districts, are answered here). Returns one of the above. */
int gateway_subject_exists(gateway_runtime *rt, const gateway_kind_info *k, const char *subject,
                           char *err, size_t errlen);

#endif
