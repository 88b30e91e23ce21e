import os from 'node:os';
import { MetricsAggregator, type TimelineRow } from '../metrics/aggregate.js';
import { simulatedHorizonMs, type ResolvedScenario } from '../scenario/resolved.js';
import type { RunSummary } from '../summary/run-summary.js';
import { prepareTarget } from './target-setup.js';
import type { DeviceTelemetryCounts } from '../wire/reference-protocol.js';
import { envelope, type ControlMessage, type Envelope, type ShardFinal, type ShardMessage } from './shard/protocol.js';
import type { ShardTarget } from './shard/task.js';
import { buildSummary } from './results/summary-builder.js';
import { mergePartsOf, type MergeParts } from './results/merge-parts.js';
import { hostFacts, scenarioTextOf } from './results/host.js';
import { buildOperatorPlan } from './operator/plan.js';
import { WallOperator, type OperatorResults } from './operator/wall-operator.js';
import { hasOperatorWork } from '../wire/operator-plan.js';
import { checkResources } from './resources.js';
import { launchShards } from './hosting/launch.js';
import { sliceOf, splitDevices } from './shard/ranges.js';
import { fleetWideDecisions, playsOperatorPlan, shadowRanges } from './fleet-wide.js';

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
  /** Wall ms to wait for in-flight acks at the end (default 3000). */
  drainMs?: number;
  /** Collect per-device counts (RunResult.deviceAcked); meant for tests and small fleets. */
  collectDeviceCounts?: boolean;
  /** Profile every shard thread; profiles go to `profileDir`. */
  profile?: 'cpu' | 'heap';
  profileDir?: string;
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
}

/**
 * The coordinator (main thread): starts the target when it is embedded, runs one long-lived
 * piscina task per shard, lines their schedules up on a shared start time, merges their metric
 * snapshots as they arrive, stops them at the end of the run (or on interrupt) and builds the
 * summary. It never touches a device: shards own their devices for the whole run.
 */
export async function runScenario(s: ResolvedScenario, opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? (() => {});
  const slice = opts.shard ?? { index: 0, count: 1 };
  const mine = sliceOf(s, slice);
  const localDevices = mine.count;
  // Pre-flight: processes, source addresses, descriptors, ports and memory, or a refusal with the fix.
  const layout = checkResources(s, localDevices, { ...opts, firstDevice: mine.firstDevice }, log);
  // The virtual clock opens no sockets: its backend is a model inside each shard.
  const virtual = s.clock === 'virtual';
  const plan = buildOperatorPlan(s);
  // Fleet-wide decisions of a --shard run: the other slices run as shadow shards after this
  // slice's (they join the lockstep but report nothing), or the run is refused (wall clock).
  const shadows = shadowRanges(s, plan, slice);
  if (shadows.length > 0) log(`fleet-wide decisions (${fleetWideDecisions(s, plan).join('; ')}): this shard also simulates the other ${s.devices - localDevices} devices, unreported, so that it decides on the whole fleet's counts`);
  const reported = splitDevices(s, slice, layout.shards);
  const ranges = [...reported, ...shadows];

  const startedAt = new Date();
  const loadAtStart = os.loadavg();
  const prepared = await prepareTarget(s, log, localDevices);
  const backend = prepared.backend;
  const target: ShardTarget = layout.sourceAddresses.length > 0 ? { ...prepared.target, sourceAddresses: layout.sourceAddresses } : prepared.target;
  // Fleet operations on the wall clock: fleetsim's operator drives the backend's operator API.
  const operator = !virtual && hasOperatorWork(plan) && playsOperatorPlan(slice) ? new WallOperator(plan, target.httpUrl, s.target.fleetKey, s.timeScale, log) : undefined;

  const shards = ranges.length;
  // Worker threads of this process, or of several shard processes: the same messages either way.
  const launcher = launchShards(layout, shards);

  const aggregator = new MetricsAggregator(reported.length, (row) => opts.onInterval?.(row, Date.now() - startAt));
  const finals: ShardFinal[] = [];
  const errors: string[] = [];
  const seq = { next: 0 };
  let ready = 0;
  let startAt = 0;
  let allReady!: () => void;
  const readyPromise = new Promise<void>((r) => (allReady = r));

  const send = (msg: ControlMessage) => {
    launcher.broadcast(envelope(seq, msg));
  };
  // Virtual clock: sum each window's modelled backend operations over all shards and hand the
  // fleet-wide load back, which releases every shard into the next window.
  const windowLoad = new Map<number, { shards: number; ops: number[] }>();
  const addModelLoad = (interval: number, ops: number[]) => {
    let w = windowLoad.get(interval);
    if (!w) windowLoad.set(interval, (w = { shards: 0, ops: new Array<number>(ops.length).fill(0) }));
    w.shards++;
    ops.forEach((v, k) => (w!.ops[k] += v));
    if (w.shards === shards) {
      windowLoad.delete(interval);
      send({ type: 'load', interval, ops: w.ops });
    }
  };

  const tasks = ranges.map((r, shard) => {
    const shadow = shard >= reported.length;
    const onMessage = (env: Envelope<ShardMessage>) => {
      const m = env.msg;
      switch (m.type) {
        case 'ready':
          if (++ready === shards) allReady();
          break;
        case 'snapshot':
          if (!shadow) aggregator.add(m.snapshot);
          if (m.modelOps) addModelLoad(m.snapshot.interval, m.modelOps);
          break;
        case 'log':
          log(`[shard ${shard}] ${m.text}`);
          break;
        case 'stopped':
          if (!shadow) finals.push(m.final);
          break;
      }
    };
    const spec = { runId: opts.runId, shard, shards, firstDevice: r.firstDevice, count: r.count, scenario: s, target, drainMs: opts.drainMs ?? 3000, collectDeviceCounts: !shadow && opts.collectDeviceCounts, profile: opts.profile, profileDir: opts.profileDir };
    return launcher.run(spec, onMessage).catch((err: Error) => {
      errors.push(`shard ${shard} failed: ${err.message}`);
      if (ready < shards) allReady();
      return undefined;
    });
  });

  let status: 'completed' | 'interrupted' | 'failed' = 'completed';
  await readyPromise;
  await operator?.prepare().catch((err: Error) => errors.push(`operator: ${err.message}`));
  // A short lead time lets every shard receive `start` before t = 0; --start-at lines machines up.
  startAt = Math.max(Date.now() + 50, opts.startAtMs ?? 0);
  if (opts.startAtMs !== undefined && opts.startAtMs < Date.now()) log(`--start-at is in the past: starting now`);
  send({ type: 'start', startAtMs: startAt });
  operator?.start(startAt);
  // The wall clock stops on a timer; virtual shards stop by themselves at the simulated end.
  const wallDurationMs = s.clock === 'virtual' ? Infinity : s.durationMs / s.timeScale;
  let durationTimer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    new Promise<'duration'>((r) => {
      if (wallDurationMs !== Infinity) durationTimer = setTimeout(() => r('duration'), wallDurationMs + 50);
    }),
    (opts.interrupt ?? new Promise<never>(() => {})).then(() => 'interrupted' as const),
    Promise.all(tasks).then(() => (s.clock === 'virtual' && errors.length === 0 ? ('duration' as const) : ('failed' as const))),
  ]);
  if (durationTimer) clearTimeout(durationTimer);
  if (ended === 'interrupted') status = 'interrupted';
  if (ended === 'failed') status = 'failed';
  const wallReachedMs = Math.min(s.durationMs, Math.max(0, Date.now() - startAt) * s.timeScale);
  send({ type: 'stop', reason: ended === 'interrupted' ? 'interrupted' : 'duration' });

  const results = await Promise.all(tasks);
  const endedAt = new Date();
  await launcher.close();
  if (errors.length > 0 && status === 'completed') status = 'failed';

  const timeline = aggregator.finish();
  // Virtual shards report how far simulated time got; an interrupted run got less far.
  const simulatedMs = virtual
    ? status === 'completed'
      ? simulatedHorizonMs(s)
      : timeline.reduce((m, r) => Math.max(m, r.tMs), 0)
    : wallReachedMs;
  let backendCounts: { received: number; duplicates: number; gaps: number } | undefined;
  let backendDevices: DeviceTelemetryCounts[] | undefined;
  if (backend) {
    await backend.settle();
    const stats = backend.stats();
    backendCounts = { received: stats.totals.received, duplicates: stats.totals.duplicates, gaps: stats.totals.gaps };
    if (opts.collectDeviceCounts) backendDevices = stats.devices;
  }
  const operatorResults = await operator?.finish();
  await prepared.close();

  const summary = buildSummary({
    runId: opts.runId,
    scenario: s,
    aggregator,
    finals,
    expectedShards: reported.length,
    startedAt,
    endedAt,
    simulatedMs,
    workers: reported.length,
    devices: localDevices,
    status,
    targetLabel: prepared.label,
    warnings: prepared.warnings,
    shard: opts.shard,
    backendCounts,
    errors,
    timeline,
    operator: operatorResults,
    scenarioText: scenarioTextOf(s),
    host: hostFacts(loadAtStart),
  });
  const shardThreads = results.map((r) => (r ? { start: r.result.threadIdAtStart, end: r.result.threadIdAtEnd, pid: r.pid } : { start: -1, end: -1, pid: -1 }));
  let deviceAcked: Map<number, number> | undefined;
  if (opts.collectDeviceCounts) {
    deviceAcked = new Map();
    for (const f of finals) f.deviceAcked?.forEach((n, k) => deviceAcked!.set((f.firstDevice ?? 0) + k, n));
  }
  const mergeParts = opts.shard ? mergePartsOf(s, finals, operatorResults) : undefined;
  return { summary, timeline, shardThreads, deviceAcked, backendDevices, operator: operatorResults, ...(mergeParts ? { mergeParts } : {}) };
}
