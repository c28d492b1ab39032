#include "ccip_config.h"

#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ccip_log.h"

#define SHOWN_STRING_MAX 48  /* bytes of a given string quoted in a message */
#define KEY_PATH_MAX     256 /* longest dotted path reported for an unknown key */
#define GOT_MAX          96  /* room for the "got ..." part of a message */
#define EXPECT_MAX       128 /* room for the "must be ..." part of a message */

/* What a value turned out to be, wherever it came from. */
typedef enum {
    S_TEXT,  /* a string: from the file, the environment or a default */
    S_RAW,   /* a literal shown as written (an integer too large for int64) */
    S_INT,   /* an integer */
    S_BOOL,  /* true or false */
    S_FLOAT, /* a float in the file */
    S_GROUP, /* { ... } in the file */
    S_ARRAY, /* [ ... ] in the file */
    S_LIST,  /* ( ... ) in the file */
} s_kind;

typedef struct {
    s_kind kind;                    /* which of the members below holds the value */
    const char *text;               /* S_TEXT: borrowed */
    char raw[SHOWN_STRING_MAX + 1]; /* S_RAW: the start of the literal */
    int raw_cut;                    /* S_RAW: the literal was longer than raw */
    int64_t i;                      /* S_INT; S_BOOL: 0 or 1 */
    double f;                       /* S_FLOAT */
} s_value;

/* Everything one load needs to report where a value came from. */
typedef struct {
    const char *file_base; /* base name of the main file, NULL when there is none */
    const char *file_text; /* the main file's text, for re-reading literals */
    const char *dir;       /* directory of the main file, for @include paths */
    char *err;             /* caller's message buffer, may be NULL */
    size_t errlen;         /* its size */
} s_load;

__attribute__((format(printf, 3, 4))) static void s_errf(char *err, size_t errlen, const char *fmt,
                                                         ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const char *s_base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static const char *s_bytes_word(int64_t n)
{
    return n == 1 ? "byte" : "bytes";
}

static void *s_member(void *out, const ccip_config_field *f)
{
    return (char *)out + f->offset;
}

/* ---- what a field expects, what was given ---------------------------- */

static int s_int_unbounded(const ccip_config_field *f)
{
    return (f->min == 0 && f->max == 0) || (f->min == INT64_MIN && f->max == INT64_MAX);
}

/* Writes "an integer between 1 and 64", "a string of at most 255 bytes",
 * "true or false". */
static void s_expected(const ccip_config_field *f, char *buf, size_t len)
{
    switch (f->type) {
    case CCIP_CFG_INT:
        if (s_int_unbounded(f))
            snprintf(buf, len, "an integer");
        else if (f->max == INT64_MAX)
            snprintf(buf, len, "an integer of at least %" PRId64, f->min);
        else if (f->min == INT64_MIN)
            snprintf(buf, len, "an integer of at most %" PRId64, f->max);
        else
            snprintf(buf, len, "an integer between %" PRId64 " and %" PRId64, f->min, f->max);
        break;
    case CCIP_CFG_STRING:
        if (f->min == 0 && f->max == 0)
            snprintf(buf, len, "a string");
        else if (f->min == f->max)
            snprintf(buf, len, "a string of exactly %" PRId64 " %s", f->max, s_bytes_word(f->max));
        else if (f->max == 0 && f->min == 1)
            snprintf(buf, len, "a non-empty string");
        else if (f->max == 0)
            snprintf(buf, len, "a string of at least %" PRId64 " %s", f->min, s_bytes_word(f->min));
        else if (f->min == 0)
            snprintf(buf, len, "a string of at most %" PRId64 " %s", f->max, s_bytes_word(f->max));
        else
            snprintf(buf, len, "a string of %" PRId64 " to %" PRId64 " bytes", f->min, f->max);
        break;
    case CCIP_CFG_BOOL:
        snprintf(buf, len, "true or false");
        break;
    }
}

/* Appends `s` quoted and escaped, cut after SHOWN_STRING_MAX bytes (on a
 * UTF-8 character boundary) with "..." inside the quotes. */
static void s_show_string(const char *s, char *buf, size_t len)
{
    size_t n = strlen(s);
    int cut = 0;
    if (n > SHOWN_STRING_MAX) {
        n = SHOWN_STRING_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        cut = 1;
    }
    size_t o = 0;
    if (len < 8) {
        if (len > 0)
            buf[0] = '\0';
        return;
    }
    buf[o++] = '"';
    size_t i;
    for (i = 0; i < n && o + 8 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
        } else {
            buf[o++] = (char)c;
        }
    }
    if (i < n)
        cut = 1;
    if (cut && o + 5 <= len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

/* Writes a value the way it would be written in the file. */
static void s_show(const s_value *v, char *buf, size_t len)
{
    switch (v->kind) {
    case S_TEXT:
        s_show_string(v->text, buf, len);
        break;
    case S_RAW:
        snprintf(buf, len, "%s%s", v->raw, v->raw_cut ? "..." : "");
        break;
    case S_INT:
        snprintf(buf, len, "%" PRId64, v->i);
        break;
    case S_BOOL:
        snprintf(buf, len, "%s", v->i ? "true" : "false");
        break;
    case S_FLOAT: {
        /* Keep a decimal point so that 3.0 is not shown as the integer 3. */
        int n = snprintf(buf, len, "%g", v->f);
        if (n > 0 && (size_t)n + 3 <= len && isfinite(v->f) && !strpbrk(buf, ".e"))
            memcpy(buf + n, ".0", 3);
        break;
    }
    case S_GROUP:
        snprintf(buf, len, "a group");
        break;
    case S_ARRAY:
        snprintf(buf, len, "an array");
        break;
    case S_LIST:
        snprintf(buf, len, "a list");
        break;
    }
}

/* The checked value of a field; `s` is borrowed from the value. */
typedef struct {
    int64_t i;
    const char *s;
} s_result;

/* Checks `v` against field `f`. Returns 0 and fills *res, or -1 and writes
 * what was given (for "got ...") into got. */
static int s_check(const ccip_config_field *f, const s_value *v, s_result *res, char *got,
                   size_t gotlen)
{
    switch (f->type) {
    case CCIP_CFG_INT:
        if (v->kind != S_INT)
            break;
        if (!s_int_unbounded(f) && (v->i < f->min || v->i > f->max))
            break;
        res->i = v->i;
        return 0;
    case CCIP_CFG_BOOL:
        if (v->kind != S_BOOL)
            break;
        res->i = v->i;
        return 0;
    case CCIP_CFG_STRING: {
        if (v->kind != S_TEXT)
            break;
        size_t n = strlen(v->text);
        if ((f->min > 0 && n < (uint64_t)f->min) || (f->max > 0 && n > (uint64_t)f->max)) {
            /* Length only: the value may be a password. */
            snprintf(got, gotlen, "%zu %s", n, s_bytes_word((int64_t)n));
            return -1;
        }
        res->s = v->text;
        return 0;
    }
    }
    s_show(v, got, gotlen);
    return -1;
}

/* ---- values from text (environment, defaults) ------------------------- */

/* Strict decimal: optional '-', digits, nothing else, no overflow. */
static int s_parse_decimal(const char *s, int64_t *out)
{
    int neg = *s == '-';
    const char *p = s + neg;
    if (*p == '\0')
        return -1;
    int64_t v = 0; /* accumulated negative so that INT64_MIN fits */
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_sub_overflow(v, *p - '0', &v))
            return -1;
    }
    if (!neg && __builtin_mul_overflow(v, -1, &v))
        return -1;
    *out = v;
    return 0;
}

static s_value s_value_from_text(const ccip_config_field *f, const char *text)
{
    s_value v = {.kind = S_TEXT, .text = text};
    if (f->type == CCIP_CFG_INT && s_parse_decimal(text, &v.i) == 0) {
        v.kind = S_INT;
    } else if (f->type == CCIP_CFG_BOOL) {
        if (strcasecmp(text, "true") == 0) {
            v.kind = S_BOOL;
            v.i = 1;
        } else if (strcasecmp(text, "false") == 0) {
            v.kind = S_BOOL;
            v.i = 0;
        }
    }
    return v;
}

/* ---- reading files ----------------------------------------------------- */

/* Reads a whole text file into a NUL-terminated buffer the caller frees.
 * Returns NULL with errno set (EISDIR, EFBIG, EINVAL for a NUL byte). Reading
 * it ourselves keeps libconfig's scanner away from directories and read
 * errors, on which it would call exit(). */
static char *s_read_text(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(fp);
        errno = EISDIR;
        return NULL;
    }
    char *buf = malloc(CCIP_CONFIG_FILE_MAX + 1);
    if (!buf) {
        fclose(fp);
        errno = ENOMEM;
        return NULL;
    }
    size_t n = fread(buf, 1, CCIP_CONFIG_FILE_MAX + 1, fp);
    int failed = ferror(fp);
    int saved = errno;
    fclose(fp);
    if (failed) {
        free(buf);
        errno = saved ? saved : EIO;
        return NULL;
    }
    if (n > CCIP_CONFIG_FILE_MAX) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    if (memchr(buf, '\0', n)) {
        free(buf);
        errno = EINVAL;
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static const char *s_read_error(int e)
{
    switch (e) {
    case EFBIG:
        return "larger than 1 MiB, not a configuration file";
    case EINVAL:
        return "contains a NUL byte, not a text file";
    default:
        return strerror(e);
    }
}

/* libconfig opens an @include itself, and its scanner (flex) calls exit()
 * when reading fails: an @include naming a directory ("." or "/") ended
 * the whole process with "input in flex scanner failed", and one naming a
 * FIFO or /dev/stdin would block it for good. So before libconfig reads a
 * text, every @include it holds is found the way libconfig's scanner finds
 * one (at the start of a line, outside comments and strings) and the file
 * it names is read as the main file is (a regular file, at most 1 MiB, no
 * NUL), and so on down the includes. A bad one is refused with its line. */
#define INCLUDE_DEPTH_MAX 10 /* libconfig's own limit */

static int s_check_includes(const char *text, const char *where, const char *dir, int depth,
                            char *err, size_t errlen);

/* Reads the quoted file name of an @include at p (just after the opening
 * quote) into name. Returns the position after the closing quote, or NULL
 * when the line ends first (libconfig refuses that itself). */
static const char *s_include_name(const char *p, char *name, size_t len)
{
    size_t n = 0;
    while (*p && *p != '"' && *p != '\n') {
        if (*p == '\\' && p[1] && p[1] != '\n')
            p++;
        if (n + 1 < len)
            name[n++] = *p;
        p++;
    }
    name[n] = '\0';
    return *p == '"' ? p + 1 : NULL;
}

static int s_check_include(const char *name, const char *where, unsigned line, const char *dir,
                           int depth, char *err, size_t errlen)
{
    char path[4096];
    /* libconfig puts the include directory before every name */
    int w = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (w < 0 || (size_t)w >= sizeof path) {
        s_errf(err, errlen, "%s:%u: @include names a path longer than %zu bytes", where, line,
               sizeof path - 1);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    int regular = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (!regular) {
        char shown[SHOWN_STRING_MAX * 4];
        s_show_string(name, shown, sizeof shown);
        s_errf(err, errlen, "%s:%u: @include %s: %s; name a configuration file", where, line, shown,
               fd >= 0 ? "not a regular file" : strerror(e));
        return -1;
    }
    char *text = s_read_text(path);
    if (!text) {
        char shown[SHOWN_STRING_MAX * 4];
        s_show_string(name, shown, sizeof shown);
        s_errf(err, errlen, "%s:%u: @include %s: %s", where, line, shown, s_read_error(errno));
        return -1;
    }
    int rc = s_check_includes(text, s_base_name(name), dir, depth + 1, err, errlen);
    free(text);
    return rc;
}

static int s_check_includes(const char *text, const char *where, const char *dir, int depth,
                            char *err, size_t errlen)
{
    if (depth > INCLUDE_DEPTH_MAX)
        return 0; /* libconfig refuses the nesting itself, with a sentence */
    enum { CODE, STRING, COMMENT } st = CODE;
    unsigned line = 1;
    int line_start = 1;
    for (const char *p = text; *p;) {
        if (st == CODE && line_start) {
            const char *q = p;
            while (*q == ' ' || *q == '\t')
                q++;
            if (strncmp(q, "@include", 8) == 0 && (q[8] == ' ' || q[8] == '\t')) {
                q += 8;
                while (*q == ' ' || *q == '\t')
                    q++;
                if (*q == '"') {
                    char name[1024];
                    const char *end = s_include_name(q + 1, name, sizeof name);
                    if (end) {
                        if (s_check_include(name, where, line, dir, depth, err, errlen) < 0)
                            return -1;
                        p = end;
                        line_start = 0;
                        continue;
                    }
                }
            }
        }
        line_start = 0;
        char c = *p;
        if (c == '\n') {
            line++;
            line_start = 1;
            p++;
            continue;
        }
        switch (st) {
        case CODE:
            if (c == '"')
                st = STRING;
            else if (c == '/' && p[1] == '*') {
                st = COMMENT;
                p++;
            } else if (c == '#' || (c == '/' && p[1] == '/')) {
                while (p[1] && p[1] != '\n')
                    p++;
            }
            break;
        case STRING:
            if (c == '\\' && p[1] && p[1] != '\n')
                p++;
            else if (c == '"')
                st = CODE;
            break;
        case COMMENT:
            if (c == '*' && p[1] == '/') {
                st = CODE;
                p++;
            }
            break;
        }
        p++;
    }
    return 0;
}

/* Finds line `line` (1-based) of text. Returns 0 and sets *start and *len, or -1. */
static int s_line_at(const char *text, unsigned line, const char **start, size_t *len)
{
    const char *p = text;
    for (unsigned i = 1; i < line; i++) {
        p = strchr(p, '\n');
        if (!p)
            return -1;
        p++;
    }
    const char *end = strchr(p, '\n');
    *start = p;
    *len = end ? (size_t)(end - p) : strlen(p);
    return 0;
}

static int s_is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '*';
}

/* Finds in one line of libconfig text the literal assigned to `name`
 * ("name = 123;", "name: 0x1F"), outside strings and comments. Returns 1 and
 * sets *lit and *litlen when there is exactly one such assignment, 0 otherwise. */
static int s_find_literal(const char *line, size_t len, const char *name, const char **lit,
                          size_t *litlen)
{
    size_t nlen = strlen(name);
    int found = 0;
    size_t i = 0;
    while (i < len) {
        char c = line[i];
        if (c == '"') {
            for (i++; i < len && line[i] != '"'; i++) {
                if (line[i] == '\\')
                    i++;
            }
            i++;
        } else if (c == '#' || (c == '/' && i + 1 < len && line[i + 1] == '/')) {
            break;
        } else if (c == '/' && i + 1 < len && line[i + 1] == '*') {
            const char *end = NULL;
            for (size_t j = i + 2; j + 1 < len; j++) {
                if (line[j] == '*' && line[j + 1] == '/') {
                    end = line + j;
                    break;
                }
            }
            if (!end)
                break;
            i = (size_t)(end - line) + 2;
        } else if (s_is_name_char(c)) {
            size_t start = i;
            while (i < len && s_is_name_char(line[i]))
                i++;
            if (i - start != nlen || memcmp(line + start, name, nlen) != 0)
                continue;
            size_t j = i;
            while (j < len && (line[j] == ' ' || line[j] == '\t'))
                j++;
            if (j >= len || (line[j] != '=' && line[j] != ':'))
                continue;
            j++;
            while (j < len && (line[j] == ' ' || line[j] == '\t'))
                j++;
            size_t k = j;
            if (k < len && (line[k] == '-' || line[k] == '+'))
                k++;
            while (k < len &&
                   ((line[k] >= '0' && line[k] <= '9') || (line[k] >= 'a' && line[k] <= 'z') ||
                    (line[k] >= 'A' && line[k] <= 'Z')))
                k++;
            if (k > j) {
                found++;
                *lit = line + j;
                *litlen = k - j;
            }
        } else {
            i++;
        }
    }
    return found == 1;
}

static int s_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses a libconfig integer literal: [+-] digits or 0x hex, optional L or
 * LL. Returns 0 with *out set, 1 when it does not fit in int64, -1 when it is
 * not an integer literal. */
static int s_parse_literal(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    while (len > i && (s[len - 1] == 'L' || s[len - 1] == 'l'))
        len--;
    unsigned base = 10;
    if (len - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        base = 16;
        i += 2;
    }
    if (i >= len)
        return -1;
    uint64_t mag = 0;
    int overflow = 0;
    for (; i < len; i++) {
        int d = s_hex_digit(s[i]);
        if (d < 0 || (unsigned)d >= base)
            return -1;
        if (__builtin_mul_overflow(mag, base, &mag) || __builtin_add_overflow(mag, d, &mag))
            overflow = 1;
    }
    if (overflow || mag > (uint64_t)INT64_MAX + (neg ? 1 : 0))
        return 1;
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return 0;
}

/* Text of the file a setting was read from (the main file or an @include),
 * in *owned when it had to be read; NULL when it cannot be had. */
static const char *s_setting_text(const s_load *ld, const config_setting_t *s, char **owned)
{
    const char *src = config_setting_source_file(s);
    *owned = NULL;
    if (!src)
        return ld->file_text;
    char path[4096];
    if (src[0] == '/')
        snprintf(path, sizeof path, "%s", src);
    else
        snprintf(path, sizeof path, "%s/%s", ld->dir, src);
    *owned = s_read_text(path);
    return *owned;
}

/* The integer of an int setting. libconfig 1.5 reads a plain literal with
 * atoi() (and an L literal with atoll()), so 10000000000 silently becomes
 * 1410065408 and 4294967301 becomes 5. The literal is therefore read again
 * from the source line: a value cut to 32 bits is replaced by the one
 * written, and a literal too large for int64 is shown as written. When the
 * line cannot be read unambiguously, libconfig's value stands. */
static s_value s_int_setting(const s_load *ld, const config_setting_t *s)
{
    s_value v = {.kind = S_INT};
    int is64 = config_setting_type(s) == CONFIG_TYPE_INT64;
    v.i = is64 ? config_setting_get_int64(s) : config_setting_get_int(s);

    char *owned;
    const char *text = s_setting_text(ld, s, &owned);
    const char *line = NULL, *lit = NULL; /* set together by the calls below */
    size_t linelen = 0, litlen = 0;
    if (text && s_line_at(text, config_setting_source_line(s), &line, &linelen) == 0 &&
        s_find_literal(line, linelen, config_setting_name(s), &lit, &litlen)) {
        int64_t written;
        int rc = s_parse_literal(lit, litlen, &written);
        if (rc == 1) {
            /* Shown as written; the text is freed below, so keep a copy. */
            size_t n = litlen > SHOWN_STRING_MAX ? SHOWN_STRING_MAX : litlen;
            memcpy(v.raw, lit, n);
            v.raw[n] = '\0';
            v.raw_cut = litlen > SHOWN_STRING_MAX;
            v.kind = S_RAW;
        } else if (rc == 0 && !is64 && written != v.i &&
                   (int32_t)(uint32_t)(uint64_t)written == (int32_t)v.i) {
            v.i = written;
        }
    }
    free(owned);
    return v;
}

static s_value s_value_from_setting(const s_load *ld, const config_setting_t *s)
{
    s_value v = {.kind = S_GROUP};
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return s_int_setting(ld, s);
    case CONFIG_TYPE_FLOAT:
        v.kind = S_FLOAT;
        v.f = config_setting_get_float(s);
        break;
    case CONFIG_TYPE_STRING:
        v.kind = S_TEXT;
        v.text = config_setting_get_string(s);
        break;
    case CONFIG_TYPE_BOOL:
        v.kind = S_BOOL;
        v.i = config_setting_get_bool(s) ? 1 : 0;
        break;
    case CONFIG_TYPE_ARRAY:
        v.kind = S_ARRAY;
        break;
    case CONFIG_TYPE_LIST:
        v.kind = S_LIST;
        break;
    default:
        v.kind = S_GROUP;
        break;
    }
    return v;
}

/* Base name of the file a setting or error came from. */
static const char *s_source_base(const s_load *ld, const char *src)
{
    return src ? s_base_name(src) : ld->file_base;
}

/* ---- unknown keys ------------------------------------------------------ */

/* 2 when `path` is a group on the way to some field, 1 when it is a field,
 * 0 when no field has anything to do with it. */
static int s_known(const char *path, int is_group, const ccip_config_field *fields, size_t n)
{
    size_t len = strlen(path);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(fields[i].path, path) == 0)
            return 1;
    }
    if (!is_group)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(fields[i].path, path, len) == 0 && fields[i].path[len] == '.')
            return 2;
    }
    return 0;
}

static void s_walk(const s_load *ld, const config_setting_t *group, const char *prefix,
                   const ccip_config_field *fields, size_t n, int *count)
{
    int len = config_setting_length(group);
    for (int i = 0; i < len; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        if (!name)
            continue;
        char path[KEY_PATH_MAX];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", name);
        int is_group = config_setting_is_group(s);
        int k = s_known(path, is_group, fields, n);
        if (k == 2) {
            s_walk(ld, s, path, fields, n, count);
        } else if (k == 0) {
            char line[16];
            snprintf(line, sizeof line, "%u", config_setting_source_line(s));
            ccip_log_warn("unknown configuration key", "file",
                          s_source_base(ld, config_setting_source_file(s)), "line", line, "key",
                          path);
            (*count)++;
        }
    }
}

/* ---- the field table --------------------------------------------------- */

static int s_check_table(const ccip_config_field *fields, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const ccip_config_field *f = &fields[i];
        if (!f->path || !*f->path) {
            s_errf(err, errlen, "field table entry %zu has no path", i);
            return -1;
        }
        if (f->type != CCIP_CFG_STRING && f->type != CCIP_CFG_INT && f->type != CCIP_CFG_BOOL) {
            s_errf(err, errlen, "field table entry %zu (`%s`) has an unknown type %d", i, f->path,
                   (int)f->type);
            return -1;
        }
        if (f->type == CCIP_CFG_STRING && (f->min < 0 || f->max < 0)) {
            s_errf(err, errlen, "field table entry %zu (`%s`) has a negative length limit", i,
                   f->path);
            return -1;
        }
        int bounded = f->type == CCIP_CFG_INT || f->max > 0;
        if (f->type != CCIP_CFG_BOOL && bounded && f->min > f->max) {
            s_errf(err, errlen,
                   "field table entry %zu (`%s`) has min %" PRId64 " greater than max %" PRId64, i,
                   f->path, f->min, f->max);
            return -1;
        }
    }
    return 0;
}

void ccip_config_release(const ccip_config_field *fields, size_t nfields, void *out)
{
    if (!fields || !out)
        return;
    for (size_t i = 0; i < nfields; i++) {
        if (fields[i].type != CCIP_CFG_STRING)
            continue;
        char **member = s_member(out, &fields[i]);
        free(*member);
        *member = NULL;
    }
}

/* Writes " (expected: ...)" for fields that have words for it, else "". */
static void s_expect_suffix(const ccip_config_field *f, char *buf, size_t len)
{
    if (f->expect)
        snprintf(buf, len, " (expected: %s)", f->expect);
    else if (len > 0)
        buf[0] = '\0';
}

/* Loads one field into out. Returns 0 or -1 with the message written. */
static int s_load_field(const s_load *ld, const config_t *cfg, const ccip_config_field *f,
                        void *out)
{
    char where[KEY_PATH_MAX + 64]; /* "intake.conf:12: `db.port` " */
    char suffix[EXPECT_MAX + 16];
    s_expect_suffix(f, suffix, sizeof suffix);

    s_value v;
    const char *env = f->env ? getenv(f->env) : NULL;
    const config_setting_t *s = cfg ? config_lookup(cfg, f->path) : NULL;
    if (env) {
        v = s_value_from_text(f, env);
        snprintf(where, sizeof where, "environment %s: ", f->env);
    } else if (s) {
        v = s_value_from_setting(ld, s);
        snprintf(where, sizeof where, "%s:%u: `%s` ",
                 s_source_base(ld, config_setting_source_file(s)), config_setting_source_line(s),
                 f->path);
    } else if (f->def) {
        v = s_value_from_text(f, f->def);
        snprintf(where, sizeof where, "default of `%s`: ", f->path);
    } else {
        char envhint[KEY_PATH_MAX];
        envhint[0] = '\0';
        if (f->env)
            snprintf(envhint, sizeof envhint, "; it can also be set with environment %s", f->env);
        if (ld->file_base)
            s_errf(ld->err, ld->errlen, "%s: `%s` is required%s%s", ld->file_base, f->path, suffix,
                   envhint);
        else
            s_errf(ld->err, ld->errlen, "`%s` is required and no configuration file was given%s%s",
                   f->path, suffix, envhint);
        return -1;
    }

    s_result res = {0, NULL};
    char got[GOT_MAX];
    if (s_check(f, &v, &res, got, sizeof got) < 0) {
        char expected[EXPECT_MAX];
        s_expected(f, expected, sizeof expected);
        s_errf(ld->err, ld->errlen, "%smust be %s, got %s%s", where, expected, got, suffix);
        return -1;
    }

    switch (f->type) {
    case CCIP_CFG_INT:
        *(int64_t *)s_member(out, f) = res.i;
        break;
    case CCIP_CFG_BOOL:
        *(int *)s_member(out, f) = (int)res.i;
        break;
    case CCIP_CFG_STRING: {
        char *copy = strdup(res.s);
        if (!copy) {
            s_errf(ld->err, ld->errlen, "could not load `%s`: out of memory", f->path);
            return -1;
        }
        *(char **)s_member(out, f) = copy;
        break;
    }
    }
    return 0;
}

int ccip_config_load(const char *file, const ccip_config_field *fields, size_t nfields, void *out,
                     int *unknown_keys, char *err, size_t errlen)
{
    if (unknown_keys)
        *unknown_keys = 0;
    if (err && errlen > 0)
        err[0] = '\0';
    if (!out || (!fields && nfields > 0)) {
        s_errf(err, errlen, "invalid arguments: %s is NULL", out ? "fields" : "out");
        return -1;
    }
    if (s_check_table(fields, nfields, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < nfields; i++) {
        if (fields[i].type == CCIP_CFG_STRING)
            *(char **)s_member(out, &fields[i]) = NULL;
    }

    int rc = -1;
    s_load ld = {.file_base = NULL, .file_text = NULL, .dir = NULL, .err = err, .errlen = errlen};
    char *text = NULL;
    char *dir = NULL;
    config_t cfg;
    int have_cfg = 0;

    if (file) {
        ld.file_base = s_base_name(file);
        text = s_read_text(file);
        if (!text) {
            /* The path as given, not its base name: when a file is missing,
             * where it was looked for is what the reader needs. */
            s_errf(err, errlen, "could not read %s: %s", file, s_read_error(errno));
            goto done;
        }
        const char *slash = strrchr(file, '/');
        dir = slash ? strndup(file, slash == file ? 1 : (size_t)(slash - file)) : strdup(".");
        if (!dir) {
            s_errf(err, errlen, "could not read %s: out of memory", file);
            goto done;
        }
        ld.file_text = text;
        ld.dir = dir;

        if (s_check_includes(text, ld.file_base, dir, 1, err, errlen) < 0)
            goto done;
        config_init(&cfg);
        have_cfg = 1;
        config_set_include_dir(&cfg, dir);
        if (config_read_string(&cfg, text) != CONFIG_TRUE) {
            const char *what = config_error_text(&cfg) ? config_error_text(&cfg) : "syntax error";
            const char *where = s_source_base(&ld, config_error_file(&cfg));
            if (config_error_line(&cfg) > 0)
                s_errf(err, errlen, "%s:%d: %s", where, config_error_line(&cfg), what);
            else
                s_errf(err, errlen, "%s: %s", where, what);
            goto done;
        }
        int count = 0;
        s_walk(&ld, config_root_setting(&cfg), "", fields, nfields, &count);
        if (unknown_keys)
            *unknown_keys = count;
    }

    for (size_t i = 0; i < nfields; i++) {
        if (s_load_field(&ld, have_cfg ? &cfg : NULL, &fields[i], out) < 0)
            goto done;
    }
    rc = 0;

done:
    if (rc < 0)
        ccip_config_release(fields, nfields, out);
    if (have_cfg)
        config_destroy(&cfg);
    free(dir);
    free(text);
    return rc;
}
