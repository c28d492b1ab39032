/*
 * ccip_shutdown: SIGTERM and SIGINT ask a process to stop cleanly.
 *
 * Main loops poll with a short timeout and look at the flag between pieces
 * of work, so a process finishes the command in hand, stops taking new ones
 * and exits within a few seconds (Kubernetes sends SIGTERM, then SIGKILL
 * after its grace period).
 */
#ifndef CCIP_SHUTDOWN_H
#define CCIP_SHUTDOWN_H

/* Installs the handlers (SA_RESTART off, so blocking calls return EINTR)
 * and ignores SIGPIPE. Returns 0 or -1. */
int ccip_shutdown_install(void);

/* 1 once a stop was asked for (or ccip_shutdown_request was called). */
int ccip_shutdown_requested(void);

/* Asks for a stop from inside the process (tests, fatal errors in a thread). */
void ccip_shutdown_request(void);

#endif
