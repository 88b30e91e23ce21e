import { C, H } from '../metrics/catalog.js';
import type { ShardMetrics } from '../metrics/registry.js';
import type { DeviceDriver, TelemetrySpec } from '../drivers/types.js';
import type { DeviceTable } from './device-table.js';
import { accountedFor, type TelemetryAccounting } from '../summary/accounting.js';
import { InflightTable } from './inflight.js';
import type { Schedule } from './schedule.js';
import { Ev } from './event-kinds.js';
import type { DutyCycleGate } from '../models/lorawan.js';
import { HELD_BACKLOG, HELD_GAVE_UP, TRANSIT_GAVE_UP, TRANSIT_LOSSES, type LinkShaper } from './link-shaper.js';

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

/** The device's last session ended without a graceful disconnect (link, reboot, broker): the next one is a reconnect. */
const MARK_SESSION_LOST = 1;
/** The device is sending the backlog it buffered through a lost session (`backlogLeft` counts it down). */
const MARK_BACKLOG = 2;

/**
 * Every telemetry message of a shard from generation to its one final outcome: the device's
 * store-and-forward buffer (a sequence range per device, no payloads kept), the modelled link,
 * the write to the session, QoS 1 messages awaiting their PUBACK, acks, and failures when a
 * session ends. Owns the accounting identity (TelemetryAccounting): a message is `sent` only
 * when the driver wrote it to a live session, so a QoS 0 message the link lost or still held is
 * never booked as `sentNoAck`.
 *
 * Latency is taken at three points: when the message left the device (`sentAt`), when it was
 * written to the wire past the modelled link (`wireAt`) and its intended time. The backend's
 * latency (`telemetry.ack.latency`) runs from the wire to the PUBACK; the device's end-to-end
 * latency (`telemetry.ack.latency_end_to_end`) includes the link's delay and retransmissions.
 */
export class TelemetryPipeline {
  private readonly inflight: InflightTable;
  private readonly acc: TelemetryAccounting = {
    generated: 0,
    acked: 0,
    sentNoAck: 0,
    failed: 0,
    dropped: 0,
    lostOnLink: 0,
    inTransitAtDrop: 0,
    inTransitAtEnd: 0,
    buffered: 0,
    deliveredAfterReconnect: 0,
  };
  private readonly transitOut = new Float64Array(2);
  /** The two times a QoS 1 message's in-flight slot opens with (flush, InflightTable.open). */
  private readonly openTimes = new Float64Array(2);
  /** Backlog messages still buffered per device, while MARK_BACKLOG is set (allocated at the first reconnect). */
  private backlogLeft: Uint32Array | undefined;
  /** One byte of marks per device in the device records (MARK_*), on the line a report touches. */
  private readonly marks: Uint8Array;
  private readonly marksAt: number;
  private readonly recordBytes: number;

  constructor(
    private readonly cfg: TelemetryPipelineConfig | undefined,
    private readonly devices: DeviceTable,
    private readonly schedule: Schedule,
    private readonly driver: DeviceDriver,
    private readonly metrics: ShardMetrics,
    /** Asked before each send (energy for the uplink); false stops the flush. */
    private readonly beforeSend: (dev: number) => boolean,
    /** TCP gave up on the device's connection (the modelled link lost a message): the session is gone. */
    private readonly connectionTimedOut: (dev: number) => void = () => {},
  ) {
    this.inflight = new InflightTable(devices, 1024);
    const slots = devices.reserveSlots('telemetry pipeline', [{ name: 'marks', bytes: 1, line: 'hot' }]);
    this.marks = new Uint8Array(slots.buffer);
    this.marksAt = slots.marks;
    this.recordBytes = slots.recordBytes;
  }

  private marked(dev: number, mark: number): boolean {
    return (this.marks[dev * this.recordBytes + this.marksAt] & mark) !== 0;
  }

  private mark(dev: number, mark: number, on: boolean): void {
    const i = dev * this.recordBytes + this.marksAt;
    this.marks[i] = on ? this.marks[i] | mark : this.marks[i] & ~mark;
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
      this.leaveBuffer(dev);
      this.acc.dropped++;
      this.metrics.inc(C['telemetry.dropped']);
      this.metrics.inc(C['radio.oversize']);
      return;
    }
    if (this.cfg && d.buffered(dev) > this.cfg.bufferCapacity) {
      // Store-and-forward buffer full: the oldest message goes.
      this.leaveBuffer(dev);
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
    // Read once: only leaveBuffer changes them while the loop runs (one message each; drivers
    // never call back synchronously), and the newest message's time stays what it is.
    let buffered = d.buffered(dev);
    const newestAt = d.lastGeneratedAt(dev);
    while (buffered > 0 && budget-- > 0) {
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
      const scheduledAt = newestAt - (buffered - 1) * cfg.everyMs;
      if (!this.beforeSend(dev)) return;
      const backlog = this.marked(dev, MARK_BACKLOG); // the oldest buffered messages are the backlog
      // Intended and sent times on the measurement clock, through a scratch array (InflightTable.open).
      const times = this.openTimes;
      times[0] = scheduledAt;
      this.schedule.measureInto(times);
      const token = cfg.spec.qos === 1 ? this.inflight.open(dev, times, backlog) : -1;
      const payload = cfg.payloads?.fill(dev, seq, scheduledAt);
      if (cfg.link) {
        this.leaveBuffer(dev);
        buffered--;
        this.sendOverLink(cfg.link, dev, seq, token, scheduledAt, payload === undefined ? cfg.spec.size : payload.length, backlog);
        continue;
      }
      if (!this.driver.publishTelemetry(dev, seq, scheduledAt, cfg.spec, token, payload)) {
        if (token >= 0) this.inflight.close(token);
        return; // Not connected after all: the message stays buffered.
      }
      this.leaveBuffer(dev);
      buffered--;
      this.written(dev, scheduledAt, backlog);
    }
    // A duty-cycled backlog drains one frame per window.
    if (radio && buffered > 0) this.schedule.at(radio.gate.earliestSendMs(dev, this.schedule.now()), dev, Ev.flush);
  }

  /** The device's oldest buffered message left the buffer (sent or dropped); the backlog shrinks with it. */
  private leaveBuffer(dev: number): void {
    const d = this.devices;
    d.advanceSend(dev);
    if (this.marked(dev, MARK_BACKLOG) && --this.backlogLeft![dev] === 0) this.mark(dev, MARK_BACKLOG, false);
  }

  /** The message was written to a live session: it is sent (QoS 0: that is its outcome). */
  private written(dev: number, scheduledAt: number, backlog: boolean): void {
    this.metrics.incFor(C['telemetry.sent'], dev);
    if (this.cfg!.spec.qos === 1) return;
    this.acc.sentNoAck++;
    this.metrics.inc(C['telemetry.sent_noack']);
    if (backlog) this.afterReconnect(this.schedule.measureAt(scheduledAt));
  }

  /** A message of a reconnect's backlog was delivered (acked, or written for QoS 0) now. */
  private afterReconnect(scheduledAtMeasured: number): void {
    this.acc.deliveredAfterReconnect++;
    this.metrics.inc(C['telemetry.delivered_after_reconnect']);
    this.metrics.record(H['telemetry.delivered_after_reconnect.delay'], (this.schedule.measureNow() - scheduledAtMeasured) * US_PER_MS);
  }

  /** The message left the device onto the modelled link; it reaches the session after its transit. */
  private sendOverLink(link: LinkShaper, dev: number, seq: number, token: number, scheduledAt: number, bytes: number, backlog: boolean): void {
    const out = this.transitOut;
    out[TRANSIT_LOSSES] = 0;
    out[TRANSIT_GAVE_UP] = 0;
    const transit = link.transit(dev, bytes, out);
    if (out[TRANSIT_LOSSES] > 0) this.metrics.incFor(C['link.packets_lost'], dev, out[TRANSIT_LOSSES]);
    const marks = (out[TRANSIT_GAVE_UP] === 1 ? HELD_GAVE_UP : 0) | (backlog ? HELD_BACKLOG : 0);
    this.schedule.at(link.hold(dev, this.schedule.now() + transit, seq, token, scheduledAt, marks), dev, Ev.linkDeliver);
  }

  /** Messages whose transit is over are written to the session now (through the driver). */
  deliver(dev: number): void {
    const link = this.cfg?.link;
    if (!link) return;
    const now = this.schedule.now();
    for (let n = link.due(dev, now); n >= 0; n = link.due(dev, now)) {
      const token = link.tokenOf(n);
      const seq = link.seqOf(n);
      const scheduledAt = link.scheduledAtOf(n);
      const gaveUp = link.gaveUpOn(n);
      const backlog = link.fromBacklog(n);
      link.release(dev, n);
      if (gaveUp) {
        // TCP abandoned the connection on this message: it is lost, and the session ends with
        // everything behind it (connectionTimedOut ends up in failInflight).
        this.closeOnLink(token);
        this.acc.lostOnLink++;
        this.metrics.inc(C['link.messages_lost']);
        this.connectionTimedOut(dev);
        return;
      }
      if (token >= 0) this.inflight.setWireAt(token, this.schedule.measureNow());
      // The template is a pure function of (device, seq, intended time): the same bytes as at send.
      const payload = this.cfg!.payloads?.fill(dev, seq, scheduledAt);
      if (this.driver.publishTelemetry(dev, seq, scheduledAt, this.cfg!.spec, token, payload)) this.written(dev, scheduledAt, backlog);
      else {
        // The session is already gone (the driver knows before the lifecycle hears of it).
        this.closeOnLink(token);
        this.acc.inTransitAtDrop++;
        this.metrics.inc(C['telemetry.in_transit_at_drop']);
      }
    }
  }

  /** Closes the in-flight slot of a message that never left the modelled link (QoS 1). */
  private closeOnLink(token: number): void {
    if (token >= 0) this.inflight.close(token);
  }

  /** Empties the device's modelled link; returns how many messages it held. */
  private emptyLink(dev: number): number {
    const link = this.cfg?.link;
    if (!link) return 0;
    let k = 0;
    for (let n = link.first(dev); n >= 0; n = link.first(dev)) {
      this.closeOnLink(link.tokenOf(n));
      link.release(dev, n);
      k++;
    }
    return k;
  }

  /** True while the device has messages on the wire or awaiting an ack. */
  busy(dev: number): boolean {
    return this.inflight.hasAny(dev) || (this.cfg?.link?.holding(dev) ?? false);
  }

  onAcked(dev: number, token: number): void {
    if (!this.inflight.isOpen(token, dev)) return;
    const now = this.schedule.measureNow();
    const inflight = this.inflight;
    // Most messages leave the device at their intended time, and without a modelled link they
    // reach the wire then too: the three latencies are one sample, recorded once. Rounded here
    // (histograms record whole µs, and round and clamp alike whether given x or Math.round(x),
    // the bounds being whole): a whole number below 2^30 crosses a call as a small integer,
    // where a fraction is a new HeapNumber per argument.
    this.metrics.recordTriple(
      H['telemetry.ack.latency'],
      H['telemetry.ack.latency_end_to_end'],
      H['telemetry.ack.latency_from_schedule'],
      Math.round((now - inflight.wireAt(token)) * US_PER_MS),
      Math.round((now - inflight.sentAt(token)) * US_PER_MS),
      Math.round((now - inflight.scheduledAt(token)) * US_PER_MS),
    );
    if (inflight.fromBacklog(token)) this.afterReconnect(inflight.scheduledAt(token));
    inflight.close(token);
    this.devices.countAck(dev);
    this.acc.acked++;
    this.metrics.inc(C['telemetry.acked']);
  }

  /**
   * The device's session ended without a graceful disconnect: what the modelled link still held
   * never reached the backend (inTransitAtDrop); QoS 1 messages on the wire got no ack and failed.
   * (Resending them would need their payloads; the backend's counts show whether any arrived
   * anyway.) What the device still buffers is sent after the reconnect, as its backlog.
   */
  failInflight(dev: number): void {
    const cut = this.emptyLink(dev);
    if (cut > 0) {
      this.acc.inTransitAtDrop += cut;
      this.metrics.inc(C['telemetry.in_transit_at_drop'], cut);
    }
    const failed = this.inflight.closeAllOf(dev);
    this.acc.failed += failed;
    this.metrics.inc(C['telemetry.failed'], failed);
    this.mark(dev, MARK_SESSION_LOST, true);
  }

  /** A session came up: after a lost one, what the device buffers now is a reconnect's backlog. */
  sessionUp(dev: number): void {
    if (!this.marked(dev, MARK_SESSION_LOST)) return;
    this.mark(dev, MARK_SESSION_LOST, false);
    const n = this.devices.buffered(dev);
    this.mark(dev, MARK_BACKLOG, n > 0);
    if (n === 0) return;
    // Read only while MARK_BACKLOG is set, so a report of a device without a backlog never touches it.
    this.backlogLeft ??= new Uint32Array(this.devices.count);
    this.backlogLeft[dev] = n;
  }

  /** The run ended: what the modelled link still holds is booked as in transit at the end. */
  endOfRun(): void {
    for (let dev = 0; dev < this.devices.count; dev++) this.acc.inTransitAtEnd += this.emptyLink(dev);
  }

  hasInflight(dev: number): boolean {
    return this.inflight.hasAny(dev);
  }

  inflightCount(): number {
    return this.inflight.size;
  }

  /**
   * Messages still on devices or in flight (on the modelled link, or on the wire awaiting a
   * PUBACK), counted device by device (what `accounting` checks).
   */
  bufferedTotal(): number {
    let buffered = this.inflight.size + (this.cfg?.link?.heldWithoutToken() ?? 0);
    const d = this.devices;
    for (let dev = 0; dev < d.count; dev++) buffered += d.buffered(dev);
    return buffered;
  }

  /**
   * Messages without an outcome yet (buffered, on the link or awaiting an ack), from the outcome
   * counters in O(1) for the per-interval gauge (a scan of every device's record per snapshot cost
   * more than the simulation between snapshots on large shards); the end-of-run accounting still
   * counts device by device, so the identity is checked.
   */
  bufferedFromCounts(): number {
    const a = this.acc;
    return a.generated - accountedFor(a); // a.buffered stays 0 until the end of the run
  }

  /** The in-flight bookkeeping, which the model driver times its acks in (drivers/model AckLedger). */
  get ledger(): InflightTable {
    return this.inflight;
  }

  /**
   * The shard's accounting. After `endOfRun` it is final; before, messages on the modelled link
   * are among `buffered` (they have no outcome yet).
   */
  accounting(): TelemetryAccounting {
    return { ...this.acc, buffered: this.bufferedTotal() };
  }
}
