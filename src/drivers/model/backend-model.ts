import { uniform32 } from '../../models/rng.js';
import { BACKEND_OPS, DEFAULT_BACKEND, queues, serviceTimeAt, type BackendOperation, type BackendSpec, type ServiceTime } from '../../models/backend-queue.js';
import { QueuedRequests } from './queued-requests.js';

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

/** RNG streams of the model, apart from the device streams in models/rng.ts. */
const STREAM_BASE = 1000;

/**
 * One shard's side of the modelled backend: per operation its spec, latency table and whether it
 * queues at the fleet-wide backend, and a device's draws of latency and failure, from the device's
 * own stream (its counter lives in the device records, `nextDraw`).
 */
export class BackendDraws {
  readonly ops: BackendOperation[];
  private readonly latency: Float64Array[];
  /** Per op: 1 when it queues at the fleet-wide backend (its requests wait for the lockstep's answers). */
  readonly queued: Uint8Array;
  /** This step's requests to queueing operations (undefined: nothing queues). */
  readonly requests: QueuedRequests | undefined;

  constructor(
    spec: BackendSpec,
    private readonly firstDevice: number,
    private readonly seed: number,
    private readonly counters: { nextDraw(dev: number): number },
  ) {
    this.ops = BACKEND_OPS.map((o) => spec.ops[o]);
    this.latency = this.ops.map((o) => latencyTable(o.service));
    this.queued = Uint8Array.from(this.ops, (o) => (queues(o) ? 1 : 0));
    this.requests = this.queued.includes(1) ? new QueuedRequests(firstDevice) : undefined;
  }

  private u(dev: number, k: number): number {
    return uniform32(this.seed, this.firstDevice + dev, STREAM_BASE + k, this.counters.nextDraw(dev));
  }

  /**
   * The latency of the last `drawInto`, ms. Written here rather than returned: a fraction returned
   * from a call V8 does not inline is a new HeapNumber, one per publish on the virtual clock.
   */
  readonly drawn = new Float64Array(1);

  /** Latency of one operation for `dev` (into `drawn[0]`), and whether it fails (returned). The same draws, in the same order, as `draw`. */
  drawInto(dev: number, op: number): boolean {
    const m = this.ops[op];
    this.drawn[0] = latencyAt(this.latency[op], this.u(dev, 1));
    return m.failure > 0 && this.u(dev, 3) < m.failure;
  }

  /** Latency of one operation for `dev`, and whether it fails. Returns a negative latency on failure. */
  draw(dev: number, op: number): number {
    const failed = this.drawInto(dev, op);
    const latency = this.drawn[0];
    return failed ? -latency : latency;
  }

  /**
   * A request to a queueing operation at `now`: its service time (exact inverse transform, not the
   * table: queueing results depend on the tail) and its failure are drawn now, from the device's
   * stream; the answer comes with the fleet-wide backend's answers at the end of the step.
   */
  enqueue(now: number, dev: number, op: number, tag: number): void {
    const m = this.ops[op];
    const svc = serviceTimeAt(m.service, this.u(dev, 1));
    const failed = m.failure > 0 && this.u(dev, 3) < m.failure;
    this.requests!.push(now, dev, op, svc, failed, tag);
  }
}
