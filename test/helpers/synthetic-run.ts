import { MetricsAggregator, type TimelineRow } from '../../src/metrics/aggregate.js';
import { C, G, H } from '../../src/metrics/catalog.js';
import { ShardMetrics } from '../../src/metrics/registry.js';
import { standardNormal, uniform } from '../../src/models/rng.js';
import { buildSummary } from '../../src/engine/results/summary-builder.js';
import { decideResult } from '../../src/summary/verdict.js';
import type { ShardFinal } from '../../src/engine/shard/protocol.js';
import type { RunSummary } from '../../src/summary/run-summary.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import type { ResolvedScenario } from '../../src/scenario/resolved.js';

/**
 * A synthetic but realistic run for report tests: per-shard ShardMetrics record latencies and
 * counts interval by interval, their snapshots go through the real MetricsAggregator, and the
 * engine's own summary builder (with a scenario parsed by the real loader, so thresholds and the
 * verdict are evaluated for real) turns them into the summary. Deterministic for a given seed.
 *
 * The fleet powers on over the first fifth of the run, each online device sends telemetry every
 * 2 s (10% QoS 0), polls every 10 s, and a short "incident" in the middle of the run raises
 * latency, drops and failures.
 */
export interface SyntheticRunOptions {
  intervals?: number;
  intervalMs?: number;
  devices?: number;
  shards?: number;
  seed?: number;
  scenario?: string;
  /**
   * Multiplies every telemetry.ack.latency sample above TAIL_FROM_US (the slowest ~4% of the
   * default run): 2 doubles p99 and max, and leaves p50 to p95 where they were.
   */
  tailFactor?: number;
  /**
   * Includes every optional and nullable field of the summary: shard, fleet results (fleet
   * operations too: two diagnostics commands, a config push and device logs are recorded in the
   * timeline), and a threshold on poll.latency without data (polls are off), which fails the run
   * (exit 99).
   */
  full?: boolean;
  /** Messages the simulator delivered that the backend never saw. */
  lostBetween?: number;
}

const STREAM = { count: 101, ackLatency: 102, other: 103 };
export const TAIL_FROM_US = 13_000;

function lognormal(medianUs: number, sigma: number, u1: number, u2: number): number {
  return medianUs * Math.exp(sigma * standardNormal(u1, u2));
}

export function syntheticRun(options: SyntheticRunOptions = {}): { summary: RunSummary; timeline: TimelineRow[] } {
  const { intervals = 60, intervalMs = 1000, devices = 200, shards = 2, seed = 42, scenario = 'synthetic-fleet', tailFactor = 1, full = false, lostBetween = 0 } = options;
  const agg = new MetricsAggregator(shards);
  const finals: ShardFinal[] = [];
  const rampIntervals = Math.max(1, Math.round(intervals / 5));
  const incident = (i: number) => i >= Math.floor(intervals * 0.55) && i < Math.floor(intervals * 0.55) + Math.max(2, Math.round(intervals / 15));

  for (let shard = 0; shard < shards; shard++) {
    const m = new ShardMetrics(shard);
    const fleet = Math.floor(devices / shards) + (shard < devices % shards ? 1 : 0);
    let draw = 0;
    const u = (stream: number) => uniform(seed, shard, stream, draw++);
    let online = 0;
    let buffered = 0;
    let knockedOut = 0;
    const final: ShardFinal = { shard, generated: 0, acked: 0, sentNoAck: 0, failed: 0, dropped: 0, buffered: 0, maxScheduleLagMs: 0, maxEventLoopDelayMs: 0 };
    finals.push(final);
    for (let i = 0; i < intervals; i++) {
      const target = Math.min(fleet, Math.round((fleet * (i + 1)) / rampIntervals));
      const joined = target - online;
      for (let d = 0; d < joined; d++) {
        m.inc(C['devices.powered_on']);
        m.inc(C['provision.ok']);
        m.inc(C['mqtt.connect.ok']);
        m.record(H['provision.latency'], lognormal(38_000, 0.35, u(STREAM.other), u(STREAM.other)));
        m.record(H['mqtt.connect.latency'], lognormal(6_500, 0.4, u(STREAM.other), u(STREAM.other)));
      }
      online = target;
      const bad = incident(i);
      const generated = Math.round((online * intervalMs) / 2000 * (0.9 + 0.2 * u(STREAM.count)));
      const dropped = bad ? Math.round(generated * 0.03) : 0;
      const failed = bad ? Math.round(generated * 0.01) : 0;
      const noack = Math.round((generated - dropped - failed) * 0.1);
      const nextBuffered = Math.round(generated * 0.02);
      const acked = generated + buffered - noack - failed - dropped - nextBuffered;
      buffered = nextBuffered;
      final.generated += generated;
      final.acked += acked;
      final.sentNoAck += noack;
      final.failed += failed;
      final.dropped += dropped;
      final.buffered = buffered;
      m.inc(C['telemetry.generated'], generated);
      m.inc(C['telemetry.sent'], acked + noack + failed);
      m.inc(C['telemetry.acked'], acked);
      m.inc(C['telemetry.sent_noack'], noack);
      m.inc(C['telemetry.failed'], failed);
      m.inc(C['telemetry.dropped'], dropped);
      m.inc(C['requests.started'], Math.round(online / 10) + (bad ? online : 0));
      if (bad) {
        const lost = Math.max(1, Math.round(online * 0.02));
        m.inc(C['mqtt.connection_lost'], lost);
        m.inc(C['errors.network'], lost);
        m.inc(C['recovery.devices_out'], lost);
        knockedOut += lost;
      } else if (knockedOut > 0) {
        // Back over the intervals after the incident; one device per shard stays out (full runs).
        const back = Math.min(knockedOut - (full ? 1 : 0), Math.ceil(knockedOut / 2));
        m.inc(C['recovery.devices_back'], back);
        knockedOut -= back;
      }
      for (let k = 0; k < acked; k++) {
        const tail = u(STREAM.ackLatency);
        let us = lognormal(bad ? 11_000 : 4_200, 0.45, u(STREAM.ackLatency), u(STREAM.ackLatency));
        if (tail > 0.95) us *= 1.8;
        if (us > TAIL_FROM_US) us *= tailFactor;
        m.record(H['telemetry.ack.latency'], us);
        m.record(H['telemetry.ack.latency_from_schedule'], us + 300 + 1_500 * u(STREAM.other));
      }
      if (full) recordFleetOps(m, i, intervals, online, bad, u);
      const polls = full ? 0 : Math.round((online * intervalMs) / 10_000);
      m.inc(C['poll.ok'], polls);
      for (let k = 0; k < polls; k++) m.record(H['poll.latency'], lognormal(9_000, 0.3, u(STREAM.other), u(STREAM.other)));
      m.set(G['devices.online'], online);
      m.set(G['devices.provisioned'], online);
      m.set(G['telemetry.buffered'], buffered);
      const lag = (bad ? 6 : 1) + 2 * u(STREAM.other);
      const loop = (bad ? 14 : 4) + 3 * u(STREAM.other);
      m.set(G['generator.schedule_lag'], lag);
      m.set(G['generator.event_loop_delay'], loop);
      final.maxScheduleLagMs = Math.max(final.maxScheduleLagMs, lag);
      final.maxEventLoopDelayMs = Math.max(final.maxEventLoopDelayMs, loop);
      agg.add(m.snapshot(i, (i + 1) * intervalMs));
    }
    m.destroy();
  }
  const timeline = agg.finish();
  return { summary: buildRunSummary(agg, finals, { intervals, intervalMs, devices, shards, seed, scenario, full, lostBetween }, timeline), timeline };
}

/**
 * Fleet operations of a full run: diagnostics to the whole fleet at 30% of the run and to half of
 * it at 70% (fast gateways and slow sensors: a two-humped round trip), a config push at 50%, and
 * two log lines per device per interval, 6% of them dropped during the incident.
 */
function recordFleetOps(m: ShardMetrics, i: number, intervals: number, online: number, incident: boolean, u: (stream: number) => number): void {
  const commands = i === Math.floor(intervals * 0.3) ? online : i === Math.floor(intervals * 0.7) ? Math.round(online / 2) : 0;
  m.inc(C['command.received'], commands);
  m.inc(C['command.answered'], commands);
  for (let k = 0; k < commands; k++) {
    const slow = u(STREAM.other) < 0.45;
    m.record(H['command.rtt'], lognormal(slow ? 860_000 : 170_000, slow ? 0.08 : 0.25, u(STREAM.other), u(STREAM.other)));
  }
  if (i === Math.floor(intervals * 0.5)) {
    m.inc(C['config.applied'], online);
    for (let k = 0; k < online; k++) m.record(H['config.propagation'], lognormal(65_000, 0.3, u(STREAM.other), u(STREAM.other)));
  }
  const lines = online * 2;
  const dropped = incident ? Math.round(lines * 0.06) : 0;
  m.inc(C['logs.generated'], lines);
  m.inc(C['logs.sent'], lines - dropped);
  m.inc(C['logs.dropped'], dropped);
  m.inc(C['logs.suppressed_notices'], incident ? Math.round(online * 0.05) : 0);
}

/** The scenario the synthetic run pretends to have run: parsed by the real scenario loader. */
function syntheticScenario(o: { devices: number; seed: number; durationMs: number; intervalMs: number }, name: string): ResolvedScenario {
  const gateways = Math.floor(o.devices * 0.4);
  const yaml = [
    'name: synthetic-fleet',
    `seed: ${o.seed}`,
    `duration: ${o.durationMs}ms`,
    'clock: wall',
    'target: embedded',
    'fleet:',
    ...(gateways > 0 ? [`  - { profile: rpi4-gateway, count: ${gateways}, link: ethernet }`] : []),
    `  - { profile: esp32-wifi-sensor, count: ${o.devices - gateways}, link: wifi }`,
    'arrival: { rate: 20/s }',
    'behaviour:',
    '  telemetry: { every: 2s, jitter: 10%, size: 200B, qos: 1 }',
    '  poll: { every: 10s, jitter: 10% }',
    'thresholds:',
    '  telemetry.ack.latency: ["p(99) < 50ms", "p(50) < 10ms"]',
    '  provision.latency: ["p(95) < 500ms"]',
    '  mqtt.connect.latency: ["avg < 20ms"]',
    '  telemetry.lost: ["count < 100"]',
  ].join('\n');
  const parsed = parseScenarioText(yaml, 'scenarios/synthetic.yaml');
  // The name is free text in a scenario; set it after parsing so tests can use hostile names.
  return { ...parsed, name, options: { ...parsed.options, snapshotEveryMs: o.intervalMs } };
}

function buildRunSummary(agg: MetricsAggregator, finals: ShardFinal[], o: Required<Omit<SyntheticRunOptions, 'tailFactor'>>, timeline: TimelineRow[]): RunSummary {
  const durationMs = o.intervals * o.intervalMs;
  const scenario = syntheticScenario({ devices: o.devices, seed: o.seed, durationMs, intervalMs: o.intervalMs }, o.scenario);
  const acked = finals.reduce((n, f) => n + f.acked + f.sentNoAck, 0);
  const startedAt = new Date(Date.UTC(2025, 0, 15, 9, 30, 0));
  const summary = buildSummary({
    runId: `synthetic-fleet-20250115T093000Z-${o.seed}`,
    scenario,
    aggregator: agg,
    finals,
    expectedShards: o.shards,
    startedAt,
    endedAt: new Date(startedAt.getTime() + durationMs + 850),
    simulatedMs: durationMs,
    workers: o.shards,
    status: 'completed',
    targetLabel: 'embedded',
    shard: o.full ? { index: 0, count: 1 } : undefined,
    backendCounts: { received: acked - o.lostBetween, duplicates: 0, gaps: 0, ...(o.full ? { uncounted: 0, unconfirmed: [] } : {}) },
    errors: [],
    timeline,
    ...(o.full
      ? {
          scenarioText: `name: ${o.scenario}\n# a comment with </pre><script>alert(3)</script>\nduration: ${durationMs}ms\n`,
          host: { cores: 2, memoryBytes: 8 * 2 ** 30, loadAverageStart: [0.42, 0.3, 0.2], loadAverageEnd: [1.9, 0.8, 0.4], node: 'v20.18.0', platform: 'linux x64' },
        }
      : {}),
  });
  if (o.full) {
    // Every optional and nullable field present: a threshold with no data (polls are off in a
    // full run, and a threshold without data fails, so the result has reasons), fleet results.
    summary.thresholds.push({ metric: 'poll.latency', expression: 'p(99.9) < 1s', value: null, display: 'no data', ok: false });
    // A send-side finding, so that the shape covers generator.sendSide.
    summary.generator.sendSide = ['the send side did not keep up: telemetry waiting to be sent grew in each of the last 6 intervals'];
    summary.generator.saturated = true;
    summary.result = decideResult({
      status: summary.run.status, thresholds: summary.thresholds, shardsReported: finals.length, expectedShards: o.shards,
      generator: [], sendSide: summary.generator.sendSide, accountingHolds: summary.accounting.holds, errors: [],
    });
    summary.fleet = fullFleetResults(durationMs, o.devices, agg);
    // What happened when, as the builder records it: an outage, a campaign with its steps and abort, a config push and commands.
    const t = (share: number) => Math.round(durationMs * share);
    summary.events = [
      { tMs: t(0.15), kind: 'campaign', label: 'campaign app-2.0 <b>' },
      { tMs: t(0.25), kind: 'step', label: 'app-2.0 step 2 (10%)' },
      { tMs: t(0.3), kind: 'command', label: 'command diagnostics (100%)' },
      { tMs: t(0.5), kind: 'config', label: 'config push (logLevel)' },
      { tMs: t(0.55), endMs: t(0.62), kind: 'cell-outage', label: 'cell outage: 30% of cells, 15s' },
      { tMs: t(0.66), kind: 'abort', label: 'app-2.1-beta aborted' },
      { tMs: t(0.7), kind: 'command', label: 'command diagnostics (50%)' },
    ];
  }
  return summary;
}

/** Fleet results as the product-side features report them (for the optional plots and the schema). */
function fullFleetResults(durationMs: number, devices: number, agg: MetricsAggregator): NonNullable<RunSummary['fleet']> {
  const steps = 24;
  const at = (k: number) => Math.round((durationMs * k) / steps);
  const logistic = (k: number, mid: number) => 1 / (1 + Math.exp(-(k - mid) / 1.8));
  const total = (name: keyof typeof C) => agg.totals[C[name]];
  const propagation = agg.histograms[H['config.propagation']];
  const pctMs = (p: number) => propagation.getValueAtPercentile(p) / 1000;
  const release = 'app-2.0 <img src=x onerror=alert(1)>';
  const onNew = (k: number) => 0.97 * logistic(k, 10);
  // A beta release aborted at its first step: a few devices kept it, none of the shares reached.
  const onBeta = (k: number) => (k >= 16 ? 0.003 : 0);
  // Time from the campaign start (step 4) until `share` of the compatible 97% ran the release.
  const timeTo = (share: number) => {
    for (let k = 4; k <= steps; k++) if (onNew(k) >= share * 0.97) return at(k) - at(4);
    return null;
  };
  const succeeded = Math.round(devices * 0.97 * logistic(steps, 10));
  return {
    rollout: [
      { release: 'app-1.9', points: Array.from({ length: steps + 1 }, (_, k) => [at(k), 1 - onNew(k) - onBeta(k)] as [number, number]) },
      { release, points: Array.from({ length: steps + 1 }, (_, k) => [at(k), onNew(k)] as [number, number]) },
      { release: 'app-2.1-beta', points: Array.from({ length: steps + 1 }, (_, k) => [at(k), onBeta(k)] as [number, number]) },
    ],
    offlineShare: Array.from({ length: steps + 1 }, (_, k) => [at(k), 0.08 + 0.04 * Math.sin(k / 3) + (k >= 13 && k <= 15 ? 0.3 : 0)] as [number, number]),
    configPropagation: [0, 10, 25, 50, 75, 90, 95, 99, 100].map((q) => [pctMs(q), q / 100] as [number, number]),
    batteryLifetime: [
      { profile: 'esp32-wifi-sensor', devices: 120, percentiles: [[0, 290], [10, 340], [25, 372], [50, 401], [75, 430], [90, 452], [99, 480], [100, 495]] },
      { profile: 'nrf9160-ltem-tracker', devices: 80, percentiles: [[0, 1210], [10, 1460], [25, 1580], [50, 1705], [75, 1820], [90, 1910], [99, 2040], [100, 2110]] },
    ],
    batteryBasis: [
      {
        profile: 'esp32-wifi-sensor',
        method: 'per-device',
        simulatedMs: durationMs,
        steadyFromMs: 6_000,
        devices: 118,
        slowestCycle: { name: 'polls', ms: 10_000 },
        cyclesPerDevice: 21.4,
        cyclesPooled: 2531,
        oneOffJPerDevice: 1.4,
        recurringWPerDevice: 0.0031,
        otaRecursEveryMs: 90 * 86_400_000,
        text: 'from 4m simulated, steady state after 6s (the last power-on); each device\'s own rate (polls every 10s: at least 21 per device); one-off energy (boot, first attach, provisioning) counted once, OTA energy recurring every 90d',
      },
      { profile: 'nrf9160-ltem-tracker', method: 'refused', simulatedMs: durationMs, steadyFromMs: 0, devices: 0, cyclesPerDevice: null, cyclesPooled: null, oneOffJPerDevice: 0, recurringWPerDevice: null, text: 'not projected: no nrf9160-ltem-tracker device ran long enough to draw a steady rate' },
    ],
    batteryYears: [
      { profile: 'esp32-wifi-sensor', devices: 120, depleted: 2, p5: 0.91, p50: 1.1, p95: 1.26, min: 0.79, max: 1.36 },
      { profile: 'nrf9160-ltem-tracker', devices: 80, depleted: 0, p5: 3.9, p50: 4.67, p95: 5.3, min: 3.31, max: 5.78 },
    ],
    energyByActivity: [
      { profile: 'esp32-wifi-sensor', sleepJ: 10_011, cpuJ: 371, radioJ: 66_186, otaJ: 208_347 },
      { profile: 'nrf9160-ltem-tracker', sleepJ: 4_120, cpuJ: 95, radioJ: 21_870, otaJ: 39_400 },
    ],
    depletedOverTime: Array.from({ length: steps + 1 }, (_, k) => [at(k) * 400, Math.max(0, Math.round(200 * logistic(k, 16)) - 1)] as [number, number]),
    projectedFromMs: durationMs,
    ota: {
      releases: [
        { release, startMs: at(4), compatible: Math.round(devices * 0.97), updated: succeeded, timeTo50Ms: timeTo(0.5), timeTo95Ms: timeTo(0.95), timeTo99Ms: timeTo(0.99) },
        { release: 'app-2.1-beta', startMs: at(16), compatible: Math.round(devices * 0.97), updated: Math.round(devices * 0.003), timeTo50Ms: null, timeTo95Ms: null, timeTo99Ms: null },
      ],
      succeeded,
      failed: 7,
      rolledBack: 4,
      incompatible: Math.round(devices * 0.03),
      failuresByCause: { 'health-check': 4, checksum: 2, download: 3, 'too-slow': 1, battery: 1, incompatible: Math.round(devices * 0.03) },
      bytesDownloaded: succeeded * 12_000_000 + 5 * 64_000_000,
      bytesSavedByResume: 18_750_000,
      bytesSavedByDelta: succeeded * 52_000_000,
      resumes: 3,
      energyPerUpdate: [
        { profile: 'esp32-wifi-sensor', updates: Math.round(succeeded * 0.6), otaJ: succeeded * 0.6 * 38.4, jPerUpdate: 38.4 },
        { profile: 'nrf9160-ltem-tracker <b>', updates: succeeded - Math.round(succeeded * 0.6), otaJ: (succeeded - Math.round(succeeded * 0.6)) * 61.2, jPerUpdate: 61.2 },
        { profile: 'rpi4-gateway', updates: 0, otaJ: 0, jPerUpdate: null },
      ],
      campaigns: [
        { release, state: 'running', step: 2 },
        { release: 'app-2.1-beta', state: 'aborted', step: 0, reason: 'step 1 (1%): failure rate 8.0% over 50 finished <script>alert(2)</script>' },
      ],
      backend: { artifactRequests: succeeded + 12, artifactBytesServed: succeeded * 12_000_000 + 5 * 64_000_000, stateReports: succeeded * 4 + 30 },
    },
    commands: { sent: total('command.received') + 3, received: total('command.received'), answered: total('command.answered') },
    logs: { generated: total('logs.generated'), sent: total('logs.sent'), dropped: total('logs.dropped'), buffered: 0, holds: total('logs.generated') === total('logs.sent') + total('logs.dropped') },
    config: { applied: total('config.applied'), p50Ms: pctMs(50), p95Ms: pctMs(95), p99Ms: pctMs(99), maxMs: pctMs(100), catchupP50Ms: 4_200 },
  };
}
