import { MetricsAggregator, type TimelineRow } from '../metrics/aggregate.js';
import type { ResolvedScenario } from '../scenario/resolved.js';
import type { RunStatus } from '../summary/verdict.js';
import { envelope, type ControlMessage, type Envelope, type ShardFinal, type ShardMessage } from './shard/protocol.js';
import type { ShardTarget } from './shard/task.js';
import type { DeviceRange } from './shard/ranges.js';
import type { LaunchedShard, ShardLauncher } from './hosting/launcher.js';
import type { WallOperator } from './operator/wall-operator.js';
import { DEFAULT_DRAIN_MS, START_LEAD_MS } from './shard/tuning.js';
import type { BackendArrivals } from './shard/protocol.js';
import { FleetBackend } from './fleet-backend.js';
import { BACKEND_OPS, queues } from '../models/backend-queue.js';
import type { BackendQueues } from '../summary/backend-queues.js';
import { epochNow } from './clock/epoch-clock.js';

export interface SessionOptions {
  runId: string;
  startAtMs?: number;
  drainMs?: number;
  collectDeviceCounts?: boolean;
  eagerAcks?: boolean;
  profile?: 'cpu' | 'heap';
  profileDir?: string;
  interrupt?: Promise<void>;
  onInterval?: (row: TimelineRow, elapsedMs: number) => void;
  /** Called with the run's start instant (epoch ms, the shards' t = 0) once it is decided. */
  onStart?: (startAtMs: number) => void;
}

/** What the shards of one run produced, and how the run ended. */
export interface SessionResult {
  status: RunStatus;
  aggregator: MetricsAggregator;
  finals: ShardFinal[];
  errors: string[];
  /** Per shard, where it ran (undefined: it failed). */
  launched: Array<LaunchedShard | undefined>;
  endedAt: Date;
  /** Wall clock: how far simulated time got before `stop`. */
  wallReachedMs: number;
  /** Virtual clock with a queueing backend: its queues, fleet-wide (until `simulatedMs` of run). */
  backendQueues?: (simulatedMs: number) => BackendQueues;
}

/**
 * One run of the shards, from launch to their last message: routes their messages (snapshots to
 * the aggregator, logs to the user, finals), starts them together once all are ready, hands the
 * virtual clock's fleet-wide load back each window (lockstep), and stops them at the end of the
 * run, on interrupt, or when one fails. Every shard has settled when it returns. Shadow shards
 * take part in all of it but their snapshots and finals are dropped.
 */
export async function runShardSession(
  s: ResolvedScenario,
  reported: readonly DeviceRange[],
  /** Shards that only join the lockstep (fleet-wide decisions of a --shard run): nothing of theirs is reported. */
  shadows: readonly DeviceRange[],
  launcher: ShardLauncher,
  target: ShardTarget,
  operator: WallOperator | undefined,
  opts: SessionOptions,
  log: (line: string) => void,
): Promise<SessionResult> {
  const ranges = [...reported, ...shadows];
  const shards = ranges.length;
  const aggregator = new MetricsAggregator(reported.length, (row) => opts.onInterval?.(row, epochNow() - startAt));
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
  // Virtual clock with a queueing backend: one backend for every shard. Each lockstep step, once
  // every shard has sent its requests, the backend answers them all and releases the shards.
  const backend = s.clock === 'virtual' && BACKEND_OPS.some((op) => queues(s.backend.ops[op])) ? new FleetBackend(s.backend) : undefined;
  const stepArrivals = new Map<number, { endMs: number; parts: BackendArrivals[]; count: number }>();
  const addArrivals = (shard: number, step: number, endMs: number, arrivals: BackendArrivals) => {
    let w = stepArrivals.get(step);
    if (!w) stepArrivals.set(step, (w = { endMs, parts: new Array<BackendArrivals>(shards), count: 0 }));
    w.parts[shard] = arrivals;
    if (++w.count === shards) {
      stepArrivals.delete(step);
      send({ type: 'answers', step, answers: backend!.step(w.endMs, w.parts) });
    }
  };

  // Wall clock: a shard that fails (its process killed, its thread crashed) ends the run now; the
  // others are stopped rather than left running to the end of a measurement that is already lost.
  let shardFailed!: () => void;
  const firstFailure = new Promise<'failed'>((r) => (shardFailed = () => r('failed')));
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
        case 'arrivals':
          addArrivals(shard, m.step, m.endMs, m.arrivals);
          break;
        case 'log':
          log(`[shard ${shard}] ${m.text}`);
          break;
        case 'stopped':
          if (!shadow) finals.push(m.final);
          break;
      }
    };
    const spec = { runId: opts.runId, shard, shards, firstDevice: r.firstDevice, count: r.count, scenario: s, target, drainMs: opts.drainMs ?? DEFAULT_DRAIN_MS, collectDeviceCounts: !shadow && opts.collectDeviceCounts, eagerAcks: opts.eagerAcks, profile: opts.profile, profileDir: opts.profileDir };
    return launcher.run(spec, onMessage).catch((err: Error) => {
      errors.push(`shard ${shard} failed: ${err.message}`);
      if (s.clock === 'wall') shardFailed();
      if (ready < shards) allReady();
      // The others may be waiting for this shard in a lockstep exchange: stop them.
      else if (s.clock === 'virtual') send({ type: 'stop', reason: 'error' });
      return undefined;
    });
  });

  let status: RunStatus = 'completed';
  await readyPromise;
  await operator?.prepare().catch((err: Error) => errors.push(`operator: ${err.message}`));
  // A short lead time lets every shard receive `start` before t = 0; --start-at lines machines up.
  startAt = Math.max(epochNow() + START_LEAD_MS, opts.startAtMs ?? 0);
  if (opts.startAtMs !== undefined && opts.startAtMs < epochNow()) log(`--start-at is in the past: starting now`);
  send({ type: 'start', startAtMs: startAt });
  operator?.start(startAt);
  opts.onStart?.(startAt);
  // The wall clock stops on a timer; virtual shards stop by themselves at the simulated end.
  const wallDurationMs = s.clock === 'virtual' ? Infinity : s.durationMs / s.timeScale;
  let durationTimer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    new Promise<'duration'>((r) => {
      if (wallDurationMs !== Infinity) durationTimer = setTimeout(() => r('duration'), wallDurationMs + START_LEAD_MS);
    }),
    (opts.interrupt ?? new Promise<never>(() => {})).then(() => 'interrupted' as const),
    firstFailure,
    Promise.all(tasks).then(() => (s.clock === 'virtual' && errors.length === 0 ? ('duration' as const) : ('failed' as const))),
  ]);
  if (durationTimer) clearTimeout(durationTimer);
  if (ended === 'interrupted') status = 'interrupted';
  if (ended === 'failed') status = 'failed';
  const wallReachedMs = Math.min(s.durationMs, Math.max(0, epochNow() - startAt) * s.timeScale);
  send({ type: 'stop', reason: ended === 'interrupted' ? 'interrupted' : 'duration' });

  const launched = await Promise.all(tasks);
  const endedAt = new Date();
  if (errors.length > 0 && status === 'completed') status = 'failed';
  return { status, aggregator, finals, errors, launched, endedAt, wallReachedMs, ...(backend ? { backendQueues: (ms: number) => backend.summary(ms) } : {}) };
}
