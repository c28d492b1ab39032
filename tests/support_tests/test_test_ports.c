/* The ports the tests' listeners take (ccip_test_free_port): a test that
 * stops a bus and starts it again on the same port once failed in CI with
 * "could not bind ...: Address already in use", because the port had come
 * from the kernel's ephemeral range, where any client connection of a suite
 * running beside it may land. These are the two rules that prevent it. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ccip_test_proc.h"

/* The low end of Linux's ephemeral range on this machine (32768 when the
 * file cannot be read: the kernel's default). */
static int s_ephemeral_low(void)
{
    int low = 32768, high = 0;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d %d", &low, &high) != 2)
            low = 32768;
        fclose(f);
    }
    return low;
}

/* No port handed out lies where the kernel puts clients' connections, and
 * none is handed out twice. */
static void test_ports_below_the_ephemeral_range_and_distinct(void **state)
{
    (void)state;
    int low = s_ephemeral_low(), seen[20];
    for (int i = 0; i < 20; i++) {
        seen[i] = ccip_test_free_port();
        assert_true(seen[i] > 1024);
        if (seen[i] >= low)
            fail_msg("port %d lies in the ephemeral range (from %d)", seen[i], low);
        for (int j = 0; j < i; j++)
            assert_int_not_equal(seen[i], seen[j]);
    }
}

/* A port stays this process's until it exits: another process (a suite
 * running beside this one) cannot take its lock meanwhile. */
static void test_port_held_against_other_processes(void **state)
{
    (void)state;
    int port = ccip_test_free_port();
    assert_true(port > 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/ccip-test-ports/%d", port);
        int fd = open(path, O_RDWR);
        /* exit 0: the lock is held by the parent, as it must be */
        _exit(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0 ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("another process could take port %d's lock while this one holds it", port);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports_below_the_ephemeral_range_and_distinct),
        cmocka_unit_test(test_port_held_against_other_processes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
