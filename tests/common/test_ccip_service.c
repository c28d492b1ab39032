/* ccip_service_def_check (label unit): a definition table whose every line
 * names its type, handler (or, mutating, a batch handler) and request
 * message passes; a line without its
 * request message (so that the skeleton could not check the payload's
 * strings before the handler runs), without a handler, with a batch
 * handler on a reading command, listed twice or named like a built-in is
 * refused with a sentence naming the command and what its line lacks. The
 * rest of the skeleton runs as a process: tests/CMakeLists.txt says where
 * it is tested. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "ccip/envelope.pb-c.h"
#include "ccip_command.h"
#include "ccip_service.h"

static int s_handler(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)cmd;
    (void)a;
    (void)request;
    return 0;
}

static int s_batch(ccip_command *const *cmds, size_t n)
{
    (void)cmds;
    (void)n;
    return 0;
}

/* A definition of one service around the given lines. */
static ccip_service_def s_def(const ccip_command_handler *lines, size_t n)
{
    ccip_service_def def = {.name = "widget", .commands = lines, .ncommands = n};
    return def;
}

/* Checks that def is refused with a sentence holding each of the texts. */
static void s_refused(const ccip_service_def *def, const char *a, const char *b)
{
    char err[512];
    assert_int_equal(ccip_service_def_check(def, err, sizeof err), -1);
    if (!strstr(err, a) || (b && !strstr(err, b)))
        fail_msg("\"%s\" lacks \"%s\" or \"%s\"", err, a, b ? b : "");
    assert_non_null(strstr(err, "fix that line"));
}

static void test_complete_table_passes(void **state)
{
    (void)state;
    const ccip_command_handler lines[] = {
        {"widget.thing.make.v1", 1, NULL, s_handler, s_batch, &ccip__ping_request__descriptor,
         &ccip__ping_reply__descriptor},
        /* A reply message is optional: a command may answer with no payload. */
        {"widget.thing.get.v1", 0, NULL, s_handler, NULL, &ccip__ping_request__descriptor, NULL},
    };
    ccip_service_def def = s_def(lines, 2);
    char err[512] = "";
    assert_int_equal(ccip_service_def_check(&def, err, sizeof err), 0);
    assert_string_equal(err, "");
    /* A batch-only line of a mutating command: its batch handler runs
     * alone (n = 1) when there is no single handler. */
    const ccip_command_handler batch_only[] = {
        {"widget.thing.make.v1", 1, NULL, NULL, s_batch, &ccip__ping_request__descriptor, NULL}};
    def = s_def(batch_only, 1);
    assert_int_equal(ccip_service_def_check(&def, err, sizeof err), 0);
    assert_string_equal(err, "");
    def = s_def(NULL, 0); /* a service with only the built-ins */
    assert_int_equal(ccip_service_def_check(&def, err, sizeof err), 0);
}

/* The rule of issue 23: the skeleton checks every string of a payload as
 * the line's request message before the handler runs, so a line without
 * one stops the service from starting. */
static void test_missing_request_refused(void **state)
{
    (void)state;
    const ccip_command_handler lines[] = {
        {"widget.thing.make.v1", 1, NULL, s_handler, NULL, &ccip__ping_request__descriptor, NULL},
        {"widget.thing.get.v1", 0, NULL, s_handler, NULL, NULL, &ccip__ping_reply__descriptor},
    };
    ccip_service_def def = s_def(lines, 2);
    s_refused(&def, "command widget.thing.get.v1 of service widget names no request message",
              "could not be checked before it runs");
}

static void test_other_faults_refused(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *rq = &ccip__ping_request__descriptor;
    const ccip_command_handler no_fn[] = {{"widget.a.v1", 0, NULL, NULL, NULL, rq, NULL}};
    ccip_service_def def = s_def(no_fn, 1);
    s_refused(&def, "command widget.a.v1 of service widget names no handler", NULL);
    const ccip_command_handler reading_batch_only[] = {
        {"widget.a.v1", 0, NULL, NULL, s_batch, rq, NULL}};
    def = s_def(reading_batch_only, 1);
    s_refused(&def, "command widget.a.v1 of service widget names no handler", NULL);

    const ccip_command_handler no_type[] = {{"", 0, NULL, s_handler, NULL, rq, NULL}};
    def = s_def(no_type, 1);
    s_refused(&def, "command (no type) of service widget names no type", NULL);

    const ccip_command_handler reading_batch[] = {
        {"widget.a.v1", 0, NULL, s_handler, s_batch, rq, NULL}};
    def = s_def(reading_batch, 1);
    s_refused(&def, "widget.a.v1", "has a batch handler but does not mutate");

    const ccip_command_handler twice[] = {{"widget.a.v1", 0, NULL, s_handler, NULL, rq, NULL},
                                          {"widget.b.v1", 0, NULL, s_handler, NULL, rq, NULL},
                                          {"widget.a.v1", 1, NULL, s_handler, NULL, rq, NULL}};
    def = s_def(twice, 3);
    s_refused(&def, "command widget.a.v1 of service widget is listed twice", NULL);

    const ccip_command_handler builtin[] = {{"ccip.ping.v1", 0, NULL, s_handler, NULL, rq, NULL}};
    def = s_def(builtin, 1);
    s_refused(&def, "command ccip.ping.v1", "is a built-in command of every service");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_table_passes),
        cmocka_unit_test(test_missing_request_refused),
        cmocka_unit_test(test_other_faults_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
