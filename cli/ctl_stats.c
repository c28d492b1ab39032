/*
 * ccipctl stats ...: the statistics service from the command line: the
 * catalogue, the roster, quarterly reports and their approval, lock
 * exceptions, completeness, analysis, event-derived indicators, rebuilds
 * and releases. Replies are printed as tables for people, with --json as
 * one JSON object that mirrors the reply message (proto/ccip/stats.proto:
 * enum values by name, int64 as numbers), and with --csv (anywhere after
 * "stats") as CSV of the reply's table.
 *
 * Who asks is the global --role and --actor: staff "--role staff --actor
 * <id>", a district office "--role district --actor district:110105", an
 * operator "--role operator --actor org:<unified social credit code>", an
 * analyst "--role analyst --actor <id>".
 *
 * Values are written as people write them and converted with the unit the
 * catalogue gives the indicator: money in yuan ("1234.56"), percentages
 * with up to two decimals ("87.5"), counts and square metres as whole
 * numbers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/stats.pb-c.h"
#include "ccip_id.h"
#include "ctl.h"
#include "ctl_surveys.h"

/* A rebuild replays every stream: it may take much longer than a command. */
#define REBUILD_TIMEOUT_MS 600000

static int s_csv_out; /* --csv given */

/* ---- CSV, driven by the message descriptors ----------------------------------- */

/* One CSV table of messages: a column per singular scalar or string field. */
static void s_csv_rows(const ProtobufCMessageDescriptor *d, ProtobufCMessage *const *rows, size_t n,
                       int header)
{
    int first = 1;
    for (unsigned i = 0; header && i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        if (fd->label == PROTOBUF_C_LABEL_REPEATED || fd->type == PROTOBUF_C_TYPE_MESSAGE)
            continue;
        printf("%s%s", first ? "" : ",", fd->name);
        first = 0;
    }
    if (header)
        putchar('\n');
    for (size_t r = 0; r < n; r++) {
        first = 1;
        for (unsigned i = 0; i < d->n_fields; i++) {
            const ProtobufCFieldDescriptor *fd = &d->fields[i];
            if (fd->label == PROTOBUF_C_LABEL_REPEATED || fd->type == PROTOBUF_C_TYPE_MESSAGE)
                continue;
            if (!first)
                putchar(',');
            first = 0;
            const void *p = ctl_field_value(rows[r], fd, 0);
            const ProtobufCEnumValue *ev =
                fd->type == PROTOBUF_C_TYPE_ENUM
                    ? protobuf_c_enum_descriptor_get_value(fd->descriptor, *(const int *)p)
                    : NULL;
            /* Numbers and booleans are written as JSON writes them. */
            if (fd->type == PROTOBUF_C_TYPE_STRING)
                ctl_csv_field(*(char *const *)p);
            else if (ev)
                fputs(ev->name, stdout);
            else
                ctl_json_value(stdout, fd, p);
        }
        putchar('\n');
    }
}

/* ---- values ------------------------------------------------------------------ */

/* A value as people read it: "1234.56 yuan", "87.50 %", "52000 m2". */
static void s_value_text(Ccip__Stats__Unit unit, int64_t v, char *buf, size_t len)
{
    char t[CCIP_FEN_STRLEN + 1];
    switch (unit) {
    case CCIP__STATS__UNIT__FEN:
        ccip_fen_format(v, t, sizeof t);
        snprintf(buf, len, "%s yuan", t);
        break;
    case CCIP__STATS__UNIT__PERCENT:
        ccip_fen_format(v, t, sizeof t);
        snprintf(buf, len, "%s %%", t);
        break;
    case CCIP__STATS__UNIT__SQUARE_METRES:
        snprintf(buf, len, "%" PRId64 " m2", v);
        break;
    default:
        snprintf(buf, len, "%" PRId64, v);
    }
}

/* Basis points as "+12.34 %". */
static void s_bp_text(int has, int64_t bp, char *buf, size_t len)
{
    if (!has) {
        snprintf(buf, len, "n/a");
        return;
    }
    char t[CCIP_FEN_STRLEN + 1];
    ccip_fen_format(bp, t, sizeof t);
    snprintf(buf, len, "%s%s %%", bp >= 0 ? "+" : "", t);
}

/* ---- printing for people -------------------------------------------------------- */

static void s_print_catalogue(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Stats__CatalogueReply *r = (const Ccip__Stats__CatalogueReply *)m;
    const Ccip__Stats__Catalogue *c = r->catalogue;
    char t[40];
    ctl_time_text(c->published_at_us, 0, t, sizeof t);
    printf("catalogue version %u, from %s (published %s by %s): %s\n", c->version,
           c->effective_from, t, c->published_by, c->note);
    printf("%-24s %-14s %-22s %-10s %s\n", "indicator", "unit", "reported by", "compulsory",
           "name");
    for (size_t i = 0; i < c->n_indicators; i++) {
        const Ccip__Stats__Indicator *ind = c->indicators[i];
        char kinds[40] = "";
        for (size_t k = 0; k < ind->n_kinds; k++) {
            size_t n = strlen(kinds);
            snprintf(kinds + n, sizeof kinds - n, "%s%s", k ? "," : "",
                     ctl_enum_name(&ccip__stats__roster_kind__descriptor, ind->kinds[k]));
        }
        printf("%-24s %-14s %-22s %-10s %s%s\n", ind->code,
               ctl_enum_name(&ccip__stats__unit__descriptor, ind->unit), kinds,
               ind->compulsory ? "yes" : "no", ind->name,
               ind->allow_negative ? " (may be negative)" : "");
    }
    for (size_t i = 0; i < c->n_rules; i++) {
        const Ccip__Stats__Rule *rule = c->rules[i];
        printf("rule %s: %s %s %s (%s): %s\n", rule->id, rule->left,
               rule->op == CCIP__STATS__COMPARE_OP__GREATER_OR_EQUAL ? ">=" : "<=", rule->right,
               ctl_enum_name(&ccip__stats__importance__descriptor, rule->importance),
               rule->message);
    }
    printf("versions:");
    for (size_t i = 0; i < r->n_versions; i++)
        printf(" %u", r->versions[i]);
    putchar('\n');
}

static void s_print_entry(const Ccip__Stats__RosterEntry *e)
{
    /* Revoked: "to" its last quarter; else valid "until" its expiry, if any. */
    const char *end = e->last_quarter[0] ? e->last_quarter : e->expiry_quarter;
    printf("%-24s %-11s %s %-12s %-18s from %s%s%s  %s\n", e->id,
           ctl_enum_name(&ccip__stats__roster_kind__descriptor, e->kind), e->district_code,
           e->category[0] ? e->category : "-", e->operator_uscc, e->first_quarter,
           e->last_quarter[0] ? " to "
           : end[0]           ? " until "
                              : "",
           end, e->name);
}

static void s_print_roster(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Stats__ListRosterReply *r = (const Ccip__Stats__ListRosterReply *)m;
    if (s_csv_out) {
        s_csv_rows(&ccip__stats__roster_entry__descriptor, (ProtobufCMessage *const *)r->entries,
                   r->n_entries, 1);
        return;
    }
    for (size_t i = 0; i < r->n_entries; i++)
        s_print_entry(r->entries[i]);
    printf("%zu entr%s\n", r->n_entries, r->n_entries == 1 ? "y" : "ies");
}

static void s_print_entry_reply(const ProtobufCMessage *m, ctl_args *args)
{
    s_print_entry(((const Ccip__Stats__RosterEntryReply *)m)->entry);
}

static void s_print_report(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Stats__ReportReply *rr = (const Ccip__Stats__ReportReply *)m;
    const Ccip__Stats__Report *r = rr->report;
    if (!r)
        return;
    char a[40], b[40];
    printf("report     %s\n", r->id);
    printf("entry      %s (%s), district %s\n", r->roster_id, r->roster_name, r->district_code);
    printf("quarter    %s, catalogue version %u\n", r->quarter, r->catalogue_version);
    printf("status     %s\n", ctl_enum_name(&ccip__stats__report_status__descriptor, r->status));
    ctl_time_text(r->first_submitted_at_us, 0, a, sizeof a);
    ctl_time_text(r->due_at_us, 0, b, sizeof b);
    printf("submitted  %s (due %s): %s\n", a, b,
           ctl_enum_name(&ccip__stats__timeliness__descriptor, r->timeliness));
    ctl_time_text(r->locks_at_us, 0, a, sizeof a);
    printf("locks      %s\n", a);
    if (r->note[0])
        printf("note       %s\n", r->note);
    if (r->return_reason[0])
        printf("returned   %s\n", r->return_reason);
    printf("values:\n");
    for (size_t i = 0; i < r->n_values; i++) {
        char v[48];
        s_value_text(r->values[i]->unit, r->values[i]->value, v, sizeof v);
        printf("  %-24s %22s%s%s\n", r->values[i]->code, v,
               r->values[i]->explanation[0] ? "  -- " : "", r->values[i]->explanation);
    }
    if (rr->n_findings)
        printf("findings:\n");
    for (size_t i = 0; i < rr->n_findings; i++)
        printf("  %-7s %s%s\n",
               ctl_enum_name(&ccip__stats__importance__descriptor, rr->findings[i]->importance),
               rr->findings[i]->message,
               rr->findings[i]->importance == CCIP__STATS__IMPORTANCE__WARNING &&
                       rr->findings[i]->explained
                   ? ""
                   : "");
    printf("history:\n");
    for (size_t i = 0; i < r->n_history; i++) {
        const Ccip__Stats__Transition *t = r->history[i];
        ctl_time_text(t->at_us, 0, a, sizeof a);
        printf("  %s  %s -> %s by %s (%s)%s%s\n", a,
               t->from_status
                   ? ctl_enum_name(&ccip__stats__report_status__descriptor, t->from_status)
                   : "-",
               ctl_enum_name(&ccip__stats__report_status__descriptor, t->to_status), t->actor_id,
               t->actor_role, t->reason[0] ? ": " : "", t->reason);
    }
}

static void s_print_reports(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Stats__ListReportsReply *r = (const Ccip__Stats__ListReportsReply *)m;
    if (s_csv_out) {
        s_csv_rows(&ccip__stats__report_summary__descriptor, (ProtobufCMessage *const *)r->reports,
                   r->n_reports, 1);
        return;
    }
    for (size_t i = 0; i < r->n_reports; i++) {
        const Ccip__Stats__ReportSummary *s = r->reports[i];
        char t[40];
        ctl_time_text(s->first_submitted_at_us, 0, t, sizeof t);
        printf("%s  %s  %-24s %s %-17s %3u values  first submitted %s\n", s->id, s->quarter,
               s->roster_id, s->district_code,
               ctl_enum_name(&ccip__stats__report_status__descriptor, s->status), s->values, t);
    }
    printf("%zu report%s\n", r->n_reports, r->n_reports == 1 ? "" : "s");
}

static void s_print_audit(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Stats__AuditReply *r = (const Ccip__Stats__AuditReply *)m;
    if (s_csv_out) {
        s_csv_rows(&ccip__stats__audit_entry__descriptor, (ProtobufCMessage *const *)r->entries,
                   r->n_entries, 1);
        return;
    }
    printf("audit of report %s\n", r->report_id);
    for (size_t i = 0; i < r->n_entries; i++) {
        const Ccip__Stats__AuditEntry *e = r->entries[i];
        char t[40], old[32], now[32];
        ctl_time_text(e->at_us, 0, t, sizeof t);
        snprintf(old, sizeof old, e->had_old ? "%" PRId64 : "-", e->old_value);
        snprintf(now, sizeof now, e->has_new ? "%" PRId64 : "(removed)", e->new_value);
        printf("  %s  %-24s %16s -> %-16s by %s (%s): %s\n", t, e->indicator, old, now, e->actor_id,
               e->actor_role, e->reason);
    }
}

static void s_print_exception(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Stats__LockExceptionReply *r = (const Ccip__Stats__LockExceptionReply *)m;
    char t[40];
    ctl_time_text(r->until_us, 0, t, sizeof t);
    printf("roster entry %s may enter %s until %s (granted by %s: %s)\n", r->roster_id, r->quarter,
           t, r->granted_by, r->reason);
}

static void s_print_completeness(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Stats__CompletenessReply *r = (const Ccip__Stats__CompletenessReply *)m;
    if (s_csv_out) {
        s_csv_rows(&ccip__stats__district_completeness__descriptor,
                   (ProtobufCMessage *const *)r->districts, r->n_districts, 1);
        if (r->total) {
            ProtobufCMessage *total[] = {&r->total->base};
            s_csv_rows(&ccip__stats__district_completeness__descriptor, total, 1, 0);
        }
        return;
    }
    char due[40], locks[40];
    ctl_time_text(r->due_at_us, 0, due, sizeof due);
    ctl_time_text(r->locks_at_us, 0, locks, sizeof locks);
    printf("completeness of %s: on time up to %s, closes for entry %s\n", r->quarter, due, locks);
    printf("%-8s %-14s %8s %8s %6s %8s %9s %13s %12s\n", "district", "name", "expected", "on time",
           "late", "missing", "accepted", "completeness", "timeliness");
    for (size_t i = 0; i <= r->n_districts; i++) {
        const Ccip__Stats__DistrictCompleteness *d =
            i < r->n_districts ? r->districts[i] : r->total;
        if (!d)
            continue;
        printf("%-8s %-14s %8u %8u %6u %8u %9u %11u.%02u%% %10u.%02u%%\n",
               d->district_code[0] ? d->district_code : "total", d->district_name, d->expected,
               d->on_time, d->late, d->missing, d->accepted, d->completeness_bp / 100,
               d->completeness_bp % 100, d->timeliness_bp / 100, d->timeliness_bp % 100);
    }
    if (r->n_clusters)
        printf("entries:\n");
    for (size_t i = 0; i < r->n_clusters; i++) {
        const Ccip__Stats__ClusterCompleteness *c = r->clusters[i];
        char t[40];
        ctl_time_text(c->first_submitted_at_us, 0, t, sizeof t);
        printf("  %s %-24s %-8s %-17s %s  %s\n", c->district_code, c->roster_id,
               ctl_enum_name(&ccip__stats__timeliness__descriptor, c->timeliness),
               c->status ? ctl_enum_name(&ccip__stats__report_status__descriptor, c->status)
                         : "no report",
               t, c->name);
    }
}

static void s_print_analysis(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Stats__AnalysisReply *r = (const Ccip__Stats__AnalysisReply *)m;
    if (s_csv_out) {
        s_csv_rows(&ccip__stats__analysis_row__descriptor, (ProtobufCMessage *const *)r->rows,
                   r->n_rows, 1);
        return;
    }
    printf("analysis of %s (catalogue version %u): %u of %u expected reports accepted%s\n",
           r->quarter, r->catalogue_version, r->accepted, r->expected,
           r->complete ? "" : " - INCOMPLETE");
    printf("%-9s %-14s %-24s %24s %9s %9s %13s %13s %4s\n", "group", "key", "indicator", "value",
           "reported", "mean", r->previous_quarter, r->year_ago_quarter, "rank");
    for (size_t i = 0; i < r->n_rows; i++) {
        const Ccip__Stats__AnalysisRow *row = r->rows[i];
        if (!row->expected && !row->reporting)
            continue;
        char v[48], qoq[32], yoy[32], rep[24], rank[8];
        s_value_text(row->unit, row->value, v, sizeof v);
        s_bp_text(row->has_qoq, row->qoq_bp, qoq, sizeof qoq);
        s_bp_text(row->has_yoy, row->yoy_bp, yoy, sizeof yoy);
        snprintf(rep, sizeof rep, "%u/%u%s", row->reporting, row->expected,
                 row->complete ? "" : "*");
        snprintf(rank, sizeof rank, row->rank ? "%u" : "-", row->rank);
        printf("%-9s %-14s %-24s %24s %9s %9" PRId64 " %13s %13s %4s\n", row->dimension,
               row->key[0] ? row->key : "-", row->indicator, v, rep, row->mean, qoq, yoy, rank);
    }
    printf("* incomplete: the value covers only the entries that reported; growth is over the\n"
           "  entries that reported both quarters\n");
}

static void s_print_indicators(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Stats__EventIndicatorsReply *r = (const Ccip__Stats__EventIndicatorsReply *)m;
    if (s_csv_out) {
        s_csv_rows(&ccip__stats__event_indicator__descriptor, (ProtobufCMessage *const *)r->rows,
                   r->n_rows, 1);
        return;
    }
    printf("indicators of %s from the services' events\n", r->quarter);
    for (size_t i = 0; i < r->n_rows; i++)
        printf("  %-8s %-28s %-24s %" PRId64 "\n",
               r->rows[i]->district_code[0] ? r->rows[i]->district_code : "unknown",
               r->rows[i]->kind, r->rows[i]->indicator, r->rows[i]->value);
    printf("applied up to:");
    for (size_t i = 0; i < r->n_cursors; i++)
        printf(" %s %" PRIu64, r->cursors[i]->producer, r->cursors[i]->position);
    putchar('\n');
}

static void s_print_rebuild(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Stats__RebuildReply *r = (const Ccip__Stats__RebuildReply *)m;
    for (size_t i = 0; i < r->n_replayed; i++)
        printf("replayed %s from position 1 to %" PRIu64 "\n", r->replayed[i]->producer,
               r->replayed[i]->position);
    printf("checksum before %s, after %s (%s), %.1f s\n", r->checksum_before, r->checksum_after,
           strcmp(r->checksum_before, r->checksum_after) == 0 ? "identical" : "changed",
           (double)r->took_us / 1e6);
}

static void s_print_checksum(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Stats__ChecksumReply *r = (const Ccip__Stats__ChecksumReply *)m;
    printf("%s  %" PRIu64 " rows\n", r->checksum, r->rows);
}

static void s_print_release_head(const Ccip__Stats__Release *r)
{
    char e[40], p[40];
    ctl_time_text(r->embargo_until_us, 0, e, sizeof e);
    ctl_time_text(r->published_at_us, 0, p, sizeof p);
    printf("%s v%u  %s  licence %s, published %s by %s, embargo until %s%s%s\n", r->quarter,
           r->version, r->title, r->licence, p, r->published_by, e,
           r->change_note[0] ? "; change: " : "", r->change_note);
}

/* A release, or with release show --file one of its files. */
static void s_print_release(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Stats__Release *r = ((const Ccip__Stats__ReleaseReply *)m)->release;
    const char *file = ctl_declares(args, "file") ? ctl_str_or(args, "file", NULL) : NULL;
    if (file) {
        for (size_t i = 0; i < r->n_files; i++)
            if (strcmp(r->files[i]->name, file) == 0) {
                fputs(r->files[i]->content, stdout);
                return;
            }
        fprintf(stderr, "ccipctl: the release has no file %s\n", file);
        return;
    }
    s_print_release_head(r);
    printf("%s", r->summary);
    for (size_t i = 0; i < r->n_files; i++)
        printf("file %-16s %-28s %zu bytes\n", r->files[i]->name, r->files[i]->media_type,
               strlen(r->files[i]->content));
}

static void s_print_releases(const ProtobufCMessage *m, ctl_args *args)
{
    const Ccip__Stats__ListReleasesReply *r = (const Ccip__Stats__ListReleasesReply *)m;
    if (s_csv_out) {
        s_csv_rows(&ccip__stats__release__descriptor, (ProtobufCMessage *const *)r->releases,
                   r->n_releases, 1);
        return;
    }
    for (size_t i = 0; i < r->n_releases; i++)
        s_print_release_head(r->releases[i]);
    printf("%zu release%s\n", r->n_releases, r->n_releases == 1 ? "" : "s");
}

/* ---- values given on the command line ------------------------------------------------ */

/* Splits "CODE=TEXT" at the first '='. Returns the code, or NULL after
 * printing why. */
static char *s_pair(ctl_args *a, const char *option, const char *text, char **value)
{
    char *code = ctl_cut(a, text, '=', 0, value);
    if (*value && code[0])
        return code;
    fprintf(stderr, "ccipctl: %s takes CODE=VALUE, got \"%s\"\n", option, text);
    return NULL;
}

/* The first n --explain CODE=TEXT options, or NULL after printing why. */
static Ccip__Stats__Explanation **s_explanations(ctl_args *a, size_t n)
{
    Ccip__Stats__Explanation **ex = ctl_messages(a, &ccip__stats__explanation__descriptor, n);
    for (size_t i = 0; i < n; i++)
        if (!(ex[i]->code = s_pair(a, "--explain", ctl_str_at(a, "explain", (int)i), &ex[i]->text)))
            return NULL;
    return ex;
}

/* The --value CODE=VALUE and --explain CODE=TEXT options, split. */
typedef struct {
    Ccip__Stats__Value **v; /* the values, code set */
    char **text;            /* each value as typed, until converted */
    size_t n;
    Ccip__Stats__Explanation **explain;
    size_t nexplain;
} s_values;

/* Splits the options (the command may have no --explain). Returns 0, or
 * -1 after printing why. */
static int s_values_read(ctl_args *a, s_values *vs)
{
    vs->n = (size_t)ctl_given(a, "value");
    vs->v = ctl_messages(a, &ccip__stats__value__descriptor, vs->n);
    vs->text = ctl_alloc(a, vs->n * sizeof *vs->text);
    for (size_t i = 0; i < vs->n; i++)
        if (!(vs->v[i]->code = s_pair(a, "--value", ctl_str_at(a, "value", (int)i), &vs->text[i])))
            return -1;
    vs->nexplain = ctl_declares(a, "explain") ? (size_t)ctl_given(a, "explain") : 0;
    vs->explain = s_explanations(a, vs->nexplain);
    return vs->explain ? 0 : -1;
}

/* Converts the values with the units of catalogue version `version` (0:
 * the one `quarter` is collected with) and attaches the explanations.
 * Returns a CTL_ code. */
static int s_values_convert(ctl_opts *o, s_values *vs, uint32_t version, const char *quarter)
{
    Ccip__Stats__GetCatalogueRequest rq = CCIP__STATS__GET_CATALOGUE_REQUEST__INIT;
    rq.version = version;
    rq.quarter = (char *)(quarter ? quarter : "");
    ccip_client *c = NULL;
    Ccip__Stats__CatalogueReply *cat = NULL;
    int code = ctl_request(o, &c, "stats", "stats.catalogue.get.v1", &rq.base,
                           &ccip__stats__catalogue_reply__descriptor, (ProtobufCMessage **)&cat);
    ccip_client_destroy(&c);
    if (code != CTL_OK)
        return code;
    if (!cat->catalogue) {
        /* A reply without its catalogue cannot convert anything: say so
         * rather than read through a missing message. */
        fprintf(stderr, "ccipctl: stats answered stats.catalogue.get.v1 without a catalogue; "
                        "no values were sent\n");
        protobuf_c_message_free_unpacked(&cat->base, NULL);
        return CTL_UNAVAILABLE;
    }
    for (size_t i = 0; i < vs->n && code == CTL_OK; i++) {
        Ccip__Stats__Value *v = vs->v[i];
        const Ccip__Stats__Indicator *ind = NULL;
        for (size_t k = 0; k < cat->catalogue->n_indicators; k++)
            if (strcmp(cat->catalogue->indicators[k]->code, v->code) == 0)
                ind = cat->catalogue->indicators[k];
        /* An unknown indicator goes as typed: the service names it. */
        v->unit = ind ? ind->unit : CCIP__STATS__UNIT__COUNT;
        int ok;
        if (v->unit == CCIP__STATS__UNIT__FEN || v->unit == CCIP__STATS__UNIT__PERCENT) {
            ok = ccip_fen_parse(vs->text[i], &v->value) == 0;
        } else {
            char *end;
            errno = 0;
            long long num = strtoll(vs->text[i], &end, 10);
            ok = !errno && end != vs->text[i] && !*end;
            v->value = num;
        }
        if (!ok) {
            fprintf(stderr, "ccipctl: --value %s must be %s, got \"%s\"\n", v->code,
                    v->unit == CCIP__STATS__UNIT__FEN
                        ? "an amount in yuan with at most two decimals, such as 1234.56"
                    : v->unit == CCIP__STATS__UNIT__PERCENT
                        ? "a percentage with at most two decimals, such as 87.5"
                        : "a whole number",
                    vs->text[i]);
            code = CTL_USAGE;
        }
    }
    for (size_t e = 0; e < vs->nexplain && code == CTL_OK; e++) {
        size_t i = 0;
        while (i < vs->n && strcmp(vs->v[i]->code, vs->explain[e]->code) != 0)
            i++;
        if (i == vs->n) {
            fprintf(stderr, "ccipctl: --explain %s: give its --value in the same command\n",
                    vs->explain[e]->code);
            code = CTL_USAGE;
        } else {
            vs->v[i]->explanation = vs->explain[e]->text;
        }
    }
    protobuf_c_message_free_unpacked(&cat->base, NULL);
    return code;
}

/* ---- commands ------------------------------------------------------------------------ */

static const ctl_arg A_CATALOGUE[] = {
    CTL_STR("version", NULL, 0), CTL_STR("quarter", "quarter", 0), {0}};

static int s_catalogue_show(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__GetCatalogueRequest rq = CCIP__STATS__GET_CATALOGUE_REQUEST__INIT;
    /* Read as it always was: what is not a number is version 0 (the newest). */
    rq.version = (uint32_t)strtoul(ctl_str(a, "version"), NULL, 10);
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_ROSTER_LIST[] = {
    CTL_STR("quarter", "quarter", 0), CTL_STR("district", "district", 0), {0}};
static const ctl_arg A_CATEGORISE[] = {
    CTL_STR("ID", "id", CTL_ARG), CTL_STR("CATEGORY", "category", CTL_ARG), {0}};
static const ctl_arg A_SAVE[] = {CTL_STR("roster", "roster_id", CTL_REQUIRED),
                                 CTL_STR("quarter", "quarter", CTL_REQUIRED),
                                 CTL_STR("value", NULL, CTL_REPEATED),
                                 CTL_STR("explain", NULL, CTL_REPEATED),
                                 CTL_STR("remove", "remove", CTL_REPEATED),
                                 CTL_STR("note", "note", 0),
                                 {0}};

/* The values, in the units of the catalogue the quarter is collected with. */
static int s_report_save(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__SaveReportRequest rq = CCIP__STATS__SAVE_REPORT_REQUEST__INIT;
    s_values vs;
    if (s_values_read(a, &vs) < 0)
        return CTL_USAGE;
    int code = s_values_convert(o, &vs, 0, ctl_str(a, "quarter"));
    rq.values = vs.v;
    rq.n_values = vs.n;
    return code == CTL_OK ? ctl_send(o, a, &rq.base) : code;
}

static const ctl_arg A_SUBMIT[] = {
    CTL_STR("REPORT_ID", "report_id", CTL_ARG), CTL_STR("explain", NULL, CTL_REPEATED), {0}};

/* --explain CODE=TEXT... */
static int s_report_submit(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__SubmitReportRequest rq = CCIP__STATS__SUBMIT_REPORT_REQUEST__INIT;
    rq.n_explanations = (size_t)ctl_given(a, "explain");
    if (!(rq.explanations = s_explanations(a, rq.n_explanations)))
        return CTL_USAGE;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_REPORT_GET[] = {CTL_STR("REPORT_ID", "report_id", CTL_ARG_OPTIONAL),
                                       CTL_STR("roster", "roster_id", 0),
                                       CTL_STR("quarter", "quarter", 0),
                                       {0}};

/* show and audit: REPORT_ID, or --roster and --quarter. */
static int s_report_get(ctl_opts *o, ctl_args *a)
{
    int by_roster = ctl_str(a, "roster")[0] != '\0';
    if (by_roster == ctl_given(a, "REPORT_ID")) {
        if (by_roster)
            fprintf(stderr, "ccipctl: unexpected argument \"%s\"\n", ctl_str(a, "REPORT_ID"));
        else
            fprintf(stderr, "ccipctl: missing argument REPORT_ID\n");
        return CTL_USAGE;
    }
    return ctl_send_table(o, a);
}

static const ctl_arg A_REPORT_LIST[] = {
    CTL_STR("quarter", "quarter", 0),
    CTL_STR("district", "district", 0),
    CTL_ENUM("status", "status", &ccip__stats__report_status__descriptor, NULL, 0),
    CTL_STR("roster", "roster_id", 0),
    {0}};
static const ctl_arg A_DECISION[] = {CTL_STR("REPORT_ID", "report_id", CTL_ARG),
                                     CTL_FLAG("approve", NULL),
                                     CTL_FLAG("accept", NULL),
                                     CTL_FLAG("return", NULL),
                                     CTL_STR("reason", "reason", 0),
                                     {0}};

/* review (the district: --approve) and decide (the center: --accept); each
 * takes either word, and the later of it and --return counts. */
static int s_report_decision(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__DecideReportRequest rq = CCIP__STATS__DECIDE_REPORT_REQUEST__INIT;
    int approve = ctl_last(a, "approve") > ctl_last(a, "accept") ? ctl_last(a, "approve")
                                                                 : ctl_last(a, "accept");
    int back = ctl_last(a, "return");
    if (!approve && !back) {
        int center = strcmp(ctl_args_command(a)->words, "report decide") == 0;
        fprintf(stderr, "ccipctl: say %s or --return\n", center ? "--accept" : "--approve");
        return CTL_USAGE;
    }
    rq.decision = approve > back ? CCIP__STATS__DECISION__APPROVE : CCIP__STATS__DECISION__RETURN;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_CORRECT[] = {CTL_STR("REPORT_ID", "report_id", CTL_ARG),
                                    CTL_STR("value", NULL, CTL_REPEATED),
                                    CTL_STR("remove", "remove", CTL_REPEATED),
                                    CTL_STR("reason", "reason", 0),
                                    {0}};

/* The values, in the units of the report's catalogue version. */
static int s_report_correct(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__CorrectReportRequest rq = CCIP__STATS__CORRECT_REPORT_REQUEST__INIT;
    s_values vs;
    if (s_values_read(a, &vs) < 0)
        return CTL_USAGE;
    Ccip__Stats__GetReportRequest g = CCIP__STATS__GET_REPORT_REQUEST__INIT;
    g.report_id = ctl_str(a, "REPORT_ID");
    ccip_client *c = NULL;
    Ccip__Stats__ReportReply *r = NULL;
    int code = ctl_request(o, &c, "stats", "stats.report.get.v1", &g.base,
                           &ccip__stats__report_reply__descriptor, (ProtobufCMessage **)&r);
    ccip_client_destroy(&c);
    if (code == CTL_OK && !r->report) {
        fprintf(stderr, "ccipctl: stats answered stats.report.get.v1 without the report; "
                        "nothing was corrected\n");
        code = CTL_UNAVAILABLE;
    }
    if (code == CTL_OK)
        code = s_values_convert(o, &vs, r->report->catalogue_version, NULL);
    if (r)
        protobuf_c_message_free_unpacked(&r->base, NULL);
    rq.values = vs.v;
    rq.n_values = vs.n;
    return code == CTL_OK ? ctl_send(o, a, &rq.base) : code;
}

static const ctl_arg A_LOCK[] = {CTL_STR("roster", "roster_id", 0),
                                 CTL_STR("quarter", "quarter", 0),
                                 CTL_TIME("until", "until_us", CTL_REQUIRED),
                                 CTL_STR("reason", "reason", 0),
                                 {0}};
static const ctl_arg A_QUARTER_DISTRICT[] = {
    CTL_STR("QUARTER", "quarter", CTL_ARG), CTL_STR("district", "district", 0), {0}};
static const ctl_arg A_QUARTER[] = {CTL_STR("QUARTER", "quarter", CTL_ARG), {0}};

static int s_rebuild(ctl_opts *o, ctl_args *a)
{
    /* Unless --timeout was given, wait as long as a rebuild may take. */
    if (o->timeout_ms == CTL_DEFAULT_TIMEOUT_MS)
        o->timeout_ms = REBUILD_TIMEOUT_MS;
    Ccip__Stats__RebuildRequest rq = CCIP__STATS__REBUILD_REQUEST__INIT;
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_PUBLISH[] = {
    CTL_STR("QUARTER", "quarter", CTL_ARG),      CTL_STR("title", "title", CTL_REQUIRED),
    CTL_STR("licence", "licence", CTL_REQUIRED), CTL_TIME("embargo", "embargo_until_us", 0),
    CTL_STR("note", "change_note", 0),           {0}};
static const ctl_arg A_RELEASE_SHOW[] = {CTL_STR("QUARTER", "quarter", CTL_ARG),
                                         CTL_STR("version", NULL, 0),
                                         CTL_STR("file", NULL, 0),
                                         {0}};

static int s_release_show(ctl_opts *o, ctl_args *a)
{
    Ccip__Stats__GetReleaseRequest rq = CCIP__STATS__GET_RELEASE_REQUEST__INIT;
    /* Read as it always was: what is not a number is version 0 (the latest). */
    rq.version = (uint32_t)strtoul(ctl_str(a, "version"), NULL, 10);
    return ctl_send(o, a, &rq.base);
}

static const ctl_arg A_RELEASE_LIST[] = {
    CTL_STR("quarter", "quarter", 0), CTL_STR("search", "search", 0), {0}};

/* ---- the table ------------------------------------------------------------------------- */

#define Q(name) &ccip__stats__##name##_request__descriptor
#define R(name) &ccip__stats__##name##_reply__descriptor

static const ctl_command S_COMMANDS[] = {
    {"catalogue show", "[--version N | --quarter QUARTER]", A_CATALOGUE, "stats.catalogue.get.v1",
     Q(get_catalogue), R(catalogue), s_print_catalogue, s_catalogue_show,
     .summary = "indicators, units and rules of a version",
     .about = "  the indicators (code, unit, who reports them) and rules of a catalogue version: "
              "the\n"
              "  given one, the one QUARTER (e.g. 2026Q3) is collected with, or the newest\n"},
    {"roster list", "[--quarter QUARTER] [--district DISTRICT]", A_ROSTER_LIST,
     "stats.roster.list.v1", Q(list_roster), R(list_roster), s_print_roster,
     .summary = "the monitoring roster",
     .about = "  the monitoring roster (kept from evaluation's designations): every entry, or "
              "those\n"
              "  asked to report for QUARTER. An operator sees its own entries, a district office "
              "its\n"
              "  district's.\n"},
    {"roster categorise", "ID CATEGORY", A_CATEGORISE, "stats.roster.categorise.v1",
     Q(categorise_roster_entry), R(roster_entry), s_print_entry_reply, .who = "--role staff",
     .summary = "set an entry's category (staff)",
     .about = "  sets the category the analysis groups an entry by (a-z, 0-9, '_'; \"\" clears "
              "it)\n"},
    {"report save",
     "--roster ID\n"
     "           --quarter QUARTER [--value CODE=VALUE]... [--explain CODE=TEXT]...\n"
     "           [--remove CODE]... [--note TEXT]",
     A_SAVE, "stats.report.save.v1", Q(save_report), R(report), s_print_report, s_report_save,
     .who = "--role operator --actor org:USCC", .summary = "save values as a draft (operator)",
     .about = "  saves the entry's report of QUARTER as a draft (creating it): the values given "
              "are set,\n"
              "  the --remove'd cleared, the rest kept. VALUE in the indicator's unit: yuan for "
              "money\n"
              "  (1234.56), a percentage for rates (87.5), whole numbers otherwise. --explain "
              "writes why\n"
              "  a warned value is right (it needs that value in the same command). Prints the "
              "report\n"
              "  with what the validation finds.\n"},
    {"report submit",
     "REPORT_ID\n"
     "           [--explain CODE=TEXT]...",
     A_SUBMIT, "stats.report.submit.v1", Q(submit_report), R(report), s_print_report,
     s_report_submit, .who = "--role operator --actor org:USCC",
     .summary = "submit, with explanations (operator)",
     .about = "  submits the report to the district: refused while it has errors or warnings "
              "without a\n"
              "  written explanation (--explain sets them first)\n"},
    {"report show", "REPORT_ID | --roster ID --quarter QUARTER", A_REPORT_GET,
     "stats.report.get.v1", Q(get_report), R(report), s_print_report, s_report_get,
     .summary = "a report, its findings and history",
     .about = "  a report: values, validation findings, timeliness and history\n"},
    {"report list",
     "[--quarter QUARTER] [--district DISTRICT]\n"
     "           [--status STATUS] [--roster ID]",
     A_REPORT_LIST, "stats.report.list.v1", Q(list_reports), R(list_reports), s_print_reports,
     .summary = "reports by quarter, district, status",
     .about = "  reports (an operator sees its own, a district office its district's). STATUS: "
              "DRAFT,\n"
              "  SUBMITTED, DISTRICT_APPROVED, ACCEPTED, RETURNED\n"},
    {"report review",
     "REPORT_ID\n"
     "           (--approve [--reason TEXT] | --return --reason TEXT)",
     A_DECISION, "stats.report.review.v1", Q(decide_report), R(report), s_print_report,
     s_report_decision, .who = "--role district --actor district:CODE",
     .summary = "approve or return (district)",
     .about = "  the district's review of a submitted report of its district\n"},
    {"report decide",
     "REPORT_ID\n"
     "           (--accept [--reason TEXT] | --return --reason TEXT)",
     A_DECISION, "stats.report.decide.v1", Q(decide_report), R(report), s_print_report,
     s_report_decision, .who = "--role staff --actor ID", .summary = "accept or return (staff)",
     .about = "  the center accepts a report the district approved, or returns it to the "
              "operator\n"},
    {"report correct",
     "REPORT_ID\n"
     "           [--value CODE=VALUE]... [--remove CODE]... --reason TEXT",
     A_CORRECT, "stats.report.correct.v1", Q(correct_report), R(report), s_print_report,
     s_report_correct, .who = "--role staff --actor ID",
     .summary = "change accepted values, audited (staff)",
     .about = "  changes values of an accepted report; every change is audited (old, new, who, "
              "when,\n"
              "  why)\n"},
    {"report audit", "REPORT_ID | --roster ID --quarter QUARTER", A_REPORT_GET,
     "stats.report.audit.v1", Q(get_report), R(audit), s_print_audit, s_report_get,
     .summary = "the history of every accepted value",
     .about = "  every value of the report as accepted, and every change since\n"
              "  (old, new, who, when, why)\n"},
    {"lock grant",
     "--roster ID --quarter QUARTER\n"
     "           --until TIME --reason TEXT",
     A_LOCK, "stats.lock.grant.v1", Q(grant_lock_exception), R(lock_exception), s_print_exception,
     .who = "--role staff --actor ID", .summary = "a time-limited lock exception (staff)",
     .about = "  lets one roster entry enter a locked quarter until TIME (at most\n"
              "  stats.max_exception_days away)\n"},
    {"completeness", "QUARTER [--district DISTRICT]", A_QUARTER_DISTRICT,
     "stats.completeness.get.v1", Q(completeness), R(completeness), s_print_completeness,
     .summary = "on time, late, missing by district",
     .about = "  who reported QUARTER (e.g. 2026Q3) on time, late or not at all, by district\n"},
    {"analysis", "QUARTER", A_QUARTER, "stats.analysis.get.v1", Q(analysis), R(analysis),
     s_print_analysis, .summary = "sums, growth and ranks of a quarter",
     .about = "  the accepted reports of QUARTER by district and category: sums, means, growth on "
              "the\n"
              "  previous quarter and the year before (like for like), ranks; incomplete groups "
              "marked\n"},
    {"indicators", "QUARTER [--district DISTRICT]", A_QUARTER_DISTRICT, "stats.indicators.get.v1",
     Q(event_indicators), R(event_indicators), s_print_indicators,
     .summary = "indicators from the services' events",
     .about = "  indicators computed from the other services' events: applications, decisions, "
              "funds,\n"
              "  IP registrations, trades and disputes, by district and kind\n"},
    {"projections rebuild", NULL, NULL, "stats.projections.rebuild.v1", Q(rebuild), R(rebuild),
     s_print_rebuild, s_rebuild, .who = "--role admin",
     .summary = "replay every stream into the tables (admin)",
     .about =
         "  empties the event-derived tables and replays every stream from position 1 up to "
         "where\n"
         "  stats had applied it, in one transaction; prints the checksums before and after\n"},
    {"projections checksum", NULL, NULL, "stats.projections.checksum.v1", Q(checksum), R(checksum),
     s_print_checksum, .summary = "checksum of the event-derived tables",
     .about = "  the checksum of every row of the event-derived tables\n"},
    {"release publish",
     "QUARTER --title TEXT\n"
     "           --licence LICENCE [--embargo TIME] [--note CHANGE_NOTE]",
     A_PUBLISH, "stats.release.publish.v1", Q(publish_release), R(release), s_print_release,
     .who = "--role analyst --actor ID", .summary = "publish a bulletin (analyst)",
     .about = "  builds the bulletin of QUARTER from the analysis (text summary, HTML with SVG "
              "charts,\n"
              "  CSV and JSON) and publishes it as the next version; nobody but analysts can read "
              "it\n"
              "  before TIME. A correction (version 2 on) needs --note.\n"},
    {"release show", "QUARTER [--version N] [--file NAME]", A_RELEASE_SHOW, "stats.release.get.v1",
     Q(get_release), R(release), s_print_release, s_release_show,
     .summary = "a release or one of its files",
     .about = "  a release (the latest version you may read, or version N); --file prints one of "
              "its\n"
              "  files: summary.txt, bulletin.html, analysis.json, totals.csv, districts.csv,\n"
              "  categories.csv\n"},
    {"release list", "[--quarter QUARTER] [--search TEXT]", A_RELEASE_LIST, "stats.release.list.v1",
     Q(list_releases), R(list_releases), s_print_releases, .summary = "releases, searchable",
     .about = "  releases you may read (embargoed ones only with the analyst role)\n"},
};

static ctl_service S_STATS = {
    .name = "stats",
    .header = "usage: ccipctl [--json] --role ROLE --actor ID stats [--csv] COMMAND [ARGS]\n"
              "  roles: staff/admin (center), district (actor district:<code>), operator (actor\n"
              "  org:<unified social credit code>), analyst, department (actor dept:<code>),\n"
              "  applicant (actor org:<code>), or none (a service, read only).\n"
              "  QUARTER is written like 2026Q3. Every command has --help.\n\n",
    .list_prefix = "  stats ",
    .group_width = 14,
    .verb_width = 12,
};

int ctl_stats(ctl_opts *o, int argc, char **argv)
{
    /* --csv may stand anywhere after "stats". */
    int n = 0;
    s_csv_out = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--csv") == 0)
            s_csv_out = 1;
        else
            argv[n++] = argv[i];
    }
    /* One table: the quarterly commands, then the surveys' and research's
     * (cli/ctl_surveys.c). */
    size_t nq = sizeof S_COMMANDS / sizeof S_COMMANDS[0];
    ctl_command *all = malloc((nq + ctl_survey_ncommands) * sizeof *all);
    if (!all) {
        fprintf(stderr, "ccipctl: out of memory\n");
        return CTL_LOCAL;
    }
    memcpy(all, S_COMMANDS, nq * sizeof *all);
    memcpy(all + nq, ctl_survey_commands, ctl_survey_ncommands * sizeof *all);
    S_STATS.commands = all;
    S_STATS.ncommands = nq + ctl_survey_ncommands;
    int code = ctl_service_run(o, &S_STATS, n, argv);
    free(all);
    return code;
}
