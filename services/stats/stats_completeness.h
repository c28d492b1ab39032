/*
 * stats_completeness: completeness and timeliness of a quarter, by
 * district (DHIS2's "reporting rate" and "reporting rate on time").
 *
 * Expected: the roster entries asked to report for the quarter. An entry
 * reported on time when its report was first submitted by the due time
 * (stats.due_days after the quarter's end), late when after it, and not at
 * all (missing) when it was never submitted; a draft does not count, and a
 * report returned and submitted again keeps its first submission time.
 */
#ifndef STATS_COMPLETENESS_H
#define STATS_COMPLETENESS_H

#include "stats.h"

/* stats.completeness.get.v1 */
int stats_completeness_cmd(ccip_command *cmd, ccip_arena *a, void *request);

/* Basis points of part in whole (0 when whole is 0), rounded half up. */
uint32_t stats_rate_bp(uint32_t part, uint32_t whole);

#endif
