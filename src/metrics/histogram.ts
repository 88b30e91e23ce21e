import * as hdr from 'hdr-histogram-js';

/**
 * One histogram shape everywhere: integer microseconds from 1 µs to 1 hour, 3 significant digits,
 * no auto-resize. Because every shard and every machine uses exactly this shape, adding encoded
 * histograms together is exact, whatever the split.
 */
export const HDR_LOWEST_US = 1;
export const HDR_HIGHEST_US = 3_600_000_000;
export const HDR_SIGNIFICANT_DIGITS = 3;

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

/**
 * The counts-array index of an integer value in [1, 2^32) for the fixed shape above
 * (unitMagnitude 0, 2048 sub-buckets, so subBucketHalfCountMagnitude 10): hdr-histogram-js's
 * countsArrayIndex with Math.clz32 in place of Math.log2/Math.pow.
 */
function countsIndexOf(v: number): number {
  const b = 21 - Math.clz32(v); // floor(log2 v) - 10
  return b > 0 ? (b << 10) + (v >>> b) : v;
}

/** The lowest value of counts index i (hdr-histogram-js's valueFromIndex for the fixed shape). */
function valueOfIndex(i: number): number {
  const b = (i >>> 10) - 1;
  return b <= 0 ? i : ((i & 1023) + 1024) * 2 ** b;
}

/**
 * The hot-path front of a histogram: `record` only bumps a count in a typed array (no Math.log2,
 * no Math.pow, no method dispatch into the library), and `drainInto` adds the counts into real
 * HDR histograms at snapshot time. The counts are exactly those the library would hold, so encoded
 * snapshots are unchanged. The counts array (~190 KB) is allocated on first use.
 */
export class HdrRecorder {
  private counts: Float64Array | undefined;
  private lo = Infinity;
  private hi = -1;
  /** Exact extremes, so that the drained histogram's min and max are the recorded ones. */
  private minV = Infinity;
  private maxV = -1;
  total = 0;

  record(us: number): void {
    const v = us < HDR_LOWEST_US ? HDR_LOWEST_US : us > HDR_HIGHEST_US ? HDR_HIGHEST_US : Math.round(us);
    if (v !== v) return; // NaN: the library would count it nowhere
    const i = countsIndexOf(v);
    const c = this.counts ?? (this.counts = new Float64Array(countsIndexOf(HDR_HIGHEST_US) + 1));
    c[i]++;
    if (v < this.minV) {
      this.minV = v;
      this.lo = i;
    }
    if (v > this.maxV) {
      this.maxV = v;
      this.hi = i;
    }
    this.total++;
  }

  /** Adds every count into `h` (and `also`), then starts empty. */
  drainInto(h: Histogram, also?: Histogram): void {
    const c = this.counts;
    if (!c || this.total === 0) return;
    for (const target of also ? [h, also] : [h]) {
      const t = target as unknown as CountsTarget;
      if (typeof t.addToCountAtIndex === 'function') {
        // Straight into the library's counts (what recordCountAtValue does, minus the index math).
        for (let i = this.lo; i <= this.hi; i++) if (c[i] !== 0) t.addToCountAtIndex(i, c[i]);
        t.addToTotalCount(this.total);
        t.updateMinAndMax(this.minV);
        t.updateMinAndMax(this.maxV);
      } else {
        for (let i = this.lo; i <= this.hi; i++) if (c[i] !== 0) target.recordValueWithCount(i === this.hi ? this.maxV : i === this.lo ? this.minV : valueOfIndex(i), c[i]);
      }
    }
    c.fill(0, this.lo, this.hi + 1);
    this.lo = Infinity;
    this.hi = -1;
    this.minV = Infinity;
    this.maxV = -1;
    this.total = 0;
  }
}

/** JsHistogram's count updates (public in JS, untyped), which recordCountAtValue is made of. */
interface CountsTarget {
  addToCountAtIndex(index: number, count: number): void;
  addToTotalCount(count: number): void;
  updateMinAndMax(value: number): void;
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
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
}

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
  for (let i = 0; i < v.countsArrayLength && seen < total; i++) {
    const c = v.getCountAtIndex(i);
    if (c === 0) continue;
    seen += c;
    sum += v.medianEquivalentValue(v.highestEquivalentValue(v.valueFromIndex(i))) * c;
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
