import { describe, expect, it } from 'vitest';
import { MetricsAggregator, type TimelineRow } from '../../src/metrics/aggregate.js';
import { C, H, HISTOGRAMS } from '../../src/metrics/catalog.js';
import { addCounts, encodeHistogram, HdrRecorder, histogramStats, newHistogram, recordMicros } from '../../src/metrics/histogram.js';
import { ShardMetrics, type MetricSnapshot } from '../../src/metrics/registry.js';
import { uniform } from '../../src/models/rng.js';
import { expectEncodingOf } from '../helpers/hdr-encoding.js';

const INTERVALS = 40;
const SHARDS = 3;
const INTERVAL_MS = 60_000;

/** Each shard's snapshots, interval by interval. */
function shardRuns(): MetricSnapshot[][] {
  const snapshots: MetricSnapshot[][] = [];
  for (let shard = 0; shard < SHARDS; shard++) {
    const m = new ShardMetrics(shard);
    snapshots.push([]);
    let draw = 0;
    for (let i = 0; i < INTERVALS; i++) {
      // Some intervals are empty on some shards, as in a ramp or an outage.
      const n = (i + shard) % 7 === 0 ? 0 : 50 + Math.floor(200 * uniform(9, shard, i, draw++));
      for (let k = 0; k < n; k++) {
        const us = 500 * Math.exp(4 * uniform(9, shard, i, draw++));
        m.record(H['telemetry.ack.latency'], us);
        // The same value in a second histogram: a row's twins must still come out right.
        m.record(H['telemetry.ack.latency_from_schedule'], us);
      }
      m.inc(C['telemetry.acked'], n);
      snapshots[shard].push(m.snapshot(i, (i + 1) * INTERVAL_MS));
    }
    m.destroy();
  }
  return snapshots;
}

const LATENCY = HISTOGRAMS.findIndex(([n]) => n === 'telemetry.ack.latency');

/** The reference: a library histogram holding the given snapshots' ack-latency counts. */
function libraryOf(parts: MetricSnapshot[]): ReturnType<typeof newHistogram> {
  const lib = newHistogram();
  for (const s of parts) {
    const counts = s.histograms[LATENCY];
    if (counts) addCounts(lib, counts);
  }
  return lib;
}

function rowsOf(order: MetricSnapshot[]): { rows: TimelineRow[]; agg: MetricsAggregator } {
  const agg = new MetricsAggregator(SHARDS);
  for (const s of order) agg.add(s);
  return { rows: agg.finish(), agg };
}

describe('MetricsAggregator', () => {
  const snapshots = shardRuns();
  const interleaved = Array.from({ length: INTERVALS }, (_, i) => snapshots.map((s) => s[i])).flat();
  // On the virtual clock one shard can finish the whole run before another reports its first
  // interval: every interval is pending at once.
  const oneShardFarAhead = [...snapshots[2], ...snapshots[0], ...snapshots[1]];
  const ahead = rowsOf(oneShardFarAhead);

  it('gives each row the library histogram of all shards\' counts of that interval, however far apart the shards run', () => {
    expect(ahead.rows).toHaveLength(INTERVALS);
    for (let i = 0; i < INTERVALS; i++) {
      const lib = libraryOf(snapshots.map((s) => s[i]));
      const row = ahead.rows[i];
      expect(row.interval).toBe(i);
      expect(row.shards).toBe(SHARDS);
      expect(row.counters['telemetry.acked']).toBe(lib.totalCount);
      if (lib.totalCount === 0) {
        expect(row.histograms['telemetry.ack.latency']).toBeUndefined();
        continue;
      }
      expect(row.histograms['telemetry.ack.latency']).toEqual(histogramStats(lib));
      expect(row.histograms['telemetry.ack.latency_from_schedule']).toEqual(histogramStats(lib));
      expectEncodingOf(row.hdr!['telemetry.ack.latency'], lib);
    }
  });

  it('writes the same timeline and run totals whatever order the shards report in', () => {
    const inOrder = rowsOf(interleaved);
    expect(ahead.rows).toEqual(inOrder.rows);
    const all = libraryOf(snapshots.flat());
    for (const { agg } of [ahead, inOrder]) {
      expect(histogramStats(agg.histograms[LATENCY])).toEqual(histogramStats(all));
      expect(encodeHistogram(agg.histograms[LATENCY])).toBe(encodeHistogram(all));
      expect(agg.counter('telemetry.acked')).toBe(all.totalCount);
    }
  });

  it('emits a row as soon as every shard has reported its interval, not at the end', () => {
    const agg = new MetricsAggregator(SHARDS);
    for (const s of snapshots[1]) agg.add(s);
    for (const s of snapshots[0]) agg.add(s);
    expect(agg.timeline()).toHaveLength(0);
    for (let i = 0; i < 5; i++) agg.add(snapshots[2][i]);
    expect(agg.timeline().map((r) => r.interval)).toEqual([0, 1, 2, 3, 4]);
  });

  it('gives the same rows when histograms share their shards\' arrays (one object each) as when each has a copy', () => {
    // Shards that record the three ack latencies as one shared sample send one array for the three;
    // a JSON round trip (merge parts) turns them into copies: the rows must not differ.
    const shared: MetricSnapshot[] = [];
    for (let shard = 0; shard < SHARDS; shard++) {
      const m = new ShardMetrics(shard);
      for (let i = 0; i < INTERVALS; i++) {
        const n = (i + shard) % 5 === 0 ? 0 : 40 + Math.floor(150 * uniform(11, shard, i, 0));
        for (let k = 0; k < n; k++) {
          const us = Math.round(400 * Math.exp(5 * uniform(11, shard, i, k + 1)));
          // Now and then the end-to-end latency differs: that interval's histograms are not twins.
          const e2e = i % 9 === 4 && k === 0 ? us + 5_000 : us;
          m.recordTriple(H['telemetry.ack.latency'], H['telemetry.ack.latency_end_to_end'], H['telemetry.ack.latency_from_schedule'], us, e2e, us);
        }
        shared.push(m.snapshot(i, (i + 1) * INTERVAL_MS));
      }
      m.destroy();
    }
    expect(shared.some((s) => s.histograms[LATENCY] !== null && s.histograms[LATENCY] === s.histograms[H['telemetry.ack.latency_end_to_end']])).toBe(true);
    const copies = shared.map((s) => ({ ...s, histograms: s.histograms.map((h) => (h === null ? null : Float64Array.from(h))) }));
    const a = rowsOf(shared);
    const b = rowsOf(copies);
    expect(a.rows).toEqual(b.rows);
    const e2e = HISTOGRAMS.findIndex(([n]) => n === 'telemetry.ack.latency_end_to_end');
    expect(encodeHistogram(a.agg.histograms[e2e])).toBe(encodeHistogram(b.agg.histograms[e2e]));
    // Where the end-to-end latency differed, its row says so.
    const differing = a.rows.find((r) => r.interval % 9 === 4 && r.histograms['telemetry.ack.latency'] !== undefined);
    expect(differing!.histograms['telemetry.ack.latency_end_to_end']).not.toEqual(differing!.histograms['telemetry.ack.latency']);
  });
  it('adds a twin histogram\'s run counts once while it is a twin, and gives each histogram its own counts after they part', () => {
    const ids = [H['telemetry.ack.latency'], H['telemetry.ack.latency_end_to_end'], H['telemetry.ack.latency_from_schedule'], H['poll.latency']];
    const direct = ids.map(() => newHistogram());
    const m = new ShardMetrics(0);
    const agg = new MetricsAggregator(1);
    let shared = 0;
    for (let interval = 0; interval < 12; interval++) {
      for (let k = 0; k < 300; k++) {
        const a = 1_000 + Math.round(uniform(4, interval, k, 0) * 40_000);
        m.recordTriple(ids[0], ids[1], ids[2], a, a, k % 9 === 0 ? a + 50_000 : a);
        direct.slice(0, 2).forEach((h) => recordMicros(h, a));
        recordMicros(direct[2], k % 9 === 0 ? a + 50_000 : a);
      }
      // The twins part in interval 5 (a sample of the end-to-end latency alone), and the poll
      // latency starts late, in interval 7, with arrays of its own.
      if (interval === 5) {
        m.record(ids[1], 123_456);
        recordMicros(direct[1], 123_456);
      }
      if (interval >= 7) {
        m.record(ids[3], 2_000 + interval);
        recordMicros(direct[3], 2_000 + interval);
      }
      const snap = m.snapshot(interval, (interval + 1) * INTERVAL_MS);
      if (snap.histograms[ids[1]] === snap.histograms[ids[0]]) shared++;
      agg.add(snap);
    }
    // Most intervals sent one array for the first two: the case this covers.
    expect(shared).toBe(11);
    ids.forEach((id, k) => expect(encodeHistogram(agg.histograms[id])).toBe(encodeHistogram(direct[k])));
    agg.finish();
    m.destroy();
  });
  it('keeps twin run counts exact across shards: one shard\'s arrays part while the other\'s stay shared', () => {
    const ids = [H['telemetry.ack.latency'], H['telemetry.ack.latency_end_to_end']];
    const direct = ids.map(() => newHistogram());
    const shards = [new ShardMetrics(0), new ShardMetrics(1)];
    const agg = new MetricsAggregator(2);
    for (let interval = 0; interval < 6; interval++) {
      shards.forEach((m, shard) => {
        for (let k = 0; k < 200; k++) {
          const a = 1_000 + Math.round(uniform(3, shard, interval, k) * 30_000);
          m.recordTriple(ids[0], ids[1], H['telemetry.ack.latency_from_schedule'], a, a, a);
          direct.forEach((h) => recordMicros(h, a));
        }
        // Shard 1 gives the end-to-end latency a sample of its own in interval 3 only.
        if (shard === 1 && interval === 3) {
          m.record(ids[1], 99_999);
          recordMicros(direct[1], 99_999);
        }
        agg.add(m.snapshot(interval, (interval + 1) * INTERVAL_MS));
      });
    }
    ids.forEach((id, k) => expect(encodeHistogram(agg.histograms[id])).toBe(encodeHistogram(direct[k])));
    const rows = agg.finish();
    expect(rows).toHaveLength(6);
    for (const m of shards) m.destroy();
  });

  it('keeps every histogram\'s run counts exact when twins by arrays and by content start, part and skip rows in any pattern', () => {
    // Four histograms fed hand-made counts: per interval and shard, each is absent, a copy of the
    // first one's counts, the very array of the first one, or counts of its own.
    const ids = [H['telemetry.ack.latency'], H['telemetry.ack.latency_end_to_end'], H['telemetry.ack.latency_from_schedule'], H['poll.latency']];
    const direct = ids.map(() => newHistogram());
    const perRow = new Map<number, ReturnType<typeof newHistogram>[]>();
    const agg = new MetricsAggregator(2);
    const snapshotsOf: MetricSnapshot[][] = [[], []];
    for (let interval = 0; interval < 30; interval++) {
      const rowLibs = ids.map(() => newHistogram());
      perRow.set(interval, rowLibs);
      for (let shard = 0; shard < 2; shard++) {
        const histograms: Array<number[] | null> = HISTOGRAMS.map(() => null);
        const own = (k: number): number[] => {
          const rec = new HdrRecorder();
          const n = 1 + Math.floor(uniform(31, interval, shard * 8 + k, 0) * 40);
          for (let j = 0; j < n; j++) rec.record(1_000 + Math.round(uniform(31, interval, shard * 8 + k, j + 1) * 90_000));
          return Array.from(rec.drainCounts()!);
        };
        const first = interval !== 10 && uniform(32, interval, shard, 0) < 0.15 ? null : own(0);
        histograms[ids[0]] = first;
        for (let k = 1; k < ids.length; k++) {
          const u = uniform(33, interval, shard, k);
          // Early rows mostly twins, later ones every pattern; the last histogram starts late, as
          // the first one's twin (it must not inherit the first one's earlier rows).
          const pick = k === 3 && interval < 10 ? 0 : k === 3 && interval === 10 ? 2 : interval < 4 ? (u < 0.8 ? 2 : 3) : Math.floor(u * 4);
          histograms[ids[k]] = pick === 0 ? null : pick === 1 && first ? [...first] : pick === 2 ? first : own(k);
        }
        ids.forEach((id, k) => {
          const counts = histograms[id];
          if (!counts) return;
          addCounts(direct[k], counts);
          addCounts(rowLibs[k], counts);
        });
        snapshotsOf[shard].push({ shard, interval, tMs: (interval + 1) * INTERVAL_MS, counters: new Array(agg.totals.length).fill(0), gauges: Array.from(agg.latestGauges[0]), histograms });
      }
    }
    // Shard 1 runs far ahead of shard 0: rows are emitted in bursts.
    for (const s of [...snapshotsOf[1].slice(0, 20), ...snapshotsOf[0], ...snapshotsOf[1].slice(20)]) agg.add(s);
    const rows = agg.finish();
    expect(rows).toHaveLength(30);
    ids.forEach((id, k) => expect(encodeHistogram(agg.histograms[id])).toBe(encodeHistogram(direct[k])));
    for (const row of rows) {
      const libs = perRow.get(row.interval)!;
      ids.forEach((id, k) => {
        const name = HISTOGRAMS[id][0];
        if (libs[k].totalCount === 0) expect(row.histograms[name]).toBeUndefined();
        else expect(row.histograms[name]).toEqual(histogramStats(libs[k]));
      });
    }
  });
});
