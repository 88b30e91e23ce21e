import { describe, expect, it } from 'vitest';
import {
  CellOutage,
  contiguousGroups,
  FailoverLinks,
  failoverReachable,
  OutageHierarchy,
  pickCells,
} from '../../src/models/correlated-outage.js';
import { renewalFromAvailability, RenewalStates } from '../../src/models/outage.js';
import { Stream } from '../../src/models/rng.js';

const MIN = 60_000;

describe('CellOutage', () => {
  it('takes exactly the devices of the chosen cells down, only inside the window', () => {
    const devices = 10_000;
    const cellOf = contiguousGroups(devices, 37); // uneven last cell
    const cellCount = cellOf[devices - 1] + 1;
    const cells = pickCells(cellCount, 0.3, 42, Stream.offline);
    expect(cells.length).toBe(Math.round(0.3 * cellCount));
    expect(new Set(cells).size).toBe(cells.length);
    const chosen = new Set(cells);
    const outage = CellOutage.fromCells(cellOf, cells, 80_000, 95_000);
    let expectedDown = 0;
    for (let d = 0; d < devices; d++) {
      const inCell = chosen.has(cellOf[d]);
      if (inCell) expectedDown++;
      expect(outage.isDown(d, 79_999)).toBe(false);
      expect(outage.isDown(d, 80_000)).toBe(inCell);
      expect(outage.isDown(d, 94_999)).toBe(inCell);
      expect(outage.isDown(d, 95_000)).toBe(false);
    }
    expect(outage.affectedCount).toBe(expectedDown);
    expect(expectedDown).toBeGreaterThan(0);
    expect(expectedDown).toBeLessThan(devices);
  });

  it('takes exact index ranges down', () => {
    const outage = CellOutage.fromRanges(100, [[10, 20], [50, 51]], 0, 1000);
    for (let d = 0; d < 100; d++) expect(outage.isDown(d, 500)).toBe((d >= 10 && d < 20) || d === 50);
    expect(outage.affectedCount).toBe(11);
    expect(() => CellOutage.fromRanges(100, [[90, 101]], 0, 1)).toThrow(RangeError);
  });

  it('picks cells deterministically', () => {
    expect(Array.from(pickCells(50, 0.2, 1, Stream.offline))).toEqual(Array.from(pickCells(50, 0.2, 1, Stream.offline)));
    expect(pickCells(50, 0, 1, Stream.offline).length).toBe(0);
    expect(pickCells(50, 1, 1, Stream.offline).length).toBe(50);
  });
});

describe('outage hierarchy', () => {
  it('a device is reachable only when it, its cell and its region are up', () => {
    const devices = 600;
    const cellOf = contiguousGroups(devices, 20);
    const regionOf = contiguousGroups(30, 10);
    const model = renewalFromAvailability({ availability: 0.9, downtime: { distribution: 'lognormal', median: 5 * MIN } });
    const dev = new RenewalStates(devices, 1, [model]);
    const cells = new RenewalStates(30, 1, [model], { keyBase: 1 << 30 });
    const regions = new RenewalStates(3, 1, [model], { keyBase: (1 << 30) + (1 << 29) });
    const h = new OutageHierarchy(dev, cells, regions, cellOf, regionOf);
    // shadow copies advanced independently give the expected answer
    const dev2 = new RenewalStates(devices, 1, [model]);
    const cells2 = new RenewalStates(30, 1, [model], { keyBase: 1 << 30 });
    const regions2 = new RenewalStates(3, 1, [model], { keyBase: (1 << 30) + (1 << 29) });
    let reachable = 0;
    let mismatches = 0;
    let total = 0;
    for (let t = 0; t < 2000 * MIN; t += 7 * MIN) {
      for (let d = 0; d < devices; d++) {
        const want = dev2.isUpAt(d, t) && cells2.isUpAt(cellOf[d], t) && regions2.isUpAt(regionOf[cellOf[d]], t);
        const got = h.reachableAt(d, t);
        if (got !== want) mismatches++;
        reachable += got ? 1 : 0;
        total++;
      }
    }
    expect(mismatches).toBe(0);
    // three independent levels at 90% each: about 0.9³ = 72.9% reachable
    expect(Math.abs(reachable / total - 0.729)).toBeLessThan(0.05);
  });
});

describe('failover', () => {
  it('reachable when primary up, or backup up and the switchover has elapsed', () => {
    expect(failoverReachable(true, 0, false, 0, 30_000, 100)).toBe(true);
    expect(failoverReachable(false, 1000, false, 0, 30_000, 100_000)).toBe(false);
    expect(failoverReachable(false, 1000, true, 0, 30_000, 30_999)).toBe(false);
    expect(failoverReachable(false, 1000, true, 0, 30_000, 31_000)).toBe(true);
    // backup came up after the primary failed: the switchover counts from the backup's return
    expect(failoverReachable(false, 1000, true, 50_000, 30_000, 79_999)).toBe(false);
    expect(failoverReachable(false, 1000, true, 50_000, 30_000, 80_000)).toBe(true);
  });

  it('two independent 99% links reach close to 1 − 0.01² with a short switchover', () => {
    const model = renewalFromAvailability({ availability: 0.99, downtime: { distribution: 'exponential', mean: 10 * MIN } });
    const n = 300;
    const f = new FailoverLinks(
      new RenewalStates(n, 5, [model]),
      new RenewalStates(n, 5, [model], { keyBase: 1 << 30 }),
      1000,
    );
    let down = 0;
    let samples = 0;
    for (let t = 0; t < 20_000 * MIN; t += 13 * MIN) {
      for (let d = 0; d < n; d++) {
        if (!f.reachableAt(d, t)) down++;
        samples++;
      }
    }
    // unreachable ≈ P(both down) + P(primary down, backup up, in switchover) ≈ 1e-4 + 0.01 · 0.99 · 1 s / 10 min
    // ≈ 1.17e-4, i.e. ~54 of the ~460k samples; the bounds are about ±4 Poisson standard deviations.
    expect(down / samples).toBeGreaterThan(0.6e-4);
    expect(down / samples).toBeLessThan(1.8e-4);
  });
});
