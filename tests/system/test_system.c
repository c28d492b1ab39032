/*
 * The whole system, end to end: the bus and every service (intake,
 * evaluation, funding, ip, stats, followup, notify, the gateway and
 * casefile) as real
 * processes against the test PostgreSQL, and the whole path a real case
 * takes, through ccipctl as the center's staff, the applicant, the agency,
 * the experts, the office, finance, the district and the statisticians
 * would type it (the steps of scripts/demo), and through the gateway's
 * HTTP API as the applicant's user: an account signed up for the
 * organisation, which it registers over HTTP, and whose binding the
 * gateway makes active when intake says the organisation was verified; a
 * call, an application with its
 * documents, its acceptance, the investigation, five reviews, the office's
 * decision, the designation and the monitoring roster, the first quarterly
 * report and the quarter's bulletin; a special-fund project taken to an
 * award, its first tranche paid, the midterm inspection, a work registered
 * in ip and linked to the award, a dispute on the work upheld (the second
 * tranche is held) and lifted (it is paid); the project followed as a key
 * project in followup, which learned of its award, tranches and inspection
 * from funding's events, and its first monthly report; notify's inbox items
 * for the organisation, the experts and the staff made from every
 * producer's events, and each e-mail to the applicant's user sent once to
 * a real SMTP server (tests/integration/notify_sinks.py); and the whole case
 * as casefile followed it from every stream: the special-fund project
 * continues the designated cluster's case, so that `ccipctl case show` of
 * the cluster's application lists, in the order they happened, its
 * acceptance, the office's decision and the designation (evaluation), the
 * quarterly report (stats), the award and its tranches (funding), the work
 * and its dispute (ip) and the key project with its monthly report
 * (followup): issue 19's rule, across six services.
 *
 * Every hop between services is the real one: no stand-in producer. At the
 * end the test checks what the path must have left in every schema (each
 * effect once), that every outbox is numbered without gaps, and that every
 * consumer's cursor equals its producer's head.
 *
 * The test has a database of its own (scripts/test makes it, with every
 * service's role and schema): the integration suites' stand-in producers
 * move consumer cursors past the real streams' heads in theirs. Checks are
 * still about this run's ids, except the stream checks, which hold for
 * whole streams.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ccip_id.h"
#include "ccip_test.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"
#include "ccip_validate.h"

#define OUT_MAX  (256 * 1024) /* longest ccipctl output read */
#define WAIT_MS  30000        /* longest wait for an event's effect downstream */
#define STOP_MS  120000       /* longest wait for a process to exit after SIGTERM */
#define STAFF    "--role staff --actor zhou.min"
#define FSTAFF   "--role staff --actor qian.hong"
#define OFFICE   "--role office --actor office.zhao"
#define FINANCE  "--role finance --actor finance.wang"
#define DISTRICT "--role district --actor district:110105"
#define ANALYST  "--role analyst --actor sun.li"
#define EXPERTS  5
#define PASSWORD "a passphrase for the system test"
#define PYTHON   "/usr/bin/python3"
#define DAY_US   (86400 * 1000000LL)
#define BEIJING  (8 * 3600) /* followup's days are Beijing days: UTC+8 */

static ccip_test_svc s_svc;
static char s_out[OUT_MAX];     /* the last ccipctl output */
static char s_tag[16];          /* unique to the run: agency, experts, programme */
static int s_wait_ms = WAIT_MS; /* WAIT_MS, longer under valgrind */
static int s_ctl_ms = 3000;     /* ccipctl's wait per attempt */
static int s_valgrind;          /* the processes run under valgrind (test_valgrind) */
static int s_http_port;         /* the gateway's HTTP port on 127.0.0.1 */
static char s_sinks[300];       /* the SMTP sink's folder: mail/<sha1>.eml, one per message */
static pid_t s_smtp_pid;        /* the SMTP sink (notify_sinks.py), not a ccip process */

/* Each domain service's producer streams (its subscriptions), for the
 * final stream checks. */
static const struct {
    const char *consumer;
    const char *producer;
} s_streams[] = {
    {"intake", "evaluation"},  {"intake", "funding"},      {"evaluation", "intake"},
    {"funding", "evaluation"}, {"funding", "ip"},          {"stats", "intake"},
    {"stats", "evaluation"},   {"stats", "funding"},       {"stats", "ip"},
    {"followup", "funding"},   {"followup", "evaluation"}, {"followup", "ip"},
    {"notify", "intake"},      {"notify", "evaluation"},   {"notify", "funding"},
    {"notify", "ip"},          {"notify", "stats"},        {"notify", "followup"},
    {"notify", "gateway"},     {"gateway", "intake"},      {"ip", "funding"},
    {"casefile", "intake"},    {"casefile", "evaluation"}, {"casefile", "funding"},
    {"casefile", "ip"},        {"casefile", "stats"},      {"casefile", "followup"},
};
/* The producers (each with an outbox and its relay). notify and casefile
 * produce no events. */
static const char *const s_services[] = {"intake", "evaluation", "funding", "ip",
                                         "stats",  "followup",   "gateway"};
#define NSERVICES (sizeof s_services / sizeof s_services[0])

/* ---- ccipctl ---------------------------------------------------------------------- */

/* Runs ccipctl --json with the formatted arguments (stderr kept with the
 * output); returns its exit status. */
static int s_ctl_v(const char *fmt, va_list ap)
{
    char args[4096];
    vsnprintf(args, sizeof args, fmt, ap);
    return ccip_test_ctl(&s_svc, s_out, sizeof s_out, "--json --timeout %d %s 2>&1", s_ctl_ms,
                         args);
}

/* ccipctl that must exit with `want`; fails the test with the command and
 * its output otherwise. */
static void s_ctl_want(int want, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_ctl_want(int want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_ctl_v(fmt, ap);
    va_end(ap);
    if (rc != want) {
        char args[4096], what[8192];
        va_start(ap, fmt);
        vsnprintf(args, sizeof args, fmt, ap);
        va_end(ap);
        snprintf(what, sizeof what, "ccipctl %s: exit %d, not %d: %.3000s", args, rc, want, s_out);
        ccip_test_fail(&s_svc, what);
    }
}
#define CTL(...) s_ctl_want(0, __VA_ARGS__)

/* Runs ccipctl until it exits 0 with `text` in its output, for up to
 * WAIT_MS: an effect another service makes from an event. */
static void s_ctl_until(const char *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void s_ctl_until(const char *text, const char *fmt, ...)
{
    int64_t until = ccip_now_us() + (int64_t)s_wait_ms * 1000;
    int rc;
    do {
        va_list ap;
        va_start(ap, fmt);
        rc = s_ctl_v(fmt, ap);
        va_end(ap);
        if (rc == 0 && strstr(s_out, text))
            return;
        ccip_test_sleep_ms(200);
    } while (ccip_now_us() < until);
    char args[4096], what[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(what, sizeof what, "ccipctl %s: no \"%s\" within %d ms (exit %d): %.3000s", args, text,
             s_wait_ms, rc, s_out);
    ccip_test_fail(&s_svc, what);
}

/* The value of the first "key":"..." of the last output after `anchor`
 * (from its start when anchor is NULL); fails the test when there is none. */
static void s_value(const char *anchor, const char *key, char *out, size_t len)
{
    const char *from = anchor ? strstr(s_out, anchor) : s_out;
    out[0] = '\0';
    if (from)
        ccip_test_json_value(from, key, out, len);
    if (!out[0]) {
        char what[4096];
        snprintf(what, sizeof what, "no \"%s\" after \"%s\" in: %.3000s", key, anchor ? anchor : "",
                 s_out);
        ccip_test_fail(&s_svc, what);
    }
}

/* The number after "key": in the last output. */
static long long s_number(const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(s_out, pat);
    if (!p) {
        char what[4096];
        snprintf(what, sizeof what, "no \"%s\" in: %.3000s", key, s_out);
        ccip_test_fail(&s_svc, what);
    }
    p += strlen(pat);
    if (*p == '"')
        p++;
    return atoll(p);
}

/* The last output must contain text. */
static void s_has(const char *text)
{
    if (!strstr(s_out, text)) {
        char what[4096];
        snprintf(what, sizeof what, "no \"%s\" in: %.3000s", text, s_out);
        ccip_test_fail(&s_svc, what);
    }
}

/* ---- the schemas ------------------------------------------------------------------ */

/* A number from `svc`'s schema, which must equal want. */
static void s_expect(const char *svc, long long want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_expect(const char *svc, long long want, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    long long got = ccip_test_query_number(svc, sql);
    if (got != want) {
        char what[2600];
        snprintf(what, sizeof what, "%s: %s gave %lld, not %lld", svc, sql, got, want);
        ccip_test_fail(&s_svc, what);
    }
}

/* Waits up to WAIT_MS for a number from `svc`'s schema to equal want (an
 * effect another service makes from an event), then checks it. */
static void s_wait_number(const char *svc, long long want, const char *sql)
{
    long long got = ccip_test_query_number(svc, sql);
    for (int waited = 0; got != want && waited < s_wait_ms; waited += 200) {
        ccip_test_sleep_ms(200);
        got = ccip_test_query_number(svc, sql);
    }
    s_expect(svc, want, "%s", sql);
}

/* ---- the gateway's HTTP API -------------------------------------------------------- */

/* One person's session at the gateway. */
typedef struct {
    char login[64];
    char token[64]; /* the ccip_session cookie */
    char csrf[64];  /* the X-CSRF-Token that goes with it */
} s_person;

/* What an HTTP answer was. */
typedef struct {
    long status;          /* the HTTP status, -1 when none came */
    char body[64 * 1024]; /* cut to its size, NUL-terminated */
    size_t len;
    char headers[4096];
    size_t hlen;
} s_http_reply;

static s_http_reply s_http; /* the last answer */

static size_t s_http_body(char *p, size_t size, size_t n, void *arg)
{
    (void)arg;
    size_t k = size * n, room = sizeof s_http.body - 1 - s_http.len;
    memcpy(s_http.body + s_http.len, p, k < room ? k : room);
    s_http.len += k < room ? k : room;
    s_http.body[s_http.len] = '\0';
    return k;
}

static size_t s_http_header(char *p, size_t size, size_t n, void *arg)
{
    (void)arg;
    size_t k = size * n, room = sizeof s_http.headers - 1 - s_http.hlen;
    memcpy(s_http.headers + s_http.hlen, p, k < room ? k : room);
    s_http.hlen += k < room ? k : room;
    s_http.headers[s_http.hlen] = '\0';
    return k;
}

/* Sends method path (body: JSON or NULL) as `who` (NULL: nobody, no
 * cookie) to the gateway and wants HTTP status `want`; fails the test with
 * the request and the answer otherwise. */
static void s_http_want(long want, const char *method, const char *path, const s_person *who,
                        const char *body)
{
    memset(&s_http, 0, sizeof s_http);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[512], cookie[128], csrf[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s_http_port, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_http_body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s_http_header);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, s_valgrind ? 120L : 20L);
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        h = curl_slist_append(h, "Content-Type: application/json");
    }
    if (who) {
        snprintf(cookie, sizeof cookie, "ccip_session=%s", who->token);
        curl_easy_setopt(c, CURLOPT_COOKIE, cookie);
        snprintf(csrf, sizeof csrf, "X-CSRF-Token: %s", who->csrf);
        h = curl_slist_append(h, csrf);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    s_http.status = -1;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s_http.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (s_http.status != want) {
        char what[4096];
        snprintf(what, sizeof what, "%s %s: HTTP %ld, not %ld: %.3000s", method, path,
                 s_http.status, want, s_http.body);
        ccip_test_fail(&s_svc, what);
    }
}

/* Signs `who` in; keeps the session's cookie and CSRF token. */
static void s_sign_in(s_person *who)
{
    char body[256];
    snprintf(body, sizeof body, "{\"login\":\"%s\",\"password\":\"" PASSWORD "\"}", who->login);
    s_http_want(200, "POST", "/api/v1/session", NULL, body);
    const char *c = strstr(s_http.headers, "ccip_session=");
    who->token[0] = '\0';
    if (c)
        snprintf(who->token, sizeof who->token, "%.*s", (int)strcspn(c + 13, ";\r\n"), c + 13);
    ccip_test_json_value(s_http.body, "csrfToken", who->csrf, sizeof who->csrf);
    if (!who->token[0] || !who->csrf[0])
        ccip_test_fail(&s_svc, "the sign-in's answer had no session cookie or no CSRF token");
}

/* ---- the SMTP server notify sends to ---------------------------------------------- */

/* Starts notify_sinks.py's SMTP server (plain, no STARTTLS) on port into
 * s_sinks; returns its pid, or -1 with the reason on stderr. */
static pid_t s_smtp_start(int port)
{
    char ready[400], script[400], ports[16], log[400];
    snprintf(ready, sizeof ready, "%s/smtp.ready", s_sinks);
    snprintf(script, sizeof script, "%s/tests/integration/notify_sinks.py",
             getenv("CCIP_SOURCE_DIR"));
    snprintf(ports, sizeof ports, "%d", port);
    snprintf(log, sizeof log, "%s/sink-smtp.log", s_svc.env.dir);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the test */
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execl(PYTHON, PYTHON, script, "smtp", ports, s_sinks, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; pid > 0 && i < 200; i++) {
        if (access(ready, F_OK) == 0)
            return pid;
        ccip_test_sleep_ms(50);
    }
    fprintf(stderr, "the SMTP sink did not start (see %s)\n", log);
    return -1;
}

/* Messages the SMTP server kept (each Message-ID once) that contain text. */
static long long s_mails_with(const char *text)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/mail", s_sinks);
    DIR *d = opendir(dir);
    long long n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[800], buf[64 * 1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t k = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[k] = '\0';
        n += strstr(buf, text) != NULL;
    }
    if (d)
        closedir(d);
    return n;
}

/* ---- set-up ----------------------------------------------------------------------- */

/* Under valgrind (test_valgrind): the programs must be the current code's
 * release build. Skips (exit 77, saying why) when it was not built; fails
 * when it is older than the test's own build. */
static int s_valgrind_ready(void)
{
    const char *rel = getenv("CCIP_BINARY_DIR"), *cur = getenv("CCIP_TEST_BUILD_DIR");
    static const char *const programs[] = {"services/bus/bus",
                                           "services/intake/intake",
                                           "services/evaluation/evaluation",
                                           "services/funding/funding",
                                           "services/ip/ip",
                                           "services/stats/stats",
                                           "services/followup/followup",
                                           "services/notify/notify",
                                           "services/gateway/gateway",
                                           "services/casefile/casefile",
                                           "cli/ccipctl"};
    for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
        char a[600], b[600];
        struct stat sa, sb;
        snprintf(a, sizeof a, "%s/%s", rel, programs[i]);
        snprintf(b, sizeof b, "%s/%s", cur ? cur : "", programs[i]);
        if (stat(a, &sa) != 0) {
            printf("test_valgrind skipped: %s is not built (scripts/test builds the release tree "
                   "on full and slow runs, and for -R valgrind)\n",
                   a);
            exit(77);
        }
        if (cur && stat(b, &sb) == 0 && sa.st_mtime < sb.st_mtime) {
            fprintf(stderr,
                    "%s is older than %s: valgrind would test old code; build %s "
                    "(scripts/test slow does)\n",
                    a, b, rel);
            return -1;
        }
    }
    return 0;
}

static int s_setup(void **state)
{
    (void)state;
    if (getenv("CCIP_TEST_VALGRIND")) {
        s_valgrind = 1;
        s_wait_ms = WAIT_MS * CCIP_TEST_VALGRIND_SLOWER;
        s_ctl_ms = 20000;
        if (s_valgrind_ready() < 0)
            return -1;
    }
    /* The test's own database (scripts/test makes it): see scripts/test. */
    const char *db = getenv("CCIP_SYSTEM_PGDATABASE");
    if (!db) {
        fprintf(stderr, "CCIP_SYSTEM_PGDATABASE is not set: run the system test through "
                        "scripts/test, which makes its database\n");
        return -1;
    }
    setenv("CCIP_PGDATABASE", db, 1);
    snprintf(s_tag, sizeof s_tag, "SYS%lX",
             ((unsigned long)time(NULL) ^ (unsigned long)getpid()) & 0xFFFFFFul);
    /* ip signs receipts with a key made the way an operator makes it. */
    char dir[256], cmd[1200], key[600];
    if (ccip_test_tmpdir(dir, sizeof dir) < 0)
        return -1;
    snprintf(cmd, sizeof cmd, "%s/cli/ccipctl ip keygen ip-signing --dir %s >/dev/null",
             getenv("CCIP_BINARY_DIR"), dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(key, sizeof key, "%s/ip-signing.key", dir);
    setenv("CCIP_IP_SIGNING_KEY_FILE", key, 1);
    /* the gateway on a loopback port (plain HTTP is allowed only there) */
    s_http_port = ccip_test_free_port();
    char v[300];
    snprintf(v, sizeof v, "127.0.0.1:%d", s_http_port);
    setenv("CCIP_GATEWAY_LISTEN", v, 1);
    /* notify sends e-mail to a real SMTP server, plain, and retries soon */
    snprintf(s_sinks, sizeof s_sinks, "%s/sinks", dir);
    mkdir(s_sinks, 0700);
    int smtp_port = ccip_test_free_port();
    snprintf(v, sizeof v, "smtp://127.0.0.1:%d", smtp_port);
    setenv("CCIP_NOTIFY_SMTP_URL", v, 1);
    setenv("CCIP_NOTIFY_SMTP_TLS", "off", 1);
    setenv("CCIP_NOTIFY_MAIL_FROM", "noreply@ccip.test", 1);
    setenv("CCIP_NOTIFY_POLL_MS", "100", 1);
    setenv("CCIP_NOTIFY_RETRY_MIN_MS", "200", 1);
    setenv("CCIP_NOTIFY_RETRY_MAX_SECONDS", "2", 1);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    static const ccip_test_svc_proc procs[] = {
        {"services/intake/intake", "intake", "intake-sys"},
        {"services/evaluation/evaluation", "evaluation", "evaluation-sys"},
        {"services/funding/funding", "funding", "funding-sys"},
        {"services/ip/ip", "ip", "ip-sys"},
        {"services/stats/stats", "stats", "stats-sys"},
        {"services/followup/followup", "followup", "followup-sys"},
        {"services/notify/notify", "notify", "notify-sys"},
        {"services/gateway/gateway", "gateway", "gateway-sys"},
        {"services/casefile/casefile", "casefile", "casefile-sys"},
        {NULL, NULL, NULL}};
    if (ccip_test_svc_start(&s_svc, "intake", procs) < 0)
        return -1;
    if ((s_smtp_pid = s_smtp_start(smtp_port)) < 0) {
        ccip_test_svc_stop(&s_svc);
        return -1;
    }
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    ccip_test_svc_stop(&s_svc);
    if (s_smtp_pid > 0) {
        kill(s_smtp_pid, SIGTERM);
        waitpid(s_smtp_pid, NULL, 0);
        s_smtp_pid = 0;
    }
    curl_global_cleanup();
    return 0;
}

/* ---- the path ---------------------------------------------------------------------- */

/* What the path made, for the final checks. */
typedef struct {
    char uscc[CCIP_USCC_LEN + 1];  /* the applicant organisation */
    char buyer[CCIP_USCC_LEN + 1]; /* the organisation that disputes the work */
    char call[40], app[40];        /* the cluster call and application */
    char fund_call[40], app2[40];  /* the special-fund call and project */
    char case1[40], case2[40];     /* their evaluation cases */
    char designation[40];          /* the cluster's designation = its roster entry */
    char quarter[8];               /* the quarter it reports first */
    char report[40];               /* its quarterly report */
    char award[40];                /* the project's award */
    char work[40], dispute[40];    /* the registered work and the dispute on it */
    char programme[32];            /* the fund programme */
    char project[40];              /* the award's key project in followup */
    char root[40];                 /* the case both applications are in: app's id */
    char today[11];                /* YYYY-MM-DD, UTC */
    int year;
    s_person user; /* the organisation's user at the gateway */
} s_case;

/* The organisation's user signs up at the gateway asking to act for it
 * (a PENDING binding), signs in and registers the organisation over HTTP;
 * staff verify it; the gateway consumes intake.organisation.verified.v1
 * and makes the binding ACTIVE. */
static void s_organisation(s_case *c)
{
    char body[1024];
    /* a login is lower case; s_tag is not */
    snprintf(c->user.login, sizeof c->user.login, "liu.yang.%s", s_tag);
    for (char *p = c->user.login; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    snprintf(body, sizeof body,
             "{\"login\":\"%s\",\"name\":\"Liu Yang\",\"email\":\"%s@langyuan.example.cn\","
             "\"password\":\"" PASSWORD "\",\"organisationUscc\":\"%s\"}",
             c->user.login, c->user.login, c->uscc);
    s_http_want(200, "POST", "/api/v1/accounts", NULL, body);
    if (!strstr(s_http.body, "\"status\":\"PENDING\""))
        ccip_test_fail(&s_svc, "the sign-up's binding is not PENDING");
    s_sign_in(&c->user);
    snprintf(body, sizeof body,
             "{\"uscc\":\"%s\",\"name\":\"Beijing Langyuan Creative Park Operation Co., Ltd.\","
             "\"type\":\"ENTERPRISE\",\"district\":\"Chaoyang\",\"legalRepresentative\":\"Zhang "
             "Wei\",\"contactName\":\"Liu Yang\",\"contactPhone\":\"010-6598 1234\","
             "\"contactEmail\":\"office@langyuan.example.cn\",\"address\":\"Langjiayuan 6, "
             "Jianguo Road, Chaoyang\"}",
             c->uscc);
    s_http_want(200, "POST", "/api/v1/intake/organisations", &c->user, body);
    /* a PENDING binding may register its organisation, nothing else */
    s_http_want(403, "GET", "/api/v1/intake/applications", &c->user, NULL);
    CTL(STAFF " intake org verify %s --note 'checked against the credit register'", c->uscc);
    int64_t until = ccip_now_us() + (int64_t)s_wait_ms * 1000;
    do {
        s_http_want(200, "GET", "/api/v1/session", &c->user, NULL);
        if (strstr(s_http.body, "\"status\":\"ACTIVE\""))
            return;
        ccip_test_sleep_ms(200);
    } while (ccip_now_us() < until);
    ccip_test_fail(&s_svc, "the gateway did not make the user's binding ACTIVE after intake "
                           "verified the organisation");
}

/* The cluster application: a call requiring two documents, a draft, its
 * documents, the submission and the acceptance. */
static void s_intake(s_case *c)
{
    char opens[40], closes[40];
    ccip_time_format_us(ccip_now_us() - 60 * 1000000LL, opens, sizeof opens);
    ccip_time_format_us(ccip_now_us() + 30 * 86400 * 1000000LL, closes, sizeof closes);
    CTL(STAFF " intake call open --kind CLUSTER_IDENTIFICATION --year %d "
              "--title 'Municipal creative clusters %d (%s)' --opens %s --closes %s "
              "--require business_licence --require site_plan --eligible ENTERPRISE",
        c->year, c->year, s_tag, opens, closes);
    s_value(NULL, "id", c->call, sizeof c->call);
    CTL("--role applicant --actor org:%s intake application draft --call %s "
        "--title 'Langyuan Station creative cluster' --summary 'Studios in a former printing "
        "works.' "
        "--district Chaoyang --cluster-name 'Langyuan Station' --location 'Langjiayuan 6' "
        "--area-m2 60000 --enterprises 120 --employees 3500 --lead-operator 'Langyuan Co.'",
        c->uscc, c->call);
    s_value(NULL, "id", c->app, sizeof c->app);
    /* refused without its documents, naming them */
    s_ctl_want(1, "--role applicant --actor org:%s intake application submit %s", c->uscc, c->app);
    s_has("site_plan");
    char path[400];
    snprintf(path, sizeof path, "%s/licence.pdf", s_svc.env.dir);
    assert_int_equal(ccip_test_write_file(s_svc.env.dir, "licence.pdf", "%PDF-1.4\n% licence\n"),
                     0);
    assert_int_equal(ccip_test_write_file(s_svc.env.dir, "site.pdf", "%PDF-1.4\n% site plan\n"), 0);
    CTL("--role applicant --actor org:%s intake application add-document %s --type "
        "business_licence "
        "--file %s/licence.pdf",
        c->uscc, c->app, s_svc.env.dir);
    CTL("--role applicant --actor org:%s intake application add-document %s --type site_plan "
        "--file %s/site.pdf",
        c->uscc, c->app, s_svc.env.dir);
    CTL("--role applicant --actor org:%s intake application submit %s", c->uscc, c->app);
    CTL(STAFF " intake application accept %s --note 'complete'", c->app);
}

/* The registers: this run's agency and five experts, and a score sheet of
 * `kind`; returns its version. */
static int s_sheet(const char *kind, const char *a, const char *b, const char *d)
{
    CTL(STAFF " evaluation sheet publish %s --criterion '%s:3:10:First' "
              "--criterion '%s:2:20:Second' --criterion '%s:1:5:Third' --threshold 60 --panel %d "
              "--fields creative_clusters",
        kind, a, b, d, EXPERTS);
    return (int)s_number("version");
}

static void s_registers(void)
{
    char code[CCIP_USCC_LEN + 1];
    ccip_test_uscc("110108", code);
    CTL(STAFF " evaluation agency register %s-AG --name 'Capital Cultural Appraisal (%s)' "
              "--uscc %s --districts all --capacity 3",
        s_tag, s_tag, code);
    for (int i = 1; i <= EXPERTS; i++) {
        ccip_test_uscc("110108", code);
        CTL(STAFF " evaluation expert register %s-EX%d --name 'Expert %d' "
                  "--fields creative_clusters,urban_renewal --affiliation %s --district Haidian "
                  "--max-reviews 3 --email ex%d.%s@univ.example.cn",
            s_tag, i, i, code, i, s_tag);
    }
}

/* A case through evaluation to the office's approval (amount_yuan > 0 for
 * a special-fund project): the agency's report, five reviews, submission,
 * decision. Writes the case id. */
static void s_evaluate(const char *app, const char *sheet_kind, const char *c1, const char *c2,
                       const char *c3, int amount_yuan, const char *today, char *case_id,
                       size_t len)
{
    s_ctl_until("\"id\"", STAFF " evaluation case get --application %s", app);
    s_value(NULL, "id", case_id, len);
    int version = s_sheet(sheet_kind, c1, c2, c3);
    char picks[400] = "";
    size_t n = (size_t)snprintf(picks, sizeof picks, "--pick agency:%s-AG", s_tag);
    for (int i = 1; i <= EXPERTS; i++)
        n += (size_t)snprintf(picks + n, sizeof picks - n, " --pick expert:%s-EX%d", s_tag, i);
    CTL(STAFF " evaluation assign make %s %s", case_id, picks);
    CTL("--role agency --actor agency:%s-AG evaluation report file %s --visit %s "
        "--findings 'As declared; 118 enterprises on site.' --verdict meets",
        s_tag, case_id, today);
    for (int i = 1; i <= EXPERTS; i++) {
        CTL("--role expert --actor expert:%s-EX%d evaluation review declare %s "
            "--statement 'no ties to the applicant'",
            s_tag, i, case_id);
        CTL("--role expert --actor expert:%s-EX%d evaluation review submit %s --sheet-version %d "
            "--score '%s=%d:dense' --score '%s=16:in place' --score '%s=4:open to schools'",
            s_tag, i, case_id, version, c1, 6 + i % 4, c2, c3);
    }
    s_has("\"panel_complete\":true");
    CTL(STAFF " evaluation case submit %s --note 'report and five reviews in'", case_id);
    if (amount_yuan > 0)
        CTL(OFFICE " evaluation case decide %s --outcome approved --amount %d "
                   "--reasons 'merits support the project'",
            case_id, amount_yuan);
    else
        CTL(OFFICE " evaluation case decide %s --outcome approved "
                   "--reasons 'meets every criterion'",
            case_id);
    s_has("CASE_APPROVED");
}

/* The designated cluster in stats: on the roster from evaluation's event,
 * its first report saved, submitted, approved by the district, accepted by
 * the center, and the quarter's bulletin published. */
static void s_stats(s_case *c)
{
    char anchor[80];
    snprintf(anchor, sizeof anchor, "\"id\":\"%s\"", c->designation);
    s_ctl_until(anchor, STAFF " stats roster list --district 110105");
    s_value(anchor, "first_quarter", c->quarter, sizeof c->quarter);
    CTL("--role operator --actor org:%s stats report save --roster %s --quarter %s "
        "--value enterprises=118 --value employees=2900 --value operating_revenue=1234567.89 "
        "--value total_profit=123456.78 --value taxes_paid=61728.39 --value occupancy_rate=87.5 "
        "--value floor_area=41000 --note 'from the quarterly accounts'",
        c->uscc, c->designation, c->quarter);
    s_value(NULL, "id", c->report, sizeof c->report);
    CTL("--role operator --actor org:%s stats report submit %s", c->uscc, c->report);
    CTL(DISTRICT " stats report review %s --approve --reason 'matches the district filings'",
        c->report);
    CTL(STAFF " stats report decide %s --accept", c->report);
    CTL(STAFF " stats completeness %s", c->quarter);
    char embargo[40];
    ccip_time_format_us(ccip_now_us() / 1000000 * 1000000, embargo, sizeof embargo);
    CTL(ANALYST " stats release publish %s --title 'Creative clusters, %s' --licence CC-BY-4.0 "
                "--embargo %s --note 'system test %s'",
        c->quarter, c->quarter, embargo, s_tag);
    CTL("stats release show %s", c->quarter);
}

/* The special-fund project: programme and budget, a call on it, the
 * project filed in one step and accepted, evaluated, approved with an
 * amount; funding proposes the award; staff confirm and sign; finance pays
 * the first tranche. */
static void s_fund(s_case *c)
{
    snprintf(c->programme, sizeof c->programme, "%s-SF", s_tag);
    CTL(FSTAFF " funding programme create %s --name 'Creative industry fund (%s)' "
               "--tranche 50:AGREEMENT_SIGNED:on-signing --tranche 30:MIDTERM_INSPECTION_PASSED "
               "--tranche 20:FINAL_REPORT_ACCEPTED",
        c->programme, s_tag);
    CTL(FSTAFF " funding budget set %s %d 5000000.00 --reason 'appropriation'", c->programme,
        c->year);
    char opens[40], closes[40];
    ccip_time_format_us(ccip_now_us() - 60 * 1000000LL, opens, sizeof opens);
    ccip_time_format_us(ccip_now_us() + 30 * 86400 * 1000000LL, closes, sizeof closes);
    CTL(STAFF " intake call open --kind SPECIAL_FUND_PROJECT --year %d --title 'Special fund (%s)' "
              "--opens %s --closes %s --require project_plan --eligible ENTERPRISE "
              "--fund-programme %s --max-request 500000",
        c->year, s_tag, opens, closes, c->programme);
    s_value(NULL, "id", c->fund_call, sizeof c->fund_call);
    assert_int_equal(ccip_test_write_file(s_svc.env.dir, "plan.pdf", "%PDF-1.4\n% plan\n"), 0);
    /* the designated cluster's project: it continues the cluster's case,
     * so that every service's events about it carry that case's root id */
    CTL("--role applicant --actor org:%s intake application file --call %s --continues %s "
        "--title 'Langyuan shared scanning room' --summary 'Scanners shared at cost.' "
        "--district Chaoyang --requested 300000 --budget-line equipment=220000 "
        "--budget-line training=80000 --document project_plan=%s/plan.pdf",
        c->uscc, c->fund_call, c->app, s_svc.env.dir);
    s_value(NULL, "id", c->app2, sizeof c->app2);
    s_value(NULL, "case_root", c->root, sizeof c->root);
    if (strcmp(c->root, c->app) != 0)
        ccip_test_fail(&s_svc, "the special-fund application does not continue the cluster's "
                               "case (its case_root is not the cluster's application)");
    CTL(STAFF " intake application accept %s --note 'complete: project plan present'", c->app2);
    s_evaluate(c->app2, "special_fund_project", "merit", "budget", "impact", 280000, c->today,
               c->case2, sizeof c->case2);
    s_ctl_until("AWARD_PROPOSED", FSTAFF " funding award show --application %s", c->app2);
    s_value(NULL, "id", c->award, sizeof c->award);
    CTL(FSTAFF " funding award confirm %s --note 'as decided by the office'", c->award);
    CTL(FSTAFF " funding award sign %s", c->award);
    CTL(FSTAFF " funding payment request %s 1", c->award);
    char payment[40];
    s_value(NULL, "id", payment, sizeof payment);
    CTL(FINANCE " funding payment approve %s --ref TR-%s-1", payment, s_tag);
    s_has("PAYMENT_PAID");
}

/* The midterm inspection passes; the project's work is registered in ip and
 * linked to the award; another organisation disputes the work, and the
 * upheld dispute holds the second tranche until the freeze is lifted. */
static void s_ip_and_hold(s_case *c)
{
    CTL(FSTAFF " funding inspection schedule %s --kind MIDTERM --date %s --inspector 'Zhao Min'",
        c->award, c->today);
    char inspection[40];
    s_value(NULL, "id", inspection, sizeof inspection);
    CTL(FSTAFF " funding inspection record %s --finding COMPLIANT --notes 'room in use'",
        inspection);
    char poem[200];
    snprintf(poem, sizeof poem, "Liangma River, evening (%s, %lld)\n", s_tag,
             (long long)ccip_now_us());
    assert_int_equal(ccip_test_write_file(s_svc.env.dir, "poem.txt", poem), 0);
    CTL("--role owner --actor org:%s ip register --kind copyright-literary "
        "--title 'Liangma River, evening (%s)' --created-on %s --creator 'Zhang Wei' "
        "--file %s/poem.txt",
        c->uscc, s_tag, c->today, s_svc.env.dir);
    s_value(NULL, "id", c->work, sizeof c->work);
    CTL(FSTAFF " funding award link-work %s %s", c->award, c->work);
    /* ip learns the work's case from funding.award.work_linked.v1; the
     * dispute's events carry it only once ip knows it, so the dispute waits
     * for it (a work disputed before would be in no case, and rightly so) */
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM work_case WHERE work_id = '%s' AND case_root = '%s'", c->work,
             c->root);
    s_wait_number("ip", 1, sql);
    CTL("--role applicant --actor org:%s ip dispute file %s --kind infringement "
        "--statement 'the text copies our anthology' --evidence "
        "anthology=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        c->buyer, c->work);
    s_value(NULL, "id", c->dispute, sizeof c->dispute);
    CTL("--role owner --actor org:%s ip dispute answer %s --answer 'written in the park in %d'",
        c->uscc, c->dispute, c->year);
    CTL(STAFF " ip dispute rule %s --uphold --reasons 'the anthology is older'", c->dispute);
    /* funding consumes ip.dispute.upheld.v1: the second tranche is held */
    s_ctl_until(c->dispute, FSTAFF " funding award show %s", c->award);
    s_ctl_want(1, FSTAFF " funding payment request %s 2", c->award);
    s_has("held");
    CTL(STAFF " ip dispute lift %s --reasons 'licensed by the publisher of the anthology'",
        c->dispute);
    /* ... and released by ip.dispute.lifted.v1: the request goes through */
    s_ctl_until("PAYMENT_PENDING", FSTAFF " funding payment request %s 2", c->award);
    char payment[40];
    s_value(NULL, "id", payment, sizeof payment);
    CTL(FINANCE " funding payment approve %s --ref TR-%s-2", payment, s_tag);
    s_has("PAYMENT_PAID");
}

/* The Beijing day `days` from today, YYYY-MM-DD (len >= 11). */
static void s_beijing_day(int days, char *out, size_t len)
{
    time_t t = (time_t)(ccip_now_us() / 1000000) + BEIJING + (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%d", &tm);
}

/* The project in followup: followup learned of the award, its two paid
 * tranches and the inspection from funding's events; staff make it a key
 * project of the year with two milestones, and the grantee files this
 * month's report. */
static void s_followup(s_case *c)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM award_payment WHERE award_id = '%s'", c->award);
    long long paid = -1;
    for (int waited = 0; paid != 2 && waited < s_wait_ms; waited += 200) {
        paid = ccip_test_query_number("followup", sql);
        if (paid != 2)
            ccip_test_sleep_ms(200);
    }
    s_expect("followup", 2, "%s", sql);
    char start[16], end[16], m1[16], m2[16], month[16];
    s_beijing_day(-60, start, sizeof start);
    s_beijing_day(200, end, sizeof end);
    s_beijing_day(20, m1, sizeof m1);
    s_beijing_day(120, m2, sizeof m2);
    s_beijing_day(0, month, sizeof month);
    month[7] = '\0'; /* YYYY-MM */
    int year = atoi(month);
    CTL(FSTAFF " followup project register --year %d --source award --award %s --district 110105 "
               "--investment 650000 --start %s --end %s --milestone '%s:print room open' "
               "--milestone '%s:shared by 20 studios'",
        year, c->award, start, end, m1, m2);
    s_value(NULL, "id", c->project, sizeof c->project);
    CTL("--role grantee --actor org:%s followup project report %s %s --invested 180000 "
        "--problems 'the scanners arrive two weeks late'",
        c->uscc, c->project, month);
}

/* ---- the checks at the end ---------------------------------------------------------- */

/* Every outbox numbered without gaps or duplicates, every event numbered,
 * and every consumer's cursor at its producer's head, once the streams
 * settle (within WAIT_MS of the last command). */
static void s_streams_settled(void)
{
    for (size_t i = 0; i < NSERVICES; i++) {
        const char *svc = s_services[i];
        /* the relay numbers what was committed within a tick or two */
        long long unnumbered =
            ccip_test_query_number(svc, "SELECT count(*) FROM outbox WHERE position IS NULL");
        for (int waited = 0; unnumbered != 0 && waited < s_wait_ms; waited += 100) {
            ccip_test_sleep_ms(100);
            unnumbered =
                ccip_test_query_number(svc, "SELECT count(*) FROM outbox WHERE position IS NULL");
        }
        s_expect(svc, 0, "SELECT count(*) FROM outbox WHERE position IS NULL");
        /* positions oldest..head, each once (position is UNIQUE) */
        s_expect(svc, 1,
                 "SELECT (count(*) = s.head - s.oldest + 1 AND coalesce(max(o.position), 0) = "
                 "s.head AND coalesce(min(o.position), s.oldest) = s.oldest)::int "
                 "FROM outbox o, outbox_state s GROUP BY s.head, s.oldest");
    }
    for (size_t i = 0; i < sizeof s_streams / sizeof s_streams[0]; i++) {
        const char *consumer = s_streams[i].consumer, *producer = s_streams[i].producer;
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT position FROM consumer_cursor WHERE producer = '%s'",
                 producer);
        long long head = -1, cursor = -2;
        for (int waited = 0; waited <= s_wait_ms; waited += 100) {
            head = ccip_test_query_number(producer, "SELECT head FROM outbox_state");
            cursor = ccip_test_query_number(consumer, sql);
            if (head >= 0 && cursor == head)
                break;
            ccip_test_sleep_ms(100);
        }
        printf("stream %s -> %s: head %lld, cursor %lld\n", producer, consumer, head, cursor);
        if (cursor != head) {
            char what[300];
            snprintf(what, sizeof what, "%s's cursor on %s's stream is %lld, its head %lld",
                     consumer, producer, cursor, head);
            ccip_test_fail(&s_svc, what);
        }
    }
    /* and no consumer follows a stream the list above does not know */
    s_expect("intake", 2, "SELECT count(*) FROM consumer_cursor");
    s_expect("evaluation", 1, "SELECT count(*) FROM consumer_cursor");
    s_expect("funding", 2, "SELECT count(*) FROM consumer_cursor");
    s_expect("ip", 1, "SELECT count(*) FROM consumer_cursor"); /* funding (works linked) */
    s_expect("stats", 4, "SELECT count(*) FROM consumer_cursor");
    s_expect("followup", 3, "SELECT count(*) FROM consumer_cursor");
    s_expect("notify", 7, "SELECT count(*) FROM consumer_cursor");
    s_expect("gateway", 1, "SELECT count(*) FROM consumer_cursor");
    s_expect("casefile", 6, "SELECT count(*) FROM consumer_cursor");
}

/* What the path must leave in each schema: every effect, each once. */
static void s_final_state(const s_case *c)
{
    /* intake: two accepted applications, each accepted event once; what
     * the applicant sees was moved on by evaluation's and funding's events */
    s_expect("intake", 2,
             "SELECT count(*) FROM application WHERE applicant_uscc = '%s' AND status = "
             "'ACCEPTED'",
             c->uscc);
    s_expect("intake", 3, "SELECT count(*) FROM document WHERE application_id IN ('%s', '%s')",
             c->app, c->app2);
    s_expect("intake", 2,
             "SELECT count(*) FROM outbox WHERE type = 'intake.application.accepted.v1' AND "
             "aggregate_id IN ('%s', '%s')",
             c->app, c->app2);
    s_expect("intake", 1,
             "SELECT count(*) FROM applicant_view WHERE application_id = '%s' AND status = "
             "'APPLICANT_APPROVED'",
             c->app);
    s_expect("intake", 1,
             "SELECT count(*) FROM applicant_view WHERE application_id = '%s' AND status = "
             "'APPLICANT_FUNDED'",
             c->app2);
    /* evaluation: one case per accepted application, one investigation
     * and five reviews each, one approval each, one designation (the
     * cluster's; a project gets none) */
    s_expect("evaluation", 2,
             "SELECT count(*) FROM case_file WHERE application_id IN ('%s', '%s') AND status = "
             "'CASE_APPROVED'",
             c->app, c->app2);
    s_expect("evaluation", 2,
             "SELECT count(*) FROM investigation WHERE case_id IN ('%s', '%s') AND status = "
             "'TASK_DONE'",
             c->case1, c->case2);
    s_expect("evaluation", 2 * EXPERTS,
             "SELECT count(*) FROM review WHERE case_id IN ('%s', '%s') AND status = 'TASK_DONE'",
             c->case1, c->case2);
    s_expect("evaluation", 2,
             "SELECT count(*) FROM decision WHERE case_id IN ('%s', '%s') AND outcome = "
             "'DECISION_APPROVED'",
             c->case1, c->case2);
    s_expect("evaluation", 28000000, "SELECT recommended_fen FROM decision WHERE case_id = '%s'",
             c->case2);
    s_expect("evaluation", 1,
             "SELECT count(*) FROM designation WHERE case_id IN ('%s', '%s') AND id = '%s' AND "
             "holder_uscc = '%s' AND status = 'DESIGNATION_ACTIVE'",
             c->case1, c->case2, c->designation, c->uscc);
    /* funding: one award for the project, committed, two tranches of three
     * paid, the work linked, the dispute's hold released */
    s_expect("funding", 1,
             "SELECT count(*) FROM award WHERE application_id = '%s' AND id = '%s' AND status = "
             "'AWARD_COMMITTED' AND amount_fen = 28000000",
             c->app2, c->award);
    s_expect("funding", 0, "SELECT count(*) FROM award WHERE application_id = '%s'", c->app);
    s_expect("funding", 2,
             "SELECT count(*) FROM tranche WHERE award_id = '%s' AND status = 'TRANCHE_PAID'",
             c->award);
    s_expect("funding", 1,
             "SELECT count(*) FROM tranche WHERE award_id = '%s' AND number = 3 AND status = "
             "'TRANCHE_PLANNED'",
             c->award);
    s_expect("funding", 2,
             "SELECT count(*) FROM payment WHERE award_id = '%s' AND status = 'PAYMENT_PAID'",
             c->award);
    s_expect("funding", 2, "SELECT count(*) FROM payment WHERE award_id = '%s'", c->award);
    s_expect("funding", 1,
             "SELECT count(*) FROM award_work WHERE award_id = '%s' AND work_id = '%s'", c->award,
             c->work);
    s_expect("funding", 1,
             "SELECT count(*) FROM work_hold WHERE dispute_id = '%s' AND work_id = '%s' AND "
             "released_at IS NOT NULL",
             c->dispute, c->work);
    s_expect("funding", 2,
             "SELECT count(*) FROM outbox WHERE type = 'funding.disbursement.paid.v1' AND "
             "aggregate_id = '%s'",
             c->app2);
    /* ip: the work, thawed; the dispute upheld, then lifted */
    s_expect("ip", 1, "SELECT count(*) FROM work WHERE id = '%s' AND frozen_by IS NULL", c->work);
    s_expect("ip", 1,
             "SELECT count(*) FROM dispute WHERE id = '%s' AND status = 'UPHELD' AND lifted_at_us "
             "IS NOT NULL",
             c->dispute);
    s_expect("ip", 1,
             "SELECT count(*) FROM outbox WHERE type = 'ip.dispute.upheld.v1' AND aggregate_id = "
             "'%s'",
             c->dispute);
    s_expect("ip", 1,
             "SELECT count(*) FROM outbox WHERE type = 'ip.dispute.lifted.v1' AND aggregate_id = "
             "'%s'",
             c->dispute);
    /* stats: the roster entry, the accepted report, the bulletin, and one
     * fact per event of this case */
    s_expect("stats", 1,
             "SELECT count(*) FROM roster_entry WHERE id = '%s' AND operator_uscc = '%s' AND "
             "first_quarter = '%s'",
             c->designation, c->uscc, c->quarter);
    s_expect("stats", 1, "SELECT count(*) FROM report WHERE id = '%s' AND status = 'ACCEPTED'",
             c->report);
    s_expect("stats", 1,
             "SELECT count(*) FROM release WHERE quarter = '%s' AND change_note = 'system test %s'",
             c->quarter, s_tag);
    s_expect("stats", 1, "SELECT count(*) FROM ev_org WHERE uscc = '%s'", c->uscc);
    s_expect("stats", 2,
             "SELECT count(*) FROM ev_application WHERE application_id IN ('%s', '%s') AND "
             "accepted_at_us IS NOT NULL",
             c->app, c->app2);
    s_expect("stats", 2,
             "SELECT count(*) FROM ev_decision WHERE application_id IN ('%s', '%s') AND outcome = "
             "'APPROVED'",
             c->app, c->app2);
    s_expect("stats", 28000000,
             "SELECT coalesce(sum(amount_fen), 0) FROM ev_award WHERE application_id = '%s'",
             c->app2);
    s_expect("stats", 2, "SELECT count(*) FROM ev_payment WHERE application_id = '%s'", c->app2);
    s_expect("stats", 1, "SELECT count(*) FROM ev_work WHERE work_id = '%s'", c->work);
    /* followup: the award as funding said it (committed, two tranches of
     * 50% and 30% of 280000 yuan paid), its inspection, the work, the key
     * project with its two milestones and its one monthly report */
    s_expect("followup", 1,
             "SELECT count(*) FROM award WHERE id = '%s' AND grantee_uscc = '%s' AND status = "
             "'AWARD_COMMITTED' AND amount_fen = 28000000 AND disbursed_fen = 22400000",
             c->award, c->uscc);
    s_expect("followup", 1,
             "SELECT count(*) FROM award_inspection WHERE award_id = '%s' AND kind = "
             "'MIDTERM' AND finding = 'COMPLIANT'",
             c->award);
    s_expect("followup", 1, "SELECT count(*) FROM work WHERE id = '%s'", c->work);
    s_expect("followup", 1,
             "SELECT count(*) FROM project WHERE id = '%s' AND award_id = '%s' AND source = "
             "'FROM_AWARD' AND owner_uscc = '%s' AND milestones = 2",
             c->project, c->award, c->uscc);
    s_expect("followup", 1, "SELECT count(*) FROM monthly_report WHERE project_id = '%s'",
             c->project);
    /* the gateway: one account, its binding for the organisation ACTIVE
     * (made so by intake's event, once) */
    s_expect("gateway", 1,
             "SELECT count(*) FROM binding b JOIN account a ON a.id = b.account_id WHERE a.login "
             "= '%s' AND b.subject = '%s' AND b.status = 'ACTIVE'",
             c->user.login, c->uscc);
    s_expect("gateway", 1,
             "SELECT count(*) FROM outbox o JOIN account a ON o.aggregate_id = a.id::text WHERE "
             "o.type = 'gateway.account.binding_granted.v1' AND a.login = '%s'",
             c->user.login);
}

/* What notify made of every producer's events: the organisation's items,
 * each once; the experts' review items and the staff's to-dos closed by
 * the events that ended them; an e-mail per delivery to the organisation's
 * user, each sent once to the SMTP server. */
static void s_notify_state(const s_case *c)
{
    static const struct {
        const char *kind;
        int count;
    } org_items[] = {
        {"organisation_verified", 1}, /* intake */
        {"decision_made", 2},         /* evaluation: both applications approved */
        {"tranche_paid", 2},          /* funding: two tranches */
        {"inspection_finding", 0},    /* funding: a compliant finding tells nothing */
        {"dispute_ruled", 1},         /* ip: the dispute on its work upheld */
    };
    for (size_t i = 0; i < sizeof org_items / sizeof org_items[0]; i++)
        s_expect("notify", org_items[i].count,
                 "SELECT count(*) FROM item WHERE addressee = 'org:%s' AND kind = '%s'", c->uscc,
                 org_items[i].kind);
    /* five experts reviewed both cases: every review item done */
    s_expect("notify", 2 * EXPERTS,
             "SELECT count(*) FROM item WHERE addressee LIKE 'expert:%s-EX%%' AND kind = "
             "'review_assigned' AND state = 'DONE'",
             s_tag);
    s_expect("notify", 0,
             "SELECT count(*) FROM item WHERE addressee LIKE 'expert:%s-EX%%' AND state = 'OPEN'",
             s_tag);
    /* staff's to-dos for both applications: done once accepted */
    s_expect("notify", 2,
             "SELECT count(*) FROM item WHERE kind = 'application_waiting' AND object_id IN "
             "('%s', '%s') AND state = 'DONE'",
             c->app, c->app2);
    /* the center's own steps, each addressed to the role that acts on it
     * and closed by the real event that settled it: the office's decision
     * on both cases, the district's review and the center's acceptance of
     * the report, the midterm inspection */
    s_expect("notify", 2,
             "SELECT count(*) FROM item WHERE kind = 'decision_waiting' AND addressee = "
             "'role:office' AND object_id IN ('%s', '%s') AND state = 'DONE' AND closed_by = "
             "'evaluation.decision.made.v1'",
             c->app, c->app2);
    s_expect("notify", 1,
             "SELECT count(*) FROM item WHERE kind = 'quarterly_report_to_review' AND addressee "
             "= 'district:110105' AND object_id = '%s' AND state = 'DONE' AND closed_by = "
             "'stats.report.district_approved.v1'",
             c->report);
    s_expect("notify", 1,
             "SELECT count(*) FROM item WHERE kind = 'quarterly_report_to_accept' AND addressee "
             "= 'role:staff' AND object_id = '%s' AND state = 'DONE' AND closed_by = "
             "'stats.report.accepted.v1'",
             c->report);
    s_expect("notify", 1,
             "SELECT count(*) FROM item WHERE kind = 'inspection_due' AND addressee = "
             "'role:staff' AND object_id = '%s' AND state = 'DONE' AND closed_by = "
             "'funding.inspection.recorded.v1'",
             c->award);
    /* none of them reached the organisation */
    s_expect("notify", 0,
             "SELECT count(*) FROM item WHERE addressee = 'org:%s' AND kind IN "
             "('decision_waiting', 'quarterly_report_to_accept', 'inspection_due', "
             "'payment_second_approval', 'quarter_complete')",
             c->uscc);
    /* a quarter the analysts were told complete waits no more: its bulletin
     * was published (whether this walk completed it depends on what earlier
     * walks left in the roster) */
    s_expect("notify", 0,
             "SELECT count(*) FROM item WHERE kind = 'quarter_complete' AND object_id = '%s' "
             "AND state <> 'DONE'",
             c->quarter);
    /* the user's e-mails: every delivery sent, once each */
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM delivery WHERE login = '%s' AND channel = 'EMAIL' AND state "
             "<> 'SENT'",
             c->user.login);
    long long unsent = -1;
    for (int waited = 0; unsent != 0 && waited < s_wait_ms; waited += 200) {
        unsent = ccip_test_query_number("notify", sql);
        if (unsent != 0)
            ccip_test_sleep_ms(200);
    }
    s_expect("notify", 0, "%s", sql);
    /* this run's user only: test_valgrind walks the same case again in the
     * same database, and the SMTP server is each run's own */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM delivery WHERE login = '%s' AND channel = 'EMAIL' AND state = "
             "'SENT'",
             c->user.login);
    long long sent = ccip_test_query_number("notify", sql);
    char to[200];
    snprintf(to, sizeof to, "%s@langyuan.example.cn", c->user.login);
    long long mails = s_mails_with(to);
    printf("notify: %lld e-mails sent to %s, %lld kept by the SMTP server\n", sent, to, mails);
    if (sent < 1 || mails != sent) {
        char what[300];
        snprintf(what, sizeof what, "notify recorded %lld e-mails SENT, the SMTP server kept %lld",
                 sent, mails);
        ccip_test_fail(&s_svc, what);
    }
    char dup[400];
    snprintf(dup, sizeof dup, "%s/mail-duplicates.log", s_sinks);
    if (access(dup, F_OK) == 0)
        ccip_test_fail(&s_svc, "the SMTP server received a message twice (mail-duplicates.log)");
}

/* Occurrences of text in the last output. */
static int s_count(const char *text)
{
    int n = 0;
    for (const char *p = strstr(s_out, text); p; p = strstr(p + strlen(text), text))
        n++;
    return n;
}

/* Prints the timeline of the last `case show` as "service type" lines:
 * what a failure below is about. */
static void s_print_timeline(void)
{
    int n = 0;
    for (const char *p = strstr(s_out, "\"service\":\""); p; p = strstr(p + 1, "\"service\":\"")) {
        char svc[32] = "", type[96] = "";
        ccip_test_json_value(p, "service", svc, sizeof svc);
        ccip_test_json_value(p, "type", type, sizeof type);
        printf("casefile: step %2d  %-10s %s\n", ++n, svc, type);
    }
}

/* The case as casefile followed it from every stream (issue 19): `ccipctl
 * case show` of the cluster's application lists the walk's steps in the
 * order they happened, from six services, each effect once. The dispute's
 * and the project's steps are there because ip and followup learned the
 * case from funding's events. */
static void s_casefile(const s_case *c)
{
    /* in the order the walk made them (the timeline is by time); steps
     * whose order against their neighbours depends on a consumer's lag
     * (ip.work.linked.v1, made from funding's link) are counted below */
    static const char *const steps[] = {
        "intake.application.submitted.v1",   /* the cluster applies */
        "intake.application.accepted.v1",    /* ... is accepted */
        "evaluation.case.opened.v1",         /* evaluation opens its case */
        "evaluation.decision.made.v1",       /* the office approves */
        "evaluation.designation.granted.v1", /* the cluster is designated */
        "stats.report.submitted.v1",         /* its first quarterly report */
        "stats.report.accepted.v1",          /* ... accepted */
        "intake.application.accepted.v1",    /* its special-fund project */
        "evaluation.decision.made.v1",       /* ... approved with an amount */
        "funding.award.proposed.v1",         /* the award */
        "funding.award.granted.v1",
        "funding.award.signed.v1",
        "funding.disbursement.paid.v1",   /* the first tranche */
        "funding.inspection.recorded.v1", /* the midterm inspection */
        "funding.award.work_linked.v1",   /* the registered work */
        "ip.dispute.upheld.v1",           /* the dispute holds tranche 2 */
        "ip.dispute.lifted.v1",           /* ... until lifted */
        "funding.disbursement.paid.v1",   /* the second tranche */
        "followup.project.registered.v1", /* the key project */
        "followup.project.reported.v1",   /* its monthly report */
    };
    /* the last step the walk made, once every stream is applied */
    s_ctl_until("followup.project.reported.v1", STAFF " case show %s", c->root);
    s_print_timeline();
    const char *at = s_out;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        char pat[128];
        snprintf(pat, sizeof pat, "\"type\":\"%s\"", steps[i]);
        const char *p = strstr(at, pat);
        if (!p) {
            char what[4200];
            snprintf(what, sizeof what,
                     "casefile's timeline of case %s has no step %s after step %zu (%s): "
                     "missing or out of order (the timeline is printed above)",
                     c->root, steps[i], i, i ? steps[i - 1] : "its start");
            ccip_test_fail(&s_svc, what);
        }
        at = p + strlen(pat);
    }
    /* each effect once: two applications in the case, two decisions, one
     * designation, one accepted report, one award, two tranches, one work
     * (funding's link and ip's), one key project and one monthly report */
    static const struct {
        const char *type;
        int count;
    } once[] = {
        {"intake.application.accepted.v1", 2},
        {"evaluation.decision.made.v1", 2},
        {"evaluation.designation.granted.v1", 1},
        {"stats.report.accepted.v1", 1},
        {"funding.award.granted.v1", 1},
        {"funding.disbursement.paid.v1", 2},
        {"funding.award.work_linked.v1", 1},
        {"ip.work.linked.v1", 1},
        {"ip.dispute.filed.v1", 1},
        {"followup.project.registered.v1", 1},
        {"followup.project.reported.v1", 1},
    };
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++) {
        char pat[128];
        snprintf(pat, sizeof pat, "\"type\":\"%s\"", once[i].type);
        int n = s_count(pat);
        if (n != once[i].count) {
            char what[300];
            snprintf(what, sizeof what, "casefile's timeline of case %s has %s %d times, not %d",
                     c->root, once[i].type, n, once[i].count);
            ccip_test_fail(&s_svc, what);
        }
    }
    /* from six services; the case as it stands: funded, the cluster's */
    static const char *const services[] = {"intake",  "evaluation", "stats",
                                           "funding", "ip",         "followup"};
    size_t seen = 0;
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        char pat[64];
        snprintf(pat, sizeof pat, "\"service\":\"%s\"", services[i]);
        seen += strstr(s_out, pat) != NULL;
    }
    printf("casefile: case %s, %d steps from %zu services\n", c->root, s_count("\"event_id\":"),
           seen);
    if (seen != sizeof services / sizeof services[0])
        ccip_test_fail(&s_svc, "casefile's timeline of the case lacks a service's steps");
    s_has("\"state\":\"FUNDED\"");
    s_has("CLUSTER_IDENTIFICATION");
    /* the same case found from the project's application */
    CTL(STAFF " case show %s", c->app2);
    char root[40];
    s_value(NULL, "root_id", root, sizeof root);
    if (strcmp(root, c->root) != 0)
        ccip_test_fail(&s_svc, "casefile does not find the case from its second application");
}

static void test_a_case_through_every_service(void **state)
{
    (void)state;
    s_case c;
    memset(&c, 0, sizeof c);
    ccip_test_uscc("110105", c.uscc);
    ccip_test_uscc("110106", c.buyer);
    char now[40];
    ccip_time_format_us(ccip_now_us(), now, sizeof now);
    snprintf(c.today, sizeof c.today, "%.10s", now);
    c.year = atoi(now);

    s_organisation(&c);
    s_intake(&c);
    s_registers();
    s_evaluate(c.app, "cluster_identification", "scale", "operation", "impact", 0, c.today, c.case1,
               sizeof c.case1);
    s_value(NULL, "designation_id", c.designation, sizeof c.designation);
    /* intake follows evaluation's events: the applicant sees the approval,
     * and so does its user through the gateway */
    s_ctl_until("APPLICANT_APPROVED", "--role applicant --actor org:%s intake application show %s",
                c.uscc, c.app);
    char path[200];
    snprintf(path, sizeof path, "/api/v1/intake/applications/%s", c.app);
    s_http_want(200, "GET", path, &c.user, NULL);
    if (!strstr(s_http.body, "APPLICANT_APPROVED"))
        ccip_test_fail(&s_svc,
                       "the gateway's reading of the application is not APPLICANT_APPROVED");
    s_stats(&c);
    s_fund(&c);
    s_ip_and_hold(&c);
    s_ctl_until("APPLICANT_FUNDED", "--role applicant --actor org:%s intake application show %s",
                c.uscc, c.app2);
    s_followup(&c);
    s_streams_settled();
    s_final_state(&c);
    s_notify_state(&c);
    s_casefile(&c);
}

/* Every process stops on SIGTERM with status 0: under ASan, LeakSanitizer
 * would have made it 1; under valgrind, a memory error or a definite leak
 * makes it 99. */
static void test_every_process_stops_cleanly(void **state)
{
    (void)state;
    for (int pass = 0; pass < 2; pass++) /* the services first, the bus last */
        for (int i = 0; i < CCIP_TEST_MAX_PROCS; i++) {
            ccip_test_child *ch = &s_svc.env.children[i];
            if (ch->pid <= 0 || (strcmp(ch->name, "bus") == 0) != pass)
                continue;
            char name[64];
            snprintf(name, sizeof name, "%s", ch->name);
            int status = ccip_test_stop(&s_svc.env, ch->pid, SIGTERM, STOP_MS);
            printf("%s stopped with status %d%s\n", name, status,
                   s_valgrind ? " under valgrind" : "");
            if (status != 0) {
                char what[200];
                snprintf(what, sizeof what, "%s exited with status %d after SIGTERM%s", name,
                         status, s_valgrind ? " (99: valgrind found errors, see its log)" : "");
                ccip_test_fail(&s_svc, what);
            }
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_case_through_every_service),
        cmocka_unit_test(test_every_process_stops_cleanly),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
