/* ccip_keys, ccip_zap and ccip_sock together: over real TCP on loopback, a
 * client whose key is in the keys directory is served, an unknown key is
 * refused, and TCP without keys is not even attempted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "ccip_keys.h"
#include "ccip_sock.h"
#include "ccip_test.h"
#include "ccip_zap.h"

#include <sys/stat.h>

static int s_mkdir(const char *p)
{
    return mkdir(p, 0700);
}

typedef struct {
    char dir[256];
    char allowed[300];
    ccip_keypair server, known, stranger;
} s_fixture;

static int s_setup(void **state)
{
    static s_fixture f;
    char err[256];
    if (ccip_test_tmpdir(f.dir, sizeof f.dir) < 0)
        return -1;
    snprintf(f.allowed, sizeof f.allowed, "%s/allowed", f.dir);
    if (s_mkdir(f.allowed) < 0)
        return -1;
    ccip_keypair_generate(&f.server);
    ccip_keypair_generate(&f.known);
    ccip_keypair_generate(&f.stranger);
    if (ccip_keypair_save(f.dir, "server", &f.server, 0, err, sizeof err) < 0 ||
        ccip_keypair_save(f.allowed, "intake", &f.known, 0, err, sizeof err) < 0 ||
        ccip_keypair_save(f.dir, "stranger", &f.stranger, 0, err, sizeof err) < 0)
        return -1;
    *state = &f;
    return 0;
}

static void test_known_key_served_unknown_refused(void **state)
{
    s_fixture *f = *state;
    char err[256];
    ccip_keyring *kr = ccip_keyring_load(f->allowed, err, sizeof err);
    assert_non_null(kr);
    assert_int_equal(ccip_keyring_size(kr), 1);
    void *ctx = zmq_ctx_new();
    ccip_zap *zap = ccip_zap_start(ctx, kr, err, sizeof err);
    assert_non_null(zap);
    ccip_sock_opts so = {.keys = &f->server};
    void *server = ccip_sock_bind(ctx, ZMQ_ROUTER, "tcp://127.0.0.1:*", &so, err, sizeof err);
    assert_non_null(server);
    char endpoint[128];
    size_t len = sizeof endpoint;
    zmq_getsockopt(server, ZMQ_LAST_ENDPOINT, endpoint, &len);

    /* A tiny echo loop for the server side, driven from this thread. */
    void *c = NULL;
    ccip_sock_opts co = {.keys = &f->known, .server_public = f->server.public_key};
    c = ccip_sock_connect(ctx, ZMQ_DEALER, endpoint, &co, err, sizeof err);
    assert_non_null(c);
    zmq_send(c, "ping", 4, 0);
    zmq_msg_t parts[2];
    zmq_pollitem_t it = {server, 0, ZMQ_POLLIN, 0};
    assert_int_equal(zmq_poll(&it, 1, 2000), 1);
    assert_int_equal(ccip_sock_recv_parts(server, parts, 2, 0), 2);
    assert_string_equal(zmq_msg_gets(&parts[1], "User-Id"), "intake");
    zmq_msg_close(&parts[0]);
    zmq_msg_close(&parts[1]);
    ccip_sock_close(&c);

    /* The stranger's message never reaches the server. */
    ccip_sock_opts so2 = {.keys = &f->stranger, .server_public = f->server.public_key};
    c = ccip_sock_connect(ctx, ZMQ_DEALER, endpoint, &so2, err, sizeof err);
    zmq_send(c, "ping", 4, 0);
    assert_int_equal(zmq_poll(&it, 1, 700), 0);
    ccip_sock_close(&c);
    unsigned long accepted = 0, refused = 0;
    ccip_zap_counts(zap, &accepted, &refused);
    assert_true(accepted >= 1);
    assert_true(refused >= 1);

    ccip_sock_close(&server);
    ccip_zap_stop(&zap);
    ccip_zap_stop(&zap); /* twice is fine */
    zmq_ctx_term(ctx);
    ccip_keyring_destroy(&kr);
}

static void test_tcp_without_keys_refused(void **state)
{
    (void)state;
    void *ctx = zmq_ctx_new();
    char err[256];
    assert_null(ccip_sock_bind(ctx, ZMQ_ROUTER, "tcp://127.0.0.1:*", NULL, err, sizeof err));
    assert_non_null(strstr(err, "CURVE key pair is required"));
    assert_null(ccip_sock_connect(ctx, ZMQ_DEALER, "tcp://127.0.0.1:1", NULL, err, sizeof err));
    assert_non_null(strstr(err, "CURVE key pair"));
    /* inproc stays inside the process and needs no keys. */
    void *s = ccip_sock_bind(ctx, ZMQ_PAIR, "inproc://x", NULL, err, sizeof err);
    assert_non_null(s);
    ccip_sock_close(&s);
    zmq_ctx_term(ctx);
}

static void test_key_files(void **state)
{
    s_fixture *f = *state;
    char err[256], path[400];
    ccip_keypair kp;
    snprintf(path, sizeof path, "%s/server.key", f->dir);
    assert_int_equal(ccip_keypair_load(path, &kp, err, sizeof err), 0);
    assert_string_equal(kp.public_key, f->server.public_key);
    assert_string_equal(kp.secret_key, f->server.secret_key);
    /* A .pub file holds no secret. */
    snprintf(path, sizeof path, "%s/server.pub", f->dir);
    assert_int_equal(ccip_keypair_load(path, &kp, err, sizeof err), -1);
    assert_non_null(strstr(err, "secret-key"));
    /* Never overwritten. */
    assert_int_equal(ccip_keypair_save(f->dir, "server", &f->server, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "could not create"));
    assert_int_equal(ccip_keypair_save(f->dir, "Bad Name", &f->server, 0, err, sizeof err), -1);
    /* A broken .pub in the keys directory is an error, not a silent skip. */
    ccip_test_write_file(f->dir, "broken.pub", "public-key = \"short\";\n");
    assert_null(ccip_keyring_load(f->dir, err, sizeof err));
    assert_non_null(strstr(err, "broken.pub"));
    ccip_keyring *kr = ccip_keyring_load(f->allowed, err, sizeof err);
    assert_non_null(ccip_keyring_find(kr, f->known.public_key));
    assert_null(ccip_keyring_find(kr, f->stranger.public_key));
    assert_int_equal(ccip_keyring_find_name(kr, "intake")->front_door, 0);
    ccip_keyring_destroy(&kr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_key_served_unknown_refused),
        cmocka_unit_test(test_tcp_without_keys_refused),
        cmocka_unit_test(test_key_files),
    };
    return cmocka_run_group_tests(tests, s_setup, NULL);
}
