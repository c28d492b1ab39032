/*
 * restore_load: what the restore drill (test_restore_drill), the consumer
 * guard's test (test_consumer_guard) and the restore bench (bench_restore)
 * share (not part of the product):
 *
 *  - a private cluster of their own (tests/integration/drill_cluster), whose
 *    port and secrets the test's processes and queries then use (it sets
 *    CCIP_PGPORT and CCIP_SECRETS_DIR), backed up and restored with the
 *    very scripts an operator runs (scripts/backup, scripts/restore);
 *  - the five services on a private bus (a ccip_test_svc, tests/support:
 *    its environment, clients, commands, ccipctl and logs), stopped and
 *    started again on the same keys and ports around a restore;
 *  - a mixed load through the broker (filings and acceptances to intake,
 *    work registrations to ip, experts to evaluation, programmes to
 *    funding), every acknowledged command recorded with the times it was
 *    sent and answered, so that after a restore to time T each can be
 *    looked for: its stored reply (command_log) and its effect, exactly
 *    once.
 *
 *   rl_cluster cl;
 *   ccip_test_svc svc;
 *   rl_cluster_init(&cl, "drill", 1);            // durable
 *   ccip_test_svc_init(&svc, "intake");          // keys, ports, clients
 *   rl_services_start(&svc);                     // bus + five services
 *   rl_load *l = rl_load_new(&svc, 4, mix);      // 4 clients
 *   rl_load_prepare(l, 200);                     // calls and organisations
 *   rl_load_run(l, 0, 300);                      // 300 commands
 *   ... rl_backup(&cl, "full"); T = rl_switch_wal_and_time(&cl) ...
 *   rl_check c; rl_load_check(l, t_us, &c);      // after the restore
 */
#ifndef RESTORE_LOAD_H
#define RESTORE_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "ccip_test_svc.h"

/* ---- the private cluster ------------------------------------------------ */

typedef struct {
    char dir[512];     /* the cluster's directory (data/, run/, log/, port) */
    char backup[600];  /* its backup directory (scripts/backup --backup-dir) */
    char port[16];     /* its port on 127.0.0.1 */
    char secrets[600]; /* db-<svc>.password files */
} rl_cluster;

/* Runs a shell command (printf format) with the test's environment; its
 * output goes to the test's. Returns its exit status (-1: could not run). */
int rl_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Makes var/<name> (drill_cluster init), durable unless fast, and points
 * CCIP_PGHOST/PORT/DATABASE and CCIP_SECRETS_DIR at it. Returns 0 or -1. */
int rl_cluster_init(rl_cluster *c, const char *name, int durable);

/* drill_cluster ACTION DIR (start, stop, crash, wipe, destroy, copy).
 * Returns 0 or -1. */
int rl_cluster_do(const rl_cluster *c, const char *action);

/* Runs SQL as the superuser and writes the first line of its output into
 * out. Returns 0 or -1. */
int rl_cluster_sql(const rl_cluster *c, const char *sql, char *out, size_t outlen);

/* The data directory's size in bytes, or -1. */
long long rl_cluster_bytes(const rl_cluster *c);

/* scripts/backup TYPE for the cluster. Returns 0 or -1. */
int rl_backup(const rl_cluster *c, const char *type);

/* scripts/restore --to TARGET (or --latest when target is NULL). Returns 0
 * or -1. */
int rl_restore(const rl_cluster *c, const char *target);

/* Switches to a new WAL segment (so that what committed so far is
 * archived), then reads the database's clock: into target as text
 * scripts/restore --to takes ("2025-03-01 14:05:00.123456+08"), and
 * returns it in UTC microseconds (-1 on failure). */
int64_t rl_switch_wal_and_time(const rl_cluster *c, char *target, size_t len);

/* Switches to a new WAL segment and waits until the one switched out is
 * archived (what committed so far is then in the repository). Returns 0,
 * or -1 after timeout_ms. */
int rl_archive_flush(const rl_cluster *c, int timeout_ms);

/* A time in UTC microseconds as scripts/restore --to takes it (Beijing). */
void rl_target_text(int64_t us, char *buf, size_t len);

/* ---- the services ------------------------------------------------------- */

/* Starts the bus and the five services, those not running (ip with a
 * signing key made once in s->env.dir), and waits until each answers
 * ccip.ping.v1 (ccip_test_svc_wait). s was made by ccip_test_svc_init.
 * Returns 0 or -1. */
int rl_services_start(ccip_test_svc *s);

/* SIGTERM to every child (services first, the bus last), waiting for each:
 * a clean stop, as an operator's. Returns 0 when all exited 0. */
int rl_services_stop(ccip_test_svc *s);

/* Waits until every consumer cursor of every service reached its
 * producer's head (read from the database), up to timeout_ms. Returns 0,
 * or -1 naming on stderr the cursor that did not. */
int rl_wait_caught_up(int timeout_ms);

/* Checks every consumer cursor against its producer's head: writes the
 * number of cursors into *n and returns how many are ABOVE their
 * producer's head (0 when the rule holds), or -1 on failure. */
int rl_cursors_above_heads(int *n);

/* ---- the load -------------------------------------------------------------- */

/* One acknowledged command. */
typedef struct {
    char service[16]; /* where it went */
    char type[48];    /* its type */
    char id[40];      /* its command id */
    char key[48];     /* its effect's key: application / work / expert id, programme code */
    int64_t sent_us;  /* wall clock when sent */
    int64_t acked_us; /* wall clock when the OK reply arrived */
} rl_ack;

typedef struct rl_load rl_load;

/* What the load sends; weights of each kind (0 = never). */
typedef struct {
    int filings;    /* intake.application.file.v1 */
    int accept;     /* 1: every other filing is then accepted (intake.application.accept.v1),
                       which opens a case in evaluation and feeds stats */
    int works;      /* ip.work.register.v1 */
    int experts;    /* evaluation.expert.register.v1 */
    int programmes; /* funding.programme.create.v1 */
} rl_mix;

/* clients threads, each a front door of its own (a client of s with its
 * front-door key). s must outlive the load. Returns NULL on failure. */
rl_load *rl_load_new(ccip_test_svc *s, int clients, rl_mix mix);

/* Opens one call through intake and copies it into `applications` calls
 * (and one more per client), each filed to once, by whichever client
 * files next; registers and verifies each client's organisation. Returns 0
 * or -1. */
int rl_load_prepare(rl_load *l, long applications);

/* Runs the clients until `until_us` (wall clock; 0: no limit) or until
 * `count` commands were acknowledged in this run (0: no limit; each client
 * finishes the command in hand, so a few more may be). Returns the number
 * acknowledged in this run, -1 when a command failed. */
long rl_load_run(rl_load *l, int64_t until_us, long count);

/* Starts the same in the background; rl_load_join waits for it. */
int rl_load_start(rl_load *l, int64_t until_us, long count);
long rl_load_join(rl_load *l);

/* Asks a load started with rl_load_start to end (each client finishes the
 * command in hand); rl_load_join then waits for it. */
void rl_load_stop(rl_load *l);

/* Forgets the commands sent after target_us: after a restore to it they
 * are gone on purpose, and later checks must not look for them. */
void rl_load_forget_after(rl_load *l, int64_t target_us);

/* Every command acknowledged so far (borrowed). */
size_t rl_load_acks(const rl_load *l, const rl_ack **acks);

/* After a restore to target_us: every command acknowledged before it must
 * be present exactly once, none sent after it. */
typedef struct {
    long acked_before;         /* acknowledged before the target */
    long missing_before;       /* of those, not present (or not exactly once) */
    long sent_after;           /* sent after the target */
    long present_after;        /* of those, present */
    long in_flight;            /* sent before and answered after: either is right */
    long newest_kept_ms;       /* the ack time of the newest present command, ms since epoch */
    int64_t oldest_missing_us; /* the ack time of the oldest missing one before the target */
} rl_check;

/* Looks for every command in the database. Returns 0 or -1 (query failed). */
int rl_load_check(rl_load *l, int64_t target_us, rl_check *out);

void rl_load_destroy(rl_load **l);

#endif
