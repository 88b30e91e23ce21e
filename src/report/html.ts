import type { TimelineRow } from '../metrics/aggregate.js';
import { writeFileAtomic } from './atomic-file.js';
import { escapeHtml as e, jsonForScript } from './escape.js';
import { CANCELLED_NOTE, outageLines, requestErrorTable } from './error-text.js';
import { faultTable } from './fault-text.js';
import { accountingSides, formatBytes, formatCount, formatDuration, formatMicros, formatRate, runCompletedProblems, runSeconds, shardLabel } from './format.js';
import { batteryTable, headlineTiles } from './html-headline.js';
import { accountedFor, OUTCOMES } from '../summary/accounting.js';
import { fleetOpsSection } from './html-fleet-ops.js';
import { costTables, yearsTables, type TextTable } from './longrun-tables.js';
import { backendQueueTables } from './backend-tables.js';
import { figure, pill, table, tiles } from './html-parts.js';
import { buildPlots } from './html-plots.js';
import type { PlotSpec } from './plot-spec.js';
import { renderPage } from './html-page.js';
import { reportScript } from './html-script.js';
import { REPORT_CSS } from './html-style.js';
import type { RunSummary } from '../summary/run-summary.js';
import type { Verdict } from '../summary/verdict.js';
import type { ReportWriter } from './report-writer.js';

/**
 * `report.html`: one self-contained page (inline CSS, inline script, SVG drawn by the page itself;
 * a Content-Security-Policy forbids every network fetch). Text sections are rendered here, with
 * every string HTML-escaped; plots are embedded as JSON and drawn in the browser.
 */

const VERDICT: Record<Verdict, { text: string; cls: string; icon: string }> = {
  passed: { text: 'Passed', cls: 'good', icon: '✓' },
  thresholds_failed: { text: 'Thresholds failed', cls: 'bad', icon: '✗' },
  invalid: { text: 'Invalid measurement', cls: 'warn', icon: '!' },
  interrupted: { text: 'Interrupted', cls: 'idle', icon: '■' },
  error: { text: 'Error', cls: 'bad', icon: '✗' },
};

function header(s: RunSummary): string {
  const r = s.run;
  const v = VERDICT[s.result.verdict];
  const facts: Array<[string, string]> = [
    ['run id', r.id],
    ['status', r.status],
    ['devices', `${formatCount(r.devices)} on ${r.workers} worker${r.workers === 1 ? '' : 's'}`],
    ['duration', `${formatDuration(r.durationMs)}${r.clock === 'virtual' ? ' simulated' : ''} · wall ${formatDuration(r.wallMs)}`],
    ['target', r.target],
    ['clock', r.clock === 'wall' && r.timeScale !== 1 ? `wall ×${r.timeScale}` : r.clock],
    ['seed', String(r.seed)],
    ['started', r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')],
    ['scenario file', fileName(r.scenarioFile)],
  ];
  if (r.shard) facts.push(['shard', shardLabel(r.shard)]);
  if (r.host) facts.push(['host', hostLine(r.host)]);
  const notes = [...s.result.reasons, ...(r.warnings ?? []).map((w) => `⚠ ${w}`)];
  const reasons = notes.length > 0 ? `<ul class="reasons">${notes.map((x) => `<li>${e(x)}</li>`).join('')}</ul>` : '';
  return `<header class="card hero">
  <div><div class="eyebrow">fleetsim ${e(s.tool.version)} · run report</div><h1>${e(r.scenario)}</h1>${reasons}</div>
  <div class="badge ${v.cls}" data-verdict="${e(s.result.verdict)}">${v.icon} ${e(v.text)} <small>exit ${s.result.exitCode}</small></div>
  <dl class="facts">${facts.map(([k, val]) => `<div${val.length > 22 ? ' class="wide"' : ''}><dt>${e(k)}</dt><dd>${e(val)}</dd></div>`).join('')}</dl>
</header>`;
}

function keyNumbers(s: RunSummary, timeline: readonly TimelineRow[]): string {
  return tiles(headlineTiles(s, timeline), 'key numbers');
}

/** The load generator's machine, in one line. */
function hostLine(h: NonNullable<RunSummary['run']['host']>): string {
  const load = (l: number[]) => (l.length > 0 ? l[0].toFixed(2) : '–');
  return `${h.cores} cores · ${formatBytes(h.memoryBytes)} · load ${load(h.loadAverageStart)} → ${load(h.loadAverageEnd)} · node ${h.node} · ${h.platform}`;
}

/** The scenario as written, escaped, folded away. */
function scenarioSource(s: RunSummary): string {
  if (s.run.scenarioText === undefined) return '';
  return `<section id="scenario"><details class="card"><summary>Scenario as written · ${e(fileName(s.run.scenarioFile))}</summary><pre><code>${e(s.run.scenarioText)}</code></pre></details></section>`;
}

/** The last component of a path: the report does not show the directories of the machine it ran on. */
function fileName(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

function thresholds(s: RunSummary): string {
  const rows = s.thresholds
    .map((t) => `<tr data-ok="${t.ok}"><td class="metric">${e(t.metric)}</td><td><code>${e(t.expression)}</code></td><td class="num">${e(t.value === null ? 'no data' : t.display)}</td><td>${pill(t.ok)}</td></tr>`)
    .join('\n');
  const body = s.thresholds.length === 0 ? '<p class="muted">The scenario sets no thresholds.</p>' : `<div class="table-wrap"><table id="thresholds-table"><thead><tr><th>metric</th><th>expression</th><th class="num">measured</th><th>result</th></tr></thead><tbody>\n${rows}\n</tbody></table></div>`;
  return `<section id="thresholds"><h2>Thresholds</h2><div class="card">${body}</div></section>`;
}

function accounting(s: RunSummary): string {
  const a = s.accounting;
  const term = (v: number, label: string) => `<div class="term"><b>${formatCount(v)}</b><span>${e(label)}</span></div>`;
  const plus = '<span class="op">+</span>';
  const eq = [term(a.generated, 'generated'), `<span class="op">${a.generated === accountedFor(a) ? '=' : '≠'}</span>`, OUTCOMES.map(([k, label]) => term(a[k] ?? 0, label)).join(plus)].join('');
  const sides = accountingSides(s).map((line) => `<li>${e(line)}</li>`).join('');
  return `<div class="card" id="accounting"><h2>Accounting ${pill(a.holds, 'holds', 'does not hold')}</h2><div class="equation">${eq}</div><ul class="sides">${sides}</ul></div>`;
}

function generator(s: RunSummary, plot: PlotSpec | undefined): string {
  const g = s.generator;
  const problems = runCompletedProblems(s);
  return `<div class="card" id="generator-health"><h2>Generator health ${pill(!g.saturated, 'healthy', 'saturated')}</h2>
<dl class="kv"><dt>max schedule lag</dt><dd>${g.maxScheduleLagMs.toFixed(1)} ms</dd><dt>max event-loop delay</dt><dd>${g.maxEventLoopDelayMs.toFixed(1)} ms</dd><dt>bound</dt><dd>${g.boundMs.toFixed(1)} ms${g.boundSource ? ` <small>(${e(g.boundSource)})</small>` : ''}</dd><dt>run completed</dt><dd>${pill(problems.length === 0, 'yes', 'no')}</dd></dl>
${problems.length > 0 ? `<ul class="reasons">${problems.map((p) => `<li>${e(p)}</li>`).join('')}</ul>` : ''}${plot ? figure(plot, false) : ''}</div>`;
}

function latencyTable(s: RunSummary): string {
  const rows = Object.entries(s.histograms)
    .filter(([, h]) => h.stats.count > 0)
    .map(([n, h]) => `<tr><td class="metric">${e(n)}</td><td class="num">${formatCount(h.stats.count)}</td>${[h.stats.min, h.stats.avg, h.stats.p50, h.stats.p90, h.stats.p95, h.stats.p99, h.stats.p999, h.stats.max].map((v) => `<td class="num">${formatMicros(v)}</td>`).join('')}</tr>`);
  if (rows.length === 0) return '<div class="card"><p class="muted">No latency was recorded in this run.</p></div>';
  return `<div class="card table-wrap"><table><thead><tr><th>metric</th><th class="num">count</th>${['min', 'avg', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'].map((h) => `<th class="num">${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function countersTable(s: RunSummary): string {
  const secs = runSeconds(s);
  const counters = Object.entries(s.counters).map(([n, v]) => `<tr><td class="metric">${e(n)}</td><td class="num">${formatCount(v)}</td><td class="num">${formatRate(v / secs)}</td></tr>`);
  const gauges = Object.entries(s.gauges).map(([n, v]) => `<tr><td class="metric">${e(n)}</td><td class="num">${e(Number.isInteger(v) ? formatCount(v) : v.toFixed(2))}</td></tr>`);
  return `<section id="counters"><h2>Counters and gauges</h2><div class="two">
<div class="card table-wrap"><table><thead><tr><th>counter</th><th class="num">total</th><th class="num">rate</th></tr></thead><tbody>${counters.join('')}</tbody></table></div>
<div class="card table-wrap"><table><thead><tr><th>gauge</th><th class="num">at the end</th></tr></thead><tbody>${gauges.join('')}</tbody></table></div>
</div></section>`;
}

export function renderHtml(s: RunSummary, timeline: readonly TimelineRow[]): string {
  const plots = buildPlots(s, timeline);
  const of = (section: PlotSpec['section']) => plots.filter((p) => p.section === section);
  const byId = new Map(plots.map((p) => [p.id, p]));
  const latencyRows = Object.keys(s.histograms)
    .filter((m) => byId.has(`latency.${m}`) || byId.has(`hdr.${m}`))
    .map((m) => `<div class="latency-row">${[byId.get(`latency.${m}`), byId.get(`hdr.${m}`)].filter((p): p is PlotSpec => p !== undefined).map((p) => figure(p)).join('\n')}</div>`);
  const fleet = of('fleet');
  const battery = batteryTable(s);
  const ops = fleetOpsSection(s, byId);
  const toc = [['thresholds', 'Thresholds'], ['health', 'Accounting & health'], ['throughput', 'Throughput'], ['latency', 'Latency'], ...(s.requestErrors || s.outage || s.faults ? [['errors', 'Errors & recovery']] : []), ...(ops ? [['fleet-ops', 'Fleet operations']] : []), ...(fleet.length > 0 || battery ? [['fleet', 'Fleet']] : []), ...(s.backend ? [['backend', 'Backend']] : []), ...(s.cost ? [['cost', 'Cost']] : []), ...(s.years ? [['years', 'Years']] : []), ['counters', 'Counters']];
  const body = `${header(s)}
<nav class="toc">${toc.map(([id, label]) => `<a href="#${id}">${label}</a>`).join('')}</nav>
${keyNumbers(s, timeline)}
${thresholds(s)}
${scenarioSource(s)}
<section id="health"><div class="two">${accounting(s)}${generator(s, byId.get('generator'))}</div></section>
<section id="throughput"><h2>Throughput and devices</h2><div class="plots">${of('throughput').map((p) => figure(p)).join('\n')}</div></section>
<section id="latency"><h2>Latency</h2>${latencyTable(s)}${latencyRows.join('\n')}</section>
${errorsSection(s)}
${ops}
${fleet.length > 0 || battery ? `<section id="fleet"><h2>Fleet</h2>${battery}<div class="plots">${fleet.map((p) => figure(p)).join('\n')}</div></section>` : ''}
${longrunSection('backend', 'The modelled backend', backendQueueTables(s))}
${longrunSection('cost', 'What it costs', costTables(s))}
${longrunSection('years', 'The fleet over years', yearsTables(s), of('years'))}
${countersTable(s)}
<footer>fleetsim ${e(s.tool.version)} · summary.json schema v${s.schemaVersion} · ${timeline.length} timeline intervals · self-contained report, no network access</footer>`;
  return renderPage({
    title: `${s.run.scenario} · ${VERDICT[s.result.verdict].text} · fleetsim`,
    version: s.tool.version,
    css: REPORT_CSS,
    scripts: true,
    body,
    tail: `<script type="application/json" id="fleetsim-plots">${jsonForScript({ plots })}</script>\n<script>${reportScript()}</script>`,
  });
}

/** Backend queue, cost and years tables (the console shows the same: backend-tables.ts, longrun-tables.ts). */
function longrunSection(id: string, title: string, tables: TextTable[], plots: PlotSpec[] = []): string {
  if (tables.length === 0) return '';
  const numeric = (t: TextTable) => new Set(t.head.map((_, c) => c).filter((c) => c > 0 && !['storage', 'slots', 'waiting room', 'link'].includes(t.head[c])));
  const cards = tables.map((t) => `<div class="card"><h3>${e(t.title.charAt(0) + t.title.slice(1).toLowerCase())}</h3>${table(t.head, t.rows, numeric(t), `${id}-${t.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`)}${t.notes.map((n) => `<p class="sub">${e(n)}</p>`).join('')}</div>`);
  const charts = plots.length > 0 ? `<div class="plots">${plots.map((p) => figure(p)).join('\n')}</div>` : '';
  return `<section id="${id}"><h2>${e(title)}</h2>${charts}${cards.join('')}</section>`;
}

/** Errors by route and cause, and the recovery after an outage (the console shows the same). */
function errorsSection(s: RunSummary): string {
  const t = requestErrorTable(s);
  const lines = outageLines(s);
  const f = faultTable(s);
  if (!t && lines.length === 0 && !f) return '';
  const numeric = new Set(t ? t.head.map((_, c) => c).filter((c) => c > 0) : []);
  const errors = t ? `<div class="card"><h3>Errors by route and cause</h3>${table(t.head, t.rows, numeric, 'errors-by-route')}${t.cancelled ? `<p class="sub">${e(CANCELLED_NOTE)}</p>` : ''}</div>` : '';
  const recovery = lines.length > 0 ? `<div class="card" id="recovery"><h3>Outage and recovery</h3><ul>${lines.map((l) => `<li>${l.ok === undefined ? '' : pill(l.ok, 'ok', 'attention') + ' '}${e(l.text)}</li>`).join('')}</ul></div>` : '';
  const faults = f ? `<div class="card" id="faults"><h3>Injected faults against what devices saw</h3>${table(f.head, f.rows, new Set<number>(), 'faults')}${f.notes.map((n) => `<p class="sub">${pill(false, 'ok', 'attention')} ${e(n)}</p>`).join('')}</div>` : '';
  return `<section id="errors"><h2>Errors and recovery</h2>${errors}${faults}${recovery}</section>`;
}

export const htmlWriter: ReportWriter = {
  name: 'html',
  file: 'report.html',
  async write(dir, summary, timeline) {
    await writeFileAtomic(dir, this.file, renderHtml(summary, timeline));
  },
};
