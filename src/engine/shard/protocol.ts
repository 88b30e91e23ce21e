import type { InjectedCount } from '../../faults/injected.js';
import type { MetricSnapshot } from '../../metrics/registry.js';
import type { TelemetryAccounting } from '../../summary/accounting.js';
import type { EnergyProjection } from '../../fleet/energy-meter.js';
import type { FleetOpsFinal } from '../../fleet/behaviours/index.js';

/**
 * Messages between the coordinator (main thread) and the shards (piscina workers), as
 * discriminated unions in an `{id, ts}` envelope. `id` increases per sender; `ts` is the sender's
 * wall clock (ms since the epoch) when it sent the message. Messages travel over a dedicated
 * MessagePort per shard, handed to the shard in its task.
 */
export interface Envelope<M> {
  id: number;
  ts: number;
  msg: M;
}

/** Coordinator -> shard. */
export type ControlMessage =
  /** Begin the run at `startAtMs` (epoch ms): all shards share one origin for their schedules. */
  | { type: 'start'; startAtMs: number }
  /** A scenario phase begins (phases are numbered as in the scenario). */
  | { type: 'phase'; index: number }
  /** Stop: disconnect devices gracefully, send the last snapshot, then `stopped`. */
  | { type: 'stop'; reason: 'duration' | 'interrupted' | 'error' }
  /**
   * Virtual clock only: the fleet-wide operation counts of window `interval` (summed over all
   * shards), which set the backend model's queueing for the next window. Shards wait for it, so
   * windows advance in lockstep and results do not depend on the number of shards.
   */
  | { type: 'load'; interval: number; ops: number[] }
  /** Virtual clock with a sized backend: the fleet-wide backend's answers to step `step`'s requests (engine/fleet-backend.ts). */
  | { type: 'answers'; step: number; answers: BackendAnswers };

/** Shard -> coordinator. */
export type ShardMessage =
  | { type: 'ready'; shard: number; devices: number }
  | { type: 'snapshot'; snapshot: MetricSnapshot; modelOps?: number[] }
  /** Virtual clock with a sized backend: the requests this shard's devices made in lockstep step `step`, which ends at `endMs`. */
  | { type: 'arrivals'; step: number; endMs: number; arrivals: BackendArrivals }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; text: string }
  | { type: 'stopped'; shard: number; final: ShardFinal };

/**
 * Requests for the queueing operations of the backend model, in the order the shard's devices made
 * them: arrival time, global device index, operation (models/backend-queue.ts BACKEND_OPS) and
 * service time (drawn by the shard from the device's own stream).
 */
export interface BackendArrivals {
  t: Float64Array;
  dev: Int32Array;
  op: Uint8Array;
  svc: Float64Array;
}

export const ANSWER_SERVED = 0;
export const ANSWER_REJECTED = 1;
export const ANSWER_DROPPED = 2;

/** Answers to every shard's arrivals: shard i's are at [offsets[i], offsets[i + 1]), in its own order. */
export interface BackendAnswers {
  offsets: number[];
  /** When the answer leaves the backend (served: start + service; turned away: the arrival time). */
  doneAt: Float64Array;
  /** ANSWER_SERVED, ANSWER_REJECTED or ANSWER_DROPPED. */
  outcome: Uint8Array;
}

/** What a shard knows only at the end: the accounting of its devices. */
export interface ShardFinal extends TelemetryAccounting {
  shard: number;
  /** Events the shard's scheduler processed (virtual clock), for events/s figures. */
  events?: number;
  /** Of `events`, those that ran deferred (engine/clock/deferred-events.ts). */
  deferredEvents?: number;
  maxScheduleLagMs: number;
  maxEventLoopDelayMs: number;
  /** Fleet operations (OTA, config, logs...): rollout transitions, failures by cause, energy per update. */
  fleetOps?: FleetOpsFinal;
  /** Battery projections per hardware profile (when the fleet has energy models). */
  energy?: EnergyProjection[];
  /** Per-device acked counts, first device first (only when the run asked for them). */
  deviceAcked?: number[];
  /** Per fleet group usage, time integrals closed at the shard's end (metrics/group-usage.ts; priced runs only). */
  groupUsage?: number[];
  firstDevice?: number;
  /** Virtual clock with fault phases: what the modelled backend injected into this shard's devices (faults/injected.ts). */
  faultsInjected?: InjectedCount[];
}

export function envelope<M>(seq: { next: number }, msg: M): Envelope<M> {
  return { id: seq.next++, ts: Date.now(), msg };
}
