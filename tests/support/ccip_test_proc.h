/*
 * ccip_test_proc: a private ccip installation for one integration test:
 * fresh CURVE keys, free loopback ports, and real processes (the bus, the
 * services) started, signalled and reaped by the test.
 *
 * Processes are configured through the environment only (the same
 * variables an operator would use), and log to <dir>/<name>.log, which a
 * failing test prints. With CCIP_TEST_VALGRIND set (a command line, e.g.
 * "valgrind --error-exitcode=99"), every process runs under it.
 */
#ifndef CCIP_TEST_PROC_H
#define CCIP_TEST_PROC_H

#include <sys/types.h>

#include "ccip_keys.h"

#define CCIP_TEST_MAX_PROCS 16

typedef struct {
    char name[64]; /* e.g. "probeb-1" */
    pid_t pid;     /* 0 when not running */
} ccip_test_child;

typedef struct {
    char dir[256];              /* temp dir: keys/, allowed/, logs */
    char commands[64];          /* tcp://127.0.0.1:<port> of the broker */
    char publish[64];           /* ... of the event proxy's XSUB */
    char subscribe[64];         /* ... of the event proxy's XPUB */
    ccip_keypair bus_keys;      /* the bus's key pair */
    ccip_keypair client_keys;   /* "tester": a service key (bound to service "tester") */
    ccip_keypair front_keys;    /* "ccipctl": a front door for any person */
    ccip_keypair admin_keys;    /* "operator": an admin key (event replay and tail) */
    ccip_keypair stranger_keys; /* not in the keys directory */
    ccip_test_child children[CCIP_TEST_MAX_PROCS];
    int db_port;    /* the port services started from now on connect to PostgreSQL at (a
                       ccip_test_proxy's); 0 = $CCIP_PGPORT, the cluster itself */
    char netns[64]; /* the network namespace (a name under /run/netns, as `ip netns` makes)
                       the processes started from now on run in; "" = the test's own */
} ccip_test_env;

/* A loopback TCP port for a listener the test starts (a bus, a gateway, a
 * mail sink): below the kernel's ephemeral range, so no client connection
 * takes it while a restarted listener is down, and held by this process
 * alone until it exits, so suites running side by side never share one.
 * Returns the port, or -1 with the reason on stderr. */
int ccip_test_free_port(void);

/* Makes the directory, keys and ports. Returns 0 or -1 (with a message on
 * stderr). */
int ccip_test_env_init(ccip_test_env *env);

/* Starts the bus (name "bus"). Returns its pid or -1. */
pid_t ccip_test_start_bus(ccip_test_env *env);

/* Starts a service binary (path relative to the build dir, e.g.
 * "tests/integration/probe/probea") as replica `instance`, connecting to
 * PostgreSQL as role ccip_<service> (at env->db_port when set). Returns its
 * pid or -1. */
pid_t ccip_test_start_service(ccip_test_env *env, const char *binary, const char *service,
                              const char *instance);

/* Sends sig to the child and, for SIGKILL/SIGTERM, waits up to timeout_ms
 * for it to exit. Returns its exit status (or 128+signal), -1 on timeout. */
int ccip_test_stop(ccip_test_env *env, pid_t pid, int sig, int timeout_ms);

/* Stops every child still running (SIGKILL) and prints their logs when
 * print_logs is set. */
void ccip_test_env_cleanup(ccip_test_env *env, int print_logs);

/* Waits until the SQL query (run as role ccip_<svc>, returning one number)
 * yields at least `want`, for up to timeout_ms. Returns the last value read,
 * or -1 when the query failed. */
long long ccip_test_wait_count(const char *svc, const char *sql, long long want, int timeout_ms);

/* Runs a query returning one number as role ccip_<svc>; -1 on failure. */
long long ccip_test_query_number(const char *svc, const char *sql);

/* Asks one replica of `service` (ccip.ping.v1) how many commands it ran in
 * how many committed batches (group commit's yield). Returns 0 or -1. */
int ccip_test_ping_counts(ccip_test_env *env, const char *service, unsigned long long *commands,
                          unsigned long long *batches);

/* Sleeps ms milliseconds. */
void ccip_test_sleep_ms(int ms);

/* ---- what the benchmarks measure about the processes ---- */

/* One field of /proc/<pid>/status in KiB: "VmRSS" (resident now) or
 * "VmHWM" (the peak resident size since the process started). -1 when
 * the process or the field cannot be read. */
long ccip_test_proc_kib(pid_t pid, const char *field);

/* Resets the process's VmHWM to its resident size now (writes 5 to
 * /proc/<pid>/clear_refs), so that a later VmHWM is the peak of what came
 * after. Returns 0 or -1. */
int ccip_test_proc_reset_peak(pid_t pid);

/* A process's memory as a bench reports it, so that an operator can size
 * its pod: resident after start-up (idle, read once it answers) and its
 * peak at the end of the load. */
typedef struct {
    const char *name; /* "bus", "ip", ... */
    pid_t pid;
    long idle_kib; /* VmRSS after start-up */
    long peak_kib; /* VmHWM after the load */
} ccip_test_mem;

/* Appends "name:IDLE/PEAK" (MiB, one decimal) for each of the n processes,
 * comma-separated, to out: the value of a bench's rss_mib=. */
void ccip_test_mem_text(const ccip_test_mem *m, int n, char *out, size_t len);

/* Busy CPU seconds of the whole machine so far (all cores, everything but
 * idle and I/O wait, from /proc/stat); 0 when it cannot be read. The
 * difference over a window, divided by the operations in it, is the CPU
 * an operation costs the machine (all processes: client, bus, service,
 * PostgreSQL). */
double ccip_test_cpu_busy_s(void);

#endif
