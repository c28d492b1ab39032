/*
 * notify_rebuild: notify.inbox.rebuild.v1 (admin), the inbox made again
 * from the streams, and notify.inbox.checksum.v1.
 *
 * In one transaction it locks the consumer cursor rows of every producer
 * notify subscribes to (the consumers wait), empties what events make
 * (items, settlements, lookups, people and bindings), replays each
 * producer's stream from position 1 up to its stored cursor through the
 * broker (ccip_replay.h), maps the events with the function the consumers
 * use (notify_events_map) onto a batch in rebuild mode, and commits. The
 * deliveries are kept and none is made: nothing is sent again. Their
 * reference to their item is checked at the commit, so a rebuild that
 * would lose an item somebody was told of fails and changes nothing.
 *
 * Refused, with nothing changed, like stats' rebuild: a producer that no
 * longer has its first events (FAILED_PRECONDITION), whose stream ends
 * before the cursor, that does not answer (UNAVAILABLE) or that skips a
 * position (INTERNAL).
 */
#ifndef NOTIFY_REBUILD_H
#define NOTIFY_REBUILD_H

#include "notify.h"

/* Length of a checksum in hex, with its NUL. */
#define NOTIFY_CHECKSUM_LEN 33

/* md5 over every item in id order (id, kind, addressee, service, object,
 * subject, detail, close key, state, times, closer, event) into out, and
 * the number of items. Returns 0 or a ccip_db_rc. */
int notify_checksum(ccip_db *db, char out[NOTIFY_CHECKSUM_LEN], uint64_t *items);

/* notify.inbox.rebuild.v1: RebuildRequest -> RebuildReply. */
int notify_rebuild_cmd(ccip_command *cmd, ccip_arena *a, void *request);

/* notify.inbox.checksum.v1: ChecksumRequest -> ChecksumReply. */
int notify_checksum_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
