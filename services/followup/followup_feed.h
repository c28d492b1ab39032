/*
 * followup_feed: what other services publish that a key project's record
 * shows, kept in followup's own tables by its consumers (one transaction
 * per event with the consumer's cursor: each event applied once).
 *
 *   funding     awards (granted, signed, suspended, resumed, terminated,
 *               completed), tranches paid, inspection findings, clawbacks
 *   evaluation  designations of clusters (granted, revoked)
 *   ip          works registered, with the parties they were registered for
 *
 * Kept for every award, designation and work, followed or not, so that a
 * project registered later shows them at once. An event that changes an
 * award or designation some active project follows also emits
 * followup.project.source_changed.v1 with the project's state after it
 * (a suspension or a clawback makes it AT_RISK). A malformed event is
 * logged and skipped (the stream goes on): its producer checked it already.
 */
#ifndef FOLLOWUP_FEED_H
#define FOLLOWUP_FEED_H

#include "followup.h"

#define FOLLOWUP_FEED_NSUBSCRIPTIONS 3

/* The service definition's subscriptions: funding, evaluation, ip. */
extern const ccip_subscription followup_feed_subscriptions[FOLLOWUP_FEED_NSUBSCRIPTIONS];

#endif
