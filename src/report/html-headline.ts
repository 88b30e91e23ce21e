import type { TimelineRow } from '../metrics/aggregate.js';
import type { RunSummary } from '../summary/run-summary.js';
import { formatCount, formatDuration, formatLifetime, formatMicros, formatRate, runSeconds } from './format.js';
import { escapeHtml as e } from './escape.js';
import { table } from './html-parts.js';
import { backendTiles } from './backend-tables.js';

/** A key number: its value, what it is, and whether it is good or bad news. */
export interface Tile {
  value: string;
  label: string;
  tone?: 'good' | 'bad';
  /** What the tile answers (backend, ota, battery, provisioning, telemetry, online, thresholds), for tests and styling. */
  kind: string;
}

/** An OTA scenario answers: how many committed, failed or rolled back, how fast, and did it abort. */
function otaTiles(s: RunSummary): Tile[] {
  const o = s.fleet?.ota;
  if (!o) return [];
  const r = o.releases[0];
  const aborted = o.campaigns.find((c) => c.state === 'aborted');
  return [
    { kind: 'ota', value: formatCount(o.succeeded), label: 'updates committed', tone: o.succeeded > 0 ? 'good' : undefined },
    { kind: 'ota', value: `${formatCount(o.failed)} / ${formatCount(o.rolledBack)}`, label: 'failed / rolled back', tone: o.failed + o.rolledBack > 0 ? 'bad' : 'good' },
    { kind: 'ota', value: r?.timeTo95Ms == null ? 'not reached' : formatDuration(r.timeTo95Ms), label: `time to 95% of compatible devices${r ? ` (${r.release})` : ''}`, tone: r?.timeTo95Ms == null ? 'bad' : undefined },
    aborted
      ? { kind: 'ota', value: `aborted at step ${aborted.step + 1}`, label: `campaign ${aborted.release}${aborted.reason ? `: ${aborted.reason}` : ''}`, tone: 'bad' }
      : { kind: 'ota', value: 'not aborted', label: `campaign${o.campaigns.length === 1 ? '' : 's'} ${o.campaigns.map((c) => c.release).join(', ')}`, tone: 'good' },
  ];
}

/** A battery scenario answers: how long the batteries last, median and weakest 5%. */
function batteryTiles(s: RunSummary): Tile[] {
  const f = s.fleet;
  if (!f?.batteryBasis?.length) return [];
  const years = f.batteryYears ?? [];
  if (years.length === 0) return [{ kind: 'battery', value: 'not projected', label: 'battery lifetime: the run is too short to know', tone: 'bad' }];
  // The profile that dies first is the answer; the table below has the others.
  const worst = years.reduce((a, b) => (b.p50 < a.p50 ? b : a));
  return [
    { kind: 'battery', value: formatLifetime(worst.p50), label: `battery lifetime p50 · ${worst.profile}` },
    { kind: 'battery', value: formatLifetime(worst.p5), label: `battery lifetime p5 (weakest 5%) · ${worst.profile}` },
  ];
}

/** A provisioning line answers: how many devices per second it provisions, and who waits for approval. */
function provisioningTiles(s: RunSummary, timeline: readonly TimelineRow[]): Tile[] {
  const c = s.counters;
  if (!((c['provision.eol_ok'] ?? 0) > 0 || (c['provision.pending'] ?? 0) > 0)) return [];
  // The line's rate over the intervals it was provisioning, not over the whole run.
  const active = timeline.filter((r) => (r.counters['provision.ok'] ?? 0) > 0);
  const spanMs = active.length > 0 ? active[active.length - 1].tMs - active[0].tMs + (active.length > 1 ? (active[active.length - 1].tMs - active[0].tMs) / (active.length - 1) : 1000) : 0;
  const ok = c['provision.ok'] ?? 0;
  const pending = Math.max(0, (c['devices.powered_on'] ?? 0) - (s.gauges['devices.provisioned'] ?? 0));
  return [
    { kind: 'provisioning', value: spanMs > 0 ? formatRate((ok / spanMs) * 1000) : '–', label: `devices provisioned per second (${formatCount(ok)} in all)` },
    // Manual provisioning: they wait for an operator; automatic: the line had not reached them.
    { kind: 'provisioning', value: formatCount(pending), label: (c['provision.pending'] ?? 0) > 0 ? 'pending approval at the end' : 'powered on, not provisioned at the end', tone: pending > 0 ? 'bad' : 'good' },
  ];
}

/**
 * The tiles on top of the report: first what the scenario exists to answer (a sized backend, an
 * OTA rollout, a battery lifetime, a provisioning line), then telemetry (when there was any), devices online
 * and thresholds.
 */
export function headlineTiles(s: RunSummary, timeline: readonly TimelineRow[]): Tile[] {
  const c = s.counters;
  // A provisioning line that also updates at first boot is still a provisioning line: it leads.
  const tiles: Tile[] = [...backendTiles(s), ...provisioningTiles(s, timeline), ...otaTiles(s), ...batteryTiles(s)];
  if ((c['telemetry.generated'] ?? s.accounting.generated) > 0) {
    const ack = s.histograms['telemetry.ack.latency']?.stats;
    const errors = ['telemetry.failed', 'telemetry.dropped', 'provision.failed', 'mqtt.connect.failed', 'poll.failed'].reduce((n, k) => n + (c[k] ?? 0), 0);
    tiles.push(
      { kind: 'telemetry', value: formatCount(c['telemetry.acked'] ?? 0), label: `telemetry acked · ${formatRate((c['telemetry.acked'] ?? 0) / runSeconds(s))}` },
      { kind: 'telemetry', value: ack && ack.count > 0 ? formatMicros(ack.p99) : '–', label: 'backend ack latency p99' },
      { kind: 'telemetry', value: formatCount(errors), label: 'failed + dropped', tone: errors > 0 ? 'bad' : undefined },
    );
  }
  const on = s.online;
  if (on) {
    tiles.push({ kind: 'online', value: formatCount(on.peak), label: `peak online of ${formatCount(s.run.devices)} · ${formatCount(on.beforeEnd)} just before the end` });
  }
  tiles.push({ kind: 'thresholds', value: `${s.thresholds.filter((t) => t.ok).length}/${s.thresholds.length}`, label: 'thresholds held', tone: s.thresholds.every((t) => t.ok) ? undefined : 'bad' });
  return tiles;
}

/** Battery lifetimes per profile in years (p5, p50, p95), with what each projection rests on. */
export function batteryTable(s: RunSummary): string {
  const f = s.fleet;
  if (!f?.batteryBasis?.length) return '';
  const rows = (f.batteryYears ?? []).map((b) => [b.profile, formatCount(b.devices), formatLifetime(b.p5), formatLifetime(b.p50), formatLifetime(b.p95), formatLifetime(b.min), formatCount(b.depleted)]);
  const body = rows.length > 0 ? table(['profile', 'devices', 'p5', 'p50', 'p95', 'min', 'depleted'], rows, new Set([1, 2, 3, 4, 5, 6]), 'battery-table') : '';
  const basis = f.batteryBasis.map((b) => `<li data-method="${e(b.method)}"><b>${e(b.profile)}</b>: ${e(b.text)}</li>`).join('');
  return `<div class="card" id="battery-lifetimes"><h3>Battery lifetime</h3>${body}<ul class="basis">${basis}</ul></div>`;
}
