#include "ccip_log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NAME_MAX_LEN 64

static char s_service[NAME_MAX_LEN] = "-";
static char s_instance[NAME_MAX_LEN] = "-";
static atomic_int s_min_level = CCIP_LOG_INFO;
static atomic_int s_fd = -1; /* -1 = stderr */

static const char *const s_level_names[] = {"debug", "info", "warn", "error"};

void ccip_log_init(const char *service, const char *instance, ccip_log_level min_level)
{
    snprintf(s_service, sizeof s_service, "%s", service ? service : "-");
    snprintf(s_instance, sizeof s_instance, "%s", instance ? instance : "-");
    atomic_store(&s_min_level, (int)min_level);
}

int ccip_log_level_parse(const char *name, ccip_log_level *out)
{
    if (!name)
        return -1;
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, s_level_names[i]) == 0) {
            *out = (ccip_log_level)i;
            return 0;
        }
    }
    return -1;
}

int ccip_log_enabled(ccip_log_level level)
{
    return (int)level >= atomic_load(&s_min_level);
}

void ccip_log_set_fd(int fd)
{
    atomic_store(&s_fd, fd);
}

/* Line under construction; `len` never exceeds CCIP_LOG_LINE_MAX - 5 so that
 * "...\n" always fits. */
typedef struct {
    char buf[CCIP_LOG_LINE_MAX];
    size_t len;
    int cut;
} s_line;

static void s_put(s_line *l, const char *s, size_t n)
{
    size_t room = CCIP_LOG_LINE_MAX - 5 - l->len;
    if (n > room) {
        n = room;
        l->cut = 1;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static int s_needs_quotes(const char *v)
{
    if (*v == '\0')
        return 1;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            return 1;
    }
    return 0;
}

static void s_put_value(s_line *l, const char *v)
{
    if (!v)
        v = "";
    if (!s_needs_quotes(v)) {
        s_put(l, v, strlen(v));
        return;
    }
    s_put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            s_put(l, esc, 2);
        } else if (*p == '\n') {
            s_put(l, "\\n", 2);
        } else if (*p < ' ' || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", *p);
            s_put(l, esc, 4);
        } else {
            s_put(l, (const char *)p, 1);
        }
    }
    s_put(l, "\"", 1);
}

static void s_put_field(s_line *l, const char *key, const char *value)
{
    s_put(l, " ", 1);
    s_put(l, key, strlen(key));
    s_put(l, "=", 1);
    s_put_value(l, value);
}

void ccip_logv(ccip_log_level level, const char *msg, va_list pairs)
{
    if (!ccip_log_enabled(level))
        return;
    s_line line = {.len = 0, .cut = 0};

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[40];
    size_t n = strftime(ts, sizeof ts, "ts=%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%06ldZ", (long)tv.tv_usec);
    s_put(&line, ts, strlen(ts));

    int li = (int)level;
    s_put_field(&line, "level", s_level_names[li < 0 || li > 3 ? 3 : li]);
    s_put_field(&line, "svc", s_service);
    s_put_field(&line, "inst", s_instance);
    s_put_field(&line, "msg", msg ? msg : "");
    for (;;) {
        const char *key = va_arg(pairs, const char *);
        if (!key)
            break;
        const char *value = va_arg(pairs, const char *);
        s_put_field(&line, key, value);
    }
    if (line.cut) {
        memcpy(line.buf + line.len, "...", 3);
        line.len += 3;
    }
    line.buf[line.len++] = '\n';

    int fd = atomic_load(&s_fd);
    /* One write per line keeps lines whole when threads log at once; a short
     * write to stderr is not worth a retry loop that could block shutdown. */
    ssize_t rc = write(fd < 0 ? STDERR_FILENO : fd, line.buf, line.len);
    (void)rc;
}

void ccip_log(ccip_log_level level, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    ccip_logv(level, msg, ap);
    va_end(ap);
}
