/*
 * The ip service end to end: the real bus and ip processes, real
 * PostgreSQL, commands sent through the front door with a person's role the
 * way ccipctl sends them, and ccipctl itself for the offline checks
 * (keygen, verify) and the chain audit. One test per rule of issue 8.
 *
 * Every test registers its own works (content made unique per run) and
 * acts for fresh organisations, so the tests share one bus and one ip
 * service and may run in any order against a database that has seen earlier
 * runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/ip.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test.h"
#include "ccip_test_db.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"

#define OWNER          "owner"
#define APPLICANT      "applicant"
#define STAFF          "staff", "staff:li"
#define ANSWER_SECONDS 3 /* ip.dispute_answer_seconds for this suite */
#define RACE_ROUNDS    6 /* concurrent acceptances tried */

static ccip_test_svc s_svc; /* the bus, ip, the clients, the last reply's sentence */
static char s_out[65536];   /* stdout of the last ccipctl run */
static char s_pub[400];     /* the platform's public key file, as fetched */

/* ---- helpers -------------------------------------------------------------- */

/* A fresh, valid party "org:<USCC>", different in every call and run. */
static void s_org(char out[32])
{
    char code[19];
    ccip_test_uscc("110106", code);
    snprintf(out, 32, "org:%s", code);
}

/* ccip_test_send_cmd to ip as (role, actor), or with the plain service key
 * when role is NULL, on client c (NULL = the shared ones), keeping the
 * sentence in err_out (NULL = s_svc.error). */
static int s_send_on(ccip_client *c, const char *role, const char *actor, const char *type,
                     const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc,
                     ProtobufCMessage **out, char *err_out, size_t err_len)
{
    ccip_test_cmd cmd = {.role = role,
                         .actor = actor,
                         .type = type,
                         .msg = msg,
                         .out = desc,
                         .via = c,
                         .error = err_out,
                         .error_len = err_len};
    return ccip_test_send_cmd(&s_svc, &cmd, out);
}

static int s_send(const char *role, const char *actor, const char *type,
                  const ProtobufCMessage *msg)
{
    return s_send_on(NULL, role, actor, type, msg, NULL, NULL, NULL, 0);
}

/* s_send that must succeed; returns the decoded reply (free with
 * ccip_test_free). */
static void *s_ok(const char *role, const char *actor, const char *type,
                  const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc)
{
    return ccip_test_ok(&s_svc, role, actor, type, msg, desc);
}

/* Asserts a refusal with `status` whose sentence contains `needle`. */
static void s_refused(int got, int status, const char *needle)
{
    if (got != status || (needle && !strstr(s_svc.error, needle))) {
        char what[900];
        snprintf(what, sizeof what, "expected status %d mentioning \"%s\", got %d: %s", status,
                 needle ? needle : "", got, s_svc.error);
        ccip_test_fail(&s_svc, what);
    }
}

static long long s_count(const char *sql)
{
    long long n = ccip_test_query_number("ip", sql);
    assert_true(n >= 0);
    return n;
}

/* Runs ccipctl with the front door's key and args; captures stdout into
 * s_out and stderr after it; returns the exit code. */
static int s_ctl(const char *args)
{
    return ccip_test_ctl(&s_svc, s_out, sizeof s_out, "%s 2>&1", args);
}

/* s_ctl that must exit with `code`; prints what ccipctl said when not. */
static void s_ctl_expect(const char *args, int code)
{
    int got = s_ctl(args);
    if (got != code) {
        char what[1200];
        snprintf(what, sizeof what, "ccipctl %.300s: exit %d, expected %d: %.700s", args, got, code,
                 s_out);
        ccip_test_fail(&s_svc, what);
    }
}

/* Content unique to this run: "<tag> <uuid> <text>". */
static void s_content(char *buf, size_t len, const char *tag, const char *text)
{
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v4(id);
    snprintf(buf, len, "%s %s %s", tag, id, text);
}

/* n random "words" of 3 to 8 letters: a text unlike any other, in this run
 * or any earlier one, so near-duplicate checks see only what a test made. */
static void s_random_text(char *buf, size_t len, int n)
{
    size_t at = 0;
    for (int i = 0; i < n && at + 10 < len; i++) {
        int w = 3 + (int)randombytes_uniform(6);
        for (int k = 0; k < w; k++)
            buf[at++] = (char)('a' + randombytes_uniform(26));
        buf[at++] = ' ';
    }
    buf[at] = '\0';
}

static void s_sha256_hex(const void *data, size_t len, char out[65])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Registers content for owner (role owner, as itself); stores the content
 * when store is set. Returns the reply (free with s_free). */
static Ccip__Ip__RegisterWorkReply *s_register(const char *owner, const char *content, int store)
{
    char hex[65];
    s_sha256_hex(content, strlen(content), hex);
    Ccip__Ip__RegisterWorkRequest rq = CCIP__IP__REGISTER_WORK_REQUEST__INIT;
    rq.kind = CCIP__IP__WORK_KIND__COPYRIGHT_LITERARY;
    rq.title = "A work under test";
    rq.created_on = "2026-01-15";
    rq.content_sha256 = hex;
    char *creators[] = {"张三"};
    rq.creators = creators;
    rq.n_creators = 1;
    if (store) {
        rq.content.data = (uint8_t *)content;
        rq.content.len = strlen(content);
    }
    return s_ok(OWNER, owner, "ip.work.register.v1", &rq.base,
                &ccip__ip__register_work_reply__descriptor);
}

/* A registered work of a fresh owner: its id into work_id, owner into org. */
static void s_new_work(char work_id[40], char org[32])
{
    char content[256];
    s_org(org);
    s_content(content, sizeof content, "work", "for trading");
    Ccip__Ip__RegisterWorkReply *r = s_register(org, content, 0);
    snprintf(work_id, 40, "%s", r->work->id);
    ccip_test_free(r);
}

static Ccip__Ip__ListingReply *s_list(const char *seller, const char *work_id,
                                      Ccip__Ip__DealType deal, const char *territory,
                                      const char *from, const char *to, int64_t price)
{
    Ccip__Ip__CreateListingRequest rq = CCIP__IP__CREATE_LISTING_REQUEST__INIT;
    char *terr[] = {(char *)territory};
    rq.work_id = (char *)work_id;
    rq.deal = deal;
    rq.territory = territory ? terr : NULL;
    rq.n_territory = territory ? 1 : 0;
    rq.term_start = (char *)(from ? from : "");
    rq.term_end = (char *)(to ? to : "");
    rq.price_fen = price;
    return s_ok(OWNER, seller, "ip.listing.create.v1", &rq.base,
                &ccip__ip__listing_reply__descriptor);
}

static Ccip__Ip__OfferReply *s_offer(const char *buyer, const char *listing_id, int64_t price)
{
    Ccip__Ip__MakeOfferRequest rq = CCIP__IP__MAKE_OFFER_REQUEST__INIT;
    rq.listing_id = (char *)listing_id;
    rq.price_fen = price;
    rq.note = "";
    return s_ok(APPLICANT, buyer, "ip.offer.make.v1", &rq.base, &ccip__ip__offer_reply__descriptor);
}

static long long s_events(const char *type, const char *aggregate_id)
{
    char q[400];
    snprintf(q, sizeof q, "SELECT count(*) FROM outbox WHERE type = '%s' AND aggregate_id = '%s'",
             type, aggregate_id);
    return s_count(q);
}

/* ---- set-up ------------------------------------------------------------------ */

static int s_setup(void **state)
{
    (void)state;
    if (sodium_init() < 0 || ccip_test_svc_init(&s_svc, "ip") < 0)
        return -1;
    /* The platform's signing key, made the way an operator makes it. */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s/cli/ccipctl ip keygen ip-signing --dir %s >/dev/null",
             getenv("CCIP_BINARY_DIR"), s_svc.env.dir);
    if (system(cmd) != 0)
        return -1;
    char key[600], window[16];
    snprintf(key, sizeof key, "%s/ip-signing.key", s_svc.env.dir);
    snprintf(window, sizeof window, "%d", ANSWER_SECONDS);
    setenv("CCIP_IP_SIGNING_KEY_FILE", key, 1);
    setenv("CCIP_IP_DISPUTE_ANSWER_SECONDS", window, 1);
    /* Room for the batch that test_batch_registrations makes: two
     * registrations holding ip's two connections and ten queued behind. */
    setenv("CCIP_WORKERS", "16", 1);
    if (ccip_test_start_bus(&s_svc.env) < 0 ||
        ccip_test_start_service(&s_svc.env, "services/ip/ip", "ip", "ip-1") < 0 ||
        ccip_test_svc_wait(&s_svc, "ip") < 0) {
        ccip_test_env_cleanup(&s_svc.env, 1);
        return -1;
    }
    /* The public key, which is all the offline checks below get. */
    Ccip__Ip__KeyRequest kr = CCIP__IP__KEY_REQUEST__INIT;
    Ccip__Ip__KeyReply *k = NULL;
    if (s_send_on(s_svc.front, STAFF, "ip.key.get.v1", &kr.base, &ccip__ip__key_reply__descriptor,
                  (ProtobufCMessage **)&k, NULL, 0) != 0) {
        fprintf(stderr, "ip did not give its key: %s\n", s_svc.error);
        ccip_test_env_cleanup(&s_svc.env, 1);
        return -1;
    }
    snprintf(s_pub, sizeof s_pub, "%s/published.pub", s_svc.env.dir);
    int rc = ccip_test_write_file(s_svc.env.dir, "published.pub", k->key_file);
    ccip_test_free(k);
    return rc;
}

static int s_teardown(void **state)
{
    (void)state;
    ccip_test_svc_stop(&s_svc);
    return 0;
}

/* ---- registration, receipts, the chain ------------------------------------------------ */

/* A registration gets a serial and a receipt that verifies offline with
 * the public key alone; one flipped byte in the receipt, or other content,
 * fails and says where. */
static void test_receipt_verifies_offline(void **state)
{
    (void)state;
    char org[32], content[256], args[2048];
    s_org(org);
    s_content(content, sizeof content, "receipt", "a poem about the Liangma river");
    Ccip__Ip__RegisterWorkReply *r = s_register(org, content, 0);
    assert_true(r->work->serial > 0);
    assert_false(r->existing);
    char serial_line[64];
    snprintf(serial_line, sizeof serial_line, "serial: %" PRIu64 "\n", r->work->serial);
    assert_non_null(strstr(r->receipt, serial_line));
    assert_int_equal(ccip_test_write_file(s_svc.env.dir, "receipt.txt", r->receipt), 0);
    assert_int_equal(ccip_test_write_file(s_svc.env.dir, "content.txt", content), 0);
    assert_int_equal(s_events("ip.work.registered.v1", r->work->id), 1);

    /* Offline: the bus is not even reachable from this ccipctl. */
    snprintf(args, sizeof args,
             "CCIP_BUS_COMMANDS=tcp://127.0.0.1:1 %s/cli/ccipctl ip verify %s/receipt.txt --key %s "
             "--content %s/content.txt 2>&1",
             getenv("CCIP_BINARY_DIR"), s_svc.env.dir, s_pub, s_svc.env.dir);
    FILE *p = popen(args, "r");
    size_t n = fread(s_out, 1, sizeof s_out - 1, p);
    s_out[n] = '\0';
    assert_int_equal(WEXITSTATUS(pclose(p)), 0);
    assert_non_null(strstr(s_out, "receipt verifies"));
    assert_non_null(strstr(s_out, "content matches"));

    /* Other content: refused, and it says the content is what differs. */
    assert_int_equal(ccip_test_write_file(s_svc.env.dir, "other.txt", "something else"), 0);
    snprintf(args, sizeof args, "ip verify %s/receipt.txt --key %s --content %s/other.txt",
             s_svc.env.dir, s_pub, s_svc.env.dir);
    s_ctl_expect(args, 1);
    assert_non_null(strstr(s_out, "content:"));

    /* One flipped byte in the serial: the signature says no. */
    char altered[2048];
    snprintf(altered, sizeof altered, "%s", r->receipt);
    char *digit = strstr(altered, "serial: ") + strlen("serial: ");
    *digit = *digit == '9' ? '8' : (char)(*digit + 1);
    assert_int_equal(ccip_test_write_file(s_svc.env.dir, "altered.txt", altered), 0);
    snprintf(args, sizeof args, "--json ip verify %s/altered.txt --key %s", s_svc.env.dir, s_pub);
    s_ctl_expect(args, 1);
    assert_non_null(strstr(s_out, "\"verified\":false"));
    assert_non_null(strstr(s_out, "signature does not match"));
    /* One flipped byte in the hash's hex: the parser names the line. */
    snprintf(altered, sizeof altered, "%s", r->receipt);
    *(strstr(altered, "chain_hash: ") + strlen("chain_hash: ")) = 'g';
    assert_int_equal(ccip_test_write_file(s_svc.env.dir, "altered2.txt", altered), 0);
    snprintf(args, sizeof args, "ip verify %s/altered2.txt --key %s", s_svc.env.dir, s_pub);
    s_ctl_expect(args, 1);
    assert_non_null(strstr(s_out, "receipt line 5 (`chain_hash`)"));
    ccip_test_free(r);
}

/* Identical content: another owner is refused and pointed at the earlier
 * registration; the same owner gets that registration back. */
static void test_duplicate_content(void **state)
{
    (void)state;
    char a[32], b[32], content[256];
    s_org(a);
    s_org(b);
    s_content(content, sizeof content, "duplicate", "a song of the Chaoyang parks");
    Ccip__Ip__RegisterWorkReply *first = s_register(a, content, 0);
    long long chain = s_count("SELECT count(*) FROM chain");

    char hex[65];
    s_sha256_hex(content, strlen(content), hex);
    Ccip__Ip__RegisterWorkRequest rq = CCIP__IP__REGISTER_WORK_REQUEST__INIT;
    rq.kind = CCIP__IP__WORK_KIND__COPYRIGHT_MUSIC;
    rq.title = "Not mine";
    rq.created_on = "2026-01-15";
    rq.content_sha256 = hex;
    s_refused(s_send(OWNER, b, "ip.work.register.v1", &rq.base), CCIP__STATUS__ALREADY_EXISTS,
              first->work->serial_text);
    assert_non_null(strstr(s_svc.error, first->work->id));
    assert_non_null(strstr(s_svc.error, "another owner"));

    Ccip__Ip__RegisterWorkReply *again = s_register(a, content, 0);
    assert_true(again->existing);
    assert_int_equal(again->work->serial, first->work->serial);
    assert_string_equal(again->receipt, first->receipt);
    assert_int_equal(s_count("SELECT count(*) FROM chain"), chain);
    ccip_test_free(first);
    ccip_test_free(again);
}

/* One registration sent from its own client (for races). */
typedef struct {
    const char *owner;
    const char *content;
    int status;
    uint64_t serial;
    char error[600];
} s_race_job;

static void *s_race_register(void *arg)
{
    s_race_job *job = arg;
    char hex[65];
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.front_keys);
    s_sha256_hex(job->content, strlen(job->content), hex);
    Ccip__Ip__RegisterWorkRequest rq = CCIP__IP__REGISTER_WORK_REQUEST__INIT;
    rq.kind = CCIP__IP__WORK_KIND__COPYRIGHT_FILM;
    rq.title = "Raced";
    rq.created_on = "2026-01-15";
    rq.content_sha256 = hex;
    Ccip__Ip__RegisterWorkReply *r = NULL;
    job->status = c ? s_send_on(c, OWNER, job->owner, "ip.work.register.v1", &rq.base,
                                &ccip__ip__register_work_reply__descriptor, (ProtobufCMessage **)&r,
                                job->error, sizeof job->error)
                    : -1;
    if (r)
        job->serial = r->work->serial;
    ccip_test_free(r);
    ccip_client_destroy(&c);
    return NULL;
}

/* The same content sent at the same moment: by two owners, one registers
 * and the other is refused; by one owner twice, both get the one
 * registration. */
static void test_duplicate_content_raced(void **state)
{
    (void)state;
    for (int round = 0; round < 4; round++) {
        char a[32], b[32], content[256];
        s_org(a);
        s_org(b);
        s_content(content, sizeof content, "raced", "the same film, twice");
        int same_owner = round % 2;
        s_race_job jobs[2] = {{.owner = a, .content = content},
                              {.owner = same_owner ? a : b, .content = content}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, s_race_register, &jobs[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        if (same_owner) {
            assert_int_equal(jobs[0].status, 0);
            assert_int_equal(jobs[1].status, 0);
            assert_int_equal(jobs[0].serial, jobs[1].serial);
        } else {
            int ok = (jobs[0].status == 0) + (jobs[1].status == 0);
            const s_race_job *loser = jobs[0].status == 0 ? &jobs[1] : &jobs[0];
            assert_int_equal(ok, 1);
            assert_int_equal(loser->status, CCIP__STATUS__ALREADY_EXISTS);
            assert_non_null(strstr(loser->error, "another owner"));
        }
        char q[300];
        snprintf(q, sizeof q,
                 "SELECT count(*) FROM chain c JOIN work w ON w.id = c.work_id WHERE w.title = "
                 "'Raced' AND w.registrant = '%s'",
                 a);
        assert_true(s_count(q) <= 1);
    }
}

/* Near-duplicate text is registered but flagged for staff review, with the
 * similar registration listed. */
static void test_near_duplicate_flagged(void **state)
{
    (void)state;
    char a[32], b[32], text[1024], copy[1024];
    s_org(a);
    s_org(b);
    s_random_text(text, sizeof text, 60);
    snprintf(copy, sizeof copy, "%s", text);
    /* A light edit: two words changed. */
    char *second = strchr(copy, ' ') + 1;
    second[0] = second[0] == 'x' ? 'y' : 'x';
    char *middle = copy + strlen(copy) / 2;
    middle[0] = middle[0] == 'q' ? 'r' : 'q';
    Ccip__Ip__RegisterWorkReply *orig = s_register(a, text, 1);
    assert_int_equal(orig->n_similar, 0);
    Ccip__Ip__RegisterWorkReply *near = s_register(b, copy, 1);
    assert_true(near->n_similar >= 1);
    assert_string_equal(near->similar[0]->work_id, orig->work->id);
    assert_true(near->similar[0]->similarity_pct >= 70);
    assert_string_equal(near->work->review, "FLAGGED");

    /* Staff see it in the review list; nobody else may look. */
    Ccip__Ip__ListReviewRequest lr = CCIP__IP__LIST_REVIEW_REQUEST__INIT;
    lr.limit = 500;
    Ccip__Ip__ListReviewReply *list =
        s_ok(STAFF, "ip.review.list.v1", &lr.base, &ccip__ip__list_review_reply__descriptor);
    int found = 0;
    for (size_t i = 0; i < list->n_items; i++)
        if (strcmp(list->items[i]->work->id, near->work->id) == 0)
            found = list->items[i]->n_similar >= 1;
    assert_true(found);
    ccip_test_free(list);
    s_refused(s_send(OWNER, a, "ip.review.list.v1", &lr.base), CCIP__STATUS__PERMISSION_DENIED,
              NULL);
    Ccip__Ip__ResolveReviewRequest rr = CCIP__IP__RESOLVE_REVIEW_REQUEST__INIT;
    rr.work_id = near->work->id;
    rr.decision = CCIP__IP__REVIEW_DECISION__CONFIRMED;
    rr.note = "a near copy of an earlier poem; the owner of the earlier one is told";
    Ccip__Ip__WorkReply *w =
        s_ok(STAFF, "ip.review.resolve.v1", &rr.base, &ccip__ip__work_reply__descriptor);
    assert_string_equal(w->work->review, "CONFIRMED");
    ccip_test_free(w);
    s_refused(s_send(STAFF, "ip.review.resolve.v1", &rr.base), CCIP__STATUS__FAILED_PRECONDITION,
              "not waiting for review");
    ccip_test_free(orig);
    ccip_test_free(near);
}

/* `ccipctl ip audit-chain` recomputes every hash; a row altered in the
 * database (even with the append-only trigger switched off by the owner)
 * is reported as the first broken link; restored, the chain is intact. */
static void test_audit_chain_finds_altered_row(void **state)
{
    (void)state;
    char org[32], content[256], q[600];
    s_org(org);
    for (int i = 0; i < 3; i++) {
        s_content(content, sizeof content, "audit", "chain link");
        ccip_test_free(s_register(org, content, 0));
    }
    char args[800];
    /* Every signature too, with the one public key, when this run's key
     * signed the whole chain (always under scripts/test, whose database is
     * new; a database kept from earlier runs holds their keys' records). */
    if (s_count("SELECT count(DISTINCT key_id) FROM chain") == 1) {
        snprintf(args, sizeof args, "--role staff --actor staff:li ip audit-chain --key %s", s_pub);
        s_ctl_expect(args, 0);
        assert_non_null(strstr(s_out, "and their signatures"));
    }
    /* Small batches, so that the audit reads several of them in parallel
     * even from a young chain. */
    snprintf(args, sizeof args, "--role staff --actor staff:li --json ip audit-chain --batch 7");
    s_ctl_expect(args, 0);
    assert_non_null(strstr(s_out, "\"intact\":true"));
    /* With a public key that signed none of it, no record's signature can be
     * checked: not intact, and it says which key is needed. */
    snprintf(args, sizeof args, "ip keygen stranger --dir %s", s_svc.env.dir);
    s_ctl_expect(args, 0);
    snprintf(args, sizeof args,
             "--role staff --actor staff:li ip audit-chain --key %s/stranger.pub", s_svc.env.dir);
    s_ctl_expect(args, 1);
    assert_non_null(strstr(s_out, "whose public key was not given"));
    snprintf(args, sizeof args, "--role staff --actor staff:li --json ip audit-chain --batch 7");

    long long victim = s_count("SELECT max(seq) - 1 FROM chain");
    /* The service's own role may not change the chain at all, nor switch
     * its trigger off (it owns nothing: common/sql/0006_history.sql). */
    ccip_db *db = ccip_test_db_connect("ip");
    assert_non_null(db);
    snprintf(q, sizeof q, "UPDATE chain SET title = 'forged' WHERE seq = %lld", victim);
    assert_int_not_equal(ccip_db_command(db, q), CCIP_DB_OK);
    assert_string_equal(ccip_db_sqlstate(db), "42501");
    assert_int_not_equal(ccip_db_command(db, "ALTER TABLE chain DISABLE TRIGGER chain_append_only"),
                         CCIP_DB_OK);
    ccip_db_destroy(&db);
    /* Its owner role, which only migrations use, meets the trigger... */
    db = ccip_test_db_connect("ip_owner");
    assert_non_null(db);
    assert_int_not_equal(ccip_db_command(db, q), CCIP_DB_OK);
    assert_non_null(strstr(ccip_db_error(db), "append-only"));
    /* ...and can switch it off; the audit still sees it. */
    snprintf(q, sizeof q,
             "ALTER TABLE chain DISABLE TRIGGER chain_append_only; "
             "UPDATE chain SET title = title || ' (forged)' WHERE seq = %lld; "
             "ALTER TABLE chain ENABLE TRIGGER chain_append_only",
             victim);
    assert_int_equal(ccip_db_command(db, q), CCIP_DB_OK);
    s_ctl_expect(args, 1);
    char want[100];
    snprintf(want, sizeof want, "\"first_broken\":%lld", victim);
    assert_non_null(strstr(s_out, want));
    snprintf(want, sizeof want, "record %lld was altered", victim);
    assert_non_null(strstr(s_out, want));
    snprintf(q, sizeof q,
             "ALTER TABLE chain DISABLE TRIGGER chain_append_only; "
             "UPDATE chain SET title = replace(title, ' (forged)', '') WHERE seq = %lld; "
             "ALTER TABLE chain ENABLE TRIGGER chain_append_only",
             victim);
    assert_int_equal(ccip_db_command(db, q), CCIP_DB_OK);
    s_ctl_expect(args, 0);
    assert_non_null(strstr(s_out, "\"intact\":true"));
    /* A deleted record is missed, and named. (The row is moved out of the
     * chain's range rather than deleted, so that it can be put back.) */
#define OUT_OF_RANGE 1000000000000LL
    snprintf(q, sizeof q,
             "ALTER TABLE chain DISABLE TRIGGER chain_append_only; "
             "UPDATE chain SET seq = seq + %lld WHERE seq = %lld; "
             "ALTER TABLE chain ENABLE TRIGGER chain_append_only",
             OUT_OF_RANGE, victim);
    assert_int_equal(ccip_db_command(db, q), CCIP_DB_OK);
    s_ctl_expect(args, 1);
    snprintf(want, sizeof want, "record %lld is missing", victim);
    assert_non_null(strstr(s_out, want));
    snprintf(q, sizeof q,
             "ALTER TABLE chain DISABLE TRIGGER chain_append_only; "
             "UPDATE chain SET seq = seq - %lld WHERE seq = %lld; "
             "ALTER TABLE chain ENABLE TRIGGER chain_append_only",
             OUT_OF_RANGE, victim + OUT_OF_RANGE);
    assert_int_equal(ccip_db_command(db, q), CCIP_DB_OK);
    ccip_db_destroy(&db);
    s_ctl_expect(args, 0);
    assert_non_null(strstr(s_out, "\"intact\":true"));
    /* Owners may not read the chain through the service. */
    snprintf(args, sizeof args, "--role owner --actor %s ip audit-chain", org);
    s_ctl_expect(args, 1);
    assert_non_null(strstr(s_out, "PERMISSION_DENIED"));
}

/* Registrations from several clients at once: every one gets its own
 * serial, the chain stays gap-free and intact. */
#define CONCURRENT_CLIENTS 4
#define CONCURRENT_EACH    25

typedef struct {
    uint64_t serials[CONCURRENT_EACH];
    int failed;
} s_register_job;

static void *s_register_thread(void *arg)
{
    s_register_job *job = arg;
    char err[256], org[32], content[256], hex[65];
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.front_keys);
    s_org(org);
    for (int i = 0; c && i < CONCURRENT_EACH; i++) {
        s_content(content, sizeof content, "concurrent", "registration");
        s_sha256_hex(content, strlen(content), hex);
        Ccip__Ip__RegisterWorkRequest rq = CCIP__IP__REGISTER_WORK_REQUEST__INIT;
        rq.kind = CCIP__IP__WORK_KIND__TRADEMARK;
        rq.title = "Concurrent";
        rq.created_on = "2026-01-15";
        rq.content_sha256 = hex;
        Ccip__Ip__RegisterWorkReply *r = NULL;
        if (s_send_on(c, OWNER, org, "ip.work.register.v1", &rq.base,
                      &ccip__ip__register_work_reply__descriptor, (ProtobufCMessage **)&r, err,
                      sizeof err) != 0 ||
            !r) {
            job->failed++;
            continue;
        }
        job->serials[i] = r->work->serial;
        ccip_test_free(r);
    }
    if (!c)
        job->failed = CONCURRENT_EACH;
    ccip_client_destroy(&c);
    return NULL;
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_concurrent_registrations_chain(void **state)
{
    (void)state;
    static s_register_job jobs[CONCURRENT_CLIENTS];
    memset(jobs, 0, sizeof jobs);
    pthread_t t[CONCURRENT_CLIENTS];
    for (int i = 0; i < CONCURRENT_CLIENTS; i++)
        pthread_create(&t[i], NULL, s_register_thread, &jobs[i]);
    for (int i = 0; i < CONCURRENT_CLIENTS; i++)
        pthread_join(t[i], NULL);
    uint64_t all[CONCURRENT_CLIENTS * CONCURRENT_EACH];
    size_t n = 0;
    for (int i = 0; i < CONCURRENT_CLIENTS; i++) {
        assert_int_equal(jobs[i].failed, 0);
        for (int k = 0; k < CONCURRENT_EACH; k++)
            all[n++] = jobs[i].serials[k];
    }
    qsort(all, n, sizeof all[0], s_cmp_u64);
    for (size_t i = 1; i < n; i++)
        assert_true(all[i] > all[i - 1]); /* every serial once */
    /* Gap-free: as many records as the highest serial, and the head on it. */
    assert_int_equal(s_count("SELECT count(*) FROM chain"), s_count("SELECT max(seq) FROM chain"));
    assert_int_equal(s_count("SELECT seq FROM chain_head"), s_count("SELECT max(seq) FROM chain"));
    s_ctl_expect("--role staff --actor staff:li ip audit-chain", 0);
    assert_non_null(strstr(s_out, "chain intact"));
}

/* ---- registrations committed together ------------------------------------------ */

/* One registration of a batch, sent from its own client. */
typedef struct {
    const char *owner;   /* acts for this party */
    const char *content; /* hashed; stored too when store is set */
    int store;
    const char *also_owner; /* when set: the owners are this party alone (the caller is not one) */
    int status;
    char error[600];
    Ccip__Ip__RegisterWorkReply *reply;
} s_batch_job;

static void *s_batch_register(void *arg)
{
    s_batch_job *job = arg;
    char hex[65];
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.front_keys);
    s_sha256_hex(job->content, strlen(job->content), hex);
    Ccip__Ip__RegisterWorkRequest rq = CCIP__IP__REGISTER_WORK_REQUEST__INIT;
    rq.kind = CCIP__IP__WORK_KIND__COPYRIGHT_LITERARY;
    rq.title = "Batched";
    rq.created_on = "2026-01-15";
    rq.content_sha256 = hex;
    char *creators[] = {"李四", "Wang \"Five\" Wu"};
    rq.creators = creators;
    rq.n_creators = 2;
    Ccip__Ip__Owner other = CCIP__IP__OWNER__INIT;
    Ccip__Ip__Owner *owners[] = {&other};
    if (job->also_owner) {
        other.party = (char *)job->also_owner;
        other.share_bp = 10000;
        rq.owners = owners;
        rq.n_owners = 1;
    }
    if (job->store) {
        rq.content.data = (uint8_t *)job->content;
        rq.content.len = strlen(job->content);
    }
    job->status = c ? s_send_on(c, OWNER, job->owner, "ip.work.register.v1", &rq.base,
                                &ccip__ip__register_work_reply__descriptor,
                                (ProtobufCMessage **)&job->reply, job->error, sizeof job->error)
                    : -1;
    ccip_client_destroy(&c);
    return NULL;
}

/* Registrations that reach ip at the same moment are committed together,
 * in one transaction with one lock of the chain head, and each ends as if
 * they had run one after the other: new works chain on each other and the
 * audit finds the chain intact; identical content of two owners in the
 * same batch registers once and refuses the other, naming the first; the
 * same owner twice gets one registration; a near copy is flagged against
 * the work registered just before it in the batch; a refused request
 * leaves no trace. To make the batch, the test holds the chain head's lock
 * while two registrations take both of ip's connections and the rest queue
 * behind them. */
#define BATCH_JOBS 10
static void test_batch_registrations(void **state)
{
    (void)state;
    char x[32], y[32], z[32], w[32], p[32], q[32], r[32], ghost[32];
    char *orgs[] = {x, y, z, w, p, q, r, ghost};
    for (size_t i = 0; i < sizeof orgs / sizeof orgs[0]; i++)
        s_org(orgs[i]);
    char plain1[128], plain2[128], same[128], twice[128], refused[128], block1[128], block2[128];
    s_content(plain1, sizeof plain1, "batch", "plain one");
    s_content(plain2, sizeof plain2, "batch", "plain two");
    s_content(same, sizeof same, "batch", "one content, two owners");
    s_content(twice, sizeof twice, "batch", "one owner, twice");
    s_content(refused, sizeof refused, "batch", "not the caller's");
    s_content(block1, sizeof block1, "batch", "blocker one");
    s_content(block2, sizeof block2, "batch", "blocker two");
    static char text[1024], copy[1024], large[100 * 1024 + 1];
    s_random_text(text, sizeof text, 60);
    snprintf(copy, sizeof copy, "%s", text);
    char *second = strchr(copy, ' ') + 1;
    second[0] = second[0] == 'x' ? 'y' : 'x';
    s_random_text(large, sizeof large, 15000); /* more than ip keeps inline in its batch write */

    unsigned long long cmds0 = 0, batches0 = 0, cmds1 = 0, batches1 = 0;
    assert_int_equal(ccip_test_ping_counts(&s_svc.env, "ip", &cmds0, &batches0), 0);
    long long works0 = s_count("SELECT count(*) FROM work");

    ccip_db *db = ccip_test_db_connect("ip");
    assert_non_null(db);
    assert_int_equal(ccip_db_command(db, "BEGIN; SELECT seq FROM chain_head FOR UPDATE"),
                     CCIP_DB_OK);
    s_batch_job blockers[2] = {{.owner = x, .content = block1}, {.owner = x, .content = block2}};
    s_batch_job jobs[BATCH_JOBS] = {
        {.owner = x, .content = plain1},
        {.owner = y, .content = same},
        {.owner = z, .content = same},
        {.owner = w, .content = twice},
        {.owner = w, .content = twice},
        {.owner = p, .content = text, .store = 1},
        {.owner = q, .content = copy, .store = 1},
        {.owner = r, .content = refused, .also_owner = ghost},
        {.owner = x, .content = plain2},
        {.owner = x, .content = large, .store = 1},
    };
    pthread_t bt[2], t[BATCH_JOBS];
    for (int i = 0; i < 2; i++)
        pthread_create(&bt[i], NULL, s_batch_register, &blockers[i]);
    ccip_test_sleep_ms(400); /* both blockers wait for the head, holding ip's connections */
    for (int i = 0; i < BATCH_JOBS; i++)
        pthread_create(&t[i], NULL, s_batch_register, &jobs[i]);
    ccip_test_sleep_ms(800); /* the rest queue for a connection */
    assert_int_equal(ccip_db_command(db, "COMMIT"), CCIP_DB_OK);
    ccip_db_destroy(&db);
    for (int i = 0; i < 2; i++)
        pthread_join(bt[i], NULL);
    for (int i = 0; i < BATCH_JOBS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(ccip_test_ping_counts(&s_svc.env, "ip", &cmds1, &batches1), 0);

    for (int i = 0; i < 2; i++)
        assert_int_equal(blockers[i].status, 0);
    for (int i = 0; i < BATCH_JOBS; i++)
        if (i != 1 && i != 2 && i != 7 && jobs[i].status != 0) {
            char what[800];
            snprintf(what, sizeof what, "batched registration %d: status %d: %s", i, jobs[i].status,
                     jobs[i].error);
            ccip_test_fail(&s_svc, what);
        }
    /* They ran together: twelve registrations (and a ping) in a handful of
     * transactions. */
    fprintf(stderr, "batched registrations: %llu commands in %llu transactions\n", cmds1 - cmds0,
            batches1 - batches0);
    assert_true(cmds1 - cmds0 >= 2 + BATCH_JOBS);
    assert_true(batches1 - batches0 <= (cmds1 - cmds0) - (BATCH_JOBS - 2));

    /* Identical content of two owners: one registered, the other refused
     * and pointed at it. */
    const s_batch_job *won = jobs[1].status == 0 ? &jobs[1] : &jobs[2];
    const s_batch_job *lost = jobs[1].status == 0 ? &jobs[2] : &jobs[1];
    assert_int_equal(won->status, 0);
    assert_int_equal(lost->status, CCIP__STATUS__ALREADY_EXISTS);
    assert_non_null(strstr(lost->error, "another owner"));
    assert_non_null(strstr(lost->error, won->reply->work->id));
    assert_non_null(strstr(lost->error, won->reply->work->serial_text));
    /* One owner twice: one registration, returned to both. */
    assert_int_equal(jobs[3].reply->work->serial, jobs[4].reply->work->serial);
    assert_string_equal(jobs[3].reply->receipt, jobs[4].reply->receipt);
    assert_int_equal(jobs[3].reply->existing + jobs[4].reply->existing, 1);
    /* A near copy: the later of the two is flagged and names the earlier. */
    const s_batch_job *orig =
        jobs[5].reply->work->serial < jobs[6].reply->work->serial ? &jobs[5] : &jobs[6];
    const s_batch_job *near = orig == &jobs[5] ? &jobs[6] : &jobs[5];
    assert_int_equal(orig->reply->n_similar, 0);
    assert_true(near->reply->n_similar >= 1);
    assert_string_equal(near->reply->similar[0]->work_id, orig->reply->work->id);
    assert_string_equal(near->reply->work->review, "FLAGGED");
    /* Refused in the batch: permission, and no trace of it. */
    assert_int_equal(jobs[7].status, CCIP__STATUS__PERMISSION_DENIED);
    char q_sql[400], hex[65];
    s_sha256_hex(refused, strlen(refused), hex);
    snprintf(q_sql, sizeof q_sql,
             "SELECT count(*) FROM work WHERE content_sha256 = decode('%s', 'hex')", hex);
    assert_int_equal(s_count(q_sql), 0);
    /* Large content is stored whole. */
    snprintf(q_sql, sizeof q_sql, "SELECT length(content) FROM work_content WHERE work_id = '%s'",
             jobs[9].reply->work->id);
    assert_int_equal(s_count(q_sql), (long long)strlen(large));
    /* Nine new works (two blockers, seven of the batch), each once in the
     * chain with its own serial and its event; the chain gap-free and
     * intact, and every receipt verifies offline. */
    assert_int_equal(s_count("SELECT count(*) FROM work") - works0, 9);
    uint64_t serials[9];
    size_t ns = 0;
    serials[ns++] = blockers[0].reply->work->serial;
    serials[ns++] = blockers[1].reply->work->serial;
    for (int i = 0; i < BATCH_JOBS; i++)
        if (jobs[i].status == 0 && !jobs[i].reply->existing)
            serials[ns++] = jobs[i].reply->work->serial;
    assert_int_equal(ns, 9);
    qsort(serials, ns, sizeof serials[0], s_cmp_u64);
    for (size_t i = 1; i < ns; i++)
        assert_true(serials[i] > serials[i - 1]);
    for (int i = 0; i < BATCH_JOBS; i++) {
        if (jobs[i].status != 0 || jobs[i].reply->existing)
            continue;
        assert_int_equal(s_events("ip.work.registered.v1", jobs[i].reply->work->id), 1);
        char args[1200];
        assert_int_equal(ccip_test_write_file(s_svc.env.dir, "batched.txt", jobs[i].reply->receipt),
                         0);
        snprintf(args, sizeof args, "ip verify %s/batched.txt --key %s", s_svc.env.dir, s_pub);
        s_ctl_expect(args, 0);
    }
    assert_int_equal(s_count("SELECT count(*) FROM chain"), s_count("SELECT max(seq) FROM chain"));
    assert_int_equal(s_count("SELECT seq FROM chain_head"), s_count("SELECT max(seq) FROM chain"));
    s_ctl_expect("--role staff --actor staff:li ip audit-chain", 0);
    assert_non_null(strstr(s_out, "chain intact"));
    for (int i = 0; i < 2; i++)
        ccip_test_free(blockers[i].reply);
    for (int i = 0; i < BATCH_JOBS; i++)
        ccip_test_free(jobs[i].reply);
}

/* Identical content of two owners in two batches that both checked before
 * either held the chain head (each on its own connection, both waiting for
 * the head the test holds): the one that appends second finds the content
 * taken when it writes, runs again, and is refused, naming the first. */
static void test_duplicate_content_across_batches(void **state)
{
    (void)state;
    char a[32], b[32], content[128];
    s_org(a);
    s_org(b);
    s_content(content, sizeof content, "across", "two batches, one content");
    ccip_db *db = ccip_test_db_connect("ip");
    assert_non_null(db);
    assert_int_equal(ccip_db_command(db, "BEGIN; SELECT seq FROM chain_head FOR UPDATE"),
                     CCIP_DB_OK);
    s_batch_job jobs[2] = {{.owner = a, .content = content}, {.owner = b, .content = content}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, s_batch_register, &jobs[i]);
    ccip_test_sleep_ms(600); /* both checked, both wait for the head */
    assert_int_equal(ccip_db_command(db, "COMMIT"), CCIP_DB_OK);
    ccip_db_destroy(&db);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    const s_batch_job *won = jobs[0].status == 0 ? &jobs[0] : &jobs[1];
    const s_batch_job *lost = won == &jobs[0] ? &jobs[1] : &jobs[0];
    assert_int_equal(won->status, 0);
    assert_int_equal(lost->status, CCIP__STATUS__ALREADY_EXISTS);
    assert_non_null(strstr(lost->error, won->reply->work->id));
    assert_non_null(strstr(lost->error, won->reply->work->serial_text));
    char q_sql[300], hex[65];
    s_sha256_hex(content, strlen(content), hex);
    snprintf(q_sql, sizeof q_sql,
             "SELECT count(*) FROM chain WHERE content_sha256 = decode('%s', 'hex')", hex);
    assert_int_equal(s_count(q_sql), 1);
    for (int i = 0; i < 2; i++)
        ccip_test_free(jobs[i].reply);
}

/* ---- bad input ------------------------------------------------------------------ */

/* Every bad value gets INVALID_ARGUMENT naming the field, and nothing is
 * written. */
static void test_bad_input_writes_nothing(void **state)
{
    (void)state;
    char org[32], work_id[40], content[128], hex[65];
    s_new_work(work_id, org);
    const char *tables = "SELECT (SELECT count(*) FROM work) + (SELECT count(*) FROM chain) + "
                         "(SELECT count(*) FROM listing) + (SELECT count(*) FROM outbox) + "
                         "(SELECT count(*) FROM dispute)";
    long long before = s_count(tables);
    s_content(content, sizeof content, "bad", "input");
    s_sha256_hex(content, strlen(content), hex);

    Ccip__Ip__RegisterWorkRequest rq = CCIP__IP__REGISTER_WORK_REQUEST__INIT;
    rq.kind = CCIP__IP__WORK_KIND__COPYRIGHT_DESIGN;
    rq.title = "Design";
    rq.created_on = "2026-01-15";
    rq.content_sha256 = "9f86d081";
    s_refused(s_send(OWNER, org, "ip.work.register.v1", &rq.base), CCIP__STATUS__INVALID_ARGUMENT,
              "field `content_sha256` must be 64 hex characters");
    rq.content_sha256 = hex;
    rq.kind = 42;
    s_refused(s_send(OWNER, org, "ip.work.register.v1", &rq.base), CCIP__STATUS__INVALID_ARGUMENT,
              "field `kind` has the unknown value 42");
    rq.kind = CCIP__IP__WORK_KIND__COPYRIGHT_DESIGN;
    rq.title = "bad \xc3\x28 utf-8";
    s_refused(s_send(OWNER, org, "ip.work.register.v1", &rq.base), CCIP__STATUS__INVALID_ARGUMENT,
              "field `title` is not valid UTF-8");
    rq.title = "Design";
    rq.created_on = "2999-01-01";
    s_refused(s_send(OWNER, org, "ip.work.register.v1", &rq.base), CCIP__STATUS__INVALID_ARGUMENT,
              "`created_on`");
    rq.created_on = "2026-01-15";
    Ccip__Ip__Owner o1 = CCIP__IP__OWNER__INIT, o2 = CCIP__IP__OWNER__INIT;
    Ccip__Ip__Owner *owners[] = {&o1, &o2};
    o1.party = org;
    o1.share_bp = 5000;
    o2.party = "person:li-si";
    o2.share_bp = 4000;
    rq.owners = owners;
    rq.n_owners = 2;
    s_refused(s_send(OWNER, org, "ip.work.register.v1", &rq.base), CCIP__STATUS__INVALID_ARGUMENT,
              "add up to 10000");
    rq.n_owners = 0;
    rq.content.data = (uint8_t *)"not the content";
    rq.content.len = 15;
    s_refused(s_send(OWNER, org, "ip.work.register.v1", &rq.base), CCIP__STATUS__INVALID_ARGUMENT,
              "field `content` hashes to");

    Ccip__Ip__CreateListingRequest lr = CCIP__IP__CREATE_LISTING_REQUEST__INIT;
    char *cn[] = {"CN"}, *bad_place[] = {"China"};
    lr.work_id = work_id;
    lr.deal = CCIP__IP__DEAL_TYPE__NON_EXCLUSIVE_LICENCE;
    lr.territory = cn;
    lr.n_territory = 1;
    lr.term_start = "2026-01-01";
    lr.term_end = "2026-12-31";
    lr.price_fen = -100;
    s_refused(s_send(OWNER, org, "ip.listing.create.v1", &lr.base), CCIP__STATUS__INVALID_ARGUMENT,
              "field `price_fen` must be 0 or more");
    lr.price_fen = 100;
    lr.term_end = "2025-12-31";
    s_refused(s_send(OWNER, org, "ip.listing.create.v1", &lr.base), CCIP__STATUS__INVALID_ARGUMENT,
              "field `term_end` (2025-12-31) is before");
    lr.term_end = "2026-12-31";
    lr.territory = bad_place;
    s_refused(s_send(OWNER, org, "ip.listing.create.v1", &lr.base), CCIP__STATUS__INVALID_ARGUMENT,
              "field `territory[0]`");
    lr.territory = cn;
    lr.deal = 9;
    s_refused(s_send(OWNER, org, "ip.listing.create.v1", &lr.base), CCIP__STATUS__INVALID_ARGUMENT,
              "field `deal`");

    Ccip__Ip__FileDisputeRequest fr = CCIP__IP__FILE_DISPUTE_REQUEST__INIT;
    Ccip__Ip__Evidence ev = CCIP__IP__EVIDENCE__INIT;
    Ccip__Ip__Evidence *evs[] = {&ev};
    char other[32];
    s_org(other);
    fr.work_id = work_id;
    fr.kind = CCIP__IP__DISPUTE_KIND__INFRINGEMENT;
    fr.statement = "copied";
    ev.description = "our manuscript";
    ev.sha256 = "zz";
    fr.evidence = evs;
    fr.n_evidence = 1;
    s_refused(s_send(OWNER, other, "ip.dispute.file.v1", &fr.base), CCIP__STATUS__INVALID_ARGUMENT,
              "field `evidence[0].sha256`");
    assert_int_equal(s_count(tables), before);
}

/* ---- roles -------------------------------------------------------------------- */

static void test_roles(void **state)
{
    (void)state;
    char org[32], other[32], work_id[40];
    s_new_work(work_id, org);
    s_org(other);
    /* A service key registers nothing. */
    Ccip__Ip__RegisterWorkRequest rq = CCIP__IP__REGISTER_WORK_REQUEST__INIT;
    s_refused(s_send(NULL, NULL, "ip.work.register.v1", &rq.base), CCIP__STATUS__PERMISSION_DENIED,
              "role \"service\"");
    /* Only owners list: the applicant role, or an owner of something else. */
    Ccip__Ip__CreateListingRequest lr = CCIP__IP__CREATE_LISTING_REQUEST__INIT;
    lr.work_id = work_id;
    lr.deal = CCIP__IP__DEAL_TYPE__TRANSFER;
    lr.price_fen = 100;
    s_refused(s_send(APPLICANT, org, "ip.listing.create.v1", &lr.base),
              CCIP__STATUS__PERMISSION_DENIED, NULL);
    s_refused(s_send(OWNER, other, "ip.listing.create.v1", &lr.base),
              CCIP__STATUS__PERMISSION_DENIED, "only a current owner may list");
    s_refused(s_send(STAFF, "ip.listing.create.v1", &lr.base), CCIP__STATUS__PERMISSION_DENIED,
              NULL);
    /* An owner whose actor id is not a party is refused too. */
    s_refused(s_send(OWNER, "bob", "ip.listing.create.v1", &lr.base),
              CCIP__STATUS__PERMISSION_DENIED, "org:<unified social credit code>");
    /* Only the listing's owner accepts. */
    Ccip__Ip__ListingReply *l =
        s_list(org, work_id, CCIP__IP__DEAL_TYPE__TRANSFER, NULL, NULL, NULL, 100);
    Ccip__Ip__OfferReply *o = s_offer(other, l->listing->id, 100);
    Ccip__Ip__OfferActionRequest ar = CCIP__IP__OFFER_ACTION_REQUEST__INIT;
    ar.offer_id = o->offer->id;
    s_refused(s_send(OWNER, other, "ip.offer.accept.v1", &ar.base), CCIP__STATUS__PERMISSION_DENIED,
              "only the listing's owner");
    s_refused(s_send(STAFF, "ip.offer.accept.v1", &ar.base), CCIP__STATUS__PERMISSION_DENIED, NULL);
    /* Only the buyer withdraws an offer. */
    s_refused(s_send(OWNER, org, "ip.offer.withdraw.v1", &ar.base), CCIP__STATUS__PERMISSION_DENIED,
              "only the buyer");
    /* Only staff rule on disputes. */
    Ccip__Ip__RuleDisputeRequest rr = CCIP__IP__RULE_DISPUTE_REQUEST__INIT;
    rr.dispute_id = o->offer->id;
    rr.ruling = CCIP__IP__RULING__UPHOLD;
    rr.reasons = "because";
    s_refused(s_send(OWNER, org, "ip.dispute.rule.v1", &rr.base), CCIP__STATUS__PERMISSION_DENIED,
              NULL);
    s_refused(s_send(NULL, NULL, "ip.dispute.rule.v1", &rr.base), CCIP__STATUS__PERMISSION_DENIED,
              NULL);
    s_refused(s_send("guest", "org:x", "ip.work.get.v1", &rr.base), CCIP__STATUS__PERMISSION_DENIED,
              NULL);
    ccip_test_free(l);
    ccip_test_free(o);
}

/* ---- trades ---------------------------------------------------------------------- */

/* List, offer, (no changes under offer), accept, settle: a transfer moves
 * the share to the buyer, and both events are written. */
static void test_transfer_moves_ownership(void **state)
{
    (void)state;
    char seller[32], buyer[32], work_id[40];
    s_new_work(work_id, seller);
    s_org(buyer);
    Ccip__Ip__ListingReply *l =
        s_list(seller, work_id, CCIP__IP__DEAL_TYPE__TRANSFER, NULL, NULL, NULL, 50000);
    assert_string_equal(l->listing->status, "OPEN");
    /* A second transfer listing of the same share is refused. */
    Ccip__Ip__CreateListingRequest lr = CCIP__IP__CREATE_LISTING_REQUEST__INIT;
    lr.work_id = work_id;
    lr.deal = CCIP__IP__DEAL_TYPE__TRANSFER;
    lr.price_fen = 1;
    s_refused(s_send(OWNER, seller, "ip.listing.create.v1", &lr.base),
              CCIP__STATUS__FAILED_PRECONDITION, "already lists its share");
    /* The seller cannot bid on its own listing. */
    Ccip__Ip__MakeOfferRequest mo = CCIP__IP__MAKE_OFFER_REQUEST__INIT;
    mo.listing_id = l->listing->id;
    mo.price_fen = 1;
    s_refused(s_send(OWNER, seller, "ip.offer.make.v1", &mo.base),
              CCIP__STATUS__FAILED_PRECONDITION, "its own listing");
    Ccip__Ip__OfferReply *o = s_offer(buyer, l->listing->id, 45000);
    /* One open offer per buyer. */
    mo.price_fen = 46000;
    s_refused(s_send(APPLICANT, buyer, "ip.offer.make.v1", &mo.base), CCIP__STATUS__ALREADY_EXISTS,
              "already has an open offer");
    /* Under offer, the listing cannot be changed. */
    Ccip__Ip__UpdateListingRequest ur = CCIP__IP__UPDATE_LISTING_REQUEST__INIT;
    ur.listing_id = l->listing->id;
    ur.price_fen = 60000;
    s_refused(s_send(OWNER, seller, "ip.listing.update.v1", &ur.base),
              CCIP__STATUS__FAILED_PRECONDITION, "under offer");

    Ccip__Ip__OfferActionRequest ar = CCIP__IP__OFFER_ACTION_REQUEST__INIT;
    ar.offer_id = o->offer->id;
    Ccip__Ip__ContractReply *k =
        s_ok(OWNER, seller, "ip.offer.accept.v1", &ar.base, &ccip__ip__contract_reply__descriptor);
    assert_string_equal(k->contract->status, "CONTRACTED");
    assert_int_equal(k->contract->price_fen, 45000);
    assert_int_equal(k->contract->share_bp, 10000);
    assert_int_equal(s_events("ip.trade.contracted.v1", k->contract->id), 1);
    /* The contract is read by its seller, its buyer and staff; a third
     * organisation is refused its price and terms. */
    Ccip__Ip__ContractActionRequest cg = CCIP__IP__CONTRACT_ACTION_REQUEST__INIT;
    cg.contract_id = k->contract->id;
    const char *parties[] = {seller, buyer};
    for (int i = 0; i < 2; i++) {
        Ccip__Ip__ContractReply *got = s_ok(i ? APPLICANT : OWNER, parties[i], "ip.contract.get.v1",
                                            &cg.base, &ccip__ip__contract_reply__descriptor);
        assert_int_equal(got->contract->price_fen, 45000);
        ccip_test_free(got);
    }
    ccip_test_free(
        s_ok(STAFF, "ip.contract.get.v1", &cg.base, &ccip__ip__contract_reply__descriptor));
    char third[32];
    s_org(third);
    s_refused(s_send(APPLICANT, third, "ip.contract.get.v1", &cg.base),
              CCIP__STATUS__PERMISSION_DENIED, "is neither");
    /* Lists: a party's own contracts only; staff any party's. */
    Ccip__Ip__ListContractsRequest cl = CCIP__IP__LIST_CONTRACTS_REQUEST__INIT;
    cl.work_id = work_id;
    const char *listers[] = {seller, buyer, third};
    for (int i = 0; i < 3; i++) {
        Ccip__Ip__ListContractsReply *got =
            s_ok(APPLICANT, listers[i], "ip.contract.list.v1", &cl.base,
                 &ccip__ip__list_contracts_reply__descriptor);
        assert_int_equal(got->n_contracts, i < 2 ? 1 : 0);
        ccip_test_free(got);
    }
    cl.party = seller;
    s_refused(s_send(APPLICANT, third, "ip.contract.list.v1", &cl.base),
              CCIP__STATUS__PERMISSION_DENIED, "lists only its own contracts");
    cl.party = buyer;
    cl.status = "CONTRACTED";
    Ccip__Ip__ListContractsReply *all =
        s_ok(STAFF, "ip.contract.list.v1", &cl.base, &ccip__ip__list_contracts_reply__descriptor);
    assert_int_equal(all->n_contracts, 1);
    assert_string_equal(all->contracts[0]->id, k->contract->id);
    ccip_test_free(all);

    Ccip__Ip__SettleContractRequest sr = CCIP__IP__SETTLE_CONTRACT_REQUEST__INIT;
    sr.contract_id = k->contract->id;
    sr.payment_ref = "ICBC-2026-0001";
    sr.paid_fen = 45000;
    s_refused(s_send(OWNER, buyer, "ip.contract.settle.v1", &sr.base),
              CCIP__STATUS__PERMISSION_DENIED, "only the seller");
    sr.paid_fen = 40000;
    s_refused(s_send(OWNER, seller, "ip.contract.settle.v1", &sr.base),
              CCIP__STATUS__INVALID_ARGUMENT, "field `paid_fen` must equal");
    sr.paid_fen = 45000;
    Ccip__Ip__ContractReply *done = s_ok(OWNER, seller, "ip.contract.settle.v1", &sr.base,
                                         &ccip__ip__contract_reply__descriptor);
    assert_string_equal(done->contract->status, "SETTLED");
    assert_int_equal(s_events("ip.trade.settled.v1", k->contract->id), 1);
    s_refused(s_send(OWNER, seller, "ip.contract.settle.v1", &sr.base),
              CCIP__STATUS__FAILED_PRECONDITION, "already SETTLED");

    Ccip__Ip__GetWorkRequest gr = CCIP__IP__GET_WORK_REQUEST__INIT;
    gr.work_id = work_id;
    Ccip__Ip__WorkReply *w =
        s_ok(STAFF, "ip.work.get.v1", &gr.base, &ccip__ip__work_reply__descriptor);
    assert_int_equal(w->work->n_owners, 1);
    assert_string_equal(w->work->owners[0]->party, buyer);
    assert_int_equal(w->work->owners[0]->share_bp, 10000);
    /* The former owner can list no more; the new one can. */
    s_refused(s_send(OWNER, seller, "ip.listing.create.v1", &lr.base),
              CCIP__STATUS__PERMISSION_DENIED, "only a current owner");
    ccip_test_free(s_list(buyer, work_id, CCIP__IP__DEAL_TYPE__NON_EXCLUSIVE_LICENCE, "CN",
                          "2027-01-01", "2027-12-31", 100));
    ccip_test_free(w);
    ccip_test_free(done);
    ccip_test_free(k);
    ccip_test_free(o);
    ccip_test_free(l);
}

/* Two acceptances at the same moment on one work. */
typedef struct {
    const char *seller;
    const char *offer_id;
    int status;
    char error[600];
} s_accept_job;

static void *s_accept_thread(void *arg)
{
    s_accept_job *job = arg;
    ccip_client *c = ccip_test_svc_client(&s_svc, &s_svc.env.front_keys);
    Ccip__Ip__OfferActionRequest ar = CCIP__IP__OFFER_ACTION_REQUEST__INIT;
    ar.offer_id = (char *)job->offer_id;
    job->status = c ? s_send_on(c, OWNER, job->seller, "ip.offer.accept.v1", &ar.base, NULL, NULL,
                                job->error, sizeof job->error)
                    : -1;
    ccip_client_destroy(&c);
    return NULL;
}

/* No two exclusive licences overlap in territory and term, even when their
 * offers are accepted at the same moment on different workers; exclusive
 * licences for separate territories coexist. */
static void test_no_overlapping_exclusive_licences(void **state)
{
    (void)state;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        char seller[32], b1[32], b2[32], work_id[40];
        s_new_work(work_id, seller);
        s_org(b1);
        s_org(b2);
        /* Beijing for 2026, and all of China from mid-2026: they overlap. */
        Ccip__Ip__ListingReply *l1 = s_list(seller, work_id, CCIP__IP__DEAL_TYPE__EXCLUSIVE_LICENCE,
                                            "CN-BJ", "2026-01-01", "2026-12-31", 10000);
        Ccip__Ip__ListingReply *l2 = s_list(seller, work_id, CCIP__IP__DEAL_TYPE__EXCLUSIVE_LICENCE,
                                            "CN", "2026-07-01", "2027-06-30", 20000);
        Ccip__Ip__OfferReply *o1 = s_offer(b1, l1->listing->id, 10000);
        Ccip__Ip__OfferReply *o2 = s_offer(b2, l2->listing->id, 20000);
        s_accept_job jobs[2] = {{.seller = seller, .offer_id = o1->offer->id},
                                {.seller = seller, .offer_id = o2->offer->id}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, s_accept_thread, &jobs[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        int ok = (jobs[0].status == 0) + (jobs[1].status == 0);
        if (ok != 1) {
            char what[1400];
            snprintf(what, sizeof what, "round %d: %d acceptances succeeded (%d: %s / %d: %s)",
                     round, ok, jobs[0].status, jobs[0].error, jobs[1].status, jobs[1].error);
            ccip_test_fail(&s_svc, what);
        }
        const s_accept_job *loser = jobs[0].status == 0 ? &jobs[1] : &jobs[0];
        assert_int_equal(loser->status, CCIP__STATUS__FAILED_PRECONDITION);
        assert_non_null(strstr(loser->error, "exclusive licence contract"));
        char q[300];
        snprintf(q, sizeof q, "SELECT count(*) FROM contract WHERE work_id = '%s'", work_id);
        assert_int_equal(s_count(q), 1);
        ccip_test_free(l1);
        ccip_test_free(l2);
        ccip_test_free(o1);
        ccip_test_free(o2);
    }
    /* Separate territories (or separate years) coexist; a non-exclusive
     * licence inside an exclusive one does not. */
    char seller[32], b1[32], b2[32], b3[32], work_id[40];
    s_new_work(work_id, seller);
    s_org(b1);
    s_org(b2);
    s_org(b3);
    const char *places[] = {"CN-BJ", "CN-SH"};
    const char *buyers[] = {b1, b2};
    for (int i = 0; i < 2; i++) {
        Ccip__Ip__ListingReply *l = s_list(seller, work_id, CCIP__IP__DEAL_TYPE__EXCLUSIVE_LICENCE,
                                           places[i], "2026-01-01", "2026-12-31", 100);
        Ccip__Ip__OfferReply *o = s_offer(buyers[i], l->listing->id, 100);
        Ccip__Ip__OfferActionRequest ar = CCIP__IP__OFFER_ACTION_REQUEST__INIT;
        ar.offer_id = o->offer->id;
        ccip_test_free(s_ok(OWNER, seller, "ip.offer.accept.v1", &ar.base,
                            &ccip__ip__contract_reply__descriptor));
        ccip_test_free(l);
        ccip_test_free(o);
    }
    Ccip__Ip__CreateListingRequest lr = CCIP__IP__CREATE_LISTING_REQUEST__INIT;
    char *sh[] = {"CN-SH"};
    lr.work_id = work_id;
    lr.deal = CCIP__IP__DEAL_TYPE__NON_EXCLUSIVE_LICENCE;
    lr.territory = sh;
    lr.n_territory = 1;
    lr.term_start = "2026-12-01";
    lr.term_end = "2027-02-01";
    lr.price_fen = 5;
    s_refused(s_send(OWNER, seller, "ip.listing.create.v1", &lr.base),
              CCIP__STATUS__FAILED_PRECONDITION, "no other licence may overlap an exclusive one");
    lr.term_start = "2027-01-01";
    ccip_test_free(s_ok(OWNER, seller, "ip.listing.create.v1", &lr.base,
                        &ccip__ip__listing_reply__descriptor));
}

/* ---- disputes ------------------------------------------------------------------------ */

static Ccip__Ip__DisputeReply *s_file(const char *complainant, const char *work_id)
{
    Ccip__Ip__FileDisputeRequest fr = CCIP__IP__FILE_DISPUTE_REQUEST__INIT;
    Ccip__Ip__Evidence ev = CCIP__IP__EVIDENCE__INIT;
    Ccip__Ip__Evidence *evs[] = {&ev};
    char hex[65];
    s_sha256_hex("manuscript", 10, hex);
    fr.work_id = (char *)work_id;
    fr.kind = CCIP__IP__DISPUTE_KIND__INFRINGEMENT;
    fr.statement = "the work copies chapters 2 and 3 of our manuscript of 2024";
    ev.description = "our manuscript, dated 2024-03-01";
    ev.sha256 = hex;
    fr.evidence = evs;
    fr.n_evidence = 1;
    return s_ok(OWNER, complainant, "ip.dispute.file.v1", &fr.base,
                &ccip__ip__dispute_reply__descriptor);
}

/* File, answer, uphold: the work is frozen (no listing, offer, contract or
 * settlement) and ip.dispute.upheld.v1 is written. Staff rule only after
 * the answer or the window; a late answer is refused. */
static void test_dispute_freezes_work(void **state)
{
    (void)state;
    char owner[32], complainant[32], buyer[32], work_id[40];
    s_new_work(work_id, owner);
    s_org(complainant);
    s_org(buyer);
    /* Trade already under way when the dispute comes. */
    Ccip__Ip__ListingReply *l = s_list(owner, work_id, CCIP__IP__DEAL_TYPE__NON_EXCLUSIVE_LICENCE,
                                       "CN", "2026-01-01", "2026-12-31", 300);
    Ccip__Ip__OfferReply *o = s_offer(buyer, l->listing->id, 300);

    Ccip__Ip__DisputeReply *d = s_file(complainant, work_id);
    assert_string_equal(d->dispute->status, "FILED");
    assert_int_equal(s_events("ip.dispute.filed.v1", d->dispute->id), 1);
    /* The dispute is read by its complainant, the work's owner and staff;
     * another organisation (here a buyer with an offer on the work) is
     * refused its statement and evidence. */
    Ccip__Ip__DisputeActionRequest dg = CCIP__IP__DISPUTE_ACTION_REQUEST__INIT;
    dg.dispute_id = d->dispute->id;
    const char *parties[] = {complainant, owner};
    for (int i = 0; i < 2; i++) {
        Ccip__Ip__DisputeReply *got = s_ok(i ? OWNER : APPLICANT, parties[i], "ip.dispute.get.v1",
                                           &dg.base, &ccip__ip__dispute_reply__descriptor);
        assert_string_equal(got->dispute->statement, d->dispute->statement);
        ccip_test_free(got);
    }
    ccip_test_free(
        s_ok(STAFF, "ip.dispute.get.v1", &dg.base, &ccip__ip__dispute_reply__descriptor));
    s_refused(s_send(APPLICANT, buyer, "ip.dispute.get.v1", &dg.base),
              CCIP__STATUS__PERMISSION_DENIED, "is neither");
    /* Staff find it in their list (by work and status); a party lists none. */
    Ccip__Ip__ListDisputesRequest dl = CCIP__IP__LIST_DISPUTES_REQUEST__INIT;
    dl.work_id = work_id;
    dl.status = "FILED";
    Ccip__Ip__ListDisputesReply *listed =
        s_ok(STAFF, "ip.dispute.list.v1", &dl.base, &ccip__ip__list_disputes_reply__descriptor);
    assert_int_equal(listed->n_disputes, 1);
    assert_string_equal(listed->disputes[0]->id, d->dispute->id);
    ccip_test_free(listed);
    dl.status = "UPHELD";
    listed =
        s_ok(STAFF, "ip.dispute.list.v1", &dl.base, &ccip__ip__list_disputes_reply__descriptor);
    assert_int_equal(listed->n_disputes, 0);
    ccip_test_free(listed);
    dl.status = "OPEN";
    s_refused(s_send(STAFF, "ip.dispute.list.v1", &dl.base), CCIP__STATUS__INVALID_ARGUMENT,
              "field `status`");
    dl.status = "";
    s_refused(s_send(OWNER, owner, "ip.dispute.list.v1", &dl.base), CCIP__STATUS__PERMISSION_DENIED,
              NULL);
    Ccip__Ip__RuleDisputeRequest rr = CCIP__IP__RULE_DISPUTE_REQUEST__INIT;
    rr.dispute_id = d->dispute->id;
    rr.ruling = CCIP__IP__RULING__UPHOLD;
    rr.reasons = "chapters 2 and 3 match the earlier manuscript line by line";
    s_refused(s_send(STAFF, "ip.dispute.rule.v1", &rr.base), CCIP__STATUS__FAILED_PRECONDITION,
              "may answer dispute");

    Ccip__Ip__AnswerDisputeRequest an = CCIP__IP__ANSWER_DISPUTE_REQUEST__INIT;
    an.dispute_id = d->dispute->id;
    an.answer = "we wrote it ourselves";
    s_refused(s_send(OWNER, buyer, "ip.dispute.answer.v1", &an.base),
              CCIP__STATUS__PERMISSION_DENIED, "only an owner");
    Ccip__Ip__DisputeReply *answered =
        s_ok(OWNER, owner, "ip.dispute.answer.v1", &an.base, &ccip__ip__dispute_reply__descriptor);
    assert_string_equal(answered->dispute->status, "ANSWERED");
    assert_int_equal(s_events("ip.dispute.answered.v1", d->dispute->id), 1);

    s_refused(s_send(OWNER, complainant, "ip.dispute.rule.v1", &rr.base),
              CCIP__STATUS__PERMISSION_DENIED, NULL);
    Ccip__Ip__DisputeReply *upheld =
        s_ok(STAFF, "ip.dispute.rule.v1", &rr.base, &ccip__ip__dispute_reply__descriptor);
    assert_string_equal(upheld->dispute->status, "UPHELD");
    assert_int_equal(s_events("ip.dispute.upheld.v1", d->dispute->id), 1);

    /* Frozen: nothing new, and nothing in flight goes through. */
    Ccip__Ip__CreateListingRequest lr = CCIP__IP__CREATE_LISTING_REQUEST__INIT;
    lr.work_id = work_id;
    lr.deal = CCIP__IP__DEAL_TYPE__TRANSFER;
    lr.price_fen = 1;
    s_refused(s_send(OWNER, owner, "ip.listing.create.v1", &lr.base),
              CCIP__STATUS__FAILED_PRECONDITION, "is frozen by upheld dispute");
    char other[32];
    s_org(other);
    Ccip__Ip__MakeOfferRequest mo = CCIP__IP__MAKE_OFFER_REQUEST__INIT;
    mo.listing_id = l->listing->id;
    mo.price_fen = 1;
    s_refused(s_send(APPLICANT, other, "ip.offer.make.v1", &mo.base),
              CCIP__STATUS__FAILED_PRECONDITION, "is frozen");
    Ccip__Ip__OfferActionRequest ar = CCIP__IP__OFFER_ACTION_REQUEST__INIT;
    ar.offer_id = o->offer->id;
    s_refused(s_send(OWNER, owner, "ip.offer.accept.v1", &ar.base),
              CCIP__STATUS__FAILED_PRECONDITION, "is frozen");
    Ccip__Ip__GetWorkRequest gr = CCIP__IP__GET_WORK_REQUEST__INIT;
    gr.work_id = work_id;
    Ccip__Ip__WorkReply *w =
        s_ok(STAFF, "ip.work.get.v1", &gr.base, &ccip__ip__work_reply__descriptor);
    assert_true(w->work->frozen);
    s_refused(s_send(STAFF, "ip.dispute.rule.v1", &rr.base), CCIP__STATUS__FAILED_PRECONDITION,
              "already ruled");
    ccip_test_free(w);

    /* Overturned on appeal: staff lift the freeze, once, with reasons; the
     * work trades again and ip.dispute.lifted.v1 tells the others. */
    Ccip__Ip__LiftFreezeRequest lf = CCIP__IP__LIFT_FREEZE_REQUEST__INIT;
    lf.dispute_id = d->dispute->id;
    s_refused(s_send(OWNER, owner, "ip.dispute.lift.v1", &lf.base), CCIP__STATUS__PERMISSION_DENIED,
              NULL);
    lf.reasons = "";
    s_refused(s_send(STAFF, "ip.dispute.lift.v1", &lf.base), CCIP__STATUS__INVALID_ARGUMENT,
              "reasons");
    lf.reasons = "the appeal board found the chapters were the owner's own earlier draft";
    Ccip__Ip__DisputeReply *lifted =
        s_ok(STAFF, "ip.dispute.lift.v1", &lf.base, &ccip__ip__dispute_reply__descriptor);
    assert_string_equal(lifted->dispute->status, "UPHELD");
    assert_true(lifted->dispute->lifted_at_us > 0);
    assert_string_equal(lifted->dispute->lift_reasons, lf.reasons);
    assert_int_equal(s_events("ip.dispute.lifted.v1", d->dispute->id), 1);
    s_refused(s_send(STAFF, "ip.dispute.lift.v1", &lf.base), CCIP__STATUS__FAILED_PRECONDITION,
              "already lifted");
    w = s_ok(STAFF, "ip.work.get.v1", &gr.base, &ccip__ip__work_reply__descriptor);
    assert_false(w->work->frozen);
    ccip_test_free(w);
    Ccip__Ip__ContractReply *again =
        s_ok(OWNER, owner, "ip.offer.accept.v1", &ar.base, &ccip__ip__contract_reply__descriptor);
    ccip_test_free(again);
    ccip_test_free(lifted);
    ccip_test_free(upheld);
    ccip_test_free(answered);
    ccip_test_free(d);
    ccip_test_free(o);
    ccip_test_free(l);
}

/* Without an answer staff wait for the window; after it, an answer is too
 * late and staff may dismiss. */
static void test_dispute_window(void **state)
{
    (void)state;
    char owner[32], complainant[32], work_id[40];
    s_new_work(work_id, owner);
    s_org(complainant);
    Ccip__Ip__DisputeReply *d = s_file(complainant, work_id);
    ccip_test_sleep_ms(ANSWER_SECONDS * 1000 + 500);
    Ccip__Ip__AnswerDisputeRequest an = CCIP__IP__ANSWER_DISPUTE_REQUEST__INIT;
    an.dispute_id = d->dispute->id;
    an.answer = "too late";
    s_refused(s_send(OWNER, owner, "ip.dispute.answer.v1", &an.base),
              CCIP__STATUS__FAILED_PRECONDITION, "closed at");
    Ccip__Ip__RuleDisputeRequest rr = CCIP__IP__RULE_DISPUTE_REQUEST__INIT;
    rr.dispute_id = d->dispute->id;
    rr.ruling = CCIP__IP__RULING__DISMISS;
    rr.reasons = "the evidence shows no copying";
    Ccip__Ip__DisputeReply *dismissed =
        s_ok(STAFF, "ip.dispute.rule.v1", &rr.base, &ccip__ip__dispute_reply__descriptor);
    assert_string_equal(dismissed->dispute->status, "DISMISSED");
    assert_int_equal(s_events("ip.dispute.dismissed.v1", d->dispute->id), 1);
    /* Dismissed: the work trades on. */
    ccip_test_free(s_list(owner, work_id, CCIP__IP__DEAL_TYPE__TRANSFER, NULL, NULL, NULL, 1));
    ccip_test_free(dismissed);
    ccip_test_free(d);
}

/* ---- providers -------------------------------------------------------------------------- */

static void test_providers_and_requests(void **state)
{
    (void)state;
    char provider[32], client[32];
    s_org(provider);
    s_org(client);
    Ccip__Ip__RegisterProviderRequest pr = CCIP__IP__REGISTER_PROVIDER_REQUEST__INIT;
    Ccip__Ip__ProviderCategory cats[] = {CCIP__IP__PROVIDER_CATEGORY__LEGAL_CONSULTING,
                                         CCIP__IP__PROVIDER_CATEGORY__CERTIFICATION};
    pr.name = "北京知识产权事务所";
    pr.categories = cats;
    pr.n_categories = 2;
    pr.description = "copyright and licensing advice";
    Ccip__Ip__ProviderReply *p = s_ok(OWNER, provider, "ip.provider.register.v1", &pr.base,
                                      &ccip__ip__provider_reply__descriptor);
    assert_false(p->provider->verified);
    s_refused(s_send(OWNER, provider, "ip.provider.register.v1", &pr.base),
              CCIP__STATUS__ALREADY_EXISTS, NULL);
    Ccip__Ip__CreateServiceRequest cr = CCIP__IP__CREATE_SERVICE_REQUEST__INIT;
    cr.provider_id = p->provider->id;
    cr.category = CCIP__IP__PROVIDER_CATEGORY__LEGAL_CONSULTING;
    cr.description = "review our licence contract";
    s_refused(s_send(APPLICANT, client, "ip.request.create.v1", &cr.base),
              CCIP__STATUS__FAILED_PRECONDITION, "not been verified");
    Ccip__Ip__ProviderActionRequest va = CCIP__IP__PROVIDER_ACTION_REQUEST__INIT;
    va.provider_id = p->provider->id;
    s_refused(s_send(OWNER, provider, "ip.provider.verify.v1", &va.base),
              CCIP__STATUS__PERMISSION_DENIED, NULL);
    ccip_test_free(
        s_ok(STAFF, "ip.provider.verify.v1", &va.base, &ccip__ip__provider_reply__descriptor));
    cr.category = CCIP__IP__PROVIDER_CATEGORY__INVESTMENT_CONSULTING;
    s_refused(s_send(APPLICANT, client, "ip.request.create.v1", &cr.base),
              CCIP__STATUS__FAILED_PRECONDITION, "does not offer");
    cr.category = CCIP__IP__PROVIDER_CATEGORY__LEGAL_CONSULTING;
    Ccip__Ip__ServiceRequestReply *r = s_ok(APPLICANT, client, "ip.request.create.v1", &cr.base,
                                            &ccip__ip__service_request_reply__descriptor);
    Ccip__Ip__ServiceRequestAction sa = CCIP__IP__SERVICE_REQUEST_ACTION__INIT;
    sa.request_id = r->request->id;
    s_refused(s_send(OWNER, client, "ip.request.accept.v1", &sa.base),
              CCIP__STATUS__PERMISSION_DENIED, "only the provider");
    ccip_test_free(s_ok(OWNER, provider, "ip.request.accept.v1", &sa.base,
                        &ccip__ip__service_request_reply__descriptor));
    ccip_test_free(s_ok(OWNER, provider, "ip.request.complete.v1", &sa.base,
                        &ccip__ip__service_request_reply__descriptor));
    Ccip__Ip__RateServiceRequest rr = CCIP__IP__RATE_SERVICE_REQUEST__INIT;
    rr.request_id = r->request->id;
    rr.rating = 6;
    s_refused(s_send(APPLICANT, client, "ip.request.rate.v1", &rr.base),
              CCIP__STATUS__INVALID_ARGUMENT, "field `rating`");
    rr.rating = 5;
    rr.note = "clear and quick";
    Ccip__Ip__ServiceRequestReply *rated = s_ok(APPLICANT, client, "ip.request.rate.v1", &rr.base,
                                                &ccip__ip__service_request_reply__descriptor);
    assert_string_equal(rated->request->status, "RATED");
    assert_int_equal(s_events("ip.service.requested.v1", r->request->id), 1);
    assert_int_equal(s_events("ip.service.completed.v1", r->request->id), 1);
    assert_int_equal(s_events("ip.service.rated.v1", r->request->id), 1);
    Ccip__Ip__ListProvidersRequest lp = CCIP__IP__LIST_PROVIDERS_REQUEST__INIT;
    lp.category = CCIP__IP__PROVIDER_CATEGORY__LEGAL_CONSULTING;
    lp.verified_only = 1;
    Ccip__Ip__ListProvidersReply *list = s_ok(NULL, NULL, "ip.provider.list.v1", &lp.base,
                                              &ccip__ip__list_providers_reply__descriptor);
    int found = 0;
    for (size_t i = 0; i < list->n_providers; i++)
        if (strcmp(list->providers[i]->id, p->provider->id) == 0)
            found = list->providers[i]->completed == 1 && list->providers[i]->rating_sum == 5;
    assert_true(found);
    ccip_test_free(list);
    ccip_test_free(rated);
    ccip_test_free(r);
    ccip_test_free(p);
}

/* ---- ccipctl ------------------------------------------------------------------------------ */

/* The walk-through an operator does: register a file, verify its receipt,
 * list it, offer, accept, settle; and keygen never overwrites a key. */
static void test_ccipctl_walkthrough(void **state)
{
    (void)state;
    char seller[32], buyer[32], content[256], args[2048];
    s_org(seller);
    s_org(buyer);
    s_content(content, sizeof content, "cli", "a photograph of the Drum Tower at dawn");
    assert_int_equal(ccip_test_write_file(s_svc.env.dir, "photo.txt", content), 0);
    snprintf(args, sizeof args,
             "--json --role owner --actor %s ip register --kind copyright-fine-art --title "
             "'Drum Tower' --created-on 2026-01-02 --file %s/photo.txt --receipt-out "
             "%s/photo.receipt",
             seller, s_svc.env.dir, s_svc.env.dir);
    s_ctl_expect(args, 0);
    char *id = strstr(s_out, "\"id\":\"");
    assert_non_null(id);
    char work_id[40];
    snprintf(work_id, sizeof work_id, "%.36s", id + 6);
    snprintf(args, sizeof args, "ip verify %s/photo.receipt --key %s --content %s/photo.txt",
             s_svc.env.dir, s_pub, s_svc.env.dir);
    s_ctl_expect(args, 0);
    /* The receipt again, later, by id: the same text. */
    snprintf(args, sizeof args, "--role owner --actor %s ip receipt %s --out %s/again.receipt",
             seller, work_id, s_svc.env.dir);
    s_ctl_expect(args, 0);
    snprintf(args, sizeof args, "cmp %s/photo.receipt %s/again.receipt", s_svc.env.dir,
             s_svc.env.dir);
    assert_int_equal(system(args), 0);

    snprintf(args, sizeof args,
             "--json --role owner --actor %s ip listing create %s --deal transfer --price 800.00",
             seller, work_id);
    s_ctl_expect(args, 0);
    char listing[40], offer[40], contract[40];
    snprintf(listing, sizeof listing, "%.36s", strstr(s_out, "\"id\":\"") + 6);
    snprintf(args, sizeof args, "--json --role applicant --actor %s ip offer make %s --price 750",
             buyer, listing);
    s_ctl_expect(args, 0);
    snprintf(offer, sizeof offer, "%.36s", strstr(s_out, "\"id\":\"") + 6);
    /* the offer is the buyer's and the seller's business: a third
     * organisation reading the listing does not see it */
    char other[32];
    s_org(other);
    const char *readers[] = {seller, buyer, other};
    for (int i = 0; i < 3; i++) {
        snprintf(args, sizeof args, "--json --role applicant --actor %s ip listing get %s",
                 readers[i], listing);
        s_ctl_expect(args, 0);
        if ((strstr(s_out, offer) != NULL) != (i < 2)) {
            fprintf(stderr, "listing get as %s: %s\n", readers[i], s_out);
            fail_msg("the offer is %s to %s", i < 2 ? "hidden" : "shown",
                     i == 0   ? "the seller"
                     : i == 1 ? "its buyer"
                              : "a third organisation");
        }
    }
    snprintf(args, sizeof args, "--json --role owner --actor %s ip offer accept %s", seller, offer);
    s_ctl_expect(args, 0);
    snprintf(contract, sizeof contract, "%.36s", strstr(s_out, "\"id\":\"") + 6);
    snprintf(args, sizeof args,
             "--role owner --actor %s ip contract settle %s --payment-ref BOC-77 --paid 750",
             seller, contract);
    s_ctl_expect(args, 0);
    assert_non_null(strstr(s_out, "status: SETTLED"));
    assert_non_null(strstr(s_out, "750.00 yuan"));
    snprintf(args, sizeof args,
             "--role owner --actor %s ip listing create %s --deal transfer "
             "--price 1",
             seller, work_id);
    s_ctl_expect(args, 1);
    assert_non_null(strstr(s_out, "PERMISSION_DENIED"));
    /* Usage errors exit 2; keygen never overwrites. */
    s_ctl_expect("ip register --kind sculpture", 2);
    s_ctl_expect("ip --help", 0);
    snprintf(args, sizeof args, "ip keygen ip-signing --dir %s", s_svc.env.dir);
    s_ctl_expect(args, 4);
    assert_non_null(strstr(s_out, "never overwritten"));
}

/* A replica without its signing key refuses to start (exit status 1) and
 * says which file and what to do, instead of failing every registration. */
static void test_no_signing_key_no_start(void **state)
{
    (void)state;
    char missing[600], good[600];
    snprintf(good, sizeof good, "%s", getenv("CCIP_IP_SIGNING_KEY_FILE"));
    snprintf(missing, sizeof missing, "%s/no-such.key", s_svc.env.dir);
    setenv("CCIP_IP_SIGNING_KEY_FILE", missing, 1);
    pid_t pid = ccip_test_start_service(&s_svc.env, "services/ip/ip", "ip", "ip-keyless");
    setenv("CCIP_IP_SIGNING_KEY_FILE", good, 1);
    assert_true(pid > 0);
    ccip_test_sleep_ms(3000);
    /* Already gone by itself: the signal finds it exited with status 1. */
    assert_int_equal(ccip_test_stop(&s_svc.env, pid, SIGTERM, 5000), 1);
    char log[700], cmd[800];
    snprintf(log, sizeof log, "%s/ip-keyless.log", s_svc.env.dir);
    snprintf(cmd, sizeof cmd, "grep -q 'no signing key: .*no-such.key.*ccipctl ip keygen' '%s'",
             log);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_signing_key_no_start),
        cmocka_unit_test(test_receipt_verifies_offline),
        cmocka_unit_test(test_duplicate_content),
        cmocka_unit_test(test_duplicate_content_raced),
        cmocka_unit_test(test_near_duplicate_flagged),
        cmocka_unit_test(test_audit_chain_finds_altered_row),
        cmocka_unit_test(test_concurrent_registrations_chain),
        cmocka_unit_test(test_batch_registrations),
        cmocka_unit_test(test_duplicate_content_across_batches),
        cmocka_unit_test(test_bad_input_writes_nothing),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_transfer_moves_ownership),
        cmocka_unit_test(test_no_overlapping_exclusive_licences),
        cmocka_unit_test(test_dispute_freezes_work),
        cmocka_unit_test(test_dispute_window),
        cmocka_unit_test(test_providers_and_requests),
        cmocka_unit_test(test_ccipctl_walkthrough),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
