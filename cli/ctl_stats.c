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
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/stats.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ctl.h"

#define SERVICE    "stats"
#define VALUES_MAX 200
/* A rebuild replays every stream: it may take much longer than a command. */
#define REBUILD_TIMEOUT_MS 600000
/* ccipctl.c's default --timeout: a rebuild waits longer unless one was given. */
#define CTL_DEFAULT_TIMEOUT_MS 3000

static int s_csv_out; /* --csv given */

/* ---- JSON and CSV, driven by the message descriptors ----------------------- */

/* A scalar value as text (strings unquoted); 0 when fd is not a scalar. */
static int s_scalar(const ProtobufCFieldDescriptor *fd, const void *p, char *buf, size_t len)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        snprintf(buf, len, "%" PRId32, *(const int32_t *)p);
        return 1;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        snprintf(buf, len, "%" PRIu32, *(const uint32_t *)p);
        return 1;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(buf, len, "%" PRId64, *(const int64_t *)p);
        return 1;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(buf, len, "%" PRIu64, *(const uint64_t *)p);
        return 1;
    case PROTOBUF_C_TYPE_BOOL:
        snprintf(buf, len, "%s", *(const protobuf_c_boolean *)p ? "true" : "false");
        return 1;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(fd->descriptor, v);
        if (ev)
            snprintf(buf, len, "%s", ev->name);
        else
            snprintf(buf, len, "%d", v);
        return 1;
    }
    default:
        return 0;
    }
}

static void s_csv_field(const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

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
        const char *base = (const char *)rows[r];
        first = 1;
        for (unsigned i = 0; i < d->n_fields; i++) {
            const ProtobufCFieldDescriptor *fd = &d->fields[i];
            if (fd->label == PROTOBUF_C_LABEL_REPEATED || fd->type == PROTOBUF_C_TYPE_MESSAGE)
                continue;
            if (!first)
                putchar(',');
            first = 0;
            char buf[64];
            if (fd->type == PROTOBUF_C_TYPE_STRING)
                s_csv_field(*(char *const *)(base + fd->offset));
            else if (s_scalar(fd, base + fd->offset, buf, sizeof buf))
                fputs(buf, stdout);
        }
        putchar('\n');
    }
}

/* ---- values ------------------------------------------------------------------ */

static void s_when(int64_t us, char *buf, size_t len)
{
    if (!us) {
        snprintf(buf, len, "-");
        return;
    }
    ccip_time_format_us(us, buf, len);
    char *dot = strchr(buf, '.');
    if (dot && strcmp(dot, ".000000Z") == 0)
        memcpy(dot, "Z", 2);
}

/* RFC 3339 or a date (UTC midnight). */
static int s_time(const char *option, const char *text, int64_t *us)
{
    char buf[40];
    if (strlen(text) == 10 && text[4] == '-' && text[7] == '-') {
        snprintf(buf, sizeof buf, "%sT00:00:00Z", text);
        text = buf;
    }
    if (ccip_time_parse_us(text, us) == 0)
        return 0;
    fprintf(stderr,
            "ccipctl: %s must be a time such as 2027-03-01T09:00:00+08:00, 2027-03-01T01:00:00Z "
            "or a date 2027-03-01 (UTC midnight), got \"%s\"\n",
            option, text);
    return -1;
}

static const char *s_enum_name(const ProtobufCEnumDescriptor *d, int v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    return ev ? ev->name : "?";
}

static int s_enum_parse(const ProtobufCEnumDescriptor *d, const char *option, const char *text,
                        int *out)
{
    char upper[64];
    size_t i = 0;
    for (; text[i] && i + 1 < sizeof upper; i++)
        upper[i] = (char)(text[i] >= 'a' && text[i] <= 'z' ? text[i] - 'a' + 'A' : text[i]);
    upper[i] = '\0';
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(d, upper);
    if (ev && ev->value != 0) {
        *out = ev->value;
        return 0;
    }
    fprintf(stderr, "ccipctl: %s must be one of", option);
    for (unsigned k = 0; k < d->n_values; k++)
        if (d->values[k].value != 0)
            fprintf(stderr, " %s", d->values[k].name);
    fprintf(stderr, ", got \"%s\"\n", text);
    return -1;
}

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

/* ---- talking to stats --------------------------------------------------------- */

static int s_call(ctl_opts *o, ccip_client **c, const char *type, const ProtobufCMessage *rq,
                  const ProtobufCMessageDescriptor *reply_desc, ProtobufCMessage **out)
{
    *out = NULL;
    if (!*c && !(*c = ctl_connect(o)))
        return CTL_LOCAL;
    size_t len = protobuf_c_message_get_packed_size(rq);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        fprintf(stderr, "ccipctl: out of memory\n");
        return CTL_LOCAL;
    }
    protobuf_c_message_pack(rq, buf);
    int code;
    Ccip__Envelope *reply = ctl_call(o, *c, SERVICE, type, buf, len, &code);
    free(buf);
    if (!reply)
        return code;
    char err[256];
    *out = ccip_payload_unpack(reply_desc, reply->payload.data, reply->payload.len,
                               reply->payload.len + 1, err, sizeof err);
    ccip_envelope_free(&reply);
    if (!*out) {
        fprintf(stderr, "ccipctl: could not decode stats' reply: %s\n", err);
        return CTL_REFUSED;
    }
    return CTL_OK;
}

typedef void (*s_printer)(const ProtobufCMessage *reply);

/* Sends and prints the reply as JSON, CSV (`csv`, when given) or for
 * people, then frees it. */
static int s_run(ctl_opts *o, const char *type, const ProtobufCMessage *rq,
                 const ProtobufCMessageDescriptor *reply_desc, s_printer print, s_printer csv)
{
    ccip_client *c = NULL;
    ProtobufCMessage *reply = NULL;
    int code = s_call(o, &c, type, rq, reply_desc, &reply);
    if (code == CTL_OK) {
        if (o->json) {
            ctl_json_message(stdout, reply);
            putchar('\n');
        } else if (s_csv_out && csv) {
            csv(reply);
        } else {
            print(reply);
        }
        protobuf_c_message_free_unpacked(reply, NULL);
    }
    ccip_client_destroy(&c);
    return code;
}

/* ---- printing for people -------------------------------------------------------- */

static void s_print_catalogue(const ProtobufCMessage *m)
{
    const Ccip__Stats__CatalogueReply *r = (const Ccip__Stats__CatalogueReply *)m;
    const Ccip__Stats__Catalogue *c = r->catalogue;
    char t[40];
    s_when(c->published_at_us, t, sizeof t);
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
                     s_enum_name(&ccip__stats__roster_kind__descriptor, ind->kinds[k]));
        }
        printf("%-24s %-14s %-22s %-10s %s%s\n", ind->code,
               s_enum_name(&ccip__stats__unit__descriptor, ind->unit), kinds,
               ind->compulsory ? "yes" : "no", ind->name,
               ind->allow_negative ? " (may be negative)" : "");
    }
    for (size_t i = 0; i < c->n_rules; i++) {
        const Ccip__Stats__Rule *rule = c->rules[i];
        printf("rule %s: %s %s %s (%s): %s\n", rule->id, rule->left,
               rule->op == CCIP__STATS__COMPARE_OP__GREATER_OR_EQUAL ? ">=" : "<=", rule->right,
               s_enum_name(&ccip__stats__importance__descriptor, rule->importance), rule->message);
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
           s_enum_name(&ccip__stats__roster_kind__descriptor, e->kind), e->district_code,
           e->category[0] ? e->category : "-", e->operator_uscc, e->first_quarter,
           e->last_quarter[0] ? " to "
           : end[0]           ? " until "
                              : "",
           end, e->name);
}

static void s_print_roster(const ProtobufCMessage *m)
{
    const Ccip__Stats__ListRosterReply *r = (const Ccip__Stats__ListRosterReply *)m;
    for (size_t i = 0; i < r->n_entries; i++)
        s_print_entry(r->entries[i]);
    printf("%zu entr%s\n", r->n_entries, r->n_entries == 1 ? "y" : "ies");
}

static void s_csv_roster(const ProtobufCMessage *m)
{
    const Ccip__Stats__ListRosterReply *r = (const Ccip__Stats__ListRosterReply *)m;
    s_csv_rows(&ccip__stats__roster_entry__descriptor, (ProtobufCMessage *const *)r->entries,
               r->n_entries, 1);
}

static void s_print_entry_reply(const ProtobufCMessage *m)
{
    s_print_entry(((const Ccip__Stats__RosterEntryReply *)m)->entry);
}

static void s_print_report(const ProtobufCMessage *m)
{
    const Ccip__Stats__ReportReply *rr = (const Ccip__Stats__ReportReply *)m;
    const Ccip__Stats__Report *r = rr->report;
    if (!r)
        return;
    char a[40], b[40];
    printf("report     %s\n", r->id);
    printf("entry      %s (%s), district %s\n", r->roster_id, r->roster_name, r->district_code);
    printf("quarter    %s, catalogue version %u\n", r->quarter, r->catalogue_version);
    printf("status     %s\n", s_enum_name(&ccip__stats__report_status__descriptor, r->status));
    s_when(r->first_submitted_at_us, a, sizeof a);
    s_when(r->due_at_us, b, sizeof b);
    printf("submitted  %s (due %s): %s\n", a, b,
           s_enum_name(&ccip__stats__timeliness__descriptor, r->timeliness));
    s_when(r->locks_at_us, a, sizeof a);
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
               s_enum_name(&ccip__stats__importance__descriptor, rr->findings[i]->importance),
               rr->findings[i]->message,
               rr->findings[i]->importance == CCIP__STATS__IMPORTANCE__WARNING &&
                       rr->findings[i]->explained
                   ? ""
                   : "");
    printf("history:\n");
    for (size_t i = 0; i < r->n_history; i++) {
        const Ccip__Stats__Transition *t = r->history[i];
        s_when(t->at_us, a, sizeof a);
        printf("  %s  %s -> %s by %s (%s)%s%s\n", a,
               t->from_status ? s_enum_name(&ccip__stats__report_status__descriptor, t->from_status)
                              : "-",
               s_enum_name(&ccip__stats__report_status__descriptor, t->to_status), t->actor_id,
               t->actor_role, t->reason[0] ? ": " : "", t->reason);
    }
}

static void s_print_reports(const ProtobufCMessage *m)
{
    const Ccip__Stats__ListReportsReply *r = (const Ccip__Stats__ListReportsReply *)m;
    for (size_t i = 0; i < r->n_reports; i++) {
        const Ccip__Stats__ReportSummary *s = r->reports[i];
        char t[40];
        s_when(s->first_submitted_at_us, t, sizeof t);
        printf("%s  %s  %-24s %s %-17s %3u values  first submitted %s\n", s->id, s->quarter,
               s->roster_id, s->district_code,
               s_enum_name(&ccip__stats__report_status__descriptor, s->status), s->values, t);
    }
    printf("%zu report%s\n", r->n_reports, r->n_reports == 1 ? "" : "s");
}

static void s_csv_reports(const ProtobufCMessage *m)
{
    const Ccip__Stats__ListReportsReply *r = (const Ccip__Stats__ListReportsReply *)m;
    s_csv_rows(&ccip__stats__report_summary__descriptor, (ProtobufCMessage *const *)r->reports,
               r->n_reports, 1);
}

static void s_print_audit(const ProtobufCMessage *m)
{
    const Ccip__Stats__AuditReply *r = (const Ccip__Stats__AuditReply *)m;
    printf("audit of report %s\n", r->report_id);
    for (size_t i = 0; i < r->n_entries; i++) {
        const Ccip__Stats__AuditEntry *e = r->entries[i];
        char t[40], old[32], now[32];
        s_when(e->at_us, t, sizeof t);
        snprintf(old, sizeof old, e->had_old ? "%" PRId64 : "-", e->old_value);
        snprintf(now, sizeof now, e->has_new ? "%" PRId64 : "(removed)", e->new_value);
        printf("  %s  %-24s %16s -> %-16s by %s (%s): %s\n", t, e->indicator, old, now, e->actor_id,
               e->actor_role, e->reason);
    }
}

static void s_csv_audit(const ProtobufCMessage *m)
{
    const Ccip__Stats__AuditReply *r = (const Ccip__Stats__AuditReply *)m;
    s_csv_rows(&ccip__stats__audit_entry__descriptor, (ProtobufCMessage *const *)r->entries,
               r->n_entries, 1);
}

static void s_print_exception(const ProtobufCMessage *m)
{
    const Ccip__Stats__LockExceptionReply *r = (const Ccip__Stats__LockExceptionReply *)m;
    char t[40];
    s_when(r->until_us, t, sizeof t);
    printf("roster entry %s may enter %s until %s (granted by %s: %s)\n", r->roster_id, r->quarter,
           t, r->granted_by, r->reason);
}

static void s_print_completeness(const ProtobufCMessage *m)
{
    const Ccip__Stats__CompletenessReply *r = (const Ccip__Stats__CompletenessReply *)m;
    char due[40], locks[40];
    s_when(r->due_at_us, due, sizeof due);
    s_when(r->locks_at_us, locks, sizeof locks);
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
        s_when(c->first_submitted_at_us, t, sizeof t);
        printf("  %s %-24s %-8s %-17s %s  %s\n", c->district_code, c->roster_id,
               s_enum_name(&ccip__stats__timeliness__descriptor, c->timeliness),
               c->status ? s_enum_name(&ccip__stats__report_status__descriptor, c->status)
                         : "no report",
               t, c->name);
    }
}

static void s_csv_completeness(const ProtobufCMessage *m)
{
    const Ccip__Stats__CompletenessReply *r = (const Ccip__Stats__CompletenessReply *)m;
    s_csv_rows(&ccip__stats__district_completeness__descriptor,
               (ProtobufCMessage *const *)r->districts, r->n_districts, 1);
    if (r->total) {
        ProtobufCMessage *total[] = {&r->total->base};
        s_csv_rows(&ccip__stats__district_completeness__descriptor, total, 1, 0);
    }
}

static void s_print_analysis(const ProtobufCMessage *m)
{
    const Ccip__Stats__AnalysisReply *r = (const Ccip__Stats__AnalysisReply *)m;
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

static void s_csv_analysis(const ProtobufCMessage *m)
{
    const Ccip__Stats__AnalysisReply *r = (const Ccip__Stats__AnalysisReply *)m;
    s_csv_rows(&ccip__stats__analysis_row__descriptor, (ProtobufCMessage *const *)r->rows,
               r->n_rows, 1);
}

static void s_print_indicators(const ProtobufCMessage *m)
{
    const Ccip__Stats__EventIndicatorsReply *r = (const Ccip__Stats__EventIndicatorsReply *)m;
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

static void s_csv_indicators(const ProtobufCMessage *m)
{
    const Ccip__Stats__EventIndicatorsReply *r = (const Ccip__Stats__EventIndicatorsReply *)m;
    s_csv_rows(&ccip__stats__event_indicator__descriptor, (ProtobufCMessage *const *)r->rows,
               r->n_rows, 1);
}

static void s_print_rebuild(const ProtobufCMessage *m)
{
    const Ccip__Stats__RebuildReply *r = (const Ccip__Stats__RebuildReply *)m;
    for (size_t i = 0; i < r->n_replayed; i++)
        printf("replayed %s from position 1 to %" PRIu64 "\n", r->replayed[i]->producer,
               r->replayed[i]->position);
    printf("checksum before %s, after %s (%s), %.1f s\n", r->checksum_before, r->checksum_after,
           strcmp(r->checksum_before, r->checksum_after) == 0 ? "identical" : "changed",
           (double)r->took_us / 1e6);
}

static void s_print_checksum(const ProtobufCMessage *m)
{
    const Ccip__Stats__ChecksumReply *r = (const Ccip__Stats__ChecksumReply *)m;
    printf("%s  %" PRIu64 " rows\n", r->checksum, r->rows);
}

static void s_print_release_head(const Ccip__Stats__Release *r)
{
    char e[40], p[40];
    s_when(r->embargo_until_us, e, sizeof e);
    s_when(r->published_at_us, p, sizeof p);
    printf("%s v%u  %s  licence %s, published %s by %s, embargo until %s%s%s\n", r->quarter,
           r->version, r->title, r->licence, p, r->published_by, e,
           r->change_note[0] ? "; change: " : "", r->change_note);
}

static const char *s_release_file; /* release show --file */

static void s_print_release(const ProtobufCMessage *m)
{
    const Ccip__Stats__Release *r = ((const Ccip__Stats__ReleaseReply *)m)->release;
    if (s_release_file) {
        for (size_t i = 0; i < r->n_files; i++)
            if (strcmp(r->files[i]->name, s_release_file) == 0) {
                fputs(r->files[i]->content, stdout);
                return;
            }
        fprintf(stderr, "ccipctl: the release has no file %s\n", s_release_file);
        return;
    }
    s_print_release_head(r);
    printf("%s", r->summary);
    for (size_t i = 0; i < r->n_files; i++)
        printf("file %-16s %-28s %zu bytes\n", r->files[i]->name, r->files[i]->media_type,
               strlen(r->files[i]->content));
}

static void s_print_releases(const ProtobufCMessage *m)
{
    const Ccip__Stats__ListReleasesReply *r = (const Ccip__Stats__ListReleasesReply *)m;
    for (size_t i = 0; i < r->n_releases; i++)
        s_print_release_head(r->releases[i]);
    printf("%zu release%s\n", r->n_releases, r->n_releases == 1 ? "" : "s");
}

static void s_csv_releases(const ProtobufCMessage *m)
{
    const Ccip__Stats__ListReleasesReply *r = (const Ccip__Stats__ListReleasesReply *)m;
    s_csv_rows(&ccip__stats__release__descriptor, (ProtobufCMessage *const *)r->releases,
               r->n_releases, 1);
}

/* ---- option helpers ---------------------------------------------------------------- */

#define GO_ON (-1)

static int s_help(const char *usage, int c)
{
    fputs(usage, c == 'h' ? stdout : stderr);
    return c == 'h' ? CTL_OK : CTL_USAGE;
}

static int s_positional(int argc, char **argv, int want, const char *usage)
{
    if (argc - optind == want)
        return GO_ON;
    if (argc - optind < want)
        fprintf(stderr, "ccipctl: missing argument\n%s", usage);
    else
        fprintf(stderr, "ccipctl: unexpected argument \"%s\"\n%s", argv[optind + want], usage);
    return CTL_USAGE;
}

/* A required option: missing when NULL or "" (a request's default). */
static int s_required(const char *value, const char *option, const char *usage)
{
    if (value && value[0])
        return GO_ON;
    fprintf(stderr, "ccipctl: %s is required\n%s", option, usage);
    return CTL_USAGE;
}

/* Splits "CODE=TEXT" at the first '='. */
static int s_pair(const char *option, char *text, char **value)
{
    char *eq = strchr(text, '=');
    if (!eq || eq == text) {
        fprintf(stderr, "ccipctl: %s takes CODE=VALUE, got \"%s\"\n", option, text);
        return -1;
    }
    *eq = '\0';
    *value = eq + 1;
    return 0;
}

/* Values given on the command line, converted with the catalogue's units. */
typedef struct {
    Ccip__Stats__Value v[VALUES_MAX];
    Ccip__Stats__Value *p[VALUES_MAX];
    size_t n;
    char *text[VALUES_MAX]; /* as typed, until converted */
    char *remove[VALUES_MAX];
    size_t nremove;
    char *explain_code[VALUES_MAX];
    char *explain_text[VALUES_MAX];
    size_t nexplain;
} s_values;

static int s_values_opt(s_values *vs, int c, char *arg)
{
    char *value;
    if (c == 'v') {
        if (vs->n == VALUES_MAX || s_pair("--value", arg, &value) < 0)
            return -1;
        vs->v[vs->n] = (Ccip__Stats__Value)CCIP__STATS__VALUE__INIT;
        vs->v[vs->n].code = arg;
        vs->text[vs->n] = value;
        vs->p[vs->n] = &vs->v[vs->n];
        vs->n++;
    } else if (c == 'x') {
        if (vs->nexplain == VALUES_MAX || s_pair("--explain", arg, &value) < 0)
            return -1;
        vs->explain_code[vs->nexplain] = arg;
        vs->explain_text[vs->nexplain++] = value;
    } else if (c == 'm') {
        if (vs->nremove == VALUES_MAX)
            return -1;
        vs->remove[vs->nremove++] = arg;
    }
    return 0;
}

/* Converts the typed values with the units of catalogue version `version`
 * (0: the one `quarter` is collected with) and attaches explanations.
 * Returns a CTL_ code. */
static int s_values_convert(ctl_opts *o, ccip_client **c, s_values *vs, uint32_t version,
                            const char *quarter)
{
    Ccip__Stats__GetCatalogueRequest rq = CCIP__STATS__GET_CATALOGUE_REQUEST__INIT;
    rq.version = version;
    rq.quarter = (char *)(quarter ? quarter : "");
    Ccip__Stats__CatalogueReply *cat = NULL;
    int code = s_call(o, c, "stats.catalogue.get.v1", &rq.base,
                      &ccip__stats__catalogue_reply__descriptor, (ProtobufCMessage **)&cat);
    if (code != CTL_OK)
        return code;
    for (size_t i = 0; i < vs->n && code == CTL_OK; i++) {
        Ccip__Stats__Value *v = &vs->v[i];
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
            long long n = strtoll(vs->text[i], &end, 10);
            ok = !errno && end != vs->text[i] && !*end;
            v->value = n;
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
        while (i < vs->n && strcmp(vs->v[i].code, vs->explain_code[e]) != 0)
            i++;
        if (i == vs->n) {
            fprintf(stderr, "ccipctl: --explain %s: give its --value in the same command\n",
                    vs->explain_code[e]);
            code = CTL_USAGE;
        } else {
            vs->v[i].explanation = vs->explain_text[e];
        }
    }
    protobuf_c_message_free_unpacked(&cat->base, NULL);
    return code;
}

/* ---- commands ------------------------------------------------------------------------ */

static const char S_CATALOGUE[] =
    "usage: ccipctl stats catalogue show [--version N | --quarter QUARTER]\n"
    "  the indicators (code, unit, who reports them) and rules of a catalogue version: the\n"
    "  given one, the one QUARTER (e.g. 2026Q3) is collected with, or the newest\n";

static int s_catalogue_show(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"version", required_argument, NULL, 'n'},
                                          {"quarter", required_argument, NULL, 'q'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    Ccip__Stats__GetCatalogueRequest rq = CCIP__STATS__GET_CATALOGUE_REQUEST__INIT;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'n')
            rq.version = (uint32_t)strtoul(optarg, NULL, 10);
        else if (c == 'q')
            rq.quarter = optarg;
        else
            return s_help(S_CATALOGUE, c);
    }
    int rc = s_positional(argc, argv, 0, S_CATALOGUE);
    if (rc != GO_ON)
        return rc;
    return s_run(o, "stats.catalogue.get.v1", &rq.base, &ccip__stats__catalogue_reply__descriptor,
                 s_print_catalogue, NULL);
}

static const char S_ROSTER_LIST[] =
    "usage: ccipctl stats roster list [--quarter QUARTER] [--district DISTRICT]\n"
    "  the monitoring roster (kept from evaluation's designations): every entry, or those\n"
    "  asked to report for QUARTER. An operator sees its own entries, a district office its\n"
    "  district's.\n";

static int s_roster_list(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"quarter", required_argument, NULL, 'q'},
                                          {"district", required_argument, NULL, 'd'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    Ccip__Stats__ListRosterRequest rq = CCIP__STATS__LIST_ROSTER_REQUEST__INIT;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'q')
            rq.quarter = optarg;
        else if (c == 'd')
            rq.district = optarg;
        else
            return s_help(S_ROSTER_LIST, c);
    }
    int rc = s_positional(argc, argv, 0, S_ROSTER_LIST);
    if (rc != GO_ON)
        return rc;
    return s_run(o, "stats.roster.list.v1", &rq.base, &ccip__stats__list_roster_reply__descriptor,
                 s_print_roster, s_csv_roster);
}

static const char S_ROSTER_CATEGORISE[] =
    "usage: ccipctl --role staff stats roster categorise ID CATEGORY\n"
    "  sets the category the analysis groups an entry by (a-z, 0-9, '_'; \"\" clears it)\n";

static int s_roster_categorise(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1)
        return s_help(S_ROSTER_CATEGORISE, c);
    int rc = s_positional(argc, argv, 2, S_ROSTER_CATEGORISE);
    if (rc != GO_ON)
        return rc;
    Ccip__Stats__CategoriseRosterEntryRequest rq =
        CCIP__STATS__CATEGORISE_ROSTER_ENTRY_REQUEST__INIT;
    rq.id = argv[optind];
    rq.category = argv[optind + 1];
    return s_run(o, "stats.roster.categorise.v1", &rq.base,
                 &ccip__stats__roster_entry_reply__descriptor, s_print_entry_reply, NULL);
}

static const char S_SAVE[] =
    "usage: ccipctl --role operator --actor org:USCC stats report save --roster ID\n"
    "           --quarter QUARTER [--value CODE=VALUE]... [--explain CODE=TEXT]...\n"
    "           [--remove CODE]... [--note TEXT]\n"
    "  saves the entry's report of QUARTER as a draft (creating it): the values given are set,\n"
    "  the --remove'd cleared, the rest kept. VALUE in the indicator's unit: yuan for money\n"
    "  (1234.56), a percentage for rates (87.5), whole numbers otherwise. --explain writes why\n"
    "  a warned value is right (it needs that value in the same command). Prints the report\n"
    "  with what the validation finds.\n";

static int s_report_save(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"roster", required_argument, NULL, 'r'}, {"quarter", required_argument, NULL, 'q'},
        {"value", required_argument, NULL, 'v'},  {"explain", required_argument, NULL, 'x'},
        {"remove", required_argument, NULL, 'm'}, {"note", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    static s_values vs;
    memset(&vs, 0, sizeof vs);
    Ccip__Stats__SaveReportRequest rq = CCIP__STATS__SAVE_REPORT_REQUEST__INIT;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'r')
            rq.roster_id = optarg;
        else if (c == 'q')
            rq.quarter = optarg;
        else if (c == 'n')
            rq.note = optarg;
        else if (c == 'v' || c == 'x' || c == 'm') {
            if (s_values_opt(&vs, c, optarg) < 0)
                return CTL_USAGE;
        } else
            return s_help(S_SAVE, c);
    }
    int rc = s_positional(argc, argv, 0, S_SAVE);
    if (rc == GO_ON)
        rc = s_required(rq.roster_id, "--roster", S_SAVE);
    if (rc == GO_ON)
        rc = s_required(rq.quarter, "--quarter", S_SAVE);
    if (rc != GO_ON)
        return rc;
    ccip_client *cl = NULL;
    rc = s_values_convert(o, &cl, &vs, 0, rq.quarter);
    ccip_client_destroy(&cl);
    if (rc != CTL_OK)
        return rc;
    rq.values = vs.p;
    rq.n_values = vs.n;
    rq.remove = vs.remove;
    rq.n_remove = vs.nremove;
    return s_run(o, "stats.report.save.v1", &rq.base, &ccip__stats__report_reply__descriptor,
                 s_print_report, NULL);
}

static const char S_SUBMIT[] =
    "usage: ccipctl --role operator --actor org:USCC stats report submit REPORT_ID\n"
    "           [--explain CODE=TEXT]...\n"
    "  submits the report to the district: refused while it has errors or warnings without a\n"
    "  written explanation (--explain sets them first)\n";

static int s_report_submit(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"explain", required_argument, NULL, 'x'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    static Ccip__Stats__Explanation ex[VALUES_MAX];
    static Ccip__Stats__Explanation *exp[VALUES_MAX];
    Ccip__Stats__SubmitReportRequest rq = CCIP__STATS__SUBMIT_REPORT_REQUEST__INIT;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'x') {
            char *text;
            if (rq.n_explanations == VALUES_MAX || s_pair("--explain", optarg, &text) < 0)
                return CTL_USAGE;
            ex[rq.n_explanations] = (Ccip__Stats__Explanation)CCIP__STATS__EXPLANATION__INIT;
            ex[rq.n_explanations].code = optarg;
            ex[rq.n_explanations].text = text;
            exp[rq.n_explanations] = &ex[rq.n_explanations];
            rq.n_explanations++;
        } else {
            return s_help(S_SUBMIT, c);
        }
    }
    int rc = s_positional(argc, argv, 1, S_SUBMIT);
    if (rc != GO_ON)
        return rc;
    rq.report_id = argv[optind];
    rq.explanations = exp;
    return s_run(o, "stats.report.submit.v1", &rq.base, &ccip__stats__report_reply__descriptor,
                 s_print_report, NULL);
}

static const char S_SHOW[] =
    "usage: ccipctl stats report show REPORT_ID | --roster ID --quarter QUARTER\n"
    "  a report: values, validation findings, timeliness and history\n";

static const char S_AUDIT[] = "usage: ccipctl stats report audit REPORT_ID | --roster ID --quarter "
                              "QUARTER\n"
                              "  every value of the report as accepted, and every change since\n"
                              "  (old, new, who, when, why)\n";

static int s_report_get(ctl_opts *o, int argc, char **argv, int audit)
{
    static const struct option longs[] = {{"roster", required_argument, NULL, 'r'},
                                          {"quarter", required_argument, NULL, 'q'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *usage = audit ? S_AUDIT : S_SHOW;
    Ccip__Stats__GetReportRequest rq = CCIP__STATS__GET_REPORT_REQUEST__INIT;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'r')
            rq.roster_id = optarg;
        else if (c == 'q')
            rq.quarter = optarg;
        else
            return s_help(usage, c);
    }
    int rc = s_positional(argc, argv, rq.roster_id[0] ? 0 : 1, usage);
    if (rc != GO_ON)
        return rc;
    if (!rq.roster_id[0])
        rq.report_id = argv[optind];
    if (audit)
        return s_run(o, "stats.report.audit.v1", &rq.base, &ccip__stats__audit_reply__descriptor,
                     s_print_audit, s_csv_audit);
    return s_run(o, "stats.report.get.v1", &rq.base, &ccip__stats__report_reply__descriptor,
                 s_print_report, NULL);
}

static int s_report_show(ctl_opts *o, int argc, char **argv)
{
    return s_report_get(o, argc, argv, 0);
}

static int s_report_audit(ctl_opts *o, int argc, char **argv)
{
    return s_report_get(o, argc, argv, 1);
}

static const char S_LIST[] =
    "usage: ccipctl stats report list [--quarter QUARTER] [--district DISTRICT]\n"
    "           [--status STATUS] [--roster ID]\n"
    "  reports (an operator sees its own, a district office its district's). STATUS: DRAFT,\n"
    "  SUBMITTED, DISTRICT_APPROVED, ACCEPTED, RETURNED\n";

static int s_report_list(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"quarter", required_argument, NULL, 'q'}, {"district", required_argument, NULL, 'd'},
        {"status", required_argument, NULL, 's'},  {"roster", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    Ccip__Stats__ListReportsRequest rq = CCIP__STATS__LIST_REPORTS_REQUEST__INIT;
    int c, v;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'q')
            rq.quarter = optarg;
        else if (c == 'd')
            rq.district = optarg;
        else if (c == 'r')
            rq.roster_id = optarg;
        else if (c == 's') {
            if (s_enum_parse(&ccip__stats__report_status__descriptor, "--status", optarg, &v) < 0)
                return CTL_USAGE;
            rq.status = (Ccip__Stats__ReportStatus)v;
        } else
            return s_help(S_LIST, c);
    }
    int rc = s_positional(argc, argv, 0, S_LIST);
    if (rc != GO_ON)
        return rc;
    return s_run(o, "stats.report.list.v1", &rq.base, &ccip__stats__list_reports_reply__descriptor,
                 s_print_reports, s_csv_reports);
}

static const char S_REVIEW[] =
    "usage: ccipctl --role district --actor district:CODE stats report review REPORT_ID\n"
    "           (--approve [--reason TEXT] | --return --reason TEXT)\n"
    "  the district's review of a submitted report of its district\n";

static const char S_DECIDE[] =
    "usage: ccipctl --role staff --actor ID stats report decide REPORT_ID\n"
    "           (--accept [--reason TEXT] | --return --reason TEXT)\n"
    "  the center accepts a report the district approved, or returns it to the operator\n";

static int s_report_decision(ctl_opts *o, int argc, char **argv, int center)
{
    static const struct option longs[] = {
        {"approve", no_argument, NULL, 'a'}, {"accept", no_argument, NULL, 'a'},
        {"return", no_argument, NULL, 'r'},  {"reason", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},    {NULL, 0, NULL, 0}};
    const char *usage = center ? S_DECIDE : S_REVIEW;
    Ccip__Stats__DecideReportRequest rq = CCIP__STATS__DECIDE_REPORT_REQUEST__INIT;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'a')
            rq.decision = CCIP__STATS__DECISION__APPROVE;
        else if (c == 'r')
            rq.decision = CCIP__STATS__DECISION__RETURN;
        else if (c == 'n')
            rq.reason = optarg;
        else
            return s_help(usage, c);
    }
    int rc = s_positional(argc, argv, 1, usage);
    if (rc == GO_ON && !rq.decision) {
        fprintf(stderr, "ccipctl: say %s or --return\n%s", center ? "--accept" : "--approve",
                usage);
        rc = CTL_USAGE;
    }
    if (rc != GO_ON)
        return rc;
    rq.report_id = argv[optind];
    return s_run(o, center ? "stats.report.decide.v1" : "stats.report.review.v1", &rq.base,
                 &ccip__stats__report_reply__descriptor, s_print_report, NULL);
}

static int s_report_review(ctl_opts *o, int argc, char **argv)
{
    return s_report_decision(o, argc, argv, 0);
}

static int s_report_decide(ctl_opts *o, int argc, char **argv)
{
    return s_report_decision(o, argc, argv, 1);
}

static const char S_CORRECT[] =
    "usage: ccipctl --role staff --actor ID stats report correct REPORT_ID\n"
    "           [--value CODE=VALUE]... [--remove CODE]... --reason TEXT\n"
    "  changes values of an accepted report; every change is audited (old, new, who, when,\n"
    "  why)\n";

static int s_report_correct(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"value", required_argument, NULL, 'v'},
                                          {"remove", required_argument, NULL, 'm'},
                                          {"reason", required_argument, NULL, 'n'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    static s_values vs;
    memset(&vs, 0, sizeof vs);
    Ccip__Stats__CorrectReportRequest rq = CCIP__STATS__CORRECT_REPORT_REQUEST__INIT;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'n')
            rq.reason = optarg;
        else if (c == 'v' || c == 'm') {
            if (s_values_opt(&vs, c, optarg) < 0)
                return CTL_USAGE;
        } else
            return s_help(S_CORRECT, c);
    }
    int rc = s_positional(argc, argv, 1, S_CORRECT);
    if (rc != GO_ON)
        return rc;
    rq.report_id = argv[optind];
    /* The report's catalogue version gives the units. */
    ccip_client *cl = NULL;
    Ccip__Stats__GetReportRequest g = CCIP__STATS__GET_REPORT_REQUEST__INIT;
    g.report_id = rq.report_id;
    Ccip__Stats__ReportReply *r = NULL;
    rc = s_call(o, &cl, "stats.report.get.v1", &g.base, &ccip__stats__report_reply__descriptor,
                (ProtobufCMessage **)&r);
    if (rc == CTL_OK)
        rc = s_values_convert(o, &cl, &vs, r->report->catalogue_version, NULL);
    if (r)
        protobuf_c_message_free_unpacked(&r->base, NULL);
    ccip_client_destroy(&cl);
    if (rc != CTL_OK)
        return rc;
    rq.values = vs.p;
    rq.n_values = vs.n;
    rq.remove = vs.remove;
    rq.n_remove = vs.nremove;
    return s_run(o, "stats.report.correct.v1", &rq.base, &ccip__stats__report_reply__descriptor,
                 s_print_report, NULL);
}

static const char S_LOCK[] =
    "usage: ccipctl --role staff --actor ID stats lock grant --roster ID --quarter QUARTER\n"
    "           --until TIME --reason TEXT\n"
    "  lets one roster entry enter a locked quarter until TIME (at most\n"
    "  stats.max_exception_days away)\n";

static int s_lock_grant(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"roster", required_argument, NULL, 'r'}, {"quarter", required_argument, NULL, 'q'},
        {"until", required_argument, NULL, 'u'},  {"reason", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    Ccip__Stats__GrantLockExceptionRequest rq = CCIP__STATS__GRANT_LOCK_EXCEPTION_REQUEST__INIT;
    const char *until = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'r')
            rq.roster_id = optarg;
        else if (c == 'q')
            rq.quarter = optarg;
        else if (c == 'u')
            until = optarg;
        else if (c == 'n')
            rq.reason = optarg;
        else
            return s_help(S_LOCK, c);
    }
    int rc = s_positional(argc, argv, 0, S_LOCK);
    if (rc == GO_ON)
        rc = s_required(until, "--until", S_LOCK);
    if (rc != GO_ON)
        return rc;
    if (s_time("--until", until, &rq.until_us) < 0)
        return CTL_USAGE;
    return s_run(o, "stats.lock.grant.v1", &rq.base, &ccip__stats__lock_exception_reply__descriptor,
                 s_print_exception, NULL);
}

static const char S_COMPLETENESS[] =
    "usage: ccipctl stats completeness QUARTER [--district DISTRICT]\n"
    "  who reported QUARTER (e.g. 2026Q3) on time, late or not at all, by district\n";

static int s_completeness(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"district", required_argument, NULL, 'd'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    Ccip__Stats__CompletenessRequest rq = CCIP__STATS__COMPLETENESS_REQUEST__INIT;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'd')
            rq.district = optarg;
        else
            return s_help(S_COMPLETENESS, c);
    }
    int rc = s_positional(argc, argv, 1, S_COMPLETENESS);
    if (rc != GO_ON)
        return rc;
    rq.quarter = argv[optind];
    return s_run(o, "stats.completeness.get.v1", &rq.base,
                 &ccip__stats__completeness_reply__descriptor, s_print_completeness,
                 s_csv_completeness);
}

static const char S_ANALYSIS[] =
    "usage: ccipctl stats analysis QUARTER\n"
    "  the accepted reports of QUARTER by district and category: sums, means, growth on the\n"
    "  previous quarter and the year before (like for like), ranks; incomplete groups marked\n";

static const char S_INDICATORS[] =
    "usage: ccipctl stats indicators QUARTER [--district DISTRICT]\n"
    "  indicators computed from the other services' events: applications, decisions, funds,\n"
    "  IP registrations, trades and disputes, by district and kind\n";

static int s_quarter_cmd(ctl_opts *o, int argc, char **argv, int indicators)
{
    static const struct option longs[] = {{"district", required_argument, NULL, 'd'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *usage = indicators ? S_INDICATORS : S_ANALYSIS;
    const char *district = "";
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'd' && indicators)
            district = optarg;
        else
            return s_help(usage, c);
    }
    int rc = s_positional(argc, argv, 1, usage);
    if (rc != GO_ON)
        return rc;
    if (indicators) {
        Ccip__Stats__EventIndicatorsRequest rq = CCIP__STATS__EVENT_INDICATORS_REQUEST__INIT;
        rq.quarter = argv[optind];
        rq.district = (char *)district;
        return s_run(o, "stats.indicators.get.v1", &rq.base,
                     &ccip__stats__event_indicators_reply__descriptor, s_print_indicators,
                     s_csv_indicators);
    }
    Ccip__Stats__AnalysisRequest rq = CCIP__STATS__ANALYSIS_REQUEST__INIT;
    rq.quarter = argv[optind];
    return s_run(o, "stats.analysis.get.v1", &rq.base, &ccip__stats__analysis_reply__descriptor,
                 s_print_analysis, s_csv_analysis);
}

static int s_analysis(ctl_opts *o, int argc, char **argv)
{
    return s_quarter_cmd(o, argc, argv, 0);
}

static int s_indicators(ctl_opts *o, int argc, char **argv)
{
    return s_quarter_cmd(o, argc, argv, 1);
}

static const char S_REBUILD[] =
    "usage: ccipctl --role admin stats projections rebuild\n"
    "  empties the event-derived tables and replays every stream from position 1 up to where\n"
    "  stats had applied it, in one transaction; prints the checksums before and after\n";

static const char S_CHECKSUM[] = "usage: ccipctl stats projections checksum\n"
                                 "  the checksum of every row of the event-derived tables\n";

static int s_projections(ctl_opts *o, int argc, char **argv, int rebuild)
{
    static const struct option longs[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *usage = rebuild ? S_REBUILD : S_CHECKSUM;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1)
        return s_help(usage, c);
    int rc = s_positional(argc, argv, 0, usage);
    if (rc != GO_ON)
        return rc;
    if (rebuild) {
        /* Unless --timeout was given, wait as long as a rebuild may take. */
        if (o->timeout_ms == CTL_DEFAULT_TIMEOUT_MS)
            o->timeout_ms = REBUILD_TIMEOUT_MS;
        Ccip__Stats__RebuildRequest rq = CCIP__STATS__REBUILD_REQUEST__INIT;
        return s_run(o, "stats.projections.rebuild.v1", &rq.base,
                     &ccip__stats__rebuild_reply__descriptor, s_print_rebuild, NULL);
    }
    Ccip__Stats__ChecksumRequest rq = CCIP__STATS__CHECKSUM_REQUEST__INIT;
    return s_run(o, "stats.projections.checksum.v1", &rq.base,
                 &ccip__stats__checksum_reply__descriptor, s_print_checksum, NULL);
}

static int s_rebuild(ctl_opts *o, int argc, char **argv)
{
    return s_projections(o, argc, argv, 1);
}

static int s_checksum(ctl_opts *o, int argc, char **argv)
{
    return s_projections(o, argc, argv, 0);
}

static const char S_PUBLISH[] =
    "usage: ccipctl --role analyst --actor ID stats release publish QUARTER --title TEXT\n"
    "           --licence LICENCE [--embargo TIME] [--note CHANGE_NOTE]\n"
    "  builds the bulletin of QUARTER from the analysis (text summary, HTML with SVG charts,\n"
    "  CSV and JSON) and publishes it as the next version; nobody but analysts can read it\n"
    "  before TIME. A correction (version 2 on) needs --note.\n";

static int s_release_publish(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {
        {"title", required_argument, NULL, 't'},   {"licence", required_argument, NULL, 'l'},
        {"embargo", required_argument, NULL, 'e'}, {"note", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    Ccip__Stats__PublishReleaseRequest rq = CCIP__STATS__PUBLISH_RELEASE_REQUEST__INIT;
    const char *embargo = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 't')
            rq.title = optarg;
        else if (c == 'l')
            rq.licence = optarg;
        else if (c == 'e')
            embargo = optarg;
        else if (c == 'n')
            rq.change_note = optarg;
        else
            return s_help(S_PUBLISH, c);
    }
    int rc = s_positional(argc, argv, 1, S_PUBLISH);
    if (rc == GO_ON)
        rc = s_required(rq.title, "--title", S_PUBLISH);
    if (rc == GO_ON)
        rc = s_required(rq.licence, "--licence", S_PUBLISH);
    if (rc != GO_ON)
        return rc;
    if (embargo && s_time("--embargo", embargo, &rq.embargo_until_us) < 0)
        return CTL_USAGE;
    rq.quarter = argv[optind];
    return s_run(o, "stats.release.publish.v1", &rq.base, &ccip__stats__release_reply__descriptor,
                 s_print_release, NULL);
}

static const char S_RELEASE_SHOW[] =
    "usage: ccipctl stats release show QUARTER [--version N] [--file NAME]\n"
    "  a release (the latest version you may read, or version N); --file prints one of its\n"
    "  files: summary.txt, bulletin.html, analysis.json, totals.csv, districts.csv,\n"
    "  categories.csv\n";

static int s_release_show(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"version", required_argument, NULL, 'n'},
                                          {"file", required_argument, NULL, 'f'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    Ccip__Stats__GetReleaseRequest rq = CCIP__STATS__GET_RELEASE_REQUEST__INIT;
    int c;
    optind = 0;
    s_release_file = NULL;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'n')
            rq.version = (uint32_t)strtoul(optarg, NULL, 10);
        else if (c == 'f')
            s_release_file = optarg;
        else
            return s_help(S_RELEASE_SHOW, c);
    }
    int rc = s_positional(argc, argv, 1, S_RELEASE_SHOW);
    if (rc != GO_ON)
        return rc;
    rq.quarter = argv[optind];
    return s_run(o, "stats.release.get.v1", &rq.base, &ccip__stats__release_reply__descriptor,
                 s_print_release, NULL);
}

static const char S_RELEASE_LIST[] =
    "usage: ccipctl stats release list [--quarter QUARTER] [--search TEXT]\n"
    "  releases you may read (embargoed ones only with the analyst role)\n";

static int s_release_list(ctl_opts *o, int argc, char **argv)
{
    static const struct option longs[] = {{"quarter", required_argument, NULL, 'q'},
                                          {"search", required_argument, NULL, 's'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    Ccip__Stats__ListReleasesRequest rq = CCIP__STATS__LIST_RELEASES_REQUEST__INIT;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'q')
            rq.quarter = optarg;
        else if (c == 's')
            rq.search = optarg;
        else
            return s_help(S_RELEASE_LIST, c);
    }
    int rc = s_positional(argc, argv, 0, S_RELEASE_LIST);
    if (rc != GO_ON)
        return rc;
    return s_run(o, "stats.release.list.v1", &rq.base,
                 &ccip__stats__list_releases_reply__descriptor, s_print_releases, s_csv_releases);
}

/* ---- dispatch ------------------------------------------------------------------------- */

typedef struct {
    const char *group; /* first word */
    const char *verb;  /* second word; "" for one-word commands */
    int (*fn)(ctl_opts *o, int argc, char **argv);
    const char *line; /* one line of help */
} s_command;

static const s_command S_COMMANDS[] = {
    {"catalogue", "show", s_catalogue_show, "indicators, units and rules of a version"},
    {"roster", "list", s_roster_list, "the monitoring roster"},
    {"roster", "categorise", s_roster_categorise, "set an entry's category (staff)"},
    {"report", "save", s_report_save, "save values as a draft (operator)"},
    {"report", "submit", s_report_submit, "submit, with explanations (operator)"},
    {"report", "show", s_report_show, "a report, its findings and history"},
    {"report", "list", s_report_list, "reports by quarter, district, status"},
    {"report", "review", s_report_review, "approve or return (district)"},
    {"report", "decide", s_report_decide, "accept or return (staff)"},
    {"report", "correct", s_report_correct, "change accepted values, audited (staff)"},
    {"report", "audit", s_report_audit, "the history of every accepted value"},
    {"lock", "grant", s_lock_grant, "a time-limited lock exception (staff)"},
    {"completeness", "", s_completeness, "on time, late, missing by district"},
    {"analysis", "", s_analysis, "sums, growth and ranks of a quarter"},
    {"indicators", "", s_indicators, "indicators from the services' events"},
    {"projections", "rebuild", s_rebuild, "replay every stream into the tables (admin)"},
    {"projections", "checksum", s_checksum, "checksum of the event-derived tables"},
    {"release", "publish", s_release_publish, "publish a bulletin (analyst)"},
    {"release", "show", s_release_show, "a release or one of its files"},
    {"release", "list", s_release_list, "releases, searchable"},
};
#define NCOMMANDS (sizeof S_COMMANDS / sizeof S_COMMANDS[0])

static void s_overview(FILE *f)
{
    fputs("usage: ccipctl [--json] --role ROLE --actor ID stats [--csv] COMMAND [ARGS]\n"
          "  roles: staff/admin (center), district (actor district:<code>), operator (actor\n"
          "  org:<unified social credit code>), analyst, or none (a service, read only).\n"
          "  QUARTER is written like 2026Q3. Every command has --help.\n\n",
          f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  stats %-12s %-10s %s\n", S_COMMANDS[i].group, S_COMMANDS[i].verb,
                S_COMMANDS[i].line);
}

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
    argc = n;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        s_overview(argc < 2 ? stderr : stdout);
        return argc < 2 ? CTL_USAGE : CTL_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], S_COMMANDS[i].group) != 0)
            continue;
        if (!S_COMMANDS[i].verb[0])
            return S_COMMANDS[i].fn(o, argc - 1, argv + 1);
        if (argc >= 3 && strcmp(argv[2], S_COMMANDS[i].verb) == 0)
            return S_COMMANDS[i].fn(o, argc - 2, argv + 2);
    }
    fprintf(stderr, "ccipctl: unknown command \"stats %s%s%s\"\n", argv[1], argc >= 3 ? " " : "",
            argc >= 3 ? argv[2] : "");
    s_overview(stderr);
    return CTL_USAGE;
}
