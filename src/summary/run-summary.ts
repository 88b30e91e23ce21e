import type { BackendQueues } from './backend-queues.js';
import type { OutageRecovery, RequestErrors } from './outage.js';
import type { FaultReport } from './fault-report.js';
import type { HistogramStats } from '../metrics/histogram.js';
import type { YearRow } from '../models/fleet-years.js';
import type { AccountingSummary } from './accounting.js';
import type { RunStatus, ThresholdResult, VerdictResult } from './verdict.js';

/**
 * `summary.json`: the machine contract of a run. Versioned; a field is never renamed or given a
 * new meaning within a version. docs/summary.md documents it and a test checks the two agree.
 */
export const SUMMARY_SCHEMA_VERSION = 1 as const;

export interface HistogramSummary {
  stats: HistogramStats;
  /** HDR compressed base64, the fixed shape of metrics/histogram.ts: merge these exactly. */
  encoded: string;
}

export interface RunSummary {
  schemaVersion: typeof SUMMARY_SCHEMA_VERSION;
  tool: { name: 'fleetsim'; version: string };
  run: {
    id: string;
    scenario: string;
    scenarioFile: string;
    /** sha256 of the resolved scenario, so merge can refuse shards of another scenario. */
    scenarioHash: string;
    seed: number;
    clock: 'wall' | 'virtual';
    timeScale: number;
    startedAt: string;
    endedAt: string;
    /** Run length in (simulated) ms. */
    durationMs: number;
    wallMs: number;
    /**
     * Virtual clock only: events the shards' schedulers dispatched (a device's report, an ack, a
     * link flip, a connect completing ...), for events/s figures; absent for the wall clock.
     */
    events?: number;
    devices: number;
    workers: number;
    shard?: { index: number; count: number };
    status: RunStatus;
    target: string;
    /** How the run was made that a reader must know before trusting it (TLS verification off); absent when none. */
    warnings?: string[];
    /** The scenario file as written (its text), so the report shows what ran; absent for inline scenarios. */
    scenarioText?: string;
    /** The machine that generated the load, so a report says what it was measured on. */
    host?: RunHost;
  };
  result: VerdictResult;
  accounting: AccountingSummary;
  counters: Record<string, number>;
  gauges: Record<string, number>;
  histograms: Record<string, HistogramSummary>;
  thresholds: ThresholdResult[];
  generator: {
    /** Each shard's own worst lag and event-loop delay, ms (which shard fell behind, if one did). */
    shards?: Array<{ shard: number; maxScheduleLagMs: number; maxEventLoopDelayMs: number; events?: number }>;
    /** Worst schedule lag of any shard, ms. */
    maxScheduleLagMs: number;
    maxEventLoopDelayMs: number;
    /** The bound past which a run is invalid, ms: options.maxScheduleLag, or a share of the tightest latency threshold when smaller. */
    boundMs: number;
    /** Where `boundMs` comes from, in words (absent in reports written before it existed). */
    boundSource?: string;
    /** Send-side findings (buffers that only grow), one sentence each; absent when there were none. */
    sendSide?: string[];
    /** The generator could not keep up: lag or event-loop delay over the bound, or a send-side finding. */
    saturated: boolean;
  };
  /** Devices online over the run: the peak, and just before the end (every device disconnects at the end). */
  online?: OnlineDevices;
  /**
   * What happened when, in run time: outages, campaign starts, rollout steps and aborts, config
   * pushes and commands that the run reached. The report marks them on every time chart.
   */
  events?: RunEvent[];
  /**
   * Fleet-level results for product questions, present only when the scenario produced them
   * (each sub-field is optional too). The report renders a plot for each one present.
   */
  fleet?: FleetResults;
  /** What the fleet's data costs (scenario `cost:`): bytes and money per device and fleet, by activity. */
  cost?: CostResults;
  /** The fleet over years (scenario `lifetime:`): size, failures, replacements and releases per year. */
  years?: YearsResults;
  /** Failed requests by route and cause, and requests fleetsim cut off itself (summary/outage.ts). */
  requestErrors?: RequestErrors;
  /** A backend outage and the fleet's recovery from it; present only when devices were knocked out. */
  outage?: OutageRecovery;
  /** Virtual clock with a sized backend (`backend:`): each queueing operation's queue (summary/backend-queues.ts). */
  backend?: BackendQueues;
  /** Backend fault phases (wall clock): injected by the fault proxy against what devices saw, and recovery per phase. */
  faults?: FaultReport;
}

export interface RunHost {
  /** Logical CPUs (os.availableParallelism). */
  cores: number;
  /** Total memory, bytes. */
  memoryBytes: number;
  /** 1, 5 and 15 minute load averages when the run started and when it ended (zeros on Windows). */
  loadAverageStart: number[];
  loadAverageEnd: number[];
  /** Node.js version, e.g. v20.18.0. */
  node: string;
  /** os.platform() and os.arch(), e.g. linux x64. */
  platform: string;
}

export interface OnlineDevices {
  /** Most devices online in one snapshot, and when (ms since the start). */
  peak: number;
  peakAtMs: number;
  /** Devices online in the last snapshot before the run ended and disconnected them, and when. */
  beforeEnd: number;
  beforeEndAtMs: number;
}

export interface RunEvent {
  /** ms since the run started. */
  tMs: number;
  /** For outages: when they end (ms since the start). */
  endMs?: number;
  kind: 'outage' | 'cell-outage' | 'campaign' | 'step' | 'abort' | 'config' | 'command' | 'fault';
  /** For people, e.g. "os-2.0 step 2 (10%)". */
  label: string;
}

/** Time series and distributions about the fleet rather than the backend. */
export interface FleetResults {
  /** Share of the fleet (0..1) running each release over time, one series per release. */
  rollout?: Array<{ release: string; points: Array<[tMs: number, share: number]> }>;
  /** Predicted battery lifetime per hardware profile, as (percentile 0..100, days) points. */
  batteryLifetime?: Array<{ profile: string; devices: number; percentiles: Array<[percentile: number, days: number]> }>;
  /** Share of the fleet (0..1) offline over time. */
  offlineShare?: Array<[tMs: number, share: number]>;
  /** Share of the fleet (0..1) that had applied a config change, by ms since the change was published. */
  configPropagation?: Array<[msSinceChange: number, share: number]>;
  /**
   * What each profile's battery projection rests on, or why there is none (method 'refused'):
   * batteryLifetime and batteryYears list only the profiles that were projected.
   */
  batteryBasis?: BatteryProjectionBasis[];
  /** Battery lifetime summary per profile, years (battery-powered devices only). */
  batteryYears?: Array<{ profile: string; devices: number; depleted: number; p5: number; p50: number; p95: number; min: number; max: number }>;
  /** Energy drawn per profile by activity, J, over the simulated part of the run. */
  energyByActivity?: Array<{ profile: string; sleepJ: number; cpuJ: number; radioJ: number; otaJ: number }>;
  /**
   * Devices whose battery is empty, over time up to the end of `duration` (ms, count). Beyond the
   * simulated horizon (options.projectAfter) it follows from the projected lifetimes.
   */
  depletedOverTime?: Array<[tMs: number, devices: number]>;
  /** The simulated horizon when battery lifetimes were projected past it, ms. */
  projectedFromMs?: number;
  /** OTA updates: time to reach shares of the fleet, outcomes by cause, bytes and energy. */
  ota?: OtaResults;
  /** Remote commands (diagnostics): sent, answered; the round trip is the `command.rtt` histogram. */
  commands?: { sent: number; received: number; answered: number };
  /** Device logs: generated = sent + dropped + buffered. */
  logs?: { generated: number; sent: number; dropped: number; buffered: number; holds: boolean };
  /** Configuration pushes: applied, and propagation percentiles (ms) for devices online at the push. */
  config?: { applied: number; p50Ms: number | null; p95Ms: number | null; p99Ms: number | null; maxMs: number | null; catchupP50Ms: number | null };
}

/** How a profile's battery lifetimes were projected (engine/results/battery-projection.ts). */
export interface BatteryProjectionBasis {
  profile: string;
  /** per-device: each device's own steady rate; pooled: one rate over the profile; refused: the run was too short to know. */
  method: 'per-device' | 'pooled' | 'refused';
  /** Simulated time the rates come from, ms. */
  simulatedMs: number;
  /** The last power-on of the profile's devices, ms: the whole profile is in steady state after it. */
  steadyFromMs: number;
  /** Running battery devices the rates come from. */
  devices: number;
  /** The slowest recurring process of the scenario (reports, polls, link outages) and its mean period, ms. */
  slowestCycle?: { name: string; ms: number };
  /** How many of those cycles the shortest device window covered, and all windows together (null: nothing recurs). */
  cyclesPerDevice: number | null;
  cyclesPooled: number | null;
  /** One-off energy drawn per device on average (shelf time, boot, first attach, provisioning, OTA), J, counted once. */
  oneOffJPerDevice: number;
  /** Steady drain per device, pooled (recurring energy over time plus self-discharge), W; null when no device ran. */
  recurringWPerDevice: number | null;
  /** The scenario's stated recurrence of its OTA updates (`update.recurs`), ms; absent: OTA counted once. */
  otaRecursEveryMs?: number;
  /** The same in one sentence, as the report and console print it. */
  text: string;
}

export interface OtaResults {
  /** Per campaign release: devices with a compatible artifact, and ms from the campaign's start until that share of them ran it (null: never). */
  releases: Array<{ release: string; startMs: number; compatible: number; updated: number; timeTo50Ms: number | null; timeTo95Ms: number | null; timeTo99Ms: number | null }>;
  succeeded: number;
  failed: number;
  rolledBack: number;
  incompatible: number;
  /** Failed and rolled-back updates by cause (incompatible, checksum, too-slow, download, health-check, battery). */
  failuresByCause: Record<string, number>;
  bytesDownloaded: number;
  bytesSavedByResume: number;
  bytesSavedByDelta: number;
  resumes: number;
  /** OTA energy per committed update, per profile, J. */
  energyPerUpdate: Array<{ profile: string; updates: number; otaJ: number; jPerUpdate: number | null }>;
  /** Campaign outcomes as the backend saw them (aborted at which step, and why). */
  campaigns: Array<{ release: string; state: string; step: number; reason?: string }>;
  /** What the backend counted (wall clock with a backend that reports it). */
  backend?: { artifactRequests: number; artifactBytesServed: number; stateReports: number };
}

/** `cost`: data volume at the protocol level and its price (engine/results/cost-results.ts). */
export interface CostResults {
  currency: string;
  /** Device-days simulated, the base of every per-day figure. */
  deviceDays: number;
  /** IP version, TLS, TCP options and MSS the bytes are counted with. */
  framing: string;
  /** What the average device did per day: the counts the bytes come from. */
  perDay: { reports: number; sessions: number; pings: number; polls: number; httpConnections: number; otaBytes: number; logMessages: number; retransmissions: number };
  activities: Array<{ activity: string; upBytesPerDay: number; downBytesPerDay: number; bytesPerMonth: number; messagesPerMonth: number; costPerMonth: number }>;
  /** Plan fees and per-device fees per device per month. */
  planPerMonth: number;
  devicePerMonth: number;
  bytesPerDeviceMonth: number;
  costPerDeviceMonth: number;
  fleetPerMonth: number;
  /**
   * Each fleet group priced on its own link from what its own devices did (per-group counters:
   * metrics/group-usage.ts): per device a month, bytes and cost by activity, plan and device fees.
   */
  byGroup: Array<{
    group: number;
    profile: string;
    link: string;
    devices: number;
    deviceDays: number;
    bytesPerDeviceMonth: number;
    costPerDeviceMonth: number;
    fleetPerMonth: number;
    /** Cost per device a month by activity (data and messages). */
    activities: Record<string, number>;
    planPerMonth: number;
  }>;
  /** The scenario's what-if variations, each priced from the same counts with one choice changed. */
  whatIf: Array<{ label: string; bytesPerDeviceMonth: number; costPerDeviceMonth: number; fleetPerMonth: number; change: number }>;
}

/** `years`: the fleet over years (engine/results/years-results.ts, models/fleet-years.ts). */
export interface YearsResults {
  years: number;
  /** Devices made over the years, replacements included. */
  devices: number;
  /** One row per year (models/fleet-years.ts YearRow). */
  rows: YearRow[];
  campaigns: Array<{ release: string; installs: number; singleSlotInstalls: number; interrupted: number; bricked: number; rolledBack: number }>;
  profiles: Array<{
    group: number;
    profile: string;
    storage: string;
    enduranceBytes: number;
    writesPerDay: number;
    wearoutYears: number | null;
    hardwareFailedShare: number;
    slots: string;
    cutsPerYear: number;
    installWindowS: number;
    brickPerInstall: number;
    batteryYearsP50: number | null;
    /** Share failed from random hardware failures (bathtub) by age: [years, share]. */
    failureCurve: Array<[number, number]>;
  }>;
}
