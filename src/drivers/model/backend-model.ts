/**
 * The modelled backend of the virtual clock: for each operation a latency distribution
 * (lognormal, fitted to a median and a p99), a capacity in operations per second, and a failure
 * probability. Queueing is modelled from load: the latency of an operation grows as
 * 1 / (1 - utilisation), where utilisation is the fleet-wide rate of that operation in the
 * previous window divided by its capacity. Using the *fleet-wide* previous-window load (summed by
 * the coordinator) keeps every device's draws independent of how devices are split over shards,
 * so results are identical for any --workers.
 */
export interface OperationModel {
  medianMs: number;
  p99Ms: number;
  /** Operations per second the backend can serve; Infinity for no limit. */
  capacityPerSec: number;
  /** Probability that an operation fails (HTTP 503 / CONNACK refused / no PUBACK). */
  failure: number;
}

export interface BackendModelSpec {
  provision: OperationModel;
  connect: OperationModel;
  publish: OperationModel;
  poll: OperationModel;
}

export const OPS = ['provision', 'connect', 'publish', 'poll'] as const;
export type OpName = (typeof OPS)[number];
export const OP_INDEX: Record<OpName, number> = { provision: 0, connect: 1, publish: 2, poll: 3 };

/**
 * Defaults: a healthy cloud fleet backend in a nearby region (engineering defaults, assumed), with
 * no capacity limit. A finite capacity is opt-in because it couples devices through the shared
 * load: exact across worker threads (the coordinator sums the load), but across `--shard`
 * processes each process can only model its own share of the capacity.
 */
export const DEFAULT_BACKEND_MODEL: BackendModelSpec = {
  provision: { medianMs: 40, p99Ms: 250, capacityPerSec: Infinity, failure: 0 },
  connect: { medianMs: 15, p99Ms: 120, capacityPerSec: Infinity, failure: 0 },
  publish: { medianMs: 8, p99Ms: 60, capacityPerSec: Infinity, failure: 0 },
  poll: { medianMs: 20, p99Ms: 150, capacityPerSec: Infinity, failure: 0 },
};

const Z99 = 2.3263478740408408;

/** Lognormal latency for a standard normal draw z: median * exp(sigma z), sigma from the p99. */
export function lognormalLatency(op: OperationModel, z: number): number {
  const sigma = op.p99Ms > op.medianMs ? Math.log(op.p99Ms / op.medianMs) / Z99 : 0;
  return op.medianMs * Math.exp(sigma * z);
}

/** Queueing inflation for utilisation rho: 1/(1-rho), capped so that overload shows as very slow, not infinite. */
export function queueFactor(rho: number): number {
  if (!(rho > 0)) return 1;
  return rho >= 0.99 ? 100 * (1 + (rho - 0.99) * 100) : 1 / (1 - rho);
}

/**
 * Latency quantiles of an operation, sampled at 4096 midpoints of (0, 1), so that a draw is one
 * table lookup (no exp, no normal sample) on the hot path.
 */
export function latencyTable(op: OperationModel, normalAt: (u: number) => number): Float64Array {
  const n = 4096;
  const t = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) t[i] = lognormalLatency(op, normalAt((i + 0.5) / n));
  t[n] = t[n - 1];
  return t;
}

/** Interpolated lookup in a table made by latencyTable. */
export function latencyAt(table: Float64Array, u: number): number {
  const x = u * (table.length - 1) - 0.5;
  if (x <= 0) return table[0];
  const i = x | 0;
  return table[i] + (table[i + 1] - table[i]) * (x - i);
}
