/*
 * ip_trades: the trading platform: listings, offers, contracts and
 * settlement.
 *
 *   listing   a current owner offers a TRANSFER of its share, an
 *             EXCLUSIVE_LICENCE (sole owners only: it binds every owner) or a
 *             NON_EXCLUSIVE_LICENCE, licences with a territory and a term, at
 *             a price in fen; it can be changed only while no offer is open
 *   offer     any other party offers a price; one open offer per buyer
 *   contract  the listing's seller accepts one offer: the other offers are
 *             declined and the listing is closed (ip.trade.contracted.v1)
 *   settle    the seller (or staff) records the payment; a transfer then
 *             moves the seller's share to the buyer (ip.trade.settled.v1)
 *
 * Rules, each checked under the work's row lock (ip_work_lock), which every
 * command that changes a work's listings, contracts or owners takes first,
 * so the checks cannot be raced past (two acceptances at once queue on the
 * lock, and the second sees the first's contract):
 *   - a frozen work (upheld dispute) gets no listing, offer, contract or
 *     settlement;
 *   - licences in force may not collide: an exclusive licence may not
 *     overlap any other licence of the work in territory and term, and a
 *     non-exclusive one may not overlap an exclusive one (the exclusive
 *     licensee was promised nobody else); checked when listing and again
 *     when accepting;
 *   - one open transfer listing, and one unsettled transfer contract, per
 *     seller and work (a share is sold once).
 *
 * Handlers follow ccip_command_fn; see ip.h for roles.
 */
#ifndef IP_TRADES_H
#define IP_TRADES_H

#include "ip.h"

int ip_listing_create(ccip_command *cmd, ccip_arena *a, void *request);
int ip_listing_update(ccip_command *cmd, ccip_arena *a, void *request);
int ip_listing_withdraw(ccip_command *cmd, ccip_arena *a, void *request);
int ip_listing_get(ccip_command *cmd, ccip_arena *a, void *request);
int ip_listing_list(ccip_command *cmd, ccip_arena *a, void *request);
int ip_offer_make(ccip_command *cmd, ccip_arena *a, void *request);
int ip_offer_withdraw(ccip_command *cmd, ccip_arena *a, void *request);
int ip_offer_accept(ccip_command *cmd, ccip_arena *a, void *request);
int ip_contract_settle(ccip_command *cmd, ccip_arena *a, void *request);
int ip_contract_get(ccip_command *cmd, ccip_arena *a, void *request);
/* ip.contract.list.v1: the newest first; a party's own (seller or buyer)
 * only, staff's and services' any. */
int ip_contract_list(ccip_command *cmd, ccip_arena *a, void *request);

#endif
