/* ccip_relay against a real PostgreSQL, publishing to a SUB socket of the
 * test over inproc (label integration): committed events are published in
 * position order as [type][envelope], rolled-back ones never; heartbeats
 * carry the head; of two relays on one schema one leads, and when it stops
 * the other takes over and goes on where it left off, gap-free; a
 * connection in another schema is refused at start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_log.h"
#include "ccip_outbox.h"
#include "ccip_relay.h"
#include "ccip_sock.h"

#include "ccip_test_db.h"
#include "ccip_test_proc.h"
#include "ccip_test_zmq.h"

#define SUB_ENDPOINT "inproc://test-relay-bus"
#define HEARTBEAT    "widget.stream.heartbeat.v1"
#define WAIT_MS      10000

typedef struct {
    ccip_test_ccip_schema s; /* throwaway schema with the outbox; s.db appends events */
    void *ctx;
    void *sub; /* the bus's XSUB as the relay sees it */
} s_fixture;

static int s_setup(void **state)
{
    s_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    *state = f;
    if (ccip_test_ccip_schema_new(&f->s, "t_relay") < 0)
        fail_msg("%s", ccip_test_db_error());
    char err[512];
    f->ctx = zmq_ctx_new();
    ccip_sock_opts none = {0};
    f->sub = ccip_sock_bind(f->ctx, ZMQ_SUB, SUB_ENDPOINT, &none, err, sizeof err);
    if (!f->sub)
        fail_msg("%s", err);
    assert_int_equal(zmq_setsockopt(f->sub, ZMQ_SUBSCRIBE, "", 0), 0);
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture *f = *state;
    ccip_sock_close(&f->sub);
    zmq_ctx_term(f->ctx);
    ccip_test_ccip_schema_drop(&f->s);
    free(f);
    return 0;
}

static ccip_relay *s_start(s_fixture *f, const char *instance)
{
    ccip_sock_opts none = {0};
    ccip_relay_config cfg = {.zmq_ctx = f->ctx,
                             .conninfo = f->s.conninfo,
                             .service = "widget",
                             .schema = f->s.schema,
                             .instance = instance,
                             .publish_endpoint = SUB_ENDPOINT,
                             .sock_opts = &none,
                             .heartbeat_ms = 200};
    char err[512];
    ccip_relay *r = ccip_relay_start(&cfg, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    return r;
}

/* Appends events first..first+n-1 (aggregate "<i>") in one transaction,
 * committed or rolled back. */
typedef struct {
    const char *schema;
    int first, n, commit;
} s_append_arg;

static int s_append_tx(ccip_db *db, void *arg)
{
    s_append_arg *a = arg;
    char err[256];
    for (int i = a->first; i < a->first + a->n; i++) {
        char agg[16];
        snprintf(agg, sizeof agg, "%d", i);
        ccip_outbox_event ev = {.type = "widget.thing.made.v1",
                                .aggregate_type = "thing",
                                .aggregate_id = agg,
                                .payload = agg,
                                .payload_len = strlen(agg)};
        int rc = ccip_outbox_append(db, a->schema, &ev, err, sizeof err);
        if (rc != CCIP_OUTBOX_OK)
            return rc;
    }
    return a->commit ? 0 : -1;
}

static void s_append(s_fixture *f, int first, int n, int commit)
{
    s_append_arg a = {f->s.schema, first, n, commit};
    int rc = ccip_db_tx(f->s.db, CCIP_DB_READ_COMMITTED, 3, s_append_tx, &a);
    assert_int_equal(rc, commit ? 0 : -1);
}

/* Receives published messages until an event (not a heartbeat) arrives;
 * returns it decoded (free with ccip_envelope_free), counting the
 * heartbeats seen and keeping the last head they named. */
static Ccip__Envelope *s_next_event(s_fixture *f, int *heartbeats, uint64_t *head)
{
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        ccip_test_msg m;
        if (ccip_test_msg_recv(f->sub, 100, &m) < 0)
            continue;
        assert_int_equal(m.count, 2);
        char err[256];
        Ccip__Envelope *e = ccip_envelope_unpack(m.data[1], m.len[1], 1 << 20, err, sizeof err);
        assert_non_null(e);
        assert_memory_equal(m.data[0], e->type, m.len[0]); /* the topic is the type */
        ccip_test_msg_free(&m);
        if (strcmp(e->type, HEARTBEAT) != 0)
            return e;
        if (heartbeats)
            (*heartbeats)++;
        if (head)
            *head = e->position;
        ccip_envelope_free(&e);
    }
    fail_msg("no event published within %d ms", WAIT_MS);
    return NULL;
}

/* The next n events are positions from..from+n-1, aggregates in order. */
static void s_expect_events(s_fixture *f, uint64_t from, int n, int first_aggregate)
{
    for (int i = 0; i < n; i++) {
        Ccip__Envelope *e = s_next_event(f, NULL, NULL);
        char agg[16];
        snprintf(agg, sizeof agg, "%d", first_aggregate + i);
        assert_int_equal(e->position, from + (uint64_t)i);
        assert_string_equal(e->aggregate_id, agg);
        assert_string_equal(e->source_service, "widget");
        ccip_envelope_free(&e);
    }
}

/* Waits for the relay's first heartbeat: it leads and knows its head, and
 * its PUB reaches the test's SUB, so what is appended next is published
 * (a fixed sleep was not enough on a loaded machine: the first events were
 * appended before the relay had read where to start). */
static void s_wait_heartbeat(s_fixture *f)
{
    for (int waited = 0; waited < WAIT_MS; waited += 100) {
        ccip_test_msg m;
        if (ccip_test_msg_recv(f->sub, 100, &m) < 0)
            continue;
        int beat = m.count == 2 && m.len[0] == strlen(HEARTBEAT) &&
                   memcmp(m.data[0], HEARTBEAT, m.len[0]) == 0;
        ccip_test_msg_free(&m);
        if (beat)
            return;
    }
    fail_msg("no heartbeat from the relay within %d ms", WAIT_MS);
}

/* ---- tests -------------------------------------------------------------------- */

static void test_publishes_committed_events_in_order(void **state)
{
    s_fixture *f = *state;
    ccip_relay *r = s_start(f, "widget-1");
    s_wait_heartbeat(f);
    s_append(f, 1, 3, 1);
    s_append(f, 100, 2, 0); /* rolled back: never published */
    s_append(f, 4, 2, 1);
    s_expect_events(f, 1, 5, 1);
    /* Heartbeats go on, naming the head. */
    int heartbeats = 0;
    uint64_t head = 0;
    for (int waited = 0; waited < WAIT_MS && !(heartbeats >= 2 && head == 5); waited += 100) {
        ccip_test_msg m;
        if (ccip_test_msg_recv(f->sub, 100, &m) < 0)
            continue;
        char err[256];
        Ccip__Envelope *e = ccip_envelope_unpack(m.data[1], m.len[1], 1 << 20, err, sizeof err);
        assert_non_null(e);
        assert_string_equal(e->type, HEARTBEAT); /* nothing else: no event 100 */
        assert_string_equal(e->source_instance, "widget-1");
        heartbeats++;
        head = e->position;
        ccip_envelope_free(&e);
        ccip_test_msg_free(&m);
    }
    assert_true(heartbeats >= 2);
    assert_int_equal(head, 5);
    ccip_relay_stats st;
    ccip_relay_stats_get(r, &st);
    assert_int_equal(st.leader, 1);
    assert_int_equal(st.published, 5);
    assert_int_equal(st.head, 5);
    assert_true(st.heartbeats >= 2);
    ccip_relay_stop(&r);
    assert_null(r);
    ccip_relay_stop(&r); /* safe twice */
}

/* One of two relays leads; when it stops the other takes over and goes on
 * from the head, so the stream stays gap-free. */
static void test_another_relay_takes_over(void **state)
{
    s_fixture *f = *state;
    ccip_relay *a = s_start(f, "widget-1");
    ccip_relay_stats sa, sb;
    for (int waited = 0; waited < WAIT_MS; waited += 50) {
        ccip_relay_stats_get(a, &sa);
        if (sa.leader)
            break;
        ccip_test_sleep_ms(50);
    }
    assert_int_equal(sa.leader, 1);
    ccip_relay *b = s_start(f, "widget-2");
    ccip_test_sleep_ms(300);
    s_append(f, 1, 2, 1);
    s_expect_events(f, 1, 2, 1);
    ccip_relay_stats_get(b, &sb);
    assert_int_equal(sb.leader, 0);
    assert_int_equal(sb.published, 0);

    ccip_relay_stop(&a); /* its session ends: the lock is free */
    s_append(f, 3, 2, 1);
    s_expect_events(f, 3, 2, 3);
    ccip_relay_stats_get(b, &sb);
    assert_int_equal(sb.leader, 1);
    assert_int_equal(sb.leadership_won, 1);
    assert_int_equal(sb.published, 2);
    ccip_relay_stop(&b);
}

/* A connection whose search_path is not the schema is refused at start,
 * and nothing is left running. */
static void test_refuses_a_connection_in_another_schema(void **state)
{
    s_fixture *f = *state;
    char ci[1024], err[512];
    assert_int_equal(ccip_test_conninfo("test", ci, sizeof ci), 0);
    ccip_sock_opts none = {0};
    ccip_relay_config cfg = {.zmq_ctx = f->ctx,
                             .conninfo = ci,
                             .service = "widget",
                             .schema = f->s.schema,
                             .publish_endpoint = SUB_ENDPOINT,
                             .sock_opts = &none};
    assert_null(ccip_relay_start(&cfg, err, sizeof err));
    assert_non_null(strstr(err, f->s.schema));
    cfg.conninfo = f->s.conninfo;
    cfg.service = NULL;
    assert_null(ccip_relay_start(&cfg, err, sizeof err));
    assert_true(err[0] != '\0');
}

int main(void)
{
    ccip_log_init("test", "test_ccip_relay", CCIP_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_publishes_committed_events_in_order, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_another_relay_takes_over, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refuses_a_connection_in_another_schema, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
