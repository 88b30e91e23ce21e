/** SVG elements and series colours (CSS variables of the page's stylesheet, report/html-style.ts). */
import type { PlotSeries, PlotSpec } from '../plot-spec.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Series whose meaning has a colour of its own, whatever their position. */
const NAMED: Record<string, string> = {
  sent: 'var(--c-sent)',
  acked: 'var(--c-acked)',
  p50: 'var(--c-p50)',
  p95: 'var(--c-p95)',
  p99: 'var(--c-p99)',
  bound: 'var(--c-bad)',
  online: 'var(--c-acked)',
  provisioned: 'var(--c-sent)',
  'whole run': 'var(--c-sent)',
  failures: 'var(--c-bad)',
};

export type Attrs = Record<string, string | number>;

/** Creates an SVG element with attributes, appended to `parent` when given. */
export function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Attrs, parent?: Element): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, name);
  for (const k in attrs) e.setAttribute(k, String(attrs[k]));
  if (parent) parent.appendChild(e);
  return e;
}

export function colour(s: PlotSeries, i: number): string {
  return NAMED[s.name] || 'var(--s' + (i % 8) + ')';
}

export function seriesColour(spec: PlotSpec, name: string): string {
  for (let i = 0; i < spec.series.length; i++) if (spec.series[i].name === name) return colour(spec.series[i], i);
  return 'var(--muted)';
}

/** Which series the reader switched off in the legend, by name. */
export type Hidden = Record<string, boolean>;

/** A figure's parts the drawing code needs (the page renders them: report/html-parts.ts). */
export function part(fig: Element, selector: string): HTMLElement {
  const e = fig.querySelector<HTMLElement>(selector);
  if (!e) throw new Error(`report: figure without ${selector}`);
  return e;
}
