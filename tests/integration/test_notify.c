/*
 * The notify service end to end: the real bus and notify processes, real
 * PostgreSQL, a real SMTP server on loopback (Debian's python3-aiosmtpd) and
 * a small HTTP server standing in for the SMS gateway (both
 * tests/integration/notify_sinks.py, started by this test), and stand-ins
 * for every producer (tests/support/ccip_test_producer.h), the gateway's
 * account events included. Commands go through the front door with a
 * person's role, as the gateway sends them. One test per rule of issue 18.
 *
 *   test_notify        the rules that take seconds
 *   test_notify slow   the SMTP server down for 30 s while 200 items are
 *                      made; quiet hours and the digest (they wait for the
 *                      next minute of the Beijing clock)
 *
 * Every test makes its own people and objects (fresh ids), so tests share
 * one bus and one notify and may run in any order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/followup.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/gateway.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip/notify.pb-c.h"
#include "ccip/stats.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test_db.h"
#include "ccip_test_proc.h"
#include "ccip_test_producer.h"

#define PYTHON     "/usr/bin/python3"
#define LEASE_S    3 /* notify.lease_seconds for this suite */
#define WAIT_MS    30000
#define MINUTE_US  60000000LL
#define BEIJING_US (8LL * 3600 * 1000000)

static ccip_test_env s_env;
static void *s_ctx;
static ccip_client *s_front;
static char s_error[700];
static char s_run[16]; /* distinguishes this run's ids */
static char s_sinks[300];
static int s_smtp_port, s_sms_port;
static pid_t s_smtp_pid, s_sms_pid, s_notify_pid;
static char s_cert[400], s_cert_key[400]; /* the SMTP server's certificate and key */
static int s_slow;

/* The stand-ins, by producer. */
enum { P_INTAKE, P_EVALUATION, P_FUNDING, P_IP, P_STATS, P_FOLLOWUP, P_GATEWAY, P_COUNT };
static const char *const s_producer_names[P_COUNT] = {"intake", "evaluation", "funding", "ip",
                                                      "stats",  "followup",   "gateway"};
static ccip_test_producer *s_prod[P_COUNT];

/* ---- helpers --------------------------------------------------------------------- */

static void s_fail_with_logs(const char *what)
{
    fprintf(stderr, "FAILED: %s\n", what);
    ccip_test_env_cleanup(&s_env, 1);
    fail_msg("%s", what);
}

/* A fresh name for this run: "<prefix>-<run>-<n>". */
static const char *s_fresh(const char *prefix)
{
    static char buf[16][80];
    static int n;
    char *b = buf[n % 16];
    snprintf(b, 80, "%s-%s-%d", prefix, s_run, n);
    n++;
    return b;
}

/* A fresh valid unified social credit code in Chaoyang. */
static void s_uscc(char out[19])
{
    static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    static unsigned long long n;
    if (!n)
        n = ((unsigned long long)time(NULL) * 1000003ULL + (unsigned long long)getpid()) %
            1000000000ULL;
    n = (n + 7919) % 1000000000ULL;
    snprintf(out, 19, "91110105%09llu", n);
    out[17] = '0';
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (int)(strchr(cs, out[i]) - cs) * w[i];
    out[17] = cs[(31 - sum % 31) % 31];
    out[18] = '\0';
}

/* Sends `type` to notify as (role, actor) through the front door. Returns
 * the status (sentence in s_error) or -1; *out = the decoded reply. */
static int s_call(const char *role, const char *actor, const char *type,
                  const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc,
                  ProtobufCMessage **out)
{
    if (out)
        *out = NULL;
    size_t len = msg ? protobuf_c_message_get_packed_size(msg) : 0;
    uint8_t *buf = malloc(len ? len : 1);
    if (msg)
        protobuf_c_message_pack(msg, buf);
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = (char *)type;
    env.actor_role = (char *)role;
    env.actor_id = (char *)actor;
    env.payload.data = buf;
    env.payload.len = len;
    char err[256];
    Ccip__Envelope *reply = ccip_client_call(s_front, "notify", &env, 30000, 3, err, sizeof err);
    free(buf);
    if (!reply) {
        snprintf(s_error, sizeof s_error, "no reply: %s", err);
        return -1;
    }
    int status = (int)reply->status;
    snprintf(s_error, sizeof s_error, "%s", reply->error);
    if (status == 0 && out && desc) {
        *out = ccip_payload_unpack(desc, reply->payload.data, reply->payload.len,
                                   reply->payload.len + 1, err, sizeof err);
        if (!*out)
            snprintf(s_error, sizeof s_error, "could not decode the reply: %s", err);
    }
    ccip_envelope_free(&reply);
    return status;
}

static ProtobufCMessage *s_ok(const char *role, const char *actor, const char *type,
                              const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *out = NULL;
    int status = s_call(role, actor, type, msg, desc, &out);
    if (status != 0 || (desc && !out)) {
        char what[1000];
        snprintf(what, sizeof what, "%s as %s %s: status %d: %s", type, role, actor, status,
                 s_error);
        s_fail_with_logs(what);
    }
    return out;
}

static void s_free(void *msg)
{
    if (msg)
        protobuf_c_message_free_unpacked(msg, NULL);
}

/* A number from notify's schema (test-owned SQL with ids made here). */
static long long s_number(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long long s_number(const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return ccip_test_query_number("notify", sql);
}

static long long s_wait_number(long long want, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static long long s_wait_number(long long want, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    return ccip_test_wait_count("notify", sql, want, WAIT_MS);
}

/* Appends an event to a stand-in. */
static void s_event(int p, const char *type, const char *agg_type, const char *agg_id,
                    const ProtobufCMessage *msg)
{
    assert_true(ccip_test_producer_add(s_prod[p], type, agg_type, agg_id, msg, "tester", "staff") >
                0);
}

/* Waits until notify applied everything every stand-in published. */
static void s_applied(void)
{
    for (int p = 0; p < P_COUNT; p++)
        if (ccip_test_producer_wait_applied(s_prod[p], WAIT_MS) < 0)
            s_fail_with_logs("notify did not apply a stand-in producer's events");
}

/* ---- people (the gateway's events) ------------------------------------------------ */

typedef struct {
    char account[CCIP_UUID_STRLEN + 1];
    char login[80];
    char actor[80];
} s_person;

/* An account with a binding acting as `actor` in `role`. */
static void s_person_new(s_person *p, const char *login, const char *name, const char *email,
                         const char *mobile, const char *actor, const char *role)
{
    ccip_uuid_v7(p->account);
    snprintf(p->login, sizeof p->login, "%s", login);
    snprintf(p->actor, sizeof p->actor, "%s", actor);
    Ccip__Gateway__AccountCreated ac = CCIP__GATEWAY__ACCOUNT_CREATED__INIT;
    ac.account_id = p->account;
    ac.login = p->login;
    ac.name = (char *)name;
    ac.email = (char *)email;
    ac.mobile = (char *)mobile;
    s_event(P_GATEWAY, "gateway.account.created.v1", "account", p->account, &ac.base);
    char bid[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(bid);
    char *roles[] = {(char *)role};
    Ccip__Gateway__Binding b = CCIP__GATEWAY__BINDING__INIT;
    b.id = bid;
    b.status = CCIP__GATEWAY__BINDING_STATUS__ACTIVE;
    b.actor_id = p->actor;
    b.roles = roles;
    b.n_roles = 1;
    Ccip__Gateway__BindingChanged bc = CCIP__GATEWAY__BINDING_CHANGED__INIT;
    bc.account_id = p->account;
    bc.login = p->login;
    bc.binding = &b;
    s_event(P_GATEWAY, "gateway.account.binding_granted.v1", "account", p->account, &bc.base);
    /* People are known before anything is addressed to them (a new item
     * reaches the accounts known when it is made). */
    if (ccip_test_producer_wait_applied(s_prod[P_GATEWAY], WAIT_MS) < 0)
        s_fail_with_logs("notify did not apply the gateway's events");
}

/* Sets login's preferences as the person. */
static void s_prefs(const s_person *p, const char *language, const char *quiet_start,
                    const char *quiet_end, int digest, const char *digest_time,
                    Ccip__Notify__KindChannels **kinds, size_t nkinds)
{
    char me[100];
    snprintf(me, sizeof me, "person:%s", p->login);
    Ccip__Notify__SetPreferencesRequest rq = CCIP__NOTIFY__SET_PREFERENCES_REQUEST__INIT;
    rq.login = (char *)p->login;
    rq.language = (char *)language;
    rq.quiet_start = (char *)quiet_start;
    rq.quiet_end = (char *)quiet_end;
    rq.digest = digest;
    rq.digest_time = (char *)digest_time;
    rq.kinds = kinds;
    rq.n_kinds = nkinds;
    s_free(s_ok("staff", "person:staff-admin", "notify.preferences.set.v1", &rq.base,
                &ccip__notify__preferences_reply__descriptor));
}

/* ---- applications (intake's events) -------------------------------------------------- */

/* intake.application.submitted.v1 of application `id` by `uscc`. */
static void s_submitted(const char *id, const char *uscc, const char *title)
{
    Ccip__Intake__ApplicationSubmitted m = CCIP__INTAKE__APPLICATION_SUBMITTED__INIT;
    m.application_id = (char *)id;
    m.applicant_uscc = (char *)uscc;
    m.applicant_name = "Org";
    m.title = (char *)title;
    m.submitted_at_us = ccip_now_us();
    s_event(P_INTAKE, "intake.application.submitted.v1", "application", id, &m.base);
}

static void s_returned(const char *id, const char *uscc, const char *reason)
{
    Ccip__Intake__ApplicationTransitioned m = CCIP__INTAKE__APPLICATION_TRANSITIONED__INIT;
    m.application_id = (char *)id;
    m.applicant_uscc = (char *)uscc;
    m.from_status = CCIP__INTAKE__APPLICATION_STATUS__SUBMITTED;
    m.to_status = CCIP__INTAKE__APPLICATION_STATUS__RETURNED;
    m.reason = (char *)reason;
    m.at_us = ccip_now_us();
    s_event(P_INTAKE, "intake.application.returned.v1", "application", id, &m.base);
}

/* ---- the sinks ------------------------------------------------------------------------------ */

/* Makes a self-signed certificate for 127.0.0.1 (s_cert, s_cert_key) with
 * openssl: the SMTP server offers STARTTLS with it, and notify verifies the
 * relay against it (notify.smtp_ca_file). Returns 0 or -1. */
static int s_cert_make(void)
{
    char cmd[1400];
    snprintf(s_cert, sizeof s_cert, "%s/smtp-cert.pem", s_env.dir);
    snprintf(s_cert_key, sizeof s_cert_key, "%s/smtp-key.pem", s_env.dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 -keyout '%s' -out '%s' >'%s/openssl.log' 2>&1",
             s_cert_key, s_cert, s_env.dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not make the SMTP server's certificate (%s/openssl.log)\n",
                s_env.dir);
        s_cert[0] = '\0';
        return -1;
    }
    return 0;
}

/* Starts notify_sinks.py in `mode` on port; waits for it to listen. */
static pid_t s_sink_start(const char *mode, int port)
{
    char ready[400], script[400], ports[16], log[400];
    snprintf(ready, sizeof ready, "%s/%s.ready", s_sinks, mode);
    unlink(ready);
    snprintf(script, sizeof script, "%s/tests/integration/notify_sinks.py",
             getenv("CCIP_SOURCE_DIR"));
    snprintf(ports, sizeof ports, "%d", port);
    snprintf(log, sizeof log, "%s/sink-%s.log", s_env.dir, mode);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the test */
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        if (strcmp(mode, "smtp") == 0 && s_cert[0]) /* offers STARTTLS */
            execl(PYTHON, PYTHON, script, mode, ports, s_sinks, s_cert, s_cert_key, (char *)NULL);
        else
            execl(PYTHON, PYTHON, script, mode, ports, s_sinks, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        if (access(ready, F_OK) == 0)
            return pid;
        ccip_test_sleep_ms(50);
    }
    fprintf(stderr, "the %s sink did not start (see %s)\n", mode, log);
    return -1;
}

static void s_sink_stop(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGTERM);
        waitpid(*pid, NULL, 0);
    }
    *pid = 0;
}

/* Reads a whole file into a malloc'd string (NULL when it cannot). */
static char *s_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

/* How many files of DIR/sub contain `needle` (every file when NULL). With
 * found, the first such file's content is returned there (caller frees). */
static int s_files_with(const char *sub, const char *needle, char **found)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/%s", s_sinks, sub);
    DIR *d = opendir(dir);
    if (found)
        *found = NULL;
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp"))
            continue;
        char path[800];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *s = s_slurp(path);
        if (s && (!needle || strstr(s, needle))) {
            n++;
            if (found && !*found) {
                *found = s;
                s = NULL;
            }
        }
        free(s);
    }
    closedir(d);
    return n;
}

/* Occurrences of needle in DIR/name ("\n": its lines). */
static int s_lines_with(const char *name, const char *needle)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", s_sinks, name);
    char *s = s_slurp(path);
    int n = 0;
    for (char *p = s; p && (p = strstr(p, needle)); p++)
        n++;
    free(s);
    return n;
}

/* Waits until `want` mails contain needle. Returns how many do. */
static int s_wait_mails(const char *needle, int want, int timeout_ms)
{
    int n = 0;
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        if ((n = s_files_with("mail", needle, NULL)) >= want)
            return n;
        ccip_test_sleep_ms(100);
    }
    return n;
}

/* Decodes the base64 body that follows the header `part` in mail. */
static void s_part(const char *mail, const char *part, char *out, size_t cap)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out[0] = '\0';
    const char *p = strstr(mail, part);
    p = p ? strstr(p, "\r\n\r\n") : NULL;
    if (!p)
        return;
    unsigned v = 0;
    int bits = 0;
    size_t n = 0;
    for (p += 4; *p && !(p[0] == '-' && p[1] == '-'); p++) {
        const char *at = strchr(b64, *p);
        if (!at || !*p)
            continue;
        v = v << 6 | (unsigned)(at - b64);
        bits += 6;
        if (bits >= 8 && n + 1 < cap) {
            bits -= 8;
            out[n++] = (char)(v >> bits & 0xFF);
        }
    }
    out[n] = '\0';
}

/* ---- notify itself --------------------------------------------------------------------------- */

static int s_notify_start(void)
{
    s_notify_pid = ccip_test_start_service(&s_env, "services/notify/notify", "notify", "notify-1");
    if (s_notify_pid < 0)
        return -1;
    for (int i = 0; i < 150; i++) {
        Ccip__Notify__CountInboxRequest rq = CCIP__NOTIFY__COUNT_INBOX_REQUEST__INIT;
        if (s_call("staff", "person:ping", "notify.inbox.count.v1", &rq.base, NULL, NULL) == 0)
            return 0;
        ccip_test_sleep_ms(100);
    }
    fprintf(stderr, "notify did not answer: %s\n", s_error);
    return -1;
}

/* Empties schema notify (as its owner: ccip_notify_owner when
 * bootstrap.sql made one, else ccip_notify): every table and
 * function goes, and notify migrates afresh when it starts. test_notify and
 * test_notify slow share the schema, and the stand-in producers only know
 * the events of their own run: the rebuild test replays from position 1,
 * so it needs a schema that has seen nothing before this run. */
static int s_schema_reset(void)
{
    ccip_db *db = ccip_test_db_connect_in("notify_owner", "notify");
    if (!db)
        db = ccip_test_db_connect_in("notify", "notify");
    if (!db) {
        fprintf(stderr, "could not reach schema notify: %s\n", ccip_test_db_error());
        return -1;
    }
    ccip_db_rc rc = ccip_db_command(
        db, "DO $$DECLARE r record; BEGIN "
            "FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
            "c.relnamespace WHERE n.nspname = 'notify' AND c.relkind IN ('r', 'p') LOOP "
            "EXECUTE format('DROP TABLE IF EXISTS notify.%I CASCADE', r.relname); END LOOP; "
            "FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p JOIN pg_namespace n ON "
            "n.oid = p.pronamespace WHERE n.nspname = 'notify' LOOP "
            "EXECUTE format('DROP FUNCTION %s CASCADE', r.f); END LOOP; END$$");
    if (rc != CCIP_DB_OK)
        fprintf(stderr, "could not empty schema notify: %s\n", ccip_db_error(db));
    ccip_db_destroy(&db);
    return rc == CCIP_DB_OK ? 0 : -1;
}

static int s_group_setup(void **state)
{
    (void)state;
    snprintf(s_run, sizeof s_run, "%lx%x", (unsigned long)time(NULL) % 0xfffffff,
             (unsigned)getpid() % 0xfff);
    if (s_schema_reset() < 0 || ccip_test_env_init(&s_env) < 0)
        return -1;
    snprintf(s_sinks, sizeof s_sinks, "%s/sinks", s_env.dir);
    mkdir(s_sinks, 0700);
    /* the SMTP server keeps each message, then takes 10 ms to say so: a
     * SIGKILL of notify then mostly finds a message sent and not recorded */
    setenv("NOTIFY_SINK_DELAY_MS", "10", 1);
    s_smtp_port = ccip_test_free_port();
    s_sms_port = ccip_test_free_port();
    if (s_cert_make() < 0 || (s_smtp_pid = s_sink_start("smtp", s_smtp_port)) < 0 ||
        (s_sms_pid = s_sink_start("sms", s_sms_port)) < 0)
        return -1;
    char v[300];
    snprintf(v, sizeof v, "smtp://127.0.0.1:%d", s_smtp_port);
    setenv("CCIP_NOTIFY_SMTP_URL", v, 1);
    setenv("CCIP_NOTIFY_SMTP_TLS", "try", 1); /* STARTTLS, since the server offers it */
    setenv("CCIP_NOTIFY_SMTP_CA_FILE", s_cert, 1);
    snprintf(v, sizeof v, "http://127.0.0.1:%d/send?to={mobile}&id={id}", s_sms_port);
    setenv("CCIP_NOTIFY_SMS_URL", v, 1);
    setenv("CCIP_NOTIFY_SMS_KEY", "test-key", 1);
    setenv("CCIP_NOTIFY_MAIL_FROM", "noreply@ccip.test", 1);
    setenv("CCIP_NOTIFY_CONSOLE_URL", "https://console.ccip.test", 1);
    snprintf(v, sizeof v, "%d", LEASE_S);
    setenv("CCIP_NOTIFY_LEASE_SECONDS", v, 1);
    setenv("CCIP_NOTIFY_RETRY_MIN_MS", "200", 1);
    setenv("CCIP_NOTIFY_RETRY_MAX_SECONDS", "2", 1);
    setenv("CCIP_NOTIFY_POLL_MS", "100", 1);
    setenv("CCIP_NOTIFY_SEND_TIMEOUT_SECONDS", "5", 1);
    /* a rebuild writes three events at a time: most items are settled by an
     * event of a later flush, which only the rebuild's closing pass after
     * the last flush closes (notify_batch_close_all), some by one of the
     * same flush, which the item's INSERT finds */
    setenv("CCIP_NOTIFY_REBUILD_BATCH", "3", 1);
    s_ctx = zmq_ctx_new();
    ccip_sock_opts front = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    char err[256];
    if (ccip_test_start_bus(&s_env) < 0 ||
        !(s_front = ccip_client_new(s_ctx, s_env.commands, &front, err, sizeof err)) ||
        s_notify_start() < 0) {
        ccip_test_env_cleanup(&s_env, 1);
        return -1;
    }
    for (int p = 0; p < P_COUNT; p++)
        if (!(s_prod[p] = ccip_test_producer_start(&s_env, s_ctx, s_producer_names[p], "notify"))) {
            ccip_test_env_cleanup(&s_env, 1);
            return -1;
        }
    return 0;
}

static int s_group_teardown(void **state)
{
    (void)state;
    for (int p = 0; p < P_COUNT; p++)
        ccip_test_producer_stop(&s_prod[p]);
    ccip_client_destroy(&s_front);
    s_sink_stop(&s_smtp_pid);
    s_sink_stop(&s_sms_pid);
    ccip_test_env_cleanup(&s_env, 0);
    return 0;
}

/* ---- reads --------------------------------------------------------------------------------------
 */

static Ccip__Notify__ListInboxReply *s_list(const char *role, const char *actor,
                                            Ccip__Notify__ItemState state, const char *service)
{
    Ccip__Notify__ListInboxRequest rq = CCIP__NOTIFY__LIST_INBOX_REQUEST__INIT;
    rq.state = state;
    rq.service = (char *)service;
    rq.limit = 500;
    return (Ccip__Notify__ListInboxReply *)s_ok(role, actor, "notify.inbox.list.v1", &rq.base,
                                                &ccip__notify__list_inbox_reply__descriptor);
}

/* The item about object_id of kind in a list, or NULL. */
static Ccip__Notify__Item *s_find(Ccip__Notify__ListInboxReply *l, const char *kind,
                                  const char *object_id)
{
    for (size_t i = 0; i < l->n_items; i++)
        if (strcmp(l->items[i]->kind, kind) == 0 && strcmp(l->items[i]->object_id, object_id) == 0)
            return l->items[i];
    return NULL;
}

/* Runs the build's ccipctl against the suite's bus (front-door key) with
 * the arguments fmt makes (test-owned, quoted by the caller); its stdout
 * into out. Returns its exit status. */
static int s_ctl(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int s_ctl(char *out, size_t len, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd,
             "CCIP_BUS_COMMANDS='%s' CCIP_CURVE_KEY_FILE='%s/allowed/ccipctl.key' "
             "CCIP_CURVE_SERVER_KEY_FILE='%s/keys/bus.pub' '%s/cli/ccipctl' %s",
             s_env.commands, s_env.dir, s_env.dir, getenv("CCIP_BINARY_DIR"), args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- the rules ----------------------------------------------------------------------------------
 */

/* Rule: a person sees only their own items, through every read: list,
 * count, get, deliveries and preferences. */
static void test_own_items_only(void **state)
{
    (void)state;
    char a[19], b[19], actor_a[40], actor_b[40];
    s_uscc(a);
    s_uscc(b);
    snprintf(actor_a, sizeof actor_a, "org:%s", a);
    snprintf(actor_b, sizeof actor_b, "org:%s", b);
    s_person pa, pb;
    s_person_new(&pa, s_fresh("alice"), "Alice", "alice@a.test", "13800000001", actor_a,
                 "applicant");
    s_person_new(&pb, s_fresh("bob"), "Bob", "bob@b.test", "13800000002", actor_b, "applicant");
    char app_a[CCIP_UUID_STRLEN + 1], app_b[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(app_a);
    ccip_uuid_v7(app_b);
    s_submitted(app_a, a, "Park A");
    s_submitted(app_b, b, "Park B");
    s_returned(app_a, a, "budget missing");
    s_returned(app_b, b, "map missing");
    s_applied();

    /* list: each sees its own return, not the other's */
    Ccip__Notify__ListInboxReply *la = s_list("applicant", actor_a, 0, "");
    Ccip__Notify__Item *ia = s_find(la, "application_returned", app_a);
    assert_non_null(ia);
    assert_null(s_find(la, "application_returned", app_b));
    for (size_t i = 0; i < la->n_items; i++)
        assert_string_equal(la->items[i]->addressee, actor_a);
    assert_string_equal(ia->subject, "Park A"); /* the title intake's submission gave */
    assert_string_equal(ia->detail, "budget missing");
    assert_string_equal(ia->service, "intake");
    assert_int_equal(ia->state, CCIP__NOTIFY__ITEM_STATE__OPEN);
    char link[120];
    snprintf(link, sizeof link, "/applications/%s", app_a);
    assert_string_equal(ia->link, link);
    assert_true(strstr(ia->title, "Park A") != NULL);
    char item_a[64];
    snprintf(item_a, sizeof item_a, "%s", ia->id);
    /* staff see their queue (role:staff), never an applicant's items */
    Ccip__Notify__ListInboxReply *ls = s_list("staff", "person:staff-wang", 0, "intake");
    for (size_t i = 0; i < ls->n_items; i++)
        assert_string_equal(ls->items[i]->addressee, "role:staff");
    assert_null(s_find(ls, "application_returned", app_a));
    s_free(ls);
    s_free(la);

    /* count: one open return for a */
    Ccip__Notify__CountInboxRequest cq = CCIP__NOTIFY__COUNT_INBOX_REQUEST__INIT;
    Ccip__Notify__CountInboxReply *ca = (Ccip__Notify__CountInboxReply *)s_ok(
        "applicant", actor_a, "notify.inbox.count.v1", &cq.base,
        &ccip__notify__count_inbox_reply__descriptor);
    assert_int_equal(ca->open, 1);
    assert_int_equal(ca->n_by_service, 1);
    assert_string_equal(ca->by_service[0]->service, "intake");
    s_free(ca);

    /* get: b (and staff) cannot read a's item, exactly as if it did not exist */
    Ccip__Notify__GetItemRequest gq = CCIP__NOTIFY__GET_ITEM_REQUEST__INIT;
    gq.item_id = item_a;
    assert_int_equal(s_call("applicant", actor_b, "notify.inbox.get.v1", &gq.base, NULL, NULL),
                     CCIP__STATUS__NOT_FOUND);
    assert_int_equal(
        s_call("staff", "person:staff-wang", "notify.inbox.get.v1", &gq.base, NULL, NULL),
        CCIP__STATUS__NOT_FOUND);
    Ccip__Notify__ItemReply *got =
        (Ccip__Notify__ItemReply *)s_ok("applicant", actor_a, "notify.inbox.get.v1", &gq.base,
                                        &ccip__notify__item_reply__descriptor);
    assert_string_equal(got->item->id, item_a);
    s_free(got);

    /* deliveries: b lists none of a's; a lists its own */
    if (s_wait_number(1, "SELECT count(*) FROM delivery WHERE item_id = '%s' AND state = 'SENT'",
                      item_a) < 1)
        s_fail_with_logs("a's delivery was not sent");
    Ccip__Notify__ListDeliveriesRequest dq = CCIP__NOTIFY__LIST_DELIVERIES_REQUEST__INIT;
    dq.item_id = item_a;
    Ccip__Notify__ListDeliveriesReply *db = (Ccip__Notify__ListDeliveriesReply *)s_ok(
        "applicant", actor_b, "notify.delivery.list.v1", &dq.base,
        &ccip__notify__list_deliveries_reply__descriptor);
    assert_int_equal(db->n_deliveries, 0);
    s_free(db);
    /* nor without a filter: the unfiltered list is b's own deliveries only */
    Ccip__Notify__ListDeliveriesRequest all = CCIP__NOTIFY__LIST_DELIVERIES_REQUEST__INIT;
    all.limit = 500;
    db = (Ccip__Notify__ListDeliveriesReply *)s_ok(
        "applicant", actor_b, "notify.delivery.list.v1", &all.base,
        &ccip__notify__list_deliveries_reply__descriptor);
    assert_int_equal(db->n_deliveries, 2); /* b's return: e-mail and SMS */
    for (size_t i = 0; i < db->n_deliveries; i++)
        assert_string_equal(db->deliveries[i]->login, pb.login);
    s_free(db);
    Ccip__Notify__ListDeliveriesReply *da = (Ccip__Notify__ListDeliveriesReply *)s_ok(
        "applicant", actor_a, "notify.delivery.list.v1", &dq.base,
        &ccip__notify__list_deliveries_reply__descriptor);
    assert_int_equal(da->n_deliveries, 2); /* e-mail and SMS */
    s_free(da);

    /* preferences: b may not read a's */
    Ccip__Notify__GetPreferencesRequest pq = CCIP__NOTIFY__GET_PREFERENCES_REQUEST__INIT;
    pq.login = pa.login;
    assert_int_equal(
        s_call("applicant", actor_b, "notify.preferences.get.v1", &pq.base, NULL, NULL),
        CCIP__STATUS__PERMISSION_DENIED);
    Ccip__Notify__PreferencesReply *pr = (Ccip__Notify__PreferencesReply *)s_ok(
        "applicant", actor_a, "notify.preferences.get.v1", &pq.base,
        &ccip__notify__preferences_reply__descriptor);
    assert_string_equal(pr->preferences->email, "alice@a.test");
    s_free(pr);
}

/* Items close by themselves: the resubmission settles the return. */
static void test_items_close_by_themselves(void **state)
{
    (void)state;
    char a[19], actor[40], app[CCIP_UUID_STRLEN + 1];
    s_uscc(a);
    snprintf(actor, sizeof actor, "org:%s", a);
    ccip_uuid_v7(app);
    s_submitted(app, a, "Design Park");
    s_returned(app, a, "signature missing");
    s_applied();
    Ccip__Notify__ListInboxReply *l = s_list("applicant", actor, 0, "");
    assert_non_null(s_find(l, "application_returned", app));
    s_free(l);
    s_submitted(app, a, "Design Park");
    s_applied();
    l = s_list("applicant", actor, 0, "");
    assert_null(s_find(l, "application_returned", app)); /* no longer waiting */
    s_free(l);
    l = s_list("applicant", actor, CCIP__NOTIFY__ITEM_STATE__DONE, "");
    Ccip__Notify__Item *it = s_find(l, "application_returned", app);
    assert_non_null(it);
    assert_string_equal(it->closed_by, "intake.application.submitted.v1");
    s_free(l);
}

/* evaluation's task events, as evaluation publishes them (TaskNotice). */
static void s_task_event(const char *type, Ccip__Evaluation__SubjectKind kind, const char *task,
                         const char *subject, const char *app, const char *title)
{
    Ccip__Evaluation__Task t = CCIP__EVALUATION__TASK__INIT;
    t.kind = kind;
    t.task_id = (char *)task;
    t.application_id = (char *)app;
    t.subject_id = (char *)subject;
    t.case_title = (char *)title;
    t.applicant_name = "Lantern Works Ltd.";
    t.due_at_us = ccip_now_us() + 14 * 24 * 3600 * 1000000LL;
    Ccip__Evaluation__TaskNotice n = CCIP__EVALUATION__TASK_NOTICE__INIT;
    n.task = &t;
    s_event(P_EVALUATION, type, "task", task, &n.base);
}

/* Items close by themselves, for experts and agencies too: a review
 * assigned, its reminder and its overdue notice (and staff's) all close
 * when the review is submitted (evaluation.task.ended.v1); the agency's
 * stays open until its own task ends; the expert hears of the new review by
 * e-mail. */
static void test_task_items_close_when_the_task_ends(void **state)
{
    (void)state;
    char expert[64], agency[64], other[64], app[CCIP_UUID_STRLEN + 1], review[CCIP_UUID_STRLEN + 1],
        inv[CCIP_UUID_STRLEN + 1], title[64];
    snprintf(expert, sizeof expert, "EX-%s", s_run);
    snprintf(agency, sizeof agency, "AG-%s", s_run);
    snprintf(other, sizeof other, "agency:AG2-%s", s_run);
    snprintf(title, sizeof title, "Lantern Park %s", s_run);
    ccip_uuid_v7(app);
    ccip_uuid_v7(review);
    ccip_uuid_v7(inv);
    char expert_actor[80], agency_actor[80];
    snprintf(expert_actor, sizeof expert_actor, "expert:%s", expert);
    snprintf(agency_actor, sizeof agency_actor, "agency:%s", agency);
    s_person p;
    s_person_new(&p, s_fresh("prof"), "Prof. Wang", "prof.wang@univ.test", "", expert_actor,
                 "expert");
    s_prefs(&p, "en", "", "", 0, "", NULL, 0);
    const Ccip__Evaluation__SubjectKind EX = CCIP__EVALUATION__SUBJECT_KIND__EXPERT,
                                        AG = CCIP__EVALUATION__SUBJECT_KIND__AGENCY;
    s_task_event("evaluation.task.assigned.v1", EX, review, expert, app, title);
    s_task_event("evaluation.task.assigned.v1", AG, inv, agency, app, title);
    s_task_event("evaluation.task.reminder.v1", EX, review, expert, app, title);
    s_task_event("evaluation.task.overdue.v1", EX, review, expert, app, title);
    s_applied();
    Ccip__Notify__ListInboxReply *l =
        s_list("expert", expert_actor, CCIP__NOTIFY__ITEM_STATE__OPEN, "");
    const char *const mine[] = {"review_assigned", "review_due", "review_overdue"};
    for (size_t i = 0; i < 3; i++) {
        Ccip__Notify__Item *it = s_find(l, mine[i], app);
        assert_non_null(it);
        assert_string_equal(it->subject, title);
        assert_string_equal(it->service, "evaluation");
    }
    assert_null(s_find(l, "investigation_assigned", app)); /* the agency's, not the expert's */
    s_free(l);
    l = s_list("staff", "person:staff-wang", CCIP__NOTIFY__ITEM_STATE__OPEN, "evaluation");
    assert_non_null(s_find(l, "task_overdue", app));
    s_free(l);
    l = s_list("agency", agency_actor, CCIP__NOTIFY__ITEM_STATE__OPEN, "");
    assert_non_null(s_find(l, "investigation_assigned", app));
    s_free(l);
    l = s_list("agency", other, 0, "");
    assert_int_equal(l->n_items, 0);
    s_free(l);
    /* the new review reached the expert by e-mail (and only that item did
     * so far: one e-mail per item) */
    char needle[160];
    snprintf(needle, sizeof needle, "Subject: New review: %s", title);
    if (s_wait_mails(needle, 1, WAIT_MS) != 1)
        s_fail_with_logs("the expert's e-mail about the new review did not arrive");

    /* the review submitted: every item of that task closes, the agency's not */
    s_task_event("evaluation.task.ended.v1", EX, review, expert, app, title);
    s_applied();
    l = s_list("expert", expert_actor, CCIP__NOTIFY__ITEM_STATE__OPEN, "");
    for (size_t i = 0; i < 3; i++)
        assert_null(s_find(l, mine[i], app));
    s_free(l);
    l = s_list("expert", expert_actor, CCIP__NOTIFY__ITEM_STATE__DONE, "");
    for (size_t i = 0; i < 3; i++) {
        Ccip__Notify__Item *it = s_find(l, mine[i], app);
        assert_non_null(it);
        assert_string_equal(it->closed_by, "evaluation.task.ended.v1");
    }
    s_free(l);
    l = s_list("staff", "person:staff-wang", CCIP__NOTIFY__ITEM_STATE__DONE, "evaluation");
    assert_non_null(s_find(l, "task_overdue", app));
    s_free(l);
    l = s_list("agency", agency_actor, CCIP__NOTIFY__ITEM_STATE__OPEN, "");
    assert_non_null(s_find(l, "investigation_assigned", app));
    s_free(l);
    s_task_event("evaluation.task.ended.v1", AG, inv, agency, app, title);
    s_applied();
    l = s_list("agency", agency_actor, CCIP__NOTIFY__ITEM_STATE__OPEN, "");
    assert_null(s_find(l, "investigation_assigned", app));
    s_free(l);
}

/* One item in the OPEN list of (role, actor), of kind about object_id; NULL
 * when there is none. The caller frees *l. */
static Ccip__Notify__Item *s_open_item(Ccip__Notify__ListInboxReply **l, const char *role,
                                       const char *actor, const char *kind, const char *object_id)
{
    *l = s_list(role, actor, CCIP__NOTIFY__ITEM_STATE__OPEN, "");
    return s_find(*l, kind, object_id);
}

/* Asserts that (role, actor) has a DONE item of kind about object_id,
 * closed by `by`. */
static void s_done_by(const char *role, const char *actor, const char *kind, const char *object_id,
                      const char *by)
{
    Ccip__Notify__ListInboxReply *l = s_list(role, actor, CCIP__NOTIFY__ITEM_STATE__DONE, "");
    Ccip__Notify__Item *it = s_find(l, kind, object_id);
    if (!it) {
        char what[300];
        snprintf(what, sizeof what, "no DONE %s item about %s for %s %s", kind, object_id, role,
                 actor);
        s_fail_with_logs(what);
    }
    assert_string_equal(it->closed_by, by);
    s_free(l);
    l = s_list(role, actor, CCIP__NOTIFY__ITEM_STATE__OPEN, "");
    assert_null(s_find(l, kind, object_id));
    s_free(l);
}

/* The items of the center's own steps (issue 18's "decision waiting",
 * "payment waiting for the second approval", "inspection due", "reports to
 * review", "quarter complete") and the operator's "quarterly report due":
 * each reaches the role or organisation that acts on it and nobody else,
 * and closes with the event that settles it; a rebuild by replay then gives
 * the same inboxes. */
static void test_center_items_open_and_close(void **state)
{
    (void)state;
    char uscc[19], org[40], app[CCIP_UUID_STRLEN + 1], kase[CCIP_UUID_STRLEN + 1],
        award[CCIP_UUID_STRLEN + 1], pay[CCIP_UUID_STRLEN + 1], pay2[CCIP_UUID_STRLEN + 1],
        pay3[CCIP_UUID_STRLEN + 1], insp[CCIP_UUID_STRLEN + 1], report[CCIP_UUID_STRLEN + 1],
        roster[CCIP_UUID_STRLEN + 1], title[64], quarter[16];
    s_uscc(uscc);
    snprintf(org, sizeof org, "org:%s", uscc);
    snprintf(title, sizeof title, "Kiln Yard %s", s_run);
    /* a quarter of this run's own (years 2100..2199): nothing else completes it */
    snprintf(quarter, sizeof quarter, "21%02dQ%d", (int)(strtoul(s_run, NULL, 16) % 100),
             (int)(getpid() % 4) + 1);
    ccip_uuid_v7(app);
    ccip_uuid_v7(kase);
    ccip_uuid_v7(award);
    ccip_uuid_v7(pay);
    ccip_uuid_v7(pay2);
    ccip_uuid_v7(pay3);
    ccip_uuid_v7(insp);
    ccip_uuid_v7(report);
    ccip_uuid_v7(roster);
    const char *OFFICE = "person:office-li", *FINANCE = "person:finance-wang",
               *STAFF = "person:staff-wang", *ANALYST = "person:analyst-chen";

    /* evaluation: staff sent the complete case to the office */
    Ccip__Evaluation__CaseSubmitted cs = CCIP__EVALUATION__CASE_SUBMITTED__INIT;
    cs.case_id = kase;
    cs.application_id = app;
    cs.title = title;
    cs.applicant_uscc = uscc;
    cs.round = 1;
    cs.note = "report and five reviews in";
    s_event(P_EVALUATION, "evaluation.case.submitted.v1", "case", kase, &cs.base);
    /* funding: a payment with its first of two approvals; one that needs no
     * second (no item); one approved once, then cancelled; an inspection */
    Ccip__Funding__Payment p = CCIP__FUNDING__PAYMENT__INIT;
    p.id = pay;
    p.award_id = award;
    p.tranche_number = 1;
    p.amount_fen = 250000000;
    p.status = CCIP__FUNDING__PAYMENT_STATUS__PAYMENT_PENDING;
    p.needs_second_approval = 1;
    p.first_approver = "finance-zhao";
    Ccip__Funding__PaymentChanged pc = CCIP__FUNDING__PAYMENT_CHANGED__INIT;
    pc.payment = &p;
    pc.grantee_uscc = uscc;
    s_event(P_FUNDING, "funding.payment.approved.v1", "application", app, &pc.base);
    p.id = pay2;
    p.needs_second_approval = 0;
    s_event(P_FUNDING, "funding.payment.approved.v1", "application", app, &pc.base);
    p.id = pay3;
    p.needs_second_approval = 1;
    s_event(P_FUNDING, "funding.payment.approved.v1", "application", app, &pc.base);
    int64_t when = (ccip_now_us() / 1000000 + 20 * 86400) * 1000000;
    Ccip__Funding__Inspection in = CCIP__FUNDING__INSPECTION__INIT;
    in.id = insp;
    in.award_id = award;
    in.kind = CCIP__FUNDING__INSPECTION_KIND__MIDTERM;
    in.scheduled_for_us = when;
    in.inspector = "Zhang Wei";
    Ccip__Funding__InspectionScheduled is = CCIP__FUNDING__INSPECTION_SCHEDULED__INIT;
    is.inspection = &in;
    is.grantee_uscc = uscc;
    s_event(P_FUNDING, "funding.inspection.scheduled.v1", "application", app, &is.base);
    /* stats: a report submitted, approved by its district; the quarter complete */
    Ccip__Stats__ReportChanged rep = CCIP__STATS__REPORT_CHANGED__INIT;
    rep.report_id = report;
    rep.roster_id = roster;
    rep.district_code = "110105";
    rep.quarter = quarter;
    s_event(P_STATS, "stats.report.submitted.v1", "report", report, &rep.base);
    s_event(P_STATS, "stats.report.district_approved.v1", "report", report, &rep.base);
    Ccip__Stats__QuarterCompleted qc = CCIP__STATS__QUARTER_COMPLETED__INIT;
    qc.quarter = quarter;
    qc.reports = 1;
    s_event(P_STATS, "stats.quarter.completed.v1", "quarter", quarter, &qc.base);
    /* another entry of the organisation has not filed its report yet */
    char roster2[CCIP_UUID_STRLEN + 1], report2[CCIP_UUID_STRLEN + 1], other[19], other_org[40];
    ccip_uuid_v7(roster2);
    ccip_uuid_v7(report2);
    s_uscc(other);
    snprintf(other_org, sizeof other_org, "org:%s", other);
    Ccip__Stats__ReportDue due = CCIP__STATS__REPORT_DUE__INIT;
    due.roster_id = roster2;
    due.roster_name = "Kiln Yard training base";
    due.district_code = "110105";
    due.operator_uscc = uscc;
    due.quarter = quarter;
    due.due_at_us = when;
    s_event(P_STATS, "stats.report.due.v1", "roster_entry", roster2, &due.base);
    s_applied();

    Ccip__Notify__ListInboxReply *l = NULL;
    /* the office's decision waits; staff, finance and the applicant see none of it */
    Ccip__Notify__Item *it = s_open_item(&l, "office", OFFICE, "decision_waiting", app);
    assert_non_null(it);
    assert_string_equal(it->addressee, "role:office");
    assert_string_equal(it->subject, title);
    assert_string_equal(it->detail, "report and five reviews in");
    assert_string_equal(it->service, "evaluation");
    s_free(l);
    assert_null(s_open_item(&l, "staff", STAFF, "decision_waiting", app));
    s_free(l);
    assert_null(s_open_item(&l, "finance", FINANCE, "decision_waiting", app));
    s_free(l);
    assert_null(s_open_item(&l, "applicant", org, "decision_waiting", app));
    s_free(l);
    /* finance's second approvals: two (the payment without four eyes made none) */
    l = s_list("finance", FINANCE, CCIP__NOTIFY__ITEM_STATE__OPEN, "funding");
    int seconds = 0;
    for (size_t i = 0; i < l->n_items; i++)
        if (strcmp(l->items[i]->kind, "payment_second_approval") == 0 &&
            strcmp(l->items[i]->object_id, award) == 0) {
            assert_string_equal(l->items[i]->addressee, "role:finance");
            assert_non_null(strstr(l->items[i]->detail, "finance-zhao"));
            seconds++;
        }
    assert_int_equal(seconds, 2);
    s_free(l);
    assert_null(s_open_item(&l, "staff", STAFF, "payment_second_approval", award));
    s_free(l);
    assert_null(s_open_item(&l, "applicant", org, "payment_second_approval", award));
    s_free(l);
    /* staff's inspection, due on its date */
    it = s_open_item(&l, "staff", STAFF, "inspection_due", award);
    assert_non_null(it);
    assert_string_equal(it->addressee, "role:staff");
    assert_true(it->due_us == when);
    assert_non_null(strstr(it->detail, "Zhang Wei"));
    s_free(l);
    assert_null(s_open_item(&l, "finance", FINANCE, "inspection_due", award));
    s_free(l);
    assert_null(s_open_item(&l, "applicant", org, "inspection_due", award));
    s_free(l);
    /* the district approved: its review is done, the center's acceptance waits */
    s_done_by("district", "district:110105", "quarterly_report_to_review", report,
              "stats.report.district_approved.v1");
    it = s_open_item(&l, "staff", STAFF, "quarterly_report_to_accept", report);
    assert_non_null(it);
    assert_string_equal(it->subject, quarter);
    s_free(l);
    assert_null(
        s_open_item(&l, "district", "district:110105", "quarterly_report_to_accept", report));
    s_free(l);
    assert_null(s_open_item(&l, "analyst", ANALYST, "quarterly_report_to_accept", report));
    s_free(l);
    /* the analysts' quarter */
    it = s_open_item(&l, "analyst", ANALYST, "quarter_complete", quarter);
    assert_non_null(it);
    assert_string_equal(it->addressee, "role:analyst");
    s_free(l);
    assert_null(s_open_item(&l, "staff", STAFF, "quarter_complete", quarter));
    s_free(l);
    /* the operator's report due, its own only */
    it = s_open_item(&l, "applicant", org, "quarterly_report_due", roster2);
    assert_non_null(it);
    assert_string_equal(it->subject, "Kiln Yard training base");
    assert_string_equal(it->detail, quarter);
    assert_true(it->due_us == when);
    s_free(l);
    assert_null(s_open_item(&l, "applicant", other_org, "quarterly_report_due", roster2));
    s_free(l);
    assert_null(s_open_item(&l, "district", "district:110105", "quarterly_report_due", roster2));
    s_free(l);

    /* the settling events */
    Ccip__Evaluation__Decision d = CCIP__EVALUATION__DECISION__INIT;
    d.outcome = CCIP__EVALUATION__OUTCOME__DECISION_RETURNED; /* an answer too */
    d.reasons = "investigate the second site";
    Ccip__Evaluation__DecisionMade dm = CCIP__EVALUATION__DECISION_MADE__INIT;
    dm.case_id = kase;
    dm.application_id = app;
    dm.applicant_uscc = uscc;
    dm.decision = &d;
    s_event(P_EVALUATION, "evaluation.decision.made.v1", "case", kase, &dm.base);
    Ccip__Funding__DisbursementPaid paid = CCIP__FUNDING__DISBURSEMENT_PAID__INIT;
    paid.payment_id = pay;
    paid.award_id = award;
    paid.tranche_number = 1;
    paid.amount_fen = 250000000;
    paid.grantee_uscc = uscc;
    s_event(P_FUNDING, "funding.disbursement.paid.v1", "application", app, &paid.base);
    p.id = pay3;
    s_event(P_FUNDING, "funding.payment.cancelled.v1", "application", app, &pc.base);
    in.finding = CCIP__FUNDING__FINDING__COMPLIANT;
    Ccip__Funding__InspectionRecorded ir = CCIP__FUNDING__INSPECTION_RECORDED__INIT;
    ir.inspection = &in;
    ir.grantee_uscc = uscc;
    s_event(P_FUNDING, "funding.inspection.recorded.v1", "application", app, &ir.base);
    s_event(P_STATS, "stats.report.accepted.v1", "report", report, &rep.base);
    Ccip__Stats__ReportChanged rep2 = CCIP__STATS__REPORT_CHANGED__INIT;
    rep2.report_id = report2;
    rep2.roster_id = roster2;
    rep2.district_code = "110105";
    rep2.quarter = quarter;
    s_event(P_STATS, "stats.report.submitted.v1", "report", report2, &rep2.base);
    Ccip__Stats__ReleasePublished rp = CCIP__STATS__RELEASE_PUBLISHED__INIT;
    rp.quarter = quarter;
    rp.version = 1;
    s_event(P_STATS, "stats.release.published.v1", "release", quarter, &rp.base);
    s_applied();

    s_done_by("office", OFFICE, "decision_waiting", app, "evaluation.decision.made.v1");
    l = s_list("finance", FINANCE, CCIP__NOTIFY__ITEM_STATE__DONE, "funding");
    int paid_done = 0, cancelled_done = 0;
    for (size_t i = 0; i < l->n_items; i++)
        if (strcmp(l->items[i]->kind, "payment_second_approval") == 0 &&
            strcmp(l->items[i]->object_id, award) == 0) {
            paid_done += strcmp(l->items[i]->closed_by, "funding.disbursement.paid.v1") == 0;
            cancelled_done += strcmp(l->items[i]->closed_by, "funding.payment.cancelled.v1") == 0;
        }
    assert_int_equal(paid_done, 1);
    assert_int_equal(cancelled_done, 1);
    s_free(l);
    assert_null(s_open_item(&l, "finance", FINANCE, "payment_second_approval", award));
    s_free(l);
    s_done_by("staff", STAFF, "inspection_due", award, "funding.inspection.recorded.v1");
    s_done_by("staff", STAFF, "quarterly_report_to_accept", report, "stats.report.accepted.v1");
    s_done_by("analyst", ANALYST, "quarter_complete", quarter, "stats.release.published.v1");
    s_done_by("applicant", org, "quarterly_report_due", roster2, "stats.report.submitted.v1");

    /* replayed from position 1, the inboxes are the same */
    if (s_wait_number(0, "SELECT -count(*) FROM delivery WHERE state IN ('PENDING','SENDING') "
                         "AND due_at < now() + interval '1 minute'") != 0)
        s_fail_with_logs("deliveries did not settle");
    Ccip__Notify__ChecksumRequest cq = CCIP__NOTIFY__CHECKSUM_REQUEST__INIT;
    Ccip__Notify__ChecksumReply *live =
        (Ccip__Notify__ChecksumReply *)s_ok("staff", STAFF, "notify.inbox.checksum.v1", &cq.base,
                                            &ccip__notify__checksum_reply__descriptor);
    Ccip__Notify__RebuildRequest rq = CCIP__NOTIFY__REBUILD_REQUEST__INIT;
    Ccip__Notify__RebuildReply *rb =
        (Ccip__Notify__RebuildReply *)s_ok("admin", "person:admin-zhou", "notify.inbox.rebuild.v1",
                                           &rq.base, &ccip__notify__rebuild_reply__descriptor);
    assert_string_equal(rb->checksum_before, live->checksum);
    if (strcmp(rb->checksum_after, rb->checksum_before) != 0)
        s_fail_with_logs("the rebuilt inbox differs from the live one");
    s_free(rb);
    s_free(live);
    s_done_by("office", OFFICE, "decision_waiting", app, "evaluation.decision.made.v1");
    s_done_by("analyst", ANALYST, "quarter_complete", quarter, "stats.release.published.v1");
}

/* Rule: a rebuild by replay from position 1 gives the same items and states
 * as the live tables, and sends nothing again. */
static void test_rebuild_same_and_sends_nothing(void **state)
{
    (void)state;
    char a[19], actor[40], app[CCIP_UUID_STRLEN + 1], work[CCIP_UUID_STRLEN + 1];
    s_uscc(a);
    snprintf(actor, sizeof actor, "org:%s", a);
    s_person p;
    s_person_new(&p, s_fresh("rebuild"), "Re Build", "rebuild@a.test", "13800000003", actor,
                 "applicant");
    ccip_uuid_v7(app);
    ccip_uuid_v7(work);
    /* intake: submit, return, resubmit, accept */
    s_submitted(app, a, "Rebuild Park");
    s_returned(app, a, "first return");
    s_submitted(app, a, "Rebuild Park v2");
    Ccip__Intake__ApplicationAccepted acc = CCIP__INTAKE__APPLICATION_ACCEPTED__INIT;
    acc.application_id = app;
    s_event(P_INTAKE, "intake.application.accepted.v1", "application", app, &acc.base);
    /* ip: a work owned by a, a dispute, a transfer to another owner, a second dispute */
    char other[19], other_actor[40];
    s_uscc(other);
    snprintf(other_actor, sizeof other_actor, "org:%s", other);
    Ccip__Ip__Owner o1 = CCIP__IP__OWNER__INIT, o2 = CCIP__IP__OWNER__INIT;
    o1.party = actor;
    o1.share_bp = 10000;
    o2.party = other_actor;
    o2.share_bp = 10000;
    Ccip__Ip__Owner *owners1[] = {&o1}, *owners2[] = {&o2};
    Ccip__Ip__WorkRegistered wr = CCIP__IP__WORK_REGISTERED__INIT;
    wr.work_id = work;
    wr.title = "Lantern Design";
    wr.owners = owners1;
    wr.n_owners = 1;
    s_event(P_IP, "ip.work.registered.v1", "work", work, &wr.base);
    char d1[CCIP_UUID_STRLEN + 1], d2[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(d1);
    ccip_uuid_v7(d2);
    Ccip__Ip__DisputeFiled df = CCIP__IP__DISPUTE_FILED__INIT;
    df.dispute_id = d1;
    df.work_id = work;
    df.answer_by_us = ccip_now_us() + 7 * 24 * 3600 * 1000000LL;
    s_event(P_IP, "ip.dispute.filed.v1", "dispute", d1, &df.base);
    Ccip__Ip__Contract k = CCIP__IP__CONTRACT__INIT;
    k.work_id = work;
    Ccip__Ip__TradeSettled ts = CCIP__IP__TRADE_SETTLED__INIT;
    ts.contract = &k;
    ts.owners = owners2;
    ts.n_owners = 1;
    s_event(P_IP, "ip.trade.settled.v1", "work", work, &ts.base);
    df.dispute_id = d2;
    s_event(P_IP, "ip.dispute.filed.v1", "dispute", d2, &df.base);
    Ccip__Ip__DisputeAnswered da = CCIP__IP__DISPUTE_ANSWERED__INIT;
    da.dispute_id = d1;
    da.work_id = work;
    s_event(P_IP, "ip.dispute.answered.v1", "dispute", d1, &da.base);
    /* funding: an award proposed, granted, a use report returned */
    char award[CCIP_UUID_STRLEN + 1], report[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(award);
    ccip_uuid_v7(report);
    Ccip__Funding__Award aw = CCIP__FUNDING__AWARD__INIT;
    aw.id = award;
    aw.application_id = app;
    aw.grantee_uscc = a;
    aw.title = "Rebuild Park";
    aw.amount_fen = 12345600;
    /* tranche 2 waits for an interim report, tranche 3 for the final one */
    Ccip__Funding__Tranche tr[3] = {CCIP__FUNDING__TRANCHE__INIT, CCIP__FUNDING__TRANCHE__INIT,
                                    CCIP__FUNDING__TRANCHE__INIT};
    Ccip__Funding__Tranche *trs[3] = {&tr[0], &tr[1], &tr[2]};
    tr[0].number = 1;
    tr[0].condition = CCIP__FUNDING__CONDITION__AGREEMENT_SIGNED;
    tr[1].number = 2;
    tr[1].condition = CCIP__FUNDING__CONDITION__INTERIM_REPORT_ACCEPTED;
    tr[2].number = 3;
    tr[2].condition = CCIP__FUNDING__CONDITION__FINAL_REPORT_ACCEPTED;
    aw.tranches = trs;
    aw.n_tranches = 3;
    Ccip__Funding__AwardChanged ac = CCIP__FUNDING__AWARD_CHANGED__INIT;
    ac.award = &aw;
    s_event(P_FUNDING, "funding.award.proposed.v1", "application", app, &ac.base);
    s_event(P_FUNDING, "funding.award.granted.v1", "application", app, &ac.base);
    s_event(P_FUNDING, "funding.award.signed.v1", "application", app, &ac.base);
    /* the interim report accepted: its "report due" closes, the final's stays */
    char interim[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(interim);
    Ccip__Funding__UseReport ir = CCIP__FUNDING__USE_REPORT__INIT;
    ir.id = interim;
    ir.award_id = award;
    ir.kind = CCIP__FUNDING__REPORT_KIND__INTERIM;
    ir.period = "2026 H1";
    Ccip__Funding__UseReportChanged ic = CCIP__FUNDING__USE_REPORT_CHANGED__INIT;
    ic.report = &ir;
    s_event(P_FUNDING, "funding.report.submitted.v1", "application", app, &ic.base);
    s_event(P_FUNDING, "funding.report.accepted.v1", "application", app, &ic.base);
    Ccip__Funding__UseReport ur = CCIP__FUNDING__USE_REPORT__INIT;
    ur.id = report;
    ur.award_id = award;
    ur.period = "2026 H1";
    ur.review_note = "receipts missing";
    Ccip__Funding__UseReportChanged uc = CCIP__FUNDING__USE_REPORT_CHANGED__INIT;
    uc.report = &ur;
    s_event(P_FUNDING, "funding.report.submitted.v1", "application", app, &uc.base);
    s_event(P_FUNDING, "funding.report.returned.v1", "application", app, &uc.base);
    /* stats: a roster entry operated by a, its report returned */
    char roster[CCIP_UUID_STRLEN + 1], sreport[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(roster);
    ccip_uuid_v7(sreport);
    Ccip__Stats__RosterEntry re = CCIP__STATS__ROSTER_ENTRY__INIT;
    re.id = roster;
    re.name = "Rebuild Cluster";
    re.operator_uscc = a;
    Ccip__Stats__RosterChanged rc = CCIP__STATS__ROSTER_CHANGED__INIT;
    rc.entry = &re;
    rc.change = "GRANTED";
    s_event(P_STATS, "stats.roster.changed.v1", "roster_entry", roster, &rc.base);
    Ccip__Stats__ReportChanged rep = CCIP__STATS__REPORT_CHANGED__INIT;
    rep.report_id = sreport;
    rep.roster_id = roster;
    rep.district_code = "110105";
    rep.quarter = "2026Q2";
    rep.reason = "revenue implausible";
    s_event(P_STATS, "stats.report.submitted.v1", "report", sreport, &rep.base);
    s_event(P_STATS, "stats.report.returned.v1", "report", sreport, &rep.base);
    /* followup: a task for a district, escalated */
    char task[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(task);
    Ccip__Followup__Task t = CCIP__FOLLOWUP__TASK__INIT;
    t.id = task;
    t.title = "Survey the parks";
    t.lead_unit = "district:110105";
    t.deadline_at_us = ccip_now_us() + 3 * 24 * 3600 * 1000000LL;
    Ccip__Followup__TaskChanged tc = CCIP__FOLLOWUP__TASK_CHANGED__INIT;
    tc.task = &t;
    tc.action = "created";
    s_event(P_FOLLOWUP, "followup.task.created.v1", "task", task, &tc.base);
    s_event(P_FOLLOWUP, "followup.task.completion_reported.v1", "task", task, &tc.base);
    s_applied();

    /* the live tables, as they stand */
    if (s_wait_number(0, "SELECT -count(*) FROM delivery WHERE state IN ('PENDING','SENDING') "
                         "AND due_at < now() + interval '1 minute'") != 0)
        s_fail_with_logs("deliveries did not settle");
    Ccip__Notify__ListInboxReply *l =
        s_list("applicant", actor, CCIP__NOTIFY__ITEM_STATE__DONE, "");
    /* the first dispute went to a, who owned the work then; its answer settled it */
    Ccip__Notify__Item *first = s_find(l, "dispute_filed", work);
    assert_non_null(first);
    assert_string_equal(first->closed_by, "ip.dispute.answered.v1");
    assert_string_equal(first->subject, "Lantern Design");
    s_free(l);
    l = s_list("applicant", actor, 0, "");
    assert_null(s_find(l, "dispute_filed", work));
    assert_non_null(s_find(l, "use_report_returned", report));
    assert_non_null(s_find(l, "quarterly_report_returned", sreport));
    s_free(l);
    /* the award signed: its offer DONE; the grantee's reports due opened,
     * the interim one DONE by its acceptance, the final one still OPEN */
    l = s_list("applicant", actor, CCIP__NOTIFY__ITEM_STATE__DONE, "");
    Ccip__Notify__Item *offered = s_find(l, "award_offered", award);
    assert_non_null(offered);
    assert_string_equal(offered->closed_by, "funding.award.signed.v1");
    int interim_done = 0, final_open = 0;
    for (size_t i = 0; i < l->n_items; i++) {
        const Ccip__Notify__Item *it = l->items[i];
        if (strcmp(it->kind, "use_report_due") == 0 && strcmp(it->object_id, award) == 0 &&
            strcmp(it->detail, "#2 INTERIM") == 0 &&
            strcmp(it->closed_by, "funding.report.accepted.v1") == 0)
            interim_done++;
    }
    s_free(l);
    l = s_list("applicant", actor, CCIP__NOTIFY__ITEM_STATE__OPEN, "");
    for (size_t i = 0; i < l->n_items; i++) {
        const Ccip__Notify__Item *it = l->items[i];
        if (strcmp(it->kind, "use_report_due") == 0 && strcmp(it->object_id, award) == 0)
            final_open += strcmp(it->detail, "#3 FINAL") == 0 ? 1 : 100;
    }
    if (interim_done != 1 || final_open != 1)
        s_fail_with_logs("the grantee's use-of-funds reports due: want the interim one DONE by "
                         "its acceptance and only the final one OPEN");
    s_free(l);
    l = s_list("applicant", other_actor, 0, "");
    assert_non_null(s_find(l, "dispute_filed", work)); /* the second: the new owner */
    assert_null(s_find(l, "use_report_due", award));   /* not the grantee */
    s_free(l);
    long long deliveries = s_number("SELECT count(*) FROM delivery");
    int mails = s_files_with("mail", NULL, NULL);
    Ccip__Notify__ChecksumRequest cq = CCIP__NOTIFY__CHECKSUM_REQUEST__INIT;
    Ccip__Notify__ChecksumReply *live = (Ccip__Notify__ChecksumReply *)s_ok(
        "staff", "person:staff-wang", "notify.inbox.checksum.v1", &cq.base,
        &ccip__notify__checksum_reply__descriptor);

    Ccip__Notify__RebuildRequest rq = CCIP__NOTIFY__REBUILD_REQUEST__INIT;
    Ccip__Notify__RebuildReply *rb =
        (Ccip__Notify__RebuildReply *)s_ok("admin", "person:admin-zhou", "notify.inbox.rebuild.v1",
                                           &rq.base, &ccip__notify__rebuild_reply__descriptor);
    assert_string_equal(rb->checksum_before, live->checksum);
    if (strcmp(rb->checksum_after, rb->checksum_before) != 0)
        s_fail_with_logs("the rebuilt inbox differs from the live one");
    assert_int_equal(rb->items, live->items);
    assert_true(rb->n_replayed >= 7);
    s_free(rb);
    s_free(live);
    ccip_test_sleep_ms(1500); /* a sender that would send again has had the time */
    assert_int_equal(s_number("SELECT count(*) FROM delivery"), deliveries);
    assert_int_equal(s_files_with("mail", NULL, NULL), mails);
    assert_int_equal(s_lines_with("mail-duplicates.log", "@"), 0);
}

/* Rule: text from applicants is escaped in the HTML part; no header
 * injection through a name or a subject. */
static void test_escaping_and_headers(void **state)
{
    (void)state;
    char a[19], actor[40], app[CCIP_UUID_STRLEN + 1];
    s_uscc(a);
    snprintf(actor, sizeof actor, "org:%s", a);
    s_person p;
    s_person_new(&p, s_fresh("mallory"), "Mallory\r\nBcc: victim@evil.test", "mallory@a.test", "",
                 actor, "applicant");
    s_applied();
    s_prefs(&p, "en", "", "", 0, "", NULL, 0);
    ccip_uuid_v7(app);
    char title[200];
    snprintf(title, sizeof title, "<script>alert(1)</script> & Co %s\r\nBcc: victim@evil.test",
             app);
    s_submitted(app, a, title);
    s_returned(app, a, "<img src=x onerror=alert(2)>");
    s_applied();
    char *mail = NULL;
    if (s_wait_mails(app, 1, WAIT_MS) < 1 || s_files_with("mail", app, &mail) != 1)
        s_fail_with_logs("the e-mail did not arrive");
    /* the headers: no Bcc, one Subject, one To, nothing but what notify wrote */
    char *end = strstr(mail, "\r\n\r\n");
    assert_non_null(end);
    *end = '\0';
    assert_null(strstr(mail, "\nBcc:"));
    assert_null(strstr(mail, "\nbcc:"));
    int subjects = 0, tos = 0;
    for (char *q = mail; (q = strstr(q, "\nSubject:")); q++)
        subjects++;
    for (char *q = mail; (q = strstr(q, "\nTo:")); q++)
        tos++;
    assert_int_equal(subjects, 1);
    assert_int_equal(tos, 1);
    *end = '\r';
    char html[16384], text[16384];
    s_part(mail, "Content-Type: text/html", html, sizeof html);
    s_part(mail, "Content-Type: text/plain", text, sizeof text);
    assert_true(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co") != NULL);
    assert_true(strstr(html, "&lt;img src=x onerror=alert(2)&gt;") != NULL);
    assert_null(strstr(html, "<script>"));
    assert_null(strstr(html, "<img"));
    assert_true(strstr(text, "<script>alert(1)</script> & Co") != NULL); /* plain text as typed */
    free(mail);
}

/* Rule (channels): e-mail goes through STARTTLS where the relay offers it
 * (notify.smtp_tls = try), the relay's certificate verified against
 * notify.smtp_ca_file; no message of this run went in the clear. */
static void test_starttls(void **state)
{
    (void)state;
    char a[19], actor[40], app[CCIP_UUID_STRLEN + 1];
    s_uscc(a);
    snprintf(actor, sizeof actor, "org:%s", a);
    s_person p;
    s_person_new(&p, s_fresh("tls"), "Tls", "tls@a.test", "", actor, "applicant");
    ccip_uuid_v7(app);
    s_submitted(app, a, "Sealed Park");
    s_returned(app, a, "stamp missing");
    s_applied();
    if (s_wait_number(1,
                      "SELECT count(*) FROM delivery WHERE login = '%s' AND state = 'SENT' "
                      "AND channel = 'EMAIL'",
                      p.login) < 1)
        s_fail_with_logs("the e-mail was not sent");
    assert_true(s_lines_with("mail-sessions.log", "tls <") >= 1);
    assert_int_equal(s_lines_with("mail-sessions.log", "plain <"), 0);
}

/* A channel the service has not configured gets no delivery: notify
 * started again without notify.sms_url makes a person's e-mail and no text
 * message (one could only wait for notify.give_up_hours and then fail,
 * marking the item); then notify is started again as the other tests want
 * it. */
static void test_unconfigured_channel_makes_no_delivery(void **state)
{
    (void)state;
    char sms_url[300];
    snprintf(sms_url, sizeof sms_url, "%s", getenv("CCIP_NOTIFY_SMS_URL"));
    ccip_test_stop(&s_env, s_notify_pid, SIGTERM, 10000);
    setenv("CCIP_NOTIFY_SMS_URL", "", 1);
    int started = s_notify_start();
    setenv("CCIP_NOTIFY_SMS_URL", sms_url, 1);
    if (started < 0)
        s_fail_with_logs("notify did not start without an SMS gateway");
    char a[19], actor[40], app[CCIP_UUID_STRLEN + 1];
    s_uscc(a);
    snprintf(actor, sizeof actor, "org:%s", a);
    s_person p;
    s_person_new(&p, s_fresh("nosms"), "No Sms", "nosms@a.test", "13900005678", actor, "applicant");
    ccip_uuid_v7(app);
    s_submitted(app, a, "Quiet Park");
    s_returned(app, a, "seal missing");
    s_applied();
    if (s_wait_number(1,
                      "SELECT count(*) FROM delivery WHERE login = '%s' AND channel = 'EMAIL' "
                      "AND state = 'SENT'",
                      p.login) < 1)
        s_fail_with_logs("the e-mail was not sent");
    assert_int_equal(
        s_number("SELECT count(*) FROM delivery WHERE login = '%s' AND channel = 'SMS'", p.login),
        0);
    ccip_test_stop(&s_env, s_notify_pid, SIGTERM, 10000);
    if (s_notify_start() < 0)
        s_fail_with_logs("notify did not start again with its SMS gateway");
}

/* Rule: a permanent failure is shown on the item and in the deliveries, and
 * not retried forever. */
static void test_permanent_failure(void **state)
{
    (void)state;
    char a[19], actor[40], app[CCIP_UUID_STRLEN + 1];
    s_uscc(a);
    snprintf(actor, sizeof actor, "org:%s", a);
    s_person p;
    s_person_new(&p, s_fresh("bounce"), "Bounce", "bounce@a.test", "13900000000", actor,
                 "applicant");
    ccip_uuid_v7(app);
    s_submitted(app, a, "Bounce Park");
    s_returned(app, a, "incomplete");
    s_applied();
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM delivery d JOIN item i ON i.id = d.item_id "
             "WHERE i.object_id = '%s' AND i.kind = 'application_returned' AND d.state = 'FAILED'",
             app);
    if (ccip_test_wait_count("notify", sql, 2, WAIT_MS) < 2)
        s_fail_with_logs("the refused e-mail and SMS were not recorded as failed");
    ccip_test_sleep_ms(2500); /* retries would have happened by now (retry_min_ms 200) */
    assert_int_equal(s_number("SELECT max(d.attempts) FROM delivery d JOIN item i ON "
                              "i.id = d.item_id WHERE i.object_id = '%s'",
                              app),
                     1);
    Ccip__Notify__ListInboxReply *l = s_list("applicant", actor, 0, "");
    Ccip__Notify__Item *it = s_find(l, "application_returned", app);
    assert_non_null(it);
    assert_true(it->delivery_failed);
    char item[64];
    snprintf(item, sizeof item, "%s", it->id);
    s_free(l);
    Ccip__Notify__ListDeliveriesRequest dq = CCIP__NOTIFY__LIST_DELIVERIES_REQUEST__INIT;
    dq.item_id = item;
    Ccip__Notify__ListDeliveriesReply *d = (Ccip__Notify__ListDeliveriesReply *)s_ok(
        "staff", "person:staff-wang", "notify.delivery.list.v1", &dq.base,
        &ccip__notify__list_deliveries_reply__descriptor);
    assert_int_equal(d->n_deliveries, 2);
    char failed_mail[64] = "";
    for (size_t i = 0; i < d->n_deliveries; i++) {
        assert_int_equal(d->deliveries[i]->state, CCIP__NOTIFY__DELIVERY_STATE__FAILED);
        if (d->deliveries[i]->channel == CCIP__NOTIFY__CHANNEL__EMAIL) {
            assert_true(strstr(d->deliveries[i]->error, "550") != NULL);
            snprintf(failed_mail, sizeof failed_mail, "%s", d->deliveries[i]->id);
        } else {
            assert_true(strstr(d->deliveries[i]->error, "400") != NULL);
        }
    }
    s_free(d);
    /* ... and in ccipctl notify deliveries, which staff read */
    char out[8192];
    assert_int_equal(s_ctl(out, sizeof out,
                           "--role staff --actor person:staff-wang notify deliveries --item %s",
                           item),
                     0);
    if (!strstr(out, "FAILED   EMAIL") || !strstr(out, "550") || !strstr(out, "FAILED   SMS") ||
        !strstr(out, "400")) {
        fprintf(stderr, "ccipctl notify deliveries said:\n%s\n", out);
        fail();
    }
    /* the person sees the failure on the item too */
    assert_int_equal(
        s_ctl(out, sizeof out, "--role applicant --actor %s notify inbox show %s", actor, item), 0);
    assert_non_null(strstr(out, "A DELIVERY FAILED"));
    /* the person's address is corrected; staff send the failed e-mail again */
    Ccip__Gateway__ContactChanged cc = CCIP__GATEWAY__CONTACT_CHANGED__INIT;
    cc.account_id = p.account;
    cc.name = "Bounce";
    cc.email = "fixed@a.test";
    cc.mobile = "13900000001";
    s_event(P_GATEWAY, "gateway.account.contact_changed.v1", "account", p.account, &cc.base);
    s_applied();
    Ccip__Notify__ResendRequest rs = CCIP__NOTIFY__RESEND_REQUEST__INIT;
    rs.delivery_id = failed_mail;
    rs.reason = "address corrected by phone";
    assert_int_equal(s_call("applicant", actor, "notify.delivery.resend.v1", &rs.base, NULL, NULL),
                     CCIP__STATUS__PERMISSION_DENIED);
    Ccip__Notify__DeliveryReply *nd = (Ccip__Notify__DeliveryReply *)s_ok(
        "staff", "person:staff-wang", "notify.delivery.resend.v1", &rs.base,
        &ccip__notify__delivery_reply__descriptor);
    assert_string_equal(nd->delivery->address, "fixed@a.test");
    char mid[100];
    snprintf(mid, sizeof mid, "<%s@notify.ccip>", nd->delivery->id);
    s_free(nd);
    if (s_wait_mails(mid, 1, WAIT_MS) < 1)
        s_fail_with_logs("the resent e-mail did not arrive");
    assert_int_equal(
        s_call("staff", "person:staff-wang", "notify.delivery.resend.v1", &rs.base, NULL, NULL),
        CCIP__STATUS__FAILED_PRECONDITION); /* once */
}

/* Rule (second half of the crash rule): notify SIGKILLed while it sends, then
 * started again: every e-mail and every text message arrives exactly once in
 * effect. Both servers keep a message before they answer (10 ms later), so
 * the kill mostly lands after a message left and before notify recorded it;
 * the one sent again after the lease is the same message (same Message-ID,
 * same idempotency key), which the servers keep once. */
static void test_sigkill_while_sending(void **state)
{
    (void)state;
    enum { N = 150 };
    char a[19], actor[40], tag[64];
    s_uscc(a);
    snprintf(actor, sizeof actor, "org:%s", a);
    snprintf(tag, sizeof tag, "crash-%s", s_run);
    s_person p;
    s_person_new(&p, s_fresh("crash"), "Crash", "crash@a.test", "13900001234", actor, "applicant");
    s_applied();
    s_prefs(&p, "en", "", "", 0, "", NULL, 0);
    int dup_mails = s_lines_with("mail-duplicates.log", "\n"),
        dup_sms = s_lines_with("sms-duplicates.log", "\n");
    for (int i = 0; i < N; i++) {
        char app[CCIP_UUID_STRLEN + 1], title[100];
        ccip_uuid_v7(app);
        snprintf(title, sizeof title, "%s-%03d", tag, i);
        s_submitted(app, a, title);
        s_returned(app, a, "again");
    }
    /* kill as soon as the first mails arrive: the others are being sent */
    int seen = 0;
    for (int i = 0; i < 600 && (seen = s_files_with("mail", tag, NULL)) < 5; i++)
        ccip_test_sleep_ms(20);
    assert_true(seen >= 1);
    ccip_test_stop(&s_env, s_notify_pid, SIGKILL, 5000);
    long long sending = s_number("SELECT count(*) FROM delivery WHERE state = 'SENDING'");
    fprintf(stderr, "killed notify after %d of %d mails; %lld deliveries were SENDING\n", seen, N,
            sending);
    /* the kill landed mid-delivery: claimed, maybe sent, not recorded */
    assert_true(sending > 0);
    if (s_notify_start() < 0)
        s_fail_with_logs("notify did not start again");
    s_applied();
    if (s_wait_number(2 * N,
                      "SELECT count(*) FROM delivery d JOIN item i ON i.id = d.item_id "
                      "WHERE i.subject LIKE '%s-%%' AND d.state = 'SENT'",
                      tag) < 2 * N)
        s_fail_with_logs("not every delivery was sent after the restart");
    /* at the servers: each item's e-mail and text message once (one
     * Message-ID and one idempotency key per delivery) */
    char needle[160];
    for (int i = 0; i < N; i++) {
        snprintf(needle, sizeof needle, "Subject: Application returned for correction: %s-%03d",
                 tag, i);
        int n = s_files_with("mail", needle, NULL);
        snprintf(needle, sizeof needle, "%s-%03d", tag, i); /* in the text, JSON-quoted */
        int m = s_files_with("sms", needle, NULL);
        if (n != 1 || m != 1) {
            char what[240];
            snprintf(what, sizeof what, "item %s-%03d: its e-mail arrived %d times, its SMS %d",
                     tag, i, n, m);
            s_fail_with_logs(what);
        }
    }
    fprintf(stderr,
            "sent again after the kill and kept once by the servers: %d e-mails, %d text "
            "messages\n",
            s_lines_with("mail-duplicates.log", "\n") - dup_mails,
            s_lines_with("sms-duplicates.log", "\n") - dup_sms);
}

/* Rule: the SMTP server down for 30 s while 200 items are made: after it
 * returns, each of the 200 e-mails arrives exactly once. */
static void test_smtp_down_30s(void **state)
{
    (void)state;
    enum { N = 200 };
    char a[19], actor[40], tag[64];
    s_uscc(a);
    snprintf(actor, sizeof actor, "org:%s", a);
    snprintf(tag, sizeof tag, "down-%s", s_run);
    s_person p;
    s_person_new(&p, s_fresh("down"), "Down", "down@a.test", "", actor, "applicant");
    s_applied();
    s_prefs(&p, "en", "", "", 0, "", NULL, 0);
    s_sink_stop(&s_smtp_pid);
    int64_t down_at = ccip_now_us();
    for (int i = 0; i < N; i++) {
        char app[CCIP_UUID_STRLEN + 1], title[100];
        ccip_uuid_v7(app);
        snprintf(title, sizeof title, "%s-%03d", tag, i);
        s_submitted(app, a, title);
        s_returned(app, a, "again");
        ccip_test_sleep_ms(50); /* spread over ten seconds of the outage */
    }
    s_applied();
    while (ccip_now_us() - down_at < 30 * 1000000LL)
        ccip_test_sleep_ms(200);
    assert_int_equal(s_files_with("mail", tag, NULL), 0);
    assert_true(s_number("SELECT max(d.attempts) FROM delivery d JOIN item i ON i.id = d.item_id "
                         "WHERE i.subject LIKE '%s-%%'",
                         tag) > 1); /* it kept trying */
    assert_int_equal(s_number("SELECT count(*) FROM delivery d JOIN item i ON i.id = d.item_id "
                              "WHERE i.subject LIKE '%s-%%' AND d.state = 'FAILED'",
                              tag),
                     0); /* a relay that is down is not a permanent failure */
    if ((s_smtp_pid = s_sink_start("smtp", s_smtp_port)) < 0)
        s_fail_with_logs("the SMTP server did not start again");
    if (s_wait_number(N,
                      "SELECT count(*) FROM delivery d JOIN item i ON i.id = d.item_id "
                      "WHERE i.subject LIKE '%s-%%' AND d.state = 'SENT'",
                      tag) < N)
        s_fail_with_logs("not every delivery was sent after the relay came back");
    char needle[160];
    for (int i = 0; i < N; i++) {
        snprintf(needle, sizeof needle, "Subject: Application returned for correction: %s-%03d",
                 tag, i);
        int n = s_files_with("mail", needle, NULL);
        if (n != 1) {
            char what[200];
            snprintf(what, sizeof what, "%s arrived %d times", needle, n);
            s_fail_with_logs(what);
        }
    }
    assert_int_equal(s_lines_with("mail-duplicates.log", tag), 0);
}

/* The Beijing minute of the day of t, and t's start of minute. */
static int s_beijing_minute(int64_t t)
{
    return (int)(((t + BEIJING_US) / MINUTE_US) % 1440);
}

/* Rule: quiet hours hold SMS back until they end; a digest gathers a day's
 * items in one message. Both wait for the next minute of the clock. */
static void test_quiet_hours_and_digest(void **state)
{
    (void)state;
    /* not in the last 20 s of a minute: the hold must be seen before it ends */
    while ((ccip_now_us() / 1000000) % 60 > 40)
        ccip_test_sleep_ms(500);
    int64_t now = ccip_now_us();
    int m = s_beijing_minute(now);
    int64_t boundary = (now / MINUTE_US + 1) * MINUTE_US; /* the next minute */
    char start[8], end[8];
    snprintf(start, sizeof start, "%02d:%02d", (m + 1439) % 1440 / 60, (m + 1439) % 60);
    snprintf(end, sizeof end, "%02d:%02d", (m + 1) % 1440 / 60, (m + 1) % 60);

    char a[19], b[19], actor_q[40], actor_d[40];
    s_uscc(a);
    s_uscc(b);
    snprintf(actor_q, sizeof actor_q, "org:%s", a);
    snprintf(actor_d, sizeof actor_d, "org:%s", b);
    s_person q, d;
    s_person_new(&q, s_fresh("quiet"), "Quiet", "quiet@a.test", "13700000001", actor_q,
                 "applicant");
    s_person_new(&d, s_fresh("digest"), "Digest", "digest@b.test", "", actor_d, "applicant");
    s_applied();
    s_prefs(&q, "en", start, end, 0, "", NULL, 0);
    s_prefs(&d, "en", "", "", 1, end, NULL, 0);
    char app_q[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(app_q);
    s_submitted(app_q, a, "Quiet Park");
    s_returned(app_q, a, "late");
    char apps_d[3][CCIP_UUID_STRLEN + 1];
    for (int i = 0; i < 3; i++) {
        char title[64];
        ccip_uuid_v7(apps_d[i]);
        snprintf(title, sizeof title, "Digest Park %d %s", i, s_run);
        s_submitted(apps_d[i], b, title);
        s_returned(apps_d[i], b, "again");
    }
    s_applied();
    /* quiet: the e-mail goes now, the SMS waits for the end of the quiet hours */
    char mailneedle[100];
    snprintf(mailneedle, sizeof mailneedle, "Quiet Park");
    if (s_wait_mails(mailneedle, 1, 5000) < 1)
        s_fail_with_logs("quiet hours held the e-mail, which they must not");
    char sql[800];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM delivery d JOIN item i ON i.id = d.item_id WHERE "
             "i.object_id = '%s' AND d.channel = 'SMS' AND d.state = 'PENDING' AND "
             "d.due_at = 'epoch'::timestamptz + %lld * interval '1 microsecond'",
             app_q, (long long)boundary);
    assert_int_equal(ccip_test_query_number("notify", sql), 1);
    assert_int_equal(s_files_with("sms", app_q, NULL) + s_files_with("sms", "13700000001", NULL),
                     0);
    /* digest: nothing yet, each item waits for the digest */
    assert_int_equal(s_files_with("mail", "Digest Park", NULL), 0);
    while (ccip_now_us() < boundary - 1500000)
        ccip_test_sleep_ms(200);
    assert_int_equal(s_files_with("sms", "13700000001", NULL), 0); /* still quiet */
    /* the minute turns: the SMS goes, the digest goes, once */
    for (int i = 0; i < 150 && s_files_with("sms", "13700000001", NULL) < 1; i++)
        ccip_test_sleep_ms(100);
    assert_int_equal(s_files_with("sms", "13700000001", NULL), 1);
    char needle[160];
    snprintf(needle, sizeof needle, "Subject: CCIP: 3 new items today");
    char *mail = NULL;
    for (int i = 0; i < 150 && s_files_with("mail", "digest@b.test", NULL) < 1; i++)
        ccip_test_sleep_ms(100);
    assert_int_equal(s_files_with("mail", "digest@b.test", &mail), 1);
    assert_non_null(mail);
    assert_true(strstr(mail, needle) != NULL);
    char text[16384];
    s_part(mail, "Content-Type: text/plain", text, sizeof text);
    for (int i = 0; i < 3; i++) {
        char t[64];
        snprintf(t, sizeof t, "Digest Park %d %s", i, s_run);
        assert_true(strstr(text, t) != NULL);
    }
    free(mail);
    assert_int_equal(s_number("SELECT count(*) FROM delivery WHERE login = '%s' AND state = "
                              "'DIGESTED' AND digest_id IS NOT NULL",
                              d.login),
                     3);
}

int main(int argc, char **argv)
{
    s_slow = argc > 1 && strcmp(argv[1], "slow") == 0;
    const struct CMUnitTest fast[] = {
        cmocka_unit_test(test_own_items_only),
        cmocka_unit_test(test_items_close_by_themselves),
        cmocka_unit_test(test_task_items_close_when_the_task_ends),
        cmocka_unit_test(test_center_items_open_and_close),
        cmocka_unit_test(test_escaping_and_headers),
        cmocka_unit_test(test_starttls),
        cmocka_unit_test(test_unconfigured_channel_makes_no_delivery),
        cmocka_unit_test(test_permanent_failure),
        cmocka_unit_test(test_rebuild_same_and_sends_nothing),
        cmocka_unit_test(test_sigkill_while_sending),
    };
    const struct CMUnitTest slow[] = {
        cmocka_unit_test(test_smtp_down_30s),
        cmocka_unit_test(test_quiet_hours_and_digest),
    };
    /* NOTIFY_TEST=<name pattern> runs only the tests it matches (cmocka's
     * filter), e.g. to watch one rule's test fail when the rule is broken. */
    if (getenv("NOTIFY_TEST"))
        cmocka_set_test_filter(getenv("NOTIFY_TEST"));
    if (s_slow)
        return cmocka_run_group_tests_name("test_notify slow", slow, s_group_setup,
                                           s_group_teardown);
    return cmocka_run_group_tests_name("test_notify", fast, s_group_setup, s_group_teardown);
}
