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
 *   broker -> worker   [WORKER][REQUEST][client-id][peer-key-name][front-door 0|1][envelope]
 *                      [WORKER][HEARTBEAT]
 *                      [WORKER][DISCONNECT]
 *
 * `peer-key-name` is the name of the CURVE key the client authenticated
 * with; `front-door` says whether that key may claim an actor role.
 * Any message counts as a heartbeat; a side that hears nothing for
 * CCIP_MDP_LIVENESS intervals considers the other gone.
 */
#ifndef CCIP_MDP_H
#define CCIP_MDP_H

#define CCIP_MDP_CLIENT "CCIPC1"
#define CCIP_MDP_WORKER "CCIPW1"

#define CCIP_MDP_READY      "\001"
#define CCIP_MDP_REQUEST    "\002"
#define CCIP_MDP_REPLY      "\003"
#define CCIP_MDP_HEARTBEAT  "\004"
#define CCIP_MDP_DISCONNECT "\005"

#define CCIP_MDP_HEARTBEAT_MS 1000 /* interval between heartbeats */
#define CCIP_MDP_LIVENESS     3    /* intervals without traffic before a peer is gone */

#define CCIP_MDP_SERVICE_MAX 32 /* longest service name */

/* The service that the broker answers itself (ccip.ping.v1). */
#define CCIP_MDP_BUS_SERVICE "bus"

#endif
