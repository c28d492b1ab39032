/* ccip_sock on real sockets (label unit): TCP is refused without CURVE keys
 * before any socket is made, inproc and ipc need none; a peer sending more
 * than the socket's ZMQ_MAXMSGSIZE is dropped; a message with more parts
 * than the caller takes is read whole and kept not at all. (CURVE and ZAP
 * over TCP: test_ccip_zap.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "ccip_sock.h"

#include "ccip_test.h"

static void test_tcp_needs_keys(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    char err[256];
    ccip_sock_opts none = {0};
    assert_null(ccip_sock_bind(ctx, ZMQ_ROUTER, "tcp://127.0.0.1:0", &none, err, sizeof err));
    assert_string_equal(err, "could not bind tcp://127.0.0.1:0: a CURVE key pair is required on "
                             "TCP endpoints");
    assert_null(ccip_sock_bind(ctx, ZMQ_ROUTER, "tcp://127.0.0.1:0", NULL, err, sizeof err));
    /* A client also needs the server's public key. */
    ccip_keypair kp;
    assert_int_equal(ccip_keypair_generate(&kp), 0);
    ccip_sock_opts keys_only = {.keys = &kp};
    assert_null(
        ccip_sock_connect(ctx, ZMQ_DEALER, "tcp://127.0.0.1:9", &keys_only, err, sizeof err));
    assert_non_null(strstr(err, "the server's public key are required on TCP endpoints"));
    /* With keys, a server binds. */
    void *s = ccip_sock_bind(ctx, ZMQ_ROUTER, "tcp://127.0.0.1:*", &keys_only, err, sizeof err);
    assert_non_null(s);
    ccip_sock_close(&s);
    assert_null(s);
    ccip_sock_close(&s); /* safe on NULL */
    zmq_ctx_term(ctx);
}

/* Over ipc: sends parts from `from` and receives them on `to`. */
static void test_parts_and_size_limit(void **state)
{
    (void)state;
    char dir[256], endpoint[300], err[256];
    assert_int_equal(ccip_test_tmpdir(dir, sizeof dir), 0);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/s", dir);
    void *ctx = zmq_ctx_new();
    ccip_sock_opts small = {.max_message_bytes = 1024};
    void *to = ccip_sock_bind(ctx, ZMQ_PULL, endpoint, &small, err, sizeof err);
    assert_non_null(to);
    void *from = ccip_sock_connect(ctx, ZMQ_PUSH, endpoint, &small, err, sizeof err);
    assert_non_null(from);

    const void *data[] = {"a", "bb", "ccc", "dddd", "eeeee"};
    size_t lens[] = {1, 2, 3, 4, 5};
    assert_int_equal(ccip_sock_send_frames(from, data, lens, 2, 0), 0);
    zmq_msg_t parts[3];
    assert_int_equal(ccip_sock_recv_parts(to, parts, 3, 0), 2);
    assert_int_equal(zmq_msg_size(&parts[1]), 2);
    assert_memory_equal(zmq_msg_data(&parts[1]), "bb", 2);
    zmq_msg_close(&parts[0]);
    zmq_msg_close(&parts[1]);
    /* Five parts for three places: the whole message is read, none kept. */
    assert_int_equal(ccip_sock_send_frames(from, data, lens, 5, 0), 0);
    assert_int_equal(ccip_sock_recv_parts(to, parts, 3, 0), 5);
    /* Nothing of it is left to read. */
    assert_int_equal(ccip_sock_recv_parts(to, parts, 3, ZMQ_DONTWAIT), -1);

    /* More than 1024 bytes: the receiver drops the peer, nothing arrives. */
    static char big[2048];
    const void *bd[] = {big};
    size_t bl[] = {sizeof big};
    assert_int_equal(ccip_sock_send_frames(from, bd, bl, 1, 0), 0);
    zmq_pollitem_t item = {to, 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&item, 1, 300), 0);

    ccip_sock_close(&from);
    ccip_sock_close(&to);
    zmq_ctx_term(ctx);
    snprintf(endpoint, sizeof endpoint, "%s/s", dir);
    unlink(endpoint);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_needs_keys),
        cmocka_unit_test(test_parts_and_size_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
