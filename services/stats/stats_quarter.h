/*
 * stats_quarter: calendar quarters as the monitoring counts them, written
 * "2026Q3", in Beijing time (UTC+8, no daylight saving): 2026Q3 runs from
 * 2026-07-01T00:00+08:00 up to, not including, 2026-10-01T00:00+08:00.
 *
 * Pure functions of their arguments; thread-safe.
 */
#ifndef STATS_QUARTER_H
#define STATS_QUARTER_H

#include <stddef.h>
#include <stdint.h>

/* Characters of a quarter as text, without the NUL: "2026Q3". */
#define STATS_QUARTER_STRLEN 6
/* Years a quarter may be in. */
#define STATS_YEAR_MIN 2000
#define STATS_YEAR_MAX 2199
/* Beijing time is UTC+8 all year. */
#define STATS_BEIJING_OFFSET_US (8LL * 3600 * 1000000)
#define STATS_DAY_US            (24LL * 3600 * 1000000)

/* A calendar quarter. */
typedef struct {
    int year;    /* STATS_YEAR_MIN .. STATS_YEAR_MAX */
    int quarter; /* 1 .. 4 */
} stats_quarter;

/* Parses "2026Q3" (four-digit year in range, an uppercase 'Q', 1 to 4,
 * nothing else). `field` names the field in the message. Returns 0 and
 * sets *out, or -1 (out untouched) with a message such as
 *   field `quarter` must be a quarter written like 2026Q3, got "2026-3"
 *   field `quarter` must be a year from 2000 to 2199, got 1999Q4 */
int stats_quarter_parse(const char *field, const char *s, stats_quarter *out, char *err,
                        size_t errlen);

/* Writes "2026Q3" into buf (at least STATS_QUARTER_STRLEN + 1 bytes). */
void stats_quarter_format(stats_quarter q, char *buf, size_t len);

/* The quarter n quarters after q (n < 0: before). The year may leave the
 * parseable range; callers compare, they do not parse it back. */
stats_quarter stats_quarter_add(stats_quarter q, int n);

/* Quarters from a to b (b - a); 0 when equal. */
int stats_quarter_diff(stats_quarter a, stats_quarter b);

/* <0, 0, >0 as a is before, equal to or after b. */
int stats_quarter_cmp(stats_quarter a, stats_quarter b);

/* When the quarter starts, and when the next one starts (its end), as UTC
 * microseconds. */
int64_t stats_quarter_start_us(stats_quarter q);
int64_t stats_quarter_end_us(stats_quarter q);

/* The quarter that contains the UTC time `us`, in Beijing time. */
stats_quarter stats_quarter_of_us(int64_t us);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t stats_days_from_civil(int year, int month, int day);

#endif
