/* libFuzzer target: the envelope decoder (ccip_envelope_unpack), what the
 * bus and every service run first on bytes from the network. Every input
 * is decoded or refused, never anything else: a decoded envelope has a
 * valid type, re-packs, and decodes again to the same bytes; a refusal
 * has a sentence. */
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_log.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    Ccip__Envelope *e = ccip_envelope_unpack(data, size, FUZZ_MAX_MESSAGE, err, sizeof err);
    if (!e) {
        FUZZ_CHECK(err[0] != '\0', "refused without a sentence");
        return 0;
    }
    FUZZ_CHECK(ccip_type_check(e->type, err, sizeof err) == 0, "decoded a bad type: %s", err);
    FUZZ_CHECK(ccip_status_name(e->status) != NULL, "no status name");
    uint8_t *p1 = NULL, *p2 = NULL;
    size_t n1 = 0, n2 = 0;
    FUZZ_CHECK(ccip_envelope_pack_buf(e, &p1, &n1) == 0, "could not pack");
    Ccip__Envelope *again = ccip_envelope_unpack(p1, n1, FUZZ_MAX_MESSAGE, err, sizeof err);
    FUZZ_CHECK(again != NULL, "its own packing is refused: %s", err);
    FUZZ_CHECK(ccip_envelope_pack_buf(again, &p2, &n2) == 0, "could not pack");
    FUZZ_CHECK(n1 == n2 && memcmp(p1, p2, n1) == 0, "pack(unpack(pack(e))) != pack(e)");
    /* the reply a broker or service would build from it packs too */
    Ccip__Envelope reply;
    ccip_envelope_reply_init(&reply, e, CCIP__STATUS__INVALID_ARGUMENT, "no");
    uint8_t *p3 = NULL;
    size_t n3 = 0;
    FUZZ_CHECK(ccip_envelope_pack_buf(&reply, &p3, &n3) == 0, "could not pack the reply");
    free(p1);
    free(p2);
    free(p3);
    ccip_envelope_free(&again);
    ccip_envelope_free(&e);
    return 0;
}
