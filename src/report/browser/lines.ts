/**
 * Lines (time series, percentile curves) and vertical histograms on a shared frame: y from 0 to
 * a round maximum, x over the data (or the fixed domain the spec gives), a crosshair and a tooltip
 * with the nearest point of each series.
 */
import type { PlotSeries, PlotSpec } from '../plot-spec.js';
import { fmt, xLabel, yTick } from './format.js';
import { drawPhaseBands, drawPhaseLines, gapOf } from './phases.js';
import { niceStep, ticks } from './ticks.js';
import { colour, el, part, type Hidden } from './svg.js';
import { drawMarkers, showTip } from './tooltip.js';

export function drawLines(fig: Element, spec: PlotSpec, hidden: Hidden): void {
  const host = part(fig, '.plot');
  host.textContent = '';
  const W = Math.max(280, host.clientWidth || 640);
  const H = Math.round(Math.min(300, Math.max(200, W * 0.42)));
  const m = { l: 62, r: 14, t: 10, b: 34 };
  const shown = spec.series.filter((s) => !hidden[s.name]);
  let all: Array<[number, number]> = [];
  for (const s of shown) for (const p of s.points) all.push(p);
  if (all.length === 0) all = [
    [0, 0],
    [1, 1],
  ];
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const x0 = spec.x.min !== undefined ? Math.min(spec.x.min, Math.min(...xs)) : Math.min(...xs);
  let x1 = spec.x.max !== undefined ? Math.max(spec.x.max, Math.max(...xs)) : Math.max(...xs);
  if (x1 <= x0) x1 = x0 + 1;
  let yMax = Math.max(...ys);
  if (spec.y.unit === 'share') yMax = Math.max(yMax, 1);
  if (!(yMax > 0)) yMax = 1;
  // Devices, messages and commands come whole: no tick at half a device.
  const yStep = spec.y.unit === 'count' ? Math.max(1, niceStep(yMax, 4)) : niceStep(yMax, 4);
  const y1 = Math.ceil(yMax / yStep - 1e-9) * yStep;
  const yTicks = ticks('linear', 0, y1, Math.round(y1 / yStep));
  const sx = (v: number): number => m.l + ((v - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (v: number): number => H - m.b - (v / y1) * (H - m.t - m.b);
  const svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img', 'aria-label': spec.title + ': ' + spec.subtitle });
  const grid = el('g', { class: 'grid' }, svg);
  for (const v of yTicks) {
    el('line', { x1: m.l, x2: W - m.r, y1: sy(v), y2: sy(v) }, grid);
    el('text', { x: m.l - 8, y: sy(v) + 4, 'text-anchor': 'end' }, grid).textContent = yTick(spec.y.unit, v, yStep);
  }
  const xTicks = ticks(spec.x.kind, x0, x1, Math.max(3, Math.floor(W / 110)), spec.x.unit);
  const xStep = xTicks.length > 1 ? xTicks[1] - xTicks[0] : x1 - x0;
  for (const v of xTicks) {
    el('line', { x1: sx(v), x2: sx(v), y1: m.t, y2: H - m.b, class: 'v' }, grid);
    el('text', { x: sx(v), y: H - m.b + 18, 'text-anchor': 'middle' }, grid).textContent = xLabel(spec, v, xStep);
  }
  drawPhaseBands(svg, spec, sx, x0, x1, m.t, H - m.b);
  el('line', { x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b, class: 'axis' }, svg);
  spec.series.forEach((s, i) => {
    if (hidden[s.name] || s.points.length === 0) return;
    const c = colour(s, i);
    if (spec.mark === 'histogram') {
      const half = (spec.binWidth ?? 0) / 2;
      for (const p of s.points) {
        if (p[1] <= 0) continue;
        const bx = sx(p[0] - half);
        const bw = Math.max(1, sx(p[0] + half) - bx - 1);
        el('rect', { x: bx + 0.5, y: sy(p[1]), width: bw, height: sy(0) - sy(p[1]), class: 'bar' }, svg).style.fill = c;
      }
      return;
    }
    const d = s.points.map((p, j) => (j ? 'L' : 'M') + sx(p[0]).toFixed(1) + ' ' + sy(p[1]).toFixed(1)).join('');
    // No line across intervals without samples (time axes only: percentile steps are uneven by nature).
    const gap = spec.x.kind === 'time' ? gapOf(s.points) : Infinity;
    const dLine = s.points.map((p, j) => (j && p[0] - s.points[j - 1][0] <= gap ? 'L' : 'M') + sx(p[0]).toFixed(1) + ' ' + sy(p[1]).toFixed(1)).join('');
    if (spec.area && i === 0 && s.points.length > 1) {
      const last = s.points[s.points.length - 1];
      const a = el('path', { d: d + 'L' + sx(last[0]).toFixed(1) + ' ' + sy(0) + 'L' + sx(s.points[0][0]).toFixed(1) + ' ' + sy(0) + 'Z', class: 'area' }, svg);
      a.style.fill = c;
    }
    const line = el('path', { d: dLine, class: s.reference ? 'line ref' : 'line', 'data-series': s.name }, svg);
    line.style.stroke = c;
    if (s.points.length <= 32 && !s.reference) {
      for (const p of s.points) el('circle', { cx: sx(p[0]), cy: sy(p[1]), r: 2.5, class: 'dot' }, svg).style.fill = c;
    }
  });
  drawMarkers(svg, spec, hidden, sx, x0, x1, m.t, H - m.b, W);
  drawPhaseLines(svg, spec, sx, x0, x1, m.t, H - m.b, W);
  const cross = el('line', { y1: m.t, y2: H - m.b, class: 'cross' }, svg);
  const hit = el('rect', { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, class: 'hit' }, svg);
  host.appendChild(svg);
  const tip = part(fig, '.tip');
  hit.addEventListener('mouseleave', () => {
    tip.hidden = true;
    cross.style.display = 'none';
  });
  hit.addEventListener('mousemove', (ev) => {
    const r = svg.getBoundingClientRect();
    const xv = x0 + (((ev.clientX - r.left) * (W / r.width) - m.l) / (W - m.l - m.r)) * (x1 - x0);
    const rows: Array<[PlotSeries, [number, number]]> = [];
    let at: number | null = null;
    for (const s of shown) {
      if (s.reference || s.points.length === 0) continue;
      let best = s.points[0];
      for (const p of s.points) if (Math.abs(p[0] - xv) < Math.abs(best[0] - xv)) best = p;
      if (at === null) at = best[0];
      rows.push([s, best]);
    }
    if (at === null) return;
    cross.setAttribute('x1', String(sx(at)));
    cross.setAttribute('x2', String(sx(at)));
    cross.style.display = 'block';
    const binWidth = spec.binWidth ?? 0;
    const head = spec.mark === 'histogram' ? xLabel(spec, at - binWidth / 2) + ' – ' + xLabel(spec, at + binWidth / 2) : xLabel(spec, at);
    showTip(
      fig,
      svg,
      W,
      sx(at),
      head,
      rows.map(([s, p]) => [colour(s, spec.series.indexOf(s)), s.name + ': ' + fmt(spec.y.unit, p[1])]),
    );
  });
}
