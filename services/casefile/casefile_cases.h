/*
 * casefile_cases: the reads of casefile (proto/ccip/casefile.proto).
 *
 *   casefile.case.get.v1      a case: its summary and timeline (staff, the
 *                             office, services), or the applicant's view of
 *                             it (an applicant, its own cases only)
 *   casefile.case.search.v1   cases matching text (pg_trgm: any fragment of
 *                             a title, the applicant's name or credit code,
 *                             Chinese included), applicant, district, state
 *                             and kind, latest change first
 *   casefile.case.dossier.v1  every object of a case as its service last
 *                             published it, and the timeline (not for
 *                             applicants)
 *
 * A case is named by its root id or by the id of any of its applications.
 * An applicant asking for another organisation's case is told there is no
 * such case among its own, and learns nothing of it.
 */
#ifndef CASEFILE_CASES_H
#define CASEFILE_CASES_H

#include "ccip_command.h"

#define CASEFILE_SEARCH_DEFAULT  50    /* cases a search returns unless it says */
#define CASEFILE_SEARCH_MAX      500   /* at most */
#define CASEFILE_TEXT_MAX        100   /* characters of a search text */
#define CASEFILE_TIMELINE_MAX    10000 /* steps a reply carries, oldest first */
#define CASEFILE_DOSSIER_OBJECTS 2000  /* objects a dossier carries */

/* Handlers (ccip_command_fn): each returns 0, CCIP_REPLIED or a
 * ccip_db_rc. */
int casefile_case_get(ccip_command *cmd, ccip_arena *a, void *request);
int casefile_case_search(ccip_command *cmd, ccip_arena *a, void *request);
int casefile_case_dossier(ccip_command *cmd, ccip_arena *a, void *request);

#endif
