import { FLEET_MODEL_KIND_COUNT } from './fleet-model.js';

/**
 * The model driver's own event kinds, as offsets into the range of kinds its caller hands it (a
 * shard hands it the driver region of fleet/event-kinds.ts); the fleet model's follow at
 * FLEET_MODEL_OFFSET. Its helpers (request-faults.ts, broker-keepalive.ts) schedule the same
 * kinds, so that every answer arrives through the driver's `handle`.
 */
export const K_PROVISION = 0;
export const K_CONNECT = 1;
export const K_ACK = 2;
export const K_POLL = 3;
/** Without a fleet model, fleet operations still answer (404: no such thing on this backend). */
export const K_NO_FLEET_CHUNK = 4;
export const K_NO_FLEET_STATE = 5;
/** Fault phases (drivers/model/fault-model.ts): a session a phase closed; a phase edge. */
export const K_FAULT_CUT = 6;
export const K_FAULT_EDGE = 7;
/** The PINGRESP to a PINGREQ; the broker's keepalive check of a session (broker-keepalive.ts). */
export const K_PINGRESP = 8;
export const K_BROKER_KEEPALIVE = 9;
/** A PUBACK that never came ends the session. */
export const K_PUBACK_LOST = 0x11;
export const FLEET_MODEL_OFFSET = 20;
/** How many event kinds the driver needs. */
export const MODEL_DRIVER_KIND_COUNT = FLEET_MODEL_OFFSET + FLEET_MODEL_KIND_COUNT;
