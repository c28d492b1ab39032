#include "ccip_validate.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define QUOTED_MAX 40 /* bytes of a given value quoted in a message */

/* GB 32100-2015: the 31 characters a code is written with, in value order,
 * and the weights of the first 17 positions. */
static const char S_USCC_CHARSET[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
#define USCC_RADIX 31
static const int S_USCC_WEIGHTS[CCIP_USCC_LEN - 1] = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                                      29, 25, 13, 8,  24, 10, 30, 28};
#define USCC_DIVISION_FIRST 3 /* characters 3..8: administrative division code */
#define USCC_DIVISION_LAST  8

static const ccip_district S_DISTRICTS[] = {
    {"110101", "Dongcheng", "东城区"},     {"110102", "Xicheng", "西城区"},
    {"110105", "Chaoyang", "朝阳区"},      {"110106", "Fengtai", "丰台区"},
    {"110107", "Shijingshan", "石景山区"}, {"110108", "Haidian", "海淀区"},
    {"110109", "Mentougou", "门头沟区"},   {"110111", "Fangshan", "房山区"},
    {"110112", "Tongzhou", "通州区"},      {"110113", "Shunyi", "顺义区"},
    {"110114", "Changping", "昌平区"},     {"110115", "Daxing", "大兴区"},
    {"110116", "Huairou", "怀柔区"},       {"110117", "Pinggu", "平谷区"},
    {"110118", "Miyun", "密云区"},         {"110119", "Yanqing", "延庆区"},
};
#define DISTRICT_COUNT (sizeof S_DISTRICTS / sizeof S_DISTRICTS[0])

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

/* ---- UTF-8 ------------------------------------------------------------- */

/* Decodes one strict UTF-8 sequence from s[0..len), len >= 1. Returns its
 * length (1 to 4) and sets *cp, or 0 when the bytes there are not valid
 * UTF-8 (Unicode 15, table 3-7). */
static size_t s_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead or F5..FF */
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    v = (v << 6) | (s[1] & 0x3F);
    for (size_t i = 2; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return n;
}

/* Offset of the first byte that does not start a valid sequence, or len. */
static size_t s_utf8_bad_at(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint32_t cp = 0;
        size_t n = s_decode(p + i, len - i, &cp);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}

size_t ccip_utf8_invalid_at(const char *s, size_t len)
{
    return s_utf8_bad_at(s, len);
}

int ccip_utf8_valid(const char *s, size_t len)
{
    return s && s_utf8_bad_at(s, len) == len;
}

size_t ccip_utf8_chars(const char *s)
{
    if (!s)
        return 0;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

size_t ccip_utf8_boundary(const char *s, size_t len)
{
    size_t i = len, cont = 0;
    while (i > 0 && cont < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
        cont++;
    }
    if (i == 0)
        return len;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return need > 1 && cont + 1 < need ? i - 1 : len;
}

const char *ccip_text_shown(const char *s, size_t max, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return "";
    if (!s)
        s = "";
    size_t room = outlen > 4 ? outlen - 4 : 0; /* for "..." and the NUL */
    if (max > room)
        max = room;
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && n < max) {
        size_t len = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
        size_t have = 0;
        while (have < len && p[have])
            have++;
        int ok = have == len && ccip_utf8_valid((const char *)p, len);
        if (!ok || (len == 1 && (*p < 0x20 || *p == 0x7F)))
            len = 1, ok = 0;
        if (n + len > max)
            break;
        if (ok)
            memcpy(out + n, p, len);
        else
            out[n] = '?';
        n += ok ? len : 1;
        p += len;
    }
    if (*p && outlen >= 4)
        memcpy(out + n, "...", 3), n += 3;
    out[n < outlen ? n : outlen - 1] = '\0';
    return out;
}

static int s_is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* Writes s quoted, cut after QUOTED_MAX bytes on a character boundary, with
 * '"', '\\', control characters and invalid bytes escaped. */
static void s_quote(const char *s, char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t slen = strlen(s);
    size_t o = 0, i = 0;
    if (len < 8) {
        if (len > 0)
            buf[0] = '\0';
        return;
    }
    buf[o++] = '"';
    while (i < slen && i < QUOTED_MAX && o + 10 < len) {
        uint32_t cp = 0;
        size_t n = s_decode(p + i, slen - i, &cp);
        if (n == 0 || s_is_control(cp) || cp == '"' || cp == '\\') {
            if (n == 1 && (cp == '"' || cp == '\\')) {
                buf[o++] = '\\';
                buf[o++] = (char)cp;
            } else {
                for (size_t k = 0; k < (n ? n : 1); k++)
                    o += (size_t)snprintf(buf + o, len - o, "\\x%02x", p[i + k]);
            }
            i += n ? n : 1;
        } else {
            memcpy(buf + o, p + i, n);
            o += n;
            i += n;
        }
    }
    if (i < slen && o + 5 <= len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

/* Describes the character at s (valid UTF-8 or not) for a message: 'a',
 * '１', U+0007, byte 0xff. Returns the bytes it spans (at least 1). */
static size_t s_describe_char(const char *s, char *buf, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp = 0;
    size_t n = s_decode(p, strlen(s), &cp);
    if (n == 0) {
        snprintf(buf, len, "byte 0x%02x", p[0]);
        return 1;
    }
    if (s_is_control(cp))
        snprintf(buf, len, "U+%04X", (unsigned)cp);
    else
        snprintf(buf, len, "'%.*s'", (int)n, s);
    return n;
}

/* ---- unified social credit code ---------------------------------------- */

static int s_uscc_value(char c)
{
    const char *hit = c ? strchr(S_USCC_CHARSET, c) : NULL;
    return hit ? (int)(hit - S_USCC_CHARSET) : -1;
}

int ccip_uscc_check(const char *code, char *err, size_t errlen)
{
    if (!code)
        return s_fail(err, errlen, "unified social credit code is missing");
    size_t len = strlen(code);
    /* People paste full-width digits and Chinese text: count characters when
     * the text is UTF-8, so that "got" matches what they see. */
    int utf8 = ccip_utf8_valid(code, len);
    size_t chars = utf8 ? ccip_utf8_chars(code) : len;
    if (chars != CCIP_USCC_LEN)
        return s_fail(err, errlen, "unified social credit code must be %d characters, got %zu",
                      CCIP_USCC_LEN, chars);

    int sum = 0;
    size_t i = 0;
    for (int pos = 1; pos <= CCIP_USCC_LEN; pos++) {
        char what[32];
        size_t n = utf8 ? s_describe_char(code + i, what, sizeof what) : 1;
        if (!utf8)
            snprintf(what, sizeof what, "byte 0x%02x", (unsigned char)code[i]);
        char c = code[i];
        int v = n == 1 ? s_uscc_value(c) : -1;
        i += n;
        if (v < 0) {
            if (c >= 'a' && c <= 'z' && s_uscc_value((char)(c - 'a' + 'A')) >= 0)
                return s_fail(err, errlen,
                              "unified social credit code has a lowercase %s at position %d; "
                              "letters must be capitals",
                              what, pos);
            if (c == 'I' || c == 'O' || c == 'S' || c == 'V' || c == 'Z' || c == 'i' || c == 'o' ||
                c == 's' || c == 'v' || c == 'z')
                return s_fail(err, errlen,
                              "unified social credit code has %s at position %d, a letter codes "
                              "never use (I, O, S, V and Z are left out)",
                              what, pos);
            return s_fail(err, errlen,
                          "unified social credit code has an invalid character %s at position %d; "
                          "only digits and the capital letters %s are used",
                          what, pos, S_USCC_CHARSET + 10);
        }
        if (pos >= USCC_DIVISION_FIRST && pos <= USCC_DIVISION_LAST && v > 9)
            return s_fail(err, errlen,
                          "unified social credit code characters %d to %d are the administrative "
                          "division code and must be digits, got %s at position %d",
                          USCC_DIVISION_FIRST, USCC_DIVISION_LAST, what, pos);
        if (pos < CCIP_USCC_LEN)
            sum += v * S_USCC_WEIGHTS[pos - 1];
    }

    char expected = S_USCC_CHARSET[(USCC_RADIX - sum % USCC_RADIX) % USCC_RADIX];
    char got = code[CCIP_USCC_LEN - 1];
    if (got != expected)
        return s_fail(err, errlen,
                      "unified social credit code check character (position %d) should be '%c', "
                      "got '%c'; the code has a typing mistake",
                      CCIP_USCC_LEN, expected, got);
    return 0;
}

/* ---- districts ---------------------------------------------------------- */

/* ASCII-only case-insensitive equality: independent of the locale. */
static int s_ascii_iequal(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

const ccip_district *ccip_district_find(const char *code_or_name)
{
    if (!code_or_name)
        return NULL;
    for (size_t i = 0; i < DISTRICT_COUNT; i++) {
        const ccip_district *d = &S_DISTRICTS[i];
        if (strcmp(code_or_name, d->code) == 0 || s_ascii_iequal(code_or_name, d->name_en) ||
            strcmp(code_or_name, d->name_zh) == 0)
            return d;
    }
    return NULL;
}

size_t ccip_district_count(void)
{
    return DISTRICT_COUNT;
}

const ccip_district *ccip_district_at(size_t i)
{
    return i < DISTRICT_COUNT ? &S_DISTRICTS[i] : NULL;
}

int ccip_district_check(const char *s, char *err, size_t errlen)
{
    if (ccip_district_find(s))
        return 0;
    char got[QUOTED_MAX * 4 + 8];
    if (s)
        s_quote(s, got, sizeof got);
    else
        snprintf(got, sizeof got, "nothing");
    return s_fail(err, errlen,
                  "district must be one of Beijing's %zu districts, by code such as 110105 or by "
                  "name such as Chaoyang or 朝阳区, got %s",
                  DISTRICT_COUNT, got);
}

/* ---- text and codes ----------------------------------------------------- */

static const char *s_chars_word(size_t n)
{
    return n == 1 ? "character" : "characters";
}

int ccip_text_check(const char *field, const char *s, size_t min_chars, size_t max_chars, int flags,
                    char *err, size_t errlen)
{
    if (!field)
        field = "?";
    if (max_chars > 0 && min_chars > max_chars)
        return s_fail(err, errlen, "field `%s` cannot be checked: min_chars %zu > max_chars %zu",
                      field, min_chars, max_chars);
    if (!s)
        return s_fail(err, errlen, "field `%s` is missing", field);
    size_t len = strlen(s);
    size_t bad = s_utf8_bad_at(s, len);
    if (bad < len)
        return s_fail(err, errlen, "field `%s` is not valid UTF-8 at byte %zu", field, bad + 1);

    const unsigned char *p = (const unsigned char *)s;
    size_t chars = 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        i += s_decode(p + i, len - i, &cp);
        chars++;
        int allowed = (flags & CCIP_TEXT_MULTILINE) && (cp == '\n' || cp == '\t');
        if (s_is_control(cp) && !allowed)
            return s_fail(err, errlen, "field `%s` contains a control character at character %zu",
                          field, chars);
    }

    if (chars >= min_chars && (max_chars == 0 || chars <= max_chars))
        return 0;
    if (max_chars == 0 && min_chars == 1)
        return s_fail(err, errlen, "field `%s` must not be empty", field);
    if (max_chars == 0)
        return s_fail(err, errlen, "field `%s` must be at least %zu %s, got %zu", field, min_chars,
                      s_chars_word(min_chars), chars);
    if (min_chars == max_chars)
        return s_fail(err, errlen, "field `%s` must be exactly %zu %s, got %zu", field, max_chars,
                      s_chars_word(max_chars), chars);
    if (min_chars == 0)
        return s_fail(err, errlen, "field `%s` must be at most %zu %s, got %zu", field, max_chars,
                      s_chars_word(max_chars), chars);
    return s_fail(err, errlen, "field `%s` must be %zu to %zu characters, got %zu", field,
                  min_chars, max_chars, chars);
}

static int s_is_code_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

int ccip_code_check(const char *field, const char *s, size_t max_len, char *err, size_t errlen)
{
    if (!field)
        field = "?";
    if (!s)
        return s_fail(err, errlen, "field `%s` is missing", field);
    if (!*s)
        return s_fail(err, errlen, "field `%s` must not be empty", field);
    size_t len = strlen(s);
    int utf8 = ccip_utf8_valid(s, len);
    for (size_t i = 0; i < len; i++) {
        if (s_is_code_char(s[i]))
            continue;
        /* Everything before is ASCII, so byte i + 1 is character i + 1. */
        char what[32];
        if (utf8)
            s_describe_char(s + i, what, sizeof what);
        else
            snprintf(what, sizeof what, "byte 0x%02x", (unsigned char)s[i]);
        return s_fail(err, errlen,
                      "field `%s` contains %s at character %zu; only letters A-Z and a-z, digits, "
                      "'_', '.' and '-' are allowed",
                      field, what, i + 1);
    }
    if (max_len > 0 && len > max_len)
        return s_fail(err, errlen, "field `%s` must be at most %zu %s, got %zu", field, max_len,
                      s_chars_word(max_len), len);
    return 0;
}
