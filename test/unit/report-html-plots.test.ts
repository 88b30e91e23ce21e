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
    const plots = buildPlots(full.summary, full.timeline);
    expect(plots.filter((p) => p.section === 'fleet').map((p) => p.id)).toEqual(['offline-share', 'battery-lifetime', 'depleted', 'energy-by-activity']);
    expect(plots.filter((p) => p.section === 'fleet-ops').map((p) => p.id)).toEqual(['rollout', 'ota-failures', 'ota-bytes', 'ota-energy', 'command-rtt', 'config-propagation']);
    expect(renderHtml(plain.summary, plain.timeline)).not.toContain('id="fleet-ops"');
  });

  it('draws bars only for categories with a value, and marks time to 50/95/99% on the rollout', () => {
    const full = syntheticRun({ intervals: 10, devices: 20, full: true });
    const plots = buildPlots(full.summary, full.timeline);
    const energy = plots.find((p) => p.id === 'ota-energy')!;
    // rpi4-gateway committed no update (jPerUpdate null): no bar for it.
    expect(energy.x.categories).toEqual(['esp32-wifi-sensor', 'nrf9160-ltem-tracker <b>']);
    expect(energy.series[0].points).toEqual([[0, 38.4], [1, 61.2]]);
    const release = full.summary.fleet!.ota!.releases[0];
    expect(plots.find((p) => p.id === 'rollout')!.markers).toEqual([
      { x: release.startMs, label: 'start', series: release.release },
      { x: release.startMs + release.timeTo50Ms!, label: '50%', series: release.release },
      { x: release.startMs + release.timeTo95Ms!, label: '95%', series: release.release },
      { x: release.startMs + release.timeTo99Ms!, label: '99%', series: release.release },
      // The aborted beta reached no share: only its start is marked.
      { x: full.summary.fleet!.ota!.releases[1].startMs, label: 'start', series: 'app-2.1-beta' },
    ]);
  });

  it('bins the command round trip so that every answer is counted once', () => {
    const full = syntheticRun({ intervals: 10, devices: 20, full: true });
    const rtt = buildPlots(full.summary, full.timeline).find((p) => p.id === 'command-rtt')!;
    const h = full.summary.histograms['command.rtt'].stats;
    expect(rtt.series[0].points.reduce((n, [, c]) => n + c, 0)).toBe(h.count);
    expect(rtt.x.min).toBeLessThanOrEqual(h.min);
    expect(rtt.x.max).toBeGreaterThan(h.max);
    // Bins are contiguous and binWidth wide.
    const xs = rtt.series[0].points.map(([x]) => x);
    for (let i = 1; i < xs.length; i++) expect(xs[i] - xs[i - 1]).toBeCloseTo(rtt.binWidth!, 6);
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
