#include "stats_projections.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ccip_arena.h"
#include "ccip_log.h"
#include "ccip_text.h"

#define INDICATOR_ROWS_MAX 100000 /* rows one stats.indicators.get.v1 reply holds */

/* ---- applying facts ------------------------------------------------------------------ */

/* Each statement takes the facts of its kind as one JSON array, so that a
 * consumer applies one event and a rebuild thousands with the same SQL.
 * DISTINCT ON keeps the winning fact of a batch per key (a statement may
 * not update a row twice), and the ON CONFLICT condition the winning one
 * against the row: the same rule both times. */
// clang-format off
#define FACTS(cols) "jsonb_to_recordset($1::jsonb) AS f(" cols ")"

/* Funds: one row per award, payment or clawback; the earliest wins. */
#define MONEY_FACT(table, key)                                                                     \
    "INSERT INTO " table " (" key ", application_id, uscc_district, amount_fen, at_us, quarter) "  \
    "SELECT DISTINCT ON (f.id) f.id, f.ref, f.ud, f.amount, f.at, f.quarter "                      \
    "FROM " FACTS("id text, ref text, ud text, amount bigint, at bigint, quarter text, "           \
                  "position bigint") " "                                                           \
    "ORDER BY f.id, f.at, f.position ON CONFLICT (" key ") DO UPDATE SET "                         \
    "application_id = EXCLUDED.application_id, uscc_district = EXCLUDED.uscc_district, "           \
    "amount_fen = EXCLUDED.amount_fen, at_us = EXCLUDED.at_us, quarter = EXCLUDED.quarter "        \
    "WHERE " table ".at_us > EXCLUDED.at_us"

static const ccip_db_stmt S_APPLY[STATS_FACT_KINDS] = {
    /* An organisation: the latest registration (highest position) wins. */
    [STATS_FACT_ORG] = {"stats_fact_org",
        "INSERT INTO ev_org (uscc, district_code, position) "
        "SELECT DISTINCT ON (f.id) f.id, f.district, f.position "
        "FROM " FACTS("id text, district text, position bigint") " "
        "ORDER BY f.id, f.position DESC ON CONFLICT (uscc) DO UPDATE SET "
        "district_code = EXCLUDED.district_code, position = EXCLUDED.position "
        "WHERE ev_org.position < EXCLUDED.position"},
    [STATS_FACT_SUBMITTED] = {"stats_fact_submitted",
        "INSERT INTO ev_application (application_id, kind, applicant_uscc, uscc_district, "
        "submitted_at_us, submitted_quarter) "
        "SELECT DISTINCT ON (f.id) f.id, f.type, f.ref, f.ud, f.at, f.quarter "
        "FROM " FACTS("id text, type text, ref text, ud text, at bigint, quarter text, "
                      "position bigint") " "
        "ORDER BY f.id, f.at, f.position ON CONFLICT (application_id) DO UPDATE SET "
        "submitted_at_us = EXCLUDED.submitted_at_us, "
        "submitted_quarter = EXCLUDED.submitted_quarter "
        "WHERE ev_application.submitted_at_us IS NULL OR "
        "ev_application.submitted_at_us > EXCLUDED.submitted_at_us"},
    [STATS_FACT_ACCEPTED] = {"stats_fact_accepted",
        "INSERT INTO ev_application (application_id, kind, applicant_uscc, uscc_district, "
        "accepted_at_us, accepted_quarter, accepted_district) "
        "SELECT DISTINCT ON (f.id) f.id, f.type, f.ref, f.ud, f.at, f.quarter, f.district "
        "FROM " FACTS("id text, type text, ref text, ud text, district text, at bigint, "
                      "quarter text, position bigint") " "
        "ORDER BY f.id, f.at, f.position ON CONFLICT (application_id) DO UPDATE SET "
        "accepted_at_us = EXCLUDED.accepted_at_us, "
        "accepted_quarter = EXCLUDED.accepted_quarter, "
        "accepted_district = EXCLUDED.accepted_district "
        "WHERE ev_application.accepted_at_us IS NULL OR "
        "ev_application.accepted_at_us > EXCLUDED.accepted_at_us"},
    [STATS_FACT_DECISION] = {"stats_fact_decision",
        "INSERT INTO ev_decision (application_id, outcome, kind, uscc_district, "
        "decided_at_us, quarter) "
        "SELECT DISTINCT ON (f.id) f.id, f.status, f.type, f.ud, f.at, f.quarter "
        "FROM " FACTS("id text, status text, type text, ud text, at bigint, quarter text, "
                      "position bigint") " "
        "ORDER BY f.id, f.at, f.position ON CONFLICT (application_id) DO UPDATE SET "
        "outcome = EXCLUDED.outcome, kind = EXCLUDED.kind, "
        "uscc_district = EXCLUDED.uscc_district, decided_at_us = EXCLUDED.decided_at_us, "
        "quarter = EXCLUDED.quarter "
        "WHERE ev_decision.decided_at_us > EXCLUDED.decided_at_us"},
    [STATS_FACT_AWARD] = {"stats_fact_award", MONEY_FACT("ev_award", "award_id")},
    [STATS_FACT_PAYMENT] = {"stats_fact_payment", MONEY_FACT("ev_payment", "payment_id")},
    [STATS_FACT_CLAWBACK] = {"stats_fact_clawback", MONEY_FACT("ev_clawback", "clawback_id")},
    [STATS_FACT_WORK] = {"stats_fact_work",
        "INSERT INTO ev_work (work_id, kind, district_code, registered_at_us, quarter) "
        "SELECT DISTINCT ON (f.id) f.id, f.type, f.district, f.at, f.quarter "
        "FROM " FACTS("id text, type text, district text, at bigint, quarter text, "
                      "position bigint") " "
        "ORDER BY f.id, f.at, f.position ON CONFLICT (work_id) DO UPDATE SET "
        "kind = EXCLUDED.kind, district_code = EXCLUDED.district_code, "
        "registered_at_us = EXCLUDED.registered_at_us, quarter = EXCLUDED.quarter "
        "WHERE ev_work.registered_at_us > EXCLUDED.registered_at_us"},
    [STATS_FACT_TRADE] = {"stats_fact_trade",
        "INSERT INTO ev_trade (contract_id, work_id, district_code, price_fen, "
        "settled_at_us, quarter) "
        "SELECT DISTINCT ON (f.id) f.id, f.ref, f.district, f.amount, f.at, f.quarter "
        "FROM " FACTS("id text, ref text, district text, amount bigint, at bigint, "
                      "quarter text, position bigint") " "
        "ORDER BY f.id, f.at, f.position ON CONFLICT (contract_id) DO UPDATE SET "
        "work_id = EXCLUDED.work_id, district_code = EXCLUDED.district_code, "
        "price_fen = EXCLUDED.price_fen, settled_at_us = EXCLUDED.settled_at_us, "
        "quarter = EXCLUDED.quarter "
        "WHERE ev_trade.settled_at_us > EXCLUDED.settled_at_us"},
    [STATS_FACT_DISPUTE] = {"stats_fact_dispute",
        "INSERT INTO ev_dispute (dispute_id, work_id, district_code, upheld_at_us, quarter) "
        "SELECT DISTINCT ON (f.id) f.id, f.ref, f.district, f.at, f.quarter "
        "FROM " FACTS("id text, ref text, district text, at bigint, quarter text, "
                      "position bigint") " "
        "ORDER BY f.id, f.at, f.position ON CONFLICT (dispute_id) DO UPDATE SET "
        "work_id = EXCLUDED.work_id, district_code = EXCLUDED.district_code, "
        "upheld_at_us = EXCLUDED.upheld_at_us, quarter = EXCLUDED.quarter "
        "WHERE ev_dispute.upheld_at_us > EXCLUDED.upheld_at_us"},
};
// clang-format on

/* A JSON string: quotes, backslashes and control characters escaped. */
static void s_json_str(ccip_text *b, const char *key, const char *s)
{
    ccip_text_puts(b, "\"");
    ccip_text_puts(b, key);
    ccip_text_puts(b, "\":\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            ccip_text_put(b, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            ccip_text_puts(b, esc);
        } else {
            ccip_text_put(b, (const char *)p, 1);
        }
    }
    ccip_text_puts(b, "\"");
}

/* One fact as a JSON object, with the keys the statements above read. */
static void s_json_fact(ccip_text *b, const stats_fact *f)
{
    const char *const texts[][2] = {
        {"id", f->id},          {"ref", f->ref},           {"type", f->type},
        {"status", f->status},  {"district", f->district}, {"ud", f->ud},
        {"quarter", f->quarter}};
    ccip_text_puts(b, "{");
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (i)
            ccip_text_puts(b, ",");
        s_json_str(b, texts[i][0], texts[i][1]);
    }
    char num[96];
    snprintf(num, sizeof num,
             ",\"at\":%" PRId64 ",\"amount\":%" PRId64 ",\"position\":%" PRIu64 "}", f->at_us,
             f->amount, f->position);
    ccip_text_puts(b, num);
}

int stats_projections_apply(ccip_db *db, const stats_fact *facts, size_t n)
{
    int rc = 0;
    ccip_text b = CCIP_TEXT_INIT;
    for (int k = STATS_FACT_NONE + 1; rc == 0 && k < STATS_FACT_KINDS; k++) {
        b.len = 0;
        size_t count = 0;
        ccip_text_puts(&b, "[");
        for (size_t i = 0; i < n; i++) {
            if ((int)facts[i].kind != k)
                continue;
            if (count++)
                ccip_text_puts(&b, ",");
            s_json_fact(&b, &facts[i]);
        }
        ccip_text_puts(&b, "]");
        if (b.failed) {
            rc = CCIP_DB_ERROR;
            break;
        }
        if (count == 0)
            continue;
        const char *values[] = {b.p};
        rc = ccip_db_exec(db, &S_APPLY[k], 1, values, NULL, NULL, NULL);
    }
    ccip_text_release(&b);
    return rc;
}

int stats_projections_apply_event(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    stats_fact f;
    char why[300];
    if (!stats_fact_from_event(ev, &f, why, sizeof why)) {
        if (why[0]) {
            char pos[24];
            snprintf(pos, sizeof pos, "%" PRIu64, ev->position);
            ccip_log_warn("skipped an event the projections cannot use", "type", ev->type,
                          "position", pos, "event", ev->id, "reason", why);
        }
        return 0;
    }
    return stats_projections_apply(db, &f, 1);
}

/* ---- the tables as a whole ------------------------------------------------------------ */

int stats_projections_clear(ccip_db *db)
{
    return ccip_db_command(db, "TRUNCATE ev_org, ev_application, ev_work, ev_trade, ev_dispute, "
                               "ev_decision, ev_award, ev_payment, ev_clawback");
}

/* Every row of every fact table, in a fixed order: equal checksums mean
 * equal tables. */
static const ccip_db_stmt S_CHECKSUM = {
    "stats_projection_checksum",
    "SELECT md5(coalesce(string_agg(r, E'\\n' ORDER BY r), '')), count(*) FROM ("
    "SELECT 'org' || t::text AS r FROM ev_org t "
    "UNION ALL SELECT 'application' || t::text FROM ev_application t "
    "UNION ALL SELECT 'work' || t::text FROM ev_work t "
    "UNION ALL SELECT 'trade' || t::text FROM ev_trade t "
    "UNION ALL SELECT 'dispute' || t::text FROM ev_dispute t "
    "UNION ALL SELECT 'decision' || t::text FROM ev_decision t "
    "UNION ALL SELECT 'award' || t::text FROM ev_award t "
    "UNION ALL SELECT 'payment' || t::text FROM ev_payment t "
    "UNION ALL SELECT 'clawback' || t::text FROM ev_clawback t) x"};

int stats_projections_checksum(ccip_db *db, char sum[STATS_CHECKSUM_LEN], uint64_t *rows)
{
    PGresult *res = NULL;
    int rc = ccip_db_exec(db, &S_CHECKSUM, 0, NULL, NULL, NULL, &res);
    if (rc != CCIP_DB_OK)
        return rc;
    snprintf(sum, STATS_CHECKSUM_LEN, "%s", PQgetvalue(res, 0, 0));
    *rows = (uint64_t)ccip_db_cell_i64(res, 0, 1);
    PQclear(res);
    return 0;
}

int stats_checksum_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Stats__ChecksumReply reply = CCIP__STATS__CHECKSUM_REPLY__INIT;
    char sum[STATS_CHECKSUM_LEN];
    int rc = stats_projections_checksum(cmd->db, sum, &reply.rows);
    if (rc != 0)
        return rc;
    reply.checksum = sum;
    return ccip_command_reply(cmd, &reply.base);
}

/* ---- reading ------------------------------------------------------------------------------- */

// clang-format off
/* Applications with the district and kind their facts are counted under:
 * the district the accepted application names, else its organisation's,
 * else the one in its credit code. */
#define APPS                                                                                       \
    "apps AS (SELECT a.application_id, a.kind, a.submitted_quarter, a.accepted_quarter, "          \
    "coalesce(nullif(a.accepted_district, ''), o.district_code, nullif(a.uscc_district, ''), '') " \
    "AS district FROM ev_application a LEFT JOIN ev_org o ON o.uscc = a.applicant_uscc "           \
    "AND o.district_code <> '')"
/* The money of one fact table, under its application's district and kind. */
#define MONEY(table, indicator)                                                                    \
    " UNION ALL SELECT coalesce(p.district, nullif(t.uscc_district, ''), ''), "                    \
    "coalesce(p.kind, 'SPECIAL_FUND_PROJECT'), '" indicator "', sum(t.amount_fen) FROM " table     \
    " t LEFT JOIN apps p ON p.application_id = t.application_id WHERE t.quarter = $1 "             \
    "GROUP BY 1, 2"

static const ccip_db_stmt S_INDICATORS = {
    "stats_projection_indicators",
    "WITH " APPS ", decided AS (SELECT coalesce(p.district, nullif(d.uscc_district, ''), '') "
    "AS district, coalesce(p.kind, d.kind) AS kind, d.outcome FROM ev_decision d "
    "LEFT JOIN apps p ON p.application_id = d.application_id WHERE d.quarter = $1) "
    "SELECT district, kind, indicator, value::bigint FROM ("
    "SELECT district, kind, 'applications_submitted' AS indicator, count(*) AS value FROM apps "
    "WHERE submitted_quarter = $1 GROUP BY 1, 2 "
    "UNION ALL SELECT district, kind, 'applications_accepted', count(*) FROM apps "
    "WHERE accepted_quarter = $1 GROUP BY 1, 2 "
    "UNION ALL SELECT district, kind, 'applications_approved', count(*) FROM decided "
    "WHERE outcome = 'APPROVED' GROUP BY 1, 2 "
    "UNION ALL SELECT district, kind, 'applications_declined', count(*) FROM decided "
    "WHERE outcome = 'DECLINED' GROUP BY 1, 2 "
    "UNION ALL SELECT district, kind, 'approval_rate_bp', (count(*) FILTER (WHERE outcome = "
    "'APPROVED') * 10000 + count(*) / 2) / count(*) FROM decided GROUP BY 1, 2"
    MONEY("ev_award", "awards_committed_fen")
    MONEY("ev_payment", "disbursed_fen")
    MONEY("ev_clawback", "clawed_back_fen") " "
    "UNION ALL SELECT district_code, kind, 'ip_registrations', count(*) FROM ev_work "
    "WHERE quarter = $1 GROUP BY 1, 2 "
    "UNION ALL SELECT t.district_code, coalesce(w.kind, ''), 'ip_trades', count(*) "
    "FROM ev_trade t LEFT JOIN ev_work w ON w.work_id = t.work_id WHERE t.quarter = $1 "
    "GROUP BY 1, 2 "
    "UNION ALL SELECT t.district_code, coalesce(w.kind, ''), 'ip_trade_value_fen', "
    "sum(t.price_fen) FROM ev_trade t LEFT JOIN ev_work w ON w.work_id = t.work_id "
    "WHERE t.quarter = $1 GROUP BY 1, 2 "
    "UNION ALL SELECT d.district_code, coalesce(w.kind, ''), 'disputes_upheld', count(*) "
    "FROM ev_dispute d LEFT JOIN ev_work w ON w.work_id = d.work_id WHERE d.quarter = $1 "
    "GROUP BY 1, 2) x WHERE $2 = '' OR district = $2 "
    "ORDER BY district, kind, indicator"};
// clang-format on

static const ccip_db_stmt S_CURSORS = {
    "stats_projection_cursors", "SELECT producer, position FROM consumer_cursor ORDER BY producer"};

/* Builds the reply from the indicator rows and the cursors, in a. */
static int s_indicators_reply(ccip_command *cmd, ccip_arena *a, char *quarter, const PGresult *res,
                              const PGresult *cur)
{
    Ccip__Stats__EventIndicatorsReply reply = CCIP__STATS__EVENT_INDICATORS_REPLY__INIT;
    reply.quarter = quarter;
    int n = PQntuples(res);
    reply.rows = ccip_arena_alloc(a, (size_t)n * sizeof *reply.rows);
    for (int r = 0; reply.rows && r < n && r < INDICATOR_ROWS_MAX; r++) {
        Ccip__Stats__EventIndicator *e = ccip_arena_alloc(a, sizeof *e);
        if (!e)
            break;
        *e = (Ccip__Stats__EventIndicator)CCIP__STATS__EVENT_INDICATOR__INIT;
        e->district_code = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
        e->kind = ccip_arena_strdup(a, PQgetvalue(res, r, 1));
        e->indicator = ccip_arena_strdup(a, PQgetvalue(res, r, 2));
        e->value = ccip_db_cell_i64(res, r, 3);
        reply.rows[reply.n_rows++] = e;
    }
    n = PQntuples(cur);
    reply.cursors = ccip_arena_alloc(a, (size_t)n * sizeof *reply.cursors);
    for (int r = 0; reply.cursors && r < n; r++) {
        Ccip__Stats__ProducerCursor *c = ccip_arena_alloc(a, sizeof *c);
        if (!c)
            break;
        *c = (Ccip__Stats__ProducerCursor)CCIP__STATS__PRODUCER_CURSOR__INIT;
        c->producer = ccip_arena_strdup(a, PQgetvalue(cur, r, 0));
        c->position = (uint64_t)ccip_db_cell_i64(cur, r, 1);
        reply.cursors[reply.n_cursors++] = c;
    }
    return stats_reply_built(cmd, a, &reply.base, "out of memory");
}

int stats_indicators_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Stats__EventIndicatorsRequest *rq = request;
    stats_caller caller;
    stats_quarter q;
    char district[8];
    int rc = stats_caller_get(cmd, &caller);
    if (rc == 0)
        rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q);
    if (rc == 0)
        rc = stats_district_arg(cmd, "district", rq->district, district);
    if (rc != 0)
        return rc;
    PGresult *res = NULL, *cur = NULL;
    const char *p[] = {rq->quarter, district};
    if ((rc = ccip_db_exec(cmd->db, &S_INDICATORS, 2, p, NULL, NULL, &res)) == 0 &&
        (rc = ccip_db_exec(cmd->db, &S_CURSORS, 0, NULL, NULL, NULL, &cur)) == 0)
        rc = s_indicators_reply(cmd, a, rq->quarter, res, cur);
    PQclear(res);
    PQclear(cur);
    return rc;
}
