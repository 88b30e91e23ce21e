import { describe, expect, it } from 'vitest';
import { addCounts, decodeHistogram, encodeHistogram, HDR_HIGHEST_US, HdrRecorder, histogramStats, meanOf, newHistogram, recordMicros, type HdrCounts, type Histogram } from '../../src/metrics/histogram.js';
import { MessageChannel } from 'node:worker_threads';
import { ShardMetrics, type MetricSnapshot } from '../../src/metrics/registry.js';
import { H } from '../../src/metrics/catalog.js';
import { uniform } from '../../src/models/rng.js';

/** Values where an index computation could slip: bucket edges, powers of two ± 1, the clamps. */
function edgeValues(): number[] {
  const v = [0, 0.2, 0.5, 0.6, 1, 1.49, 1.5, 2, 1023, 1024, 1025, 2047, 2047.5, 2048, 2049, 4095, 4096, 4097, HDR_HIGHEST_US, HDR_HIGHEST_US + 1, 5e9, 1e12];
  for (let k = 11; k < 32; k++) v.push(2 ** k - 1, 2 ** k, 2 ** k + 1, 2 ** k * 1.5);
  for (let x = 1; x < 70_000; x += 7) v.push(x);
  return v;
}

/** What the coordinator builds from a shard's counts. */
function fromCounts(counts: HdrCounts | null): Histogram {
  const h = newHistogram();
  if (counts) addCounts(h, counts);
  return h;
}

describe('HdrRecorder', () => {
  it('gives exactly the counts hdr-histogram-js records; the coordinator gets what decoding the encoding gave', () => {
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
    const counts = rec.drainCounts()!;
    expect(rec.total).toBe(0);
    // Shards send it through structured clone (worker ports, 'advanced' IPC): a typed array, copied
    // (or transferred) whole, of 32-bit integers while every count fits them.
    expect(counts).toBeInstanceOf(Int32Array);
    expect(structuredClone(counts)).toEqual(counts);
    addCounts(drained, counts);
    expect(drained.totalCount).toBe(direct.totalCount);
    expect(encodeHistogram(drained)).toBe(encodeHistogram(direct));
    // Snapshots used to travel encoded: min and max are those decoding gave (bucket bounds).
    const decoded = decodeHistogram(encodeHistogram(direct));
    expect([drained.minNonZeroValue, drained.maxValue]).toEqual([decoded.minNonZeroValue, decoded.maxValue]);
    expect(histogramStats(drained)).toEqual(histogramStats(decoded));
    // Added onto a histogram that already holds samples, as the coordinator's totals do.
    const more = decodeHistogram(encodeHistogram(direct));
    more.add(decoded);
    addCounts(drained, counts);
    expect(encodeHistogram(drained)).toBe(encodeHistogram(more));
    expect(histogramStats(drained)).toEqual(histogramStats(more));
    // Draining left it empty.
    expect(rec.drainCounts()).toBeNull();
  });

  it('drains every count exactly, from one index to thousands, directly and through a shared pair', () => {
    for (const n of [1, 300, 2_047, 2_048, 2_049, 6_000]) {
      const direct = newHistogram();
      const rec = new HdrRecorder();
      const pair = new HdrRecorder();
      const shared = new HdrRecorder();
      // n distinct indices (exact buckets below 2048, then every 4th value), each twice.
      const values = Array.from({ length: n }, (_, i) => (i < 1_500 ? 1 + i : 2_048 + 4 * i));
      for (const v of [...values, ...values]) {
        recordMicros(direct, v);
        rec.record(v);
        shared.record(v);
      }
      shared.addInto(pair);
      shared.clear();
      const fromRec = newHistogram();
      addCounts(fromRec, rec.drainCounts()!);
      const fromPair = newHistogram();
      addCounts(fromPair, pair.drainCounts()!);
      expect(encodeHistogram(fromRec)).toBe(encodeHistogram(direct));
      expect(encodeHistogram(fromPair)).toBe(encodeHistogram(direct));
      expect([rec.drainCounts(), pair.drainCounts(), shared.drainCounts()]).toEqual([null, null, null]);
    }
  });

  it('sends counts as the first index, then counts with runs of empty buckets as negatives', () => {
    const rec = new HdrRecorder();
    for (const v of [1503, 1500, 1500.4, 1499.6, 4096, 4097]) rec.record(v);
    // Exact buckets below 2048; from 4096 on, four values per bucket (index 3072 holds 4096-4099).
    expect(Array.from(rec.drainCounts()!)).toEqual([1500, 3, -2, 1, -1568, 2]);
    expect(rec.drainCounts()).toBeNull();
    const h = newHistogram();
    addCounts(h, [1500, 3, -2, 1, -1568, 2]);
    expect([h.totalCount, h.getCountAtValue(1500), h.getCountAtValue(1503), h.getCountAtValue(4097)]).toEqual([6, 3, 1, 2]);
    // As decoding gave: max is the top of its bucket.
    expect([h.minNonZeroValue, h.maxValue]).toEqual([1500, 4099]);
  });

  it('meanOf equals the library mean bit for bit', () => {
    const h = newHistogram();
    for (let i = 0; i < 5_000; i++) recordMicros(h, 8_000 * Math.exp(2 * (uniform(9, i, 2, 0) - 0.5)));
    expect(meanOf(h)).toBe(h.mean);
    expect(meanOf(newHistogram())).toBe(0);
    // Every bucket of the range, from 1 µs (exact buckets) to an hour (the widest ones).
    const wide = newHistogram();
    for (let i = 0; i < 20_000; i++) recordMicros(wide, Math.exp(uniform(9, i, 3, 0) * Math.log(HDR_HIGHEST_US)));
    expect(meanOf(wide)).toBe(wide.mean);
  });

  it('ShardMetrics snapshots are what direct recording gives, shared pairs included', () => {
    const m = new ShardMetrics(0);
    const ack = newHistogram();
    const fromSchedule = newHistogram();
    const poll = newHistogram();
    for (let i = 0; i < 3_000; i++) {
      const a = 5_000 + uniform(2, i, 3, 0) * 50_000;
      const b = i % 3 === 0 ? a + 1_000 : a; // most samples shared, some not
      // Every 7th sample pairs ack with poll instead: the shared samples move between pairs.
      const hb = i % 7 === 0 ? H['poll.latency'] : H['telemetry.ack.latency_from_schedule'];
      m.recordPair(H['telemetry.ack.latency'], hb, a, b);
      const other = i % 7 === 0 ? poll : fromSchedule;
      if (Math.round(a) === Math.round(b)) {
        recordMicros(ack, Math.round(a));
        recordMicros(other, Math.round(a));
      } else {
        recordMicros(ack, a);
        recordMicros(other, b);
      }
    }
    const snap = m.snapshot(0, 1000);
    expect(encodeHistogram(fromCounts(snap.histograms[H['telemetry.ack.latency']]))).toBe(encodeHistogram(ack));
    expect(encodeHistogram(fromCounts(snap.histograms[H['telemetry.ack.latency_from_schedule']]))).toBe(encodeHistogram(fromSchedule));
    expect(encodeHistogram(fromCounts(snap.histograms[H['poll.latency']]))).toBe(encodeHistogram(poll));
    expect(fromCounts(snap.histograms[H['telemetry.ack.latency']]).totalCount).toBe(3_000);
    expect(snap.histograms[H['provision.latency']]).toBeNull();
    expect(m.snapshot(1, 2000).histograms[H['telemetry.ack.latency']]).toBeNull();
    m.destroy();
  });

  it('recordTriple gives what recording each value gives, across snapshots, mixed with pairs of other histograms', () => {
    const m = new ShardMetrics(0);
    const names = ['telemetry.ack.latency', 'telemetry.ack.latency_end_to_end', 'telemetry.ack.latency_from_schedule', 'poll.latency', 'provision.latency'] as const;
    const ids = names.map((n) => H[n]);
    for (let interval = 0; interval < 3; interval++) {
      const direct = names.map(() => newHistogram());
      for (let i = 0; i < 4_000; i++) {
        const u = uniform(5, i, interval, 0);
        const a = u < 0.02 ? 0.3 : 1_000 + uniform(5, i, interval, 1) * 80_000;
        // All three alike, two alike (either pair), none alike, or alike only once rounded.
        const kind = i % 5;
        const b = kind === 1 ? a + 2_000 : kind === 4 ? a + 0.2 : a;
        const c = kind === 2 ? a + 3_000 : kind === 3 ? b + 700 : b;
        if (i % 11 === 0) {
          m.recordPair(ids[3], ids[4], a, c);
          recordMicros(direct[3], a);
          recordMicros(direct[4], c);
        } else {
          m.recordTriple(ids[0], ids[1], ids[2], a, b, c);
          recordMicros(direct[0], a);
          recordMicros(direct[1], b);
          recordMicros(direct[2], c);
        }
      }
      const snap = m.snapshot(interval, 1000 * (interval + 1));
      names.forEach((_, k) => expect(encodeHistogram(fromCounts(snap.histograms[ids[k]]))).toBe(encodeHistogram(direct[k])));
      expect(snap.histograms[ids[0]]).not.toBeNull();
    }
    expect(m.snapshot(3, 4000).histograms[ids[0]]).toBeNull();
    m.destroy();
  });

  it('sends a shared set that is its histograms\' only source once, one array standing for each, and each on its own otherwise', () => {
    const m = new ShardMetrics(0);
    const ids = [H['telemetry.ack.latency'], H['telemetry.ack.latency_end_to_end'], H['telemetry.ack.latency_from_schedule']];
    const shared = newHistogram();
    for (let i = 0; i < 2_000; i++) {
      const a = 1_000 + Math.round(uniform(6, i, 0, 0) * 50_000);
      m.recordTriple(ids[0], ids[1], ids[2], a, a, a);
      recordMicros(shared, a);
    }
    const alone = m.snapshot(0, 1000);
    expect(alone.histograms[ids[1]]).toBe(alone.histograms[ids[0]]);
    expect(alone.histograms[ids[2]]).toBe(alone.histograms[ids[0]]);
    expect(encodeHistogram(fromCounts(alone.histograms[ids[0]]))).toBe(encodeHistogram(shared));

    // One sample of its own in the second histogram, and a pair set over the first two: every
    // histogram then has another source, and each gets exactly what it was given.
    const direct = ids.map(() => newHistogram());
    for (let i = 0; i < 500; i++) {
      const a = 2_000 + Math.round(uniform(6, i, 1, 0) * 9_000);
      m.recordTriple(ids[0], ids[1], ids[2], a, a, a);
      for (const h of direct) recordMicros(h, a);
      if (i % 50 === 0) {
        m.recordPair(ids[0], ids[1], a + 1, a + 1);
        recordMicros(direct[0], a + 1);
        recordMicros(direct[1], a + 1);
      }
    }
    m.record(ids[1], 77);
    recordMicros(direct[1], 77);
    const mixed = m.snapshot(1, 2000);
    expect(new Set(ids.map((id) => mixed.histograms[id])).size).toBe(3);
    ids.forEach((id, k) => expect(encodeHistogram(fromCounts(mixed.histograms[id]))).toBe(encodeHistogram(direct[k])));
    m.destroy();
  });
  it('sends one array for histograms with the same shared sets and no samples of their own (a buffered message: two latencies alike, the third longer)', () => {
    const m = new ShardMetrics(0);
    const ids = [H['telemetry.ack.latency'], H['telemetry.ack.latency_end_to_end'], H['telemetry.ack.latency_from_schedule']];
    const direct = ids.map(() => newHistogram());
    for (let i = 0; i < 3_000; i++) {
      const a = 1_000 + Math.round(uniform(8, i, 0, 0) * 60_000);
      // Every 10th message waited out an outage in the buffer: later from its schedule only.
      const c = i % 10 === 0 ? a + 120_000 + i : a;
      m.recordTriple(ids[0], ids[1], ids[2], a, a, c);
      recordMicros(direct[0], a);
      recordMicros(direct[1], a);
      recordMicros(direct[2], c);
    }
    const snap = m.snapshot(0, 1000);
    // The first two draw from the triple set and the pair set only: one array for both.
    expect(snap.histograms[ids[1]]).toBe(snap.histograms[ids[0]]);
    expect(snap.histograms[ids[2]]).not.toBe(snap.histograms[ids[0]]);
    ids.forEach((id, k) => expect(encodeHistogram(fromCounts(snap.histograms[id]))).toBe(encodeHistogram(direct[k])));
    // Every set starts the next interval empty.
    expect(m.snapshot(1, 2000).histograms.every((h) => h === null)).toBe(true);
    m.destroy();
  });

  it('sends counts past 2^31 - 1 as a Float64Array, exactly', () => {
    const rec = new HdrRecorder();
    rec.record(1_234);
    rec.record(5_000_000);
    // Adding a recorder into itself doubles every count: 2^31 each after 31 times.
    for (let i = 0; i < 31; i++) rec.addInto(rec);
    const counts = rec.drainCounts()!;
    expect(counts).toBeInstanceOf(Float64Array);
    const h = fromCounts(counts);
    expect(h.totalCount).toBe(2 ** 32);
    // The first index, the count at 1,234 µs, a run of empty buckets, the count at 5 s.
    expect([counts.length, counts[1], counts[2] < 0, counts[3]]).toEqual([4, 2 ** 31, true, 2 ** 31]);
    const direct = newHistogram();
    recordMicros(direct, 1_234);
    recordMicros(direct, 5_000_000);
    const decoded = decodeHistogram(encodeHistogram(direct)); // bucket bounds, as in the first test
    expect([h.minNonZeroValue, h.maxValue]).toEqual([decoded.minNonZeroValue, decoded.maxValue]);
  });

  it('sends a snapshot through a port as 32-bit counts, copied, and the coordinator gets every count', async () => {
    const m = new ShardMetrics(0);
    const ids = [H['telemetry.ack.latency'], H['telemetry.ack.latency_end_to_end'], H['mqtt.connect.latency']];
    const direct = ids.map(() => newHistogram());
    for (let i = 0; i < 2_000; i++) {
      const a = 1_000 + Math.round(uniform(9, i, 0, 0) * 60_000);
      m.recordPair(ids[0], ids[1], a, a);
      m.record(ids[2], a * 3);
      recordMicros(direct[0], a);
      recordMicros(direct[1], a);
      recordMicros(direct[2], a * 3);
    }
    const snap = m.snapshot(0, 1000);
    expect(snap.histograms[ids[2]]).toBeInstanceOf(Int32Array);
    const { port1, port2 } = new MessageChannel();
    try {
      const arrived = new Promise<MetricSnapshot>((resolve) => port2.once('message', resolve));
      const sentLength = snap.histograms[ids[0]]!.length;
      port1.postMessage(snap);
      // Copied, not transferred (a detached buffer would cost the shard's event loop, hdr-counts.ts).
      expect(snap.histograms[ids[0]]!.length).toBe(sentLength);
      const got = await arrived;
      expect(got.histograms[ids[0]]).toBeInstanceOf(Int32Array);
      expect(got.histograms[ids[1]]).toBe(got.histograms[ids[0]]);
      ids.forEach((id, k) => expect(encodeHistogram(fromCounts(got.histograms[id]))).toBe(encodeHistogram(direct[k])));
    } finally {
      port1.close();
      port2.close();
      m.destroy();
    }
  });
});
