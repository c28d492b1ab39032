/*
 * ccip_id: identifiers, time and money, the three kinds of value every
 * service stores and none may get subtly wrong.
 *
 *   ids    UUIDs in the canonical lowercase 36-character form. Version 7
 *          (RFC 9562) for rows and messages: they sort by creation time, so
 *          btree indexes stay compact and ids can be compared for order.
 *          Version 4 where an id must not reveal when it was made.
 *   time   int64_t microseconds since 1970-01-01T00:00:00Z (UTC), shown as
 *          "2026-11-27T10:00:00.123456Z" (RFC 3339).
 *   money  ccip_fen, an int64_t count of fen (0.01 yuan); never a float.
 *          Text is yuan with at most two decimals: "1234.56", "-0.05".
 *
 * All functions are thread-safe and keep no state except the last
 * UUIDv7 timestamp and counter.
 */
#ifndef CCIP_ID_H
#define CCIP_ID_H

#include <stddef.h>
#include <stdint.h>

/* Characters of a UUID in canonical form, without the terminating NUL. */
#define CCIP_UUID_STRLEN 36

/* Characters of a time as written by ccip_time_format_us, without the NUL:
 * "2026-11-27T10:00:00.123456Z". */
#define CCIP_TIME_STRLEN 27

/* Most characters of an amount as written by ccip_fen_format, without the
 * NUL: "-92233720368547758.08". */
#define CCIP_FEN_STRLEN 21

/* ---- ids --------------------------------------------------------------- */

/* Writes a new UUIDv7: 48-bit Unix time in milliseconds, version 7, a 12-bit
 * counter, variant 10, 62 random bits, e.g.
 * "01936b2e-4c3a-7d21-9f0e-5b8c2a1d4e6f".
 * Ids from one process are strictly increasing, also as strings: within one
 * millisecond the counter (random start, below 0x800) goes up by one; when it
 * runs out, or when the clock steps back, the timestamp is carried forward
 * from the previous id instead of going back.
 * Returns 0, or -1 when `out` is NULL or the kernel gave no random bytes
 * (getrandom(2)); then out is "" when not NULL. */
int ccip_uuid_v7(char out[CCIP_UUID_STRLEN + 1]);

/* Writes a new random UUIDv4 (122 random bits from getrandom(2)).
 * Returns 0, or -1 as ccip_uuid_v7. */
int ccip_uuid_v4(char out[CCIP_UUID_STRLEN + 1]);

/* 1 when s is a UUID in canonical form: 36 characters, lowercase hex digits
 * in groups of 8-4-4-4-12 separated by '-'; any version. 0 otherwise,
 * including NULL, uppercase, braces and missing hyphens. */
int ccip_uuid_valid(const char *s);

/* ---- time -------------------------------------------------------------- */

/* The current time: UTC microseconds since the Unix epoch (CLOCK_REALTIME;
 * may step when the system clock is set, so measure durations with
 * CLOCK_MONOTONIC instead). */
int64_t ccip_now_us(void);

/* Milliseconds of CLOCK_MONOTONIC: for timeouts and intervals, which must
 * not jump when the wall clock is set. */
int64_t ccip_mono_ms(void);

/* Sleeps ms milliseconds (none when ms <= 0), resuming after signals. */
void ccip_sleep_ms(int64_t ms);

/* Writes `us` as "2026-11-27T10:00:00.123456Z" (always six fraction digits,
 * always Z) into buf, which needs CCIP_TIME_STRLEN + 1 bytes.
 * Returns 0, or -1 when buf is NULL, len is too small or the year is outside
 * 0001..9999; then buf is "" when len > 0. */
int ccip_time_format_us(int64_t us, char *buf, size_t len);

/* Writes `us` as people and JSON read it: "2026-11-27T10:00:00Z", with the
 * six fraction digits only when they are not all zero. Same buffer size and
 * failure as ccip_time_format_us. */
int ccip_time_text(int64_t us, char *buf, size_t len);

/* Writes v in decimal into buf (at least 21 bytes) and returns buf, for
 * statement parameters. */
char *ccip_i64_text(int64_t v, char buf[21]);

/* Parses an RFC 3339 time into UTC microseconds:
 *   "2026-11-27T10:00:00Z"
 *   "2026-11-27T10:00:00.123456Z"      (1 to 6 fraction digits)
 *   "2026-11-27T18:00:00+08:00"        (local time with its offset; -05:00 too)
 *   "2026-11-27T18:00:00.5+08:00"
 * Fields are checked (month 1-12, day in that month, hour 0-23, minute and
 * second 0-59, offset up to 23:59); the 'T' and 'Z' are uppercase; nothing
 * may precede or follow.
 * Returns 0 and sets *us, or -1 (us untouched) on anything else, or NULL. */
int ccip_time_parse_us(const char *s, int64_t *us);

/* ---- money ------------------------------------------------------------- */

/* An amount of money in fen (1 yuan = 100 fen). */
typedef int64_t ccip_fen;

/* Parses an amount in yuan: an optional '-', one or more digits, optionally
 * '.' and one or two digits: "1234" = 123400, "1234.5" = 123450,
 * "1234.56" = 123456, "-3.20" = -320. Exact: no floating point.
 * Returns 0 and sets *out, or -1 (out untouched) for NULL, "", more than two
 * decimals, '+', spaces, separators, anything else that is not a digit, or an
 * amount outside INT64_MIN..INT64_MAX fen. */
int ccip_fen_parse(const char *yuan, ccip_fen *out);

/* Writes `fen` as yuan with exactly two decimals: 123456 -> "1234.56",
 * -5 -> "-0.05", 0 -> "0.00". buf needs CCIP_FEN_STRLEN + 1 bytes for any
 * amount. Returns 0, or -1 when buf is NULL or too small (then buf is "" when
 * len > 0). */
int ccip_fen_format(ccip_fen fen, char *buf, size_t len);

/* *out = a + b. Returns 0, or -1 (out untouched) when the sum does not fit
 * in a ccip_fen, or out is NULL. */
int ccip_fen_add(ccip_fen a, ccip_fen b, ccip_fen *out);

#endif
