/*
 * notify: one inbox per person, and the e-mails and text messages that tell
 * people of it (issue 18; messages in proto/ccip/notify.proto, tables in
 * sql/0001_notify.sql).
 *
 * The service is notify_def (notify.c) run by ccip_service_main. Its parts:
 *
 *   notify_kinds.c     the kinds of item: audience, default channels (pure)
 *   notify_events.c    the events consumed, one line each, and what each
 *                      makes: items, settlements, who is who (pure mapping
 *                      onto a batch)
 *   notify_batch.c     a batch of those effects written with a few
 *                      set-based statements: one event live, thousands in a
 *                      rebuild; live, the deliveries of new items too
 *   notify_inbox.c     the reads: list, count, get
 *   notify_prefs.c     preferences: get, set; quiet hours and digest times
 *   notify_message.c   templates (services/notify/templates/) rendered into
 *                      an e-mail (MIME, headers safe) or a text message (pure)
 *   notify_smtp.c      one e-mail through the SMTP relay (libcurl)
 *   notify_sms.c       one text message through the HTTP SMS gateway (libcurl)
 *   notify_sender.c    the sender thread: claims due deliveries, sends,
 *                      records, retries, gathers digests
 *   notify_deliveries.c  deliveries: list, resend
 *   notify_rebuild.c   the inbox made again by replay; its checksum
 *
 * Who is asking (notify_caller): the envelope's actor id as the gateway sets
 * it, and its role. A caller's items are those addressed to its actor id,
 * and, in one of the center's roles (NOTIFY_ROLE_ADDRESSED), those
 * addressed to "role:<role>".
 *
 * Handlers and helpers follow ccip_command.h: 0 to go on, CCIP_REPLIED once
 * the command is answered, or the negative ccip_db_rc of a failed statement.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "ccip/notify.pb-c.h"
#include "ccip_arena.h"
#include "ccip_service.h"

/* Addressees for a role: "role:" and the role's name. */
#define NOTIFY_ROLE_PREFIX "role:"

/* Longest actor id or addressee, with its NUL. */
#define NOTIFY_ACTOR_MAX 128

/* Languages messages and titles come in; the first is the default. */
#define NOTIFY_LANG_ZH "zh-CN"
#define NOTIFY_LANG_EN "en"

/* Defaults of the settings (notify.* in the configuration file). */
#define NOTIFY_LEASE_SECONDS_DEFAULT "60"
#define NOTIFY_RETRY_MIN_MS_DEFAULT  "1000"
#define NOTIFY_RETRY_MAX_S_DEFAULT   "300"
#define NOTIFY_GIVE_UP_HOURS_DEFAULT "72"
#define NOTIFY_SEND_TIMEOUT_DEFAULT  "30"
#define NOTIFY_POLL_MS_DEFAULT       "500"
#define NOTIFY_SEND_BATCH_DEFAULT    "50"
#define NOTIFY_REBUILD_BATCH_DEFAULT "5000"

/* The service's configuration: the base, then its own settings. */
typedef struct {
    ccip_service_config base;  /* every service's settings; must be first */
    char *smtp_url;            /* notify.smtp_url: smtp://host:port or smtps://...; "" = no
                                  e-mail */
    char *smtp_user;           /* notify.smtp_user: "" = no authentication */
    char *smtp_password;       /* notify.smtp_password (CCIP_NOTIFY_SMTP_PASSWORD) */
    char *smtp_tls;            /* notify.smtp_tls: "try" (STARTTLS when offered), "require",
                                  "off" */
    char *smtp_ca_file;        /* notify.smtp_ca_file: CA bundle to verify the relay; "" =
                                  the system's */
    char *mail_from;           /* notify.mail_from: the sender's address */
    char *mail_from_name;      /* notify.mail_from_name: the sender's name */
    char *sms_url;             /* notify.sms_url: the gateway's URL template ({mobile}, {text},
                                  {id}, {key}); "" = no SMS */
    char *sms_key;             /* notify.sms_key (CCIP_NOTIFY_SMS_KEY): sent as a bearer token */
    char *console_url;         /* notify.console_url: where links in messages point */
    int64_t lease_seconds;     /* notify.lease_seconds: a claimed delivery not recorded by then
                                  is another sender's to send again */
    int64_t retry_min_ms;      /* notify.retry_min_ms: first pause after a temporary failure */
    int64_t retry_max_seconds; /* notify.retry_max_seconds: longest pause between attempts */
    int64_t give_up_hours;     /* notify.give_up_hours: a delivery still failing after this
                                  long fails for good */
    int64_t send_timeout;      /* notify.send_timeout_seconds: one SMTP or HTTP exchange */
    int64_t poll_ms;           /* notify.poll_ms: longest wait between looks for due work */
    int64_t send_batch;        /* notify.send_batch: deliveries claimed at once */
    int64_t rebuild_batch;     /* notify.rebuild_batch: events a rebuild asks a producer for
                                  and writes at once */
} notify_config;

extern const ccip_service_def notify_def;

/* Roles of the handler table (NULL-terminated). */
extern const char *const notify_roles_center[];   /* staff, admin */
extern const char *const notify_roles_admin[];    /* admin */
extern const char *const notify_roles_checksum[]; /* staff, admin, service */

/* The service's settings for this command. */
const notify_config *notify_cfg(const ccip_command *cmd);

/* Who is asking. */
typedef struct {
    char actor[NOTIFY_ACTOR_MAX]; /* the actor id: an addressee */
    char role[NOTIFY_ACTOR_MAX];  /* "role:<role>" for the center's roles, else "" */
    int center;                   /* staff or admin: may read any delivery, resend */
} notify_caller;

/* Fills c from the command's trusted actor. Returns 0, or CCIP_REPLIED
 * (PERMISSION_DENIED) when the actor id is empty or longer than an
 * addressee may be. */
int notify_caller_get(ccip_command *cmd, notify_caller *c);

/* 1 when role is one whose members share the items addressed to
 * "role:<role>" (staff, office, finance, analyst, admin), else 0. */
int notify_role_addressed(const char *role);

/* "zh-CN" for "" or "zh-CN", "en" for "en"; NULL for anything else. */
const char *notify_language(const char *given);

#endif
