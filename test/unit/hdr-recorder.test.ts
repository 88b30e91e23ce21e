import { describe, expect, it } from 'vitest';
import { encodeHistogram, HDR_HIGHEST_US, HdrRecorder, histogramStats, meanOf, newHistogram, recordMicros } from '../../src/metrics/histogram.js';
import { ShardMetrics } from '../../src/metrics/registry.js';
import { H } from '../../src/metrics/catalog.js';
import { uniform } from '../../src/models/rng.js';

/** Values where an index computation could slip: bucket edges, powers of two ± 1, the clamps. */
function edgeValues(): number[] {
  const v = [0, 0.2, 0.5, 0.6, 1, 1.49, 1.5, 2, 1023, 1024, 1025, 2047, 2047.5, 2048, 2049, 4095, 4096, 4097, HDR_HIGHEST_US, HDR_HIGHEST_US + 1, 5e9, 1e12];
  for (let k = 11; k < 32; k++) v.push(2 ** k - 1, 2 ** k, 2 ** k + 1, 2 ** k * 1.5);
  for (let x = 1; x < 70_000; x += 7) v.push(x);
  return v;
}

describe('HdrRecorder', () => {
  it('gives exactly the counts hdr-histogram-js records (same encoding, same stats)', () => {
    const values = edgeValues();
    for (let i = 0; i < 20_000; i++) values.push(Math.exp(uniform(4, i, 1, 0) * 22)); // 1 µs .. ~1 h, log-uniform
    const direct = newHistogram();
    const drained = newHistogram();
    const rec = new HdrRecorder();
    for (const v of values) {
      recordMicros(direct, v);
      rec.record(v);
    }
    expect(rec.total).toBe(values.length);
    rec.drainInto(drained);
    expect(rec.total).toBe(0);
    expect(drained.totalCount).toBe(direct.totalCount);
    expect(encodeHistogram(drained)).toBe(encodeHistogram(direct));
    expect(histogramStats(drained)).toEqual(histogramStats(direct));
    // Draining left it empty: a second drain adds nothing.
    rec.drainInto(drained);
    expect(drained.totalCount).toBe(direct.totalCount);
  });

  it('meanOf equals the library mean bit for bit', () => {
    const h = newHistogram();
    for (let i = 0; i < 5_000; i++) recordMicros(h, 8_000 * Math.exp(2 * (uniform(9, i, 2, 0) - 0.5)));
    expect(meanOf(h)).toBe(h.mean);
    expect(meanOf(newHistogram())).toBe(0);
  });

  it('ShardMetrics snapshots are what direct recording gives, shared pairs included', () => {
    const m = new ShardMetrics(0);
    const ack = newHistogram();
    const fromSchedule = newHistogram();
    for (let i = 0; i < 3_000; i++) {
      const a = 5_000 + uniform(2, i, 3, 0) * 50_000;
      const b = i % 3 === 0 ? a + 1_000 : a; // most samples shared, some not
      m.recordPair(H['telemetry.ack.latency'], H['telemetry.ack.latency_from_schedule'], a, b);
      if (Math.round(a) === Math.round(b)) {
        recordMicros(ack, Math.round(a));
        recordMicros(fromSchedule, Math.round(a));
      } else {
        recordMicros(ack, a);
        recordMicros(fromSchedule, b);
      }
    }
    const snap = m.snapshot(0, 1000);
    expect(snap.histograms[H['telemetry.ack.latency']]).toBe(encodeHistogram(ack));
    expect(snap.histograms[H['telemetry.ack.latency_from_schedule']]).toBe(encodeHistogram(fromSchedule));
    expect(snap.histograms[H['provision.latency']]).toBeNull();
    expect(m.snapshot(1, 2000).histograms[H['telemetry.ack.latency']]).toBeNull();
    m.destroy();
  });
});
