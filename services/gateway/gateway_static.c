#include "gateway_static.h"

#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MAX_DEPTH     8   /* folders below web_dir */
#define MAX_NAME      255 /* longest relative path served */
#define ETAG_HEX      32  /* hex digits of a file's SHA-256 in its ETag */
#define INDEX_NAME    "index.html"
#define CACHE_INDEX   "no-cache"
#define CACHE_ASSET   "public, max-age=31536000, immutable"
#define NOT_FOUND_MSG "this version of the console is no longer served: reload the page\n"

/* One file as served. */
typedef struct {
    char *name;              /* relative path, "js/app.js" */
    const char *type;        /* content type, static */
    uint8_t *body;           /* the content (for index.html: with the token replaced) */
    size_t len;              /* its length */
    char etag[ETAG_HEX + 3]; /* "\"<hex>\"" */
} s_file;

struct gateway_static {
    s_file *files; /* sorted by name */
    size_t nfiles;
    size_t total; /* bytes read */
    char version[GATEWAY_STATIC_VERSION_LEN + 1];
    char prefix[sizeof GATEWAY_STATIC_PREFIX + GATEWAY_STATIC_VERSION_LEN + 1]; /* "/static/<v>/" */
    const s_file *index;
};

/* ---- content types ------------------------------------------------------------ */

static const struct {
    const char *ext;
    const char *type;
} s_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"ico", "image/x-icon"},
    {"txt", "text/plain; charset=utf-8"},
    {"woff2", "font/woff2"},
};

static const char *s_type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    if (!dot || (slash && dot < slash))
        return NULL;
    for (size_t i = 0; i < sizeof s_types / sizeof s_types[0]; i++)
        if (strcasecmp(dot + 1, s_types[i].ext) == 0)
            return s_types[i].type;
    return NULL;
}

/* ---- reading the directory ----------------------------------------------------- */

typedef struct {
    gateway_static *st;
    size_t cap;
    const char *root;
    char *err;
    size_t errlen;
} s_loader;

static void s_hex(const uint8_t *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void s_set_etag(s_file *f)
{
    uint8_t h[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    crypto_hash_sha256(h, f->body, f->len);
    s_hex(h, sizeof h, hex);
    snprintf(f->etag, sizeof f->etag, "\"%.*s\"", ETAG_HEX, hex);
}

/* A name fit for a URL path as it stands: letters, digits, '.', '_', '-';
 * (the folders' '/' are added by the walk). */
static int s_name_ok(const char *n)
{
    if (!n[0] || n[0] == '.')
        return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

static int s_read_file(s_loader *l, const char *path, const char *rel, off_t size)
{
    gateway_static *st = l->st;
    const char *type = s_type_of(rel);
    if (!type) {
        snprintf(l->err, l->errlen,
                 "%s: no content type is known for this extension (the console serves html, "
                 "css, js, mjs, json, svg, png, ico, txt and woff2); remove it or rename it",
                 path);
        return -1;
    }
    if (st->nfiles == GATEWAY_STATIC_MAX_FILES) {
        snprintf(l->err, l->errlen, "%s: more than %d files to serve", l->root,
                 GATEWAY_STATIC_MAX_FILES);
        return -1;
    }
    if (size < 0 || (size_t)size > GATEWAY_STATIC_MAX_BYTES - st->total) {
        snprintf(l->err, l->errlen, "%s: the console's files exceed %d bytes together", path,
                 GATEWAY_STATIC_MAX_BYTES);
        return -1;
    }
    if (st->nfiles == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        s_file *grown = realloc(st->files, cap * sizeof *grown);
        if (!grown) {
            snprintf(l->err, l->errlen, "out of memory");
            return -1;
        }
        st->files = grown;
        l->cap = cap;
    }
    s_file *f = &st->files[st->nfiles];
    memset(f, 0, sizeof *f);
    f->type = type;
    f->name = strdup(rel);
    f->body = malloc(size ? (size_t)size : 1);
    FILE *in = fopen(path, "rb");
    size_t got = in && f->body ? fread(f->body, 1, (size_t)size, in) : 0;
    /* The file must be as long as it was when listed: one more byte means
     * it grew while being read. */
    int extra = in ? fgetc(in) : EOF;
    int rerr = in ? ferror(in) : 1;
    if (in)
        fclose(in);
    if (!f->name || !f->body || got != (size_t)size || extra != EOF || rerr) {
        snprintf(l->err, l->errlen, "could not read %s: %s", path,
                 !f->name || !f->body ? "out of memory"
                 : !in                ? strerror(errno)
                                      : "it changed while being read");
        free(f->name);
        free(f->body);
        return -1;
    }
    f->len = (size_t)size;
    st->total += f->len;
    st->nfiles++;
    return 0;
}

static int s_walk(s_loader *l, const char *dir, const char *rel, int depth)
{
    if (depth > MAX_DEPTH) {
        snprintf(l->err, l->errlen, "%s: folders nested deeper than %d", dir, MAX_DEPTH);
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(l->err, l->errlen, "could not read the console's folder %s: %s", dir,
                 strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue; /* ".", "..", dotfiles */
        char path[4096], name[MAX_NAME + 2];
        int pn = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (pn < 0 || (size_t)pn >= sizeof path) {
            snprintf(l->err, l->errlen, "%s/%.64s...: the path is longer than %zu bytes", dir,
                     e->d_name, sizeof path - 1);
            rc = -1;
            break;
        }
        int n = snprintf(name, sizeof name, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        if (!s_name_ok(e->d_name) || n > MAX_NAME) {
            snprintf(l->err, l->errlen,
                     "%s: a served name may only hold letters, digits, '.', '_' and '-' and be "
                     "at most %d characters with its folders; rename it",
                     path, MAX_NAME);
            rc = -1;
            break;
        }
        struct stat sb;
        if (lstat(path, &sb) != 0) {
            snprintf(l->err, l->errlen, "could not read %s: %s", path, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(sb.st_mode)) {
            rc = s_walk(l, path, name, depth + 1);
        } else if (S_ISREG(sb.st_mode)) {
            rc = s_read_file(l, path, name, sb.st_size);
        } else {
            /* A link could lead anywhere; the console is plain files. */
            snprintf(l->err, l->errlen,
                     "%s is a %s; the console serves regular files only (copy it instead)", path,
                     S_ISLNK(sb.st_mode) ? "symbolic link" : "special file");
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

static int s_by_name(const void *a, const void *b)
{
    return strcmp(((const s_file *)a)->name, ((const s_file *)b)->name);
}

/* Replaces every GATEWAY_STATIC_TOKEN of the index by "/static/<version>". */
static int s_template_index(gateway_static *st, s_file *f)
{
    const size_t tl = strlen(GATEWAY_STATIC_TOKEN);
    char with[sizeof GATEWAY_STATIC_PREFIX + GATEWAY_STATIC_VERSION_LEN];
    size_t wl = (size_t)snprintf(with, sizeof with, "%s%s", GATEWAY_STATIC_PREFIX, st->version);
    size_t count = 0;
    for (size_t i = 0; i + tl <= f->len; i++)
        if (memcmp(f->body + i, GATEWAY_STATIC_TOKEN, tl) == 0) {
            count++;
            i += tl - 1;
        }
    uint8_t *out = malloc(f->len + count * wl + 1);
    if (!out)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < f->len;) {
        if (i + tl <= f->len && memcmp(f->body + i, GATEWAY_STATIC_TOKEN, tl) == 0) {
            memcpy(out + o, with, wl);
            o += wl;
            i += tl;
        } else {
            out[o++] = f->body[i++];
        }
    }
    free(f->body);
    f->body = out;
    f->len = o;
    return 0;
}

gateway_static *gateway_static_new(const char *dir, char *err, size_t errlen)
{
    gateway_static *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium could not start");
        goto fail;
    }
    s_loader l = {.st = st, .root = dir, .err = err, .errlen = errlen};
    if (s_walk(&l, dir, "", 0) < 0)
        goto fail;
    qsort(st->files, st->nfiles, sizeof *st->files, s_by_name);
    /* The version: every file's name and content, in name order. */
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    for (size_t i = 0; i < st->nfiles; i++) {
        const s_file *f = &st->files[i];
        uint8_t len[8];
        for (int k = 0; k < 8; k++)
            len[k] = (uint8_t)((uint64_t)f->len >> (8 * k));
        crypto_hash_sha256_update(&h, (const uint8_t *)f->name, strlen(f->name) + 1);
        crypto_hash_sha256_update(&h, len, sizeof len);
        crypto_hash_sha256_update(&h, f->body, f->len);
        if (strcmp(f->name, INDEX_NAME) == 0)
            st->index = f;
    }
    uint8_t digest[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    crypto_hash_sha256_final(&h, digest);
    s_hex(digest, sizeof digest, hex);
    snprintf(st->version, sizeof st->version, "%.*s", GATEWAY_STATIC_VERSION_LEN, hex);
    snprintf(st->prefix, sizeof st->prefix, "%s%s/", GATEWAY_STATIC_PREFIX, st->version);
    if (!st->index) {
        snprintf(err, errlen, "%s has no %s: is gateway.web_dir the console's folder (web/)?", dir,
                 INDEX_NAME);
        goto fail;
    }
    if (s_template_index(st, (s_file *)st->index) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < st->nfiles; i++)
        s_set_etag(&st->files[i]);
    return st;
fail:
    gateway_static_destroy(&st);
    return NULL;
}

void gateway_static_destroy(gateway_static **st)
{
    if (!st || !*st)
        return;
    for (size_t i = 0; i < (*st)->nfiles; i++) {
        free((*st)->files[i].name);
        free((*st)->files[i].body);
    }
    free((*st)->files);
    free(*st);
    *st = NULL;
}

const char *gateway_static_version(const gateway_static *st)
{
    return st ? st->version : "";
}

size_t gateway_static_count(const gateway_static *st)
{
    return st ? st->nfiles : 0;
}

/* ---- answering ------------------------------------------------------------------ */

/* RFC 9110 13.1.2: If-None-Match is "*" or a list of entity tags, compared
 * weakly (a W/ prefix does not matter). */
static int s_etag_matches(const char *header, const char *etag)
{
    size_t el = strlen(etag);
    const char *p = header;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (*p != '"')
            return 0; /* malformed: never a match */
        const char *close = strchr(p + 1, '"');
        if (!close)
            return 0;
        if ((size_t)(close - p + 1) == el && memcmp(p, etag, el) == 0)
            return 1;
        p = close + 1;
    }
    return 0;
}

static const s_file *s_lookup(const gateway_static *st, const char *name)
{
    size_t lo = 0, hi = st->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, st->files[mid].name);
        if (c == 0)
            return &st->files[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

int gateway_static_find(const gateway_static *st, const char *method, const char *path,
                        const char *if_none_match, gateway_static_reply *out)
{
    if (!st || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0))
        return 0;
    const s_file *f = NULL;
    const char *cache = CACHE_ASSET;
    if (strcmp(path, "/") == 0) {
        f = st->index;
        cache = CACHE_INDEX;
    } else if (strncmp(path, GATEWAY_STATIC_PREFIX, strlen(GATEWAY_STATIC_PREFIX)) == 0) {
        /* Only an exact name of the table matches: "..", "//" or an
         * encoded character simply names no file. */
        if (strncmp(path, st->prefix, strlen(st->prefix)) == 0)
            f = s_lookup(st, path + strlen(st->prefix));
    } else {
        return 0;
    }
    memset(out, 0, sizeof *out);
    if (!f) {
        out->status = 404;
        out->content_type = "text/plain; charset=utf-8";
        out->cache_control = CACHE_INDEX;
        out->body = (const uint8_t *)NOT_FOUND_MSG;
        out->len = strlen(NOT_FOUND_MSG);
        return 1;
    }
    out->content_type = f->type;
    out->cache_control = cache;
    out->etag = f->etag;
    if (if_none_match && s_etag_matches(if_none_match, f->etag)) {
        out->status = 304;
        return 1;
    }
    out->status = 200;
    out->body = f->body;
    out->len = f->len;
    return 1;
}

/* ---- the gateway's set ------------------------------------------------------------ */

static gateway_static *s_installed;

int gateway_static_install(const char *dir, char *err, size_t errlen)
{
    gateway_static *st = NULL;
    if (dir && dir[0] && !(st = gateway_static_new(dir, err, errlen)))
        return -1;
    gateway_static_destroy(&s_installed);
    s_installed = st;
    return 0;
}

int gateway_static_answer(void *conn_, const char *method, const char *url, int *queued)
{
    struct MHD_Connection *conn = conn_;
    if (!s_installed)
        return 0;
    /* No console path takes a body: leave such a request to the API (which
     * refuses it), so that its body is read and answered as usual. */
    if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return 0;
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strcmp(cl, "0") != 0)
        return 0;
    gateway_static_reply r;
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    if (!gateway_static_find(s_installed, method, url, inm, &r))
        return 0;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r.len, (void *)r.body, MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        *queued = MHD_NO;
        return 1;
    }
    if (r.status != 304)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r.cache_control);
    if (r.etag)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r.etag);
    MHD_add_response_header(resp, "Content-Security-Policy", GATEWAY_STATIC_CSP);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
    *queued = MHD_queue_response(conn, r.status, resp);
    MHD_destroy_response(resp);
    return 1;
}
