/*
 * ccip_test_proxy: a TCP forwarder between the services of a test and the
 * real test PostgreSQL (not part of the product), so that a test can make
 * the database unreachable for its services alone: the shared cluster of
 * scripts/test, which other tests use at the same time, is never stopped.
 *
 * A proxy takes a free loopback port when made, and refuses connections
 * there (nothing listens) until it is started; a test points a service's
 * db.port at it (ccip_test_env.db_port). Started, it forwards every
 * connection to the target port on 127.0.0.1, byte for byte. A cut closes
 * every connection it carries, as a database crash or restart does, and
 * closes each new one at once until the proxy is restored:
 *
 *   ccip_test_proxy *p = ccip_test_proxy_new(atoi(getenv("CCIP_PGPORT")));
 *   s_svc.env.db_port = ccip_test_proxy_port(p);
 *   ... start a service: it waits for the database ...
 *   ccip_test_sleep_ms(2000);
 *   ccip_test_proxy_start(p);          // the database is reachable now
 *   ccip_test_proxy_cut(p);            // every connection breaks
 *   ccip_test_proxy_restore(p);
 *   ccip_test_proxy_destroy(&p);
 *
 * One thread forwards every connection; the functions may be called from
 * any thread.
 */
#ifndef CCIP_TEST_PROXY_H
#define CCIP_TEST_PROXY_H

typedef struct ccip_test_proxy ccip_test_proxy;

/* Makes a proxy to 127.0.0.1:target_port on a free loopback port, bound
 * but not listening (connections to it are refused). Returns NULL with the
 * reason on stderr. */
ccip_test_proxy *ccip_test_proxy_new(int target_port);

/* The loopback port the proxy owns. */
int ccip_test_proxy_port(const ccip_test_proxy *p);

/* Starts listening and forwarding. Returns 0, or -1 with the reason on
 * stderr (also when it was started already). */
int ccip_test_proxy_start(ccip_test_proxy *p);

/* Closes every connection the proxy carries and, until
 * ccip_test_proxy_restore, closes each new one as soon as it is accepted.
 * Returns once the connections are closed. */
void ccip_test_proxy_cut(ccip_test_proxy *p);

/* Forwards new connections again after a cut. */
void ccip_test_proxy_restore(ccip_test_proxy *p);

/* Arms a cut: once `connections` more connections have been accepted and
 * forwarded, the next one to arrive starts a cut (ccip_test_proxy_cut)
 * that the proxy restores by itself cut_ms later: a database restarting
 * just as a process opens its (connections + 1)-th connection. */
void ccip_test_proxy_cut_after(ccip_test_proxy *p, unsigned connections, int cut_ms);

/* Connections forwarded so far, and connections closed at once because
 * they came during a cut. */
unsigned ccip_test_proxy_forwarded(const ccip_test_proxy *p);
unsigned ccip_test_proxy_refused(const ccip_test_proxy *p);

/* Stops the thread, closes every socket and frees the proxy; sets *p to
 * NULL. Safe on NULL and twice. */
void ccip_test_proxy_destroy(ccip_test_proxy **p);

#endif
