import type { FaultPhase } from './spec.js';

/**
 * Every fault the proxy (or the broker restarter) injected, by phase, kind and route: what the
 * report sets beside what devices saw. Kinds are stable names (summary.json `faults.phases[].injected`).
 */
export const INJECTED_KINDS = [
  'http_status',
  'latency',
  'reset',
  'stall',
  'garbage_body',
  'wrong_shape_body',
  'session_disconnected',
  'connect_closed',
  'connack_refused',
  'puback_dropped',
  'session_blackholed',
  'broker_restarted',
] as const;
export type InjectedKind = (typeof INJECTED_KINDS)[number];

/** Routes as in metrics/request-errors.ts, plus what MQTT faults act on. */
export type InjectedRoute = 'provision' | 'poll' | 'state' | 'artifact' | 'other' | 'mqtt_connect' | 'mqtt_session' | 'mqtt_publish' | 'broker';

export interface InjectedCount {
  phase: number;
  kind: InjectedKind;
  route: InjectedRoute;
  count: number;
}

/** What a run injected: its fault phases and every count. */
export interface FaultInjectionResults {
  phases: FaultPhase[];
  injected: InjectedCount[];
  /** Broker restarts that failed to bring a broker back (the run goes on without it). */
  errors: string[];
}

/** Counts of injected faults. One instance per run, in the coordinator's process (single-threaded: no locking). */
export class InjectedCounts {
  private readonly counts = new Map<string, InjectedCount>();

  add(phase: number, kind: InjectedKind, route: InjectedRoute, n = 1): void {
    const key = `${phase}\u0000${kind}\u0000${route}`;
    const c = this.counts.get(key);
    if (c) c.count += n;
    else this.counts.set(key, { phase, kind, route, count: n });
  }

  /** Every count, by phase, then kind, then route. */
  list(): InjectedCount[] {
    return [...this.counts.values()].map((c) => ({ ...c })).sort((a, b) => a.phase - b.phase || a.kind.localeCompare(b.kind) || a.route.localeCompare(b.route));
  }

  total(phase?: number): number {
    let n = 0;
    for (const c of this.counts.values()) if (phase === undefined || c.phase === phase) n += c.count;
    return n;
  }
}
