#include "ip_disputes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "ip_pg.h"
#include "ip_works.h"

#define STATEMENT_MAX   IP_TEXT_MAX
#define DESCRIPTION_MAX 500 /* characters of an evidence description */

#define DISPUTE_COLUMNS                                                                            \
    "d.id, d.work_id, d.complainant, d.kind, d.statement, d.evidence_descriptions, "               \
    "d.evidence_sha256, d.status, d.filed_at_us, d.answer_by_us, d.answer, "                       \
    "d.answer_evidence_descriptions, d.answer_evidence_sha256, d.answered_by, d.answered_at_us, "  \
    "d.reasons, d.ruled_by, d.ruled_at_us, coalesce(d.lifted_at_us, 0), d.lifted_by, "             \
    "d.lift_reasons FROM dispute d "

static const ccip_db_stmt S_GET = {"ip_dispute_get",
                                   "SELECT " DISPUTE_COLUMNS "WHERE d.id = $1::uuid"};
/* $1 status ('' any), $2 work id as text ('' any), $3 limit. */
static const ccip_db_stmt S_LIST = {
    "ip_dispute_list", "SELECT " DISPUTE_COLUMNS "WHERE ($1 = '' OR d.status = $1) AND ($2 = '' OR "
                       "d.work_id::text = $2) ORDER BY d.filed_at_us DESC, d.id LIMIT $3::integer"};
static const ccip_db_stmt S_LOCK = {"ip_dispute_lock",
                                    "SELECT " DISPUTE_COLUMNS "WHERE d.id = $1::uuid FOR UPDATE"};
static const ccip_db_stmt S_WORK = {"ip_dispute_work",
                                    "SELECT work_id FROM dispute WHERE id = $1::uuid"};
static const ccip_db_stmt S_INSERT = {
    "ip_dispute_insert",
    "INSERT INTO dispute (id, work_id, complainant, kind, statement, evidence_descriptions, "
    "evidence_sha256, filed_at_us, answer_by_us) VALUES ($1::uuid, $2::uuid, $3, $4, $5, "
    "$6::text[], $7::text[], $8::bigint, $9::bigint)"};
static const ccip_db_stmt S_ANSWER = {
    "ip_dispute_answer",
    "UPDATE dispute SET status = 'ANSWERED', answer = $2, answer_evidence_descriptions = "
    "$3::text[], answer_evidence_sha256 = $4::text[], answered_by = $5, answered_at_us = "
    "$6::bigint WHERE id = $1::uuid"};
static const ccip_db_stmt S_RULE = {"ip_dispute_rule",
                                    "UPDATE dispute SET status = $2, reasons = $3, ruled_by = $4, "
                                    "ruled_at_us = $5::bigint WHERE id = $1::uuid"};
static const ccip_db_stmt S_FREEZE = {
    "ip_dispute_freeze",
    "UPDATE work SET frozen_by = $2::uuid WHERE id = $1::uuid AND frozen_by IS NULL"};

static const ccip_db_stmt S_LIFT = {
    "ip_dispute_lift", "UPDATE dispute SET lifted_at_us = $2::bigint, lifted_by = $3, "
                       "lift_reasons = $4 WHERE id = $1::uuid AND lifted_at_us IS NULL"};
/* The work thaws only if this dispute froze it (another upheld one may
 * still hold it). */
static const ccip_db_stmt S_THAW = {
    "ip_dispute_thaw", "UPDATE work SET frozen_by = NULL WHERE id = $1::uuid AND frozen_by = "
                       "$2::uuid"};

/* Builds evidence items from two parallel arrays. */
static int s_fill_evidence(ccip_arena *a, const char *descs, const char *hashes,
                           Ccip__Ip__Evidence ***out, size_t *n)
{
    char **d = NULL, **h = NULL;
    size_t nd = 0, nh = 0;
    if (ip_pg_text_array(a, descs, &d, &nd) < 0 || ip_pg_text_array(a, hashes, &h, &nh) < 0 ||
        nd != nh)
        return -1;
    *out = ccip_arena_alloc(a, (nd ? nd : 1) * sizeof **out);
    Ccip__Ip__Evidence *ev = ccip_arena_alloc(a, (nd ? nd : 1) * sizeof *ev);
    if (!*out || !ev)
        return -1;
    for (size_t i = 0; i < nd; i++) {
        ccip__ip__evidence__init(&ev[i]);
        ev[i].description = d[i];
        ev[i].sha256 = h[i];
        (*out)[i] = &ev[i];
    }
    *n = nd;
    return 0;
}

static int s_fill_dispute(ccip_arena *a, const PGresult *res, int row, void *msg)
{
    Ccip__Ip__Dispute *d = msg;
    ccip__ip__dispute__init(d);
    /* Columns 5-6 and 11-12 are the evidence, as parallel arrays. */
    if (ccip_row_fill(&d->base, res, row, 0,
                      "id, work_id, complainant, kind, statement, , , status, filed_at_us, "
                      "answer_by_us, answer, , , answered_by, answered_at_us, reasons, ruled_by, "
                      "ruled_at_us, lifted_at_us, lifted_by, lift_reasons",
                      a) < 0 ||
        s_fill_evidence(a, PQgetvalue(res, row, 5), PQgetvalue(res, row, 6), &d->evidence,
                        &d->n_evidence) < 0 ||
        s_fill_evidence(a, PQgetvalue(res, row, 11), PQgetvalue(res, row, 12), &d->answer_evidence,
                        &d->n_answer_evidence) < 0)
        return -1;
    return 0;
}

static const ip_rows S_DISPUTES = {"dispute", sizeof(Ccip__Ip__Dispute), s_fill_dispute};

/* Checks evidence items and makes the two array literals. */
static int s_check_evidence(ccip_command *cmd, ccip_arena *a, const char *field,
                            Ccip__Ip__Evidence **items, size_t n, size_t min, const char **descs,
                            const char **hashes)
{
    char err[300], name[48];
    if (n < min || n > IP_EVIDENCE_MAX)
        return ccip_command_fail(
            cmd, CCIP__STATUS__INVALID_ARGUMENT,
            "field `%s` must list %zu to %d items (a description and the SHA-256 of "
            "each document), got %zu",
            field, min, IP_EVIDENCE_MAX, n);
    char **d = ccip_arena_alloc(a, (n ? n : 1) * sizeof *d);
    char **h = ccip_arena_alloc(a, (n ? n : 1) * sizeof *h);
    if (!d || !h)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        int rc;
        snprintf(name, sizeof name, "%s[%zu].description", field, i);
        if ((rc = ccip_command_check_text(cmd, name, items[i]->description, 1, DESCRIPTION_MAX,
                                          0)) != 0)
            return rc;
        snprintf(name, sizeof name, "%s[%zu].sha256", field, i);
        uint8_t bytes[IP_HASH_LEN];
        if (ip_check_sha256(name, items[i]->sha256, bytes, err, sizeof err) < 0)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT, "%s", err);
        d[i] = items[i]->description;
        h[i] = ccip_arena_alloc(a, IP_HASH_HEX + 1);
        if (!h[i])
            return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        ip_hex(bytes, IP_HASH_LEN, h[i]);
    }
    *descs = ip_pg_text_literal(a, d, n);
    *hashes = ip_pg_text_literal(a, h, n);
    if (!*descs || !*hashes)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    return 0;
}

int ip_dispute_file(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__FileDisputeRequest *rq = request;
    char party[IP_PARTY_MAX + 1], err[400], id[40], filed[24], by[24];
    const char *descs = NULL, *hashes = NULL;
    int rc = ip_actor_party(cmd, party);
    if (rc != 0 ||
        (rc = ccip_command_invalid(cmd, ip_check_uuid("work_id", rq->work_id, err, sizeof err),
                                   err)) != 0 ||
        (rc = ccip_command_invalid(
             cmd,
             ip_check_enum("kind", &ccip__ip__dispute_kind__descriptor, rq->kind, err, sizeof err),
             err)) != 0 ||
        (rc = ccip_command_check_text(cmd, "statement", rq->statement, 1, STATEMENT_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0 ||
        (rc = s_check_evidence(cmd, a, "evidence", rq->evidence, rq->n_evidence, 1, &descs,
                               &hashes)) != 0)
        return rc;
    ip_work_state w;
    if ((rc = ip_work_lock(cmd, rq->work_id, &w)) != 0)
        return rc;
    if ((rc = ip_is_owner(cmd, w.id, party)) < 0)
        return rc;
    if (rc == 1)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "%s owns work %s and cannot file a dispute against it", party,
                                 w.id);
    if ((rc = ccip_command_new_id(cmd, id)) != 0)
        return rc;
    int64_t now = ccip_now_us();
    int64_t answer_by = now + ip_config_get(cmd)->dispute_answer_seconds * 1000000;
    const char *v[] = {id,
                       w.id,
                       party,
                       ip_enum_name(&ccip__ip__dispute_kind__descriptor, rq->kind),
                       rq->statement,
                       descs,
                       hashes,
                       ccip_i64_text(now, filed),
                       ccip_i64_text(answer_by, by)};
    if ((rc = ccip_db_exec(cmd->db, &S_INSERT, 9, v, NULL, NULL, NULL)) != 0)
        return rc;
    Ccip__Ip__DisputeFiled ev = CCIP__IP__DISPUTE_FILED__INIT;
    ev.dispute_id = id;
    ev.work_id = w.id;
    ev.complainant = party;
    ev.kind = rq->kind;
    ev.answer_by_us = answer_by;
    Ccip__Ip__DisputeReply reply = CCIP__IP__DISPUTE_REPLY__INIT;
    if ((rc = ccip_command_emit(cmd, "ip.dispute.filed.v1", "dispute", id, &ev.base)) != 0 ||
        !(reply.dispute = ip_read_one(cmd, a, &S_GET, &S_DISPUTES, id, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

/* Locks the dispute's work, then the dispute. */
/* Locks the work of dispute `id`, then the dispute (lock order: the work
 * first). */
static int s_lock(ccip_command *cmd, ccip_arena *a, const char *id, ip_work_state *w,
                  Ccip__Ip__Dispute **d)
{
    char work_id[40];
    int rc;
    if ((rc = ip_work_of(cmd, &S_WORK, "dispute_id", "dispute", id, work_id)) != 0 ||
        (rc = ip_work_lock(cmd, work_id, w)) != 0 ||
        !(*d = ip_read_one(cmd, a, &S_LOCK, &S_DISPUTES, id, &rc)))
        return rc;
    return 0;
}

int ip_dispute_answer(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__AnswerDisputeRequest *rq = request;
    char party[IP_PARTY_MAX + 1], when[CCIP_TIME_STRLEN + 1], now_text[24];
    const char *descs = NULL, *hashes = NULL;
    ip_work_state w;
    Ccip__Ip__Dispute *d = NULL;
    int rc = ip_actor_party(cmd, party);
    if (rc != 0 ||
        (rc = ccip_command_check_text(cmd, "answer", rq->answer, 1, STATEMENT_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0 ||
        (rc = s_check_evidence(cmd, a, "evidence", rq->evidence, rq->n_evidence, 0, &descs,
                               &hashes)) != 0 ||
        (rc = s_lock(cmd, a, rq->dispute_id, &w, &d)) != 0)
        return rc;
    if ((rc = ip_is_owner(cmd, w.id, party)) < 0)
        return rc;
    if (rc == 0)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "only an owner of work %s may answer dispute %s; %s is not one",
                                 w.id, d->id, party);
    if (strcmp(d->status, "FILED") != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "dispute %s is %s; it can be answered once, before it is ruled on",
                                 d->id, d->status);
    int64_t now = ccip_now_us();
    ccip_time_format_us(d->answer_by_us, when, sizeof when);
    if (now > d->answer_by_us)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "the window to answer dispute %s closed at %s", d->id, when);
    const char *v[] = {d->id, rq->answer, descs, hashes, party, ccip_i64_text(now, now_text)};
    if ((rc = ccip_db_exec(cmd->db, &S_ANSWER, 6, v, NULL, NULL, NULL)) != 0)
        return rc;
    Ccip__Ip__DisputeAnswered ev = CCIP__IP__DISPUTE_ANSWERED__INIT;
    ev.dispute_id = d->id;
    ev.work_id = w.id;
    ev.answered_by = party;
    Ccip__Ip__DisputeReply reply = CCIP__IP__DISPUTE_REPLY__INIT;
    if ((rc = ccip_command_emit(cmd, "ip.dispute.answered.v1", "dispute", d->id, &ev.base)) != 0 ||
        !(reply.dispute = ip_read_one(cmd, a, &S_GET, &S_DISPUTES, d->id, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

int ip_dispute_rule(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__RuleDisputeRequest *rq = request;
    char err[400], when[CCIP_TIME_STRLEN + 1], now_text[24];
    ip_work_state w;
    Ccip__Ip__Dispute *d = NULL;
    int rc = ccip_command_invalid(
        cmd, ip_check_enum("ruling", &ccip__ip__ruling__descriptor, rq->ruling, err, sizeof err),
        err);
    if (rc != 0 ||
        (rc = ccip_command_check_text(cmd, "reasons", rq->reasons, 1, STATEMENT_MAX,
                                      CCIP_TEXT_MULTILINE)) != 0 ||
        (rc = s_lock(cmd, a, rq->dispute_id, &w, &d)) != 0)
        return rc;
    if (strcmp(d->status, "FILED") != 0 && strcmp(d->status, "ANSWERED") != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "dispute %s was already ruled on (%s)", d->id, d->status);
    int64_t now = ccip_now_us();
    if (strcmp(d->status, "FILED") == 0 && now <= d->answer_by_us) {
        ccip_time_format_us(d->answer_by_us, when, sizeof when);
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "the respondent may answer dispute %s until %s; rule once it has answered "
            "or after that time",
            d->id, when);
    }
    int uphold = rq->ruling == CCIP__IP__RULING__UPHOLD;
    const char *v[] = {d->id, uphold ? "UPHELD" : "DISMISSED", rq->reasons, cmd->actor.id,
                       ccip_i64_text(now, now_text)};
    if ((rc = ccip_db_exec(cmd->db, &S_RULE, 5, v, NULL, NULL, NULL)) != 0)
        return rc;
    const char *fv[] = {w.id, d->id};
    if (uphold && (rc = ccip_db_exec(cmd->db, &S_FREEZE, 2, fv, NULL, NULL, NULL)) != 0)
        return rc;
    Ccip__Ip__DisputeRuled ev = CCIP__IP__DISPUTE_RULED__INIT;
    ev.dispute_id = d->id;
    ev.work_id = w.id;
    ev.ruling = rq->ruling;
    ev.reasons = rq->reasons;
    ev.serial = w.serial;
    Ccip__Ip__DisputeReply reply = CCIP__IP__DISPUTE_REPLY__INIT;
    if ((rc = ip_work_owners(cmd, a, w.id, &ev.owners, &ev.n_owners)) != 0 ||
        (rc = ccip_command_emit(cmd, uphold ? "ip.dispute.upheld.v1" : "ip.dispute.dismissed.v1",
                                "dispute", d->id, &ev.base)) != 0 ||
        !(reply.dispute = ip_read_one(cmd, a, &S_GET, &S_DISPUTES, d->id, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

int ip_dispute_lift(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__LiftFreezeRequest *rq = request;
    char when[CCIP_TIME_STRLEN + 1], now_text[24];
    ip_work_state w;
    Ccip__Ip__Dispute *d = NULL;
    int rc =
        ccip_command_check_text(cmd, "reasons", rq->reasons, 1, STATEMENT_MAX, CCIP_TEXT_MULTILINE);
    if (rc != 0 || (rc = s_lock(cmd, a, rq->dispute_id, &w, &d)) != 0)
        return rc;
    if (strcmp(d->status, "UPHELD") != 0)
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "dispute %s is %s: only an upheld dispute freezes its work, so there is "
            "no freeze to lift",
            d->id, d->status);
    if (d->lifted_at_us) {
        ccip_time_format_us(d->lifted_at_us, when, sizeof when);
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "the freeze of dispute %s was already lifted at %s; nothing to do",
                                 d->id, when);
    }
    const char *v[] = {d->id, ccip_i64_text(ccip_now_us(), now_text), cmd->actor.id, rq->reasons};
    const char *tv[] = {w.id, d->id};
    if ((rc = ccip_db_exec(cmd->db, &S_LIFT, 4, v, NULL, NULL, NULL)) != 0 ||
        (rc = ccip_db_exec(cmd->db, &S_THAW, 2, tv, NULL, NULL, NULL)) != 0)
        return rc;
    Ccip__Ip__DisputeRuled ev = CCIP__IP__DISPUTE_RULED__INIT;
    ev.dispute_id = d->id;
    ev.work_id = w.id;
    ev.ruling = CCIP__IP__RULING__UPHOLD;
    ev.reasons = rq->reasons;
    ev.serial = w.serial;
    Ccip__Ip__DisputeReply reply = CCIP__IP__DISPUTE_REPLY__INIT;
    if ((rc = ip_work_owners(cmd, a, w.id, &ev.owners, &ev.n_owners)) != 0 ||
        (rc = ccip_command_emit(cmd, "ip.dispute.lifted.v1", "dispute", d->id, &ev.base)) != 0 ||
        !(reply.dispute = ip_read_one(cmd, a, &S_GET, &S_DISPUTES, d->id, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}

int ip_dispute_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__DisputeActionRequest *rq = request;
    char err[200];
    Ccip__Ip__DisputeReply reply = CCIP__IP__DISPUTE_REPLY__INIT;
    int rc = ccip_command_invalid(cmd, ip_check_uuid("dispute_id", rq->dispute_id, err, sizeof err),
                                  err);
    if (rc != 0 || !(reply.dispute = ip_read_one(cmd, a, &S_GET, &S_DISPUTES, rq->dispute_id, &rc)))
        return rc;
    /* A dispute's statement, evidence and answer are for its complainant
     * and the work's owners, who answer it (staff, who rule, and services
     * read every dispute); whether a work is frozen is on the work itself. */
    char party[IP_PARTY_MAX + 1];
    if ((rc = ip_actor_party(cmd, party)) != 0)
        return rc;
    if (party[0] && strcmp(party, reply.dispute->complainant) != 0) {
        if ((rc = ip_is_owner(cmd, reply.dispute->work_id, party)) < 0)
            return rc;
        if (rc == 0)
            return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                     "dispute %s is read by its complainant and the owners of "
                                     "work %s; %s is neither",
                                     rq->dispute_id, reply.dispute->work_id, party);
    }
    return ccip_command_reply(cmd, &reply.base);
}

int ip_dispute_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Ip__ListDisputesRequest *rq = request;
    static const char *const statuses[] = {"FILED", "ANSWERED", "UPHELD", "DISMISSED"};
    char err[200], limit[24];
    int known = !rq->status[0];
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        known |= strcmp(rq->status, statuses[i]) == 0;
    if (!known)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `status` must be FILED, ANSWERED, UPHELD or DISMISSED "
                                 "(or empty for any), got \"%.40s\"",
                                 rq->status);
    int rc = 0;
    if (rq->work_id[0] &&
        (rc = ccip_command_invalid(cmd, ip_check_uuid("work_id", rq->work_id, err, sizeof err),
                                   err)) != 0)
        return rc;
    const char *v[] = {rq->status, rq->work_id, ip_list_limit(rq->limit, limit)};
    Ccip__Ip__ListDisputesReply reply = CCIP__IP__LIST_DISPUTES_REPLY__INIT;
    if (!(reply.disputes =
              ip_read_list(cmd, a, &S_LIST, 3, v, &S_DISPUTES, &reply.n_disputes, &rc)))
        return rc;
    return ccip_command_reply(cmd, &reply.base);
}
