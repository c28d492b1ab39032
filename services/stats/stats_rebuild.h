/*
 * stats_rebuild: stats.projections.rebuild.v1 (admin), the event-derived
 * tables (stats_projections.h) made again from the streams.
 *
 * In one transaction it locks the consumer cursor rows of every producer
 * stats subscribes to (the consumers wait), empties the fact tables,
 * replays each producer's stream from position 1 up to its stored cursor
 * through the broker (ccip_replay.h), turning the events into facts with
 * the function the consumers use (stats_fact_from_event) and applying them
 * a batch at a time, and commits: the tables then hold exactly what the
 * events up to the cursors give, and the consumers go on from their
 * cursors. The reply names the cursors replayed up to and the checksums
 * (stats_projections_checksum) before and after: equal when the tables
 * were right.
 *
 * Refused, with nothing changed: a producer that no longer has its first
 * events (outbox retention; FAILED_PRECONDITION), whose stream ends before
 * the cursor (FAILED_PRECONDITION), that does not answer (UNAVAILABLE) or
 * that skips a position (INTERNAL).
 *
 * Why not "reset the cursors to 0 and let the consumers replay": a running
 * consumer follows a cursor moved back, but while it replays the tables
 * are half made and readers see wrong indicators; a rebuild is one commit.
 */
#ifndef STATS_REBUILD_H
#define STATS_REBUILD_H

#include "stats.h"

/* stats.projections.rebuild.v1: RebuildRequest -> RebuildReply. */
int stats_rebuild_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
