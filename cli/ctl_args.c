/* ctl_args: the command table's parser, usage printer and dispatch (see
 * ctl_args.h). */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "ctl.h"

/* One value given on the command line. */
typedef struct {
    int arg;     /* index in the command's args */
    char *text;  /* as typed (points into argv) */
    int64_t num; /* converted: number, fen, microseconds, enum value; a flag 1 */
    int at;      /* its place on the command line, from 1 */
} s_value;

/* Memory handed out by ctl_alloc, freed with the arguments. */
typedef struct s_block {
    struct s_block *next;
    max_align_t data[]; /* the memory given out */
} s_block;

struct ctl_args {
    const ctl_service *svc; /* the service and command parsed for */
    const ctl_command *cmd;
    s_value *values; /* the values given, in command-line order */
    int nvalues;
    s_block *blocks; /* what ctl_alloc gave out */
};

static void s_usage(FILE *f, const ctl_service *svc, const ctl_command *cmd);

/* ccipctl is a program, not a library: a command that cannot get memory
 * for its own arguments ends here, saying so. */
static void s_out_of_memory(void)
{
    fprintf(stderr, "ccipctl: out of memory\n");
    exit(CTL_LOCAL);
}

static void *s_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        s_out_of_memory();
    return p;
}

/* ---- values ------------------------------------------------------------------------- */

int ctl_wrong(const char *what, const char *must, const char *text)
{
    fprintf(stderr, "ccipctl: %s must be %s, got \"%s\"\n", what, must, text);
    return -1;
}

int ctl_parse_int(const char *what, const char *text, int64_t min, int64_t max, int64_t *out)
{
    char *end, must[80];
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!errno && end != text && !*end && v >= min && v <= max) {
        *out = v;
        return 0;
    }
    snprintf(must, sizeof must, "a whole number from %" PRId64 " to %" PRId64, min, max);
    return ctl_wrong(what, must, text);
}

int ctl_parse_yuan(const char *what, const char *text, int64_t *fen)
{
    if (ccip_fen_parse(text, fen) == 0)
        return 0;
    return ctl_wrong(
        what, "an amount in yuan with at most two decimals, such as 1500000 or 1500000.50", text);
}

int ctl_parse_time(const char *what, const char *text, int64_t *us)
{
    char buf[40];
    const char *t = text;
    if (strlen(text) == 10 && text[4] == '-' && text[7] == '-') {
        snprintf(buf, sizeof buf, "%sT00:00:00Z", text);
        t = buf;
    }
    if (ccip_time_parse_us(t, us) == 0)
        return 0;
    return ctl_wrong(what,
                     "a time such as 2027-03-01T09:00:00+08:00, 2027-03-01T01:00:00Z or a date "
                     "2027-03-01 (UTC midnight)",
                     text);
}

int ctl_parse_enum(const char *what, const ProtobufCEnumDescriptor *d, const char *prefix,
                   const char *text, int *out)
{
    /* Longer than any name, so a cut text matches nothing. */
    char name[128], prefixed[160];
    size_t n = 0;
    for (const char *p = text; *p && n + 1 < sizeof name; p++)
        name[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    name[n] = '\0';
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value_by_name(d, name);
    if (!ev && prefix) {
        snprintf(prefixed, sizeof prefixed, "%s%s", prefix, name);
        ev = protobuf_c_enum_descriptor_get_value_by_name(d, prefixed);
    }
    if (ev && ev->value != 0) {
        *out = ev->value;
        return 0;
    }
    char must[512] = "one of";
    for (unsigned k = 0; k < d->n_values; k++) {
        size_t used = strlen(must);
        if (d->values[k].value != 0)
            snprintf(must + used, sizeof must - used, " %s", d->values[k].name);
    }
    return ctl_wrong(what, must, text);
}

/* Converts one value of arg. Returns 0, or -1 after printing why. */
static int s_convert(const ctl_arg *arg, const char *text, int64_t *num)
{
    char what[80];
    snprintf(what, sizeof what, "%s%s", arg->flags & (CTL_ARG | CTL_ARG_OPTIONAL) ? "" : "--",
             arg->name);
    int e;
    switch (arg->type) {
    case CTL_T_INT:
        return ctl_parse_int(what, text, arg->min, arg->max, num);
    case CTL_T_YUAN:
        return ctl_parse_yuan(what, text, num);
    case CTL_T_TIME:
        return ctl_parse_time(what, text, num);
    case CTL_T_ENUM:
        if (ctl_parse_enum(what, arg->enums, arg->prefix, text, &e) < 0)
            return -1;
        *num = e;
        return 0;
    case CTL_T_FLAG:
        *num = 1;
        return 0;
    case CTL_T_STRING:
    case CTL_T_LIST:
        return 0;
    }
    return 0;
}

/* ---- parsing --------------------------------------------------------------------------- */

static int s_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

static int s_is_positional(const ctl_arg *arg)
{
    return (arg->flags & (CTL_ARG | CTL_ARG_OPTIONAL)) != 0;
}

/* The index of the n-th positional argument of cmd, or -1. */
static int s_positional(const ctl_command *cmd, int n)
{
    for (int k = 0; cmd->args && cmd->args[k].name; k++)
        if (s_is_positional(&cmd->args[k]) && n-- == 0)
            return k;
    return -1;
}

/* The index of option --name (len characters of it), or -1. */
static int s_option(const ctl_command *cmd, const char *name, size_t len)
{
    for (int k = 0; cmd->args && cmd->args[k].name; k++)
        if (!s_is_positional(&cmd->args[k]) && strlen(cmd->args[k].name) == len &&
            strncmp(cmd->args[k].name, name, len) == 0)
            return k;
    return -1;
}

/* Says what is wrong with the command line, then how it is called.
 * Returns NULL with *code CTL_USAGE, freeing a. */
static ctl_args *s_reject(ctl_args *a, int *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ctl_args *s_reject(ctl_args *a, int *code, const char *fmt, ...)
{
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        fputs("ccipctl: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    s_usage(stderr, a->svc, a->cmd);
    ctl_args_destroy(&a);
    *code = CTL_USAGE;
    return NULL;
}

/* Keeps value text of argument k given at place `at`; converts it.
 * Returns 0, or -1 after printing why. */
static int s_keep(ctl_args *a, int k, char *text, int at)
{
    s_value *v = &a->values[a->nvalues];
    *v = (s_value){.arg = k, .text = text, .at = at};
    if (s_convert(&a->cmd->args[k], text, &v->num) < 0)
        return -1;
    a->nvalues++;
    return 0;
}

ctl_args *ctl_args_parse(const ctl_service *svc, const ctl_command *cmd, int argc, char **argv,
                         int *code)
{
    ctl_args *a = s_calloc(1, sizeof *a);
    a->svc = svc;
    a->cmd = cmd;
    a->values = s_calloc((size_t)argc + 1, sizeof *a->values);
    int npos = 0, options_end = 0;
    for (int i = 0; i < argc; i++) {
        char *arg = argv[i];
        if (!options_end && s_is_help(arg)) {
            s_usage(stdout, svc, cmd);
            ctl_args_destroy(&a);
            *code = CTL_OK;
            return NULL;
        }
        if (!options_end && strcmp(arg, "--") == 0) {
            options_end = 1;
            continue;
        }
        if (options_end || strncmp(arg, "--", 2) != 0) {
            int k = s_positional(cmd, npos++);
            if (k < 0)
                return s_reject(a, code, "unexpected argument \"%s\"", arg);
            if (s_keep(a, k, arg, i + 1) < 0)
                return s_reject(a, code, NULL);
            continue;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int k = s_option(cmd, name, len);
        if (k < 0)
            return s_reject(a, code, "unknown option --%.*s", (int)len, name);
        char *value;
        if (cmd->args[k].type == CTL_T_FLAG) {
            if (eq)
                return s_reject(a, code, "option --%s takes no value", cmd->args[k].name);
            value = "";
        } else if (eq) {
            value = (char *)eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return s_reject(a, code, "option --%s needs a value", cmd->args[k].name);
        }
        if (s_keep(a, k, value, i + 1) < 0)
            return s_reject(a, code, NULL);
    }
    for (int k = 0; cmd->args && cmd->args[k].name; k++) {
        const ctl_arg *arg = &cmd->args[k];
        if ((arg->flags & CTL_ARG) && !ctl_given(a, arg->name))
            return s_reject(a, code, "missing argument %s", arg->name);
        if ((arg->flags & CTL_REQUIRED) && !ctl_given(a, arg->name))
            return s_reject(a, code, "--%s is required", arg->name);
    }
    *code = CTL_OK;
    return a;
}

void ctl_args_destroy(ctl_args **a)
{
    if (!a || !*a)
        return;
    for (s_block *b = (*a)->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free((*a)->values);
    free(*a);
    *a = NULL;
}

const ctl_command *ctl_args_command(const ctl_args *a)
{
    return a->cmd;
}

const ctl_service *ctl_args_service(const ctl_args *a)
{
    return a->svc;
}

/* ---- reading the arguments ----------------------------------------------------------- */

static int s_find(const ctl_args *a, const char *name)
{
    for (int k = 0; a->cmd->args && a->cmd->args[k].name; k++)
        if (strcmp(a->cmd->args[k].name, name) == 0)
            return k;
    return -1;
}

/* The index of argument `name`; the command must have it. */
static int s_arg(const ctl_args *a, const char *name)
{
    int k = s_find(a, name);
    assert(k >= 0 && "the command's table has no argument of this name");
    return k;
}

/* Value i of argument name (-1: the last), or NULL. */
static const s_value *s_value_of(const ctl_args *a, const char *name, int i)
{
    int k = s_arg(a, name), seen = 0;
    const s_value *last = NULL;
    for (int v = 0; v < a->nvalues; v++) {
        if (a->values[v].arg != k)
            continue;
        if (seen++ == i)
            return &a->values[v];
        last = &a->values[v];
    }
    return i < 0 ? last : NULL;
}

int ctl_declares(const ctl_args *a, const char *name)
{
    return s_find(a, name) >= 0;
}

int ctl_given(const ctl_args *a, const char *name)
{
    int k = s_arg(a, name), n = 0;
    for (int v = 0; v < a->nvalues; v++)
        n += a->values[v].arg == k;
    return n;
}

char *ctl_str_or(const ctl_args *a, const char *name, const char *def)
{
    const s_value *v = s_value_of(a, name, -1);
    return v ? v->text : (char *)def;
}

char *ctl_str(const ctl_args *a, const char *name)
{
    return ctl_str_or(a, name, "");
}

int64_t ctl_int(const ctl_args *a, const char *name)
{
    const s_value *v = s_value_of(a, name, -1);
    return v ? v->num : 0;
}

char *ctl_str_at(const ctl_args *a, const char *name, int i)
{
    const s_value *v = s_value_of(a, name, i);
    assert(v && "ctl_str_at past the values given");
    return v->text;
}

int ctl_last(const ctl_args *a, const char *name)
{
    const s_value *v = s_value_of(a, name, -1);
    return v ? v->at : 0;
}

void *ctl_alloc(ctl_args *a, size_t n)
{
    s_block *b = s_calloc(1, sizeof *b + n);
    b->next = a->blocks;
    a->blocks = b;
    return b->data;
}

void *ctl_messages(ctl_args *a, const ProtobufCMessageDescriptor *d, size_t n)
{
    ProtobufCMessage **ptrs = ctl_alloc(a, n * sizeof *ptrs);
    char *store = ctl_alloc(a, n * d->sizeof_message);
    for (size_t i = 0; i < n; i++) {
        ptrs[i] = (ProtobufCMessage *)(store + i * d->sizeof_message);
        protobuf_c_message_init(d, ptrs[i]);
    }
    return ptrs;
}

char **ctl_split(ctl_args *a, const char *text, char sep, size_t max, size_t *n)
{
    size_t len = strlen(text);
    char *copy = ctl_alloc(a, len + 1);
    memcpy(copy, text, len + 1);
    char **parts = ctl_alloc(a, (len / 2 + 2) * sizeof *parts);
    *n = 0;
    for (char *p = copy; *p && *n < max;) {
        char *end = strchr(p, sep);
        if (end)
            *end = '\0';
        if (*p)
            parts[(*n)++] = p;
        if (!end)
            break;
        p = end + 1;
    }
    return parts;
}

char *ctl_cut(ctl_args *a, const char *text, char sep, int last, char **rest)
{
    size_t len = strlen(text);
    char *copy = ctl_alloc(a, len + 1);
    memcpy(copy, text, len + 1);
    char *at = last ? strrchr(copy, sep) : strchr(copy, sep);
    *rest = NULL;
    if (at) {
        *at = '\0';
        *rest = at + 1;
    }
    return copy;
}

uint8_t *ctl_read_file(ctl_args *a, const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ccipctl: could not read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    /* Read in chunks, not by its size: a pipe has none. */
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        s_out_of_memory();
    for (size_t got = 1; got > 0 && n <= max;) {
        if (n == cap) {
            uint8_t *more = realloc(buf, cap * 2);
            if (!more)
                s_out_of_memory();
            buf = more;
            cap *= 2;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad || n > max) {
        if (bad)
            fprintf(stderr, "ccipctl: could not read %s\n", path);
        else
            fprintf(stderr, "ccipctl: %s is larger than the %zu bytes this command takes\n", path,
                    max);
        free(buf);
        return NULL;
    }
    uint8_t *kept = ctl_alloc(a, n + 1);
    memcpy(kept, buf, n);
    free(buf);
    *len = n;
    return kept;
}

int ctl_write_file(const char *path, const void *data, size_t len)
{
    int to_stdout = strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(path, "wb");
    int bad = !f || fwrite(data, 1, len, f) != len;
    if (f && !to_stdout && fclose(f) != 0)
        bad = 1;
    if (bad)
        fprintf(stderr, "ccipctl: could not write %s: %s\n", path, strerror(errno));
    return bad ? -1 : 0;
}

/* ---- filling a request ------------------------------------------------------------- */

static int s_is_integer(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 1;
    default:
        return 0;
    }
}

/* Whether arg's values fit field fd (see CTL_STR ...). */
static int s_fits(const ctl_arg *arg, const ProtobufCFieldDescriptor *fd)
{
    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return 0; /* would need its case set too */
    if ((fd->label == PROTOBUF_C_LABEL_REPEATED) !=
        ((arg->flags & CTL_REPEATED) || arg->type == CTL_T_LIST))
        return 0;
    switch (arg->type) {
    case CTL_T_STRING:
        return fd->type == PROTOBUF_C_TYPE_STRING;
    case CTL_T_INT:
    case CTL_T_YUAN:
    case CTL_T_TIME:
        return s_is_integer(fd->type);
    case CTL_T_ENUM:
        return fd->type == PROTOBUF_C_TYPE_ENUM && fd->descriptor == arg->enums;
    case CTL_T_FLAG:
        return fd->type == PROTOBUF_C_TYPE_BOOL;
    case CTL_T_LIST:
        return fd->type == PROTOBUF_C_TYPE_STRING;
    }
    return 0;
}

/* Stores value v into the field value at p. */
static void s_store(const ProtobufCFieldDescriptor *fd, const s_value *v, void *p)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING:
        *(char **)p = v->text;
        break;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)p = 1;
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(int64_t *)p = v->num; /* the parser kept it in range */
        break;
    default: /* 32-bit integers and enums */
        *(int32_t *)p = (int32_t)v->num;
        break;
    }
}

/* The field a path ("details.uscc": a field of a message field) names in
 * messages of type d, or NULL. With m (a message of type d), *m becomes the
 * message holding the field, its message fields on the way made (in a's
 * memory) when not set yet. */
static const ProtobufCFieldDescriptor *s_field(ctl_args *a, const ProtobufCMessageDescriptor *d,
                                               const char *path, ProtobufCMessage **m)
{
    for (;;) {
        char name[64];
        size_t len = strcspn(path, ".");
        if (len >= sizeof name)
            return NULL;
        memcpy(name, path, len);
        name[len] = '\0';
        const ProtobufCFieldDescriptor *fd =
            protobuf_c_message_descriptor_get_field_by_name(d, name);
        if (!fd || !path[len])
            return fd;
        if (fd->type != PROTOBUF_C_TYPE_MESSAGE || fd->label == PROTOBUF_C_LABEL_REPEATED ||
            (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            return NULL; /* a path goes through plain message fields only */
        d = fd->descriptor;
        path += len + 1;
        if (!m)
            continue;
        ProtobufCMessage **sub = (ProtobufCMessage **)((char *)*m + fd->offset);
        if (!*sub) {
            *sub = ctl_alloc(a, d->sizeof_message);
            protobuf_c_message_init(d, *sub);
        }
        *m = *sub;
    }
}

void ctl_fill(ctl_args *a, ProtobufCMessage *rq)
{
    assert(rq->descriptor == a->cmd->request && "the request of another command");
    for (int k = 0; a->cmd->args && a->cmd->args[k].name; k++) {
        const ctl_arg *arg = &a->cmd->args[k];
        int n = arg->field ? ctl_given(a, arg->name) : 0;
        if (!n)
            continue;
        ProtobufCMessage *m = rq;
        const ProtobufCFieldDescriptor *fd = s_field(a, rq->descriptor, arg->field, &m);
        char *member = (char *)m + fd->offset;
        if (arg->type == CTL_T_LIST) {
            size_t parts;
            *(char ***)member = ctl_split(a, ctl_str(a, arg->name), ',', SIZE_MAX, &parts);
            *(size_t *)((char *)m + fd->quantifier_offset) = parts;
            continue;
        }
        if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
            s_store(fd, s_value_of(a, arg->name, -1), member);
            continue;
        }
        size_t size = ctl_field_size(fd);
        char *array = ctl_alloc(a, (size_t)n * size);
        for (int i = 0; i < n; i++)
            s_store(fd, s_value_of(a, arg->name, i), array + (size_t)i * size);
        *(size_t *)((char *)m + fd->quantifier_offset) = (size_t)n;
        *(char **)member = array;
    }
}

/* Checks svc's table (see ctl_service_run). */
static void s_check(const ctl_service *svc)
{
    for (size_t i = 0; i < svc->ncommands; i++) {
        const ctl_command *cmd = &svc->commands[i];
        assert(cmd->run || (cmd->type && cmd->request && cmd->reply && cmd->print));
        for (int k = 0; cmd->args && cmd->args[k].name; k++) {
            const ctl_arg *arg = &cmd->args[k];
            if (!arg->field)
                continue;
            const ProtobufCFieldDescriptor *fd =
                cmd->request ? s_field(NULL, cmd->request, arg->field, NULL) : NULL;
            if (!fd || !s_fits(arg, fd)) {
                fprintf(stderr, "ccipctl: %s %s: argument %s cannot fill field %s\n", svc->name,
                        cmd->words, arg->name, arg->field);
                assert(!"a table line names a field its request has not, or of another type");
            }
        }
    }
}

/* ---- usage and dispatch ----------------------------------------------------------------- */

/* The length of a command's first word. */
static size_t s_group_len(const ctl_command *cmd)
{
    return strcspn(cmd->words, " ");
}

static int s_in_group(const ctl_command *cmd, const char *group)
{
    size_t n = s_group_len(cmd);
    return strlen(group) == n && strncmp(cmd->words, group, n) == 0;
}

/* Prints " synopsis" (no space before one that starts on a new line). */
static void s_synopsis(FILE *f, const char *synopsis)
{
    if (synopsis && synopsis[0])
        fprintf(f, "%s%s", synopsis[0] == '\n' ? "" : " ", synopsis);
}

/* Prints a command's usage line and its `about` lines. */
static void s_usage(FILE *f, const ctl_service *svc, const ctl_command *cmd)
{
    fprintf(f, "usage: ccipctl %s%s%s %s", cmd->who ? cmd->who : "", cmd->who ? " " : "", svc->name,
            cmd->words);
    s_synopsis(f, cmd->synopsis);
    fputc('\n', f);
    if (cmd->about)
        fputs(cmd->about, f);
}

/* Prints the overview of svc, or of its commands whose first word is
 * group (when not NULL). */
static void s_overview(FILE *f, const ctl_service *svc, const char *group)
{
    fputs(svc->header, f);
    for (size_t i = 0; svc->list_prefix && i < svc->ncommands; i++) {
        const ctl_command *cmd = &svc->commands[i];
        if (group && !s_in_group(cmd, group))
            continue;
        fputs(svc->list_prefix, f);
        if (svc->group_width) {
            size_t n = s_group_len(cmd);
            const char *verb = cmd->words[n] ? cmd->words + n + 1 : "";
            fprintf(f, "%-*.*s %-*s %s\n", svc->group_width, (int)n, cmd->words, svc->verb_width,
                    verb, cmd->summary ? cmd->summary : "");
        } else {
            fputs(cmd->words, f);
            s_synopsis(f, cmd->synopsis);
            fputc('\n', f);
        }
    }
    if (svc->footer)
        fputs(svc->footer, f);
}

/* The command called `words` (one word, or group and verb), or NULL. */
static const ctl_command *s_command(const ctl_service *svc, const char *group, const char *verb)
{
    for (size_t i = 0; i < svc->ncommands; i++) {
        const ctl_command *cmd = &svc->commands[i];
        if (!s_in_group(cmd, group))
            continue;
        const char *rest = cmd->words + s_group_len(cmd);
        if (verb ? rest[0] && strcmp(rest + 1, verb) == 0 : !rest[0])
            return cmd;
    }
    return NULL;
}

static int s_has_group(const ctl_service *svc, const char *group)
{
    for (size_t i = 0; i < svc->ncommands; i++)
        if (s_in_group(&svc->commands[i], group))
            return 1;
    return 0;
}

int ctl_send_table(ctl_opts *o, ctl_args *a)
{
    ProtobufCMessage *rq = ctl_alloc(a, a->cmd->request->sizeof_message);
    protobuf_c_message_init(a->cmd->request, rq);
    return ctl_send(o, a, rq);
}

int ctl_service_run(ctl_opts *o, const ctl_service *svc, int argc, char **argv)
{
    s_check(svc);
    if (argc < 2 || s_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
        s_overview(argc < 2 ? stderr : stdout, svc, NULL);
        return argc < 2 ? CTL_USAGE : CTL_OK;
    }
    const char *group = argv[1];
    const ctl_command *cmd = s_command(svc, group, NULL);
    int words = 1;
    if (!cmd && !s_has_group(svc, group)) {
        fprintf(stderr, "ccipctl: unknown command \"%s %s\"\n", svc->name, group);
        s_overview(stderr, svc, NULL);
        return CTL_USAGE;
    }
    if (!cmd) {
        if (argc < 3 || s_is_help(argv[2])) {
            s_overview(argc < 3 ? stderr : stdout, svc, group);
            return argc < 3 ? CTL_USAGE : CTL_OK;
        }
        if (!(cmd = s_command(svc, group, argv[2]))) {
            fprintf(stderr, "ccipctl: unknown command \"%s %s %s\"\n", svc->name, group, argv[2]);
            s_overview(stderr, svc, group);
            return CTL_USAGE;
        }
        words = 2;
    }
    int code;
    ctl_args *a = ctl_args_parse(svc, cmd, argc - 1 - words, argv + 1 + words, &code);
    if (!a)
        return code;
    code = cmd->run ? cmd->run(o, a) : ctl_send_table(o, a);
    /* The command said what was wrong; how it is called follows. */
    if (code == CTL_USAGE)
        s_usage(stderr, svc, cmd);
    ctl_args_destroy(&a);
    return code;
}
