import { threadId } from 'node:worker_threads';
import { ShardMetrics } from '../../metrics/registry.js';
import { Lifecycle, type LifecycleConfig } from '../../fleet/lifecycle.js';
import { DeviceTable } from '../../fleet/device-table.js';
import type { ResolvedScenario } from '../../scenario/resolved.js';
import { envelope, type ControlMessage, type Envelope, type ShardFinal, type ShardMessage } from './protocol.js';
import type { ShardTask } from './task.js';
import type { Schedule } from '../../fleet/schedule.js';
import type { DeviceDriver } from '../../drivers/types.js';
import { buildDeviceModels } from './device-models.js';
import { runWallShard } from './wall.js';
import { runVirtualShard } from './virtual.js';
import { ShardProfiler } from './profiler.js';
import { FleetBehaviours } from '../../fleet/behaviours/index.js';
import { fleetBehavioursConfig } from './fleet-behaviours.js';

/** Fleet-operation behaviours of each lifecycle, for the shard's final results. */
const fleetOpsOf = new WeakMap<Lifecycle, FleetBehaviours>();

export type ShardResult = ShardFinal & { threadIdAtStart: number; threadIdAtEnd: number };

/** What both clocks' shard runners share: the port, the metric registry and the lifecycle config. */
export interface ShardContext {
  task: ShardTask;
  metrics: ShardMetrics;
  send(msg: ShardMessage): void;
  /** Registers the handler of control messages (one at a time). */
  onControl(handler: (msg: ControlMessage) => void): void;
}

/** The lifecycle of a shard's devices with their models (reachability, energy), arrivals and outages planned. */
export function buildLifecycle(task: ShardTask, schedule: Schedule, driver: DeviceDriver, metrics: ShardMetrics, devices = new DeviceTable(task.count, task.firstDevice)): Lifecycle {
  const { models, groupOf } = buildDeviceModels(task.scenario, devices);
  const fleetCfg = fleetBehavioursConfig(task.scenario, task.firstDevice, task.count, groupOf);
  const fleetOps = fleetCfg ? new FleetBehaviours(fleetCfg, driver, metrics) : undefined;
  if (fleetOps) models.behaviours = [...(models.behaviours ?? []), ...fleetOps.list];
  const lifecycle = new Lifecycle(devices, lifecycleConfig(task.scenario), schedule, driver, metrics, models);
  if (fleetOps) fleetOpsOf.set(lifecycle, fleetOps);
  lifecycle.planArrivals();
  models.reach?.plan(schedule);
  return lifecycle;
}

export function lifecycleConfig(s: ResolvedScenario): LifecycleConfig {
  const tel = s.behaviour.telemetry;
  return {
    seed: s.seed,
    serialPrefix: s.name,
    arrival: s.arrival,
    fleetDevices: s.devices,
    telemetry: tel ? { everyMs: tel.everyMs, jitter: tel.jitter, spec: { size: tel.sizeBytes, qos: tel.qos } } : undefined,
    poll: s.behaviour.poll,
    reconnect: s.behaviour.reconnect,
    bufferCapacity: 1000,
    perReportSession: Uint8Array.from(s.fleet, (g) => (g.session === 'per-report' ? 1 : 0)),
    flushBurst: 64,
  };
}

export function finalOf(task: ShardTask, lifecycle: Lifecycle, maxLag: number, maxLoopDelay: number, endMs: number, events?: number): ShardFinal {
  const final: ShardFinal = { shard: task.shard, events, ...lifecycle.accounting(), maxScheduleLagMs: maxLag, maxEventLoopDelayMs: maxLoopDelay };
  const energy = lifecycle.energyProjection(endMs);
  if (energy) final.energy = energy;
  const fleetOps = fleetOpsOf.get(lifecycle);
  if (fleetOps) final.fleetOps = fleetOps.final();
  if (task.collectDeviceCounts) {
    final.deviceAcked = lifecycle.devices.ackedCounts();
    final.firstDevice = task.firstDevice;
  }
  return final;
}

/**
 * The worker side of a shard: owns its device range for the whole run and follows the
 * coordinator's control messages. The wall and virtual clocks differ in how time advances
 * (shard-wall.ts, shard-virtual.ts); both end by sending `stopped` with the shard's accounting.
 *
 * Concurrency: everything runs on the shard's own worker thread; the only way in or out is the
 * task's MessagePort. The task's promise resolves only after `stop`, so piscina keeps this
 * thread busy (and never reaps it) for the whole run.
 */
export async function runShard(task: ShardTask): Promise<ShardResult> {
  const threadIdAtStart = threadId;
  const seq = { next: 0 };
  let handler: (msg: ControlMessage) => void = () => {};
  task.port.on('message', (env: Envelope<ControlMessage>) => handler(env.msg));
  const ctx: ShardContext = {
    task,
    metrics: new ShardMetrics(task.shard),
    send: (msg) => task.port.postMessage(envelope(seq, msg)),
    onControl: (h) => (handler = h),
  };
  try {
    const profiler = task.profile ? await ShardProfiler.start(task.profile) : undefined;
    const final = task.scenario.clock === 'virtual' ? await runVirtualShard(ctx) : await runWallShard(ctx);
    if (profiler) {
      const file = await profiler.stop(task.profileDir ?? '.', task.shard);
      ctx.send({ type: 'log', level: 'info', text: `${task.profile} profile written to ${file}` });
    }
    ctx.send({ type: 'stopped', shard: task.shard, final });
    return { ...final, threadIdAtStart, threadIdAtEnd: threadId };
  } finally {
    ctx.metrics.destroy();
    task.port.close();
  }
}
