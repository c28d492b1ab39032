#include "notify.h"

#include <stdio.h>
#include <string.h>

#include "ccip/evaluation.pb-c.h"
#include "ccip/followup.pb-c.h"
#include "ccip/funding.pb-c.h"
#include "ccip/gateway.pb-c.h"
#include "ccip/intake.pb-c.h"
#include "ccip/ip.pb-c.h"
#include "ccip/stats.pb-c.h"
#include "notify_deliveries.h"
#include "notify_events.h"
#include "notify_inbox.h"
#include "notify_prefs.h"
#include "notify_rebuild.h"
#include "notify_sender.h"

CCIP_MIGRATIONS_DECLARE(notify);

const char *const notify_roles_center[] = {"staff", "admin", NULL};
const char *const notify_roles_admin[] = {"admin", NULL};
const char *const notify_roles_checksum[] = {"staff", "admin", "service", NULL};

/* The commands (roles and messages as in proto/ccip/notify.proto). Reads are
 * open to any caller: what a caller sees is decided by its actor id. */
static const ccip_command_handler s_commands[] = {
    {"notify.inbox.list.v1", 0, NULL, notify_inbox_list_cmd, NULL,
     CCIP_MSG(notify, list_inbox_request), CCIP_MSG(notify, list_inbox_reply)},
    {"notify.inbox.count.v1", 0, NULL, notify_inbox_count_cmd, NULL,
     CCIP_MSG(notify, count_inbox_request), CCIP_MSG(notify, count_inbox_reply)},
    {"notify.inbox.get.v1", 0, NULL, notify_inbox_get_cmd, NULL, CCIP_MSG(notify, get_item_request),
     CCIP_MSG(notify, item_reply)},
    {"notify.preferences.get.v1", 0, NULL, notify_prefs_get_cmd, NULL,
     CCIP_MSG(notify, get_preferences_request), CCIP_MSG(notify, preferences_reply)},
    {"notify.preferences.set.v1", 1, NULL, notify_prefs_set_cmd, NULL,
     CCIP_MSG(notify, set_preferences_request), CCIP_MSG(notify, preferences_reply)},
    {"notify.delivery.list.v1", 0, NULL, notify_deliveries_list_cmd, NULL,
     CCIP_MSG(notify, list_deliveries_request), CCIP_MSG(notify, list_deliveries_reply)},
    {"notify.delivery.resend.v1", 1, notify_roles_center, notify_deliveries_resend_cmd, NULL,
     CCIP_MSG(notify, resend_request), CCIP_MSG(notify, delivery_reply)},
    {"notify.inbox.rebuild.v1", 1, notify_roles_admin, notify_rebuild_cmd, NULL,
     CCIP_MSG(notify, rebuild_request), CCIP_MSG(notify, rebuild_reply)},
    {"notify.inbox.checksum.v1", 0, notify_roles_checksum, notify_checksum_cmd, NULL,
     CCIP_MSG(notify, checksum_request), CCIP_MSG(notify, checksum_reply)},
};

/* The streams consumed: every type listed in notify_events.h. */
#define S_HANDLER(type, message, map) {type, notify_events_apply},

static const ccip_consumer_handler s_intake[] = {NOTIFY_EVENTS_INTAKE(S_HANDLER)};
static const ccip_consumer_handler s_evaluation[] = {NOTIFY_EVENTS_EVALUATION(S_HANDLER)};
static const ccip_consumer_handler s_funding[] = {NOTIFY_EVENTS_FUNDING(S_HANDLER)};
static const ccip_consumer_handler s_ip[] = {NOTIFY_EVENTS_IP(S_HANDLER)};
static const ccip_consumer_handler s_stats[] = {NOTIFY_EVENTS_STATS(S_HANDLER)};
static const ccip_consumer_handler s_followup[] = {NOTIFY_EVENTS_FOLLOWUP(S_HANDLER)};
static const ccip_consumer_handler s_gateway[] = {NOTIFY_EVENTS_GATEWAY(S_HANDLER)};

static const ccip_subscription s_subscriptions[] = {
    {"intake", CCIP_TABLE(s_intake)},   {"evaluation", CCIP_TABLE(s_evaluation)},
    {"funding", CCIP_TABLE(s_funding)}, {"ip", CCIP_TABLE(s_ip)},
    {"stats", CCIP_TABLE(s_stats)},     {"followup", CCIP_TABLE(s_followup)},
    {"gateway", CCIP_TABLE(s_gateway)},
};

#define CFG(field) offsetof(notify_config, field)

static const ccip_config_field s_config_fields[] = {
    {"notify.smtp_url", CCIP_CFG_STRING, CFG(smtp_url), 0, 255, "", "CCIP_NOTIFY_SMTP_URL",
     "the SMTP relay, e.g. smtp://mail.example.cn:587 (\"\" sends no e-mail)"},
    {"notify.smtp_user", CCIP_CFG_STRING, CFG(smtp_user), 0, 255, "", "CCIP_NOTIFY_SMTP_USER",
     "the relay's user name, \"\" for none"},
    {"notify.smtp_password", CCIP_CFG_STRING, CFG(smtp_password), 0, 255, "",
     "CCIP_NOTIFY_SMTP_PASSWORD", "the relay's password; set CCIP_NOTIFY_SMTP_PASSWORD"},
    {"notify.smtp_tls", CCIP_CFG_STRING, CFG(smtp_tls), 2, 7, "try", "CCIP_NOTIFY_SMTP_TLS",
     "try (STARTTLS when the relay offers it), require, or off"},
    {"notify.smtp_ca_file", CCIP_CFG_STRING, CFG(smtp_ca_file), 0, 1023, "",
     "CCIP_NOTIFY_SMTP_CA_FILE", "a CA bundle to verify the relay with, \"\" for the system's"},
    {"notify.mail_from", CCIP_CFG_STRING, CFG(mail_from), 3, 254, "noreply@ccip.invalid",
     "CCIP_NOTIFY_MAIL_FROM", "the sender's address, e.g. noreply@wenchuang.example.cn"},
    {"notify.mail_from_name", CCIP_CFG_STRING, CFG(mail_from_name), 0, 200,
     "\xE6\x96\x87\xE5\x88\x9B\xE4\xB8\xAD\xE5\xBF\x83", "CCIP_NOTIFY_MAIL_FROM_NAME",
     "the sender's name"},
    {"notify.sms_url", CCIP_CFG_STRING, CFG(sms_url), 0, 1023, "", "CCIP_NOTIFY_SMS_URL",
     "the SMS gateway's URL template with {mobile}, {text}, {id} (and {key}), \"\" sends no SMS"},
    {"notify.sms_key", CCIP_CFG_STRING, CFG(sms_key), 0, 255, "", "CCIP_NOTIFY_SMS_KEY",
     "the SMS gateway's key; set CCIP_NOTIFY_SMS_KEY"},
    {"notify.console_url", CCIP_CFG_STRING, CFG(console_url), 0, 255, "https://ccip.invalid",
     "CCIP_NOTIFY_CONSOLE_URL", "the console's address, where links in messages point"},
    {"notify.lease_seconds", CCIP_CFG_INT, CFG(lease_seconds), 1, 3600,
     NOTIFY_LEASE_SECONDS_DEFAULT, "CCIP_NOTIFY_LEASE_SECONDS",
     "seconds a sender holds a delivery it sends, 1 to 3600"},
    {"notify.retry_min_ms", CCIP_CFG_INT, CFG(retry_min_ms), 10, 3600000,
     NOTIFY_RETRY_MIN_MS_DEFAULT, "CCIP_NOTIFY_RETRY_MIN_MS",
     "milliseconds before the first retry, 10 to 3600000"},
    {"notify.retry_max_seconds", CCIP_CFG_INT, CFG(retry_max_seconds), 1, 86400,
     NOTIFY_RETRY_MAX_S_DEFAULT, "CCIP_NOTIFY_RETRY_MAX_SECONDS",
     "the longest pause between retries, 1 to 86400 seconds"},
    {"notify.give_up_hours", CCIP_CFG_INT, CFG(give_up_hours), 1, 24 * 30,
     NOTIFY_GIVE_UP_HOURS_DEFAULT, "CCIP_NOTIFY_GIVE_UP_HOURS",
     "hours after which a delivery still failing fails for good, 1 to 720"},
    {"notify.send_timeout_seconds", CCIP_CFG_INT, CFG(send_timeout), 1, 600,
     NOTIFY_SEND_TIMEOUT_DEFAULT, "CCIP_NOTIFY_SEND_TIMEOUT_SECONDS",
     "seconds one SMTP or HTTP exchange may take, 1 to 600"},
    {"notify.poll_ms", CCIP_CFG_INT, CFG(poll_ms), 10, 60000, NOTIFY_POLL_MS_DEFAULT,
     "CCIP_NOTIFY_POLL_MS", "the longest wait between looks for due deliveries, 10 to 60000"},
    {"notify.send_batch", CCIP_CFG_INT, CFG(send_batch), 1, 1000, NOTIFY_SEND_BATCH_DEFAULT,
     "CCIP_NOTIFY_SEND_BATCH", "deliveries a sender claims at once, 1 to 1000"},
    {"notify.rebuild_batch", CCIP_CFG_INT, CFG(rebuild_batch), 1, 20000,
     NOTIFY_REBUILD_BATCH_DEFAULT, "CCIP_NOTIFY_REBUILD_BATCH",
     "events a rebuild reads from a producer and writes at once, 1 to 20000"},
};

const ccip_service_def notify_def = {
    .name = "notify",
    .migrations = notify_migrations,
    CCIP_DEF_TABLE(commands, s_commands),
    CCIP_DEF_TABLE(subscriptions, s_subscriptions),
    CCIP_DEF_TABLE(config_fields, s_config_fields),
    .config_size = sizeof(notify_config),
    .start = notify_sender_start,
    .stop = notify_sender_stop,
};

/* ---- callers ------------------------------------------------------------- */

const notify_config *notify_cfg(const ccip_command *cmd)
{
    return ccip_service_config_get(cmd->service);
}

int notify_role_addressed(const char *role)
{
    static const char *const roles[] = {"staff", "office", "finance", "analyst", "admin"};
    for (size_t i = 0; role && i < CCIP_NELEMS(roles); i++)
        if (strcmp(role, roles[i]) == 0)
            return 1;
    return 0;
}

int notify_caller_get(ccip_command *cmd, notify_caller *c)
{
    memset(c, 0, sizeof *c);
    const char *id = cmd->actor.id ? cmd->actor.id : "";
    const char *role = cmd->actor.role ? cmd->actor.role : "";
    if (!id[0] || strlen(id) >= sizeof c->actor)
        return ccip_command_fail(cmd, CCIP__STATUS__PERMISSION_DENIED,
                                 "notify needs the caller's actor id (at most %zu bytes) to know "
                                 "whose inbox it is; sign in through the gateway or give ccipctl "
                                 "--actor",
                                 sizeof c->actor - 1);
    snprintf(c->actor, sizeof c->actor, "%s", id);
    if (notify_role_addressed(role))
        snprintf(c->role, sizeof c->role, "%s%s", NOTIFY_ROLE_PREFIX, role);
    c->center = strcmp(role, "staff") == 0 || strcmp(role, "admin") == 0;
    return 0;
}

const char *notify_language(const char *given)
{
    if (!given || !given[0] || strcmp(given, NOTIFY_LANG_ZH) == 0)
        return NOTIFY_LANG_ZH;
    if (strcmp(given, NOTIFY_LANG_EN) == 0)
        return NOTIFY_LANG_EN;
    return NULL;
}
