/*
 * bench_hostile: valid filings while hostile clients speak the wire, against
 * the same valid filings alone, in the same run (issue 23).
 *
 * Starts a private bus and intake (8 command slots, batches that wait
 * 500 us for more, as bench_intake runs it; the bus with
 * limits.max_wait_ms = 5000 so that what hostile frames park in a queue
 * drains within the run) against the PostgreSQL that scripts/bench started.
 * Untimed set-up: one cluster call copied into as many calls as the run can
 * use (one live application per organisation per call), and CLIENTS
 * organisations, each registered by itself and verified by staff.
 *
 * CLIENTS threads, each with ONE front-door connection (the any-person key,
 * as the web gateway will hold) on which it files complete applications
 * (intake.application.file.v1, the required document inline), one at a
 * time, each acknowledged after its commit. After a one-second warm-up,
 * ROUNDS rounds of two windows of SECONDS/ROUNDS each, in alternating
 * order (the machine is shared and drifts; short alternating windows cancel
 * most of it):
 *   baseline   only the filings;
 *   hostile    the same filings, and between two filings each thread sends
 *              its share of HOSTILE_FRAMES / ROUNDS hostile frames (so
 *              10,000 in all) on the same connection, and on two more of
 *              its own made with a service key (evaluation's): the six
 *              cases of the issue and mutations of valid envelopes
 *              (s_kind below).
 * The connections live through all windows, so that a late reply to a
 * hostile frame is still read (and judged); after the last window every
 * reply is drained for 7 s. baseline_per_s is the filings of the baseline
 * windows over their time, valid_per_s those of the hostile windows;
 * ratio = valid_per_s / baseline_per_s (target >= 0.9).
 *
 * accepted_bad counts every sign that a hostile frame got through: an OK
 * reply to one; a REQUEST handed to the service key that said READY for
 * intake; a forged event seen by a subscriber of intake's topics; a row
 * written by one (their texts carry HOSTILE). lost counts filings that were
 * acknowledged but are not in the table, SUBMITTED once with a document.
 * bus_rss_mib_peak is the bus's largest resident size sampled every 20 ms
 * from the hostile window on; bus_rss_mib_after is its size once back
 * within twice the idle size (measured before the first window), or after
 * 10 s past the hostile window's end if it never is.
 *
 * CCIP_BENCH_HOSTILE_KINDS=name,name... sends only those kinds (names as
 * on the line that counts them), to see what each costs.
 *
 * Usage: bench_hostile [SECONDS]
 * Last line: bench hostile: valid_per_s=… baseline_per_s=… ratio=R accepted_bad=0 lost=0
 *            bus_rss_mib_peak=… bus_rss_mib_after=…
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_mdp.h"
#include "ccip_test.h"
#include "ccip_test_db.h"
#include "ccip_test_intake.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"

#define CLIENTS        8
#define WORKERS        "8"
#define BATCH_WAIT_US  "500"
#define BUS_MAX_WAIT   "5000" /* ms: parked hostile commands drain within the run */
#define HOSTILE_FRAMES 10000
#define DOC_BYTES      1024
#define BIG_BYTES      (1024 * 1024) /* the 1 MiB commands to unserved names */
#define MIB            (1024.0 * 1024.0)
#define REPLY_WAIT_MS  15000
#define RECENT_IDS     64 /* command ids of recent filings, for reuse */

#define ROUNDS 10 /* pairs of baseline and hostile windows */

typedef enum { WIN_WARMUP, WIN_BASE, WIN_HOSTILE, NWIN } s_window_kind;

/* The hostile frames, by the case of the issue they reproduce. */
typedef enum {
    K_READY_OTHER = 0, /* 1: a service key says READY for intake */
    K_FORGED_REPLY,    /* 1: a replica's REPLY to a client it does not serve */
    K_FORGED_EVENT,    /* 1: a service key publishes under intake's topics */
    K_REUSE_OTHER,     /* 2: another caller reuses a filing's command id */
    K_REUSE_PAYLOAD,   /* 2: the same caller, the same id, another payload */
    K_SCHEDULE_ID,     /* 3: a command under a scheduled run's id */
    K_NUL_ENVELOPE,    /* 4: a NUL in the envelope's actor id */
    K_NUL_PAYLOAD,     /* 4: a NUL in a filing's title */
    K_BAD_UTF8,        /* 4: invalid UTF-8 in the envelope */
    K_REPLAY,          /* 5: replay claimed by a front door as operator */
    K_UNSERVED_BIG,    /* 6: 1 MiB to a name nobody serves, deadline INT64_MAX */
    K_KNOWN_UNSERVED,  /* 6: to a service with a key but no replica (queued, capped) */
    K_MUTATION,        /* a valid filing's envelope, truncated or a string byte broken */
    K_CLAIM_RESERVED,  /* a front door claiming role "service" */
    NKINDS
} s_kind;

static const char *const s_kind_names[NKINDS] = {
    "ready_other",   "forged_reply",   "forged_event", "reuse_other",   "reuse_payload",
    "schedule_id",   "nul_envelope",   "nul_payload",  "bad_utf8",      "replay",
    "unserved_1mib", "known_unserved", "mutation",     "claim_reserved"};

static ccip_test_env s_env;
static void *s_ctx;
static pid_t s_bus;
static ccip_keypair s_service_key; /* evaluation's: a real service key, used against intake */
static s_window_kind s_current;
static int64_t s_until_us;
static long s_calls_each;
static char (*s_calls)[CCIP_UUID_STRLEN + 1];
static atomic_long s_failed;
static atomic_long s_accepted_bad;
static atomic_long s_sent[NKINDS];
static atomic_int s_monitor_stop;
static atomic_long s_rss_peak_kib;
static int s_enabled[NKINDS]; /* kinds sent (CCIP_BENCH_HOSTILE_KINDS) */

/* Recent filings' command ids and actors, for the reuse cases. */
static pthread_mutex_t s_recent_mu = PTHREAD_MUTEX_INITIALIZER;
static char s_recent_id[RECENT_IDS][CCIP_UUID_STRLEN + 1];
static char s_recent_actor[RECENT_IDS][32];
static long s_recent_n;

typedef struct {
    long done;                         /* filings acknowledged in the window */
    char (*ids)[CCIP_UUID_STRLEN + 1]; /* their application ids */
} s_results;

typedef struct {
    int i;
    char uscc[19];
    char actor[32];
    long next;         /* its next call */
    uint64_t rng;      /* xorshift state */
    s_results r[NWIN]; /* per kind of window, over all rounds */
    void *conn;        /* front door: filings, and hostile commands */
    void *svc;         /* a service key's DEALER: READY and REPLY frames */
    void *pub;         /* a service key's PUB: forged events */
} s_client_state;

static s_client_state s_clients[CLIENTS];

static uint64_t s_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* The bus's resident size in KiB, or -1. */
static long s_rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atol(line + 6);
    if (f)
        fclose(f);
    return kib;
}

static void *s_monitor(void *arg)
{
    (void)arg;
    while (!atomic_load(&s_monitor_stop)) {
        long kib = s_rss_kib(s_bus);
        if (kib > atomic_load(&s_rss_peak_kib))
            atomic_store(&s_rss_peak_kib, kib);
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void s_failure(const char *what, int status, const char *err)
{
    if (atomic_fetch_add(&s_failed, 1) < 5)
        fprintf(stderr, "bench hostile: %s failed: %d %s\n", what, status, err);
}

/* ---- envelopes ---------------------------------------------------------------------- */

/* A filing of `call` by st as an envelope under command id `id`, title
 * `title`, into a malloc'd buffer. */
static uint8_t *s_filing(const s_client_state *st, const char *call, const char *id,
                         const char *actor, const char *title, size_t *len)
{
    uint8_t doc[DOC_BYTES];
    memset(doc, ' ', sizeof doc);
    int n =
        snprintf((char *)doc, sizeof doc, "%%PDF-1.4 licence of %s for call %s", st->uscc, call);
    doc[n] = ' ';
    Ccip__Intake__ClusterFacts facts = CCIP__INTAKE__CLUSTER_FACTS__INIT;
    facts.cluster_name = "Langyuan Station creative park";
    facts.location = "Langjiayuan 6, Jianguo Road";
    facts.area_m2 = 60000;
    facts.enterprise_count = 120;
    facts.employee_count = 3500;
    facts.lead_operator = "Langyuan Cultural Investment Co.";
    Ccip__Intake__ApplicationContent content = CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    content.title = (char *)title;
    content.summary = "Restoring and digitising opera costumes; open studio for schools.";
    content.district = "110105";
    content.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
    content.cluster = &facts;
    Ccip__Intake__DocumentUpload u = CCIP__INTAKE__DOCUMENT_UPLOAD__INIT;
    u.doc_type = CCIP_TEST_REQUIRED_DOC;
    u.name = "licence.pdf";
    u.media_type = "application/pdf";
    u.content.data = doc;
    u.content.len = DOC_BYTES;
    Ccip__Intake__DocumentUpload *docs[] = {&u};
    Ccip__Intake__FileApplicationRequest rq = CCIP__INTAKE__FILE_APPLICATION_REQUEST__INIT;
    rq.call_id = (char *)call;
    rq.applicant_uscc = (char *)st->uscc;
    rq.content = &content;
    rq.documents = docs;
    rq.n_documents = 1;
    uint8_t payload[4096];
    size_t plen = ccip__intake__file_application_request__pack(&rq, payload);
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.id = (char *)id;
    e.type = "intake.application.file.v1";
    e.actor_role = "applicant";
    e.actor_id = (char *)actor;
    e.payload.data = payload;
    e.payload.len = plen;
    *len = ccip__envelope__get_packed_size(&e);
    uint8_t *buf = malloc(*len);
    ccip__envelope__pack(&e, buf);
    return buf;
}

/* A small envelope into buf (at least 1 KiB); returns its length. */
static size_t s_small(uint8_t *buf, const char *id, const char *type, const char *actor,
                      const char *role, int64_t deadline, const uint8_t *payload, size_t plen)
{
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    e.id = (char *)id;
    e.type = (char *)type;
    e.actor_id = (char *)actor;
    e.actor_role = (char *)role;
    e.deadline_us = deadline;
    e.payload.data = (uint8_t *)payload;
    e.payload.len = plen;
    return ccip__envelope__pack(&e, buf);
}

/* Replaces the first `mark` in buf by bytes `with` of the same length. */
static void s_patch(uint8_t *buf, size_t len, const char *mark, const char *with)
{
    size_t m = strlen(mark);
    for (size_t i = 0; i + m <= len; i++) {
        if (memcmp(buf + i, mark, m) == 0) {
            memcpy(buf + i, with, m);
            return;
        }
    }
}

static int s_send3(void *sock, const char *service, const void *env, size_t len)
{
    const void *data[] = {CCIP_MDP_CLIENT, service, env};
    size_t lens[] = {strlen(CCIP_MDP_CLIENT), strlen(service), len};
    return ccip_sock_send_frames(sock, data, lens, 3, ZMQ_DONTWAIT);
}

/* Sends one hostile frame of a random kind from thread st. */
static void s_hostile(s_client_state *st, void *conn, void *svc, void *pub, const char *call)
{
    uint8_t buf[8192];
    char id[CCIP_UUID_STRLEN + 16];
    ccip_uuid_v7(id);
    uint64_t x = s_rand(&st->rng);
    /* The 1 MiB frames are 1 in 100 (100 MiB in all); the rest even. */
    s_kind k = x % 100 == 0 ? K_UNSERVED_BIG : (s_kind)((x >> 8) % NKINDS);
    if (k == K_UNSERVED_BIG && x % 100 != 0)
        k = K_MUTATION;
    for (int tries = 0; !s_enabled[k] && tries < NKINDS; tries++)
        k = (s_kind)((k + 1) % NKINDS);
    atomic_fetch_add(&s_sent[k], 1);
    size_t n;
    switch (k) {
    case K_READY_OTHER: {
        const void *ready[] = {CCIP_MDP_WORKER, CCIP_MDP_READY, "intake"};
        size_t rl[] = {strlen(CCIP_MDP_WORKER), 1, 6};
        ccip_sock_send_frames(svc, ready, rl, 3, ZMQ_DONTWAIT);
        break;
    }
    case K_FORGED_REPLY: {
        uint8_t cid[5] = {0, (uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16), 0};
        n = s_small(buf, id, "intake.application.file.v1", "forged", "", 0, NULL, 0);
        const void *rep[] = {CCIP_MDP_WORKER, CCIP_MDP_REPLY, cid, buf};
        size_t rl[] = {strlen(CCIP_MDP_WORKER), 1, sizeof cid, n};
        ccip_sock_send_frames(svc, rep, rl, 4, ZMQ_DONTWAIT);
        break;
    }
    case K_FORGED_EVENT: {
        Ccip__Envelope e = CCIP__ENVELOPE__INIT;
        e.id = id;
        e.type = "intake.application.accepted.v1";
        e.source_service = "intake";
        e.aggregate_type = "application";
        e.aggregate_id = "HOSTILE";
        e.position = 1 + (x % 1000000);
        n = ccip__envelope__pack(&e, buf);
        zmq_send(pub, e.type, strlen(e.type), ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send(pub, buf, n, ZMQ_DONTWAIT);
        break;
    }
    case K_REUSE_OTHER:
    case K_REUSE_PAYLOAD: {
        char reused[CCIP_UUID_STRLEN + 1] = "", victim[32] = "";
        pthread_mutex_lock(&s_recent_mu);
        if (s_recent_n > 0) {
            long j =
                (long)((x >> 16) % (uint64_t)(s_recent_n < RECENT_IDS ? s_recent_n : RECENT_IDS));
            memcpy(reused, s_recent_id[j], sizeof reused);
            memcpy(victim, s_recent_actor[j], sizeof victim);
        }
        pthread_mutex_unlock(&s_recent_mu);
        if (!reused[0])
            ccip_uuid_v7(reused);
        /* Another caller (this thread's organisation) or the victim itself
         * with another payload; both under the victim's command id. */
        size_t len;
        uint8_t *f = s_filing(st, call, reused, k == K_REUSE_OTHER ? st->actor : victim,
                              "HOSTILE reuse", &len);
        s_send3(conn, "intake", f, len);
        free(f);
        break;
    }
    case K_SCHEDULE_ID: {
        char sid[80];
        snprintf(sid, sizeof sid, "schedule:intake.call.close_due.v1@%lld",
                 (long long)(ccip_now_us() / 1000000 + 60));
        n = s_small(buf, sid, "intake.call.close_due.v1", "staff-x", "staff", 0, NULL, 0);
        s_send3(conn, "intake", buf, n);
        break;
    }
    case K_NUL_ENVELOPE:
        n = s_small(buf, id, "intake.call.list.v1", "org:X@junk", "applicant", 0, NULL, 0);
        s_patch(buf, n, "org:X@junk", "org:X\0junk");
        s_send3(conn, "intake", buf, n);
        break;
    case K_NUL_PAYLOAD: {
        size_t len;
        uint8_t *f = s_filing(st, call, id, st->actor, "HOSTILE@title", &len);
        s_patch(f, len, "HOSTILE@title", "HOSTILE\0title");
        s_send3(conn, "intake", f, len);
        free(f);
        break;
    }
    case K_BAD_UTF8:
        n = s_small(buf, id, "intake.call.list.v1", "staff-XY", "staff", 0, NULL, 0);
        s_patch(buf, n, "staff-XY", "staff-\xc0\xaf");
        s_send3(conn, "intake", buf, n);
        break;
    case K_REPLAY: {
        Ccip__ReplayRequest rr = CCIP__REPLAY_REQUEST__INIT;
        rr.from_position = 1;
        uint8_t p[32];
        size_t pl = ccip__replay_request__pack(&rr, p);
        n = s_small(buf, id, "ccip.replay.v1", "op-hostile", "operator", 0, p, pl);
        s_send3(conn, "intake", buf, n);
        break;
    }
    case K_UNSERVED_BIG: {
        char name[32];
        snprintf(name, sizeof name, "unserved_%u", (unsigned)(x % 100000));
        uint8_t *big = malloc(BIG_BYTES), *b = malloc(BIG_BYTES + 256);
        if (big && b) {
            memset(big, 'x', BIG_BYTES);
            Ccip__Envelope e = CCIP__ENVELOPE__INIT;
            e.id = id;
            e.type = "ccip.ping.v1";
            e.deadline_us = INT64_MAX;
            e.payload.data = big;
            e.payload.len = BIG_BYTES - 64;
            n = ccip__envelope__pack(&e, b);
            s_send3(conn, name, b, n);
        }
        free(big);
        free(b);
        break;
    }
    case K_KNOWN_UNSERVED: {
        /* probeb has a key, so the bus queues it until its (capped)
         * deadline; one in eight is 1 MiB, which fills its byte cap
         * (64 MiB) and gets RESOURCE_EXHAUSTED beyond. */
        size_t plen = (x >> 20) % 8 == 0 ? BIG_BYTES - 64 : (size_t)((x >> 24) % 4000);
        uint8_t *p = malloc(plen + 1), *b = malloc(plen + 512);
        if (p && b) {
            memset(p, 'q', plen);
            n = s_small(b, id, "ccip.ping.v1", "", "", INT64_MAX, p, plen);
            s_send3(conn, "probeb", b, n);
        }
        free(p);
        free(b);
        break;
    }
    case K_MUTATION: {
        size_t len;
        uint8_t *f = s_filing(st, call, id, st->actor, "HOSTILE mutated", &len);
        if (x & 1) {
            /* Cut inside the payload: never a whole message. */
            size_t cut = len - 1 - (size_t)((x >> 24) % 200);
            s_send3(conn, "intake", f, cut);
        } else {
            /* Break a byte of one of its strings: NUL, a lone continuation
             * byte, a control character or an overlong lead. */
            static const char bad[] = {0x00, (char)0x80, 0x1b, (char)0xc0};
            char with[16];
            snprintf(with, sizeof with, "HOSTILE mutated");
            with[(x >> 24) % 15] = bad[(x >> 32) % 4];
            s_patch(f, len, "HOSTILE mutated", with);
            s_send3(conn, (x >> 40) % 8 ? "intake" : "intake\001", f, len);
        }
        free(f);
        break;
    }
    case K_CLAIM_RESERVED:
        n = s_small(buf, id, "intake.call.list.v1", "anyone", (x >> 24) & 1 ? "service" : "system",
                    0, NULL, 0);
        s_send3(conn, "intake", buf, n);
        break;
    default:
        break;
    }
}

/* Reads every reply waiting on the client's connection (or waits up to wait_ms
 * for the one with id `want`, when want is not NULL). Any OK reply to
 * another id is a hostile frame accepted. Returns 1 with *out when want's
 * reply came, 0 otherwise. */
static int s_replies(void *conn, const char *want, int wait_ms, Ccip__Envelope **out)
{
    int64_t until = ccip_now_us() + (int64_t)wait_ms * 1000;
    for (;;) {
        int64_t left = (until - ccip_now_us()) / 1000;
        zmq_pollitem_t it = {conn, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, want ? (left > 0 ? left : 0) : 0) != 1)
            return 0;
        zmq_msg_t f[3];
        int nf = ccip_sock_recv_parts(conn, f, 3, 0);
        Ccip__Envelope *r = NULL;
        if (nf == 3) {
            char err[256];
            r = ccip_envelope_unpack(zmq_msg_data(&f[2]), zmq_msg_size(&f[2]), 8 << 20, err,
                                     sizeof err);
        }
        for (int i = 0; nf <= 3 && i < nf; i++)
            zmq_msg_close(&f[i]);
        if (!r)
            continue;
        if (want && out && strcmp(r->id, want) == 0) {
            *out = r;
            return 1;
        }
        if (r->status == CCIP__STATUS__OK) {
            atomic_fetch_add(&s_accepted_bad, 1);
            fprintf(stderr, "bench hostile: a hostile frame was answered OK: %s %s\n", r->type,
                    r->id);
        }
        ccip_envelope_free(&r);
    }
}

/* Hostile frames REQUESTs reached the impostor's socket: it was served. */
static void s_check_impostor(void *svc)
{
    for (;;) {
        zmq_msg_t f[10];
        int n = ccip_sock_recv_parts(svc, f, 10, ZMQ_DONTWAIT);
        if (n < 0)
            return;
        if (n >= 2 && zmq_msg_size(&f[1]) == 1 &&
            *(const char *)zmq_msg_data(&f[1]) == CCIP_MDP_REQUEST[0])
            atomic_fetch_add(&s_accepted_bad, 1);
        for (int i = 0; n <= 10 && i < n; i++)
            zmq_msg_close(&f[i]);
    }
}

static void *s_client(void *arg)
{
    s_client_state *st = arg;
    s_results *res = &st->r[s_current];
    char err[512];
    void *conn = st->conn, *svc = st->svc, *pub = st->pub;
    int hostile = s_current == WIN_HOSTILE;
    long share = HOSTILE_FRAMES / ROUNDS / CLIENTS, sent = 0;
    int64_t start = ccip_now_us(), span = s_until_us - start;
    while (ccip_now_us() < s_until_us && st->next < s_calls_each) {
        const char *call = s_calls[(long)st->i * s_calls_each + st->next++];
        char id[CCIP_UUID_STRLEN + 1];
        ccip_uuid_v7(id);
        size_t len;
        uint8_t *f = s_filing(st, call, id, st->actor, "Digital heritage workshop", &len);
        s_send3(conn, "intake", f, len);
        free(f);
        /* Between this filing and the next, this thread's share of the
         * hostile frames, spread over the window. */
        if (hostile) {
            long due = (long)((double)share * (double)(ccip_now_us() - start) / (double)span) + 1;
            for (; sent < due && sent < share; sent++)
                s_hostile(st, conn, svc, pub, call);
        }
        Ccip__Envelope *r = NULL;
        if (!s_replies(conn, id, REPLY_WAIT_MS, &r)) {
            s_failure("file", -1, "no reply");
            continue;
        }
        if (r->status != CCIP__STATUS__OK) {
            s_failure("file", (int)r->status, r->error);
            ccip_envelope_free(&r);
            continue;
        }
        Ccip__Intake__ApplicationReply *ar = (Ccip__Intake__ApplicationReply *)ccip_payload_unpack(
            &ccip__intake__application_reply__descriptor, r->payload.data, r->payload.len,
            r->payload.len + 1, err, sizeof err);
        if (ar) {
            snprintf(res->ids[res->done++], CCIP_UUID_STRLEN + 1, "%s", ar->application->id);
            protobuf_c_message_free_unpacked(&ar->base, NULL);
        }
        ccip_envelope_free(&r);
        pthread_mutex_lock(&s_recent_mu);
        long slot = s_recent_n++ % RECENT_IDS;
        memcpy(s_recent_id[slot], id, sizeof id);
        memcpy(s_recent_actor[slot], st->actor, sizeof st->actor);
        pthread_mutex_unlock(&s_recent_mu);
        s_check_impostor(svc);
    }
    /* The rest of the window's share (a slow window sends it at its end). */
    for (; hostile && sent < share; sent++)
        s_hostile(st, conn, svc, pub, s_calls[(long)st->i * s_calls_each]);
    return NULL;
}

/* Forged events seen by a subscriber of intake's topics during a window. */
typedef struct {
    atomic_int stop;
    long forged;
    long heartbeats;
} s_watch;

static void *s_watcher(void *arg)
{
    s_watch *w = arg;
    char err[256];
    ccip_sock_opts so = {.keys = &s_env.admin_keys, .server_public = s_env.bus_keys.public_key};
    void *sub = ccip_sock_connect(s_ctx, ZMQ_SUB, s_env.subscribe, &so, err, sizeof err);
    if (!sub)
        return NULL;
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "intake.", 7);
    while (!atomic_load(&w->stop)) {
        zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 100) != 1)
            continue;
        zmq_msg_t f[3];
        int n = ccip_sock_recv_parts(sub, f, 3, 0);
        if (n == 2) {
            char env[4096];
            size_t len = zmq_msg_size(&f[1]) < sizeof env ? zmq_msg_size(&f[1]) : 0;
            memcpy(env, zmq_msg_data(&f[1]), len);
            /* A forged event carries aggregate id HOSTILE. */
            for (size_t k = 0; k + 7 <= len; k++)
                if (memcmp(env + k, "HOSTILE", 7) == 0) {
                    w->forged++;
                    break;
                }
            w->heartbeats += zmq_msg_size(&f[0]) == 26 &&
                             memcmp(zmq_msg_data(&f[0]), "intake.stream.heartbeat.v1", 26) == 0;
        }
        for (int i = 0; n <= 3 && i < n; i++)
            zmq_msg_close(&f[i]);
    }
    ccip_sock_close(&sub);
    return NULL;
}

/* CPU seconds (user + system) of process pid so far, and its parent's
 * pid. Returns 0, or -1 when the process is gone. */
static int s_stat(pid_t pid, double *cpu, pid_t *ppid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    /* pid (comm) state ppid ... utime stime are fields 14 and 15; comm may
     * hold spaces and parentheses, so read from its last ')'. */
    const char *p = strrchr(line, ')');
    int parent = 0;
    unsigned long ut = 0, st = 0;
    if (!p ||
        sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &parent, &ut, &st) != 3)
        return -1;
    *cpu = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    *ppid = (pid_t)parent;
    return 0;
}

static double s_cpu_of(pid_t pid)
{
    double cpu = 0;
    pid_t ppid;
    return s_stat(pid, &cpu, &ppid) == 0 ? cpu : 0;
}

/* PostgreSQL's postmaster (from CCIP_BENCH_PG_PIDFILE, which scripts/bench
 * sets to the cluster's postmaster.pid), or 0 when unknown. */
static pid_t s_postmaster(void)
{
    const char *file = getenv("CCIP_BENCH_PG_PIDFILE");
    FILE *f = file ? fopen(file, "r") : NULL;
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

/* CPU seconds of the postmaster and its children (backends, WAL writer,
 * checkpointer) so far: those alive now, which are all there were, as the
 * bench's and intake's connections last the whole run. */
static double s_cpu_pg(pid_t postmaster)
{
    if (postmaster <= 0)
        return 0;
    double total = s_cpu_of(postmaster);
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        double cpu;
        pid_t ppid;
        if (*end == '\0' && pid > 0 && s_stat((pid_t)pid, &cpu, &ppid) == 0 && ppid == postmaster)
            total += cpu;
    }
    if (d)
        closedir(d);
    return total;
}

/* The machine's busy CPU seconds so far (all cores). */
static double s_cpu_busy(void)
{
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    double busy = 0;
    if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                    &v[4], &v[5], &v[6], &v[7]) == 8)
        busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
    if (f)
        fclose(f);
    return busy;
}

/* CPU seconds spent during each kind of window: the bus, intake,
 * PostgreSQL, this program, and the whole machine (the others' share is
 * what the machine spent beyond these: other programs of a shared host). */
enum { CPU_BUS, CPU_INTAKE, CPU_PG, CPU_BENCH, CPU_MACHINE, NCPU };
static pid_t s_intake, s_pg;
static double s_cpu_spent[NWIN][NCPU];

/* intake's commands run and batches committed during each kind of window
 * (from ccip.ping.v1, asked before and after each window): how well the
 * commands of a window shared their transactions. */
static ccip_client *s_pinger;
static uint64_t s_batch_counts[NWIN][2];

/* intake's counters so far into out[0] (commands) and out[1] (batches);
 * zeros when it does not answer. */
static void s_intake_counts(uint64_t out[2])
{
    char err[256];
    Ccip__PingReply *r = NULL;
    out[0] = out[1] = 0;
    if (ccip_test_call(s_pinger, "intake", "", "", "ccip.ping.v1", NULL,
                       &ccip__ping_reply__descriptor, (ProtobufCMessage **)&r, err,
                       sizeof err) == 0 &&
        r) {
        out[0] = r->commands_run;
        out[1] = r->batches_committed;
    }
    if (r)
        protobuf_c_message_free_unpacked(&r->base, NULL);
}

static void s_cpu_sample(double out[NCPU])
{
    out[CPU_BUS] = s_cpu_of(s_bus);
    out[CPU_INTAKE] = s_cpu_of(s_intake);
    out[CPU_PG] = s_cpu_pg(s_pg);
    out[CPU_BENCH] = s_cpu_of(getpid());
    out[CPU_MACHINE] = s_cpu_busy();
}

static double s_window(s_window_kind kind, double seconds)
{
    double c0[NCPU], c1[NCPU];
    uint64_t n0[2], n1[2];
    s_intake_counts(n0);
    s_cpu_sample(c0);
    s_current = kind;
    s_until_us = ccip_now_us() + (int64_t)(seconds * 1e6);
    double t0 = ccip_test_mono_s();
    pthread_t t[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        pthread_create(&t[i], NULL, s_client, &s_clients[i]);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(t[i], NULL);
    s_cpu_sample(c1);
    s_intake_counts(n1);
    for (int k = 0; k < NCPU; k++)
        s_cpu_spent[kind][k] += c1[k] - c0[k];
    for (int k = 0; k < 2; k++)
        s_batch_counts[kind][k] += n1[k] - n0[k];
    return ccip_test_mono_s() - t0;
}

static long s_acked(s_window_kind kind)
{
    long n = 0;
    for (int i = 0; i < CLIENTS; i++)
        n += s_clients[i].r[kind].done;
    return n;
}

/* Filings acknowledged in all windows that the table does not hold as
 * SUBMITTED once, with a document. */
static long s_lost(void)
{
    long acked = 0;
    for (int w = 0; w < NWIN; w++)
        acked += s_acked((s_window_kind)w);
    if (acked == 0)
        return 0;
    size_t cap = (size_t)acked * (CCIP_UUID_STRLEN + 1) + 3, used = 0;
    char *list = malloc(cap);
    list[used++] = '{';
    for (int w = 0; w < NWIN; w++)
        for (int i = 0; i < CLIENTS; i++)
            for (long j = 0; j < s_clients[i].r[w].done; j++)
                used += (size_t)snprintf(list + used, cap - used, "%s%s", used > 1 ? "," : "",
                                         s_clients[i].r[w].ids[j]);
    list[used++] = '}';
    list[used] = '\0';
    static const ccip_db_stmt S_FOUND = {
        "bench_found", "SELECT count(*) FROM application a WHERE a.id = ANY($1::uuid[]) "
                       "AND a.status = 'SUBMITTED' AND a.submissions = 1 "
                       "AND EXISTS (SELECT 1 FROM document d WHERE d.application_id = a.id)"};
    ccip_db *db = ccip_test_db_connect_in("intake", "intake");
    const char *values[] = {list};
    PGresult *res = NULL;
    long found = -1;
    if (db && ccip_db_exec(db, &S_FOUND, 1, values, NULL, NULL, &res) == CCIP_DB_OK)
        found = atol(PQgetvalue(res, 0, 0));
    PQclear(res);
    ccip_db_destroy(&db);
    free(list);
    return found < 0 ? acked : acked - found;
}

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 10;
    if (seconds < 2) {
        fprintf(stderr, "usage: bench_hostile [SECONDS >= 2]\n");
        return 2;
    }
    const char *kinds = getenv("CCIP_BENCH_HOSTILE_KINDS");
    for (int k = 0; k < NKINDS; k++) {
        size_t n = strlen(s_kind_names[k]);
        const char *p = kinds ? strstr(kinds, s_kind_names[k]) : NULL;
        s_enabled[k] = !kinds || (p && (p[n] == ',' || p[n] == '\0'));
    }
    s_pg = s_postmaster();
    setenv("CCIP_WORKERS", WORKERS, 0);
    setenv("CCIP_BATCH_WAIT_US", BATCH_WAIT_US, 0);
    setenv("CCIP_BUS_MAX_WAIT_MS", BUS_MAX_WAIT, 0);
    setenv("CCIP_INTAKE_CLOSE_CHECK_SECONDS", "0", 0);
    char path[400], err[512];
    if (ccip_test_env_init(&s_env) < 0 || (s_bus = ccip_test_start_bus(&s_env)) < 0 ||
        (s_intake =
             ccip_test_start_service(&s_env, "services/intake/intake", "intake", "intake-1")) < 0) {
        fprintf(stderr, "bench hostile: could not start the services\n");
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    snprintf(path, sizeof path, "%s/allowed/evaluation.key", s_env.dir);
    if (ccip_keypair_load(path, &s_service_key, err, sizeof err) < 0) {
        fprintf(stderr, "bench hostile: %s\n", err);
        return 1;
    }
    s_ctx = zmq_ctx_new();
    ccip_sock_opts so = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    ccip_client *c = ccip_client_new(s_ctx, s_env.commands, &so, err, sizeof err);
    int up = c && ccip_test_wait_for(c, "intake", CCIP_TEST_SVC_START_MS) == 0;
    /* Enough calls for 3,000 filings a second over every window. */
    s_calls_each = (long)(3000.0 * (2 * seconds + 1) / CLIENTS) + 200;
    s_calls = calloc((size_t)(s_calls_each * CLIENTS), sizeof *s_calls);
    if (!up || !s_calls ||
        ccip_test_intake_calls(c, "bench hostile", s_calls_each * CLIENTS, s_calls) < 0) {
        ccip_test_env_cleanup(&s_env, 1);
        return 1;
    }
    for (int i = 0; i < CLIENTS; i++) {
        s_client_state *st = &s_clients[i];
        st->i = i;
        st->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
        ccip_test_uscc("110105", st->uscc);
        memcpy(st->actor, "org:", 4);
        memcpy(st->actor + 4, st->uscc, sizeof st->uscc);
        for (int w = 0; w < NWIN; w++)
            st->r[w].ids = calloc((size_t)s_calls_each, sizeof *st->r[w].ids);
        if (ccip_test_intake_org(c, st->uscc, "Beijing Bench Creative Co., Ltd.") < 0) {
            ccip_test_env_cleanup(&s_env, 1);
            return 1;
        }
    }
    s_pinger = c; /* kept for s_intake_counts */
    long orgs0 = ccip_test_query_number(
        "intake", "SELECT count(*) FROM organisation WHERE name LIKE 'HOSTILE%'");

    /* Every thread's connections, kept through all windows. */
    ccip_sock_opts front = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    ccip_sock_opts service = {.keys = &s_service_key, .server_public = s_env.bus_keys.public_key};
    for (int i = 0; i < CLIENTS; i++) {
        s_client_state *st = &s_clients[i];
        st->conn = ccip_sock_connect(s_ctx, ZMQ_DEALER, s_env.commands, &front, err, sizeof err);
        st->svc = ccip_sock_connect(s_ctx, ZMQ_DEALER, s_env.commands, &service, err, sizeof err);
        st->pub = ccip_sock_connect(s_ctx, ZMQ_PUB, s_env.publish, &service, err, sizeof err);
        if (!st->conn || !st->svc || !st->pub) {
            fprintf(stderr, "bench hostile: %s\n", err);
            ccip_test_env_cleanup(&s_env, 1);
            return 1;
        }
    }
    s_window(WIN_WARMUP, 1.0);
    struct timespec settle = {1, 0};
    nanosleep(&settle, NULL);
    long idle_kib = s_rss_kib(s_bus);
    atomic_store(&s_rss_peak_kib, idle_kib);

    s_watch watch = {0};
    pthread_t watcher, monitor;
    pthread_create(&watcher, NULL, s_watcher, &watch);
    pthread_create(&monitor, NULL, s_monitor, NULL);
    double tb = 0, th = 0, win = (double)seconds / ROUNDS;
    for (int round = 0; round < ROUNDS; round++) {
        if (round % 2 == 0) {
            tb += s_window(WIN_BASE, win);
            th += s_window(WIN_HOSTILE, win);
        } else {
            th += s_window(WIN_HOSTILE, win);
            tb += s_window(WIN_BASE, win);
        }
    }
    /* Every reply the hostile frames get (parked ones wait up to 5 s). */
    int64_t drain_until = ccip_now_us() + 7000000;
    while (ccip_now_us() < drain_until)
        for (int i = 0; i < CLIENTS; i++) {
            s_replies(s_clients[i].conn, "-", 25, NULL);
            s_check_impostor(s_clients[i].svc);
        }
    int64_t drained = ccip_now_us();
    long after_kib = -1;
    for (;;) {
        after_kib = s_rss_kib(s_bus);
        if (after_kib <= 2 * idle_kib || ccip_now_us() - drained > 10000000)
            break;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    double after_s = (double)(ccip_now_us() - drained) / 1e6;
    atomic_store(&watch.stop, 1);
    pthread_join(watcher, NULL);
    atomic_store(&s_monitor_stop, 1);
    pthread_join(monitor, NULL);
    for (int i = 0; i < CLIENTS; i++) {
        ccip_sock_close(&s_clients[i].conn);
        ccip_sock_close(&s_clients[i].svc);
        ccip_sock_close(&s_clients[i].pub);
    }

    long bad_rows = ccip_test_query_number(
                        "intake", "SELECT (SELECT count(*) FROM application WHERE title LIKE "
                                  "'HOSTILE%') + (SELECT count(*) FROM organisation WHERE name "
                                  "LIKE 'HOSTILE%')") -
                    orgs0;
    long accepted_bad = atomic_load(&s_accepted_bad) + watch.forged + (bad_rows > 0 ? bad_rows : 0);
    long lost = s_lost();
    long failed = atomic_load(&s_failed);
    double baseline = (double)s_acked(WIN_BASE) / tb;
    double valid = (double)s_acked(WIN_HOSTILE) / th;
    long total = 0;
    fprintf(stderr, "bench hostile: hostile frames by kind:");
    for (int k = 0; k < NKINDS; k++) {
        fprintf(stderr, " %s=%ld", s_kind_names[k], atomic_load(&s_sent[k]));
        total += atomic_load(&s_sent[k]);
    }
    fprintf(stderr, " (total %ld)\n", total);
    /* Where the CPU went: per filing in each kind of window, and what the
     * hostile windows spent beyond their filings at the baseline's cost,
     * per hostile frame. "others" is the rest of the machine (other
     * programs of a shared host use what this run leaves idle). */
    static const char *const who[NCPU] = {"bus", "intake", "postgres", "bench", "others"};
    double per[2][NCPU], extra[NCPU];
    long nb = s_acked(WIN_BASE) ? s_acked(WIN_BASE) : 1;
    long nh = s_acked(WIN_HOSTILE) ? s_acked(WIN_HOSTILE) : 1;
    for (int w = 0; w < 2; w++) {
        const double *spent = s_cpu_spent[w == 0 ? WIN_BASE : WIN_HOSTILE];
        double ours = spent[CPU_BUS] + spent[CPU_INTAKE] + spent[CPU_PG] + spent[CPU_BENCH];
        for (int k = 0; k < NCPU; k++)
            per[w][k] =
                1000.0 * (k == CPU_MACHINE ? spent[k] - ours : spent[k]) / (double)(w ? nh : nb);
    }
    for (int k = 0; k < NCPU; k++)
        extra[k] = (per[1][k] - per[0][k]) * (double)nh / (double)(total ? total : 1);
    fprintf(stderr, "bench hostile: CPU ms per filing, alone / among hostile frames:");
    for (int k = 0; k < NCPU; k++)
        fprintf(stderr, " %s %.2f / %.2f", who[k], per[0][k], per[1][k]);
    long cores = sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
    fprintf(stderr, "; machine busy %.0f%% / %.0f%% of %ld cores\n",
            100.0 * s_cpu_spent[WIN_BASE][CPU_MACHINE] / (tb * (double)cores),
            100.0 * s_cpu_spent[WIN_HOSTILE][CPU_MACHINE] / (th * (double)cores), cores);
    fprintf(stderr, "bench hostile: CPU ms per hostile frame (beyond the filings' own):");
    for (int k = 0; k < CPU_MACHINE; k++)
        fprintf(stderr, " %s %.3f", who[k], extra[k]);
    fprintf(stderr, "\n");
    for (int w = WIN_BASE; w <= WIN_HOSTILE; w++) {
        const uint64_t *bc = s_batch_counts[w];
        fprintf(stderr,
                "bench hostile: intake %s: %llu commands (filings and what reached its handlers' "
                "batcher) in %llu batches, %.2f a batch, %.2f batches per filing\n",
                w == WIN_BASE ? "alone" : "among hostile frames", (unsigned long long)bc[0],
                (unsigned long long)bc[1], bc[1] ? (double)bc[0] / (double)bc[1] : 0.0,
                (double)bc[1] / (double)(w == WIN_BASE ? nb : nh));
    }
    ccip_client_destroy(&s_pinger);
    ccip_test_env_cleanup(&s_env, failed > 0 || lost != 0 || accepted_bad != 0);
    printf("bench hostile: %ld filings in %.1f s alone, %ld in %.1f s among %ld hostile frames "
           "on %d connections (plus a service key's DEALER and PUB each), in %d rounds; "
           "failed=%ld; intake's heartbeats seen by the watcher %ld; bus idle %.1f MiB, within 2x "
           "idle %.1f s after the replies were drained\n",
           s_acked(WIN_BASE), tb, s_acked(WIN_HOSTILE), th, total, CLIENTS, ROUNDS, failed,
           watch.heartbeats, (double)idle_kib / 1024.0, after_s);
    printf("bench hostile: valid_per_s=%.0f baseline_per_s=%.0f ratio=%.2f accepted_bad=%ld "
           "lost=%ld bus_rss_mib_peak=%.1f bus_rss_mib_after=%.1f\n",
           valid, baseline, baseline > 0 ? valid / baseline : 0, accepted_bad, lost,
           (double)atomic_load(&s_rss_peak_kib) / 1024.0, (double)after_kib / 1024.0);
    return failed > 0 || lost != 0 || accepted_bad != 0 ? 1 : 0;
}
