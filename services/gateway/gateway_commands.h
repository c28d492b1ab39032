/*
 * gateway_commands: the gateway's own bus commands (gateway.*.v1, roles in
 * gateway.c and proto/ccip/gateway.proto) and its consumer of intake's
 * events. Each command writes its change, its audit row and its event in
 * the command's transaction.
 */
#ifndef GATEWAY_COMMANDS_H
#define GATEWAY_COMMANDS_H

#include "ccip_command.h"
#include "ccip_consumer.h"

int gateway_cmd_account_get(ccip_command *cmd, ccip_arena *a, void *request);
int gateway_cmd_account_list(ccip_command *cmd, ccip_arena *a, void *request);
int gateway_cmd_binding_grant(ccip_command *cmd, ccip_arena *a, void *request);
int gateway_cmd_binding_revoke(ccip_command *cmd, ccip_arena *a, void *request);
int gateway_cmd_invitation_create(ccip_command *cmd, ccip_arena *a, void *request);
int gateway_cmd_reset_issue(ccip_command *cmd, ccip_arena *a, void *request);

/* intake.organisation.verified.v1: the pending binding of the account that
 * registered the organisation becomes ACTIVE (gateway.account.binding_granted.v1);
 * other pending claims of it are revoked (an existing user invites them). */
int gateway_on_organisation_verified(ccip_db *db, const Ccip__Envelope *event, void *arg);

/* Emits gateway.account.binding_granted.v1 or _revoked.v1 for binding b of
 * account (login) in the command's transaction. Returns as
 * ccip_command_emit. */
int gateway_emit_binding(ccip_command *cmd, const char *type, const char *account_id,
                         const char *login, const void *binding);

#endif
