#include "evaluation_assignments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "ccip_log.h"
#include "evaluation_assign.h"
#include "evaluation_sheets.h"
#include "evaluation_tasks.h"

#define SKIPPED_MAX 32        /* passed-over candidates one reply names */
#define PAGE_MIN    16        /* candidates per field fetched at first, beyond the need */
#define PAGE_MAX    (1 << 20) /* a page this long holds every register */
#define DAY_US      (86400LL * 1000000)

/* Columns of a candidate, in the order s_candidate reads them. */
#define EXPERT_CANDIDATE                                                                           \
    "e.id, e.name, e.affiliation_uscc, e.district_code, e.phone, e.email, e.load, "                \
    "e.max_concurrent, e.active, coalesce((SELECT string_agg(k.org_uscc, ',') "                    \
    "FROM expert_conflict k WHERE k.expert_id = e.id), '')"
#define AGENCY_CANDIDATE                                                                           \
    "a.id, a.name, a.uscc, '', '', '', a.load, a.capacity, a.active, "                             \
    "coalesce((SELECT string_agg(k.org_uscc, ',') FROM agency_conflict k "                         \
    "WHERE k.agency_id = a.id), '')"

/* The first $2 experts of field $1 in rank order, through expert_field_rank. */
static const ccip_db_stmt S_EXPERT_PAGE = {
    "evaluation_assign_expert_page",
    "SELECT " EXPERT_CANDIDATE " FROM (SELECT expert_id FROM expert_field "
    "WHERE field = $1 AND active ORDER BY load, expert_id LIMIT $2::integer) f "
    "JOIN expert e ON e.id = f.expert_id"};
/* The first $2 agencies serving district $1 in rank order, through
 * agency_district_rank. */
static const ccip_db_stmt S_AGENCY_PAGE = {
    "evaluation_assign_agency_page",
    "SELECT " AGENCY_CANDIDATE " FROM (SELECT agency_id FROM agency_district "
    "WHERE district_code = $1 AND active ORDER BY load, agency_id LIMIT $2::integer) d "
    "JOIN agency a ON a.id = d.agency_id"};
static const ccip_db_stmt S_EXPERT_ONE = {
    "evaluation_assign_expert_one", "SELECT " EXPERT_CANDIDATE " FROM expert e WHERE e.id = $1"};
static const ccip_db_stmt S_AGENCY_ONE = {
    "evaluation_assign_agency_one", "SELECT " AGENCY_CANDIDATE " FROM agency a WHERE a.id = $1"};
static const ccip_db_stmt S_CASE_REVIEWS = {
    "evaluation_assign_case_reviews",
    "SELECT r.expert_id, e.affiliation_uscc, r.status IN " EVALUATION_SQL_LIVE
    " FROM review r JOIN expert e ON e.id = r.expert_id "
    "WHERE r.case_id = $1::uuid AND r.status <> 'TASK_SUPERSEDED'"};
static const ccip_db_stmt S_CASE_INVESTIGATIONS = {
    "evaluation_assign_case_investigations",
    "SELECT agency_id, status IN " EVALUATION_SQL_LIVE " FROM investigation "
    "WHERE case_id = $1::uuid AND status <> 'TASK_SUPERSEDED'"};
static const ccip_db_stmt S_CONTACTS = {
    "evaluation_assign_contacts",
    "SELECT phone, email FROM applicant_contact WHERE applicant_uscc = $1"};
static const ccip_db_stmt S_EXPERT_TAKE = {
    "evaluation_assign_expert_take",
    "UPDATE expert SET load = load + 1 WHERE id = $1 AND active AND load < max_concurrent "
    "RETURNING load"};
static const ccip_db_stmt S_AGENCY_TAKE = {
    "evaluation_assign_agency_take",
    "UPDATE agency SET load = load + 1 WHERE id = $1 AND active AND load < capacity "
    "RETURNING load"};
static const ccip_db_stmt S_REVIEW_INSERT = {
    "evaluation_assign_review_insert",
    "INSERT INTO review (id, case_id, round, expert_id, status, assigned_by, due_at, "
    "override_reason, overridden_conflicts) VALUES ($1::uuid, $2::uuid, $3::integer, $4, "
    "'TASK_ASSIGNED', $5, "
    "('epoch'::timestamptz + $6::bigint * interval '1 microsecond')"
    ", $7, string_to_array($8, ','))"};
static const ccip_db_stmt S_INVESTIGATION_INSERT = {
    "evaluation_assign_investigation_insert",
    "INSERT INTO investigation (id, case_id, round, agency_id, status, assigned_by, due_at, "
    "override_reason, overridden_conflicts) VALUES ($1::uuid, $2::uuid, $3::integer, $4, "
    "'TASK_ASSIGNED', $5, "
    "('epoch'::timestamptz + $6::bigint * interval '1 microsecond')"
    ", $7, string_to_array($8, ','))"};
static const ccip_db_stmt S_CASE_PIN = {
    "evaluation_assign_case_pin",
    "UPDATE case_file SET status = CASE WHEN status = 'CASE_OPEN' THEN 'CASE_IN_EVALUATION' "
    "ELSE status END, sheet_version = coalesce(sheet_version, $2::integer), "
    "panel_size = coalesce(panel_size, $3::integer), fields = CASE WHEN cardinality(fields) = 0 "
    "THEN string_to_array($4, ',') ELSE fields END, updated_at = now() WHERE id = $1::uuid"};
static const ccip_db_stmt S_REVIEW_CLOSE = {
    "evaluation_assign_review_close",
    "UPDATE review SET status = $2, closed_at = now(), close_reason = $3 "
    "WHERE id = $1::uuid AND status IN " EVALUATION_SQL_OPEN};
static const ccip_db_stmt S_INVESTIGATION_CLOSE = {
    "evaluation_assign_investigation_close",
    "UPDATE investigation SET status = $2, closed_at = now(), close_reason = $3 "
    "WHERE id = $1::uuid AND status = 'TASK_ASSIGNED'"};
static const ccip_db_stmt S_EXPERT_RELEASE = {"evaluation_assign_expert_release",
                                              "UPDATE expert SET load = load - 1 WHERE id = $1"};
static const ccip_db_stmt S_AGENCY_RELEASE = {"evaluation_assign_agency_release",
                                              "UPDATE agency SET load = load - 1 WHERE id = $1"};
static const ccip_db_stmt S_OPEN_REVIEW = {
    "evaluation_assign_open_review",
    "SELECT id, status FROM review WHERE case_id = $1::uuid AND expert_id = $2 "
    "AND status IN " EVALUATION_SQL_LIVE};
static const ccip_db_stmt S_OPEN_INVESTIGATION = {
    "evaluation_assign_open_investigation",
    "SELECT id, status FROM investigation WHERE case_id = $1::uuid AND agency_id = $2 "
    "AND status IN " EVALUATION_SQL_LIVE};

/* ---- the plan ------------------------------------------------------------------ */

/* One chosen agency or expert. */
typedef struct {
    evaluation_candidate c; /* strings in the plan's arena */
    const char *name;
    unsigned conflicts;          /* overridden conflicts (picks only) */
    const char *override_reason; /* "" unless overridden */
    int picked;                  /* chosen by staff */
} s_choice;

typedef struct {
    ccip_command *cmd;
    const evaluation_case_row *c;
    ccip_arena *a;
    evaluation_case_facts facts;
    const char *fields; /* comma-separated fields the panel is matched on */
    int sheet_version;
    int panel_size;
    int agency_live;         /* a live investigation exists */
    int experts_live;        /* live reviews */
    const char **ex_experts; /* never proposed again for this case */
    size_t nex_experts;
    const char **ex_agencies;
    size_t nex_agencies;
    const char **affiliations; /* of the panel, so far */
    size_t naffiliations;
    s_choice agency;
    int has_agency;
    s_choice *experts; /* room for panel_size */
    size_t nexperts;
    int experts_wanted;                  /* empty seats before */
    int agency_missing;                  /* an agency was wanted and none found */
    Ccip__Evaluation__Skipped **skipped; /* room for SKIPPED_MAX */
    size_t nskipped;
} s_plan;

static void s_candidate(ccip_arena *a, const PGresult *res, int i, evaluation_candidate *c,
                        const char **name)
{
    memset(c, 0, sizeof *c);
    c->id = ccip_arena_strdup(a, PQgetvalue(res, i, 0));
    *name = ccip_arena_strdup(a, PQgetvalue(res, i, 1));
    c->affiliation_uscc = ccip_arena_strdup(a, PQgetvalue(res, i, 2));
    c->district_code = ccip_arena_strdup(a, PQgetvalue(res, i, 3));
    c->phone = ccip_arena_strdup(a, PQgetvalue(res, i, 4));
    c->email = ccip_arena_strdup(a, PQgetvalue(res, i, 5));
    c->load = (int)ccip_db_cell_i64(res, i, 6);
    c->capacity = (int)ccip_db_cell_i64(res, i, 7);
    c->active = PQgetvalue(res, i, 8)[0] == 't';
    c->declared = (const char *const *)ccip_arena_split(a, PQgetvalue(res, i, 9), &c->ndeclared);
}

static const char *s_kind_word(Ccip__Evaluation__SubjectKind kind)
{
    return kind == CCIP__EVALUATION__SUBJECT_KIND__AGENCY ? "agency" : "expert";
}

/* Reads what the assignment depends on: the sheet, the case's tasks and
 * the applicant's contacts. Returns 0, CCIP_REPLIED or a ccip_db_rc. */
static int s_plan_init(s_plan *p, ccip_command *cmd, const evaluation_case_row *c, ccip_arena *a)
{
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->c = c;
    p->a = a;
    if (strcmp(c->status, EVALUATION_CASE_OPEN) != 0 &&
        strcmp(c->status, EVALUATION_CASE_IN_EVALUATION) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "case %s is %s: its investigation and panel can no longer change",
                                 c->id, c->status);
    evaluation_sheet sh;
    int found = 0;
    int rc = evaluation_sheet_fetch(cmd->db, c->kind, c->sheet_version, &sh, &found);
    if (rc == 0 && !found)
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "no score sheet has been published for %s; publish one (criteria, "
                               "panel size, fields of expertise) with evaluation.sheet.publish.v1 "
                               "before assigning",
                               c->kind);
    if (rc == 0) {
        p->sheet_version = sh.version;
        p->panel_size = c->panel_size ? c->panel_size : sh.panel_size;
        p->fields = ccip_arena_strdup(a, c->fields[0] ? c->fields : sh.fields);
    }
    evaluation_sheet_clear(&sh);
    if (rc != 0)
        return rc;

    PGresult *reviews = NULL, *inv = NULL, *contacts = NULL;
    rc = ccip_db_exec(cmd->db, &S_CASE_REVIEWS, 1, &c->id, NULL, NULL, &reviews);
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_CASE_INVESTIGATIONS, 1, &c->id, NULL, NULL, &inv);
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_CONTACTS, 1, &c->applicant_uscc, NULL, NULL, &contacts);
    if (rc == 0) {
        int nr = PQntuples(reviews), ni = PQntuples(inv), nc = PQntuples(contacts);
        size_t room = (size_t)p->panel_size + (size_t)nr + 1;
        p->ex_experts = ccip_arena_alloc(a, room * sizeof *p->ex_experts);
        p->affiliations = ccip_arena_alloc(a, room * sizeof *p->affiliations);
        p->ex_agencies = ccip_arena_alloc(a, ((size_t)ni + 2) * sizeof *p->ex_agencies);
        p->experts = ccip_arena_alloc(a, ((size_t)p->panel_size + 1) * sizeof *p->experts);
        p->skipped = ccip_arena_alloc(a, SKIPPED_MAX * sizeof *p->skipped);
        const char **phones = ccip_arena_alloc(a, ((size_t)nc + 1) * sizeof *phones);
        const char **emails = ccip_arena_alloc(a, ((size_t)nc + 1) * sizeof *emails);
        if (ccip_arena_failed(a)) {
            rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
            goto out;
        }
        for (int i = 0; i < nr; i++) {
            p->ex_experts[p->nex_experts++] = ccip_arena_strdup(a, PQgetvalue(reviews, i, 0));
            if (PQgetvalue(reviews, i, 2)[0] == 't') {
                p->experts_live++;
                p->affiliations[p->naffiliations++] =
                    ccip_arena_strdup(a, PQgetvalue(reviews, i, 1));
            }
        }
        for (int i = 0; i < ni; i++) {
            p->ex_agencies[p->nex_agencies++] = ccip_arena_strdup(a, PQgetvalue(inv, i, 0));
            p->agency_live |= PQgetvalue(inv, i, 1)[0] == 't';
        }
        for (int i = 0; i < nc; i++) {
            if (PQgetvalue(contacts, i, 0)[0])
                phones[p->facts.ncontact_phones++] =
                    ccip_arena_strdup(a, PQgetvalue(contacts, i, 0));
            if (PQgetvalue(contacts, i, 1)[0])
                emails[p->facts.ncontact_emails++] =
                    ccip_arena_strdup(a, PQgetvalue(contacts, i, 1));
        }
        p->facts.contact_phones = phones;
        p->facts.contact_emails = emails;
        p->facts.applicant_uscc = c->applicant_uscc;
        p->facts.district_code = c->district_code;
        p->facts.same_district_conflict = evaluation_cfg(cmd)->same_district_conflict;
        p->experts_wanted = p->panel_size > p->experts_live ? p->panel_size - p->experts_live : 0;
    }
out:
    PQclear(reviews);
    PQclear(inv);
    PQclear(contacts);
    return rc;
}

static int s_in(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

/* Adds staff's pick to the plan after checking it. Returns 0,
 * CCIP_REPLIED or a ccip_db_rc. */
static int s_plan_pick(s_plan *p, const Ccip__Evaluation__Pick *pick, size_t i)
{
    ccip_command *cmd = p->cmd;
    char field[48], conflicts[128];
    int is_agency = pick->kind == CCIP__EVALUATION__SUBJECT_KIND__AGENCY;
    if (!is_agency && pick->kind != CCIP__EVALUATION__SUBJECT_KIND__EXPERT)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `picks[%zu].kind` must be EXPERT or AGENCY", i);
    snprintf(field, sizeof field, "picks[%zu].id", i);
    int rc = ccip_command_check_code(cmd, field, pick->id, EVALUATION_ID_MAX);
    if (rc != 0)
        return rc;
    if (pick->override_reason[0]) {
        snprintf(field, sizeof field, "picks[%zu].override_reason", i);
        rc = ccip_command_check_text(cmd, field, pick->override_reason, EVALUATION_REASON_MIN,
                                     EVALUATION_REASON_MAX, CCIP_TEXT_MULTILINE);
        if (rc != 0)
            return rc;
    }
    const char *kind = is_agency ? "agency" : "expert";
    if (is_agency && (p->agency_live || p->has_agency))
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "picks[%zu]: case %s already has its agency; reassign it first "
                                 "(evaluation.assignment.reassign.v1)",
                                 i, p->c->id);
    if (!is_agency && (int)p->nexperts >= p->experts_wanted)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "picks[%zu]: the panel of case %s has %d of %d seats filled; only "
                                 "%d expert pick(s) fit",
                                 i, p->c->id, p->experts_live, p->panel_size, p->experts_wanted);
    const char *const *ex = is_agency ? p->ex_agencies : p->ex_experts;
    size_t nex = is_agency ? p->nex_agencies : p->nex_experts;
    if (s_in(pick->id, ex, nex))
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "picks[%zu]: %s %s is already on case %s, or left it (declined or "
                                 "reassigned); pick someone else",
                                 i, kind, pick->id, p->c->id);
    PGresult *res = NULL;
    const char *id = pick->id;
    rc = ccip_command_row(cmd, is_agency ? &S_AGENCY_ONE : &S_EXPERT_ONE, 1, &id, &res,
                          "picks[%zu]: there is no %s %s in the register", i, kind, pick->id);
    if (rc != 0)
        return rc;
    s_choice ch = {0};
    s_candidate(p->a, res, 0, &ch.c, &ch.name);
    PQclear(res);
    if (!ch.c.active)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "picks[%zu]: %s %s is inactive; activate it first", i, kind,
                                 pick->id);
    if (ch.c.load >= ch.c.capacity)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "picks[%zu]: %s %s is at its capacity (%d of %d open tasks); load "
                                 "caps cannot be overridden",
                                 i, kind, pick->id, ch.c.load, ch.c.capacity);
    ch.conflicts = evaluation_conflicts(&ch.c, &p->facts);
    evaluation_conflict_text(ch.conflicts, conflicts, sizeof conflicts);
    if (ch.conflicts && !pick->override_reason[0])
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "picks[%zu]: %s %s has a conflict with applicant %s (%s); to "
                                 "assign them anyway give a written `override_reason`, which is "
                                 "recorded",
                                 i, kind, pick->id, p->c->applicant_uscc, conflicts);
    if (!ch.conflicts && pick->override_reason[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "picks[%zu]: %s %s has no detected conflict, so there is nothing "
                                 "to override; leave `override_reason` empty",
                                 i, kind, pick->id);
    ch.override_reason = ccip_arena_strdup(p->a, pick->override_reason);
    ch.picked = 1;
    if (is_agency) {
        p->agency = ch;
        p->has_agency = 1;
        p->ex_agencies[p->nex_agencies++] = ch.c.id;
    } else {
        for (size_t k = 0; k < p->nexperts; k++)
            if (strcmp(p->experts[k].c.id, ch.c.id) == 0)
                return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                         "picks[%zu]: expert %s is picked twice", i, ch.c.id);
        p->experts[p->nexperts++] = ch;
        p->ex_experts[p->nex_experts++] = ch.c.id;
        p->affiliations[p->naffiliations++] = ch.c.affiliation_uscc;
    }
    return 0;
}

/* The conflicts in `bits` as an array of ConflictType (from a), for a
 * message's repeated field; its length into *n. */
static Ccip__Evaluation__ConflictType *s_conflict_types(ccip_arena *a, unsigned bits, size_t *n)
{
    const char *names[EVALUATION_CONFLICT_TYPES];
    size_t count = evaluation_conflict_names(bits, names);
    Ccip__Evaluation__ConflictType *out = ccip_arena_alloc(a, (count + 1) * sizeof *out);
    *n = 0;
    for (size_t i = 0; out && i < count; i++)
        out[(*n)++] = (Ccip__Evaluation__ConflictType)ccip_enum_value(
            &ccip__evaluation__conflict_type__descriptor, names[i]);
    return out;
}

static void s_skipped(s_plan *p, Ccip__Evaluation__SubjectKind kind, const evaluation_candidate *c,
                      const evaluation_skip *s)
{
    if (p->nskipped >= SKIPPED_MAX)
        return;
    ccip_arena *a = p->a;
    Ccip__Evaluation__Skipped *m = ccip_arena_alloc(a, sizeof *m);
    if (!m)
        return;
    *m = (Ccip__Evaluation__Skipped)CCIP__EVALUATION__SKIPPED__INIT;
    m->kind = kind;
    m->id = (char *)c->id;
    char why[160], text[128];
    switch (s->reason) {
    case EVALUATION_SKIP_EXCLUDED:
        snprintf(why, sizeof why, "already on this case, or left it");
        break;
    case EVALUATION_SKIP_INACTIVE:
        snprintf(why, sizeof why, "inactive");
        break;
    case EVALUATION_SKIP_CAPACITY:
        snprintf(why, sizeof why, "at capacity (%d of %d open tasks)", c->load, c->capacity);
        break;
    case EVALUATION_SKIP_CONFLICT:
        evaluation_conflict_text(s->conflicts, text, sizeof text);
        snprintf(why, sizeof why, "conflict: %s", text);
        break;
    case EVALUATION_SKIP_PANEL_AFFILIATION:
        snprintf(why, sizeof why, "an expert from the same affiliation is already on the panel");
        break;
    }
    m->reason = ccip_arena_strdup(a, why);
    m->conflicts = s_conflict_types(a, s->conflicts, &m->n_conflicts);
    p->skipped[p->nskipped++] = m;
}

/* Candidates fetched page by page. */
typedef struct {
    evaluation_candidate *c;
    const char **names;
    size_t n;
} s_pool;

/* Fetches the first `limit` candidates of each key (a field of expertise,
 * or the district for agencies) into pool. When a page came back full, a
 * candidate beyond the smallest last key of the full pages might be missing
 * its peers from other pages, so those are dropped and *more is set: the
 * ranking of what remains is exactly the ranking of the whole register up
 * to there. Returns 0 or a ccip_db_rc. */
static int s_fetch(s_plan *p, const ccip_db_stmt *st, char **keys, size_t nkeys, size_t limit,
                   s_pool *pool, int *more)
{
    *more = 0;
    memset(pool, 0, sizeof *pool);
    char lim[16];
    snprintf(lim, sizeof lim, "%zu", limit);
    PGresult **pages = calloc(nkeys + 1, sizeof *pages);
    if (!pages)
        return CCIP_DB_ERROR;
    int rc = 0;
    size_t total = 0;
    for (size_t k = 0; k < nkeys && rc == 0; k++) {
        const char *v[] = {keys[k], lim};
        rc = ccip_db_exec(p->cmd->db, st, 2, v, NULL, NULL, &pages[k]);
        if (rc == 0)
            total += (size_t)PQntuples(pages[k]);
    }
    if (rc == 0) {
        pool->c = ccip_arena_alloc(p->a, (total + 1) * sizeof *pool->c);
        pool->names = ccip_arena_alloc(p->a, (total + 1) * sizeof *pool->names);
        if (!pool->c || !pool->names)
            rc = CCIP_DB_ERROR;
    }
    evaluation_candidate horizon = {0};
    int has_horizon = 0;
    for (size_t k = 0; k < nkeys && rc == 0; k++) {
        int rows = PQntuples(pages[k]);
        size_t first = pool->n;
        for (int i = 0; i < rows; i++, pool->n++)
            s_candidate(p->a, pages[k], i, &pool->c[pool->n], &pool->names[pool->n]);
        if ((size_t)rows < limit)
            continue;
        const evaluation_candidate *last = &pool->c[first];
        for (size_t i = first; i < pool->n; i++)
            if (evaluation_rank_cmp(&pool->c[i], last) > 0)
                last = &pool->c[i];
        if (!has_horizon || evaluation_rank_cmp(last, &horizon) < 0)
            horizon = *last;
        has_horizon = 1;
    }
    if (rc == 0 && has_horizon) {
        size_t kept = 0;
        for (size_t i = 0; i < pool->n; i++) {
            if (evaluation_rank_cmp(&pool->c[i], &horizon) > 0)
                continue;
            pool->c[kept] = pool->c[i];
            pool->names[kept++] = pool->names[i];
        }
        pool->n = kept;
        *more = 1;
    }
    for (size_t k = 0; k < nkeys; k++)
        PQclear(pages[k]);
    free(pages);
    return rc;
}

/* Fills up to `want` seats of `kind` by the algorithm. Returns 0 or a
 * ccip_db_rc. */
static int s_fill(s_plan *p, Ccip__Evaluation__SubjectKind kind, size_t want)
{
    int is_agency = kind == CCIP__EVALUATION__SUBJECT_KIND__AGENCY;
    char **keys;
    size_t nkeys;
    char *district[1];
    if (is_agency) {
        district[0] = (char *)p->c->district_code;
        keys = district;
        nkeys = 1;
    } else {
        keys = ccip_arena_split(p->a, p->fields, &nkeys);
    }
    evaluation_select_opts o = {
        .want = want,
        .exclude = is_agency ? p->ex_agencies : p->ex_experts,
        .nexclude = is_agency ? p->nex_agencies : p->nex_experts,
        .panel_affiliations = is_agency ? NULL : p->affiliations,
        .npanel_affiliations = is_agency ? 0 : p->naffiliations,
        .one_per_affiliation = !is_agency,
    };
    size_t limit = want * 4 + o.nexclude + PAGE_MIN;
    size_t *chosen = ccip_arena_alloc(p->a, (want + 1) * sizeof *chosen);
    evaluation_skip skipped[SKIPPED_MAX];
    if (!chosen)
        return CCIP_DB_ERROR;
    for (;;) {
        s_pool pool;
        int more;
        int rc = s_fetch(p, is_agency ? &S_AGENCY_PAGE : &S_EXPERT_PAGE, keys, nkeys, limit, &pool,
                         &more);
        if (rc != 0)
            return rc;
        size_t nskipped = 0;
        int n = evaluation_select(pool.c, pool.n, &p->facts, &o, chosen, skipped, SKIPPED_MAX,
                                  &nskipped);
        if (n < 0)
            return CCIP_DB_ERROR;
        if ((size_t)n < want && more && limit < PAGE_MAX) {
            limit *= 4;
            continue;
        }
        for (size_t i = 0; i < nskipped && i < SKIPPED_MAX; i++)
            s_skipped(p, kind, &pool.c[skipped[i].index], &skipped[i]);
        for (int i = 0; i < n; i++) {
            s_choice ch = {
                .c = pool.c[chosen[i]], .name = pool.names[chosen[i]], .override_reason = ""};
            if (is_agency) {
                p->agency = ch;
                p->has_agency = 1;
            } else {
                p->experts[p->nexperts++] = ch;
            }
        }
        if (is_agency && n == 0)
            p->agency_missing = 1;
        return 0;
    }
}

/* Fills whatever picks left empty. */
static int s_plan_fill(s_plan *p)
{
    int rc = 0;
    if (!p->agency_live && !p->has_agency)
        rc = s_fill(p, CCIP__EVALUATION__SUBJECT_KIND__AGENCY, 1);
    if (rc == 0 && (int)p->nexperts < p->experts_wanted)
        rc = s_fill(p, CCIP__EVALUATION__SUBJECT_KIND__EXPERT,
                    (size_t)p->experts_wanted - p->nexperts);
    return rc;
}

static int s_choice_cmp(const void *pa, const void *pb)
{
    const s_choice *a = pa, *b = pb;
    return strcmp(a->c.id, b->c.id);
}

/* The conflict names of bits as "A,B" (for text[] columns). */
static void s_conflict_csv(unsigned bits, char *out, size_t len)
{
    const char *names[EVALUATION_CONFLICT_TYPES];
    size_t n = evaluation_conflict_names(bits, names);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", names[i]);
}

/* Takes a seat of ch: load + 1 under the cap, then the task row and the
 * log. Returns 0 or a ccip_db_rc (CCIP_DB_RETRYABLE when a concurrent
 * assignment reached the cap first: the transaction runs again). */
static int s_take(s_plan *p, const s_choice *ch, int is_agency, int64_t due_us)
{
    ccip_command *cmd = p->cmd;
    PGresult *res = NULL;
    const char *id = ch->c.id;
    int rc = ccip_db_exec(cmd->db, is_agency ? &S_AGENCY_TAKE : &S_EXPERT_TAKE, 1, &id, NULL, NULL,
                          &res);
    if (rc != 0)
        return rc;
    int took = PQntuples(res) == 1;
    PQclear(res);
    if (!took) {
        ccip_log_info("a cap was reached by a concurrent assignment; assigning again", "case",
                      p->c->id, is_agency ? "agency" : "expert", id);
        return CCIP_DB_RETRYABLE;
    }
    char task[CCIP_UUID_STRLEN + 1], round[16], due[24], conflicts[128];
    ccip_uuid_v7(task);
    snprintf(round, sizeof round, "%d", p->c->round);
    snprintf(due, sizeof due, "%lld", (long long)due_us);
    s_conflict_csv(ch->conflicts, conflicts, sizeof conflicts);
    const char *v[] = {task,     p->c->id, round, id, cmd->actor.id, due, ch->override_reason,
                       conflicts};
    rc = ccip_db_exec(cmd->db, is_agency ? &S_INVESTIGATION_INSERT : &S_REVIEW_INSERT, 8, v, NULL,
                      NULL, NULL);
    char detail[EVALUATION_REASON_MAX + 256];
    snprintf(detail, sizeof detail, "%s %s%s", is_agency ? "agency" : "expert", id,
             ch->picked ? " (picked by staff)" : "");
    if (rc == 0)
        rc = evaluation_case_log(cmd->db, p->c->id, cmd->actor.id, cmd->actor.role, "assigned",
                                 detail);
    if (rc == 0)
        rc = evaluation_task_publish(cmd,
                                     is_agency ? CCIP__EVALUATION__SUBJECT_KIND__AGENCY
                                               : CCIP__EVALUATION__SUBJECT_KIND__EXPERT,
                                     task, "evaluation.task.assigned.v1");
    if (rc == 0 && ch->conflicts) {
        char text[128];
        evaluation_conflict_text(ch->conflicts, text, sizeof text);
        snprintf(detail, sizeof detail, "%s %s despite %s: %s", is_agency ? "agency" : "expert", id,
                 text, ch->override_reason);
        rc = evaluation_case_log(cmd->db, p->c->id, cmd->actor.id, cmd->actor.role, "override",
                                 detail);
    }
    return rc;
}

/* Writes the plan: seats, tasks, the case's pinned sheet, log and events.
 * Returns 0, CCIP_REPLIED or a ccip_db_rc. */
static int s_plan_apply(s_plan *p)
{
    ccip_command *cmd = p->cmd;
    const evaluation_config *cfg = evaluation_cfg(cmd);
    int64_t now = ccip_now_us();
    int64_t inv_due = now + cfg->investigation_days * DAY_US;
    int64_t rev_due = now + cfg->review_days * DAY_US;
    int rc = 0;
    /* Agency first, then experts in id order: every assignment takes its
     * row locks in the same order. */
    if (p->has_agency)
        rc = s_take(p, &p->agency, 1, inv_due);
    s_choice *sorted = NULL;
    if (rc == 0 && p->nexperts) {
        sorted = malloc(p->nexperts * sizeof *sorted);
        if (!sorted)
            return CCIP_DB_ERROR;
        memcpy(sorted, p->experts, p->nexperts * sizeof *sorted);
        qsort(sorted, p->nexperts, sizeof *sorted, s_choice_cmp);
        for (size_t i = 0; i < p->nexperts && rc == 0; i++)
            rc = s_take(p, &sorted[i], 0, rev_due);
    }
    free(sorted);
    if (rc != 0 || (!p->has_agency && !p->nexperts))
        return rc;
    char version[16], panel[16];
    snprintf(version, sizeof version, "%d", p->sheet_version);
    snprintf(panel, sizeof panel, "%d", p->panel_size);
    const char *v[] = {p->c->id, version, panel, p->fields};
    rc = ccip_db_exec(cmd->db, &S_CASE_PIN, 4, v, NULL, NULL, NULL);
    if (rc == 0 && p->has_agency) {
        Ccip__Evaluation__InvestigationScheduled ev =
            CCIP__EVALUATION__INVESTIGATION_SCHEDULED__INIT;
        ev.case_id = (char *)p->c->id;
        ev.application_id = (char *)p->c->application_id;
        ev.agency_id = (char *)p->agency.c.id;
        ev.due_at_us = inv_due;
        rc = ccip_command_emit(cmd, "evaluation.investigation.scheduled.v1", "application",
                               p->c->application_id, &ev.base);
    }
    if (rc == 0 && p->nexperts && p->experts_live == 0) {
        Ccip__Evaluation__ReviewStarted ev = CCIP__EVALUATION__REVIEW_STARTED__INIT;
        ev.case_id = (char *)p->c->id;
        ev.application_id = (char *)p->c->application_id;
        ev.panel_size = p->panel_size;
        ev.due_at_us = rev_due;
        rc = ccip_command_emit(cmd, "evaluation.review.started.v1", "application",
                               p->c->application_id, &ev.base);
    }
    return rc;
}

static Ccip__Evaluation__Candidate *s_candidate_msg(ccip_arena *a, const s_choice *ch,
                                                    Ccip__Evaluation__SubjectKind kind)
{
    Ccip__Evaluation__Candidate *m = ccip_arena_alloc(a, sizeof *m);
    if (!m)
        return NULL;
    *m = (Ccip__Evaluation__Candidate)CCIP__EVALUATION__CANDIDATE__INIT;
    m->kind = kind;
    m->id = (char *)ch->c.id;
    m->name = (char *)ch->name;
    m->load = ch->c.load;
    m->capacity = ch->c.capacity;
    m->override_reason = (char *)ch->override_reason;
    m->picked = ch->picked;
    m->conflicts = s_conflict_types(a, ch->conflicts, &m->n_conflicts);
    return m;
}

/* Describes the plan in reply (strings borrowed from the plan's arena). */
static void s_plan_reply(const s_plan *p, Ccip__Evaluation__AssignReply *reply, int dry_run)
{
    ccip_arena *a = p->a;
    reply->case_id = (char *)p->c->id;
    reply->dry_run = dry_run;
    reply->sheet_version = p->sheet_version;
    if (p->has_agency)
        reply->agency = s_candidate_msg(a, &p->agency, CCIP__EVALUATION__SUBJECT_KIND__AGENCY);
    reply->experts = ccip_arena_alloc(a, (p->nexperts + 1) * sizeof *reply->experts);
    for (size_t i = 0; reply->experts && i < p->nexperts; i++)
        reply->experts[reply->n_experts++] =
            s_candidate_msg(a, &p->experts[i], CCIP__EVALUATION__SUBJECT_KIND__EXPERT);
    reply->skipped = p->skipped;
    reply->n_skipped = p->nskipped;
    reply->experts_wanted = p->experts_wanted;
    reply->experts_missing = p->experts_wanted - (int)p->nexperts;
    reply->agency_missing = p->agency_missing;
    reply->fields = ccip_arena_split(a, p->fields, &reply->n_fields);
}

/* ---- commands --------------------------------------------------------------------- */

/* Proposes (dry_run: writes nothing) or makes an assignment. */
static int s_assign(ccip_command *cmd, ccip_arena *a, const Ccip__Evaluation__AssignRequest *rq,
                    int dry_run)
{
    evaluation_case_row c;
    s_plan p;
    int rc = evaluation_case_fetch(cmd, rq->case_id, !dry_run, &c);
    if (rc == 0)
        rc = s_plan_init(&p, cmd, &c, a);
    if (rc == 0 && p.agency_live && p.experts_wanted == 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "case %s has its agency and a full panel of %d; nothing to assign "
                               "(reassign a task to change who does it)",
                               c.id, p.panel_size);
    for (size_t i = 0; rc == 0 && i < rq->n_picks; i++)
        rc = s_plan_pick(&p, rq->picks[i], i);
    if (rc == 0)
        rc = s_plan_fill(&p);
    if (rc == 0 && !p.has_agency && p.nexperts == 0) {
        char why[256] = "";
        if (p.nskipped)
            snprintf(why, sizeof why, "; the first passed over: %s %s: %s",
                     s_kind_word(p.skipped[0]->kind), p.skipped[0]->id, p.skipped[0]->reason);
        rc = ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                               "no %s could be found for case %s (district %s, fields %s)%s; "
                               "register or activate more, or raise capacities",
                               p.agency_live ? "expert" : "agency or expert", c.id, c.district_code,
                               p.fields, why);
    }
    if (rc == 0 && !dry_run)
        rc = s_plan_apply(&p);
    if (rc == 0) {
        Ccip__Evaluation__AssignReply reply = CCIP__EVALUATION__ASSIGN_REPLY__INIT;
        s_plan_reply(&p, &reply, dry_run);
        rc = ccip_command_reply_built(cmd, a, &reply.base);
    }
    evaluation_case_row_clear(&c);
    return rc;
}

int evaluation_assignment_propose(ccip_command *cmd, ccip_arena *a, void *request)
{
    return s_assign(cmd, a, request, 1);
}

int evaluation_assignment_make(ccip_command *cmd, ccip_arena *a, void *request)
{
    return s_assign(cmd, a, request, 0);
}

int evaluation_assign_refill(ccip_command *cmd, const evaluation_case_row *c, ccip_arena *a,
                             Ccip__Evaluation__AssignReply *reply)
{
    ccip_arena *own = NULL;
    if (!a)
        a = own = ccip_arena_new();
    if (!a)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    s_plan p;
    int rc = s_plan_init(&p, cmd, c, a);
    if (rc == 0)
        rc = s_plan_fill(&p);
    if (rc == 0)
        rc = s_plan_apply(&p);
    if (rc == 0 && reply)
        s_plan_reply(&p, reply, 0);
    ccip_arena_destroy(&own);
    return rc;
}

int evaluation_task_release(ccip_command *cmd, Ccip__Evaluation__SubjectKind kind,
                            const char *task_id, const char *subject_id, const char *status,
                            const char *reason)
{
    int is_agency = kind == CCIP__EVALUATION__SUBJECT_KIND__AGENCY;
    const char *v[] = {task_id, status, reason};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, is_agency ? &S_INVESTIGATION_CLOSE : &S_REVIEW_CLOSE, 3, v, NULL,
                          NULL, &res);
    /* Only a task that was open held a seat, and only its end is news. */
    int closed = rc == 0 && strcmp(PQcmdTuples(res), "1") == 0;
    PQclear(res);
    if (rc == 0 && closed)
        rc = ccip_db_exec(cmd->db, is_agency ? &S_AGENCY_RELEASE : &S_EXPERT_RELEASE, 1,
                          &subject_id, NULL, NULL, NULL);
    if (rc == 0 && closed)
        rc = evaluation_task_publish(cmd, kind, task_id, "evaluation.task.ended.v1");
    return rc;
}

/* Ends subject's open task on case c with `status` and fills the seat
 * again; replies with the AssignReply. `who` says who is doing it. */
static int s_release_and_refill(ccip_command *cmd, const evaluation_case_row *c,
                                Ccip__Evaluation__SubjectKind kind, const char *subject_id,
                                const char *status, const char *reason, int by_subject)
{
    const char *word = s_kind_word(kind);
    int is_agency = kind == CCIP__EVALUATION__SUBJECT_KIND__AGENCY;
    if (strcmp(c->status, EVALUATION_CASE_IN_EVALUATION) != 0)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "case %s is %s: its tasks can no longer change", c->id, c->status);
    PGresult *res = NULL;
    const char *v[] = {c->id, subject_id};
    int rc = ccip_db_exec(cmd->db, is_agency ? &S_OPEN_INVESTIGATION : &S_OPEN_REVIEW, 2, v, NULL,
                          NULL, &res);
    if (rc != 0)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        if (by_subject)
            return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                     "%s %s is not assigned to case %s; only the assigned %s may "
                                     "decline it",
                                     word, subject_id, c->id, word);
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "%s %s has no task on case %s", word,
                                 subject_id, c->id);
    }
    char task[CCIP_UUID_STRLEN + 1];
    snprintf(task, sizeof task, "%s", PQgetvalue(res, 0, 0));
    int done = strcmp(PQgetvalue(res, 0, 1), EVALUATION_TASK_DONE) == 0;
    PQclear(res);
    if (done)
        return ccip_command_fail(cmd, CCIP__STATUS__FAILED_PRECONDITION,
                                 "%s %s has already %s on case %s; a finished task cannot be %s",
                                 word, subject_id, is_agency ? "filed its report" : "submitted",
                                 c->id, by_subject ? "declined" : "reassigned");
    rc = evaluation_task_release(cmd, kind, task, subject_id, status, reason);
    char detail[EVALUATION_REASON_MAX + 64];
    snprintf(detail, sizeof detail, "%s %s: %s", word, subject_id, reason);
    if (rc == 0)
        rc = evaluation_case_log(cmd->db, c->id, cmd->actor.id, cmd->actor.role,
                                 by_subject ? "declined" : "reassigned", detail);
    ccip_arena *a = ccip_arena_new();
    Ccip__Evaluation__AssignReply reply = CCIP__EVALUATION__ASSIGN_REPLY__INIT;
    if (rc == 0)
        rc = evaluation_assign_refill(cmd, c, a, &reply);
    if (rc == 0)
        rc = ccip_command_reply_built(cmd, a, &reply.base);
    ccip_arena_destroy(&a);
    return rc;
}

/* A decline or a reassignment, once the caller's own checks passed: checks
 * the reason, locks case case_id, ends subject's open task with `status`
 * and fills the seat again (s_release_and_refill). */
static int s_end_task(ccip_command *cmd, const char *case_id, Ccip__Evaluation__SubjectKind kind,
                      const char *subject_id, const char *status, const char *reason,
                      int by_subject)
{
    evaluation_case_row c;
    memset(&c, 0, sizeof c);
    int rc = ccip_command_check_text(cmd, "reason", reason, EVALUATION_REASON_MIN,
                                     EVALUATION_REASON_MAX, CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = evaluation_case_fetch(cmd, case_id, 1, &c);
    if (rc == 0)
        rc = s_release_and_refill(cmd, &c, kind, subject_id, status, reason, by_subject);
    evaluation_case_row_clear(&c);
    return rc;
}

int evaluation_assignment_decline(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__DeclineRequest *rq = request;
    int is_agency = strcmp(cmd->actor.role, "agency") == 0;
    Ccip__Evaluation__SubjectKind kind =
        is_agency ? CCIP__EVALUATION__SUBJECT_KIND__AGENCY : CCIP__EVALUATION__SUBJECT_KIND__EXPERT;
    char me[EVALUATION_ID_MAX + 1];
    int rc = evaluation_actor_subject(cmd, cmd->actor.role, me);
    if (rc)
        return rc;
    return s_end_task(cmd, rq->case_id, kind, me, EVALUATION_TASK_DECLINED, rq->reason, 1);
}

int evaluation_assignment_reassign(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Evaluation__ReassignRequest *rq = request;
    if (rq->kind != CCIP__EVALUATION__SUBJECT_KIND__AGENCY &&
        rq->kind != CCIP__EVALUATION__SUBJECT_KIND__EXPERT)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `kind` must be EXPERT or AGENCY");
    int rc = ccip_command_check_code(cmd, "id", rq->id, EVALUATION_ID_MAX);
    if (rc)
        return rc;
    return s_end_task(cmd, rq->case_id, rq->kind, rq->id, EVALUATION_TASK_REASSIGNED, rq->reason,
                      0);
}
