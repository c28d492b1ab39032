#include "evaluation_tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_arena.h"

/* The columns of a task, as s_task reads them, from a review (r) or an
 * investigation (i) and its case (c). */
#define REVIEW_TASK                                                                                \
    "'EXPERT', r.id, r.case_id, c.application_id, r.expert_id, r.status, "                         \
    "(extract(epoch FROM r.assigned_at) * 1000000)::bigint, "                                      \
    "(extract(epoch FROM r.due_at) * 1000000)::bigint, r.due_at < now(), c.title, "                \
    "c.applicant_name, c.kind, c.district_code, c.summary"
#define INVESTIGATION_TASK                                                                         \
    "'AGENCY', i.id, i.case_id, c.application_id, i.agency_id, i.status, "                         \
    "(extract(epoch FROM i.assigned_at) * 1000000)::bigint, "                                      \
    "(extract(epoch FROM i.due_at) * 1000000)::bigint, i.due_at < now(), c.title, "                \
    "c.applicant_name, c.kind, c.district_code, c.summary"

static const ccip_db_stmt S_LIST = {
    "evaluation_task_list",
    "SELECT * FROM (SELECT " REVIEW_TASK " FROM review r JOIN case_file c ON c.id = r.case_id "
    "WHERE r.status IN ('TASK_ASSIGNED', 'TASK_ACCEPTED') AND $2 <> 'AGENCY' "
    "AND ($1 = '' OR r.expert_id = $1) AND (NOT $3::boolean OR r.due_at < now()) "
    "UNION ALL SELECT " INVESTIGATION_TASK
    " FROM investigation i JOIN case_file c ON c.id = i.case_id "
    "WHERE i.status = 'TASK_ASSIGNED' AND $2 <> 'EXPERT' AND ($1 = '' OR i.agency_id = $1) "
    "AND (NOT $3::boolean OR i.due_at < now())) t ORDER BY 8, 2 LIMIT $4::integer"};

/* The sweep marks what it announces in the same statement that reads it,
 * so a task is announced once even when two sweeps run at once. */
static const ccip_db_stmt S_OVERDUE_REVIEWS = {
    "evaluation_task_overdue_reviews",
    "WITH r AS (UPDATE review SET overdue_notified_at = now() WHERE id IN (SELECT id FROM review "
    "WHERE status IN ('TASK_ASSIGNED', 'TASK_ACCEPTED') AND due_at < now() "
    "AND overdue_notified_at IS NULL ORDER BY due_at LIMIT $1::integer FOR UPDATE SKIP LOCKED) "
    "RETURNING *) SELECT " REVIEW_TASK " FROM r JOIN case_file c ON c.id = r.case_id "
    "ORDER BY 8, 2"};
static const ccip_db_stmt S_OVERDUE_INVESTIGATIONS = {
    "evaluation_task_overdue_investigations",
    "WITH i AS (UPDATE investigation SET overdue_notified_at = now() WHERE id IN (SELECT id FROM "
    "investigation WHERE status = 'TASK_ASSIGNED' AND due_at < now() "
    "AND overdue_notified_at IS NULL ORDER BY due_at LIMIT $1::integer FOR UPDATE SKIP LOCKED) "
    "RETURNING *) SELECT " INVESTIGATION_TASK " FROM i JOIN case_file c ON c.id = i.case_id "
    "ORDER BY 8, 2"};
static const ccip_db_stmt S_REMIND_REVIEWS = {
    "evaluation_task_remind_reviews",
    "WITH r AS (UPDATE review SET reminded_at = now() WHERE id IN (SELECT id FROM review "
    "WHERE status IN ('TASK_ASSIGNED', 'TASK_ACCEPTED') AND due_at >= now() "
    "AND due_at < now() + make_interval(days => $2::integer) AND reminded_at IS NULL "
    "ORDER BY due_at LIMIT $1::integer FOR UPDATE SKIP LOCKED) "
    "RETURNING *) SELECT " REVIEW_TASK " FROM r JOIN case_file c ON c.id = r.case_id "
    "ORDER BY 8, 2"};
static const ccip_db_stmt S_REMIND_INVESTIGATIONS = {
    "evaluation_task_remind_investigations",
    "WITH i AS (UPDATE investigation SET reminded_at = now() WHERE id IN (SELECT id FROM "
    "investigation WHERE status = 'TASK_ASSIGNED' AND due_at >= now() "
    "AND due_at < now() + make_interval(days => $2::integer) AND reminded_at IS NULL "
    "ORDER BY due_at LIMIT $1::integer FOR UPDATE SKIP LOCKED) "
    "RETURNING *) SELECT " INVESTIGATION_TASK " FROM i JOIN case_file c ON c.id = i.case_id "
    "ORDER BY 8, 2"};

/* One task by id, as it stands now. */
static const ccip_db_stmt S_ONE_REVIEW = {"evaluation_task_one_review",
                                          "SELECT " REVIEW_TASK
                                          " FROM review r JOIN case_file c ON c.id = r.case_id "
                                          "WHERE r.id = $1::uuid"};
static const ccip_db_stmt S_ONE_INVESTIGATION = {
    "evaluation_task_one_investigation",
    "SELECT " INVESTIGATION_TASK " FROM investigation i JOIN case_file c ON c.id = i.case_id "
    "WHERE i.id = $1::uuid"};

static Ccip__Evaluation__Task *s_task(ccip_arena *a, const PGresult *res, int i)
{
    return ccip_row_new(
        a, CCIP_MSG(evaluation, task), res, i, 0,
        "kind, task_id, case_id, application_id, subject_id, status, assigned_at_us, due_at_us, "
        "overdue, case_title, applicant_name, call_kind, district_code, summary");
}

int evaluation_task_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__ListTasksRequest *rq = request;
    char me[EVALUATION_ID_MAX + 1] = "";
    const char *subject = rq->subject_id, *kind = "";
    PGresult *res = NULL;
    int rc = 0;
    /* An expert or agency sees its own tasks whatever it asks for. */
    if (strcmp(cmd->actor.role, "expert") == 0 || strcmp(cmd->actor.role, "agency") == 0) {
        rc = evaluation_actor_subject(cmd, cmd->actor.role, me);
        subject = me;
        kind = strcmp(cmd->actor.role, "expert") == 0 ? "EXPERT" : "AGENCY";
    } else if (subject[0]) {
        rc = ccip_command_check_code(cmd, "subject_id", subject, EVALUATION_ID_MAX);
    }
    if (rc == 0 && (rq->limit < 0 || rq->limit > EVALUATION_LIST_MAX))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `limit` must be between 0 (= %d) and %d, got %d",
                               EVALUATION_LIST_DEFAULT, EVALUATION_LIST_MAX, rq->limit);
    if (rc == 0) {
        char limit[16];
        snprintf(limit, sizeof limit, "%d", rq->limit ? rq->limit : EVALUATION_LIST_DEFAULT);
        const char *v[] = {subject, kind, rq->overdue_only ? "true" : "false", limit};
        rc = ccip_db_exec(cmd->db, &S_LIST, 4, v, NULL, NULL, &res);
    }
    if (rc == 0) {
        Ccip__Evaluation__ListTasksReply reply = CCIP__EVALUATION__LIST_TASKS_REPLY__INIT;
        int n = PQntuples(res);
        reply.tasks = ccip_arena_alloc(a, (size_t)n * sizeof *reply.tasks + 1);
        for (int i = 0; reply.tasks && i < n; i++)
            reply.tasks[reply.n_tasks++] = s_task(a, res, i);
        rc = ccip_command_reply_built(cmd, a, &reply.base);
    }
    PQclear(res);
    return rc;
}

/* Runs one sweep statement and publishes each task it returns as `type`
 * (built in a). Adds their number to *count. */
static int s_announce(ccip_command *cmd, ccip_arena *a, const ccip_db_stmt *st, const char *type,
                      int *count)
{
    char max[16], days[16];
    snprintf(max, sizeof max, "%d", EVALUATION_SWEEP_MAX);
    snprintf(days, sizeof days, "%lld", (long long)evaluation_cfg(cmd)->reminder_days);
    const char *v[] = {max, days};
    PGresult *res = NULL;
    int rc =
        ccip_db_exec(cmd->db, st, st == &S_REMIND_REVIEWS || st == &S_REMIND_INVESTIGATIONS ? 2 : 1,
                     v, NULL, NULL, &res);
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        Ccip__Evaluation__TaskNotice ev = CCIP__EVALUATION__TASK_NOTICE__INIT;
        ev.task = s_task(a, res, i);
        if (!ev.task)
            rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        else
            rc = ccip_command_emit(cmd, type, "task", ev.task->task_id, &ev.base);
        if (rc == 0)
            (*count)++;
    }
    PQclear(res);
    return rc;
}

int evaluation_task_sweep(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)request; /* a SweepRequest has no fields */
    Ccip__Evaluation__SweepReply reply = CCIP__EVALUATION__SWEEP_REPLY__INIT;
    int overdue = 0, reminders = 0;
    int rc = s_announce(cmd, a, &S_OVERDUE_REVIEWS, "evaluation.task.overdue.v1", &overdue);
    if (rc == 0)
        rc = s_announce(cmd, a, &S_OVERDUE_INVESTIGATIONS, "evaluation.task.overdue.v1", &overdue);
    if (rc == 0)
        rc = s_announce(cmd, a, &S_REMIND_REVIEWS, "evaluation.task.reminder.v1", &reminders);
    if (rc == 0)
        rc =
            s_announce(cmd, a, &S_REMIND_INVESTIGATIONS, "evaluation.task.reminder.v1", &reminders);
    reply.overdue_published = overdue;
    reply.reminders_published = reminders;
    if (rc == 0)
        rc = ccip_command_reply(cmd, &reply.base);
    return rc;
}

int evaluation_task_publish(ccip_command *cmd, Ccip__Evaluation__SubjectKind kind,
                            const char *task_id, const char *type)
{
    int is_agency = kind == CCIP__EVALUATION__SUBJECT_KIND__AGENCY;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, is_agency ? &S_ONE_INVESTIGATION : &S_ONE_REVIEW, 1, &task_id,
                          NULL, NULL, &res);
    if (rc != 0)
        return rc;
    ccip_arena *a = PQntuples(res) == 1 ? ccip_arena_new() : NULL;
    Ccip__Evaluation__TaskNotice ev = CCIP__EVALUATION__TASK_NOTICE__INIT;
    ev.task = a ? s_task(a, res, 0) : NULL;
    PQclear(res);
    if (!ev.task)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                               a ? "out of memory" : "task %s vanished while it changed", task_id);
    else
        rc = ccip_command_emit(cmd, type, "task", task_id, &ev.base);
    ccip_arena_destroy(&a);
    return rc;
}
