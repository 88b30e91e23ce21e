import { C } from '../metrics/catalog.js';
import type { ShardMetrics } from '../metrics/registry.js';
import { fullJitterBackoff, Stream, uniform32 as uniform } from '../models/rng.js';
import { DeviceState as S, Flag, type DeviceTable } from './device-table.js';
import { Ev } from './event-kinds.js';
import type { Schedule } from './schedule.js';

/**
 * What a device does after a failure: when it tries again (Retry-After, else full-jitter
 * backoff), and the recovery bookkeeping of summary/outage.ts (a device the backend failed counts
 * out once, and back once it is provisioned, connected and reporting again, and polling again when
 * a poll failed; failures on the
 * device's own side, its link or battery, are not the backend's and do not count).
 * Concurrency: the shard's thread only, like the lifecycle.
 */
export class RetryPlan {
  constructor(
    private readonly devices: DeviceTable,
    private readonly schedule: Schedule,
    private readonly metrics: ShardMetrics,
    private readonly cfg: { seed: number; reconnect: { baseMs: number; capMs: number } },
  ) {}

  knockedOut(dev: number): void {
    this.outFor(dev, Flag.knockedOut);
  }

  back(dev: number): void {
    this.backFrom(dev, Flag.knockedOut);
  }

  /** A target-state poll the backend failed: the device is out until a poll succeeds (recovery after an API outage). */
  pollFailed(dev: number): void {
    this.outFor(dev, Flag.pollFailing);
  }

  pollOk(dev: number): void {
    this.backFrom(dev, Flag.pollFailing);
  }

  /**
   * A device is out while any of its reasons holds (its provisioning or session, `knockedOut`;
   * its polls, `pollFailing`), and counted out and back once for the whole spell.
   */
  private outFor(dev: number, reason: number): void {
    const d = this.devices;
    if (d.has(dev, reason)) return;
    const wasOut = d.has(dev, Flag.knockedOut) || d.has(dev, Flag.pollFailing);
    d.set(dev, reason);
    if (!wasOut) this.metrics.inc(C['recovery.devices_out']);
  }

  private backFrom(dev: number, reason: number): void {
    const d = this.devices;
    if (!d.has(dev, reason)) return;
    d.unset(dev, reason);
    if (!d.has(dev, Flag.knockedOut) && !d.has(dev, Flag.pollFailing)) this.metrics.inc(C['recovery.devices_back']);
  }

  /**
   * Schedules another attempt: after `retryAfterWait` (the jittered Retry-After the hold keeps)
   * when the server gave one, else after a full-jitter backoff.
   */
  retryLater(dev: number, kind: number, retryAfterWait: number): void {
    const d = this.devices;
    d.setState(dev, kind === Ev.provision ? S.off : S.backoff);
    let delay: number;
    if (retryAfterWait >= 0) {
      delay = retryAfterWait;
    } else {
      const u = uniform(this.cfg.seed, d.firstDevice + dev, Stream.backoff, d.nextBackoffDraw(dev));
      delay = fullJitterBackoff(this.cfg.reconnect.baseMs, this.cfg.reconnect.capMs, d.attempts(dev), u);
    }
    if (d.attempts(dev) < 0xffff) d.setAttempts(dev, d.attempts(dev) + 1);
    this.schedule.at(this.schedule.now() + delay, dev, kind);
  }
}
