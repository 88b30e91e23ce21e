import { C, G, H } from '../metrics/catalog.js';
import type { ShardMetrics } from '../metrics/registry.js';
import { fullJitterBackoff, jittered, Stream, uniform } from '../models/rng.js';
import type { DeviceDriver, DriverEvents, TelemetrySpec } from '../drivers/types.js';
import { arrivalStride, powerOnTimeMs, type ArrivalSpec } from '../models/arrival.js';
import { DeviceState as S, DeviceTable } from './device-table.js';
import { InflightTable } from './inflight.js';
import { Ev, type Schedule } from './schedule.js';

export interface LifecycleConfig {
  seed: number;
  /** Serial prefix; a device's serial is `<prefix>-<global index>`, stable across shards and runs. */
  serialPrefix: string;
  arrival: ArrivalSpec;
  /** Devices in the whole fleet (all shards, all processes): the arrival order spans them all. */
  fleetDevices: number;
  telemetry?: { everyMs: number; jitter: number; spec: TelemetrySpec };
  poll?: { everyMs: number; jitter: number };
  reconnect: { baseMs: number; capMs: number };
  /** Messages a device can hold while it cannot send; the oldest is dropped beyond this. */
  bufferCapacity: number;
  /** Messages flushed per device per connect turn (a burst, not an unbounded loop). */
  flushBurst: number;
}

/** Accounting of a shard's telemetry: generated = acked + sentNoAck + failed + dropped + buffered. */
export interface TelemetryAccounting {
  generated: number;
  acked: number;
  sentNoAck: number;
  failed: number;
  dropped: number;
  buffered: number;
}

const US_PER_MS = 1000;

/**
 * Device lifecycle v1, for every device of one shard: power on → provision (HTTP) → connect
 * (MQTT) → telemetry and target-state polls on their own schedules (open model: the next event is
 * planned from the intended time, never from when the previous one finished) → reconnect with
 * full-jitter backoff → graceful disconnect at the end.
 *
 * It is the driver's event sink. All state is in DeviceTable / InflightTable typed arrays; events
 * are (device, kind) pairs from the shard's one scheduler. Single-threaded: one instance per shard.
 */
export class Lifecycle implements DriverEvents {
  readonly devices: DeviceTable;
  private readonly inflight: InflightTable;
  private stopping = false;
  private readonly acc: TelemetryAccounting = { generated: 0, acked: 0, sentNoAck: 0, failed: 0, dropped: 0, buffered: 0 };
  private online = 0;
  private provisioned = 0;

  constructor(
    count: number,
    firstDevice: number,
    private readonly cfg: LifecycleConfig,
    private readonly schedule: Schedule,
    private readonly driver: DeviceDriver,
    private readonly metrics: ShardMetrics,
  ) {
    this.devices = new DeviceTable(count, firstDevice);
    this.inflight = new InflightTable(count, Math.min(65536, Math.max(1024, count * 4)));
  }

  /** Queues every device's power-on. Called once, before the scheduler starts. */
  planArrivals(): void {
    const d = this.devices;
    const total = this.cfg.fleetDevices;
    const stride = arrivalStride(total);
    for (let dev = 0; dev < d.count; dev++) this.schedule.at(powerOnTimeMs(d.firstDevice + dev, total, this.cfg.arrival, stride), dev, Ev.powerOn);
  }

  /** The scheduler's dispatch target. */
  handle(kind: number, dev: number, t: number): void {
    if (this.stopping) return;
    switch (kind) {
      case Ev.powerOn:
        return this.powerOn(dev, t);
      case Ev.provision:
        return this.provision(dev);
      case Ev.connect:
        return this.connect(dev);
      case Ev.telemetry:
        return this.telemetry(dev, t);
      case Ev.poll:
        return this.poll(dev, t);
    }
  }

  private global(dev: number): number {
    return this.devices.firstDevice + dev;
  }

  private powerOn(dev: number, t: number): void {
    this.metrics.inc(C['devices.powered_on']);
    const tel = this.cfg.telemetry;
    if (tel) {
      // Devices generate data from boot; the first report is spread over one interval.
      const first = t + uniform(this.cfg.seed, this.global(dev), Stream.telemetryJitter, 0xffffffff) * tel.everyMs;
      this.devices.telemetryQueued[dev] = 1;
      this.schedule.at(first, dev, Ev.telemetry);
    }
    this.provision(dev);
  }

  private provision(dev: number): void {
    const d = this.devices;
    d.state[dev] = S.provisioning;
    d.httpStartedAt[dev] = this.schedule.measureNow();
    this.driver.provision(dev, `${this.cfg.serialPrefix}-${this.global(dev)}`);
  }

  onProvisioned(dev: number, status: number, retryAfterMs: number): void {
    const d = this.devices;
    const now = this.schedule.measureNow();
    this.metrics.record(H['provision.latency'], (now - d.httpStartedAt[dev]) * US_PER_MS);
    d.httpStartedAt[dev] = -1;
    if (this.stopping) return;
    if (status >= 200 && status < 300) {
      this.metrics.inc(C['provision.ok']);
      d.state[dev] = S.provisioned;
      d.attempts[dev] = 0;
      this.metrics.set(G['devices.provisioned'], ++this.provisioned);
      const t = this.schedule.now();
      this.connect(dev);
      if (this.cfg.poll) {
        d.pollQueued[dev] = 1;
        this.schedule.at(t + uniform(this.cfg.seed, this.global(dev), Stream.pollJitter, d.pollDraws[dev]++) * this.cfg.poll.everyMs, dev, Ev.poll);
      }
      return;
    }
    this.metrics.inc(C['provision.failed']);
    this.countHttpError(status);
    this.retryLater(dev, Ev.provision, status, retryAfterMs);
  }

  private connect(dev: number): void {
    const d = this.devices;
    d.state[dev] = S.connecting;
    d.connectStartedAt[dev] = this.schedule.measureNow();
    this.driver.connect(dev);
  }

  onConnected(dev: number, ok: boolean, code: number): void {
    const d = this.devices;
    if (this.stopping) {
      if (ok) this.driver.disconnect(dev);
      return;
    }
    if (ok) {
      this.metrics.record(H['mqtt.connect.latency'], (this.schedule.measureNow() - d.connectStartedAt[dev]) * US_PER_MS);
      this.metrics.inc(C['mqtt.connect.ok']);
      d.state[dev] = S.online;
      d.attempts[dev] = 0;
      this.metrics.set(G['devices.online'], ++this.online);
      this.flush(dev);
      return;
    }
    this.metrics.inc(C['mqtt.connect.failed']);
    this.metrics.inc(code < 0 ? C['errors.network'] : C['errors.mqtt_refused']);
    this.retryLater(dev, Ev.connect, 0, 0);
  }

  onConnectionLost(dev: number, _reason: string): void {
    const d = this.devices;
    if (d.state[dev] !== S.online) return;
    this.metrics.inc(C['mqtt.connection_lost']);
    this.metrics.set(G['devices.online'], --this.online);
    // QoS 1 messages in flight on the lost session got no ack: they failed. (Resending them would
    // need their payloads; the backend's counts show whether any arrived anyway.)
    const failed = this.inflight.closeAllOf(dev);
    this.acc.failed += failed;
    this.metrics.inc(C['telemetry.failed'], failed);
    if (this.stopping) {
      d.state[dev] = S.stopped;
      return;
    }
    this.metrics.inc(C['mqtt.reconnects']);
    this.retryLater(dev, Ev.connect, 0, 0);
  }

  /** Schedules another attempt: Retry-After when the server gave one, else full-jitter backoff. */
  private retryLater(dev: number, kind: number, status: number, retryAfterMs: number): void {
    const d = this.devices;
    d.state[dev] = kind === Ev.provision ? S.off : S.backoff;
    let delay: number;
    if ((status === 429 || status === 503) && retryAfterMs > 0) {
      this.metrics.inc(C['http.retry_after']);
      delay = retryAfterMs;
    } else {
      const u = uniform(this.cfg.seed, this.global(dev), Stream.backoff, d.backoffDraws[dev]++);
      delay = fullJitterBackoff(this.cfg.reconnect.baseMs, this.cfg.reconnect.capMs, d.attempts[dev], u);
    }
    if (d.attempts[dev] < 0xffff) d.attempts[dev]++;
    this.schedule.at(this.schedule.now() + delay, dev, kind);
  }

  private telemetry(dev: number, t: number): void {
    const tel = this.cfg.telemetry!;
    const d = this.devices;
    // Plan the next report from the intended time, not from now (open model).
    const u = uniform(this.cfg.seed, this.global(dev), Stream.telemetryJitter, d.nextSeq[dev]);
    this.schedule.at(t + jittered(tel.everyMs, tel.jitter, u), dev, Ev.telemetry);

    d.nextSeq[dev]++;
    d.lastGeneratedAt[dev] = t;
    this.acc.generated++;
    this.metrics.inc(C['telemetry.generated']);
    if (d.buffered(dev) > this.cfg.bufferCapacity) {
      // Store-and-forward buffer full: the oldest message goes.
      d.sendSeq[dev]++;
      this.acc.dropped++;
      this.metrics.inc(C['telemetry.dropped']);
    }
    if (d.state[dev] === S.online) this.flush(dev);
  }

  /** Sends buffered messages, oldest first, up to one burst. */
  private flush(dev: number): void {
    const d = this.devices;
    const tel = this.cfg.telemetry;
    if (!tel) return;
    let budget = this.cfg.flushBurst;
    while (d.sendSeq[dev] < d.nextSeq[dev] && budget-- > 0) {
      const seq = d.sendSeq[dev];
      // Intended time of a buffered message, estimated back from the newest one at the nominal
      // interval (jitter makes it approximate; the newest is exact).
      const behind = d.nextSeq[dev] - 1 - seq;
      const scheduledAt = d.lastGeneratedAt[dev] - behind * tel.everyMs;
      const sentAt = this.schedule.measureNow();
      const qos = tel.spec.qos;
      const token = qos === 1 ? this.inflight.open(dev, seq, this.schedule.measureAt(scheduledAt), sentAt) : -1;
      if (!this.driver.publishTelemetry(dev, seq, scheduledAt, tel.spec, token)) {
        if (token >= 0) this.inflight.close(token);
        return; // Not connected after all: the message stays buffered.
      }
      d.sendSeq[dev]++;
      this.metrics.inc(C['telemetry.sent']);
      if (qos === 0) {
        this.acc.sentNoAck++;
        this.metrics.inc(C['telemetry.sent_noack']);
      }
    }
  }

  onTelemetryAcked(dev: number, token: number): void {
    if (!this.inflight.isOpen(token, dev)) return;
    const now = this.schedule.measureNow();
    this.metrics.record(H['telemetry.ack.latency'], (now - this.inflight.sentAt(token)) * US_PER_MS);
    this.metrics.record(H['telemetry.ack.latency_from_schedule'], (now - this.inflight.scheduledAt(token)) * US_PER_MS);
    this.inflight.close(token);
    this.devices.acked[dev]++;
    this.acc.acked++;
    this.metrics.inc(C['telemetry.acked']);
  }

  private poll(dev: number, t: number): void {
    const p = this.cfg.poll!;
    const d = this.devices;
    const u = uniform(this.cfg.seed, this.global(dev), Stream.pollJitter, d.pollDraws[dev]++);
    this.schedule.at(t + jittered(p.everyMs, p.jitter, u), dev, Ev.poll);
    // One HTTP request at a time per device: a poll still waiting is not doubled up.
    if (d.httpStartedAt[dev] >= 0) return;
    d.httpStartedAt[dev] = this.schedule.measureNow();
    this.driver.pollTarget(dev);
  }

  onPolled(dev: number, status: number, _retryAfterMs: number): void {
    const d = this.devices;
    this.metrics.record(H['poll.latency'], (this.schedule.measureNow() - d.httpStartedAt[dev]) * US_PER_MS);
    d.httpStartedAt[dev] = -1;
    if (status === 200 || status === 304) {
      this.metrics.inc(C['poll.ok']);
      return;
    }
    this.metrics.inc(C['poll.failed']);
    this.countHttpError(status);
  }

  private countHttpError(status: number): void {
    if (status === 0) this.metrics.inc(C['errors.network']);
    else if (status >= 500) this.metrics.inc(C['errors.http_5xx']);
    else if (status >= 400) this.metrics.inc(C['errors.http_4xx']);
  }

  /** Stops generating: no new telemetry, polls or connects; in-flight messages may still be acked. */
  stopGenerating(): void {
    this.stopping = true;
  }

  inflightCount(): number {
    return this.inflight.size;
  }

  /** Closes every session gracefully. */
  disconnectAll(): void {
    const d = this.devices;
    for (let dev = 0; dev < d.count; dev++) {
      if (d.state[dev] === S.online || d.state[dev] === S.connecting) this.driver.disconnect(dev);
      if (d.state[dev] === S.online) this.online--;
      d.state[dev] = S.stopped;
    }
    this.metrics.set(G['devices.online'], this.online);
  }

  /** Refreshes the gauges that are cheap to keep exact only at interval ends. */
  updateGauges(): void {
    let buffered = this.inflight.size;
    const d = this.devices;
    for (let dev = 0; dev < d.count; dev++) buffered += d.nextSeq[dev] - d.sendSeq[dev];
    this.metrics.set(G['telemetry.buffered'], buffered);
  }

  /** The shard's accounting. Buffered = still on devices + still in flight (no ack yet). */
  accounting(): TelemetryAccounting {
    let buffered = this.inflight.size;
    const d = this.devices;
    for (let dev = 0; dev < d.count; dev++) buffered += d.nextSeq[dev] - d.sendSeq[dev];
    return { ...this.acc, buffered };
  }
}
