#include "notify_events.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/followup.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/gateway.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip/stats.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_outbox.h"
#include "notify.h"

#define S_KEY_MAX 200 /* a close key or fact key */

/* A map function: reads the decoded payload msg of ev onto b. Returns 0 or
 * a ccip_db_rc. */
typedef int (*s_map_fn)(notify_batch *b, const Ccip__Envelope *ev, const void *msg);

/* ---- small pieces ------------------------------------------------------------------- */

static const char *s_s(const char *s)
{
    return s ? s : "";
}

/* "org:<uscc>" into buf; "" when uscc is empty. */
static const char *s_org(const char *uscc, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s", uscc && uscc[0] ? "org:" : "", s_s(uscc));
    return buf;
}

/* printf into a key buffer. */
static const char *s_key(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static const char *s_key(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return buf;
}

/* An item with the given addressee (nothing when it is empty). */
static int s_item(notify_batch *b, const char *kind, const char *addressee, const char *otype,
                  const char *oid, const char *subject, const char *detail, const char *close_key,
                  int64_t due_us)
{
    if (!addressee || !addressee[0] || !oid || !oid[0])
        return 0;
    notify_item_spec s = {.kind = kind,
                          .addressee = addressee,
                          .object_type = otype,
                          .object_id = oid,
                          .subject = subject,
                          .detail = detail,
                          .close_key = close_key,
                          .due_us = due_us};
    return notify_batch_item(b, &s);
}

/* The title of object otype:oid from now on. */
static int s_title(notify_batch *b, const char *otype, const char *oid, const char *title)
{
    char key[S_KEY_MAX];
    const char *v[1] = {title};
    return oid && oid[0] ? notify_batch_fact(b, NOTIFY_VIA_TITLE,
                                             s_key(key, sizeof key, "%s:%s", otype, oid), v, 1)
                         : 0;
}

/* The name of an enum value without its common prefix ("DECISION_APPROVED"
 * -> "APPROVED" when prefix is "DECISION_"). */
static const char *s_enum(const ProtobufCEnumDescriptor *d, int value, const char *prefix)
{
    const char *n = ccip_enum_name(d, value);
    if (!n)
        return "";
    size_t pl = prefix ? strlen(prefix) : 0;
    return pl && strncmp(n, prefix, pl) == 0 ? n + pl : n;
}

/* "¥12345.67" */
static const char *s_yuan(int64_t fen, char *buf, size_t len)
{
    char amount[40];
    if (ccip_fen_format(fen, amount, sizeof amount) < 0)
        snprintf(amount, sizeof amount, "%lld fen", (long long)fen);
    snprintf(buf, len, "\xC2\xA5%s", amount);
    return buf;
}

/* ---- intake ------------------------------------------------------------------------------- */

static int s_org_waiting(notify_batch *b, const Ccip__Intake__Organisation *o, const char *detail)
{
    char key[S_KEY_MAX];
    return s_item(b, "organisation_waiting", "role:staff", "organisation", o->uscc, o->name, detail,
                  s_key(key, sizeof key, "intake/organisation/%s/verify", s_s(o->uscc)), 0);
}

static int s_org_registered(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Intake__Organisation *o =
        ((const Ccip__Intake__OrganisationRegistered *)msg)->organisation;
    if (!o)
        return 0;
    int rc = s_title(b, "organisation", o->uscc, o->name);
    if (rc == 0 && !o->verified)
        rc = s_org_waiting(b, o, o->district_code);
    return rc;
}

static int s_org_updated(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Intake__OrganisationUpdated *m = msg;
    if (!m->organisation)
        return 0;
    int rc = s_title(b, "organisation", m->organisation->uscc, m->organisation->name);
    if (rc == 0 && m->verification_withdrawn)
        rc = s_org_waiting(b, m->organisation, m->reason);
    return rc;
}

static int s_org_verified(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Intake__OrganisationVerified *m = msg;
    char key[S_KEY_MAX], org[NOTIFY_ACTOR_MAX];
    int rc = notify_batch_settle(
        b, s_key(key, sizeof key, "intake/organisation/%s/verify", s_s(m->uscc)));
    if (rc == 0)
        rc = s_item(b, "organisation_verified", s_org(m->uscc, org, sizeof org), "organisation",
                    m->uscc, m->name, "", NULL, 0);
    return rc;
}

static int s_app_submitted(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Intake__ApplicationSubmitted *m = msg;
    char key[S_KEY_MAX];
    int rc = s_title(b, "application", m->application_id, m->title);
    /* A resubmission settles the applicant's correction. */
    if (rc == 0)
        rc = notify_batch_settle(
            b, s_key(key, sizeof key, "intake/application/%s/correct", s_s(m->application_id)));
    if (rc == 0)
        rc = s_item(b, "application_waiting", "role:staff", "application", m->application_id,
                    m->title, m->applicant_name,
                    s_key(key, sizeof key, "intake/application/%s/check", s_s(m->application_id)),
                    0);
    return rc;
}

static int s_app_accepted(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Intake__ApplicationAccepted *m = msg;
    char key[S_KEY_MAX];
    return notify_batch_settle(
        b, s_key(key, sizeof key, "intake/application/%s/check", s_s(m->application_id)));
}

/* returned, rejected, withdrawn: the staff's check is over; a return asks
 * the applicant to correct, a rejection tells it, a withdrawal ends the
 * correction too. */
static int s_app_transitioned(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Intake__ApplicationTransitioned *m = msg;
    char key[S_KEY_MAX], org[NOTIFY_ACTOR_MAX];
    const char *id = s_s(m->application_id);
    int rc = notify_batch_settle(b, s_key(key, sizeof key, "intake/application/%s/check", id));
    s_org(m->applicant_uscc, org, sizeof org);
    if (rc == 0 && m->to_status == CCIP__INTAKE__APPLICATION_STATUS__RETURNED)
        rc = s_item(b, "application_returned", org, "application", id, "", m->reason,
                    s_key(key, sizeof key, "intake/application/%s/correct", id), 0);
    else if (rc == 0)
        rc = notify_batch_settle(b, s_key(key, sizeof key, "intake/application/%s/correct", id));
    if (rc == 0 && m->to_status == CCIP__INTAKE__APPLICATION_STATUS__REJECTED)
        rc = s_item(b, "application_rejected", org, "application", id, "", m->reason, NULL, 0);
    return rc;
}

/* ---- evaluation ----------------------------------------------------------------------------- */

static int s_case_opened(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Evaluation__Case *c = ((const Ccip__Evaluation__CaseOpened *)msg)->case_;
    if (!c)
        return 0;
    char key[S_KEY_MAX];
    int rc = s_title(b, "application", c->application_id, c->title);
    if (rc == 0)
        rc = s_item(b, "case_to_assign", "role:staff", "application", c->application_id, c->title,
                    c->applicant_name,
                    s_key(key, sizeof key, "evaluation/case/%s/assign", s_s(c->application_id)), 0);
    return rc;
}

static int s_investigation_scheduled(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Evaluation__InvestigationScheduled *m = msg;
    char key[S_KEY_MAX];
    /* The agency's item comes from its evaluation.task.assigned.v1. */
    return notify_batch_settle(
        b, s_key(key, sizeof key, "evaluation/case/%s/assign", s_s(m->application_id)));
}

static int s_review_started(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Evaluation__ReviewStarted *m = msg;
    char key[S_KEY_MAX];
    return notify_batch_settle(
        b, s_key(key, sizeof key, "evaluation/case/%s/assign", s_s(m->application_id)));
}

/* Staff sent a complete case to the office: its decision waits. */
static int s_case_submitted(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Evaluation__CaseSubmitted *m = msg;
    char key[S_KEY_MAX];
    int rc = s_title(b, "application", m->application_id, m->title);
    if (rc == 0 && m->case_id && m->case_id[0])
        rc =
            s_item(b, "decision_waiting", "role:office", "application", m->application_id, m->title,
                   m->note, s_key(key, sizeof key, "evaluation/case/%s/decide", m->case_id), 0);
    return rc;
}

static int s_decision(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Evaluation__DecisionMade *m = msg;
    char org[NOTIFY_ACTOR_MAX], detail[2200], key[S_KEY_MAX];
    /* Any decision, a return to an earlier step too, is the office's answer. */
    int rc = notify_batch_settle(
        b, s_key(key, sizeof key, "evaluation/case/%s/decide", s_s(m->case_id)));
    if (rc || !m->decision)
        return rc;
    Ccip__Evaluation__Outcome o = m->decision->outcome;
    if (o != CCIP__EVALUATION__OUTCOME__DECISION_APPROVED &&
        o != CCIP__EVALUATION__OUTCOME__DECISION_DECLINED)
        return 0; /* returned to an earlier step: nothing for the applicant yet */
    snprintf(detail, sizeof detail, "%s%s%s",
             s_enum(&ccip__evaluation__outcome__descriptor, (int)o, "DECISION_"),
             m->decision->reasons && m->decision->reasons[0] ? ": " : "",
             s_s(m->decision->reasons));
    return s_item(b, "decision_made", s_org(m->applicant_uscc, org, sizeof org), "application",
                  s_s(m->application_id), m->title, detail, NULL, 0);
}

/* The addressee of a task ("expert:<id>" or "agency:<id>") into who, and
 * its close key into key; 0 when the task names no subject or id. */
static int s_task_who(const Ccip__Evaluation__Task *t, char *who, size_t wlen, char *key,
                      size_t klen)
{
    if (!t || !t->subject_id || !t->subject_id[0] || !t->task_id || !t->task_id[0])
        return 0;
    snprintf(who, wlen, "%s:%s",
             t->kind == CCIP__EVALUATION__SUBJECT_KIND__EXPERT ? "expert" : "agency",
             t->subject_id);
    s_key(key, klen, "evaluation/task/%s", t->task_id);
    return 1;
}

static int s_task_assigned(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Evaluation__Task *t = ((const Ccip__Evaluation__TaskNotice *)msg)->task;
    char key[S_KEY_MAX], who[NOTIFY_ACTOR_MAX];
    if (!s_task_who(t, who, sizeof who, key, sizeof key))
        return 0;
    int expert = t->kind == CCIP__EVALUATION__SUBJECT_KIND__EXPERT;
    return s_item(b, expert ? "review_assigned" : "investigation_assigned", who, "application",
                  t->application_id, t->case_title, t->applicant_name, key, t->due_at_us);
}

static int s_task_ended(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Evaluation__Task *t = ((const Ccip__Evaluation__TaskNotice *)msg)->task;
    char key[S_KEY_MAX], who[NOTIFY_ACTOR_MAX];
    return s_task_who(t, who, sizeof who, key, sizeof key) ? notify_batch_settle(b, key) : 0;
}

/* A reminder or an overdue notice for an expert's review or an agency's
 * investigation; an overdue one also for staff, who may reassign it. All
 * close when the task ends. */
static int s_task_notice(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Evaluation__Task *t = ((const Ccip__Evaluation__TaskNotice *)msg)->task;
    char key[S_KEY_MAX], who[NOTIFY_ACTOR_MAX];
    if (!s_task_who(t, who, sizeof who, key, sizeof key))
        return 0;
    int overdue = strcmp(ev->type, "evaluation.task.overdue.v1") == 0;
    int expert = t->kind == CCIP__EVALUATION__SUBJECT_KIND__EXPERT;
    const char *kind = expert ? (overdue ? "review_overdue" : "review_due")
                              : (overdue ? "investigation_overdue" : "investigation_due");
    int rc = s_item(b, kind, who, "application", t->application_id, t->case_title, "", key,
                    t->due_at_us);
    if (rc == 0 && overdue)
        rc = s_item(b, "task_overdue", "role:staff", "application", t->application_id,
                    t->case_title, who, key, t->due_at_us);
    return rc;
}

/* ---- funding ----------------------------------------------------------------------------------
 */

/* The close key of a grantee's "report due" item: one per award and kind
 * of report (INTERIM, FINAL). */
static const char *s_report_due_key(char key[S_KEY_MAX], const char *award_id, int kind)
{
    return s_key(key, S_KEY_MAX, "funding/award/%s/report/%s", award_id,
                 s_enum(&ccip__funding__report_kind__descriptor, kind, NULL));
}

/* A signed award whose tranches wait for use-of-funds reports (an
 * INTERIM or the FINAL report accepted, funding.proto's Condition): the
 * grantee's "report due" item for each kind, named with the first tranche
 * that waits for it; a report of that kind accepted settles it, and so
 * does the award's termination. */
static int s_reports_due(notify_batch *b, const Ccip__Funding__Award *a, const char *org)
{
    static const struct {
        Ccip__Funding__Condition condition;
        Ccip__Funding__ReportKind kind;
    } waits[] = {
        {CCIP__FUNDING__CONDITION__INTERIM_REPORT_ACCEPTED, CCIP__FUNDING__REPORT_KIND__INTERIM},
        {CCIP__FUNDING__CONDITION__FINAL_REPORT_ACCEPTED, CCIP__FUNDING__REPORT_KIND__FINAL},
    };
    int rc = 0;
    for (size_t w = 0; rc == 0 && w < sizeof waits / sizeof waits[0]; w++) {
        const Ccip__Funding__Tranche *first = NULL;
        for (size_t i = 0; !first && i < a->n_tranches; i++)
            if (a->tranches[i] && a->tranches[i]->condition == waits[w].condition)
                first = a->tranches[i];
        if (!first)
            continue;
        char key[S_KEY_MAX], detail[64];
        snprintf(detail, sizeof detail, "#%d %s", first->number,
                 s_enum(&ccip__funding__report_kind__descriptor, (int)waits[w].kind, NULL));
        rc = s_item(b, "use_report_due", org, "award", a->id, a->title, detail,
                    s_report_due_key(key, a->id, (int)waits[w].kind), 0);
    }
    return rc;
}

static int s_award(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Funding__AwardChanged *m = msg;
    const Ccip__Funding__Award *a = m->award;
    if (!a || !a->id || !a->id[0])
        return 0;
    char key[S_KEY_MAX], org[NOTIFY_ACTOR_MAX], amount[48];
    s_org(a->grantee_uscc, org, sizeof org);
    const char *v[1] = {org};
    int rc = notify_batch_fact(b, NOTIFY_VIA_GRANTEE, a->id, v, 1);
    if (rc == 0)
        rc = s_title(b, "award", a->id, a->title);
    if (rc)
        return rc;
    const char *t = ev->type;
    s_yuan(a->amount_fen, amount, sizeof amount);
    if (strcmp(t, "funding.award.proposed.v1") == 0)
        return s_item(b, "award_to_confirm", "role:staff", "award", a->id, a->title, amount,
                      s_key(key, sizeof key, "funding/award/%s/confirm", a->id), 0);
    if (strcmp(t, "funding.award.granted.v1") == 0 || strcmp(t, "funding.award.rejected.v1") == 0)
        rc = notify_batch_settle(b, s_key(key, sizeof key, "funding/award/%s/confirm", a->id));
    if (rc == 0 && strcmp(t, "funding.award.granted.v1") == 0)
        return s_item(b, "award_offered", org, "award", a->id, a->title, amount,
                      s_key(key, sizeof key, "funding/award/%s/sign", a->id), 0);
    if (rc == 0 && (strcmp(t, "funding.award.signed.v1") == 0 ||
                    strcmp(t, "funding.award.terminated.v1") == 0))
        rc = notify_batch_settle(b, s_key(key, sizeof key, "funding/award/%s/sign", a->id));
    if (rc == 0 && strcmp(t, "funding.award.signed.v1") == 0)
        rc = s_reports_due(b, a, org);
    if (rc == 0 && strcmp(t, "funding.award.terminated.v1") == 0)
        rc = notify_batch_settle(b,
                                 s_report_due_key(key, a->id, CCIP__FUNDING__REPORT_KIND__INTERIM));
    if (rc == 0 && strcmp(t, "funding.award.terminated.v1") == 0)
        rc =
            notify_batch_settle(b, s_report_due_key(key, a->id, CCIP__FUNDING__REPORT_KIND__FINAL));
    if (rc == 0 && strcmp(t, "funding.award.suspended.v1") == 0)
        rc = s_item(b, "award_suspended", org, "award", a->id, a->title,
                    m->reason && m->reason[0] ? m->reason : a->status_reason, NULL, 0);
    return rc;
}

/* A payment's first approval, when it needs a second (four eyes): the
 * second approver's item; its payment or cancellation settles it. */
static int s_payment(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Funding__Payment *p = ((const Ccip__Funding__PaymentChanged *)msg)->payment;
    if (!p || !p->id || !p->id[0])
        return 0;
    char key[S_KEY_MAX], detail[160], amount[48];
    s_key(key, sizeof key, "funding/payment/%s/second", p->id);
    if (strcmp(ev->type, "funding.payment.approved.v1") != 0)
        return notify_batch_settle(b, key);
    if (!p->needs_second_approval || (p->second_approver && p->second_approver[0]))
        return 0;
    snprintf(detail, sizeof detail, "#%d %s, %s", p->tranche_number,
             s_yuan(p->amount_fen, amount, sizeof amount), s_s(p->first_approver));
    return s_item(b, "payment_second_approval", "role:finance", "award", p->award_id, "", detail,
                  key, 0);
}

static int s_paid(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Funding__DisbursementPaid *m = msg;
    char org[NOTIFY_ACTOR_MAX], detail[96], amount[48], key[S_KEY_MAX];
    int rc = notify_batch_settle(
        b, s_key(key, sizeof key, "funding/payment/%s/second", s_s(m->payment_id)));
    if (rc)
        return rc;
    snprintf(detail, sizeof detail, "#%d %s", m->tranche_number,
             s_yuan(m->amount_fen, amount, sizeof amount));
    return s_item(b, "tranche_paid", s_org(m->grantee_uscc, org, sizeof org), "award", m->award_id,
                  "", detail, NULL, 0);
}

static int s_use_report(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Funding__UseReport *r = ((const Ccip__Funding__UseReportChanged *)msg)->report;
    if (!r || !r->id || !r->id[0])
        return 0;
    char key[S_KEY_MAX], subject[256];
    const char *t = ev->type;
    snprintf(subject, sizeof subject, "%s", s_s(r->period));
    if (strcmp(t, "funding.report.submitted.v1") == 0) {
        int rc = notify_batch_settle(b, s_key(key, sizeof key, "funding/report/%s/correct", r->id));
        return rc ? rc
                  : s_item(b, "use_report_to_review", "role:staff", "report", r->id, subject, "",
                           s_key(key, sizeof key, "funding/report/%s/review", r->id), 0);
    }
    int rc = notify_batch_settle(b, s_key(key, sizeof key, "funding/report/%s/review", r->id));
    if (rc == 0 && strcmp(t, "funding.report.accepted.v1") == 0 && r->award_id)
        rc = notify_batch_settle(b, s_report_due_key(key, r->award_id, (int)r->kind));
    if (rc == 0 && strcmp(t, "funding.report.returned.v1") == 0) {
        notify_item_spec s = {.kind = "use_report_returned",
                              .via = NOTIFY_VIA_GRANTEE,
                              .via_id = r->award_id,
                              .object_type = "report",
                              .object_id = r->id,
                              .subject = subject,
                              .detail = r->review_note,
                              .close_key =
                                  s_key(key, sizeof key, "funding/report/%s/correct", r->id)};
        rc = notify_batch_item(b, &s);
    }
    return rc;
}

/* An inspection scheduled: due for staff on its date until recorded. */
static int s_inspection_scheduled(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Funding__Inspection *in =
        ((const Ccip__Funding__InspectionScheduled *)msg)->inspection;
    if (!in || !in->id || !in->id[0])
        return 0;
    char key[S_KEY_MAX], detail[400];
    snprintf(detail, sizeof detail, "%s, %s",
             s_enum(&ccip__funding__inspection_kind__descriptor, (int)in->kind, NULL),
             s_s(in->inspector));
    return s_item(b, "inspection_due", "role:staff", "award", in->award_id, "", detail,
                  s_key(key, sizeof key, "funding/inspection/%s/record", in->id),
                  in->scheduled_for_us);
}

static int s_inspection(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Funding__InspectionRecorded *m = msg;
    const Ccip__Funding__Inspection *in = m->inspection;
    char key[S_KEY_MAX];
    if (!in)
        return 0;
    int rc =
        notify_batch_settle(b, s_key(key, sizeof key, "funding/inspection/%s/record", s_s(in->id)));
    if (rc || in->finding == CCIP__FUNDING__FINDING__COMPLIANT)
        return rc;
    char org[NOTIFY_ACTOR_MAX], detail[2200];
    snprintf(detail, sizeof detail, "%s%s%s",
             s_enum(&ccip__funding__finding__descriptor, (int)in->finding, NULL),
             in->notes && in->notes[0] ? ": " : "", s_s(in->notes));
    return s_item(b, "inspection_finding", s_org(m->grantee_uscc, org, sizeof org), "award",
                  in->award_id, "", detail, NULL, in->correct_by_us);
}

/* ---- ip
 * -------------------------------------------------------------------------------------------- */

static int s_owners(notify_batch *b, const char *work_id, Ccip__Ip__Owner *const *owners, size_t n)
{
    const char *parties[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k < sizeof parties / sizeof parties[0]; i++)
        if (owners[i] && owners[i]->party && owners[i]->party[0])
            parties[k++] = owners[i]->party;
    return notify_batch_fact(b, NOTIFY_VIA_OWNER, work_id, parties, k);
}

static int s_work_registered(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Ip__WorkRegistered *m = msg;
    int rc = s_owners(b, m->work_id, m->owners, m->n_owners);
    return rc ? rc : s_title(b, "work", m->work_id, m->title);
}

static int s_trade_settled(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Ip__TradeSettled *m = msg;
    return m->contract ? s_owners(b, m->contract->work_id, m->owners, m->n_owners) : 0;
}

static int s_dispute_filed(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Ip__DisputeFiled *m = msg;
    if (!m->dispute_id || !m->dispute_id[0])
        return 0;
    char key[S_KEY_MAX];
    notify_item_spec s = {.kind = "dispute_filed",
                          .via = NOTIFY_VIA_OWNER,
                          .via_id = m->work_id,
                          .object_type = "work",
                          .object_id = m->work_id,
                          .detail = s_enum(&ccip__ip__dispute_kind__descriptor, (int)m->kind, NULL),
                          .close_key =
                              s_key(key, sizeof key, "ip/dispute/%s/answer", m->dispute_id),
                          .due_us = m->answer_by_us};
    return notify_batch_item(b, &s);
}

static int s_dispute_answered(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Ip__DisputeAnswered *m = msg;
    char key[S_KEY_MAX];
    int rc =
        notify_batch_settle(b, s_key(key, sizeof key, "ip/dispute/%s/answer", s_s(m->dispute_id)));
    return rc ? rc
              : s_item(b, "dispute_to_rule", "role:staff", "work", m->work_id, "", "",
                       s_key(key, sizeof key, "ip/dispute/%s/rule", s_s(m->dispute_id)), 0);
}

static int s_dispute_ruled(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Ip__DisputeRuled *m = msg;
    char key[S_KEY_MAX], detail[2200];
    const char *id = s_s(m->dispute_id);
    int rc = notify_batch_settle(b, s_key(key, sizeof key, "ip/dispute/%s/answer", id));
    if (rc == 0)
        rc = notify_batch_settle(b, s_key(key, sizeof key, "ip/dispute/%s/rule", id));
    snprintf(detail, sizeof detail, "%s%s%s",
             s_enum(&ccip__ip__ruling__descriptor, (int)m->ruling, NULL),
             m->reasons && m->reasons[0] ? ": " : "", s_s(m->reasons));
    for (size_t i = 0; rc == 0 && i < m->n_owners; i++)
        if (m->owners[i])
            rc = s_item(b, "dispute_ruled", m->owners[i]->party, "work", m->work_id, "", detail,
                        NULL, 0);
    return rc;
}

/* ---- stats
 * ------------------------------------------------------------------------------------------ */

static int s_roster_changed(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Stats__RosterEntry *e = ((const Ccip__Stats__RosterChanged *)msg)->entry;
    if (!e || !e->id || !e->id[0])
        return 0;
    char org[NOTIFY_ACTOR_MAX];
    const char *v[1] = {s_org(e->operator_uscc, org, sizeof org)};
    int rc = notify_batch_fact(b, NOTIFY_VIA_OPERATOR, e->id, v, 1);
    return rc ? rc : s_title(b, "roster", e->id, e->name);
}

static int s_stats_report(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Stats__ReportChanged *m = msg;
    if (!m->report_id || !m->report_id[0])
        return 0;
    char key[S_KEY_MAX], district[NOTIFY_ACTOR_MAX], subject[64];
    const char *id = m->report_id;
    snprintf(subject, sizeof subject, "%s", s_s(m->quarter));
    if (strcmp(ev->type, "stats.report.submitted.v1") == 0) {
        int rc = notify_batch_settle(b, s_key(key, sizeof key, "stats/report/%s/correct", id));
        /* the operator's report due for the quarter is filed */
        if (rc == 0)
            rc = notify_batch_settle(b, s_key(key, sizeof key, "stats/roster/%s/%s/file",
                                              s_s(m->roster_id), s_s(m->quarter)));
        snprintf(district, sizeof district, "district:%s", s_s(m->district_code));
        return rc || !m->district_code || !m->district_code[0]
                   ? rc
                   : s_item(b, "quarterly_report_to_review", district, "report", id, subject,
                            m->roster_id, s_key(key, sizeof key, "stats/report/%s/review", id), 0);
    }
    /* approved by the district, accepted or returned: the district's review
     * is over; the center's acceptance waits only after the district's
     * approval, and ends with its acceptance or a return */
    int rc = notify_batch_settle(b, s_key(key, sizeof key, "stats/report/%s/review", id));
    if (rc == 0 && strcmp(ev->type, "stats.report.district_approved.v1") == 0)
        return s_item(b, "quarterly_report_to_accept", "role:staff", "report", id, subject,
                      m->district_code, s_key(key, sizeof key, "stats/report/%s/accept", id), 0);
    if (rc == 0)
        rc = notify_batch_settle(b, s_key(key, sizeof key, "stats/report/%s/accept", id));
    if (rc == 0 && strcmp(ev->type, "stats.report.returned.v1") == 0) {
        notify_item_spec s = {.kind = "quarterly_report_returned",
                              .via = NOTIFY_VIA_OPERATOR,
                              .via_id = m->roster_id,
                              .object_type = "report",
                              .object_id = id,
                              .subject = subject,
                              .detail = m->reason,
                              .close_key = s_key(key, sizeof key, "stats/report/%s/correct", id)};
        rc = notify_batch_item(b, &s);
    }
    return rc;
}

/* A quarter ended without the entry's report: due for its operator until
 * the report is submitted. */
static int s_report_due(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Stats__ReportDue *m = msg;
    char key[S_KEY_MAX], org[NOTIFY_ACTOR_MAX];
    return s_item(
        b, "quarterly_report_due", s_org(m->operator_uscc, org, sizeof org), "roster", m->roster_id,
        m->roster_name, m->quarter,
        s_key(key, sizeof key, "stats/roster/%s/%s/file", s_s(m->roster_id), s_s(m->quarter)),
        m->due_at_us);
}

/* Every expected report of a quarter accepted: the analysts' bulletin is
 * next, and its publication settles the item. */
static int s_quarter_completed(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Stats__QuarterCompleted *m = msg;
    char key[S_KEY_MAX], detail[32];
    snprintf(detail, sizeof detail, "%d", m->reports);
    return s_item(b, "quarter_complete", "role:analyst", "quarter", m->quarter, m->quarter, detail,
                  s_key(key, sizeof key, "stats/quarter/%s/release", s_s(m->quarter)), 0);
}

static int s_release(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Stats__ReleasePublished *m = msg;
    char key[S_KEY_MAX];
    return notify_batch_settle(b,
                               s_key(key, sizeof key, "stats/quarter/%s/release", s_s(m->quarter)));
}

/* ---- followup
 * ---------------------------------------------------------------------------------------- */

/* The addressee of a task's lead unit: "center" is the center's staff. */
static const char *s_lead(const char *lead, char *buf, size_t len)
{
    if (lead && strcmp(lead, "center") == 0)
        snprintf(buf, len, "role:staff");
    else
        snprintf(buf, len, "%s", s_s(lead));
    return buf;
}

static int s_task_changed(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Followup__TaskChanged *m = msg;
    const Ccip__Followup__Task *t = m->task;
    /* id is read once, before the calls below: the optimiser cannot tell
     * that they leave t->id alone, and a second read could be NULL to it. */
    const char *id = t ? t->id : NULL;
    if (!id || !id[0])
        return 0;
    const char *type = ev->type + strlen("followup.task.");
    char key[S_KEY_MAX], lead[NOTIFY_ACTOR_MAX];
    s_lead(t->lead_unit, lead, sizeof lead);
    int rc = s_title(b, "task", id, t->title);
    if (rc)
        return rc;
    if (strcmp(type, "created.v1") == 0)
        return s_item(b, "task_assigned", lead, "task", id, t->title, t->instruction,
                      s_key(key, sizeof key, "followup/task/%s/lead", id), t->deadline_at_us);
    if (strcmp(type, "returned.v1") == 0) {
        rc = notify_batch_settle(b, s_key(key, sizeof key, "followup/task/%s/accept", id));
        return rc ? rc
                  : s_item(b, "task_returned", lead, "task", id, t->title, m->note,
                           s_key(key, sizeof key, "followup/task/%s/lead", id), t->deadline_at_us);
    }
    if (strcmp(type, "extension_requested.v1") == 0)
        return s_item(b, "extension_requested", "role:office", "task", id, t->title,
                      m->extension ? m->extension->reason : "",
                      s_key(key, sizeof key, "followup/task/%s/extension", id), 0);
    if (strcmp(type, "extension_granted.v1") == 0 || strcmp(type, "extension_refused.v1") == 0) {
        char detail[2200];
        snprintf(detail, sizeof detail, "%s%s%s",
                 strcmp(type, "extension_granted.v1") == 0 ? "GRANTED" : "REFUSED",
                 m->extension && m->extension->decision_reason && m->extension->decision_reason[0]
                     ? ": "
                     : "",
                 m->extension ? s_s(m->extension->decision_reason) : "");
        rc = notify_batch_settle(b, s_key(key, sizeof key, "followup/task/%s/extension", id));
        return rc ? rc
                  : s_item(b, "extension_decided", lead, "task", id, t->title, detail, NULL,
                           t->deadline_at_us);
    }
    if (strcmp(type, "completion_reported.v1") == 0) {
        rc = notify_batch_settle(b, s_key(key, sizeof key, "followup/task/%s/lead", id));
        if (rc == 0)
            rc = notify_batch_settle(b, s_key(key, sizeof key, "followup/task/%s/escalation", id));
        return rc ? rc
                  : s_item(b, "task_report_back", "role:office", "task", id, t->title,
                           m->report ? m->report->text : "",
                           s_key(key, sizeof key, "followup/task/%s/accept", id), 0);
    }
    if (strcmp(type, "accepted.v1") == 0 || strcmp(type, "closed.v1") == 0) {
        static const char *const all[] = {"lead", "accept", "extension", "escalation"};
        for (size_t i = 0; rc == 0 && i < sizeof all / sizeof all[0]; i++)
            rc = notify_batch_settle(b, s_key(key, sizeof key, "followup/task/%s/%s", id, all[i]));
    }
    return rc;
}

static int s_task_escalated(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Followup__TaskEscalated *m = msg;
    if (!m->task || !m->escalation)
        return 0;
    char key[S_KEY_MAX];
    return s_item(b, "task_escalated", "role:office", "task", m->task->id, m->task->title,
                  m->escalation->summary,
                  s_key(key, sizeof key, "followup/task/%s/escalation", s_s(m->task->id)),
                  m->escalation->due_at_us);
}

static int s_project_reported(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Followup__ProjectReported *m = msg;
    if (!m->project || !m->report)
        return 0;
    char key[S_KEY_MAX];
    int rc = notify_batch_settle(b, s_key(key, sizeof key, "followup/project/%s/month/%s",
                                          s_s(m->project->id), s_s(m->report->month)));
    return rc ? rc
              : notify_batch_settle(b, s_key(key, sizeof key, "followup/project/%s/escalation",
                                             s_s(m->project->id)));
}

static int s_project_escalated(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Followup__ProjectEscalated *m = msg;
    const Ccip__Followup__Escalation *e = m->escalation;
    const Ccip__Followup__Project *p = m->project;
    if (!e || !p || !p->id || !p->id[0])
        return 0;
    char key[S_KEY_MAX], org[NOTIFY_ACTOR_MAX];
    int rc = s_item(b, "project_escalated", "role:office", "project", p->id, p->title, e->summary,
                    s_key(key, sizeof key, "followup/project/%s/escalation", p->id), e->due_at_us);
    if (rc == 0 && e->kind == CCIP__FOLLOWUP__ESCALATION_KIND__MONTHLY_REPORT_MISSING)
        rc = s_item(b, "monthly_report_missing", s_org(p->owner_uscc, org, sizeof org), "project",
                    p->id, p->title, e->month,
                    s_key(key, sizeof key, "followup/project/%s/month/%s", p->id, s_s(e->month)),
                    e->due_at_us);
    return rc;
}

static int s_project_closed(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Followup__Project *p = ((const Ccip__Followup__ProjectChanged *)msg)->project;
    char key[S_KEY_MAX];
    return p ? notify_batch_settle(
                   b, s_key(key, sizeof key, "followup/project/%s/escalation", s_s(p->id)))
             : 0;
}

/* ---- gateway
 * ------------------------------------------------------------------------------------------ */

static int s_account_created(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Gateway__AccountCreated *m = msg;
    if (!m->account_id || !m->account_id[0] || !m->login || !m->login[0])
        return 0;
    return notify_batch_account(b, m->account_id, m->login, m->name, m->email, m->mobile);
}

static int s_contact_changed(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Gateway__ContactChanged *m = msg;
    if (!m->account_id || !m->account_id[0])
        return 0;
    return notify_batch_account(b, m->account_id, NULL, m->name, m->email, m->mobile);
}

static int s_binding_changed(notify_batch *b, const Ccip__Envelope *ev, const void *msg)
{
    const Ccip__Gateway__BindingChanged *m = msg;
    const Ccip__Gateway__Binding *bd = m->binding;
    if (!bd || !bd->id || !bd->id[0] || !m->account_id || !m->account_id[0])
        return 0;
    char roles[256] = "";
    for (size_t i = 0; i < bd->n_roles; i++) {
        size_t n = strlen(roles);
        snprintf(roles + n, sizeof roles - n, "%s%s", n ? " " : "", s_s(bd->roles[i]));
    }
    const char *status = s_enum(&ccip__gateway__binding_status__descriptor, (int)bd->status, NULL);
    if (strcmp(status, "ACTIVE") != 0 && strcmp(status, "PENDING") != 0)
        status = "REVOKED";
    if (strcmp(ev->type, "gateway.account.binding_revoked.v1") == 0)
        status = "REVOKED";
    return notify_batch_binding(b, bd->id, m->account_id, bd->actor_id, roles, status);
}

/* ---- the table
 * ------------------------------------------------------------------------------------------- */

typedef struct {
    const char *type;
    const ProtobufCMessageDescriptor *message;
    s_map_fn map;
} s_source;

#define S_SOURCE(type, message, map) {type, &message, map},
static const s_source s_sources[] = {
    NOTIFY_EVENTS_INTAKE(S_SOURCE) NOTIFY_EVENTS_EVALUATION(S_SOURCE)
        NOTIFY_EVENTS_FUNDING(S_SOURCE) NOTIFY_EVENTS_IP(S_SOURCE) NOTIFY_EVENTS_STATS(S_SOURCE)
            NOTIFY_EVENTS_FOLLOWUP(S_SOURCE) NOTIFY_EVENTS_GATEWAY(S_SOURCE)};

int notify_events_map(notify_batch *b, const Ccip__Envelope *ev)
{
    const s_source *src = NULL;
    for (size_t i = 0; !src && i < CCIP_NELEMS(s_sources); i++)
        if (strcmp(s_sources[i].type, ev->type) == 0)
            src = &s_sources[i];
    if (!src)
        return 0;
    char err[200];
    ProtobufCMessage *m = ccip_payload_unpack(src->message, ev->payload.data, ev->payload.len,
                                              CCIP_OUTBOX_PAYLOAD_MAX, err, sizeof err);
    if (!m) {
        /* A producer's bug must not stop the inbox: the event is skipped,
         * once, with why. */
        char pos[24];
        ccip_log_warn("skipped an event notify cannot decode", "type", ev->type, "position",
                      ccip_i64_text((int64_t)ev->position, pos), "reason", err);
        return 0;
    }
    notify_batch_event(b, ev);
    int rc = src->map(b, ev, m);
    protobuf_c_message_free_unpacked(m, NULL);
    return rc;
}

int notify_events_apply(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    notify_batch *b = notify_batch_new(db, NOTIFY_BATCH_LIVE);
    if (!b)
        return -1; /* out of memory: the consumer tries the event again later */
    int rc = notify_events_map(b, ev);
    if (rc == 0)
        rc = notify_batch_flush(b);
    notify_batch_destroy(&b);
    return rc;
}
