import type { TimelineRow } from '../metrics/aggregate.js';
import { decodeHistogram, histogramStats, newHistogram, percentileCurve, type HistogramStats } from '../metrics/histogram.js';
import { fleetPlots } from './html-fleet-plots.js';
import { yearsPlots } from './html-years-plots.js';
import type { RunSummary } from '../summary/run-summary.js';
import type { PlotSeries, PlotSpec } from './plot-spec.js';

/**
 * The data behind every plot of report.html, computed at render time from the summary and the
 * timeline and embedded as JSON; the page's script only draws it. A plot exists only when it
 * has points, and the fleet plots only when the summary carries their optional fields: the
 * report never invents data.
 */

/** Above this many intervals the timeline is bucketed so the page stays light. */
export const MAX_POINTS_PER_SERIES = 720;
/**
 * Exact bucket merging decodes one HDR histogram per interval and metric (~0.1 ms each); past
 * this many the worst-interval fallback keeps report writing under about half a second.
 */
const MAX_EXACT_DECODES = 4000;

interface Bucket {
  tMs: number;
  /** Length of the bucket in ms. */
  spanMs: number;
  rows: TimelineRow[];
}

/** Groups consecutive rows into at most MAX_POINTS_PER_SERIES buckets. */
function buckets(timeline: readonly TimelineRow[]): Bucket[] {
  const per = Math.max(1, Math.ceil(timeline.length / MAX_POINTS_PER_SERIES));
  const out: Bucket[] = [];
  let prevEnd = 0;
  for (let i = 0; i < timeline.length; i += per) {
    const rows = timeline.slice(i, i + per);
    const end = rows[rows.length - 1].tMs;
    out.push({ tMs: end, spanMs: end - prevEnd, rows });
    prevEnd = end;
  }
  return out;
}

/** Per-second rate of a counter over each bucket (counters in rows are per-interval deltas). */
function rateSeries(bs: readonly Bucket[], counter: string): Array<[number, number]> {
  const pts: Array<[number, number]> = [];
  for (const b of bs) {
    if (b.spanMs <= 0) continue;
    const sum = b.rows.reduce((acc, r) => acc + (r.counters[counter] ?? 0), 0);
    pts.push([b.tMs, (sum / b.spanMs) * 1000]);
  }
  return pts;
}

/** Gauge at the end of each bucket. */
function gaugeSeries(bs: readonly Bucket[], gauge: string): Array<[number, number]> {
  return bs.filter((b) => gauge in b.rows[b.rows.length - 1].gauges).map((b) => [b.tMs, b.rows[b.rows.length - 1].gauges[gauge]]);
}

/** Largest value of a gauge over each bucket (lag-style gauges: the worst matters). */
function gaugeMaxSeries(bs: readonly Bucket[], gauge: string): Array<[number, number]> {
  return bs.filter((b) => b.rows.some((r) => gauge in r.gauges)).map((b) => [b.tMs, Math.max(...b.rows.map((r) => r.gauges[gauge] ?? 0))]);
}

/**
 * Latency percentiles over time, one point per bucket. A bucket of several intervals merges their
 * encoded HDR histograms exactly when the timeline carries them; otherwise it keeps the worst
 * interval's value (merging percentiles is not exact, and hiding a bad interval is worse than
 * overstating it).
 */
function latencySeries(bs: readonly Bucket[], metric: string, exact: boolean): Record<'p50' | 'p95' | 'p99', Array<[number, number]>> {
  const out = { p50: [] as Array<[number, number]>, p95: [] as Array<[number, number]>, p99: [] as Array<[number, number]> };
  for (const b of bs) {
    const rows = b.rows.filter((r) => (r.histograms[metric]?.count ?? 0) > 0);
    if (rows.length === 0) continue;
    let st: Pick<HistogramStats, 'p50' | 'p95' | 'p99'>;
    if (rows.length === 1) st = rows[0].histograms[metric];
    else if (exact && rows.every((r) => r.hdr?.[metric])) {
      const h = newHistogram();
      for (const r of rows) {
        const part = decodeHistogram(r.hdr![metric]);
        h.add(part);
        part.destroy();
      }
      st = histogramStats(h);
      h.destroy();
    } else {
      const worst = (k: 'p50' | 'p95' | 'p99') => Math.max(...rows.map((r) => r.histograms[metric][k]));
      st = { p50: worst('p50'), p95: worst('p95'), p99: worst('p99') };
    }
    out.p50.push([b.tMs, st.p50]);
    out.p95.push([b.tMs, st.p95]);
    out.p99.push([b.tMs, st.p99]);
  }
  return out;
}

/** x position of a percentile on a "nines" axis: 90% → 1, 99% → 2, 99.9% → 3. */
export function ninesOf(percentile: number, cap = 6): number {
  if (percentile <= 0) return 0;
  if (percentile >= 100) return cap;
  return Math.min(cap, -Math.log10(1 - percentile / 100));
}

/** The HDR percentile curve of a run-wide histogram, decoded from its encoded form. */
function hdrCurve(encoded: string): { points: Array<[number, number]>; maxAt: number } {
  const h = decodeHistogram(encoded);
  try {
    const curve = percentileCurve(h);
    // 100% (the max) sits one nine past the last finite percentile the curve holds.
    const lastFinite = Math.max(0, ...curve.filter(([p]) => p < 100).map(([p]) => ninesOf(p)));
    const maxAt = Math.ceil(lastFinite - 1e-9) + 1;
    return { points: curve.map(([p, v]) => [p >= 100 ? maxAt : ninesOf(p), v]), maxAt };
  } finally {
    h.destroy();
  }
}

function timeAxis(summary: RunSummary, timeline: readonly TimelineRow[]): PlotSpec['x'] {
  const end = Math.max(summary.run.durationMs, timeline.length > 0 ? timeline[timeline.length - 1].tMs : 0);
  return { kind: 'time', unit: 'ms', label: 'run time', min: 0, max: end > 0 ? end : undefined };
}
const ERROR_COUNTERS = ['telemetry.failed', 'telemetry.dropped', 'provision.failed', 'mqtt.connect.failed', 'mqtt.connection_lost', 'poll.failed', 'errors.http_4xx', 'errors.http_5xx', 'errors.network', 'errors.mqtt_refused', 'errors.tls'];

function nonEmpty(series: PlotSeries[]): PlotSeries[] {
  return series.filter((s) => s.points.length > 0);
}

function timelinePlots(summary: RunSummary, timeline: readonly TimelineRow[]): PlotSpec[] {
  const bs = buckets(timeline);
  const plots: PlotSpec[] = [];
  const timeX = timeAxis(summary, timeline);
  const bucketNote = bs.length < timeline.length ? ` · ${timeline.length} intervals shown as ${bs.length} points` : '';
  // A run without telemetry (an OTA rollout, a provisioning line) has no throughput to show.
  if (summary.accounting.generated > 0) plots.push({
    id: 'throughput', section: 'throughput', title: 'Telemetry throughput', subtitle: `messages per second${bucketNote}`,
    x: timeX, y: { unit: 'rate', label: 'msg/s' }, area: true,
    series: nonEmpty([{ name: 'sent', points: rateSeries(bs, 'telemetry.sent') }, { name: 'acked', points: rateSeries(bs, 'telemetry.acked') }]),
  });
  // Errors that happened at all; with none, the two telemetry error counters show a flat zero.
  const seen = ERROR_COUNTERS.filter((c) => timeline.some((r) => (r.counters[c] ?? 0) > 0));
  const errorCounters = seen.length > 0 ? seen : ['telemetry.failed', 'telemetry.dropped'];
  plots.push({
    id: 'errors', section: 'throughput', title: 'Errors', subtitle: seen.length > 0 ? 'per second, by kind' : 'per second · no errors in this run',
    x: timeX, y: { unit: 'rate', label: 'errors/s' },
    series: nonEmpty(errorCounters.map((c) => ({ name: c, points: rateSeries(bs, c) }))),
  });
  plots.push({
    id: 'devices', section: 'throughput', title: 'Devices', subtitle: `online and provisioned, of ${summary.run.devices.toLocaleString('en-US')}`,
    x: timeX, y: { unit: 'count', label: 'devices' }, area: true,
    series: nonEmpty([{ name: 'provisioned', points: gaugeSeries(bs, 'devices.provisioned') }, { name: 'online', points: gaugeSeries(bs, 'devices.online') }]),
  });
  const lag = gaugeMaxSeries(bs, 'generator.schedule_lag');
  const loop = gaugeMaxSeries(bs, 'generator.event_loop_delay');
  // The bound is drawn only when the data comes near it; far above, it would flatten the lines.
  const worst = Math.max(0, ...lag.map(([, v]) => v), ...loop.map(([, v]) => v));
  const bound = summary.generator.boundMs;
  // On the virtual clock nothing can fall behind: the generator chart would be a flat zero.
  if (summary.run.clock !== 'virtual') plots.push({
    id: 'generator', section: 'generator', title: 'Generator health', subtitle: `worst shard · the run is invalid above ${bound}ms`,
    x: timeX, y: { unit: 'ms', label: 'ms' },
    series: nonEmpty([
      { name: 'schedule lag', points: lag },
      { name: 'event-loop delay p99', points: loop },
      { name: 'bound', reference: true, points: lag.length > 0 && worst * 4 >= bound ? [[0, bound], [lag[lag.length - 1][0], bound]] : [] },
    ]),
  });
  const decodes = bs.length < timeline.length ? timeline.length * Object.keys(summary.histograms).length : 0;
  for (const metric of Object.keys(summary.histograms)) {
    const lat = latencySeries(bs, metric, decodes <= MAX_EXACT_DECODES);
    plots.push({
      id: `latency.${metric}`, section: 'latency', title: metric, subtitle: `percentiles per interval${bucketNote}`,
      x: timeX, y: { unit: 'us', label: 'latency' },
      series: nonEmpty([
        { name: 'p50', points: lat.p50 },
        { name: 'p95', points: lat.p95 },
        { name: 'p99', points: lat.p99 },
      ]),
    });
  }
  return plots;
}

function hdrPlots(summary: RunSummary): PlotSpec[] {
  return Object.entries(summary.histograms)
    .filter(([, h]) => h.stats.count > 0)
    .map(([metric, h]) => {
      const curve = hdrCurve(h.encoded);
      return {
        id: `hdr.${metric}`, section: 'latency' as const, title: metric, subtitle: `latency by percentile · ${h.stats.count.toLocaleString('en-US')} samples`,
        x: { kind: 'nines' as const, unit: 'percentile' as const, label: 'percentile', maxAt: curve.maxAt }, y: { unit: 'us' as const, label: 'latency' }, area: true,
        series: [{ name: 'whole run', points: curve.points }],
      };
    });
}

/** Every plot the report shows, in page order; plots without points are left out. */
export function buildPlots(summary: RunSummary, timeline: readonly TimelineRow[]): PlotSpec[] {
  const phases = (summary.events ?? []).map((ev) => ({ x: ev.tMs, ...(ev.endMs === undefined ? {} : { to: ev.endMs }), kind: ev.kind, label: ev.label }));
  return [...timelinePlots(summary, timeline), ...hdrPlots(summary), ...fleetPlots(summary), ...yearsPlots(summary)]
    .filter((p) => p.series.some((s) => s.points.length > 0 && !s.reference))
    .map((p) => (phases.length > 0 && p.x.kind === 'time' && p.x.label === 'run time' ? { ...p, phases } : p));
}

export function pointCount(plot: PlotSpec): number {
  return plot.series.reduce((n, s) => n + s.points.length, 0);
}
