/**
 * Counter-based random numbers: every draw is a pure function of (seed, device index, stream,
 * counter). A device therefore draws the same numbers whichever shard, worker or machine runs it,
 * which is what makes runs reproducible across `--workers` and `--shard`.
 *
 * The mixer is a 32-bit variant of the SplitMix/murmur3 finalizer applied over the four words,
 * using Math.imul so that it stays in 32-bit integer arithmetic (no BigInt, no allocation).
 * It is not cryptographic; it is well distributed, which is all a simulation needs.
 */

/** Named streams, so that adding a draw to one behaviour never shifts the draws of another. */
export const Stream = {
  arrival: 1,
  telemetryJitter: 2,
  pollJitter: 3,
  backoff: 4,
  offline: 5,
  link: 6,
  energy: 7,
  update: 8,
  diagnostics: 9,
  logs: 10,
  config: 11,
  payload: 12,
  failure: 13,
} as const;
export type StreamId = (typeof Stream)[keyof typeof Stream];

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniformly distributed 32-bit unsigned integer for (seed, device, stream, counter). */
export function draw32(seed: number, device: number, stream: number, counter: number): number {
  let h = fmix32((seed ^ 0x9e3779b9) >>> 0);
  h = fmix32((h ^ Math.imul(device + 1, 0x27d4eb2f)) >>> 0);
  h = fmix32((h ^ Math.imul(stream + 1, 0x165667b1)) >>> 0);
  h = fmix32((h ^ Math.imul(counter + 1, 0x9e3779b1)) >>> 0);
  // A second round over the counter decorrelates consecutive counters further.
  return fmix32((h + counter) >>> 0);
}

/** A uniform double in [0, 1) with 53 bits of randomness, from two 32-bit draws. */
export function uniform(seed: number, device: number, stream: number, counter: number): number {
  const hi = draw32(seed, device, stream, counter * 2) >>> 5; // 27 bits
  const lo = draw32(seed, device, stream, counter * 2 + 1) >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}

/** A uniform double in (0, 1], safe to take the logarithm of. */
export function uniformOpen(seed: number, device: number, stream: number, counter: number): number {
  return 1 - uniform(seed, device, stream, counter);
}

/** Exponential with the given mean. */
export function exponential(mean: number, u: number): number {
  return -mean * Math.log(1 - u);
}

/** A standard normal from two uniforms (Box-Muller, one output). */
export function standardNormal(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}

/** Symmetric jitter: `base * (1 + jitter * (2u - 1))`, never negative. */
export function jittered(base: number, jitterFraction: number, u: number): number {
  return Math.max(0, base * (1 + jitterFraction * (2 * u - 1)));
}

/** Full-jitter exponential backoff: U(0, min(cap, base * 2^attempt)). */
export function fullJitterBackoff(baseMs: number, capMs: number, attempt: number, u: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return u * ceiling;
}
