import { NEVER_ACKED } from './fault-model.js';

/**
 * The QoS 1 messages in flight, kept by whoever sends them (fleet/inflight.ts): the driver writes
 * each message's ack time there and acks a device's oldest message when that time comes, instead
 * of tracking the same messages a second time. Tokens are the ones given to publishTelemetry.
 */
export interface AckLedger {
  /** The device's oldest message in flight (its token), or -1. */
  oldest(dev: number): number;
  /** The device's next newer message after `token` (in flight), or -1. */
  newer(dev: number, token: number): number;
  /** The ack time set for `token`; Infinity when none yet. */
  ackAt(token: number): number;
  setAckAt(token: number, t: number): void;
}

/**
 * The token of `dev`'s message whose ack is due at the clock's now, or -1. Acks come in send order, so an
 * ack event is for the device's oldest message; one that finds that message failed (gone) or a
 * newer one not yet due does nothing. Ack times never decrease per device (lastAckAt survives
 * sessions), so a stale event can never take a newer message's ack early. Messages whose PUBACK a
 * fault phase dropped (NEVER_ACKED) stay in flight, unacked; later ones are acked past them.
 */
export function dueAck(ledger: AckLedger, dev: number, clock: { now(): number }): number {
  let token = ledger.oldest(dev);
  while (token >= 0 && ledger.ackAt(token) === NEVER_ACKED) token = ledger.newer(dev, token);
  // The clock, not its time: a time passed to a call V8 does not inline is a HeapNumber per ack.
  return token < 0 || ledger.ackAt(token) > clock.now() ? -1 : token;
}
