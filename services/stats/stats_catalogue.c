#include "stats_catalogue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_arena.h"

#define INDICATORS_MAX   200 /* indicators one version may hold */
#define RULES_MAX        100 /* rules one version may hold */
#define RULE_MESSAGE_MAX 500 /* characters of a rule's message */

struct stats_catalogue {
    int version;                    /* its number */
    char effective_from[8];         /* first quarter collected with it */
    const char *note;               /* what changed */
    const char *published_by;       /* actor id */
    int64_t published_at_us;        /* when */
    ccip_arena *arena;              /* every string and array below */
    stats_catalogue_indicator *ind; /* indicators in catalogue order */
    size_t n;                       /* number of indicators */
    stats_rule_def *rules;          /* rules in catalogue order */
    size_t nrules;                  /* number of rules */
};

static const ccip_db_stmt S_VERSION_FOR = {
    "stats_catalogue_version_for",
    "SELECT version FROM catalogue_version WHERE effective_from <= $1 "
    "ORDER BY effective_from DESC LIMIT 1 FOR SHARE"};

static const ccip_db_stmt S_VERSION = {
    "stats_catalogue_version",
    "SELECT version, effective_from, note, published_by, " CCIP_SQL_US(
        "published_at") " FROM catalogue_version WHERE version = $1::integer"};

static const ccip_db_stmt S_INDICATORS = {
    "stats_catalogue_indicators",
    "SELECT code, name, description, unit, array_to_string(kinds, ','), compulsory, "
    "allow_negative FROM indicator WHERE version = $1::integer ORDER BY ordinal, code"};

static const ccip_db_stmt S_RULES = {
    "stats_catalogue_rules",
    "SELECT id, left_code, op, right_code, importance, message FROM validation_rule "
    "WHERE version = $1::integer ORDER BY ordinal, id"};

static const ccip_db_stmt S_VERSIONS = {"stats_catalogue_versions",
                                        "SELECT version FROM catalogue_version ORDER BY version"};

static const ccip_db_stmt S_LATEST = {
    "stats_catalogue_latest",
    "SELECT coalesce(max(version), 0), coalesce(max(effective_from), '') FROM catalogue_version"};

static const ccip_db_stmt S_REPORTED_FROM = {
    "stats_catalogue_reported_from",
    "SELECT quarter FROM report WHERE quarter >= $1 ORDER BY quarter DESC LIMIT 1"};

static const ccip_db_stmt S_INSERT_VERSION = {
    "stats_catalogue_insert_version",
    "INSERT INTO catalogue_version (version, effective_from, note, published_by) "
    "VALUES ($1::integer, $2, $3, $4)"};

static const ccip_db_stmt S_INSERT_INDICATOR = {
    "stats_catalogue_insert_indicator",
    "INSERT INTO indicator (version, code, name, unit, kinds, compulsory, allow_negative, "
    "description, ordinal) VALUES ($1::integer, $2, $3, $4, string_to_array($5, ','), "
    "$6::boolean, $7::boolean, $8, $9::integer)"};

static const ccip_db_stmt S_INSERT_RULE = {
    "stats_catalogue_insert_rule",
    "INSERT INTO validation_rule (version, id, left_code, op, right_code, importance, message, "
    "ordinal) VALUES ($1::integer, $2, $3, $4, $5, $6, $7, $8::integer)"};

/* ---- loading ---------------------------------------------------------------- */

int stats_catalogue_version_for(ccip_db *db, const char *quarter, int *version)
{
    *version = 0;
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_VERSION_FOR, 1, &quarter, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    if (PQntuples(res) == 1)
        *version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

static unsigned s_kinds(const char *list)
{
    unsigned k = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int v = ccip_enum_value(&ccip__stats__roster_kind__descriptor, t);
        if (v > 0 && v < 32)
            k |= 1u << v;
    }
    return k;
}

int stats_catalogue_load(ccip_db *db, int version, stats_catalogue **out)
{
    *out = NULL;
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *values[] = {v};
    PGresult *head = NULL, *ind = NULL, *rules = NULL;
    int rc = ccip_db_exec(db, &S_VERSION, 1, values, NULL, NULL, &head);
    if (rc == CCIP_DB_OK && PQntuples(head) == 1)
        rc = ccip_db_exec(db, &S_INDICATORS, 1, values, NULL, NULL, &ind);
    if (rc == CCIP_DB_OK && ind)
        rc = ccip_db_exec(db, &S_RULES, 1, values, NULL, NULL, &rules);
    if (rc != CCIP_DB_OK || !rules) {
        PQclear(head);
        PQclear(ind);
        return rc;
    }
    stats_catalogue *c = calloc(1, sizeof *c);
    ccip_arena *a = c ? ccip_arena_new() : NULL;
    if (!a) {
        free(c);
        PQclear(head);
        PQclear(ind);
        PQclear(rules);
        return CCIP_DB_ERROR;
    }
    c->arena = a;
    c->version = version;
    snprintf(c->effective_from, sizeof c->effective_from, "%s", PQgetvalue(head, 0, 1));
    c->note = ccip_arena_strdup(a, PQgetvalue(head, 0, 2));
    c->published_by = ccip_arena_strdup(a, PQgetvalue(head, 0, 3));
    c->published_at_us = ccip_db_cell_i64(head, 0, 4);
    int n = PQntuples(ind);
    c->ind = ccip_arena_alloc(a, (size_t)n * sizeof *c->ind);
    for (int r = 0; c->ind && r < n; r++) {
        stats_catalogue_indicator *i = &c->ind[c->n++];
        i->code = ccip_arena_strdup(a, PQgetvalue(ind, r, 0));
        i->name = ccip_arena_strdup(a, PQgetvalue(ind, r, 1));
        i->description = ccip_arena_strdup(a, PQgetvalue(ind, r, 2));
        i->unit = (Ccip__Stats__Unit)ccip_enum_value(&ccip__stats__unit__descriptor,
                                                     PQgetvalue(ind, r, 3));
        i->kinds = s_kinds(PQgetvalue(ind, r, 4));
        i->compulsory = ccip_db_cell_bool(ind, r, 5);
        i->allow_negative = ccip_db_cell_bool(ind, r, 6);
    }
    n = PQntuples(rules);
    c->rules = ccip_arena_alloc(a, (size_t)n * sizeof *c->rules);
    for (int r = 0; c->rules && r < n; r++) {
        stats_rule_def *d = &c->rules[c->nrules++];
        d->id = ccip_arena_strdup(a, PQgetvalue(rules, r, 0));
        d->left = ccip_arena_strdup(a, PQgetvalue(rules, r, 1));
        d->op = (Ccip__Stats__CompareOp)ccip_enum_value(&ccip__stats__compare_op__descriptor,
                                                        PQgetvalue(rules, r, 2));
        d->right = ccip_arena_strdup(a, PQgetvalue(rules, r, 3));
        d->importance = (Ccip__Stats__Importance)ccip_enum_value(
            &ccip__stats__importance__descriptor, PQgetvalue(rules, r, 4));
        d->message = ccip_arena_strdup(a, PQgetvalue(rules, r, 5));
    }
    PQclear(head);
    PQclear(ind);
    PQclear(rules);
    if (ccip_arena_failed(a)) {
        stats_catalogue_destroy(&c);
        return CCIP_DB_ERROR;
    }
    *out = c;
    return 0;
}

void stats_catalogue_destroy(stats_catalogue **c)
{
    if (!c || !*c)
        return;
    ccip_arena_destroy(&(*c)->arena);
    free(*c);
    *c = NULL;
}

int stats_catalogue_version(const stats_catalogue *c)
{
    return c->version;
}

size_t stats_catalogue_count(const stats_catalogue *c)
{
    return c->n;
}

const stats_catalogue_indicator *stats_catalogue_at(const stats_catalogue *c, size_t i)
{
    return i < c->n ? &c->ind[i] : NULL;
}

const stats_catalogue_indicator *stats_catalogue_find(const stats_catalogue *c, const char *code)
{
    for (size_t i = 0; code && i < c->n; i++)
        if (strcmp(c->ind[i].code, code) == 0)
            return &c->ind[i];
    return NULL;
}

int stats_catalogue_reported_by(const stats_catalogue_indicator *i, Ccip__Stats__RosterKind kind)
{
    return kind > 0 && kind < 32 && (i->kinds & (1u << kind)) != 0;
}

size_t stats_catalogue_defs(const stats_catalogue *c, Ccip__Stats__RosterKind kind,
                            stats_indicator_def *out)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++) {
        const stats_catalogue_indicator *ind = &c->ind[i];
        if (!stats_catalogue_reported_by(ind, kind))
            continue;
        out[n].code = ind->code;
        out[n].name = ind->name;
        out[n].unit = ind->unit;
        out[n].compulsory = ind->compulsory;
        out[n].allow_negative = ind->allow_negative;
        n++;
    }
    return n;
}

const stats_rule_def *stats_catalogue_rules(const stats_catalogue *c, size_t *n)
{
    *n = c->nrules;
    return c->rules;
}

/* ---- stats.catalogue.get.v1 ------------------------------------------------------ */

/* Builds the reply's catalogue from c, in arena a (strings borrowed from c,
 * which must outlive the reply's packing). */
static Ccip__Stats__Catalogue *s_message(const stats_catalogue *c, ccip_arena *a)
{
    Ccip__Stats__Catalogue *m = ccip_arena_alloc(a, sizeof *m);
    if (!m)
        return NULL;
    *m = (Ccip__Stats__Catalogue)CCIP__STATS__CATALOGUE__INIT;
    m->version = (uint32_t)c->version;
    m->effective_from = (char *)c->effective_from;
    m->note = (char *)c->note;
    m->published_by = (char *)c->published_by;
    m->published_at_us = c->published_at_us;
    m->indicators = ccip_arena_alloc(a, c->n * sizeof *m->indicators);
    for (size_t i = 0; m->indicators && i < c->n; i++) {
        const stats_catalogue_indicator *src = &c->ind[i];
        Ccip__Stats__Indicator *d = ccip_arena_alloc(a, sizeof *d);
        Ccip__Stats__RosterKind *kinds = ccip_arena_alloc(a, 2 * sizeof *kinds);
        if (!d || !kinds)
            return NULL;
        *d = (Ccip__Stats__Indicator)CCIP__STATS__INDICATOR__INIT;
        d->code = (char *)src->code;
        d->name = (char *)src->name;
        d->description = (char *)src->description;
        d->unit = src->unit;
        d->compulsory = src->compulsory;
        d->allow_negative = src->allow_negative;
        d->kinds = kinds;
        if (stats_catalogue_reported_by(src, CCIP__STATS__ROSTER_KIND__CLUSTER))
            kinds[d->n_kinds++] = CCIP__STATS__ROSTER_KIND__CLUSTER;
        if (stats_catalogue_reported_by(src, CCIP__STATS__ROSTER_KIND__TALENT_BASE))
            kinds[d->n_kinds++] = CCIP__STATS__ROSTER_KIND__TALENT_BASE;
        m->indicators[m->n_indicators++] = d;
    }
    m->rules = ccip_arena_alloc(a, c->nrules * sizeof *m->rules);
    for (size_t i = 0; m->rules && i < c->nrules; i++) {
        const stats_rule_def *src = &c->rules[i];
        Ccip__Stats__Rule *d = ccip_arena_alloc(a, sizeof *d);
        if (!d)
            return NULL;
        *d = (Ccip__Stats__Rule)CCIP__STATS__RULE__INIT;
        d->id = (char *)src->id;
        d->left = (char *)src->left;
        d->op = src->op;
        d->right = (char *)src->right;
        d->importance = src->importance;
        d->message = (char *)src->message;
        m->rules[m->n_rules++] = d;
    }
    return m;
}

/* Replies with version `version` and the list of versions. */
static int s_reply_version(ccip_command *cmd, int version)
{
    stats_catalogue *c = NULL;
    int rc = stats_catalogue_load(cmd->db, version, &c);
    if (rc != 0)
        return rc;
    if (!c)
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no catalogue version %d",
                                 version);
    PGresult *res = NULL;
    rc = ccip_db_exec(cmd->db, &S_VERSIONS, 0, NULL, NULL, NULL, &res);
    if (rc != CCIP_DB_OK) {
        stats_catalogue_destroy(&c);
        return rc;
    }
    ccip_arena *a = ccip_arena_new();
    Ccip__Stats__CatalogueReply reply = CCIP__STATS__CATALOGUE_REPLY__INIT;
    reply.catalogue = s_message(c, a);
    int n = PQntuples(res);
    reply.versions = ccip_arena_alloc(a, (size_t)n * sizeof *reply.versions);
    for (int r = 0; reply.versions && r < n; r++)
        reply.versions[reply.n_versions++] = (uint32_t)atoi(PQgetvalue(res, r, 0));
    PQclear(res);
    /* s_message gives NULL only when the arena failed. */
    rc = stats_reply_built(cmd, a, &reply.base, "out of memory building the catalogue");
    ccip_arena_destroy(&a);
    stats_catalogue_destroy(&c);
    return rc;
}

int stats_catalogue_get_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__GetCatalogueRequest *rq = request;
    int rc = 0, version = (int)rq->version;
    if (rq->version > 1000000) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `version` must be a catalogue version number, got %u",
                               rq->version);
    } else if (!version && rq->quarter[0]) {
        stats_quarter q;
        if ((rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q)) == 0 &&
            (rc = stats_catalogue_version_for(cmd->db, rq->quarter, &version)) == 0 && !version)
            rc = ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                   "no catalogue version applies to %s yet", rq->quarter);
    } else if (!version) {
        PGresult *res = NULL;
        if ((rc = ccip_db_exec(cmd->db, &S_LATEST, 0, NULL, NULL, NULL, &res)) == CCIP_DB_OK) {
            version = atoi(PQgetvalue(res, 0, 0));
            PQclear(res);
        }
    }
    if (rc == 0)
        rc = s_reply_version(cmd, version);
    return rc;
}

/* ---- stats.catalogue.publish.v1 --------------------------------------------------- */

static int s_check_indicators(ccip_command *cmd, const Ccip__Stats__PublishCatalogueRequest *rq)
{
    if (rq->n_indicators < 1 || rq->n_indicators > INDICATORS_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `indicators` must list 1 to %d indicators, got %zu",
                                 INDICATORS_MAX, rq->n_indicators);
    for (size_t i = 0; i < rq->n_indicators; i++) {
        const Ccip__Stats__Indicator *ind = rq->indicators[i];
        char field[64];
        snprintf(field, sizeof field, "indicators[%zu].code", i);
        int rc = stats_code_arg(cmd, field, ind->code, "");
        if (rc != 0)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(rq->indicators[j]->code, ind->code) == 0)
                return ccip_command_fail(
                    cmd, CCIP__STATUS__INVALID_ARGUMENT,
                    "indicator `%s` is listed twice (indicators[%zu] and [%zu])", ind->code, j, i);
        snprintf(field, sizeof field, "indicators[%zu].name", i);
        rc = ccip_command_check_text(cmd, field, ind->name, 1, STATS_NAME_MAX, 0);
        if (rc == 0) {
            snprintf(field, sizeof field, "indicators[%zu].description", i);
            rc = ccip_command_check_text(cmd, field, ind->description, 0, STATS_REASON_MAX,
                                         CCIP_TEXT_MULTILINE);
        }
        if (rc != 0)
            return rc;
        if (!stats_unit_name(ind->unit))
            return ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "indicator `%s` needs a unit: COUNT, FEN, SQUARE_METRES or PERCENT", ind->code);
        if (ind->n_kinds < 1)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "indicator `%s` must name the roster kinds that report it "
                                     "(CLUSTER, TALENT_BASE)",
                                     ind->code);
        for (size_t k = 0; k < ind->n_kinds; k++)
            if (ind->kinds[k] != CCIP__STATS__ROSTER_KIND__CLUSTER &&
                ind->kinds[k] != CCIP__STATS__ROSTER_KIND__TALENT_BASE)
                return ccip_command_fail(
                    cmd, CCIP__STATUS__INVALID_ARGUMENT,
                    "indicator `%s` names an unknown roster kind %d; use CLUSTER "
                    "or TALENT_BASE",
                    ind->code, (int)ind->kinds[k]);
        if (ind->allow_negative && ind->unit != CCIP__STATS__UNIT__FEN)
            return ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "indicator `%s` is in %s and cannot allow negative values; only "
                "amounts of money (FEN) can be negative",
                ind->code, stats_unit_name(ind->unit));
    }
    return 0;
}

static const Ccip__Stats__Indicator *s_req_indicator(const Ccip__Stats__PublishCatalogueRequest *rq,
                                                     const char *code)
{
    for (size_t i = 0; i < rq->n_indicators; i++)
        if (strcmp(rq->indicators[i]->code, code) == 0)
            return rq->indicators[i];
    return NULL;
}

static int s_check_rules(ccip_command *cmd, const Ccip__Stats__PublishCatalogueRequest *rq)
{
    if (rq->n_rules > RULES_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `rules` may list at most %d rules, got %zu", RULES_MAX,
                                 rq->n_rules);
    for (size_t i = 0; i < rq->n_rules; i++) {
        const Ccip__Stats__Rule *r = rq->rules[i];
        char field[64];
        snprintf(field, sizeof field, "rules[%zu].id", i);
        int rc = stats_code_arg(cmd, field, r->id, "");
        if (rc != 0)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(rq->rules[j]->id, r->id) == 0)
                return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                         "rule `%s` is listed twice", r->id);
        const Ccip__Stats__Indicator *l = s_req_indicator(rq, r->left);
        const Ccip__Stats__Indicator *rt = s_req_indicator(rq, r->right);
        if (!l || !rt)
            return ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "rule `%s` compares `%.48s` with `%.48s`, but `%.48s` is not an "
                "indicator of this version",
                r->id, r->left, r->right, l ? r->right : r->left);
        if (l->unit != rt->unit)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "rule `%s` compares `%s` (%s) with `%s` (%s); both sides must "
                                     "have the same unit",
                                     r->id, l->code, stats_unit_name(l->unit), rt->code,
                                     stats_unit_name(rt->unit));
        if (r->op != CCIP__STATS__COMPARE_OP__LESS_OR_EQUAL &&
            r->op != CCIP__STATS__COMPARE_OP__GREATER_OR_EQUAL)
            return ccip_command_fail(
                cmd, CCIP__STATUS__INVALID_ARGUMENT,
                "rule `%s` needs an operator: LESS_OR_EQUAL or GREATER_OR_EQUAL", r->id);
        if (r->importance != CCIP__STATS__IMPORTANCE__ERROR &&
            r->importance != CCIP__STATS__IMPORTANCE__WARNING)
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "rule `%s` needs an importance: ERROR or WARNING", r->id);
        snprintf(field, sizeof field, "rules[%zu].message", i);
        if ((rc = ccip_command_check_text(cmd, field, r->message, 1, RULE_MESSAGE_MAX, 0)) != 0)
            return rc;
    }
    return 0;
}

static int s_insert(ccip_command *cmd, const Ccip__Stats__PublishCatalogueRequest *rq, int version)
{
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *head[] = {v, rq->effective_from, rq->note, cmd->actor.id};
    int rc = ccip_db_exec(cmd->db, &S_INSERT_VERSION, 4, head, NULL, NULL, NULL);
    for (size_t i = 0; rc == CCIP_DB_OK && i < rq->n_indicators; i++) {
        const Ccip__Stats__Indicator *ind = rq->indicators[i];
        char kinds[64] = "", ordinal[24];
        for (size_t k = 0; k < ind->n_kinds; k++) {
            const char *name =
                ccip_enum_name(&ccip__stats__roster_kind__descriptor, (int)ind->kinds[k]);
            if (strstr(kinds, name))
                continue;
            size_t n = strlen(kinds);
            snprintf(kinds + n, sizeof kinds - n, "%s%s", n ? "," : "", name);
        }
        snprintf(ordinal, sizeof ordinal, "%zu", i + 1);
        const char *values[] = {v,
                                ind->code,
                                ind->name,
                                stats_unit_name(ind->unit),
                                kinds,
                                ind->compulsory ? "true" : "false",
                                ind->allow_negative ? "true" : "false",
                                ind->description,
                                ordinal};
        rc = ccip_db_exec(cmd->db, &S_INSERT_INDICATOR, 9, values, NULL, NULL, NULL);
    }
    for (size_t i = 0; rc == CCIP_DB_OK && i < rq->n_rules; i++) {
        const Ccip__Stats__Rule *r = rq->rules[i];
        char ordinal[24];
        snprintf(ordinal, sizeof ordinal, "%zu", i + 1);
        const char *values[] = {
            v,          r->id,
            r->left,    ccip_enum_name(&ccip__stats__compare_op__descriptor, (int)r->op),
            r->right,   ccip_enum_name(&ccip__stats__importance__descriptor, (int)r->importance),
            r->message, ordinal};
        rc = ccip_db_exec(cmd->db, &S_INSERT_RULE, 8, values, NULL, NULL, NULL);
    }
    return rc;
}

int stats_catalogue_publish_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__PublishCatalogueRequest *rq = request;
    stats_quarter q;
    PGresult *res = NULL;
    int rc = stats_quarter_arg(cmd, "effective_from", rq->effective_from, &q);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "note", rq->note, 1, STATS_REASON_MAX,
                                     CCIP_TEXT_MULTILINE);
    if (rc == 0)
        rc = s_check_indicators(cmd, rq);
    if (rc == 0)
        rc = s_check_rules(cmd, rq);
    /* One publication at a time, and none while a report is being created
     * against the version in force (it holds FOR SHARE on that row). */
    if (rc == 0)
        rc = ccip_db_command(cmd->db, "LOCK TABLE catalogue_version IN EXCLUSIVE MODE");
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_LATEST, 0, NULL, NULL, NULL, &res);
    if (rc != 0)
        goto out;
    int version = atoi(PQgetvalue(res, 0, 0)) + 1;
    char latest[16];
    snprintf(latest, sizeof latest, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    res = NULL;
    if (strcmp(rq->effective_from, latest) <= 0) {
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "catalogue version %d takes effect from %s already; a new version must "
            "take effect from a later quarter, got %s",
            version - 1, latest, rq->effective_from);
        goto out;
    }
    const char *from = rq->effective_from;
    if ((rc = ccip_db_exec(cmd->db, &S_REPORTED_FROM, 1, &from, NULL, NULL, &res)) != 0)
        goto out;
    if (PQntuples(res) == 1) {
        char last[16], next[16];
        snprintf(last, sizeof last, "%s", PQgetvalue(res, 0, 0));
        stats_quarter lq;
        stats_quarter_parse("quarter", last, &lq, NULL, 0);
        stats_quarter_format(stats_quarter_add(lq, 1), next, sizeof next);
        rc = ccip_command_fail(
            cmd, CCIP__STATUS__FAILED_PRECONDITION,
            "reports for %s are collected with the catalogue in force already; a new "
            "version can take effect from %s at the earliest, got %s",
            last, next, rq->effective_from);
        goto out;
    }
    if ((rc = s_insert(cmd, rq, version)) == 0)
        rc = s_reply_version(cmd, version);
out:
    PQclear(res);
    return rc;
}
