/*
 * ccipctl evaluation ...: every operation of the evaluation service
 * (registers, score sheets, cases, assignments, reviews, reports, the
 * office's decisions, designations, tasks) from the command line.
 *
 * Replies are printed for people as indented "field: value" lines (times
 * as RFC 3339, amounts in yuan, scores in points, empty fields left out),
 * or with --json as one JSON object that mirrors the reply message
 * (proto/ccip/evaluation.proto): enum values by name, int64 as numbers.
 *
 * Who asks is the global --role and --actor: staff "--role staff --actor
 * <id>", the office "--role office", an expert "--role expert --actor
 * expert:<id>", an agency "--role agency --actor agency:<id>".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip_id.h"
#include "ctl.h"

/* Whole numbers as evaluation's commands have always taken them; the
 * service checks each field's own range. */
#define NUMBER(name, flags) CTL_INT(name, -1000000000, 1000000000, flags)

/* ---- output, driven by the message descriptors ----------------------------- */

static int s_ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void s_text_message(const ProtobufCMessage *m, int depth);

/* One value for people; returns 0 when it is empty and was not printed. */
static int s_text_value(const ProtobufCFieldDescriptor *fd, const void *p, int depth,
                        const char *label)
{
    char buf[64];
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        int64_t v = *(const int64_t *)p;
        if (!v)
            return 0;
        if (s_ends(fd->name, "_us") && ccip_time_format_us(v, buf, sizeof buf) == 0)
            printf("%*s%s: %s\n", depth * 2, "", label, buf);
        else if (s_ends(fd->name, "_fen") && ccip_fen_format(v, buf, sizeof buf) == 0)
            printf("%*s%s: %s yuan\n", depth * 2, "", label, buf);
        else
            printf("%*s%s: %" PRId64 "\n", depth * 2, "", label, v);
        return 1;
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (!*(const uint64_t *)p)
            return 0;
        printf("%*s%s: %" PRIu64 "\n", depth * 2, "", label, *(const uint64_t *)p);
        return 1;
    case PROTOBUF_C_TYPE_BOOL:
        if (!*(const protobuf_c_boolean *)p)
            return 0;
        printf("%*s%s: yes\n", depth * 2, "", label);
        return 1;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        if (!v)
            return 0;
        printf("%*s%s: %s\n", depth * 2, "", label, ctl_enum_name(fd->descriptor, v));
        return 1;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        if (!s || !s[0])
            return 0;
        printf("%*s%s: %s\n", depth * 2, "", label, s);
        return 1;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        if (!sub)
            return 0;
        printf("%*s%s:\n", depth * 2, "", label);
        s_text_message(sub, depth + 1);
        return 1;
    }
    default: {
        int32_t v = *(const int32_t *)p;
        if (!v)
            return 0;
        if (s_ends(fd->name, "_centi"))
            printf("%*s%s: %d.%02d\n", depth * 2, "", label, v / 100, abs(v % 100));
        else
            printf("%*s%s: %" PRId32 "\n", depth * 2, "", label, v);
        return 1;
    }
    }
}

static void s_text_message(const ProtobufCMessage *m, int depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
            s_text_value(fd, ctl_field_value(m, fd, 0), depth, fd->name);
            continue;
        }
        for (size_t k = 0; k < ctl_field_count(m, fd); k++) {
            char label[96];
            snprintf(label, sizeof label, "%s[%zu]", fd->name, k);
            s_text_value(fd, ctl_field_value(m, fd, k), depth, label);
        }
    }
}

/* Every reply prints as its fields. */
static void s_print(const ProtobufCMessage *reply, ctl_args *args)
{
    s_text_message(reply, 0);
}

/* ---- values ------------------------------------------------------------------------ */

/* "70" or "70.5" or "70.25" points as hundredths. */
static int s_points(const char *option, const char *text, int *out)
{
    ccip_fen v;
    if (ccip_fen_parse(text, &v) < 0 || v < 0 || v > 10000) {
        fprintf(stderr,
                "ccipctl: --%s must be points from 0 to 100 with at most two decimals, "
                "got \"%s\"\n",
                option, text);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* --name's comma-separated values. */
static char **s_list(ctl_args *a, const char *name, size_t *n)
{
    return ctl_split(a, ctl_str(a, name), ',', SIZE_MAX, n);
}

/* ---- registers ------------------------------------------------------------------- */

/* --conflict CODE[:note]... */
static Ccip__Evaluation__DeclaredConflict **s_conflicts(ctl_args *a, size_t *n)
{
    *n = (size_t)ctl_given(a, "conflict");
    Ccip__Evaluation__DeclaredConflict *store = ctl_alloc(a, *n * sizeof *store);
    Ccip__Evaluation__DeclaredConflict **ptrs = ctl_alloc(a, *n * sizeof *ptrs);
    for (size_t i = 0; i < *n; i++) {
        store[i] = (Ccip__Evaluation__DeclaredConflict)CCIP__EVALUATION__DECLARED_CONFLICT__INIT;
        char *note;
        store[i].org_uscc = ctl_cut(a, ctl_str_at(a, "conflict", (int)i), ':', 0, &note);
        store[i].note = note ? note : "";
        ptrs[i] = &store[i];
    }
    return ptrs;
}

static const ctl_arg A_AGENCY_REGISTER[] = {CTL_STR("ID", CTL_ARG),
                                            CTL_STR("name", 0),
                                            CTL_STR("uscc", 0),
                                            CTL_STR("qualification", 0),
                                            CTL_STR("districts", 0),
                                            NUMBER("capacity", 0),
                                            CTL_STR("conflict", CTL_REPEATED),
                                            {0}};

static int s_agency_register(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__RegisterAgencyRequest rq = CCIP__EVALUATION__REGISTER_AGENCY_REQUEST__INIT;
    rq.id = ctl_str(a, "ID");
    rq.name = ctl_str(a, "name");
    rq.uscc = ctl_str(a, "uscc");
    rq.qualification = ctl_str(a, "qualification");
    rq.districts_served = s_list(a, "districts", &rq.n_districts_served);
    rq.capacity = (int32_t)ctl_int(a, "capacity");
    rq.declared_conflicts = s_conflicts(a, &rq.n_declared_conflicts);
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_EXPERT_REGISTER[] = {CTL_STR("ID", CTL_ARG),
                                            CTL_STR("name", 0),
                                            CTL_STR("fields", 0),
                                            CTL_STR("affiliation", 0),
                                            CTL_STR("affiliation-name", 0),
                                            CTL_STR("district", 0),
                                            NUMBER("max-reviews", 0),
                                            CTL_STR("phone", 0),
                                            CTL_STR("email", 0),
                                            CTL_STR("conflict", CTL_REPEATED),
                                            {0}};

static int s_expert_register(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__RegisterExpertRequest rq = CCIP__EVALUATION__REGISTER_EXPERT_REQUEST__INIT;
    rq.id = ctl_str(a, "ID");
    rq.name = ctl_str(a, "name");
    rq.fields = s_list(a, "fields", &rq.n_fields);
    rq.affiliation_uscc = ctl_str(a, "affiliation");
    rq.affiliation_name = ctl_str(a, "affiliation-name");
    rq.district = ctl_str(a, "district");
    rq.phone = ctl_str(a, "phone");
    rq.email = ctl_str(a, "email");
    rq.max_concurrent_reviews = (int32_t)ctl_int(a, "max-reviews");
    rq.declared_conflicts = s_conflicts(a, &rq.n_declared_conflicts);
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_ID_REASON[] = {CTL_STR("ID", CTL_ARG), CTL_STR("reason", 0), {0}};

/* agency|expert activate|deactivate ID --reason R */
static int s_set_active(ctl_opts *o, ctl_args *a, int active)
{
    Ccip__Evaluation__SetActiveRequest rq = CCIP__EVALUATION__SET_ACTIVE_REQUEST__INIT;
    rq.id = ctl_str(a, "ID");
    rq.active = active;
    rq.reason = ctl_str(a, "reason");
    return ctl_send(o, a, &rq.base);
}

static int s_activate(ctl_opts *o, ctl_args *a)
{
    return s_set_active(o, a, 1);
}

static int s_deactivate(ctl_opts *o, ctl_args *a)
{
    return s_set_active(o, a, 0);
}

static const ctl_arg A_ID[] = {CTL_STR("ID", CTL_ARG), {0}};

static int s_register_get(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__GetRequest rq = CCIP__EVALUATION__GET_REQUEST__INIT;
    rq.id = ctl_str(a, "ID");
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_REGISTER_LIST[] = {CTL_STR("field", 0), CTL_STR("district", 0),
                                          CTL_FLAG("active"),  CTL_STR("after", 0),
                                          NUMBER("limit", 0),  {0}};

static int s_register_list(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__ListRegisterRequest rq = CCIP__EVALUATION__LIST_REGISTER_REQUEST__INIT;
    rq.field = ctl_str(a, "field");
    rq.district = ctl_str(a, "district");
    rq.active_only = ctl_given(a, "active") > 0;
    rq.after_id = ctl_str(a, "after");
    rq.limit = (int32_t)ctl_int(a, "limit");
    return ctl_send(o, a, &rq.base);
}

/* ---- score sheets ---------------------------------------------------------------- */

#define KIND(name, flags) CTL_ENUM(name, &ccip__intake__call_kind__descriptor, NULL, flags)

static const ctl_arg A_SHEET_PUBLISH[] = {
    KIND("KIND", CTL_ARG),   CTL_STR("criterion", CTL_REPEATED),
    CTL_STR("threshold", 0), NUMBER("panel", 0),
    CTL_STR("fields", 0),    {0}};

/* sheet publish KIND --criterion code:weight:max[:title]... --threshold P --panel K --fields */
static int s_sheet_publish(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__PublishSheetRequest rq = CCIP__EVALUATION__PUBLISH_SHEET_REQUEST__INIT;
    rq.kind = (Ccip__Intake__CallKind)ctl_int(a, "KIND");
    rq.panel_size = (int32_t)ctl_int(a, "panel");
    if (s_points("threshold", ctl_str_or(a, "threshold", "0"), &rq.pass_threshold_centi) < 0)
        return CTL_USAGE;
    rq.n_criteria = (size_t)ctl_given(a, "criterion");
    Ccip__Evaluation__Criterion *store = ctl_alloc(a, rq.n_criteria * sizeof *store);
    rq.criteria = ctl_alloc(a, rq.n_criteria * sizeof *rq.criteria);
    for (size_t i = 0; i < rq.n_criteria; i++) {
        store[i] = (Ccip__Evaluation__Criterion)CCIP__EVALUATION__CRITERION__INIT;
        size_t np;
        char **parts = ctl_split(a, ctl_str_at(a, "criterion", (int)i), ':', 4, &np);
        int64_t weight, max;
        if (np < 3 ||
            ctl_parse_int("--criterion weight", parts[1], -1000000000, 1000000000, &weight) < 0 ||
            ctl_parse_int("--criterion max", parts[2], -1000000000, 1000000000, &max) < 0) {
            fprintf(stderr, "ccipctl: --criterion is code:weight:max[:title], e.g. "
                            "innovation:3:10:Innovation\n");
            return CTL_USAGE;
        }
        store[i].code = parts[0];
        store[i].weight = (int32_t)weight;
        store[i].max_score = (int32_t)max;
        store[i].title = np > 3 ? parts[3] : parts[0];
        rq.criteria[i] = &store[i];
    }
    rq.fields = s_list(a, "fields", &rq.n_fields);
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_SHEET_GET[] = {KIND("KIND", CTL_ARG), NUMBER("version", 0), {0}};

static int s_sheet_get(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__GetSheetRequest rq = CCIP__EVALUATION__GET_SHEET_REQUEST__INIT;
    rq.kind = (Ccip__Intake__CallKind)ctl_int(a, "KIND");
    rq.version = (int32_t)ctl_int(a, "version");
    return ctl_send(o, a, &rq.base);
}

/* ---- cases ------------------------------------------------------------------------ */

/* Exactly one of the positional `arg` and the option `option`. */
static int s_one_of(const ctl_args *a, const char *arg, const char *option)
{
    if (ctl_given(a, arg) == !ctl_given(a, option))
        return 0;
    fprintf(stderr, "ccipctl: give either %s or --%s\n", arg, option);
    return -1;
}

static const ctl_arg A_CASE_GET[] = {
    CTL_STR("CASE_ID", CTL_ARG_OPTIONAL), CTL_STR("application", 0), {0}};

static int s_case_get(ctl_opts *o, ctl_args *a)
{
    if (s_one_of(a, "CASE_ID", "application") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__GetCaseRequest rq = CCIP__EVALUATION__GET_CASE_REQUEST__INIT;
    rq.case_id = ctl_str(a, "CASE_ID");
    rq.application_id = ctl_str(a, "application");
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_CASE_LIST[] = {
    CTL_ENUM("status", &ccip__evaluation__case_status__descriptor, "CASE_", 0),
    KIND("kind", 0),
    CTL_STR("after", 0),
    NUMBER("limit", 0),
    {0}};

static int s_case_list(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__ListCasesRequest rq = CCIP__EVALUATION__LIST_CASES_REQUEST__INIT;
    rq.status = (Ccip__Evaluation__CaseStatus)ctl_int(a, "status");
    rq.kind = (Ccip__Intake__CallKind)ctl_int(a, "kind");
    rq.after_id = ctl_str(a, "after");
    rq.limit = (int32_t)ctl_int(a, "limit");
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_CASE_NOTE[] = {CTL_STR("CASE_ID", CTL_ARG), CTL_STR("note", 0), {0}};

static int s_case_submit(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__SubmitToOfficeRequest rq = CCIP__EVALUATION__SUBMIT_TO_OFFICE_REQUEST__INIT;
    rq.case_id = ctl_str(a, "CASE_ID");
    rq.note = ctl_str(a, "note");
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_CASE_DECIDE[] = {
    CTL_STR("CASE_ID", CTL_ARG),
    CTL_ENUM("outcome", &ccip__evaluation__outcome__descriptor, "DECISION_", CTL_REQUIRED),
    CTL_STR("reasons", 0),
    CTL_YUAN("amount", 0),
    CTL_ENUM("return-to", &ccip__evaluation__return_to__descriptor, "RETURN_TO_", 0),
    {0}};

/* decide CASE --outcome approved|declined|returned --reasons R [--amount YUAN]
 * [--return-to investigation|review|both] */
static int s_case_decide(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__DecideRequest rq = CCIP__EVALUATION__DECIDE_REQUEST__INIT;
    rq.case_id = ctl_str(a, "CASE_ID");
    rq.reasons = ctl_str(a, "reasons");
    rq.outcome = (Ccip__Evaluation__Outcome)ctl_int(a, "outcome");
    rq.return_to = (Ccip__Evaluation__ReturnTo)ctl_int(a, "return-to");
    rq.recommended_fen = ctl_int(a, "amount");
    return ctl_send(o, a, &rq.base);
}

/* ---- assignment ------------------------------------------------------------------- */

static const ctl_arg A_ASSIGN[] = {CTL_STR("CASE_ID", CTL_ARG), CTL_STR("pick", CTL_REPEATED), {0}};

/* assign propose|make CASE [--pick expert:ID[:override reason]]...; the
 * table line's type says which. */
static int s_assign(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__AssignRequest rq = CCIP__EVALUATION__ASSIGN_REQUEST__INIT;
    rq.case_id = ctl_str(a, "CASE_ID");
    rq.n_picks = (size_t)ctl_given(a, "pick");
    Ccip__Evaluation__Pick *store = ctl_alloc(a, rq.n_picks * sizeof *store);
    rq.picks = ctl_alloc(a, rq.n_picks * sizeof *rq.picks);
    for (size_t i = 0; i < rq.n_picks; i++) {
        store[i] = (Ccip__Evaluation__Pick)CCIP__EVALUATION__PICK__INIT;
        char *id, *reason;
        char *kind = ctl_cut(a, ctl_str_at(a, "pick", (int)i), ':', 0, &id);
        if (!id) {
            fprintf(stderr, "ccipctl: --pick is expert:ID[:override reason] or agency:ID[:...]\n");
            return CTL_USAGE;
        }
        store[i].id = ctl_cut(a, id, ':', 0, &reason);
        store[i].override_reason = reason ? reason : "";
        int k;
        if (ctl_parse_enum("--pick", &ccip__evaluation__subject_kind__descriptor, NULL, kind, &k) <
            0)
            return CTL_USAGE;
        store[i].kind = (Ccip__Evaluation__SubjectKind)k;
        rq.picks[i] = &store[i];
    }
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_REASSIGN[] = {CTL_STR("CASE_ID", CTL_ARG),
                                     CTL_STR("expert", 0),
                                     CTL_STR("agency", 0),
                                     CTL_STR("reason", 0),
                                     {0}};

/* assign reassign CASE --expert ID|--agency ID --reason R */
static int s_reassign(ctl_opts *o, ctl_args *a)
{
    if (!ctl_given(a, "expert") == !ctl_given(a, "agency")) {
        fprintf(stderr, "ccipctl: give either --expert or --agency\n");
        return CTL_USAGE;
    }
    Ccip__Evaluation__ReassignRequest rq = CCIP__EVALUATION__REASSIGN_REQUEST__INIT;
    rq.case_id = ctl_str(a, "CASE_ID");
    rq.kind = ctl_given(a, "expert") ? CCIP__EVALUATION__SUBJECT_KIND__EXPERT
                                     : CCIP__EVALUATION__SUBJECT_KIND__AGENCY;
    rq.id = ctl_str_or(a, "expert", ctl_str(a, "agency"));
    rq.reason = ctl_str(a, "reason");
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_CASE_REASON[] = {CTL_STR("CASE_ID", CTL_ARG), CTL_STR("reason", 0), {0}};

/* task decline CASE --reason R (as the expert or agency) */
static int s_decline(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__DeclineRequest rq = CCIP__EVALUATION__DECLINE_REQUEST__INIT;
    rq.case_id = ctl_str(a, "CASE_ID");
    rq.reason = ctl_str(a, "reason");
    return ctl_send(o, a, &rq.base);
}

/* ---- reviews and reports ---------------------------------------------------------- */

static const ctl_arg A_DECLARE[] = {
    CTL_STR("CASE_ID", CTL_ARG), CTL_FLAG("has-conflict"), CTL_STR("statement", 0), {0}};

static int s_declare(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__DeclareRequest rq = CCIP__EVALUATION__DECLARE_REQUEST__INIT;
    rq.case_id = ctl_str(a, "CASE_ID");
    rq.conflict = ctl_given(a, "has-conflict") > 0;
    rq.statement = ctl_str(a, "statement");
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_REVIEW_SUBMIT[] = {CTL_STR("CASE_ID", CTL_ARG),
                                          NUMBER("sheet-version", CTL_REQUIRED),
                                          CTL_STR("score", CTL_REPEATED),
                                          CTL_STR("comment", 0),
                                          {0}};

/* review submit CASE --sheet-version N --score code=score:comment... [--comment C] */
static int s_review_submit(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__SubmitReviewRequest rq = CCIP__EVALUATION__SUBMIT_REVIEW_REQUEST__INIT;
    rq.case_id = ctl_str(a, "CASE_ID");
    rq.comment = ctl_str(a, "comment");
    rq.sheet_version = (int32_t)ctl_int(a, "sheet-version");
    rq.n_scores = (size_t)ctl_given(a, "score");
    Ccip__Evaluation__CriterionScore *store = ctl_alloc(a, rq.n_scores * sizeof *store);
    rq.scores = ctl_alloc(a, rq.n_scores * sizeof *rq.scores);
    for (size_t i = 0; i < rq.n_scores; i++) {
        store[i] = (Ccip__Evaluation__CriterionScore)CCIP__EVALUATION__CRITERION_SCORE__INIT;
        char *score, *comment = NULL;
        char *criterion = ctl_cut(a, ctl_str_at(a, "score", (int)i), '=', 0, &score);
        char *points = score ? ctl_cut(a, score, ':', 0, &comment) : NULL;
        if (!comment) {
            fprintf(stderr, "ccipctl: --score is criterion=score:comment, e.g. "
                            "innovation=8:\"new business model\"\n");
            return CTL_USAGE;
        }
        int64_t v;
        if (ctl_parse_int("--score", points, -1000000000, 1000000000, &v) < 0)
            return CTL_USAGE;
        store[i].criterion = criterion;
        store[i].score = (int32_t)v;
        store[i].comment = comment;
        rq.scores[i] = &store[i];
    }
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_REPORT[] = {
    CTL_STR("CASE_ID", CTL_ARG),
    CTL_TIME("visit", CTL_REQUIRED),
    CTL_STR("findings", 0),
    CTL_ENUM("verdict", &ccip__evaluation__verdict__descriptor, "VERDICT_", CTL_REQUIRED),
    CTL_STR("document", CTL_REPEATED),
    {0}};

/* report file CASE --visit TIME --findings TEXT --verdict V [--document name:sha256[:type]]... */
static int s_report(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__FileReportRequest rq = CCIP__EVALUATION__FILE_REPORT_REQUEST__INIT;
    rq.case_id = ctl_str(a, "CASE_ID");
    rq.findings = ctl_str(a, "findings");
    rq.visit_date_us = ctl_int(a, "visit");
    rq.verdict = (Ccip__Evaluation__Verdict)ctl_int(a, "verdict");
    rq.n_documents = (size_t)ctl_given(a, "document");
    Ccip__Evaluation__ReportDocument *store = ctl_alloc(a, rq.n_documents * sizeof *store);
    rq.documents = ctl_alloc(a, rq.n_documents * sizeof *rq.documents);
    for (size_t i = 0; i < rq.n_documents; i++) {
        store[i] = (Ccip__Evaluation__ReportDocument)CCIP__EVALUATION__REPORT_DOCUMENT__INIT;
        char *sha, *type;
        store[i].name = ctl_cut(a, ctl_str_at(a, "document", (int)i), ':', 0, &sha);
        if (!sha) {
            fprintf(stderr, "ccipctl: --document is name:sha256[:media type]\n");
            return CTL_USAGE;
        }
        store[i].sha256 = ctl_cut(a, sha, ':', 0, &type);
        store[i].media_type = type ? type : "";
        rq.documents[i] = &store[i];
    }
    return ctl_send(o, a, &rq.base);
}

/* ---- designations and tasks ----------------------------------------------------- */

static const ctl_arg A_DESIGNATION_GET[] = {
    CTL_STR("ID", CTL_ARG_OPTIONAL), CTL_STR("certificate", 0), {0}};

static int s_designation_get(ctl_opts *o, ctl_args *a)
{
    if (s_one_of(a, "ID", "certificate") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__GetDesignationRequest rq = CCIP__EVALUATION__GET_DESIGNATION_REQUEST__INIT;
    rq.designation_id = ctl_str(a, "ID");
    rq.certificate_no = ctl_str(a, "certificate");
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_DESIGNATION_LIST[] = {
    CTL_ENUM("status", &ccip__evaluation__designation_status__descriptor, "DESIGNATION_", 0),
    CTL_STR("holder", 0),
    CTL_FLAG("due"),
    NUMBER("limit", 0),
    {0}};

static int s_designation_list(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__ListDesignationsRequest rq =
        CCIP__EVALUATION__LIST_DESIGNATIONS_REQUEST__INIT;
    rq.status = (Ccip__Evaluation__DesignationStatus)ctl_int(a, "status");
    rq.holder_uscc = ctl_str(a, "holder");
    rq.reevaluation_due = ctl_given(a, "due") > 0;
    rq.limit = (int32_t)ctl_int(a, "limit");
    return ctl_send(o, a, &rq.base);
}

static int s_designation_revoke(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__RevokeDesignationRequest rq =
        CCIP__EVALUATION__REVOKE_DESIGNATION_REQUEST__INIT;
    rq.designation_id = ctl_str(a, "ID");
    rq.reason = ctl_str(a, "reason");
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_ID_NOTE[] = {CTL_STR("ID", CTL_ARG), CTL_STR("note", 0), {0}};

static int s_designation_reevaluate(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__ReevaluateRequest rq = CCIP__EVALUATION__REEVALUATE_REQUEST__INIT;
    rq.designation_id = ctl_str(a, "ID");
    rq.note = ctl_str(a, "note");
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_TASK_LIST[] = {
    CTL_FLAG("overdue"), CTL_STR("subject", 0), NUMBER("limit", 0), {0}};

static int s_task_list(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__ListTasksRequest rq = CCIP__EVALUATION__LIST_TASKS_REQUEST__INIT;
    rq.overdue_only = ctl_given(a, "overdue") > 0;
    rq.subject_id = ctl_str(a, "subject");
    rq.limit = (int32_t)ctl_int(a, "limit");
    return ctl_send(o, a, &rq.base);
}

static int s_task_sweep(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__SweepRequest rq = CCIP__EVALUATION__SWEEP_REQUEST__INIT;
    return ctl_send(o, a, &rq.base);
}

/* ---- the table ---------------------------------------------------------------------- */

#define R(name) &ccip__evaluation__##name##_reply__descriptor
#define T(name) "evaluation." name ".v1"

static const ctl_command S_COMMANDS[] = {
    {"agency register",
     "ID --name N --uscc CODE --districts D,D|all --capacity N [--qualification Q] "
     "[--conflict CODE[:note]]...",
     A_AGENCY_REGISTER, T("agency.register"), R(agency), s_print, .run = s_agency_register},
    {"agency activate", "ID --reason R", A_ID_REASON, T("agency.set_active"), R(agency), s_print,
     .run = s_activate},
    {"agency deactivate", "ID --reason R", A_ID_REASON, T("agency.set_active"), R(agency), s_print,
     .run = s_deactivate},
    {"agency get", "ID", A_ID, T("agency.get"), R(agency), s_print, .run = s_register_get},
    {"agency list", "[--district D] [--active] [--after ID] [--limit N]", A_REGISTER_LIST,
     T("agency.list"), R(list_agencies), s_print, .run = s_register_list},
    {"expert register",
     "ID --name N --fields F,F --affiliation CODE [--affiliation-name N] --district D "
     "--max-reviews N [--phone P] [--email E] [--conflict CODE[:note]]...",
     A_EXPERT_REGISTER, T("expert.register"), R(expert), s_print, .run = s_expert_register},
    {"expert activate", "ID --reason R", A_ID_REASON, T("expert.set_active"), R(expert), s_print,
     .run = s_activate},
    {"expert deactivate", "ID --reason R", A_ID_REASON, T("expert.set_active"), R(expert), s_print,
     .run = s_deactivate},
    {"expert get", "ID", A_ID, T("expert.get"), R(expert), s_print, .run = s_register_get},
    {"expert list", "[--field F] [--district D] [--active] [--after ID] [--limit N]",
     A_REGISTER_LIST, T("expert.list"), R(list_experts), s_print, .run = s_register_list},
    {"sheet publish",
     "KIND --criterion code:weight:max[:title]... --threshold POINTS --panel K --fields F,F",
     A_SHEET_PUBLISH, T("sheet.publish"), R(sheet), s_print, .run = s_sheet_publish},
    {"sheet get", "KIND [--version N]", A_SHEET_GET, T("sheet.get"), R(sheet), s_print,
     .run = s_sheet_get},
    {"case get", "CASE_ID | --application APPLICATION_ID", A_CASE_GET, T("case.get"), R(case),
     s_print, .run = s_case_get},
    {"case list", "[--status S] [--kind K] [--after CASE_ID] [--limit N]", A_CASE_LIST,
     T("case.list"), R(list_cases), s_print, .run = s_case_list},
    {"case submit", "CASE_ID [--note N]            (staff: to the office)", A_CASE_NOTE,
     T("case.submit"), R(case), s_print, .run = s_case_submit},
    {"case decide",
     "CASE_ID --outcome approved|declined|returned --reasons R [--amount YUAN] "
     "[--return-to investigation|review|both]   (office)",
     A_CASE_DECIDE, T("case.decide"), R(case), s_print, .run = s_case_decide},
    {"assign propose", "CASE_ID [--pick expert:ID[:override reason]]...   (dry run)", A_ASSIGN,
     T("assignment.propose"), R(assign), s_print, .run = s_assign},
    {"assign make", "CASE_ID [--pick expert:ID[:override reason]] [--pick agency:ID[:...]]",
     A_ASSIGN, T("assignment.make"), R(assign), s_print, .run = s_assign},
    {"assign reassign", "CASE_ID --expert ID|--agency ID --reason R", A_REASSIGN,
     T("assignment.reassign"), R(assign), s_print, .run = s_reassign},
    {"task decline", "CASE_ID --reason R        (the assigned expert or agency)", A_CASE_REASON,
     T("assignment.decline"), R(assign), s_print, .run = s_decline},
    {"task list", "[--overdue] [--subject ID] [--limit N]", A_TASK_LIST, T("task.list"),
     R(list_tasks), s_print, .run = s_task_list},
    {"task sweep", "                             (publish overdue tasks and reminders)", NULL,
     T("task.sweep"), R(sweep), s_print, .run = s_task_sweep},
    {"review declare", "CASE_ID [--has-conflict --statement S]   (the assigned expert)", A_DECLARE,
     T("review.declare"), R(review), s_print, .run = s_declare},
    {"review submit", "CASE_ID --sheet-version N --score criterion=score:comment... [--comment C]",
     A_REVIEW_SUBMIT, T("review.submit"), R(review), s_print, .run = s_review_submit},
    {"report file",
     "CASE_ID --visit DATE --findings TEXT --verdict meets|does-not-meet|meets-with-conditions "
     "[--document name:sha256[:type]]...   (the assigned agency)",
     A_REPORT, T("investigation.report"), R(investigation), s_print, .run = s_report},
    {"designation get", "ID | --certificate NO", A_DESIGNATION_GET, T("designation.get"),
     R(designation), s_print, .run = s_designation_get},
    {"designation list", "[--status active|revoked|expired] [--holder CODE] [--due]",
     A_DESIGNATION_LIST, T("designation.list"), R(list_designations), s_print,
     .run = s_designation_list},
    {"designation revoke", "ID --reason R             (office, admin)", A_ID_REASON,
     T("designation.revoke"), R(designation), s_print, .run = s_designation_revoke},
    {"designation reevaluate", "ID --note N", A_ID_NOTE, T("designation.reevaluate"),
     R(designation), s_print, .run = s_designation_reevaluate},
};

static const ctl_service S_EVALUATION = {
    .name = "evaluation",
    .header = "usage: ccipctl [--role ROLE --actor ID] evaluation GROUP COMMAND ...\n",
    .list_prefix = "  evaluation ",
    .footer =
        "KIND is cluster_identification, talent_base_identification or special_fund_project.\n"
        "Experts act with --role expert --actor expert:ID, agencies with --role agency\n"
        "--actor agency:ID, the office with --role office.\n",
    .commands = S_COMMANDS,
    .ncommands = sizeof S_COMMANDS / sizeof S_COMMANDS[0],
};

int ctl_evaluation(ctl_opts *o, int argc, char **argv)
{
    return ctl_service_run(o, &S_EVALUATION, argc, argv);
}
