#include "ccip_id.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define US_PER_SEC       INT64_C(1000000)
#define SEC_PER_DAY      INT64_C(86400)
#define V7_MS_BITS       48    /* unix_ts_ms field of a UUIDv7 */
#define V7_SEQ_BITS      12    /* rand_a field, used as the counter */
#define V7_SEQ_FRESH     0x7FF /* mask of a fresh counter: leaves >= 2048 ids per ms */
#define YEAR_MIN         1     /* years ccip_time_* read and write */
#define YEAR_MAX         9999
#define OFFSET_HOURS_MAX 23

/* (unix ms << 12) | counter of the last UUIDv7 handed out. One word, so the
 * next id is found with compare-and-swap instead of a lock. */
static _Atomic uint64_t s_v7_last;

/* ---- ids --------------------------------------------------------------- */

/* Fills buf with bytes from the kernel's CSPRNG. Returns 0 or -1. */
static int s_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void s_uuid_format(const unsigned char b[16], char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0F];
    }
    out[o] = '\0';
}

int ccip_uuid_v7(char out[CCIP_UUID_STRLEN + 1])
{
    if (!out)
        return -1;
    unsigned char b[16];
    if (s_random(b, sizeof b) < 0) {
        out[0] = '\0';
        return -1;
    }
    int64_t now_ms = ccip_now_us() / 1000;
    uint64_t ms = now_ms < 0 ? 0 : (uint64_t)now_ms & ((UINT64_C(1) << V7_MS_BITS) - 1);
    uint64_t fresh = (ms << V7_SEQ_BITS) | (((uint64_t)b[6] << 8 | b[7]) & V7_SEQ_FRESH);

    /* A new millisecond starts from a random counter; the same (or an
     * earlier) millisecond takes the previous id plus one, which carries
     * into the timestamp when the counter is used up. */
    uint64_t prev = atomic_load(&s_v7_last);
    uint64_t next;
    do {
        next = (fresh >> V7_SEQ_BITS) > (prev >> V7_SEQ_BITS) ? fresh : prev + 1;
    } while (!atomic_compare_exchange_weak(&s_v7_last, &prev, next));

    uint64_t ts = next >> V7_SEQ_BITS;
    unsigned seq = (unsigned)(next & ((1u << V7_SEQ_BITS) - 1));
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ts >> (8 * (5 - i)));
    b[6] = (unsigned char)(0x70 | (seq >> 8));
    b[7] = (unsigned char)(seq & 0xFF);
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3F));
    s_uuid_format(b, out);
    return 0;
}

int ccip_uuid_v4(char out[CCIP_UUID_STRLEN + 1])
{
    if (!out)
        return -1;
    unsigned char b[16];
    if (s_random(b, sizeof b) < 0) {
        out[0] = '\0';
        return -1;
    }
    b[6] = (unsigned char)(0x40 | (b[6] & 0x0F));
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3F));
    s_uuid_format(b, out);
    return 0;
}

int ccip_uuid_valid(const char *s)
{
    if (!s)
        return 0;
    for (int i = 0; i < CCIP_UUID_STRLEN; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return 0; /* also stops at a NUL before the end */
        }
    }
    return s[CCIP_UUID_STRLEN] == '\0';
}

/* ---- time -------------------------------------------------------------- */

int64_t ccip_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}

int64_t ccip_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ccip_sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil); exact for any year, no time zone involved. */
static int64_t s_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of s_days_from_civil. */
static void s_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int ccip_time_format_us(int64_t us, char *buf, size_t len)
{
    if (!buf)
        return -1;
    if (len > 0)
        buf[0] = '\0';
    if (len < CCIP_TIME_STRLEN + 1)
        return -1;
    /* Floor division: -1 us is 1969-12-31T23:59:59.999999Z. */
    int64_t secs = us / US_PER_SEC;
    int64_t frac = us % US_PER_SEC;
    if (frac < 0) {
        frac += US_PER_SEC;
        secs--;
    }
    int64_t days = secs / SEC_PER_DAY;
    int64_t sod = secs % SEC_PER_DAY;
    if (sod < 0) {
        sod += SEC_PER_DAY;
        days--;
    }
    int64_t y;
    unsigned m, d;
    s_civil_from_days(days, &y, &m, &d);
    if (y < YEAR_MIN || y > YEAR_MAX)
        return -1;
    snprintf(buf, len, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", (int)y, m, d, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60), (int)frac);
    return 0;
}

/* Reads exactly n ASCII digits. Returns 0 with *v set, or -1. */
static int s_digits(const char *s, int n, int *v)
{
    int r = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        r = r * 10 + (s[i] - '0');
    }
    *v = r;
    return 0;
}

static int s_is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int s_days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && s_is_leap(y) ? 29 : days[m - 1];
}

int ccip_time_parse_us(const char *s, int64_t *us)
{
    if (!s || !us)
        return -1;
    int y, mo, d, h, mi, sec;
    /* "YYYY-MM-DDTHH:MM:SS": strlen is not needed, a NUL fails the checks. */
    if (s_digits(s, 4, &y) < 0 || s[4] != '-' || s_digits(s + 5, 2, &mo) < 0 || s[7] != '-' ||
        s_digits(s + 8, 2, &d) < 0 || s[10] != 'T' || s_digits(s + 11, 2, &h) < 0 || s[13] != ':' ||
        s_digits(s + 14, 2, &mi) < 0 || s[16] != ':' || s_digits(s + 17, 2, &sec) < 0)
        return -1;
    if (y < YEAR_MIN || mo < 1 || mo > 12 || d < 1 || d > s_days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 59)
        return -1;
    const char *p = s + 19;

    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        for (; *p >= '0' && *p <= '9'; p++, n++) {
            if (n == 6)
                return -1; /* finer than a microsecond would be lost */
            frac = frac * 10 + (*p - '0');
        }
        if (n == 0)
            return -1;
        for (; n < 6; n++)
            frac *= 10;
    }

    int64_t offset_sec = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (s_digits(p + 1, 2, &oh) < 0 || p[3] != ':' || s_digits(p + 4, 2, &om) < 0 ||
            oh > OFFSET_HOURS_MAX || om > 59)
            return -1;
        offset_sec = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;

    /* Local time minus its offset is UTC: 18:00+08:00 is 10:00Z. */
    int64_t secs = s_days_from_civil(y, (unsigned)mo, (unsigned)d) * SEC_PER_DAY + h * 3600 +
                   mi * 60 + sec - offset_sec;
    *us = secs * US_PER_SEC + frac;
    return 0;
}

/* ---- money ------------------------------------------------------------- */

int ccip_fen_parse(const char *yuan, ccip_fen *out)
{
    if (!yuan || !out)
        return -1;
    const char *p = yuan;
    int neg = *p == '-';
    p += neg;
    if (*p < '0' || *p > '9')
        return -1;
    /* Accumulated as a negative number so that INT64_MIN fen, whose
     * magnitude has no positive int64, can be read. */
    int64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_sub_overflow(v, *p - '0', &v))
            return -1;
    }
    int64_t cents = 0;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        cents = (*p++ - '0') * 10;
        if (*p >= '0' && *p <= '9')
            cents += *p++ - '0';
    }
    if (*p != '\0')
        return -1;
    if (__builtin_mul_overflow(v, 100, &v) || __builtin_sub_overflow(v, cents, &v))
        return -1;
    if (!neg && __builtin_mul_overflow(v, -1, &v))
        return -1;
    *out = v;
    return 0;
}

int ccip_fen_format(ccip_fen fen, char *buf, size_t len)
{
    if (!buf)
        return -1;
    /* The magnitude as unsigned: -INT64_MIN does not fit in an int64. */
    uint64_t mag = fen < 0 ? UINT64_C(0) - (uint64_t)fen : (uint64_t)fen;
    int n = snprintf(buf, len, "%s%" PRIu64 ".%02u", fen < 0 ? "-" : "", mag / 100,
                     (unsigned)(mag % 100));
    if (n < 0 || (size_t)n >= len) {
        if (len > 0)
            buf[0] = '\0';
        return -1;
    }
    return 0;
}

int ccip_fen_add(ccip_fen a, ccip_fen b, ccip_fen *out)
{
    ccip_fen sum;
    if (!out || __builtin_add_overflow(a, b, &sum))
        return -1;
    *out = sum;
    return 0;
}

int ccip_time_text(int64_t us, char *buf, size_t len)
{
    if (ccip_time_format_us(us, buf, len) < 0)
        return -1;
    /* "2026-11-27T10:00:00.000000Z" -> "2026-11-27T10:00:00Z" */
    char *dot = strchr(buf, '.');
    if (dot && strcmp(dot, ".000000Z") == 0)
        memcpy(dot, "Z", 2);
    return 0;
}

char *ccip_i64_text(int64_t v, char buf[21])
{
    snprintf(buf, 21, "%lld", (long long)v);
    return buf;
}
