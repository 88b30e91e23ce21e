import { combineGauge, COUNTERS, GAUGES, HISTOGRAMS } from './catalog.js';
import { addCounts, encodeHistogram, newHistogram, type Histogram, type HistogramStats } from './histogram.js';
import type { HdrCounts } from './hdr-counts.js';
import { IntervalCounts } from './interval-counts.js';
import type { MetricSnapshot } from './registry.js';


/** One merged interval of the run: what `timeline.ndjson` holds, one line each. */
export interface TimelineRow {
  interval: number;
  tMs: number;
  /** Shards that reported this interval. */
  shards: number;
  counters: Record<string, number>;
  gauges: Record<string, number>;
  histograms: Record<string, HistogramStats>;
  /** The interval's HDR histograms, encoded, so that timelines of shards merge exactly too. */
  hdr?: Record<string, string>;
}

interface PendingInterval {
  tMs: number;
  shards: number;
  counters: Float64Array;
  gauges: Float64Array;
  /** Each histogram's shard counts as they arrived (HdrRecorder.drainCounts' format), added up when the row is emitted. */
  histograms: Array<HdrCounts[] | null>;
}

/**
 * Merges shard snapshots on the coordinator: running totals (counters added, histograms added
 * exactly) and one timeline row per interval once every shard has reported it. Main thread only.
 */
export class MetricsAggregator {
  readonly totals = new Float64Array(COUNTERS.length);
  readonly latestGauges: Float64Array[] = [];
  /**
   * The run's histograms so far: every shard's interval counts added up. Kept as plain counts
   * during the run (adding into the library's histograms, a method call per count, was a tenth of
   * the coordinator's CPU on one-minute snapshots) and turned into library histograms when read.
   */
  private readonly runCounts: Array<IntervalCounts | undefined> = HISTOGRAMS.map(() => undefined);
  /**
   * Per histogram, j >= 0 while every snapshot so far gave it the very arrays it gave histogram j
   * (shared samples, ShardMetrics), both starting in the same snapshot: its run counts are then
   * j's, and its arrays are not added a second time. -1: its own run counts (or none yet). At the
   * first snapshot where the two differ it takes a copy of j's counts and goes on alone.
   */
  private readonly runTwinOf = new Int32Array(HISTOGRAMS.length).fill(-1);
  private built: Histogram[] | undefined;
  private readonly pending = new Map<number, PendingInterval>();
  private readonly rows: TimelineRow[] = [];
  private readonly lastIntervalOf: number[];
  /**
   * One dense counts array per histogram (made on its first row), where the row being emitted adds
   * up its shards' counts, cleared after each row. Pending intervals keep the shards' sparse counts instead: on a virtual
   * clock the shards run apart by a hundred intervals and more, and a dense array (~180 KiB) per
   * pending interval and histogram, fresh from the allocator and page-faulted in on first touch,
   * was a third of the coordinator's CPU on a 24-hour run (bench/RESULTS.md, "The coordinator's
   * rows without a dense array per pending interval").
   */
  private readonly rowCounts: Array<IntervalCounts | undefined> = HISTOGRAMS.map(() => undefined);

  constructor(private readonly shardCount: number, private readonly onRow?: (row: TimelineRow) => void) {
    this.lastIntervalOf = new Array<number>(shardCount).fill(-1);
    for (let i = 0; i < shardCount; i++) this.latestGauges.push(new Float64Array(GAUGES.length));
  }

  add(s: MetricSnapshot): void {
    for (let i = 0; i < COUNTERS.length; i++) this.totals[i] += s.counters[i];
    this.latestGauges[s.shard].set(s.gauges);
    this.lastIntervalOf[s.shard] = Math.max(this.lastIntervalOf[s.shard], s.interval);

    let p = this.pending.get(s.interval);
    if (!p) {
      p = { tMs: s.tMs, shards: 0, counters: new Float64Array(COUNTERS.length), gauges: new Float64Array(GAUGES.length), histograms: HISTOGRAMS.map(() => null) };
      this.pending.set(s.interval, p);
    }
    p.shards++;
    p.tMs = Math.max(p.tMs, s.tMs);
    for (let i = 0; i < COUNTERS.length; i++) p.counters[i] += s.counters[i];
    for (let i = 0; i < GAUGES.length; i++) {
      p.gauges[i] = combineGauge(GAUGES[i][0], p.gauges[i], s.gauges[i]);
    }
    this.addRunCounts(s.histograms);
    for (let i = 0; i < s.histograms.length; i++) {
      const counts = s.histograms[i];
      if (counts === null) continue;
      (p.histograms[i] ??= []).push(counts);
      this.built = undefined;
    }
    this.flushReady();
  }

  /** Adds a snapshot's histograms into the run's counts, a twin's arrays once (runTwinOf). */
  private addRunCounts(histograms: ReadonlyArray<HdrCounts | null>): void {
    const twinOf = this.runTwinOf;
    // Twins that part here take a copy of the counts they shared, before this snapshot's are added.
    for (let i = 0; i < histograms.length; i++) {
      const j = twinOf[i];
      if (j < 0 || histograms[i] === histograms[j]) continue;
      const shared = this.runCounts[j]?.toCounts();
      if (shared) (this.runCounts[i] = new IntervalCounts()).add(shared);
      twinOf[i] = -1;
    }
    const fresh = this.runCounts.map((c, i) => c === undefined && twinOf[i] < 0);
    for (let i = 0; i < histograms.length; i++) {
      const counts = histograms[i];
      if (counts === null || twinOf[i] >= 0) continue;
      if (fresh[i]) {
        // Its first counts: the same arrays as an earlier histogram's first ones make it a twin.
        let j = 0;
        while (j < i && !(histograms[j] === counts && fresh[j])) j++;
        if (j < i) {
          twinOf[i] = j;
          continue;
        }
      }
      (this.runCounts[i] ??= new IntervalCounts()).add(counts);
    }
  }

  /** The run's histograms so far (hdr-histogram-js, the fixed shape), one per HISTOGRAMS entry. */
  get histograms(): readonly Histogram[] {
    return (this.built ??= this.runCounts.map((own, i) => {
      const h = newHistogram();
      const counts = (this.runTwinOf[i] >= 0 ? this.runCounts[this.runTwinOf[i]] : own)?.toCounts();
      if (counts) addCounts(h, counts);
      return h;
    }));
  }

  /** Emits every interval that all shards have moved past (or reported). */
  private flushReady(force = false): void {
    const done = force ? Infinity : Math.min(...this.lastIntervalOf);
    const ready = [...this.pending.keys()].filter((k) => k <= done || this.pending.get(k)!.shards >= this.shardCount).sort((a, b) => a - b);
    for (const k of ready) {
      const p = this.pending.get(k)!;
      this.pending.delete(k);
      const row: TimelineRow = { interval: k, tMs: p.tMs, shards: p.shards, counters: {}, gauges: {}, histograms: {}, hdr: {} };
      COUNTERS.forEach(([n], i) => (row.counters[n] = p.counters[i]));
      GAUGES.forEach(([n], i) => (row.gauges[n] = p.gauges[i]));
      // A histogram whose shards sent the very arrays of an earlier one (shared samples,
      // ShardMetrics) holds its counts: nothing to add up or compare.
      const same = p.histograms.map((_, i) => this.sameArraysAs(p.histograms, i));
      const dense: Array<IntervalCounts | null> = p.histograms.map((parts, i) => {
        if (!parts || same[i] >= 0) return null;
        const h = (this.rowCounts[i] ??= new IntervalCounts());
        for (const counts of parts) h.add(counts);
        return h;
      });
      // Histograms of a row often hold the same counts (without a modelled link a message's
      // backend and end-to-end ack latencies are one sample): their stats and encoding (a
      // deflate each, most of a row's cost) are computed once. Twins are found before any
      // histogram's counts are taken (emptied).
      const twins = p.histograms.map((parts, i) => (!parts ? -1 : same[i] >= 0 ? same[i] : this.twinOf(dense, i)));
      HISTOGRAMS.forEach(([n], i) => {
        if (!p.histograms[i]) return;
        const twin = twins[i];
        if (twin >= 0) {
          row.histograms[n] = { ...row.histograms[HISTOGRAMS[twin][0]] };
          row.hdr![n] = row.hdr![HISTOGRAMS[twin][0]];
          dense[i]?.clear();
          return;
        }
        row.histograms[n] = dense[i]!.take();
        row.hdr![n] = dense[i]!.encoded();
      });
      this.rows.push(row);
      this.onRow?.(row);
    }
  }

  /** The first histogram before `i` whose shard arrays are the same objects as `i`'s, in order, or -1. */
  private sameArraysAs(parts: ReadonlyArray<HdrCounts[] | null>, i: number): number {
    const mine = parts[i];
    if (!mine) return -1;
    for (let j = 0; j < i; j++) {
      const theirs = parts[j];
      if (theirs && theirs.length === mine.length && theirs.every((counts, k) => counts === mine[k])) return j;
    }
    return -1;
  }

  /** The first histogram before `i` holding the same counts as `i`, or -1. */
  private twinOf(histograms: ReadonlyArray<IntervalCounts | null>, i: number): number {
    for (let j = 0; j < i; j++) if (histograms[j]?.sameCounts(histograms[i]!)) return j;
    return -1;
  }

  /** Flushes the intervals still pending (a shard that stopped early will never report them). */
  finish(): TimelineRow[] {
    this.flushReady(true);
    return this.rows;
  }

  timeline(): readonly TimelineRow[] {
    return this.rows;
  }

  counter(name: string): number {
    const i = COUNTERS.findIndex(([n]) => n === name);
    return i < 0 ? 0 : this.totals[i];
  }

  /** Current fleet-wide value of a gauge (sum or max over shards' latest snapshots). */
  gauge(name: string): number {
    const i = GAUGES.findIndex(([n]) => n === name);
    if (i < 0) return 0;
    let v = 0;
    for (const g of this.latestGauges) v = combineGauge(name, v, g[i]);
    return v;
  }

  encodedHistograms(): Record<string, string> {
    const out: Record<string, string> = {};
    HISTOGRAMS.forEach(([n], i) => (out[n] = encodeHistogram(this.histograms[i])));
    return out;
  }
}
