import { decodeHistogram, recordedValues } from '../metrics/histogram.js';
import type { PlotSeries, PlotSpec } from './plot-spec.js';
import type { FleetResults, HistogramSummary, RunSummary } from '../summary/run-summary.js';

/**
 * The plots of the optional `fleet` results: the fleet's state over time (offline share, battery)
 * and fleet operations (rollout, update outcomes, bytes, energy, command round trips, config
 * propagation). Each exists only when the summary carries its field and the field has data.
 */

type Point = [number, number];

const nonEmpty = (series: PlotSeries[]): PlotSeries[] => series.filter((s) => s.points.length > 0);

/** Time plots of the fleet span the whole run, so that they line up with the timeline plots. */
function runAxis(summary: RunSummary): PlotSpec['x'] {
  return { kind: 'time', unit: 'ms', label: 'run time', min: 0, max: summary.run.durationMs > 0 ? summary.run.durationMs : undefined };
}

/** A horizontal bar chart: one bar per category and series; categories with no value left out. */
function barPlot(base: Omit<PlotSpec, 'x' | 'series' | 'mark'>, categories: string[], series: Array<{ name: string; values: number[] }>): PlotSpec {
  const keep = categories.flatMap((_, i) => (series.some((s) => s.values[i] > 0) ? [i] : []));
  return {
    ...base,
    mark: 'bars',
    x: { kind: 'category', unit: 'count', label: '', categories: keep.map((i) => categories[i]) },
    series: series.map((s) => ({ name: s.name, points: keep.map((i, k) => [k, s.values[i]] as Point) })),
  };
}

/** The "nice" bin width (1, 2, 2.5 or 5 times a power of ten) nearest to `bins` bins over span. */
function niceWidth(span: number, bins: number): number {
  const raw = Math.max(span / bins, 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const n = raw / mag;
  return (n < 1.5 ? 1 : n < 2.25 ? 2 : n < 3.5 ? 2.5 : n < 7.5 ? 5 : 10) * mag;
}

/**
 * A latency histogram's distribution as about 30 equal-width bins (µs). A far tail (max above
 * 4 × p99) would squash the rest into one bin, so past p99.9 values are counted in the last bin.
 */
export function latencyBins(h: HistogramSummary, bins = 30): { points: Point[]; binWidth: number; min: number; max: number; clipped: boolean } | undefined {
  const st = h.stats;
  if (st.count === 0) return undefined;
  const decoded = decodeHistogram(h.encoded);
  const values = recordedValues(decoded);
  decoded.destroy();
  const clipped = st.max > 4 * st.p99 && st.p999 < st.max;
  const hi = clipped ? st.p999 : st.max;
  const width = niceWidth(hi - st.min, bins);
  const start = Math.floor(st.min / width) * width;
  const n = Math.max(1, Math.floor((hi - start) / width) + 1);
  const counts = new Array<number>(n).fill(0);
  for (const [v, c] of values) counts[Math.min(n - 1, Math.max(0, Math.floor((v - start) / width)))] += c;
  return { points: counts.map((c, i) => [start + (i + 0.5) * width, c] as Point), binWidth: width, min: start, max: start + n * width, clipped };
}

function rolloutPlot(summary: RunSummary, f: FleetResults): PlotSpec | undefined {
  if (!f.rollout?.length) return undefined;
  const markers: NonNullable<PlotSpec['markers']> = [];
  for (const r of f.ota?.releases ?? []) {
    markers.push({ x: r.startMs, label: 'start', series: r.release });
    for (const [share, t] of [['50%', r.timeTo50Ms], ['95%', r.timeTo95Ms], ['99%', r.timeTo99Ms]] as const) {
      if (t !== null) markers.push({ x: r.startMs + t, label: share, series: r.release });
    }
  }
  return {
    id: 'rollout', section: 'fleet-ops', title: 'Fleet share by release', subtitle: markers.length > 0 ? 'markers: campaign start, time to 50/95/99% of compatible devices' : 'share of the fleet on each release',
    x: runAxis(summary), y: { unit: 'share', label: 'fleet share' }, markers,
    series: nonEmpty(f.rollout.map((r) => ({ name: r.release, points: r.points.map(([t, s]) => [t, s] as Point) }))),
  };
}

function otaPlots(f: FleetResults): PlotSpec[] {
  const o = f.ota;
  if (!o) return [];
  const plots: PlotSpec[] = [];
  const causes = Object.entries(o.failuresByCause).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  plots.push(barPlot({ id: 'ota-failures', section: 'fleet-ops', title: 'Failed and rolled back, by cause', subtitle: 'updates', y: { unit: 'count', label: 'updates' } },
    causes.map(([c]) => c), [{ name: 'failures', values: causes.map(([, n]) => n) }]));
  const bytes: Array<[string, number]> = [['downloaded', o.bytesDownloaded], ['saved by resume', o.bytesSavedByResume], ['saved by deltas', o.bytesSavedByDelta]];
  if (o.backend) bytes.push(['served by the backend', o.backend.artifactBytesServed]);
  plots.push(barPlot({ id: 'ota-bytes', section: 'fleet-ops', title: 'Bytes moved and saved', subtitle: 'artifact bytes', y: { unit: 'bytes', label: 'bytes' } },
    bytes.map(([k]) => k), [{ name: 'bytes', values: bytes.map(([, v]) => v) }]));
  const energy = o.energyPerUpdate.filter((e) => e.jPerUpdate !== null);
  plots.push(barPlot({ id: 'ota-energy', section: 'fleet-ops', title: 'OTA energy per committed update', subtitle: 'by hardware profile', y: { unit: 'joules', label: 'J per update' } },
    energy.map((e) => e.profile), [{ name: 'J per update', values: energy.map((e) => e.jPerUpdate ?? 0) }]));
  return plots;
}

function commandRttPlot(summary: RunSummary): PlotSpec | undefined {
  const h = summary.histograms['command.rtt'];
  const bins = h ? latencyBins(h) : undefined;
  if (!h || !bins) return undefined;
  const st = h.stats;
  return {
    id: 'command-rtt', section: 'fleet-ops', title: 'Round-trip distribution', subtitle: `${st.count.toLocaleString('en-US')} answers${bins.clipped ? ' · slower than p99.9 counted in the last bin' : ''}`,
    mark: 'histogram', binWidth: bins.binWidth,
    x: { kind: 'linear', unit: 'us', label: 'round trip', min: bins.min, max: bins.max }, y: { unit: 'count', label: 'commands' },
    markers: [{ x: st.p50, label: 'p50' }, { x: st.p95, label: 'p95' }, { x: st.p99, label: 'p99' }],
    series: [{ name: 'commands', points: bins.points }],
  };
}

function configPlot(f: FleetResults): PlotSpec | undefined {
  if (!f.configPropagation?.length) return undefined;
  const c = f.config;
  const markers = c ? ([['p50', c.p50Ms], ['p95', c.p95Ms], ['p99', c.p99Ms]] as const).flatMap(([label, x]) => (x === null ? [] : [{ x, label }])) : [];
  return {
    id: 'config-propagation', section: 'fleet-ops', title: 'Share of the fleet that applied the change', subtitle: 'by time since it was published', area: true,
    x: { kind: 'time', unit: 'ms', label: 'time since change', min: 0 }, y: { unit: 'share', label: 'applied' }, markers,
    series: [{ name: 'applied', points: f.configPropagation.map(([t, s]) => [t, s] as Point) }],
  };
}

function fleetStatePlots(summary: RunSummary, f: FleetResults): PlotSpec[] {
  const plots: PlotSpec[] = [];
  if (f.offlineShare?.length) {
    plots.push({
      id: 'offline-share', section: 'fleet', title: 'Offline share', subtitle: 'share of the fleet offline', area: true,
      x: runAxis(summary), y: { unit: 'share', label: 'offline' }, series: [{ name: 'offline', points: f.offlineShare.map(([t, s]) => [t, s] as Point) }],
    });
  }
  if (f.batteryLifetime?.length) {
    // Survival form: the share of a profile's devices still running after x days.
    plots.push({
      id: 'battery-lifetime', section: 'fleet', title: 'Battery lifetime', subtitle: 'share of devices still running, by days in the field',
      x: { kind: 'linear', unit: 'days', label: 'days', min: 0 }, y: { unit: 'share', label: 'still running' },
      series: nonEmpty(f.batteryLifetime.map((b) => ({ name: `${b.profile} (${b.devices.toLocaleString('en-US')})`, points: b.percentiles.map(([p, d]) => [d, 1 - p / 100] as Point) }))),
    });
  }
  if (f.depletedOverTime?.some(([, n]) => n > 0)) {
    plots.push({
      id: 'depleted', section: 'fleet', title: 'Depleted batteries', subtitle: f.projectedFromMs !== undefined ? 'devices with an empty battery · projected past the marker' : 'devices with an empty battery', area: true,
      x: { kind: 'time', unit: 'ms', label: 'run time', min: 0 }, y: { unit: 'count', label: 'devices' },
      markers: f.projectedFromMs !== undefined ? [{ x: f.projectedFromMs, label: 'projected →' }] : undefined,
      series: [{ name: 'depleted', points: f.depletedOverTime.map(([t, n]) => [t, n] as Point) }],
    });
  }
  const energy = (f.energyByActivity ?? []).map((e) => ({ ...e, total: e.sleepJ + e.cpuJ + e.radioJ + e.otaJ })).filter((e) => e.total > 0);
  if (energy.length > 0) {
    plots.push(barPlot({ id: 'energy-by-activity', section: 'fleet', title: 'Energy by activity', subtitle: 'share of each profile\'s energy', y: { unit: 'share', label: 'share' } },
      energy.map((e) => e.profile), (['sleep', 'cpu', 'radio', 'ota'] as const).map((k) => ({ name: k, values: energy.map((e) => e[`${k}J`] / e.total) }))));
  }
  return plots;
}

/** The fleet plots in page order; the caller drops those without points. */
export function fleetPlots(summary: RunSummary): PlotSpec[] {
  const f = summary.fleet;
  const rtt = commandRttPlot(summary);
  if (!f) return rtt ? [rtt] : [];
  return [rolloutPlot(summary, f), ...otaPlots(f), rtt, configPlot(f), ...fleetStatePlots(summary, f)].filter((p): p is PlotSpec => p !== undefined);
}
