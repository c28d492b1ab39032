/*
 * ip_providers: the intermediary service platform: a directory of providers
 * of information, investment and legal consultation, certification and
 * technical services, and the requests organisations send them.
 *
 *   provider.register  a party (owner or applicant) lists itself as a
 *                      provider with its categories; not bookable until
 *   provider.verify    staff have checked it
 *   request.create     a party asks a verified provider for a service in one
 *                      of its categories (ip.service.requested.v1)
 *   request.accept     the provider takes it on
 *   request.complete   the provider reports it done (ip.service.completed.v1)
 *   request.rate       the requester rates it 1..5 (ip.service.rated.v1)
 *
 * The events carry the whole request, so statistics can count requests,
 * completions and ratings per category and provider from them alone.
 * Handlers follow ccip_command_fn; roles in ip.h.
 */
#ifndef IP_PROVIDERS_H
#define IP_PROVIDERS_H

#include "ip.h"

int ip_provider_register(ccip_command *cmd, ccip_arena *a, void *request);
int ip_provider_verify(ccip_command *cmd, ccip_arena *a, void *request);
int ip_provider_list(ccip_command *cmd, ccip_arena *a, void *request);
int ip_request_create(ccip_command *cmd, ccip_arena *a, void *request);
int ip_request_accept(ccip_command *cmd, ccip_arena *a, void *request);
int ip_request_complete(ccip_command *cmd, ccip_arena *a, void *request);
int ip_request_rate(ccip_command *cmd, ccip_arena *a, void *request);

#endif
