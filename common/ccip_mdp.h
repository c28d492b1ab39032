/*
 * ccip_mdp: the frames spoken between clients, the broker and workers.
 *
 * A Majordomo-style protocol (zguide ch. 4, RFC 7) reduced to what ccip
 * needs. Clients and workers use DEALER sockets connected to the broker's
 * ROUTER, so the ROUTER's identity frame is the only routing frame.
 *
 *   client -> broker   [CLIENT][service][envelope]
 *   broker -> client   [CLIENT][service][envelope]          (exactly one reply)
 *   worker -> broker   [WORKER][READY][service]
 *                      [WORKER][REPLY][client-id][envelope]
 *                      [WORKER][HEARTBEAT]
 *                      [WORKER][DISCONNECT]
 *   broker -> worker   [WORKER][REQUEST][client-id][key-name][key-kind][bound][roles][envelope]
 *                      [WORKER][HEARTBEAT]
 *                      [WORKER][DISCONNECT]
 *
 * What the broker verified about the client, from the key registry
 * (ccip_keys.h), so that a service needs no registry of its own:
 *   key-name  the name of the CURVE key the client authenticated with;
 *   key-kind  "service", "front-door" or "admin" (ccip_key_kind_name), or
 *             "local" from a broker without a registry (unit tests only);
 *   bound     a service key's service, a bound front door's person, else "";
 *   roles     a bound front door's roles, comma-separated, else "".
 * A front door's claims in the envelope (actor_id, actor_role) were
 * checked against its binding before the request was queued. A REPLY is
 * accepted only from the replica that holds that client's request.
 *
 * Any message counts as a heartbeat; a side that hears nothing for
 * CCIP_MDP_LIVENESS intervals considers the other gone. The worker header
 * is CCIPW2 since REQUEST carries the key's binding: a replica of the
 * previous version is refused as an unknown protocol, never half served.
 */
#ifndef CCIP_MDP_H
#define CCIP_MDP_H

#define CCIP_MDP_CLIENT "CCIPC1"
#define CCIP_MDP_WORKER "CCIPW2"

#define CCIP_MDP_READY      "\001"
#define CCIP_MDP_REQUEST    "\002"
#define CCIP_MDP_REPLY      "\003"
#define CCIP_MDP_HEARTBEAT  "\004"
#define CCIP_MDP_DISCONNECT "\005"

#define CCIP_MDP_HEARTBEAT_MS 1000 /* interval between heartbeats */
#define CCIP_MDP_LIVENESS     3    /* intervals without traffic before a peer is gone */

#define CCIP_MDP_SERVICE_MAX 32 /* longest service name */

#define CCIP_MDP_KIND_LOCAL "local" /* key-kind from a broker without a key registry */

/* The service that the broker answers itself (ccip.ping.v1). */
#define CCIP_MDP_BUS_SERVICE "bus"

#endif
