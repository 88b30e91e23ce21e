import { C } from '../metrics/catalog.js';
import type { ShardMetrics } from '../metrics/registry.js';
import type { DeviceDriver } from '../drivers/types.js';
import { Ev } from './event-kinds.js';
import type { Schedule } from './schedule.js';

/** What the keepalive needs of the sessions around it. */
export interface KeepaliveHooks {
  /** No PINGRESP came within the bound: the device gives its session up. */
  timedOut(dev: number): void;
}

/**
 * The devices' MQTT keepalive, driven by the fleet so that it crosses the modelled link as every
 * other exchange does (fleet/linked-driver.ts), on both clocks, and is counted and charged.
 *
 * - A device with a session sends a PINGREQ once it has sent nothing on it for the keepalive `k`
 *   (MQTT 3.1.1 §3.1.2.10: the client must send some control packet within each keepalive; a
 *   PINGREQ when it has nothing else to send). A report, or the ping itself, starts the wait again.
 * - The PINGRESP must come back within `k` of the PINGREQ, else the device counts its session
 *   lost (`mqtt.keepalive_timeouts`) and reconnects with its usual backoff. §3.1.2.10 asks only
 *   for "a reasonable amount of time"; `k` is what Eclipse Paho's Java client allows
 *   (ClientState.checkForActivity) and what fleetsim's lean transport always did. So a session
 *   that goes dark is known dead at most 2·k after its last packet got through.
 * - The broker closes a session it has not heard from for 1.5·k (§3.1.2.10); CONNECT carries `k`.
 *
 * One event per device at a time, on the shard's one scheduler (Ev.keepalive): no timer, closure
 * or promise per device or per ping. A report does not move the event (one store in `lastSentAt`):
 * when it comes due, the device pings if it has been silent for `k`, else it is planned again for
 * `lastSentAt + k`. An event whose time is not the device's `dueAt` is stale (from a session that
 * ended) and does nothing. Concurrency: the shard's thread only.
 */
export class Keepalive {
  private readonly lastSentAt: Float64Array;
  /** When the PINGREQ waiting for its PINGRESP left, -1 when none waits. */
  private readonly pingSentAt: Float64Array;
  /** When the device's one live Ev.keepalive comes due; NaN without a session. */
  private readonly dueAt: Float64Array;

  constructor(
    count: number,
    /** The keepalive, simulated ms; 0: off (no pings, as MQTT's keepalive 0 means). */
    readonly keepaliveMs: number,
    private readonly schedule: Schedule,
    private readonly driver: DeviceDriver,
    private readonly metrics: ShardMetrics,
    private readonly hooks: KeepaliveHooks,
  ) {
    this.lastSentAt = new Float64Array(count);
    this.pingSentAt = new Float64Array(count).fill(-1);
    this.dueAt = new Float64Array(count).fill(NaN);
  }

  /** The device sends its CONNECT now: the keepalive counts from there (§3.1.2.10: from the last packet the client sent), not from the CONNACK. */
  connecting(dev: number): void {
    this.lastSentAt[dev] = this.schedule.now();
  }

  /** The device's session opened now; its CONNECT was the last thing sent (a slow link may make the first ping due at once). */
  up(dev: number): void {
    if (this.keepaliveMs <= 0) return;
    this.pingSentAt[dev] = -1;
    this.plan(dev, Math.max(this.schedule.now(), this.lastSentAt[dev] + this.keepaliveMs));
  }

  /**
   * The device sent something on its session now. Keepalive off: nothing reads `lastSentAt` (no
   * session is planned a ping), so a report skips the store, a cache miss in an array of its own.
   */
  sent(dev: number): void {
    if (this.keepaliveMs <= 0) return;
    this.lastSentAt[dev] = this.schedule.now();
  }

  /** The device's session ended: its pending event goes stale. */
  down(dev: number): void {
    this.dueAt[dev] = NaN;
    this.pingSentAt[dev] = -1;
  }

  /** A PINGRESP reached the device. */
  answered(dev: number): void {
    this.pingSentAt[dev] = -1;
  }

  /** The device's Ev.keepalive, planned for `t`: a ping is due, or its PINGRESP is overdue. */
  handle(dev: number, t: number): void {
    if (t !== this.dueAt[dev]) return; // stale: planned for a session that has ended
    this.dueAt[dev] = NaN;
    const now = this.schedule.now();
    if (this.pingSentAt[dev] >= 0) {
      this.pingSentAt[dev] = -1;
      this.metrics.inc(C['mqtt.keepalive_timeouts']);
      this.hooks.timedOut(dev);
      return;
    }
    const quietUntil = this.lastSentAt[dev] + this.keepaliveMs;
    if (now < quietUntil) return this.plan(dev, quietUntil);
    // No step energy: a device holding a session has its radio attached, and that costs its idle
    // draw already (docs/models.md, "Keepalive"); the profiles' uplink energy is a wake from sleep.
    if (!this.driver.ping(dev)) return; // no session below any more: its loss is on its way
    this.metrics.incFor(C['mqtt.pings'], dev);
    this.pingSentAt[dev] = now;
    this.lastSentAt[dev] = now;
    // The PINGRESP's deadline; answered by then, the same event is the next ping's turn.
    this.plan(dev, now + this.keepaliveMs);
  }

  private plan(dev: number, at: number): void {
    this.dueAt[dev] = at;
    this.schedule.at(at, dev, Ev.keepalive);
  }
}
