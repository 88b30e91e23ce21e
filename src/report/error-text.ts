import { CAUSES, ROUTES } from '../metrics/request-errors.js';
import type { RunSummary } from '../summary/run-summary.js';
import type { OutageEpisode } from '../summary/outage.js';
import { alignColumns, formatCount, formatDuration } from './format.js';

/**
 * Errors by route and the outage's recovery as text the console and report.html both show: a
 * table (only causes that occurred, plus requests fleetsim cut off itself) and lines with a
 * verdict mark where one applies. Empty when the run had neither.
 */

export interface ErrorTable {
  head: string[];
  rows: string[][];
  /** Some requests were cut off by fleetsim itself (the last column). */
  cancelled: boolean;
}

export function requestErrorTable(s: RunSummary): ErrorTable | undefined {
  const e = s.requestErrors;
  if (e === undefined) return undefined;
  const causes = CAUSES.filter((c) => ROUTES.some((r) => e.byRoute[r][c] > 0));
  const cancelled = ROUTES.some((r) => e.cancelled[r] > 0);
  if (causes.length === 0 && !cancelled) return undefined;
  const rows: string[][] = [];
  for (const r of ROUTES) {
    const total = CAUSES.reduce((a, c) => a + e.byRoute[r][c], 0);
    if (total === 0 && e.cancelled[r] === 0) continue;
    rows.push([r, ...causes.map((c) => formatCount(e.byRoute[r][c])), formatCount(total), ...(cancelled ? [formatCount(e.cancelled[r])] : [])]);
  }
  return { head: ['route', ...causes, 'total', ...(cancelled ? ['cancelled'] : [])], rows, cancelled };
}

export const CANCELLED_NOTE = 'cancelled: cut off by fleetsim at the end of the run, not errors';

export interface OutageLine {
  /** true: good news, false: bad news, undefined: a plain fact. */
  ok?: boolean;
  text: string;
}

/** Outages listed one by one in the console and the HTML, largest first; the rest are summed. */
export const OUTAGES_LISTED = 5;

export function outageLines(s: RunSummary): OutageLine[] {
  const o = s.outage;
  if (o === undefined) return [];
  const after = (t: number | null) => (t === null ? 'not reached' : formatDuration(t));
  const shares = (e: OutageEpisode) => `50% ${after(e.timeTo50Ms)} · 95% ${after(e.timeTo95Ms)} · 99% ${after(e.timeTo99Ms)}`;
  const retries = (e: OutageEpisode, steady: number | null): OutageLine => {
    const peak = `peak ${e.peakRequestsPerSec.toFixed(1)} requests/s at ${formatDuration(e.peakAtMs)}`;
    if (steady === null || e.peakRatio === null) return { text: `retries: ${peak} (no steady state to compare with)` };
    const vs = `${peak} vs ${steady.toFixed(1)}/s steady (${e.peakRatio.toFixed(1)}×)`;
    return e.synchronizedRetries ? { ok: false, text: `synchronized retries: ${vs}` } : { ok: true, text: `retries spread: ${vs}` };
  };
  // Summaries written before outages were told apart have no `episodes`: one outage.
  const episodes = o.episodes ?? [o];
  if (episodes.length === 1) {
    const lines: OutageLine[] = [
      { text: `${formatCount(o.affected)} devices knocked out from ${formatDuration(o.startMs)}; backend back at ${o.recoveredAtMs === null ? 'never (no device came back)' : formatDuration(o.recoveredAtMs)}` },
      { text: `time from then until back (provisioned, connected, reporting): ${shares(o)} (±${formatDuration(o.resolutionMs)})` },
    ];
    if (o.stillOut > 0) lines.push({ ok: false, text: `${formatCount(o.stillOut)} of ${formatCount(o.affected)} still out when the run ended` });
    lines.push(retries(o, o.steadyRequestsPerSec));
    return lines;
  }
  const lines: OutageLine[] = [
    { text: `${episodes.length} outages, ${formatCount(o.affected)} knock-outs in all; worst time from the backend back until back (provisioned, connected, reporting): ${shares(o)} (±${formatDuration(o.resolutionMs)})` },
  ];
  const listed = [...episodes].sort((a, b) => b.affected - a.affected || a.startMs - b.startMs).slice(0, OUTAGES_LISTED).sort((a, b) => a.startMs - b.startMs);
  for (const e of listed) {
    const back = e.recoveredAtMs === null ? 'none back' : `back from ${formatDuration(e.recoveredAtMs)}, ${shares(e)}`;
    const peak = e.peakRatio === null ? '' : ` · peak ${e.peakRatio.toFixed(1)}× steady${e.synchronizedRetries ? ' (synchronized)' : ''}`;
    lines.push({ ok: e.stillOut === 0 && !e.synchronizedRetries ? undefined : false, text: `at ${formatDuration(e.startMs)}: ${formatCount(e.affected)} out, ${back}${e.stillOut > 0 ? ` · ${formatCount(e.stillOut)} still out` : ''}${peak}` });
  }
  const rest = episodes.filter((e) => !listed.includes(e));
  if (rest.length > 0) lines.push({ text: `… and ${rest.length} smaller outages (${formatCount(rest.reduce((a, e) => a + e.affected, 0))} devices)` });
  if (o.stillOut > 0) lines.push({ ok: false, text: `${formatCount(o.stillOut)} of ${formatCount(o.affected)} still out when the run ended` });
  if (o.synchronizedRetries) lines.push(retries(o, o.steadyRequestsPerSec));
  return lines;
}

/** The console's ERRORS BY ROUTE and OUTAGE AND RECOVERY sections. */
export function consoleErrorSections(s: RunSummary): string[] {
  const out: string[] = [];
  const t = requestErrorTable(s);
  if (t) {
    out.push('', '  ERRORS BY ROUTE', ...alignColumns([t.head, ...t.rows], 1).map((l) => `  ${l}`));
    if (t.cancelled) out.push(`  (${CANCELLED_NOTE})`);
  }
  const lines = outageLines(s);
  if (lines.length > 0) out.push('', '  OUTAGE AND RECOVERY', ...lines.map((l) => `  ${l.ok === undefined ? '' : l.ok ? '✓ ' : '✗ '}${l.text}`));
  return out;
}
