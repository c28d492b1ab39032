/*
 * ccip_metrics: families and series written in the Prometheus text format
 * (counters, gauges, histograms with cumulative buckets, times in seconds
 * from integer microseconds, escaped label values, the series cap), and the
 * server's answers (/metrics, /healthz, /readyz, 404, 405, 400 for a
 * malformed or silent client, after which it keeps serving).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ccip_metrics.h"

static char *s_render(ccip_metrics *m)
{
    size_t len = 0;
    char *t = ccip_metrics_render(m, &len);
    assert_non_null(t);
    assert_int_equal(strlen(t), len);
    return t;
}

static void s_has(const char *text, const char *line)
{
    if (!strstr(text, line)) {
        fprintf(stderr, "missing \"%s\" in:\n%s\n", line, text);
        fail();
    }
}

static void test_counters_and_gauges(void **state)
{
    (void)state;
    ccip_metrics *m = ccip_metrics_new();
    ccip_metric *c = ccip_metrics_counter(m, "ccip_commands_total", "commands answered");
    assert_non_null(c);
    assert_ptr_equal(ccip_metrics_counter(m, "ccip_commands_total", "again"), c);
    assert_null(ccip_metrics_gauge(m, "ccip_commands_total", "another kind", 1));
    assert_null(ccip_metrics_counter(m, "9lives", "a name may not start with a digit"));
    assert_null(ccip_metrics_counter(m, "a-b", "nor hold a dash"));
    char l[CCIP_METRICS_LABELS_MAX];
    ccip_metric_add(c, ccip_metrics_labels(l, sizeof l, "type", "x.get.v1", "status", "OK", NULL),
                    2);
    ccip_metric_add(c, l, 3);
    ccip_metric_add(
        c, ccip_metrics_labels(l, sizeof l, "type", "x.get.v1", "status", "NOT_FOUND", NULL), 1);
    ccip_metric *g = ccip_metrics_gauge(m, "ccip_relay_lag_seconds", "age\nof the oldest", 1000000);
    ccip_metric_set(g, "", 1500000);
    ccip_metric *n = ccip_metrics_gauge(m, "ccip_consumer_lag_events", "behind", 1);
    ccip_metric_set(n, ccip_metrics_labels(l, sizeof l, "producer", "intake", NULL), -3);
    ccip_metric_add(NULL, "", 1);  /* nothing happens */
    ccip_metric_observe(c, "", 5); /* not a histogram: nothing happens */
    char *t = s_render(m);
    s_has(t, "# HELP ccip_commands_total commands answered\n"
             "# TYPE ccip_commands_total counter\n"
             "ccip_commands_total{type=\"x.get.v1\",status=\"OK\"} 5\n"
             "ccip_commands_total{type=\"x.get.v1\",status=\"NOT_FOUND\"} 1\n");
    s_has(t, "# HELP ccip_relay_lag_seconds age of the oldest\n"
             "# TYPE ccip_relay_lag_seconds gauge\nccip_relay_lag_seconds 1.5\n");
    s_has(t, "ccip_consumer_lag_events{producer=\"intake\"} -3\n");
    s_has(t, "ccip_metrics_dropped_series_total 0\n");
    free(t);
    ccip_metrics_destroy(&m);
    assert_null(m);
    ccip_metrics_destroy(&m);
}

static void test_histograms(void **state)
{
    (void)state;
    ccip_metrics *m = ccip_metrics_new();
    const int64_t bounds[] = {1000, 5000};
    const int64_t bad[] = {5000, 1000};
    assert_null(ccip_metrics_histogram(m, "h_bad_seconds", "bounds must increase", bad, 2, 1));
    ccip_metric *h = ccip_metrics_histogram(m, "h_seconds", "latency", bounds, 2, 1000000);
    ccip_metric_observe(h, "", 300);
    ccip_metric_observe(h, "", 1000); /* on a bound: in its bucket */
    ccip_metric_observe(h, "", 7000);
    const int64_t sizes[] = {1, 2, 4};
    ccip_metric *b = ccip_metrics_histogram(m, "batch_size", "commands per batch", sizes, 3, 1);
    const uint64_t counts[] = {5, 0, 2, 1};
    ccip_metric_set_histogram(b, "", counts, 4, 20);
    ccip_metric_set_histogram(b, "", counts, 3, 20); /* wrong bucket count: ignored */
    char *t = s_render(m);
    s_has(t, "# TYPE h_seconds histogram\n"
             "h_seconds_bucket{le=\"0.001\"} 2\n"
             "h_seconds_bucket{le=\"0.005\"} 2\n"
             "h_seconds_bucket{le=\"+Inf\"} 3\n"
             "h_seconds_sum 0.0083\n"
             "h_seconds_count 3\n");
    s_has(t, "batch_size_bucket{le=\"1\"} 5\nbatch_size_bucket{le=\"2\"} 5\n"
             "batch_size_bucket{le=\"4\"} 7\nbatch_size_bucket{le=\"+Inf\"} 8\n"
             "batch_size_sum 20\nbatch_size_count 8\n");
    free(t);
    ccip_metrics_destroy(&m);
}

static void test_label_values_escaped_and_bounded(void **state)
{
    (void)state;
    char l[CCIP_METRICS_LABELS_MAX];
    ccip_metrics_labels(l, sizeof l, "route", "a\"b\\c\nd", NULL);
    assert_string_equal(l, "route=\"a\\\"b\\\\c\\nd\"");
    char small[12];
    assert_string_equal(ccip_metrics_labels(small, sizeof small, "route", "far too long", NULL),
                        "");
    char longv[400];
    memset(longv, 'x', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    ccip_metrics_labels(l, sizeof l, "v", longv, NULL);
    assert_int_equal(strlen(l), strlen("v=\"\"") + 128);
    /* a family holds at most CCIP_METRICS_SERIES_MAX series */
    ccip_metrics *m = ccip_metrics_new();
    ccip_metric *c = ccip_metrics_counter(m, "c_total", "many");
    for (int i = 0; i < CCIP_METRICS_SERIES_MAX + 5; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        ccip_metric_add(c, ccip_metrics_labels(l, sizeof l, "i", v, NULL), 1);
    }
    char *t = s_render(m);
    s_has(t, "ccip_metrics_dropped_series_total 5\n");
    free(t);
    ccip_metrics_destroy(&m);
}

/* ---- the server ---------------------------------------------------------- */

static int s_ready_answer;

static int s_ready(void *arg, char *why, size_t whylen)
{
    (void)arg;
    if (s_ready_answer == 0)
        return 0;
    snprintf(why, whylen, "the database does not answer");
    return -1;
}

static int s_collected;

static void s_collect(void *arg)
{
    ccip_metric_set(arg, "", ++s_collected);
}

/* Sends req (may be NULL: nothing) to the server and reads its answer. */
static void s_ask(int port, const char *req, char *out, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    if (req)
        assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
    size_t n = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (n + 1 >= len || poll(&p, 1, 5000) <= 0)
            break;
        ssize_t k = recv(fd, out + n, len - n - 1, 0);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    out[n] = '\0';
    close(fd);
}

static void test_server_answers(void **state)
{
    (void)state;
    char err[200];
    ccip_metrics *m = ccip_metrics_new();
    ccip_metric *g = ccip_metrics_gauge(m, "scrapes", "collect ran", 1);
    assert_null(ccip_metrics_server_start(m, "nowhere", s_collect, s_ready, g, err, sizeof err));
    assert_non_null(strstr(err, "`metrics.listen` must be an address and port"));
    ccip_metrics_server *s =
        ccip_metrics_server_start(m, "127.0.0.1:0", s_collect, s_ready, g, err, sizeof err);
    assert_non_null(s);
    int port = ccip_metrics_server_port(s);
    assert_true(port > 0);
    char buf[16384];
    s_ask(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof buf);
    s_has(buf, "HTTP/1.1 200 OK\r\n");
    s_has(buf, "Content-Type: text/plain; version=0.0.4");
    s_has(buf, "\r\n\r\n# HELP scrapes collect ran\n# TYPE scrapes gauge\nscrapes 1\n");
    s_ask(port, "GET /healthz HTTP/1.0\r\n\r\n", buf, sizeof buf);
    s_has(buf, "HTTP/1.1 200 OK\r\n");
    s_has(buf, "alive\n");
    s_ready_answer = 0;
    s_ask(port, "GET /readyz?verbose HTTP/1.1\r\n\r\n", buf, sizeof buf);
    s_has(buf, "200 OK");
    s_ready_answer = -1;
    s_ask(port, "GET /readyz HTTP/1.1\r\n\r\n", buf, sizeof buf);
    s_has(buf, "HTTP/1.1 503 Service Unavailable\r\n");
    s_has(buf, "not ready: the database does not answer\n");
    s_ask(port, "GET /api/v1/secrets HTTP/1.1\r\n\r\n", buf, sizeof buf);
    s_has(buf, "HTTP/1.1 404 Not Found\r\n");
    s_ask(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", buf, sizeof buf);
    s_has(buf, "HTTP/1.1 405 Method Not Allowed\r\n");
    s_has(buf, "Allow: GET\r\n");
    s_ask(port, "HELLO\r\n\r\n", buf, sizeof buf);
    s_has(buf, "HTTP/1.1 400 Bad Request\r\n");
    /* a client that says nothing is cut off after 2 s, and the server
     * serves the next one */
    s_ask(port, NULL, buf, sizeof buf);
    s_has(buf, "HTTP/1.1 400 Bad Request\r\n");
    s_ask(port, "GET /metrics HTTP/1.1\r\n\r\n", buf, sizeof buf);
    s_has(buf, "scrapes 2\n");
    ccip_metrics_server_stop(&s);
    assert_null(s);
    ccip_metrics_server_stop(&s);
    ccip_metrics_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_and_gauges),
        cmocka_unit_test(test_histograms),
        cmocka_unit_test(test_label_values_escaped_and_bounded),
        cmocka_unit_test(test_server_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
