import { C, cancelledCounter, G, H } from '../metrics/catalog.js';
import type { ShardMetrics } from '../metrics/registry.js';
import { LOST_KEEPALIVE_TIMEOUT, LOST_TCP_TIMEOUT, type DeviceDriver } from '../drivers/types.js';
import { DeviceState as S, Flag, type DeviceTable } from './device-table.js';
import type { TelemetryPipeline } from './telemetry-pipeline.js';
import type { Schedule } from './schedule.js';
import { Ev } from './event-kinds.js';
import type { RetryPlan } from './retry-plan.js';
import { countConnectFailure, Route } from './request-outcome.js';
import type { BehaviourSet } from './behaviour.js';
import { STEP_ATTACH, type LifecycleConfig } from './lifecycle-config.js';
import { Keepalive } from './keepalive.js';

const US_PER_MS = 1000;

/** mqtt.connection_lost.<cause> by the LOST_* constant of drivers/types.ts. */
const LOST_COUNTERS: readonly number[] = [
  C['mqtt.connection_lost.closed_by_broker'],
  C['mqtt.connection_lost.reset'],
  C['mqtt.connection_lost.tcp_timeout'],
  C['mqtt.connection_lost.keepalive_timeout'],
  C['mqtt.connection_lost.protocol'],
];

/** What the sessions need of the lifecycle around them. */
export interface SessionHooks {
  /** The device has a link now (coverage). */
  reachable(dev: number): boolean;
  /** Charges a lifecycle step's energy; false when the battery ran dry (the device went dark). */
  charge(dev: number, step: number, oneOff: boolean): boolean;
  /** The run is stopping: no reconnects, failed connects counted as cancelled. */
  stopping(): boolean;
}

/**
 * The devices' MQTT sessions, for every device of one shard (fleet/lifecycle.ts drives them):
 * connecting, the outcome of a connect, a session lost or dropped from our side, sleepy devices
 * closing theirs once nothing is left to send, and the graceful disconnect at the end. It keeps
 * the online gauge and each group's session time (cost), and each open session's keepalive
 * (fleet/keepalive.ts). Single-threaded, one instance per shard.
 */
export class Sessions {
  private online = 0;
  /** The open sessions' PINGREQs and PINGRESP deadlines. */
  readonly keepalive: Keepalive;

  constructor(
    private readonly devices: DeviceTable,
    private readonly cfg: LifecycleConfig,
    private readonly schedule: Schedule,
    private readonly driver: DeviceDriver,
    private readonly metrics: ShardMetrics,
    private readonly retry: RetryPlan,
    private readonly telemetryPipe: TelemetryPipeline,
    private readonly behaviours: BehaviourSet,
    private readonly hooks: SessionHooks,
  ) {
    this.keepalive = new Keepalive(devices.count, cfg.keepaliveMs ?? 0, schedule, driver, metrics, { timedOut: (dev) => this.keepaliveTimedOut(dev) });
  }

  connect(dev: number): void {
    const d = this.devices;
    if (d.state(dev) === S.online || d.state(dev) === S.connecting) return;
    if (!this.hooks.reachable(dev)) {
      d.setState(dev, S.offline);
      return;
    }
    // Network attach costs energy once per registration (boot, link loss, reboot); a sleepy
    // device that reconnects from PSM for each report stays registered.
    // The attach after a boot is part of starting up; re-attaches after link loss recur.
    if (!d.has(dev, Flag.registered)) {
      const fresh = d.has(dev, Flag.freshBoot);
      d.unset(dev, Flag.freshBoot);
      if (!this.hooks.charge(dev, STEP_ATTACH, fresh)) return;
      d.set(dev, Flag.registered);
    }
    d.setState(dev, S.connecting);
    d.setConnectStartedAt(dev, this.schedule.measureNow());
    this.keepalive.connecting(dev);
    this.metrics.inc(C['requests.started']);
    this.driver.connect(dev);
  }

  onConnected(dev: number, ok: boolean, code: number): void {
    const d = this.devices;
    const stopping = this.hooks.stopping();
    if (stopping || d.state(dev) !== S.connecting) {
      // Stopping, or the link dropped (or the battery died) while connecting: close what opened.
      if (ok) this.driver.disconnect(dev);
      else if (stopping) this.metrics.inc(cancelledCounter(Route.mqttConnect));
      return;
    }
    if (ok) {
      this.metrics.record(H['mqtt.connect.latency'], (this.schedule.measureNow() - d.connectStartedAt(dev)) * US_PER_MS);
      this.metrics.incFor(C['mqtt.connect.ok'], dev);
      this.metrics.groups?.session(dev, 1, this.schedule.now());
      d.setState(dev, S.online);
      d.setAttempts(dev, 0);
      this.metrics.set(G['devices.online'], ++this.online);
      this.keepalive.up(dev);
      // Back from a backend outage once reporting again: its first ack (QoS 1), or now.
      if (this.cfg.telemetry?.spec.qos !== 1) this.retry.back(dev);
      this.telemetryPipe.sessionUp(dev);
      this.behaviours.online(dev);
      this.flush(dev);
      return;
    }
    this.metrics.inc(C['mqtt.connect.failed']);
    countConnectFailure(this.metrics, code);
    this.retry.knockedOut(dev);
    this.retry.retryLater(dev, Ev.connect, -1);
  }

  /** The device's session ended without our `disconnect`; `cause`: why (a LOST_* constant of drivers/types.ts). */
  onConnectionLost(dev: number, cause: number): void {
    const d = this.devices;
    if (d.state(dev) !== S.online) return;
    this.countLoss(cause);
    this.sessionDown(dev);
    this.telemetryPipe.failInflight(dev);
    this.behaviours.offline(dev);
    if (this.hooks.stopping()) {
      d.setState(dev, S.stopped);
      return;
    }
    this.metrics.inc(C['mqtt.reconnects']);
    this.retry.knockedOut(dev);
    this.retry.retryLater(dev, Ev.connect, -1);
  }

  /**
   * No PINGRESP within the keepalive (fleet/keepalive.ts): the device gives the session up, closes
   * its connection, and reconnects with its backoff as after any loss (a dark link or broker is
   * the backend side's doing, so the device counts as knocked out until it is back).
   */
  private keepaliveTimedOut(dev: number): void {
    if (this.devices.state(dev) !== S.online) return;
    this.driver.disconnect(dev);
    this.onConnectionLost(dev, LOST_KEEPALIVE_TIMEOUT);
  }

  /**
   * TCP gave the connection up after retransmitting for its whole give-up time (the modelled
   * link lost a message): the session is gone, and the device reconnects as after any loss.
   */
  connectionTimedOut(dev: number): void {
    if (this.devices.state(dev) !== S.online) return;
    this.countLoss(LOST_TCP_TIMEOUT);
    this.drop(dev);
    if (this.hooks.stopping()) return;
    this.metrics.inc(C['mqtt.reconnects']);
    this.retry.retryLater(dev, Ev.connect, -1);
  }

  /** A lost session, in the total and under its cause. */
  private countLoss(cause: number): void {
    this.metrics.inc(C['mqtt.connection_lost']);
    this.metrics.inc(LOST_COUNTERS[cause]);
  }

  /** Ends the device's session from our side (link gone, battery gone): in-flight QoS 1 messages fail. */
  drop(dev: number): void {
    const d = this.devices;
    if (d.state(dev) === S.online) this.sessionDown(dev);
    this.driver.disconnect(dev);
    this.telemetryPipe.failInflight(dev);
    this.behaviours.offline(dev);
  }

  /** An online device's session is gone: the online gauge, and its group's session time (cost). */
  private sessionDown(dev: number): void {
    this.keepalive.down(dev);
    this.metrics.set(G['devices.online'], --this.online);
    this.metrics.groups?.session(dev, -1, this.schedule.now());
  }

  /** Sends what the device holds, then lets a sleepy device sleep. */
  flush(dev: number): void {
    this.telemetryPipe.flush(dev);
    this.maybeSleep(dev);
  }

  /** Sleepy devices (per-report session: PSM / eDRX) close their session once nothing is left to send or to be acked. */
  maybeSleep(dev: number): void {
    const d = this.devices;
    if (!d.has(dev, Flag.sleepy) || d.state(dev) !== S.online || this.hooks.stopping()) return;
    if (d.buffered(dev) > 0 || this.telemetryPipe.busy(dev)) return;
    this.driver.disconnect(dev);
    d.setState(dev, S.provisioned);
    this.sessionDown(dev);
    this.behaviours.offline(dev);
  }

  /** Closes every session gracefully. */
  disconnectAll(): void {
    const d = this.devices;
    for (let dev = 0; dev < d.count; dev++) {
      if (d.state(dev) === S.online || d.state(dev) === S.connecting) this.driver.disconnect(dev);
      if (d.state(dev) === S.online) {
        this.online--;
        this.metrics.groups?.session(dev, -1, this.schedule.now());
      }
      d.setState(dev, S.stopped);
    }
    this.metrics.set(G['devices.online'], this.online);
  }
}
