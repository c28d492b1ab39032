#include "notify_prefs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccip_envelope.h"
#include "ccip_pgarray.h"
#include "ccip_validate.h"
#include "notify_kinds.h"

#define S_MINUTE_US  60000000LL
#define S_BEIJING_US (8LL * 3600 * 1000000)
#define S_KINDS_MAX  100
#define S_CLOCK_TEXT 6 /* "HH:MM" and NUL */

/* ---- clock arithmetic (pure) ---------------------------------------------------- */

/* The start of now's minute, and that minute's number in the Beijing day. */
static int64_t s_minute(int64_t now_us, int *of_day)
{
    int64_t local = now_us + S_BEIJING_US;
    int64_t minutes = local >= 0 ? local / S_MINUTE_US : (local - S_MINUTE_US + 1) / S_MINUTE_US;
    int m = (int)(minutes % NOTIFY_DAY_MINUTES);
    *of_day = m < 0 ? m + NOTIFY_DAY_MINUTES : m;
    return minutes * S_MINUTE_US - S_BEIJING_US;
}

int64_t notify_quiet_until(int64_t now_us, int start_min, int end_min)
{
    if (start_min < 0 || end_min < 0 || start_min >= NOTIFY_DAY_MINUTES ||
        end_min >= NOTIFY_DAY_MINUTES || start_min == end_min)
        return now_us;
    int m;
    int64_t minute = s_minute(now_us, &m);
    int quiet =
        start_min < end_min ? (m >= start_min && m < end_min) : (m >= start_min || m < end_min);
    if (!quiet)
        return now_us;
    int wait = (end_min - m + NOTIFY_DAY_MINUTES) % NOTIFY_DAY_MINUTES;
    return minute + (int64_t)wait * S_MINUTE_US;
}

int64_t notify_next_digest(int64_t now_us, int digest_min)
{
    if (digest_min < 0 || digest_min >= NOTIFY_DAY_MINUTES)
        digest_min = NOTIFY_DIGEST_DEFAULT;
    int m;
    int64_t minute = s_minute(now_us, &m);
    int wait = (digest_min - m + NOTIFY_DAY_MINUTES) % NOTIFY_DAY_MINUTES;
    return wait == 0 ? now_us : minute + (int64_t)wait * S_MINUTE_US;
}

int notify_clock_parse(const char *s)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
}

static void s_clock_text(int minutes, char out[S_CLOCK_TEXT])
{
    if (minutes < 0)
        out[0] = '\0';
    else
        snprintf(out, S_CLOCK_TEXT, "%02d:%02d", minutes / 60 % 24, minutes % 60);
}

/* ---- who may ------------------------------------------------------------------------- */

static const ccip_db_stmt S_ACCOUNT = {
    "notify_prefs_account",
    "SELECT p.account_id, p.name, p.email, p.mobile, "
    "EXISTS (SELECT 1 FROM binding b WHERE b.account_id = p.account_id AND b.status = 'ACTIVE' "
    "AND b.actor_id = $2) "
    "FROM person p WHERE p.login = $1"};

/* Reads the account of `login` into account (and *res, kept for the
 * caller: name, email, mobile) when the caller may see its preferences.
 * Returns 0, CCIP_REPLIED (NOT_FOUND, PERMISSION_DENIED) or a ccip_db_rc. */
static int s_account(ccip_command *cmd, const notify_caller *c, const char *login,
                     char account[128], PGresult **res)
{
    *res = NULL;
    if (!login || !login[0])
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `login` is required: the account whose preferences these "
                                 "are");
    const char *p[] = {login, c->actor};
    int rc = ccip_db_exec(cmd->db, &S_ACCOUNT, 2, p, NULL, NULL, res);
    if (rc)
        return rc;
    char shown[80];
    if (PQntuples(*res) == 0) {
        PQclear(*res);
        *res = NULL;
        return ccip_command_fail(cmd, CCIP__STATUS__NOT_FOUND,
                                 "no account with login \"%s\" is known to notify (accounts come "
                                 "from the gateway's events)",
                                 ccip_text_shown(login, 64, shown, sizeof shown));
    }
    char own[NOTIFY_ACTOR_MAX + 8];
    snprintf(own, sizeof own, "person:%s", login);
    if (!c->center && strcmp(c->actor, own) != 0 && !ccip_db_cell_bool(*res, 0, 4)) {
        PQclear(*res);
        *res = NULL;
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "%s may not see or change the preferences of \"%s\": only the "
                                 "person, a user of the same organisation, or staff may",
                                 c->actor, ccip_text_shown(login, 64, shown, sizeof shown));
    }
    snprintf(account, 128, "%s", PQgetvalue(*res, 0, 0));
    return 0;
}

/* ---- reading ------------------------------------------------------------------------------ */

static const ccip_db_stmt S_PREFS = {
    "notify_prefs_read",
    "SELECT language, coalesce(quiet_start, -1), coalesce(quiet_end, -1), digest, digest_minute "
    "FROM preference WHERE account_id = $1"};

static const ccip_db_stmt S_KINDS = {
    "notify_prefs_kinds", "SELECT kind, email, sms FROM preference_kind WHERE account_id = $1 "
                          "ORDER BY kind <> '*', kind"};

static const ccip_db_stmt S_ACTORS = {
    "notify_prefs_actors", "SELECT DISTINCT x FROM binding b, LATERAL (SELECT b.actor_id UNION ALL "
                           "SELECT 'role:' || r FROM unnest(b.roles) r) AS t(x) "
                           "WHERE b.account_id = $1 AND b.status = 'ACTIVE' ORDER BY x"};

/* Replies with the stored preferences of account (defaults when none). */
static int s_reply(ccip_command *cmd, ccip_arena *a, const char *login, const char *account,
                   const PGresult *who)
{
    Ccip__Notify__Preferences *pr = ccip_arena_alloc(a, sizeof *pr);
    if (!pr)
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    *pr = (Ccip__Notify__Preferences)CCIP__NOTIFY__PREFERENCES__INIT;
    pr->login = ccip_arena_strdup(a, login);
    pr->name = ccip_arena_strdup(a, PQgetvalue(who, 0, 1));
    pr->email = ccip_arena_strdup(a, PQgetvalue(who, 0, 2));
    pr->mobile = ccip_arena_strdup(a, PQgetvalue(who, 0, 3));
    const char *p[] = {account};
    PGresult *res = NULL;
    int rc = ccip_db_exec(cmd->db, &S_PREFS, 1, p, NULL, NULL, &res);
    if (rc)
        return rc;
    char qs[S_CLOCK_TEXT] = "", qe[S_CLOCK_TEXT] = "", dt[S_CLOCK_TEXT];
    s_clock_text(NOTIFY_DIGEST_DEFAULT, dt);
    pr->language = NOTIFY_LANG_ZH;
    if (PQntuples(res)) {
        pr->language = ccip_arena_strdup(a, PQgetvalue(res, 0, 0));
        s_clock_text((int)ccip_db_cell_i64(res, 0, 1), qs);
        s_clock_text((int)ccip_db_cell_i64(res, 0, 2), qe);
        pr->digest = ccip_db_cell_bool(res, 0, 3);
        s_clock_text((int)ccip_db_cell_i64(res, 0, 4), dt);
    }
    PQclear(res);
    pr->quiet_start = ccip_arena_strdup(a, qs);
    pr->quiet_end = ccip_arena_strdup(a, qe);
    pr->digest_time = ccip_arena_strdup(a, dt);
    if ((rc = ccip_db_exec(cmd->db, &S_KINDS, 1, p, NULL, NULL, &res)) != 0)
        return rc;
    int n = PQntuples(res);
    pr->kinds = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof *pr->kinds);
    for (int r = 0; pr->kinds && r < n; r++) {
        Ccip__Notify__KindChannels *k = ccip_arena_alloc(a, sizeof *k);
        if (!k)
            break;
        *k = (Ccip__Notify__KindChannels)CCIP__NOTIFY__KIND_CHANNELS__INIT;
        k->kind = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
        k->email = ccip_db_cell_bool(res, r, 1);
        k->sms = ccip_db_cell_bool(res, r, 2);
        pr->kinds[pr->n_kinds++] = k;
    }
    PQclear(res);
    if ((rc = ccip_db_exec(cmd->db, &S_ACTORS, 1, p, NULL, NULL, &res)) != 0)
        return rc;
    n = PQntuples(res);
    pr->actors = ccip_arena_alloc(a, ((size_t)n + 1) * sizeof *pr->actors);
    for (int r = 0; pr->actors && r < n; r++)
        pr->actors[pr->n_actors++] = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
    PQclear(res);
    if (ccip_arena_failed(a))
        return ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading preferences");
    Ccip__Notify__PreferencesReply reply = CCIP__NOTIFY__PREFERENCES_REPLY__INIT;
    reply.preferences = pr;
    return ccip_command_reply(cmd, &reply.base);
}

int notify_prefs_get_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Notify__GetPreferencesRequest *rq = request;
    notify_caller c;
    char account[128];
    PGresult *who = NULL;
    int rc = notify_caller_get(cmd, &c);
    if (rc == 0)
        rc = s_account(cmd, &c, rq->login, account, &who);
    if (rc == 0)
        rc = s_reply(cmd, a, rq->login, account, who);
    PQclear(who);
    return rc;
}

/* ---- changing -------------------------------------------------------------------------------- */

static const ccip_db_stmt S_SET = {
    "notify_prefs_set",
    "INSERT INTO preference (account_id, language, quiet_start, quiet_end, digest, "
    "digest_minute, updated_by) VALUES ($1, $2, nullif($3, '-1')::smallint, "
    "nullif($4, '-1')::smallint, $5::boolean, $6::smallint, $7) "
    "ON CONFLICT (account_id) DO UPDATE SET language = excluded.language, "
    "quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, "
    "digest = excluded.digest, digest_minute = excluded.digest_minute, "
    "updated_at = now(), updated_by = excluded.updated_by"};

static const ccip_db_stmt S_KINDS_CLEAR = {"notify_prefs_kinds_clear",
                                           "DELETE FROM preference_kind WHERE account_id = $1"};

static const ccip_db_stmt S_KINDS_SET = {
    "notify_prefs_kinds_set",
    "INSERT INTO preference_kind (account_id, kind, email, sms) "
    "SELECT $1, k, e, s FROM unnest($2::text[], $3::boolean[], $4::boolean[]) AS u(k, e, s)"};

/* What waits for the account is looked at again now: held SMS go to the
 * sender, which applies the quiet hours as they now are; without a digest,
 * what waited for one goes as single messages. */
static const ccip_db_stmt S_RELEASE = {
    "notify_prefs_release",
    "WITH h AS (UPDATE delivery SET due_at = now() WHERE account_id = $1 AND state = 'PENDING' "
    "AND due_at > now() AND lease_until IS NULL RETURNING 1), "
    "g AS (UPDATE delivery SET state = 'PENDING', due_at = now() WHERE account_id = $1 "
    "AND state = 'DIGEST' AND NOT $2::boolean RETURNING 1) "
    "SELECT (SELECT count(*) FROM h) + (SELECT count(*) FROM g), pg_notify('notify_delivery', '')"};

int notify_prefs_set_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    const Ccip__Notify__SetPreferencesRequest *rq = request;
    notify_caller c;
    int rc = notify_caller_get(cmd, &c);
    if (rc)
        return rc;
    const char *lang = notify_language(rq->language);
    if (!lang)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `language` must be \"zh-CN\" or \"en\", got \"%.20s\"",
                                 rq->language);
    int qs = rq->quiet_start[0] ? notify_clock_parse(rq->quiet_start) : -1;
    int qe = rq->quiet_end[0] ? notify_clock_parse(rq->quiet_end) : -1;
    if ((rq->quiet_start[0] && qs < 0) || (rq->quiet_end[0] && qe < 0))
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "fields `quiet_start` and `quiet_end` are times of the day in "
                                 "Beijing written HH:MM, e.g. 22:00 and 07:30, got \"%.10s\" and "
                                 "\"%.10s\"",
                                 rq->quiet_start, rq->quiet_end);
    if ((qs < 0) != (qe < 0) || (qs >= 0 && qs == qe))
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "quiet hours need both `quiet_start` and `quiet_end`, and they "
                                 "must differ (leave both empty for none)");
    int dm = rq->digest_time[0] ? notify_clock_parse(rq->digest_time) : NOTIFY_DIGEST_DEFAULT;
    if (dm < 0)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "field `digest_time` is a time of the day in Beijing written "
                                 "HH:MM, e.g. 08:00, got \"%.10s\"",
                                 rq->digest_time);
    if (rq->n_kinds > S_KINDS_MAX)
        return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                 "at most %d kinds may be listed, got %zu", S_KINDS_MAX,
                                 rq->n_kinds);
    for (size_t i = 0; i < rq->n_kinds; i++) {
        const char *k = rq->kinds[i]->kind;
        if (strcmp(k, "*") != 0 && !notify_kind_find(k)) {
            char shown[80];
            return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                     "kinds[%zu]: \"%s\" is not a kind of item; use \"*\" or one "
                                     "of those notify.inbox.list.v1 shows, e.g. "
                                     "application_returned",
                                     i, ccip_text_shown(k, 48, shown, sizeof shown));
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(rq->kinds[j]->kind, k) == 0)
                return ccip_command_fail(cmd, CCIP__STATUS__INVALID_ARGUMENT,
                                         "kinds[%zu]: \"%s\" is listed twice", i, k);
    }
    char account[128];
    PGresult *who = NULL;
    if ((rc = s_account(cmd, &c, rq->login, account, &who)) != 0)
        return rc;
    char qs_s[16], qe_s[16], dm_s[16];
    snprintf(qs_s, sizeof qs_s, "%d", qs);
    snprintf(qe_s, sizeof qe_s, "%d", qe);
    snprintf(dm_s, sizeof dm_s, "%d", dm);
    const char *p[] = {account, lang,         qs_s, qe_s, rq->digest ? "true" : "false",
                       dm_s,    cmd->actor.id};
    const char *acc[] = {account};
    rc = ccip_db_exec(cmd->db, &S_SET, 7, p, NULL, NULL, NULL);
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_KINDS_CLEAR, 1, acc, NULL, NULL, NULL);
    if (rc == 0 && rq->n_kinds) {
        ccip_pgarray ks = CCIP_PGARRAY_INIT, es = CCIP_PGARRAY_INIT, ss = CCIP_PGARRAY_INIT;
        for (size_t i = 0; i < rq->n_kinds; i++) {
            ccip_pgarray_text(&ks, rq->kinds[i]->kind);
            ccip_pgarray_text(&es, rq->kinds[i]->email ? "t" : "f");
            ccip_pgarray_text(&ss, rq->kinds[i]->sms ? "t" : "f");
        }
        const char *kp[] = {account, ccip_pgarray_value(&ks), ccip_pgarray_value(&es),
                            ccip_pgarray_value(&ss)};
        rc = kp[1] && kp[2] && kp[3]
                 ? ccip_db_exec(cmd->db, &S_KINDS_SET, 4, kp, NULL, NULL, NULL)
                 : ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
        ccip_pgarray_release(&ks);
        ccip_pgarray_release(&es);
        ccip_pgarray_release(&ss);
    }
    const char *rp[] = {account, rq->digest ? "true" : "false"};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_RELEASE, 2, rp, NULL, NULL, NULL);
    if (rc == 0)
        rc = s_reply(cmd, a, rq->login, account, who);
    PQclear(who);
    return rc;
}
