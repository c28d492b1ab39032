/*
 * stats_roster: the monitoring roster, the designated clusters and talent
 * training bases that report every quarter.
 *
 * The roster is kept from evaluation's designation events, consumed in the
 * consumer's transaction (stats_roster_on_designation):
 * evaluation.designation.granted.v1 puts an identification of a cluster or
 * a talent base on the roster (stats_roster_grant), .revoked.v1 takes it off
 * (stats_roster_revoke). Both are idempotent. Staff only set the category
 * the analysis groups clusters by (stats.roster.categorise.v1), which
 * evaluation does not know.
 *
 * An entry reports from the quarter it became valid in. A revoked entry
 * still reports for the quarter in which it was revoked and is not asked
 * from the next quarter on; its row and its reports stay (history kept),
 * and every change is in roster_history.
 */
#ifndef STATS_ROSTER_H
#define STATS_ROSTER_H

#include "stats.h"

/* A designation to put on the roster. Borrowed strings. */
typedef struct {
    const char *id;               /* designation id, [A-Za-z0-9._-]{1,64} */
    Ccip__Stats__RosterKind kind; /* CLUSTER or TALENT_BASE */
    const char *name;             /* 1..200 characters */
    const char *district_code;    /* GB/T 2260 code of a Beijing district */
    const char *category;         /* "" or a code, for the analysis */
    const char *operator_uscc;    /* the organisation that reports */
    int64_t designated_at_us;     /* when it was designated */
    const char *certificate_no;   /* evaluation's certificate number */
    int64_t valid_until_us;       /* 0 = open-ended (kept for reference) */
    const char *source;           /* "evaluation" */
    const char *actor_id;         /* who designated it */
} stats_designation;

/* One roster entry as stored. */
typedef struct {
    char id[72];
    Ccip__Stats__RosterKind kind;
    char name[STATS_NAME_MAX * 4 + 1];
    char district[8];
    char category[48];
    char operator_uscc[CCIP_USCC_LEN + 1];
    int64_t designated_at_us;
    char first_quarter[8];
    int64_t revoked_at_us;  /* 0 = active */
    char last_quarter[8];   /* "" = active */
    char expiry_quarter[8]; /* last quarter the designation is valid for, "" = no end */
    char source[16];
    char certificate_no[64];
    char revocation_reason[STATS_REASON_MAX * 4 + 1];
} stats_roster_row;

/* Puts a designation on the roster, inside the caller's transaction, with
 * a GRANTED history row. A designation already there (same id) is left as
 * it is: *created (may be NULL) is then 0, else 1. Arguments are not
 * checked here beyond what the table's constraints refuse. Returns 0 or a
 * ccip_db_rc. */
int stats_roster_grant(ccip_db *db, const stats_designation *d, int *created);

/* Revokes entry `id` as of at_us, inside the caller's transaction: it
 * reports for the quarter of at_us (or its first quarter, when revoked
 * before that began) and no later one. *outcome is 1 when revoked now, 0
 * when it was revoked already (left as it is), -1 when there is no such
 * entry. Returns 0 or a ccip_db_rc. */
int stats_roster_revoke(ccip_db *db, const char *id, int64_t at_us, const char *reason,
                        const char *actor_id, const char *source, int *outcome);

/* Reads entry `id` (FOR SHARE when lock is set) into row. *found is 0 when
 * there is none. Returns 0 or a ccip_db_rc. */
int stats_roster_load(ccip_db *db, const char *id, int lock, stats_roster_row *row, int *found);

/* Locks entry `id` FOR UPDATE until the transaction ends. Accepting and
 * correcting take it, saving takes it FOR SHARE: a value's neighbours
 * (sql/0002_analysis_neighbours.sql) are then never computed from a
 * snapshot that misses a concurrent acceptance. Returns 0 or a ccip_db_rc. */
int stats_roster_lock(ccip_db *db, const char *id);

/* 1 when the entry is asked to report for `quarter` ("2026Q3"). */
int stats_roster_active(const stats_roster_row *row, const char *quarter);

/* 0 when the entry is asked to report for `quarter`; otherwise fails the
 * command FAILED_PRECONDITION with a sentence saying why (designated later,
 * revoked, expired) followed by `then` ("; nothing was saved", or "") and
 * returns CCIP_REPLIED. */
int stats_roster_require_active(ccip_command *cmd, const stats_roster_row *row, const char *quarter,
                                const char *then);

/* Consumer handler of evaluation.designation.granted.v1 and .revoked.v1
 * (ccip_consumer_apply_fn): applies the designation to the roster inside
 * the consumer's transaction. Designations of other kinds, and malformed
 * events, are logged and skipped. */
int stats_roster_on_designation(ccip_db *db, const Ccip__Envelope *ev, void *arg);

/* The commands: stats.roster.categorise.v1 and .list.v1. */
int stats_roster_categorise_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_roster_list_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
