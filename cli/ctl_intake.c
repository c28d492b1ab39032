/*
 * ccipctl intake ...: every operation of the intake service (calls, the
 * applicant register, applications and their documents) from the command
 * line. Replies are printed as tables for people or, with --json, as one
 * JSON object that mirrors the reply message (proto/ccip/intake.proto):
 * enum values by name, int64 as numbers, bytes in base64.
 *
 * Who asks is the global --role and --actor: staff act as "--role staff
 * --actor <their id>", an applicant organisation as "--role applicant
 * --actor org:<unified social credit code>".
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ccip/intake.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_sock.h"
#include "ctl.h"

#define SERVICE "intake"
/* Room a document command needs besides the file: envelope and fields. */
#define DOCUMENT_OVERHEAD (64 * 1024)
#define SUMMARY_FILE_MAX  (64 * 1024)

/* ---- JSON, driven by the message descriptors ------------------------------ */

static void s_json(const ProtobufCMessage *m)
{
    ctl_json_message(stdout, m);
    fputc('\n', stdout);
}

/* ---- values ------------------------------------------------------------------ */

static const char *s_enum_name(const ProtobufCEnumDescriptor *d, int v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    return ev ? ev->name : "?";
}

/* Parses an enum value by name, in any case. Returns 0 or -1 after printing
 * the names it accepts. */
static int s_enum_parse(const ProtobufCEnumDescriptor *d, const char *option, const char *text,
                        int *out)
{
    char upper[64];
    size_t i = 0;
    for (; text[i] && i + 1 < sizeof upper; i++)
        upper[i] = (char)(text[i] >= 'a' && text[i] <= 'z' ? text[i] - 'a' + 'A' : text[i]);
    upper[i] = '\0';
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(d, upper);
    if (!ev) {
        /* Applicant statuses are written without their prefix too. */
        char prefixed[80];
        snprintf(prefixed, sizeof prefixed, "APPLICANT_%s", upper);
        ev = protobuf_c_enum_descriptor_get_value_by_name(d, prefixed);
    }
    if (ev && ev->value != 0) {
        *out = ev->value;
        return 0;
    }
    fprintf(stderr, "ccipctl: %s must be one of", option);
    for (unsigned k = 0; k < d->n_values; k++)
        if (d->values[k].value != 0)
            fprintf(stderr, " %s", d->values[k].name);
    fprintf(stderr, ", got \"%s\"\n", text);
    return -1;
}

static int s_int(const char *option, const char *text, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        fprintf(stderr,
                "ccipctl: %s must be a whole number from %" PRId64 " to %" PRId64 ", got \"%s\"\n",
                option, min, max, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int s_yuan(const char *option, const char *text, int64_t *fen)
{
    if (ccip_fen_parse(text, fen) == 0)
        return 0;
    fprintf(stderr,
            "ccipctl: %s must be an amount in yuan with at most two decimals, such as "
            "1500000 or 1500000.50, got \"%s\"\n",
            option, text);
    return -1;
}

/* RFC 3339 ("2027-03-01T09:00:00+08:00", "...Z") or a date ("2027-03-01",
 * midnight UTC). */
static int s_time(const char *option, const char *text, int64_t *us)
{
    char buf[40];
    if (strlen(text) == 10 && text[4] == '-' && text[7] == '-') {
        snprintf(buf, sizeof buf, "%sT00:00:00Z", text);
        text = buf;
    }
    if (ccip_time_parse_us(text, us) == 0)
        return 0;
    fprintf(stderr,
            "ccipctl: %s must be a time such as 2027-03-01T09:00:00+08:00, "
            "2027-03-01T01:00:00Z or a date 2027-03-01 (UTC midnight), got \"%s\"\n",
            option, text);
    return -1;
}

static void s_when(int64_t us, char *buf, size_t len)
{
    if (!us) {
        snprintf(buf, len, "-");
        return;
    }
    ccip_time_format_us(us, buf, len);
    char *dot = strchr(buf, '.');
    if (dot && strcmp(dot, ".000000Z") == 0)
        memcpy(dot, "Z", 2);
}

static const char *s_money(int64_t fen, char *buf, size_t len)
{
    ccip_fen_format(fen, buf, len);
    return buf;
}

/* Reads a whole file of at most max bytes. Returns a malloc'd buffer (NUL
 * added) or NULL after printing why. */
static uint8_t *s_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) < 0) {
        fprintf(stderr, "ccipctl: could not read %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    if (st.st_size < 0 || (size_t)st.st_size > max) {
        fprintf(stderr,
                "ccipctl: %s is %lld bytes; at most %zu fit in one message (the service may "
                "accept less: intake.max_document_bytes)\n",
                path, (long long)st.st_size, max);
        fclose(f);
        return NULL;
    }
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    int bad = !buf || n != (size_t)st.st_size || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "ccipctl: could not read %s\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static const char *s_media_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".pdf", "application/pdf"},
        {".ofd", "application/ofd"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".png", "image/png"},
        {".txt", "text/plain"},
        {".csv", "text/csv"},
        {".zip", "application/zip"},
        {".doc", "application/msword"},
        {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
        {".xls", "application/vnd.ms-excel"},
        {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++) {
        const char *a = dot, *b = types[i].ext;
        while (*a && *b && (*a | 0x20) == *b) {
            a++;
            b++;
        }
        if (!*a && !*b)
            return types[i].type;
    }
    return "application/octet-stream";
}

/* ---- talking to intake ----------------------------------------------------- */

/* Sends one command (connecting *c first when needed) and decodes the
 * reply as reply_desc into *out. Returns a CTL_ exit code. */
static int s_call(ctl_opts *o, ccip_client **c, const char *type, const ProtobufCMessage *rq,
                  const ProtobufCMessageDescriptor *reply_desc, ProtobufCMessage **out)
{
    *out = NULL;
    if (!*c && !(*c = ctl_connect(o)))
        return CTL_LOCAL;
    size_t len = protobuf_c_message_get_packed_size(rq);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        fprintf(stderr, "ccipctl: out of memory\n");
        return CTL_LOCAL;
    }
    protobuf_c_message_pack(rq, buf);
    int code;
    Ccip__Envelope *reply = ctl_call(o, *c, SERVICE, type, buf, len, &code);
    free(buf);
    if (!reply)
        return code;
    char err[256];
    *out = ccip_payload_unpack(reply_desc, reply->payload.data, reply->payload.len,
                               reply->payload.len + 1, err, sizeof err);
    ccip_envelope_free(&reply);
    if (!*out) {
        fprintf(stderr, "ccipctl: could not decode intake's reply: %s\n", err);
        return CTL_REFUSED;
    }
    return CTL_OK;
}

/* Sends and prints the reply with `print` (or as JSON), then frees it. */
static int s_run(ctl_opts *o, const char *type, const ProtobufCMessage *rq,
                 const ProtobufCMessageDescriptor *reply_desc,
                 void (*print)(const ProtobufCMessage *reply))
{
    ccip_client *c = NULL;
    ProtobufCMessage *reply = NULL;
    int code = s_call(o, &c, type, rq, reply_desc, &reply);
    if (code == CTL_OK) {
        if (o->json)
            s_json(reply);
        else
            print(reply);
        protobuf_c_message_free_unpacked(reply, NULL);
    }
    ccip_client_destroy(&c);
    return code;
}

/* ---- printing for people ----------------------------------------------------- */

static void s_print_call(const ProtobufCMessage *m)
{
    const Ccip__Intake__Call *c = ((const Ccip__Intake__CallReply *)m)->call;
    if (!c)
        return;
    char a[40], b[40], money[32];
    printf("call       %s\n", c->id);
    printf("title      %s\n", c->title);
    printf("kind       %s, year %d\n", s_enum_name(&ccip__intake__call_kind__descriptor, c->kind),
           c->year);
    s_when(c->opens_at_us, a, sizeof a);
    s_when(c->closes_at_us, b, sizeof b);
    printf("window     %s .. %s (%s)\n", a, b,
           c->accepting ? "accepting submissions now" : "not accepting submissions now");
    if (c->closed_at_us) {
        s_when(c->closed_at_us, a, sizeof a);
        printf("closed     %s%s%s%s\n", a, c->closed_at_us < c->closes_at_us ? " by staff" : "",
               c->close_reason[0] ? ": " : "", c->close_reason);
    }
    printf("documents  ");
    for (size_t i = 0; i < c->n_required_documents; i++)
        printf("%s%s", i ? ", " : "", c->required_documents[i]);
    printf("%s\n", c->n_required_documents ? "" : "(none required)");
    printf("eligible   ");
    for (size_t i = 0; i < c->n_eligible_types; i++)
        printf("%s%s", i ? ", " : "",
               s_enum_name(&ccip__intake__organisation_type__descriptor, c->eligible_types[i]));
    printf("%s\n", c->n_eligible_types ? "" : "anyone");
    if (c->kind == CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT)
        printf("fund       %s, at most %s yuan per project\n", c->fund_programme_code,
               s_money(c->max_request_fen, money, sizeof money));
    s_when(c->opened_at_us, a, sizeof a);
    printf("opened by  %s at %s\n", c->opened_by, a);
}

static void s_print_calls(const ProtobufCMessage *m)
{
    const Ccip__Intake__ListCallsReply *r = (const Ccip__Intake__ListCallsReply *)m;
    printf("%-36s  %-26s  %-4s  %-20s  %-20s  %-3s  %s\n", "CALL", "KIND", "YEAR", "OPENS",
           "CLOSES", "NOW", "TITLE");
    for (size_t i = 0; i < r->n_calls; i++) {
        const Ccip__Intake__Call *c = r->calls[i];
        char a[40], b[40];
        s_when(c->opens_at_us, a, sizeof a);
        s_when(c->closes_at_us, b, sizeof b);
        printf("%-36s  %-26s  %-4d  %-20s  %-20s  %-3s  %s\n", c->id,
               s_enum_name(&ccip__intake__call_kind__descriptor, c->kind), c->year, a, b,
               c->accepting ? "yes" : "no", c->title);
    }
    printf("(%zu call%s)\n", r->n_calls, r->n_calls == 1 ? "" : "s");
}

static void s_print_org(const ProtobufCMessage *m)
{
    const Ccip__Intake__Organisation *g =
        ((const Ccip__Intake__OrganisationReply *)m)->organisation;
    if (!g)
        return;
    char a[40];
    printf("organisation  %s\n", g->uscc);
    printf("name          %s\n", g->name);
    printf("type          %s\n",
           s_enum_name(&ccip__intake__organisation_type__descriptor, g->type));
    printf("district      %s\n", g->district_code);
    printf("legal rep.    %s\n", g->legal_representative);
    printf("contact       %s, %s%s%s\n", g->contact_name, g->contact_phone,
           g->contact_email[0] ? ", " : "", g->contact_email);
    if (g->address[0])
        printf("address       %s\n", g->address);
    s_when(g->registered_at_us, a, sizeof a);
    printf("registered    %s by %s\n", a, g->registered_by);
    if (g->verified) {
        s_when(g->verified_at_us, a, sizeof a);
        printf("verified      %s by %s%s%s\n", a, g->verified_by,
               g->verification_note[0] ? ": " : "", g->verification_note);
    } else {
        printf("verified      no (staff must verify it before its applications are accepted)\n");
    }
}

static void s_print_facts(const Ccip__Intake__ApplicationContent *c)
{
    char money[32];
    if (c->facts_case == CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER) {
        const Ccip__Intake__ClusterFacts *f = c->cluster;
        printf("cluster      %s, %s; %" PRId64 " m2, %d enterprises, %d employees, run by %s\n",
               f->cluster_name, f->location, f->area_m2, f->enterprise_count, f->employee_count,
               f->lead_operator);
    } else if (c->facts_case == CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE) {
        const Ccip__Intake__TalentBaseFacts *f = c->talent_base;
        printf("talent base  %d trainees a year\n", f->annual_capacity);
        for (size_t i = 0; i < f->n_programmes; i++)
            printf("  programme  %s (%d a year)\n", f->programmes[i]->name,
                   f->programmes[i]->capacity);
    } else if (c->facts_case == CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT) {
        const Ccip__Intake__ProjectFacts *f = c->project;
        for (size_t i = 0; i < f->n_budget_lines; i++)
            printf("budget line  %-30s %16s yuan\n", f->budget_lines[i]->item,
                   s_money(f->budget_lines[i]->amount_fen, money, sizeof money));
    } else {
        printf("facts        (not given yet)\n");
    }
}

static void s_print_application_value(const Ccip__Intake__Application *a)
{
    char t[40], money[32];
    const Ccip__Intake__ApplicationContent *c = a->content;
    printf("application  %s\n", a->id);
    printf("call         %s (%s, %d) %s\n", a->call_id,
           s_enum_name(&ccip__intake__call_kind__descriptor, a->kind), a->year, a->call_title);
    printf("applicant    %s %s\n", a->applicant_uscc, a->applicant_name);
    if (a->status)
        printf("status       %s\n",
               s_enum_name(&ccip__intake__application_status__descriptor, a->status));
    if (a->applicant_view)
        printf("shown as     %s: %s\n",
               s_enum_name(&ccip__intake__applicant_status__descriptor, a->applicant_view->status),
               a->applicant_view->message);
    if (c) {
        printf("title        %s\n", c->title);
        printf("district     %s\n", c->district);
        if (c->requested_fen)
            printf("requested    %s yuan\n", s_money(c->requested_fen, money, sizeof money));
        printf("summary      %s\n", c->summary[0] ? c->summary : "(empty)");
        s_print_facts(c);
    }
    s_when(a->submitted_at_us, t, sizeof t);
    printf("submitted    %s (%d time%s)\n", t, a->submissions, a->submissions == 1 ? "" : "s");
    printf("documents    %zu\n", a->n_documents);
    for (size_t i = 0; i < a->n_documents; i++) {
        const Ccip__Intake__Document *d = a->documents[i];
        printf("  %-36s  %-20s  %-24s  %10" PRId64 "  %.16s...\n", d->id, d->doc_type, d->name,
               d->size, d->sha256);
    }
    if (a->n_history) {
        printf("history\n");
        for (size_t i = 0; i < a->n_history; i++) {
            const Ccip__Intake__Transition *h = a->history[i];
            s_when(h->at_us, t, sizeof t);
            printf("  %-20s  %-9s -> %-9s  %s (%s)%s%s\n", t,
                   h->from_status
                       ? s_enum_name(&ccip__intake__application_status__descriptor, h->from_status)
                       : "",
                   s_enum_name(&ccip__intake__application_status__descriptor, h->to_status),
                   h->actor_id, h->actor_role, h->reason[0] ? ": " : "", h->reason);
        }
    }
    if (a->applicant_view && a->applicant_view->n_timeline) {
        printf("timeline\n");
        for (size_t i = 0; i < a->applicant_view->n_timeline; i++) {
            const Ccip__Intake__TimelineEntry *e = a->applicant_view->timeline[i];
            s_when(e->at_us, t, sizeof t);
            printf("  %-20s  %-10s  %s\n", t, e->source, e->message);
        }
    }
}

static void s_print_application(const ProtobufCMessage *m)
{
    const Ccip__Intake__ApplicationReply *r = (const Ccip__Intake__ApplicationReply *)m;
    if (r->application)
        s_print_application_value(r->application);
}

static void s_print_applications(const ProtobufCMessage *m)
{
    const Ccip__Intake__ListApplicationsReply *r = (const Ccip__Intake__ListApplicationsReply *)m;
    printf("%-36s  %-9s  %-25s  %-18s  %16s  %s\n", "APPLICATION", "STATUS", "APPLICANT SEES",
           "ORGANISATION", "REQUESTED (YUAN)", "TITLE");
    for (size_t i = 0; i < r->n_applications; i++) {
        const Ccip__Intake__ApplicationSummary *s = r->applications[i];
        char money[32];
        printf("%-36s  %-9s  %-25s  %-18s  %16s  %s\n", s->id,
               s->status ? s_enum_name(&ccip__intake__application_status__descriptor, s->status)
                         : "-",
               s_enum_name(&ccip__intake__applicant_status__descriptor, s->applicant_status),
               s->applicant_uscc, s_money(s->requested_fen, money, sizeof money), s->title);
    }
    printf("(%zu application%s)\n", r->n_applications, r->n_applications == 1 ? "" : "s");
}

static void s_print_document(const ProtobufCMessage *m)
{
    const Ccip__Intake__DocumentReply *r = (const Ccip__Intake__DocumentReply *)m;
    const Ccip__Intake__Document *d = r->document;
    if (!d)
        return;
    printf("added document %s: %s \"%s\" (%s, %" PRId64 " bytes)\n  sha256 %s%s\n", d->id,
           d->doc_type, d->name, d->media_type, d->size, d->sha256,
           r->deduplicated ? "\n  (the same content was stored already; stored once)" : "");
}

/* ---- option parsing ------------------------------------------------------------ */

/* Result of a subcommand's option loop: go on, or return this code. */
#define GO_ON (-1)

static int s_help(const char *usage, int c)
{
    fputs(usage, c == 'h' ? stdout : stderr);
    return c == 'h' ? CTL_OK : CTL_USAGE;
}

/* Checks that exactly `want` positional arguments are left. */
static int s_positional(int argc, char **argv, int want, const char *usage)
{
    if (argc - optind == want)
        return GO_ON;
    if (argc - optind < want)
        fprintf(stderr, "ccipctl: missing argument\n%s", usage);
    else
        fprintf(stderr, "ccipctl: unexpected argument \"%s\"\n%s", argv[optind + want], usage);
    return CTL_USAGE;
}

static int s_required(const char *value, const char *option, const char *usage)
{
    if (value)
        return GO_ON;
    fprintf(stderr, "ccipctl: %s is required\n%s", option, usage);
    return CTL_USAGE;
}

/* ---- calls ----------------------------------------------------------------------- */

static const char S_CALL_OPEN[] =
    "usage: ccipctl --role staff --actor ID intake call open --kind KIND --year YEAR\n"
    "           --title TEXT --opens TIME --closes TIME [--require DOC_TYPE]...\n"
    "           [--eligible ORG_TYPE]... [--fund-programme CODE --max-request YUAN]\n"
    "  opens (publishes) a call. KIND: CLUSTER_IDENTIFICATION, TALENT_BASE_IDENTIFICATION or\n"
    "  SPECIAL_FUND_PROJECT (which needs --fund-programme and --max-request, the most one\n"
    "  project may request). TIME: 2027-03-01T09:00:00+08:00, ...Z, or a date (UTC midnight).\n"
    "  --require names a document type every application must carry; --eligible limits who\n"
    "  may apply: DISTRICT_GOVERNMENT, MUNICIPAL_COMMISSION, ENTERPRISE, INSTITUTION.\n";

static int s_call_open(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"kind", required_argument, NULL, 'k'},
                                          {"year", required_argument, NULL, 'y'},
                                          {"title", required_argument, NULL, 't'},
                                          {"opens", required_argument, NULL, 'o'},
                                          {"closes", required_argument, NULL, 'c'},
                                          {"require", required_argument, NULL, 'r'},
                                          {"eligible", required_argument, NULL, 'e'},
                                          {"fund-programme", required_argument, NULL, 'f'},
                                          {"max-request", required_argument, NULL, 'm'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    Ccip__Intake__OpenCallRequest rq = CCIP__INTAKE__OPEN_CALL_REQUEST__INIT;
    char **docs = calloc((size_t)argc + 1, sizeof *docs);
    Ccip__Intake__OrganisationType *types = calloc((size_t)argc + 1, sizeof *types);
    const char *kind = NULL, *year = NULL, *opens = NULL, *closes = NULL;
    int code = GO_ON, c;
    int64_t v;
    optind = 0;
    while (code == GO_ON && (c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        int e;
        switch (c) {
        case 'k':
            kind = optarg;
            break;
        case 'y':
            year = optarg;
            break;
        case 't':
            rq.title = optarg;
            break;
        case 'o':
            opens = optarg;
            break;
        case 'c':
            closes = optarg;
            break;
        case 'r':
            docs[rq.n_required_documents++] = optarg;
            break;
        case 'e':
            if (s_enum_parse(&ccip__intake__organisation_type__descriptor, "--eligible", optarg,
                             &e) < 0)
                code = CTL_USAGE;
            else
                types[rq.n_eligible_types++] = (Ccip__Intake__OrganisationType)e;
            break;
        case 'f':
            rq.fund_programme_code = optarg;
            break;
        case 'm':
            if (s_yuan("--max-request", optarg, &rq.max_request_fen) < 0)
                code = CTL_USAGE;
            break;
        default:
            code = s_help(S_CALL_OPEN, c);
        }
    }
    int k = 0;
    if (code == GO_ON)
        code = s_positional(argc, argv, 0, S_CALL_OPEN);
    if (code == GO_ON)
        code = s_required(kind, "--kind", S_CALL_OPEN);
    if (code == GO_ON)
        code = s_required(year, "--year", S_CALL_OPEN);
    if (code == GO_ON)
        code = s_required(rq.title != protobuf_c_empty_string ? rq.title : NULL, "--title",
                          S_CALL_OPEN);
    if (code == GO_ON)
        code = s_required(opens, "--opens", S_CALL_OPEN);
    if (code == GO_ON)
        code = s_required(closes, "--closes", S_CALL_OPEN);
    if (code == GO_ON &&
        (s_enum_parse(&ccip__intake__call_kind__descriptor, "--kind", kind, &k) < 0 ||
         s_int("--year", year, 1, 9999, &v) < 0 || s_time("--opens", opens, &rq.opens_at_us) < 0 ||
         s_time("--closes", closes, &rq.closes_at_us) < 0))
        code = CTL_USAGE;
    if (code == GO_ON) {
        rq.kind = (Ccip__Intake__CallKind)k;
        rq.year = (int32_t)v;
        rq.required_documents = docs;
        rq.eligible_types = types;
        code = s_run(o, "intake.call.open.v1", &rq.base, &ccip__intake__call_reply__descriptor,
                     s_print_call);
    }
    free(docs);
    free(types);
    return code;
}

static const char S_CALL_CLOSE[] =
    "usage: ccipctl --role staff --actor ID intake call close CALL_ID [--reason TEXT]\n"
    "  closes a call before (or after) its closing time; no submissions are accepted after\n";

static int s_call_close(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"reason", required_argument, NULL, 'r'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    Ccip__Intake__CloseCallRequest rq = CCIP__INTAKE__CLOSE_CALL_REQUEST__INIT;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'r')
            rq.reason = optarg;
        else
            return s_help(S_CALL_CLOSE, c);
    }
    int code = s_positional(argc, argv, 1, S_CALL_CLOSE);
    if (code != GO_ON)
        return code;
    rq.call_id = argv[optind];
    return s_run(o, "intake.call.close.v1", &rq.base, &ccip__intake__call_reply__descriptor,
                 s_print_call);
}

static const char S_CALL_CLOSE_DUE[] =
    "usage: ccipctl --role staff --actor ID intake call close-due\n"
    "  closes now every call whose submission window has ended (intake also does it by\n"
    "  itself every intake.close_check_seconds) and lists them\n";

static void s_print_closed(const ProtobufCMessage *m)
{
    const Ccip__Intake__CloseDueReply *r = (const Ccip__Intake__CloseDueReply *)m;
    printf("%zu call%s closed\n", r->n_closed_call_ids, r->n_closed_call_ids == 1 ? "" : "s");
    for (size_t i = 0; i < r->n_closed_call_ids; i++)
        printf("%s\n", r->closed_call_ids[i]);
}

static int s_call_close_due(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1)
        return s_help(S_CALL_CLOSE_DUE, c);
    int code = s_positional(argc, argv, 0, S_CALL_CLOSE_DUE);
    if (code != GO_ON)
        return code;
    Ccip__Intake__CloseDueRequest rq = CCIP__INTAKE__CLOSE_DUE_REQUEST__INIT;
    return s_run(o, "intake.call.close_due.v1", &rq.base,
                 &ccip__intake__close_due_reply__descriptor, s_print_closed);
}

static const char S_CALL_LIST[] =
    "usage: ccipctl intake call list [--year YEAR] [--kind KIND] [--accepting]\n"
    "  lists calls, newest first; --accepting shows only those accepting submissions now\n";

static int s_call_list(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"year", required_argument, NULL, 'y'},
                                          {"kind", required_argument, NULL, 'k'},
                                          {"accepting", no_argument, NULL, 'a'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    Ccip__Intake__ListCallsRequest rq = CCIP__INTAKE__LIST_CALLS_REQUEST__INIT;
    int c, k;
    int64_t v;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'y') {
            if (s_int("--year", optarg, 1, 9999, &v) < 0)
                return CTL_USAGE;
            rq.year = (int32_t)v;
        } else if (c == 'k') {
            if (s_enum_parse(&ccip__intake__call_kind__descriptor, "--kind", optarg, &k) < 0)
                return CTL_USAGE;
            rq.kind = (Ccip__Intake__CallKind)k;
        } else if (c == 'a') {
            rq.accepting_only = 1;
        } else {
            return s_help(S_CALL_LIST, c);
        }
    }
    int code = s_positional(argc, argv, 0, S_CALL_LIST);
    if (code != GO_ON)
        return code;
    return s_run(o, "intake.call.list.v1", &rq.base, &ccip__intake__list_calls_reply__descriptor,
                 s_print_calls);
}

static const char S_CALL_SHOW[] = "usage: ccipctl intake call show CALL_ID\n"
                                  "  shows a call: window, required documents, who may apply\n";

static int s_call_show(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1)
        return s_help(S_CALL_SHOW, c);
    int code = s_positional(argc, argv, 1, S_CALL_SHOW);
    if (code != GO_ON)
        return code;
    Ccip__Intake__GetCallRequest rq = CCIP__INTAKE__GET_CALL_REQUEST__INIT;
    rq.call_id = argv[optind];
    return s_run(o, "intake.call.get.v1", &rq.base, &ccip__intake__call_reply__descriptor,
                 s_print_call);
}

/* ---- organisations --------------------------------------------------------------- */

static const char S_ORG_REGISTER[] =
    "usage: ccipctl intake org register --uscc CODE --name NAME --type ORG_TYPE\n"
    "           --district DISTRICT --legal-rep NAME --contact-name NAME --contact-phone PHONE\n"
    "           [--contact-email EMAIL] [--address TEXT]\n"
    "  registers an organisation (an applicant registers itself: --role applicant --actor\n"
    "  org:CODE; staff may register any). ORG_TYPE: DISTRICT_GOVERNMENT, MUNICIPAL_COMMISSION,\n"
    "  ENTERPRISE, INSTITUTION. DISTRICT: a Beijing district by code (110105) or name.\n";

static const char S_ORG_UPDATE[] =
    "usage: ccipctl intake org update --uscc CODE --name NAME --type ORG_TYPE\n"
    "           --district DISTRICT --legal-rep NAME --contact-name NAME --contact-phone PHONE\n"
    "           [--contact-email EMAIL] [--address TEXT] [--reason TEXT]\n"
    "  replaces an organisation's details with these (all of them, as at registration); a\n"
    "  new name, type or district withdraws its verification until staff verify it again\n";

/* register and update: the same details, update with a reason. */
static int s_org_write(ctl_opts *o, int argc, char **argv, int update)
{
    static const struct option longs[] = {{"uscc", required_argument, NULL, 'u'},
                                          {"name", required_argument, NULL, 'n'},
                                          {"type", required_argument, NULL, 't'},
                                          {"district", required_argument, NULL, 'd'},
                                          {"legal-rep", required_argument, NULL, 'l'},
                                          {"contact-name", required_argument, NULL, 'c'},
                                          {"contact-phone", required_argument, NULL, 'p'},
                                          {"contact-email", required_argument, NULL, 'e'},
                                          {"address", required_argument, NULL, 'a'},
                                          {"reason", required_argument, NULL, 'r'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *usage = update ? S_ORG_UPDATE : S_ORG_REGISTER;
    Ccip__Intake__RegisterOrganisationRequest rq =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    Ccip__Intake__UpdateOrganisationRequest up = CCIP__INTAKE__UPDATE_ORGANISATION_REQUEST__INIT;
    const char *type = NULL;
    int c, t;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'u':
            rq.uscc = optarg;
            break;
        case 'n':
            rq.name = optarg;
            break;
        case 't':
            type = optarg;
            break;
        case 'd':
            rq.district = optarg;
            break;
        case 'l':
            rq.legal_representative = optarg;
            break;
        case 'c':
            rq.contact_name = optarg;
            break;
        case 'p':
            rq.contact_phone = optarg;
            break;
        case 'e':
            rq.contact_email = optarg;
            break;
        case 'a':
            rq.address = optarg;
            break;
        case 'r':
            if (update) {
                up.reason = optarg;
                break;
            }
            return s_help(usage, c);
        default:
            return s_help(usage, c);
        }
    }
    int code = s_positional(argc, argv, 0, usage);
    if (code == GO_ON)
        code = s_required(type, "--type", usage);
    if (code != GO_ON)
        return code;
    if (s_enum_parse(&ccip__intake__organisation_type__descriptor, "--type", type, &t) < 0)
        return CTL_USAGE;
    rq.type = (Ccip__Intake__OrganisationType)t;
    /* Missing fields are the service's to explain, with the field's name. */
    if (!update)
        return s_run(o, "intake.organisation.register.v1", &rq.base,
                     &ccip__intake__organisation_reply__descriptor, s_print_org);
    up.details = &rq;
    return s_run(o, "intake.organisation.update.v1", &up.base,
                 &ccip__intake__organisation_reply__descriptor, s_print_org);
}

static int s_org_register(ctl_opts *o, int argc, char **argv)
{
    return s_org_write(o, argc, argv, 0);
}

static int s_org_update(ctl_opts *o, int argc, char **argv)
{
    return s_org_write(o, argc, argv, 1);
}

static const char S_ORG_VERIFY[] =
    "usage: ccipctl --role staff --actor ID intake org verify USCC [--note TEXT]\n"
    "  records that staff checked the organisation; only then are its applications accepted\n";

static int s_org_verify(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"note", required_argument, NULL, 'n'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    Ccip__Intake__VerifyOrganisationRequest rq = CCIP__INTAKE__VERIFY_ORGANISATION_REQUEST__INIT;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'n')
            rq.note = optarg;
        else
            return s_help(S_ORG_VERIFY, c);
    }
    int code = s_positional(argc, argv, 1, S_ORG_VERIFY);
    if (code != GO_ON)
        return code;
    rq.uscc = argv[optind];
    return s_run(o, "intake.organisation.verify.v1", &rq.base,
                 &ccip__intake__organisation_reply__descriptor, s_print_org);
}

static const char S_ORG_SHOW[] = "usage: ccipctl intake org show USCC\n"
                                 "  shows a registered organisation\n";

static int s_org_show(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1)
        return s_help(S_ORG_SHOW, c);
    int code = s_positional(argc, argv, 1, S_ORG_SHOW);
    if (code != GO_ON)
        return code;
    Ccip__Intake__GetOrganisationRequest rq = CCIP__INTAKE__GET_ORGANISATION_REQUEST__INIT;
    rq.uscc = argv[optind];
    return s_run(o, "intake.organisation.get.v1", &rq.base,
                 &ccip__intake__organisation_reply__descriptor, s_print_org);
}

/* ---- application content ------------------------------------------------------------ */

/* Content options as given; NULL / 0 = not given. */
typedef struct {
    const char *title, *summary, *summary_file, *district, *requested;
    const char *cluster_name, *location, *area, *enterprises, *employees, *lead_operator;
    const char *capacity;
    char **programmes; /* "NAME=CAPACITY" */
    size_t n_programmes;
    char **budget; /* "ITEM=YUAN" */
    size_t n_budget;
    char *summary_text; /* read from summary_file, malloc'd */
} s_content_opts;

/* The content sent, with room for the facts. */
typedef struct {
    Ccip__Intake__ApplicationContent c;
    Ccip__Intake__ClusterFacts cluster;
    Ccip__Intake__TalentBaseFacts talent;
    Ccip__Intake__ProjectFacts project;
    Ccip__Intake__TrainingProgramme *programmes; /* malloc'd */
    Ccip__Intake__TrainingProgramme **programme_ptrs;
    Ccip__Intake__BudgetLine *lines; /* malloc'd */
    Ccip__Intake__BudgetLine **line_ptrs;
} s_content_build;

#define CONTENT_OPTIONS                                                                            \
    {"title", required_argument, NULL, 1000}, {"summary", required_argument, NULL, 1001},          \
        {"summary-file", required_argument, NULL, 1002},                                           \
        {"district", required_argument, NULL, 1003}, {"requested", required_argument, NULL, 1004}, \
        {"cluster-name", required_argument, NULL, 1005},                                           \
        {"location", required_argument, NULL, 1006}, {"area-m2", required_argument, NULL, 1007},   \
        {"enterprises", required_argument, NULL, 1008},                                            \
        {"employees", required_argument, NULL, 1009},                                              \
        {"lead-operator", required_argument, NULL, 1010},                                          \
        {"programme", required_argument, NULL, 1011}, {"capacity", required_argument, NULL, 1012}, \
    {                                                                                              \
        "budget-line", required_argument, NULL, 1013                                               \
    }

#define CONTENT_USAGE                                                                              \
    "  content: --title TEXT --summary TEXT | --summary-file PATH --district DISTRICT\n"           \
    "           --requested YUAN (special funds)\n"                                                \
    "  cluster facts: --cluster-name TEXT --location TEXT --area-m2 N --enterprises N\n"           \
    "           --employees N --lead-operator TEXT\n"                                              \
    "  talent base facts: --programme NAME=TRAINEES_A_YEAR (repeat) --capacity N\n"                \
    "  project facts: --budget-line ITEM=YUAN (repeat)\n"

/* Takes one content option; returns 1 when c was one. */
static int s_content_opt(s_content_opts *co, int c, char *arg)
{
    switch (c) {
    case 1000:
        co->title = arg;
        return 1;
    case 1001:
        co->summary = arg;
        return 1;
    case 1002:
        co->summary_file = arg;
        return 1;
    case 1003:
        co->district = arg;
        return 1;
    case 1004:
        co->requested = arg;
        return 1;
    case 1005:
        co->cluster_name = arg;
        return 1;
    case 1006:
        co->location = arg;
        return 1;
    case 1007:
        co->area = arg;
        return 1;
    case 1008:
        co->enterprises = arg;
        return 1;
    case 1009:
        co->employees = arg;
        return 1;
    case 1010:
        co->lead_operator = arg;
        return 1;
    case 1011:
        co->programmes[co->n_programmes++] = arg;
        return 1;
    case 1012:
        co->capacity = arg;
        return 1;
    case 1013:
        co->budget[co->n_budget++] = arg;
        return 1;
    default:
        return 0;
    }
}

static void s_content_free(s_content_opts *co, s_content_build *b)
{
    free(co->programmes);
    free(co->budget);
    free(co->summary_text);
    free(b->programmes);
    free(b->programme_ptrs);
    free(b->lines);
    free(b->line_ptrs);
}

/* Splits "NAME=VALUE" at the last '='. */
static int s_pair(const char *option, char *text, char **value)
{
    char *eq = strrchr(text, '=');
    if (!eq || eq == text || !eq[1]) {
        fprintf(stderr, "ccipctl: %s must be NAME=VALUE, got \"%s\"\n", option, text);
        return -1;
    }
    *eq = '\0';
    *value = eq + 1;
    return 0;
}

/* Builds the content from the options on top of `base` (the application as
 * it is, for an update; NULL for a draft). Returns 0 or -1 after printing
 * why. */
static int s_content_build_from(s_content_opts *co, const Ccip__Intake__ApplicationContent *base,
                                s_content_build *b)
{
    int64_t v;
    b->c = base ? *base : (Ccip__Intake__ApplicationContent)CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    b->c.base =
        (ProtobufCMessage)PROTOBUF_C_MESSAGE_INIT(&ccip__intake__application_content__descriptor);
    if (co->title)
        b->c.title = (char *)co->title;
    if (co->summary)
        b->c.summary = (char *)co->summary;
    if (co->summary_file) {
        size_t n;
        co->summary_text = (char *)s_read_file(co->summary_file, SUMMARY_FILE_MAX, &n);
        if (!co->summary_text)
            return -1;
        b->c.summary = co->summary_text;
    }
    if (co->district)
        b->c.district = (char *)co->district;
    if (co->requested && s_yuan("--requested", co->requested, &b->c.requested_fen) < 0)
        return -1;

    int cluster = co->cluster_name || co->location || co->area || co->enterprises ||
                  co->employees || co->lead_operator;
    int talent = co->n_programmes || co->capacity;
    int project = co->n_budget > 0;
    if (cluster + talent + project > 1) {
        fprintf(stderr, "ccipctl: give the facts of one kind only: cluster, talent base or "
                        "project options\n");
        return -1;
    }
    if (cluster) {
        b->cluster = base && base->facts_case == CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER
                         ? *base->cluster
                         : (Ccip__Intake__ClusterFacts)CCIP__INTAKE__CLUSTER_FACTS__INIT;
        if (co->cluster_name)
            b->cluster.cluster_name = (char *)co->cluster_name;
        if (co->location)
            b->cluster.location = (char *)co->location;
        if (co->lead_operator)
            b->cluster.lead_operator = (char *)co->lead_operator;
        if (co->area) {
            if (s_int("--area-m2", co->area, 0, INT64_MAX, &v) < 0)
                return -1;
            b->cluster.area_m2 = v;
        }
        if (co->enterprises) {
            if (s_int("--enterprises", co->enterprises, 0, INT32_MAX, &v) < 0)
                return -1;
            b->cluster.enterprise_count = (int32_t)v;
        }
        if (co->employees) {
            if (s_int("--employees", co->employees, 0, INT32_MAX, &v) < 0)
                return -1;
            b->cluster.employee_count = (int32_t)v;
        }
        b->c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
        b->c.cluster = &b->cluster;
    }
    if (talent) {
        b->talent = base && base->facts_case == CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE
                        ? *base->talent_base
                        : (Ccip__Intake__TalentBaseFacts)CCIP__INTAKE__TALENT_BASE_FACTS__INIT;
        if (co->capacity) {
            if (s_int("--capacity", co->capacity, 0, INT32_MAX, &v) < 0)
                return -1;
            b->talent.annual_capacity = (int32_t)v;
        }
        if (co->n_programmes) {
            b->programmes = calloc(co->n_programmes, sizeof *b->programmes);
            b->programme_ptrs = calloc(co->n_programmes, sizeof *b->programme_ptrs);
            if (!b->programmes || !b->programme_ptrs)
                return -1;
            for (size_t i = 0; i < co->n_programmes; i++) {
                char *value;
                if (s_pair("--programme", co->programmes[i], &value) < 0 ||
                    s_int("--programme capacity", value, 0, INT32_MAX, &v) < 0)
                    return -1;
                b->programmes[i] =
                    (Ccip__Intake__TrainingProgramme)CCIP__INTAKE__TRAINING_PROGRAMME__INIT;
                b->programmes[i].name = co->programmes[i];
                b->programmes[i].capacity = (int32_t)v;
                b->programme_ptrs[i] = &b->programmes[i];
            }
            b->talent.programmes = b->programme_ptrs;
            b->talent.n_programmes = co->n_programmes;
        }
        b->c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE;
        b->c.talent_base = &b->talent;
    }
    if (project) {
        b->project = (Ccip__Intake__ProjectFacts)CCIP__INTAKE__PROJECT_FACTS__INIT;
        b->lines = calloc(co->n_budget, sizeof *b->lines);
        b->line_ptrs = calloc(co->n_budget, sizeof *b->line_ptrs);
        if (!b->lines || !b->line_ptrs)
            return -1;
        for (size_t i = 0; i < co->n_budget; i++) {
            char *value;
            if (s_pair("--budget-line", co->budget[i], &value) < 0)
                return -1;
            b->lines[i] = (Ccip__Intake__BudgetLine)CCIP__INTAKE__BUDGET_LINE__INIT;
            b->lines[i].item = co->budget[i];
            if (s_yuan("--budget-line amount", value, &b->lines[i].amount_fen) < 0)
                return -1;
            b->line_ptrs[i] = &b->lines[i];
        }
        b->project.budget_lines = b->line_ptrs;
        b->project.n_budget_lines = co->n_budget;
        b->c.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT;
        b->c.project = &b->project;
    }
    return 0;
}

/* ---- applications ------------------------------------------------------------------ */

static const char S_APP_DRAFT[] =
    "usage: ccipctl --role applicant --actor org:USCC intake application draft --call CALL_ID\n"
    "           --title TEXT [--org USCC] [content and facts options]\n"
    "  starts an application of the caller's organisation (--org defaults to the "
    "actor's)\n" CONTENT_USAGE;

static int s_app_draft(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"call", required_argument, NULL, 'c'},
                                          {"org", required_argument, NULL, 'o'},
                                          {"help", no_argument, NULL, 'h'},
                                          CONTENT_OPTIONS,
                                          {NULL, 0, NULL, 0}};
    Ccip__Intake__DraftApplicationRequest rq = CCIP__INTAKE__DRAFT_APPLICATION_REQUEST__INIT;
    s_content_opts co = {.programmes = calloc((size_t)argc + 1, sizeof(char *)),
                         .budget = calloc((size_t)argc + 1, sizeof(char *))};
    s_content_build b = {0};
    const char *call = NULL;
    int code = GO_ON, c;
    optind = 0;
    while (code == GO_ON && (c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'c')
            call = optarg;
        else if (c == 'o')
            rq.applicant_uscc = optarg;
        else if (!s_content_opt(&co, c, optarg))
            code = s_help(S_APP_DRAFT, c);
    }
    if (code == GO_ON)
        code = s_positional(argc, argv, 0, S_APP_DRAFT);
    if (code == GO_ON)
        code = s_required(call, "--call", S_APP_DRAFT);
    if (code == GO_ON && s_content_build_from(&co, NULL, &b) < 0)
        code = CTL_USAGE;
    if (code == GO_ON) {
        rq.call_id = (char *)call;
        rq.content = &b.c;
        code = s_run(o, "intake.application.draft.v1", &rq.base,
                     &ccip__intake__application_reply__descriptor, s_print_application);
    }
    s_content_free(&co, &b);
    return code;
}

static const char S_APP_FILE[] =
    "usage: ccipctl --role applicant --actor org:USCC intake application file --call CALL_ID\n"
    "           --title TEXT [--org USCC] [content and facts options]\n"
    "           --document DOC_TYPE=PATH (repeat, one per document)\n"
    "  files a complete application in one step: it is drafted and submitted at once with\n"
    "  its documents (file name from PATH, media type guessed from its extension), or\n"
    "  refused with nothing written\n" CONTENT_USAGE;

static int s_app_file(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"call", required_argument, NULL, 'c'},
                                          {"org", required_argument, NULL, 'o'},
                                          {"document", required_argument, NULL, 'd'},
                                          {"help", no_argument, NULL, 'h'},
                                          CONTENT_OPTIONS,
                                          {NULL, 0, NULL, 0}};
    Ccip__Intake__FileApplicationRequest rq = CCIP__INTAKE__FILE_APPLICATION_REQUEST__INIT;
    s_content_opts co = {.programmes = calloc((size_t)argc + 1, sizeof(char *)),
                         .budget = calloc((size_t)argc + 1, sizeof(char *))};
    s_content_build b = {0};
    char **docs = calloc((size_t)argc + 1, sizeof(char *));
    size_t ndocs = 0;
    Ccip__Intake__DocumentUpload *uploads = calloc((size_t)argc + 1, sizeof *uploads);
    Ccip__Intake__DocumentUpload **upload_ptrs = calloc((size_t)argc + 1, sizeof *upload_ptrs);
    const char *call = NULL;
    int code = GO_ON, c;
    if (!co.programmes || !co.budget || !docs || !uploads || !upload_ptrs) {
        fprintf(stderr, "ccipctl: out of memory\n");
        code = CTL_LOCAL;
    }
    optind = 0;
    while (code == GO_ON && (c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'c')
            call = optarg;
        else if (c == 'o')
            rq.applicant_uscc = optarg;
        else if (c == 'd')
            docs[ndocs++] = optarg;
        else if (!s_content_opt(&co, c, optarg))
            code = s_help(S_APP_FILE, c);
    }
    if (code == GO_ON)
        code = s_positional(argc, argv, 0, S_APP_FILE);
    if (code == GO_ON)
        code = s_required(call, "--call", S_APP_FILE);
    if (code == GO_ON && s_content_build_from(&co, NULL, &b) < 0)
        code = CTL_USAGE;
    /* All documents travel in the one message. */
    size_t room = CCIP_SOCK_MAX_MESSAGE_DEFAULT - DOCUMENT_OVERHEAD;
    for (size_t i = 0; code == GO_ON && i < ndocs; i++) {
        /* DOC_TYPE is a code, so the first '=' ends it (a path may hold more). */
        char *path = strchr(docs[i], '=');
        if (!path || path == docs[i] || !path[1]) {
            fprintf(stderr, "ccipctl: --document must be DOC_TYPE=PATH, got \"%s\"\n", docs[i]);
            code = CTL_USAGE;
            break;
        }
        *path++ = '\0';
        size_t len = 0;
        uint8_t *content = s_read_file(path, room, &len);
        if (!content) {
            code = CTL_LOCAL;
            break;
        }
        room -= len;
        const char *slash = strrchr(path, '/');
        uploads[i] = (Ccip__Intake__DocumentUpload)CCIP__INTAKE__DOCUMENT_UPLOAD__INIT;
        uploads[i].doc_type = docs[i];
        uploads[i].name = slash ? (char *)slash + 1 : path;
        uploads[i].media_type = (char *)s_media_type(path);
        uploads[i].content.data = content;
        uploads[i].content.len = len;
        upload_ptrs[i] = &uploads[i];
        rq.n_documents = i + 1;
    }
    if (code == GO_ON) {
        rq.call_id = (char *)call;
        rq.content = &b.c;
        rq.documents = upload_ptrs;
        code = s_run(o, "intake.application.file.v1", &rq.base,
                     &ccip__intake__application_reply__descriptor, s_print_application);
    }
    for (size_t i = 0; uploads && i < rq.n_documents; i++)
        free(uploads[i].content.data);
    free(uploads);
    free(upload_ptrs);
    free(docs);
    s_content_free(&co, &b);
    return code;
}

static const char S_APP_UPDATE[] =
    "usage: ccipctl --role applicant --actor org:USCC intake application update APPLICATION_ID\n"
    "           [content and facts options]\n"
    "  changes a DRAFT or RETURNED application: what is not given stays as it is; repeated\n"
    "  options (--programme, --budget-line) replace the whole list\n" CONTENT_USAGE;

static int s_app_update(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"help", no_argument, NULL, 'h'}, CONTENT_OPTIONS, {NULL, 0, NULL, 0}};
    s_content_opts co = {.programmes = calloc((size_t)argc + 1, sizeof(char *)),
                         .budget = calloc((size_t)argc + 1, sizeof(char *))};
    s_content_build b = {0};
    int code = GO_ON, c;
    optind = 0;
    while (code == GO_ON && (c = getopt_long(argc, argv, "h", longs, NULL)) != -1)
        if (!s_content_opt(&co, c, optarg))
            code = s_help(S_APP_UPDATE, c);
    if (code == GO_ON)
        code = s_positional(argc, argv, 1, S_APP_UPDATE);
    ccip_client *client = NULL;
    Ccip__Intake__ApplicationReply *current = NULL;
    if (code == GO_ON) {
        /* An update replaces the content: start from what is stored. */
        Ccip__Intake__GetApplicationRequest g = CCIP__INTAKE__GET_APPLICATION_REQUEST__INIT;
        g.application_id = argv[optind];
        code = s_call(o, &client, "intake.application.get.v1", &g.base,
                      &ccip__intake__application_reply__descriptor, (ProtobufCMessage **)&current);
        code = code == CTL_OK ? GO_ON : code;
    }
    if (code == GO_ON && (!current->application || !current->application->content)) {
        fprintf(stderr, "ccipctl: intake sent no content for %s\n", argv[optind]);
        code = CTL_REFUSED;
    }
    if (code == GO_ON && s_content_build_from(&co, current->application->content, &b) < 0)
        code = CTL_USAGE;
    if (code == GO_ON) {
        Ccip__Intake__UpdateApplicationRequest rq = CCIP__INTAKE__UPDATE_APPLICATION_REQUEST__INIT;
        rq.application_id = argv[optind];
        rq.content = &b.c;
        ProtobufCMessage *reply = NULL;
        code = s_call(o, &client, "intake.application.update.v1", &rq.base,
                      &ccip__intake__application_reply__descriptor, &reply);
        if (code == CTL_OK) {
            if (o->json)
                s_json(reply);
            else
                s_print_application(reply);
            protobuf_c_message_free_unpacked(reply, NULL);
        }
    }
    if (current)
        protobuf_c_message_free_unpacked(&current->base, NULL);
    ccip_client_destroy(&client);
    s_content_free(&co, &b);
    return code;
}

static const char S_APP_ADD_DOC[] =
    "usage: ccipctl --role applicant --actor org:USCC intake application add-document\n"
    "           APPLICATION_ID --type DOC_TYPE --file PATH [--name NAME] [--media-type TYPE]\n"
    "  attaches a file (name defaults to the file's, the media type to one guessed from its\n"
    "  extension); intake stores its SHA-256 and keeps identical content once\n";

static int s_app_add_document(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"type", required_argument, NULL, 't'}, {"file", required_argument, NULL, 'f'},
        {"name", required_argument, NULL, 'n'}, {"media-type", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    Ccip__Intake__AddDocumentRequest rq = CCIP__INTAKE__ADD_DOCUMENT_REQUEST__INIT;
    const char *type = NULL, *file = NULL, *name = NULL, *media = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 't')
            type = optarg;
        else if (c == 'f')
            file = optarg;
        else if (c == 'n')
            name = optarg;
        else if (c == 'm')
            media = optarg;
        else
            return s_help(S_APP_ADD_DOC, c);
    }
    int code = s_positional(argc, argv, 1, S_APP_ADD_DOC);
    if (code == GO_ON)
        code = s_required(type, "--type", S_APP_ADD_DOC);
    if (code == GO_ON)
        code = s_required(file, "--file", S_APP_ADD_DOC);
    if (code != GO_ON)
        return code;
    size_t len = 0;
    uint8_t *content = s_read_file(file, CCIP_SOCK_MAX_MESSAGE_DEFAULT - DOCUMENT_OVERHEAD, &len);
    if (!content)
        return CTL_LOCAL;
    const char *slash = strrchr(file, '/');
    rq.application_id = argv[optind];
    rq.doc_type = (char *)type;
    rq.name = (char *)(name ? name : slash ? slash + 1 : file);
    rq.media_type = (char *)(media ? media : s_media_type(file));
    rq.content.data = content;
    rq.content.len = len;
    code = s_run(o, "intake.application.document.add.v1", &rq.base,
                 &ccip__intake__document_reply__descriptor, s_print_document);
    free(content);
    return code;
}

static const char S_APP_REMOVE_DOC[] =
    "usage: ccipctl --role applicant --actor org:USCC intake application remove-document\n"
    "           APPLICATION_ID DOCUMENT_ID\n"
    "  detaches a document from a DRAFT or RETURNED application\n";

static int s_app_remove_document(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1)
        return s_help(S_APP_REMOVE_DOC, c);
    int code = s_positional(argc, argv, 2, S_APP_REMOVE_DOC);
    if (code != GO_ON)
        return code;
    Ccip__Intake__RemoveDocumentRequest rq = CCIP__INTAKE__REMOVE_DOCUMENT_REQUEST__INIT;
    rq.application_id = argv[optind];
    rq.document_id = argv[optind + 1];
    return s_run(o, "intake.application.document.remove.v1", &rq.base,
                 &ccip__intake__application_reply__descriptor, s_print_application);
}

static const char S_APP_GET_DOC[] =
    "usage: ccipctl intake application get-document APPLICATION_ID DOCUMENT_ID --out PATH\n"
    "  writes a document's content to PATH (\"-\" for standard output)\n";

static int s_app_get_document(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"out", required_argument, NULL, 'o'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *out = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'o')
            out = optarg;
        else
            return s_help(S_APP_GET_DOC, c);
    }
    int code = s_positional(argc, argv, 2, S_APP_GET_DOC);
    if (code == GO_ON)
        code = s_required(out, "--out", S_APP_GET_DOC);
    if (code != GO_ON)
        return code;
    Ccip__Intake__GetDocumentRequest rq = CCIP__INTAKE__GET_DOCUMENT_REQUEST__INIT;
    rq.application_id = argv[optind];
    rq.document_id = argv[optind + 1];
    ccip_client *client = NULL;
    Ccip__Intake__DocumentContentReply *r = NULL;
    code = s_call(o, &client, "intake.document.get.v1", &rq.base,
                  &ccip__intake__document_content_reply__descriptor, (ProtobufCMessage **)&r);
    ccip_client_destroy(&client);
    if (code != CTL_OK)
        return code;
    int to_stdout = strcmp(out, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(out, "wb");
    if (!f || fwrite(r->content.data, 1, r->content.len, f) != r->content.len) {
        fprintf(stderr, "ccipctl: could not write %s: %s\n", out, strerror(errno));
        code = CTL_LOCAL;
    }
    if (f && !to_stdout && fclose(f) != 0 && code == CTL_OK) {
        fprintf(stderr, "ccipctl: could not write %s: %s\n", out, strerror(errno));
        code = CTL_LOCAL;
    }
    if (code == CTL_OK && !to_stdout && r->document) {
        if (o->json)
            s_json(&r->document->base);
        else
            printf("wrote %s: %s \"%s\" (%s, %zu bytes, sha256 %s)\n", out, r->document->doc_type,
                   r->document->name, r->document->media_type, r->content.len, r->document->sha256);
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return code;
}

/* submit, withdraw, accept, return, reject */
typedef struct {
    const char *verb;   /* subcommand */
    const char *type;   /* command type */
    const char *role;   /* who may, for the usage text */
    const char *reason; /* option name of the reason, or NULL */
    int required;       /* the reason must be given */
    const char *what;   /* usage sentence */
} s_transition;

static const s_transition S_TRANSITIONS[] = {
    {"submit", "intake.application.submit.v1", "--role applicant --actor org:USCC", NULL, 0,
     "submits a DRAFT (while the call is open) or a corrected RETURNED application; it must "
     "carry every required document"},
    {"withdraw", "intake.application.withdraw.v1", "--role applicant --actor org:USCC", "reason", 0,
     "withdraws an application before a decision"},
    {"accept", "intake.application.accept.v1", "--role staff --actor ID", "note", 0,
     "accepts a SUBMITTED application as complete (its organisation must be verified); "
     "evaluation follows"},
    {"return", "intake.application.return.v1", "--role staff --actor ID", "reason", 1,
     "returns a SUBMITTED application for correction, saying what to correct"},
    {"reject", "intake.application.reject.v1", "--role staff --actor ID", "reason", 1,
     "rejects a SUBMITTED application, saying why"},
};

static void s_transition_usage(const s_transition *t, FILE *f)
{
    fprintf(f, "usage: ccipctl %s intake application %s APPLICATION_ID%s%s%s%s\n  %s\n", t->role,
            t->verb, t->reason ? (t->required ? " --" : " [--") : "", t->reason ? t->reason : "",
            t->reason ? " TEXT" : "", t->reason && !t->required ? "]" : "", t->what);
}

static void s_print_transition(const ProtobufCMessage *m)
{
    const Ccip__Intake__Application *a = ((const Ccip__Intake__ApplicationReply *)m)->application;
    if (!a)
        return;
    if (a->status)
        printf("application %s is %s", a->id,
               s_enum_name(&ccip__intake__application_status__descriptor, a->status));
    else
        printf("application %s", a->id);
    if (a->applicant_view)
        printf("; the applicant sees %s: %s",
               s_enum_name(&ccip__intake__applicant_status__descriptor, a->applicant_view->status),
               a->applicant_view->message);
    printf("\n");
}

static int s_app_transition(ctl_opts *o, const s_transition *t, int argc, char **argv)
{
    struct option longs[] = {{"help", no_argument, NULL, 'h'},
                             {t->reason ? t->reason : "reason", required_argument, NULL, 'r'},
                             {NULL, 0, NULL, 0}};
    if (!t->reason)
        longs[1] = (struct option){NULL, 0, NULL, 0};
    Ccip__Intake__ApplicationActionRequest rq = CCIP__INTAKE__APPLICATION_ACTION_REQUEST__INIT;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'r') {
            rq.reason = optarg;
        } else {
            s_transition_usage(t, c == 'h' ? stdout : stderr);
            return c == 'h' ? CTL_OK : CTL_USAGE;
        }
    }
    if (argc - optind != 1 || (t->required && rq.reason == protobuf_c_empty_string)) {
        fprintf(stderr, "ccipctl: %s\n",
                argc - optind != 1 ? "give one APPLICATION_ID" : "say why with --reason");
        s_transition_usage(t, stderr);
        return CTL_USAGE;
    }
    rq.application_id = argv[optind];
    return s_run(o, t->type, &rq.base, &ccip__intake__application_reply__descriptor,
                 s_print_transition);
}

static const char S_APP_SHOW[] =
    "usage: ccipctl intake application show APPLICATION_ID\n"
    "  shows an application: content, facts, documents, and for staff its history; the\n"
    "  applicant sees its own status and timeline\n";

static int s_app_show(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1)
        return s_help(S_APP_SHOW, c);
    int code = s_positional(argc, argv, 1, S_APP_SHOW);
    if (code != GO_ON)
        return code;
    Ccip__Intake__GetApplicationRequest rq = CCIP__INTAKE__GET_APPLICATION_REQUEST__INIT;
    rq.application_id = argv[optind];
    return s_run(o, "intake.application.get.v1", &rq.base,
                 &ccip__intake__application_reply__descriptor, s_print_application);
}

static const char S_APP_LIST[] =
    "usage: ccipctl intake application list [--call CALL_ID] [--org USCC] [--status STATUS]\n"
    "  lists applications, latest change first (an applicant sees only its own).\n"
    "  STATUS: DRAFT, SUBMITTED, ACCEPTED, RETURNED, REJECTED, WITHDRAWN\n";

static int s_app_list(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"call", required_argument, NULL, 'c'},
                                          {"org", required_argument, NULL, 'o'},
                                          {"status", required_argument, NULL, 's'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    Ccip__Intake__ListApplicationsRequest rq = CCIP__INTAKE__LIST_APPLICATIONS_REQUEST__INIT;
    int c, s;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'c') {
            rq.call_id = optarg;
        } else if (c == 'o') {
            rq.applicant_uscc = optarg;
        } else if (c == 's') {
            if (s_enum_parse(&ccip__intake__application_status__descriptor, "--status", optarg,
                             &s) < 0)
                return CTL_USAGE;
            rq.status = (Ccip__Intake__ApplicationStatus)s;
        } else {
            return s_help(S_APP_LIST, c);
        }
    }
    int code = s_positional(argc, argv, 0, S_APP_LIST);
    if (code != GO_ON)
        return code;
    return s_run(o, "intake.application.list.v1", &rq.base,
                 &ccip__intake__list_applications_reply__descriptor, s_print_applications);
}

/* ---- dispatch ---------------------------------------------------------------------- */

typedef struct {
    const char *group; /* call, org, application */
    const char *verb;
    int (*fn)(ctl_opts *o, int argc, char **argv);
    const char *line; /* one line for the overview */
} s_command;

static const s_command S_COMMANDS[] = {
    {"call", "open", s_call_open, "open a call (staff)"},
    {"call", "close", s_call_close, "close a call early (staff)"},
    {"call", "close-due", s_call_close_due, "close every call whose window ended (staff)"},
    {"call", "list", s_call_list, "list calls"},
    {"call", "show", s_call_show, "show a call"},
    {"org", "register", s_org_register, "register an organisation"},
    {"org", "update", s_org_update, "replace an organisation's details"},
    {"org", "verify", s_org_verify, "verify an organisation (staff)"},
    {"org", "show", s_org_show, "show an organisation"},
    {"application", "draft", s_app_draft, "start an application (applicant)"},
    {"application", "file", s_app_file,
     "file a complete application with its documents in one step (applicant)"},
    {"application", "update", s_app_update, "change a draft or returned application (applicant)"},
    {"application", "add-document", s_app_add_document, "attach a file (applicant)"},
    {"application", "remove-document", s_app_remove_document, "detach a file (applicant)"},
    {"application", "get-document", s_app_get_document, "download a file"},
    {"application", "submit", NULL, "submit (applicant)"},
    {"application", "withdraw", NULL, "withdraw before a decision (applicant)"},
    {"application", "accept", NULL, "accept as complete (staff)"},
    {"application", "return", NULL, "return for correction (staff)"},
    {"application", "reject", NULL, "reject (staff)"},
    {"application", "show", s_app_show, "show an application"},
    {"application", "list", s_app_list, "list applications"},
};
#define NCOMMANDS (sizeof S_COMMANDS / sizeof S_COMMANDS[0])

static void s_overview(FILE *f, const char *group)
{
    fputs("usage: ccipctl [--json] --role ROLE --actor ID intake GROUP COMMAND [ARGS]\n"
          "  staff: --role staff --actor <id>; an applicant organisation: --role applicant\n"
          "  --actor org:<unified social credit code>. Every command has --help.\n\n",
          f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!group || strcmp(group, S_COMMANDS[i].group) == 0)
            fprintf(f, "  intake %-11s %-16s %s\n", S_COMMANDS[i].group, S_COMMANDS[i].verb,
                    S_COMMANDS[i].line);
}

int ctl_intake(ctl_opts *o, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        s_overview(argc < 2 ? stderr : stdout, NULL);
        return argc < 2 ? CTL_USAGE : CTL_OK;
    }
    const char *group = argv[1];
    int known_group = 0;
    for (size_t i = 0; i < NCOMMANDS; i++)
        known_group |= strcmp(group, S_COMMANDS[i].group) == 0;
    if (!known_group) {
        fprintf(stderr, "ccipctl: unknown intake group \"%s\"\n", group);
        s_overview(stderr, NULL);
        return CTL_USAGE;
    }
    if (argc < 3 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0) {
        s_overview(argc < 3 ? stderr : stdout, group);
        return argc < 3 ? CTL_USAGE : CTL_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(group, S_COMMANDS[i].group) != 0 || strcmp(argv[2], S_COMMANDS[i].verb) != 0)
            continue;
        if (S_COMMANDS[i].fn)
            return S_COMMANDS[i].fn(o, argc - 2, argv + 2);
        for (size_t t = 0; t < sizeof S_TRANSITIONS / sizeof S_TRANSITIONS[0]; t++)
            if (strcmp(S_TRANSITIONS[t].verb, argv[2]) == 0)
                return s_app_transition(o, &S_TRANSITIONS[t], argc - 2, argv + 2);
    }
    fprintf(stderr, "ccipctl: unknown command \"intake %s %s\"\n", group, argv[2]);
    s_overview(stderr, group);
    return CTL_USAGE;
}
