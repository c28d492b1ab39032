#include "intake_history.h"

#include "intake_view.h"

static const ccip_db_stmt S_APPEND = {
    "intake_history_append",
    "INSERT INTO application_history (application_id, from_status, to_status, actor_id, "
    "actor_role, reason, command_id) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7)"};

static const ccip_db_stmt S_LOAD = {
    "intake_history_load",
    "SELECT coalesce(from_status, ''), to_status, actor_id, actor_role, reason, "
    "(extract(epoch FROM at) * 1000000)::bigint, command_id "
    "FROM application_history WHERE application_id = $1::uuid ORDER BY id"};

int intake_history_append(ccip_command *cmd, const char *app_id, const char *from, const char *to,
                          const char *reason)
{
    const char *values[] = {
        app_id, from, to, cmd->actor.id, cmd->actor.role, reason ? reason : "", cmd->req->id};
    int rc = ccip_db_exec(cmd->db, &S_APPEND, 7, values, NULL, NULL, NULL);
    if (rc != CCIP_DB_OK)
        return rc;
    return intake_view_transition(cmd->db, app_id, from, to, reason);
}

int intake_history_load(ccip_command *cmd, const char *app_id, ccip_arena *a,
                        Ccip__Intake__Transition ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_LOAD, 1, &app_id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int rows = PQntuples(res);
    Ccip__Intake__Transition **list = ccip_arena_alloc(a, (size_t)rows * sizeof *list);
    for (int r = 0; list && r < rows; r++) {
        Ccip__Intake__Transition *t =
            ccip_row_new(a, CCIP_MSG(intake, transition), res, r, 0,
                         "from_status, to_status, actor_id, actor_role, reason, at_us, command_id");
        if (!t)
            break;
        list[(*n)++] = t;
    }
    PQclear(res);
    if (ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading the history");
    *out = list;
    return 0;
}
