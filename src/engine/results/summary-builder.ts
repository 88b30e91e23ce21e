import { createHash } from 'node:crypto';
import path from 'node:path';
import { COUNTERS, GAUGES, HISTOGRAMS } from '../../metrics/catalog.js';
import type { MetricsAggregator, TimelineRow } from '../../metrics/aggregate.js';
import { buildFleetResults, mergeProjections } from './fleet-results.js';
import { addFleetOpsResults, campaignRuns, slowestCampaignTimeToMs, type RunTotals } from './fleet-ops-summary.js';
import { buildRunEvents } from './run-events.js';
import { costResults } from './cost-results.js';
import { groupTotals, sumGroupRows } from '../../metrics/group-usage.js';
import { yearsResults } from './years-results.js';
import { addCostAndYearsCounters } from './derived-longrun.js';
import { onlineOverRun } from '../../summary/online.js';
import type { OperatorResults } from '../operator/wall-operator.js';
import { histogramStats } from '../../metrics/histogram.js';
import { evaluateThreshold } from '../../metrics/thresholds.js';
import type { ResolvedPreset, ResolvedScenario } from '../../scenario/resolved.js';
import { SUMMARY_SCHEMA_VERSION, type FleetResults, type RunSummary } from '../../summary/run-summary.js';
import { accountingSummary, backendCountCounters, telemetryLost, type BackendCounts } from '../../summary/accounting.js';
import { decideResult, type RunStatus, type ThresholdResult } from '../../summary/verdict.js';
import { generatorBound, generatorProblems, sendSideBacklog } from '../../summary/generator-health.js';
import type { ShardFinal } from '../shard/protocol.js';
import { outageOf, requestErrorsOf } from '../../summary/outage.js';
import { VERSION } from '../../version.js';
import type { BackendQueues } from '../../summary/backend-queues.js';
import { faultRecoveryTimeToShare, faultReportOf, type FaultReport } from '../../summary/fault-report.js';
import { faultLabel } from '../../faults/spec.js';
import type { FaultInjectionResults } from '../../faults/injected.js';

export interface BuildSummaryInput {
  runId: string;
  scenario: ResolvedScenario;
  aggregator: MetricsAggregator;
  finals: ShardFinal[];
  expectedShards: number;
  startedAt: Date;
  endedAt: Date;
  simulatedMs: number;
  workers: number;
  /** Devices this run simulated and reports (its slice for a --shard run); default: the fleet. */
  devices?: number;
  status: RunStatus;
  targetLabel: string;
  /** The target's warnings (TLS verification off), shown in every report. */
  warnings?: string[];
  shard?: { index: number; count: number };
  backendCounts?: BackendCounts;
  errors: string[];
  timeline?: readonly TimelineRow[];
  /** Wall clock: the operator's view of the backend's fleet operations. */
  operator?: OperatorResults;
  /** The scenario file's text, for the report. */
  scenarioText?: string;
  host?: RunSummary['run']['host'];
  /** Virtual clock with a queueing backend: the fleet-wide backend's queues. */
  backendQueues?: BackendQueues;
  /** Wall clock with backend fault phases: what the fault proxy injected. */
  faults?: FaultInjectionResults;
}

/** The `faults` section: injected against observed, per phase. */
function faultSection(i: BuildSummaryInput): FaultReport | undefined {
  const f = i.faults;
  if (f === undefined) return undefined;
  const phases = f.phases.filter((p) => p.atMs <= i.simulatedMs).map((p) => ({ index: p.index, label: faultLabel(p.fault), atMs: p.atMs, forMs: p.forMs }));
  return faultReportOf(i.timeline ?? [], phases, f.injected, i.simulatedMs, f.errors);
}

/**
 * The scenario's identity, for `compare` ("the runs used different scenarios") and `merge`: what
 * it resolved to, not where it was read from. So a protocol or preset module file counts by its
 * path relative to the scenario file (two checkouts of one repository, or two CI workspaces, hash
 * the same; the absolute path made them differ), and a protocol's secrets by name only (an
 * environment's credentials are not the scenario, and their values stay out of the hash).
 */
export function scenarioHash(s: ResolvedScenario): string {
  const { file, ...rest } = s;
  const identity = 'preset' in rest.target ? { ...rest, target: { ...rest.target, preset: presetIdentity(rest.target.preset, file) } } : rest;
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}

function presetIdentity(p: ResolvedPreset, scenarioFile: string): ResolvedPreset {
  if (p.kind === 'builtin') return p;
  const file = path.relative(scenarioFile === '<inline>' ? process.cwd() : path.dirname(scenarioFile), p.file);
  if (p.kind === 'module') return { ...p, file };
  return { ...p, file, secrets: Object.fromEntries(Object.keys(p.secrets).map((k) => [k, ''])) };
}

/**
 * Turns the merged metrics and the shards' final accounting into `summary.json`: the accounting
 * identity, thresholds with measured values, generator health, and the verdict with its exit code
 * (summary/verdict.ts).
 */
export function buildSummary(i: BuildSummaryInput): RunSummary {
  const outage = outageOf(i.timeline ?? []);
  const faults = faultSection(i);
  const s = i.scenario;
  const acc = accountingSummary(i.finals, i.backendCounts);

  const counters: Record<string, number> = {};
  COUNTERS.forEach(([n], k) => (counters[n] = i.aggregator.totals[k]));
  counters['telemetry.lost'] = telemetryLost(acc);
  Object.assign(counters, backendCountCounters(acc));
  // Device order, not arrival order: the fleet results must not depend on which shard finished first.
  const inOrder = [...i.finals].sort((a, b) => a.shard - b.shard);
  const fleet = fleetSection(s, i.timeline ?? [], inOrder, i.simulatedMs, {
    counter: (name) => counters[name],
    histogram: (name) => {
      const k = HISTOGRAMS.findIndex(([n]) => n === name);
      return k < 0 ? undefined : i.aggregator.histograms[k];
    },
  }, i.operator);
  // Campaign outcomes, so that thresholds can assert them (metrics/catalog.ts, DERIVED).
  const campaigns = fleet?.ota?.campaigns ?? [];
  counters['campaign.started'] = campaigns.length;
  counters['campaign.aborted'] = campaigns.filter((c) => c.state === 'aborted').length;
  counters['campaign.failures'] = counters['update.failed'] + counters['update.rolled_back'];
  const groupRows = sumGroupRows(i.finals.map((f) => f.groupUsage));
  const cost = costResults(s, counters, i.timeline ?? [], groupRows && groupTotals(groupRows, s.fleet.length));
  const years = yearsResults(s, counters, i.timeline ?? [], fleet);
  addCostAndYearsCounters(counters, cost, years);
  const gauges: Record<string, number> = {};
  GAUGES.forEach(([n]) => (gauges[n] = i.aggregator.gauge(n)));
  const encoded = i.aggregator.encodedHistograms();
  const histograms: RunSummary['histograms'] = {};
  HISTOGRAMS.forEach(([n], k) => (histograms[n] = { stats: histogramStats(i.aggregator.histograms[k]), encoded: encoded[n] }));

  const seconds = Math.max(i.simulatedMs / 1000, 1e-9);
  const thresholds = s.thresholds.map((t) => {
    const r = evaluateThreshold(t, {
      histogram: (name) => {
        const k = HISTOGRAMS.findIndex(([n]) => n === name);
        return k < 0 ? undefined : i.aggregator.histograms[k];
      },
      counter: (name) => counters[name],
      gauge: (name) => gauges[name],
      durationSec: seconds,
      telemetryGenerated: acc.generated,
      timeToShare: (name, share) => (name === 'recovery.time_to_back' ? faultRecoveryTimeToShare(faults, i.timeline ?? [], share) : campaignTimeToShare(fleet, s.devices)(name, share)),
    });
    return { metric: t.metric, expression: t.expression, value: r.value, display: r.display, ok: r.ok };
  });

  const maxLag = Math.max(0, ...i.finals.map((f) => f.maxScheduleLagMs));
  const maxLoop = Math.max(0, ...i.finals.map((f) => f.maxEventLoopDelayMs));
  const bound = generatorBound(s.thresholds, s.options.maxScheduleLagMs);
  const cpu = generatorProblems({ maxScheduleLagMs: maxLag, maxEventLoopDelayMs: maxLoop, ...bound, closedByBroker: counters['mqtt.connection_lost.closed_by_broker'] });
  // A backlog is only the send side's when nothing modelled explains it; the last row is the stop's drain.
  const sendSide = s.clock === 'wall' && !s.phases.some((p) => p.kind === 'outage') ? sendSideBacklog((i.timeline ?? []).slice(0, -1), s.fleet.every((g) => g.session === 'always')) : [];
  const saturated = cpu.length > 0 || sendSide.length > 0;
  const { verdict, exitCode, reasons } = decideResult({
    status: i.status,
    thresholds,
    shardsReported: i.finals.length,
    expectedShards: i.expectedShards,
    generator: cpu,
    sendSide,
    accountingHolds: acc.holds,
    backendCountUnconfirmed: acc.backend?.unconfirmed,
    errors: i.errors,
  });

  const online = onlineOverRun(i.timeline ?? []);
  const events = buildRunEvents(s, i.simulatedMs, campaignRuns(s, i.finals, i.operator));

  return {
    schemaVersion: SUMMARY_SCHEMA_VERSION,
    tool: { name: 'fleetsim', version: VERSION },
    run: {
      id: i.runId,
      scenario: s.name,
      scenarioFile: s.file,
      scenarioHash: scenarioHash(s),
      seed: s.seed,
      clock: s.clock,
      timeScale: s.timeScale,
      startedAt: i.startedAt.toISOString(),
      endedAt: i.endedAt.toISOString(),
      durationMs: i.simulatedMs,
      wallMs: i.endedAt.getTime() - i.startedAt.getTime(),
      ...(i.finals.length > 0 && i.finals.every((f) => f.events !== undefined) ? { events: i.finals.reduce((a, f) => a + (f.events ?? 0), 0) } : {}),
      devices: i.devices ?? s.devices,
      workers: i.workers,
      shard: i.shard,
      status: i.status,
      target: i.targetLabel,
      ...(i.warnings && i.warnings.length > 0 ? { warnings: i.warnings } : {}),
      ...(i.scenarioText === undefined ? {} : { scenarioText: i.scenarioText }),
      ...(i.host ? { host: i.host } : {}),
    },
    result: { verdict, exitCode, reasons },
    accounting: acc,
    counters,
    gauges,
    histograms,
    thresholds,
    generator: {
      shards: [...i.finals]
        .sort((a, b) => a.shard - b.shard)
        .map((f) => ({ shard: f.shard, maxScheduleLagMs: f.maxScheduleLagMs, maxEventLoopDelayMs: f.maxEventLoopDelayMs, ...(f.events === undefined ? {} : { events: f.events }) })),
      maxScheduleLagMs: maxLag,
      maxEventLoopDelayMs: maxLoop,
      ...bound,
      ...(sendSide.length > 0 ? { sendSide } : {}),
      saturated,
    },
    ...(online ? { online } : {}),
    ...(events.length > 0 ? { events } : {}),
    ...(fleet ? { fleet } : {}),
    ...(cost ? { cost } : {}),
    ...(years ? { years } : {}),
    requestErrors: requestErrorsOf(counters),
    ...(outage ? { outage } : {}),
    ...(i.backendQueues ? { backend: i.backendQueues } : {}),
    ...(faults ? { faults } : {}),
  };
}

/**
 * The `fleet` member of a summary, from the fleet-wide timeline, the shards' finals (in device
 * order) and the run's metric totals: the same function for a whole run and for `merge`, so a
 * merged run's fleet results are the whole run's.
 */
export function fleetSection(s: ResolvedScenario, timeline: readonly TimelineRow[], finals: readonly Pick<ShardFinal, 'fleetOps' | 'energy'>[], simulatedMs: number, metrics: RunTotals, op?: OperatorResults): FleetResults | undefined {
  const projections = mergeProjections(finals.map((f) => f.energy ?? []));
  return addFleetOpsResults(buildFleetResults(s, timeline, projections, simulatedMs), s, finals, metrics, op);
}

/** What a `campaign.time_to_updated` threshold measures, in µs, read off the fleet results. */
export function campaignTimeToShare(fleet: FleetResults | undefined, devices: number): (name: string, share: number) => number | null | undefined {
  return (name, share) => {
    if (name !== 'campaign.time_to_updated') return undefined;
    const ms = slowestCampaignTimeToMs(fleet, devices, share);
    return ms == null ? ms : ms * 1000;
  };
}
