import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { escapeHtml as e, jsonForScript } from './escape.js';
import { formatCount, formatDuration, formatMicros } from './format.js';
import { renderPage } from './html-page.js';
import { REPORT_CSS } from './html-style.js';
import type { Verdict } from '../summary/verdict.js';
import { KNEE_RULE, type SweepSummary } from '../summary/sweep-summary.js';
import { formatValue, sweepFigure, type SweepPlot } from './sweep-svg.js';

/**
 * `sweep.html`: one self-contained page for a sweep (inline CSS, static SVG, no script; the
 * Content-Security-Policy forbids every fetch). It shows the knee, the plots
 * against fleet size, and per size the verdict, latencies, throughput, error rate and thresholds,
 * with a link to that size's own report.html. Rendered from sweep.json alone, in the page shell
 * every fleetsim page shares (html-page.ts).
 */

const VERDICT: Record<Verdict, { text: string; cls: string }> = {
  passed: { text: 'Passed', cls: 'good' },
  thresholds_failed: { text: 'Thresholds failed', cls: 'bad' },
  invalid: { text: 'Invalid measurement', cls: 'warn' },
  interrupted: { text: 'Interrupted', cls: 'idle' },
  error: { text: 'Error', cls: 'bad' },
};

const SWEEP_CSS = `
.knee-card h2 { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
td.pass { color: var(--good); } td.fail { color: var(--bad); }
.plot .dot { stroke: var(--card); stroke-width: 1; }
.key { cursor: default; }
`;

/** The plots against fleet size; a plot without any point is left out. */
export function sweepPlots(s: SweepSummary): SweepPlot[] {
  const measured = s.points.filter((p) => p.runId !== null);
  const metrics = [...new Set(measured.flatMap((p) => Object.keys(p.latencies)))];
  const knee = s.knee?.devices;
  const plots: SweepPlot[] = [
    {
      id: 'p99-latency', title: 'p99 latency by fleet size', subtitle: 'one line per latency metric', y: { unit: 'us' }, kneeDevices: knee,
      series: metrics.map((m) => ({ name: m, points: measured.filter((p) => p.latencies[m]).map((p) => [p.devices, p.latencies[m].p99] as [number, number]) })),
    },
    {
      id: 'throughput', title: 'Throughput by fleet size', subtitle: 'telemetry acked per second (log scale)', y: { unit: 'rate', log: true }, kneeDevices: knee,
      series: [{ name: 'telemetry acked/s', points: measured.filter((p) => p.throughputPerSec !== null).map((p) => [p.devices, p.throughputPerSec!] as [number, number]) }],
    },
    {
      id: 'error-rate', title: 'Error rate by fleet size', subtitle: 'failed operations / attempted operations', y: { unit: 'share' }, kneeDevices: knee,
      series: [{ name: 'error rate', points: measured.filter((p) => p.errorRate !== null).map((p) => [p.devices, p.errorRate!] as [number, number]) }],
    },
  ];
  return plots.filter((p) => p.series.some((x) => x.points.length > 0));
}

/** A capacity sweep's answer: the smallest value that holds the thresholds, and the capacity curve. */
function capacitySection(s: SweepSummary): string {
  const c = s.capacity;
  if (!c) return '';
  const answer = c.chosen === null ? `No value of <code>${e(c.parameter)}</code> tried (${e(c.values.join(', '))}) holds every threshold.` : `<strong>${e(c.parameter)} = ${e(String(c.chosen))}</strong> is the smallest value tried (${e(c.values.join(', '))}) that holds every threshold.`;
  const warn = c.failedAbove.length > 0 ? `<p class="muted">Larger values ${e(c.failedAbove.join(', '))} failed a threshold: the curve is not monotone, check those runs.</p>` : '';
  const unit = c.curve && /latency|delay|catchup/.test(c.curve.metric) ? 'us' : 'rate';
  const plot: SweepPlot | undefined = c.curve
    ? {
        id: 'capacity-curve',
        title: `${c.curve.metric} against ${c.parameter}`,
        subtitle: `threshold ${c.curve.expression}; the answer is marked`,
        y: { unit },
        x: { label: c.parameter.split('.').pop()!, ticks: c.values, mark: 'smallest passing' },
        ...(c.chosen === null ? {} : { kneeDevices: c.chosen }),
        bound: { value: c.curve.bound, label: c.curve.expression },
        series: [{ name: c.curve.metric, points: c.curve.points }],
      }
    : undefined;
  return `<section id="capacity"><h2>Capacity</h2><div class="card"><p>${answer}</p>${warn}</div>${plot ? `<div class="plots">${sweepFigure(plot)}</div>` : ''}</section>`;
}

/** A point's column label: its fleet size, or in a capacity sweep its value of the parameter. */
function pointLabel(p: SweepSummary['points'][number]): string {
  return p.capacity === undefined ? formatCount(p.devices) : `${formatCount(p.capacity)} (${formatCount(p.devices)} dev.)`;
}

function badge(v: Verdict, exitCode?: number): string {
  return `<span class="pill ${VERDICT[v].cls}" data-verdict="${e(v)}">${e(VERDICT[v].text)}${exitCode === undefined ? '' : ` · exit ${exitCode}`}</span>`;
}

function header(s: SweepSummary): string {
  const w = s.sweep;
  const wall = Date.parse(w.endedAt) - Date.parse(w.startedAt);
  const facts: Array<[string, string]> = [
    ['sweep id', w.id],
    ['sizes', w.sizes.map(formatCount).join(' · ')],
    ['clock', w.clock],
    ['seed', String(w.seed)],
    ['workers', String(w.workers)],
    ['wall time', formatDuration(wall)],
    ['started', w.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')],
    ['scenario file', w.scenarioFile],
  ];
  const reasons = s.result.reasons.length > 0 ? `<ul class="reasons">${s.result.reasons.map((r) => `<li>${e(r)}</li>`).join('')}</ul>` : '';
  return `<header class="card hero">
  <div><div class="eyebrow">fleetsim ${e(s.tool.version)} · sweep report</div><h1>${e(w.scenario)}</h1>${reasons}</div>
  <div class="badge ${VERDICT[s.result.verdict].cls}" data-verdict="${e(s.result.verdict)}">${e(VERDICT[s.result.verdict].text)} <small>exit ${s.result.exitCode}</small></div>
  <dl class="facts">${facts.map(([k, v]) => `<div><dt>${e(k)}</dt><dd>${e(v)}</dd></div>`).join('')}</dl>
</header>`;
}

function kneeCard(s: SweepSummary): string {
  const k = s.knee;
  const rule = KNEE_RULE;
  if (!k) return `<section id="knee" class="card knee-card"><h2>No knee <span class="pill good">scales</span></h2><p class="muted">No size met the rule: the knee is ${e(rule)}.</p></section>`;
  return `<section id="knee" class="card knee-card" data-knee="${k.devices}"><h2>Knee at ${e(formatCount(k.devices))} devices <span class="pill bad">stops scaling</span></h2>
<ul class="reasons">${k.reasons.map((r) => `<li>${e(r)}</li>`).join('')}</ul><p class="muted">The knee is ${e(rule)}.</p></section>`;
}

function sizesTable(s: SweepSummary): string {
  const rows = s.points.map((p) => {
    const held = p.thresholds.filter((t) => t.ok).length;
    const link = p.dir ? `<a href="${e(`${p.dir}/report.html`)}">report</a>` : '–';
    return `<tr data-devices="${p.devices}"><td class="num">${pointLabel(p)}</td><td>${badge(p.verdict, p.exitCode)}</td><td class="num">${p.throughputPerSec === null ? '–' : e(formatValue('rate', p.throughputPerSec))}</td><td class="num">${p.errorRate === null ? '–' : e(formatValue('share', p.errorRate))}</td><td class="num">${held}/${p.thresholds.length}</td><td class="num">${e(formatDuration(p.wallMs))}</td><td>${link}</td></tr>`;
  });
  return `<section id="sizes"><h2>Sizes</h2><div class="card table-wrap"><table id="sizes-table"><thead><tr><th class="num">devices</th><th>verdict</th><th class="num">acked/s</th><th class="num">error rate</th><th class="num">thresholds held</th><th class="num">wall</th><th>run</th></tr></thead><tbody>${rows.join('')}</tbody></table></div></section>`;
}

function latencyTable(s: SweepSummary): string {
  const metrics = [...new Set(s.points.flatMap((p) => Object.keys(p.latencies)))];
  if (metrics.length === 0) return '<div class="card"><p class="muted">No latency was recorded.</p></div>';
  const rows = metrics.flatMap((m) =>
    s.points
      .filter((p) => p.latencies[m])
      .map((p, i) => {
        const l = p.latencies[m];
        return `<tr>${i === 0 ? `<td class="metric" rowspan="${s.points.filter((q) => q.latencies[m]).length}">${e(m)}</td>` : ''}<td class="num">${pointLabel(p)}</td><td class="num">${formatCount(l.count)}</td><td class="num">${formatMicros(l.p50)}</td><td class="num">${formatMicros(l.p95)}</td><td class="num">${formatMicros(l.p99)}</td></tr>`;
      }),
  );
  return `<div class="card table-wrap"><table id="latency-table"><thead><tr><th>metric</th><th class="num">devices</th><th class="num">count</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function thresholdsTable(s: SweepSummary): string {
  const keys = [...new Map(s.points.flatMap((p) => p.thresholds.map((t) => [`${t.metric}\u0000${t.expression}`, t] as const))).values()];
  if (keys.length === 0) return '<section id="thresholds"><h2>Thresholds</h2><div class="card"><p class="muted">The scenario sets no thresholds.</p></div></section>';
  const head = s.points.map((p) => `<th class="num">${pointLabel(p)}</th>`).join('');
  const rows = keys.map((k) => {
    const cells = s.points.map((p) => {
      const t = p.thresholds.find((x) => x.metric === k.metric && x.expression === k.expression);
      return t ? `<td class="num ${t.ok ? 'pass' : 'fail'}">${t.ok ? '✓' : '✗'} ${e(t.display)}</td>` : '<td class="num">–</td>';
    });
    return `<tr><td class="metric">${e(k.metric)}</td><td><code>${e(k.expression)}</code></td>${cells.join('')}</tr>`;
  });
  return `<section id="thresholds"><h2>Thresholds by size</h2><div class="card table-wrap"><table id="thresholds-table"><thead><tr><th>metric</th><th>expression</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table></div></section>`;
}

export function renderSweepHtml(s: SweepSummary): string {
  const plots = sweepPlots(s);
  return renderPage({
    title: `${s.sweep.scenario} · sweep · ${VERDICT[s.result.verdict].text} · fleetsim`,
    version: s.tool.version,
    css: REPORT_CSS + SWEEP_CSS,
    scripts: false,
    body: `${header(s)}
${s.capacity ? capacitySection(s) : `${kneeCard(s)}
<section id="plots"><h2>Against fleet size</h2><div class="plots">${plots.map(sweepFigure).join('\n')}</div></section>`}
${sizesTable(s)}
<section id="latency"><h2>Latency by size</h2>${latencyTable(s)}</section>
${thresholdsTable(s)}
<footer>fleetsim ${e(s.tool.version)} · sweep.json schema v${s.schemaVersion} · ${s.points.length} sizes · self-contained report, no network access</footer>`,
  });
}

/** Writes `sweep.json` and `sweep.html` into `dir` (each atomically); returns their paths. */
export async function writeSweepReport(dir: string, s: SweepSummary): Promise<{ json: string; html: string }> {
  await writeFileAtomic(dir, 'sweep.json', jsonForScript(s, 2) + '\n');
  await writeFileAtomic(dir, 'sweep.html', renderSweepHtml(s));
  return { json: join(dir, 'sweep.json'), html: join(dir, 'sweep.html') };
}
