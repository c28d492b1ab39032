#include "ccip_replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_client.h"
#include "ccip_envelope.h"
#include "ccip_id.h"

struct ccip_replay {
    char *service;       /* who asks */
    ccip_client *client; /* the broker connection */
    int timeout_ms;      /* per attempt */
    int attempts;        /* per request */
    size_t max_message;  /* largest reply payload decoded */
};

ccip_replay *ccip_replay_new(void *zmq_ctx, const ccip_replay_config *cfg, char *err, size_t errlen)
{
    if (!zmq_ctx || !cfg || !cfg->service || !cfg->service[0] || !cfg->broker_endpoint ||
        cfg->timeout_ms < 0 || cfg->attempts < 0) {
        snprintf(err, errlen,
                 "could not make a replay client: it needs a zmq context, the asking service, "
                 "the broker's endpoint, and a timeout and attempts of 0 or more");
        return NULL;
    }
    ccip_replay *r = calloc(1, sizeof *r);
    if (r)
        r->service = strdup(cfg->service);
    if (!r || !r->service) {
        snprintf(err, errlen, "could not make a replay client: out of memory");
        ccip_replay_destroy(&r);
        return NULL;
    }
    r->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : CCIP_REPLAY_TIMEOUT_DEFAULT;
    r->attempts = cfg->attempts ? cfg->attempts : 1;
    r->max_message = cfg->sock_opts && cfg->sock_opts->max_message_bytes > 0
                         ? (size_t)cfg->sock_opts->max_message_bytes
                         : CCIP_SOCK_MAX_MESSAGE_DEFAULT;
    /* ccip_client_new's sentence is passed on as it is: callers quote it. */
    r->client = ccip_client_new(zmq_ctx, cfg->broker_endpoint, cfg->sock_opts, err, errlen);
    if (!r->client)
        ccip_replay_destroy(&r);
    return r;
}

void ccip_replay_destroy(ccip_replay **r)
{
    if (!r || !*r)
        return;
    ccip_client_destroy(&(*r)->client);
    free((*r)->service);
    free(*r);
    *r = NULL;
}

int ccip_replay_fetch(ccip_replay *r, const char *producer, uint64_t from, uint32_t max_events,
                      Ccip__ReplayReply **batch, Ccip__Status *status, char *err, size_t errlen)
{
    *batch = NULL;
    *status = CCIP__STATUS__UNAVAILABLE;
    Ccip__ReplayRequest rq = CCIP__REPLAY_REQUEST__INIT;
    rq.from_position = from;
    rq.max_events = max_events;
    uint8_t payload[32]; /* two varint fields */
    size_t plen = ccip__replay_request__pack(&rq, payload);

    char id[CCIP_UUID_STRLEN + 1];
    if (ccip_uuid_v7(id) < 0) {
        snprintf(err, errlen, "could not make a request id: no randomness");
        return CCIP_REPLAY_NO_ANSWER;
    }
    Ccip__Envelope req = CCIP__ENVELOPE__INIT;
    req.id = id;
    req.type = CCIP_REPLAY_TYPE;
    req.source_service = r->service;
    req.correlation_id = id;
    req.occurred_at_us = ccip_now_us();
    req.payload.data = payload;
    req.payload.len = plen;
    Ccip__Envelope *reply =
        ccip_client_call(r->client, producer, &req, r->timeout_ms, r->attempts, err, errlen);
    if (!reply)
        return CCIP_REPLAY_NO_ANSWER;
    if (reply->status != CCIP__STATUS__OK) {
        *status = reply->status;
        snprintf(err, errlen, "%s", reply->error);
        ccip_envelope_free(&reply);
        return CCIP_REPLAY_REFUSED;
    }
    *batch = (Ccip__ReplayReply *)ccip_payload_unpack(&ccip__replay_reply__descriptor,
                                                      reply->payload.data, reply->payload.len,
                                                      r->max_message, err, errlen);
    ccip_envelope_free(&reply);
    if (!*batch) {
        *status = CCIP__STATUS__INTERNAL;
        return CCIP_REPLAY_UNDECODABLE;
    }
    *status = CCIP__STATUS__OK;
    return CCIP_REPLAY_OK;
}

void ccip_replay_batch_free(Ccip__ReplayReply **batch)
{
    if (!batch || !*batch)
        return;
    protobuf_c_message_free_unpacked(&(*batch)->base, NULL);
    *batch = NULL;
}
