/**
 * Duration distributions for on/off processes (outages, up times): moments, parameterisation from a
 * median or a mean, inverse-transform sampling from counter-based uniforms, and sampling of the
 * stationary residual (how long a period that is already running at a random instant still lasts).
 *
 * Units are whatever the caller uses (fleetsim uses ms). All functions are pure.
 */
import { exponential, standardNormal, uniform } from './rng.js';

export type DurationDistribution =
  | { readonly kind: 'exponential'; readonly mean: number }
  /** ln(X) ~ N(mu, sigma²) */
  | { readonly kind: 'lognormal'; readonly mu: number; readonly sigma: number }
  /** P(X > x) = (xm / x)^alpha for x >= xm */
  | { readonly kind: 'pareto'; readonly xm: number; readonly alpha: number }
  /** P(X > x) = exp(-(x / scale)^shape) */
  | { readonly kind: 'weibull'; readonly shape: number; readonly scale: number };

export type DistributionKind = DurationDistribution['kind'];

/** Γ(x) for x > 0 (Lanczos, g = 7, n = 9; ~1e-15 relative error). */
export function gammaFn(x: number): number {
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gammaFn(1 - x));
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return Math.sqrt(2 * Math.PI) * Math.pow(t, z + 0.5) * Math.exp(-t) * a;
}

/** E[X] (Infinity for a Pareto with alpha <= 1). */
export function meanOf(d: DurationDistribution): number {
  switch (d.kind) {
    case 'exponential':
      return d.mean;
    case 'lognormal':
      return Math.exp(d.mu + (d.sigma * d.sigma) / 2);
    case 'pareto':
      return d.alpha > 1 ? (d.alpha * d.xm) / (d.alpha - 1) : Infinity;
    case 'weibull':
      return d.scale * gammaFn(1 + 1 / d.shape);
  }
}

/** E[X²] (Infinity for a Pareto with alpha <= 2). */
export function secondMomentOf(d: DurationDistribution): number {
  switch (d.kind) {
    case 'exponential':
      return 2 * d.mean * d.mean;
    case 'lognormal':
      return Math.exp(2 * d.mu + 2 * d.sigma * d.sigma);
    case 'pareto':
      return d.alpha > 2 ? (d.alpha * d.xm * d.xm) / (d.alpha - 2) : Infinity;
    case 'weibull':
      return d.scale * d.scale * gammaFn(1 + 2 / d.shape);
  }
}

export function medianOf(d: DurationDistribution): number {
  switch (d.kind) {
    case 'exponential':
      return d.mean * Math.LN2;
    case 'lognormal':
      return Math.exp(d.mu);
    case 'pareto':
      return d.xm * Math.pow(2, 1 / d.alpha);
    case 'weibull':
      return d.scale * Math.pow(Math.LN2, 1 / d.shape);
  }
}

/**
 * Mean residual of a period found in progress at a random instant: E[X²] / (2 E[X]). With heavy-tailed
 * downtimes this is far longer than E[X]: a device offline when a rollout starts waits this long.
 */
export function meanResidual(d: DurationDistribution): number {
  return secondMomentOf(d) / (2 * meanOf(d));
}

/**
 * Builds a distribution of the given kind with a given median or mean. `shape` is the lognormal sigma,
 * the Pareto alpha or the Weibull shape (ignored for exponential).
 */
export function distributionWith(
  kind: DistributionKind,
  target: { readonly median: number } | { readonly mean: number },
  shape = 1,
): DurationDistribution {
  const byMedian = 'median' in target;
  const v = byMedian ? target.median : target.mean;
  if (!(v > 0)) throw new RangeError(`distributionWith: ${byMedian ? 'median' : 'mean'} must be > 0`);
  if (kind !== 'exponential' && !(shape > 0)) throw new RangeError('distributionWith: shape must be > 0');
  switch (kind) {
    case 'exponential':
      return { kind, mean: byMedian ? v / Math.LN2 : v };
    case 'lognormal':
      return { kind, sigma: shape, mu: byMedian ? Math.log(v) : Math.log(v) - (shape * shape) / 2 };
    case 'pareto':
      if (!byMedian && shape <= 1) throw new RangeError('distributionWith: a Pareto with alpha <= 1 has no mean');
      return { kind, alpha: shape, xm: byMedian ? v / Math.pow(2, 1 / shape) : (v * (shape - 1)) / shape };
    case 'weibull':
      return {
        kind,
        shape,
        scale: byMedian ? v / Math.pow(Math.LN2, 1 / shape) : v / gammaFn(1 + 1 / shape),
      };
  }
}

/** The same family with its mean scaled to `mean` (shape kept). */
export function withMean(d: DurationDistribution, mean: number): DurationDistribution {
  const shape = d.kind === 'lognormal' ? d.sigma : d.kind === 'pareto' ? d.alpha : d.kind === 'weibull' ? d.shape : 1;
  return distributionWith(d.kind, { mean }, shape);
}

/** One draw by inverse transform; u1, u2 uniform in [0, 1) (u2 is used by the lognormal only). */
export function sampleDuration(d: DurationDistribution, u1: number, u2: number): number {
  switch (d.kind) {
    case 'exponential':
      return exponential(d.mean, u1);
    case 'lognormal':
      return Math.exp(d.mu + d.sigma * standardNormal(u1, u2));
    case 'pareto':
      return d.xm * Math.pow(1 - u1, -1 / d.alpha);
    case 'weibull':
      return d.scale * Math.pow(-Math.log(1 - u1), 1 / d.shape);
  }
}

/** Counters one residual draw may consume (the Weibull case uses a rejection loop). */
export const RESIDUAL_COUNTERS = 64;

/**
 * The remaining length of a period found in progress at a random instant of a stationary renewal
 * process: R = V * L with V ~ U(0, 1) and L the length-biased version of the distribution
 * (density x f(x) / E[X]). Length-biased forms: exponential -> R is the same exponential;
 * lognormal(mu, s) -> lognormal(mu + s², s); Pareto(xm, a) -> Pareto(xm, a - 1);
 * Weibull(k, l) -> l * G^(1/k) with G ~ Gamma(1 + 1/k). Uses counters [counter, counter + RESIDUAL_COUNTERS).
 */
export function sampleResidual(
  d: DurationDistribution,
  seed: number,
  key: number,
  stream: number,
  counter: number,
): number {
  const v = uniform(seed, key, stream, counter);
  const u1 = uniform(seed, key, stream, counter + 1);
  const u2 = uniform(seed, key, stream, counter + 2);
  switch (d.kind) {
    case 'exponential':
      return sampleDuration(d, u1, u2);
    case 'lognormal':
      return v * Math.exp(d.mu + d.sigma * d.sigma + d.sigma * standardNormal(u1, u2));
    case 'pareto':
      if (d.alpha <= 1) throw new RangeError('sampleResidual: a Pareto with alpha <= 1 has no stationary residual');
      return v * d.xm * Math.pow(1 - u1, -1 / (d.alpha - 1));
    case 'weibull':
      return v * d.scale * Math.pow(sampleGamma(1 + 1 / d.shape, seed, key, stream, counter + 1), 1 / d.shape);
  }
}

/** Gamma(a, 1) for a >= 1 (Marsaglia–Tsang), drawing from counters [counter, counter + 63). */
function sampleGamma(a: number, seed: number, key: number, stream: number, counter: number): number {
  const dd = a - 1 / 3;
  const c = 1 / Math.sqrt(9 * dd);
  // Acceptance is above 95% per attempt for a >= 1; 21 attempts failing has probability < 1e-27.
  for (let i = 0; i < 21; i++) {
    const base = counter + 3 * i;
    const z = standardNormal(uniform(seed, key, stream, base), uniform(seed, key, stream, base + 1));
    const t = 1 + c * z;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = 1 - uniform(seed, key, stream, base + 2);
    if (Math.log(u) < 0.5 * z * z + dd - dd * v + dd * Math.log(v)) return dd * v;
  }
  return a; // unreachable in practice: fall back to the mean
}
