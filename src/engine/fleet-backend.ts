import { BACKEND_OPS, queues, ServerQueue, TURNED_AWAY, type BackendSpec } from '../models/backend-queue.js';
import { newHistogram, recordMicros, type Histogram } from '../metrics/histogram.js';
import type { BackendQueues, BackendQueueStats } from '../summary/backend-queues.js';
import { ANSWER_DROPPED, ANSWER_REJECTED, ANSWER_SERVED, type BackendAnswers, type BackendArrivals } from './shard/protocol.js';

interface OpState {
  queue: ServerQueue;
  arrivals: number;
  rejected: number;
  dropped: number;
  /** Waits > 0, µs; zero waits are only counted (HDR's lowest value is 1 µs). */
  waits: Histogram;
  zeroWaits: number;
  waitSumMs: number;
  waitMaxMs: number;
  held: number;
  heldMs: number;
}

/**
 * The one backend every shard of a virtual run shares, for the operations that queue. Shards do
 * not know each other's requests, so they cannot run the queue themselves: each lockstep step
 * (`backend.lockstep` of simulated time) every shard sends the requests its devices made in that
 * step (engine/shard/virtual.ts), and this merges them in time order, ties by global device index
 * then by the order the device made them (so the order is the same for any number of shards),
 * offers them to each operation's FCFS queue and sends back when each one is answered. Service
 * times and failures are drawn by the shards from each device's own random streams. The result is
 * therefore identical whatever the worker count.
 *
 * The price: an answer ready before the end of its request's step reaches the device at the end
 * of the step (counted in `heldToStep`). The queue's own waiting times are exact either way.
 *
 * Concurrency: the coordinator's main thread only.
 */
export class FleetBackend {
  private readonly ops: Array<OpState | undefined>;

  constructor(private readonly spec: BackendSpec) {
    this.ops = BACKEND_OPS.map((name) => {
      const o = spec.ops[name];
      if (!queues(o)) return undefined;
      return { queue: new ServerQueue(o.servers, o.queueLimit), arrivals: 0, rejected: 0, dropped: 0, waits: newHistogram(), zeroWaits: 0, waitSumMs: 0, waitMaxMs: 0, held: 0, heldMs: 0 };
    });
  }

  /** The answers to one step's requests, `parts[i]` from shard i; `stepEndMs` is when the step ends. */
  step(stepEndMs: number, parts: readonly BackendArrivals[]): BackendAnswers {
    const offsets = [0];
    for (const p of parts) offsets.push(offsets[offsets.length - 1] + p.t.length);
    const n = offsets[offsets.length - 1];
    const doneAt = new Float64Array(n);
    const outcome = new Uint8Array(n);
    // Global order: time, then global device, then the device's own order (its position in its shard's list).
    const order = new Uint32Array(n);
    const shardOf = new Uint16Array(n);
    for (let s = 0, k = 0; s < parts.length; s++) for (let i = 0; i < parts[s].t.length; i++, k++) (order[k] = k), (shardOf[k] = s);
    const at = (k: number) => parts[shardOf[k]];
    const local = (k: number) => k - offsets[shardOf[k]];
    order.sort((a, b) => at(a).t[local(a)] - at(b).t[local(b)] || at(a).dev[local(a)] - at(b).dev[local(b)] || a - b);
    for (let j = 0; j < n; j++) {
      const k = order[j];
      const p = at(k);
      const i = local(k);
      const op = p.op[i];
      const st = this.ops[op];
      if (st === undefined) throw new Error(`FleetBackend: a request for ${BACKEND_OPS[op]}, which does not queue`);
      const t = p.t[i];
      st.arrivals++;
      const start = st.queue.offer(t, p.svc[i]);
      if (start === TURNED_AWAY) {
        const drop = this.spec.ops[BACKEND_OPS[op]].whenFull === 'drop';
        if (drop) st.dropped++;
        else st.rejected++;
        outcome[k] = drop ? ANSWER_DROPPED : ANSWER_REJECTED;
        doneAt[k] = t;
        continue;
      }
      const wait = start - t;
      if (wait > 0) recordMicros(st.waits, wait * 1000);
      else st.zeroWaits++;
      st.waitSumMs += wait;
      if (wait > st.waitMaxMs) st.waitMaxMs = wait;
      outcome[k] = ANSWER_SERVED;
      doneAt[k] = start + p.svc[i];
      if (doneAt[k] < stepEndMs) {
        st.held++;
        st.heldMs += stepEndMs - doneAt[k];
      }
    }
    return { offsets, doneAt, outcome };
  }

  /** Each queueing operation's statistics over `simulatedMs` of run. */
  summary(simulatedMs: number): BackendQueues {
    const operations: Record<string, BackendQueueStats> = {};
    BACKEND_OPS.forEach((name, i) => {
      const st = this.ops[i];
      if (!st) return;
      const o = this.spec.ops[name];
      const served = st.queue.admitted;
      operations[name] = {
        servers: o.servers,
        queueLimit: Number.isFinite(o.queueLimit) ? o.queueLimit : null,
        whenFull: o.whenFull,
        arrivals: st.arrivals,
        served,
        rejected: st.rejected,
        dropped: st.dropped,
        utilisation: simulatedMs > 0 ? st.queue.busyMs / (o.servers * simulatedMs) : 0,
        waitMs: { mean: served > 0 ? st.waitSumMs / served : 0, p50: waitQuantile(st, 0.5), p99: waitQuantile(st, 0.99), max: st.waitMaxMs },
        waitedShare: served > 0 ? (served - st.zeroWaits) / served : 0,
        heldToStep: { count: st.held, meanMs: st.held > 0 ? st.heldMs / st.held : 0 },
      };
    });
    return { lockstepMs: this.spec.lockstepMs, operations };
  }
}

/** The q-quantile of all waits, ms: zero while q falls among the operations that did not wait. */
function waitQuantile(st: OpState, q: number): number {
  const n = st.queue.admitted;
  const positive = n - st.zeroWaits;
  if (n === 0 || q * n <= st.zeroWaits || positive === 0) return 0;
  const within = ((q * n - st.zeroWaits) / positive) * 100;
  return st.waits.getValueAtPercentile(Math.min(100, within)) / 1000;
}
