#include "notify_sms.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ANSWER_MAX 300 /* bytes of the gateway's answer kept for err */

struct notify_sms {
    const notify_config *cfg;
    CURL *curl;
};

notify_sms *notify_sms_new(const notify_config *cfg)
{
    notify_sms *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = cfg;
    if (!(s->curl = curl_easy_init())) {
        free(s);
        return NULL;
    }
    return s;
}

void notify_sms_destroy(notify_sms **s)
{
    if (!s || !*s)
        return;
    curl_easy_cleanup((*s)->curl);
    free(*s);
    *s = NULL;
}

/* Appends s percent-encoded (RFC 3986 unreserved characters as they are). */
static void s_escape(const char *s, ccip_text *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            ccip_text_put(out, (const char *)p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            ccip_text_put(out, e, 3);
        }
    }
}

void notify_sms_url(const char *tmpl, const char *mobile, const char *text, const char *id,
                    const char *key, ccip_text *out)
{
    static const char *const names[] = {"{mobile}", "{text}", "{id}", "{key}"};
    const char *vals[] = {mobile, text, id, key};
    for (const char *p = tmpl; *p;) {
        size_t i = 0;
        while (i < 4 && strncmp(p, names[i], strlen(names[i])) != 0)
            i++;
        if (i < 4) {
            s_escape(vals[i], out);
            p += strlen(names[i]);
        } else {
            ccip_text_put(out, p++, 1);
        }
    }
}

/* Appends s as a JSON string. */
static void s_json(const char *s, ccip_text *out)
{
    ccip_text_puts(out, "\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            ccip_text_printf(out, "\\%c", *p);
        else if (*p < 0x20)
            ccip_text_printf(out, "\\u%04x", *p);
        else
            ccip_text_put(out, (const char *)p, 1);
    }
    ccip_text_puts(out, "\"");
}

static size_t s_collect(char *buf, size_t size, size_t n, void *arg)
{
    ccip_text *t = arg;
    if (t->len < S_ANSWER_MAX)
        ccip_text_put(t, buf, size * n < S_ANSWER_MAX - t->len ? size * n : S_ANSWER_MAX - t->len);
    return size * n;
}

notify_outcome notify_sms_send(notify_sms *s, const char *mobile, const char *text, const char *id,
                               char *err, size_t errlen)
{
    const notify_config *cfg = s->cfg;
    CURL *c = s->curl;
    ccip_text url = CCIP_TEXT_INIT, body = CCIP_TEXT_INIT, answer = CCIP_TEXT_INIT;
    char idem[120], auth[300], curl_err[CURL_ERROR_SIZE] = "";
    notify_sms_url(cfg->sms_url, mobile, text, id, cfg->sms_key, &url);
    ccip_text_puts(&body, "{\"mobile\":");
    s_json(mobile, &body);
    ccip_text_puts(&body, ",\"text\":");
    s_json(text, &body);
    ccip_text_puts(&body, ",\"id\":");
    s_json(id, &body);
    ccip_text_puts(&body, "}");
    snprintf(idem, sizeof idem, "Idempotency-Key: %s", id);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", cfg->sms_key);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *h2 = h ? curl_slist_append(h, idem) : NULL;
    struct curl_slist *h3 = h2 && cfg->sms_key[0] ? curl_slist_append(h2, auth) : h2;
    notify_outcome out = NOTIFY_TEMPORARY;
    if (!h3 || url.failed || body.failed) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url.p);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.p);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body.len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h3);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg->send_timeout);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s%s%s", curl_easy_strerror(rc), curl_err[0] ? ": " : "", curl_err);
    } else if (code >= 200 && code < 300) {
        out = NOTIFY_SENT;
        if (errlen)
            err[0] = '\0';
    } else {
        snprintf(err, errlen, "the SMS gateway answered %ld: %s", code, answer.p ? answer.p : "");
        out = code >= 400 && code < 500 && code != 408 && code != 429 ? NOTIFY_PERMANENT
                                                                      : NOTIFY_TEMPORARY;
    }
done:
    curl_slist_free_all(h); /* every append returned the same head */
    ccip_text_release(&url);
    ccip_text_release(&body);
    ccip_text_release(&answer);
    return out;
}
