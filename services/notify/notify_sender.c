#include "notify_sender.h"

#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_id.h"
#include "ccip_log.h"
#include "notify_inbox.h"
#include "notify_message.h"
#include "notify_prefs.h"
#include "notify_sms.h"
#include "notify_smtp.h"

#define S_DB_WAIT_MS   5000 /* reconnecting, per round */
#define S_ERROR_MAX    600  /* the relay's words kept on a delivery */
#define S_DIGEST_LINES 200  /* items a digest lists (it counts them all) */

/* The one sender of the process (a service runs one sender thread). */
static struct {
    const notify_config *cfg;
    const char *conninfo;
    pthread_t thread;
    int running;
    volatile int stop;
} s_sender;

const char *notify_message_id(const char *delivery_id, char *buf, size_t len)
{
    snprintf(buf, len, "<%s@notify.ccip>", delivery_id);
    return buf;
}

/* ---- statements ---------------------------------------------------------------------- */

static const ccip_db_stmt S_DIGEST_LOCK = {
    "notify_digest_lock", "SELECT pg_advisory_xact_lock(hashtext('notify.digest'))"};

/* Every account and channel whose digest time came: one digest delivery,
 * and its items' deliveries DIGESTED with it. */
static const ccip_db_stmt S_DIGEST = {
    "notify_digest_make",
    "WITH g AS (SELECT gen_random_uuid() AS id, account_id, channel, min(login) AS login, "
    "min(address) AS address, min(name) AS name, min(language) AS language, count(*) AS n "
    "FROM delivery WHERE state = 'DIGEST' AND due_at <= now() GROUP BY account_id, channel), "
    "ins AS (INSERT INTO delivery (id, item_id, account_id, login, channel, address, name, "
    "language, state, due_at, digest_items) SELECT g.id, NULL, g.account_id, g.login, g.channel, "
    "g.address, g.name, g.language, 'PENDING', now(), g.n FROM g RETURNING 1), "
    "upd AS (UPDATE delivery d SET state = 'DIGESTED', digest_id = g.id FROM g "
    "WHERE d.account_id = g.account_id AND d.channel = g.channel AND d.state = 'DIGEST' "
    "AND d.due_at <= now() RETURNING 1) "
    "SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM upd)"};

/* Claims due deliveries (and those whose sender's lease ran out). */
static const ccip_db_stmt S_CLAIM = {
    "notify_claim",
    "UPDATE delivery d SET state = 'SENDING', attempts = d.attempts + 1, "
    "lease_until = now() + $2::int * interval '1 second' "
    "FROM (SELECT id FROM delivery WHERE (state = 'PENDING' AND due_at <= now()) "
    "OR (state = 'SENDING' AND lease_until < now()) ORDER BY due_at, id LIMIT $1 "
    "FOR UPDATE SKIP LOCKED) c WHERE d.id = c.id "
    "RETURNING d.id, coalesce(d.item_id::text, ''), d.channel, d.address, d.name, d.language, "
    "d.attempts, " CCIP_SQL_US("d.created_at") ", d.digest_items, "
                                               "(SELECT coalesce(p.quiet_start, -1) FROM "
                                               "preference p WHERE p.account_id = d.account_id), "
                                               "(SELECT coalesce(p.quiet_end, -1) FROM preference "
                                               "p WHERE p.account_id = d.account_id)"};

static const ccip_db_stmt S_ITEM = {
    "notify_sender_item",
    "SELECT kind, subject, detail, coalesce(" CCIP_SQL_US("due") ", 0), object_type, object_id "
                                                                 "FROM item WHERE id = $1::uuid"};

static const ccip_db_stmt S_DIGEST_ITEMS = {
    "notify_sender_digest_items", "SELECT i.kind, i.subject, i.detail, coalesce(" CCIP_SQL_US(
                                      "i.due") ", 0), i.object_type, "
                                               "i.object_id FROM delivery d JOIN item i ON i.id = "
                                               "d.item_id WHERE d.digest_id = $1::uuid "
                                               "ORDER BY i.since, i.id LIMIT $2"};

static const ccip_db_stmt S_SENT = {
    "notify_record_sent",
    "UPDATE delivery SET state = 'SENT', sent_at = now(), lease_until = NULL, error = '' "
    "WHERE id = $1::uuid AND state = 'SENDING'"};

static const ccip_db_stmt S_FAILED = {
    "notify_record_failed", "UPDATE delivery SET state = 'FAILED', lease_until = NULL, error = $2 "
                            "WHERE id = $1::uuid AND state = 'SENDING'"};

/* Again after $2 ms, or FAILED when it has been failing for too long ($3
 * hours since it was made); $4 = 1 when it was not tried (the attempt the
 * claim counted is given back). */
static const ccip_db_stmt S_RETRY = {
    "notify_record_retry",
    "UPDATE delivery SET lease_until = NULL, error = $5, attempts = attempts - $4::int, "
    "state = CASE WHEN created_at < now() - $3::int * interval '1 hour' THEN 'FAILED' "
    "ELSE 'PENDING' END, due_at = now() + $2::bigint * interval '1 millisecond' "
    "WHERE id = $1::uuid AND state = 'SENDING'"};

/* Held for quiet hours until $2 (UTC microseconds), the attempt given back. */
static const ccip_db_stmt S_HOLD = {
    "notify_record_hold",
    "UPDATE delivery SET state = 'PENDING', lease_until = NULL, attempts = attempts - 1, "
    "due_at = 'epoch'::timestamptz + $2::bigint * interval '1 microsecond' "
    "WHERE id = $1::uuid AND state = 'SENDING'"};

/* ---- composing -------------------------------------------------------------------------- */

/* A claimed delivery, as S_CLAIM returned it. */
typedef struct {
    const char *id, *item_id, *channel, *address, *name, *language;
    int attempts;
    int64_t created_us;
    int digest_items;
    int quiet_start, quiet_end;
} s_claim;

/* The values of one item row (S_ITEM's columns) for its templates. */
static void s_item_values(const PGresult *res, int r, char *due, size_t duelen, char *link,
                          size_t linklen, notify_values *v)
{
    char path[256];
    notify_object_path(PQgetvalue(res, r, 4), PQgetvalue(res, r, 5), path, sizeof path);
    snprintf(link, linklen, "%s%s", path[0] ? s_sender.cfg->console_url : "", path);
    v->subject = PQgetvalue(res, r, 1);
    v->detail = PQgetvalue(res, r, 2);
    v->due = notify_beijing_text(ccip_db_cell_i64(res, r, 3), due, duelen);
    v->link = link;
}

/* Renders the title, body and SMS text of claim c. Returns 0, or -1 (the
 * item is gone, or no words: a permanent failure, with why in err), or a
 * ccip_db_rc. */
static int s_compose(ccip_db *db, const s_claim *c, ccip_text *title, ccip_text *body,
                     ccip_text *sms, char *err, size_t errlen)
{
    PGresult *res = NULL;
    char due[32], link[600], count[16], lim[16];
    notify_values v = {.name = c->name};
    const notify_words *w;
    int rc;
    if (c->item_id[0]) {
        const char *p[] = {c->item_id};
        if ((rc = ccip_db_exec(db, &S_ITEM, 1, p, NULL, NULL, &res)) != 0)
            return rc;
        if (PQntuples(res) == 0) {
            PQclear(res);
            snprintf(err, errlen, "its item %s no longer exists", c->item_id);
            return -1;
        }
        w = notify_words_get(PQgetvalue(res, 0, 0), c->language);
        s_item_values(res, 0, due, sizeof due, link, sizeof link, &v);
    } else {
        snprintf(lim, sizeof lim, "%d", S_DIGEST_LINES);
        const char *p[] = {c->id, lim};
        if ((rc = ccip_db_exec(db, &S_DIGEST_ITEMS, 2, p, NULL, NULL, &res)) != 0)
            return rc;
        w = notify_words_get("_digest", c->language);
        ccip_text list = CCIP_TEXT_INIT;
        for (int r = 0; r < PQntuples(res); r++) {
            notify_values iv = {.name = c->name};
            char idue[32], ilink[600];
            s_item_values(res, r, idue, sizeof idue, ilink, sizeof ilink, &iv);
            const notify_words *iw = notify_words_get(PQgetvalue(res, r, 0), c->language);
            ccip_text_puts(&list, r ? "\n- " : "- ");
            notify_render(iw ? iw->title : PQgetvalue(res, r, 0), &iv, 0, &list);
            if (ilink[0])
                ccip_text_printf(&list, " %s", ilink);
        }
        snprintf(count, sizeof count, "%d", c->digest_items);
        v.count = count;
        notify_render(w ? w->title : "", &v, 0, title);
        notify_render(w ? w->sms : "", &v, 0, sms);
        v.list = list.p ? list.p : "";
        notify_render(w ? w->body : "", &v, 1, body);
        ccip_text_release(&list);
        PQclear(res);
        if (!w) {
            snprintf(err, errlen, "no template for the digest");
            return -1;
        }
        return title->failed || body->failed || sms->failed ? CCIP_DB_ERROR : 0;
    }
    if (w) {
        notify_render(w->title, &v, 0, title);
        notify_render(w->body, &v, 1, body);
        notify_render(w->sms, &v, 0, sms);
    }
    PQclear(res);
    if (!w) {
        snprintf(err, errlen, "no template for its kind of item");
        return -1;
    }
    return title->failed || body->failed || sms->failed ? CCIP_DB_ERROR : 0;
}

/* ---- one delivery ------------------------------------------------------------------------ */

static int64_t s_backoff_ms(int attempts)
{
    int64_t ms = s_sender.cfg->retry_min_ms;
    int64_t cap = s_sender.cfg->retry_max_seconds * 1000;
    for (int i = 1; i < attempts && ms < cap; i++)
        ms *= 2;
    return ms < cap ? ms : cap;
}

static void s_record(ccip_db *db, const ccip_db_stmt *st, int n, const char *const *p,
                     const char *id)
{
    if (ccip_db_exec(db, st, n, p, NULL, NULL, NULL) != 0)
        /* The lease runs out and the delivery is sent again, with the
         * same Message-ID: whoever de-duplicates sees one message. */
        ccip_log_warn("could not record a delivery's outcome; it is sent again after its lease",
                      "delivery", id, "reason", ccip_db_error(db));
}

static void s_retry(ccip_db *db, const s_claim *c, const char *why, int tried)
{
    char ms[24], hours[24];
    ccip_i64_text(tried ? s_backoff_ms(c->attempts) : s_backoff_ms(1), ms);
    ccip_i64_text(s_sender.cfg->give_up_hours, hours);
    const char *p[] = {c->id, ms, hours, tried ? "0" : "1", why};
    s_record(db, &S_RETRY, 5, p, c->id);
}

/* Sends claim c and records the outcome. Returns the outcome, or
 * NOTIFY_TEMPORARY with *unreachable set when the relay or gateway could
 * not be reached at all. */
static notify_outcome s_send_one(ccip_db *db, notify_smtp *smtp, notify_sms *sms, const s_claim *c,
                                 int *unreachable)
{
    int is_sms = strcmp(c->channel, "SMS") == 0;
    char err[S_ERROR_MAX] = "";
    if (is_sms) {
        int64_t now = ccip_now_us();
        int64_t until = notify_quiet_until(now, c->quiet_start, c->quiet_end);
        if (until > now) {
            char at[24];
            const char *p[] = {c->id, ccip_i64_text(until, at)};
            s_record(db, &S_HOLD, 2, p, c->id);
            return NOTIFY_TEMPORARY;
        }
    }
    if ((is_sms && !s_sender.cfg->sms_url[0]) || (!is_sms && !s_sender.cfg->smtp_url[0])) {
        snprintf(err, sizeof err, "no %s is configured (notify.%s)",
                 is_sms ? "SMS gateway" : "SMTP relay", is_sms ? "sms_url" : "smtp_url");
        s_retry(db, c, err, 0);
        return NOTIFY_TEMPORARY;
    }
    ccip_text title = CCIP_TEXT_INIT, body = CCIP_TEXT_INIT, text = CCIP_TEXT_INIT,
              mail = CCIP_TEXT_INIT;
    notify_outcome out = NOTIFY_TEMPORARY;
    int rc = s_compose(db, c, &title, &body, &text, err, sizeof err);
    if (rc == -1) {
        out = NOTIFY_PERMANENT;
    } else if (rc != 0) {
        snprintf(err, sizeof err, "could not compose the message: %s", ccip_db_error(db));
    } else if (is_sms) {
        out = notify_sms_send(sms, c->address, text.p ? text.p : "", c->id, err, sizeof err);
    } else {
        char mid[80];
        notify_mail m = {.message_id = notify_message_id(c->id, mid, sizeof mid),
                         .from_name = s_sender.cfg->mail_from_name,
                         .from_addr = s_sender.cfg->mail_from,
                         .to_name = c->name,
                         .to_addr = c->address,
                         .language = c->language,
                         .subject = title.p ? title.p : "",
                         .text = body.p ? body.p : "",
                         .date_us = ccip_now_us()};
        if (notify_mail_compose(&m, &mail) < 0) {
            snprintf(err, sizeof err, "\"%s\" is not an e-mail address notify sends to",
                     c->address);
            out = NOTIFY_PERMANENT;
        } else if (mail.failed) {
            snprintf(err, sizeof err, "out of memory composing the message");
        } else {
            out = notify_smtp_send(smtp, c->address, mail.p, mail.len, err, sizeof err);
        }
    }
    ccip_text_release(&title);
    ccip_text_release(&body);
    ccip_text_release(&text);
    ccip_text_release(&mail);
    const char *p[] = {c->id, err};
    if (out == NOTIFY_SENT) {
        s_record(db, &S_SENT, 1, p, c->id);
    } else if (out == NOTIFY_PERMANENT) {
        s_record(db, &S_FAILED, 2, p, c->id);
        ccip_log_warn("a delivery failed for good", "delivery", c->id, "channel", c->channel,
                      "reason", err);
    } else {
        s_retry(db, c, err, 1);
        *unreachable = strstr(err, "connect") != NULL || strstr(err, "resolve") != NULL;
    }
    return out;
}

/* ---- the loop ------------------------------------------------------------------------------ */

static int s_digest_tx(ccip_db *db, void *arg)
{
    (void)arg;
    int rc = ccip_db_exec(db, &S_DIGEST_LOCK, 0, NULL, NULL, NULL, NULL);
    return rc ? rc : ccip_db_exec(db, &S_DIGEST, 0, NULL, NULL, NULL, NULL);
}

/* One round: digests, a claim, the sends. Returns how many were claimed,
 * or -1 when the database failed. */
static int s_round(ccip_db *db, notify_smtp *smtp, notify_sms *sms)
{
    if (ccip_db_tx(db, CCIP_DB_READ_COMMITTED, 3, s_digest_tx, NULL) != 0)
        return -1;
    char n[16], lease[24];
    snprintf(n, sizeof n, "%lld", (long long)s_sender.cfg->send_batch);
    ccip_i64_text(s_sender.cfg->lease_seconds, lease);
    const char *p[] = {n, lease};
    PGresult *res = NULL;
    if (ccip_db_exec(db, &S_CLAIM, 2, p, NULL, NULL, &res) != 0)
        return -1;
    int rows = PQntuples(res), unreachable = 0;
    for (int r = 0; r < rows; r++) {
        s_claim c = {.id = PQgetvalue(res, r, 0),
                     .item_id = PQgetvalue(res, r, 1),
                     .channel = PQgetvalue(res, r, 2),
                     .address = PQgetvalue(res, r, 3),
                     .name = PQgetvalue(res, r, 4),
                     .language = PQgetvalue(res, r, 5),
                     .attempts = (int)ccip_db_cell_i64(res, r, 6),
                     .created_us = ccip_db_cell_i64(res, r, 7),
                     .digest_items = (int)ccip_db_cell_i64(res, r, 8),
                     .quiet_start = PQgetisnull(res, r, 9) ? -1 : (int)ccip_db_cell_i64(res, r, 9),
                     .quiet_end = PQgetisnull(res, r, 10) ? -1 : (int)ccip_db_cell_i64(res, r, 10)};
        if (unreachable || s_sender.stop) {
            /* The relay could not be reached a moment ago (or the service
             * stops): the rest of the batch goes back untried, rather than
             * each waiting for a timeout or for its lease. */
            s_retry(db, &c,
                    s_sender.stop ? "not tried: the service stopped"
                                  : "not tried: the relay or gateway could not be reached",
                    0);
            continue;
        }
        s_send_one(db, smtp, sms, &c, &unreachable);
    }
    PQclear(res);
    return rows;
}

/* Waits up to ms for a NOTIFY on the connection. */
static void s_wait(ccip_db *db, int ms)
{
    PGconn *conn = ccip_db_conn(db);
    if (!conn || PQsocket(conn) < 0) {
        ccip_sleep_ms(ms);
        return;
    }
    struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
    if (poll(&pfd, 1, ms) > 0)
        PQconsumeInput(conn);
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL)
        PQfreemem(n);
}

static void *s_run(void *arg)
{
    (void)arg;
    char err[300];
    ccip_db *db = NULL;
    notify_smtp *smtp = notify_smtp_new(s_sender.cfg);
    notify_sms *sms = notify_sms_new(s_sender.cfg);
    int listening = 0;
    while (!s_sender.stop && smtp && sms) {
        if (!db && !(db = ccip_db_new(s_sender.conninfo, err, sizeof err))) {
            ccip_log_warn("the sender waits for the database", "reason", err);
            ccip_sleep_ms(S_DB_WAIT_MS / 5);
            continue;
        }
        if (ccip_db_ensure(db, S_DB_WAIT_MS) < 0) {
            listening = 0;
            continue;
        }
        if (!listening)
            listening = ccip_db_command(db, "LISTEN notify_delivery") == 0;
        int claimed = s_round(db, smtp, sms);
        if (claimed < 0) {
            ccip_log_warn("the sender could not read its deliveries", "reason", ccip_db_error(db));
            listening = 0;
            ccip_sleep_ms(s_sender.cfg->poll_ms);
        } else if (claimed < s_sender.cfg->send_batch) {
            s_wait(db, (int)s_sender.cfg->poll_ms);
        }
    }
    if (!smtp || !sms)
        ccip_log_error("the sender could not start", "reason", "out of memory");
    notify_smtp_destroy(&smtp);
    notify_sms_destroy(&sms);
    ccip_db_destroy(&db);
    return NULL;
}

/* ---- start and stop ------------------------------------------------------------------------ */

int notify_sender_start(const ccip_service *svc, char *err, size_t errlen)
{
    const notify_config *cfg = ccip_service_config_get(svc);
    if (strcmp(cfg->smtp_tls, "try") != 0 && strcmp(cfg->smtp_tls, "require") != 0 &&
        strcmp(cfg->smtp_tls, "off") != 0) {
        snprintf(err, errlen, "`notify.smtp_tls` must be try, require or off, got \"%.20s\"",
                 cfg->smtp_tls);
        return -1;
    }
    if (!notify_email_valid(cfg->mail_from)) {
        snprintf(err, errlen,
                 "`notify.mail_from` must be a plain address such as noreply@example.cn, got "
                 "\"%.60s\"",
                 cfg->mail_from);
        return -1;
    }
    if (cfg->sms_url[0] && strncmp(cfg->sms_url, "http://", 7) != 0 &&
        strncmp(cfg->sms_url, "https://", 8) != 0) {
        snprintf(err, errlen,
                 "`notify.sms_url` must be an http:// or https:// URL template, got \"%.60s\"",
                 cfg->sms_url);
        return -1;
    }
    if (cfg->smtp_url[0] && strncmp(cfg->smtp_url, "smtp://", 7) != 0 &&
        strncmp(cfg->smtp_url, "smtps://", 8) != 0) {
        snprintf(err, errlen,
                 "`notify.smtp_url` must start with smtp:// or smtps://, got \"%.60s\"",
                 cfg->smtp_url);
        return -1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "could not initialise libcurl");
        return -1;
    }
    s_sender.cfg = cfg;
    s_sender.conninfo = ccip_service_conninfo(svc);
    s_sender.stop = 0;
    if (pthread_create(&s_sender.thread, NULL, s_run, NULL) != 0) {
        curl_global_cleanup();
        snprintf(err, errlen, "could not start the sender thread");
        return -1;
    }
    s_sender.running = 1;
    ccip_log_info("sender started", "smtp", cfg->smtp_url[0] ? cfg->smtp_url : "(none)", "sms",
                  cfg->sms_url[0] ? "configured" : "(none)");
    return 0;
}

void notify_sender_stop(const ccip_service *svc)
{
    (void)svc;
    if (!s_sender.running)
        return;
    s_sender.stop = 1;
    pthread_join(s_sender.thread, NULL);
    s_sender.running = 0;
    curl_global_cleanup();
}
