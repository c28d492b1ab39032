/* ccip_keys, ccip_zap and ccip_sock together: over real TCP on loopback, a
 * client whose key is in the keys directory is served, an unknown key is
 * refused, each kind of key gets in only where it may (publish: service
 * keys; subscribe: service and admin keys), and TCP without keys is not
 * even attempted. */
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
    ccip_keypair server, known, stranger, front, admin;
} s_fixture;

static const ccip_key_binding s_bus = {.kind = CCIP_KEY_BUS};
static const ccip_key_binding s_intake = {.kind = CCIP_KEY_SERVICE, .service = "intake"};
static const ccip_key_binding s_front = {.kind = CCIP_KEY_FRONT_DOOR, .any_person = 1};
static const ccip_key_binding s_admin = {.kind = CCIP_KEY_ADMIN};

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
    ccip_keypair_generate(&f.front);
    ccip_keypair_generate(&f.admin);
    if (ccip_keypair_save(f.dir, "server", &f.server, &s_bus, err, sizeof err) < 0 ||
        ccip_keypair_save(f.allowed, "intake", &f.known, &s_intake, err, sizeof err) < 0 ||
        ccip_keypair_save(f.allowed, "gateway", &f.front, &s_front, err, sizeof err) < 0 ||
        ccip_keypair_save(f.allowed, "operator", &f.admin, &s_admin, err, sizeof err) < 0 ||
        ccip_keypair_save(f.dir, "stranger", &f.stranger, &s_intake, err, sizeof err) < 0)
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
    assert_int_equal(ccip_keyring_size(kr), 3);
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
    assert_int_equal(ccip_keypair_save(f->dir, "server", &f->server, &s_bus, err, sizeof err), -1);
    assert_non_null(strstr(err, "could not create"));
    assert_int_equal(ccip_keypair_save(f->dir, "Bad Name", &f->server, &s_bus, err, sizeof err),
                     -1);
    /* A broken .pub in the keys directory is an error, not a silent skip. */
    ccip_test_write_file(f->dir, "broken.pub", "public-key = \"short\";\n");
    assert_null(ccip_keyring_load(f->dir, err, sizeof err));
    assert_non_null(strstr(err, "broken.pub"));
    ccip_keyring *kr = ccip_keyring_load(f->allowed, err, sizeof err);
    assert_non_null(ccip_keyring_find(kr, f->known.public_key));
    assert_null(ccip_keyring_find(kr, f->stranger.public_key));
    assert_int_equal(ccip_keyring_find_name(kr, "intake")->binding.kind, CCIP_KEY_SERVICE);
    assert_string_equal(ccip_keyring_find_name(kr, "intake")->binding.service, "intake");
    ccip_keyring_destroy(&kr);
}

/* Connects a PUB (or SUB) with keys kp to endpoint and says whether the
 * CURVE handshake was let through: the PUB's message `tag` reaches the
 * XSUB, or the SUB's subscription to `tag` reaches the XPUB. */
static int s_gets_in(void *ctx, void *server, int type, const char *endpoint,
                     const ccip_keypair *kp, const ccip_keypair *server_keys, const char *tag)
{
    char err[256], want[64];
    ccip_sock_opts co = {.keys = kp, .server_public = server_keys->public_key};
    void *c = ccip_sock_connect(ctx, type, endpoint, &co, err, sizeof err);
    assert_non_null(c);
    size_t want_len;
    if (type == ZMQ_PUB) {
        want_len = (size_t)snprintf(want, sizeof want, "%s", tag);
    } else {
        want_len = (size_t)snprintf(want, sizeof want, "%c%s", 1, tag);
        zmq_setsockopt(c, ZMQ_SUBSCRIBE, tag, strlen(tag));
    }
    int in = 0;
    for (int i = 0; i < 15 && !in; i++) {
        if (type == ZMQ_PUB)
            zmq_send(c, tag, strlen(tag), 0);
        zmq_pollitem_t it = {server, 0, ZMQ_POLLIN, 0};
        while (!in && zmq_poll(&it, 1, 100) == 1) {
            char buf[64];
            int n = zmq_recv(server, buf, sizeof buf, 0);
            in = n == (int)want_len && memcmp(buf, want, want_len) == 0;
        }
    }
    ccip_sock_close(&c);
    return in;
}

/* Each socket of the bus lets in only the kinds of key that may use it. */
static void test_domains_by_kind(void **state)
{
    s_fixture *f = *state;
    char err[256];
    ccip_keyring *kr = ccip_keyring_load(f->allowed, err, sizeof err);
    assert_non_null(kr);
    void *ctx = zmq_ctx_new();
    ccip_zap *zap = ccip_zap_start(ctx, kr, err, sizeof err);
    assert_non_null(zap);
    ccip_sock_opts pub = {.keys = &f->server, .zap_domain = CCIP_ZAP_DOMAIN_PUBLISH};
    ccip_sock_opts sub = {.keys = &f->server, .zap_domain = CCIP_ZAP_DOMAIN_SUBSCRIBE};
    void *xsub = ccip_sock_bind(ctx, ZMQ_XSUB, "tcp://127.0.0.1:*", &pub, err, sizeof err);
    void *xpub = ccip_sock_bind(ctx, ZMQ_XPUB, "tcp://127.0.0.1:*", &sub, err, sizeof err);
    assert_non_null(xsub);
    assert_non_null(xpub);
    /* XSUB delivers a PUB's messages only once it subscribed upstream. */
    uint8_t all = 1;
    zmq_send(xsub, &all, 1, 0);
    char pub_ep[128], sub_ep[128];
    size_t len = sizeof pub_ep;
    zmq_getsockopt(xsub, ZMQ_LAST_ENDPOINT, pub_ep, &len);
    len = sizeof sub_ep;
    zmq_getsockopt(xpub, ZMQ_LAST_ENDPOINT, sub_ep, &len);

    assert_true(s_gets_in(ctx, xsub, ZMQ_PUB, pub_ep, &f->known, &f->server, "intake.a.v1"));
    assert_false(s_gets_in(ctx, xsub, ZMQ_PUB, pub_ep, &f->front, &f->server, "intake.b.v1"));
    assert_false(s_gets_in(ctx, xsub, ZMQ_PUB, pub_ep, &f->admin, &f->server, "intake.c.v1"));
    assert_true(s_gets_in(ctx, xpub, ZMQ_SUB, sub_ep, &f->known, &f->server, "intake.d"));
    assert_true(s_gets_in(ctx, xpub, ZMQ_SUB, sub_ep, &f->admin, &f->server, "intake.e"));
    assert_false(s_gets_in(ctx, xpub, ZMQ_SUB, sub_ep, &f->front, &f->server, "intake.f"));

    ccip_sock_close(&xsub);
    ccip_sock_close(&xpub);
    ccip_zap_stop(&zap);
    zmq_ctx_term(ctx);
    ccip_keyring_destroy(&kr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_key_served_unknown_refused),
        cmocka_unit_test(test_tcp_without_keys_refused),
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_domains_by_kind),
    };
    return cmocka_run_group_tests(tests, s_setup, NULL);
}
