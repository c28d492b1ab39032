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
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/intake.pb-c.h"
#include "ccip_id.h"
#include "ccip_sock.h"
#include "ctl.h"

/* Room a document command needs besides the file: envelope and fields. */
#define DOCUMENT_OVERHEAD (64 * 1024)
#define SUMMARY_FILE_MAX  (64 * 1024)

/* ---- printing for people ----------------------------------------------------- */

static void s_print_call(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Intake__Call *c = ((const Ccip__Intake__CallReply *)m)->call;
    if (!c)
        return;
    char a[40], b[40], money[32];
    printf("call       %s\n", c->id);
    printf("title      %s\n", c->title);
    printf("kind       %s, year %d\n", ctl_enum_name(&ccip__intake__call_kind__descriptor, c->kind),
           c->year);
    ctl_time_text(c->opens_at_us, 0, a, sizeof a);
    ctl_time_text(c->closes_at_us, 0, b, sizeof b);
    printf("window     %s .. %s (%s)\n", a, b,
           c->accepting ? "accepting submissions now" : "not accepting submissions now");
    if (c->closed_at_us) {
        ctl_time_text(c->closed_at_us, 0, a, sizeof a);
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
               ctl_enum_name(&ccip__intake__organisation_type__descriptor, c->eligible_types[i]));
    printf("%s\n", c->n_eligible_types ? "" : "anyone");
    if (c->kind == CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT)
        printf("fund       %s, at most %s yuan per project\n", c->fund_programme_code,
               ctl_yuan_text(c->max_request_fen, money, sizeof money));
    ctl_time_text(c->opened_at_us, 0, a, sizeof a);
    printf("opened by  %s at %s\n", c->opened_by, a);
}

static void s_print_calls(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Intake__ListCallsReply *r = (const Ccip__Intake__ListCallsReply *)m;
    printf("%-36s  %-26s  %-4s  %-20s  %-20s  %-3s  %s\n", "CALL", "KIND", "YEAR", "OPENS",
           "CLOSES", "NOW", "TITLE");
    for (size_t i = 0; i < r->n_calls; i++) {
        const Ccip__Intake__Call *c = r->calls[i];
        char a[40], b[40];
        ctl_time_text(c->opens_at_us, 0, a, sizeof a);
        ctl_time_text(c->closes_at_us, 0, b, sizeof b);
        printf("%-36s  %-26s  %-4d  %-20s  %-20s  %-3s  %s\n", c->id,
               ctl_enum_name(&ccip__intake__call_kind__descriptor, c->kind), c->year, a, b,
               c->accepting ? "yes" : "no", c->title);
    }
    printf("(%zu call%s)\n", r->n_calls, r->n_calls == 1 ? "" : "s");
}

static void s_print_org(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Intake__Organisation *g =
        ((const Ccip__Intake__OrganisationReply *)m)->organisation;
    if (!g)
        return;
    char a[40];
    printf("organisation  %s\n", g->uscc);
    printf("name          %s\n", g->name);
    printf("type          %s\n",
           ctl_enum_name(&ccip__intake__organisation_type__descriptor, g->type));
    printf("district      %s\n", g->district_code);
    printf("legal rep.    %s\n", g->legal_representative);
    printf("contact       %s, %s%s%s\n", g->contact_name, g->contact_phone,
           g->contact_email[0] ? ", " : "", g->contact_email);
    if (g->address[0])
        printf("address       %s\n", g->address);
    ctl_time_text(g->registered_at_us, 0, a, sizeof a);
    printf("registered    %s by %s\n", a, g->registered_by);
    if (g->verified) {
        ctl_time_text(g->verified_at_us, 0, a, sizeof a);
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
                   ctl_yuan_text(f->budget_lines[i]->amount_fen, money, sizeof money));
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
           ctl_enum_name(&ccip__intake__call_kind__descriptor, a->kind), a->year, a->call_title);
    printf("applicant    %s %s\n", a->applicant_uscc, a->applicant_name);
    if (a->status)
        printf("status       %s\n",
               ctl_enum_name(&ccip__intake__application_status__descriptor, a->status));
    if (a->applicant_view)
        printf(
            "shown as     %s: %s\n",
            ctl_enum_name(&ccip__intake__applicant_status__descriptor, a->applicant_view->status),
            a->applicant_view->message);
    if (c) {
        printf("title        %s\n", c->title);
        printf("district     %s\n", c->district);
        if (c->requested_fen)
            printf("requested    %s yuan\n", ctl_yuan_text(c->requested_fen, money, sizeof money));
        printf("summary      %s\n", c->summary[0] ? c->summary : "(empty)");
        s_print_facts(c);
    }
    ctl_time_text(a->submitted_at_us, 0, t, sizeof t);
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
            ctl_time_text(h->at_us, 0, t, sizeof t);
            printf("  %-20s  %-9s -> %-9s  %s (%s)%s%s\n", t,
                   h->from_status ? ctl_enum_name(&ccip__intake__application_status__descriptor,
                                                  h->from_status)
                                  : "",
                   ctl_enum_name(&ccip__intake__application_status__descriptor, h->to_status),
                   h->actor_id, h->actor_role, h->reason[0] ? ": " : "", h->reason);
        }
    }
    if (a->applicant_view && a->applicant_view->n_timeline) {
        printf("timeline\n");
        for (size_t i = 0; i < a->applicant_view->n_timeline; i++) {
            const Ccip__Intake__TimelineEntry *e = a->applicant_view->timeline[i];
            ctl_time_text(e->at_us, 0, t, sizeof t);
            printf("  %-20s  %-10s  %s\n", t, e->source, e->message);
        }
    }
}

static void s_print_application(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Intake__ApplicationReply *r = (const Ccip__Intake__ApplicationReply *)m;
    if (r->application)
        s_print_application_value(r->application);
}

static void s_print_applications(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Intake__ListApplicationsReply *r = (const Ccip__Intake__ListApplicationsReply *)m;
    printf("%-36s  %-9s  %-25s  %-18s  %16s  %s\n", "APPLICATION", "STATUS", "APPLICANT SEES",
           "ORGANISATION", "REQUESTED (YUAN)", "TITLE");
    for (size_t i = 0; i < r->n_applications; i++) {
        const Ccip__Intake__ApplicationSummary *s = r->applications[i];
        char money[32];
        printf("%-36s  %-9s  %-25s  %-18s  %16s  %s\n", s->id,
               s->status ? ctl_enum_name(&ccip__intake__application_status__descriptor, s->status)
                         : "-",
               ctl_enum_name(&ccip__intake__applicant_status__descriptor, s->applicant_status),
               s->applicant_uscc, ctl_yuan_text(s->requested_fen, money, sizeof money), s->title);
    }
    printf("(%zu application%s)\n", r->n_applications, r->n_applications == 1 ? "" : "s");
    if (r->next_after_id[0])
        printf("(more: --after %s)\n", r->next_after_id);
}

static void s_print_document(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Intake__DocumentReply *r = (const Ccip__Intake__DocumentReply *)m;
    const Ccip__Intake__Document *d = r->document;
    if (!d)
        return;
    printf("added document %s: %s \"%s\" (%s, %" PRId64 " bytes)\n  sha256 %s%s\n", d->id,
           d->doc_type, d->name, d->media_type, d->size, d->sha256,
           r->deduplicated ? "\n  (the same content was stored already; stored once)" : "");
}

static void s_print_closed(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Intake__CloseDueReply *r = (const Ccip__Intake__CloseDueReply *)m;
    printf("%zu call%s closed\n", r->n_closed_call_ids, r->n_closed_call_ids == 1 ? "" : "s");
    for (size_t i = 0; i < r->n_closed_call_ids; i++)
        printf("%s\n", r->closed_call_ids[i]);
}

static void s_print_transition(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Intake__Application *a = ((const Ccip__Intake__ApplicationReply *)m)->application;
    if (!a)
        return;
    if (a->status)
        printf("application %s is %s", a->id,
               ctl_enum_name(&ccip__intake__application_status__descriptor, a->status));
    else
        printf("application %s", a->id);
    if (a->applicant_view)
        printf(
            "; the applicant sees %s: %s",
            ctl_enum_name(&ccip__intake__applicant_status__descriptor, a->applicant_view->status),
            a->applicant_view->message);
    printf("\n");
}

/* ---- values ------------------------------------------------------------------ */

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

/* The file name of a path. */
static char *s_base_name(char *path)
{
    char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* ---- calls and organisations -------------------------------------------------------- */

#define CALL_KIND(name, flags)                                                                     \
    CTL_ENUM(name, "kind", &ccip__intake__call_kind__descriptor, NULL, flags)

static const ctl_arg A_CALL_OPEN[] = {CALL_KIND("kind", CTL_REQUIRED),
                                      CTL_INT("year", "year", 1, 9999, CTL_REQUIRED),
                                      CTL_STR("title", "title", CTL_REQUIRED),
                                      CTL_TIME("opens", "opens_at_us", CTL_REQUIRED),
                                      CTL_TIME("closes", "closes_at_us", CTL_REQUIRED),
                                      CTL_STR("require", "required_documents", CTL_REPEATED),
                                      CTL_ENUM("eligible", "eligible_types",
                                               &ccip__intake__organisation_type__descriptor, NULL,
                                               CTL_REPEATED),
                                      CTL_STR("fund-programme", "fund_programme_code", 0),
                                      CTL_YUAN("max-request", "max_request_fen", 0),
                                      {0}};
static const ctl_arg A_CALL_CLOSE[] = {
    CTL_STR("CALL_ID", "call_id", CTL_ARG), CTL_STR("reason", "reason", 0), {0}};
static const ctl_arg A_CALL_LIST[] = {CTL_INT("year", "year", 1, 9999, 0),
                                      CALL_KIND("kind", 0),
                                      CTL_FLAG("accepting", "accepting_only"),
                                      {0}};
static const ctl_arg A_CALL_SHOW[] = {CTL_STR("CALL_ID", "call_id", CTL_ARG), {0}};

/* An organisation's details; update sends them in its details field. */
#define ORG_DETAILS(in)                                                                            \
    CTL_STR("uscc", in "uscc", 0), CTL_STR("name", in "name", 0),                                  \
        CTL_ENUM("type", in "type", &ccip__intake__organisation_type__descriptor, NULL,            \
                 CTL_REQUIRED),                                                                    \
        CTL_STR("district", in "district", 0), CTL_STR("legal-rep", in "legal_representative", 0), \
        CTL_STR("contact-name", in "contact_name", 0),                                             \
        CTL_STR("contact-phone", in "contact_phone", 0),                                           \
        CTL_STR("contact-email", in "contact_email", 0), CTL_STR("address", in "address", 0)

#define ORG_SYNOPSIS                                                                               \
    "--uscc CODE --name NAME --type ORG_TYPE\n"                                                    \
    "           --district DISTRICT --legal-rep NAME --contact-name NAME --contact-phone PHONE\n"  \
    "           [--contact-email EMAIL] [--address TEXT]"

/* Missing details are the service's to explain, with the field's name. */
static const ctl_arg A_ORG_REGISTER[] = {ORG_DETAILS(""), {0}};
static const ctl_arg A_ORG_UPDATE[] = {
    ORG_DETAILS("details."), CTL_STR("reason", "reason", 0), {0}};
static const ctl_arg A_ORG_VERIFY[] = {
    CTL_STR("USCC", "uscc", CTL_ARG), CTL_STR("note", "note", 0), {0}};
static const ctl_arg A_ORG_SHOW[] = {CTL_STR("USCC", "uscc", CTL_ARG), {0}};

/* ---- application content ------------------------------------------------------------ */

/* The content and facts options of draft, file and update; the content's
 * own fields are filled from the table, the facts here. */
#define CONTENT_ARGS                                                                               \
    CTL_STR("title", "content.title", 0), CTL_STR("summary", "content.summary", 0),                \
        CTL_STR("summary-file", NULL, 0), CTL_STR("district", "content.district", 0),              \
        CTL_YUAN("requested", "content.requested_fen", 0), CTL_STR("cluster-name", NULL, 0),       \
        CTL_STR("location", NULL, 0), CTL_INT("area-m2", NULL, 0, INT64_MAX, 0),                   \
        CTL_INT("enterprises", NULL, 0, INT32_MAX, 0),                                             \
        CTL_INT("employees", NULL, 0, INT32_MAX, 0), CTL_STR("lead-operator", NULL, 0),            \
        CTL_STR("programme", NULL, CTL_REPEATED), CTL_INT("capacity", NULL, 0, INT32_MAX, 0),      \
        CTL_STR("budget-line", NULL, CTL_REPEATED)

#define CONTENT_USAGE                                                                              \
    "  content: --title TEXT --summary TEXT | --summary-file PATH --district DISTRICT\n"           \
    "           --requested YUAN (special funds)\n"                                                \
    "  cluster facts: --cluster-name TEXT --location TEXT --area-m2 N --enterprises N\n"           \
    "           --employees N --lead-operator TEXT\n"                                              \
    "  talent base facts: --programme NAME=TRAINEES_A_YEAR (repeat) --capacity N\n"                \
    "  project facts: --budget-line ITEM=YUAN (repeat)\n"

/* --continues: the new application joins an approved earlier case of the
 * same organisation (a designated cluster's special-fund project), so that
 * every service's events about it carry that case's root id. */
#define CONTINUES_USAGE                                                                            \
    "  --continues CASE_ID: continue an approved case of the organisation (its root "              \
    "application id)\n"

/* Splits "NAME=VALUE" at the last '='. Returns the name, or NULL after
 * printing why. */
static char *s_pair(ctl_args *a, const char *option, const char *text, char **value)
{
    char *name = ctl_cut(a, text, '=', 1, value);
    if (*value && name[0] && (*value)[0])
        return name;
    ctl_wrong(option, "NAME=VALUE", text);
    return NULL;
}

/* The cluster facts given, on top of base's (when it has some). */
static void s_cluster(ctl_args *a, const Ccip__Intake__ApplicationContent *base,
                      Ccip__Intake__ApplicationContent *c)
{
    Ccip__Intake__ClusterFacts *f = ctl_alloc(a, sizeof *f);
    *f = base && base->facts_case == CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER
             ? *base->cluster
             : (Ccip__Intake__ClusterFacts)CCIP__INTAKE__CLUSTER_FACTS__INIT;
    if (ctl_given(a, "cluster-name"))
        f->cluster_name = ctl_str(a, "cluster-name");
    if (ctl_given(a, "location"))
        f->location = ctl_str(a, "location");
    if (ctl_given(a, "lead-operator"))
        f->lead_operator = ctl_str(a, "lead-operator");
    if (ctl_given(a, "area-m2"))
        f->area_m2 = ctl_int(a, "area-m2");
    if (ctl_given(a, "enterprises"))
        f->enterprise_count = (int32_t)ctl_int(a, "enterprises");
    if (ctl_given(a, "employees"))
        f->employee_count = (int32_t)ctl_int(a, "employees");
    c->facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
    c->cluster = f;
}

/* The talent base facts given, on top of base's. Returns 0 or -1 after
 * printing why. */
static int s_talent(ctl_args *a, const Ccip__Intake__ApplicationContent *base,
                    Ccip__Intake__ApplicationContent *c)
{
    Ccip__Intake__TalentBaseFacts *f = ctl_alloc(a, sizeof *f);
    *f = base && base->facts_case == CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE
             ? *base->talent_base
             : (Ccip__Intake__TalentBaseFacts)CCIP__INTAKE__TALENT_BASE_FACTS__INIT;
    if (ctl_given(a, "capacity"))
        f->annual_capacity = (int32_t)ctl_int(a, "capacity");
    size_t n = (size_t)ctl_given(a, "programme");
    if (n) {
        f->programmes = ctl_messages(a, &ccip__intake__training_programme__descriptor, n);
        f->n_programmes = n;
    }
    for (size_t i = 0; i < n; i++) {
        char *value;
        int64_t v;
        f->programmes[i]->name =
            s_pair(a, "--programme", ctl_str_at(a, "programme", (int)i), &value);
        if (!f->programmes[i]->name ||
            ctl_parse_int("--programme capacity", value, 0, INT32_MAX, &v) < 0)
            return -1;
        f->programmes[i]->capacity = (int32_t)v;
    }
    c->facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE;
    c->talent_base = f;
    return 0;
}

/* The project facts: the budget lines given. Returns 0 or -1 after
 * printing why. */
static int s_project(ctl_args *a, Ccip__Intake__ApplicationContent *c)
{
    Ccip__Intake__ProjectFacts *f = ctl_alloc(a, sizeof *f);
    *f = (Ccip__Intake__ProjectFacts)CCIP__INTAKE__PROJECT_FACTS__INIT;
    f->n_budget_lines = (size_t)ctl_given(a, "budget-line");
    f->budget_lines = ctl_messages(a, &ccip__intake__budget_line__descriptor, f->n_budget_lines);
    for (size_t i = 0; i < f->n_budget_lines; i++) {
        char *value;
        f->budget_lines[i]->item =
            s_pair(a, "--budget-line", ctl_str_at(a, "budget-line", (int)i), &value);
        if (!f->budget_lines[i]->item ||
            ctl_parse_yuan("--budget-line amount", value, &f->budget_lines[i]->amount_fen) < 0)
            return -1;
    }
    c->facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT;
    c->project = f;
    return 0;
}

/* The content on top of `base` (the application as it is, for an update;
 * NULL for a new one): the summary file and the facts given (the content's
 * own fields come from the table). Returns it, or NULL after printing
 * why. */
static Ccip__Intake__ApplicationContent *s_content(ctl_args *a,
                                                   const Ccip__Intake__ApplicationContent *base)
{
    Ccip__Intake__ApplicationContent *c = ctl_alloc(a, sizeof *c);
    *c = base ? *base : (Ccip__Intake__ApplicationContent)CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    c->base =
        (ProtobufCMessage)PROTOBUF_C_MESSAGE_INIT(&ccip__intake__application_content__descriptor);
    size_t n;
    if (ctl_given(a, "summary-file") &&
        !(c->summary = (char *)ctl_read_file(a, ctl_str(a, "summary-file"), SUMMARY_FILE_MAX, &n)))
        return NULL;
    int cluster = ctl_given(a, "cluster-name") || ctl_given(a, "location") ||
                  ctl_given(a, "area-m2") || ctl_given(a, "enterprises") ||
                  ctl_given(a, "employees") || ctl_given(a, "lead-operator");
    int talent = ctl_given(a, "programme") || ctl_given(a, "capacity");
    int project = ctl_given(a, "budget-line") > 0;
    if (cluster + talent + project > 1) {
        fprintf(stderr, "ccipctl: give the facts of one kind only: cluster, talent base or "
                        "project options\n");
        return NULL;
    }
    if (cluster)
        s_cluster(a, base, c);
    if ((talent && s_talent(a, base, c) < 0) || (project && s_project(a, c) < 0))
        return NULL;
    return c;
}

/* ---- applications ------------------------------------------------------------------ */

static const ctl_arg A_APP_DRAFT[] = {CTL_STR("call", "call_id", CTL_REQUIRED),
                                      CTL_STR("org", "applicant_uscc", 0),
                                      CTL_STR("continues", "continues_case", 0),
                                      CONTENT_ARGS,
                                      {0}};

static int s_app_draft(ctl_opts *o, ctl_args *a)
{
    Ccip__Intake__DraftApplicationRequest rq = CCIP__INTAKE__DRAFT_APPLICATION_REQUEST__INIT;
    if (!(rq.content = s_content(a, NULL)))
        return CTL_USAGE;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_APP_FILE[] = {CTL_STR("call", "call_id", CTL_REQUIRED),
                                     CTL_STR("org", "applicant_uscc", 0),
                                     CTL_STR("continues", "continues_case", 0),
                                     CTL_STR("document", NULL, CTL_REPEATED),
                                     CONTENT_ARGS,
                                     {0}};

/* The content, and every --document DOC_TYPE=PATH read into the one
 * message. */
static int s_app_file(ctl_opts *o, ctl_args *a)
{
    Ccip__Intake__FileApplicationRequest rq = CCIP__INTAKE__FILE_APPLICATION_REQUEST__INIT;
    if (!(rq.content = s_content(a, NULL)))
        return CTL_USAGE;
    size_t room = CCIP_SOCK_MAX_MESSAGE_DEFAULT - DOCUMENT_OVERHEAD;
    rq.n_documents = (size_t)ctl_given(a, "document");
    rq.documents = ctl_messages(a, &ccip__intake__document_upload__descriptor, rq.n_documents);
    for (size_t i = 0; i < rq.n_documents; i++) {
        Ccip__Intake__DocumentUpload *d = rq.documents[i];
        /* DOC_TYPE is a code, so the first '=' ends it (a path may hold more). */
        const char *text = ctl_str_at(a, "document", (int)i);
        char *path;
        d->doc_type = ctl_cut(a, text, '=', 0, &path);
        if (!path || !d->doc_type[0] || !path[0]) {
            ctl_wrong("--document", "DOC_TYPE=PATH", text);
            return CTL_USAGE;
        }
        if (!(d->content.data = ctl_read_file(a, path, room, &d->content.len)))
            return CTL_LOCAL;
        room -= d->content.len;
        d->name = s_base_name(path);
        d->media_type = (char *)s_media_type(path);
    }
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_APP_UPDATE[] = {
    CTL_STR("APPLICATION_ID", "application_id", CTL_ARG), CONTENT_ARGS, {0}};

/* An update replaces the content: it starts from what is stored. */
static int s_app_update(ctl_opts *o, ctl_args *a)
{
    Ccip__Intake__GetApplicationRequest g = CCIP__INTAKE__GET_APPLICATION_REQUEST__INIT;
    g.application_id = ctl_str(a, "APPLICATION_ID");
    ccip_client *c = NULL;
    Ccip__Intake__ApplicationReply *current = NULL;
    int code =
        ctl_request(o, &c, "intake", "intake.application.get.v1", &g.base,
                    &ccip__intake__application_reply__descriptor, (ProtobufCMessage **)&current);
    ccip_client_destroy(&c);
    if (code == CTL_OK && (!current->application || !current->application->content)) {
        fprintf(stderr, "ccipctl: intake sent no content for %s\n", g.application_id);
        code = CTL_REFUSED;
    }
    Ccip__Intake__UpdateApplicationRequest rq = CCIP__INTAKE__UPDATE_APPLICATION_REQUEST__INIT;
    if (code == CTL_OK && !(rq.content = s_content(a, current->application->content)))
        code = CTL_USAGE;
    if (code == CTL_OK)
        code = ctl_send(o, a, &rq.base);
    if (current)
        protobuf_c_message_free_unpacked(&current->base, NULL);
    return code;
}

static const ctl_arg A_ADD_DOCUMENT[] = {CTL_STR("APPLICATION_ID", "application_id", CTL_ARG),
                                         CTL_STR("type", "doc_type", CTL_REQUIRED),
                                         CTL_STR("file", NULL, CTL_REQUIRED),
                                         CTL_STR("name", "name", 0),
                                         CTL_STR("media-type", "media_type", 0),
                                         {0}};

/* The file's content; its name and media type unless given. */
static int s_app_add_document(ctl_opts *o, ctl_args *a)
{
    Ccip__Intake__AddDocumentRequest rq = CCIP__INTAKE__ADD_DOCUMENT_REQUEST__INIT;
    char *file = ctl_str(a, "file");
    uint8_t *content =
        ctl_read_file(a, file, CCIP_SOCK_MAX_MESSAGE_DEFAULT - DOCUMENT_OVERHEAD, &rq.content.len);
    if (!content)
        return CTL_LOCAL;
    rq.content.data = content;
    rq.name = s_base_name(file);
    rq.media_type = (char *)s_media_type(file);
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_APP_DOCUMENT[] = {CTL_STR("APPLICATION_ID", "application_id", CTL_ARG),
                                         CTL_STR("DOCUMENT_ID", "document_id", CTL_ARG),
                                         {0}};
static const ctl_arg A_GET_DOCUMENT[] = {CTL_STR("APPLICATION_ID", "application_id", CTL_ARG),
                                         CTL_STR("DOCUMENT_ID", "document_id", CTL_ARG),
                                         CTL_STR("out", NULL, CTL_REQUIRED),
                                         {0}};

/* Writes the content to --out ("-": standard output), then says what it
 * wrote (unless that was standard output). */
static int s_app_get_document(ctl_opts *o, ctl_args *a)
{
    Ccip__Intake__GetDocumentRequest rq = CCIP__INTAKE__GET_DOCUMENT_REQUEST__INIT;
    Ccip__Intake__DocumentContentReply *r = NULL;
    int code = ctl_send_reply(o, a, &rq.base, (ProtobufCMessage **)&r);
    if (code != CTL_OK)
        return code;
    const char *out = ctl_str(a, "out");
    int to_stdout = strcmp(out, "-") == 0;
    if (ctl_write_file(out, r->content.data, r->content.len) < 0)
        code = CTL_LOCAL;
    if (code == CTL_OK && !to_stdout && r->document) {
        if (o->json) {
            ctl_json_message(stdout, &r->document->base);
            fputc('\n', stdout);
        } else {
            printf("wrote %s: %s \"%s\" (%s, %zu bytes, sha256 %s)\n", out, r->document->doc_type,
                   r->document->name, r->document->media_type, r->content.len, r->document->sha256);
        }
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return code;
}

/* submit, withdraw, accept, return, reject: one request; accept's --note
 * is the reason field. */
static const ctl_arg A_APP_ID[] = {CTL_STR("APPLICATION_ID", "application_id", CTL_ARG), {0}};
static const ctl_arg A_APP_REASON[] = {
    CTL_STR("APPLICATION_ID", "application_id", CTL_ARG), CTL_STR("reason", "reason", 0), {0}};
static const ctl_arg A_APP_WHY[] = {CTL_STR("APPLICATION_ID", "application_id", CTL_ARG),
                                    CTL_STR("reason", "reason", CTL_REQUIRED),
                                    {0}};
static const ctl_arg A_APP_NOTE[] = {
    CTL_STR("APPLICATION_ID", "application_id", CTL_ARG), CTL_STR("note", "reason", 0), {0}};
static const ctl_arg A_APP_LIST[] = {
    CTL_STR("call", "call_id", 0),
    CTL_STR("org", "applicant_uscc", 0),
    CTL_ENUM("status", "status", &ccip__intake__application_status__descriptor, NULL, 0),
    CTL_STR("after", "after_id", 0),
    CTL_INT("limit", "limit", 0, 500, 0),
    {0}};

/* ---- the table ---------------------------------------------------------------------- */

#define Q(name)   &ccip__intake__##name##_request__descriptor
#define R(name)   &ccip__intake__##name##_reply__descriptor
#define STAFF     "--role staff --actor ID"
#define APPLICANT "--role applicant --actor org:USCC"

static const ctl_command S_COMMANDS[] = {
    {"call open",
     "--kind KIND --year YEAR\n"
     "           --title TEXT --opens TIME --closes TIME [--require DOC_TYPE]...\n"
     "           [--eligible ORG_TYPE]... [--fund-programme CODE --max-request YUAN]",
     A_CALL_OPEN, "intake.call.open.v1", Q(open_call), R(call), s_print_call, .who = STAFF,
     .summary = "open a call (staff)",
     .about =
         "  opens (publishes) a call. KIND: CLUSTER_IDENTIFICATION, TALENT_BASE_IDENTIFICATION or\n"
         "  SPECIAL_FUND_PROJECT (which needs --fund-programme and --max-request, the most one\n"
         "  project may request). TIME: 2027-03-01T09:00:00+08:00, ...Z, or a date (UTC "
         "midnight).\n"
         "  --require names a document type every application must carry; --eligible limits "
         "who\n"
         "  may apply: DISTRICT_GOVERNMENT, MUNICIPAL_COMMISSION, ENTERPRISE, INSTITUTION.\n"},
    {"call close", "CALL_ID [--reason TEXT]", A_CALL_CLOSE, "intake.call.close.v1", Q(close_call),
     R(call), s_print_call, .who = STAFF, .summary = "close a call early (staff)",
     .about = "  closes a call before (or after) its closing time; no submissions are accepted "
              "after\n"},
    {"call close-due", NULL, NULL, "intake.call.close_due.v1", Q(close_due), R(close_due),
     s_print_closed, .who = STAFF, .summary = "close every call whose window ended (staff)",
     .about = "  closes now every call whose submission window has ended (intake also does it "
              "by\n"
              "  itself every intake.close_check_seconds) and lists them\n"},
    {"call list", "[--year YEAR] [--kind KIND] [--accepting]", A_CALL_LIST, "intake.call.list.v1",
     Q(list_calls), R(list_calls), s_print_calls, .summary = "list calls",
     .about = "  lists calls, newest first; --accepting shows only those accepting submissions "
              "now\n"},
    {"call show", "CALL_ID", A_CALL_SHOW, "intake.call.get.v1", Q(get_call), R(call), s_print_call,
     .summary = "show a call",
     .about = "  shows a call: window, required documents, who may apply\n"},
    {"org register", ORG_SYNOPSIS, A_ORG_REGISTER, "intake.organisation.register.v1",
     Q(register_organisation), R(organisation), s_print_org, .summary = "register an organisation",
     .about = "  registers an organisation (an applicant registers itself: --role applicant "
              "--actor\n"
              "  org:CODE; staff may register any). ORG_TYPE: DISTRICT_GOVERNMENT, "
              "MUNICIPAL_COMMISSION,\n"
              "  ENTERPRISE, INSTITUTION. DISTRICT: a Beijing district by code (110105) or "
              "name.\n"},
    {"org update", ORG_SYNOPSIS " [--reason TEXT]", A_ORG_UPDATE, "intake.organisation.update.v1",
     Q(update_organisation), R(organisation), s_print_org,
     .summary = "replace an organisation's details",
     .about = "  replaces an organisation's details with these (all of them, as at "
              "registration); a\n"
              "  new name, type or district withdraws its verification until staff verify it "
              "again\n"},
    {"org verify", "USCC [--note TEXT]", A_ORG_VERIFY, "intake.organisation.verify.v1",
     Q(verify_organisation), R(organisation), s_print_org, .who = STAFF,
     .summary = "verify an organisation (staff)",
     .about = "  records that staff checked the organisation; only then are its applications "
              "accepted\n"},
    {"org show", "USCC", A_ORG_SHOW, "intake.organisation.get.v1", Q(get_organisation),
     R(organisation), s_print_org, .summary = "show an organisation",
     .about = "  shows a registered organisation\n"},
    {"application draft",
     "--call CALL_ID\n"
     "           --title TEXT [--org USCC] [--continues CASE_ID] [content and facts options]",
     A_APP_DRAFT, "intake.application.draft.v1", Q(draft_application), R(application),
     s_print_application, s_app_draft, .who = APPLICANT,
     .summary = "start an application (applicant)",
     .about = "  starts an application of the caller's organisation (--org defaults to the "
              "actor's)\n" CONTINUES_USAGE CONTENT_USAGE},
    {"application file",
     "--call CALL_ID\n"
     "           --title TEXT [--org USCC] [--continues CASE_ID] [content and facts options]\n"
     "           --document DOC_TYPE=PATH (repeat, one per document)",
     A_APP_FILE, "intake.application.file.v1", Q(file_application), R(application),
     s_print_application, s_app_file, .who = APPLICANT,
     .summary = "file a complete application with its documents in one step (applicant)",
     .about = "  files a complete application in one step: it is drafted and submitted at once "
              "with\n"
              "  its documents (file name from PATH, media type guessed from its extension), "
              "or\n"
              "  refused with nothing written\n" CONTINUES_USAGE CONTENT_USAGE},
    {"application update",
     "APPLICATION_ID\n"
     "           [content and facts options]",
     A_APP_UPDATE, "intake.application.update.v1", Q(update_application), R(application),
     s_print_application, s_app_update, .who = APPLICANT,
     .summary = "change a draft or returned application (applicant)",
     .about = "  changes a DRAFT or RETURNED application: what is not given stays as it is; "
              "repeated\n"
              "  options (--programme, --budget-line) replace the whole list\n" CONTENT_USAGE},
    {"application add-document",
     "\n           APPLICATION_ID --type DOC_TYPE --file PATH [--name NAME] [--media-type TYPE]",
     A_ADD_DOCUMENT, "intake.application.document.add.v1", Q(add_document), R(document),
     s_print_document, s_app_add_document, .who = APPLICANT, .summary = "attach a file (applicant)",
     .about = "  attaches a file (name defaults to the file's, the media type to one guessed "
              "from its\n"
              "  extension); intake stores its SHA-256 and keeps identical content once\n"},
    {"application remove-document", "\n           APPLICATION_ID DOCUMENT_ID", A_APP_DOCUMENT,
     "intake.application.document.remove.v1", Q(remove_document), R(application),
     s_print_application, .who = APPLICANT, .summary = "detach a file (applicant)",
     .about = "  detaches a document from a DRAFT or RETURNED application\n"},
    {"application get-document", "APPLICATION_ID DOCUMENT_ID --out PATH", A_GET_DOCUMENT,
     "intake.document.get.v1", Q(get_document), R(document_content), NULL, s_app_get_document,
     .summary = "download a file",
     .about = "  writes a document's content to PATH (\"-\" for standard output)\n"},
    {"application submit", "APPLICATION_ID", A_APP_ID, "intake.application.submit.v1",
     Q(application_action), R(application), s_print_transition, .who = APPLICANT,
     .summary = "submit (applicant)",
     .about = "  submits a DRAFT (while the call is open) or a corrected RETURNED application; "
              "it must carry every required document\n"},
    {"application withdraw", "APPLICATION_ID [--reason TEXT]", A_APP_REASON,
     "intake.application.withdraw.v1", Q(application_action), R(application), s_print_transition,
     .who = APPLICANT, .summary = "withdraw before a decision (applicant)",
     .about = "  withdraws an application before a decision\n"},
    {"application accept", "APPLICATION_ID [--note TEXT]", A_APP_NOTE,
     "intake.application.accept.v1", Q(application_action), R(application), s_print_transition,
     .who = STAFF, .summary = "accept as complete (staff)",
     .about = "  accepts a SUBMITTED application as complete (its organisation must be "
              "verified); evaluation follows\n"},
    {"application return", "APPLICATION_ID --reason TEXT", A_APP_WHY,
     "intake.application.return.v1", Q(application_action), R(application), s_print_transition,
     .who = STAFF, .summary = "return for correction (staff)",
     .about = "  returns a SUBMITTED application for correction, saying what to correct\n"},
    {"application reject", "APPLICATION_ID --reason TEXT", A_APP_WHY,
     "intake.application.reject.v1", Q(application_action), R(application), s_print_transition,
     .who = STAFF, .summary = "reject (staff)",
     .about = "  rejects a SUBMITTED application, saying why\n"},
    {"application show", "APPLICATION_ID", A_APP_ID, "intake.application.get.v1",
     Q(get_application), R(application), s_print_application, .summary = "show an application",
     .about = "  shows an application: content, facts, documents, and for staff its history; "
              "the\n"
              "  applicant sees its own status and timeline\n"},
    {"application list", "[--call CALL_ID] [--org USCC] [--status STATUS] [--after ID] [--limit N]",
     A_APP_LIST, "intake.application.list.v1", Q(list_applications), R(list_applications),
     s_print_applications, .summary = "list applications",
     .about = "  lists applications, latest change first (an applicant sees only its own).\n"
              "  STATUS: DRAFT, SUBMITTED, ACCEPTED, RETURNED, REJECTED, WITHDRAWN\n"},
};

static const ctl_service S_INTAKE = {
    .name = "intake",
    .header = "usage: ccipctl [--json] --role ROLE --actor ID intake GROUP COMMAND [ARGS]\n"
              "  staff: --role staff --actor <id>; an applicant organisation: --role applicant\n"
              "  --actor org:<unified social credit code>. Every command has --help.\n\n",
    .list_prefix = "  intake ",
    .group_width = 11,
    .verb_width = 16,
    .commands = S_COMMANDS,
    .ncommands = sizeof S_COMMANDS / sizeof S_COMMANDS[0],
};

int ctl_intake(ctl_opts *o, int argc, char **argv)
{
    return ctl_service_run(o, &S_INTAKE, argc, argv);
}
