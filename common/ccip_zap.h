/*
 * ccip_zap: the ZAP handler (RFC 27) that decides which CURVE clients a
 * server socket lets in.
 *
 * CURVE without a ZAP handler authenticates nobody (libzmq #2594): every
 * process that binds a TCP socket starts one of these on its zmq context.
 * It accepts a client only when its public key is in the keyring, the
 * mechanism is CURVE, the domain is one of the three below (server sockets
 * set ZMQ_ZAP_ENFORCE_DOMAIN) and the key's kind may use that socket:
 *
 *   CCIP_ZAP_DOMAIN            the command broker: every kind of key;
 *   CCIP_ZAP_DOMAIN_PUBLISH    the event proxy's input: service keys only
 *                              (their relays), so nothing else can even
 *                              try to publish;
 *   CCIP_ZAP_DOMAIN_SUBSCRIBE  the event proxy's output: service keys (their
 *                              consumers) and admin keys (`ccipctl events
 *                              tail`); a front door speaks for one person
 *                              and the streams carry everyone's data.
 *
 * The accepted key's name becomes the connection's User-Id, so every
 * message read from it can be attributed with zmq_msg_gets(msg, "User-Id")
 * and its binding found with ccip_keyring_find_name.
 */
#ifndef CCIP_ZAP_H
#define CCIP_ZAP_H

#include <stddef.h>

#include "ccip_keys.h"

#define CCIP_ZAP_DOMAIN           "ccip"           /* the command broker */
#define CCIP_ZAP_DOMAIN_PUBLISH   "ccip.publish"   /* the event proxy's XSUB */
#define CCIP_ZAP_DOMAIN_SUBSCRIBE "ccip.subscribe" /* the event proxy's XPUB */

typedef struct ccip_zap ccip_zap;

/* Binds inproc://zeromq.zap.01 on ctx and answers from its own thread.
 * The keyring is borrowed and must outlive the handler. Returns NULL with
 * err when the endpoint is taken or the thread cannot start. */
ccip_zap *ccip_zap_start(void *ctx, const ccip_keyring *keyring, char *err, size_t errlen);

/* Stops the thread and closes its socket; safe on NULL and twice. Call
 * before zmq_ctx_term. */
void ccip_zap_stop(ccip_zap **zap);

/* How many requests were accepted and refused so far (for tests and logs). */
void ccip_zap_counts(const ccip_zap *zap, unsigned long *accepted, unsigned long *refused);

#endif
