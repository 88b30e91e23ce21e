/**
 * fleet/telemetry-pipeline.ts on a fake schedule and a fake driver (test/helpers/): each outcome
 * a telemetry message can have, the store-and-forward buffer, and the accounting identity
 * generated = acked + sentNoAck + failed + dropped + lostOnLink + inTransitAtDrop + inTransitAtEnd
 * + buffered after every step.
 */
import { describe, expect, it } from 'vitest';
import { C, H } from '../../src/metrics/catalog.js';
import { addCounts, histogramStats, newHistogram } from '../../src/metrics/histogram.js';
import { ShardMetrics } from '../../src/metrics/registry.js';
import { DeviceTable } from '../../src/fleet/device-table.js';
import { Ev } from '../../src/fleet/event-kinds.js';
import { TelemetryPipeline, type TelemetryPipelineConfig } from '../../src/fleet/telemetry-pipeline.js';
import { DutyCycleGate } from '../../src/models/lorawan.js';
import { FakeDriver } from '../helpers/fake-driver.js';
import { FakeSchedule } from '../helpers/fake-schedule.js';
import { LinkShaper } from '../../src/fleet/link-shaper.js';
import { LOST, type LinkStates } from '../../src/models/link.js';

/** A modelled link whose packets take `oneWayMs`, or are lost while `down.lost` is set; RTO 200 ms, giving up after 1 s. */
function scriptedLink(oneWayMs: number) {
  const down = { lost: false };
  const states = { paramsOf: new Uint8Array(4), count: 4, transmit: () => (down.lost ? LOST : oneWayMs) } as unknown as LinkStates;
  return { link: new LinkShaper(states, [200], 1000), down };
}

const EVERY_MS = 1000;

function setup(over: Partial<TelemetryPipelineConfig> = {}, devices = 2) {
  const table = new DeviceTable(devices, 0);
  const schedule = new FakeSchedule();
  const driver = new FakeDriver();
  const metrics = new ShardMetrics(0);
  const energy = { left: true };
  const cfg: TelemetryPipelineConfig = { everyMs: EVERY_MS, spec: { size: 100, qos: 1 }, bufferCapacity: 5, flushBurst: 3, ...over };
  const pipe = new TelemetryPipeline(cfg, table, schedule, driver, metrics, () => energy.left);
  /** Generates one message per device at the current time, as the lifecycle's telemetry event does. */
  const generate = (dev: number, n = 1) => {
    for (let i = 0; i < n; i++) pipe.generate(dev, schedule.now());
  };
  return { pipe, table, schedule, driver, metrics, energy, generate };
}

/** The identity, and that the counters the summary reads agree with the accounting. */
function expectIdentity(pipe: TelemetryPipeline, metrics: ShardMetrics): void {
  const a = pipe.accounting();
  expect(a.generated).toBe(a.acked + a.sentNoAck + a.failed + a.dropped + a.lostOnLink + a.inTransitAtDrop + a.inTransitAtEnd + a.buffered);
  expect(a.buffered).toBe(pipe.bufferedFromCounts());
  expect(metrics.counters[C['telemetry.generated']]).toBe(a.generated);
  expect(metrics.counters[C['telemetry.acked']]).toBe(a.acked);
  expect(metrics.counters[C['telemetry.sent_noack']]).toBe(a.sentNoAck);
  expect(metrics.counters[C['telemetry.failed']]).toBe(a.failed);
  expect(metrics.counters[C['telemetry.dropped']]).toBe(a.dropped);
  expect(metrics.counters[C['link.messages_lost']]).toBe(a.lostOnLink);
  expect(metrics.counters[C['telemetry.in_transit_at_drop']]).toBe(a.inTransitAtDrop);
}

describe('telemetry pipeline: one outcome per message', () => {
  it('QoS 1: generated -> sent -> acked once; a repeated ack is ignored', () => {
    const { pipe, driver, metrics, generate } = setup();
    driver.openSession(0);
    generate(0);
    pipe.flush(0);
    expect(driver.published).toHaveLength(1);
    const { token, seq } = driver.published[0];
    expect(seq).toBe(0);
    expect(pipe.busy(0)).toBe(true);
    expect(pipe.accounting()).toMatchObject({ generated: 1, acked: 0, buffered: 1 }); // in flight counts as buffered
    pipe.onAcked(0, token);
    pipe.onAcked(0, token);
    expect(pipe.accounting()).toMatchObject({ generated: 1, acked: 1, sentNoAck: 0, failed: 0, dropped: 0, buffered: 0 });
    expect(metrics.counters[C['telemetry.sent']]).toBe(1);
    expect(pipe.busy(0)).toBe(false);
    expectIdentity(pipe, metrics);
  });

  it('an ack carrying another device is ignored (the token belongs to its sender)', () => {
    const { pipe, driver, metrics, generate } = setup();
    driver.openSession(0);
    generate(0);
    pipe.flush(0);
    pipe.onAcked(1, driver.published[0].token);
    expect(pipe.accounting()).toMatchObject({ acked: 0, buffered: 1 });
    expectIdentity(pipe, metrics);
  });

  it('QoS 0: generated -> sent without ack, nothing left in flight', () => {
    const { pipe, driver, metrics, generate } = setup({ spec: { size: 100, qos: 0 } });
    driver.openSession(0);
    generate(0, 2);
    pipe.flush(0);
    expect(driver.published.map((p) => [p.seq, p.qos, p.token])).toEqual([
      [0, 0, -1],
      [1, 0, -1],
    ]);
    expect(pipe.accounting()).toMatchObject({ generated: 2, sentNoAck: 2, buffered: 0 });
    expect(pipe.busy(0)).toBe(false);
    expectIdentity(pipe, metrics);
  });

  it('QoS 1 in flight when the session ends: failed, and a late ack changes nothing', () => {
    const { pipe, driver, metrics, generate } = setup();
    driver.openSession(0);
    generate(0, 2);
    pipe.flush(0);
    const [first, second] = driver.published;
    pipe.onAcked(0, first.token);
    pipe.failInflight(0);
    pipe.onAcked(0, second.token);
    expect(pipe.accounting()).toMatchObject({ generated: 2, acked: 1, failed: 1, buffered: 0 });
    expect(pipe.hasInflight(0)).toBe(false);
    expectIdentity(pipe, metrics);
  });

  it('no session: the message stays buffered (the refused token is released) and goes when the session opens', () => {
    const { pipe, driver, metrics, generate } = setup();
    generate(0);
    pipe.flush(0);
    expect(driver.published).toEqual([]);
    expect(pipe.inflightCount()).toBe(0);
    expect(pipe.accounting()).toMatchObject({ generated: 1, buffered: 1 });
    expectIdentity(pipe, metrics);
    driver.openSession(0);
    pipe.flush(0);
    expect(driver.published.map((p) => p.seq)).toEqual([0]);
    pipe.onAcked(0, driver.published[0].token);
    expect(pipe.accounting()).toMatchObject({ acked: 1, buffered: 0 });
    expectIdentity(pipe, metrics);
  });

  it('no energy to send: the flush stops and the message stays buffered', () => {
    const { pipe, driver, metrics, energy, generate } = setup();
    driver.openSession(0);
    energy.left = false;
    generate(0);
    pipe.flush(0);
    expect(driver.published).toEqual([]);
    expect(pipe.accounting()).toMatchObject({ buffered: 1 });
    expectIdentity(pipe, metrics);
  });

  it('still buffered at the end: on the device, and in flight without an ack', () => {
    const { pipe, driver, metrics, generate } = setup();
    generate(1, 2); // device 1 never connects
    driver.openSession(0);
    generate(0);
    pipe.flush(0); // in flight, never acked
    expect(pipe.accounting()).toMatchObject({ generated: 3, acked: 0, failed: 0, dropped: 0, buffered: 3 });
    expect(pipe.bufferedTotal()).toBe(3);
    expectIdentity(pipe, metrics);
  });

  it('a message larger than its radio can ever send is dropped at once', () => {
    const gate = new DutyCycleGate(2);
    const applies = new Uint8Array([1, 0]);
    const { pipe, driver, metrics, generate } = setup({ spec: { size: 300, qos: 1 }, radio: { gate, applies, airtimeMs: 100, maxPayloadBytes: 222 } });
    driver.openSession(0);
    driver.openSession(1);
    generate(0);
    generate(1);
    pipe.flush(0);
    pipe.flush(1);
    expect(driver.published.map((p) => p.dev)).toEqual([1]); // the radio limit applies to device 0 only
    expect(pipe.accounting()).toMatchObject({ generated: 2, dropped: 1, buffered: 1 });
    expect(metrics.counters[C['radio.oversize']]).toBe(1);
    expectIdentity(pipe, metrics);
  });

  it('the duty cycle sends one frame per window and schedules a flush for the next', () => {
    const gate = new DutyCycleGate(1);
    const { pipe, driver, schedule, metrics, generate } = setup({ radio: { gate, applies: new Uint8Array([1]), airtimeMs: 100, maxPayloadBytes: 222 } }, 1);
    driver.openSession(0);
    generate(0, 3);
    pipe.flush(0);
    expect(driver.published).toHaveLength(1);
    const next = schedule.pending(0, Ev.flush);
    expect(next).toHaveLength(1);
    // EU868: 1% duty cycle, so 100 ms on air keeps the device quiet until 10 s after it started.
    expect(next[0].t).toBeCloseTo(100 / 0.01, 6);
    pipe.flush(0); // too early: waits again, sends nothing
    expect(driver.published).toHaveLength(1);
    expect(metrics.counters[C['radio.duty_cycle_wait']]).toBeGreaterThanOrEqual(1);
    expectIdentity(pipe, metrics);
  });
});

describe('telemetry pipeline: store-and-forward', () => {
  it('a full buffer drops the oldest: capacity 5, 8 generated offline -> 3 dropped, the newest 5 kept', () => {
    const { pipe, table, driver, metrics, generate } = setup({ bufferCapacity: 5, flushBurst: 10 });
    generate(0, 8);
    expect(table.buffered(0)).toBe(5);
    expect(pipe.accounting()).toMatchObject({ generated: 8, dropped: 3, buffered: 5 });
    expectIdentity(pipe, metrics);
    driver.openSession(0);
    pipe.flush(0);
    expect(driver.published.map((p) => p.seq)).toEqual([3, 4, 5, 6, 7]);
  });

  it('flushes one burst per call, oldest first, with intended times estimated back at the nominal interval', () => {
    const { pipe, driver, schedule, metrics } = setup({ bufferCapacity: 10, flushBurst: 3 });
    for (let i = 0; i < 7; i++) {
      schedule.runUntil(i * EVERY_MS);
      pipe.generate(0, schedule.now());
    }
    driver.openSession(0);
    pipe.flush(0);
    expect(driver.published.map((p) => p.seq)).toEqual([0, 1, 2]);
    // Newest generated at 6000 ms; the oldest of 7 buffered is estimated 6 intervals earlier.
    expect(driver.published.map((p) => p.scheduledAtMs)).toEqual([0, 1000, 2000]);
    pipe.flush(0);
    pipe.flush(0);
    expect(driver.published.map((p) => p.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const p of driver.published) pipe.onAcked(0, p.token);
    expect(pipe.accounting()).toMatchObject({ generated: 7, acked: 7, buffered: 0 });
    expectIdentity(pipe, metrics);
  });

  it('keeps the identity through any interleaving of generate, flush, acks and lost sessions', () => {
    // A fixed pseudo-random walk (xorshift32) over the operations, checked after every step.
    const { pipe, driver, metrics, generate } = setup({ bufferCapacity: 4, flushBurst: 2 }, 3);
    let x = 0x9e3779b9;
    const next = (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const unacked: Array<{ dev: number; token: number }> = [];
    for (let step = 0; step < 2000; step++) {
      const dev = next(3);
      switch (next(6)) {
        case 0:
        case 1:
          generate(dev);
          break;
        case 2: {
          const before = driver.published.length;
          pipe.flush(dev);
          for (const p of driver.published.slice(before)) unacked.push({ dev: p.dev, token: p.token });
          break;
        }
        case 3: {
          const i = unacked.findIndex((u) => u.dev === dev);
          if (i >= 0) pipe.onAcked(dev, unacked.splice(i, 1)[0].token);
          break;
        }
        case 4:
          pipe.failInflight(dev);
          driver.closeSession(dev);
          for (let i = unacked.length - 1; i >= 0; i--) if (unacked[i].dev === dev) unacked.splice(i, 1);
          break;
        case 5:
          driver.openSession(dev);
          break;
      }
      expectIdentity(pipe, metrics);
    }
    const a = pipe.accounting();
    // The walk reached every outcome.
    for (const k of ['acked', 'failed', 'dropped', 'buffered'] as const) expect(a[k], k).toBeGreaterThan(0);
  });
});

describe('telemetry pipeline: the modelled link', () => {
  function linked(qos: 0 | 1) {
    const { link, down } = scriptedLink(10);
    const timedOut: number[] = [];
    const table = new DeviceTable(2, 0);
    const schedule = new FakeSchedule();
    const driver = new FakeDriver();
    const metrics = new ShardMetrics(0);
    const cfg: TelemetryPipelineConfig = { everyMs: EVERY_MS, spec: { size: 100, qos }, bufferCapacity: 5, flushBurst: 3, link };
    const pipe = new TelemetryPipeline(cfg, table, schedule, driver, metrics, () => true, (dev) => {
      timedOut.push(dev);
      pipe.failInflight(dev);
    });
    schedule.dispatch = (kind, dev) => kind === Ev.linkDeliver && pipe.deliver(dev);
    driver.openSession(0);
    return { pipe, table, schedule, driver, metrics, down, timedOut };
  }

  it('QoS 0 is sent when it is written past the link, not when it leaves the device', () => {
    const { pipe, schedule, driver, metrics } = linked(0);
    pipe.generate(0, 0);
    pipe.flush(0);
    expect(pipe.accounting()).toMatchObject({ sentNoAck: 0, buffered: 1 }); // on the link: no outcome yet
    expect(metrics.counters[C['telemetry.sent']]).toBe(0);
    schedule.runUntil(20); // 10 ms there, 10 ms for the acknowledgement back
    expect(driver.published).toHaveLength(1);
    expect(pipe.accounting()).toMatchObject({ sentNoAck: 1, buffered: 0 });
    expect(metrics.counters[C['telemetry.sent']]).toBe(1);
    expectIdentity(pipe, metrics);
  });

  it('on the link when the session ends: in transit at drop (QoS 0 and QoS 1), never sent, never failed', () => {
    for (const qos of [0, 1] as const) {
      const { pipe, schedule, driver, metrics } = linked(qos);
      pipe.generate(0, 0);
      pipe.generate(0, 0);
      pipe.flush(0);
      pipe.failInflight(0);
      schedule.runUntil(100);
      expect(driver.published).toHaveLength(0);
      expect(pipe.accounting()).toMatchObject({ inTransitAtDrop: 2, sentNoAck: 0, failed: 0, buffered: 0 });
      expectIdentity(pipe, metrics);
    }
  });

  it('a session the driver already lost refuses the write: in transit at drop', () => {
    const { pipe, schedule, driver, metrics } = linked(1);
    pipe.generate(0, 0);
    pipe.flush(0);
    driver.closeSession(0);
    schedule.runUntil(20);
    expect(pipe.accounting()).toMatchObject({ inTransitAtDrop: 1, failed: 0, buffered: 0 });
    expect(pipe.hasInflight(0)).toBe(false);
    expectIdentity(pipe, metrics);
  });

  it('on the link when the run ends: in transit at end; QoS 1 on the wire stays buffered', () => {
    const { pipe, schedule, driver, metrics } = linked(1);
    pipe.generate(0, 0);
    pipe.flush(0);
    schedule.runUntil(20); // written, awaiting its PUBACK
    pipe.generate(0, 20);
    pipe.flush(0); // on the link
    pipe.endOfRun();
    expect(driver.published).toHaveLength(1);
    expect(pipe.accounting()).toMatchObject({ inTransitAtEnd: 1, buffered: 1 });
    expectIdentity(pipe, metrics);
  });

  it('TCP gives up: the message is lost on the link, the session ends, and what queued behind it was cut', () => {
    const { pipe, schedule, driver, metrics, down, timedOut } = linked(0);
    down.lost = true;
    pipe.generate(0, 0);
    pipe.flush(0); // 200 + 400 + 800 ms >= 1 s: given up at 1.4 s
    down.lost = false;
    pipe.generate(0, 0);
    pipe.flush(0); // behind it in the same TCP stream
    schedule.runUntil(1_399);
    expect(timedOut).toEqual([]);
    schedule.runUntil(1_400);
    expect(timedOut).toEqual([0]);
    expect(driver.published).toHaveLength(0);
    expect(pipe.accounting()).toMatchObject({ lostOnLink: 1, inTransitAtDrop: 1, sentNoAck: 0 });
    expectIdentity(pipe, metrics);
  });

  it('the backend latency starts on the wire, the end-to-end latency when the message left the device', () => {
    const { pipe, schedule, driver, metrics } = linked(1);
    pipe.generate(0, 0);
    pipe.flush(0);
    schedule.runUntil(20);
    schedule.runUntil(25); // the broker answers 5 ms after the write
    pipe.onAcked(0, driver.published[0].token);
    const snap = metrics.snapshot(0, 25);
    /** The one sample, to HDR's 3 significant digits. */
    const sampleOf = (h: number) => {
      const hist = newHistogram();
      addCounts(hist, snap.histograms[h]!);
      const st = histogramStats(hist);
      expect(st.count).toBe(1);
      return Math.round(st.max / 100) * 100;
    };
    // Written at 20 ms, acked at 25 ms: the backend took 5 ms; the device waited 25 ms.
    expect(sampleOf(H['telemetry.ack.latency'])).toBe(5_000);
    expect(sampleOf(H['telemetry.ack.latency_end_to_end'])).toBe(25_000);
    expectIdentity(pipe, metrics);
  });

  it('a backlog after a lost session is counted when delivered; a first connection has none', () => {
    const { pipe, schedule, driver, metrics } = linked(0);
    pipe.generate(0, 0);
    pipe.sessionUp(0); // first session: not a reconnect
    pipe.flush(0);
    schedule.runUntil(20);
    expect(pipe.accounting().deliveredAfterReconnect).toBe(0);
    pipe.failInflight(0);
    driver.closeSession(0);
    pipe.generate(0, 500);
    pipe.generate(0, 1500);
    schedule.runUntil(2000);
    driver.openSession(0);
    pipe.sessionUp(0);
    pipe.generate(0, 2000); // after the reconnect: not backlog
    pipe.flush(0);
    schedule.runUntil(2020);
    expect(pipe.accounting()).toMatchObject({ sentNoAck: 4, deliveredAfterReconnect: 2 });
    expect(metrics.counters[C['telemetry.delivered_after_reconnect']]).toBe(2);
    // Drained: later messages are not the backlog.
    pipe.generate(0, 3000);
    pipe.flush(0);
    schedule.runUntil(3020);
    expect(pipe.accounting()).toMatchObject({ sentNoAck: 5, deliveredAfterReconnect: 2 });
    expectIdentity(pipe, metrics);
  });
});

