/*
 * intake_readers: who besides the applicant and staff may read an
 * application (table reader, sql/0003_readers.sql): the experts and
 * agencies evaluation assigned to its case, and only while they are.
 *
 * Fed by evaluation's events, consumed exactly once (intake_def subscribes
 * these handlers):
 *   evaluation.assignment.started.v1   the expert (after declaring no
 *                                      conflict) or agency may read
 *   evaluation.assignment.ended.v1     it may no longer: declined, declared
 *                                      a conflict, taken away, superseded
 *   evaluation.application.approved.v1 / .declined.v1
 *                                      the case is decided: nobody reads any
 *                                      more (the applicant's view is updated
 *                                      too, intake_view_apply)
 * A reader sees the application's facts and documents
 * (intake.application.get.v1, intake.document.get.v1) and nothing else:
 * not its internal status, history or the applicant's view, and no list.
 */
#ifndef INTAKE_READERS_H
#define INTAKE_READERS_H

#include "ccip_consumer.h"
#include "intake.h"

/* Prefixes of the actor ids of the roles that read as assigned. */
#define INTAKE_EXPERT_ACTOR_PREFIX "expert:"
#define INTAKE_AGENCY_ACTOR_PREFIX "agency:"

/* 1 when the caller's role is one that reads only what it is assigned to
 * (expert, agency). */
int intake_reader_role(const ccip_command *cmd);

/* Checks that the caller (role expert or agency) may read application
 * app_id now. Returns 0; CCIP_REPLIED with PERMISSION_DENIED naming the
 * caller and the application when it may not; or a ccip_db_rc. */
int intake_reader_check(ccip_command *cmd, const char *app_id);

/* The consumer handlers (ccip_consumer_apply_fn) of the events above.
 * A malformed event, or one about an application intake does not know, is
 * logged and skipped. Return 0 or a ccip_db_rc. */
int intake_readers_apply(ccip_db *db, const Ccip__Envelope *ev, void *arg);
int intake_readers_decided(ccip_db *db, const Ccip__Envelope *ev, void *arg);

#endif
