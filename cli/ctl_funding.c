/*
 * ccipctl funding ...: every operation of the funding service (programmes,
 * budgets, awards, payments, use-of-funds reports, inspections, clawbacks,
 * staff reports, the ledger) from the command line.
 *
 * Output: a table for people; with the global --json one JSON object that
 * mirrors the reply message (proto/ccip/funding.proto: enum values by name,
 * amounts as integer fen); with --csv (lists, summaries, the journal) one
 * CSV table with a header line and amounts in yuan ("1234.56"), exact.
 *
 * Who asks is the global --role and --actor: staff act as "--role staff
 * --actor <their id>", finance as "--role finance", a grantee organisation
 * as "--role grantee --actor org:<unified social credit code>".
 *
 * Exit codes as every ccipctl command (ctl.h); `funding verify` also exits
 * 1 when the ledger does not verify.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/funding.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ctl.h"

#define SERVICE    "funding"
#define MAX_OPTS   12 /* options one command knows */
#define MAX_REPEAT 64 /* values of one repeatable option */
#define MAX_POS    4  /* positional arguments */

/* ---- JSON, driven by the message descriptors ------------------------------ */

/* ---- values ------------------------------------------------------------------ */

static const char *s_enum_name(const ProtobufCEnumDescriptor *d, int v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    return ev ? ev->name : "-";
}

/* Parses an enum value by name in any case, with or without its prefix
 * ("committed" for AWARD_COMMITTED). Returns 0 or -1 after printing the
 * names it accepts. */
static int s_enum_parse(const ProtobufCEnumDescriptor *d, const char *prefix, const char *option,
                        const char *text, int *out)
{
    char upper[80], prefixed[100];
    size_t i = 0;
    for (; text[i] && i + 1 < sizeof upper; i++)
        upper[i] = (char)(text[i] >= 'a' && text[i] <= 'z' ? text[i] - 'a' + 'A'
                          : text[i] == '-'                 ? '_'
                                                           : text[i]);
    upper[i] = '\0';
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(d, upper);
    if (!ev && prefix) {
        snprintf(prefixed, sizeof prefixed, "%s%s", prefix, upper);
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
            "ccipctl: %s must be an amount in yuan with at most two decimals, such as 1500000 or "
            "1500000.50, got \"%s\"\n",
            option, text);
    return -1;
}

/* RFC 3339 or a date ("2027-03-01": midnight UTC). */
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
            "ccipctl: %s must be a time such as 2027-03-01T09:00:00+08:00 or a date 2027-03-01 "
            "(UTC midnight), got \"%s\"\n",
            option, text);
    return -1;
}

static const char *s_money(int64_t fen, char *buf, size_t len)
{
    ccip_fen_format(fen, buf, len);
    return buf;
}

static const char *s_when(int64_t us, char *buf, size_t len)
{
    if (!us) {
        snprintf(buf, len, "-");
        return buf;
    }
    ccip_time_format_us(us, buf, len);
    char *dot = strchr(buf, '.');
    if (dot)
        memcpy(dot, "Z", 2);
    return buf;
}

/* Prints s as a CSV field: quoted when it holds a comma, quote or line break. */
static void s_csv(const char *s)
{
    if (!s)
        s = "";
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    fputc('"', stdout);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', stdout);
        fputc(*s, stdout);
    }
    fputc('"', stdout);
}

/* ---- command lines -------------------------------------------------------------- */

typedef struct {
    const char *name; /* "--name" without the dashes */
    int has_arg;      /* takes a value */
} s_optdef;

typedef struct {
    const char *pos[MAX_POS];
    int npos;
    const char *vals[MAX_OPTS][MAX_REPEAT]; /* values per option, in order */
    int nvals[MAX_OPTS];
} s_args;

/* Collects positional arguments and --options (defs[i] fills vals[i]).
 * Returns CTL_OK, CTL_USAGE after printing why, or -1 for --help (the
 * usage was printed to stdout). */
static int s_parse(const char *usage, const s_optdef *defs, int min_pos, int max_pos, int argc,
                   char **argv, s_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            printf("usage: ccipctl funding %s\n", usage);
            return -1;
        }
        if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
            if (a->npos == MAX_POS || a->npos == max_pos) {
                fprintf(stderr, "ccipctl: unexpected argument \"%s\"\nusage: ccipctl funding %s\n",
                        arg, usage);
                return CTL_USAGE;
            }
            a->pos[a->npos++] = arg;
            continue;
        }
        int k = 0;
        for (; defs && defs[k].name; k++)
            if (strcmp(defs[k].name, arg + 2) == 0)
                break;
        if (!defs || !defs[k].name) {
            fprintf(stderr, "ccipctl: unknown option %s\nusage: ccipctl funding %s\n", arg, usage);
            return CTL_USAGE;
        }
        const char *v = "";
        if (defs[k].has_arg) {
            if (i + 1 >= argc) {
                fprintf(stderr, "ccipctl: option %s needs a value\nusage: ccipctl funding %s\n",
                        arg, usage);
                return CTL_USAGE;
            }
            v = argv[++i];
        }
        if (a->nvals[k] < MAX_REPEAT)
            a->vals[k][a->nvals[k]++] = v;
    }
    if (a->npos < min_pos) {
        fprintf(stderr, "ccipctl: missing arguments\nusage: ccipctl funding %s\n", usage);
        return CTL_USAGE;
    }
    return CTL_OK;
}

/* The last value of option k, or def. */
static const char *s_opt(const s_args *a, int k, const char *def)
{
    return a->nvals[k] ? a->vals[k][a->nvals[k] - 1] : def;
}

/* ---- talking to funding ------------------------------------------------------------ */

/* Sends one command and decodes the reply as reply_desc into *out. Returns
 * a CTL_ exit code. */
static int s_call(ctl_opts *o, const char *type, const ProtobufCMessage *rq,
                  const ProtobufCMessageDescriptor *reply_desc, ProtobufCMessage **out)
{
    *out = NULL;
    ccip_client *c = ctl_connect(o);
    if (!c)
        return CTL_LOCAL;
    size_t len = protobuf_c_message_get_packed_size(rq);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        ccip_client_destroy(&c);
        fprintf(stderr, "ccipctl: out of memory\n");
        return CTL_LOCAL;
    }
    protobuf_c_message_pack(rq, buf);
    int code;
    Ccip__Envelope *reply = ctl_call(o, c, SERVICE, type, buf, len, &code);
    free(buf);
    ccip_client_destroy(&c);
    if (!reply)
        return code;
    char err[256];
    *out = ccip_payload_unpack(reply_desc, reply->payload.data, reply->payload.len,
                               reply->payload.len + 1, err, sizeof err);
    ccip_envelope_free(&reply);
    if (!*out) {
        fprintf(stderr, "ccipctl: could not decode funding's reply: %s\n", err);
        return CTL_REFUSED;
    }
    return CTL_OK;
}

typedef void (*s_printer)(const ProtobufCMessage *reply, int csv);

/* Sends, prints the reply (JSON, CSV or a table) and frees it. */
static int s_run(ctl_opts *o, const char *type, const ProtobufCMessage *rq,
                 const ProtobufCMessageDescriptor *reply_desc, s_printer print, int csv)
{
    ProtobufCMessage *reply = NULL;
    int code = s_call(o, type, rq, reply_desc, &reply);
    if (code == CTL_OK) {
        if (o->json) {
            ctl_json_message(stdout, reply);
            fputc('\n', stdout);
        } else {
            print(reply, csv);
        }
        protobuf_c_message_free_unpacked(reply, NULL);
    }
    return code;
}

/* ---- printing for people ------------------------------------------------------------ */

static void s_print_programme(const ProtobufCMessage *m, int csv)
{
    (void)csv;
    const Ccip__Funding__Programme *p = ((const Ccip__Funding__ProgrammeReply *)m)->programme;
    if (!p)
        return;
    printf("programme  %s\nname       %s\n", p->code, p->name);
    if (p->description[0])
        printf("about      %s\n", p->description);
    printf("tranches  ");
    for (size_t i = 0; i < p->n_tranche_plan; i++)
        printf(" %d%% on %s%s", p->tranche_plan[i]->percent,
               s_enum_name(&ccip__funding__condition__descriptor, p->tranche_plan[i]->condition),
               i + 1 < p->n_tranche_plan ? "," : "\n");
}

static void s_print_programmes(const ProtobufCMessage *m, int csv)
{
    const Ccip__Funding__ListProgrammesReply *r = (const Ccip__Funding__ListProgrammesReply *)m;
    if (csv)
        puts("code,name,tranche_plan");
    for (size_t i = 0; i < r->n_programmes; i++) {
        const Ccip__Funding__Programme *p = r->programmes[i];
        char plan[512] = "";
        size_t used = 0;
        for (size_t k = 0; k < p->n_tranche_plan && used < sizeof plan; k++)
            used += (size_t)snprintf(
                plan + used, sizeof plan - used, "%s%d:%s", k ? " " : "",
                p->tranche_plan[k]->percent,
                s_enum_name(&ccip__funding__condition__descriptor, p->tranche_plan[k]->condition));
        if (csv) {
            s_csv(p->code);
            putchar(',');
            s_csv(p->name);
            putchar(',');
            s_csv(plan);
            putchar('\n');
        } else {
            printf("%-20s %-40s %s\n", p->code, p->name, plan);
        }
    }
}

static const char *const S_BUDGET_HEADER = "programme,year,budget,committed,disbursed,clawed_back,"
                                           "recovered,remaining,unallotted,closed,awards_proposed,"
                                           "awards_committed";

static void s_budget_csv(const Ccip__Funding__Budget *b)
{
    char m[7][CCIP_FEN_STRLEN + 1];
    s_csv(b->programme_code);
    printf(",%d,%s,%s,%s,%s,%s,%s,%s,%s,%d,%d\n", b->year, s_money(b->budget_fen, m[0], 32),
           s_money(b->committed_fen, m[1], 32), s_money(b->disbursed_fen, m[2], 32),
           s_money(b->clawed_back_fen, m[3], 32), s_money(b->recovered_fen, m[4], 32),
           s_money(b->remaining_fen, m[5], 32), s_money(b->unallotted_fen, m[6], 32),
           b->closed ? "true" : "false", b->awards_proposed, b->awards_committed);
}

static void s_budget_table(const Ccip__Funding__Budget *b)
{
    char m[CCIP_FEN_STRLEN + 1], when[40];
    printf("programme   %s, year %d%s\n", b->programme_code, b->year, b->closed ? " (closed)" : "");
    printf("budget      %20s yuan\n", s_money(b->budget_fen, m, sizeof m));
    printf("committed   %20s yuan\n", s_money(b->committed_fen, m, sizeof m));
    printf("disbursed   %20s yuan\n", s_money(b->disbursed_fen, m, sizeof m));
    printf("clawed back %20s yuan\n", s_money(b->clawed_back_fen, m, sizeof m));
    printf("recovered   %20s yuan\n", s_money(b->recovered_fen, m, sizeof m));
    printf("remaining   %20s yuan (%s of it in no category)\n",
           s_money(b->remaining_fen, m, sizeof m), s_money(b->unallotted_fen, when, sizeof when));
    printf("awards      %d committed, %d proposed\n", b->awards_committed, b->awards_proposed);
    if (b->closed)
        printf("closed      %s by %s: %s\n", s_when(b->closed_at_us, when, sizeof when),
               b->closed_by, b->close_reason);
    for (size_t i = 0; i < b->n_categories; i++) {
        const Ccip__Funding__CategoryBudget *c = b->categories[i];
        char x[CCIP_FEN_STRLEN + 1], y[CCIP_FEN_STRLEN + 1];
        printf("category    %-20s budget %s, committed %s, remaining %s\n", c->category,
               s_money(c->budget_fen, m, sizeof m), s_money(c->committed_fen, x, sizeof x),
               s_money(c->remaining_fen, y, sizeof y));
    }
    for (size_t i = 0; i < b->n_changes; i++) {
        const Ccip__Funding__BudgetChange *c = b->changes[i];
        char x[CCIP_FEN_STRLEN + 1];
        printf("change      %s %s%s: %s -> %s by %s (%s): %s\n",
               s_when(c->at_us, when, sizeof when), c->category[0] ? "category " : "total",
               c->category, s_money(c->from_fen, m, sizeof m), s_money(c->to_fen, x, sizeof x),
               c->actor_id, c->actor_role, c->reason);
    }
}

static void s_print_budget(const ProtobufCMessage *m, int csv)
{
    const Ccip__Funding__Budget *b = ((const Ccip__Funding__BudgetReply *)m)->budget;
    if (!b)
        return;
    if (csv) {
        puts(S_BUDGET_HEADER);
        s_budget_csv(b);
    } else {
        s_budget_table(b);
    }
}

static void s_print_budgets(const ProtobufCMessage *m, int csv)
{
    const Ccip__Funding__ListBudgetsReply *r = (const Ccip__Funding__ListBudgetsReply *)m;
    if (csv)
        puts(S_BUDGET_HEADER);
    for (size_t i = 0; i < r->n_budgets; i++) {
        if (csv) {
            s_budget_csv(r->budgets[i]);
        } else {
            s_budget_table(r->budgets[i]);
            putchar('\n');
        }
    }
}

static const char *const S_AWARD_HEADER = "award,application,programme,year,category,grantee,"
                                          "title,status,requested,amount,disbursed,clawed_back,"
                                          "recovered,tranches_paid,tranches";

static void s_award_row(const Ccip__Funding__Award *w, int csv)
{
    char m[5][CCIP_FEN_STRLEN + 1];
    int paid = 0;
    for (size_t i = 0; i < w->n_tranches; i++)
        paid += w->tranches[i]->status == CCIP__FUNDING__TRANCHE_STATUS__TRANCHE_PAID;
    const char *status = s_enum_name(&ccip__funding__award_status__descriptor, w->status);
    if (csv) {
        printf("%s,%s,", w->id, w->application_id);
        s_csv(w->programme_code);
        printf(",%d,", w->year);
        s_csv(w->category);
        printf(",%s,", w->grantee_uscc);
        s_csv(w->title);
        printf(",%s,%s,%s,%s,%s,%s,%d,%zu\n", status, s_money(w->requested_fen, m[0], 32),
               s_money(w->amount_fen, m[1], 32), s_money(w->disbursed_fen, m[2], 32),
               s_money(w->clawed_back_fen, m[3], 32), s_money(w->recovered_fen, m[4], 32), paid,
               w->n_tranches);
    } else {
        printf("%s  %-16s %-18s %16s  paid %16s  tranches %d/%zu  %s\n", w->id, status,
               w->grantee_uscc, s_money(w->amount_fen, m[0], 32),
               s_money(w->disbursed_fen, m[1], 32), paid, w->n_tranches, w->title);
    }
}

static void s_print_awards(const ProtobufCMessage *m, int csv)
{
    const Ccip__Funding__ListAwardsReply *r = (const Ccip__Funding__ListAwardsReply *)m;
    if (csv)
        puts(S_AWARD_HEADER);
    for (size_t i = 0; i < r->n_awards; i++)
        s_award_row(r->awards[i], csv);
}

static void s_tranches_csv(const Ccip__Funding__Award *w)
{
    puts("award,tranche,percent,amount,condition,condition_met,status,payment,paid_at");
    for (size_t i = 0; i < w->n_tranches; i++) {
        const Ccip__Funding__Tranche *t = w->tranches[i];
        char m[CCIP_FEN_STRLEN + 1], when[40];
        printf("%s,%d,%d,%s,%s,%s,%s,%s,%s\n", w->id, t->number, t->percent,
               s_money(t->amount_fen, m, sizeof m),
               s_enum_name(&ccip__funding__condition__descriptor, t->condition),
               t->condition_met ? "true" : "false",
               s_enum_name(&ccip__funding__tranche_status__descriptor, t->status), t->payment_id,
               t->paid_at_us ? s_when(t->paid_at_us, when, sizeof when) : "");
    }
}

static void s_print_award(const ProtobufCMessage *m, int csv)
{
    const Ccip__Funding__Award *w = ((const Ccip__Funding__AwardReply *)m)->award;
    if (!w)
        return;
    if (csv) {
        s_tranches_csv(w);
        return;
    }
    char a[CCIP_FEN_STRLEN + 1], b[CCIP_FEN_STRLEN + 1], when[40];
    printf("award        %s (application %s)\n", w->id, w->application_id);
    printf("project      %s\n", w->title);
    printf("grantee      %s %s\n", w->grantee_uscc, w->grantee_name);
    printf("programme    %s, year %d%s%s\n", w->programme_code, w->year,
           w->category[0] ? ", category " : "", w->category);
    printf("status       %s%s%s\n",
           s_enum_name(&ccip__funding__award_status__descriptor, w->status),
           w->status_reason[0] ? ": " : "", w->status_reason);
    printf("amount       %s yuan (requested %s", s_money(w->amount_fen, a, sizeof a),
           s_money(w->requested_fen, b, sizeof b));
    printf(", recommended %s)\n", s_money(w->recommended_fen, a, sizeof a));
    printf("disbursed    %s yuan; clawed back %s", s_money(w->disbursed_fen, a, sizeof a),
           s_money(w->clawed_back_fen, b, sizeof b));
    printf(", recovered %s\n", s_money(w->recovered_fen, a, sizeof a));
    if (w->signed_at_us)
        printf("signed       %s by %s\n", s_when(w->signed_at_us, when, sizeof when), w->signed_by);
    if (w->ip_hold[0])
        printf("held         %s\n", w->ip_hold);
    if (w->note[0])
        printf("note         %s\n", w->note);
    for (size_t i = 0; i < w->n_tranches; i++) {
        const Ccip__Funding__Tranche *t = w->tranches[i];
        printf("tranche %d    %3d%% %16s yuan  %-18s on %s (%s)\n", t->number, t->percent,
               s_money(t->amount_fen, a, sizeof a),
               s_enum_name(&ccip__funding__tranche_status__descriptor, t->status),
               s_enum_name(&ccip__funding__condition__descriptor, t->condition),
               t->condition_met ? "holds" : "not yet");
    }
    for (size_t i = 0; i < w->n_payments; i++) {
        const Ccip__Funding__Payment *p = w->payments[i];
        printf("payment      %s tranche %d %s yuan %s, approved by %s%s%s\n", p->id,
               p->tranche_number, s_money(p->amount_fen, a, sizeof a),
               s_enum_name(&ccip__funding__payment_status__descriptor, p->status),
               p->first_approver[0] ? p->first_approver : "nobody yet",
               p->second_approver[0] ? " and " : "", p->second_approver);
    }
    for (size_t i = 0; i < w->n_reports; i++) {
        const Ccip__Funding__UseReport *r = w->reports[i];
        printf("report       %s %s %s spent %s yuan %s\n", r->id,
               s_enum_name(&ccip__funding__report_kind__descriptor, r->kind), r->period,
               s_money(r->spent_fen, a, sizeof a),
               s_enum_name(&ccip__funding__report_status__descriptor, r->status));
    }
    for (size_t i = 0; i < w->n_inspections; i++) {
        const Ccip__Funding__Inspection *s = w->inspections[i];
        printf("inspection   %s %s on %s by %s: %s\n", s->id,
               s_enum_name(&ccip__funding__inspection_kind__descriptor, s->kind),
               s_when(s->scheduled_for_us, when, sizeof when), s->inspector,
               s->finding ? s_enum_name(&ccip__funding__finding__descriptor, s->finding)
                          : "not recorded yet");
    }
    for (size_t i = 0; i < w->n_clawbacks; i++) {
        const Ccip__Funding__Clawback *c = w->clawbacks[i];
        printf("clawback     %s %s yuan, recovered %s, %s\n", c->id,
               s_money(c->amount_fen, a, sizeof a), s_money(c->recovered_fen, b, sizeof b),
               s_enum_name(&ccip__funding__clawback_status__descriptor, c->status));
    }
}

static void s_print_payment(const ProtobufCMessage *m, int csv)
{
    (void)csv;
    const Ccip__Funding__PaymentReply *r = (const Ccip__Funding__PaymentReply *)m;
    if (!r->payment)
        return;
    const Ccip__Funding__Payment *p = r->payment;
    char a[CCIP_FEN_STRLEN + 1];
    printf("payment   %s\ntranche   %d of award %s, %s yuan\nstatus    %s\n", p->id,
           p->tranche_number, p->award_id, s_money(p->amount_fen, a, sizeof a),
           s_enum_name(&ccip__funding__payment_status__descriptor, p->status));
    printf("approvals %s%s%s%s\n", p->first_approver[0] ? p->first_approver : "none yet",
           p->second_approver[0] ? ", " : "", p->second_approver,
           p->needs_second_approval ? " (two different approvers needed)" : "");
    if (p->payment_ref[0])
        printf("reference %s\n", p->payment_ref);
}

static void s_print_report(const ProtobufCMessage *m, int csv)
{
    (void)csv;
    const Ccip__Funding__UseReport *r = ((const Ccip__Funding__UseReportReply *)m)->report;
    if (!r)
        return;
    char a[CCIP_FEN_STRLEN + 1];
    printf("report    %s (award %s)\nkind      %s, period %s\nstatus    %s\nspent     %s yuan\n",
           r->id, r->award_id, s_enum_name(&ccip__funding__report_kind__descriptor, r->kind),
           r->period, s_enum_name(&ccip__funding__report_status__descriptor, r->status),
           s_money(r->spent_fen, a, sizeof a));
    for (size_t i = 0; i < r->n_lines; i++)
        printf("line      %-30s %16s yuan\n", r->lines[i]->item,
               s_money(r->lines[i]->spent_fen, a, sizeof a));
    if (r->review_note[0])
        printf("review    %s\n", r->review_note);
}

static void s_print_inspection(const ProtobufCMessage *m, int csv)
{
    (void)csv;
    const Ccip__Funding__InspectionReply *r = (const Ccip__Funding__InspectionReply *)m;
    char when[40], a[CCIP_FEN_STRLEN + 1];
    if (r->inspection)
        printf("inspection %s (award %s)\nkind       %s on %s by %s\nfinding    %s\n",
               r->inspection->id, r->inspection->award_id,
               s_enum_name(&ccip__funding__inspection_kind__descriptor, r->inspection->kind),
               s_when(r->inspection->scheduled_for_us, when, sizeof when), r->inspection->inspector,
               r->inspection->finding
                   ? s_enum_name(&ccip__funding__finding__descriptor, r->inspection->finding)
                   : "not recorded yet");
    if (r->clawback)
        printf("clawback   %s of %s yuan ordered\n", r->clawback->id,
               s_money(r->clawback->amount_fen, a, sizeof a));
}

static void s_print_clawback(const ProtobufCMessage *m, int csv)
{
    (void)csv;
    const Ccip__Funding__Clawback *c = ((const Ccip__Funding__ClawbackReply *)m)->clawback;
    if (!c)
        return;
    char a[CCIP_FEN_STRLEN + 1], b[CCIP_FEN_STRLEN + 1];
    printf("clawback  %s (award %s)\namount    %s yuan, recovered %s\nstatus    %s\n", c->id,
           c->award_id, s_money(c->amount_fen, a, sizeof a), s_money(c->recovered_fen, b, sizeof b),
           s_enum_name(&ccip__funding__clawback_status__descriptor, c->status));
}

static void s_print_summary(const ProtobufCMessage *m, int csv)
{
    const Ccip__Funding__YearSummaryReply *r = (const Ccip__Funding__YearSummaryReply *)m;
    if (csv) {
        /* One table: the year's figures, then its awards, each a row of the
         * same columns with `kind` telling them apart. */
        puts("kind,programme,year,id,status,budget_or_amount,committed,disbursed,clawed_back,"
             "recovered,remaining");
        char v[6][CCIP_FEN_STRLEN + 1];
        if (r->budget) {
            const Ccip__Funding__Budget *b = r->budget;
            s_csv("year");
            putchar(',');
            s_csv(b->programme_code);
            printf(",%d,,%s,%s,%s,%s,%s,%s,%s\n", b->year, b->closed ? "closed" : "open",
                   s_money(b->budget_fen, v[0], 32), s_money(b->committed_fen, v[1], 32),
                   s_money(b->disbursed_fen, v[2], 32), s_money(b->clawed_back_fen, v[3], 32),
                   s_money(b->recovered_fen, v[4], 32), s_money(b->remaining_fen, v[5], 32));
        }
        for (size_t i = 0; i < r->n_awards; i++) {
            const Ccip__Funding__Award *w = r->awards[i];
            int committed = w->status == CCIP__FUNDING__AWARD_STATUS__AWARD_COMMITTED ||
                            w->status == CCIP__FUNDING__AWARD_STATUS__AWARD_SUSPENDED ||
                            w->status == CCIP__FUNDING__AWARD_STATUS__AWARD_COMPLETED;
            printf("award,");
            s_csv(w->programme_code);
            printf(",%d,%s,%s,%s,%s,%s,%s,%s,%s\n", w->year, w->id,
                   s_enum_name(&ccip__funding__award_status__descriptor, w->status),
                   s_money(w->amount_fen, v[0], 32),
                   s_money(committed ? w->amount_fen : 0, v[1], 32),
                   s_money(w->disbursed_fen, v[2], 32), s_money(w->clawed_back_fen, v[3], 32),
                   s_money(w->recovered_fen, v[4], 32),
                   s_money(committed ? w->amount_fen - w->disbursed_fen : 0, v[5], 32));
        }
        return;
    }
    if (r->budget)
        s_budget_table(r->budget);
    if (r->n_awards)
        printf("\nawards:\n");
    for (size_t i = 0; i < r->n_awards; i++)
        s_award_row(r->awards[i], 0);
}

static void s_print_journal(const ProtobufCMessage *m, int csv)
{
    const Ccip__Funding__ListJournalReply *r = (const Ccip__Funding__ListJournalReply *)m;
    if (csv)
        puts("entry,at,kind,programme,year,award,account,debit,credit,actor,memo");
    for (size_t i = 0; i < r->n_entries; i++) {
        const Ccip__Funding__JournalEntry *e = r->entries[i];
        char when[40], d[CCIP_FEN_STRLEN + 1], c[CCIP_FEN_STRLEN + 1];
        const char *kind = s_enum_name(&ccip__funding__entry_kind__descriptor, e->kind);
        if (!csv)
            printf("%-6" PRId64 " %s %-26s %s/%d %s  %s\n", e->id,
                   s_when(e->at_us, when, sizeof when), kind, e->programme_code, e->year,
                   e->actor_id, e->memo);
        for (size_t k = 0; k < e->n_lines; k++) {
            const Ccip__Funding__JournalLine *l = e->lines[k];
            s_money(l->debit_fen, d, sizeof d);
            s_money(l->credit_fen, c, sizeof c);
            if (csv) {
                printf("%" PRId64 ",%s,%s,", e->id, s_when(e->at_us, when, sizeof when), kind);
                s_csv(e->programme_code);
                printf(",%d,%s,", e->year, e->award_id);
                s_csv(l->account);
                printf(",%s,%s,", l->debit_fen ? d : "", l->credit_fen ? c : "");
                s_csv(e->actor_id);
                putchar(',');
                s_csv(e->memo);
                putchar('\n');
            } else {
                printf("         %-60s %16s %16s\n", l->account, l->debit_fen ? d : "",
                       l->credit_fen ? c : "");
            }
        }
    }
}

static int s_verify_ok; /* the last verification's verdict */

static void s_print_verify(const ProtobufCMessage *m, int csv)
{
    const Ccip__Funding__VerifyLedgerReply *r = (const Ccip__Funding__VerifyLedgerReply *)m;
    if (csv) {
        puts("problem,what,stored,journal");
        for (size_t i = 0; i < r->n_accounts_mismatched; i++)
            printf("account,%s,%" PRId64 ",%" PRId64 "\n", r->accounts_mismatched[i]->account,
                   r->accounts_mismatched[i]->stored_fen, r->accounts_mismatched[i]->journal_fen);
        for (size_t i = 0; i < r->n_entries_unbalanced; i++)
            printf("entry,%" PRId64 ",%" PRId64 ",%" PRId64 "\n",
                   r->entries_unbalanced[i]->entry_id, r->entries_unbalanced[i]->debit_fen,
                   r->entries_unbalanced[i]->credit_fen);
        for (size_t i = 0; i < r->n_figures_mismatched; i++) {
            printf("figure,");
            s_csv(r->figures_mismatched[i]->what);
            printf(",%" PRId64 ",%" PRId64 "\n", r->figures_mismatched[i]->stored_fen,
                   r->figures_mismatched[i]->journal_fen);
        }
        for (size_t i = 0; i < r->n_negative_balances; i++)
            printf("negative,%s,,\n", r->negative_balances[i]);
        return;
    }
    printf("ledger %s: %" PRId64 " entries, %" PRId64 " lines, %" PRId64 " accounts checked\n",
           r->ok ? "verifies" : "DOES NOT VERIFY", r->entries, r->lines, r->accounts);
    for (size_t i = 0; i < r->n_accounts_mismatched; i++)
        printf("account %s: stored balance %" PRId64 " fen, journal says %" PRId64 " fen\n",
               r->accounts_mismatched[i]->account, r->accounts_mismatched[i]->stored_fen,
               r->accounts_mismatched[i]->journal_fen);
    for (size_t i = 0; i < r->n_entries_unbalanced; i++)
        printf("entry %" PRId64 ": debits %" PRId64 " fen, credits %" PRId64
               " fen in %d lines: does not balance\n",
               r->entries_unbalanced[i]->entry_id, r->entries_unbalanced[i]->debit_fen,
               r->entries_unbalanced[i]->credit_fen, r->entries_unbalanced[i]->lines);
    for (size_t i = 0; i < r->n_figures_mismatched; i++)
        printf("%s: recorded %" PRId64 " fen, journal says %" PRId64 " fen\n",
               r->figures_mismatched[i]->what, r->figures_mismatched[i]->stored_fen,
               r->figures_mismatched[i]->journal_fen);
    for (size_t i = 0; i < r->n_negative_balances; i++)
        printf("account %s is below zero in the journal\n", r->negative_balances[i]);
}

/* ---- commands --------------------------------------------------------------------- */

typedef int (*s_fn)(ctl_opts *o, const s_args *a);

typedef struct {
    const char *group;    /* programme, budget, ... ("" for one-word commands) */
    const char *verb;     /* create, set, ... */
    const char *usage;    /* after "ccipctl funding " */
    const s_optdef *opts; /* NULL-terminated, or NULL */
    int min_pos, max_pos; /* positional arguments */
    s_fn fn;              /* runs it */
    const char *type;     /* for the shared action commands */
} s_command;

static const s_optdef O_CSV[] = {{"csv", 0}, {NULL, 0}};

/* --tranche PERCENT:CONDITION[:LABEL] */
static int s_plan(const s_args *a, int k, Ccip__Funding__TrancheRule *rules,
                  Ccip__Funding__TrancheRule **ptrs, size_t *n, char labels[][101])
{
    *n = 0;
    for (int i = 0; i < a->nvals[k] && i < 10; i++) {
        const char *v = a->vals[k][i];
        const char *colon = strchr(v, ':');
        char cond[64];
        int64_t pct;
        char num[16];
        size_t nl = colon ? (size_t)(colon - v) : 0;
        if (!colon || nl == 0 || nl >= sizeof num) {
            fprintf(stderr,
                    "ccipctl: --tranche must be PERCENT:CONDITION[:LABEL], such as "
                    "50:AGREEMENT_SIGNED:on-signing, got \"%s\"\n",
                    v);
            return -1;
        }
        memcpy(num, v, nl);
        num[nl] = '\0';
        const char *rest = colon + 1, *colon2 = strchr(rest, ':');
        size_t cl = colon2 ? (size_t)(colon2 - rest) : strlen(rest);
        snprintf(cond, sizeof cond, "%.*s", (int)(cl < sizeof cond ? cl : sizeof cond - 1), rest);
        int c;
        if (s_int("--tranche percent", num, 1, 100, &pct) < 0 ||
            s_enum_parse(&ccip__funding__condition__descriptor, NULL, "--tranche condition", cond,
                         &c) < 0)
            return -1;
        rules[i] = (Ccip__Funding__TrancheRule)CCIP__FUNDING__TRANCHE_RULE__INIT;
        rules[i].percent = (int32_t)pct;
        rules[i].condition = (Ccip__Funding__Condition)c;
        snprintf(labels[i], 101, "%s", colon2 ? colon2 + 1 : "");
        rules[i].label = labels[i];
        ptrs[i] = &rules[i];
        (*n)++;
    }
    return 0;
}

static const s_optdef O_PROGRAMME[] = {
    {"name", 1}, {"description", 1}, {"tranche", 1}, {"reason", 1}, {NULL, 0}};

static int s_programme_create(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__CreateProgrammeRequest rq = CCIP__FUNDING__CREATE_PROGRAMME_REQUEST__INIT;
    Ccip__Funding__TrancheRule rules[10], *ptrs[10];
    char labels[10][101];
    rq.code = (char *)a->pos[0];
    rq.name = (char *)s_opt(a, 0, "");
    rq.description = (char *)s_opt(a, 1, "");
    if (s_plan(a, 2, rules, ptrs, &rq.n_tranche_plan, labels) < 0)
        return CTL_USAGE;
    rq.tranche_plan = ptrs;
    return s_run(o, "funding.programme.create.v1", &rq.base,
                 &ccip__funding__programme_reply__descriptor, s_print_programme, 0);
}

static int s_programme_configure(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__ConfigureProgrammeRequest rq = CCIP__FUNDING__CONFIGURE_PROGRAMME_REQUEST__INIT;
    Ccip__Funding__TrancheRule rules[10], *ptrs[10];
    char labels[10][101];
    rq.code = (char *)a->pos[0];
    rq.name = (char *)s_opt(a, 0, "");
    rq.description = (char *)s_opt(a, 1, "");
    rq.reason = (char *)s_opt(a, 3, "");
    if (s_plan(a, 2, rules, ptrs, &rq.n_tranche_plan, labels) < 0)
        return CTL_USAGE;
    rq.tranche_plan = ptrs;
    return s_run(o, "funding.programme.configure.v1", &rq.base,
                 &ccip__funding__programme_reply__descriptor, s_print_programme, 0);
}

static int s_programme_show(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__GetProgrammeRequest rq = CCIP__FUNDING__GET_PROGRAMME_REQUEST__INIT;
    rq.code = (char *)a->pos[0];
    return s_run(o, "funding.programme.get.v1", &rq.base,
                 &ccip__funding__programme_reply__descriptor, s_print_programme, 0);
}

static int s_programme_list(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__ListProgrammesRequest rq = CCIP__FUNDING__LIST_PROGRAMMES_REQUEST__INIT;
    return s_run(o, "funding.programme.list.v1", &rq.base,
                 &ccip__funding__list_programmes_reply__descriptor, s_print_programmes,
                 a->nvals[0] > 0);
}

static int s_year_arg(const char *text, int32_t *year)
{
    int64_t y;
    if (s_int("YEAR", text, 2000, 2100, &y) < 0)
        return -1;
    *year = (int32_t)y;
    return 0;
}

static const s_optdef O_BUDGET_SET[] = {{"category", 1}, {"reason", 1}, {NULL, 0}};

static int s_budget_set(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__SetBudgetRequest rq = CCIP__FUNDING__SET_BUDGET_REQUEST__INIT;
    rq.programme_code = (char *)a->pos[0];
    if (s_year_arg(a->pos[1], &rq.year) < 0 || s_yuan("AMOUNT", a->pos[2], &rq.budget_fen) < 0)
        return CTL_USAGE;
    rq.category = (char *)s_opt(a, 0, "");
    rq.reason = (char *)s_opt(a, 1, "");
    return s_run(o, "funding.budget.set.v1", &rq.base, &ccip__funding__budget_reply__descriptor,
                 s_print_budget, 0);
}

static int s_budget_show(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__GetBudgetRequest rq = CCIP__FUNDING__GET_BUDGET_REQUEST__INIT;
    rq.programme_code = (char *)a->pos[0];
    if (s_year_arg(a->pos[1], &rq.year) < 0)
        return CTL_USAGE;
    return s_run(o, "funding.budget.get.v1", &rq.base, &ccip__funding__budget_reply__descriptor,
                 s_print_budget, a->nvals[0] > 0);
}

static const s_optdef O_BUDGET_LIST[] = {{"csv", 0}, {"programme", 1}, {"year", 1}, {NULL, 0}};

static int s_budget_list(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__ListBudgetsRequest rq = CCIP__FUNDING__LIST_BUDGETS_REQUEST__INIT;
    rq.programme_code = (char *)s_opt(a, 1, "");
    if (a->nvals[2] && s_year_arg(s_opt(a, 2, ""), &rq.year) < 0)
        return CTL_USAGE;
    return s_run(o, "funding.budget.list.v1", &rq.base,
                 &ccip__funding__list_budgets_reply__descriptor, s_print_budgets, a->nvals[0] > 0);
}

static const s_optdef O_REASON[] = {{"reason", 1}, {NULL, 0}};

static int s_year_close(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__CloseYearRequest rq = CCIP__FUNDING__CLOSE_YEAR_REQUEST__INIT;
    rq.programme_code = (char *)a->pos[0];
    if (s_year_arg(a->pos[1], &rq.year) < 0)
        return CTL_USAGE;
    rq.reason = (char *)s_opt(a, 0, "");
    return s_run(o, "funding.year.close.v1", &rq.base, &ccip__funding__budget_reply__descriptor,
                 s_print_budget, 0);
}

static const s_optdef O_AWARD_LIST[] = {{"csv", 0},    {"programme", 1}, {"year", 1},
                                        {"status", 1}, {"grantee", 1},   {"limit", 1},
                                        {NULL, 0}};

static int s_award_list(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__ListAwardsRequest rq = CCIP__FUNDING__LIST_AWARDS_REQUEST__INIT;
    rq.programme_code = (char *)s_opt(a, 1, "");
    rq.grantee_uscc = (char *)s_opt(a, 4, "");
    int st = 0;
    int64_t limit = 0;
    if ((a->nvals[2] && s_year_arg(s_opt(a, 2, ""), &rq.year) < 0) ||
        (a->nvals[3] && s_enum_parse(&ccip__funding__award_status__descriptor, "AWARD_", "--status",
                                     s_opt(a, 3, ""), &st) < 0) ||
        (a->nvals[5] && s_int("--limit", s_opt(a, 5, ""), 1, 5000, &limit) < 0))
        return CTL_USAGE;
    rq.status = (Ccip__Funding__AwardStatus)st;
    rq.limit = (int32_t)limit;
    return s_run(o, "funding.award.list.v1", &rq.base,
                 &ccip__funding__list_awards_reply__descriptor, s_print_awards, a->nvals[0] > 0);
}

static const s_optdef O_AWARD_SHOW[] = {{"csv", 0}, {"application", 1}, {NULL, 0}};

static int s_award_show(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__GetAwardRequest rq = CCIP__FUNDING__GET_AWARD_REQUEST__INIT;
    rq.award_id = (char *)(a->npos ? a->pos[0] : "");
    rq.application_id = (char *)s_opt(a, 1, "");
    if (!a->npos && !a->nvals[1]) {
        fprintf(stderr, "ccipctl: give an award id or --application ID\n");
        return CTL_USAGE;
    }
    return s_run(o, "funding.award.get.v1", &rq.base, &ccip__funding__award_reply__descriptor,
                 s_print_award, a->nvals[0] > 0);
}

static const s_optdef O_CONFIRM[] = {{"amount", 1}, {"category", 1}, {"note", 1}, {NULL, 0}};

static int s_award_confirm(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__ConfirmAwardRequest rq = CCIP__FUNDING__CONFIRM_AWARD_REQUEST__INIT;
    rq.award_id = (char *)a->pos[0];
    if (a->nvals[0] && s_yuan("--amount", s_opt(a, 0, ""), &rq.amount_fen) < 0)
        return CTL_USAGE;
    rq.category = (char *)s_opt(a, 1, "");
    rq.note = (char *)s_opt(a, 2, "");
    return s_run(o, "funding.award.confirm.v1", &rq.base, &ccip__funding__award_reply__descriptor,
                 s_print_award, 0);
}

static int s_award_action(ctl_opts *o, const s_args *a, const char *type)
{
    Ccip__Funding__AwardActionRequest rq = CCIP__FUNDING__AWARD_ACTION_REQUEST__INIT;
    rq.award_id = (char *)a->pos[0];
    rq.reason = (char *)s_opt(a, 0, "");
    return s_run(o, type, &rq.base, &ccip__funding__award_reply__descriptor, s_print_award, 0);
}

static int s_award_link(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__LinkWorkRequest rq = CCIP__FUNDING__LINK_WORK_REQUEST__INIT;
    rq.award_id = (char *)a->pos[0];
    rq.work_id = (char *)a->pos[1];
    return s_run(o, "funding.award.link_work.v1", &rq.base, &ccip__funding__award_reply__descriptor,
                 s_print_award, 0);
}

static int s_payment_request(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__RequestPaymentRequest rq = CCIP__FUNDING__REQUEST_PAYMENT_REQUEST__INIT;
    int64_t n;
    rq.award_id = (char *)a->pos[0];
    if (s_int("TRANCHE", a->pos[1], 1, 10, &n) < 0)
        return CTL_USAGE;
    rq.tranche_number = (int32_t)n;
    return s_run(o, "funding.payment.request.v1", &rq.base,
                 &ccip__funding__payment_reply__descriptor, s_print_payment, 0);
}

static const s_optdef O_REF[] = {{"ref", 1}, {NULL, 0}};

static int s_payment_approve(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__ApprovePaymentRequest rq = CCIP__FUNDING__APPROVE_PAYMENT_REQUEST__INIT;
    rq.payment_id = (char *)a->pos[0];
    rq.payment_ref = (char *)s_opt(a, 0, "");
    return s_run(o, "funding.payment.approve.v1", &rq.base,
                 &ccip__funding__payment_reply__descriptor, s_print_payment, 0);
}

static int s_payment_cancel(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__CancelPaymentRequest rq = CCIP__FUNDING__CANCEL_PAYMENT_REQUEST__INIT;
    rq.payment_id = (char *)a->pos[0];
    rq.reason = (char *)s_opt(a, 0, "");
    return s_run(o, "funding.payment.cancel.v1", &rq.base,
                 &ccip__funding__payment_reply__descriptor, s_print_payment, 0);
}

static const s_optdef O_REPORT_SAVE[] = {{"report", 1},   {"kind", 1}, {"period", 1},
                                         {"progress", 1}, {"line", 1}, {"document", 1},
                                         {NULL, 0}};

static int s_report_save(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__SaveReportRequest rq = CCIP__FUNDING__SAVE_REPORT_REQUEST__INIT;
    Ccip__Funding__SpendLine lines[MAX_REPEAT], *lptr[MAX_REPEAT];
    Ccip__Funding__ReportDocument docs[MAX_REPEAT], *dptr[MAX_REPEAT];
    char items[MAX_REPEAT][256], names[MAX_REPEAT][256];
    int kind = 0;
    rq.award_id = (char *)a->pos[0];
    rq.report_id = (char *)s_opt(a, 0, "");
    if (s_enum_parse(&ccip__funding__report_kind__descriptor, NULL, "--kind",
                     s_opt(a, 1, "INTERIM"), &kind) < 0)
        return CTL_USAGE;
    rq.kind = (Ccip__Funding__ReportKind)kind;
    rq.period = (char *)s_opt(a, 2, "");
    rq.progress = (char *)s_opt(a, 3, "");
    for (int i = 0; i < a->nvals[4]; i++) {
        const char *v = a->vals[4][i], *eq = strrchr(v, '=');
        if (!eq || eq == v) {
            fprintf(stderr,
                    "ccipctl: --line must be ITEM=YUAN, such as equipment=8000.00, got "
                    "\"%s\"\n",
                    v);
            return CTL_USAGE;
        }
        lines[i] = (Ccip__Funding__SpendLine)CCIP__FUNDING__SPEND_LINE__INIT;
        snprintf(items[i], sizeof items[i], "%.*s", (int)(eq - v), v);
        lines[i].item = items[i];
        if (s_yuan("--line amount", eq + 1, &lines[i].spent_fen) < 0)
            return CTL_USAGE;
        lptr[rq.n_lines++] = &lines[i];
    }
    for (int i = 0; i < a->nvals[5]; i++) {
        const char *v = a->vals[5][i], *eq = strrchr(v, '=');
        if (!eq || eq == v) {
            fprintf(stderr, "ccipctl: --document must be NAME=SHA256, got \"%s\"\n", v);
            return CTL_USAGE;
        }
        docs[i] = (Ccip__Funding__ReportDocument)CCIP__FUNDING__REPORT_DOCUMENT__INIT;
        snprintf(names[i], sizeof names[i], "%.*s", (int)(eq - v), v);
        docs[i].name = names[i];
        docs[i].sha256 = (char *)eq + 1;
        dptr[rq.n_documents++] = &docs[i];
    }
    rq.lines = lptr;
    rq.documents = dptr;
    return s_run(o, "funding.report.save.v1", &rq.base,
                 &ccip__funding__use_report_reply__descriptor, s_print_report, 0);
}

static const s_optdef O_NOTE[] = {{"note", 1}, {NULL, 0}};

static int s_report_action(ctl_opts *o, const s_args *a, const char *type)
{
    Ccip__Funding__ReportActionRequest rq = CCIP__FUNDING__REPORT_ACTION_REQUEST__INIT;
    rq.report_id = (char *)a->pos[0];
    rq.note = (char *)s_opt(a, 0, "");
    return s_run(o, type, &rq.base, &ccip__funding__use_report_reply__descriptor, s_print_report,
                 0);
}

static const s_optdef O_SCHEDULE[] = {{"kind", 1}, {"date", 1}, {"inspector", 1}, {NULL, 0}};

static int s_inspection_schedule(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__ScheduleInspectionRequest rq = CCIP__FUNDING__SCHEDULE_INSPECTION_REQUEST__INIT;
    int kind = 0;
    rq.award_id = (char *)a->pos[0];
    if (s_enum_parse(&ccip__funding__inspection_kind__descriptor, NULL, "--kind", s_opt(a, 0, ""),
                     &kind) < 0 ||
        s_time("--date", s_opt(a, 1, ""), &rq.scheduled_for_us) < 0)
        return CTL_USAGE;
    rq.kind = (Ccip__Funding__InspectionKind)kind;
    rq.inspector = (char *)s_opt(a, 2, "");
    return s_run(o, "funding.inspection.schedule.v1", &rq.base,
                 &ccip__funding__inspection_reply__descriptor, s_print_inspection, 0);
}

static const s_optdef O_RECORD[] = {
    {"finding", 1}, {"notes", 1}, {"correct-by", 1}, {"misused", 1}, {NULL, 0}};

static int s_inspection_record(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__RecordInspectionRequest rq = CCIP__FUNDING__RECORD_INSPECTION_REQUEST__INIT;
    int finding = 0;
    rq.inspection_id = (char *)a->pos[0];
    if (s_enum_parse(&ccip__funding__finding__descriptor, NULL, "--finding", s_opt(a, 0, ""),
                     &finding) < 0 ||
        (a->nvals[2] && s_time("--correct-by", s_opt(a, 2, ""), &rq.correct_by_us) < 0) ||
        (a->nvals[3] && s_yuan("--misused", s_opt(a, 3, ""), &rq.misused_fen) < 0))
        return CTL_USAGE;
    rq.finding = (Ccip__Funding__Finding)finding;
    rq.notes = (char *)s_opt(a, 1, "");
    return s_run(o, "funding.inspection.record.v1", &rq.base,
                 &ccip__funding__inspection_reply__descriptor, s_print_inspection, 0);
}

static const s_optdef O_RECOVER[] = {{"reference", 1}, {NULL, 0}};

static int s_clawback_recover(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__RecoverRequest rq = CCIP__FUNDING__RECOVER_REQUEST__INIT;
    rq.clawback_id = (char *)a->pos[0];
    if (s_yuan("AMOUNT", a->pos[1], &rq.amount_fen) < 0)
        return CTL_USAGE;
    rq.reference = (char *)s_opt(a, 0, "");
    return s_run(o, "funding.clawback.recover.v1", &rq.base,
                 &ccip__funding__clawback_reply__descriptor, s_print_clawback, 0);
}

static int s_summary(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__YearSummaryRequest rq = CCIP__FUNDING__YEAR_SUMMARY_REQUEST__INIT;
    rq.programme_code = (char *)a->pos[0];
    if (s_year_arg(a->pos[1], &rq.year) < 0)
        return CTL_USAGE;
    return s_run(o, "funding.summary.year.v1", &rq.base,
                 &ccip__funding__year_summary_reply__descriptor, s_print_summary, a->nvals[0] > 0);
}

static const s_optdef O_JOURNAL[] = {{"csv", 0},   {"programme", 1}, {"year", 1}, {"award", 1},
                                     {"after", 1}, {"limit", 1},     {NULL, 0}};

static int s_journal(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__ListJournalRequest rq = CCIP__FUNDING__LIST_JOURNAL_REQUEST__INIT;
    int64_t after = 0, limit = 0;
    rq.programme_code = (char *)s_opt(a, 1, "");
    rq.award_id = (char *)s_opt(a, 3, "");
    if ((a->nvals[2] && s_year_arg(s_opt(a, 2, ""), &rq.year) < 0) ||
        (a->nvals[4] && s_int("--after", s_opt(a, 4, ""), 0, INT64_MAX, &after) < 0) ||
        (a->nvals[5] && s_int("--limit", s_opt(a, 5, ""), 1, 2000, &limit) < 0))
        return CTL_USAGE;
    rq.after_id = after;
    rq.limit = (int32_t)limit;
    return s_run(o, "funding.journal.list.v1", &rq.base,
                 &ccip__funding__list_journal_reply__descriptor, s_print_journal, a->nvals[0] > 0);
}

static int s_verify(ctl_opts *o, const s_args *a)
{
    Ccip__Funding__VerifyLedgerRequest rq = CCIP__FUNDING__VERIFY_LEDGER_REQUEST__INIT;
    s_verify_ok = 1;
    ProtobufCMessage *reply = NULL;
    int code = s_call(o, "funding.ledger.verify.v1", &rq.base,
                      &ccip__funding__verify_ledger_reply__descriptor, &reply);
    if (code != CTL_OK)
        return code;
    s_verify_ok = ((const Ccip__Funding__VerifyLedgerReply *)reply)->ok;
    if (o->json) {
        ctl_json_message(stdout, reply);
        fputc('\n', stdout);
    } else {
        s_print_verify(reply, a->nvals[0] > 0);
    }
    protobuf_c_message_free_unpacked(reply, NULL);
    return s_verify_ok ? CTL_OK : CTL_REFUSED;
}

/* The shared shapes: award and report actions by their command type. */
static int s_dispatch_action(ctl_opts *o, const s_args *a, const char *type)
{
    if (strncmp(type, "funding.award.", 14) == 0)
        return s_award_action(o, a, type);
    return s_report_action(o, a, type);
}

static const s_command S_COMMANDS[] = {
    {"programme", "create",
     "programme create CODE --name NAME [--description TEXT] [--tranche PCT:CONDITION[:LABEL]]...",
     O_PROGRAMME, 1, 1, s_programme_create, NULL},
    {"programme", "configure",
     "programme configure CODE --reason WHY [--name NAME] [--description TEXT] [--tranche ...]",
     O_PROGRAMME, 1, 1, s_programme_configure, NULL},
    {"programme", "show", "programme show CODE", NULL, 1, 1, s_programme_show, NULL},
    {"programme", "list", "programme list [--csv]", O_CSV, 0, 0, s_programme_list, NULL},
    {"budget", "set", "budget set CODE YEAR YUAN --reason WHY [--category CATEGORY]", O_BUDGET_SET,
     3, 3, s_budget_set, NULL},
    {"budget", "show", "budget show CODE YEAR [--csv]", O_CSV, 2, 2, s_budget_show, NULL},
    {"budget", "list", "budget list [--programme CODE] [--year YEAR] [--csv]", O_BUDGET_LIST, 0, 0,
     s_budget_list, NULL},
    {"year", "close", "year close CODE YEAR --reason WHY", O_REASON, 2, 2, s_year_close, NULL},
    {"award", "list",
     "award list [--programme CODE] [--year YEAR] [--status STATUS] [--grantee USCC] [--limit N] "
     "[--csv]",
     O_AWARD_LIST, 0, 0, s_award_list, NULL},
    {"award", "show", "award show (AWARD | --application ID) [--csv: its tranches]", O_AWARD_SHOW,
     0, 1, s_award_show, NULL},
    {"award", "confirm", "award confirm AWARD [--amount YUAN] [--category CATEGORY] [--note TEXT]",
     O_CONFIRM, 1, 1, s_award_confirm, NULL},
    {"award", "reject", "award reject AWARD --reason WHY", O_REASON, 1, 1, NULL,
     "funding.award.reject.v1"},
    {"award", "sign", "award sign AWARD [--reason NOTE]", O_REASON, 1, 1, NULL,
     "funding.award.sign.v1"},
    {"award", "suspend", "award suspend AWARD --reason WHY", O_REASON, 1, 1, NULL,
     "funding.award.suspend.v1"},
    {"award", "resume", "award resume AWARD --reason WHY", O_REASON, 1, 1, NULL,
     "funding.award.resume.v1"},
    {"award", "terminate", "award terminate AWARD --reason WHY", O_REASON, 1, 1, NULL,
     "funding.award.terminate.v1"},
    {"award", "link-work", "award link-work AWARD WORK_ID", NULL, 2, 2, s_award_link, NULL},
    {"payment", "request", "payment request AWARD TRANCHE", NULL, 2, 2, s_payment_request, NULL},
    {"payment", "approve", "payment approve PAYMENT [--ref TREASURY_REFERENCE]", O_REF, 1, 1,
     s_payment_approve, NULL},
    {"payment", "cancel", "payment cancel PAYMENT --reason WHY", O_REASON, 1, 1, s_payment_cancel,
     NULL},
    {"report", "save",
     "report save AWARD [--report ID] --kind INTERIM|FINAL --period TEXT --progress TEXT "
     "--line ITEM=YUAN... [--document NAME=SHA256]...",
     O_REPORT_SAVE, 1, 1, s_report_save, NULL},
    {"report", "submit", "report submit REPORT", O_NOTE, 1, 1, NULL, "funding.report.submit.v1"},
    {"report", "accept", "report accept REPORT [--note TEXT]", O_NOTE, 1, 1, NULL,
     "funding.report.accept.v1"},
    {"report", "return", "report return REPORT --note WHAT_TO_CORRECT", O_NOTE, 1, 1, NULL,
     "funding.report.return.v1"},
    {"inspection", "schedule",
     "inspection schedule AWARD --kind MIDTERM|COMPLETION|AD_HOC --date DATE --inspector NAME",
     O_SCHEDULE, 1, 1, s_inspection_schedule, NULL},
    {"inspection", "record",
     "inspection record INSPECTION --finding COMPLIANT|ISSUES|MISUSE --notes TEXT "
     "[--correct-by DATE] [--misused YUAN]",
     O_RECORD, 1, 1, s_inspection_record, NULL},
    {"clawback", "recover", "clawback recover CLAWBACK YUAN --reference RECEIPT", O_RECOVER, 2, 2,
     s_clawback_recover, NULL},
    {"summary", "", "summary CODE YEAR [--csv]", O_CSV, 2, 2, s_summary, NULL},
    {"journal", "",
     "journal [--programme CODE] [--year YEAR] [--award AWARD] [--after ENTRY] [--limit N] [--csv]",
     O_JOURNAL, 0, 0, s_journal, NULL},
    {"verify", "", "verify [--csv]", O_CSV, 0, 0, s_verify, NULL},
};
#define NCOMMANDS (sizeof S_COMMANDS / sizeof S_COMMANDS[0])

static void s_overview(FILE *f)
{
    fputs("usage: ccipctl [--json] --role ROLE --actor ID funding COMMAND ...\n\n"
          "the special funds: programmes, budgets, awards, tranches and payments, use-of-funds\n"
          "reports, inspections, clawbacks, staff reports and the ledger. Amounts are in yuan\n"
          "(\"1500000.50\"); --json prints the reply, --csv a table of lists and summaries.\n\n",
          f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  ccipctl funding %s\n", S_COMMANDS[i].usage);
    fputs("\nroles: staff/admin run programmes, budgets and awards; finance (or admin) approves\n"
          "payments; a grantee (--role grantee --actor org:USCC) reads its own awards and files\n"
          "their reports. `verify` exits 1 when the ledger does not verify.\n",
          f);
}

int ctl_funding(ctl_opts *o, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        s_overview(argc < 2 ? stderr : stdout);
        return argc < 2 ? CTL_USAGE : CTL_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const s_command *c = &S_COMMANDS[i];
        if (strcmp(argv[1], c->group) != 0)
            continue;
        int shift = 1; /* words before the arguments: argv[shift] is the last */
        if (c->verb[0]) {
            if (argc < 3 || strcmp(argv[2], c->verb) != 0)
                continue;
            shift = 2;
        }
        s_args a;
        int rc = s_parse(c->usage, c->opts, c->min_pos, c->max_pos, argc - shift, argv + shift, &a);
        if (rc == -1)
            return CTL_OK;
        if (rc != CTL_OK)
            return rc;
        return c->fn ? c->fn(o, &a) : s_dispatch_action(o, &a, c->type);
    }
    fprintf(stderr, "ccipctl: unknown command \"funding %s%s%s\"\n", argv[1], argc > 2 ? " " : "",
            argc > 2 ? argv[2] : "");
    s_overview(stderr);
    return CTL_USAGE;
}
