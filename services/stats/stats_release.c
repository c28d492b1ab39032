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
    "published_by) VALUES ($1, $2::integer, $3, $4, " STATS_SQL_TS("$5") ", $6, $7, $8) "
                                                                         "RETURNING " STATS_SQL_US(
                                                                             "published_at")};
static const ccip_db_stmt S_INSERT_FILE = {
    "stats_release_insert_file",
    "INSERT INTO release_file (quarter, version, name, media_type, content) "
    "VALUES ($1, $2::integer, $3, $4, $5)"};

#define RELEASE_COLUMNS                                                                            \
    "quarter, version, title, licence, " STATS_SQL_US(                                             \
        "embargo_until") ", change_note, "                                                         \
                         "published_by, " STATS_SQL_US("published_at") ", "                        \
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

/* ---- the files --------------------------------------------------------------------- */

static void s_summary(ccip_text *t, const Ccip__Stats__AnalysisReply *an, const char *title)
{
    ccip_text_printf(t, "%s\n", title);
    ccip_text_printf(t, "%s: %u of %u expected reports accepted%s.\n", an->quarter, an->accepted,
                     an->expected,
                     an->complete ? "" : " - INCOMPLETE: totals cover only the accepted reports");
    for (size_t i = 0; i < an->n_rows; i++) {
        const Ccip__Stats__AnalysisRow *r = an->rows[i];
        if (strcmp(r->dimension, "total") != 0)
            continue;
        char v[40], qoq[40], yoy[40];
        s_value_text(r->unit, r->value, v, sizeof v);
        s_growth_text(r->has_qoq, r->qoq_bp, qoq, sizeof qoq);
        s_growth_text(r->has_yoy, r->yoy_bp, yoy, sizeof yoy);
        ccip_text_printf(t, "%s: %s %s (%u of %u entries%s); on %s %s, on %s %s.\n", r->indicator,
                         v, s_unit_label(r->unit), r->reporting, r->expected,
                         r->complete ? "" : ", incomplete", an->previous_quarter, qoq,
                         an->year_ago_quarter, yoy);
    }
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
    for (size_t i = 0; i < an->n_rows; i++) {
        const Ccip__Stats__AnalysisRow *r = an->rows[i];
        if (strcmp(r->dimension, "total") != 0)
            continue;
        char v[40], qoq[40], yoy[40];
        s_value_text(r->unit, r->value, v, sizeof v);
        s_growth_text(r->has_qoq, r->qoq_bp, qoq, sizeof qoq);
        s_growth_text(r->has_yoy, r->yoy_bp, yoy, sizeof yoy);
        ccip_text_printf(
            t,
            "<tr><td>%s</td><td>%s</td><td>%s</td><td>%u / %u%s</td><td>%s</td><td>%s</td>"
            "</tr>\n",
            r->indicator, v, s_unit_label(r->unit), r->reporting, r->expected,
            r->complete ? "" : " (incomplete)", qoq, yoy);
    }
    ccip_text_printf(t, "</table>\n");
    for (size_t i = 0; i < an->n_rows; i++) {
        const Ccip__Stats__AnalysisRow *r = an->rows[i];
        if (strcmp(r->dimension, "total") != 0)
            continue;
        ccip_text_printf(t, "<h2>%s by district</h2>\n", r->indicator);
        s_chart(t, an, r->indicator);
    }
    ccip_text_printf(t,
                     "<p>Grey bars: districts whose reports are not all accepted; their values are "
                     "partial.</p>\n</body></html>\n");
}

/* ---- stats.release.publish.v1 -------------------------------------------------------- */

int stats_release_publish_cmd(ccip_command *cmd)
{
    Ccip__Stats__PublishReleaseRequest *rq = (Ccip__Stats__PublishReleaseRequest *)stats_unpack(
        cmd, &ccip__stats__publish_release_request__descriptor);
    if (!rq)
        return 0;
    ccip_arena *a = ccip_arena_new();
    Ccip__Stats__AnalysisReply *an = NULL;
    PGresult *res = NULL;
    ccip_text summary = CCIP_TEXT_INIT, files[6];
    memset(files, 0, sizeof files);
    int64_t now = ccip_now_us();
    int64_t embargo = rq->embargo_until_us ? rq->embargo_until_us : now;
    int rc = a ? 0 : stats_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    if (rc == 0)
        rc = stats_text_arg(cmd, "title", rq->title, 1, STATS_NAME_MAX, 0);
    if (rc == 0)
        rc = stats_text_arg(cmd, "licence", rq->licence, 1, LICENCE_MAX, 0);
    if (rc == 0)
        rc = stats_text_arg(cmd, "change_note", rq->change_note, 0, STATS_REASON_MAX, 1);
    if (rc == 0 && rq->embargo_until_us < 0)
        rc = stats_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                        "field `embargo_until_us` must be a time (UTC microseconds) or 0 for "
                        "public at once, got %lld",
                        (long long)rq->embargo_until_us);
    if (rc == 0)
        rc = stats_analysis_build(cmd, rq->quarter, a, &an);
    const char *q = rq->quarter;
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_NEXT, 1, &q, NULL, NULL, &res);
    if (rc != 0)
        goto out;
    uint32_t version = (uint32_t)stats_cell_i64(res, 0, 0);
    PQclear(res);
    res = NULL;
    if (version > 1 && !rq->change_note[0]) {
        rc = stats_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                        "the release of %s has %u version(s) already: a correction needs a "
                        "change note (field `change_note`) saying what changed",
                        rq->quarter, version - 1);
        goto out;
    }
    s_summary(&summary, an, rq->title);
    static const char *const names[] = {"summary.txt", "bulletin.html", "analysis.json",
                                        "totals.csv",  "districts.csv", "categories.csv"};
    static const char *const types[] = {"text/plain; charset=utf-8", "text/html; charset=utf-8",
                                        "application/json",          "text/csv; charset=utf-8",
                                        "text/csv; charset=utf-8",   "text/csv; charset=utf-8"};
    ccip_text_printf(&files[0], "%s", summary.p ? summary.p : "");
    s_html(&files[1], an, rq->title, rq->licence, version, summary.p ? summary.p : "");
    s_json(&files[2], an, rq->title, rq->licence, version);
    s_csv(&files[3], an, "total");
    s_csv(&files[4], an, "district");
    s_csv(&files[5], an, "category");
    for (int i = 0; i < 6; i++)
        if (files[i].failed || !files[i].p || summary.failed) {
            rc = stats_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory building the release");
            goto out;
        }
    char v[16], until[24];
    snprintf(v, sizeof v, "%u", version);
    snprintf(until, sizeof until, "%lld", (long long)embargo);
    const char *p[] = {rq->quarter,     v,         rq->title,    rq->licence, until,
                       rq->change_note, summary.p, cmd->actor.id};
    if ((rc = ccip_db_exec(cmd->db, &S_INSERT, 8, p, NULL, NULL, &res)) != 0)
        goto out;
    int64_t published = stats_cell_i64(res, 0, 0);
    for (int i = 0; rc == 0 && i < 6; i++) {
        const char *f[] = {rq->quarter, v, names[i], types[i], files[i].p};
        rc = ccip_db_exec(cmd->db, &S_INSERT_FILE, 5, f, NULL, NULL, NULL);
    }
    if (rc != 0)
        goto out;
    Ccip__Stats__ReleasePublished ev = CCIP__STATS__RELEASE_PUBLISHED__INIT;
    ev.quarter = rq->quarter;
    ev.version = version;
    ev.title = rq->title;
    ev.licence = rq->licence;
    ev.embargo_until_us = embargo;
    ev.change_note = rq->change_note;
    char agg[24];
    snprintf(agg, sizeof agg, "%s/%u", rq->quarter, version);
    if ((rc = stats_emit(cmd, "stats.release.published.v1", "release", agg, &ev.base)) != 0)
        goto out;
    Ccip__Stats__Release rel = CCIP__STATS__RELEASE__INIT;
    rel.quarter = rq->quarter;
    rel.version = version;
    rel.title = rq->title;
    rel.licence = rq->licence;
    rel.embargo_until_us = embargo;
    rel.change_note = rq->change_note;
    rel.published_by = (char *)cmd->actor.id;
    rel.published_at_us = published;
    rel.summary = summary.p;
    Ccip__Stats__ReleaseReply reply = CCIP__STATS__RELEASE_REPLY__INIT;
    reply.release = &rel;
    rc = stats_reply(cmd, &reply.base);
out:
    PQclear(res);
    ccip_text_release(&summary);
    for (int i = 0; i < 6; i++)
        ccip_text_release(&files[i]);
    ccip_arena_destroy(&a);
    protobuf_c_message_free_unpacked(&rq->base, NULL);
    return STATS_RC(rc);
}

/* ---- reading ------------------------------------------------------------------------------ */

static Ccip__Stats__Release *s_release(const PGresult *res, int r, ccip_arena *a)
{
    Ccip__Stats__Release *m = ccip_arena_alloc(a, sizeof *m);
    if (!m)
        return NULL;
    *m = (Ccip__Stats__Release)CCIP__STATS__RELEASE__INIT;
    m->quarter = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
    m->version = (uint32_t)stats_cell_i64(res, r, 1);
    m->title = ccip_arena_strdup(a, PQgetvalue(res, r, 2));
    m->licence = ccip_arena_strdup(a, PQgetvalue(res, r, 3));
    m->embargo_until_us = stats_cell_i64(res, r, 4);
    m->change_note = ccip_arena_strdup(a, PQgetvalue(res, r, 5));
    m->published_by = ccip_arena_strdup(a, PQgetvalue(res, r, 6));
    m->published_at_us = stats_cell_i64(res, r, 7);
    m->summary = ccip_arena_strdup(a, PQgetvalue(res, r, 8));
    return m;
}

static const char *s_sees_embargoed(const ccip_command *cmd)
{
    return strcmp(cmd->actor.role, "analyst") == 0 ? "true" : "false";
}

int stats_release_get_cmd(ccip_command *cmd)
{
    Ccip__Stats__GetReleaseRequest *rq = (Ccip__Stats__GetReleaseRequest *)stats_unpack(
        cmd, &ccip__stats__get_release_request__descriptor);
    if (!rq)
        return 0;
    stats_quarter q;
    PGresult *res = NULL, *files = NULL;
    ccip_arena *a = NULL;
    int rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q);
    char v[16];
    snprintf(v, sizeof v, "%u", rq->version);
    const char *p[] = {rq->quarter, s_sees_embargoed(cmd), v};
    if (rc == 0 && rq->version > 100000)
        rc = stats_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                        "field `version` must be a release version, got %u", rq->version);
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_GET, 3, p, NULL, NULL, &res);
    if (rc != 0)
        goto out;
    if (PQntuples(res) != 1) {
        /* The same answer whether it does not exist or is under embargo. */
        if (rq->version)
            rc = stats_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no release %s version %u",
                            rq->quarter, rq->version);
        else
            rc = stats_fail(cmd, CCIP__STATUS__NOT_FOUND, "there is no release of %s", rq->quarter);
        goto out;
    }
    a = ccip_arena_new();
    Ccip__Stats__ReleaseReply reply = CCIP__STATS__RELEASE_REPLY__INIT;
    reply.release = s_release(res, 0, a);
    if (!reply.release) {
        rc = stats_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        goto out;
    }
    snprintf(v, sizeof v, "%u", reply.release->version);
    const char *fp[] = {rq->quarter, v};
    if ((rc = ccip_db_exec(cmd->db, &S_FILES, 2, fp, NULL, NULL, &files)) != 0)
        goto out;
    int n = PQntuples(files);
    Ccip__Stats__Release *m = reply.release;
    m->files = ccip_arena_alloc(a, (size_t)n * sizeof *m->files);
    for (int r = 0; m->files && r < n; r++) {
        Ccip__Stats__ReleaseFile *f = ccip_arena_alloc(a, sizeof *f);
        if (!f)
            break;
        *f = (Ccip__Stats__ReleaseFile)CCIP__STATS__RELEASE_FILE__INIT;
        f->name = PQgetvalue(files, r, 0);
        f->media_type = PQgetvalue(files, r, 1);
        f->content = PQgetvalue(files, r, 2);
        m->files[m->n_files++] = f;
    }
    if (ccip_arena_failed(a))
        rc = stats_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    else
        rc = stats_reply(cmd, &reply.base);
out:
    PQclear(res);
    PQclear(files);
    ccip_arena_destroy(&a);
    protobuf_c_message_free_unpacked(&rq->base, NULL);
    return STATS_RC(rc);
}

int stats_release_list_cmd(ccip_command *cmd)
{
    Ccip__Stats__ListReleasesRequest *rq = (Ccip__Stats__ListReleasesRequest *)stats_unpack(
        cmd, &ccip__stats__list_releases_request__descriptor);
    if (!rq)
        return 0;
    stats_quarter q;
    PGresult *res = NULL;
    ccip_arena *a = NULL;
    int rc = 0;
    if (rq->quarter[0])
        rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q);
    if (rc == 0)
        rc = stats_text_arg(cmd, "search", rq->search, 0, SEARCH_MAX, 0);
    const char *p[] = {rq->quarter, s_sees_embargoed(cmd), rq->search};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_LIST, 3, p, NULL, NULL, &res);
    if (rc != 0)
        goto out;
    a = ccip_arena_new();
    Ccip__Stats__ListReleasesReply reply = CCIP__STATS__LIST_RELEASES_REPLY__INIT;
    int n = PQntuples(res);
    reply.releases = ccip_arena_alloc(a, (size_t)n * sizeof *reply.releases);
    for (int r = 0; reply.releases && r < n && r < LIST_MAX; r++) {
        Ccip__Stats__Release *m = s_release(res, r, a);
        if (!m)
            break;
        reply.releases[reply.n_releases++] = m;
    }
    if (ccip_arena_failed(a))
        rc = stats_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    else
        rc = stats_reply(cmd, &reply.base);
out:
    PQclear(res);
    ccip_arena_destroy(&a);
    protobuf_c_message_free_unpacked(&rq->base, NULL);
    return STATS_RC(rc);
}
