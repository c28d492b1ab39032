/*
 * console_harness: a real installation for the web console's browser tests
 * and benchmark, the way the integration tests make theirs
 * (tests/support/ccip_test_proc.h): fresh keys, the real bus, intake,
 * evaluation, funding, ip, stats and the gateway serving services/gateway/web
 * on a free loopback port, against the PostgreSQL of scripts/test (its
 * database CCIP_CONSOLE_PGDATABASE when set, else CCIP_PGDATABASE) or of
 * scripts/bench.
 * Then the first admin's invitation is made through the bus with the
 * operator's front-door key (as ccipctl would: nobody can sign up as an
 * admin), and the Python driver named on the command line runs with
 *
 *   CCIP_CONSOLE_URL          http://127.0.0.1:<port>
 *   CCIP_CONSOLE_ADMIN_TOKEN  the admin invitation's one-time token
 *   CCIP_CONSOLE_OUT          a folder for screenshots and results (argv[2])
 *   CCIP_SOURCE_DIR           the source tree
 *
 * and, in OUT_DIR, a registration receipt made and signed by ip's own code
 * (ip_receipts.h) for the receipt check in the browser: receipt.txt, the
 * platform key's ip-signing.pub and the work's content work.txt. The ip
 * service signs with that same key (so the key the console fetches from
 * /api/v1/ip/keys is the receipt's).
 *
 * Its exit status is the harness's; the services' logs are printed when it
 * fails. Usage: console_harness DRIVER.py OUT_DIR [ARGS...]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>

#include "ccip/gateway.pb-c.h"
#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ccip_keys.h"
#include "ccip_test_proc.h"
#include "ip_keys.h"
#include "ip_receipts.h"

#define PYTHON        "/usr/bin/python3" /* Debian's, which has python3-selenium */
#define READY_TRIES   300                /* x 100 ms */
#define MAX_DOC_BYTES "1048576"

static ccip_test_env s_env;

/* GET path on the gateway; returns the HTTP status or -1. */
static int s_http_status(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    char rq[256], buf[64] = "";
    int n = snprintf(rq, sizeof rq,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
    if (send(fd, rq, (size_t)n, 0) != n) {
        close(fd);
        return -1;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ssize_t got = poll(&p, 1, 3000) == 1 ? recv(fd, buf, sizeof buf - 1, 0) : -1;
    close(fd);
    if (got < 12)
        return -1;
    buf[got] = '\0';
    return atoi(buf + 9); /* "HTTP/1.1 200" */
}

/* The first admin's invitation, through the bus as an operator's ccipctl. */
static int s_admin_invitation(char token[128])
{
    char err[300];
    void *ctx = zmq_ctx_new();
    ccip_sock_opts so = {.keys = &s_env.front_keys, .server_public = s_env.bus_keys.public_key};
    ccip_client *c = ccip_client_new(ctx, s_env.commands, &so, err, sizeof err);
    if (!c) {
        fprintf(stderr, "harness: %s\n", err);
        return -1;
    }
    Ccip__Gateway__CreateInvitationRequest rq = CCIP__GATEWAY__CREATE_INVITATION_REQUEST__INIT;
    rq.email = "admin@example.cn";
    rq.kind = CCIP__GATEWAY__BINDING_KIND__ADMIN;
    rq.subject = "";
    uint8_t buf[256];
    size_t len = protobuf_c_message_pack(&rq.base, buf);
    char id[CCIP_UUID_STRLEN + 1];
    ccip_uuid_v7(id);
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = "gateway.invitation.create.v1";
    env.actor_role = "admin";
    env.actor_id = "person:root";
    env.payload.data = buf;
    env.payload.len = len;
    Ccip__Envelope *r = ccip_client_call(c, "gateway", &env, 5000, 3, err, sizeof err);
    int rc = -1;
    if (!r) {
        fprintf(stderr, "harness: no answer to the admin invitation: %s\n", err);
    } else if (r->status != CCIP__STATUS__OK) {
        fprintf(stderr, "harness: the admin invitation was refused: %s\n", r->error);
    } else {
        Ccip__Gateway__InvitationReply *ir = (Ccip__Gateway__InvitationReply *)ccip_payload_unpack(
            &ccip__gateway__invitation_reply__descriptor, r->payload.data, r->payload.len, 65536,
            err, sizeof err);
        if (ir) {
            snprintf(token, 128, "%s", ir->token);
            protobuf_c_message_free_unpacked(&ir->base, NULL);
            rc = 0;
        }
    }
    ccip_envelope_free(&r);
    ccip_client_destroy(&c);
    zmq_ctx_term(ctx);
    return rc;
}

static int s_write(const char *dir, const char *name, const void *data, size_t len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "harness: could not write %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* A receipt of a made-up registration, signed with a fresh key that is also
 * saved as key_dir/ip-signing.key for the ip service. */
static int s_receipt(const char *dir, const char *key_dir)
{
    static const char content[] = "A poem registered for the console's receipt check.\n";
    ip_key k;
    if (ip_key_generate(&k) < 0)
        return -1;
    ip_receipt r = {.serial = 42, .registered_at_us = 1796000000123456LL};
    snprintf(r.work_id, sizeof r.work_id, "0193b6c2-5d0e-7a31-8c4f-2e9d1b7a6c55");
    crypto_hash_sha256(r.content_sha256, (const uint8_t *)content, strlen(content));
    memset(r.chain_hash, 0x5a, sizeof r.chain_hash);
    char text[IP_RECEIPT_MAX], pub[1024], err[300];
    int n = ip_receipt_sign(&r, &k) == 0 ? ip_receipt_format(&r, text, sizeof text) : -1;
    int p = ip_key_public_text(&k, pub, sizeof pub);
    int saved = ip_key_save(key_dir, "ip-signing", &k, err, sizeof err);
    ip_key_wipe(&k);
    if (saved < 0)
        fprintf(stderr, "harness: %s\n", err);
    if (n < 0 || p < 0 || saved < 0)
        return -1;
    return s_write(dir, "receipt.txt", text, (size_t)n) < 0 ||
                   s_write(dir, "ip-signing.pub", pub, (size_t)p) < 0 ||
                   s_write(dir, "work.txt", content, strlen(content)) < 0
               ? -1
               : 0;
}

static int s_run_driver(char **argv, int argc, int port, const char *token)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setenv("CCIP_CONSOLE_URL", url, 1);
        setenv("CCIP_CONSOLE_ADMIN_TOKEN", token, 1);
        setenv("CCIP_CONSOLE_OUT", argv[2], 1);
        /* python3 DRIVER [ARGS...] */
        char **args = calloc((size_t)argc + 1, sizeof *args);
        if (!args)
            _exit(127);
        args[0] = PYTHON;
        args[1] = argv[1];
        size_t k = 2;
        for (int i = 3; i < argc; i++)
            args[k++] = argv[i];
        args[k] = NULL;
        execv(PYTHON, args);
        fprintf(stderr, "harness: could not run %s: %s\n", PYTHON, strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: console_harness DRIVER.py OUT_DIR [ARGS...]\n");
        return 2;
    }
    const char *src = getenv("CCIP_SOURCE_DIR");
    if (!src) {
        fprintf(stderr, "harness: CCIP_SOURCE_DIR must name the source tree (ctest sets it)\n");
        return 2;
    }
    mkdir(argv[2], 0755);
    /* scripts/test gives the browser test a database of its own
     * (CCIP_CONSOLE_PGDATABASE), apart from the integration suites'. */
    const char *db = getenv("CCIP_CONSOLE_PGDATABASE");
    if (db && db[0])
        setenv("CCIP_PGDATABASE", db, 1);
    if (ccip_test_env_init(&s_env) < 0)
        return 1;
    char web[600], listen[64], key[600];
    if (s_receipt(argv[2], s_env.dir) < 0) {
        fprintf(stderr, "harness: could not make the test receipt\n");
        ccip_test_env_cleanup(&s_env, 0);
        return 1;
    }
    snprintf(key, sizeof key, "%s/ip-signing.key", s_env.dir);
    setenv("CCIP_IP_SIGNING_KEY_FILE", key, 1);
    /* the gateway's front-door key is made by ccip_test_env_init */
    int port = ccip_test_free_port();
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(web, sizeof web, "%s/services/gateway/web", src);
    setenv("CCIP_GATEWAY_LISTEN", listen, 1);
    setenv("CCIP_GATEWAY_WEB_DIR", web, 1);
    setenv("CCIP_GATEWAY_COMMAND_TIMEOUT_MS", "5000", 1);
    setenv("CCIP_GATEWAY_THROTTLE_ADDR_FAILURES", "100000", 1);
    setenv("CCIP_GATEWAY_MAX_DOCUMENT_BYTES", MAX_DOC_BYTES, 1);
    setenv("CCIP_INTAKE_MAX_DOCUMENT_BYTES", MAX_DOC_BYTES, 1);
    int rc = 1;
    if (ccip_test_start_bus(&s_env) < 0 ||
        ccip_test_start_service(&s_env, "services/intake/intake", "intake", "intake-web") < 0 ||
        ccip_test_start_service(&s_env, "services/evaluation/evaluation", "evaluation",
                                "evaluation-web") < 0 ||
        ccip_test_start_service(&s_env, "services/funding/funding", "funding", "funding-web") < 0 ||
        ccip_test_start_service(&s_env, "services/ip/ip", "ip", "ip-web") < 0 ||
        ccip_test_start_service(&s_env, "services/stats/stats", "stats", "stats-web") < 0 ||
        ccip_test_start_service(&s_env, "services/gateway/gateway", "gateway", "gateway-web") < 0)
        goto done;
    int ready = 0;
    for (int i = 0; i < READY_TRIES && !ready; i++) {
        ready = s_http_status(port, "/readyz") == 200;
        if (!ready)
            ccip_test_sleep_ms(100);
    }
    if (!ready) {
        fprintf(stderr, "harness: the gateway did not become ready\n");
        goto done;
    }
    char token[128];
    if (s_admin_invitation(token) < 0)
        goto done;
    rc = s_run_driver(argv, argc, port, token);
    if (rc != 0)
        fprintf(stderr, "harness: %s ended with status %d; the services' logs follow\n", argv[1],
                rc);
done:
    ccip_test_env_cleanup(&s_env, rc != 0);
    return rc;
}
