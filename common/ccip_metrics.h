/*
 * ccip_metrics: a process's counters, gauges and histograms, written in the
 * Prometheus text format (version 0.0.4), and the small HTTP server that
 * serves them with /healthz and /readyz on `metrics.listen` (issue 14,
 * item 7; what the skeleton records: ccip_service.h).
 *
 * A metric family is declared once by name (again: the same family back)
 * and holds one series per label set. Label sets are text made with
 * ccip_metrics_labels ("type=\"intake.call.get.v1\",status=\"OK\""), so
 * recording costs one hash look-up under one mutex. Label values must come
 * from bounded sets (command types the service knows, route templates):
 * never from what a caller sent. A family holds at most
 * CCIP_METRICS_SERIES_MAX series; later ones are dropped and counted in
 * ccip_metrics_dropped_series_total.
 *
 * Times are recorded in microseconds (int64) and written in seconds, as
 * Prometheus names them (`_seconds`); nothing is stored as floating point.
 */
#ifndef CCIP_METRICS_H
#define CCIP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define CCIP_METRICS_SERIES_MAX 2048 /* series of one family */
#define CCIP_METRICS_BOUNDS_MAX 24   /* bucket bounds of one histogram */
#define CCIP_METRICS_LABELS_MAX 512  /* bytes of one label set */

typedef struct ccip_metrics ccip_metrics;
typedef struct ccip_metric ccip_metric;

/* Latency buckets for request and command durations, in microseconds
 * (0.5 ms .. 10 s). */
extern const int64_t ccip_metrics_latency_us[];
extern const size_t ccip_metrics_latency_n;

/* An empty registry, or NULL when out of memory. */
ccip_metrics *ccip_metrics_new(void);

/* Frees the registry and its families; safe on NULL and twice (sets *m to
 * NULL). No thread may record into it any more. */
void ccip_metrics_destroy(ccip_metrics **m);

/* Declares (or finds) a family. name: [a-zA-Z_:][a-zA-Z0-9_:]*; help: one
 * line. A histogram's bounds are its buckets' upper limits in increasing
 * order (at most CCIP_METRICS_BOUNDS_MAX, copied; "+Inf" is added). unit
 * (gauges, histograms): 1000000 writes values recorded in microseconds as
 * seconds, 1 writes them as they are. Returns the family (owned by the
 * registry), or NULL when the name is malformed, already declared as
 * another kind, or memory ran out. */
ccip_metric *ccip_metrics_counter(ccip_metrics *m, const char *name, const char *help);
ccip_metric *ccip_metrics_gauge(ccip_metrics *m, const char *name, const char *help, int64_t unit);
ccip_metric *ccip_metrics_histogram(ccip_metrics *m, const char *name, const char *help,
                                    const int64_t *bounds, size_t nbounds, int64_t unit);

/* Recording; f may be NULL (nothing happens), labels NULL or "" (no
 * labels). add: a counter goes up by n; set: a gauge (or a counter read
 * from elsewhere) becomes v; observe: a histogram counts value v. */
void ccip_metric_add(ccip_metric *f, const char *labels, uint64_t n);
void ccip_metric_set(ccip_metric *f, const char *labels, int64_t v);
void ccip_metric_observe(ccip_metric *f, const char *labels, int64_t v);

/* Replaces a histogram series with counts kept elsewhere: counts[i] values
 * fell in bucket i (not cumulative; nbuckets = the family's bounds + 1 for
 * +Inf), sum is their total. */
void ccip_metric_set_histogram(ccip_metric *f, const char *labels, const uint64_t *counts,
                               size_t nbuckets, int64_t sum);

/* Writes a label set into out from name/value pairs ended by NULL, values
 * escaped as the format wants (\\, \", \n); a value longer than 128 bytes
 * is cut. Returns out ("" when it did not fit). */
char *ccip_metrics_labels(char *out, size_t len, ...);

/* The whole registry in the text format; malloc'd, the caller frees.
 * NULL when out of memory. */
char *ccip_metrics_render(ccip_metrics *m, size_t *len);

/* Microseconds of a monotonic clock, for durations. */
int64_t ccip_metrics_now_us(void);

/* ---- the server ---------------------------------------------------------- */

typedef struct ccip_metrics_server ccip_metrics_server;

/* Called by the server thread before it writes /metrics: refreshes the
 * gauges that are read rather than recorded (lags, pool use). */
typedef void (*ccip_metrics_collect_fn)(void *arg);

/* Called by the server thread for /readyz: returns 0 when the process can
 * serve, or -1 with a sentence in why. */
typedef int (*ccip_metrics_ready_fn)(void *arg, char *why, size_t whylen);

/* Serves, on one thread, HTTP/1.x GET requests on addr ("host:port" or
 * "[v6]:port"; port 0 picks a free one): /metrics (the registry, after
 * collect), /healthz (200 while the thread runs), /readyz (200, or 503 with
 * ready's sentence). Anything else is 404, another method 405, a malformed
 * or oversized request 400; a client gets 2 s to send its request; every
 * answer closes the connection. collect and ready may be NULL; both are
 * called on the server's thread only, so arg may hold that thread's own
 * connections. Returns NULL with err when addr is malformed or cannot be
 * bound. */
ccip_metrics_server *ccip_metrics_server_start(ccip_metrics *m, const char *addr,
                                               ccip_metrics_collect_fn collect,
                                               ccip_metrics_ready_fn ready, void *arg, char *err,
                                               size_t errlen);

/* Stops the thread (within 100 ms) and frees; safe on NULL and twice. */
void ccip_metrics_server_stop(ccip_metrics_server **s);

/* The port the server listens on. */
int ccip_metrics_server_port(const ccip_metrics_server *s);

#endif
