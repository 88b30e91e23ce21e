import { MQTT_NET_CODE_BASE, NET_TIMEOUT } from '../drivers/types.js';

/**
 * The calls a modelled link holds (fleet/linked-driver.ts, in fleet/held-calls.ts): requests on
 * their way up (…Out), answers on their way down (…In); which of them end with the device's MQTT
 * session, which arrive in the session's order, and what TCP giving up on each becomes.
 */
export const Op = {
  provisionOut: 0,
  provisionIn: 1,
  connectOut: 2,
  connectIn: 3,
  pollOut: 4,
  pollIn: 5,
  chunkOut: 6,
  chunkIn: 7,
  stateOut: 8,
  stateIn: 9,
  replyOut: 10,
  configAckOut: 11,
  eolOut: 12,
  logsOut: 13,
  fleetAckIn: 14,
  offerIn: 15,
  configIn: 16,
  commandIn: 17,
  pingOut: 18,
  pingIn: 19,
} as const;

/** What a session's end takes with it: the connect in progress and the uplinks on their way. */
export const SESSION_OPS = (1 << Op.connectOut) | (1 << Op.connectIn) | (1 << Op.replyOut) | (1 << Op.configAckOut) | (1 << Op.eolOut) | (1 << Op.logsOut) | (1 << Op.fleetAckIn) | (1 << Op.pingOut) | (1 << Op.pingIn);

/** Answers on the MQTT session: they arrive in order, as one TCP stream delivers them. */
export const SESSION_DOWN = (1 << Op.connectIn) | (1 << Op.fleetAckIn) | (1 << Op.offerIn) | (1 << Op.configIn) | (1 << Op.commandIn) | (1 << Op.pingIn);

/** onConnected's code for a connect whose TCP handshake was abandoned (no SYN-ACK within 127 s). */
export const CONNECT_TIMED_OUT = MQTT_NET_CODE_BASE - NET_TIMEOUT;

/**
 * The answer a request (or the answer to one) becomes when TCP gives up on it, or -1 for an
 * uplink or a push: those are lost with the session, whose end the backend sees.
 */
export function answerWhenGivenUp(op: number): number {
  if (op === Op.connectOut || op === Op.connectIn) return Op.connectIn;
  if (op === Op.provisionOut || op === Op.provisionIn) return Op.provisionIn;
  if (op === Op.pollOut || op === Op.pollIn) return Op.pollIn;
  if (op === Op.chunkOut || op === Op.chunkIn) return Op.chunkIn;
  if (op === Op.stateOut || op === Op.stateIn) return Op.stateIn;
  return -1;
}
