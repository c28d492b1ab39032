/* libFuzzer target: the broker's frame handling (services/bus/bus_broker.c,
 * compiled in unchanged). bus_broker reads only from its ROUTER socket, so
 * the frames travel through an in-process (inproc://) socket pair: no
 * network, but one trip through libzmq per message, which makes this the
 * slowest target.
 *
 * The input is a script of messages, each from one of three peers (a
 * client and two would-be replicas, told apart by their routing ids):
 *   [peer: 1 byte][frame count: 1 byte, 1..8][per frame: length (1 byte) + bytes]
 * Each message is sent and the broker drains it; a byte of 0xFF as the peer
 * runs bus_broker_tick instead. A fresh broker serves each input, so that
 * a crash reproduces from its input alone.
 *
 * Invariants: the broker's drain never fails, its counters stay
 * consistent (replicas registered never exceed READY messages sent,
 * requests queued never exceed the queue limit per service times the
 * services named), and destroying it frees everything (LeakSanitizer). */
#include <string.h>
#include <zmq.h>

#include "bus_broker.h"
#include "ccip_log.h"
#include "fuzz_check.h"

#define S_PEERS     3
#define S_MAX_QUEUE 4

static void *s_ctx, *s_router, *s_peer[S_PEERS];

static void s_setup(void)
{
    ccip_log_init("fuzz", "fuzz", CCIP_LOG_ERROR); /* the broker warns on every bad frame */
    s_ctx = zmq_ctx_new();
    s_router = zmq_socket(s_ctx, ZMQ_ROUTER);
    FUZZ_CHECK(zmq_bind(s_router, "inproc://fuzz-broker") == 0, "bind");
    static const char *const ids[S_PEERS] = {"client", "replica-a", "replica-b"};
    for (int i = 0; i < S_PEERS; i++) {
        s_peer[i] = zmq_socket(s_ctx, ZMQ_DEALER);
        zmq_setsockopt(s_peer[i], ZMQ_ROUTING_ID, ids[i], strlen(ids[i]));
        int linger = 0;
        zmq_setsockopt(s_peer[i], ZMQ_LINGER, &linger, sizeof linger);
        FUZZ_CHECK(zmq_connect(s_peer[i], "inproc://fuzz-broker") == 0, "connect");
    }
}

/* Reads and drops whatever the broker sent a peer. */
static void s_discard(void *sock)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) >= 0)
        ;
    zmq_msg_close(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_ctx)
        s_setup();
    bus_broker_limits lim = {
        .max_queue = S_MAX_QUEUE, .default_wait_us = 200000, .max_message_bytes = 4096};
    bus_broker *b = bus_broker_new(s_router, NULL, &lim, "bus-fuzz");
    FUZZ_CHECK(b != NULL, "bus_broker_new");
    size_t at = 0, readies = 0, messages = 0;
    while (at + 2 <= size) {
        uint8_t peer = data[at], nframes = data[at + 1];
        at += 2;
        if (peer == 0xFF) {
            bus_broker_tick(b);
            continue;
        }
        nframes = (uint8_t)(1 + nframes % 8);
        void *sock = s_peer[peer % S_PEERS];
        for (uint8_t f = 0; f < nframes; f++) {
            size_t len = at < size ? data[at++] : 0;
            if (len > size - at)
                len = size - at;
            int more = f + 1 < nframes ? ZMQ_SNDMORE : 0;
            FUZZ_CHECK(zmq_send(sock, data + at, len, more) >= 0, "send: %s",
                       zmq_strerror(zmq_errno()));
            if (f == 1 && len == 1 && data[at] == 1)
                readies++; /* [WORKER][READY]... may register a replica */
            at += len;
        }
        messages++;
        /* wait until the message is in (inproc hands it over at once;
         * the poll only makes that certain) */
        zmq_pollitem_t it = {s_router, 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 1000);
        FUZZ_CHECK(bus_broker_drain(b) == 0, "drain failed: %s", zmq_strerror(zmq_errno()));
        bus_broker_stats st;
        bus_broker_get_stats(b, &st);
        FUZZ_CHECK(st.workers <= readies, "%zu replicas from %zu READY messages", st.workers,
                   readies);
        FUZZ_CHECK(st.queued <= S_MAX_QUEUE * messages, "%zu queued", st.queued);
        for (int i = 0; i < S_PEERS; i++)
            s_discard(s_peer[i]);
    }
    bus_broker_destroy(&b);
    FUZZ_CHECK(b == NULL, "destroy left the pointer");
    for (int i = 0; i < S_PEERS; i++)
        s_discard(s_peer[i]);
    return 0;
}
