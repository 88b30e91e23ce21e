import { C, H } from '../metrics/catalog.js';
import type { ShardMetrics } from '../metrics/registry.js';
import { jittered, Stream, uniform32 } from '../models/rng.js';
import { CANCELLED, type DeviceDriver } from '../drivers/types.js';
import type { DeviceTable } from './device-table.js';
import type { Schedule } from './schedule.js';
import { Ev } from './event-kinds.js';
import type { RetryAfterHold } from './retry-after-hold.js';
import { countHttpFailure, Route } from './request-outcome.js';

/**
 * Target-state polls: every `everyMs` ± jitter from the intended time (open model), starting at
 * a random point of the first interval after provisioning, one HTTP request at a time per device.
 * A device holding a Retry-After (any route's) skips the polls that fall inside the wait. On a
 * platform whose devices poll when their session comes up, the lifecycle adds that poll.
 */
export class TargetPoller {
  constructor(
    private readonly cfg: { seed: number; everyMs: number; jitter: number },
    private readonly devices: DeviceTable,
    private readonly schedule: Schedule,
    private readonly driver: DeviceDriver,
    private readonly metrics: ShardMetrics,
    private readonly hold: RetryAfterHold,
    /** Whether the device may poll now (link up, credentials held, energy left). */
    private readonly mayPoll: (dev: number) => boolean,
  ) {}

  /** First poll, somewhere in the first interval after `t`. */
  start(dev: number, t: number): void {
    this.schedule.at(t + this.draw(dev) * this.cfg.everyMs, dev, Ev.poll);
  }

  private draw(dev: number): number {
    const d = this.devices;
    return uniform32(this.cfg.seed, d.firstDevice + dev, Stream.pollJitter, d.nextPollDraw(dev));
  }

  /** The device's poll event at intended time `t`. */
  poll(dev: number, t: number): void {
    this.schedule.at(t + jittered(this.cfg.everyMs, this.cfg.jitter, this.draw(dev)), dev, Ev.poll);
    this.pollNow(dev);
  }

  /**
   * A poll outside the schedule (the device's session just came up, on a platform whose devices
   * ask then: DeviceDriver.pollsOnConnect); the schedule stays as it is. False when none left.
   */
  pollOnConnect(dev: number): boolean {
    if (!this.pollNow(dev)) return false;
    this.metrics.inc(C['poll.on_connect']);
    return true;
  }

  private pollNow(dev: number): boolean {
    const d = this.devices;
    // A poll still waiting is not doubled up; a device told to wait does not ask.
    if (d.httpStartedAt(dev) >= 0 || this.hold.heldUntil(dev) >= 0 || !this.mayPoll(dev)) return false;
    d.setHttpStartedAt(dev, this.schedule.measureNow());
    this.metrics.inc(C['requests.started']);
    this.driver.pollTarget(dev);
    return true;
  }

  /** Records the answer and its Retry-After; true when the target was read (200 or 304). */
  answered(dev: number, status: number, retryAfterMs: number): boolean {
    const d = this.devices;
    if (status === CANCELLED) {
      d.setHttpStartedAt(dev, -1);
      countHttpFailure(this.metrics, Route.poll, status);
      return false;
    }
    this.metrics.record(H['poll.latency'], (this.schedule.measureNow() - d.httpStartedAt(dev)) * 1000);
    d.setHttpStartedAt(dev, -1);
    this.hold.answered(dev, retryAfterMs);
    if (status === 200 || status === 304) {
      this.metrics.incFor(C['poll.ok'], dev);
      return true;
    }
    this.metrics.inc(C['poll.failed']);
    countHttpFailure(this.metrics, Route.poll, status);
    return false;
  }
}
