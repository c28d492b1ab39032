#include "casefile_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casefile_steps.h"
#include "ccip_log.h"

static const ccip_db_stmt S_STEP = {
    "casefile_step",
    "INSERT INTO step (producer, position, root_id, at, type, action, detail, actor_id, "
    "actor_role, object_kind, object_id, event_id, applicant_status, applicant_message) "
    "VALUES ($1, $2::bigint, $3::uuid, " CCIP_SQL_TS(
        "$4") ", $5, $6, $7, $8, $9, $10, $11, $12, nullif($13, ''), nullif($14, '')) "
              "ON CONFLICT (producer, position) DO NOTHING"};

/* The case's row: made when first seen; first and latest times. */
static const ccip_db_stmt S_CASE = {
    "casefile_case_touch",
    "INSERT INTO case_record (root_id, opened_at, updated_at) VALUES ($1::uuid, " CCIP_SQL_TS(
        "$2") ", " CCIP_SQL_TS("$2") ") ON CONFLICT (root_id) DO UPDATE SET "
                                     "opened_at = least(case_record.opened_at, "
                                     "EXCLUDED.opened_at), "
                                     "updated_at = greatest(case_record.updated_at, "
                                     "EXCLUDED.updated_at)"};

/* The state, when this step is the latest to set one: by time, producer,
 * position. */
static const ccip_db_stmt S_STATE = {
    "casefile_case_state",
    "UPDATE case_record SET state = $2, state_at = " CCIP_SQL_TS(
        "$3") ", state_producer = $4, state_position = $5::bigint WHERE root_id = $1::uuid "
              "AND (state_at IS NULL OR (state_at, state_producer, state_position) < "
              "(" CCIP_SQL_TS("$3") ", $4, $5::bigint))"};

/* The root application's facts: a later intake position wins, an empty
 * value never erases one, an earlier one fills what is still empty. */
static const ccip_db_stmt S_FACTS = {
    "casefile_case_facts",
    "UPDATE case_record SET "
    "kind = CASE WHEN $2 <> '' AND ($7::bigint > facts_position OR kind = '') THEN $2 ELSE kind "
    "END, "
    "title = CASE WHEN $3 <> '' AND ($7::bigint > facts_position OR title = '') THEN $3 ELSE "
    "title END, "
    "applicant_uscc = CASE WHEN $4 <> '' AND ($7::bigint > facts_position OR applicant_uscc = '') "
    "THEN $4 ELSE applicant_uscc END, "
    "applicant_name = CASE WHEN $5 <> '' AND ($7::bigint > facts_position OR applicant_name = '') "
    "THEN $5 ELSE applicant_name END, "
    "district_code = CASE WHEN $6 <> '' AND ($7::bigint > facts_position OR district_code = '') "
    "THEN $6 ELSE district_code END, "
    "facts_position = greatest(facts_position, $7::bigint) WHERE root_id = $1::uuid"};

static const ccip_db_stmt S_APPLICATION = {
    "casefile_case_application",
    "INSERT INTO case_application (application_id, root_id, title, first_at) VALUES ($1::uuid, "
    "$2::uuid, $3, " CCIP_SQL_TS("$4") ") ON CONFLICT (application_id) DO UPDATE SET "
                                       "title = CASE WHEN case_application.title = '' THEN "
                                       "EXCLUDED.title ELSE case_application.title END, "
                                       "first_at = least(case_application.first_at, "
                                       "EXCLUDED.first_at)"};

/* What a search by text looks in: the root's title, the applicant's name
 * and code, the titles of the applications continuing the case. */
static const ccip_db_stmt S_SEARCH_TEXT = {
    "casefile_case_search_text",
    "UPDATE case_record r SET search_text = concat_ws(' ', r.title, r.applicant_name, "
    "r.applicant_uscc, (SELECT string_agg(a.title, ' ' ORDER BY a.first_at, a.application_id) "
    "FROM case_application a WHERE a.root_id = r.root_id AND a.application_id <> r.root_id)) "
    "WHERE r.root_id = $1::uuid"};

/* The object for the dossier: the latest position wins (each kind of
 * object comes from one producer). */
static const ccip_db_stmt S_OBJECT = {
    "casefile_case_object",
    "INSERT INTO case_object (root_id, kind, object_id, producer, position, at, type, payload) "
    "VALUES ($1::uuid, $2, $3, $4, $5::bigint, " CCIP_SQL_TS(
        "$6") ", $7, $8) ON CONFLICT (root_id, kind, object_id) DO UPDATE SET "
              "producer = EXCLUDED.producer, position = EXCLUDED.position, at = EXCLUDED.at, "
              "type = EXCLUDED.type, payload = EXCLUDED.payload "
              "WHERE case_object.position < EXCLUDED.position"};

static int s_write(ccip_db *db, const Ccip__Envelope *ev, const casefile_step *s)
{
    char pos[24], at[24];
    snprintf(pos, sizeof pos, "%" PRIu64, ev->position);
    snprintf(at, sizeof at, "%" PRId64, ev->occurred_at_us);
    const char *step[] = {s->producer,
                          pos,
                          s->root_id,
                          at,
                          ev->type,
                          s->action,
                          s->detail,
                          ev->actor_id,
                          ev->actor_role,
                          s->object_kind,
                          s->object_id,
                          ev->id,
                          s->applicant_status ? s->applicant_status : "",
                          s->applicant_message ? s->applicant_message : ""};
    int rc = ccip_db_exec(db, &S_STEP, 14, step, NULL, NULL, NULL);
    const char *touch[] = {s->root_id, at};
    if (rc == 0)
        rc = ccip_db_exec(db, &S_CASE, 2, touch, NULL, NULL, NULL);
    const char *state[] = {s->root_id, s->state, at, s->producer, pos};
    if (rc == 0 && s->state)
        rc = ccip_db_exec(db, &S_STATE, 5, state, NULL, NULL, NULL);
    if (rc == 0 && s->application_id[0]) {
        const char *app[] = {s->application_id, s->root_id,
                             s->application_title ? s->application_title : "", at};
        rc = ccip_db_exec(db, &S_APPLICATION, 4, app, NULL, NULL, NULL);
        if (rc == 0 && s->has_facts && strcmp(s->application_id, s->root_id) == 0) {
            const char *f[] = {s->root_id,
                               s->facts.kind,
                               s->facts.title,
                               s->facts.applicant_uscc,
                               s->facts.applicant_name,
                               s->facts.district_code,
                               pos};
            rc = ccip_db_exec(db, &S_FACTS, 7, f, NULL, NULL, NULL);
        }
        if (rc == 0)
            rc =
                ccip_db_exec(db, &S_SEARCH_TEXT, 1, (const char *[]){s->root_id}, NULL, NULL, NULL);
    }
    if (rc == 0 && s->dossier_kind) {
        const char *obj[] = {s->root_id,    s->dossier_kind,
                             s->dossier_id, s->producer,
                             pos,           at,
                             ev->type,      (const char *)ev->payload.data};
        const int lengths[] = {0, 0, 0, 0, 0, 0, 0, (int)ev->payload.len};
        const int formats[] = {0, 0, 0, 0, 0, 0, 0, 1};
        /* an empty payload still needs a non-NULL value to be bytes, not NULL */
        if (!obj[7])
            obj[7] = "";
        rc = ccip_db_exec(db, &S_OBJECT, 8, obj, lengths, formats, NULL);
    }
    return rc;
}

int casefile_store_apply(ccip_db *db, const Ccip__Envelope *ev, void *arg)
{
    (void)arg;
    casefile_step step;
    ProtobufCMessage *msg = NULL;
    char err[300];
    casefile_step_rc r = casefile_step_read(ev, &step, &msg, err, sizeof err);
    if (r == CASEFILE_STEP_NO_CASE)
        return 0;
    if (r == CASEFILE_STEP_BAD) {
        char pos[24];
        snprintf(pos, sizeof pos, "%" PRIu64, ev->position);
        ccip_log_warn("skipped an event about a case that cannot be read", "type", ev->type,
                      "position", pos, "event", ev->id, "case", ev->correlation_id, "reason", err);
        return 0;
    }
    int rc = s_write(db, ev, &step);
    protobuf_c_message_free_unpacked(msg, NULL);
    return rc;
}
