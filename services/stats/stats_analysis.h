/*
 * stats_analysis: the quarterly analysis of the accepted reports.
 *
 * For every indicator of the quarter's catalogue version, one row for all
 * entries, one per district and one per cluster category: the sum of the
 * accepted values, how many entries it covers (`reporting`) against how
 * many were asked (`expected`), and whether that is all of them
 * (`complete`). A partial sum is never passed off as the quarter's: the
 * row says it is incomplete, the mean divides by the entries that
 * reported, and growth is like for like, over the panel of entries with
 * accepted values in both quarters (quarter on quarter, and year on year
 * against the same quarter a year before). Districts and categories are
 * ranked by value within each indicator.
 *
 * Growth and means are integer arithmetic (basis points, rounded half away
 * from zero): the pure helpers below are unit-tested.
 */
#ifndef STATS_ANALYSIS_H
#define STATS_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"

/* Growth from base to now in basis points (12.34 % = 1234), rounded half
 * away from zero. Returns 0 and sets *bp, or -1 (bp untouched) when base
 * is not positive: growth from nothing, or from a loss, means nothing. No
 * overflow for any int64 arguments (a result beyond int64 is clamped). */
int stats_growth_bp(int64_t base, int64_t now, int64_t *bp);

/* sum / n rounded half away from zero; 0 when n is 0. */
int64_t stats_mean(int64_t sum, uint32_t n);

/* Competition ranking ("1, 1, 3") of values[0..n) from the largest down.
 * Entries with eligible[i] == 0 get rank 0 and do not take a place. */
void stats_rank(const int64_t *values, const int *eligible, size_t n, uint32_t *ranks);

/* stats.analysis.get.v1 */
int stats_analysis_cmd(ccip_command *cmd, ccip_arena *a, void *request);

/* Builds the analysis of `quarter` into *out, allocated from the arena
 * `arena` (a ccip_arena; the reply lives as long as it). Used by the
 * command and by the releases. Returns 0, CCIP_REPLIED or a ccip_db_rc. */
struct ccip_arena;
int stats_analysis_build(ccip_command *cmd, const char *quarter, struct ccip_arena *arena,
                         Ccip__Stats__AnalysisReply **out);

#endif
