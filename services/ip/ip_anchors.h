/*
 * ip_anchors: the hourly anchors of the event chains (issue 19).
 *
 * Every producer's event stream is a hash chain (common/ccip_chain.h), which
 * catches an altered, deleted or reordered event, but not a chain that was
 * rewritten end to end with valid hashes by someone holding the producer's
 * database. So every ip.anchor_seconds (an hour) ip registers each
 * producer's head (position, chain hash) as a work of kind AUDIT_ANCHOR in
 * its own registration chain, with a signed receipt: a record that the
 * producer's database cannot reach. `ccipctl audit verify` then checks that
 * the recomputed chain has the anchored hash at every anchored position.
 *
 * WHO ISSUES IT. ip pulls: ip.anchor.run.v1 is ip's own ccip_schedule (one
 * effect per period, whichever replicas run it), and asks each producer
 * named in ip.anchor_producers for its head with ccip.ping.v1, which
 * every service answers with its outbox head and that head's hash (read
 * from one row of outbox_state). So no producer needs a bus client or a
 * schedule of its own, a producer cannot skip its anchor, and ip learns
 * nothing of the events' contents (it is no consumer of those streams).
 * ip's own head is read from its own outbox_state in the command's
 * transaction.
 *
 * A producer that does not answer within ANCHOR_ASK_TIMEOUT_MS, has
 * published nothing yet, or whose head is anchored already is skipped and
 * named in the reply (and the log); the next period tries again.
 *
 * An anchor's content (the bytes its content_sha256 is over) is the text
 *   ccip.audit.anchor.v1\n
 *   producer: intake\n
 *   position: 812\n
 *   hash: <64 hex>\n
 *   period_start: <UTC seconds>\n
 * and its one owner is the party "system:audit", which nobody can act for,
 * so an anchor can be neither traded nor disputed.
 */
#ifndef IP_ANCHORS_H
#define IP_ANCHORS_H

#include "ip.h"

/* Party that owns every anchor. */
#define IP_ANCHOR_OWNER "system:audit"

/* How long one producer may take to answer ccip.ping.v1 (one attempt). */
#define ANCHOR_ASK_TIMEOUT_MS 2000

/* ip.anchor.run.v1: registers the heads of ip.anchor_producers. */
int ip_anchor_run(ccip_command *cmd, ccip_arena *a, void *request);

/* ip.anchor.list.v1: one producer's anchors in period order, from
 * after_period_start_s on, at most ANCHOR_LIST_MAX. */
int ip_anchor_list(ccip_command *cmd, ccip_arena *a, void *request);

/* Anchors a list reply holds (with receipts of ~400 bytes: well under the
 * 4 MiB message limit). */
#define ANCHOR_LIST_MAX 2000

#endif
