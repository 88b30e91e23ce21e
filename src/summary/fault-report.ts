import type { TimelineRow } from '../metrics/aggregate.js';
import { RECOVERY_SHARES, type RecoveryShares } from './outage.js';

/** A fault phase as the summary needs it (engine/fault-injection.ts hands these over). */
export interface FaultPhaseInput {
  index: number;
  label: string;
  atMs: number;
  forMs: number;
}

/** One injected count (faults/injected.ts), by phase, kind and route. */
export interface InjectedInput {
  phase: number;
  kind: string;
  route: string;
  count: number;
}

/**
 * One fault phase in summary.json `faults.phases[]`: what the proxy injected beside what the
 * devices saw in the phase's window (from its start until the next fault phase, or the end of
 * the run), and how long until 50/95/99% of the devices it knocked out were back, measured from
 * the end of the fault.
 */
export interface FaultPhaseReport {
  /** Index in the scenario's phases. */
  phase: number;
  label: string;
  atMs: number;
  forMs: number;
  /** End of the window the observed counts and recovery are read from, ms. */
  windowEndMs: number;
  injected: { total: number; byKind: Record<string, number>; byRoute: Record<string, number> };
  observed: {
    /** `errors.<route>.<cause>` counters that moved in the window (only those). */
    errors: Record<string, number>;
    mqttConnectFailed: number;
    sessionsLost: number;
    provisionFailed: number;
    pollFailed: number;
    /** Requests devices started in the window (HTTP of every route and MQTT connects). */
    requestsStarted: number;
  };
  /** Times from the end of the fault; 0 when they were back before it ended; counts within the window. */
  recovery: RecoveryShares;
}

export interface FaultReport {
  phases: FaultPhaseReport[];
  /** Faults that could not be injected as scripted (a broker that did not come back). */
  errors: string[];
}

const SHARES = RECOVERY_SHARES;

/** What a phase injected: its total, by kind and by route (sums: the same shape in a shard's summary and a whole run's). */
type Injected = FaultPhaseReport['injected'];

/** The `faults` section from the timeline and the injected counts. */
export function faultReportOf(timeline: readonly TimelineRow[], phases: readonly FaultPhaseInput[], injected: readonly InjectedInput[], endMs: number, errors: readonly string[]): FaultReport {
  return reportOf(timeline, phases, endMs, errors, (phase) => {
    const out: Injected = { total: 0, byKind: {}, byRoute: {} };
    for (const c of injected) if (c.phase === phase) addInjected(out, c.count, c.kind, c.route);
    return out;
  });
}

/**
 * The `faults` section of `fleetsim merge`: what every shard injected, summed per phase, kind and
 * route, beside what devices saw and their recovery, read again off the merged timeline (a shard
 * saw only its own devices, so neither its observed counts nor its recovery times add up).
 * Undefined when no shard had fault phases.
 */
export function mergeFaultReports(reports: ReadonlyArray<FaultReport | undefined>, timeline: readonly TimelineRow[], endMs: number): FaultReport | undefined {
  const present = reports.filter((r): r is FaultReport => r !== undefined);
  if (present.length === 0) return undefined;
  const phases = new Map<number, FaultPhaseInput>();
  for (const r of present) for (const p of r.phases) if (!phases.has(p.phase)) phases.set(p.phase, { index: p.phase, label: p.label, atMs: p.atMs, forMs: p.forMs });
  const errors = [...new Set(present.flatMap((r) => r.errors))];
  return reportOf(timeline, [...phases.values()], endMs, errors, (phase) => {
    const out: Injected = { total: 0, byKind: {}, byRoute: {} };
    for (const r of present) {
      const p = r.phases.find((q) => q.phase === phase);
      if (p === undefined) continue;
      out.total += p.injected.total;
      for (const [k, n] of Object.entries(p.injected.byKind)) out.byKind[k] = (out.byKind[k] ?? 0) + n;
      for (const [k, n] of Object.entries(p.injected.byRoute)) out.byRoute[k] = (out.byRoute[k] ?? 0) + n;
    }
    return out;
  });
}

function addInjected(out: Injected, n: number, kind: string, route: string): void {
  out.total += n;
  out.byKind[kind] = (out.byKind[kind] ?? 0) + n;
  out.byRoute[route] = (out.byRoute[route] ?? 0) + n;
}

function reportOf(timeline: readonly TimelineRow[], phases: readonly FaultPhaseInput[], endMs: number, errors: readonly string[], injectedOf: (phase: number) => Injected): FaultReport {
  const sorted = [...phases].sort((a, b) => a.atMs - b.atMs || a.index - b.index);
  const out = sorted.map((p, k) => {
    const next = sorted.slice(k + 1).find((q) => q.atMs > p.atMs);
    const windowEndMs = next ? next.atMs : endMs;
    const rows = windowRows(timeline, p.atMs, next ? next.atMs : Infinity);
    const sum = (name: string) => rows.reduce((a, r) => a + (r.counters[name] ?? 0), 0);
    const errorsSeen: Record<string, number> = {};
    for (const r of rows) for (const [n, v] of Object.entries(r.counters)) if (v > 0 && n.startsWith('errors.') && n.split('.').length === 3) errorsSeen[n] = (errorsSeen[n] ?? 0) + v;
    return {
      phase: p.index,
      label: p.label,
      atMs: p.atMs,
      forMs: p.forMs,
      windowEndMs,
      injected: injectedOf(p.index),
      observed: {
        errors: errorsSeen,
        mqttConnectFailed: sum('mqtt.connect.failed'),
        sessionsLost: sum('mqtt.connection_lost'),
        provisionFailed: sum('provision.failed'),
        pollFailed: sum('poll.failed'),
        requestsStarted: sum('requests.started'),
      },
      recovery: recoveryOf(timeline, rows, p.atMs + p.forMs),
    };
  });
  return { phases: out, errors: [...errors] };
}

/**
 * Rows whose interval ends from `fromMs` on and before `toMs` (Infinity for the last phase: the
 * run's final rows too). The interval ending exactly at a phase's start belongs to the phase: the
 * coordinator's timer and the shards' clocks agree only to a few ms, so a fault that starts on an
 * interval boundary may land in the interval that ends there.
 */
function windowRows(timeline: readonly TimelineRow[], fromMs: number, toMs: number): TimelineRow[] {
  return timeline.filter((r) => r.tMs >= fromMs && r.tMs < toMs);
}

function recoveryOf(timeline: readonly TimelineRow[], rows: readonly TimelineRow[], faultEndMs: number): FaultPhaseReport['recovery'] {
  const affected = rows.reduce((a, r) => a + (r.counters['recovery.devices_out'] ?? 0), 0);
  const back = rows.reduce((a, r) => a + (r.counters['recovery.devices_back'] ?? 0), 0);
  const times = SHARES.map((share) => timeToShareMs(rows, affected, share, faultEndMs));
  const i = rows.length > 0 ? timeline.indexOf(rows[0]) : -1;
  const resolutionMs = i < 0 ? 0 : timeline[i].tMs - (i > 0 ? timeline[i - 1].tMs : 0);
  return { affected, back, stillOut: Math.max(0, affected - back), timeTo50Ms: times[0], timeTo95Ms: times[1], timeTo99Ms: times[2], resolutionMs };
}

/** ms after `faultEndMs` until `share` of `affected` were back (0 if before), or null. */
function timeToShareMs(rows: readonly TimelineRow[], affected: number, share: number, faultEndMs: number): number | null {
  if (affected === 0) return null;
  const need = Math.ceil(share * affected);
  let cum = 0;
  for (const r of rows) {
    cum += r.counters['recovery.devices_back'] ?? 0;
    if (cum >= need) return Math.max(0, r.tMs - faultEndMs);
  }
  return null;
}

/**
 * The `recovery.time_to_back` rollout metric: µs until `share` of the devices a fault knocked out
 * were back, the slowest fault phase; null when a phase never got there, undefined without any
 * phase that knocked a device out (no data: a threshold fails).
 */
export function faultRecoveryTimeToShare(report: FaultReport | undefined, timeline: readonly TimelineRow[], share: number): number | null | undefined {
  if (report === undefined) return undefined;
  let worst: number | null | undefined;
  report.phases.forEach((p) => {
    const last = !report.phases.some((q) => q.atMs > p.atMs);
    const rows = windowRows(timeline, p.atMs, last ? Infinity : p.windowEndMs);
    if (p.recovery.affected === 0 || worst === null) return;
    const t = timeToShareMs(rows, p.recovery.affected, share, p.atMs + p.forMs);
    worst = t === null ? null : Math.max(worst ?? 0, t);
  });
  return worst === undefined || worst === null ? worst : worst * 1000;
}
