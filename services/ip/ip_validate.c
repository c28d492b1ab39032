#include "ip_validate.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ccip_id.h"
#include "ccip_validate.h"

#define ORG_PREFIX    "org:"
#define PERSON_PREFIX "person:"
#define PERSON_ID_MAX 64
#define US_PER_DAY    86400000000LL

const char *ip_enum_name(const ProtobufCEnumDescriptor *desc, int value)
{
    if (value == 0)
        return NULL;
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    return v ? v->name : NULL;
}

int ip_enum_value(const ProtobufCEnumDescriptor *desc, const char *name)
{
    if (!name)
        return 0;
    for (unsigned i = 0; i < desc->n_values; i++) {
        const char *a = desc->values[i].name, *b = name;
        while (*a && *b && toupper((unsigned char)*b == '-' ? '_' : (unsigned char)*b) == *a) {
            a++;
            b++;
        }
        if (!*a && !*b)
            return desc->values[i].value;
    }
    return 0;
}

void ip_enum_list(const ProtobufCEnumDescriptor *desc, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < desc->n_values; i++) {
        if (desc->values[i].value == 0)
            continue;
        int w =
            snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", desc->values[i].name);
        if (w > 0)
            n += (size_t)w;
    }
}

int ip_check_enum(const char *field, const ProtobufCEnumDescriptor *desc, int value, char *err,
                  size_t errlen)
{
    if (ip_enum_name(desc, value))
        return 0;
    char names[400];
    ip_enum_list(desc, names, sizeof names);
    if (value == 0)
        snprintf(err, errlen, "field `%s` is missing; it must be one of %s", field, names);
    else
        snprintf(err, errlen, "field `%s` has the unknown value %d; it must be one of %s", field,
                 value, names);
    return -1;
}

int ip_check_sha256(const char *field, const char *hex, uint8_t out[IP_HASH_LEN], char *err,
                    size_t errlen)
{
    uint8_t tmp[IP_HASH_LEN];
    size_t n = hex ? strlen(hex) : 0;
    if (n != IP_HASH_HEX) {
        snprintf(err, errlen,
                 "field `%s` must be 64 hex characters (a SHA-256, e.g. from sha256sum), got %zu "
                 "characters",
                 field, n);
        return -1;
    }
    if (ip_unhex(hex, out ? out : tmp, IP_HASH_LEN) < 0) {
        size_t i = strspn(hex, "0123456789abcdefABCDEF");
        snprintf(err, errlen,
                 "field `%s` must be 64 hex characters (a SHA-256), got a non-hex character at "
                 "character %zu",
                 field, i + 1);
        return -1;
    }
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t s_days(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int s_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int ip_check_date(const char *field, const char *s, int64_t *days, char *err, size_t errlen)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!s || !s[0]) {
        snprintf(err, errlen, "field `%s` is missing; write a date as YYYY-MM-DD", field);
        return -1;
    }
    int ok = strlen(s) == 10 && s[4] == '-' && s[7] == '-';
    for (int i = 0; ok && i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            ok = 0;
    int y = 0;
    unsigned m = 0, d = 0;
    if (ok) {
        y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
        m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
        d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
        ok = y >= 1000 && m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1] + (m == 2 && s_leap(y));
    }
    if (!ok) {
        snprintf(err, errlen, "field `%s` must be a date written YYYY-MM-DD, got \"%.20s\"", field,
                 s);
        return -1;
    }
    if (days)
        *days = s_days(y, m, d);
    return 0;
}

int64_t ip_today_days(void)
{
    int64_t us = ccip_now_us();
    return us >= 0 ? us / US_PER_DAY : (us - US_PER_DAY + 1) / US_PER_DAY;
}

int ip_check_party(const char *field, const char *party, char *err, size_t errlen)
{
    char why[256];
    if (!party || !party[0]) {
        snprintf(err, errlen,
                 "field `%s` is missing; a party is \"org:<unified social credit code>\" or "
                 "\"person:<id>\"",
                 field);
        return -1;
    }
    if (strncmp(party, ORG_PREFIX, strlen(ORG_PREFIX)) == 0) {
        if (ccip_uscc_check(party + strlen(ORG_PREFIX), why, sizeof why) < 0) {
            snprintf(err, errlen, "field `%s`: %s", field, why);
            return -1;
        }
        return 0;
    }
    if (strncmp(party, PERSON_PREFIX, strlen(PERSON_PREFIX)) == 0) {
        if (ccip_code_check(field, party + strlen(PERSON_PREFIX), PERSON_ID_MAX, why, sizeof why) <
            0) {
            snprintf(err, errlen, "%s (after \"person:\")", why);
            return -1;
        }
        return 0;
    }
    snprintf(err, errlen,
             "field `%s` must be \"org:<unified social credit code>\" or \"person:<id>\", got "
             "\"%.40s\"",
             field, party);
    return -1;
}

int ip_check_owners(const ip_chain_owner *owners, size_t n, char *err, size_t errlen)
{
    if (n < 1 || n > IP_OWNERS_MAX) {
        snprintf(err, errlen, "field `owners` must list 1 to %d owners, got %zu", IP_OWNERS_MAX, n);
        return -1;
    }
    uint32_t total = 0;
    for (size_t i = 0; i < n; i++) {
        char field[32];
        snprintf(field, sizeof field, "owners[%zu].party", i);
        if (ip_check_party(field, owners[i].party, err, errlen) < 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(owners[i].party, owners[j].party) == 0) {
                snprintf(err, errlen,
                         "field `owners` names %s twice; list each owner once with its whole "
                         "share",
                         owners[i].party);
                return -1;
            }
        if (owners[i].share_bp < 1 || owners[i].share_bp > IP_SHARES_TOTAL) {
            snprintf(err, errlen,
                     "field `owners[%zu].share_bp` must be 1 to 10000 basis points "
                     "(10000 = the whole work), got %u",
                     i, owners[i].share_bp);
            return -1;
        }
        total += owners[i].share_bp;
    }
    if (total != IP_SHARES_TOTAL) {
        snprintf(err, errlen,
                 "field `owners`: shares must add up to 10000 basis points (the whole work), "
                 "got %u",
                 total);
        return -1;
    }
    return 0;
}

static int s_code_ok(const char *c)
{
    if (strcmp(c, "WORLD") == 0)
        return 1;
    size_t n = strlen(c);
    if (n < 2 || !isupper((unsigned char)c[0]) || !isupper((unsigned char)c[1]) ||
        !isascii((unsigned char)c[0]) || !isascii((unsigned char)c[1]))
        return 0;
    if (n == 2)
        return 1;
    if (c[2] != '-' || n < 4 || n > 6)
        return 0;
    for (size_t i = 3; i < n; i++)
        if (!((c[i] >= 'A' && c[i] <= 'Z') || (c[i] >= '0' && c[i] <= '9')))
            return 0;
    return 1;
}

int ip_check_territory(const char *field, char *const *codes, size_t n, char *err, size_t errlen)
{
    if (n < 1 || n > IP_TERRITORIES_MAX) {
        snprintf(err, errlen,
                 "field `%s` must list 1 to %d places (\"WORLD\", \"CN\", \"CN-BJ\", ...), got %zu",
                 field, IP_TERRITORIES_MAX, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!codes[i] || !s_code_ok(codes[i])) {
            snprintf(err, errlen,
                     "field `%s[%zu]` must be \"WORLD\", a country code such as \"CN\" or a "
                     "subdivision such as \"CN-BJ\", got \"%.20s\"",
                     field, i, codes[i] ? codes[i] : "");
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(codes[i], codes[j]) == 0) {
                snprintf(err, errlen, "field `%s` names \"%s\" twice", field, codes[i]);
                return -1;
            }
    }
    return 0;
}

/* 1 when the places a and b share ground. */
static int s_place_overlap(const char *a, const char *b)
{
    if (strcmp(a, "WORLD") == 0 || strcmp(b, "WORLD") == 0 || strcmp(a, b) == 0)
        return 1;
    /* "CN" and "CN-BJ": a country covers its subdivisions. */
    size_t la = strlen(a), lb = strlen(b);
    if (la == 2 && lb > 2)
        return strncmp(a, b, 2) == 0;
    if (lb == 2 && la > 2)
        return strncmp(a, b, 2) == 0;
    return 0;
}

int ip_territories_overlap(char *const *a, size_t na, char *const *b, size_t nb)
{
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if (s_place_overlap(a[i], b[j]))
                return 1;
    return 0;
}

int ip_check_term(const char *start, const char *end, int64_t *start_days, int64_t *end_days,
                  char *err, size_t errlen)
{
    int64_t s, e;
    if (ip_check_date("term_start", start, &s, err, errlen) < 0 ||
        ip_check_date("term_end", end, &e, err, errlen) < 0)
        return -1;
    if (e < s) {
        snprintf(err, errlen,
                 "field `term_end` (%s) is before `term_start` (%s); a term must end on or after "
                 "the day it starts",
                 end, start);
        return -1;
    }
    if (start_days)
        *start_days = s;
    if (end_days)
        *end_days = e;
    return 0;
}

int ip_terms_overlap(int64_t s1, int64_t e1, int64_t s2, int64_t e2)
{
    return s1 <= e2 && s2 <= e1;
}

int ip_check_price(const char *field, int64_t fen, char *err, size_t errlen)
{
    if (fen < 0) {
        snprintf(err, errlen, "field `%s` must be 0 or more fen (1 yuan = 100 fen), got %" PRId64,
                 field, fen);
        return -1;
    }
    return 0;
}

int ip_check_uuid(const char *field, const char *s, char *err, size_t errlen)
{
    if (ccip_uuid_valid(s))
        return 0;
    if (!s || !s[0])
        snprintf(err, errlen,
                 "field `%s` is missing; it must be an id such as "
                 "0193b6c2-5d0e-7a31-8c4f-2e9d1b7a6c55",
                 field);
    else
        snprintf(err, errlen, "field `%s` must be a lower-case UUID, got \"%.40s\"", field, s);
    return -1;
}

void ip_serial_text(uint64_t serial, char *buf, size_t len)
{
    snprintf(buf, len, "IP-%08" PRIu64, serial);
}
