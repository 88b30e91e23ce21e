/** The legend of a plot: one toggle button per series with data; a click hides or shows it. */
import type { PlotSpec } from '../plot-spec.js';
import { colour, part, type Hidden } from './svg.js';

export function legend(fig: Element, spec: PlotSpec, hidden: Hidden, redraw: () => void): void {
  const box = part(fig, '.legend');
  box.textContent = '';
  // A lone series of bars needs no key: the title says what the bars are.
  if (spec.mark && spec.mark !== 'line' && spec.series.length === 1) return;
  spec.series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'key' + (s.reference ? ' ref' : '') + (hidden[s.name] ? ' off' : '');
    const sw = document.createElement('i');
    sw.style.background = colour(s, i);
    b.appendChild(sw);
    b.appendChild(document.createTextNode(s.name));
    b.setAttribute('aria-pressed', hidden[s.name] ? 'false' : 'true');
    b.addEventListener('click', () => {
      hidden[s.name] = !hidden[s.name];
      legend(fig, spec, hidden, redraw);
      redraw();
    });
    box.appendChild(b);
  });
}
