import { decimalsFor } from './tick-precision.js';
import { escapeHtml as e } from './escape.js';
import { formatCount, formatMicros, formatRate } from './format.js';

/**
 * Plots against fleet size for sweep.html, drawn here as static SVG (no script): the x axis is
 * logarithmic (5 to 500,000 devices spans five decades), the y axis linear from zero or, for
 * quantities that grow with the fleet, logarithmic. Colours and line styles come from the run
 * report's stylesheet (html-style.ts), so both pages look alike in light and dark themes.
 */

export type SweepValueUnit = 'us' | 'rate' | 'share';

export interface SweepSeries {
  name: string;
  /** [devices, value]; points with a non-finite value are left out. */
  points: Array<[number, number]>;
}

export interface SweepPlot {
  id: string;
  title: string;
  subtitle: string;
  y: { unit: SweepValueUnit; log?: boolean };
  series: SweepSeries[];
  /** Fleet size of the knee, marked with a vertical line. */
  kneeDevices?: number;
  /** Plots against something other than fleet size (a capacity sweep): the x axis's name, its ticks, and the mark's word ("knee" by default). */
  x?: { label: string; ticks: number[]; mark: string };
  /** A threshold's bound, drawn as a horizontal line. */
  bound?: { value: number; label: string };
}

const W = 560;
const H = 260;
const M = { l: 64, r: 16, t: 14, b: 36 };

export function formatValue(unit: SweepValueUnit, v: number): string {
  if (unit === 'us') return formatMicros(v);
  if (unit === 'rate') return formatRate(v);
  return `${(v * 100).toFixed(v > 0 && v < 0.1 ? 2 : 1)}%`;
}

/** Short fleet sizes for axis labels: 5, 500, 50k, 1M. */
export function formatDevices(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(n);
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * mag;
}

/** A log scale over [lo, hi] (both > 0), padded so that end points do not sit on the frame. */
function logScale(lo: number, hi: number, from: number, to: number, pad: number) {
  let a = Math.log10(lo) - pad;
  let b = Math.log10(hi) + pad;
  if (b - a < 1) {
    const mid = (a + b) / 2;
    a = mid - 0.5;
    b = mid + 0.5;
  }
  const ticks: number[] = [];
  for (let k = Math.ceil(a); k <= Math.floor(b); k++) ticks.push(Math.pow(10, k));
  return { at: (v: number) => from + ((Math.log10(v) - a) / (b - a)) * (to - from), ticks, step: undefined };
}

function linearScale(hi: number, from: number, to: number) {
  const step = niceStep(hi > 0 ? hi : 1, 4);
  const top = Math.max(step, Math.ceil((hi > 0 ? hi : 1) / step) * step);
  const ticks: number[] = [];
  for (let v = 0; v <= top + step * 1e-9; v += step) ticks.push(v);
  return { at: (v: number) => from + (v / top) * (to - from), ticks, step };
}

/** An axis tick: shares with the decimals their step needs ("0.002%, 0.004%", never "0.00%, 0.00%"). */
export function tickLabel(unit: SweepValueUnit, v: number, step: number | undefined): string {
  if (unit !== 'share' || step === undefined) return formatValue(unit, v);
  return v === 0 ? '0%' : `${(v * 100).toFixed(decimalsFor(step * 100))}%`;
}

export function pointCount(plot: SweepPlot): number {
  return plot.series.reduce((n, s) => n + s.points.length, 0);
}

/** The plot as one `<svg>` element; every text from the data is escaped. */
export function renderSweepSvg(plot: SweepPlot): string {
  const series = plot.series.map((s) => ({ ...s, points: s.points.filter(([x, y]) => x > 0 && Number.isFinite(y)) }));
  const pts = series.flatMap((s) => s.points);
  // An empty plot still gets axes (over one decade) rather than NaN coordinates.
  const xs = pts.length > 0 ? pts.map(([x]) => x) : [1, 10];
  const ys = [...pts.map(([, y]) => y), ...(plot.bound ? [plot.bound.value] : [])];
  const xName = plot.x?.label ?? 'devices';
  const sx0 = logScale(Math.min(...xs, plot.kneeDevices ?? Infinity), Math.max(...xs, plot.kneeDevices ?? 0), M.l, W - M.r, 0.15);
  const sx = plot.x ? { ...sx0, ticks: plot.x.ticks } : sx0;
  const positive = ys.filter((y) => y > 0);
  const sy = plot.y.log && positive.length === ys.length && ys.length > 0
    ? logScale(Math.min(...positive), Math.max(...positive), H - M.b, M.t, 0.1)
    : linearScale(Math.max(0, ...ys), H - M.b, M.t);
  const out: string[] = [];
  out.push(`<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${e(`${plot.title}: ${plot.subtitle}`)}">`);
  out.push('<g class="grid">');
  for (const v of sy.ticks) {
    const y = sy.at(v).toFixed(1);
    out.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}"/><text x="${M.l - 8}" y="${(sy.at(v) + 4).toFixed(1)}" text-anchor="end">${e(tickLabel(plot.y.unit, v, sy.step))}</text>`);
  }
  for (const v of sx.ticks) {
    const x = sx.at(v).toFixed(1);
    out.push(`<line class="v" x1="${x}" x2="${x}" y1="${M.t}" y2="${H - M.b}"/><text x="${x}" y="${H - M.b + 18}" text-anchor="middle">${e(formatDevices(v))}</text>`);
  }
  out.push(`<text x="${W - M.r}" y="${H - 4}" text-anchor="end">${e(xName)} (log scale)</text>`);
  out.push('</g>');
  out.push(`<line class="axis" x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}"/>`);
  if (plot.kneeDevices !== undefined) {
    const at = sx.at(plot.kneeDevices);
    const x = at.toFixed(1);
    // The label sits on the side of the line with more room.
    const label = at > W / 2 ? 'dx="-4" text-anchor="end"' : 'dx="4"';
    out.push(`<g class="knee" data-knee="${plot.kneeDevices}"><line class="line ref" style="stroke:var(--c-bad)" x1="${x}" x2="${x}" y1="${M.t}" y2="${H - M.b}"/><text x="${x}" y="${M.t + 10}" ${label} style="fill:var(--c-bad);font-size:11px">${e(plot.x?.mark ?? 'knee')} ${e(formatCount(plot.kneeDevices))}</text></g>`);
  }
  if (plot.bound) {
    const y = sy.at(plot.bound.value).toFixed(1);
    out.push(`<g class="bound" data-bound="${plot.bound.value}"><line class="line ref" style="stroke:var(--c-bad);stroke-dasharray:4 3" x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}"/><text x="${W - M.r}" y="${(Number(y) - 4).toFixed(1)}" text-anchor="end" style="fill:var(--c-bad);font-size:11px">${e(plot.bound.label)}</text></g>`);
  }
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const colour = `var(--s${i % 8})`;
    const d = s.points.map(([x, y], j) => `${j ? 'L' : 'M'}${sx.at(x).toFixed(1)} ${sy.at(y).toFixed(1)}`).join('');
    out.push(`<path class="line" data-series="${e(s.name)}" style="stroke:${colour}" d="${d}"/>`);
    for (const [x, y] of s.points) {
      out.push(`<circle class="dot" cx="${sx.at(x).toFixed(1)}" cy="${sy.at(y).toFixed(1)}" r="3" style="fill:${colour}"><title>${e(`${s.name} at ${formatCount(x)} ${xName}: ${formatValue(plot.y.unit, y)}`)}</title></circle>`);
    }
  });
  out.push('</svg>');
  return out.join('');
}

/** The plot in a card: caption, legend and SVG; `data-points` lets tests check it has data. */
export function sweepFigure(plot: SweepPlot): string {
  const legend = plot.series
    .map((s, i) => (s.points.length === 0 ? '' : `<span class="key"><i style="background:var(--s${i % 8})"></i>${e(s.name)}</span>`))
    .join('');
  return `<figure class="card chart" data-plot="${e(plot.id)}" data-points="${pointCount(plot)}">
  <figcaption><h3>${e(plot.title)}</h3><span class="sub">${e(plot.subtitle)}</span></figcaption>
  <div class="legend">${legend}</div><div class="plot">${renderSweepSvg(plot)}</div>
</figure>`;
}
