/**
 * What happened when, on run-time plots (summary `events`): outages shade their span under the
 * data, campaign starts, steps, aborts, config pushes and commands are labelled dashed lines over it.
 */
import type { PlotSpec } from '../plot-spec.js';
import { el } from './svg.js';

export function drawPhaseBands(svg: SVGSVGElement, spec: PlotSpec, sx: (v: number) => number, x0: number, x1: number, top: number, bottom: number): void {
  for (const ph of spec.phases || []) {
    if (ph.to === undefined || ph.to < x0 || ph.x > x1) continue;
    const a = sx(Math.max(x0, ph.x));
    const b = sx(Math.min(x1, ph.to));
    const band = el('rect', { x: a, y: top, width: Math.max(2, b - a), height: bottom - top, class: 'phase band', 'data-kind': ph.kind }, svg);
    el('title', {}, band).textContent = ph.label;
  }
}

export function drawPhaseLines(svg: SVGSVGElement, spec: PlotSpec, sx: (v: number) => number, x0: number, x1: number, top: number, bottom: number, W: number): void {
  (spec.phases || []).forEach((ph, k) => {
    if (ph.x < x0 || ph.x > x1) return;
    const x = sx(ph.x);
    const line = el('line', { x1: x, x2: x, y1: top, y2: bottom, class: 'phase line-' + ph.kind, 'data-kind': ph.kind }, svg);
    el('title', {}, line).textContent = ph.label;
    const right = x > W - 110;
    // Staggered upwards from the axis so that close events stay readable.
    const t = el('text', { x: right ? x - 4 : x + 4, y: bottom - 6 - (k % 3) * 12, 'text-anchor': right ? 'end' : 'start', class: 'phase-label', 'data-kind': ph.kind }, svg);
    t.textContent = ph.label;
  });
}

/**
 * The widest x step of a series that is still "the next sample": 2.5 times its median step. A
 * wider step is an interval without samples, and no line is drawn across it.
 */
export function gapOf(points: ReadonlyArray<readonly [number, number]>): number {
  if (points.length < 3) return Infinity;
  const steps: number[] = [];
  for (let i = 1; i < points.length; i++) steps.push(points[i][0] - points[i - 1][0]);
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)] * 2.5;
}
