import { escapeHtml as e } from './escape.js';
import { pointCount } from './html-plots.js';
import type { PlotSpec } from './plot-spec.js';

/** Markup pieces report.html's sections share. Every string passed in is escaped here. */

export function pill(ok: boolean, yes = 'pass', no = 'fail'): string {
  return `<span class="pill ${ok ? 'good' : 'bad'}">${ok ? '✓' : '✗'} ${e(ok ? yes : no)}</span>`;
}

/** A plot's frame: the page's script draws the SVG into `.plot` from the embedded spec. */
export function figure(p: PlotSpec, framed = true): string {
  return `<figure class="${framed ? 'card ' : ''}chart ${p.mark ?? 'line'}" data-plot="${e(p.id)}" data-points="${pointCount(p)}">
  <figcaption><h3>${e(p.title)}</h3><span class="sub">${e(p.subtitle)}</span></figcaption>
  <div class="legend"></div><div class="plot"></div><div class="tip" hidden></div>
</figure>`;
}

/** A definition list of label/value pairs (values right-aligned); both are plain text. */
export function kv(pairs: Array<[label: string, value: string]>): string {
  return `<dl class="kv">${pairs.map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`).join('')}</dl>`;
}

/** A table of plain-text cells; columns listed in `numeric` are right-aligned. */
export function table(head: string[], rows: string[][], numeric: ReadonlySet<number> = new Set(), id?: string): string {
  const cell = (tag: 'th' | 'td', text: string, c: number) => `<${tag}${numeric.has(c) ? ' class="num"' : ''}>${e(text)}</${tag}>`;
  return `<div class="table-wrap"><table${id ? ` id="${e(id)}"` : ''}><thead><tr>${head.map((h, c) => cell('th', h, c)).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v, c) => cell('td', v, c)).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}

/** Key numbers as tiles; `tone` colours the value (good news, bad news). */
export function tiles(items: Array<{ value: string; label: string; tone?: 'good' | 'bad' }>, label: string, cls = ''): string {
  return `<section class="tiles${cls ? ` ${e(cls)}` : ''}" aria-label="${e(label)}">${items
    .map((t) => `<div class="card tile"${t.tone ? ` data-tone="${t.tone}"` : ''}><div class="v">${e(t.value)}</div><div class="l">${e(t.label)}</div></div>`)
    .join('')}</section>`;
}
