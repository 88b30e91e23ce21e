import type { Lifecycle } from '../../fleet/lifecycle.js';
import { KIND_REGIONS } from '../../fleet/event-kinds.js';
import { DeviceTable, RECORD_BYTES } from '../../fleet/device-table.js';
import { MODEL_DRIVER_SLOTS, ModelDriver } from '../../drivers/model/model-driver.js';
import { DEFAULT_BACKEND_MODEL } from '../../drivers/model/backend-model.js';
import { VirtualScheduler } from '../clock/virtual-scheduler.js';
import { buildOperatorPlan } from '../operator/plan.js';
import { hasOperatorWork } from '../../wire/operator-plan.js';
import type { ShardFinal } from './protocol.js';
import { buildLifecycle, LifecycleEvents, finalOf } from './assembly.js';
import { simulatedHorizonMs } from '../../scenario/resolved.js';
import type { ShardContext } from './context.js';

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
    if (driver.owns(kind)) driver.handle(kind, dev);
    else lifecycle.handle(kind, dev, t);
  });
  // One record per device holds the lifecycle's, the energy meter's and the driver's state of it.
  const devices = new DeviceTable(task.count, task.firstDevice);
  const events = new LifecycleEvents();
  driver = new ModelDriver(DEFAULT_BACKEND_MODEL, task.count, task.firstDevice, s.seed, scheduler, events, devices.reserveSlots('model driver', MODEL_DRIVER_SLOTS), KIND_REGIONS.driver);
  // Fleet operations (campaigns, config pushes, commands) are played by the backend model.
  const plan = buildOperatorPlan(s);
  const fleetModel = hasOperatorWork(plan) ? driver.enableFleetOps(plan, s.name) : undefined;
  lifecycle = events.lifecycle = buildLifecycle(task, scheduler, driver, metrics, devices);
  driver.useAckLedger(lifecycle.ackLedger);
  scheduler.warmRecords(devices.bytes, Math.log2(RECORD_BYTES));

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

  // Event by event up to the projection horizon; battery lifetimes beyond it are projected in
  // closed form from the energy each device used (docs/models.md: 1.75e11 events for 500k devices
  // over 10 years cannot be simulated one by one).
  const simEnd = simulatedHorizonMs(s);
  const every = s.options.snapshotEveryMs;
  let interval = 0;
  let t = 0;
  while (t < simEnd && !stopRequested) {
    const windowEnd = Math.min(simEnd, t + every);
    scheduler.runUntil(windowEnd, Infinity, () => {});
    lifecycle.updateGauges();
    // Rollout gates need fleet-wide outcome counts: they ride with the load, summed by the coordinator.
    const gated = fleetModel?.coupled === true;
    if (driver.loadCoupled || gated) {
      const modelOps = gated ? [...driver.windowOps, ...fleetModel.windowCounts()] : Array.from(driver.windowOps);
      const loadPromise = new Promise<number[]>((r) => (loadWaiter = r));
      ctx.send({ type: 'snapshot', snapshot: metrics.snapshot(interval++, windowEnd), modelOps });
      const fleetOps = await loadPromise;
      loadWaiter = undefined;
      if (fleetOps.length > 0) driver.setLoad(fleetOps, windowEnd - t);
      if (gated && fleetOps.length > 0) fleetModel.applyFleetCounts(fleetOps.slice(driver.windowOps.length));
    } else {
      // No shared capacity: shards are independent and run free. Yield now and then so that
      // control messages (stop) are seen.
      ctx.send({ type: 'snapshot', snapshot: metrics.snapshot(interval++, windowEnd) });
      if ((interval & 15) === 0) await new Promise((r) => setImmediate(r));
    }
    t = windowEnd;
  }

  // Let operations already in flight finish (acks), without new work from devices.
  const endedAtMs = t;
  lifecycle.stopGenerating();
  scheduler.runUntil(t + DRAIN_SIM_MS, Infinity, () => {});
  lifecycle.disconnectAll();
  scheduler.clear();
  await driver.close();
  lifecycle.updateGauges();
  ctx.send({ type: 'snapshot', snapshot: metrics.snapshot(interval++, t) });
  const final = finalOf(task, lifecycle, 0, 0, endedAtMs, scheduler.processed);
  if (final.fleetOps && fleetModel) {
    final.fleetOps.campaigns = fleetModel.campaignOutcomes();
    final.fleetOps.commandsSent = fleetModel.commandsSent;
  }
  return final;
}
