/* ccip_envelope: what a hostile or broken peer sends is refused with a
 * sentence, before and while decoding; good envelopes round-trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"

static void test_round_trip(void **state)
{
    (void)state;
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = "0190c6d8-0000-7000-8000-000000000001";
    env.type = "intake.call.open.v1";
    env.position = 42;
    env.actor_role = "staff";
    uint8_t payload[] = {1, 2, 3};
    env.payload.data = payload;
    env.payload.len = sizeof payload;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(ccip_envelope_pack_buf(&env, &buf, &len), 0);
    char err[256];
    Ccip__Envelope *back = ccip_envelope_unpack(buf, len, 1024, err, sizeof err);
    assert_non_null(back);
    assert_string_equal(back->type, "intake.call.open.v1");
    assert_int_equal(back->position, 42);
    assert_string_equal(back->actor_role, "staff");
    assert_memory_equal(back->payload.data, payload, sizeof payload);
    ccip_envelope_free(&back);
    assert_null(back);
    ccip_envelope_free(&back); /* twice is fine */
    free(buf);
}

static void test_oversized_refused_before_decoding(void **state)
{
    (void)state;
    uint8_t big[2048] = {0};
    char err[256];
    assert_null(ccip_envelope_unpack(big, sizeof big, 1024, err, sizeof err));
    assert_non_null(strstr(err, "2048 bytes exceeds the limit of 1024 bytes"));
}

static void test_garbage_refused(void **state)
{
    (void)state;
    /* A field header that announces a 2 GB string. */
    uint8_t junk[] = {0x12, 0xff, 0xff, 0xff, 0xff, 0x07, 'a'};
    char err[256];
    assert_null(ccip_envelope_unpack(junk, sizeof junk, 1024, err, sizeof err));
    assert_non_null(strstr(err, "malformed protobuf"));
}

static void test_missing_or_bad_type_refused(void **state)
{
    (void)state;
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = "x";
    uint8_t *buf = NULL;
    size_t len = 0;
    char err[256];
    assert_int_equal(ccip_envelope_pack_buf(&env, &buf, &len), 0);
    assert_null(ccip_envelope_unpack(buf, len, 1024, err, sizeof err));
    assert_non_null(strstr(err, "type is empty"));
    free(buf);

    env.type = "Intake.Call.Open";
    assert_int_equal(ccip_envelope_pack_buf(&env, &buf, &len), 0);
    assert_null(ccip_envelope_unpack(buf, len, 1024, err, sizeof err));
    assert_non_null(strstr(err, "<service>.<name>.v<N>"));
    free(buf);
}

static void test_type_names(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(ccip_type_check("intake.application.accepted.v1", err, sizeof err), 0);
    assert_int_equal(ccip_type_check("ccip.ping.v12", err, sizeof err), 0);
    assert_int_equal(ccip_type_check("intake.v1", err, sizeof err), -1);
    assert_int_equal(ccip_type_check("intake..open.v1", err, sizeof err), -1);
    assert_int_equal(ccip_type_check("intake.open.v", err, sizeof err), -1);
    assert_int_equal(ccip_type_check("intake.open.v1.", err, sizeof err), -1);
    assert_int_equal(ccip_type_check("intake.op en.v1", err, sizeof err), -1);
    char longname[200];
    memset(longname, 'a', sizeof longname);
    memcpy(longname + sizeof longname - 5, ".v1", 4);
    longname[1] = '.';
    assert_int_equal(ccip_type_check(longname, err, sizeof err), -1);
    assert_non_null(strstr(err, "at most 128"));
}

static void test_reply_keeps_id_and_correlation(void **state)
{
    (void)state;
    Ccip__Envelope req = CCIP__ENVELOPE__INIT;
    req.id = "cmd-1";
    req.type = "funding.award.confirm.v1";
    Ccip__Envelope reply;
    ccip_envelope_reply_init(&reply, &req, CCIP__STATUS__FAILED_PRECONDITION, "budget exhausted");
    assert_string_equal(reply.id, "cmd-1");
    assert_string_equal(reply.correlation_id, "cmd-1");
    assert_string_equal(reply.causation_id, "cmd-1");
    assert_int_equal(reply.status, CCIP__STATUS__FAILED_PRECONDITION);
    assert_string_equal(ccip_status_name(reply.status), "FAILED_PRECONDITION");
    assert_string_equal(ccip_status_name((Ccip__Status)99), "UNKNOWN");
}

/* Enum values are stored by name: a name and its value map both ways;
 * what is not in the enum is NULL one way and 0 (unspecified) the other. */
static void test_enum_names_and_values(void **state)
{
    (void)state;
    const ProtobufCEnumDescriptor *d = &ccip__status__descriptor;
    assert_string_equal(ccip_enum_name(d, CCIP__STATUS__INVALID_ARGUMENT), "INVALID_ARGUMENT");
    assert_string_equal(ccip_enum_name(d, CCIP__STATUS__OK), "OK");
    assert_null(ccip_enum_name(d, 999));
    assert_null(ccip_enum_name(d, -1));
    assert_int_equal(ccip_enum_value(d, "FAILED_PRECONDITION"), CCIP__STATUS__FAILED_PRECONDITION);
    assert_int_equal(ccip_enum_value(d, "failed_precondition"), 0); /* names are exact */
    assert_int_equal(ccip_enum_value(d, "NONSENSE"), 0);
    assert_int_equal(ccip_enum_value(d, NULL), 0);
    for (unsigned i = 0; i < d->n_values; i++)
        assert_int_equal(ccip_enum_value(d, ccip_enum_name(d, d->values[i].value)),
                         d->values[i].value);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_oversized_refused_before_decoding),
        cmocka_unit_test(test_garbage_refused),
        cmocka_unit_test(test_missing_or_bad_type_refused),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_reply_keeps_id_and_correlation),
        cmocka_unit_test(test_enum_names_and_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
