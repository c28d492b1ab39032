#include "stats_quarter.h"

#include <stdio.h>
#include <string.h>

int stats_quarter_parse(const char *field, const char *s, stats_quarter *out, char *err,
                        size_t errlen)
{
    if (!s || !s[0]) {
        if (err && errlen)
            snprintf(err, errlen, "field `%s` is missing: write a quarter like 2026Q3", field);
        return -1;
    }
    int ok = strlen(s) == STATS_QUARTER_STRLEN && s[4] == 'Q' && s[5] >= '1' && s[5] <= '4';
    for (int i = 0; ok && i < 4; i++)
        ok = s[i] >= '0' && s[i] <= '9';
    if (!ok) {
        if (err && errlen)
            snprintf(err, errlen,
                     "field `%s` must be a quarter written like 2026Q3 (year, 'Q', 1 to 4), "
                     "got \"%.40s\"",
                     field, s);
        return -1;
    }
    int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    if (year < STATS_YEAR_MIN || year > STATS_YEAR_MAX) {
        if (err && errlen)
            snprintf(err, errlen, "field `%s` must be a quarter of a year from %d to %d, got %s",
                     field, STATS_YEAR_MIN, STATS_YEAR_MAX, s);
        return -1;
    }
    out->year = year;
    out->quarter = s[5] - '0';
    return 0;
}

void stats_quarter_format(stats_quarter q, char *buf, size_t len)
{
    snprintf(buf, len, "%04dQ%d", q.year, q.quarter);
}

/* Quarters since year 0, Q1: makes adding and comparing plain arithmetic. */
static int s_index(stats_quarter q)
{
    return q.year * 4 + (q.quarter - 1);
}

static stats_quarter s_from_index(int i)
{
    stats_quarter q = {i / 4, i % 4 + 1};
    return q;
}

stats_quarter stats_quarter_add(stats_quarter q, int n)
{
    return s_from_index(s_index(q) + n);
}

int stats_quarter_diff(stats_quarter a, stats_quarter b)
{
    return s_index(b) - s_index(a);
}

int stats_quarter_cmp(stats_quarter a, stats_quarter b)
{
    int d = s_index(a) - s_index(b);
    return d < 0 ? -1 : d > 0;
}

/* Howard Hinnant's days_from_civil. */
int64_t stats_days_from_civil(int year, int month, int day)
{
    int64_t y = (int64_t)year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t stats_quarter_start_us(stats_quarter q)
{
    return stats_days_from_civil(q.year, (q.quarter - 1) * 3 + 1, 1) * STATS_DAY_US -
           STATS_BEIJING_OFFSET_US;
}

int64_t stats_quarter_end_us(stats_quarter q)
{
    return stats_quarter_start_us(stats_quarter_add(q, 1));
}

stats_quarter stats_quarter_of_us(int64_t us)
{
    int64_t local = us + STATS_BEIJING_OFFSET_US;
    int64_t days = local / STATS_DAY_US - (local % STATS_DAY_US < 0);
    /* Howard Hinnant's civil_from_days, month only. */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int month = (int)(mp < 10 ? mp + 3 : mp - 9);
    if (month <= 2)
        y++;
    stats_quarter q = {(int)y, (month - 1) / 3 + 1};
    return q;
}
