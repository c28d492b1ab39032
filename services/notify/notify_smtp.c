#include "notify_smtp.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct notify_smtp {
    const notify_config *cfg;
    CURL *curl;
};

/* The message being uploaded. */
typedef struct {
    const char *p;
    size_t left;
} s_upload;

static size_t s_read(char *buf, size_t size, size_t n, void *arg)
{
    s_upload *u = arg;
    size_t take = size * n < u->left ? size * n : u->left;
    memcpy(buf, u->p, take);
    u->p += take;
    u->left -= take;
    return take;
}

notify_smtp *notify_smtp_new(const notify_config *cfg)
{
    notify_smtp *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = cfg;
    if (!(s->curl = curl_easy_init())) {
        free(s);
        return NULL;
    }
    return s;
}

void notify_smtp_destroy(notify_smtp **s)
{
    if (!s || !*s)
        return;
    curl_easy_cleanup((*s)->curl);
    free(*s);
    *s = NULL;
}

notify_outcome notify_smtp_send(notify_smtp *s, const char *to, const char *message, size_t len,
                                char *err, size_t errlen)
{
    const notify_config *cfg = s->cfg;
    CURL *c = s->curl;
    char from[300], rcpt[300], curl_err[CURL_ERROR_SIZE] = "";
    snprintf(from, sizeof from, "<%s>", cfg->mail_from);
    snprintf(rcpt, sizeof rcpt, "<%s>", to);
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    if (!rcpts) {
        snprintf(err, errlen, "out of memory");
        return NOTIFY_TEMPORARY;
    }
    s_upload up = {message, len};
    /* Options are set again for every message: curl_easy_reset would also
     * drop the connection the handle keeps to the relay. */
    curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, s_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg->send_timeout);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
                     (long)(cfg->send_timeout < 10 ? cfg->send_timeout : 10));
    long tls = strcmp(cfg->smtp_tls, "require") == 0 ? (long)CURLUSESSL_ALL
               : strcmp(cfg->smtp_tls, "off") == 0   ? (long)CURLUSESSL_NONE
                                                     : (long)CURLUSESSL_TRY;
    curl_easy_setopt(c, CURLOPT_USE_SSL, tls);
    if (cfg->smtp_ca_file[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, cfg->smtp_ca_file);
    if (cfg->smtp_user[0]) {
        curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp_user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->smtp_password);
    }
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(rcpts);
    if (rc == CURLE_OK) {
        if (errlen)
            err[0] = '\0';
        return NOTIFY_SENT;
    }
    snprintf(err, errlen, "%s%s%s", curl_easy_strerror(rc), curl_err[0] ? ": " : "", curl_err);
    /* A refusal of this message (5xx to MAIL, RCPT or DATA) is final; a 4xx,
     * no connection or a timeout is worth another try. A refused login is a
     * setting to fix, not this message's fault: tried again. */
    if (code >= 500 && code < 600 && rc != CURLE_LOGIN_DENIED) {
        /* The connection is of no use after a refusal mid-transaction. */
        curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 0L);
        return NOTIFY_PERMANENT;
    }
    return NOTIFY_TEMPORARY;
}
