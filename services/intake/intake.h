/*
 * intake: where every outside party first meets the center. Calls for
 * applications, the register of applicant organisations, applications with
 * their documents, their append-only history and the status the applicant
 * sees (issue 4; messages in proto/ccip/intake.proto).
 *
 * The service is intake_def (intake.c) run by ccip_service_main. Its
 * handlers live with their concept:
 *
 *   intake_calls.c         calls: open, close, get, list
 *   intake_applicants.c    the organisation register: register, verify, get
 *   intake_applications.c  applications: draft, update, submit, withdraw,
 *                          accept, return, reject, get, list
 *   intake_documents.c     documents: add (content de-duplicated by SHA-256),
 *                          remove, get
 *   intake_filing.c        a complete application filed in one command (drafted
 *                          and submitted at once), with a set-based batch handler
 *   intake_history.c       the append-only transition history
 *   intake_view.c          the applicant's status and timeline, fed by intake's
 *                          transitions and by evaluation's and funding's events
 *   intake_validate.c      checks of payloads (pure, unit-tested)
 *
 * Who may do what: staff (and admin) open and close calls, verify
 * organisations, accept, return and reject; an applicant acts for one
 * organisation, named by its trusted actor id "org:<unified social credit
 * code>", and may only draft, edit, submit and withdraw that organisation's
 * applications; other services (role "service") may only read.
 *
 * Handlers keep no state between commands and may run on any thread.
 */
#ifndef INTAKE_H
#define INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/intake.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_row.h"
#include "ccip_service.h"
#include "ccip_validate.h"

/* intake.max_document_bytes: default and the most the setting accepts. */
#define INTAKE_MAX_DOCUMENT_DEFAULT (2 * 1024 * 1024)
#define INTAKE_MAX_DOCUMENT_LIMIT   (32 * 1024 * 1024)
/* Room a document command needs in a message besides the content: the
 * envelope and the document's other fields. */
#define INTAKE_MESSAGE_OVERHEAD (64 * 1024)

/* Prefix of an applicant's actor id: "org:91110105MA01ABCD2X". */
#define INTAKE_ORG_ACTOR_PREFIX "org:"

/* The service's configuration: the base, then its own settings. */
typedef struct {
    ccip_service_config base;    /* every service's settings; must be first */
    int64_t max_document_bytes;  /* intake.max_document_bytes: largest document accepted */
    int64_t close_check_seconds; /* between automatic closings of calls whose window ended */
} intake_config;

extern const ccip_service_def intake_def;

/* Roles of the handler table (NULL-terminated). */
extern const char *const intake_roles_staff[];     /* staff, admin */
extern const char *const intake_roles_applicant[]; /* applicant */
extern const char *const intake_roles_register[];  /* staff, admin, applicant */
extern const char *const intake_roles_readers[];   /* staff, admin, applicant, service */

/* When the caller acts as "applicant", writes the USCC of its organisation
 * (from the actor id "org:<USCC>") into uscc and returns 0. A caller in
 * another role gets uscc "" and 0. An applicant whose actor id is not
 * "org:" followed by a valid code gets PERMISSION_DENIED and CCIP_REPLIED. */
int intake_actor_org(ccip_command *cmd, char uscc[CCIP_USCC_LEN + 1]);

/* Checks that the caller may act for organisation `uscc`: staff, admin and
 * services always may when `staff_may` is set; an applicant only for its own
 * organisation. Returns 0, or CCIP_REPLIED with PERMISSION_DENIED naming
 * `what` ("application 0193..."). */
int intake_check_owner(ccip_command *cmd, const char *uscc, int staff_may, const char *what);

/* The largest document this replica accepts: intake.max_document_bytes,
 * lowered to what fits in one message (limits.max_message_bytes minus
 * INTAKE_MESSAGE_OVERHEAD). *from_message_cap is set to 1 when the message
 * cap is what limits it. */
int64_t intake_max_document_bytes(const ccip_command *cmd, int *from_message_cap);

/* Statuses of an application as stored. */
#define INTAKE_DRAFT     "DRAFT"
#define INTAKE_SUBMITTED "SUBMITTED"
#define INTAKE_ACCEPTED  "ACCEPTED"
#define INTAKE_RETURNED  "RETURNED"
#define INTAKE_REJECTED  "REJECTED"
#define INTAKE_WITHDRAWN "WITHDRAWN"

/* SQL: the statuses of a live application, of which an organisation has at
 * most one per call (a withdrawn or rejected one does not count). */
#define INTAKE_SQL_LIVE_STATUSES "('DRAFT', 'SUBMITTED', 'ACCEPTED', 'RETURNED')"

#endif
