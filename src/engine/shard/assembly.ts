import type { ShardMetrics } from '../../metrics/registry.js';
import { Lifecycle, type LifecycleConfig } from '../../fleet/lifecycle.js';
import { DeviceTable } from '../../fleet/device-table.js';
import type { ResolvedScenario } from '../../scenario/resolved.js';
import type { Schedule } from '../../fleet/schedule.js';
import type { ConfigChange, DeviceCommand, DeviceDriver, DriverEvents, Heard, UpdateOffer } from '../../drivers/types.js';
import { FleetBehaviours } from '../../fleet/behaviours/index.js';
import type { ShardFinal } from './protocol.js';
import type { ShardTask } from './task.js';
import { buildDeviceModels } from './device-models.js';
import { fleetBehavioursConfig } from './fleet-behaviours.js';
import { DEVICE_BUFFER_CAPACITY, FLUSH_BURST } from './tuning.js';
import { telemetryPayloads } from './telemetry-payloads.js';
import { GroupUsage } from '../../metrics/group-usage.js';
import { LinkedDriver } from '../../fleet/linked-driver.js';
import type { TemplateFiller } from '../../payload/template-filler.js';

/*
 * Assembly: the one place a shard's part of the scenario becomes its fleet (device table, models,
 * behaviours, lifecycle) and its fleet's state becomes the shard's final message.
 */

/** Fleet-operation behaviours of each lifecycle, for the shard's final results. */
const fleetOpsOf = new WeakMap<Lifecycle, FleetBehaviours>();

/** Template fillers of each lifecycle, told the wall clock's start instant when the run starts. */
const payloadsOf = new WeakMap<Lifecycle, TemplateFiller>();

/** The wall clock's run starts at `epochMs`: templated `{{ts}}` counts from there. */
export function startTelemetryEpoch(lifecycle: Lifecycle, epochMs: number): void {
  payloadsOf.get(lifecycle)?.setEpoch(epochMs);
}

/** The lifecycle of a shard's devices with their models (reachability, energy), arrivals and outages planned. */
export function buildLifecycle(
  task: ShardTask,
  schedule: Schedule,
  inner: DeviceDriver,
  metrics: ShardMetrics,
  events: LifecycleEvents,
  devices = new DeviceTable(task.count, task.firstDevice),
): Lifecycle {
  const { models, groupOf, exchange } = buildDeviceModels(task.scenario, devices);
  // The link model between the fleet and the driver for everything but telemetry (both clocks).
  const linked = exchange ? new LinkedDriver(inner, exchange, schedule, metrics, task.count) : undefined;
  const driver = linked ?? inner;
  models.linked = linked;
  // Priced runs count what each fleet group did (its own link and plan): engine/results/cost-results.ts.
  if (task.scenario.cost) metrics.groups = new GroupUsage(groupOf, task.scenario.fleet.length);
  const fleetCfg = fleetBehavioursConfig(task.scenario, task.firstDevice, task.count, groupOf);
  const fleetOps = fleetCfg ? new FleetBehaviours(fleetCfg, driver, metrics) : undefined;
  if (fleetOps) models.behaviours = [...(models.behaviours ?? []), ...fleetOps.list];
  const cfg = lifecycleConfig(task.scenario);
  const payloads = telemetryPayloads(task.scenario, devices, models.energy, fleetOps ? (dev) => fleetOps.releaseOf(dev) : undefined);
  if (cfg.telemetry && payloads) cfg.telemetry.payloads = payloads;
  const lifecycle = new Lifecycle(devices, cfg, schedule, driver, metrics, models);
  linked?.deliverTo(lifecycle);
  events.target = linked ?? lifecycle;
  if (fleetOps) fleetOpsOf.set(lifecycle, fleetOps);
  if (payloads) payloadsOf.set(lifecycle, payloads);
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
    keepaliveMs: s.behaviour.keepaliveSec * 1000,
    retryAfter: { jitter: s.behaviour.retryAfterJitter, simMsPerAnswerMs: s.clock === 'wall' ? s.timeScale : 1 },
    bufferCapacity: DEVICE_BUFFER_CAPACITY,
    perReportSession: Uint8Array.from(s.fleet, (g) => (g.session === 'per-report' ? 1 : 0)),
    flushBurst: FLUSH_BURST,
  };
}

export function finalOf(task: ShardTask, lifecycle: Lifecycle, maxLag: number, maxLoopDelay: number, endMs: number, events?: number): ShardFinal {
  const final: ShardFinal = { shard: task.shard, events, ...lifecycle.accounting(), maxScheduleLagMs: maxLag, maxEventLoopDelayMs: maxLoopDelay };
  const energy = lifecycle.energyProjection(endMs);
  if (energy) final.energy = energy;
  const fleetOps = fleetOpsOf.get(lifecycle);
  if (fleetOps) final.fleetOps = fleetOps.final();
  const groups = lifecycle.groupUsage(endMs);
  if (groups) final.groupUsage = groups;
  if (task.collectDeviceCounts) {
    final.deviceAcked = lifecycle.devices.ackedCounts();
    final.firstDevice = task.firstDevice;
  }
  return final;
}

/**
 * A driver's callbacks, delivered to a lifecycle that is built after the driver (the lifecycle
 * needs the driver), through the modelled link when there is one (`target`): buildLifecycle sets
 * both before the first event. Both clocks' runners use it.
 */
export class LifecycleEvents implements DriverEvents {
  target!: Required<DriverEvents>;
  readonly onProvisioned = (dev: number, status: number, retryAfterMs: number): void => this.target.onProvisioned(dev, status, retryAfterMs);
  readonly onConnected = (dev: number, ok: boolean, code: number): void => this.target.onConnected(dev, ok, code);
  readonly onTelemetryAcked = (dev: number, token: number): void => this.target.onTelemetryAcked(dev, token);
  readonly onConnectionLost = (dev: number, reason: string, cause: number): void => this.target.onConnectionLost(dev, reason, cause);
  readonly onPolled = (dev: number, status: number, retryAfterMs: number, nextPollMs: number): void => this.target.onPolled(dev, status, retryAfterMs, nextPollMs);
  readonly onUpdateOffered = (dev: number, offer: UpdateOffer, heard: Heard): void => this.target.onUpdateOffered(dev, offer, heard);
  readonly onConfigChanged = (dev: number, change: ConfigChange, heard: Heard): void => this.target.onConfigChanged(dev, change, heard);
  readonly onCommand = (dev: number, command: DeviceCommand): void => this.target.onCommand(dev, command);
  readonly onReauthenticated = (dev: number, status: number, retryAfterMs: number): void => this.target.onReauthenticated(dev, status, retryAfterMs);
  readonly onPingResponse = (dev: number): void => this.target.onPingResponse(dev);
}
