import { describe, expect, test } from 'vitest';
import { buildSweepSummary, errorRateOf, findKnee, KNEE_MIN_ERRORS, KNEE_MIN_SAMPLES, KNEE_RULE, pointOfError, sweepResult, type KneeInput, type SweepPoint } from '../../src/summary/sweep-summary.js';
import { renderSweepHtml, sweepPlots } from '../../src/report/sweep-html.js';
import { renderSweepSvg } from '../../src/report/sweep-svg.js';
import { formatSweepTable } from '../../src/report/sweep-console.js';
import { parseSizes } from '../../src/cli/commands/sweep.js';
import { FleetsimError } from '../../src/errors/fleetsim-error.js';

/** A size with p99s (each from 1,000 samples), failed thresholds as `metric: expression`, and failed of attempted operations. */
const k = (devices: number, p99: Record<string, number>, failedThresholds: string[] = [], failed = 0, attempted = 10_000): KneeInput => ({
  devices,
  p99,
  samples: Object.fromEntries(Object.keys(p99).map((m) => [m, 1_000])),
  failedThresholds: failedThresholds.map((t) => ({ metric: t.slice(0, t.indexOf(':')), expression: t.slice(t.indexOf(':') + 2) })),
  failed,
  attempted,
});

describe('findKnee', () => {
  test('no knee when p99s stay under twice the smallest size and every threshold holds', () => {
    expect(findKnee([k(5, { a: 10_000 }), k(500, { a: 19_999 }), k(50_000, { a: 15_000 })])).toBeNull();
  });

  test('the first size whose p99 reaches 2x its value at the smallest size (exactly 2x counts)', () => {
    const knee = findKnee([k(5, { a: 10_000, b: 1_000 }), k(500, { a: 12_000, b: 1_500 }), k(5_000, { a: 20_000, b: 1_000 }), k(50_000, { a: 90_000, b: 9_000 })]);
    expect(knee?.devices).toBe(5_000);
    expect(knee?.reasons).toEqual(['a p99 20.0ms (1,000 samples) is 2.0× its 10.0ms at 5 devices (1,000 samples)']);
  });

  test('the first size that fails a threshold not about errors, even the smallest, with every reason', () => {
    expect(findKnee([k(5, { a: 10 }, ['x: count > 3']), k(50, { a: 100 })])).toEqual({ devices: 5, reasons: ['threshold x: count > 3 failed'] });
    const knee = findKnee([k(5, { a: 10_000 }), k(50, { a: 30_000 }, ['a: p(99) < 25ms'])]);
    expect(knee).toEqual({ devices: 50, reasons: ['threshold a: p(99) < 25ms failed', 'a p99 30.0ms (1,000 samples) is 3.0× its 10.0ms at 5 devices (1,000 samples)'] });
  });

  test('one failed message out of thousands is no knee, though its `count == 0` threshold fails', () => {
    expect(findKnee([k(5, { a: 10_000 }), k(5_000, { a: 11_000 }, ['telemetry.failed: count == 0'], 1, 48_000)])).toBeNull();
    // Many failures that are a small share, or a large share of a handful, are no knee either ...
    expect(findKnee([k(5, {}, [], KNEE_MIN_ERRORS - 1, KNEE_MIN_ERRORS), k(50_000, {}, [], 500, 100_000)])).toBeNull();
    // ... enough of them and a real share are, with the sample behind the rate.
    expect(findKnee([k(5, {}), k(50_000, {}, ['telemetry.failed: count == 0'], 1_200, 100_000)])).toEqual({ devices: 50_000, reasons: ['1,200 of 100,000 operations failed (1.2%)'] });
    expect(KNEE_RULE).toMatch(/at least 10 operations failed and they are at least 1% of those attempted/);
  });

  test('sorts by size first, and takes the reference of a metric from the smallest size that has it', () => {
    expect(findKnee([k(50_000, { a: 40_000, b: 30_000 }), k(500, { a: 20_000, b: 10_000 }), k(5, { a: 19_000 })])?.devices).toBe(50_000);
    expect(findKnee([k(5, {}), k(500, { b: 10_000 }), k(5_000, { b: 19_000 })])).toBeNull();
  });

  test('a zero reference never marks a knee', () => {
    expect(findKnee([k(5, { a: 0 }), k(500, { a: 10 })])).toBeNull();
  });

  test('the sweep ignores p99s of fewer than KNEE_MIN_SAMPLES samples (a tiny fleet has no real p99)', () => {
    const point = (devices: number, count: number, p99: number): SweepPoint => ({
      ...pointOfError(devices, '', 0),
      runId: `r${devices}`,
      dir: `size-${devices}`,
      verdict: 'passed',
      latencies: { lat: { count, p50: p99 / 4, p95: p99 / 2, p99 } },
      throughputPerSec: devices,
      errorRate: 0,
    });
    const sweep = (points: SweepPoint[]) => buildSweepSummary({ sweep: { id: 's', scenario: 'x', scenarioFile: 'x.yaml', seed: 1, clock: 'virtual', workers: 1 }, sizes: points.map((p) => p.devices), version: '0', startedAt: new Date(0), endedAt: new Date(1000), interrupted: false, points });
    expect(sweep([point(5, KNEE_MIN_SAMPLES - 1, 10_000), point(500, 1_000, 50_000), point(5_000, 10_000, 60_000)]).knee).toBeNull();
    expect(sweep([point(5, KNEE_MIN_SAMPLES, 10_000), point(500, 1_000, 50_000)]).knee?.devices).toBe(500);
  });
});

describe('sweepResult', () => {
  const p = (devices: number, verdict: SweepPoint['verdict']): SweepPoint => ({ ...pointOfError(devices, 'x', 1), verdict });
  test('0 when every size passed; 99 when any failed thresholds; 3 when invalid; 1 on an error; 130 interrupted', () => {
    expect(sweepResult([p(5, 'passed'), p(50, 'passed')], false).exitCode).toBe(0);
    expect(sweepResult([p(5, 'passed'), p(50, 'thresholds_failed')], false)).toEqual({ verdict: 'thresholds_failed', exitCode: 99, reasons: ['thresholds failed at 50 devices'] });
    expect(sweepResult([p(5, 'invalid'), p(50, 'thresholds_failed')], false).exitCode).toBe(99);
    expect(sweepResult([p(5, 'invalid'), p(50, 'passed')], false).exitCode).toBe(3);
    expect(sweepResult([p(5, 'error'), p(50, 'thresholds_failed')], false).exitCode).toBe(1);
    expect(sweepResult([p(5, 'passed')], true).exitCode).toBe(130);
  });
});

test('errorRateOf: failed operations over attempted operations; null with no attempts', () => {
  expect(errorRateOf({ 'telemetry.generated': 90, 'telemetry.failed': 2, 'telemetry.dropped': 1, 'provision.ok': 9, 'provision.failed': 1 })).toBeCloseTo(4 / 100, 12);
  expect(errorRateOf({})).toBeNull();
});

describe('parseSizes', () => {
  test('whole sizes with k/M suffixes, deduplicated and ascending', () => {
    expect(parseSizes('500000,5, 500,50k,5')).toEqual([5, 500, 50_000, 500_000]);
    expect(parseSizes('0.5M,1.5k')).toEqual([1_500, 500_000]);
  });
  test.each(['', '5,,6', '0', '-5', '2.5', 'ten', '1.00001k'])('refuses %j with a usage error (exit 2)', (text) => {
    let err: unknown;
    try {
      parseSizes(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FleetsimError);
    expect((err as FleetsimError).exitCode).toBe(2);
  });
});

describe('sweep.html and the console table from a synthetic sweep', () => {
  const HOSTILE = 'sweep <script>alert(1)</script>';
  const point = (devices: number, p99: number, ok: boolean): SweepPoint => ({
    devices, runId: `run-${devices}`, dir: `size-${devices}`, durationMs: 10_000, wallMs: 500,
    latencies: { 'telemetry.ack.latency': { count: devices * 10, p50: p99 / 5, p95: p99 / 2, p99 } },
    throughputPerSec: devices / 10, errorRate: ok ? 0 : 0.02,
    thresholds: [{ metric: 'telemetry.ack.latency', expression: 'p(99) < 100ms', display: `${p99 / 1000}ms`, ok }],
    verdict: ok ? 'passed' : 'thresholds_failed', exitCode: ok ? 0 : 99, reasons: [],
  });
  const sweep = buildSweepSummary({
    sweep: { id: 'sw-1', scenario: HOSTILE, scenarioFile: '/x.yaml', seed: 1, clock: 'virtual', workers: 2 }, sizes: [5, 500, 50_000], version: '0.1.0',
    startedAt: new Date(0), endedAt: new Date(3_000), interrupted: false,
    points: [point(50_000, 250_000, false), point(5, 20_000, true), point(500, 30_000, true), pointOfError(500_000, 'FLEETSIM_E_RESOURCE_LIMIT: too many', 2)],
  });

  test('the summary sorts sizes, finds the knee and the exit code', () => {
    expect(sweep.points.map((p) => p.devices)).toEqual([5, 500, 50_000, 500_000]);
    expect(sweep.knee?.devices).toBe(50_000);
    expect(sweep.result.exitCode).toBe(1);
  });

  test('plots have a point per measured size, on a log x axis with the knee marked', () => {
    const plots = sweepPlots(sweep);
    expect(plots.map((p) => p.id)).toEqual(['p99-latency', 'throughput', 'error-rate']);
    for (const p of plots) expect(p.series[0].points.map(([x]) => x)).toEqual([5, 500, 50_000]);
    const svg = renderSweepSvg(plots[0]);
    expect(svg).toContain('data-knee="50000"');
    for (const label of ['>10<', '>100<', '>1k<', '>10k<']) expect(svg).toContain(label);
    expect(svg).not.toContain('NaN');
  });

  test('the page escapes names and links each size to its report', () => {
    const html = renderSweepHtml(sweep);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('sweep &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('href="size-500/report.html"');
    expect(html).toContain('Knee at 50,000 devices');
  });

  test('the table has one row per size and names the knee', () => {
    const table = formatSweepTable(sweep);
    for (const n of ['5', '500', '50,000', '500,000']) expect(table).toMatch(new RegExp(`^\\s+${n}\\s`, 'm'));
    expect(table).toContain('KNEE at 50,000 devices');
    expect(table).toContain('(exit 1)');
  });
});
