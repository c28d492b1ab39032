/* ccip_command, the handler API (label unit): every helper that answers the
 * command returns CCIP_REPLIED with the status and a sentence set; a
 * sentence too long for the reply is cut on a character boundary, so it
 * stays valid UTF-8; the request is decoded within the service's size
 * limit, its strings checked once as the handler's request message
 * (ccip_command_check_strings) and never decoded as another; ccip_command_run hands the decoded
 * request to the body and passes its return on. Emitting is covered where events are written, with
 * the batch (test_ccip_service_batch.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ccip/bus.pb-c.h"
#include "ccip_command.h"
#include "ccip_outbox.h"
#include "ccip_validate.h"

#include "ccip_test_service.h"

#define MAX_MESSAGE 1024 /* limits.max_message_bytes of the test service */

typedef struct {
    ccip_service *svc;
    Ccip__Envelope req; /* the command under test */
    uint8_t payload[2 * MAX_MESSAGE];
    ccip_command cmd;
} s_fixture;

static int s_setup(void **state)
{
    s_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->svc = ccip_test_service_new("widget", "widget-1", MAX_MESSAGE);
    assert_non_null(f->svc);
    ccip__envelope__init(&f->req);
    f->req.id = "01936b2e-4c3a-7d21-9f0e-5b8c2a1d4e6f";
    f->req.type = "widget.thing.make.v1";
    f->cmd = (ccip_command){.service = f->svc,
                            .req = &f->req,
                            .actor = {.id = "staff-li", .role = "staff", .peer = "ccipctl"}};
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture *f = *state;
    ccip_command_reset_reply(&f->cmd);
    ccip_test_service_destroy(&f->svc);
    free(f);
    return 0;
}

/* Gives the command a ReplayRequest payload. */
static void s_replay_payload(s_fixture *f, uint64_t from, uint32_t max)
{
    Ccip__ReplayRequest rq = CCIP__REPLAY_REQUEST__INIT;
    rq.from_position = from;
    rq.max_events = max;
    f->req.payload.data = f->payload;
    f->req.payload.len = ccip__replay_request__pack(&rq, f->payload);
}

/* ---- replies -------------------------------------------------------------- */

static void test_fail_sets_the_reply_and_returns_replied(void **state)
{
    s_fixture *f = *state;
    assert_int_equal(ccip_command_fail(&f->cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                       "field `budget_fen` must be positive, got %d", -5),
                     CCIP_REPLIED);
    assert_int_equal(f->cmd.status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_string_equal(f->cmd.error, "field `budget_fen` must be positive, got -5");
    /* reset: OK again, no sentence */
    ccip_command_reset_reply(&f->cmd);
    assert_int_equal(f->cmd.status, CCIP__STATUS__OK);
    assert_string_equal(f->cmd.error, "");
}

/* A sentence longer than the reply holds is cut before the character that
 * does not fit whole, never inside it. */
static void test_fail_cuts_on_a_character_boundary(void **state)
{
    s_fixture *f = *state;
    /* "x" then 3-byte characters: byte CCIP_COMMAND_ERROR_MAX - 1 (the last
     * that fits) falls inside one of them for every offset but one in
     * three; try all three offsets. */
    for (int lead = 0; lead < 3; lead++) {
        char text[3 * CCIP_COMMAND_ERROR_MAX];
        size_t n = 0;
        for (int i = 0; i < lead; i++)
            text[n++] = 'x';
        while (n + 3 < sizeof text) {
            memcpy(text + n, "区", 3);
            n += 3;
        }
        text[n] = '\0';
        assert_int_equal(ccip_command_fail(&f->cmd, CCIP__STATUS__FAILED_PRECONDITION, "%s", text),
                         CCIP_REPLIED);
        size_t len = strlen(f->cmd.error);
        assert_true(len < CCIP_COMMAND_ERROR_MAX);
        assert_true(len > CCIP_COMMAND_ERROR_MAX - 4); /* cut as late as it could */
        assert_true(ccip_utf8_valid(f->cmd.error, len));
        assert_memory_equal(f->cmd.error, text, len); /* a prefix of what was said */
    }
}

static void test_reply_packs_the_payload(void **state)
{
    s_fixture *f = *state;
    Ccip__PingReply r = CCIP__PING_REPLY__INIT;
    r.service = "widget";
    assert_int_equal(ccip_command_reply(&f->cmd, &r.base), 0);
    assert_int_equal(f->cmd.status, CCIP__STATUS__OK);
    Ccip__PingReply *back = ccip__ping_reply__unpack(NULL, f->cmd.payload_len, f->cmd.payload);
    assert_non_null(back);
    assert_string_equal(back->service, "widget");
    ccip__ping_reply__free_unpacked(back, NULL);
    /* A second reply replaces the first (the first is freed: ASan says so). */
    r.service = "gadget";
    assert_int_equal(ccip_command_reply(&f->cmd, &r.base), 0);
    back = ccip__ping_reply__unpack(NULL, f->cmd.payload_len, f->cmd.payload);
    assert_string_equal(back->service, "gadget");
    ccip__ping_reply__free_unpacked(back, NULL);
}

/* ---- decoding ------------------------------------------------------------- */

static void test_unpack_decodes_or_refuses(void **state)
{
    s_fixture *f = *state;
    s_replay_payload(f, 7, 3);
    Ccip__ReplayRequest *rq =
        (Ccip__ReplayRequest *)ccip_command_unpack(&f->cmd, &ccip__replay_request__descriptor);
    assert_non_null(rq);
    assert_int_equal(rq->from_position, 7);
    assert_int_equal(rq->max_events, 3);
    protobuf_c_message_free_unpacked(&rq->base, NULL);
    assert_int_equal(f->cmd.status, CCIP__STATUS__OK);

    /* Not a ReplayRequest: field 1 as a length-delimited string. */
    static const uint8_t garbage[] = {0x0a, 0x05, 'a', 'b'};
    f->req.payload.data = (uint8_t *)garbage;
    f->req.payload.len = sizeof garbage;
    assert_null(ccip_command_unpack(&f->cmd, &ccip__replay_request__descriptor));
    assert_int_equal(f->cmd.status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_non_null(strstr(f->cmd.error, "widget.thing.make.v1"));
    assert_non_null(strstr(f->cmd.error, "ccip.ReplayRequest"));
}

/* What the skeleton does before the handler runs: every string checked as
 * the line's request message, then decoded as that message without a
 * second walk; a handler decoding another message is a programming error,
 * answered INTERNAL rather than reading strings nobody checked. */
static void test_strings_checked_as_the_request(void **state)
{
    s_fixture *f = *state;
    /* PingReply.service (field 1) = "wid\0get", as protobuf-c would cut it: "wid" */
    static const uint8_t nul[] = {0x0a, 0x07, 'w', 'i', 'd', 0x00, 'g', 'e', 't'};
    f->req.payload.data = (uint8_t *)nul;
    f->req.payload.len = sizeof nul;
    assert_int_equal(ccip_command_check_strings(&f->cmd, &ccip__ping_reply__descriptor),
                     CCIP_REPLIED);
    assert_int_equal(f->cmd.status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_string_equal(f->cmd.error, "field `service` contains a NUL byte at byte 4; text must "
                                      "be UTF-8 and may hold no control characters but tab and "
                                      "newline");
    assert_null(f->cmd.checked_as);
    /* Unchecked (a unit test's command): unpack checks it itself. */
    ccip_command_reset_reply(&f->cmd);
    assert_null(ccip_command_unpack(&f->cmd, &ccip__ping_reply__descriptor));
    assert_non_null(strstr(f->cmd.error, "field `service` contains a NUL byte"));
    /* Malformed bytes are said as an undecodable payload. */
    static const uint8_t cut[] = {0x0a, 0x05, 'a', 'b'};
    f->req.payload.data = (uint8_t *)cut;
    f->req.payload.len = sizeof cut;
    ccip_command_reset_reply(&f->cmd);
    assert_int_equal(ccip_command_check_strings(&f->cmd, &ccip__ping_reply__descriptor),
                     CCIP_REPLIED);
    assert_non_null(strstr(f->cmd.error, "could not decode the payload of widget.thing.make.v1 as "
                                         "ccip.PingReply: malformed protobuf"));

    /* A clean payload is marked checked as its message, and decodes. */
    s_replay_payload(f, 7, 3);
    ccip_command_reset_reply(&f->cmd);
    assert_int_equal(ccip_command_check_strings(&f->cmd, &ccip__replay_request__descriptor), 0);
    assert_ptr_equal(f->cmd.checked_as, &ccip__replay_request__descriptor);
    ProtobufCMessage *m = ccip_command_unpack(&f->cmd, &ccip__replay_request__descriptor);
    assert_non_null(m);
    protobuf_c_message_free_unpacked(m, NULL);
    /* Decoding another message than the one checked: INTERNAL. */
    assert_null(ccip_command_unpack(&f->cmd, &ccip__ping_request__descriptor));
    assert_int_equal(f->cmd.status, CCIP__STATUS__INTERNAL);
    assert_string_equal(f->cmd.error,
                        "widget.thing.make.v1 could not run: its handler decodes "
                        "ccip.PingRequest but its definition names ccip.ReplayRequest as its "
                        "request (a programming error in the service)");
}

/* The service's limits.max_message_bytes bounds what is decoded. */
static void test_unpack_refuses_more_than_the_limit(void **state)
{
    s_fixture *f = *state;
    Ccip__PingReply big = CCIP__PING_REPLY__INIT;
    char text[MAX_MESSAGE + 100];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    big.service = text;
    f->req.payload.data = f->payload;
    f->req.payload.len = ccip__ping_reply__pack(&big, f->payload);
    assert_true(f->req.payload.len > MAX_MESSAGE);
    assert_null(ccip_command_unpack(&f->cmd, &ccip__ping_reply__descriptor));
    assert_int_equal(f->cmd.status, CCIP__STATUS__INVALID_ARGUMENT);
}

/* ---- run ------------------------------------------------------------------ */

static int s_body_calls;

/* Answers with the request's from_position as the reply's started_at_us;
 * refuses from_position 0. */
static int s_body(ccip_command *cmd, ccip_arena *a, void *request)
{
    s_body_calls++;
    Ccip__ReplayRequest *rq = request;
    assert_non_null(a);
    assert_non_null(ccip_arena_strdup(a, "the arena is usable"));
    if (rq->from_position == 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `from_position` must be at least 1");
    Ccip__PingReply r = CCIP__PING_REPLY__INIT;
    r.started_at_us = (int64_t)rq->from_position;
    return ccip_command_reply(cmd, &r.base);
}

/* A body that reports a failed statement. */
static int s_failing_body(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)cmd, (void)a, (void)request;
    s_body_calls++;
    return CCIP_DB_RETRYABLE;
}

static const ccip_command_handler S_BODY = {
    "test.body.v1", 0, NULL, s_body, NULL, &ccip__replay_request__descriptor, NULL};
static const ccip_command_handler S_FAILING = {
    "test.failing.v1", 0, NULL, s_failing_body, NULL, &ccip__replay_request__descriptor, NULL};

static void test_run_hands_the_request_to_the_body(void **state)
{
    s_fixture *f = *state;
    s_body_calls = 0;
    s_replay_payload(f, 42, 0);
    assert_int_equal(ccip_command_run(&f->cmd, &S_BODY), 0);
    assert_int_equal(s_body_calls, 1);
    Ccip__PingReply *r = ccip__ping_reply__unpack(NULL, f->cmd.payload_len, f->cmd.payload);
    assert_non_null(r);
    assert_int_equal(r->started_at_us, 42);
    ccip__ping_reply__free_unpacked(r, NULL);

    /* The body's refusal and its failed statement are returned as they are. */
    ccip_command_reset_reply(&f->cmd);
    s_replay_payload(f, 0, 0);
    assert_int_equal(ccip_command_run(&f->cmd, &S_BODY), CCIP_REPLIED);
    assert_int_equal(f->cmd.status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_int_equal(ccip_command_run(&f->cmd, &S_FAILING), CCIP_DB_RETRYABLE);
    assert_int_equal(s_body_calls, 3);
}

static size_t s_batch_n;

static int s_batch(ccip_command *const *cmds, size_t n)
{
    (void)cmds;
    s_batch_n = n;
    return 0;
}

/* A row with only a batch handler runs it alone, with nothing decoded:
 * the batch handler decodes each command itself. */
static void test_run_of_a_batch_only_row(void **state)
{
    s_fixture *f = *state;
    static const ccip_command_handler batch_only = {
        "test.batch.v1", 1, NULL, NULL, s_batch, &ccip__replay_request__descriptor, NULL};
    static const uint8_t garbage[] = {0xff, 0xff, 0xff};
    f->req.payload.data = (uint8_t *)garbage;
    f->req.payload.len = sizeof garbage;
    s_batch_n = 0;
    assert_int_equal(ccip_command_run(&f->cmd, &batch_only), 0);
    assert_int_equal(s_batch_n, 1);
}

static void test_run_refuses_what_does_not_decode(void **state)
{
    s_fixture *f = *state;
    s_body_calls = 0;
    static const uint8_t garbage[] = {0xff, 0xff, 0xff};
    f->req.payload.data = (uint8_t *)garbage;
    f->req.payload.len = sizeof garbage;
    assert_int_equal(ccip_command_run(&f->cmd, &S_BODY), CCIP_REPLIED);
    assert_int_equal(s_body_calls, 0);
    assert_int_equal(f->cmd.status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_non_null(strstr(f->cmd.error, "could not decode"));
}

/* ---- checks --------------------------------------------------------------- */

static void test_check_uuid(void **state)
{
    s_fixture *f = *state;
    assert_int_equal(ccip_command_check_uuid(&f->cmd, "call_id", f->req.id), 0);
    assert_int_equal(f->cmd.status, CCIP__STATUS__OK);
    /* What was given is shown, control characters as '?', so the sentence
     * stays printable and valid UTF-8. */
    assert_int_equal(ccip_command_check_uuid(&f->cmd, "call_id", "42\n\x01"), CCIP_REPLIED);
    assert_int_equal(f->cmd.status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_non_null(strstr(f->cmd.error, "field `call_id` must be an id"));
    assert_non_null(strstr(f->cmd.error, "got \"42??\""));
    assert_int_equal(ccip_command_check_uuid(&f->cmd, "call_id", NULL), CCIP_REPLIED);
}

static void test_check_text_and_code(void **state)
{
    s_fixture *f = *state;
    assert_int_equal(ccip_command_check_text(&f->cmd, "title", "年度项目", 1, 10, 0), 0);
    assert_int_equal(f->cmd.status, CCIP__STATUS__OK);
    assert_int_equal(ccip_command_check_text(&f->cmd, "title", "", 1, 10, 0), CCIP_REPLIED);
    assert_int_equal(f->cmd.status, CCIP__STATUS__INVALID_ARGUMENT);
    assert_non_null(strstr(f->cmd.error, "field `title`"));

    ccip_command_reset_reply(&f->cmd);
    assert_int_equal(ccip_command_check_code(&f->cmd, "code", "CCI-2027", 32), 0);
    assert_int_equal(f->cmd.status, CCIP__STATUS__OK);
    assert_int_equal(ccip_command_check_code(&f->cmd, "code", "a/b", 32), CCIP_REPLIED);
    assert_non_null(strstr(f->cmd.error, "field `code` contains '/'"));

    /* ccip_command_invalid answers only a failed check. */
    ccip_command_reset_reply(&f->cmd);
    assert_int_equal(ccip_command_invalid(&f->cmd, 0, "unused"), 0);
    assert_int_equal(f->cmd.status, CCIP__STATUS__OK);
    assert_int_equal(ccip_command_invalid(&f->cmd, -1, "field `x` is missing"), CCIP_REPLIED);
    assert_string_equal(f->cmd.error, "field `x` is missing");
}

static void test_new_id_and_roles(void **state)
{
    s_fixture *f = *state;
    char a[CCIP_UUID_STRLEN + 1], b[CCIP_UUID_STRLEN + 1];
    assert_int_equal(ccip_command_new_id(&f->cmd, a), 0);
    assert_int_equal(ccip_command_new_id(&f->cmd, b), 0);
    assert_true(ccip_uuid_valid(a));
    assert_string_not_equal(a, b);
    static const char *const staff[] = {"office", "staff", NULL};
    static const char *const office[] = {"office", NULL};
    assert_int_equal(ccip_command_role_in(&f->cmd, staff), 1);
    assert_int_equal(ccip_command_role_in(&f->cmd, office), 0);
    assert_int_equal(ccip_command_role_in(&f->cmd, NULL), 0);
}

/* ---- events that cannot be emitted ---------------------------------------- */

/* Larger than an event may carry: refused with what to do, nothing kept. */
static void test_emit_refuses_an_event_too_large(void **state)
{
    s_fixture *f = *state;
    f->cmd.keep_events = 1; /* as inside a batch */
    char *text = malloc(CCIP_OUTBOX_PAYLOAD_MAX + 1);
    assert_non_null(text);
    memset(text, 'a', CCIP_OUTBOX_PAYLOAD_MAX);
    text[CCIP_OUTBOX_PAYLOAD_MAX] = '\0';
    Ccip__PingReply r = CCIP__PING_REPLY__INIT;
    r.service = text;
    assert_int_equal(ccip_command_emit(&f->cmd, "widget.thing.made.v1", "thing", "t-1", &r.base),
                     CCIP_REPLIED);
    free(text);
    assert_int_equal(f->cmd.status, CCIP__STATUS__FAILED_PRECONDITION);
    assert_non_null(strstr(f->cmd.error, "shorten the texts"));
    assert_null(f->cmd.events);
}

/* A malformed type is the handler's mistake: INTERNAL, nothing kept. */
static void test_emit_refuses_a_malformed_type(void **state)
{
    s_fixture *f = *state;
    f->cmd.keep_events = 1;
    Ccip__PingReply r = CCIP__PING_REPLY__INIT;
    assert_int_equal(ccip_command_emit(&f->cmd, "Widget Made", "thing", "t-1", &r.base),
                     CCIP_REPLIED);
    assert_int_equal(f->cmd.status, CCIP__STATUS__INTERNAL);
    assert_non_null(strstr(f->cmd.error, "could not write event Widget Made"));
    assert_null(f->cmd.events);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fail_sets_the_reply_and_returns_replied, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_fail_cuts_on_a_character_boundary, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_reply_packs_the_payload, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unpack_decodes_or_refuses, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_strings_checked_as_the_request, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unpack_refuses_more_than_the_limit, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_run_hands_the_request_to_the_body, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_run_refuses_what_does_not_decode, s_setup, s_teardown),

        cmocka_unit_test_setup_teardown(test_run_of_a_batch_only_row, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_check_uuid, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_check_text_and_code, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_new_id_and_roles, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_emit_refuses_an_event_too_large, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_emit_refuses_a_malformed_type, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
