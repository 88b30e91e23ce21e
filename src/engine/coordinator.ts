import os from 'node:os';
import type { TimelineRow } from '../metrics/aggregate.js';
import { faultPhasesOf, simulatedHorizonMs, type ResolvedScenario } from '../scenario/resolved.js';
import type { RunLayout } from '../scenario/capacity.js';
import type { RunSummary } from '../summary/run-summary.js';
import type { BackendCounts } from '../summary/accounting.js';
import type { CountingBackend, PreparedTarget } from './target-setup.js';
import type { DeviceTelemetryCounts } from '../wire/reference-protocol.js';
import type { ShardFinal } from './shard/protocol.js';
import type { ShardTarget } from './shard/task.js';
import { buildSummary } from './results/summary-builder.js';
import { mergePartsOf, type MergeParts } from './results/merge-parts.js';
import { hostFacts, scenarioTextOf } from './results/host.js';
import { buildOperatorPlan } from './operator/plan.js';
import { WallOperator, type OperatorResults } from './operator/wall-operator.js';
import { hasOperatorWork } from '../wire/operator-plan.js';
import { checkResources } from './resources.js';
import { launchShards, type LaunchOptions } from './hosting/launch.js';
import { yieldingNice } from './hosting/shard-priority.js';
import type { ShardLauncher } from './hosting/launcher.js';
import { sliceOf, splitDevices } from './shard/ranges.js';
import { fleetWideDecisions, playsOperatorPlan, shadowRanges } from './fleet-wide.js';
import { runShardSession } from './shard-session.js';
import type { FaultInjection } from './fault-injection.js';
import { InjectedCounts, type FaultInjectionResults } from '../faults/injected.js';
import { tuneCompiler } from './shard/compiler-tuning.js';

export interface RunOptions {
  /** Worker threads (shards) in all; with several processes, split among them (at least one each). */
  workers: number;
  /**
   * Wall clock: start the run at this instant (epoch ms) rather than as soon as the shards are
   * ready, so that `--shard` processes on several machines line their schedules up.
   */
  startAtMs?: number;
  /** Shard processes (`--processes`); undefined = as many as the descriptor limit needs. */
  processes?: number;
  /** Source addresses for MQTT sockets (`--source-addresses`); undefined = automatic on loopback. */
  sourceAddresses?: readonly string[];
  runId: string;
  /** This process runs slice `index` of `count` (cross-machine sharding). */
  shard?: { index: number; count: number };
  /** Called for every merged interval (live progress, Prometheus). */
  onInterval?: (row: TimelineRow, elapsedMs: number) => void;
  /** Called with log lines meant for the user. */
  log?: (line: string) => void;
  /** Resolves when the user asks to stop early (SIGINT/SIGTERM). */
  interrupt?: Promise<void>;
  /** Wall ms to wait for in-flight acks at the end (default DEFAULT_DRAIN_MS, engine/shard/tuning.ts). */
  drainMs?: number;
  /** Collect per-device counts (RunResult.deviceAcked); meant for tests and small fleets. */
  collectDeviceCounts?: boolean;
  /**
   * Virtual clock: queue every modelled ack as its own event, never deferred. Results are the same
   * either way (test/integration/deferred-acks.test.ts); tests and bench/virtual-ab.mjs compare them.
   */
  eagerAcks?: boolean;
  /** Profile every shard thread; profiles go to `profileDir`. */
  profile?: 'cpu' | 'heap';
  profileDir?: string;
  /** How the shards are launched (default: launchShards, from the layout); tests pass a failing one. */
  launch?: (layout: RunLayout, shards: number, opts: LaunchOptions) => ShardLauncher;
}

export interface RunResult {
  summary: RunSummary;
  timeline: TimelineRow[];
  /** Thread ids per shard at start and end (equal when piscina kept each shard on one thread), and the process it ran in. */
  shardThreads: Array<{ start: number; end: number; pid: number }>;
  /** Acked telemetry per global device index (only with collectDeviceCounts). */
  deviceAcked?: Map<number, number>;
  /** What the embedded backend counted per device (only with collectDeviceCounts). */
  backendDevices?: DeviceTelemetryCounts[];
  /** Wall clock with fleet operations: what the operator saw of the backend (campaigns, commands, fleet-ops counters). */
  operator?: OperatorResults;
  /** A --shard run: what `merge` needs to rebuild the fleet results (written to merge-parts.json). */
  mergeParts?: MergeParts;
  /** Virtual clock: of summary.run.events, how many ran deferred (engine/clock/deferred-events.ts); for tests and benches. */
  deferredEvents?: number;
}

/**
 * The coordinator (main thread): checks the machine, starts the target when it is local, runs one
 * long-lived task per shard (engine/shard-session.ts) and builds the summary. It never touches a
 * device: shards own their devices for the whole run. Whatever it started (brokers, the embedded
 * backend, shard threads and processes, operator timers) is stopped on every path out.
 */
export async function runScenario(s: ResolvedScenario, opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? (() => {});
  // The coordinator's own hot code (merging snapshots) is compiled during the run, after this.
  tuneCompiler();
  const slice = opts.shard ?? { index: 0, count: 1 };
  const mine = sliceOf(s, slice);
  // Pre-flight, before anything starts: processes, source addresses, descriptors, ports, memory.
  const layout = checkResources(s, mine.count, { ...opts, firstDevice: mine.firstDevice }, log);
  const plan = buildOperatorPlan(s);
  // Fleet-wide decisions of a --shard run: the other slices run as shadow shards after this
  // slice's (they join the lockstep but report nothing), or the run is refused (wall clock).
  const shadows = shadowRanges(s, plan, slice);
  if (shadows.length > 0) log(`fleet-wide decisions (${fleetWideDecisions(s, plan).join('; ')}): this shard also simulates the other ${s.devices - mine.count} devices, unreported, so that it decides on the whole fleet's counts`);
  const reported = splitDevices(s, slice, layout.shards);

  const startedAt = new Date();
  const loadAtStart = os.loadavg();
  // What starts local backends and fault proxies (backend/, faults/, Mosquitto, TLS: ~55 modules)
  // is loaded by the wall clock only: on the virtual one the target is the model in each shard.
  const prepared = s.clock === 'virtual' ? modelTarget(s) : await (await import('./target-setup.js')).prepareTarget(s, log, mine);
  let launcher: ShardLauncher | undefined;
  let operator: WallOperator | undefined;
  let faults: FaultInjection | undefined;
  try {
    // Fault phases: the fault proxy on the wall clock; on the virtual one the backend model plays them in the shards.
    const proxied = s.clock === 'wall' ? await (await import('./fault-injection.js')).FaultInjection.start(s, prepared.target, prepared.brokers ?? [], log) : undefined;
    faults = proxied?.injection;
    const devicesTarget = proxied?.target ?? prepared.target;
    const target: ShardTarget = layout.sourceAddresses.length > 0 ? { ...devicesTarget, sourceAddresses: layout.sourceAddresses } : devicesTarget;
    // Fleet operations on the wall clock: fleetsim's operator drives the backend's operator API.
    if (s.clock === 'wall' && hasOperatorWork(plan) && playsOperatorPlan(slice)) operator = new WallOperator(plan, target.httpUrl, s.target.fleetKey, s.timeScale, log);
    // Worker threads of this process, or of several shard processes: the same messages either way.
    // Shard processes on the box of the embedded backend yield the CPU to it (hosting/shard-priority.ts).
    const yieldToBackend = prepared.backend !== undefined && layout.processes > 1;
    if (yieldToBackend) log(`shard processes at nice ${yieldingNice(layout.processes)}: they yield the CPU to the backend this process hosts`);
    launcher = (opts.launch ?? launchShards)(layout, reported.length + shadows.length, { yieldToBackend, virtualClock: s.clock === 'virtual' });
    const run = await runShardSession(s, reported, shadows, launcher, target, operator, { ...opts, onStart: (at) => faults?.begin(at) }, log);
    await faults?.close();
    const closing = launcher;
    launcher = undefined; // closed once, here or (when something threw before) in finally
    await closing.close();

    const timeline = run.aggregator.finish();
    const backend = prepared.backend ? await backendView(prepared.backend, opts.collectDeviceCounts) : undefined;
    const operatorResults = await operator?.finish();
    const simulatedMs = simulatedMsOf(s, run.status, run.wallReachedMs, timeline);
    const summary = buildSummary({
      runId: opts.runId,
      scenario: s,
      aggregator: run.aggregator,
      finals: run.finals,
      expectedShards: reported.length,
      startedAt,
      endedAt: run.endedAt,
      simulatedMs,
      backendQueues: run.backendQueues?.(simulatedMs),
      workers: reported.length,
      devices: mine.count,
      status: run.status,
      targetLabel: prepared.label,
      // What the operator's calls met (a campaign the backend refused, say) is the backend's doing,
      // measured and shown in every report, never fatal to the run.
      warnings: [...prepared.warnings, ...(operatorResults?.errors ?? [])],
      shard: opts.shard,
      backendCounts: backend?.counts,
      errors: run.errors,
      timeline,
      operator: operatorResults,
      ...(faults ? { faults: faults.results() } : s.clock === 'virtual' ? modelledFaults(s, run.finals) : {}),
      scenarioText: scenarioTextOf(s),
      host: hostFacts(loadAtStart),
    });
    const shardThreads = run.launched.map((r) => (r ? { start: r.result.threadIdAtStart, end: r.result.threadIdAtEnd, pid: r.pid } : { start: -1, end: -1, pid: -1 }));
    const deviceAcked = opts.collectDeviceCounts ? deviceAckedOf(run.finals) : undefined;
    const mergeParts = opts.shard ? mergePartsOf(s, run.finals, operatorResults) : undefined;
    const deferredEvents = s.clock === 'virtual' ? run.finals.reduce((a, f) => a + (f.deferredEvents ?? 0), 0) : undefined;
    return { summary, timeline, shardThreads, deviceAcked, backendDevices: backend?.devices, operator: operatorResults, ...(mergeParts ? { mergeParts } : {}), deferredEvents };
  } finally {
    operator?.stop();
    await faults?.close();
    await launcher?.close();
    await prepared.close();
  }
}

/** Virtual clock: the devices talk to the backend model in their shard, so nothing starts here. */
function modelTarget(s: ResolvedScenario): PreparedTarget {
  return { target: { httpUrl: 'model:', mqttUrl: 'model:', fleetKey: s.target.fleetKey, preset: { kind: 'builtin', name: 'reference' } }, label: 'model (virtual clock)', warnings: [], close: async () => {} };
}

/** Virtual clock: what the backend model injected in every shard, summed as one proxy would have counted it. */
function modelledFaults(s: ResolvedScenario, finals: readonly ShardFinal[]): { faults?: FaultInjectionResults } {
  const phases = faultPhasesOf(s);
  if (phases.length === 0) return {};
  const counts = new InjectedCounts();
  for (const f of finals) for (const c of f.faultsInjected ?? []) counts.add(c.phase, c.kind, c.route, c.count);
  return { faults: { phases, injected: counts.list(), errors: [] } };
}

/** How far the run got: virtual shards reach the simulated horizon (an interrupted run less far). */
function simulatedMsOf(s: ResolvedScenario, status: RunSummary['run']['status'], wallReachedMs: number, timeline: readonly TimelineRow[]): number {
  if (s.clock !== 'virtual') return wallReachedMs;
  if (status === 'completed') return simulatedHorizonMs(s);
  return timeline.reduce((m, r) => Math.max(m, r.tMs), 0);
}

/** What the embedded backend counted, once everything in flight has landed. */
async function backendView(backend: CountingBackend, perDevice: boolean | undefined): Promise<{ counts: BackendCounts; devices?: DeviceTelemetryCounts[] }> {
  const check = await backend.settle();
  const stats = backend.stats();
  const t = stats.totals;
  const refused = backend.mqttUrl === '' ? {} : { refusedPublishes: t.refusedPublishes ?? 0, refusedSubscribes: t.refusedSubscribes ?? 0 };
  // Counted from brokers' subscriptions: what they dropped on the way, and what could not be confirmed, goes with the count.
  const confirmed = check === undefined ? {} : { uncounted: check.dropped, unconfirmed: check.unconfirmed };
  return { counts: { received: t.received, duplicates: t.duplicates, gaps: t.gaps, ...refused, ...confirmed }, devices: perDevice ? stats.devices : undefined };
}

/** Acked telemetry per global device index, from the shards' per-device counts. */
function deviceAckedOf(finals: readonly ShardFinal[]): Map<number, number> {
  const acked = new Map<number, number>();
  for (const f of finals) f.deviceAcked?.forEach((n, k) => acked.set((f.firstDevice ?? 0) + k, n));
  return acked;
}
