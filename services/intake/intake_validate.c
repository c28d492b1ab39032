#include "intake_validate.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ccip_id.h"
#include "ccip_validate.h"

#define ERR_TMP 400 /* bytes of a message from ccip_validate before it is embedded */

__attribute__((format(printf, 3, 4))) static int s_fail(char *err, size_t errlen, const char *fmt,
                                                        ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A text field: valid UTF-8 without control characters, min..max
 * characters. An empty required field gets a sentence saying what to give. */
static int s_text(const char *field, const char *s, size_t min, size_t max, int flags, char *err,
                  size_t errlen)
{
    if (min > 0 && (!s || !*s))
        return s_fail(err, errlen, "field `%s` is empty; give %zu to %zu characters", field, min,
                      max);
    return ccip_text_check(field, s ? s : "", min, max, flags, err, errlen);
}

int intake_validate_uuid(const char *field, const char *s, char *err, size_t errlen)
{
    if (!s || !*s)
        return s_fail(err, errlen, "field `%s` is empty; give the id as a UUID", field);
    if (ccip_uuid_valid(s))
        return 0;
    char shown[48];
    size_t i = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && i + 5 < sizeof shown; p++)
        i += (size_t)snprintf(shown + i, sizeof shown - i,
                              *p >= 0x20 && *p < 0x7f ? "%c" : "\\x%02x", *p);
    return s_fail(err, errlen,
                  "field `%s` must be a UUID in lower case such as "
                  "0193a5d2-7c1e-7b3a-9f00-1a2b3c4d5e6f, got \"%s\"",
                  field, shown);
}

static const char *s_enum_name(const ProtobufCEnumDescriptor *d, int v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    return ev ? ev->name : NULL;
}

/* The names of an enum's values except the zero one, ", "-separated. */
static void s_enum_list(const ProtobufCEnumDescriptor *d, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (unsigned i = 0; i < d->n_values; i++) {
        if (d->values[i].value == 0)
            continue;
        n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s", n ? ", " : "",
                              d->values[i].name);
    }
}

static int s_enum_field(const ProtobufCEnumDescriptor *d, const char *field, int v, char *err,
                        size_t errlen)
{
    if (v != 0 && s_enum_name(d, v))
        return 0;
    char names[256];
    s_enum_list(d, names, sizeof names);
    if (v == 0)
        return s_fail(err, errlen, "field `%s` is not set; give one of %s", field, names);
    return s_fail(err, errlen, "field `%s` has the unknown value %d; give one of %s", field, v,
                  names);
}

int intake_validate_open_call(const Ccip__Intake__OpenCallRequest *rq, char *err, size_t errlen)
{
    if (s_enum_field(&ccip__intake__call_kind__descriptor, "kind", (int)rq->kind, err, errlen) < 0)
        return -1;
    if (rq->year < INTAKE_YEAR_MIN || rq->year > INTAKE_YEAR_MAX)
        return s_fail(err, errlen, "field `year` must be between %d and %d, got %d",
                      INTAKE_YEAR_MIN, INTAKE_YEAR_MAX, rq->year);
    if (s_text("title", rq->title, 1, INTAKE_TITLE_MAX, 0, err, errlen) < 0)
        return -1;
    if (rq->opens_at_us <= 0 || rq->closes_at_us <= 0)
        return s_fail(err, errlen,
                      "fields `opens_at_us` and `closes_at_us` must both be set (UTC microseconds "
                      "since 1970)");
    char t[CCIP_TIME_STRLEN + 1] = "", u[CCIP_TIME_STRLEN + 1] = "";
    if (ccip_time_format_us(rq->opens_at_us, t, sizeof t) < 0 ||
        ccip_time_format_us(rq->closes_at_us, u, sizeof u) < 0)
        return s_fail(err, errlen,
                      "fields `opens_at_us` and `closes_at_us` must be times between the years "
                      "0001 and 9999");
    if (rq->closes_at_us <= rq->opens_at_us)
        return s_fail(err, errlen,
                      "field `closes_at_us` (%s) must be later than `opens_at_us` (%s)", u, t);
    if (rq->n_required_documents > INTAKE_REQUIRED_DOCS_MAX)
        return s_fail(err, errlen, "field `required_documents` may name at most %d types, got %zu",
                      INTAKE_REQUIRED_DOCS_MAX, rq->n_required_documents);
    for (size_t i = 0; i < rq->n_required_documents; i++) {
        char tmp[ERR_TMP];
        if (ccip_code_check("required_documents", rq->required_documents[i], INTAKE_CODE_MAX, tmp,
                            sizeof tmp) < 0)
            return s_fail(err, errlen,
                          "%s (entry %zu; a document type is a code such as "
                          "business_licence)",
                          tmp, i + 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(rq->required_documents[i], rq->required_documents[j]) == 0)
                return s_fail(err, errlen,
                              "field `required_documents` names \"%s\" twice; name each type once",
                              rq->required_documents[i]);
    }
    for (size_t i = 0; i < rq->n_eligible_types; i++) {
        if (s_enum_field(&ccip__intake__organisation_type__descriptor, "eligible_types",
                         (int)rq->eligible_types[i], err, errlen) < 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (rq->eligible_types[i] == rq->eligible_types[j])
                return s_fail(err, errlen,
                              "field `eligible_types` names %s twice; name each type once",
                              s_enum_name(&ccip__intake__organisation_type__descriptor,
                                          (int)rq->eligible_types[i]));
    }
    int special = rq->kind == CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT;
    if (special) {
        char tmp[ERR_TMP];
        if (!rq->fund_programme_code[0])
            return s_fail(err, errlen,
                          "field `fund_programme_code` is empty; a special fund call names its "
                          "fund programme");
        if (ccip_code_check("fund_programme_code", rq->fund_programme_code, INTAKE_CODE_MAX, tmp,
                            sizeof tmp) < 0)
            return s_fail(err, errlen, "%s", tmp);
        if (rq->max_request_fen <= 0)
            return s_fail(err, errlen,
                          "field `max_request_fen` must be positive for a special fund call (the "
                          "most one project may request, in fen), got %" PRId64,
                          rq->max_request_fen);
    } else {
        if (rq->fund_programme_code[0])
            return s_fail(err, errlen,
                          "field `fund_programme_code` is only for SPECIAL_FUND_PROJECT calls; "
                          "leave it empty for %s",
                          s_enum_name(&ccip__intake__call_kind__descriptor, (int)rq->kind));
        if (rq->max_request_fen != 0)
            return s_fail(err, errlen,
                          "field `max_request_fen` is only for SPECIAL_FUND_PROJECT calls; leave "
                          "it 0 for %s",
                          s_enum_name(&ccip__intake__call_kind__descriptor, (int)rq->kind));
    }
    return 0;
}

static int s_phone(const char *s, char *err, size_t errlen)
{
    if (s_text("contact_phone", s, 1, INTAKE_PHONE_MAX, 0, err, errlen) < 0)
        return -1;
    int digits = 0;
    for (const char *p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (!strchr("+-() ", *p))
            return s_fail(err, errlen,
                          "field `contact_phone` contains '%c'; write the number with digits, "
                          "spaces and + - ( ) only, e.g. 010-6512 3456",
                          *p >= 0x20 && *p < 0x7f ? *p : '?');
    }
    if (digits < 5)
        return s_fail(err, errlen,
                      "field `contact_phone` has %d digits; give a full number such as "
                      "010-6512 3456",
                      digits);
    return 0;
}

static int s_email(const char *s, char *err, size_t errlen)
{
    if (!s || !*s)
        return 0;
    if (s_text("contact_email", s, 3, INTAKE_EMAIL_MAX, 0, err, errlen) < 0)
        return -1;
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '@') || strchr(s, ' ') || !strchr(at + 1, '.'))
        return s_fail(err, errlen,
                      "field `contact_email` is not an e-mail address such as "
                      "office@example.cn; leave it empty when there is none");
    return 0;
}

int intake_validate_organisation(const Ccip__Intake__RegisterOrganisationRequest *rq, char *err,
                                 size_t errlen)
{
    char tmp[ERR_TMP];
    if (!rq->uscc[0])
        return s_fail(err, errlen,
                      "field `uscc` is empty; give the organisation's 18-character unified social "
                      "credit code");
    if (ccip_uscc_check(rq->uscc, tmp, sizeof tmp) < 0)
        return s_fail(err, errlen, "field `uscc`: %s", tmp);
    if (s_text("name", rq->name, 1, INTAKE_NAME_MAX, 0, err, errlen) < 0)
        return -1;
    if (s_enum_field(&ccip__intake__organisation_type__descriptor, "type", (int)rq->type, err,
                     errlen) < 0)
        return -1;
    if (ccip_district_check(rq->district, tmp, sizeof tmp) < 0)
        return s_fail(err, errlen, "field `district`: %s", tmp);
    if (s_text("legal_representative", rq->legal_representative, 1, INTAKE_PERSON_MAX, 0, err,
               errlen) < 0 ||
        s_text("contact_name", rq->contact_name, 1, INTAKE_PERSON_MAX, 0, err, errlen) < 0 ||
        s_phone(rq->contact_phone, err, errlen) < 0 ||
        s_email(rq->contact_email, err, errlen) < 0 ||
        s_text("address", rq->address, 0, INTAKE_ADDRESS_MAX, 0, err, errlen) < 0)
        return -1;
    return 0;
}

static const char *s_kind_name(Ccip__Intake__CallKind kind)
{
    const char *n = s_enum_name(&ccip__intake__call_kind__descriptor, (int)kind);
    return n ? n : "?";
}

static int s_cluster(const Ccip__Intake__ClusterFacts *f, char *err, size_t errlen)
{
    if (s_text("cluster.cluster_name", f->cluster_name, 0, INTAKE_NAME_MAX, 0, err, errlen) < 0 ||
        s_text("cluster.location", f->location, 0, INTAKE_ADDRESS_MAX, 0, err, errlen) < 0 ||
        s_text("cluster.lead_operator", f->lead_operator, 0, INTAKE_NAME_MAX, 0, err, errlen) < 0)
        return -1;
    if (f->area_m2 < 0)
        return s_fail(err, errlen, "field `cluster.area_m2` must not be negative, got %" PRId64,
                      f->area_m2);
    if (f->enterprise_count < 0 || f->employee_count < 0)
        return s_fail(err, errlen,
                      "fields `cluster.enterprise_count` and `cluster.employee_count` must not be "
                      "negative, got %d and %d",
                      f->enterprise_count, f->employee_count);
    return 0;
}

static int s_talent_base(const Ccip__Intake__TalentBaseFacts *f, char *err, size_t errlen)
{
    if (f->annual_capacity < 0)
        return s_fail(err, errlen,
                      "field `talent_base.annual_capacity` must not be negative, got %d",
                      f->annual_capacity);
    if (f->n_programmes > INTAKE_LIST_MAX)
        return s_fail(err, errlen, "field `talent_base.programmes` may hold at most %d, got %zu",
                      INTAKE_LIST_MAX, f->n_programmes);
    for (size_t i = 0; i < f->n_programmes; i++) {
        const Ccip__Intake__TrainingProgramme *p = f->programmes[i];
        char field[64];
        snprintf(field, sizeof field, "talent_base.programmes[%zu].name", i);
        if (s_text(field, p->name, 1, INTAKE_NAME_MAX, 0, err, errlen) < 0)
            return -1;
        if (p->capacity < 0)
            return s_fail(err, errlen,
                          "field `talent_base.programmes[%zu].capacity` must not be negative, got "
                          "%d",
                          i, p->capacity);
    }
    return 0;
}

static int s_project(const Ccip__Intake__ProjectFacts *f, char *err, size_t errlen)
{
    if (f->n_budget_lines > INTAKE_LIST_MAX)
        return s_fail(err, errlen, "field `project.budget_lines` may hold at most %d, got %zu",
                      INTAKE_LIST_MAX, f->n_budget_lines);
    for (size_t i = 0; i < f->n_budget_lines; i++) {
        const Ccip__Intake__BudgetLine *b = f->budget_lines[i];
        char field[64];
        snprintf(field, sizeof field, "project.budget_lines[%zu].item", i);
        if (s_text(field, b->item, 1, INTAKE_NAME_MAX, 0, err, errlen) < 0)
            return -1;
        if (b->amount_fen <= 0)
            return s_fail(err, errlen,
                          "field `project.budget_lines[%zu].amount_fen` must be positive (fen), "
                          "got %" PRId64,
                          i, b->amount_fen);
    }
    return 0;
}

int intake_validate_content(const Ccip__Intake__ApplicationContent *c, Ccip__Intake__CallKind kind,
                            int64_t max_request_fen, char *err, size_t errlen)
{
    if (!c)
        return s_fail(err, errlen,
                      "field `content` is missing; give at least the application's title");
    if (s_text("title", c->title, 1, INTAKE_TITLE_MAX, 0, err, errlen) < 0 ||
        s_text("summary", c->summary, 0, INTAKE_SUMMARY_MAX, CCIP_TEXT_MULTILINE, err, errlen) < 0)
        return -1;
    char tmp[ERR_TMP];
    if (c->district[0] && ccip_district_check(c->district, tmp, sizeof tmp) < 0)
        return s_fail(err, errlen,
                      "field `district`: %s (or leave it empty for the "
                      "organisation's own district)",
                      tmp);
    if (kind == CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT) {
        if (c->requested_fen < 0)
            return s_fail(err, errlen,
                          "field `requested_fen` must be positive (the amount requested, in fen), "
                          "got %" PRId64,
                          c->requested_fen);
        if (c->requested_fen > max_request_fen) {
            char most[CCIP_FEN_STRLEN + 1], got[CCIP_FEN_STRLEN + 1];
            ccip_fen_format(max_request_fen, most, sizeof most);
            ccip_fen_format(c->requested_fen, got, sizeof got);
            return s_fail(err, errlen,
                          "field `requested_fen` must be at most %" PRId64
                          " (the call's maximum, %s yuan), got %" PRId64 " (%s yuan)",
                          max_request_fen, most, c->requested_fen, got);
        }
    } else if (c->requested_fen != 0) {
        return s_fail(err, errlen,
                      "field `requested_fen` is only for SPECIAL_FUND_PROJECT calls; leave it 0 "
                      "for %s",
                      s_kind_name(kind));
    }
    switch (c->facts_case) {
    case CCIP__INTAKE__APPLICATION_CONTENT__FACTS__NOT_SET:
        return 0;
    case CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER:
        if (kind != CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION)
            break;
        return s_cluster(c->cluster, err, errlen);
    case CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE:
        if (kind != CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION)
            break;
        return s_talent_base(c->talent_base, err, errlen);
    case CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT:
        if (kind != CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT)
            break;
        return s_project(c->project, err, errlen);
    default:
        return s_fail(err, errlen, "field `facts` holds an unknown kind of facts (field %d)",
                      (int)c->facts_case);
    }
    static const char *const facts_of[] = {"", "cluster", "talent_base", "project"};
    return s_fail(err, errlen, "the call is %s, so its facts go in field `%s`, not `%s`",
                  s_kind_name(kind), (unsigned)kind < 4 ? facts_of[kind] : "?",
                  c->facts_case == CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER ? "cluster"
                  : c->facts_case == CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE
                      ? "talent_base"
                      : "project");
}

static int s_media_type(const char *s, char *err, size_t errlen)
{
    size_t len = s ? strlen(s) : 0;
    const char *slash = s ? strchr(s, '/') : NULL;
    int ok = len >= 3 && len <= INTAKE_MEDIA_TYPE_MAX && slash && slash != s && slash[1] &&
             !strchr(slash + 1, '/');
    for (size_t i = 0; ok && i < len; i++) {
        char c = s[i];
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("/+-.", c);
    }
    if (ok)
        return 0;
    return s_fail(err, errlen,
                  "field `media_type` must be a media type in lower case such as application/pdf "
                  "or image/jpeg");
}

int intake_validate_document(const Ccip__Intake__AddDocumentRequest *rq, int64_t max_bytes,
                             int from_message_cap, char *err, size_t errlen)
{
    char tmp[ERR_TMP];
    if (ccip_code_check("doc_type", rq->doc_type, INTAKE_CODE_MAX, tmp, sizeof tmp) < 0)
        return s_fail(err, errlen, "%s (a document type is a code such as business_licence)", tmp);
    if (s_text("name", rq->name, 1, INTAKE_FILE_NAME_MAX, 0, err, errlen) < 0)
        return -1;
    if (strchr(rq->name, '/') || strchr(rq->name, '\\'))
        return s_fail(err, errlen,
                      "field `name` must be a file name without '/' or '\\', such as plan.pdf");
    if (s_media_type(rq->media_type, err, errlen) < 0)
        return -1;
    if (rq->content.len == 0)
        return s_fail(err, errlen, "field `content` of document \"%s\" is empty; send the file",
                      rq->name);
    if ((int64_t)rq->content.len > max_bytes)
        return s_fail(err, errlen,
                      "field `content` of document \"%s\" is %zu bytes; at most %" PRId64
                      " are accepted (%s); compress or split the file",
                      rq->name, rq->content.len, max_bytes,
                      from_message_cap ? "what fits in one message, limits.max_message_bytes"
                                       : "intake.max_document_bytes");
    return 0;
}

int intake_validate_reason(const char *s, int required, const char *purpose, char *err,
                           size_t errlen)
{
    if (required && (!s || !*s))
        return s_fail(err, errlen, "field `reason` is empty; say %s", purpose);
    return ccip_text_check("reason", s ? s : "", 0, INTAKE_REASON_MAX, CCIP_TEXT_MULTILINE, err,
                           errlen);
}

/* Appends one problem to out. */
static void s_add(char *out, size_t len, int *n, const char *problem)
{
    if (out && len > 0) {
        size_t used = strlen(out);
        snprintf(out + used, used < len ? len - used : 0, "%s%s", *n ? "; " : "", problem);
    }
    (*n)++;
}

int intake_incomplete(const Ccip__Intake__ApplicationContent *c, Ccip__Intake__CallKind kind,
                      char *out, size_t len)
{
    int n = 0;
    if (out && len > 0)
        out[0] = '\0';
    if (!c) {
        s_add(out, len, &n, "the application has no content");
        return n;
    }
    if (!c->title[0])
        s_add(out, len, &n, "field `title` is empty");
    if (!c->summary[0])
        s_add(out, len, &n, "field `summary` is empty");
    if (kind == CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT && c->requested_fen <= 0)
        s_add(out, len, &n, "field `requested_fen` must be positive");
    switch (kind) {
    case CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION: {
        const Ccip__Intake__ClusterFacts *f =
            c->facts_case == CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER ? c->cluster : NULL;
        if (!f) {
            s_add(out, len, &n, "the cluster facts (field `cluster`) are missing");
            break;
        }
        if (!f->cluster_name[0])
            s_add(out, len, &n, "field `cluster.cluster_name` is empty");
        if (!f->location[0])
            s_add(out, len, &n, "field `cluster.location` is empty");
        if (!f->lead_operator[0])
            s_add(out, len, &n, "field `cluster.lead_operator` is empty");
        if (f->area_m2 <= 0)
            s_add(out, len, &n, "field `cluster.area_m2` must be positive");
        if (f->enterprise_count <= 0)
            s_add(out, len, &n, "field `cluster.enterprise_count` must be positive");
        break;
    }
    case CCIP__INTAKE__CALL_KIND__TALENT_BASE_IDENTIFICATION: {
        const Ccip__Intake__TalentBaseFacts *f =
            c->facts_case == CCIP__INTAKE__APPLICATION_CONTENT__FACTS_TALENT_BASE ? c->talent_base
                                                                                  : NULL;
        if (!f) {
            s_add(out, len, &n, "the talent base facts (field `talent_base`) are missing");
            break;
        }
        if (f->n_programmes == 0)
            s_add(out, len, &n, "field `talent_base.programmes` names no training programme");
        if (f->annual_capacity <= 0)
            s_add(out, len, &n, "field `talent_base.annual_capacity` must be positive");
        break;
    }
    case CCIP__INTAKE__CALL_KIND__SPECIAL_FUND_PROJECT: {
        const Ccip__Intake__ProjectFacts *f =
            c->facts_case == CCIP__INTAKE__APPLICATION_CONTENT__FACTS_PROJECT ? c->project : NULL;
        if (!f || f->n_budget_lines == 0)
            s_add(out, len, &n, "field `project.budget_lines` names no budget line");
        break;
    }
    default:
        break;
    }
    return n;
}
