/*
 * stats_projections: indicators computed from the other services' events.
 *
 * Consumers of intake's, evaluation's, funding's and ip's streams turn each
 * event into a fact (stats_facts.h) and keep it in a fact table
 * (sql/0001_stats.sql, ev_*): one row per organisation, application, work,
 * trade or upheld dispute. Every write is commutative (the earliest time
 * wins; for an organisation the highest position), so the tables end the
 * same whatever order the streams were applied in relative to each other,
 * and a rebuild (stats_rebuild.h) that applies thousands of facts at once
 * ends where the consumers applying them one by one would. The indicators
 * per quarter, district and kind are grouped from the facts when read
 * (stats.indicators.get.v1):
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
 */
#ifndef STATS_PROJECTIONS_H
#define STATS_PROJECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"
#include "stats_facts.h"

/* Length of a checksum's text (an md5 in hex) with its NUL. */
#define STATS_CHECKSUM_LEN 40

/* Applies facts[0..n), in any order, with one statement per kind present,
 * on db (inside the caller's transaction). Returns 0 or a ccip_db_rc
 * (CCIP_DB_ERROR also when memory ran out); on failure the caller rolls
 * back. */
int stats_projections_apply(ccip_db *db, const stats_fact *facts, size_t n);

/* Consumer handler (ccip_consumer_apply_fn) of every event type of
 * stats_facts.h: applies its fact inside the consumer's transaction.
 * Events that carry no usable fact are logged (warn) and skipped: returns
 * 0 for them. Otherwise returns what stats_projections_apply returned. */
int stats_projections_apply_event(ccip_db *db, const Ccip__Envelope *ev, void *arg);

/* Empties every fact table (TRUNCATE, inside the caller's transaction).
 * Returns 0 or a ccip_db_rc. */
int stats_projections_clear(ccip_db *db);

/* Writes the md5 of every row of every fact table, in a fixed order (equal
 * checksums mean equal tables), into sum, and their number into *rows.
 * Returns 0 or a ccip_db_rc (sum and *rows are then untouched). */
int stats_projections_checksum(ccip_db *db, char sum[STATS_CHECKSUM_LEN], uint64_t *rows);

/* stats.indicators.get.v1 and stats.projections.checksum.v1. */
int stats_indicators_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_checksum_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
