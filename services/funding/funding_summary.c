#include "funding_summary.h"

#include <stdio.h>
#include <stdlib.h>

#include "funding_awards.h"
#include "funding_programmes.h"

#define AWARDS_MAX "5000" /* awards one summary lists */

static const ccip_db_stmt S_AWARDS = {
    "funding_summary_awards",
    "SELECT id FROM award WHERE programme_code = $1 AND year = $2::integer ORDER "
    "BY proposed_at, id LIMIT " AWARDS_MAX};

int funding_summary_year(ccip_command *cmd, ccip_arena *a, void *request)
{
    Ccip__Funding__YearSummaryRequest *rq = request;
    PGresult *res = NULL;
    int rc;
    Ccip__Funding__YearSummaryReply reply = CCIP__FUNDING__YEAR_SUMMARY_REPLY__INIT;
    if ((rc = ccip_command_check_code(cmd, "programme_code", rq->programme_code,
                                      FUNDING_CODE_MAX)) != 0 ||
        (rc = funding_check_year(cmd, "year", rq->year)) != 0 ||
        (rc = funding_programme_check(cmd, "programme_code", rq->programme_code)) != 0 ||
        (rc = funding_budget_load(cmd->db, rq->programme_code, rq->year, 1, a, &reply.budget)) != 0)
        goto out;
    if (!reply.budget) {
        rc = ccip_arena_failed(a)
                 ? ccip_command_fail(cmd, CCIP__STATUS__INTERNAL, "out of memory reading a budget")
                 : ccip_command_fail(
                       cmd, CCIP__STATUS__NOT_FOUND,
                       "programme \"%s\" has no budget for %d; set one with funding.budget.set.v1",
                       rq->programme_code, (int)rq->year);
        goto out;
    }
    char year[24];
    ccip_i64_text(rq->year, year);
    const char *v[] = {rq->programme_code, year};
    if ((rc = ccip_db_exec(cmd->db, &S_AWARDS, 2, v, NULL, NULL, &res)) != CCIP_DB_OK)
        goto out;
    int rows = PQntuples(res);
    reply.awards = ccip_arena_alloc(a, (size_t)rows * sizeof *reply.awards + 1);
    for (int r = 0; rc == 0 && reply.awards && r < rows; r++) {
        Ccip__Funding__Award *w = NULL;
        rc = funding_award_load(cmd->db, PQgetvalue(res, r, 0), NULL, 0, a, &w);
        if (w)
            reply.awards[reply.n_awards++] = w;
    }
    if (rc == 0)
        rc = ccip_command_reply_built(cmd, a, &reply.base);
out:
    PQclear(res);
    return rc;
}
