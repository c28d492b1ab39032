/*
 * gateway_static: the web console's files (services/gateway/web/), served by
 * the gateway from the same origin as the API (issue 16).
 *
 * The files are read ONCE, at start-up, from the directory named by
 * gateway.web_dir, and served from memory. Why a directory read at start-up
 * rather than files embedded at build time: the console has no build step,
 * so a page fixed in web/ is in force after a restart of the gateway without
 * recompiling anything, and an installation may serve a customised copy;
 * reading everything at start-up still gives what embedding would: a request
 * never touches the file system (so no path in a URL can reach a file that
 * was not in the table at start, and a file changed on disk while serving
 * cannot be half-read), a missing or unservable file stops the gateway at
 * start with a sentence instead of failing one person later, and every
 * file's hash is known before the first request.
 *
 * What is served:
 *   GET /                      index.html, every `{{static}}` in it replaced
 *                              by the versioned prefix; Cache-Control: no-cache
 *                              (revalidated every time: it names the version)
 *   GET /static/<version>/<p>  the file <p> of the directory; the version is
 *                              the first 12 hex digits of a SHA-256 over every
 *                              file's name and content, so any change of any
 *                              file gives every URL a new name; Cache-Control:
 *                              public, max-age=31536000, immutable. Relative
 *                              module imports (`./api.js`) stay inside the
 *                              version.
 *   GET /static/<other>/...    404: that version is not served any more
 * HEAD as GET without the body. Every answer carries a strong ETag (SHA-256
 * of the body; If-None-Match answers 304), X-Content-Type-Options: nosniff,
 * Referrer-Policy: no-referrer, and the Content-Security-Policy
 * GATEWAY_STATIC_CSP (no inline script or style, nothing from another
 * origin, no framing). Any other path or method is not the console's: the
 * API answers it.
 *
 * Content types come from a fixed table of extensions (html, css, js, mjs,
 * json, svg, png, ico, txt, woff2); a file with any other extension, a
 * symbolic link, a special file, more than GATEWAY_STATIC_MAX_FILES files or
 * GATEWAY_STATIC_MAX_BYTES bytes, or a directory without index.html is
 * refused at start-up. Names beginning with '.' are skipped (editor and VCS
 * files).
 */
#ifndef GATEWAY_STATIC_H
#define GATEWAY_STATIC_H

#include <stddef.h>
#include <stdint.h>

#define GATEWAY_STATIC_MAX_FILES   512
#define GATEWAY_STATIC_MAX_BYTES   (16 * 1024 * 1024) /* all files together */
#define GATEWAY_STATIC_VERSION_LEN 12                 /* hex digits of the version */
#define GATEWAY_STATIC_PREFIX      "/static/"
#define GATEWAY_STATIC_TOKEN       "{{static}}" /* in index.html: "/static/<version>" */
#define GATEWAY_STATIC_CSP                                                                         \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

typedef struct gateway_static gateway_static;

/* Reads every file under dir (see above). Returns the set, or NULL with a
 * sentence in err naming the file and the fix. */
gateway_static *gateway_static_new(const char *dir, char *err, size_t errlen);

/* Frees the set; safe on NULL and twice. */
void gateway_static_destroy(gateway_static **st);

/* The version of the set ("3f9c2a71b0de"), borrowed. */
const char *gateway_static_version(const gateway_static *st);

/* Number of files served (index.html included). */
size_t gateway_static_count(const gateway_static *st);

/* An answer of the console. Every pointer is borrowed from the set. */
typedef struct {
    unsigned status;           /* 200, 304 or 404 */
    const char *content_type;  /* of the body */
    const char *cache_control; /* no-cache for the index, immutable for the rest */
    const char *etag;          /* quoted strong tag; NULL with 404 */
    const uint8_t *body;       /* NULL with 304 */
    size_t len;
} gateway_static_reply;

/* Finds the answer to (method, path) with the request's If-None-Match
 * header (NULL when absent). Returns 1 and fills out when the path is the
 * console's (GET or HEAD of "/" or of anything under GATEWAY_STATIC_PREFIX),
 * 0 when it is not (the API answers it; out untouched). st NULL (no console
 * configured) answers 0 for everything. */
int gateway_static_find(const gateway_static *st, const char *method, const char *path,
                        const char *if_none_match, gateway_static_reply *out);

/* ---- the gateway's one set ------------------------------------------------ */

/* Loads dir as the set the gateway serves, replacing the one before (at
 * start-up, before any request: not thread-safe against
 * gateway_static_answer). dir "" serves no console. Returns 0, or -1 with
 * err (the set before is kept). */
int gateway_static_install(const char *dir, char *err, size_t errlen);

/* The hook in the gateway's request dispatch (gateway_http.c): answers a
 * request of the console on libmicrohttpd connection `conn` (a struct
 * MHD_Connection *, void here so that this header does not need
 * microhttpd.h) and returns 1 with *queued set to what MHD_queue_response
 * returned (an enum MHD_Result); returns 0 when the request is not the
 * console's (or carries a body, which no console path takes), leaving it to
 * the API. */
int gateway_static_answer(void *conn, const char *method, const char *url, int *queued);

#endif
