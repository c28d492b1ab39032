#include "ccip_replay.h"

#include <inttypes.h>
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

int ccip_replay_range(ccip_replay *r, const char *producer, uint64_t upto, uint32_t batch_max,
                      ccip_replay_apply_fn apply, ccip_replay_flush_fn flush, void *arg,
                      int *stopped, Ccip__Status *status, char *err, size_t errlen)
{
    *stopped = 0;
    uint64_t next = 1;
    while (next <= upto) {
        uint64_t want = upto - next + 1;
        Ccip__ReplayReply *batch = NULL;
        char why[600];
        int fetched =
            ccip_replay_fetch(r, producer, next, (uint32_t)(want < batch_max ? want : batch_max),
                              &batch, status, why, sizeof why);
        if (fetched == CCIP_REPLAY_NO_ANSWER) {
            snprintf(err, errlen, "could not replay %s from position %" PRIu64 ": %s", producer,
                     next, why);
            return -1;
        }
        if (fetched == CCIP_REPLAY_REFUSED) {
            snprintf(err, errlen, "%s cannot replay from position %" PRIu64 ": %s: %s", producer,
                     next, ccip_status_name(*status), why);
            if (*status != CCIP__STATUS__FAILED_PRECONDITION)
                *status = CCIP__STATUS__UNAVAILABLE;
            return -1;
        }
        if (fetched != CCIP_REPLAY_OK) {
            snprintf(err, errlen, "%s sent a replay reply that cannot be decoded: %s", producer,
                     why);
            return -1;
        }
        int rc = 0, broken = 0;
        if (batch->n_events == 0) {
            *status = CCIP__STATUS__FAILED_PRECONDITION;
            snprintf(err, errlen,
                     "%s's stream ends at position %" PRIu64 ", but it was applied up to %" PRIu64,
                     producer, batch->head, upto);
            broken = 1;
        }
        for (size_t i = 0; !broken && rc == 0 && i < batch->n_events && next <= upto; i++) {
            const Ccip__Envelope *ev = batch->events[i];
            if (ev->position != next) {
                *status = CCIP__STATUS__INTERNAL;
                snprintf(err, errlen,
                         "%s replayed position %" PRIu64 " where %" PRIu64 " was expected",
                         producer, ev->position, next);
                broken = 1;
                break;
            }
            rc = apply(arg, ev);
            next++;
        }
        if (!broken && rc == 0 && flush)
            rc = flush(arg);
        ccip_replay_batch_free(&batch);
        if (broken)
            return -1;
        if (rc != 0) {
            *stopped = rc;
            return 1;
        }
    }
    return 0;
}
