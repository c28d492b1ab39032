#include "intake_readers.h"

#include <stdio.h>
#include <string.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip_id.h"
#include "ccip_log.h"
#include "intake_view.h"

#define SUBJECT_MAX 64 /* longest expert or agency id taken (evaluation's are shorter) */

static const ccip_db_stmt S_EXISTS = {"intake_readers_exists",
                                      "SELECT 1 FROM application WHERE id = $1::uuid"};

/* Once per task; an end that arrived first (never, in one stream; cheap to
 * allow) keeps the row ended. */
static const ccip_db_stmt S_START = {
    "intake_readers_start",
    "INSERT INTO reader (task_id, application_id, case_id, actor_id) "
    "VALUES ($1::uuid, $2::uuid, $3::uuid, $4) ON CONFLICT (task_id) DO NOTHING"};

static const ccip_db_stmt S_END = {
    "intake_readers_end",
    "INSERT INTO reader (task_id, application_id, case_id, actor_id, ended_at, end_reason) "
    "VALUES ($1::uuid, $2::uuid, $3::uuid, $4, now(), $5) ON CONFLICT (task_id) DO UPDATE "
    "SET ended_at = now(), end_reason = EXCLUDED.end_reason WHERE reader.ended_at IS NULL"};

static const ccip_db_stmt S_END_ALL = {"intake_readers_end_all",
                                       "UPDATE reader SET ended_at = now(), end_reason = $2 "
                                       "WHERE application_id = $1::uuid AND ended_at IS NULL"};

static const ccip_db_stmt S_MAY_READ = {
    "intake_readers_may_read",
    "SELECT 1 FROM reader WHERE application_id = $1::uuid AND actor_id = $2 "
    "AND ended_at IS NULL LIMIT 1"};

int intake_reader_role(const ccip_command *cmd)
{
    return strcmp(cmd->actor.role, "expert") == 0 || strcmp(cmd->actor.role, "agency") == 0;
}

int intake_reader_check(ccip_command *cmd, const char *app_id)
{
    /* an expert acts as "expert:<id>", an agency as "agency:<id>": an actor
     * id of the other kind is not this role's grant */
    size_t n = strlen(cmd->actor.role);
    if (strncmp(cmd->actor.id, cmd->actor.role, n) != 0 || cmd->actor.id[n] != ':') {
        char shown[64];
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "an %s acts as itself: its actor id must be \"%s:\" followed by "
                                 "its register id, got \"%s\"",
                                 cmd->actor.role, cmd->actor.role,
                                 ccip_text_shown(cmd->actor.id, 60, shown, sizeof shown));
    }
    const char *v[] = {app_id, cmd->actor.id};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_MAY_READ, 2, v, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int may = PQntuples(res) == 1;
    PQclear(res);
    if (may)
        return 0;
    char shown[64];
    return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                             "%s may not read application %s: an %s reads only the applications "
                             "of the cases it is assigned to (an expert after declaring no "
                             "conflict), until the task ends or the case is decided",
                             ccip_text_shown(cmd->actor.id, 60, shown, sizeof shown), app_id,
                             cmd->actor.role);
}

/* 1 when the event is about an application intake knows (else logged). */
static int s_known(ccip_db *db, const Ccip__Envelope *ev, const char *app_id, int *rc)
{
    *rc = 0;
    if (!ccip_uuid_valid(app_id)) {
        ccip_log_warn("skipped an event not about an intake application", "type", ev->type, "event",
                      ev->id, "application", app_id);
        return 0;
    }
    PGresult *res = NULL;
    if ((*rc = ccip_db_exec(db, &S_EXISTS, 1, &app_id, NULL, NULL, &res)) != CCIP_DB_OK)
        return 0;
    int known = PQntuples(res) == 1;
    PQclear(res);
    if (!known)
        ccip_log_warn("skipped an event about an application intake does not know", "type",
                      ev->type, "event", ev->id, "application", app_id);
    return known;
}

int intake_readers_apply(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    int started = strcmp(ev->type, "evaluation.assignment.started.v1") == 0;
    char err[256];
    Ccip__Evaluation__AssignmentChanged *m =
        (Ccip__Evaluation__AssignmentChanged *)ccip_payload_unpack(
            &ccip__evaluation__assignment_changed__descriptor, ev->payload.data, ev->payload.len,
            ev->payload.len + 1, err, sizeof err);
    const char *prefix =
        !m                                                  ? NULL
        : m->kind == CCIP__EVALUATION__SUBJECT_KIND__EXPERT ? INTAKE_EXPERT_ACTOR_PREFIX
        : m->kind == CCIP__EVALUATION__SUBJECT_KIND__AGENCY ? INTAKE_AGENCY_ACTOR_PREFIX
                                                            : NULL;
    if (!prefix || !ccip_uuid_valid(m->task_id) || !ccip_uuid_valid(m->case_id) ||
        !m->subject_id[0] || strlen(m->subject_id) > SUBJECT_MAX) {
        ccip_log_warn("skipped a malformed assignment event", "type", ev->type, "event", ev->id,
                      "reason", m ? "a field is missing or not an id" : err);
        if (m)
            protobuf_c_message_free_unpacked(&m->base, NULL);
        return 0;
    }
    int rc = 0;
    if (s_known(db, ev, m->application_id, &rc)) {
        char actor[SUBJECT_MAX + 16];
        snprintf(actor, sizeof actor, "%s%s", prefix, m->subject_id);
        const char *v[] = {m->task_id, m->application_id, m->case_id, actor, m->reason};
        rc = ccip_db_exec(db, started ? &S_START : &S_END, started ? 4 : 5, v, NULL, NULL, NULL);
    }
    protobuf_c_message_free_unpacked(&m->base, NULL);
    return rc;
}

int intake_readers_decided(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    int rc = intake_view_apply(db, ev, arg);
    if (rc != 0 || strcmp(ev->aggregate_type, "application") != 0 ||
        !ccip_uuid_valid(ev->aggregate_id))
        return rc; /* intake_view_apply logged a stranger */
    const char *v[] = {ev->aggregate_id, "the case was decided"};
    return ccip_db_exec(db, &S_END_ALL, 2, v, NULL, NULL, NULL);
}
