#include "stats_projections.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip/evaluation.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip_arena.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "ccip_text.h"

#define EVENT_PAYLOAD_MAX  (1024 * 1024) /* = CCIP_OUTBOX_PAYLOAD_MAX */
#define REPLAY_BATCH       5000          /* events per replay request (the producer's cap) */
#define REPLAY_TIMEOUT_MS  10000         /* per replay request and attempt */
#define REPLAY_ATTEMPTS    3
#define PRODUCERS_MAX      8 /* producers a rebuild replays */
#define INDICATOR_ROWS_MAX 100000

/* ---- facts from events (pure) ---------------------------------------------------- */

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

/* Copies an id into a fact field; 0, or -1 when it is empty or too long. */
static int s_id(char *dst, size_t len, const char *id)
{
    if (!id || !id[0] || strlen(id) >= len)
        return -1;
    snprintf(dst, len, "%s", id);
    return 0;
}

static void s_when(stats_fact *f, int64_t at_us, const Ccip__Envelope *ev)
{
    f->at_us = at_us ? at_us : ev->occurred_at_us;
    stats_quarter_format(stats_quarter_of_us(f->at_us), f->quarter, sizeof f->quarter);
}

static ProtobufCMessage *s_payload(const Ccip__Envelope *ev, const ProtobufCMessageDescriptor *d,
                                   char *why, size_t whylen)
{
    char err[200];
    ProtobufCMessage *m = ccip_payload_unpack(d, ev->payload.data, ev->payload.len,
                                              EVENT_PAYLOAD_MAX, err, sizeof err);
    if (!m)
        snprintf(why, whylen, "could not decode %s as %s: %s", ev->type, d->name, err);
    return m;
}

static int s_intake(const Ccip__Envelope *ev, stats_fact *f, char *why, size_t whylen)
{
    int ok = 0;
    if (strcmp(ev->type, "intake.organisation.registered.v1") == 0) {
        Ccip__Intake__OrganisationRegistered *m = (Ccip__Intake__OrganisationRegistered *)s_payload(
            ev, &ccip__intake__organisation_registered__descriptor, why, whylen);
        if (!m)
            return 0;
        const Ccip__Intake__Organisation *o = m->organisation;
        f->kind = STATS_FACT_ORG;
        if (o && s_id(f->id, sizeof f->id, o->uscc) == 0) {
            const ccip_district *d = ccip_district_find(o->district_code);
            snprintf(f->district, sizeof f->district, "%s", d ? d->code : "");
            s_when(f, o->registered_at_us, ev);
            ok = 1;
        } else {
            snprintf(why, whylen, "%s carries no organisation code", ev->type);
        }
        protobuf_c_message_free_unpacked(&m->base, NULL);
    } else if (strcmp(ev->type, "intake.application.submitted.v1") == 0) {
        Ccip__Intake__ApplicationSubmitted *m = (Ccip__Intake__ApplicationSubmitted *)s_payload(
            ev, &ccip__intake__application_submitted__descriptor, why, whylen);
        if (!m)
            return 0;
        f->kind = STATS_FACT_SUBMITTED;
        const char *kind = stats_enum_name(&ccip__intake__call_kind__descriptor, (int)m->kind);
        if (s_id(f->id, sizeof f->id, m->application_id) == 0 &&
            s_id(f->ref, sizeof f->ref, m->applicant_uscc) == 0) {
            snprintf(f->type, sizeof f->type, "%s", kind ? kind : "");
            stats_uscc_district(m->applicant_uscc, f->ud);
            s_when(f, m->submitted_at_us, ev);
            ok = 1;
        } else {
            snprintf(why, whylen, "%s lacks its application id or applicant", ev->type);
        }
        protobuf_c_message_free_unpacked(&m->base, NULL);
    } else if (strcmp(ev->type, "intake.application.accepted.v1") == 0) {
        Ccip__Intake__ApplicationAccepted *m = (Ccip__Intake__ApplicationAccepted *)s_payload(
            ev, &ccip__intake__application_accepted__descriptor, why, whylen);
        if (!m)
            return 0;
        f->kind = STATS_FACT_ACCEPTED;
        const char *kind = stats_enum_name(&ccip__intake__call_kind__descriptor, (int)m->kind);
        const char *uscc = m->applicant ? m->applicant->uscc : "";
        if (s_id(f->id, sizeof f->id, m->application_id) == 0 &&
            s_id(f->ref, sizeof f->ref, uscc) == 0) {
            snprintf(f->type, sizeof f->type, "%s", kind ? kind : "");
            const ccip_district *d = ccip_district_find(m->district_code);
            snprintf(f->district, sizeof f->district, "%s", d ? d->code : "");
            stats_uscc_district(uscc, f->ud);
            s_when(f, m->accepted_at_us, ev);
            ok = 1;
        } else {
            snprintf(why, whylen, "%s lacks its application id or applicant", ev->type);
        }
        protobuf_c_message_free_unpacked(&m->base, NULL);
    }
    return ok;
}

static int s_evaluation(const Ccip__Envelope *ev, stats_fact *f, char *why, size_t whylen)
{
    if (strcmp(ev->type, "evaluation.decision.made.v1") != 0)
        return 0;
    Ccip__Evaluation__DecisionMade *m = (Ccip__Evaluation__DecisionMade *)s_payload(
        ev, &ccip__evaluation__decision_made__descriptor, why, whylen);
    if (!m)
        return 0;
    int ok = 0;
    f->kind = STATS_FACT_DECISION;
    const Ccip__Evaluation__Decision *d = m->decision;
    const char *kind = stats_enum_name(&ccip__intake__call_kind__descriptor, (int)m->kind);
    if (!d || s_id(f->id, sizeof f->id, m->application_id) < 0) {
        snprintf(why, whylen, "%s lacks its application id or decision", ev->type);
    } else if (d->outcome == CCIP__EVALUATION__OUTCOME__DECISION_APPROVED ||
               d->outcome == CCIP__EVALUATION__OUTCOME__DECISION_DECLINED) {
        snprintf(f->status, sizeof f->status, "%s",
                 d->outcome == CCIP__EVALUATION__OUTCOME__DECISION_APPROVED ? "APPROVED"
                                                                            : "DECLINED");
        snprintf(f->type, sizeof f->type, "%s", kind ? kind : "");
        snprintf(f->ref, sizeof f->ref, "%s", f->id);
        stats_uscc_district(m->applicant_uscc, f->ud);
        s_when(f, d->decided_at_us, ev);
        ok = 1;
    }
    /* A RETURNED decision is not final: no fact, no complaint. */
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return ok;
}

static int s_funding(const Ccip__Envelope *ev, stats_fact *f, char *why, size_t whylen)
{
    int ok = 0;
    if (strcmp(ev->type, "funding.award.granted.v1") == 0) {
        Ccip__Funding__AwardChanged *m = (Ccip__Funding__AwardChanged *)s_payload(
            ev, &ccip__funding__award_changed__descriptor, why, whylen);
        if (!m)
            return 0;
        f->kind = STATS_FACT_AWARD;
        const Ccip__Funding__Award *a = m->award;
        if (a && s_id(f->id, sizeof f->id, a->id) == 0 &&
            s_id(f->ref, sizeof f->ref, a->application_id) == 0 && a->amount_fen >= 0) {
            f->amount = a->amount_fen;
            stats_uscc_district(a->grantee_uscc, f->ud);
            s_when(f, a->confirmed_at_us, ev);
            ok = 1;
        } else {
            snprintf(why, whylen, "%s lacks its award, application or amount", ev->type);
        }
        protobuf_c_message_free_unpacked(&m->base, NULL);
    } else if (strcmp(ev->type, "funding.disbursement.paid.v1") == 0) {
        Ccip__Funding__DisbursementPaid *m = (Ccip__Funding__DisbursementPaid *)s_payload(
            ev, &ccip__funding__disbursement_paid__descriptor, why, whylen);
        if (!m)
            return 0;
        f->kind = STATS_FACT_PAYMENT;
        if (s_id(f->id, sizeof f->id, m->payment_id) == 0 &&
            s_id(f->ref, sizeof f->ref, m->application_id) == 0 && m->amount_fen >= 0) {
            f->amount = m->amount_fen;
            stats_uscc_district(m->grantee_uscc, f->ud);
            s_when(f, m->paid_at_us, ev);
            ok = 1;
        } else {
            snprintf(why, whylen, "%s lacks its payment, application or amount", ev->type);
        }
        protobuf_c_message_free_unpacked(&m->base, NULL);
    } else if (strcmp(ev->type, "funding.clawback.ordered.v1") == 0) {
        Ccip__Funding__ClawbackChanged *m = (Ccip__Funding__ClawbackChanged *)s_payload(
            ev, &ccip__funding__clawback_changed__descriptor, why, whylen);
        if (!m)
            return 0;
        f->kind = STATS_FACT_CLAWBACK;
        const Ccip__Funding__Clawback *c = m->clawback;
        if (c && s_id(f->id, sizeof f->id, c->id) == 0 &&
            s_id(f->ref, sizeof f->ref, m->application_id) == 0 && c->amount_fen >= 0) {
            f->amount = c->amount_fen;
            stats_uscc_district(m->grantee_uscc, f->ud);
            s_when(f, c->ordered_at_us, ev);
            ok = 1;
        } else {
            snprintf(why, whylen, "%s lacks its clawback, application or amount", ev->type);
        }
        protobuf_c_message_free_unpacked(&m->base, NULL);
    }
    return ok;
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

static int s_ip(const Ccip__Envelope *ev, stats_fact *f, char *why, size_t whylen)
{
    int ok = 0;
    if (strcmp(ev->type, "ip.work.registered.v1") == 0) {
        Ccip__Ip__WorkRegistered *m = (Ccip__Ip__WorkRegistered *)s_payload(
            ev, &ccip__ip__work_registered__descriptor, why, whylen);
        if (!m)
            return 0;
        f->kind = STATS_FACT_WORK;
        const char *kind = stats_enum_name(&ccip__ip__work_kind__descriptor, (int)m->kind);
        if (s_id(f->id, sizeof f->id, m->work_id) == 0) {
            snprintf(f->type, sizeof f->type, "%s", kind ? kind : "");
            s_owner_district(m->owners, m->n_owners, f->district);
            s_when(f, m->registered_at_us, ev);
            ok = 1;
        } else {
            snprintf(why, whylen, "%s lacks its work id", ev->type);
        }
        protobuf_c_message_free_unpacked(&m->base, NULL);
    } else if (strcmp(ev->type, "ip.trade.settled.v1") == 0) {
        Ccip__Ip__TradeSettled *m = (Ccip__Ip__TradeSettled *)s_payload(
            ev, &ccip__ip__trade_settled__descriptor, why, whylen);
        if (!m)
            return 0;
        f->kind = STATS_FACT_TRADE;
        const Ccip__Ip__Contract *c = m->contract;
        if (c && s_id(f->id, sizeof f->id, c->id) == 0 &&
            s_id(f->ref, sizeof f->ref, c->work_id) == 0 && c->price_fen >= 0) {
            const char *uscc = s_org_party(c->seller);
            if (uscc)
                stats_uscc_district(uscc, f->district);
            f->amount = c->price_fen;
            s_when(f, c->settled_at_us, ev);
            ok = 1;
        } else {
            snprintf(why, whylen, "%s lacks its contract, work or a price", ev->type);
        }
        protobuf_c_message_free_unpacked(&m->base, NULL);
    } else if (strcmp(ev->type, "ip.dispute.upheld.v1") == 0) {
        Ccip__Ip__DisputeRuled *m = (Ccip__Ip__DisputeRuled *)s_payload(
            ev, &ccip__ip__dispute_ruled__descriptor, why, whylen);
        if (!m)
            return 0;
        f->kind = STATS_FACT_DISPUTE;
        if (s_id(f->id, sizeof f->id, m->dispute_id) == 0 &&
            s_id(f->ref, sizeof f->ref, m->work_id) == 0) {
            s_owner_district(m->owners, m->n_owners, f->district);
            s_when(f, 0, ev);
            ok = 1;
        } else {
            snprintf(why, whylen, "%s lacks its dispute or work id", ev->type);
        }
        protobuf_c_message_free_unpacked(&m->base, NULL);
    }
    return ok;
}

int stats_fact_from_event(const Ccip__Envelope *ev, stats_fact *f, char *why, size_t whylen)
{
    memset(f, 0, sizeof *f);
    why[0] = '\0';
    f->position = ev->position;
    int ok = 0;
    if (strncmp(ev->type, "intake.", 7) == 0)
        ok = s_intake(ev, f, why, whylen);
    else if (strncmp(ev->type, "evaluation.", 11) == 0)
        ok = s_evaluation(ev, f, why, whylen);
    else if (strncmp(ev->type, "funding.", 8) == 0)
        ok = s_funding(ev, f, why, whylen);
    else if (strncmp(ev->type, "ip.", 3) == 0)
        ok = s_ip(ev, f, why, whylen);
    if (!ok)
        f->kind = STATS_FACT_NONE;
    return ok;
}

/* ---- applying facts ------------------------------------------------------------------ */

/* Each statement takes the facts of its kind as one JSON array, so that a
 * consumer applies one event and a rebuild thousands with the same SQL.
 * DISTINCT ON keeps the winning fact of a batch per key (a statement may
 * not update a row twice), and the ON CONFLICT condition the winning one
 * against the row: the same rule both times. */
#define FACTS(cols) "jsonb_to_recordset($1::jsonb) AS f(" cols ")"

/* Funds: one row per award, payment or clawback; the earliest wins. */
#define MONEY_FACT(table, key)                                                                           \
    "INSERT INTO " table " (" key ", application_id, uscc_district, amount_fen, at_us, quarter) "        \
    "SELECT DISTINCT ON (f.id) f.id, f.ref, f.ud, f.amount, f.at, f.quarter FROM " FACTS(                \
        "id text, ref text, ud text, amount bigint, at bigint, quarter text, position bigint") " "       \
                                                                                               "O"       \
                                                                                               "R"       \
                                                                                               "D"       \
                                                                                               "E"       \
                                                                                               "R"       \
                                                                                               " "       \
                                                                                               "B"       \
                                                                                               "Y"       \
                                                                                               " "       \
                                                                                               "f"       \
                                                                                               "."       \
                                                                                               "i"       \
                                                                                               "d"       \
                                                                                               ","       \
                                                                                               " "       \
                                                                                               "f"       \
                                                                                               "."       \
                                                                                               "a"       \
                                                                                               "t"       \
                                                                                               ","       \
                                                                                               " "       \
                                                                                               "f"       \
                                                                                               "."       \
                                                                                               "p"       \
                                                                                               "o"       \
                                                                                               "s"       \
                                                                                               "i"       \
                                                                                               "t"       \
                                                                                               "i"       \
                                                                                               "o"       \
                                                                                               "n"       \
                                                                                               " "       \
                                                                                               "O"       \
                                                                                               "N"       \
                                                                                               " "       \
                                                                                               "C"       \
                                                                                               "O"       \
                                                                                               "N"       \
                                                                                               "F"       \
                                                                                               "L"       \
                                                                                               "I"       \
                                                                                               "C"       \
                                                                                               "T"       \
                                                                                               " "       \
                                                                                               "(" key   \
                                                                                               ")"       \
                                                                                               " "       \
                                                                                               "D"       \
                                                                                               "O"       \
                                                                                               " "       \
                                                                                               "U"       \
                                                                                               "P"       \
                                                                                               "D"       \
                                                                                               "A"       \
                                                                                               "T"       \
                                                                                               "E"       \
                                                                                               " "       \
                                                                                               "S"       \
                                                                                               "E"       \
                                                                                               "T"       \
                                                                                               " "       \
                                                                                               "a"       \
                                                                                               "p"       \
                                                                                               "p"       \
                                                                                               "l"       \
                                                                                               "i"       \
                                                                                               "c"       \
                                                                                               "a"       \
                                                                                               "t"       \
                                                                                               "i"       \
                                                                                               "o"       \
                                                                                               "n"       \
                                                                                               "_"       \
                                                                                               "i"       \
                                                                                               "d"       \
                                                                                               " "       \
                                                                                               "="       \
                                                                                               " "       \
                                                                                               "E"       \
                                                                                               "X"       \
                                                                                               "C"       \
                                                                                               "L"       \
                                                                                               "U"       \
                                                                                               "D"       \
                                                                                               "E"       \
                                                                                               "D"       \
                                                                                               "."       \
                                                                                               "a"       \
                                                                                               "p"       \
                                                                                               "p"       \
                                                                                               "l"       \
                                                                                               "i"       \
                                                                                               "c"       \
                                                                                               "a"       \
                                                                                               "t"       \
                                                                                               "i"       \
                                                                                               "o"       \
                                                                                               "n"       \
                                                                                               "_"       \
                                                                                               "i"       \
                                                                                               "d"       \
                                                                                               ","       \
                                                                                               " "       \
                                                                                               "u"       \
                                                                                               "s"       \
                                                                                               "c"       \
                                                                                               "c"       \
                                                                                               "_"       \
                                                                                               "d"       \
                                                                                               "i"       \
                                                                                               "s"       \
                                                                                               "t"       \
                                                                                               "r"       \
                                                                                               "i"       \
                                                                                               "c"       \
                                                                                               "t"       \
                                                                                               " "       \
                                                                                               "="       \
                                                                                               " "       \
                                                                                               "E"       \
                                                                                               "X"       \
                                                                                               "C"       \
                                                                                               "L"       \
                                                                                               "U"       \
                                                                                               "D"       \
                                                                                               "E"       \
                                                                                               "D"       \
                                                                                               "."       \
                                                                                               "u"       \
                                                                                               "s"       \
                                                                                               "c"       \
                                                                                               "c"       \
                                                                                               "_"       \
                                                                                               "d"       \
                                                                                               "i"       \
                                                                                               "s"       \
                                                                                               "t"       \
                                                                                               "r"       \
                                                                                               "i"       \
                                                                                               "c"       \
                                                                                               "t"       \
                                                                                               ","       \
                                                                                               " "       \
                                                                                               "a"       \
                                                                                               "m"       \
                                                                                               "o"       \
                                                                                               "u"       \
                                                                                               "n"       \
                                                                                               "t"       \
                                                                                               "_"       \
                                                                                               "f"       \
                                                                                               "e"       \
                                                                                               "n"       \
                                                                                               " "       \
                                                                                               "="       \
                                                                                               " "       \
                                                                                               "E"       \
                                                                                               "X"       \
                                                                                               "C"       \
                                                                                               "L"       \
                                                                                               "U"       \
                                                                                               "D"       \
                                                                                               "E"       \
                                                                                               "D"       \
                                                                                               "."       \
                                                                                               "a"       \
                                                                                               "m"       \
                                                                                               "o"       \
                                                                                               "u"       \
                                                                                               "n"       \
                                                                                               "t"       \
                                                                                               "_"       \
                                                                                               "f"       \
                                                                                               "e"       \
                                                                                               "n"       \
                                                                                               ","       \
                                                                                               " "       \
                                                                                               "a"       \
                                                                                               "t"       \
                                                                                               "_"       \
                                                                                               "u"       \
                                                                                               "s"       \
                                                                                               " "       \
                                                                                               "="       \
                                                                                               " "       \
                                                                                               "E"       \
                                                                                               "X"       \
                                                                                               "C"       \
                                                                                               "L"       \
                                                                                               "U"       \
                                                                                               "D"       \
                                                                                               "E"       \
                                                                                               "D"       \
                                                                                               "."       \
                                                                                               "a"       \
                                                                                               "t"       \
                                                                                               "_"       \
                                                                                               "u"       \
                                                                                               "s"       \
                                                                                               ","       \
                                                                                               " "       \
                                                                                               "q"       \
                                                                                               "u"       \
                                                                                               "a"       \
                                                                                               "r"       \
                                                                                               "t"       \
                                                                                               "e"       \
                                                                                               "r"       \
                                                                                               " "       \
                                                                                               "="       \
                                                                                               " "       \
                                                                                               "E"       \
                                                                                               "X"       \
                                                                                               "C"       \
                                                                                               "L"       \
                                                                                               "U"       \
                                                                                               "D"       \
                                                                                               "E"       \
                                                                                               "D"       \
                                                                                               "."       \
                                                                                               "q"       \
                                                                                               "u"       \
                                                                                               "a"       \
                                                                                               "r"       \
                                                                                               "t"       \
                                                                                               "e"       \
                                                                                               "r"       \
                                                                                               " "       \
                                                                                               "W"       \
                                                                                               "H"       \
                                                                                               "E"       \
                                                                                               "R"       \
                                                                                               "E"       \
                                                                                               " " table \
                                                                                               "."       \
                                                                                               "a"       \
                                                                                               "t"       \
                                                                                               "_"       \
                                                                                               "u"       \
                                                                                               "s"       \
                                                                                               " "       \
                                                                                               ">"       \
                                                                                               " "       \
                                                                                               "E"       \
                                                                                               "X"       \
                                                                                               "C"       \
                                                                                               "L"       \
                                                                                               "U"       \
                                                                                               "D"       \
                                                                                               "E"       \
                                                                                               "D"       \
                                                                                               "."       \
                                                                                               "a"       \
                                                                                               "t"       \
                                                                                               "_"       \
                                                                                               "u"       \
                                                                                               "s"

static const ccip_db_stmt S_APPLY[STATS_FACT_KINDS] = {
    [STATS_FACT_ORG] =
        {"stats_fact_org",
         "INSERT INTO ev_org (uscc, district_code, position) "
         "SELECT DISTINCT ON (f.id) f.id, f.district, f.position "
         "FROM " FACTS(
             "id text, district text, position bigint") " "
                                                        "ORDER BY f.id, f.position DESC "
                                                        "ON CONFLICT (uscc) DO UPDATE SET "
                                                        "district_code = EXCLUDED.district_code, "
                                                        "position = EXCLUDED.position WHERE "
                                                        "ev_org.position < EXCLUDED.position"},
    [STATS_FACT_SUBMITTED] =
        {"stats_fact_submitted",
         "INSERT INTO ev_application (application_id, kind, applicant_uscc, uscc_district, "
         "submitted_at_us, submitted_quarter) "
         "SELECT DISTINCT ON (f.id) f.id, f.type, f.ref, f.ud, f.at, f.quarter "
         "FROM " FACTS("id text, type text, ref text, ud text, at bigint, quarter text, "
                       "position bigint") " ORDER BY f.id, f.at, f.position "
                                          "ON CONFLICT (application_id) DO UPDATE SET "
                                          "submitted_at_us = EXCLUDED.submitted_at_us, "
                                          "submitted_quarter = EXCLUDED.submitted_quarter "
                                          "WHERE ev_application.submitted_at_us IS NULL OR "
                                          "ev_application.submitted_at_us > "
                                          "EXCLUDED.submitted_at_us"},
    [STATS_FACT_ACCEPTED] =
        {"stats_fact_accepted",
         "INSERT INTO ev_application (application_id, kind, applicant_uscc, uscc_district, "
         "accepted_at_us, accepted_quarter, accepted_district) "
         "SELECT DISTINCT ON (f.id) f.id, f.type, f.ref, f.ud, f.at, f.quarter, f.district "
         "FROM " FACTS("id text, type text, ref text, ud text, district text, at bigint, "
                       "quarter text, position bigint") " ORDER BY f.id, f.at, f.position "
                                                        "ON CONFLICT (application_id) DO UPDATE "
                                                        "SET accepted_at_us = "
                                                        "EXCLUDED.accepted_at_us, "
                                                        "accepted_quarter = "
                                                        "EXCLUDED.accepted_quarter, "
                                                        "accepted_district = "
                                                        "EXCLUDED.accepted_district "
                                                        "WHERE ev_application.accepted_at_us IS "
                                                        "NULL OR ev_application.accepted_at_us > "
                                                        "EXCLUDED.accepted_at_us"},
    [STATS_FACT_DECISION] =
        {"stats_fact_decision",
         "INSERT INTO ev_decision (application_id, outcome, kind, uscc_district, "
         "decided_at_us, quarter) SELECT DISTINCT ON (f.id) f.id, f.status, "
         "f.type, f.ud, f.at, f.quarter FROM " FACTS(
             "id text, status text, type text, ud text, at bigint, "
             "quarter text, position bigint") " "
                                              "ORDER BY f.id, f.at, f.position ON CONFLICT "
                                              "(application_id) DO "
                                              "UPDATE SET outcome = EXCLUDED.outcome, kind = "
                                              "EXCLUDED.kind, "
                                              "uscc_district = EXCLUDED.uscc_district, "
                                              "decided_at_us = "
                                              "EXCLUDED.decided_at_us, quarter = EXCLUDED.quarter "
                                              "WHERE ev_decision.decided_at_us > "
                                              "EXCLUDED.decided_at_us"},
    [STATS_FACT_AWARD] = {"stats_fact_award", MONEY_FACT("ev_award", "award_id")},
    [STATS_FACT_PAYMENT] = {"stats_fact_payment", MONEY_FACT("ev_payment", "payment_id")},
    [STATS_FACT_CLAWBACK] = {"stats_fact_clawback", MONEY_FACT("ev_clawback", "clawback_id")},
    [STATS_FACT_WORK] =
        {"stats_fact_work",
         "INSERT INTO ev_work (work_id, kind, district_code, registered_at_us, "
         "quarter) SELECT DISTINCT ON (f.id) f.id, f.type, f.district, f.at, "
         "f.quarter FROM " FACTS(
             "id text, type text, district text, at bigint, "
             "quarter text, position bigint") " "
                                              "ORDER BY f.id, f.at, f.position ON CONFLICT "
                                              "(work_id) DO UPDATE SET "
                                              "kind = EXCLUDED.kind, district_code = "
                                              "EXCLUDED.district_code, "
                                              "registered_at_us = EXCLUDED.registered_at_us, "
                                              "quarter = "
                                              "EXCLUDED.quarter WHERE ev_work.registered_at_us > "
                                              "EXCLUDED.registered_at_us"},
    [STATS_FACT_TRADE] =
        {"stats_fact_trade",
         "INSERT INTO ev_trade (contract_id, work_id, district_code, price_fen, "
         "settled_at_us, quarter) SELECT DISTINCT ON (f.id) f.id, f.ref, "
         "f.district, f.amount, f.at, f.quarter FROM " FACTS(
             "id text, ref text, district text, amount bigint, at bigint, "
             "quarter text, position bigint") " "
                                              "ORDER BY f.id, f.at, f.position ON CONFLICT "
                                              "(contract_id) DO UPDATE "
                                              "SET work_id = EXCLUDED.work_id, district_code = "
                                              "EXCLUDED.district_code, price_fen = "
                                              "EXCLUDED.price_fen, settled_at_us "
                                              "= EXCLUDED.settled_at_us, quarter = "
                                              "EXCLUDED.quarter "
                                              "WHERE ev_trade.settled_at_us > "
                                              "EXCLUDED.settled_at_us"},
    [STATS_FACT_DISPUTE] =
        {"stats_fact_dispute",
         "INSERT INTO ev_dispute (dispute_id, work_id, district_code, "
         "upheld_at_us, quarter) SELECT DISTINCT ON (f.id) f.id, f.ref, "
         "f.district, f.at, f.quarter FROM " FACTS(
             "id text, ref text, district text, at bigint, quarter text, "
             "position bigint") " "
                                "ORDER BY f.id, f.at, f.position ON CONFLICT (dispute_id) DO "
                                "UPDATE "
                                "SET work_id = EXCLUDED.work_id, district_code = "
                                "EXCLUDED.district_code, upheld_at_us = EXCLUDED.upheld_at_us, "
                                "quarter = EXCLUDED.quarter WHERE ev_dispute.upheld_at_us > "
                                "EXCLUDED.upheld_at_us"},
};

/* A JSON string: quotes, backslashes and control characters escaped. */
static void s_json_str(ccip_text *b, const char *key, const char *s)
{
    ccip_text_puts(b, "\"");
    ccip_text_puts(b, key);
    ccip_text_puts(b, "\":\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            ccip_text_put(b, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            ccip_text_puts(b, esc);
        } else {
            ccip_text_put(b, (const char *)p, 1);
        }
    }
    ccip_text_puts(b, "\"");
}

static void s_json_fact(ccip_text *b, const stats_fact *f)
{
    char num[96];
    ccip_text_puts(b, "{");
    s_json_str(b, "id", f->id);
    ccip_text_puts(b, ",");
    s_json_str(b, "ref", f->ref);
    ccip_text_puts(b, ",");
    s_json_str(b, "type", f->type);
    ccip_text_puts(b, ",");
    s_json_str(b, "status", f->status);
    ccip_text_puts(b, ",");
    s_json_str(b, "district", f->district);
    ccip_text_puts(b, ",");
    s_json_str(b, "ud", f->ud);
    ccip_text_puts(b, ",");
    s_json_str(b, "quarter", f->quarter);
    snprintf(num, sizeof num,
             ",\"at\":%" PRId64 ",\"amount\":%" PRId64 ",\"position\":%" PRIu64 "}", f->at_us,
             f->amount, f->position);
    ccip_text_puts(b, num);
}

int stats_facts_apply(ccip_db *db, const stats_fact *facts, size_t n)
{
    int rc = 0;
    ccip_text b = CCIP_TEXT_INIT;
    for (int k = STATS_FACT_NONE + 1; rc == 0 && k < STATS_FACT_KINDS; k++) {
        b.len = 0;
        size_t count = 0;
        ccip_text_puts(&b, "[");
        for (size_t i = 0; i < n; i++) {
            if ((int)facts[i].kind != k)
                continue;
            if (count++)
                ccip_text_puts(&b, ",");
            s_json_fact(&b, &facts[i]);
        }
        ccip_text_puts(&b, "]");
        if (b.failed) {
            rc = CCIP_DB_ERROR;
            break;
        }
        if (count == 0)
            continue;
        const char *values[] = {b.p};
        rc = ccip_db_exec(db, &S_APPLY[k], 1, values, NULL, NULL, NULL);
    }
    ccip_text_release(&b);
    return rc;
}

/* ---- the consumers ---------------------------------------------------------------------- */

int stats_projection_apply_event(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    stats_fact f;
    char why[300];
    if (!stats_fact_from_event(ev, &f, why, sizeof why)) {
        if (why[0]) {
            char pos[24];
            snprintf(pos, sizeof pos, "%" PRIu64, ev->position);
            ccip_log_warn("skipped an event the projections cannot use", "type", ev->type,
                          "position", pos, "event", ev->id, "reason", why);
        }
        return 0;
    }
    return stats_facts_apply(db, &f, 1);
}

/* ---- reading ------------------------------------------------------------------------------- */

/* Applications with the district and kind their facts are counted under:
 * the district the accepted application names, else its organisation's,
 * else the one in its credit code. */
#define APPS                                                                                       \
    "apps AS (SELECT a.application_id, a.kind, a.submitted_quarter, a.accepted_quarter, "          \
    "coalesce(nullif(a.accepted_district, ''), o.district_code, nullif(a.uscc_district, ''), '') " \
    "AS district FROM ev_application a LEFT JOIN ev_org o ON o.uscc = a.applicant_uscc "           \
    "AND o.district_code <> '')"
/* The money of one fact table, under its application's district and kind. */
#define MONEY(table, indicator)                                                                    \
    " UNION ALL SELECT coalesce(p.district, nullif(t.uscc_district, ''), ''), "                    \
    "coalesce(p.kind, 'SPECIAL_FUND_PROJECT'), '" indicator "', sum(t.amount_fen) FROM " table     \
    " t LEFT JOIN apps p ON p.application_id = t.application_id WHERE t.quarter = $1 "             \
    "GROUP BY 1, 2"

static const ccip_db_stmt S_INDICATORS = {
    "stats_projection_indicators",
    "WITH " APPS ", decided AS (SELECT coalesce(p.district, nullif(d.uscc_district, ''), '') "
    "AS district, coalesce(p.kind, d.kind) AS kind, d.outcome FROM ev_decision d "
    "LEFT JOIN apps p ON p.application_id = d.application_id WHERE d.quarter = $1) "
    "SELECT district, kind, indicator, value::bigint FROM ("
    "SELECT district, kind, 'applications_submitted' AS indicator, count(*) AS value FROM apps "
    "WHERE submitted_quarter = $1 GROUP BY 1, 2 "
    "UNION ALL SELECT district, kind, 'applications_accepted', count(*) FROM apps "
    "WHERE accepted_quarter = $1 GROUP BY 1, 2 "
    "UNION ALL SELECT district, kind, 'applications_approved', count(*) FROM decided "
    "WHERE outcome = 'APPROVED' GROUP BY 1, 2 "
    "UNION ALL SELECT district, kind, 'applications_declined', count(*) FROM decided "
    "WHERE outcome = 'DECLINED' GROUP BY 1, 2 "
    "UNION ALL SELECT district, kind, 'approval_rate_bp', (count(*) FILTER (WHERE outcome = "
    "'APPROVED') * 10000 + count(*) / 2) / count(*) FROM decided GROUP BY 1, 2" MONEY(
        "ev_award", "awards_committed_fen") MONEY("ev_payment", "disbursed_fen")
        MONEY("ev_clawback", "clawed_back_fen") " "
                                                "UNION ALL SELECT district_code, kind, "
                                                "'ip_registrations', count(*) FROM ev_work "
                                                "WHERE quarter = $1 GROUP BY 1, 2 "
                                                "UNION ALL SELECT t.district_code, "
                                                "coalesce(w.kind, ''), 'ip_trades', count(*) "
                                                "FROM ev_trade t LEFT JOIN ev_work w ON w.work_id "
                                                "= t.work_id WHERE t.quarter = $1 "
                                                "GROUP BY 1, 2 "
                                                "UNION ALL SELECT t.district_code, "
                                                "coalesce(w.kind, ''), 'ip_trade_value_fen', "
                                                "sum(t.price_fen) FROM ev_trade t LEFT JOIN "
                                                "ev_work w ON w.work_id = t.work_id "
                                                "WHERE t.quarter = $1 GROUP BY 1, 2 "
                                                "UNION ALL SELECT d.district_code, "
                                                "coalesce(w.kind, ''), 'disputes_upheld', count(*) "
                                                "FROM ev_dispute d LEFT JOIN ev_work w ON "
                                                "w.work_id = d.work_id WHERE d.quarter = $1 "
                                                "GROUP BY 1, 2) x WHERE $2 = '' OR district = $2 "
                                                "ORDER BY district, kind, indicator"};

static const ccip_db_stmt S_CURSORS = {
    "stats_projection_cursors", "SELECT producer, position FROM consumer_cursor ORDER BY producer"};

/* Every row of every fact table, in a fixed order: equal checksums mean
 * equal tables. */
static const ccip_db_stmt S_CHECKSUM = {
    "stats_projection_checksum",
    "SELECT md5(coalesce(string_agg(r, E'\\n' ORDER BY r), '')), count(*) FROM ("
    "SELECT 'org' || t::text AS r FROM ev_org t "
    "UNION ALL SELECT 'application' || t::text FROM ev_application t "
    "UNION ALL SELECT 'work' || t::text FROM ev_work t "
    "UNION ALL SELECT 'trade' || t::text FROM ev_trade t "
    "UNION ALL SELECT 'dispute' || t::text FROM ev_dispute t "
    "UNION ALL SELECT 'decision' || t::text FROM ev_decision t "
    "UNION ALL SELECT 'award' || t::text FROM ev_award t "
    "UNION ALL SELECT 'payment' || t::text FROM ev_payment t "
    "UNION ALL SELECT 'clawback' || t::text FROM ev_clawback t) x"};

int stats_indicators_cmd(ccip_command *cmd)
{
    Ccip__Stats__EventIndicatorsRequest *rq = (Ccip__Stats__EventIndicatorsRequest *)stats_unpack(
        cmd, &ccip__stats__event_indicators_request__descriptor);
    if (!rq)
        return 0;
    stats_caller caller;
    stats_quarter q;
    char district[8];
    PGresult *res = NULL, *cur = NULL;
    ccip_arena *a = NULL;
    int rc = stats_caller_get(cmd, &caller);
    if (rc == 0)
        rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q);
    if (rc == 0)
        rc = stats_district_arg(cmd, "district", rq->district, district);
    const char *p[] = {rq->quarter, district};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_INDICATORS, 2, p, NULL, NULL, &res);
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_CURSORS, 0, NULL, NULL, NULL, &cur);
    if (rc != 0)
        goto out;
    a = ccip_arena_new();
    Ccip__Stats__EventIndicatorsReply reply = CCIP__STATS__EVENT_INDICATORS_REPLY__INIT;
    reply.quarter = rq->quarter;
    int n = PQntuples(res);
    reply.rows = ccip_arena_alloc(a, (size_t)n * sizeof *reply.rows);
    for (int r = 0; reply.rows && r < n && r < INDICATOR_ROWS_MAX; r++) {
        Ccip__Stats__EventIndicator *e = ccip_arena_alloc(a, sizeof *e);
        if (!e)
            break;
        *e = (Ccip__Stats__EventIndicator)CCIP__STATS__EVENT_INDICATOR__INIT;
        e->district_code = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
        e->kind = ccip_arena_strdup(a, PQgetvalue(res, r, 1));
        e->indicator = ccip_arena_strdup(a, PQgetvalue(res, r, 2));
        e->value = stats_cell_i64(res, r, 3);
        reply.rows[reply.n_rows++] = e;
    }
    n = PQntuples(cur);
    reply.cursors = ccip_arena_alloc(a, (size_t)n * sizeof *reply.cursors);
    for (int r = 0; reply.cursors && r < n; r++) {
        Ccip__Stats__ProducerCursor *c = ccip_arena_alloc(a, sizeof *c);
        if (!c)
            break;
        *c = (Ccip__Stats__ProducerCursor)CCIP__STATS__PRODUCER_CURSOR__INIT;
        c->producer = ccip_arena_strdup(a, PQgetvalue(cur, r, 0));
        c->position = (uint64_t)stats_cell_i64(cur, r, 1);
        reply.cursors[reply.n_cursors++] = c;
    }
    if (ccip_arena_failed(a))
        rc = stats_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    else
        rc = stats_reply(cmd, &reply.base);
out:
    PQclear(res);
    PQclear(cur);
    ccip_arena_destroy(&a);
    protobuf_c_message_free_unpacked(&rq->base, NULL);
    return STATS_RC(rc);
}

/* Writes the checksum and row count of the fact tables. */
static int s_checksum(ccip_db *db, char sum[40], uint64_t *rows)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_CHECKSUM, 0, NULL, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    snprintf(sum, 40, "%s", PQgetvalue(res, 0, 0));
    *rows = (uint64_t)stats_cell_i64(res, 0, 1);
    PQclear(res);
    return 0;
}

int stats_checksum_cmd(ccip_command *cmd)
{
    Ccip__Stats__ChecksumReply reply = CCIP__STATS__CHECKSUM_REPLY__INIT;
    char sum[40];
    int rc = s_checksum(cmd->db, sum, &reply.rows);
    if (rc != 0)
        return rc;
    reply.checksum = sum;
    return STATS_RC(stats_reply(cmd, &reply.base));
}

/* ---- rebuild --------------------------------------------------------------------------------- */

static const ccip_db_stmt S_LOCK_CURSORS = {
    "stats_projection_lock_cursors",
    "SELECT producer, position FROM consumer_cursor WHERE producer = ANY(string_to_array($1, ','))"
    " ORDER BY producer FOR UPDATE"};

/* The broker connection a rebuild asks the producers through. */
typedef struct {
    void *ctx;
    ccip_client *client;
    ccip_keypair keys;
    char server_key[CCIP_KEY_Z85_LEN + 1];
} s_link;

static int s_link_open(ccip_command *cmd, s_link *l)
{
    const stats_config *cfg = stats_cfg(cmd);
    char err[400];
    if (ccip_keypair_load(cfg->base.key_file, &l->keys, err, sizeof err) < 0 ||
        ccip_public_key_load(cfg->base.server_key_file, l->server_key, err, sizeof err) < 0)
        return stats_fail(cmd, CCIP__STATUS__INTERNAL, "could not load the service's keys: %s",
                          err);
    l->ctx = zmq_ctx_new();
    ccip_sock_opts so = {.keys = &l->keys,
                         .server_public = l->server_key,
                         .max_message_bytes = cfg->base.max_message_bytes};
    l->client = l->ctx
                    ? ccip_client_new(l->ctx, cfg->base.bus_command_endpoint, &so, err, sizeof err)
                    : NULL;
    if (!l->client)
        return stats_fail(cmd, CCIP__STATUS__UNAVAILABLE, "could not reach the bus: %s", err);
    return 0;
}

static void s_link_close(s_link *l)
{
    ccip_client_destroy(&l->client);
    if (l->ctx)
        zmq_ctx_term(l->ctx);
    l->ctx = NULL;
}

/* Replays `producer` from position 1 to `upto` into the (emptied) tables.
 * Returns 0, STATS_REPLIED or a ccip_db_rc. */
static int s_replay(ccip_command *cmd, s_link *l, const char *producer, uint64_t upto)
{
    stats_fact *facts = calloc(REPLAY_BATCH, sizeof *facts);
    if (!facts)
        return stats_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    int rc = 0;
    uint64_t next = 1;
    while (rc == 0 && next <= upto) {
        uint64_t want = upto - next + 1;
        Ccip__ReplayRequest rq = CCIP__REPLAY_REQUEST__INIT;
        rq.from_position = next;
        rq.max_events = (uint32_t)(want < REPLAY_BATCH ? want : REPLAY_BATCH);
        uint8_t buf[32];
        char id[CCIP_UUID_STRLEN + 1], err[400];
        ccip_uuid_v7(id);
        Ccip__Envelope env = CCIP__ENVELOPE__INIT;
        env.id = id;
        env.type = "ccip.replay.v1";
        env.source_service = "stats";
        env.payload.data = buf;
        env.payload.len = ccip__replay_request__pack(&rq, buf);
        Ccip__Envelope *reply = ccip_client_call(l->client, producer, &env, REPLAY_TIMEOUT_MS,
                                                 REPLAY_ATTEMPTS, err, sizeof err);
        if (!reply) {
            rc = stats_fail(cmd, CCIP__STATUS__UNAVAILABLE,
                            "could not replay %s from position %" PRIu64 ": %s; nothing was "
                            "changed",
                            producer, next, err);
            break;
        }
        if (reply->status != CCIP__STATUS__OK) {
            rc = stats_fail(cmd,
                            reply->status == CCIP__STATUS__FAILED_PRECONDITION
                                ? CCIP__STATUS__FAILED_PRECONDITION
                                : CCIP__STATUS__UNAVAILABLE,
                            "%s cannot replay from position %" PRIu64 ": %s: %s; a rebuild from "
                            "position zero is impossible, nothing was changed",
                            producer, next, ccip_status_name(reply->status), reply->error);
            ccip_envelope_free(&reply);
            break;
        }
        Ccip__ReplayReply *rr = (Ccip__ReplayReply *)ccip_payload_unpack(
            &ccip__replay_reply__descriptor, reply->payload.data, reply->payload.len,
            reply->payload.len + 1, err, sizeof err);
        ccip_envelope_free(&reply);
        if (!rr) {
            rc = stats_fail(cmd, CCIP__STATUS__INTERNAL,
                            "%s sent a replay reply stats cannot "
                            "decode: %s",
                            producer, err);
            break;
        }
        size_t nf = 0;
        for (size_t i = 0; i < rr->n_events && next <= upto; i++) {
            const Ccip__Envelope *ev = rr->events[i];
            if (ev->position != next) {
                rc = stats_fail(cmd, CCIP__STATUS__INTERNAL,
                                "%s replayed position %" PRIu64 " where %" PRIu64
                                " was expected; nothing was changed",
                                producer, ev->position, next);
                break;
            }
            char why[300];
            if (stats_fact_from_event(ev, &facts[nf], why, sizeof why))
                nf++;
            next++;
        }
        if (rc == 0 && rr->n_events == 0)
            rc = stats_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                            "%s's stream ends at position %" PRIu64 ", but stats applied it up to "
                            "%" PRIu64 "; nothing was changed",
                            producer, rr->head, upto);
        protobuf_c_message_free_unpacked(&rr->base, NULL);
        if (rc == 0 && nf)
            rc = stats_facts_apply(cmd->db, facts, nf);
    }
    free(facts);
    return rc;
}

int stats_rebuild_cmd(ccip_command *cmd)
{
    int64_t t0 = ccip_now_us();
    char producers[256] = "";
    for (size_t i = 0; i < stats_def.nsubscriptions && i < PRODUCERS_MAX; i++) {
        size_t n = strlen(producers);
        snprintf(producers + n, sizeof producers - n, "%s%s", i ? "," : "",
                 stats_def.subscriptions[i].producer);
    }
    Ccip__Stats__RebuildReply reply = CCIP__STATS__REBUILD_REPLY__INIT;
    Ccip__Stats__ProducerCursor cursors[PRODUCERS_MAX], *list[PRODUCERS_MAX];
    char names[PRODUCERS_MAX][32], before[40], after[40];
    uint64_t rows;
    s_link link = {0};
    PGresult *res = NULL;
    const char *p[] = {producers};
    /* The consumers wait on their cursor rows until this commits. */
    int rc = ccip_db_exec(cmd->db, &S_LOCK_CURSORS, 1, p, NULL, NULL, &res);
    if (rc == 0)
        rc = s_checksum(cmd->db, before, &rows);
    if (rc == 0)
        rc = ccip_db_command(cmd->db,
                             "TRUNCATE ev_org, ev_application, ev_work, ev_trade, ev_dispute, "
                             "ev_decision, ev_award, ev_payment, ev_clawback");
    for (int r = 0; rc == 0 && res && r < PQntuples(res) && r < PRODUCERS_MAX; r++) {
        uint64_t upto = (uint64_t)stats_cell_i64(res, r, 1);
        snprintf(names[r], sizeof names[r], "%s", PQgetvalue(res, r, 0));
        if (upto > 0 && !link.client)
            rc = s_link_open(cmd, &link);
        if (rc == 0 && upto > 0)
            rc = s_replay(cmd, &link, names[r], upto);
        cursors[r] = (Ccip__Stats__ProducerCursor)CCIP__STATS__PRODUCER_CURSOR__INIT;
        cursors[r].producer = names[r];
        cursors[r].position = upto;
        list[reply.n_replayed++] = &cursors[r];
    }
    s_link_close(&link);
    if (rc == 0)
        rc = s_checksum(cmd->db, after, &rows);
    if (rc == 0) {
        reply.replayed = list;
        reply.checksum_before = before;
        reply.checksum_after = after;
        reply.took_us = ccip_now_us() - t0;
        char took[24];
        snprintf(took, sizeof took, "%lld", (long long)reply.took_us);
        ccip_log_info("projections rebuilt", "before", before, "after", after, "took_us", took);
        rc = stats_reply(cmd, &reply.base);
    }
    PQclear(res);
    return STATS_RC(rc);
}
