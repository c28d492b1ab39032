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
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/funding.pb-c.h"
#include "ccip_id.h"
#include "ctl.h"

/* Whether the command line asks for CSV (--csv of lists and summaries). */
static int s_want_csv(const ctl_args *a)
{
    return ctl_declares(a, "csv") && ctl_given(a, "csv");
}

/* ---- printing for people ------------------------------------------------------------ */

static void s_print_programme(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Funding__Programme *p = ((const Ccip__Funding__ProgrammeReply *)m)->programme;
    if (!p)
        return;
    printf("programme  %s\nname       %s\n", p->code, p->name);
    if (p->description[0])
        printf("about      %s\n", p->description);
    printf("tranches  ");
    for (size_t i = 0; i < p->n_tranche_plan; i++)
        printf(" %d%% on %s%s", p->tranche_plan[i]->percent,
               ctl_enum_name(&ccip__funding__condition__descriptor, p->tranche_plan[i]->condition),
               i + 1 < p->n_tranche_plan ? "," : "\n");
}

static void s_print_programmes(const ProtobufCMessage *m, ctl_args *args)
{
    int csv = s_want_csv(args);
    const Ccip__Funding__ListProgrammesReply *r = (const Ccip__Funding__ListProgrammesReply *)m;
    if (csv)
        puts("code,name,tranche_plan");
    for (size_t i = 0; i < r->n_programmes; i++) {
        const Ccip__Funding__Programme *p = r->programmes[i];
        char plan[512] = "";
        size_t used = 0;
        for (size_t k = 0; k < p->n_tranche_plan && used < sizeof plan; k++)
            used += (size_t)snprintf(plan + used, sizeof plan - used, "%s%d:%s", k ? " " : "",
                                     p->tranche_plan[k]->percent,
                                     ctl_enum_name(&ccip__funding__condition__descriptor,
                                                   p->tranche_plan[k]->condition));
        if (csv) {
            ctl_csv_field(p->code);
            putchar(',');
            ctl_csv_field(p->name);
            putchar(',');
            ctl_csv_field(plan);
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
    ctl_csv_field(b->programme_code);
    printf(",%d,%s,%s,%s,%s,%s,%s,%s,%s,%d,%d\n", b->year, ctl_yuan_text(b->budget_fen, m[0], 32),
           ctl_yuan_text(b->committed_fen, m[1], 32), ctl_yuan_text(b->disbursed_fen, m[2], 32),
           ctl_yuan_text(b->clawed_back_fen, m[3], 32), ctl_yuan_text(b->recovered_fen, m[4], 32),
           ctl_yuan_text(b->remaining_fen, m[5], 32), ctl_yuan_text(b->unallotted_fen, m[6], 32),
           b->closed ? "true" : "false", b->awards_proposed, b->awards_committed);
}

static void s_budget_table(const Ccip__Funding__Budget *b)
{
    char m[CCIP_FEN_STRLEN + 1], when[40];
    printf("programme   %s, year %d%s\n", b->programme_code, b->year, b->closed ? " (closed)" : "");
    printf("budget      %20s yuan\n", ctl_yuan_text(b->budget_fen, m, sizeof m));
    printf("committed   %20s yuan\n", ctl_yuan_text(b->committed_fen, m, sizeof m));
    printf("disbursed   %20s yuan\n", ctl_yuan_text(b->disbursed_fen, m, sizeof m));
    printf("clawed back %20s yuan\n", ctl_yuan_text(b->clawed_back_fen, m, sizeof m));
    printf("recovered   %20s yuan\n", ctl_yuan_text(b->recovered_fen, m, sizeof m));
    printf("remaining   %20s yuan (%s of it in no category)\n",
           ctl_yuan_text(b->remaining_fen, m, sizeof m),
           ctl_yuan_text(b->unallotted_fen, when, sizeof when));
    printf("awards      %d committed, %d proposed\n", b->awards_committed, b->awards_proposed);
    if (b->closed)
        printf("closed      %s by %s: %s\n", ctl_time_text(b->closed_at_us, 1, when, sizeof when),
               b->closed_by, b->close_reason);
    for (size_t i = 0; i < b->n_categories; i++) {
        const Ccip__Funding__CategoryBudget *c = b->categories[i];
        char x[CCIP_FEN_STRLEN + 1], y[CCIP_FEN_STRLEN + 1];
        printf("category    %-20s budget %s, committed %s, remaining %s\n", c->category,
               ctl_yuan_text(c->budget_fen, m, sizeof m),
               ctl_yuan_text(c->committed_fen, x, sizeof x),
               ctl_yuan_text(c->remaining_fen, y, sizeof y));
    }
    for (size_t i = 0; i < b->n_changes; i++) {
        const Ccip__Funding__BudgetChange *c = b->changes[i];
        char x[CCIP_FEN_STRLEN + 1];
        printf("change      %s %s%s: %s -> %s by %s (%s): %s\n",
               ctl_time_text(c->at_us, 1, when, sizeof when),
               c->category[0] ? "category " : "total", c->category,
               ctl_yuan_text(c->from_fen, m, sizeof m), ctl_yuan_text(c->to_fen, x, sizeof x),
               c->actor_id, c->actor_role, c->reason);
    }
}

static void s_print_budget(const ProtobufCMessage *m, ctl_args *args)
{
    int csv = s_want_csv(args);
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

static void s_print_budgets(const ProtobufCMessage *m, ctl_args *args)
{
    int csv = s_want_csv(args);
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
    const char *status = ctl_enum_name(&ccip__funding__award_status__descriptor, w->status);
    if (csv) {
        printf("%s,%s,", w->id, w->application_id);
        ctl_csv_field(w->programme_code);
        printf(",%d,", w->year);
        ctl_csv_field(w->category);
        printf(",%s,", w->grantee_uscc);
        ctl_csv_field(w->title);
        printf(",%s,%s,%s,%s,%s,%s,%d,%zu\n", status, ctl_yuan_text(w->requested_fen, m[0], 32),
               ctl_yuan_text(w->amount_fen, m[1], 32), ctl_yuan_text(w->disbursed_fen, m[2], 32),
               ctl_yuan_text(w->clawed_back_fen, m[3], 32),
               ctl_yuan_text(w->recovered_fen, m[4], 32), paid, w->n_tranches);
    } else {
        printf("%s  %-16s %-18s %16s  paid %16s  tranches %d/%zu  %s\n", w->id, status,
               w->grantee_uscc, ctl_yuan_text(w->amount_fen, m[0], 32),
               ctl_yuan_text(w->disbursed_fen, m[1], 32), paid, w->n_tranches, w->title);
    }
}

static void s_print_awards(const ProtobufCMessage *m, ctl_args *args)
{
    int csv = s_want_csv(args);
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
               ctl_yuan_text(t->amount_fen, m, sizeof m),
               ctl_enum_name(&ccip__funding__condition__descriptor, t->condition),
               t->condition_met ? "true" : "false",
               ctl_enum_name(&ccip__funding__tranche_status__descriptor, t->status), t->payment_id,
               t->paid_at_us ? ctl_time_text(t->paid_at_us, 1, when, sizeof when) : "");
    }
}

static void s_print_award(const ProtobufCMessage *m, ctl_args *args)
{
    int csv = s_want_csv(args);
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
           ctl_enum_name(&ccip__funding__award_status__descriptor, w->status),
           w->status_reason[0] ? ": " : "", w->status_reason);
    printf("amount       %s yuan (requested %s", ctl_yuan_text(w->amount_fen, a, sizeof a),
           ctl_yuan_text(w->requested_fen, b, sizeof b));
    printf(", recommended %s)\n", ctl_yuan_text(w->recommended_fen, a, sizeof a));
    printf("disbursed    %s yuan; clawed back %s", ctl_yuan_text(w->disbursed_fen, a, sizeof a),
           ctl_yuan_text(w->clawed_back_fen, b, sizeof b));
    printf(", recovered %s\n", ctl_yuan_text(w->recovered_fen, a, sizeof a));
    if (w->signed_at_us)
        printf("signed       %s by %s\n", ctl_time_text(w->signed_at_us, 1, when, sizeof when),
               w->signed_by);
    if (w->ip_hold[0])
        printf("held         %s\n", w->ip_hold);
    if (w->note[0])
        printf("note         %s\n", w->note);
    for (size_t i = 0; i < w->n_tranches; i++) {
        const Ccip__Funding__Tranche *t = w->tranches[i];
        printf("tranche %d    %3d%% %16s yuan  %-18s on %s (%s)\n", t->number, t->percent,
               ctl_yuan_text(t->amount_fen, a, sizeof a),
               ctl_enum_name(&ccip__funding__tranche_status__descriptor, t->status),
               ctl_enum_name(&ccip__funding__condition__descriptor, t->condition),
               t->condition_met ? "holds" : "not yet");
    }
    for (size_t i = 0; i < w->n_payments; i++) {
        const Ccip__Funding__Payment *p = w->payments[i];
        printf("payment      %s tranche %d %s yuan %s, approved by %s%s%s\n", p->id,
               p->tranche_number, ctl_yuan_text(p->amount_fen, a, sizeof a),
               ctl_enum_name(&ccip__funding__payment_status__descriptor, p->status),
               p->first_approver[0] ? p->first_approver : "nobody yet",
               p->second_approver[0] ? " and " : "", p->second_approver);
    }
    for (size_t i = 0; i < w->n_reports; i++) {
        const Ccip__Funding__UseReport *r = w->reports[i];
        printf("report       %s %s %s spent %s yuan %s\n", r->id,
               ctl_enum_name(&ccip__funding__report_kind__descriptor, r->kind), r->period,
               ctl_yuan_text(r->spent_fen, a, sizeof a),
               ctl_enum_name(&ccip__funding__report_status__descriptor, r->status));
    }
    for (size_t i = 0; i < w->n_inspections; i++) {
        const Ccip__Funding__Inspection *s = w->inspections[i];
        printf("inspection   %s %s on %s by %s: %s\n", s->id,
               ctl_enum_name(&ccip__funding__inspection_kind__descriptor, s->kind),
               ctl_time_text(s->scheduled_for_us, 1, when, sizeof when), s->inspector,
               s->finding ? ctl_enum_name(&ccip__funding__finding__descriptor, s->finding)
                          : "not recorded yet");
    }
    for (size_t i = 0; i < w->n_clawbacks; i++) {
        const Ccip__Funding__Clawback *c = w->clawbacks[i];
        printf("clawback     %s %s yuan, recovered %s, %s\n", c->id,
               ctl_yuan_text(c->amount_fen, a, sizeof a),
               ctl_yuan_text(c->recovered_fen, b, sizeof b),
               ctl_enum_name(&ccip__funding__clawback_status__descriptor, c->status));
    }
}

static void s_print_payment(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Funding__PaymentReply *r = (const Ccip__Funding__PaymentReply *)m;
    if (!r->payment)
        return;
    const Ccip__Funding__Payment *p = r->payment;
    char a[CCIP_FEN_STRLEN + 1];
    printf("payment   %s\ntranche   %d of award %s, %s yuan\nstatus    %s\n", p->id,
           p->tranche_number, p->award_id, ctl_yuan_text(p->amount_fen, a, sizeof a),
           ctl_enum_name(&ccip__funding__payment_status__descriptor, p->status));
    printf("approvals %s%s%s%s\n", p->first_approver[0] ? p->first_approver : "none yet",
           p->second_approver[0] ? ", " : "", p->second_approver,
           p->needs_second_approval ? " (two different approvers needed)" : "");
    if (p->payment_ref[0])
        printf("reference %s\n", p->payment_ref);
}

static void s_print_report(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Funding__UseReport *r = ((const Ccip__Funding__UseReportReply *)m)->report;
    if (!r)
        return;
    char a[CCIP_FEN_STRLEN + 1];
    printf("report    %s (award %s)\nkind      %s, period %s\nstatus    %s\nspent     %s yuan\n",
           r->id, r->award_id, ctl_enum_name(&ccip__funding__report_kind__descriptor, r->kind),
           r->period, ctl_enum_name(&ccip__funding__report_status__descriptor, r->status),
           ctl_yuan_text(r->spent_fen, a, sizeof a));
    for (size_t i = 0; i < r->n_lines; i++)
        printf("line      %-30s %16s yuan\n", r->lines[i]->item,
               ctl_yuan_text(r->lines[i]->spent_fen, a, sizeof a));
    if (r->review_note[0])
        printf("review    %s\n", r->review_note);
}

static void s_print_inspection(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Funding__InspectionReply *r = (const Ccip__Funding__InspectionReply *)m;
    char when[40], a[CCIP_FEN_STRLEN + 1];
    if (r->inspection)
        printf("inspection %s (award %s)\nkind       %s on %s by %s\nfinding    %s\n",
               r->inspection->id, r->inspection->award_id,
               ctl_enum_name(&ccip__funding__inspection_kind__descriptor, r->inspection->kind),
               ctl_time_text(r->inspection->scheduled_for_us, 1, when, sizeof when),
               r->inspection->inspector,
               r->inspection->finding
                   ? ctl_enum_name(&ccip__funding__finding__descriptor, r->inspection->finding)
                   : "not recorded yet");
    if (r->clawback)
        printf("clawback   %s of %s yuan ordered\n", r->clawback->id,
               ctl_yuan_text(r->clawback->amount_fen, a, sizeof a));
}

static void s_print_clawback(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Funding__Clawback *c = ((const Ccip__Funding__ClawbackReply *)m)->clawback;
    if (!c)
        return;
    char a[CCIP_FEN_STRLEN + 1], b[CCIP_FEN_STRLEN + 1];
    printf("clawback  %s (award %s)\namount    %s yuan, recovered %s\nstatus    %s\n", c->id,
           c->award_id, ctl_yuan_text(c->amount_fen, a, sizeof a),
           ctl_yuan_text(c->recovered_fen, b, sizeof b),
           ctl_enum_name(&ccip__funding__clawback_status__descriptor, c->status));
}

static void s_print_summary(const ProtobufCMessage *m, ctl_args *args)
{
    int csv = s_want_csv(args);
    const Ccip__Funding__YearSummaryReply *r = (const Ccip__Funding__YearSummaryReply *)m;
    if (csv) {
        /* One table: the year's figures, then its awards, each a row of the
         * same columns with `kind` telling them apart. */
        puts("kind,programme,year,id,status,budget_or_amount,committed,disbursed,clawed_back,"
             "recovered,remaining");
        char v[6][CCIP_FEN_STRLEN + 1];
        if (r->budget) {
            const Ccip__Funding__Budget *b = r->budget;
            ctl_csv_field("year");
            putchar(',');
            ctl_csv_field(b->programme_code);
            printf(",%d,,%s,%s,%s,%s,%s,%s,%s\n", b->year, b->closed ? "closed" : "open",
                   ctl_yuan_text(b->budget_fen, v[0], 32),
                   ctl_yuan_text(b->committed_fen, v[1], 32),
                   ctl_yuan_text(b->disbursed_fen, v[2], 32),
                   ctl_yuan_text(b->clawed_back_fen, v[3], 32),
                   ctl_yuan_text(b->recovered_fen, v[4], 32),
                   ctl_yuan_text(b->remaining_fen, v[5], 32));
        }
        for (size_t i = 0; i < r->n_awards; i++) {
            const Ccip__Funding__Award *w = r->awards[i];
            int committed = w->status == CCIP__FUNDING__AWARD_STATUS__AWARD_COMMITTED ||
                            w->status == CCIP__FUNDING__AWARD_STATUS__AWARD_SUSPENDED ||
                            w->status == CCIP__FUNDING__AWARD_STATUS__AWARD_COMPLETED;
            printf("award,");
            ctl_csv_field(w->programme_code);
            printf(",%d,%s,%s,%s,%s,%s,%s,%s,%s\n", w->year, w->id,
                   ctl_enum_name(&ccip__funding__award_status__descriptor, w->status),
                   ctl_yuan_text(w->amount_fen, v[0], 32),
                   ctl_yuan_text(committed ? w->amount_fen : 0, v[1], 32),
                   ctl_yuan_text(w->disbursed_fen, v[2], 32),
                   ctl_yuan_text(w->clawed_back_fen, v[3], 32),
                   ctl_yuan_text(w->recovered_fen, v[4], 32),
                   ctl_yuan_text(committed ? w->amount_fen - w->disbursed_fen : 0, v[5], 32));
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

static void s_print_journal(const ProtobufCMessage *m, ctl_args *args)
{
    int csv = s_want_csv(args);
    const Ccip__Funding__ListJournalReply *r = (const Ccip__Funding__ListJournalReply *)m;
    if (csv)
        puts("entry,at,kind,programme,year,award,account,debit,credit,actor,memo");
    for (size_t i = 0; i < r->n_entries; i++) {
        const Ccip__Funding__JournalEntry *e = r->entries[i];
        char when[40], d[CCIP_FEN_STRLEN + 1], c[CCIP_FEN_STRLEN + 1];
        const char *kind = ctl_enum_name(&ccip__funding__entry_kind__descriptor, e->kind);
        if (!csv)
            printf("%-6" PRId64 " %s %-26s %s/%d %s  %s\n", e->id,
                   ctl_time_text(e->at_us, 1, when, sizeof when), kind, e->programme_code, e->year,
                   e->actor_id, e->memo);
        for (size_t k = 0; k < e->n_lines; k++) {
            const Ccip__Funding__JournalLine *l = e->lines[k];
            ctl_yuan_text(l->debit_fen, d, sizeof d);
            ctl_yuan_text(l->credit_fen, c, sizeof c);
            if (csv) {
                printf("%" PRId64 ",%s,%s,", e->id, ctl_time_text(e->at_us, 1, when, sizeof when),
                       kind);
                ctl_csv_field(e->programme_code);
                printf(",%d,%s,", e->year, e->award_id);
                ctl_csv_field(l->account);
                printf(",%s,%s,", l->debit_fen ? d : "", l->credit_fen ? c : "");
                ctl_csv_field(e->actor_id);
                putchar(',');
                ctl_csv_field(e->memo);
                putchar('\n');
            } else {
                printf("         %-60s %16s %16s\n", l->account, l->debit_fen ? d : "",
                       l->credit_fen ? c : "");
            }
        }
    }
}

static void s_print_verify(const ProtobufCMessage *m, ctl_args *args)
{
    int csv = s_want_csv(args);
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
            ctl_csv_field(r->figures_mismatched[i]->what);
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

/* A year of a programme's budget. */
#define YEAR(name, field, flags) CTL_INT(name, field, 2000, 2100, flags)

/* --tranche PERCENT:CONDITION[:LABEL] into a tranche plan. Returns 0 or -1
 * after printing why. */
static int s_plan(ctl_args *a, Ccip__Funding__TrancheRule ***plan, size_t *n)
{
    *n = (size_t)ctl_given(a, "tranche");
    *plan = ctl_messages(a, &ccip__funding__tranche_rule__descriptor, *n);
    for (size_t i = 0; i < *n; i++) {
        const char *text = ctl_str_at(a, "tranche", (int)i);
        char *rest, *label;
        char *percent = ctl_cut(a, text, ':', 0, &rest);
        if (!rest || !percent[0] || strlen(percent) >= 16)
            return ctl_wrong("--tranche",
                             "PERCENT:CONDITION[:LABEL], such as "
                             "50:AGREEMENT_SIGNED:on-signing",
                             text);
        char *condition = ctl_cut(a, rest, ':', 0, &label);
        int64_t pct;
        int c;
        if (ctl_parse_int("--tranche percent", percent, 1, 100, &pct) < 0 ||
            ctl_parse_enum("--tranche condition", &ccip__funding__condition__descriptor, NULL,
                           condition, &c) < 0)
            return -1;
        (*plan)[i]->percent = (int32_t)pct;
        (*plan)[i]->condition = (Ccip__Funding__Condition)c;
        (*plan)[i]->label = label ? label : "";
    }
    return 0;
}

/* create takes --reason too (and sends nothing of it), as it always did. */
static const ctl_arg A_PROGRAMME_CREATE[] = {CTL_STR("CODE", "code", CTL_ARG),
                                             CTL_STR("name", "name", 0),
                                             CTL_STR("description", "description", 0),
                                             CTL_STR("tranche", NULL, CTL_REPEATED),
                                             CTL_STR("reason", NULL, 0),
                                             {0}};

static int s_programme_create(ctl_opts *o, ctl_args *a)
{
    Ccip__Funding__CreateProgrammeRequest rq = CCIP__FUNDING__CREATE_PROGRAMME_REQUEST__INIT;
    if (s_plan(a, &rq.tranche_plan, &rq.n_tranche_plan) < 0)
        return CTL_USAGE;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_PROGRAMME_CONFIGURE[] = {
    CTL_STR("CODE", "code", CTL_ARG),         CTL_STR("name", "name", 0),
    CTL_STR("description", "description", 0), CTL_STR("tranche", NULL, CTL_REPEATED),
    CTL_STR("reason", "reason", 0),           {0}};

static int s_programme_configure(ctl_opts *o, ctl_args *a)
{
    Ccip__Funding__ConfigureProgrammeRequest rq = CCIP__FUNDING__CONFIGURE_PROGRAMME_REQUEST__INIT;
    if (s_plan(a, &rq.tranche_plan, &rq.n_tranche_plan) < 0)
        return CTL_USAGE;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_PROGRAMME_SHOW[] = {CTL_STR("CODE", "code", CTL_ARG), {0}};
static const ctl_arg A_CSV[] = {CTL_FLAG("csv", NULL), {0}};
static const ctl_arg A_BUDGET_SET[] = {CTL_STR("CODE", "programme_code", CTL_ARG),
                                       YEAR("YEAR", "year", CTL_ARG),
                                       CTL_YUAN("AMOUNT", "budget_fen", CTL_ARG),
                                       CTL_STR("category", "category", 0),
                                       CTL_STR("reason", "reason", 0),
                                       {0}};
static const ctl_arg A_YEAR[] = {CTL_STR("CODE", "programme_code", CTL_ARG),
                                 YEAR("YEAR", "year", CTL_ARG),
                                 CTL_FLAG("csv", NULL),
                                 {0}};
static const ctl_arg A_BUDGET_LIST[] = {
    CTL_FLAG("csv", NULL), CTL_STR("programme", "programme_code", 0), YEAR("year", "year", 0), {0}};
static const ctl_arg A_YEAR_CLOSE[] = {CTL_STR("CODE", "programme_code", CTL_ARG),
                                       YEAR("YEAR", "year", CTL_ARG),
                                       CTL_STR("reason", "reason", 0),
                                       {0}};
static const ctl_arg A_AWARD_LIST[] = {
    CTL_FLAG("csv", NULL),
    CTL_STR("programme", "programme_code", 0),
    YEAR("year", "year", 0),
    CTL_ENUM("status", "status", &ccip__funding__award_status__descriptor, "AWARD_", 0),
    CTL_STR("grantee", "grantee_uscc", 0),
    CTL_INT("limit", "limit", 1, 5000, 0),
    {0}};
static const ctl_arg A_AWARD_SHOW[] = {CTL_STR("AWARD", "award_id", CTL_ARG_OPTIONAL),
                                       CTL_FLAG("csv", NULL),
                                       CTL_STR("application", "application_id", 0),
                                       {0}};

static int s_award_show(ctl_opts *o, ctl_args *a)
{
    if (!ctl_given(a, "AWARD") && !ctl_given(a, "application")) {
        fprintf(stderr, "ccipctl: give an award id or --application ID\n");
        return CTL_USAGE;
    }
    return ctl_send_table(o, a);
}

static const ctl_arg A_CONFIRM[] = {CTL_STR("AWARD", "award_id", CTL_ARG),
                                    CTL_YUAN("amount", "amount_fen", 0),
                                    CTL_STR("category", "category", 0),
                                    CTL_STR("note", "note", 0),
                                    {0}};
static const ctl_arg A_AWARD_ACTION[] = {
    CTL_STR("AWARD", "award_id", CTL_ARG), CTL_STR("reason", "reason", 0), {0}};
static const ctl_arg A_LINK[] = {
    CTL_STR("AWARD", "award_id", CTL_ARG), CTL_STR("WORK_ID", "work_id", CTL_ARG), {0}};
static const ctl_arg A_PAYMENT_REQUEST[] = {CTL_STR("AWARD", "award_id", CTL_ARG),
                                            CTL_INT("TRANCHE", "tranche_number", 1, 10, CTL_ARG),
                                            {0}};
static const ctl_arg A_APPROVE[] = {
    CTL_STR("PAYMENT", "payment_id", CTL_ARG), CTL_STR("ref", "payment_ref", 0), {0}};
static const ctl_arg A_CANCEL[] = {
    CTL_STR("PAYMENT", "payment_id", CTL_ARG), CTL_STR("reason", "reason", 0), {0}};
static const ctl_arg A_REPORT_SAVE[] = {
    CTL_STR("AWARD", "award_id", CTL_ARG),
    CTL_STR("report", "report_id", 0),
    CTL_ENUM("kind", "kind", &ccip__funding__report_kind__descriptor, NULL, 0),
    CTL_STR("period", "period", 0),
    CTL_STR("progress", "progress", 0),
    CTL_STR("line", NULL, CTL_REPEATED),
    CTL_STR("document", NULL, CTL_REPEATED),
    {0}};

/* --kind defaults to INTERIM; --line ITEM=YUAN and --document NAME=SHA256
 * are split here. */
static int s_report_save(ctl_opts *o, ctl_args *a)
{
    Ccip__Funding__SaveReportRequest rq = CCIP__FUNDING__SAVE_REPORT_REQUEST__INIT;
    rq.kind = CCIP__FUNDING__REPORT_KIND__INTERIM;
    rq.n_lines = (size_t)ctl_given(a, "line");
    rq.lines = ctl_messages(a, &ccip__funding__spend_line__descriptor, rq.n_lines);
    for (size_t i = 0; i < rq.n_lines; i++) {
        const char *text = ctl_str_at(a, "line", (int)i);
        char *yuan;
        rq.lines[i]->item = ctl_cut(a, text, '=', 1, &yuan);
        if (!yuan || !rq.lines[i]->item[0]) {
            ctl_wrong("--line", "ITEM=YUAN, such as equipment=8000.00", text);
            return CTL_USAGE;
        }
        if (ctl_parse_yuan("--line amount", yuan, &rq.lines[i]->spent_fen) < 0)
            return CTL_USAGE;
    }
    rq.n_documents = (size_t)ctl_given(a, "document");
    rq.documents = ctl_messages(a, &ccip__funding__report_document__descriptor, rq.n_documents);
    for (size_t i = 0; i < rq.n_documents; i++) {
        const char *text = ctl_str_at(a, "document", (int)i);
        rq.documents[i]->name = ctl_cut(a, text, '=', 1, &rq.documents[i]->sha256);
        if (!rq.documents[i]->sha256 || !rq.documents[i]->name[0]) {
            ctl_wrong("--document", "NAME=SHA256", text);
            return CTL_USAGE;
        }
    }
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_REPORT_ACTION[] = {
    CTL_STR("REPORT", "report_id", CTL_ARG), CTL_STR("note", "note", 0), {0}};
static const ctl_arg A_SCHEDULE[] = {
    CTL_STR("AWARD", "award_id", CTL_ARG),
    CTL_ENUM("kind", "kind", &ccip__funding__inspection_kind__descriptor, NULL, CTL_REQUIRED),
    CTL_TIME("date", "scheduled_for_us", CTL_REQUIRED),
    CTL_STR("inspector", "inspector", 0),
    {0}};
static const ctl_arg A_RECORD[] = {
    CTL_STR("INSPECTION", "inspection_id", CTL_ARG),
    CTL_ENUM("finding", "finding", &ccip__funding__finding__descriptor, NULL, CTL_REQUIRED),
    CTL_STR("notes", "notes", 0),
    CTL_TIME("correct-by", "correct_by_us", 0),
    CTL_YUAN("misused", "misused_fen", 0),
    {0}};
static const ctl_arg A_RECOVER[] = {CTL_STR("CLAWBACK", "clawback_id", CTL_ARG),
                                    CTL_YUAN("AMOUNT", "amount_fen", CTL_ARG),
                                    CTL_STR("reference", "reference", 0),
                                    {0}};
static const ctl_arg A_JOURNAL[] = {CTL_FLAG("csv", NULL),
                                    CTL_STR("programme", "programme_code", 0),
                                    YEAR("year", "year", 0),
                                    CTL_STR("award", "award_id", 0),
                                    CTL_INT("after", "after_id", 0, INT64_MAX, 0),
                                    CTL_INT("limit", "limit", 1, 2000, 0),
                                    {0}};

/* Prints the verification; exits 1 when the ledger does not verify. */
static int s_verify(ctl_opts *o, ctl_args *a)
{
    Ccip__Funding__VerifyLedgerRequest rq = CCIP__FUNDING__VERIFY_LEDGER_REQUEST__INIT;
    ProtobufCMessage *reply = NULL;
    int code = ctl_send_reply(o, a, &rq.base, &reply);
    if (code != CTL_OK)
        return code;
    int ok = ((const Ccip__Funding__VerifyLedgerReply *)reply)->ok;
    ctl_print(o, a, reply, s_print_verify);
    protobuf_c_message_free_unpacked(reply, NULL);
    return ok ? CTL_OK : CTL_REFUSED;
}

/* ---- the table ---------------------------------------------------------------------- */

#define Q(name) &ccip__funding__##name##_request__descriptor
#define R(name) &ccip__funding__##name##_reply__descriptor

static const ctl_command S_COMMANDS[] = {
    {"programme create",
     "CODE --name NAME [--description TEXT] [--tranche PCT:CONDITION[:LABEL]]...",
     A_PROGRAMME_CREATE, "funding.programme.create.v1", Q(create_programme), R(programme),
     s_print_programme, s_programme_create},
    {"programme configure", "CODE --reason WHY [--name NAME] [--description TEXT] [--tranche ...]",
     A_PROGRAMME_CONFIGURE, "funding.programme.configure.v1", Q(configure_programme), R(programme),
     s_print_programme, s_programme_configure},
    {"programme show", "CODE", A_PROGRAMME_SHOW, "funding.programme.get.v1", Q(get_programme),
     R(programme), s_print_programme},
    {"programme list", "[--csv]", A_CSV, "funding.programme.list.v1", Q(list_programmes),
     R(list_programmes), s_print_programmes},
    {"budget set", "CODE YEAR YUAN --reason WHY [--category CATEGORY]", A_BUDGET_SET,
     "funding.budget.set.v1", Q(set_budget), R(budget), s_print_budget},
    {"budget show", "CODE YEAR [--csv]", A_YEAR, "funding.budget.get.v1", Q(get_budget), R(budget),
     s_print_budget},
    {"budget list", "[--programme CODE] [--year YEAR] [--csv]", A_BUDGET_LIST,
     "funding.budget.list.v1", Q(list_budgets), R(list_budgets), s_print_budgets},
    {"year close", "CODE YEAR --reason WHY", A_YEAR_CLOSE, "funding.year.close.v1", Q(close_year),
     R(budget), s_print_budget},
    {"award list",
     "[--programme CODE] [--year YEAR] [--status STATUS] [--grantee USCC] [--limit N] [--csv]",
     A_AWARD_LIST, "funding.award.list.v1", Q(list_awards), R(list_awards), s_print_awards},
    {"award show", "(AWARD | --application ID) [--csv: its tranches]", A_AWARD_SHOW,
     "funding.award.get.v1", Q(get_award), R(award), s_print_award, s_award_show},
    {"award confirm", "AWARD [--amount YUAN] [--category CATEGORY] [--note TEXT]", A_CONFIRM,
     "funding.award.confirm.v1", Q(confirm_award), R(award), s_print_award},
    {"award reject", "AWARD --reason WHY", A_AWARD_ACTION, "funding.award.reject.v1",
     Q(award_action), R(award), s_print_award},
    {"award sign", "AWARD [--reason NOTE]", A_AWARD_ACTION, "funding.award.sign.v1",
     Q(award_action), R(award), s_print_award},
    {"award suspend", "AWARD --reason WHY", A_AWARD_ACTION, "funding.award.suspend.v1",
     Q(award_action), R(award), s_print_award},
    {"award resume", "AWARD --reason WHY", A_AWARD_ACTION, "funding.award.resume.v1",
     Q(award_action), R(award), s_print_award},
    {"award terminate", "AWARD --reason WHY", A_AWARD_ACTION, "funding.award.terminate.v1",
     Q(award_action), R(award), s_print_award},
    {"award link-work", "AWARD WORK_ID", A_LINK, "funding.award.link_work.v1", Q(link_work),
     R(award), s_print_award},
    {"payment request", "AWARD TRANCHE", A_PAYMENT_REQUEST, "funding.payment.request.v1",
     Q(request_payment), R(payment), s_print_payment},
    {"payment approve", "PAYMENT [--ref TREASURY_REFERENCE]", A_APPROVE,
     "funding.payment.approve.v1", Q(approve_payment), R(payment), s_print_payment},
    {"payment cancel", "PAYMENT --reason WHY", A_CANCEL, "funding.payment.cancel.v1",
     Q(cancel_payment), R(payment), s_print_payment},
    {"report save",
     "AWARD [--report ID] --kind INTERIM|FINAL --period TEXT --progress TEXT --line ITEM=YUAN... "
     "[--document NAME=SHA256]...",
     A_REPORT_SAVE, "funding.report.save.v1", Q(save_report), R(use_report), s_print_report,
     s_report_save},
    {"report submit", "REPORT", A_REPORT_ACTION, "funding.report.submit.v1", Q(report_action),
     R(use_report), s_print_report},
    {"report accept", "REPORT [--note TEXT]", A_REPORT_ACTION, "funding.report.accept.v1",
     Q(report_action), R(use_report), s_print_report},
    {"report return", "REPORT --note WHAT_TO_CORRECT", A_REPORT_ACTION, "funding.report.return.v1",
     Q(report_action), R(use_report), s_print_report},
    {"inspection schedule", "AWARD --kind MIDTERM|COMPLETION|AD_HOC --date DATE --inspector NAME",
     A_SCHEDULE, "funding.inspection.schedule.v1", Q(schedule_inspection), R(inspection),
     s_print_inspection},
    {"inspection record",
     "INSPECTION --finding COMPLIANT|ISSUES|MISUSE --notes TEXT [--correct-by DATE] [--misused "
     "YUAN]",
     A_RECORD, "funding.inspection.record.v1", Q(record_inspection), R(inspection),
     s_print_inspection},
    {"clawback recover", "CLAWBACK YUAN --reference RECEIPT", A_RECOVER,
     "funding.clawback.recover.v1", Q(recover), R(clawback), s_print_clawback},
    {"summary", "CODE YEAR [--csv]", A_YEAR, "funding.summary.year.v1", Q(year_summary),
     R(year_summary), s_print_summary},
    {"journal",
     "[--programme CODE] [--year YEAR] [--award AWARD] [--after ENTRY] [--limit N] [--csv]",
     A_JOURNAL, "funding.journal.list.v1", Q(list_journal), R(list_journal), s_print_journal},
    {"verify", "[--csv]", A_CSV, "funding.ledger.verify.v1", Q(verify_ledger), R(verify_ledger),
     s_print_verify, s_verify},
};

static const ctl_service S_FUNDING = {
    .name = "funding",
    .header = "usage: ccipctl [--json] --role ROLE --actor ID funding COMMAND ...\n\n"
              "the special funds: programmes, budgets, awards, tranches and payments, "
              "use-of-funds\n"
              "reports, inspections, clawbacks, staff reports and the ledger. Amounts are in "
              "yuan\n"
              "(\"1500000.50\"); --json prints the reply, --csv a table of lists and "
              "summaries.\n\n",
    .list_prefix = "  ccipctl funding ",
    .footer = "\nroles: staff/admin run programmes, budgets and awards; finance (or admin) "
              "approves\n"
              "payments; a grantee (--role grantee --actor org:USCC) reads its own awards and "
              "files\n"
              "their reports. `verify` exits 1 when the ledger does not verify.\n",
    .commands = S_COMMANDS,
    .ncommands = sizeof S_COMMANDS / sizeof S_COMMANDS[0],
};

int ctl_funding(ctl_opts *o, int argc, char **argv)
{
    return ctl_service_run(o, &S_FUNDING, argc, argv);
}
