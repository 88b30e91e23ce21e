import { COUNTERS, GAUGES, HISTOGRAMS } from './catalog.js';
// Never histogram.ts: shards must not load hdr-histogram-js (see hdr-counts.ts).
import { HdrRecorder, type HdrCounts } from './hdr-counts.js';
import type { GroupUsage } from './group-usage.js';

/**
 * One interval's metrics from one shard, as it travels to the coordinator (structured-clone
 * friendly, JSON too: plain number arrays). Counters are deltas over the interval; gauges are values
 * at its end; histograms are the interval's own HDR counts (null when empty), which the coordinator
 * adds into its HDR histograms (`addCounts`). Adding every interval of every shard gives the run's
 * totals exactly.
 */
export interface MetricSnapshot {
  shard: number;
  /** Interval number, 0-based, aligned across shards by the shared run start time. */
  interval: number;
  /** Interval end, in ms since the run started (wall or simulated). */
  tMs: number;
  counters: number[];
  gauges: number[];
  histograms: Array<HdrCounts | null>;
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
  /** Where samples are recorded during an interval; drained by `snapshot`. */
  private readonly recorders: HdrRecorder[] = HISTOGRAMS.map(() => new HdrRecorder());
  /**
   * Samples that two histograms share: `recordPair` with equal values records once here, and they
   * are added into both recorders when the pair changes or at the snapshot. Exact, and half the recording work on the virtual clock, where
   * most messages are sent at their intended time (ack latency = latency from schedule).
   */
  private readonly pairShared = new HdrRecorder();
  private pairA = -1;
  private pairB = -1;

  constructor(readonly shard: number) {}

  inc(counter: number, n = 1): void {
    this.counters[counter] += n;
  }

  /** Per fleet group usage (group-usage.ts), when the run prices its groups (`cost:`). */
  groups: GroupUsage | undefined;

  /** `inc`, and the same in `dev`'s group when the counter is one the cost model prices per group. */
  incFor(counter: number, dev: number, n = 1): void {
    this.counters[counter] += n;
    this.groups?.add(counter, dev, n);
  }

  set(gauge: number, value: number): void {
    this.gauges[gauge] = value;
  }

  /** Keeps the maximum of the interval (for lag-style gauges). */
  max(gauge: number, value: number): void {
    if (value > this.gauges[gauge]) this.gauges[gauge] = value;
  }

  record(histogram: number, micros: number): void {
    this.recorders[histogram].record(micros);
  }

  /** Records `a` into histogram `ha` and `b` into `hb`; a value both share is recorded once. */
  recordPair(ha: number, hb: number, a: number, b: number): void {
    const ra = Math.round(a);
    if (ra !== Math.round(b)) {
      this.recorders[ha].record(a);
      this.recorders[hb].record(b);
      return;
    }
    if (this.pairA !== ha || this.pairB !== hb) {
      this.foldPair();
      this.pairA = ha;
      this.pairB = hb;
    }
    this.pairShared.record(ra);
  }

  private foldPair(): void {
    if (this.pairA >= 0) this.pairShared.drainInto(this.recorders[this.pairA], this.recorders[this.pairB]);
  }

  /** Takes the interval's snapshot and starts a new interval. */
  snapshot(interval: number, tMs: number): MetricSnapshot {
    this.foldPair();
    const counters = new Array<number>(COUNTERS.length);
    for (let i = 0; i < COUNTERS.length; i++) {
      counters[i] = this.counters[i] - this.reported[i];
      this.reported[i] = this.counters[i];
    }
    const histograms = this.recorders.map((r) => r.drainCounts());
    return { shard: this.shard, interval, tMs, counters, gauges: Array.from(this.gauges), histograms };
  }

  destroy(): void {
    for (const r of this.recorders) r.release();
    this.pairShared.release();
  }
}
