/*
 * ccip_log: levelled, structured log lines to stderr.
 *
 * One event = one line of key=value fields, service and instance on every
 * line, so that logs can be grepped by hand and parsed by machines:
 *
 *   ts=2026-11-27T10:00:00.123456Z level=warn svc=funding inst=funding-1
 *   msg="could not reserve budget" award=42 reason="budget exhausted"
 *
 * Values that contain spaces, quotes, '=' or control characters are quoted
 * and escaped. The level is checked before anything is formatted.
 * Thread-safe: each line is written with one write(2).
 */
#ifndef CCIP_LOG_H
#define CCIP_LOG_H

#include <stdarg.h>

typedef enum {
    CCIP_LOG_DEBUG = 0,
    CCIP_LOG_INFO = 1,
    CCIP_LOG_WARN = 2,
    CCIP_LOG_ERROR = 3,
} ccip_log_level;

/* Sets the service and instance names written on every line and the lowest
 * level written. Strings are copied (truncated to 63 bytes). May be called
 * again at any time. */
void ccip_log_init(const char *service, const char *instance, ccip_log_level min_level);

/* Parses "debug", "info", "warn" or "error". Returns 0 and sets *out, or -1
 * when the name is none of these (out untouched). */
int ccip_log_level_parse(const char *name, ccip_log_level *out);

/* True when a line at `level` would be written. */
int ccip_log_enabled(ccip_log_level level);

/* Writes one line. After `msg` come key, value string pairs, ended by NULL:
 *   ccip_log(CCIP_LOG_WARN, "peer refused", "peer", addr, "reason", why, NULL);
 * A NULL value is written as an empty quoted string. Lines longer than
 * CCIP_LOG_LINE_MAX are cut and end in "...". */
void ccip_log(ccip_log_level level, const char *msg, ...);
void ccip_logv(ccip_log_level level, const char *msg, va_list pairs);

/* Redirects output to a file descriptor (tests capture lines through a pipe);
 * -1 restores stderr. */
void ccip_log_set_fd(int fd);

#define CCIP_LOG_LINE_MAX 4096

#define ccip_log_debug(...) ccip_log(CCIP_LOG_DEBUG, __VA_ARGS__, (const char *)NULL)
#define ccip_log_info(...)  ccip_log(CCIP_LOG_INFO, __VA_ARGS__, (const char *)NULL)
#define ccip_log_warn(...)  ccip_log(CCIP_LOG_WARN, __VA_ARGS__, (const char *)NULL)
#define ccip_log_error(...) ccip_log(CCIP_LOG_ERROR, __VA_ARGS__, (const char *)NULL)

#endif
