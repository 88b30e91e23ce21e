import { describe, expect, it } from 'vitest';
import { arrivalPosition, arrivalTimeMs, powerOnTimeMs } from '../../src/models/arrival.js';
import { draw32, fullJitterBackoff, jittered, uniform } from '../../src/models/rng.js';
import { splitDevices } from '../../src/engine/shard/ranges.js';
import { parseScenarioText } from '../../src/scenario/load.js';

describe('arrival', () => {
  it('constant rate: the n-th arrival is at n / rate', () => {
    expect(arrivalTimeMs(0, { ratePerSec: 20 })).toBe(0);
    expect(arrivalTimeMs(40, { ratePerSec: 20 })).toBe(2000);
  });

  it('arrival order is a permutation that spreads every contiguous range over the window', () => {
    for (const total of [1, 2, 7, 100, 1000, 4096, 500_000]) {
      const seen = new Uint8Array(total);
      for (let g = 0; g < total; g++) seen[arrivalPosition(g, total)]++;
      expect(seen.every((x) => x === 1)).toBe(true);
    }
    // The first half of a 1000-device fleet (one shard of two) arrives over the whole window.
    const times = Array.from({ length: 500 }, (_, g) => powerOnTimeMs(g, 1000, { ratePerSec: 100 }));
    expect(Math.max(...times)).toBeGreaterThan(9000);
    expect(Math.min(...times)).toBeLessThan(1000);
  });

  it('linear ramp: arrivals in the ramp match the integral of the rate', () => {
    const a = { ratePerSec: 10, toRatePerSec: 30, overMs: 10_000 };
    // Over the 10 s ramp, 10*10 + (20/10)*100/2 = 200 devices arrive.
    expect(arrivalTimeMs(200, a)).toBeCloseTo(10_000, 6);
    // After the ramp, 30/s.
    expect(arrivalTimeMs(230, a)).toBeCloseTo(11_000, 6);
    // Times are increasing.
    let prev = -1;
    for (let g = 0; g < 500; g++) {
      const t = arrivalTimeMs(g, a);
      expect(t).toBeGreaterThan(prev);
      prev = t;
    }
  });
});

describe('counter-based rng', () => {
  it('is a pure function of (seed, device, stream, counter)', () => {
    expect(draw32(1, 2, 3, 4)).toBe(draw32(1, 2, 3, 4));
    expect(draw32(1, 2, 3, 4)).not.toBe(draw32(1, 2, 3, 5));
    expect(draw32(1, 2, 3, 4)).not.toBe(draw32(1, 3, 3, 4));
    expect(draw32(1, 2, 3, 4)).not.toBe(draw32(2, 2, 3, 4));
  });

  it('draws as the five-round formula does, whatever order seeds come in (the seed round is remembered)', () => {
    const fmix = (x: number) => {
      let h = x;
      h ^= h >>> 16;
      h = Math.imul(h, 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
      return h >>> 0;
    };
    const reference = (seed: number, device: number, stream: number, counter: number) => {
      let h = fmix((seed ^ 0x9e3779b9) >>> 0);
      h = fmix((h ^ Math.imul(device + 1, 0x27d4eb2f)) >>> 0);
      h = fmix((h ^ Math.imul(stream + 1, 0x165667b1)) >>> 0);
      h = fmix((h ^ Math.imul(counter + 1, 0x9e3779b1)) >>> 0);
      return fmix((h + counter) >>> 0);
    };
    const seeds = [0, 1, 42, 0xffffffff, 2 ** 40 + 3, -7];
    let x = 12345;
    const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 5_000; i++) {
      // Runs of one seed, then switches: both the remembered round and a change of seed.
      const seed = seeds[(i >> 4) % seeds.length];
      const device = next() % 1_000_000;
      const stream = next() % 2000;
      const counter = next();
      expect(draw32(seed, device, stream, counter)).toBe(reference(seed, device, stream, counter));
    }
  });

  it('uniforms are uniform: mean, variance and buckets', () => {
    const n = 200_000;
    const buckets = new Array(10).fill(0);
    let sum = 0;
    let sq = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const u = uniform(42, i % 1000, 2, Math.floor(i / 1000));
      if (u < min) min = u;
      if (u > max) max = u;
      sum += u;
      sq += u * u;
      buckets[Math.floor(u * 10)]++;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    const mean = sum / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(sq / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
    // Chi-square with 9 degrees of freedom; 27.9 is the 0.001 critical value.
    const e = n / 10;
    const chi = buckets.reduce((a, b) => a + ((b - e) * (b - e)) / e, 0);
    expect(chi).toBeLessThan(27.9);
  });

  it('backoff stays within [0, min(cap, base*2^n)] and jitter within bounds', () => {
    expect(fullJitterBackoff(1000, 128_000, 3, 0.999)).toBeLessThan(8000);
    expect(fullJitterBackoff(1000, 128_000, 20, 0.5)).toBe(64_000);
    expect(jittered(1000, 0.1, 0)).toBe(900);
    expect(jittered(1000, 0.1, 1)).toBe(1100);
  });
});

const fleetOf = (devices: number) => parseScenarioText(`name: r\nduration: 1m\nfleet: [{ profile: rpi4-gateway, count: ${devices} }]\narrival: { rate: 10/s }`);

describe('shard ranges', () => {
  it('cover every device exactly once for any slice and worker count', () => {
    for (const devices of [1, 5, 100, 1001]) {
      for (const count of [1, 2, 3, 7]) {
        const seen = new Uint8Array(devices);
        for (let index = 0; index < count; index++) {
          for (const r of splitDevices(fleetOf(devices), { index, count }, 3)) {
            for (let d = r.firstDevice; d < r.firstDevice + r.count; d++) seen[d]++;
          }
        }
        expect(Array.from(seen).every((x) => x === 1)).toBe(true);
      }
    }
  });
});
