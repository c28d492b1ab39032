#include "ccip_shutdown.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>

static volatile sig_atomic_t s_signalled = 0;
static atomic_int s_requested = 0;

static void s_on_signal(int sig)
{
    (void)sig;
    s_signalled = 1;
}

int ccip_shutdown_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int ccip_shutdown_requested(void)
{
    return s_signalled || atomic_load(&s_requested);
}

void ccip_shutdown_request(void)
{
    atomic_store(&s_requested, 1);
}
