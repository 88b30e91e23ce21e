/**
 * Resolved fleet-operation parts of a scenario (see fleet-ops-schema.ts for the YAML shape):
 * units parsed into ms, bytes, fractions and per-second rates.
 */
import type { RolloutSpec } from '../wire/fleet-ops.js';

export interface UpdatePhaseSpec {
  release: string;
  target: 'app' | 'os';
  sizeBytes: number;
  delta?: { from: string; sizeBytes: number };
  /** Undefined: every arch of the fleet. */
  archs?: string[];
  /** The wire's rollout spec: the scenario resolves straight to what the operator sends. */
  rollout: RolloutSpec;
  abortIf?: { failureRate: number; minSample: number };
  notify: 'mqtt' | 'poll';
  maintenanceWindow?: { opensMs: number; lengthMs: number; everyMs: number };
  failureRate: number;
  failureByProfile: Record<string, number>;
  corrupt?: number;
  /** Battery projections: how often such an update recurs in service, ms (absent: once). */
  recursEveryMs?: number;
}

export interface ConfigPhaseSpec {
  set: Record<string, string>;
}

export interface CommandPhaseSpec {
  name: string;
  /** Share of online devices, 0..1. */
  devices: number;
}

export interface ResolvedFleetOpsBehaviour {
  download: { chunkMs: number; lowSpeedBytesPerSec: number; lowSpeedTimeMs: number; healthCheckMs: number; appRestartMs: number };
  logs?: { ratePerSec: number; lineBytes: number; bufferBytes: number; flushEveryMs: number };
  diagnostics?: { processingMs: number; byProfile: Record<string, number> };
  config: { applyMs: number };
}

export interface ResolvedProvisioning {
  mode: 'auto' | 'manual';
  approvalRatePerSec?: number;
  endOfLineTest: boolean;
}
