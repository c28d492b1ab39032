#include "ccip_test_intake.h"

#include <libpq-fe.h>
#include <stdio.h>

#include "ccip/intake.pb-c.h"
#include "ccip_test_db.h"
#include "ccip_test_svc.h"

#define STAFF "staff-load" /* who opens the calls and verifies the organisations */

int ccip_test_intake_calls(ccip_client *via, const char *what, long n,
                           char (*ids)[CCIP_UUID_STRLEN + 1])
{
    char err[512], title[200];
    snprintf(title, sizeof title, "2027 identification of creative industry clusters (%s)", what);
    Ccip__Intake__OpenCallRequest rq = CCIP__INTAKE__OPEN_CALL_REQUEST__INIT;
    rq.kind = CCIP__INTAKE__CALL_KIND__CLUSTER_IDENTIFICATION;
    rq.year = 2027;
    rq.title = title;
    int64_t now = ccip_now_us() / 1000000 * 1000000;
    rq.opens_at_us = now - 3600LL * 1000000;
    rq.closes_at_us = now + 30 * 24 * 3600LL * 1000000;
    char *docs[] = {CCIP_TEST_REQUIRED_DOC};
    rq.required_documents = docs;
    rq.n_required_documents = 1;
    Ccip__Intake__CallReply *r = NULL;
    int status = ccip_test_call(via, "intake", "staff", STAFF, "intake.call.open.v1", &rq.base,
                                &ccip__intake__call_reply__descriptor, (ProtobufCMessage **)&r, err,
                                sizeof err);
    if (status != 0) {
        fprintf(stderr, "%s: could not open the call: %d %s\n", what, status, err);
        return -1;
    }
    char template[CCIP_UUID_STRLEN + 1], count[24];
    snprintf(template, sizeof template, "%s", r->call->id);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    snprintf(count, sizeof count, "%ld", n);
    static const ccip_db_stmt S_COPY = {
        "test_intake_calls_copy",
        "INSERT INTO call (id, kind, year, title, opens_at, closes_at, required_documents, "
        "eligible_types, fund_programme_code, max_request_fen, opened_by) "
        "SELECT gen_random_uuid(), kind, year, title || ' #' || g, opens_at, closes_at, "
        "required_documents, eligible_types, fund_programme_code, max_request_fen, opened_by "
        "FROM call, generate_series(1, $2::integer) g WHERE id = $1::uuid RETURNING id"};
    ccip_db *db = ccip_test_db_connect_in("intake", "intake");
    const char *values[] = {template, count};
    PGresult *res = NULL;
    if (!db || ccip_db_exec(db, &S_COPY, 2, values, NULL, NULL, &res) != CCIP_DB_OK ||
        PQntuples(res) != n) {
        fprintf(stderr, "%s: could not copy the call: %s\n", what,
                db ? ccip_db_error(db) : ccip_test_db_error());
        PQclear(res);
        ccip_db_destroy(&db);
        return -1;
    }
    for (long k = 0; k < n; k++)
        snprintf(ids[k], sizeof ids[k], "%s", PQgetvalue(res, (int)k, 0));
    PQclear(res);
    ccip_db_destroy(&db);
    return 0;
}

int ccip_test_intake_org(ccip_client *via, const char *uscc, const char *name)
{
    char err[512], actor[32];
    snprintf(actor, sizeof actor, "org:%s", uscc);
    Ccip__Intake__RegisterOrganisationRequest rq =
        CCIP__INTAKE__REGISTER_ORGANISATION_REQUEST__INIT;
    rq.uscc = (char *)uscc;
    rq.name = (char *)name;
    rq.type = CCIP__INTAKE__ORGANISATION_TYPE__ENTERPRISE;
    rq.district = "Chaoyang";
    rq.legal_representative = "Wang Fang";
    rq.contact_name = "Li Ming";
    rq.contact_phone = "010-6512 3456";
    int status =
        ccip_test_call(via, "intake", "applicant", actor, "intake.organisation.register.v1",
                       &rq.base, NULL, NULL, err, sizeof err);
    if (status == 0) {
        Ccip__Intake__VerifyOrganisationRequest v = CCIP__INTAKE__VERIFY_ORGANISATION_REQUEST__INIT;
        v.uscc = (char *)uscc;
        v.note = "licence checked";
        status = ccip_test_call(via, "intake", "staff", STAFF, "intake.organisation.verify.v1",
                                &v.base, NULL, NULL, err, sizeof err);
    }
    if (status != 0)
        fprintf(stderr, "could not register organisation %s: %d %s\n", uscc, status, err);
    return status == 0 ? 0 : -1;
}
