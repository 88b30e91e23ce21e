import { describe, expect, it } from 'vitest';
import { addCounts, encodeHistogram, HDR_HIGHEST_US, HdrRecorder, highestOfIndex, histogramStats, lowestOfIndex, newHistogram } from '../../src/metrics/histogram.js';
import { COUNTS_LENGTH } from '../../src/metrics/hdr-counts.js';
import { IntervalCounts } from '../../src/metrics/interval-counts.js';
import { uniform } from '../../src/models/rng.js';
import { expectEncodingOf } from '../helpers/hdr-encoding.js';

/** Shards' interval counts, as HdrRecorder sends them, for `shards` shards drawing from one distribution. */
function shardCounts(seed: number, shards: number, samples: number, spread: (u: number) => number): number[][] {
  const out: number[][] = [];
  for (let s = 0; s < shards; s++) {
    const rec = new HdrRecorder();
    for (let i = 0; i < samples; i++) rec.record(spread(uniform(seed, i, s, 0)));
    const c = rec.drainCounts();
    if (c) out.push(c);
  }
  return out;
}

describe('IntervalCounts', () => {
  const cases: Array<[string, (u: number) => number, number]> = [
    ['log-uniform 1 µs .. 1 h', (u) => Math.exp(u * Math.log(HDR_HIGHEST_US)), 20_000],
    ['narrow around 8 ms', (u) => 8_000 + 50 * u, 5_000],
    ['exact buckets only', (u) => 1 + Math.floor(u * 2000), 3_000],
    ['one sample', () => 123_456, 1],
    ['the clamps', (u) => (u < 0.5 ? 0.2 : 1e12), 100],
    ['a few far apart', (u) => (u < 0.9 ? 1_500 : 3e9), 37],
  ];
  for (const [name, spread, samples] of cases) {
    it(`gives the library's stats bit for bit, and its encoding (byte for byte before deflate): ${name}`, () => {
      for (const shards of [1, 3]) {
        const lib = newHistogram();
        const mine = new IntervalCounts();
        for (const c of shardCounts(samples + shards, shards, samples, spread)) {
          addCounts(lib, c);
          mine.add(c);
          // Reading a row part-way (which sorts what it has seen) must not spoil later adds.
          expect(mine.stats()).toEqual(histogramStats(lib));
        }
        expect(mine.total).toBe(lib.totalCount);
        expect(mine.stats()).toEqual(histogramStats(lib));
        expectEncodingOf(mine.encode(), lib);
        // The run's totals are kept as such counts and handed to the library once, at the end:
        // the same histogram as adding every part (min and max included).
        const once = newHistogram();
        const all = mine.toCounts();
        if (all) addCounts(once, all);
        expect(histogramStats(once)).toEqual(histogramStats(lib));
        expect([once.minNonZeroValue, once.maxValue, once.totalCount]).toEqual([lib.minNonZeroValue, lib.maxValue, lib.totalCount]);
        expect(encodeHistogram(once)).toBe(encodeHistogram(lib));
        // A row takes stats and encoding in one pass that leaves the counts empty, ready for the next row.
        const encoded = mine.encode();
        expect(mine.take()).toEqual(histogramStats(lib));
        expect(mine.encoded()).toBe(encoded);
        expect([mine.total, mine.toCounts()]).toEqual([0, null]);
        expect(mine.stats()).toEqual(histogramStats(newHistogram()));
        const again = shardCounts(samples + shards, shards, samples, spread);
        for (const c of again) mine.add(c);
        expect(mine.stats()).toEqual(histogramStats(lib));
        expect(mine.encode()).toBe(encoded);
      }
    });
  }

  it('sameCounts: true only for exactly the same counts, whatever order they were added in', () => {
    const parts = shardCounts(7, 3, 2_000, (u) => 5_000 + 90_000 * u);
    const a = new IntervalCounts();
    const b = new IntervalCounts();
    for (const c of parts) a.add(c);
    for (const c of [...parts].reverse()) b.add(c);
    expect(a.sameCounts(b)).toBe(true);
    expect(b.sameCounts(a)).toBe(true);
    expect(a.encode()).toBe(b.encode());
    // One more sample anywhere (a new index, or an index already counted), or one fewer part: different.
    const more = new IntervalCounts();
    for (const c of parts) more.add(c);
    more.add([parts[0][0], 1]);
    expect(a.sameCounts(more)).toBe(false);
    const moved = new IntervalCounts();
    for (const c of parts) moved.add(c);
    moved.add([10, 1]);
    expect(a.sameCounts(moved)).toBe(false);
    const fewer = new IntervalCounts();
    for (const c of parts.slice(1)) fewer.add(c);
    expect(a.sameCounts(fewer)).toBe(false);
    // Same total, lo and hi, counts moved between two indices inside.
    const x = new IntervalCounts();
    const y = new IntervalCounts();
    x.add([100, 2, 1, 3]);
    y.add([100, 2, 2, 2]);
    expect(x.sameCounts(y)).toBe(false);
    expect(new IntervalCounts().sameCounts(new IntervalCounts())).toBe(true);
  });

  it('starts empty again after clear, and is empty-safe', () => {
    const m = new IntervalCounts();
    m.clear();
    expect(m.stats()).toEqual(histogramStats(newHistogram()));
    for (const c of shardCounts(5, 2, 1_000, (u) => 10 + 1e6 * u)) m.add(c);
    m.clear();
    expect(m.total).toBe(0);
    const lib = newHistogram();
    for (const c of shardCounts(6, 1, 500, (u) => 2_000 + 10 * u)) {
      addCounts(lib, c);
      m.add(c);
    }
    expect(m.stats()).toEqual(histogramStats(lib));
    expectEncodingOf(m.encode(), lib);
  });
});

describe('the fixed shape’s bucket values in closed form', () => {
  it('lowestOfIndex and highestOfIndex equal the library’s valueFromIndex and highestEquivalentValue at every index', () => {
    const lib = newHistogram() as unknown as { valueFromIndex(i: number): number; highestEquivalentValue(v: number): number };
    let checked = 0;
    for (let i = 0; i < COUNTS_LENGTH; i++) {
      const low = lib.valueFromIndex(i);
      if (lowestOfIndex(i) !== low || highestOfIndex(i) !== lib.highestEquivalentValue(low)) {
        expect([i, lowestOfIndex(i), highestOfIndex(i)]).toEqual([i, low, lib.highestEquivalentValue(low)]);
      }
      checked++;
    }
    expect(checked).toBe(COUNTS_LENGTH);
    expect(highestOfIndex(COUNTS_LENGTH - 1)).toBeGreaterThanOrEqual(HDR_HIGHEST_US);
  });
});
