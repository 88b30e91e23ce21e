import { describe, expect, it } from 'vitest';
import { timeTick, xLabel, yTick } from '../../src/report/browser/format.js';
import type { PlotSpec } from '../../src/report/plot-spec.js';
import { ticks } from '../../src/report/browser/ticks.js';
import { renderSweepSvg } from '../../src/report/sweep-svg.js';

/** Axis labels read at the precision their ticks need, in one unit per axis. */
describe('axis labels', () => {
  it('a time axis uses one unit: days for a week, not "0s, 48h, 4d, 6d"', () => {
    const t = ticks('time', 0, 7 * 86_400_000, 5);
    const step = t[1] - t[0];
    expect(t.map((v) => timeTick(v, step))).toEqual(['0d', '2d', '4d', '6d']);
    const m = ticks('time', 0, 20 * 60_000, 5);
    expect(m.map((v) => timeTick(v, m[1] - m[0]))).toEqual(['0m', '5m', '10m', '15m', '20m']);
    const s = ticks('time', 0, 20_000, 5);
    expect(s.map((v) => timeTick(v, s[1] - s[0]))).toEqual(['0s', '5s', '10s', '15s', '20s']);
  });

  it('a battery-lifetime axis in days reads in one unit: "0y 2y 4y", not "0d 2.0y 4.0y"', () => {
    const spec = { x: { kind: 'linear', unit: 'days', label: 'days' } } as PlotSpec;
    const t = ticks('linear', 0, 5.8 * 365, 3, 'days');
    expect(t.map((v) => xLabel(spec, v, t[1] - t[0]))).toEqual(['0y', '2y', '4y']);
    const d = ticks('linear', 0, 400, 4, 'days');
    expect(d.map((v) => xLabel(spec, v, d[1] - d[0]))).toEqual(['0d', '100d', '200d', '300d', '400d']);
  });

  it('y ticks carry the decimals their step needs: no "0.00/s" on every tick', () => {
    const labels = [0, 0.002, 0.004, 0.006].map((v) => yTick('rate', v, 0.002));
    expect(labels).toEqual(['0/s', '0.002/s', '0.004/s', '0.006/s']);
    expect(new Set(labels).size).toBe(labels.length);
    expect([0, 0.25, 0.5].map((v) => yTick('share', v, 0.25))).toEqual(['0%', '25%', '50%']);
    expect([0, 500, 1000].map((v) => yTick('count', v, 500))).toEqual(['0', '500', '1000']);
  });

  it('the sweep error-rate axis tells its ticks apart (not "0.01%, 0.01%, 0.00%")', () => {
    const svg = renderSweepSvg({ id: 'e', title: 'Error rate', subtitle: '', y: { unit: 'share' }, series: [{ name: 'errors', points: [[5, 0.00004], [500, 0.00011], [5000, 0.00007]] }] });
    const labels = [...svg.matchAll(/text-anchor="end">([^<]*%)<\/text>/g)].map((m) => m[1]);
    expect(labels.length).toBeGreaterThan(2);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels).toEqual(['0%', '0.005%', '0.010%', '0.015%']);
  });
});
