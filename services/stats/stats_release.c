#include "stats_release.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_arena.h"
#include "ccip_id.h"
#include "ccip_text.h"
#include "stats_analysis.h"
#include "stats_completeness.h"
#include "stats_validation.h"

#define LICENCE_MAX 100
#define LIST_MAX    500
#define SEARCH_MAX  100
#define CHART_WIDTH 480 /* pixels of the longest bar */
#define CHART_BAR   18  /* pixels per bar */
#define CHART_LABEL 160 /* pixels for the labels */

/* Readable by this caller: the analyst role sees embargoed releases. */
#define VISIBLE "($2::boolean OR embargo_until <= now())"

static const ccip_db_stmt S_NEXT = {
    "stats_release_next", "SELECT coalesce(max(version), 0) + 1 FROM release WHERE quarter = $1"};
static const ccip_db_stmt S_INSERT = {
    "stats_release_insert",
    "INSERT INTO release (quarter, version, title, licence, embargo_until, change_note, summary, "
    "published_by) VALUES ($1, $2::integer, $3, $4, " CCIP_SQL_TS("$5") ", $6, $7, $8) "
                                                                        "RETURNING " CCIP_SQL_US(
                                                                            "published_at")};
static const ccip_db_stmt S_INSERT_FILE = {
    "stats_release_insert_file",
    "INSERT INTO release_file (quarter, version, name, media_type, content) "
    "VALUES ($1, $2::integer, $3, $4, $5)"};

#define RELEASE_COLUMNS                                                                            \
    "quarter, version, title, licence, " CCIP_SQL_US(                                              \
        "embargo_until") ", change_note, "                                                         \
                         "published_by, " CCIP_SQL_US("published_at") ", "                         \
                                                                      "summary"

static const ccip_db_stmt S_GET = {
    "stats_release_get",
    "SELECT " RELEASE_COLUMNS " FROM release WHERE quarter = $1 AND " VISIBLE
    " AND ($3::integer = 0 OR version = $3::integer) ORDER BY version DESC LIMIT 1"};
static const ccip_db_stmt S_FILES = {
    "stats_release_files",
    "SELECT name, media_type, content FROM release_file WHERE quarter = $1 AND version = "
    "$2::integer ORDER BY name"};
static const ccip_db_stmt S_LIST = {
    "stats_release_list",
    "SELECT " RELEASE_COLUMNS " FROM release WHERE ($1 = '' OR quarter = $1) AND " VISIBLE
    " AND ($3 = '' OR strpos(lower(title), lower($3)) > 0 OR strpos(lower(summary), lower($3)) > 0)"
    " ORDER BY quarter DESC, version DESC LIMIT 500"};

/* ---- text building ------------------------------------------------------------------ */

/* Text escaped for HTML and XML (SVG). */
static void s_add_xml(ccip_text *t, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            ccip_text_printf(t, "&lt;");
            break;
        case '>':
            ccip_text_printf(t, "&gt;");
            break;
        case '&':
            ccip_text_printf(t, "&amp;");
            break;
        case '"':
            ccip_text_printf(t, "&quot;");
            break;
        default:
            ccip_text_printf(t, "%c", *s);
        }
    }
}

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void s_add_csv(ccip_text *t, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        ccip_text_printf(t, "%s", s);
        return;
    }
    ccip_text_printf(t, "\"");
    for (; *s; s++)
        ccip_text_printf(t, *s == '"' ? "\"\"" : "%c", *s);
    ccip_text_printf(t, "\"");
}

static void s_add_json_str(ccip_text *t, const char *s)
{
    ccip_text_printf(t, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            ccip_text_printf(t, "\\%c", *p);
        else if (*p < 0x20)
            ccip_text_printf(t, "\\u%04x", *p);
        else
            ccip_text_printf(t, "%c", *p);
    }
    ccip_text_printf(t, "\"");
}

/* A value as people read it: "1234.56" yuan, "87.50" %, or a number. */
static void s_value_text(Ccip__Stats__Unit unit, int64_t v, char *buf, size_t len)
{
    if (unit == CCIP__STATS__UNIT__FEN || unit == CCIP__STATS__UNIT__PERCENT)
        ccip_fen_format(v, buf, len); /* hundredths either way */
    else
        snprintf(buf, len, "%" PRId64, v);
}

static const char *s_unit_label(Ccip__Stats__Unit unit)
{
    switch (unit) {
    case CCIP__STATS__UNIT__FEN:
        return "yuan";
    case CCIP__STATS__UNIT__PERCENT:
        return "%";
    case CCIP__STATS__UNIT__SQUARE_METRES:
        return "m2";
    default:
        return "";
    }
}

/* Growth as "+12.34 %" or "n/a". */
static void s_growth_text(int has, int64_t bp, char *buf, size_t len)
{
    if (!has) {
        snprintf(buf, len, "n/a");
        return;
    }
    char t[CCIP_FEN_STRLEN + 1];
    ccip_fen_format(bp, t, sizeof t);
    snprintf(buf, len, "%s%s %%", bp >= 0 ? "+" : "", t);
}

static const char *s_key_label(const Ccip__Stats__AnalysisRow *r)
{
    if (strcmp(r->dimension, "district") == 0) {
        const ccip_district *d = ccip_district_find(r->key);
        return d ? d->name_en : r->key;
    }
    if (strcmp(r->dimension, "total") == 0)
        return "all entries";
    return r->key[0] ? r->key : "uncategorised";
}

/* A row of dimension "total" (one per indicator) as people read it. */
typedef struct {
    const Ccip__Stats__AnalysisRow *row; /* the row */
    char value[40];                      /* its value with the unit's decimals */
    char qoq[40];                        /* growth on the previous quarter, or "n/a" */
    char yoy[40];                        /* growth on a year before, or "n/a" */
} s_total;

/* Finds the next total row of an at or after *i, for a loop over them:
 * fills *x and moves *i past it. Returns 1, or 0 when there is none. */
static int s_next_total(const Ccip__Stats__AnalysisReply *an, size_t *i, s_total *x)
{
    for (; *i < an->n_rows; (*i)++) {
        const Ccip__Stats__AnalysisRow *r = an->rows[*i];
        if (strcmp(r->dimension, "total") != 0)
            continue;
        x->row = r;
        s_value_text(r->unit, r->value, x->value, sizeof x->value);
        s_growth_text(r->has_qoq, r->qoq_bp, x->qoq, sizeof x->qoq);
        s_growth_text(r->has_yoy, r->yoy_bp, x->yoy, sizeof x->yoy);
        (*i)++;
        return 1;
    }
    return 0;
}

/* ---- the files --------------------------------------------------------------------- */

static void s_summary(ccip_text *t, const Ccip__Stats__AnalysisReply *an, const char *title)
{
    ccip_text_printf(t, "%s\n", title);
    ccip_text_printf(t, "%s: %u of %u expected reports accepted%s.\n", an->quarter, an->accepted,
                     an->expected,
                     an->complete ? "" : " - INCOMPLETE: totals cover only the accepted reports");
    s_total x;
    for (size_t i = 0; s_next_total(an, &i, &x);)
        ccip_text_printf(t, "%s: %s %s (%u of %u entries%s); on %s %s, on %s %s.\n",
                         x.row->indicator, x.value, s_unit_label(x.row->unit), x.row->reporting,
                         x.row->expected, x.row->complete ? "" : ", incomplete",
                         an->previous_quarter, x.qoq, an->year_ago_quarter, x.yoy);
}

static void s_csv(ccip_text *t, const Ccip__Stats__AnalysisReply *an, const char *dimension)
{
    ccip_text_printf(t,
                     "quarter,dimension,key,indicator,unit,value,reporting,expected,complete,mean,"
                     "qoq_bp,qoq_panel,yoy_bp,yoy_panel,rank\n");
    for (size_t i = 0; i < an->n_rows; i++) {
        const Ccip__Stats__AnalysisRow *r = an->rows[i];
        if (strcmp(r->dimension, dimension) != 0)
            continue;
        ccip_text_printf(t, "%s,%s,", an->quarter, r->dimension);
        s_add_csv(t, r->key);
        ccip_text_printf(t, ",%s,%s,%" PRId64 ",%u,%u,%s,%" PRId64 ",", r->indicator,
                         stats_unit_name(r->unit) ? stats_unit_name(r->unit) : "", r->value,
                         r->reporting, r->expected, r->complete ? "true" : "false", r->mean);
        if (r->has_qoq)
            ccip_text_printf(t, "%" PRId64, r->qoq_bp);
        ccip_text_printf(t, ",%u,", r->qoq_panel);
        if (r->has_yoy)
            ccip_text_printf(t, "%" PRId64, r->yoy_bp);
        ccip_text_printf(t, ",%u,%u\n", r->yoy_panel, r->rank);
    }
}

static void s_json(ccip_text *t, const Ccip__Stats__AnalysisReply *an, const char *title,
                   const char *licence, uint32_t version)
{
    ccip_text_printf(t, "{\"title\":");
    s_add_json_str(t, title);
    ccip_text_printf(t, ",\"licence\":");
    s_add_json_str(t, licence);
    ccip_text_printf(
        t,
        ",\"version\":%u,\"quarter\":\"%s\",\"previous_quarter\":\"%s\",\"year_ago_quarter\":"
        "\"%s\",\"catalogue_version\":%u,\"complete\":%s,\"expected\":%u,\"accepted\":%u,"
        "\"rows\":[",
        version, an->quarter, an->previous_quarter, an->year_ago_quarter, an->catalogue_version,
        an->complete ? "true" : "false", an->expected, an->accepted);
    for (size_t i = 0; i < an->n_rows; i++) {
        const Ccip__Stats__AnalysisRow *r = an->rows[i];
        ccip_text_printf(t, "%s{\"dimension\":\"%s\",\"key\":", i ? "," : "", r->dimension);
        s_add_json_str(t, r->key);
        ccip_text_printf(t,
                         ",\"indicator\":\"%s\",\"unit\":\"%s\",\"value\":%" PRId64
                         ",\"reporting\":%u,\"expected\":%u,\"complete\":%s,\"mean\":%" PRId64,
                         r->indicator, stats_unit_name(r->unit) ? stats_unit_name(r->unit) : "",
                         r->value, r->reporting, r->expected, r->complete ? "true" : "false",
                         r->mean);
        if (r->has_qoq)
            ccip_text_printf(t, ",\"qoq_bp\":%" PRId64, r->qoq_bp);
        else
            ccip_text_printf(t, ",\"qoq_bp\":null");
        if (r->has_yoy)
            ccip_text_printf(t, ",\"yoy_bp\":%" PRId64, r->yoy_bp);
        else
            ccip_text_printf(t, ",\"yoy_bp\":null");
        ccip_text_printf(t, ",\"qoq_panel\":%u,\"yoy_panel\":%u,\"rank\":%u}", r->qoq_panel,
                         r->yoy_panel, r->rank);
    }
    ccip_text_printf(t, "]}\n");
}

/* One SVG bar chart: an indicator's value per district. */
static void s_chart(ccip_text *t, const Ccip__Stats__AnalysisReply *an, const char *indicator)
{
    int64_t max = 0;
    size_t bars = 0;
    for (size_t i = 0; i < an->n_rows; i++) {
        const Ccip__Stats__AnalysisRow *r = an->rows[i];
        if (strcmp(r->dimension, "district") != 0 || strcmp(r->indicator, indicator) != 0)
            continue;
        bars++;
        if (r->value > max)
            max = r->value;
    }
    if (!bars)
        return;
    int height = (int)bars * CHART_BAR + 10;
    ccip_text_printf(
        t,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" "
        "aria-label=\"%s by district\">\n",
        CHART_LABEL + CHART_WIDTH + 120, height, indicator);
    int y = 5;
    for (size_t i = 0; i < an->n_rows; i++) {
        const Ccip__Stats__AnalysisRow *r = an->rows[i];
        if (strcmp(r->dimension, "district") != 0 || strcmp(r->indicator, indicator) != 0)
            continue;
        int64_t w = max > 0 && r->value > 0 ? (int64_t)((__int128)r->value * CHART_WIDTH / max) : 0;
        char v[40];
        s_value_text(r->unit, r->value, v, sizeof v);
        ccip_text_printf(t, "<text x=\"0\" y=\"%d\" font-size=\"12\">", y + 13);
        s_add_xml(t, s_key_label(r));
        ccip_text_printf(t,
                         "</text><rect x=\"%d\" y=\"%d\" width=\"%" PRId64
                         "\" height=\"%d\" fill=\"%s\"/><text x=\"%" PRId64
                         "\" y=\"%d\" font-size=\"12\">%s%s</text>\n",
                         CHART_LABEL, y, w, CHART_BAR - 4, r->complete ? "#3b6ea5" : "#b0b7c3",
                         CHART_LABEL + w + 4, y + 13, v, r->complete ? "" : " (incomplete)");
        y += CHART_BAR;
    }
    ccip_text_printf(t, "</svg>\n");
}

static void s_html(ccip_text *t, const Ccip__Stats__AnalysisReply *an, const char *title,
                   const char *licence, uint32_t version, const char *summary)
{
    ccip_text_printf(t, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
    s_add_xml(t, title);
    ccip_text_printf(t, "</title></head><body>\n<h1>");
    s_add_xml(t, title);
    ccip_text_printf(t, "</h1>\n<p>Quarter %s, version %u. Licence: ", an->quarter, version);
    s_add_xml(t, licence);
    ccip_text_printf(t, ".</p>\n<pre>");
    s_add_xml(t, summary);
    ccip_text_printf(t,
                     "</pre>\n<table border=\"1\"><tr><th>indicator</th><th>value</th><th>unit</th>"
                     "<th>reporting / expected</th><th>on %s</th><th>on %s</th></tr>\n",
                     an->previous_quarter, an->year_ago_quarter);
    s_total x;
    for (size_t i = 0; s_next_total(an, &i, &x);)
        ccip_text_printf(
            t,
            "<tr><td>%s</td><td>%s</td><td>%s</td><td>%u / %u%s</td><td>%s</td><td>%s</td>"
            "</tr>\n",
            x.row->indicator, x.value, s_unit_label(x.row->unit), x.row->reporting, x.row->expected,
            x.row->complete ? "" : " (incomplete)", x.qoq, x.yoy);
    ccip_text_printf(t, "</table>\n");
    for (size_t i = 0; s_next_total(an, &i, &x);) {
        ccip_text_printf(t, "<h2>%s by district</h2>\n", x.row->indicator);
        s_chart(t, an, x.row->indicator);
    }
    ccip_text_printf(t,
                     "<p>Grey bars: districts whose reports are not all accepted; their values are "
                     "partial.</p>\n</body></html>\n");
}

/* ---- stats.release.publish.v1 -------------------------------------------------------- */

#define RELEASE_FILES 6

/* The files of a release, in the order s_build_files makes them. */
static const char *const s_file_names[RELEASE_FILES] = {"summary.txt",   "bulletin.html",
                                                        "analysis.json", "totals.csv",
                                                        "districts.csv", "categories.csv"};
static const char *const s_file_types[RELEASE_FILES] = {
    "text/plain; charset=utf-8", "text/html; charset=utf-8", "application/json",
    "text/csv; charset=utf-8",   "text/csv; charset=utf-8",  "text/csv; charset=utf-8"};

/* Builds the files of release `version` from its analysis into files[]
 * (zeroed by the caller, who releases them): the summary first, which the
 * bulletin quotes. Returns 0, or -1 when memory ran out. */
static int s_build_files(ccip_text files[RELEASE_FILES], const Ccip__Stats__AnalysisReply *an,
                         const Ccip__Stats__PublishReleaseRequest *rq, uint32_t version)
{
    s_summary(&files[0], an, rq->title);
    s_html(&files[1], an, rq->title, rq->licence, version, files[0].p ? files[0].p : "");
    s_json(&files[2], an, rq->title, rq->licence, version);
    s_csv(&files[3], an, "total");
    s_csv(&files[4], an, "district");
    s_csv(&files[5], an, "category");
    for (int i = 0; i < RELEASE_FILES; i++)
        if (files[i].failed || !files[i].p)
            return -1;
    return 0;
}

/* Checks what people wrote and the embargo. Returns 0 or CCIP_REPLIED. */
static int s_check_publish(ccip_command *cmd, const Ccip__Stats__PublishReleaseRequest *rq)
{
    int rc = ccip_command_check_text(cmd, "title", rq->title, 1, STATS_NAME_MAX, 0);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "licence", rq->licence, 1, LICENCE_MAX, 0);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "change_note", rq->change_note, 0, STATS_REASON_MAX,
                                     CCIP_TEXT_MULTILINE);
    if (rc == 0 && rq->embargo_until_us < 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `embargo_until_us` must be a time (UTC microseconds) or 0 "
                               "for public at once, got %lld",
                               (long long)rq->embargo_until_us);
    return rc;
}

/* The next version of the quarter's release into *version; a correction
 * (version 2 on) needs a change note. Returns 0, CCIP_REPLIED or a
 * ccip_db_rc. */
static int s_next_version(ccip_command *cmd, const Ccip__Stats__PublishReleaseRequest *rq,
                          uint32_t *version)
{
    PGresult *res = NULL;
    const char *q = rq->quarter;
    int rc = ccip_db_exec(cmd->db, &S_NEXT, 1, &q, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    *version = (uint32_t)ccip_db_cell_i64(res, 0, 0);
    PQclear(res);
    if (*version > 1 && !rq->change_note[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "the release of %s has %u version(s) already: a correction needs "
                                 "a change note (field `change_note`) saying what changed",
                                 rq->quarter, *version - 1);
    return 0;
}

/* Writes release `version` and its files. Returns 0 with its time of
 * publication in *published_us, or a ccip_db_rc. */
static int s_insert(ccip_command *cmd, const Ccip__Stats__PublishReleaseRequest *rq,
                    uint32_t version, int64_t embargo, const ccip_text files[RELEASE_FILES],
                    int64_t *published_us)
{
    char v[16], until[24];
    snprintf(v, sizeof v, "%u", version);
    const char *p[] = {
        rq->quarter,     v,          rq->title,    rq->licence, ccip_i64_text(embargo, until),
        rq->change_note, files[0].p, cmd->actor.id};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_INSERT, 8, p, NULL, NULL, &res);
    if (rc != 0)
        return rc;
    *published_us = ccip_db_cell_i64(res, 0, 0);
    PQclear(res);
    for (int i = 0; rc == 0 && i < RELEASE_FILES; i++) {
        const char *f[] = {rq->quarter, v, s_file_names[i], s_file_types[i], files[i].p};
        rc = ccip_db_exec(cmd->db, &S_INSERT_FILE, 5, f, NULL, NULL, NULL);
    }
    return rc;
}

/* Emits stats.release.published.v1 (no content: the embargo may not have
 * passed) and replies with the release. Returns 0, CCIP_REPLIED or a
 * ccip_db_rc. */
static int s_announce(ccip_command *cmd, const Ccip__Stats__PublishReleaseRequest *rq,
                      uint32_t version, int64_t embargo, int64_t published, char *summary)
{
    Ccip__Stats__ReleasePublished ev = CCIP__STATS__RELEASE_PUBLISHED__INIT;
    ev.quarter = rq->quarter;
    ev.version = version;
    ev.title = rq->title;
    ev.licence = rq->licence;
    ev.embargo_until_us = embargo;
    ev.change_note = rq->change_note;
    char agg[24];
    snprintf(agg, sizeof agg, "%s/%u", rq->quarter, version);
    int rc = ccip_command_emit(cmd, "stats.release.published.v1", "release", agg, &ev.base);
    if (rc != 0)
        return rc;
    Ccip__Stats__Release rel = CCIP__STATS__RELEASE__INIT;
    rel.quarter = rq->quarter;
    rel.version = version;
    rel.title = rq->title;
    rel.licence = rq->licence;
    rel.embargo_until_us = embargo;
    rel.change_note = rq->change_note;
    rel.published_by = (char *)cmd->actor.id;
    rel.published_at_us = published;
    rel.summary = summary;
    Ccip__Stats__ReleaseReply reply = CCIP__STATS__RELEASE_REPLY__INIT;
    reply.release = &rel;
    return ccip_command_reply(cmd, &reply.base);
}

int stats_release_publish_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__PublishReleaseRequest *rq = request;
    int64_t embargo = rq->embargo_until_us ? rq->embargo_until_us : ccip_now_us();
    Ccip__Stats__AnalysisReply *an = NULL;
    uint32_t version = 0;
    int rc = s_check_publish(cmd, rq);
    if (rc == 0)
        rc = stats_analysis_build(cmd, rq->quarter, a, &an);
    if (rc == 0)
        rc = s_next_version(cmd, rq, &version);
    if (rc != 0)
        return rc;
    ccip_text files[RELEASE_FILES];
    memset(files, 0, sizeof files);
    int64_t published = 0;
    if (s_build_files(files, an, rq, version) < 0)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory building the release");
    if (rc == 0)
        rc = s_insert(cmd, rq, version, embargo, files, &published);
    if (rc == 0)
        rc = s_announce(cmd, rq, version, embargo, published, files[0].p);
    for (int i = 0; i < RELEASE_FILES; i++)
        ccip_text_release(&files[i]);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------------ */

static Ccip__Stats__Release *s_release(const PGresult *res, int r, ccip_arena *a)
{
    Ccip__Stats__Release *m = ccip_arena_alloc(a, sizeof *m);
    if (!m)
        return NULL;
    *m = (Ccip__Stats__Release)CCIP__STATS__RELEASE__INIT;
    m->quarter = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
    m->version = (uint32_t)ccip_db_cell_i64(res, r, 1);
    m->title = ccip_arena_strdup(a, PQgetvalue(res, r, 2));
    m->licence = ccip_arena_strdup(a, PQgetvalue(res, r, 3));
    m->embargo_until_us = ccip_db_cell_i64(res, r, 4);
    m->change_note = ccip_arena_strdup(a, PQgetvalue(res, r, 5));
    m->published_by = ccip_arena_strdup(a, PQgetvalue(res, r, 6));
    m->published_at_us = ccip_db_cell_i64(res, r, 7);
    m->summary = ccip_arena_strdup(a, PQgetvalue(res, r, 8));
    return m;
}

static const char *s_sees_embargoed(const ccip_command *cmd)
{
    return strcmp(cmd->actor.role, "analyst") == 0 ? "true" : "false";
}

/* Adds the files of release m, of `quarter`, to it; the strings stay in
 * *files (the caller clears it after the reply is packed). Returns 0 or a
 * ccip_db_rc; the arena says whether memory ran out. */
static int s_add_files(ccip_command *cmd, ccip_arena *a, const char *quarter,
                       Ccip__Stats__Release *m, PGresult **files)
{
    char v[16];
    snprintf(v, sizeof v, "%u", m->version);
    const char *fp[] = {quarter, v};
    int rc = ccip_db_exec(cmd->db, &S_FILES, 2, fp, NULL, NULL, files);
    if (rc != 0)
        return rc;
    int n = PQntuples(*files);
    m->files = ccip_arena_alloc(a, (size_t)n * sizeof *m->files);
    for (int r = 0; m->files && r < n; r++) {
        Ccip__Stats__ReleaseFile *f = ccip_arena_alloc(a, sizeof *f);
        if (!f)
            break;
        *f = (Ccip__Stats__ReleaseFile)CCIP__STATS__RELEASE_FILE__INIT;
        f->name = PQgetvalue(*files, r, 0);
        f->media_type = PQgetvalue(*files, r, 1);
        f->content = PQgetvalue(*files, r, 2);
        m->files[m->n_files++] = f;
    }
    return 0;
}

int stats_release_get_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__GetReleaseRequest *rq = request;
    stats_quarter q;
    int rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q);
    if (rc == 0 && rq->version > 100000)
        rc = ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                               "field `version` must be a release version, got %u", rq->version);
    if (rc != 0)
        return rc;
    char v[16];
    snprintf(v, sizeof v, "%u", rq->version);
    const char *p[] = {rq->quarter, s_sees_embargoed(cmd), v};
    PGresult *res = NULL, *files = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_GET, 3, p, NULL, NULL, &res)) != 0)
        return rc;
    Ccip__Stats__ReleaseReply reply = CCIP__STATS__RELEASE_REPLY__INIT;
    if (PQntuples(res) != 1) {
        /* The same answer whether it does not exist or is under embargo. */
        if (rq->version)
            rc = ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                   "there is no release %s version %u", rq->quarter, rq->version);
        else
            rc = ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no release of %s",
                                   rq->quarter);
    } else if (!(reply.release = s_release(res, 0, a))) {
        rc = ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    } else if ((rc = s_add_files(cmd, a, rq->quarter, reply.release, &files)) == 0) {
        rc = stats_reply_built(cmd, a, &reply.base, "out of memory");
    }
    PQclear(res);
    PQclear(files);
    return rc;
}

int stats_release_list_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Stats__ListReleasesRequest *rq = request;
    stats_quarter q;
    int rc = 0;
    if (rq->quarter[0])
        rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q);
    if (rc == 0)
        rc = ccip_command_check_text(cmd, "search", rq->search, 0, SEARCH_MAX, 0);
    if (rc != 0)
        return rc;
    const char *p[] = {rq->quarter, s_sees_embargoed(cmd), rq->search};
    PGresult *res = NULL;
    if ((rc = ccip_db_exec(cmd->db, &S_LIST, 3, p, NULL, NULL, &res)) != 0)
        return rc;
    Ccip__Stats__ListReleasesReply reply = CCIP__STATS__LIST_RELEASES_REPLY__INIT;
    int n = PQntuples(res);
    reply.releases = ccip_arena_alloc(a, (size_t)n * sizeof *reply.releases);
    for (int r = 0; reply.releases && r < n && r < LIST_MAX; r++) {
        Ccip__Stats__Release *m = s_release(res, r, a);
        if (!m)
            break;
        reply.releases[reply.n_releases++] = m;
    }
    PQclear(res);
    return stats_reply_built(cmd, a, &reply.base, "out of memory");
}
