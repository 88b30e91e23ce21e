import { C } from '../../metrics/catalog.js';
import type { ShardMetrics } from '../../metrics/registry.js';
import { CANCELLED, type DeviceDriver } from '../../drivers/types.js';
import { countHttpFailure, Route } from '../request-outcome.js';
import type { BehaviourContext } from '../behaviour.js';

/** What a report says besides its status, read from the OTA behaviour when the report leaves. */
export interface OtaReportSource {
  release(dev: number): string;
  campaign(dev: number): string;
  bytes(dev: number): number;
}

/**
 * Reports a device may have waiting behind the one in flight. A campaign step makes at most a
 * handful in a row (downloaded, verifying, installing); past this the newest replaces the last.
 */
const QUEUE_DEPTH = 4;

/**
 * The OTA behaviour's state reports. Fire-and-forget for the device (a lost one is not retried),
 * but failures are counted and their Retry-After holds the device; while a hold runs, only the
 * device's latest state is kept and goes out when the wait is over (a state it passed through
 * meanwhile is superseded, as the backend only keeps the latest). A device that reboots keeps its
 * report the same way until it is back online.
 *
 * One report in flight per device, the next leaving when it is answered, as a device's update
 * client sends them: reports sent back to back could reach the backend out of order (a late
 * `installing` naming the old release after `success`), and the backend would record the device
 * as running the old release. Per device: 2 + 2 × QUEUE_DEPTH + 2 bytes.
 * Concurrency: the shard's thread only.
 */
export class OtaStateReports {
  private ctx!: BehaviourContext;
  /** A state report waiting for the device's Retry-After hold to end: index + 1 into `names` (0: none). */
  private readonly heldReport: Uint8Array;
  private readonly heldCause: Uint8Array;
  /** 1 while the device's report awaits its answer. */
  private readonly inFlight: Uint8Array;
  /** Reports waiting behind the one in flight, oldest first: name index + 1, QUEUE_DEPTH per device. */
  private readonly queued: Uint8Array;
  private readonly queuedCause: Uint8Array;
  private readonly queuedLen: Uint8Array;
  /** Report statuses and causes by index (a handful of strings, shared by all devices). */
  private readonly names: string[] = [];
  private stopped = false;

  constructor(
    count: number,
    private readonly driver: DeviceDriver,
    private readonly metrics: ShardMetrics,
    /** The event kind (the OTA behaviour's) that sends a held report. */
    private readonly heldKind: number,
    private readonly source: OtaReportSource,
  ) {
    this.heldReport = new Uint8Array(count);
    this.heldCause = new Uint8Array(count);
    this.inFlight = new Uint8Array(count);
    this.queued = new Uint8Array(count * QUEUE_DEPTH);
    this.queuedCause = new Uint8Array(count * QUEUE_DEPTH);
    this.queuedLen = new Uint8Array(count);
  }

  plan(ctx: BehaviourContext): void {
    this.ctx = ctx;
  }

  stop(): void {
    this.stopped = true;
  }

  report(dev: number, status: string, cause?: string): void {
    const heldUntil = this.ctx.hold.heldUntil(dev);
    // Rebooting: kept until the device is back (its `sendHeld` when online), as under a hold.
    if (heldUntil >= 0 || this.ctx.rebooting(dev)) {
      if (this.heldReport[dev] === 0 && heldUntil >= 0) this.ctx.schedule.at(heldUntil, dev, this.heldKind);
      this.heldReport[dev] = this.nameIndex(status) + 1;
      this.heldCause[dev] = cause === undefined ? 0 : this.nameIndex(cause) + 1;
      return;
    }
    if (this.inFlight[dev] === 1) {
      this.enqueue(dev, status, cause);
      return;
    }
    this.inFlight[dev] = 1;
    const s = this.source;
    this.metrics.inc(C['requests.started']);
    this.driver.reportState(dev, {
      release: s.release(dev),
      status,
      campaign: s.campaign(dev),
      ...(cause === undefined ? {} : { cause }),
      bytes: s.bytes(dev),
    });
  }

  private enqueue(dev: number, status: string, cause: string | undefined): void {
    const n = this.queuedLen[dev];
    const at = dev * QUEUE_DEPTH + (n < QUEUE_DEPTH ? n : QUEUE_DEPTH - 1);
    if (n < QUEUE_DEPTH) this.queuedLen[dev] = n + 1;
    this.queued[at] = this.nameIndex(status) + 1;
    this.queuedCause[at] = cause === undefined ? 0 : this.nameIndex(cause) + 1;
  }

  /** The report answered: the oldest waiting one leaves (or waits out a hold or a reboot, in `report`). */
  private sendNext(dev: number): void {
    this.inFlight[dev] = 0;
    const n = this.queuedLen[dev];
    if (n === 0 || this.stopped) return;
    const base = dev * QUEUE_DEPTH;
    const k = this.queued[base];
    const c = this.queuedCause[base];
    this.queued.copyWithin(base, base + 1, base + n);
    this.queuedCause.copyWithin(base, base + 1, base + n);
    this.queuedLen[dev] = n - 1;
    this.report(dev, this.names[k - 1], c === 0 ? undefined : this.names[c - 1]);
  }

  private nameIndex(name: string): number {
    const i = this.names.indexOf(name);
    return i >= 0 ? i : this.names.push(name) - 1;
  }

  /** The held report's event. */
  sendHeld(dev: number): void {
    const k = this.heldReport[dev];
    if (k === 0 || this.stopped) return;
    const c = this.heldCause[dev];
    this.heldReport[dev] = 0;
    this.heldCause[dev] = 0;
    this.report(dev, this.names[k - 1], c === 0 ? undefined : this.names[c - 1]);
  }

  /** Driver callback: the report was answered. */
  onStateReported(dev: number, status: number, retryAfterMs: number): void {
    if (status === CANCELLED) {
      countHttpFailure(this.metrics, Route.state, status);
    } else {
      this.ctx.hold.answered(dev, retryAfterMs);
      if (status < 200 || status >= 300) countHttpFailure(this.metrics, Route.state, status);
    }
    this.sendNext(dev);
  }
}
