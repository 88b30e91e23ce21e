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
   * The run's histograms so far: the counts of every timeline row emitted, added as each row's
   * statistics and encoding are taken (IntervalCounts.take), in the same pass. Kept as plain counts
   * during the run (adding into the library's histograms, a method call per count, was a tenth of
   * the coordinator's CPU on one-minute snapshots) and turned into library histograms when read.
   * Adding each shard's snapshot as it came was a second walk of every count, ~60 instructions each
   * (bench/RESULTS.md, issue 17 round 22); a row holds the shards' counts merged.
   */
  private readonly runCounts: Array<IntervalCounts | undefined> = HISTOGRAMS.map(() => undefined);
  /**
   * Per histogram, j >= 0 while every row so far gave it exactly histogram j's counts, both
   * starting in the same row (shared samples, ShardMetrics): its run counts are then j's, not added
   * a second time. -1: its own run counts (or none yet). At the first row where the two differ it
   * takes a copy of j's counts and goes on alone. j is always lower and never a twin itself.
   */
  private readonly runTwinOf = new Int32Array(HISTOGRAMS.length).fill(-1);
  /** Per histogram, 1 once a row emitted held counts of it. */
  private readonly runSeen = new Uint8Array(HISTOGRAMS.length);
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
    for (let i = 0; i < s.histograms.length; i++) {
      const counts = s.histograms[i];
      if (counts !== null) (p.histograms[i] ??= []).push(counts);
    }
    this.flushReady();
  }

  /**
   * The run's histograms so far (hdr-histogram-js, the fixed shape), one per HISTOGRAMS entry: the
   * rows emitted so far, which after `finish` is every interval of every shard.
   */
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
      // deflate each, most of a row's cost) are computed once, from the lowest of them (its root).
      const twins = p.histograms.map((parts, i) => (!parts ? -1 : same[i] >= 0 ? same[i] : this.twinOf(dense, i)));
      const root = (i: number): number => {
        while (twins[i] >= 0) i = twins[i];
        return i;
      };
      this.trackRunTwins(p.histograms, root);
      // A histogram with run counts of its own but this row's counts held by its root adds them
      // before the root's are taken (emptied).
      for (let i = 0; i < twins.length; i++) {
        if (twins[i] < 0 || this.runTwinOf[i] >= 0) continue;
        (this.runCounts[i] ??= new IntervalCounts()).addFrom(dense[root(i)]!);
      }
      HISTOGRAMS.forEach(([n], i) => {
        if (!p.histograms[i]) return;
        if (twins[i] >= 0) {
          const r = HISTOGRAMS[root(i)][0];
          row.histograms[n] = { ...row.histograms[r] };
          row.hdr![n] = row.hdr![r];
          return;
        }
        row.histograms[n] = dense[i]!.take((this.runCounts[i] ??= new IntervalCounts()));
        row.hdr![n] = dense[i]!.encoded();
      });
      // Twins by content (not by arrays) had their shards' counts added: empty them for the next row.
      dense.forEach((h, i) => (twins[i] >= 0 ? h?.clear() : undefined));
      this.built = undefined;
      this.rows.push(row);
      this.onRow?.(row);
    }
  }

  /**
   * Keeps runTwinOf true to the row about to be added: a twin whose counts differ from its
   * owner's in this row (or which has counts when the owner has none, or none when it has some)
   * takes a copy of the owner's run counts, which hold exactly the rows before this one; a
   * histogram first seen in this row together with its root (equal counts) becomes its twin.
   */
  private trackRunTwins(parts: ReadonlyArray<HdrCounts[] | null>, root: (i: number) => number): void {
    const twinOf = this.runTwinOf;
    for (let i = 0; i < twinOf.length; i++) {
      const j = twinOf[i];
      if (j < 0) continue;
      const stays = parts[i] ? parts[j] !== null && root(i) === root(j) : parts[j] === null;
      if (stays) continue;
      (this.runCounts[i] = new IntervalCounts()).addFrom(this.runCounts[j]!);
      twinOf[i] = -1;
    }
    for (let i = 0; i < twinOf.length; i++) {
      if (!parts[i] || this.runSeen[i] || twinOf[i] >= 0) continue;
      const r = root(i);
      if (r !== i && !this.runSeen[r]) twinOf[i] = r;
    }
    for (let i = 0; i < twinOf.length; i++) if (parts[i]) this.runSeen[i] = 1;
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
