/**
 * The sizable backend of the virtual clock: per operation a service-time distribution, a number
 * of servers (or a capacity in operations per second), a waiting room and what happens when it
 * is full, and a failure probability. The queue itself (ServerQueue) is a first-come-first-served
 * queue with c identical servers, the G/G/c/K queue of Kendall's notation: with Poisson arrivals
 * and exponential service it is Erlang's M/M/c (docs/models.md, "A backend you can size").
 *
 * Pure: no clock, no RNG state. Times are simulated ms.
 */
import { normalQuantile } from './rng.js';

/** The backend operations a scenario can size, in the order their index is sent between threads. */
export const BACKEND_OPS = ['provision', 'connect', 'publish', 'poll', 'state', 'artifact', 'command'] as const;
export type BackendOp = (typeof BACKEND_OPS)[number];
export const BACKEND_OP_INDEX: Readonly<Record<BackendOp, number>> = Object.fromEntries(BACKEND_OPS.map((o, i) => [o, i])) as Record<BackendOp, number>;

/** How long one operation keeps a server busy (ms). */
export type ServiceTime =
  | { readonly kind: 'constant'; readonly ms: number }
  | { readonly kind: 'exponential'; readonly meanMs: number }
  /** ln(S) ~ N(mu, sigma²), S in ms. */
  | { readonly kind: 'lognormal'; readonly mu: number; readonly sigma: number };

export interface BackendOperation {
  service: ServiceTime;
  /** Operations served at once; Infinity: no queue, every operation starts at once. */
  servers: number;
  /** Operations that may wait for a server; Infinity: no limit. 0 makes an Erlang loss system (M/M/c/c). */
  queueLimit: number;
  /** An arrival that finds every server busy and the waiting room full: answered at once with an error, or its connection dropped. */
  whenFull: 'reject' | 'drop';
  /** HTTP status of a rejection (MQTT connects get CONNACK 3, server unavailable). */
  rejectStatus: 429 | 503;
  /** Retry-After of a rejection, ms (HTTP routes). */
  retryAfterMs: number;
  /** Probability that a served operation fails (503, CONNACK 3, no PUBACK). */
  failure: number;
}

export interface BackendSpec {
  /**
   * Simulated ms between the exchanges that make the queue fleet-wide (engine/fleet-backend.ts):
   * an operation's answer cannot reach its device before the end of the step it arrived in.
   */
  lockstepMs: number;
  ops: Readonly<Record<BackendOp, BackendOperation>>;
}

/** The 99th percentile of the standard normal. */
export const Z99 = 2.3263478740408408;

export function lognormalFromP50P99(p50: number, p99: number): ServiceTime {
  return { kind: 'lognormal', mu: Math.log(p50), sigma: p99 > p50 ? Math.log(p99 / p50) / Z99 : 0 };
}

/** Lognormal with mean m and coefficient of variation cv: sigma² = ln(1 + cv²), mu = ln m - sigma²/2. */
export function lognormalFromMeanCv(mean: number, cv: number): ServiceTime {
  const s2 = Math.log(1 + cv * cv);
  return { kind: 'lognormal', mu: Math.log(mean) - s2 / 2, sigma: Math.sqrt(s2) };
}

export function meanServiceMs(d: ServiceTime): number {
  switch (d.kind) {
    case 'constant':
      return d.ms;
    case 'exponential':
      return d.meanMs;
    case 'lognormal':
      return Math.exp(d.mu + (d.sigma * d.sigma) / 2);
  }
}

/** One service time by inverse transform of a uniform u in (0, 1). */
export function serviceTimeAt(d: ServiceTime, u: number): number {
  switch (d.kind) {
    case 'constant':
      return d.ms;
    case 'exponential':
      return -d.meanMs * Math.log(1 - u);
    case 'lognormal':
      return Math.exp(d.mu + d.sigma * normalQuantile(u));
  }
}

/** A healthy cloud fleet backend in a nearby region: lognormal times from a median and a p99 (engineering defaults, assumed), no queue. */
function unlimited(p50Ms: number, p99Ms: number): BackendOperation {
  return { service: lognormalFromP50P99(p50Ms, p99Ms), servers: Infinity, queueLimit: Infinity, whenFull: 'reject', rejectStatus: 503, retryAfterMs: 0, failure: 0 };
}

/** Simulated ms per lockstep step of a queueing backend when the scenario does not say (backend.lockstep). */
export const DEFAULT_LOCKSTEP_MS = 100;

/** The backend of a scenario without `backend:` (and of each operation it leaves out). */
export const DEFAULT_BACKEND: BackendSpec = {
  lockstepMs: DEFAULT_LOCKSTEP_MS,
  ops: {
    provision: unlimited(40, 250),
    connect: unlimited(15, 120),
    publish: unlimited(8, 60),
    poll: unlimited(20, 150),
    // Fleet operations: a state report and an artifact range request cost what a poll costs; a
    // command (or configuration) message reaches the device as fast as a PUBACK comes back.
    state: unlimited(20, 150),
    artifact: unlimited(20, 150),
    command: unlimited(8, 60),
  },
};

/** Servers equivalent to a capacity of `perSec` operations per second: capacity × mean service time, at least 1. */
export function serversForCapacity(perSec: number, service: ServiceTime): number {
  return Math.max(1, Math.round((perSec * meanServiceMs(service)) / 1000));
}

/** True when the operation queues (a finite number of servers): only then are devices coupled through it. */
export function queues(op: BackendOperation): boolean {
  return Number.isFinite(op.servers);
}

/** Result of ServerQueue.offer for an arrival turned away. */
export const TURNED_AWAY = -1;

/**
 * A first-come-first-served queue with `servers` identical servers and room for `queueLimit`
 * waiting operations. Arrivals must be offered in time order. For FCFS the start of the n-th
 * arrival is max(its arrival, the earliest time a server frees up), so a min-heap of the servers'
 * free times is all the state the servers need; the start times of operations still waiting are
 * non-decreasing (FCFS), so the waiting room is a FIFO of start times.
 *
 * Concurrency: one owner (the coordinator's fleet-wide backend, or a test).
 */
export class ServerQueue {
  private readonly free: Float64Array;
  private waiting: Float64Array = new Float64Array(64);
  private head = 0;
  private tail = 0;
  /** Sum of service times of admitted operations (busy server-ms), for the utilisation. */
  busyMs = 0;
  admitted = 0;
  turnedAway = 0;

  constructor(
    readonly servers: number,
    readonly queueLimit: number,
  ) {
    if (!(servers >= 1) || !Number.isFinite(servers)) throw new RangeError(`ServerQueue: servers must be a whole number >= 1, not ${servers}`);
    this.free = new Float64Array(servers);
  }

  /** Operations waiting for a server at time `t` (after those that start by `t` left the room). */
  waitingAt(t: number): number {
    while (this.head < this.tail && this.waiting[this.head] <= t) this.head++;
    return this.tail - this.head;
  }

  /** Admits an arrival at `t` needing `serviceMs`: its start time, or TURNED_AWAY when the waiting room is full. */
  offer(t: number, serviceMs: number): number {
    const earliest = this.free[0];
    let start = t;
    if (earliest > t) {
      if (this.waitingAt(t) >= this.queueLimit) {
        this.turnedAway++;
        return TURNED_AWAY;
      }
      start = earliest;
      this.pushWaiting(start);
    }
    this.replaceTop(start + serviceMs);
    this.busyMs += serviceMs;
    this.admitted++;
    return start;
  }

  private pushWaiting(start: number): void {
    if (this.queueLimit === Infinity) return; // nothing is ever turned away: no need to know who waits
    if (this.tail === this.waiting.length) {
      const live = this.tail - this.head;
      if (live * 2 <= this.waiting.length) this.waiting.copyWithin(0, this.head, this.tail);
      else {
        const next = new Float64Array(this.waiting.length * 2);
        next.set(this.waiting.subarray(this.head, this.tail));
        this.waiting = next;
      }
      this.head = 0;
      this.tail = live;
    }
    this.waiting[this.tail++] = start;
  }

  /** Replaces the heap's smallest free time with `v` and sifts it down. */
  private replaceTop(v: number): void {
    const h = this.free;
    const n = h.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r] < h[l] ? r : l;
      if (h[c] >= v) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = v;
  }
}
