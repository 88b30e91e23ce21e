import { describe, expect, test } from 'vitest';
import { FleetBackend } from '../../src/engine/fleet-backend.js';
import { DEFAULT_BACKEND, serviceTimeAt, type BackendSpec } from '../../src/models/backend-queue.js';
import { uniform } from '../../src/models/rng.js';
import { ANSWER_SERVED, type BackendArrivals } from '../../src/engine/shard/protocol.js';

/**
 * The fleet-wide backend against queueing theory (docs/models.md, "A backend you can size").
 * Poisson arrivals and exponential service times go through FleetBackend, the queue a virtual run
 * uses, in lockstep steps as the shards send them. The mean wait of M/M/c (Erlang C) and the
 * blocking probability of M/M/c/c (Erlang B) must lie within a 99% confidence interval from batch
 * means of the run; and the interval must be narrow enough to exclude the same system at 5% more
 * load, so that a queue that is wrong by that much fails the test.
 */

/** Erlang B: blocking probability of c servers offered a erlangs, by the stable recursion B(k) = a B(k-1) / (k + a B(k-1)). */
function erlangB(c: number, a: number): number {
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return b;
}

/** Erlang C: probability that an arrival waits, C = c B / (c - a (1 - B)). */
function erlangC(c: number, a: number): number {
  const b = erlangB(c, a);
  return (c * b) / (c - a * (1 - b));
}

/** Mean wait of M/M/c, W_q = C / (c mu - lambda). */
function mmcMeanWait(c: number, lambda: number, mu: number): number {
  return erlangC(c, lambda / mu) / (c * mu - lambda);
}

/** Student t, 0.995 quantile, 29 degrees of freedom (30 batches, two-sided 99%). */
const T_995_29 = 2.756;
const BATCHES = 30;

/** Runs `n` Poisson arrivals (rate per ms) with exponential service (mean ms) through a FleetBackend; per-batch mean wait and blocked share. */
function simulate(spec: BackendSpec, ratePerMs: number, meanMs: number, n: number, seed: number): { wait: number[]; blocked: number[] } {
  const backend = new FleetBackend(spec);
  const warmup = Math.floor(n / 20);
  const perBatch = Math.floor((n - warmup) / BATCHES);
  const wait = new Array<number>(BATCHES).fill(0);
  const blocked = new Array<number>(BATCHES).fill(0);
  const served = new Array<number>(BATCHES).fill(0);
  const stepMs = spec.lockstepMs;
  let t = 0;
  let i = 0;
  const service = { kind: 'exponential', meanMs } as const;
  for (let end = stepMs; i < n; end += stepMs) {
    const ts: number[] = [];
    const svc: number[] = [];
    for (;;) {
      const next = t - Math.log(1 - uniform(seed, 0, 1, i + ts.length)) / ratePerMs;
      if (next >= end || i + ts.length >= n) break;
      t = next;
      ts.push(t);
      svc.push(serviceTimeAt(service, uniform(seed, 1, 2, i + ts.length)));
    }
    const part: BackendArrivals = { t: Float64Array.from(ts), dev: new Int32Array(ts.length), op: new Uint8Array(ts.length).fill(1), svc: Float64Array.from(svc) };
    const a = backend.step(end, [part]);
    for (let k = 0; k < ts.length; k++, i++) {
      const b = Math.floor((i - warmup) / perBatch);
      if (i < warmup || b >= BATCHES) continue;
      if (a.outcome[k] === ANSWER_SERVED) {
        wait[b] += a.doneAt[k] - svc[k] - ts[k];
        served[b]++;
      } else blocked[b]++;
    }
  }
  return { wait: wait.map((w, b) => w / served[b]), blocked: blocked.map((x, b) => x / (served[b] + x)) };
}

function interval(xs: number[]): { mean: number; half: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, half: (T_995_29 * sd) / Math.sqrt(xs.length) };
}

const connectWith = (servers: number, queueLimit: number): BackendSpec => ({
  ...DEFAULT_BACKEND,
  ops: { ...DEFAULT_BACKEND.ops, connect: { ...DEFAULT_BACKEND.ops.connect, service: { kind: 'exponential', meanMs: 50 }, servers, queueLimit } },
});

describe('fleet-wide backend against queueing theory', () => {
  test('M/M/c mean wait is Erlang C within a 99% confidence interval', () => {
    const c = 4;
    const mu = 1 / 50; // per ms
    const lambda = 0.8 * c * mu;
    const { wait } = simulate(connectWith(c, Infinity), lambda, 50, 300_000, 11);
    const ci = interval(wait);
    const theory = mmcMeanWait(c, lambda, mu);
    expect(Math.abs(ci.mean - theory)).toBeLessThanOrEqual(ci.half);
    // Power: 5% more load is outside the interval.
    expect(Math.abs(ci.mean - mmcMeanWait(c, lambda * 1.05, mu))).toBeGreaterThan(ci.half);
  });

  test('M/M/c/c blocking probability is Erlang B within a 99% confidence interval', () => {
    const c = 5;
    const mu = 1 / 50;
    const lambda = 4 * mu; // 4 erlangs offered
    const { blocked } = simulate(connectWith(c, 0), lambda, 50, 300_000, 12);
    const ci = interval(blocked);
    const theory = erlangB(c, lambda / mu);
    expect(Math.abs(ci.mean - theory)).toBeLessThanOrEqual(ci.half);
    expect(Math.abs(ci.mean - erlangB(c, (lambda * 1.05) / mu))).toBeGreaterThan(ci.half);
  });

  test('Erlang B and C closed forms: values from the tables', () => {
    // B(5, 4) = 0.19907 (Erlang B tables); M/M/2 at a = 1: B = 0.2, so C = 2 × 0.2 / (2 - 0.8) = 1/3.
    expect(erlangB(5, 4)).toBeCloseTo(0.19907, 4);
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 10);
  });
});
