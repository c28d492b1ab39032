/*
 * casefile_steps: what one event of another service says about a case, as
 * a step of that case's timeline. Pure: no database, no I/O, so that the
 * unit tests read every mapping.
 *
 * An event is about a case when its correlation id is a UUID other than its
 * causation id. Every service emits its events about a case with the
 * case's root id as correlation and the command (or event) that caused them
 * as causation (common/ccip_command.h, "cases"); an event about nothing in
 * particular carries its own command's id as both (ccip_command_emit), so
 * the rule tells the two apart from the envelope alone.
 *
 * The consumed types, per producer, with what they make (the service's
 * subscriptions are made from these lists):
 *
 *   type                                  step                      state set
 *   intake.application.submitted.v1       application submitted     SUBMITTED
 *   intake.application.accepted.v1        application accepted      IN_EVALUATION
 *   intake.application.returned.v1        returned for correction   RETURNED
 *   intake.application.rejected.v1        rejected at intake        REJECTED
 *   intake.application.withdrawn.v1       withdrawn                 WITHDRAWN
 *   evaluation.case.opened.v1             evaluation case opened
 *   evaluation.investigation.scheduled.v1 investigation scheduled
 *   evaluation.investigation.reported.v1  investigation reported
 *   evaluation.review.started.v1          expert review started
 *   evaluation.review.submitted.v1        review submitted
 *   evaluation.review.completed.v1        review completed
 *   evaluation.decision.made.v1           office's decision         APPROVED, DECLINED,
 *                                                                   IN_EVALUATION (returned)
 *   evaluation.designation.granted.v1     designation granted       DESIGNATED
 *   evaluation.designation.revoked.v1     designation revoked       DESIGNATION_REVOKED
 *   evaluation.task.overdue.v1            task overdue
 *   funding.award.proposed.v1 ...         award <verb>              FUNDING_* (the award's)
 *   funding.award.work_linked.v1          work linked to the award
 *   funding.disbursement.paid.v1          tranche paid
 *   funding.report.submitted/accepted/returned.v1, funding.inspection.recorded.v1,
 *   funding.clawback.ordered/recovered.v1
 *   ip.work.linked.v1                     work joined the case
 *   ip.trade.contracted/settled.v1, ip.dispute.filed/answered/upheld/dismissed/lifted.v1
 *   stats.roster.changed.v1, stats.report.submitted/accepted/returned.v1,
 *   stats.value.corrected.v1
 *   followup.project.registered/milestone_added/reported/escalated/closed.v1
 *                                         the case's key project: registered,
 *                                         a milestone, a monthly report, an
 *                                         escalation, closed
 *
 * (followup's key projects are in the case of their award or designation;
 * followup.project.source_changed.v1 repeats a funding or evaluation step
 * already on the timeline and is not consumed, nor are followup's tasks,
 * which belong to no case.)
 *
 * (evaluation.application.approved/declined.v1 repeat decision.made for
 * intake's applicant view and are not consumed: the decision is one step.)
 * What an applicant sees of a step mirrors intake's applicant view
 * (services/intake/intake_view.h): the same statuses on the same events.
 */
#ifndef CASEFILE_STEPS_H
#define CASEFILE_STEPS_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "ccip/envelope.pb-c.h"
#include "ccip_id.h"

#define CASEFILE_ACTION_MAX    96  /* a step's action, with its NUL */
#define CASEFILE_DETAIL_MAX    512 /* a step's detail, with its NUL */
#define CASEFILE_OBJECT_ID_MAX 80  /* an object's id, with its NUL */

/* The facts of a case's root application, from intake's events. */
typedef struct {
    const char *kind; /* "CLUSTER_IDENTIFICATION", ... */
    const char *title;
    const char *applicant_uscc;
    const char *applicant_name;
    const char *district_code; /* "" until accepted */
} casefile_facts;

/* One step, read from one event. Strings that are not arrays are borrowed
 * from the event, its decoded payload or static text. */
typedef struct {
    char root_id[CCIP_UUID_STRLEN + 1]; /* the case */
    const char *producer;               /* "intake", ...: the event type's first word */
    char action[CASEFILE_ACTION_MAX];   /* for people: "tranche paid" */
    char detail[CASEFILE_DETAIL_MAX];   /* "tranche 1: 300000.00 yuan, ref BOC-1" */
    const char *object_kind;            /* "application", "award", ... */
    char object_id[CASEFILE_OBJECT_ID_MAX];
    const char *state;             /* the CaseState name it sets, or NULL */
    const char *applicant_status;  /* the ApplicantStatus name an applicant sees, or NULL */
    const char *applicant_message; /* the sentence an applicant sees with it */
    /* intake's events: the application they are about, and its facts */
    char application_id[CCIP_UUID_STRLEN + 1]; /* "" for other producers */
    const char *application_title;             /* NULL when the event has none */
    int has_facts;                             /* 1 when facts is set */
    casefile_facts facts;
    /* the object as the dossier shows it: kind and key ("" when none) */
    const char *dossier_kind;
    char dossier_id[CASEFILE_OBJECT_ID_MAX];
} casefile_step;

/* The consumed types of each producer, as X-macro lists: X(type) per
 * type. The service's subscriptions are made from them (casefile.c), and
 * each type has its reading in casefile_steps.c (a unit test checks both
 * ways). */
#define CASEFILE_TYPES_INTAKE(X)                                                                   \
    X("intake.application.submitted.v1")                                                           \
    X("intake.application.accepted.v1")                                                            \
    X("intake.application.returned.v1")                                                            \
    X("intake.application.rejected.v1")                                                            \
    X("intake.application.withdrawn.v1")
#define CASEFILE_TYPES_EVALUATION(X)                                                               \
    X("evaluation.case.opened.v1")                                                                 \
    X("evaluation.investigation.scheduled.v1")                                                     \
    X("evaluation.investigation.reported.v1")                                                      \
    X("evaluation.review.started.v1")                                                              \
    X("evaluation.review.submitted.v1")                                                            \
    X("evaluation.review.completed.v1")                                                            \
    X("evaluation.decision.made.v1")                                                               \
    X("evaluation.designation.granted.v1")                                                         \
    X("evaluation.designation.revoked.v1")                                                         \
    X("evaluation.task.overdue.v1")
#define CASEFILE_TYPES_FUNDING(X)                                                                  \
    X("funding.award.proposed.v1")                                                                 \
    X("funding.award.granted.v1")                                                                  \
    X("funding.award.rejected.v1")                                                                 \
    X("funding.award.signed.v1")                                                                   \
    X("funding.award.suspended.v1")                                                                \
    X("funding.award.resumed.v1")                                                                  \
    X("funding.award.terminated.v1")                                                               \
    X("funding.award.completed.v1")                                                                \
    X("funding.award.work_linked.v1")                                                              \
    X("funding.disbursement.paid.v1")                                                              \
    X("funding.report.submitted.v1")                                                               \
    X("funding.report.accepted.v1")                                                                \
    X("funding.report.returned.v1")                                                                \
    X("funding.inspection.recorded.v1")                                                            \
    X("funding.clawback.ordered.v1")                                                               \
    X("funding.clawback.recovered.v1")
#define CASEFILE_TYPES_IP(X)                                                                       \
    X("ip.work.linked.v1")                                                                         \
    X("ip.trade.contracted.v1")                                                                    \
    X("ip.trade.settled.v1")                                                                       \
    X("ip.dispute.filed.v1")                                                                       \
    X("ip.dispute.answered.v1")                                                                    \
    X("ip.dispute.upheld.v1")                                                                      \
    X("ip.dispute.dismissed.v1")                                                                   \
    X("ip.dispute.lifted.v1")
#define CASEFILE_TYPES_STATS(X)                                                                    \
    X("stats.roster.changed.v1")                                                                   \
    X("stats.report.submitted.v1")                                                                 \
    X("stats.report.accepted.v1")                                                                  \
    X("stats.report.returned.v1")                                                                  \
    X("stats.value.corrected.v1")
#define CASEFILE_TYPES_FOLLOWUP(X)                                                                 \
    X("followup.project.registered.v1")                                                            \
    X("followup.project.milestone_added.v1")                                                       \
    X("followup.project.reported.v1")                                                              \
    X("followup.project.escalated.v1")                                                             \
    X("followup.project.closed.v1")

/* One producer's consumed types, for code that walks them all. */
typedef struct {
    const char *producer;
    const char *const *types; /* NULL-terminated */
} casefile_stream;

/* The streams casefile consumes: intake, evaluation, funding, ip, stats,
 * followup. */
extern const casefile_stream casefile_streams[];
extern const size_t casefile_nstreams;

/* 1 when casefile_steps.c knows how to read events of `type`, else 0. */
int casefile_step_known(const char *type);

/* What casefile_step_read made of an event. */
typedef enum {
    CASEFILE_STEP_OK = 0,      /* *step is set, *msg holds its payload */
    CASEFILE_STEP_NO_CASE = 1, /* not about a case, or a type not consumed: nothing to do */
    CASEFILE_STEP_BAD = -1,    /* about a case but unusable (payload or ids): err says why */
} casefile_step_rc;

/* Reads event ev into *step. On CASEFILE_STEP_OK *msg is the decoded
 * payload that step's borrowed strings point into: the caller frees it with
 * protobuf_c_message_free_unpacked(*msg, NULL) after using step. Otherwise
 * *msg is NULL, and on CASEFILE_STEP_BAD err says why. */
casefile_step_rc casefile_step_read(const Ccip__Envelope *ev, casefile_step *step,
                                    ProtobufCMessage **msg, char *err, size_t errlen);

/* The message an event type's payload is (a consumed type), or NULL. */
const ProtobufCMessageDescriptor *casefile_step_message(const char *type);

/* The sub-message the dossier shows of a payload of event `type` (the
 * payload itself, or its award, case, designation, work or use report), or
 * NULL. Borrowed from msg. */
const ProtobufCMessage *casefile_step_dossier_part(const char *type, const ProtobufCMessage *msg);

#endif
