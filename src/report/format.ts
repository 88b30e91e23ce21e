import { formatDuration, formatMicros } from '../metrics/format.js';
import { accountedFor, lostOnOurSide, OUTCOMES } from '../summary/accounting.js';
import type { RunSummary } from '../summary/run-summary.js';

/**
 * Human formatting shared by the console summary, the compare tables and the HTML report, so
 * that one number reads the same everywhere.
 */
export { formatDuration, formatMicros };

/** Whole counts with thousands separators: 12,345. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Byte counts in decimal units: 512 B, 12.3 kB, 117.6 GB. */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? Math.round(v) : v.toFixed(Math.abs(v) >= 100 ? 0 : 1)} ${units[i]}`;
}

/** Energy: 850 mJ, 38.4 J, 22.4 kJ, 1.2 MJ. */
export function formatJoules(j: number): string {
  const a = Math.abs(j);
  if (a >= 1e6) return `${(j / 1e6).toFixed(1)} MJ`;
  if (a >= 1e3) return `${(j / 1e3).toFixed(1)} kJ`;
  if (a >= 1 || a === 0) return `${j.toFixed(a >= 100 || a === 0 ? 0 : 1)} J`;
  return `${Math.round(j * 1000)} mJ`;
}

/** A battery lifetime for people: years, or days under three months (1.22 y, 4.2 d). */
export function formatLifetime(years: number): string {
  if (!Number.isFinite(years)) return '∞';
  return years >= 0.25 ? `${years.toFixed(years >= 10 ? 1 : 2)} y` : `${(years * 365.25).toFixed(1)} d`;
}

/** Per-second rates: 0.25/s, 12.3/s, 1,234/s. */
export function formatRate(perSec: number): string {
  if (!Number.isFinite(perSec)) return '–';
  if (perSec === 0) return '0/s';
  if (perSec < 10) return `${perSec.toFixed(2)}/s`;
  if (perSec < 100) return `${perSec.toFixed(1)}/s`;
  return `${formatCount(perSec)}/s`;
}

/** A signed relative change: +12.5%, -3.0%, ±0.0%, +∞ (from zero). */
export function formatDeltaPct(pct: number | null): string {
  if (pct === null) return '–';
  if (!Number.isFinite(pct)) return pct > 0 ? '+∞' : '-∞';
  if (Math.abs(pct) < 0.05) return '±0.0%';
  return `${pct > 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/** Relative change from base to current in percent; null when both are zero-free of meaning. */
export function deltaPct(base: number, current: number): number | null {
  if (base === 0) return current === 0 ? 0 : current > 0 ? Infinity : -Infinity;
  return ((current - base) / Math.abs(base)) * 100;
}

/** Run length in seconds for per-second rates (at least 1 ms, so an empty run divides safely). */
/**
 * A shard as the user named it: `--shard i/N` numbers slices from 0 (like JOB_COMPLETION_INDEX), and
 * the run id (`-shard<i>of<N>`) and `merge` use the same numbers, so the reports do too.
 */
export function shardLabel(shard: { index: number; count: number }): string {
  return `${shard.index}/${shard.count}`;
}

export function runSeconds(summary: RunSummary): number {
  return Math.max(summary.run.durationMs, 1) / 1000;
}

/**
 * Why the "run completed" check fails, if it does: the run did not complete, the accounting
 * identity does not hold, or the generator saturated. Empty when the run is a valid measurement.
 */
export function runCompletedProblems(summary: RunSummary): string[] {
  const problems: string[] = [];
  if (summary.run.status !== 'completed') problems.push(`run status is ${summary.run.status}, not completed`);
  if (!summary.accounting.holds) problems.push(`accounting identity does not hold: ${accountingEquation(summary)}`);
  const g = summary.generator;
  if (g.saturated) {
    const cpu = g.maxScheduleLagMs > g.boundMs || g.maxEventLoopDelayMs > g.boundMs;
    if (cpu || !g.sendSide?.length) problems.push(`generator saturated (fleetsim's side, not the backend's): ${generatorHealthText(g)}`);
    for (const x of g.sendSide ?? []) problems.push(`generator saturated (send side): ${x}`);
  }
  return problems;
}

/** `schedule lag 3.36ms, event-loop delay 1.23s, bound 2.00s (options.maxScheduleLag)`: the generator's health in one line. */
export function generatorHealthText(g: RunSummary['generator']): string {
  const ms = (v: number) => formatMicros(v * 1000);
  return `schedule lag ${ms(g.maxScheduleLagMs)}, event-loop delay ${ms(g.maxEventLoopDelayMs)}, bound ${ms(g.boundMs)}${g.boundSource ? ` (${g.boundSource})` : ''}`;
}

/** `generated 100 = acked 90 + sent_noack 0 + failed 2 + dropped 3 + lost on link 0 + … + buffered 5`. */
export function accountingEquation(summary: RunSummary): string {
  const a = summary.accounting;
  const sign = accountedFor(a) === a.generated ? '=' : '≠';
  return `generated ${formatCount(a.generated)} ${sign} ${OUTCOMES.map(([k, label]) => `${label} ${formatCount(a[k] ?? 0)}`).join(' + ')}`;
}

/**
 * What the accounting says about each side of the wire, in sentences for the console and the
 * HTML report: what fleetsim knows never reached the backend, what the backend itself counted
 * (embedded backend) or, with an external target, plainly that its side is not visible.
 */
export function accountingSides(summary: RunSummary): string[] {
  const a = summary.accounting;
  const ours = lostOnOurSide(a);
  const lines = [
    `fleetsim's side: ${formatCount(ours)} never reached the backend (dropped on the device ${formatCount(a.dropped)}, lost on the link ${formatCount(a.lostOnLink ?? 0)}, on the link when the session ended ${formatCount(a.inTransitAtDrop ?? 0)}); ${formatCount(a.inTransitAtEnd ?? 0)} were still on the link when the run ended.`,
  ];
  const b = a.backend;
  if (!b && summary.run.clock === 'virtual') {
    lines.push(`backend's side: modelled (virtual clock); the model receives every message written to a session.`);
  } else if (b) {
    lines.push(`backend's side: received ${formatCount(b.received)} · duplicates ${formatCount(b.duplicates)} · gaps ${formatCount(b.gaps)} · lost between simulator and backend ${formatCount(Math.max(0, b.lostBetween))}.`);
    // Summaries from before the field have a signed lostBetween: a negative one is the same fact.
    const unacked = b.arrivedUnacknowledged ?? Math.max(0, -b.lostBetween);
    if (unacked > 0) {
      lines.push(
        `${formatCount(unacked)} arrived at the backend but their acknowledgement never reached the device (the session ended first), so fleetsim counts them failed or in transit at the drop; these totals are net, not matched message by message.`,
      );
    }
    if ((b.uncounted ?? 0) > 0) {
      lines.push(
        `${formatCount(b.uncounted ?? 0)} reached the broker but it dropped them on their way to the backend's counter (its queue limit for a slow subscriber): the backend's received and gaps miss them, and they are not counted as lost (backend.uncounted).`,
      );
    }
    for (const u of b.unconfirmed ?? []) lines.push(`⚠ the backend's count is not confirmed complete, so lost between is an upper bound: ${u} (backend.count_unconfirmed).`);
    const refused = (b.refusedPublishes ?? 0) + (b.refusedSubscribes ?? 0);
    if (refused > 0) {
      lines.push(
        `the embedded broker refused ${formatCount(b.refusedPublishes ?? 0)} publishes and ${formatCount(b.refusedSubscribes ?? 0)} subscriptions outside a device's own topics (fleet/<id>/…): some client used another device's topics or a wildcard.`,
      );
    }
  } else {
    lines.push(
      `backend's side: not visible. fleetsim cannot see what an external target received: whether the ${formatCount(a.sentNoAck)} QoS 0 messages written to a session and the ${formatCount(a.failed)} QoS 1 messages left without a PUBACK arrived is for the backend's own counters to say.`,
    );
  }
  const after = a.deliveredAfterReconnect ?? 0;
  if (after > 0) {
    const d = summary.histograms['telemetry.delivered_after_reconnect.delay']?.stats;
    lines.push(`delivered from device buffers after a reconnect: ${formatCount(after)} (of acked + sent_noack)${d && d.count > 0 ? `, generation to delivery p50 ${formatMicros(d.p50)} · p99 ${formatMicros(d.p99)}` : ''}.`);
  }
  return lines;
}

/** Aligns rows of cells into columns two spaces apart; columns from `rightAlignFrom` on align right. */
export function alignColumns(rows: readonly string[][], rightAlignFrom: number): string[] {
  if (rows.length === 0) return [];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  return rows.map((r) =>
    r
      .map((cell, c) => {
        const pad = ' '.repeat(widths[c] - [...cell].length);
        return c >= rightAlignFrom ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd(),
  );
}
