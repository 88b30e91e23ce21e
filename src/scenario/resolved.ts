import type { ProtocolData } from '../protocol/schema.js';
import type { BuiltInPresetName } from '../protocol/built-in-presets.js';
import type { PlatformFakeName } from '../wire/platform-fakes.js';
import type { TemplateSpec } from '../payload/template-spec.js';
import type { BackendSpec } from '../models/backend-queue.js';
import type { HardwareProfile } from '../models/hardware-profile.js';
import type { ResolvedCost, ResolvedLifetime } from './cost-lifetime-resolve.js';
import type { FaultPhase } from '../faults/spec.js';
import type { CommandPhaseSpec, ConfigPhaseSpec, ResolvedFleetOpsBehaviour, ResolvedProvisioning, UpdatePhaseSpec } from './resolved-fleet-ops.js';

export type * from './resolved-fleet-ops.js';
export type { ResolvedCost, ResolvedLifetime } from './cost-lifetime-resolve.js';

/** A timed phase, by kind. */
export type ResolvedPhase =
  | { atMs: number; kind: 'outage'; spec: { scope: 'cell' | 'device' | 'fleet'; fraction: number; durationMs: number } }
  | { atMs: number; kind: 'update'; spec: UpdatePhaseSpec }
  | { atMs: number; kind: 'config'; spec: ConfigPhaseSpec }
  | { atMs: number; kind: 'command'; spec: CommandPhaseSpec }
  /** A fault injected between the devices and the backend (faults/spec.ts). */
  | { atMs: number; kind: 'backend'; spec: FaultPhase };

/** The scenario's backend fault phases, in time order. */
export function faultPhasesOf(s: { readonly phases: readonly ResolvedPhase[] }): FaultPhase[] {
  return s.phases.flatMap((p) => (p.kind === 'backend' ? [p.spec] : []));
}

/**
 * The resolved scenario: what validation hands to planning and running. Every unit string is
 * parsed into numbers (ms, bytes, per second, fractions), defaults are filled in, profiles are
 * looked up. The raw, as-written shape is `ScenarioInput` in schema.ts (the single source of the
 * YAML's types, validation and JSON Schema); this is derived from it by resolve.ts.
 * Deep-frozen after resolution: nothing downstream may change it.
 */
export interface ResolvedScenario {
  name: string;
  /** Absolute path of the file it came from ('<inline>' for tests). */
  file: string;
  seed: number;
  durationMs: number;
  clock: 'wall' | 'virtual';
  /** Simulated seconds per wall second (wall clock only). */
  timeScale: number;
  target: ResolvedTarget;
  fleet: ResolvedFleetGroup[];
  /** Sum of fleet[].count. */
  devices: number;
  arrival: {
    /** Devices powered on per second at the start of the ramp. */
    ratePerSec: number;
    /** Optional linear ramp to `toRatePerSec` over `overMs`. */
    toRatePerSec?: number;
    overMs?: number;
  };
  behaviour: {
    /** `template` (payload/template-spec.ts) replaces the padded payload of `sizeBytes`. */
    telemetry?: { everyMs: number; jitter: number; sizeBytes: number; qos: 0 | 1; template?: TemplateSpec };
    poll?: { everyMs: number; jitter: number };
    reconnect: { baseMs: number; capMs: number };
    /** Share of a Retry-After added at random (0..): wait = Retry-After × (1 + jitter × u). */
    retryAfterJitter: number;
    keepaliveSec: number;
    /** The default of every group's `session` (ResolvedFleetGroup.session is what applies). */
    session: 'always' | 'per-report';
    /** Each device's own on/off process. */
    offline?: {
      availability: number;
      downtime: ResolvedDowntime;
      /** A backup link with its own outages; failover after `switchoverMs`. */
      backup?: { availability: number; downtime: ResolvedDowntime; switchoverMs: number };
    };
    /** Downloads, logs, diagnostics and configuration (fleet operations). */
    fleetOps: ResolvedFleetOpsBehaviour;
  };
  /** The modelled backend of the virtual clock, per operation (models/backend-queue.ts; DEFAULT_BACKEND when the scenario has no `backend:`). */
  backend: BackendSpec;
  /** Factory provisioning (absent: automatic with the fleet key, no end-of-line test). */
  provisioning?: ResolvedProvisioning;
  /** Phases in time order. */
  phases: ResolvedPhase[];
  /** Prices and protocol choices for the cost of data (absent: no cost section). */
  cost?: ResolvedCost;
  /** The fleet over years (virtual clock; absent: none). */
  lifetime?: ResolvedLifetime;
  thresholds: ResolvedThreshold[];
  options: {
    mqttClient: 'mqttjs' | 'lean';
    /** Device sessions subscribe in the CONNECT's write, before CONNACK (MQTT 3.1.1 §3.1). */
    mqttPipelining: boolean;
    /** MQTT broker of the embedded backend. */
    embeddedBroker: 'lean' | 'aedes';
    http: { client: 'lean' | 'undici'; connections: 'pooled' | 'per-device'; poolSize: number };
    /** Bound on scheduler lag past which the measurement is invalid (exit 3). */
    maxScheduleLagMs: number;
    /** Interval of metric snapshots. */
    snapshotEveryMs: number;
    /** Apply the link model (delay, loss, retransmission) to telemetry in transit. */
    linkModel: boolean;
    /**
     * Virtual clock: simulate event by event for this long, then project battery lifetimes in
     * closed form to the end of `duration` (for multi-year questions).
     */
    projectAfterMs?: number;
    /** Worker threads, when the command line set them (`--workers`). */
    workers?: number;
  };
}

export interface ResolvedDowntime {
  distribution: 'exponential' | 'lognormal' | 'pareto' | 'weibull';
  median?: number;
  mean?: number;
  shape?: number;
}

/**
 * TLS of a target: the CA bundle (PEM text, read at validation), SNI, verification off for test
 * servers, and where devices' client certificates come from (paths absolute).
 */
export interface ResolvedTls {
  ca?: string;
  servername?: string;
  insecure: boolean;
  deviceCerts?: { kind: 'fleet-ca'; dir?: string; commonName?: string; untrusted: number } | { kind: 'folder'; dir: string };
}

export type ResolvedTarget =
  /**
   * The embedded HTTP API; devices use its aedes broker unless `broker` says otherwise: local
   * Mosquitto processes fleetsim starts, or an external broker URL (its telemetry is counted by a
   * subscriber so the per-device counts still reconcile).
   */
  | { kind: 'embedded'; fleetKey: string; broker?: { kind: 'local-mosquitto'; count: number } | { kind: 'url'; url: string }; tls?: ResolvedTls }
  | { kind: 'external'; http: string; mqtt: string; preset: ResolvedPreset; fleetKey: string; tls?: ResolvedTls }
  /** A local test backend fleetsim starts (target.backend), speaking the protocol of `preset`. */
  | { kind: 'test-backend'; backend: PlatformFakeName; preset: ResolvedPreset; fleetKey: string };

/**
 * How lifecycle steps map onto the backend: a built-in preset by name, a validated protocol file
 * with its secrets read (values live only here, never in a report), or a module to import by path.
 */
export type ResolvedPreset =
  | { kind: 'builtin'; name: BuiltInPresetName }
  | { kind: 'protocol'; file: string; protocol: ProtocolData; secrets: Readonly<Record<string, string>> }
  | { kind: 'module'; file: string };

export interface ResolvedFleetGroup {
  /** Index of this entry in `fleet:`, for messages. */
  index: number;
  profile: string;
  count: number;
  link: string;
  /** always: a standing MQTT session; per-report: sleepy devices connect for each report. */
  session: 'always' | 'per-report';
  /** First device index of this group in the global index space. */
  firstDevice: number;
  /** How many cells (or gateways) the group's devices are spread over. */
  cells?: number;
  /**
   * netem-style overrides of the link model (tc users read them at a glance): one-way delay,
   * jitter and its distribution, random loss or a Gilbert–Elliott model (p, r, 1-h, 1-k), rate.
   */
  netem?: {
    delayMs?: number;
    jitterMs?: number;
    distribution?: 'uniform' | 'normal' | 'pareto' | 'paretonormal';
    loss?: number;
    lossGe?: [number, number, number, number];
    rateBps?: number;
  };
  /** The resolved hardware profile (energy, radios, storage), when profiles are loaded. */
  hardware?: HardwareProfile;
}

export interface ResolvedThreshold {
  metric: string;
  /** As written, e.g. `p(99) < 500ms`. */
  expression: string;
  /** Parsed form. */
  aggregate: { kind: 'p'; percentile: number } | { kind: 'avg' | 'med' | 'min' | 'max' | 'rate' | 'count' };
  op: '<' | '<=' | '>' | '>=' | '==' | '!=';
  /** Right-hand side in the metric's base unit (µs for latencies, a fraction for rates). */
  value: number;
}

/**
 * How far a run simulates event by event: the whole duration, or on the virtual clock up to
 * `options.projectAfter`, past which battery lifetimes are projected in closed form.
 */
export function simulatedHorizonMs(s: Pick<ResolvedScenario, 'clock' | 'durationMs' | 'options'>): number {
  return s.clock === 'virtual' ? Math.min(s.durationMs, s.options.projectAfterMs ?? Infinity) : s.durationMs;
}
