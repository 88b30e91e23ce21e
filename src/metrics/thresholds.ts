import { formatMicros } from './format.js';
import { metricDef, metricNames, SHARE_OF, type MetricDef } from './catalog.js';

/**
 * Thresholds in k6's grammar: `AGGREGATE OP VALUE`, for example `p(99) < 500ms`, `avg <= 2s`,
 * `count == 0`, `rate < 1%`.
 *
 * - Aggregates: `p(N)` (0 < N <= 100), `avg`, `med`, `min`, `max`, `rate`, `count`.
 * - Operators: `<`, `<=`, `>`, `>=`, `==`, `!=`.
 * - Values: a number with an optional unit: `250us` (or `µs`), `500ms`, `2s`, `1m`, `1h`, `5%`, `20/s`.
 *
 * What each aggregate means depends on the metric's kind (metrics/catalog.ts):
 *
 * | kind      | aggregates                       | value                                           |
 * |-----------|----------------------------------|-------------------------------------------------|
 * | histogram | p(N), avg, med, min, max         | a latency; a plain number is milliseconds (k6)  |
 * | histogram | count                            | number of samples                               |
 * | counter   | count                            | the run's total                                 |
 * | counter   | rate (share counters, below)     | a fraction: `5%` or `0.05`                      |
 * | counter   | rate (every other counter)       | per second of (simulated) run time: `20` or `20/s` |
 * | gauge     | min, max, avg                    | in the gauge's unit (`ms` gauges take durations) |
 * | rollout   | p(N)                             | time until N% of the devices had reached the state |
 *
 * Share counters (catalog.ts, SHARE_OF): for an outcome counter, "per second" is rarely the
 * question; "what share of attempts" is. So `rate` of these counters is the counter divided by the
 * sum of its attempts, e.g. `update.failed` / (`update.success` + `update.failed` + `update.rolled_back`).
 * `describeMetricAggregates` says it in words for docs/metrics.md.
 *
 * Internal units: latencies in µs (the histograms' unit), ratios as fractions, counter rates per
 * second, gauges in their catalog unit. No data (an empty histogram, a zero denominator, a metric
 * the source does not have) evaluates to `value: null, ok: false`: a threshold never passes on
 * nothing.
 *
 * This module imports nothing outside metrics/, so scenario validation, the engine and
 * `fleetsim merge` all use the same grammar.
 */

export type ThresholdOp = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type ThresholdAggregate = { kind: 'p'; percentile: number } | { kind: 'avg' | 'med' | 'min' | 'max' | 'rate' | 'count' };

/** A threshold ready to evaluate. Structurally the same as scenario/resolved.ts's `ResolvedThreshold`. */
export interface Threshold {
  metric: string;
  expression: string;
  aggregate: ThresholdAggregate;
  op: ThresholdOp;
  /** Right-hand side in the metric's internal unit (see the table above). */
  value: number;
}

/** The unit written on the right-hand side. */
export type ThresholdValueUnit = 'none' | 'time' | 'percent' | 'per_sec';

/** An expression parsed without knowing its metric. `amount` is µs for time, a fraction for percent, per second for per_sec. */
export interface ThresholdExpression {
  aggregate: ThresholdAggregate;
  op: ThresholdOp;
  amount: number;
  unit: ThresholdValueUnit;
}

export type ThresholdProblemKind = 'syntax' | 'unknown_metric' | 'mismatch';
export type ThresholdResultOf<T> = { ok: true; value: T } | { ok: false; kind: ThresholdProblemKind; message: string; hint: string };

export const THRESHOLD_HINT = 'write AGGREGATE OP VALUE, e.g. "p(99) < 500ms", "avg < 200ms", "count == 0", "rate < 1%"; aggregates: p(N), avg, med, min, max, rate, count; operators: < <= > >= == !=';

const TIME_UNIT_US: Record<string, number> = { us: 1, 'µs': 1, 'μs': 1, ms: 1_000, s: 1_000_000, m: 60_000_000, h: 3_600_000_000 };
const PER_SEC: Record<string, number> = { '/s': 1, '/m': 1 / 60, '/h': 1 / 3600 };
const SIMPLE_AGGREGATES = new Set(['avg', 'med', 'min', 'max', 'rate', 'count']);

const AGGREGATE_RE = /^\s*([A-Za-z_]\w*)(\s*\(\s*([^)]*?)\s*\))?/;
const OP_RE = /^\s*(<=|>=|==|!=|<|>|=)/;
const VALUE_RE = /^\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(us|µs|μs|ms|s|m|h|%|\/s|\/m|\/h)?\s*$/i;

function fail<T>(kind: ThresholdProblemKind, message: string, hint = THRESHOLD_HINT): ThresholdResultOf<T> {
  return { ok: false, kind, message, hint };
}

/** Parses `AGGREGATE OP VALUE` without reference to a metric. */
export function parseThresholdExpression(expression: string): ThresholdResultOf<ThresholdExpression> {
  const agg = AGGREGATE_RE.exec(expression);
  if (!agg) return fail('syntax', `"${expression}" does not start with an aggregate`);
  const name = agg[1].toLowerCase();
  let aggregate: ThresholdAggregate;
  if (name === 'p' && agg[2] !== undefined) {
    const n = Number(agg[3]);
    if (agg[3] === '' || !Number.isFinite(n) || n <= 0 || n > 100) {
      return fail('syntax', `"p(${agg[3]})" needs a percentile above 0 and at most 100`, 'write p(50), p(95), p(99) or p(99.9)');
    }
    aggregate = { kind: 'p', percentile: n };
  } else if (SIMPLE_AGGREGATES.has(name) && agg[2] === undefined) {
    aggregate = { kind: name as 'avg' };
  } else {
    const pct = /^p(\d+(?:\.\d+)?)$/.exec(name);
    const hint = pct ? `write p(${pct[1]}) for a percentile` : THRESHOLD_HINT;
    return fail('syntax', `unknown aggregate "${agg[0].trim()}"`, hint);
  }
  const rest = expression.slice(agg[0].length);
  const op = OP_RE.exec(rest);
  if (!op) return fail('syntax', `"${expression}" has no comparison operator after the aggregate`);
  if (op[1] === '=') return fail('syntax', `"=" is not a comparison in "${expression}"`, 'use == for equality');
  const value = VALUE_RE.exec(rest.slice(op[0].length));
  if (!value) {
    return fail('syntax', `"${rest.slice(op[0].length).trim()}" is not a number with an optional unit`, 'use a number and an optional unit: 250us, 500ms, 2s, 5%, 20/s, 0');
  }
  const n = Number(value[1]);
  const unitText = value[2];
  let amount = n;
  let unit: ThresholdValueUnit = 'none';
  if (unitText === undefined) unit = 'none';
  else if (unitText === '%') {
    unit = 'percent';
    amount = n / 100;
  } else if (unitText.startsWith('/')) {
    unit = 'per_sec';
    amount = n * PER_SEC[unitText.toLowerCase()];
  } else {
    const factor = TIME_UNIT_US[unitText] ?? TIME_UNIT_US[unitText.toLowerCase()];
    unit = 'time';
    amount = n * factor;
  }
  return { ok: true, value: { aggregate, op: op[1] as ThresholdOp, amount, unit } };
}

/** The counters whose `rate` is a fraction of attempts rather than a per-second rate. */
export function ratioCounterNames(): string[] {
  return Object.keys(SHARE_OF);
}

const ALLOWED: Record<MetricDef['kind'], readonly string[]> = {
  histogram: ['p', 'avg', 'med', 'min', 'max', 'count'],
  counter: ['count', 'rate'],
  gauge: ['min', 'max', 'avg'],
  rollout: ['p'],
};

/** What each aggregate of a metric means, in words: the source of docs/metrics.md's columns. */
export function describeMetricAggregates(def: MetricDef): { aggregates: string; rate: string; example: string } {
  const list = ALLOWED[def.kind].map((k) => (k === 'p' ? 'p(N)' : k)).join(', ');
  switch (def.kind) {
    case 'histogram':
      return { aggregates: list, rate: 'no `rate`: p(N), avg, med, min, max are durations (a plain number means ms); `count` is the number of samples', example: 'p(99) < 500ms' };
    case 'rollout':
      return { aggregates: list, rate: 'no `rate`: p(N) is the time until N% was reached', example: 'p(95) < 2h' };
    case 'gauge':
      return { aggregates: list, rate: `no \`rate\`: min, max, avg compare the level at the end of the run${def.unit === 'ms' ? ', as a duration' : ''}`, example: def.unit === 'ms' ? 'max < 2s' : 'max == 0' };
    case 'counter': {
      const share = SHARE_OF[def.name];
      if (share) return { aggregates: list, rate: `share of ${share.join(' + ')} (\`rate < 3%\` or \`rate < 0.03\`)`, example: 'rate < 3%' };
      return { aggregates: list, rate: 'per second of (simulated) run time (`rate > 20/s`)', example: 'count == 0' };
    }
  }
}

function aggregateLabel(a: ThresholdAggregate): string {
  return a.kind === 'p' ? `p(${a.percentile})` : a.kind;
}

/** Converts the parsed right-hand side into the metric's internal unit, or says why it cannot. */
function valueFor(def: MetricDef, e: ThresholdExpression): ThresholdResultOf<number> {
  const what = `${aggregateLabel(e.aggregate)} of ${def.name}`;
  const countLike = e.aggregate.kind === 'count' || (def.kind === 'gauge' && def.unit !== 'ms');
  if (countLike) {
    return e.unit === 'none' ? { ok: true, value: e.amount } : fail('mismatch', `${what} is a plain number; it takes no unit`, 'write e.g. "count == 0" or "max < 1000"');
  }
  if (def.kind === 'histogram' || def.kind === 'rollout' || (def.kind === 'gauge' && def.unit === 'ms')) {
    // k6 reads a plain number on a time metric as milliseconds.
    const us = e.unit === 'time' ? e.amount : e.unit === 'none' ? e.amount * 1_000 : NaN;
    if (Number.isNaN(us)) return fail('mismatch', `${what} is a duration, not a ${e.unit === 'percent' ? 'percentage' : 'rate'}`, 'use a duration: 250us, 500ms, 2s (a plain number means milliseconds)');
    return { ok: true, value: def.kind === 'gauge' ? us / 1_000 : us };
  }
  // A counter's rate.
  if (SHARE_OF[def.name]) {
    if (e.unit === 'percent') return { ok: true, value: e.amount };
    if (e.unit === 'none' && e.amount >= 0 && e.amount <= 1) return { ok: true, value: e.amount };
    return fail('mismatch', `rate of ${def.name} is a share of ${SHARE_OF[def.name].join(' + ')}, a fraction`, 'write a percentage such as "rate < 1%" or a fraction such as "rate < 0.01"');
  }
  if (e.unit === 'none' || e.unit === 'per_sec') return { ok: true, value: e.amount };
  return fail('mismatch', `rate of ${def.name} is per second of run time`, `write e.g. "rate > 20/s"; share-of-attempts rates exist for: ${ratioCounterNames().join(', ')}`);
}

/** Parses an expression for a named metric: checks the metric exists, the aggregate fits its kind and converts the value. */
export function compileThreshold(metric: string, expression: string): ThresholdResultOf<Threshold> {
  const def = metricDef(metric);
  if (!def) return fail('unknown_metric', `unknown metric "${metric}"`, `known metrics: ${metricNames().join(', ')}`);
  const parsed = parseThresholdExpression(expression);
  if (!parsed.ok) return parsed;
  const e = parsed.value;
  if (!ALLOWED[def.kind].includes(e.aggregate.kind)) {
    return fail('mismatch', `${aggregateLabel(e.aggregate)} does not apply to ${metric} (a ${def.kind})`, `aggregates for a ${def.kind}: ${ALLOWED[def.kind].map((k) => (k === 'p' ? 'p(N)' : k)).join(', ')}`);
  }
  const value = valueFor(def, e);
  if (!value.ok) return value;
  return { ok: true, value: { metric, expression, aggregate: e.aggregate, op: e.op, value: value.value } };
}

/** What a histogram answers; an hdr-histogram-js `Histogram` satisfies it as is. Values in µs. */
export interface HistogramLike {
  readonly totalCount: number;
  readonly minNonZeroValue: number;
  readonly maxValue: number;
  readonly mean: number;
  getValueAtPercentile(percentile: number): number;
}

/** A gauge over the run. */
export interface GaugeStats {
  min: number;
  max: number;
  avg: number;
}

/** Where measured values come from: the coordinator's merged metrics, or a saved summary being re-evaluated. */
export interface ThresholdSource {
  /** Length of the run in (simulated) seconds: the denominator of per-second counter rates. */
  durationSec: number;
  counter(name: string): number | undefined;
  histogram(name: string): HistogramLike | undefined;
  /** Stats over the run, or only the final value (then every gauge aggregate compares the final value, and says so). */
  gauge(name: string): GaugeStats | number | undefined;
  /** Denominator of the telemetry ratio rates; defaults to counter('telemetry.generated'). */
  telemetryGenerated?: number;
  /**
   * A rollout metric: µs until `share` (0..1] of the devices had reached the state, null when that
   * share was never reached, undefined when the source has no such data.
   */
  timeToShare?(name: string, share: number): number | null | undefined;
}

export interface ThresholdEvaluation {
  /** The measured value in the threshold's internal unit, or null when there was no data. */
  value: number | null;
  ok: boolean;
  /** The measured value for people, with its unit ('no data' when there was none). */
  display: string;
}

const NO_DATA: ThresholdEvaluation = Object.freeze({ value: null, ok: false, display: 'no data' });

function compare(a: number, op: ThresholdOp, b: number): boolean {
  switch (op) {
    case '<': return a < b;
    case '<=': return a <= b;
    case '>': return a > b;
    case '>=': return a >= b;
    case '==': return a === b;
    case '!=': return a !== b;
  }
}

function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 3 : 1);
}

function measureHistogram(t: Threshold, h: HistogramLike | undefined): ThresholdEvaluation {
  const a = t.aggregate;
  if (a.kind === 'count') {
    const n = h?.totalCount ?? 0;
    return { value: n, ok: compare(n, t.op, t.value), display: String(n) };
  }
  if (!h || h.totalCount === 0) return NO_DATA;
  const v =
    a.kind === 'p' ? h.getValueAtPercentile(a.percentile)
    : a.kind === 'med' ? h.getValueAtPercentile(50)
    : a.kind === 'avg' ? h.mean
    : a.kind === 'min' ? h.minNonZeroValue
    : h.maxValue;
  return { value: v, ok: compare(v, t.op, t.value), display: formatMicros(v) };
}

function measureCounter(t: Threshold, source: ThresholdSource): ThresholdEvaluation {
  const total = source.counter(t.metric);
  if (total === undefined) return NO_DATA;
  if (t.aggregate.kind === 'count') return { value: total, ok: compare(total, t.op, t.value), display: formatNumber(total) };
  const denominators = SHARE_OF[t.metric];
  if (denominators) {
    let attempts = 0;
    for (const d of denominators) {
      const n = d === 'telemetry.generated' && source.telemetryGenerated !== undefined ? source.telemetryGenerated : source.counter(d);
      if (n === undefined) return NO_DATA;
      attempts += n;
    }
    if (attempts === 0) return NO_DATA;
    const share = total / attempts;
    return { value: share, ok: compare(share, t.op, t.value), display: `${(share * 100).toFixed(share < 0.1 ? 3 : 2)}% (${formatNumber(total)}/${formatNumber(attempts)})` };
  }
  if (!(source.durationSec > 0)) return NO_DATA;
  const perSec = total / source.durationSec;
  return { value: perSec, ok: compare(perSec, t.op, t.value), display: `${formatNumber(perSec)}/s` };
}

function measureGauge(t: Threshold, def: MetricDef, source: ThresholdSource): ThresholdEvaluation {
  const g = source.gauge(t.metric);
  if (g === undefined) return NO_DATA;
  const finalOnly = typeof g === 'number';
  const v = finalOnly ? g : t.aggregate.kind === 'min' ? g.min : t.aggregate.kind === 'avg' ? g.avg : g.max;
  const shown = def.unit === 'ms' ? formatMicros(v * 1000) : formatNumber(v);
  return { value: v, ok: compare(v, t.op, t.value), display: finalOnly ? `${shown} (final value)` : shown };
}

function measureRollout(t: Threshold, source: ThresholdSource): ThresholdEvaluation {
  if (t.aggregate.kind !== 'p') return NO_DATA;
  const share = t.aggregate.percentile / 100;
  const us = source.timeToShare?.(t.metric, share);
  if (us === undefined) return NO_DATA;
  if (us === null) return { value: null, ok: false, display: `${formatNumber(t.aggregate.percentile)}% never reached` };
  return { value: us, ok: compare(us, t.op, t.value), display: formatMicros(us) };
}

/** Measures one threshold against a source. Never throws for missing data: that is `ok: false`. */
export function evaluateThreshold(t: Threshold, source: ThresholdSource): ThresholdEvaluation {
  const def = metricDef(t.metric);
  if (!def) return { value: null, ok: false, display: `unknown metric ${t.metric}` };
  if (def.kind === 'histogram') return measureHistogram(t, source.histogram(t.metric));
  if (def.kind === 'counter') return measureCounter(t, source);
  if (def.kind === 'rollout') return measureRollout(t, source);
  return measureGauge(t, def, source);
}

/** A source over plain records: totals by name, merged histograms by name, gauges by name. */
export function thresholdSourceFrom(parts: {
  durationSec: number;
  counters: Readonly<Record<string, number>>;
  histograms: Readonly<Record<string, HistogramLike>>;
  gauges?: Readonly<Record<string, GaugeStats | number>>;
  timeToShare?: ThresholdSource['timeToShare'];
}): ThresholdSource {
  return {
    timeToShare: parts.timeToShare,
    durationSec: parts.durationSec,
    counter: (name) => parts.counters[name],
    histogram: (name) => parts.histograms[name],
    gauge: (name) => parts.gauges?.[name],
  };
}
