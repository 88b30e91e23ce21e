import { COUNTERS, GAUGES, HISTOGRAMS } from './catalog.js';
// Never histogram.ts: shards must not load hdr-histogram-js (see hdr-counts.ts).
import { HdrRecorder, type HdrCounts } from './hdr-counts.js';
import type { GroupUsage } from './group-usage.js';

/**
 * One interval's metrics from one shard, as it travels to the coordinator (structured-clone
 * friendly, JSON too: plain number arrays). Counters are deltas over the interval; gauges are values
 * at its end; histograms are the interval's own HDR counts (null when empty), which the coordinator
 * adds into its HDR histograms (`addCounts`). Adding every interval of every shard gives the run's
 * totals exactly. One array may stand for several histograms that hold the same samples
 * (ShardMetrics' shared samples): a structured clone keeps them one object, JSON makes copies.
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
   * Samples that two or three histograms share (`recordPair`, `recordTriple` with values that
   * round alike): recorded once into the set's own recorder and added into each histogram's at the
   * snapshot. Exact (counts only add), and a third or half of the recording work on the virtual
   * clock, where most messages are sent at their intended time without a modelled link (backend
   * latency = end-to-end latency = latency from schedule). One recorder per set of histograms, so
   * samples alternating between sets never drain one into the other mid-interval.
   */
  private readonly shared: SharedSamples[] = [];
  private lastShared: SharedSamples | undefined;
  /** Scratch of drainHistograms: per histogram, a bit per shared set with samples that it is in. */
  private readonly setsOf = new Int32Array(HISTOGRAMS.length);
  /** Per histogram, 1 when drainHistograms drained it on its own (it had samples of its own, or no shared set). */
  private readonly alone = new Uint8Array(HISTOGRAMS.length);
  /** Scratch of drainHistograms: where the samples of two or more shared sets are added up. */
  private merged: HdrRecorder | undefined;

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
    this.sharedBy(ha, hb, -1).record(ra);
  }

  /**
   * Records `a` into `ha`, `b` into `hb` and `c` into `hc`; a value all three share is recorded
   * once, and so is one the first two share (the third then gets its own): a message buffered
   * through an outage has one backend and end-to-end latency but a longer one from its schedule,
   * and its first two histograms then still draw from shared sets only (drainHistograms).
   */
  recordTriple(ha: number, hb: number, hc: number, a: number, b: number, c: number): void {
    const ra = Math.round(a);
    if (ra !== Math.round(b)) {
      this.recorders[ha].record(a);
      this.recordPair(hb, hc, b, c);
      return;
    }
    if (ra !== Math.round(c)) {
      this.sharedBy(ha, hb, -1).record(ra);
      this.recorders[hc].record(c);
      return;
    }
    this.sharedBy(ha, hb, hc).record(ra);
  }

  /** The shared recorder of histograms (a, b, c), c = -1 for a pair; the last one used is checked first. */
  private sharedBy(a: number, b: number, c: number): HdrRecorder {
    const last = this.lastShared;
    if (last !== undefined && last.a === a && last.b === b && last.c === c) return last.samples;
    let set: SharedSamples | undefined;
    for (const s of this.shared) if (s.a === a && s.b === b && s.c === c) set = s;
    if (set === undefined) {
      // A bit each in drainHistograms' masks; the call sites name a handful of sets.
      if (this.shared.length === 31) throw new Error('ShardMetrics: more than 31 sets of shared samples');
      this.shared.push((set = { a, b, c, samples: new HdrRecorder() }));
    }
    this.lastShared = set;
    return set.samples;
  }

  /**
   * The interval's counts of every histogram (null when empty). A histogram's samples are its own
   * recorder's plus those of the shared sets it is in. Histograms with no samples of their own and
   * the same shared sets hold the same counts: they are drained once, and one array stands for each
   * (the coordinator sees the same object and adds it up once, MetricsAggregator), where one copy
   * per histogram was drained, sent, added and compared. A histogram with samples of its own gets
   * its sets' samples added into its recorder and is drained on its own. Exact: counts only add.
   */
  private drainHistograms(): Array<HdrCounts | null> {
    const recorders = this.recorders;
    const out = new Array<HdrCounts | null>(recorders.length).fill(null);
    // Per histogram, bit j: shared set j has samples and the histogram is in it.
    const sig = this.setsOf.fill(0);
    const shared = this.shared;
    for (let j = 0; j < shared.length; j++) {
      const s = shared[j];
      if (s.samples.total === 0) continue;
      sig[s.a] |= 1 << j;
      sig[s.b] |= 1 << j;
      if (s.c >= 0) sig[s.c] |= 1 << j;
    }
    // Histograms with samples of their own first: they add their sets' samples in, so that a set
    // whose only other readers share it as a group is drained as that group reads it, not read
    // and then emptied by a walk of its own (`clear` below finds it empty).
    const alone = this.alone.fill(0);
    for (let h = 0; h < recorders.length; h++) {
      const own = recorders[h];
      const sets = sig[h];
      if (sets !== 0 && own.total === 0) continue;
      alone[h] = 1;
      for (let w = sets; w !== 0; w &= w - 1) shared[31 - Math.clz32(w & -w)].samples.addInto(own);
      out[h] = own.drainCounts();
    }
    for (let h = 0; h < recorders.length; h++) {
      const sets = sig[h];
      if (alone[h] || out[h] !== null) continue; // done above, or a twin of an earlier histogram
      let counts: HdrCounts | null;
      if ((sets & (sets - 1)) === 0) {
        // One set: drained as it is read, unless a histogram outside this group still reads it.
        let elsewhere = false;
        for (let t = 0; t < recorders.length; t++) if (!alone[t] && sig[t] & sets && sig[t] !== sets) elsewhere = true;
        const samples = shared[31 - Math.clz32(sets)].samples;
        counts = elsewhere ? samples.peekCounts() : samples.drainCounts();
      } else {
        const merged = (this.merged ??= new HdrRecorder());
        for (let w = sets; w !== 0; w &= w - 1) shared[31 - Math.clz32(w & -w)].samples.addInto(merged);
        counts = merged.drainCounts();
      }
      for (let t = h; t < recorders.length; t++) if (sig[t] === sets && !alone[t]) out[t] = counts;
    }
    for (const s of shared) s.samples.clear();
    return out;
  }

  /** Takes the interval's snapshot and starts a new interval. */
  snapshot(interval: number, tMs: number): MetricSnapshot {
    const histograms = this.drainHistograms();
    const counters = new Array<number>(COUNTERS.length);
    for (let i = 0; i < COUNTERS.length; i++) {
      counters[i] = this.counters[i] - this.reported[i];
      this.reported[i] = this.counters[i];
    }
    return { shard: this.shard, interval, tMs, counters, gauges: Array.from(this.gauges), histograms };
  }

  destroy(): void {
    for (const r of this.recorders) r.release();
    for (const s of this.shared) s.samples.release();
  }
}

/** Samples shared by histograms a, b (and c unless -1), recorded once (ShardMetrics.recordPair, recordTriple). */
interface SharedSamples {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly samples: HdrRecorder;
}
