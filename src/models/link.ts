/**
 * Per-packet link model: Gilbert–Elliott loss, netem-style latency and a bandwidth.
 *
 * Names follow netem (`tc qdisc ... netem delay TIME JITTER distribution D rate R loss gemodel p r 1-h 1-k`)
 * so that someone who knows tc can read a link at a glance:
 * - p   = P(good -> bad) per packet,  r = P(bad -> good) per packet,
 * - 1-h = loss probability in the bad state,  1-k = loss probability in the good state.
 * Stationary P(bad) = p / (p + r); mean loss = p/(p+r)·(1-h) + r/(p+r)·(1-k); mean burst (bad sojourn)
 * length = 1/r packets.
 *
 * Latency is one way: delay + jitter * Z, where Z has mean 0 and standard deviation 1 and follows the
 * named distribution ("normal" is netem's default when a jitter is given), clamped at 0, plus the
 * serialisation time bytes * 8 / rate. There is no queueing: packets sent back to back do not wait for
 * each other (downloads use transferMs with the link rate instead).
 */
import { standardNormal, Stream, uniform, type StreamId } from './rng.js';

/** Gilbert–Elliott parameters as probabilities in [0, 1]. h and k are P(delivered) in bad and good. */
export interface GilbertElliott {
  readonly p: number;
  readonly r: number;
  readonly h: number;
  readonly k: number;
}

/** From netem's `loss gemodel p r 1-h 1-k`, given as fractions (netem's percentages / 100). */
export function gilbertElliottFromNetem(p: number, r: number, oneMinusH: number, oneMinusK: number): GilbertElliott {
  return { p, r, h: 1 - oneMinusH, k: 1 - oneMinusK };
}

/** No loss at all. */
export const LOSSLESS: GilbertElliott = { p: 0, r: 1, h: 1, k: 1 };

/** Stationary probability of the bad state, p / (p + r). */
export function stationaryBad(p: number, r: number): number {
  return p + r > 0 ? p / (p + r) : 0;
}

/** Long-run packet loss p/(p+r)·(1-h) + r/(p+r)·(1-k). */
export function meanLoss(p: number, r: number, h: number, k: number): number {
  const bad = stationaryBad(p, r);
  return bad * (1 - h) + (1 - bad) * (1 - k);
}

/** Mean number of consecutive packets spent in the bad state, 1/r. */
export function meanBurstLength(r: number): number {
  return 1 / r;
}

export type JitterDistribution = 'uniform' | 'normal' | 'pareto' | 'paretonormal';

export interface LatencyModel {
  /** netem `delay`, one way, ms. */
  readonly delayMs: number;
  /** netem jitter, ms: the half-width for uniform, the standard deviation otherwise. */
  readonly jitterMs: number;
  /** netem `distribution`; default 'normal'. */
  readonly distribution?: JitterDistribution;
}

// Pareto with alpha = 3 and xm = 1 has mean 1.5 and standard deviation sqrt(3)/2. netem ships the
// shape as a table; this closed form is an assumed stand-in with the same heavy right tail.
const PARETO_ALPHA = 3;
const PARETO_MEAN = 1.5;
const PARETO_SD = Math.sqrt(3) / 2;

/** A standardised draw (mean 0, sd 1) of the named jitter distribution from two uniforms. */
export function standardJitter(distribution: JitterDistribution, u1: number, u2: number): number {
  switch (distribution) {
    case 'uniform':
      return 2 * u1 - 1; // half-width 1 (sd 1/sqrt(3)): netem's uniform jitter is ±jitter
    case 'normal':
      return standardNormal(u1, u2);
    case 'pareto':
      return (Math.pow(1 - u1, -1 / PARETO_ALPHA) - PARETO_MEAN) / PARETO_SD;
    case 'paretonormal': {
      // netem mixes 3/4 normal and 1/4 Pareto; rescaled to sd 1 (assumed form of its table).
      const n = standardNormal(u1, u2);
      const p = (Math.pow(1 - u2, -1 / PARETO_ALPHA) - PARETO_MEAN) / PARETO_SD;
      return (3 * n + p) / Math.sqrt(10);
    }
  }
}

/** One-way latency without serialisation, ms, never negative. */
export function sampleLatencyMs(model: LatencyModel, u1: number, u2: number): number {
  const z = standardJitter(model.distribution ?? 'normal', u1, u2);
  return Math.max(0, model.delayMs + model.jitterMs * z);
}

/** Time to push `bytes` through a link of `bitsPerSecond`, ms (netem `rate`). */
export function transferMs(bytes: number, bitsPerSecond: number): number {
  return (bytes * 8000) / bitsPerSecond;
}

export interface LinkParams {
  readonly latency: LatencyModel;
  readonly loss: GilbertElliott;
  /** Device -> backend, bit/s. */
  readonly upBps: number;
  /** Backend -> device, bit/s. */
  readonly downBps: number;
}

export const Direction = { up: 0, down: 1 } as const;
export type DirectionId = (typeof Direction)[keyof typeof Direction];

/** Returned by LinkStates.transmit for a lost packet. */
export const LOST = -1;

// Counter layout on Stream.link per device: 0 = initial state; packet n uses 4n+4 .. 4n+7
// (loss, transition, jitter u1, jitter u2).
const COUNTERS_PER_PACKET = 4;

/** Link parameter sets a shard holds: each device's index into them is one byte (`paramsOf`). */
export const MAX_LINK_PARAMETER_SETS = 256;

/** Gilbert–Elliott state and packet counters of N devices' links. One per shard. */
export class LinkStates {
  readonly count: number;
  /** 1 while the device's link is in the bad state. */
  readonly bad: Uint8Array;
  /** Packets decided so far per device. */
  readonly packets: Float64Array;
  readonly paramsOf: Uint8Array;
  private readonly seed: number;
  private readonly params: readonly LinkParams[];
  /** Added to the index to form the RNG key (the global device index of element 0). */
  private readonly keyBase: number;

  /** The RNG stream of this chain: telemetry's is Stream.link; other traffic has its own chain (models/link-exchange.ts). */
  private readonly stream: StreamId;

  constructor(count: number, seed: number, params: readonly LinkParams[], paramsOf?: ArrayLike<number>, keyBase = 0, stream: StreamId = Stream.link) {
    this.keyBase = keyBase;
    this.stream = stream;
    if (params.length === 0 || params.length > MAX_LINK_PARAMETER_SETS) throw new RangeError(`LinkStates: 1..${MAX_LINK_PARAMETER_SETS} link parameter sets`);
    this.count = count;
    this.seed = seed;
    this.params = params;
    this.bad = new Uint8Array(count);
    this.packets = new Float64Array(count);
    this.paramsOf = new Uint8Array(count);
    for (let d = 0; d < count; d++) {
      const i = paramsOf ? paramsOf[d] : 0;
      if (i >= params.length) throw new RangeError(`LinkStates: device ${d} has unknown link ${i}`);
      this.paramsOf[d] = i;
      // Start in the stationary distribution, so that loss is unbiased from the first packet.
      const ge = params[i].loss;
      this.bad[d] = uniform(seed, keyBase + d, stream, 0) < stationaryBad(ge.p, ge.r) ? 1 : 0;
    }
  }

  /**
   * Decides the fate of `dev`'s next packet of `bytes` in direction `dir`: LOST, or its one-way delay
   * in ms (latency + serialisation). The loss is decided in the current state, then the chain steps.
   */
  transmit(dev: number, bytes: number, dir: DirectionId): number {
    const n = this.packets[dev];
    this.packets[dev] = n + 1;
    const link = this.params[this.paramsOf[dev]];
    const ge = link.loss;
    const c = COUNTERS_PER_PACKET * (n + 1);
    const s = this.seed;
    const key = this.keyBase + dev;
    const isBad = this.bad[dev] === 1;
    const st = this.stream;
    const lost = uniform(s, key, st, c) < (isBad ? 1 - ge.h : 1 - ge.k);
    const flip = uniform(s, key, st, c + 1) < (isBad ? ge.r : ge.p);
    if (flip) this.bad[dev] = isBad ? 0 : 1;
    if (lost) return LOST;
    const u1 = uniform(s, key, st, c + 2);
    const u2 = uniform(s, key, st, c + 3);
    const rate = dir === Direction.up ? link.upBps : link.downBps;
    return sampleLatencyMs(link.latency, u1, u2) + transferMs(bytes, rate);
  }

  /**
   * One packet's fate only (the chain steps as in `transmit`), for the segments of a bulk transfer
   * whose delay is the transfer's, not each segment's: true when it is lost.
   */
  lose(dev: number): boolean {
    const n = this.packets[dev];
    this.packets[dev] = n + 1;
    const ge = this.params[this.paramsOf[dev]].loss;
    const c = COUNTERS_PER_PACKET * (n + 1);
    const key = this.keyBase + dev;
    const isBad = this.bad[dev] === 1;
    const lost = uniform(this.seed, key, this.stream, c) < (isBad ? 1 - ge.h : 1 - ge.k);
    if (uniform(this.seed, key, this.stream, c + 1) < (isBad ? ge.r : ge.p)) this.bad[dev] = isBad ? 0 : 1;
    return lost;
  }

  /** The link parameters of `dev`. */
  paramsFor(dev: number): LinkParams {
    return this.params[this.paramsOf[dev]];
  }
}
