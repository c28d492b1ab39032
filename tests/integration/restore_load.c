#include "restore_load.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip_id.h"
#include "ccip_test_db.h"
#include "ccip_test_intake.h"

#define DOC_BYTES    512
#define CALL_TIMEOUT 10000 /* ms per attempt of one command */
#define MAX_CLIENTS  16

/* The five services the load commands, then the two that consume their
 * events and produce their own without being commanded by it (followup,
 * notify): "everything" of a deployment but the gateway, a front door with
 * an HTTP port of its own that commands nothing here. */
static const char *const s_services[] = {"intake", "evaluation", "funding", "ip",
                                         "stats",  "followup",   "notify"};
#define NSERVICES  (sizeof s_services / sizeof s_services[0])
#define NCOMMANDED 5
/* How many of s_services rl_services_start starts (and the cursor checks
 * read): a schema never started has no cursor table to read. */
static size_t s_nservices = NCOMMANDED;

/* ---- the private cluster ------------------------------------------------ */

int rl_sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    fflush(stdout);
    fflush(stderr);
    int st = system(cmd);
    return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const char *s_source(void)
{
    const char *s = getenv("CCIP_SOURCE_DIR");
    return s ? s : ".";
}

int rl_cluster_init(rl_cluster *c, const char *name, int durable)
{
    memset(c, 0, sizeof *c);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/tests/integration/drill_cluster' init '%s' %s", s_source(), name,
             durable ? "" : "fast");
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char *lines[] = {c->dir, c->port, c->secrets};
    size_t sizes[] = {sizeof c->dir, sizeof c->port, sizeof c->secrets};
    int got = 0;
    for (; got < 3 && fgets(lines[got], (int)sizes[got], p); got++)
        lines[got][strcspn(lines[got], "\n")] = '\0';
    if (pclose(p) != 0 || got != 3) {
        fprintf(stderr, "rl_cluster_init: %s failed\n", cmd);
        return -1;
    }
    snprintf(c->backup, sizeof c->backup, "%s/backup", c->dir);
    setenv("CCIP_PGHOST", "127.0.0.1", 1);
    setenv("CCIP_PGPORT", c->port, 1);
    setenv("CCIP_PGDATABASE", "ccip", 1);
    setenv("CCIP_SECRETS_DIR", c->secrets, 1);
    return 0;
}

int rl_cluster_do(const rl_cluster *c, const char *action)
{
    return rl_sh("'%s/tests/integration/drill_cluster' %s '%s'", s_source(), action, c->dir) == 0
               ? 0
               : -1;
}

int rl_cluster_sql(const rl_cluster *c, const char *sql, char *out, size_t outlen)
{
    /* The SQL travels in the environment, so no quoting is needed. */
    setenv("RL_SQL", sql, 1);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s/tests/integration/drill_cluster' psql '%s' \"$RL_SQL\"",
             s_source(), c->dir);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[512] = "", last[512] = "";
    while (fgets(line, sizeof line, p))
        snprintf(last, sizeof last, "%s", line);
    int st = pclose(p);
    last[strcspn(last, "\n")] = '\0';
    if (out)
        snprintf(out, outlen, "%s", last);
    return st == 0 ? 0 : -1;
}

long long rl_cluster_bytes(const rl_cluster *c)
{
    char cmd[1024], line[64] = "";
    snprintf(cmd, sizeof cmd, "'%s/tests/integration/drill_cluster' du '%s'", s_source(), c->dir);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    if (!fgets(line, sizeof line, p))
        line[0] = '\0';
    return pclose(p) == 0 && line[0] ? atoll(line) : -1;
}

int rl_backup(const rl_cluster *c, const char *type)
{
    return rl_sh("'%s/scripts/backup' %s --pg-dir '%s' --backup-dir '%s' >'%s.log' 2>&1 || "
                 "{ tail -n 30 '%s.log'; exit 1; }",
                 s_source(), type, c->dir, c->backup, c->backup, c->backup) == 0
               ? 0
               : -1;
}

int rl_restore(const rl_cluster *c, const char *target)
{
    if (target) {
        setenv("RL_TARGET", target, 1);
        return rl_sh("'%s/scripts/restore' --to \"$RL_TARGET\" --pg-dir '%s' --backup-dir '%s'",
                     s_source(), c->dir, c->backup) == 0
                   ? 0
                   : -1;
    }
    return rl_sh("'%s/scripts/restore' --latest --pg-dir '%s' --backup-dir '%s'", s_source(),
                 c->dir, c->backup) == 0
               ? 0
               : -1;
}

void rl_target_text(int64_t us, char *buf, size_t len)
{
    time_t s = (time_t)(us / 1000000) + 8 * 3600; /* Beijing, UTC+8, no daylight saving */
    struct tm tm;
    gmtime_r(&s, &tm);
    char day[40];
    strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf, len, "%s.%06lld+08", day, (long long)(us % 1000000));
}

int64_t rl_switch_wal_and_time(const rl_cluster *c, char *target, size_t len)
{
    char out[128];
    /* The segment switched is then archived at once (not at archive_timeout). */
    if (rl_cluster_sql(c,
                       "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
                       " FROM (SELECT pg_switch_wal()) s",
                       out, sizeof out) < 0)
        return -1;
    int64_t us = atoll(out);
    if (target)
        rl_target_text(us, target, len);
    return us;
}

int rl_archive_flush(const rl_cluster *c, int timeout_ms)
{
    char seg[128], sql[300], out[16];
    if (rl_cluster_sql(c, "SELECT pg_walfile_name(pg_switch_wal())", seg, sizeof seg) < 0)
        return -1;
    /* segment names are fixed-width hex: text order is their order */
    snprintf(sql, sizeof sql,
             "SELECT coalesce(last_archived_wal, '') >= '%s' FROM pg_stat_archiver", seg);
    for (int waited = 0; waited <= timeout_ms; waited += 200) {
        if (rl_cluster_sql(c, sql, out, sizeof out) == 0 && strcmp(out, "t") == 0)
            return 0;
        ccip_test_sleep_ms(200);
    }
    fprintf(stderr, "rl_archive_flush: segment %s was not archived within %d ms\n", seg,
            timeout_ms);
    return -1;
}

/* ---- the services ------------------------------------------------------- */

static int s_child_running(ccip_test_env *env, const char *name)
{
    for (int i = 0; i < CCIP_TEST_MAX_PROCS; i++)
        if (env->children[i].pid > 0 && strcmp(env->children[i].name, name) == 0)
            return 1;
    return 0;
}

int rl_services_start(ccip_test_svc *s, int everything)
{
    s_nservices = everything ? NSERVICES : NCOMMANDED;
    ccip_test_env *env = &s->env;
    char key[600];
    snprintf(key, sizeof key, "%s/ip-signing.key", env->dir);
    if (access(key, R_OK) != 0 &&
        rl_sh("'%s/cli/ccipctl' ip keygen ip-signing --dir '%s' >/dev/null",
              getenv("CCIP_BINARY_DIR"), env->dir) != 0)
        return -1;
    setenv("CCIP_IP_SIGNING_KEY_FILE", key, 1);
    if (!s_child_running(env, "bus") && ccip_test_start_bus(env) < 0)
        return -1;
    for (size_t i = 0; i < s_nservices; i++) {
        char binary[64], instance[32];
        snprintf(binary, sizeof binary, "services/%s/%s", s_services[i], s_services[i]);
        snprintf(instance, sizeof instance, "%s-1", s_services[i]);
        if (!s_child_running(env, instance) &&
            ccip_test_start_service(env, binary, s_services[i], instance) < 0)
            return -1;
    }
    for (size_t i = 0; i < s_nservices; i++)
        if (ccip_test_svc_wait(s, s_services[i]) < 0)
            return -1;
    return 0;
}

int rl_services_stop(ccip_test_svc *s)
{
    ccip_test_env *env = &s->env;
    int rc = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < CCIP_TEST_MAX_PROCS; i++) {
            ccip_test_child *ch = &env->children[i];
            int is_bus = strcmp(ch->name, "bus") == 0;
            if (ch->pid <= 0 || (pass == 0) == is_bus)
                continue;
            int st = ccip_test_stop(env, ch->pid, SIGTERM, 15000);
            if (st != 0) {
                fprintf(stderr, "rl_services_stop: %s ended with %d\n", ch->name, st);
                rc = -1;
            }
        }
    }
    return rc;
}

/* The heads of the producers and every consumer cursor. */
typedef struct {
    char consumer[16];
    char producer[16];
    long long position;
    long long head;
} s_cursor;

static int s_cursors(s_cursor *out, int max, int *n)
{
    long long heads[NSERVICES];
    for (size_t i = 0; i < s_nservices; i++)
        if ((heads[i] = ccip_test_query_number(s_services[i], "SELECT head FROM outbox_state")) < 0)
            return -1;
    *n = 0;
    for (size_t i = 0; i < s_nservices; i++) {
        ccip_db *db = ccip_test_db_connect_in(s_services[i], s_services[i]);
        if (!db)
            return -1;
        PGresult *r = PQexec(ccip_db_conn(db), "SELECT producer, position FROM consumer_cursor");
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            fprintf(stderr, "could not read %s's cursors: %s", s_services[i],
                    PQerrorMessage(ccip_db_conn(db)));
            PQclear(r);
            ccip_db_destroy(&db);
            return -1;
        }
        for (int row = 0; row < PQntuples(r) && *n < max; row++) {
            s_cursor *c = &out[(*n)++];
            snprintf(c->consumer, sizeof c->consumer, "%s", s_services[i]);
            snprintf(c->producer, sizeof c->producer, "%s", PQgetvalue(r, row, 0));
            c->position = atoll(PQgetvalue(r, row, 1));
            c->head = -1;
            for (size_t k = 0; k < s_nservices; k++)
                if (strcmp(s_services[k], c->producer) == 0)
                    c->head = heads[k];
        }
        PQclear(r);
        ccip_db_destroy(&db);
    }
    return 0;
}

int rl_cursors_above_heads(int *n)
{
    s_cursor cs[64];
    if (s_cursors(cs, 64, n) < 0)
        return -1;
    int above = 0;
    for (int i = 0; i < *n; i++) {
        if (cs[i].head >= 0 && cs[i].position > cs[i].head) {
            fprintf(stderr, "%s's cursor of %s is %lld, above %s's head %lld\n", cs[i].consumer,
                    cs[i].producer, cs[i].position, cs[i].producer, cs[i].head);
            above++;
        }
    }
    return above;
}

int rl_wait_caught_up(int timeout_ms)
{
    s_cursor cs[64];
    int n = 0, behind = 0;
    for (int waited = 0; waited <= timeout_ms; waited += 200) {
        if (s_cursors(cs, 64, &n) < 0)
            return -1;
        behind = -1;
        for (int i = 0; i < n && behind < 0; i++)
            if (cs[i].head >= 0 && cs[i].position != cs[i].head)
                behind = i;
        if (behind < 0)
            return 0;
        ccip_test_sleep_ms(200);
    }
    fprintf(stderr, "%s's cursor of %s stays at %lld, %s's head is %lld\n", cs[behind].consumer,
            cs[behind].producer, cs[behind].position, cs[behind].producer, cs[behind].head);
    return -1;
}

/* ---- the load -------------------------------------------------------------- */

typedef enum { K_FILE, K_WORK, K_EXPERT, K_PROGRAMME } s_kind;

typedef struct {
    rl_load *l;
    int i;          /* its number */
    char uscc[19];  /* its organisation */
    char actor[32]; /* org:<uscc> */
    ccip_client *c; /* its own front door */
    long filed;     /* applications it filed */
    long done;      /* commands acknowledged in this run */
    long n;         /* commands sent overall (names) */
    int failed;     /* a command failed */
} s_client;

struct rl_load {
    ccip_test_svc *svc;
    int nclients;
    int accept; /* every other filing is accepted */
    s_client clients[MAX_CLIENTS];
    s_kind pattern[64]; /* the mix, one entry per command */
    int npattern;
    char (*calls)[CCIP_UUID_STRLEN + 1];
    long ncalls;    /* calls made by rl_load_prepare */
    long next_call; /* the next call not yet used: every call is used once, by whichever
                       client comes first (fixed slices ran out on the fast clients) */
    char tag[16];   /* this process's mark in names */
    pthread_mutex_t lock;
    rl_ack *acks;
    size_t nacks, cap;
    int64_t until_us;
    long count_limit;
    long run_done; /* acknowledged in this run, all clients */
    pthread_t threads[MAX_CLIENTS];
    int running;
};

/* One command through client via (NULL: the suite's front door) under
 * command id `id` (NULL: a fresh one), waiting up to CALL_TIMEOUT per
 * attempt; the reply's sentence, or why none came, into err. Returns the
 * reply's status (0 OK, with *out decoded as reply_desc when both are
 * given), or -1 when no reply came or an OK reply did not decode. */
static int s_command(ccip_test_svc *s, ccip_client *via, const char *service, const char *role,
                     const char *actor, const char *type, const char *id,
                     const ProtobufCMessage *rq, const ProtobufCMessageDescriptor *reply_desc,
                     ProtobufCMessage **out, char *err, size_t errlen)
{
    ccip_test_cmd c = {.service = service,
                       .role = role,
                       .actor = actor,
                       .type = type,
                       .msg = rq,
                       .id = id,
                       .out = reply_desc,
                       .via = via,
                       .timeout_ms = CALL_TIMEOUT,
                       .error = err,
                       .error_len = errlen};
    int st = ccip_test_send_cmd(s, &c, out);
    return st == 0 && reply_desc && out && !*out ? -1 : st;
}

rl_load *rl_load_new(ccip_test_svc *s, int clients, rl_mix mix)
{
    if (clients < 1 || clients > MAX_CLIENTS)
        return NULL;
    rl_load *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->svc = s;
    l->nclients = clients;
    l->accept = mix.accept;
    pthread_mutex_init(&l->lock, NULL);
    /* The process and the load: a later load of the same process (the
     * bench's third, after a restore kept some of the second's) must not
     * reuse the names of an earlier one. */
    static int s_loads;
    snprintf(l->tag, sizeof l->tag, "%ld%c", (long)getpid() % 100000, 'a' + s_loads++ % 26);
    int weights[] = {mix.filings, mix.works, mix.experts, mix.programmes};
    for (int k = 0; k < 4; k++)
        for (int w = 0; w < weights[k] && l->npattern < 64; w++)
            l->pattern[l->npattern++] = (s_kind)k;
    if (l->npattern == 0)
        l->pattern[l->npattern++] = K_FILE;
    for (int i = 0; i < clients; i++) {
        s_client *c = &l->clients[i];
        c->l = l;
        c->i = i;
        char uscc[19]; /* a copy: GCC takes c->uscc and c->actor for one object */
        ccip_test_uscc("110105", uscc);
        memcpy(c->uscc, uscc, sizeof uscc);
        snprintf(c->actor, sizeof c->actor, "org:%s", uscc);
        if (!(c->c = ccip_test_svc_client(s, &s->env.front_keys))) {
            rl_load_destroy(&l);
            return NULL;
        }
    }
    return l;
}

void rl_load_destroy(rl_load **l)
{
    if (!l || !*l)
        return;
    rl_load *x = *l;
    if (x->running)
        rl_load_join(x);
    for (int i = 0; i < x->nclients; i++)
        ccip_client_destroy(&x->clients[i].c);
    free(x->calls);
    free(x->acks);
    pthread_mutex_destroy(&x->lock);
    free(x);
    *l = NULL;
}

int rl_load_prepare(rl_load *l, long applications)
{
    long n = applications + l->nclients;
    l->ncalls = n;
    l->next_call = 0;
    l->calls = calloc((size_t)n, sizeof *l->calls);
    if (!l->calls)
        return -1;
    if (ccip_test_intake_calls(l->svc->front, "restore drill", n, l->calls) < 0)
        return -1;
    for (int i = 0; i < l->nclients; i++)
        if (ccip_test_intake_org(l->svc->front, l->clients[i].uscc,
                                 "Beijing Drill Creative Co., Ltd.") < 0)
            return -1;
    return 0;
}

static void s_record(rl_load *l, const char *service, const char *type, const char *id,
                     const char *key, int64_t sent, int64_t acked)
{
    pthread_mutex_lock(&l->lock);
    if (l->nacks == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        rl_ack *a = realloc(l->acks, cap * sizeof *a);
        if (!a) {
            pthread_mutex_unlock(&l->lock);
            return;
        }
        l->acks = a;
        l->cap = cap;
    }
    rl_ack *a = &l->acks[l->nacks++];
    snprintf(a->service, sizeof a->service, "%s", service);
    snprintf(a->type, sizeof a->type, "%s", type);
    snprintf(a->id, sizeof a->id, "%s", id);
    snprintf(a->key, sizeof a->key, "%s", key);
    a->sent_us = sent;
    a->acked_us = acked;
    l->run_done++;
    pthread_mutex_unlock(&l->lock);
}

/* Sends one command and records it when acknowledged. Returns 0 or -1. */
static int s_send(s_client *c, const char *service, const char *role, const char *actor,
                  const char *type, const ProtobufCMessage *rq,
                  const ProtobufCMessageDescriptor *reply_desc, ProtobufCMessage **out,
                  const char *key)
{
    char id[CCIP_UUID_STRLEN + 1], err[512];
    ccip_uuid_v7(id);
    int64_t sent = ccip_now_us();
    int st = s_command(c->l->svc, c->c, service, role, actor, type, id, rq, reply_desc, out, err,
                       sizeof err);
    int64_t acked = ccip_now_us();
    if (st != 0) {
        fprintf(stderr, "restore load: %s failed: %d %s\n", type, st, err);
        return -1;
    }
    const char *k = key;
    char app[CCIP_UUID_STRLEN + 1];
    if (!k && out && *out && reply_desc == &ccip__intake__application_reply__descriptor) {
        snprintf(app, sizeof app, "%s", ((Ccip__Intake__ApplicationReply *)*out)->application->id);
        k = app;
    } else if (!k && out && *out && reply_desc == &ccip__ip__register_work_reply__descriptor) {
        snprintf(app, sizeof app, "%s", ((Ccip__Ip__RegisterWorkReply *)*out)->work->id);
        k = app;
    }
    s_record(c->l, service, type, id, k ? k : "", sent, acked);
    c->done++;
    return 0;
}

static int s_file(s_client *c)
{
    rl_load *l = c->l;
    pthread_mutex_lock(&l->lock);
    long k = l->next_call < l->ncalls ? l->next_call++ : -1;
    pthread_mutex_unlock(&l->lock);
    if (k < 0) {
        fprintf(stderr, "restore load: the %ld calls prepared are used\n", l->ncalls);
        return -1;
    }
    const char *call = l->calls[k];
    c->filed++;
    uint8_t doc[DOC_BYTES];
    memset(doc, ' ', sizeof doc);
    int n = snprintf((char *)doc, sizeof doc, "%%PDF-1.4 business licence of %s for call %s",
                     c->uscc, call);
    doc[n] = ' ';
    Ccip__Intake__DocumentUpload u = CCIP__INTAKE__DOCUMENT_UPLOAD__INIT;
    u.doc_type = CCIP_TEST_REQUIRED_DOC;
    u.name = "licence.pdf";
    u.media_type = "application/pdf";
    u.content.data = doc;
    u.content.len = sizeof doc;
    Ccip__Intake__DocumentUpload *docs[] = {&u};
    Ccip__Intake__ClusterFacts f = CCIP__INTAKE__CLUSTER_FACTS__INIT;
    f.cluster_name = "Langyuan Station creative park";
    f.location = "Langjiayuan 6, Jianguo Road";
    f.area_m2 = 60000;
    f.enterprise_count = 120;
    f.employee_count = 3500;
    f.lead_operator = "Langyuan Cultural Investment Co.";
    Ccip__Intake__ApplicationContent content = CCIP__INTAKE__APPLICATION_CONTENT__INIT;
    content.title = "Digital heritage workshop";
    content.summary = "Restoring and digitising opera costumes in a former printing works.";
    content.district = "110105";
    content.facts_case = CCIP__INTAKE__APPLICATION_CONTENT__FACTS_CLUSTER;
    content.cluster = &f;
    Ccip__Intake__FileApplicationRequest rq = CCIP__INTAKE__FILE_APPLICATION_REQUEST__INIT;
    rq.call_id = (char *)call;
    rq.applicant_uscc = c->uscc;
    rq.content = &content;
    rq.documents = docs;
    rq.n_documents = 1;
    Ccip__Intake__ApplicationReply *r = NULL;
    if (s_send(c, "intake", "applicant", c->actor, "intake.application.file.v1", &rq.base,
               &ccip__intake__application_reply__descriptor, (ProtobufCMessage **)&r, NULL) < 0)
        return -1;
    char app[CCIP_UUID_STRLEN + 1];
    snprintf(app, sizeof app, "%s", r->application->id);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    if (!l->accept || c->filed % 2)
        return 0;
    /* Every other application is accepted: its event opens a case in
     * evaluation and feeds stats. */
    Ccip__Intake__ApplicationActionRequest act = CCIP__INTAKE__APPLICATION_ACTION_REQUEST__INIT;
    act.application_id = app;
    return s_send(c, "intake", "staff", "staff-drill", "intake.application.accept.v1", &act.base,
                  NULL, NULL, app);
}

static int s_work(s_client *c)
{
    char a[CCIP_UUID_STRLEN + 1], b[CCIP_UUID_STRLEN + 1], hex[65];
    ccip_uuid_v4(a);
    ccip_uuid_v4(b);
    int k = 0;
    for (const char *p = a; *p; p++)
        if (*p != '-')
            hex[k++] = *p;
    for (const char *p = b; *p; p++)
        if (*p != '-')
            hex[k++] = *p;
    hex[k] = '\0';
    Ccip__Ip__RegisterWorkRequest rq = CCIP__IP__REGISTER_WORK_REQUEST__INIT;
    rq.kind = CCIP__IP__WORK_KIND__COPYRIGHT_LITERARY;
    rq.title = "A work of the restore drill";
    rq.created_on = "2026-01-15";
    rq.content_sha256 = hex;
    char *creators[] = {"张三"};
    rq.creators = creators;
    rq.n_creators = 1;
    Ccip__Ip__RegisterWorkReply *r = NULL;
    int rc = s_send(c, "ip", "owner", c->actor, "ip.work.register.v1", &rq.base,
                    &ccip__ip__register_work_reply__descriptor, (ProtobufCMessage **)&r, NULL);
    if (r)
        protobuf_c_message_free_unpacked(&r->base, NULL);
    return rc;
}

static int s_expert(s_client *c)
{
    char id[33];
    snprintf(id, sizeof id, "EX-%s-%d-%ld", c->l->tag, c->i, c->n);
    Ccip__Evaluation__RegisterExpertRequest rq = CCIP__EVALUATION__REGISTER_EXPERT_REQUEST__INIT;
    rq.id = id;
    rq.name = "张教授";
    char *fields[] = {"design", "general"};
    rq.fields = fields;
    rq.n_fields = 2;
    rq.affiliation_uscc = c->uscc;
    rq.affiliation_name = "Capital Normal University";
    rq.district = "Haidian";
    rq.max_concurrent_reviews = 5;
    rq.phone = "";
    rq.email = "";
    return s_send(c, "evaluation", "staff", "staff-drill", "evaluation.expert.register.v1",
                  &rq.base, NULL, NULL, id);
}

static int s_programme(s_client *c)
{
    char code[33];
    snprintf(code, sizeof code, "P-%s-%d-%ld", c->l->tag, c->i, c->n);
    Ccip__Funding__CreateProgrammeRequest rq = CCIP__FUNDING__CREATE_PROGRAMME_REQUEST__INIT;
    rq.code = code;
    rq.name = "文化创意产业发展专项资金";
    rq.description = "Special fund (restore drill)";
    return s_send(c, "funding", "staff", "staff-drill", "funding.programme.create.v1", &rq.base,
                  NULL, NULL, code);
}

static int s_more(rl_load *l)
{
    pthread_mutex_lock(&l->lock);
    int more = (!l->until_us || ccip_now_us() < l->until_us) &&
               (!l->count_limit || l->run_done < l->count_limit);
    pthread_mutex_unlock(&l->lock);
    return more;
}

void rl_load_stop(rl_load *l)
{
    pthread_mutex_lock(&l->lock);
    l->until_us = ccip_now_us();
    pthread_mutex_unlock(&l->lock);
}

void rl_load_forget_after(rl_load *l, int64_t target_us)
{
    pthread_mutex_lock(&l->lock);
    size_t k = 0;
    for (size_t i = 0; i < l->nacks; i++)
        if (l->acks[i].sent_us <= target_us)
            l->acks[k++] = l->acks[i];
    l->nacks = k;
    pthread_mutex_unlock(&l->lock);
}

static void *s_client_run(void *arg)
{
    s_client *c = arg;
    rl_load *l = c->l;
    while (!c->failed && s_more(l)) {
        s_kind k = l->pattern[(c->n + c->i) % l->npattern];
        int rc = k == K_FILE     ? s_file(c)
                 : k == K_WORK   ? s_work(c)
                 : k == K_EXPERT ? s_expert(c)
                                 : s_programme(c);
        c->n++;
        if (rc < 0)
            c->failed = 1;
    }
    return NULL;
}

int rl_load_start(rl_load *l, int64_t until_us, long count)
{
    pthread_mutex_lock(&l->lock);
    l->until_us = until_us;
    l->count_limit = count;
    l->run_done = 0;
    pthread_mutex_unlock(&l->lock);
    for (int i = 0; i < l->nclients; i++) {
        l->clients[i].done = 0;
        l->clients[i].failed = 0;
        if (pthread_create(&l->threads[i], NULL, s_client_run, &l->clients[i]) != 0)
            return -1;
    }
    l->running = 1;
    return 0;
}

long rl_load_join(rl_load *l)
{
    if (!l->running)
        return -1;
    int failed = 0;
    for (int i = 0; i < l->nclients; i++) {
        pthread_join(l->threads[i], NULL);
        failed |= l->clients[i].failed;
    }
    l->running = 0;
    return failed ? -1 : l->run_done;
}

long rl_load_run(rl_load *l, int64_t until_us, long count)
{
    if (rl_load_start(l, until_us, count) < 0)
        return -1;
    return rl_load_join(l);
}

size_t rl_load_acks(const rl_load *l, const rl_ack **acks)
{
    *acks = l->acks;
    return l->nacks;
}

/* ---- the check ---------------------------------------------------------------- */

/* What must exist, exactly once, for an acknowledged command of a type:
 * SQL with $1 = the keys (text[]) returning (key, count). */
typedef struct {
    const char *type;
    const char *effect; /* its effect, counted by key */
} s_effect;

/* Joins, never a subquery per row: a bench looks for 50,000 keys among as
 * many rows (a correlated count over the outbox per application took more
 * than ten minutes there). */
#define KEYS "(SELECT DISTINCT unnest($1::text[]) AS key) k"
/* A row of `table` whose id is the key, and exactly one event of `type`
 * about it: the count is the number of those events, 0 without the row. */
#define ROW_AND_EVENT(table, type)                                                                 \
    "WITH ev AS (SELECT o.aggregate_id AS key, count(*) AS n FROM outbox o JOIN " KEYS             \
    " ON o.aggregate_id = k.key WHERE o.type = '" type "' GROUP BY 1) "                            \
    "SELECT t.id::text, coalesce(max(ev.n), 0) FROM " table " t JOIN " KEYS                        \
    " ON t.id::text = k.key LEFT JOIN ev ON ev.key = k.key GROUP BY t.id"

static const s_effect s_effects[] = {
    {"intake.application.file.v1", ROW_AND_EVENT("application", "intake.application.submitted.v1")},
    {"intake.application.accept.v1",
     "SELECT o.aggregate_id, count(*) FROM outbox o JOIN " KEYS " ON o.aggregate_id = k.key "
     "WHERE o.type = 'intake.application.accepted.v1' GROUP BY 1"},
    {"ip.work.register.v1", ROW_AND_EVENT("work", "ip.work.registered.v1")},
    {"evaluation.expert.register.v1",
     "SELECT e.id, count(*) FROM expert e JOIN " KEYS " ON e.id = k.key GROUP BY e.id"},
    {"funding.programme.create.v1",
     "SELECT p.code, count(*) FROM programme p JOIN " KEYS " ON p.code = k.key GROUP BY p.code"},
};

/* Appends s to a text[] literal being built in *buf. */
static int s_array_add(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t need = strlen(s) + 4;
    if (*len + need + 2 > *cap) {
        size_t cap2 = (*cap + need) * 2 + 64;
        char *b = realloc(*buf, cap2);
        if (!b)
            return -1;
        *buf = b;
        *cap = cap2;
    }
    *len += (size_t)snprintf(*buf + *len, *cap - *len, "%s\"%s\"", *len > 1 ? "," : "", s);
    return 0;
}

/* For the sort and search of s_lookup: which string of an ack is compared. */
static const rl_ack *s_sort_acks;
static int s_sort_by_key;

static const char *s_field(size_t i)
{
    return s_sort_by_key ? s_sort_acks[i].key : s_sort_acks[i].id;
}

static int s_cmp_index(const void *a, const void *b)
{
    return strcmp(s_field(*(const size_t *)a), s_field(*(const size_t *)b));
}

/* For each ack of `service` (and of `type` when the effect is looked for;
 * NULL: the stored reply in command_log), sets found[i] to the count. The
 * acks are sorted by the string looked for, so that each row of the
 * answer finds its ack by binary search (a bench has 100,000 of them). */
static int s_lookup(const rl_load *l, const char *service, const char *type, const char *sql,
                    int *found)
{
    char *arr = malloc(64);
    size_t len = 1, cap = 64;
    size_t *idx = calloc(l->nacks + 1, sizeof *idx);
    if (!arr || !idx) {
        free(arr);
        free(idx);
        return -1;
    }
    arr[0] = '{';
    arr[1] = '\0';
    size_t n = 0;
    for (size_t i = 0; i < l->nacks; i++) {
        const rl_ack *a = &l->acks[i];
        if (strcmp(a->service, service) != 0 || (type && strcmp(a->type, type) != 0))
            continue;
        if (s_array_add(&arr, &len, &cap, type ? a->key : a->id) < 0) {
            free(arr);
            free(idx);
            return -1;
        }
        idx[n++] = i;
    }
    snprintf(arr + len, cap - len, "}");
    if (n == 0) {
        free(arr);
        free(idx);
        return 0;
    }
    s_sort_acks = l->acks;
    s_sort_by_key = type != NULL;
    qsort(idx, n, sizeof *idx, s_cmp_index);
    ccip_db *db = ccip_test_db_connect_in(service, service);
    if (!db) {
        free(arr);
        free(idx);
        return -1;
    }
    const char *values[] = {arr};
    PGresult *r = PQexecParams(ccip_db_conn(db), sql, 1, NULL, values, NULL, NULL, 0);
    free(arr);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "rl_load_check: %s: %s", service, PQerrorMessage(ccip_db_conn(db)));
        PQclear(r);
        ccip_db_destroy(&db);
        free(idx);
        return -1;
    }
    for (int row = 0; row < PQntuples(r); row++) {
        const char *k = PQgetvalue(r, row, 0);
        int count = atoi(PQgetvalue(r, row, 1));
        size_t lo = 0, hi = n; /* the first index whose string is >= k */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(s_field(idx[mid]), k) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < n && strcmp(s_field(idx[lo]), k) == 0; lo++)
            found[idx[lo]] = count;
    }
    PQclear(r);
    ccip_db_destroy(&db);
    free(idx);
    return 0;
}

int rl_load_check(rl_load *l, int64_t target_us, rl_check *out)
{
    memset(out, 0, sizeof *out);
    int *reply = calloc(l->nacks + 1, sizeof *reply);
    int *effect = calloc(l->nacks + 1, sizeof *effect);
    int rc = reply && effect ? 0 : -1;
    for (size_t s = 0; rc == 0 && s < NCOMMANDED; s++)
        rc = s_lookup(l, s_services[s], NULL,
                      "SELECT c.command_id, count(*) FROM command_log c JOIN " KEYS
                      " ON c.command_id = k.key GROUP BY c.command_id",
                      reply);
    for (size_t e = 0; rc == 0 && e < sizeof s_effects / sizeof s_effects[0]; e++) {
        char service[16];
        snprintf(service, sizeof service, "%.*s", (int)strcspn(s_effects[e].type, "."),
                 s_effects[e].type);
        rc = s_lookup(l, service, s_effects[e].type, s_effects[e].effect, effect);
    }
    for (size_t i = 0; rc == 0 && i < l->nacks; i++) {
        const rl_ack *a = &l->acks[i];
        int once = reply[i] == 1 && effect[i] == 1;
        int any = reply[i] > 0 || effect[i] > 0;
        if (once && a->acked_us / 1000 > out->newest_kept_ms)
            out->newest_kept_ms = a->acked_us / 1000;
        if (a->acked_us < target_us) {
            out->acked_before++;
            if (!once) {
                if (!out->oldest_missing_us || a->acked_us < out->oldest_missing_us)
                    out->oldest_missing_us = a->acked_us;
                if (out->missing_before < 5)
                    fprintf(stderr,
                            "%s %s (%s) acknowledged before the target: stored reply %d, "
                            "effect %d\n",
                            a->type, a->id, a->key, reply[i], effect[i]);
                out->missing_before++;
            }
        } else if (a->sent_us > target_us) {
            out->sent_after++;
            if (any) {
                if (out->present_after < 5)
                    fprintf(stderr, "%s %s (%s) sent after the target is present\n", a->type, a->id,
                            a->key);
                out->present_after++;
            }
        } else {
            out->in_flight++;
        }
    }
    free(reply);
    free(effect);
    return rc;
}
