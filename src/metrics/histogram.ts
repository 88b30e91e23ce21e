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
    avg: h.mean,
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
