import { distributionWith, sampleDuration, type DurationDistribution } from '../models/distributions.js';
import { Stream, uniform } from '../models/rng.js';
import type { FleetMap } from './fleet-map.js';
import type { InjectedCounts } from './injected.js';
import type { FaultHttpRoute, FaultLatency, FaultPhase, HttpFaultAction, MqttFaultAction } from './spec.js';

type MqttPhase = FaultPhase & { fault: { target: 'mqtt'; share: number; action: MqttFaultAction } };
type HttpPhase = FaultPhase & { fault: { target: 'http'; routes: readonly FaultHttpRoute[]; share: number; action: HttpFaultAction } };

/** Per-request picks use their own counter range of the fault stream (fleet-map.ts uses the low ones). */
const REQUEST_COUNTER_BASE = 1 << 24;

/**
 * The fault phases in force now, and the decision for each request or session: the engine
 * starts and ends phases on its timers, the proxies ask. A phase's share of requests is drawn
 * per request (counter-based draws keyed by the phase, so a run's sequence of picks is seeded);
 * its share of sessions per device (fleet-map.ts). Single-threaded: the coordinator's event loop.
 */
export class ActiveFaults {
  private readonly http: HttpPhase[] = [];
  private readonly mqtt: MqttPhase[] = [];
  private readonly drawn = new Map<number, number>();
  private readonly listeners: Array<(phase: FaultPhase, active: boolean) => void> = [];

  constructor(
    readonly map: FleetMap,
    readonly counts: InjectedCounts,
    private readonly seed: number,
  ) {}

  /** Tells `fn` when a phase starts or ends (the MQTT proxy cuts sessions on a start). */
  onChange(fn: (phase: FaultPhase, active: boolean) => void): void {
    this.listeners.push(fn);
  }

  start(p: FaultPhase): void {
    if (p.fault.target === 'http') this.http.push(p as HttpPhase);
    else if (p.fault.target === 'mqtt') this.mqtt.push(p as MqttPhase);
    for (const fn of this.listeners) fn(p, true);
  }

  end(p: FaultPhase): void {
    remove(this.http, p);
    remove(this.mqtt, p);
    for (const fn of this.listeners) fn(p, false);
  }

  /** The first active HTTP fault that picks this request of `route` by device `dev` (-1: unknown), or undefined. */
  httpFault(route: FaultHttpRoute | 'other', dev: number): { phase: number; action: HttpFaultAction } | undefined {
    for (const p of this.http) {
      if (route === 'other' || !p.fault.routes.includes(route) || !this.map.inScope(p, dev)) continue;
      if (p.fault.share < 1 && !(this.nextUniform(p.index) < p.fault.share)) continue;
      return { phase: p.index, action: p.fault.action };
    }
    return undefined;
  }

  /** Active MQTT phases of `kind` that pick device `dev`'s sessions. */
  mqttFaults(kind: MqttFaultAction['kind'], dev: number): MqttPhase[] {
    if (this.mqtt.length === 0) return NONE;
    return this.mqtt.filter((p) => p.fault.action.kind === kind && this.mqttPicks(p, dev));
  }

  /** Active MQTT phases of `kind`, whoever they pick. */
  mqttPhases(kind: MqttFaultAction['kind']): MqttPhase[] {
    if (this.mqtt.length === 0) return NONE;
    return this.mqtt.filter((p) => p.fault.action.kind === kind);
  }

  /** Whether an unscoped MQTT phase picks connection `conn` (a proxy that cannot see devices: TLS). */
  picksConnection(p: FaultPhase, conn: number): boolean {
    return p.fault.target === 'mqtt' && this.map.inScope(p, -1) && this.map.pickConnection(p, conn, p.fault.share);
  }

  mqttPicks(p: FaultPhase, dev: number): boolean {
    return p.fault.target === 'mqtt' && this.map.inScope(p, dev) && this.map.pickSession(p, dev, p.fault.share);
  }

  /** An added latency, drawn. */
  latencyMs(l: FaultLatency, phase: number): number {
    if (l.kind === 'fixed') return l.ms;
    return sampleDuration(faultLatencyDistribution(l), this.nextUniform(phase), this.nextUniform(phase));
  }

  private nextUniform(phase: number): number {
    const n = this.drawn.get(phase) ?? 0;
    this.drawn.set(phase, n + 1);
    return uniform(this.seed, phase, Stream.fault, REQUEST_COUNTER_BASE + n);
  }
}

const NONE: MqttPhase[] = [];

/** The distribution of a drawn added latency (its median as given; shape defaults as the schema states). */
export function faultLatencyDistribution(l: Exclude<FaultLatency, { kind: 'fixed' }>): DurationDistribution {
  return distributionWith(l.kind, { median: l.medianMs }, l.shape ?? (l.kind === 'pareto' ? 2.5 : 1));
}

function remove<T>(list: T[], x: unknown): void {
  const i = list.indexOf(x as T);
  if (i >= 0) list.splice(i, 1);
}
