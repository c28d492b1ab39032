#include "ccip_test_proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROXY_MAX_PAIRS 256   /* connections carried at once (a chaos run opens ~80) */
#define PROXY_BUF       16384 /* bytes in flight per direction of a connection */
#define PROXY_TICK_MS   10    /* the thread looks at cuts and restores this often */

/* One direction of a connection: bytes read from `from`, not yet written
 * to `to`. */
typedef struct {
    int from, to;
    char buf[PROXY_BUF];
    size_t len; /* bytes in buf */
    size_t off; /* of which written */
} s_dir;

/* One forwarded connection: client -> server and back. */
typedef struct {
    s_dir up;   /* client to database */
    s_dir down; /* database to client */
} s_pair;

struct ccip_test_proxy {
    int listen_fd;   /* bound at new, listening from start */
    int port;        /* its loopback port */
    int target_port; /* the database's */
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    int stop;                       /* the thread ends */
    int cut;                        /* new connections are closed at once */
    unsigned cut_asked;             /* cuts asked for ... */
    unsigned cut_done;              /* ... and carried out (connections closed) */
    long long restore_at;           /* ms (CLOCK_MONOTONIC) an automatic cut ends; 0 = none */
    long long armed;                /* connections to forward before an armed cut; -1 = none */
    int armed_ms;                   /* how long the armed cut lasts */
    unsigned forwarded;             /* connections forwarded */
    unsigned refused;               /* connections closed at once during a cut */
    s_pair *pairs[PROXY_MAX_PAIRS]; /* owned by the thread */
};

static long long s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void s_pair_close(ccip_test_proxy *p, int i)
{
    close(p->pairs[i]->up.from);
    close(p->pairs[i]->up.to);
    free(p->pairs[i]);
    p->pairs[i] = NULL;
}

static void s_close_all(ccip_test_proxy *p)
{
    for (int i = 0; i < PROXY_MAX_PAIRS; i++)
        if (p->pairs[i])
            s_pair_close(p, i);
}

/* Connects to the database; -1 when it cannot (the client is then closed
 * too, which libpq reports as a lost server). */
static int s_upstream(ccip_test_proxy *p)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)p->target_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Accepts what waits on the listening socket: forwards it, or closes it
 * during a cut (starting an armed cut when its count is reached). Called
 * with mu held. */
static void s_accept(ccip_test_proxy *p)
{
    for (;;) {
        int c = accept(p->listen_fd, NULL, NULL);
        if (c < 0)
            return;
        if (!p->cut && p->armed == 0) {
            p->armed = -1;
            p->cut = 1;
            p->restore_at = s_now_ms() + p->armed_ms;
            s_close_all(p);
        }
        int slot = -1;
        for (int i = 0; i < PROXY_MAX_PAIRS && slot < 0; i++)
            if (!p->pairs[i])
                slot = i;
        int s = p->cut || slot < 0 ? -1 : s_upstream(p);
        s_pair *pair = s < 0 ? NULL : calloc(1, sizeof *pair);
        if (!pair) {
            if (s >= 0)
                close(s);
            close(c);
            p->refused++;
            if (slot < 0)
                fprintf(stderr, "ccip_test_proxy: more than %d connections\n", PROXY_MAX_PAIRS);
            continue;
        }
        int one = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        s_nonblock(c);
        s_nonblock(s);
        pair->up.from = c;
        pair->up.to = s;
        pair->down.from = s;
        pair->down.to = c;
        p->pairs[slot] = pair;
        p->forwarded++;
        if (p->armed > 0)
            p->armed--;
    }
}

/* Moves bytes one way as far as the sockets allow. Returns -1 when the
 * connection ended (either end closed or failed). */
static int s_move(s_dir *d, short revents_from)
{
    if (d->len == 0 && (revents_from & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t n = recv(d->from, d->buf, sizeof d->buf, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            return -1;
        if (n > 0) {
            d->len = (size_t)n;
            d->off = 0;
        }
    }
    /* a write is tried whenever bytes wait: the socket does not block */
    if (d->len > 0) {
        ssize_t n = send(d->to, d->buf + d->off, d->len - d->off, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        if (n > 0)
            d->off += (size_t)n;
        if (d->off == d->len)
            d->len = d->off = 0;
    }
    return 0;
}

static void *s_run(void *arg)
{
    ccip_test_proxy *p = arg;
    struct pollfd fds[1 + 2 * PROXY_MAX_PAIRS];
    int owner[1 + 2 * PROXY_MAX_PAIRS]; /* the pair of each fds entry */
    for (;;) {
        pthread_mutex_lock(&p->mu);
        if (p->stop) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        if (p->cut_asked != p->cut_done) {
            s_close_all(p);
            p->cut_done = p->cut_asked;
            pthread_cond_broadcast(&p->cv);
        }
        if (p->restore_at && s_now_ms() >= p->restore_at) {
            p->cut = 0;
            p->restore_at = 0;
        }
        int n = 0;
        fds[n] = (struct pollfd){.fd = p->listen_fd, .events = POLLIN};
        owner[n++] = -1;
        for (int i = 0; i < PROXY_MAX_PAIRS; i++) {
            s_pair *pr = p->pairs[i];
            if (!pr)
                continue;
            /* client end: readable when nothing waits to go up, writable
             * when something waits to go down; the database end likewise */
            fds[n] = (struct pollfd){
                .fd = pr->up.from,
                .events = (short)((pr->up.len ? 0 : POLLIN) | (pr->down.len ? POLLOUT : 0))};
            owner[n++] = i;
            fds[n] = (struct pollfd){
                .fd = pr->up.to,
                .events = (short)((pr->down.len ? 0 : POLLIN) | (pr->up.len ? POLLOUT : 0))};
            owner[n++] = i;
        }
        pthread_mutex_unlock(&p->mu);
        if (poll(fds, (nfds_t)n, PROXY_TICK_MS) <= 0)
            continue;
        pthread_mutex_lock(&p->mu);
        /* a cut asked for meanwhile closed the pairs polled: do it first */
        if (p->cut_asked == p->cut_done) {
            for (int k = 1; k < n; k += 2) {
                int i = owner[k];
                s_pair *pr = p->pairs[i];
                if (!pr)
                    continue;
                short client = fds[k].revents, server = fds[k + 1].revents;
                if (s_move(&pr->up, client) < 0 || s_move(&pr->down, server) < 0)
                    s_pair_close(p, i);
            }
            if (fds[0].revents & POLLIN)
                s_accept(p);
        }
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

ccip_test_proxy *ccip_test_proxy_new(int target_port)
{
    ccip_test_proxy *p = calloc(1, sizeof *p);
    if (!p) {
        fprintf(stderr, "ccip_test_proxy_new: out of memory\n");
        return NULL;
    }
    p->target_port = target_port;
    p->armed = -1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(p->listen_fd, (struct sockaddr *)&a, &len) < 0) {
        fprintf(stderr, "ccip_test_proxy_new: could not bind a loopback port: %s\n",
                strerror(errno));
        ccip_test_proxy_destroy(&p);
        return NULL;
    }
    p->port = ntohs(a.sin_port);
    s_nonblock(p->listen_fd);
    return p;
}

int ccip_test_proxy_port(const ccip_test_proxy *p)
{
    return p->port;
}

int ccip_test_proxy_start(ccip_test_proxy *p)
{
    if (p->started) {
        fprintf(stderr, "ccip_test_proxy_start: started already\n");
        return -1;
    }
    if (listen(p->listen_fd, 128) < 0) {
        fprintf(stderr, "ccip_test_proxy_start: could not listen: %s\n", strerror(errno));
        return -1;
    }
    if (pthread_create(&p->thread, NULL, s_run, p) != 0) {
        fprintf(stderr, "ccip_test_proxy_start: could not start its thread\n");
        return -1;
    }
    p->started = 1;
    return 0;
}

void ccip_test_proxy_cut(ccip_test_proxy *p)
{
    pthread_mutex_lock(&p->mu);
    p->cut = 1;
    p->restore_at = 0;
    unsigned want = ++p->cut_asked;
    while (p->started && p->cut_done != want)
        pthread_cond_wait(&p->cv, &p->mu);
    if (!p->started)
        p->cut_done = want; /* nothing is carried before the start */
    pthread_mutex_unlock(&p->mu);
}

void ccip_test_proxy_restore(ccip_test_proxy *p)
{
    pthread_mutex_lock(&p->mu);
    p->cut = 0;
    p->restore_at = 0;
    pthread_mutex_unlock(&p->mu);
}

void ccip_test_proxy_cut_after(ccip_test_proxy *p, unsigned connections, int cut_ms)
{
    pthread_mutex_lock(&p->mu);
    p->armed = connections;
    p->armed_ms = cut_ms;
    pthread_mutex_unlock(&p->mu);
}

unsigned ccip_test_proxy_forwarded(const ccip_test_proxy *p)
{
    pthread_mutex_lock((pthread_mutex_t *)&p->mu);
    unsigned n = p->forwarded;
    pthread_mutex_unlock((pthread_mutex_t *)&p->mu);
    return n;
}

unsigned ccip_test_proxy_refused(const ccip_test_proxy *p)
{
    pthread_mutex_lock((pthread_mutex_t *)&p->mu);
    unsigned n = p->refused;
    pthread_mutex_unlock((pthread_mutex_t *)&p->mu);
    return n;
}

void ccip_test_proxy_destroy(ccip_test_proxy **pp)
{
    if (!pp || !*pp)
        return;
    ccip_test_proxy *p = *pp;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
    }
    s_close_all(p);
    if (p->listen_fd >= 0)
        close(p->listen_fd);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
    *pp = NULL;
}
