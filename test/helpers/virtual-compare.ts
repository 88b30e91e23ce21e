import { decodeHistogram } from '../../src/metrics/histogram.js';
import type { TimelineRow } from '../../src/metrics/aggregate.js';
import type { RunSummary } from '../../src/summary/run-summary.js';

/*
 * Comparing two virtual-clock runs that must give the same results (1 and 2 workers, deferred and
 * queued acks): their summaries and timelines without the fields that depend on the wall clock.
 */

/** Histograms compared by value (encodings of equal histograms may differ in compression only). */
function histogramPoints(encoded: string): number[] {
  const h = decodeHistogram(encoded);
  try {
    return [h.totalCount, h.minNonZeroValue, h.maxValue, ...[1, 10, 50, 90, 99, 99.9, 100].map((p) => h.getValueAtPercentile(p))];
  } finally {
    h.destroy();
  }
}

/** The summary without wall-clock fields (`events` too unless `withEvents`: it counts per shard scheduler). */
export function comparableSummary(s: RunSummary, withEvents = false): unknown {
  const { run, generator: _generator, histograms, ...rest } = s;
  // The host's load averages are read off the machine's clock, like startedAt.
  const { id: _id, startedAt: _s, endedAt: _e, wallMs: _w, workers: _k, events: _ev, host: _host, ...runRest } = run as RunSummary['run'] & { events?: number };
  const hist = Object.fromEntries(Object.entries(histograms).map(([k, v]) => [k, { stats: v.stats, points: v.encoded ? histogramPoints(v.encoded) : null }]));
  return { run: withEvents ? { ...runRest, events: _ev } : runRest, histograms: hist, ...rest };
}

/** The timeline without the per-row shard count; histograms by value. */
export function comparableTimeline(rows: TimelineRow[]): unknown {
  return rows.map(({ shards: _shards, hdr, ...row }) => ({
    ...row,
    hdr: hdr ? Object.fromEntries(Object.entries(hdr).map(([k, v]) => [k, histogramPoints(v)])) : undefined,
  }));
}
