import { C } from '../metrics/catalog.js';
import type { ShardMetrics } from '../metrics/registry.js';
import { fullJitterBackoff, Stream, uniform32 as uniform } from '../models/rng.js';
import { DeviceState as S, Flag, type DeviceTable } from './device-table.js';
import { Ev } from './event-kinds.js';
import type { Schedule } from './schedule.js';

/**
 * What a device does after a failure: when it tries again (Retry-After, else full-jitter
 * backoff), and the recovery bookkeeping of summary/outage.ts (a device the backend failed counts
 * out once, and back once it is provisioned, connected and reporting again; failures on the
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
    const d = this.devices;
    if (d.has(dev, Flag.knockedOut)) return;
    d.set(dev, Flag.knockedOut);
    this.metrics.inc(C['recovery.devices_out']);
  }

  back(dev: number): void {
    const d = this.devices;
    if (!d.has(dev, Flag.knockedOut)) return;
    d.unset(dev, Flag.knockedOut);
    this.metrics.inc(C['recovery.devices_back']);
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
