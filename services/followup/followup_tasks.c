#include "followup_tasks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_row.h"
#include "followup_task_read.h"

#define TITLE_MAX       200
#define INSTRUCTION_MAX 10000
#define REFERENCE_MAX   200
#define RESPONSIBLE_MAX 100
#define NOTE_MAX        2000
#define REPORT_TEXT_MAX 10000
#define NAME_MAX_CHARS  200
#define MEDIA_TYPE_MAX  100
#define CO_MAX          20
#define INTERVAL_MAX    90

#define TS CCIP_SQL_TS

enum {
    C_ID,
    C_TITLE,
    C_INSTRUCTION,
    C_SOURCE_KIND,
    C_SOURCE_REF,
    C_LEAD,
    C_CO,
    C_RESPONSIBLE,
    C_PRIORITY,
    C_INTERVAL,
    C_DEADLINE_DATE,
    C_DEADLINE_AT,
    C_STATUS,
    C_CREATED_AT,
    C_CREATED_BY,
    C_ACK_AT,
    C_LAST_REPORT,
    C_REPORT_DUE,
    C_COMPLETED,
    C_ACCEPTED,
    C_CLOSED,
    C_CLOSE_REASON,
    C_EXT_PENDING,
};
_Static_assert(C_EXT_PENDING + 1 == FOLLOWUP_TASK_NCOLUMNS,
               "FOLLOWUP_TASK_COLUMNS and its columns");

static const ccip_db_stmt S_INSERT = {
    "followup_task_insert",
    "INSERT INTO task (id, title, instruction, source_kind, source_ref, lead_unit, co_organisers, "
    "responsible, priority, report_interval_days, deadline_date, deadline_at, created_by) "
    "VALUES ($1::uuid, $2, $3, $4, $5, $6, string_to_array($7, ','), $8, $9, $10::integer, "
    "$11::date, " TS("$12") ", $13)"};

/* seq: the task's deadlines so far + 1, under the task's row lock. */
static const ccip_db_stmt S_DEADLINE = {
    "followup_task_deadline",
    "INSERT INTO task_deadline (task_id, seq, deadline_date, deadline_at, set_by, reason, "
    "extension_id) SELECT $1::uuid, coalesce(max(seq), 0) + 1, $2::date, " TS(
        "$3") ", $4, $5, NULLIF($6, '')::uuid FROM task_deadline WHERE task_id = $1::uuid"};

static const ccip_db_stmt S_STEP = {
    "followup_task_step",
    "WITH s AS (UPDATE task SET steps = steps + 1, updated_at = now() WHERE id = $1::uuid "
    "RETURNING steps) INSERT INTO task_step (task_id, seq, actor_id, actor_role, action, "
    "from_status, to_status, note) SELECT $1::uuid, s.steps, $2, $3, $4, NULLIF($5, ''), $6, $7 "
    "FROM s"};

static const ccip_db_stmt S_LOCK = {"followup_task_lock", "SELECT " FOLLOWUP_TASK_COLUMNS
                                                          " FROM task t WHERE t.id = $1::uuid "
                                                          "FOR UPDATE"};

static const ccip_db_stmt S_ACK = {
    "followup_task_ack",
    "UPDATE task SET status = 'TASK_IN_PROGRESS', acknowledged_at = now(), report_due_at = " TS(
        "NULLIF($2, '')") " WHERE id = $1::uuid"};

/* A report moves the next report's due time; a completion report also the
 * status (completion_reported_at keeps the latest). */
static const ccip_db_stmt S_REPORTED = {
    "followup_task_reported",
    "UPDATE task SET last_report_at = now(), report_due_at = " TS(
        "NULLIF($2, '')") ", status = $3, completion_reported_at = CASE WHEN $3 = "
                          "'TASK_COMPLETION_REPORTED' THEN now() ELSE completion_reported_at END "
                          "WHERE id = $1::uuid"};

static const ccip_db_stmt S_REPORT = {
    "followup_task_report",
    "INSERT INTO task_report (id, task_id, kind, text, reported_by) VALUES ($1::uuid, $2::uuid, "
    "$3, $4, $5)"};

/* The content is stored once per SHA-256, which PostgreSQL computes. */
static const ccip_db_stmt S_ATTACH = {
    "followup_task_attach",
    "WITH b AS (INSERT INTO blob (sha256, size, content) VALUES (sha256($7::bytea), "
    "length($7::bytea), $7::bytea) ON CONFLICT (sha256) DO NOTHING) "
    "INSERT INTO task_attachment (id, report_id, task_id, seq, name, media_type, size, sha256) "
    "VALUES ($1::uuid, $2::uuid, $3::uuid, $4::integer, $5, $6, length($7::bytea), "
    "sha256($7::bytea))"};

static const ccip_db_stmt S_DECIDED = {
    "followup_task_decided",
    "UPDATE task SET status = $2, report_due_at = " TS(
        "NULLIF($3, '')") ", accepted_at = CASE WHEN $2 = 'TASK_ACCEPTED' THEN now() ELSE "
                          "accepted_at END WHERE id = $1::uuid"};

static const ccip_db_stmt S_CLOSE = {"followup_task_close",
                                     "UPDATE task SET status = 'TASK_CLOSED', closed_at = now(), "
                                     "close_reason = $2, report_due_at = NULL WHERE id = $1::uuid"};

/* A pending extension ends with the task's acceptance or closing. */
static const ccip_db_stmt S_CANCEL_EXT = {
    "followup_task_cancel_ext",
    "UPDATE task_extension SET status = 'EXTENSION_CANCELLED', decided_at = now(), decided_by = "
    "$2, decision_reason = $3 WHERE task_id = $1::uuid AND status = 'EXTENSION_PENDING'"};

static const ccip_db_stmt S_EXT_INSERT = {
    "followup_task_ext_insert",
    "INSERT INTO task_extension (id, task_id, requested_date, reason, requested_by) VALUES "
    "($1::uuid, $2::uuid, $3::date, $4, $5)"};

static const ccip_db_stmt S_EXT_PENDING = {
    "followup_task_ext_pending",
    "SELECT id::text, requested_date::text, reason, " CCIP_SQL_US(
        "requested_at") ", requested_by FROM task_extension WHERE task_id = $1::uuid AND status = "
                        "'EXTENSION_PENDING'"};

static const ccip_db_stmt S_EXT_DECIDE = {
    "followup_task_ext_decide",
    "UPDATE task_extension SET status = $2, granted_date = NULLIF($3, '')::date, "
    "decision_reason = $4, decided_at = now(), decided_by = $5 WHERE id = $1::uuid"};

static const ccip_db_stmt S_SET_DEADLINE = {
    "followup_task_set_deadline",
    "UPDATE task SET deadline_date = $2::date, deadline_at = " TS("$3") " WHERE id = $1::uuid"};

/* ---- rows ------------------------------------------------------------------ */

int followup_task_open(Ccip__Followup__TaskStatus status)
{
    return status == CCIP__FOLLOWUP__TASK_STATUS__TASK_ASSIGNED ||
           status == CCIP__FOLLOWUP__TASK_STATUS__TASK_IN_PROGRESS ||
           status == CCIP__FOLLOWUP__TASK_STATUS__TASK_COMPLETION_REPORTED ||
           status == CCIP__FOLLOWUP__TASK_STATUS__TASK_RETURNED;
}

Ccip__Followup__Task *followup_task_from_row(const PGresult *res, int row, int col0, int64_t now_us,
                                             ccip_arena *a)
{
    /* The source (a message) and the co-organisers (repeated) are read by
     * hand; the columns of both are skipped here. */
    Ccip__Followup__Task *t = ccip_row_new(
        a, CCIP_MSG(followup, task), res, row, col0,
        "id, title, instruction, , , lead_unit, , responsible, priority, report_interval_days, "
        "deadline_date, deadline_at_us, status, created_at_us, created_by, acknowledged_at_us, "
        "last_report_at_us, next_report_due_us, completion_reported_at_us, accepted_at_us, "
        "closed_at_us, close_reason, extension_pending");
    Ccip__Followup__TaskSource *src = t ? ccip_row_new(a, CCIP_MSG(followup, task_source), res, row,
                                                       col0 + C_SOURCE_KIND, "kind, reference")
                                        : NULL;
    if (!src)
        return NULL;
    t->source = src;
    t->co_organisers = ccip_arena_split(a, PQgetvalue(res, row, col0 + C_CO), &t->n_co_organisers);
    if (followup_task_open(t->status))
        t->timeliness = (Ccip__Followup__Timeliness)followup_task_timeliness(
            t->deadline_at_us, now_us,
            t->status == CCIP__FOLLOWUP__TASK_STATUS__TASK_COMPLETION_REPORTED
                ? t->completion_reported_at_us
                : 0);
    return ccip_arena_failed(a) ? NULL : t;
}

/* Locks the task and reads it. Returns 0, CCIP_REPLIED (NOT_FOUND, out of
 * memory) or a ccip_db_rc. */
static int s_lock(ccip_command *cmd, const char *id, ccip_arena *a, Ccip__Followup__Task **out)
{
    *out = NULL;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_LOCK, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) == 1)
        *out = followup_task_from_row(res, 0, 0, ccip_now_us(), a);
    int found = PQntuples(res) == 1;
    PQclear(res);
    if (!found)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "there is no task %s; list the tasks with followup.task.list.v1",
                                 id);
    if (!*out)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading task %s", id);
    return 0;
}

/* ---- steps ------------------------------------------------------------------ */

static const char *s_status_name(Ccip__Followup__TaskStatus s)
{
    const char *n = ccip_enum_name(&ccip__followup__task_status__descriptor, (int)s);
    return n ? n : "";
}

/* Appends the step to the task's history. */
static int s_step(ccip_command *cmd, const char *task_id, const char *action,
                  Ccip__Followup__TaskStatus from, Ccip__Followup__TaskStatus to, const char *note)
{
    const char *v[] = {task_id,
                       cmd->actor.id,
                       cmd->actor.role,
                       action,
                       from ? s_status_name(from) : "",
                       s_status_name(to),
                       note ? note : ""};
    return ccip_db_exec(cmd->db, &S_STEP, 7, v, NULL, NULL, NULL);
}

/* Emits followup.task.<action>.v1 with the task as it is now (read again
 * after the step) and replies with the whole task. */
static int s_finish(ccip_command *cmd, ccip_arena *a, const char *task_id, const char *action,
                    const char *note, Ccip__Followup__TaskReport *report,
                    Ccip__Followup__Extension *extension)
{
    Ccip__Followup__Task *t = NULL;
    int rc = followup_task_load_full(cmd, task_id, a, &t);
    if (rc)
        return rc;
    Ccip__Followup__TaskChanged ev = CCIP__FOLLOWUP__TASK_CHANGED__INIT;
    Ccip__Followup__Task summary = *t;
    summary.n_deadlines = summary.n_reports = summary.n_extensions = summary.n_steps =
        summary.n_escalations = 0;
    ev.task = &summary;
    ev.action = (char *)action;
    ev.note = (char *)(note ? note : "");
    ev.report = report;
    ev.extension = extension;
    char type[96];
    snprintf(type, sizeof type, "followup.task.%s.v1", action);
    if ((rc = ccip_command_emit(cmd, type, "task", task_id, &ev.base)))
        return rc;
    Ccip__Followup__TaskReply reply = CCIP__FOLLOWUP__TASK_REPLY__INIT;
    reply.task = t;
    return ccip_command_reply(cmd, &reply.base);
}

/* The hint of who the lead unit is, for a refusal. */
static const char *s_lead_hint(const char *unit, char *buf, size_t len)
{
    if (strcmp(unit, "center") == 0)
        snprintf(buf, len, "any staff member of the center (role staff) acts for it");
    else if (strncmp(unit, FOLLOWUP_DISTRICT_PREFIX, strlen(FOLLOWUP_DISTRICT_PREFIX)) == 0)
        snprintf(buf, len, "the district acts as actor id \"%s\" with role district", unit);
    else
        snprintf(buf, len, "that person acts under actor id \"%s\"",
                 unit + strlen(FOLLOWUP_PERSON_PREFIX));
    return buf;
}

/* Refuses a caller that is not the task's lead unit. */
static int s_check_lead(ccip_command *cmd, const Ccip__Followup__Task *t, const char *verb)
{
    if (followup_acts_as(cmd, t->lead_unit))
        return 0;
    char hint[200], shown[64];
    return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                             "only the lead unit of task %s (%s) may %s it, and you act as %s "
                             "\"%s\": %s; ask the lead unit, or the office to reassign the task",
                             t->id, t->lead_unit, verb, cmd->actor.role,
                             ccip_text_shown(cmd->actor.id, 40, shown, sizeof shown),
                             s_lead_hint(t->lead_unit, hint, sizeof hint));
}

/* Refuses a lead-unit step on a task not in progress (or returned). */
static int s_check_working(ccip_command *cmd, const Ccip__Followup__Task *t, const char *verb)
{
    char when[FOLLOWUP_BEIJING_STRLEN + 1];
    switch (t->status) {
    case CCIP__FOLLOWUP__TASK_STATUS__TASK_IN_PROGRESS:
    case CCIP__FOLLOWUP__TASK_STATUS__TASK_RETURNED:
        return 0;
    case CCIP__FOLLOWUP__TASK_STATUS__TASK_ASSIGNED:
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "task %s has not been acknowledged yet; acknowledge it "
                                 "(followup.task.acknowledge.v1), then %s it",
                                 t->id, verb);
    case CCIP__FOLLOWUP__TASK_STATUS__TASK_COMPLETION_REPORTED:
        return ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "completion of task %s was reported on %s and waits for the "
            "office to accept or return it; you may not %s it meanwhile",
            t->id, followup_when(t->completion_reported_at_us, when, sizeof when), verb);
    case CCIP__FOLLOWUP__TASK_STATUS__TASK_ACCEPTED:
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "task %s was accepted by the office on %s; nothing more is asked "
                                 "of the lead unit",
                                 t->id, followup_when(t->accepted_at_us, when, sizeof when));
    default:
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "task %s was closed on %s (%s); it takes no more steps", t->id,
                                 followup_when(t->closed_at_us, when, sizeof when),
                                 t->close_reason);
    }
}

/* The next progress report's due time as statement text ("" = none). */
static const char *s_report_due(const Ccip__Followup__Task *t, char buf[24])
{
    int64_t due = followup_report_due_us(ccip_now_us(), t->report_interval_days);
    buf[0] = '\0';
    if (due)
        snprintf(buf, 24, "%" PRId64, due);
    return buf;
}

/* A note: optional (why = NULL) or the reasons a step must give (why
 * says for what, "for returning the result"). */
static int s_check_note(ccip_command *cmd, const char *field, const char *note, const char *why)
{
    if (why && (!note || !*note))
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `%s` is missing: give the reasons %s (1 to %d characters)",
                                 field, why, NOTE_MAX);
    return ccip_command_check_text(cmd, field, note, 0, NOTE_MAX, CCIP_TEXT_MULTILINE);
}

/* ---- create ------------------------------------------------------------------ */

static int s_check_create(ccip_command *cmd, const Ccip__Followup__CreateTaskRequest *rq,
                          followup_day *deadline)
{
    int rc;
    char err[400];
    if ((rc = ccip_command_check_text(cmd, "title", rq->title, 1, TITLE_MAX, 0)) ||
        (rc = ccip_command_check_text(cmd, "instruction", rq->instruction, 1, INSTRUCTION_MAX,
                                      CCIP_TEXT_MULTILINE)))
        return rc;
    if (!rq->source ||
        !ccip_enum_name(&ccip__followup__task_source_kind__descriptor, (int)rq->source->kind) ||
        rq->source->kind == CCIP__FOLLOWUP__TASK_SOURCE_KIND__TASK_SOURCE_KIND_UNSPECIFIED)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `source.kind` must say where the task came from: "
                                 "SOURCE_MEETING, SOURCE_MEMO, SOURCE_INSTRUCTION or SOURCE_OTHER");
    if ((rc = ccip_command_check_text(cmd, "source.reference", rq->source->reference, 1,
                                      REFERENCE_MAX, 0)))
        return rc;
    if ((rc = ccip_command_invalid(
             cmd, followup_unit_check("lead_unit", rq->lead_unit, 1, err, sizeof err), err)))
        return rc;
    if (rq->n_co_organisers > CO_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `co_organisers` may name at most %d units, got %zu", CO_MAX,
                                 rq->n_co_organisers);
    for (size_t i = 0; i < rq->n_co_organisers; i++) {
        const char *u = rq->co_organisers[i];
        if ((rc = ccip_command_invalid(
                 cmd, followup_unit_check("co_organisers", u, 0, err, sizeof err), err)))
            return rc;
        if (strcmp(u, rq->lead_unit) == 0)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `co_organisers` names the lead unit %s; a unit is "
                                     "either the lead or a co-organiser",
                                     u);
        for (size_t j = 0; j < i; j++)
            if (strcmp(u, rq->co_organisers[j]) == 0)
                return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                         "field `co_organisers` names %s twice; name each unit "
                                         "once",
                                         u);
    }
    if ((rc = ccip_command_check_text(cmd, "responsible", rq->responsible, 1, RESPONSIBLE_MAX, 0)))
        return rc;
    if (!ccip_enum_name(&ccip__followup__priority__descriptor, (int)rq->priority))
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `priority` must be PRIORITY_NORMAL, PRIORITY_HIGH or "
                                 "PRIORITY_URGENT, got %d",
                                 (int)rq->priority);
    if (rq->report_interval_days < 0 || rq->report_interval_days > INTERVAL_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `report_interval_days` must be 0 (no interval) to %d, got "
                                 "%d",
                                 INTERVAL_MAX, rq->report_interval_days);
    if ((rc = followup_check_day(cmd, "deadline", rq->deadline, deadline)))
        return rc;
    followup_day today = followup_day_of_us(ccip_now_us());
    if (followup_day_cmp(*deadline, today) < 0) {
        char t[16];
        followup_day_format(today, t, sizeof t);
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `deadline` %s has passed (today is %s in Beijing); give "
                                 "today or a later day",
                                 rq->deadline, t);
    }
    return 0;
}

int followup_task_create(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Followup__CreateTaskRequest *rq = request;
    followup_day deadline;
    int rc = s_check_create(cmd, rq, &deadline);
    if (rc)
        return rc;
    char id[CCIP_UUID_STRLEN + 1];
    if ((rc = ccip_command_new_id(cmd, id)))
        return rc;
    char co[CO_MAX * 80] = "";
    for (size_t i = 0, used = 0; i < rq->n_co_organisers; i++)
        used += (size_t)snprintf(co + used, used < sizeof co ? sizeof co - used : 0, "%s%s",
                                 i ? "," : "", rq->co_organisers[i]);
    char interval[16], due[24], date[16];
    snprintf(interval, sizeof interval, "%d", rq->report_interval_days);
    snprintf(due, sizeof due, "%" PRId64, followup_day_end_us(deadline));
    followup_day_format(deadline, date, sizeof date);
    Ccip__Followup__Priority priority =
        rq->priority ? rq->priority : CCIP__FOLLOWUP__PRIORITY__PRIORITY_NORMAL;
    const char *v[] = {
        id,
        rq->title,
        rq->instruction,
        ccip_enum_name(&ccip__followup__task_source_kind__descriptor, (int)rq->source->kind),
        rq->source->reference,
        rq->lead_unit,
        co,
        rq->responsible,
        ccip_enum_name(&ccip__followup__priority__descriptor, (int)priority),
        interval,
        date,
        due,
        cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, &S_INSERT, 13, v, NULL, NULL, NULL)))
        return rc;
    const char *dv[] = {id, date, due, cmd->actor.id, "", ""};
    if ((rc = ccip_db_exec(cmd->db, &S_DEADLINE, 6, dv, NULL, NULL, NULL)) ||
        (rc = s_step(cmd, id, "created", 0, CCIP__FOLLOWUP__TASK_STATUS__TASK_ASSIGNED, "")))
        return rc;
    return s_finish(cmd, a, id, "created", NULL, NULL, NULL);
}

/* ---- acknowledge --------------------------------------------------------------- */

int followup_task_acknowledge(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Followup__TaskActionRequest *rq = request;
    Ccip__Followup__Task *t = NULL;
    int rc;
    if ((rc = ccip_command_check_uuid(cmd, "task_id", rq->task_id)) ||
        (rc = s_lock(cmd, rq->task_id, a, &t)) || (rc = s_check_lead(cmd, t, "acknowledge")) ||
        (rc = s_check_note(cmd, "note", rq->note, NULL)))
        return rc;
    if (t->status != CCIP__FOLLOWUP__TASK_STATUS__TASK_ASSIGNED) {
        char when[FOLLOWUP_BEIJING_STRLEN + 1];
        if (t->acknowledged_at_us)
            return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                     "task %s was already acknowledged on %s; nothing to do", t->id,
                                     followup_when(t->acknowledged_at_us, when, sizeof when));
        return s_check_working(cmd, t, "acknowledge");
    }
    char due[24];
    const char *v[] = {t->id, s_report_due(t, due)};
    if ((rc = ccip_db_exec(cmd->db, &S_ACK, 2, v, NULL, NULL, NULL)) ||
        (rc = s_step(cmd, t->id, "acknowledged", t->status,
                     CCIP__FOLLOWUP__TASK_STATUS__TASK_IN_PROGRESS, rq->note)))
        return rc;
    return s_finish(cmd, a, t->id, "acknowledged", rq->note, NULL, NULL);
}

/* ---- reports ----------------------------------------------------------------- */

static int s_check_attachments(ccip_command *cmd, const Ccip__Followup__ReportTaskRequest *rq)
{
    if (rq->n_attachments > FOLLOWUP_ATTACHMENTS_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "a report carries at most %d attachments, got %zu; put the rest "
                                 "in a later report",
                                 FOLLOWUP_ATTACHMENTS_MAX, rq->n_attachments);
    int64_t max = followup_config_of(cmd)->max_attachment_bytes;
    for (size_t i = 0; i < rq->n_attachments; i++) {
        const Ccip__Followup__AttachmentUpload *up = rq->attachments[i];
        char field[64];
        snprintf(field, sizeof field, "attachments[%zu].name", i);
        int rc = ccip_command_check_text(cmd, field, up->name, 1, NAME_MAX_CHARS, 0);
        if (rc)
            return rc;
        if (strchr(up->name, '/') || strchr(up->name, '\\'))
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `%s` is a file name, without '/' or '\\'", field);
        snprintf(field, sizeof field, "attachments[%zu].media_type", i);
        if ((rc = ccip_command_check_text(cmd, field, up->media_type, 0, MEDIA_TYPE_MAX, 0)))
            return rc;
        if (up->content.len == 0 || (int64_t)up->content.len > max)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "attachment %zu (\"%s\") must be 1 to %" PRId64
                                     " bytes, got %zu; send a smaller file or a summary",
                                     i, up->name, max, up->content.len);
    }
    return 0;
}

/* Writes the report and its attachments; fills *out (arena) for the event. */
static int s_write_report(ccip_command *cmd, ccip_arena *a,
                          const Ccip__Followup__ReportTaskRequest *rq, const char *task_id,
                          Ccip__Followup__ReportKind kind, Ccip__Followup__TaskReport **out)
{
    char id[CCIP_UUID_STRLEN + 1];
    int rc = ccip_command_new_id(cmd, id);
    if (rc)
        return rc;
    const char *v[] = {id, task_id, ccip_enum_name(&ccip__followup__report_kind__descriptor, kind),
                       rq->text, cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, &S_REPORT, 5, v, NULL, NULL, NULL)))
        return rc;
    Ccip__Followup__TaskReport *r = ccip_arena_alloc(a, sizeof *r);
    Ccip__Followup__Attachment **atts = ccip_arena_alloc(a, (rq->n_attachments + 1) * sizeof *atts);
    if (!r || !atts)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    *r = (Ccip__Followup__TaskReport)CCIP__FOLLOWUP__TASK_REPORT__INIT;
    r->id = ccip_arena_strdup(a, id);
    r->kind = kind;
    r->text = rq->text;
    r->reported_at_us = ccip_now_us();
    r->reported_by = ccip_arena_strdup(a, cmd->actor.id);
    r->attachments = atts;
    for (size_t i = 0; i < rq->n_attachments; i++) {
        const Ccip__Followup__AttachmentUpload *up = rq->attachments[i];
        char aid[CCIP_UUID_STRLEN + 1], seq[24];
        if ((rc = ccip_command_new_id(cmd, aid)))
            return rc;
        snprintf(seq, sizeof seq, "%zu", i + 1);
        const char *av[] = {aid,
                            id,
                            task_id,
                            seq,
                            up->name,
                            up->media_type ? up->media_type : "",
                            (const char *)up->content.data};
        int lengths[7] = {0, 0, 0, 0, 0, 0, (int)up->content.len};
        int formats[7] = {0, 0, 0, 0, 0, 0, 1};
        if ((rc = ccip_db_exec(cmd->db, &S_ATTACH, 7, av, lengths, formats, NULL)))
            return rc;
        Ccip__Followup__Attachment *at = ccip_arena_alloc(a, sizeof *at);
        if (!at)
            return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        *at = (Ccip__Followup__Attachment)CCIP__FOLLOWUP__ATTACHMENT__INIT;
        at->id = ccip_arena_strdup(a, aid);
        at->name = up->name;
        at->media_type = up->media_type;
        at->size = (int64_t)up->content.len;
        atts[r->n_attachments++] = at;
    }
    *out = r;
    return ccip_arena_failed(a) ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory")
                                : 0;
}

/* Progress (completion = 0) or completion. */
static int s_report(ccip_command *cmd, ccip_arena *a, const Ccip__Followup__ReportTaskRequest *rq,
                    int completion)
{
    const char *verb = completion ? "report completion of" : "report progress on";
    Ccip__Followup__Task *t = NULL;
    int rc;
    if ((rc = ccip_command_check_uuid(cmd, "task_id", rq->task_id)) ||
        (rc = s_lock(cmd, rq->task_id, a, &t)) || (rc = s_check_lead(cmd, t, verb)) ||
        (rc = s_check_working(cmd, t, verb)) ||
        (rc = ccip_command_check_text(cmd, "text", rq->text, 1, REPORT_TEXT_MAX,
                                      CCIP_TEXT_MULTILINE)) ||
        (rc = s_check_attachments(cmd, rq)))
        return rc;
    Ccip__Followup__TaskReport *report = NULL;
    Ccip__Followup__TaskStatus to =
        completion ? CCIP__FOLLOWUP__TASK_STATUS__TASK_COMPLETION_REPORTED : t->status;
    char due[24] = "";
    const char *v[] = {t->id, completion ? "" : s_report_due(t, due), s_status_name(to)};
    const char *action = completion ? "completion_reported" : "progress_reported";
    if ((rc = s_write_report(cmd, a, rq, t->id,
                             completion ? CCIP__FOLLOWUP__REPORT_KIND__REPORT_COMPLETION
                                        : CCIP__FOLLOWUP__REPORT_KIND__REPORT_PROGRESS,
                             &report)) ||
        (rc = ccip_db_exec(cmd->db, &S_REPORTED, 3, v, NULL, NULL, NULL)) ||
        (rc = s_step(cmd, t->id, action, t->status, to, "")))
        return rc;
    return s_finish(cmd, a, t->id, action, NULL, report, NULL);
}

int followup_task_report_progress(ccip_command *cmd, ccip_arena *a, void *request)
{
    return s_report(cmd, a, request, 0);
}

int followup_task_report_completion(ccip_command *cmd, ccip_arena *a, void *request)
{
    return s_report(cmd, a, request, 1);
}

/* ---- extensions ------------------------------------------------------------------ */

/* Reads the pending extension into *out (NULL when there is none). */
static int s_pending(ccip_command *cmd, const char *task_id, ccip_arena *a,
                     Ccip__Followup__Extension **out)
{
    *out = NULL;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_EXT_PENDING, 1, &task_id, NULL, NULL, &res);
    if (rc)
        return rc;
    if (PQntuples(res) == 1) {
        *out = ccip_row_new(a, CCIP_MSG(followup, extension), res, 0, 0,
                            "id, requested_date, reason, requested_at_us, requested_by");
        if (*out)
            (*out)->status = CCIP__FOLLOWUP__EXTENSION_STATUS__EXTENSION_PENDING;
    }
    PQclear(res);
    return 0;
}

/* A new deadline must come after the current one. */
static int s_check_later(ccip_command *cmd, const char *field, const Ccip__Followup__Task *t,
                         const char *s, followup_day *out)
{
    int rc = followup_check_day(cmd, field, s, out);
    if (rc)
        return rc;
    followup_day current;
    followup_day_parse("", t->deadline_date, &current, NULL, 0);
    if (followup_day_cmp(*out, current) <= 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `%s` %s is not later than the task's deadline %s; an "
                                 "extension moves the deadline later",
                                 field, s, t->deadline_date);
    return 0;
}

int followup_task_request_extension(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Followup__RequestExtensionRequest *rq = request;
    Ccip__Followup__Task *t = NULL;
    int rc;
    followup_day day;
    if ((rc = ccip_command_check_uuid(cmd, "task_id", rq->task_id)) ||
        (rc = s_lock(cmd, rq->task_id, a, &t)) ||
        (rc = s_check_lead(cmd, t, "ask for an extension of")) ||
        (rc = s_check_working(cmd, t, "ask for an extension of")) ||
        (rc = s_check_later(cmd, "deadline", t, rq->deadline, &day)) ||
        (rc = s_check_note(cmd, "reason", rq->reason, "for the extension")))
        return rc;
    Ccip__Followup__Extension *x = NULL;
    if ((rc = s_pending(cmd, t->id, a, &x)))
        return rc;
    if (x) {
        char when[FOLLOWUP_BEIJING_STRLEN + 1];
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "an extension of task %s to %s, asked for on %s, waits for the "
                                 "office's decision; ask again after it",
                                 t->id, x->requested_date,
                                 followup_when(x->requested_at_us, when, sizeof when));
    }
    char id[CCIP_UUID_STRLEN + 1];
    if ((rc = ccip_command_new_id(cmd, id)))
        return rc;
    const char *v[] = {id, t->id, rq->deadline, rq->reason, cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, &S_EXT_INSERT, 5, v, NULL, NULL, NULL)) ||
        (rc = s_step(cmd, t->id, "extension_requested", t->status, t->status, rq->reason)) ||
        (rc = s_pending(cmd, t->id, a, &x)))
        return rc;
    return s_finish(cmd, a, t->id, "extension_requested", rq->reason, NULL, x);
}

/* grant = 1: the deadline moves to the day granted, and the history gets
 * it; grant = 0: nothing but the extension's record changes. */
static int s_decide(ccip_command *cmd, ccip_arena *a,
                    const Ccip__Followup__DecideExtensionRequest *rq, int grant)
{
    Ccip__Followup__Task *t = NULL;
    Ccip__Followup__Extension *x = NULL;
    int rc;
    if ((rc = ccip_command_check_uuid(cmd, "task_id", rq->task_id)) ||
        (rc = s_lock(cmd, rq->task_id, a, &t)) || (rc = s_pending(cmd, t->id, a, &x)))
        return rc;
    if (!x)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "task %s has no extension request waiting for a decision; the "
                                 "lead unit asks with followup.task.request_extension.v1",
                                 t->id);
    if ((rc = s_check_note(cmd, "reason", rq->reason,
                           grant ? "for granting the extension" : "for refusing the extension")))
        return rc;
    if (!grant && rq->deadline && rq->deadline[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `deadline` is for granting an extension; a refusal "
                                 "leaves the deadline %s as it is: leave it empty",
                                 t->deadline_date);
    followup_day day;
    const char *date = x->requested_date;
    if (grant && rq->deadline && rq->deadline[0]) {
        if ((rc = s_check_later(cmd, "deadline", t, rq->deadline, &day)))
            return rc;
        date = rq->deadline;
    } else if (grant && (rc = s_check_later(cmd, "requested deadline", t, date, &day))) {
        /* The request was checked against this deadline, which only a grant
         * moves; checked again because it also parses the day. */
        return rc;
    }
    const char *status = grant ? "EXTENSION_GRANTED" : "EXTENSION_REFUSED";
    const char *v[] = {x->id, status, grant ? date : "", rq->reason, cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, &S_EXT_DECIDE, 5, v, NULL, NULL, NULL)))
        return rc;
    if (grant) {
        char due[24];
        snprintf(due, sizeof due, "%" PRId64, followup_day_end_us(day));
        const char *dv[] = {t->id, date, due};
        const char *hv[] = {t->id, date, due, cmd->actor.id, rq->reason, x->id};
        if ((rc = ccip_db_exec(cmd->db, &S_SET_DEADLINE, 3, dv, NULL, NULL, NULL)) ||
            (rc = ccip_db_exec(cmd->db, &S_DEADLINE, 6, hv, NULL, NULL, NULL)))
            return rc;
    }
    x->status = grant ? CCIP__FOLLOWUP__EXTENSION_STATUS__EXTENSION_GRANTED
                      : CCIP__FOLLOWUP__EXTENSION_STATUS__EXTENSION_REFUSED;
    x->granted_date = (char *)(grant ? date : "");
    x->decision_reason = rq->reason;
    x->decided_at_us = ccip_now_us();
    x->decided_by = ccip_arena_strdup(a, cmd->actor.id);
    const char *action = grant ? "extension_granted" : "extension_refused";
    if ((rc = s_step(cmd, t->id, action, t->status, t->status, rq->reason)))
        return rc;
    return s_finish(cmd, a, t->id, action, rq->reason, NULL, x);
}

int followup_task_grant_extension(ccip_command *cmd, ccip_arena *a, void *request)
{
    return s_decide(cmd, a, request, 1);
}

int followup_task_refuse_extension(ccip_command *cmd, ccip_arena *a, void *request)
{
    return s_decide(cmd, a, request, 0);
}

/* ---- the office's decisions ---------------------------------------------------------- */

typedef enum { S_ACCEPT, S_RETURN, S_CLOSE_TASK } s_decision;

static int s_office(ccip_command *cmd, ccip_arena *a, const Ccip__Followup__TaskActionRequest *rq,
                    s_decision what)
{
    Ccip__Followup__Task *t = NULL;
    int rc;
    if ((rc = ccip_command_check_uuid(cmd, "task_id", rq->task_id)) ||
        (rc = s_lock(cmd, rq->task_id, a, &t)) ||
        (rc = s_check_note(cmd, "note", rq->note,
                           what == S_ACCEPT   ? NULL
                           : what == S_RETURN ? "for returning the result"
                                              : "for closing the task")))
        return rc;
    char when[FOLLOWUP_BEIJING_STRLEN + 1];
    if (t->status == CCIP__FOLLOWUP__TASK_STATUS__TASK_CLOSED)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "task %s was closed on %s (%s); it takes no more steps", t->id,
                                 followup_when(t->closed_at_us, when, sizeof when),
                                 t->close_reason);
    if (what != S_CLOSE_TASK && t->status != CCIP__FOLLOWUP__TASK_STATUS__TASK_COMPLETION_REPORTED)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "task %s is %s: the office %s a result only after the lead unit "
                                 "reported completion (followup.task.report_completion.v1)",
                                 t->id, s_status_name(t->status),
                                 what == S_ACCEPT ? "accepts" : "returns");
    const char *action;
    Ccip__Followup__TaskStatus to;
    if (what == S_CLOSE_TASK) {
        action = "closed";
        to = CCIP__FOLLOWUP__TASK_STATUS__TASK_CLOSED;
        const char *v[] = {t->id, rq->note};
        if ((rc = ccip_db_exec(cmd->db, &S_CLOSE, 2, v, NULL, NULL, NULL)))
            return rc;
    } else {
        action = what == S_ACCEPT ? "accepted" : "returned";
        to = what == S_ACCEPT ? CCIP__FOLLOWUP__TASK_STATUS__TASK_ACCEPTED
                              : CCIP__FOLLOWUP__TASK_STATUS__TASK_RETURNED;
        char due[24] = "";
        const char *v[] = {t->id, s_status_name(to), what == S_RETURN ? s_report_due(t, due) : ""};
        if ((rc = ccip_db_exec(cmd->db, &S_DECIDED, 3, v, NULL, NULL, NULL)))
            return rc;
    }
    if (what != S_RETURN) {
        const char *cv[] = {t->id, cmd->actor.id,
                            what == S_ACCEPT ? "the task was accepted" : "the task was closed"};
        if ((rc = ccip_db_exec(cmd->db, &S_CANCEL_EXT, 3, cv, NULL, NULL, NULL)))
            return rc;
    }
    if ((rc = s_step(cmd, t->id, action, t->status, to, rq->note)))
        return rc;
    return s_finish(cmd, a, t->id, action, rq->note, NULL, NULL);
}

int followup_task_accept(ccip_command *cmd, ccip_arena *a, void *request)
{
    return s_office(cmd, a, request, S_ACCEPT);
}

int followup_task_return(ccip_command *cmd, ccip_arena *a, void *request)
{
    return s_office(cmd, a, request, S_RETURN);
}

int followup_task_close(ccip_command *cmd, ccip_arena *a, void *request)
{
    return s_office(cmd, a, request, S_CLOSE_TASK);
}
