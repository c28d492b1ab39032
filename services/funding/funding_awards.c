#include "funding_awards.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_log.h"
#include "funding_inspections.h"
#include "funding_ledger.h"
#include "funding_programmes.h"
#include "funding_reports.h"
#include "funding_tranches.h"

#define LIST_DEFAULT  500
#define LIST_MAX      5000
#define EVENT_MAX     (4 * 1024 * 1024) /* largest consumed payload decoded */
#define NAME_MAX_TEXT 200               /* characters kept of a grantee name or title */

/* ---- rows ------------------------------------------------------------------- */

enum {
    W_ID,
    W_APPLICATION,
    W_CASE,
    W_PROGRAMME,
    W_YEAR,
    W_CATEGORY,
    W_USCC,
    W_NAME,
    W_TITLE,
    W_REQUESTED,
    W_RECOMMENDED,
    W_AMOUNT,
    W_STATUS,
    W_NOTE,
    W_PROPOSED_AT,
    W_CONFIRMED_AT,
    W_CONFIRMED_BY,
    W_SIGNED_AT,
    W_SIGNED_BY,
    W_STATUS_REASON,
    W_STATUS_AT,
    W_WORKS,
    W_HOLD,
};
_Static_assert(W_HOLD + 1 == FUNDING_AWARD_NCOLUMNS, "FUNDING_AWARD_NCOLUMNS is out of date");

static const ccip_db_stmt S_AWARD_GET = {
    "funding_award_get", "SELECT " FUNDING_AWARD_COLUMNS " FROM award w WHERE w.id = $1::uuid"};

static const ccip_db_stmt S_AWARD_BY_APPLICATION = {
    "funding_award_by_application",
    "SELECT " FUNDING_AWARD_COLUMNS " FROM award w WHERE w.application_id = $1::uuid"};

static const ccip_db_stmt S_AWARD_LOCK = {
    "funding_award_lock",
    "SELECT id, application_id, programme_code, year, category, grantee_uscc, "
    "requested_fen, amount_fen, status, status_reason, (extract(epoch FROM "
    "status_changed_at) * 1000000)::bigint, signed_at IS NOT NULL FROM award "
    "WHERE id = $1::uuid FOR UPDATE"};

static const ccip_db_stmt S_AWARD_BALANCES = {
    "funding_award_balances", "SELECT kind, balance_fen FROM account WHERE award_id = $1::uuid"};

static const ccip_db_stmt S_AWARD_LIST = {
    "funding_award_list",
    "SELECT " FUNDING_AWARD_COLUMNS
    " FROM award w WHERE ($1 = '' OR w.programme_code = $1) AND ($2::integer = 0 "
    "OR w.year = $2::integer) AND ($3 = '' OR w.status = $3) AND ($4 = '' OR "
    "w.grantee_uscc = $4) ORDER BY w.proposed_at, w.id LIMIT $5::integer"};

static const ccip_db_stmt S_AWARD_HOLD = {
    "funding_award_hold",
    "SELECT h.dispute_id, h.work_id, h.reasons FROM award_work k JOIN work_hold "
    "h ON h.work_id = k.work_id WHERE k.award_id = $1::uuid AND h.released_at IS NULL ORDER BY "
    "h.dispute_id LIMIT 1"};

static const ccip_db_stmt S_AWARD_STATUS = {
    "funding_award_status",
    "UPDATE award SET status = $2, status_reason = $3, status_changed_at = now() "
    "WHERE id = $1::uuid"};

static const ccip_db_stmt S_AWARD_SIGN = {
    "funding_award_sign", "UPDATE award SET signed_at = now(), signed_by = $2 WHERE id = $1::uuid"};

static const ccip_db_stmt S_AWARD_UNPAID = {
    "funding_award_unpaid", "SELECT count(*) FROM tranche WHERE award_id = $1::uuid AND status <> "
                            "'TRANCHE_PAID'"};

static const ccip_db_stmt S_COMMITTED_BALANCE = {
    "funding_award_committed",
    "SELECT coalesce((SELECT balance_fen FROM account WHERE code = 'committed:' "
    "|| $1), 0)"};

static const ccip_db_stmt S_WORK_LINK = {
    "funding_award_link_work",
    "INSERT INTO award_work (award_id, work_id, linked_by) VALUES ($1::uuid, $2, "
    "$3) ON CONFLICT DO NOTHING"};

static const ccip_db_stmt S_PROPOSE = {
    "funding_award_propose",
    "INSERT INTO award (id, application_id, case_id, decision_event_id, "
    "programme_code, year, grantee_uscc, grantee_name, title, requested_fen, "
    "recommended_fen, amount_fen, status, note) VALUES ($1::uuid, $2::uuid, $3, "
    "$4, $5, $6::integer, $7, $8, $9, $10::bigint, $11::bigint, $12::bigint, "
    "'AWARD_PROPOSED', $13) ON CONFLICT DO NOTHING RETURNING id"};

static const ccip_db_stmt S_HOLD_INSERT = {
    "funding_work_hold",
    "INSERT INTO work_hold (dispute_id, work_id, reasons, event_id) VALUES ($1, "
    "$2, $3, $4) ON CONFLICT DO NOTHING"};

static const ccip_db_stmt S_HOLD_RELEASE = {
    "funding_work_hold_release",
    "UPDATE work_hold SET released_at = now(), release_event_id = $2, release_reasons = $3 "
    "WHERE dispute_id = $1 AND released_at IS NULL"};

static const char *s_status_name(Ccip__Funding__AwardStatus s)
{
    const char *n = ccip_enum_name(&ccip__funding__award_status__descriptor, (int)s);
    return n ? n : "AWARD_STATUS_UNSPECIFIED";
}

int funding_award_lock(ccip_command *cmd, const char *id, funding_award_row *out)
{
    memset(out, 0, sizeof *out);
    PGresult *res = NULL;
    int rc = ccip_command_row(cmd, &S_AWARD_LOCK, 1, &id, &res,
                              "there is no award %s; list awards with funding.award.list.v1", id);
    if (rc != 0)
        return rc;
    snprintf(out->id, sizeof out->id, "%s", PQgetvalue(res, 0, 0));
    snprintf(out->application_id, sizeof out->application_id, "%s", PQgetvalue(res, 0, 1));
    snprintf(out->programme_code, sizeof out->programme_code, "%s", PQgetvalue(res, 0, 2));
    out->year = (int32_t)ccip_db_cell_i64(res, 0, 3);
    snprintf(out->category, sizeof out->category, "%s", PQgetvalue(res, 0, 4));
    snprintf(out->grantee_uscc, sizeof out->grantee_uscc, "%s", PQgetvalue(res, 0, 5));
    out->requested_fen = ccip_db_cell_i64(res, 0, 6);
    out->amount_fen = ccip_db_cell_i64(res, 0, 7);
    out->status = (Ccip__Funding__AwardStatus)ccip_enum_value(
        &ccip__funding__award_status__descriptor, PQgetvalue(res, 0, 8));
    snprintf(out->status_reason, sizeof out->status_reason, "%s", PQgetvalue(res, 0, 9));
    out->status_changed_at_us = ccip_db_cell_i64(res, 0, 10);
    out->is_signed = ccip_db_cell_bool(res, 0, 11);
    PQclear(res);
    return 0;
}

int funding_award_wrong_status(ccip_command *cmd, const funding_award_row *w, const char *action,
                               const char *allowed)
{
    char when[CCIP_TIME_STRLEN + 1];
    ccip_time_text(w->status_changed_at_us, when, sizeof when);
    return ccip_command_fail(
        cmd, CCIP__STATUS__FAILED_PRECONDITION,
        "award %s is %s (since %s UTC%s%.300s); only an award that is %s can be %s", w->id,
        s_status_name(w->status), when, w->status_reason[0] ? ": " : "", w->status_reason, allowed,
        action);
}

int funding_award_check_payable(ccip_command *cmd, const funding_award_row *w,
                                int32_t tranche_number)
{
    char when[CCIP_TIME_STRLEN + 1];
    ccip_time_text(w->status_changed_at_us, when, sizeof when);
    switch (w->status) {
    case CCIP__FUNDING__AWARD_STATUS__AWARD_COMMITTED:
        break;
    case CCIP__FUNDING__AWARD_STATUS__AWARD_SUSPENDED:
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "tranche %d of award %s cannot be paid: the award is suspended since %s UTC "
            "(%.300s); resume it with funding.award.resume.v1 first",
            (int)tranche_number, w->id, when, w->status_reason);
    case CCIP__FUNDING__AWARD_STATUS__AWARD_PROPOSED:
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "tranche %d of award %s cannot be paid: the award is only proposed; confirm "
            "it with funding.award.confirm.v1 first",
            (int)tranche_number, w->id);
    default:
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "tranche %d of award %s cannot be paid: the award is %s since %s UTC",
            (int)tranche_number, w->id, s_status_name(w->status), when);
    }
    PGresult *res = NULL;
    const char *id = w->id;
    int rc = ccip_db_exec(cmd->db, &S_AWARD_HOLD, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) == 1) {
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "tranche %d of award %s cannot be paid: it is held because ip dispute %s was "
            "upheld on work %s, which the project uses (%.200s)",
            (int)tranche_number, w->id, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
            PQgetvalue(res, 0, 2));
    }
    PQclear(res);
    return rc;
}

/* Splits "a b c" into an array from the arena. */
static char **s_split(ccip_arena *a, const char *s, size_t *n)
{
    *n = 0;
    if (!*s)
        return NULL;
    size_t count = 1;
    for (const char *p = s; *p; p++)
        count += *p == ' ';
    char **out = ccip_arena_alloc(a, count * sizeof *out);
    char *copy = ccip_arena_strdup(a, s);
    if (!out || ccip_arena_failed(a))
        return NULL;
    for (char *tok = copy, *next; tok; tok = next) {
        next = strchr(tok, ' ');
        if (next)
            *next++ = '\0';
        out[(*n)++] = tok;
    }
    return out;
}

Ccip__Funding__Award *funding_award_from_result(const PGresult *res, int r, ccip_arena *a)
{
    Ccip__Funding__Award *w = ccip_row_new(
        a, CCIP_MSG(funding, award), res, r, W_ID,
        "id, application_id, case_id, programme_code, year, category, grantee_uscc, "
        "grantee_name, title, requested_fen, recommended_fen, amount_fen, status, note, "
        "proposed_at_us, confirmed_at_us, confirmed_by, signed_at_us, signed_by, "
        "status_reason, status_changed_at_us, , ip_hold");
    if (!w)
        return NULL;
    w->work_ids = s_split(a, PQgetvalue(res, r, W_WORKS), &w->n_work_ids);
    return w;
}

/* Fills the award's figures (from its accounts) and lists. */
static int s_fill(ccip_db *db, Ccip__Funding__Award *w, int full, ccip_arena *a)
{
    PGresult *res = NULL;
    const char *id = w->id;
    int rc = ccip_db_exec(db, &S_AWARD_BALANCES, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *kind = PQgetvalue(res, r, 0);
        int64_t v = ccip_db_cell_i64(res, r, 1);
        if (strcmp(kind, "DISBURSED") == 0)
            w->disbursed_fen = v;
        else if (strcmp(kind, "CLAWED_BACK") == 0)
            w->clawed_back_fen = v;
        else if (strcmp(kind, "RECOVERED") == 0)
            w->recovered_fen = v;
    }
    PQclear(res);
    if ((rc = funding_tranches_load(db, id, a, &w->tranches, &w->n_tranches)) != 0 || !full)
        return rc;
    if ((rc = funding_payments_load(db, id, a, &w->payments, &w->n_payments)) != 0 ||
        (rc = funding_reports_load(db, id, a, &w->reports, &w->n_reports)) != 0 ||
        (rc = funding_inspections_load(db, id, a, &w->inspections, &w->n_inspections)) != 0)
        return rc;
    return funding_clawbacks_load(db, id, a, &w->clawbacks, &w->n_clawbacks);
}

int funding_award_load(ccip_db *db, const char *id, const char *application_id, int full,
                       ccip_arena *a, Ccip__Funding__Award **out)
{
    *out = NULL;
    PGresult *res = NULL;
    const char *key = id ? id : application_id;
    int rc =
        ccip_db_exec(db, id ? &S_AWARD_GET : &S_AWARD_BY_APPLICATION, 1, &key, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    Ccip__Funding__Award *w = PQntuples(res) == 1 ? funding_award_from_result(res, 0, a) : NULL;
    PQclear(res);
    if (!w)
        return 0;
    if ((rc = s_fill(db, w, full, a)) != 0)
        return rc;
    if (!ccip_arena_failed(a))
        *out = w;
    return 0;
}

int funding_award_emit(ccip_command *cmd, const char *type, const char *id, const char *reason)
{
    ccip_arena *a = ccip_arena_new();
    Ccip__Funding__Award *w = NULL;
    int rc = funding_award_load(cmd->db, id, NULL, 0, a, &w);
    if (rc == 0 && !w)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not read award %s back", id);
    if (rc == 0) {
        Ccip__Funding__AwardChanged ev = CCIP__FUNDING__AWARD_CHANGED__INIT;
        ev.award = w;
        ev.reason = (char *)(reason ? reason : "");
        rc = ccip_command_emit(cmd, type, "application", w->application_id, &ev.base);
    }
    ccip_arena_destroy(&a);
    return rc;
}

/* Replies with award `id` in full. */
static int s_reply_award(ccip_command *cmd, const char *id)
{
    ccip_arena *a = ccip_arena_new();
    Ccip__Funding__Award *w = NULL;
    int rc = funding_award_load(cmd->db, id, NULL, 1, a, &w);
    if (rc == 0) {
        if (!w) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not read award %s back", id);
        } else {
            Ccip__Funding__AwardReply reply = CCIP__FUNDING__AWARD_REPLY__INIT;
            reply.award = w;
            rc = ccip_command_reply(cmd, &reply.base);
        }
    }
    ccip_arena_destroy(&a);
    return rc;
}

int funding_award_suspend_locked(ccip_command *cmd, funding_award_row *w, const char *reason)
{
    if (w->status != CCIP__FUNDING__AWARD_STATUS__AWARD_COMMITTED)
        return funding_award_wrong_status(cmd, w, "suspended", "AWARD_COMMITTED");
    const char *v[] = {w->id, "AWARD_SUSPENDED", reason};
    int rc = ccip_db_exec(cmd->db, &S_AWARD_STATUS, 3, v, NULL, NULL, NULL);
    if (rc == CCIP_DB_OK)
        rc = funding_tranches_suspend(cmd->db, w->id, reason);
    if (rc == CCIP_DB_OK)
        rc = funding_award_emit(cmd, "funding.award.suspended.v1", w->id, reason);
    if (rc == 0)
        w->status = CCIP__FUNDING__AWARD_STATUS__AWARD_SUSPENDED;
    return rc;
}

int funding_award_complete_if_paid(ccip_command *cmd, const funding_award_row *w)
{
    PGresult *res = NULL;
    const char *id = w->id;
    int rc = ccip_db_exec(cmd->db, &S_AWARD_UNPAID, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int64_t unpaid = ccip_db_cell_i64(res, 0, 0);
    PQclear(res);
    if (unpaid > 0)
        return 0;
    const char *v[] = {w->id, "AWARD_COMPLETED", "every tranche paid"};
    if ((rc = ccip_db_exec(cmd->db, &S_AWARD_STATUS, 3, v, NULL, NULL, NULL)) != CCIP_DB_OK)
        return rc;
    return funding_award_emit(cmd, "funding.award.completed.v1", w->id, "every tranche paid");
}

/* ---- consumed events --------------------------------------------------------- */

int funding_on_decision(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    char err[256];
    Ccip__Evaluation__DecisionMade *d = (Ccip__Evaluation__DecisionMade *)ccip_payload_unpack(
        &ccip__evaluation__decision_made__descriptor, ev->payload.data, ev->payload.len, EVENT_MAX,
        err, sizeof err);
    if (!d) {
        ccip_log_warn("skipped an undecodable decision", "event", ev->id, "reason", err);
        return 0;
    }
    int rc = 0;
    if (!d->decision || d->decision->outcome != CCIP__EVALUATION__OUTCOME__DECISION_APPROVED ||
        d->kind != CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT)
        goto out; /* declined, returned, or not a special fund: nothing to fund */
    /* A decision funding cannot act on is logged and skipped: it can never
     * become valid by waiting, and the stream must go on. */
    const char *bad = NULL;
    if (!ccip_uuid_valid(d->application_id))
        bad = "application_id is not a UUID";
    else if (ccip_code_check("fund_programme_code", d->fund_programme_code, FUNDING_CODE_MAX, err,
                             sizeof err) < 0)
        bad = err;
    else if (d->year < 2000 || d->year > 2100)
        bad = "year is not 2000..2100";
    else if (d->requested_fen < 1 || d->requested_fen > FUNDING_AMOUNT_MAX)
        bad = "requested_fen is not a positive amount";
    else if (ccip_uscc_check(d->applicant_uscc, err, sizeof err) < 0)
        bad = err;
    if (bad) {
        ccip_log_warn("skipped an approval funding cannot propose an award for", "event", ev->id,
                      "application", d->application_id, "reason", bad);
        goto out;
    }
    int64_t recommended = d->decision->recommended_fen, amount = recommended;
    char note[256] = "";
    char req[CCIP_FEN_STRLEN + 1], rec[CCIP_FEN_STRLEN + 1];
    funding_yuan(d->requested_fen, req, sizeof req);
    funding_yuan(recommended, rec, sizeof rec);
    if (recommended < 1) {
        amount = d->requested_fen;
        snprintf(note, sizeof note,
                 "the decision named no recommended amount: the requested %s yuan is proposed",
                 req);
        recommended = 0;
    } else if (recommended > d->requested_fen) {
        amount = d->requested_fen;
        snprintf(note, sizeof note,
                 "the recommended %s yuan is above the requested %s yuan: capped at the "
                 "request",
                 rec, req);
    }
    char id[CCIP_UUID_STRLEN + 1], year[24], requested[24], recd[24], amt[24];
    ccip_uuid_v7(id);
    ccip_i64_text(d->year, year);
    ccip_i64_text(d->requested_fen, requested);
    ccip_i64_text(recommended, recd);
    ccip_i64_text(amount, amt);
    /* Names and titles are kept as sent, cut to a sane length. */
    char name[NAME_MAX_TEXT * 4 + 1], title[NAME_MAX_TEXT * 4 + 1];
    snprintf(name, sizeof name, "%s",
             ccip_utf8_valid(d->applicant_name, strlen(d->applicant_name)) ? d->applicant_name
                                                                           : "");
    snprintf(title, sizeof title, "%s",
             ccip_utf8_valid(d->title, strlen(d->title)) ? d->title : "");
    const char *v[] = {id,
                       d->application_id,
                       d->case_id,
                       ev->id,
                       d->fund_programme_code,
                       year,
                       d->applicant_uscc,
                       ccip_utf8_valid(name, strlen(name)) ? name : "",
                       ccip_utf8_valid(title, strlen(title)) ? title : "",
                       requested,
                       recd,
                       amt,
                       note};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(db, &S_PROPOSE, 13, v, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    int inserted = PQntuples(res) == 1;
    PQclear(res);
    if (!inserted) {
        ccip_log_info("an award exists for this application already; nothing proposed", "event",
                      ev->id, "application", d->application_id);
        goto out;
    }
    ccip_arena *a = ccip_arena_new();
    Ccip__Funding__Award *w = NULL;
    rc = funding_award_load(db, id, NULL, 0, a, &w);
    if (rc == 0 && w) {
        Ccip__Funding__AwardChanged ch = CCIP__FUNDING__AWARD_CHANGED__INIT;
        ch.award = w;
        ch.reason = note;
        rc = ccip_outbox_emit_caused(db, ev, "funding.award.proposed.v1", "application",
                                     d->application_id, &ch.base);
    } else if (rc == 0) {
        rc = -1; /* out of memory: try the event again later */
    }
    ccip_arena_destroy(&a);
    if (rc == 0)
        ccip_log_info("award proposed", "award", id, "application", d->application_id, "programme",
                      d->fund_programme_code, "amount_fen", amt);
out:
    protobuf_c_message_free_unpacked(&d->base, NULL);
    return rc;
}

/* ---- handlers ------------------------------------------------------------------ */

int funding_award_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__GetAwardRequest *rq = request;
    int rc;
    int by_app = !rq->award_id[0];
    if ((rc = ccip_command_check_uuid(cmd, by_app ? "application_id" : "award_id",
                                      by_app ? rq->application_id : rq->award_id)) != 0)
        return rc;
    Ccip__Funding__Award *w = NULL;
    if ((rc = funding_award_load(cmd->db, by_app ? NULL : rq->award_id,
                                 by_app ? rq->application_id : NULL, 1, a, &w)) != 0)
        return rc;
    if (!w) {
        rc = ccip_arena_failed(a)
                 ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading an award")
                 : ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no award %s %s",
                                     by_app ? "for application" : "",
                                     by_app ? rq->application_id : rq->award_id);
        return rc;
    }
    char what[64];
    snprintf(what, sizeof what, "award %s", w->id);
    if ((rc = funding_check_grantee(cmd, w->grantee_uscc, what)) != 0)
        return rc;
    Ccip__Funding__AwardReply reply = CCIP__FUNDING__AWARD_REPLY__INIT;
    reply.award = w;
    rc = ccip_command_reply(cmd, &reply.base);
    return rc;
}

int funding_award_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__ListAwardsRequest *rq = request;
    PGresult *res = NULL;
    int rc;
    char own[CCIP_USCC_LEN + 1];
    if ((rc = funding_actor_org(cmd, own)) != 0)
        goto out;
    if (rq->limit < 0) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `limit` must not be negative, got %d", (int)rq->limit);
        goto out;
    }
    const char *status = "";
    if (rq->status) {
        status = ccip_enum_name(&ccip__funding__award_status__descriptor, (int)rq->status);
        if (!status) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                   "field `status`: %d is not an award status", (int)rq->status);
            goto out;
        }
    }
    if (own[0] && rq->grantee_uscc[0] && strcmp(own, rq->grantee_uscc) != 0) {
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__PERMISSION_DENIED,
            "the caller acts for organisation %s and may not list the awards of %s", own,
            rq->grantee_uscc);
        goto out;
    }
    int limit = rq->limit == 0 ? LIST_DEFAULT : (rq->limit > LIST_MAX ? LIST_MAX : rq->limit);
    char year[24], lim[24];
    ccip_i64_text(rq->year, year);
    ccip_i64_text(limit, lim);
    const char *v[] = {rq->programme_code, year, status, own[0] ? own : rq->grantee_uscc, lim};
    if ((rc = ccip_db_exec(cmd->db, &S_AWARD_LIST, 5, v, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    int rows = PQntuples(res);
    Ccip__Funding__ListAwardsReply reply = CCIP__FUNDING__LIST_AWARDS_REPLY__INIT;
    reply.awards = ccip_arena_alloc(a, (size_t)rows * sizeof *reply.awards + 1);
    for (int r = 0; rc == 0 && reply.awards && r < rows; r++) {
        Ccip__Funding__Award *w = funding_award_from_result(res, r, a);
        if (!w)
            break;
        rc = s_fill(cmd->db, w, 0, a);
        reply.awards[reply.n_awards++] = w;
    }
    if (rc == 0)
        rc = ccip_command_reply_built(cmd, a, &reply.base);
out:
    PQclear(res);
    return rc;
}

/* The common shape of reject, sign, suspend, resume, terminate: one
 * request, one handler, the action named by the command's type. */
typedef enum { A_REJECT, A_SIGN, A_SUSPEND, A_RESUME, A_TERMINATE } s_action;

/* The type of each action's command, in the order of s_action. */
static const char *const S_ACTION_TYPES[] = {
    "funding.award.reject.v1", "funding.award.sign.v1",      "funding.award.suspend.v1",
    "funding.award.resume.v1", "funding.award.terminate.v1", NULL,
};

int funding_award_act(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__AwardActionRequest *rq = request;
    int k = ccip_command_type_index(cmd, S_ACTION_TYPES);
    if (k < 0)
        return CCIP_REPLIED;
    s_action action = (s_action)k;
    funding_award_row w;
    int need_reason =
        action == A_REJECT || action == A_SUSPEND || action == A_TERMINATE || action == A_RESUME;
    int rc;
    if ((rc = ccip_command_check_uuid(cmd, "award_id", rq->award_id)) != 0 ||
        (rc = ccip_command_check_text(cmd, "reason", rq->reason, need_reason ? 1 : 0,
                                      FUNDING_REASON_MAX, CCIP_TEXT_MULTILINE)) != 0 ||
        (rc = funding_award_lock(cmd, rq->award_id, &w)) != 0)
        return rc;
    switch (action) {
    case A_REJECT: {
        if (w.status != CCIP__FUNDING__AWARD_STATUS__AWARD_PROPOSED) {
            rc = funding_award_wrong_status(cmd, &w, "rejected", "AWARD_PROPOSED");
            break;
        }
        const char *v[] = {w.id, "AWARD_REJECTED", rq->reason};
        if ((rc = ccip_db_exec(cmd->db, &S_AWARD_STATUS, 3, v, NULL, NULL, NULL)) == CCIP_DB_OK)
            rc = funding_award_emit(cmd, "funding.award.rejected.v1", w.id, rq->reason);
        break;
    }
    case A_SIGN: {
        if (w.status != CCIP__FUNDING__AWARD_STATUS__AWARD_COMMITTED) {
            rc = funding_award_wrong_status(cmd, &w, "signed", "AWARD_COMMITTED");
            break;
        }
        if (w.is_signed) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                   "the agreement of award %s is signed already", w.id);
            break;
        }
        const char *v[] = {w.id, cmd->actor.id};
        if ((rc = ccip_db_exec(cmd->db, &S_AWARD_SIGN, 2, v, NULL, NULL, NULL)) == CCIP_DB_OK)
            rc = funding_award_emit(cmd, "funding.award.signed.v1", w.id, rq->reason);
        break;
    }
    case A_SUSPEND:
        rc = funding_award_suspend_locked(cmd, &w, rq->reason);
        break;
    case A_RESUME: {
        if (w.status != CCIP__FUNDING__AWARD_STATUS__AWARD_SUSPENDED) {
            rc = funding_award_wrong_status(cmd, &w, "resumed", "AWARD_SUSPENDED");
            break;
        }
        const char *v[] = {w.id, "AWARD_COMMITTED", ""};
        if ((rc = ccip_db_exec(cmd->db, &S_AWARD_STATUS, 3, v, NULL, NULL, NULL)) == CCIP_DB_OK &&
            (rc = funding_tranches_resume(cmd->db, w.id)) == CCIP_DB_OK)
            rc = funding_award_emit(cmd, "funding.award.resumed.v1", w.id, rq->reason);
        break;
    }
    case A_TERMINATE: {
        if (w.status != CCIP__FUNDING__AWARD_STATUS__AWARD_COMMITTED &&
            w.status != CCIP__FUNDING__AWARD_STATUS__AWARD_SUSPENDED) {
            rc = funding_award_wrong_status(cmd, &w, "terminated",
                                            "AWARD_COMMITTED or AWARD_SUSPENDED");
            break;
        }
        PGresult *res = NULL;
        const char *id = w.id;
        if ((rc = ccip_db_exec(cmd->db, &S_COMMITTED_BALANCE, 1, &id, NULL, NULL, &res)) !=
            CCIP_DB_OK)
            break;
        int64_t unpaid = ccip_db_cell_i64(res, 0, 0);
        PQclear(res);
        if (unpaid > 0) {
            /* What was committed and not paid goes back to the budget it
             * came from, closed year or not: it is money coming back. */
            funding_entry e = {.kind = CCIP__FUNDING__ENTRY_KIND__ENTRY_AWARD_RELEASED,
                               .programme_code = w.programme_code,
                               .year = w.year,
                               .award_id = w.id,
                               .memo = rq->reason};
            funding_line lines[2] = {
                {.kind = FUNDING_ACC_COMMITTED, .award_id = w.id, .amount_fen = -unpaid},
                {.kind = FUNDING_ACC_AVAILABLE, .category = w.category, .amount_fen = unpaid},
            };
            if ((rc = funding_ledger_post_cmd(cmd, &e, lines, 2, NULL)) != 0)
                break;
        }
        const char *v[] = {w.id, "AWARD_TERMINATED", rq->reason};
        if ((rc = ccip_db_exec(cmd->db, &S_AWARD_STATUS, 3, v, NULL, NULL, NULL)) == CCIP_DB_OK &&
            (rc = funding_tranches_cancel(cmd->db, w.id, rq->reason)) == CCIP_DB_OK)
            rc = funding_award_emit(cmd, "funding.award.terminated.v1", w.id, rq->reason);
        break;
    }
    }
    if (rc == 0)
        rc = s_reply_award(cmd, w.id);
    return rc;
}

int funding_award_link_work(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__LinkWorkRequest *rq = request;
    funding_award_row w;
    int rc;
    if ((rc = ccip_command_check_uuid(cmd, "award_id", rq->award_id)) != 0 ||
        (rc = ccip_command_check_uuid(cmd, "work_id", rq->work_id)) != 0)
        return rc;
    if ((rc = funding_award_lock(cmd, rq->award_id, &w)) != 0)
        return rc;
    const char *v[] = {w.id, rq->work_id, cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, &S_WORK_LINK, 3, v, NULL, NULL, NULL)) != CCIP_DB_OK)
        return rc;
    rc = s_reply_award(cmd, w.id);
    return rc;
}

/* ip.dispute.upheld.v1: the work is frozen from then on, and so are the
 * tranches of every award whose project uses it (checked whenever a payment
 * is asked for or approved, so an award linked to the work later is held
 * too). A malformed event is logged and skipped. */
/* ip.dispute.upheld.v1 puts a hold on the work (lift = 0);
 * ip.dispute.lifted.v1 releases it (lift = 1). */
static int s_on_dispute(ccip_db *db, const Ccip__Envelope *ev, int lift)
{
    char err[256];
    Ccip__Ip__DisputeRuled *d = (Ccip__Ip__DisputeRuled *)ccip_payload_unpack(
        &ccip__ip__dispute_ruled__descriptor, ev->payload.data, ev->payload.len, EVENT_MAX, err,
        sizeof err);
    if (!d) {
        ccip_log_warn("skipped an undecodable ip ruling", "event", ev->id, "reason", err);
        return 0;
    }
    int rc = 0;
    if (!d->dispute_id[0] || !ccip_uuid_valid(d->work_id)) {
        ccip_log_warn("skipped an ip ruling without a dispute or work id", "event", ev->id);
        goto out;
    }
    char reasons[FUNDING_REASON_MAX + 1];
    snprintf(reasons, sizeof reasons, "%s",
             ccip_utf8_valid(d->reasons, strlen(d->reasons)) ? d->reasons : "");
    if (!ccip_utf8_valid(reasons, strlen(reasons)))
        reasons[0] = '\0'; /* cut inside a character */
    if (lift) {
        const char *v[] = {d->dispute_id, ev->id, reasons};
        rc = ccip_db_exec(db, &S_HOLD_RELEASE, 3, v, NULL, NULL, NULL);
    } else {
        const char *v[] = {d->dispute_id, d->work_id, reasons, ev->id};
        rc = ccip_db_exec(db, &S_HOLD_INSERT, 4, v, NULL, NULL, NULL);
    }
    if (rc == CCIP_DB_OK)
        ccip_log_info(lift ? "ip dispute's freeze lifted: its hold on tranches is released"
                           : "ip dispute upheld: tranches of awards using the work are held",
                      "dispute", d->dispute_id, "work", d->work_id);
out:
    protobuf_c_message_free_unpacked(&d->base, NULL);
    return rc;
}

int funding_on_dispute_upheld(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    return s_on_dispute(db, ev, 0);
}

int funding_on_dispute_lifted(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    return s_on_dispute(db, ev, 1);
}
