/*
 * ip: the registry and trading platform of intellectual property (issue 8;
 * messages in proto/ccip/ip.proto, which lists every command, its roles and
 * every event).
 *
 * The service is ip_def (ip.c) run by ccip_service_main. Its handlers live
 * with their concept:
 *
 *   ip_register.c    registration, a batch at a time (serial, chain, receipt,
 *                    originality; how the chain is kept from being the
 *                    bottleneck is in ip_register.h)
 *   ip_works.c       reading works and the chain, the review of near-duplicates
 *   ip_trades.c      listings, offers, contracts, settlement
 *   ip_disputes.c    complaints, answers, rulings; an upheld one freezes a work
 *                    until staff lift the freeze (appeal, settlement)
 *   ip_providers.c   the directory of service providers and their requests
 *   ip_anchors.c     the hourly anchors of every producer's event chain
 * and the pure parts, shared with ccipctl and unit-tested on their own:
 *   ip_chain.c       canonical encoding and hash chain (the encoding is in ip_chain.h)
 *   ip_receipts.c    signed receipts: text format, sign, verify
 *   ip_keys.c        the Ed25519 signing key files
 *   ip_signer.c      the service's signing key, kept in memory
 *   ip_similarity.c  MinHash signatures of text
 *   ip_validate.c    field checks, territories and terms
 *   ip_pg.c          PostgreSQL array and bytea text forms
 *
 * Who may do what: an organisation's (or person's) users act with role
 * "owner" or "applicant" and the trusted actor id "org:<USCC>" or
 * "person:<id>", which is the party they act for; staff and admin act for
 * the center; other services (role "service") only read. The handler table
 * refuses other roles; each handler then checks the party (a listing by a
 * current owner, an acceptance by the listing's seller, ...).
 *
 * The signing key. The service reads its Ed25519 key from
 * `ip.signing_key_file` (CCIP_IP_SIGNING_KEY_FILE) at start-up (and refuses
 * to start when it is missing or broken) and keeps it in memory (ip_signer.h: one process-wide
 * copy, locked in memory where allowed); every batch of registrations checks the file's identity
 * and modification time and re-reads it when it changed, so a rotated key
 * still takes effect without a restart. It never makes a key itself: a key
 * made by whichever replica starts first would race with the others (two
 * keys, half the receipts unverifiable with the published one) and could
 * vanish with a container. `ccipctl ip keygen` makes the pair; the operator
 * keeps the .key secret and publishes the .pub.
 *
 * Handlers keep no state between commands (the signing key aside) and may
 * run on any thread.
 */
#ifndef IP_H
#define IP_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "ccip/ip.pb-c.h"
#include "ccip_arena.h"
#include "ccip_envelope.h"
#include "ccip_row.h"
#include "ccip_service.h"
#include "ccip_validate.h"
#include "ip_validate.h"

/* ip.max_content_bytes: default and the most the setting accepts. */
#define IP_MAX_CONTENT_DEFAULT (1024 * 1024)
#define IP_MAX_CONTENT_LIMIT   (16 * 1024 * 1024)
/* Room a registration needs in a message besides the content. */
#define IP_MESSAGE_OVERHEAD (64 * 1024)

/* The service's configuration: the base, then its own settings. */
typedef struct {
    ccip_service_config base;       /* every service's settings; must be first */
    char *signing_key_file;         /* ip.signing_key_file: the Ed25519 .key */
    int64_t max_content_bytes;      /* ip.max_content_bytes: largest content stored */
    int64_t dispute_answer_seconds; /* ip.dispute_answer_seconds: respondent's window */
    int64_t anchor_seconds;         /* ip.anchor_seconds: period of the event chains' anchors */
    char *anchor_producers;         /* ip.anchor_producers: whose heads, comma-separated */
} ip_config;

extern const ccip_service_def ip_def;

/* Roles of the handler table (NULL-terminated). */
extern const char *const ip_roles_staff[];    /* staff, admin */
extern const char *const ip_roles_owner[];    /* owner */
extern const char *const ip_roles_party[];    /* owner, applicant */
extern const char *const ip_roles_register[]; /* owner, applicant, staff, admin */
extern const char *const ip_roles_settle[];   /* owner, staff, admin */
extern const char *const ip_roles_chain[];    /* staff, admin, service */
extern const char *const ip_roles_readers[];  /* all of the above */

/* The service's configuration. */
const ip_config *ip_config_get(const ccip_command *cmd);

/* The party the caller acts for, into party (IP_PARTY_MAX + 1 bytes): for
 * roles owner and applicant the actor id, which must be a valid party
 * (otherwise PERMISSION_DENIED and CCIP_REPLIED); "" for other roles. */
int ip_actor_party(ccip_command *cmd, char *party);

/* ---- reading rows ---------------------------------------------------------- */

/* Runs stmt with the one parameter id and expects exactly one row. Returns
 * 0 with the row in *res (the caller PQclears it), CCIP_REPLIED with
 * NOT_FOUND "no <noun> <id> exists", or a negative ccip_db_rc. */
int ip_read_row(ccip_command *cmd, const ccip_db_stmt *stmt, const char *noun, const char *id,
                PGresult **res);

/* How rows of one kind of object (listing, offer, dispute, ...) become its
 * messages, for ip_read_one and ip_read_all. */
typedef struct {
    const char *noun; /* "listing", as sentences name it */
    size_t size;      /* sizeof its message */
    /* Fills msg (size bytes) from row `row` of res, strings from a.
     * Returns 0, or -1 when memory ran out or the row is malformed. */
    int (*fill)(ccip_arena *a, const PGresult *res, int row, void *msg);
} ip_rows;

/* Reads the one row stmt returns for id as a message of `kind`, allocated
 * from a. Returns it, or NULL with *rc set to CCIP_REPLIED (NOT_FOUND as
 * ip_read_row, or INTERNAL "could not read <noun> <id>") or to a negative
 * ccip_db_rc. */
void *ip_read_one(ccip_command *cmd, ccip_arena *a, const ccip_db_stmt *stmt, const ip_rows *kind,
                  const char *id, int *rc);

/* Every row of res as a message of `kind`: an array (from a) of *n
 * pointers, to assign to a reply's repeated field. Returns NULL when memory
 * ran out or a row is malformed. */
void *ip_read_all(ccip_arena *a, const PGresult *res, const ip_rows *kind, size_t *n);

/* Rows a list command returns unless asked (limit 0), and at most. */
#define IP_LIST_DEFAULT 100
#define IP_LIST_MAX     500

/* The limit a list command asked for as the text of its SQL parameter:
 * IP_LIST_DEFAULT for 0, IP_LIST_MAX for more than that. Returns buf. */
const char *ip_list_limit(uint32_t asked, char buf[24]);

/* Runs stmt (nparams values v) and reads every row as a message of `kind`,
 * as ip_read_all: for a list command's reply. Returns the array, or NULL
 * with *rc a negative ccip_db_rc or CCIP_REPLIED (INTERNAL "could not read
 * the <noun>s"). */
void *ip_read_list(ccip_command *cmd, ccip_arena *a, const ccip_db_stmt *stmt, int nparams,
                   const char *const *v, const ip_rows *kind, size_t *n, int *rc);

/* The work that the object `noun` `id` belongs to (stmt reads its work_id
 * by id), into work_id, after checking that id (field `field`) is a UUID:
 * so that the work's row can be locked before the object's own (lock
 * order: the work, then the rest). Returns 0, CCIP_REPLIED
 * (INVALID_ARGUMENT, NOT_FOUND) or a negative ccip_db_rc. */
int ip_work_of(ccip_command *cmd, const ccip_db_stmt *stmt, const char *field, const char *noun,
               const char *id, char work_id[40]);

/* 1 when party is one of the current owners of work_id (row lock not
 * taken). Returns 1, 0, or a negative ccip_db_rc. */
int ip_is_owner(ccip_command *cmd, const char *work_id, const char *party);

#endif
