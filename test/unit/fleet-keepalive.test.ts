/**
 * fleet/keepalive.ts through the lifecycle, on a fake schedule and a fake driver (the test plays
 * the backend and the link): a device pings once its session has been silent for the keepalive k
 * (MQTT 3.1.1 §3.1.2.10), each ping is charged a report's uplink energy, reports postpone pings as
 * the cost model counts them (models/data-volume.ts pingsPerSessionDay), and a session whose link
 * goes dark with its socket open (no PINGRESP, no close) is given up exactly k after the
 * unanswered PINGREQ, i.e. within 2k of the last packet that got through; the device then
 * reconnects with its backoff when the link returns.
 */
import { describe, expect, it } from 'vitest';
import { C, G } from '../../src/metrics/catalog.js';
import { MQTT_NET_CODE_BASE, NET_TIMEOUT } from '../../src/drivers/types.js';
import { ShardMetrics } from '../../src/metrics/registry.js';
import { DeviceState, DeviceTable } from '../../src/fleet/device-table.js';
import { Lifecycle, type LifecycleConfig } from '../../src/fleet/lifecycle.js';
import { STEP_UPLINK } from '../../src/fleet/lifecycle-config.js';
import type { EnergyMeter } from '../../src/fleet/energy-meter.js';
import { pingsPerSessionDay } from '../../src/models/data-volume.js';
import { FakeDriver } from '../helpers/fake-driver.js';
import { FakeSchedule } from '../helpers/fake-schedule.js';

const K = 10_000;
const CONNECT_TIMED_OUT = MQTT_NET_CODE_BASE - NET_TIMEOUT;

function setup(over: Partial<LifecycleConfig> = {}) {
  const table = new DeviceTable(1, 0);
  const schedule = new FakeSchedule();
  const driver = new FakeDriver();
  const metrics = new ShardMetrics(0);
  const charged: number[] = [];
  // Only the charges matter here: each lifecycle step the device pays for, by step.
  const energy = { powerOn() {}, charge: (_dev: number, step: number) => (charged.push(step), true) } as unknown as EnergyMeter;
  const cfg: LifecycleConfig = {
    seed: 5,
    serialPrefix: 'ka',
    arrival: { ratePerSec: 1000 },
    fleetDevices: 1,
    reconnect: { baseMs: 1000, capMs: 1000 },
    retryAfter: { jitter: 0, simMsPerAnswerMs: 1 },
    bufferCapacity: 10,
    perReportSession: new Uint8Array(1),
    flushBurst: 3,
    keepaliveMs: K,
    ...over,
  };
  const life = new Lifecycle(table, cfg, schedule, driver, metrics, { energy });
  schedule.dispatch = (kind, dev, t) => life.handle(kind, dev, t);
  life.planArrivals();
  schedule.runUntil(1);
  life.onProvisioned(0, 201, 0);
  driver.openSession(0);
  life.onConnected(0, true, 0);
  const connectedAt = schedule.now();
  return { life, table, schedule, driver, metrics, charged, connectedAt };
}

/** Times of the pings the driver was asked for, as the schedule saw them. */
function pingTimes(s: ReturnType<typeof setup>, until: number, answer: boolean): number[] {
  const times: number[] = [];
  const { schedule, driver, life } = s;
  let seen = driver.devsOf('ping').length;
  while (schedule.now() < until) {
    const next = schedule.pending()[0];
    if (next === undefined || next.t > until) break;
    schedule.runUntil(next.t);
    const pings = driver.devsOf('ping').length;
    for (; seen < pings; seen++) {
      times.push(schedule.now());
      if (answer) life.onPingResponse(0);
    }
  }
  schedule.runUntil(until);
  return times;
}

describe('keepalive: an idle session', () => {
  it('pings every keepalive while answered; each ping is counted, and charged no step energy (the attached radio is in the idle draw)', () => {
    const s = setup();
    const times = pingTimes(s, s.connectedAt + 5 * K, true);
    expect(times).toEqual([1, 2, 3, 4, 5].map((i) => s.connectedAt + i * K));
    expect(s.metrics.counters[C['mqtt.pings']]).toBe(5);
    expect(s.charged.filter((step) => step === STEP_UPLINK)).toHaveLength(0);
    expect(s.table.state(0)).toBe(DeviceState.online);
    expect(s.metrics.counters[C['mqtt.keepalive_timeouts']]).toBe(0);
  });

  it('gives a dark session up k after its unanswered PINGREQ, and reconnects with backoff once the link returns', () => {
    const s = setup();
    const { schedule, driver, life, metrics, table } = s;
    // One ping answered: the last packet that got through came back at connectedAt + K.
    expect(pingTimes(s, s.connectedAt + K, true)).toEqual([s.connectedAt + K]);
    // The link goes dark, the socket stays open: the next PINGREQ is never answered, nothing closes.
    expect(pingTimes(s, s.connectedAt + 3 * K - 1, false)).toEqual([s.connectedAt + 2 * K]);
    expect(table.state(0)).toBe(DeviceState.online);
    schedule.runUntil(s.connectedAt + 3 * K);
    // Known dead 2k after the last exchange that got through: at the bound, not later.
    expect(table.state(0)).toBe(DeviceState.backoff);
    expect(metrics.counters[C['mqtt.keepalive_timeouts']]).toBe(1);
    expect(metrics.counters[C['mqtt.connection_lost']]).toBe(1);
    expect(metrics.counters[C['mqtt.connection_lost.keepalive_timeout']]).toBe(1); // counted under its cause
    expect(metrics.counters[C['mqtt.reconnects']]).toBe(1);
    expect(metrics.gauges[G['devices.online']]).toBe(0);
    expect(driver.devsOf('disconnect')).toEqual([0]); // the device closes its side
    // Still dark: the reconnect's CONNECT times out, and the device backs off again.
    schedule.runUntil(s.connectedAt + 3 * K + 1000);
    expect(driver.devsOf('connect')).toHaveLength(2);
    life.onConnected(0, false, CONNECT_TIMED_OUT);
    expect(metrics.counters[C['mqtt.connect.failed']]).toBe(1);
    // The link is back: the next attempt gets its CONNACK (half a keepalive after its CONNECT
    // left), and the keepalive starts over from the CONNECT, the last packet sent (§3.1.2.10).
    while (driver.devsOf('connect').length < 3) schedule.runUntil(schedule.pending()[0].t);
    const connectAt = schedule.now();
    expect(connectAt).toBeLessThanOrEqual(s.connectedAt + 3 * K + 2000);
    schedule.runUntil(connectAt + K / 2);
    driver.openSession(0);
    life.onConnected(0, true, 0);
    expect(table.state(0)).toBe(DeviceState.online);
    const pings = driver.devsOf('ping').length;
    expect(pingTimes(s, connectAt + K, true)).toEqual([connectAt + K]);
    expect(driver.devsOf('ping')).toHaveLength(pings + 1);
    // The PINGREQ of the dead session never answered late into the new one: nothing stale fired.
    expect(metrics.counters[C['mqtt.keepalive_timeouts']]).toBe(1);
  });

  it('sends nothing with keepalive 0 (MQTT: off)', () => {
    const s = setup({ keepaliveMs: 0 });
    s.schedule.runUntil(10 * K);
    expect(s.driver.devsOf('ping')).toEqual([]);
  });
});

describe('keepalive: reports postpone pings as the cost model counts them', () => {
  for (const everyMs of [4_000, 25_000, 60_000]) {
    it(`a report every ${everyMs / 1000} s with k = ${K / 1000} s`, () => {
      const s = setup({ telemetry: { everyMs, jitter: 0, spec: { size: 50, qos: 0 } } });
      const spanMs = 200 * everyMs;
      pingTimes(s, spanMs, true);
      const measured = s.metrics.counters[C['mqtt.pings']];
      const modelled = (pingsPerSessionDay(everyMs / 1000, K / 1000) * spanMs) / 86_400_000;
      // The same count up to the partial interval at each end of the span.
      expect(Math.abs(measured - modelled)).toBeLessThanOrEqual(Math.ceil(everyMs / K));
      if (everyMs < K) expect(measured).toBe(0);
    });
  }

  it('jittered reports: a report every 60 s ± 50 % with k = 10 s pings 5.5 times per report, not 5', () => {
    const s = setup({ telemetry: { everyMs: 60_000, jitter: 0.5, spec: { size: 50, qos: 0 } } });
    const reports = 500;
    pingTimes(s, reports * 60_000, true);
    const measured = s.metrics.counters[C['mqtt.pings']];
    const modelled = (pingsPerSessionDay(60, K / 1000, 0.5) * reports * 60_000) / 86_400_000;
    expect(modelled).toBeCloseTo(5.5 * reports, 6);
    // Pings per interval are 3..8, variance about 2.9: four standard deviations of 500 intervals.
    expect(Math.abs(measured - modelled)).toBeLessThan(4 * Math.sqrt(reports * 2.9) + 10);
    expect(Math.abs(measured - 5 * reports)).toBeGreaterThan(100); // the unjittered count would be wrong
  });
});
