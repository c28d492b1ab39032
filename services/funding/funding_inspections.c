#include "funding_inspections.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "funding_awards.h"
#include "funding_ledger.h"

#define INSPECTOR_MAX 200
#define REFERENCE_MAX 100

#define INSPECTION_COLUMNS                                                                         \
    "id, award_id, kind, (extract(epoch FROM scheduled_for) * 1000000)::bigint, "                  \
    "inspector, scheduled_by, coalesce(finding, ''), notes, (extract(epoch FROM "                  \
    "correct_by) * 1000000)::bigint, misused_fen, (extract(epoch FROM "                            \
    "recorded_at) * 1000000)::bigint, coalesce(recorded_by, ''), "                                 \
    "coalesce(clawback_id::text, '')"

#define CLAWBACK_COLUMNS                                                                           \
    "id, award_id, coalesce(inspection_id::text, ''), amount_fen, recovered_fen, "                 \
    "status, reason, (extract(epoch FROM ordered_at) * 1000000)::bigint, "                         \
    "ordered_by"

static const ccip_db_stmt S_INSPECTIONS = {
    "funding_inspections", "SELECT " INSPECTION_COLUMNS
                           " FROM inspection WHERE award_id = $1::uuid ORDER BY scheduled_for, id"};

static const ccip_db_stmt S_INSPECTION_GET = {
    "funding_inspection_get", "SELECT " INSPECTION_COLUMNS " FROM inspection WHERE id = $1::uuid"};

static const ccip_db_stmt S_INSPECTION_AWARD = {
    "funding_inspection_award", "SELECT award_id FROM inspection WHERE id = $1::uuid"};

static const ccip_db_stmt S_INSPECTION_LOCK = {
    "funding_inspection_lock",
    "SELECT finding IS NOT NULL, (extract(epoch FROM recorded_at) * "
    "1000000)::bigint, coalesce(recorded_by, ''), kind FROM inspection WHERE id "
    "= $1::uuid FOR UPDATE"};

static const ccip_db_stmt S_INSPECTION_INSERT = {
    "funding_inspection_insert",
    "INSERT INTO inspection (id, award_id, kind, scheduled_for, inspector, "
    "scheduled_by) VALUES ($1::uuid, $2::uuid, $3, ('epoch'::timestamptz + "
    "$4::bigint * interval '1 microsecond'), $5, $6)"};

static const ccip_db_stmt S_INSPECTION_RECORD = {
    "funding_inspection_record",
    "UPDATE inspection SET finding = $2, notes = $3, correct_by = CASE WHEN "
    "$4::bigint = 0 THEN NULL ELSE ('epoch'::timestamptz + $4::bigint * interval "
    "'1 microsecond') END, misused_fen = $5::bigint, recorded_at = now(), "
    "recorded_by = $6, clawback_id = nullif($7, '')::uuid WHERE id = $1::uuid"};

static const ccip_db_stmt S_CLAWBACKS = {
    "funding_clawbacks",
    "SELECT " CLAWBACK_COLUMNS " FROM clawback WHERE award_id = $1::uuid ORDER BY ordered_at, id"};

static const ccip_db_stmt S_CLAWBACK_GET = {
    "funding_clawback_get", "SELECT " CLAWBACK_COLUMNS " FROM clawback WHERE id = $1::uuid"};

static const ccip_db_stmt S_CLAWBACK_AWARD = {"funding_clawback_award",
                                              "SELECT award_id FROM clawback WHERE id = $1::uuid"};

static const ccip_db_stmt S_CLAWBACK_LOCK = {
    "funding_clawback_lock",
    "SELECT amount_fen, recovered_fen, status FROM clawback WHERE id = $1::uuid "
    "FOR UPDATE"};

static const ccip_db_stmt S_CLAWBACK_INSERT = {
    "funding_clawback_insert",
    "INSERT INTO clawback (id, award_id, inspection_id, amount_fen, status, "
    "reason, ordered_by) VALUES ($1::uuid, $2::uuid, $3::uuid, $4::bigint, "
    "'CLAWBACK_OPEN', $5, $6)"};

static const ccip_db_stmt S_CLAWBACK_RECOVERED = {
    "funding_clawback_recovered",
    "UPDATE clawback SET recovered_fen = recovered_fen + $2::bigint, status = "
    "CASE WHEN recovered_fen + $2::bigint = amount_fen THEN 'CLAWBACK_RECOVERED' "
    "ELSE 'CLAWBACK_OPEN' END WHERE id = $1::uuid"};

static const ccip_db_stmt S_RECOVERY_INSERT = {
    "funding_recovery_insert",
    "INSERT INTO recovery (clawback_id, amount_fen, reference, recorded_by, "
    "entry_id) VALUES ($1::uuid, $2::bigint, $3, $4, $5::bigint)"};

static const ccip_db_stmt S_RECOVERIES = {
    "funding_recoveries",
    "SELECT amount_fen, reference, (extract(epoch FROM at) * 1000000)::bigint, "
    "recorded_by FROM recovery WHERE clawback_id = $1::uuid ORDER BY id"};

/* What was paid to the award and not clawed back yet. */
static const ccip_db_stmt S_CLAWABLE = {
    "funding_clawable",
    "SELECT coalesce(sum(CASE kind WHEN 'DISBURSED' THEN balance_fen WHEN "
    "'CLAWED_BACK' THEN -balance_fen ELSE 0 END), 0)::bigint FROM account WHERE "
    "award_id = $1::uuid"};

static Ccip__Funding__Inspection *s_inspection_row(const PGresult *res, int r, ccip_arena *a)
{
    return ccip_row_new(
        a, CCIP_MSG(funding, inspection), res, r, 0,
        "id, award_id, kind, scheduled_for_us, inspector, scheduled_by, finding, notes, "
        "correct_by_us, misused_fen, recorded_at_us, recorded_by, clawback_id");
}

static Ccip__Funding__Clawback *s_clawback_row(ccip_db *db, const PGresult *res, int r,
                                               ccip_arena *a, int *rc)
{
    *rc = 0;
    Ccip__Funding__Clawback *c =
        ccip_row_new(a, CCIP_MSG(funding, clawback), res, r, 0,
                     "id, award_id, inspection_id, amount_fen, recovered_fen, status, reason, "
                     "ordered_at_us, ordered_by");
    if (!c)
        return NULL;
    const char *id = c->id;
    PGresult *sub = NULL;
    if ((*rc = ccip_db_exec(db, &S_RECOVERIES, 1, &id, NULL, NULL, &sub)) != CCIP_DB_OK)
        return NULL;
    int rows = PQntuples(sub);
    c->recoveries = ccip_arena_alloc(a, (size_t)rows * sizeof *c->recoveries + 1);
    for (int k = 0; c->recoveries && k < rows; k++) {
        Ccip__Funding__Recovery *v = ccip_row_new(a, CCIP_MSG(funding, recovery), sub, k, 0,
                                                  "amount_fen, reference, at_us, recorded_by");
        if (!v)
            break;
        c->recoveries[c->n_recoveries++] = v;
    }
    PQclear(sub);
    return c;
}

int funding_inspections_load(ccip_db *db, const char *award_id, ccip_arena *a,
                             Ccip__Funding__Inspection ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_INSPECTIONS, 1, &award_id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    Ccip__Funding__Inspection **list = ccip_arena_alloc(a, (size_t)rows * sizeof *list + 1);
    for (int r = 0; list && r < rows; r++) {
        Ccip__Funding__Inspection *i = s_inspection_row(res, r, a);
        if (!i)
            break;
        list[(*n)++] = i;
    }
    PQclear(res);
    *out = list;
    return 0;
}

int funding_clawbacks_load(ccip_db *db, const char *award_id, ccip_arena *a,
                           Ccip__Funding__Clawback ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_CLAWBACKS, 1, &award_id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    Ccip__Funding__Clawback **list = ccip_arena_alloc(a, (size_t)rows * sizeof *list + 1);
    for (int r = 0; rc == 0 && list && r < rows; r++) {
        Ccip__Funding__Clawback *c = s_clawback_row(db, res, r, a, &rc);
        if (c)
            list[(*n)++] = c;
    }
    PQclear(res);
    *out = list;
    return rc;
}

/* Reads one row by id with stmt into the arena. */
static int s_load_one(ccip_db *db, const ccip_db_stmt *stmt, const char *id, ccip_arena *a,
                      int clawback, void **out)
{
    *out = NULL;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, stmt, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) == 1)
        *out = clawback ? (void *)s_clawback_row(db, res, 0, a, &rc)
                        : (void *)s_inspection_row(res, 0, a);
    PQclear(res);
    return rc;
}

/* The award of an inspection or clawback (no lock). */
static int s_award_of(ccip_command *cmd, const ccip_db_stmt *stmt, const char *id, const char *what,
                      char award_id[CCIP_UUID_STRLEN + 1])
{
    PGresult *res = NULL;
    int rc = ccip_command_row(
        cmd, stmt, 1, &id, &res,
        "there is no %s %s; an award's %ss are listed by funding.award.get.v1", what, id, what);
    if (rc != 0)
        return rc;
    snprintf(award_id, CCIP_UUID_STRLEN + 1, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int funding_inspection_schedule(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__ScheduleInspectionRequest *rq = request;
    funding_award_row w;
    int rc;
    const char *kind =
        rq->kind ? ccip_enum_name(&ccip__funding__inspection_kind__descriptor, (int)rq->kind)
                 : NULL;
    if ((rc = ccip_command_check_uuid(cmd, "award_id", rq->award_id)) != 0)
        return rc;
    if (!kind) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `kind` must be MIDTERM, COMPLETION or AD_HOC, got %d",
                               (int)rq->kind);
        return rc;
    }
    if (rq->scheduled_for_us <= 0) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `scheduled_for_us` must be the date of the inspection (UTC "
                               "microseconds since 1970), got %" PRId64,
                               rq->scheduled_for_us);
        return rc;
    }
    if ((rc = ccip_command_check_text(cmd, "inspector", rq->inspector, 1, INSPECTOR_MAX, 0)) != 0 ||
        (rc = funding_award_lock(cmd, rq->award_id, &w)) != 0)
        return rc;
    if (w.status == CCIP__FUNDING__AWARD_STATUS__AWARD_PROPOSED ||
        w.status == CCIP__FUNDING__AWARD_STATUS__AWARD_REJECTED) {
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "award %s is %s: inspections follow up confirmed awards", w.id,
            ccip_enum_name(&ccip__funding__award_status__descriptor, (int)w.status));
        return rc;
    }
    char id[CCIP_UUID_STRLEN + 1], when[24];
    ccip_uuid_v7(id);
    ccip_i64_text(rq->scheduled_for_us, when);
    const char *v[] = {id, w.id, kind, when, rq->inspector, cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, &S_INSPECTION_INSERT, 6, v, NULL, NULL, NULL)) != CCIP_DB_OK)
        return rc;
    Ccip__Funding__InspectionReply reply = CCIP__FUNDING__INSPECTION_REPLY__INIT;
    rc = s_load_one(cmd->db, &S_INSPECTION_GET, id, a, 0, (void **)&reply.inspection);
    if (rc == 0 && (!reply.inspection || ccip_arena_failed(a)))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not read inspection back");
    /* The inspection is due from now on (staff's "inspection due"), in the
     * transaction that schedules it; its recording settles it. */
    Ccip__Funding__InspectionScheduled ev = CCIP__FUNDING__INSPECTION_SCHEDULED__INIT;
    ev.inspection = reply.inspection;
    ev.application_id = w.application_id;
    ev.grantee_uscc = w.grantee_uscc;
    if (rc == 0)
        rc = ccip_command_emit(cmd, "funding.inspection.scheduled.v1", "application",
                               w.application_id, &ev.base);
    if (rc == 0)
        rc = ccip_command_reply(cmd, &reply.base);
    return rc;
}

static int s_check_finding(ccip_command *cmd, const Ccip__Funding__RecordInspectionRequest *rq,
                           int64_t clawable)
{
    char when[CCIP_TIME_STRLEN + 1], yuan[CCIP_FEN_STRLEN + 1];
    switch (rq->finding) {
    case CCIP__FUNDING__FINDING__COMPLIANT:
    case CCIP__FUNDING__FINDING__ISSUES:
    case CCIP__FUNDING__FINDING__MISUSE:
        break;
    default:
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `finding` must be COMPLIANT, ISSUES or MISUSE, got %d",
                                 (int)rq->finding);
    }
    if (rq->finding == CCIP__FUNDING__FINDING__ISSUES) {
        if (rq->correct_by_us <= ccip_now_us()) {
            ccip_time_text(rq->correct_by_us, when, sizeof when);
            return ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "field `correct_by_us`: a finding of ISSUES needs the date by which to "
                "correct them, in the future; got %s",
                rq->correct_by_us > 0 ? when : "none");
        }
    } else if (rq->correct_by_us != 0) {
        return ccip_command_fail(
            cmd, CCIP__STATUS__INVALID_ARGUMENT,
            "field `correct_by_us` is only for a finding of ISSUES; leave it 0");
    }
    if (rq->finding != CCIP__FUNDING__FINDING__MISUSE && rq->misused_fen != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `misused_fen` is only for a finding of MISUSE; leave it 0");
    if (rq->finding == CCIP__FUNDING__FINDING__MISUSE) {
        int rc = funding_check_amount(cmd, "misused_fen", rq->misused_fen, 1);
        if (rc != 0)
            return rc;
        funding_yuan(clawable, yuan, sizeof yuan);
        if (rq->misused_fen > clawable)
            return ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "field `misused_fen`: %" PRId64 " fen is more than the %s yuan (%" PRId64
                " fen) paid to the award and not clawed back yet; the clawback cannot exceed "
                "it (0 suspends without a clawback)",
                rq->misused_fen, yuan, clawable);
    }
    return 0;
}

/* Announces clawback c of award w as event `type` (ordered, recovered).
 * Returns 0, CCIP_REPLIED or a ccip_db_rc. */
static int s_clawback_changed(ccip_command *cmd, const char *type, const funding_award_row *w,
                              Ccip__Funding__Clawback *c)
{
    Ccip__Funding__ClawbackChanged ev = CCIP__FUNDING__CLAWBACK_CHANGED__INIT;
    ev.clawback = c;
    ev.application_id = (char *)w->application_id;
    ev.grantee_uscc = (char *)w->grantee_uscc;
    return ccip_command_emit(cmd, type, "application", w->application_id, &ev.base);
}
int funding_inspection_record(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__RecordInspectionRequest *rq = request;
    PGresult *res = NULL;
    funding_award_row w;
    char award_id[CCIP_UUID_STRLEN + 1];
    int rc;
    if ((rc = ccip_command_check_uuid(cmd, "inspection_id", rq->inspection_id)) != 0 ||
        (rc = ccip_command_check_text(cmd, "notes", rq->notes, 1, FUNDING_TEXT_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0 ||
        (rc = s_award_of(cmd, &S_INSPECTION_AWARD, rq->inspection_id, "inspection", award_id)) !=
            0 ||
        (rc = funding_award_lock(cmd, award_id, &w)) != 0)
        goto out;
    const char *iid = rq->inspection_id;
    if ((rc = ccip_db_exec(cmd->db, &S_INSPECTION_LOCK, 1, &iid, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    if (ccip_db_cell_bool(res, 0, 0)) {
        char when[CCIP_TIME_STRLEN + 1];
        ccip_time_text(ccip_db_cell_i64(res, 0, 1), when, sizeof when);
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "the finding of inspection %s was recorded at %s UTC by %s and is final; "
            "schedule a follow-up inspection instead",
            rq->inspection_id, when, PQgetvalue(res, 0, 2));
        goto out;
    }
    PQclear(res);
    const char *wid = w.id;
    if ((rc = ccip_db_exec(cmd->db, &S_CLAWABLE, 1, &wid, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    int64_t clawable = ccip_db_cell_i64(res, 0, 0);
    PQclear(res);
    res = NULL;
    if ((rc = s_check_finding(cmd, rq, clawable)) != 0)
        goto out;
    const char *finding = ccip_enum_name(&ccip__funding__finding__descriptor, (int)rq->finding);
    char clawback_id[CCIP_UUID_STRLEN + 1] = "";
    if (rq->finding == CCIP__FUNDING__FINDING__MISUSE) {
        /* Suspension first: the award stops paying in the same commit. */
        if (w.status == CCIP__FUNDING__AWARD_STATUS__AWARD_COMMITTED &&
            (rc = funding_award_suspend_locked(cmd, &w, "misuse of funds found by inspection")) !=
                0)
            goto out;
        if (rq->misused_fen > 0) {
            ccip_uuid_v7(clawback_id);
            char amount[24];
            ccip_i64_text(rq->misused_fen, amount);
            const char *cv[] = {clawback_id, w.id,      rq->inspection_id,
                                amount,      rq->notes, cmd->actor.id};
            if ((rc = ccip_db_exec(cmd->db, &S_CLAWBACK_INSERT, 6, cv, NULL, NULL, NULL)) !=
                CCIP_DB_OK)
                goto out;
            char memo[96];
            snprintf(memo, sizeof memo, "clawback %s ordered by inspection", clawback_id);
            funding_entry e = {.kind = CCIP__FUNDING__ENTRY_KIND__ENTRY_CLAWBACK_ORDERED,
                               .programme_code = w.programme_code,
                               .year = w.year,
                               .award_id = w.id,
                               .memo = memo};
            funding_line lines[2] = {
                {.kind = FUNDING_ACC_RECEIVABLE, .award_id = w.id, .amount_fen = rq->misused_fen},
                {.kind = FUNDING_ACC_CLAWED_BACK, .award_id = w.id, .amount_fen = -rq->misused_fen},
            };
            if ((rc = funding_ledger_post_cmd(cmd, &e, lines, 2, NULL)) != 0)
                goto out;
        }
    }
    char correct[24], misused[24];
    ccip_i64_text(rq->correct_by_us, correct);
    ccip_i64_text(rq->misused_fen, misused);
    const char *v[] = {rq->inspection_id, finding,       rq->notes,  correct,
                       misused,           cmd->actor.id, clawback_id};
    if ((rc = ccip_db_exec(cmd->db, &S_INSPECTION_RECORD, 7, v, NULL, NULL, NULL)) != CCIP_DB_OK)
        goto out;
    Ccip__Funding__InspectionReply reply = CCIP__FUNDING__INSPECTION_REPLY__INIT;
    if ((rc = s_load_one(cmd->db, &S_INSPECTION_GET, rq->inspection_id, a, 0,
                         (void **)&reply.inspection)) != 0 ||
        (clawback_id[0] && (rc = s_load_one(cmd->db, &S_CLAWBACK_GET, clawback_id, a, 1,
                                            (void **)&reply.clawback)) != 0))
        goto out;
    if (!reply.inspection || (clawback_id[0] && !reply.clawback) || ccip_arena_failed(a)) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not read inspection %s back",
                               rq->inspection_id);
        goto out;
    }
    Ccip__Funding__InspectionRecorded ev = CCIP__FUNDING__INSPECTION_RECORDED__INIT;
    ev.inspection = reply.inspection;
    ev.application_id = w.application_id;
    ev.grantee_uscc = w.grantee_uscc;
    if ((rc = ccip_command_emit(cmd, "funding.inspection.recorded.v1", "application",
                                w.application_id, &ev.base)) != 0)
        goto out;
    if (reply.clawback &&
        (rc = s_clawback_changed(cmd, "funding.clawback.ordered.v1", &w, reply.clawback)) != 0)
        goto out;
    rc = ccip_command_reply(cmd, &reply.base);
out:
    PQclear(res);
    return rc;
}

int funding_clawback_recover(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__RecoverRequest *rq = request;
    PGresult *res = NULL;
    funding_award_row w;
    char award_id[CCIP_UUID_STRLEN + 1];
    int rc;
    if ((rc = ccip_command_check_uuid(cmd, "clawback_id", rq->clawback_id)) != 0 ||
        (rc = funding_check_amount(cmd, "amount_fen", rq->amount_fen, 0)) != 0 ||
        (rc = ccip_command_check_text(cmd, "reference", rq->reference, 1, REFERENCE_MAX, 0)) != 0 ||
        (rc = s_award_of(cmd, &S_CLAWBACK_AWARD, rq->clawback_id, "clawback", award_id)) != 0 ||
        (rc = funding_award_lock(cmd, award_id, &w)) != 0)
        goto out;
    const char *cid = rq->clawback_id;
    if ((rc = ccip_db_exec(cmd->db, &S_CLAWBACK_LOCK, 1, &cid, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    int64_t outstanding = ccip_db_cell_i64(res, 0, 0) - ccip_db_cell_i64(res, 0, 1);
    PQclear(res);
    res = NULL;
    char yuan[CCIP_FEN_STRLEN + 1];
    funding_yuan(outstanding, yuan, sizeof yuan);
    if (outstanding == 0) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "clawback %s is recovered in full already", rq->clawback_id);
        goto out;
    }
    if (rq->amount_fen > outstanding) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `amount_fen`: %" PRId64
                               " fen is more than the %s yuan (%" PRId64
                               " fen) still owed on clawback %s",
                               rq->amount_fen, yuan, outstanding, rq->clawback_id);
        goto out;
    }
    char memo[96];
    snprintf(memo, sizeof memo, "recovery on clawback %s", rq->clawback_id);
    funding_entry e = {.kind = CCIP__FUNDING__ENTRY_KIND__ENTRY_CLAWBACK_RECOVERED,
                       .programme_code = w.programme_code,
                       .year = w.year,
                       .award_id = w.id,
                       .memo = memo};
    funding_line lines[2] = {
        {.kind = FUNDING_ACC_RECOVERED, .award_id = w.id, .amount_fen = rq->amount_fen},
        {.kind = FUNDING_ACC_RECEIVABLE, .award_id = w.id, .amount_fen = -rq->amount_fen},
    };
    int64_t entry_id = 0;
    if ((rc = funding_ledger_post_cmd(cmd, &e, lines, 2, &entry_id)) != 0)
        goto out;
    char amount[24], entry[24];
    ccip_i64_text(rq->amount_fen, amount);
    ccip_i64_text(entry_id, entry);
    const char *rv[] = {rq->clawback_id, amount, rq->reference, cmd->actor.id, entry};
    const char *uv[] = {rq->clawback_id, amount};
    if ((rc = ccip_db_exec(cmd->db, &S_RECOVERY_INSERT, 5, rv, NULL, NULL, NULL)) != CCIP_DB_OK ||
        (rc = ccip_db_exec(cmd->db, &S_CLAWBACK_RECOVERED, 2, uv, NULL, NULL, NULL)) != CCIP_DB_OK)
        goto out;
    Ccip__Funding__ClawbackReply reply = CCIP__FUNDING__CLAWBACK_REPLY__INIT;
    if ((rc = s_load_one(cmd->db, &S_CLAWBACK_GET, rq->clawback_id, a, 1,
                         (void **)&reply.clawback)) != 0)
        goto out;
    if (!reply.clawback || ccip_arena_failed(a)) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "could not read clawback %s back",
                               rq->clawback_id);
        goto out;
    }
    if ((rc = s_clawback_changed(cmd, "funding.clawback.recovered.v1", &w, reply.clawback)) != 0)
        goto out;
    rc = ccip_command_reply(cmd, &reply.base);
out:
    PQclear(res);
    return rc;
}
