import { FleetsimError } from '../errors/fleetsim-error.js';
import { metricDef, metricNames, SHARE_OF, type MetricKind } from '../metrics/catalog.js';
import { decodeHistogram, histogramStats, type Histogram, type HistogramStats } from '../metrics/histogram.js';
import { deltaPct, generatorHealthText, runSeconds } from './format.js';
import type { RunSummary } from '../summary/run-summary.js';
import { EXIT_CODES } from '../summary/verdict.js';

/**
 * Baseline comparison (`fleetsim compare BASE CURRENT`): whole latency distributions (decoded from
 * the encoded HDR histograms, so every percentile is exact, not re-derived from rounded stats),
 * counters, and regression rules that turn a diff into an exit code for CI.
 *
 * Rule grammar: `<metric>:<agg>=<sign><amount>`
 *   agg     histograms: p(N), avg, med, min, max, count · counters: count, rate · gauges: value
 *   sign    `+` caps an increase (latency, errors), `-` caps a decrease (throughput); default `+`
 *   amount  `N%` of the baseline, or an absolute amount in the metric's unit: `5ms`, `250us`,
 *           `1s` for latencies, a plain number for counts, rates and gauges
 *   `rate` means what it means in a threshold (docs/metrics.md): a share of attempts for the outcome
 *   counters of SHARE_OF (`telemetry.failed:rate=+0.001` caps its share's rise at 0.1 points), per
 *   second for every other counter.
 */

/** The histogram whose presence marks a summary with backend-only `telemetry.ack.latency`. */
const END_TO_END = 'telemetry.ack.latency_end_to_end';

export const DISTRIBUTION_STATS = ['p50', 'p90', 'p95', 'p99', 'p999', 'max', 'avg'] as const;
export type DistributionStat = (typeof DISTRIBUTION_STATS)[number];

export interface RegressionRule {
  text: string;
  metric: string;
  kind: MetricKind;
  /** As written: `p(99)`, `avg`, `count`, ... */
  agg: string;
  direction: 'increase' | 'decrease';
  allowance: { kind: 'percent'; value: number } | { kind: 'absolute'; value: number };
}

export interface RunRef {
  id: string;
  scenario: string;
  startedAt: string;
  durationMs: number;
  devices: number;
}

export interface DistributionRow {
  metric: string;
  stat: DistributionStat;
  /** µs; null when that run recorded nothing for the metric. */
  base: number | null;
  current: number | null;
  deltaPct: number | null;
}

export interface CounterRow {
  metric: string;
  base: number;
  current: number;
  delta: number;
  deltaPct: number | null;
}

export interface RuleResult {
  rule: string;
  metric: string;
  agg: string;
  /** In the metric's base unit (µs for latencies); null when that run has no data. */
  base: number | null;
  current: number | null;
  /** The most (or, for `-` rules, the least) the current value may be. */
  limit: number | null;
  ok: boolean;
  /** Why a rule passed without a comparison or failed without numbers. */
  note?: string;
  /** True when the value is a latency in µs (for formatting). */
  latency: boolean;
}

export interface Comparison {
  base: RunRef;
  current: RunRef;
  /** Caveats a reader must know, e.g. the two runs used different scenarios. */
  notes: string[];
  histograms: DistributionRow[];
  counters: CounterRow[];
  rules: RuleResult[];
  violations: number;
  /** Generator health of both runs, shown next to the regressions: a regression measured by a saturated generator is not the backend's. */
  generator: { base: GeneratorHealth; current: GeneratorHealth };
  /** 99 when any rule is violated (the thresholds-failed convention), else 0. */
  exitCode: typeof EXIT_CODES.passed | typeof EXIT_CODES.thresholds_failed;
}

export interface GeneratorHealth {
  healthy: boolean;
  /** `schedule lag 3.36ms, event-loop delay 12.0ms, bound 125.0ms (...)`. */
  text: string;
  sendSide: string[];
}

function generatorHealth(s: RunSummary): GeneratorHealth {
  return { healthy: !s.generator.saturated, text: generatorHealthText(s.generator), sendSide: s.generator.sendSide ?? [] };
}

const AGGS_BY_KIND: Record<MetricKind, string> = {
  histogram: 'p(N), avg, med, min, max, count',
  counter: 'count, rate',
  gauge: 'value',
  rollout: 'nothing: a rollout time is not compared between runs (a threshold on it, p(N), is)',
};
const MICROS_PER_UNIT: Record<string, number> = { us: 1, 'µs': 1, ms: 1_000, s: 1_000_000, m: 60_000_000 };
const RULE_HINT = "write <metric>:<agg>=<+|-><amount>, e.g. 'telemetry.ack.latency:p(99)=+10%', 'provision.latency:avg=+5ms', 'telemetry.failed:count=+0', 'telemetry.acked:rate=-5%'";

function closest(name: string): string[] {
  const parts = name.split('.');
  const near = metricNames().filter((n) => parts.some((p) => p.length > 2 && n.includes(p)));
  // The longest common prefix first: a typo at the end of a name finds that name, however many share a part.
  const prefix = (n: string) => {
    let i = 0;
    while (i < n.length && i < name.length && n[i] === name[i]) i++;
    return i;
  };
  return (near.length > 0 ? near : metricNames())
    .map((n, i) => ({ n, i, p: prefix(n) }))
    .sort((a, b) => b.p - a.p || a.i - b.i)
    .slice(0, 12)
    .map((x) => x.n);
}

/** Parses one `--max-regression` rule; unknown metrics and bad syntax are usage errors (exit 2). */
export function parseRegressionRule(text: string): RegressionRule {
  const m = /^\s*([^:=\s]+):([a-z]+(?:\(\s*\d+(?:\.\d+)?\s*\))?)\s*=\s*([+-])?\s*(\d+(?:\.\d+)?)\s*(%|µs|us|ms|s|m|\/s)?\s*$/.exec(text);
  if (!m) throw new FleetsimError('FLEETSIM_E_USAGE', `--max-regression "${text}" is not a regression rule`, { hint: RULE_HINT });
  const [, metric, aggRaw, sign, num, unit] = m;
  const def = metricDef(metric);
  if (!def) {
    throw new FleetsimError('FLEETSIM_E_UNKNOWN_METRIC', `--max-regression "${text}" names an unknown metric "${metric}"`, {
      hint: `known metrics include: ${closest(metric).join(', ')}`,
    });
  }
  const agg = aggRaw.replace(/\s+/g, '');
  const aggOk =
    def.kind === 'histogram' ? /^(p\(\d+(\.\d+)?\)|avg|med|min|max|count)$/.test(agg) : def.kind === 'counter' ? /^(count|rate)$/.test(agg) : def.kind === 'gauge' && agg === 'value';
  if (!aggOk) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `--max-regression "${text}": "${agg}" does not apply to ${def.kind} ${metric}`, {
      hint: `for a ${def.kind} use ${AGGS_BY_KIND[def.kind]}`,
    });
  }
  const pm = /^p\((.+)\)$/.exec(agg);
  if (pm && Number(pm[1]) > 100) throw new FleetsimError('FLEETSIM_E_USAGE', `--max-regression "${text}": percentile ${pm[1]} is over 100`, { hint: 'use p(0) to p(100), e.g. p(99.9)' });
  const latency = def.kind === 'histogram' && agg !== 'count';
  let value = Number(num);
  if (unit === '%') return { text, metric, kind: def.kind, agg, direction: sign === '-' ? 'decrease' : 'increase', allowance: { kind: 'percent', value } };
  if (latency) {
    if (!unit || unit === '/s') throw new FleetsimError('FLEETSIM_E_USAGE', `--max-regression "${text}": give the allowed change of a latency with a unit or as a percentage`, { hint: 'e.g. =+5ms, =+250us, =+10%' });
    value *= MICROS_PER_UNIT[unit];
  } else if (unit && !(unit === '/s' && agg === 'rate')) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `--max-regression "${text}": ${metric}:${agg} is not a duration, so "${unit}" does not apply`, { hint: 'use a plain number (=+0, =+100) or a percentage (=+5%)' });
  }
  return { text, metric, kind: def.kind, agg, direction: sign === '-' ? 'decrease' : 'increase', allowance: { kind: 'absolute', value } };
}

/** Decodes a run's histogram for a metric; null when the run has none or it is empty. */
function decoded(s: RunSummary, metric: string): Histogram | null {
  const h = s.histograms[metric];
  if (!h || h.stats.count === 0) return null;
  return decodeHistogram(h.encoded);
}

function histogramValue(h: Histogram, agg: string): number {
  const pm = /^p\((.+)\)$/.exec(agg);
  if (pm) return Number(pm[1]) === 0 ? h.minNonZeroValue : h.getValueAtPercentile(Number(pm[1]));
  switch (agg) {
    case 'avg': return h.mean;
    case 'med': return h.getValueAtPercentile(50);
    case 'min': return h.minNonZeroValue;
    case 'max': return h.maxValue;
    default: return h.totalCount;
  }
}

/** The value a rule compares, in the metric's base unit; null when the run has no data for it. */
function measure(s: RunSummary, rule: RegressionRule, which: string): number | null {
  if (rule.kind === 'histogram') {
    if (!(rule.metric in s.histograms)) throw missing(rule, which);
    const h = decoded(s, rule.metric);
    if (!h) return null;
    const v = histogramValue(h, rule.agg);
    h.destroy();
    return v;
  }
  const table = rule.kind === 'counter' ? s.counters : s.gauges;
  const v = table[rule.metric];
  if (typeof v !== 'number') throw missing(rule, which);
  if (rule.agg !== 'rate') return v;
  const shareOf = SHARE_OF[rule.metric];
  if (!shareOf) return v / runSeconds(s);
  const attempts = shareOf.reduce((a, n) => a + (s.counters[n] ?? 0), 0);
  return attempts > 0 ? v / attempts : null;
}

function missing(rule: RegressionRule, which: string): FleetsimError {
  return new FleetsimError('FLEETSIM_E_UNKNOWN_METRIC', `--max-regression "${rule.text}": the ${which} summary has no ${rule.kind} "${rule.metric}"`, {
    hint: 'the run did not produce this metric (an older fleetsim, or a merged summary); pick a metric both summaries hold',
  });
}

export function evaluateRule(rule: RegressionRule, base: RunSummary, current: RunSummary): RuleResult {
  const b = measure(base, rule, 'BASE');
  const c = measure(current, rule, 'CURRENT');
  const latency = rule.kind === 'histogram' && rule.agg !== 'count';
  const common = { rule: rule.text, metric: rule.metric, agg: rule.agg, base: b, current: c, latency };
  if (b === null) return { ...common, limit: null, ok: true, note: 'no baseline data: not compared' };
  if (c === null) return { ...common, limit: null, ok: false, note: 'no data in the current run' };
  const allowed = rule.allowance.kind === 'percent' ? (Math.abs(b) * rule.allowance.value) / 100 : rule.allowance.value;
  const limit = rule.direction === 'increase' ? b + allowed : b - allowed;
  // A relative epsilon keeps `=+0` on identical runs from failing on float noise in rates.
  const eps = Math.abs(limit) * 1e-9;
  const ok = rule.direction === 'increase' ? c <= limit + eps : c >= limit - eps;
  return { ...common, limit, ok };
}

function runRef(s: RunSummary): RunRef {
  return { id: s.run.id, scenario: s.run.scenario, startedAt: s.run.startedAt, durationMs: s.run.durationMs, devices: s.run.devices };
}

function distributionRows(base: RunSummary, current: RunSummary): DistributionRow[] {
  const rows: DistributionRow[] = [];
  const names = Object.keys(base.histograms).filter((n) => n in current.histograms);
  for (const metric of names) {
    const stats = (s: RunSummary): HistogramStats | null => {
      const h = decoded(s, metric);
      if (!h) return null;
      const st = histogramStats(h);
      h.destroy();
      return st;
    };
    const b = stats(base);
    const c = stats(current);
    if (!b && !c) continue;
    for (const stat of DISTRIBUTION_STATS) {
      const bv = b ? b[stat] : null;
      const cv = c ? c[stat] : null;
      rows.push({ metric, stat, base: bv, current: cv, deltaPct: bv === null || cv === null ? null : deltaPct(bv, cv) });
    }
  }
  return rows;
}

function counterRows(base: RunSummary, current: RunSummary): CounterRow[] {
  const names = [...new Set([...Object.keys(base.counters), ...Object.keys(current.counters)])];
  return names
    .map((metric) => {
      const b = base.counters[metric] ?? 0;
      const c = current.counters[metric] ?? 0;
      return { metric, base: b, current: c, delta: c - b, deltaPct: deltaPct(b, c) };
    })
    .filter((r) => r.base !== 0 || r.current !== 0);
}

/** Compares two runs and evaluates the rules (already parsed, so usage errors come first). */
export function compareSummaries(base: RunSummary, current: RunSummary, rules: readonly RegressionRule[] = []): Comparison {
  const notes: string[] = [];
  if (base.run.scenarioHash !== current.run.scenarioHash) notes.push(`the runs used different scenarios (${base.run.scenario} ${base.run.scenarioHash.slice(0, 8)} vs ${current.run.scenario} ${current.run.scenarioHash.slice(0, 8)})`);
  if (Math.abs(base.run.durationMs - current.run.durationMs) > 0.01 * Math.max(base.run.durationMs, 1)) notes.push('the runs have different durations: compare counters by rate');
  for (const [which, s] of [['the baseline', base], ['the current run', current]] as const) {
    // Summaries from before the split of backend and end-to-end latency have no end-to-end histogram.
    if (!(END_TO_END in s.histograms)) notes.push(`${which} predates ${END_TO_END}: its telemetry.ack.latency includes the modelled link's delay and retransmissions, so it is not comparable with a backend-only telemetry.ack.latency`);
  }
  if (base.run.devices !== current.run.devices) notes.push(`the runs have different fleet sizes (${base.run.devices} vs ${current.run.devices} devices)`);
  for (const [s, which] of [[base, 'BASE'], [current, 'CURRENT']] as const) {
    if (s.result.verdict === 'invalid' || s.run.status !== 'completed') notes.push(`${which} is not a valid measurement (status ${s.run.status}, verdict ${s.result.verdict})`);
  }
  const results = rules.map((r) => evaluateRule(r, base, current));
  const violations = results.filter((r) => !r.ok).length;
  const generator = { base: generatorHealth(base), current: generatorHealth(current) };
  if (!generator.current.healthy || !generator.base.healthy) {
    const which = [!generator.base.healthy ? 'BASE' : '', !generator.current.healthy ? 'CURRENT' : ''].filter(Boolean).join(' and ');
    notes.push(`the generator could not keep up in ${which}: differences there may be fleetsim's own delay, not the backend's`);
  }
  return {
    base: runRef(base),
    current: runRef(current),
    notes,
    histograms: distributionRows(base, current),
    counters: counterRows(base, current),
    rules: results,
    violations,
    generator,
    exitCode: violations > 0 ? EXIT_CODES.thresholds_failed : EXIT_CODES.passed,
  };
}
