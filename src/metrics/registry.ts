import { COUNTERS, GAUGES, HISTOGRAMS } from './catalog.js';
import { encodeHistogram, newHistogram, recordMicros, type Histogram } from './histogram.js';

/**
 * One interval's metrics from one shard, as it travels to the coordinator (structured-clone
 * friendly: plain arrays and strings). Counters are deltas over the interval; gauges are values at
 * its end; histograms are the interval's own HDR histograms, encoded (null when empty).
 * Adding every interval of every shard gives the run's totals exactly.
 */
export interface MetricSnapshot {
  shard: number;
  /** Interval number, 0-based, aligned across shards by the shared run start time. */
  interval: number;
  /** Interval end, in ms since the run started (wall or simulated). */
  tMs: number;
  counters: number[];
  gauges: number[];
  histograms: Array<string | null>;
}

/**
 * The shard-side metric registry. Owned by one thread; hot paths call `inc`, `set` and `record`
 * with ordinals from catalog.ts (`C`, `G`, `H`), which index typed arrays: no strings, no maps,
 * no allocation per event.
 */
export class ShardMetrics {
  readonly counters = new Float64Array(COUNTERS.length);
  private readonly reported = new Float64Array(COUNTERS.length);
  readonly gauges = new Float64Array(GAUGES.length);
  private readonly histograms: Histogram[] = HISTOGRAMS.map(() => newHistogram());
  /**
   * Samples that two histograms share: `recordPair` with equal values records once here, and the
   * snapshot adds this histogram into both. Exact, and half the recording work on the virtual
   * clock, where most messages are sent at their intended time (ack latency = latency from schedule).
   */
  private pairShared: Histogram | undefined;
  private pairA = -1;
  private pairB = -1;

  constructor(readonly shard: number) {}

  inc(counter: number, n = 1): void {
    this.counters[counter] += n;
  }

  set(gauge: number, value: number): void {
    this.gauges[gauge] = value;
  }

  /** Keeps the maximum of the interval (for lag-style gauges). */
  max(gauge: number, value: number): void {
    if (value > this.gauges[gauge]) this.gauges[gauge] = value;
  }

  record(histogram: number, micros: number): void {
    recordMicros(this.histograms[histogram], micros);
  }

  /** Records `a` into histogram `ha` and `b` into `hb`; a value both share is recorded once. */
  recordPair(ha: number, hb: number, a: number, b: number): void {
    const ra = Math.round(a);
    if (ra !== Math.round(b)) {
      recordMicros(this.histograms[ha], a);
      recordMicros(this.histograms[hb], b);
      return;
    }
    if (this.pairShared === undefined || this.pairA !== ha || this.pairB !== hb) {
      this.foldPair();
      this.pairShared = newHistogram();
      this.pairA = ha;
      this.pairB = hb;
    }
    recordMicros(this.pairShared, ra);
  }

  private foldPair(): void {
    const shared = this.pairShared;
    if (!shared || shared.totalCount === 0) return;
    this.histograms[this.pairA].add(shared);
    this.histograms[this.pairB].add(shared);
    shared.reset();
  }

  /** Takes the interval's snapshot and starts a new interval. */
  snapshot(interval: number, tMs: number): MetricSnapshot {
    this.foldPair();
    const counters = new Array<number>(COUNTERS.length);
    for (let i = 0; i < COUNTERS.length; i++) {
      counters[i] = this.counters[i] - this.reported[i];
      this.reported[i] = this.counters[i];
    }
    const histograms = this.histograms.map((h) => {
      if (h.totalCount === 0) return null;
      const enc = encodeHistogram(h);
      h.reset();
      return enc;
    });
    return { shard: this.shard, interval, tMs, counters, gauges: Array.from(this.gauges), histograms };
  }

  destroy(): void {
    this.pairShared?.destroy();
    for (const h of this.histograms) h.destroy();
  }
}
