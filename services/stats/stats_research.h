/*
 * stats_research: commissioned research on the industry (issue 20; the
 * center's duty to "organise and coordinate the research work on major
 * issues").
 *
 * An analyst commissions a study (stats.research.commission.v1): a topic,
 * the research body (an organisation of intake's register, "org:<USCC>",
 * or a municipal department, "dept:<code>"), the deliverables with their
 * due dates, and the survey whose data it uses, if any. The body delivers
 * each deliverable as a document (stats.research.deliver.v1; again after a
 * return); the analyst approves or returns each with a note
 * (stats.research.review.v1), and accepts the study once every deliverable
 * is approved (stats.research.accept.v1). Every step is kept in
 * research_history with the document's SHA-256, and announced as a
 * stats.research.*.v1 event for the inbox.
 *
 * Readers: analysts, staff and admin read every task; a research body its
 * own (as role operator, applicant or department with its actor id).
 */
#ifndef STATS_RESEARCH_H
#define STATS_RESEARCH_H

#include "stats.h"

int stats_research_commission_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_research_deliver_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_research_review_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_research_accept_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_research_get_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_research_list_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_research_document_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
