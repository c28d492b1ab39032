#include "funding_tranches.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funding_awards.h"
#include "funding_ledger.h"

#define LABEL_MAX       100 /* characters of a tranche label */
#define PAYMENT_REF_MAX 100 /* characters of a payment reference */
#define NCONDITIONS     6   /* Condition values, UNSPECIFIED included */

/* ---- pure ---------------------------------------------------------------------- */

int funding_tranche_plan_check(Ccip__Funding__TrancheRule *const *rules, size_t n, char *err,
                               size_t errlen)
{
    if (n < 1 || n > FUNDING_TRANCHES_MAX) {
        snprintf(err, errlen, "field `tranche_plan` must have 1 to %d tranches, got %zu",
                 FUNDING_TRANCHES_MAX, n);
        return -1;
    }
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        const Ccip__Funding__TrancheRule *r = rules[i];
        if (!r) {
            snprintf(err, errlen, "field `tranche_plan[%zu]` is missing", i);
            return -1;
        }
        if (r->percent < 1 || r->percent > 100) {
            snprintf(err, errlen,
                     "field `tranche_plan[%zu].percent` must be between 1 and 100, got %d", i,
                     (int)r->percent);
            return -1;
        }
        if (r->condition == CCIP__FUNDING__CONDITION__CONDITION_UNSPECIFIED ||
            !ccip_enum_name(&ccip__funding__condition__descriptor, (int)r->condition)) {
            snprintf(err, errlen,
                     "field `tranche_plan[%zu].condition` must be one of AGREEMENT_SIGNED, "
                     "MIDTERM_INSPECTION_PASSED, INTERIM_REPORT_ACCEPTED, FINAL_REPORT_ACCEPTED, "
                     "COMPLETION_INSPECTION_PASSED, got %d",
                     i, (int)r->condition);
            return -1;
        }
        char field[48];
        snprintf(field, sizeof field, "tranche_plan[%zu].label", i);
        if (ccip_text_check(field, r->label, 0, LABEL_MAX, 0, err, errlen) < 0)
            return -1;
        sum += r->percent;
    }
    if (sum != 100) {
        snprintf(err, errlen,
                 "field `tranche_plan`: the percents add up to %d, not 100; change them so "
                 "that the tranches pay the whole award (e.g. 50, 30, 20)",
                 sum);
        return -1;
    }
    return 0;
}

int funding_tranche_split(int64_t amount_fen, const int32_t *percents, size_t n, int64_t *out)
{
    if (amount_fen < 1 || amount_fen > FUNDING_AMOUNT_MAX || !percents || !out || n < 1 ||
        n > FUNDING_TRANCHES_MAX)
        return -1;
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (percents[i] < 1 || percents[i] > 100)
            return -1;
        sum += percents[i];
    }
    if (sum != 100)
        return -1;
    /* amount <= 10^15, so amount * 100 fits in an int64. */
    int64_t given = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        out[i] = amount_fen * percents[i] / 100;
        given += out[i];
    }
    out[n - 1] = amount_fen - given;
    for (size_t i = 0; i < n; i++)
        if (out[i] < 1)
            return -1;
    return 0;
}

/* ---- conditions -------------------------------------------------------------- */

/* The latest recorded inspection of a kind decides: an older COMPLIANT one
 * does not count after a later finding of issues. */
#define LATEST_FINDING(kind)                                                                       \
    "coalesce((SELECT finding = 'COMPLIANT' FROM inspection WHERE award_id = "                     \
    "$1::uuid AND kind = '" kind                                                                   \
    "' AND finding IS NOT NULL ORDER BY recorded_at DESC, id DESC LIMIT 1), "                      \
    "false)"

static const ccip_db_stmt S_CONDITIONS = {
    "funding_conditions",
    "SELECT (SELECT signed_at IS NOT NULL FROM award WHERE id = $1::uuid), " LATEST_FINDING(
        "MIDTERM") ", EXISTS (SELECT 1 FROM use_report WHERE award_id = $1::uuid AND kind = "
                   "'INTERIM' AND status = 'REPORT_ACCEPTED'), EXISTS (SELECT 1 FROM use_report "
                   "WHERE award_id = $1::uuid AND kind = 'FINAL' AND status = "
                   "'REPORT_ACCEPTED'), " LATEST_FINDING("COMPLETION")};

int funding_conditions(ccip_db *db, const char *award_id, int met[NCONDITIONS])
{
    memset(met, 0, NCONDITIONS * sizeof met[0]);
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_CONDITIONS, 1, &award_id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    for (int c = 1; c < NCONDITIONS && PQntuples(res) == 1; c++)
        met[c] = ccip_db_cell_bool(res, 0, c - 1);
    PQclear(res);
    return 0;
}

const char *funding_condition_missing(Ccip__Funding__Condition c)
{
    switch (c) {
    case CCIP__FUNDING__CONDITION__AGREEMENT_SIGNED:
        return "the award agreement has not been signed yet: record the signature with "
               "funding.award.sign.v1";
    case CCIP__FUNDING__CONDITION__MIDTERM_INSPECTION_PASSED:
        return "no MIDTERM inspection has found the project COMPLIANT (the latest one "
               "decides): schedule one and record its finding with "
               "funding.inspection.record.v1";
    case CCIP__FUNDING__CONDITION__INTERIM_REPORT_ACCEPTED:
        return "no INTERIM use-of-funds report has been accepted: the grantee submits one "
               "and staff accept it";
    case CCIP__FUNDING__CONDITION__FINAL_REPORT_ACCEPTED:
        return "the FINAL use-of-funds report has not been accepted: the grantee submits it "
               "and staff accept it";
    case CCIP__FUNDING__CONDITION__COMPLETION_INSPECTION_PASSED:
        return "no COMPLETION inspection has found the project COMPLIANT (the latest one "
               "decides): schedule one and record its finding";
    default:
        return "the condition is unknown to this version of funding";
    }
}

/* ---- tranches ------------------------------------------------------------------ */

static const ccip_db_stmt S_TRANCHES = {
    "funding_tranches", "SELECT t.number, t.percent, t.amount_fen, t.condition, t.label, t.status, "
                        "coalesce((SELECT p.id::text FROM payment p WHERE p.award_id = t.award_id "
                        "AND p.tranche_number = t.number AND p.status IN ('PAYMENT_PENDING', "
                        "'PAYMENT_PAID')), ''), (extract(epoch FROM t.paid_at) * 1000000)::bigint "
                        "FROM tranche t WHERE t.award_id = $1::uuid ORDER BY t.number"};

static const ccip_db_stmt S_TRANCHE_LOCK = {
    "funding_tranche_lock",
    "SELECT amount_fen, condition, status, label, percent FROM tranche WHERE "
    "award_id = $1::uuid AND number = $2::integer FOR UPDATE"};

static const ccip_db_stmt S_TRANCHE_COUNT = {
    "funding_tranche_count", "SELECT count(*) FROM tranche WHERE award_id = $1::uuid"};

static const ccip_db_stmt S_TRANCHE_EARLIER = {
    "funding_tranche_earlier",
    "SELECT min(number) FROM tranche WHERE award_id = $1::uuid AND number < "
    "$2::integer AND status <> 'TRANCHE_PAID'"};

static const ccip_db_stmt S_TRANCHE_STATUS = {
    "funding_tranche_status",
    "UPDATE tranche SET status = $3, paid_at = CASE WHEN $3 = 'TRANCHE_PAID' "
    "THEN now() END WHERE award_id = $1::uuid AND number = $2::integer"};

static const ccip_db_stmt S_SUSPEND_TRANCHES = {
    "funding_tranches_suspend",
    "UPDATE tranche SET status = 'TRANCHE_SUSPENDED' WHERE award_id = $1::uuid "
    "AND status IN ('TRANCHE_PLANNED', 'TRANCHE_REQUESTED')"};

static const ccip_db_stmt S_RESUME_TRANCHES = {
    "funding_tranches_resume",
    "UPDATE tranche SET status = 'TRANCHE_PLANNED' WHERE award_id = $1::uuid AND "
    "status = 'TRANCHE_SUSPENDED'"};

static const ccip_db_stmt S_CANCEL_TRANCHES = {
    "funding_tranches_cancel",
    "UPDATE tranche SET status = 'TRANCHE_CANCELLED' WHERE award_id = $1::uuid "
    "AND status IN ('TRANCHE_PLANNED', 'TRANCHE_REQUESTED', 'TRANCHE_SUSPENDED')"};

static const ccip_db_stmt S_CANCEL_PAYMENTS = {
    "funding_payments_cancel",
    "UPDATE payment SET status = 'PAYMENT_CANCELLED', cancel_reason = $2 WHERE "
    "award_id = $1::uuid AND status = 'PAYMENT_PENDING'"};

int funding_tranches_load(ccip_db *db, const char *award_id, ccip_arena *a,
                          Ccip__Funding__Tranche ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int met[NCONDITIONS];
    int rc = funding_conditions(db, award_id, met);
    if (rc != 0)
        return rc;
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(db, &S_TRANCHES, 1, &award_id, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    Ccip__Funding__Tranche **list = ccip_arena_alloc(a, (size_t)rows * sizeof *list + 1);
    for (int r = 0; list && r < rows; r++) {
        Ccip__Funding__Tranche *t = ccip_row_new(
            a, CCIP_MSG(funding, tranche), res, r, 0,
            "number, percent, amount_fen, condition, label, status, payment_id, paid_at_us");
        if (!t)
            break;
        t->condition_met = (unsigned)t->condition < NCONDITIONS && met[t->condition];
        list[(*n)++] = t;
    }
    PQclear(res);
    *out = list;
    return 0;
}

int funding_tranches_suspend(ccip_db *db, const char *award_id, const char *reason)
{
    const char *v[] = {award_id, reason};
    int rc = ccip_db_exec(db, &S_SUSPEND_TRANCHES, 1, v, NULL, NULL, NULL);
    if (rc == CCIP_DB_OK)
        rc = ccip_db_exec(db, &S_CANCEL_PAYMENTS, 2, v, NULL, NULL, NULL);
    return rc;
}

int funding_tranches_resume(ccip_db *db, const char *award_id)
{
    return ccip_db_exec(db, &S_RESUME_TRANCHES, 1, &award_id, NULL, NULL, NULL);
}

int funding_tranches_cancel(ccip_db *db, const char *award_id, const char *reason)
{
    const char *v[] = {award_id, reason};
    int rc = ccip_db_exec(db, &S_CANCEL_TRANCHES, 1, v, NULL, NULL, NULL);
    if (rc == CCIP_DB_OK)
        rc = ccip_db_exec(db, &S_CANCEL_PAYMENTS, 2, v, NULL, NULL, NULL);
    return rc;
}

/* ---- payments ------------------------------------------------------------------- */

#define PAYMENT_COLUMNS                                                                            \
    "id, award_id, tranche_number, amount_fen, status, needs_second_approval, "                    \
    "requested_by, (extract(epoch FROM requested_at) * 1000000)::bigint, "                         \
    "coalesce(first_approver, ''), (extract(epoch FROM first_approved_at) * "                      \
    "1000000)::bigint, coalesce(second_approver, ''), (extract(epoch FROM "                        \
    "second_approved_at) * 1000000)::bigint, payment_ref, (extract(epoch FROM "                    \
    "paid_at) * 1000000)::bigint, cancel_reason"

static const ccip_db_stmt S_PAYMENTS = {
    "funding_payments",
    "SELECT " PAYMENT_COLUMNS " FROM payment WHERE award_id = $1::uuid ORDER BY requested_at, id"};

static const ccip_db_stmt S_PAYMENT_GET = {
    "funding_payment_get", "SELECT " PAYMENT_COLUMNS " FROM payment WHERE id = $1::uuid"};

static const ccip_db_stmt S_PAYMENT_LOCK = {"funding_payment_lock",
                                            "SELECT " PAYMENT_COLUMNS
                                            " FROM payment WHERE id = $1::uuid FOR UPDATE"};

static const ccip_db_stmt S_PAYMENT_AWARD = {"funding_payment_award",
                                             "SELECT award_id FROM payment WHERE id = $1::uuid"};

static const ccip_db_stmt S_PAYMENT_INSERT = {
    "funding_payment_insert",
    "INSERT INTO payment (id, award_id, tranche_number, amount_fen, status, "
    "needs_second_approval, requested_by) VALUES ($1::uuid, $2::uuid, "
    "$3::integer, $4::bigint, 'PAYMENT_PENDING', $5::boolean, $6)"};

static const ccip_db_stmt S_PAYMENT_FIRST = {
    "funding_payment_first",
    "UPDATE payment SET first_approver = $2, first_approved_at = now() WHERE id "
    "= $1::uuid"};

static const ccip_db_stmt S_PAYMENT_SECOND = {
    "funding_payment_second",
    "UPDATE payment SET second_approver = $2, second_approved_at = now() WHERE "
    "id = $1::uuid"};

static const ccip_db_stmt S_PAYMENT_PAID = {
    "funding_payment_paid",
    "UPDATE payment SET status = 'PAYMENT_PAID', paid_at = now(), payment_ref = "
    "$2 WHERE id = $1::uuid"};

static const ccip_db_stmt S_PAYMENT_CANCEL = {
    "funding_payment_cancel",
    "UPDATE payment SET status = 'PAYMENT_CANCELLED', cancel_reason = $2 WHERE "
    "id = $1::uuid"};

enum {
    P_ID,
    P_AWARD,
    P_TRANCHE,
    P_AMOUNT,
    P_STATUS,
    P_NEEDS_SECOND,
    P_REQUESTED_BY,
    P_REQUESTED_AT,
    P_FIRST,
    P_FIRST_AT,
    P_SECOND,
    P_SECOND_AT,
    P_REF,
    P_PAID_AT,
    P_CANCEL,
};

static Ccip__Funding__Payment *s_payment_row(const PGresult *res, int r, ccip_arena *a)
{
    Ccip__Funding__Payment *p =
        ccip_row_new(a, CCIP_MSG(funding, payment), res, r, P_ID,
                     "id, award_id, tranche_number, amount_fen, status, , requested_by, "
                     "requested_at_us, first_approver, first_approved_at_us, second_approver, "
                     "second_approved_at_us, payment_ref, paid_at_us, cancel_reason");
    if (!p)
        return NULL;
    p->needs_second_approval = ccip_db_cell_bool(res, r, P_NEEDS_SECOND);
    return p;
}

int funding_payments_load(ccip_db *db, const char *award_id, ccip_arena *a,
                          Ccip__Funding__Payment ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_PAYMENTS, 1, &award_id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    Ccip__Funding__Payment **list = ccip_arena_alloc(a, (size_t)rows * sizeof *list + 1);
    for (int r = 0; list && r < rows; r++) {
        Ccip__Funding__Payment *p = s_payment_row(res, r, a);
        if (!p)
            break;
        list[(*n)++] = p;
    }
    PQclear(res);
    *out = list;
    return 0;
}

/* Replies with payment `id` and its tranche. */
static int s_reply_payment(ccip_command *cmd, const char *id)
{
    ccip_arena *a = ccip_arena_new();
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_PAYMENT_GET, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK) {
        ccip_arena_destroy(&a);
        return rc;
    }
    Ccip__Funding__PaymentReply reply = CCIP__FUNDING__PAYMENT_REPLY__INIT;
    if (PQntuples(res) == 1)
        reply.payment = s_payment_row(res, 0, a);
    PQclear(res);
    if (reply.payment) {
        Ccip__Funding__Tranche **ts = NULL;
        size_t nt = 0;
        rc = funding_tranches_load(cmd->db, reply.payment->award_id, a, &ts, &nt);
        for (size_t i = 0; rc == 0 && i < nt; i++)
            if (ts[i]->number == reply.payment->tranche_number)
                reply.tranche = ts[i];
    }
    if (rc == 0)
        rc = ccip_arena_failed(a) || !reply.payment
                 ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not read payment %s back",
                                     id)
                 : ccip_command_reply(cmd, &reply.base);
    ccip_arena_destroy(&a);
    return rc;
}

/* Publishes `type` (funding.payment.approved.v1 or .cancelled.v1) with
 * payment id as it now stands, in the command's transaction. */
static int s_emit_payment(ccip_command *cmd, const funding_award_row *w, const char *id,
                          const char *type)
{
    ccip_arena *a = ccip_arena_new();
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_PAYMENT_GET, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK) {
        ccip_arena_destroy(&a);
        return rc;
    }
    Ccip__Funding__PaymentChanged ev = CCIP__FUNDING__PAYMENT_CHANGED__INIT;
    if (PQntuples(res) == 1)
        ev.payment = s_payment_row(res, 0, a);
    PQclear(res);
    ev.application_id = (char *)w->application_id;
    ev.grantee_uscc = (char *)w->grantee_uscc;
    rc = ccip_arena_failed(a) || !ev.payment
             ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not read payment %s back", id)
             : ccip_command_emit(cmd, type, "application", w->application_id, &ev.base);
    ccip_arena_destroy(&a);
    return rc;
}

/* The tranche of a payment request or approval, read under its lock. */
typedef struct {
    int64_t amount_fen;
    Ccip__Funding__Condition condition;
    Ccip__Funding__TrancheStatus status;
} s_tranche;

/* Locks tranche `number` of award w and checks that it may be paid now:
 * the award is payable, the tranche exists, the earlier ones are paid, its
 * condition holds, and it is in status `want`. */
static int s_check_tranche(ccip_command *cmd, const funding_award_row *w, int32_t number,
                           Ccip__Funding__TrancheStatus want, s_tranche *t)
{
    int rc = funding_award_check_payable(cmd, w, number);
    if (rc != 0)
        return rc;
    char num[24];
    ccip_i64_text(number, num);
    const char *v[] = {w->id, num};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_TRANCHE_LOCK, 2, v, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        const char *id = w->id;
        if ((rc = ccip_db_exec(cmd->db, &S_TRANCHE_COUNT, 1, &id, NULL, NULL, &res)) != CCIP_DB_OK)
            return rc;
        int64_t count = ccip_db_cell_i64(res, 0, 0);
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `tranche_number`: award %s has %" PRId64
                                 " tranches (1 to %" PRId64 "), not %d",
                                 w->id, count, count, (int)number);
    }
    t->amount_fen = ccip_db_cell_i64(res, 0, 0);
    t->condition = (Ccip__Funding__Condition)ccip_enum_value(&ccip__funding__condition__descriptor,
                                                             PQgetvalue(res, 0, 1));
    t->status = (Ccip__Funding__TrancheStatus)ccip_enum_value(
        &ccip__funding__tranche_status__descriptor, PQgetvalue(res, 0, 2));
    PQclear(res);
    if (t->status != want) {
        const char *what = t->status == CCIP__FUNDING__TRANCHE_STATUS__TRANCHE_PAID
                               ? "has been paid already"
                           : t->status == CCIP__FUNDING__TRANCHE_STATUS__TRANCHE_REQUESTED
                               ? "has a payment request pending; approve or cancel that one"
                           : t->status == CCIP__FUNDING__TRANCHE_STATUS__TRANCHE_CANCELLED
                               ? "was cancelled when the award was terminated"
                           : t->status == CCIP__FUNDING__TRANCHE_STATUS__TRANCHE_SUSPENDED
                               ? "is suspended with its award"
                               : "has no payment request pending";
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "tranche %d of award %s %s", (int)number, w->id, what);
    }
    if ((rc = ccip_db_exec(cmd->db, &S_TRANCHE_EARLIER, 2, v, NULL, NULL, &res)) != CCIP_DB_OK)
        return rc;
    int unpaid = PQgetisnull(res, 0, 0) ? 0 : (int)ccip_db_cell_i64(res, 0, 0);
    PQclear(res);
    if (unpaid)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "tranche %d of award %s cannot be paid before tranche %d: tranches are paid "
            "in order",
            (int)number, w->id, unpaid);
    int met[NCONDITIONS];
    if ((rc = funding_conditions(cmd->db, w->id, met)) != 0)
        return rc;
    if ((unsigned)t->condition >= NCONDITIONS || !met[t->condition])
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "tranche %d of award %s cannot be paid: its condition %s does not hold: %s",
            (int)number, w->id,
            ccip_enum_name(&ccip__funding__condition__descriptor, (int)t->condition),
            funding_condition_missing(t->condition));
    return 0;
}

int funding_payment_request(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__RequestPaymentRequest *rq = request;
    int rc;
    funding_award_row w;
    s_tranche t;
    if ((rc = ccip_command_check_uuid(cmd, "award_id", rq->award_id)) != 0)
        return rc;
    if (rq->tranche_number < 1) {
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__INVALID_ARGUMENT,
            "field `tranche_number` must be 1 or more (tranches count from 1), got %d",
            (int)rq->tranche_number);
        return rc;
    }
    if ((rc = funding_award_lock(cmd, rq->award_id, &w)) != 0 ||
        (rc = s_check_tranche(cmd, &w, rq->tranche_number,
                              CCIP__FUNDING__TRANCHE_STATUS__TRANCHE_PLANNED, &t)) != 0)
        return rc;
    const funding_config *cfg = funding_config_get(cmd);
    char id[CCIP_UUID_STRLEN + 1], num[24], amount[24];
    ccip_uuid_v7(id);
    ccip_i64_text(rq->tranche_number, num);
    ccip_i64_text(t.amount_fen, amount);
    const char *v[] = {id,
                       rq->award_id,
                       num,
                       amount,
                       t.amount_fen > cfg->four_eyes_above_fen ? "t" : "f",
                       cmd->actor.id};
    const char *sv[] = {rq->award_id, num, "TRANCHE_REQUESTED"};
    if ((rc = ccip_db_exec(cmd->db, &S_PAYMENT_INSERT, 6, v, NULL, NULL, NULL)) != CCIP_DB_OK ||
        (rc = ccip_db_exec(cmd->db, &S_TRANCHE_STATUS, 3, sv, NULL, NULL, NULL)) != CCIP_DB_OK)
        return rc;
    rc = s_reply_payment(cmd, id);
    return rc;
}

/* Reads the award id of payment `id` (no lock) into award_id. */
static int s_payment_award(ccip_command *cmd, const char *id, char award_id[CCIP_UUID_STRLEN + 1])
{
    PGresult *res = NULL;
    int rc = ccip_command_row(cmd, &S_PAYMENT_AWARD, 1, &id, &res,
                              "there is no payment %s; an award's payments are listed by "
                              "funding.award.get.v1",
                              id);
    if (rc != 0)
        return rc;
    snprintf(award_id, CCIP_UUID_STRLEN + 1, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* Pays payment p (locked, fully approved) of award w: ledger, rows, events. */
static int s_pay(ccip_command *cmd, funding_award_row *w, const PGresult *p, const char *ref)
{
    const char *id = PQgetvalue(p, 0, P_ID);
    int64_t amount = ccip_db_cell_i64(p, 0, P_AMOUNT);
    int32_t number = (int32_t)ccip_db_cell_i64(p, 0, P_TRANCHE);
    char memo[96];
    snprintf(memo, sizeof memo, "tranche %d, payment %s", (int)number, id);
    funding_entry e = {.kind = CCIP__FUNDING__ENTRY_KIND__ENTRY_TRANCHE_DISBURSED,
                       .programme_code = w->programme_code,
                       .year = w->year,
                       .award_id = w->id,
                       .memo = memo};
    funding_line lines[2] = {
        {.kind = FUNDING_ACC_DISBURSED, .award_id = w->id, .amount_fen = amount},
        {.kind = FUNDING_ACC_COMMITTED, .award_id = w->id, .amount_fen = -amount},
    };
    int rc = funding_ledger_post_cmd(cmd, &e, lines, 2, NULL);
    if (rc != 0)
        return rc;
    char num[24];
    ccip_i64_text(number, num);
    const char *pv[] = {id, ref};
    const char *tv[] = {w->id, num, "TRANCHE_PAID"};
    if ((rc = ccip_db_exec(cmd->db, &S_PAYMENT_PAID, 2, pv, NULL, NULL, NULL)) != CCIP_DB_OK ||
        (rc = ccip_db_exec(cmd->db, &S_TRANCHE_STATUS, 3, tv, NULL, NULL, NULL)) != CCIP_DB_OK)
        return rc;
    /* The award's total paid, after this payment. */
    ccip_arena *a = ccip_arena_new();
    Ccip__Funding__Award *award = NULL;
    if ((rc = funding_award_load(cmd->db, w->id, NULL, 0, a, &award)) != 0 || !award) {
        ccip_arena_destroy(&a);
        return rc ? rc
                  : ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not read award %s back",
                                      w->id);
    }
    Ccip__Funding__DisbursementPaid ev = CCIP__FUNDING__DISBURSEMENT_PAID__INIT;
    ev.payment_id = (char *)id;
    ev.award_id = w->id;
    ev.application_id = w->application_id;
    ev.programme_code = w->programme_code;
    ev.year = w->year;
    ev.tranche_number = number;
    ev.amount_fen = amount;
    ev.grantee_uscc = w->grantee_uscc;
    ev.payment_ref = (char *)ref;
    ev.paid_at_us = ccip_now_us();
    ev.first_approver = (char *)PQgetvalue(p, 0, P_FIRST);
    ev.second_approver = (char *)PQgetvalue(p, 0, P_SECOND);
    ev.disbursed_total_fen = award->disbursed_fen;
    /* The approval that pays is the caller's: it may be the first or the
     * second. */
    if (!ev.first_approver[0])
        ev.first_approver = (char *)cmd->actor.id;
    else if (ccip_db_cell_bool(p, 0, P_NEEDS_SECOND) && !ev.second_approver[0])
        ev.second_approver = (char *)cmd->actor.id;
    rc = ccip_command_emit(cmd, "funding.disbursement.paid.v1", "application", w->application_id,
                           &ev.base);
    ccip_arena_destroy(&a);
    if (rc != 0)
        return rc;
    return funding_award_complete_if_paid(cmd, w);
}

int funding_payment_approve(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__ApprovePaymentRequest *rq = request;
    PGresult *res = NULL;
    int rc;
    char award_id[CCIP_UUID_STRLEN + 1];
    funding_award_row w;
    s_tranche t;
    if ((rc = ccip_command_check_uuid(cmd, "payment_id", rq->payment_id)) != 0 ||
        (rc = ccip_command_check_text(cmd, "payment_ref", rq->payment_ref, 0, PAYMENT_REF_MAX,
                                      0)) != 0 ||
        (rc = s_payment_award(cmd, rq->payment_id, award_id)) != 0 ||
        /* The award first, then the payment: the order suspension uses. */
        (rc = funding_award_lock(cmd, award_id, &w)) != 0)
        goto out;
    const char *pid = rq->payment_id;
    if ((rc = ccip_db_exec(cmd->db, &S_PAYMENT_LOCK, 1, &pid, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    const char *status = PQgetvalue(res, 0, P_STATUS);
    if (strcmp(status, "PAYMENT_PENDING") != 0) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "payment %s is %s, not pending: there is nothing to approve%s%s",
                               rq->payment_id, status,
                               PQgetvalue(res, 0, P_CANCEL)[0] ? "; it was cancelled: " : "",
                               PQgetvalue(res, 0, P_CANCEL));
        goto out;
    }
    const char *first = PQgetvalue(res, 0, P_FIRST);
    int needs_second = ccip_db_cell_bool(res, 0, P_NEEDS_SECOND);
    int32_t number = (int32_t)ccip_db_cell_i64(res, 0, P_TRANCHE);
    if (first[0] && strcmp(first, cmd->actor.id) == 0) {
        char yuan[CCIP_FEN_STRLEN + 1];
        funding_yuan(ccip_db_cell_i64(res, 0, P_AMOUNT), yuan, sizeof yuan);
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__PERMISSION_DENIED,
            "payment %s of %s yuan needs two different approvers (four eyes) and %s "
            "approved it already; another approver must give the second approval",
            rq->payment_id, yuan, first);
        goto out;
    }
    /* Every approval checks again that the tranche may be paid now. */
    if ((rc = s_check_tranche(cmd, &w, number, CCIP__FUNDING__TRANCHE_STATUS__TRANCHE_REQUESTED,
                              &t)) != 0)
        goto out;
    const char *av[] = {rq->payment_id, cmd->actor.id};
    if (!first[0]) {
        if ((rc = ccip_db_exec(cmd->db, &S_PAYMENT_FIRST, 2, av, NULL, NULL, NULL)) != CCIP_DB_OK)
            goto out;
        if (needs_second) {
            /* It waits for another approver now (their "second approval"
             * item); the payment or its cancellation settles it. */
            if ((rc = s_emit_payment(cmd, &w, rq->payment_id, "funding.payment.approved.v1")) == 0)
                rc = s_reply_payment(cmd, rq->payment_id);
            goto out;
        }
    } else if ((rc = ccip_db_exec(cmd->db, &S_PAYMENT_SECOND, 2, av, NULL, NULL, NULL)) !=
               CCIP_DB_OK) {
        goto out;
    }
    if ((rc = s_pay(cmd, &w, res, rq->payment_ref)) != 0)
        goto out;
    rc = s_reply_payment(cmd, rq->payment_id);
out:
    PQclear(res);
    return rc;
}

int funding_payment_cancel(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__CancelPaymentRequest *rq = request;
    PGresult *res = NULL;
    int rc;
    char award_id[CCIP_UUID_STRLEN + 1];
    funding_award_row w;
    if ((rc = ccip_command_check_uuid(cmd, "payment_id", rq->payment_id)) != 0 ||
        (rc = ccip_command_check_text(cmd, "reason", rq->reason, 1, FUNDING_REASON_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0 ||
        (rc = s_payment_award(cmd, rq->payment_id, award_id)) != 0 ||
        (rc = funding_award_lock(cmd, award_id, &w)) != 0)
        goto out;
    const char *pid = rq->payment_id;
    if ((rc = ccip_db_exec(cmd->db, &S_PAYMENT_LOCK, 1, &pid, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    if (strcmp(PQgetvalue(res, 0, P_STATUS), "PAYMENT_PENDING") != 0) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "payment %s is %s; only a pending payment can be cancelled",
                               rq->payment_id, PQgetvalue(res, 0, P_STATUS));
        goto out;
    }
    char num[24];
    snprintf(num, sizeof num, "%s", PQgetvalue(res, 0, P_TRANCHE));
    const char *cv[] = {rq->payment_id, rq->reason};
    const char *tv[] = {award_id, num, "TRANCHE_PLANNED"};
    if ((rc = ccip_db_exec(cmd->db, &S_PAYMENT_CANCEL, 2, cv, NULL, NULL, NULL)) != CCIP_DB_OK ||
        (rc = ccip_db_exec(cmd->db, &S_TRANCHE_STATUS, 3, tv, NULL, NULL, NULL)) != CCIP_DB_OK ||
        (rc = s_emit_payment(cmd, &w, rq->payment_id, "funding.payment.cancelled.v1")) != 0)
        goto out;
    rc = s_reply_payment(cmd, rq->payment_id);
out:
    PQclear(res);
    return rc;
}
