/* libFuzzer target: the configuration loader (ccip_config_load) on a file
 * holding the input, with the settings every service shares (the table
 * of common/ccip_service.c, without its environment variables, so that a
 * run does not depend on the environment).
 *
 * Invariants: loaded or refused; loaded, every required string is set
 * and within its length limits and every int within its range; refused,
 * there is a sentence and every string member is NULL (what the header
 * promises, so that a caller has nothing to release). */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "ccip_config.h"
#include "ccip_log.h"
#include "fuzz_check.h"

typedef struct {
    char *instance;
    char *log_level;
    char *db_host;
    int64_t db_port;
    char *db_user;
    char *db_password;
    char *endpoint;
    int64_t workers;
    int64_t max_message_bytes;
    int debug;
} s_cfg;

#define F(m) offsetof(s_cfg, m)
static const ccip_config_field S_FIELDS[] = {
    {"instance", CCIP_CFG_STRING, F(instance), 1, 63, NULL, NULL, "the replica's name"},
    {"log.level", CCIP_CFG_STRING, F(log_level), 1, 5, "info", NULL, NULL},
    {"db.host", CCIP_CFG_STRING, F(db_host), 1, 255, "127.0.0.1", NULL, NULL},
    {"db.port", CCIP_CFG_INT, F(db_port), 1, 65535, "5432", NULL, NULL},
    {"db.user", CCIP_CFG_STRING, F(db_user), 1, 63, NULL, NULL, NULL},
    {"db.password", CCIP_CFG_STRING, F(db_password), 0, 255, "", NULL, NULL},
    {"bus.command_endpoint", CCIP_CFG_STRING, F(endpoint), 6, 255, "tcp://127.0.0.1:5555", NULL,
     "an endpoint such as tcp://127.0.0.1:5555"},
    {"service.workers", CCIP_CFG_INT, F(workers), 1, 64, "8", NULL, NULL},
    {"limits.max_message_bytes", CCIP_CFG_INT, F(max_message_bytes), 1024, 64 * 1024 * 1024,
     "4194304", NULL, NULL},
    {"debug", CCIP_CFG_BOOL, F(debug), 0, 0, "false", NULL, NULL},
};
#define NFIELDS (sizeof S_FIELDS / sizeof S_FIELDS[0])

/* libconfig 1.5 (Debian 12) leaks a string token when a syntax error
 * follows it ("x" alone in a file, `a"" b = ;`): its grammar discards the
 * token without freeing it (the scanner allocated it in libconfig_yylex,
 * or grew it in strbuf_append). That is libconfig's, once per refused
 * file, and a service exits on a refused file; LeakSanitizer is told to
 * ignore those two allocation sites of the scanner only, so that a leak of
 * ccip_config's own (a setting tree never destroyed, a string member never
 * freed) is still found. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

static char s_dir[64], s_path[96];

static void s_cleanup(void)
{
    unlink(s_path);
    rmdir(s_dir);
}

static void s_setup(void)
{
    /* unknown settings are logged at warn: not on every run */
    ccip_log_init("fuzz", "fuzz", CCIP_LOG_ERROR);
    snprintf(s_dir, sizeof s_dir, "/tmp/ccip-fuzz-config-XXXXXX");
    FUZZ_CHECK(mkdtemp(s_dir) != NULL, "mkdtemp");
    snprintf(s_path, sizeof s_path, "%s/fuzz.conf", s_dir);
    atexit(s_cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_path[0])
        s_setup();
    FILE *fp = fopen(s_path, "wb");
    FUZZ_CHECK(fp != NULL, "could not write %s", s_path);
    FUZZ_CHECK(fwrite(data, 1, size, fp) == size, "short write");
    fclose(fp);
    s_cfg cfg;
    memset(&cfg, 0xA5, sizeof cfg); /* "written, never read": garbage must not matter */
    char err[512] = "";
    int unknown = -1;
    int rc = ccip_config_load(s_path, S_FIELDS, NFIELDS, &cfg, &unknown, err, sizeof err);
    FUZZ_CHECK(unknown >= 0, "unknown_keys not set");
    if (rc < 0) {
        FUZZ_CHECK(err[0] != '\0', "refused without a sentence");
        FUZZ_CHECK(!cfg.instance && !cfg.log_level && !cfg.db_host && !cfg.db_user &&
                       !cfg.db_password && !cfg.endpoint,
                   "a string member is left set after a refusal: %s", err);
        return 0;
    }
    FUZZ_CHECK(rc == 0, "returned %d", rc);
    FUZZ_CHECK(cfg.instance && strlen(cfg.instance) >= 1 && strlen(cfg.instance) <= 63,
               "instance out of its limits");
    FUZZ_CHECK(cfg.db_user && strlen(cfg.db_user) >= 1, "db.user missing");
    FUZZ_CHECK(cfg.endpoint && strlen(cfg.endpoint) >= 6 && strlen(cfg.endpoint) <= 255,
               "endpoint out of its limits");
    FUZZ_CHECK(cfg.db_port >= 1 && cfg.db_port <= 65535, "db.port %lld", (long long)cfg.db_port);
    FUZZ_CHECK(cfg.workers >= 1 && cfg.workers <= 64, "workers out of range");
    FUZZ_CHECK(cfg.max_message_bytes >= 1024, "max_message_bytes out of range");
    FUZZ_CHECK(cfg.debug == 0 || cfg.debug == 1, "debug %d", cfg.debug);
    ccip_config_release(S_FIELDS, NFIELDS, &cfg);
    return 0;
}
