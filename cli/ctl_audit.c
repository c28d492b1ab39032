/*
 * ccipctl audit verify [SERVICE...]: recomputes every producer's event
 * chain from position 1 (common/ccip_chain.h): that the positions follow
 * each other from 1 to the head, that each event's prev_hash is the hash of
 * the event before it, and that each event's hash is the hash of its
 * contents, and names the first place where one does not hold. An altered
 * byte, a deleted event, an inserted one and two swapped ones all show
 * there.
 *
 * Where: by default each producer recomputes its own chain next to its
 * data (ccip.audit.verify.v1), a quarter of a second's work per request, this command
 * carrying the hash verified so far from one request to the next; the
 * events do not cross the bus. What is checked is the stored rows, which
 * is where tampering happens; a chain rewritten whole is caught by the
 * anchors below, which are compared here, not by the producer. With
 * --via-replay the events come here through ccip.replay.v1 and every hash
 * is recomputed in this process, trusting nothing the producer's code
 * says (about five times slower: bench audit, 19.0 s against 3.6 s for
 * 2,000,000 events).
 *
 * ccip.audit.verify.v1 and ccip.replay.v1 answer only admin keys (replay
 * also a producer's consumers)
 * (docs/ARCHITECTURE.md, "Replay for consumers only"): run it with an
 * operator's admin key; with another key each producer answers
 * PERMISSION_DENIED (exit 1).
 *
 * A chain rewritten end to end with valid hashes verifies by itself; so
 * it is also held against the anchors ip registered every hour (the
 * producer's head, position and hash, as a work of kind AUDIT_ANCHOR with a
 * signed receipt: services/ip/ip_anchors.h), read with ip.anchor.list.v1:
 * the recomputed chain must have each anchored hash at its anchored
 * position, and reach every anchored position. --no-anchors leaves ip out
 * (the chain alone is checked, and the line says so).
 *
 * Output: one line per producer, "intake: intact, positions 1..812, head
 * hash 3fa1..., 24 anchors hold" or "funding: BROKEN at position 17: ...";
 * with --json one object per line. Exit 0 when every chain is intact, 1
 * when one is broken or could not be read from position 1, 3 when a
 * producer (or ip, for its anchors) did not answer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/bus.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip_chain.h"
#include "ccip_envelope.h"
#include "ctl.h"

#define AUDIT_BATCH       5000  /* events per replay request: the most a producer gives */
#define VERIFY_TIMEOUT_MS 30000 /* per verify request unless --timeout */

/* The producers verified when none is named. */
static const char *const S_PRODUCERS[] = {"intake",   "evaluation", "funding", "ip",      "stats",
                                          "casefile", "followup",   "notify",  "gateway", NULL};

/* One anchor as ip registered it. */
typedef struct {
    uint64_t position;
    uint8_t hash[CCIP_CHAIN_HASH_LEN];
    uint64_t serial; /* its registration in ip's chain */
    int64_t period;  /* the period it anchors, UTC seconds */
} s_anchor;

/* A producer's anchors, in position order. */
typedef struct {
    s_anchor *v;
    size_t n;
} s_anchors;

static int s_anchor_cmp(const void *x, const void *y)
{
    const s_anchor *a = x, *b = y;
    return a->position < b->position ? -1 : a->position > b->position;
}

/* Reads every anchor of producer from ip into *out (the caller frees
 * out->v). Returns CTL_OK or the exit code of a failed request (printed). */
static int s_load_anchors(ctl_opts *o, ccip_client *c, const char *producer, s_anchors *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    int64_t after = 0;
    for (;;) {
        Ccip__Ip__ListAnchorsRequest rq = CCIP__IP__LIST_ANCHORS_REQUEST__INIT;
        rq.producer = (char *)producer;
        rq.after_period_start_s = after;
        size_t len = ccip__ip__list_anchors_request__get_packed_size(&rq);
        uint8_t *buf = malloc(len ? len : 1);
        if (!buf)
            return CTL_LOCAL;
        ccip__ip__list_anchors_request__pack(&rq, buf);
        int code = CTL_OK;
        Ccip__Envelope *reply = ctl_call(o, c, "ip", "ip.anchor.list.v1", buf, len, &code);
        free(buf);
        if (!reply)
            return code;
        Ccip__Ip__ListAnchorsReply *lr =
            ccip__ip__list_anchors_reply__unpack(NULL, reply->payload.len, reply->payload.data);
        ccip_envelope_free(&reply);
        if (!lr) {
            fprintf(stderr, "ccipctl: ip sent an anchor list that does not decode\n");
            return CTL_REFUSED;
        }
        for (size_t i = 0; i < lr->n_anchors; i++) {
            const Ccip__Ip__Anchor *x = lr->anchors[i];
            if (x->hash.len != CCIP_CHAIN_HASH_LEN)
                continue;
            if (out->n == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                s_anchor *nv = realloc(out->v, ncap * sizeof *nv);
                if (!nv) {
                    ccip__ip__list_anchors_reply__free_unpacked(lr, NULL);
                    return CTL_LOCAL;
                }
                out->v = nv;
                cap = ncap;
            }
            s_anchor *a = &out->v[out->n++];
            a->position = x->position;
            memcpy(a->hash, x->hash.data, CCIP_CHAIN_HASH_LEN);
            a->serial = x->serial;
            a->period = x->period_start_s;
            after = x->period_start_s;
        }
        size_t got = lr->n_anchors;
        ccip__ip__list_anchors_reply__free_unpacked(lr, NULL);
        if (got == 0)
            break;
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, s_anchor_cmp);
    return CTL_OK;
}

/* What verifying one producer found. */
typedef struct {
    uint64_t verified;                 /* positions 1..verified hold */
    uint64_t head;                     /* the head the producer named last */
    uint8_t hash[CCIP_CHAIN_HASH_LEN]; /* the hash at `verified` */
    uint64_t broken_at;                /* 0: intact */
    char reason[600];                  /* why it is broken */
    size_t anchors_held;               /* anchors the chain matched */
} s_result;

/* Checks the anchors at position `at` (just verified, its hash in r->hash),
 * from *next on. Returns 0, or -1 with r broken. */
static int s_check_anchors(const s_anchors *an, size_t *next, uint64_t at, s_result *r)
{
    for (; an && *next < an->n && an->v[*next].position <= at; (*next)++) {
        const s_anchor *x = &an->v[*next];
        if (x->position == at && memcmp(x->hash, r->hash, CCIP_CHAIN_HASH_LEN) == 0) {
            r->anchors_held++;
            continue;
        }
        char want[CCIP_CHAIN_HASH_HEX + 1], got[CCIP_CHAIN_HASH_HEX + 1];
        r->broken_at = x->position;
        snprintf(r->reason, sizeof r->reason,
                 "ip's registry anchored hash %s at position %" PRIu64 " (registration %" PRIu64
                 ", period %" PRId64 "), but the chain has %s there: the chain was rewritten "
                 "with hashes that agree with each other",
                 ccip_chain_hex(x->hash, CCIP_CHAIN_HASH_LEN, want), x->position, x->serial,
                 x->period, ccip_chain_hex(r->hash, CCIP_CHAIN_HASH_LEN, got));
        return -1;
    }
    return 0;
}

/* At the chain's end (r->verified): an anchor not yet reached, from
 * next on, means events were deleted after it was registered. */
static void s_check_anchors_end(const s_anchors *an, size_t next, s_result *r)
{
    if (!an || next >= an->n)
        return;
    const s_anchor *x = &an->v[next];
    char want[CCIP_CHAIN_HASH_HEX + 1];
    r->broken_at = r->verified + 1;
    snprintf(r->reason, sizeof r->reason,
             "ip's registry anchored position %" PRIu64 " (hash %s, registration %" PRIu64
             "), but the chain ends at %" PRIu64 ": events were deleted",
             x->position, ccip_chain_hex(x->hash, CCIP_CHAIN_HASH_LEN, want), x->serial,
             r->verified);
}

/* Verifies one producer's whole chain. Returns CTL_OK (intact or broken:
 * see r->broken_at) or the exit code of a failed request (printed). */
static int s_verify(ctl_opts *o, ccip_client *c, const char *producer, const s_anchors *an,
                    s_result *r)
{
    memset(r, 0, sizeof *r);
    size_t next_anchor = 0;
    memcpy(r->hash, ccip_chain_genesis, sizeof r->hash);
    uint64_t from = 1;
    for (;;) {
        Ccip__ReplayRequest rq = CCIP__REPLAY_REQUEST__INIT;
        rq.from_position = from;
        rq.max_events = AUDIT_BATCH;
        uint8_t buf[32];
        size_t len = ccip__replay_request__pack(&rq, buf);
        int code = CTL_OK;
        Ccip__Envelope *reply = ctl_call(o, c, producer, "ccip.replay.v1", buf, len, &code);
        if (!reply)
            return code;
        char err[256];
        Ccip__ReplayReply *rr = (Ccip__ReplayReply *)ccip_payload_unpack(
            &ccip__replay_reply__descriptor, reply->payload.data, reply->payload.len,
            reply->payload.len + 1, err, sizeof err);
        ccip_envelope_free(&reply);
        if (!rr) {
            fprintf(stderr, "ccipctl: %s sent a replay reply that does not decode: %s\n", producer,
                    err);
            return CTL_REFUSED;
        }
        r->head = rr->head;
        for (size_t i = 0; i < rr->n_events && !r->broken_at; i++) {
            const Ccip__Envelope *ev = rr->events[i];
            uint64_t want = r->verified + 1;
            if (ev->position != want) {
                r->broken_at = want;
                snprintf(r->reason, sizeof r->reason,
                         "position %" PRIu64 " is missing (the stream goes on at %" PRIu64
                         "): an event was deleted or moved",
                         want, ev->position);
                break;
            }
            if (ccip_chain_check(ev, r->hash, r->reason, sizeof r->reason) < 0) {
                r->broken_at = want;
                break;
            }
            memcpy(r->hash, ev->hash.data, sizeof r->hash);
            r->verified = want;
            if (s_check_anchors(an, &next_anchor, want, r) < 0)
                break;
        }
        int more = !r->broken_at && rr->n_events > 0 && r->verified < rr->head;
        if (!r->broken_at && rr->n_events == 0 && r->verified < rr->head) {
            r->broken_at = r->verified + 1;
            snprintf(r->reason, sizeof r->reason,
                     "the producer names head %" PRIu64 " but gives no event from position %" PRIu64
                     ": events were deleted",
                     rr->head, r->verified + 1);
        }
        protobuf_c_message_free_unpacked(&rr->base, NULL);
        if (!more) {
            if (!r->broken_at)
                s_check_anchors_end(an, next_anchor, r);
            return CTL_OK;
        }
        from = r->verified + 1;
    }
}

/* Verifies one producer's whole chain where it is stored: the producer
 * recomputes it (ccip.audit.verify.v1, common/ccip_outbox.h) a second's
 * work at a time, each request carrying the hash verified so far, and
 * returns the hashes at the anchored positions for the checks here. The
 * events never cross the bus: 2,000,000 take seconds, not a minute (bench
 * audit). Returns as s_verify does. */
static int s_verify_near(ctl_opts *o, ccip_client *c, const char *producer, const s_anchors *an,
                         uint64_t batch, s_result *r)
{
    memset(r, 0, sizeof *r);
    size_t next_anchor = 0;
    memcpy(r->hash, ccip_chain_genesis, sizeof r->hash);
    for (;;) {
        Ccip__AuditVerifyRequest rq = CCIP__AUDIT_VERIFY_REQUEST__INIT;
        uint64_t at[CCIP_CHAIN_VERIFY_HASHES_MAX];
        rq.from_position = r->verified + 1;
        rq.max_events = batch;
        if (r->verified > 0) {
            rq.expected_prev.data = r->hash;
            rq.expected_prev.len = CCIP_CHAIN_HASH_LEN;
        }
        /* the next anchors' positions; with more than a reply carries, stop
         * at the last one asked for so that none in between goes unchecked */
        size_t k = next_anchor;
        for (; an && k < an->n && rq.n_hashes_at < CCIP_CHAIN_VERIFY_HASHES_MAX; k++)
            if (rq.n_hashes_at == 0 || an->v[k].position > at[rq.n_hashes_at - 1])
                at[rq.n_hashes_at++] = an->v[k].position;
        if (an && k < an->n)
            rq.to_position = at[rq.n_hashes_at - 1];
        rq.hashes_at = at;
        uint8_t buf[128 + CCIP_CHAIN_VERIFY_HASHES_MAX * 11]; /* 64 varints and a hash */
        size_t len = ccip__audit_verify_request__pack(&rq, buf);
        int code = CTL_OK;
        Ccip__Envelope *reply = ctl_call(o, c, producer, "ccip.audit.verify.v1", buf, len, &code);
        if (!reply)
            return code;
        char err[256];
        Ccip__AuditVerifyReply *vr = (Ccip__AuditVerifyReply *)ccip_payload_unpack(
            &ccip__audit_verify_reply__descriptor, reply->payload.data, reply->payload.len,
            reply->payload.len + 1, err, sizeof err);
        ccip_envelope_free(&reply);
        if (!vr || vr->hash.len != CCIP_CHAIN_HASH_LEN || vr->verified < r->verified) {
            fprintf(stderr, "ccipctl: %s sent a verify reply that does not decode%s%s\n", producer,
                    vr ? "" : ": ", vr ? "" : err);
            if (vr)
                protobuf_c_message_free_unpacked(&vr->base, NULL);
            return CTL_REFUSED;
        }
        r->head = vr->head;
        /* the anchors inside what was verified, at the hashes it returned */
        for (size_t i = 0; i < vr->n_hashes && !r->broken_at; i++) {
            const Ccip__PositionHash *h = vr->hashes[i];
            if (h->hash.len != CCIP_CHAIN_HASH_LEN || h->position > vr->verified)
                continue;
            memcpy(r->hash, h->hash.data, CCIP_CHAIN_HASH_LEN);
            s_check_anchors(an, &next_anchor, h->position, r);
        }
        uint64_t progress = vr->verified - r->verified;
        r->verified = vr->verified;
        if (!r->broken_at) {
            memcpy(r->hash, vr->hash.data, CCIP_CHAIN_HASH_LEN);
            s_check_anchors(an, &next_anchor, r->verified, r);
        }
        if (!r->broken_at && vr->broken_at) {
            r->broken_at = vr->broken_at;
            snprintf(r->reason, sizeof r->reason, "%s", vr->reason ? vr->reason : "");
        }
        protobuf_c_message_free_unpacked(&vr->base, NULL);
        if (r->broken_at)
            return CTL_OK;
        if (r->verified >= r->head || progress == 0) {
            if (r->verified < r->head) {
                r->broken_at = r->verified + 1;
                snprintf(r->reason, sizeof r->reason,
                         "the producer names head %" PRIu64 " but verified nothing from position "
                         "%" PRIu64,
                         r->head, r->verified + 1);
            } else {
                s_check_anchors_end(an, next_anchor, r);
            }
            return CTL_OK;
        }
    }
}

static const ctl_arg A_VERIFY[] = {CTL_STR("SERVICE", NULL, CTL_ARG_OPTIONAL),
                                   CTL_FLAG("no-anchors", NULL),
                                   CTL_FLAG("via-replay", NULL),
                                   CTL_INT("batch", NULL, 0, 100000000, 0),
                                   {0}};

static int s_verify_cmd(ctl_opts *o, ctl_args *a)
{
    const char *named[] = {ctl_str(a, "SERVICE"), NULL};
    const char *const *producers = named[0][0] ? named : S_PRODUCERS;
    ccip_client *c = ctl_connect(o);
    if (!c)
        return CTL_LOCAL;
    int worst = CTL_OK;
    int anchors = !ctl_int(a, "no-anchors");
    int via_replay = ctl_int(a, "via-replay");
    /* --batch N: events per verify request (0: a second's work each) */
    uint64_t batch = (uint64_t)ctl_int(a, "batch");
    /* Unless --timeout was given: a verify request works up to a second
     * (AUDIT_VERIFY_BUDGET_US), longer on a loaded machine. */
    if (o->timeout_ms == CTL_DEFAULT_TIMEOUT_MS)
        o->timeout_ms = VERIFY_TIMEOUT_MS;
    for (size_t i = 0; producers[i]; i++) {
        s_result r;
        s_anchors an = {0};
        int code = anchors ? s_load_anchors(o, c, producers[i], &an) : CTL_OK;
        if (code != CTL_OK) {
            fprintf(stderr,
                    "ccipctl: %s: ip's anchors could not be read (add --no-anchors to "
                    "check the chain alone)\n",
                    producers[i]);
            free(an.v);
            if (worst == CTL_OK || code == CTL_UNAVAILABLE)
                worst = code;
            continue;
        }
        code = via_replay ? s_verify(o, c, producers[i], anchors ? &an : NULL, &r)
                          : s_verify_near(o, c, producers[i], anchors ? &an : NULL, batch, &r);
        free(an.v);
        if (code != CTL_OK) {
            /* a refusal (e.g. positions no longer retained) was printed by ctl_call */
            if (worst == CTL_OK || code == CTL_UNAVAILABLE)
                worst = code;
            continue;
        }
        char hex[CCIP_CHAIN_HASH_HEX + 1];
        ccip_chain_hex(r.hash, sizeof r.hash, hex);
        if (o->json) {
            printf("{\"producer\":");
            ctl_json_string(stdout, producers[i]);
            printf(",\"intact\":%s,\"verified\":%" PRIu64 ",\"head\":%" PRIu64,
                   r.broken_at ? "false" : "true", r.verified, r.head);
            ctl_json_field(stdout, ",\"hash\":", hex);
            if (anchors)
                printf(",\"anchors_held\":%zu", r.anchors_held);
            if (r.broken_at) {
                printf(",\"broken_at\":%" PRIu64, r.broken_at);
                ctl_json_field(stdout, ",\"reason\":", r.reason);
            }
            printf("}\n");
        } else if (r.broken_at) {
            printf("%s: BROKEN at position %" PRIu64 ": %s (positions 1..%" PRIu64
                   " hold, head %" PRIu64 ")\n",
                   producers[i], r.broken_at, r.reason, r.verified, r.head);
        } else {
            char held[64];
            if (anchors)
                snprintf(held, sizeof held, "%zu anchors hold", r.anchors_held);
            else
                snprintf(held, sizeof held, "anchors not checked");
            printf("%s: intact, positions 1..%" PRIu64 ", head hash %s, %s\n", producers[i],
                   r.verified, hex, held);
        }
        if (r.broken_at && worst == CTL_OK)
            worst = CTL_REFUSED;
    }
    ccip_client_destroy(&c);
    return worst;
}

/* ---- export and import -------------------------------------------------------- */

/* An export file: this line, then per event u32 (big-endian) length and the
 * packed Envelope, in position order. The chain travels inside the events
 * (prev_hash, hash), so the file checks itself. */
#define EXPORT_MAGIC       "ccip.audit.export.v1\n"
#define IMPORT_BATCH_BYTES (1024 * 1024)      /* events per import command, by size */
#define IMPORT_EVENT_MAX   (16 * 1024 * 1024) /* a length beyond it: a damaged file */

static int s_put_u32(FILE *f, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return fwrite(b, 1, 4, f) == 4 ? 0 : -1;
}

static const ctl_arg A_EXPORT[] = {
    CTL_STR("SERVICE", NULL, CTL_ARG), CTL_STR("FILE", NULL, CTL_ARG), {0}};

/* Reads SERVICE's whole stream through ccip.replay.v1 (archive and
 * outbox), checking its chain as verify does, into FILE; a broken chain is
 * not exported (the file is removed). */
static int s_export_cmd(ctl_opts *o, ctl_args *a)
{
    const char *producer = ctl_str(a, "SERVICE"), *path = ctl_str(a, "FILE");
    FILE *f = fopen(path, "wbx");
    if (!f) {
        fprintf(stderr, "ccipctl: could not create %s: %s (it must not exist yet)\n", path,
                strerror(errno));
        return CTL_LOCAL;
    }
    ccip_client *c = ctl_connect(o);
    if (!c) {
        fclose(f);
        remove(path);
        return CTL_LOCAL;
    }
    int code = fputs(EXPORT_MAGIC, f) < 0 ? CTL_LOCAL : CTL_OK;
    uint8_t link[CCIP_CHAIN_HASH_LEN];
    memcpy(link, ccip_chain_genesis, sizeof link);
    uint64_t done = 0, head = 0;
    uint8_t *buf = NULL;
    size_t cap = 0;
    char why[600] = "";
    while (code == CTL_OK) {
        Ccip__ReplayRequest rq = CCIP__REPLAY_REQUEST__INIT;
        rq.from_position = done + 1;
        rq.max_events = AUDIT_BATCH;
        uint8_t req[32];
        size_t len = ccip__replay_request__pack(&rq, req);
        Ccip__Envelope *reply = ctl_call(o, c, producer, "ccip.replay.v1", req, len, &code);
        if (!reply)
            break;
        Ccip__ReplayReply *rr =
            ccip__replay_reply__unpack(NULL, reply->payload.len, reply->payload.data);
        ccip_envelope_free(&reply);
        if (!rr) {
            fprintf(stderr, "ccipctl: %s sent a replay reply that does not decode\n", producer);
            code = CTL_REFUSED;
            break;
        }
        head = rr->head;
        for (size_t i = 0; i < rr->n_events && code == CTL_OK; i++) {
            const Ccip__Envelope *ev = rr->events[i];
            if (ev->position != done + 1) {
                snprintf(why, sizeof why, "position %" PRIu64 " is missing", done + 1);
                code = CTL_REFUSED;
            } else if (ccip_chain_check(ev, link, why, sizeof why) < 0) {
                code = CTL_REFUSED;
            } else {
                size_t n = ccip__envelope__get_packed_size(ev);
                if (n > cap) {
                    uint8_t *nb = realloc(buf, n);
                    if (!nb) {
                        code = CTL_LOCAL;
                        break;
                    }
                    buf = nb;
                    cap = n;
                }
                ccip__envelope__pack(ev, buf);
                if (s_put_u32(f, (uint32_t)n) < 0 || fwrite(buf, 1, n, f) != n)
                    code = CTL_LOCAL;
                memcpy(link, ev->hash.data, sizeof link);
                done++;
            }
        }
        size_t got = rr->n_events;
        ccip__replay_reply__free_unpacked(rr, NULL);
        if (got == 0 || done >= head)
            break;
    }
    free(buf);
    ccip_client_destroy(&c);
    if (fclose(f) != 0 && code == CTL_OK)
        code = CTL_LOCAL;
    if (code == CTL_OK && done < head) {
        snprintf(why, sizeof why, "the producer names head %" PRIu64 " but gave events to %" PRIu64,
                 head, done);
        code = CTL_REFUSED;
    }
    if (code != CTL_OK) {
        remove(path);
        if (why[0])
            printf("%s: BROKEN at position %" PRIu64 ": %s (nothing exported)\n", producer,
                   done + 1, why);
        else if (code == CTL_LOCAL)
            fprintf(stderr, "ccipctl: could not write %s: %s\n", path, strerror(errno));
        return code;
    }
    char hex[CCIP_CHAIN_HASH_HEX + 1];
    printf("%s: exported positions 1..%" PRIu64 " to %s, chain intact, head hash %s\n", producer,
           done, path, ccip_chain_hex(link, sizeof link, hex));
    return CTL_OK;
}

static const ctl_arg A_IMPORT[] = {CTL_STR("FILE", NULL, CTL_ARG), {0}};

/* Sends events[0 .. n) to producer's ccip.archive.import.v1. */
static int s_import_send(ctl_opts *o, ccip_client *c, const char *producer, Ccip__Envelope **events,
                         size_t n, uint64_t *imported, uint64_t *already)
{
    Ccip__ArchiveImportRequest rq = CCIP__ARCHIVE_IMPORT_REQUEST__INIT;
    rq.events = events;
    rq.n_events = n;
    size_t len = ccip__archive_import_request__get_packed_size(&rq);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return CTL_LOCAL;
    ccip__archive_import_request__pack(&rq, buf);
    int code = CTL_OK;
    Ccip__Envelope *reply = ctl_call(o, c, producer, "ccip.archive.import.v1", buf, len, &code);
    free(buf);
    if (!reply)
        return code;
    Ccip__ArchiveImportReply *r =
        ccip__archive_import_reply__unpack(NULL, reply->payload.len, reply->payload.data);
    ccip_envelope_free(&reply);
    if (!r)
        return CTL_REFUSED;
    *imported += r->imported;
    *already += r->already;
    ccip__archive_import_reply__free_unpacked(r, NULL);
    return CTL_OK;
}

/* Reads FILE (an export), checks its whole chain here first (nothing is
 * sent when it is broken), then puts it back into the producer's archive,
 * which checks it again against what it stores. */
static int s_import_cmd(ctl_opts *o, ctl_args *a)
{
    const char *path = ctl_str(a, "FILE");
    FILE *f = fopen(path, "rb");
    char magic[sizeof EXPORT_MAGIC] = "";
    if (!f || fread(magic, 1, strlen(EXPORT_MAGIC), f) != strlen(EXPORT_MAGIC) ||
        strcmp(magic, EXPORT_MAGIC) != 0) {
        fprintf(stderr, "ccipctl: %s is not an export of ccipctl audit export%s%s\n", path,
                f ? "" : ": ", f ? "" : strerror(errno));
        if (f)
            fclose(f);
        return CTL_LOCAL;
    }
    /* every event in memory: an archive import is an operator's occasional task */
    Ccip__Envelope **evs = NULL;
    size_t n = 0, cap = 0;
    int code = CTL_OK;
    char why[600] = "";
    uint8_t link[CCIP_CHAIN_HASH_LEN];
    memset(link, 0, sizeof link); /* set by each event checked */
    for (;;) {
        uint8_t lb[4];
        size_t got = fread(lb, 1, 4, f);
        if (got == 0)
            break;
        uint32_t len =
            got == 4 ? (uint32_t)lb[0] << 24 | (uint32_t)lb[1] << 16 | (uint32_t)lb[2] << 8 | lb[3]
                     : 0;
        uint8_t *buf = len > 0 && len <= IMPORT_EVENT_MAX ? malloc(len) : NULL;
        if (!buf || fread(buf, 1, len, f) != len) {
            free(buf);
            snprintf(why, sizeof why, "the file is cut short or damaged after %zu events", n);
            code = CTL_REFUSED;
            break;
        }
        Ccip__Envelope *ev = ccip__envelope__unpack(NULL, len, buf);
        free(buf);
        if (!ev) {
            snprintf(why, sizeof why, "event %zu of the file does not decode", n + 1);
            code = CTL_REFUSED;
            break;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            Ccip__Envelope **nv = realloc(evs, ncap * sizeof *nv);
            if (!nv) {
                ccip__envelope__free_unpacked(ev, NULL);
                code = CTL_LOCAL;
                break;
            }
            evs = nv;
            cap = ncap;
        }
        evs[n++] = ev;
        /* the chain, from the file's first event (whose own link the
         * producer checks against what it stores before it) */
        const uint8_t *want = n == 1 ? (ev->position == 1 ? ccip_chain_genesis : NULL) : link;
        if (n > 1 && ev->position != evs[n - 2]->position + 1) {
            snprintf(why, sizeof why,
                     "position %" PRIu64 " follows %" PRIu64 ": events are missing", ev->position,
                     evs[n - 2]->position);
            code = CTL_REFUSED;
            break;
        }
        if (ccip_chain_check(ev, want, why, sizeof why) < 0) {
            code = CTL_REFUSED;
            break;
        }
        memcpy(link, ev->hash.data, sizeof link);
    }
    fclose(f);
    const char *producer = n ? evs[0]->source_service : "";
    if (code == CTL_OK && n == 0) {
        snprintf(why, sizeof why, "it holds no event");
        code = CTL_REFUSED;
    }
    if (code == CTL_REFUSED)
        printf("%s: BROKEN at position %" PRIu64 ": %s (nothing imported)\n", path,
               n ? evs[n - 1]->position : 0, why);
    uint64_t imported = 0, already = 0;
    ccip_client *c = code == CTL_OK ? ctl_connect(o) : NULL;
    if (code == CTL_OK && !c)
        code = CTL_LOCAL;
    for (size_t i = 0; code == CTL_OK && i < n;) {
        size_t k = 0, bytes = 0;
        while (i + k < n && (k == 0 || bytes < IMPORT_BATCH_BYTES)) {
            bytes += ccip__envelope__get_packed_size(evs[i + k]) + 8;
            k++;
        }
        code = s_import_send(o, c, producer, evs + i, k, &imported, &already);
        i += k;
    }
    ccip_client_destroy(&c);
    if (code == CTL_OK)
        printf("%s: imported %" PRIu64 " events into the archive (%" PRIu64
               " were there already), positions %" PRIu64 "..%" PRIu64 ", chain intact\n",
               producer, imported, already, evs[0]->position, evs[n - 1]->position);
    for (size_t i = 0; i < n; i++)
        ccip__envelope__free_unpacked(evs[i], NULL);
    free(evs);
    return code;
}

static const ctl_command S_COMMANDS[] = {
    {"verify", "[SERVICE] [--no-anchors]", A_VERIFY, NULL, NULL, NULL, NULL, s_verify_cmd,
     .about = "  recomputes SERVICE's event chain (every producer's when none is named) from\n"
              "  position 1 and names the first event altered, deleted, inserted or moved,\n"
              "  and holds it against ip's hourly anchors (a chain rewritten end to end);\n"
              "  exit 0 when intact, 1 when broken\n"},
    {"export", "SERVICE FILE", A_EXPORT, NULL, NULL, NULL, NULL, s_export_cmd,
     .about = "  writes SERVICE's whole event stream (archive and outbox) to FILE for cold\n"
              "  storage, its chain checked on the way (a broken one is not exported)\n"},
    {"import", "FILE", A_IMPORT, NULL, NULL, NULL, NULL, s_import_cmd,
     .about = "  puts an export back into its producer's archive: the file's chain is checked\n"
              "  here, then by the producer against what it stores on either side\n"},
};

static const ctl_service S_AUDIT = {
    .name = "audit",
    .header = "usage: ccipctl [--json] audit verify [SERVICE] [--no-anchors] [--via-replay]\n"
              "                     [--batch N]\n"
              "       ccipctl audit export SERVICE FILE | import FILE\n"
              "  recomputes every event chain from position 1 (common/ccip_chain.h)\n",
    .commands = S_COMMANDS,
    .ncommands = sizeof S_COMMANDS / sizeof S_COMMANDS[0],
};

int ctl_audit(ctl_opts *o, int argc, char **argv)
{
    return ctl_service_run(o, &S_AUDIT, argc, argv);
}
