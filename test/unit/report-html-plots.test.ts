import { describe, expect, it } from 'vitest';
import { decodeHistogram, newHistogram } from '../../src/metrics/histogram.js';
import { buildPlots, MAX_POINTS_PER_SERIES, ninesOf, pointCount } from '../../src/report/html-plots.js';
import { renderHtml } from '../../src/report/html.js';
import { syntheticRun } from '../helpers/synthetic-run.js';

describe('report plots', () => {
  it('draws fleet plots only for the optional fields a summary carries', () => {
    const plain = syntheticRun({ intervals: 10, devices: 20 });
    const ids = buildPlots(plain.summary, plain.timeline).map((p) => p.id);
    expect(ids).not.toEqual(expect.arrayContaining(['rollout']));
    expect(ids.filter((id) => ['rollout', 'offline-share', 'config-propagation', 'battery-lifetime'].includes(id))).toEqual([]);
    expect(renderHtml(plain.summary, plain.timeline)).not.toContain('id="fleet"');

    const withOffline = structuredClone(plain.summary);
    withOffline.fleet = { offlineShare: [[0, 0.1], [5000, 0.2]] };
    const fleetIds = buildPlots(withOffline, plain.timeline).filter((p) => p.section === 'fleet').map((p) => p.id);
    expect(fleetIds).toEqual(['offline-share']);

    const full = syntheticRun({ intervals: 10, devices: 20, full: true });
    expect(buildPlots(full.summary, full.timeline).filter((p) => p.section === 'fleet').map((p) => p.id)).toEqual(['rollout', 'offline-share', 'config-propagation', 'battery-lifetime']);
  });

  it('never emits a plot without points, and leaves out metrics without data', () => {
    const full = syntheticRun({ intervals: 10, devices: 20, full: true });
    const plots = buildPlots(full.summary, full.timeline);
    for (const p of plots) expect(pointCount(p), p.id).toBeGreaterThan(0);
    // Polls are off in a full run: no poll.latency plots.
    expect(plots.map((p) => p.id).filter((id) => id.includes('poll.latency'))).toEqual([]);
  });

  it('places the HDR curve on a nines axis with the maximum one nine past the last percentile', () => {
    expect(ninesOf(0)).toBe(0);
    expect(ninesOf(90)).toBeCloseTo(1, 9);
    expect(ninesOf(99.9)).toBeCloseTo(3, 9);
    const run = syntheticRun({ intervals: 10, devices: 20 });
    const hdr = buildPlots(run.summary, run.timeline).find((p) => p.id === 'hdr.telemetry.ack.latency')!;
    const pts = hdr.series[0].points;
    expect(hdr.x.maxAt).toBe(6);
    expect(pts[pts.length - 1]).toEqual([6, run.summary.histograms['telemetry.ack.latency'].stats.max]);
    // Monotone: latency never falls as the percentile rises.
    for (let i = 1; i < pts.length; i++) expect(pts[i][1]).toBeGreaterThanOrEqual(pts[i - 1][1]);
  });

  it('buckets long timelines, merging interval histograms exactly', () => {
    const run = syntheticRun({ intervals: 800, intervalMs: 10_000, devices: 2, shards: 1 });
    const plots = buildPlots(run.summary, run.timeline);
    for (const p of plots) for (const s of p.series) expect(s.points.length, p.id).toBeLessThanOrEqual(MAX_POINTS_PER_SERIES);
    const throughput = plots.find((p) => p.id === 'throughput')!.series.find((s) => s.name === 'sent')!;
    // Rates over buckets still add up to the run's total.
    const bucketMs = 20_000;
    const total = throughput.points.reduce((n, [, perSec]) => n + (perSec * bucketMs) / 1000, 0);
    expect(total).toBeCloseTo(run.summary.counters['telemetry.sent'], 6);
    expect(renderHtml(run.summary, run.timeline)).toContain('800 intervals shown as 400 points');
    // The last bucket's p99 is that of its two intervals' histograms added together.
    const merged = newHistogram();
    for (const row of run.timeline.slice(-2)) {
      const h = decodeHistogram(row.hdr!['telemetry.ack.latency']);
      merged.add(h);
      h.destroy();
    }
    const p99 = plots.find((p) => p.id === 'latency.telemetry.ack.latency')!.series.find((s) => s.name === 'p99')!.points.at(-1);
    expect(merged.totalCount).toBeGreaterThan(15);
    expect(p99).toEqual([8_000_000, merged.getValueAtPercentile(99)]);
    merged.destroy();
  });
});
