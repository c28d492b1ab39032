/*
 * The whole system, end to end: the bus and every domain service (intake,
 * evaluation, funding, ip, stats) as real processes against the test
 * PostgreSQL, and the whole path a real case takes, through ccipctl as the
 * center's staff, the applicant, the agency, the experts, the office,
 * finance, the district and the statisticians would type it (the steps of
 * scripts/demo): a call, an organisation, an application with its
 * documents, its acceptance, the investigation, five reviews, the office's
 * decision, the designation and the monitoring roster, the first quarterly
 * report and the quarter's bulletin; a special-fund project taken to an
 * award, its first tranche paid, the midterm inspection, a work registered
 * in ip and linked to the award, a dispute on the work upheld (the second
 * tranche is held) and lifted (it is paid).
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

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ccip_id.h"
#include "ccip_test.h"
#include "ccip_test_proc.h"
#include "ccip_test_svc.h"
#include "ccip_validate.h"

#define OUT_MAX  (256 * 1024) /* longest ccipctl output read */
#define WAIT_MS  30000        /* longest wait for an event's effect downstream */
#define SLOWER   4            /* waits are this much longer under valgrind */
#define STOP_MS  120000       /* longest wait for a process to exit after SIGTERM */
#define STAFF    "--role staff --actor zhou.min"
#define FSTAFF   "--role staff --actor qian.hong"
#define OFFICE   "--role office --actor office.zhao"
#define FINANCE  "--role finance --actor finance.wang"
#define DISTRICT "--role district --actor district:110105"
#define ANALYST  "--role analyst --actor sun.li"
#define EXPERTS  5

static ccip_test_svc s_svc;
static char s_out[OUT_MAX];     /* the last ccipctl output */
static char s_tag[16];          /* unique to the run: agency, experts, programme */
static int s_wait_ms = WAIT_MS; /* WAIT_MS, longer under valgrind */
static int s_ctl_ms = 3000;     /* ccipctl's wait per attempt */
static int s_valgrind;          /* the processes run under valgrind (test_valgrind) */

/* Each domain service's producer streams (its subscriptions), for the
 * final stream checks. */
static const struct {
    const char *consumer;
    const char *producer;
} s_streams[] = {
    {"intake", "evaluation"},  {"intake", "funding"}, {"evaluation", "intake"},
    {"funding", "evaluation"}, {"funding", "ip"},     {"stats", "intake"},
    {"stats", "evaluation"},   {"stats", "funding"},  {"stats", "ip"},
};
static const char *const s_services[] = {"intake", "evaluation", "funding", "ip", "stats"};
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
        s_wait_ms = WAIT_MS * SLOWER;
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
    static const ccip_test_svc_proc procs[] = {
        {"services/intake/intake", "intake", "intake-sys"},
        {"services/evaluation/evaluation", "evaluation", "evaluation-sys"},
        {"services/funding/funding", "funding", "funding-sys"},
        {"services/ip/ip", "ip", "ip-sys"},
        {"services/stats/stats", "stats", "stats-sys"},
        {NULL, NULL, NULL}};
    return ccip_test_svc_start(&s_svc, "intake", procs);
}

static int s_teardown(void **state)
{
    (void)state;
    ccip_test_svc_stop(&s_svc);
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
    char today[11];                /* YYYY-MM-DD, UTC */
    int year;
} s_case;

/* Registers the organisation (as its own user) and verifies it (staff). */
static void s_organisation(s_case *c)
{
    CTL("--role applicant --actor org:%s intake org register --uscc %s "
        "--name 'Beijing Langyuan Creative Park Operation Co., Ltd.' --type ENTERPRISE "
        "--district Chaoyang --legal-rep 'Zhang Wei' --contact-name 'Liu Yang' "
        "--contact-phone '010-6598 1234' --contact-email office@langyuan.example.cn "
        "--address 'Langjiayuan 6, Jianguo Road, Chaoyang'",
        c->uscc, c->uscc);
    CTL(STAFF " intake org verify %s --note 'checked against the credit register'", c->uscc);
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
    CTL("--role applicant --actor org:%s intake application file --call %s "
        "--title 'Langyuan shared scanning room' --summary 'Scanners shared at cost.' "
        "--district Chaoyang --requested 300000 --budget-line equipment=220000 "
        "--budget-line training=80000 --document project_plan=%s/plan.pdf",
        c->uscc, c->fund_call, s_svc.env.dir);
    s_value(NULL, "id", c->app2, sizeof c->app2);
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
    s_expect("ip", 0, "SELECT count(*) FROM consumer_cursor");
    s_expect("stats", 4, "SELECT count(*) FROM consumer_cursor");
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
    /* intake follows evaluation's events: the applicant sees the approval */
    s_ctl_until("APPLICANT_APPROVED", "--role applicant --actor org:%s intake application show %s",
                c.uscc, c.app);
    s_stats(&c);
    s_fund(&c);
    s_ip_and_hold(&c);
    s_ctl_until("APPLICANT_FUNDED", "--role applicant --actor org:%s intake application show %s",
                c.uscc, c.app2);
    s_streams_settled();
    s_final_state(&c);
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
