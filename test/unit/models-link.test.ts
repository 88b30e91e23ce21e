import { describe, expect, it } from 'vitest';
import {
  Direction,
  gilbertElliottFromNetem,
  type LinkParams,
  LinkStates,
  LOST,
  meanBurstLength,
  meanLoss,
  sampleLatencyMs,
  standardJitter,
  transferMs,
} from '../../src/models/link.js';
import { connectTimeMs, LINK_TYPE_NAMES, LINK_TYPES } from '../../src/models/link-types.js';
import { uniform } from '../../src/models/rng.js';

const Z99 = 2.5758;

function meanAndSe(xs: Float64Array): { mean: number; se: number } {
  let s = 0;
  for (const x of xs) s += x;
  const mean = s / xs.length;
  let v = 0;
  for (const x of xs) v += (x - mean) * (x - mean);
  return { mean, se: Math.sqrt(v / (xs.length - 1) / xs.length) };
}

describe('Gilbert–Elliott loss', () => {
  it('has the closed-form mean loss and burst length', () => {
    expect(meanLoss(0.05, 0.3, 0.2, 0.99)).toBeCloseTo((0.05 / 0.35) * 0.8 + (0.3 / 0.35) * 0.01, 12);
    expect(meanLoss(0, 1, 1, 1)).toBe(0);
    expect(meanBurstLength(0.25)).toBe(4);
    const ge = gilbertElliottFromNetem(0.01, 0.3, 0.7, 0.002);
    expect(ge).toEqual({ p: 0.01, r: 0.3, h: 1 - 0.7, k: 1 - 0.002 });
  });

  it('empirical loss over many independent devices lies in the 99% CI of the formula', () => {
    // Per-device loss fractions are independent (each device starts in the stationary state), so their
    // mean has an honest standard error despite the autocorrelation inside a device.
    const ge = gilbertElliottFromNetem(0.05, 0.3, 0.8, 0.01);
    const link: LinkParams = { latency: { delayMs: 10, jitterMs: 0 }, loss: ge, upBps: 1e6, downBps: 1e6 };
    const devices = 4000;
    const packets = 100;
    const links = new LinkStates(devices, 1234, [link]);
    const perDevice = new Float64Array(devices);
    const badRuns: number[] = [];
    for (let d = 0; d < devices; d++) {
      let lost = 0;
      let run = 0;
      for (let n = 0; n < packets; n++) {
        const wasBad = links.bad[d] === 1;
        if (links.transmit(d, 100, Direction.up) === LOST) lost++;
        // sojourn lengths in the bad state (packets decided while bad), complete runs only
        if (wasBad) run++;
        if (wasBad && links.bad[d] === 0) {
          badRuns.push(run);
          run = 0;
        } else if (!wasBad) run = 0;
      }
      perDevice[d] = lost / packets;
    }
    const expected = meanLoss(ge.p, ge.r, ge.h, ge.k);
    const { mean, se } = meanAndSe(perDevice);
    expect(Math.abs(mean - expected)).toBeLessThan(Z99 * se);
    expect(se).toBeLessThan(0.005); // the interval is tight enough to mean something
    const burst = badRuns.reduce((a, b) => a + b, 0) / badRuns.length;
    // geometric with mean 1/r = 3.33 (runs cut by the 100-packet window are excluded; slight downward bias)
    expect(Math.abs(burst - meanBurstLength(ge.r)) / meanBurstLength(ge.r)).toBeLessThan(0.05);
  });

  it('is deterministic per (seed, device) and lossless links never lose', () => {
    const link = LINK_TYPES.wifi;
    const a = new LinkStates(3, 99, [link]);
    const b = new LinkStates(3, 99, [link]);
    for (let n = 0; n < 500; n++) expect(a.transmit(2, 64, Direction.down)).toBe(b.transmit(2, 64, Direction.down));
    const eth = new LinkStates(10, 5, [LINK_TYPES.ethernet]);
    for (let d = 0; d < 10; d++) for (let n = 0; n < 1000; n++) expect(eth.transmit(d, 1500, Direction.up)).not.toBe(LOST);
  });
});

describe('latency and bandwidth', () => {
  it('normal jitter has mean delay and sd jitter; uniform stays within ±jitter', () => {
    const n = 20_000;
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) xs[i] = sampleLatencyMs({ delayMs: 100, jitterMs: 10 }, uniform(1, i, 6, 0), uniform(1, i, 6, 1));
    const { mean, se } = meanAndSe(xs);
    expect(Math.abs(mean - 100)).toBeLessThan(Z99 * se);
    const sd = se * Math.sqrt(n);
    expect(Math.abs(sd - 10) / 10).toBeLessThan(0.03);
    for (let i = 0; i < n; i++) {
      const v = sampleLatencyMs({ delayMs: 100, jitterMs: 10, distribution: 'uniform' }, uniform(2, i, 6, 0), 0);
      expect(v).toBeGreaterThanOrEqual(90);
      expect(v).toBeLessThan(110);
    }
  });

  it('pareto and paretonormal jitter are standardised (mean ≈ 0) with a right tail', () => {
    for (const dist of ['pareto', 'paretonormal'] as const) {
      const n = 50_000;
      const zs = new Float64Array(n);
      let max = -Infinity;
      for (let i = 0; i < n; i++) {
        zs[i] = standardJitter(dist, uniform(3, i, 6, 0), uniform(3, i, 6, 1));
        max = Math.max(max, zs[i]);
      }
      const { mean } = meanAndSe(zs);
      expect(Math.abs(mean)).toBeLessThan(0.03);
      expect(max).toBeGreaterThan(5); // heavy right tail
    }
    expect(sampleLatencyMs({ delayMs: 1, jitterMs: 100 }, 0.999, 0.5)).toBeGreaterThanOrEqual(0); // clamped
  });

  it('adds serialisation time bytes * 8 / rate', () => {
    expect(transferMs(1_000_000, 8e6)).toBe(1000);
    const link: LinkParams = { latency: { delayMs: 50, jitterMs: 0 }, loss: LINK_TYPES.ethernet.loss, upBps: 8000, downBps: 80_000 };
    const s = new LinkStates(1, 1, [link]);
    expect(s.transmit(0, 100, Direction.up)).toBeCloseTo(150, 9);
    expect(s.transmit(0, 100, Direction.down)).toBeCloseTo(60, 9);
  });
});

describe('LINK_TYPES', () => {
  it('covers every named link with sources and docs/models.md figures', () => {
    for (const name of LINK_TYPE_NAMES) {
      const t = LINK_TYPES[name];
      expect(t.name).toBe(name);
      for (const s of Object.values(t.source)) expect(s.length).toBeGreaterThan(0);
      expect(t.connectMs.min).toBeLessThanOrEqual(t.connectMs.max);
      expect(meanLoss(t.loss.p, t.loss.r, t.loss.h, t.loss.k)).toBeLessThan(0.05);
    }
    expect(LINK_TYPES.ethernet.latency.delayMs).toBeLessThan(1);
    expect(LINK_TYPES['lte-m'].latency.delayMs - LINK_TYPES['lte-m'].latency.jitterMs).toBe(10);
    expect(LINK_TYPES['lte-m'].latency.delayMs + LINK_TYPES['lte-m'].latency.jitterMs).toBe(15);
    expect(LINK_TYPES['nb-iot'].latency.delayMs - LINK_TYPES['nb-iot'].latency.jitterMs).toBe(1600);
    expect(LINK_TYPES['nb-iot'].latency.delayMs + LINK_TYPES['nb-iot'].latency.jitterMs).toBe(10_000);
    expect(LINK_TYPES['nb-iot'].downBps).toBe(26_000);
    expect(LINK_TYPES['satellite-geo'].latency.delayMs * 2).toBe(600);
    expect(LINK_TYPES.wifi.connectMs).toEqual({ min: 200, max: 3000 });
    expect(connectTimeMs(LINK_TYPES.wifi, 0.5)).toBe(1600);
    expect(LINK_TYPES.ethernet.source.loss).toContain('engineering default');
    expect(LINK_TYPES['lte-cat4'].source.rate).toContain('assumed');
  });
});
