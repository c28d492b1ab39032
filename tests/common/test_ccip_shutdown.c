/* ccip_shutdown in child processes, so that each starts with the flag down
 * (label unit): SIGTERM and SIGINT ask for a stop instead of killing, a
 * blocking call returns EINTR rather than going on (SA_RESTART off),
 * SIGPIPE is ignored, and a thread can ask for a stop itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ccip_shutdown.h"

/* Runs fn in a child process; returns its exit status (128 + signal when a
 * signal ended it). */
static int s_in_child(int (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn());
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int s_signal(int sig)
{
    if (ccip_shutdown_install() != 0 || ccip_shutdown_requested())
        return 10;
    raise(sig);
    return ccip_shutdown_requested() ? 0 : 11;
}

static int s_sigterm(void)
{
    return s_signal(SIGTERM);
}

static int s_sigint(void)
{
    return s_signal(SIGINT);
}

static int s_sigpipe(void)
{
    if (ccip_shutdown_install() != 0)
        return 10;
    raise(SIGPIPE);
    return ccip_shutdown_requested() ? 12 : 0; /* survived, and no stop asked */
}

static int s_request(void)
{
    if (ccip_shutdown_requested())
        return 10;
    ccip_shutdown_request();
    return ccip_shutdown_requested() ? 0 : 11;
}

static pthread_t s_main;

static void *s_kill_main(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
    pthread_kill(s_main, SIGTERM);
    return NULL;
}

/* A read that would block for ever returns EINTR when SIGTERM comes. */
static int s_blocking_call(void)
{
    int fds[2];
    if (ccip_shutdown_install() != 0 || pipe(fds) != 0)
        return 10;
    s_main = pthread_self();
    pthread_t t;
    if (pthread_create(&t, NULL, s_kill_main, NULL) != 0)
        return 10;
    char c;
    ssize_t n = read(fds[0], &c, 1);
    int rc = n < 0 && errno == EINTR && ccip_shutdown_requested() ? 0 : 11;
    pthread_join(t, NULL);
    return rc;
}

static void test_signals_ask_for_a_stop(void **state)
{
    (void)state;
    assert_int_equal(s_in_child(s_sigterm), 0);
    assert_int_equal(s_in_child(s_sigint), 0);
    assert_int_equal(s_in_child(s_sigpipe), 0);
    assert_int_equal(s_in_child(s_request), 0);
    assert_int_equal(s_in_child(s_blocking_call), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signals_ask_for_a_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
