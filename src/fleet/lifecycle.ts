import { C, G } from '../metrics/catalog.js';
import type { ShardMetrics } from '../metrics/registry.js';
import { jittered, Stream, uniform32 as uniform } from '../models/rng.js';
import { CANCELLED, type ConfigChange, type DeviceCommand, type DeviceDriver, type DriverEvents, type Heard, type UpdateOffer } from '../drivers/types.js';
import { arrivalStride, powerOnTimeMs } from '../models/arrival.js';
import { DeviceState as S, Flag, type DeviceTable } from './device-table.js';
import { TelemetryPipeline } from './telemetry-pipeline.js';
import type { TelemetryAccounting } from '../summary/accounting.js';
import { TargetPoller } from './target-poller.js';
import type { Schedule } from './schedule.js';
import { Ev, KIND_REGIONS } from './event-kinds.js';
import { RetryAfterHold } from './retry-after-hold.js';
import { RetryPlan } from './retry-plan.js';
import { Provisioning } from './provisioning.js';
import { Coverage } from './coverage.js';
import { Sessions } from './sessions.js';
import type { EnergyProjection } from './energy-meter.js';
import type { InflightTable } from './inflight.js';
import { BehaviourSet, type BehaviourContext } from './behaviour.js';
import { STEP_BOOT, STEP_POLL, STEP_UPLINK, type DeviceModels, type LifecycleConfig } from './lifecycle-config.js';

export type { DeviceModels, LifecycleConfig } from './lifecycle-config.js';

/**
 * Device lifecycle v1, for every device of one shard: power on → provision (HTTP) → connect
 * (MQTT) → telemetry and target-state polls on their own schedules (open model: the next event is
 * planned from the intended time, never from when the previous one finished) → reconnect with
 * full-jitter backoff → graceful disconnect at the end.
 *
 * It is the driver's event sink; the MQTT sessions are fleet/sessions.ts's. All state is in the DeviceTable's records and the InflightTable; events
 * are (device, kind) pairs from the shard's one scheduler. Single-threaded: one instance per shard.
 */
export class Lifecycle implements DriverEvents {
  private readonly telemetryPipe: TelemetryPipeline;
  private stopping = false;
  private depleted = 0;
  private readonly behaviours: BehaviourSet;
  private readonly poller?: TargetPoller;
  /** Retry-After of every HTTP route: one hold per device. */
  readonly hold: RetryAfterHold;
  private readonly retry: RetryPlan;
  private readonly provisioning: Provisioning;
  private readonly coverage: Coverage;
  private readonly sessions: Sessions;
  /**
   * 1 while the device reboots (an OS update): it neither polls nor reports until its connect
   * event brings it back (the session is down, so its requests could only wait and time out).
   */
  private readonly rebooting: Uint8Array;

  constructor(
    readonly devices: DeviceTable,
    private readonly cfg: LifecycleConfig,
    private readonly schedule: Schedule,
    private readonly driver: DeviceDriver,
    private readonly metrics: ShardMetrics,
    private readonly models: DeviceModels = {},
  ) {
    this.rebooting = new Uint8Array(devices.count);
    for (let dev = 0; dev < devices.count; dev++) if (cfg.perReportSession[devices.group(dev)] === 1) devices.set(dev, Flag.sleepy);
    const tel = cfg.telemetry;
    this.telemetryPipe = new TelemetryPipeline(
      tel ? { everyMs: tel.everyMs, spec: tel.spec, payloads: tel.payloads, bufferCapacity: cfg.bufferCapacity, flushBurst: cfg.flushBurst, radio: models.radio, link: models.link } : undefined,
      this.devices,
      schedule,
      driver,
      metrics,
      (dev) => {
        this.sessions.keepalive.sent(dev); // a report leaves on the session: the keepalive waits again
        return this.charge(dev, STEP_UPLINK);
      },
      (dev) => this.sessions.connectionTimedOut(dev),
    );
    this.behaviours = new BehaviourSet(models.behaviours ?? []);
    this.hold = new RetryAfterHold(devices, schedule, metrics, { seed: cfg.seed, ...cfg.retryAfter });
    this.coverage = new Coverage(models.reach, devices, schedule, metrics, {
      dropSession: (dev) => this.sessions.drop(dev),
      provision: (dev) => this.provisioning.provision(dev),
      connect: (dev) => this.connect(dev),
    });
    this.retry = new RetryPlan(devices, schedule, metrics, cfg);
    this.sessions = new Sessions(devices, cfg, schedule, driver, metrics, this.retry, this.telemetryPipe, this.behaviours, {
      reachable: (dev) => this.reachable(dev),
      charge: (dev, step, oneOff) => this.charge(dev, step, oneOff),
      stopping: () => this.stopping,
    });
    this.provisioning = new Provisioning(devices, cfg.serialPrefix, schedule, driver, metrics, this.hold, this.retry, {
      reachable: (dev) => this.reachable(dev),
      charge: (dev, step, oneOff) => this.charge(dev, step, oneOff),
      stopping: () => this.stopping,
      issued: (dev) => this.behaviours.provisioned(dev),
      proceed: (dev, t) => {
        if (this.devices.state(dev) === S.provisioned && !this.devices.has(dev, Flag.sleepy)) this.connect(dev);
        if (cfg.poll) this.poller?.start(dev, t);
      },
    });
    // Scheduled polls, or only the one a platform's devices make when their session comes up
    // (ThingsBoard's attribute request on boot, in a scenario without a poll interval).
    if (cfg.poll || driver.pollsOnConnect === true) {
      // No link, no credentials, rebooting, no energy: no poll.
      const canPoll = (dev: number) => this.reachable(dev) && this.devices.has(dev, Flag.hasCreds) && this.rebooting[dev] === 0 && this.charge(dev, STEP_POLL);
      this.poller = new TargetPoller({ seed: cfg.seed, everyMs: cfg.poll?.everyMs ?? 0, jitter: cfg.poll?.jitter ?? 0 }, this.devices, schedule, driver, metrics, this.hold, canPoll);
    }
  }

  /** What behaviours may use of the lifecycle. */
  behaviourContext(): BehaviourContext {
    return {
      devices: this.devices,
      schedule: this.schedule,
      reachable: (dev) => this.reachable(dev),
      online: (dev) => this.devices.state(dev) === S.online,
      spend: (dev, joules) => {
        const e = this.models.energy;
        if (e === undefined || e.chargeJoules(dev, joules, this.schedule.now())) return true;
        this.goDark(dev);
        return false;
      },
      reboot: (dev, ms) => this.reboot(dev, ms),
      rebooting: (dev) => this.rebooting[dev] === 1,
      hold: this.hold,
      sentOnSession: (dev) => this.sessions.keepalive.sent(dev),
    };
  }

  /** A reboot: the session drops now and the device reconnects when it is back up. */
  private reboot(dev: number, ms: number): void {
    const d = this.devices;
    if (d.state(dev) === S.dead) return;
    this.rebooting[dev] = 1;
    if (d.state(dev) === S.online || d.state(dev) === S.connecting) this.sessions.drop(dev);
    d.setState(dev, S.backoff);
    this.schedule.at(this.schedule.now() + ms, dev, Ev.connect);
  }

  /** Queues every device's power-on. Called once, before the scheduler starts. */
  planArrivals(): void {
    this.behaviours.plan(this.behaviourContext());
    this.coverage.plan();
    const d = this.devices;
    const total = this.cfg.fleetDevices;
    const stride = arrivalStride(total);
    for (let dev = 0; dev < d.count; dev++) this.schedule.at(powerOnTimeMs(d.firstDevice + dev, total, this.cfg.arrival, stride), dev, Ev.powerOn);
  }

  /** The scheduler's dispatch target. */
  handle(kind: number, dev: number, t: number): void {
    if (this.stopping || this.devices.state(dev) === S.dead) return;
    if (kind >= KIND_REGIONS.behaviours.first) return this.behaviours.handle(kind, dev, t);
    switch (kind) {
      case Ev.powerOn:
        return this.powerOn(dev, t);
      case Ev.provision:
        return this.provisioning.provision(dev);
      case Ev.connect:
        // Back from a reboot (or its connect came first): the device polls and reports again.
        this.rebooting[dev] = 0;
        return this.connect(dev);
      case Ev.telemetry:
        return this.telemetry(dev, t);
      case Ev.poll:
        return this.poller?.poll(dev, t);
      case Ev.linkDeliver:
        this.telemetryPipe.deliver(dev);
        this.sessions.maybeSleep(dev);
        return;
      case Ev.flush:
        if (this.devices.state(dev) === S.online) this.sessions.flush(dev);
        return;
      case Ev.linkExchange:
        return this.models.linked?.handle(dev);
      case Ev.keepalive:
        return this.sessions.keepalive.handle(dev, t);
      case Ev.linkFlip:
      case Ev.backupFlip:
      case Ev.switchover:
      case Ev.outageStart:
      case Ev.outageEnd:
        return this.coverage.apply(kind, dev, t);
    }
  }

  private reachable(dev: number): boolean {
    return this.models.reach === undefined || this.models.reach.reachable(dev);
  }

  /**
   * Charges a lifecycle step's energy (`oneOff` for the steps of starting up); false when the
   * battery ran dry (the device goes dark).
   */
  private charge(dev: number, step: number, oneOff = false): boolean {
    const e = this.models.energy;
    if (e === undefined || e.charge(dev, step, this.schedule, oneOff)) return true;
    this.goDark(dev);
    return false;
  }

  /** Battery empty: the device stops for the rest of the run; what it held stays buffered. */
  private goDark(dev: number): void {
    const d = this.devices;
    if (d.state(dev) === S.online || d.state(dev) === S.connecting) this.sessions.drop(dev);
    d.setState(dev, S.dead);
    this.metrics.set(G['devices.depleted'], ++this.depleted);
  }

  private global(dev: number): number {
    return this.devices.firstDevice + dev;
  }

  private powerOn(dev: number, t: number): void {
    this.metrics.incFor(C['devices.powered_on'], dev);
    this.metrics.groups?.poweredOn(dev, t);
    this.models.energy?.powerOn(dev, t);
    this.devices.set(dev, Flag.freshBoot);
    if (!this.charge(dev, STEP_BOOT, true)) return;
    const tel = this.cfg.telemetry;
    if (tel) {
      // Devices generate data from boot; the first report is spread over one interval.
      const first = t + uniform(this.cfg.seed, this.global(dev), Stream.telemetryJitter, 0xffffffff) * tel.everyMs;
      this.schedule.at(first, dev, Ev.telemetry);
    }
    this.provisioning.provision(dev);
  }

  private telemetry(dev: number, t: number): void {
    const tel = this.cfg.telemetry!;
    const d = this.devices;
    // Plan the next report from the intended time, not from now (open model).
    const u = uniform(this.cfg.seed, this.global(dev), Stream.telemetryJitter, d.nextSeq(dev));
    this.schedule.at(t + jittered(tel.everyMs, tel.jitter, u), dev, Ev.telemetry);

    this.telemetryPipe.generate(dev, t);
    if (d.state(dev) === S.online) this.sessions.flush(dev);
    // A sleepy device wakes for its report: connect, send what it holds, go back to sleep.
    else if (d.has(dev, Flag.sleepy) && d.state(dev) === S.provisioned) this.connect(dev);
  }

  /**
   * True when what onTelemetryAcked does reaches only the acked device and order-free totals (its
   * in-flight list, its counts, the shard's counters and histograms), so that the virtual clock may
   * run an ack late (engine/clock/virtual-scheduler.ts `defer`). Not with behaviours (they keep
   * fleet-wide state), nor with devices that sleep once acked (their session time is a sum of
   * times, whose rounding depends on order). A modelled link is no obstacle: the PUBACK's way
   * down is part of the telemetry's transit, and the link passes the ack straight on.
   */
  acksStayOnDevice(): boolean {
    return (this.models.behaviours?.length ?? 0) === 0 && !this.cfg.perReportSession.includes(1);
  }

  onTelemetryAcked(dev: number, token: number): void {
    this.retry.back(dev);
    this.telemetryPipe.onAcked(dev, token);
    this.sessions.maybeSleep(dev);
  }

  onConnected(dev: number, ok: boolean, code: number): void {
    this.sessions.onConnected(dev, ok, code);
    // A platform whose devices ask for their target state when the session comes up (a push made
    // while the device was away is not made again): one poll now, the schedule unchanged.
    if (ok && this.driver.pollsOnConnect === true && this.devices.state(dev) === S.online && !this.stopping) this.poller?.pollOnConnect(dev);
  }

  onConnectionLost(dev: number, _reason: string, cause: number): void {
    this.sessions.onConnectionLost(dev, cause);
  }

  onPingResponse(dev: number): void {
    this.sessions.keepalive.answered(dev);
  }

  private connect(dev: number): void {
    this.sessions.connect(dev);
  }

  onPolled(dev: number, status: number, retryAfterMs: number, _nextPollMs: number): void {
    const ok = this.poller?.answered(dev, status, retryAfterMs) ?? false;
    // A poll the backend failed knocks the device out until one succeeds (recovery after an API
    // outage); without scheduled polls (only the one on connect) none would bring it back.
    if (ok) this.retry.pollOk(dev);
    else if (status !== CANCELLED && !this.stopping && this.cfg.poll !== undefined) this.retry.pollFailed(dev);
  }

  /**
   * Whether the device acts on a change it heard of: one found by a poll unless the run is
   * stopping (the poll's answer is counted either way), one pushed unless the device went dark.
   */
  private acts(dev: number, heard: Heard): boolean {
    return heard === 'poll' ? this.poller !== undefined && !this.stopping : this.devices.state(dev) !== S.dead;
  }

  onUpdateOffered(dev: number, offer: UpdateOffer, heard: Heard): void {
    if (this.acts(dev, heard)) this.behaviours.updateOffered(dev, offer, heard);
  }

  onConfigChanged(dev: number, change: ConfigChange, heard: Heard): void {
    if (this.acts(dev, heard)) this.behaviours.configChanged(dev, change, heard);
  }

  onCommand(dev: number, command: DeviceCommand): void {
    if (this.devices.state(dev) !== S.dead) this.behaviours.command(dev, command);
  }

  onProvisioned(dev: number, status: number, retryAfterMs: number): void {
    this.provisioning.onProvisioned(dev, status, retryAfterMs);
  }

  onReauthenticated(dev: number, status: number, retryAfterMs: number): void {
    this.provisioning.onReauthenticated(dev, status, retryAfterMs);
  }

  /** Stops generating: no new telemetry, polls or connects; in-flight messages may still be acked. */
  stopGenerating(): void {
    this.stopping = true;
    // Link deliveries stop with the scheduler's device events: what the link holds now stays there.
    this.telemetryPipe.endOfRun();
    this.behaviours.stop();
  }

  inflightCount(): number {
    return this.telemetryPipe.inflightCount();
  }

  /** Where QoS 1 messages in flight are kept (the model driver times its acks in it). */
  get ackLedger(): InflightTable {
    return this.telemetryPipe.ledger;
  }

  /**
   * Closes the driver the fleet talks to (the modelled link in front of the backend's driver when
   * there is one), so that what the stop cuts off on the link is answered too.
   */
  closeDriver(): Promise<void> {
    return this.driver.close();
  }

  /** Closes every session gracefully. */
  disconnectAll(): void {
    this.sessions.disconnectAll();
  }

  /** Refreshes the gauges that are cheap to keep exact only at interval ends. */
  updateGauges(): void {
    this.metrics.set(G['telemetry.buffered'], this.telemetryPipe.bufferedFromCounts());
  }

  /** Battery projections per profile at `endMs` (undefined without energy models). */
  energyProjection(endMs: number): EnergyProjection[] | undefined {
    return this.models.energy?.project(endMs);
  }

  /** Per fleet group usage at `endMs`, when the run prices its groups (metrics/group-usage.ts). */
  groupUsage(endMs: number): number[] | undefined {
    return this.metrics.groups?.at(endMs);
  }

  /** The shard's accounting. Buffered = still on devices + still in flight (no ack yet). */
  accounting(): TelemetryAccounting {
    return this.telemetryPipe.accounting();
  }
}
