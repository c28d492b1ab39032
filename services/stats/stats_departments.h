/*
 * stats_departments: the municipal departments surveys ask and research is
 * commissioned from (issue 20).
 *
 * A department acts as role "department" with actor id "dept:<code>"
 * (STATS_DEPT_PREFIX). The migration defines the usual ones
 * (sql/0005_surveys.sql); staff and admin define more, or rename one, with
 * stats.department.define.v1. A department defined after a survey opened is
 * not one of its targets.
 */
#ifndef STATS_DEPARTMENTS_H
#define STATS_DEPARTMENTS_H

#include "stats.h"

/* Sets *found to 1 when department `code` exists, and copies its name into
 * name (may be NULL; namelen bytes). Returns 0 or a ccip_db_rc. */
int stats_department_find(ccip_db *db, const char *code, char *name, size_t namelen, int *found);

/* stats.department.define.v1 and .list.v1 */
int stats_department_define_cmd(ccip_command *cmd, ccip_arena *a, void *request);
int stats_department_list_cmd(ccip_command *cmd, ccip_arena *a, void *request);

#endif
