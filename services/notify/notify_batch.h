/*
 * notify_batch: what events make, gathered and written with a few
 * set-based statements (INSERT ... SELECT FROM unnest(...)).
 *
 * The consumer applies one event per batch (inside its transaction), the
 * rebuild thousands; both through the same statements, so a replay makes
 * exactly what the live consumers made:
 *
 *   notify_batch *b = notify_batch_new(db, NOTIFY_BATCH_LIVE);
 *   notify_batch_event(b, ev);                 // the event the next calls come from
 *   notify_batch_item(b, &spec);               // an item for someone
 *   notify_batch_settle(b, "intake/application/<id>/check");
 *   rc = notify_batch_flush(b);                // writes; live: deliveries of new items
 *   notify_batch_destroy(&b);
 *
 * Items. An item's id is md5(event id, its slot in the event, addressee),
 * so the same event always makes the same items; writing one that exists
 * changes nothing. Its state is OPEN until a settlement with its close key
 * at or after its `since` exists, then DONE with the first such settlement's
 * time and event type; the rule depends only on the set of items and
 * settlements, not on the order they arrive in, so the streams of several
 * producers may be applied in any interleaving (as the consumer threads do)
 * and give the same tables.
 *
 * Addressees an event does not name are found through what earlier events
 * of the same producer said (notify_via): the owners of a work, the operator
 * of a roster entry, the grantee of an award; and a subject through the
 * object's title. Those facts are kept with the position of the event that
 * said them, and an item looks up the value at or before its own event's
 * position, so a batch of thousands finds what one event at a time found.
 *
 * A live flush writes its settlements, then its items in the state the
 * settlements so far give them, then closes the earlier items its
 * settlements settle. A rebuild's flushes skip that last step: after the
 * last one, notify_batch_close_all closes every item whose settlement came
 * in a later flush, in one pass.
 *
 * Deliveries (NOTIFY_BATCH_LIVE only): for every item the flush made new,
 * one delivery per account the addressee stands for and channel its
 * preferences choose and the service has configured
 * (notify_sender_channel_on), in the same transaction. A rebuild makes
 * none.
 *
 * Every function returns 0, or a negative ccip_db_rc (CCIP_DB_ERROR also
 * for out of memory, logged); after a failure the batch is unusable and the
 * caller's transaction must roll back.
 */
#ifndef NOTIFY_BATCH_H
#define NOTIFY_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/envelope.pb-c.h"
#include "ccip_db.h"

typedef struct notify_batch notify_batch;

typedef enum {
    NOTIFY_BATCH_LIVE = 1,    /* the consumer: new items get their deliveries */
    NOTIFY_BATCH_REBUILD = 0, /* a replay: items only */
} notify_batch_mode;

/* How an item's addressee is found. */
typedef enum {
    NOTIFY_VIA_NONE = 0, /* the addressee is given */
    NOTIFY_VIA_OWNER,    /* every owner of work via_id (one item each) */
    NOTIFY_VIA_OPERATOR, /* the operator of roster entry via_id */
    NOTIFY_VIA_GRANTEE,  /* the grantee of award via_id */
    NOTIFY_VIA_TITLE,    /* (facts only) the title of object "<type>:<id>" */
    NOTIFY_VIA_COUNT
} notify_via;

/* One item an event makes. Strings are copied; NULL reads as "". */
typedef struct {
    const char *kind;      /* notify_kinds.h */
    const char *addressee; /* "org:<USCC>", "role:staff", ...; with a via: unused */
    notify_via via;
    const char *via_id;      /* the work, roster entry or award */
    const char *object_type; /* application, award, ... */
    const char *object_id;
    const char *subject; /* "": the title of object_type:object_id as last said */
    const char *detail;
    const char *close_key; /* NULL = a notice */
    int64_t due_us;        /* 0 = no deadline */
} notify_item_spec;

/* A batch over db (borrowed; its transaction is the caller's). NULL when
 * memory ran out. */
notify_batch *notify_batch_new(ccip_db *db, notify_batch_mode mode);

/* Frees; safe on NULL and twice; sets *b to NULL. Unflushed work is lost. */
void notify_batch_destroy(notify_batch **b);

/* The event the following calls come from (borrowed until the next call). */
void notify_batch_event(notify_batch *b, const Ccip__Envelope *ev);

int notify_batch_item(notify_batch *b, const notify_item_spec *s);

/* The current event settles the items with close_key. */
int notify_batch_settle(notify_batch *b, const char *close_key);

/* From the current event on, `what` (OWNER, OPERATOR, GRANTEE, TITLE) of
 * key is values[0..n): for OWNER every party, for the others one value
 * (n = 1). n = 0 writes nothing. */
int notify_batch_fact(notify_batch *b, notify_via what, const char *key, const char *const *values,
                      size_t n);

/* An account's contact details (login NULL: keep the stored one). */
int notify_batch_account(notify_batch *b, const char *account_id, const char *login,
                         const char *name, const char *email, const char *mobile);

/* A binding of an account: its actor id, roles (space-separated) and
 * status (PENDING, ACTIVE, REVOKED). */
int notify_batch_binding(notify_batch *b, const char *binding_id, const char *account_id,
                         const char *actor_id, const char *roles, const char *status);

/* Events added since the last flush. */
size_t notify_batch_pending(const notify_batch *b);

/* Writes everything held and empties the batch. */
int notify_batch_flush(notify_batch *b);

/* After a rebuild's last flush: every item DONE by its first settlement at
 * or after its since, as the live flushes leave them. */
int notify_batch_close_all(notify_batch *b);

/* Items the flushes made new so far, and deliveries made. */
uint64_t notify_batch_items_made(const notify_batch *b);
uint64_t notify_batch_deliveries_made(const notify_batch *b);

#endif
