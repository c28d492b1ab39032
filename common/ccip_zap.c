#include "ccip_zap.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ccip_log.h"

#define ZAP_ENDPOINT    "inproc://zeromq.zap.01"
#define ZAP_FRAMES      7   /* version, id, domain, address, identity, mechanism, key */
#define ZAP_POLL_MS     100 /* how often the thread looks at the stop flag */
#define ZAP_FRAME_BYTES 256 /* longest frame we read; longer ones are refused */

struct ccip_zap {
    void *sock;                  /* REP, owned by the thread once started */
    const ccip_keyring *keyring; /* borrowed */
    pthread_t thread;
    atomic_int stop;
    atomic_ulong accepted;
    atomic_ulong refused;
};

static void s_send_reply(void *sock, const char *request_id, size_t id_len, const char *code,
                         const char *text, const char *user_id)
{
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, request_id, id_len, ZMQ_SNDMORE);
    zmq_send(sock, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user_id, strlen(user_id), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

/* The domain of a ZAP request as one of ours (a static string), or NULL. */
static const char *s_domain(const char *d, size_t len)
{
    static const char *const known[] = {CCIP_ZAP_DOMAIN, CCIP_ZAP_DOMAIN_PUBLISH,
                                        CCIP_ZAP_DOMAIN_SUBSCRIBE};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (len == strlen(known[i]) && memcmp(d, known[i], len) == 0)
            return known[i];
    return NULL;
}

/* NULL when a key of this binding may connect to the socket of `domain`,
 * else why not. */
static const char *s_may_use(const ccip_key_entry *e, const char *domain)
{
    ccip_key_kind k = e->binding.kind;
    if (strcmp(domain, CCIP_ZAP_DOMAIN_PUBLISH) == 0 && k != CCIP_KEY_SERVICE)
        return "only service keys may publish events";
    if (strcmp(domain, CCIP_ZAP_DOMAIN_SUBSCRIBE) == 0 && k != CCIP_KEY_SERVICE &&
        k != CCIP_KEY_ADMIN)
        return "only service and admin keys may subscribe to events (a front door speaks for "
               "one person; the streams carry everyone's data)";
    return NULL;
}

/* Reads one request (all its frames, even malformed ones) and answers it. */
static void s_handle(ccip_zap *zap)
{
    char frames[ZAP_FRAMES][ZAP_FRAME_BYTES];
    size_t lens[ZAP_FRAMES] = {0};
    int count = 0, more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, zap->sock, 0) < 0) {
            zmq_msg_close(&m);
            return;
        }
        if (count < ZAP_FRAMES) {
            size_t n = zmq_msg_size(&m);
            lens[count] = n < ZAP_FRAME_BYTES ? n : ZAP_FRAME_BYTES;
            memcpy(frames[count], zmq_msg_data(&m), lens[count]);
        }
        count++;
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    const char *why = NULL;
    char peer[64] = "?";
    if (count >= 4)
        snprintf(peer, sizeof peer, "%.*s", (int)lens[3], frames[3]);
    const char *domain = NULL;
    if (count != ZAP_FRAMES || lens[0] != 3 || memcmp(frames[0], "1.0", 3) != 0)
        why = "malformed ZAP request";
    else if (!(domain = s_domain(frames[2], lens[2])))
        why = "wrong ZAP domain";
    else if (lens[5] != 5 || memcmp(frames[5], "CURVE", 5) != 0)
        why = "mechanism is not CURVE";
    else if (lens[6] != 32)
        why = "CURVE key is not 32 bytes";
    const ccip_key_entry *entry = NULL;
    char z85[CCIP_KEY_Z85_LEN + 1] = "";
    if (!why) {
        zmq_z85_encode(z85, (const uint8_t *)frames[6], 32);
        entry = ccip_keyring_find(zap->keyring, z85);
        if (!entry)
            why = "public key is not in the keys directory";
        else
            why = s_may_use(entry, domain);
    }
    const char *request_id = count >= 2 ? frames[1] : "";
    size_t id_len = count >= 2 ? lens[1] : 0;
    if (why) {
        atomic_fetch_add(&zap->refused, 1);
        ccip_log_warn("refused a client", "peer", peer, "key", z85, "name",
                      entry ? entry->name : "?", "domain", domain ? domain : "?", "reason", why);
        s_send_reply(zap->sock, request_id, id_len, "400", why, "");
        return;
    }
    atomic_fetch_add(&zap->accepted, 1);
    s_send_reply(zap->sock, request_id, id_len, "200", "OK", entry->name);
}

static void *s_run(void *arg)
{
    ccip_zap *zap = arg;
    zmq_pollitem_t item = {zap->sock, 0, ZMQ_POLLIN, 0};
    while (!atomic_load(&zap->stop)) {
        int rc = zmq_poll(&item, 1, ZAP_POLL_MS);
        if (rc > 0)
            s_handle(zap);
        else if (rc < 0 && zmq_errno() == ETERM)
            break;
    }
    return NULL;
}

ccip_zap *ccip_zap_start(void *ctx, const ccip_keyring *keyring, char *err, size_t errlen)
{
    ccip_zap *zap = calloc(1, sizeof *zap);
    if (!zap) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    zap->keyring = keyring;
    zap->sock = zmq_socket(ctx, ZMQ_REP);
    int linger = 0;
    if (!zap->sock || zmq_setsockopt(zap->sock, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_bind(zap->sock, ZAP_ENDPOINT) != 0) {
        snprintf(err, errlen, "could not bind %s: %s", ZAP_ENDPOINT, zmq_strerror(zmq_errno()));
        goto fail;
    }
    if (pthread_create(&zap->thread, NULL, s_run, zap) != 0) {
        snprintf(err, errlen, "could not start the ZAP thread");
        goto fail;
    }
    return zap;
fail:
    if (zap->sock)
        zmq_close(zap->sock);
    free(zap);
    return NULL;
}

void ccip_zap_stop(ccip_zap **zap)
{
    if (!zap || !*zap)
        return;
    atomic_store(&(*zap)->stop, 1);
    pthread_join((*zap)->thread, NULL);
    zmq_close((*zap)->sock);
    free(*zap);
    *zap = NULL;
}

void ccip_zap_counts(const ccip_zap *zap, unsigned long *accepted, unsigned long *refused)
{
    *accepted = atomic_load(&((ccip_zap *)zap)->accepted);
    *refused = atomic_load(&((ccip_zap *)zap)->refused);
}
