#include "ccip_metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HASH_SIZE       256  /* chains per family */
#define LABEL_VALUE_MAX 128  /* bytes of one label value kept */
#define REQUEST_MAX     8192 /* bytes of one request's head */
#define CLIENT_MS       2000 /* time a client has to send its request, and to take the answer */
#define POLL_MS         100  /* longest time between looks at the stop flag */

const int64_t ccip_metrics_latency_us[] = {500,    1000,   2500,   5000,    10000,   25000,   50000,
                                           100000, 250000, 500000, 1000000, 2500000, 10000000};
const size_t ccip_metrics_latency_n =
    sizeof ccip_metrics_latency_us / sizeof ccip_metrics_latency_us[0];

typedef enum { S_COUNTER, S_GAUGE, S_HISTOGRAM } s_kind;

static const char *const S_KIND_NAMES[] = {"counter", "gauge", "histogram"};

typedef struct s_series {
    struct s_series *chain; /* next in its hash chain */
    struct s_series *next;  /* next in declaration order (rendering) */
    char *labels;           /* the label set as written */
    int64_t value;          /* counter or gauge */
    uint64_t *buckets;      /* histogram: counts per bucket, not cumulative (nbounds + 1) */
    uint64_t count;         /* histogram: values counted */
    int64_t sum;            /* histogram: their sum */
} s_series;

struct ccip_metric {
    ccip_metrics *m;                         /* its registry (whose mutex guards the series) */
    ccip_metric *next;                       /* next family in declaration order */
    char *name;                              /* metric name */
    char *help;                              /* one line */
    s_kind kind;                             /* counter, gauge or histogram */
    int64_t bounds[CCIP_METRICS_BOUNDS_MAX]; /* histogram bucket limits */
    size_t nbounds;                          /* entries used in bounds */
    int64_t unit;                            /* divisor from recorded values to written ones */
    s_series *table[HASH_SIZE];
    s_series *first; /* series in declaration order */
    s_series *last;
    size_t nseries;
};

struct ccip_metrics {
    pthread_mutex_t mu; /* guards every family and series */
    ccip_metric *first; /* families in declaration order */
    ccip_metric *last;
    uint64_t dropped; /* series refused by CCIP_METRICS_SERIES_MAX */
};

/* ---- the registry ------------------------------------------------------- */

int64_t ccip_metrics_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

ccip_metrics *ccip_metrics_new(void)
{
    ccip_metrics *m = calloc(1, sizeof *m);
    if (m && pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return NULL;
    }
    return m;
}

static void s_family_free(ccip_metric *f)
{
    for (s_series *s = f->first, *next; s; s = next) {
        next = s->next;
        free(s->labels);
        free(s->buckets);
        free(s);
    }
    free(f->name);
    free(f->help);
    free(f);
}

void ccip_metrics_destroy(ccip_metrics **m)
{
    if (!m || !*m)
        return;
    for (ccip_metric *f = (*m)->first, *next; f; f = next) {
        next = f->next;
        s_family_free(f);
    }
    pthread_mutex_destroy(&(*m)->mu);
    free(*m);
    *m = NULL;
}

static int s_name_ok(const char *name)
{
    if (!name || !name[0] || (name[0] >= '0' && name[0] <= '9'))
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == ':'))
            return 0;
    return 1;
}

static ccip_metric *s_declare(ccip_metrics *m, const char *name, const char *help, s_kind kind,
                              const int64_t *bounds, size_t nbounds, int64_t unit)
{
    if (!m || !s_name_ok(name) || nbounds > CCIP_METRICS_BOUNDS_MAX || unit < 1)
        return NULL;
    for (size_t i = 1; i < nbounds; i++)
        if (bounds[i] <= bounds[i - 1])
            return NULL;
    pthread_mutex_lock(&m->mu);
    ccip_metric *f = m->first;
    while (f && strcmp(f->name, name) != 0)
        f = f->next;
    if (f) {
        pthread_mutex_unlock(&m->mu);
        return f->kind == kind ? f : NULL;
    }
    f = calloc(1, sizeof *f);
    if (f && (!(f->name = strdup(name)) || !(f->help = strdup(help ? help : "")))) {
        s_family_free(f);
        f = NULL;
    }
    if (f) {
        f->m = m;
        f->kind = kind;
        f->nbounds = nbounds;
        if (nbounds)
            memcpy(f->bounds, bounds, nbounds * sizeof *bounds);
        f->unit = unit;
        /* one line of help: a newline would end the comment early */
        for (char *p = f->help; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        if (m->last)
            m->last->next = f;
        else
            m->first = f;
        m->last = f;
    }
    pthread_mutex_unlock(&m->mu);
    return f;
}

ccip_metric *ccip_metrics_counter(ccip_metrics *m, const char *name, const char *help)
{
    return s_declare(m, name, help, S_COUNTER, NULL, 0, 1);
}

ccip_metric *ccip_metrics_gauge(ccip_metrics *m, const char *name, const char *help, int64_t unit)
{
    return s_declare(m, name, help, S_GAUGE, NULL, 0, unit);
}

ccip_metric *ccip_metrics_histogram(ccip_metrics *m, const char *name, const char *help,
                                    const int64_t *bounds, size_t nbounds, int64_t unit)
{
    return s_declare(m, name, help, S_HISTOGRAM, bounds, nbounds, unit);
}

static unsigned s_hash(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % HASH_SIZE;
}

/* The series of labels in f, made when missing; NULL when the family is
 * full or memory ran out. Called with the registry's mutex held. */
static s_series *s_series_of(ccip_metric *f, const char *labels)
{
    if (!labels)
        labels = "";
    unsigned h = s_hash(labels);
    for (s_series *s = f->table[h]; s; s = s->chain)
        if (strcmp(s->labels, labels) == 0)
            return s;
    s_series *s = NULL;
    if (f->nseries < CCIP_METRICS_SERIES_MAX && (s = calloc(1, sizeof *s)) &&
        (!(s->labels = strdup(labels)) ||
         (f->kind == S_HISTOGRAM && !(s->buckets = calloc(f->nbounds + 1, sizeof *s->buckets))))) {
        free(s->labels);
        free(s);
        s = NULL;
    }
    if (!s) {
        f->m->dropped++;
        return NULL;
    }
    s->chain = f->table[h];
    f->table[h] = s;
    if (f->last)
        f->last->next = s;
    else
        f->first = s;
    f->last = s;
    f->nseries++;
    return s;
}

void ccip_metric_add(ccip_metric *f, const char *labels, uint64_t n)
{
    if (!f || f->kind != S_COUNTER)
        return;
    pthread_mutex_lock(&f->m->mu);
    s_series *s = s_series_of(f, labels);
    if (s)
        s->value = (int64_t)((uint64_t)s->value + n);
    pthread_mutex_unlock(&f->m->mu);
}

void ccip_metric_set(ccip_metric *f, const char *labels, int64_t v)
{
    if (!f || f->kind == S_HISTOGRAM)
        return;
    pthread_mutex_lock(&f->m->mu);
    s_series *s = s_series_of(f, labels);
    if (s)
        s->value = v;
    pthread_mutex_unlock(&f->m->mu);
}

void ccip_metric_observe(ccip_metric *f, const char *labels, int64_t v)
{
    if (!f || f->kind != S_HISTOGRAM)
        return;
    size_t b = 0;
    while (b < f->nbounds && v > f->bounds[b])
        b++;
    pthread_mutex_lock(&f->m->mu);
    s_series *s = s_series_of(f, labels);
    if (s) {
        s->buckets[b]++;
        s->count++;
        s->sum += v;
    }
    pthread_mutex_unlock(&f->m->mu);
}

void ccip_metric_set_histogram(ccip_metric *f, const char *labels, const uint64_t *counts,
                               size_t nbuckets, int64_t sum)
{
    if (!f || f->kind != S_HISTOGRAM || nbuckets != f->nbounds + 1)
        return;
    pthread_mutex_lock(&f->m->mu);
    s_series *s = s_series_of(f, labels);
    if (s) {
        s->count = 0;
        for (size_t i = 0; i < nbuckets; i++)
            s->count += (s->buckets[i] = counts[i]);
        s->sum = sum;
    }
    pthread_mutex_unlock(&f->m->mu);
}

char *ccip_metrics_labels(char *out, size_t len, ...)
{
    va_list ap;
    va_start(ap, len);
    size_t n = 0;
    int ok = len > 0;
    const char *name;
    while (ok && (name = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        if (!value)
            value = "";
        int k = snprintf(out + n, len - n, "%s%s=\"", n ? "," : "", name);
        ok = k > 0 && (size_t)k < len - n;
        n += ok ? (size_t)k : 0;
        for (size_t i = 0; ok && value[i] && i < LABEL_VALUE_MAX; i++) {
            char c = value[i];
            const char *esc = c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n" : NULL;
            size_t need = esc ? 2 : 1;
            ok = n + need + 2 < len; /* room for the closing quote and the NUL */
            if (ok) {
                memcpy(out + n, esc ? esc : &c, need);
                n += need;
            }
        }
        if (ok)
            out[n++] = '"';
    }
    va_end(ap);
    if (!ok && len)
        n = 0;
    if (len)
        out[n < len ? n : len - 1] = '\0';
    return out;
}

/* ---- the text format ---------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
    int failed;
} s_text;

static void s_put(s_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_put(s_text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (k < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)k < t->cap - t->len) {
            t->len += (size_t)k;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)k;
        char *grown = realloc(t->buf, cap);
        if (!grown) {
            t->failed = 1;
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
}

/* A recorded value as written: v / unit with no more digits than needed
 * (integers only: 1500 us with unit 1000000 is "0.0015"). */
static void s_number(char *out, size_t len, int64_t v, int64_t unit)
{
    if (unit == 1) {
        snprintf(out, len, "%lld", (long long)v);
        return;
    }
    int neg = v < 0;
    uint64_t a = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint64_t whole = a / (uint64_t)unit, frac = a % (uint64_t)unit;
    int digits = 0;
    for (int64_t u = unit; u > 1; u /= 10)
        digits++;
    if (frac == 0) {
        snprintf(out, len, "%s%llu", neg ? "-" : "", (unsigned long long)whole);
        return;
    }
    char f[24]; /* the fraction's digits, leading zeros kept (unit <= 10^18) */
    size_t fl = (size_t)digits < sizeof f ? (size_t)digits : sizeof f - 1;
    f[fl] = '\0';
    for (size_t i = fl; i > 0; i--, frac /= 10)
        f[i - 1] = (char)('0' + frac % 10);
    while (fl > 1 && f[fl - 1] == '0')
        f[--fl] = '\0';
    snprintf(out, len, "%s%llu.%s", neg ? "-" : "", (unsigned long long)whole, f);
}

static void s_render_family(s_text *t, const ccip_metric *f)
{
    s_put(t, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, S_KIND_NAMES[f->kind]);
    for (const s_series *s = f->first; s; s = s->next) {
        const char *l = s->labels;
        if (f->kind != S_HISTOGRAM) {
            char v[32];
            if (f->kind == S_COUNTER)
                snprintf(v, sizeof v, "%llu", (unsigned long long)s->value);
            else
                s_number(v, sizeof v, s->value, f->unit);
            s_put(t, "%s%s%s%s %s\n", f->name, l[0] ? "{" : "", l, l[0] ? "}" : "", v);
            continue;
        }
        uint64_t cumulative = 0;
        char le[32];
        for (size_t b = 0; b <= f->nbounds; b++) {
            cumulative += s->buckets[b];
            if (b < f->nbounds)
                s_number(le, sizeof le, f->bounds[b], f->unit);
            else
                snprintf(le, sizeof le, "+Inf");
            s_put(t, "%s_bucket{%s%sle=\"%s\"} %llu\n", f->name, l, l[0] ? "," : "", le,
                  (unsigned long long)cumulative);
        }
        char sum[32];
        s_number(sum, sizeof sum, s->sum, f->unit);
        s_put(t, "%s_sum%s%s%s %s\n", f->name, l[0] ? "{" : "", l, l[0] ? "}" : "", sum);
        s_put(t, "%s_count%s%s%s %llu\n", f->name, l[0] ? "{" : "", l, l[0] ? "}" : "",
              (unsigned long long)s->count);
    }
}

char *ccip_metrics_render(ccip_metrics *m, size_t *len)
{
    s_text t = {.cap = 4096};
    if (!m || !(t.buf = malloc(t.cap)))
        return NULL;
    t.buf[0] = '\0';
    pthread_mutex_lock(&m->mu);
    for (const ccip_metric *f = m->first; f; f = f->next)
        s_render_family(&t, f);
    s_put(&t,
          "# HELP ccip_metrics_dropped_series_total recordings dropped because their family "
          "already held %d series\n# TYPE ccip_metrics_dropped_series_total counter\n"
          "ccip_metrics_dropped_series_total %llu\n",
          CCIP_METRICS_SERIES_MAX, (unsigned long long)m->dropped);
    pthread_mutex_unlock(&m->mu);
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    if (len)
        *len = t.len;
    return t.buf;
}

/* ---- the server --------------------------------------------------------- */

struct ccip_metrics_server {
    ccip_metrics *m;                 /* what /metrics writes */
    ccip_metrics_collect_fn collect; /* refreshes read gauges first */
    ccip_metrics_ready_fn ready;     /* answers /readyz */
    void *arg;                       /* for both */
    int fd;                          /* the listening socket */
    int port;                        /* its port */
    pthread_t thread;                /* serves one connection at a time */
    int started;                     /* thread must be joined */
    atomic_int stop;                 /* set by ccip_metrics_server_stop */
};

/* Parses "host:port" or "[v6]:port". */
static int s_parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *sslen,
                          char *err, size_t errlen)
{
    char host[256];
    const char *colon = text ? strrchr(text, ':') : NULL;
    size_t hl = colon ? (size_t)(colon - text) : 0;
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    memset(ss, 0, sizeof *ss);
    if (colon && hl > 0 && hl < sizeof host && colon[1] && !*end && port >= 0 && port <= 65535) {
        memcpy(host, text, hl);
        host[hl] = '\0';
        if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
            host[hl - 1] = '\0';
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
            a->sin6_family = AF_INET6;
            a->sin6_port = htons((uint16_t)port);
            *sslen = sizeof *a;
            if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) == 1)
                return 0;
        } else {
            struct sockaddr_in *a = (struct sockaddr_in *)ss;
            a->sin_family = AF_INET;
            a->sin_port = htons((uint16_t)port);
            *sslen = sizeof *a;
            if (strcmp(host, "localhost") == 0)
                snprintf(host, sizeof host, "127.0.0.1");
            if (inet_pton(AF_INET, host, &a->sin_addr) == 1)
                return 0;
        }
    }
    snprintf(err, errlen,
             "`metrics.listen` must be an address and port such as 127.0.0.1:9100 or "
             "[::1]:9100, got \"%.60s\"",
             text ? text : "");
    return -1;
}

/* Sends all of buf within the client's time. */
static void s_send_all(int fd, const char *buf, size_t len)
{
    int64_t until = ccip_metrics_now_us() + CLIENT_MS * 1000LL;
    while (len) {
        int left = (int)((until - ccip_metrics_now_us()) / 1000);
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return;
        ssize_t k = send(fd, buf, len, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        buf += k;
        len -= (size_t)k;
    }
}

static void s_answer(int fd, int status, const char *ctype, const char *body, size_t len)
{
    const char *reason = status == 200   ? "OK"
                         : status == 400 ? "Bad Request"
                         : status == 404 ? "Not Found"
                         : status == 405 ? "Method Not Allowed"
                         : status == 503 ? "Service Unavailable"
                                         : "Internal Server Error";
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n",
                     status, reason, ctype, len, status == 405 ? "Allow: GET\r\n" : "");
    s_send_all(fd, head, (size_t)n);
    s_send_all(fd, body, len);
}

static void s_answer_text(int fd, int status, const char *text)
{
    s_answer(fd, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* Reads one request head (up to the blank line) within the client's time.
 * Returns its length, or 0 when it did not come whole. */
static size_t s_read_head(int fd, char *buf, size_t len)
{
    size_t n = 0;
    int64_t until = ccip_metrics_now_us() + CLIENT_MS * 1000LL;
    while (n + 1 < len) {
        int left = (int)((until - ccip_metrics_now_us()) / 1000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return 0;
        ssize_t k = recv(fd, buf + n, len - n - 1, 0);
        if (k <= 0)
            return 0;
        n += (size_t)k;
        buf[n] = '\0';
        if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
            return n;
    }
    return 0;
}

static void s_serve(ccip_metrics_server *s, int fd)
{
    char req[REQUEST_MAX];
    if (!s_read_head(fd, req, sizeof req)) {
        s_answer_text(fd, 400, "send one GET request with its headers within 2 s and 8 KiB\n");
        return;
    }
    char method[16], path[1024];
    if (sscanf(req, "%15s %1023s HTTP/1.%*c", method, path) != 2) {
        s_answer_text(fd, 400, "malformed request line; send e.g. GET /metrics HTTP/1.1\n");
        return;
    }
    path[strcspn(path, "?")] = '\0';
    int known = strcmp(path, "/metrics") == 0 || strcmp(path, "/healthz") == 0 ||
                strcmp(path, "/readyz") == 0;
    if (!known) {
        s_answer_text(fd, 404, "here are /metrics, /healthz and /readyz\n");
        return;
    }
    if (strcmp(method, "GET") != 0) {
        s_answer_text(fd, 405, "use GET\n");
        return;
    }
    if (strcmp(path, "/healthz") == 0) {
        s_answer_text(fd, 200, "alive\n");
    } else if (strcmp(path, "/readyz") == 0) {
        char why[512] = "";
        if (s->ready && s->ready(s->arg, why, sizeof why) < 0) {
            char body[600];
            snprintf(body, sizeof body, "not ready: %s\n", why[0] ? why : "(no reason given)");
            s_answer_text(fd, 503, body);
        } else {
            s_answer_text(fd, 200, "ready\n");
        }
    } else {
        if (s->collect)
            s->collect(s->arg);
        size_t len = 0;
        char *text = ccip_metrics_render(s->m, &len);
        if (text)
            s_answer(fd, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
        else
            s_answer_text(fd, 500, "out of memory\n");
        free(text);
    }
}

static void *s_run(void *arg)
{
    ccip_metrics_server *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, POLL_MS) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        s_serve(s, c);
        close(c);
    }
    return NULL;
}

ccip_metrics_server *ccip_metrics_server_start(ccip_metrics *m, const char *addr,
                                               ccip_metrics_collect_fn collect,
                                               ccip_metrics_ready_fn ready, void *arg, char *err,
                                               size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (!m || s_parse_listen(addr, &ss, &sslen, err, errlen) < 0)
        return NULL;
    ccip_metrics_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->m = m;
    s->collect = collect;
    s->ready = ready;
    s->arg = arg;
    int one = 1;
    s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(s->fd, (struct sockaddr *)&ss, sslen) < 0 || listen(s->fd, 16) < 0) {
        snprintf(err, errlen, "could not serve metrics on %s: %s", addr, strerror(errno));
        goto fail;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(s->fd, (struct sockaddr *)&bound, &blen) == 0)
        s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                    : ((struct sockaddr_in *)&bound)->sin_port);
    if (pthread_create(&s->thread, NULL, s_run, s) != 0) {
        snprintf(err, errlen, "could not start the metrics thread");
        goto fail;
    }
    s->started = 1;
    return s;
fail:
    if (s->fd >= 0)
        close(s->fd);
    free(s);
    return NULL;
}

void ccip_metrics_server_stop(ccip_metrics_server **s)
{
    if (!s || !*s)
        return;
    atomic_store(&(*s)->stop, 1);
    if ((*s)->started)
        pthread_join((*s)->thread, NULL);
    close((*s)->fd);
    free(*s);
    *s = NULL;
}

int ccip_metrics_server_port(const ccip_metrics_server *s)
{
    return s ? s->port : 0;
}
