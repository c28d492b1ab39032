/*
 * ip_works: everything read from the registry of works, and the review of
 * near-duplicates.
 *
 *   ip.work.get.v1, ip.work.list.v1, ip.key.get.v1, ip.chain.read.v1,
 *   ip.review.list.v1, ip.review.resolve.v1
 * (ip.work.register.v1 is in ip_register.h)
 *
 * Handlers follow ccip_command_fn; see ip.h for roles.
 */
#ifndef IP_WORKS_H
#define IP_WORKS_H

#include "ip.h"

int ip_work_get(ccip_command *cmd, ccip_arena *a, void *request);
int ip_work_list(ccip_command *cmd, ccip_arena *a, void *request);
int ip_key_get(ccip_command *cmd, ccip_arena *a, void *request);
int ip_chain_read(ccip_command *cmd, ccip_arena *a, void *request);
int ip_review_list(ccip_command *cmd, ccip_arena *a, void *request);
int ip_review_resolve(ccip_command *cmd, ccip_arena *a, void *request);

/* Reads work id (with its receipt and near-duplicates) into reply, for a
 * registration that returns an earlier one. Returns 0, CCIP_REPLIED
 * (NOT_FOUND) or a negative ccip_db_rc. */
int ip_work_load(ccip_command *cmd, ccip_arena *a, const char *id, Ccip__Ip__WorkReply *reply);

/* What trades and disputes need to know of a work, read under its row lock
 * (SELECT ... FOR UPDATE): everything that changes a work's owners, freeze
 * or licences locks the work row first, so such changes are serialised per
 * work while different works proceed in parallel. */
typedef struct {
    char id[40];
    uint64_t serial;
    char title[IP_TITLE_MAX * 4 + 1];
    int frozen;         /* an upheld dispute froze it */
    char frozen_by[40]; /* that dispute */
} ip_work_state;

/* Locks work_id's row and reads its state. Returns 0; CCIP_REPLIED with
 * INVALID_ARGUMENT (not a UUID) or NOT_FOUND; or a negative ccip_db_rc. */
int ip_work_lock(ccip_command *cmd, const char *work_id, ip_work_state *w);

/* Sets FAILED_PRECONDITION saying the work is frozen and cannot be traded
 * (`what`: "listed", "offered for", ...). Returns CCIP_REPLIED. */
int ip_work_frozen_fail(ccip_command *cmd, const ip_work_state *w, const char *what);

/* The current owners of work_id (sorted by party), arena-owned. Returns 0
 * or a negative ccip_db_rc. */
int ip_work_owners(ccip_command *cmd, ccip_arena *a, const char *work_id, Ccip__Ip__Owner ***owners,
                   size_t *n);

#endif
