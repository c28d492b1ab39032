/*
 * ccip_test_svc: what every integration suite does with its private
 * installation (not part of the product): start the bus and the services
 * with their keys and configuration, send commands through the front door
 * or with a plain service key and keep the reply's sentence, check that
 * sentence, read numbers from a service's schema, run ccipctl and read its
 * JSON, and print every process's log when a check fails.
 *
 * A suite keeps one ccip_test_svc for its whole run:
 *
 *   static ccip_test_svc s_svc;
 *
 *   static int s_group_setup(void **state)
 *   {
 *       static const ccip_test_svc_proc procs[] = {
 *           {"services/intake/intake", "intake", "intake-1"}, {NULL, NULL, NULL}};
 *       setenv("CCIP_INTAKE_MAX_DOCUMENT_BYTES", "65536", 1); // the services' settings
 *       return ccip_test_svc_start(&s_svc, "intake", procs);
 *   }
 *   ...
 *   int st = ccip_test_send(&s_svc, "staff", "staff-li", "intake.call.open.v1", &rq.base,
 *                           NULL, NULL, NULL);
 *   assert_int_equal(st, CCIP__STATUS__INVALID_ARGUMENT);
 *   ccip_test_error_has(&s_svc, "field `title`");
 *   assert_int_equal(ccip_test_number(&s_svc, "SELECT count(*) FROM call WHERE id = '%s'", id), 1);
 *
 * Not thread-safe where it keeps the last sentence (s->error): a thread
 * sends with its own client and error buffer (ccip_test_cmd.via, .error).
 */
#ifndef CCIP_TEST_SVC_H
#define CCIP_TEST_SVC_H

#include <stddef.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

#include "ccip_client.h"
#include "ccip_test_proc.h"

#define CCIP_TEST_SVC_ERROR_MAX   600   /* longest kept sentence, with its NUL */
#define CCIP_TEST_SVC_START_MS    60000 /* longest wait for a service to answer after start */
#define CCIP_TEST_VALGRIND_SLOWER 4     /* waits are this much longer under valgrind */
#define CCIP_TEST_SVC_TIMEOUT     10000 /* default wait for a reply, per attempt (ms) */
#define CCIP_TEST_SVC_ATTEMPTS    3     /* default attempts (the same command id each time) */

/* One suite's installation and clients. */
typedef struct {
    ccip_test_env env;  /* temp dir, keys, ports, processes (ccip_test_proc.h) */
    void *ctx;          /* ZeroMQ context of the clients: made once, never terminated (a failed
                           assertion may leave a socket open, and zmq_ctx_term would wait) */
    ccip_client *front; /* the front door's key ("ccipctl"): its actor claims are trusted */
    ccip_client *plain; /* an allowed service key ("tester"): acts as role "service" */
    const char *target; /* the service commands and ccip_test_number go to by default */
    int timeout_ms;     /* wait per attempt; 0 = CCIP_TEST_SVC_TIMEOUT */
    char error[CCIP_TEST_SVC_ERROR_MAX]; /* sentence of the last reply, or why none came */
} ccip_test_svc;

/* A process to start: ccip_test_start_service's arguments. */
typedef struct {
    const char *binary;   /* relative to the build directory, e.g. "services/intake/intake" */
    const char *service;  /* its name: database role ccip_<service>, key, bus name */
    const char *instance; /* replica name, e.g. "intake-1" */
} ccip_test_svc_proc;

/* ---- the installation --------------------------------------------------- */

/* Makes a fresh installation (ccip_test_env_init: directory, keys, ports),
 * the ZeroMQ context (once per program) and the two clients; starts
 * nothing. target (borrowed, usually a literal) is the service commands go
 * to when they name none. Returns 0, or -1 with the reason on stderr. May
 * be called again after ccip_test_svc_stop (suites that start afresh in
 * every test). */
int ccip_test_svc_init(ccip_test_svc *s, const char *target);

/* ccip_test_svc_init, then starts the bus and each process of procs (ended
 * by an entry whose binary is NULL; procs may be NULL) with the
 * environment the caller set, and waits until each of them answers
 * ccip.ping.v1. Returns 0, or -1 after printing why and every log (the
 * processes are then stopped). */
int ccip_test_svc_start(ccip_test_svc *s, const char *target, const ccip_test_svc_proc *procs);

/* Waits up to CCIP_TEST_SVC_START_MS until a replica of `service`
 * answers ccip.ping.v1 (a service migrates its schema before it serves).
 * Returns 0, or -1 with the reason on stderr. */
int ccip_test_svc_wait(ccip_test_svc *s, const char *service);

/* ccip_test_svc_wait through client c, for up to timeout_ms: for
 * benchmarks and loads that make their own clients. */
int ccip_test_wait_for(ccip_client *c, const char *service, int timeout_ms);

/* A new client of the bus with `keys` (a pair of s->env) on s->ctx; the
 * caller ccip_client_destroy()s it. Returns NULL with the reason on stderr. */
ccip_client *ccip_test_svc_client(ccip_test_svc *s, const ccip_keypair *keys);

/* Destroys the clients and stops every process (SIGKILL), keeping the logs
 * unprinted. Safe twice. */
void ccip_test_svc_stop(ccip_test_svc *s);

/* Prints "FAILED: what", stops every process, prints their logs and fails
 * the running cmocka test with `what`. Does not return. */
void ccip_test_fail(ccip_test_svc *s, const char *what);

/* ---- commands ----------------------------------------------------------- */

/* One command as ccip_test_send_cmd sends it; fields left 0 take the
 * defaults named. */
typedef struct {
    const char *service;                   /* NULL: s->target */
    const char *role;                      /* the person's role claimed through the front door;
                                              NULL: sent with the plain service key, no claim */
    const char *actor;                     /* the person's id; NULL: "" */
    const char *type;                      /* e.g. "intake.call.open.v1" */
    const ProtobufCMessage *msg;           /* the payload; NULL: empty */
    const char *id;                        /* the command id; NULL: a fresh UUID v7 */
    const ProtobufCMessageDescriptor *out; /* what an OK reply's payload decodes as; NULL: not
                                              decoded */
    ccip_client *via;                      /* NULL: s->front with a role, s->plain without */
    int timeout_ms;                        /* per attempt; 0: s->timeout_ms */
    int attempts;                          /* 0: CCIP_TEST_SVC_ATTEMPTS */
    char *error;                           /* where the sentence goes; NULL: s->error */
    size_t error_len;                      /* its size */
} ccip_test_cmd;

/* Sends the command and waits for its one reply. Returns the reply's
 * status, or -1 when no reply came; the sentence (the reply's, "" when OK,
 * or why no reply came or why the payload did not decode) is kept in
 * c->error or s->error. When out is not NULL it is set: the decoded
 * payload when the status is OK and c->out is set (free with
 * ccip_test_free), else NULL. */
int ccip_test_send_cmd(ccip_test_svc *s, const ccip_test_cmd *c, ProtobufCMessage **out);

/* ccip_test_send_cmd without an installation: c->via, c->service and
 * c->error (with c->error_len) must be set; 0 timeouts and attempts take
 * the defaults. For loads and benchmarks that make their own clients. */
int ccip_test_call_cmd(const ccip_test_cmd *c, ProtobufCMessage **out);

/* ccip_test_call_cmd with a fresh command id, in one line: sends msg to
 * service through via as (role, actor) (role NULL: no claim); the sentence
 * into err. Returns the status, or -1 when no reply came or an OK reply
 * did not decode as desc (out and desc both given). */
int ccip_test_call(ccip_client *via, const char *service, const char *role, const char *actor,
                   const char *type, const ProtobufCMessage *msg,
                   const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out, char *err,
                   size_t errlen);

/* ccip_test_send_cmd to s->target as (role, actor), role NULL meaning the
 * plain service key; id NULL is a fresh command id; desc and out as
 * ccip_test_cmd.out and ccip_test_send_cmd's out. */
int ccip_test_send(ccip_test_svc *s, const char *role, const char *actor, const char *type,
                   const ProtobufCMessage *msg, const char *id,
                   const ProtobufCMessageDescriptor *desc, ProtobufCMessage **out);

/* ccip_test_send_cmd that must succeed: returns the decoded reply (NULL when
 * c->out is NULL; free with ccip_test_free), or fails the test through
 * ccip_test_fail naming the type, the role, the status and the sentence. */
ProtobufCMessage *ccip_test_ok_cmd(ccip_test_svc *s, const ccip_test_cmd *c);

/* ccip_test_ok_cmd to s->target as (role, actor) with a fresh command id. */
ProtobufCMessage *ccip_test_ok(ccip_test_svc *s, const char *role, const char *actor,
                               const char *type, const ProtobufCMessage *msg,
                               const ProtobufCMessageDescriptor *desc);

/* Frees a decoded reply; safe on NULL. */
void ccip_test_free(void *msg);

/* Fails the test (printing the sentence) unless the last sentence kept in
 * s->error contains `part`. */
void ccip_test_error_has(ccip_test_svc *s, const char *part);

/* ---- the database and ccipctl ------------------------------------------- */

/* Runs a query returning one number as role ccip_<s->target> (so in the
 * target's schema). The query is test-owned SQL: format it only with ids
 * and codes the test made, never with data from a reply. Returns the
 * number, or -1 when the query failed or returned no row (reason on
 * stderr). */
long long ccip_test_number(ccip_test_svc *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Runs ccipctl of the build with the suite's bus (commands and subscribe
 * endpoints) and the key file `key` (relative to s->env.dir, e.g.
 * "allowed/ccipctl.key"), arguments formatted from fmt (a shell command
 * line: add "2>&1" to capture its errors too). Writes its standard output
 * into out (cut to len - 1 bytes, NUL-terminated). Returns its exit
 * status, or -1 when it did not exit. */
int ccip_test_ctl_as(ccip_test_svc *s, const char *key, char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ccip_test_ctl_as with the front door's key, as an operator runs it. */
int ccip_test_ctl(ccip_test_svc *s, char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes the value of the first "key":"value" of a JSON text into out
 * ("" when there is none, cut to len - 1 bytes). A test's reading of
 * ccipctl --json output, not a JSON parser: the value must be a string
 * without escaped quotes. */
void ccip_test_json_value(const char *json, const char *key, char *out, size_t len);

/* True when the log of child `name` (its <dir>/<name>.log) has a line
 * containing `text`. */
int ccip_test_log_contains(ccip_test_svc *s, const char *name, const char *text);

/* ---- test data ---------------------------------------------------------- */

/* Writes a fresh, valid unified social credit code (GB 32100-2015, with its
 * check character) of an organisation registered in `district` (six
 * digits, e.g. "110105") into out: different in every call and, with high
 * likelihood, in every run. */
void ccip_test_uscc(const char *district, char out[19]);

#endif
