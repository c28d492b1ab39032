#include "followup_feed.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_log.h"
#include "ccip_outbox.h"
#include "followup_projects.h"

#define TS CCIP_SQL_TS

/* An award as the event carries it, whole: the latest event wins. */
static const ccip_db_stmt S_AWARD = {
    "followup_feed_award",
    "INSERT INTO award (id, application_id, programme_code, year, grantee_uscc, grantee_name, "
    "title, amount_fen, status, status_reason, disbursed_fen, case_root) VALUES ($1::uuid, "
    "NULLIF($2, '')::uuid, $3, $4::integer, $5, $6, $7, $8::bigint, $9, $10, $11::bigint, "
    "NULLIF($12, '')::uuid) ON CONFLICT (id) DO "
    "UPDATE SET application_id = EXCLUDED.application_id, programme_code = "
    "EXCLUDED.programme_code, year = EXCLUDED.year, grantee_uscc = EXCLUDED.grantee_uscc, "
    "grantee_name = EXCLUDED.grantee_name, title = EXCLUDED.title, amount_fen = "
    "EXCLUDED.amount_fen, status = EXCLUDED.status, status_reason = EXCLUDED.status_reason, "
    "disbursed_fen = EXCLUDED.disbursed_fen, case_root = coalesce(EXCLUDED.case_root, "
    "award.case_root), updated_at = now()"};

static const ccip_db_stmt S_PAYMENT = {
    "followup_feed_payment",
    "WITH p AS (INSERT INTO award_payment (payment_id, award_id, tranche_number, amount_fen, "
    "paid_at) VALUES ($1::uuid, $2::uuid, $3::integer, $4::bigint, " TS(
        "$5") ") ON CONFLICT (payment_id) DO NOTHING) UPDATE award SET disbursed_fen = "
              "greatest(disbursed_fen, $6::bigint), updated_at = now() WHERE id = $2::uuid"};

static const ccip_db_stmt S_INSPECTION = {
    "followup_feed_inspection",
    "INSERT INTO award_inspection (inspection_id, award_id, kind, finding, notes, correct_by, "
    "misused_fen, recorded_at) VALUES ($1::uuid, $2::uuid, $3, $4, $5, " TS(
        "NULLIF($6, '0')") ", $7::bigint, " TS("$8") ") ON CONFLICT (inspection_id) DO UPDATE SET "
                                                     "finding = EXCLUDED.finding, notes = "
                                                     "EXCLUDED.notes, correct_by = "
                                                     "EXCLUDED.correct_by, misused_fen = "
                                                     "EXCLUDED.misused_fen, recorded_at = "
                                                     "EXCLUDED.recorded_at"};

static const ccip_db_stmt S_CLAWBACK = {
    "followup_feed_clawback",
    "INSERT INTO award_clawback (clawback_id, award_id, amount_fen, recovered_fen, status, "
    "reason, ordered_at) VALUES ($1::uuid, $2::uuid, $3::bigint, $4::bigint, $5, $6, " TS(
        "$7") ") ON CONFLICT (clawback_id) DO UPDATE SET recovered_fen = EXCLUDED.recovered_fen, "
              "status = EXCLUDED.status"};

static const ccip_db_stmt S_DESIGNATION = {
    "followup_feed_designation",
    "INSERT INTO designation (id, certificate_no, holder_uscc, holder_name, name, district_code, "
    "valid_until, status, revoke_reason, case_root) VALUES ($1::uuid, $2, $3, $4, $5, $6, " TS(
        "NULLIF($7, '0')") ", $8, $9, NULLIF($10, '')::uuid) ON CONFLICT (id) DO UPDATE SET "
                           "certificate_no = EXCLUDED.certificate_no, holder_name = "
                           "EXCLUDED.holder_name, name = EXCLUDED.name, valid_until = "
                           "EXCLUDED.valid_until, status = EXCLUDED.status, revoke_reason = "
                           "EXCLUDED.revoke_reason, case_root = coalesce(EXCLUDED.case_root, "
                           "designation.case_root), updated_at = now()"};

static const ccip_db_stmt S_WORK = {
    "followup_feed_work",
    "WITH w AS (INSERT INTO work (id, serial, kind, title, registered_at) VALUES ($1::uuid, "
    "$2::bigint, $3, $4, " TS("$5") ") ON CONFLICT (id) DO NOTHING RETURNING id) "
                                    "INSERT INTO work_owner (party, work_id) SELECT o, w.id FROM "
                                    "w, unnest(string_to_array($6, ',')) AS o ON CONFLICT DO "
                                    "NOTHING"};

/* The case an award or designation belongs to (common/ccip_command.h,
 * "cases"): the root id its payload names, else the event's correlation
 * when that names a case (a UUID other than the causation), else "" (none
 * known). */
static const char *s_case_root(const Ccip__Envelope *ev, const char *named)
{
    if (named && ccip_uuid_valid(named))
        return named;
    if (ccip_uuid_valid(ev->correlation_id) && strcmp(ev->correlation_id, ev->causation_id) != 0)
        return ev->correlation_id;
    return "";
}

/* Logs and skips a malformed event (returns 0: the stream goes on). */
static int s_skip(const Ccip__Envelope *ev, const char *why)
{
    ccip_log_warn("event skipped", "type", ev->type, "event", ev->id, "reason", why);
    return 0;
}

static ProtobufCMessage *s_unpack(const Ccip__Envelope *ev, const ProtobufCMessageDescriptor *desc)
{
    char err[256];
    ProtobufCMessage *m = ccip_payload_unpack(desc, ev->payload.data, ev->payload.len,
                                              CCIP_OUTBOX_PAYLOAD_MAX, err, sizeof err);
    if (!m)
        s_skip(ev, err);
    return m;
}

/* ---- funding ---------------------------------------------------------------- */

/* The sentence a project's record gets for an award event. */
static void s_award_summary(const Ccip__Envelope *ev, const Ccip__Funding__Award *w, char *buf,
                            size_t len)
{
    const char *what = strrchr(ev->type, '.');
    /* "funding.award.suspended.v1" -> "suspended" */
    char verb[32] = "";
    const char *start = ev->type + strlen("funding.award.");
    if (what && what > start)
        snprintf(verb, sizeof verb, "%.*s", (int)(what - start), start);
    snprintf(buf, len, "funding award %s was %s%s%s", w->id, verb,
             w->status_reason && w->status_reason[0] ? ": " : "",
             w->status_reason ? w->status_reason : "");
}

static int s_award(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    Ccip__Funding__AwardChanged *c =
        (Ccip__Funding__AwardChanged *)s_unpack(ev, &ccip__funding__award_changed__descriptor);
    if (!c)
        return 0;
    const Ccip__Funding__Award *w = c->award;
    const char *status =
        w ? ccip_enum_name(&ccip__funding__award_status__descriptor, (int)w->status) : NULL;
    int rc = 0;
    if (!w || !ccip_uuid_valid(w->id) || !status || w->status == 0) {
        rc = s_skip(ev, "the award, its id or its status is missing");
    } else {
        char year[16], amount[24], disbursed[24];
        snprintf(year, sizeof year, "%d", w->year);
        snprintf(amount, sizeof amount, "%" PRId64, w->amount_fen);
        snprintf(disbursed, sizeof disbursed, "%" PRId64, w->disbursed_fen);
        const char *v[] = {w->id,
                           ccip_uuid_valid(w->application_id) ? w->application_id : "",
                           w->programme_code,
                           year,
                           w->grantee_uscc,
                           w->grantee_name,
                           w->title,
                           amount,
                           status,
                           w->status_reason,
                           disbursed,
                           s_case_root(ev, w->case_root)};
        rc = ccip_db_exec(db, &S_AWARD, 12, v, NULL, NULL, NULL);
        if (rc == 0) {
            char summary[600];
            s_award_summary(ev, w, summary, sizeof summary);
            rc = followup_project_source_changed(db, ev, w->id, "", summary);
        }
    }
    protobuf_c_message_free_unpacked(&c->base, NULL);
    return rc;
}

static int s_paid(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    Ccip__Funding__DisbursementPaid *d = (Ccip__Funding__DisbursementPaid *)s_unpack(
        ev, &ccip__funding__disbursement_paid__descriptor);
    if (!d)
        return 0;
    int rc;
    if (!ccip_uuid_valid(d->payment_id) || !ccip_uuid_valid(d->award_id)) {
        rc = s_skip(ev, "payment_id or award_id is not a UUID");
    } else {
        char n[16], amount[24], at[24], total[24];
        snprintf(n, sizeof n, "%d", d->tranche_number);
        snprintf(amount, sizeof amount, "%" PRId64, d->amount_fen);
        snprintf(at, sizeof at, "%" PRId64, d->paid_at_us ? d->paid_at_us : ev->occurred_at_us);
        snprintf(total, sizeof total, "%" PRId64, d->disbursed_total_fen);
        const char *v[] = {d->payment_id, d->award_id, n, amount, at, total};
        rc = ccip_db_exec(db, &S_PAYMENT, 6, v, NULL, NULL, NULL);
        if (rc == 0) {
            char summary[200], yuan[CCIP_FEN_STRLEN + 1];
            ccip_fen_format(d->amount_fen, yuan, sizeof yuan);
            snprintf(summary, sizeof summary, "tranche %d of the funding award was paid: %s yuan",
                     d->tranche_number, yuan);
            rc = followup_project_source_changed(db, ev, d->award_id, "", summary);
        }
    }
    protobuf_c_message_free_unpacked(&d->base, NULL);
    return rc;
}

static int s_inspection(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    Ccip__Funding__InspectionRecorded *r = (Ccip__Funding__InspectionRecorded *)s_unpack(
        ev, &ccip__funding__inspection_recorded__descriptor);
    if (!r)
        return 0;
    const Ccip__Funding__Inspection *i = r->inspection;
    const char *kind =
        i ? ccip_enum_name(&ccip__funding__inspection_kind__descriptor, (int)i->kind) : NULL;
    const char *finding =
        i ? ccip_enum_name(&ccip__funding__finding__descriptor, (int)i->finding) : NULL;
    int rc;
    if (!i || !ccip_uuid_valid(i->id) || !ccip_uuid_valid(i->award_id) || !kind || !finding) {
        rc = s_skip(ev, "the inspection, its ids, kind or finding is missing");
    } else {
        char correct[24], misused[24], at[24];
        snprintf(correct, sizeof correct, "%" PRId64, i->correct_by_us);
        snprintf(misused, sizeof misused, "%" PRId64, i->misused_fen);
        snprintf(at, sizeof at, "%" PRId64,
                 i->recorded_at_us ? i->recorded_at_us : ev->occurred_at_us);
        const char *v[] = {i->id, i->award_id, kind, finding, i->notes, correct, misused, at};
        rc = ccip_db_exec(db, &S_INSPECTION, 8, v, NULL, NULL, NULL);
        if (rc == 0) {
            char summary[200];
            snprintf(summary, sizeof summary, "a %s inspection of the funded project found %s",
                     kind, finding);
            rc = followup_project_source_changed(db, ev, i->award_id, "", summary);
        }
    }
    protobuf_c_message_free_unpacked(&r->base, NULL);
    return rc;
}

static int s_clawback(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    Ccip__Funding__ClawbackChanged *c = (Ccip__Funding__ClawbackChanged *)s_unpack(
        ev, &ccip__funding__clawback_changed__descriptor);
    if (!c)
        return 0;
    const Ccip__Funding__Clawback *k = c->clawback;
    const char *status =
        k ? ccip_enum_name(&ccip__funding__clawback_status__descriptor, (int)k->status) : NULL;
    int rc;
    if (!k || !ccip_uuid_valid(k->id) || !ccip_uuid_valid(k->award_id) || !status ||
        k->status == 0) {
        rc = s_skip(ev, "the clawback, its ids or status is missing");
    } else {
        char amount[24], recovered[24], at[24];
        snprintf(amount, sizeof amount, "%" PRId64, k->amount_fen);
        snprintf(recovered, sizeof recovered, "%" PRId64, k->recovered_fen);
        snprintf(at, sizeof at, "%" PRId64,
                 k->ordered_at_us ? k->ordered_at_us : ev->occurred_at_us);
        const char *v[] = {k->id, k->award_id, amount, recovered, status, k->reason, at};
        rc = ccip_db_exec(db, &S_CLAWBACK, 7, v, NULL, NULL, NULL);
        if (rc == 0) {
            char summary[300], yuan[CCIP_FEN_STRLEN + 1];
            ccip_fen_format(k->amount_fen, yuan, sizeof yuan);
            snprintf(summary, sizeof summary, "a clawback of %s yuan was %s", yuan,
                     k->status == CCIP__FUNDING__CLAWBACK_STATUS__CLAWBACK_RECOVERED
                         ? "recovered in full"
                         : "ordered");
            rc = followup_project_source_changed(db, ev, k->award_id, "", summary);
        }
    }
    protobuf_c_message_free_unpacked(&c->base, NULL);
    return rc;
}

/* ---- evaluation ------------------------------------------------------------- */

static int s_designation(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    Ccip__Evaluation__DesignationChanged *c = (Ccip__Evaluation__DesignationChanged *)s_unpack(
        ev, &ccip__evaluation__designation_changed__descriptor);
    if (!c)
        return 0;
    const Ccip__Evaluation__Designation *d = c->designation;
    const char *status =
        d ? ccip_enum_name(&ccip__evaluation__designation_status__descriptor, (int)d->status)
          : NULL;
    int rc = 0;
    if (!d || !ccip_uuid_valid(d->id) || !status || d->status == 0 ||
        ccip_uscc_check(d->holder_uscc, NULL, 0) < 0) {
        rc = s_skip(ev, "the designation, its id, status or holder is missing");
    } else if (d->kind != CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION) {
        rc = 0; /* a talent base: no key project comes from it */
    } else {
        char until[24];
        snprintf(until, sizeof until, "%" PRId64, d->valid_until_us);
        const char *v[] = {d->id,
                           d->certificate_no,
                           d->holder_uscc,
                           d->holder_name,
                           d->name,
                           d->district_code,
                           until,
                           status,
                           d->revoke_reason,
                           s_case_root(ev, d->case_root)};
        rc = ccip_db_exec(db, &S_DESIGNATION, 10, v, NULL, NULL, NULL);
        if (rc == 0) {
            char summary[400];
            snprintf(summary, sizeof summary, "the designation %s was %s%s%s", d->certificate_no,
                     d->status == CCIP__EVALUATION__DESIGNATION_STATUS__DESIGNATION_REVOKED
                         ? "revoked"
                         : "granted",
                     d->revoke_reason && d->revoke_reason[0] ? ": " : "",
                     d->revoke_reason ? d->revoke_reason : "");
            rc = followup_project_source_changed(db, ev, "", d->id, summary);
        }
    }
    protobuf_c_message_free_unpacked(&c->base, NULL);
    return rc;
}

/* ---- ip ---------------------------------------------------------------------- */

static int s_work(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    Ccip__Ip__WorkRegistered *w =
        (Ccip__Ip__WorkRegistered *)s_unpack(ev, &ccip__ip__work_registered__descriptor);
    if (!w)
        return 0;
    const char *kind = ccip_enum_name(&ccip__ip__work_kind__descriptor, (int)w->kind);
    int rc;
    /* Parties are "org:<USCC>" or "person:<id>": no commas. */
    char parties[2048] = "";
    size_t used = 0;
    int ok = 1;
    for (size_t i = 0; i < w->n_owners && ok; i++) {
        const char *party = w->owners[i]->party;
        ok = party && party[0] && !strchr(party, ',');
        if (ok)
            used +=
                (size_t)snprintf(parties + used, used < sizeof parties ? sizeof parties - used : 0,
                                 "%s%s", i ? "," : "", party);
    }
    if (!ccip_uuid_valid(w->work_id) || !kind || !ok || used >= sizeof parties) {
        rc = s_skip(ev, "the work id, kind or an owner is missing or malformed");
    } else {
        char serial[24], at[24];
        snprintf(serial, sizeof serial, "%" PRIu64, w->serial);
        snprintf(at, sizeof at, "%" PRId64,
                 w->registered_at_us ? w->registered_at_us : ev->occurred_at_us);
        const char *v[] = {w->work_id, serial, kind, w->title, at, parties};
        rc = ccip_db_exec(db, &S_WORK, 6, v, NULL, NULL, NULL);
    }
    protobuf_c_message_free_unpacked(&w->base, NULL);
    return rc;
}

/* ---- subscriptions ------------------------------------------------------------ */

static const ccip_consumer_handler s_funding[] = {
    {"funding.award.granted.v1", s_award},       {"funding.award.signed.v1", s_award},
    {"funding.award.suspended.v1", s_award},     {"funding.award.resumed.v1", s_award},
    {"funding.award.terminated.v1", s_award},    {"funding.award.completed.v1", s_award},
    {"funding.disbursement.paid.v1", s_paid},    {"funding.inspection.recorded.v1", s_inspection},
    {"funding.clawback.ordered.v1", s_clawback}, {"funding.clawback.recovered.v1", s_clawback},
};

static const ccip_consumer_handler s_evaluation[] = {
    {"evaluation.designation.granted.v1", s_designation},
    {"evaluation.designation.revoked.v1", s_designation},
};

static const ccip_consumer_handler s_ip[] = {
    {"ip.work.registered.v1", s_work},
};

const ccip_subscription followup_feed_subscriptions[FOLLOWUP_FEED_NSUBSCRIPTIONS] = {
    {"funding", CCIP_TABLE(s_funding)},
    {"evaluation", CCIP_TABLE(s_evaluation)},
    {"ip", CCIP_TABLE(s_ip)},
};
