/*
 * stats_facts: what one event of the other services contributes to the
 * event-derived indicators (stats_projections.h), decoded without a
 * database.
 *
 * The events used are listed once, below, per producer: each line names
 * the event type, its payload message, the kind of fact it gives and the
 * function of stats_facts.c that reads it. The list is expanded twice
 * (the "X macro" of libuv's UV_ERRNO_MAP): into stats_facts.c's table,
 * which stats_fact_from_event looks types up in, and into the consumer
 * handlers of stats.c's subscriptions, so a type added here is both read
 * and subscribed to:
 *
 *   #define S_HANDLER(type, message, kind, map) {type, stats_projections_apply_event},
 *   static const ccip_consumer_handler s_ip[] = {STATS_FACTS_IP(S_HANDLER)};
 *
 * Only stats_facts.c uses the message and map columns (the other
 * expansions never mention them, so they need not be declared there).
 */
#ifndef STATS_FACTS_H
#define STATS_FACTS_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/envelope.pb-c.h"

// clang-format off
#define STATS_FACTS_INTAKE(X)                                                                      \
    X("intake.organisation.registered.v1", ccip__intake__organisation_registered__descriptor,      \
      STATS_FACT_ORG, s_organisation_registered)                                                  \
    X("intake.organisation.updated.v1", ccip__intake__organisation_updated__descriptor,            \
      STATS_FACT_ORG, s_organisation_updated)                                                     \
    X("intake.application.submitted.v1", ccip__intake__application_submitted__descriptor,          \
      STATS_FACT_SUBMITTED, s_application_submitted)                                               \
    X("intake.application.accepted.v1", ccip__intake__application_accepted__descriptor,            \
      STATS_FACT_ACCEPTED, s_application_accepted)
#define STATS_FACTS_EVALUATION(X)                                                                  \
    X("evaluation.decision.made.v1", ccip__evaluation__decision_made__descriptor,                  \
      STATS_FACT_DECISION, s_decision_made)
#define STATS_FACTS_FUNDING(X)                                                                     \
    X("funding.award.granted.v1", ccip__funding__award_changed__descriptor,                        \
      STATS_FACT_AWARD, s_award_granted)                                                           \
    X("funding.disbursement.paid.v1", ccip__funding__disbursement_paid__descriptor,                \
      STATS_FACT_PAYMENT, s_disbursement_paid)                                                     \
    X("funding.clawback.ordered.v1", ccip__funding__clawback_changed__descriptor,                  \
      STATS_FACT_CLAWBACK, s_clawback_ordered)
#define STATS_FACTS_IP(X)                                                                          \
    X("ip.work.registered.v1", ccip__ip__work_registered__descriptor,                              \
      STATS_FACT_WORK, s_work_registered)                                                          \
    X("ip.trade.settled.v1", ccip__ip__trade_settled__descriptor,                                  \
      STATS_FACT_TRADE, s_trade_settled)                                                           \
    X("ip.dispute.upheld.v1", ccip__ip__dispute_ruled__descriptor,                                 \
      STATS_FACT_DISPUTE, s_dispute_upheld)
// clang-format on

/* What one event contributes. */
typedef enum {
    STATS_FACT_NONE = 0,
    STATS_FACT_ORG,       /* an organisation's district, type, name, registration time */
    STATS_FACT_SUBMITTED, /* an application submitted */
    STATS_FACT_ACCEPTED,  /* an application accepted */
    STATS_FACT_WORK,      /* a work registered */
    STATS_FACT_TRADE,     /* a trade settled */
    STATS_FACT_DISPUTE,   /* a dispute upheld */
    STATS_FACT_DECISION,  /* a final decision on an application */
    STATS_FACT_AWARD,     /* an award committed */
    STATS_FACT_PAYMENT,   /* a tranche paid */
    STATS_FACT_CLAWBACK,  /* a clawback ordered */
    STATS_FACT_KINDS,     /* number of kinds */
} stats_fact_kind;

/* One fact, as decoded from one event. */
typedef struct {
    stats_fact_kind kind;
    char id[72];       /* the aggregate: USCC, application, work, contract or dispute id */
    char ref[72];      /* applications: applicant USCC; trades and disputes: the work id;
                          decisions and funds: the application id */
    char type[40];     /* call kind, work kind or organisation type */
    char status[16];   /* decisions: APPROVED or DECLINED */
    char district[8];  /* the fact's district ("" when the event does not tell) */
    char ud[8];        /* the district in the applicant's or grantee's credit code */
    char quarter[8];   /* quarter of `at_us`, Beijing time */
    int64_t at_us;     /* when it happened (the envelope's time when the payload has none) */
    int64_t amount;    /* trades: price in fen; funds: amount in fen */
    uint64_t position; /* the event's position in its producer's stream */
    char name[801];    /* organisations: the name (surveys list their targets by it) */
} stats_fact;

/* Decodes ev into *f (*f is cleared first). Returns 1 when the event feeds
 * a projection; 0 when it does not: *why is "" for a type not listed above
 * (or a decision that is not final), else it says what is wrong with the
 * event, for a warning (the event is then skipped). why must hold at least
 * one byte. */
int stats_fact_from_event(const Ccip__Envelope *ev, stats_fact *f, char *why, size_t whylen);

/* The Beijing district whose code is characters 3-8 of a unified social
 * credit code, or "" (not a Beijing district, not a code, or NULL). */
void stats_uscc_district(const char *uscc, char out[8]);

#endif
