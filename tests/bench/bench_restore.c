/*
 * bench_restore: how long a backup and a restore of a deployment's database
 * take at size, and what a restore loses (issue 24).
 *
 * On a durable cluster of its own with WAL archiving to an encrypted
 * pgBackRest repository (scripts/backup, scripts/restore: what an operator
 * runs), the bus and seven services (the five the load commands, and
 * followup and notify, which consume their events; restore_load.h):
 *
 * 1. FILINGS complete applications filed through the broker by 8 clients
 *    (intake.application.file.v1, each with its document inline).
 * 2. backup_s: a full backup (scripts/backup: backup, check, verify).
 *    db_mib: the data directory's size then.
 * 3. A second load of mixed commands (filings, acceptances, work
 *    registrations, experts, programmes) for SECOND_LOAD_S seconds; the
 *    target is 30 s before its end. WAL is flushed to the archive, the
 *    services and PostgreSQL stop.
 * 4. copy_s: a plain copy of the data directory (cp -a, then sync): the
 *    yardstick a restore is held to (target: restore_s <= 2 x copy_s).
 * 5. restore_s: the data directory deleted, scripts/restore --to the target
 *    (the backup restored, the archived WAL replayed up to the target,
 *    promoted, accepting writes).
 *    acked_before: commands acknowledged before the target; missing_before:
 *    of those, how many are not present exactly once (target 0);
 *    present_after: commands sent after the target that are present
 *    (target 0). Commands in flight at the target may be either.
 * 6. rpo_s: the services run again on the restored cluster under a third
 *    load for THIRD_LOAD_S seconds, then PostgreSQL dies (immediate stop, as
 *    a machine that is lost: WAL not yet archived is gone with it); the data
 *    directory is deleted and restored from the archive alone (--latest).
 *    rpo_s is the age, at the crash, of the oldest acknowledged command that
 *    the restore lost: how far back acknowledged work was lost (0 when
 *    nothing was). With archive_timeout 30 s it stays under about 30 s plus
 *    the archiving time (target <= 60).
 *
 * Usage: bench_restore [FILINGS]   (default 50000)
 * Last line: bench restore: backup_s=... restore_s=... copy_s=... restore_ratio=...
 *            db_mib=... acked_before=... missing_before=0 present_after=0 rpo_s=...
 *            (restore_ratio = restore_s / copy_s, target <= 2)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccip_id.h"
#include "ccip_test.h"
#include "ccip_test_svc.h"
#include "restore_load.h"

#define CLIENTS       8
#define SECOND_LOAD_S 45
#define TARGET_BACK_S 30
#define THIRD_LOAD_S  50
#define WAIT_MS       300000

static int s_die(ccip_test_svc *svc, const char *what)
{
    fprintf(stderr, "bench restore: %s\n", what);
    ccip_test_env_cleanup(&svc->env, 1);
    return 1;
}

int main(int argc, char **argv)
{
    long filings = argc > 1 ? atol(argv[1]) : 50000;
    static rl_cluster cl;
    static ccip_test_svc svc;
    setenv("CCIP_WORKERS", "8", 0);
    setenv("CCIP_BATCH_WAIT_US", "500", 0);
    if (rl_cluster_init(&cl, "bench-restore", 1) < 0 || ccip_test_svc_init(&svc, "intake") < 0 ||
        rl_backup(&cl, "full") < 0 || rl_services_start(&svc, 1) < 0)
        return s_die(&svc, "could not set up the cluster and the services");

    /* 1. the filings */
    rl_mix only_filings = {.filings = 1};
    rl_load *first = rl_load_new(&svc, CLIENTS, only_filings);
    if (!first || rl_load_prepare(first, filings + CLIENTS) < 0)
        return s_die(&svc, "could not prepare the filings");
    double t0 = ccip_test_mono_s();
    long n = rl_load_run(first, 0, filings);
    double filing_s = ccip_test_mono_s() - t0;
    if (n < filings)
        return s_die(&svc, "the filings did not go through");
    printf("filed %ld applications in %.1f s (%.0f/s)\n", n, filing_s, (double)n / filing_s);
    fflush(stdout);

    /* 2. the full backup */
    t0 = ccip_test_mono_s();
    if (rl_backup(&cl, "full") < 0)
        return s_die(&svc, "the full backup failed");
    double backup_s = ccip_test_mono_s() - t0;
    double db_mib = (double)rl_cluster_bytes(&cl) / (1024.0 * 1024.0);

    /* 3. the second load; the target 30 s before its end */
    rl_mix mixed = {.filings = 4, .accept = 1, .works = 2, .experts = 1, .programmes = 1};
    rl_load *second = rl_load_new(&svc, CLIENTS, mixed);
    if (!second || rl_load_prepare(second, 40000) < 0)
        return s_die(&svc, "could not prepare the second load");
    int64_t end_us = ccip_now_us() + SECOND_LOAD_S * 1000000LL;
    if (rl_load_run(second, end_us, 0) < 0)
        return s_die(&svc, "the second load failed");
    int64_t target_us = end_us - TARGET_BACK_S * 1000000LL;
    char target[64];
    rl_target_text(target_us, target, sizeof target);
    if (rl_archive_flush(&cl, 60000) < 0 || rl_services_stop(&svc) < 0 ||
        rl_cluster_do(&cl, "stop") < 0)
        return s_die(&svc, "could not stop after the second load");

    /* 4. the yardstick: a plain copy of the data directory */
    t0 = ccip_test_mono_s();
    if (rl_cluster_do(&cl, "copy") < 0)
        return s_die(&svc, "could not copy the data directory");
    double copy_s = ccip_test_mono_s() - t0;

    /* 5. the restore to the target */
    if (rl_cluster_do(&cl, "wipe") < 0)
        return s_die(&svc, "could not delete the data directory");
    t0 = ccip_test_mono_s();
    if (rl_restore(&cl, target) < 0)
        return s_die(&svc, "the restore failed");
    double restore_s = ccip_test_mono_s() - t0;
    rl_check c;
    if (rl_load_check(second, target_us, &c) < 0)
        return s_die(&svc, "could not look for the commands");
    rl_check c1;
    if (rl_load_check(first, target_us, &c1) < 0)
        return s_die(&svc, "could not look for the filings");
    long acked_before = c.acked_before + c1.acked_before;
    long missing_before = c.missing_before + c1.missing_before;
    int above = 0, ncur = 0;
    above = rl_cursors_above_heads(&ncur);
    printf("restored to %s in %.1f s (a copy of the data directory took %.1f s, ratio %.2f); "
           "%ld in flight at the target; cursors above their producer's head: %d of %d\n",
           target, restore_s, copy_s, restore_s / copy_s, c.in_flight, above, ncur);
    fflush(stdout);

    /* 6. the archive alone, after the machine is lost under load */
    if (rl_services_start(&svc, 1) < 0 || rl_wait_caught_up(WAIT_MS) < 0)
        return s_die(&svc, "the services did not start and catch up on the restored cluster");
    rl_load *third = rl_load_new(&svc, CLIENTS, mixed);
    if (!third || rl_load_prepare(third, 40000) < 0)
        return s_die(&svc, "could not prepare the third load");
    if (rl_load_start(third, 0, 0) < 0)
        return s_die(&svc, "could not start the third load");
    ccip_test_sleep_ms(THIRD_LOAD_S * 1000);
    int64_t crash_us = ccip_now_us();
    rl_cluster_do(&cl, "crash");
    rl_load_stop(third);
    rl_load_join(third); /* its clients see the database go: that is the point */
    rl_services_stop(&svc);
    if (rl_cluster_do(&cl, "wipe") < 0 || rl_restore(&cl, NULL) < 0)
        return s_die(&svc, "the restore from the archive alone failed");
    const rl_ack *acks;
    size_t nacks = rl_load_acks(third, &acks);
    rl_check c3;
    if (rl_load_check(third, crash_us, &c3) < 0)
        return s_die(&svc, "could not look for the third load's commands");
    int64_t oldest_lost = c3.oldest_missing_us;
    double rpo_s = oldest_lost ? (double)(crash_us - oldest_lost) / 1e6 : 0.0;
    printf("crash under load: %zu commands acknowledged, %ld lost by a restore from the archive "
           "alone (the oldest acknowledged %.1f s before the crash)\n",
           nacks, c3.missing_before, rpo_s);
    printf("bench restore: backup_s=%.1f restore_s=%.1f copy_s=%.1f restore_ratio=%.2f "
           "db_mib=%.0f acked_before=%ld missing_before=%ld present_after=%ld rpo_s=%.1f\n",
           backup_s, restore_s, copy_s, restore_s / copy_s, db_mib, acked_before, missing_before,
           c.present_after, rpo_s);
    fflush(stdout);
    rl_load_destroy(&first);
    rl_load_destroy(&second);
    rl_load_destroy(&third);
    rl_services_stop(&svc);
    ccip_test_svc_stop(&svc);
    rl_cluster_do(&cl, "destroy");
    return missing_before == 0 && c.present_after == 0 ? 0 : 1;
}
