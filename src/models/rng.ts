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
  retryAfter: 14,
  /** Which devices, sessions and requests an injected backend fault picks (faults/). */
  fault: 15,
  /** The link's second Gilbert–Elliott chain: requests, sessions and downloads (models/link-exchange.ts). */
  linkRequests: 16,
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

/**
 * The seed's round of draw32, kept for the last seed seen: a run draws with one seed, so this
 * round is the same for every draw, and recomputing it was one of the five mixing rounds per draw
 * on the virtual clock's hot path. NaN matches no seed, so the first draw computes it.
 */
let mixedSeed = NaN;
let seedMix = 0;

/** fmix32 of the seed's word, remembered for the next draws (kept out of draw32 so that it stays small enough to inline). */
function mixSeed(seed: number): number {
  seedMix = fmix32((seed ^ 0x9e3779b9) >>> 0);
  mixedSeed = seed;
  return seedMix;
}

/** A uniformly distributed 32-bit unsigned integer for (seed, device, stream, counter). */
export function draw32(seed: number, device: number, stream: number, counter: number): number {
  let h = seed === mixedSeed ? seedMix : mixSeed(seed);
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

/** A uniform double in [0, 1) from one 32-bit draw: enough resolution for jitter and latency draws, at half the cost of `uniform`. */
export function uniform32(seed: number, device: number, stream: number, counter: number): number {
  return draw32(seed, device, stream, counter) / 4294967296;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Standard normal draws by table lookup: the quantile function sampled at 8192 midpoints and
 * interpolated linearly. One 32-bit draw per sample and no transcendental function on the hot
 * path; the tails are cut at the outermost midpoint (about ±3.8 sigma), which a latency model can
 * afford (lognormal p99.99 is at 3.72 sigma).
 */
const NORMAL_TABLE_SIZE = 8192;
const NORMAL_TABLE = (() => {
  const t = new Float64Array(NORMAL_TABLE_SIZE + 1);
  for (let i = 0; i < NORMAL_TABLE_SIZE; i++) t[i] = normalQuantile((i + 0.5) / NORMAL_TABLE_SIZE);
  t[NORMAL_TABLE_SIZE] = t[NORMAL_TABLE_SIZE - 1];
  return t;
})();

/** A standard normal sample from one uniform in [0, 1). */
export function normalFromUniform(u: number): number {
  const x = u * NORMAL_TABLE_SIZE - 0.5;
  if (x <= 0) return NORMAL_TABLE[0];
  const i = x | 0;
  const f = x - i;
  return NORMAL_TABLE[i] + (NORMAL_TABLE[i + 1] - NORMAL_TABLE[i]) * f;
}
