/**
 * Horizontal bars, one row per category and one bar per series in it (failures by cause, energy
 * per profile ...): long category names read better down the side than under bars.
 */
import type { PlotSpec } from '../plot-spec.js';
import { fmt } from './format.js';
import { niceStep, ticks } from './ticks.js';
import { colour, el, part, type Hidden } from './svg.js';
import { showTip, type TipRow } from './tooltip.js';

export function drawBars(fig: Element, spec: PlotSpec, hidden: Hidden): void {
  const host = part(fig, '.plot');
  host.textContent = '';
  const cats = spec.x.categories || [];
  const shown = spec.series.filter((s) => !hidden[s.name]);
  const W = Math.max(280, host.clientWidth || 640);
  const per = Math.max(1, shown.length);
  const barH = per > 2 ? 11 : 18;
  const rowH = per * barH + 12;
  const H = cats.length * rowH + 32;
  const svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, role: 'img', 'aria-label': spec.title + ': ' + spec.subtitle });
  host.appendChild(svg);
  // Category names go down the left: measured in place (same font), ellipsised past 40% of the width.
  const probe = el('text', { class: 'cat' }, svg);
  let widest = 0;
  // (A page not laid out yet measures 0: estimate from the length instead.)
  const width = (t: string): number => {
    probe.textContent = t;
    return probe.getComputedTextLength() || t.length * 6.6;
  };
  for (const c of cats) widest = Math.max(widest, width(c));
  const m = { l: Math.min(Math.round(W * 0.4), Math.ceil(widest) + 18), r: 62, t: 4, b: 28 };
  const fit = (c: string): string => {
    if (width(c) <= m.l - 14) return c;
    let n = c.length;
    while (n > 1 && width(c.slice(0, n) + '…') > m.l - 14) n--;
    return c.slice(0, n) + '…';
  };
  let vmax = spec.y.unit === 'share' ? 1 : 0;
  for (const s of shown) for (const p of s.points) if (p[1] > vmax) vmax = p[1];
  if (!(vmax > 0)) vmax = 1;
  const step = niceStep(vmax, Math.max(2, Math.floor((W - m.l - m.r) / 100)));
  const v1 = Math.ceil(vmax / step - 1e-9) * step;
  const sx = (v: number): number => m.l + (v / v1) * (W - m.l - m.r);
  const grid = el('g', { class: 'grid' }, svg);
  for (const v of ticks('linear', 0, v1, Math.round(v1 / step))) {
    el('line', { x1: sx(v), x2: sx(v), y1: m.t, y2: H - m.b, class: 'v' }, grid);
    el('text', { x: sx(v), y: H - m.b + 18, 'text-anchor': 'middle' }, grid).textContent = fmt(spec.y.unit, v);
  }
  cats.forEach((c, i) => {
    const label = el('text', { x: m.l - 8, y: m.t + i * rowH + rowH / 2 + 4, 'text-anchor': 'end', class: 'cat' }, svg);
    label.textContent = fit(c);
    el('title', {}, label).textContent = c;
  });
  shown.forEach((s, j) => {
    const c = colour(s, spec.series.indexOf(s));
    for (const p of s.points) {
      const y = m.t + p[0] * rowH + 6 + j * barH;
      const bar = el('rect', { x: m.l, y, width: Math.max(1, sx(p[1]) - m.l), height: barH - 2, rx: 2, class: 'bar' }, svg);
      bar.style.fill = c;
      el('text', { x: sx(p[1]) + 5, y: y + barH / 2 + 2.5, class: 'val' }, svg).textContent = fmt(spec.y.unit, p[1]);
    }
  });
  svg.removeChild(probe);
  el('line', { x1: m.l, x2: m.l, y1: m.t, y2: H - m.b, class: 'axis' }, svg);
  const hit = el('rect', { x: 0, y: m.t, width: W, height: H - m.t - m.b, class: 'hit' }, svg);
  const tip = part(fig, '.tip');
  hit.addEventListener('mouseleave', () => {
    tip.hidden = true;
  });
  hit.addEventListener('mousemove', (ev) => {
    const r = svg.getBoundingClientRect();
    const i = Math.floor(((ev.clientY - r.top) * (H / r.height) - m.t) / rowH);
    if (i < 0 || i >= cats.length) {
      tip.hidden = true;
      return;
    }
    const rows: TipRow[] = [];
    for (const s of shown) for (const p of s.points) if (p[0] === i) rows.push([colour(s, spec.series.indexOf(s)), s.name + ': ' + fmt(spec.y.unit, p[1])]);
    showTip(fig, svg, W, m.l, cats[i], rows);
  });
}
