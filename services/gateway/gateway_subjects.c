#include "gateway_subjects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"

int gateway_subject_exists(gateway_runtime *rt, const gateway_kind_info *k, const char *subject,
                           char *err, size_t errlen)
{
    const char *service, *type, *what;
    uint8_t buf[256];
    size_t len;
    switch (k->kind) {
    case CCIP__GATEWAY__BINDING_KIND__ORGANISATION: {
        Ccip__Intake__GetOrganisationRequest rq = CCIP__INTAKE__GET_ORGANISATION_REQUEST__INIT;
        rq.uscc = (char *)subject;
        if (protobuf_c_message_get_packed_size(&rq.base) > sizeof buf)
            goto too_long;
        len = protobuf_c_message_pack(&rq.base, buf);
        service = "intake";
        type = "intake.organisation.get.v1";
        what = "organisation";
        break;
    }
    case CCIP__GATEWAY__BINDING_KIND__EXPERT:
    case CCIP__GATEWAY__BINDING_KIND__AGENCY: {
        Ccip__Evaluation__GetRequest rq = CCIP__EVALUATION__GET_REQUEST__INIT;
        rq.id = (char *)subject;
        if (protobuf_c_message_get_packed_size(&rq.base) > sizeof buf)
            goto too_long;
        len = protobuf_c_message_pack(&rq.base, buf);
        service = "evaluation";
        int expert = k->kind == CCIP__GATEWAY__BINDING_KIND__EXPERT;
        type = expert ? "evaluation.expert.get.v1" : "evaluation.agency.get.v1";
        what = expert ? "expert" : "agency";
        break;
    }
    default:
        return gateway_subject_check(k, subject, err, errlen) == 0 ? GATEWAY_SUBJECT_OK
                                                                   : GATEWAY_SUBJECT_UNKNOWN;
    }
    char cerr[300], id[CCIP_UUID_STRLEN + 1];
    /* asked as the gateway itself (role service), not as the person */
    ccip_client *c = gateway_service_client(rt, cerr, sizeof cerr);
    if (!c) {
        snprintf(err, errlen, "could not reach the bus to check %s %s: %s", what, subject, cerr);
        return GATEWAY_SUBJECT_UNAVAILABLE;
    }
    ccip_uuid_v7(id);
    Ccip__Envelope env = CCIP__ENVELOPE__INIT;
    env.id = id;
    env.type = (char *)type;
    env.source_service = "gateway";
    env.source_instance = (char *)gateway_instance(rt);
    env.occurred_at_us = ccip_now_us();
    env.payload.data = buf;
    env.payload.len = len;
    int timeout = (int)gateway_cfg(rt)->command_timeout_ms;
    Ccip__Envelope *reply = ccip_client_call(c, service, &env, timeout / 2, 2, cerr, sizeof cerr);
    if (!reply) {
        snprintf(err, errlen, "%s did not answer whether %s %s exists: %s; try again", service,
                 what, subject, cerr);
        return GATEWAY_SUBJECT_UNAVAILABLE;
    }
    int rc = GATEWAY_SUBJECT_OK;
    if (reply->status == CCIP__STATUS__NOT_FOUND) {
        snprintf(err, errlen, "there is no %s %s (%s says: %s)", what, subject, service,
                 reply->error);
        rc = GATEWAY_SUBJECT_UNKNOWN;
    } else if (reply->status != CCIP__STATUS__OK) {
        snprintf(err, errlen, "%s could not check %s %s: %s: %s", service, what, subject,
                 ccip_status_name(reply->status), reply->error);
        rc = GATEWAY_SUBJECT_UNAVAILABLE;
    }
    ccip_envelope_free(&reply);
    return rc;
too_long:
    snprintf(err, errlen, "field `subject` is too long");
    return GATEWAY_SUBJECT_UNKNOWN;
}
