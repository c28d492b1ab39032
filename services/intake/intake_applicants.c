#include "intake_applicants.h"

#include <stdio.h>
#include <string.h>

#include "ccip_id.h"
#include "intake_validate.h"

#define ORG_COLUMNS INTAKE_ORG_COLUMNS
enum {
    O_USCC,
    O_NAME,
    O_TYPE,
    O_DISTRICT,
    O_LEGAL_REP,
    O_CONTACT_NAME,
    O_CONTACT_PHONE,
    O_CONTACT_EMAIL,
    O_ADDRESS,
    O_REGISTERED_AT,
    O_REGISTERED_BY,
    O_VERIFIED_AT,
    O_VERIFIED_BY,
    O_VERIFICATION_NOTE,
};
_Static_assert(O_VERIFICATION_NOTE + 1 == INTAKE_ORG_NCOLUMNS,
               "INTAKE_ORG_COLUMNS and its columns");

static const ccip_db_stmt S_INSERT = {
    "intake_org_insert",
    "INSERT INTO organisation (uscc, name, org_type, district_code, legal_representative, "
    "contact_name, contact_phone, contact_email, address, registered_by) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (uscc) DO NOTHING"};

static const ccip_db_stmt S_GET = {"intake_org_get",
                                   "SELECT " ORG_COLUMNS " FROM organisation WHERE uscc = $1"};

static const ccip_db_stmt S_GET_LOCK = {
    "intake_org_get_lock", "SELECT " ORG_COLUMNS " FROM organisation WHERE uscc = $1 FOR UPDATE"};

/* $10: the verification is withdrawn (name, type or district changed). */
static const ccip_db_stmt S_UPDATE = {
    "intake_org_update",
    "UPDATE organisation SET name = $2, org_type = $3, district_code = $4, "
    "legal_representative = $5, contact_name = $6, contact_phone = $7, contact_email = $8, "
    "address = $9, verified_at = CASE WHEN $10::boolean THEN NULL ELSE verified_at END, "
    "verified_by = CASE WHEN $10::boolean THEN NULL ELSE verified_by END, verification_note = "
    "CASE WHEN $10::boolean THEN '' ELSE verification_note END WHERE uscc = $1"};

static const ccip_db_stmt S_VERIFY = {
    "intake_org_verify",
    "UPDATE organisation SET verified_at = now(), verified_by = $2, verification_note = $3 "
    "WHERE uscc = $1 AND verified_at IS NULL"};

Ccip__Intake__Organisation *intake_org_from_row(const PGresult *res, int row, int col0,
                                                ccip_arena *a)
{
    Ccip__Intake__Organisation *o =
        ccip_row_new(a, CCIP_MSG(intake, organisation), res, row, col0 + O_USCC,
                     "uscc, name, type, district_code, legal_representative, contact_name, "
                     "contact_phone, contact_email, address, registered_at_us, registered_by, "
                     "verified_at_us, verified_by, verification_note");
    if (!o)
        return NULL;
    o->verified = !PQgetisnull(res, row, col0 + O_VERIFIED_AT);
    return ccip_arena_failed(a) ? NULL : o;
}

static int s_load(ccip_command *cmd, const char *uscc, int lock, ccip_arena *a,
                  Ccip__Intake__Organisation **out)
{
    *out = NULL;
    PGresult *res = NULL;
    int rc = ccip_command_row(cmd, lock ? &S_GET_LOCK : &S_GET, 1, &uscc, &res,
                              "organisation %s is not registered; register it with "
                              "intake.organisation.register.v1 first",
                              uscc);
    if (rc != 0)
        return rc;
    *out = intake_org_from_row(res, 0, 0, a);
    PQclear(res);
    if (!*out)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "out of memory reading organisation %s", uscc);
    return 0;
}

int intake_org_load(ccip_command *cmd, const char *uscc, ccip_arena *a,
                    Ccip__Intake__Organisation **out)
{
    return s_load(cmd, uscc, 0, a, out);
}

static int s_reply_org(ccip_command *cmd, Ccip__Intake__Organisation *org)
{
    Ccip__Intake__OrganisationReply reply = CCIP__INTAKE__ORGANISATION_REPLY__INIT;
    reply.organisation = org;
    return ccip_command_reply(cmd, &reply.base);
}

int intake_org_register(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__RegisterOrganisationRequest *rq = request;
    char err[512];
    if (intake_validate_organisation(rq, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    char what[64];
    snprintf(what, sizeof what, "organisation %s", rq->uscc);
    int rc = intake_check_owner(cmd, rq->uscc, 1, what);
    if (rc != 0)
        return rc;
    const ccip_district *d = ccip_district_find(rq->district);
    const char *values[] = {
        rq->uscc,
        rq->name,
        ccip_enum_name(&ccip__intake__organisation_type__descriptor, (int)rq->type),
        d->code,
        rq->legal_representative,
        rq->contact_name,
        rq->contact_phone,
        rq->contact_email,
        rq->address,
        cmd->actor.id};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_INSERT, 10, values, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    int inserted = strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    Ccip__Intake__Organisation *org = NULL;
    if ((rc = s_load(cmd, rq->uscc, 0, a, &org)) != 0)
        return rc;
    char name[104];
    if (!inserted)
        return ccip_command_fail(cmd, CCIP__STATUS__ALREADY_EXISTS,
                                 "organisation %s is already registered, as \"%s\"; read it with "
                                 "intake.organisation.get.v1",
                                 rq->uscc, ccip_text_shown(org->name, 100, name, sizeof name));
    Ccip__Intake__OrganisationRegistered ev = CCIP__INTAKE__ORGANISATION_REGISTERED__INIT;
    ev.organisation = org;
    if ((rc = ccip_command_emit(cmd, "intake.organisation.registered.v1", "organisation", org->uscc,
                                &ev.base)) != 0)
        return rc;
    return s_reply_org(cmd, org);
}

int intake_org_update(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__UpdateOrganisationRequest *rq = request;
    char err[512];
    const Ccip__Intake__RegisterOrganisationRequest *d = rq->details;
    if (!d)
        return ccip_command_fail(
            cmd, CCIP__STATUS__INVALID_ARGUMENT,
            "field `details` is missing; give the organisation's details as at "
            "registration");
    if (intake_validate_organisation(d, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
    if (intake_validate_reason(rq->reason, 0, "", err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s (field `reason`)", err);
    char what[64];
    snprintf(what, sizeof what, "organisation %s", d->uscc);
    int rc = intake_check_owner(cmd, d->uscc, 1, what);
    Ccip__Intake__Organisation *org = NULL;
    if (rc != 0 || (rc = s_load(cmd, d->uscc, 1, a, &org)) != 0)
        return rc;
    const ccip_district *district = ccip_district_find(d->district);
    const char *type = ccip_enum_name(&ccip__intake__organisation_type__descriptor, (int)d->type);
    int identity = strcmp(org->name, d->name) != 0 || org->type != d->type ||
                   strcmp(org->district_code, district->code) != 0;
    if (!identity && strcmp(org->legal_representative, d->legal_representative) == 0 &&
        strcmp(org->contact_name, d->contact_name) == 0 &&
        strcmp(org->contact_phone, d->contact_phone) == 0 &&
        strcmp(org->contact_email, d->contact_email) == 0 && strcmp(org->address, d->address) == 0)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "organisation %s already reads exactly like this; nothing to change", d->uscc);
    int withdrawn = identity && org->verified;
    const char *values[] = {d->uscc,
                            d->name,
                            type,
                            district->code,
                            d->legal_representative,
                            d->contact_name,
                            d->contact_phone,
                            d->contact_email,
                            d->address,
                            withdrawn ? "true" : "false"};
    if ((rc = ccip_db_exec(cmd->db, &S_UPDATE, 10, values, NULL, NULL, NULL)) != CCIP_DB_OK ||
        (rc = s_load(cmd, d->uscc, 0, a, &org)) != 0)
        return rc;
    Ccip__Intake__OrganisationUpdated ev = CCIP__INTAKE__ORGANISATION_UPDATED__INIT;
    ev.organisation = org;
    ev.reason = rq->reason;
    ev.verification_withdrawn = withdrawn;
    if ((rc = ccip_command_emit(cmd, "intake.organisation.updated.v1", "organisation", org->uscc,
                                &ev.base)) != 0)
        return rc;
    return s_reply_org(cmd, org);
}

/* The USCC of a request, checked; INVALID_ARGUMENT names the fix. */
static int s_check_uscc(ccip_command *cmd, const char *uscc)
{
    char err[300];
    if (!uscc[0])
        return ccip_command_fail(
            cmd, CCIP__STATUS__INVALID_ARGUMENT,
            "field `uscc` is empty; give the organisation's unified social credit "
            "code");
    if (ccip_uscc_check(uscc, err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "field `uscc`: %s", err);
    return 0;
}

int intake_org_verify(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__VerifyOrganisationRequest *rq = request;
    char err[512];
    int rc = s_check_uscc(cmd, rq->uscc);
    if (rc != 0)
        return rc;
    if (intake_validate_reason(rq->note, 0, "", err, sizeof err) < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s (field `note`)", err);
    Ccip__Intake__Organisation *org = NULL;
    if ((rc = s_load(cmd, rq->uscc, 1, a, &org)) != 0)
        return rc;
    if (org->verified) {
        char when[CCIP_TIME_STRLEN + 1], by[64];
        ccip_time_text(org->verified_at_us, when, sizeof when);
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "organisation %s was already verified at %s UTC by %s; nothing to do", rq->uscc, when,
            ccip_text_shown(org->verified_by, 60, by, sizeof by));
    }
    const char *values[] = {rq->uscc, cmd->actor.id, rq->note};
    if ((rc = ccip_db_exec(cmd->db, &S_VERIFY, 3, values, NULL, NULL, NULL)) != CCIP_DB_OK)
        return rc;
    if ((rc = s_load(cmd, rq->uscc, 0, a, &org)) != 0)
        return rc;
    Ccip__Intake__OrganisationVerified ev = CCIP__INTAKE__ORGANISATION_VERIFIED__INIT;
    ev.uscc = org->uscc;
    ev.name = org->name;
    ev.verified_at_us = org->verified_at_us;
    ev.verified_by = org->verified_by;
    if ((rc = ccip_command_emit(cmd, "intake.organisation.verified.v1", "organisation", org->uscc,
                                &ev.base)) != 0)
        return rc;
    return s_reply_org(cmd, org);
}

int intake_org_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Intake__GetOrganisationRequest *rq = request;
    char what[64];
    char shown[24];
    snprintf(what, sizeof what, "organisation %s",
             ccip_text_shown(rq->uscc, 18, shown, sizeof shown));
    Ccip__Intake__Organisation *org = NULL;
    int rc;
    if ((rc = s_check_uscc(cmd, rq->uscc)) != 0 ||
        (rc = intake_check_owner(cmd, rq->uscc, 1, what)) != 0 ||
        (rc = s_load(cmd, rq->uscc, 0, a, &org)) != 0)
        return rc;
    return s_reply_org(cmd, org);
}
