/*
 * notify_kinds: the kinds of item notify keeps (pure).
 *
 * One line per kind: its code (stored in item.kind, named in preferences
 * and templates), whether it goes by e-mail and by SMS unless the person
 * chose otherwise, and whether it is a notice (nothing to do) rather than
 * something that waits for the addressee. Which events make each kind is
 * notify_events.h; its words are in services/notify/templates/<lang>.txt.
 *
 * The center's queues (staff's application_waiting and the like) go by no
 * channel unless a person asks for them: one item per application for every
 * member of staff is what the console's badge is for.
 */
#ifndef NOTIFY_KINDS_H
#define NOTIFY_KINDS_H

#include <stddef.h>

// clang-format off
/*  X(code,                        email, sms, notice) */
#define NOTIFY_KINDS(X)                                                                            \
    /* applicants, grantees, owners, operators ("org:<USCC>") */                                   \
    X(application_returned,        1, 1, 0)                                                        \
    X(application_rejected,        1, 0, 1)                                                        \
    X(organisation_verified,       1, 0, 1)                                                        \
    X(decision_made,               1, 1, 1)                                                        \
    X(award_offered,               1, 1, 0)                                                        \
    X(award_suspended,             1, 1, 1)                                                        \
    X(tranche_paid,                1, 0, 1)                                                        \
    X(use_report_returned,         1, 1, 0)                                                        \
    X(use_report_due,              1, 0, 0)                                                        \
    X(inspection_finding,          1, 1, 1)                                                        \
    X(quarterly_report_returned,   1, 1, 0)                                                        \
    X(quarterly_report_due,        1, 1, 0)                                                        \
    X(dispute_filed,               1, 1, 0)                                                        \
    X(dispute_ruled,               1, 0, 1)                                                        \
    X(monthly_report_missing,      1, 1, 0)                                                        \
    /* experts and agencies */                                                                     \
    X(review_assigned,             1, 1, 0)                                                        \
    X(review_due,                  1, 1, 0)                                                        \
    X(review_overdue,              1, 1, 0)                                                        \
    X(investigation_assigned,      1, 1, 0)                                                        \
    X(investigation_due,           1, 1, 0)                                                        \
    X(investigation_overdue,       1, 1, 0)                                                        \
    /* the center's staff ("role:staff") */                                                        \
    X(application_waiting,         0, 0, 0)                                                        \
    X(organisation_waiting,        0, 0, 0)                                                        \
    X(case_to_assign,              0, 0, 0)                                                        \
    X(task_overdue,                0, 0, 0)                                                        \
    X(award_to_confirm,            0, 0, 0)                                                        \
    X(use_report_to_review,        0, 0, 0)                                                        \
    X(dispute_to_rule,             0, 0, 0)                                                        \
    X(inspection_due,              0, 0, 0)                                                        \
    X(quarterly_report_to_accept,  0, 0, 0)                                                        \
    /* the center's finance ("role:finance"): a payment's second approver */                       \
    X(payment_second_approval,     0, 0, 0)                                                        \
    /* district offices */                                                                         \
    X(quarterly_report_to_review,  1, 0, 0)                                                        \
    /* analysts ("role:analyst") */                                                                \
    X(quarter_complete,            1, 0, 0)                                                        \
    /* the office ("role:office"): a case sent for its decision */                                 \
    X(decision_waiting,            1, 0, 0)                                                        \
    /* supervised tasks: the lead unit, and the office ("role:office") */                          \
    X(task_assigned,               1, 1, 0)                                                        \
    X(task_returned,               1, 1, 0)                                                        \
    X(extension_decided,           1, 0, 1)                                                        \
    X(task_report_back,            1, 0, 0)                                                        \
    X(extension_requested,         1, 0, 0)                                                        \
    X(task_escalated,              1, 1, 0)                                                        \
    X(project_escalated,           1, 1, 0)
// clang-format on

/* One kind of item. */
typedef struct {
    const char *code; /* e.g. "application_returned" */
    int email;        /* sent by e-mail unless the person chose otherwise */
    int sms;          /* sent by SMS unless the person chose otherwise */
    int notice;       /* tells something; nothing to do */
} notify_kind;

/* The kind with this code, or NULL. */
const notify_kind *notify_kind_find(const char *code);

/* Number of kinds, and kind i (NULL past the end), in the order above. */
size_t notify_kind_count(void);
const notify_kind *notify_kind_at(size_t i);

#endif
