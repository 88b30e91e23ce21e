import { normalFromUniform, Stream, uniform32 } from '../models/rng.js';
import type { GeneratorSpec } from './template-spec.js';

/**
 * Generator values per (device, sequence number, time): every draw is
 * `rng(seed, global device, Stream.payload, counter)` with the counter made of the sequence
 * number and the field's index, so a message's values depend on nothing but the device, the
 * seed, its sequence number and its intended time, on either clock and in any shard. A retried
 * or re-delivered message therefore carries the same values.
 */

/** Fields a template may declare (counters are seq × FIELD_SLOTS + field). */
export const FIELD_SLOTS = 64;
/** Per-device draws (a walk's start, a route's starting point) use counters above every seq × FIELD_SLOTS. */
const PER_DEVICE_COUNTER = 0x7f00_0000;

const EARTH_RADIUS_M = 6_371_008.8; // mean radius (IUGG)
const DEG = Math.PI / 180;

/** Great-circle distance in metres (haversine). */
function haversineM(a: [number, number], b: [number, number]): number {
  const dLat = (b[0] - a[0]) * DEG;
  const dLon = (b[1] - a[1]) * DEG;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[0] * DEG) * Math.cos(b[0] * DEG) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** A route's geometry, computed once: points (closed when looping) and cumulative distance. */
class RouteGeometry {
  readonly lat: Float64Array;
  readonly lon: Float64Array;
  readonly at: Float64Array;
  readonly length: number;
  constructor(points: Array<[number, number]>, loop: boolean) {
    const pts = loop && points.length > 1 ? [...points, points[0]] : points;
    this.lat = Float64Array.from(pts, (p) => p[0]);
    this.lon = Float64Array.from(pts, (p) => p[1]);
    this.at = new Float64Array(pts.length);
    for (let i = 1; i < pts.length; i++) this.at[i] = this.at[i - 1] + haversineM(pts[i - 1], pts[i]);
    this.length = this.at[pts.length - 1];
  }
}

/**
 * Evaluates one scenario's generators. Holds the only mutable state: each random walk's last
 * value per device (typed arrays, a cache: recomputed from the start when asked out of order),
 * and the position last computed along a route (lat and lon are asked one after the other).
 */
export class Generators {
  private readonly walkSeq: Array<Int32Array | undefined>;
  private readonly walkValue: Array<Float64Array | undefined>;
  private readonly routes: Array<RouteGeometry | undefined>;
  private readonly cumWeights: Array<Float64Array | undefined>;
  private posField = -1;
  private posDev = -1;
  private posT = Number.NaN;
  private posLat = 0;
  private posLon = 0;

  constructor(
    readonly specs: readonly GeneratorSpec[],
    private readonly seed: number,
    /** Global index of local device 0. */
    private readonly firstDevice: number,
    devices: number,
  ) {
    this.walkSeq = specs.map((g) => (g.kind === 'walk' ? new Int32Array(devices).fill(-1) : undefined));
    this.walkValue = specs.map((g) => (g.kind === 'walk' ? new Float64Array(devices) : undefined));
    this.routes = specs.map((g) => (g.kind === 'route' ? new RouteGeometry(g.points, g.loop) : undefined));
    this.cumWeights = specs.map((g) => {
      if (g.kind !== 'choice') return undefined;
      const w = g.weights ?? g.values.map(() => 1);
      const total = w.reduce((a, b) => a + b, 0);
      const cum = new Float64Array(w.length);
      let acc = 0;
      w.forEach((x, i) => (cum[i] = acc += x / total));
      return cum;
    });
  }

  private u(dev: number, field: number, counter: number): number {
    return uniform32(this.seed, this.firstDevice + dev, Stream.payload, counter * FIELD_SLOTS + field);
  }

  private perDevice(dev: number, field: number): number {
    return uniform32(this.seed, this.firstDevice + dev, Stream.payload, PER_DEVICE_COUNTER + field);
  }

  /** The index of the value a `choice` generator picks for this message. */
  choiceIndex(field: number, dev: number, seq: number): number {
    const cum = this.cumWeights[field]!;
    const u = this.u(dev, field, seq);
    let i = 0;
    while (i < cum.length - 1 && u >= cum[i]) i++;
    return i;
  }

  /**
   * The numeric value of generator `field` for this message; `part` selects a route's latitude
   * (0) or longitude (1). A `choice` of strings answers its index (the plan writes the string).
   */
  value(field: number, part: number, dev: number, seq: number, tMs: number): number {
    const g = this.specs[field];
    switch (g.kind) {
      case 'constant':
        return typeof g.value === 'number' ? g.value : 0;
      case 'uniform':
        return g.min + (g.max - g.min) * this.u(dev, field, seq);
      case 'normal': {
        const v = g.mean + g.sd * normalFromUniform(this.u(dev, field, seq));
        return v < g.min ? g.min : v > g.max ? g.max : v;
      }
      case 'walk':
        return this.walk(g, field, dev, seq);
      case 'sine': {
        const mid = (g.min + g.max) / 2;
        return mid + ((g.max - g.min) / 2) * Math.sin((2 * Math.PI * (tMs + g.phaseMs)) / g.periodMs);
      }
      case 'counter':
        return g.start + g.step * seq;
      case 'choice': {
        const i = this.choiceIndex(field, dev, seq);
        const v = g.values[i];
        return typeof v === 'number' ? v : i;
      }
      case 'route':
        this.position(g, field, dev, tMs);
        return part === 0 ? this.posLat : this.posLon;
    }
  }

  private walk(g: Extract<GeneratorSpec, { kind: 'walk' }>, field: number, dev: number, seq: number): number {
    const seqs = this.walkSeq[field]!;
    const values = this.walkValue[field]!;
    const last = seqs[dev];
    if (last === seq) return values[dev];
    let k: number;
    let v: number;
    if (last >= 0 && last < seq) {
      k = last;
      v = values[dev];
    } else {
      // From the start: the first message, or one asked out of order (a link that reordered).
      k = 0;
      v = g.start ?? g.min + (g.max - g.min) * this.perDevice(dev, field);
    }
    const span = g.max - g.min;
    while (k < seq) {
      k++;
      v += g.step * (2 * this.u(dev, field, k) - 1);
      // Reflect at the bounds (a step never exceeds the span, checked by the schema).
      if (v > g.max) v = g.max - (v - g.max);
      if (v < g.min) v = g.min + (g.min - v);
      if (span === 0) v = g.min;
    }
    seqs[dev] = seq;
    values[dev] = v;
    return v;
  }

  private position(g: Extract<GeneratorSpec, { kind: 'route' }>, field: number, dev: number, tMs: number): void {
    if (this.posField === field && this.posDev === dev && this.posT === tMs) return;
    this.posField = field;
    this.posDev = dev;
    this.posT = tMs;
    const r = this.routes[field]!;
    if (r.length === 0) {
      this.posLat = r.lat[0];
      this.posLon = r.lon[0];
      return;
    }
    // Round trip length: there and back again, unless the route loops.
    const cycle = g.loop ? r.length : 2 * r.length;
    const start = g.spread ? this.perDevice(dev, field) * cycle : 0;
    let d = (start + (g.speedMps * tMs) / 1000) % cycle;
    if (d > r.length) d = cycle - d;
    // Binary search for the segment [at[i], at[i+1]] holding d.
    let lo = 0;
    let hi = r.at.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (r.at[mid] <= d) lo = mid;
      else hi = mid;
    }
    const seg = r.at[hi] - r.at[lo];
    const f = seg > 0 ? (d - r.at[lo]) / seg : 0;
    this.posLat = r.lat[lo] + (r.lat[hi] - r.lat[lo]) * f;
    this.posLon = r.lon[lo] + (r.lon[hi] - r.lon[lo]) * f;
  }
}
