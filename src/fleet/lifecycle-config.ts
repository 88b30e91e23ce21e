import type { TelemetrySpec } from '../drivers/types.js';
import type { ArrivalSpec } from '../models/arrival.js';
import type { Behaviour } from './behaviour.js';
import type { EnergyMeter } from './energy-meter.js';
import type { Reachability } from './reachability.js';
import type { RadioLimits, TelemetryPayloads } from './telemetry-pipeline.js';
import type { LinkShaper } from './link-shaper.js';
import type { LinkedDriver } from './linked-driver.js';

/** Device models a lifecycle may run with (each optional: none means an ideal device). */
export interface DeviceModels {
  reach?: Reachability;
  energy?: EnergyMeter;
  /** The link model acting on telemetry in transit. */
  link?: LinkShaper;
  /** The link model acting on every other exchange: the lifecycle's driver, its Ev.linkExchange events go there. */
  linked?: LinkedDriver;
  /** Radio limits (LoRaWAN duty cycle) of the devices they apply to. */
  radio?: RadioLimits;
  /** Behaviours beyond lifecycle v1 (OTA, diagnostics, logs, config), each owning its event kinds. */
  behaviours?: Behaviour[];
}

/** Lifecycle steps that cost energy (indexes into the profile's step energies). */
export const STEP_BOOT = 0;
export const STEP_ATTACH = 1;
export const STEP_UPLINK = 2;
export const STEP_POLL = 3;

export interface LifecycleConfig {
  seed: number;
  /** Serial prefix; a device's serial is `<prefix>-<global index>`, stable across shards and runs. */
  serialPrefix: string;
  arrival: ArrivalSpec;
  /** Devices in the whole fleet (all shards, all processes): the arrival order spans them all. */
  fleetDevices: number;
  /** `payloads`: filled from a telemetry template (absent: padded to spec.size). */
  telemetry?: { everyMs: number; jitter: number; spec: TelemetrySpec; payloads?: TelemetryPayloads };
  poll?: { everyMs: number; jitter: number };
  reconnect: { baseMs: number; capMs: number };
  /** MQTT keepalive, simulated ms: the devices ping idle sessions (fleet/keepalive.ts); absent or 0: no pings. */
  keepaliveMs?: number;
  /** Retry-After handling (fleet/retry-after-hold.ts); the seed is the lifecycle's. */
  retryAfter: { jitter: number; simMsPerAnswerMs: number };
  /** Messages a device can hold while it cannot send; the oldest is dropped beyond this. */
  bufferCapacity: number;
  /**
   * Per fleet group (indexed by DeviceTable.groupOf): 1 for sleepy devices (PSM / eDRX) with no
   * standing session, which connect for each report, send what they hold and disconnect once their
   * messages are acknowledged; 0 for a standing session.
   */
  perReportSession: Uint8Array;
  /** Messages flushed per device per connect turn (a burst, not an unbounded loop). */
  flushBurst: number;
}

