#include "stats_completeness.h"

#include <stdio.h>
#include <string.h>

#include "ccip_arena.h"
#include "stats_reports.h"

#define DISTRICTS_MAX 32 /* Beijing has 16 */

static const ccip_db_stmt S_ENTRIES = {
    "stats_completeness_entries",
    "SELECT e.id, e.name, e.district_code, coalesce(r.status, ''), "
    "coalesce(" CCIP_SQL_US(
        "r.first_submitted_at") ", 0) FROM roster_entry e "
                                "LEFT JOIN report r ON r.roster_id = e.id AND r.quarter = $1 "
                                "WHERE e.first_quarter <= $1 AND (e.last_quarter IS NULL OR "
                                "e.last_quarter >= $1) AND (e.expiry_quarter IS NULL OR "
                                "e.expiry_quarter >= $1) "
                                "AND ($2 = '' OR e.district_code = $2) ORDER BY e.district_code, "
                                "e.id"};

uint32_t stats_rate_bp(uint32_t part, uint32_t whole)
{
    if (!whole)
        return 0;
    return (uint32_t)(((uint64_t)part * 10000 + whole / 2) / whole);
}

static void s_rates(Ccip__Stats__DistrictCompleteness *d)
{
    d->completeness_bp = stats_rate_bp(d->on_time + d->late, d->expected);
    d->timeliness_bp = stats_rate_bp(d->on_time, d->expected);
}

/* Counts entry `c` under its district d and the total. */
static void s_count(Ccip__Stats__DistrictCompleteness *d, Ccip__Stats__DistrictCompleteness *total,
                    const Ccip__Stats__ClusterCompleteness *c)
{
    Ccip__Stats__DistrictCompleteness *both[] = {d, total};
    for (int i = 0; i < 2; i++) {
        both[i]->expected++;
        if (c->timeliness == CCIP__STATS__TIMELINESS__ON_TIME)
            both[i]->on_time++;
        else if (c->timeliness == CCIP__STATS__TIMELINESS__LATE)
            both[i]->late++;
        else
            both[i]->missing++;
        if (c->status == CCIP__STATS__REPORT_STATUS__ACCEPTED)
            both[i]->accepted++;
    }
}

/* Builds the reply from the quarter's entries (res) in a. */
static int s_reply(ccip_command *cmd, ccip_arena *a, char *quarter, stats_quarter q,
                   const PGresult *res)
{
    Ccip__Stats__CompletenessReply reply = CCIP__STATS__COMPLETENESS_REPLY__INIT;
    reply.quarter = quarter;
    reply.due_at_us = stats_due_us(cmd, q);
    reply.locks_at_us = stats_locks_us(cmd, q);
    Ccip__Stats__DistrictCompleteness total = CCIP__STATS__DISTRICT_COMPLETENESS__INIT;
    total.district_code = "";
    total.district_name = "all districts";
    reply.total = &total;
    int n = PQntuples(res);
    reply.clusters = ccip_arena_alloc(a, (size_t)n * sizeof *reply.clusters);
    reply.districts = ccip_arena_alloc(a, DISTRICTS_MAX * sizeof *reply.districts);
    Ccip__Stats__DistrictCompleteness *d = NULL;
    for (int r = 0; reply.clusters && reply.districts && r < n; r++) {
        const char *code = PQgetvalue(res, r, 2);
        if (!d || strcmp(d->district_code, code) != 0) {
            if (reply.n_districts == DISTRICTS_MAX)
                break;
            d = ccip_arena_alloc(a, sizeof *d);
            if (!d)
                break;
            *d = (Ccip__Stats__DistrictCompleteness)CCIP__STATS__DISTRICT_COMPLETENESS__INIT;
            d->district_code = ccip_arena_strdup(a, code);
            const ccip_district *info = ccip_district_find(code);
            d->district_name = ccip_arena_strdup(a, info ? info->name_en : "");
            reply.districts[reply.n_districts++] = d;
        }
        Ccip__Stats__ClusterCompleteness *c = ccip_arena_alloc(a, sizeof *c);
        if (!c)
            break;
        *c = (Ccip__Stats__ClusterCompleteness)CCIP__STATS__CLUSTER_COMPLETENESS__INIT;
        c->roster_id = ccip_arena_strdup(a, PQgetvalue(res, r, 0));
        c->name = ccip_arena_strdup(a, PQgetvalue(res, r, 1));
        c->district_code = d->district_code;
        c->status = (Ccip__Stats__ReportStatus)ccip_enum_value(
            &ccip__stats__report_status__descriptor, PQgetvalue(res, r, 3));
        c->first_submitted_at_us = ccip_db_cell_i64(res, r, 4);
        c->timeliness = stats_report_timeliness(cmd, q, c->first_submitted_at_us);
        reply.clusters[reply.n_clusters++] = c;
        s_count(d, &total, c);
    }
    for (size_t i = 0; i < reply.n_districts; i++)
        s_rates(reply.districts[i]);
    s_rates(&total);
    return stats_reply_built(cmd, a, &reply.base, "out of memory");
}

int stats_completeness_cmd(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Stats__CompletenessRequest *rq = request;
    stats_quarter q;
    char district[8];
    int rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q);
    if (rc == 0)
        rc = stats_district_arg(cmd, "district", rq->district, district);
    if (rc != 0)
        return rc;
    PGresult *res = NULL;
    const char *p[] = {rq->quarter, district};
    if ((rc = ccip_db_exec(cmd->db, &S_ENTRIES, 2, p, NULL, NULL, &res)) == 0)
        rc = s_reply(cmd, a, rq->quarter, q, res);
    PQclear(res);
    return rc;
}
