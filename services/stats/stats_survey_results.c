#include "stats_survey_results.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_arena.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_pgarray.h"
#include "stats_answers.h"
#include "stats_completeness.h"
#include "stats_questionnaires.h"
#include "stats_release.h"
#include "stats_survey_responses.h"
#include "stats_surveys.h"

#define TEXTS_DEFAULT  100
#define TEXTS_MAX      1000
#define EXPORT_DEFAULT 1000
#define EXPORT_MAX     5000
#define SECTIONS_MAX   50  /* surveys one quarter shows */
#define DISTRICT_SLOTS 40  /* Beijing's districts and the municipal level, with room */
#define KIND_SLOTS     5   /* TargetKind values */
#define CHART_WIDTH    420 /* pixels of the longest bar */
#define CHART_BAR      18  /* pixels per bar */
#define CHART_LABEL    220 /* pixels for the labels */

/* Readable by this caller: $2 is "the caller is an analyst". A pseudo-
 * constant (no column in it), so PostgreSQL tests it once per statement. */
#define RELEASED "($2::boolean OR survey_released($1::uuid))"

static const ccip_db_stmt S_RELEASED = {"stats_results_released",
                                        "SELECT survey_released($1::uuid)"};
static const ccip_db_stmt S_COUNTS = {
    "stats_results_counts",
    "SELECT (SELECT count(*) FROM survey_targets($1::uuid)), (SELECT count(*) FROM "
    "survey_response WHERE survey_id = $1::uuid AND " RELEASED ")"};
static const ccip_db_stmt S_TALLY = {
    "stats_results_tally",
    "SELECT question, col, district_code, target_kind, opt, n FROM survey_tally "
    "WHERE survey_id = $1::uuid AND n > 0 AND " RELEASED};
/* Sorted by the index survey_answer_numbers, which holds every column
 * read: an index-only scan, no sort (EXPLAIN in scripts/bench survey). */
static const ccip_db_stmt S_NUMBERS = {
    "stats_results_numbers",
    "SELECT question, col, coalesce(district_code, ''), coalesce(target_kind, ''), num "
    "FROM survey_answer WHERE survey_id = $1::uuid AND num IS NOT NULL AND " RELEASED
    " ORDER BY question, col, num"};
static const ccip_db_stmt S_SECTIONS = {
    "stats_results_sections",
    "SELECT survey_id FROM survey_section WHERE quarter = $1 AND ($2::boolean OR "
    "survey_released(survey_id)) ORDER BY attached_at, survey_id LIMIT 50"};
static const ccip_db_stmt S_TEXTS = {
    "stats_results_texts",
    "SELECT coalesce(r.target_id, ''), coalesce(a.district_code, ''), a.item, a.txt "
    "FROM survey_answer a JOIN survey_response r ON r.id = a.response_id "
    "WHERE a.survey_id = $1::uuid AND a.question = $3::smallint AND a.col = $4::smallint "
    "AND a.txt IS NOT NULL AND " RELEASED " ORDER BY a.response_id, a.item "
    "LIMIT $5::integer OFFSET $6::integer"};
static const ccip_db_stmt S_TEXTS_TOTAL = {
    "stats_results_texts_total",
    "SELECT count(*) FROM survey_answer WHERE survey_id = $1::uuid AND question = $3::smallint "
    "AND col = $4::smallint AND txt IS NOT NULL AND " RELEASED};
static const ccip_db_stmt S_EXPORT = {
    "stats_results_export",
    "SELECT id, coalesce(target_id, ''), coalesce(target_kind, ''), coalesce(district_code, '') "
    "FROM survey_response WHERE survey_id = $1::uuid AND " RELEASED
    " ORDER BY id LIMIT $3::integer OFFSET $4::integer"};
static const ccip_db_stmt S_EXPORT_ANSWERS = {
    "stats_results_export_answers",
    "SELECT response_id, question, item, col, num IS NOT NULL, coalesce(num, 0), "
    "opt IS NOT NULL, coalesce(opt, 0), txt IS NOT NULL, coalesce(txt, '') FROM survey_answer "
    "WHERE response_id = ANY ($1::uuid[]) ORDER BY response_id"};
static const ccip_db_stmt S_ATTACH = {
    "stats_results_attach",
    "INSERT INTO survey_section (quarter, survey_id, attached_by) VALUES ($1, $2::uuid, $3) "
    "ON CONFLICT DO NOTHING"};
static const ccip_db_stmt S_DETACH = {
    "stats_results_detach",
    "DELETE FROM survey_section WHERE quarter = $1 AND survey_id = $2::uuid"};
static const ccip_db_stmt S_ATTACHED = {
    "stats_results_attached",
    "SELECT quarter FROM survey_section WHERE survey_id = $1::uuid ORDER BY quarter"};

/* ---- arithmetic (pure) ------------------------------------------------------------------------
 */

static int64_t s_clamp(__int128 v)
{
    return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : (int64_t)v;
}

void stats_quartiles_x100(const int64_t *sorted, size_t n, int64_t q[3])
{
    q[0] = q[1] = q[2] = 0;
    if (n == 0)
        return;
    for (int m = 1; m <= 3; m++) {
        /* h = (n - 1) * m / 4 = lo + r / 4 */
        uint64_t k = (uint64_t)(n - 1) * (uint64_t)m;
        size_t lo = (size_t)(k / 4);
        int r = (int)(k % 4);
        __int128 v = (__int128)sorted[lo] * 100;
        if (r && lo + 1 < n)
            v += (__int128)r * 25 * ((__int128)sorted[lo + 1] - sorted[lo]);
        q[m - 1] = s_clamp(v);
    }
}

int64_t stats_mean_x100(__int128 sum, uint32_t n)
{
    if (n == 0)
        return 0;
    __int128 a = sum * 100, b = n;
    __int128 q = a / b, r = a % b;
    if (r < 0)
        r = -r;
    if (2 * r >= b)
        q += a < 0 ? -1 : 1;
    return s_clamp(q);
}

void stats_option_add(Ccip__Stats__QuestionKind kind, size_t n_options, int64_t opt, uint32_t count,
                      uint32_t *per_option)
{
    switch (kind) {
    case CCIP__STATS__QUESTION_KIND__MULTIPLE_CHOICE:
        for (size_t k = 0; k < n_options && k < 63; k++)
            if (opt >= 0 && ((uint64_t)opt & ((uint64_t)1 << k)))
                per_option[k] += count;
        return;
    case CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE:
        if (opt >= 0 && (uint64_t)opt < n_options)
            per_option[opt] += count;
        return;
    case CCIP__STATS__QUESTION_KIND__YES_NO:
        if (opt == 1 || opt == 0)
            per_option[opt == 1 ? 0 : 1] += count;
        return;
    default:
        return;
    }
}

/* ---- who reads ---------------------------------------------------------------------------------
 */

static int s_analyst(const ccip_command *cmd)
{
    return strcmp(cmd->actor.role, "analyst") == 0;
}

int stats_results_readable(ccip_command *cmd, const char *survey_id, int *readable)
{
    *readable = s_analyst(cmd);
    if (*readable)
        return 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_RELEASED, 1, &survey_id, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    *readable = ccip_db_cell_bool(res, 0, 0);
    PQclear(res);
    return 0;
}

static int s_not_readable(ccip_command *cmd, const char *id)
{
    return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                             "survey %s has no results you may read: they are released with the "
                             "bulletin of a quarter the survey is attached to, and until its "
                             "embargo ends only analysts read them",
                             id);
}

/* ---- building the results -----------------------------------------------------------------------
 */

/* One group of one question being summed. */
typedef struct {
    int used;          /* answered at least once */
    uint32_t answered; /* answers (table column cells) */
    uint32_t *options; /* per option, allocated when the question has options */
    int has_numbers;   /* the numbers below were summed */
    Ccip__Stats__NumberSummary numbers;
} s_group;

/* One question, or one column of a table question, with its groups: [0]
 * the total, [1 .. nd] the districts (nd - 1: municipal), then the kinds. */
typedef struct {
    const Ccip__Stats__Question *q;     /* the question, or the table's column */
    const Ccip__Stats__Question *table; /* the table of a column, else NULL */
    const char *section;
    s_group *groups; /* calloc'd on first use */
} s_slot;

typedef struct {
    const stats_questions *qs;
    size_t nslots;
    s_slot *slots;
    size_t *base;   /* slot of question i (its columns follow) */
    size_t nd;      /* district groups: the districts and "municipal" */
    size_t ngroups; /* 1 + nd + KIND_SLOTS */
    int anonymous;  /* totals only */
} s_build;

static void s_build_release(s_build *b)
{
    for (size_t i = 0; b->slots && i < b->nslots; i++) {
        for (size_t g = 0; b->slots[i].groups && g < b->ngroups; g++)
            free(b->slots[i].groups[g].options);
        free(b->slots[i].groups);
    }
    free(b->slots);
    free(b->base);
    memset(b, 0, sizeof *b);
}

static int s_build_init(s_build *b, const stats_questions *qs, int anonymous)
{
    memset(b, 0, sizeof *b);
    b->qs = qs;
    b->anonymous = anonymous;
    b->nd = ccip_district_count() + 1;
    if (b->nd > DISTRICT_SLOTS)
        b->nd = DISTRICT_SLOTS;
    b->ngroups = 1 + b->nd + KIND_SLOTS;
    b->base = calloc(qs->n + 1, sizeof *b->base);
    size_t n = 0;
    for (size_t i = 0; i < qs->n; i++)
        n += 1 + qs->questions[i]->n_columns;
    b->slots = calloc(n + 1, sizeof *b->slots);
    if (!b->base || !b->slots) {
        s_build_release(b);
        return -1;
    }
    for (size_t i = 0; i < qs->n; i++) {
        const Ccip__Stats__Question *q = qs->questions[i];
        b->base[i] = b->nslots;
        b->slots[b->nslots++] = (s_slot){.q = q, .section = qs->sections[i]};
        for (size_t c = 0; c < q->n_columns; c++)
            b->slots[b->nslots++] =
                (s_slot){.q = q->columns[c], .table = q, .section = qs->sections[i]};
    }
    return 0;
}

/* The slot of (question, col), or NULL when the version has none. */
static s_slot *s_slot_of(s_build *b, int64_t question, int64_t col)
{
    if (question < 0 || (size_t)question >= b->qs->n || col < 0 ||
        (size_t)col > b->qs->questions[question]->n_columns)
        return NULL;
    return &b->slots[b->base[question] + (size_t)col];
}

/* The group indexes of a row: [0] the total, [1] its district, [2] its
 * kind; -1 where the survey has no such breakdown. */
static void s_groups_of(const s_build *b, const char *district, const char *kind, int g[3])
{
    g[0] = 0;
    g[1] = g[2] = -1;
    if (b->anonymous)
        return;
    size_t d = b->nd - 1; /* municipal */
    for (size_t i = 0; district[0] && i < b->nd - 1; i++)
        if (strcmp(ccip_district_at(i)->code, district) == 0)
            d = i;
    g[1] = (int)(1 + d);
    int k = (int)stats_target_kind_of(kind);
    if (k > 0 && k < KIND_SLOTS)
        g[2] = (int)(1 + b->nd + (size_t)k);
}

static s_group *s_group_at(s_build *b, s_slot *s, int g)
{
    if (g < 0)
        return NULL;
    if (!s->groups && !(s->groups = calloc(b->ngroups, sizeof *s->groups)))
        return NULL;
    s_group *x = &s->groups[g];
    size_t nopt = s->q->kind == CCIP__STATS__QUESTION_KIND__YES_NO ? 2 : s->q->n_options;
    if (!x->options && nopt && !(x->options = calloc(nopt, sizeof *x->options)))
        return NULL;
    x->used = 1;
    return x;
}

/* The tally's rows: answered counts and options. Returns 0 or -1 (memory). */
static int s_add_tally(s_build *b, const PGresult *res)
{
    for (int r = 0; r < PQntuples(res); r++) {
        s_slot *s = s_slot_of(b, ccip_db_cell_i64(res, r, 0), ccip_db_cell_i64(res, r, 1));
        if (!s)
            continue;
        int g[3];
        s_groups_of(b, PQgetvalue(res, r, 2), PQgetvalue(res, r, 3), g);
        int64_t opt = ccip_db_cell_i64(res, r, 4);
        uint32_t n = (uint32_t)ccip_db_cell_i64(res, r, 5);
        size_t nopt = s->q->kind == CCIP__STATS__QUESTION_KIND__YES_NO ? 2 : s->q->n_options;
        for (int k = 0; k < 3; k++) {
            s_group *x = s_group_at(b, s, g[k]);
            if (g[k] >= 0 && !x)
                return -1;
            if (!x)
                continue;
            x->answered += n;
            if (opt >= 0 && x->options)
                stats_option_add(s->q->kind, nopt, opt, n, x->options);
        }
    }
    return 0;
}

/* A growing array of numbers, sorted as they come. */
typedef struct {
    int64_t *v;
    size_t n, cap;
} s_vec;

static int s_vec_push(s_vec *v, int64_t x)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 256;
        int64_t *p = realloc(v->v, cap * sizeof *p);
        if (!p)
            return -1;
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = x;
    return 0;
}

static void s_summarise(const s_vec *v, Ccip__Stats__NumberSummary *out)
{
    *out = (Ccip__Stats__NumberSummary)CCIP__STATS__NUMBER_SUMMARY__INIT;
    if (v->n == 0)
        return;
    __int128 sum = 0;
    for (size_t i = 0; i < v->n; i++)
        sum += v->v[i];
    out->count = (uint32_t)v->n;
    out->sum = s_clamp(sum);
    out->min = v->v[0];
    out->max = v->v[v->n - 1];
    out->mean_x100 = stats_mean_x100(sum, (uint32_t)v->n);
    int64_t q[3];
    stats_quartiles_x100(v->v, v->n, q);
    out->q1_x100 = q[0];
    out->median_x100 = q[1];
    out->q3_x100 = q[2];
}

/* Ends a slot's numbers: each group's vector summarised and emptied. */
static int s_flush(s_build *b, s_slot *s, s_vec *vecs)
{
    for (size_t g = 0; s && g < b->ngroups; g++) {
        if (vecs[g].n == 0)
            continue;
        s_group *x = s_group_at(b, s, (int)g);
        if (!x)
            return -1;
        x->has_numbers = 1;
        s_summarise(&vecs[g], &x->numbers);
    }
    for (size_t g = 0; g < b->ngroups; g++)
        vecs[g].n = 0;
    return 0;
}

/* The numbers, sorted by (question, column, value): each value goes to the
 * vectors of its groups, which so stay sorted; a slot is summarised when
 * the next begins. Returns 0 or -1 (memory). */
static int s_add_numbers(s_build *b, const PGresult *res)
{
    s_vec *vecs = calloc(b->ngroups, sizeof *vecs);
    if (!vecs)
        return -1;
    s_slot *cur = NULL;
    int rc = 0;
    for (int r = 0; rc == 0 && r < PQntuples(res); r++) {
        s_slot *s = s_slot_of(b, ccip_db_cell_i64(res, r, 0), ccip_db_cell_i64(res, r, 1));
        if (s != cur) {
            rc = s_flush(b, cur, vecs);
            cur = s;
        }
        if (!s || rc)
            continue;
        int g[3];
        s_groups_of(b, PQgetvalue(res, r, 2), PQgetvalue(res, r, 3), g);
        int64_t v = strtoll(PQgetvalue(res, r, 4), NULL, 10);
        for (int k = 0; rc == 0 && k < 3; k++)
            if (g[k] >= 0)
                rc = s_vec_push(&vecs[g[k]], v);
    }
    if (rc == 0)
        rc = s_flush(b, cur, vecs);
    for (size_t g = 0; g < b->ngroups; g++)
        free(vecs[g].v);
    free(vecs);
    return rc;
}

/* The key of group g: district code, kind name, or "". */
static const char *s_group_key(const s_build *b, size_t g, const char **dimension)
{
    if (g == 0) {
        *dimension = "total";
        return "";
    }
    if (g <= b->nd) {
        *dimension = "district";
        return g == b->nd ? "" : ccip_district_at(g - 1)->code;
    }
    *dimension = "target_kind";
    return stats_target_kind_name((Ccip__Stats__TargetKind)(g - 1 - b->nd));
}

/* The messages of slot s, from a. */
static Ccip__Stats__QuestionResult *s_message(const s_build *b, const s_slot *s, ccip_arena *a)
{
    Ccip__Stats__QuestionResult *m = ccip_arena_alloc(a, sizeof *m);
    Ccip__Stats__GroupResult **groups = ccip_arena_alloc(a, b->ngroups * sizeof *groups);
    if (!m || !groups)
        return NULL;
    *m = (Ccip__Stats__QuestionResult)CCIP__STATS__QUESTION_RESULT__INIT;
    m->kind = s->q->kind;
    m->unit = s->q->unit;
    m->decimals = s->q->decimals;
    m->section = (char *)s->section;
    if (s->table) {
        char code[2 * STATS_CODE_MAX + 2];
        snprintf(code, sizeof code, "%s.%s", s->table->code, s->q->code);
        m->code = ccip_arena_strdup(a, code);
        size_t len = strlen(s->table->title) + strlen(s->q->title) + 8;
        m->title = ccip_arena_alloc(a, len);
        if (m->title)
            snprintf(m->title, len, "%s: %s", s->table->title, s->q->title);
    } else {
        m->code = s->q->code;
        m->title = s->q->title;
    }
    m->groups = groups;
    int yesno = s->q->kind == CCIP__STATS__QUESTION_KIND__YES_NO;
    size_t nopt = yesno ? 2 : s->q->n_options;
    for (size_t g = 0; s->groups && g < b->ngroups; g++) {
        const s_group *x = &s->groups[g];
        if (!x->used)
            continue;
        Ccip__Stats__GroupResult *gr = ccip_arena_alloc(a, sizeof *gr);
        if (!gr)
            return NULL;
        *gr = (Ccip__Stats__GroupResult)CCIP__STATS__GROUP_RESULT__INIT;
        const char *dim;
        gr->key = (char *)s_group_key(b, g, &dim);
        gr->dimension = (char *)dim;
        gr->answered = x->answered;
        if (nopt && x->options) {
            gr->options = ccip_arena_alloc(a, nopt * sizeof *gr->options);
            for (size_t k = 0; gr->options && k < nopt; k++) {
                Ccip__Stats__OptionCount *oc = ccip_arena_alloc(a, sizeof *oc);
                if (!oc)
                    return NULL;
                *oc = (Ccip__Stats__OptionCount)CCIP__STATS__OPTION_COUNT__INIT;
                oc->option = yesno ? (char *)(k == 0 ? "yes" : "no") : s->q->options[k]->code;
                oc->label = yesno ? (char *)(k == 0 ? "yes" : "no") : s->q->options[k]->label;
                oc->count = x->options[k];
                oc->share_bp = stats_rate_bp(x->options[k], x->answered);
                gr->options[gr->n_options++] = oc;
            }
        }
        if (x->has_numbers) {
            gr->numbers = ccip_arena_alloc(a, sizeof *gr->numbers);
            if (!gr->numbers)
                return NULL;
            *gr->numbers = x->numbers;
        }
        groups[m->n_groups++] = gr;
    }
    return m;
}

/* Builds the results of survey sv (the caller may read them) in a. */
static int s_build_results(ccip_command *cmd, const stats_survey_row *sv, ccip_arena *a,
                           Ccip__Stats__SurveyResults **out)
{
    *out = NULL;
    stats_questionnaire_row q;
    stats_questions qs = {0};
    s_build b = {0};
    PGresult *counts = NULL, *tally = NULL, *numbers = NULL;
    char err[200];
    int found;
    int rc = stats_questionnaire_load(cmd->db, sv->questionnaire_id, sv->version, &q, &found);
    if (rc != 0)
        return rc;
    if (!found || stats_questions_index(q.content, &qs, err, sizeof err) < 0 ||
        s_build_init(&b, &qs, sv->anonymous) < 0) {
        stats_questionnaire_row_release(&q);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "could not read the questionnaire survey %s asks", sv->id);
    }
    const char *p[] = {sv->id, s_analyst(cmd) ? "true" : "false"};
    Ccip__Stats__SurveyResults *r = ccip_arena_alloc(a, sizeof *r);
    if ((rc = ccip_db_exec(cmd->db, &S_COUNTS, 2, p, NULL, NULL, &counts)) == 0 &&
        (rc = ccip_db_exec(cmd->db, &S_TALLY, 2, p, NULL, NULL, &tally)) == 0 &&
        (rc = ccip_db_exec(cmd->db, &S_NUMBERS, 2, p, NULL, NULL, &numbers)) == 0) {
        if (!r || s_add_tally(&b, tally) < 0 || s_add_numbers(&b, numbers) < 0)
            rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory summing survey %s",
                                   sv->id);
    }
    if (rc == 0) {
        *r = (Ccip__Stats__SurveyResults)CCIP__STATS__SURVEY_RESULTS__INIT;
        r->expected = (uint32_t)ccip_db_cell_i64(counts, 0, 0);
        r->responses = (uint32_t)ccip_db_cell_i64(counts, 0, 1);
        rc = stats_survey_message(cmd->db, sv, a, &r->survey);
    }
    if (rc == 0) {
        PGresult *rel = NULL;
        const char *id = sv->id;
        if ((rc = ccip_db_exec(cmd->db, &S_RELEASED, 1, &id, NULL, NULL, &rel)) == 0)
            r->released = ccip_db_cell_bool(rel, 0, 0);
        PQclear(rel);
        r->questions = ccip_arena_alloc(a, (b.nslots + 1) * sizeof *r->questions);
        for (size_t i = 0; rc == 0 && r->questions && i < b.nslots; i++) {
            Ccip__Stats__QuestionResult *m = s_message(&b, &b.slots[i], a);
            if (!m)
                break;
            r->questions[r->n_questions++] = m;
        }
        /* The strings of the questions borrow from the content, which goes
         * with this function: the arena keeps copies. */
        for (size_t i = 0; i < r->n_questions; i++) {
            Ccip__Stats__QuestionResult *m = r->questions[i];
            m->title = ccip_arena_strdup(a, m->title);
            m->code = ccip_arena_strdup(a, m->code);
            m->unit = ccip_arena_strdup(a, m->unit);
            m->section = ccip_arena_strdup(a, m->section);
            for (size_t g = 0; g < m->n_groups; g++)
                for (size_t k = 0; k < m->groups[g]->n_options; k++) {
                    Ccip__Stats__OptionCount *oc = m->groups[g]->options[k];
                    oc->option = ccip_arena_strdup(a, oc->option);
                    oc->label = ccip_arena_strdup(a, oc->label);
                }
        }
        if (ccip_arena_failed(a))
            rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    }
    if (rc == 0)
        *out = r;
    PQclear(counts);
    PQclear(tally);
    PQclear(numbers);
    s_build_release(&b);
    stats_questions_release(&qs);
    stats_questionnaire_row_release(&q);
    return rc;
}

int stats_survey_results_build(ccip_command *cmd, const char *survey_id, ccip_arena *a,
                               Ccip__Stats__SurveyResults **out)
{
    *out = NULL;
    stats_survey_row sv;
    int readable;
    int rc = stats_survey_require(cmd, "survey_id", survey_id, 0, &sv);
    if (rc == 0)
        rc = stats_results_readable(cmd, sv.id, &readable);
    if (rc != 0)
        return rc;
    if (!readable)
        return s_not_readable(cmd, sv.id);
    return s_build_results(cmd, &sv, a, out);
}

int stats_survey_sections(ccip_command *cmd, const char *quarter, ccip_arena *a,
                          Ccip__Stats__SurveyResults ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    const char *p[] = {quarter, s_analyst(cmd) ? "true" : "false"};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_SECTIONS, 2, p, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    int rows = PQntuples(res);
    Ccip__Stats__SurveyResults **list = ccip_arena_alloc(a, ((size_t)rows + 1) * sizeof *list);
    for (int r = 0; rc == 0 && list && r < rows && r < SECTIONS_MAX; r++) {
        Ccip__Stats__SurveyResults *x = NULL;
        if ((rc = stats_survey_results_build(cmd, PQgetvalue(res, r, 0), a, &x)) == 0)
            list[(*n)++] = x;
    }
    PQclear(res);
    if (rc == 0 && !list)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if (rc == 0)
        *out = list;
    return rc;
}

int stats_survey_results_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__SurveyResultsRequest *rq = request;
    Ccip__Stats__SurveyResultsReply reply = CCIP__STATS__SURVEY_RESULTS_REPLY__INIT;
    int rc = stats_survey_results_build(cmd, rq->survey_id, a, &reply.results);
    return rc ? rc : stats_reply_built(cmd, a, &reply.base, "out of memory");
}

/* ---- texts
 * --------------------------------------------------------------------------------------- */

/* Finds "code" or "table.column" in the version: *qi and *col (0 for a
 * question, 1.. for a column), and the question or column in *q. Returns
 * 0 or -1. */
static int s_find_code(const stats_questions *qs, const char *code, int *qi, int *col,
                       const Ccip__Stats__Question **q)
{
    char head[STATS_CODE_MAX + 2];
    const char *dot = strchr(code, '.');
    size_t len = dot ? (size_t)(dot - code) : strlen(code);
    if (len >= sizeof head)
        return -1;
    memcpy(head, code, len);
    head[len] = '\0';
    *qi = stats_questions_find(qs, head);
    *col = 0;
    if (*qi < 0)
        return -1;
    *q = qs->questions[*qi];
    if (!dot)
        return 0;
    for (size_t c = 0; c < (*q)->n_columns; c++)
        if (strcmp((*q)->columns[c]->code, dot + 1) == 0) {
            *col = (int)c + 1;
            *q = (*q)->columns[c];
            return 0;
        }
    return -1;
}

int stats_survey_texts_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__SurveyTextsRequest *rq = request;
    stats_survey_row sv;
    int readable;
    int rc = stats_survey_require(cmd, "survey_id", rq->survey_id, 0, &sv);
    if (rc == 0)
        rc = stats_results_readable(cmd, sv.id, &readable);
    if (rc != 0)
        return rc;
    if (!readable)
        return s_not_readable(cmd, sv.id);
    if (rq->limit > TEXTS_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `limit` must be at most %d, got %u", TEXTS_MAX, rq->limit);
    stats_questionnaire_row q;
    stats_questions qs;
    char err[200];
    int found, qi = 0, col = 0; /* set by s_find_code; 0 only when it refused */
    const Ccip__Stats__Question *question = NULL;
    if ((rc = stats_questionnaire_load(cmd->db, sv.questionnaire_id, sv.version, &q, &found)) != 0)
        return rc;
    if (!found || stats_questions_index(q.content, &qs, err, sizeof err) < 0) {
        stats_questionnaire_row_release(&q);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "could not read the questionnaire survey %s asks", sv.id);
    }
    if (s_find_code(&qs, rq->question, &qi, &col, &question) < 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `question`: survey %s's questionnaire has no question "
                               "`%.80s` (a table's column is `<table>.<column>`)",
                               sv.id, rq->question);
    else if (question->kind != CCIP__STATS__QUESTION_KIND__SHORT_TEXT &&
             question->kind != CCIP__STATS__QUESTION_KIND__LONG_TEXT)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `question`: `%s` is not a text question; "
                               "stats.survey.results.v1 summarises its answers",
                               rq->question);
    char qt[16], ct[16], lt[16], ot[16];
    snprintf(qt, sizeof qt, "%d", qi);
    snprintf(ct, sizeof ct, "%d", col);
    snprintf(lt, sizeof lt, "%u", rq->limit ? rq->limit : TEXTS_DEFAULT);
    snprintf(ot, sizeof ot, "%u", rq->offset);
    const char *p[] = {sv.id, s_analyst(cmd) ? "true" : "false", qt, ct, lt, ot};
    PGresult *res = NULL, *total = NULL;
    if (rc == 0 && (rc = ccip_db_exec(cmd->db, &S_TEXTS, 6, p, NULL, NULL, &res)) == 0)
        rc = ccip_db_exec(cmd->db, &S_TEXTS_TOTAL, 4, p, NULL, NULL, &total);
    Ccip__Stats__SurveyTextsReply reply = CCIP__STATS__SURVEY_TEXTS_REPLY__INIT;
    if (rc == 0) {
        int n = PQntuples(res);
        reply.total = (uint32_t)ccip_db_cell_i64(total, 0, 0);
        reply.answers = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof *reply.answers);
        for (int r = 0; reply.answers && r < n; r++) {
            Ccip__Stats__TextAnswer *t = ccip_arena_alloc(a, sizeof *t);
            if (!t)
                break;
            *t = (Ccip__Stats__TextAnswer)CCIP__STATS__TEXT_ANSWER__INIT;
            t->target_id = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
            t->district_code = ccip_arena_strdup(a, PQgetvalue(res, r, 1));
            t->row = (uint32_t)ccip_db_cell_i64(res, r, 2);
            t->text = ccip_arena_strdup(a, PQgetvalue(res, r, 3));
            reply.answers[reply.n_answers++] = t;
        }
        rc = stats_reply_built(cmd, a, &reply.base, "out of memory listing texts");
    }
    PQclear(res);
    PQclear(total);
    stats_questions_release(&qs);
    stats_questionnaire_row_release(&q);
    return rc;
}

/* ---- exports
 * ------------------------------------------------------------------------------------- */

/* An answer's value as JSON. */
static void s_json_value(ccip_text *t, const Ccip__Stats__Question *q, const Ccip__Stats__Answer *a)
{
    char num[48];
    switch (a->value_case) {
    case CCIP__STATS__ANSWER__VALUE_NUMBER:
        stats_number_text(a->number, q->decimals, num, sizeof num);
        ccip_text_puts(t, num);
        return;
    case CCIP__STATS__ANSWER__VALUE_YES:
        ccip_text_puts(t, a->yes ? "true" : "false");
        return;
    case CCIP__STATS__ANSWER__VALUE_CHOICES:
        if (q->kind == CCIP__STATS__QUESTION_KIND__SINGLE_CHOICE && a->choices->n_options == 1) {
            stats_release_json(t, a->choices->options[0]);
            return;
        }
        ccip_text_puts(t, "[");
        for (size_t i = 0; i < a->choices->n_options; i++) {
            ccip_text_puts(t, i ? "," : "");
            stats_release_json(t, a->choices->options[i]);
        }
        ccip_text_puts(t, "]");
        return;
    case CCIP__STATS__ANSWER__VALUE_TEXT:
        stats_release_json(t, a->text);
        return;
    case CCIP__STATS__ANSWER__VALUE_DATE:
        stats_release_json(t, a->date);
        return;
    case CCIP__STATS__ANSWER__VALUE_TABLE:
        ccip_text_puts(t, "[");
        for (size_t r = 0; r < a->table->n_rows; r++) {
            const Ccip__Stats__TableAnswerRow *row = a->table->rows[r];
            ccip_text_puts(t, r ? ",{" : "{");
            for (size_t c = 0; c < row->n_cells; c++) {
                const Ccip__Stats__Question *colq = NULL;
                for (size_t k = 0; k < q->n_columns; k++)
                    if (strcmp(q->columns[k]->code, row->cells[c]->question) == 0)
                        colq = q->columns[k];
                if (!colq)
                    continue;
                ccip_text_puts(t, c ? "," : "");
                stats_release_json(t, colq->code);
                ccip_text_puts(t, ":");
                s_json_value(t, colq, row->cells[c]);
            }
            ccip_text_puts(t, "}");
        }
        ccip_text_puts(t, "]");
        return;
    default:
        ccip_text_puts(t, "null");
    }
}

/* An answer's value as a CSV field (tables as their JSON). */
static void s_csv_value(ccip_text *t, const Ccip__Stats__Question *q, const Ccip__Stats__Answer *a)
{
    ccip_text v = CCIP_TEXT_INIT;
    char num[48];
    switch (a->value_case) {
    case CCIP__STATS__ANSWER__VALUE_NUMBER:
        stats_number_text(a->number, q->decimals, num, sizeof num);
        ccip_text_puts(&v, num);
        break;
    case CCIP__STATS__ANSWER__VALUE_YES:
        ccip_text_puts(&v, a->yes ? "yes" : "no");
        break;
    case CCIP__STATS__ANSWER__VALUE_CHOICES:
        for (size_t i = 0; i < a->choices->n_options; i++)
            ccip_text_printf(&v, "%s%s", i ? ";" : "", a->choices->options[i]);
        break;
    case CCIP__STATS__ANSWER__VALUE_TEXT:
        ccip_text_puts(&v, a->text);
        break;
    case CCIP__STATS__ANSWER__VALUE_DATE:
        ccip_text_puts(&v, a->date);
        break;
    case CCIP__STATS__ANSWER__VALUE_TABLE:
        s_json_value(&v, q, a);
        break;
    default:
        break;
    }
    stats_release_csv(t, v.p ? v.p : "");
    t->failed |= v.failed;
    ccip_text_release(&v);
}

/* One response of the export. */
static void s_export_one(ccip_text *t, Ccip__Stats__ExportFormat fmt, const stats_questions *qs,
                         int anonymous, const PGresult *resp, int r, uint32_t seq,
                         Ccip__Stats__Answer **answers, size_t n, int first)
{
    if (fmt == CCIP__STATS__EXPORT_FORMAT__CSV) {
        if (anonymous) {
            ccip_text_printf(t, "%u", seq);
        } else {
            for (int c = 1; c <= 3; c++) {
                ccip_text_puts(t, c > 1 ? "," : "");
                stats_release_csv(t, PQgetvalue(resp, r, c));
            }
        }
        for (size_t i = 0; i < qs->n; i++) {
            ccip_text_puts(t, ",");
            for (size_t k = 0; k < n; k++)
                if (strcmp(answers[k]->question, qs->questions[i]->code) == 0)
                    s_csv_value(t, qs->questions[i], answers[k]);
        }
        ccip_text_puts(t, "\n");
        return;
    }
    ccip_text_puts(t, first ? "{" : ",\n{");
    if (!anonymous) {
        ccip_text_puts(t, "\"target_id\":");
        stats_release_json(t, PQgetvalue(resp, r, 1));
        ccip_text_puts(t, ",\"target_kind\":");
        stats_release_json(t, PQgetvalue(resp, r, 2));
        ccip_text_puts(t, ",\"district_code\":");
        stats_release_json(t, PQgetvalue(resp, r, 3));
        ccip_text_puts(t, ",");
    }
    ccip_text_puts(t, "\"answers\":{");
    for (size_t k = 0; k < n; k++) {
        int qi = stats_questions_find(qs, answers[k]->question);
        if (qi < 0)
            continue;
        ccip_text_puts(t, k ? "," : "");
        stats_release_json(t, answers[k]->question);
        ccip_text_puts(t, ":");
        s_json_value(t, qs->questions[qi], answers[k]);
    }
    ccip_text_puts(t, "}}");
}

/* Writes the page's responses (resp) with their answers (ans, ordered by
 * response id) into t. Returns 0 or -1 (memory). */
static int s_export_page(ccip_text *t, Ccip__Stats__ExportFormat fmt, const stats_questions *qs,
                         int anonymous, uint32_t offset, const PGresult *resp, const PGresult *ans)
{
    int na = PQntuples(ans), j = 0;
    stats_cell *cells = calloc((size_t)na + 1, sizeof *cells);
    if (!cells)
        return -1;
    if (fmt == CCIP__STATS__EXPORT_FORMAT__CSV) {
        ccip_text_puts(t, anonymous ? "response" : "target_id,target_kind,district_code");
        for (size_t i = 0; i < qs->n; i++) {
            ccip_text_puts(t, ",");
            stats_release_csv(t, qs->questions[i]->code);
        }
        ccip_text_puts(t, "\n");
    } else {
        ccip_text_puts(t, "[");
    }
    int rc = 0;
    for (int r = 0; rc == 0 && r < PQntuples(resp); r++) {
        const char *id = PQgetvalue(resp, r, 0);
        size_t n = 0;
        while (j < na && strcmp(PQgetvalue(ans, j, 0), id) < 0)
            j++;
        for (; j < na && strcmp(PQgetvalue(ans, j, 0), id) == 0; j++) {
            stats_cell *c = &cells[n++];
            c->question = (int)ccip_db_cell_i64(ans, j, 1);
            c->item = (int)ccip_db_cell_i64(ans, j, 2);
            c->col = (int)ccip_db_cell_i64(ans, j, 3);
            c->has_num = ccip_db_cell_bool(ans, j, 4);
            c->num = ccip_db_cell_i64(ans, j, 5);
            c->has_opt = ccip_db_cell_bool(ans, j, 6);
            c->opt = ccip_db_cell_i64(ans, j, 7);
            c->txt = ccip_db_cell_bool(ans, j, 8) ? PQgetvalue(ans, j, 9) : NULL;
        }
        ccip_arena *ar = ccip_arena_new();
        Ccip__Stats__Answer **answers = NULL;
        size_t nanswers = 0;
        if (!ar || stats_answers_from_cells(qs, cells, n, ar, &answers, &nanswers) < 0)
            rc = -1;
        else
            s_export_one(t, fmt, qs, anonymous, resp, r, offset + (uint32_t)r + 1, answers,
                         nanswers, r == 0);
        ccip_arena_destroy(&ar);
    }
    if (fmt == CCIP__STATS__EXPORT_FORMAT__JSON)
        ccip_text_puts(t, "]\n");
    free(cells);
    return rc < 0 || t->failed ? -1 : 0;
}

int stats_survey_export_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__SurveyExportRequest *rq = request;
    stats_survey_row sv;
    int readable;
    int rc = stats_survey_require(cmd, "survey_id", rq->survey_id, 0, &sv);
    if (rc == 0)
        rc = stats_results_readable(cmd, sv.id, &readable);
    if (rc != 0)
        return rc;
    if (!readable)
        return s_not_readable(cmd, sv.id);
    if (rq->format != CCIP__STATS__EXPORT_FORMAT__CSV &&
        rq->format != CCIP__STATS__EXPORT_FORMAT__JSON)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `format` must be CSV or JSON");
    if (rq->limit > EXPORT_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `limit` must be at most %d responses, got %u", EXPORT_MAX,
                                 rq->limit);
    uint32_t limit = rq->limit ? rq->limit : EXPORT_DEFAULT;
    stats_questionnaire_row q;
    stats_questions qs;
    char err[200], lt[16], ot[16];
    int found;
    if ((rc = stats_questionnaire_load(cmd->db, sv.questionnaire_id, sv.version, &q, &found)) != 0)
        return rc;
    if (!found || stats_questions_index(q.content, &qs, err, sizeof err) < 0) {
        stats_questionnaire_row_release(&q);
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL,
                                 "could not read the questionnaire survey %s asks", sv.id);
    }
    snprintf(lt, sizeof lt, "%u", limit);
    snprintf(ot, sizeof ot, "%u", rq->offset);
    const char *p[] = {sv.id, s_analyst(cmd) ? "true" : "false", lt, ot};
    PGresult *resp = NULL, *ans = NULL, *counts = NULL;
    ccip_pgarray ids = CCIP_PGARRAY_INIT;
    ccip_text t = CCIP_TEXT_INIT;
    if ((rc = ccip_db_exec(cmd->db, &S_EXPORT, 4, p, NULL, NULL, &resp)) == 0 &&
        (rc = ccip_db_exec(cmd->db, &S_COUNTS, 2, p, NULL, NULL, &counts)) == 0) {
        for (int r = 0; r < PQntuples(resp); r++)
            ccip_pgarray_text(&ids, PQgetvalue(resp, r, 0));
        const char *ip[] = {ccip_pgarray_value(&ids)};
        rc = ip[0] ? ccip_db_exec(cmd->db, &S_EXPORT_ANSWERS, 1, ip, NULL, NULL, &ans)
                   : ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    }
    if (rc == 0 && s_export_page(&t, rq->format, &qs, sv.anonymous, rq->offset, resp, ans) < 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory exporting survey %s",
                               sv.id);
    if (rc == 0) {
        Ccip__Stats__SurveyExportReply reply = CCIP__STATS__SURVEY_EXPORT_REPLY__INIT;
        reply.media_type = rq->format == CCIP__STATS__EXPORT_FORMAT__CSV ? "text/csv; charset=utf-8"
                                                                         : "application/json";
        reply.content = t.p ? t.p : "";
        reply.total = (uint32_t)ccip_db_cell_i64(counts, 0, 1);
        uint32_t next = rq->offset + (uint32_t)PQntuples(resp);
        reply.next_offset = next < reply.total ? next : 0;
        rc = stats_reply_built(cmd, a, &reply.base, "out of memory");
    }
    ccip_text_release(&t);
    ccip_pgarray_release(&ids);
    PQclear(resp);
    PQclear(ans);
    PQclear(counts);
    stats_questions_release(&qs);
    stats_questionnaire_row_release(&q);
    return rc;
}

/* ---- stats.survey.attach.v1
 * ------------------------------------------------------------------------ */

int stats_survey_attach_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__AttachSurveyRequest *rq = request;
    stats_survey_row sv;
    stats_quarter q;
    int rc = stats_survey_require(cmd, "survey_id", rq->survey_id, 0, &sv);
    if (rc == 0)
        rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q);
    if (rc != 0)
        return rc;
    const char *p[] = {rq->quarter, sv.id, cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, rq->detach ? &S_DETACH : &S_ATTACH, rq->detach ? 2 : 3, p, NULL,
                           NULL, NULL)) != 0)
        return rc;
    PGresult *res = NULL;
    const char *id = sv.id;
    if ((rc = ccip_db_exec(cmd->db, &S_ATTACHED, 1, &id, NULL, NULL, &res)) != 0)
        return rc;
    Ccip__Stats__AttachSurveyReply reply = CCIP__STATS__ATTACH_SURVEY_REPLY__INIT;
    reply.survey_id = sv.id;
    int n = PQntuples(res);
    reply.quarters = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof *reply.quarters);
    for (int r = 0; reply.quarters && r < n; r++)
        reply.quarters[reply.n_quarters++] = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
    PQclear(res);
    return stats_reply_built(cmd, a, &reply.base, "out of memory");
}

/* ---- the bulletin's parts
 * ---------------------------------------------------------------------------- */

static const Ccip__Stats__GroupResult *s_total(const Ccip__Stats__QuestionResult *q)
{
    return q->n_groups && strcmp(q->groups[0]->dimension, "total") == 0 ? q->groups[0] : NULL;
}

/* A number summary's value in hundredths (x100) as people read it. */
static void s_x100_text(const Ccip__Stats__QuestionResult *q, int64_t v, char *out, size_t len)
{
    if (q->kind == CCIP__STATS__QUESTION_KIND__DATE) {
        stats_date_text(v / 100, out);
        return;
    }
    stats_number_text(v, q->decimals + 2, out, len);
}

static void s_plain_text(const Ccip__Stats__QuestionResult *q, int64_t v, char *out, size_t len)
{
    if (q->kind == CCIP__STATS__QUESTION_KIND__DATE) {
        stats_date_text(v, out);
        return;
    }
    stats_number_text(v, q->decimals, out, len);
}

static const char *s_district_label(const char *code)
{
    if (!code[0])
        return "municipal";
    const ccip_district *d = ccip_district_find(code);
    return d ? d->name_en : code;
}

/* Bars of the options' shares of all responses. */
static void s_options_chart(ccip_text *t, const Ccip__Stats__QuestionResult *q,
                            const Ccip__Stats__GroupResult *g)
{
    int height = (int)g->n_options * CHART_BAR + 10;
    ccip_text_printf(t,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                     "role=\"img\" aria-label=\"",
                     CHART_LABEL + CHART_WIDTH + 140, height);
    stats_release_xml(t, q->code);
    ccip_text_puts(t, ": share of each answer\">\n");
    int y = 5;
    for (size_t k = 0; k < g->n_options; k++) {
        const Ccip__Stats__OptionCount *o = g->options[k];
        int64_t w = (int64_t)o->share_bp * CHART_WIDTH / 10000;
        char pct[24];
        stats_number_text(o->share_bp, 2, pct, sizeof pct);
        ccip_text_printf(t, "<text x=\"0\" y=\"%d\" font-size=\"12\">", y + 13);
        stats_release_xml(t, o->label);
        ccip_text_printf(t,
                         "</text><rect x=\"%d\" y=\"%d\" width=\"%" PRId64
                         "\" height=\"%d\" fill=\"#3b6ea5\"/><text x=\"%" PRId64
                         "\" y=\"%d\" font-size=\"12\">%u (%s %%)</text>\n",
                         CHART_LABEL, y, w, CHART_BAR - 4, CHART_LABEL + w + 4, y + 13, o->count,
                         pct);
        y += CHART_BAR;
    }
    ccip_text_puts(t, "</svg>\n");
}

/* A table of the number summaries by group, and bars of the medians by
 * district. */
static void s_numbers_part(ccip_text *t, const Ccip__Stats__QuestionResult *q)
{
    ccip_text_puts(t, "<table border=\"1\"><tr><th>group</th><th>count</th><th>mean</th>"
                      "<th>first quartile</th><th>median</th><th>third quartile</th>"
                      "<th>min</th><th>max</th></tr>\n");
    int64_t max = 0;
    size_t bars = 0;
    for (size_t g = 0; g < q->n_groups; g++) {
        const Ccip__Stats__GroupResult *gr = q->groups[g];
        const Ccip__Stats__NumberSummary *s = gr->numbers;
        if (!s)
            continue;
        char v[6][48];
        s_x100_text(q, s->mean_x100, v[0], sizeof v[0]);
        s_x100_text(q, s->q1_x100, v[1], sizeof v[1]);
        s_x100_text(q, s->median_x100, v[2], sizeof v[2]);
        s_x100_text(q, s->q3_x100, v[3], sizeof v[3]);
        s_plain_text(q, s->min, v[4], sizeof v[4]);
        s_plain_text(q, s->max, v[5], sizeof v[5]);
        ccip_text_puts(t, "<tr><td>");
        stats_release_xml(t, strcmp(gr->dimension, "total") == 0      ? "all responses"
                             : strcmp(gr->dimension, "district") == 0 ? s_district_label(gr->key)
                                                                      : gr->key);
        ccip_text_printf(t,
                         "</td><td>%u</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                         "<td>%s</td></tr>\n",
                         s->count, v[0], v[1], v[2], v[3], v[4], v[5]);
        if (strcmp(gr->dimension, "district") == 0) {
            bars++;
            if (s->median_x100 > max)
                max = s->median_x100;
        }
    }
    ccip_text_puts(t, "</table>\n");
    if (!bars || q->kind == CCIP__STATS__QUESTION_KIND__DATE)
        return;
    ccip_text_printf(t,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                     "role=\"img\" aria-label=\"",
                     CHART_LABEL + CHART_WIDTH + 140, (int)bars * CHART_BAR + 10);
    stats_release_xml(t, q->code);
    ccip_text_puts(t, ": median by district\">\n");
    int y = 5;
    for (size_t g = 0; g < q->n_groups; g++) {
        const Ccip__Stats__GroupResult *gr = q->groups[g];
        if (!gr->numbers || strcmp(gr->dimension, "district") != 0)
            continue;
        int64_t m = gr->numbers->median_x100;
        int64_t w = max > 0 && m > 0 ? (int64_t)((__int128)m * CHART_WIDTH / max) : 0;
        char v[48];
        s_x100_text(q, m, v, sizeof v);
        ccip_text_printf(t, "<text x=\"0\" y=\"%d\" font-size=\"12\">", y + 13);
        stats_release_xml(t, s_district_label(gr->key));
        ccip_text_printf(t,
                         "</text><rect x=\"%d\" y=\"%d\" width=\"%" PRId64
                         "\" height=\"%d\" fill=\"#3b6ea5\"/><text x=\"%" PRId64
                         "\" y=\"%d\" font-size=\"12\">%s</text>\n",
                         CHART_LABEL, y, w, CHART_BAR - 4, CHART_LABEL + w + 4, y + 13, v);
        y += CHART_BAR;
    }
    ccip_text_puts(t, "</svg>\n");
}

void stats_survey_section_summary(ccip_text *t, const Ccip__Stats__SurveyResults *r)
{
    char pct[24];
    stats_number_text(stats_rate_bp(r->responses, r->expected), 2, pct, sizeof pct);
    ccip_text_printf(t, "Survey \"%s\": %u of %u targets responded (%s %%)%s.\n", r->survey->title,
                     r->responses, r->expected, pct,
                     r->survey->status == CCIP__STATS__SURVEY_STATUS__CLOSED ? "" : ", still open");
}

void stats_survey_section_html(ccip_text *t, const Ccip__Stats__SurveyResults *r)
{
    char pct[24];
    stats_number_text(stats_rate_bp(r->responses, r->expected), 2, pct, sizeof pct);
    ccip_text_puts(t, "<h2>Survey: ");
    stats_release_xml(t, r->survey->title);
    ccip_text_printf(t, "</h2>\n<p>%u of %u targets responded (%s %%). Questionnaire version %u.",
                     r->responses, r->expected, pct, r->survey->questionnaire_version);
    if (r->survey->anonymous)
        ccip_text_puts(t, " Anonymous: the responses say nothing of who answered, so the results "
                          "are for all responses only.");
    if (r->survey->status != CCIP__STATS__SURVEY_STATUS__CLOSED)
        ccip_text_puts(t, " The survey is still open: these results are interim.");
    ccip_text_puts(t, "</p>\n");
    for (size_t i = 0; i < r->n_questions; i++) {
        const Ccip__Stats__QuestionResult *q = r->questions[i];
        const Ccip__Stats__GroupResult *g = s_total(q);
        ccip_text_puts(t, "<h3>");
        stats_release_xml(t, q->title);
        ccip_text_printf(t, "</h3>\n<p>%u answered", g ? g->answered : 0);
        if (q->unit[0]) {
            ccip_text_puts(t, "; in ");
            stats_release_xml(t, q->unit);
        }
        ccip_text_puts(t, ".</p>\n");
        if (!g)
            continue;
        if (g->n_options)
            s_options_chart(t, q, g);
        else if (g->numbers && q->kind != CCIP__STATS__QUESTION_KIND__TABLE)
            s_numbers_part(t, q);
        else if (q->kind == CCIP__STATS__QUESTION_KIND__SHORT_TEXT ||
                 q->kind == CCIP__STATS__QUESTION_KIND__LONG_TEXT)
            ccip_text_puts(t, "<p>Written answers: stats.survey.texts.v1 lists them.</p>\n");
    }
}

void stats_survey_sections_csv(ccip_text *t, Ccip__Stats__SurveyResults *const *rs, size_t n)
{
    ccip_text_puts(t, "survey_id,question,kind,dimension,key,answered,option,count,share_bp,sum,"
                      "mean_x100,q1_x100,median_x100,q3_x100,min,max\n");
    for (size_t s = 0; s < n; s++) {
        const Ccip__Stats__SurveyResults *r = rs[s];
        for (size_t i = 0; i < r->n_questions; i++) {
            const Ccip__Stats__QuestionResult *q = r->questions[i];
            const char *kind =
                ccip_enum_name(&ccip__stats__question_kind__descriptor, (int)q->kind);
            for (size_t g = 0; g < q->n_groups; g++) {
                const Ccip__Stats__GroupResult *gr = q->groups[g];
                for (size_t k = 0; k < gr->n_options; k++) {
                    ccip_text_printf(t, "%s,", r->survey->id);
                    stats_release_csv(t, q->code);
                    ccip_text_printf(t, ",%s,%s,%s,%u,", kind ? kind : "", gr->dimension, gr->key,
                                     gr->answered);
                    stats_release_csv(t, gr->options[k]->option);
                    ccip_text_printf(t, ",%u,%u,,,,,,,\n", gr->options[k]->count,
                                     gr->options[k]->share_bp);
                }
                if (gr->n_options)
                    continue;
                ccip_text_printf(t, "%s,", r->survey->id);
                stats_release_csv(t, q->code);
                ccip_text_printf(t, ",%s,%s,%s,%u,,,,", kind ? kind : "", gr->dimension, gr->key,
                                 gr->answered);
                if (gr->numbers)
                    ccip_text_printf(t,
                                     "%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64
                                     ",%" PRId64 ",%" PRId64,
                                     gr->numbers->sum, gr->numbers->mean_x100, gr->numbers->q1_x100,
                                     gr->numbers->median_x100, gr->numbers->q3_x100,
                                     gr->numbers->min, gr->numbers->max);
                else
                    ccip_text_puts(t, ",,,,,,");
                ccip_text_puts(t, "\n");
            }
        }
    }
}

void stats_survey_sections_json(ccip_text *t, Ccip__Stats__SurveyResults *const *rs, size_t n)
{
    ccip_text_puts(t, "[");
    for (size_t s = 0; s < n; s++) {
        const Ccip__Stats__SurveyResults *r = rs[s];
        ccip_text_printf(t, "%s{\"survey_id\":\"%s\",\"title\":", s ? "," : "", r->survey->id);
        stats_release_json(t, r->survey->title);
        ccip_text_printf(t,
                         ",\"anonymous\":%s,\"responses\":%u,\"expected\":%u,"
                         "\"questionnaire_version\":%u,\"questions\":[",
                         r->survey->anonymous ? "true" : "false", r->responses, r->expected,
                         r->survey->questionnaire_version);
        for (size_t i = 0; i < r->n_questions; i++) {
            const Ccip__Stats__QuestionResult *q = r->questions[i];
            const char *kind =
                ccip_enum_name(&ccip__stats__question_kind__descriptor, (int)q->kind);
            ccip_text_puts(t, i ? ",{\"code\":" : "{\"code\":");
            stats_release_json(t, q->code);
            ccip_text_puts(t, ",\"title\":");
            stats_release_json(t, q->title);
            ccip_text_printf(t, ",\"kind\":\"%s\",\"groups\":[", kind ? kind : "");
            for (size_t g = 0; g < q->n_groups; g++) {
                const Ccip__Stats__GroupResult *gr = q->groups[g];
                ccip_text_printf(t, "%s{\"dimension\":\"%s\",\"key\":\"%s\",\"answered\":%u",
                                 g ? "," : "", gr->dimension, gr->key, gr->answered);
                if (gr->n_options) {
                    ccip_text_puts(t, ",\"options\":[");
                    for (size_t k = 0; k < gr->n_options; k++) {
                        ccip_text_puts(t, k ? ",{\"option\":" : "{\"option\":");
                        stats_release_json(t, gr->options[k]->option);
                        ccip_text_printf(t, ",\"count\":%u,\"share_bp\":%u}", gr->options[k]->count,
                                         gr->options[k]->share_bp);
                    }
                    ccip_text_puts(t, "]");
                }
                if (gr->numbers)
                    ccip_text_printf(t,
                                     ",\"numbers\":{\"count\":%u,\"sum\":%" PRId64
                                     ",\"min\":%" PRId64 ",\"max\":%" PRId64
                                     ",\"mean_x100\":%" PRId64 ",\"q1_x100\":%" PRId64
                                     ",\"median_x100\":%" PRId64 ",\"q3_x100\":%" PRId64 "}",
                                     gr->numbers->count, gr->numbers->sum, gr->numbers->min,
                                     gr->numbers->max, gr->numbers->mean_x100, gr->numbers->q1_x100,
                                     gr->numbers->median_x100, gr->numbers->q3_x100);
                ccip_text_puts(t, "}");
            }
            ccip_text_puts(t, "]}");
        }
        ccip_text_puts(t, "]}");
    }
    ccip_text_puts(t, "]\n");
}
