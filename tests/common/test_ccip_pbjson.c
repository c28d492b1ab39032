/* ccip_pbjson: ccip's messages to JSON and back in protobuf's canonical
 * proto3 mapping, the parser's refusals word for word (each names the
 * field by its path), and the JSON Schema of a message. Runs under ASan, so
 * every refusal is also checked to leave nothing allocated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/bus.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip_pbjson.h"
#include "ccip_proto_registry.h"
#include "fuzz_sample.h"

/* ---- a message the protos do not have: one that contains itself (for the
 * depth limit) and the field kinds no ccip message uses yet (float,
 * double, sint32, sint64, fixed64, proto3 optional), with a hand-written
 * descriptor as protoc-c would generate it for:
 *
 *   package test;
 *   message Node {
 *     Node child = 1; float f = 2; double d = 3; sint32 s32 = 4;
 *     sint64 s64 = 5; fixed64 fx = 6; optional int32 opt = 7;
 *     repeated string names = 8;
 *   }
 */
typedef struct s_node {
    ProtobufCMessage base;
    struct s_node *child;
    float f;
    double d;
    int32_t s32;
    int64_t s64;
    uint64_t fx;
    protobuf_c_boolean has_opt;
    int32_t opt;
    size_t n_names;
    char **names;
} s_node;

static const ProtobufCMessageDescriptor s_node_descriptor;

static const ProtobufCFieldDescriptor s_node_fields[] = {
    {"child", 1, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_MESSAGE, 0, offsetof(s_node, child),
     &s_node_descriptor, NULL, 0, 0, NULL, NULL},
    {"f", 2, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_FLOAT, 0, offsetof(s_node, f), NULL, NULL, 0, 0,
     NULL, NULL},
    {"d", 3, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_DOUBLE, 0, offsetof(s_node, d), NULL, NULL, 0,
     0, NULL, NULL},
    {"s32", 4, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_SINT32, 0, offsetof(s_node, s32), NULL, NULL,
     0, 0, NULL, NULL},
    {"s64", 5, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_SINT64, 0, offsetof(s_node, s64), NULL, NULL,
     0, 0, NULL, NULL},
    {"fx", 6, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_FIXED64, 0, offsetof(s_node, fx), NULL, NULL,
     0, 0, NULL, NULL},
    {"opt", 7, PROTOBUF_C_LABEL_OPTIONAL, PROTOBUF_C_TYPE_INT32, offsetof(s_node, has_opt),
     offsetof(s_node, opt), NULL, NULL, 0, 0, NULL, NULL},
    {"names", 8, PROTOBUF_C_LABEL_REPEATED, PROTOBUF_C_TYPE_STRING, offsetof(s_node, n_names),
     offsetof(s_node, names), NULL, &protobuf_c_empty_string, 0, 0, NULL, NULL},
};
/* child d f fx names opt s32 s64 */
static const unsigned s_node_by_name[] = {0, 2, 1, 5, 7, 6, 3, 4};
static const ProtobufCIntRange s_node_ranges[] = {{1, 0}, {0, 8}};

static void s_node_init(ProtobufCMessage *m)
{
    static const s_node init = {
        PROTOBUF_C_MESSAGE_INIT(&s_node_descriptor), NULL, 0, 0, 0, 0, 0, 0, 0, 0, NULL};
    *(s_node *)m = init;
}

static const ProtobufCMessageDescriptor s_node_descriptor = {PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
                                                             "test.Node",
                                                             "Node",
                                                             "Test__Node",
                                                             "test",
                                                             sizeof(s_node),
                                                             8,
                                                             s_node_fields,
                                                             s_node_by_name,
                                                             1,
                                                             s_node_ranges,
                                                             s_node_init,
                                                             NULL,
                                                             NULL,
                                                             NULL};

/* ---- helpers ------------------------------------------------------------ */

static const ProtobufCMessageDescriptor *const S_FILE =
    &ccip__intake__file_application_request__descriptor;
static const ProtobufCMessageDescriptor *const S_OPEN =
    &ccip__intake__open_call_request__descriptor;

/* JSON text -> message (NULL and err on refusal). The text is loaded with
 * NULs allowed, so that the parser's own refusal of them is what runs. */
static ProtobufCMessage *s_parse(const ProtobufCMessageDescriptor *d, const char *text, char *err,
                                 size_t errlen)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_ALLOW_NUL, &je);
    if (!j)
        fail_msg("test JSON does not load: %s: %s", text, je.text);
    ProtobufCMessage *m = ccip_pbjson_to_message(d, j, err, errlen);
    json_decref(j);
    return m;
}

/* The text must be refused with exactly this sentence. */
static void s_refused(const ProtobufCMessageDescriptor *d, const char *text, const char *sentence)
{
    char err[1024] = "";
    ProtobufCMessage *m = s_parse(d, text, err, sizeof err);
    if (m) {
        protobuf_c_message_free_unpacked(m, NULL);
        fail_msg("accepted %s", text);
    }
    assert_string_equal(err, sentence);
}

static ProtobufCMessage *s_accepted(const ProtobufCMessageDescriptor *d, const char *text)
{
    char err[1024] = "";
    ProtobufCMessage *m = s_parse(d, text, err, sizeof err);
    if (!m)
        fail_msg("refused %s: %s", text, err);
    return m;
}

/* Compact JSON text of msg (insertion order = field number order). */
static char *s_text(const ProtobufCMessage *msg, int flags)
{
    json_t *j = ccip_pbjson_from_message(msg, flags);
    assert_non_null(j);
    char *t = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    assert_non_null(t);
    return t;
}

static void s_assert_text(const ProtobufCMessage *msg, int flags, const char *expected)
{
    char *t = s_text(msg, flags);
    assert_string_equal(t, expected);
    free(t);
}

/* a and b are the same message: the same bytes on the wire. */
static void s_assert_same(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t na = protobuf_c_message_get_packed_size(a), nb = protobuf_c_message_get_packed_size(b);
    assert_int_equal(na, nb);
    uint8_t *ba = malloc(na + 1), *bb = malloc(nb + 1);
    assert_int_equal(protobuf_c_message_pack(a, ba), na);
    assert_int_equal(protobuf_c_message_pack(b, bb), nb);
    assert_memory_equal(ba, bb, na);
    free(ba);
    free(bb);
}

/* msg -> JSON text -> message gives msg back, for every output flag. */
static void s_assert_round_trip(const ProtobufCMessage *msg)
{
    static const int flags[] = {0, CCIP_PBJSON_EMIT_DEFAULTS, CCIP_PBJSON_PROTO_NAMES,
                                CCIP_PBJSON_EMIT_DEFAULTS | CCIP_PBJSON_PROTO_NAMES};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        char *t = s_text(msg, flags[i]);
        ProtobufCMessage *back = s_accepted(msg->descriptor, t);
        s_assert_same(msg, back);
        protobuf_c_message_free_unpacked(back, NULL);
        free(t);
    }
}

/* ---- names -------------------------------------------------------------- */

static void test_field_names_are_lower_camel_case(void **state)
{
    (void)state;
    char buf[64];
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(S_OPEN, "max_request_fen");
    assert_string_equal(ccip_pbjson_field_name(f, buf, sizeof buf), "maxRequestFen");
    f = protobuf_c_message_descriptor_get_field_by_name(S_OPEN, "year");
    assert_string_equal(ccip_pbjson_field_name(f, buf, sizeof buf), "year");
    f = protobuf_c_message_descriptor_get_field_by_name(S_OPEN, "max_request_fen");
    assert_string_equal(ccip_pbjson_field_name(f, buf, 4), "max"); /* cut to the buffer */
}

/* ---- message -> JSON -> message ----------------------------------------- */

/* intake.application.file.v1 as a client sends it: nested messages, a
 * oneof, repeated messages with bytes, and int64 money beyond 2^53. */
static void test_file_request_round_trip(void **state)
{
    (void)state;
    Ccip__Intake__BudgetLine line = CCIP__INTAKE__BUDGET_LINE__INIT;
    line.item = "stage";
    line.amount_fen = 9007199254740993LL; /* 2^53 + 1: a JSON number would round it */
    Ccip__Intake__BudgetLine *lines[] = {&line};
    Ccip__Intake__ProjectFacts project = CCIP__INTAKE__PROJECT_FACTS__INIT;
    project.n_budget_lines = 1;
    project.budget_lines = lines;
    Ccip__Intake__ApplicationContent content = CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    content.title = "数字文创园";
    content.summary = "a park for \"digital\" creative firms";
    content.requested_fen = 500000000;
    content.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT;
    content.project = &project;
    uint8_t licence[] = {0x00, 0xfb, 0xff}, plan[] = "%PDF";
    Ccip__Intake__DocumentUpload d1 = CCIP__INTAKE__DOCUMENT_UPLOAD__INIT;
    d1.doc_type = "business_licence";
    d1.name = "licence.pdf";
    d1.media_type = "application/pdf";
    d1.content.data = licence;
    d1.content.len = sizeof licence;
    Ccip__Intake__DocumentUpload d2 = CCIP__INTAKE__DOCUMENT_UPLOAD__INIT;
    d2.doc_type = "plan";
    d2.name = "plan.pdf";
    d2.media_type = "application/pdf";
    d2.content.data = plan;
    d2.content.len = 4;
    Ccip__Intake__DocumentUpload *docs[] = {&d1, &d2};
    Ccip__Intake__FileApplicationRequest rq = CCIP__INTAKE__FILE_APPLICATION_REQUEST__INIT;
    rq.call_id = "0190c6d8-0000-7000-8000-00000000000a";
    rq.applicant_uscc = "91110105MA01ABCD2X";
    rq.content = &content;
    rq.n_documents = 2;
    rq.documents = docs;

    s_assert_text(&rq.base, 0,
                  "{\"callId\":\"0190c6d8-0000-7000-8000-00000000000a\","
                  "\"applicantUscc\":\"91110105MA01ABCD2X\","
                  "\"content\":{\"title\":\"数字文创园\","
                  "\"summary\":\"a park for \\\"digital\\\" creative firms\","
                  "\"requestedFen\":\"500000000\","
                  "\"project\":{\"budgetLines\":[{\"item\":\"stage\","
                  "\"amountFen\":\"9007199254740993\"}]}},"
                  "\"documents\":[{\"docType\":\"business_licence\",\"name\":\"licence.pdf\","
                  "\"mediaType\":\"application/pdf\",\"content\":\"APv/\"},"
                  "{\"docType\":\"plan\",\"name\":\"plan.pdf\","
                  "\"mediaType\":\"application/pdf\",\"content\":\"JVBERg==\"}]}");
    s_assert_round_trip(&rq.base);

    /* what the parser built is freed by free_unpacked, with nothing left */
    Ccip__Intake__FileApplicationRequest *back = (Ccip__Intake__FileApplicationRequest *)s_accepted(
        S_FILE, "{\"content\":{\"project\":{\"budgetLines\":[{\"amountFen\":\"-5\"}]}},"
                "\"documents\":[{\"content\":\"APv_\"},{\"content\":\"JVBERg\"}]}");
    assert_int_equal(back->content->facts_case, CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT);
    assert_int_equal(back->content->project->budget_lines[0]->amount_fen, -5);
    assert_int_equal(back->n_documents, 2);
    assert_int_equal(back->documents[0]->content.len, 3); /* URL-safe, unpadded */
    assert_memory_equal(back->documents[0]->content.data, licence, 3);
    assert_memory_equal(back->documents[1]->content.data, "%PDF", 4);
    /* absent strings keep their descriptor default */
    assert_ptr_equal(back->call_id, (char *)protobuf_c_empty_string);
    assert_ptr_equal(back->documents[0]->name, (char *)protobuf_c_empty_string);
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

/* Enums by name, repeated enums and strings, int32 as a number. */
static void test_enums_and_repeated_scalars(void **state)
{
    (void)state;
    char *docs[] = {"business_licence", "site_plan"};
    Ccip__Intake__OrganisationType types[] = {CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE,
                                              CCIP__INTAKE__ORGANISATION_TYPE__INSTITUTION};
    Ccip__Intake__OpenCallRequest rq = CCIP__INTAKE__OPEN_CALL_REQUEST__INIT;
    rq.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    rq.year = 2027;
    rq.title = "Clusters 2027";
    rq.opens_at_us = 1790000000000000;
    rq.closes_at_us = -1;
    rq.n_required_documents = 2;
    rq.required_documents = docs;
    rq.n_eligible_types = 2;
    rq.eligible_types = types;
    s_assert_text(&rq.base, 0,
                  "{\"kind\":\"CLUSTER_IDENTIFICATION\",\"year\":2027,\"title\":\"Clusters 2027\","
                  "\"opensAtUs\":\"1790000000000000\",\"closesAtUs\":\"-1\","
                  "\"requiredDocuments\":[\"business_licence\",\"site_plan\"],"
                  "\"eligibleTypes\":[\"ENTERPRISE\",\"INSTITUTION\"]}");
    s_assert_round_trip(&rq.base);

    /* an enum value the descriptor does not know is written as its number */
    rq.kind = 42;
    rq.n_eligible_types = 0;
    rq.n_required_documents = 0;
    s_assert_text(&rq.base, 0,
                  "{\"kind\":42,\"year\":2027,\"title\":\"Clusters 2027\","
                  "\"opensAtUs\":\"1790000000000000\",\"closesAtUs\":\"-1\"}");

    /* the parser takes numbers for enums, and numbers or strings for ints */
    Ccip__Intake__OpenCallRequest *back = (Ccip__Intake__OpenCallRequest *)s_accepted(
        S_OPEN, "{\"kind\":3,\"year\":\"2028\",\"eligible_types\":[1,\"ENTERPRISE\"],"
                "\"max_request_fen\":500000000,\"opensAtUs\":1.79e15}");
    assert_int_equal(back->kind, CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT);
    assert_int_equal(back->year, 2028);
    assert_int_equal(back->n_eligible_types, 2);
    assert_int_equal(back->eligible_types[0], CCIP__INTAKE__ORGANISATION_TYPE__DISTRICT_GOVERNMENT);
    assert_int_equal(back->eligible_types[1], CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE);
    assert_int_equal(back->max_request_fen, 500000000);
    assert_int_equal(back->opens_at_us, 1790000000000000);
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

static void test_unsigned_extremes(void **state)
{
    (void)state;
    Ccip__ReplayRequest rq = CCIP__REPLAY_REQUEST__INIT;
    rq.from_position = UINT64_MAX;
    rq.max_events = UINT32_MAX;
    s_assert_text(&rq.base, 0,
                  "{\"fromPosition\":\"18446744073709551615\",\"maxEvents\":4294967295}");
    s_assert_round_trip(&rq.base);
    Ccip__ReplayRequest *back = (Ccip__ReplayRequest *)s_accepted(
        &ccip__replay_request__descriptor, "{\"from_position\":12,\"max_events\":\"7\"}");
    assert_int_equal(back->from_position, 12);
    assert_int_equal(back->max_events, 7);
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

/* EMIT_DEFAULTS writes zero values (not unset messages or oneofs);
 * PROTO_NAMES keys by the proto field names. */
static void test_emit_defaults_and_proto_names(void **state)
{
    (void)state;
    Ccip__Intake__OpenCallRequest open = CCIP__INTAKE__OPEN_CALL_REQUEST__INIT;
    s_assert_text(&open.base, 0, "{}");
    s_assert_text(&open.base, CCIP_PBJSON_EMIT_DEFAULTS,
                  "{\"kind\":\"CALL_KIND_UNSPECIFIED\",\"year\":0,\"title\":\"\","
                  "\"opensAtUs\":\"0\",\"closesAtUs\":\"0\",\"requiredDocuments\":[],"
                  "\"eligibleTypes\":[],\"fundProgrammeCode\":\"\",\"maxRequestFen\":\"0\"}");
    s_assert_text(&open.base, CCIP_PBJSON_EMIT_DEFAULTS | CCIP_PBJSON_PROTO_NAMES,
                  "{\"kind\":\"CALL_KIND_UNSPECIFIED\",\"year\":0,\"title\":\"\","
                  "\"opens_at_us\":\"0\",\"closes_at_us\":\"0\",\"required_documents\":[],"
                  "\"eligible_types\":[],\"fund_programme_code\":\"\",\"max_request_fen\":\"0\"}");
    open.max_request_fen = 7;
    s_assert_text(&open.base, CCIP_PBJSON_PROTO_NAMES, "{\"max_request_fen\":\"7\"}");

    Ccip__Intake__ApplicationContent content = CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    s_assert_text(&content.base, CCIP_PBJSON_EMIT_DEFAULTS,
                  "{\"title\":\"\",\"summary\":\"\",\"district\":\"\",\"requestedFen\":\"0\"}");
    /* a oneof member that is set is written even when empty */
    Ccip__Intake__ClusterFacts cluster = CCIP__INTAKE__CLUSTER_FACTS__INIT;
    content.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
    content.cluster = &cluster;
    s_assert_text(&content.base, 0, "{\"cluster\":{}}");
    s_assert_round_trip(&content.base);

    Ccip__Intake__DocumentReply reply = CCIP__INTAKE__DOCUMENT_REPLY__INIT;
    s_assert_text(&reply.base, CCIP_PBJSON_EMIT_DEFAULTS, "{\"deduplicated\":false}");
    reply.deduplicated = 1;
    s_assert_text(&reply.base, 0, "{\"deduplicated\":true}");
}

/* Strings that are not UTF-8 (a message decoded from the wire may hold
 * them) still give JSON: each bad byte becomes U+FFFD. */
static void test_invalid_utf8_in_a_message_is_replaced(void **state)
{
    (void)state;
    Ccip__Intake__CloseCallRequest rq = CCIP__INTAKE__CLOSE_CALL_REQUEST__INIT;
    rq.call_id = "a\xff"
                 "b\xe6\x96";
    s_assert_text(&rq.base, 0,
                  "{\"callId\":\"a\xef\xbf\xbd"
                  "b\xef\xbf\xbd\xef\xbf\xbd\"}");
}

/* Floats, doubles and the other kinds no ccip message has yet, and proto3
 * optional presence. */
static void test_node_kinds_round_trip(void **state)
{
    (void)state;
    s_node child, n;
    s_node_init(&child.base);
    s_node_init(&n.base);
    char *names[] = {"a", "b"};
    child.f = 1.5f;
    child.d = -2.25;
    n.child = &child;
    n.f = NAN;
    n.d = INFINITY;
    n.s32 = INT32_MIN;
    n.s64 = INT64_MIN;
    n.fx = UINT64_MAX;
    n.has_opt = 1; /* present, though zero */
    n.n_names = 2;
    n.names = names;
    s_assert_text(&n.base, 0,
                  "{\"child\":{\"f\":1.5,\"d\":-2.25},\"f\":\"NaN\",\"d\":\"Infinity\","
                  "\"s32\":-2147483648,\"s64\":\"-9223372036854775808\","
                  "\"fx\":\"18446744073709551615\",\"opt\":0,\"names\":[\"a\",\"b\"]}");
    s_assert_round_trip(&n.base);
    n.d = -INFINITY;
    n.has_opt = 0; /* absent: not written, not even with EMIT_DEFAULTS */
    n.child = NULL;
    s_assert_text(&n.base, CCIP_PBJSON_EMIT_DEFAULTS,
                  "{\"f\":\"NaN\",\"d\":\"-Infinity\",\"s32\":-2147483648,"
                  "\"s64\":\"-9223372036854775808\",\"fx\":\"18446744073709551615\","
                  "\"names\":[\"a\",\"b\"]}");
    s_assert_round_trip(&n.base);

    s_node *back = (s_node *)s_accepted(&s_node_descriptor,
                                        "{\"f\":\"1.25\",\"d\":\"-1e300\",\"opt\":0,\"fx\":1}");
    assert_true(back->f == 1.25f);
    assert_true(back->d == -1e300);
    assert_int_equal(back->has_opt, 1);
    assert_int_equal(back->fx, 1);
    protobuf_c_message_free_unpacked(&back->base, NULL);
}

/* Every message of every service, filled three ways (fuzz_sample.h),
 * survives message -> JSON -> message with every flag. */
static void test_every_message_round_trips(void **state)
{
    (void)state;
    size_t n = ccip_proto_message_count();
    assert_true(n > 250);
    for (size_t i = 0; i < n; i++) {
        const ProtobufCMessageDescriptor *d = ccip_proto_message_at(i);
        for (unsigned v = 0; v < FUZZ_SAMPLE_VARIANTS; v++) {
            ProtobufCMessage *m = fuzz_sample_message(d, v);
            assert_non_null(m);
            s_assert_round_trip(m);
            protobuf_c_message_free_unpacked(m, NULL);
        }
    }
}

/* ---- the parser's leniencies ----------------------------------------------- */

static void test_parser_accepts_the_canonical_alternatives(void **state)
{
    (void)state;
    Ccip__Intake__FileApplicationRequest *m = (Ccip__Intake__FileApplicationRequest *)s_accepted(
        S_FILE, "{\"call_id\":\"c\",\"applicantUscc\":null,\"content\":{\"title\":\"t\","
                "\"requested_fen\":5e8,\"cluster\":{\"area_m2\":\"100\"},\"project\":null},"
                "\"documents\":[]}");
    assert_string_equal(m->call_id, "c");
    assert_ptr_equal(m->applicant_uscc, (char *)protobuf_c_empty_string); /* null = absent */
    assert_int_equal(m->content->requested_fen, 500000000);
    assert_int_equal(m->content->facts_case, CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER);
    assert_int_equal(m->content->cluster->area_m2, 100);
    assert_int_equal(m->n_documents, 0);
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

/* ---- refusals ------------------------------------------------------------- */

static void test_refuses_unknown_fields(void **state)
{
    (void)state;
    s_refused(S_FILE, "{\"titel\":\"x\"}",
              "unknown field `titel` in ccip.intake.FileApplicationRequest; known fields: "
              "callId, applicantUscc, content, documents, continuesCase");
    s_refused(S_FILE, "{\"callId\":\"a\",\"content\":{\"titel\":\"x\"}}",
              "unknown field `content.titel` in ccip.intake.ApplicationContent; known fields: "
              "title, summary, district, requestedFen, cluster, talentBase, project");
    s_refused(S_FILE, "{\"documents\":[{\"name\":\"a\"},{\"Name\":\"b\"}]}",
              "unknown field `documents[1].Name` in ccip.intake.DocumentUpload; known fields: "
              "docType, name, mediaType, content");
    /* what the client wrote is cut and escaped, never echoed raw */
    s_refused(S_FILE, "{\"a\\nb\\\"\":1}",
              "unknown field `a\\x0Ab\\x22` in ccip.intake.FileApplicationRequest; known fields: "
              "callId, applicantUscc, content, documents, continuesCase");
    s_refused(S_FILE, "{\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\":1}",
              "unknown field `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...` in "
              "ccip.intake.FileApplicationRequest; known fields: "
              "callId, applicantUscc, content, documents, continuesCase");
    /* a key with a NUL inside (jansson's loader refuses them; code can make them) */
    json_t *j = json_object();
    json_object_setn_new(j, "callId\0x", 8, json_string("x"));
    char err[256];
    assert_null(ccip_pbjson_to_message(S_FILE, j, err, sizeof err));
    assert_string_equal(err,
                        "unknown field `callId\\x00x` in ccip.intake.FileApplicationRequest; "
                        "known fields: callId, applicantUscc, content, documents, continuesCase");
    json_decref(j);
}

static void test_refuses_wrong_json_types(void **state)
{
    (void)state;
    s_refused(S_FILE, "[]",
              "expected a JSON object for ccip.intake.FileApplicationRequest, got an array");
    s_refused(S_FILE, "{\"documents\":[{\"name\":\"a.pdf\"},{\"media_type\":5}]}",
              "field `documents[1].media_type` must be a string, got a number");
    s_refused(S_FILE, "{\"documents\":{\"name\":\"a\"}}",
              "field `documents` must be an array, got an object");
    s_refused(S_FILE, "{\"documents\":[null]}",
              "field `documents[0]` must not be null (null stands for an absent field, not an "
              "element of an array)");
    s_refused(S_FILE, "{\"content\":\"x\"}",
              "field `content` must be an object (ccip.intake.ApplicationContent), got a string");
    s_refused(S_FILE, "{\"documents\":[{\"content\":true}]}",
              "field `documents[0].content` must be a base64 string, got a boolean");
    s_refused(&ccip__intake__list_calls_request__descriptor, "{\"acceptingOnly\":\"true\"}",
              "field `acceptingOnly` must be true or false, got a string");
    s_refused(S_OPEN, "{\"requiredDocuments\":[\"a\",[]]}",
              "field `requiredDocuments[1]` must be a string, got an array");
    s_refused(S_OPEN, "{\"year\":[]}",
              "field `year` must be an integer (a number, or a string of decimal digits), got an "
              "array");
    s_refused(
        &s_node_descriptor, "{\"d\":{}}",
        "field `d` must be a number (or \"NaN\", \"Infinity\", \"-Infinity\"), got an object");
    char err[128] = "x";
    assert_null(ccip_pbjson_to_message(S_FILE, NULL, err, sizeof err));
    assert_string_equal(err, "no JSON given");
}

static void test_refuses_numbers_out_of_range_or_with_a_fraction(void **state)
{
    (void)state;
    s_refused(S_OPEN, "{\"year\":3000000000}",
              "field `year` must be an integer between -2147483648 and 2147483647, got 3000000000");
    s_refused(S_OPEN, "{\"year\":2027.5}", "field `year` must be an integer, got 2027.5");
    s_refused(S_FILE, "{\"content\":{\"requestedFen\":1.5}}",
              "field `content.requestedFen` must be an integer, got 1.5");
    s_refused(S_FILE, "{\"content\":{\"requestedFen\":\"12x\"}}",
              "field `content.requestedFen` must be an integer (a number, or a string of decimal "
              "digits), got \"12x\"");
    s_refused(S_FILE, "{\"content\":{\"requestedFen\":\" 12\"}}",
              "field `content.requestedFen` must be an integer (a number, or a string of decimal "
              "digits), got \" 12\"");
    s_refused(S_FILE, "{\"content\":{\"requestedFen\":\"-\"}}",
              "field `content.requestedFen` must be an integer (a number, or a string of decimal "
              "digits), got \"-\"");
    s_refused(S_FILE, "{\"content\":{\"requestedFen\":\"9223372036854775808\"}}",
              "field `content.requestedFen` must be an integer between -9223372036854775808 and "
              "9223372036854775807, got \"9223372036854775808\"");
    s_refused(S_FILE, "{\"content\":{\"requestedFen\":1e19}}",
              "field `content.requestedFen` must be an integer between -9223372036854775808 and "
              "9223372036854775807, got 1e+19");
    s_refused(S_FILE, "{\"content\":{\"cluster\":{\"enterpriseCount\":2147483648}}}",
              "field `content.cluster.enterpriseCount` must be an integer between -2147483648 and "
              "2147483647, got 2147483648");
    s_refused(&ccip__replay_request__descriptor, "{\"maxEvents\":-1}",
              "field `maxEvents` must be an integer between 0 and 4294967295, got -1");
    s_refused(&ccip__replay_request__descriptor, "{\"fromPosition\":\"-1\"}",
              "field `fromPosition` must be an integer between 0 and 18446744073709551615, got "
              "\"-1\"");
    s_refused(&ccip__replay_request__descriptor, "{\"fromPosition\":\"18446744073709551616\"}",
              "field `fromPosition` must be an integer between 0 and 18446744073709551615, got "
              "\"18446744073709551616\"");
    s_refused(&s_node_descriptor, "{\"f\":1e39}",
              "field `f` is out of range for a float (at most 3.40282e+38), got 1e+39");
    s_refused(&s_node_descriptor, "{\"d\":\"inf\"}",
              "field `d` must be a number (or \"NaN\", \"Infinity\", \"-Infinity\"), got \"inf\"");
    s_refused(&s_node_descriptor, "{\"d\":\"0x10\"}",
              "field `d` must be a number (or \"NaN\", \"Infinity\", \"-Infinity\"), got \"0x10\"");
}

static void test_refuses_invalid_base64(void **state)
{
    (void)state;
    static const char *bad[] = {"abc!", "QQ=", "QR==", "Q", "QQ==QQ==", "QQ Q=", "QQ===", "=QQQ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[128], sentence[256];
        snprintf(text, sizeof text, "{\"documents\":[{\"content\":\"%s\"}]}", bad[i]);
        snprintf(sentence, sizeof sentence,
                 "field `documents[0].content` must be base64 (standard or URL-safe alphabet, "
                 "padding optional), got \"%s\"",
                 bad[i]);
        s_refused(S_FILE, text, sentence);
    }
    /* and every length of both alphabets, padded or not, is accepted */
    static const char *good[] = {"", "QQ", "QQ==", "QUI", "QUI=", "QUJD", "-_-_", "+/+/"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "{\"documents\":[{\"content\":\"%s\"}]}", good[i]);
        protobuf_c_message_free_unpacked(s_accepted(S_FILE, text), NULL);
    }
}

static void test_refuses_text_that_is_not_utf8_or_holds_nul(void **state)
{
    (void)state;
    s_refused(S_FILE, "{\"content\":{\"title\":\"a\\u0000b\"}}",
              "field `content.title` contains a NUL character (\\u0000), which text fields cannot "
              "hold");
    /* jansson refuses invalid UTF-8 when it loads text; a json_t built in
     * code can still hold it */
    json_t *j = json_object();
    json_object_set_new(j, "callId", json_stringn_nocheck("\xff", 1));
    char err[256];
    assert_null(ccip_pbjson_to_message(S_FILE, j, err, sizeof err));
    assert_string_equal(err, "field `callId` is not valid UTF-8");
    json_decref(j);
}

static void test_refuses_unknown_enum_values(void **state)
{
    (void)state;
    s_refused(S_OPEN, "{\"kind\":\"FOO\"}",
              "field `kind` must be one of CALL_KIND_UNSPECIFIED, CLUSTER_IDENTIFICATION, "
              "TALENT_BASE_IDENTIFICATION, SPECIAL_FUND_PROJECT (a name of ccip.intake.CallKind, "
              "or its number), got \"FOO\"");
    s_refused(S_OPEN, "{\"kind\":7}",
              "field `kind` must be one of CALL_KIND_UNSPECIFIED, CLUSTER_IDENTIFICATION, "
              "TALENT_BASE_IDENTIFICATION, SPECIAL_FUND_PROJECT (a name of ccip.intake.CallKind, "
              "or its number), got 7");
    s_refused(S_OPEN, "{\"eligibleTypes\":[\"ENTERPRISE\",\"enterprise\"]}",
              "field `eligibleTypes[1]` must be one of ORGANISATION_TYPE_UNSPECIFIED, "
              "DISTRICT_GOVERNMENT, MUNICIPAL_COMMISSION, ENTERPRISE, INSTITUTION (a name of "
              "ccip.intake.OrganisationType, or its number), got \"enterprise\"");
    s_refused(S_OPEN, "{\"kind\":true}",
              "field `kind` must be one of CALL_KIND_UNSPECIFIED, CLUSTER_IDENTIFICATION, "
              "TALENT_BASE_IDENTIFICATION, SPECIAL_FUND_PROJECT (a name of ccip.intake.CallKind, "
              "or its number), got a boolean");
}

static void test_refuses_two_members_of_a_oneof_and_a_field_twice(void **state)
{
    (void)state;
    s_refused(S_FILE, "{\"content\":{\"cluster\":{},\"project\":{}}}",
              "fields `content.cluster` and `content.project` are members of one oneof; give at "
              "most one");
    s_refused(S_FILE, "{\"content\":{\"talent_base\":{\"annualCapacity\":5},\"cluster\":{}}}",
              "fields `content.talent_base` and `content.cluster` are members of one oneof; give "
              "at most one");
    s_refused(S_FILE, "{\"callId\":\"a\",\"call_id\":\"b\"}",
              "field `call_id` is given twice, as `callId` and `call_id`; give it once");
    s_refused(S_FILE, "{\"documents\":[{\"mediaType\":\"a\",\"media_type\":null}]}",
              "field `documents[0].media_type` is given twice, as `mediaType` and `media_type`; "
              "give it once");
}

/* A refusal deep inside leaves nothing allocated (ASan's leak check would
 * fail this test): strings, bytes, messages and arrays read before it are
 * all freed. */
static void test_refusal_after_allocations_frees_everything(void **state)
{
    (void)state;
    s_refused(S_FILE,
              "{\"callId\":\"a\",\"applicantUscc\":\"u\",\"content\":{\"title\":\"t\","
              "\"project\":{\"budgetLines\":[{\"item\":\"x\"},{\"item\":\"y\"}]}},"
              "\"documents\":[{\"name\":\"x\",\"content\":\"AAAA\"},{\"name\":\"y\","
              "\"content\":\"AAA!\"}]}",
              "field `documents[1].content` must be base64 (standard or URL-safe alphabet, "
              "padding optional), got \"AAA!\"");
    s_refused(S_FILE,
              "{\"content\":{\"title\":\"t\",\"project\":{\"budgetLines\":[{\"item\":\"x\"},"
              "{\"item\":\"y\",\"amountFen\":true}]}}}",
              "field `content.project.budgetLines[1].amountFen` must be an integer (a number, or "
              "a string of decimal digits), got a boolean");
    s_refused(S_OPEN, "{\"requiredDocuments\":[\"a\",\"b\",3]}",
              "field `requiredDocuments[2]` must be a string, got a number");
}

static void test_refuses_nesting_deeper_than_the_limit(void **state)
{
    (void)state;
    /* CCIP_PBJSON_MAX_DEPTH messages, the outermost included, are read */
    char text[4096] = "", path[4096] = "";
    for (int i = 1; i < CCIP_PBJSON_MAX_DEPTH; i++)
        strcat(text, "{\"child\":");
    strcat(text, "{}");
    for (int i = 1; i < CCIP_PBJSON_MAX_DEPTH; i++)
        strcat(text, "}");
    protobuf_c_message_free_unpacked(s_accepted(&s_node_descriptor, text), NULL);
    /* one more is refused */
    text[0] = '\0';
    for (int i = 0; i < CCIP_PBJSON_MAX_DEPTH; i++) {
        strcat(text, "{\"child\":");
        strcat(path, i ? ".child" : "child");
    }
    strcat(text, "{}");
    for (int i = 0; i < CCIP_PBJSON_MAX_DEPTH; i++)
        strcat(text, "}");
    char sentence[4200];
    snprintf(sentence, sizeof sentence, "field `%s` nests messages deeper than %d levels", path,
             CCIP_PBJSON_MAX_DEPTH);
    s_refused(&s_node_descriptor, text, sentence);
}

/* ---- schema --------------------------------------------------------------- */

/* Every "$ref" in v names a schema of components. */
static void s_assert_refs_resolve(const json_t *v, const json_t *components)
{
    if (json_is_object(v)) {
        const char *key;
        json_t *sub;
        json_object_foreach((json_t *)v, key, sub)
        {
            if (strcmp(key, "$ref") == 0) {
                const char *ref = json_string_value(sub);
                assert_non_null(ref);
                assert_memory_equal(ref, "#/components/schemas/", 21);
                if (!json_object_get(components, ref + 21))
                    fail_msg("$ref %s does not resolve", ref);
            } else {
                s_assert_refs_resolve(sub, components);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *sub;
        json_array_foreach(v, i, sub) s_assert_refs_resolve(sub, components);
    }
}

static void s_assert_json(const json_t *v, const char *expected)
{
    assert_non_null(v);
    char *t = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(t, expected);
    free(t);
}

static void test_schema_of_the_file_request(void **state)
{
    (void)state;
    json_t *components = json_object();
    json_t *ref = ccip_pbjson_schema(S_FILE, components);
    s_assert_json(ref, "{\"$ref\":\"#/components/schemas/ccip.intake.FileApplicationRequest\"}");
    json_decref(ref);
    /* the request and the seven messages under it */
    assert_int_equal(json_object_size(components), 8);
    const json_t *file = json_object_get(components, "ccip.intake.FileApplicationRequest");
    const json_t *props = json_object_get(file, "properties");
    assert_true(json_is_false(json_object_get(file, "additionalProperties")));
    s_assert_json(json_object_get(props, "documents"),
                  "{\"items\":{\"$ref\":\"#/components/schemas/ccip.intake.DocumentUpload\"},"
                  "\"type\":\"array\"}");
    const json_t *content = json_object_get(components, "ccip.intake.ApplicationContent");
    s_assert_json(json_object_get(json_object_get(content, "properties"), "requestedFen"),
                  "{\"format\":\"int64\",\"pattern\":\"^-?[0-9]+$\",\"type\":\"string\"}");
    s_assert_json(json_object_get(json_object_get(content, "dependentSchemas"), "talentBase"),
                  "{\"properties\":{\"cluster\":false,\"project\":false}}");
    const json_t *upload = json_object_get(components, "ccip.intake.DocumentUpload");
    s_assert_json(json_object_get(json_object_get(upload, "properties"), "content"),
                  "{\"contentEncoding\":\"base64\",\"type\":\"string\"}");
    s_assert_refs_resolve(components, components);

    /* enums go to components too, by their value names */
    ref = ccip_pbjson_schema(S_OPEN, components);
    json_decref(ref);
    const json_t *open = json_object_get(components, "ccip.intake.OpenCallRequest");
    s_assert_json(json_object_get(json_object_get(open, "properties"), "kind"),
                  "{\"$ref\":\"#/components/schemas/ccip.intake.CallKind\"}");
    s_assert_json(json_object_get(json_object_get(open, "properties"), "year"),
                  "{\"format\":\"int32\",\"maximum\":2147483647,\"minimum\":-2147483648,"
                  "\"type\":\"integer\"}");
    s_assert_json(json_object_get(components, "ccip.intake.CallKind"),
                  "{\"enum\":[\"CALL_KIND_UNSPECIFIED\",\"CLUSTER_IDENTIFICATION\","
                  "\"TALENT_BASE_IDENTIFICATION\",\"SPECIAL_FUND_PROJECT\"],"
                  "\"title\":\"ccip.intake.CallKind\",\"type\":\"string\"}");
    json_decref(components);

    /* a message that contains itself refers to itself */
    components = json_object();
    json_decref(ccip_pbjson_schema(&s_node_descriptor, components));
    s_assert_json(
        json_object_get(json_object_get(json_object_get(components, "test.Node"), "properties"),
                        "child"),
        "{\"$ref\":\"#/components/schemas/test.Node\"}");
    json_decref(components);
}

static void test_schema_of_every_message(void **state)
{
    (void)state;
    json_t *components = json_object();
    for (size_t i = 0; i < ccip_proto_message_count(); i++) {
        json_t *ref = ccip_pbjson_schema(ccip_proto_message_at(i), components);
        assert_non_null(ref);
        json_decref(ref);
    }
    /* every message (and the enums they use) once, every $ref resolves */
    assert_true(json_object_size(components) >= ccip_proto_message_count());
    s_assert_refs_resolve(components, components);
    json_decref(components);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_names_are_lower_camel_case),
        cmocka_unit_test(test_file_request_round_trip),
        cmocka_unit_test(test_enums_and_repeated_scalars),
        cmocka_unit_test(test_unsigned_extremes),
        cmocka_unit_test(test_emit_defaults_and_proto_names),
        cmocka_unit_test(test_invalid_utf8_in_a_message_is_replaced),
        cmocka_unit_test(test_node_kinds_round_trip),
        cmocka_unit_test(test_every_message_round_trips),
        cmocka_unit_test(test_parser_accepts_the_canonical_alternatives),
        cmocka_unit_test(test_refuses_unknown_fields),
        cmocka_unit_test(test_refuses_wrong_json_types),
        cmocka_unit_test(test_refuses_numbers_out_of_range_or_with_a_fraction),
        cmocka_unit_test(test_refuses_invalid_base64),
        cmocka_unit_test(test_refuses_text_that_is_not_utf8_or_holds_nul),
        cmocka_unit_test(test_refuses_unknown_enum_values),
        cmocka_unit_test(test_refuses_two_members_of_a_oneof_and_a_field_twice),
        cmocka_unit_test(test_refusal_after_allocations_frees_everything),
        cmocka_unit_test(test_refuses_nesting_deeper_than_the_limit),
        cmocka_unit_test(test_schema_of_the_file_request),
        cmocka_unit_test(test_schema_of_every_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
