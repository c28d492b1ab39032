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
 *
 * Surveys attached to the quarter (stats_survey_results.h) are sections of
 * the bulletin with their charts, a line of the summary each, and the
 * files surveys.csv and surveys.json; the release records them
 * (release_survey), and their results become public with it, when its
 * embargo ends.
 */
#ifndef STATS_RELEASE_H
#define STATS_RELEASE_H

#include "stats.h"

#include "ccip_text.h"

/* Text escaping the release's files and the survey sections share: for
 * HTML and XML (SVG), a CSV field (quoted when it holds a comma, quote or
 * line break), a JSON string with its quotes. */
void stats_release_xml(ccip_text *t, const char *s);
void stats_release_csv(ccip_text *t, const char *s);
void stats_release_json(ccip_text *t, const char *s);

int stats_release_publish_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_release_get_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_release_list_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
