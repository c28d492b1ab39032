/*
 * ccipctl gateway ...: accounts, role bindings, invitations and password
 * resets of the gateway (services/gateway), through the bus, as staff or an
 * admin would manage them without a browser. The first admin of a new
 * installation is invited this way:
 *
 *   ccipctl --role admin --actor person:root gateway invite --email ops@example.cn --kind admin
 *
 * and accepts at POST /api/v1/invitations/{token}/accept. Until a notify
 * service exists the token is printed to whoever issued it, who hands it
 * over.
 *
 * Replies are printed for people as indented "field: value" lines (times
 * as RFC 3339, empty fields left out), or with --json as one JSON object
 * that mirrors the reply message (proto/ccip/gateway.proto).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ccip/gateway.pb-c.h"
#include "ccip_id.h"
#include "ctl.h"

/* ---- the commands -------------------------------------------------------------------- */

#define KIND(flags) CTL_ENUM("kind", "kind", &ccip__gateway__binding_kind__descriptor, NULL, flags)

static const ctl_arg A_ACCOUNT_GET[] = {
    CTL_STR("ACCOUNT", "account_id", CTL_ARG_OPTIONAL), CTL_STR("login", "login", 0), {0}};
static const ctl_arg A_ACCOUNT_LIST[] = {KIND(0),
                                         CTL_STR("subject", "subject", 0),
                                         CTL_STR("after", "after_id", 0),
                                         CTL_INT("limit", "limit", 0, 1000, 0),
                                         {0}};
static const ctl_arg A_GRANT[] = {CTL_STR("ACCOUNT", "account_id", CTL_ARG),
                                  KIND(CTL_REQUIRED),
                                  CTL_STR("subject", "subject", 0),
                                  CTL_STR("reason", "reason", 0),
                                  {0}};
static const ctl_arg A_REVOKE[] = {
    CTL_STR("BINDING", "binding_id", CTL_ARG), CTL_STR("reason", "reason", CTL_REQUIRED), {0}};
static const ctl_arg A_INVITE[] = {CTL_STR("email", "email", CTL_REQUIRED),
                                   KIND(CTL_REQUIRED),
                                   CTL_STR("subject", "subject", 0),
                                   CTL_INT("hours", "valid_hours", 1, 720, 0),
                                   CTL_STR("note", "note", 0),
                                   {0}};
static const ctl_arg A_RESET[] = {
    CTL_STR("ACCOUNT", "account_id", CTL_ARG), CTL_INT("hours", "valid_hours", 1, 720, 0), {0}};

#define T(name) "gateway." name ".v1"
#define Q(name) &ccip__gateway__##name##_request__descriptor
#define R(name) &ccip__gateway__##name##_reply__descriptor

static const ctl_command S_COMMANDS[] = {
    {"account get", "[ACCOUNT] [--login LOGIN]", A_ACCOUNT_GET, T("account.get"), Q(get_account),
     R(account), ctl_print_fields, NULL, NULL,
     "  an account and its bindings, by id or by login\n"},
    {"account list", "[--kind KIND] [--subject S] [--after ACCOUNT] [--limit N]", A_ACCOUNT_LIST,
     T("account.list"), Q(list_accounts), R(list_accounts), ctl_print_fields, NULL, NULL,
     "  accounts in id order, only those holding a live binding of KIND (and subject S) when "
     "given\n"},
    {"binding grant", "ACCOUNT --kind KIND [--subject S] [--reason TEXT]", A_GRANT,
     T("binding.grant"), Q(grant_binding), R(binding), ctl_print_fields, NULL, NULL,
     "  gives the account a binding; its subject (an organisation's USCC, an expert's or\n"
     "  agency's register id, a district code) is checked with the service that owns it\n"},
    {"binding revoke", "BINDING --reason TEXT", A_REVOKE, T("binding.revoke"), Q(revoke_binding),
     R(binding), ctl_print_fields, NULL, NULL,
     "  the binding acts no more, in every session at once\n"},
    {"invite", "--email ADDRESS --kind KIND [--subject S] [--hours N] [--note TEXT]", A_INVITE,
     T("invitation.create"), Q(create_invitation), R(invitation), ctl_print_fields, NULL, NULL,
     "  a one-time invitation to hold a binding; prints the token the invitee posts to\n"
     "  /api/v1/invitations/{token}/accept (hand it over: no e-mail is sent yet)\n"},
    {"password-reset", "ACCOUNT [--hours N]", A_RESET, T("password_reset.issue"), Q(issue_reset),
     R(reset), ctl_print_fields, NULL, NULL,
     "  a one-time token to set a new password at /api/v1/password-resets/{token}\n"},
};

static const ctl_service S_GATEWAY = {
    .name = "gateway",
    .header = "usage: ccipctl --role admin|staff --actor ID gateway COMMAND ...\n",
    .list_prefix = "  gateway ",
    .footer = "KIND is organisation, staff, finance, expert, agency, office, analyst, district or\n"
              "admin; staff manage only organisation, expert, agency and district bindings.\n",
    .commands = S_COMMANDS,
    .ncommands = sizeof S_COMMANDS / sizeof S_COMMANDS[0],
};

int ctl_gateway(ctl_opts *o, int argc, char **argv)
{
    return ctl_service_run(o, &S_GATEWAY, argc, argv);
}
