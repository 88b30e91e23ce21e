import type { Lifecycle } from '../../fleet/lifecycle.js';
import { KIND_REGIONS } from '../../fleet/event-kinds.js';
import { DeviceTable, RECORD_BYTES } from '../../fleet/device-table.js';
import { ModelDriver } from '../../drivers/model/model-driver.js';
import { MODEL_DRIVER_SLOTS } from '../../drivers/model/device-records.js';
import type { BackendAnswers } from './protocol.js';
import { VirtualScheduler } from '../clock/virtual-scheduler.js';
import { DEFERRED_EVENT_SLOTS } from '../clock/deferred-events.js';
import { buildOperatorPlan } from '../operator/plan.js';
import { hasOperatorWork } from '../../wire/operator-plan.js';
import type { ShardFinal } from './protocol.js';
import { buildLifecycle, LifecycleEvents, finalOf } from './assembly.js';
import { faultPhasesOf, simulatedHorizonMs } from '../../scenario/resolved.js';
import { ModelFaults } from '../../drivers/model/fault-model.js';
import { FleetMap, fleetShapeOf } from '../../faults/fleet-map.js';
import { CONNECT_TIMEOUT_MS, HTTP_TIMEOUT_MS, PENDING_EVENTS_PER_DEVICE, VIRTUAL_EVENTS_PER_TURN } from './tuning.js';
import { ARTIFACT_TIMEOUT_FACTOR } from '../../drivers/http/artifact-fetch.js';
import type { ShardContext } from './context.js';

/** Simulated time given to in-flight operations to complete after the run ends. */
const DRAIN_SIM_MS = 60_000;

/**
 * A virtual-clock shard: the same lifecycle on a discrete-event scheduler with the modelled
 * backend (the scenario's `backend:`). Two lockstep exchanges with the other shards, each only
 * when the scenario needs it:
 * - a backend operation that queues: every `backend.lockstep` of simulated time the shard sends
 *   its devices' requests to the coordinator's fleet-wide backend and waits for the answers
 *   (engine/fleet-backend.ts), so all shards queue at one backend;
 * - a rollout gated on fleet-wide outcome counts: after each snapshot window the shard sends its
 *   counts with the snapshot and waits for the sums.
 */
export async function runVirtualShard(ctx: ShardContext): Promise<ShardFinal> {
  const { task, metrics } = ctx;
  const s = task.scenario;
  let lifecycle!: Lifecycle;
  let driver!: ModelDriver;
  // The event's time is the scheduler's now (VirtualDispatch): read only for the lifecycle's events.
  const scheduler = new VirtualScheduler((kind, dev) => {
    if (driver.owns(kind)) driver.handle(kind, dev);
    else lifecycle.handle(kind, dev, scheduler.now());
  }, task.count * PENDING_EVENTS_PER_DEVICE);
  // One record per device holds the lifecycle's, the energy meter's and the driver's state of it.
  const devices = new DeviceTable(task.count, task.firstDevice);
  const events = new LifecycleEvents();
  driver = new ModelDriver(s.backend, task.count, task.firstDevice, s.seed, scheduler, events, devices.reserveSlots('model driver', MODEL_DRIVER_SLOTS), KIND_REGIONS.driver);
  // Fleet operations (campaigns, config pushes, commands) are played by the backend model.
  const plan = buildOperatorPlan(s);
  const fleetModel = hasOperatorWork(plan) ? driver.enableFleetOps(plan, s.name) : undefined;
  lifecycle = buildLifecycle(task, scheduler, driver, metrics, events, devices);
  driver.useAckLedger(lifecycle.ackLedger);
  // Fault phases act on the modelled backend as the fault proxy acts on a real one.
  const phases = faultPhasesOf(s);
  const faults = phases.length === 0 ? undefined : new ModelFaults(phases, new FleetMap(fleetShapeOf(s)), {
    seed: s.seed,
    firstDevice: task.firstDevice,
    devices: task.count,
    httpTimeoutMs: HTTP_TIMEOUT_MS,
    artifactTimeoutMs: HTTP_TIMEOUT_MS * ARTIFACT_TIMEOUT_FACTOR,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    brokers: s.target.kind === 'embedded' && s.target.broker?.kind === 'local-mosquitto' ? s.target.broker.count : 1,
  });
  if (faults) driver.useFaults(faults);
  // An ack that only its device can see need not queue with every other device's events: it is
  // deferred, and runs just before its device's next event (engine/clock/deferred-events.ts).
  // Fault phases and fleet operations act on sessions from outside their devices: acks stay events.
  if (!task.eagerAcks && faults === undefined && fleetModel === undefined && lifecycle.acksStayOnDevice()) {
    scheduler.deferDeviceEvents(task.count, devices.reserveSlots('deferred events', DEFERRED_EVENT_SLOTS));
    driver.deferAcks();
  }
  // The broker closes sessions silent for 1.5 keepalives, as Mosquitto and the embedded broker do on the wall clock.
  driver.useBrokerKeepalive(s.behaviour.keepaliveSec * 1000);
  scheduler.warmRecords(devices.bytes, Math.log2(RECORD_BYTES));

  // Control messages arrive between windows (the loop yields while it waits for the load).
  let stopRequested = false;
  let loadWaiter: ((ops: number[]) => void) | undefined;
  let answersWaiter: ((a: BackendAnswers | undefined) => void) | undefined;
  let started!: () => void;
  const startPromise = new Promise<void>((r) => (started = r));
  ctx.onControl((msg) => {
    if (msg.type === 'start') started();
    else if (msg.type === 'stop') {
      stopRequested = true;
      // A stop before the start (another shard failed while this one set up) ends the run here.
      started();
      loadWaiter?.([]);
      answersWaiter?.(undefined);
    } else if (msg.type === 'load') loadWaiter?.(msg.ops);
    else if (msg.type === 'answers') answersWaiter?.(msg.answers);
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
  // Queueing backend: run to `until` in lockstep steps, trading requests for answers after each.
  let step = 0;
  const stepMs = s.backend.lockstepMs;
  // Events up to `until` in slices, yielding between them so that a stop is seen mid-window; a
  // stop ends the slices early unless `drain` (in-flight operations finishing after the end).
  const runEvents = async (until: number, drain: boolean) => {
    while (!scheduler.runFor(until, VIRTUAL_EVENTS_PER_TURN)) {
      await new Promise((r) => setImmediate(r));
      if (stopRequested && !drain) {
        // Stopped mid-slice: what was deferred before the time reached runs before the run winds down.
        scheduler.flushDeferred(scheduler.now());
        return;
      }
    }
  };
  const runTo = async (until: number, drain = false) => {
    if (!driver.queues) return runEvents(until, drain);
    for (let from = scheduler.now(); from < until && !stopRequested; ) {
      const end = Math.min(until, from + stepMs);
      await runEvents(end, drain);
      const answered = new Promise<BackendAnswers | undefined>((r) => (answersWaiter = r));
      ctx.send({ type: 'arrivals', step: step++, endMs: end, arrivals: driver.takeArrivals() });
      const answers = await answered;
      answersWaiter = undefined;
      if (answers) driver.applyAnswers(answers, task.shard);
      from = end;
    }
    // Stopped: the lockstep is over, what still waits is served at once (an interrupted run only);
    // the rest of the window is not run (the drain after the loop lets in-flight work finish).
    if (stopRequested) {
      driver.answerAlone();
      await runEvents(until, drain);
    }
  };
  while (t < simEnd && !stopRequested) {
    const windowEnd = Math.min(simEnd, t + every);
    await runTo(windowEnd);
    lifecycle.updateGauges();
    // Rollout gates need fleet-wide outcome counts: they ride with the snapshot, summed by the coordinator.
    if (fleetModel?.coupled === true) {
      const loadPromise = new Promise<number[]>((r) => (loadWaiter = r));
      ctx.send({ type: 'snapshot', snapshot: metrics.snapshot(interval++, windowEnd), modelOps: fleetModel.windowCounts() });
      const fleetOps = await loadPromise;
      loadWaiter = undefined;
      if (fleetOps.length > 0) fleetModel.applyFleetCounts(fleetOps);
    } else {
      // No shared capacity: shards are independent and run free. Yield now and then so that
      // control messages (stop) are seen.
      ctx.send({ type: 'snapshot', snapshot: metrics.snapshot(interval++, windowEnd) });
      if ((interval & 15) === 0) await new Promise((r) => setImmediate(r));
    }
    // A stop mid-window ends the run where the events got to.
    t = stopRequested ? Math.min(windowEnd, scheduler.now()) : windowEnd;
  }

  // Let operations already in flight finish (acks), without new work from devices.
  const endedAtMs = t;
  lifecycle.stopGenerating();
  // Devices stop pinging with the rest of their work (fleet/lifecycle.ts): the broker's keepalive
  // check stops with them, or the drain would close every session idle for 1.5 keepalives.
  driver.useBrokerKeepalive(0);
  await runTo(t + DRAIN_SIM_MS, true);
  lifecycle.disconnectAll();
  scheduler.clear();
  // The driver the fleet talks to, as on the wall clock: with a modelled link that is the
  // LinkedDriver, which answers what the link still holds with CANCELLED (closing the model
  // driver below it too).
  await lifecycle.closeDriver();
  lifecycle.updateGauges();
  ctx.send({ type: 'snapshot', snapshot: metrics.snapshot(interval++, t) });
  const final = finalOf(task, lifecycle, 0, 0, endedAtMs, scheduler.processed);
  final.deferredEvents = scheduler.deferredProcessed;
  if (faults) final.faultsInjected = faults.injected();
  if (final.fleetOps && fleetModel) {
    final.fleetOps.campaigns = fleetModel.campaignOutcomes();
    final.fleetOps.commandsSent = fleetModel.commandsSent;
  }
  return final;
}
