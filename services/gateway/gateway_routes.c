#include "gateway_routes.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "evaluation.h"
#include "casefile.h"
#include "followup.h"
#include "funding.h"
#include "gateway_bindings.h"
#include "gateway_crypto.h"
#include "intake.h"
#include "ip.h"
#include "notify.h"
#include "stats.h"

/* ---- THE route table ------------------------------------------------------------
 * One line per route:
 * method, path template, command type, flags. Request and reply messages and
 * roles come from the services' own tables. Keep each service's lines
 * together, reads first. */

#define PUB  GATEWAY_ROUTE_PUBLIC
#define UP   GATEWAY_ROUTE_UPLOAD
#define DOWN GATEWAY_ROUTE_DOWNLOAD

static const gateway_route s_routes[] = {
    /* ---- intake ---- */
    {"GET", "/api/v1/intake/calls", "intake.call.list.v1", PUB},
    {"GET", "/api/v1/intake/calls/{call_id}", "intake.call.get.v1", PUB},
    {"POST", "/api/v1/intake/calls", "intake.call.open.v1", 0},
    {"POST", "/api/v1/intake/calls/{call_id}/close", "intake.call.close.v1", 0},
    {"POST", "/api/v1/intake/calls/close-due", "intake.call.close_due.v1", 0},
    {"GET", "/api/v1/intake/organisations/{uscc}", "intake.organisation.get.v1", 0},
    {"POST", "/api/v1/intake/organisations", "intake.organisation.register.v1", 0},
    {"POST", "/api/v1/intake/organisations/{details.uscc}", "intake.organisation.update.v1", 0},
    {"POST", "/api/v1/intake/organisations/{uscc}/verify", "intake.organisation.verify.v1", 0},
    {"GET", "/api/v1/intake/applications", "intake.application.list.v1", 0},
    {"GET", "/api/v1/intake/applications/{application_id}", "intake.application.get.v1", 0},
    {"POST", "/api/v1/intake/applications", "intake.application.draft.v1", 0},
    {"POST", "/api/v1/intake/applications/file", "intake.application.file.v1", 0},
    {"POST", "/api/v1/intake/applications/{application_id}", "intake.application.update.v1", 0},
    {"POST", "/api/v1/intake/applications/{application_id}/documents",
     "intake.application.document.add.v1", UP},
    {"GET", "/api/v1/intake/applications/{application_id}/documents/{document_id}",
     "intake.document.get.v1", DOWN},
    {"POST", "/api/v1/intake/applications/{application_id}/documents/{document_id}/remove",
     "intake.application.document.remove.v1", 0},
    {"POST", "/api/v1/intake/applications/{application_id}/submit", "intake.application.submit.v1",
     0},
    {"POST", "/api/v1/intake/applications/{application_id}/withdraw",
     "intake.application.withdraw.v1", 0},
    {"POST", "/api/v1/intake/applications/{application_id}/accept", "intake.application.accept.v1",
     0},
    {"POST", "/api/v1/intake/applications/{application_id}/return", "intake.application.return.v1",
     0},
    {"POST", "/api/v1/intake/applications/{application_id}/reject", "intake.application.reject.v1",
     0},

    /* ---- evaluation ---- */
    {"GET", "/api/v1/evaluation/agencies", "evaluation.agency.list.v1", 0},
    {"GET", "/api/v1/evaluation/agencies/{id}", "evaluation.agency.get.v1", 0},
    {"POST", "/api/v1/evaluation/agencies", "evaluation.agency.register.v1", 0},
    {"POST", "/api/v1/evaluation/agencies/{id}/active", "evaluation.agency.set_active.v1", 0},
    {"GET", "/api/v1/evaluation/experts", "evaluation.expert.list.v1", 0},
    {"GET", "/api/v1/evaluation/experts/{id}", "evaluation.expert.get.v1", 0},
    {"POST", "/api/v1/evaluation/experts", "evaluation.expert.register.v1", 0},
    {"POST", "/api/v1/evaluation/experts/{id}/active", "evaluation.expert.set_active.v1", 0},
    {"GET", "/api/v1/evaluation/sheets/{kind}", "evaluation.sheet.get.v1", 0},
    {"POST", "/api/v1/evaluation/sheets", "evaluation.sheet.publish.v1", 0},
    {"GET", "/api/v1/evaluation/cases", "evaluation.case.list.v1", 0},
    {"GET", "/api/v1/evaluation/cases/{case_id}", "evaluation.case.get.v1", 0},
    {"POST", "/api/v1/evaluation/cases/{case_id}/assignment/propose",
     "evaluation.assignment.propose.v1", 0},
    {"POST", "/api/v1/evaluation/cases/{case_id}/assignment", "evaluation.assignment.make.v1", 0},
    {"POST", "/api/v1/evaluation/cases/{case_id}/assignment/reassign",
     "evaluation.assignment.reassign.v1", 0},
    {"POST", "/api/v1/evaluation/cases/{case_id}/assignment/decline",
     "evaluation.assignment.decline.v1", 0},
    {"POST", "/api/v1/evaluation/cases/{case_id}/review/declare", "evaluation.review.declare.v1",
     0},
    {"POST", "/api/v1/evaluation/cases/{case_id}/review", "evaluation.review.submit.v1", 0},
    {"POST", "/api/v1/evaluation/cases/{case_id}/investigation/report",
     "evaluation.investigation.report.v1", 0},
    {"POST", "/api/v1/evaluation/cases/{case_id}/submit", "evaluation.case.submit.v1", 0},
    {"POST", "/api/v1/evaluation/cases/{case_id}/decide", "evaluation.case.decide.v1", 0},
    {"GET", "/api/v1/evaluation/designations", "evaluation.designation.list.v1", 0},
    {"GET", "/api/v1/evaluation/designations/{designation_id}", "evaluation.designation.get.v1", 0},
    {"POST", "/api/v1/evaluation/designations/{designation_id}/revoke",
     "evaluation.designation.revoke.v1", 0},
    {"POST", "/api/v1/evaluation/designations/{designation_id}/reevaluate",
     "evaluation.designation.reevaluate.v1", 0},
    {"GET", "/api/v1/evaluation/tasks", "evaluation.task.list.v1", 0},
    {"POST", "/api/v1/evaluation/tasks/sweep", "evaluation.task.sweep.v1", 0},

    /* ---- funding ---- */
    {"GET", "/api/v1/funding/programmes", "funding.programme.list.v1", 0},
    {"GET", "/api/v1/funding/programmes/{code}", "funding.programme.get.v1", 0},
    {"POST", "/api/v1/funding/programmes", "funding.programme.create.v1", 0},
    {"POST", "/api/v1/funding/programmes/{code}", "funding.programme.configure.v1", 0},
    {"GET", "/api/v1/funding/budgets", "funding.budget.list.v1", 0},
    {"GET", "/api/v1/funding/budgets/{programme_code}/{year}", "funding.budget.get.v1", 0},
    {"POST", "/api/v1/funding/budgets/{programme_code}/{year}", "funding.budget.set.v1", 0},
    {"POST", "/api/v1/funding/budgets/{programme_code}/{year}/close", "funding.year.close.v1", 0},
    {"GET", "/api/v1/funding/years/{programme_code}/{year}/summary", "funding.summary.year.v1", 0},
    {"GET", "/api/v1/funding/awards", "funding.award.list.v1", 0},
    {"GET", "/api/v1/funding/awards/{award_id}", "funding.award.get.v1", 0},
    {"POST", "/api/v1/funding/awards/{award_id}/confirm", "funding.award.confirm.v1", 0},
    {"POST", "/api/v1/funding/awards/{award_id}/reject", "funding.award.reject.v1", 0},
    {"POST", "/api/v1/funding/awards/{award_id}/sign", "funding.award.sign.v1", 0},
    {"POST", "/api/v1/funding/awards/{award_id}/suspend", "funding.award.suspend.v1", 0},
    {"POST", "/api/v1/funding/awards/{award_id}/resume", "funding.award.resume.v1", 0},
    {"POST", "/api/v1/funding/awards/{award_id}/terminate", "funding.award.terminate.v1", 0},
    {"POST", "/api/v1/funding/awards/{award_id}/works", "funding.award.link_work.v1", 0},
    {"POST", "/api/v1/funding/awards/{award_id}/payments", "funding.payment.request.v1", 0},
    {"POST", "/api/v1/funding/payments/{payment_id}/approve", "funding.payment.approve.v1", 0},
    {"POST", "/api/v1/funding/payments/{payment_id}/cancel", "funding.payment.cancel.v1", 0},
    {"POST", "/api/v1/funding/awards/{award_id}/reports", "funding.report.save.v1", 0},
    {"POST", "/api/v1/funding/reports/{report_id}/submit", "funding.report.submit.v1", 0},
    {"POST", "/api/v1/funding/reports/{report_id}/accept", "funding.report.accept.v1", 0},
    {"POST", "/api/v1/funding/reports/{report_id}/return", "funding.report.return.v1", 0},
    {"POST", "/api/v1/funding/awards/{award_id}/inspections", "funding.inspection.schedule.v1", 0},
    {"POST", "/api/v1/funding/inspections/{inspection_id}", "funding.inspection.record.v1", 0},
    {"POST", "/api/v1/funding/clawbacks/{clawback_id}/recover", "funding.clawback.recover.v1", 0},
    {"GET", "/api/v1/funding/journal", "funding.journal.list.v1", 0},
    {"GET", "/api/v1/funding/ledger/verify", "funding.ledger.verify.v1", 0},

    /* ---- ip ---- */
    {"GET", "/api/v1/ip/works", "ip.work.list.v1", 0},
    {"GET", "/api/v1/ip/works/{work_id}", "ip.work.get.v1", 0},
    {"POST", "/api/v1/ip/works", "ip.work.register.v1", 0},
    {"GET", "/api/v1/ip/keys", "ip.key.get.v1", PUB},
    {"GET", "/api/v1/ip/chain", "ip.chain.read.v1", 0},
    {"GET", "/api/v1/ip/anchors", "ip.anchor.list.v1", 0},
    {"POST", "/api/v1/ip/anchors", "ip.anchor.run.v1", 0},
    {"GET", "/api/v1/ip/reviews", "ip.review.list.v1", 0},
    {"POST", "/api/v1/ip/works/{work_id}/review", "ip.review.resolve.v1", 0},
    {"GET", "/api/v1/ip/listings", "ip.listing.list.v1", PUB},
    {"GET", "/api/v1/ip/listings/{listing_id}", "ip.listing.get.v1", PUB},
    {"POST", "/api/v1/ip/listings", "ip.listing.create.v1", 0},
    {"POST", "/api/v1/ip/listings/{listing_id}", "ip.listing.update.v1", 0},
    {"POST", "/api/v1/ip/listings/{listing_id}/withdraw", "ip.listing.withdraw.v1", 0},
    {"POST", "/api/v1/ip/listings/{listing_id}/offers", "ip.offer.make.v1", 0},
    {"POST", "/api/v1/ip/offers/{offer_id}/withdraw", "ip.offer.withdraw.v1", 0},
    {"POST", "/api/v1/ip/offers/{offer_id}/accept", "ip.offer.accept.v1", 0},
    {"GET", "/api/v1/ip/contracts", "ip.contract.list.v1", 0},
    {"GET", "/api/v1/ip/contracts/{contract_id}", "ip.contract.get.v1", 0},
    {"POST", "/api/v1/ip/contracts/{contract_id}/settle", "ip.contract.settle.v1", 0},
    {"GET", "/api/v1/ip/disputes", "ip.dispute.list.v1", 0},
    {"GET", "/api/v1/ip/disputes/{dispute_id}", "ip.dispute.get.v1", 0},
    {"POST", "/api/v1/ip/works/{work_id}/disputes", "ip.dispute.file.v1", 0},
    {"POST", "/api/v1/ip/disputes/{dispute_id}/answer", "ip.dispute.answer.v1", 0},
    {"POST", "/api/v1/ip/disputes/{dispute_id}/rule", "ip.dispute.rule.v1", 0},
    {"POST", "/api/v1/ip/disputes/{dispute_id}/lift", "ip.dispute.lift.v1", 0},
    {"GET", "/api/v1/ip/providers", "ip.provider.list.v1", PUB},
    {"POST", "/api/v1/ip/providers", "ip.provider.register.v1", 0},
    {"POST", "/api/v1/ip/providers/{provider_id}/verify", "ip.provider.verify.v1", 0},
    {"POST", "/api/v1/ip/providers/{provider_id}/requests", "ip.request.create.v1", 0},
    {"POST", "/api/v1/ip/requests/{request_id}/accept", "ip.request.accept.v1", 0},
    {"POST", "/api/v1/ip/requests/{request_id}/complete", "ip.request.complete.v1", 0},
    {"POST", "/api/v1/ip/requests/{request_id}/rate", "ip.request.rate.v1", 0},

    /* ---- stats ---- */
    {"GET", "/api/v1/stats/catalogue", "stats.catalogue.get.v1", 0},
    {"POST", "/api/v1/stats/catalogue", "stats.catalogue.publish.v1", 0},
    {"GET", "/api/v1/stats/roster", "stats.roster.list.v1", 0},
    {"POST", "/api/v1/stats/roster/{id}/category", "stats.roster.categorise.v1", 0},
    {"GET", "/api/v1/stats/reports", "stats.report.list.v1", 0},
    {"GET", "/api/v1/stats/reports/{report_id}", "stats.report.get.v1", 0},
    {"GET", "/api/v1/stats/reports/{report_id}/audit", "stats.report.audit.v1", 0},
    {"POST", "/api/v1/stats/reports", "stats.report.save.v1", 0},
    {"POST", "/api/v1/stats/reports/{report_id}/submit", "stats.report.submit.v1", 0},
    {"POST", "/api/v1/stats/reports/{report_id}/review", "stats.report.review.v1", 0},
    {"POST", "/api/v1/stats/reports/{report_id}/decide", "stats.report.decide.v1", 0},
    {"POST", "/api/v1/stats/reports/{report_id}/correct", "stats.report.correct.v1", 0},
    {"POST", "/api/v1/stats/locks", "stats.lock.grant.v1", 0},
    {"GET", "/api/v1/stats/completeness", "stats.completeness.get.v1", 0},
    {"GET", "/api/v1/stats/analysis", "stats.analysis.get.v1", 0},
    {"GET", "/api/v1/stats/indicators", "stats.indicators.get.v1", 0},
    {"POST", "/api/v1/stats/projections/rebuild", "stats.projections.rebuild.v1", 0},
    {"GET", "/api/v1/stats/projections/checksum", "stats.projections.checksum.v1", 0},
    {"GET", "/api/v1/stats/releases", "stats.release.list.v1", PUB},
    {"GET", "/api/v1/stats/releases/{quarter}", "stats.release.get.v1", PUB},
    {"POST", "/api/v1/stats/releases", "stats.release.publish.v1", 0},
    /* Surveys and research (issue 20). A research document comes back as
     * JSON (its reply is flat, not the `document` shape DOWN needs). */
    {"GET", "/api/v1/stats/departments", "stats.department.list.v1", 0},
    {"POST", "/api/v1/stats/departments", "stats.department.define.v1", 0},
    {"GET", "/api/v1/stats/questionnaires", "stats.questionnaire.list.v1", 0},
    {"GET", "/api/v1/stats/questionnaires/{questionnaire_id}", "stats.questionnaire.get.v1", 0},
    {"POST", "/api/v1/stats/questionnaires", "stats.questionnaire.save.v1", 0},
    {"POST", "/api/v1/stats/questionnaires/{questionnaire_id}/publish",
     "stats.questionnaire.publish.v1", 0},
    {"GET", "/api/v1/stats/surveys", "stats.survey.list.v1", 0},
    {"GET", "/api/v1/stats/surveys/{survey_id}", "stats.survey.get.v1", 0},
    {"GET", "/api/v1/stats/surveys/{survey_id}/response", "stats.survey.response.get.v1", 0},
    {"GET", "/api/v1/stats/surveys/{survey_id}/completeness", "stats.survey.completeness.v1", 0},
    {"GET", "/api/v1/stats/surveys/{survey_id}/results", "stats.survey.results.v1", 0},
    {"GET", "/api/v1/stats/surveys/{survey_id}/texts", "stats.survey.texts.v1", 0},
    {"GET", "/api/v1/stats/surveys/{survey_id}/export", "stats.survey.export.v1", 0},
    {"POST", "/api/v1/stats/surveys", "stats.survey.create.v1", 0},
    {"POST", "/api/v1/stats/surveys/remind", "stats.survey.remind.v1", 0},
    {"POST", "/api/v1/stats/reports/remind", "stats.report.remind.v1", 0},
    {"POST", "/api/v1/stats/surveys/{survey_id}/close", "stats.survey.close.v1", 0},
    {"POST", "/api/v1/stats/surveys/{survey_id}/response", "stats.survey.response.save.v1", 0},
    {"POST", "/api/v1/stats/surveys/{survey_id}/response/submit", "stats.survey.response.submit.v1",
     0},
    {"POST", "/api/v1/stats/surveys/{survey_id}/response/reopen", "stats.survey.response.reopen.v1",
     0},
    {"POST", "/api/v1/stats/surveys/{survey_id}/attach", "stats.survey.attach.v1", 0},
    {"GET", "/api/v1/stats/research", "stats.research.list.v1", 0},
    {"GET", "/api/v1/stats/research/{task_id}", "stats.research.get.v1", 0},
    {"GET", "/api/v1/stats/research/{task_id}/deliverables/{deliverable}",
     "stats.research.document.v1", 0},
    {"POST", "/api/v1/stats/research", "stats.research.commission.v1", 0},
    {"POST", "/api/v1/stats/research/{task_id}/deliverables", "stats.research.deliver.v1", UP},
    {"POST", "/api/v1/stats/research/{task_id}/review", "stats.research.review.v1", 0},
    {"POST", "/api/v1/stats/research/{task_id}/accept", "stats.research.accept.v1", 0},

    /* ---- followup (literal paths before the {id} ones: the first match wins) ---- */
    {"GET", "/api/v1/followup/tasks", "followup.task.list.v1", 0},
    {"GET", "/api/v1/followup/tasks/board", "followup.task.board.v1", 0},
    {"GET", "/api/v1/followup/tasks/{task_id}", "followup.task.get.v1", 0},
    {"GET", "/api/v1/followup/attachments/{attachment_id}", "followup.task.attachment.get.v1", 0},
    {"POST", "/api/v1/followup/tasks", "followup.task.create.v1", 0},
    {"POST", "/api/v1/followup/tasks/{task_id}/acknowledge", "followup.task.acknowledge.v1", 0},
    {"POST", "/api/v1/followup/tasks/{task_id}/progress", "followup.task.report_progress.v1", 0},
    {"POST", "/api/v1/followup/tasks/{task_id}/extension", "followup.task.request_extension.v1", 0},
    {"POST", "/api/v1/followup/tasks/{task_id}/extension/grant", "followup.task.grant_extension.v1",
     0},
    {"POST", "/api/v1/followup/tasks/{task_id}/extension/refuse",
     "followup.task.refuse_extension.v1", 0},
    {"POST", "/api/v1/followup/tasks/{task_id}/completion", "followup.task.report_completion.v1",
     0},
    {"POST", "/api/v1/followup/tasks/{task_id}/accept", "followup.task.accept.v1", 0},
    {"POST", "/api/v1/followup/tasks/{task_id}/return", "followup.task.return.v1", 0},
    {"POST", "/api/v1/followup/tasks/{task_id}/close", "followup.task.close.v1", 0},
    {"POST", "/api/v1/followup/digest", "followup.task.publish_digest.v1", 0},
    {"POST", "/api/v1/followup/sweep", "followup.sweep.run.v1", 0},
    {"GET", "/api/v1/followup/projects", "followup.project.list.v1", 0},
    {"GET", "/api/v1/followup/projects/board", "followup.project.board.v1", 0},
    {"GET", "/api/v1/followup/projects/{project_id}", "followup.project.get.v1", 0},
    {"POST", "/api/v1/followup/projects", "followup.project.register.v1", 0},
    {"POST", "/api/v1/followup/projects/{project_id}/milestones",
     "followup.project.add_milestone.v1", 0},
    {"POST", "/api/v1/followup/projects/{project_id}/reports", "followup.project.file_report.v1",
     0},
    {"POST", "/api/v1/followup/projects/{project_id}/close", "followup.project.close.v1", 0},

    /* ---- notify (a caller's own inbox: the actor the session acts as) ---- */
    {"GET", "/api/v1/notify/inbox", "notify.inbox.list.v1", 0},
    {"GET", "/api/v1/notify/inbox/count", "notify.inbox.count.v1", 0},
    {"GET", "/api/v1/notify/inbox/checksum", "notify.inbox.checksum.v1", 0},
    {"GET", "/api/v1/notify/inbox/{item_id}", "notify.inbox.get.v1", 0},
    {"POST", "/api/v1/notify/inbox/rebuild", "notify.inbox.rebuild.v1", 0},
    {"GET", "/api/v1/notify/preferences/{login}", "notify.preferences.get.v1", 0},
    {"POST", "/api/v1/notify/preferences/{login}", "notify.preferences.set.v1", 0},
    {"GET", "/api/v1/notify/deliveries", "notify.delivery.list.v1", 0},
    {"POST", "/api/v1/notify/deliveries/{delivery_id}/resend", "notify.delivery.resend.v1", 0},

    /* ---- casefile (one case across every service: staff and the office
     * read whole cases, an applicant its own as intake's view shows them) ---- */
    {"GET", "/api/v1/casefile/cases", "casefile.case.search.v1", 0},
    {"GET", "/api/v1/casefile/cases/{case_id}", "casefile.case.get.v1", 0},
    {"GET", "/api/v1/casefile/cases/{case_id}/dossier", "casefile.case.dossier.v1", 0},

    /* ---- gateway (accounts, through the bus like any service) ---- */
    {"GET", "/api/v1/gateway/accounts", "gateway.account.list.v1", 0},
    {"GET", "/api/v1/gateway/accounts/{account_id}", "gateway.account.get.v1", 0},
    {"POST", "/api/v1/gateway/accounts/{account_id}/bindings", "gateway.binding.grant.v1", 0},
    {"POST", "/api/v1/gateway/bindings/{binding_id}/revoke", "gateway.binding.revoke.v1", 0},
    {"POST", "/api/v1/gateway/invitations", "gateway.invitation.create.v1", 0},
    {"POST", "/api/v1/gateway/accounts/{account_id}/password-reset",
     "gateway.password_reset.issue.v1", 0},
};

#undef PUB
#undef UP
#undef DOWN

#define NROUTES          (CCIP_NELEMS(s_routes))
#define IDEMPOTENCY_MAX  255 /* longest Idempotency-Key accepted */
#define UPLOAD_FIELD     "content"
#define MEDIA_TYPE_FIELD "media_type"
#define DOCUMENT_FIELD   "document"
#define DOC_NAME_FIELD   "name"

static gateway_route_info s_info[NROUTES];

static const ccip_service_def *const s_services[] = {&intake_def, &evaluation_def, &funding_def,
                                                     &ip_def,     &stats_def,      &followup_def,
                                                     &notify_def, &gateway_def,    &casefile_def};

const ccip_service_def *gateway_service_def(const char *service)
{
    for (size_t i = 0; i < CCIP_NELEMS(s_services); i++)
        if (strcmp(s_services[i]->name, service) == 0)
            return s_services[i];
    return NULL;
}

size_t gateway_route_count(void)
{
    return NROUTES;
}

const gateway_route_info *gateway_route_at(size_t i)
{
    return i < NROUTES ? &s_info[i] : NULL;
}

/* ---- the checks at start-up ------------------------------------------------------- */

/* The field at a dotted path ("details.uscc") of desc, or NULL. */
static const ProtobufCFieldDescriptor *s_field_path(const ProtobufCMessageDescriptor *desc,
                                                    const char *path)
{
    char part[128];
    const char *p = path;
    const ProtobufCFieldDescriptor *f = NULL;
    while (desc && *p) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof part)
            return NULL;
        memcpy(part, p, n);
        part[n] = '\0';
        f = protobuf_c_message_descriptor_get_field_by_name(desc, part);
        if (!f)
            return NULL;
        p += n;
        if (*p == '.') {
            p++;
            if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
                return NULL;
            desc = f->descriptor;
        }
    }
    return f;
}

static int s_check_route(gateway_route_info *ri, char *err, size_t errlen)
{
    const gateway_route *r = ri->route;
    const ccip_command_handler *h = ri->handler;
    int get = strcmp(r->method, "GET") == 0;
    if (get && h->mutating) {
        snprintf(err, errlen, "route GET %s names %s, which changes state: GET never may", r->path,
                 r->type);
        return -1;
    }
    if (!ri->described)
        return 0;
    /* Every {param} is a field of the request. */
    for (const char *p = strchr(r->path, '{'); p; p = strchr(p + 1, '{')) {
        char name[128];
        size_t n = strcspn(p + 1, "}");
        if (n == 0 || n >= sizeof name) {
            snprintf(err, errlen, "route %s %s: a malformed parameter", r->method, r->path);
            return -1;
        }
        memcpy(name, p + 1, n);
        name[n] = '\0';
        const ProtobufCFieldDescriptor *f = s_field_path(h->request, name);
        if (!f || f->type == PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED) {
            snprintf(err, errlen,
                     "route %s %s: path parameter {%s} is not a single field of %s (%s)", r->method,
                     r->path, name, h->request->name, r->type);
            return -1;
        }
    }
    /* A GET carries everything as parameters: no message fields. */
    for (unsigned i = 0; get && i < h->request->n_fields; i++)
        if (h->request->fields[i].type == PROTOBUF_C_TYPE_MESSAGE) {
            snprintf(err, errlen,
                     "route GET %s: field `%s` of %s is a message, which a query cannot carry; "
                     "make it a POST",
                     r->path, h->request->fields[i].name, h->request->name);
            return -1;
        }
    if (r->flags & GATEWAY_ROUTE_UPLOAD) {
        const ProtobufCFieldDescriptor *c =
            protobuf_c_message_descriptor_get_field_by_name(h->request, UPLOAD_FIELD);
        const ProtobufCFieldDescriptor *m =
            protobuf_c_message_descriptor_get_field_by_name(h->request, MEDIA_TYPE_FIELD);
        if (!c || c->type != PROTOBUF_C_TYPE_BYTES || !m || m->type != PROTOBUF_C_TYPE_STRING) {
            snprintf(err, errlen,
                     "upload route %s: %s needs a bytes field `content` and a string field "
                     "`media_type`",
                     r->path, h->request->name);
            return -1;
        }
    }
    if (r->flags & GATEWAY_ROUTE_DOWNLOAD) {
        const ProtobufCFieldDescriptor *c =
            h->reply ? protobuf_c_message_descriptor_get_field_by_name(h->reply, UPLOAD_FIELD)
                     : NULL;
        const ProtobufCFieldDescriptor *d =
            h->reply ? protobuf_c_message_descriptor_get_field_by_name(h->reply, DOCUMENT_FIELD)
                     : NULL;
        if (!c || c->type != PROTOBUF_C_TYPE_BYTES || !d || d->type != PROTOBUF_C_TYPE_MESSAGE ||
            !protobuf_c_message_descriptor_get_field_by_name(d->descriptor, MEDIA_TYPE_FIELD) ||
            !protobuf_c_message_descriptor_get_field_by_name(d->descriptor, DOC_NAME_FIELD)) {
            snprintf(err, errlen,
                     "download route %s: its reply needs bytes `content` and message `document` "
                     "with `media_type` and `name`",
                     r->path);
            return -1;
        }
    }
    return 0;
}

int gateway_routes_init(char *err, size_t errlen)
{
    size_t undescribed = 0;
    for (size_t i = 0; i < NROUTES; i++) {
        gateway_route_info *ri = &s_info[i];
        ri->route = &s_routes[i];
        char service[64];
        size_t n = strcspn(ri->route->type, ".");
        snprintf(service, sizeof service, "%.*s", (int)n, ri->route->type);
        const ccip_service_def *def = gateway_service_def(service);
        ri->service = def ? def->name : NULL;
        ri->handler = NULL;
        for (size_t j = 0; def && j < def->ncommands; j++)
            if (strcmp(def->commands[j].type, ri->route->type) == 0)
                ri->handler = &def->commands[j];
        if (!ri->handler) {
            snprintf(err, errlen, "route %s %s names %s, which no service serves",
                     ri->route->method, ri->route->path, ri->route->type);
            return -1;
        }
        ri->described = ri->handler->request != NULL;
        if (!ri->described) {
            undescribed++;
            ccip_log_debug("a route's command does not name its messages yet; it answers 501",
                           "type", ri->route->type);
        }
        if (s_check_route(ri, err, errlen) < 0)
            return -1;
    }
    /* Every command of every service has a route ("every command is
     * reachable"). */
    for (size_t s = 0; s < CCIP_NELEMS(s_services); s++) {
        const ccip_service_def *def = s_services[s];
        for (size_t j = 0; j < def->ncommands; j++) {
            size_t i = 0;
            while (i < NROUTES && strcmp(s_routes[i].type, def->commands[j].type) != 0)
                i++;
            /* Not fatal here (a new command of a service must not stop the
             * front door); tests/services/test_gateway_routes.c fails on it. */
            if (i == NROUTES)
                ccip_log_warn("a command has no route in the gateway's table", "type",
                              def->commands[j].type);
        }
    }
    if (undescribed) {
        char n[24];
        snprintf(n, sizeof n, "%zu", undescribed);
        ccip_log_warn("routes whose commands do not name their messages yet answer 501 (log "
                      "level debug lists them)",
                      "count", n);
    }
    return 0;
}

void gateway_routes_done(void)
{
}

/* ---- answering a route --------------------------------------------------------------- */

/* The command a pending organisation binding may run: register the
 * organisation, and read and update it once it registered it (the console
 * shows what was registered while it waits for the verification). */
static int s_pending_may(const gateway_binding *b, const char *type)
{
    if (strcmp(type, "intake.organisation.register.v1") == 0)
        return 1;
    return b->registered && (strcmp(type, "intake.organisation.update.v1") == 0 ||
                             strcmp(type, "intake.organisation.get.v1") == 0);
}

static void s_roles_text(const char *const *roles, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const char *const *r = roles; r && *r && n < len; r++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", *r);
}

/* A media type fit for a header: type/subtype of token characters. */
static int s_media_type_ok(const char *s)
{
    int slash = 0;
    size_t n = strlen(s);
    if (n == 0 || n > 127)
        return 0;
    for (const char *p = s; *p; p++) {
        if (*p == '/') {
            if (slash++ || p == s || !p[1])
                return 0;
        } else if (!isalnum((unsigned char)*p) && !strchr("!#$&^_.+-", *p)) {
            return 0;
        }
    }
    return slash == 1;
}

/* Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266). */
static void s_disposition(const char *name, char *buf, size_t len)
{
    char ascii[128];
    size_t a = 0;
    for (const char *p = name; *p && a + 1 < sizeof ascii; p++)
        ascii[a++] = (isalnum((unsigned char)*p) || strchr("._- ", *p)) ? *p : '_';
    ascii[a] = '\0';
    size_t n = (size_t)snprintf(buf, len, "attachment; filename=\"%s\"; filename*=UTF-8''",
                                a ? ascii : "document");
    for (const unsigned char *p = (const unsigned char *)name; *p && n + 4 < len; p++) {
        if (isalnum(*p) || strchr("!#$&+-.^_`|~", *p))
            buf[n++] = (char)*p;
        else
            n += (size_t)snprintf(buf + n, len - n, "%%%02X", *p);
    }
    buf[n < len ? n : len - 1] = '\0';
}

static void s_reply_download(gateway_request *rq, const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const ProtobufCFieldDescriptor *cf =
        protobuf_c_message_descriptor_get_field_by_name(d, UPLOAD_FIELD);
    const ProtobufCFieldDescriptor *df =
        protobuf_c_message_descriptor_get_field_by_name(d, DOCUMENT_FIELD);
    const ProtobufCBinaryData *content =
        (const ProtobufCBinaryData *)((const char *)m + cf->offset);
    const ProtobufCMessage *doc = *(ProtobufCMessage *const *)((const char *)m + df->offset);
    const char *media = "application/octet-stream", *name = "document";
    if (doc) {
        const ProtobufCFieldDescriptor *mf =
            protobuf_c_message_descriptor_get_field_by_name(doc->descriptor, MEDIA_TYPE_FIELD);
        const ProtobufCFieldDescriptor *nf =
            protobuf_c_message_descriptor_get_field_by_name(doc->descriptor, DOC_NAME_FIELD);
        const char *mt = *(char *const *)((const char *)doc + mf->offset);
        const char *nm = *(char *const *)((const char *)doc + nf->offset);
        if (mt && s_media_type_ok(mt))
            media = mt;
        if (nm && nm[0])
            name = nm;
    }
    char disposition[1024];
    s_disposition(name, disposition, sizeof disposition);
    gateway_reply_bytes(rq, 200, media, content->data, content->len);
    gateway_reply_header(rq, "Content-Disposition", disposition);
}

/* A valid Idempotency-Key: 1..255 visible ASCII characters. */
static int s_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > IDEMPOTENCY_MAX)
        return 0;
    for (const char *p = k; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return 0;
    return 1;
}

void gateway_route_handle(gateway_request *rq, const gateway_route_info *ri)
{
    const gateway_route *r = ri->route;
    const ccip_command_handler *h = ri->handler;
    gateway_runtime *rt = gateway_request_runtime(rq);
    const gateway_config *cfg = gateway_cfg(rt);
    if (!ri->described) {
        gateway_reply_problem(rq, 501, "UNIMPLEMENTED",
                              "%s does not describe the messages of %s yet, so the gateway "
                              "cannot map them to JSON",
                              ri->service, r->type);
        return;
    }
    const gateway_session_row *s = gateway_request_session(rq, NULL);
    const char *role = "", *account = "anonymous";
    char actor[GATEWAY_ACTOR_MAX + 1] = "";
    const gateway_binding *b = s && s->has_binding ? &s->binding : NULL;
    if (!s && !(r->flags & GATEWAY_ROUTE_PUBLIC)) {
        gateway_reply_problem(rq, 401, "UNAUTHENTICATED",
                              "sign in first (POST /api/v1/session); %s needs a session", r->type);
        return;
    }
    if (s) {
        account = s->account_id;
        const char *chosen = b ? gateway_binding_role_for(b->kind, h->roles) : NULL;
        if (b && b->status == CCIP__GATEWAY__BINDING_STATUS__PENDING &&
            !s_pending_may(b, r->type)) {
            gateway_reply_problem(
                rq, 403, "PERMISSION_DENIED",
                "the binding to organisation %s waits for staff to verify the organisation; "
                "until then it may only register the organisation and update what it "
                "registered, not run %s",
                b->subject, r->type);
            return;
        }
        if (b && chosen && b->kind->needs_totp && !s->second_factor) {
            gateway_reply_problem(rq, 403, "PERMISSION_DENIED",
                                  "a %s binding acts only in a session signed in with a TOTP "
                                  "code: enrol one (POST /api/v1/account/totp) and sign in again",
                                  b->kind->name);
            return;
        }
        if (chosen) {
            role = chosen;
            gateway_binding_actor(b->kind, b->subject, s->login, actor, sizeof actor);
        } else if (!(r->flags & GATEWAY_ROUTE_PUBLIC)) {
            char allowed[256];
            s_roles_text(h->roles, allowed, sizeof allowed);
            if (!b)
                gateway_reply_problem(rq, 403, "PERMISSION_DENIED",
                                      "this account holds no binding that may act (roles allowed "
                                      "to run %s: %s); ask to be a user of your organisation or "
                                      "for an invitation",
                                      r->type, allowed);
            else
                gateway_reply_problem(rq, 403, "PERMISSION_DENIED",
                                      "a %s binding may not run %s (roles allowed: %s); switch "
                                      "to another binding (POST /api/v1/session/binding)",
                                      b->kind->name, r->type, allowed);
            return;
        }
    }
    int get = strcmp(r->method, "GET") == 0;
    int upload = (r->flags & GATEWAY_ROUTE_UPLOAD) != 0;
    ProtobufCMessage *msg =
        gateway_request_message(rq, h->request, get || upload, upload ? UPLOAD_FIELD : NULL);
    if (!msg)
        return;
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *payload = malloc(len ? len : 1);
    if (!payload) {
        protobuf_c_message_free_unpacked(msg, NULL);
        gateway_reply_problem(rq, 500, "INTERNAL", "out of memory");
        return;
    }
    protobuf_c_message_pack(msg, payload);
    protobuf_c_message_free_unpacked(msg, NULL);
    if (len + 64 * 1024 > (size_t)cfg->base.max_message_bytes) {
        free(payload);
        gateway_reply_problem(rq, 413, "PAYLOAD_TOO_LARGE",
                              "the command would be %zu bytes, more than one message may carry "
                              "(%lld bytes with its envelope)",
                              len, (long long)cfg->base.max_message_bytes);
        return;
    }
    char id[CCIP_UUID_STRLEN + 1];
    const char *key = gateway_request_header(rq, "Idempotency-Key");
    if (key && h->mutating) {
        if (!s_key_ok(key)) {
            free(payload);
            gateway_reply_problem(rq, 400, "INVALID_ARGUMENT",
                                  "header Idempotency-Key must be 1 to %d visible ASCII "
                                  "characters, e.g. a UUID",
                                  IDEMPOTENCY_MAX);
            return;
        }
        gateway_command_id(account, r->type, key, id);
    } else {
        ccip_uuid_v7(id);
    }
    char err[600];
    /* A person's command goes with the front-door key, as that person. A
     * public route read without a session has no person: the gateway reads
     * it on its own account (role service, its service key), and the route
     * table alone decides what is public (GATEWAY_ROUTE_PUBLIC). */
    ccip_client *c = role[0] ? gateway_bus_client(rt, err, sizeof err)
                             : gateway_service_client(rt, err, sizeof err);
    if (!c) {
        free(payload);
        gateway_reply_problem(rq, 503, "UNAVAILABLE", "could not reach the bus: %s", err);
        return;
    }
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = (char *)r->type;
    env.source_service = "gateway";
    env.source_instance = (char *)gateway_instance(rt);
    env.occurred_at_us = ccip_now_us();
    env.correlation_id = (char *)gateway_request_id(rq);
    env.actor_id = actor;
    env.actor_role = (char *)role;
    env.payload.data = payload;
    env.payload.len = len;
    int timeout = (int)cfg->command_timeout_ms;
    Ccip__Envelope *reply = ccip_client_call(c, ri->service, &env, timeout / 2, 2, err, sizeof err);
    free(payload);
    if (!reply) {
        gateway_reply_problem(rq, 503, "UNAVAILABLE",
                              "%s did not answer %s in time (%s); try again", ri->service, r->type,
                              err);
        return;
    }
    if (reply->status != CCIP__STATUS__OK) {
        gateway_reply_status(rq, reply->status, reply->error);
        ccip_envelope_free(&reply);
        return;
    }
    if (b && b->status == CCIP__GATEWAY__BINDING_STATUS__PENDING &&
        strcmp(r->type, "intake.organisation.register.v1") == 0) {
        /* This account registered the organisation: its claim is the one
         * that the verification confirms. */
        ccip_db *db = gateway_db_acquire(rt, 5000);
        if (!db || gateway_binding_registered(db, b->id) < 0)
            ccip_log_warn("could not note which binding registered an organisation; staff "
                          "grant it instead",
                          "binding", b->id);
        gateway_db_release(rt, db);
        gateway_store_changed(); /* committed: cached sessions are stale */
    }
    if (h->mutating && strcmp(ri->service, "gateway") == 0)
        gateway_store_changed(); /* a binding changed and its commit is done (see
                                    gateway_session_cache.h) */
    ProtobufCMessage *out = NULL;
    if (h->reply)
        out = ccip_payload_unpack(h->reply, reply->payload.data, reply->payload.len,
                                  reply->payload.len + 1, err, sizeof err);
    if (h->reply && !out) {
        gateway_reply_problem(rq, 500, "INTERNAL",
                              "%s answered %s with a reply it could not read: %s", ri->service,
                              r->type, err);
    } else if (!out) {
        gateway_reply_json(rq, 200, json_object());
    } else if (r->flags & GATEWAY_ROUTE_DOWNLOAD) {
        s_reply_download(rq, out);
    } else {
        gateway_reply_message(rq, out);
    }
    if (out)
        protobuf_c_message_free_unpacked(out, NULL);
    ccip_envelope_free(&reply);
}
