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
#define NUMBER_MIN                 (-1000000000)
#define NUMBER_MAX                 1000000000
#define NUMBER(name, field, flags) CTL_INT(name, field, NUMBER_MIN, NUMBER_MAX, flags)

/* ---- values ------------------------------------------------------------------------ */

/* "70" or "70.5" or "70.25" points as hundredths. */
static int s_points(const char *option, const char *text, int *out)
{
    ccip_fen v;
    if (ccip_fen_parse(text, &v) < 0 || v < 0 || v > 10000)
        return ctl_wrong(option, "points from 0 to 100 with at most two decimals", text);
    *out = (int)v;
    return 0;
}

/* ---- registers ------------------------------------------------------------------- */

static const ctl_arg A_AGENCY_REGISTER[] = {CTL_STR("ID", "id", CTL_ARG),
                                            CTL_STR("name", "name", 0),
                                            CTL_STR("uscc", "uscc", 0),
                                            CTL_STR("qualification", "qualification", 0),
                                            CTL_LIST("districts", "districts_served", 0),
                                            NUMBER("capacity", "capacity", 0),
                                            CTL_STR("conflict", NULL, CTL_REPEATED),
                                            {0}};
static const ctl_arg A_EXPERT_REGISTER[] = {CTL_STR("ID", "id", CTL_ARG),
                                            CTL_STR("name", "name", 0),
                                            CTL_LIST("fields", "fields", 0),
                                            CTL_STR("affiliation", "affiliation_uscc", 0),
                                            CTL_STR("affiliation-name", "affiliation_name", 0),
                                            CTL_STR("district", "district", 0),
                                            NUMBER("max-reviews", "max_concurrent_reviews", 0),
                                            CTL_STR("phone", "phone", 0),
                                            CTL_STR("email", "email", 0),
                                            CTL_STR("conflict", NULL, CTL_REPEATED),
                                            {0}};

/* agency and expert register: the --conflict CODE[:note] options. */
static int s_register(ctl_opts *o, ctl_args *a)
{
    size_t n = (size_t)ctl_given(a, "conflict");
    Ccip__Evaluation__DeclaredConflict **conflicts =
        ctl_messages(a, &ccip__evaluation__declared_conflict__descriptor, n);
    for (size_t i = 0; i < n; i++) {
        char *note;
        conflicts[i]->org_uscc = ctl_cut(a, ctl_str_at(a, "conflict", (int)i), ':', 0, &note);
        conflicts[i]->note = note ? note : "";
    }
    if (ctl_args_command(a)->request == &ccip__evaluation__register_agency_request__descriptor) {
        Ccip__Evaluation__RegisterAgencyRequest rq =
            CCIP__EVALUATION__REGISTER_AGENCY_REQUEST__INIT;
        rq.declared_conflicts = conflicts;
        rq.n_declared_conflicts = n;
        return ctl_send(o, a, &rq.base);
    }
    Ccip__Evaluation__RegisterExpertRequest rq = CCIP__EVALUATION__REGISTER_EXPERT_REQUEST__INIT;
    rq.declared_conflicts = conflicts;
    rq.n_declared_conflicts = n;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_SET_ACTIVE[] = {
    CTL_STR("ID", "id", CTL_ARG), CTL_STR("reason", "reason", 0), {0}};

static int s_activate(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__SetActiveRequest rq = CCIP__EVALUATION__SET_ACTIVE_REQUEST__INIT;
    rq.active = 1;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_ID[] = {CTL_STR("ID", "id", CTL_ARG), {0}};
static const ctl_arg A_REGISTER_LIST[] = {
    CTL_STR("field", "field", 0),      CTL_STR("district", "district", 0),
    CTL_FLAG("active", "active_only"), CTL_STR("after", "after_id", 0),
    NUMBER("limit", "limit", 0),       {0}};

/* ---- score sheets ---------------------------------------------------------------- */

#define KIND(name, flags) CTL_ENUM(name, "kind", &ccip__intake__call_kind__descriptor, NULL, flags)

static const ctl_arg A_SHEET_PUBLISH[] = {
    KIND("KIND", CTL_ARG),           CTL_STR("criterion", NULL, CTL_REPEATED),
    CTL_STR("threshold", NULL, 0),   NUMBER("panel", "panel_size", 0),
    CTL_LIST("fields", "fields", 0), {0}};

/* --criterion code:weight:max[:title]... and --threshold in points */
static int s_sheet_publish(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__PublishSheetRequest rq = CCIP__EVALUATION__PUBLISH_SHEET_REQUEST__INIT;
    if (s_points("--threshold", ctl_str_or(a, "threshold", "0"), &rq.pass_threshold_centi) < 0)
        return CTL_USAGE;
    rq.n_criteria = (size_t)ctl_given(a, "criterion");
    rq.criteria = ctl_messages(a, &ccip__evaluation__criterion__descriptor, rq.n_criteria);
    for (size_t i = 0; i < rq.n_criteria; i++) {
        Ccip__Evaluation__Criterion *c = rq.criteria[i];
        size_t np;
        char **parts = ctl_split(a, ctl_str_at(a, "criterion", (int)i), ':', 4, &np);
        int64_t weight, max;
        if (np < 3 ||
            ctl_parse_int("--criterion weight", parts[1], NUMBER_MIN, NUMBER_MAX, &weight) < 0 ||
            ctl_parse_int("--criterion max", parts[2], NUMBER_MIN, NUMBER_MAX, &max) < 0) {
            fprintf(stderr, "ccipctl: --criterion is code:weight:max[:title], e.g. "
                            "innovation:3:10:Innovation\n");
            return CTL_USAGE;
        }
        c->code = parts[0];
        c->weight = (int32_t)weight;
        c->max_score = (int32_t)max;
        c->title = np > 3 ? parts[3] : parts[0];
    }
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_SHEET_GET[] = {KIND("KIND", CTL_ARG), NUMBER("version", "version", 0), {0}};

/* ---- cases ------------------------------------------------------------------------ */

/* case get and designation get: the ID (the first argument) or the
 * option that finds it (the second), exactly one of them. */
static int s_get_by_one(ctl_opts *o, ctl_args *a)
{
    const ctl_arg *args = ctl_args_command(a)->args;
    if (ctl_given(a, args[0].name) == !ctl_given(a, args[1].name))
        return ctl_send_table(o, a);
    fprintf(stderr, "ccipctl: give either %s or --%s\n", args[0].name, args[1].name);
    return CTL_USAGE;
}

static const ctl_arg A_CASE_GET[] = {CTL_STR("CASE_ID", "case_id", CTL_ARG_OPTIONAL),
                                     CTL_STR("application", "application_id", 0),
                                     {0}};
static const ctl_arg A_CASE_LIST[] = {
    CTL_ENUM("status", "status", &ccip__evaluation__case_status__descriptor, "CASE_", 0),
    KIND("kind", 0),
    CTL_STR("after", "after_id", 0),
    NUMBER("limit", "limit", 0),
    {0}};
static const ctl_arg A_CASE_NOTE[] = {
    CTL_STR("CASE_ID", "case_id", CTL_ARG), CTL_STR("note", "note", 0), {0}};
static const ctl_arg A_CASE_DECIDE[] = {
    CTL_STR("CASE_ID", "case_id", CTL_ARG),
    CTL_ENUM("outcome", "outcome", &ccip__evaluation__outcome__descriptor, "DECISION_",
             CTL_REQUIRED),
    CTL_STR("reasons", "reasons", 0),
    CTL_YUAN("amount", "recommended_fen", 0),
    CTL_ENUM("return-to", "return_to", &ccip__evaluation__return_to__descriptor, "RETURN_TO_", 0),
    {0}};

/* ---- assignment ------------------------------------------------------------------- */

static const ctl_arg A_ASSIGN[] = {
    CTL_STR("CASE_ID", "case_id", CTL_ARG), CTL_STR("pick", NULL, CTL_REPEATED), {0}};

/* assign propose|make: --pick kind:ID[:override reason]...; the table
 * line's type says which. */
static int s_assign(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__AssignRequest rq = CCIP__EVALUATION__ASSIGN_REQUEST__INIT;
    rq.n_picks = (size_t)ctl_given(a, "pick");
    rq.picks = ctl_messages(a, &ccip__evaluation__pick__descriptor, rq.n_picks);
    for (size_t i = 0; i < rq.n_picks; i++) {
        Ccip__Evaluation__Pick *p = rq.picks[i];
        char *id, *reason;
        char *kind = ctl_cut(a, ctl_str_at(a, "pick", (int)i), ':', 0, &id);
        if (!id) {
            fprintf(stderr, "ccipctl: --pick is expert:ID[:override reason] or agency:ID[:...]\n");
            return CTL_USAGE;
        }
        p->id = ctl_cut(a, id, ':', 0, &reason);
        p->override_reason = reason ? reason : "";
        int k;
        if (ctl_parse_enum("--pick", &ccip__evaluation__subject_kind__descriptor, NULL, kind, &k) <
            0)
            return CTL_USAGE;
        p->kind = (Ccip__Evaluation__SubjectKind)k;
    }
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_REASSIGN[] = {CTL_STR("CASE_ID", "case_id", CTL_ARG),
                                     CTL_STR("expert", NULL, 0),
                                     CTL_STR("agency", NULL, 0),
                                     CTL_STR("reason", "reason", 0),
                                     {0}};

/* --expert ID or --agency ID: who takes the case over. */
static int s_reassign(ctl_opts *o, ctl_args *a)
{
    if (!ctl_given(a, "expert") == !ctl_given(a, "agency")) {
        fprintf(stderr, "ccipctl: give either --expert or --agency\n");
        return CTL_USAGE;
    }
    Ccip__Evaluation__ReassignRequest rq = CCIP__EVALUATION__REASSIGN_REQUEST__INIT;
    rq.kind = ctl_given(a, "expert") ? CCIP__EVALUATION__SUBJECT_KIND__EXPERT
                                     : CCIP__EVALUATION__SUBJECT_KIND__AGENCY;
    rq.id = ctl_str_or(a, "expert", ctl_str(a, "agency"));
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_DECLINE[] = {
    CTL_STR("CASE_ID", "case_id", CTL_ARG), CTL_STR("reason", "reason", 0), {0}};

/* ---- reviews and reports ---------------------------------------------------------- */

static const ctl_arg A_DECLARE[] = {CTL_STR("CASE_ID", "case_id", CTL_ARG),
                                    CTL_FLAG("has-conflict", "conflict"),
                                    CTL_STR("statement", "statement", 0),
                                    {0}};
static const ctl_arg A_REVIEW_SUBMIT[] = {CTL_STR("CASE_ID", "case_id", CTL_ARG),
                                          NUMBER("sheet-version", "sheet_version", CTL_REQUIRED),
                                          CTL_STR("score", NULL, CTL_REPEATED),
                                          CTL_STR("comment", "comment", 0),
                                          {0}};

/* --score criterion=score:comment... */
static int s_review_submit(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__SubmitReviewRequest rq = CCIP__EVALUATION__SUBMIT_REVIEW_REQUEST__INIT;
    rq.n_scores = (size_t)ctl_given(a, "score");
    rq.scores = ctl_messages(a, &ccip__evaluation__criterion_score__descriptor, rq.n_scores);
    for (size_t i = 0; i < rq.n_scores; i++) {
        Ccip__Evaluation__CriterionScore *sc = rq.scores[i];
        char *score, *comment = NULL;
        sc->criterion = ctl_cut(a, ctl_str_at(a, "score", (int)i), '=', 0, &score);
        char *points = score ? ctl_cut(a, score, ':', 0, &comment) : NULL;
        if (!comment) {
            fprintf(stderr, "ccipctl: --score is criterion=score:comment, e.g. "
                            "innovation=8:\"new business model\"\n");
            return CTL_USAGE;
        }
        int64_t v;
        if (ctl_parse_int("--score", points, NUMBER_MIN, NUMBER_MAX, &v) < 0)
            return CTL_USAGE;
        sc->score = (int32_t)v;
        sc->comment = comment;
    }
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_REPORT[] = {CTL_STR("CASE_ID", "case_id", CTL_ARG),
                                   CTL_TIME("visit", "visit_date_us", CTL_REQUIRED),
                                   CTL_STR("findings", "findings", 0),
                                   CTL_ENUM("verdict", "verdict",
                                            &ccip__evaluation__verdict__descriptor, "VERDICT_",
                                            CTL_REQUIRED),
                                   CTL_STR("document", NULL, CTL_REPEATED),
                                   {0}};

/* --document name:sha256[:media type]... */
static int s_report(ctl_opts *o, ctl_args *a)
{
    Ccip__Evaluation__FileReportRequest rq = CCIP__EVALUATION__FILE_REPORT_REQUEST__INIT;
    rq.n_documents = (size_t)ctl_given(a, "document");
    rq.documents = ctl_messages(a, &ccip__evaluation__report_document__descriptor, rq.n_documents);
    for (size_t i = 0; i < rq.n_documents; i++) {
        Ccip__Evaluation__ReportDocument *d = rq.documents[i];
        char *sha, *type;
        d->name = ctl_cut(a, ctl_str_at(a, "document", (int)i), ':', 0, &sha);
        if (!sha) {
            fprintf(stderr, "ccipctl: --document is name:sha256[:media type]\n");
            return CTL_USAGE;
        }
        d->sha256 = ctl_cut(a, sha, ':', 0, &type);
        d->media_type = type ? type : "";
    }
    return ctl_send(o, a, &rq.base);
}

/* ---- designations and tasks ----------------------------------------------------- */

static const ctl_arg A_DESIGNATION_GET[] = {CTL_STR("ID", "designation_id", CTL_ARG_OPTIONAL),
                                            CTL_STR("certificate", "certificate_no", 0),
                                            {0}};

static const ctl_arg A_DESIGNATION_LIST[] = {
    CTL_ENUM("status", "status", &ccip__evaluation__designation_status__descriptor, "DESIGNATION_",
             0),
    CTL_STR("holder", "holder_uscc", 0),
    CTL_FLAG("due", "reevaluation_due"),
    NUMBER("limit", "limit", 0),
    {0}};
static const ctl_arg A_REVOKE[] = {
    CTL_STR("ID", "designation_id", CTL_ARG), CTL_STR("reason", "reason", 0), {0}};
static const ctl_arg A_REEVALUATE[] = {
    CTL_STR("ID", "designation_id", CTL_ARG), CTL_STR("note", "note", 0), {0}};
static const ctl_arg A_TASK_LIST[] = {CTL_FLAG("overdue", "overdue_only"),
                                      CTL_STR("subject", "subject_id", 0),
                                      NUMBER("limit", "limit", 0),
                                      {0}};

/* ---- the table ---------------------------------------------------------------------- */

#define T(name) "evaluation." name ".v1"
#define Q(name) &ccip__evaluation__##name##_request__descriptor
#define R(name) &ccip__evaluation__##name##_reply__descriptor

static const ctl_command S_COMMANDS[] = {
    {"agency register",
     "ID --name N --uscc CODE --districts D,D|all --capacity N [--qualification Q] "
     "[--conflict CODE[:note]]...",
     A_AGENCY_REGISTER, T("agency.register"), Q(register_agency), R(agency), ctl_print_fields,
     s_register},
    {"agency activate", "ID --reason R", A_SET_ACTIVE, T("agency.set_active"), Q(set_active),
     R(agency), ctl_print_fields, s_activate},
    {"agency deactivate", "ID --reason R", A_SET_ACTIVE, T("agency.set_active"), Q(set_active),
     R(agency), ctl_print_fields},
    {"agency get", "ID", A_ID, T("agency.get"), Q(get), R(agency), ctl_print_fields},
    {"agency list", "[--district D] [--active] [--after ID] [--limit N]", A_REGISTER_LIST,
     T("agency.list"), Q(list_register), R(list_agencies), ctl_print_fields},
    {"expert register",
     "ID --name N --fields F,F --affiliation CODE [--affiliation-name N] --district D "
     "--max-reviews N [--phone P] [--email E] [--conflict CODE[:note]]...",
     A_EXPERT_REGISTER, T("expert.register"), Q(register_expert), R(expert), ctl_print_fields,
     s_register},
    {"expert activate", "ID --reason R", A_SET_ACTIVE, T("expert.set_active"), Q(set_active),
     R(expert), ctl_print_fields, s_activate},
    {"expert deactivate", "ID --reason R", A_SET_ACTIVE, T("expert.set_active"), Q(set_active),
     R(expert), ctl_print_fields},
    {"expert get", "ID", A_ID, T("expert.get"), Q(get), R(expert), ctl_print_fields},
    {"expert list", "[--field F] [--district D] [--active] [--after ID] [--limit N]",
     A_REGISTER_LIST, T("expert.list"), Q(list_register), R(list_experts), ctl_print_fields},
    {"sheet publish",
     "KIND --criterion code:weight:max[:title]... --threshold POINTS --panel K --fields F,F",
     A_SHEET_PUBLISH, T("sheet.publish"), Q(publish_sheet), R(sheet), ctl_print_fields,
     s_sheet_publish},
    {"sheet get", "KIND [--version N]", A_SHEET_GET, T("sheet.get"), Q(get_sheet), R(sheet),
     ctl_print_fields},
    {"case get", "CASE_ID | --application APPLICATION_ID", A_CASE_GET, T("case.get"), Q(get_case),
     R(case), ctl_print_fields, s_get_by_one},
    {"case list", "[--status S] [--kind K] [--after CASE_ID] [--limit N]", A_CASE_LIST,
     T("case.list"), Q(list_cases), R(list_cases), ctl_print_fields},
    {"case submit", "CASE_ID [--note N]            (staff: to the office)", A_CASE_NOTE,
     T("case.submit"), Q(submit_to_office), R(case), ctl_print_fields},
    {"case decide",
     "CASE_ID --outcome approved|declined|returned --reasons R [--amount YUAN] "
     "[--return-to investigation|review|both]   (office)",
     A_CASE_DECIDE, T("case.decide"), Q(decide), R(case), ctl_print_fields},
    {"assign propose", "CASE_ID [--pick expert:ID[:override reason]]...   (dry run)", A_ASSIGN,
     T("assignment.propose"), Q(assign), R(assign), ctl_print_fields, s_assign},
    {"assign make", "CASE_ID [--pick expert:ID[:override reason]] [--pick agency:ID[:...]]",
     A_ASSIGN, T("assignment.make"), Q(assign), R(assign), ctl_print_fields, s_assign},
    {"assign reassign", "CASE_ID --expert ID|--agency ID --reason R", A_REASSIGN,
     T("assignment.reassign"), Q(reassign), R(assign), ctl_print_fields, s_reassign},
    {"task decline", "CASE_ID --reason R        (the assigned expert or agency)", A_DECLINE,
     T("assignment.decline"), Q(decline), R(assign), ctl_print_fields},
    {"task list", "[--overdue] [--subject ID] [--limit N]", A_TASK_LIST, T("task.list"),
     Q(list_tasks), R(list_tasks), ctl_print_fields},
    {"task sweep", "                             (publish overdue tasks and reminders)", NULL,
     T("task.sweep"), Q(sweep), R(sweep), ctl_print_fields},
    {"review declare", "CASE_ID [--has-conflict --statement S]   (the assigned expert)", A_DECLARE,
     T("review.declare"), Q(declare), R(review), ctl_print_fields},
    {"review submit", "CASE_ID --sheet-version N --score criterion=score:comment... [--comment C]",
     A_REVIEW_SUBMIT, T("review.submit"), Q(submit_review), R(review), ctl_print_fields,
     s_review_submit},
    {"report file",
     "CASE_ID --visit DATE --findings TEXT --verdict meets|does-not-meet|meets-with-conditions "
     "[--document name:sha256[:type]]...   (the assigned agency)",
     A_REPORT, T("investigation.report"), Q(file_report), R(investigation), ctl_print_fields,
     s_report},
    {"designation get", "ID | --certificate NO", A_DESIGNATION_GET, T("designation.get"),
     Q(get_designation), R(designation), ctl_print_fields, s_get_by_one},
    {"designation list", "[--status active|revoked|expired] [--holder CODE] [--due]",
     A_DESIGNATION_LIST, T("designation.list"), Q(list_designations), R(list_designations),
     ctl_print_fields},
    {"designation revoke", "ID --reason R             (office, admin)", A_REVOKE,
     T("designation.revoke"), Q(revoke_designation), R(designation), ctl_print_fields},
    {"designation reevaluate", "ID --note N", A_REEVALUATE, T("designation.reevaluate"),
     Q(reevaluate), R(designation), ctl_print_fields},
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
