/*
 * ccipctl case ...: one case followed across every service (services/casefile).
 *
 *   case show ID        the case's summary and every step, oldest first, in
 *                       every service (an applicant: its own case, as
 *                       intake's applicant view shows it)
 *   case search [TEXT]  cases by any fragment of a title, the applicant's
 *                       name or credit code, and by applicant, district,
 *                       state and kind
 *   case dossier ID     every object of the case as its service last
 *                       published it (staff, the office)
 *
 * ID is the case's root id or the id of any of its applications. For people
 * the output is a summary and one line per step, times in Beijing (UTC+8,
 * as ctl_beijing_text writes them); --json prints the reply (UTC microseconds).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ccip/casefile.pb-c.h"
#include "ccip_id.h"
#include "ctl.h"

/* The request and reply descriptors of a table line. */
#define Q(name) (&ccip__casefile__##name##__descriptor)
#define R(name) Q(name)

/* ---- printing ------------------------------------------------------------------- */

static void s_print_summary(const Ccip__Casefile__CaseSummary *s)
{
    if (!s)
        return;
    char opened[CTL_BEIJING_STRLEN + 1], updated[CTL_BEIJING_STRLEN + 1];
    printf("case %s  %s\n", s->root_id, s->title);
    printf("  kind: %s   state: %s\n", ctl_enum_name(&ccip__intake__call_kind__descriptor, s->kind),
           s->state ? ctl_enum_name(&ccip__casefile__case_state__descriptor, s->state) : "-");
    printf("  applicant: %s (%s)   district: %s\n", s->applicant_name, s->applicant_uscc,
           s->district_code[0] ? s->district_code : "-");
    printf("  opened: %s   updated: %s   steps: %d\n",
           ctl_beijing_text(s->opened_at_us, opened, sizeof opened),
           ctl_beijing_text(s->updated_at_us, updated, sizeof updated), (int)s->steps);
    for (size_t i = 0; i < s->n_application_ids; i++)
        printf("  application: %s%s\n", s->application_ids[i], i == 0 ? "" : " (continues it)");
}

static void s_print_steps(Ccip__Casefile__Step *const *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const Ccip__Casefile__Step *s = steps[i];
        char at[CTL_BEIJING_STRLEN + 1];
        printf("%s  %-10s %-40s %s\n", ctl_beijing_text(s->at_us, at, sizeof at), s->service,
               s->action, s->actor_id);
        if (s->detail[0]) /* under the service, past the time and its two spaces */
            printf("%*s%s\n", CTL_BEIJING_STRLEN + 2, "", s->detail);
    }
}

static void s_print_case(const ProtobufCMessage *reply, ctl_args *a)
{
    (void)a;
    const Ccip__Casefile__CaseReply *r = (const void *)reply;
    s_print_summary(r->summary);
    if (r->n_timeline) {
        printf("\n");
        s_print_steps(r->timeline, r->n_timeline);
    }
    for (size_t i = 0; i < r->n_applicant_view; i++) {
        const Ccip__Casefile__ApplicantStep *s = r->applicant_view[i];
        char at[CTL_BEIJING_STRLEN + 1];
        printf("%s  %-10s %-28s %s\n", ctl_beijing_text(s->at_us, at, sizeof at), s->service,
               ctl_enum_name(&ccip__intake__applicant_status__descriptor, s->status), s->message);
    }
}

static void s_print_search(const ProtobufCMessage *reply, ctl_args *a)
{
    (void)a;
    const Ccip__Casefile__SearchCasesReply *r = (const void *)reply;
    printf("%-36s  %-20s %-8s %-18s %s\n", "CASE", "STATE", "DISTRICT", "APPLICANT", "TITLE");
    for (size_t i = 0; i < r->n_cases; i++) {
        const Ccip__Casefile__CaseSummary *s = r->cases[i];
        printf("%-36s  %-20s %-8s %-18s %s\n", s->root_id,
               s->state ? ctl_enum_name(&ccip__casefile__case_state__descriptor, s->state) : "-",
               s->district_code[0] ? s->district_code : "-", s->applicant_uscc, s->title);
    }
    printf("%zu case%s\n", r->n_cases, r->n_cases == 1 ? "" : "s");
}

static void s_print_dossier(const ProtobufCMessage *reply, ctl_args *a)
{
    (void)a;
    const Ccip__Casefile__DossierReply *r = (const void *)reply;
    s_print_summary(r->summary);
    /* what the dossier holds, by kind; --json prints every object */
    const ProtobufCMessageDescriptor *d = r->base.descriptor;
    printf("  objects:");
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->label == PROTOBUF_C_LABEL_REPEATED && strcmp(f->name, "timeline") != 0)
            printf(" %s %zu", f->name, ctl_field_count(&r->base, f));
    }
    printf("\n\n");
    s_print_steps(r->timeline, r->n_timeline);
}

/* ---- the table ------------------------------------------------------------------- */

static const ctl_arg A_ID[] = {CTL_STR("ID", "case_id", CTL_ARG), {0}};
static const ctl_arg A_SEARCH[] = {
    CTL_STR("TEXT", "text", CTL_ARG_OPTIONAL),
    CTL_STR("applicant", "applicant_uscc", 0),
    CTL_STR("district", "district", 0),
    CTL_ENUM("state", "state", &ccip__casefile__case_state__descriptor, NULL, 0),
    CTL_ENUM("kind", "kind", &ccip__intake__call_kind__descriptor, NULL, 0),
    CTL_INT("limit", "limit", 1, 500, 0),
    {0}};

static const ctl_command S_COMMANDS[] = {
    {"show", "ID", A_ID, "casefile.case.get.v1", Q(get_case_request), R(case_reply), s_print_case,
     .about = "  the case (its root id or any of its applications' ids) and every step in every\n"
              "  service, oldest first; an applicant sees its own cases as intake shows them\n"},
    {"search",
     "[TEXT] [--applicant USCC] [--district CODE|NAME] [--state STATE] [--kind KIND]\n"
     "           [--limit N]",
     A_SEARCH, "casefile.case.search.v1", Q(search_cases_request), R(search_cases_reply),
     s_print_search,
     .about = "  cases whose title, applicant name or credit code contains TEXT (any fragment,\n"
              "  Chinese too), latest change first; STATE e.g. funded, in-evaluation\n"},
    {"dossier", "ID", A_ID, "casefile.case.dossier.v1", Q(get_case_request), R(dossier_reply),
     s_print_dossier, .who = "--role staff|office",
     .about = "  every object of the case as its service last published it (--json prints "
              "them)\n"},
};

static const ctl_service S_CASE = {
    .name = "case",
    .bus_name = "casefile",
    .header = "usage: ccipctl [--json] [--role ROLE --actor ID] case COMMAND [ARGS]\n"
              "  one case followed across intake, evaluation, funding, ip and stats.\n"
              "  An applicant (--role applicant --actor org:USCC) sees its own cases only.\n\n",
    .list_prefix = "  case ",
    .commands = S_COMMANDS,
    .ncommands = sizeof S_COMMANDS / sizeof S_COMMANDS[0],
};

int ctl_case(ctl_opts *o, int argc, char **argv)
{
    return ctl_service_run(o, &S_CASE, argc, argv);
}
