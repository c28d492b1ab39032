/* ccip_service_batch, the batcher, against a real PostgreSQL (label
 * integration): commands in hand at once share one transaction and behave
 * exactly as if run one by one. A refusal or a failed statement leaves no
 * trace while the rest commits, a repeated command id gets the stored reply
 * and no second effect (also twice in one batch) and another request under
 * it is refused, both answered before their batch commits, a COMMIT that fails
 * (a deferred constraint) is run again one command at a time so only the
 * guilty one fails, a batch handler gets the batch's commands of its type
 * together, and events are written with the batch, caused by their
 * command. Each test migrates the "ccip" component into a throwaway schema
 * and hands the batcher one connection; commands are sent from threads,
 * as a replica's command slots send them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/bus.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_log.h"
#include "ccip_service_batch.h"

#include "ccip_test_db.h"
#include "ccip_test_proc.h"
#include "ccip_test_service.h"

#define ADD       "widget.item.add.v1"  /* one item a command */
#define ADD_MANY  "widget.item.load.v1" /* the same, with a batch handler */
#define MAX_CALLS 16

typedef struct {
    ccip_test_ccip_schema s; /* throwaway schema; s.db reads what was written */
    ccip_service *svc;       /* the service the commands belong to (ccip_test_service.h) */
    ccip_batcher *batcher;   /* the unit under test */
} s_fixture;

/* ---- handlers ---------------------------------------------------------------- */

/* Items are named by the command's payload (plain text here). A name says
 * what its handler does: "refuse-..." refuses before writing, "late-..."
 * writes and then refuses, "fail-..." sends a statement that fails,
 * "block-..." waits at the gate first, "hold-..." at a second gate, "k-..." also takes its key in a
 * table whose uniqueness is checked at COMMIT. */
static atomic_int s_runs[MAX_CALLS]; /* handler runs per item number ("...-<n>") */
static atomic_int s_most_together;   /* most commands the batch handler got at once */

static pthread_mutex_t s_gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t s_gate_cv = PTHREAD_COND_INITIALIZER;
static int s_gate_open, s_gate_reached;
static int s_hold_open, s_hold_reached; /* the second gate ("hold-...") */

static void s_gate_wait(int *open, int *reached)
{
    pthread_mutex_lock(&s_gate_mu);
    *reached = 1;
    pthread_cond_broadcast(&s_gate_cv);
    while (!*open)
        pthread_cond_wait(&s_gate_cv, &s_gate_mu);
    pthread_mutex_unlock(&s_gate_mu);
}

static void s_name(const ccip_command *cmd, char out[64])
{
    size_t n = cmd->req->payload.len < 63 ? cmd->req->payload.len : 63;
    memcpy(out, cmd->req->payload.data, n);
    out[n] = '\0';
}

static const ccip_db_stmt S_ITEM = {"test_item_add", "INSERT INTO item (name) VALUES ($1)"};
static const ccip_db_stmt S_KEY = {"test_key_add", "INSERT INTO deferred_key (k) VALUES ($1)"};
static const ccip_db_stmt S_BAD = {"test_bad", "SELECT 1 / 0"};

static int s_add(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)a;
    (void)request; /* a row without a request message: the payload is the name */
    char name[64];
    s_name(cmd, name);
    const char *dash = strrchr(name, '-');
    int n = dash ? atoi(dash + 1) : 0;
    if (n >= 0 && n < MAX_CALLS)
        atomic_fetch_add(&s_runs[n], 1);
    if (strncmp(name, "block-", 6) == 0)
        s_gate_wait(&s_gate_open, &s_gate_reached);
    if (strncmp(name, "hold-", 5) == 0)
        s_gate_wait(&s_hold_open, &s_hold_reached);
    if (strncmp(name, "refuse-", 7) == 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "item %s refused", name);
    const char *values[] = {name};
    int rc = ccip_db_exec(cmd->db, &S_ITEM, 1, values, NULL, NULL, NULL);
    if (rc == CCIP_DB_OK && strncmp(name, "k-", 2) == 0)
        rc = ccip_db_exec(cmd->db, &S_KEY, 1, (const char *[]){"the-key"}, NULL, NULL, NULL);
    if (rc == CCIP_DB_OK && strncmp(name, "fail-", 5) == 0)
        rc = ccip_db_exec(cmd->db, &S_BAD, 0, NULL, NULL, NULL, NULL);
    if (rc != CCIP_DB_OK)
        return rc;
    if (strncmp(name, "late-", 5) == 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION, "item %s refused late",
                                 name);
    Ccip__PingReply r = CCIP__PING_REPLY__INIT;
    r.service = name;
    if ((rc = ccip_command_emit(cmd, "widget.item.added.v1", "item", name, &r.base)))
        return rc;
    return ccip_command_reply(cmd, &r.base);
}

/* ADD_MANY's batch handler: checks all, then writes the accepted ones. */
static int s_add_many(ccip_command *const *cmds, size_t n)
{
    if ((int)n > atomic_load(&s_most_together))
        atomic_store(&s_most_together, (int)n);
    for (size_t i = 0; i < n; i++) {
        char name[64];
        s_name(cmds[i], name);
        if (strncmp(name, "refuse-", 7) == 0) {
            ccip_command_fail(cmds[i], CCIP__STATUS__INVALID_ARGUMENT, "item %s refused", name);
            continue;
        }
        const char *values[] = {name};
        int rc = ccip_db_exec(cmds[i]->db, &S_ITEM, 1, values, NULL, NULL, NULL);
        if (rc != CCIP_DB_OK)
            return rc;
        Ccip__PingReply r = CCIP__PING_REPLY__INIT;
        r.service = name;
        if ((rc = ccip_command_reply(cmds[i], &r.base)))
            return rc;
    }
    return 0;
}

static const ccip_command_handler S_ADD_H = {ADD, 1, NULL, s_add, NULL, NULL, NULL};
static const ccip_command_handler S_ADD_MANY_H = {ADD_MANY, 1, NULL, s_add, s_add_many, NULL, NULL};

/* The skeleton's packing of a reply envelope (ccip_service.c does the same). */
static int s_pack(ccip_command *cmd, uint8_t **buf, size_t *len)
{
    Ccip__Envelope reply;
    ccip_envelope_reply_init(&reply, cmd->req, cmd->status,
                             cmd->status == CCIP__STATUS__OK ? NULL : cmd->error);
    if (cmd->status == CCIP__STATUS__OK) {
        reply.payload.data = cmd->payload;
        reply.payload.len = cmd->payload_len;
    }
    return ccip_envelope_pack_buf(&reply, buf, len);
}

/* ---- set-up ------------------------------------------------------------------ */

static void s_command(ccip_db *db, const char *sql)
{
    if (ccip_db_command(db, sql) != CCIP_DB_OK)
        fail_msg("%s: %s", sql, ccip_db_error(db));
}

static int s_setup(void **state)
{
    s_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    *state = f;
    for (int i = 0; i < MAX_CALLS; i++)
        atomic_store(&s_runs[i], 0);
    atomic_store(&s_most_together, 0);
    s_gate_open = s_gate_reached = s_hold_open = s_hold_reached = 0;
    if (ccip_test_ccip_schema_new(&f->s, "t_batch") < 0)
        fail_msg("%s", ccip_test_db_error());
    ccip_db *db = ccip_test_db_connect_in("test", f->s.schema);
    if (!db)
        fail_msg("%s", ccip_test_db_error());
    /* tx: the transaction that wrote the row, so a test can see which
     * commands shared one. */
    s_command(db, "CREATE TABLE item (name text PRIMARY KEY, tx bigint NOT NULL DEFAULT "
                  "txid_current())");
    s_command(db, "CREATE TABLE deferred_key (k text, CONSTRAINT deferred_key_k UNIQUE (k) "
                  "DEFERRABLE INITIALLY DEFERRED)");
    f->svc = ccip_test_service_new("widget", "widget-1", 1 << 20);
    assert_non_null(f->svc);
    f->batcher = ccip_batcher_new(&db, 1, 32, 0, f->s.schema, s_pack);
    assert_non_null(f->batcher);
    assert_null(db); /* the batcher owns it now */
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture *f = *state;
    ccip_batcher_destroy(&f->batcher);
    ccip_batcher_destroy(&f->batcher); /* safe twice */
    ccip_test_service_destroy(&f->svc);
    ccip_test_ccip_schema_drop(&f->s);
    free(f);
    return 0;
}

/* ---- commands sent as command slots send them ------------------------------------ */

typedef struct {
    s_fixture *f;
    const ccip_command_handler *h;
    char id[40];           /* command id */
    char name[64];         /* payload: the item's name */
    Ccip__Envelope req;    /* the command */
    ccip_command cmd;      /* as the slot hands it over */
    int rc;                /* ccip_batcher_run's return */
    Ccip__Envelope *reply; /* the packed reply, decoded */
    atomic_int finished;   /* 1 once s_run has its reply */
    pthread_t thread;
} s_call;

static void *s_run(void *arg)
{
    s_call *c = arg;
    ccip__envelope__init(&c->req);
    c->req.id = c->id;
    c->req.type = (char *)c->h->type;
    c->req.payload.data = (uint8_t *)c->name;
    c->req.payload.len = strlen(c->name);
    c->cmd = (ccip_command){.service = c->f->svc,
                            .req = &c->req,
                            .actor = {.id = "staff-li", .role = "staff", .peer = "ccipctl"}};
    uint8_t *buf = NULL;
    size_t len = 0;
    c->rc = ccip_batcher_run(c->f->batcher, &c->cmd, c->h, &buf, &len);
    char err[256];
    c->reply = buf ? ccip_envelope_unpack(buf, len, 1 << 20, err, sizeof err) : NULL;
    free(buf);
    ccip_command_reset_reply(&c->cmd);
    atomic_store(&c->finished, 1);
    return NULL;
}

static void s_prepare(s_fixture *f, s_call *c, const ccip_command_handler *h, const char *id,
                      const char *name)
{
    memset(c, 0, sizeof *c);
    c->f = f;
    c->h = h;
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->name, sizeof c->name, "%s", name);
}

static void s_done(s_call *c)
{
    ccip_envelope_free(&c->reply);
}

/* Runs calls[1..n) as one batch: calls[0] ("block-...") holds the one
 * connection until the others are queued behind it, then they run together. */
static void s_batch(s_fixture *f, s_call *calls, size_t n)
{
    (void)f;
    assert_int_equal(pthread_create(&calls[0].thread, NULL, s_run, &calls[0]), 0);
    pthread_mutex_lock(&s_gate_mu);
    while (!s_gate_reached)
        pthread_cond_wait(&s_gate_cv, &s_gate_mu);
    pthread_mutex_unlock(&s_gate_mu);
    for (size_t i = 1; i < n; i++)
        assert_int_equal(pthread_create(&calls[i].thread, NULL, s_run, &calls[i]), 0);
    ccip_test_sleep_ms(300); /* all of them queued behind the blocked batch */
    pthread_mutex_lock(&s_gate_mu);
    s_gate_open = 1;
    pthread_cond_broadcast(&s_gate_cv);
    pthread_mutex_unlock(&s_gate_mu);
    for (size_t i = 0; i < n; i++)
        pthread_join(calls[i].thread, NULL);
}

static void s_expect(const s_call *c, Ccip__Status status, const char *error_part)
{
    assert_int_equal(c->rc, 0);
    assert_non_null(c->reply);
    if (c->reply->status != status || (error_part && !strstr(c->reply->error, error_part)))
        fail_msg("%s: status %d \"%s\", expected %d with \"%s\"", c->name, c->reply->status,
                 c->reply->error, status, error_part ? error_part : "");
    assert_string_equal(c->reply->id, c->id);
}

static void s_id(int n, char out[40])
{
    snprintf(out, 40, "0190c6d8-0000-7000-8000-%012d", n);
}

/* ---- tests ----------------------------------------------------------------------- */

/* In one transaction, as if one by one: refusals (before or after writing)
 * and a failed statement leave nothing, the others commit with their
 * events and stored replies. */
static void test_a_batch_behaves_like_one_by_one(void **state)
{
    s_fixture *f = *state;
    static const char *names[] = {"block-0",  "ok-1",   "late-2", "ok-3",
                                  "refuse-4", "fail-5", "ok-6"};
    enum { N = sizeof names / sizeof names[0] };
    s_call calls[N];
    for (int i = 0; i < N; i++) {
        char id[40];
        s_id(i + 1, id);
        s_prepare(f, &calls[i], &S_ADD_H, id, names[i]);
    }
    s_batch(f, calls, N);
    s_expect(&calls[0], CCIP__STATUS__OK, NULL);
    s_expect(&calls[1], CCIP__STATUS__OK, NULL);
    s_expect(&calls[2], CCIP__STATUS__FAILED_PRECONDITION, "item late-2 refused late");
    s_expect(&calls[3], CCIP__STATUS__OK, NULL);
    s_expect(&calls[4], CCIP__STATUS__INVALID_ARGUMENT, "item refuse-4 refused");
    s_expect(&calls[5], CCIP__STATUS__INTERNAL, "could not run " ADD);
    s_expect(&calls[6], CCIP__STATUS__OK, NULL);
    uint64_t commands, batches;
    ccip_batcher_counts(f->batcher, &commands, &batches);
    assert_int_equal(commands, N);
    assert_int_equal(batches, 2); /* the blocker's, then all the others' */

    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(*) FROM item"), 4);
    /* One transaction for the batch, not one per command. */
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(DISTINCT tx) FROM item WHERE name "
                                                  "<> 'block-0'"),
                     1);
    assert_int_equal(ccip_test_db_number(
                         f->s.db, "SELECT count(*) FROM item WHERE name IN ('late-2', 'fail-5')"),
                     0);
    /* Events: one per success, caused by its command, as its actor. */
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(*) FROM outbox"), 4);
    for (int i = 0; i < N; i++) {
        int ok = calls[i].reply->status == CCIP__STATUS__OK;
        assert_int_equal(
            ccip_test_db_number(f->s.db,
                                "SELECT count(*) FROM outbox WHERE aggregate_id = '%s' AND "
                                "type = 'widget.item.added.v1' AND causation_id = '%s' AND "
                                "correlation_id = '%s' AND actor_id = 'staff-li' AND "
                                "actor_role = 'staff' AND source_instance = 'widget-1'",
                                calls[i].name, calls[i].id, calls[i].id),
            ok);
        /* Only successes are stored to answer a retry. */
        assert_int_equal(
            ccip_test_db_number(f->s.db, "SELECT count(*) FROM command_log WHERE command_id = '%s'",
                                calls[i].id),
            ok);
        s_done(&calls[i]);
    }
}

/* A command id seen before: the very same request again gets its stored
 * reply and no second effect; the id with another payload is refused
 * (ALREADY_EXISTS), never answered with the first request's reply. */
static void test_a_repeated_command_gets_its_stored_reply(void **state)
{
    s_fixture *f = *state;
    s_call a, b, c;
    s_prepare(f, &a, &S_ADD_H, "0190c6d8-0000-7000-8000-000000000101", "ok-1");
    s_run(&a);
    s_expect(&a, CCIP__STATUS__OK, NULL);
    s_prepare(f, &b, &S_ADD_H, "0190c6d8-0000-7000-8000-000000000101", "ok-1");
    s_run(&b);
    s_expect(&b, CCIP__STATUS__OK, NULL);
    assert_int_equal(a.reply->payload.len, b.reply->payload.len);
    assert_memory_equal(a.reply->payload.data, b.reply->payload.data, a.reply->payload.len);
    s_prepare(f, &c, &S_ADD_H, "0190c6d8-0000-7000-8000-000000000101", "ok-2");
    s_run(&c);
    s_expect(&c, CCIP__STATUS__ALREADY_EXISTS, "was already used with another payload");
    assert_int_equal(atomic_load(&s_runs[1]), 1);
    assert_int_equal(atomic_load(&s_runs[2]), 0);
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(*) FROM item"), 1);
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(*) FROM outbox"), 1);
    s_done(&a);
    s_done(&b);
    s_done(&c);
}

/* What the command log answers (a retry of a stored command, its id reused
 * by another request) is answered as soon as the batch has read the log,
 * not when the batch commits: such commands do not hold their slots while
 * the batch's other commands run. Here the batch's first command waits at
 * a second gate until both are answered. */
static void test_the_log_answers_before_the_batch_commits(void **state)
{
    s_fixture *f = *state;
    s_call stored, calls[4];
    s_prepare(f, &stored, &S_ADD_H, "0190c6d8-0000-7000-8000-000000000111", "ok-1");
    s_run(&stored);
    s_expect(&stored, CCIP__STATUS__OK, NULL);
    s_prepare(f, &calls[0], &S_ADD_H, "0190c6d8-0000-7000-8000-000000000112", "block-0");
    s_prepare(f, &calls[1], &S_ADD_H, "0190c6d8-0000-7000-8000-000000000113", "hold-2");
    s_prepare(f, &calls[2], &S_ADD_H, stored.id, "ok-1");    /* a retry */
    s_prepare(f, &calls[3], &S_ADD_H, stored.id, "other-3"); /* the id reused */
    /* calls[0] holds the connection; the others queue behind it in order,
     * so that hold-2 leads the next batch (a leader's own command is always
     * answered with its batch). */
    assert_int_equal(pthread_create(&calls[0].thread, NULL, s_run, &calls[0]), 0);
    pthread_mutex_lock(&s_gate_mu);
    while (!s_gate_reached)
        pthread_cond_wait(&s_gate_cv, &s_gate_mu);
    pthread_mutex_unlock(&s_gate_mu);
    for (int i = 1; i < 4; i++) {
        assert_int_equal(pthread_create(&calls[i].thread, NULL, s_run, &calls[i]), 0);
        ccip_test_sleep_ms(100);
    }
    pthread_mutex_lock(&s_gate_mu);
    s_gate_open = 1;
    pthread_cond_broadcast(&s_gate_cv);
    while (!s_hold_reached)
        pthread_cond_wait(&s_gate_cv, &s_gate_mu);
    pthread_mutex_unlock(&s_gate_mu);
    /* hold-2's batch is open, waiting at the second gate: the two answered
     * by the log are done (within 5 s; else the gate opens and it fails). */
    int answered = 0;
    for (int waited = 0; waited < 5000 && !answered; waited += 10) {
        answered = atomic_load(&calls[2].finished) && atomic_load(&calls[3].finished);
        if (!answered)
            ccip_test_sleep_ms(10);
    }
    if (!answered) {
        pthread_mutex_lock(&s_gate_mu);
        s_hold_open = 1;
        pthread_cond_broadcast(&s_gate_cv);
        pthread_mutex_unlock(&s_gate_mu);
        for (int i = 0; i < 4; i++)
            pthread_join(calls[i].thread, NULL);
        fail_msg("the retry and the reused id were answered only when their batch committed");
    }
    for (int i = 2; i < 4; i++)
        pthread_join(calls[i].thread, NULL);
    s_expect(&calls[2], CCIP__STATUS__OK, NULL);
    assert_int_equal(calls[2].reply->payload.len, stored.reply->payload.len);
    assert_memory_equal(calls[2].reply->payload.data, stored.reply->payload.data,
                        stored.reply->payload.len);
    s_expect(&calls[3], CCIP__STATUS__ALREADY_EXISTS, "was already used with another payload");
    pthread_mutex_lock(&s_gate_mu);
    s_hold_open = 1;
    pthread_cond_broadcast(&s_gate_cv);
    pthread_mutex_unlock(&s_gate_mu);
    pthread_join(calls[0].thread, NULL);
    pthread_join(calls[1].thread, NULL);
    s_expect(&calls[0], CCIP__STATUS__OK, NULL);
    s_expect(&calls[1], CCIP__STATUS__OK, NULL);
    assert_int_equal(atomic_load(&s_runs[1]), 1); /* ok-1 ran once */
    assert_int_equal(atomic_load(&s_runs[3]), 0);
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(*) FROM item"), 3);
    s_done(&stored);
    for (int i = 0; i < 4; i++)
        s_done(&calls[i]);
}

/* The same command id twice in one batch: run once, both answered alike. */
static void test_the_same_command_twice_in_a_batch(void **state)
{
    s_fixture *f = *state;
    s_call calls[3];
    s_prepare(f, &calls[0], &S_ADD_H, "0190c6d8-0000-7000-8000-000000000201", "block-0");
    s_prepare(f, &calls[1], &S_ADD_H, "0190c6d8-0000-7000-8000-000000000202", "ok-1");
    s_prepare(f, &calls[2], &S_ADD_H, "0190c6d8-0000-7000-8000-000000000202", "ok-1");
    s_batch(f, calls, 3);
    s_expect(&calls[1], CCIP__STATUS__OK, NULL);
    s_expect(&calls[2], CCIP__STATUS__OK, NULL);
    assert_int_equal(atomic_load(&s_runs[1]), 1);
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(*) FROM item WHERE name = 'ok-1'"),
                     1);
    assert_int_equal(
        ccip_test_db_number(f->s.db, "SELECT count(*) FROM outbox WHERE aggregate_id = 'ok-1'"), 1);
    for (int i = 0; i < 3; i++)
        s_done(&calls[i]);
}

/* Two commands that each take the same key of a deferred unique
 * constraint: their batch cannot commit, so the batcher runs its commands
 * one per transaction and only the second, the guilty one, fails. */
static void test_a_failed_commit_is_run_again_one_by_one(void **state)
{
    s_fixture *f = *state;
    s_call calls[4];
    s_prepare(f, &calls[0], &S_ADD_H, "0190c6d8-0000-7000-8000-000000000301", "block-0");
    s_prepare(f, &calls[1], &S_ADD_H, "0190c6d8-0000-7000-8000-000000000302", "k-1");
    s_prepare(f, &calls[2], &S_ADD_H, "0190c6d8-0000-7000-8000-000000000303", "k-2");
    s_prepare(f, &calls[3], &S_ADD_H, "0190c6d8-0000-7000-8000-000000000304", "ok-3");
    s_batch(f, calls, 4);
    /* Which of the two is guilty depends on the order in which their slots
     * queued: the one run second. */
    s_call *first = &calls[1], *second = &calls[2];
    if (calls[1].reply && calls[1].reply->status != CCIP__STATUS__OK) {
        first = &calls[2];
        second = &calls[1];
    }
    s_expect(first, CCIP__STATUS__OK, NULL);
    s_expect(second, CCIP__STATUS__INTERNAL, "could not run " ADD);
    s_expect(&calls[3], CCIP__STATUS__OK, NULL);
    assert_int_equal(ccip_test_db_number(f->s.db, "SELECT count(*) FROM deferred_key"), 1);
    assert_int_equal(ccip_test_db_number(f->s.db,
                                         "SELECT count(*) FROM item WHERE name IN ('%s', 'ok-3')",
                                         first->name),
                     2);
    assert_int_equal(
        ccip_test_db_number(f->s.db, "SELECT count(*) FROM item WHERE name = '%s'", second->name),
        0);
    assert_int_equal(ccip_test_db_number(f->s.db,
                                         "SELECT count(*) FROM outbox WHERE aggregate_id = '%s'",
                                         second->name),
                     0);
    for (int i = 0; i < 4; i++)
        s_done(&calls[i]);
}

/* A batch handler gets the batch's commands of its type together; what it
 * refuses leaves nothing. */
static void test_a_batch_handler_gets_its_commands_together(void **state)
{
    s_fixture *f = *state;
    static const char *names[] = {"block-0", "ok-1", "refuse-2", "ok-3"};
    s_call calls[4];
    for (int i = 0; i < 4; i++) {
        char id[40];
        s_id(400 + i, id);
        s_prepare(f, &calls[i], i == 0 ? &S_ADD_H : &S_ADD_MANY_H, id, names[i]);
    }
    s_batch(f, calls, 4);
    assert_int_equal(atomic_load(&s_most_together), 3);
    s_expect(&calls[1], CCIP__STATUS__OK, NULL);
    s_expect(&calls[2], CCIP__STATUS__INVALID_ARGUMENT, "item refuse-2 refused");
    s_expect(&calls[3], CCIP__STATUS__OK, NULL);
    assert_int_equal(
        ccip_test_db_number(f->s.db, "SELECT count(*) FROM item WHERE name <> 'block-0'"), 2);
    for (int i = 0; i < 4; i++)
        s_done(&calls[i]);
}

int main(void)
{
    ccip_log_init("test", "test_ccip_service_batch", CCIP_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_batch_behaves_like_one_by_one, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_repeated_command_gets_its_stored_reply, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_the_log_answers_before_the_batch_commits, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_the_same_command_twice_in_a_batch, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_failed_commit_is_run_again_one_by_one, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_batch_handler_gets_its_commands_together, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
