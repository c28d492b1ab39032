#include "casefile.h"

#include "casefile_cases.h"
#include "casefile_steps.h"
#include "casefile_store.h"
#include "ccip/casefile.pb-c.h"

CCIP_MIGRATIONS_DECLARE(casefile);

const char *const casefile_roles_staff[] = {"staff", "admin", "office", "service", NULL};
const char *const casefile_roles_readers[] = {"staff",   "admin",     "office",
                                              "service", "applicant", NULL};

/* The commands (roles and messages as in proto/ccip/casefile.proto). */
static const ccip_command_handler s_commands[] = {
    {"casefile.case.get.v1", 0, casefile_roles_readers, casefile_case_get, NULL,
     CCIP_MSG(casefile, get_case_request), CCIP_MSG(casefile, case_reply)},
    {"casefile.case.search.v1", 0, casefile_roles_readers, casefile_case_search, NULL,
     CCIP_MSG(casefile, search_cases_request), CCIP_MSG(casefile, search_cases_reply)},
    {"casefile.case.dossier.v1", 0, casefile_roles_staff, casefile_case_dossier, NULL,
     CCIP_MSG(casefile, get_case_request), CCIP_MSG(casefile, dossier_reply)},
};

/* One consumer per producer, every type through the same handler; the
 * types are casefile_steps.h's lists. */
#define S_HANDLER(type) {type, casefile_store_apply},
static const ccip_consumer_handler s_intake[] = {CASEFILE_TYPES_INTAKE(S_HANDLER)};
static const ccip_consumer_handler s_evaluation[] = {CASEFILE_TYPES_EVALUATION(S_HANDLER)};
static const ccip_consumer_handler s_funding[] = {CASEFILE_TYPES_FUNDING(S_HANDLER)};
static const ccip_consumer_handler s_ip[] = {CASEFILE_TYPES_IP(S_HANDLER)};
static const ccip_consumer_handler s_stats[] = {CASEFILE_TYPES_STATS(S_HANDLER)};
static const ccip_consumer_handler s_followup[] = {CASEFILE_TYPES_FOLLOWUP(S_HANDLER)};

static const ccip_subscription s_subscriptions[] = {
    {"intake", CCIP_TABLE(s_intake)},   {"evaluation", CCIP_TABLE(s_evaluation)},
    {"funding", CCIP_TABLE(s_funding)}, {"ip", CCIP_TABLE(s_ip)},
    {"stats", CCIP_TABLE(s_stats)},     {"followup", CCIP_TABLE(s_followup)},
};

const ccip_service_def casefile_def = {
    .name = "casefile",
    .migrations = casefile_migrations,
    CCIP_DEF_TABLE(commands, s_commands),
    CCIP_DEF_TABLE(subscriptions, s_subscriptions),
};
