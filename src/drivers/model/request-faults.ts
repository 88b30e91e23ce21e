import type { BackendOperation } from '../../models/backend-queue.js';
import { NET_RESET, NO_RETRY_AFTER } from '../types.js';
import { FAULT_ANSWERED, FAULT_DELAYED, NOT_FAULTED, type ModelFaults } from './fault-model.js';
import type { ModelDeviceRecords } from './device-records.js';
import { REJECTED } from './queued-requests.js';

/**
 * The request side of the model driver's faults: fault phases (fault-model.ts decides, this
 * applies) and a backend at capacity turning requests away. A phase answers a request itself (a
 * status after a while, with its Retry-After), delays it, or lets it through. What the request's
 * callback must then hear besides its status is kept here until read: a Retry-After by device, a
 * fleet operation's failure status by device and fleet kind. Both are rare, so maps, not arrays.
 *
 * The event kinds it schedules are the driver's own (`kindBase` + the driver's K_* offsets): the
 * answer arrives through the driver's `handle`, as an unfaulted one does.
 * Concurrency: the shard's thread only.
 */
export class RequestFaults {
  /** Fault phases against this backend (absent: none, and every request goes through). */
  private faults: ModelFaults | undefined;
  private readonly retryAfter = new Map<number, number>();
  private readonly fleetStatus = new Map<number, number>();

  constructor(
    private readonly rec: ModelDeviceRecords,
    private readonly clock: { now(): number; at(timeMs: number, dev: number, kind: number): void },
    private readonly kindBase: number,
    /** Fleet model kinds: a fleet operation's status is kept under dev * fleetKinds + kind. */
    private readonly fleetKinds: number,
  ) {}

  use(faults: ModelFaults): void {
    this.faults = faults;
  }

  /** A phase's decision on an HTTP request of `route` (FaultRoute): NOT_FAULTED, FAULT_ANSWERED (then answerHttp or answerFleet) or FAULT_DELAYED. */
  http(dev: number, route: number): number {
    return this.faults === undefined ? NOT_FAULTED : this.faults.httpAt(dev, route, this.clock.now());
  }

  /** The latency a decision adds to a request the backend still serves: the phase's, when it delayed it. */
  addedMs(fault: number): number {
    return fault === FAULT_DELAYED ? this.faults!.afterMs : 0;
  }

  /** Answers an HTTP request a phase answered: its status (and Retry-After), the driver's event `kind` at the fault's time. */
  answerHttp(dev: number, kind: number): void {
    const f = this.faults!;
    this.rec.setPendingHttp(dev, f.status);
    this.keepRetryAfter(dev, f.retryAfterMs);
    this.clock.at(this.clock.now() + f.afterMs, dev, this.kindBase + kind);
  }

  /** The same for a fleet operation: the fleet model's event `kind` (at the driver's kind `fleetKind`) fires with the phase's status. */
  answerFleet(dev: number, kind: number, fleetKind: number): void {
    const f = this.faults!;
    this.fleetStatus.set(dev * this.fleetKinds + kind, f.status);
    this.keepRetryAfter(dev, f.retryAfterMs);
    this.clock.at(this.clock.now() + f.afterMs, dev, this.kindBase + fleetKind);
  }

  /** True when a phase answered this CONNECT (a CONNACK code, or closed), then the driver's event `kind` fires at the fault's time. */
  answeredConnect(dev: number, kind: number): boolean {
    if (this.faults === undefined || this.faults.connectAt(dev, this.clock.now()) !== FAULT_ANSWERED) return false;
    this.rec.setPendingConnect(dev, this.faults.status);
    this.clock.at(this.clock.now() + this.faults.afterMs, dev, this.kindBase + kind);
    return true;
  }

  /** A queued request a phase delayed: the fault model keeps the added latency until the answer (takeAdded). */
  holdDelayed(dev: number, op: number, fault: number): void {
    if (fault === FAULT_DELAYED) this.faults!.holdAdded(dev, op);
  }

  /** The latency a phase added to the queued request of `dev` to `op` now answered (0 when none). */
  takeAdded(dev: number, op: number): number {
    return this.faults === undefined ? 0 : this.faults.takeAdded(dev, op);
  }

  /** Status of an HTTP request the backend turned away: its rejection status (with its Retry-After kept for the callback), or a reset connection. */
  turnedAway(dev: number, m: BackendOperation, outcome: number): number {
    if (outcome !== REJECTED) return NET_RESET;
    this.keepRetryAfter(dev, m.retryAfterMs);
    return m.rejectStatus;
  }

  /** A failed fleet operation's status, for its callback (fleetStatusOf). */
  failFleet(dev: number, kind: number, status: number): void {
    this.fleetStatus.set(dev * this.fleetKinds + kind, status);
  }

  /** The status of a fleet operation's answer now firing: `ok` when it succeeded, else why not. */
  fleetStatusOf(dev: number, kind: number, ok: number): number {
    const key = dev * this.fleetKinds + kind;
    const st = this.fleetStatus.get(key);
    if (st === undefined) return ok;
    this.fleetStatus.delete(key);
    return st;
  }

  private keepRetryAfter(dev: number, ms: number): void {
    if (ms > 0) this.retryAfter.set(dev, ms);
  }

  /** The Retry-After kept for `dev`'s answer now firing, or NO_RETRY_AFTER; read once. */
  takeRetryAfter(dev: number): number {
    const r = this.retryAfter.get(dev);
    if (r === undefined) return NO_RETRY_AFTER;
    this.retryAfter.delete(dev);
    return r;
  }
}
