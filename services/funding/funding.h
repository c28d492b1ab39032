/*
 * funding: the special funds (issue 6; messages in proto/ccip/funding.proto).
 * Programmes and their annual budgets, a double-entry ledger, awards to
 * approved projects, payment in tranches with four-eyes approval,
 * use-of-funds reports, follow-up inspection, suspension and clawback.
 *
 * The service is funding_def (funding.c) run by ccip_service_main. Its
 * handlers live with their concept:
 *
 *   funding_programmes.c   programmes, their tranche plans, budgets per year
 *                          (and category), closing a year
 *   funding_ledger.c       the journal: posting balanced entries, listing
 *                          them, verifying every balance against them
 *   funding_awards.c       awards: proposed from evaluation's decisions,
 *                          signed, suspended, resumed, terminated; ip
 *                          disputes holding them
 *   funding_confirm.c      confirming awards (budget committed, tranches
 *                          planned), a batch of them at once
 *   funding_tranches.c     the tranche split, conditions, payment requests
 *                          and their (four-eyes) approval
 *   funding_reports.c      the grantee's use-of-funds reports
 *   funding_inspections.c  inspections, misuse, clawbacks and recoveries
 *   funding_summary.c      staff reports per programme-year
 *
 * Who may do what: staff (and admin) run the programmes, budgets and
 * awards; finance (and admin) approve payments; a grantee acts for one
 * organisation, named by its trusted actor id "org:<unified social credit
 * code>", and only reads its own awards and files their reports; other
 * services (role "service") only read.
 *
 * Money is ccip_fen (int64 fen) everywhere. Handlers keep no state between
 * commands and may run on any worker thread.
 */
#ifndef FUNDING_H
#define FUNDING_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/funding.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_row.h"
#include "ccip_service.h"
#include "ccip_validate.h"
#include "ccip_arena.h"

/* The largest amount any command accepts: 10^15 fen (10 trillion yuan), so
 * that sums of many amounts never overflow an int64. */
#define FUNDING_AMOUNT_MAX 1000000000000000LL

/* funding.four_eyes_above_fen: payments above it need two approvers. */
#define FUNDING_FOUR_EYES_DEFAULT "100000000" /* 1,000,000.00 yuan */

/* Prefix of a grantee's actor id: "org:91110105MA01ABCD2X". */
#define FUNDING_ORG_ACTOR_PREFIX "org:"

/* Lengths of texts (characters). */
#define FUNDING_NAME_MAX   200
#define FUNDING_DESC_MAX   2000
#define FUNDING_REASON_MAX 500
#define FUNDING_CODE_MAX   32
#define FUNDING_TEXT_MAX   10000

/* The service's configuration: the base, then its own settings. */
typedef struct {
    ccip_service_config base;    /* every service's settings; must be first */
    int64_t four_eyes_above_fen; /* funding.four_eyes_above_fen */
} funding_config;

extern const ccip_service_def funding_def;

/* Roles of the handler table (NULL-terminated). */
extern const char *const funding_roles_staff[];   /* staff, admin */
extern const char *const funding_roles_finance[]; /* finance, admin */
extern const char *const funding_roles_money[];   /* staff, admin, finance */
extern const char *const funding_roles_readers[]; /* staff, admin, finance, service */
extern const char *const funding_roles_awards[];  /* readers and grantee */
extern const char *const funding_roles_grantee[]; /* grantee */

/* The replica's configuration. */
const funding_config *funding_config_get(const ccip_command *cmd);

/* When the caller acts as "grantee", writes the USCC of its organisation
 * (from the actor id "org:<USCC>") into uscc and returns 0. A caller in
 * another role gets uscc "" and 0. A grantee whose actor id is not "org:"
 * followed by a valid code gets PERMISSION_DENIED and CCIP_REPLIED. */
int funding_actor_org(ccip_command *cmd, char uscc[CCIP_USCC_LEN + 1]);

/* Checks that the caller may see or act on something of organisation
 * `uscc`: anyone but a grantee may; a grantee only for its own
 * organisation. Returns 0, or CCIP_REPLIED with PERMISSION_DENIED naming
 * `what` ("award 0193..."). */
int funding_check_grantee(ccip_command *cmd, const char *uscc, const char *what);

/* Checks an amount: 1..FUNDING_AMOUNT_MAX fen (0 too when zero_ok).
 * Returns 0 or CCIP_REPLIED with INVALID_ARGUMENT naming the field, the
 * value in yuan and fen, and the fix. */
int funding_check_amount(ccip_command *cmd, const char *field, int64_t fen, int zero_ok);

/* Checks a year: 2000..2100. Returns 0 or CCIP_REPLIED. */
int funding_check_year(ccip_command *cmd, const char *field, int32_t year);

/* Writes fen as yuan ("1234.56") into buf (CCIP_FEN_STRLEN + 1 bytes). */
void funding_yuan(int64_t fen, char *buf, size_t len);

#endif
