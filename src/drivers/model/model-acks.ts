import { dueAck, type AckLedger } from './ack-ledger.js';
import { NEVER_ACKED } from './fault-model.js';
import type { ModelDeviceRecords } from './device-records.js';

/** The part of the clock the acks need: a deferred event where the caller allows it (deferAll). */
interface AckClock {
  now(): number;
  at(timeMs: number, dev: number, kind: number): void;
  defer?(timeMs: number, dev: number, kind: number): void;
}

/**
 * The model driver's PUBACKs: when each QoS 1 message is acknowledged, written in the sender's
 * ledger (ack-ledger.ts), and the event that delivers it. Acks on one session arrive in order, and
 * the device's latest ack time survives sessions (device-records.ts ackNoEarlierThan), whether the
 * publish was answered at once or by the fleet-wide backend's queue.
 */
export class ModelAcks {
  private ledger: AckLedger | undefined;
  /** True when an ack is a deferred event (deferAll). */
  private deferred = false;

  constructor(
    private readonly clock: AckClock,
    private readonly rec: ModelDeviceRecords,
    /** The driver's event kind that delivers an ack. */
    private readonly kind: number,
  ) {}

  /** Where acks are timed: the sender's in-flight bookkeeping (needed before any QoS 1 publish). */
  useLedger(ledger: AckLedger): void {
    this.ledger = ledger;
  }

  get ready(): boolean {
    return this.ledger !== undefined;
  }

  /**
   * Every ack from now on is a deferred event (engine/clock/virtual-scheduler.ts `defer`). Only for
   * a caller whose ack handling (onTelemetryAcked) touches nothing but the acked device and
   * order-free totals, with nothing acting on a session from outside its device's own events:
   * then a late ack is exactly the ack on time (engine/shard/virtual.ts decides).
   */
  deferAll(): void {
    if (this.clock.defer === undefined) throw new Error('ModelAcks.deferAll: the clock cannot defer events');
    this.deferred = true;
  }

  /** `token`'s PUBACK reaches device `dev` at `at`, or later if an earlier message's ack is later. */
  arrives(dev: number, token: number, at: number): void {
    const ackAt = this.rec.ackNoEarlierThan(dev, at);
    this.ledger!.setAckAt(token, ackAt);
    if (this.deferred) this.clock.defer!(ackAt, dev, this.kind);
    else this.clock.at(ackAt, dev, this.kind);
  }

  /** `token` gets no PUBACK (a fault phase dropped it); the session goes on. */
  never(token: number): void {
    this.ledger!.setAckAt(token, NEVER_ACKED);
  }

  /** The token of `dev`'s message whose ack is due now, or -1 (ack-ledger.ts dueAck). */
  due(dev: number): number {
    return dueAck(this.ledger!, dev, this.clock);
  }
}
