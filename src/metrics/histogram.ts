import * as hdr from 'hdr-histogram-js';
import { HDR_HIGHEST_US, HDR_LOWEST_US, HDR_SIGNIFICANT_DIGITS, type HdrCounts } from './hdr-counts.js';

// The fixed shape and the shard-side recorder live in hdr-counts.ts, which shards load without the library.
export { HDR_HIGHEST_US, HDR_LOWEST_US, HDR_SIGNIFICANT_DIGITS, HdrRecorder, type HdrCounts } from './hdr-counts.js';

export type Histogram = hdr.Histogram;

export function newHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: HDR_LOWEST_US,
    highestTrackableValue: HDR_HIGHEST_US,
    numberOfSignificantValueDigits: HDR_SIGNIFICANT_DIGITS,
    autoResize: false,
    useWebAssembly: false,
  });
}

/** Records a latency, clamped into the fixed range so that an outlier never throws. */
export function recordMicros(h: Histogram, us: number): void {
  const v = us < HDR_LOWEST_US ? HDR_LOWEST_US : us > HDR_HIGHEST_US ? HDR_HIGHEST_US : Math.round(us);
  h.recordValue(v);
}

/** JsHistogram's count updates and value math (public in JS, untyped). */
interface CountsTarget {
  addToCountAtIndex(index: number, count: number): void;
  addToTotalCount(count: number): void;
  updateMinAndMax(value: number): void;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
}

/**
 * Adds a shard's interval counts (HdrRecorder.drainCounts; the format is in hdr-counts.ts) into
 * `h`: exactly what adding the decoded encoding of the shard's own histogram did (how snapshots
 * travelled before), so merged summaries are unchanged. Decoding derives min and max from the
 * counts, as here: max is the highest value of the top non-zero index, min the lowest value of the
 * first non-zero index past 0.
 */
export function addCounts(h: Histogram, counts: HdrCounts): void {
  const t = h as unknown as CountsTarget;
  let total = 0;
  let minIndex = -1;
  let maxIndex = -1;
  let i = counts[0];
  for (let k = 1; k < counts.length; k++) {
    const n = counts[k];
    if (n < 0) {
      i -= n; // a run of -n empty buckets
      continue;
    }
    t.addToCountAtIndex(i, n);
    total += n;
    if (minIndex < 0 && i !== 0) minIndex = i;
    maxIndex = i++;
  }
  if (maxIndex < 0) return;
  t.addToTotalCount(total);
  t.updateMinAndMax(t.highestEquivalentValue(t.valueFromIndex(maxIndex)));
  if (minIndex >= 0) t.updateMinAndMax(t.valueFromIndex(minIndex));
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Decodes into the fixed shape (decoding alone may return a narrower histogram). */
export function decodeHistogram(encoded: string): Histogram {
  const decoded = hdr.decodeFromCompressedBase64(encoded, 32, false);
  const h = newHistogram();
  h.add(decoded);
  decoded.destroy();
  return h;
}

/** The parts of hdr-histogram-js's JsHistogram that meanOf reads (public in JS, some untyped). */
interface CountsView {
  countsArrayLength: number;
  unitMagnitude: number;
  subBucketHalfCountMagnitude: number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
}

/**
 * The middle value of counts index i, medianEquivalentValue(highestEquivalentValue(valueFromIndex(i)))
 * in closed form for the fixed shape's index layout (unitMagnitude 0, 1024 sub-buckets per half):
 * the bucket's lowest value plus half its width. The library's chain costs several Math.pow per
 * index; at one-minute snapshots of a 24-hour virtual run it was most of the coordinator's time.
 */
export function middleOfIndex(i: number): number {
  const b = (i >>> 10) - 1;
  return b <= 0 ? i : ((i & 1023) + 1024) * POW2[b] + POW2[b - 1];
}

/** valueFromIndex(i) in closed form for the fixed shape: the lowest value of counts index i. */
export function lowestOfIndex(i: number): number {
  const b = (i >>> 10) - 1;
  return b <= 0 ? i : ((i & 1023) + 1024) * POW2[b];
}

/** highestEquivalentValue(valueFromIndex(i)) in closed form for the fixed shape: the highest value of counts index i. */
export function highestOfIndex(i: number): number {
  const b = (i >>> 10) - 1;
  return b <= 0 ? i : ((i & 1023) + 1024) * POW2[b] + (POW2[b] - 1);
}

const POW2 = Float64Array.from({ length: 64 }, (_, k) => 2 ** k);

/**
 * The histogram's mean, bit-identical to hdr-histogram-js's `mean` (the same terms added in the
 * same order) but in one pass over the counts that calls back into the histogram only for
 * non-zero ones. The library walks every index through its iterator (several Math.pow per
 * index); on the coordinator that was most of the cost of a timeline row (bench/RESULTS.md).
 */
export function meanOf(h: Histogram): number {
  const v = h as unknown as CountsView;
  if (typeof v.getCountAtIndex !== 'function') return h.mean;
  const total = h.totalCount;
  if (total === 0) return 0;
  let sum = 0;
  let seen = 0;
  const fixedLayout = v.unitMagnitude === 0 && v.subBucketHalfCountMagnitude === 10;
  for (let i = 0; i < v.countsArrayLength && seen < total; i++) {
    const c = v.getCountAtIndex(i);
    if (c === 0) continue;
    seen += c;
    sum += (fixedLayout ? middleOfIndex(i) : v.medianEquivalentValue(v.highestEquivalentValue(v.valueFromIndex(i)))) * c;
  }
  return sum / total;
}

/**
 * Every recorded value with its count, ascending: (the middle of each HDR bucket, µs; count).
 * One pass over the counts like meanOf, for drawing a histogram's distribution as bars.
 */
export function recordedValues(h: Histogram): Array<[valueUs: number, count: number]> {
  const v = h as unknown as CountsView;
  const out: Array<[number, number]> = [];
  const total = h.totalCount;
  let seen = 0;
  for (let i = 0; i < v.countsArrayLength && seen < total; i++) {
    const c = v.getCountAtIndex(i);
    if (c === 0) continue;
    seen += c;
    out.push([v.medianEquivalentValue(v.highestEquivalentValue(v.valueFromIndex(i))), c]);
  }
  return out;
}

/** Summary statistics of a histogram, in microseconds. */
export interface HistogramStats {
  count: number;
  min: number;
  max: number;
  avg: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
}

export function histogramStats(h: Histogram): HistogramStats {
  const count = h.totalCount;
  if (count === 0) return { count: 0, min: 0, max: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 };
  return {
    count,
    min: h.minNonZeroValue,
    max: h.maxValue,
    avg: meanOf(h),
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p95: h.getValueAtPercentile(95),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
  };
}

/** Points of the percentile curve (percentile, value µs), for HDR plots. */
export function percentileCurve(h: Histogram): Array<[number, number]> {
  if (h.totalCount === 0) return [];
  const pts: Array<[number, number]> = [];
  for (const p of [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100]) {
    pts.push([p, p === 0 ? h.minNonZeroValue : h.getValueAtPercentile(p)]);
  }
  return pts;
}
