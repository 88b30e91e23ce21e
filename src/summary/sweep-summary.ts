import { formatMicros } from '../metrics/format.js';
import type { RunSummary } from './run-summary.js';
import { verdictResult, type Verdict, type VerdictResult } from './verdict.js';

/**
 * `sweep.json`: the machine contract of `fleetsim sweep`, one point per fleet size. Built only
 * from the runs' summaries (each size is also a normal report in `size-<N>/`), so a sweep can be
 * re-rendered, and compared, from saved files. Versioned like summary.json.
 */
export const SWEEP_SCHEMA_VERSION = 1 as const;

/** A latency histogram at one size, in µs. */
export interface SweepLatency {
  count: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface SweepPoint {
  /** Devices in the run (the requested size). */
  devices: number;
  /** The run's id, and its report directory relative to the sweep directory (null when the run never started). */
  runId: string | null;
  dir: string | null;
  /** Simulated run length and wall time, ms. */
  durationMs: number;
  wallMs: number;
  /** Every latency histogram that has samples at this size. */
  latencies: Record<string, SweepLatency>;
  /** Telemetry acked per second of (simulated) run time; null without a run. */
  throughputPerSec: number | null;
  /** Failed operations / attempted operations (see errorRateOf); null when nothing was attempted. */
  errorRate: number | null;
  /** The two sides of errorRate (absent in sweeps written before they were recorded). */
  failedOperations?: number;
  attemptedOperations?: number;
  thresholds: Array<{ metric: string; expression: string; display: string; ok: boolean; value?: number | null }>;
  /** A capacity sweep (`--over`): the value of the swept parameter at this point. */
  capacity?: number;
  verdict: Verdict;
  exitCode: number;
  reasons: string[];
}

/** Where the backend stops scaling, by the rule KNEE_RULE states. */
export interface SweepKnee {
  devices: number;
  reasons: string[];
}

export interface SweepSummary {
  schemaVersion: typeof SWEEP_SCHEMA_VERSION;
  tool: { name: 'fleetsim'; version: string };
  sweep: {
    id: string;
    scenario: string;
    scenarioFile: string;
    seed: number;
    clock: 'wall' | 'virtual';
    workers: number;
    /** The sizes asked for, ascending. */
    sizes: number[];
    startedAt: string;
    endedAt: string;
    status: 'completed' | 'interrupted';
  };
  /** One per size that ran (or failed to start), ascending by devices. */
  points: SweepPoint[];
  knee: SweepKnee | null;
  /** A sweep over backend capacity (`fleetsim sweep --over backend.<op>.servers=…`): the answer. */
  capacity?: CapacityAnswer;
  result: VerdictResult;
}

/**
 * The smallest capacity that holds the thresholds: every point runs the same fleet with one
 * parameter of the modelled backend changed, and `chosen` is the smallest value at which every
 * threshold held (null when none did). `curve` is the first threshold's measured value against the
 * parameter, for the capacity curve of sweep.html.
 */
export interface CapacityAnswer {
  /** e.g. backend.connect.servers */
  parameter: string;
  values: number[];
  chosen: number | null;
  /** Values above `chosen` that failed a threshold (a capacity curve that is not monotone says so). */
  failedAbove: number[];
  curve: { metric: string; expression: string; bound: number; points: Array<[number, number]> } | null;
}

/** The capacity answer of a sweep's points (each with `capacity`); `bound` is the first threshold's right-hand side. */
export function capacityAnswer(parameter: string, points: readonly SweepPoint[], first: { metric: string; expression: string; value: number } | undefined): CapacityAnswer {
  const ran = points.filter((p) => p.capacity !== undefined && p.runId !== null).sort((a, b) => a.capacity! - b.capacity!);
  const passed = ran.filter((p) => p.verdict === 'passed');
  const chosen = passed.length > 0 ? passed[0].capacity! : null;
  const curve = first
    ? {
        metric: first.metric,
        expression: first.expression,
        bound: first.value,
        points: ran.flatMap((p) => {
          const v = p.thresholds.find((t) => t.metric === first.metric && t.expression === first.expression)?.value;
          return typeof v === 'number' ? [[p.capacity!, v] as [number, number]] : [];
        }),
      }
    : null;
  return { parameter, values: ran.map((p) => p.capacity!), chosen, failedAbove: chosen === null ? [] : ran.filter((p) => p.capacity! > chosen && p.verdict !== 'passed').map((p) => p.capacity!), curve };
}

/** A p99 at least this many times its value at the smallest size marks the knee. */
export const KNEE_P99_FACTOR = 2;

const ERROR_COUNTERS = ['telemetry.failed', 'telemetry.dropped', 'provision.failed', 'mqtt.connect.failed', 'poll.failed'];
const ATTEMPT_COUNTERS = ['telemetry.generated', 'provision.ok', 'provision.failed', 'mqtt.connect.ok', 'mqtt.connect.failed', 'poll.ok', 'poll.failed'];

/**
 * The share of operations that failed: (telemetry failed + dropped, provisioning, connect and
 * poll failures) / (telemetry generated + provisioning, connect and poll attempts).
 */
export function errorRateOf(counters: Readonly<Record<string, number>>): number | null {
  const { failed, attempted } = operationsOf(counters);
  return attempted > 0 ? failed / attempted : null;
}

/** Failed and attempted operations (the counters errorRateOf divides). */
export function operationsOf(counters: Readonly<Record<string, number>>): { failed: number; attempted: number } {
  const sum = (names: string[]) => names.reduce((a, n) => a + (counters[n] ?? 0), 0);
  return { failed: sum(ERROR_COUNTERS), attempted: sum(ATTEMPT_COUNTERS) };
}

/** The sweep point of one finished run; `dir` is its report directory relative to the sweep's. */
export function pointOfRun(summary: RunSummary, dir: string): SweepPoint {
  const latencies: Record<string, SweepLatency> = {};
  for (const [name, h] of Object.entries(summary.histograms)) {
    const { count, p50, p95, p99 } = h.stats;
    if (count > 0) latencies[name] = { count, p50, p95, p99 };
  }
  const secs = Math.max(summary.run.durationMs, 1) / 1000;
  return {
    devices: summary.run.devices,
    runId: summary.run.id,
    dir,
    durationMs: summary.run.durationMs,
    wallMs: summary.run.wallMs,
    latencies,
    throughputPerSec: (summary.counters['telemetry.acked'] ?? 0) / secs,
    errorRate: errorRateOf(summary.counters),
    failedOperations: operationsOf(summary.counters).failed,
    attemptedOperations: operationsOf(summary.counters).attempted,
    thresholds: summary.thresholds.map((t) => ({ metric: t.metric, expression: t.expression, display: t.value === null ? 'no data' : t.display, ok: t.ok, value: t.value })),
    verdict: summary.result.verdict,
    exitCode: summary.result.exitCode,
    reasons: summary.result.reasons,
  };
}

/** The sweep point of a size whose run could not start (e.g. more descriptors than allowed). */
export function pointOfError(devices: number, message: string, exitCode: number): SweepPoint {
  return { devices, runId: null, dir: null, durationMs: 0, wallMs: 0, latencies: {}, throughputPerSec: null, errorRate: null, thresholds: [], verdict: 'error', exitCode, reasons: [message] };
}

/** What the knee rule looks at, per size. */
export interface KneeInput {
  devices: number;
  /** Each failed threshold. */
  failedThresholds: Array<{ metric: string; expression: string }>;
  /** p99 per latency metric, µs, and the samples behind it; only metrics with at least KNEE_MIN_SAMPLES samples. */
  p99: Readonly<Record<string, number>>;
  samples: Readonly<Record<string, number>>;
  /** Operations that failed, of those attempted (errorRateOf's two sides). */
  failed: number;
  attempted: number;
}

/**
 * Samples a p99 needs before the knee rule trusts it. With fewer, "p99" is the largest of a few
 * draws (5 devices provision 5 times), far below the distribution's real p99, and every larger
 * size would look twice as slow.
 */
export const KNEE_MIN_SAMPLES = 100;
/**
 * Errors mark the knee only when there are enough of them and they are a real share of the work:
 * at least KNEE_MIN_ERRORS failed operations, at least KNEE_ERROR_RATE of those attempted. One
 * failed message out of thousands (a `count == 0` threshold failing) is noise, not a limit.
 */
export const KNEE_MIN_ERRORS = 10;
export const KNEE_ERROR_RATE = 0.01;

/** The knee rule, as the console and the report state it under the knee. */
export const KNEE_RULE =
  `the first size where a p99 latency reaches ${KNEE_P99_FACTOR}× its value at the smallest size that has it (each p99 from at least ${KNEE_MIN_SAMPLES} samples), ` +
  `where at least ${KNEE_MIN_ERRORS} operations failed and they are at least ${KNEE_ERROR_RATE * 100}% of those attempted, ` +
  `or where a threshold fails that is not about errors (thresholds on failed, dropped or lost counts count only under the error rule)`;

/** Metrics that count errors: a threshold on one marks the knee only through the error rule. */
function isErrorMetric(metric: string): boolean {
  return ERROR_COUNTERS.includes(metric) || /(^errors\.|\.(failed|dropped|lost|rolled_back)$|_lost$|\.failures$)/.test(metric);
}

export function kneeInputOf(p: SweepPoint): KneeInput {
  const trusted = Object.entries(p.latencies).filter(([, l]) => l.count >= KNEE_MIN_SAMPLES);
  return {
    devices: p.devices,
    failedThresholds: p.thresholds.filter((t) => !t.ok).map((t) => ({ metric: t.metric, expression: t.expression })),
    p99: Object.fromEntries(trusted.map(([n, l]) => [n, l.p99])),
    samples: Object.fromEntries(trusted.map(([n, l]) => [n, l.count])),
    // A sweep written before the counts were recorded: its rate over an unknown count (never enough).
    failed: p.failedOperations ?? 0,
    attempted: p.attemptedOperations ?? 0,
  };
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * The knee (KNEE_RULE): the first size (ascending) where a p99 latency is at least `factor` times
 * its reference, its value at the smallest size that has it (kneeInputOf keeps a p99 only with
 * enough samples), where failed operations are at least KNEE_MIN_ERRORS and KNEE_ERROR_RATE of
 * those attempted, or where a threshold not about errors fails. Returns null when every size scales.
 */
export function findKnee(points: readonly KneeInput[], factor = KNEE_P99_FACTOR): SweepKnee | null {
  const sorted = [...points].sort((a, b) => a.devices - b.devices);
  const ref = new Map<string, { p99: number; devices: number; samples: number }>();
  for (const p of sorted) {
    const reasons = p.failedThresholds.filter((t) => !isErrorMetric(t.metric)).map((t) => `threshold ${t.metric}: ${t.expression} failed`);
    for (const [metric, v] of Object.entries(p.p99)) {
      const r = ref.get(metric);
      const n = p.samples[metric] ?? 0;
      if (!r) ref.set(metric, { p99: v, devices: p.devices, samples: n });
      else if (r.p99 > 0 && v >= factor * r.p99) {
        reasons.push(`${metric} p99 ${formatMicros(v)} (${count(n)} samples) is ${(v / r.p99).toFixed(1)}× its ${formatMicros(r.p99)} at ${count(r.devices)} device${r.devices === 1 ? '' : 's'} (${count(r.samples)} samples)`);
      }
    }
    if (p.failed >= KNEE_MIN_ERRORS && p.attempted > 0 && p.failed / p.attempted >= KNEE_ERROR_RATE) {
      reasons.push(`${count(p.failed)} of ${count(p.attempted)} operations failed (${((p.failed / p.attempted) * 100).toFixed(1)}%)`);
    }
    if (reasons.length > 0) return { devices: p.devices, reasons };
  }
  return null;
}

/**
 * The sweep's verdict (exit codes: summary/verdict.ts): interrupted; a size that errored; a size
 * that failed thresholds (the knee is then inside the sweep); a size whose measurement was
 * invalid; otherwise passed.
 */
export function sweepResult(points: readonly SweepPoint[], interrupted: boolean): SweepSummary['result'] {
  const at = (v: Verdict) => points.filter((p) => p.verdict === v).map((p) => p.devices.toLocaleString('en-US'));
  const reasons: string[] = [];
  if (interrupted) reasons.push('the sweep was interrupted; sizes after the last one shown did not run');
  const errors = at('error');
  const failed = at('thresholds_failed');
  const invalid = at('invalid');
  if (errors.length > 0) reasons.push(`the run at ${errors.join(', ')} devices failed`);
  if (failed.length > 0) reasons.push(`thresholds failed at ${failed.join(', ')} devices`);
  if (invalid.length > 0) reasons.push(`the measurement at ${invalid.join(', ')} devices is invalid (generator saturated or a broken accounting identity)`);
  if (interrupted) return verdictResult('interrupted', reasons);
  if (errors.length > 0) return verdictResult('error', reasons);
  if (failed.length > 0) return verdictResult('thresholds_failed', reasons);
  if (invalid.length > 0) return verdictResult('invalid', reasons);
  return verdictResult('passed', reasons);
}

/** A capacity sweep passes when some value held every threshold (the answer); it fails when none did. */
function capacityResult(c: CapacityAnswer, points: readonly SweepPoint[], interrupted: boolean): SweepSummary['result'] {
  const base = sweepResult(points, interrupted);
  if (interrupted || base.verdict === 'error' || base.verdict === 'invalid') return base;
  if (c.chosen === null) return verdictResult('thresholds_failed', [`no value of ${c.parameter} in ${c.values.join(', ')} holds every threshold`]);
  const reasons = [`${c.parameter} = ${c.chosen} is the smallest value that holds every threshold`];
  if (c.failedAbove.length > 0) reasons.push(`but ${c.failedAbove.join(', ')} (larger) failed: the curve is not monotone, check the runs`);
  return verdictResult('passed', reasons);
}

/** What identifies a sweep: the part of `sweep` that does not come from running it. */
export type SweepIdentity = Pick<SweepSummary['sweep'], 'id' | 'scenario' | 'scenarioFile' | 'seed' | 'clock' | 'workers'>;

export interface BuildSweepInput {
  sweep: SweepIdentity;
  sizes: readonly number[];
  version: string;
  startedAt: Date;
  endedAt: Date;
  interrupted: boolean;
  points: readonly SweepPoint[];
  capacity?: CapacityAnswer;
}

export function buildSweepSummary(i: BuildSweepInput): SweepSummary {
  const points = [...i.points].sort((a, b) => a.devices - b.devices || (a.capacity ?? 0) - (b.capacity ?? 0));
  const measured = points.filter((p) => p.runId !== null && p.verdict !== 'interrupted');
  return {
    schemaVersion: SWEEP_SCHEMA_VERSION,
    tool: { name: 'fleetsim', version: i.version },
    sweep: {
      ...i.sweep,
      sizes: [...i.sizes].sort((a, b) => a - b),
      startedAt: i.startedAt.toISOString(),
      endedAt: i.endedAt.toISOString(),
      status: i.interrupted ? 'interrupted' : 'completed',
    },
    points,
    // A capacity sweep runs one fleet size: its answer is the capacity, not a knee.
    knee: measured.length > 0 && !i.capacity ? findKnee(measured.map(kneeInputOf)) : null,
    ...(i.capacity ? { capacity: i.capacity } : {}),
    result: i.capacity ? capacityResult(i.capacity, points, i.interrupted) : sweepResult(points, i.interrupted),
  };
}
