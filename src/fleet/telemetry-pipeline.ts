import { C, H } from '../metrics/catalog.js';
import type { ShardMetrics } from '../metrics/registry.js';
import type { DeviceDriver, TelemetrySpec } from '../drivers/types.js';
import type { DeviceTable } from './device-table.js';
import { InflightTable } from './inflight.js';
import type { Schedule } from './schedule.js';
import { Ev } from './event-kinds.js';
import type { DutyCycleGate } from '../models/lorawan.js';
import { LOST } from '../models/link.js';
import type { LinkShaper } from './link-shaper.js';
import type { TelemetryAccounting } from '../summary/accounting.js';

/**
 * LoRaWAN radio limits for the devices on a lorawan link: each frame takes `airtimeMs` on air and
 * the EU868 duty cycle then keeps the device quiet for airtime/0.01 − airtime; payloads above the
 * region's maximum cannot be sent at all.
 */
export interface RadioLimits {
  gate: DutyCycleGate;
  /** 1 for the devices these limits apply to. */
  applies: Uint8Array;
  airtimeMs: number;
  maxPayloadBytes: number;
}

/**
 * Payloads filled from a telemetry template (payload/template-filler.ts): a pure function of the
 * device, its sequence number and the intended time, so a retried message carries the same bytes.
 * The buffer is reused: valid until the next fill.
 */
export interface TelemetryPayloads {
  fill(dev: number, seq: number, tMs: number): Buffer;
}

export interface TelemetryPipelineConfig {
  everyMs: number;
  spec: TelemetrySpec;
  /** Templated payloads; absent: the preset pads each payload to `spec.size`. */
  payloads?: TelemetryPayloads;
  /** Messages a device can hold while it cannot send; the oldest is dropped beyond this. */
  bufferCapacity: number;
  /** Messages flushed per device per call (a burst, not an unbounded loop). */
  flushBurst: number;
  radio?: RadioLimits;
  /** The link model in transit (delays, packet loss); none = an ideal link. */
  link?: LinkShaper;
}

const US_PER_MS = 1000;

/**
 * Every telemetry message of a shard from generation to its one final outcome: the device's
 * store-and-forward buffer (a sequence range per device, no payloads kept), publishing, QoS 1
 * messages in flight, acks, and failures when a session ends. Owns the accounting identity:
 * each generated message is counted in exactly one of acked, sentNoAck, failed, dropped, or
 * (at the end) buffered, which includes messages still in flight.
 */
export class TelemetryPipeline {
  private readonly inflight: InflightTable;
  private readonly acc: TelemetryAccounting = { generated: 0, acked: 0, sentNoAck: 0, failed: 0, dropped: 0, buffered: 0 };
  private readonly losses = new Float64Array(1);

  constructor(
    private readonly cfg: TelemetryPipelineConfig | undefined,
    private readonly devices: DeviceTable,
    private readonly schedule: Schedule,
    private readonly driver: DeviceDriver,
    private readonly metrics: ShardMetrics,
    /** Asked before each send (energy for the uplink); false stops the flush. */
    private readonly beforeSend: (dev: number) => boolean,
  ) {
    this.inflight = new InflightTable(devices, 1024);
  }

  /** Device `dev` generated one message at `t` (kept in its buffer until sent). */
  generate(dev: number, t: number): void {
    const d = this.devices;
    d.generated(dev, t);
    this.acc.generated++;
    this.metrics.inc(C['telemetry.generated']);
    const radio = this.cfg?.radio;
    if (radio && radio.applies[dev] && this.cfg!.spec.size > radio.maxPayloadBytes) {
      // Larger than any frame the region allows: it can never be sent.
      d.advanceSend(dev);
      this.acc.dropped++;
      this.metrics.inc(C['telemetry.dropped']);
      this.metrics.inc(C['radio.oversize']);
      return;
    }
    if (this.cfg && d.buffered(dev) > this.cfg.bufferCapacity) {
      // Store-and-forward buffer full: the oldest message goes.
      d.advanceSend(dev);
      this.acc.dropped++;
      this.metrics.inc(C['telemetry.dropped']);
    }
  }

  /** Sends buffered messages, oldest first, up to one burst. */
  flush(dev: number): void {
    const d = this.devices;
    const cfg = this.cfg;
    if (!cfg) return;
    const radio = cfg.radio && cfg.radio.applies[dev] ? cfg.radio : undefined;
    let budget = radio ? 1 : cfg.flushBurst;
    while (d.buffered(dev) > 0 && budget-- > 0) {
      if (radio) {
        // One frame per duty-cycle window: if the device must stay quiet, try again when it may send.
        const now = this.schedule.now();
        const start = radio.gate.earliestSendMs(dev, now);
        if (start > now) {
          this.metrics.inc(C['radio.duty_cycle_wait']);
          this.schedule.at(start, dev, Ev.flush);
          return;
        }
        radio.gate.reserve(dev, now, radio.airtimeMs);
      }
      const seq = d.sendSeq(dev);
      // Intended time of a buffered message, estimated back from the newest one at the nominal
      // interval (jitter makes it approximate; the newest is exact).
      const behind = d.buffered(dev) - 1;
      const scheduledAt = d.lastGeneratedAt(dev) - behind * cfg.everyMs;
      if (!this.beforeSend(dev)) return;
      const sentAt = this.schedule.measureNow();
      const qos = cfg.spec.qos;
      const token = qos === 1 ? this.inflight.open(dev, this.schedule.measureAt(scheduledAt), sentAt) : -1;
      const payload = cfg.payloads?.fill(dev, seq, scheduledAt);
      if (cfg.link) {
        this.sendOverLink(cfg.link, dev, seq, token, scheduledAt, payload === undefined ? cfg.spec.size : payload.length);
        continue;
      }
      if (!this.driver.publishTelemetry(dev, seq, scheduledAt, cfg.spec, token, payload)) {
        if (token >= 0) this.inflight.close(token);
        return; // Not connected after all: the message stays buffered.
      }
      d.advanceSend(dev);
      this.metrics.inc(C['telemetry.sent']);
      if (qos === 0) {
        this.acc.sentNoAck++;
        this.metrics.inc(C['telemetry.sent_noack']);
      }
    }
    // A duty-cycled backlog drains one frame per window.
    if (radio && d.buffered(dev) > 0) this.schedule.at(radio.gate.earliestSendMs(dev, this.schedule.now()), dev, Ev.flush);
  }

  /** The message left the device: it is sent, and reaches the backend after its transit (if ever). */
  private sendOverLink(link: LinkShaper, dev: number, seq: number, token: number, scheduledAt: number, bytes: number): void {
    const cfg = this.cfg!;
    this.devices.advanceSend(dev);
    this.metrics.inc(C['telemetry.sent']);
    if (cfg.spec.qos === 0) {
      this.acc.sentNoAck++;
      this.metrics.inc(C['telemetry.sent_noack']);
    }
    this.losses[0] = 0;
    const transit = link.transit(dev, bytes, this.losses);
    if (this.losses[0] > 0) this.metrics.inc(C['link.packets_lost'], this.losses[0]);
    if (transit === LOST) {
      this.metrics.inc(C['link.messages_lost']);
      if (token >= 0) this.failToken(token);
      return;
    }
    this.schedule.at(link.hold(dev, this.schedule.now() + transit, seq, token, scheduledAt), dev, Ev.linkDeliver);
  }

  /** Messages whose transit is over reach the backend now (through the driver). */
  deliver(dev: number): void {
    const link = this.cfg?.link;
    if (!link) return;
    const now = this.schedule.now();
    for (let n = link.due(dev, now); n >= 0; n = link.due(dev, now)) {
      const token = link.tokenOf(n);
      const seq = link.seqOf(n);
      const scheduledAt = link.scheduledAtOf(n);
      link.release(dev, n);
      if (token >= 0 && !this.inflight.isOpen(token, dev)) continue; // failed with its session already
      // Filled again on arrival: the same bytes (a pure function of dev, seq, time), none held in transit.
      const payload = this.cfg!.payloads?.fill(dev, seq, scheduledAt);
      if (!this.driver.publishTelemetry(dev, seq, scheduledAt, this.cfg!.spec, token, payload) && token >= 0) this.failToken(token);
    }
  }

  private failToken(token: number): void {
    this.inflight.close(token);
    this.acc.failed++;
    this.metrics.inc(C['telemetry.failed']);
  }

  /** True while the device has messages on the wire or awaiting an ack. */
  busy(dev: number): boolean {
    return this.inflight.hasAny(dev) || (this.cfg?.link?.holding(dev) ?? false);
  }

  onAcked(dev: number, token: number): void {
    if (!this.inflight.isOpen(token, dev)) return;
    const now = this.schedule.measureNow();
    this.metrics.recordPair(
      H['telemetry.ack.latency'],
      H['telemetry.ack.latency_from_schedule'],
      (now - this.inflight.sentAt(token)) * US_PER_MS,
      (now - this.inflight.scheduledAt(token)) * US_PER_MS,
    );
    this.inflight.close(token);
    this.devices.countAck(dev);
    this.acc.acked++;
    this.metrics.inc(C['telemetry.acked']);
  }

  /**
   * The device's session ended: its QoS 1 messages in flight got no ack and failed. (Resending
   * them would need their payloads; the backend's counts show whether any arrived anyway.)
   */
  failInflight(dev: number): void {
    // Held QoS 0 messages are simply lost with the session; held QoS 1 ones are among the tokens.
    this.cfg?.link?.clear(dev);
    const failed = this.inflight.closeAllOf(dev);
    this.acc.failed += failed;
    this.metrics.inc(C['telemetry.failed'], failed);
  }

  hasInflight(dev: number): boolean {
    return this.inflight.hasAny(dev);
  }

  inflightCount(): number {
    return this.inflight.size;
  }

  /** Messages still on devices or in flight, counted device by device (what `accounting` checks). */
  bufferedTotal(): number {
    let buffered = this.inflight.size;
    const d = this.devices;
    for (let dev = 0; dev < d.count; dev++) buffered += d.buffered(dev);
    return buffered;
  }

  /**
   * The same from the outcome counters, in O(1) for the per-interval gauge (a scan of every
   * device's record per snapshot cost more than the simulation between snapshots on large
   * shards); the end-of-run accounting still counts device by device, so the identity is checked.
   */
  bufferedFromCounts(): number {
    const a = this.acc;
    return a.generated - a.acked - a.sentNoAck - a.failed - a.dropped;
  }

  /** The in-flight bookkeeping, which the model driver times its acks in (drivers/model AckLedger). */
  get ledger(): InflightTable {
    return this.inflight;
  }

  accounting(): TelemetryAccounting {
    return { ...this.acc, buffered: this.bufferedTotal() };
  }
}
