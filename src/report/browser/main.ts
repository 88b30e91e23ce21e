/**
 * The report page's script (bundled into report.html; no library, no network): reads the plot
 * specs from the page's JSON block (report/html.ts writes it), draws each `figure[data-plot]` as
 * SVG and redraws on resize. Every string from the data goes through textContent, never innerHTML.
 */
import type { PlotSpec } from '../plot-spec.js';
import { drawBars } from './bars.js';
import { legend } from './legend.js';
import { drawLines } from './lines.js';
import type { Hidden } from './svg.js';

function draw(fig: Element, spec: PlotSpec, hidden: Hidden): void {
  if (spec.mark === 'bars') drawBars(fig, spec, hidden);
  else drawLines(fig, spec, hidden);
}

const data = JSON.parse(document.getElementById('fleetsim-plots')?.textContent ?? '{"plots":[]}') as { plots: PlotSpec[] };
const byId = new Map(data.plots.map((p) => [p.id, p]));
const redraws: Array<() => void> = [];
for (const fig of Array.from(document.querySelectorAll('figure[data-plot]'))) {
  const spec = byId.get(fig.getAttribute('data-plot') ?? '');
  if (!spec) continue;
  const hidden: Hidden = {};
  const redraw = (): void => draw(fig, spec, hidden);
  legend(fig, spec, hidden, redraw);
  redraw();
  redraws.push(redraw);
}
let pending = 0;
window.addEventListener('resize', () => {
  cancelAnimationFrame(pending);
  pending = requestAnimationFrame(() => redraws.forEach((f) => f()));
});
