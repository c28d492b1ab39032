#include "stats_validation.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ccip_id.h"
#include "ccip_validate.h"

const char *stats_unit_name(Ccip__Stats__Unit unit)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&ccip__stats__unit__descriptor, (int)unit);
    return v && unit != CCIP__STATS__UNIT__UNIT_UNSPECIFIED ? v->name : NULL;
}

/* A value as people read it in messages: "1234.56 yuan", "87.50 %". */
static void s_value_text(Ccip__Stats__Unit unit, int64_t v, char *buf, size_t len)
{
    char fen[CCIP_FEN_STRLEN + 1];
    switch (unit) {
    case CCIP__STATS__UNIT__FEN:
        ccip_fen_format(v, fen, sizeof fen);
        snprintf(buf, len, "%s yuan", fen);
        break;
    case CCIP__STATS__UNIT__PERCENT:
        /* Hundredths of a percent: the same two-decimal text as fen. */
        ccip_fen_format(v, fen, sizeof fen);
        snprintf(buf, len, "%s %%", fen);
        break;
    case CCIP__STATS__UNIT__SQUARE_METRES:
        snprintf(buf, len, "%" PRId64 " m2", v);
        break;
    default:
        snprintf(buf, len, "%" PRId64, v);
        break;
    }
}

int stats_explained(const char *explanation)
{
    if (!explanation)
        return 0;
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)explanation; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n')
            continue;
        if ((*p & 0xC0) != 0x80) /* the first byte of a UTF-8 sequence */
            chars++;
    }
    return chars >= STATS_EXPLANATION_MIN_CHARS;
}

int stats_change_exceeds(int64_t base, int64_t now, int64_t pct)
{
    if (base == 0 || pct < 0)
        return 0;
    __int128 diff = (__int128)now - (__int128)base;
    if (diff < 0)
        diff = -diff;
    __int128 b = base < 0 ? -(__int128)base : (__int128)base;
    return diff * 100 > (__int128)pct * b;
}

int stats_value_check(const char *code, const stats_indicator_def *ind, Ccip__Stats__Unit unit,
                      char *err, size_t errlen)
{
    if (!ind) {
        snprintf(err, errlen, "indicator `%.48s` is not in the catalogue for this report", code);
        return -1;
    }
    if (unit != ind->unit) {
        const char *got = stats_unit_name(unit);
        if (got)
            snprintf(err, errlen, "indicator `%s` is in %s, got a value in %s", ind->code,
                     stats_unit_name(ind->unit), got);
        else
            snprintf(err, errlen,
                     "indicator `%s` is in %s; the value must say so (unit %s), got "
                     "unit %d",
                     ind->code, stats_unit_name(ind->unit), stats_unit_name(ind->unit), (int)unit);
        return -1;
    }
    return 0;
}

static const stats_value *s_find(const stats_value *v, size_t n, const char *code)
{
    for (size_t i = 0; v && i < n; i++)
        if (strcmp(v[i].code, code) == 0)
            return &v[i];
    return NULL;
}

static const stats_indicator_def *s_indicator(const stats_validation_input *in, const char *code)
{
    for (size_t i = 0; i < in->nindicators; i++)
        if (strcmp(in->indicators[i].code, code) == 0)
            return &in->indicators[i];
    return NULL;
}

/* Appends a finding when there is room; always counts it. */
typedef struct {
    stats_finding *out;
    size_t max;
    size_t n;
} s_sink;

static void s_add(s_sink *s, Ccip__Stats__Importance importance, const char *rule,
                  const char *indicator, int explained, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void s_add(s_sink *s, Ccip__Stats__Importance importance, const char *rule,
                  const char *indicator, int explained, const char *fmt, ...)
{
    if (s->n < s->max) {
        stats_finding *f = &s->out[s->n];
        memset(f, 0, sizeof *f);
        f->importance = importance;
        snprintf(f->rule, sizeof f->rule, "%s", rule);
        snprintf(f->indicator, sizeof f->indicator, "%s", indicator);
        f->explained = explained;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->message, sizeof f->message, fmt, ap);
        va_end(ap);
    }
    s->n++;
}

/* The change rules of one indicator against one earlier quarter. */
static void s_change(s_sink *s, const stats_validation_input *in, const stats_indicator_def *ind,
                     const stats_value *v, const stats_value *earlier, const char *earlier_quarter,
                     const char *rule, const char *what)
{
    if (!earlier || !stats_change_exceeds(earlier->value, v->value, in->change_pct))
        return;
    char now_text[64], then_text[64];
    s_value_text(ind->unit, v->value, now_text, sizeof now_text);
    s_value_text(ind->unit, earlier->value, then_text, sizeof then_text);
    int explained = stats_explained(v->explanation);
    s_add(s, CCIP__STATS__IMPORTANCE__WARNING, rule, ind->code, explained,
          "%s is %s, more than %" PRId64 " %% away from %s in %s (%s)%s", ind->code, now_text,
          in->change_pct, then_text, earlier_quarter ? earlier_quarter : "?", what,
          explained ? "; explained" : "; explain the change on the value before submitting");
}

size_t stats_validate(const stats_validation_input *in, stats_finding *out, size_t max)
{
    s_sink s = {out, out ? max : 0, 0};
    for (size_t i = 0; i < in->nindicators; i++) {
        const stats_indicator_def *ind = &in->indicators[i];
        const stats_value *v = s_find(in->values, in->nvalues, ind->code);
        char text[64];
        if (!v) {
            if (ind->compulsory)
                s_add(&s, CCIP__STATS__IMPORTANCE__ERROR, "compulsory", ind->code, 0,
                      "%s (%s) is compulsory and has no value; fill it in", ind->code,
                      ind->name ? ind->name : ind->code);
            continue;
        }
        s_value_text(ind->unit, v->value, text, sizeof text);
        if (v->value < 0 && !ind->allow_negative)
            s_add(&s, CCIP__STATS__IMPORTANCE__ERROR, "negative", ind->code, 0,
                  "%s cannot be negative, got %s", ind->code, text);
        if (ind->unit == CCIP__STATS__UNIT__PERCENT &&
            (v->value < 0 || v->value > STATS_PERCENT_MAX))
            s_add(&s, CCIP__STATS__IMPORTANCE__ERROR, "out_of_range", ind->code, 0,
                  "%s is a percentage and must be from 0.00 %% to 100.00 %%, got %s", ind->code,
                  text);
        s_change(&s, in, ind, v, s_find(in->previous, in->nprevious, ind->code),
                 in->previous_quarter, "change_qoq", "the previous quarter");
        s_change(&s, in, ind, v, s_find(in->year_ago, in->nyear_ago, ind->code),
                 in->year_ago_quarter, "change_yoy", "the same quarter a year before");
    }
    for (size_t i = 0; i < in->nrules; i++) {
        const stats_rule_def *r = &in->rules[i];
        const stats_value *l = s_find(in->values, in->nvalues, r->left);
        const stats_value *rv = s_find(in->values, in->nvalues, r->right);
        const stats_indicator_def *li = s_indicator(in, r->left);
        const stats_indicator_def *ri = s_indicator(in, r->right);
        if (!l || !rv || !li || !ri)
            continue; /* checked once both values are there */
        int holds = r->op == CCIP__STATS__COMPARE_OP__GREATER_OR_EQUAL ? l->value >= rv->value
                                                                       : l->value <= rv->value;
        if (holds)
            continue;
        char lt[64], rt[64];
        s_value_text(li->unit, l->value, lt, sizeof lt);
        s_value_text(ri->unit, rv->value, rt, sizeof rt);
        const char *op = r->op == CCIP__STATS__COMPARE_OP__GREATER_OR_EQUAL ? ">=" : "<=";
        if (r->importance == CCIP__STATS__IMPORTANCE__WARNING) {
            int explained = stats_explained(l->explanation);
            s_add(&s, CCIP__STATS__IMPORTANCE__WARNING, r->id, r->left, explained,
                  "%s: %s (%s) should be %s %s (%s)%s", r->message, r->left, lt, op, r->right, rt,
                  explained ? "; explained" : "; explain it on the value before submitting");
        } else {
            s_add(&s, CCIP__STATS__IMPORTANCE__ERROR, r->id, r->left, 0,
                  "%s: %s (%s) must be %s %s (%s)", r->message, r->left, lt, op, r->right, rt);
        }
    }
    return s.n;
}

size_t stats_findings_blocking(const stats_finding *f, size_t n)
{
    size_t blocking = 0;
    for (size_t i = 0; i < n; i++)
        if (f[i].importance == CCIP__STATS__IMPORTANCE__ERROR || !f[i].explained)
            blocking++;
    return blocking;
}
