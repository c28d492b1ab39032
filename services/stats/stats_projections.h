/*
 * stats_projections: indicators computed from the other services' events.
 *
 * Consumers of intake's, evaluation's, funding's and ip's streams keep fact
 * tables (sql/0001_stats.sql, ev_*): one row
 * per organisation, application, work, trade or upheld dispute. Every write
 * is commutative (the earliest time wins; for an organisation the highest
 * position), so the tables end the same whatever order the streams were
 * applied in relative to each other. The indicators per quarter, district
 * and kind are grouped from the facts when read (stats.indicators.get.v1):
 *
 *   applications_submitted  first submissions (intake.application.submitted.v1),
 *                           district: the application's once it is
 *                           accepted, else its organisation's
 *   applications_accepted   intake.application.accepted.v1, its district
 *   ip_registrations        ip.work.registered.v1, district of the first
 *                           organisation owner (from its credit code)
 *   ip_trades, ip_trade_value_fen  ip.trade.settled.v1, the seller's district
 *   disputes_upheld         ip.dispute.upheld.v1
 *   applications_approved, applications_declined, approval_rate_bp
 *                           evaluation.decision.made.v1 (final decisions)
 *   awards_committed_fen    funding.award.granted.v1
 *   disbursed_fen           funding.disbursement.paid.v1
 *   clawed_back_fen         funding.clawback.ordered.v1
 * Decisions and funds are attributed to the application's district and
 * kind, joined when read (so it does not matter which stream came first),
 * or to the district of the applicant's credit code.
 *
 * Rebuild (stats.projections.rebuild.v1, admin): in one transaction, locks
 * every consumer cursor row (the consumers wait), empties the fact tables,
 * replays each producer's stream from position 1 up to the stored cursor
 * through the broker (ccip.replay.v1), applying the events with the same
 * function the consumers use, and commits: the tables then hold exactly
 * what the events up to the cursors give, and the consumers go on from
 * their cursors. A producer that no longer has its first events (outbox
 * retention) makes the rebuild fail with nothing changed.
 *
 * Why not "reset the cursors to 0 and let the consumers replay": a running
 * ccip_consumer never moves its cursor back (it takes a lower stored cursor
 * for a duplicate), so it would stop applying events until the service
 * restarts.
 */
#ifndef STATS_PROJECTIONS_H
#define STATS_PROJECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"

/* What one event contributes. */
typedef enum {
    STATS_FACT_NONE = 0,
    STATS_FACT_ORG,       /* an organisation's district */
    STATS_FACT_SUBMITTED, /* an application submitted */
    STATS_FACT_ACCEPTED,  /* an application accepted */
    STATS_FACT_WORK,      /* a work registered */
    STATS_FACT_TRADE,     /* a trade settled */
    STATS_FACT_DISPUTE,   /* a dispute upheld */
    STATS_FACT_DECISION,  /* a final decision on an application */
    STATS_FACT_AWARD,     /* an award committed */
    STATS_FACT_PAYMENT,   /* a tranche paid */
    STATS_FACT_CLAWBACK,  /* a clawback ordered */
    STATS_FACT_KINDS,     /* number of kinds */
} stats_fact_kind;

/* One fact, as decoded from one event (no database needed). */
typedef struct {
    stats_fact_kind kind;
    char id[72];       /* the aggregate: USCC, application, work, contract or dispute id */
    char ref[72];      /* applications: applicant USCC; trades and disputes: the work id;
                          decisions and funds: the application id */
    char type[40];     /* call kind or work kind */
    char status[16];   /* decisions: APPROVED or DECLINED */
    char district[8];  /* the fact's district ("" when the event does not tell) */
    char ud[8];        /* the district in the applicant's or grantee's credit code */
    char quarter[8];   /* quarter of `at_us`, Beijing time */
    int64_t at_us;     /* when it happened */
    int64_t amount;    /* trades: price in fen */
    uint64_t position; /* the event's position in its producer's stream */
} stats_fact;

/* Decodes ev into *f. Returns 1 when the event feeds a projection, 0 when
 * it does not (*why "" : a type no projection uses) or is malformed (*why
 * says what is wrong, for a warning; the event is skipped). */
int stats_fact_from_event(const Ccip__Envelope *ev, stats_fact *f, char *why, size_t whylen);

/* The Beijing district whose code is characters 3-8 of a unified social
 * credit code, or "" (not a Beijing district or not a code). */
void stats_uscc_district(const char *uscc, char out[8]);

/* Applies facts[0..n), in any order, with one statement per kind present.
 * Returns 0 or a ccip_db_rc (CCIP_DB_ERROR also when memory ran out). */
int stats_facts_apply(ccip_db *db, const stats_fact *facts, size_t n);

/* Consumer handler (ccip_consumer_apply_fn) of every event type above:
 * applies its fact inside the consumer's transaction. Events that carry no
 * usable fact are logged and skipped. */
int stats_projection_apply_event(ccip_db *db, const Ccip__Envelope *ev, void *arg);

/* stats.indicators.get.v1, stats.projections.rebuild.v1, .checksum.v1. */
int stats_indicators_cmd(ccip_command *cmd);
int stats_rebuild_cmd(ccip_command *cmd);
int stats_checksum_cmd(ccip_command *cmd);

#endif
