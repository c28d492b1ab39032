/* libFuzzer target: the JSON parser (ccip_pbjson_to_message), what the
 * HTTP gateway runs on a request body. The input is the full name of a
 * message, a newline, and JSON text (loaded with \u0000 allowed, so that
 * the parser's own refusal of NUL runs).
 *
 * Invariants: read or refused; a refusal's sentence names a field
 * ("field `...", "fields `...", "unknown field `...") or the type ("expected
 * a JSON object for ..."); a message that was read writes JSON
 * (from_message, with and without EMIT_DEFAULTS and PROTO_NAMES) that reads
 * back to the same bytes on the wire. */
#include <string.h>

#include "ccip_pbjson.h"
#include "ccip_proto_registry.h"
#include "fuzz_check.h"

static uint8_t *s_pack(const ProtobufCMessage *m, size_t *len)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n + 1);
    FUZZ_CHECK(buf != NULL, "out of memory");
    FUZZ_CHECK(protobuf_c_message_pack(m, buf) == n, "pack size");
    *len = n;
    return buf;
}

static int s_names_a_field(const char *err)
{
    static const char *const starts[] = {"field `", "fields `", "unknown field `",
                                         "expected a JSON object for "};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++)
        if (strncmp(err, starts[i], strlen(starts[i])) == 0)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < 128 ? size : 128);
    if (!nl)
        return -1;
    char name[128];
    memcpy(name, data, (size_t)(nl - data));
    name[nl - data] = '\0';
    const ProtobufCMessageDescriptor *d = ccip_proto_message_find(name);
    if (!d)
        return -1;
    json_error_t je;
    json_t *j = json_loadb((const char *)nl + 1, size - (size_t)(nl + 1 - data),
                           JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
    if (!j)
        return 0; /* not JSON: jansson's business, not ours */
    char err[1024] = "";
    ProtobufCMessage *m = ccip_pbjson_to_message(d, j, err, sizeof err);
    json_decref(j);
    if (!m) {
        FUZZ_CHECK(s_names_a_field(err), "refusal names no field: \"%s\"", err);
        return 0;
    }
    size_t n1;
    uint8_t *p1 = s_pack(m, &n1);
    static const int flags[] = {0, CCIP_PBJSON_EMIT_DEFAULTS | CCIP_PBJSON_PROTO_NAMES};
    for (size_t i = 0; i < 2; i++) {
        json_t *out = ccip_pbjson_from_message(m, flags[i]);
        FUZZ_CHECK(out != NULL, "from_message failed");
        ProtobufCMessage *back = ccip_pbjson_to_message(d, out, err, sizeof err);
        FUZZ_CHECK(back != NULL, "its own JSON of %s is refused: %s", d->name, err);
        size_t n2;
        uint8_t *p2 = s_pack(back, &n2);
        FUZZ_CHECK(n1 == n2 && memcmp(p1, p2, n1) == 0, "JSON round trip changed %s", d->name);
        free(p2);
        protobuf_c_message_free_unpacked(back, NULL);
        json_decref(out);
    }
    free(p1);
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}
