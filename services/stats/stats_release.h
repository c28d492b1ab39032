/*
 * stats_release: the quarterly bulletin, released with a licence, in
 * versions, under an embargo.
 *
 * An analyst publishes a release of a quarter (stats.release.publish.v1):
 * the service builds it from the analysis of that moment (stats_analysis)
 * as a short text summary, an HTML bulletin with SVG charts drawn here (no
 * browser needed), CSV files of every table and the whole analysis as JSON,
 * and stores it as the next version of that quarter's release. A correction
 * is a new version with a change note; earlier versions stay readable.
 *
 * Embargo: until embargo_until nothing of a release (not its existence,
 * title or files) can be read by anyone without the analyst role, through
 * get or list or search: the condition is in every query. After it, anyone
 * may read it. The event stats.release.published.v1 carries only metadata.
 */
#ifndef STATS_RELEASE_H
#define STATS_RELEASE_H

#include "stats.h"

int stats_release_publish_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_release_get_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_release_list_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
