import { DEFAULT_BACKEND, serviceTimeAt, type ServiceTime } from '../../models/backend-queue.js';

/**
 * The modelled backend of the virtual clock (models/backend-queue.ts has its shape). Operations
 * with unlimited servers (the default) answer after a service time drawn per request, so devices
 * never affect each other; an operation with a finite number of servers queues, and the queue is
 * fleet-wide (engine/fleet-backend.ts), whatever the number of workers.
 */

/** The default backend (models/backend-queue.ts DEFAULT_BACKEND), under the name the virtual clock's code and tests know. */
export const DEFAULT_BACKEND_MODEL = DEFAULT_BACKEND;

/**
 * Service-time quantiles of an operation, sampled at 4096 midpoints of (0, 1), so that a draw of
 * an operation that does not queue is one table lookup (no exp, no log) on the hot path.
 */
export function latencyTable(service: ServiceTime): Float64Array {
  const n = 4096;
  const t = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) t[i] = serviceTimeAt(service, (i + 0.5) / n);
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
