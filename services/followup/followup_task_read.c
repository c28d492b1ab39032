#include "followup_task_read.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_row.h"
#include "followup_sweep.h"
#include "followup_tasks.h"

#define LIST_DEFAULT  200
#define LIST_MAX      2000
#define BOARD_DEFAULT 500
#define BOARD_MAX     5000

static const ccip_db_stmt S_GET = {"followup_task_get", "SELECT " FOLLOWUP_TASK_COLUMNS
                                                        " FROM task t WHERE t.id = $1::uuid"};

static const ccip_db_stmt S_DEADLINES = {
    "followup_task_deadlines",
    "SELECT seq, deadline_date::text, " CCIP_SQL_US("deadline_at") ", " CCIP_SQL_US(
        "set_at") ", set_by, reason, coalesce(extension_id::text, '') FROM task_deadline WHERE "
                  "task_id = $1::uuid ORDER BY seq"};

static const ccip_db_stmt S_REPORTS = {
    "followup_task_reports", "SELECT id::text, kind, text, " CCIP_SQL_US(
                                 "reported_at") ", reported_by FROM task_report WHERE task_id = "
                                                "$1::uuid ORDER BY reported_at, id"};

static const ccip_db_stmt S_ATTACHMENTS = {
    "followup_task_attachments",
    "SELECT id::text, report_id::text, name, media_type, size, encode(sha256, 'hex') FROM "
    "task_attachment WHERE task_id = $1::uuid ORDER BY report_id, seq"};

static const ccip_db_stmt S_EXTENSIONS = {
    "followup_task_extensions",
    "SELECT id::text, requested_date::text, reason, " CCIP_SQL_US(
        "requested_at") ", requested_by, status, coalesce(granted_date::text, ''), "
                        "decision_reason, " CCIP_SQL_US(
                            "decided_at") ", coalesce(decided_by, '') FROM task_extension WHERE "
                                          "task_id = $1::uuid ORDER BY requested_at, id"};

static const ccip_db_stmt S_STEPS = {
    "followup_task_steps",
    "SELECT seq, " CCIP_SQL_US("at") ", actor_id, actor_role, action, coalesce(from_status, ''), "
                                     "to_status, note FROM task_step WHERE task_id = $1::uuid "
                                     "ORDER BY seq"};

static const ccip_db_stmt S_ESCALATIONS = {"followup_task_escalations",
                                           "SELECT " FOLLOWUP_ESCALATION_COLUMNS
                                           " FROM " FOLLOWUP_ESCALATION_FROM
                                           " WHERE e.task_id = $1::uuid ORDER BY e.id"};

/* $1 status ('' any), $2 open only, $3 unit ('' any), $4 also as a
 * co-organiser (districts read what they co-organise), $5 timeliness (''
 * any; else the open tasks of that timeliness), $6 now, $7 soon, $8 limit. */
static const ccip_db_stmt S_LIST = {
    "followup_task_list",
    "SELECT * FROM (SELECT " FOLLOWUP_TASK_COLUMNS ", " FOLLOWUP_SQL_TIMELINESS(
        "$6", "$7") " AS tl FROM task t WHERE ($1 = '' OR t.status = $1) AND (NOT $2::boolean OR "
                    "t.status IN " FOLLOWUP_SQL_TASK_OPEN
                    ") AND ($3 = '' OR t.lead_unit = $3 OR ($4::boolean AND $3 = "
                    "ANY (t.co_organisers)))) x WHERE $5 = '' OR (x.tl = $5 AND x.status "
                    "IN " FOLLOWUP_SQL_TASK_OPEN
                    ") ORDER BY x.deadline_date, x.id LIMIT $8::integer"};

static const ccip_db_stmt S_ATTACHMENT = {
    "followup_task_attachment",
    "SELECT a.id::text, a.name, a.media_type, a.size, encode(a.sha256, 'hex'), a.task_id::text, "
    "b.content, t.lead_unit, array_to_string(t.co_organisers, ',') FROM task_attachment a JOIN "
    "blob b ON b.sha256 = a.sha256 JOIN task t ON t.id = a.task_id WHERE a.id = $1::uuid"};

/* The board: counts of the open tasks by timeliness, then the first $4
 * of them, overdue first, soonest deadline first. */
static const ccip_db_stmt S_BOARD_COUNTS = {
    "followup_task_board_counts",
    "SELECT count(*) FILTER (WHERE tl = 'ON_TIME'), count(*) FILTER (WHERE tl = 'DUE_SOON'), "
    "count(*) FILTER (WHERE tl = 'OVERDUE') FROM (SELECT " FOLLOWUP_SQL_TIMELINESS(
        "$2", "$3") " AS tl FROM task t WHERE t.status IN " FOLLOWUP_SQL_TASK_OPEN
                    " AND ($1 = '' OR t.lead_unit = $1 OR $1 = ANY (t.co_organisers))) x"};

static const ccip_db_stmt S_BOARD_LIST = {
    "followup_task_board_list",
    "SELECT * FROM (SELECT " FOLLOWUP_DIGEST_COLUMNS(
        "$2", "$3") ", t.deadline_at AS d FROM task t "
                    "WHERE t.status IN " FOLLOWUP_SQL_TASK_OPEN " AND ($1 = '' OR t.lead_unit = "
                    "$1 OR $1 = ANY "
                    "(t.co_organisers))) x ORDER BY "
                    "x.tl = 'OVERDUE' DESC, x.tl = "
                    "'DUE_SOON' DESC, x.d, x.id LIMIT "
                    "$4::integer"};

/* ---- reading a task ---------------------------------------------------------- */

/* Runs a statement of one parameter (the task id); *res is the result. */
static int s_rows(ccip_command *cmd, const ccip_db_stmt *st, const char *id, PGresult **res)
{
    return ccip_db_exec(cmd->db, st, 1, &id, NULL, NULL, res);
}

/* Allocates n pointers (at least one) in the arena. */
static void *s_ptrs(ccip_arena *a, int n)
{
    return ccip_arena_alloc(a, (size_t)(n > 0 ? n : 1) * sizeof(void *));
}

/* Runs a statement of the task id and reads every row into a repeated
 * field (followup_rows). Returns 0, CCIP_REPLIED (out of memory) or a
 * ccip_db_rc. */
static int s_list_of(ccip_command *cmd, ccip_arena *a, const ccip_db_stmt *st, const char *id,
                     const ProtobufCMessageDescriptor *desc, const char *fields, void ***out,
                     size_t *n, PGresult **keep)
{
    PGresult *res = NULL;
    int rc = s_rows(cmd, st, id, &res);
    if (rc)
        return rc;
    rc = followup_rows(a, res, 0, desc, fields, out, n);
    if (keep)
        *keep = res;
    else
        PQclear(res);
    return rc ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading task %s", id)
              : 0;
}

static int s_deadlines(ccip_command *cmd, ccip_arena *a, Ccip__Followup__Task *t)
{
    void **v = NULL;
    int rc = s_list_of(cmd, a, &S_DEADLINES, t->id, CCIP_MSG(followup, deadline),
                       "seq, date, due_at_us, set_at_us, set_by, reason, extension_id", &v,
                       &t->n_deadlines, NULL);
    t->deadlines = (Ccip__Followup__Deadline **)v;
    return rc;
}

/* The reports, each with its attachments (a task has few: a nested scan
 * pairs them). */
static int s_reports(ccip_command *cmd, ccip_arena *a, Ccip__Followup__Task *t)
{
    void **v = NULL, **w = NULL;
    size_t na = 0;
    PGresult *att = NULL;
    int rc = s_list_of(cmd, a, &S_REPORTS, t->id, CCIP_MSG(followup, task_report),
                       "id, kind, text, reported_at_us, reported_by", &v, &t->n_reports, NULL);
    t->reports = (Ccip__Followup__TaskReport **)v;
    if (rc || (rc = s_list_of(cmd, a, &S_ATTACHMENTS, t->id, CCIP_MSG(followup, attachment),
                              "id, , name, media_type, size, sha256", &w, &na, &att)))
        return rc;
    for (size_t i = 0; i < t->n_reports; i++) {
        Ccip__Followup__TaskReport *r = t->reports[i];
        r->attachments = ccip_arena_alloc(a, (na + 1) * sizeof *r->attachments);
        for (size_t j = 0; r->attachments && j < na; j++)
            if (strcmp(PQgetvalue(att, (int)j, 1), r->id) == 0)
                r->attachments[r->n_attachments++] = w[j];
    }
    PQclear(att);
    return ccip_arena_failed(a) ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                                    "out of memory reading task %s", t->id)
                                : 0;
}

static int s_extensions(ccip_command *cmd, ccip_arena *a, Ccip__Followup__Task *t)
{
    void **v = NULL;
    int rc = s_list_of(cmd, a, &S_EXTENSIONS, t->id, CCIP_MSG(followup, extension),
                       "id, requested_date, reason, requested_at_us, requested_by, status, "
                       "granted_date, decision_reason, decided_at_us, decided_by",
                       &v, &t->n_extensions, NULL);
    t->extensions = (Ccip__Followup__Extension **)v;
    return rc;
}

static int s_steps(ccip_command *cmd, ccip_arena *a, Ccip__Followup__Task *t)
{
    void **v = NULL;
    int rc = s_list_of(cmd, a, &S_STEPS, t->id, CCIP_MSG(followup, task_step),
                       "seq, at_us, actor_id, actor_role, action, from_status, to_status, note", &v,
                       &t->n_steps, NULL);
    t->steps = (Ccip__Followup__TaskStep **)v;
    return rc;
}

static int s_escalations(ccip_command *cmd, ccip_arena *a, Ccip__Followup__Task *t)
{
    PGresult *res = NULL;
    int rc = s_rows(cmd, &S_ESCALATIONS, t->id, &res);
    if (rc)
        return rc;
    int n = PQntuples(res);
    t->escalations = s_ptrs(a, n);
    for (int i = 0; t->escalations && i < n; i++) {
        Ccip__Followup__Escalation *e = followup_escalation_from_row(res, i, 0, a);
        if (!e)
            break;
        t->escalations[t->n_escalations++] = e;
    }
    PQclear(res);
    return 0;
}

int followup_task_load_full(ccip_command *cmd, const char *id, ccip_arena *a,
                            Ccip__Followup__Task **out)
{
    *out = NULL;
    PGresult *res = NULL;
    int rc = s_rows(cmd, &S_GET, id, &res);
    if (rc)
        return rc;
    int found = PQntuples(res) == 1;
    Ccip__Followup__Task *t = found ? followup_task_from_row(res, 0, 0, ccip_now_us(), a) : NULL;
    PQclear(res);
    if (!found)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "there is no task %s; list the tasks with followup.task.list.v1",
                                 id);
    if (!t)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading task %s", id);
    if ((rc = s_deadlines(cmd, a, t)) || (rc = s_reports(cmd, a, t)) ||
        (rc = s_extensions(cmd, a, t)) || (rc = s_steps(cmd, a, t)) ||
        (rc = s_escalations(cmd, a, t)))
        return rc;
    if (ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading task %s", id);
    *out = t;
    return 0;
}

/* 1 when a district (code) leads or co-organises the task. */
static int s_district_in(const char *code, const char *lead, char *const *co, size_t nco)
{
    char unit[32];
    snprintf(unit, sizeof unit, "%s%s", FOLLOWUP_DISTRICT_PREFIX, code);
    if (strcmp(lead, unit) == 0)
        return 1;
    for (size_t i = 0; i < nco; i++)
        if (strcmp(co[i], unit) == 0)
            return 1;
    return 0;
}

static int s_deny_district(ccip_command *cmd, const char *code, const char *task_id)
{
    return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                             "district %s neither leads nor co-organises task %s; a district "
                             "reads only its own tasks (list them with followup.task.list.v1)",
                             code, task_id);
}

int followup_task_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Followup__GetTaskRequest *rq = request;
    char district[16];
    Ccip__Followup__Task *t = NULL;
    int rc;
    if ((rc = ccip_command_check_uuid(cmd, "task_id", rq->task_id)) ||
        (rc = followup_actor_district(cmd, district)) ||
        (rc = followup_task_load_full(cmd, rq->task_id, a, &t)))
        return rc;
    if (district[0] && !s_district_in(district, t->lead_unit, t->co_organisers, t->n_co_organisers))
        return s_deny_district(cmd, district, t->id);
    Ccip__Followup__TaskReply reply = CCIP__FOLLOWUP__TASK_REPLY__INIT;
    reply.task = t;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- lists ------------------------------------------------------------------------ */

/* now and now + FOLLOWUP_DUE_SOON_DAYS as statement parameters; returns
 * now. */
static int64_t s_bounds(char now[24], char soon[24])
{
    int64_t n = ccip_now_us();
    snprintf(now, 24, "%" PRId64, n);
    snprintf(soon, 24, "%" PRId64, n + FOLLOWUP_DUE_SOON_DAYS * FOLLOWUP_DAY_US);
    return n;
}

/* The unit a caller's list is about: a district's own, else what it asks
 * for (checked). */
static int s_unit(ccip_command *cmd, const char *asked, char unit[64], int *co)
{
    char district[16];
    int rc = followup_actor_district(cmd, district);
    if (rc)
        return rc;
    *co = 0;
    if (district[0]) {
        char own[32];
        snprintf(own, sizeof own, "%s%s", FOLLOWUP_DISTRICT_PREFIX, district);
        if (asked && asked[0] && strcmp(asked, own) != 0)
            return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                     "district %s reads only its own tasks; ask for lead_unit %s "
                                     "or leave it empty",
                                     district, own);
        snprintf(unit, 64, "%s", own);
        *co = 1;
        return 0;
    }
    if (asked && asked[0]) {
        char err[300];
        if ((rc = ccip_command_invalid(
                 cmd, followup_unit_check("lead_unit", asked, 1, err, sizeof err), err)))
            return rc;
    }
    snprintf(unit, 64, "%s", asked ? asked : "");
    return 0;
}

int followup_task_list(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Followup__ListTasksRequest *rq = request;
    char unit[64];
    int co, rc;
    if ((rc = s_unit(cmd, rq->lead_unit, unit, &co)))
        return rc;
    const char *status =
        rq->status ? ccip_enum_name(&ccip__followup__task_status__descriptor, (int)rq->status) : "";
    const char *tl = rq->timeliness ? ccip_enum_name(&ccip__followup__timeliness__descriptor,
                                                     (int)rq->timeliness)
                                    : "";
    if (!status || !tl)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `%s` holds no value the service knows; leave it "
                                 "unspecified or use a value of followup.proto",
                                 !status ? "status" : "timeliness");
    if (rq->limit < 0 || rq->limit > LIST_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `limit` must be 0 (for %d) to %d, got %d", LIST_DEFAULT,
                                 LIST_MAX, rq->limit);
    char now[24], soon[24], limit[16];
    s_bounds(now, soon);
    snprintf(limit, sizeof limit, "%d", rq->limit ? rq->limit : LIST_DEFAULT);
    const char *v[] = {
        status, rq->open_only ? "true" : "false", unit, co ? "true" : "false", tl, now, soon,
        limit};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_LIST, 8, v, NULL, NULL, &res)))
        return rc;
    int n = PQntuples(res);
    Ccip__Followup__ListTasksReply reply = CCIP__FOLLOWUP__LIST_TASKS_REPLY__INIT;
    reply.tasks = s_ptrs(a, n);
    int64_t at = ccip_now_us();
    for (int i = 0; reply.tasks && i < n; i++) {
        Ccip__Followup__Task *t = followup_task_from_row(res, i, 0, at, a);
        if (!t)
            break;
        reply.tasks[reply.n_tasks++] = t;
    }
    PQclear(res);
    if (ccip_arena_failed(a) || (int)reply.n_tasks != n)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory listing tasks");
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- attachments --------------------------------------------------------------------- */

int followup_task_attachment_get(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Followup__GetAttachmentRequest *rq = request;
    char district[16];
    int rc;
    if ((rc = ccip_command_check_uuid(cmd, "attachment_id", rq->attachment_id)) ||
        (rc = followup_actor_district(cmd, district)))
        return rc;
    const char *id = rq->attachment_id;
    /* The content comes back binary; the other columns as text. */
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_ATTACHMENT, 1, &id, NULL, NULL, &res)))
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "there is no attachment %s; a task's attachments are listed by "
                                 "followup.task.get.v1",
                                 id);
    }
    size_t nco = 0;
    char **co = ccip_arena_split(a, PQgetvalue(res, 0, 8), &nco);
    if (district[0] && !s_district_in(district, PQgetvalue(res, 0, 7), co, nco)) {
        char task[CCIP_UUID_STRLEN + 1];
        snprintf(task, sizeof task, "%s", PQgetvalue(res, 0, 5));
        PQclear(res);
        return s_deny_district(cmd, district, task);
    }
    Ccip__Followup__Attachment att = CCIP__FOLLOWUP__ATTACHMENT__INIT;
    att.id = PQgetvalue(res, 0, 0);
    att.name = PQgetvalue(res, 0, 1);
    att.media_type = PQgetvalue(res, 0, 2);
    att.size = ccip_db_cell_i64(res, 0, 3);
    att.sha256 = PQgetvalue(res, 0, 4);
    Ccip__Followup__AttachmentReply reply = CCIP__FOLLOWUP__ATTACHMENT_REPLY__INIT;
    reply.attachment = &att;
    reply.task_id = PQgetvalue(res, 0, 5);
    size_t len = 0;
    unsigned char *content = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 6), &len);
    if (!content) {
        PQclear(res);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading attachment");
    }
    reply.content.data = content;
    reply.content.len = len;
    rc = ccip_command_reply(cmd, &reply.base);
    PQfreemem(content);
    PQclear(res);
    return rc;
}

/* ---- the board ------------------------------------------------------------------------ */

Ccip__Followup__DigestEntry *followup_digest_entry_from_row(const PGresult *res, int row,
                                                            ccip_arena *a)
{
    return ccip_row_new(a, CCIP_MSG(followup, digest_entry), res, row, 0,
                        "task_id, title, lead_unit, deadline_date, deadline_at_us, timeliness, "
                        "status, priority, responsible");
}

int followup_task_board(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Followup__TaskBoardRequest *rq = request;
    char unit[64];
    int co, rc;
    if ((rc = s_unit(cmd, rq->lead_unit, unit, &co)))
        return rc;
    if (rq->limit < 0 || rq->limit > BOARD_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `limit` must be 0 (for %d) to %d, got %d", BOARD_DEFAULT,
                                 BOARD_MAX, rq->limit);
    char now[24], soon[24], limit[16];
    int64_t as_of = s_bounds(now, soon);
    snprintf(limit, sizeof limit, "%d", rq->limit ? rq->limit : BOARD_DEFAULT);
    const char *v[] = {unit, now, soon, limit};
    PGresult *counts = NULL, *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_BOARD_COUNTS, 3, v, NULL, NULL, &counts)))
        return rc;
    if ((rc = ccip_db_exec(cmd->db, &S_BOARD_LIST, 4, v, NULL, NULL, &res))) {
        PQclear(counts);
        return rc;
    }
    Ccip__Followup__TaskBoardReply reply = CCIP__FOLLOWUP__TASK_BOARD_REPLY__INIT;
    reply.as_of_us = as_of;
    reply.on_time = (int32_t)ccip_db_cell_i64(counts, 0, 0);
    reply.due_soon = (int32_t)ccip_db_cell_i64(counts, 0, 1);
    reply.overdue = (int32_t)ccip_db_cell_i64(counts, 0, 2);
    PQclear(counts);
    int n = PQntuples(res);
    reply.tasks = s_ptrs(a, n);
    for (int i = 0; reply.tasks && i < n; i++) {
        Ccip__Followup__DigestEntry *e = followup_digest_entry_from_row(res, i, a);
        if (!e)
            break;
        reply.tasks[reply.n_tasks++] = e;
    }
    PQclear(res);
    if (ccip_arena_failed(a) || (int)reply.n_tasks != n)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading the board");
    return ccip_command_reply(cmd, &reply.base);
}
