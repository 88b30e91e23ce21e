import { describe, expect, it } from 'vitest';
import type { TimelineRow } from '../../src/metrics/aggregate.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';
import type { FaultPhaseReport } from '../../src/summary/fault-report.js';

/**
 * Fault phases on the virtual clock: the backend model (drivers/model/fault-model.ts) injects each
 * kind with the fault proxy's semantics and counts it as the proxy does, so the report's injected
 * counts reconcile with what devices saw, phase by phase, and recovery is measured as on the wall.
 */
const FLEET = `fleet:
  - { profile: rpi4-gateway, count: 20, link: ethernet }
  - { profile: esp32-wifi-sensor, count: 20, link: wifi }
arrival: { rate: 20/s }`;

const HTTP_KINDS = `name: vf-http
seed: 3
duration: 70s
clock: virtual
target: embedded
${FLEET}
behaviour:
  telemetry: { every: 2s, qos: 1 }
  poll: { every: 1s, jitter: 10% }
  reconnect: { base: 500ms, cap: 4s }
phases:
  - { at: 5s, for: 5s, backend: { http: { routes: [poll], reset: true } } }
  - { at: 15s, for: 5s, backend: { http: { routes: [poll], body: garbage, share: 50% } } }
  - { at: 25s, for: 5s, backend: { http: { routes: [poll], body: wrong-shape } }, scope: { profile: rpi4-gateway } }
  - { at: 35s, for: 5s, backend: { http: { routes: [poll], latency: 3s } } }
  - { at: 45s, for: 5s, backend: { http: { routes: [poll], stall: true } }, scope: { devices: 50% } }
`;

const MQTT_KINDS = `name: vf-mqtt
seed: 4
duration: 80s
clock: virtual
target: embedded
${FLEET}
behaviour:
  telemetry: { every: 1s, qos: 1 }
  keepalive: 10s
  reconnect: { base: 500ms, cap: 4s }
phases:
  - { at: 0s, for: 1s, backend: { mqtt: { refuse: { code: 5 } } } }
  - { at: 10s, for: 4s, backend: { mqtt: { disconnect: { share: 50% } } } }
  - { at: 25s, for: 5s, backend: { mqtt: { dropPubacks: {} } }, scope: { link: wifi } }
  - { at: 40s, for: 30s, backend: { mqtt: { blackhole: { share: 50% } } } }
`;

const run = async (text: string, id: string, workers = 1) => runScenario(parseScenarioText(text, `${id}.yaml`), { workers, runId: id });
const seen = (p: FaultPhaseReport) => Object.values(p.observed.errors).reduce((a, b) => a + b, 0);
const rowsIn = (timeline: readonly TimelineRow[], fromMs: number, toMs: number) => timeline.filter((r) => r.tMs > fromMs && r.tMs <= toMs);
const sum = (rows: readonly TimelineRow[], name: string) => rows.reduce((a, r) => a + (r.counters[name] ?? 0), 0);

describe('HTTP faults against the backend model', () => {
  it('resets, bad bodies and stalls are each seen by devices under their cause, as many as were injected; latency slows polls without an error; scopes hold', async () => {
    const { summary, timeline } = await run(HTTP_KINDS, 'vf-http');
    expect(summary.result.exitCode).toBe(0);
    expect(summary.accounting.holds).toBe(true);
    const [reset, garbage, wrongShape, latency, stall] = summary.faults!.phases;
    expect(reset.injected.byKind).toEqual({ reset: reset.injected.total });
    expect(reset.observed.errors).toEqual({ 'errors.poll.reset': reset.injected.total });
    expect(garbage.observed.errors).toEqual({ 'errors.poll.bad_response': garbage.injected.byKind.garbage_body });
    expect(wrongShape.observed.errors).toEqual({ 'errors.poll.bad_response': wrongShape.injected.byKind.wrong_shape_body });
    expect(stall.observed.errors).toEqual({ 'errors.poll.timeout': stall.injected.byKind.stall });
    for (const p of [reset, garbage, wrongShape, stall]) {
      expect(p.injected.total, p.label).toBeGreaterThan(0);
      expect(seen(p), p.label).toBe(p.injected.total);
      expect(p.recovery.stillOut, p.label).toBe(0);
    }
    // Half the polls of the garbage phase (40 devices polling every ~1 s for 5 s): a share of requests.
    const polls = sum(rowsIn(timeline, 15_000, 20_000), 'poll.ok') + sum(rowsIn(timeline, 15_000, 20_000), 'poll.failed');
    expect(garbage.injected.total / polls).toBeGreaterThan(0.35);
    expect(garbage.injected.total / polls).toBeLessThan(0.65);
    // Scoped to one profile: its 20 devices were knocked out, the other 20 never.
    expect(wrongShape.recovery.affected).toBe(20);
    // A stalled poll ends in the devices' 10 s HTTP timeout: out 10 s after it was sent (5 to 10 s after the phase ended), back on the next poll.
    expect(stall.recovery.affected).toBe(stall.injected.total);
    expect(stall.recovery.timeTo50Ms).toBeGreaterThanOrEqual(5000);
    expect(stall.recovery.timeTo99Ms).toBeLessThanOrEqual(12_000);
    // Added latency: every poll of its window answered 3 s late, none failed.
    expect(latency.injected.byKind.latency).toBeGreaterThan(30);
    expect(latency.observed.errors).toEqual({});
    expect(summary.histograms['poll.latency'].stats.max).toBeGreaterThanOrEqual(3_000_000);
  }, 60_000);

  it('is deterministic per seed and does not depend on the number of shards', async () => {
    const [a, b] = await Promise.all([run(HTTP_KINDS, 'vf-http-a'), run(HTTP_KINDS, 'vf-http-b', 2)]);
    expect(b.summary.faults).toEqual(a.summary.faults);
    expect(b.summary.counters).toEqual(a.summary.counters);
  }, 60_000);
});

describe('MQTT faults against the backend model', () => {
  it('refusals, disconnects, dropped PUBACKs and a blackhole reconcile with what devices saw', async () => {
    const { summary, timeline } = await run(MQTT_KINDS, 'vf-mqtt');
    expect(summary.result.exitCode).toBe(0);
    expect(summary.accounting.holds).toBe(true);
    const [refuse, disconnect, drop, hole] = summary.faults!.phases;
    // CONNACK 5 to every CONNECT of the first second: each a refused connect.
    expect(refuse.injected.byKind).toEqual({ connack_refused: refuse.injected.total });
    expect(refuse.injected.total).toBeGreaterThan(0);
    expect(refuse.observed.errors).toEqual({ 'errors.mqtt_connect.refused': refuse.injected.total });
    // Half the sessions cut at the phase start; their CONNECTs closed while it lasts.
    expect(disconnect.observed.sessionsLost).toBe(disconnect.injected.byKind.session_disconnected);
    expect(disconnect.injected.byKind.session_disconnected).toBeGreaterThan(10);
    expect(disconnect.injected.byKind.session_disconnected).toBeLessThan(30);
    expect(disconnect.observed.errors).toEqual({ 'errors.mqtt_connect.reset': disconnect.injected.byKind.connect_closed });
    expect(disconnect.recovery.affected).toBe(disconnect.injected.byKind.session_disconnected);
    // PUBACKs dropped to the 20 wifi devices (one report a second for 5 s): the messages stay unacknowledged, sessions stay up.
    expect(drop.injected.byKind.puback_dropped).toBeGreaterThanOrEqual(90);
    expect(drop.injected.byKind.puback_dropped).toBeLessThanOrEqual(100);
    expect(drop.observed.sessionsLost).toBe(0);
    const unackedInDrop = sum(rowsIn(timeline, 25_000, 31_000), 'telemetry.sent') - sum(rowsIn(timeline, 25_000, 31_000), 'telemetry.acked');
    expect(unackedInDrop).toBeGreaterThanOrEqual(drop.injected.total - 20);
    // A blackhole: the picked sessions go silent, and the broker drops each 1.5 keepalives (15 s)
    // after the last report of it that got through (about one a second, so within 2 s before the
    // phase); their CONNECTs then time out.
    const cut = hole.observed.sessionsLost;
    expect(cut).toBeGreaterThan(10);
    expect(sum(rowsIn(timeline, 40_000, 52_000), 'mqtt.connection_lost')).toBe(0);
    expect(sum(rowsIn(timeline, 52_000, 56_000), 'mqtt.connection_lost')).toBe(cut);
    expect(hole.injected.byKind.session_blackholed).toBe(cut + hole.observed.errors['errors.mqtt_connect.timeout']);
    // Recovery only after the partition heals (at 70 s).
    expect(hole.recovery.affected).toBe(cut);
    expect(hole.recovery.timeTo50Ms).not.toBeNull();
  }, 60_000);
});

describe('one fault, both clocks', () => {
  /** 503 on half the polls for 30 s. On the wall clock at timeScale 3 (12 s of wall time), through the fault proxy. */
  const scenario = (clock: 'wall' | 'virtual') => `name: vf-both-${clock}
seed: 6
duration: 36s
clock: ${clock}
timeScale: ${clock === 'wall' ? 3 : 1}
target: embedded
fleet:
  - { profile: rpi4-gateway, count: 30, link: ethernet }
arrival: { rate: 30/s }
behaviour:
  telemetry: { every: 5s, qos: 1 }
  poll: { every: 1s, jitter: 10% }
  reconnect: { base: 500ms, cap: 2s }
phases:
  - { at: 3s, for: 30s, backend: { http: { routes: [poll], status: 503, share: 50% } } }
`;

  /**
   * The observed share of 503s among the polls answered in the window. About 700 polls each way:
   * a binomial share of 0.5 has a standard deviation of 0.019 there, so ±0.08 (4 sd) holds on both.
   */
  const TOLERANCE = 0.08;

  it('503 on 50% of polls for 30 s: injected equals observed, and the observed share is 50% ± 8 points on both', async () => {
    const [wall, virtual] = [await run(scenario('wall'), 'vf-both-wall'), await run(scenario('virtual'), 'vf-both-virtual')];
    for (const { summary, timeline } of [wall, virtual]) {
      const p = summary.faults!.phases[0];
      expect(p.injected.byKind, summary.run.clock).toEqual({ http_status: p.injected.total });
      expect(p.observed.errors, summary.run.clock).toEqual({ 'errors.poll.http_503': p.injected.total });
      const rows = rowsIn(timeline, 4_000, 33_000);
      const share = sum(rows, 'errors.poll.http_503') / (sum(rows, 'poll.ok') + sum(rows, 'poll.failed'));
      expect(Math.abs(share - 0.5), `${summary.run.clock}: share ${share}`).toBeLessThan(TOLERANCE);
      expect(p.recovery.affected, summary.run.clock).toBeGreaterThan(25);
    }
  }, 60_000);
});
