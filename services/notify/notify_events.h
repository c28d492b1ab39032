/*
 * notify_events: the events notify consumes, and what each one makes
 * (items, settlements, facts about who is who) on a notify_batch.
 *
 * The events are listed once, below, per producer: the event type, its
 * payload message and the function of notify_events.c that reads it. The
 * list is expanded twice (as stats_facts.h does): into the table that
 * notify_events_map looks types up in, and into the consumer handlers of
 * notify.c's subscriptions, so a type added here is both read and
 * subscribed to.
 *
 * Close keys, "<service>/<object>/<id>/<what waits>", tie an item to the
 * events that settle it; one event may settle several.
 *
 * An expert's or agency's task is one item per event of it (assigned, a
 * reminder, overdue), all closed by its evaluation.task.ended.v1: the
 * review submitted, the report filed, the task declined or reassigned.
 *
 * The office's "decision waiting" opens with evaluation.case.submitted.v1
 * and closes with the case's evaluation.decision.made.v1 (any outcome);
 * finance's "second approval" opens with funding.payment.approved.v1 and
 * closes when the payment is paid or cancelled; staff's "inspection due"
 * opens with funding.inspection.scheduled.v1 (due on its date) and closes
 * with its funding.inspection.recorded.v1; a district's approval of a
 * quarterly report (stats.report.district_approved.v1) closes the
 * district's review and opens the center's acceptance; analysts hear of a
 * quarter complete (stats.quarter.completed.v1) until its bulletin is
 * published (stats.release.published.v1 of the quarter).
 *
 * An operator hears that a quarterly report is due from
 * stats.report.due.v1 (stats' scheduled sweep, once per entry and quarter)
 * until its first stats.report.submitted.v1 for that quarter.
 *
 * A grantee hears that a use-of-funds report is due from the award's
 * signing, for each kind of report (INTERIM, FINAL) one of its tranches
 * waits for, until a report of that kind is accepted or the award is
 * terminated (funding keeps no reporting calendar: no date of its own).
 */
#ifndef NOTIFY_EVENTS_H
#define NOTIFY_EVENTS_H

#include "ccip/envelope.pb-c.h"
#include "ccip_db.h"
#include "notify_batch.h"

// clang-format off
#define NOTIFY_EVENTS_INTAKE(X)                                                                    \
    X("intake.organisation.registered.v1", ccip__intake__organisation_registered__descriptor,      \
      s_org_registered)                                                                            \
    X("intake.organisation.updated.v1", ccip__intake__organisation_updated__descriptor,            \
      s_org_updated)                                                                               \
    X("intake.organisation.verified.v1", ccip__intake__organisation_verified__descriptor,          \
      s_org_verified)                                                                              \
    X("intake.application.submitted.v1", ccip__intake__application_submitted__descriptor,          \
      s_app_submitted)                                                                             \
    X("intake.application.accepted.v1", ccip__intake__application_accepted__descriptor,            \
      s_app_accepted)                                                                              \
    X("intake.application.returned.v1", ccip__intake__application_transitioned__descriptor,        \
      s_app_transitioned)                                                                          \
    X("intake.application.rejected.v1", ccip__intake__application_transitioned__descriptor,        \
      s_app_transitioned)                                                                          \
    X("intake.application.withdrawn.v1", ccip__intake__application_transitioned__descriptor,       \
      s_app_transitioned)
#define NOTIFY_EVENTS_EVALUATION(X)                                                                \
    X("evaluation.case.opened.v1", ccip__evaluation__case_opened__descriptor, s_case_opened)       \
    X("evaluation.investigation.scheduled.v1",                                                     \
      ccip__evaluation__investigation_scheduled__descriptor, s_investigation_scheduled)            \
    X("evaluation.review.started.v1", ccip__evaluation__review_started__descriptor,                \
      s_review_started)                                                                            \
    X("evaluation.case.submitted.v1", ccip__evaluation__case_submitted__descriptor,                \
      s_case_submitted)                                                                            \
    X("evaluation.decision.made.v1", ccip__evaluation__decision_made__descriptor, s_decision)      \
    X("evaluation.task.assigned.v1", ccip__evaluation__task_notice__descriptor, s_task_assigned)   \
    X("evaluation.task.ended.v1", ccip__evaluation__task_notice__descriptor, s_task_ended)         \
    X("evaluation.task.reminder.v1", ccip__evaluation__task_notice__descriptor, s_task_notice)     \
    X("evaluation.task.overdue.v1", ccip__evaluation__task_notice__descriptor, s_task_notice)
#define NOTIFY_EVENTS_FUNDING(X)                                                                   \
    X("funding.award.proposed.v1", ccip__funding__award_changed__descriptor, s_award)              \
    X("funding.award.granted.v1", ccip__funding__award_changed__descriptor, s_award)               \
    X("funding.award.rejected.v1", ccip__funding__award_changed__descriptor, s_award)              \
    X("funding.award.signed.v1", ccip__funding__award_changed__descriptor, s_award)                \
    X("funding.award.suspended.v1", ccip__funding__award_changed__descriptor, s_award)             \
    X("funding.award.terminated.v1", ccip__funding__award_changed__descriptor, s_award)            \
    X("funding.payment.approved.v1", ccip__funding__payment_changed__descriptor, s_payment)        \
    X("funding.payment.cancelled.v1", ccip__funding__payment_changed__descriptor, s_payment)       \
    X("funding.disbursement.paid.v1", ccip__funding__disbursement_paid__descriptor, s_paid)        \
    X("funding.report.submitted.v1", ccip__funding__use_report_changed__descriptor, s_use_report)  \
    X("funding.report.accepted.v1", ccip__funding__use_report_changed__descriptor, s_use_report)   \
    X("funding.report.returned.v1", ccip__funding__use_report_changed__descriptor, s_use_report)   \
    X("funding.inspection.scheduled.v1", ccip__funding__inspection_scheduled__descriptor,          \
      s_inspection_scheduled)                                                                      \
    X("funding.inspection.recorded.v1", ccip__funding__inspection_recorded__descriptor,            \
      s_inspection)
#define NOTIFY_EVENTS_IP(X)                                                                        \
    X("ip.work.registered.v1", ccip__ip__work_registered__descriptor, s_work_registered)           \
    X("ip.trade.settled.v1", ccip__ip__trade_settled__descriptor, s_trade_settled)                 \
    X("ip.dispute.filed.v1", ccip__ip__dispute_filed__descriptor, s_dispute_filed)                 \
    X("ip.dispute.answered.v1", ccip__ip__dispute_answered__descriptor, s_dispute_answered)        \
    X("ip.dispute.upheld.v1", ccip__ip__dispute_ruled__descriptor, s_dispute_ruled)                \
    X("ip.dispute.dismissed.v1", ccip__ip__dispute_ruled__descriptor, s_dispute_ruled)
#define NOTIFY_EVENTS_STATS(X)                                                                     \
    X("stats.roster.changed.v1", ccip__stats__roster_changed__descriptor, s_roster_changed)        \
    X("stats.report.due.v1", ccip__stats__report_due__descriptor, s_report_due)                    \
    X("stats.report.submitted.v1", ccip__stats__report_changed__descriptor, s_stats_report)        \
    X("stats.report.district_approved.v1", ccip__stats__report_changed__descriptor,                \
      s_stats_report)                                                                              \
    X("stats.report.accepted.v1", ccip__stats__report_changed__descriptor, s_stats_report)         \
    X("stats.report.returned.v1", ccip__stats__report_changed__descriptor, s_stats_report)         \
    X("stats.quarter.completed.v1", ccip__stats__quarter_completed__descriptor,                    \
      s_quarter_completed)                                                                         \
    X("stats.release.published.v1", ccip__stats__release_published__descriptor, s_release)
#define NOTIFY_EVENTS_FOLLOWUP(X)                                                                  \
    X("followup.task.created.v1", ccip__followup__task_changed__descriptor, s_task_changed)        \
    X("followup.task.acknowledged.v1", ccip__followup__task_changed__descriptor, s_task_changed)   \
    X("followup.task.extension_requested.v1", ccip__followup__task_changed__descriptor,            \
      s_task_changed)                                                                              \
    X("followup.task.extension_granted.v1", ccip__followup__task_changed__descriptor,              \
      s_task_changed)                                                                              \
    X("followup.task.extension_refused.v1", ccip__followup__task_changed__descriptor,              \
      s_task_changed)                                                                              \
    X("followup.task.completion_reported.v1", ccip__followup__task_changed__descriptor,            \
      s_task_changed)                                                                              \
    X("followup.task.accepted.v1", ccip__followup__task_changed__descriptor, s_task_changed)       \
    X("followup.task.returned.v1", ccip__followup__task_changed__descriptor, s_task_changed)       \
    X("followup.task.closed.v1", ccip__followup__task_changed__descriptor, s_task_changed)         \
    X("followup.task.escalated.v1", ccip__followup__task_escalated__descriptor, s_task_escalated)  \
    X("followup.project.reported.v1", ccip__followup__project_reported__descriptor,                \
      s_project_reported)                                                                          \
    X("followup.project.escalated.v1", ccip__followup__project_escalated__descriptor,              \
      s_project_escalated)                                                                         \
    X("followup.project.closed.v1", ccip__followup__project_changed__descriptor,                   \
      s_project_closed)
#define NOTIFY_EVENTS_GATEWAY(X)                                                                   \
    X("gateway.account.created.v1", ccip__gateway__account_created__descriptor, s_account_created) \
    X("gateway.account.contact_changed.v1", ccip__gateway__contact_changed__descriptor,            \
      s_contact_changed)                                                                           \
    X("gateway.account.binding_granted.v1", ccip__gateway__binding_changed__descriptor,            \
      s_binding_changed)                                                                           \
    X("gateway.account.binding_revoked.v1", ccip__gateway__binding_changed__descriptor,            \
      s_binding_changed)
// clang-format on

/* Reads ev onto b (notify_batch_event, then its items, settlements and
 * facts). An event of a type not listed above, or one that cannot be
 * decoded (logged once, with why), adds nothing. Returns 0 or a
 * ccip_db_rc from the batch. */
int notify_events_map(notify_batch *b, const Ccip__Envelope *ev);

/* The consumer handler of every type above (ccip_consumer_apply_fn): one
 * event, one live batch, flushed in the consumer's transaction. */
int notify_events_apply(ccip_db *db, const Ccip__Envelope *ev, void *arg);

#endif
