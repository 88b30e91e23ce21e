/**
 * Per-device on/off renewal process: up periods and down periods alternate, each drawn independently.
 * Up times are exponential or Weibull; down times exponential, lognormal, Pareto or Weibull.
 *
 * A scenario gives an availability A and a downtime distribution (median or mean); the up-time mean
 * follows from A = E[U] / (E[U] + E[D]):  E[U] = E[D] * A / (1 - A).
 *
 * Draws are counter-based (rng.ts), keyed by (seed, keyBase + index, stream, counter), so a device's
 * outage history is the same on any shard. Counters [0, 128) of a key are reserved for the initial
 * state; period n uses counters 128 + 2n and 128 + 2n + 1.
 *
 * Concurrency: one RenewalStates per shard; calls for one index must come in nondecreasing time.
 */
import {
  type DistributionKind,
  type DurationDistribution,
  distributionWith,
  meanOf,
  meanResidual,
  sampleDuration,
  sampleResidual,
  withMean,
} from './distributions.js';
import { Stream, uniform } from './rng.js';

export interface RenewalModel {
  readonly up: DurationDistribution;
  readonly down: DurationDistribution;
}

/** How a scenario states an outage process. Durations in ms. */
export interface AvailabilitySpec {
  /** Long-run fraction of time up, in (0, 1). */
  readonly availability: number;
  readonly downtime: {
    readonly distribution: DistributionKind;
    readonly median?: number;
    readonly mean?: number;
    /** lognormal sigma, Pareto alpha or Weibull shape (defaults: DEFAULT_DOWNTIME_SHAPE). */
    readonly shape?: number;
  };
  /** Up-time Weibull shape; exponential up times when absent. */
  readonly upWeibullShape?: number;
}

/**
 * Default shapes when a scenario names only the family (assumed, engineering defaults): a lognormal
 * sigma of 1 (mean ≈ 1.65 × median), and a Pareto alpha of 2.5 (finite variance, so the mean residual
 * E[D²]/(2E[D]) is finite; alpha <= 2 makes it infinite).
 */
export const DEFAULT_DOWNTIME_SHAPE: Readonly<Record<DistributionKind, number>> = {
  exponential: 1,
  lognormal: 1,
  pareto: 2.5,
  weibull: 0.7,
};

export function renewalFromAvailability(spec: AvailabilitySpec): RenewalModel {
  const a = spec.availability;
  if (!(a > 0 && a < 1)) throw new RangeError('renewalFromAvailability: availability must be in (0, 1)');
  const { distribution, median, mean } = spec.downtime;
  const shape = spec.downtime.shape ?? DEFAULT_DOWNTIME_SHAPE[distribution];
  const target = median !== undefined ? { median } : mean !== undefined ? { mean } : undefined;
  if (!target) throw new RangeError('renewalFromAvailability: downtime needs a median or a mean');
  const down = distributionWith(distribution, target, shape);
  if (!Number.isFinite(meanOf(down))) {
    throw new RangeError('renewalFromAvailability: downtime has no finite mean (Pareto alpha must be > 1)');
  }
  const upMean = (meanOf(down) * a) / (1 - a);
  const up =
    spec.upWeibullShape !== undefined
      ? distributionWith('weibull', { mean: upMean }, spec.upWeibullShape)
      : distributionWith('exponential', { mean: upMean });
  return { up, down };
}

/** Long-run availability E[U] / (E[U] + E[D]). */
export function availabilityOf(model: RenewalModel): number {
  const u = meanOf(model.up);
  return u / (u + meanOf(model.down));
}

/** Mean remaining downtime of a device found down at a random instant: E[D²] / (2 E[D]). */
export function meanResidualDown(down: DurationDistribution): number {
  return meanResidual(down);
}

/** The same model with its up-time mean rescaled so that availability becomes `availability`. */
export function withAvailability(model: RenewalModel, availability: number): RenewalModel {
  const upMean = (meanOf(model.down) * availability) / (1 - availability);
  return { up: withMean(model.up, upMean), down: model.down };
}

/** Counter 0 picks the initial state, counters [1, 1 + RESIDUAL_COUNTERS) draw its residual. */
const INIT_COUNTERS = 128;

/** Pure draw of the length of period number `period` (0-based) of `key`, in the distribution's units. */
export function drawPeriod(d: DurationDistribution, seed: number, key: number, stream: number, period: number): number {
  const c = INIT_COUNTERS + 2 * period;
  return sampleDuration(d, uniform(seed, key, stream, c), uniform(seed, key, stream, c + 1));
}

export interface RenewalOptions {
  /** Model index per element (default: all 0). */
  readonly modelOf?: ArrayLike<number>;
  readonly startMs?: number;
  /**
   * 'stationary' (default): up with probability A, and the first period is the residual of one already
   * running, so the process is in equilibrium from the start. 'up': everything starts a fresh up period.
   */
  readonly start?: 'stationary' | 'up';
  /** Added to the index to form the RNG key, so that cells and regions never share a device's draws. */
  readonly keyBase?: number;
  readonly stream?: number;
}

/** On/off state of N elements (devices, cells or regions) as a struct of arrays. */
export class RenewalStates {
  readonly count: number;
  /** 1 while up. */
  readonly up: Uint8Array;
  /** Start of the current period, ms (the instant the element last changed state; may be < start). */
  readonly periodStartMs: Float64Array;
  /** End of the current period, ms. */
  readonly nextTransitionMs: Float64Array;
  /** Periods drawn so far (the counter of the next draw). */
  readonly periods: Float64Array;
  readonly modelOf: Uint16Array;

  private readonly seed: number;
  private readonly keyBase: number;
  private readonly stream: number;
  private readonly models: readonly RenewalModel[];

  constructor(count: number, seed: number, models: readonly RenewalModel[], options: RenewalOptions = {}) {
    this.count = count;
    this.seed = seed;
    this.models = models;
    this.keyBase = options.keyBase ?? 0;
    this.stream = options.stream ?? Stream.offline;
    this.up = new Uint8Array(count);
    this.periodStartMs = new Float64Array(count);
    this.nextTransitionMs = new Float64Array(count);
    this.periods = new Float64Array(count);
    this.modelOf = new Uint16Array(count);
    const startMs = options.startMs ?? 0;
    const stationary = (options.start ?? 'stationary') === 'stationary';
    for (let i = 0; i < count; i++) {
      const m = options.modelOf ? options.modelOf[i] : 0;
      if (m >= models.length) throw new RangeError(`RenewalStates: element ${i} has unknown model ${m}`);
      this.modelOf[i] = m;
      const model = models[m];
      const key = this.keyBase + i;
      if (stationary) {
        const isUp = uniform(seed, key, this.stream, 0) < availabilityOf(model);
        const d = isUp ? model.up : model.down;
        // The age of the running period is unknown; periodStartMs is set to startMs as the best bound.
        this.up[i] = isUp ? 1 : 0;
        this.periodStartMs[i] = startMs;
        this.nextTransitionMs[i] = startMs + sampleResidual(d, seed, key, this.stream, 1);
      } else {
        this.up[i] = 1;
        this.periodStartMs[i] = startMs;
        this.nextTransitionMs[i] = startMs + this.draw(i, model.up);
      }
    }
  }

  private draw(i: number, d: DurationDistribution): number {
    const n = this.periods[i];
    this.periods[i] = n + 1;
    return drawPeriod(d, this.seed, this.keyBase + i, this.stream, n);
  }

  /**
   * Flips element `i` at its nextTransitionMs and draws the following period. Returns the new
   * nextTransitionMs, which is what an event scheduler posts next.
   */
  transition(i: number): number {
    const at = this.nextTransitionMs[i];
    const model = this.models[this.modelOf[i]];
    const nowUp = this.up[i] ^ 1;
    this.up[i] = nowUp;
    this.periodStartMs[i] = at;
    const next = at + this.draw(i, nowUp ? model.up : model.down);
    this.nextTransitionMs[i] = next;
    return next;
  }

  /** Moves element `i` through every transition up to `nowMs` and tells whether it is up then. */
  isUpAt(i: number, nowMs: number): boolean {
    while (this.nextTransitionMs[i] <= nowMs) this.transition(i);
    return this.up[i] === 1;
  }
}
