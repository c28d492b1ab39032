/*
 * followup_rules: the pure rules of followup (no database, no clock of its
 * own): calendar days and months in Beijing, what a deadline "by 30 June"
 * means, when a monthly report is due, where an open task stands against
 * its deadline, a key project's state on the board, and the forms of units
 * and amounts. Unit-tested in tests/services/test_followup_rules.c.
 *
 * Beijing time is UTC+8 all year (China has kept no daylight saving time
 * since 1991), so a day in Beijing is [D 00:00+08:00, D+1 00:00+08:00), i.e.
 * [D-1 16:00Z, D 16:00Z). Days handled are those of years
 * FOLLOWUP_YEAR_MIN..FOLLOWUP_YEAR_MAX.
 *
 * Functions that check return 0, or -1 with one sentence in err (lower
 * case, no final period) naming the field, what was expected and what was
 * given; err may be NULL. Thread-safe, no state.
 */
#ifndef FOLLOWUP_RULES_H
#define FOLLOWUP_RULES_H

#include <stddef.h>
#include <stdint.h>

#define FOLLOWUP_YEAR_MIN 2000
#define FOLLOWUP_YEAR_MAX 2100

/* Microseconds in a day, and Beijing's offset from UTC. */
#define FOLLOWUP_DAY_US     ((int64_t)86400 * 1000000)
#define FOLLOWUP_BEIJING_US ((int64_t)8 * 3600 * 1000000)

/* Largest amount of money the service takes, in fen: 10^14 fen (one
 * trillion yuan). 92,233 such amounts still add up within int64_t, more
 * than the key projects of many years; so no sum the service keeps can
 * overflow, and a value above it is a typing error. */
#define FOLLOWUP_FEN_MAX ((int64_t)100000000000000)

/* "Due within 7 days" (the digest), "at risk: due within 30 days". */
#define FOLLOWUP_DUE_SOON_DAYS 7
#define FOLLOWUP_RISK_DAYS     30

/* Characters of "YYYY-MM-DD" and "YYYY-MM", without the NUL. */
#define FOLLOWUP_DAY_STRLEN   10
#define FOLLOWUP_MONTH_STRLEN 7
/* Characters of "2027-06-30 23:59 Beijing" and of "2027-W26". */
#define FOLLOWUP_BEIJING_STRLEN 24
#define FOLLOWUP_WEEK_STRLEN    8

/* ---- days and months ------------------------------------------------------ */

/* A calendar day (proleptic Gregorian). */
typedef struct {
    int year;  /* FOLLOWUP_YEAR_MIN..FOLLOWUP_YEAR_MAX */
    int month; /* 1..12 */
    int day;   /* 1..days in that month */
} followup_day;

/* A calendar month. */
typedef struct {
    int year;
    int month;
} followup_month;

/* Parses "YYYY-MM-DD" strictly (a real day of a year in range; nothing
 * before or after). field names it in the sentence. Returns 0 or -1. */
int followup_day_parse(const char *field, const char *s, followup_day *out, char *err,
                       size_t errlen);

/* Writes "YYYY-MM-DD" into buf (FOLLOWUP_DAY_STRLEN + 1 bytes). */
void followup_day_format(followup_day d, char *buf, size_t len);

/* Days since 1970-01-01 (negative before), and back. */
int64_t followup_day_number(followup_day d);
followup_day followup_day_from_number(int64_t n);

/* -1, 0 or 1 as a is before, the same as, or after b. */
int followup_day_cmp(followup_day a, followup_day b);

/* The instant a day begins in Beijing (its 00:00+08:00), in UTC
 * microseconds. */
int64_t followup_day_start_us(followup_day d);

/* The end of a day in Beijing: the instant the next day begins there. A
 * deadline "by 30 June" is due before followup_day_end_us(30 June), i.e.
 * 16:00 UTC on 30 June; at that instant it is missed. */
int64_t followup_day_end_us(followup_day d);

/* The Beijing calendar day an instant (UTC microseconds) falls on. */
followup_day followup_day_of_us(int64_t us);

/* Parses "YYYY-MM" strictly. Returns 0 or -1. */
int followup_month_parse(const char *field, const char *s, followup_month *out, char *err,
                         size_t errlen);

/* Writes "YYYY-MM" into buf (FOLLOWUP_MONTH_STRLEN + 1 bytes). */
void followup_month_format(followup_month m, char *buf, size_t len);

/* The month of a day; the month after m; -1, 0, 1 as a is before, equal,
 * after b. */
followup_month followup_month_of(followup_day d);
followup_month followup_month_next(followup_month m);
int followup_month_cmp(followup_month a, followup_month b);

/* The first day of a month. */
followup_day followup_month_first(followup_month m);

/* When the report of month m is due: the end (Beijing) of day due_day of
 * the next month; due_day is clamped to 1..28 so every month has it. */
int64_t followup_month_report_due_us(followup_month m, int due_day);

/* The first month of [first, last] whose report is due after `after_us`,
 * for a project registered (or a check made) at after_us: its reports of
 * months already due then are not asked for. Returns 0 and sets *out, or
 * -1 when no month of the period is due after after_us. */
int followup_month_first_due_after(followup_month first, followup_month last, int due_day,
                                   int64_t after_us, followup_month *out);

/* Writes an instant as Beijing wall time, "2027-06-30 23:59 Beijing"
 * (minutes; what people read), into buf (FOLLOWUP_BEIJING_STRLEN + 1). */
void followup_beijing_text(int64_t us, char *buf, size_t len);

/* The ISO 8601 week of the Beijing day of instant us, "2027-W26" (weeks
 * begin on Monday; week 1 holds the year's first Thursday), into buf
 * (FOLLOWUP_WEEK_STRLEN + 1 bytes). */
void followup_iso_week(int64_t us, char *buf, size_t len);

/* ---- tasks ---------------------------------------------------------------- */

typedef enum {
    FOLLOWUP_ON_TIME = 1,  /* more than FOLLOWUP_DUE_SOON_DAYS left */
    FOLLOWUP_DUE_SOON = 2, /* due within FOLLOWUP_DUE_SOON_DAYS */
    FOLLOWUP_OVERDUE = 3,  /* now is at or past the end of the deadline day */
} followup_timeliness;     /* values = ccip.followup.Timeliness */

/* Where a task due before deadline_end_us (followup_day_end_us of its
 * deadline) stands at now_us. A task whose completion was reported
 * (completed_us != 0) is judged at that instant instead: the lead unit's
 * part is done, and the office's review does not make it late. */
followup_timeliness followup_task_timeliness(int64_t deadline_end_us, int64_t now_us,
                                             int64_t completed_us);

/* When the next progress report is due for a task with an interval of
 * interval_days (> 0) whose last report (or acknowledgement, or creation)
 * was at last_us: the end (Beijing) of the day interval_days after that
 * day. 0 when interval_days <= 0 (no interval). */
int64_t followup_report_due_us(int64_t last_us, int interval_days);

/* Checks a unit: the lead unit (lead = 1: "center", "district:<code of one
 * of Beijing's 16 districts>" or "person:<id>", id 1..64 of [A-Za-z0-9_.@-])
 * or a co-organiser (lead = 0: also "center:<department code>", 1..32 of
 * [A-Za-z0-9_.-]). Returns 0 or -1. */
int followup_unit_check(const char *field, const char *unit, int lead, char *err, size_t errlen);

/* Checks an amount of money: 0..FOLLOWUP_FEN_MAX fen. Returns 0 or -1
 * ("field `x` must be 0 to 100000000000000 fen (one trillion yuan), got
 * -5"). */
int followup_fen_check(const char *field, int64_t fen, char *err, size_t errlen);

/* ---- key projects ---------------------------------------------------------- */

typedef enum {
    FOLLOWUP_ON_TRACK = 1,
    FOLLOWUP_AT_RISK = 2,
    FOLLOWUP_LATE = 3,
} followup_board_state; /* values = ccip.followup.BoardState */

/* What the board's state of an active project depends on, as read. */
typedef struct {
    int milestones_late;     /* not reached, past the end of their planned day */
    int milestones_at_risk;  /* not reached, no progress, due within FOLLOWUP_RISK_DAYS */
    int award_suspended;     /* the award it follows is suspended */
    int award_terminated;    /* ... or was terminated early */
    int clawbacks_open;      /* clawbacks ordered on that award and not fully recovered */
    int designation_revoked; /* the designation it follows was revoked */
} followup_project_facts;

/* LATE when a milestone is late; else AT_RISK when any other fact holds;
 * else ON_TRACK. */
followup_board_state followup_project_state(const followup_project_facts *f);

/* Checks a milestone's planned day against the project's period:
 * start <= planned <= end. Returns 0 or -1 naming all three days. */
int followup_milestone_check(const char *field, followup_day planned, followup_day start,
                             followup_day end, char *err, size_t errlen);

#endif
