#include "stats_departments.h"

#include <stdio.h>
#include <string.h>

#include "ccip_arena.h"

#define LIST_MAX 1000 /* departments one list reply holds */

#define DEPARTMENT_COLUMNS "code, name, name_zh, " CCIP_SQL_US("defined_at")

static const ccip_db_stmt S_FIND = {"stats_department_find",
                                    "SELECT name FROM department WHERE code = $1"};
static const ccip_db_stmt S_DEFINE = {
    "stats_department_define",
    "INSERT INTO department (code, name, name_zh, defined_by) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, name_zh = EXCLUDED.name_zh "
    "RETURNING " DEPARTMENT_COLUMNS};
static const ccip_db_stmt S_LIST = {"stats_department_list",
                                    "SELECT " DEPARTMENT_COLUMNS
                                    " FROM department ORDER BY code LIMIT 1000"};

int stats_department_find(ccip_db *db, const char *code, char *name, size_t namelen, int *found)
{
    *found = 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_FIND, 1, &code, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) == 1) {
        *found = 1;
        if (name)
            snprintf(name, namelen, "%s", PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return 0;
}

static Ccip__Stats__Department *s_department(const PGresult *res, int r, ccip_arena *a)
{
    Ccip__Stats__Department *d = ccip_arena_alloc(a, sizeof *d);
    if (!d)
        return NULL;
    *d = (Ccip__Stats__Department)CCIP__STATS__DEPARTMENT__INIT;
    d->code = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
    d->name = ccip_arena_strdup(a, PQgetvalue(res, r, 1));
    d->name_zh = ccip_arena_strdup(a, PQgetvalue(res, r, 2));
    d->defined_at_us = ccip_db_cell_i64(res, r, 3);
    return d;
}

int stats_department_define_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__DefineDepartmentRequest *rq = request;
    int rc = stats_code_arg(cmd, "code", rq->code, " (e.g. culture_tourism)");
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "name", rq->name, 1, STATS_NAME_MAX, 0);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "name_zh", rq->name_zh, 0, STATS_NAME_MAX, 0);
    if (rc != 0)
        return rc;
    const char *p[] = {rq->code, rq->name, rq->name_zh, cmd->actor.id};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_DEFINE, 4, p, NULL, NULL, &res)) != 0)
        return rc;
    Ccip__Stats__DepartmentReply reply = CCIP__STATS__DEPARTMENT_REPLY__INIT;
    reply.department = s_department(res, 0, a);
    PQclear(res);
    return stats_reply_built(cmd, a, &reply.base, "out of memory");
}

int stats_department_list_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)request;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_LIST, 0, NULL, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    Ccip__Stats__ListDepartmentsReply reply = CCIP__STATS__LIST_DEPARTMENTS_REPLY__INIT;
    int n = PQntuples(res);
    reply.departments = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof *reply.departments);
    for (int r = 0; reply.departments && r < n && r < LIST_MAX; r++) {
        Ccip__Stats__Department *d = s_department(res, r, a);
        if (!d)
            break;
        reply.departments[reply.n_departments++] = d;
    }
    PQclear(res);
    return stats_reply_built(cmd, a, &reply.base, "out of memory listing departments");
}
