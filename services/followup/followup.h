/*
 * followup: supervision of the tasks the leading group and its office
 * entrust to the center, and the follow-up of the city's key projects
 * (issue 17; messages and the rules of who may do what in
 * proto/ccip/followup.proto).
 *
 * The service is followup_def (followup.c) run by ccip_service_main. Its
 * parts:
 *
 *   followup_rules.c     the pure rules: Beijing days and months, deadlines,
 *                        timeliness, board states, units, amounts
 *   followup_tasks.c     a task's life: create, acknowledge, report progress
 *                        and completion, extensions, accept, return, close
 *   followup_task_read.c task get, list, attachment, board
 *   followup_projects.c  key projects: register, milestones, monthly reports,
 *                        close, get, list, board
 *   followup_sweep.c     the sweep that escalates what is overdue or at risk,
 *                        and the weekly digest
 *   followup_feed.c      what funding, evaluation and ip publish, kept for the
 *                        projects' records
 *
 * Handlers keep no state between commands and may run on any thread.
 */
#ifndef FOLLOWUP_H
#define FOLLOWUP_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/followup.pb-c.h"
#include "ccip_service.h"
#include "ccip_validate.h"
#include "followup_rules.h"

/* followup.max_attachment_bytes: default and the most the setting takes. */
#define FOLLOWUP_ATTACHMENT_DEFAULT (1024 * 1024)
#define FOLLOWUP_ATTACHMENT_LIMIT   (16 * 1024 * 1024)
/* Attachments per report, and room a report needs besides their contents. */
#define FOLLOWUP_ATTACHMENTS_MAX  10
#define FOLLOWUP_MESSAGE_OVERHEAD (64 * 1024)

/* Prefixes of actor ids and units. */
#define FOLLOWUP_ORG_PREFIX      "org:"
#define FOLLOWUP_DISTRICT_PREFIX "district:"
#define FOLLOWUP_PERSON_PREFIX   "person:"

/* The service's configuration: the base, then its own settings. */
typedef struct {
    ccip_service_config base;     /* every service's settings; must be first */
    int64_t sweep_seconds;        /* between automatic sweeps (0: only when asked) */
    int64_t digest_check_seconds; /* between checks whether this week's digest is out */
    int64_t sweep_max;            /* most escalations of one kind per sweep */
    int64_t max_attachment_bytes; /* largest attachment of a task report */
    int64_t report_due_day;       /* day of the next month a monthly report is due by */
} followup_config;

extern const ccip_service_def followup_def;

/* Roles of the handler table (NULL-terminated). */
extern const char *const followup_roles_office[];  /* office, admin: decide */
extern const char *const followup_roles_lead[];    /* staff, district, office, admin: a lead
                                                      unit acts in one of these; the handler
                                                      checks it is this task's */
extern const char *const followup_roles_readers[]; /* office, admin, staff, district, service */
extern const char *const followup_roles_staff[];   /* office, admin, staff */
extern const char *const followup_roles_owner[];   /* grantee */
extern const char *const followup_roles_project_readers[]; /* readers and grantee */

/* The service's configuration for this command. */
const followup_config *followup_config_of(const ccip_command *cmd);

/* 1 when the caller acts as the unit `unit` (a task's lead unit): "center"
 * for role staff; "district:<code>" for role district with exactly that
 * actor id; "person:<id>" for that actor id in a role of
 * followup_roles_lead. */
int followup_acts_as(const ccip_command *cmd, const char *unit);

/* For a caller with role district: its district code (the actor id
 * "district:<code>", a district of Beijing) into code and 0. Other roles:
 * code "" and 0. A district actor whose id is not of that form gets
 * PERMISSION_DENIED and CCIP_REPLIED. */
int followup_actor_district(ccip_command *cmd, char code[16]);

/* For a caller with role grantee: the USCC of its organisation (actor id
 * "org:<USCC>") into uscc and 0; other roles: "" and 0; a grantee whose id
 * is not of that form: PERMISSION_DENIED and CCIP_REPLIED. */
int followup_actor_org(ccip_command *cmd, char uscc[CCIP_USCC_LEN + 1]);

/* Parses a Beijing day of a request answering the command: 0, or
 * CCIP_REPLIED with INVALID_ARGUMENT naming the field. */
int followup_check_day(ccip_command *cmd, const char *field, const char *s, followup_day *out);

/* Writes "2027-06-30 23:59 Beijing" for us into buf (FOLLOWUP_BEIJING_STRLEN
 * + 1 bytes); "never" for 0. */
const char *followup_when(int64_t us, char *buf, size_t len);

/* Every row of res as a new message of desc, its fields filled from the
 * columns from col0 on as `fields` names them (ccip_row.h), into an arena
 * array (*out, at least one slot) of *n messages: what a repeated message
 * field of a reply holds. Returns 0, or -1 when memory ran out or the
 * field list is a mistake (logged). */
int followup_rows(ccip_arena *a, const PGresult *res, int col0,
                  const ProtobufCMessageDescriptor *desc, const char *fields, void ***out,
                  size_t *n);

#endif
