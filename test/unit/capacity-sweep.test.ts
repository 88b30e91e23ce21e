import { describe, expect, test } from 'vitest';
import { parseBackendSweep, withBackendParameter } from '../../src/scenario/backend-parameter.js';
import { buildSweepSummary, capacityAnswer, pointOfError, type SweepPoint } from '../../src/summary/sweep-summary.js';
import { parseScenarioText } from '../../src/scenario/load.js';
import { FleetsimError } from '../../src/errors/fleetsim-error.js';
import { renderSweepHtml } from '../../src/report/sweep-html.js';

const point = (capacity: number, p99Us: number, ok: boolean): SweepPoint => ({
  ...pointOfError(1000, '', 0),
  runId: `r${capacity}`,
  dir: `capacity-${capacity}`,
  capacity,
  verdict: ok ? 'passed' : 'thresholds_failed',
  exitCode: ok ? 0 : 99,
  reasons: [],
  thresholds: [{ metric: 'mqtt.connect.latency', expression: 'p(99) < 2s', display: `${p99Us / 1e6}s`, ok, value: p99Us }],
});

describe('capacity sweep', () => {
  test('--over parses lists and ranges and refuses what is not a backend capacity', () => {
    expect(parseBackendSweep('backend.connect.servers=16,4,8,4')).toEqual({ parameter: { name: 'backend.connect.servers', op: 'connect', field: 'servers' }, values: [4, 8, 16] });
    expect(parseBackendSweep('backend.poll.servers=2..5').values).toEqual([2, 3, 4, 5]);
    expect(parseBackendSweep('backend.poll.capacity=50,100').parameter.field).toBe('capacity');
    expect(() => parseBackendSweep('backend.connect.servers=2,0')).toThrow(FleetsimError);
    expect(() => parseBackendSweep('backend.login.servers=2')).toThrow(/not a backend parameter/);
    expect(() => parseBackendSweep('backend.connect.servers=2.5')).toThrow(/whole numbers/);
  });

  test('a parameter value makes the operation queue; capacity becomes servers by the mean service time', () => {
    const s = parseScenarioText('name: x\nduration: 1m\nclock: virtual\nfleet: [{ profile: rpi4-gateway, count: 5 }]\narrival: { rate: 5/s }\nbackend: { connect: { service: { distribution: constant, mean: 50ms } } }\n');
    expect(s.backend.ops.connect.servers).toBe(Infinity);
    expect(withBackendParameter(s, parseBackendSweep('backend.connect.servers=8').parameter, 8).backend.ops.connect.servers).toBe(8);
    expect(withBackendParameter(s, parseBackendSweep('backend.connect.capacity=200').parameter, 200).backend.ops.connect.servers).toBe(10);
    expect(s.backend.ops.connect.servers).toBe(Infinity); // the scenario itself is untouched
  });

  test('the answer is the smallest passing value; the curve holds the first threshold; a non-monotone curve is flagged', () => {
    const pts = [point(32, 24e6, false), point(64, 2.4e6, false), point(96, 1.6e6, true), point(128, 2.1e6, false), point(192, 0.8e6, true)];
    const first = { metric: 'mqtt.connect.latency', expression: 'p(99) < 2s', value: 2e6 };
    const a = capacityAnswer('backend.connect.servers', pts, first);
    expect(a.chosen).toBe(96);
    expect(a.failedAbove).toEqual([128]);
    expect(a.curve?.points).toEqual([[32, 24e6], [64, 2.4e6], [96, 1.6e6], [128, 2.1e6], [192, 0.8e6]]);
    const none = capacityAnswer('backend.connect.servers', [point(32, 24e6, false)], first);
    expect(none.chosen).toBeNull();

    const sweep = (capacity: typeof a, points: SweepPoint[]) => buildSweepSummary({ sweep: { id: 's', scenario: 'x', scenarioFile: 'x.yaml', seed: 1, clock: 'virtual', workers: 1 }, sizes: [1000], version: '0', startedAt: new Date(0), endedAt: new Date(0), interrupted: false, points, capacity });
    const passed = sweep(a, pts);
    expect(passed.result.verdict).toBe('passed');
    expect(passed.knee).toBeNull();
    expect(sweep(none, [point(32, 24e6, false)]).result.verdict).toBe('thresholds_failed');
    const html = renderSweepHtml(passed);
    expect(html).toContain('data-plot="capacity-curve" data-points="5"');
    expect(html).toContain('data-knee="96"');
    expect(html).toContain('data-bound="2000000"');
  });
});
