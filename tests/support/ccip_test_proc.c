/* setns() and CLONE_NEWNET (a child joins the network namespace a test
 * made for it) */
#define _GNU_SOURCE
#include "ccip_test_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip/bus.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"

#include "ccip_test.h"
#include "ccip_test_db.h"

void ccip_test_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Ports for listeners a test starts are taken from below Linux's ephemeral
 * range (ip_local_port_range starts at 32768), never from a kernel-chosen
 * bind to port 0: a port the kernel handed out is also where any client's
 * outgoing connection may land, so when a test stopped a bus and started it
 * again on the same port, a libpq or ZeroMQ connection of a suite running
 * beside it had sometimes taken it meanwhile ("could not bind ...: Address
 * already in use"). Each port handed out is also locked for the life of the
 * test process (flock on a file per port), so two suites running side by
 * side (ctest -j) never get the same port. scripts/test, the benches and
 * the drills put PostgreSQL at 15432-18632, the demo at 25432-28080. */
#define PORT_LOW      10000
#define PORT_HIGH     15000 /* exclusive */
#define PORT_LOCK_DIR "/tmp/ccip-test-ports"

int ccip_test_free_port(void)
{
    mkdir(PORT_LOCK_DIR, 01777);
    unsigned span = PORT_HIGH - PORT_LOW;
    unsigned start = (unsigned)getpid() * 7919u + (unsigned)time(NULL);
    for (unsigned i = 0; i < span; i++) {
        int port = PORT_LOW + (int)((start + i) % span);
        char path[64];
        snprintf(path, sizeof path, PORT_LOCK_DIR "/%d", port);
        int lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (lock < 0)
            continue;
        if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
            close(lock); /* another test process holds it */
            continue;
        }
        /* Free of other software too (a demo, a developer's server)? The
         * listener will set SO_REUSEADDR as ZeroMQ and libmicrohttpd do, so a
         * connection of a stopped predecessor in TIME-WAIT does not count. */
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
                 bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        if (fd >= 0)
            close(fd);
        if (ok)
            return port; /* `lock` stays open (and locked) until the process ends */
        close(lock);
    }
    fprintf(stderr, "ccip_test_free_port: no free port between %d and %d\n", PORT_LOW,
            PORT_HIGH - 1);
    return -1;
}

/* Makes key `name` in env->dir/sub: a service key bound to `service`, or
 * of `kind` (front door for any person, admin, the bus's own). */
static int s_key(ccip_test_env *env, const char *sub, const char *name, ccip_keypair *kp,
                 ccip_key_kind kind, const char *service)
{
    char dir[400], err[256];
    snprintf(dir, sizeof dir, "%s/%s", env->dir, sub);
    ccip_key_binding b = {.kind = kind, .any_person = kind == CCIP_KEY_FRONT_DOOR};
    snprintf(b.service, sizeof b.service, "%s", service ? service : "");
    if (ccip_keypair_generate(kp) < 0 ||
        ccip_keypair_save(dir, name, kp, &b, err, sizeof err) < 0) {
        fprintf(stderr, "ccip_test_env_init: %s\n", err);
        return -1;
    }
    return 0;
}

int ccip_test_env_init(ccip_test_env *env)
{
    memset(env, 0, sizeof *env);
    if (ccip_test_tmpdir(env->dir, sizeof env->dir) < 0)
        return -1;
    char path[400];
    snprintf(path, sizeof path, "%s/keys", env->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/allowed", env->dir);
    mkdir(path, 0700);
    int p1 = ccip_test_free_port(), p2 = ccip_test_free_port(), p3 = ccip_test_free_port();
    if (p1 < 0 || p2 < 0 || p3 < 0)
        return -1;
    snprintf(env->commands, sizeof env->commands, "tcp://127.0.0.1:%d", p1);
    snprintf(env->publish, sizeof env->publish, "tcp://127.0.0.1:%d", p2);
    snprintf(env->subscribe, sizeof env->subscribe, "tcp://127.0.0.1:%d", p3);
    ccip_keypair kp_front;
    /* Services and clients allowed in have their .pub in allowed/ (their
     * .key beside it, as a test needs both); the stranger's lives apart. */
    if (s_key(env, "keys", "bus", &env->bus_keys, CCIP_KEY_BUS, NULL) < 0 ||
        s_key(env, "allowed", "tester", &env->client_keys, CCIP_KEY_SERVICE, "tester") < 0 ||
        s_key(env, "allowed", "ccipctl", &env->front_keys, CCIP_KEY_FRONT_DOOR, NULL) < 0 ||
        s_key(env, "allowed", "operator", &env->admin_keys, CCIP_KEY_ADMIN, NULL) < 0 ||
        s_key(env, "allowed", "gateway-front", &kp_front, CCIP_KEY_FRONT_DOOR, NULL) < 0 ||
        s_key(env, "keys", "stranger", &env->stranger_keys, CCIP_KEY_SERVICE, "tester") < 0)
        return -1;
    const char *services[] = {"probea", "probeb", "intake",   "evaluation", "funding", "ip",
                              "stats",  "notify", "followup", "gateway",    "casefile"};
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        ccip_keypair kp;
        if (s_key(env, "allowed", services[i], &kp, CCIP_KEY_SERVICE, services[i]) < 0)
            return -1;
    }
    return 0;
}

static ccip_test_child *s_slot(ccip_test_env *env)
{
    for (int i = 0; i < CCIP_TEST_MAX_PROCS; i++)
        if (env->children[i].pid == 0)
            return &env->children[i];
    return NULL;
}

/* Forks and execs binary with the given environment additions. */
static pid_t s_spawn(ccip_test_env *env, const char *name, const char *binary, char *const *vars)
{
    ccip_test_child *slot = s_slot(env);
    const char *build = getenv("CCIP_BINARY_DIR");
    if (!slot || !build) {
        fprintf(stderr, "could not start %s: %s\n", name,
                build ? "too many children" : "CCIP_BINARY_DIR is not set (run under ctest)");
        return -1;
    }
    char exe[600], log[400];
    snprintf(exe, sizeof exe, "%s/%s", build, binary);
    snprintf(log, sizeof log, "%s/%s.log", env->dir, name);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* A test that dies (an assertion, ASan) must not leave its services
         * running: they would hold the ports, the cluster and the tree's
         * test lock until someone kills them. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        if (env->netns[0]) {
            /* into its own network namespace before it opens any socket */
            char ns[128];
            snprintf(ns, sizeof ns, "/run/netns/%s", env->netns);
            int nfd = open(ns, O_RDONLY | O_CLOEXEC);
            if (nfd < 0 || setns(nfd, CLONE_NEWNET) != 0) {
                fprintf(stderr, "could not enter network namespace %s: %s\n", ns, strerror(errno));
                _exit(126);
            }
            close(nfd);
        }
        for (char *const *v = vars; *v; v++)
            putenv(*v);
        /* CCIP_TEST_VALGRIND: the process runs under that command line
         * (words separated by spaces), e.g. "valgrind --error-exitcode=99". */
        const char *wrap = getenv("CCIP_TEST_VALGRIND");
        if (wrap && *wrap) {
            static char words[1024];
            char *argv[40];
            int n = 0;
            snprintf(words, sizeof words, "%s", wrap);
            for (char *w = strtok(words, " "); w && n < 38; w = strtok(NULL, " "))
                argv[n++] = w;
            argv[n++] = exe;
            argv[n] = NULL;
            execvp(argv[0], argv);
            fprintf(stderr, "could not exec %s: %s\n", argv[0], strerror(errno));
            _exit(127);
        }
        execl(exe, exe, (char *)NULL);
        fprintf(stderr, "could not exec %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    snprintf(slot->name, sizeof slot->name, "%s", name);
    slot->pid = pid;
    return pid;
}

pid_t ccip_test_start_bus(ccip_test_env *env)
{
    static char v[8][512];
    snprintf(v[0], sizeof v[0], "CCIP_BUS_COMMANDS=%s", env->commands);
    snprintf(v[1], sizeof v[1], "CCIP_BUS_PUBLISH=%s", env->publish);
    snprintf(v[2], sizeof v[2], "CCIP_BUS_SUBSCRIBE=%s", env->subscribe);
    snprintf(v[3], sizeof v[3], "CCIP_CURVE_KEY_FILE=%s/keys/bus.key", env->dir);
    snprintf(v[4], sizeof v[4], "CCIP_CURVE_KEYS_DIR=%s/allowed", env->dir);
    snprintf(v[5], sizeof v[5], "CCIP_INSTANCE=bus-test");
    char *vars[] = {v[0], v[1], v[2], v[3], v[4], v[5], NULL};
    return s_spawn(env, "bus", "services/bus/bus", vars);
}

pid_t ccip_test_start_service(ccip_test_env *env, const char *binary, const char *service,
                              const char *instance)
{
    const char *secrets = getenv("CCIP_SECRETS_DIR");
    if (!secrets || !getenv("CCIP_PGHOST")) {
        fprintf(stderr, "could not start %s: run through scripts/test (PostgreSQL env unset)\n",
                instance);
        return -1;
    }
    char path[600], password[256] = "";
    snprintf(path, sizeof path, "%s/db-%s.password", secrets, service);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(password, sizeof password, f)) {
        if (f)
            fclose(f);
        fprintf(stderr, "could not read %s\n", path);
        return -1;
    }
    fclose(f);
    password[strcspn(password, "\r\n")] = '\0';
    /* The schema's owner role, when bootstrap.sql made one (the domain
     * services): the service applies its migrations as the owner. */
    char owner_password[256] = "";
    snprintf(path, sizeof path, "%s/db-%s_owner.password", secrets, service);
    if ((f = fopen(path, "r")) != NULL) {
        if (!fgets(owner_password, sizeof owner_password, f))
            owner_password[0] = '\0';
        fclose(f);
        owner_password[strcspn(owner_password, "\r\n")] = '\0';
    }
    /* Each child gets its own strings: putenv keeps the pointers. */
    enum { NVARS = 16 };
    char **v = calloc(NVARS + 1, sizeof *v);
    for (int i = 0; i < NVARS; i++)
        v[i] = calloc(1, 600);
    snprintf(v[0], 600, "CCIP_BUS_COMMANDS=%s", env->commands);
    snprintf(v[1], 600, "CCIP_BUS_PUBLISH=%s", env->publish);
    snprintf(v[2], 600, "CCIP_BUS_SUBSCRIBE=%s", env->subscribe);
    snprintf(v[3], 600, "CCIP_CURVE_KEY_FILE=%s/allowed/%s.key", env->dir, service);
    snprintf(v[4], 600, "CCIP_CURVE_SERVER_KEY_FILE=%s/keys/bus.pub", env->dir);
    snprintf(v[5], 600, "CCIP_INSTANCE=%s", instance);
    snprintf(v[6], 600, "CCIP_DB_HOST=%s", getenv("CCIP_PGHOST"));
    if (env->db_port > 0)
        snprintf(v[7], 600, "CCIP_DB_PORT=%d", env->db_port);
    else
        snprintf(v[7], 600, "CCIP_DB_PORT=%s", getenv("CCIP_PGPORT"));
    snprintf(v[8], 600, "CCIP_DB_NAME=%s", getenv("CCIP_PGDATABASE"));
    snprintf(v[9], 600, "CCIP_DB_USER=ccip_%s", service);
    snprintf(v[10], 600, "CCIP_DB_PASSWORD=%s", password);
    snprintf(v[11], 600, "CCIP_LOG_LEVEL=%s",
             getenv("CCIP_TEST_LOG_LEVEL") ? getenv("CCIP_TEST_LOG_LEVEL") : "info");
    snprintf(v[12], 600, "CCIP_DB_OWNER_USER=%s%s%s", owner_password[0] ? "ccip_" : "",
             owner_password[0] ? service : "", owner_password[0] ? "_owner" : "");
    snprintf(v[13], 600, "CCIP_DB_OWNER_PASSWORD=%s", owner_password);
    /* The gateway's second key: the front door it speaks for people with
     * (its service key registers and publishes as the gateway). */
    snprintf(v[14], 600, "CCIP_GATEWAY_FRONT_DOOR_KEY_FILE=%s/allowed/gateway-front.key", env->dir);
    /* ip's hourly anchors (services/ip/ip_anchors.h) only where a suite asks
     * for them: one falling due mid-suite would add records to ip's chain
     * and ask producers the suite never started for their heads. */
    const char *anchors = getenv("CCIP_IP_ANCHOR_SECONDS");
    snprintf(v[15], 600, "CCIP_IP_ANCHOR_SECONDS=%s", anchors ? anchors : "0");
    pid_t pid = s_spawn(env, instance, binary, v);
    /* The parent's copies are no longer needed (the child has its own). */
    for (int i = 0; i < NVARS; i++)
        free(v[i]);
    free(v);
    return pid;
}

int ccip_test_stop(ccip_test_env *env, pid_t pid, int sig, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    kill(pid, sig);
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            for (int i = 0; i < CCIP_TEST_MAX_PROCS; i++)
                if (env->children[i].pid == pid)
                    env->children[i].pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        ccip_test_sleep_ms(10);
    }
    return -1;
}

void ccip_test_env_cleanup(ccip_test_env *env, int print_logs)
{
    for (int i = 0; i < CCIP_TEST_MAX_PROCS; i++) {
        if (env->children[i].pid > 0)
            ccip_test_stop(env, env->children[i].pid, SIGKILL, 2000);
    }
    if (!print_logs)
        return;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "for f in %s/*.log; do echo \"== $f\"; tail -n 40 \"$f\"; done",
             env->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "(could not print logs of %s)\n", env->dir);
}

long long ccip_test_query_number(const char *svc, const char *sql)
{
    char conninfo[1024];
    if (ccip_test_conninfo(svc, conninfo, sizeof conninfo) < 0) {
        fprintf(stderr, "%s\n", ccip_test_db_error());
        return -1;
    }
    PGconn *c = PQconnectdb(conninfo);
    long long v = -1;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, sql); /* test-owned constant SQL, no data */
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
            v = atoll(PQgetvalue(r, 0, 0));
        else if (PQresultStatus(r) != PGRES_TUPLES_OK)
            fprintf(stderr, "query failed: %s", PQerrorMessage(c));
        PQclear(r);
    } else {
        fprintf(stderr, "could not connect as %s: %s", svc, PQerrorMessage(c));
    }
    PQfinish(c);
    return v;
}

long long ccip_test_wait_count(const char *svc, const char *sql, long long want, int timeout_ms)
{
    long long v = -1;
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        v = ccip_test_query_number(svc, sql);
        if (v >= want)
            return v;
        ccip_test_sleep_ms(100);
    }
    return v;
}

int ccip_test_ping_counts(ccip_test_env *env, const char *service, unsigned long long *commands,
                          unsigned long long *batches)
{
    char err[256], id[CCIP_UUID_STRLEN + 1];
    void *ctx = zmq_ctx_new();
    ccip_sock_opts so = {.keys = &env->client_keys, .server_public = env->bus_keys.public_key};
    ccip_client *c = ccip_client_new(ctx, env->commands, &so, err, sizeof err);
    Ccip__Envelope e = CCIP__ENVELOPE__INIT;
    ccip_uuid_v7(id);
    e.id = id;
    e.type = "ccip.ping.v1";
    Ccip__Envelope *r = c ? ccip_client_call(c, service, &e, 5000, 1, err, sizeof err) : NULL;
    Ccip__PingReply *p =
        r && r->status == CCIP__STATUS__OK
            ? (Ccip__PingReply *)ccip_payload_unpack(&ccip__ping_reply__descriptor, r->payload.data,
                                                     r->payload.len, 4096, err, sizeof err)
            : NULL;
    int rc = p ? 0 : -1;
    if (p) {
        *commands = (unsigned long long)p->commands_run;
        *batches = (unsigned long long)p->batches_committed;
        protobuf_c_message_free_unpacked(&p->base, NULL);
    }
    ccip_envelope_free(&r);
    ccip_client_destroy(&c);
    zmq_ctx_term(ctx);
    return rc;
}

long ccip_test_proc_kib(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            kib = strtol(line + n + 1, NULL, 10);
            break;
        }
    if (f)
        fclose(f);
    return kib;
}

int ccip_test_proc_reset_peak(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/clear_refs", (int)pid);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fputs("5", f) < 0 ? -1 : 0;
    return fclose(f) != 0 ? -1 : rc;
}

void ccip_test_mem_text(const ccip_test_mem *m, int n, char *out, size_t len)
{
    size_t used = strlen(out);
    for (int i = 0; i < n && used < len; i++) {
        int w = snprintf(out + used, len - used, "%s%s:%.1f/%.1f", used ? "," : "", m[i].name,
                         (double)m[i].idle_kib / 1024.0, (double)m[i].peak_kib / 1024.0);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

double ccip_test_cpu_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    unsigned long long v[8] = {0};
    double busy = 0;
    if (f && fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                    &v[4], &v[5], &v[6], &v[7]) == 8) {
        double hz = (double)sysconf(_SC_CLK_TCK);
        for (int i = 0; i < 8; i++)
            if (i != 3 && i != 4) /* idle, iowait */
                busy += (double)v[i] / hz;
    }
    if (f)
        fclose(f);
    return busy;
}
