#include "stats_research.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_arena.h"
#include "ccip_id.h"
#include "stats_departments.h"
#include "stats_surveys.h"

#define DELIVERABLES_MAX 20
#define DESCRIPTION_MAX  5000
#define MEDIA_TYPE_MAX   100
#define LIST_MAX         1000

// clang-format off
#define TASK_COLUMNS                                                                               \
    "id, topic, description, body, body_name, coalesce(survey_id::text, ''), status, "            \
    "commissioned_by, " CCIP_SQL_US("commissioned_at") ", coalesce(accepted_by, ''), "           \
    "coalesce(" CCIP_SQL_US("accepted_at") ", 0), acceptance_note"
// clang-format on

static const ccip_db_stmt S_TASK = {
    "stats_research_task", "SELECT " TASK_COLUMNS " FROM research_task WHERE id = $1::uuid"};
static const ccip_db_stmt S_TASK_LOCK = {"stats_research_task_lock",
                                         "SELECT " TASK_COLUMNS
                                         " FROM research_task WHERE id = $1::uuid FOR UPDATE"};
static const ccip_db_stmt S_DELIVERABLES = {
    "stats_research_deliverables",
    "SELECT code, title, " CCIP_SQL_US(
        "due_at") ", status, coalesce(document_name, ''), "
                  "coalesce(media_type, ''), coalesce(size, 0), coalesce(encode(sha256, 'hex'), "
                  "''), "
                  "coalesce(delivered_by, ''), coalesce(" CCIP_SQL_US(
                      "delivered_at") ", 0), review_note, "
                                      "status <> 'APPROVED' AND due_at < now() FROM "
                                      "research_deliverable WHERE task_id = $1::uuid "
                                      "ORDER BY ordinal"};
static const ccip_db_stmt S_LIST = {
    "stats_research_list",
    "SELECT " TASK_COLUMNS " FROM research_task WHERE ($1 = '' OR status = $1) "
    "AND ($2 = '' OR body = $2) ORDER BY commissioned_at DESC, id LIMIT 1000"};
static const ccip_db_stmt S_ORG = {
    "stats_research_org", "SELECT name FROM ev_org WHERE uscc = $1 AND registered_at_us > 0"};
static const ccip_db_stmt S_INSERT = {
    "stats_research_insert",
    "INSERT INTO research_task (id, topic, description, body, body_name, survey_id, status, "
    "commissioned_by) VALUES ($1::uuid, $2, $3, $4, $5, nullif($6, '')::uuid, 'ACTIVE', $7)"};
static const ccip_db_stmt S_INSERT_DELIVERABLE = {
    "stats_research_insert_deliverable",
    "INSERT INTO research_deliverable (task_id, code, ordinal, title, due_at, status) "
    "VALUES ($1::uuid, $2, $3::integer, $4, " CCIP_SQL_TS("$5") ", 'PENDING')"};
static const ccip_db_stmt S_HISTORY = {
    "stats_research_history",
    "INSERT INTO research_history (task_id, deliverable, change, sha256, actor_id, actor_role, "
    "note) SELECT $1::uuid, $2, $3, (SELECT sha256 FROM research_deliverable WHERE task_id = "
    "$1::uuid AND code = $2), $4, $5, $6"};
static const ccip_db_stmt S_DELIVERABLE = {
    "stats_research_deliverable",
    "SELECT status FROM research_deliverable WHERE task_id = $1::uuid AND code = $2 FOR UPDATE"};
static const ccip_db_stmt S_DELIVER = {
    "stats_research_deliver",
    "UPDATE research_deliverable SET status = 'DELIVERED', document_name = $3, media_type = $4, "
    "content = $5::bytea, size = length($5::bytea), sha256 = sha256($5::bytea), delivered_by = "
    "$6, delivered_at = now(), review_note = '' WHERE task_id = $1::uuid AND code = $2"};
static const ccip_db_stmt S_REVIEW = {
    "stats_research_review",
    "UPDATE research_deliverable SET status = $3, review_note = $4 WHERE task_id = $1::uuid AND "
    "code = $2"};
static const ccip_db_stmt S_UNAPPROVED = {
    "stats_research_unapproved",
    "SELECT code, status FROM research_deliverable WHERE task_id = $1::uuid AND status <> "
    "'APPROVED' ORDER BY ordinal LIMIT 1"};
static const ccip_db_stmt S_ACCEPT = {
    "stats_research_accept",
    "UPDATE research_task SET status = 'ACCEPTED', accepted_by = $2, accepted_at = now(), "
    "acceptance_note = $3 WHERE id = $1::uuid"};
static const ccip_db_stmt S_DOCUMENT = {
    "stats_research_document",
    "SELECT document_name, media_type, content, encode(sha256, 'hex') FROM research_deliverable "
    "WHERE task_id = $1::uuid AND code = $2 AND content IS NOT NULL"};

/* ---- rows and messages ------------------------------------------------------------------------
 */

/* The task of row r, with its deliverables (no contents), from a. */
static int s_task(ccip_command *cmd, const PGresult *res, int r, ccip_arena *a,
                  Ccip__Stats__ResearchTask **out)
{
    *out = NULL;
    Ccip__Stats__ResearchTask *t = ccip_arena_alloc(a, sizeof *t);
    if (!t)
        return 0;
    *t = (Ccip__Stats__ResearchTask)CCIP__STATS__RESEARCH_TASK__INIT;
    t->id = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
    t->topic = ccip_arena_strdup(a, PQgetvalue(res, r, 1));
    t->description = ccip_arena_strdup(a, PQgetvalue(res, r, 2));
    t->body = ccip_arena_strdup(a, PQgetvalue(res, r, 3));
    t->body_name = ccip_arena_strdup(a, PQgetvalue(res, r, 4));
    t->survey_id = ccip_arena_strdup(a, PQgetvalue(res, r, 5));
    t->status = strcmp(PQgetvalue(res, r, 6), "ACCEPTED") == 0
                    ? CCIP__STATS__RESEARCH_STATUS__RESEARCH_ACCEPTED
                    : CCIP__STATS__RESEARCH_STATUS__RESEARCH_ACTIVE;
    t->commissioned_by = ccip_arena_strdup(a, PQgetvalue(res, r, 7));
    t->commissioned_at_us = ccip_db_cell_i64(res, r, 8);
    t->accepted_by = ccip_arena_strdup(a, PQgetvalue(res, r, 9));
    t->accepted_at_us = ccip_db_cell_i64(res, r, 10);
    t->acceptance_note = ccip_arena_strdup(a, PQgetvalue(res, r, 11));
    PGresult *d = NULL;
    const char *id = t->id;
    int rc = ccip_db_exec(cmd->db, &S_DELIVERABLES, 1, &id, NULL, NULL, &d);
    if (rc != 0)
        return rc;
    int n = PQntuples(d);
    t->deliverables = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof *t->deliverables);
    for (int i = 0; t->deliverables && i < n; i++) {
        Ccip__Stats__Deliverable *x = ccip_arena_alloc(a, sizeof *x);
        if (!x)
            break;
        *x = (Ccip__Stats__Deliverable)CCIP__STATS__DELIVERABLE__INIT;
        x->code = ccip_arena_strdup(a, PQgetvalue(d, i, 0));
        x->title = ccip_arena_strdup(a, PQgetvalue(d, i, 1));
        x->due_at_us = ccip_db_cell_i64(d, i, 2);
        x->status = (Ccip__Stats__DeliverableStatus)ccip_enum_value(
            &ccip__stats__deliverable_status__descriptor, PQgetvalue(d, i, 3));
        x->document_name = ccip_arena_strdup(a, PQgetvalue(d, i, 4));
        x->media_type = ccip_arena_strdup(a, PQgetvalue(d, i, 5));
        x->size = ccip_db_cell_i64(d, i, 6);
        x->sha256 = ccip_arena_strdup(a, PQgetvalue(d, i, 7));
        x->delivered_by = ccip_arena_strdup(a, PQgetvalue(d, i, 8));
        x->delivered_at_us = ccip_db_cell_i64(d, i, 9);
        x->review_note = ccip_arena_strdup(a, PQgetvalue(d, i, 10));
        x->overdue = ccip_db_cell_bool(d, i, 11);
        t->deliverables[t->n_deliverables++] = x;
    }
    PQclear(d);
    if (!ccip_arena_failed(a))
        *out = t;
    return 0;
}

/* 1 when the caller reads every task (analyst, staff, admin). */
static int s_reads_all(const ccip_command *cmd)
{
    static const char *const all[] = {"analyst", "staff", "admin", NULL};
    return ccip_command_role_in(cmd, all);
}

/* Reads task `id` (FOR UPDATE when lock) that the caller may see into
 * *res (one row): INVALID_ARGUMENT, NOT_FOUND (also for a body's look at
 * another's task). Returns 0, CCIP_REPLIED or a ccip_db_rc. */
static int s_require(ccip_command *cmd, const char *id, int lock, PGresult **res)
{
    *res = NULL;
    int rc = ccip_command_check_uuid(cmd, "task_id", id);
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, lock ? &S_TASK_LOCK : &S_TASK, 1, &id, NULL, NULL, res);
    if (rc != 0)
        return rc;
    if (PQntuples(*res) != 1 ||
        (!s_reads_all(cmd) && strcmp(PQgetvalue(*res, 0, 3), cmd->actor.id) != 0)) {
        PQclear(*res);
        *res = NULL;
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no research task %s%s", id,
                                 s_reads_all(cmd) ? "" : " of yours");
    }
    return 0;
}

/* Replies with task id and emits stats.research.<what>.v1 when what is
 * not NULL. */
static int s_reply(ccip_command *cmd, ccip_arena *a, const char *id, const char *what,
                   const char *deliverable)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_TASK, 1, &id, NULL, NULL, &res);
    Ccip__Stats__ResearchReply reply = CCIP__STATS__RESEARCH_REPLY__INIT;
    if (rc == 0 && PQntuples(res) == 1)
        rc = s_task(cmd, res, 0, a, &reply.task);
    PQclear(res);
    if (rc == 0 && !reply.task)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if (rc == 0 && what) {
        char type[64];
        snprintf(type, sizeof type, "stats.research.%s.v1", what);
        Ccip__Stats__ResearchChanged ev = CCIP__STATS__RESEARCH_CHANGED__INIT;
        ev.task = reply.task;
        ev.deliverable = (char *)(deliverable ? deliverable : "");
        rc = ccip_command_emit(cmd, type, "research_task", id, &ev.base);
    }
    return rc ? rc : stats_reply_built(cmd, a, &reply.base, "out of memory");
}

static int s_history(ccip_command *cmd, const char *task, const char *deliverable,
                     const char *change, const char *note)
{
    const char *p[] = {task, deliverable, change, cmd->actor.id, cmd->actor.role, note};
    return ccip_db_exec(cmd->db, &S_HISTORY, 6, p, NULL, NULL, NULL);
}

/* ---- stats.research.commission.v1 -------------------------------------------------------------
 */

/* Checks the research body and writes its name into name. Returns 0,
 * CCIP_REPLIED or a ccip_db_rc. */
static int s_body(ccip_command *cmd, const char *body, char *name, size_t len)
{
    size_t op = strlen(STATS_ORG_PREFIX), dp = strlen(STATS_DEPT_PREFIX);
    int found = 0, rc;
    if (strncmp(body, STATS_ORG_PREFIX, op) == 0 && ccip_uscc_check(body + op, NULL, 0) == 0) {
        PGresult *res = NULL;
        const char *uscc = body + op;
        if ((rc = ccip_db_exec(cmd->db, &S_ORG, 1, &uscc, NULL, NULL, &res)) != 0)
            return rc;
        found = PQntuples(res) == 1;
        if (found)
            snprintf(name, len, "%s", PQgetvalue(res, 0, 0)[0] ? PQgetvalue(res, 0, 0) : uscc);
        PQclear(res);
        if (!found)
            return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                     "field `body`: organisation %s is not in intake's register "
                                     "(as stats has it); it registers with "
                                     "intake.organisation.register.v1 first",
                                     uscc);
        return 0;
    }
    if (strncmp(body, STATS_DEPT_PREFIX, dp) == 0) {
        if ((rc = stats_department_find(cmd->db, body + dp, name, len, &found)) != 0)
            return rc;
        if (!found)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `body`: there is no department `%.40s` "
                                     "(stats.department.list.v1 lists them)",
                                     body + dp);
        return 0;
    }
    return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                             "field `body` names the research body: \"org:\" and the unified "
                             "social credit code of an organisation of intake's register, or "
                             "\"dept:\" and a department's code, got \"%.60s\"",
                             body);
}

static int s_check_deliverables(ccip_command *cmd, const Ccip__Stats__CommissionResearchRequest *rq)
{
    if (rq->n_deliverables < 1 || rq->n_deliverables > DELIVERABLES_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `deliverables` needs 1 to %d deliverables, got %zu",
                                 DELIVERABLES_MAX, rq->n_deliverables);
    int64_t now = ccip_now_us();
    for (size_t i = 0; i < rq->n_deliverables; i++) {
        const Ccip__Stats__DeliverableSpec *d = rq->deliverables[i];
        char field[64];
        snprintf(field, sizeof field, "deliverables[%zu].code", i + 1);
        int rc = stats_code_arg(cmd, field, d->code, " (e.g. interim_report)");
        snprintf(field, sizeof field, "deliverables[%zu].title", i + 1);
        if (rc == 0)
            rc = ccip_command_check_text(cmd, field, d->title, 1, STATS_NAME_MAX, 0);
        if (rc != 0)
            return rc;
        if (d->due_at_us <= now)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `deliverables[%zu].due_at_us` must be in the future",
                                     i + 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(rq->deliverables[j]->code, d->code) == 0)
                return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                         "deliverable `%s` is there twice; give each its own code",
                                         d->code);
    }
    return 0;
}

int stats_research_commission_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__CommissionResearchRequest *rq = request;
    char name[STATS_NAME_MAX * 4 + 1] = "", id[CCIP_UUID_STRLEN + 1];
    int rc = ccip_command_check_text(cmd, "topic", rq->topic, 1, STATS_NAME_MAX, 0);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "description", rq->description, 0, DESCRIPTION_MAX,
                                     CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = s_body(cmd, rq->body, name, sizeof name);
    if (rc == 0)
        rc = s_check_deliverables(cmd, rq);
    stats_survey_row sv;
    if (rc == 0 && rq->survey_id[0])
        rc = stats_survey_require(cmd, "survey_id", rq->survey_id, 0, &sv);
    if (rc == 0)
        rc = ccip_command_new_id(cmd, id);
    if (rc != 0)
        return rc;
    const char *p[] = {id,   rq->topic,     rq->description, rq->body,
                       name, rq->survey_id, cmd->actor.id};
    rc = ccip_db_exec(cmd->db, &S_INSERT, 7, p, NULL, NULL, NULL);
    for (size_t i = 0; rc == 0 && i < rq->n_deliverables; i++) {
        char ord[24], due[24];
        snprintf(ord, sizeof ord, "%zu", i + 1);
        const Ccip__Stats__DeliverableSpec *d = rq->deliverables[i];
        const char *dp[] = {id, d->code, ord, d->title, ccip_i64_text(d->due_at_us, due)};
        rc = ccip_db_exec(cmd->db, &S_INSERT_DELIVERABLE, 5, dp, NULL, NULL, NULL);
    }
    if (rc == 0)
        rc = s_history(cmd, id, "", "COMMISSIONED", rq->topic);
    return rc ? rc : s_reply(cmd, a, id, "commissioned", NULL);
}

/* ---- deliveries and reviews --------------------------------------------------------------------
 */

/* The task (locked, ACTIVE) and its deliverable's status. Returns 0,
 * CCIP_REPLIED or a ccip_db_rc. */
static int s_deliverable(ccip_command *cmd, const char *task, const char *code, char status[16])
{
    PGresult *res = NULL;
    int rc = s_require(cmd, task, 1, &res);
    if (rc != 0)
        return rc;
    int accepted = strcmp(PQgetvalue(res, 0, 6), "ACCEPTED") == 0;
    PQclear(res);
    if (accepted)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "research task %s is accepted: its deliverables are final", task);
    const char *p[] = {task, code};
    if ((rc = ccip_db_exec(cmd->db, &S_DELIVERABLE, 2, p, NULL, NULL, &res)) != 0)
        return rc;
    int found = PQntuples(res) == 1;
    if (found)
        snprintf(status, 16, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!found)
        return ccip_command_fail(
            cmd, CCIP__STATUS__NOT_FOUND,
            "research task %s has no deliverable `%.40s` (field `deliverable`)", task, code);
    return 0;
}

int stats_research_deliver_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__DeliverResearchRequest *rq = request;
    char status[16];
    const stats_config *cfg = stats_cfg(cmd);
    int rc = ccip_command_check_text(cmd, "document_name", rq->document_name, 1, STATS_NAME_MAX, 0);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "media_type", rq->media_type, 3, MEDIA_TYPE_MAX, 0);
    if (rc == 0 && !strchr(rq->media_type, '/'))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `media_type` must be a media type such as application/pdf, "
                               "got \"%.60s\"",
                               rq->media_type);
    if (rc == 0 && (rq->content.len == 0 || (int64_t)rq->content.len > cfg->max_document_bytes))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `content` must hold the document, 1 to %lld bytes, got %zu",
                               (long long)cfg->max_document_bytes, rq->content.len);
    if (rc == 0)
        rc = s_deliverable(cmd, rq->task_id, rq->deliverable, status);
    if (rc != 0)
        return rc;
    if (strcmp(status, "APPROVED") == 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "deliverable `%s` of research task %s is approved already; "
                                 "nothing was saved",
                                 rq->deliverable, rq->task_id);
    const char *p[] = {rq->task_id,
                       rq->deliverable,
                       rq->document_name,
                       rq->media_type,
                       (const char *)rq->content.data,
                       cmd->actor.id};
    int lengths[] = {0, 0, 0, 0, (int)rq->content.len, 0}, formats[] = {0, 0, 0, 0, 1, 0};
    if ((rc = ccip_db_exec(cmd->db, &S_DELIVER, 6, p, lengths, formats, NULL)) != 0 ||
        (rc = s_history(cmd, rq->task_id, rq->deliverable, "DELIVERED", rq->document_name)) != 0)
        return rc;
    return s_reply(cmd, a, rq->task_id, "delivered", rq->deliverable);
}

int stats_research_review_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__ReviewDeliverableRequest *rq = request;
    char status[16];
    int rc = ccip_command_check_text(cmd, "note", rq->note, rq->approve ? 0 : 1, STATS_REASON_MAX,
                                     CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = s_deliverable(cmd, rq->task_id, rq->deliverable, status);
    if (rc != 0)
        return rc;
    if (strcmp(status, "DELIVERED") != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "deliverable `%s` of research task %s is %s: only a delivered "
                                 "document is reviewed",
                                 rq->deliverable, rq->task_id, status);
    const char *p[] = {rq->task_id, rq->deliverable, rq->approve ? "APPROVED" : "REDO", rq->note};
    if ((rc = ccip_db_exec(cmd->db, &S_REVIEW, 4, p, NULL, NULL, NULL)) != 0 ||
        (rc = s_history(cmd, rq->task_id, rq->deliverable, rq->approve ? "APPROVED" : "RETURNED",
                        rq->note)) != 0)
        return rc;
    return s_reply(cmd, a, rq->task_id, "reviewed", rq->deliverable);
}

int stats_research_accept_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__AcceptResearchRequest *rq = request;
    PGresult *res = NULL;
    int rc =
        ccip_command_check_text(cmd, "note", rq->note, 1, STATS_REASON_MAX, CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = s_require(cmd, rq->task_id, 1, &res);
    if (rc != 0)
        return rc;
    int accepted = strcmp(PQgetvalue(res, 0, 6), "ACCEPTED") == 0;
    PQclear(res);
    if (accepted)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "research task %s is accepted already", rq->task_id);
    const char *p[] = {rq->task_id};
    if ((rc = ccip_db_exec(cmd->db, &S_UNAPPROVED, 1, p, NULL, NULL, &res)) != 0)
        return rc;
    if (PQntuples(res) == 1) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "research task %s cannot be accepted: deliverable `%s` is %s; "
                               "approve every deliverable first (stats.research.review.v1)",
                               rq->task_id, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
        PQclear(res);
        return rc;
    }
    PQclear(res);
    const char *ap[] = {rq->task_id, cmd->actor.id, rq->note};
    if ((rc = ccip_db_exec(cmd->db, &S_ACCEPT, 3, ap, NULL, NULL, NULL)) != 0 ||
        (rc = s_history(cmd, rq->task_id, "", "ACCEPTED", rq->note)) != 0)
        return rc;
    return s_reply(cmd, a, rq->task_id, "accepted", NULL);
}

/* ---- reading ------------------------------------------------------------------------------------
 */

int stats_research_get_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__GetResearchRequest *rq = request;
    PGresult *res = NULL;
    int rc = s_require(cmd, rq->task_id, 0, &res);
    PQclear(res);
    return rc ? rc : s_reply(cmd, a, rq->task_id, NULL, NULL);
}

int stats_research_list_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__ListResearchRequest *rq = request;
    const char *status = rq->status == CCIP__STATS__RESEARCH_STATUS__RESEARCH_ACTIVE ? "ACTIVE"
                         : rq->status == CCIP__STATS__RESEARCH_STATUS__RESEARCH_ACCEPTED
                             ? "ACCEPTED"
                             : "";
    const char *p[] = {status, s_reads_all(cmd) ? "" : cmd->actor.id};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_LIST, 2, p, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    Ccip__Stats__ListResearchReply reply = CCIP__STATS__LIST_RESEARCH_REPLY__INIT;
    int n = PQntuples(res);
    reply.tasks = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof *reply.tasks);
    for (int r = 0; rc == 0 && reply.tasks && r < n && r < LIST_MAX; r++) {
        Ccip__Stats__ResearchTask *t = NULL;
        if ((rc = s_task(cmd, res, r, a, &t)) == 0 && t)
            reply.tasks[reply.n_tasks++] = t;
    }
    PQclear(res);
    return rc ? rc : stats_reply_built(cmd, a, &reply.base, "out of memory listing research");
}

int stats_research_document_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)a;
    const Ccip__Stats__GetResearchDocumentRequest *rq = request;
    PGresult *res = NULL;
    int rc = s_require(cmd, rq->task_id, 0, &res);
    PQclear(res);
    if (rc != 0)
        return rc;
    const char *p[] = {rq->task_id, rq->deliverable};
    if ((rc = ccip_db_exec(cmd->db, &S_DOCUMENT, 2, p, NULL, NULL, &res)) != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "deliverable `%.40s` of research task %s has no document",
                                 rq->deliverable, rq->task_id);
    }
    size_t len = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 2), &len);
    Ccip__Stats__ResearchDocumentReply reply = CCIP__STATS__RESEARCH_DOCUMENT_REPLY__INIT;
    reply.name = PQgetvalue(res, 0, 0);
    reply.media_type = PQgetvalue(res, 0, 1);
    reply.sha256 = PQgetvalue(res, 0, 3);
    reply.content.data = raw;
    reply.content.len = len;
    rc = raw ? ccip_command_reply(cmd, &reply.base)
             : ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    PQfreemem(raw);
    PQclear(res);
    return rc;
}
