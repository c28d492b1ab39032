/* libFuzzer target: every message type of every service. The input is the
 * full name of a message ("ccip.intake.FileApplicationRequest"), a NUL,
 * and the bytes to decode as that message with ccip_payload_unpack, the
 * decoder every handler runs (ccip_command_unpack). Names are looked up in
 * ccip_proto_registry, so a message added to proto/ is fuzzed as soon as a
 * seed names it (scripts/fuzz --seeds makes one per message).
 *
 * Invariants: decoded or refused with a sentence; a decoded message packs
 * to exactly get_packed_size bytes, and unpack(pack(m)) packs to the same
 * bytes; its JSON (ccip_pbjson_from_message) is never NULL, and read back
 * it is either refused only for an enum number the descriptor does not
 * know, or gives the same JSON again. */
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_pbjson.h"
#include "ccip_proto_registry.h"
#include "fuzz_check.h"

static uint8_t *s_pack(const ProtobufCMessage *m, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n + 1);
    FUZZ_CHECK(buf != NULL, "out of memory");
    size_t written = protobuf_c_message_pack(m, buf);
    FUZZ_CHECK(written == n, "packed %zu bytes, get_packed_size said %zu", written, n);
    *len = n;
    return buf;
}

static void s_check_json(const ProtobufCMessage *m)
{
    json_t *j = ccip_pbjson_from_message(m, 0);
    FUZZ_CHECK(j != NULL, "from_message failed");
    char err[1024] = "";
    ProtobufCMessage *back = ccip_pbjson_to_message(m->descriptor, j, err, sizeof err);
    if (!back) {
        FUZZ_CHECK(strstr(err, " must be one of ") != NULL,
                   "the JSON of a decoded %s is refused: %s", m->descriptor->name, err);
    } else {
        json_t *j2 = ccip_pbjson_from_message(back, 0);
        FUZZ_CHECK(j2 != NULL && json_equal(j, j2), "JSON of %s changes when read back",
                   m->descriptor->name);
        json_decref(j2);
        protobuf_c_message_free_unpacked(back, NULL);
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size < 128 ? size : 128);
    if (!nul)
        return -1;
    const ProtobufCMessageDescriptor *d = ccip_proto_message_find((const char *)data);
    if (!d)
        return -1;
    const uint8_t *payload = nul + 1;
    size_t len = size - (size_t)(payload - data);
    char err[512] = "";
    ProtobufCMessage *m = ccip_payload_unpack(d, payload, len, FUZZ_MAX_MESSAGE, err, sizeof err);
    if (!m) {
        FUZZ_CHECK(err[0] != '\0', "refused without a sentence");
        return 0;
    }
    size_t n1, n2;
    uint8_t *p1 = s_pack(m, &n1);
    ProtobufCMessage *again = ccip_payload_unpack(d, p1, n1, FUZZ_MAX_MESSAGE, err, sizeof err);
    FUZZ_CHECK(again != NULL, "its own packing of %s is refused: %s", d->name, err);
    uint8_t *p2 = s_pack(again, &n2);
    FUZZ_CHECK(n1 == n2 && memcmp(p1, p2, n1) == 0, "pack(unpack(pack(m))) != pack(m) for %s",
               d->name);
    s_check_json(m);
    free(p1);
    free(p2);
    protobuf_c_message_free_unpacked(again, NULL);
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}
