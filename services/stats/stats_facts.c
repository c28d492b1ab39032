#include "stats_facts.h"

#include <stdio.h>
#include <string.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_outbox.h"
#include "ccip_validate.h"
#include "stats.h"
#include "stats_quarter.h"

/* ---- pieces of a fact ------------------------------------------------------------ */

void stats_uscc_district(const char *uscc, char out[8])
{
    out[0] = '\0';
    if (!uscc || strlen(uscc) != CCIP_USCC_LEN)
        return;
    char code[7];
    memcpy(code, uscc + 2, 6);
    code[6] = '\0';
    const ccip_district *d = ccip_district_find(code);
    if (d && strcmp(d->code, code) == 0)
        snprintf(out, 8, "%s", d->code);
}

/* The USCC of an "org:<USCC>" party, or NULL. */
static const char *s_org_party(const char *party)
{
    size_t plen = strlen(STATS_ORG_PREFIX);
    if (party && strncmp(party, STATS_ORG_PREFIX, plen) == 0 &&
        ccip_uscc_check(party + plen, NULL, 0) == 0)
        return party + plen;
    return NULL;
}

/* The district of the first organisation among owners, or "". */
static void s_owner_district(Ccip__Ip__Owner *const *owners, size_t n, char out[8])
{
    out[0] = '\0';
    for (size_t i = 0; i < n && !out[0]; i++) {
        const char *uscc = owners[i] ? s_org_party(owners[i]->party) : NULL;
        if (uscc)
            stats_uscc_district(uscc, out);
    }
}

/* The code of a Beijing district given by code or name, or "". */
static void s_district(const char *given, char out[8])
{
    const ccip_district *d = ccip_district_find(given);
    snprintf(out, 8, "%s", d ? d->code : "");
}

/* The name of a call kind (intake) or work kind (ip) as stored, or "". */
static void s_kind_name(const ProtobufCEnumDescriptor *desc, int value, char out[40])
{
    const char *name = ccip_enum_name(desc, value);
    snprintf(out, 40, "%s", name ? name : "");
}

/* Copies an id into a fact field; 0, or -1 when it is empty or too long. */
static int s_id(char *dst, size_t len, const char *id)
{
    if (!id || !id[0] || strlen(id) >= len)
        return -1;
    snprintf(dst, len, "%s", id);
    return 0;
}

/* Sets when the fact happened: at_us, or the event's time when 0. */
static void s_when(stats_fact *f, int64_t at_us, const Ccip__Envelope *ev)
{
    f->at_us = at_us ? at_us : ev->occurred_at_us;
    stats_quarter_format(stats_quarter_of_us(f->at_us), f->quarter, sizeof f->quarter);
}

/* Says why ev gives no fact ("<type> <lacks>"); returns 0, no fact. */
static int s_unusable(const Ccip__Envelope *ev, const char *lacks, char *why, size_t whylen)
{
    snprintf(why, whylen, "%s %s", ev->type, lacks);
    return 0;
}

/* ---- one function per event type (the mapping column of stats_facts.h) ----------
 * Each reads the decoded payload `msg` into f (kind and position are set
 * already) and returns 1, or 0 with *why set by s_unusable. */

/* An organisation as it stands: district, type, name, registration time
 * (intake's, never the time stats learns of it: surveys take their
 * targets as of their opening by it). */
static int s_organisation(const Ccip__Envelope *ev, const Ccip__Intake__Organisation *o,
                          stats_fact *f, char *why, size_t whylen)
{
    if (!o || s_id(f->id, sizeof f->id, o->uscc) < 0)
        return s_unusable(ev, "carries no organisation code", why, whylen);
    s_district(o->district_code, f->district);
    s_kind_name(&ccip__intake__organisation_type__descriptor, (int)o->type, f->type);
    snprintf(f->name, sizeof f->name, "%s", o->name ? o->name : "");
    s_when(f, o->registered_at_us, ev);
    return 1;
}

static int s_organisation_registered(const Ccip__Envelope *ev, const void *msg, stats_fact *f,
                                     char *why, size_t whylen)
{
    return s_organisation(ev, ((const Ccip__Intake__OrganisationRegistered *)msg)->organisation, f,
                          why, whylen);
}

static int s_organisation_updated(const Ccip__Envelope *ev, const void *msg, stats_fact *f,
                                  char *why, size_t whylen)
{
    return s_organisation(ev, ((const Ccip__Intake__OrganisationUpdated *)msg)->organisation, f,
                          why, whylen);
}

static int s_application_submitted(const Ccip__Envelope *ev, const void *msg, stats_fact *f,
                                   char *why, size_t whylen)
{
    const Ccip__Intake__ApplicationSubmitted *m = msg;
    if (s_id(f->id, sizeof f->id, m->application_id) < 0 ||
        s_id(f->ref, sizeof f->ref, m->applicant_uscc) < 0)
        return s_unusable(ev, "lacks its application id or applicant", why, whylen);
    s_kind_name(&ccip__intake__call_kind__descriptor, (int)m->kind, f->type);
    stats_uscc_district(m->applicant_uscc, f->ud);
    s_when(f, m->submitted_at_us, ev);
    return 1;
}

static int s_application_accepted(const Ccip__Envelope *ev, const void *msg, stats_fact *f,
                                  char *why, size_t whylen)
{
    const Ccip__Intake__ApplicationAccepted *m = msg;
    const char *uscc = m->applicant ? m->applicant->uscc : "";
    if (s_id(f->id, sizeof f->id, m->application_id) < 0 || s_id(f->ref, sizeof f->ref, uscc) < 0)
        return s_unusable(ev, "lacks its application id or applicant", why, whylen);
    s_kind_name(&ccip__intake__call_kind__descriptor, (int)m->kind, f->type);
    s_district(m->district_code, f->district);
    stats_uscc_district(uscc, f->ud);
    s_when(f, m->accepted_at_us, ev);
    return 1;
}

static int s_decision_made(const Ccip__Envelope *ev, const void *msg, stats_fact *f, char *why,
                           size_t whylen)
{
    const Ccip__Evaluation__DecisionMade *m = msg;
    const Ccip__Evaluation__Decision *d = m->decision;
    if (!d || s_id(f->id, sizeof f->id, m->application_id) < 0)
        return s_unusable(ev, "lacks its application id or decision", why, whylen);
    int approved = d->outcome == CCIP__EVALUATION__OUTCOME__DECISION_APPROVED;
    /* A RETURNED decision is not final: no fact, no complaint. */
    if (!approved && d->outcome != CCIP__EVALUATION__OUTCOME__DECISION_DECLINED)
        return 0;
    snprintf(f->status, sizeof f->status, "%s", approved ? "APPROVED" : "DECLINED");
    s_kind_name(&ccip__intake__call_kind__descriptor, (int)m->kind, f->type);
    snprintf(f->ref, sizeof f->ref, "%s", f->id);
    stats_uscc_district(m->applicant_uscc, f->ud);
    s_when(f, d->decided_at_us, ev);
    return 1;
}

/* Funds: an award, payment or clawback (`what`) of an application. */
static int s_funds(const Ccip__Envelope *ev, const char *what, const char *id,
                   const char *application_id, int64_t amount_fen, const char *grantee_uscc,
                   int64_t at_us, stats_fact *f, char *why, size_t whylen)
{
    if (s_id(f->id, sizeof f->id, id) < 0 || s_id(f->ref, sizeof f->ref, application_id) < 0 ||
        amount_fen < 0) {
        char lacks[80];
        snprintf(lacks, sizeof lacks, "lacks its %s, application or amount", what);
        return s_unusable(ev, lacks, why, whylen);
    }
    f->amount = amount_fen;
    stats_uscc_district(grantee_uscc, f->ud);
    s_when(f, at_us, ev);
    return 1;
}

/* What a payload without its award or clawback reads as: no id, so
 * s_funds says what is missing. */
static const Ccip__Funding__Award s_no_award = CCIP__FUNDING__AWARD__INIT;
static const Ccip__Funding__Clawback s_no_clawback = CCIP__FUNDING__CLAWBACK__INIT;

static int s_award_granted(const Ccip__Envelope *ev, const void *msg, stats_fact *f, char *why,
                           size_t whylen)
{
    const Ccip__Funding__Award *award = ((const Ccip__Funding__AwardChanged *)msg)->award;
    const Ccip__Funding__Award *a = award ? award : &s_no_award;
    return s_funds(ev, "award", a->id, a->application_id, a->amount_fen, a->grantee_uscc,
                   a->confirmed_at_us, f, why, whylen);
}

static int s_disbursement_paid(const Ccip__Envelope *ev, const void *msg, stats_fact *f, char *why,
                               size_t whylen)
{
    const Ccip__Funding__DisbursementPaid *m = msg;
    return s_funds(ev, "payment", m->payment_id, m->application_id, m->amount_fen, m->grantee_uscc,
                   m->paid_at_us, f, why, whylen);
}

static int s_clawback_ordered(const Ccip__Envelope *ev, const void *msg, stats_fact *f, char *why,
                              size_t whylen)
{
    const Ccip__Funding__ClawbackChanged *m = msg;
    const Ccip__Funding__Clawback *c = m->clawback ? m->clawback : &s_no_clawback;
    return s_funds(ev, "clawback", c->id, m->application_id, c->amount_fen, m->grantee_uscc,
                   c->ordered_at_us, f, why, whylen);
}

static int s_work_registered(const Ccip__Envelope *ev, const void *msg, stats_fact *f, char *why,
                             size_t whylen)
{
    const Ccip__Ip__WorkRegistered *m = msg;
    if (s_id(f->id, sizeof f->id, m->work_id) < 0)
        return s_unusable(ev, "lacks its work id", why, whylen);
    s_kind_name(&ccip__ip__work_kind__descriptor, (int)m->kind, f->type);
    s_owner_district(m->owners, m->n_owners, f->district);
    s_when(f, m->registered_at_us, ev);
    return 1;
}

static int s_trade_settled(const Ccip__Envelope *ev, const void *msg, stats_fact *f, char *why,
                           size_t whylen)
{
    const Ccip__Ip__Contract *c = ((const Ccip__Ip__TradeSettled *)msg)->contract;
    if (!c || s_id(f->id, sizeof f->id, c->id) < 0 || s_id(f->ref, sizeof f->ref, c->work_id) < 0 ||
        c->price_fen < 0)
        return s_unusable(ev, "lacks its contract, work or a price", why, whylen);
    const char *uscc = s_org_party(c->seller);
    if (uscc)
        stats_uscc_district(uscc, f->district);
    f->amount = c->price_fen;
    s_when(f, c->settled_at_us, ev);
    return 1;
}

static int s_dispute_upheld(const Ccip__Envelope *ev, const void *msg, stats_fact *f, char *why,
                            size_t whylen)
{
    const Ccip__Ip__DisputeRuled *m = msg;
    if (s_id(f->id, sizeof f->id, m->dispute_id) < 0 || s_id(f->ref, sizeof f->ref, m->work_id) < 0)
        return s_unusable(ev, "lacks its dispute or work id", why, whylen);
    s_owner_district(m->owners, m->n_owners, f->district);
    s_when(f, 0, ev); /* the ruling carries no time of its own */
    return 1;
}

/* ---- the table ------------------------------------------------------------------- */

/* One event type the projections read. */
typedef struct {
    const char *type;                          /* e.g. "ip.trade.settled.v1" */
    const ProtobufCMessageDescriptor *message; /* its payload */
    stats_fact_kind kind;                      /* the fact it gives */
    int (*map)(const Ccip__Envelope *ev, const void *msg, stats_fact *f, char *why,
               size_t whylen); /* reads the payload into the fact */
} s_source;

#define S_SOURCE(type, message, kind, map) {type, &message, kind, map},
static const s_source s_sources[] = {STATS_FACTS_INTAKE(S_SOURCE) STATS_FACTS_EVALUATION(S_SOURCE)
                                         STATS_FACTS_FUNDING(S_SOURCE) STATS_FACTS_IP(S_SOURCE)};

int stats_fact_from_event(const Ccip__Envelope *ev, stats_fact *f, char *why, size_t whylen)
{
    memset(f, 0, sizeof *f);
    why[0] = '\0';
    f->position = ev->position;
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
        snprintf(why, whylen, "could not decode %s as %s: %s", ev->type, src->message->name, err);
        return 0;
    }
    f->kind = src->kind;
    int ok = src->map(ev, m, f, why, whylen);
    protobuf_c_message_free_unpacked(m, NULL);
    if (!ok)
        f->kind = STATS_FACT_NONE;
    return ok;
}
