import { afterAll, describe, expect, test } from 'vitest';
import { newHistogram, recordMicros } from '../../src/metrics/histogram.js';
import { formatDuration, formatMicros } from '../../src/metrics/format.js';
import {
  compileThreshold,
  evaluateThreshold,
  parseThresholdExpression,
  thresholdSourceFrom,
  type Threshold,
  type ThresholdSource,
} from '../../src/metrics/thresholds.js';

function compiled(metric: string, expression: string): Threshold {
  const r = compileThreshold(metric, expression);
  if (!r.ok) throw new Error(`${metric}: ${expression}: ${r.message}`);
  return r.value;
}

function problem(metric: string, expression: string): { kind: string; message: string; hint: string } {
  const r = compileThreshold(metric, expression);
  if (r.ok) throw new Error(`${metric}: ${expression} compiled`);
  return r;
}

describe('parsing the k6 grammar', () => {
  test.each([
    ['p(99) < 500ms', { kind: 'p', percentile: 99 }, '<', 500_000, 'time'],
    ['p(99.9)<=2s', { kind: 'p', percentile: 99.9 }, '<=', 2_000_000, 'time'],
    ['  avg > 250us ', { kind: 'avg' }, '>', 250, 'time'],
    ['med >= 250µs', { kind: 'med' }, '>=', 250, 'time'],
    ['min != 1m', { kind: 'min' }, '!=', 60_000_000, 'time'],
    ['max < 1.5', { kind: 'max' }, '<', 1.5, 'none'],
    ['count == 0', { kind: 'count' }, '==', 0, 'none'],
    ['rate < 5%', { kind: 'rate' }, '<', 0.05, 'percent'],
    ['rate > 120/m', { kind: 'rate' }, '>', 2, 'per_sec'],
  ] as const)('%s', (text, aggregate, op, amount, unit) => {
    const r = parseThresholdExpression(text);
    expect(r).toEqual({ ok: true, value: { aggregate, op, amount, unit } });
  });

  test.each([
    ['p99 < 500ms', 'unknown aggregate "p99"', 'write p(99)'],
    ['p(0) < 5ms', 'percentile above 0', 'p(95)'],
    ['p(101) < 5ms', 'at most 100', 'p(99)'],
    ['mean < 5ms', 'unknown aggregate "mean"', 'aggregates: p(N), avg'],
    ['avg = 5ms', '"=" is not a comparison', 'use =='],
    ['avg 5ms', 'no comparison operator', 'operators'],
    ['avg < fast', '"fast" is not a number', '500ms'],
    ['avg < 5 parsecs', 'is not a number', '2s'],
    ['', 'does not start with an aggregate', 'p(99) < 500ms'],
  ])('%j is a syntax error', (text, message, hint) => {
    const r = parseThresholdExpression(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.kind).toBe('syntax');
    expect(r.message).toContain(message);
    expect(r.hint).toContain(hint);
  });
});

describe('compiling against the metric catalog', () => {
  test('latency values are µs; a plain number on a latency is milliseconds (as in k6)', () => {
    expect(compiled('provision.latency', 'p(95) < 200').value).toBe(200_000);
    expect(compiled('poll.latency', 'avg < 2s').value).toBe(2_000_000);
    expect(compiled('poll.latency', 'count > 10').value).toBe(10);
  });

  test('ms gauges take durations in ms; other gauges plain numbers', () => {
    expect(compiled('generator.schedule_lag', 'max < 2s').value).toBe(2000);
    expect(compiled('generator.schedule_lag', 'max < 250').value).toBe(250);
    expect(compiled('devices.online', 'min >= 90').value).toBe(90);
    expect(problem('devices.online', 'min >= 90ms').kind).toBe('mismatch');
  });

  test('ratio counters take fractions or percentages; other counters per-second rates', () => {
    expect(compiled('telemetry.failed', 'rate < 1%').value).toBe(0.01);
    expect(compiled('provision.ok', 'rate >= 0.99').value).toBe(0.99);
    expect(compiled('telemetry.sent', 'rate > 20/s').value).toBe(20);
    expect(compiled('telemetry.sent', 'rate > 20').value).toBe(20);
    expect(problem('telemetry.failed', 'rate < 5').message).toContain('a fraction');
    expect(problem('telemetry.sent', 'rate < 5%').hint).toContain('share-of-attempts rates exist for: telemetry.failed');
  });

  test('aggregates must fit the metric kind, and units must fit the aggregate', () => {
    expect(problem('telemetry.failed', 'p(99) < 5ms').message).toContain('does not apply to telemetry.failed (a counter)');
    expect(problem('provision.latency', 'rate < 5%').hint).toContain('p(N), avg, med, min, max, count');
    expect(problem('devices.online', 'count > 1').kind).toBe('mismatch');
    expect(problem('provision.latency', 'p(99) < 5%').message).toContain('is a duration, not a percentage');
    expect(problem('telemetry.failed', 'count < 5ms').message).toContain('takes no unit');
  });

  test('an unknown metric is its own problem kind, with the known names', () => {
    const p = problem('telemetry.lst', 'count == 0');
    expect(p.kind).toBe('unknown_metric');
    expect(p.hint).toContain('telemetry.lost');
  });
});

describe('evaluating', () => {
  const h = newHistogram();
  for (let i = 1; i <= 1000; i++) recordMicros(h, i * 1000); // 1 ms .. 1 s, uniform
  const empty = newHistogram();
  afterAll(() => {
    h.destroy();
    empty.destroy();
  });
  const source: ThresholdSource = thresholdSourceFrom({
    durationSec: 10,
    counters: {
      'telemetry.generated': 1000,
      'telemetry.failed': 5,
      'telemetry.sent': 990,
      'telemetry.lost': 0,
      'provision.ok': 99,
      'provision.failed': 1,
      'poll.ok': 0,
      'poll.failed': 0,
    },
    histograms: { 'provision.latency': h, 'poll.latency': empty },
    gauges: { 'devices.online': { min: 10, max: 100, avg: 80 }, 'generator.schedule_lag': 12 },
  });
  const run = (metric: string, expression: string) => evaluateThreshold(compiled(metric, expression), source);

  test('percentiles and stats come from the histogram, in µs, with a display', () => {
    const p99 = run('provision.latency', 'p(99) < 500ms');
    expect(p99.ok).toBe(false);
    expect(p99.value! / 1000).toBeCloseTo(990, -1);
    expect(p99.display).toMatch(/^99\d\.\dms$/);
    expect(run('provision.latency', 'p(50) < 600ms').ok).toBe(true);
    expect(run('provision.latency', 'med < 400ms').ok).toBe(false);
    expect(run('provision.latency', 'avg <= 501ms').ok).toBe(true);
    expect(run('provision.latency', 'min >= 1ms').ok).toBe(true);
    expect(run('provision.latency', 'max > 999ms').ok).toBe(true);
    expect(run('provision.latency', 'count == 1000')).toEqual({ value: 1000, ok: true, display: '1000' });
  });

  test('no data fails with "no data", never passes', () => {
    expect(run('poll.latency', 'p(99) < 1h')).toEqual({ value: null, ok: false, display: 'no data' });
    expect(run('mqtt.connect.latency', 'avg < 1h')).toEqual({ value: null, ok: false, display: 'no data' });
    expect(run('poll.failed', 'rate < 1%')).toEqual({ value: null, ok: false, display: 'no data' });
    expect(run('errors.network', 'count == 0')).toEqual({ value: null, ok: false, display: 'no data' });
    expect(run('telemetry.buffered', 'max < 10')).toEqual({ value: null, ok: false, display: 'no data' });
    // A histogram with no samples has a count, and it is 0.
    expect(run('poll.latency', 'count == 0')).toEqual({ value: 0, ok: true, display: '0' });
  });

  test('counter totals and rates: ratio counters as a share of attempts, others per second', () => {
    expect(run('telemetry.lost', 'count == 0')).toEqual({ value: 0, ok: true, display: '0' });
    const failed = run('telemetry.failed', 'rate < 1%');
    expect(failed.value).toBeCloseTo(0.005);
    expect(failed.ok).toBe(true);
    expect(failed.display).toBe('0.500% (5/1000)');
    expect(run('telemetry.failed', 'rate < 0.1%').ok).toBe(false);
    expect(run('provision.ok', 'rate >= 99%').value).toBeCloseTo(0.99);
    expect(run('telemetry.sent', 'rate > 98/s')).toEqual({ value: 99, ok: true, display: '99/s' });
  });

  test('telemetryGenerated, when given, is the telemetry ratio denominator', () => {
    const t = compiled('telemetry.failed', 'rate < 1%');
    const r = evaluateThreshold(t, { ...source, counter: source.counter, telemetryGenerated: 100 });
    expect(r.value).toBeCloseTo(0.05);
    expect(r.ok).toBe(false);
  });

  test('gauges: stats when the source has them, the final value (said so) when it has only that', () => {
    expect(run('devices.online', 'min >= 10').ok).toBe(true);
    expect(run('devices.online', 'avg > 80').ok).toBe(false);
    expect(run('devices.online', 'max == 100').value).toBe(100);
    expect(run('generator.schedule_lag', 'max < 2s')).toEqual({ value: 12, ok: true, display: '12.0ms (final value)' });
  });

  test('every operator compares as written', () => {
    const at = (op: string) => run('telemetry.failed', `count ${op} 5`).ok;
    expect([at('<'), at('<='), at('>'), at('>='), at('=='), at('!=')]).toEqual([false, true, false, true, true, false]);
  });
});

describe('fleet-operation outcomes (issue 12)', () => {
  const source: ThresholdSource = thresholdSourceFrom({
    durationSec: 3600,
    counters: {
      'update.success': 95,
      'update.failed': 3,
      'update.rolled_back': 2,
      'update.offered': 100,
      'campaign.started': 1,
      'campaign.aborted': 1,
      'campaign.failures': 5,
    },
    histograms: {},
    // 50% after 10 min, 95% after 40 min, 99% never.
    timeToShare: (name, share) => (name !== 'campaign.time_to_updated' ? undefined : share <= 0.5 ? 600e6 : share <= 0.95 ? 2400e6 : null),
  });
  const run = (metric: string, expression: string) => evaluateThreshold(compiled(metric, expression), source);

  test('update.failed: "rate < 3%" is the share of finished updates, not a rate per second', () => {
    // Rejected before: "rate of update.failed is per second".
    expect(compiled('update.failed', 'rate < 3%').value).toBe(0.03);
    expect(run('update.failed', 'rate < 3%')).toEqual({ value: 0.03, ok: false, display: '3.000% (3/100)' });
    expect(run('update.failed', 'rate <= 3%').ok).toBe(true);
    expect(run('update.rolled_back', 'rate < 3%').ok).toBe(true);
    expect(run('update.incompatible', 'rate < 1%')).toEqual({ value: null, ok: false, display: 'no data' });
  });

  test('the failure share of a campaign is the share abortIf compares: (failed + rolled back) / finished', () => {
    expect(run('campaign.failures', 'rate > 3%')).toMatchObject({ ok: true, display: '5.000% (5/100)' });
    expect(run('campaign.failures', 'count == 5').ok).toBe(true);
  });

  test('an aborted campaign is asserted directly', () => {
    expect(run('campaign.aborted', 'count == 1').ok).toBe(true);
    expect(run('campaign.aborted', 'count == 0').ok).toBe(false);
    expect(run('campaign.aborted', 'rate == 100%').ok).toBe(true);
  });

  test('time to N% of the fleet is p(N) of campaign.time_to_updated; a share never reached fails', () => {
    expect(compiled('campaign.time_to_updated', 'p(95) < 1h').value).toBe(3_600_000_000);
    expect(run('campaign.time_to_updated', 'p(50) < 15m')).toEqual({ value: 600e6, ok: true, display: '10m00s' });
    expect(run('campaign.time_to_updated', 'p(95) < 30m').ok).toBe(false);
    expect(run('campaign.time_to_updated', 'p(99) < 10h')).toEqual({ value: null, ok: false, display: '99% never reached' });
    expect(problem('campaign.time_to_updated', 'avg < 1h').hint).toContain('p(N)');
    expect(problem('campaign.time_to_updated', 'p(95) < 5%').message).toContain('is a duration');
  });

  test('devices still pending approval: a gauge of devices', () => {
    expect(compiled('devices.awaiting_approval', 'max == 0').value).toBe(0);
    const s = thresholdSourceFrom({ durationSec: 10, counters: {}, histograms: {}, gauges: { 'devices.awaiting_approval': 7 } });
    expect(evaluateThreshold(compiled('devices.awaiting_approval', 'max == 0'), s)).toEqual({ value: 7, ok: false, display: '7 (final value)' });
  });
});

describe('durations for people', () => {
  test.each([
    [999.6, '1.00s'],
    [59_960, '1m00s'],
    [3_599_600, '1h00m'],
    [5 * 3_600_000 + 59.6 * 60_000, '6h00m'], // was "5h60m"
    [90 * 60_000 + 29_000, '1h30m'],
    [47 * 3_600_000 + 59.7 * 60_000, '2d00h'],
    [4 * 86_400_000 + 6 * 3_600_000, '4d06h'],
  ])('%d ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test('latencies past a minute read as durations', () => {
    expect(formatMicros(999.7)).toBe('1.00ms');
    expect(formatMicros(59_999_000)).toBe('1m00s');
    expect(formatMicros(2_400e6)).toBe('40m00s');
  });
});
