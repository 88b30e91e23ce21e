import { escapeHtml as e } from './escape.js';
import { formatBytes, formatCount, formatDuration, formatJoules, formatMicros } from './format.js';
import { figure, kv, pill, table, tiles } from './html-parts.js';
import type { PlotSpec } from './plot-spec.js';
import type { OtaResults, RunSummary } from '../summary/run-summary.js';

/**
 * report.html's "Fleet operations" section: OTA rollout and outcomes, artifact bytes, energy per
 * update, command round trips, config propagation and device logs, each card present only when
 * the summary carries its field. Release names, causes, profiles and abort reasons come from the
 * scenario, devices and backend: every one is escaped (html-parts.ts escapes what it is given).
 */

type Plots = ReadonlyMap<string, PlotSpec>;

const share = (part: number, whole: number) => (whole > 0 ? `${((part / whole) * 100).toFixed(part === whole ? 0 : 1)}%` : '–');
const ms = (v: number | null | undefined) => (v === null || v === undefined ? '–' : formatDuration(v));
const plot = (plots: Plots, id: string) => (plots.has(id) ? figure(plots.get(id)!, false) : '');

function card(id: string, title: string, body: string, badge = '', cls = ''): string {
  return `<div class="card${cls ? ` ${cls}` : ''}" id="${e(id)}"><h2>${e(title)}${badge}</h2>${body}</div>`;
}

function keyNumbers(s: RunSummary): string {
  const f = s.fleet ?? {};
  const items: Parameters<typeof tiles>[0] = [];
  const o = f.ota;
  if (o) {
    // The latest releases (a run rarely has more than two campaigns; the rollout card lists all).
    for (const r of o.releases.slice(-2)) items.push({ value: share(r.updated, r.compatible), label: `of compatible devices on ${r.release}` });
    items.push({ value: formatCount(o.failed + o.rolledBack), label: `failed (${formatCount(o.failed)}) + rolled back (${formatCount(o.rolledBack)})`, tone: o.failed + o.rolledBack > 0 ? 'bad' : 'good' });
    items.push({ value: formatBytes(o.bytesDownloaded), label: `downloaded · ${formatBytes(o.bytesSavedByResume + o.bytesSavedByDelta)} saved` });
  }
  const rtt = s.histograms['command.rtt']?.stats;
  if (f.commands) items.push({ value: `${formatCount(f.commands.answered)}/${formatCount(f.commands.sent)}`, label: 'commands answered' });
  if (rtt && rtt.count > 0) items.push({ value: formatMicros(rtt.p99), label: 'command round trip p99' });
  if (f.config) items.push({ value: ms(f.config.p99Ms), label: `config propagation p99 · ${formatCount(f.config.applied)} applied` });
  if (f.logs) items.push({ value: formatCount(f.logs.dropped), label: 'log lines dropped', tone: f.logs.dropped > 0 ? 'bad' : 'good' });
  return items.length > 0 ? tiles(items, 'fleet operations key numbers', 'ops-tiles') : '';
}

function rolloutCard(s: RunSummary, plots: Plots): string {
  const o = s.fleet?.ota;
  if (!plots.has('rollout') && !o?.releases.length) return '';
  const rows = (o?.releases ?? []).map((r) => [r.release, formatDuration(r.startMs), formatCount(r.compatible), `${formatCount(r.updated)} (${share(r.updated, r.compatible)})`, ...[r.timeTo50Ms, r.timeTo95Ms, r.timeTo99Ms].map((t) => (t === null ? 'not reached' : `+${formatDuration(t)}`))]);
  const releases = rows.length > 0 ? table(['release', 'started at', 'compatible', 'updated', 'to 50%', 'to 95%', 'to 99%'], rows, new Set([1, 2, 3, 4, 5, 6]), 'rollout-table') : '';
  const note = rows.length > 0 ? '<p class="muted">Times count from the campaign start, over the devices with an artifact for their architecture.</p>' : '';
  return card('ota-rollout', 'Rollout', `${plot(plots, 'rollout')}${releases}${note}`, '', 'wide-card');
}

function outcomesCard(o: OtaResults, plots: Plots): string {
  const failures = plots.has('ota-failures') ? plot(plots, 'ota-failures') : '<p class="muted">No update failed or rolled back.</p>';
  const campaigns = o.campaigns.length > 0
    ? table(['campaign release', 'state', 'step', 'reason'], o.campaigns.map((c) => [c.release, c.state, String(c.step + 1), c.reason ?? '']), new Set([2]), 'campaigns-table')
    : '';
  const pairs: Array<[string, string]> = [
    ['committed', formatCount(o.succeeded)],
    ['failed', formatCount(o.failed)],
    ['rolled back (health check)', formatCount(o.rolledBack)],
    ['offers without a compatible artifact', formatCount(o.incompatible)],
  ];
  if (o.backend) pairs.push(['artifact requests (backend)', formatCount(o.backend.artifactRequests)], ['status reports (backend)', formatCount(o.backend.stateReports)]);
  return card('ota-outcomes', 'Update outcomes', `${kv(pairs)}${failures}${campaigns}`, pill(o.failed + o.rolledBack === 0, 'none failed', `${formatCount(o.failed + o.rolledBack)} failed or rolled back`));
}

function bytesCard(o: OtaResults, plots: Plots): string {
  const saved = o.bytesSavedByResume + o.bytesSavedByDelta;
  const pairs: Array<[string, string]> = [
    ['downloaded', formatBytes(o.bytesDownloaded)],
    ['saved by resume', `${formatBytes(o.bytesSavedByResume)} · ${formatCount(o.resumes)} resumed downloads`],
    ['saved by deltas', formatBytes(o.bytesSavedByDelta)],
    ['saved of what full downloads would take', share(saved, saved + o.bytesDownloaded)],
  ];
  if (o.succeeded > 0) pairs.push(['downloaded per committed update', formatBytes(o.bytesDownloaded / o.succeeded)]);
  if (o.backend) pairs.push(['served by the backend', formatBytes(o.backend.artifactBytesServed)]);
  return card('ota-bytes', 'Download volume', `${kv(pairs)}${plot(plots, 'ota-bytes')}`);
}

function energyCard(o: OtaResults, plots: Plots): string {
  if (o.energyPerUpdate.length === 0) return '';
  const rows = o.energyPerUpdate.map((g) => [g.profile, formatCount(g.updates), formatJoules(g.otaJ), g.jPerUpdate === null ? '–' : formatJoules(g.jPerUpdate)]);
  return card('ota-energy', 'Energy per update', `${plot(plots, 'ota-energy')}${table(['profile', 'updates', 'OTA energy', 'per update'], rows, new Set([1, 2, 3]), 'energy-table')}`);
}

function commandsCard(s: RunSummary, plots: Plots): string {
  const c = s.fleet?.commands;
  const rtt = s.histograms['command.rtt']?.stats;
  if (!c && !plots.has('command-rtt')) return '';
  const pairs: Array<[string, string]> = [];
  if (c) pairs.push(['sent by the operator', formatCount(c.sent)], ['received by devices', formatCount(c.received)], ['answered', `${formatCount(c.answered)} (${share(c.answered, c.sent)})`]);
  if (rtt && rtt.count > 0) pairs.push(['round trip p50 · p95', `${formatMicros(rtt.p50)} · ${formatMicros(rtt.p95)}`], ['round trip p99 · max', `${formatMicros(rtt.p99)} · ${formatMicros(rtt.max)}`]);
  return card('commands', 'Commands', `${kv(pairs)}${plot(plots, 'command-rtt')}`);
}

function configCard(s: RunSummary, plots: Plots): string {
  const c = s.fleet?.config;
  if (!c && !plots.has('config-propagation')) return '';
  const pairs: Array<[string, string]> = c
    ? [['applied', formatCount(c.applied)], ['to 50% · 95%', `${ms(c.p50Ms)} · ${ms(c.p95Ms)}`], ['to 99% · 100%', `${ms(c.p99Ms)} · ${ms(c.maxMs)}`], ['catch-up after reconnect p50', ms(c.catchupP50Ms)]]
    : [];
  return card('config', 'Config propagation', `${kv(pairs)}${plot(plots, 'config-propagation')}<p class="muted">Devices online at the push; devices offline then catch up when they reconnect.</p>`);
}

function logsCard(s: RunSummary): string {
  const l = s.fleet?.logs;
  if (!l) return '';
  const term = (v: number, label: string) => `<div class="term"><b>${formatCount(v)}</b><span>${e(label)}</span></div>`;
  const eq = [term(l.generated, 'generated'), `<span class="op">${l.holds ? '=' : '≠'}</span>`, term(l.sent, 'sent'), '<span class="op">+</span>', term(l.dropped, 'dropped'), '<span class="op">+</span>', term(l.buffered, 'buffered')].join('');
  const pairs: Array<[string, string]> = [
    ['dropped (device buffer full)', `${formatCount(l.dropped)} (${share(l.dropped, l.generated)})`],
    ['"suppressed N" notices sent', formatCount(s.counters['logs.suppressed_notices'] ?? 0)],
  ];
  return card('logs', 'Device logs', `<div class="equation">${eq}</div>${kv(pairs)}`, pill(l.holds, 'adds up', 'does not add up'));
}

/** The whole section, or '' when the run did no fleet operation. */
export function fleetOpsSection(s: RunSummary, plots: Plots): string {
  const o = s.fleet?.ota;
  const cards = [rolloutCard(s, plots), o ? outcomesCard(o, plots) : '', o ? bytesCard(o, plots) : '', o ? energyCard(o, plots) : '', commandsCard(s, plots), configCard(s, plots), logsCard(s)].filter((c) => c !== '');
  if (cards.length === 0) return '';
  return `<section id="fleet-ops"><h2>Fleet operations</h2>${keyNumbers(s)}<div class="ops">${cards.join('\n')}</div></section>`;
}
