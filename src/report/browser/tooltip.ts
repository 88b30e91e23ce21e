/** The plot tooltip and the dashed markers (time to 50%, p99 ...). Data strings go through textContent only. */
import type { PlotSpec } from '../plot-spec.js';
import { el, part, seriesColour, type Hidden } from './svg.js';

/** One tooltip line: a colour swatch and its text. */
export type TipRow = [colour: string, text: string];

/** Shows the tooltip: a head line and one line per series, beside x (SVG units) inside the figure. */
export function showTip(fig: Element, svg: SVGSVGElement, W: number, x: number, head: string, rows: TipRow[]): void {
  const tip = part(fig, '.tip');
  const r = svg.getBoundingClientRect();
  tip.textContent = '';
  const h = document.createElement('div');
  h.className = 'tip-head';
  h.textContent = head;
  tip.appendChild(h);
  for (const [colour, text] of rows) {
    const line = document.createElement('div');
    const sw = document.createElement('i');
    sw.style.background = colour;
    line.appendChild(sw);
    line.appendChild(document.createTextNode(text));
    tip.appendChild(line);
  }
  tip.hidden = false;
  const left = (x / W) * r.width;
  tip.style.left = Math.min(Math.max(0, left + 12), r.width - tip.offsetWidth - 4) + 'px';
  tip.style.top = '8px';
}

/**
 * Dashed vertical markers with a haloed label, staggered so close markers stay readable; a marker
 * of a hidden series is hidden with it.
 */
export function drawMarkers(svg: SVGSVGElement, spec: PlotSpec, hidden: Hidden, sx: (v: number) => number, x0: number, x1: number, top: number, bottom: number, W: number): void {
  (spec.markers || []).forEach((mk, k) => {
    if (mk.x < x0 || mk.x > x1 || (mk.series && hidden[mk.series])) return;
    const c = mk.series ? seriesColour(spec, mk.series) : 'var(--muted)';
    const x = sx(mk.x);
    el('line', { x1: x, x2: x, y1: top, y2: bottom, class: 'marker' }, svg).style.stroke = c;
    const right = x > W - 70;
    const t = el('text', { x: right ? x - 4 : x + 4, y: top + 11 + (k % 4) * 13, 'text-anchor': right ? 'end' : 'start', class: 'marker-label' }, svg);
    t.textContent = mk.label;
    t.style.fill = c;
  });
}
