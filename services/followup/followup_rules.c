#include "followup_rules.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ccip_validate.h"

/* Writes a sentence into err when there is room for one; returns -1. */
static int s_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int s_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- days ----------------------------------------------------------------- */

static int s_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int s_days_in(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && s_leap(y) ? 29 : days[m - 1];
}

/* Reads exactly n decimal digits. */
static int s_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int followup_day_parse(const char *field, const char *s, followup_day *out, char *err,
                       size_t errlen)
{
    char shown[64];
    if (!s || !*s)
        return s_err(err, errlen,
                     "field `%s` is missing; give a day as YYYY-MM-DD, e.g. 2027-06-30", field);
    followup_day d;
    if (strlen(s) != FOLLOWUP_DAY_STRLEN || s[4] != '-' || s[7] != '-' ||
        s_digits(s, 4, &d.year) < 0 || s_digits(s + 5, 2, &d.month) < 0 ||
        s_digits(s + 8, 2, &d.day) < 0)
        return s_err(err, errlen,
                     "field `%s` must be a day written YYYY-MM-DD, e.g. 2027-06-30, "
                     "got \"%s\"",
                     field, ccip_text_shown(s, 40, shown, sizeof shown));
    if (d.year < FOLLOWUP_YEAR_MIN || d.year > FOLLOWUP_YEAR_MAX)
        return s_err(err, errlen, "field `%s` must be a day of the years %d to %d, got %s", field,
                     FOLLOWUP_YEAR_MIN, FOLLOWUP_YEAR_MAX, s);
    if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > s_days_in(d.year, d.month))
        return s_err(err, errlen, "field `%s` is not a day of the calendar: %s", field, s);
    *out = d;
    return 0;
}

void followup_day_format(followup_day d, char *buf, size_t len)
{
    snprintf(buf, len, "%04d-%02d-%02d", d.year, d.month, d.day);
}

/* Howard Hinnant's days_from_civil / civil_from_days: exact for every
 * proleptic Gregorian day, no floating point, no time zone database. */
int64_t followup_day_number(followup_day d)
{
    int64_t y = d.year - (d.month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (d.month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

followup_day followup_day_from_number(int64_t n)
{
    n += 719468;
    int64_t era = (n >= 0 ? n : n - 146096) / 146097;
    int64_t doe = n - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    followup_day d;
    d.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    d.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    d.year = (int)(yoe + era * 400 + (d.month <= 2));
    return d;
}

int followup_day_cmp(followup_day a, followup_day b)
{
    int64_t x = followup_day_number(a), y = followup_day_number(b);
    return x < y ? -1 : x > y;
}

int64_t followup_day_start_us(followup_day d)
{
    return followup_day_number(d) * FOLLOWUP_DAY_US - FOLLOWUP_BEIJING_US;
}

int64_t followup_day_end_us(followup_day d)
{
    return followup_day_start_us(d) + FOLLOWUP_DAY_US;
}

/* Floor division: days before 1970 round down, not towards zero. */
static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

followup_day followup_day_of_us(int64_t us)
{
    return followup_day_from_number(s_floor_div(us + FOLLOWUP_BEIJING_US, FOLLOWUP_DAY_US));
}

/* ---- months --------------------------------------------------------------- */

int followup_month_parse(const char *field, const char *s, followup_month *out, char *err,
                         size_t errlen)
{
    char shown[64];
    if (!s || !*s)
        return s_err(err, errlen, "field `%s` is missing; give a month as YYYY-MM, e.g. 2027-06",
                     field);
    followup_month m;
    if (strlen(s) != FOLLOWUP_MONTH_STRLEN || s[4] != '-' || s_digits(s, 4, &m.year) < 0 ||
        s_digits(s + 5, 2, &m.month) < 0 || m.month < 1 || m.month > 12)
        return s_err(err, errlen,
                     "field `%s` must be a month written YYYY-MM, e.g. 2027-06, got "
                     "\"%s\"",
                     field, ccip_text_shown(s, 40, shown, sizeof shown));
    if (m.year < FOLLOWUP_YEAR_MIN || m.year > FOLLOWUP_YEAR_MAX)
        return s_err(err, errlen, "field `%s` must be a month of the years %d to %d, got %s", field,
                     FOLLOWUP_YEAR_MIN, FOLLOWUP_YEAR_MAX, s);
    *out = m;
    return 0;
}

void followup_month_format(followup_month m, char *buf, size_t len)
{
    snprintf(buf, len, "%04d-%02d", m.year, m.month);
}

followup_month followup_month_of(followup_day d)
{
    followup_month m = {d.year, d.month};
    return m;
}

followup_month followup_month_next(followup_month m)
{
    if (++m.month > 12) {
        m.month = 1;
        m.year++;
    }
    return m;
}

int followup_month_cmp(followup_month a, followup_month b)
{
    int x = a.year * 12 + a.month, y = b.year * 12 + b.month;
    return x < y ? -1 : x > y;
}

followup_day followup_month_first(followup_month m)
{
    followup_day d = {m.year, m.month, 1};
    return d;
}

int64_t followup_month_report_due_us(followup_month m, int due_day)
{
    if (due_day < 1)
        due_day = 1;
    if (due_day > 28)
        due_day = 28;
    followup_month n = followup_month_next(m);
    followup_day d = {n.year, n.month, due_day};
    return followup_day_end_us(d);
}

int followup_month_first_due_after(followup_month first, followup_month last, int due_day,
                                   int64_t after_us, followup_month *out)
{
    /* Dues grow with the month, so the first one after after_us is the
     * answer; a period is at most a few hundred months. */
    for (followup_month m = first; followup_month_cmp(m, last) <= 0; m = followup_month_next(m))
        if (followup_month_report_due_us(m, due_day) > after_us) {
            *out = m;
            return 0;
        }
    return -1;
}

/* ---- texts ----------------------------------------------------------------- */

void followup_beijing_text(int64_t us, char *buf, size_t len)
{
    followup_day d = followup_day_of_us(us);
    int64_t in_day = us + FOLLOWUP_BEIJING_US - followup_day_number(d) * FOLLOWUP_DAY_US;
    int minutes = (int)(in_day / (60LL * 1000000LL));
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d Beijing", d.year, d.month, d.day, minutes / 60,
             minutes % 60);
}

void followup_iso_week(int64_t us, char *buf, size_t len)
{
    followup_day d = followup_day_of_us(us);
    int64_t n = followup_day_number(d);
    /* 1970-01-01 was a Thursday: weekday 1 (Monday) .. 7 (Sunday). */
    int wd = (int)(((n % 7) + 7 + 3) % 7) + 1;
    /* The week belongs to the year of its Thursday. */
    followup_day thursday = followup_day_from_number(n - wd + 4);
    followup_day jan1 = {thursday.year, 1, 1};
    int week = (int)((n - wd + 4 - followup_day_number(jan1)) / 7) + 1;
    snprintf(buf, len, "%04d-W%02d", thursday.year, week);
}

/* ---- tasks ----------------------------------------------------------------- */

followup_timeliness followup_task_timeliness(int64_t deadline_end_us, int64_t now_us,
                                             int64_t completed_us)
{
    if (completed_us)
        return completed_us < deadline_end_us ? FOLLOWUP_ON_TIME : FOLLOWUP_OVERDUE;
    if (now_us >= deadline_end_us)
        return FOLLOWUP_OVERDUE;
    if (deadline_end_us - now_us <= FOLLOWUP_DUE_SOON_DAYS * FOLLOWUP_DAY_US)
        return FOLLOWUP_DUE_SOON;
    return FOLLOWUP_ON_TIME;
}

int64_t followup_report_due_us(int64_t last_us, int interval_days)
{
    if (interval_days <= 0)
        return 0;
    followup_day d = followup_day_of_us(last_us);
    return followup_day_end_us(followup_day_from_number(followup_day_number(d) + interval_days));
}

/* 1 when s is 1..max characters of [A-Za-z0-9_.-] (and '@' when at). */
static int s_code_ok(const char *s, size_t max, int at)
{
    size_t n = strlen(s);
    if (n < 1 || n > max)
        return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-' || (at && c == '@')))
            return 0;
    }
    return 1;
}

int followup_unit_check(const char *field, const char *unit, int lead, char *err, size_t errlen)
{
    char shown[64];
    const char *forms = lead ? "\"center\", \"district:<district code>\" (e.g. district:110105) or "
                               "\"person:<id>\""
                             : "\"center\", \"center:<department>\", \"district:<district "
                               "code>\" (e.g. district:110105) or \"person:<id>\"";
    if (!unit || !*unit)
        return s_err(err, errlen, "field `%s` is missing; give a unit: %s", field, forms);
    if (strcmp(unit, "center") == 0)
        return 0;
    if (strncmp(unit, "district:", 9) == 0) {
        const ccip_district *d = ccip_district_find(unit + 9);
        if (d && strcmp(d->code, unit + 9) == 0)
            return 0;
        return s_err(err, errlen,
                     "field `%s`: \"%s\" names no district of Beijing; use "
                     "district:<code> with one of the 16 district codes, e.g. "
                     "district:110105 (Chaoyang)",
                     field, ccip_text_shown(unit, 40, shown, sizeof shown));
    }
    if (strncmp(unit, "person:", 7) == 0) {
        if (s_code_ok(unit + 7, 64, 1))
            return 0;
        return s_err(err, errlen,
                     "field `%s`: a person is \"person:<id>\" with an id of 1 to 64 "
                     "letters, digits, '_', '.', '@' or '-', got \"%s\"",
                     field, ccip_text_shown(unit, 40, shown, sizeof shown));
    }
    if (!lead && strncmp(unit, "center:", 7) == 0) {
        if (s_code_ok(unit + 7, 32, 0))
            return 0;
        return s_err(err, errlen,
                     "field `%s`: a department of the center is "
                     "\"center:<code>\" with a code of 1 to 32 letters, digits, "
                     "'_', '.' or '-', got \"%s\"",
                     field, ccip_text_shown(unit, 40, shown, sizeof shown));
    }
    return s_err(err, errlen, "field `%s` must be %s, got \"%s\"", field, forms,
                 ccip_text_shown(unit, 40, shown, sizeof shown));
}

int followup_fen_check(const char *field, int64_t fen, char *err, size_t errlen)
{
    if (fen >= 0 && fen <= FOLLOWUP_FEN_MAX)
        return 0;
    return s_err(err, errlen,
                 "field `%s` must be 0 to %" PRId64 " fen (one trillion yuan), got %" PRId64, field,
                 FOLLOWUP_FEN_MAX, fen);
}

/* ---- key projects ----------------------------------------------------------- */

followup_board_state followup_project_state(const followup_project_facts *f)
{
    if (f->milestones_late > 0)
        return FOLLOWUP_LATE;
    if (f->milestones_at_risk > 0 || f->award_suspended || f->award_terminated ||
        f->clawbacks_open > 0 || f->designation_revoked)
        return FOLLOWUP_AT_RISK;
    return FOLLOWUP_ON_TRACK;
}

int followup_milestone_check(const char *field, followup_day planned, followup_day start,
                             followup_day end, char *err, size_t errlen)
{
    if (followup_day_cmp(planned, start) >= 0 && followup_day_cmp(planned, end) <= 0)
        return 0;
    char p[16], s[16], e[16];
    followup_day_format(planned, p, sizeof p);
    followup_day_format(start, s, sizeof s);
    followup_day_format(end, e, sizeof e);
    return s_err(err, errlen,
                 "field `%s` %s lies outside the project's period %s to %s; give a "
                 "day within it",
                 field, p, s, e);
}
