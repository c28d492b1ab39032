/*
 * bench_notify: the inbox made from 100,000 events of mixed kinds, against a
 * plain INSERT ... SELECT of as many rows; then 10,000 e-mails through the
 * sender to a local SMTP server.
 *
 * Starts a private bus, notify (which migrates its schema, then is stopped)
 * and stand-ins for intake, evaluation, funding, ip, stats and followup
 * (tests/support/ccip_test_producer.h) holding 100,000 synthetic events in
 * rounds of twelve: an application submitted, returned, submitted again and
 * accepted; an expert's reminder and a decision; an award proposed and
 * granted; a work registered and a dispute filed against it (its owner
 * found by lookup); a quarterly report submitted; a supervised task. notify's
 * cursors are set to the heads, so its consumers find nothing to do, and
 * notify starts again. Then, in the same run:
 *
 *   replay_per_s    notify.inbox.rebuild.v1 empties the inbox and replays
 *                   every event from position 1 through the broker, in one
 *                   transaction (events / seconds, as the client waited)
 *   baseline_per_s  INSERT INTO a copy of table item (same columns, indexes)
 *                   SELECT ... FROM generate_series(1, 100000), rows / seconds
 *   mails_per_s     10,000 deliveries of those items made due at once: from
 *                   then until the last is recorded SENT, with notify's one
 *                   sender thread and tests/integration/notify_sinks.py as
 *                   the SMTP server
 *   duplicates      messages the server received twice (same Message-ID)
 *   lost            deliveries SENT whose message the server does not hold
 *
 * Last line: bench notify: replay_per_s=... baseline_per_s=... ratio=R
 * mails_per_s=... duplicates=0 lost=0 (R = replay / baseline; target R >=
 * 0.3, duplicates and lost exactly 0).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <libpq-fe.h>
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
#include <zmq.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/followup.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip/notify.pb-c.h"
#include "ccip/stats.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_test.h"
#include "ccip_test_db.h"
#include "ccip_test_proc.h"
#include "ccip_test_producer.h"

#define EVENTS  100000
#define MAILS   10000
#define ORGS    500
#define PYTHON  "/usr/bin/python3"
#define CALL_MS 600000

static ccip_test_env s_env;
static void *s_ctx;
static ccip_client *s_front;
static char s_sinks[300];
static pid_t s_smtp_pid, s_notify_pid;

enum { P_INTAKE, P_EVALUATION, P_FUNDING, P_IP, P_STATS, P_FOLLOWUP, P_COUNT };
static const char *const s_names[P_COUNT] = {"intake", "evaluation", "funding",
                                             "ip",     "stats",      "followup"};
static ccip_test_producer *s_prod[P_COUNT];
static long s_added;

static void s_die(const char *what, const char *why)
{
    fprintf(stderr, "bench notify: %s: %s\n", what, why);
    if (s_smtp_pid > 0)
        kill(s_smtp_pid, SIGTERM);
    ccip_test_env_cleanup(&s_env, 1);
    exit(1);
}

static pid_t s_smtp_start(int port)
{
    char ready[400], script[600], ports[16], log[400];
    const char *src = getenv("CCIP_SOURCE_DIR") ? getenv("CCIP_SOURCE_DIR") : CCIP_SOURCE_DEFAULT;
    snprintf(ready, sizeof ready, "%s/smtp.ready", s_sinks);
    snprintf(script, sizeof script, "%s/tests/integration/notify_sinks.py", src);
    snprintf(ports, sizeof ports, "%d", port);
    snprintf(log, sizeof log, "%s/sink-smtp.log", s_env.dir);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execl(PYTHON, PYTHON, script, "smtp", ports, s_sinks, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        if (access(ready, F_OK) == 0)
            return pid;
        ccip_test_sleep_ms(50);
    }
    return -1;
}

/* A command to notify through the front door; the reply decoded as desc. */
static ProtobufCMessage *s_call(const char *role, const char *actor, const char *type,
                                const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *desc)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    protobuf_c_message_pack(msg, buf);
    char id[CCIP_UUID_STRLEN + 1], err[300];
    ccip_uuid_v7(id);
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = (char *)type;
    env.actor_role = (char *)role;
    env.actor_id = (char *)actor;
    env.deadline_us = ccip_now_us() + (int64_t)CALL_MS * 1000;
    env.payload.data = buf;
    env.payload.len = len;
    Ccip__Envelope *reply = ccip_client_call(s_front, "notify", &env, CALL_MS, 1, err, sizeof err);
    free(buf);
    if (!reply)
        s_die(type, err);
    if (reply->status != CCIP__STATUS__OK)
        s_die(type, reply->error);
    ProtobufCMessage *out = ccip_payload_unpack(desc, reply->payload.data, reply->payload.len,
                                                reply->payload.len + 1, err, sizeof err);
    ccip_envelope_free(&reply);
    if (!out)
        s_die(type, err);
    return out;
}

static int s_ready(void)
{
    for (int i = 0; i < 300; i++) {
        Ccip__Notify__CountInboxRequest rq = CCIP__NOTIFY__COUNT_INBOX_REQUEST__INIT;
        size_t len = protobuf_c_message_get_packed_size(&rq.base);
        uint8_t buf[16];
        protobuf_c_message_pack(&rq.base, buf);
        char id[CCIP_UUID_STRLEN + 1], err[300];
        ccip_uuid_v7(id);
        Ccip__Envelope env = CCIP__ENVELOPE__INIT;
        env.id = id;
        env.type = "notify.inbox.count.v1";
        env.actor_role = "staff";
        env.actor_id = "person:bench";
        env.payload.data = buf;
        env.payload.len = len;
        Ccip__Envelope *r = ccip_client_call(s_front, "notify", &env, 1000, 1, err, sizeof err);
        if (r) {
            ccip_envelope_free(&r);
            return 0;
        }
    }
    return -1;
}

/* Runs test-owned SQL (no data from outside) as ccip_notify. */
static PGresult *s_sql(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        s_die(sql, PQerrorMessage(c));
    return r;
}

/* ---- the events ------------------------------------------------------------------------ */

static void s_add(int p, const char *type, const char *agg, const ProtobufCMessage *msg)
{
    if (s_added >= EVENTS)
        return;
    if (!ccip_test_producer_add(s_prod[p], type, "bench", agg, msg, "bench", "staff"))
        s_die("stand-in", "could not add an event");
    s_added++;
}

static void s_uscc(long k, char out[19])
{
    static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    snprintf(out, 19, "91110105%09ld", k);
    out[17] = '0';
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (int)(strchr(cs, out[i]) - cs) * w[i];
    out[17] = cs[(31 - sum % 31) % 31];
    out[18] = '\0';
}

/* One round of twelve events about application k. */
static void s_round(long k)
{
    char app[CCIP_UUID_STRLEN + 1], award[CCIP_UUID_STRLEN + 1], work[CCIP_UUID_STRLEN + 1],
        dispute[CCIP_UUID_STRLEN + 1], report[CCIP_UUID_STRLEN + 1], task[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(app);
    ccip_uuid_v7(award);
    ccip_uuid_v7(work);
    ccip_uuid_v7(dispute);
    ccip_uuid_v7(report);
    ccip_uuid_v7(task);
    char uscc[19], org[24], title[64], expert[32];
    s_uscc(k % ORGS, uscc);
    snprintf(org, sizeof org, "org:%s", uscc);
    snprintf(title, sizeof title, "Creative park %ld", k);
    snprintf(expert, sizeof expert, "E%03ld", k % 200);

    Ccip__Intake__ApplicationSubmitted sub = CCIP__INTAKE__APPLICATION_SUBMITTED__INIT;
    sub.application_id = app;
    sub.applicant_uscc = uscc;
    sub.applicant_name = "Bench Org";
    sub.title = title;
    s_add(P_INTAKE, "intake.application.submitted.v1", app, &sub.base);
    Ccip__Intake__ApplicationTransitioned ret = CCIP__INTAKE__APPLICATION_TRANSITIONED__INIT;
    ret.application_id = app;
    ret.applicant_uscc = uscc;
    ret.to_status = CCIP__INTAKE__APPLICATION_STATUS__RETURNED;
    ret.reason = "the site plan is missing";
    s_add(P_INTAKE, "intake.application.returned.v1", app, &ret.base);
    s_add(P_INTAKE, "intake.application.submitted.v1", app, &sub.base);
    Ccip__Intake__ApplicationAccepted acc = CCIP__INTAKE__APPLICATION_ACCEPTED__INIT;
    acc.application_id = app;
    s_add(P_INTAKE, "intake.application.accepted.v1", app, &acc.base);

    Ccip__Evaluation__Task t = CCIP__EVALUATION__TASK__INIT;
    char review[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(review);
    t.kind = CCIP__EVALUATION__SUBJECT_KIND__EXPERT;
    t.task_id = review;
    t.subject_id = expert;
    t.application_id = app;
    t.case_title = title;
    t.due_at_us = ccip_now_us() + 86400LL * 1000000;
    Ccip__Evaluation__TaskNotice tn = CCIP__EVALUATION__TASK_NOTICE__INIT;
    tn.task = &t;
    s_add(P_EVALUATION, "evaluation.task.reminder.v1", app, &tn.base);
    Ccip__Evaluation__Decision d = CCIP__EVALUATION__DECISION__INIT;
    d.outcome = CCIP__EVALUATION__OUTCOME__DECISION_APPROVED;
    d.reasons = "meets the criteria";
    Ccip__Evaluation__DecisionMade dm = CCIP__EVALUATION__DECISION_MADE__INIT;
    dm.application_id = app;
    dm.applicant_uscc = uscc;
    dm.title = title;
    dm.decision = &d;
    s_add(P_EVALUATION, "evaluation.decision.made.v1", app, &dm.base);

    Ccip__Funding__Award a = CCIP__FUNDING__AWARD__INIT;
    a.id = award;
    a.application_id = app;
    a.grantee_uscc = uscc;
    a.title = title;
    a.amount_fen = 50000000;
    Ccip__Funding__AwardChanged ac = CCIP__FUNDING__AWARD_CHANGED__INIT;
    ac.award = &a;
    s_add(P_FUNDING, "funding.award.proposed.v1", app, &ac.base);
    s_add(P_FUNDING, "funding.award.granted.v1", app, &ac.base);

    Ccip__Ip__Owner o = CCIP__IP__OWNER__INIT;
    o.party = org;
    o.share_bp = 10000;
    Ccip__Ip__Owner *owners[] = {&o};
    Ccip__Ip__WorkRegistered wr = CCIP__IP__WORK_REGISTERED__INIT;
    wr.work_id = work;
    wr.title = title;
    wr.owners = owners;
    wr.n_owners = 1;
    s_add(P_IP, "ip.work.registered.v1", work, &wr.base);
    Ccip__Ip__DisputeFiled df = CCIP__IP__DISPUTE_FILED__INIT;
    df.dispute_id = dispute;
    df.work_id = work;
    df.answer_by_us = ccip_now_us() + 7 * 86400LL * 1000000;
    s_add(P_IP, "ip.dispute.filed.v1", dispute, &df.base);

    Ccip__Stats__ReportChanged rc = CCIP__STATS__REPORT_CHANGED__INIT;
    rc.report_id = report;
    rc.roster_id = work;
    rc.district_code = "110105";
    rc.quarter = "2026Q2";
    s_add(P_STATS, "stats.report.submitted.v1", report, &rc.base);

    Ccip__Followup__Task ft = CCIP__FOLLOWUP__TASK__INIT;
    ft.id = task;
    ft.title = title;
    ft.lead_unit = "district:110105";
    ft.deadline_at_us = ccip_now_us() + 30 * 86400LL * 1000000;
    Ccip__Followup__TaskChanged tc = CCIP__FOLLOWUP__TASK_CHANGED__INIT;
    tc.task = &ft;
    s_add(P_FOLLOWUP, "followup.task.created.v1", task, &tc.base);
}

/* ---- the run ------------------------------------------------------------------------------- */

static int s_count_files(const char *sub)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/%s", s_sinks, sub);
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.' && !strstr(e->d_name, ".tmp");
    if (d)
        closedir(d);
    return n;
}

static int s_count_lines(const char *name)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s", s_sinks, name);
    FILE *f = fopen(path, "r");
    int n = 0, ch;
    while (f && (ch = fgetc(f)) != EOF)
        n += ch == '\n';
    if (f)
        fclose(f);
    return n;
}

int main(void)
{
    if (ccip_test_env_init(&s_env) < 0)
        s_die("set-up", "could not make the test environment");
    snprintf(s_sinks, sizeof s_sinks, "%s/sinks", s_env.dir);
    mkdir(s_sinks, 0700);
    int port = ccip_test_free_port();
    if ((s_smtp_pid = s_smtp_start(port)) < 0)
        s_die("set-up", "the SMTP server did not start");
    char v[300];
    snprintf(v, sizeof v, "smtp://127.0.0.1:%d", port);
    setenv("CCIP_NOTIFY_SMTP_URL", v, 1);
    setenv("CCIP_NOTIFY_MAIL_FROM", "noreply@ccip.test", 1);
    setenv("CCIP_NOTIFY_POLL_MS", "100", 1);
    setenv("CCIP_NOTIFY_SEND_BATCH", "200", 1);
    s_ctx = zmq_ctx_new();
    ccip_sock_opts front = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    char err[300];
    if (ccip_test_start_bus(&s_env) < 0 ||
        !(s_front = ccip_client_new(s_ctx, s_env.commands, &front, err, sizeof err)))
        s_die("set-up", "could not start the bus");
    /* notify once, for its schema and cursor rows; then stopped while the
     * stand-ins fill up */
    if ((s_notify_pid =
             ccip_test_start_service(&s_env, "services/notify/notify", "notify", "notify-1")) < 0 ||
        s_ready() < 0)
        s_die("set-up", "notify did not start");
    ccip_test_stop(&s_env, s_notify_pid, SIGTERM, 10000);
    for (int p = 0; p < P_COUNT; p++)
        if (!(s_prod[p] = ccip_test_producer_start(&s_env, s_ctx, s_names[p], "notify")))
            s_die("set-up", "a stand-in did not start");
    for (long k = 0; s_added < EVENTS; k++)
        s_round(k);
    char ci[1024];
    if (ccip_test_conninfo("notify", ci, sizeof ci) < 0)
        s_die("set-up", ccip_test_db_error());
    PGconn *c = PQconnectdb(ci);
    if (PQstatus(c) != CONNECTION_OK)
        s_die("set-up", PQerrorMessage(c));
    for (int p = 0; p < P_COUNT; p++) {
        char sql[300];
        snprintf(sql, sizeof sql,
                 "INSERT INTO consumer_cursor (producer, position) VALUES ('%s', %llu) "
                 "ON CONFLICT (producer) DO UPDATE SET position = excluded.position",
                 s_names[p], (unsigned long long)ccip_test_producer_head(s_prod[p]));
        PQclear(s_sql(c, sql));
    }
    if ((s_notify_pid =
             ccip_test_start_service(&s_env, "services/notify/notify", "notify", "notify-2")) < 0 ||
        s_ready() < 0)
        s_die("set-up", "notify did not start again");

    /* the replay into empty inboxes */
    Ccip__Notify__RebuildRequest rq = CCIP__NOTIFY__REBUILD_REQUEST__INIT;
    double t0 = ccip_test_mono_s();
    Ccip__Notify__RebuildReply *rb =
        (Ccip__Notify__RebuildReply *)s_call("admin", "person:bench", "notify.inbox.rebuild.v1",
                                             &rq.base, &ccip__notify__rebuild_reply__descriptor);
    double replay_s = ccip_test_mono_s() - t0;
    unsigned long long items = (unsigned long long)rb->items;
    protobuf_c_message_free_unpacked(&rb->base, NULL);

    /* the baseline: as many rows of the same table, by one INSERT ... SELECT
     * as notify's runtime role, like the replay's. The scratch table is made
     * (and dropped) by the schema's owner when it has one (bootstrap.sql):
     * the runtime role creates nothing, but may insert into what the owner
     * makes. A regular table, WAL-logged like item, so the baseline pays
     * what the replay pays. */
    ccip_db *own = ccip_test_db_connect_owner("notify");
    if (!own)
        s_die("set-up", ccip_test_db_error());
    if (ccip_db_command(own, "DROP TABLE IF EXISTS bench_item; "
                             "CREATE TABLE bench_item (LIKE item INCLUDING ALL)") != CCIP_DB_OK)
        s_die("making the scratch table bench_item", ccip_db_error(own));
    char sql[2000];
    snprintf(sql, sizeof sql,
             "INSERT INTO bench_item (id, kind, addressee, service, object_type, object_id, "
             "subject, detail, close_key, state, since, due, event_id) "
             "SELECT md5(g::text)::uuid, 'application_returned', 'org:' || (g %% %d), 'intake', "
             "'application', g::text, 'Creative park ' || g, 'the site plan is missing', "
             "'intake/application/' || g || '/correct', 'OPEN', now(), NULL, "
             "md5('e' || g)::uuid FROM generate_series(1, %d) g",
             ORGS, EVENTS);
    t0 = ccip_test_mono_s();
    PQclear(s_sql(c, sql));
    double baseline_s = ccip_test_mono_s() - t0;
    if (ccip_db_command(own, "DROP TABLE bench_item") != CCIP_DB_OK)
        s_die("dropping the scratch table bench_item", ccip_db_error(own));
    ccip_db_destroy(&own);

    /* 10,000 e-mails, due at once */
    snprintf(sql, sizeof sql,
             "WITH d AS (INSERT INTO delivery (id, item_id, account_id, login, channel, address, "
             "name, language, state, due_at) SELECT gen_random_uuid(), id, 'bench', 'bench', "
             "'EMAIL', 'bench@ccip.test', 'Bench', 'zh-CN', 'PENDING', now() FROM item "
             "ORDER BY id LIMIT %d RETURNING 1) SELECT count(*), pg_notify('notify_delivery', '') "
             "FROM d",
             MAILS);
    t0 = ccip_test_mono_s();
    PQclear(s_sql(c, sql));
    long sent = 0;
    while (ccip_test_mono_s() - t0 < 600) {
        PGresult *r = s_sql(c, "SELECT count(*) FROM delivery WHERE state = 'SENT'");
        sent = atol(PQgetvalue(r, 0, 0));
        PQclear(r);
        if (sent >= MAILS)
            break;
        ccip_test_sleep_ms(50);
    }
    double mail_s = ccip_test_mono_s() - t0;
    ccip_test_sleep_ms(500);
    int received = s_count_files("mail");
    int duplicates = s_count_lines("mail-duplicates.log");
    long lost = sent - received > 0 ? sent - received : 0;
    lost += MAILS - sent; /* never sent within ten minutes */
    PQfinish(c);
    fprintf(stderr,
            "replayed %d events into %llu items in %.2f s; baseline %.2f s; %ld mails in "
            "%.2f s\n",
            EVENTS, items, replay_s, baseline_s, sent, mail_s);
    double replay_per_s = EVENTS / replay_s, baseline_per_s = EVENTS / baseline_s;
    printf("bench notify: replay_per_s=%.0f baseline_per_s=%.0f ratio=%.2f mails_per_s=%.0f "
           "duplicates=%d lost=%ld\n",
           replay_per_s, baseline_per_s, replay_per_s / baseline_per_s, MAILS / mail_s, duplicates,
           lost);
    for (int p = 0; p < P_COUNT; p++)
        ccip_test_producer_stop(&s_prod[p]);
    ccip_client_destroy(&s_front);
    kill(s_smtp_pid, SIGTERM);
    waitpid(s_smtp_pid, NULL, 0);
    ccip_test_env_cleanup(&s_env, 0);
    return 0;
}
