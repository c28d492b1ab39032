#include "casefile_steps.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/followup.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip/stats.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_outbox.h"

/* Fills what one payload says into the step (object, detail, state, what
 * the applicant sees, facts). Returns 0, or -1 with err when the payload
 * lacks what the step needs. */
typedef int (*s_read_fn)(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                         char *err, size_t errlen);

typedef struct {
    const char *type;
    const ProtobufCMessageDescriptor *message;
    s_read_fn read;
    const char *action; /* the step's action; the reader may refine it */
} s_def;

/* ---- helpers ------------------------------------------------------------------- */

static void s_detail(casefile_step *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_detail(casefile_step *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->detail, sizeof s->detail, fmt, ap);
    va_end(ap);
}

static void s_object(casefile_step *s, const char *kind, const char *id)
{
    s->object_kind = kind;
    snprintf(s->object_id, sizeof s->object_id, "%s", id ? id : "");
}

/* The object also as the dossier keeps it. */
static void s_dossier(casefile_step *s, const char *kind, const char *id)
{
    s->dossier_kind = kind;
    snprintf(s->dossier_id, sizeof s->dossier_id, "%s", id ? id : "");
}

static void s_applicant(casefile_step *s, const char *status, const char *message)
{
    s->applicant_status = status;
    s->applicant_message = message;
}

/* Room for ccip_fen_format's text or s_yuan's fallback "<int64> fen" (25
 * bytes with the NUL): a release build's -Wformat-truncation counts it. */
#define S_YUAN_MAX (CCIP_FEN_STRLEN + 1 > 25 ? CCIP_FEN_STRLEN + 1 : 25)

static const char *s_yuan(int64_t fen, char *buf, size_t len)
{
    if (ccip_fen_format(fen, buf, len) < 0)
        snprintf(buf, len, "%" PRId64 " fen", fen);
    return buf;
}

static const char *s_enum(const ProtobufCEnumDescriptor *d, int v)
{
    const char *name = ccip_enum_name(d, v);
    return name ? name : "UNSPECIFIED";
}

static int s_missing(char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "the payload has no %s", what);
    return -1;
}

/* ---- intake ---------------------------------------------------------------------- */

static int s_submitted(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                       char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Intake__ApplicationSubmitted *a = (const void *)m;
    if (!ccip_uuid_valid(a->application_id))
        return s_missing(err, errlen, "application id");
    snprintf(s->application_id, sizeof s->application_id, "%s", a->application_id);
    s_object(s, "application", a->application_id);
    if (a->submissions > 1)
        snprintf(s->action, sizeof s->action, "application submitted again (submission %d)",
                 (int)a->submissions);
    char yuan[S_YUAN_MAX];
    if (a->requested_fen > 0)
        s_detail(s, "%s by %s (%s); %s yuan requested", a->title, a->applicant_name,
                 a->applicant_uscc, s_yuan(a->requested_fen, yuan, sizeof yuan));
    else
        s_detail(s, "%s by %s (%s)", a->title, a->applicant_name, a->applicant_uscc);
    s->state = "SUBMITTED";
    s_applicant(s, "APPLICANT_RECEIVED", "received: being checked for completeness");
    s->application_title = a->title;
    s->has_facts = 1;
    s->facts = (casefile_facts){.kind = s_enum(&ccip__intake__call_kind__descriptor, a->kind),
                                .title = a->title,
                                .applicant_uscc = a->applicant_uscc,
                                .applicant_name = a->applicant_name,
                                .district_code = ""};
    return 0;
}

static int s_accepted(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                      char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Intake__ApplicationAccepted *a = (const void *)m;
    if (!ccip_uuid_valid(a->application_id))
        return s_missing(err, errlen, "application id");
    snprintf(s->application_id, sizeof s->application_id, "%s", a->application_id);
    s_object(s, "application", a->application_id);
    s_dossier(s, "application", a->application_id);
    s_detail(s, "complete; handed to evaluation%s%s", a->note[0] ? ": " : "", a->note);
    s->state = "IN_EVALUATION";
    s_applicant(s, "APPLICANT_IN_REVIEW", "accepted: being evaluated");
    s->application_title = a->title;
    s->has_facts = 1;
    s->facts = (casefile_facts){.kind = s_enum(&ccip__intake__call_kind__descriptor, a->kind),
                                .title = a->title,
                                .applicant_uscc = a->applicant ? a->applicant->uscc : "",
                                .applicant_name = a->applicant ? a->applicant->name : "",
                                .district_code = a->district_code};
    return 0;
}

static int s_transitioned(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                          char *err, size_t errlen)
{
    const Ccip__Intake__ApplicationTransitioned *t = (const void *)m;
    if (!ccip_uuid_valid(t->application_id))
        return s_missing(err, errlen, "application id");
    snprintf(s->application_id, sizeof s->application_id, "%s", t->application_id);
    s_object(s, "application", t->application_id);
    s_detail(s, "%s", t->reason);
    if (strcmp(ev->type, "intake.application.returned.v1") == 0) {
        s->state = "RETURNED";
        s_applicant(s, "APPLICANT_ACTION_REQUIRED", "returned: correct it and submit again");
    } else if (strcmp(ev->type, "intake.application.rejected.v1") == 0) {
        s->state = "REJECTED";
        s_applicant(s, "APPLICANT_NOT_ACCEPTED", "not accepted");
    } else {
        s->state = "WITHDRAWN";
        s_applicant(s, "APPLICANT_WITHDRAWN", "withdrawn");
    }
    return 0;
}

/* ---- evaluation ---------------------------------------------------------------- */

static int s_case_opened(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                         char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Evaluation__CaseOpened *o = (const void *)m;
    if (!o->case_ || !o->case_->id[0])
        return s_missing(err, errlen, "case");
    s_object(s, "case", o->case_->id);
    s_dossier(s, "case", o->case_->id);
    s_detail(s, "%s, district %s, round %d", o->case_->title, o->case_->district_code,
             (int)o->case_->round);
    return 0;
}

static int s_investigation_scheduled(const Ccip__Envelope *ev, const ProtobufCMessage *m,
                                     casefile_step *s, char *err, size_t errlen)
{
    (void)ev;
    (void)err;
    (void)errlen;
    const Ccip__Evaluation__InvestigationScheduled *i = (const void *)m;
    char due[CCIP_TIME_STRLEN + 1] = "";
    ccip_time_format_us(i->due_at_us, due, sizeof due);
    s_object(s, "case", i->case_id);
    s_detail(s, "agency %s, report due %s", i->agency_id, due);
    s_applicant(s, "APPLICANT_IN_REVIEW", "an on-site investigation is scheduled");
    return 0;
}

static int s_investigation_reported(const Ccip__Envelope *ev, const ProtobufCMessage *m,
                                    casefile_step *s, char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Evaluation__InvestigationReported *r = (const void *)m;
    if (!r->investigation || !r->investigation->id[0])
        return s_missing(err, errlen, "investigation");
    s_object(s, "investigation", r->investigation->id);
    s_dossier(s, "investigation", r->investigation->id);
    s_detail(s, "agency %s: %s (round %d)", r->investigation->agency_id,
             s_enum(&ccip__evaluation__verdict__descriptor, r->investigation->verdict),
             (int)r->investigation->round);
    return 0;
}

static int s_review_started(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                            char *err, size_t errlen)
{
    (void)ev;
    (void)err;
    (void)errlen;
    const Ccip__Evaluation__ReviewStarted *r = (const void *)m;
    char due[CCIP_TIME_STRLEN + 1] = "";
    ccip_time_format_us(r->due_at_us, due, sizeof due);
    s_object(s, "case", r->case_id);
    s_detail(s, "a panel of %d experts, reviews due %s", (int)r->panel_size, due);
    s_applicant(s, "APPLICANT_IN_REVIEW", "the expert review has started");
    return 0;
}

/* A score in centipoints (0..10000) as "78.33". */
static const char *s_score(int32_t centi, char *buf, size_t len)
{
    snprintf(buf, len, "%d.%02d", (int)(centi / 100), (int)(centi % 100));
    return buf;
}

static int s_review_submitted(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                              char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Evaluation__ReviewSubmitted *r = (const void *)m;
    if (!r->review || !r->review->id[0])
        return s_missing(err, errlen, "review");
    char score[16];
    s_object(s, "review", r->review->id);
    s_dossier(s, "review", r->review->id);
    s_detail(s, "expert %s: %s of 100 (round %d)", r->review->expert_id,
             s_score(r->review->score_centi, score, sizeof score), (int)r->review->round);
    return 0;
}

static int s_review_completed(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                              char *err, size_t errlen)
{
    const Ccip__Evaluation__ReviewCompleted *r = (const void *)m;
    if (!r->aggregate)
        return s_missing(err, errlen, "aggregate");
    char score[16];
    s_object(s, "case", r->case_id);
    /* each completion kept: one per round */
    s_dossier(s, "aggregate", ev->id);
    s_detail(s, "%s of 100 from %d reviews; %s",
             s_score(r->aggregate->score_centi, score, sizeof score), (int)r->aggregate->reviews,
             s_enum(&ccip__evaluation__recommendation__descriptor, r->aggregate->recommendation));
    s_applicant(s, "APPLICANT_IN_REVIEW", "the review is complete; a decision follows");
    return 0;
}

static int s_decision(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                      char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Evaluation__DecisionMade *d = (const void *)m;
    if (!d->decision)
        return s_missing(err, errlen, "decision");
    const char *key = d->decision->id[0] ? d->decision->id : ev->id;
    s_object(s, "decision", key);
    s_dossier(s, "decision", key);
    char yuan[S_YUAN_MAX];
    switch (d->decision->outcome) {
    case CCIP__EVALUATION__OUTCOME__DECISION_APPROVED:
        snprintf(s->action, sizeof s->action, "approved by the office");
        s->state = "APPROVED";
        s_applicant(s, "APPLICANT_APPROVED", "approved");
        break;
    case CCIP__EVALUATION__OUTCOME__DECISION_DECLINED:
        snprintf(s->action, sizeof s->action, "declined by the office");
        s->state = "DECLINED";
        s_applicant(s, "APPLICANT_NOT_APPROVED", "not approved");
        break;
    default:
        snprintf(s->action, sizeof s->action, "returned by the office (%s)",
                 s_enum(&ccip__evaluation__return_to__descriptor, d->decision->return_to));
        s->state = "IN_EVALUATION";
        break;
    }
    if (d->decision->recommended_fen > 0)
        s_detail(s, "%s; %s yuan recommended", d->decision->reasons,
                 s_yuan(d->decision->recommended_fen, yuan, sizeof yuan));
    else
        s_detail(s, "%s", d->decision->reasons);
    return 0;
}

static int s_designation(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                         char *err, size_t errlen)
{
    const Ccip__Evaluation__DesignationChanged *c = (const void *)m;
    const Ccip__Evaluation__Designation *d = c->designation;
    if (!d || !d->id[0])
        return s_missing(err, errlen, "designation");
    s_object(s, "designation", d->id);
    s_dossier(s, "designation", d->id);
    if (strcmp(ev->type, "evaluation.designation.revoked.v1") == 0) {
        s->state = "DESIGNATION_REVOKED";
        s_detail(s, "%s %s: %s", d->certificate_no, d->name, d->revoke_reason);
    } else {
        s->state = "DESIGNATED";
        s_detail(s, "%s %s, district %s", d->certificate_no, d->name, d->district_code);
    }
    return 0;
}

static int s_task_overdue(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                          char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Evaluation__TaskNotice *n = (const void *)m;
    if (!n->task)
        return s_missing(err, errlen, "task");
    char due[CCIP_TIME_STRLEN + 1] = "";
    ccip_time_format_us(n->task->due_at_us, due, sizeof due);
    s_object(s,
             n->task->kind == CCIP__EVALUATION__SUBJECT_KIND__AGENCY ? "investigation" : "review",
             n->task->task_id);
    s_detail(s, "%s %s was due %s",
             n->task->kind == CCIP__EVALUATION__SUBJECT_KIND__AGENCY ? "agency" : "expert",
             n->task->subject_id, due);
    return 0;
}

/* ---- funding -------------------------------------------------------------------- */

/* What each award event sets: state, and what the applicant sees (the
 * statuses of intake_view.h). */
static const struct {
    const char *type;
    const char *state;
    const char *applicant_status;
    const char *applicant_message;
} S_AWARD_STEPS[] = {
    {"funding.award.proposed.v1", "FUNDING_PROPOSED", NULL, NULL},
    {"funding.award.granted.v1", "FUNDED", "APPLICANT_FUNDED", "funds have been awarded"},
    {"funding.award.rejected.v1", "NOT_FUNDED", "APPLICANT_NOT_FUNDED", "funding was not granted"},
    {"funding.award.signed.v1", NULL, "APPLICANT_FUNDED", "the award agreement has been signed"},
    {"funding.award.suspended.v1", "FUNDING_SUSPENDED", "APPLICANT_FUNDED", "payments are on hold"},
    {"funding.award.resumed.v1", "FUNDED", "APPLICANT_FUNDED", "payments have resumed"},
    {"funding.award.terminated.v1", "FUNDING_TERMINATED", "APPLICANT_FUNDING_ENDED",
     "the award was terminated"},
    {"funding.award.completed.v1", "FUNDING_COMPLETED", "APPLICANT_FUNDED",
     "all funds have been paid"},
};

static int s_award(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s, char *err,
                   size_t errlen)
{
    const Ccip__Funding__AwardChanged *c = (const void *)m;
    const Ccip__Funding__Award *a = c->award;
    if (!a || !a->id[0])
        return s_missing(err, errlen, "award");
    s_object(s, "award", a->id);
    s_dossier(s, "award", a->id);
    for (size_t i = 0; i < sizeof S_AWARD_STEPS / sizeof S_AWARD_STEPS[0]; i++)
        if (strcmp(ev->type, S_AWARD_STEPS[i].type) == 0) {
            s->state = S_AWARD_STEPS[i].state;
            s_applicant(s, S_AWARD_STEPS[i].applicant_status, S_AWARD_STEPS[i].applicant_message);
        }
    char yuan[S_YUAN_MAX];
    s_detail(s, "%s %d: %s yuan, %d tranches%s%s", a->programme_code, (int)a->year,
             s_yuan(a->amount_fen, yuan, sizeof yuan), (int)a->n_tranches, c->reason[0] ? "; " : "",
             c->reason);
    return 0;
}

static int s_work_linked_award(const Ccip__Envelope *ev, const ProtobufCMessage *m,
                               casefile_step *s, char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Funding__WorkLinked *w = (const void *)m;
    if (!w->work_id[0])
        return s_missing(err, errlen, "work id");
    s_object(s, "work", w->work_id);
    s_detail(s, "award %s uses ip work %s", w->award_id, w->work_id);
    return 0;
}

static int s_paid(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s, char *err,
                  size_t errlen)
{
    (void)ev;
    const Ccip__Funding__DisbursementPaid *p = (const void *)m;
    if (!p->payment_id[0])
        return s_missing(err, errlen, "payment id");
    char yuan[S_YUAN_MAX], total[S_YUAN_MAX];
    s_object(s, "payment", p->payment_id);
    s_dossier(s, "payment", p->payment_id);
    s_detail(s, "tranche %d: %s yuan, ref %s (%s yuan paid in all)", (int)p->tranche_number,
             s_yuan(p->amount_fen, yuan, sizeof yuan), p->payment_ref,
             s_yuan(p->disbursed_total_fen, total, sizeof total));
    return 0;
}

static int s_use_report(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                        char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Funding__UseReportChanged *c = (const void *)m;
    if (!c->report || !c->report->id[0])
        return s_missing(err, errlen, "report");
    char yuan[S_YUAN_MAX];
    s_object(s, "use_report", c->report->id);
    s_dossier(s, "use_report", c->report->id);
    s_detail(s, "%s report %s: %s yuan spent%s%s",
             s_enum(&ccip__funding__report_kind__descriptor, c->report->kind), c->report->period,
             s_yuan(c->report->spent_fen, yuan, sizeof yuan), c->report->review_note[0] ? "; " : "",
             c->report->review_note);
    return 0;
}

static int s_inspection(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                        char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Funding__InspectionRecorded *r = (const void *)m;
    if (!r->inspection || !r->inspection->id[0])
        return s_missing(err, errlen, "inspection");
    s_object(s, "inspection", r->inspection->id);
    s_dossier(s, "inspection", r->inspection->id);
    s_detail(s, "%s inspection by %s: %s",
             s_enum(&ccip__funding__inspection_kind__descriptor, r->inspection->kind),
             r->inspection->inspector,
             s_enum(&ccip__funding__finding__descriptor, r->inspection->finding));
    return 0;
}

static int s_clawback(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                      char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Funding__ClawbackChanged *c = (const void *)m;
    if (!c->clawback || !c->clawback->id[0])
        return s_missing(err, errlen, "clawback");
    char yuan[S_YUAN_MAX], back[S_YUAN_MAX];
    s_object(s, "clawback", c->clawback->id);
    s_detail(s, "%s yuan to recover, %s yuan recovered: %s",
             s_yuan(c->clawback->amount_fen, yuan, sizeof yuan),
             s_yuan(c->clawback->recovered_fen, back, sizeof back), c->clawback->reason);
    return 0;
}

/* ---- ip -------------------------------------------------------------------------- */

static int s_work_linked(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                         char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Ip__WorkLinked *w = (const void *)m;
    if (!w->work || !w->work->id[0])
        return s_missing(err, errlen, "work");
    s_object(s, "work", w->work->id);
    s_dossier(s, "work", w->work->id);
    s_detail(s, "%s %s (%s), used by award %s", w->work->serial_text, w->work->title,
             s_enum(&ccip__ip__work_kind__descriptor, w->work->kind), w->award_id);
    return 0;
}

static int s_trade(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s, char *err,
                   size_t errlen)
{
    /* TradeContracted and TradeSettled both start with the contract. */
    const Ccip__Ip__Contract *c =
        strcmp(ev->type, "ip.trade.settled.v1") == 0
            ? ((const Ccip__Ip__TradeSettled *)(const void *)m)->contract
            : ((const Ccip__Ip__TradeContracted *)(const void *)m)->contract;
    if (!c || !c->id[0])
        return s_missing(err, errlen, "contract");
    char yuan[S_YUAN_MAX];
    s_object(s, "contract", c->id);
    s_detail(s, "work %s: %s from %s to %s for %s yuan", c->work_id,
             s_enum(&ccip__ip__deal_type__descriptor, c->deal), c->seller, c->buyer,
             s_yuan(c->price_fen, yuan, sizeof yuan));
    return 0;
}

static int s_dispute_filed(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                           char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Ip__DisputeFiled *d = (const void *)m;
    if (!d->dispute_id[0])
        return s_missing(err, errlen, "dispute id");
    s_object(s, "dispute", d->dispute_id);
    s_detail(s, "%s about work %s, by %s", s_enum(&ccip__ip__dispute_kind__descriptor, d->kind),
             d->work_id, d->complainant);
    return 0;
}

static int s_dispute_answered(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                              char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Ip__DisputeAnswered *d = (const void *)m;
    if (!d->dispute_id[0])
        return s_missing(err, errlen, "dispute id");
    s_object(s, "dispute", d->dispute_id);
    s_detail(s, "work %s, answered by %s", d->work_id, d->answered_by);
    return 0;
}

static int s_dispute_ruled(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                           char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Ip__DisputeRuled *d = (const void *)m;
    if (!d->dispute_id[0])
        return s_missing(err, errlen, "dispute id");
    s_object(s, "dispute", d->dispute_id);
    s_detail(s, "work %s: %s", d->work_id, d->reasons);
    return 0;
}

/* ---- stats ----------------------------------------------------------------------- */

static int s_roster(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                    char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Stats__RosterChanged *r = (const void *)m;
    if (!r->entry || !r->entry->id[0])
        return s_missing(err, errlen, "roster entry");
    s_object(s, "roster_entry", r->entry->id);
    snprintf(s->action, sizeof s->action, "monitoring roster entry %s", r->change);
    s_detail(s, "%s, district %s%s%s", r->entry->name, r->entry->district_code,
             r->entry->category[0] ? ", category " : "", r->entry->category);
    return 0;
}

static int s_report(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                    char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Stats__ReportChanged *r = (const void *)m;
    if (!r->report_id[0])
        return s_missing(err, errlen, "report id");
    s_object(s, "report", r->report_id);
    s_dossier(s, "quarterly_report", r->report_id);
    s_detail(s, "%s for roster entry %s: %s, %s%s%s", r->quarter, r->roster_id,
             s_enum(&ccip__stats__report_status__descriptor, r->status),
             s_enum(&ccip__stats__timeliness__descriptor, r->timeliness), r->reason[0] ? "; " : "",
             r->reason);
    return 0;
}

static int s_corrected(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                       char *err, size_t errlen)
{
    (void)ev;
    const Ccip__Stats__ValueCorrected *v = (const void *)m;
    if (!v->report_id[0])
        return s_missing(err, errlen, "report id");
    s_object(s, "report", v->report_id);
    s_detail(s, "%s for roster entry %s: %zu values corrected", v->quarter, v->roster_id,
             v->n_changes);
    return 0;
}

/* ---- followup ------------------------------------------------------------------- */

/* A key project's events: the project and what it is, or NULL. */
static const Ccip__Followup__Project *s_project_of(const Ccip__Envelope *ev,
                                                   const ProtobufCMessage *m)
{
    if (strcmp(ev->type, "followup.project.reported.v1") == 0)
        return ((const Ccip__Followup__ProjectReported *)(const void *)m)->project;
    if (strcmp(ev->type, "followup.project.escalated.v1") == 0)
        return ((const Ccip__Followup__ProjectEscalated *)(const void *)m)->project;
    return ((const Ccip__Followup__ProjectChanged *)(const void *)m)->project;
}

/* registered, milestone_added, closed (ProjectChanged). */
static int s_project(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                     char *err, size_t errlen)
{
    const Ccip__Followup__Project *p = s_project_of(ev, m);
    const Ccip__Followup__ProjectChanged *c = (const void *)m;
    if (!p || !p->id[0])
        return s_missing(err, errlen, "project");
    s_object(s, "key_project", p->id);
    char yuan[S_YUAN_MAX];
    if (strcmp(ev->type, "followup.project.registered.v1") == 0)
        s_detail(s, "%s, key project of %d (%s), district %s, %s yuan planned, %zu milestones",
                 p->title, (int)p->year,
                 s_enum(&ccip__followup__project_source__descriptor, p->source), p->district_code,
                 s_yuan(p->planned_investment_fen, yuan, sizeof yuan), p->n_milestones);
    else if (strcmp(ev->type, "followup.project.closed.v1") == 0)
        s_detail(s, "%s: %s; %s", p->title,
                 s_enum(&ccip__followup__project_status__descriptor, p->status), c->note);
    else
        s_detail(s, "%s: %s", p->title, c->note);
    return 0;
}

static int s_project_reported(const Ccip__Envelope *ev, const ProtobufCMessage *m, casefile_step *s,
                              char *err, size_t errlen)
{
    const Ccip__Followup__ProjectReported *r = (const void *)m;
    const Ccip__Followup__Project *p = s_project_of(ev, m);
    if (!p || !p->id[0] || !r->report || !r->report->id[0])
        return s_missing(err, errlen, "project or report");
    s_object(s, "monthly_report", r->report->id);
    if (r->report->version > 1)
        snprintf(s->action, sizeof s->action, "key project's monthly report corrected (version %d)",
                 (int)r->report->version);
    char yuan[S_YUAN_MAX];
    s_detail(s, "%s, %s: %s yuan invested so far%s%s", p->title, r->report->month,
             s_yuan(r->report->investment_completed_fen, yuan, sizeof yuan),
             r->report->problems[0] ? "; problems: " : "", r->report->problems);
    return 0;
}

static int s_project_escalated(const Ccip__Envelope *ev, const ProtobufCMessage *m,
                               casefile_step *s, char *err, size_t errlen)
{
    const Ccip__Followup__ProjectEscalated *e = (const void *)m;
    const Ccip__Followup__Project *p = s_project_of(ev, m);
    if (!p || !p->id[0] || !e->escalation)
        return s_missing(err, errlen, "project or escalation");
    s_object(s, "key_project", p->id);
    s_detail(s, "%s: %s", s_enum(&ccip__followup__escalation_kind__descriptor, e->escalation->kind),
             e->escalation->summary);
    return 0;
}

/* ---- the table ---------------------------------------------------------------------- */

/* The descriptor of message `name` of package ccip.`pkg`. */
#define M(pkg, name) (&ccip__##pkg##__##name##__descriptor)

static const s_def S_DEFS[] = {
    {"intake.application.submitted.v1", M(intake, application_submitted), s_submitted,
     "application submitted"},
    {"intake.application.accepted.v1", M(intake, application_accepted), s_accepted,
     "application accepted"},
    {"intake.application.returned.v1", M(intake, application_transitioned), s_transitioned,
     "application returned for correction"},
    {"intake.application.rejected.v1", M(intake, application_transitioned), s_transitioned,
     "application rejected at intake"},
    {"intake.application.withdrawn.v1", M(intake, application_transitioned), s_transitioned,
     "application withdrawn"},
    {"evaluation.case.opened.v1", M(evaluation, case_opened), s_case_opened,
     "evaluation case opened"},
    {"evaluation.investigation.scheduled.v1", M(evaluation, investigation_scheduled),
     s_investigation_scheduled, "on-site investigation scheduled"},
    {"evaluation.investigation.reported.v1", M(evaluation, investigation_reported),
     s_investigation_reported, "investigation report filed"},
    {"evaluation.review.started.v1", M(evaluation, review_started), s_review_started,
     "expert review started"},
    {"evaluation.review.submitted.v1", M(evaluation, review_submitted), s_review_submitted,
     "expert review submitted"},
    {"evaluation.review.completed.v1", M(evaluation, review_completed), s_review_completed,
     "expert review completed"},
    {"evaluation.decision.made.v1", M(evaluation, decision_made), s_decision, "office's decision"},
    {"evaluation.designation.granted.v1", M(evaluation, designation_changed), s_designation,
     "designation granted"},
    {"evaluation.designation.revoked.v1", M(evaluation, designation_changed), s_designation,
     "designation revoked"},
    {"evaluation.task.overdue.v1", M(evaluation, task_notice), s_task_overdue, "task overdue"},
    {"funding.award.proposed.v1", M(funding, award_changed), s_award, "award proposed"},
    {"funding.award.granted.v1", M(funding, award_changed), s_award, "award confirmed"},
    {"funding.award.rejected.v1", M(funding, award_changed), s_award, "award rejected"},
    {"funding.award.signed.v1", M(funding, award_changed), s_award, "award agreement signed"},
    {"funding.award.suspended.v1", M(funding, award_changed), s_award, "award suspended"},
    {"funding.award.resumed.v1", M(funding, award_changed), s_award, "award resumed"},
    {"funding.award.terminated.v1", M(funding, award_changed), s_award, "award terminated"},
    {"funding.award.completed.v1", M(funding, award_changed), s_award,
     "award completed (every tranche paid)"},
    {"funding.award.work_linked.v1", M(funding, work_linked), s_work_linked_award,
     "work linked to the award"},
    {"funding.disbursement.paid.v1", M(funding, disbursement_paid), s_paid, "tranche paid"},
    {"funding.report.submitted.v1", M(funding, use_report_changed), s_use_report,
     "use-of-funds report submitted"},
    {"funding.report.accepted.v1", M(funding, use_report_changed), s_use_report,
     "use-of-funds report accepted"},
    {"funding.report.returned.v1", M(funding, use_report_changed), s_use_report,
     "use-of-funds report returned"},
    {"funding.inspection.recorded.v1", M(funding, inspection_recorded), s_inspection,
     "inspection recorded"},
    {"funding.clawback.ordered.v1", M(funding, clawback_changed), s_clawback, "clawback ordered"},
    {"funding.clawback.recovered.v1", M(funding, clawback_changed), s_clawback,
     "clawback recovered"},
    {"ip.work.linked.v1", M(ip, work_linked), s_work_linked, "registered work joined the case"},
    {"ip.trade.contracted.v1", M(ip, trade_contracted), s_trade, "work traded: contract made"},
    {"ip.trade.settled.v1", M(ip, trade_settled), s_trade, "work traded: contract settled"},
    {"ip.dispute.filed.v1", M(ip, dispute_filed), s_dispute_filed, "dispute filed"},
    {"ip.dispute.answered.v1", M(ip, dispute_answered), s_dispute_answered, "dispute answered"},
    {"ip.dispute.upheld.v1", M(ip, dispute_ruled), s_dispute_ruled, "dispute upheld: work frozen"},
    {"ip.dispute.dismissed.v1", M(ip, dispute_ruled), s_dispute_ruled, "dispute dismissed"},
    {"ip.dispute.lifted.v1", M(ip, dispute_ruled), s_dispute_ruled, "dispute's freeze lifted"},
    {"stats.roster.changed.v1", M(stats, roster_changed), s_roster, "monitoring roster changed"},
    {"stats.report.submitted.v1", M(stats, report_changed), s_report, "quarterly report submitted"},
    {"stats.report.accepted.v1", M(stats, report_changed), s_report, "quarterly report accepted"},
    {"stats.report.returned.v1", M(stats, report_changed), s_report, "quarterly report returned"},
    {"stats.value.corrected.v1", M(stats, value_corrected), s_corrected,
     "quarterly values corrected"},
    {"followup.project.registered.v1", M(followup, project_changed), s_project,
     "key project registered"},
    {"followup.project.milestone_added.v1", M(followup, project_changed), s_project,
     "key project milestone added"},
    {"followup.project.reported.v1", M(followup, project_reported), s_project_reported,
     "key project's monthly report filed"},
    {"followup.project.escalated.v1", M(followup, project_escalated), s_project_escalated,
     "key project escalated"},
    {"followup.project.closed.v1", M(followup, project_changed), s_project, "key project closed"},
};
#define S_NDEFS (sizeof S_DEFS / sizeof S_DEFS[0])

#define S_TYPE(t) t,
static const char *const S_INTAKE[] = {CASEFILE_TYPES_INTAKE(S_TYPE) NULL};
static const char *const S_EVALUATION[] = {CASEFILE_TYPES_EVALUATION(S_TYPE) NULL};
static const char *const S_FUNDING[] = {CASEFILE_TYPES_FUNDING(S_TYPE) NULL};
static const char *const S_IP[] = {CASEFILE_TYPES_IP(S_TYPE) NULL};
static const char *const S_STATS[] = {CASEFILE_TYPES_STATS(S_TYPE) NULL};
static const char *const S_FOLLOWUP[] = {CASEFILE_TYPES_FOLLOWUP(S_TYPE) NULL};

const casefile_stream casefile_streams[] = {
    {"intake", S_INTAKE}, {"evaluation", S_EVALUATION}, {"funding", S_FUNDING},
    {"ip", S_IP},         {"stats", S_STATS},           {"followup", S_FOLLOWUP},
};
const size_t casefile_nstreams = sizeof casefile_streams / sizeof casefile_streams[0];

static const s_def *s_find(const char *type)
{
    for (size_t i = 0; type && i < S_NDEFS; i++)
        if (strcmp(S_DEFS[i].type, type) == 0)
            return &S_DEFS[i];
    return NULL;
}

int casefile_step_known(const char *type)
{
    return s_find(type) != NULL;
}

const ProtobufCMessageDescriptor *casefile_step_message(const char *type)
{
    const s_def *d = s_find(type);
    return d ? d->message : NULL;
}

const ProtobufCMessage *casefile_step_dossier_part(const char *type, const ProtobufCMessage *msg)
{
    const s_def *d = s_find(type);
    if (!d || !msg || msg->descriptor != d->message)
        return NULL;
    if (d->message == M(evaluation, case_opened))
        return (const ProtobufCMessage *)((const Ccip__Evaluation__CaseOpened *)msg)->case_;
    if (d->message == M(evaluation, designation_changed))
        return (const ProtobufCMessage *)((const Ccip__Evaluation__DesignationChanged *)msg)
            ->designation;
    if (d->message == M(funding, award_changed))
        return (const ProtobufCMessage *)((const Ccip__Funding__AwardChanged *)msg)->award;
    if (d->message == M(funding, use_report_changed))
        return (const ProtobufCMessage *)((const Ccip__Funding__UseReportChanged *)msg)->report;
    if (d->message == M(ip, work_linked))
        return (const ProtobufCMessage *)((const Ccip__Ip__WorkLinked *)msg)->work;
    return msg;
}

/* "intake.application.accepted.v1" -> "intake", static text. */
static const char *s_producer(const char *type)
{
    for (size_t i = 0; i < casefile_nstreams; i++) {
        size_t n = strlen(casefile_streams[i].producer);
        if (strncmp(type, casefile_streams[i].producer, n) == 0 && type[n] == '.')
            return casefile_streams[i].producer;
    }
    return NULL;
}

casefile_step_rc casefile_step_read(const Ccip__Envelope *ev, casefile_step *step,
                                    ProtobufCMessage **msg, char *err, size_t errlen)
{
    *msg = NULL;
    if (err && errlen)
        err[0] = '\0';
    const s_def *d = s_find(ev->type);
    const char *producer = d ? s_producer(ev->type) : NULL;
    if (!d || !producer)
        return CASEFILE_STEP_NO_CASE;
    /* Not about a case: the command's own id is both correlation and
     * causation (ccip_command_emit), or there is no usable correlation. */
    if (!ccip_uuid_valid(ev->correlation_id) || strcmp(ev->correlation_id, ev->causation_id) == 0)
        return CASEFILE_STEP_NO_CASE;
    memset(step, 0, sizeof *step);
    memcpy(step->root_id, ev->correlation_id, CCIP_UUID_STRLEN + 1);
    step->producer = producer;
    snprintf(step->action, sizeof step->action, "%s", d->action);
    step->object_kind = "";
    step->dossier_kind = NULL;
    char why[256];
    ProtobufCMessage *m = ccip_payload_unpack(d->message, ev->payload.data, ev->payload.len,
                                              CCIP_OUTBOX_PAYLOAD_MAX, why, sizeof why);
    if (!m) {
        snprintf(err, errlen, "could not decode its %s: %s", d->message->name, why);
        return CASEFILE_STEP_BAD;
    }
    if (d->read(ev, m, step, why, sizeof why) < 0) {
        protobuf_c_message_free_unpacked(m, NULL);
        snprintf(err, errlen, "%s", why);
        return CASEFILE_STEP_BAD;
    }
    *msg = m;
    return CASEFILE_STEP_OK;
}
