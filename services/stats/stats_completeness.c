#include "stats_completeness.h"

#include <stdio.h>
#include <string.h>

#include "ccip_arena.h"
#include "stats_reports.h"

#define DISTRICTS_MAX 32 /* Beijing has 16 */

static const ccip_db_stmt S_ENTRIES = {
    "stats_completeness_entries",
    "SELECT e.id, e.name, e.district_code, coalesce(r.status, ''), "
    "coalesce(" STATS_SQL_US(
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

int stats_completeness_cmd(ccip_command *cmd)
{
    Ccip__Stats__CompletenessRequest *rq = (Ccip__Stats__CompletenessRequest *)stats_unpack(
        cmd, &ccip__stats__completeness_request__descriptor);
    if (!rq)
        return 0;
    stats_quarter q;
    char district[8];
    PGresult *res = NULL;
    ccip_arena *a = NULL;
    int rc = stats_quarter_arg(cmd, "quarter", rq->quarter, &q);
    if (rc == 0)
        rc = stats_district_arg(cmd, "district", rq->district, district);
    const char *p[] = {rq->quarter, district};
    if (rc == 0)
        rc = ccip_db_exec(cmd->db, &S_ENTRIES, 2, p, NULL, NULL, &res);
    if (rc != 0)
        goto out;
    a = ccip_arena_new();
    Ccip__Stats__CompletenessReply reply = CCIP__STATS__COMPLETENESS_REPLY__INIT;
    reply.quarter = rq->quarter;
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
        c->status = (Ccip__Stats__ReportStatus)stats_enum_value(
            &ccip__stats__report_status__descriptor, PQgetvalue(res, r, 3));
        c->first_submitted_at_us = stats_cell_i64(res, r, 4);
        c->timeliness = stats_report_timeliness(cmd, q, c->first_submitted_at_us);
        reply.clusters[reply.n_clusters++] = c;
        d->expected++;
        total.expected++;
        if (c->timeliness == CCIP__STATS__TIMELINESS__ON_TIME) {
            d->on_time++;
            total.on_time++;
        } else if (c->timeliness == CCIP__STATS__TIMELINESS__LATE) {
            d->late++;
            total.late++;
        } else {
            d->missing++;
            total.missing++;
        }
        if (c->status == CCIP__STATS__REPORT_STATUS__ACCEPTED) {
            d->accepted++;
            total.accepted++;
        }
    }
    for (size_t i = 0; i < reply.n_districts; i++)
        s_rates(reply.districts[i]);
    s_rates(&total);
    if (ccip_arena_failed(a))
        rc = stats_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory");
    else
        rc = stats_reply(cmd, &reply.base);
out:
    PQclear(res);
    ccip_arena_destroy(&a);
    protobuf_c_message_free_unpacked(&rq->base, NULL);
    return STATS_RC(rc);
}
