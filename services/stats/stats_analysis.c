#include "stats_analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_arena.h"
#include "stats_catalogue.h"

#define GROUPS_MAX 256 /* districts and categories one analysis shows */

/* ---- arithmetic (pure) ---------------------------------------------------------- */

/* a / b rounded half away from zero, b > 0. */
static __int128 s_div_round(__int128 a, __int128 b)
{
    __int128 q = a / b, r = a % b;
    if (r < 0)
        r = -r;
    if (2 * r >= b)
        q += a < 0 ? -1 : 1;
    return q;
}

int stats_growth_bp(int64_t base, int64_t now, int64_t *bp)
{
    if (base <= 0)
        return -1;
    __int128 g = s_div_round(((__int128)now - base) * 10000, base);
    if (g > INT64_MAX)
        g = INT64_MAX;
    if (g < INT64_MIN)
        g = INT64_MIN;
    *bp = (int64_t)g;
    return 0;
}

int64_t stats_mean(int64_t sum, uint32_t n)
{
    if (!n)
        return 0;
    return (int64_t)s_div_round(sum, n);
}

void stats_rank(const int64_t *values, const int *eligible, size_t n, uint32_t *ranks)
{
    for (size_t i = 0; i < n; i++) {
        ranks[i] = 0;
        if (!eligible[i])
            continue;
        uint32_t above = 0;
        for (size_t j = 0; j < n; j++)
            if (eligible[j] && values[j] > values[i])
                above++;
        ranks[i] = above + 1;
    }
}

/* ---- the query ------------------------------------------------------------------- */

/* The quarter's sums per district, category and indicator, kept as the
 * accepted values change (sql/0003_quarter_aggregate.sql: each value
 * carries its entry's district, category and accepted values of the
 * previous quarter and a year before, sql/0002). The totals and the
 * district and category rows are rolled up here. */
static const ccip_db_stmt S_ANALYSIS = {
    "stats_analysis",
    "SELECT district_code, category, code, value, reporting, qoq_cur, qoq_base, qoq_panel, "
    "yoy_cur, yoy_base, yoy_panel FROM quarter_aggregate WHERE quarter = $1 AND reporting > 0"};
enum {
    A_DISTRICT,
    A_CATEGORY,
    A_CODE,
    A_VALUE,
    A_REPORTING,
    A_QOQ_CUR,
    A_QOQ_BASE,
    A_QOQ_PANEL,
    A_YOY_CUR,
    A_YOY_BASE,
    A_YOY_PANEL,
};

/* Entries asked to report for the quarter, by district, category and kind. */
static const ccip_db_stmt S_EXPECTED = {
    "stats_analysis_expected",
    "SELECT district_code, category, kind, count(*) FROM roster_entry "
    "WHERE first_quarter <= $1 AND (last_quarter IS NULL OR last_quarter >= $1) "
    "AND (expiry_quarter IS NULL OR expiry_quarter >= $1) GROUP BY 1, 2, 3"};

static const ccip_db_stmt S_ACCEPTED = {
    "stats_analysis_accepted",
    "SELECT count(*) FROM report WHERE quarter = $1 AND status = 'ACCEPTED'"};

/* A group of entries: all, a district or a category. */
typedef struct {
    const char *dimension; /* "total", "district", "category" */
    char key[48];
} s_group;

static int s_group_of(s_group *g, size_t *n, const char *dimension, const char *key)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(g[i].dimension, dimension) == 0 && strcmp(g[i].key, key) == 0)
            return (int)i;
    if (*n == GROUPS_MAX)
        return -1;
    g[*n].dimension = dimension;
    snprintf(g[*n].key, sizeof g[*n].key, "%s", key);
    return (int)(*n)++;
}

int stats_analysis_build(ccip_command *cmd, const char *quarter, ccip_arena *a,
                         Ccip__Stats__AnalysisReply **out)
{
    *out = NULL;
    stats_quarter q;
    int rc = stats_quarter_arg(cmd, "quarter", quarter, &q);
    if (rc != 0)
        return rc;
    char prev[8], yoy[8];
    stats_quarter_format(stats_quarter_add(q, -1), prev, sizeof prev);
    stats_quarter_format(stats_quarter_add(q, -4), yoy, sizeof yoy);
    int version = 0;
    stats_catalogue *cat = NULL;
    PGresult *data = NULL, *exp = NULL, *acc = NULL;
    s_group *groups = calloc(GROUPS_MAX, sizeof *groups);
    size_t ngroups = 0;
    if (!groups)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    const char *p3[] = {quarter};
    if ((rc = stats_catalogue_version_for(cmd->db, quarter, &version)) != 0 ||
        (rc = stats_catalogue_load(cmd->db, version, &cat)) != 0)
        goto out;
    if (!cat) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "no catalogue version applies to %s",
                               quarter);
        goto out;
    }
    if ((rc = ccip_db_exec(cmd->db, &S_ANALYSIS, 1, p3, NULL, NULL, &data)) != 0 ||
        (rc = ccip_db_exec(cmd->db, &S_EXPECTED, 1, p3, NULL, NULL, &exp)) != 0 ||
        (rc = ccip_db_exec(cmd->db, &S_ACCEPTED, 1, p3, NULL, NULL, &acc)) != 0)
        goto out;

    /* The groups: every district and category with entries or values. */
    s_group_of(groups, &ngroups, "total", "");
    for (int r = 0; r < PQntuples(exp); r++) {
        s_group_of(groups, &ngroups, "district", PQgetvalue(exp, r, 0));
        s_group_of(groups, &ngroups, "category", PQgetvalue(exp, r, 1));
    }
    for (int r = 0; r < PQntuples(data); r++) {
        s_group_of(groups, &ngroups, "district", PQgetvalue(data, r, A_DISTRICT));
        s_group_of(groups, &ngroups, "category", PQgetvalue(data, r, A_CATEGORY));
    }
    size_t nind = stats_catalogue_count(cat);
    size_t nrows = nind * ngroups;
    Ccip__Stats__AnalysisReply *reply = ccip_arena_alloc(a, sizeof *reply);
    Ccip__Stats__AnalysisRow *rows = ccip_arena_alloc(a, nrows * sizeof *rows);
    Ccip__Stats__AnalysisRow **list = ccip_arena_alloc(a, nrows * sizeof *list);
    int64_t *qoq_cur = calloc(nrows + 1, sizeof *qoq_cur), *qoq_base = calloc(nrows + 1, 8);
    int64_t *yoy_cur = calloc(nrows + 1, sizeof *yoy_cur), *yoy_base = calloc(nrows + 1, 8);
    if (!reply || !rows || !list || !qoq_cur || !qoq_base || !yoy_cur || !yoy_base) {
        free(qoq_cur);
        free(qoq_base);
        free(yoy_cur);
        free(yoy_base);
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        goto out;
    }
    *reply = (Ccip__Stats__AnalysisReply)CCIP__STATS__ANALYSIS_REPLY__INIT;
    reply->quarter = ccip_arena_strdup(a, quarter);
    reply->previous_quarter = ccip_arena_strdup(a, prev);
    reply->year_ago_quarter = ccip_arena_strdup(a, yoy);
    reply->catalogue_version = (uint32_t)version;
    reply->accepted = (uint32_t)ccip_db_cell_i64(acc, 0, 0);
    /* Row (indicator i, group g) is rows[i * ngroups + g]. */
    for (size_t i = 0; i < nind; i++) {
        const stats_catalogue_indicator *ind = stats_catalogue_at(cat, i);
        for (size_t g = 0; g < ngroups; g++) {
            Ccip__Stats__AnalysisRow *row = &rows[i * ngroups + g];
            *row = (Ccip__Stats__AnalysisRow)CCIP__STATS__ANALYSIS_ROW__INIT;
            row->dimension = (char *)groups[g].dimension;
            row->key = ccip_arena_strdup(a, groups[g].key);
            row->indicator = ccip_arena_strdup(a, ind->code);
            row->unit = ind->unit;
            list[i * ngroups + g] = row;
        }
    }
    /* Expected: entries of a kind that reports the indicator. */
    for (int r = 0; r < PQntuples(exp); r++) {
        Ccip__Stats__RosterKind kind = (Ccip__Stats__RosterKind)ccip_enum_value(
            &ccip__stats__roster_kind__descriptor, PQgetvalue(exp, r, 2));
        uint32_t count = (uint32_t)ccip_db_cell_i64(exp, r, 3);
        int gd = s_group_of(groups, &ngroups, "district", PQgetvalue(exp, r, 0));
        int gc = s_group_of(groups, &ngroups, "category", PQgetvalue(exp, r, 1));
        reply->expected += count;
        for (size_t i = 0; i < nind; i++) {
            if (!stats_catalogue_reported_by(stats_catalogue_at(cat, i), kind))
                continue;
            rows[i * ngroups].expected += count;
            if (gd >= 0)
                rows[i * ngroups + (size_t)gd].expected += count;
            if (gc >= 0)
                rows[i * ngroups + (size_t)gc].expected += count;
        }
    }
    /* The sums, rolled up into the total, the district and the category.
     * Values of indicators the version does not have are left out. */
    int overflow = 0;
    for (int r = 0; r < PQntuples(data); r++) {
        const char *code = PQgetvalue(data, r, A_CODE);
        size_t i = 0;
        while (i < nind && strcmp(stats_catalogue_at(cat, i)->code, code) != 0)
            i++;
        if (i == nind)
            continue;
        int g[3] = {0, s_group_of(groups, &ngroups, "district", PQgetvalue(data, r, A_DISTRICT)),
                    s_group_of(groups, &ngroups, "category", PQgetvalue(data, r, A_CATEGORY))};
        for (int d = 0; d < 3; d++) {
            if (g[d] < 0)
                continue;
            size_t k = i * ngroups + (size_t)g[d];
            overflow |= __builtin_add_overflow(rows[k].value, ccip_db_cell_i64(data, r, A_VALUE),
                                               &rows[k].value);
            overflow |= __builtin_add_overflow(qoq_cur[k], ccip_db_cell_i64(data, r, A_QOQ_CUR),
                                               &qoq_cur[k]);
            overflow |= __builtin_add_overflow(qoq_base[k], ccip_db_cell_i64(data, r, A_QOQ_BASE),
                                               &qoq_base[k]);
            overflow |= __builtin_add_overflow(yoy_cur[k], ccip_db_cell_i64(data, r, A_YOY_CUR),
                                               &yoy_cur[k]);
            overflow |= __builtin_add_overflow(yoy_base[k], ccip_db_cell_i64(data, r, A_YOY_BASE),
                                               &yoy_base[k]);
            rows[k].reporting += (uint32_t)ccip_db_cell_i64(data, r, A_REPORTING);
            rows[k].qoq_panel += (uint32_t)ccip_db_cell_i64(data, r, A_QOQ_PANEL);
            rows[k].yoy_panel += (uint32_t)ccip_db_cell_i64(data, r, A_YOY_PANEL);
        }
    }
    if (overflow) {
        free(qoq_cur);
        free(qoq_base);
        free(yoy_cur);
        free(yoy_base);
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__INTERNAL,
            "a sum of %s is beyond what 64 bits hold; the analysis cannot show it", quarter);
        goto out;
    }
    for (size_t k = 0; k < nrows; k++) {
        Ccip__Stats__AnalysisRow *row = &rows[k];
        row->complete = row->expected > 0 && row->reporting >= row->expected;
        row->mean = stats_mean(row->value, row->reporting);
        int64_t bp;
        if (row->qoq_panel > 0 && stats_growth_bp(qoq_base[k], qoq_cur[k], &bp) == 0) {
            row->has_qoq = 1;
            row->qoq_bp = bp;
        }
        if (row->yoy_panel > 0 && stats_growth_bp(yoy_base[k], yoy_cur[k], &bp) == 0) {
            row->has_yoy = 1;
            row->yoy_bp = bp;
        }
    }
    /* Ranks of districts, and of categories, within each indicator. */
    int64_t *values = calloc(ngroups + 1, sizeof *values);
    int *eligible = calloc(ngroups + 1, sizeof *eligible);
    uint32_t *ranks = calloc(ngroups + 1, sizeof *ranks);
    for (size_t i = 0; values && eligible && ranks && i < nind; i++) {
        for (int dim = 0; dim < 2; dim++) {
            const char *name = dim ? "category" : "district";
            for (size_t g = 0; g < ngroups; g++) {
                const Ccip__Stats__AnalysisRow *row = &rows[i * ngroups + g];
                values[g] = row->value;
                eligible[g] = strcmp(groups[g].dimension, name) == 0 && row->reporting > 0;
            }
            stats_rank(values, eligible, ngroups, ranks);
            for (size_t g = 0; g < ngroups; g++)
                if (eligible[g])
                    rows[i * ngroups + g].rank = ranks[g];
        }
    }
    free(values);
    free(eligible);
    free(ranks);
    free(qoq_cur);
    free(qoq_base);
    free(yoy_cur);
    free(yoy_base);
    reply->rows = list;
    reply->n_rows = nrows;
    reply->complete = reply->expected > 0 && reply->accepted >= reply->expected;
    if (ccip_arena_failed(a)) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        goto out;
    }
    *out = reply;
out:
    free(groups);
    PQclear(data);
    PQclear(exp);
    PQclear(acc);
    stats_catalogue_destroy(&cat);
    return rc;
}

int stats_analysis_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__AnalysisRequest *rq = request;
    Ccip__Stats__AnalysisReply *reply = NULL;
    int rc = stats_analysis_build(cmd, rq->quarter, a, &reply);
    return rc ? rc : ccip_command_reply(cmd, &reply->base);
}
