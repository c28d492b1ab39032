#include "stats_surveys.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/intake.pb-c.h"
#include "ccip_arena.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_pgarray.h"
#include "stats_completeness.h"
#include "stats_departments.h"
#include "stats_questionnaires.h"

#define SELECTORS_MAX   20     /* parts of one target list */
#define IDS_MAX         20000  /* ids one selector names */
#define REMINDERS_MAX   10     /* reminder points of one survey */
#define REMINDER_DAYS   90     /* the earliest reminder, in days before the close */
#define SURVEY_DAYS_MAX 366    /* longest a survey may stay open */
#define LIST_MAX        1000   /* surveys one list reply holds */
#define TARGETS_MAX     100000 /* targets one completeness reply lists */
#define DESCRIPTION_MAX 5000

// clang-format off
#define SURVEY_COLUMNS                                                                             \
    "id, title, questionnaire_id, questionnaire_version, anonymous, " CCIP_SQL_US("opens_at") ", " \
    CCIP_SQL_US("closes_at") ", coalesce(" CCIP_SQL_US("closed_early_at") ", 0), "               \
    CCIP_SQL_US("now()")
// clang-format on

static const ccip_db_stmt S_LOAD = {"stats_survey_load",
                                    "SELECT " SURVEY_COLUMNS " FROM survey WHERE id = $1::uuid"};
static const ccip_db_stmt S_LOAD_SHARE = {"stats_survey_load_share",
                                          "SELECT " SURVEY_COLUMNS
                                          " FROM survey WHERE id = $1::uuid FOR SHARE"};
static const ccip_db_stmt S_LOAD_UPDATE = {"stats_survey_load_update",
                                           "SELECT " SURVEY_COLUMNS
                                           " FROM survey WHERE id = $1::uuid FOR UPDATE"};
static const ccip_db_stmt S_DETAIL = {
    "stats_survey_detail",
    "SELECT description, array_to_string(reminder_days, ','), close_reason, "
    "created_by, " CCIP_SQL_US(
        "created_at") ", (SELECT string_agg(quarter, ',' ORDER BY quarter) FROM "
                      "survey_section WHERE survey_id = $1::uuid) FROM survey WHERE id = $1::uuid"};
static const ccip_db_stmt S_SELECTORS = {
    "stats_survey_selectors",
    "SELECT kind, array_to_string(ids, ','), array_to_string(roster_kinds, ','), "
    "organisation_type, district_code FROM survey_selector WHERE survey_id = $1::uuid "
    "ORDER BY ordinal"};
static const ccip_db_stmt S_TARGET = {
    "stats_survey_target", "SELECT target_id, target_kind, district_code, name, respondent FROM "
                           "survey_targets($1::uuid) WHERE target_id = $2"};
static const ccip_db_stmt S_INSERT = {
    "stats_survey_insert",
    "INSERT INTO survey (id, title, description, questionnaire_id, questionnaire_version, "
    "anonymous, opens_at, closes_at, reminder_days, created_by) VALUES ($1::uuid, $2, $3, "
    "$4::uuid, $5::integer, $6::boolean, greatest(now(), " CCIP_SQL_TS("$7") "), " CCIP_SQL_TS(
        "$8") ", "
              "$9::integer[], $10)"};
static const ccip_db_stmt S_INSERT_SELECTOR = {
    "stats_survey_insert_selector",
    "INSERT INTO survey_selector (survey_id, ordinal, kind, ids, roster_kinds, "
    "organisation_type, district_code) VALUES ($1::uuid, $2::integer, $3, $4::text[], "
    "$5::text[], $6, $7)"};
static const ccip_db_stmt S_ROSTER_EXISTS = {"stats_survey_roster_exists",
                                             "SELECT 1 FROM roster_entry WHERE id = $1"};
static const ccip_db_stmt S_CLOSE = {
    "stats_survey_close",
    "UPDATE survey SET closed_early_at = now(), close_reason = $2 WHERE id = $1::uuid"};

/* The status of a survey in SQL, at now(). */
#define SURVEY_STATUS_SQL                                                                          \
    "CASE WHEN closed_early_at IS NOT NULL OR closes_at <= now() THEN 'CLOSED' "                   \
    "WHEN opens_at > now() THEN 'SCHEDULED' ELSE 'OPEN' END"

/* $1 the status ("" = any), $2 the respondent ("" = any caller may see all). */
static const ccip_db_stmt S_LIST = {
    "stats_survey_list",
    "SELECT " SURVEY_COLUMNS " FROM survey s WHERE ($1 = '' OR " SURVEY_STATUS_SQL " = $1) "
    "AND ($2 = '' OR EXISTS (SELECT 1 FROM survey_targets(s.id) t WHERE t.respondent = $2)) "
    "ORDER BY opens_at DESC, id LIMIT 1000"};

/* Every target with its participation; $2 a district ("" = all). */
static const ccip_db_stmt S_COMPLETENESS = {
    "stats_survey_completeness",
    "SELECT t.target_id, t.target_kind, t.district_code, t.name, t.respondent, "
    "coalesce(p.status, ''), coalesce(" CCIP_SQL_US(
        "p.first_submitted_at") ", 0) "
                                "FROM survey_targets($1::uuid) t LEFT JOIN survey_participation p "
                                "ON p.survey_id = $1::uuid AND p.target_id = t.target_id "
                                "WHERE $2 = '' OR t.district_code = $2 ORDER BY t.district_code, "
                                "t.target_kind, t.target_id"};

/* ---- rows ---------------------------------------------------------------------------------- */

static void s_row(const PGresult *res, int r, stats_survey_row *row)
{
    memset(row, 0, sizeof *row);
    snprintf(row->id, sizeof row->id, "%s", PQgetvalue(res, r, 0));
    snprintf(row->title, sizeof row->title, "%s", PQgetvalue(res, r, 1));
    snprintf(row->questionnaire_id, sizeof row->questionnaire_id, "%s", PQgetvalue(res, r, 2));
    row->version = (int)ccip_db_cell_i64(res, r, 3);
    row->anonymous = ccip_db_cell_bool(res, r, 4);
    row->opens_at_us = ccip_db_cell_i64(res, r, 5);
    row->closes_at_us = ccip_db_cell_i64(res, r, 6);
    row->closed_early_at_us = ccip_db_cell_i64(res, r, 7);
    row->now_us = ccip_db_cell_i64(res, r, 8);
}

int stats_survey_require(ccip_command *cmd, const char *field, const char *id, int lock,
                         stats_survey_row *row)
{
    int rc = ccip_command_check_uuid(cmd, field, id);
    /* id may be row->id (a survey read again after a change): copy it
     * before the row is cleared. */
    char key[CCIP_UUID_STRLEN + 1];
    snprintf(key, sizeof key, "%s", id ? id : "");
    memset(row, 0, sizeof *row);
    if (rc != 0)
        return rc;
    const ccip_db_stmt *st = lock == 2 ? &S_LOAD_UPDATE : lock == 1 ? &S_LOAD_SHARE : &S_LOAD;
    PGresult *res = NULL;
    const char *p[] = {key};
    if ((rc = ccip_db_exec(cmd->db, st, 1, p, NULL, NULL, &res)) != 0)
        return rc;
    int found = PQntuples(res) == 1;
    if (found)
        s_row(res, 0, row);
    PQclear(res);
    if (!found)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no survey %s", key);
    return 0;
}

Ccip__Stats__SurveyStatus stats_survey_status(const stats_survey_row *row)
{
    if (row->closed_early_at_us || row->now_us >= row->closes_at_us)
        return CCIP__STATS__SURVEY_STATUS__CLOSED;
    if (row->now_us < row->opens_at_us)
        return CCIP__STATS__SURVEY_STATUS__SCHEDULED;
    return CCIP__STATS__SURVEY_STATUS__OPEN;
}

const char *stats_target_kind_name(Ccip__Stats__TargetKind k)
{
    const char *n = ccip_enum_name(&ccip__stats__target_kind__descriptor, (int)k);
    return n ? n : "";
}

Ccip__Stats__TargetKind stats_target_kind_of(const char *name)
{
    return (Ccip__Stats__TargetKind)ccip_enum_value(&ccip__stats__target_kind__descriptor, name);
}

/* The selectors of survey `id` into s->targets. Returns 0 or a ccip_db_rc. */
static int s_selectors(ccip_db *db, const char *id, ccip_arena *a, Ccip__Stats__Survey *s)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_SELECTORS, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    int n = PQntuples(res);
    s->targets = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof *s->targets);
    for (int r = 0; s->targets && r < n; r++) {
        Ccip__Stats__TargetSelector *t = ccip_arena_alloc(a, sizeof *t);
        if (!t)
            break;
        *t = (Ccip__Stats__TargetSelector)CCIP__STATS__TARGET_SELECTOR__INIT;
        t->kind = stats_target_kind_of(PQgetvalue(res, r, 0));
        t->ids = ccip_arena_split(a, PQgetvalue(res, r, 1), &t->n_ids);
        size_t nk = 0;
        char **kinds = ccip_arena_split(a, PQgetvalue(res, r, 2), &nk);
        t->roster_kinds = ccip_arena_alloc(a, (nk + 1) * sizeof *t->roster_kinds);
        for (size_t k = 0; kinds && t->roster_kinds && k < nk; k++)
            t->roster_kinds[t->n_roster_kinds++] = (Ccip__Stats__RosterKind)ccip_enum_value(
                &ccip__stats__roster_kind__descriptor, kinds[k]);
        t->organisation_type = ccip_arena_strdup(a, PQgetvalue(res, r, 3));
        t->district = ccip_arena_strdup(a, PQgetvalue(res, r, 4));
        s->targets[s->n_targets++] = t;
    }
    PQclear(res);
    return 0;
}

int stats_survey_message(ccip_db *db, const stats_survey_row *row, ccip_arena *a,
                         Ccip__Stats__Survey **out)
{
    *out = NULL;
    Ccip__Stats__Survey *s = ccip_arena_alloc(a, sizeof *s);
    if (!s)
        return 0;
    *s = (Ccip__Stats__Survey)CCIP__STATS__SURVEY__INIT;
    s->id = ccip_arena_strdup(a, row->id);
    s->title = ccip_arena_strdup(a, row->title);
    s->questionnaire_id = ccip_arena_strdup(a, row->questionnaire_id);
    s->questionnaire_version = (uint32_t)row->version;
    s->anonymous = row->anonymous;
    s->opens_at_us = row->opens_at_us;
    s->closes_at_us = row->closes_at_us;
    s->closed_early_at_us = row->closed_early_at_us;
    s->status = stats_survey_status(row);
    const char *id = row->id;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_DETAIL, 1, &id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) == 1) {
        s->description = ccip_arena_strdup(a, PQgetvalue(res, 0, 0));
        size_t nd = 0;
        char **days = ccip_arena_split(a, PQgetvalue(res, 0, 1), &nd);
        s->reminder_days = ccip_arena_alloc(a, (nd + 1) * sizeof *s->reminder_days);
        for (size_t i = 0; days && s->reminder_days && i < nd; i++)
            s->reminder_days[s->n_reminder_days++] = (uint32_t)strtoul(days[i], NULL, 10);
        s->close_reason = ccip_arena_strdup(a, PQgetvalue(res, 0, 2));
        s->created_by = ccip_arena_strdup(a, PQgetvalue(res, 0, 3));
        s->created_at_us = ccip_db_cell_i64(res, 0, 4);
        s->quarters = ccip_arena_split(a, PQgetvalue(res, 0, 5), &s->n_quarters);
    }
    PQclear(res);
    if ((rc = s_selectors(db, id, a, s)) != 0)
        return rc;
    if (!ccip_arena_failed(a))
        *out = s;
    return 0;
}

int stats_survey_target(ccip_db *db, const char *survey_id, const char *target_id, stats_target *t,
                        int *found)
{
    *found = 0;
    memset(t, 0, sizeof *t);
    const char *p[] = {survey_id, target_id};
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_TARGET, 2, p, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) >= 1) {
        *found = 1;
        snprintf(t->id, sizeof t->id, "%s", PQgetvalue(res, 0, 0));
        t->kind = stats_target_kind_of(PQgetvalue(res, 0, 1));
        snprintf(t->district, sizeof t->district, "%s", PQgetvalue(res, 0, 2));
        snprintf(t->name, sizeof t->name, "%s", PQgetvalue(res, 0, 3));
        snprintf(t->respondent, sizeof t->respondent, "%s", PQgetvalue(res, 0, 4));
    }
    PQclear(res);
    return 0;
}

/* Replies with the survey and the questionnaire version it asks. */
static int s_reply(ccip_command *cmd, ccip_arena *a, const stats_survey_row *row)
{
    Ccip__Stats__SurveyReply reply = CCIP__STATS__SURVEY_REPLY__INIT;
    int rc = stats_survey_message(cmd->db, row, a, &reply.survey);
    if (rc != 0)
        return rc;
    stats_questionnaire_row q;
    int found;
    if ((rc = stats_questionnaire_load(cmd->db, row->questionnaire_id, row->version, &q, &found)) !=
        0)
        return rc;
    if (found && (rc = stats_questionnaire_message(cmd->db, &q, a, &reply.questionnaire)) == 0)
        rc = stats_reply_built(cmd, a, &reply.base, "out of memory");
    else if (rc == 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                               "survey %s asks questionnaire %s version %d, which is gone", row->id,
                               row->questionnaire_id, row->version);
    stats_questionnaire_row_release(&q);
    return rc;
}

/* ---- stats.survey.create.v1 ---------------------------------------------------------------------
 */

/* One selector checked and made ready to store. */
typedef struct {
    const char *kind;          /* "DISTRICT", ... */
    ccip_pgarray ids;          /* normalised ids */
    ccip_pgarray roster_kinds; /* kind names */
    const char *org_type;      /* intake's OrganisationType name, or "" */
    char district[8];          /* a filter, or "" */
} s_selector;

/* Checks selector i (1-based in sentences) and fills *out. Returns 0,
 * CCIP_REPLIED or a ccip_db_rc. */
static int s_check_selector(ccip_command *cmd, size_t i, const Ccip__Stats__TargetSelector *t,
                            s_selector *out)
{
    char field[64];
    int rc = 0;
    out->kind = stats_target_kind_name(t->kind);
    out->org_type = "";
    if (t->kind == CCIP__STATS__TARGET_KIND__TARGET_KIND_UNSPECIFIED || !out->kind[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `targets[%zu].kind` must be DISTRICT, DEPARTMENT, "
                                 "ROSTER_ENTRY or ORGANISATION",
                                 i);
    if (t->n_ids > IDS_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `targets[%zu].ids` names %zu targets; at most %d per part",
                                 i, t->n_ids, IDS_MAX);
    int takes_filters = t->kind == CCIP__STATS__TARGET_KIND__ROSTER_ENTRY ||
                        t->kind == CCIP__STATS__TARGET_KIND__ORGANISATION;
    if (!takes_filters && (t->district[0] || t->n_roster_kinds || t->organisation_type[0]))
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "targets[%zu]: a %s part takes no `district`, `roster_kinds` or "
                                 "`organisation_type`; name its targets in `ids`",
                                 i, out->kind);
    if (t->kind != CCIP__STATS__TARGET_KIND__ROSTER_ENTRY && t->n_roster_kinds)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "targets[%zu]: only a ROSTER_ENTRY part takes `roster_kinds`", i);
    if (t->kind != CCIP__STATS__TARGET_KIND__ORGANISATION && t->organisation_type[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "targets[%zu]: only an ORGANISATION part takes "
                                 "`organisation_type`",
                                 i);
    snprintf(field, sizeof field, "targets[%zu].district", i);
    if (takes_filters && (rc = stats_district_arg(cmd, field, t->district, out->district)) != 0)
        return rc;
    for (size_t k = 0; k < t->n_roster_kinds; k++) {
        const char *kn =
            ccip_enum_name(&ccip__stats__roster_kind__descriptor, (int)t->roster_kinds[k]);
        if (!kn || t->roster_kinds[k] == CCIP__STATS__ROSTER_KIND__ROSTER_KIND_UNSPECIFIED)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `targets[%zu].roster_kinds` must hold CLUSTER or "
                                     "TALENT_BASE",
                                     i);
        ccip_pgarray_text(&out->roster_kinds, kn);
    }
    if (t->kind == CCIP__STATS__TARGET_KIND__ORGANISATION) {
        if (t->organisation_type[0] &&
            !ccip_enum_value(&ccip__intake__organisation_type__descriptor, t->organisation_type))
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `targets[%zu].organisation_type` must be an "
                                     "organisation type of intake's register: "
                                     "DISTRICT_GOVERNMENT, MUNICIPAL_COMMISSION, ENTERPRISE or "
                                     "INSTITUTION, got \"%.40s\"",
                                     i, t->organisation_type);
        if (!t->organisation_type[0] && t->n_ids == 0)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "targets[%zu]: an ORGANISATION part names its organisations "
                                     "(`ids`) or their type (`organisation_type`), not the whole "
                                     "register",
                                     i);
        out->org_type = t->organisation_type;
    }
    /* The ids, each in its stored form. */
    if (t->kind == CCIP__STATS__TARGET_KIND__DISTRICT && t->n_ids == 0)
        for (size_t k = 0; k < ccip_district_count(); k++)
            ccip_pgarray_text(&out->ids, ccip_district_at(k)->code);
    for (size_t k = 0; k < t->n_ids; k++) {
        const char *id = t->ids[k];
        int found = 1;
        char code[8];
        snprintf(field, sizeof field, "targets[%zu].ids", i);
        switch (t->kind) {
        case CCIP__STATS__TARGET_KIND__DISTRICT:
            if ((rc = stats_district_arg(cmd, field, id, code)) != 0)
                return rc;
            id = code;
            break;
        case CCIP__STATS__TARGET_KIND__DEPARTMENT:
            if ((rc = stats_code_arg(cmd, field, id, " (a department code)")) != 0 ||
                (rc = stats_department_find(cmd->db, id, NULL, 0, &found)) != 0)
                return rc;
            if (!found)
                return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                         "field `%s`: there is no department `%s` "
                                         "(stats.department.list.v1 lists them)",
                                         field, id);
            break;
        case CCIP__STATS__TARGET_KIND__ROSTER_ENTRY:
            if ((rc = stats_db_found(cmd->db, &S_ROSTER_EXISTS, 1, &id, &found)) != 0)
                return rc;
            if (!found)
                return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                         "field `%s`: there is no roster entry `%.64s`", field, id);
            break;
        default:
            if (ccip_uscc_check(id, NULL, 0) < 0)
                return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                         "field `%s` holds organisations by their unified social "
                                         "credit code (18 characters), got \"%.40s\"",
                                         field, id);
        }
        ccip_pgarray_text(&out->ids, id);
    }
    return 0;
}

/* Checks the times and reminders; sets *opens to the opening (now when
 * none or past). Returns 0 or CCIP_REPLIED. */
static int s_check_times(ccip_command *cmd, const Ccip__Stats__CreateSurveyRequest *rq,
                         int64_t *opens)
{
    int64_t now = ccip_now_us();
    *opens = rq->opens_at_us > now ? rq->opens_at_us : now;
    if (rq->closes_at_us <= *opens)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `closes_at_us` must be after the opening (%s), got %lld; "
                                 "give a closing time in the future",
                                 rq->opens_at_us > now ? "`opens_at_us`" : "now",
                                 (long long)rq->closes_at_us);
    if (rq->closes_at_us - *opens > SURVEY_DAYS_MAX * STATS_DAY_US)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "a survey stays open at most %d days: bring `closes_at_us` "
                                 "closer to the opening",
                                 SURVEY_DAYS_MAX);
    if (rq->n_reminder_days > REMINDERS_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `reminder_days` holds at most %d reminders, got %zu",
                                 REMINDERS_MAX, rq->n_reminder_days);
    for (size_t i = 0; i < rq->n_reminder_days; i++) {
        if (rq->reminder_days[i] < 1 || rq->reminder_days[i] > REMINDER_DAYS)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `reminder_days` holds days before the close, 1 to %d, "
                                     "got %u",
                                     REMINDER_DAYS, rq->reminder_days[i]);
        for (size_t j = 0; j < i; j++)
            if (rq->reminder_days[j] == rq->reminder_days[i])
                return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                         "field `reminder_days` names %u twice",
                                         rq->reminder_days[i]);
    }
    return 0;
}

/* The version the survey asks: the one given (published), or the latest
 * published. Returns 0 with *version, CCIP_REPLIED or a ccip_db_rc. */
static int s_version(ccip_command *cmd, const Ccip__Stats__CreateSurveyRequest *rq, int *version)
{
    int rc = ccip_command_check_uuid(cmd, "questionnaire_id", rq->questionnaire_id);
    if (rc != 0)
        return rc;
    stats_questionnaire_row q;
    int found;
    if ((rc = stats_questionnaire_load(
             cmd->db, rq->questionnaire_id,
             (int)(rq->questionnaire_version > 100000 ? 100001 : rq->questionnaire_version), &q,
             &found)) != 0)
        return rc;
    int published = found && strcmp(q.status, STATS_Q_PUBLISHED) == 0;
    *version = q.version;
    stats_questionnaire_row_release(&q);
    if (!published && rq->questionnaire_version)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "questionnaire %s has no published version %u: publish it first "
                                 "(stats.questionnaire.publish.v1)",
                                 rq->questionnaire_id, rq->questionnaire_version);
    if (!published)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "questionnaire %s has no published version: publish it first "
                                 "(stats.questionnaire.publish.v1)",
                                 rq->questionnaire_id);
    return 0;
}

int stats_survey_create_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__CreateSurveyRequest *rq = request;
    int64_t opens = 0;
    int version = 0;
    int rc = ccip_command_check_text(cmd, "title", rq->title, 1, STATS_NAME_MAX, 0);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "description", rq->description, 0, DESCRIPTION_MAX,
                                     CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = s_check_times(cmd, rq, &opens);
    if (rc == 0 && (rq->n_targets == 0 || rq->n_targets > SELECTORS_MAX))
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `targets` needs 1 to %d parts of the target list, got %zu",
                               SELECTORS_MAX, rq->n_targets);
    if (rc == 0)
        rc = s_version(cmd, rq, &version);
    if (rc != 0)
        return rc;
    s_selector sel[SELECTORS_MAX];
    memset(sel, 0, sizeof sel);
    for (size_t i = 0; rc == 0 && i < rq->n_targets; i++)
        rc = s_check_selector(cmd, i + 1, rq->targets[i], &sel[i]);
    char id[CCIP_UUID_STRLEN + 1], v[16], o[24], c[24];
    ccip_pgarray days = CCIP_PGARRAY_INIT;
    for (size_t i = 0; i < rq->n_reminder_days; i++)
        ccip_pgarray_int(&days, rq->reminder_days[i]);
    if (rc == 0)
        rc = ccip_command_new_id(cmd, id);
    if (rc == 0) {
        snprintf(v, sizeof v, "%d", version);
        const char *p[] = {id, rq->title, rq->description, rq->questionnaire_id, v,
                           rq->anonymous ? "true" : "false",
                           /* now (the database's, as the answers are checked
                              against it) when no later opening was asked */
                           ccip_i64_text(rq->opens_at_us, o), ccip_i64_text(rq->closes_at_us, c),
                           ccip_pgarray_value(&days), cmd->actor.id};
        rc = p[8] ? ccip_db_exec(cmd->db, &S_INSERT, 10, p, NULL, NULL, NULL)
                  : ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    }
    for (size_t i = 0; rc == 0 && i < rq->n_targets; i++) {
        char ord[24];
        snprintf(ord, sizeof ord, "%zu", i + 1);
        const char *p[] = {id,
                           ord,
                           sel[i].kind,
                           ccip_pgarray_value(&sel[i].ids),
                           ccip_pgarray_value(&sel[i].roster_kinds),
                           sel[i].org_type,
                           sel[i].district};
        rc = p[3] && p[4] ? ccip_db_exec(cmd->db, &S_INSERT_SELECTOR, 7, p, NULL, NULL, NULL)
                          : ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < SELECTORS_MAX; i++) {
        ccip_pgarray_release(&sel[i].ids);
        ccip_pgarray_release(&sel[i].roster_kinds);
    }
    ccip_pgarray_release(&days);
    stats_survey_row row;
    if (rc == 0)
        rc = stats_survey_require(cmd, "survey_id", id, 0, &row);
    Ccip__Stats__SurveyChanged ev = CCIP__STATS__SURVEY_CHANGED__INIT;
    if (rc == 0)
        rc = stats_survey_message(cmd->db, &row, a, &ev.survey);
    if (rc == 0 && !ev.survey)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if (rc == 0)
        rc = ccip_command_emit(cmd, "stats.survey.created.v1", "survey", id, &ev.base);
    return rc ? rc : s_reply(cmd, a, &row);
}

/* ---- stats.survey.close.v1
 * ----------------------------------------------------------------------- */

int stats_survey_close_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__CloseSurveyRequest *rq = request;
    stats_survey_row row;
    int rc = ccip_command_check_text(cmd, "reason", rq->reason, 1, STATS_REASON_MAX,
                                     CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = stats_survey_require(cmd, "survey_id", rq->survey_id, 2, &row);
    if (rc != 0)
        return rc;
    if (stats_survey_status(&row) == CCIP__STATS__SURVEY_STATUS__CLOSED)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "survey %s is closed already; nothing was changed", row.id);
    const char *p[] = {row.id, rq->reason};
    if ((rc = ccip_db_exec(cmd->db, &S_CLOSE, 2, p, NULL, NULL, NULL)) != 0 ||
        (rc = stats_survey_require(cmd, "survey_id", row.id, 0, &row)) != 0)
        return rc;
    Ccip__Stats__SurveyChanged ev = CCIP__STATS__SURVEY_CHANGED__INIT;
    if ((rc = stats_survey_message(cmd->db, &row, a, &ev.survey)) != 0)
        return rc;
    if (!ev.survey)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if ((rc = ccip_command_emit(cmd, "stats.survey.closed.v1", "survey", row.id, &ev.base)) != 0)
        return rc;
    return s_reply(cmd, a, &row);
}

/* ---- reading
 * -------------------------------------------------------------------------------------- */

int stats_survey_get_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__GetSurveyRequest *rq = request;
    stats_survey_row row;
    int rc = stats_survey_require(cmd, "survey_id", rq->survey_id, 0, &row);
    return rc ? rc : s_reply(cmd, a, &row);
}

/* 1 when the caller answers surveys (and so sees only its own). */
static int s_is_respondent(const ccip_command *cmd)
{
    return ccip_command_role_in(cmd, stats_roles_respondents);
}

int stats_survey_list_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__ListSurveysRequest *rq = request;
    const char *status = "";
    if (rq->status) {
        status = ccip_enum_name(&ccip__stats__survey_status__descriptor, (int)rq->status);
        if (!status)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "field `status` must be SCHEDULED, OPEN or CLOSED");
    }
    const char *p[] = {status, s_is_respondent(cmd) ? cmd->actor.id : ""};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_LIST, 2, p, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    Ccip__Stats__ListSurveysReply reply = CCIP__STATS__LIST_SURVEYS_REPLY__INIT;
    int n = PQntuples(res);
    reply.surveys = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof *reply.surveys);
    for (int r = 0; rc == 0 && reply.surveys && r < n && r < LIST_MAX; r++) {
        stats_survey_row row;
        s_row(res, r, &row);
        Ccip__Stats__Survey *s = NULL;
        if ((rc = stats_survey_message(cmd->db, &row, a, &s)) == 0 && s)
            reply.surveys[reply.n_surveys++] = s;
    }
    PQclear(res);
    return rc ? rc : stats_reply_built(cmd, a, &reply.base, "out of memory listing surveys");
}

/* ---- stats.survey.completeness.v1
 * ------------------------------------------------------------------ */

/* The groups of a completeness reply: the total, then districts and kinds
 * as met (rows come ordered by district). */
typedef struct {
    Ccip__Stats__SurveyGroupCompleteness **list;
    size_t n, cap;
} s_groups;

static Ccip__Stats__SurveyGroupCompleteness *s_group(s_groups *g, ccip_arena *a,
                                                     const char *dimension, const char *key)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->list[i]->dimension, dimension) == 0 && strcmp(g->list[i]->key, key) == 0)
            return g->list[i];
    if (g->n == g->cap)
        return NULL;
    Ccip__Stats__SurveyGroupCompleteness *x = ccip_arena_alloc(a, sizeof *x);
    if (!x)
        return NULL;
    *x = (Ccip__Stats__SurveyGroupCompleteness)CCIP__STATS__SURVEY_GROUP_COMPLETENESS__INIT;
    x->dimension = (char *)dimension;
    x->key = ccip_arena_strdup(a, key);
    if (strcmp(dimension, "district") == 0) {
        const ccip_district *d = key[0] ? ccip_district_find(key) : NULL;
        x->name = ccip_arena_strdup(a, d ? d->name_en : key[0] ? key : "municipal");
    } else {
        x->name = ccip_arena_strdup(a, strcmp(dimension, "total") == 0 ? "all targets" : key);
    }
    g->list[g->n++] = x;
    return x;
}

static void s_tally(Ccip__Stats__SurveyGroupCompleteness *x, Ccip__Stats__ResponseStatus st)
{
    if (!x)
        return;
    x->expected++;
    if (st == CCIP__STATS__RESPONSE_STATUS__RESPONSE_SUBMITTED)
        x->submitted++;
    else if (st == CCIP__STATS__RESPONSE_STATUS__RESPONSE_DRAFT)
        x->drafts++;
    else
        x->not_started++;
}

static Ccip__Stats__ResponseStatus s_status_of(const char *stored)
{
    if (strcmp(stored, "SUBMITTED") == 0)
        return CCIP__STATS__RESPONSE_STATUS__RESPONSE_SUBMITTED;
    if (strcmp(stored, "DRAFT") == 0)
        return CCIP__STATS__RESPONSE_STATUS__RESPONSE_DRAFT;
    return CCIP__STATS__RESPONSE_STATUS__NOT_STARTED;
}

int stats_survey_completeness_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__SurveyCompletenessRequest *rq = request;
    stats_caller caller;
    stats_survey_row row;
    char district[8];
    int rc = stats_caller_get(cmd, &caller);
    if (rc == 0)
        rc = stats_survey_require(cmd, "survey_id", rq->survey_id, 0, &row);
    if (rc == 0)
        rc = stats_district_arg(cmd, "district", rq->district, district);
    if (rc == 0)
        rc = stats_caller_district(cmd, &caller, district, "targets");
    if (rc != 0)
        return rc;
    const char *p[] = {row.id, district};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_COMPLETENESS, 2, p, NULL, NULL, &res)) != 0)
        return rc;
    Ccip__Stats__SurveyCompletenessReply reply = CCIP__STATS__SURVEY_COMPLETENESS_REPLY__INIT;
    reply.survey_id = row.id;
    reply.status = stats_survey_status(&row);
    int n = PQntuples(res);
    s_groups g = {.cap = 64};
    g.list = ccip_arena_alloc(a, g.cap * sizeof *g.list);
    reply.targets = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof *reply.targets);
    Ccip__Stats__SurveyGroupCompleteness *total = g.list ? s_group(&g, a, "total", "") : NULL;
    for (int r = 0; total && reply.targets && r < n && r < TARGETS_MAX; r++) {
        Ccip__Stats__TargetCompleteness *t = ccip_arena_alloc(a, sizeof *t);
        if (!t)
            break;
        *t = (Ccip__Stats__TargetCompleteness)CCIP__STATS__TARGET_COMPLETENESS__INIT;
        t->target_id = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
        t->kind = stats_target_kind_of(PQgetvalue(res, r, 1));
        t->district_code = ccip_arena_strdup(a, PQgetvalue(res, r, 2));
        t->name = ccip_arena_strdup(a, PQgetvalue(res, r, 3));
        if (t->kind == CCIP__STATS__TARGET_KIND__DISTRICT) {
            const ccip_district *d = ccip_district_find(t->district_code);
            t->name = ccip_arena_strdup(a, d ? d->name_en : t->district_code);
        }
        t->respondent = ccip_arena_strdup(a, PQgetvalue(res, r, 4));
        t->status = s_status_of(PQgetvalue(res, r, 5));
        t->first_submitted_at_us = ccip_db_cell_i64(res, r, 6);
        reply.targets[reply.n_targets++] = t;
        s_tally(total, t->status);
        s_tally(s_group(&g, a, "district", t->district_code), t->status);
    }
    /* Kinds after the districts, in the enum's order. */
    for (int k = 1; total && k <= CCIP__STATS__TARGET_KIND__ORGANISATION; k++)
        for (size_t i = 0; i < reply.n_targets; i++)
            if ((int)reply.targets[i]->kind == k)
                s_tally(s_group(&g, a, "target_kind",
                                stats_target_kind_name((Ccip__Stats__TargetKind)k)),
                        reply.targets[i]->status);
    for (size_t i = 0; i < g.n; i++)
        g.list[i]->completeness_bp = stats_rate_bp(g.list[i]->submitted, g.list[i]->expected);
    reply.groups = g.list;
    reply.n_groups = g.n;
    rc = stats_reply_built(cmd, a, &reply.base, "out of memory");
    PQclear(res);
    return rc;
}

/* ---- stats.survey.remind.v1 (scheduled)
 * ------------------------------------------------------------- */

/* Open surveys with the notices still due: the opening's when it was not
 * sent, and the reminder days that have come and were not sent. */
static const ccip_db_stmt S_DUE = {
    "stats_survey_notices_due",
    "SELECT s.id, s.title, " CCIP_SQL_US("s.opens_at") ", " CCIP_SQL_US(
        "s.closes_at") ", "
                       "NOT EXISTS (SELECT 1 FROM survey_notice n WHERE n.survey_id = s.id AND "
                       "n.kind = 'OPENED'), "
                       "coalesce((SELECT array_to_string(array_agg(d ORDER BY d), ',') FROM "
                       "unnest(s.reminder_days) d "
                       "WHERE s.closes_at - d * interval '1 day' <= now() AND NOT EXISTS (SELECT 1 "
                       "FROM "
                       "survey_notice n WHERE n.survey_id = s.id AND n.kind = 'REMINDER' AND "
                       "n.days_before = d)), '') "
                       "FROM survey s WHERE s.closed_early_at IS NULL AND s.opens_at <= now() AND "
                       "s.closes_at > now() "
                       "ORDER BY s.opens_at, s.id FOR UPDATE OF s"};
static const ccip_db_stmt S_NOTICE_TARGETS = {
    "stats_survey_notice_targets",
    "SELECT t.target_id, t.respondent, t.district_code, coalesce(p.status, '') "
    "FROM survey_targets($1::uuid) t LEFT JOIN survey_participation p "
    "ON p.survey_id = $1::uuid AND p.target_id = t.target_id ORDER BY t.target_id"};
static const ccip_db_stmt S_NOTICE_SENT = {
    "stats_survey_notice_sent",
    "INSERT INTO survey_notice (survey_id, kind, days_before, targets) "
    "SELECT $1::uuid, $2, d, $4::integer FROM unnest($3::integer[]) d ON CONFLICT DO NOTHING"};

/* Emits `type` for the survey's targets (reminders: those that have not
 * submitted) and records the notices sent. Returns 0, CCIP_REPLIED or a
 * ccip_db_rc; *sent counts the events. */
static int s_notify(ccip_command *cmd, const PGresult *due, int r, int reminder, uint32_t days,
                    const char *days_list, uint32_t *sent)
{
    const char *id = PQgetvalue(due, r, 0);
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_NOTICE_TARGETS, 1, &id, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    uint32_t count = 0;
    for (int t = 0; rc == 0 && t < PQntuples(res); t++) {
        Ccip__Stats__ResponseStatus st = s_status_of(PQgetvalue(res, t, 3));
        if (reminder && st == CCIP__STATS__RESPONSE_STATUS__RESPONSE_SUBMITTED)
            continue;
        Ccip__Stats__SurveyNotice ev = CCIP__STATS__SURVEY_NOTICE__INIT;
        ev.survey_id = (char *)id;
        ev.title = PQgetvalue(due, r, 1);
        ev.target_id = PQgetvalue(res, t, 0);
        ev.respondent = PQgetvalue(res, t, 1);
        ev.district_code = PQgetvalue(res, t, 2);
        ev.opens_at_us = ccip_db_cell_i64(due, r, 2);
        ev.closes_at_us = ccip_db_cell_i64(due, r, 3);
        ev.days_before = reminder ? days : 0;
        ev.status = st;
        rc =
            ccip_command_emit(cmd, reminder ? "stats.survey.reminder.v1" : "stats.survey.opened.v1",
                              "survey", id, &ev.base);
        count++;
    }
    PQclear(res);
    char n[16], list[256];
    snprintf(n, sizeof n, "%u", count);
    snprintf(list, sizeof list, "{%s}", days_list);
    const char *p[] = {id, reminder ? "REMINDER" : "OPENED", list, n};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_NOTICE_SENT, 4, p, NULL, NULL, NULL);
    *sent += count;
    return rc;
}

int stats_survey_remind_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    (void)a;
    (void)request;
    PGresult *due = NULL;
    int rc = ccip_db_exec(cmd->db, &S_DUE, 0, NULL, NULL, NULL, &due);
    if (rc != 0)
        return rc;
    Ccip__Stats__SurveyRemindReply reply = CCIP__STATS__SURVEY_REMIND_REPLY__INIT;
    for (int r = 0; rc == 0 && r < PQntuples(due); r++) {
        if (ccip_db_cell_bool(due, r, 4))
            rc = s_notify(cmd, due, r, 0, 0, "0", &reply.notices);
        /* Several reminder days come due together only when the survey
         * opened late or the service was down: one reminder, the nearest
         * to the close, stands for them all. */
        const char *days = PQgetvalue(due, r, 5);
        if (rc == 0 && days[0])
            rc = s_notify(cmd, due, r, 1, (uint32_t)strtoul(days, NULL, 10), days, &reply.notices);
    }
    PQclear(due);
    return rc ? rc : ccip_command_reply(cmd, &reply.base);
}
