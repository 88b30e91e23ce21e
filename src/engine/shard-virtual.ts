import { Lifecycle } from '../fleet/lifecycle.js';
import { ModelDriver } from '../drivers/model/model-driver.js';
import { DEFAULT_BACKEND_MODEL } from '../drivers/model/backend-model.js';
import { VirtualScheduler } from './virtual-scheduler.js';
import type { ShardFinal } from './protocol.js';
import { finalOf, lifecycleConfig, type ShardContext } from './shard-runtime.js';

/** Simulated time given to in-flight operations to complete after the run ends. */
const DRAIN_SIM_MS = 60_000;

/**
 * A virtual-clock shard: the same lifecycle on a discrete-event scheduler with the modelled
 * backend. Windows of one snapshot interval run in lockstep with the other shards: after each
 * window the shard sends its snapshot with its operation counts and waits for the fleet-wide
 * counts, which set the backend model's queueing for the next window.
 */
export async function runVirtualShard(ctx: ShardContext): Promise<ShardFinal> {
  const { task, metrics } = ctx;
  const s = task.scenario;
  let lifecycle!: Lifecycle;
  let driver!: ModelDriver;
  const scheduler = new VirtualScheduler((kind, dev, t) => {
    if (kind >= 100) driver.handle(kind, dev);
    else lifecycle.handle(kind, dev, t);
  });
  driver = new ModelDriver(DEFAULT_BACKEND_MODEL, task.count, task.firstDevice, s.seed, scheduler, {
    onProvisioned: (dev, st, ra) => lifecycle.onProvisioned(dev, st, ra),
    onConnected: (dev, ok, code) => lifecycle.onConnected(dev, ok, code),
    onTelemetryAcked: (dev, token) => lifecycle.onTelemetryAcked(dev, token),
    onConnectionLost: (dev, reason) => lifecycle.onConnectionLost(dev, reason),
    onPolled: (dev, st, ra) => lifecycle.onPolled(dev, st, ra),
  });
  lifecycle = new Lifecycle(task.count, task.firstDevice, lifecycleConfig(s), scheduler, driver, metrics);
  lifecycle.planArrivals();

  // Control messages arrive between windows (the loop yields while it waits for the load).
  let stopRequested = false;
  let loadWaiter: ((ops: number[]) => void) | undefined;
  let started!: () => void;
  const startPromise = new Promise<void>((r) => (started = r));
  ctx.onControl((msg) => {
    if (msg.type === 'start') started();
    else if (msg.type === 'stop') {
      stopRequested = true;
      loadWaiter?.([]);
    } else if (msg.type === 'load') loadWaiter?.(msg.ops);
  });
  ctx.send({ type: 'ready', shard: task.shard, devices: task.count });
  await startPromise;

  const every = s.options.snapshotEveryMs;
  let interval = 0;
  let t = 0;
  while (t < s.durationMs && !stopRequested) {
    const windowEnd = Math.min(s.durationMs, t + every);
    scheduler.runUntil(windowEnd, Infinity, () => {});
    lifecycle.updateGauges();
    const modelOps = Array.from(driver.windowOps);
    const loadPromise = new Promise<number[]>((r) => (loadWaiter = r));
    ctx.send({ type: 'snapshot', snapshot: metrics.snapshot(interval++, windowEnd), modelOps });
    const fleetOps = await loadPromise;
    loadWaiter = undefined;
    if (fleetOps.length > 0) driver.setLoad(fleetOps, windowEnd - t);
    t = windowEnd;
  }

  // Let operations already in flight finish (acks), without new work from devices.
  lifecycle.stopGenerating();
  scheduler.runUntil(t + DRAIN_SIM_MS, Infinity, () => {});
  lifecycle.disconnectAll();
  scheduler.clear();
  await driver.close();
  lifecycle.updateGauges();
  ctx.send({ type: 'snapshot', snapshot: metrics.snapshot(interval++, t) });
  return finalOf(task, lifecycle, 0, 0, scheduler.processed);
}
