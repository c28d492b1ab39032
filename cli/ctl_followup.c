/*
 * ccipctl followup ...: every operation of the followup service (the tasks
 * the leading group and its office entrust to the center, and the city's
 * key projects) from the command line.
 *
 * Output: text for people, with every time in Beijing ("2027-06-30 23:59
 * Beijing") and deadlines as the Beijing day they close ("by 2027-06-30");
 * with the global --json one JSON object that mirrors the reply message
 * (proto/ccip/followup.proto: times as UTC microseconds, amounts as integer
 * fen); with --csv (lists and boards) one CSV table with a header line,
 * amounts in yuan.
 *
 * Who asks is the global --role and --actor: the office as "--role office",
 * the center's staff as "--role staff", a district as "--role district
 * --actor district:<code>", a project's owner as "--role grantee --actor
 * org:<unified social credit code>".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccip/followup.pb-c.h"
#include "ccip_id.h"
#include "ctl.h"

#define ATTACHMENT_MAX (16 * 1024 * 1024) /* the service's largest setting */

/* Whether the command line asks for CSV. */
static int s_csv(const ctl_args *a)
{
    return ctl_declares(a, "csv") && ctl_given(a, "csv");
}

static const char *s_enum(const ProtobufCEnumDescriptor *d, int v)
{
    return ctl_enum_name(d, v);
}

#define E_STATUS(v)  s_enum(&ccip__followup__task_status__descriptor, (int)(v))
#define E_TIME(v)    s_enum(&ccip__followup__timeliness__descriptor, (int)(v))
#define E_PRIO(v)    s_enum(&ccip__followup__priority__descriptor, (int)(v))
#define E_ESC(v)     s_enum(&ccip__followup__escalation_kind__descriptor, (int)(v))
#define E_STATE(v)   s_enum(&ccip__followup__board_state__descriptor, (int)(v))
#define E_PSTATUS(v) s_enum(&ccip__followup__project_status__descriptor, (int)(v))

/* Prints a CSV line of n fields. */
static void s_csv_line(const char *const *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            putchar(',');
        ctl_csv_field(fields[i]);
    }
    putchar('\n');
}

static void s_escalations(Ccip__Followup__Escalation *const *e, size_t n)
{
    if (n)
        printf("escalations\n");
    for (size_t i = 0; i < n; i++) {
        char when[48];
        printf("  %-24s raised %s by %s\n    %s\n", E_ESC(e[i]->kind),
               ctl_beijing_text(e[i]->raised_at_us, when, sizeof when), e[i]->raised_by,
               e[i]->summary);
    }
}

/* ---- tasks ------------------------------------------------------------------------ */

static void s_print_task(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Followup__Task *t = ((const Ccip__Followup__TaskReply *)m)->task;
    if (!t)
        return;
    char b1[48], b2[48];
    printf("task         %s\ntitle        %s\n", t->id, t->title);
    printf("status       %s%s%s\n", E_STATUS(t->status), t->timeliness ? ", " : "",
           t->timeliness ? E_TIME(t->timeliness) : "");
    printf("deadline     by %s (end of that day, Beijing)%s\n", t->deadline_date,
           t->extension_pending ? "; an extension waits for the office" : "");
    printf("lead unit    %s\n", t->lead_unit);
    for (size_t i = 0; i < t->n_co_organisers; i++)
        printf("%s%s", i ? ", " : "co-organisers ", t->co_organisers[i]);
    if (t->n_co_organisers)
        putchar('\n');
    printf("responsible  %s\npriority     %s\n", t->responsible, E_PRIO(t->priority));
    if (t->source)
        printf("source       %s %s\n",
               s_enum(&ccip__followup__task_source_kind__descriptor, (int)t->source->kind),
               t->source->reference);
    if (t->report_interval_days && t->next_report_due_us)
        printf("reports      at least every %d days; the next is due by %s\n",
               t->report_interval_days, ctl_beijing_text(t->next_report_due_us, b1, sizeof b1));
    else if (t->report_interval_days)
        printf("reports      at least every %d days while it is worked on\n",
               t->report_interval_days);
    printf("created      %s by %s\n", ctl_beijing_text(t->created_at_us, b1, sizeof b1),
           t->created_by);
    printf("instruction  %s\n", t->instruction);
    if (t->close_reason[0])
        printf("closed       %s: %s\n", ctl_beijing_text(t->closed_at_us, b1, sizeof b1),
               t->close_reason);
    if (t->n_deadlines)
        printf("deadlines\n");
    for (size_t i = 0; i < t->n_deadlines; i++) {
        const Ccip__Followup__Deadline *d = t->deadlines[i];
        printf("  %d. by %s, set %s by %s%s%s\n", d->seq, d->date,
               ctl_beijing_text(d->set_at_us, b1, sizeof b1), d->set_by, d->reason[0] ? ": " : "",
               d->reason);
    }
    if (t->n_reports)
        printf("reports\n");
    for (size_t i = 0; i < t->n_reports; i++) {
        const Ccip__Followup__TaskReport *r = t->reports[i];
        printf("  %s %s by %s: %s\n",
               r->kind == CCIP__FOLLOWUP__REPORT_KIND__REPORT_COMPLETION ? "completion"
                                                                         : "progress",
               ctl_beijing_text(r->reported_at_us, b1, sizeof b1), r->reported_by, r->text);
        for (size_t k = 0; k < r->n_attachments; k++)
            printf("    attachment %s  %s (%" PRId64 " bytes)\n", r->attachments[k]->id,
                   r->attachments[k]->name, r->attachments[k]->size);
    }
    if (t->n_extensions)
        printf("extensions\n");
    for (size_t i = 0; i < t->n_extensions; i++) {
        const Ccip__Followup__Extension *x = t->extensions[i];
        printf("  to %s asked %s by %s (%s): %s", x->requested_date,
               ctl_beijing_text(x->requested_at_us, b1, sizeof b1), x->requested_by, x->reason,
               s_enum(&ccip__followup__extension_status__descriptor, (int)x->status));
        if (x->decided_at_us)
            printf(" %s by %s%s%s: %s", ctl_beijing_text(x->decided_at_us, b2, sizeof b2),
                   x->decided_by, x->granted_date[0] ? ", to " : "", x->granted_date,
                   x->decision_reason);
        putchar('\n');
    }
    if (t->n_steps)
        printf("history\n");
    for (size_t i = 0; i < t->n_steps; i++) {
        const Ccip__Followup__TaskStep *s = t->steps[i];
        printf("  %2d %s  %-20s %s (%s)%s%s\n", s->seq, ctl_beijing_text(s->at_us, b1, sizeof b1),
               s->action, s->actor_id, s->actor_role, s->note[0] ? ": " : "", s->note);
    }
    s_escalations(t->escalations, t->n_escalations);
}

static void s_print_tasks(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Followup__ListTasksReply *r = (const Ccip__Followup__ListTasksReply *)m;
    int csv = s_csv(args);
    if (csv)
        puts("id,title,status,timeliness,deadline,lead_unit,responsible,priority");
    for (size_t i = 0; i < r->n_tasks; i++) {
        const Ccip__Followup__Task *t = r->tasks[i];
        const char *tl = t->timeliness ? E_TIME(t->timeliness) : "";
        if (csv) {
            const char *f[] = {
                t->id,        t->title,       E_STATUS(t->status), tl, t->deadline_date,
                t->lead_unit, t->responsible, E_PRIO(t->priority)};
            s_csv_line(f, 8);
        } else {
            printf("%s  %-24s %-8s by %s  %-18s %s\n", t->id, E_STATUS(t->status), tl,
                   t->deadline_date, t->lead_unit, t->title);
        }
    }
}

static void s_print_entries(Ccip__Followup__DigestEntry *const *e, size_t n, int csv)
{
    if (csv)
        puts("task_id,title,lead_unit,deadline,timeliness,status,priority,responsible");
    for (size_t i = 0; i < n; i++) {
        if (csv) {
            const char *f[] = {e[i]->task_id,
                               e[i]->title,
                               e[i]->lead_unit,
                               e[i]->deadline_date,
                               E_TIME(e[i]->timeliness),
                               E_STATUS(e[i]->status),
                               E_PRIO(e[i]->priority),
                               e[i]->responsible};
            s_csv_line(f, 8);
        } else {
            printf("%-8s by %s  %s  %-18s %s\n", E_TIME(e[i]->timeliness), e[i]->deadline_date,
                   e[i]->task_id, e[i]->lead_unit, e[i]->title);
        }
    }
}

static void s_print_task_board(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Followup__TaskBoardReply *r = (const Ccip__Followup__TaskBoardReply *)m;
    int csv = s_csv(args);
    s_print_entries(r->tasks, r->n_tasks, csv);
    if (!csv) { /* the totals under the table */
        char when[48];
        printf("open tasks as of %s: %d overdue, %d due within 7 days, %d on time\n",
               ctl_beijing_text(r->as_of_us, when, sizeof when), r->overdue, r->due_soon,
               r->on_time);
    }
}

static void s_print_digest(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Followup__PublishDigestReply *r = (const Ccip__Followup__PublishDigestReply *)m;
    if (r->published)
        printf("digest of %s published in %d part%s: %d overdue, %d due within 7 days, %d on "
               "time\n",
               r->week, r->parts, r->parts == 1 ? "" : "s", r->overdue, r->due_soon, r->on_time);
    else
        printf("the digest of %s was published already\n", r->week);
}

static void s_print_sweep(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Followup__SweepReply *r = (const Ccip__Followup__SweepReply *)m;
    printf("escalated: %d missed deadlines, %d overdue progress reports, %d late milestones, %d "
           "milestones at risk, %d months without report (%d months checked)%s\n",
           r->deadlines_missed, r->progress_reports_overdue, r->milestones_late,
           r->milestones_at_risk, r->monthly_reports_missing, r->months_checked,
           r->more ? "; more remain: sweep again" : "");
}

static void s_print_attachment(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Followup__AttachmentReply *r = (const Ccip__Followup__AttachmentReply *)m;
    const char *out = ctl_str(args, "out");
    if (!out[0]) { /* the content itself, for a pipe */
        fwrite(r->content.data, 1, r->content.len, stdout);
        return;
    }
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(r->content.data, 1, r->content.len, f) != r->content.len) {
        fprintf(stderr, "ccipctl: could not write %s\n", out);
        if (f)
            fclose(f);
        return;
    }
    fclose(f);
    printf("wrote %s: %s, %zu bytes, sha256 %s (task %s)\n", out, r->attachment->name,
           r->content.len, r->attachment->sha256, r->task_id);
}

/* --attach FILE... into the report's attachments. */
static int s_attach(ctl_args *a, Ccip__Followup__ReportTaskRequest *rq)
{
    rq->n_attachments = (size_t)ctl_given(a, "attach");
    rq->attachments =
        ctl_messages(a, &ccip__followup__attachment_upload__descriptor, rq->n_attachments);
    for (size_t i = 0; i < rq->n_attachments; i++) {
        char *path = ctl_str_at(a, "attach", (int)i);
        size_t len = 0;
        uint8_t *data = ctl_read_file(a, path, ATTACHMENT_MAX, &len);
        if (!data)
            return CTL_LOCAL;
        const char *slash = strrchr(path, '/');
        rq->attachments[i]->name = (char *)(slash ? slash + 1 : path);
        rq->attachments[i]->media_type = ctl_str(a, "type");
        rq->attachments[i]->content.data = data;
        rq->attachments[i]->content.len = len;
    }
    return CTL_OK;
}

static int s_report(ctl_opts *o, ctl_args *a)
{
    Ccip__Followup__ReportTaskRequest rq = CCIP__FOLLOWUP__REPORT_TASK_REQUEST__INIT;
    int rc = s_attach(a, &rq);
    return rc ? rc : ctl_send(o, a, &rq.base);
}

/* ---- projects -------------------------------------------------------------------- */

static void s_print_project(const ProtobufCMessage *m, ctl_args *args)
{
    (void)args;
    const Ccip__Followup__Project *p = ((const Ccip__Followup__ProjectReply *)m)->project;
    if (!p)
        return;
    char y1[CCIP_FEN_STRLEN + 1], y2[CCIP_FEN_STRLEN + 1], b1[48];
    printf("project      %s\ntitle        %s\n", p->id, p->title);
    printf("key project  of %d, %s\n", p->year,
           s_enum(&ccip__followup__project_source__descriptor, (int)p->source));
    printf("owner        %s %s\ndistrict     %s\n", p->owner_uscc, p->owner_name, p->district_code);
    printf("period       %s to %s\n", p->start_date, p->end_date);
    printf("investment   %s yuan planned, %s completed%s%s",
           ctl_yuan_text(p->planned_investment_fen, y1, sizeof y1),
           ctl_yuan_text(p->investment_completed_fen, y2, sizeof y2),
           p->last_reported_month[0] ? " (reported for " : "", p->last_reported_month);
    if (p->last_reported_month[0])
        putchar(')');
    putchar('\n');
    if (p->status == CCIP__FOLLOWUP__PROJECT_STATUS__PROJECT_ACTIVE)
        printf("state        %s\n", E_STATE(p->state));
    else
        printf("status       %s %s: %s\n", E_PSTATUS(p->status),
               ctl_beijing_text(p->closed_at_us, b1, sizeof b1), p->close_reason);
    for (size_t i = 0; i < p->n_state_reasons; i++)
        printf("  - %s\n", p->state_reasons[i]);
    if (p->n_milestones)
        printf("milestones\n");
    for (size_t i = 0; i < p->n_milestones; i++) {
        const Ccip__Followup__Milestone *s = p->milestones[i];
        printf("  %2d. %s  planned %s  %3d%%%s%s%s  %s\n", s->seq, s->id, s->planned_date,
               s->progress_percent, s->reached_on[0] ? ", reached " : "", s->reached_on,
               s->late ? ", LATE" : "", s->title);
    }
    if (p->n_reports)
        printf("monthly reports\n");
    for (size_t i = 0; i < p->n_reports; i++) {
        const Ccip__Followup__MonthlyReport *r = p->reports[i];
        printf("  %s v%d%s  %s yuan  filed %s by %s%s%s\n", r->month, r->version,
               r->current ? "" : " (replaced)",
               ctl_yuan_text(r->investment_completed_fen, y1, sizeof y1),
               ctl_beijing_text(r->filed_at_us, b1, sizeof b1), r->filed_by,
               r->correction_reason[0] ? "; correction: " : "", r->correction_reason);
        if (r->problems[0])
            printf("    problems: %s\n", r->problems);
    }
    s_escalations(p->escalations, p->n_escalations);
    const Ccip__Followup__AwardInfo *w = p->award;
    if (w) {
        printf("award        %s %s, %s yuan, %s disbursed%s%s\n", w->award_id,
               s_enum(&ccip__funding__award_status__descriptor, (int)w->status),
               ctl_yuan_text(w->amount_fen, y1, sizeof y1),
               ctl_yuan_text(w->disbursed_fen, y2, sizeof y2), w->status_reason[0] ? ": " : "",
               w->status_reason);
        for (size_t i = 0; i < w->n_tranches_paid; i++)
            printf("  tranche %d paid %s: %s yuan\n", w->tranches_paid[i]->tranche_number,
                   ctl_beijing_text(w->tranches_paid[i]->paid_at_us, b1, sizeof b1),
                   ctl_yuan_text(w->tranches_paid[i]->amount_fen, y1, sizeof y1));
        for (size_t i = 0; i < w->n_inspections; i++)
            printf(
                "  inspection %s %s: %s\n",
                s_enum(&ccip__funding__inspection_kind__descriptor, (int)w->inspections[i]->kind),
                s_enum(&ccip__funding__finding__descriptor, (int)w->inspections[i]->finding),
                w->inspections[i]->notes);
        for (size_t i = 0; i < w->n_clawbacks; i++)
            printf(
                "  clawback %s yuan, %s recovered (%s)\n",
                ctl_yuan_text(w->clawbacks[i]->amount_fen, y1, sizeof y1),
                ctl_yuan_text(w->clawbacks[i]->recovered_fen, y2, sizeof y2),
                s_enum(&ccip__funding__clawback_status__descriptor, (int)w->clawbacks[i]->status));
    }
    if (p->designation)
        printf(
            "designation  %s %s (%s)\n", p->designation->certificate_no, p->designation->name,
            s_enum(&ccip__evaluation__designation_status__descriptor, (int)p->designation->status));
    for (size_t i = 0; i < p->n_works; i++)
        printf("%s %s (serial %" PRIu64 ", %s)\n", i ? "            " : "works       ",
               p->works[i]->title, p->works[i]->serial,
               ctl_beijing_text(p->works[i]->registered_at_us, b1, sizeof b1));
}

static void s_print_project_rows(Ccip__Followup__Project *const *ps, size_t n, int csv)
{
    if (csv)
        puts("id,year,state,status,district,owner_uscc,title,planned_investment,"
             "investment_completed,start,end");
    for (size_t i = 0; i < n; i++) {
        const Ccip__Followup__Project *p = ps[i];
        const char *state = p->state ? E_STATE(p->state) : "";
        if (csv) {
            char year[16], y1[CCIP_FEN_STRLEN + 1], y2[CCIP_FEN_STRLEN + 1];
            snprintf(year, sizeof year, "%d", p->year);
            const char *f[] = {p->id,
                               year,
                               state,
                               E_PSTATUS(p->status),
                               p->district_code,
                               p->owner_uscc,
                               p->title,
                               ctl_yuan_text(p->planned_investment_fen, y1, sizeof y1),
                               ctl_yuan_text(p->investment_completed_fen, y2, sizeof y2),
                               p->start_date,
                               p->end_date};
            s_csv_line(f, 11);
        } else {
            printf("%s  %d  %-9s %s  %s\n", p->id, p->year, state[0] ? state : E_PSTATUS(p->status),
                   p->district_code, p->title);
            for (size_t k = 0; k < p->n_state_reasons; k++)
                printf("      - %s\n", p->state_reasons[k]);
        }
    }
}

static void s_print_projects(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Followup__ListProjectsReply *r = (const Ccip__Followup__ListProjectsReply *)m;
    s_print_project_rows(r->projects, r->n_projects, s_csv(args));
}

static void s_print_board(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Followup__BoardReply *r = (const Ccip__Followup__BoardReply *)m;
    int csv = s_csv(args);
    s_print_project_rows(r->projects, r->n_projects, csv);
    if (!csv) { /* the totals under the table */
        char when[48];
        printf("key projects as of %s: %d late, %d at risk, %d on track\n",
               ctl_beijing_text(r->as_of_us, when, sizeof when), r->late, r->at_risk, r->on_track);
    }
}

/* --milestone DATE:TITLE... into the registration. */
static int s_register(ctl_opts *o, ctl_args *a)
{
    Ccip__Followup__RegisterProjectRequest rq = CCIP__FOLLOWUP__REGISTER_PROJECT_REQUEST__INIT;
    rq.n_milestones = (size_t)ctl_given(a, "milestone");
    rq.milestones = ctl_messages(a, &ccip__followup__milestone_input__descriptor, rq.n_milestones);
    for (size_t i = 0; i < rq.n_milestones; i++) {
        const char *text = ctl_str_at(a, "milestone", (int)i);
        char *title;
        rq.milestones[i]->planned_date = ctl_cut(a, text, ':', 0, &title);
        if (!title || !title[0]) {
            ctl_wrong("--milestone", "DATE:TITLE, such as 2027-09-30:stage built", text);
            return CTL_USAGE;
        }
        rq.milestones[i]->title = title;
    }
    return ctl_send(o, a, &rq.base);
}

/* --progress MILESTONE:PERCENT[:REACHED_ON]... and --correction REASON. */
static int s_file_report(ctl_opts *o, ctl_args *a)
{
    Ccip__Followup__FileReportRequest rq = CCIP__FOLLOWUP__FILE_REPORT_REQUEST__INIT;
    rq.n_progress = (size_t)ctl_given(a, "progress");
    rq.progress = ctl_messages(a, &ccip__followup__milestone_progress__descriptor, rq.n_progress);
    for (size_t i = 0; i < rq.n_progress; i++) {
        const char *text = ctl_str_at(a, "progress", (int)i);
        char *rest, *reached;
        rq.progress[i]->milestone_id = ctl_cut(a, text, ':', 0, &rest);
        if (!rest) {
            ctl_wrong("--progress", "MILESTONE:PERCENT[:REACHED_ON], such as <id>:100:2027-06-28",
                      text);
            return CTL_USAGE;
        }
        char *percent = ctl_cut(a, rest, ':', 0, &reached);
        int64_t pc;
        if (ctl_parse_int("--progress percent", percent, 0, 100, &pc) < 0)
            return CTL_USAGE;
        rq.progress[i]->percent = (int32_t)pc;
        rq.progress[i]->reached_on = reached ? reached : "";
    }
    if (ctl_given(a, "correction")) {
        rq.correction = 1;
        rq.correction_reason = ctl_str(a, "correction");
    }
    return ctl_send(o, a, &rq.base);
}

/* ---- the table --------------------------------------------------------------------- */

#define YEAR(name, field, flags) CTL_INT(name, field, 2000, 2100, flags)

static const ctl_arg A_CREATE[] = {
    CTL_STR("TITLE", "title", CTL_ARG),
    CTL_STR("instruction", "instruction", CTL_REQUIRED),
    CTL_ENUM("source", "source.kind", &ccip__followup__task_source_kind__descriptor, "SOURCE_",
             CTL_REQUIRED),
    CTL_STR("ref", "source.reference", CTL_REQUIRED),
    CTL_STR("lead", "lead_unit", CTL_REQUIRED),
    CTL_LIST("co", "co_organisers", 0),
    CTL_STR("responsible", "responsible", CTL_REQUIRED),
    CTL_STR("deadline", "deadline", CTL_REQUIRED),
    CTL_ENUM("priority", "priority", &ccip__followup__priority__descriptor, "PRIORITY_", 0),
    CTL_INT("interval", "report_interval_days", 0, 90, 0),
    {0}};
static const ctl_arg A_NOTE[] = {
    CTL_STR("TASK", "task_id", CTL_ARG), CTL_STR("note", "note", 0), {0}};
static const ctl_arg A_REASON[] = {
    CTL_STR("TASK", "task_id", CTL_ARG), CTL_STR("reason", "note", CTL_REQUIRED), {0}};
static const ctl_arg A_REPORT[] = {CTL_STR("TASK", "task_id", CTL_ARG),
                                   CTL_STR("text", "text", CTL_REQUIRED),
                                   CTL_STR("attach", NULL, CTL_REPEATED),
                                   CTL_STR("type", NULL, 0),
                                   {0}};
static const ctl_arg A_EXTEND[] = {CTL_STR("TASK", "task_id", CTL_ARG),
                                   CTL_STR("deadline", "deadline", CTL_REQUIRED),
                                   CTL_STR("reason", "reason", CTL_REQUIRED),
                                   {0}};
static const ctl_arg A_GRANT[] = {CTL_STR("TASK", "task_id", CTL_ARG),
                                  CTL_STR("reason", "reason", CTL_REQUIRED),
                                  CTL_STR("deadline", "deadline", 0),
                                  {0}};
static const ctl_arg A_REFUSE[] = {
    CTL_STR("TASK", "task_id", CTL_ARG), CTL_STR("reason", "reason", CTL_REQUIRED), {0}};
static const ctl_arg A_TASK[] = {CTL_STR("TASK", "task_id", CTL_ARG), {0}};
static const ctl_arg A_TASK_LIST[] = {
    CTL_FLAG("csv", NULL),
    CTL_ENUM("status", "status", &ccip__followup__task_status__descriptor, "TASK_", 0),
    CTL_FLAG("open", "open_only"),
    CTL_STR("lead", "lead_unit", 0),
    CTL_ENUM("timeliness", "timeliness", &ccip__followup__timeliness__descriptor, NULL, 0),
    CTL_INT("limit", "limit", 1, 2000, 0),
    {0}};
static const ctl_arg A_ATTACHMENT[] = {
    CTL_STR("ATTACHMENT", "attachment_id", CTL_ARG), CTL_STR("out", NULL, 0), {0}};
static const ctl_arg A_TASK_BOARD[] = {CTL_FLAG("csv", NULL),
                                       CTL_STR("lead", "lead_unit", 0),
                                       CTL_INT("limit", "limit", 1, 5000, 0),
                                       {0}};

static const ctl_arg A_REGISTER[] = {YEAR("year", "year", CTL_REQUIRED),
                                     CTL_ENUM("source", "source",
                                              &ccip__followup__project_source__descriptor, "FROM_",
                                              CTL_REQUIRED),
                                     CTL_STR("award", "award_id", 0),
                                     CTL_STR("designation", "designation_id", 0),
                                     CTL_STR("title", "title", 0),
                                     CTL_STR("owner", "owner_uscc", 0),
                                     CTL_STR("owner-name", "owner_name", 0),
                                     CTL_STR("district", "district_code", 0),
                                     CTL_YUAN("investment", "planned_investment_fen", CTL_REQUIRED),
                                     CTL_STR("start", "start_date", CTL_REQUIRED),
                                     CTL_STR("end", "end_date", CTL_REQUIRED),
                                     CTL_STR("description", "description", 0),
                                     CTL_STR("milestone", NULL, CTL_REPEATED),
                                     {0}};
static const ctl_arg A_MILESTONE[] = {CTL_STR("PROJECT", "project_id", CTL_ARG),
                                      CTL_STR("date", "planned_date", CTL_REQUIRED),
                                      CTL_STR("title", "title", CTL_REQUIRED),
                                      {0}};
static const ctl_arg A_FILE_REPORT[] = {CTL_STR("PROJECT", "project_id", CTL_ARG),
                                        CTL_STR("MONTH", "month", CTL_ARG),
                                        CTL_YUAN("invested", "investment_completed_fen", 0),
                                        CTL_STR("problems", "problems", 0),
                                        CTL_STR("progress", NULL, CTL_REPEATED),
                                        CTL_STR("correction", NULL, 0),
                                        {0}};
static const ctl_arg A_PROJECT_CLOSE[] = {CTL_STR("PROJECT", "project_id", CTL_ARG),
                                          CTL_ENUM("status", "status",
                                                   &ccip__followup__project_status__descriptor,
                                                   "PROJECT_", CTL_REQUIRED),
                                          CTL_STR("reason", "reason", CTL_REQUIRED),
                                          {0}};
static const ctl_arg A_PROJECT[] = {CTL_STR("PROJECT", "project_id", CTL_ARG), {0}};
static const ctl_arg A_PROJECT_LIST[] = {
    CTL_FLAG("csv", NULL),
    YEAR("year", "year", 0),
    CTL_ENUM("state", "state", &ccip__followup__board_state__descriptor, NULL, 0),
    CTL_STR("district", "district_code", 0),
    CTL_STR("owner", "owner_uscc", 0),
    CTL_INT("limit", "limit", 1, 2000, 0),
    {0}};
static const ctl_arg A_BOARD[] = {
    CTL_FLAG("csv", NULL),
    YEAR("year", "year", 0),
    CTL_STR("district", "district_code", 0),
    CTL_ENUM("state", "state", &ccip__followup__board_state__descriptor, NULL, 0),
    CTL_INT("limit", "limit", 1, 2000, 0),
    {0}};

#define Q(name) &ccip__followup__##name##_request__descriptor
#define R(name) &ccip__followup__##name##_reply__descriptor

static const ctl_command S_COMMANDS[] = {
    {"task create",
     "TITLE --instruction TEXT --source meeting|memo|instruction|other --ref REF\n"
     "        --lead UNIT --responsible NAME --deadline YYYY-MM-DD [--co UNIT,...]\n"
     "        [--priority normal|high|urgent] [--interval DAYS]",
     A_CREATE, "followup.task.create.v1", Q(create_task), R(task), s_print_task},
    {"task acknowledge", "TASK [--note TEXT]", A_NOTE, "followup.task.acknowledge.v1",
     Q(task_action), R(task), s_print_task},
    {"task progress", "TASK --text TEXT [--attach FILE]... [--type MEDIA_TYPE]", A_REPORT,
     "followup.task.report_progress.v1", Q(report_task), R(task), s_print_task, s_report},
    {"task extend", "TASK --deadline YYYY-MM-DD --reason WHY", A_EXTEND,
     "followup.task.request_extension.v1", Q(request_extension), R(task), s_print_task},
    {"task grant", "TASK --reason WHY [--deadline YYYY-MM-DD]", A_GRANT,
     "followup.task.grant_extension.v1", Q(decide_extension), R(task), s_print_task},
    {"task refuse", "TASK --reason WHY", A_REFUSE, "followup.task.refuse_extension.v1",
     Q(decide_extension), R(task), s_print_task},
    {"task complete", "TASK --text TEXT [--attach FILE]... [--type MEDIA_TYPE]", A_REPORT,
     "followup.task.report_completion.v1", Q(report_task), R(task), s_print_task, s_report},
    {"task accept", "TASK [--note TEXT]", A_NOTE, "followup.task.accept.v1", Q(task_action),
     R(task), s_print_task},
    {"task return", "TASK --reason WHY", A_REASON, "followup.task.return.v1", Q(task_action),
     R(task), s_print_task},
    {"task close", "TASK --reason WHY", A_REASON, "followup.task.close.v1", Q(task_action), R(task),
     s_print_task},
    {"task show", "TASK", A_TASK, "followup.task.get.v1", Q(get_task), R(task), s_print_task},
    {"task list", "[--open] [--status S] [--lead UNIT] [--timeliness T] [--limit N] [--csv]",
     A_TASK_LIST, "followup.task.list.v1", Q(list_tasks), R(list_tasks), s_print_tasks},
    {"task attachment", "ATTACHMENT [--out FILE]", A_ATTACHMENT, "followup.task.attachment.get.v1",
     Q(get_attachment), R(attachment), s_print_attachment},
    {"task board", "[--lead UNIT] [--limit N] [--csv]", A_TASK_BOARD, "followup.task.board.v1",
     Q(task_board), R(task_board), s_print_task_board},
    {"task digest", NULL, NULL, "followup.task.publish_digest.v1", Q(publish_digest),
     R(publish_digest), s_print_digest},
    {"sweep", NULL, NULL, "followup.sweep.run.v1", Q(sweep), R(sweep), s_print_sweep},
    {"project register",
     "--year YEAR --source award|designation|staff --investment YUAN\n"
     "        --start DATE --end DATE [--award ID | --designation ID | --title T --owner USCC "
     "--owner-name NAME]\n"
     "        [--district CODE] [--description TEXT] [--milestone DATE:TITLE]...",
     A_REGISTER, "followup.project.register.v1", Q(register_project), R(project), s_print_project,
     s_register},
    {"project milestone", "PROJECT --date YYYY-MM-DD --title TITLE", A_MILESTONE,
     "followup.project.add_milestone.v1", Q(add_milestone), R(project), s_print_project},
    {"project report",
     "PROJECT YYYY-MM --invested YUAN [--problems TEXT]\n"
     "        [--progress MILESTONE:PERCENT[:REACHED_ON]]... [--correction REASON]",
     A_FILE_REPORT, "followup.project.file_report.v1", Q(file_report), R(project), s_print_project,
     s_file_report},
    {"project close", "PROJECT --status completed|cancelled --reason WHY", A_PROJECT_CLOSE,
     "followup.project.close.v1", Q(close_project), R(project), s_print_project},
    {"project show", "PROJECT", A_PROJECT, "followup.project.get.v1", Q(get_project), R(project),
     s_print_project},
    {"project list", "[--year Y] [--state S] [--district D] [--owner USCC] [--limit N] [--csv]",
     A_PROJECT_LIST, "followup.project.list.v1", Q(list_projects), R(list_projects),
     s_print_projects},
    {"project board", "[--year Y] [--district D] [--state S] [--limit N] [--csv]", A_BOARD,
     "followup.project.board.v1", &ccip__followup__board_request__descriptor,
     &ccip__followup__board_reply__descriptor, s_print_board},
};

static const ctl_service S_FOLLOWUP = {
    .name = "followup",
    .header = "usage: ccipctl [--json] --role ROLE --actor ID followup COMMAND ...\n\n"
              "the tasks the leading group and its office entrust to the center (deadlines, "
              "reports,\n"
              "extensions, acceptance, escalations, the weekly digest) and the city's key "
              "projects\n"
              "(milestones, monthly reports, the board). Days are Beijing days (\"by "
              "2027-06-30\"\n"
              "is before the end of that day in Beijing); times are shown in Beijing; amounts "
              "in\n"
              "yuan. --json prints the reply, --csv a table of lists and boards.\n\n",
    .list_prefix = "  ccipctl followup ",
    .footer = "\nroles: the office (--role office) or admin creates tasks, decides extensions, "
              "accepts,\n"
              "returns and closes; a task's lead unit acts on it (\"center\": any --role staff; "
              "\"district:CODE\":\n"
              "--role district --actor district:CODE; \"person:ID\": --actor ID); staff register "
              "key projects;\n"
              "their owner (--role grantee --actor org:USCC) files the monthly reports.\n",
    .commands = S_COMMANDS,
    .ncommands = sizeof S_COMMANDS / sizeof S_COMMANDS[0],
};

int ctl_followup(ctl_opts *o, int argc, char **argv)
{
    return ctl_service_run(o, &S_FOLLOWUP, argc, argv);
}
