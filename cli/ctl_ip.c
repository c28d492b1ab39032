/*
 * ccipctl ip ...: the IP registry and trading platform (services/ip).
 *
 * Offline, with no bus: `keygen` makes the platform's signing key pair and
 * `verify` checks a receipt with only the public key. Everything else sends
 * one command to the ip service (see proto/ccip/ip.proto) as the --actor and
 * --role given to ccipctl, and prints the reply: indented "field: value"
 * lines for people (amounts in fen also in yuan, times also as RFC 3339), or
 * one JSON object with --json. `audit-chain` reads the whole chain in batches
 * and recomputes every hash here, so it trusts nothing the service says.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccip/ip.pb-c.h"
#include "ccip_id.h"
#include "ctl.h"
#include "ip_chain.h"
#include "ip_keys.h"
#include "ip_receipts.h"
#include "ip_validate.h"

#define FILE_MAX         (64 * 1024 * 1024) /* largest file read for --file / --content */
#define AUDIT_BATCH      2000               /* chain records per request unless --batch */
#define AUDIT_BATCH_MAX  5000               /* what the service gives at most */
#define AUDIT_FETCHERS   2                  /* batches read in parallel */
#define AUDIT_WINDOW     4                  /* batches read ahead of the verifier, at most */
#define RECEIPT_FILE_MAX 4096
#define AUDIT_KEYS       8 /* public keys audit-chain accepts */

static const char S_OVERVIEW[] =
    "usage: ccipctl ip COMMAND ...   (--actor ID --role ROLE say who acts: \"org:<USCC>\" as\n"
    "                                 owner or applicant, or a staff id as staff)\n"
    "offline:\n"
    "  keygen NAME [--dir DIR]             make the platform's Ed25519 signing key pair\n"
    "  verify RECEIPT --key PUB [--content FILE]\n"
    "                                      check a receipt with the public key alone\n"
    "registry:\n"
    "  key [--out FILE]                    the platform's public key (to publish)\n"
    "  register --kind KIND --title TEXT --created-on YYYY-MM-DD (--file FILE [--store] |\n"
    "           --sha256 HEX) [--owner PARTY[=BASIS_POINTS]]... [--creator NAME]...\n"
    "           [--receipt-out FILE]      register a work; prints its signed receipt\n"
    "  work get ID|SERIAL                  a work, its owners and its receipt\n"
    "  work list [--owner PARTY] [--after SERIAL] [--limit N]\n"
    "  receipt ID|SERIAL [--out FILE]     a registration's signed receipt, again\n"
    "  audit-chain [--key PUB]...          recompute every chain hash (and with --key check\n"
    "                                      every signature); reports the first broken link\n"
    "  review list | review resolve WORK --decision cleared|confirmed --note TEXT\n"
    "trading:\n"
    "  listing create WORK --deal transfer|exclusive-licence|non-exclusive-licence\n"
    "           --price YUAN [--territory CODE]... [--from YYYY-MM-DD --to YYYY-MM-DD]\n"
    "  listing update LISTING --price YUAN [--territory CODE]... [--from DATE --to DATE]\n"
    "  listing withdraw|get LISTING        listing list [--work WORK] [--open]\n"
    "  offer make LISTING --price YUAN [--note TEXT]   offer withdraw|accept OFFER\n"
    "  contract settle CONTRACT --payment-ref REF --paid YUAN   contract get CONTRACT\n"
    "  contract list [--status CONTRACTED|SETTLED] [--party PARTY] [--work WORK] [--limit N]\n"
    "disputes:\n"
    "  dispute file WORK --kind infringement|improper-registration --statement TEXT\n"
    "           --evidence DESCRIPTION=SHA256...\n"
    "  dispute answer DISPUTE --answer TEXT [--evidence DESCRIPTION=SHA256]...\n"
    "  dispute rule DISPUTE --uphold|--dismiss --reasons TEXT    dispute get DISPUTE\n"
    "  dispute lift DISPUTE --reasons TEXT  (lifts an upheld dispute's freeze)\n"
    "  dispute list [--status FILED|ANSWERED|UPHELD|DISMISSED] [--work WORK] [--limit N]\n"
    "services:\n"
    "  provider register --name TEXT --category CATEGORY... [--description TEXT]\n"
    "  provider verify PROVIDER            provider list [--category CATEGORY] [--verified]\n"
    "  request create PROVIDER --category CATEGORY --description TEXT\n"
    "  request accept|complete REQUEST     request rate REQUEST --rating 1..5 [--note TEXT]\n"
    "exit codes: 0 done (verify, audit-chain: intact), 1 refused or does not verify, 2 usage,\n"
    "3 no answer, 4 local problem\n";

/* ---- files --------------------------------------------------------------------- */

/* Writes text to a new file (never over an existing one). */
static int s_write_new(const char *path, const char *text)
{
    FILE *f = fopen(path, "wx");
    if (!f) {
        fprintf(stderr, "ccipctl: could not create %s: %s\n", path, strerror(errno));
        return CTL_LOCAL;
    }
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad) {
        fprintf(stderr, "ccipctl: could not write %s\n", path);
        return CTL_LOCAL;
    }
    return 0;
}

/* ---- offline: keygen, verify --------------------------------------------------- */

static const ctl_arg A_KEYGEN[] = {CTL_STR("NAME", NULL, CTL_ARG), CTL_STR("dir", NULL, 0), {0}};

static int s_keygen(ctl_opts *o, ctl_args *a)
{
    ip_key k;
    char err[512];
    const char *dir = ctl_str_or(a, "dir", "."), *name = ctl_str(a, "NAME");
    if (ip_key_generate(&k) < 0) {
        fprintf(stderr, "ccipctl: could not initialise libsodium\n");
        return CTL_LOCAL;
    }
    int rc = ip_key_save(dir, name, &k, err, sizeof err);
    ip_key_wipe(&k);
    if (rc < 0) {
        fprintf(stderr, "ccipctl: %s\n", err);
        return CTL_LOCAL;
    }
    printf("wrote %s/%s.key (secret) and %s/%s.pub (publish it)\n", dir, name, dir, name);
    return CTL_OK;
}

/* SHA-256 of a file, streamed. */
static int s_hash_file(const char *path, uint8_t out[IP_HASH_LEN])
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ccipctl: could not open %s: %s\n", path, strerror(errno));
        return -1;
    }
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_hash_sha256_update(&st, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "ccipctl: could not read %s\n", path);
        return -1;
    }
    crypto_hash_sha256_final(&st, out);
    return 0;
}

static const ctl_arg A_VERIFY[] = {CTL_STR("RECEIPT", NULL, CTL_ARG),
                                   CTL_STR("key", NULL, CTL_REQUIRED),
                                   CTL_STR("content", NULL, 0),
                                   {0}};

static int s_verify(ctl_opts *o, ctl_args *a)
{
    if (sodium_init() < 0)
        return CTL_LOCAL;
    size_t len = 0;
    char err[512];
    uint8_t *text = ctl_read_file(a, ctl_str(a, "RECEIPT"), RECEIPT_FILE_MAX, &len);
    if (!text)
        return CTL_LOCAL;
    ip_key key;
    if (ip_key_load_public(ctl_str(a, "key"), &key, err, sizeof err) < 0) {
        fprintf(stderr, "ccipctl: %s\n", err);
        return CTL_LOCAL;
    }
    ip_receipt r;
    const char *content = ctl_str_or(a, "content", NULL);
    int ok = ip_receipt_parse((const char *)text, len, &r, err, sizeof err) == 0 &&
             ip_receipt_verify(&r, &key, err, sizeof err) == 0;
    int content_ok = 1;
    char want[IP_HASH_HEX + 1] = "", got[IP_HASH_HEX + 1] = "";
    if (ok && content) {
        uint8_t h[IP_HASH_LEN];
        if (s_hash_file(content, h) < 0)
            return CTL_LOCAL;
        content_ok = sodium_memcmp(h, r.content_sha256, IP_HASH_LEN) == 0;
        ip_hex(h, IP_HASH_LEN, got);
        ip_hex(r.content_sha256, IP_HASH_LEN, want);
        if (!content_ok)
            snprintf(err, sizeof err,
                     "content: %s hashes to %s, the receipt was signed for %s (a different or "
                     "altered file)",
                     content, got, want);
    }
    char when[CCIP_TIME_STRLEN + 1] = "", serial[24] = "";
    if (ok) {
        ccip_time_format_us(r.registered_at_us, when, sizeof when);
        ip_serial_text(r.serial, serial, sizeof serial);
    }
    int good = ok && content_ok;
    if (o->json) {
        printf("{\"verified\":%s,\"serial\":%" PRIu64, good ? "true" : "false", ok ? r.serial : 0);
        ctl_json_field(stdout, ",\"work_id\":", ok ? r.work_id : "");
        ctl_json_field(stdout, ",\"registered_at\":", when);
        printf(",\"content_checked\":%s", ok && content ? "true" : "false");
        ctl_json_field(stdout, ",\"error\":", good ? "" : err);
        printf("}\n");
    } else if (good) {
        printf("receipt verifies: %s (serial %" PRIu64 "), work %s, registered at %s, signed by "
               "key %s%s%s\n",
               serial, r.serial, r.work_id, when, r.key_id, content ? "; content matches " : "",
               content ? content : "");
    } else {
        fprintf(stderr, "ccipctl: receipt does NOT verify: %s\n", err);
    }
    return good ? CTL_OK : CTL_REFUSED;
}

/* ---- the registry ---------------------------------------------------------------- */

static const ctl_arg A_OUT[] = {CTL_STR("out", NULL, 0), {0}};

/* The platform's public key: printed, or with --out written to a new file. */
static int s_key(ctl_opts *o, ctl_args *a)
{
    Ccip__Ip__KeyRequest rq = CCIP__IP__KEY_REQUEST__INIT;
    if (!ctl_given(a, "out"))
        return ctl_send(o, a, &rq.base);
    Ccip__Ip__KeyReply *k = NULL;
    int rc = ctl_send_reply(o, a, &rq.base, (ProtobufCMessage **)&k);
    if (rc == CTL_OK)
        rc = s_write_new(ctl_str(a, "out"), k->key_file);
    if (rc == CTL_OK)
        printf("wrote %s (key %s)\n", ctl_str(a, "out"), k->key_id);
    if (k)
        protobuf_c_message_free_unpacked(&k->base, NULL);
    return rc;
}

static const ctl_arg A_REGISTER[] = {
    CTL_ENUM("kind", "kind", &ccip__ip__work_kind__descriptor, NULL, CTL_REQUIRED),
    CTL_STR("title", "title", CTL_REQUIRED),
    CTL_STR("created-on", "created_on", CTL_REQUIRED),
    CTL_STR("file", NULL, 0),
    CTL_STR("sha256", "content_sha256", 0),
    CTL_FLAG("store", NULL),
    CTL_STR("owner", NULL, CTL_REPEATED),
    CTL_STR("creator", "creators", CTL_REPEATED),
    CTL_STR("receipt-out", NULL, 0),
    {0}};

/* Registers a work, prints the reply, and with --receipt-out writes its
 * receipt to a new file. */
static int s_register(ctl_opts *o, ctl_args *a)
{
    if (!ctl_given(a, "file") == !ctl_given(a, "sha256")) {
        fprintf(stderr, "ccipctl: give either --file or --sha256\n");
        return CTL_USAGE;
    }
    Ccip__Ip__RegisterWorkRequest rq = CCIP__IP__REGISTER_WORK_REQUEST__INIT;
    char hash_hex[IP_HASH_HEX + 1];
    if (ctl_given(a, "file")) {
        size_t len = 0;
        uint8_t *content = ctl_read_file(a, ctl_str(a, "file"), FILE_MAX, &len);
        if (!content)
            return CTL_LOCAL;
        uint8_t h[IP_HASH_LEN];
        crypto_hash_sha256(h, content, len);
        ip_hex(h, IP_HASH_LEN, hash_hex);
        rq.content_sha256 = hash_hex;
        if (ctl_given(a, "store")) {
            rq.content.data = content;
            rq.content.len = len;
        }
    }
    rq.n_owners = (size_t)ctl_given(a, "owner");
    rq.owners = ctl_messages(a, &ccip__ip__owner__descriptor, rq.n_owners);
    for (size_t i = 0; i < rq.n_owners; i++) {
        char *share;
        rq.owners[i]->party = ctl_cut(a, ctl_str_at(a, "owner", (int)i), '=', 0, &share);
        /* Read as it always was: the service checks that shares add up. */
        rq.owners[i]->share_bp = share ? (uint32_t)strtoul(share, NULL, 10) : 10000;
    }
    Ccip__Ip__RegisterWorkReply *r = NULL;
    int rc = ctl_send_reply(o, a, &rq.base, (ProtobufCMessage **)&r);
    if (rc != CTL_OK)
        return rc;
    ctl_print(o, a, &r->base, ctl_print_fields);
    const char *out = ctl_str_or(a, "receipt-out", NULL);
    if (out) {
        rc = s_write_new(out, r->receipt);
        if (rc == CTL_OK && !o->json)
            printf("receipt written to %s\n", out);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return rc;
}

/* A work by its id, or by its serial ("IP-00000042" or 42). */
static void s_work_ref(const char *ref, Ccip__Ip__GetWorkRequest *rq)
{
    if (ccip_uuid_valid(ref))
        rq->work_id = (char *)ref;
    else
        rq->serial = strtoull(ref + (strncmp(ref, "IP-", 3) == 0 ? 3 : 0), NULL, 10);
}

static const ctl_arg A_WORK_GET[] = {CTL_STR("ID|SERIAL", NULL, CTL_ARG), {0}};

static int s_work_get(ctl_opts *o, ctl_args *a)
{
    Ccip__Ip__GetWorkRequest rq = CCIP__IP__GET_WORK_REQUEST__INIT;
    s_work_ref(ctl_str(a, "ID|SERIAL"), &rq);
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_WORK_LIST[] = {
    CTL_STR("owner", "owner", 0), CTL_STR("after", NULL, 0), CTL_STR("limit", NULL, 0), {0}};

static int s_work_list(ctl_opts *o, ctl_args *a)
{
    Ccip__Ip__ListWorksRequest rq = CCIP__IP__LIST_WORKS_REQUEST__INIT;
    /* Read as they always were: what is not a number is 0 (the default). */
    rq.after_serial = strtoull(ctl_str(a, "after"), NULL, 10);
    rq.limit = (uint32_t)strtoul(ctl_str(a, "limit"), NULL, 10);
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_RECEIPT[] = {
    CTL_STR("ID|SERIAL", NULL, CTL_ARG), CTL_STR("out", NULL, 0), {0}};

/* `receipt ID|SERIAL [--out FILE]`: a registration's receipt again, as
 * text ready for `verify`. */
static int s_receipt(ctl_opts *o, ctl_args *a)
{
    Ccip__Ip__GetWorkRequest rq = CCIP__IP__GET_WORK_REQUEST__INIT;
    s_work_ref(ctl_str(a, "ID|SERIAL"), &rq);
    Ccip__Ip__WorkReply *w = NULL;
    int rc = ctl_send_reply(o, a, &rq.base, (ProtobufCMessage **)&w);
    if (rc != CTL_OK)
        return rc;
    if (ctl_given(a, "out"))
        rc = s_write_new(ctl_str(a, "out"), w->receipt);
    else
        fputs(w->receipt, stdout);
    protobuf_c_message_free_unpacked(&w->base, NULL);
    return rc;
}

/* Fills an ip_chain_record from a record as read (owners into own). */
static void s_record(const Ccip__Ip__ChainRecord *c, ip_chain_owner *own, ip_chain_record *r)
{
    memset(r, 0, sizeof *r);
    r->seq = c->seq;
    if (c->prev_hash.len == IP_HASH_LEN)
        memcpy(r->prev_hash, c->prev_hash.data, IP_HASH_LEN);
    r->work_id = c->work_id;
    r->kind = c->kind;
    r->title = c->title;
    for (size_t i = 0; i < c->n_owners; i++) {
        own[i].party = c->owners[i]->party;
        own[i].share_bp = c->owners[i]->share_bp;
    }
    r->owners = own;
    r->nowners = c->n_owners;
    r->creators = (const char *const *)c->creators;
    r->ncreators = c->n_creators;
    r->created_on = c->created_on;
    if (c->content_sha256.len == IP_HASH_LEN)
        memcpy(r->content_sha256, c->content_sha256.data, IP_HASH_LEN);
    r->registered_at_us = c->registered_at_us;
    r->registrant = c->registrant;
    r->key_id = c->key_id;
}

/* Checks one record's receipt signature with the key of its key id. */
static int s_record_signature(const Ccip__Ip__ChainRecord *c, const ip_key *keys, int nkeys,
                              char *err, size_t errlen)
{
    const ip_key *key = NULL;
    for (int i = 0; i < nkeys && !key; i++)
        if (strcmp(keys[i].key_id, c->key_id) == 0)
            key = &keys[i];
    if (!key) {
        snprintf(err, errlen,
                 "record %" PRIu64 " was signed with key %s, whose public key was not given "
                 "(pass every key the platform has used with --key)",
                 c->seq, c->key_id);
        return -1;
    }
    /* The service is not trusted: sizes are checked before anything is
     * copied. */
    if (c->signature.len != IP_SIGNATURE_LEN || c->content_sha256.len != IP_HASH_LEN ||
        c->hash.len != IP_HASH_LEN) {
        snprintf(err, errlen,
                 "record %" PRIu64 " is malformed (a hash or its signature is missing)", c->seq);
        return -1;
    }
    ip_receipt r;
    memset(&r, 0, sizeof r);
    r.serial = c->seq;
    snprintf(r.work_id, sizeof r.work_id, "%s", c->work_id);
    memcpy(r.content_sha256, c->content_sha256.data, IP_HASH_LEN);
    memcpy(r.chain_hash, c->hash.data, IP_HASH_LEN);
    r.registered_at_us = c->registered_at_us;
    snprintf(r.key_id, sizeof r.key_id, "%s", c->key_id);
    memcpy(r.signature, c->signature.data, IP_SIGNATURE_LEN);
    char why[300];
    if (ip_receipt_verify(&r, key, why, sizeof why) < 0) {
        snprintf(err, errlen, "record %" PRIu64 "'s signature does not verify: %s", c->seq, why);
        return -1;
    }
    return 0;
}

static double s_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
/* The audit's state: the verifier walking the chain in order, and the
 * fetchers reading batches ahead of it in parallel (the service reads and
 * encodes a batch on one worker while another reads the next, and the
 * verifier hashes meanwhile). Batch k holds seqs 1 + k*B .. (k+1)*B. */
typedef struct {
    ctl_opts *o;
    uint32_t batch;                           /* records per batch (B) */
    int without_signatures;                   /* no key given: signatures not fetched */
    size_t nbatches;                          /* batches up to the head */
    pthread_mutex_t mu;                       /* guards everything below */
    pthread_cond_t cv;                        /* a batch arrived, or one was consumed */
    Ccip__Ip__ChainBatch *slot[AUDIT_WINDOW]; /* batch k in slot k % AUDIT_WINDOW */
    size_t slot_k[AUDIT_WINDOW];              /* which batch a slot holds (SIZE_MAX: none) */
    size_t consumed;                          /* batches the verifier is done with */
    int stop;                                 /* the verifier needs no more */
    int failed;                               /* a fetch failed: code says how */
    int code;
} s_audit_state;

typedef struct {
    s_audit_state *st;
    ccip_client *client; /* the fetcher's own connection */
    size_t first;        /* first batch it fetches; then every AUDIT_FETCHERS-th */
    pthread_t thread;
} s_fetcher;

/* Fetches the batch from seq `from` on client c: its decoded reply, or
 * NULL with *code (the reason printed). */
static Ccip__Ip__ChainBatch *s_fetch_batch(ctl_opts *o, ccip_client *c, uint64_t from, uint32_t max,
                                           int without_signatures, int *code)
{
    Ccip__Ip__ReadChainRequest rq = CCIP__IP__READ_CHAIN_REQUEST__INIT;
    rq.from_seq = from;
    rq.max = max;
    rq.without_signatures = without_signatures;
    ProtobufCMessage *b = NULL;
    *code = ctl_request(o, &c, "ip", "ip.chain.read.v1", &rq.base,
                        &ccip__ip__chain_batch__descriptor, &b);
    return (Ccip__Ip__ChainBatch *)b;
}

static void *s_fetcher_run(void *arg)
{
    s_fetcher *f = arg;
    s_audit_state *st = f->st;
    for (size_t k = f->first; k < st->nbatches; k += AUDIT_FETCHERS) {
        pthread_mutex_lock(&st->mu);
        while (!st->stop && !st->failed && k >= st->consumed + AUDIT_WINDOW)
            pthread_cond_wait(&st->cv, &st->mu);
        int quit = st->stop || st->failed;
        pthread_mutex_unlock(&st->mu);
        if (quit)
            break;
        int code = CTL_OK;
        Ccip__Ip__ChainBatch *b = s_fetch_batch(st->o, f->client, 1 + (uint64_t)k * st->batch,
                                                st->batch, st->without_signatures, &code);
        pthread_mutex_lock(&st->mu);
        if (!b) {
            st->failed = 1;
            st->code = code;
        } else {
            st->slot[k % AUDIT_WINDOW] = b;
            st->slot_k[k % AUDIT_WINDOW] = k;
        }
        pthread_cond_broadcast(&st->cv);
        pthread_mutex_unlock(&st->mu);
        if (!b)
            break;
    }
    return NULL;
}

/* What the verifier has found so far. */
typedef struct {
    ip_chain_verifier v;
    const ip_key *keys;
    int nkeys;
    uint64_t head_seq;
    uint64_t checked;
    uint64_t broken_at;
    int broken;
    char err[600];
} s_walk;

/* Verifies the records of one batch up to the head. */
static void s_walk_batch(s_walk *w, const Ccip__Ip__ChainBatch *b)
{
    for (size_t i = 0; i < b->n_records && !w->broken; i++) {
        const Ccip__Ip__ChainRecord *cr = b->records[i];
        if (cr->seq > w->head_seq)
            break;
        ip_chain_owner own[IP_OWNERS_MAX];
        ip_chain_record r;
        uint8_t stored[IP_HASH_LEN] = {0};
        if (cr->n_owners > IP_OWNERS_MAX || cr->hash.len != IP_HASH_LEN) {
            snprintf(w->err, sizeof w->err, "record %" PRIu64 " is malformed", cr->seq);
            w->broken = 1;
        } else {
            memcpy(stored, cr->hash.data, IP_HASH_LEN);
            s_record(cr, own, &r);
            w->broken =
                ip_chain_verify_next(&w->v, &r, stored, w->err, sizeof w->err) < 0 ||
                (w->nkeys && s_record_signature(cr, w->keys, w->nkeys, w->err, sizeof w->err) < 0);
        }
        if (w->broken)
            w->broken_at = cr->seq;
        else
            w->checked++;
    }
}

static const ctl_arg A_AUDIT[] = {
    CTL_STR("key", NULL, CTL_REPEATED), CTL_STR("batch", NULL, 0), {0}};

/* Reads the whole chain in batches (fetchers ahead of the verifier) and
 * recomputes every hash and link, and with --key every signature, here. */
static int s_audit(ctl_opts *o, ctl_args *a)
{
    if (ctl_given(a, "key") > AUDIT_KEYS) {
        fprintf(stderr, "ccipctl: give at most %d --key\n", AUDIT_KEYS);
        return CTL_USAGE;
    }
    static s_walk w; /* large; one audit per process */
    memset(&w, 0, sizeof w);
    ip_key keys[AUDIT_KEYS];
    w.nkeys = ctl_given(a, "key");
    w.keys = keys;
    for (int i = 0; i < w.nkeys; i++)
        if (ip_key_load_public(ctl_str_at(a, "key", i), &keys[i], w.err, sizeof w.err) < 0) {
            fprintf(stderr, "ccipctl: %s\n", w.err);
            return CTL_LOCAL;
        }
    /* Read as it always was: not a number, 0 or too many is the default. */
    uint32_t batch = (uint32_t)strtoul(ctl_str(a, "batch"), NULL, 10);
    if (batch == 0 || batch > AUDIT_BATCH_MAX)
        batch = AUDIT_BATCH;
    s_audit_state st = {.o = o, .batch = batch, .without_signatures = w.nkeys == 0};
    pthread_mutex_init(&st.mu, NULL);
    pthread_cond_init(&st.cv, NULL);
    for (int i = 0; i < AUDIT_WINDOW; i++)
        st.slot_k[i] = SIZE_MAX;
    s_fetcher fetchers[AUDIT_FETCHERS];
    int nfetchers = 0, code = CTL_OK;
    ccip_client *c = ctl_connect(o);
    if (!c)
        return CTL_LOCAL;
    ip_chain_verifier_init(&w.v);
    uint8_t head_hash[IP_HASH_LEN] = {0};
    double t0 = s_seconds();
    /* Batch 0 on this connection: it also fixes the head the audit covers
     * (the chain as it stood at this first read). */
    Ccip__Ip__ChainBatch *b = s_fetch_batch(o, c, 1, batch, st.without_signatures, &code);
    if (b) {
        w.head_seq = b->head_seq;
        if (b->head_hash.len == IP_HASH_LEN)
            memcpy(head_hash, b->head_hash.data, IP_HASH_LEN);
        st.nbatches = (size_t)((w.head_seq + batch - 1) / batch);
        s_walk_batch(&w, b);
        protobuf_c_message_free_unpacked(&b->base, NULL);
        st.consumed = 1;
    }
    for (int i = 0; b && !w.broken && i < AUDIT_FETCHERS && (size_t)i + 1 < st.nbatches; i++) {
        fetchers[i] = (s_fetcher){.st = &st, .first = (size_t)i + 1};
        if (!(fetchers[i].client = ctl_connect(o)))
            break;
        if (pthread_create(&fetchers[i].thread, NULL, s_fetcher_run, &fetchers[i]) != 0) {
            ccip_client_destroy(&fetchers[i].client);
            break;
        }
        nfetchers++;
    }
    for (size_t k = 1; b && nfetchers && !w.broken && k < st.nbatches; k++) {
        pthread_mutex_lock(&st.mu);
        while (!st.failed && st.slot_k[k % AUDIT_WINDOW] != k)
            pthread_cond_wait(&st.cv, &st.mu);
        Ccip__Ip__ChainBatch *next = st.failed ? NULL : st.slot[k % AUDIT_WINDOW];
        st.slot[k % AUDIT_WINDOW] = NULL;
        pthread_mutex_unlock(&st.mu);
        if (!next) {
            code = st.code != CTL_OK ? st.code : CTL_UNAVAILABLE;
            break;
        }
        s_walk_batch(&w, next);
        protobuf_c_message_free_unpacked(&next->base, NULL);
        pthread_mutex_lock(&st.mu);
        st.consumed = k + 1;
        pthread_cond_broadcast(&st.cv);
        pthread_mutex_unlock(&st.mu);
    }
    pthread_mutex_lock(&st.mu);
    st.stop = 1;
    pthread_cond_broadcast(&st.cv);
    pthread_mutex_unlock(&st.mu);
    for (int i = 0; i < nfetchers; i++) {
        pthread_join(fetchers[i].thread, NULL);
        ccip_client_destroy(&fetchers[i].client);
    }
    for (int i = 0; i < AUDIT_WINDOW; i++)
        if (st.slot[i])
            protobuf_c_message_free_unpacked(&st.slot[i]->base, NULL);
    pthread_cond_destroy(&st.cv);
    pthread_mutex_destroy(&st.mu);
    ccip_client_destroy(&c);
    if (!b && code == CTL_OK)
        code = CTL_UNAVAILABLE;
    if (code != CTL_OK)
        return code;
    if (!w.broken && st.nbatches > 1 && !nfetchers) {
        fprintf(stderr, "ccipctl: could not start reading the chain in parallel\n");
        return CTL_LOCAL;
    }
    if (!w.broken && ip_chain_verify_head(&w.v, w.head_seq, head_hash, w.err, sizeof w.err) < 0) {
        w.broken = 1;
        w.broken_at = w.v.next_seq;
    }
    double dt = s_seconds() - t0;
    double rate = dt > 0 ? (double)w.checked / dt : 0;
    if (o->json) {
        printf("{\"intact\":%s,\"records\":%" PRIu64 ",\"head_seq\":%" PRIu64
               ",\"signatures_checked\":%s,\"first_broken\":%" PRIu64
               ",\"seconds\":%.3f,\"records_per_s\":%.0f,\"error\":",
               w.broken ? "false" : "true", w.checked, w.head_seq, w.nkeys ? "true" : "false",
               w.broken_at, dt, rate);
        ctl_json_string(stdout, w.broken ? w.err : "");
        printf("}\n");
    } else if (w.broken) {
        printf("chain BROKEN at record %" PRIu64 ": %s\n", w.broken_at, w.err);
        printf("(%" PRIu64 " records before it verified)\n", w.checked);
    } else {
        char hh[IP_HASH_HEX + 1];
        ip_hex(head_hash, IP_HASH_LEN, hh);
        printf("chain intact: %" PRIu64 " records%s, head %s, %.0f records/s\n", w.checked,
               w.nkeys ? " and their signatures" : "", hh, rate);
    }
    return w.broken ? CTL_REFUSED : CTL_OK;
}

static const ctl_arg A_RESOLVE[] = {
    CTL_STR("WORK", "work_id", CTL_ARG),
    CTL_ENUM("decision", "decision", &ccip__ip__review_decision__descriptor, NULL, CTL_REQUIRED),
    CTL_STR("note", "note", 0),
    {0}};

/* ---- trading ------------------------------------------------------------------------ */

/* A listing's terms (create: of a work; update: of the listing). */
#define TERMS                                                                                      \
    CTL_YUAN("price", "price_fen", CTL_REQUIRED), CTL_STR("territory", "territory", CTL_REPEATED), \
        CTL_STR("from", "term_start", 0), CTL_STR("to", "term_end", 0)

static const ctl_arg A_LISTING_CREATE[] = {
    CTL_STR("WORK", "work_id", CTL_ARG),
    CTL_ENUM("deal", "deal", &ccip__ip__deal_type__descriptor, NULL, CTL_REQUIRED),
    TERMS,
    {0}};
static const ctl_arg A_LISTING_UPDATE[] = {CTL_STR("LISTING", "listing_id", CTL_ARG), TERMS, {0}};
static const ctl_arg A_LISTING[] = {CTL_STR("LISTING", "listing_id", CTL_ARG), {0}};
static const ctl_arg A_LISTING_LIST[] = {
    CTL_STR("work", "work_id", 0), CTL_FLAG("open", "open_only"), {0}};
static const ctl_arg A_OFFER_MAKE[] = {CTL_STR("LISTING", "listing_id", CTL_ARG),
                                       CTL_YUAN("price", "price_fen", CTL_REQUIRED),
                                       CTL_STR("note", "note", 0),
                                       {0}};
static const ctl_arg A_OFFER[] = {CTL_STR("OFFER", "offer_id", CTL_ARG), {0}};
static const ctl_arg A_SETTLE[] = {CTL_STR("CONTRACT", "contract_id", CTL_ARG),
                                   CTL_STR("payment-ref", "payment_ref", 0),
                                   CTL_YUAN("paid", "paid_fen", CTL_REQUIRED),
                                   {0}};
static const ctl_arg A_CONTRACT[] = {CTL_STR("CONTRACT", "contract_id", CTL_ARG), {0}};

/* ---- disputes ----------------------------------------------------------------------- */

/* The --evidence DESCRIPTION=SHA256 items. Returns NULL after printing why. */
static Ccip__Ip__Evidence **s_evidence(ctl_args *a, size_t *n)
{
    *n = (size_t)ctl_given(a, "evidence");
    Ccip__Ip__Evidence **items = ctl_messages(a, &ccip__ip__evidence__descriptor, *n);
    for (size_t i = 0; i < *n; i++) {
        const char *text = ctl_str_at(a, "evidence", (int)i);
        items[i]->description = ctl_cut(a, text, '=', 1, &items[i]->sha256);
        if (!items[i]->sha256) {
            ctl_wrong("--evidence", "DESCRIPTION=SHA256 (e.g. \"contract scan=9f86...\")", text);
            return NULL;
        }
    }
    return items;
}

static const ctl_arg A_DISPUTE_FILE[] = {
    CTL_STR("WORK", "work_id", CTL_ARG),
    CTL_ENUM("kind", "kind", &ccip__ip__dispute_kind__descriptor, NULL, CTL_REQUIRED),
    CTL_STR("statement", "statement", 0),
    CTL_STR("evidence", NULL, CTL_REPEATED),
    {0}};

static int s_dispute_file(ctl_opts *o, ctl_args *a)
{
    Ccip__Ip__FileDisputeRequest rq = CCIP__IP__FILE_DISPUTE_REQUEST__INIT;
    if (!(rq.evidence = s_evidence(a, &rq.n_evidence)))
        return CTL_USAGE;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_DISPUTE_ANSWER[] = {CTL_STR("DISPUTE", "dispute_id", CTL_ARG),
                                           CTL_STR("answer", "answer", 0),
                                           CTL_STR("evidence", NULL, CTL_REPEATED),
                                           {0}};

static int s_dispute_answer(ctl_opts *o, ctl_args *a)
{
    Ccip__Ip__AnswerDisputeRequest rq = CCIP__IP__ANSWER_DISPUTE_REQUEST__INIT;
    if (!(rq.evidence = s_evidence(a, &rq.n_evidence)))
        return CTL_USAGE;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_DISPUTE_RULE[] = {CTL_STR("DISPUTE", "dispute_id", CTL_ARG),
                                         CTL_FLAG("uphold", NULL),
                                         CTL_FLAG("dismiss", NULL),
                                         CTL_STR("reasons", "reasons", 0),
                                         {0}};

/* --uphold or --dismiss, once. */
static int s_dispute_rule(ctl_opts *o, ctl_args *a)
{
    if (ctl_given(a, "uphold") + ctl_given(a, "dismiss") != 1) {
        fprintf(stderr, "ccipctl: give either --uphold or --dismiss\n");
        return CTL_USAGE;
    }
    Ccip__Ip__RuleDisputeRequest rq = CCIP__IP__RULE_DISPUTE_REQUEST__INIT;
    rq.ruling = ctl_given(a, "uphold") ? CCIP__IP__RULING__UPHOLD : CCIP__IP__RULING__DISMISS;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_DISPUTE_LIFT[] = {
    CTL_STR("DISPUTE", "dispute_id", CTL_ARG), CTL_STR("reasons", "reasons", 0), {0}};
static const ctl_arg A_DISPUTE[] = {CTL_STR("DISPUTE", "dispute_id", CTL_ARG), {0}};
static const ctl_arg A_CONTRACT_LIST[] = {CTL_STR("status", "status", 0),
                                          CTL_STR("party", "party", 0),
                                          CTL_STR("work", "work_id", 0),
                                          CTL_INT("limit", "limit", 1, 500, 0),
                                          {0}};
static const ctl_arg A_DISPUTE_LIST[] = {CTL_STR("status", "status", 0),
                                         CTL_STR("work", "work_id", 0),
                                         CTL_INT("limit", "limit", 1, 500, 0),
                                         {0}};

/* ---- providers and requests ------------------------------------------------------------ */

#define CATEGORY(field, flags)                                                                     \
    CTL_ENUM("category", field, &ccip__ip__provider_category__descriptor, NULL, flags)

static const ctl_arg A_PROVIDER_REGISTER[] = {CTL_STR("name", "name", 0),
                                              CATEGORY("categories", CTL_REPEATED),
                                              CTL_STR("description", "description", 0),
                                              {0}};
static const ctl_arg A_PROVIDER[] = {CTL_STR("PROVIDER", "provider_id", CTL_ARG), {0}};
static const ctl_arg A_PROVIDER_LIST[] = {
    CATEGORY("category", 0), CTL_FLAG("verified", "verified_only"), {0}};
static const ctl_arg A_REQUEST_CREATE[] = {CTL_STR("PROVIDER", "provider_id", CTL_ARG),
                                           CATEGORY("category", CTL_REQUIRED),
                                           CTL_STR("description", "description", 0),
                                           {0}};
static const ctl_arg A_REQUEST[] = {CTL_STR("REQUEST", "request_id", CTL_ARG), {0}};
static const ctl_arg A_RATE[] = {CTL_STR("REQUEST", "request_id", CTL_ARG),
                                 CTL_STR("rating", NULL, 0),
                                 CTL_STR("note", "note", 0),
                                 {0}};

static int s_request_rate(ctl_opts *o, ctl_args *a)
{
    Ccip__Ip__RateServiceRequest rq = CCIP__IP__RATE_SERVICE_REQUEST__INIT;
    /* Read as it always was: the service says what a rating must be. */
    rq.rating = (uint32_t)strtoul(ctl_str(a, "rating"), NULL, 10);
    return ctl_send(o, a, &rq.base);
}

/* ---- the table ---------------------------------------------------------------------- */

#define Q(name) &ccip__ip__##name##_request__descriptor
#define R(name) &ccip__ip__##name##_reply__descriptor

static const ctl_command S_COMMANDS[] = {
    {"keygen", "NAME [--dir DIR]", A_KEYGEN, NULL, NULL, NULL, NULL, s_keygen,
     .about = "  writes DIR/NAME.key (the SECRET Ed25519 signing key, mode 0600: give its path to\n"
              "  the ip service as ip.signing_key_file or CCIP_IP_SIGNING_KEY_FILE) and\n"
              "  DIR/NAME.pub (publish it: receipts verify with it alone). Never overwrites.\n"},
    {"verify", "RECEIPT --key PUB [--content FILE]", A_VERIFY, NULL, NULL, NULL, NULL, s_verify,
     .about = "  checks the receipt's Ed25519 signature with the platform's public key alone\n"
              "  (no network), and with --content that FILE is what was registered.\n"
              "  exit 0: it verifies; 1: it does not (the reason says where); 4: unreadable\n"},
    {"key", "[--out FILE]", A_OUT, "ip.key.get.v1", Q(key), R(key), ctl_print_fields, s_key},
    {"register",
     "--kind KIND --title TEXT --created-on YYYY-MM-DD\n"
     "         (--file FILE [--store] | --sha256 HEX) [--owner PARTY[=BASIS_POINTS]]...\n"
     "         [--creator NAME]... [--receipt-out FILE]",
     A_REGISTER, "ip.work.register.v1", Q(register_work), R(register_work), ctl_print_fields,
     s_register,
     .about = "  --file hashes FILE here; only with --store is the content itself sent (it is\n"
              "  then kept, and text is checked for near-duplicates). Owners default to the\n"
              "  --actor alone; shares are basis points adding up to 10000.\n"},
    {"work get", "ID|SERIAL", A_WORK_GET, "ip.work.get.v1", Q(get_work), R(work), ctl_print_fields,
     s_work_get},
    {"work list", "[--owner PARTY] [--after SERIAL] [--limit N]", A_WORK_LIST, "ip.work.list.v1",
     Q(list_works), R(list_works), ctl_print_fields, s_work_list},
    {"receipt", "ID|SERIAL [--out FILE]", A_RECEIPT, "ip.work.get.v1", Q(get_work), R(work), NULL,
     s_receipt},
    {"audit-chain", "[--key PUB]... [--batch N]", A_AUDIT, NULL, NULL, NULL, NULL, s_audit,
     .about = "  reads every chain record and recomputes its hash and link here; with --key\n"
              "  also checks each record's receipt signature (give every public key the\n"
              "  platform has used, at most 8; a record signed by a key not given fails).\n"
              "  Exit 0 intact, 1 broken.\n"},
    {"review list", NULL, NULL, "ip.review.list.v1", Q(list_review), R(list_review),
     ctl_print_fields},
    {"review resolve", "WORK --decision cleared|confirmed --note TEXT", A_RESOLVE,
     "ip.review.resolve.v1", Q(resolve_review), R(work), ctl_print_fields},
    {"listing create",
     "WORK --deal transfer|exclusive-licence|non-exclusive-licence\n"
     "                --price YUAN [--territory CODE]... [--from YYYY-MM-DD --to YYYY-MM-DD]",
     A_LISTING_CREATE, "ip.listing.create.v1", Q(create_listing), R(listing), ctl_print_fields},
    {"listing update", "LISTING --price YUAN [--territory CODE]... [--from DATE --to DATE]",
     A_LISTING_UPDATE, "ip.listing.update.v1", Q(update_listing), R(listing), ctl_print_fields},
    {"listing withdraw", "LISTING", A_LISTING, "ip.listing.withdraw.v1", Q(listing_action),
     R(listing), ctl_print_fields},
    {"listing get", "LISTING", A_LISTING, "ip.listing.get.v1", Q(listing_action), R(listing),
     ctl_print_fields},
    {"listing list", "[--work WORK] [--open]", A_LISTING_LIST, "ip.listing.list.v1",
     Q(list_listings), R(list_listings), ctl_print_fields},
    {"offer make", "LISTING --price YUAN [--note TEXT]", A_OFFER_MAKE, "ip.offer.make.v1",
     Q(make_offer), R(offer), ctl_print_fields},
    {"offer withdraw", "OFFER", A_OFFER, "ip.offer.withdraw.v1", Q(offer_action), R(offer),
     ctl_print_fields},
    {"offer accept", "OFFER", A_OFFER, "ip.offer.accept.v1", Q(offer_action), R(contract),
     ctl_print_fields},
    {"contract settle", "CONTRACT --payment-ref REF --paid YUAN", A_SETTLE, "ip.contract.settle.v1",
     Q(settle_contract), R(contract), ctl_print_fields},
    {"contract get", "CONTRACT", A_CONTRACT, "ip.contract.get.v1", Q(contract_action), R(contract),
     ctl_print_fields},
    {"contract list", "[--status CONTRACTED|SETTLED] [--party PARTY] [--work WORK] [--limit N]",
     A_CONTRACT_LIST, "ip.contract.list.v1", Q(list_contracts), R(list_contracts),
     ctl_print_fields},
    {"dispute file",
     "WORK --kind infringement|improper-registration\n"
     "                --statement TEXT --evidence DESCRIPTION=SHA256...",
     A_DISPUTE_FILE, "ip.dispute.file.v1", Q(file_dispute), R(dispute), ctl_print_fields,
     s_dispute_file},
    {"dispute answer", "DISPUTE --answer TEXT [--evidence DESC=SHA256]...", A_DISPUTE_ANSWER,
     "ip.dispute.answer.v1", Q(answer_dispute), R(dispute), ctl_print_fields, s_dispute_answer},
    {"dispute rule", "DISPUTE --uphold|--dismiss --reasons TEXT", A_DISPUTE_RULE,
     "ip.dispute.rule.v1", Q(rule_dispute), R(dispute), ctl_print_fields, s_dispute_rule},
    {"dispute lift", "DISPUTE --reasons TEXT", A_DISPUTE_LIFT, "ip.dispute.lift.v1", Q(lift_freeze),
     R(dispute), ctl_print_fields},
    {"dispute get", "DISPUTE", A_DISPUTE, "ip.dispute.get.v1", Q(dispute_action), R(dispute),
     ctl_print_fields},
    {"dispute list", "[--status FILED|ANSWERED|UPHELD|DISMISSED] [--work WORK] [--limit N]",
     A_DISPUTE_LIST, "ip.dispute.list.v1", Q(list_disputes), R(list_disputes), ctl_print_fields},
    {"provider register", "--name TEXT --category CATEGORY... [--description TEXT]",
     A_PROVIDER_REGISTER, "ip.provider.register.v1", Q(register_provider), R(provider),
     ctl_print_fields},
    {"provider verify", "PROVIDER", A_PROVIDER, "ip.provider.verify.v1", Q(provider_action),
     R(provider), ctl_print_fields},
    {"provider list", "[--category CATEGORY] [--verified]", A_PROVIDER_LIST, "ip.provider.list.v1",
     Q(list_providers), R(list_providers), ctl_print_fields},
    {"request create", "PROVIDER --category CATEGORY --description TEXT", A_REQUEST_CREATE,
     "ip.request.create.v1", &ccip__ip__create_service_request__descriptor, R(service_request),
     ctl_print_fields},
    {"request accept", "REQUEST", A_REQUEST, "ip.request.accept.v1",
     &ccip__ip__service_request_action__descriptor, R(service_request), ctl_print_fields},
    {"request complete", "REQUEST", A_REQUEST, "ip.request.complete.v1",
     &ccip__ip__service_request_action__descriptor, R(service_request), ctl_print_fields},
    {"request rate", "REQUEST --rating 1..5 [--note TEXT]", A_RATE, "ip.request.rate.v1",
     Q(rate_service), R(service_request), ctl_print_fields, s_request_rate},
};

static const ctl_service S_IP = {
    .name = "ip",
    .header = S_OVERVIEW,
    .commands = S_COMMANDS,
    .ncommands = sizeof S_COMMANDS / sizeof S_COMMANDS[0],
};

int ctl_ip(ctl_opts *o, int argc, char **argv)
{
    return ctl_service_run(o, &S_IP, argc, argv);
}
