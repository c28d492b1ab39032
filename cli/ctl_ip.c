/*
 * ccipctl ip ...: the IP registry and trading platform (services/ip).
 *
 * Offline, with no bus: `keygen` makes the platform's signing key pair and
 * `verify` checks a receipt with only the public key. Everything else sends
 * one command to the ip service (see proto/ccip/ip.proto) as the --actor and
 * --role given to ccipctl, and prints the reply: indented "field: value"
 * lines for people (amounts in fen also in yuan, times also as RFC 3339), or
 * one JSON object with --json. `audit-chain` reads the whole chain in batches
 * and recomputes every hash here, so it trusts nothing the service says.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ccip/ip.pb-c.h"
#include "ccip_envelope.h"
#include "ccip_id.h"
#include "ctl.h"
#include "ip_chain.h"
#include "ip_keys.h"
#include "ip_receipts.h"
#include "ip_validate.h"

#define REPEAT_MAX       32                 /* values of one repeated option */
#define FILE_MAX         (64 * 1024 * 1024) /* largest file read for --file / --content */
#define AUDIT_BATCH      2000               /* chain records per request unless --batch */
#define AUDIT_BATCH_MAX  5000               /* what the service gives at most */
#define AUDIT_FETCHERS   2                  /* batches read in parallel */
#define AUDIT_WINDOW     4                  /* batches read ahead of the verifier, at most */
#define RECEIPT_FILE_MAX 4096
#define AUDIT_KEYS       8 /* public keys audit-chain accepts */

static const char *s_usage =
    "usage: ccipctl ip COMMAND ...   (--actor ID --role ROLE say who acts: \"org:<USCC>\" as\n"
    "                                 owner or applicant, or a staff id as staff)\n"
    "offline:\n"
    "  keygen NAME [--dir DIR]             make the platform's Ed25519 signing key pair\n"
    "  verify RECEIPT --key PUB [--content FILE]\n"
    "                                      check a receipt with the public key alone\n"
    "registry:\n"
    "  key [--out FILE]                    the platform's public key (to publish)\n"
    "  register --kind KIND --title TEXT --created-on YYYY-MM-DD (--file FILE [--store] |\n"
    "           --sha256 HEX) [--owner PARTY[=BASIS_POINTS]]... [--creator NAME]...\n"
    "           [--receipt-out FILE]      register a work; prints its signed receipt\n"
    "  work get ID|SERIAL                  a work, its owners and its receipt\n"
    "  work list [--owner PARTY] [--after SERIAL] [--limit N]\n"
    "  receipt ID|SERIAL [--out FILE]     a registration's signed receipt, again\n"
    "  audit-chain [--key PUB]...          recompute every chain hash (and with --key check\n"
    "                                      every signature); reports the first broken link\n"
    "  review list | review resolve WORK --decision cleared|confirmed --note TEXT\n"
    "trading:\n"
    "  listing create WORK --deal transfer|exclusive-licence|non-exclusive-licence\n"
    "           --price YUAN [--territory CODE]... [--from YYYY-MM-DD --to YYYY-MM-DD]\n"
    "  listing update LISTING --price YUAN [--territory CODE]... [--from DATE --to DATE]\n"
    "  listing withdraw|get LISTING        listing list [--work WORK] [--open]\n"
    "  offer make LISTING --price YUAN [--note TEXT]   offer withdraw|accept OFFER\n"
    "  contract settle CONTRACT --payment-ref REF --paid YUAN   contract get CONTRACT\n"
    "disputes:\n"
    "  dispute file WORK --kind infringement|improper-registration --statement TEXT\n"
    "           --evidence DESCRIPTION=SHA256...\n"
    "  dispute answer DISPUTE --answer TEXT [--evidence DESCRIPTION=SHA256]...\n"
    "  dispute rule DISPUTE --uphold|--dismiss --reasons TEXT    dispute get DISPUTE\n"
    "  dispute lift DISPUTE --reasons TEXT  (lifts an upheld dispute's freeze)\n"
    "services:\n"
    "  provider register --name TEXT --category CATEGORY... [--description TEXT]\n"
    "  provider verify PROVIDER            provider list [--category CATEGORY] [--verified]\n"
    "  request create PROVIDER --category CATEGORY --description TEXT\n"
    "  request accept|complete REQUEST     request rate REQUEST --rating 1..5 [--note TEXT]\n"
    "exit codes: 0 done (verify, audit-chain: intact), 1 refused or does not verify, 2 usage,\n"
    "3 no answer, 4 local problem\n";

/* ---- arguments ------------------------------------------------------------- */

/* One option of a subcommand: "--name VALUE" (or a flag), maybe repeated. */
typedef struct {
    const char *name; /* without the dashes */
    int flag;         /* 1: takes no value */
    int count;        /* times given */
    const char *values[REPEAT_MAX];
} s_opt;

typedef struct {
    const char *pos[4]; /* positional arguments */
    int npos;
    s_opt *opts;
    size_t nopts;
} s_args;

/* Parses argv[from..argc) against opts. Returns 0, or CTL_USAGE after
 * printing why. */
static int s_parse(int argc, char **argv, int from, s_opt *opts, size_t nopts, s_args *out)
{
    memset(out, 0, sizeof *out);
    out->opts = opts;
    out->nopts = nopts;
    for (int i = from; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) {
            if (out->npos == (int)(sizeof out->pos / sizeof out->pos[0])) {
                fprintf(stderr, "ccipctl: unexpected argument \"%s\"\n", argv[i]);
                return CTL_USAGE;
            }
            out->pos[out->npos++] = argv[i];
            continue;
        }
        s_opt *o = NULL;
        for (size_t k = 0; k < nopts; k++)
            if (strcmp(argv[i] + 2, opts[k].name) == 0)
                o = &opts[k];
        if (!o) {
            fprintf(stderr, "ccipctl: unknown option %s (see ccipctl ip --help)\n", argv[i]);
            return CTL_USAGE;
        }
        if (o->count == REPEAT_MAX) {
            fprintf(stderr, "ccipctl: --%s given more than %d times\n", o->name, REPEAT_MAX);
            return CTL_USAGE;
        }
        if (o->flag) {
            o->values[o->count++] = "";
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "ccipctl: --%s needs a value\n", o->name);
            return CTL_USAGE;
        }
        o->values[o->count++] = argv[++i];
    }
    return 0;
}

/* The (last) value of an option, or def. */
static const char *s_val(const s_args *a, const char *name, const char *def)
{
    for (size_t k = 0; k < a->nopts; k++)
        if (strcmp(a->opts[k].name, name) == 0 && a->opts[k].count)
            return a->opts[k].values[a->opts[k].count - 1];
    return def;
}

static const s_opt *s_opt_of(const s_args *a, const char *name)
{
    for (size_t k = 0; k < a->nopts; k++)
        if (strcmp(a->opts[k].name, name) == 0)
            return &a->opts[k];
    return NULL;
}

/* Parses a yuan amount ("1234.56") into fen. */
static int s_yuan(const char *opt, const char *text, int64_t *fen)
{
    if (!text || ccip_fen_parse(text, fen) < 0) {
        fprintf(stderr, "ccipctl: --%s must be an amount in yuan such as 1234.56, got \"%s\"\n",
                opt, text ? text : "");
        return CTL_USAGE;
    }
    return 0;
}

/* An enum value from a name a person typed ("exclusive-licence"). */
static int s_enum(const ProtobufCEnumDescriptor *d, const char *opt, const char *text, int *out)
{
    *out = ip_enum_value(d, text);
    if (*out == 0) {
        char names[400];
        ip_enum_list(d, names, sizeof names);
        fprintf(stderr, "ccipctl: --%s must be one of %s (any case, - for _), got \"%s\"\n", opt,
                names, text ? text : "");
        return CTL_USAGE;
    }
    return 0;
}

/* Reads a whole file (at most max bytes) into a malloc'd buffer. */
static uint8_t *s_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ccipctl: could not open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            if (cap >= max + 1)
                break;
            cap *= 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > max) {
        fprintf(stderr, "ccipctl: could not read %s: %s\n", path,
                !buf  ? "out of memory"
                : bad ? "read error"
                      : "file too large");
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* Writes text to a new file (never over an existing one). */
static int s_write_new(const char *path, const char *text)
{
    FILE *f = fopen(path, "wx");
    if (!f) {
        fprintf(stderr, "ccipctl: could not create %s: %s\n", path, strerror(errno));
        return CTL_LOCAL;
    }
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad) {
        fprintf(stderr, "ccipctl: could not write %s\n", path);
        return CTL_LOCAL;
    }
    return 0;
}

/* ---- printing any reply -------------------------------------------------------- */

static int s_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void s_json_value(const ProtobufCFieldDescriptor *f, const void *p);

/* Bytes one element of a repeated field takes in its array. */
static size_t s_elem_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_MESSAGE:
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    default:
        return 4; /* 32-bit ints, enums, bools (protobuf_c_boolean is an int), floats */
    }
}

static void s_json_message(const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    putchar('{');
    int first = 1;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m + f->offset;
        if (!first)
            putchar(',');
        first = 0;
        ctl_json_string(stdout, f->name);
        putchar(':');
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            const char *arr = *(const char *const *)base;
            size_t size = s_elem_size(f);
            putchar('[');
            for (size_t k = 0; k < n; k++) {
                if (k)
                    putchar(',');
                s_json_value(f, arr + k * size);
            }
            putchar(']');
        } else {
            s_json_value(f, base);
        }
    }
    putchar('}');
}

static void s_json_value(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        printf("%" PRId32, *(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        printf("%" PRIu32, *(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        printf("%" PRId64, *(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        printf("%" PRIu64, *(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        fputs(*(const protobuf_c_boolean *)p ? "true" : "false", stdout);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const char *name = ip_enum_name(f->descriptor, *(const int *)p);
        ctl_json_string(stdout, name ? name : "");
        break;
    }
    case PROTOBUF_C_TYPE_STRING:
        ctl_json_string(stdout, *(char *const *)p);
        break;
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        putchar('"');
        for (size_t i = 0; i < b->len; i++)
            printf("%02x", b->data[i]);
        putchar('"');
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        if (m)
            s_json_message(m);
        else
            fputs("null", stdout);
        break;
    }
    default:
        fputs("null", stdout);
    }
}

static void s_text_message(const ProtobufCMessage *m, int indent);

/* One value for people; skips nothing (the caller skips empty values). */
static void s_text_value(const ProtobufCFieldDescriptor *f, const void *p, int indent)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64: {
        int64_t v = *(const int64_t *)p;
        char extra[64] = "";
        if (s_ends_with(f->name, "_fen")) {
            char yuan[CCIP_FEN_STRLEN + 1];
            ccip_fen_format(v, yuan, sizeof yuan);
            snprintf(extra, sizeof extra, " (%s yuan)", yuan);
        } else if (s_ends_with(f->name, "_us")) {
            char when[CCIP_TIME_STRLEN + 1];
            if (ccip_time_format_us(v, when, sizeof when) == 0)
                snprintf(extra, sizeof extra, " (%s)", when);
        }
        printf("%" PRId64 "%s\n", v, extra);
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        if (strchr(s, '\n')) {
            printf("|\n");
            for (const char *line = s; *line;) {
                const char *nl = strchr(line, '\n');
                int len = nl ? (int)(nl - line) : (int)strlen(line);
                printf("%*s%.*s\n", indent + 2, "", len, line);
                line += len + (nl ? 1 : 0);
            }
        } else {
            printf("%s\n", s);
        }
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        putchar('\n');
        s_text_message(*(ProtobufCMessage *const *)p, indent + 2);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const char *name = ip_enum_name(f->descriptor, *(const int *)p);
        printf("%s\n", name ? name : "");
        break;
    }
    default:
        s_json_value(f, p);
        putchar('\n');
    }
}

static int s_is_empty(const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        return !*(char *const *)p || !**(char *const *)p;
    case PROTOBUF_C_TYPE_MESSAGE:
        return !*(void *const *)p;
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_SINT64:
        return *(const int64_t *)p == 0;
    case PROTOBUF_C_TYPE_BOOL:
        return !*(const protobuf_c_boolean *)p;
    default:
        return *(const int32_t *)p == 0;
    }
}

static void s_text_message(const ProtobufCMessage *m, int indent)
{
    if (!m)
        return;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            const char *arr = *(const char *const *)base;
            for (size_t k = 0; k < n; k++) {
                printf("%*s%s[%zu]: ", indent, "", f->name, k);
                s_text_value(f, arr + k * s_elem_size(f), indent);
            }
            continue;
        }
        if (s_is_empty(f, base))
            continue;
        printf("%*s%s: ", indent, "", f->name);
        s_text_value(f, base, indent);
    }
}

/* Prints a reply payload decoded as desc. */
static int s_print(const ctl_opts *o, const ProtobufCMessageDescriptor *desc,
                   const Ccip__Envelope *reply)
{
    char err[256];
    ProtobufCMessage *m = ccip_payload_unpack(desc, reply->payload.data, reply->payload.len,
                                              reply->payload.len + 1, err, sizeof err);
    if (!m) {
        fprintf(stderr, "ccipctl: could not decode the reply: %s\n", err);
        return CTL_REFUSED;
    }
    if (o->json) {
        s_json_message(m);
        putchar('\n');
    } else {
        s_text_message(m, 0);
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return CTL_OK;
}

/* Sends one command to the ip service and prints the reply as reply_desc. */
static int s_send(ctl_opts *o, const char *type, const ProtobufCMessage *req,
                  const ProtobufCMessageDescriptor *reply_desc, Ccip__Envelope **keep)
{
    size_t n = protobuf_c_message_get_packed_size(req);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return CTL_LOCAL;
    protobuf_c_message_pack(req, buf);
    ccip_client *c = ctl_connect(o);
    if (!c) {
        free(buf);
        return CTL_LOCAL;
    }
    int code;
    Ccip__Envelope *reply = ctl_call(o, c, "ip", type, buf, n, &code);
    free(buf);
    if (reply && reply_desc)
        code = s_print(o, reply_desc, reply);
    if (keep)
        *keep = reply;
    else
        ccip_envelope_free(&reply);
    ccip_client_destroy(&c);
    return code;
}

/* ---- offline: keygen, verify --------------------------------------------------- */

static int s_keygen(int argc, char **argv)
{
    s_opt opts[] = {{.name = "dir"}};
    s_args a;
    int rc = s_parse(argc, argv, 2, opts, 1, &a);
    if (rc != 0 || a.npos != 1) {
        fputs("usage: ccipctl ip keygen NAME [--dir DIR]\n"
              "  writes DIR/NAME.key (the SECRET Ed25519 signing key, mode 0600: give its path to\n"
              "  the ip service as ip.signing_key_file or CCIP_IP_SIGNING_KEY_FILE) and\n"
              "  DIR/NAME.pub (publish it: receipts verify with it alone). Never overwrites.\n",
              stderr);
        return CTL_USAGE;
    }
    ip_key k;
    char err[512];
    const char *dir = s_val(&a, "dir", ".");
    if (ip_key_generate(&k) < 0) {
        fprintf(stderr, "ccipctl: could not initialise libsodium\n");
        return CTL_LOCAL;
    }
    rc = ip_key_save(dir, a.pos[0], &k, err, sizeof err);
    ip_key_wipe(&k);
    if (rc < 0) {
        fprintf(stderr, "ccipctl: %s\n", err);
        return CTL_LOCAL;
    }
    printf("wrote %s/%s.key (secret) and %s/%s.pub (publish it)\n", dir, a.pos[0], dir, a.pos[0]);
    return CTL_OK;
}

/* SHA-256 of a file, streamed. */
static int s_hash_file(const char *path, uint8_t out[IP_HASH_LEN])
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ccipctl: could not open %s: %s\n", path, strerror(errno));
        return -1;
    }
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_hash_sha256_update(&st, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "ccipctl: could not read %s\n", path);
        return -1;
    }
    crypto_hash_sha256_final(&st, out);
    return 0;
}

static int s_verify(const ctl_opts *o, int argc, char **argv)
{
    s_opt opts[] = {{.name = "key"}, {.name = "content"}};
    s_args a;
    int rc = s_parse(argc, argv, 2, opts, 2, &a);
    if (rc != 0 || a.npos != 1 || !s_val(&a, "key", NULL)) {
        fputs("usage: ccipctl ip verify RECEIPT --key PUB [--content FILE]\n"
              "  checks the receipt's Ed25519 signature with the platform's public key alone\n"
              "  (no network), and with --content that FILE is what was registered.\n"
              "  exit 0: it verifies; 1: it does not (the reason says where); 4: unreadable\n",
              stderr);
        return CTL_USAGE;
    }
    if (sodium_init() < 0)
        return CTL_LOCAL;
    size_t len = 0;
    char err[512];
    uint8_t *text = s_read_file(a.pos[0], RECEIPT_FILE_MAX, &len);
    if (!text)
        return CTL_LOCAL;
    ip_key key;
    if (ip_key_load_public(s_val(&a, "key", NULL), &key, err, sizeof err) < 0) {
        free(text);
        fprintf(stderr, "ccipctl: %s\n", err);
        return CTL_LOCAL;
    }
    ip_receipt r;
    const char *content = s_val(&a, "content", NULL);
    int ok = ip_receipt_parse((const char *)text, len, &r, err, sizeof err) == 0 &&
             ip_receipt_verify(&r, &key, err, sizeof err) == 0;
    free(text);
    int content_ok = 1;
    char want[IP_HASH_HEX + 1] = "", got[IP_HASH_HEX + 1] = "";
    if (ok && content) {
        uint8_t h[IP_HASH_LEN];
        if (s_hash_file(content, h) < 0)
            return CTL_LOCAL;
        content_ok = sodium_memcmp(h, r.content_sha256, IP_HASH_LEN) == 0;
        ip_hex(h, IP_HASH_LEN, got);
        ip_hex(r.content_sha256, IP_HASH_LEN, want);
        if (!content_ok)
            snprintf(err, sizeof err,
                     "content: %s hashes to %s, the receipt was signed for %s (a different or "
                     "altered file)",
                     content, got, want);
    }
    char when[CCIP_TIME_STRLEN + 1] = "", serial[24] = "";
    if (ok) {
        ccip_time_format_us(r.registered_at_us, when, sizeof when);
        ip_serial_text(r.serial, serial, sizeof serial);
    }
    int good = ok && content_ok;
    if (o->json) {
        printf("{\"verified\":%s,\"serial\":%" PRIu64 ",\"work_id\":", good ? "true" : "false",
               ok ? r.serial : 0);
        ctl_json_string(stdout, ok ? r.work_id : "");
        printf(",\"registered_at\":");
        ctl_json_string(stdout, when);
        printf(",\"content_checked\":%s,\"error\":", ok && content ? "true" : "false");
        ctl_json_string(stdout, good ? "" : err);
        printf("}\n");
    } else if (good) {
        printf("receipt verifies: %s (serial %" PRIu64 "), work %s, registered at %s, signed by "
               "key %s%s%s\n",
               serial, r.serial, r.work_id, when, r.key_id, content ? "; content matches " : "",
               content ? content : "");
    } else {
        fprintf(stderr, "ccipctl: receipt does NOT verify: %s\n", err);
    }
    return good ? CTL_OK : CTL_REFUSED;
}

/* ---- the registry ---------------------------------------------------------------- */

static int s_key(ctl_opts *o, int argc, char **argv)
{
    s_opt opts[] = {{.name = "out"}};
    s_args a;
    int rc = s_parse(argc, argv, 2, opts, 1, &a);
    if (rc != 0 || a.npos != 0) {
        fputs("usage: ccipctl ip key [--out FILE]\n", stderr);
        return CTL_USAGE;
    }
    Ccip__Ip__KeyRequest rq = CCIP__IP__KEY_REQUEST__INIT;
    const char *out = s_val(&a, "out", NULL);
    Ccip__Envelope *reply = NULL;
    rc = s_send(o, "ip.key.get.v1", &rq.base, out ? NULL : &ccip__ip__key_reply__descriptor,
                out ? &reply : NULL);
    if (rc == CTL_OK && out && reply) {
        char err[256];
        Ccip__Ip__KeyReply *k = (Ccip__Ip__KeyReply *)ccip_payload_unpack(
            &ccip__ip__key_reply__descriptor, reply->payload.data, reply->payload.len,
            reply->payload.len + 1, err, sizeof err);
        rc = !k ? CTL_REFUSED : s_write_new(out, k->key_file);
        if (rc == CTL_OK)
            printf("wrote %s (key %s)\n", out, k->key_id);
        if (k)
            protobuf_c_message_free_unpacked(&k->base, NULL);
    }
    ccip_envelope_free(&reply);
    return rc;
}

static int s_register(ctl_opts *o, int argc, char **argv)
{
    s_opt opts[] = {{.name = "kind"},  {.name = "title"},   {.name = "created-on"},
                    {.name = "file"},  {.name = "sha256"},  {.name = "store", .flag = 1},
                    {.name = "owner"}, {.name = "creator"}, {.name = "receipt-out"}};
    s_args a;
    int rc = s_parse(argc, argv, 2, opts, sizeof opts / sizeof opts[0], &a);
    const char *file = s_val(&a, "file", NULL), *hex = s_val(&a, "sha256", NULL);
    if (rc != 0 || a.npos != 0 || !s_val(&a, "kind", NULL) || !s_val(&a, "title", NULL) ||
        !s_val(&a, "created-on", NULL) || (!file == !hex)) {
        fputs("usage: ccipctl ip register --kind KIND --title TEXT --created-on YYYY-MM-DD\n"
              "         (--file FILE [--store] | --sha256 HEX) [--owner PARTY[=BASIS_POINTS]]...\n"
              "         [--creator NAME]... [--receipt-out FILE]\n"
              "  --file hashes FILE here; only with --store is the content itself sent (it is\n"
              "  then kept, and text is checked for near-duplicates). Owners default to the\n"
              "  --actor alone; shares are basis points adding up to 10000.\n",
              stderr);
        return CTL_USAGE;
    }
    Ccip__Ip__RegisterWorkRequest rq = CCIP__IP__REGISTER_WORK_REQUEST__INIT;
    int kind;
    if ((rc = s_enum(&ccip__ip__work_kind__descriptor, "kind", s_val(&a, "kind", NULL), &kind)))
        return rc;
    rq.kind = kind;
    rq.title = (char *)s_val(&a, "title", NULL);
    rq.created_on = (char *)s_val(&a, "created-on", NULL);
    char hash_hex[IP_HASH_HEX + 1];
    uint8_t *content = NULL;
    if (file) {
        size_t len = 0;
        if (!(content = s_read_file(file, FILE_MAX, &len)))
            return CTL_LOCAL;
        uint8_t h[IP_HASH_LEN];
        crypto_hash_sha256(h, content, len);
        ip_hex(h, IP_HASH_LEN, hash_hex);
        rq.content_sha256 = hash_hex;
        if (s_opt_of(&a, "store")->count) {
            rq.content.data = content;
            rq.content.len = len;
        }
    } else {
        rq.content_sha256 = (char *)hex;
    }
    const s_opt *ow = s_opt_of(&a, "owner");
    Ccip__Ip__Owner owners[REPEAT_MAX], *owner_ptrs[REPEAT_MAX];
    char parties[REPEAT_MAX][IP_PARTY_MAX + 1];
    for (int i = 0; i < ow->count; i++) {
        ccip__ip__owner__init(&owners[i]);
        snprintf(parties[i], sizeof parties[i], "%s", ow->values[i]);
        char *eq = strchr(parties[i], '=');
        owners[i].share_bp = 10000;
        if (eq) {
            *eq = '\0';
            owners[i].share_bp = (uint32_t)strtoul(eq + 1, NULL, 10);
        }
        owners[i].party = parties[i];
        owner_ptrs[i] = &owners[i];
    }
    rq.owners = owner_ptrs;
    rq.n_owners = (size_t)ow->count;
    const s_opt *cr = s_opt_of(&a, "creator");
    rq.creators = (char **)cr->values;
    rq.n_creators = (size_t)cr->count;
    Ccip__Envelope *reply = NULL;
    rc = s_send(o, "ip.work.register.v1", &rq.base, &ccip__ip__register_work_reply__descriptor,
                &reply);
    free(content);
    const char *out = s_val(&a, "receipt-out", NULL);
    if (rc == CTL_OK && out && reply) {
        char err[256];
        Ccip__Ip__RegisterWorkReply *r = (Ccip__Ip__RegisterWorkReply *)ccip_payload_unpack(
            &ccip__ip__register_work_reply__descriptor, reply->payload.data, reply->payload.len,
            reply->payload.len + 1, err, sizeof err);
        rc = r ? s_write_new(out, r->receipt) : CTL_REFUSED;
        if (r)
            protobuf_c_message_free_unpacked(&r->base, NULL);
        if (rc == CTL_OK && !o->json)
            printf("receipt written to %s\n", out);
    }
    ccip_envelope_free(&reply);
    return rc;
}

static int s_work(ctl_opts *o, int argc, char **argv)
{
    s_opt opts[] = {{.name = "owner"}, {.name = "after"}, {.name = "limit"}};
    s_args a;
    int rc = argc >= 3 ? s_parse(argc, argv, 3, opts, 3, &a) : CTL_USAGE;
    if (rc == 0 && strcmp(argv[2], "get") == 0 && a.npos == 1) {
        Ccip__Ip__GetWorkRequest rq = CCIP__IP__GET_WORK_REQUEST__INIT;
        if (ccip_uuid_valid(a.pos[0]))
            rq.work_id = (char *)a.pos[0];
        else
            rq.serial = strtoull(a.pos[0] + (strncmp(a.pos[0], "IP-", 3) == 0 ? 3 : 0), NULL, 10);
        return s_send(o, "ip.work.get.v1", &rq.base, &ccip__ip__work_reply__descriptor, NULL);
    }
    if (rc == 0 && strcmp(argv[2], "list") == 0 && a.npos == 0) {
        Ccip__Ip__ListWorksRequest rq = CCIP__IP__LIST_WORKS_REQUEST__INIT;
        rq.owner = (char *)s_val(&a, "owner", "");
        rq.after_serial = strtoull(s_val(&a, "after", "0"), NULL, 10);
        rq.limit = (uint32_t)strtoul(s_val(&a, "limit", "0"), NULL, 10);
        return s_send(o, "ip.work.list.v1", &rq.base, &ccip__ip__list_works_reply__descriptor,
                      NULL);
    }
    fputs("usage: ccipctl ip work get ID|SERIAL\n"
          "       ccipctl ip work list [--owner PARTY] [--after SERIAL] [--limit N]\n",
          stderr);
    return CTL_USAGE;
}

/* `receipt ID|SERIAL [--out FILE]`: a registration's receipt again, as
 * text ready for `verify`. */
static int s_receipt(ctl_opts *o, int argc, char **argv)
{
    s_opt opts[] = {{.name = "out"}};
    s_args a;
    int rc = s_parse(argc, argv, 2, opts, 1, &a);
    if (rc != 0 || a.npos != 1) {
        fputs("usage: ccipctl ip receipt ID|SERIAL [--out FILE]\n", stderr);
        return CTL_USAGE;
    }
    Ccip__Ip__GetWorkRequest rq = CCIP__IP__GET_WORK_REQUEST__INIT;
    if (ccip_uuid_valid(a.pos[0]))
        rq.work_id = (char *)a.pos[0];
    else
        rq.serial = strtoull(a.pos[0] + (strncmp(a.pos[0], "IP-", 3) == 0 ? 3 : 0), NULL, 10);
    Ccip__Envelope *reply = NULL;
    rc = s_send(o, "ip.work.get.v1", &rq.base, NULL, &reply);
    if (rc == CTL_OK && reply) {
        char err[256];
        Ccip__Ip__WorkReply *w = (Ccip__Ip__WorkReply *)ccip_payload_unpack(
            &ccip__ip__work_reply__descriptor, reply->payload.data, reply->payload.len,
            reply->payload.len + 1, err, sizeof err);
        const char *out = s_val(&a, "out", NULL);
        if (!w)
            rc = CTL_REFUSED;
        else if (out)
            rc = s_write_new(out, w->receipt);
        else
            fputs(w->receipt, stdout);
        if (w)
            protobuf_c_message_free_unpacked(&w->base, NULL);
    }
    ccip_envelope_free(&reply);
    return rc;
}

/* Fills an ip_chain_record from a record as read (owners into own). */
static void s_record(const Ccip__Ip__ChainRecord *c, ip_chain_owner *own, ip_chain_record *r)
{
    memset(r, 0, sizeof *r);
    r->seq = c->seq;
    if (c->prev_hash.len == IP_HASH_LEN)
        memcpy(r->prev_hash, c->prev_hash.data, IP_HASH_LEN);
    r->work_id = c->work_id;
    r->kind = c->kind;
    r->title = c->title;
    for (size_t i = 0; i < c->n_owners; i++) {
        own[i].party = c->owners[i]->party;
        own[i].share_bp = c->owners[i]->share_bp;
    }
    r->owners = own;
    r->nowners = c->n_owners;
    r->creators = (const char *const *)c->creators;
    r->ncreators = c->n_creators;
    r->created_on = c->created_on;
    if (c->content_sha256.len == IP_HASH_LEN)
        memcpy(r->content_sha256, c->content_sha256.data, IP_HASH_LEN);
    r->registered_at_us = c->registered_at_us;
    r->registrant = c->registrant;
    r->key_id = c->key_id;
}

/* Checks one record's receipt signature with the key of its key id. */
static int s_record_signature(const Ccip__Ip__ChainRecord *c, const ip_key *keys, int nkeys,
                              char *err, size_t errlen)
{
    const ip_key *key = NULL;
    for (int i = 0; i < nkeys && !key; i++)
        if (strcmp(keys[i].key_id, c->key_id) == 0)
            key = &keys[i];
    if (!key) {
        snprintf(err, errlen,
                 "record %" PRIu64 " was signed with key %s, whose public key was not given "
                 "(pass every key the platform has used with --key)",
                 c->seq, c->key_id);
        return -1;
    }
    /* The service is not trusted: sizes are checked before anything is
     * copied. */
    if (c->signature.len != IP_SIGNATURE_LEN || c->content_sha256.len != IP_HASH_LEN ||
        c->hash.len != IP_HASH_LEN) {
        snprintf(err, errlen,
                 "record %" PRIu64 " is malformed (a hash or its signature is missing)", c->seq);
        return -1;
    }
    ip_receipt r;
    memset(&r, 0, sizeof r);
    r.serial = c->seq;
    snprintf(r.work_id, sizeof r.work_id, "%s", c->work_id);
    memcpy(r.content_sha256, c->content_sha256.data, IP_HASH_LEN);
    memcpy(r.chain_hash, c->hash.data, IP_HASH_LEN);
    r.registered_at_us = c->registered_at_us;
    snprintf(r.key_id, sizeof r.key_id, "%s", c->key_id);
    memcpy(r.signature, c->signature.data, IP_SIGNATURE_LEN);
    char why[300];
    if (ip_receipt_verify(&r, key, why, sizeof why) < 0) {
        snprintf(err, errlen, "record %" PRIu64 "'s signature does not verify: %s", c->seq, why);
        return -1;
    }
    return 0;
}

static double s_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The audit's state: the verifier walking the chain in order, and the
 * fetchers reading batches ahead of it in parallel (the service reads and
 * encodes a batch on one worker while another reads the next, and the
 * verifier hashes meanwhile). Batch k holds seqs 1 + k*B .. (k+1)*B. */
typedef struct {
    ctl_opts *o;
    uint32_t batch;                           /* records per batch (B) */
    int without_signatures;                   /* no key given: signatures not fetched */
    size_t nbatches;                          /* batches up to the head */
    pthread_mutex_t mu;                       /* guards everything below */
    pthread_cond_t cv;                        /* a batch arrived, or one was consumed */
    Ccip__Ip__ChainBatch *slot[AUDIT_WINDOW]; /* batch k in slot k % AUDIT_WINDOW */
    size_t slot_k[AUDIT_WINDOW];              /* which batch a slot holds (SIZE_MAX: none) */
    size_t consumed;                          /* batches the verifier is done with */
    int stop;                                 /* the verifier needs no more */
    int failed;                               /* a fetch failed: code and err say why */
    int code;
    char err[600];
} s_audit_state;

typedef struct {
    s_audit_state *st;
    ccip_client *client; /* the fetcher's own connection */
    size_t first;        /* first batch it fetches; then every AUDIT_FETCHERS-th */
    pthread_t thread;
} s_fetcher;

/* Fetches batch k on client c: its decoded reply, or NULL with code and err. */
static Ccip__Ip__ChainBatch *s_fetch_batch(ctl_opts *o, ccip_client *c, uint64_t from, uint32_t max,
                                           int without_signatures, int *code, char *err,
                                           size_t errlen)
{
    Ccip__Ip__ReadChainRequest rq = CCIP__IP__READ_CHAIN_REQUEST__INIT;
    rq.from_seq = from;
    rq.max = max;
    rq.without_signatures = without_signatures;
    uint8_t buf[32];
    size_t len = ccip__ip__read_chain_request__pack(&rq, buf);
    Ccip__Envelope *reply = ctl_call(o, c, "ip", "ip.chain.read.v1", buf, len, code);
    if (!reply) {
        snprintf(err, errlen, "could not read the chain");
        return NULL;
    }
    Ccip__Ip__ChainBatch *b = (Ccip__Ip__ChainBatch *)ccip_payload_unpack(
        &ccip__ip__chain_batch__descriptor, reply->payload.data, reply->payload.len,
        reply->payload.len + 1, err, errlen);
    ccip_envelope_free(&reply);
    if (!b) {
        fprintf(stderr, "ccipctl: could not decode a chain batch: %s\n", err);
        *code = CTL_REFUSED;
    }
    return b;
}

static void *s_fetcher_run(void *arg)
{
    s_fetcher *f = arg;
    s_audit_state *st = f->st;
    for (size_t k = f->first; k < st->nbatches; k += AUDIT_FETCHERS) {
        pthread_mutex_lock(&st->mu);
        while (!st->stop && !st->failed && k >= st->consumed + AUDIT_WINDOW)
            pthread_cond_wait(&st->cv, &st->mu);
        int quit = st->stop || st->failed;
        pthread_mutex_unlock(&st->mu);
        if (quit)
            break;
        int code = CTL_OK;
        char err[600];
        Ccip__Ip__ChainBatch *b =
            s_fetch_batch(st->o, f->client, 1 + (uint64_t)k * st->batch, st->batch,
                          st->without_signatures, &code, err, sizeof err);
        pthread_mutex_lock(&st->mu);
        if (!b) {
            st->failed = 1;
            st->code = code;
            snprintf(st->err, sizeof st->err, "%s", err);
        } else {
            st->slot[k % AUDIT_WINDOW] = b;
            st->slot_k[k % AUDIT_WINDOW] = k;
        }
        pthread_cond_broadcast(&st->cv);
        pthread_mutex_unlock(&st->mu);
        if (!b)
            break;
    }
    return NULL;
}

/* What the verifier has found so far. */
typedef struct {
    ip_chain_verifier v;
    const ip_key *keys;
    int nkeys;
    uint64_t head_seq;
    uint64_t checked;
    uint64_t broken_at;
    int broken;
    char err[600];
} s_walk;

/* Verifies the records of one batch up to the head. */
static void s_walk_batch(s_walk *w, const Ccip__Ip__ChainBatch *b)
{
    for (size_t i = 0; i < b->n_records && !w->broken; i++) {
        const Ccip__Ip__ChainRecord *cr = b->records[i];
        if (cr->seq > w->head_seq)
            break;
        ip_chain_owner own[IP_OWNERS_MAX];
        ip_chain_record r;
        uint8_t stored[IP_HASH_LEN] = {0};
        if (cr->n_owners > IP_OWNERS_MAX || cr->hash.len != IP_HASH_LEN) {
            snprintf(w->err, sizeof w->err, "record %" PRIu64 " is malformed", cr->seq);
            w->broken = 1;
        } else {
            memcpy(stored, cr->hash.data, IP_HASH_LEN);
            s_record(cr, own, &r);
            w->broken =
                ip_chain_verify_next(&w->v, &r, stored, w->err, sizeof w->err) < 0 ||
                (w->nkeys && s_record_signature(cr, w->keys, w->nkeys, w->err, sizeof w->err) < 0);
        }
        if (w->broken)
            w->broken_at = cr->seq;
        else
            w->checked++;
    }
}

static int s_audit(ctl_opts *o, int argc, char **argv)
{
    s_opt opts[] = {{.name = "key"}, {.name = "batch"}};
    s_args a;
    int rc = s_parse(argc, argv, 2, opts, 2, &a);
    if (rc != 0 || a.npos != 0 || opts[0].count > AUDIT_KEYS) {
        fputs("usage: ccipctl ip audit-chain [--key PUB]... [--batch N]\n"
              "  reads every chain record and recomputes its hash and link here; with --key\n"
              "  also checks each record's receipt signature (give every public key the\n"
              "  platform has used, at most 8; a record signed by a key not given fails).\n"
              "  Exit 0 intact, 1 broken.\n",
              stderr);
        return CTL_USAGE;
    }
    static s_walk w; /* large; one audit per process */
    memset(&w, 0, sizeof w);
    ip_key keys[AUDIT_KEYS];
    w.nkeys = opts[0].count;
    w.keys = keys;
    for (int i = 0; i < w.nkeys; i++)
        if (ip_key_load_public(opts[0].values[i], &keys[i], w.err, sizeof w.err) < 0) {
            fprintf(stderr, "ccipctl: %s\n", w.err);
            return CTL_LOCAL;
        }
    uint32_t batch = (uint32_t)strtoul(s_val(&a, "batch", "0"), NULL, 10);
    if (batch == 0 || batch > AUDIT_BATCH_MAX)
        batch = AUDIT_BATCH;
    s_audit_state st = {.o = o, .batch = batch, .without_signatures = w.nkeys == 0};
    pthread_mutex_init(&st.mu, NULL);
    pthread_cond_init(&st.cv, NULL);
    for (int i = 0; i < AUDIT_WINDOW; i++)
        st.slot_k[i] = SIZE_MAX;
    s_fetcher fetchers[AUDIT_FETCHERS];
    int nfetchers = 0, code = CTL_OK;
    ccip_client *c = ctl_connect(o);
    if (!c)
        return CTL_LOCAL;
    ip_chain_verifier_init(&w.v);
    uint8_t head_hash[IP_HASH_LEN] = {0};
    double t0 = s_seconds();
    /* Batch 0 on this connection: it also fixes the head the audit covers
     * (the chain as it stood at this first read). */
    Ccip__Ip__ChainBatch *b =
        s_fetch_batch(o, c, 1, batch, st.without_signatures, &code, w.err, sizeof w.err);
    if (b) {
        w.head_seq = b->head_seq;
        if (b->head_hash.len == IP_HASH_LEN)
            memcpy(head_hash, b->head_hash.data, IP_HASH_LEN);
        st.nbatches = (size_t)((w.head_seq + batch - 1) / batch);
        s_walk_batch(&w, b);
        protobuf_c_message_free_unpacked(&b->base, NULL);
        st.consumed = 1;
    }
    for (int i = 0; b && !w.broken && i < AUDIT_FETCHERS && (size_t)i + 1 < st.nbatches; i++) {
        fetchers[i] = (s_fetcher){.st = &st, .first = (size_t)i + 1};
        if (!(fetchers[i].client = ctl_connect(o)))
            break;
        if (pthread_create(&fetchers[i].thread, NULL, s_fetcher_run, &fetchers[i]) != 0) {
            ccip_client_destroy(&fetchers[i].client);
            break;
        }
        nfetchers++;
    }
    for (size_t k = 1; b && nfetchers && !w.broken && k < st.nbatches; k++) {
        pthread_mutex_lock(&st.mu);
        while (!st.failed && st.slot_k[k % AUDIT_WINDOW] != k)
            pthread_cond_wait(&st.cv, &st.mu);
        Ccip__Ip__ChainBatch *next = st.failed ? NULL : st.slot[k % AUDIT_WINDOW];
        st.slot[k % AUDIT_WINDOW] = NULL;
        pthread_mutex_unlock(&st.mu);
        if (!next) {
            code = st.code != CTL_OK ? st.code : CTL_UNAVAILABLE;
            break;
        }
        s_walk_batch(&w, next);
        protobuf_c_message_free_unpacked(&next->base, NULL);
        pthread_mutex_lock(&st.mu);
        st.consumed = k + 1;
        pthread_cond_broadcast(&st.cv);
        pthread_mutex_unlock(&st.mu);
    }
    pthread_mutex_lock(&st.mu);
    st.stop = 1;
    pthread_cond_broadcast(&st.cv);
    pthread_mutex_unlock(&st.mu);
    for (int i = 0; i < nfetchers; i++) {
        pthread_join(fetchers[i].thread, NULL);
        ccip_client_destroy(&fetchers[i].client);
    }
    for (int i = 0; i < AUDIT_WINDOW; i++)
        if (st.slot[i])
            protobuf_c_message_free_unpacked(&st.slot[i]->base, NULL);
    pthread_cond_destroy(&st.cv);
    pthread_mutex_destroy(&st.mu);
    ccip_client_destroy(&c);
    if (!b && code == CTL_OK)
        code = CTL_UNAVAILABLE;
    if (code != CTL_OK)
        return code;
    if (!w.broken && st.nbatches > 1 && !nfetchers) {
        fprintf(stderr, "ccipctl: could not start reading the chain in parallel\n");
        return CTL_LOCAL;
    }
    if (!w.broken && ip_chain_verify_head(&w.v, w.head_seq, head_hash, w.err, sizeof w.err) < 0) {
        w.broken = 1;
        w.broken_at = w.v.next_seq;
    }
    double dt = s_seconds() - t0;
    double rate = dt > 0 ? (double)w.checked / dt : 0;
    if (o->json) {
        printf("{\"intact\":%s,\"records\":%" PRIu64 ",\"head_seq\":%" PRIu64
               ",\"signatures_checked\":%s,\"first_broken\":%" PRIu64
               ",\"seconds\":%.3f,\"records_per_s\":%.0f,\"error\":",
               w.broken ? "false" : "true", w.checked, w.head_seq, w.nkeys ? "true" : "false",
               w.broken_at, dt, rate);
        ctl_json_string(stdout, w.broken ? w.err : "");
        printf("}\n");
    } else if (w.broken) {
        printf("chain BROKEN at record %" PRIu64 ": %s\n", w.broken_at, w.err);
        printf("(%" PRIu64 " records before it verified)\n", w.checked);
    } else {
        char hh[IP_HASH_HEX + 1];
        ip_hex(head_hash, IP_HASH_LEN, hh);
        printf("chain intact: %" PRIu64 " records%s, head %s, %.0f records/s\n", w.checked,
               w.nkeys ? " and their signatures" : "", hh, rate);
    }
    return w.broken ? CTL_REFUSED : CTL_OK;
}

static int s_review(ctl_opts *o, int argc, char **argv)
{
    s_opt opts[] = {{.name = "decision"}, {.name = "note"}};
    s_args a;
    int rc = argc >= 3 ? s_parse(argc, argv, 3, opts, 2, &a) : CTL_USAGE;
    if (rc == 0 && strcmp(argv[2], "list") == 0 && a.npos == 0) {
        Ccip__Ip__ListReviewRequest rq = CCIP__IP__LIST_REVIEW_REQUEST__INIT;
        return s_send(o, "ip.review.list.v1", &rq.base, &ccip__ip__list_review_reply__descriptor,
                      NULL);
    }
    if (rc == 0 && strcmp(argv[2], "resolve") == 0 && a.npos == 1) {
        Ccip__Ip__ResolveReviewRequest rq = CCIP__IP__RESOLVE_REVIEW_REQUEST__INIT;
        int d;
        if ((rc = s_enum(&ccip__ip__review_decision__descriptor, "decision",
                         s_val(&a, "decision", NULL), &d)) != 0)
            return rc;
        rq.work_id = (char *)a.pos[0];
        rq.decision = d;
        rq.note = (char *)s_val(&a, "note", "");
        return s_send(o, "ip.review.resolve.v1", &rq.base, &ccip__ip__work_reply__descriptor, NULL);
    }
    fputs("usage: ccipctl ip review list\n"
          "       ccipctl ip review resolve WORK --decision cleared|confirmed --note TEXT\n",
          stderr);
    return CTL_USAGE;
}

/* ---- trading ------------------------------------------------------------------------ */

static int s_listing(ctl_opts *o, int argc, char **argv)
{
    s_opt opts[] = {{.name = "deal"},           {.name = "price"}, {.name = "territory"},
                    {.name = "from"},           {.name = "to"},    {.name = "work"},
                    {.name = "open", .flag = 1}};
    s_args a;
    int rc = argc >= 3 ? s_parse(argc, argv, 3, opts, sizeof opts / sizeof opts[0], &a) : CTL_USAGE;
    const char *verb = argc >= 3 ? argv[2] : "";
    const s_opt *terr = s_opt_of(&a, "territory");
    if (rc == 0 && strcmp(verb, "create") == 0 && a.npos == 1) {
        Ccip__Ip__CreateListingRequest rq = CCIP__IP__CREATE_LISTING_REQUEST__INIT;
        int deal;
        if ((rc = s_enum(&ccip__ip__deal_type__descriptor, "deal", s_val(&a, "deal", NULL),
                         &deal)) != 0 ||
            (rc = s_yuan("price", s_val(&a, "price", NULL), &rq.price_fen)) != 0)
            return rc;
        rq.work_id = (char *)a.pos[0];
        rq.deal = deal;
        rq.territory = (char **)terr->values;
        rq.n_territory = (size_t)terr->count;
        rq.term_start = (char *)s_val(&a, "from", "");
        rq.term_end = (char *)s_val(&a, "to", "");
        return s_send(o, "ip.listing.create.v1", &rq.base, &ccip__ip__listing_reply__descriptor,
                      NULL);
    }
    if (rc == 0 && strcmp(verb, "update") == 0 && a.npos == 1) {
        Ccip__Ip__UpdateListingRequest rq = CCIP__IP__UPDATE_LISTING_REQUEST__INIT;
        if ((rc = s_yuan("price", s_val(&a, "price", NULL), &rq.price_fen)) != 0)
            return rc;
        rq.listing_id = (char *)a.pos[0];
        rq.territory = (char **)terr->values;
        rq.n_territory = (size_t)terr->count;
        rq.term_start = (char *)s_val(&a, "from", "");
        rq.term_end = (char *)s_val(&a, "to", "");
        return s_send(o, "ip.listing.update.v1", &rq.base, &ccip__ip__listing_reply__descriptor,
                      NULL);
    }
    if (rc == 0 && (strcmp(verb, "withdraw") == 0 || strcmp(verb, "get") == 0) && a.npos == 1) {
        Ccip__Ip__ListingActionRequest rq = CCIP__IP__LISTING_ACTION_REQUEST__INIT;
        rq.listing_id = (char *)a.pos[0];
        return s_send(o, verb[0] == 'w' ? "ip.listing.withdraw.v1" : "ip.listing.get.v1", &rq.base,
                      &ccip__ip__listing_reply__descriptor, NULL);
    }
    if (rc == 0 && strcmp(verb, "list") == 0 && a.npos == 0) {
        Ccip__Ip__ListListingsRequest rq = CCIP__IP__LIST_LISTINGS_REQUEST__INIT;
        rq.work_id = (char *)s_val(&a, "work", "");
        rq.open_only = s_opt_of(&a, "open")->count > 0;
        return s_send(o, "ip.listing.list.v1", &rq.base, &ccip__ip__list_listings_reply__descriptor,
                      NULL);
    }
    fputs("usage: ccipctl ip listing create WORK --deal transfer|exclusive-licence|"
          "non-exclusive-licence\n"
          "                --price YUAN [--territory CODE]... [--from YYYY-MM-DD --to YYYY-MM-DD]\n"
          "       ccipctl ip listing update LISTING --price YUAN [--territory CODE]... [--from "
          "--to]\n"
          "       ccipctl ip listing withdraw|get LISTING\n"
          "       ccipctl ip listing list [--work WORK] [--open]\n",
          stderr);
    return CTL_USAGE;
}

static int s_offer(ctl_opts *o, int argc, char **argv)
{
    s_opt opts[] = {{.name = "price"}, {.name = "note"}};
    s_args a;
    int rc = argc >= 3 ? s_parse(argc, argv, 3, opts, 2, &a) : CTL_USAGE;
    const char *verb = argc >= 3 ? argv[2] : "";
    if (rc == 0 && strcmp(verb, "make") == 0 && a.npos == 1) {
        Ccip__Ip__MakeOfferRequest rq = CCIP__IP__MAKE_OFFER_REQUEST__INIT;
        if ((rc = s_yuan("price", s_val(&a, "price", NULL), &rq.price_fen)) != 0)
            return rc;
        rq.listing_id = (char *)a.pos[0];
        rq.note = (char *)s_val(&a, "note", "");
        return s_send(o, "ip.offer.make.v1", &rq.base, &ccip__ip__offer_reply__descriptor, NULL);
    }
    if (rc == 0 && strcmp(verb, "withdraw") == 0 && a.npos == 1) {
        Ccip__Ip__OfferActionRequest rq = CCIP__IP__OFFER_ACTION_REQUEST__INIT;
        rq.offer_id = (char *)a.pos[0];
        return s_send(o, "ip.offer.withdraw.v1", &rq.base, &ccip__ip__offer_reply__descriptor,
                      NULL);
    }
    if (rc == 0 && strcmp(verb, "accept") == 0 && a.npos == 1) {
        Ccip__Ip__OfferActionRequest rq = CCIP__IP__OFFER_ACTION_REQUEST__INIT;
        rq.offer_id = (char *)a.pos[0];
        return s_send(o, "ip.offer.accept.v1", &rq.base, &ccip__ip__contract_reply__descriptor,
                      NULL);
    }
    fputs("usage: ccipctl ip offer make LISTING --price YUAN [--note TEXT]\n"
          "       ccipctl ip offer withdraw|accept OFFER\n",
          stderr);
    return CTL_USAGE;
}

static int s_contract(ctl_opts *o, int argc, char **argv)
{
    s_opt opts[] = {{.name = "payment-ref"}, {.name = "paid"}};
    s_args a;
    int rc = argc >= 3 ? s_parse(argc, argv, 3, opts, 2, &a) : CTL_USAGE;
    const char *verb = argc >= 3 ? argv[2] : "";
    if (rc == 0 && strcmp(verb, "settle") == 0 && a.npos == 1) {
        Ccip__Ip__SettleContractRequest rq = CCIP__IP__SETTLE_CONTRACT_REQUEST__INIT;
        if ((rc = s_yuan("paid", s_val(&a, "paid", NULL), &rq.paid_fen)) != 0)
            return rc;
        rq.contract_id = (char *)a.pos[0];
        rq.payment_ref = (char *)s_val(&a, "payment-ref", "");
        return s_send(o, "ip.contract.settle.v1", &rq.base, &ccip__ip__contract_reply__descriptor,
                      NULL);
    }
    if (rc == 0 && strcmp(verb, "get") == 0 && a.npos == 1) {
        Ccip__Ip__ContractActionRequest rq = CCIP__IP__CONTRACT_ACTION_REQUEST__INIT;
        rq.contract_id = (char *)a.pos[0];
        return s_send(o, "ip.contract.get.v1", &rq.base, &ccip__ip__contract_reply__descriptor,
                      NULL);
    }
    fputs("usage: ccipctl ip contract settle CONTRACT --payment-ref REF --paid YUAN\n"
          "       ccipctl ip contract get CONTRACT\n",
          stderr);
    return CTL_USAGE;
}

/* ---- disputes ----------------------------------------------------------------------- */

/* Evidence "DESCRIPTION=SHA256" items into items (pointers into copies). */
static int s_evidence(const s_opt *ev, Ccip__Ip__Evidence *items, Ccip__Ip__Evidence **ptrs,
                      char copies[][600])
{
    for (int i = 0; i < ev->count; i++) {
        snprintf(copies[i], 600, "%s", ev->values[i]);
        char *eq = strrchr(copies[i], '=');
        if (!eq) {
            fprintf(
                stderr,
                "ccipctl: --evidence must be DESCRIPTION=SHA256 (e.g. \"contract scan=9f86...\"),"
                " got \"%s\"\n",
                ev->values[i]);
            return CTL_USAGE;
        }
        *eq = '\0';
        ccip__ip__evidence__init(&items[i]);
        items[i].description = copies[i];
        items[i].sha256 = eq + 1;
        ptrs[i] = &items[i];
    }
    return 0;
}

static int s_dispute(ctl_opts *o, int argc, char **argv)
{
    s_opt opts[] = {
        {.name = "kind"},   {.name = "statement"},         {.name = "evidence"},
        {.name = "answer"}, {.name = "uphold", .flag = 1}, {.name = "dismiss", .flag = 1},
        {.name = "reasons"}};
    s_args a;
    int rc = argc >= 3 ? s_parse(argc, argv, 3, opts, sizeof opts / sizeof opts[0], &a) : CTL_USAGE;
    const char *verb = argc >= 3 ? argv[2] : "";
    Ccip__Ip__Evidence items[REPEAT_MAX], *ptrs[REPEAT_MAX];
    static char copies[REPEAT_MAX][600];
    if (rc == 0 && strcmp(verb, "file") == 0 && a.npos == 1) {
        Ccip__Ip__FileDisputeRequest rq = CCIP__IP__FILE_DISPUTE_REQUEST__INIT;
        int kind;
        const s_opt *ev = s_opt_of(&a, "evidence");
        if ((rc = s_enum(&ccip__ip__dispute_kind__descriptor, "kind", s_val(&a, "kind", NULL),
                         &kind)) != 0 ||
            (rc = s_evidence(ev, items, ptrs, copies)) != 0)
            return rc;
        rq.work_id = (char *)a.pos[0];
        rq.kind = kind;
        rq.statement = (char *)s_val(&a, "statement", "");
        rq.evidence = ptrs;
        rq.n_evidence = (size_t)ev->count;
        return s_send(o, "ip.dispute.file.v1", &rq.base, &ccip__ip__dispute_reply__descriptor,
                      NULL);
    }
    if (rc == 0 && strcmp(verb, "answer") == 0 && a.npos == 1) {
        Ccip__Ip__AnswerDisputeRequest rq = CCIP__IP__ANSWER_DISPUTE_REQUEST__INIT;
        const s_opt *ev = s_opt_of(&a, "evidence");
        if ((rc = s_evidence(ev, items, ptrs, copies)) != 0)
            return rc;
        rq.dispute_id = (char *)a.pos[0];
        rq.answer = (char *)s_val(&a, "answer", "");
        rq.evidence = ptrs;
        rq.n_evidence = (size_t)ev->count;
        return s_send(o, "ip.dispute.answer.v1", &rq.base, &ccip__ip__dispute_reply__descriptor,
                      NULL);
    }
    int up = s_opt_of(&a, "uphold")->count, down = s_opt_of(&a, "dismiss")->count;
    if (rc == 0 && strcmp(verb, "rule") == 0 && a.npos == 1 && up + down == 1) {
        Ccip__Ip__RuleDisputeRequest rq = CCIP__IP__RULE_DISPUTE_REQUEST__INIT;
        rq.dispute_id = (char *)a.pos[0];
        rq.ruling = up ? CCIP__IP__RULING__UPHOLD : CCIP__IP__RULING__DISMISS;
        rq.reasons = (char *)s_val(&a, "reasons", "");
        return s_send(o, "ip.dispute.rule.v1", &rq.base, &ccip__ip__dispute_reply__descriptor,
                      NULL);
    }
    if (rc == 0 && strcmp(verb, "lift") == 0 && a.npos == 1) {
        Ccip__Ip__LiftFreezeRequest rq = CCIP__IP__LIFT_FREEZE_REQUEST__INIT;
        rq.dispute_id = (char *)a.pos[0];
        rq.reasons = (char *)s_val(&a, "reasons", "");
        return s_send(o, "ip.dispute.lift.v1", &rq.base, &ccip__ip__dispute_reply__descriptor,
                      NULL);
    }
    if (rc == 0 && strcmp(verb, "get") == 0 && a.npos == 1) {
        Ccip__Ip__DisputeActionRequest rq = CCIP__IP__DISPUTE_ACTION_REQUEST__INIT;
        rq.dispute_id = (char *)a.pos[0];
        return s_send(o, "ip.dispute.get.v1", &rq.base, &ccip__ip__dispute_reply__descriptor, NULL);
    }
    fputs("usage: ccipctl ip dispute file WORK --kind infringement|improper-registration\n"
          "                --statement TEXT --evidence DESCRIPTION=SHA256...\n"
          "       ccipctl ip dispute answer DISPUTE --answer TEXT [--evidence DESC=SHA256]...\n"
          "       ccipctl ip dispute rule DISPUTE --uphold|--dismiss --reasons TEXT\n"
          "       ccipctl ip dispute lift DISPUTE --reasons TEXT\n"
          "       ccipctl ip dispute get DISPUTE\n",
          stderr);
    return CTL_USAGE;
}

/* ---- providers and requests ------------------------------------------------------------ */

static int s_provider(ctl_opts *o, int argc, char **argv)
{
    s_opt opts[] = {{.name = "name"},
                    {.name = "category"},
                    {.name = "description"},
                    {.name = "verified", .flag = 1}};
    s_args a;
    int rc = argc >= 3 ? s_parse(argc, argv, 3, opts, 4, &a) : CTL_USAGE;
    const char *verb = argc >= 3 ? argv[2] : "";
    const s_opt *cat = s_opt_of(&a, "category");
    if (rc == 0 && strcmp(verb, "register") == 0 && a.npos == 0) {
        Ccip__Ip__RegisterProviderRequest rq = CCIP__IP__REGISTER_PROVIDER_REQUEST__INIT;
        int cats[REPEAT_MAX];
        for (int i = 0; i < cat->count; i++)
            if ((rc = s_enum(&ccip__ip__provider_category__descriptor, "category", cat->values[i],
                             &cats[i])) != 0)
                return rc;
        rq.name = (char *)s_val(&a, "name", "");
        rq.categories = (Ccip__Ip__ProviderCategory *)cats;
        rq.n_categories = (size_t)cat->count;
        rq.description = (char *)s_val(&a, "description", "");
        return s_send(o, "ip.provider.register.v1", &rq.base, &ccip__ip__provider_reply__descriptor,
                      NULL);
    }
    if (rc == 0 && strcmp(verb, "verify") == 0 && a.npos == 1) {
        Ccip__Ip__ProviderActionRequest rq = CCIP__IP__PROVIDER_ACTION_REQUEST__INIT;
        rq.provider_id = (char *)a.pos[0];
        return s_send(o, "ip.provider.verify.v1", &rq.base, &ccip__ip__provider_reply__descriptor,
                      NULL);
    }
    if (rc == 0 && strcmp(verb, "list") == 0 && a.npos == 0) {
        Ccip__Ip__ListProvidersRequest rq = CCIP__IP__LIST_PROVIDERS_REQUEST__INIT;
        int c = 0;
        if (cat->count && (rc = s_enum(&ccip__ip__provider_category__descriptor, "category",
                                       cat->values[cat->count - 1], &c)) != 0)
            return rc;
        rq.category = c;
        rq.verified_only = s_opt_of(&a, "verified")->count > 0;
        return s_send(o, "ip.provider.list.v1", &rq.base,
                      &ccip__ip__list_providers_reply__descriptor, NULL);
    }
    fputs("usage: ccipctl ip provider register --name TEXT --category CATEGORY... "
          "[--description TEXT]\n"
          "       ccipctl ip provider verify PROVIDER\n"
          "       ccipctl ip provider list [--category CATEGORY] [--verified]\n",
          stderr);
    return CTL_USAGE;
}

static int s_request(ctl_opts *o, int argc, char **argv)
{
    s_opt opts[] = {
        {.name = "category"}, {.name = "description"}, {.name = "rating"}, {.name = "note"}};
    s_args a;
    int rc = argc >= 3 ? s_parse(argc, argv, 3, opts, 4, &a) : CTL_USAGE;
    const char *verb = argc >= 3 ? argv[2] : "";
    if (rc == 0 && strcmp(verb, "create") == 0 && a.npos == 1) {
        Ccip__Ip__CreateServiceRequest rq = CCIP__IP__CREATE_SERVICE_REQUEST__INIT;
        int c;
        if ((rc = s_enum(&ccip__ip__provider_category__descriptor, "category",
                         s_val(&a, "category", NULL), &c)) != 0)
            return rc;
        rq.provider_id = (char *)a.pos[0];
        rq.category = c;
        rq.description = (char *)s_val(&a, "description", "");
        return s_send(o, "ip.request.create.v1", &rq.base,
                      &ccip__ip__service_request_reply__descriptor, NULL);
    }
    if (rc == 0 && (strcmp(verb, "accept") == 0 || strcmp(verb, "complete") == 0) && a.npos == 1) {
        Ccip__Ip__ServiceRequestAction rq = CCIP__IP__SERVICE_REQUEST_ACTION__INIT;
        rq.request_id = (char *)a.pos[0];
        return s_send(o, verb[0] == 'a' ? "ip.request.accept.v1" : "ip.request.complete.v1",
                      &rq.base, &ccip__ip__service_request_reply__descriptor, NULL);
    }
    if (rc == 0 && strcmp(verb, "rate") == 0 && a.npos == 1) {
        Ccip__Ip__RateServiceRequest rq = CCIP__IP__RATE_SERVICE_REQUEST__INIT;
        rq.request_id = (char *)a.pos[0];
        rq.rating = (uint32_t)strtoul(s_val(&a, "rating", "0"), NULL, 10);
        rq.note = (char *)s_val(&a, "note", "");
        return s_send(o, "ip.request.rate.v1", &rq.base,
                      &ccip__ip__service_request_reply__descriptor, NULL);
    }
    fputs("usage: ccipctl ip request create PROVIDER --category CATEGORY --description TEXT\n"
          "       ccipctl ip request accept|complete REQUEST\n"
          "       ccipctl ip request rate REQUEST --rating 1..5 [--note TEXT]\n",
          stderr);
    return CTL_USAGE;
}

int ctl_ip(ctl_opts *o, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(s_usage, argc >= 2 ? stdout : stderr);
        return argc >= 2 ? CTL_OK : CTL_USAGE;
    }
    const char *c = argv[1];
    if (strcmp(c, "keygen") == 0)
        return s_keygen(argc, argv);
    if (strcmp(c, "verify") == 0)
        return s_verify(o, argc, argv);
    if (strcmp(c, "key") == 0)
        return s_key(o, argc, argv);
    if (strcmp(c, "register") == 0)
        return s_register(o, argc, argv);
    if (strcmp(c, "work") == 0)
        return s_work(o, argc, argv);
    if (strcmp(c, "receipt") == 0)
        return s_receipt(o, argc, argv);
    if (strcmp(c, "audit-chain") == 0)
        return s_audit(o, argc, argv);
    if (strcmp(c, "review") == 0)
        return s_review(o, argc, argv);
    if (strcmp(c, "listing") == 0)
        return s_listing(o, argc, argv);
    if (strcmp(c, "offer") == 0)
        return s_offer(o, argc, argv);
    if (strcmp(c, "contract") == 0)
        return s_contract(o, argc, argv);
    if (strcmp(c, "dispute") == 0)
        return s_dispute(o, argc, argv);
    if (strcmp(c, "provider") == 0)
        return s_provider(o, argc, argv);
    if (strcmp(c, "request") == 0)
        return s_request(o, argc, argv);
    fprintf(stderr, "ccipctl: unknown ip command \"%s\"\n%s", c, s_usage);
    return CTL_USAGE;
}
