import type { RunSummary } from '../summary/run-summary.js';
import { formatCount, formatDuration } from './format.js';
import { terminalText } from './escape.js';

/**
 * Backend fault phases as a table the console and report.html both show: per phase, what the
 * fault proxy injected beside what devices saw in the phase's window (failures by route and
 * cause, connect failures, lost sessions), and how long after the fault ended 50/95/99% of the
 * devices it knocked out were back. Empty without fault phases.
 */
export interface FaultTable {
  head: string[];
  rows: string[][];
  /** Broker restarts that failed, and the like. */
  notes: string[];
}

export function faultTable(s: RunSummary): FaultTable | undefined {
  const f = s.faults;
  if (f === undefined || f.phases.length === 0) return undefined;
  const after = (t: number | null) => (t === null ? 'not reached' : formatDuration(t));
  const rows = f.phases.map((p) => {
    const injected = Object.entries(p.injected.byKind).map(([k, n]) => `${k} ${formatCount(n)}`).join(', ') || '0';
    const routes = Object.entries(p.injected.byRoute).map(([r, n]) => `${r} ${formatCount(n)}`).join(', ');
    const o = p.observed;
    const seen = [
      ...Object.entries(o.errors).map(([name, n]) => `${name.slice('errors.'.length)} ${formatCount(n)}`),
      ...(o.sessionsLost > 0 ? [`sessions lost ${formatCount(o.sessionsLost)}`] : []),
      ...(o.mqttConnectFailed > 0 ? [`connects failed ${formatCount(o.mqttConnectFailed)}`] : []),
    ].join(', ') || 'none';
    const r = p.recovery;
    const recovery = r.affected === 0 ? 'none knocked out' : `${formatCount(r.affected)} out · 50% ${after(r.timeTo50Ms)} · 95% ${after(r.timeTo95Ms)} · 99% ${after(r.timeTo99Ms)}${r.stillOut > 0 ? ` · ${formatCount(r.stillOut)} not back in window` : ''}`;
    const span = `${formatDuration(p.atMs)}${p.forMs > 0 ? `–${formatDuration(p.atMs + p.forMs)}` : ''}`;
    return [span, p.label, `${formatCount(p.injected.total)} (${injected}${routes ? `; ${routes}` : ''})`, seen, recovery];
  });
  return { head: ['when', 'fault', 'injected', 'devices saw (in window)', 'recovery after the fault ended'], rows, notes: f.errors };
}

/** The console's FAULTS section. */
export function consoleFaultSection(s: RunSummary): string[] {
  const t = faultTable(s);
  if (!t) return [];
  const out = ['', '  FAULTS (injected by fleetsim against what devices saw)'];
  for (const r of t.rows) {
    out.push(`  ${r[0]}  ${r[1]}`, `    injected: ${r[2]}`, `    devices saw: ${r[3]}`, `    recovery: ${r[4]}`);
  }
  // Notes carry a broker's own error output: escaped for the terminal.
  for (const n of t.notes) out.push(`  ✗ ${terminalText(n)}`);
  return out;
}
