/*
 * casefile: every case followed across every service (issue 19; messages
 * in proto/ccip/casefile.proto, tables in sql/0001_casefile.sql).
 *
 * A case is everything the platform does about one application, from
 * intake through evaluation, funding, the quarterly statistics of the
 * cluster it became and the works its project registered; its root id is
 * the application's id (common/ccip_command.h, "cases"). casefile consumes
 * the streams of intake, evaluation, funding, ip and stats and keeps each
 * case's timeline, the latest state of its objects for the dossier, and a
 * search over cases. It writes nothing else and emits nothing.
 *
 * The service is casefile_def (casefile.c) run by ccip_service_main:
 *
 *   casefile_steps.c  what each consumed event says as a step (pure)
 *   casefile_store.c  the consumer: steps, cases, applications, objects
 *   casefile_cases.c  the reads: a case, the dossier, the search
 *
 * Who reads what: staff, admin, the office and other services whole cases;
 * an applicant (role "applicant", actor "org:<unified social credit
 * code>", the convention of intake) only its own cases and only what
 * intake's applicant view shows of them.
 */
#ifndef CASEFILE_H
#define CASEFILE_H

#include "ccip_service.h"

/* The service. */
extern const ccip_service_def casefile_def;

/* Roles: whole cases; and every reader (an applicant its own). */
extern const char *const casefile_roles_staff[];
extern const char *const casefile_roles_readers[];

/* Prefix of an applicant's actor id. */
#define CASEFILE_ORG_PREFIX "org:"

#endif
