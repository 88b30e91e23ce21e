import { describe, expect, it } from 'vitest';
import { FleetsimError } from '../../src/errors/fleetsim-error.js';
import { compareSummaries, evaluateRule, parseRegressionRule } from '../../src/report/compare.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

function errorOf(fn: () => unknown): FleetsimError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FleetsimError) return err;
    throw err;
  }
  throw new Error('expected a FleetsimError');
}

describe('parseRegressionRule', () => {
  it('reads percentages, absolute durations, counts and the direction', () => {
    expect(parseRegressionRule('telemetry.ack.latency:p(99)=+10%')).toMatchObject({ metric: 'telemetry.ack.latency', kind: 'histogram', agg: 'p(99)', direction: 'increase', allowance: { kind: 'percent', value: 10 } });
    expect(parseRegressionRule('provision.latency:avg=+5ms').allowance).toEqual({ kind: 'absolute', value: 5000 });
    expect(parseRegressionRule('provision.latency:p(99.9)=+250us').allowance).toEqual({ kind: 'absolute', value: 250 });
    expect(parseRegressionRule('provision.latency:max=+1.5s').allowance).toEqual({ kind: 'absolute', value: 1_500_000 });
    expect(parseRegressionRule('telemetry.failed:count=+0')).toMatchObject({ kind: 'counter', agg: 'count', allowance: { kind: 'absolute', value: 0 } });
    expect(parseRegressionRule('telemetry.acked:rate=-5%')).toMatchObject({ direction: 'decrease', allowance: { kind: 'percent', value: 5 } });
    expect(parseRegressionRule('devices.online:value=-10')).toMatchObject({ kind: 'gauge', direction: 'decrease' });
    expect(parseRegressionRule('telemetry.ack.latency:count=-1%').kind).toBe('histogram');
  });

  it('rejects unknown metrics with FLEETSIM_E_UNKNOWN_METRIC (exit 2) and suggests names', () => {
    const e = errorOf(() => parseRegressionRule('telemetry.ack.latencyy:p(99)=+10%'));
    expect(e.code).toBe('FLEETSIM_E_UNKNOWN_METRIC');
    expect(e.exitCode).toBe(2);
    expect(e.hint).toContain('telemetry.ack.latency');
  });

  it('rejects bad syntax, aggregates that do not fit the metric, and unit mistakes as usage errors', () => {
    for (const bad of ['telemetry.ack.latency', 'telemetry.ack.latency:p(99)<10%', 'telemetry.failed:p(99)=+1%', 'devices.online:count=+1', 'telemetry.ack.latency:p(99)=+5', 'telemetry.failed:count=+5ms', 'telemetry.ack.latency:p(101)=+1%', 'telemetry.ack.latency:rate=+1%']) {
      const e = errorOf(() => parseRegressionRule(bad));
      expect(e.code, bad).toBe('FLEETSIM_E_USAGE');
      expect(e.hint, bad).toBeTruthy();
    }
  });
});

describe('compareSummaries', () => {
  const base = syntheticRun({ intervals: 20, devices: 80 }).summary;
  const slow = syntheticRun({ intervals: 20, devices: 80, tailFactor: 2 }).summary;

  it('finds no change between identical runs', () => {
    const c = compareSummaries(base, structuredClone(base), [parseRegressionRule('telemetry.ack.latency:p(99)=+0%'), parseRegressionRule('telemetry.acked:rate=-0%')]);
    expect(c.exitCode).toBe(0);
    expect(c.notes).toEqual([]);
    expect(c.histograms.every((r) => r.deltaPct === 0)).toBe(true);
    expect(c.counters.every((r) => r.delta === 0)).toBe(true);
  });

  it('compares whole distributions decoded from the HDR histograms: the tail doubles, the median stays', () => {
    const c = compareSummaries(base, slow);
    const row = (stat: string) => c.histograms.find((r) => r.metric === 'telemetry.ack.latency' && r.stat === stat)!;
    expect(row('p50').deltaPct).toBe(0);
    expect(row('p99').deltaPct!).toBeGreaterThan(95);
    expect(row('max').current).toBeCloseTo(2 * row('max').base!, -3);
    // Decoded, not copied: the encoded histogram agrees with the saved stats.
    expect(row('p99').base).toBe(base.histograms['telemetry.ack.latency'].stats.p99);
  });

  it('compares `rate` as a threshold reads it: a share of attempts for outcome counters, per second for the rest', () => {
    const worse = structuredClone(base);
    worse.counters['telemetry.failed'] = base.counters['telemetry.failed'] + 0.02 * base.counters['telemetry.generated'];
    const r = evaluateRule(parseRegressionRule('telemetry.failed:rate=+0.01'), base, worse);
    expect(r.base).toBeCloseTo(base.counters['telemetry.failed'] / base.counters['telemetry.generated'], 12);
    expect(r.current! - r.base!).toBeCloseTo(0.02, 12);
    expect(r.ok).toBe(false);
    expect(evaluateRule(parseRegressionRule('telemetry.acked:rate=-0%'), base, base).base).toBeCloseTo(base.counters['telemetry.acked'] / (base.run.durationMs / 1000), 9);
  });

  it('evaluates increase and decrease limits, percentages and absolute amounts', () => {
    const p99 = base.histograms['telemetry.ack.latency'].stats.p99;
    const inc = evaluateRule(parseRegressionRule('telemetry.ack.latency:p(99)=+10%'), base, slow);
    expect(inc).toMatchObject({ ok: false, base: p99, latency: true });
    expect(inc.limit).toBeCloseTo(p99 * 1.1, 6);
    expect(evaluateRule(parseRegressionRule('telemetry.ack.latency:p(99)=+150%'), base, slow).ok).toBe(true);
    expect(evaluateRule(parseRegressionRule('telemetry.ack.latency:p(50)=+1us'), base, slow).ok).toBe(true);
    // A fall passes an increase rule; a decrease rule caps how far a value may fall (p99 halves here).
    expect(evaluateRule(parseRegressionRule('telemetry.ack.latency:p(99)=+0%'), slow, base).ok).toBe(true);
    expect(evaluateRule(parseRegressionRule('telemetry.ack.latency:p(99)=-60%'), slow, base).ok).toBe(true);
    expect(evaluateRule(parseRegressionRule('telemetry.ack.latency:p(99)=-40%'), slow, base).ok).toBe(false);
  });

  it('fails a rule whose metric lost all its data, and skips one without baseline data', () => {
    const empty = structuredClone(base);
    empty.histograms['poll.latency'] = { stats: { count: 0, min: 0, max: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 }, encoded: base.histograms['provision.latency'].encoded };
    const rule = parseRegressionRule('poll.latency:p(99)=+10%');
    expect(evaluateRule(rule, base, empty)).toMatchObject({ ok: false, current: null, note: 'no data in the current run' });
    expect(evaluateRule(rule, empty, base)).toMatchObject({ ok: true, base: null });
  });

  it('notes comparisons that are not like for like', () => {
    const other = structuredClone(base);
    other.run.scenarioHash = 'f'.repeat(64);
    other.run.devices = 81;
    other.run.status = 'interrupted';
    const c = compareSummaries(base, other);
    expect(c.notes.join('\n')).toMatch(/different scenarios/);
    expect(c.notes.join('\n')).toMatch(/different fleet sizes/);
    expect(c.notes.join('\n')).toMatch(/CURRENT is not a valid measurement/);
  });

  it('notes a baseline from before telemetry.ack.latency became the backend-only latency', () => {
    expect(compareSummaries(base, structuredClone(base)).notes.join('\n')).not.toMatch(/predates/);
    const old = structuredClone(base);
    delete old.histograms['telemetry.ack.latency_end_to_end'];
    const note = compareSummaries(old, base).notes.join('\n');
    expect(note).toMatch(/the baseline predates telemetry\.ack\.latency_end_to_end: its telemetry\.ack\.latency includes the modelled link/);
  });
});
