/*
 * ccip_config: loads a libconfig file into a typed struct described by a
 * table of fields.
 *
 * A service declares its settings once, as a table, and gets either a filled
 * struct or one sentence that says what to fix and where:
 *
 *   typedef struct {
 *       char *endpoint;       // broker endpoint
 *       int64_t pool_size;    // database connections
 *       char *db_password;    // from the environment in production
 *       int debug;            // bool
 *   } intake_config;
 *
 *   static const ccip_config_field S_FIELDS[] = {
 *       {"broker.endpoint", CCIP_CFG_STRING, offsetof(intake_config, endpoint), 1, 255,
 *        "tcp://127.0.0.1:5555", NULL, "a broker endpoint such as tcp://127.0.0.1:5555"},
 *       {"db.pool_size", CCIP_CFG_INT, offsetof(intake_config, pool_size), 1, 64, "5", NULL,
 *        NULL},
 *       {"db.password", CCIP_CFG_STRING, offsetof(intake_config, db_password), 1, 0, NULL,
 *        "CCIP_DB_PASSWORD", "the password of the intake database role"},
 *       {"debug", CCIP_CFG_BOOL, offsetof(intake_config, debug), 0, 0, "false", NULL, NULL},
 *   };
 *
 *   intake_config cfg;
 *   char err[512];
 *   if (ccip_config_load(path, S_FIELDS, 4, &cfg, NULL, err, sizeof err) < 0) {
 *       // err: intake.conf:12: `db.pool_size` must be an integer between 1 and 64, got "abc"
 *   }
 *   ...
 *   ccip_config_release(S_FIELDS, 4, &cfg);
 *
 * Precedence, for every field: the environment variable named by the field
 * (when set, even to the empty string) wins over the file, which wins over the
 * default. A file value that is overridden by the environment is not checked.
 *
 * Error messages name the file by its base name and the line of the value
 * ("intake.conf:12: ..."), the field by its dotted path, say what was expected
 * and what was given. A given value is shown the way it would be written in
 * the file: strings quoted ("abc", cut after 48 bytes), numbers and true/false
 * bare, floats with a decimal point (2.0); groups, arrays and lists are named
 * ("a group"). String values that break a length limit are not echoed, only
 * their length, because they may be secrets. When the field has an `expect`
 * text it ends the message: "(expected: a broker endpoint such as ...)".
 *
 * Settings in the file that match no field (including whole unknown groups)
 * are not errors, so that a newer file still loads in an older service: each
 * is logged once at warn level and counted.
 *
 * Not thread-safe with respect to setenv(3) in other threads (it reads the
 * environment with getenv(3)); otherwise keeps no state.
 */
#ifndef CCIP_CONFIG_H
#define CCIP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Type of a field, and of the member at its offset in the target struct. */
typedef enum {
    CCIP_CFG_STRING, /* char *, owned by the struct (strdup'd), freed by ccip_config_release */
    CCIP_CFG_INT,    /* int64_t; the file may write 5, -5, 0x1F or 5L */
    CCIP_CFG_BOOL,   /* int, 0 or 1; the file must write true or false (any case) */
} ccip_config_type;

/* One setting. A table of these describes a service's configuration. */
typedef struct {
    const char *path;      /* dotted path in the file, e.g. "db.pool_size" */
    ccip_config_type type; /* what the value is and what the member at `offset` is */
    size_t offset;         /* offsetof() of the member in the target struct */
    int64_t min, max;      /* ints: inclusive range; strings: min/max length in bytes;
                              0,0 = no limit; max INT64_MAX / min INT64_MIN = open end */
    const char *def;       /* default as text ("5", "true", "tcp://127.0.0.1:5555");
                              NULL = required */
    const char *env;       /* environment variable that overrides the file (secrets:
                              passwords, key file paths), or NULL */
    const char *expect;    /* words for error messages, e.g. "a broker endpoint such as
                              tcp://127.0.0.1:5555", or NULL */
} ccip_config_field;

/* Longest file ccip_config_load reads: configuration, not data. */
#define CCIP_CONFIG_FILE_MAX (1024 * 1024)

/* Fills the struct at `out` from `file` (a path; NULL = no file, defaults and
 * environment only), the environment and the defaults, as described by
 * `fields[0..nfields)`.
 *
 * `out` is written, never read: string members are overwritten without being
 * freed, so release a previously loaded struct before loading into it again.
 *
 * Environment values are text: ints in decimal with an optional '-', bools
 * "true" or "false" (any case), strings as they are. Defaults are read the
 * same way; a default that breaks its own field's rules is reported as an
 * error ("default of `db.port`: ...") like a bad field table (NULL path,
 * min > max, unknown type).
 *
 * The file may @include other files; their paths are relative to the
 * directory of `file`.
 *
 * Returns 0 with every member set; the strings belong to the struct until
 * ccip_config_release().
 * Returns -1 with a one-line message in err (when err is not NULL and errlen
 * > 0): the file could not be read ("could not read /etc/ccip/intake.conf: No
 * such file or directory"), has a syntax error ("intake.conf:7: syntax
 * error"), a value is of the wrong type or out of range, a required field is
 * missing, or an environment override is malformed ("environment
 * CCIP_DB_PORT: must be an integer between 1 and 65535, got \"x\""). After a
 * failure every string member is NULL (nothing to release) and int and bool
 * members may hold values already loaded.
 *
 * *unknown_keys (when unknown_keys is not NULL) is set to the number of
 * unknown settings found in the file, on success and on failure (0 when the
 * file could not be read or parsed).
 */
int ccip_config_load(const char *file, const ccip_config_field *fields, size_t nfields, void *out,
                     int *unknown_keys, char *err, size_t errlen);

/* Frees the string members of `out` described by `fields` and sets them to
 * NULL; int and bool members are left as they are. Safe to call twice and
 * after a failed ccip_config_load(); does nothing when fields or out is
 * NULL. */
void ccip_config_release(const ccip_config_field *fields, size_t nfields, void *out);

#endif
