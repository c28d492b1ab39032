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
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ctl.h"

#define SERVICE    "evaluation"
#define ARGS_MAX   64 /* options one command line may hold */
#define REPEAT_MAX 32 /* values of a repeated option (--pick, --score, ...) */

/* ---- output, driven by the message descriptors ----------------------------- */

static size_t s_elem_size(const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(int64_t);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return sizeof(int32_t);
    }
}

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
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, v);
        printf("%*s%s: %s\n", depth * 2, "", label, ev ? ev->name : "?");
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
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
            s_text_value(fd, base + fd->offset, depth, fd->name);
            continue;
        }
        size_t n = *(const size_t *)(base + fd->quantifier_offset);
        const char *items = *(const char *const *)(base + fd->offset);
        for (size_t k = 0; k < n; k++) {
            char label[96];
            snprintf(label, sizeof label, "%s[%zu]", fd->name, k);
            s_text_value(fd, items + k * s_elem_size(fd), depth, label);
        }
    }
}

static void s_print(const ctl_opts *o, const ProtobufCMessage *m)
{
    if (o->json) {
        ctl_json_message(stdout, m);
        fputc('\n', stdout);
    } else {
        s_text_message(m, 0);
    }
}

/* Sends a command and prints the reply decoded as desc. Returns the exit
 * code. */
static int s_run(ctl_opts *o, const char *type, const ProtobufCMessage *rq,
                 const ProtobufCMessageDescriptor *desc)
{
    ccip_client *c = ctl_connect(o);
    if (!c)
        return CTL_LOCAL;
    size_t len = protobuf_c_message_get_packed_size(rq);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        ccip_client_destroy(&c);
        return CTL_LOCAL;
    }
    protobuf_c_message_pack(rq, buf);
    int code;
    Ccip__Envelope *reply = ctl_call(o, c, SERVICE, type, buf, len, &code);
    free(buf);
    if (reply) {
        char err[256];
        ProtobufCMessage *m = ccip_payload_unpack(desc, reply->payload.data, reply->payload.len,
                                                  reply->payload.len + 1, err, sizeof err);
        if (m) {
            s_print(o, m);
            protobuf_c_message_free_unpacked(m, NULL);
        } else {
            fprintf(stderr, "ccipctl: could not decode the reply: %s\n", err);
            code = CTL_REFUSED;
        }
        ccip_envelope_free(&reply);
    }
    ccip_client_destroy(&c);
    return code;
}

/* ---- arguments ---------------------------------------------------------------- */

typedef struct {
    const char *pos[4]; /* positional arguments after the verb */
    int npos;
    const char *key[ARGS_MAX]; /* "--name" without the dashes */
    const char *val[ARGS_MAX]; /* its value, or NULL for a flag */
    int n;
} s_args;

/* Options that take no value. */
static int s_is_flag(const char *key)
{
    static const char *const flags[] = {"active", "overdue", "due", "has-conflict", "help", NULL};
    for (int i = 0; flags[i]; i++)
        if (strcmp(key, flags[i]) == 0)
            return 1;
    return 0;
}

/* Splits argv (after the verb) into positionals and options. Returns 0, or
 * -1 after printing why. */
static int s_parse(int argc, char **argv, s_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) {
            if (a->npos >= 4) {
                fprintf(stderr, "ccipctl: unexpected argument \"%s\"\n", argv[i]);
                return -1;
            }
            a->pos[a->npos++] = argv[i];
            continue;
        }
        if (a->n >= ARGS_MAX) {
            fprintf(stderr, "ccipctl: too many options\n");
            return -1;
        }
        const char *key = argv[i] + 2;
        a->key[a->n] = key;
        if (!s_is_flag(key)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "ccipctl: option --%s needs a value\n", key);
                return -1;
            }
            a->val[a->n] = argv[++i];
        }
        a->n++;
    }
    return 0;
}

/* The last value of --key, or def. */
static const char *s_opt(const s_args *a, const char *key, const char *def)
{
    const char *v = def;
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->key[i], key) == 0)
            v = a->val[i] ? a->val[i] : "";
    return v;
}

static int s_flag(const s_args *a, const char *key)
{
    return s_opt(a, key, NULL) != NULL;
}

/* Every value of a repeated --key into out (at most REPEAT_MAX). */
static size_t s_opts(const s_args *a, const char *key, char **out)
{
    size_t n = 0;
    for (int i = 0; i < a->n && n < REPEAT_MAX; i++)
        if (strcmp(a->key[i], key) == 0 && a->val[i])
            out[n++] = (char *)a->val[i];
    return n;
}

/* Checks that only `known` options (space-separated) were given. */
static int s_only(const s_args *a, const char *known)
{
    for (int i = 0; i < a->n; i++) {
        char word[48];
        snprintf(word, sizeof word, " %s ", a->key[i]);
        char padded[512];
        snprintf(padded, sizeof padded, " %s ", known);
        if (!strstr(padded, word)) {
            fprintf(stderr, "ccipctl: unknown option --%s\n", a->key[i]);
            return -1;
        }
    }
    return 0;
}

/* Splits "a,b,c" in place into out. */
static size_t s_split(char *s, char **out, size_t max)
{
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(s, ",", &save); t && n < max;
         t = strtok_r(NULL, ",", &save))
        out[n++] = t;
    return n;
}

static int s_int(const char *option, const char *text, int *out)
{
    char *end;
    long v = strtol(text ? text : "", &end, 10);
    if (!text || !*text || *end || v < -1000000000L || v > 1000000000L) {
        fprintf(stderr, "ccipctl: --%s must be a whole number, got \"%s\"\n", option,
                text ? text : "");
        return -1;
    }
    *out = (int)v;
    return 0;
}

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

/* An enum by name in any case, "-" for "_", with an optional prefix. */
static int s_enum(const ProtobufCEnumDescriptor *d, const char *prefix, const char *option,
                  const char *text, int *out)
{
    char name[96];
    size_t n = (size_t)snprintf(name, sizeof name, "%s", prefix);
    for (const char *p = text ? text : ""; *p && n + 1 < sizeof name; p++)
        name[n++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
    name[n] = '\0';
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(d, name);
    if (!ev)
        ev = protobuf_c_enum_descriptor_get_value_by_name(d, name + strlen(prefix));
    if (!ev || ev->value == 0) {
        fprintf(stderr, "ccipctl: --%s must be one of:", option);
        for (unsigned i = 1; i < d->n_values; i++)
            fprintf(stderr, " %s", d->values[i].name);
        fputc('\n', stderr);
        return -1;
    }
    *out = ev->value;
    return 0;
}

static int s_kind(const char *option, const char *text, int *out)
{
    return s_enum(&ccip__intake__call_kind__descriptor, "", option, text, out);
}

/* ---- registers ------------------------------------------------------------------- */

static int s_conflicts(const s_args *a, Ccip__Evaluation__DeclaredConflict *store,
                       Ccip__Evaluation__DeclaredConflict **ptrs)
{
    char *values[REPEAT_MAX];
    size_t n = s_opts(a, "conflict", values);
    for (size_t i = 0; i < n; i++) {
        store[i] = (Ccip__Evaluation__DeclaredConflict)CCIP__EVALUATION__DECLARED_CONFLICT__INIT;
        char *colon = strchr(values[i], ':');
        if (colon) {
            *colon = '\0';
            store[i].note = colon + 1;
        }
        store[i].org_uscc = values[i];
        ptrs[i] = &store[i];
    }
    return (int)n;
}

static int s_agency_register(ctl_opts *o, const s_args *a)
{
    if (a->npos != 1 || s_only(a, "name uscc qualification districts capacity conflict") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__RegisterAgencyRequest rq = CCIP__EVALUATION__REGISTER_AGENCY_REQUEST__INIT;
    rq.id = (char *)a->pos[0];
    rq.name = (char *)s_opt(a, "name", "");
    rq.uscc = (char *)s_opt(a, "uscc", "");
    rq.qualification = (char *)s_opt(a, "qualification", "");
    char districts[512], *list[20];
    snprintf(districts, sizeof districts, "%s", s_opt(a, "districts", ""));
    rq.districts_served = list;
    rq.n_districts_served = s_split(districts, list, 20);
    if (s_int("capacity", s_opt(a, "capacity", "0"), &rq.capacity) < 0)
        return CTL_USAGE;
    Ccip__Evaluation__DeclaredConflict store[REPEAT_MAX], *ptrs[REPEAT_MAX];
    rq.n_declared_conflicts = (size_t)s_conflicts(a, store, ptrs);
    rq.declared_conflicts = ptrs;
    return s_run(o, "evaluation.agency.register.v1", &rq.base,
                 &ccip__evaluation__agency_reply__descriptor);
}

static int s_expert_register(ctl_opts *o, const s_args *a)
{
    if (a->npos != 1 || s_only(a, "name fields affiliation affiliation-name district max-reviews "
                                  "phone email conflict") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__RegisterExpertRequest rq = CCIP__EVALUATION__REGISTER_EXPERT_REQUEST__INIT;
    rq.id = (char *)a->pos[0];
    rq.name = (char *)s_opt(a, "name", "");
    char fields[1024], *list[REPEAT_MAX];
    snprintf(fields, sizeof fields, "%s", s_opt(a, "fields", ""));
    rq.fields = list;
    rq.n_fields = s_split(fields, list, REPEAT_MAX);
    rq.affiliation_uscc = (char *)s_opt(a, "affiliation", "");
    rq.affiliation_name = (char *)s_opt(a, "affiliation-name", "");
    rq.district = (char *)s_opt(a, "district", "");
    rq.phone = (char *)s_opt(a, "phone", "");
    rq.email = (char *)s_opt(a, "email", "");
    if (s_int("max-reviews", s_opt(a, "max-reviews", "0"), &rq.max_concurrent_reviews) < 0)
        return CTL_USAGE;
    Ccip__Evaluation__DeclaredConflict store[REPEAT_MAX], *ptrs[REPEAT_MAX];
    rq.n_declared_conflicts = (size_t)s_conflicts(a, store, ptrs);
    rq.declared_conflicts = ptrs;
    return s_run(o, "evaluation.expert.register.v1", &rq.base,
                 &ccip__evaluation__expert_reply__descriptor);
}

/* agency|expert activate|deactivate ID --reason R */
static int s_set_active(ctl_opts *o, const s_args *a, const char *group, int active)
{
    if (a->npos != 1 || s_only(a, "reason") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__SetActiveRequest rq = CCIP__EVALUATION__SET_ACTIVE_REQUEST__INIT;
    rq.id = (char *)a->pos[0];
    rq.active = active;
    rq.reason = (char *)s_opt(a, "reason", "");
    int agency = strcmp(group, "agency") == 0;
    return s_run(o, agency ? "evaluation.agency.set_active.v1" : "evaluation.expert.set_active.v1",
                 &rq.base,
                 agency ? &ccip__evaluation__agency_reply__descriptor
                        : &ccip__evaluation__expert_reply__descriptor);
}

static int s_register_get(ctl_opts *o, const s_args *a, const char *group)
{
    if (a->npos != 1 || s_only(a, "") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__GetRequest rq = CCIP__EVALUATION__GET_REQUEST__INIT;
    rq.id = (char *)a->pos[0];
    int agency = strcmp(group, "agency") == 0;
    return s_run(o, agency ? "evaluation.agency.get.v1" : "evaluation.expert.get.v1", &rq.base,
                 agency ? &ccip__evaluation__agency_reply__descriptor
                        : &ccip__evaluation__expert_reply__descriptor);
}

static int s_register_list(ctl_opts *o, const s_args *a, const char *group)
{
    if (a->npos != 0 || s_only(a, "field district active after limit") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__ListRegisterRequest rq = CCIP__EVALUATION__LIST_REGISTER_REQUEST__INIT;
    rq.field = (char *)s_opt(a, "field", "");
    rq.district = (char *)s_opt(a, "district", "");
    rq.active_only = s_flag(a, "active");
    rq.after_id = (char *)s_opt(a, "after", "");
    if (s_int("limit", s_opt(a, "limit", "0"), &rq.limit) < 0)
        return CTL_USAGE;
    int agency = strcmp(group, "agency") == 0;
    return s_run(o, agency ? "evaluation.agency.list.v1" : "evaluation.expert.list.v1", &rq.base,
                 agency ? &ccip__evaluation__list_agencies_reply__descriptor
                        : &ccip__evaluation__list_experts_reply__descriptor);
}

/* ---- score sheets ---------------------------------------------------------------- */

/* sheet publish KIND --criterion code:weight:max[:title]... --threshold P --panel K --fields */
static int s_sheet_publish(ctl_opts *o, const s_args *a)
{
    if (a->npos != 1 || s_only(a, "criterion threshold panel fields") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__PublishSheetRequest rq = CCIP__EVALUATION__PUBLISH_SHEET_REQUEST__INIT;
    int kind;
    if (s_kind("kind", a->pos[0], &kind) < 0 ||
        s_points("threshold", s_opt(a, "threshold", "0"), &rq.pass_threshold_centi) < 0 ||
        s_int("panel", s_opt(a, "panel", "0"), &rq.panel_size) < 0)
        return CTL_USAGE;
    rq.kind = (Ccip__Intake__CallKind)kind;
    char *values[REPEAT_MAX];
    size_t n = s_opts(a, "criterion", values);
    Ccip__Evaluation__Criterion store[REPEAT_MAX], *ptrs[REPEAT_MAX];
    for (size_t i = 0; i < n; i++) {
        store[i] = (Ccip__Evaluation__Criterion)CCIP__EVALUATION__CRITERION__INIT;
        char *parts[4] = {0};
        size_t np = 0;
        for (char *save = NULL, *t = strtok_r(values[i], ":", &save); t && np < 4;
             t = strtok_r(NULL, ":", &save))
            parts[np++] = t;
        if (np < 3 || s_int("criterion weight", parts[1], &store[i].weight) < 0 ||
            s_int("criterion max", parts[2], &store[i].max_score) < 0) {
            fprintf(stderr, "ccipctl: --criterion is code:weight:max[:title], e.g. "
                            "innovation:3:10:Innovation\n");
            return CTL_USAGE;
        }
        store[i].code = parts[0];
        store[i].title = parts[3] ? parts[3] : parts[0];
        ptrs[i] = &store[i];
    }
    rq.criteria = ptrs;
    rq.n_criteria = n;
    char fields[1024], *list[REPEAT_MAX];
    snprintf(fields, sizeof fields, "%s", s_opt(a, "fields", ""));
    rq.fields = list;
    rq.n_fields = s_split(fields, list, REPEAT_MAX);
    return s_run(o, "evaluation.sheet.publish.v1", &rq.base,
                 &ccip__evaluation__sheet_reply__descriptor);
}

static int s_sheet_get(ctl_opts *o, const s_args *a)
{
    if (a->npos != 1 || s_only(a, "version") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__GetSheetRequest rq = CCIP__EVALUATION__GET_SHEET_REQUEST__INIT;
    int kind;
    if (s_kind("kind", a->pos[0], &kind) < 0 ||
        s_int("version", s_opt(a, "version", "0"), &rq.version) < 0)
        return CTL_USAGE;
    rq.kind = (Ccip__Intake__CallKind)kind;
    return s_run(o, "evaluation.sheet.get.v1", &rq.base,
                 &ccip__evaluation__sheet_reply__descriptor);
}

/* ---- cases ------------------------------------------------------------------------ */

static int s_case_get(ctl_opts *o, const s_args *a)
{
    if (a->npos > 1 || (a->npos == 0) == !s_opt(a, "application", NULL) ||
        s_only(a, "application") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__GetCaseRequest rq = CCIP__EVALUATION__GET_CASE_REQUEST__INIT;
    rq.case_id = (char *)(a->npos ? a->pos[0] : "");
    rq.application_id = (char *)s_opt(a, "application", "");
    return s_run(o, "evaluation.case.get.v1", &rq.base, &ccip__evaluation__case_reply__descriptor);
}

static int s_case_list(ctl_opts *o, const s_args *a)
{
    if (a->npos != 0 || s_only(a, "status kind after limit") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__ListCasesRequest rq = CCIP__EVALUATION__LIST_CASES_REQUEST__INIT;
    int v;
    if (s_opt(a, "status", NULL)) {
        if (s_enum(&ccip__evaluation__case_status__descriptor, "CASE_", "status",
                   s_opt(a, "status", ""), &v) < 0)
            return CTL_USAGE;
        rq.status = (Ccip__Evaluation__CaseStatus)v;
    }
    if (s_opt(a, "kind", NULL)) {
        if (s_kind("kind", s_opt(a, "kind", ""), &v) < 0)
            return CTL_USAGE;
        rq.kind = (Ccip__Intake__CallKind)v;
    }
    rq.after_id = (char *)s_opt(a, "after", "");
    if (s_int("limit", s_opt(a, "limit", "0"), &rq.limit) < 0)
        return CTL_USAGE;
    return s_run(o, "evaluation.case.list.v1", &rq.base,
                 &ccip__evaluation__list_cases_reply__descriptor);
}

static int s_case_submit(ctl_opts *o, const s_args *a)
{
    if (a->npos != 1 || s_only(a, "note") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__SubmitToOfficeRequest rq = CCIP__EVALUATION__SUBMIT_TO_OFFICE_REQUEST__INIT;
    rq.case_id = (char *)a->pos[0];
    rq.note = (char *)s_opt(a, "note", "");
    return s_run(o, "evaluation.case.submit.v1", &rq.base,
                 &ccip__evaluation__case_reply__descriptor);
}

/* decide CASE --outcome approved|declined|returned --reasons R [--amount YUAN]
 * [--return-to investigation|review|both] */
static int s_case_decide(ctl_opts *o, const s_args *a)
{
    if (a->npos != 1 || s_only(a, "outcome reasons amount return-to") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__DecideRequest rq = CCIP__EVALUATION__DECIDE_REQUEST__INIT;
    rq.case_id = (char *)a->pos[0];
    rq.reasons = (char *)s_opt(a, "reasons", "");
    int v;
    if (s_enum(&ccip__evaluation__outcome__descriptor, "DECISION_", "outcome",
               s_opt(a, "outcome", ""), &v) < 0)
        return CTL_USAGE;
    rq.outcome = (Ccip__Evaluation__Outcome)v;
    if (s_opt(a, "return-to", NULL)) {
        if (s_enum(&ccip__evaluation__return_to__descriptor, "RETURN_TO_", "return-to",
                   s_opt(a, "return-to", ""), &v) < 0)
            return CTL_USAGE;
        rq.return_to = (Ccip__Evaluation__ReturnTo)v;
    }
    if (s_opt(a, "amount", NULL) && ccip_fen_parse(s_opt(a, "amount", ""), &rq.recommended_fen)) {
        fprintf(stderr, "ccipctl: --amount is yuan with at most two decimals, e.g. 600000.00\n");
        return CTL_USAGE;
    }
    return s_run(o, "evaluation.case.decide.v1", &rq.base,
                 &ccip__evaluation__case_reply__descriptor);
}

/* ---- assignment ------------------------------------------------------------------- */

/* assign propose|make CASE [--pick expert:ID[:override reason]]... */
static int s_assign(ctl_opts *o, const s_args *a, int dry_run)
{
    if (a->npos != 1 || s_only(a, "pick") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__AssignRequest rq = CCIP__EVALUATION__ASSIGN_REQUEST__INIT;
    rq.case_id = (char *)a->pos[0];
    char *values[REPEAT_MAX];
    size_t n = s_opts(a, "pick", values);
    Ccip__Evaluation__Pick store[REPEAT_MAX], *ptrs[REPEAT_MAX];
    for (size_t i = 0; i < n; i++) {
        store[i] = (Ccip__Evaluation__Pick)CCIP__EVALUATION__PICK__INIT;
        char *id = strchr(values[i], ':');
        if (!id) {
            fprintf(stderr, "ccipctl: --pick is expert:ID[:override reason] or agency:ID[:...]\n");
            return CTL_USAGE;
        }
        *id++ = '\0';
        char *reason = strchr(id, ':');
        if (reason)
            *reason++ = '\0';
        int kind;
        if (s_enum(&ccip__evaluation__subject_kind__descriptor, "", "pick", values[i], &kind) < 0)
            return CTL_USAGE;
        store[i].kind = (Ccip__Evaluation__SubjectKind)kind;
        store[i].id = id;
        store[i].override_reason = reason ? reason : "";
        ptrs[i] = &store[i];
    }
    rq.picks = ptrs;
    rq.n_picks = n;
    return s_run(o, dry_run ? "evaluation.assignment.propose.v1" : "evaluation.assignment.make.v1",
                 &rq.base, &ccip__evaluation__assign_reply__descriptor);
}

/* assign reassign CASE --expert ID|--agency ID --reason R */
static int s_reassign(ctl_opts *o, const s_args *a)
{
    if (a->npos != 1 || s_only(a, "expert agency reason") < 0 ||
        !s_opt(a, "expert", NULL) == !s_opt(a, "agency", NULL))
        return CTL_USAGE;
    Ccip__Evaluation__ReassignRequest rq = CCIP__EVALUATION__REASSIGN_REQUEST__INIT;
    rq.case_id = (char *)a->pos[0];
    rq.kind = s_opt(a, "expert", NULL) ? CCIP__EVALUATION__SUBJECT_KIND__EXPERT
                                       : CCIP__EVALUATION__SUBJECT_KIND__AGENCY;
    rq.id = (char *)s_opt(a, "expert", s_opt(a, "agency", ""));
    rq.reason = (char *)s_opt(a, "reason", "");
    return s_run(o, "evaluation.assignment.reassign.v1", &rq.base,
                 &ccip__evaluation__assign_reply__descriptor);
}

/* task decline CASE --reason R (as the expert or agency) */
static int s_decline(ctl_opts *o, const s_args *a)
{
    if (a->npos != 1 || s_only(a, "reason") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__DeclineRequest rq = CCIP__EVALUATION__DECLINE_REQUEST__INIT;
    rq.case_id = (char *)a->pos[0];
    rq.reason = (char *)s_opt(a, "reason", "");
    return s_run(o, "evaluation.assignment.decline.v1", &rq.base,
                 &ccip__evaluation__assign_reply__descriptor);
}

/* ---- reviews and reports ---------------------------------------------------------- */

static int s_declare(ctl_opts *o, const s_args *a)
{
    if (a->npos != 1 || s_only(a, "has-conflict statement") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__DeclareRequest rq = CCIP__EVALUATION__DECLARE_REQUEST__INIT;
    rq.case_id = (char *)a->pos[0];
    rq.conflict = s_flag(a, "has-conflict");
    rq.statement = (char *)s_opt(a, "statement", "");
    return s_run(o, "evaluation.review.declare.v1", &rq.base,
                 &ccip__evaluation__review_reply__descriptor);
}

/* review submit CASE --sheet-version N --score code=score:comment... [--comment C] */
static int s_review_submit(ctl_opts *o, const s_args *a)
{
    if (a->npos != 1 || s_only(a, "sheet-version score comment") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__SubmitReviewRequest rq = CCIP__EVALUATION__SUBMIT_REVIEW_REQUEST__INIT;
    rq.case_id = (char *)a->pos[0];
    rq.comment = (char *)s_opt(a, "comment", "");
    if (s_int("sheet-version", s_opt(a, "sheet-version", ""), &rq.sheet_version) < 0)
        return CTL_USAGE;
    char *values[REPEAT_MAX];
    size_t n = s_opts(a, "score", values);
    Ccip__Evaluation__CriterionScore store[REPEAT_MAX], *ptrs[REPEAT_MAX];
    for (size_t i = 0; i < n; i++) {
        store[i] = (Ccip__Evaluation__CriterionScore)CCIP__EVALUATION__CRITERION_SCORE__INIT;
        char *eq = strchr(values[i], '=');
        char *colon = eq ? strchr(eq, ':') : NULL;
        if (!eq || !colon) {
            fprintf(stderr, "ccipctl: --score is criterion=score:comment, e.g. "
                            "innovation=8:\"new business model\"\n");
            return CTL_USAGE;
        }
        *eq = '\0';
        *colon = '\0';
        if (s_int("score", eq + 1, &store[i].score) < 0)
            return CTL_USAGE;
        store[i].criterion = values[i];
        store[i].comment = colon + 1;
        ptrs[i] = &store[i];
    }
    rq.scores = ptrs;
    rq.n_scores = n;
    return s_run(o, "evaluation.review.submit.v1", &rq.base,
                 &ccip__evaluation__review_reply__descriptor);
}

/* A time: RFC 3339, or a date (midnight UTC). */
static int s_time(const char *option, const char *text, int64_t *out)
{
    char buf[64];
    if (text && strlen(text) == 10) {
        snprintf(buf, sizeof buf, "%sT00:00:00Z", text);
        text = buf;
    }
    if (!text || ccip_time_parse_us(text, out) < 0) {
        fprintf(stderr,
                "ccipctl: --%s must be a date (2026-11-20) or a time (2026-11-20T09:30:00+08:00)\n",
                option);
        return -1;
    }
    return 0;
}

/* report file CASE --visit TIME --findings TEXT --verdict V [--document name:sha256[:type]]... */
static int s_report(ctl_opts *o, const s_args *a)
{
    if (a->npos != 1 || s_only(a, "visit findings verdict document") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__FileReportRequest rq = CCIP__EVALUATION__FILE_REPORT_REQUEST__INIT;
    rq.case_id = (char *)a->pos[0];
    rq.findings = (char *)s_opt(a, "findings", "");
    int v;
    if (s_time("visit", s_opt(a, "visit", NULL), &rq.visit_date_us) < 0 ||
        s_enum(&ccip__evaluation__verdict__descriptor, "VERDICT_", "verdict",
               s_opt(a, "verdict", ""), &v) < 0)
        return CTL_USAGE;
    rq.verdict = (Ccip__Evaluation__Verdict)v;
    char *values[REPEAT_MAX];
    size_t n = s_opts(a, "document", values);
    Ccip__Evaluation__ReportDocument store[REPEAT_MAX], *ptrs[REPEAT_MAX];
    for (size_t i = 0; i < n; i++) {
        store[i] = (Ccip__Evaluation__ReportDocument)CCIP__EVALUATION__REPORT_DOCUMENT__INIT;
        char *sha = strchr(values[i], ':');
        if (!sha) {
            fprintf(stderr, "ccipctl: --document is name:sha256[:media type]\n");
            return CTL_USAGE;
        }
        *sha++ = '\0';
        char *type = strchr(sha, ':');
        if (type)
            *type++ = '\0';
        store[i].name = values[i];
        store[i].sha256 = sha;
        store[i].media_type = type ? type : "";
        ptrs[i] = &store[i];
    }
    rq.documents = ptrs;
    rq.n_documents = n;
    return s_run(o, "evaluation.investigation.report.v1", &rq.base,
                 &ccip__evaluation__investigation_reply__descriptor);
}

/* ---- designations and tasks ----------------------------------------------------- */

static int s_designation_get(ctl_opts *o, const s_args *a)
{
    if (a->npos > 1 || (a->npos == 0) == !s_opt(a, "certificate", NULL) ||
        s_only(a, "certificate") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__GetDesignationRequest rq = CCIP__EVALUATION__GET_DESIGNATION_REQUEST__INIT;
    rq.designation_id = (char *)(a->npos ? a->pos[0] : "");
    rq.certificate_no = (char *)s_opt(a, "certificate", "");
    return s_run(o, "evaluation.designation.get.v1", &rq.base,
                 &ccip__evaluation__designation_reply__descriptor);
}

static int s_designation_list(ctl_opts *o, const s_args *a)
{
    if (a->npos != 0 || s_only(a, "status holder due limit") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__ListDesignationsRequest rq =
        CCIP__EVALUATION__LIST_DESIGNATIONS_REQUEST__INIT;
    int v;
    if (s_opt(a, "status", NULL)) {
        if (s_enum(&ccip__evaluation__designation_status__descriptor, "DESIGNATION_", "status",
                   s_opt(a, "status", ""), &v) < 0)
            return CTL_USAGE;
        rq.status = (Ccip__Evaluation__DesignationStatus)v;
    }
    rq.holder_uscc = (char *)s_opt(a, "holder", "");
    rq.reevaluation_due = s_flag(a, "due");
    if (s_int("limit", s_opt(a, "limit", "0"), &rq.limit) < 0)
        return CTL_USAGE;
    return s_run(o, "evaluation.designation.list.v1", &rq.base,
                 &ccip__evaluation__list_designations_reply__descriptor);
}

static int s_designation_revoke(ctl_opts *o, const s_args *a)
{
    if (a->npos != 1 || s_only(a, "reason") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__RevokeDesignationRequest rq =
        CCIP__EVALUATION__REVOKE_DESIGNATION_REQUEST__INIT;
    rq.designation_id = (char *)a->pos[0];
    rq.reason = (char *)s_opt(a, "reason", "");
    return s_run(o, "evaluation.designation.revoke.v1", &rq.base,
                 &ccip__evaluation__designation_reply__descriptor);
}

static int s_designation_reevaluate(ctl_opts *o, const s_args *a)
{
    if (a->npos != 1 || s_only(a, "note") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__ReevaluateRequest rq = CCIP__EVALUATION__REEVALUATE_REQUEST__INIT;
    rq.designation_id = (char *)a->pos[0];
    rq.note = (char *)s_opt(a, "note", "");
    return s_run(o, "evaluation.designation.reevaluate.v1", &rq.base,
                 &ccip__evaluation__designation_reply__descriptor);
}

static int s_task_list(ctl_opts *o, const s_args *a)
{
    if (a->npos != 0 || s_only(a, "overdue subject limit") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__ListTasksRequest rq = CCIP__EVALUATION__LIST_TASKS_REQUEST__INIT;
    rq.overdue_only = s_flag(a, "overdue");
    rq.subject_id = (char *)s_opt(a, "subject", "");
    if (s_int("limit", s_opt(a, "limit", "0"), &rq.limit) < 0)
        return CTL_USAGE;
    return s_run(o, "evaluation.task.list.v1", &rq.base,
                 &ccip__evaluation__list_tasks_reply__descriptor);
}

static int s_task_sweep(ctl_opts *o, const s_args *a)
{
    if (a->npos != 0 || s_only(a, "") < 0)
        return CTL_USAGE;
    Ccip__Evaluation__SweepRequest rq = CCIP__EVALUATION__SWEEP_REQUEST__INIT;
    return s_run(o, "evaluation.task.sweep.v1", &rq.base,
                 &ccip__evaluation__sweep_reply__descriptor);
}

/* ---- the table of commands --------------------------------------------------------- */

typedef enum {
    K_AGENCY_REGISTER,
    K_EXPERT_REGISTER,
    K_ACTIVATE,
    K_DEACTIVATE,
    K_GET,
    K_LIST,
    K_OTHER,
} s_kind_of;

typedef struct {
    const char *group;
    const char *verb;
    const char *usage;
    s_kind_of kind;
    int (*fn)(ctl_opts *o, const s_args *a);
} s_command;

static int s_propose(ctl_opts *o, const s_args *a)
{
    return s_assign(o, a, 1);
}

static int s_make(ctl_opts *o, const s_args *a)
{
    return s_assign(o, a, 0);
}

static const s_command S_COMMANDS[] = {
    {"agency", "register",
     "ID --name N --uscc CODE --districts D,D|all --capacity N [--qualification Q] "
     "[--conflict CODE[:note]]...",
     K_AGENCY_REGISTER, NULL},
    {"agency", "activate", "ID --reason R", K_ACTIVATE, NULL},
    {"agency", "deactivate", "ID --reason R", K_DEACTIVATE, NULL},
    {"agency", "get", "ID", K_GET, NULL},
    {"agency", "list", "[--district D] [--active] [--after ID] [--limit N]", K_LIST, NULL},
    {"expert", "register",
     "ID --name N --fields F,F --affiliation CODE [--affiliation-name N] --district D "
     "--max-reviews N [--phone P] [--email E] [--conflict CODE[:note]]...",
     K_EXPERT_REGISTER, NULL},
    {"expert", "activate", "ID --reason R", K_ACTIVATE, NULL},
    {"expert", "deactivate", "ID --reason R", K_DEACTIVATE, NULL},
    {"expert", "get", "ID", K_GET, NULL},
    {"expert", "list", "[--field F] [--district D] [--active] [--after ID] [--limit N]", K_LIST,
     NULL},
    {"sheet", "publish",
     "KIND --criterion code:weight:max[:title]... --threshold POINTS --panel K --fields F,F",
     K_OTHER, s_sheet_publish},
    {"sheet", "get", "KIND [--version N]", K_OTHER, s_sheet_get},
    {"case", "get", "CASE_ID | --application APPLICATION_ID", K_OTHER, s_case_get},
    {"case", "list", "[--status S] [--kind K] [--after CASE_ID] [--limit N]", K_OTHER, s_case_list},
    {"case", "submit", "CASE_ID [--note N]            (staff: to the office)", K_OTHER,
     s_case_submit},
    {"case", "decide",
     "CASE_ID --outcome approved|declined|returned --reasons R [--amount YUAN] "
     "[--return-to investigation|review|both]   (office)",
     K_OTHER, s_case_decide},
    {"assign", "propose", "CASE_ID [--pick expert:ID[:override reason]]...   (dry run)", K_OTHER,
     s_propose},
    {"assign", "make", "CASE_ID [--pick expert:ID[:override reason]] [--pick agency:ID[:...]]",
     K_OTHER, s_make},
    {"assign", "reassign", "CASE_ID --expert ID|--agency ID --reason R", K_OTHER, s_reassign},
    {"task", "decline", "CASE_ID --reason R        (the assigned expert or agency)", K_OTHER,
     s_decline},
    {"task", "list", "[--overdue] [--subject ID] [--limit N]", K_OTHER, s_task_list},
    {"task", "sweep", "                             (publish overdue tasks and reminders)", K_OTHER,
     s_task_sweep},
    {"review", "declare", "CASE_ID [--has-conflict --statement S]   (the assigned expert)", K_OTHER,
     s_declare},
    {"review", "submit",
     "CASE_ID --sheet-version N --score criterion=score:comment... "
     "[--comment C]",
     K_OTHER, s_review_submit},
    {"report", "file",
     "CASE_ID --visit DATE --findings TEXT --verdict meets|does-not-meet|meets-with-conditions "
     "[--document name:sha256[:type]]...   (the assigned agency)",
     K_OTHER, s_report},
    {"designation", "get", "ID | --certificate NO", K_OTHER, s_designation_get},
    {"designation", "list", "[--status active|revoked|expired] [--holder CODE] [--due]", K_OTHER,
     s_designation_list},
    {"designation", "revoke", "ID --reason R             (office, admin)", K_OTHER,
     s_designation_revoke},
    {"designation", "reevaluate", "ID --note N", K_OTHER, s_designation_reevaluate},
};
#define NCOMMANDS (sizeof S_COMMANDS / sizeof S_COMMANDS[0])

static void s_overview(FILE *f, const char *group)
{
    fprintf(f, "usage: ccipctl [--role ROLE --actor ID] evaluation GROUP COMMAND ...\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!group || strcmp(group, S_COMMANDS[i].group) == 0)
            fprintf(f, "  evaluation %s %s %s\n", S_COMMANDS[i].group, S_COMMANDS[i].verb,
                    S_COMMANDS[i].usage);
    fputs("KIND is cluster_identification, talent_base_identification or special_fund_project.\n"
          "Experts act with --role expert --actor expert:ID, agencies with --role agency\n"
          "--actor agency:ID, the office with --role office.\n",
          f);
}

int ctl_evaluation(ctl_opts *o, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        s_overview(argc < 2 ? stderr : stdout, NULL);
        return argc < 2 ? CTL_USAGE : CTL_OK;
    }
    if (argc < 3 || strcmp(argv[2], "--help") == 0) {
        s_overview(argc < 3 ? stderr : stdout, argv[1]);
        return argc < 3 ? CTL_USAGE : CTL_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const s_command *c = &S_COMMANDS[i];
        if (strcmp(argv[1], c->group) != 0 || strcmp(argv[2], c->verb) != 0)
            continue;
        s_args a;
        if (s_parse(argc - 2, argv + 2, &a) < 0) {
            fprintf(stderr, "usage: ccipctl evaluation %s %s %s\n", c->group, c->verb, c->usage);
            return CTL_USAGE;
        }
        if (s_flag(&a, "help")) {
            printf("usage: ccipctl evaluation %s %s %s\n", c->group, c->verb, c->usage);
            return CTL_OK;
        }
        int rc;
        switch (c->kind) {
        case K_AGENCY_REGISTER:
            rc = s_agency_register(o, &a);
            break;
        case K_EXPERT_REGISTER:
            rc = s_expert_register(o, &a);
            break;
        case K_ACTIVATE:
        case K_DEACTIVATE:
            rc = s_set_active(o, &a, c->group, c->kind == K_ACTIVATE);
            break;
        case K_GET:
            rc = s_register_get(o, &a, c->group);
            break;
        case K_LIST:
            rc = s_register_list(o, &a, c->group);
            break;
        default:
            rc = c->fn(o, &a);
            break;
        }
        if (rc == CTL_USAGE)
            fprintf(stderr, "usage: ccipctl evaluation %s %s %s\n", c->group, c->verb, c->usage);
        return rc;
    }
    fprintf(stderr, "ccipctl: unknown command \"evaluation %s %s\"\n", argv[1], argv[2]);
    s_overview(stderr, NULL);
    return CTL_USAGE;
}
